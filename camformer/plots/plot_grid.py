"""Figures of the grid chapters: the 270-model grid by factor (the paper's Figure S4), the
factors' shares of variance, and the book's retrained slice paired by seed.

Plotting only: the numbers come from :mod:`camformer.stats.factorial`. Figures are sized for the
book's column (at most 7 inches wide) at a screen resolution of :data:`DPI`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

#: Dots per inch of the grid figures: a 7-inch figure is 840 pixels, about the book's column.
DPI = 120
#: Colours of the two optimisers, in every grid figure.
OPTIMISER_COLOURS = {"AdamW": "tab:blue", "Lion": "tab:orange"}


def whisker_range(groups: list[np.ndarray], whis: float = 1.5) -> tuple[float, float]:
    """The span of the boxplot whiskers of all ``groups`` (Tukey: the most extreme values within
    ``whis`` interquartile ranges of the quartiles): the informative range that R's
    ``boxplot(outline = FALSE)`` draws, as the paper's Figure S4 does."""
    lows, highs = [], []
    for values in groups:
        values = np.asarray(values, np.float64)
        values = values[np.isfinite(values)]
        if len(values) == 0:
            continue
        q1, q3 = np.percentile(values, [25, 75])
        iqr = q3 - q1
        lows.append(values[values >= q1 - whis * iqr].min())
        highs.append(values[values <= q3 + whis * iqr].max())
    if not lows:
        raise ValueError("no finite values to draw")
    return float(min(lows)), float(max(highs))


def factor_boxplots(grid: pd.DataFrame, factors: list[str], metric: str, tests: pd.DataFrame, *,
                    label: str | None = None, colour_by: str | None = "optimiser", ax=None,
                    seed: int = 0) -> tuple[plt.Figure, int]:
    """The paper's Figure S4: each factor's levels as horizontal boxes of ``metric`` over the
    grid's runs, ordered by median within the factor, with every run as a jittered point.

    The x axis spans the boxes' whiskers (:func:`whisker_range`), as the paper clips it; runs
    beyond it are counted in the lower-left corner. Between two neighbouring levels the
    Holm-adjusted p-value of their paired test (a row of ``tests``, from
    :func:`camformer.stats.factorial.paired_level_tests`) is printed at the right.

    Returns
    -------
    (figure, n_outside)
        The figure and the number of runs outside the drawn range.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5.2), dpi=DPI)
    fig = ax.figure
    rng = np.random.default_rng(seed)
    positions, names, groups, colours, pairs = [], [], [], [], []
    y = 0.0
    for factor in factors:
        levels = list(grid.groupby(factor)[metric].median().sort_values(ascending=False).index)
        for level in levels:
            rows = grid[grid[factor] == level]
            positions.append(y)
            names.append(str(level))
            groups.append(rows[metric].to_numpy(np.float64))
            colours.append(rows[colour_by].map(OPTIMISER_COLOURS).fillna("0.2").to_numpy()
                           if colour_by else np.full(len(rows), "0.2"))
            y += 1
        pairs += [(factor, levels[i + 1], levels[i], y - len(levels) + i + 0.5)
                  for i in range(len(levels) - 1)]
        y += 0.8  # a gap between factors
    low, high = whisker_range(groups)
    pad = 0.03 * (high - low)
    ax.boxplot(groups, positions=positions, orientation="horizontal", showfliers=False, widths=0.6,
               patch_artist=True, boxprops={"facecolor": "0.88", "edgecolor": "0.4"},
               medianprops={"color": "0.1"}, whiskerprops={"color": "0.4"}, capprops={"color": "0.4"})
    for pos, values, colour in zip(positions, groups, colours):
        ax.scatter(values, pos + rng.uniform(-0.2, 0.2, len(values)), s=5, c=colour, alpha=0.7, lw=0,
                   zorder=3)
    ax.set_yticks(positions, names, fontsize=9)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(max(positions) + 0.7, -0.7)
    tests = tests.set_index(["factor", "level_a", "level_b"])
    for factor, a, b, pos in pairs:
        p = tests.loc[(factor, a, b), "p_holm"] if (factor, a, b) in tests.index else np.nan
        ax.annotate(f"p={p:.0e}" if p < 0.01 else f"p={p:.2f}", (1.01, pos), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8, color="0.35", annotation_clip=False)
    values = grid[metric].to_numpy(np.float64)
    below, above = int((values < low - pad).sum()), int((values > high + pad).sum())
    notes = [f"{n} run{'s' if n > 1 else ''} {side} {edge:.3f}" for n, side, edge in
             ((below, "below", low - pad), (above, "above", high + pad)) if n]
    if notes:
        ax.text(1.0, 1.01, "not shown: " + "; ".join(notes), transform=ax.transAxes, fontsize=8,
                color="0.3", va="bottom", ha="right")
    ax.text(1.01, 1.0, "Holm p", transform=ax.transAxes, fontsize=8, color="0.35", va="bottom")
    ax.set_xlabel(label or metric)
    ax.grid(axis="x", color="0.92", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if colour_by:
        handles = [plt.Line2D([], [], ls="", marker="o", ms=4, color=c, label=k)
                   for k, c in OPTIMISER_COLOURS.items()]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8,
                  frameon=False, title=f"points: runs, by {colour_by}", title_fontsize=8,
                  alignment="left")
    fig.tight_layout()
    return fig, below + above


def share_bars(shares: dict[str, pd.DataFrame], *, ax=None) -> plt.Figure:
    """Each factor's share of variance with its bootstrap interval, one bar colour per metric.

    ``shares`` maps a metric's label to a :attr:`camformer.stats.factorial.FactorRanking.shares`
    table (index: factors and ``"residual"``; columns ``share, ci_low, ci_high``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2), dpi=DPI)
    index = list(next(iter(shares.values())).index)
    height = 0.8 / len(shares)
    colours = ["0.35", "tab:green", "tab:purple"]
    for i, (label, table) in enumerate(shares.items()):
        table = table.loc[index]
        pos = np.arange(len(index)) + (i - (len(shares) - 1) / 2) * height
        # a percentile interval may miss a biased point estimate: draw no negative whisker
        err = np.clip(np.vstack([table["share"] - table["ci_low"], table["ci_high"] - table["share"]]),
                      0, None)
        ax.barh(pos, table["share"], height=height, xerr=err, label=label, capsize=2,
                color=colours[i % len(colours)],
                error_kw={"lw": 0.8})
    ax.set_yticks(np.arange(len(index)), index, fontsize=9)
    ax.invert_yaxis()
    ax.set(xlabel="share of variance (whiskers: 95% bootstrap interval)", xlim=(0, 1))
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.tight_layout()
    return ax.figure


