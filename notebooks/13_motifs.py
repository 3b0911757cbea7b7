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
# together with UME6 lowers it. A hierarchy is an *interaction*: the two motifs together do
# something other than the sum of what each does alone. This chapter repeats the measured half
# of the analysis on the DREAM test library (71,103 sequences, bundled), tests the hierarchy as
# an interaction contrast, and sets the paper's own published pair means of its training data
# beside it. The next chapter, 14_motif_model, asks the same question of a trained model. The
# steps are functions of `camformer.explain.hierarchy` and `camformer.stats.interaction`, built on
# `camformer.explain.motifs`.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
min_n = 10  # pair cells with fewer sequences are left blank
seed = 42
n_boot = 2000  # bootstrap resamples of the similarity units

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

from camformer.explain import hierarchy as H
from camformer.stats import interaction as I
from camformer.explain import motifs as M
from camformer.stats.bootstrap import test_set_units
from camformer.data.dream import load_test_table, subset_membership
from camformer.plots.plot_motifs import heatmap_panels
from camformer.records.report import record

started = time.perf_counter()
n_boot = {"smoke": 500}.get(preset, n_boot)

# %% [markdown]
# ## Scanning the test library
#
# The paper ran FIMO 5.5.7 (`fimo --thresh 1e-4`, default options) on every test sequence
# without its constant plasmid flanks, that is on the 80-nt random region (positions 17–96),
# and a sequence "contains" a motif when it has at least one hit on either strand
# (`analysis/FIMO` in the paper's repository). `camformer.explain.motifs.scan` implements FIMO's scores
# and exact p-values; on these sequences it reproduces the paper's FIMO hits for IME1 and UME6
# (tested in `tests/test_motifs.py`). The motifs are the 19 of the paper's Figure 8, taken from
# its published data (`combinations.train.fc.txt`), read from JASPAR 2024 offline with pyjaspar.

# %%
motifs = H.figure8_motifs()
IME1, UME6 = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
table = load_test_table()
y = table["expression"].to_numpy()
unit = test_set_units(table["id"].to_numpy())
scan = H.scan_library(table["seq"], motifs)
M.motif_counts(scan.hits, scan.presence, motifs)

# %% [markdown]
# ## Measured pair means, beside the paper's
#
# Left: the measured expression of the test sequences containing each motif (diagonal) and each
# pair (off the diagonal), on the test library's scale. Right: the paper's published means for
# its *training* data (the measured panel of its Figure 8b: the same statistic on the 0–17
# training scale), which
# cannot be recomputed here without the 6.7M training sequences. Both are ordered by the paper's
# diagonal, highest first.

# %%
measured = M.pair_effects(scan.presence, y, list(motifs))
paper = H.paper_pair_effects()
order = H.diagonal_order(paper, "Mean_real")
heatmap_panels([
    dict(values=H.named_matrix(measured, "mean", order), min_n=min_n,
         n=H.named_matrix(measured, "n", order),
         title="DREAM test library, measured", label="mean (test scale)"),
    dict(values=H.named_matrix(paper, "Mean_real", order),
         title="Paper (Fig. 8b, measured): training data",
         label="mean (0-17 scale)")])
plt.show()
singles, rho = H.singles_agreement(y, scan.presence, paper, order,
                                   families=unit, n_boot=n_boot, seed=seed)

# %% tags=["remove-input"]
display(Markdown(
    f"Blank cells hold fewer than {min_n} test sequences. Across the "
    f"{rho['cells']} single motifs, the test library's means and the "
    f"paper's training-data means {H.rank_text(rho)}; similarity units "
    "resampled."))
singles.rename(index=H.short_name).round(3)

