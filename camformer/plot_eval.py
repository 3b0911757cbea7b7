"""Figures of the evaluation chapters: measured-against-predicted density plots and seed curves.

Plotting only: the numbers come from :mod:`camformer.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .metrics import PAIR_SUBSETS, pearson_r, spearman_rho


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


def measured_vs_predicted(panels: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = "{}",
                          ncols: int | None = None, figsize: tuple[float, float] = (10, 4.5),
                          colorbar: bool = True, suptitle: str | None = None, axes=None, **scatter_kw):
    """One :func:`density_scatter` panel per entry of ``panels``, side by side.

    Parameters
    ----------
    panels : dict of str to (y, yhat)
        Panel name to measured and predicted values, each ``(n,)``.
    title : str
        Format string for each panel's title, filled with the panel name.
    ncols : int, optional
        Panels per row (all in one row when ``None``); unused axes are hidden.
    figsize : (float, float)
    colorbar : bool
        Add one colour bar (sequences per hexagon) for all panels; the panels then share axes.
        Without it the panels keep their own axes and the layout is tightened.
    suptitle : str, optional
        Title of the whole figure.
    axes : array of matplotlib Axes, optional
        At least one per panel; a new figure (``figsize``, ``ncols`` per row) when ``None``.
    **scatter_kw
        Passed to :func:`density_scatter` (``gridsize``, ``xlabel``, ``ylabel``); a callable
        ``xlabel`` or ``ylabel`` is called with the panel name.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    if axes is None:
        ncols = ncols or len(panels)
        nrows = -(-len(panels) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False,
                                 sharex=colorbar, sharey=colorbar)
    else:
        axes = np.asarray(axes, dtype=object)
        fig = axes.flat[0].figure
    for ax, (name, (y, yhat)) in zip(axes.flat, panels.items()):
        kw = {k: v(name) if callable(v) else v for k, v in scatter_kw.items()}
        art = density_scatter(ax, y, yhat, title=title.format(name), **kw)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    if colorbar:
        fig.colorbar(art, ax=axes, label="sequences per hexagon")
    else:
        fig.tight_layout()
    return fig


def seed_ensemble_curves(curves: dict[str, dict[str, pd.DataFrame]], *, axes=None,
                         x: str = "num_seeds", y: str = "average_score",
                         ylabel: str = "test {} (all 71,103)"):
    """Score against the number of seeds averaged: one panel per metric, one
    :func:`mean_sd_curve` per model.

    Parameters
    ----------
    curves : dict of str to dict of str to DataFrame
        Metric label (panel) to model name (line) to a table with columns ``x`` and ``y``
        (one row per combination of seeds, as the paper's ``seed_ensemble_*.csv``).
    axes : sequence of matplotlib Axes, optional
        One per metric; a new figure (10 x 3.8 in, tight layout) when ``None``.
    x, y : str
        Columns of the tables.
    ylabel : str
        Format string for the y label, filled with the metric label.

    Returns
    -------
    array of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    new_figure = axes is None
    if new_figure:
        _, axes = plt.subplots(1, len(curves), figsize=(10, 3.8), squeeze=False)
        axes = axes[0]
    for ax, (label, per_model) in zip(axes, curves.items()):
        for name, table in per_model.items():
            mean_sd_curve(ax, table, x, y, label=name)
        ax.set(xlabel="seeds averaged", ylabel=ylabel.format(label), title=f"{label}: seed ensembles")
        ax.legend()
    if new_figure:
        ax.figure.tight_layout()
    return np.asarray(axes)


def subset_panels(panels: dict[str, tuple[np.ndarray, np.ndarray]], *, suptitle: str | None = None,
                  ncols: int = 4, figsize: tuple[float, float] = (14, 6.5), gridsize: int = 40, axes=None):
    """Measured against predicted on each test subset (the paper's Figure S2): a grid of
    :func:`density_scatter` panels, labelled "alt − ref" for the variant subsets
    (:data:`camformer.metrics.PAIR_SUBSETS`), whose values are differences.

    Parameters
    ----------
    panels : dict of str to (y, yhat)
        Subset name to measured and predicted values (or differences), each ``(n,)``, as
        :func:`camformer.metrics.subset_values` returns them.
    suptitle : str, optional
    ncols : int
    figsize : (float, float)
    gridsize : int
        Hexagons across each panel.
    axes : array of matplotlib Axes, optional
        At least one per subset; a new figure when ``None``.

    Returns
    -------
    matplotlib Figure
    """
    def label(kind):
        return lambda subset: f"{kind} alt − ref" if subset in PAIR_SUBSETS else kind

    return measured_vs_predicted(panels, ncols=ncols, figsize=figsize, colorbar=False, gridsize=gridsize,
                                 suptitle=suptitle, axes=axes, xlabel=label("measured"), ylabel=label("predicted"))
