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
# # The 270-model grid
#
# To choose Camformer's training recipe, the paper trained 270 models: every combination of 5
# sequence encodings, 3 loss functions, 2 optimisers, 3 learning-rate schedules and 3 model sizes
# (Large, Small, Mini), each scored by Pearson r and Spearman ρ on a validation split (the paper's
# Figure S4). The paper reads from it that the optimiser matters most (AdamW above Lion) and
# model size little; this chapter tests that reading on the paper's own numbers.
#
# Training 270 models needs a GPU and the full training data, so this chapter uses the paper's
# published scoreboards (`paper/score_board_{Large,Small,Mini}Model.csv`); a separate chapter
# retrains a slice of the grid on this machine. Each model was trained once, so the grid itself
# carries the training noise: every comparison below is made against it.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
n_boot = 2000

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
import pandas as pd
from IPython.display import Markdown, display

from camformer.plots import plot_grid
from camformer.records import report
from camformer.stats import factorial
from camformer.training.grid import SCOREBOARD_FACTORS, load_scoreboards

grid = load_scoreboards()
factors = list(SCOREBOARD_FACTORS.values())
metrics = {"r": "validation r", "rho": "validation ρ"}
levels = ", ".join(f"{grid[f].nunique()} × {f}" for f in factors)

# %% tags=["remove-input"]
display(Markdown(
    f"The scoreboards hold {len(grid)} models ({levels}). Validation r ranges "
    f"from {grid['r'].min():.3f} to {grid['r'].max():.3f}, ρ from "
    f"{grid['rho'].min():.3f} to {grid['rho'].max():.3f}."))

# %% [markdown]
# ## Validation performance by factor (Figure S4)
#
# As in the paper's figure, each box gathers the runs that share one level of a factor, ordered
# by median; the points are the runs (coloured by optimiser); the axis spans the boxes' whiskers.
# Two levels are compared on the runs that share every *other* factor, by a paired Wilcoxon test
# as the paper's script does (`camformer.stats.factorial.paired_level_tests`); the p-values printed
# between neighbouring levels are Holm-adjusted over all 20 comparisons of a metric.

# %%
tests = {m: factorial.paired_level_tests(grid, factors, m) for m in metrics}
outside = {}
for m, label in metrics.items():
    fig, outside[m] = plot_grid.factor_boxplots(grid, factors, m, tests[m],
                                                label=label)
    plt.show()

# %%
opt = {m: t[t["factor"] == "optimiser"].iloc[0] for m, t in tests.items()}
opt_verdict = factorial.paired_verdict(opt["r"])
sizes = tests["r"][tests["r"]["factor"] == "size"]
size_words = [factorial.paired_verdict(r).words for _, r in sizes.iterrows()]
low = grid.nsmallest(outside["r"], "r")
tests["r"][["factor", "level_a", "level_b", "n_pairs", "b_wins",
            "pseudo_median", "p_holm"]].round({"pseudo_median": 4})

# %% tags=["remove-input"]
display(Markdown(
    f"{len(low)} runs lie below the axis of r ({outside['rho']} below ρ's): "
    f"their r is {low['r'].min():.3f} to {low['r'].max():.3f}, while their ρ "
    f"stays between {low['rho'].min():.3f} and {low['rho'].max():.3f}, and "
    f"{(low['optimiser'] == 'Lion').sum()} of them trained with Lion: a few "
    "extreme predictions wreck a Pearson correlation but barely move a rank "
    f"correlation. Matched on everything else, {opt['r']['level_b']} beats "
    f"{opt['r']['level_a']} in {opt['r']['b_wins']} of {opt['r']['n_pairs']} "
    f"pairs on r (Holm p = {opt['r']['p_holm']:.0e}): **{opt_verdict}**. "
    "Between sizes (table above): " + "; ".join(size_words) + "."))

# %% [markdown]
# ## Share of variance per factor
#
# An additive model, `metric ~ encoding + loss + optimiser + scheduler + size`, fitted by least
# squares (`camformer.stats.factorial.largest_factor`). The grid is a balanced full factorial design,
# so each factor's share is its main-effect sum of squares over the total; what the five factors
# leave is the residual (interactions and training noise). The intervals come from a wild
# bootstrap: each run keeps its fitted value and its own residual with a random sign, refitted,
# to ask whether the order of the factors would survive other draws of the noise. Each run
# keeps its own spread because the spreads differ between optimisers (below), and redrawing
# residuals pooled over runs would give AdamW runs Lion's noise. Noise adds to every sum of squares, so a small share is biased upward (a factor
# without effect still gets a share); the shares below are corrected by the bootstrap's
# estimate of that bias, and can fall just below zero. Which factor leads is judged on one
# contrast: the top factor's share minus the runner-up's, with its own interval; where that
# interval holds zero, the top factor is recorded as undecided.

# %%
rank = {m: factorial.largest_factor(grid, factors, m, n_boot=n_boot)
        for m in metrics}
shares = {metrics[m]: rank[m].corrected for m in metrics}
plot_grid.share_bars(shares)
plt.show()
agree = {m: factorial.paper_agreement(rank[m].leader, rank[m].verdict.decided,
                                      "optimiser") for m in metrics}
pd.concat(shares, axis=1).style.format("{:.1%}")

# %% tags=["remove-input"]
spread = factorial.residual_spread(grid, factors, "r", by="optimiser")
display(Markdown(
    "Root mean square residual on r: " + ", ".join(
        f"{k} {v:.3f}" for k, v in spread.items()) + ". "
    f"On ρ the optimiser explains {rank['rho'].describe('optimiser')} of the "
    f"variance (bias-corrected, 95% intervals in brackets) and size "
    f"{rank['rho'].describe('size')}: "
    f"**{rank['rho'].verdict}**; this {agree['rho']}. On r the "
    f"{len(low)} runs below the axis leave {rank['r'].describe('residual')} of "
    f"the variance to the residual; the optimiser explains "
    f"{rank['r'].describe('optimiser')} and size {rank['r'].describe('size')}: "
    f"**{rank['r'].verdict}**; this {agree['r']}. The paired test above, which "
    f"ranks matched runs instead of adding up squares, says: {opt_verdict}."))

# %%
facts = {}
for m, sfx in (("r", ""), ("rho", "_rho")):
    facts |= {f"top_factor{sfx}": rank[m].leader,
              f"top_factor_estimate{sfx}": rank[m].top,
              f"agrees_with_paper{sfx}": agree[m].words,
              **rank[m].verdict.facts(f"top_factor_lead{sfx}")}
    for f, key in (("optimiser", "optimizer_share"), ("size", "size_share")):
        share = rank[m].corrected.loc[f].set_axis(["", "_ci_low", "_ci_high"])
        facts |= {f"{key}{sfx}{k}": v for k, v in share.items()}
report.record(results_dir, preset, "grid", n_models=len(grid), **facts,
              n_below_axis_r=len(low), optimizer_verdict=opt_verdict.words,
              optimizer_p_holm=float(opt["r"]["p_holm"]),
              residual_share=rank["r"].corrected.loc["residual", "share"])
