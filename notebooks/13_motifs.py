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
# # The motif hierarchy
#
# The paper's Figure 8 scans promoters for JASPAR 2024 fungal motifs with FIMO (p < 1e-4) and
# shows the mean expression of the sequences that contain each motif and each pair of motifs,
# measured and predicted. The paper reports a hierarchy: IME1 raises expression, but IME1
# together with UME6 lowers it. This chapter repeats the analysis on the measured DREAM test
# library (71,103 sequences, bundled), sets the paper's own published pair means of its
# training data beside it, and asks the same question of two models: the paper's Camformer
# (through its published test-set predictions) and this book's model.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10
n_backgrounds = 300
seed = 42

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
import seaborn as sns
import torch
from IPython.display import Markdown, display

from camformer import motifs as M
from camformer.data import (encode_sequences, load_paper_table, load_published_predictions, load_test_pairs,
                            load_test_table, variant_families)
from camformer.report import record
from camformer.train import load_book_model, model_encoding

started = time.perf_counter()
torch.set_num_threads(2)
model, heldout = load_book_model(results_dir, preset)

# %% [markdown]
# ## Scanning the test library
#
# The paper ran FIMO 5.5.7 (`fimo --thresh 1e-4`, default options) on every test sequence
# without its constant plasmid flanks, that is on the 80-nt random region (positions 17–96),
# and a sequence "contains" a motif when it has at least one hit on either strand
# (`analysis/FIMO` in the paper's repository). `camformer.motifs.scan` implements FIMO's scores
# and exact p-values; on these sequences it reproduces the paper's FIMO hits for IME1 and UME6
# (tested in `tests/test_motifs.py`). The motifs are the 19 of the paper's Figure 8, taken from
# its published data (`combinations.train.fc.txt`), read from JASPAR 2024 offline with pyjaspar.

# %%
paper_pairs = load_paper_table("combinations.train.fc.txt", sep="\t")
names = list(dict.fromkeys(paper_pairs["Motif1"]))
motifs = M.jaspar_motifs(ids=names)
short = {name: name.split(".")[-1] for name in names}
IME1, UME6, REB1 = (next(n for n in names if n.endswith(s)) for s in (".IME1", ".UME6", ".REB1"))

table = load_test_table()
codes = encode_sequences(table["seq"].tolist())[:, M.RANDOM_REGION]
t0 = time.perf_counter()
hits = M.scan(codes, motifs, threshold=1e-4)
scan_seconds = time.perf_counter() - t0
presence = M.presence_matrix(hits, len(table), names)
counts = pd.DataFrame({
    "motif": names,
    "consensus": [M.consensus(motifs[n]) for n in names],
    "hits": hits["motif"].value_counts().reindex(names, fill_value=0).to_numpy(),
    "sequences": presence.sum().to_numpy(),
})
display(Markdown(f"Scanned {len(table):,} sequences × {len(names)} motifs × 2 strands in "
                 f"{scan_seconds:.1f} s: {len(hits):,} hits."))
counts

# %% [markdown]
# ## Measured pair means, beside the paper's
#
# Left: the measured expression of the test sequences containing each motif (diagonal) and each
# pair (off the diagonal), on the test library's scale; cells with fewer than `min_n` sequences
# are blank. Right: the paper's published means for its *training* data (the same statistic
# on the 0–17 training scale; `combinations.train.fc.txt`), which cannot be recomputed here
# without the 6.7M training sequences. Both are ordered by the paper's diagonal, highest first.

# %%
measured = M.pair_effects(presence, table["expression"].to_numpy(), names)
paper_effects = paper_pairs.rename(columns={"Motif1": "motif1", "Motif2": "motif2", "N": "n"})
paper_real = M.pair_matrix(paper_effects, "Mean_real", names)
order = list(pd.Series(np.diag(paper_real), index=names).sort_values(ascending=False).index)
labels = [short[n] for n in order]
measured_mean = M.pair_matrix(measured, "mean", order)
measured_n = M.pair_matrix(measured, "n", order)

fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
sns.heatmap(measured_mean.where(measured_n >= min_n), ax=axes[0], cmap="inferno", square=True,
            xticklabels=labels, yticklabels=labels, cbar_kws={"label": "mean measured expression (test scale)"})
