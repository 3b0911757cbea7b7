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
# (0-based 17–96). `camformer.explain.ism.ism` builds all mutants of many sequences on the device and
# predicts them in large batches; it is exact against a one-mutant-at-a-time loop (tested to
# 1e-5), and `benchmarks/bench_ism.py` times it against that loop and against tangermeme.
#
# The ISM here uses the receptive-field method (`camformer.explain.ism.ism_receptive_field`), which
# recomputes only the positions a substitution can reach: the same numbers, in about half the
# time on a CPU. The model explained is the paper's own Camformer Original where its published
# weights can be fetched (`camformer.records.book.explained_models`), and otherwise the book's seed
# ensemble from chapter 03_training, on held-out promoters; the line below says which. Each
# model is mutated on the same promoters and answers every question on its own, with a 95%
# interval from a bootstrap that resamples promoters (by similarity unit), never single
# substitutions of one promoter. For several models, a number is their mean with a 95%
# interval between the models, and a conclusion is stated only where every model reaches it;
# every sentence that concludes is chosen from those numbers by a tested function. The book's
# models are small-data models: **their effects are small-data results**.

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

from camformer.data import dream
from camformer.explain import gc_content, ism
from camformer.plots import plot_interpret
from camformer.records import book, report
from camformer.stats import ensemble, explain_stats

started = time.perf_counter()
n_sequences = {"smoke": 4, "quick": 32}.get(preset, 2000)
ex = book.explaining(results_dir, preset, prefer=explain, n=n_sequences,
                     seed=seed, n_boot=n_boot)
display(Markdown(ex.markdown()))
# every position of every promoter, for each model
per_model = ex.each_model(ism.findings, ex.codes, **ex.boot, batch_size=512)
first, ids, k = per_model[0], ex.sample["id"].to_numpy(), len(ex.models)
s12 = gc_content.compare_s12(ex.info["predictions"], ex.info["model"],
                             labels=ex.labels, n_boot=n_boot, seed=seed)
combined = ensemble.combine(
    [f.verdicts | g for f, g in zip(per_model, s12.model_verdicts())],
    ex.labels, ranges=ism.RANGES | s12.RANGES)
names = {"variable_to_flank_ratio": "mean |ΔE|: variable region / flanks",
         "gc_pearson_predicted_model": "r of GC content and prediction",
         "gc_gain_mean_delta": "mean ΔE of adding a G or C",
         "gc_loss_mean_delta": "mean ΔE of removing a G or C"}

# %% tags=["remove-input"]
display(Markdown(
    f"ISM of **{len(ids)}** held-out promoters at all 110 positions "
    f"({first.delta.shape[0] * 330:,} mutants per model, model: "
    f"{ex.models[0].config.architecture}, encoding {first.encoding}; {k} "
    f"model{'s' if k > 1 else ''}: {', '.join(ex.labels)}) took "
    f"{time.perf_counter() - started:.0f} s."
    + (f" The figures show the first model, {ex.labels[0]}; the tables give "
       "every model's numbers." if k > 1 else "")))

# %% [markdown]
# ## Sequence logos
#
# The logos below are the paper's ISM plots for the promoters with the highest and the lowest
# predicted expression in the sample (among those where some substitution matters): letters
# above the line are substitutions that would raise the prediction, faded letters below it
# lower it. The grey bands are the constant plasmid flanks (positions 0–16 and 97–109), which
# the paper leaves out.

# %%
# a promoter on which no substitution changes the prediction has an empty logo
examples, n_active = ism.logo_examples(first.delta, first.reference)
titles = [f"{ex.labels[0]}, test id {ids[i]}: predicted "
          f"{first.reference[i]:.2f}, measured {ex.measured[i]:.2f}"
          for i in examples]
plot_interpret.logo_stack([ism.pssm(first.delta[i]) for i in examples],
                          titles)
plt.show()
seqs = dream.decode(ex.codes[examples])

