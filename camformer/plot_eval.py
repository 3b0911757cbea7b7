"""Figures of the evaluation chapters: measured-against-predicted density plots and seed curves.

Plotting only: the numbers come from :mod:`camformer.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .metrics import pearson_r, spearman_rho


def density_scatter(
    ax: Axes,
    y: np.ndarray,
    yhat: np.ndarray,
    *,
    title: str = "",
    xlabel: str = "measured expression",
    ylabel: str = "predicted expression",
    gridsize: int = 60,
    diagonal: bool = True,
):
    """Hexbin density of predicted ``yhat`` against measured ``y`` (both ``(n,)``), annotated
    with Pearson r² and Spearman ρ; log-scaled counts. Returns the hexbin artist."""
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    art = ax.hexbin(y, yhat, gridsize=gridsize, bins="log", cmap="viridis", mincnt=1, linewidths=0)
    if diagonal:
        lo, hi = min(y.min(), yhat.min()), max(y.max(), yhat.max())
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.8, ls="--")
    r = pearson_r(y, yhat)
    ax.text(0.03, 0.97, f"r² = {r * r:.3f}\nρ = {spearman_rho(y, yhat):.3f}\nn = {len(y):,}",
            transform=ax.transAxes, va="top", ha="left", fontsize=9,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8, "lw": 0})
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return art


def mean_sd_curve(ax: Axes, table: pd.DataFrame, x: str, y: str, *, label: str = "", color=None) -> pd.DataFrame:
    """Mean ± standard deviation (``ddof=1``) of column ``y`` at each value of ``x``, as a line
    with a shaded band and the individual points behind it. Returns the per-``x`` summary."""
    summary = table.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
    line, = ax.plot(summary[x], summary["mean"], marker="o", ms=3, label=label, color=color)
    ax.fill_between(summary[x], summary["mean"] - summary["std"].fillna(0),
                    summary["mean"] + summary["std"].fillna(0), color=line.get_color(), alpha=0.2, lw=0)
    ax.scatter(table[x], table[y], s=4, color=line.get_color(), alpha=0.25, lw=0)
    return summary