axes[0].set_title("DREAM test library, measured")
sns.heatmap(paper_real.loc[order, order], ax=axes[1], cmap="inferno", square=True,
            xticklabels=labels, yticklabels=labels, cbar_kws={"label": "mean measured expression (0-17)"})
axes[1].set_title("Paper: training data, measured (published)")
plt.tight_layout()
plt.show()

diag = pd.DataFrame({
    "n_test": np.diag(measured_n), "mean_test": np.diag(measured_mean),
    "n_paper_train": np.diag(M.pair_matrix(paper_effects, "n", order)), "mean_paper_train": np.diag(paper_real.loc[order, order]),
}, index=labels)
rho_diag = diag["mean_test"].corr(diag["mean_paper_train"], method="spearman")
display(Markdown(f"Across the {len(names)} single motifs, the ranking of mean expression in the test library "
                 f"agrees with the paper's training-data ranking with Spearman ρ = {rho_diag:.2f}."))
diag.round(3)

# %% [markdown]
# ## IME1, UME6 and the two together, in the measured data
#
# Four groups of test sequences: with neither motif, with IME1 but no UME6, with UME6 but no
# IME1, and with both. Each is compared with the "neither" group (difference of means, a 95%
# bootstrap interval and Welch's t-test). The test library holds families of near-identical
# variants (SNVs, motif perturbations, tilings), so the sequences are not independent. Two
# checks: the same comparison on the `random` subset alone (random promoters, no variants), and
# on family means (each variant family, as `camformer.data.variant_families` defines it,
# counted once per group with its mean expression).

# %%
has_ime1, has_ume6 = presence[IME1].to_numpy(), presence[UME6].to_numpy()
groups = {
    "IME1 without UME6": has_ime1 & ~has_ume6,
    "UME6 without IME1": has_ume6 & ~has_ime1,
    "IME1 and UME6": has_ime1 & has_ume6,
}
neither = ~has_ime1 & ~has_ume6
is_random = table["subsets"].str.split(";").apply(lambda s: "random" in s).to_numpy()
y = table["expression"].to_numpy()
rows = []
for scope, mask in (("all test sequences", np.ones(len(y), bool)), ("random subset", is_random)):
    for name, group in groups.items():
        if (group & mask).sum() >= 2:
            rows.append({"scope": scope, "group": name,
                         **M.group_difference(y, group & mask, neither & mask, seed=seed)})
    if ((groups["IME1 and UME6"] & mask).sum() >= 2) and ((groups["IME1 without UME6"] & mask).sum() >= 2):
        rows.append({"scope": scope, "group": "IME1 and UME6 vs IME1 without UME6",
                     **M.group_difference(y, groups["IME1 and UME6"] & mask, groups["IME1 without UME6"] & mask, seed=seed)})
family = variant_families(table["id"].to_numpy(), load_test_pairs())
labelled = pd.DataFrame({"family": family, "expression": y, "group": "neither"})
for name, group in groups.items():
    labelled.loc[group, "group"] = name
labelled = labelled[labelled["group"].isin(list(groups)) | neither]
fam = labelled.groupby(["group", "family"], as_index=False)["expression"].mean()
for name in groups:
    rows.append({"scope": "family means", "group": name,
                 **M.group_difference(fam["expression"], fam["group"] == name, fam["group"] == "neither", seed=seed)})
hierarchy = pd.DataFrame(rows)
overlap = M.overlapping_hits(hits, IME1, UME6, len(table))
display(hierarchy.round(4))

# %%
main = hierarchy[hierarchy["scope"] == "all test sequences"].set_index("group")
ime1, ume6, both = (main.loc[g] for g in ("IME1 without UME6", "UME6 without IME1", "IME1 and UME6"))
vs_ime1 = main.loc["IME1 and UME6 vs IME1 without UME6"]

word = {g: "raises" if r["ci_low"] > 0 else "lowers" if r["ci_high"] < 0 else "does not clearly change"
        for g, r in main.iterrows()}

