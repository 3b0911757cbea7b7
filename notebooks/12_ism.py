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
# # In-silico mutagenesis
#
# In-silico mutagenesis (ISM) asks the model directly what each nucleotide is worth: every
# position of a promoter is changed to each of the three other bases, and the change of the
# predicted expression, $\Delta E$ = prediction(mutant) − prediction(reference), is recorded.
# The paper draws it as a sequence logo of $\Delta E / 3$ (so that the letters of one column
# add up to the mean effect of the three substitutions) over the 80 variable positions
# (0-based 17–96). `camformer.ism.ism` builds all mutants of many sequences on the device and
# predicts them in large batches; it is exact against a one-mutant-at-a-time loop (tested to
# 1e-5), and `benchmarks/bench_ism.py` times it against that loop and against tangermeme.
#
# The model explained is the paper's own Camformer Original where its published weights can be
# fetched (`camformer.book.explained_model`; ISM then uses the receptive-field method, which
# recomputes only the positions a substitution can reach), and otherwise the book's own model
# from chapter 03_training, on promoters it did not train on; the line below says which. The
# book's model is a small-data model: **its effects are small-data results**.

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

from camformer import book, data, inference, ism, metrics, plot_interpret, report

started = time.perf_counter()
torch.set_num_threads(2)
model, info = book.explained_model(results_dir, preset, prefer=explain)
display(Markdown(book.describe_model(info)))
heldout = info["predictions"]  # ids the model never trained on, and its predictions for them
encoding = inference.model_encoding(model)
n_sequences = 32 if preset == "quick" else 2000

table = data.load_test_table().set_index("id")
sample = book.heldout_sample(info, n_sequences, seed)
ids = sample["id"].to_numpy()
codes = data.encode_sequences(sample["seq"].tolist())
reference = inference.predict(model, codes, encoding)
# the same numbers either way; the receptive-field method is faster on big models
explain_ism = ism.ism_receptive_field if info["published"] else ism.ism
delta = explain_ism(model, codes, positions=None, encoding=encoding, batch_size=512).numpy()  # all 110 positions
display(Markdown(
    f"ISM of **{len(ids)}** held-out promoters at all 110 positions ({delta.shape[0] * 330:,} mutants, "
    f"model: {model.config.architecture}, encoding {encoding}) took {time.perf_counter() - started:.0f} s."
))

# %% [markdown]
# ## Sequence logos
#
# The logos below are the paper's ISM plots for the promoters with the highest and the lowest
# predicted expression in the sample (among those where some substitution matters): letters above the line are substitutions that would
# raise the prediction, faded letters below it lower it. The grey bands are the constant
# plasmid flanks (positions 0–16 and 97–109), which the paper leaves out.

# %%
# a promoter on which no substitution changes the prediction makes an empty logo: pick among the others
examples, n_active = ism.logo_examples(delta, reference)
if n_active == 0:  # undefined, not an error: say so and show the empty logos
    display(Markdown("**No substitution changes any prediction of this model on these promoters**: "
                     "it is constant on them, so its logos are empty."))
titles = [f"test id {ids[i]}: predicted {reference[i]:.2f}, measured {table.loc[ids[i], 'expression']:.2f}"
          for i in examples]
plot_interpret.logo_stack([ism.pssm(delta[i]) for i in examples], titles)
plt.show()
seqs = data.decode(codes[examples])
display(Markdown(
    f"Variable region of the high example: `{seqs[0][17:97]}`; of the low example: `{seqs[1][17:97]}`. "
    f"On {len(ids) - n_active} of the {len(ids)} promoters no substitution changes the prediction at all."
))

# %% [markdown]
# ## The spread of variant effects
#
# Most substitutions barely move the prediction; a few move it a lot. Left: the distribution
# of $\Delta E$ over every substitution in the variable region. Right: the mean $|\Delta E|$ at
# each position, over all sequences and substitutions: the model should care about the
# variable region and much less about the constant flanks, which are the same in every
# training sequence and so carry no information about expression.

