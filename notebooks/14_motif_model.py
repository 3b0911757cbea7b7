# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What the model learnt of the hierarchy
#
# Chapter 13_motifs tests the paper's hierarchy (IME1 raises expression, IME1 together with UME6
# lowers it) on the measured test library, as interaction contrasts. Has a model trained to
# predict expression learnt it? This chapter asks twice: by comparing its predictions with the
# measurements on held-out sequences, and by writing the motifs into held-out promoters that
# contain none of them. Beside this, it draws the paper's own Figure 8b and 8c from the paper's
# published predicted means. The model explained is the paper's own Camformer Original where its
# published weights can be fetched (`camformer.records.book.explained_models`); else it is the book's
# seed ensemble from chapter 03_training, models of one recipe that differ only in their seed.
# Each of them is asked every question on its own, and a conclusion is stated only where all
# of them reach it. The lines below the imports say which. The steps are functions of
# `camformer.explain.hierarchy` and `camformer.stats.interaction`.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10  # pair cells with fewer held-out sequences are left blank
n_backgrounds = 300
seed = 42
n_boot = 2000
# the published model to explain where it can be fetched: original, mini, book
explain = "original"

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. camformer asks for
# compatible ranges, so Colab's own torch, numpy and pandas are kept and only what it lacks is added.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/camformer/camformer"],
                   check=True)

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from camformer.explain import hierarchy as H, motifs as M
from camformer.records import book
from camformer.stats import ensemble
from camformer.data.dream import load_published_predictions, load_test_table
from camformer.plots.plot_motifs import figure8bc, heatmap_panels
from camformer.records.report import record, section_records

started = time.perf_counter()
n_boot = {"smoke": 500}.get(preset, n_boot)
ex = book.explaining(results_dir, preset, prefer=explain, n=None, seed=seed,
                     n_boot=n_boot)
display(Markdown(ex.markdown()))
display(Markdown(H.measured_hierarchy_sentence(
    section_records(results_dir, preset, "motifs"))))

# %% [markdown]
# ## The paper's Figure 8b (predicted) and 8c
#
# The predicted panel of the paper's Figure 8b shows the mean *predicted* expression (across its
# ten replicate models) of the training sequences containing each motif and pair, ordered by the
# predicted diagonal (its measured panel is drawn in chapter 13_motifs);
# 8c subtracts from each cell its row's single-motif mean, so a cell is what adding the column's
# motif does to sequences with the row's motif. Both are drawn here from the paper's published
# table (`combinations.train.fc.txt`, column `Mean_pred`) as its `Figure8bc.R` draws them.

# %%
paper = H.paper_pair_effects()
figure8bc(*H.figure8bc(paper))
plt.show()

# %% [markdown]
# ## Predicted beside measured, on held-out sequences
#
# The test library is scanned for the paper's 19 Figure 8 motifs as in chapter 13_motifs, and
# the hierarchy's contrasts (`camformer.stats.interaction.group_contrasts`) are computed on the
# held-out sequences only, once with their measured expression and once with each model's
# predictions, on the same resamples of their similarity units (variant families joined with
# near copies, chapter 03_training). Two contrasts are tested, IME1
# without UME6 against neither and the interaction, the two the hierarchy rests on (Holm over
# the two); the others are shown with their intervals. Each model's verdict comes from its own
# interval; the models' verdict is decided only where all of them reach the same one, and a
# tested contrast "agrees" when that verdict and the measured one are both decided and the
# same. With several models the number shown is their mean, with a 95% interval between the
# models: what another training run of the recipe may give, which an interval over promoters
# of one model does not cover. Predictions of the paper's model are on its training data's
# 0–17 scale, so only directions compare.

# %%
motifs = H.figure8_motifs()
IME1, UME6 = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
table = load_test_table()
scan = H.scan_library(table["seq"], motifs)
rows = pd.Index(table["id"]).get_indexer(ex.sample["id"])  # held-out only
order = H.diagonal_order(paper, "Mean_pred")
backgrounds = H.random_backgrounds(table, scan.presence, rows, n_backgrounds,
                                   seed=seed)
questions = H.MotifQuestions(
    ex.measured, scan.presence.iloc[rows].reset_index(drop=True), ex.units,
    IME1, UME6, paper, order,
    H.insertion_edits(backgrounds, motifs, IME1, UME6, scan.hits),
    min_n=min_n, n_boot=n_boot, seed=seed)
measured = questions.contrasts(ex.measured)
per_model = ex.each_model(H.model_findings, questions=questions, per_model=[
    {"predicted": ex.predicted(label)} for label in ex.labels])
combined = ensemble.combine([f.verdicts for f in per_model], ex.labels,
                           ranges=H.RANGES)
shown = per_model[0].shown
H.heldout_view(measured, combined, shown)

