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
# training data beside it, and asks the same question of the model this chapter explains: the
# paper's own Camformer Original where its published weights can be fetched
# (`camformer.book.explained_model`), else the book's own model from chapter 03_training, always
# on sequences it never trained on. The line below the imports says which.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10
n_backgrounds = 300
seed = 42
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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from camformer import motifs as M
from camformer.data import (encode_sequences, load_paper_table, load_published_predictions, load_test_pairs,
                            load_test_table, variant_families)
from camformer.plot_motifs import pair_heatmap
from camformer.report import defined_or, effect_text, record
from camformer.book import describe_model, explained_model
from camformer.inference import model_encoding

started = time.perf_counter()
torch.set_num_threads(2)
model, info = explained_model(results_dir, preset, prefer=explain)
display(Markdown(describe_model(info)))
heldout = info["predictions"]  # ids the model never trained on, and its predictions for them

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
counts = M.motif_counts(hits, presence, motifs)
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
pair_heatmap(measured_mean, measured_n, labels=labels, min_n=min_n, ax=axes[0], title="DREAM test library, measured",
             label="mean measured expression (test scale)")
pair_heatmap(paper_real.loc[order, order], labels=labels, ax=axes[1], title="Paper: training data, measured (published)",
             label="mean measured expression (0-17)")
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
# IME1, and with both. `camformer.motifs.motif_hierarchy` compares each with the "neither" group
# (difference of means, a 95% bootstrap interval and Welch's t-test), and "both" with "IME1
# without UME6". The test library holds families of near-identical variants (SNVs, motif
# perturbations, tilings), so the sequences are not independent. Two checks: the same
# comparison on the `random` subset alone (random promoters, no variants), and on family means
# (each variant family, as `camformer.data.variant_families` defines it, counted once per group
# with its mean expression).

# %%
has_ime1, has_ume6 = presence[IME1].to_numpy(), presence[UME6].to_numpy()
is_random = table["subsets"].str.split(";").apply(lambda s: "random" in s).to_numpy()
y = table["expression"].to_numpy()
family = variant_families(table["id"].to_numpy(), load_test_pairs())
hierarchy = M.motif_hierarchy(y, has_ime1, has_ume6, scopes={"all test sequences": np.ones(len(y), bool),
                                                          "random subset": is_random},
                              families=family, seed=seed)
overlap = M.overlapping_hits(hits, IME1, UME6, len(table))
hierarchy.round(4)

# %%
view = {scope: part.set_index("group") for scope, part in hierarchy.groupby("scope")}
main, fm, rs = view["all test sequences"], view["family means"], view["random subset"]
ime1, ume6, both = (main.loc[g] for g in ("IME1 without UME6", "UME6 without IME1", "IME1 and UME6"))
vs_ime1 = main.loc["IME1 and UME6 vs IME1 without UME6"]
display(Markdown(
    f"**In the measured test data, IME1 alone {ime1['direction']} expression** against sequences with neither "
    f"motif (n = {ime1['n_ref']:,}): {effect_text(ime1)}. **IME1 together with UME6 {both['direction']} it**: "
    f"{effect_text(both)}; against IME1 without UME6, {effect_text(vs_ime1, n=False)}. UME6 without IME1: "
    f"{effect_text(ume6)}. In {overlap.sum():,} of the {both['n']:,} sequences with both, an IME1 hit overlaps "
    f"a UME6 hit (IME1's CCGCCGAG lies inside UME6's URS1 site). Counted by variant family, IME1 without UME6 "
    f"{fm.loc['IME1 without UME6', 'direction']} expression, {effect_text(fm.loc['IME1 without UME6'], unit=' families')}, "
    f"and IME1 with UME6 {fm.loc['IME1 and UME6', 'direction']} it, {effect_text(fm.loc['IME1 and UME6'], unit=' families')}. "
    f"In the `random` subset alone IME1 without UME6 {rs.loc['IME1 without UME6', 'direction']} expression "
    f"by {effect_text(rs.loc['IME1 without UME6'])}; it holds too few sequences with both motifs to test the pair."
))

# %% [markdown]
# ## What the model predicts, beside what was measured
#
# The same comparison on the held-out sequences only (those the explained model never trained
# on), once with their measured expression and once with the model's predictions. If the model
# has learnt the hierarchy, the predicted differences have the measured signs. Predictions of
# the paper's model are on its training data's 0–17 scale, so only signs and order compare.

