"""Figures of the interpretation chapters: sequence logos (logomaker), position-by-base
maps, 2-D embedding scatters and summaries of ISM effects (spread, GC content). Plotting
only: the numbers come from ``camformer.explain.ism``, ``camformer.explain.gradcam`` and ``camformer.explain.embedding``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

BASES = list("ACGT")
#: Width of the book's text column in inches: every figure here is drawn at most this wide.
COLUMN_WIDTH = 7.0
BASE_COLOURS = {"A": "green", "C": "blue", "G": "orange", "T": "red"}


def logo(matrix: np.ndarray, *, ax=None, ylabel: str = r"$\Delta E$ / 3", title: str | None = None,
         start: int = 0, shade_below_zero: bool = True):
    """Draw a ``(4, L)`` matrix (rows A, C, G, T) as a sequence logo, the paper's ISM style:
    letters above zero raise the prediction, faded letters below zero lower it.

    Parameters
    ----------
    matrix : array, shape (4, L)
    ax : matplotlib Axes, optional (a new column-wide figure, 2.2 in high, when ``None``)
    ylabel, title : str
    start : int
        Position of the first column (x-axis labels are positions, 0-based).
    shade_below_zero : bool

    Returns
    -------
    matplotlib Axes
    """
    import logomaker

    matrix = np.asarray(matrix, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.2))
    frame = pd.DataFrame(matrix.T, columns=BASES, index=np.arange(start, start + matrix.shape[1]))
    drawn = logomaker.Logo(frame, ax=ax, color_scheme=BASE_COLOURS)
    if shade_below_zero:
        drawn.style_glyphs(shade_below_zero=True, fade_below_zero=True)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("position (nt, 0-based)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def base_map(maps: np.ndarray, *, ax=None, title: str | None = None, symmetric: bool = True,
             colorbar: bool = True, label: str = "Grad-CAM"):
    """Draw a ``(4, L)`` map (rows A, C, G, T) as a heat map (blue negative, red positive),
    with a colour bar (``label``) unless ``colorbar=False``.

    Parameters
    ----------
    maps : array, shape (4, L)
    ax : matplotlib Axes, optional (a new column-wide figure, 1.4 in high, when ``None``)
    title : str, optional
    symmetric : bool
        Colour limits ``±max|maps|`` (white is 0).

    Returns
    -------
    matplotlib Axes
    """
    maps = np.asarray(maps, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, 1.4))
    lim = np.abs(maps).max() or 1.0
    image = ax.imshow(maps, cmap="seismic", aspect="auto", interpolation="nearest",
                      vmin=-lim if symmetric else None, vmax=lim if symmetric else None)
    ax.set_yticks(range(4), BASES)
    ax.set_xlabel("position (nt, 0-based)")
    if title:
        ax.set_title(title, fontsize="medium")
    if colorbar:
        plt.colorbar(image, ax=ax, label=label, pad=0.01, fraction=0.04)
    return ax


def base_map_stack(maps: dict[str, np.ndarray], *, label: str = "Grad-CAM", row_height: float = 1.25):
    """Several ``(4, L)`` maps (:func:`base_map`), one per row on a shared position axis, each with
    its own colour bar; the figure is column-wide.

    Parameters
    ----------
    maps : dict title -> array ``(4, L)``
    label : str
        The colour bars' label.
    row_height : float
        Inches per map.

    Returns
    -------
    array of matplotlib Axes
    """
    _, axes = plt.subplots(len(maps), 1, figsize=(COLUMN_WIDTH, row_height * len(maps) + 0.5), sharex=True,
                             squeeze=False, layout="constrained")
    axes = axes[:, 0]
    for ax, (title, matrix) in zip(axes, maps.items()):
        base_map(matrix, ax=ax, title=title, label=label)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    return axes


def profile_bars(profiles: "pd.DataFrame", *, row_height: float = 1.0):
    """Per-position attribution profiles (columns of ``profiles``, one row per position) as bar
    charts, one method per row on a shared position axis: red pushes the prediction up, blue down.

    Returns
    -------
    array of matplotlib Axes
    """
    _, axes = plt.subplots(profiles.shape[1], 1, figsize=(COLUMN_WIDTH, row_height * profiles.shape[1] + 0.5),
                             sharex=True, squeeze=False, layout="constrained")
    axes = axes[:, 0]
    positions = np.arange(len(profiles))
    for ax, name in zip(axes, profiles.columns):
        values = profiles[name].to_numpy(np.float64)
        ax.bar(positions, values, color=np.where(values >= 0, "tab:red", "tab:blue"), width=1.0)
        ax.set_title(name, fontsize="medium", loc="left")
        ax.margins(x=0.005)
    axes[-1].set_xlabel("position (nt, 0-based)")
    return axes


def agreement_strips(per_sequence: dict[str, np.ndarray], table: "pd.DataFrame", *, reference: str = "Grad-CAM",
                     ax=None, seed: int = 0):
    """Per-sequence correlations of each method's profile with the reference's, one strip per
    method (jittered points), with the mean and its interval from ``table``
    (:func:`camformer.explain.attribution.agreement_table`) drawn as a black point and bar.

    Parameters
    ----------
    per_sequence : dict name -> array ``(n,)`` of r (NaN are left out)
    table : DataFrame indexed by name with ``mean_r, ci_low, ci_high``
    ax : matplotlib Axes, optional (a new column-wide figure when ``None``)
    seed : int
        Jitter of the points.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, 0.7 * len(per_sequence) + 1.0), layout="constrained")
    rng = np.random.default_rng(seed)
    for i, (name, r) in enumerate(per_sequence.items()):
        r = np.asarray(r, np.float64)
        r = r[np.isfinite(r)]
        ax.scatter(r, i + rng.uniform(-0.25, 0.25, len(r)), s=5, alpha=0.35, color="tab:grey", linewidths=0)
        row = table.loc[name]
        if np.isfinite(row["mean_r"]):
            ax.errorbar(row["mean_r"], i, xerr=[[row["mean_r"] - row["ci_low"]], [row["ci_high"] - row["mean_r"]]],
                        fmt="o", color="black", capsize=4, markersize=5)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_yticks(range(len(per_sequence)), list(per_sequence))
    ax.set_ylim(len(per_sequence) - 0.5, -0.5)  # the first method on top
    ax.set_xlim(-1.02, 1.02)
    ax.set_xlabel(f"Pearson r with the {reference} profile, per sequence (black: mean, 95% CI)")
    return ax


