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
# book's own model (chapter 03_training), always on promoters the model never trained on. The
# line below says which; the book's model is a small-data model, **so its maps are small-data
# results**.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
seed = 0
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
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display
from scipy.stats import spearmanr

from camformer.data import encode_sequences
from camformer.encoding import encode
from camformer.embedding import embed_2d, pca, penultimate_activations
from camformer.plot_interpret import embedding_scatter
from camformer.report import defined_or, record
from camformer.book import describe_model, explained_model, heldout_sample
from camformer.inference import model_encoding

started = time.perf_counter()
torch.set_num_threads(2)
model, info = explained_model(results_dir, preset, prefer=explain)
display(Markdown(describe_model(info)))
encoding = model_encoding(model)
n_points = 2000 if preset == "quick" else 20000

sample = heldout_sample(info, n_points, seed)
measured, predicted = sample["expression"].to_numpy(), sample["prediction"].to_numpy()
X = encode(torch.as_tensor(encode_sequences(sample["seq"].tolist())), encoding)
A = penultimate_activations(model, X)
display(Markdown(f"Penultimate-layer activations of {len(sample):,} held-out promoters: {A.shape[1]} values each "
                 f"({(A > 0).mean() * 100:.0f}% non-zero after the ReLU)."))

# %% [markdown]
# ## Two maps
#
# Left: the first two principal components of the activations (a linear view). Right: the
# paper's t-SNE recipe (a non-linear view that keeps neighbours together). Both are coloured by
# the *measured* expression of each promoter.

# %%
Y_pca = embed_2d(A, "pca")
Y_tsne = embed_2d(A, "tsne", seed=seed)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
embedding_scatter(Y_pca, measured, ax=axes[0], label="measured expression", xlabel="PC 1", ylabel="PC 2", title="PCA")
embedding_scatter(Y_tsne, measured, ax=axes[1], label="measured expression", xlabel="t-SNE 1", ylabel="t-SNE 2", title="t-SNE")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## How well does the map order promoters?
#
# A summary of the gradient: the Spearman correlation of each map axis with measured and with
# predicted expression. The prediction is a linear read-out of exactly these activations, so
# its correlation with a linear axis (PCA) bounds what the measurement can reach.

# %%
rows = []
for name, Y in (("PCA", Y_pca), ("t-SNE", Y_tsne)):
    for axis in range(2):
        rows.append({"map": name, "axis": axis + 1,
                     "rho measured": spearmanr(Y[:, axis], measured)[0],
                     "rho predicted": spearmanr(Y[:, axis], predicted)[0]})
summary = pd.DataFrame(rows)
display(summary.round(3))
variance = pca(A, min(10, A.shape[1])).var(0)
pc1_share = variance[0] / np.var(A - A.mean(0), axis=0).sum()
pc1 = summary.query("map == 'PCA' and axis == 1").iloc[0]
display(Markdown(
    f"The first principal component carries {100 * pc1_share:.1f}% of the activations' variance and "
    f"correlates with measured expression at |ρ| = {abs(pc1['rho measured']):.2f} (with the model's "
    f"own predictions at |ρ| = {abs(pc1['rho predicted']):.2f}). "
    + ("The model's internal representation is, to a large part, one expression axis."
       if abs(pc1["rho predicted"]) > 0.7 else
       "Expression is not simply the main axis of variation of the activations.")
))

# %%
record(
    results_dir, preset, "embedding",
    model=info["model"],
    n_points=len(sample),
    dimensions=int(A.shape[1]),
    pc1_abs_rho_measured=defined_or(float(abs(pc1["rho measured"])), "the first component is constant"),
    pc1_abs_rho_predicted=defined_or(float(abs(pc1["rho predicted"])), "a constant axis or prediction"),
    pc1_variance_share=defined_or(float(pc1_share), "the activations are constant"),
    tsne_max_abs_rho_measured=defined_or(float(summary.query("map == 't-SNE'")["rho measured"].abs().max()),
                                         "the t-SNE axes are constant"),
    seconds=round(time.perf_counter() - started, 1),
)
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
