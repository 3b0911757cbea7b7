"""Figures of the interpretation chapters: sequence logos (logomaker), position-by-base
maps and 2-D embedding scatters. Plotting only: the numbers come from ``camformer.ism``,
``camformer.gradcam`` and ``camformer.embedding``."""

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