def seed_slice(table: pd.DataFrame, effects, comparison, *, response: str = "test_pearson",
               factors: tuple[str, str] = ("optimizer", "loss"), ylabel: str = "held-out r"
               ) -> plt.Figure:
    """The retrained slice, paired by seed. Left: every run's ``response`` by recipe, one line
    per seed (the same initial weights and data order). Right: each seed's main effects
    (:attr:`camformer.stats.factorial.SeedPairedEffects.per_seed`, oriented from the worse level to the
    better) and their difference, with the mean and its Student-t interval.

    ``effects`` is a :class:`camformer.stats.factorial.SeedPairedEffects`, ``comparison`` the
    :class:`camformer.stats.verdicts.Verdict` of :func:`camformer.stats.factorial.larger_effect`.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.3), dpi=DPI,
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    first, second = factors
    recipes = sorted(table.groupby(list(factors)).groups)
    x = {recipe: i for i, recipe in enumerate(recipes)}
    for _, runs in table.groupby("seed"):
        runs = runs.set_index(list(factors)).reindex(recipes)
        left.plot(range(len(recipes)), runs[response], color="0.6", lw=0.8, zorder=1)
    colours = table[first].map(OPTIMISER_COLOURS).fillna("0.2")
    left.scatter(table[list(factors)].apply(tuple, axis=1).map(x), table[response], c=colours, s=14,
                 zorder=2)
    left.set_xticks(range(len(recipes)), ["\n".join(r) for r in recipes], fontsize=9)
    left.set_ylabel(ylabel)
    left.set_title("runs (a line joins one seed's runs)", fontsize=10)
    oriented = effects.per_seed * np.where(effects.per_seed.mean() >= 0, 1.0, -1.0)
    columns = []
    for f in factors:
        row = effects.effects.loc[f]
        columns.append((f"{row['best_level']}\n− {row['worst_level']}", oriented[f],
                        (row["effect"], row["ci_low"], row["ci_high"])))
    columns.append((f"{first}\n− {second}", oriented[first] - oriented[second],
                    (comparison.estimate, comparison.ci_low, comparison.ci_high)))
    for i, (_, values, (mean, low, high)) in enumerate(columns):
        right.scatter(i + np.linspace(-0.12, 0.12, len(values)), values, s=12, color="0.45", zorder=2)
        right.errorbar(i + 0.25, mean, yerr=[[mean - low], [high - mean]], fmt="o", color="k",
                       capsize=3, ms=4, zorder=3)
    right.axhline(0, color="0.3", lw=0.8, ls="--")
    right.set_xticks(range(len(columns)), [label for label, _, _ in columns], fontsize=8)
    right.set_xlim(-0.5, len(columns) - 0.4)
    right.set_ylabel(f"effect on {ylabel}")
    right.set_title("effects per seed; mean, 95% interval", fontsize=10)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
    fig.suptitle(str(comparison), fontsize=10)
    fig.tight_layout()
    return fig
