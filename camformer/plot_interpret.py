"""Figures of the interpretation chapters: sequence logos (logomaker), position-by-base
maps, 2-D embedding scatters and summaries of ISM effects (spread, GC content). Plotting
only: the numbers come from ``camformer.ism``, ``camformer.gradcam`` and ``camformer.embedding``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

BASES = list("ACGT")
BASE_COLOURS = {"A": "green", "C": "blue", "G": "orange", "T": "red"}


def logo(matrix: np.ndarray, *, ax=None, ylabel: str = r"$\Delta E$ / 3", title: str | None = None,
         start: int = 0, shade_below_zero: bool = True):
    """Draw a ``(4, L)`` matrix (rows A, C, G, T) as a sequence logo, the paper's ISM style:
    letters above zero raise the prediction, faded letters below zero lower it.

    Parameters
    ----------
    matrix : array, shape (4, L)
    ax : matplotlib Axes, optional (a new 10 x 2.4 in figure when ``None``)
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
        _, ax = plt.subplots(figsize=(10, 2.4))
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
    """Draw a ``(4, L)`` map (rows A, C, G, T) as a heat map (blue negative, red positive).

    Returns
    -------
    matplotlib Axes
    """
    maps = np.asarray(maps, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.4))
    lim = np.abs(maps).max() or 1.0
    image = ax.imshow(maps, cmap="seismic", aspect="auto", interpolation="nearest",
                      vmin=-lim if symmetric else None, vmax=lim if symmetric else None)
    ax.set_yticks(range(4), BASES)
    ax.set_xlabel("position (nt, 0-based)")
    if title:
        ax.set_title(title)
    if colorbar:
        plt.colorbar(image, ax=ax, label=label, pad=0.01)
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
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    order = np.argsort(values)  # draw high values last, on top
    points = ax.scatter(Y[order, 0], Y[order, 1], c=np.asarray(values)[order], s=6, cmap="viridis", linewidths=0)
    plt.colorbar(points, ax=ax, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
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


def logo_stack(matrices, titles, *, axes=None, spans=FLANKS, figsize: tuple[float, float] = (12, 5)):
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
        A new 12 x 3.5 in figure (tight layout) when ``None``.
    bins : int
    spans : sequence of (float, float)
        x-axis spans of the right panel to shade.

    Returns
    -------
    array of matplotlib Axes
    """
    new_figure = axes is None
    if new_figure:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.5))
    axes[0].hist(np.asarray(deltas), bins=bins, color="steelblue")
    axes[0].set_yscale("log")
    axes[0].set_xlabel(r"$\Delta E$ (variable region)")
    axes[0].set_ylabel("substitutions")
    axes[1].plot(per_position.index, per_position.to_numpy(), color="black")
    shade_flanks(axes[1], spans)
    axes[1].set_xlabel("position (nt, 0-based)")
    axes[1].set_ylabel(r"mean $|\Delta E|$")
    if new_figure:
        plt.tight_layout()
    return np.asarray(axes)


def gc_content_panels(scatters: dict[str, tuple[np.ndarray, np.ndarray]], by_class: pd.DataFrame, *,
                      bar_title: str = "ISM: changing GC content", axes=None,
                      colors=("tab:orange", "grey", "tab:green")):
    """Predicted expression against GC content (one scatter per entry of ``scatters``), then
    the mean ISM effect of each class of GC change as bars with standard errors (Figure S12).

    Parameters
    ----------
    scatters : dict of str to (gc, prediction)
        Panel title to GC content (%) and predicted expression, each ``(n,)``.
    by_class : DataFrame
        Index the classes of change, columns ``mean`` and ``sem`` (``camformer.ism.gc_change_effects``).
    bar_title : str
    axes : sequence of matplotlib Axes, optional
        ``len(scatters) + 1`` of them; a new 14 x 3.8 in figure (tight layout) when ``None``.
    colors : sequence of colours, one per class

    Returns
    -------
    array of matplotlib Axes
    """
    new_figure = axes is None
    if new_figure:
        _, axes = plt.subplots(1, len(scatters) + 1, figsize=(14, 3.8))
    for ax, (title, (gc, prediction)) in zip(axes, scatters.items()):
        ax.scatter(gc, prediction, s=2, alpha=0.1, color="black")
        ax.set_title(title)
        ax.set_xlabel("GC content (%)")
        ax.set_ylabel("predicted expression")
    bars = axes[len(scatters)]
    bars.bar(by_class.index, by_class["mean"], yerr=by_class["sem"], color=list(colors))
    bars.axhline(0, color="black", lw=0.5)
    bars.set_ylabel(r"mean $\Delta E$ ($\pm$ s.e.)")
    bars.set_title(bar_title)
    if new_figure:
        plt.tight_layout()
    return np.asarray(axes)