# %% tags=["remove-input"]
agree, said = H.agreement(measured, combined), measured.set_index("key")["words"]
n_both = (questions.presence[IME1] & questions.presence[UME6]).sum()
display(Markdown(
    f"On {len(rows):,} held-out sequences ({n_both} with both motifs), IME1 "
    "without UME6 against neither, as predicted: "
    f"{H.across_text(combined['predicted_ime1_effect'])} (measured: "
    f"{said['ime1_effect']}; {agree['ime1_effect']}); the interaction, as "
    f"predicted: {H.across_text(combined['predicted_ime1_ume6_interaction'])} "
    "(measured: "
    f"{said['ime1_ume6_interaction']}; {agree['ime1_ume6_interaction']}). "
    "The other contrasts are shown, not tested."))

# %% [markdown]
# The same pair means from predictions on the **DREAM test library** (not the paper's
# Figure 8b, which is on its training data): left, the paper's Camformer (Original, seed 42)
# published predictions for all 71,103 test sequences; right, the first model this chapter
# explains, on its held-out sequences. Both are ordered as Figure 8b.

# %%
published = load_published_predictions().set_index("id")["original"]
first = ex.predicted(ex.labels[0])
heatmap_panels([dict(
    values=H.named_matrix(e, "mean", order), n=H.named_matrix(e, "n", order),
    min_n=min_n, title=title, label="mean predicted") for e, title in (
    (M.pair_effects(scan.presence, table["id"].map(published), order),
     "Paper's Camformer, test library"),
    (M.pair_effects(questions.presence, first, order),
     f"{ex.labels[0]}, held-out"))])
plt.show()

# %% tags=["remove-input"]
display(Markdown(
    f"Blank cells hold fewer than {min_n} sequences. Over the "
    f"{per_model[0].ranks['cells']} cells with at least {min_n} held-out "
    "sequences, the Spearman ρ of the predicted means with Figure 8b's is "
    f"{H.across_text(combined[H.RANK_KEY], digits=2)}."))

# %% [markdown]
# ## Inserting the motifs into held-out backgrounds
#
# The model can also be asked directly. In the measured sequences with both motifs IME1's site
# lies inside UME6's, so `camformer.explain.hierarchy.insertion_edits` writes UME6's consensus
# (ATTAGCCGCCGA) at position 30 and IME1's (CCGCCGAG) at the offset the data show most often
# (35): "IME1 alone" at 35, "UME6 alone" at 30, "IME1 inside UME6" both. UME6's consensus ends
# in IME1's first seven letters, so "IME1 inside UME6" differs from "UME6 alone" in one letter
# (G at 42), while "IME1 alone" writes all eight. Comparing those two edits would set a
# one-letter edit against an eight-letter one: negative whenever IME1 raises expression,
# whatever UME6 does. The fair interaction edits the same letter in both contexts: (IME1 inside
# UME6 − UME6 alone) − (IME1 alone − IME1's seven shared letters alone at 35). It is a 2 × 2
# design in UME6's own letters (ATTAG at 30–34) and IME1's own letter (G at 42), with the
# shared CCGCCGA in all four edits, so it is zero on every background for any model that adds
# per-position effects (`tests/test_hierarchy.py` checks this).
#
# **What the nested design can and cannot separate.** It can tell whether UME6's own letters
# change what IME1's own letter adds. It cannot ask whether IME1's site as a whole acts
# differently inside UME6: seven of IME1's eight letters are UME6's, so they cannot be present
# in one context and absent in the other. The control "apart" keeps IME1 at 35 and moves UME6
# to 60, where the two share no letter: (IME1 and UME6 apart − UME6 apart) − (IME1 alone −
# background) is fair as it stands, and asks whether the two whole sites interact at a
# distance. A consensus next to background letters can complete the other motif, so only
# backgrounds in which FIMO finds exactly the motifs written in each edit (none in the seven
# shared letters) are kept; the edits are made once, and every model predicts the same ones.
# Each model's intervals resample backgrounds, and its verdicts are drawn for IME1 alone and
# the two interactions (Holm over the three); the rest are shown. The models' verdict is
# decided only where all of them reach it.

# %%
edits = questions.edits
display(edits.contains.round(2))
H.insertion_view(per_model[0].effects, combined, shown)

# %% tags=["remove-input"]
inside = combined["insertion_ime1_ume6_interaction"]
display(Markdown(
    f"The first table: the share of the {len(edits.kept)} backgrounds in "
    "which FIMO finds each motif after each edit; "
    f"{edits.kept.sum()} keep every edit as written. On them the fair "
    "interaction of UME6's own letters with IME1's own letter is "
    f"{H.across_text(inside)}; with UME6 apart, "
    f"{H.across_text(combined['insertion_ime1_ume6_interaction_apart'])}. "
    f"**{H.insertion_conclusion(inside)}**"))

# %%
record(results_dir, preset, "motifs_model", model=ex.info["model"],
       models=len(ex.models), n_heldout=len(rows),
       n_backgrounds=len(edits.kept), n_backgrounds_kept=int(edits.kept.sum()),
       **H.model_records(measured, combined, shown))

# %% tags=["remove-input"]
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