# %%
rows_heldout = pd.Index(table["id"]).get_indexer(heldout["id"])
predicted = heldout["prediction"].to_numpy()
side_by_side = pd.concat([
    M.motif_hierarchy(values, has_ime1[rows_heldout], has_ume6[rows_heldout], seed=seed).assign(values=label)
    for label, values in (("measured", y[rows_heldout]), ("predicted", predicted))
]).drop(columns="scope")
compared = side_by_side.pivot(index="group", columns="values", values=["n", "difference", "ci_low", "ci_high", "direction"])
compared

# %%
measured_dir, predicted_dir = compared["direction"]["measured"], compared["direction"]["predicted"]
key_groups = ["IME1 without UME6", "IME1 and UME6"]
signs_agree = all(np.sign(compared["difference"]["measured"][g]) == np.sign(compared["difference"]["predicted"][g])
                  for g in key_groups)
display(Markdown(
    f"On {len(rows_heldout):,} held-out sequences, {info['model']} predicts that IME1 without UME6 "
    f"{predicted_dir['IME1 without UME6']} expression ({compared['difference']['predicted']['IME1 without UME6']:+.3f}; "
    f"measured {compared['difference']['measured']['IME1 without UME6']:+.3f}) and that IME1 with UME6 "
    f"{predicted_dir['IME1 and UME6']} it ({compared['difference']['predicted']['IME1 and UME6']:+.3f}; measured "
    f"{compared['difference']['measured']['IME1 and UME6']:+.3f}): "
    + ("the predicted signs are the measured ones." if signs_agree else "the predicted signs differ from the measured ones.")
))

# %% [markdown]
# Left: the pair means computed from the paper's Camformer (Original, seed 42) published
# predictions for the whole test library (`camformer_published_predictions.tsv.gz`; that model
# never saw the test library). Right: the model this chapter explains, on its held-out
# sequences. Ordered as above; cells with fewer than `min_n` sequences are blank.

# %%
published = load_published_predictions().set_index("id").loc[table["id"], "original"].to_numpy()
pred_paper = M.pair_effects(presence, published, names)
pred_model = M.pair_effects(presence.iloc[rows_heldout].reset_index(drop=True), predicted, names)
fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
for ax, effects, title in ((axes[0], pred_paper, "Paper's Camformer, predicted (published)"),
                           (axes[1], pred_model, f"{info['model']}, predicted, held-out")):
    pair_heatmap(M.pair_matrix(effects, "mean", order), M.pair_matrix(effects, "n", order), labels=labels, min_n=min_n,
                 ax=ax, title=title, label="mean predicted expression")
plt.tight_layout()
plt.show()
paper_pred = M.pair_matrix(paper_effects, "Mean_pred", order)
model_pred = M.pair_matrix(pred_model, "mean", order).where(M.pair_matrix(pred_model, "n", order) >= min_n)
agreement = pd.DataFrame({"model": model_pred.to_numpy().ravel(), "paper": paper_pred.to_numpy().ravel()}).dropna()
rho_fig8 = agreement["model"].corr(agreement["paper"], method="spearman")
display(Markdown(
    f"Across the {len(agreement)} motif and pair cells with at least {min_n} held-out sequences, the model's "
    f"predicted means rank like the paper's Figure 8 predicted means on its training data "
    f"(`combinations.train.fc.txt`, column Mean_pred) with Spearman ρ = {rho_fig8:.2f}."
))

# %% [markdown]
# ## Inserting the motifs into held-out backgrounds
#
# The model can also be asked directly: write the consensus of IME1, of UME6, or of both into
# held-out random-promoter test sequences that contain none of the 19 motifs, and take the mean
# change of the prediction, with a 95% bootstrap interval over the backgrounds. In the measured
# sequences with both motifs, IME1's site almost always lies inside UME6's
# (`camformer.motifs.overlap_configurations`), so "both" is written that way: UME6 at position 30
# and IME1 at the offset the data show most often on the forward strand. For comparison, the two
# are also written apart (UME6 at 30, IME1 at 60).