# %% [markdown]
# ## IME1, UME6 and the two together
#
# Four groups of test sequences: with both motifs, with IME1 only, with UME6 only, and with
# neither. `camformer.stats.interaction.group_contrasts` compares their mean expression: each of the
# first three against "neither", "both" against "IME1 only", and the **interaction contrast**
# both − IME1 only − UME6 only + neither, which is zero when the two motifs' effects add. The
# test library is made of families of near-identical variants (SNVs, motif perturbations,
# tilings of one background) and of near copies that no pair lists, so every interval
# resamples whole similarity units, the ones chapter 03_training builds
# (`camformer.stats.bootstrap.test_set_units`), and the five comparisons are corrected together (Holm):
# a verdict is stated only when the 95% interval excludes zero and the corrected p < 0.05.

# %%
has_ime1, has_ume6 = scan.has(IME1), scan.has(UME6)
nested = M.overlapping_hits(scan.hits, IME1, UME6, len(table))

# %% tags=["remove-input"]
display(Markdown(
    f"First, what \"together\" means: in {nested.sum():,} of the "
    f"{(has_ime1 & has_ume6).sum():,} sequences with both motifs, an IME1 hit "
    "overlaps a UME6 hit (IME1's CCGCCGAG lies inside UME6's URS1 site), so "
    "\"IME1 with UME6\" is almost always one nested site, not two motifs "
    "apart."))

# %%
groups, contrasts = I.group_contrasts(y, has_ime1, has_ume6, families=unit,
                                      n_boot=n_boot, seed=seed)
display(groups.round(3))
I.contrast_view(contrasts)

# %% tags=["remove-input"]
w = contrasts["words"]
e = {name: I.contrast_text(c, words=False) for name, c in contrasts.iterrows()}
display(Markdown(
    f"**Measured, IME1 without UME6 {w['IME1 without UME6']} expression** "
    f"against sequences with neither motif: {e['IME1 without UME6']}. **IME1 "
    f"together with UME6 {w['IME1 and UME6']} it**: {e['IME1 and UME6']}; UME6 "
    f"without IME1: {e['UME6 without IME1']}. The interaction contrast is "
    f"{e['interaction']}: together the two are {w['interaction']}. So the "
    f"paper's hierarchy **{H.hierarchy_verdict(contrasts)}** in the measured "
    "test library."))

# %% [markdown]
# The `random` subset of the test library holds random promoters with no designed variants: an
# independent view, free of the families. It holds few sequences with both motifs, and its
# intervals show how little that can decide.

# %%
rs = subset_membership(table)["random"].to_numpy()
r_groups, r_contrasts = I.group_contrasts(
    y[rs], has_ime1[rs], has_ume6[rs], families=unit[rs],
    n_boot=n_boot, seed=seed)
I.contrast_view(r_contrasts)

# %% tags=["remove-input"]
w, n_both = r_contrasts["words"], (has_ime1 & has_ume6 & rs).sum()
e = {k: I.contrast_text(c, words=False) for k, c in r_contrasts.iterrows()}
display(Markdown(
    f"In the `random` subset IME1 without UME6 {w['IME1 without UME6']} "
    f"expression, {e['IME1 without UME6']}. Only {n_both} sequences hold both "
    f"motifs ({nested[rs].sum()} nested): with n = {n_both}, IME1 with UME6 "
    f"against neither is {e['IME1 and UME6']} and the interaction "
    f"{e['interaction']}: the two together are {w['interaction']}."))

# %% [markdown]
# The next chapter asks whether a trained model predicts these contrasts on held-out
# sequences, and what it predicts when IME1 is written into promoters alone and inside UME6.

# %%
record(results_dir, preset, "motifs", **H.hierarchy_facts(groups, contrasts),
       **H.hierarchy_facts(r_groups, r_contrasts, prefix="random_"),
       n_ime1_ume6_nested=int(nested.sum()), n_units=len(set(unit)),
       **H.rank_verdict(rho).facts("rho_singles_with_paper"))

# %% tags=["remove-input"]
display(Markdown(f"Chapter computed in {time.perf_counter() - started:.0f} s."))
