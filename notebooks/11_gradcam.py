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
# The model explained is the paper's own Camformer Original where its published weights can be
# fetched (`camformer.book.explained_model`), and otherwise the book's own model from chapter
# 03_training, on promoters it did not train on; the line below says which. The book's model is
# a small-data model, **so its maps are small-data results**.

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
import torch
from IPython.display import Markdown, display

from camformer.attribution import attribute, compare_profiles, fold_channels, position_profiles
from camformer.book import describe_model, explained_model, heldout_sample
from camformer.data import encode_sequences
from camformer.encoding import encode
from camformer.gradcam import conv_layers, gradcam, normalize_by_max, region_share
from camformer.plot_interpret import base_map
from camformer.report import defined_or, record
from camformer.inference import model_encoding

started = time.perf_counter()
torch.set_num_threads(2)
model, info = explained_model(results_dir, preset, prefer=explain)
display(Markdown(describe_model(info)))
encoding = model_encoding(model)
layers = conv_layers(model)
n_sequences = 300 if preset == "quick" else 10000

sample = heldout_sample(info, n_sequences, seed)  # promoters the model never trained on
measured = sample["expression"].to_numpy()
X = encode(torch.as_tensor(encode_sequences(sample["seq"].tolist())), encoding)
display(Markdown(f"{len(sample)} held-out promoters; the model ({model.config.architecture}, {encoding}) "
                 f"has {len(layers)} convolution layers: {', '.join(f'`{n}`' for n in layers)}. Maps of an "
                 f"encoding with a purine channel are folded onto the base present "
                 f"(`camformer.attribution.fold_channels`), so they show all the model's input."))

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
        cam = fold_channels(gradcam(model, X[i : i + 1], layer), X[i : i + 1], encoding)[0].numpy()
        base_map(cam, ax=axes[2 * row + col], title=f"{name} measured expression ({measured[i]:.2f}), layer {layer}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Averaged over the held-out promoters
#
# The paper also averages the (unnormalised) maps over its test sequences and then divides by
# the maximum, one map per layer. Below: that average for every convolution layer, and, as a
# summary, the share of the average map's absolute mass that falls in the 80-nt variable region
# (17–96), which holds 73% of the positions.

# %%
average = {}
for layer in layers:
    raw = fold_channels(gradcam(model, X, layer, normalize=False, batch_size=128), X, encoding)
    average[layer] = normalize_by_max(raw.mean(0, keepdim=True))[0].numpy()
fig, axes = plt.subplots(len(layers), 1, figsize=(12, 1.3 * len(layers) + 0.6), sharex=True)
for ax, layer in zip(np.atleast_1d(axes), layers):
    base_map(average[layer], ax=ax, title=f"layer {layer}", colorbar=False)
plt.tight_layout()
plt.show()

share = {layer: region_share(m) for layer, m in average.items()}  # NaN for a blank map
display(Markdown(
    "Share of the average map's absolute value in the variable region: "
    + ", ".join(f"{layer} {100 * s:.0f}%" if np.isfinite(s) else f"{layer} undefined (a blank map)"
                for layer, s in share.items()) + "."
))

# %% [markdown]
# ## Grad-CAM beside captum's attributions
#
# For the high expressor, the Grad-CAM map of the first layer, Integrated Gradients (all-zero
# baseline, 64 steps), DeepLift (zero baseline) and Saliency (absolute gradient), each shown
# at the base actually present (the map times the one-hot input), summed over bases.

# %%
x = X[high : high + 1]
maps = {"Grad-CAM (first layer)": fold_channels(gradcam(model, x, layers[0]), x, encoding)[0], **{
    name: fold_channels(attribute(model, x, method, **kwargs), x, encoding)[0] for name, method, kwargs in (
        ("Integrated Gradients", "integrated_gradients", {"n_steps": 64}), ("DeepLift", "deeplift", {}),
        ("Saliency", "saliency", {}))}}
profiles = position_profiles(maps, x[0])
fig, axes = plt.subplots(len(maps), 1, figsize=(12, 6), sharex=True)
for ax, name in zip(axes, maps):
    ax.bar(np.arange(110), profiles[name], color=np.where(profiles[name] >= 0, "tab:red", "tab:blue"), width=1.0)
    ax.set_ylabel(name, rotation=0, ha="right")
axes[-1].set_xlabel("position (nt, 0-based)")
plt.tight_layout()
plt.show()
agreement = compare_profiles(profiles, "Grad-CAM (first layer)")
display(Markdown(
    "Correlation of the per-position profiles with Grad-CAM, Pearson r (Spearman ρ): "
    + ", ".join(f"{k} {row.pearson_r:.2f} ({row.spearman_rho:.2f})" if not row.undefined
                else f"{k} undefined ({row.undefined})" for k, row in agreement.iterrows())
    + ". Pearson r weighs the few positions with large values, which is what the eye compares in "
    "the plots; Spearman ρ weighs every position alike, including the many near zero."
))

# %%
ig = agreement.loc["Integrated Gradients"]
record(
    results_dir, preset, "gradcam",
    model=info["model"],
    n_sequences=len(sample),
    variable_share_first_layer=defined_or(share[layers[0]], "the average first-layer map is blank"),
    variable_share_last_layer=defined_or(share[layers[-1]], "the average last-layer map is blank"),
    r_gradcam_integrated_gradients=defined_or(ig["pearson_r"], ig["undefined"]),
    seconds=round(time.perf_counter() - started, 1),
)
