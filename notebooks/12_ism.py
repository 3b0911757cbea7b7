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
# from chapter 03_training, on held-out promoters; the line below says which. The book's model
# is a small-data model: **its effects are small-data results**. Every number below carries a
# 95% interval from a bootstrap that resamples promoters (by similarity unit), never single
# substitutions of one promoter, and every sentence that concludes is chosen from those
# intervals by a tested function.

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

from camformer import book, data, explain_stats, gc_content, inference, ism
from camformer import plot_interpret, report

started = time.perf_counter()
torch.set_num_threads(2)
plt.rcParams["figure.dpi"] = 120
model, info = book.explained_model(results_dir, preset, prefer=explain)
display(Markdown(book.describe_model(info)))
encoding = inference.model_encoding(model)
n_sequences = {"smoke": 4, "quick": 32}.get(preset, 2000)
sample = book.heldout_sample(info, n_sequences, seed)
measured = sample["expression"].to_numpy()
ids = sample["id"].to_numpy()
unit = explain_stats.test_set_units(ids)
boot = {"groups": unit, "n_boot": n_boot, "seed": seed}
codes = data.encode_sequences(sample["seq"].tolist())
reference = inference.predict(model, codes, encoding)
# the same numbers either way; the receptive-field method is faster on big
# models
explain_ism = ism.ism_receptive_field if info["published"] else ism.ism
delta = explain_ism(model, codes, positions=None, encoding=encoding,
                    batch_size=512).numpy()  # all 110 positions

# %% tags=["remove-input"]
display(Markdown(
    f"ISM of **{len(ids)}** held-out promoters at all 110 positions "
    f"({delta.shape[0] * 330:,} mutants, model: {model.config.architecture}, "
    f"encoding {encoding}) took {time.perf_counter() - started:.0f} s."))

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
examples, n_active = ism.logo_examples(delta, reference)
titles = [f"test id {ids[i]}: predicted {reference[i]:.2f}, "
          f"measured {measured[i]:.2f}" for i in examples]
plot_interpret.logo_stack([ism.pssm(delta[i]) for i in examples], titles)
plt.show()
seqs = data.decode(codes[examples])

# %% tags=["remove-input"]
display(Markdown(
    ("**No substitution changes any prediction of this model on these "
     "promoters**: it is constant on them, so its logos are empty. "
     if n_active == 0 else "")
    + f"Variable region of the high example: `{seqs[0][17:97]}`; of the low "
    f"example: `{seqs[1][17:97]}`. On {len(ids) - n_active} of the {len(ids)}"
    " promoters no substitution changes the prediction at all."))

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
effects = ism.mutant_table(delta, codes, positions=range(110))
per_position = effects.groupby("position")["delta"].apply(
    lambda d: d.abs().mean())
inside = effects["position"].between(17, 96)
plot_interpret.effect_spread(effects.loc[inside, "delta"], per_position)
plt.show()
flanks = ism.flank_ratio(effects, **boot)
display(flanks.round(4))
flank_verdict = ism.flank_verdict(flanks)
stated = explain_stats.stated

# %% tags=["remove-input"]
display(Markdown("Mean $|\\Delta E|$ in the variable region over that in the "
                 "flanks (each averaged over promoters): "
                 f"{stated(flank_verdict, 1)}, so **{flank_verdict}**."))

# %% [markdown]
# ## GC content (Figure S12)
#
# The paper's Figure S12 plots the `Expr` column of its published data
# (`paper/GC_content_nt_effect_snv_test10k.csv`) against GC content, under the label
# "Predicted expression". Each of its rows can be looked up in the DREAM test table
# (`camformer.gc_content.match_paper_gc_table`): the check below says how many have a test
# sequence with the same GC content whose *measured* expression equals `Expr`. Where all do,
# the label is an erratum of the paper: the figure shows measured expression. So the panels
# compare like with like: the paper's data as what they are (measured); the paper's own
# Camformer's *published predictions* for the same sequences; and this book's model's
# predictions for all its held-out promoters, beside the measured expression of the same
# promoters. Last, the question asked with ISM, which changes one base and nothing else: the
# mean $\Delta E$ of the substitutions in the variable region that add a G or C, keep the GC
# content, or remove one.

# %%
s12 = gc_content.compare_s12(info["predictions"], info["model"], n_boot=n_boot,
                             seed=seed)
by_class = ism.gc_change_effects(effects, **boot)
gc_ism = ism.gc_change_verdicts(by_class)
plot_interpret.gc_content_panels(
    s12.panels, by_class,
    bar_title=f"ISM: changing GC content ({len(ids)} promoters)")
plt.show()

# %% tags=["remove-input"]
display(Markdown(s12.summary() + "".join(
    f" In the ISM, {v} ({stated(v, 4)})." for v in gc_ism.values())))

# %%
verdicts = {"variable_to_flank_ratio": flank_verdict, **s12.verdict_keys(),
            "gc_gain_mean_delta": gc_ism["A/T → G/C"],
            "gc_loss_mean_delta": gc_ism["G/C → A/T"]}
facts = {}
for key, v in verdicts.items():
    facts |= report.facts(key, verdict=v)
report.record(
    results_dir, preset, "ism", model=info["model"], n_sequences=len(ids),
    **s12.facts(), **facts, seconds=round(time.perf_counter() - started, 1))

# %% tags=["remove-input"]
display(Markdown(f"This chapter ran in {time.perf_counter() - started:.0f} s."))
