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
# published weights can be fetched (`camformer.records.book.explained_models`), and otherwise from
# the book's own seed ensemble (chapter 03_training), always on held-out promoters. The line
# below says which; the book's models are small-data models, **so their maps are small-data
# results**.
#
# Each model's numbers carry a 95% interval from a bootstrap that resamples the promoters by
# similarity unit (variant families joined with near copies, as chapter 03_training builds
# them; `camformer.stats.bootstrap.test_set_units`), and every sentence that concludes is chosen from
# those intervals by a tested function: a result inside the noise is reported as undecided.
# With several models, each model is asked every question on its own, and a conclusion is
# stated only where all of them reach it (`camformer.stats.ensemble`).

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
from IPython.display import Markdown, display

from camformer.explain import embedding
from camformer.records import book, report
from camformer.stats import ensemble, explain_stats
from camformer.plots.plot_interpret import COLUMN_WIDTH, embedding_scatter

started = time.perf_counter()
n_points = {"smoke": 256, "quick": 2000}.get(preset, 20000)
# several models: fewer promoters each (t-SNE's cost grows with the points)
ensemble_n = {"quick": 1000}.get(preset)
ex = book.explaining(results_dir, preset, prefer=explain, n=n_points,
                     seed=seed, n_boot=n_boot, ensemble_n=ensemble_n)
display(Markdown(ex.markdown()))

# %% [markdown]
# ## Every model's activations
#
# For each model: the activations of its last hidden layer for every sampled promoter, their
# two maps, and the questions below, each answered with that model's own intervals
# (`camformer.explain.embedding.findings`).

# %%
k = len(ex.models)
per_model = ex.each_model(
    embedding.findings, ex.codes, ex.measured, boot=ex.boot, seed=seed,
    per_model=[{"predicted": ex.predicted(label)} for label in ex.labels])
combined = ensemble.combine([f.verdicts for f in per_model], ex.labels,
                           ranges=embedding.RANGES)
first = per_model[0]
A = first.activations

# %% tags=["remove-input"]
display(Markdown(
    f"Penultimate-layer activations of {len(A):,} held-out promoters "
    f"({len(set(ex.units)):,} similarity units): {A.shape[1]} "
    f"values each ({(A > 0).mean():.0%} non-zero after the ReLU, in "
    f"{ex.labels[0]}). " + ex.sizing()))

# %% [markdown]
# ## Two maps
#
# Left: the first two principal components of the activations (a linear view). Right: the
# paper's t-SNE recipe (a non-linear view that keeps neighbours together). Both are coloured by
# the *measured* expression of each promoter.

# %%
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0),
                         layout="constrained")
for ax, (name, Y) in zip(axes, first.maps.items()):
    embedding_scatter(Y, first.measured, ax=ax, label="measured expression",
                      xlabel=f"{name} 1", ylabel=f"{name} 2", title=name)
plt.show()

# %% tags=["remove-input"]
display(Markdown(
    f"The maps are those of {ex.labels[0]}"
    + (f", the first of the {k} models." if k > 1 else ".")))

# %% [markdown]
# ## How well does the map order promoters?
#
# Three summaries. First, the share of the activations' variance on their first principal
# component: above one half, the representation is mostly one-dimensional. Second, the
# Spearman ρ of that component with the model's own predictions and with measured expression
# (its size |ρ|: the sign of an axis is arbitrary). The prediction is a linear read-out of
# exactly these activations, so *some* direction of the activations correlates perfectly with
# it; whether that direction is the main axis of variation is a question about the model.
# Third, for each map, the Pearson r of every promoter's measured expression with the mean of
# its 15 nearest neighbours on the map: near 0 without a gradient, near 1 when neighbours share
# their expression. Unlike an axis correlation, it does not depend on how the t-SNE map happens
# to be rotated. The table gives every model's value, the mean with its interval, the verdict
# and how many models reach it.

# %%
display(ensemble.table(combined, embedding.FINDING_NAMES))

# %% tags=["remove-input"]
number = {key: explain_stats.stated(a.verdict, 3) for key, a in combined.items()}
said = {key: a.stated() for key, a in combined.items()}
display(Markdown(
    f"The first principal component carries a share of "
    f"{number['pc1_variance_share']} of the activations' variance: "
    f"**{said['pc1_variance_share']}**. Its |ρ| with the model's own "
    f"predictions is {number['pc1_abs_rho_predicted']}: "
    f"**{said['pc1_abs_rho_predicted']}**; with measured expression "
    f"{number['pc1_abs_rho_measured']}: **{said['pc1_abs_rho_measured']}** "
    f"(an expression axis needs |ρ| above {embedding.STRONG_RHO} over the "
    "whole interval: a high correlation by the common rule of thumb, "
    "Mukaka 2012, Malawi Med J 24:69). On the t-SNE map, a promoter's "
    "measured expression correlates with its neighbours' mean at r = "
    f"{number['tsne_neighbour_r_measured']}: "
    f"**{said['tsne_neighbour_r_measured']}**; on the PCA map, "
    f"{number['pca_neighbour_r_measured']}: "
    f"**{said['pca_neighbour_r_measured']}**. "
    + ("Each number is the mean over the models, with a 95% interval "
       "between models." if k > 1 else
       "Each interval covers the sampling of promoters.")))

# %% [markdown]
# A model trained again (another seed, or the same seed on a CPU with other vector
# instructions, whose sums round differently) is another model: its first component can carry
# a larger or smaller share of the variance, or follow its predictions more or less closely,
# than an interval over promoters allows. So with the book's seed ensemble each question is
# asked of every model with its own interval over promoters, a verdict holds only where all
# models reach it, and a number's interval lies between the models. With the paper's published
# model (one fixed model) the intervals cover the sampling of promoters only.

# %%
report.record(
    results_dir, preset, "embedding", model=ex.info["model"],
    models=k, n_points=len(A), dimensions=int(A.shape[1]),
    **ensemble.facts(combined),
    seconds=round(time.perf_counter() - started, 1))

# %% tags=["remove-input"]
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