display(Markdown(
    f"**In the measured test data, IME1 alone {word['IME1 without UME6']} expression**: sequences with IME1 and no UME6 "
    f"(n = {ime1['n']:,}) average {ime1['mean']:.3f} against {ime1['mean_ref']:.3f} for sequences with neither "
    f"(n = {ime1['n_ref']:,}), a difference of {ime1['difference']:+.3f} (95% CI {ime1['ci_low']:+.3f} to "
    f"{ime1['ci_high']:+.3f}; Welch p = {ime1['p_value']:.2g}). "
    f"**IME1 together with UME6 {word['IME1 and UME6']} expression** relative to neither: n = {both['n']:,}, "
    f"difference {both['difference']:+.3f} (95% CI {both['ci_low']:+.3f} to {both['ci_high']:+.3f}; "
    f"p = {both['p_value']:.2g}); relative to IME1 without UME6 the difference is {vs_ime1['difference']:+.3f} "
    f"(95% CI {vs_ime1['ci_low']:+.3f} to {vs_ime1['ci_high']:+.3f}). UME6 without IME1: {ume6['difference']:+.3f} "
    f"(n = {ume6['n']:,}, 95% CI {ume6['ci_low']:+.3f} to {ume6['ci_high']:+.3f}). "
    f"The two motifs are not independent sites: in {overlap.sum():,} of the {both['n']:,} sequences with both, "
    f"an IME1 hit overlaps a UME6 hit (IME1's CCGCCGAG lies inside UME6's URS1 site)."
))
fm = hierarchy[hierarchy["scope"] == "family means"].set_index("group")
rs = hierarchy[hierarchy["scope"] == "random subset"].set_index("group")
display(Markdown(
    f"Counted by variant family, IME1 without UME6 is {fm.loc['IME1 without UME6', 'difference']:+.3f} "
    f"({fm.loc['IME1 without UME6', 'n']:,} families, 95% CI {fm.loc['IME1 without UME6', 'ci_low']:+.3f} to "
    f"{fm.loc['IME1 without UME6', 'ci_high']:+.3f}) and IME1 with UME6 {fm.loc['IME1 and UME6', 'difference']:+.3f} "
    f"({fm.loc['IME1 and UME6', 'n']:,} families, 95% CI {fm.loc['IME1 and UME6', 'ci_low']:+.3f} to "
    f"{fm.loc['IME1 and UME6', 'ci_high']:+.3f}). In the `random` subset alone, IME1 without UME6 is "
    f"{rs.loc['IME1 without UME6', 'difference']:+.3f} (n = {rs.loc['IME1 without UME6', 'n']:,}, 95% CI "
    f"{rs.loc['IME1 without UME6', 'ci_low']:+.3f} to {rs.loc['IME1 without UME6', 'ci_high']:+.3f}) and IME1 with "
    f"UME6 {rs.loc['IME1 and UME6', 'difference']:+.3f} from only n = {rs.loc['IME1 and UME6', 'n']:,} sequences "
    f"(95% CI {rs.loc['IME1 and UME6', 'ci_low']:+.3f} to {rs.loc['IME1 and UME6', 'ci_high']:+.3f}). So the "
    f"rise with IME1 holds in every view; the fall with IME1 and UME6 holds across "
    f"{fm.loc['IME1 and UME6', 'n']:,} separate variant families, while the random promoters alone hold too "
    f"few sequences with both motifs to test it."
))
p_ime1 = paper_real.loc[IME1, IME1]
p_pair = paper_real.loc[IME1, UME6]
p_ume6 = paper_real.loc[UME6, UME6]
display(Markdown(
    f"For comparison, the paper's published training-data means (0–17 scale) are {p_ime1:.2f} for IME1 "
    f"(n = {int(paper_effects.set_index(['motif1', 'motif2']).loc[(IME1, IME1), 'n']):,}), {p_ume6:.2f} for UME6 and "
    f"{p_pair:.2f} for IME1 with UME6; the paper publishes no 'neither' group, so its effects are read "
    f"against the other motifs' means in the heatmap."
))

# %% [markdown]
# ## What the models predict
#
# Left: the same pair means computed from the paper's Camformer (Original, seed 42) published
# predictions for the test library (`camformer_published_predictions.tsv.gz`; that model never
# saw the test library). Right: this book's model, on the held-out part of the test library
# that chapter 03_training did not train on (`predictions_heldout.tsv`), so its cells hold fewer
# sequences. Ordered as above.