# %%
encoding = model_encoding(model)
configurations = M.overlap_configurations(hits, IME1, UME6)
forward = configurations[(configurations["strand_a"] == "+") & (configurations["strand_b"] == "+")].iloc[0]
clean = np.intersect1d(np.flatnonzero(is_random & ~presence.to_numpy().any(axis=1)), rows_heldout)
chosen = np.random.default_rng(seed).choice(clean, size=min(n_backgrounds, len(clean)), replace=False)
backgrounds = encode_sequences(table["seq"].iloc[np.sort(chosen)].tolist())
pair = {IME1: motifs[IME1], UME6: motifs[UME6]}
nested = M.insertion_effects(model, backgrounds, pair, {UME6: 30, IME1: 30 + int(forward["offset"])},
                             encoding=encoding, seed=seed)
apart = M.insertion_effects(model, backgrounds, pair, {UME6: 30, IME1: 60}, encoding=encoding, seed=seed)
insertion = pd.concat([nested.assign(placement=np.where(nested["motif1"] == nested["motif2"], "alone", "IME1 inside UME6")),
                       apart[apart["motif1"] != apart["motif2"]].assign(placement="apart")], ignore_index=True)
insertion[["motif1", "motif2"]] = insertion[["motif1", "motif2"]].apply(lambda c: c.map(short))
ins = insertion.set_index(["motif1", "motif2", "placement"])
one, inside, far = (ins.loc[k] for k in (("IME1", "IME1", "alone"), ("IME1", "UME6", "IME1 inside UME6"),
                                          ("IME1", "UME6", "apart")))
display(Markdown(
    f"In {int(configurations['sequences'].iloc[:2].sum()):,} of the {both['n']:,} measured sequences with both "
    f"motifs, IME1 sits inside UME6 in the two most common ways (one site, either strand). On {len(backgrounds)} "
    f"held-out backgrounds, inserting IME1 {one['direction']} the prediction by {effect_text(one, n=False)}; IME1 inside "
    f"UME6 {inside['direction']} it by {effect_text(inside, n=False)}; the two apart {far['direction']} it "
    f"({far['mean_change']:+.3f}). Measured: IME1 alone {ime1['direction']} expression, with UME6 {both['direction']} it. "
    + ("So the model has learnt that UME6's context takes away IME1's gain (the intervals do not overlap)"
       if inside["ci_high"] < one["ci_low"] else "The model does not separate IME1 inside UME6 from IME1 alone")
    + (", and it predicts the fall below the background." if inside["direction"] == "lowers" else
       ", but not the fall below the background that the measurements show.")
))
insertion.round(4)

# %%
record(results_dir, preset, "motifs",
       ime1_effect=float(ime1["difference"]), ume6_effect=float(ume6["difference"]),
       ime1_ume6_effect=float(both["difference"]), ime1_ume6_vs_ime1=float(vs_ime1["difference"]),
       n_ime1=int(ime1["n"]), n_ume6=int(ume6["n"]), n_ime1_ume6=int(both["n"]), n_neither=int(ime1["n_ref"]),
       ime1_effect_families=float(fm.loc["IME1 without UME6", "difference"]),
       ime1_ume6_effect_families=float(fm.loc["IME1 and UME6", "difference"]),
       n_ime1_ume6_families=int(fm.loc["IME1 and UME6", "n"]), scan_seconds=round(scan_seconds, 2))
record(results_dir, preset, "motifs_model", model=info["model"], n_heldout=len(rows_heldout),
       predicted_ime1_effect=float(compared["difference"]["predicted"]["IME1 without UME6"]),
       predicted_ime1_ume6_effect=float(compared["difference"]["predicted"]["IME1 and UME6"]),
       measured_heldout_ime1_effect=float(compared["difference"]["measured"]["IME1 without UME6"]),
       measured_heldout_ime1_ume6_effect=float(compared["difference"]["measured"]["IME1 and UME6"]),
       predicted_signs_agree=str(bool(signs_agree)),
       insertion_ime1=float(one["mean_change"]),
       insertion_ume6=float(ins.loc[("UME6", "UME6", "alone"), "mean_change"]),
       insertion_ime1_inside_ume6=float(inside["mean_change"]), insertion_ime1_ume6_apart=float(far["mean_change"]),
       insertion_ime1_direction=one["direction"], insertion_ime1_inside_ume6_direction=inside["direction"],
       insertion_ume6_context_lowers_ime1=str(bool(inside["ci_high"] < one["ci_low"])),
       n_backgrounds=len(backgrounds), rho_with_figure8_predicted=defined_or(rho_fig8, "too few cells"))
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
