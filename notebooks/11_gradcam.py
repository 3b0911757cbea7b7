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
# 03_training, on held-out promoters; the line below says which. The book's model is a
# small-data model, **so its maps are small-data results**.
#
# One map of one promoter is fragile: how well two methods' maps of a single promoter agree
# varies widely from promoter to promoter (the strip plot at the end shows it), and moves when
# the model is trained again, even with the same seed on another CPU's kernels. So every
# number below is an average over many held-out promoters, with a 95% interval from a
# bootstrap that resamples them by similarity unit (`camformer.bootstrap.test_set_units`), and every
# sentence that concludes is chosen from those intervals by a tested function.

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
import numpy as np
import torch
from IPython.display import Markdown, display

from camformer import attribution as attr
from camformer import book, data, explain_stats, gradcam, inference, report
from camformer.encoding import encode
from camformer.plot_interpret import agreement_strips, base_map_stack
from camformer.plot_interpret import profile_bars

started = time.perf_counter()
torch.set_num_threads(2)
plt.rcParams["figure.dpi"] = 120
model, info = book.explained_model(results_dir, preset, prefer=explain)
display(Markdown(book.describe_model(info)))
encoding = inference.model_encoding(model)
layers = gradcam.conv_layers(model)
n_sequences = {"smoke": 8, "quick": 300}.get(preset, 2000)
sample = book.heldout_sample(info, n_sequences, seed)
unit = explain_stats.test_set_units(sample["id"].to_numpy())
boot = {"groups": unit, "n_boot": n_boot, "seed": seed}
measured = sample["expression"].to_numpy()
codes = torch.as_tensor(data.encode_sequences(sample["seq"].tolist()))
X = encode(codes, encoding)
raw = gradcam.layer_maps(model, X, layers, encoding)  # unnormalised

# %% tags=["remove-input"]
display(Markdown(
    f"{len(sample)} held-out promoters ({len(set(unit))} similarity units);"
    f" the model ({model.config.architecture}, {encoding}) has {len(layers)} "
    f"convolution layers: {', '.join(f'`{n}`' for n in layers)}. Maps of an "
    "encoding with a purine channel are folded onto the base present "
    "(`camformer.attribution.fold_channels`), so they show all the model's "
    "input."))

# %% [markdown]
# ## High and low expressors
#
# Grad-CAM maps at the first and at the last convolution layer for the promoter with the
# highest and the one with the lowest measured expression in the sample, each divided by its
# maximum. Red marks positions and bases whose presence pushes the prediction up (after
# weighting by the layer's mean activation), blue pushes it down; only the base actually
# present contributes to the prediction, the other rows show what the gradient says a
# substitution would do.

# %%
high, low = int(np.argmax(measured)), int(np.argmin(measured))
examples = {
    f"{name} measured expression ({measured[i]:.2f}), {layer}":
        gradcam.normalize_by_max(raw[layer][i:i + 1])[0].numpy()
    for i, name in ((high, "highest"), (low, "lowest"))
    for layer in (layers[0], layers[-1])}
base_map_stack(examples)
plt.show()

# %% [markdown]
# ## Averaged over the held-out promoters
#
# The paper also averages the (unnormalised) maps over its test sequences and then divides by
# the maximum, one map per layer. Below: that average for every convolution layer, each with
# its colour bar. Then, at the first and the last layer, where the maps put their weight: the
# share of every promoter's absolute map (red and blue alike) that falls in the 80-nt variable
# region (0-based 17–96), which holds 73% of the positions, over all the held-out promoters.

# %%
average = {f"layer {layer}": gradcam.normalize_by_max(
    m.mean(0, keepdim=True))[0].numpy() for layer, m in raw.items()}
base_map_stack(average, row_height=0.95)
plt.show()
share = {layer: gradcam.region_share_interval(raw[layer].numpy(), **boot)
         for layer in (layers[0], layers[-1])}
region = {layer: gradcam.region_verdict(s, f"layer {layer}")
          for layer, s in share.items()}

# %% tags=["remove-input"]
display(Markdown("Share of the absolute maps in the variable region: "
                 + "; ".join(f"{explain_stats.stated(v)}, so **{v}**"
                             for v in region.values()) + "."))

# %% [markdown]
# ## Grad-CAM beside captum's attributions
#
# Integrated Gradients (all-zero baseline, 32 steps), DeepLift (zero baseline) and Saliency
# (absolute gradient), each taken at the base actually present (the map times the one-hot
# input, summed over bases), beside the first layer's Grad-CAM. First the four profiles of
# the high expressor; then, for every held-out promoter, the Pearson r of each method's
# profile with Grad-CAM's, and their mean with its interval.

# %%
maps = {"Grad-CAM": raw[layers[0]]} | attr.attribution_maps(model, X, encoding)
profiles = {n: attr.present_base_profiles(m, X) for n, m in maps.items()}
profile_bars(attr.position_profiles({n: m[high] for n, m in maps.items()},
                                    X[high]))
plt.show()
agreement = attr.agreement_table(profiles, "Grad-CAM", **boot)
verdicts, best, closest = attr.agreement_verdicts(agreement)
agreement_strips({n: attr.rowwise_pearson(profiles["Grad-CAM"], p)
                  for n, p in profiles.items() if n != "Grad-CAM"}, agreement)
plt.show()

# %% tags=["remove-input"]
display(Markdown(attr.agreement_summary(agreement, verdicts, best)))

# %% [markdown]
# The intervals on this page cover the sampling of promoters. They do not cover the training of
# the model: the same recipe trained again (another seed, or the same seed on a CPU with other
# vector instructions, whose sums round differently) gives a model whose averages move by more
# than these intervals, although the verdicts stay the same. The numbers describe this trained
# model; the verdicts are what the book concludes.

# %%
keys = attr.agreement_keys(verdicts) | {
    "variable_share_first_layer": region[layers[0]],
    "variable_share_last_layer": region[layers[-1]]}
facts = {}
for key, v in keys.items():
    facts |= report.facts(key, verdict=v)
report.record(results_dir, preset, "gradcam", model=info["model"],
              n_sequences=len(sample), closest_to_gradcam=closest, **facts,
              seconds=round(time.perf_counter() - started, 1))