# %%
published = load_published_predictions().set_index("id").loc[table["id"], "original"].to_numpy()
pred_paper = M.pair_effects(presence, published, names)
rows_heldout = pd.Index(table["id"]).get_indexer(heldout["id"])
pred_book = M.pair_effects(presence.iloc[rows_heldout].reset_index(drop=True), heldout["prediction"].to_numpy(), names)

fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
for ax, effects, title in ((axes[0], pred_paper, "Paper's Camformer, predicted (published)"),
                           (axes[1], pred_book, f"This book's model ({preset}), predicted, held-out")):
    mean, n = M.pair_matrix(effects, "mean", order), M.pair_matrix(effects, "n", order)
    sns.heatmap(mean.where(n >= min_n), ax=ax, cmap="inferno", square=True, xticklabels=labels,
                yticklabels=labels, cbar_kws={"label": "mean predicted expression"})
    ax.set_title(title)
plt.tight_layout()
plt.show()

pred_paper_groups = {name: M.group_difference(published, g, neither, seed=seed)["difference"] for name, g in groups.items()}
display(Markdown(
    "The paper's model (its predictions are on the training data's 0–17 scale, so only their signs "
    "and order compare with the measured test-scale numbers), on the same test sequences, predicts "
    "differences from 'neither' of "
    + ", ".join(f"{v:+.3f} for {k}" for k, v in pred_paper_groups.items())
    + " (measured: " + ", ".join(f"{main.loc[k, 'difference']:+.3f}" for k in groups) + ")."
))

# %% [markdown]
# ## Inserting the motifs into backgrounds
#
# The model can also be asked directly: write the consensus of IME1, of UME6, or of both into
# random-promoter test sequences that contain none of the 19 motifs, and take the mean change
# of the prediction. UME6 is written at positions 30–41 and IME1 at 60–67 (0-based, inside the
# random region, not overlapping).

# %%
encoding = model_encoding(model)
clean = np.flatnonzero(is_random & ~presence.to_numpy().any(axis=1))
chosen = np.random.default_rng(seed).choice(clean, size=min(n_backgrounds, len(clean)), replace=False)
backgrounds = encode_sequences(table["seq"].iloc[np.sort(chosen)].tolist())
insertion = M.insertion_effects(model, backgrounds, {IME1: motifs[IME1], UME6: motifs[UME6]},
                                {UME6: 30, IME1: 60}, encoding=encoding)
insertion["motif1"] = insertion["motif1"].map(short)
insertion["motif2"] = insertion["motif2"].map(short)
ins = insertion.set_index(["motif1", "motif2"])["mean_change"]
display(Markdown(
    f"On {len(backgrounds)} backgrounds, this book's model changes its prediction by {ins[('IME1', 'IME1')]:+.3f} "
    f"when IME1 is inserted, {ins[('UME6', 'UME6')]:+.3f} for UME6 and {ins[('IME1', 'UME6')]:+.3f} for both."
))
insertion.round(4)

# %% [markdown]
# Under the quick preset the book's model is a small network trained for minutes on part of the
# test library, so its predicted hierarchy is a demonstration of the method, not a replication;
# the paper preset trains the published model on the full training data.

# %%
record(results_dir, preset, "motifs",
       ime1_effect=float(ime1["difference"]), ume6_effect=float(ume6["difference"]),
       ime1_ume6_effect=float(both["difference"]), ime1_ume6_vs_ime1=float(vs_ime1["difference"]),
       n_ime1=int(ime1["n"]), n_ume6=int(ume6["n"]), n_ime1_ume6=int(both["n"]), n_neither=int(ime1["n_ref"]),
       ime1_effect_families=float(fm.loc["IME1 without UME6", "difference"]),
       ime1_ume6_effect_families=float(fm.loc["IME1 and UME6", "difference"]),
       n_ime1_ume6_families=int(fm.loc["IME1 and UME6", "n"]),
       insertion_ime1=float(ins[("IME1", "IME1")]), insertion_ume6=float(ins[("UME6", "UME6")]),
       insertion_ime1_ume6=float(ins[("IME1", "UME6")]), scan_seconds=round(scan_seconds, 2))
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
