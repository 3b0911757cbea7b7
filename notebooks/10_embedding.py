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
# # The model's map of promoters
#
# The paper's Figure 7 (and S9) looks inside Camformer: the activations of its last hidden
# layer, one vector per promoter, are laid out in two dimensions with t-SNE (after
# standardising and a PCA to 50 dimensions, `base/emb_utils.py`) and coloured by expression.
# If the model has learnt a representation that orders promoters by expression, the colours
# form a gradient across the map. The paper's own map (`tsne_2d.tar.gz`) is not bundled with
# this book, so the maps here are computed: from the paper's own Camformer Original where its
# published weights can be fetched (`camformer.book.explained_model`), and otherwise from the
# book's own model (chapter 03_training), always on held-out promoters. The line below says
# which; the book's model is a small-data model, **so its maps are small-data results**.
#
# Every number below carries a 95% interval from a bootstrap that resamples the promoters by
# similarity unit (variant families joined with near copies, as chapter 03_training builds
# them; `camformer.bootstrap.test_set_units`), and every sentence that concludes is chosen from
# those intervals by a tested function: a result inside the noise is reported as undecided.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
seed = 0
n_boot = 1000  # bootstrap resamples of every interval
# the published model to explain where it can be fetched:
explain = "original"  # "original", "mini" or "book"

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
import torch
from IPython.display import Markdown, display

from camformer import book, data, embedding, explain_stats, report
from camformer.plot_interpret import COLUMN_WIDTH, embedding_scatter

started = time.perf_counter()
torch.set_num_threads(2)
plt.rcParams["figure.dpi"] = 120
model, info = book.explained_model(results_dir, preset, prefer=explain)
display(Markdown(book.describe_model(info)))
n_points = {"smoke": 64, "quick": 2000}.get(preset, 20000)
sample = book.heldout_sample(info, n_points, seed)
unit = explain_stats.test_set_units(sample["id"].to_numpy())
boot = {"groups": unit, "n_boot": n_boot, "seed": seed}
measured = sample["expression"].to_numpy()
predicted = sample["prediction"].to_numpy()
codes = data.encode_sequences(sample["seq"].tolist())
A = embedding.penultimate_activations(model, codes)

# %% tags=["remove-input"]
display(Markdown(
    f"Penultimate-layer activations of {len(sample):,} held-out promoters "
    f"({len(set(unit)):,} similarity units): {A.shape[1]} values each "
    f"({(A > 0).mean():.0%} non-zero after the ReLU)."))

# %% [markdown]
# ## Two maps
#
# Left: the first two principal components of the activations (a linear view). Right: the
# paper's t-SNE recipe (a non-linear view that keeps neighbours together). Both are coloured by
# the *measured* expression of each promoter.

# %%
maps = {"PCA": embedding.embed_2d(A, "pca"),
        "t-SNE": embedding.embed_2d(A, "tsne", seed=seed)}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0),
                         layout="constrained")
for ax, (name, Y) in zip(axes, maps.items()):
    embedding_scatter(Y, measured, ax=ax, label="measured expression",
                      xlabel=f"{name} 1", ylabel=f"{name} 2", title=name)
plt.show()

# %% [markdown]
# ## How well does the map order promoters?
#
# Two summaries, each with its interval. First, the Spearman ρ of each map axis with measured
# and with predicted expression (its size |ρ|: the sign of an axis is arbitrary). The
# prediction is a linear read-out of exactly these activations, so *some* direction of the
# activations correlates perfectly with it; whether that direction is the main axis of
# variation (the first principal component) is a question about the model, and the first
# component's |ρ| with the predictions answers it. Second, for each map, the Pearson r of
# every promoter's measured expression with the mean of its 15 nearest neighbours on the map:
# near 0 without a gradient, near 1 when neighbours share their expression. Unlike an axis
# correlation, it does not depend on how the t-SNE map happens to be rotated.

# %%
targets = {"measured": measured, "predicted": predicted}
table = embedding.axis_correlations(maps, targets, **boot)
display(table.round(3))
neighbours = {name: embedding.neighbour_agreement(Y, measured, **boot)
              for name, Y in maps.items()}
local = {name: [n[k] for k in ("r", "ci_low", "ci_high")]
         for name, n in neighbours.items()}
share = embedding.variance_share(A, groups=unit, n_boot=200, seed=seed)
pc1 = table.query("map == 'PCA' and axis == 1").set_index("target")
pc1 = {t: pc1.loc[t, ["abs_rho", "ci_low", "ci_high"]].to_numpy(float)
       for t in targets}
axis_verdict = embedding.expression_axis_verdict(*pc1["predicted"])
gradient = embedding.gradient_verdict(neighbours["t-SNE"], "t-SNE map")
text = explain_stats.interval_text

# %% tags=["remove-input"]
display(Markdown(
    f"The first principal component carries a share of "
    f"{text(*share.values(), 3)} of the activations' variance. Its |ρ| with "
    f"the model's own predictions is {text(*pc1['predicted'], 3)} and with "
    f"measured expression {text(*pc1['measured'], 3)}: **{axis_verdict}** "
    f"(an expression axis needs |ρ| above {embedding.STRONG_RHO} over the "
    "whole interval: a high correlation by the common rule of thumb, "
    "Mukaka 2012, Malawi Med J 24:69). On the t-SNE "
    f"map, a promoter's measured expression correlates with its neighbours' "
    f"mean at r = {text(*local['t-SNE'])} (on the PCA map, "
    f"{text(*local['PCA'])}): **{gradient}**."))

# %% [markdown]
# The intervals cover the sampling of promoters, not the training of the model: trained again
# (another seed, or the same seed on a CPU with other vector instructions, whose sums round
# differently), the model's first component can follow its predictions a little more or less
# closely than this interval allows, while the verdicts stay the same. The numbers describe
# this trained model; the verdicts are what the book concludes.

# %%
report.record(
    results_dir, preset, "embedding", model=info["model"],
    n_points=len(sample), dimensions=int(A.shape[1]),
    **report.facts("pc1_abs_rho_measured", *pc1["measured"],
                   undefined="a constant first component"),
    **report.facts("pc1_abs_rho_predicted", verdict=axis_verdict),
    **report.facts("pc1_variance_share", *share.values(),
                   undefined="constant activations"),
    **report.facts("pca_neighbour_r_measured", *local["PCA"],
                   undefined="every point at one place"),
    **report.facts("tsne_neighbour_r_measured", verdict=gradient),
    seconds=round(time.perf_counter() - started, 1))

# %% tags=["remove-input"]
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
