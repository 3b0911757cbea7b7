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
# together with UME6 lowers it. This chapter repeats the measured half of the analysis on the
# DREAM test library (71,103 sequences, bundled) and sets the paper's own published pair means
# of its training data beside it. The next chapter, 14_motif_model, asks the same question of a
# trained model. The steps are functions of `camformer.hierarchy`, built on `camformer.motifs`.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10
seed = 42

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

from camformer import hierarchy as H
from camformer import motifs as M
from camformer.data import load_test_pairs, load_test_table, subset_membership, variant_families
from camformer.plot_motifs import pair_heatmap
from camformer.report import effect_text, record

started = time.perf_counter()

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
motifs = H.figure8_motifs()
IME1, UME6 = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
table = load_test_table()
scan = H.scan_library(table["seq"], motifs)
display(Markdown(f"Scanned {len(table):,} sequences × {len(motifs)} motifs × 2 strands in "
                 f"{scan.seconds:.1f} s: {len(scan.hits):,} hits."))
M.motif_counts(scan.hits, scan.presence, motifs)

# %% [markdown]
# ## Measured pair means, beside the paper's
#
# Left: the measured expression of the test sequences containing each motif (diagonal) and each
# pair (off the diagonal), on the test library's scale; cells with fewer than `min_n` sequences
# are blank. Right: the paper's published means for its *training* data (the same statistic
# on the 0–17 training scale; `combinations.train.fc.txt`), which cannot be recomputed here
# without the 6.7M training sequences. Both are ordered by the paper's diagonal, highest first.

# %%
measured = M.pair_effects(scan.presence, table["expression"].to_numpy(), list(motifs))
paper = H.paper_pair_effects()
order = H.diagonal_order(paper, "Mean_real")
labels = [H.short_name(name) for name in order]
fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
pair_heatmap(M.pair_matrix(measured, "mean", order), M.pair_matrix(measured, "n", order), labels=labels,
             min_n=min_n, ax=axes[0], title="DREAM test library, measured", label="mean measured expression (test scale)")
pair_heatmap(M.pair_matrix(paper, "Mean_real", order), labels=labels, ax=axes[1],
             title="Paper: training data, measured (published)", label="mean measured expression (0-17)")
plt.tight_layout()
plt.show()
singles, rho_singles = H.singles_agreement(measured, paper, order, reference_value="Mean_real")
display(Markdown(f"Across the {len(singles)} single motifs, the ranking of mean expression in the test library "
                 f"agrees with the paper's training-data ranking with Spearman ρ = {rho_singles:.2f}."))
singles.rename(index=H.short_name).round(3)

# %% [markdown]
# ## IME1, UME6 and the two together
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
is_random = subset_membership(table)["random"].to_numpy()
family = variant_families(table["id"].to_numpy(), load_test_pairs())
hierarchy = M.motif_hierarchy(table["expression"].to_numpy(), scan.has(IME1), scan.has(UME6), families=family,
                              scopes={"all test sequences": np.ones(len(table), bool), "random subset": is_random},
                              seed=seed)
overlap = M.overlapping_hits(scan.hits, IME1, UME6, len(table))
hierarchy.round(4)

# %%
view = {scope: part.set_index("group") for scope, part in hierarchy.groupby("scope")}
main, fm, rs = view["all test sequences"], view["family means"], view["random subset"]
ime1, ume6, both = (main.loc[g] for g in ("IME1 without UME6", "UME6 without IME1", "IME1 and UME6"))
display(Markdown(
    f"**In the measured test data, IME1 alone {ime1['direction']} expression** against sequences with neither "
    f"motif (n = {ime1['n_ref']:,}): {effect_text(ime1)}. **IME1 together with UME6 {both['direction']} it**: "
    f"{effect_text(both)}; against IME1 without UME6, "
    f"{effect_text(main.loc['IME1 and UME6 vs IME1 without UME6'], n=False)}. UME6 without IME1: "
    f"{effect_text(ume6)}. In {overlap.sum():,} of the {both['n']:,} sequences with both, an IME1 hit overlaps "
    f"a UME6 hit (IME1's CCGCCGAG lies inside UME6's URS1 site). Counted by variant family, IME1 without UME6 "
    f"{fm.loc['IME1 without UME6', 'direction']} expression, {effect_text(fm.loc['IME1 without UME6'], unit=' families')}, "
    f"and IME1 with UME6 {fm.loc['IME1 and UME6', 'direction']} it, {effect_text(fm.loc['IME1 and UME6'], unit=' families')}. "
    f"In the `random` subset alone IME1 without UME6 {rs.loc['IME1 without UME6', 'direction']} expression "
    f"by {effect_text(rs.loc['IME1 without UME6'])}; it holds too few sequences with both motifs to test the pair."
))

# %% [markdown]
# The next chapter asks whether a trained model predicts these signs on sequences it never saw,
# and what it predicts when IME1 is written into promoters alone and inside UME6.

# %%
record(results_dir, preset, "motifs", **H.hierarchy_facts(hierarchy, scope="all test sequences"),
       rho_singles_with_paper=rho_singles, scan_seconds=round(scan.seconds, 2))
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
