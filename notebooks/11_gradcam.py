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
# map with one row per base (A, C, G, T) and one column per position. `camformer.explain.gradcam`
# computes it for any model and any convolution layer; `camformer.explain.attribution` gives captum's
# Integrated Gradients, DeepLift and Saliency through one function for comparison.
#
# The models explained are the paper's own Camformer Original where its published weights can be
# fetched (`camformer.records.book.explaining`), and otherwise the book's own seed ensemble from chapter
# 03_training (models of one recipe that differ only in their seed), on held-out promoters; the
# line below says which. The book's models are small-data models, **so their maps are
# small-data results**.
#
# One map of one promoter is fragile: how well two methods' maps of a single promoter agree
# varies widely from promoter to promoter (the strip plot below shows it), and moves when the
# model is trained again. So every number below is, for each model, an average over many
# held-out promoters, with a 95% interval from a bootstrap that resamples them by similarity
# unit (`camformer.stats.bootstrap.test_set_units`); every sentence that concludes is chosen from
# those intervals by a tested function, and, for an ensemble, only where every model reaches it.

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
from IPython.display import Markdown, display

from camformer.explain import attribution as attr, gradcam
from camformer.records import book, report
from camformer.stats import ensemble
from camformer.plots.plot_interpret import (
    agreement_strips, base_map_stack, profile_bars)

started = time.perf_counter()
n_sequences = {"smoke": 8, "quick": 300}.get(preset, 2000)
# several models: fewer promoters each, so k models cost about 1.5 times one
ensemble_n = {"quick": 160}.get(preset)
# quick: at most 1.25e11 multiply-accumulates of forward passes per model (the
# book's model: all its promoters; the published Original: 101)
macs_budget = {"quick": 1.25e11}.get(preset)
ex = book.explaining(results_dir, preset, prefer=explain, n=n_sequences,
                     seed=seed, n_boot=n_boot, macs_budget=macs_budget,
                     ensemble_n=ensemble_n)
display(Markdown(ex.markdown()))
per_model = ex.each_model(gradcam.findings, ex.codes, ex.boot, per_model=[
    {"every_layer": i == 0} for i in range(len(ex.models))])
first = per_model[0]
layers, raw, measured = first.layers, first.maps, ex.measured

# %% tags=["remove-input"]
display(Markdown(
    f"{len(ex.sample)} held-out promoters ({len(set(ex.units))} similarity "
    f"units); the model ({ex.models[0].config.architecture}, "
    f"{first.encoding}) has {len(layers)} convolution layers: "
    f"{', '.join(f'`{n}`' for n in layers)}. Maps of an encoding with a "
    "purine channel are folded onto the base present "
    "(`camformer.explain.attribution.fold_channels`), so they show all the model's "
    f"input. The figures show {ex.labels[0]}"
    + (f", the first of the {len(ex.models)} models." if len(ex.models) > 1
       else ".")
    + " " + ex.sizing()))

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
# its colour bar. Where the maps put their weight at the first and the last layer is in the
# table at the end: the share of every promoter's absolute map (red and blue alike) that falls
# in the 80-nt variable region (0-based 17–96), which holds 73% of the positions, over all the
# held-out promoters.

# %%
average = {f"layer {layer}": gradcam.normalize_by_max(
    m.mean(0, keepdim=True))[0].numpy() for layer, m in raw.items()}
base_map_stack(average, row_height=0.95)
plt.show()

# %% [markdown]
# ## Grad-CAM beside captum's attributions
#
# Integrated Gradients (all-zero baseline, 32 steps), DeepLift (zero baseline) and Saliency
# (absolute gradient), each taken at the base actually present (the map times the one-hot
# input, summed over bases), beside the first layer's Grad-CAM. First the four profiles of
# the high expressor; then, for every held-out promoter, the Pearson r of each method's
# profile with Grad-CAM's, and their mean with its interval over the promoters. Pearson r weighs
# the few positions with large values, which is what the eye compares in the profiles.

# %%
maps, profiles = first.attributions, first.profiles
profile_bars(attr.position_profiles({n: m[high] for n, m in maps.items()},
                                    first.X[high]))
plt.show()
agreement_strips({n: attr.rowwise_pearson(profiles["Grad-CAM"], p)
                  for n, p in profiles.items() if n != "Grad-CAM"},
                 first.agreement)
plt.show()

# %% [markdown]
# ## Conclusions, model by model
#
# One trained model's averages are evidence about that model: the same recipe trained from
# another seed, or from the same seed on a CPU whose vector instructions round sums
# differently, gives another model, whose averages can move by more than the intervals over
# promoters. So every model explained is asked each question on its own, with its own interval
# over the promoters, and a conclusion is stated only where all of them reach it
# (`camformer.stats.ensemble`); elsewhere it is undecided. The table gives each model's value, their
# mean with a 95% interval between the models, and how many models reach the verdict. With one
# fixed model (the paper's published one) the interval is over the promoters and the verdict is
# that model's.

# %%
combined = ensemble.combine([f.verdicts for f in per_model], ex.labels,
                           ranges=gradcam.RANGES)
closest, agreeing = ensemble.consensus([f.closest for f in per_model])
ensemble.table(combined, gradcam.FINDING_NAMES)

# %% tags=["remove-input"]
display(Markdown(gradcam.summary(combined, per_model, len(ex.sample))))

# %%
report.record(results_dir, preset, "gradcam", model=ex.info["model"],
              models=len(ex.models), n_sequences=len(ex.sample),
              closest_to_gradcam=closest,
              closest_to_gradcam_agreeing_models=f"{agreeing} of "
              f"{len(ex.models)}", **ensemble.facts(combined),
              seconds=round(time.perf_counter() - started, 1))
