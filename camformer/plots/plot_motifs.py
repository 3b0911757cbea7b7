"""Figures of the motif chapters: motif-pair tables drawn as heatmaps, as the paper's Figure 8.

The paper (``manuscript_figures/Figure_8/Figure8bc.R``) draws each table with ``pheatmap``: the
motifs ordered by their own (diagonal) mean, highest first; means in 40 colours of inferno;
differences in 40 colours from dark blue through white to dark orange, centred on zero with
limits at plus and minus the largest absolute difference; cells without data left blank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DPI = 130  # for screens: a 7-inch-wide figure is about 900 pixels
N_COLOURS = 40  # as the paper's number_of_colors / paletteLength
DIVERGING = ("darkblue", "white", "darkorange")


def pair_heatmap(values: pd.DataFrame, n: pd.DataFrame | None = None, *, min_n: int = 1, labels=None, ax=None,
                 title: str = "", label: str = "mean expression", diverging: bool = False):
    """Draw a square ``(motifs, motifs)`` table (:func:`camformer.explain.motifs.pair_matrix`) with a colour bar.

    Parameters
    ----------
    values : square DataFrame (diagonal: single motifs); NaN cells are blank
    n : square DataFrame of counts, optional: cells with fewer than ``min_n`` sequences are blank
    labels : tick labels (default the index)
    ax : matplotlib Axes (default a new figure's)
    title, label : the axes' title and the colour bar's label
    diverging : differences (blue-white-orange, symmetric about 0) instead of means (inferno)

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2), dpi=DPI)
    labels = list(values.index) if labels is None else list(labels)
    shown = values if n is None else values.where(n >= min_n)
    data = np.ma.masked_invalid(shown.to_numpy(dtype=np.float64))
    if diverging:
        top = float(np.abs(data).max()) if data.count() else 1.0
        cmap = LinearSegmentedColormap.from_list("blue_white_orange", DIVERGING, N=N_COLOURS)
        limits = {"vmin": -top, "vmax": top}
    else:
        cmap, limits = plt.get_cmap("inferno", N_COLOURS), {}
    image = ax.imshow(data, cmap=cmap, interpolation="nearest", **limits)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=9)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return ax


def heatmap_panels(panels: list[dict], *, ncols: int = 2, width: float = 7.0):
    """A figure of :func:`pair_heatmap` panels, ``ncols`` to a row, sized for the book's column.

    Parameters
    ----------
    panels : keyword arguments of :func:`pair_heatmap`, one dict per panel
    ncols : panels per row
    width : figure width in inches (each panel is about as tall as it is wide)

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, nrows * width / ncols * 0.92), dpi=DPI,
                             squeeze=False, layout="constrained")
    for ax, panel in zip(axes.ravel(), panels):
        pair_heatmap(ax=ax, **panel)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    return fig


def figure8bc(means: pd.DataFrame, differences: pd.DataFrame):
    """The paper's Figure 8b (predicted means) and 8c (each cell minus its row's motif alone)
    side by side, from :func:`camformer.explain.hierarchy.figure8bc`'s two tables.

    Returns
    -------
    matplotlib Figure
    """
    return heatmap_panels([
        dict(values=means, label="mean predicted (0-17)", title="Fig. 8b (predicted): training data"),
        dict(values=differences, diverging=True, label="pair − row motif alone",
             title="Fig. 8c: difference from the row's motif")])
