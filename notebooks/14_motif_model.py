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
# In the measured test library IME1 raises expression, IME1 together with UME6 lowers it, and
# the two together are below the sum of their effects alone (chapter 13_motifs). Has a model
# trained to predict expression learnt that? This chapter asks twice: by comparing its
# predictions with the measurements on held-out sequences, and by writing the motifs into
# held-out promoters that contain none of them. Beside this, it draws the paper's own Figure 8b
# and 8c from the paper's published predicted means. The model explained is the paper's own
# Camformer Original where its published weights can be fetched
# (`camformer.book.explained_model`), else the book's own model from chapter 03_training; the
# line below the imports says which. The steps are functions of `camformer.hierarchy` and
# `camformer.interaction`.

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
import torch
from IPython.display import Markdown, display

from camformer import hierarchy as H, interaction as I, motifs as M
from camformer.book import describe_model, explained_model
from camformer.bootstrap import test_set_units
from camformer.data import load_published_predictions, load_test_table
from camformer.inference import model_encoding
from camformer.plot_motifs import figure8bc, heatmap_panels
from camformer.report import record

started = time.perf_counter()
torch.set_num_threads(2)
n_boot = {"smoke": 500}.get(preset, n_boot)
model, info = explained_model(results_dir, preset, prefer=explain)
display(Markdown(describe_model(info)))

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
# the hierarchy's contrasts (`camformer.interaction.group_contrasts`) are computed on the
# held-out sequences only, once with their measured expression and once with the model's
# predictions, on the same resamples of their similarity units (variant families joined with
# near copies, chapter 03_training). Two contrasts are tested, IME1
# without UME6 against neither and the interaction, the two the hierarchy rests on (Holm over
# the two); the others are shown with their intervals. A tested contrast "agrees" when both
# verdicts are decided and the same. A model's predictions shift with its training (even with
# the CPU's instruction set), so the chapter concludes only what it sets out to test.
# Predictions of the paper's model are on its training data's 0–17 scale, so only directions
# compare.

# %%
motifs = H.figure8_motifs()
IME1, UME6 = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
table = load_test_table()
unit = test_set_units(table["id"].to_numpy())
scan = H.scan_library(table["seq"], motifs)
rows = pd.Index(table["id"]).get_indexer(info["predictions"]["id"])
predicted = info["predictions"]["prediction"].to_numpy()  # held-out only
compared = H.predicted_vs_measured(
    table["expression"].to_numpy()[rows], predicted, scan.has(IME1)[rows],
    scan.has(UME6)[rows], families=unit[rows], n_boot=n_boot, seed=seed)
H.comparison_view(compared)

# %% tags=["remove-input"]
a, i = compared.loc["IME1 without UME6"], compared.loc["interaction"]
n_both = (scan.has(IME1) & scan.has(UME6))[rows].sum()
display(Markdown(
    f"On {len(rows):,} held-out sequences ({n_both} with both motifs), the "
    f"model predicts that IME1 without UME6 {a['predicted_words']} expression "
    f"(measured: {a['measured_words']}; {a['agreement']}) and that the two "
    f"together are {i['predicted_words']} (measured: {i['measured_words']}; "
    f"{i['agreement']}). The other contrasts are shown, not tested."))

# %% [markdown]
# The same pair means from predictions on the **DREAM test library** (not the paper's
# Figure 8b, which is on its training data): left, the paper's Camformer (Original, seed 42)
# published predictions for all 71,103 test sequences; right, the model this chapter explains,
# on its held-out sequences. Both are ordered as Figure 8b.

# %%
order = H.diagonal_order(paper, "Mean_pred")
presence = scan.presence.iloc[rows].reset_index(drop=True)
published = load_published_predictions().set_index("id")["original"]
heatmap_panels([dict(
    values=H.named_matrix(e, "mean", order), n=H.named_matrix(e, "n", order),
    min_n=min_n, title=title, label="mean predicted") for e, title in (
    (M.pair_effects(scan.presence, table["id"].map(published), order),
     "Paper's Camformer, test library"),
    (M.pair_effects(presence, predicted, order), "This model, held-out"))])
plt.show()
fig8 = H.pair_rank_agreement(predicted, presence, paper, order, min_n=min_n,
                             families=unit[rows], n_boot=n_boot, seed=seed)

# %% tags=["remove-input"]
display(Markdown(
    f"Blank cells hold fewer than {min_n} sequences. Over the {fig8['cells']} "
    f"cells with at least {min_n} held-out sequences, the model's means and "
    f"Figure 8b's {H.rank_text(fig8)}."))

# %% [markdown]
# ## Inserting the motifs into held-out backgrounds
#
# The model can also be asked directly. In the measured sequences with both motifs IME1's site
# lies inside UME6's, so `camformer.hierarchy.nested_insertion` writes UME6's consensus
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
# shared letters) are kept. Intervals resample backgrounds; verdicts are drawn for IME1 alone
# and the two interactions (Holm over the three), the rest are shown.

# %%
backgrounds = H.random_backgrounds(table, scan.presence, rows, n_backgrounds,
                                   seed=seed)
insertion = H.nested_insertion(model, backgrounds, motifs, IME1, UME6,
                               scan.hits, encoding=model_encoding(model))
effects = insertion.contrasts((IME1, UME6), n_boot=n_boot, seed=seed)
display(insertion.contains.round(2))
I.contrast_view(effects)

# %% tags=["remove-input"]
e = {name: I.contrast_text(row) for name, row in effects.iterrows()}
display(Markdown(
    f"The first table: the share of the {len(backgrounds)} backgrounds in "
    "which FIMO finds each motif after each edit; "
    f"{insertion.kept.sum()} keep every edit as written. On them the fair "
    "interaction of UME6's own letters with IME1's own letter is "
    f"{e['interaction, IME1 inside UME6']}; with UME6 apart, "
    f"{e['interaction, IME1 and UME6 apart']}. "
    f"**{H.insertion_conclusion(effects)}**"))

# %%
record(results_dir, preset, "motifs_model", model=info["model"],
       n_heldout=len(rows), n_backgrounds=len(backgrounds),
       n_backgrounds_kept=int(insertion.kept.sum()), **H.model_facts(compared),
       **I.contrast_facts(effects),
       **H.rank_verdict(fig8).facts("rho_with_figure8_predicted"))

# %% tags=["remove-input"]
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