def embedding_scatter(Y: np.ndarray, values: np.ndarray, *, ax=None, label: str = "expression",
                      xlabel: str = "axis 1", ylabel: str = "axis 2", title: str | None = None):
    """Scatter a 2-D map ``(N, 2)`` coloured by ``values`` ``(N,)`` (viridis colour bar).

    Returns
    -------
    matplotlib Axes
    """
    Y = np.asarray(Y)
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH / 2, 3.0), layout="constrained")
    order = np.argsort(values)  # draw high values last, on top
    points = ax.scatter(Y[order, 0], Y[order, 1], c=np.asarray(values)[order], s=6, cmap="viridis", linewidths=0)
    plt.colorbar(points, ax=ax, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


#: The constant plasmid flanks of the 110-nt test promoters (0-based positions 0-16 and 97-109),
#: as x-axis spans that cover whole letters.
FLANKS: tuple[tuple[float, float], ...] = ((-0.5, 16.5), (96.5, 109.5))


def shade_flanks(ax, spans=FLANKS, *, color: str = "grey", alpha: float = 0.15):
    """Shade the x-axis ``spans`` (by default the constant flanks, :data:`FLANKS`) of ``ax``.

    Returns
    -------
    matplotlib Axes
    """
    for low, high in spans:
        ax.axvspan(low, high, color=color, alpha=alpha)
    return ax


def logo_stack(matrices, titles, *, axes=None, spans=FLANKS, figsize: tuple[float, float] = (COLUMN_WIDTH, 4.4)):
    """Sequence logos (:func:`logo`) of several ``(4, L)`` matrices, one above the other on a
    shared x axis, with the constant flanks shaded.

    Parameters
    ----------
    matrices : sequence of arrays, shape (4, L)
    titles : sequence of str
        One per matrix.
    axes : sequence of matplotlib Axes, optional
        One per matrix; a new figure (tight layout) when ``None``.
    spans : sequence of (float, float)
        x-axis spans to shade (:func:`shade_flanks`); empty for none.
    figsize : (float, float)

    Returns
    -------
    array of matplotlib Axes
    """
    new_figure = axes is None
    if new_figure:
        _, axes = plt.subplots(len(matrices), 1, figsize=figsize, sharex=True, squeeze=False)
        axes = axes[:, 0]
    for ax, matrix, title in zip(axes, matrices, titles):
        logo(matrix, ax=ax, title=title)
        ax.title.set_fontsize("medium")
        shade_flanks(ax, spans)
    if new_figure:
        plt.tight_layout()
    return np.asarray(axes)


def effect_spread(deltas: np.ndarray, per_position: pd.Series, *, axes=None, bins: int = 80, spans=FLANKS):
    """Two panels on the size of variant effects: a histogram (log counts) of ``deltas`` and
    the mean absolute effect at each position, with the constant flanks shaded.

    Parameters
    ----------
    deltas : array, shape (n,)
        Effects $\\Delta E$ of the substitutions in the variable region.
    per_position : Series
        Mean $|\\Delta E|$ indexed by position (0-based).
    axes : pair of matplotlib Axes, optional
        A new column-wide figure (tight layout) when ``None``.
    bins : int
    spans : sequence of (float, float)
        x-axis spans of the right panel to shade.

    Returns
    -------
    array of matplotlib Axes
    """
    new_figure = axes is None
    if new_figure:
        _, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 2.8))
    axes[0].hist(np.asarray(deltas), bins=bins, color="steelblue")
    axes[0].set_yscale("log")
    axes[0].set_xlabel(r"$\Delta E$ (variable region)")
    axes[0].set_ylabel("substitutions")
    axes[1].plot(per_position.index, per_position.to_numpy(), color="black")
    axes[1].margins(x=0)
    shade_flanks(axes[1], spans)
    axes[1].set_xlabel("position (nt, 0-based)")
    axes[1].set_ylabel(r"mean $|\Delta E|$")
    if new_figure:
        plt.tight_layout()
    return np.asarray(axes)


