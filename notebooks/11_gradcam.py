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
# # Grad-CAM: where the model looks
#
# The paper explains single predictions with Grad-CAM, as its authors define it
# (`base/gradcam_utils.py`): for one convolution layer, the mean of the layer's output over its
# channels, times the gradient of the prediction with respect to the one-hot input, upsampled
# to the 110 positions where the layer is shorter, and divided by its maximum. The result is a
# map with one row per base (A, C, G, T) and one column per position. `camformer.gradcam`
# computes it for any model and any convolution layer; `camformer.attribution` gives captum's
# Integrated Gradients, DeepLift and Saliency through one function for comparison.
#
# The model is the book's own from chapter 03_training, on promoters it did not train on; with
# the `quick` preset it is a small-data model, **so these maps are small-data results**.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
seed = 0

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. Colab already has
# torch, numpy, pandas and scikit-learn, so only camformer and what Colab lacks are installed.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "captum", "lion-pytorch", "pooch",
                    "pyjaspar", "memelite", "logomaker"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "git+https://github.com/camformer/camformer"], check=True)

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from camformer.attribution import attribute
from camformer.data import encode, encode_sequences, load_test_table
from camformer.gradcam import conv_layers, gradcam, normalize_by_max
from camformer.plot_interpret import base_map
from camformer.report import record
from camformer.train import load_book_model, model_encoding

started = time.perf_counter()
torch.set_num_threads(2)
model, heldout = load_book_model(results_dir, preset)
encoding = model_encoding(model)
layers = conv_layers(model)
n_sequences = 300 if preset == "quick" else 10000

table = load_test_table().set_index("id")
rng = np.random.default_rng(seed)
ids = np.sort(rng.choice(heldout["id"].to_numpy(), size=min(n_sequences, len(heldout)), replace=False))
measured = table.loc[ids, "expression"].to_numpy()
X = encode(torch.as_tensor(encode_sequences(table.loc[ids, "seq"].tolist())), encoding)
display(Markdown(f"{len(ids)} held-out promoters; the model ({model.config.architecture}, {encoding}) "
                 f"has {len(layers)} convolution layers: {', '.join(f'`{n}`' for n in layers)}."))

# %% [markdown]
# ## High and low expressors
#
# Grad-CAM maps at the first and at the last convolution layer for the promoter with the
# highest and the one with the lowest measured expression in the sample. Red marks positions
# and bases whose presence pushes the prediction up (after weighting by the layer's mean
# activation), blue pushes it down; only the base actually present contributes to the
# prediction, the other rows show what the gradient says a substitution would do.

# %%
high, low = int(np.argmax(measured)), int(np.argmin(measured))
fig, axes = plt.subplots(4, 1, figsize=(12, 6.5), sharex=True)
for row, (i, name) in enumerate([(high, "highest"), (low, "lowest")]):
    for col, layer in enumerate([layers[0], layers[-1]]):
        ax = axes[2 * row + col]
        cam = gradcam(model, X[i : i + 1], layer, device="cpu")[0, :4].numpy()
        base_map(cam, ax=ax, title=f"{name} measured expression ({measured[i]:.2f}), layer {layer}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Averaged over the held-out promoters
#
# The paper also averages the (unnormalised) maps over its test sequences and then divides by
# the maximum, one map per layer. Below: that average for every convolution layer of the
# book's model, and, as a summary, the share of the average map's absolute mass that falls in
# the 80-nt variable region (17–96), which holds 73% of the positions.

# %%
average = {}
for layer in layers:
    raw = gradcam(model, X, layer, normalize=False, batch_size=128, device="cpu")[:, :4]
    average[layer] = normalize_by_max(raw.mean(0, keepdim=True))[0].numpy()
fig, axes = plt.subplots(len(layers), 1, figsize=(12, 1.3 * len(layers) + 0.6), sharex=True)
for ax, layer in zip(np.atleast_1d(axes), layers):
    base_map(average[layer], ax=ax, title=f"layer {layer}", colorbar=False)
plt.tight_layout()
plt.show()

share = {layer: float(np.abs(m[:, 17:97]).sum() / np.abs(m).sum()) for layer, m in average.items()}
display(Markdown(
    "Share of the average map's absolute value in the variable region: "
    + ", ".join(f"{layer} {100 * s:.0f}%" for layer, s in share.items()) + "."
))

# %% [markdown]
# ## Grad-CAM beside captum's attributions
#
# For the high expressor, the Grad-CAM map of the first layer, Integrated Gradients (all-zero
# baseline, 64 steps), DeepLift (zero baseline) and Saliency (absolute gradient), each shown
# at the base actually present (the map times the one-hot input), summed over bases.

# %%
x = X[high : high + 1]
onehot = x[:, :4].numpy()[0] == 1
maps = {
    "Grad-CAM (first layer)": gradcam(model, x, layers[0], device="cpu")[0, :4].numpy(),
    "Integrated Gradients": attribute(model, x, "integrated_gradients", n_steps=64, device="cpu")[0, :4].numpy(),
    "DeepLift": attribute(model, x, "deeplift", device="cpu")[0, :4].numpy(),
    "Saliency": attribute(model, x, "saliency", device="cpu")[0, :4].numpy(),
}
profiles = pd.DataFrame({name: (m * onehot).sum(0) for name, m in maps.items()})
fig, axes = plt.subplots(len(maps), 1, figsize=(12, 6), sharex=True)
for ax, name in zip(axes, maps):
    ax.bar(np.arange(110), profiles[name], color=np.where(profiles[name] >= 0, "tab:red", "tab:blue"), width=1.0)
    ax.set_ylabel(name, rotation=0, ha="right")
axes[-1].set_xlabel("position (nt, 0-based)")
plt.tight_layout()
plt.show()
corr = profiles.corr(method="pearson")
rank_corr = profiles.corr(method="spearman")
display(Markdown(
    "Correlation of the per-position profiles with Grad-CAM, Pearson r (Spearman ρ): "
    + ", ".join(f"{k} {corr.loc['Grad-CAM (first layer)', k]:.2f} ({rank_corr.loc['Grad-CAM (first layer)', k]:.2f})"
                for k in list(maps)[1:])
    + ". Pearson r weighs the few positions with large values, which is what the eye compares in "
    "the plots; Spearman ρ weighs every position alike, including the many near zero."
))

# %%
record(
    results_dir, preset, "gradcam",
    n_sequences=len(ids),
    variable_share_first_layer=share[layers[0]],
    variable_share_last_layer=share[layers[-1]],
    r_gradcam_integrated_gradients=float(corr.loc["Grad-CAM (first layer)", "Integrated Gradients"]),
    seconds=round(time.perf_counter() - started, 1),
)
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