# %%
effects = ism.mutant_table(delta, codes, positions=range(110))
spread = ism.effect_spread_summary(effects, reference)
per_position = effects.groupby("position")["delta"].apply(lambda d: d.abs().mean())
plot_interpret.effect_spread(effects.loc[effects["position"].between(17, 96), "delta"], per_position)
plt.show()
display(Markdown(
    f"Over {spread['n_variable']:,} substitutions in the variable region the mean $|\\Delta E|$ is "
    f"**{spread['mean_abs_variable']:.4f}**, against **{spread['mean_abs_flanks']:.4f}** in the flanks "
    f"(ratio {spread['mean_abs_variable'] / spread['mean_abs_flanks']:.1f}); the largest single effect is "
    f"{spread['max_abs']:.3f}, and {100 * spread['share_above_tenth_sd']:.1f}% of "
    f"variable-region substitutions move the prediction by more than a tenth of the spread of "
    f"the reference predictions (s.d. {spread['reference_sd']:.3f})."
))

# %% [markdown]
# ## GC content (Figure S12)
#
# The paper's Figure S12 plots predicted expression against GC content for 10,000 test
# sequences. Left: the paper's published data (`paper/GC_content_nt_effect_snv_test10k.csv`,
# the paper's Camformer; it cannot be recomputed here without the paper's trained model).
# Middle: the same plot for this book's model, on all the held-out promoters of chapter
# 03_training. Right: the question asked with ISM, which changes one base and nothing else:
# the mean $\Delta E$ of the substitutions in the variable region that add a G or C
# (A/T → G/C), that keep the GC content (A↔T, C↔G), and that remove one (G/C → A/T).

# %%
published = data.load_paper_table("GC_content_nt_effect_snv_test10k.csv")
gc_col, expr_col = published.columns[:2]
heldout_gc = 100 * np.isin(data.encode_sequences(table.loc[heldout["id"], "seq"].tolist()), [1, 2]).mean(1)
heldout_pred = heldout["prediction"].to_numpy()
by_class = ism.gc_change_effects(effects)
axes = plot_interpret.gc_content_panels(
    {"paper's Camformer (published data)": (published[gc_col], published[expr_col]),
     f"{info['model']}, held-out promoters": (heldout_gc, heldout_pred)},
    by_class, bar_title=f"ISM: changing GC content ({len(ids)} promoters)")
axes[1].title.set_fontsize(9)  # the model's name can be long
plt.show()

r_paper, rho_paper = (metrics.pearson_r(published[gc_col], published[expr_col]),
                      metrics.spearman_rho(published[gc_col], published[expr_col]))
r_book, rho_book = (metrics.pearson_r(heldout_gc, heldout_pred), metrics.spearman_rho(heldout_gc, heldout_pred))
display(Markdown(
    f"In the paper's published data (n = {len(published):,}) GC content and predicted expression "
    f"correlate with r = {r_paper:.3f} (ρ = {rho_paper:.3f}). For {info['model']}, over "
    f"{len(heldout_gc):,} held-out promoters, r = {r_book:.3f} (ρ = {rho_book:.3f}). In the ISM, adding "
    f"a G or C changes the prediction by {by_class.loc['A/T → G/C', 'mean']:+.4f} on average and "
    f"removing one by {by_class.loc['G/C → A/T', 'mean']:+.4f} (substitutions that keep the GC "
    f"content: {by_class.loc['GC kept', 'mean']:+.4f})."
))

# %%
report.record(
    results_dir, preset, "ism", model=info["model"], n_sequences=len(ids), seconds=round(time.perf_counter() - started, 1),
    mean_abs_delta_variable=spread["mean_abs_variable"], mean_abs_delta_flanks=spread["mean_abs_flanks"],
    gc_pearson_model=report.defined_or(float(r_book), "its held-out predictions are constant"), gc_pearson_paper_data=float(r_paper),
    gc_gain_mean_delta=report.defined_or(float(by_class.loc["A/T → G/C", "mean"]), "no such substitution"),
    gc_loss_mean_delta=report.defined_or(float(by_class.loc["G/C → A/T", "mean"]), "no such substitution"))
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