# %% tags=["remove-input"]
display(Markdown(
    ("**No substitution changes any prediction of this model on these "
     "promoters**: it is constant on them, so its logos are empty. "
     if n_active == 0 else "")
    + f"Variable region of the high example: `{seqs[0][17:97]}`; of the low "
    f"example: `{seqs[1][17:97]}`. On {len(ids) - n_active} of the {len(ids)}"
    f" promoters no substitution changes {ex.labels[0]}'s prediction at all."))

# %% [markdown]
# ## The spread of variant effects
#
# Most substitutions barely move the prediction; a few move it a lot. Left: the distribution
# of $\Delta E$ over every substitution in the variable region. Right: the mean $|\Delta E|$ at
# each position, over all sequences and substitutions. The constant flanks are the same in
# every training sequence, so they carry no information about expression; does the model
# respond less to them? The table compares each promoter's mean $|\Delta E|$ in the variable
# region with that in the flanks, averaged over promoters.

# %%
effects = first.effects
per_position = effects.groupby("position")["delta"].apply(
    lambda d: d.abs().mean())
inside = effects["position"].between(17, 96)
plot_interpret.effect_spread(effects.loc[inside, "delta"], per_position)
plt.show()
display(first.flanks.round(4))
display(ensemble.table({"variable_to_flank_ratio":
                        combined["variable_to_flank_ratio"]}, names))

# %% tags=["remove-input"]
stated = explain_stats.stated
over = (f", averaged over the {k} models with the interval between them"
        if k > 1 else "")
flank = combined["variable_to_flank_ratio"]
display(Markdown("Mean $|\\Delta E|$ in the variable region over that in the "
                 f"flanks (each averaged over promoters){over}: "
                 f"{stated(flank.verdict, 1)}, so **{flank.stated()}**."))

# %% [markdown]
# ## GC content (Figure S12)
#
# The paper's Figure S12 plots the `Expr` column of its published data
# (`paper/GC_content_nt_effect_snv_test10k.csv`) against GC content, under the label
# "Predicted expression". Each of its rows can be looked up in the DREAM test table
# (`camformer.explain.gc_content.match_paper_gc_table`): the check below says how many have a test
# sequence with the same GC content whose *measured* expression equals `Expr`. Where all do,
# the label is an erratum of the paper: the figure shows measured expression. So the panels
# compare like with like: the paper's data as what they are (measured); the paper's own
# Camformer's *published predictions* for the same sequences; and the explained model's
# predictions for all its held-out promoters (for an ensemble, the first model's are drawn and
# every model's are judged), beside the measured expression of the same promoters. Last, the question asked with ISM, which changes one base and nothing else: the
# mean $\Delta E$ of the substitutions in the variable region that add a G or C, keep the GC
# content, or remove one.

# %%
plot_interpret.gc_content_panels(
    s12.panels, first.by_class,
    bar_title=f"ISM of {ex.labels[0]}: changing GC content "
              f"({len(ids)} promoters)")
plt.show()
gc_keys = ["gc_pearson_predicted_model", "gc_gain_mean_delta",
           "gc_loss_mean_delta"]
display(ensemble.table({key: combined[key] for key in gc_keys}, names))

# %% tags=["remove-input"]
display(Markdown(s12.summary() + "".join(
    f" In the ISM, **{combined[key].stated()}** (mean $\\Delta E$ "
    f"{stated(combined[key].verdict, 4)}{over})." for key in gc_keys[1:])))

# %%
facts = {}
for key, v in s12.verdict_keys().items():  # the data's: once
    facts |= report.facts(key, verdict=v)
report.record(
    results_dir, preset, "ism", model=ex.info["model"], models=k,
    n_sequences=len(ids), **s12.facts(), **facts, **ensemble.facts(combined),
    seconds=round(time.perf_counter() - started, 1))

# %% tags=["remove-input"]
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
