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
# In the measured test library IME1 raises expression and IME1 together with UME6 lowers it
# (chapter 13_motifs). Has a model trained to predict expression learnt that? This chapter asks
# twice: by comparing its predictions with the measurements on sequences it never trained on,
# and by writing the motifs into promoters that contain none of them. The model explained is
# the paper's own Camformer Original where its published weights can be fetched
# (`camformer.book.explained_model`), else the book's own model from chapter 03_training; the
# line below the imports says which. The steps are functions of `camformer.hierarchy`.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10
n_backgrounds = 300
seed = 42
explain = "original"  # the published model to explain where it can be fetched: "original", "mini" or "book"

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

from camformer import hierarchy as H
from camformer import motifs as M
from camformer.book import describe_model, explained_model
from camformer.data import encode_sequences, load_published_predictions, load_test_table, subset_membership
from camformer.inference import model_encoding
from camformer.plot_motifs import pair_heatmap
from camformer.report import defined_or, effect_text, record

started = time.perf_counter()
torch.set_num_threads(2)
model, info = explained_model(results_dir, preset, prefer=explain)
display(Markdown(describe_model(info)))
heldout = info["predictions"]  # ids the model never trained on, and its predictions for them

# %% [markdown]
# ## Predicted beside measured, on held-out sequences
#
# The test library is scanned for the paper's 19 Figure 8 motifs as in chapter 13_motifs, and
# the hierarchy test (`camformer.motifs.motif_hierarchy`) is run on the held-out sequences
# only, once with their measured expression and once with the model's predictions. If the
# model has learnt the hierarchy, the predicted differences have the measured signs.
# Predictions of the paper's model are on its training data's 0–17 scale, so only signs and
# order compare.

# %%
motifs = H.figure8_motifs()
IME1, UME6 = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
table = load_test_table()
scan = H.scan_library(table["seq"], motifs)
rows = pd.Index(table["id"]).get_indexer(heldout["id"])
predicted = heldout["prediction"].to_numpy()
compared = H.predicted_vs_measured(table["expression"].to_numpy()[rows], predicted, scan.has(IME1)[rows],
                                   scan.has(UME6)[rows], seed=seed)
compared

# %%
difference, direction = compared["difference"], compared["direction"]["predicted"]
agree = H.signs_agree(compared, ["IME1 without UME6", "IME1 and UME6"])
display(Markdown(
    f"On {len(rows):,} held-out sequences, {info['model']} predicts that IME1 without UME6 "
    f"{direction['IME1 without UME6']} expression ({difference.loc['IME1 without UME6', 'predicted']:+.3f}; "
    f"measured {difference.loc['IME1 without UME6', 'measured']:+.3f}) and that IME1 with UME6 "
    f"{direction['IME1 and UME6']} it ({difference.loc['IME1 and UME6', 'predicted']:+.3f}; measured "
    f"{difference.loc['IME1 and UME6', 'measured']:+.3f}): "
    + ("the predicted signs are the measured ones." if agree else "the predicted signs differ from the measured ones.")
))

# %% [markdown]
# Left: the pair means computed from the paper's Camformer (Original, seed 42) published
# predictions for the whole test library (`camformer_published_predictions.tsv.gz`; that model
# never saw the test library). Right: the model this chapter explains, on its held-out
# sequences. Both are ordered by the paper's measured diagonal, highest first; cells with fewer
# than `min_n` sequences are blank.

# %%
paper = H.paper_pair_effects()
order = H.diagonal_order(paper, "Mean_real")
published = load_published_predictions().set_index("id").loc[table["id"], "original"].to_numpy()
pred_paper = M.pair_effects(scan.presence, published, list(motifs))
pred_model = M.pair_effects(scan.presence.iloc[rows].reset_index(drop=True), predicted, list(motifs))
fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
for ax, effects, title in ((axes[0], pred_paper, "Paper's Camformer, predicted (published)"),
                           (axes[1], pred_model, f"{info['model']}, predicted, held-out")):
    pair_heatmap(M.pair_matrix(effects, "mean", order), M.pair_matrix(effects, "n", order), min_n=min_n, ax=ax,
                 labels=[H.short_name(name) for name in order], title=title, label="mean predicted expression")
plt.tight_layout()
plt.show()
rho_fig8, n_cells = H.pair_rank_agreement(pred_model, paper, order, min_n=min_n, reference_value="Mean_pred")
display(Markdown(
    f"Across the {n_cells} motif and pair cells with at least {min_n} held-out sequences, the model's "
    f"predicted means rank like the paper's Figure 8 predicted means on its training data "
    f"(`combinations.train.fc.txt`, column Mean_pred) with Spearman ρ = {rho_fig8:.2f}."
))

# %% [markdown]
# ## Inserting the motifs into held-out backgrounds
#
# The model can also be asked directly: write the consensus of IME1, of UME6, or of both into
# held-out random-promoter test sequences that contain none of the 19 motifs, and take the mean
# change of the prediction, with a 95% bootstrap interval over the backgrounds. In the measured
# sequences with both motifs, IME1's site almost always lies inside UME6's
# (`camformer.motifs.overlap_configurations`), so `camformer.hierarchy.nested_insertion` writes
# "both" that way: UME6 at position 30 and IME1 at the offset the data show most often on the
# forward strand. For comparison, the two are also written apart (UME6 at 30, IME1 at 60).

# %%
is_random = subset_membership(table)["random"].to_numpy()
chosen = H.motif_free_backgrounds(scan.presence, rows[is_random[rows]], n_backgrounds, seed=seed)
backgrounds = encode_sequences(table["seq"].iloc[chosen].tolist())
insertion, configurations = H.nested_insertion(model, backgrounds, motifs, IME1, UME6, scan.hits,
                                               encoding=model_encoding(model), seed=seed)
ins = insertion.set_index(["motif1", "motif2", "placement"])
one, inside, far = (ins.loc[k] for k in (("IME1", "IME1", "alone"), ("IME1", "UME6", "IME1 inside UME6"),
                                          ("IME1", "UME6", "apart")))
measured = compared["direction"]["measured"]
display(Markdown(
    f"In {int(configurations['sequences'].iloc[:2].sum()):,} of the {int((scan.has(IME1) & scan.has(UME6)).sum()):,} "
    f"test sequences with both motifs, IME1 sits inside UME6 in the two most common ways (one site, either strand). "
    f"On {len(backgrounds)} held-out backgrounds, inserting IME1 {one['direction']} the prediction by "
    f"{effect_text(one, n=False)}; IME1 inside UME6 {inside['direction']} it by {effect_text(inside, n=False)}; the "
    f"two written apart {far['direction']} it ({far['mean_change']:+.3f}). Measured on the held-out sequences, IME1 alone "
    f"{measured['IME1 without UME6']} expression and IME1 with UME6 {measured['IME1 and UME6']} it. "
    + ("So the model has learnt that UME6's context takes away IME1's gain (the intervals do not overlap)"
       if inside["ci_high"] < one["ci_low"] else "The model does not separate IME1 inside UME6 from IME1 alone")
    + (", and it predicts the fall below the background." if inside["direction"] == "lowers" else
       ", but not the fall below the background that the measurements show.")
))
insertion.round(4)

# %%
record(results_dir, preset, "motifs_model", model=info["model"], n_heldout=len(rows), **H.model_facts(compared),
       **H.insertion_facts(insertion), n_backgrounds=len(backgrounds),
       rho_with_figure8_predicted=defined_or(rho_fig8, "too few cells"))
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