def gc_scatter(gc: np.ndarray, values: np.ndarray, *, ax, title: str, ylabel: str, stats: dict | None = None):
    """One panel of the paper's Figure S12: ``values`` against GC content (%), translucent points,
    the least-squares line (red, dashed) and, from ``stats`` (:func:`camformer.explain.gc_content.gc_correlation`),
    n and r with its interval printed in the corner.

    Returns
    -------
    matplotlib Axes
    """
    gc = np.asarray(gc, np.float64)
    values = np.asarray(values, np.float64)
    ax.scatter(gc, values, s=2, alpha=0.1, color="black", linewidths=0)
    if np.ptp(gc) > 0 and np.ptp(values) > 0:
        slope, intercept = np.polyfit(gc, values, 1)
        ends = np.array([gc.min(), gc.max()])
        ax.plot(ends, intercept + slope * ends, color="#FF3333", ls="--", lw=1)
    if stats is not None:
        r = "undefined" if not np.isfinite(stats["r"]) else (
            f"{stats['r']:.3f}\n[{stats['ci_low']:.3f}, {stats['ci_high']:.3f}]")
        ax.text(0.03, 0.97, f"n = {stats['n']:,}\nr = {r}", transform=ax.transAxes, va="top", fontsize="small")
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("GC content (%)")
    ax.set_ylabel(ylabel)
    return ax


def gc_content_panels(scatters: dict[str, tuple], by_class: pd.DataFrame, *, bar_title: str = "ISM: changing GC content",
                      axes=None, colors=("tab:orange", "grey", "tab:green")):
    """Expression against GC content (:func:`gc_scatter`, one panel per entry of ``scatters``),
    then the mean ISM effect of each class of GC change, over sequences, with its 95% interval
    (Figure S12 and its ISM view). Panels are laid out two per row, column-wide.

    Parameters
    ----------
    scatters : dict of str to (gc, values, ylabel, stats)
        Panel title to GC content (%) ``(n,)``, expression ``(n,)``, the y label (say whether it is
        measured or predicted) and :func:`camformer.explain.gc_content.gc_correlation` (or None).
    by_class : DataFrame
        Index the classes of change, columns ``sequence_mean, ci_low, ci_high``
        (:func:`camformer.explain.ism.gc_change_effects`).
    bar_title : str
    axes : sequence of matplotlib Axes, optional
        ``len(scatters) + 1`` of them; a new figure when ``None``.
    colors : sequence of colours, one per class

    Returns
    -------
    array of matplotlib Axes
    """
    new_figure = axes is None
    if new_figure:
        rows = (len(scatters) + 2) // 2
        _, grid = plt.subplots(rows, 2, figsize=(COLUMN_WIDTH, 2.9 * rows), layout="constrained")
        axes = grid.ravel()
        for extra in axes[len(scatters) + 1:]:
            extra.remove()
        axes = axes[:len(scatters) + 1]
    for ax, (title, (gc, values, ylabel, stats)) in zip(axes, scatters.items()):
        gc_scatter(gc, values, ax=ax, title=title, ylabel=ylabel, stats=stats)
    bars = axes[len(scatters)]
    mean = by_class["sequence_mean"].to_numpy(np.float64)
    error = np.abs(np.vstack([mean - by_class["ci_low"].to_numpy(np.float64),
                              by_class["ci_high"].to_numpy(np.float64) - mean]))
    bars.bar(by_class.index, mean, yerr=np.nan_to_num(error), color=list(colors), capsize=3)
    bars.axhline(0, color="black", lw=0.5)
    bars.set_ylabel(r"mean $\Delta E$ (95% CI)")
    bars.set_title(bar_title, fontsize="medium")
    bars.tick_params(axis="x", labelsize="small")
    return np.asarray(axes)
