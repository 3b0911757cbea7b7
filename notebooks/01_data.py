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
# # The data
#
# Camformer was trained on the random promoters of the Random Promoter DREAM Challenge 2022:
# 6.7 million 80-nt random sequences, embedded in constant plasmid flanks to 110 nt, each with
# an expression value measured in yeast on a 0–17 scale. It was scored on a separate test
# library of 71,103 designed sequences: random promoters, native yeast promoters, sequences at
# the extremes of expression, and variant pairs (single-nucleotide variants, motif
# perturbations and motif tilings).
#
# This chapter reads the data with `camformer.data.dream`, shows what the validation and the paper's
# filters do, and draws the distributions of the paper's Figure 1b.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
train_file = ""

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. camformer asks for
# compatible ranges, so Colab's own torch, numpy and pandas are kept and only what it lacks is added.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/camformer/camformer"],
                   check=True)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from camformer.data import dream
from camformer.records import report
from camformer.stats import metrics

plt.rcParams["figure.dpi"] = 130  # sized for the column; dpi for screens

# %% [markdown]
# ## The training data
#
# On the `quick` preset this chapter reads the 1,000 training sequences that ship with the
# package (a sample of the challenge's training file, copied from the Camformer repository);
# on the `paper` preset it reads the full file, fetched once with `camformer data fetch`.
# Rows with more than 3 N or a length outside 110 ± 3 are dropped, as in the paper; the
# others are padded at the 3′ end with N or cut to 110 nt. Every drop is counted.
# The histogram is the paper's Figure 1b: bins of 0.2 units, fine enough to show the spikes at
# whole numbers (the values of sequences measured in only a few cells are integers).

# %%
if train_file:
    source = train_file
elif preset == "paper":
    from camformer.data import fetch

    source = fetch.fetch_file(fetch.TRAIN_FILE)
else:
    source = dream.resource_path("dream2022_train_sample1000.txt")
train, drops = dream.read_dream_txt(source, progress=preset == "paper")
print(drops)

# %%
counts = pd.Series(drops.length_counts).sort_index()
fig, ax = plt.subplots(figsize=(7, 3))
bins = np.arange(-0.1, 17.35, 0.2)  # each whole number in the middle of a bin
ax.hist([train.targets[~train.real_valued], train.targets[train.real_valued]],
        bins=bins, stacked=True, color=["0.35", "tab:orange"],
        label=["whole-number value", "real value"])
ax.set_xticks(range(0, 18))
ax.set_xlim(bins[0], bins[-1])
ax.set_xlabel("measured expression (training scale, 0–17)")
ax.set_ylabel("sequences")
ax.legend(frameon=False)
sample = " (bundled sample)" if preset != "paper" else ""
ax.set_title(f"Figure 1b: training data, n = {len(train):,}{sample}")
plt.tight_layout()
plt.show()

# %%
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.bar(counts.index, counts.values, color="0.4")
ax.axvspan(110 - 3.5, 110 + 3.5, color="tab:green", alpha=0.15,
           label="kept: 110 ± 3")
ax.set_yscale("log")
ax.set_xlabel("sequence length in the file (nt)")
ax.set_ylabel("sequences")
ax.legend(frameon=False)
plt.tight_layout()
plt.show()

# %%
share_real = train.real_valued.mean()
report.record(results_dir, preset, "data", train_rows=drops.lines,
              train_kept=drops.kept, train_dropped=drops.dropped,
              train_real_valued_share=float(share_real))

# %% tags=["remove-input"]
display(Markdown(
    f"Of the {drops.lines:,} rows read, {drops.kept:,} pass the filters "
    f"({drops.too_many_n:,} have more than 3 N, {drops.bad_length:,} a length "
    f"outside 110 ± 3). {share_real:.1%} of the kept values are not whole "
    "numbers; the paper's `Int` encodings give the model this flag as an extra "
    "input channel (set to 1 for every test sequence)."
))

# %% [markdown]
# ## The test set
#
# The official test set ships with the package: 71,103 sequences with their measured
# expression (on the test scale, which differs from the training scale), the official subset
# labels, and the 9,045 ids of the public leaderboard, which the final (private) scoring
# leaves out. The table counts each subset in full and as the private leaderboard scores it.

# %%
table = dream.load_test_table()
pairs = dream.load_test_pairs()
members = dream.subset_membership(table)
single = ["high", "low", "yeast", "random", "challenging"]
sizes = metrics.subset_sizes(table, pairs)
sizes

# %%
lengths_test = table["seq"].str.len()
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2), width_ratios=[1.3, 1])
expression = table["expression"]
bins = np.linspace(expression.min(), expression.max(), 60)
for name, colour in zip(single, plt.cm.tab10.colors):
    axes[0].hist(expression[members[name].to_numpy()], bins=bins, lw=1.5,
                 histtype="step", color=colour, label=name, density=True)
axes[0].set_xlabel("measured expression (test scale)")
axes[0].set_ylabel("density")
axes[0].legend(frameon=False, fontsize=8)
axes[1].barh(sizes["subset"], sizes["scored (private)"],
             color=["0.3"] * 6 + ["tab:orange"] * 3)
axes[1].set_xscale("log")
axes[1].invert_yaxis()
axes[1].set_xlabel("scored (private)")
axes[1].tick_params(axis="y", labelsize=8)
axes[1].set_title("sequences (grey), variant pairs (orange)", fontsize=8)
plt.tight_layout()
plt.show()

# %%
medians = {name: table.loc[members[name].to_numpy(), "expression"].median()
           for name in single}
shortest, longest = lengths_test.min(), lengths_test.max()
report.record(results_dir, preset, "data", test_sequences=len(table),
              test_private=int(sizes["scored (private)"][0]))

# %% tags=["remove-input"]
length_words = (f"are all {shortest} nt long" if shortest == longest
                else f"are between {shortest} and {longest} nt long")
display(Markdown(
    f"The {len(table):,} test sequences {length_words}. The high and low "
    "subsets were chosen for extreme expression: their medians are "
    f"{medians['high']:.2f} and {medians['low']:.2f}, against "
    f"{medians['random']:.2f} for the random promoters. The SNV pairs "
    f"({int((pairs['subset'] == 'SNVs').sum()):,}) carry the largest weight in "
    "the challenge's score (1.25); the private SNV pairs are partly "
    "reconstructed (see `camformer/resources/SOURCE.md`), the other subsets "
    "are the official ones."
))
