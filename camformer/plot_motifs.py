"""Figures of the motif chapter: a motif-pair table drawn as a heatmap."""

from __future__ import annotations

import pandas as pd


def pair_heatmap(mean: pd.DataFrame, n: pd.DataFrame | None = None, *, labels=None, min_n: int = 1,
                 ax=None, title: str = "", label: str = "mean expression"):
    """Draw a ``(motifs, motifs)`` table of :func:`camformer.motifs.pair_matrix` as a heatmap.

    Parameters
    ----------
    mean : square DataFrame of means (diagonal: single motifs)
    n : square DataFrame of counts, optional: cells with fewer than ``min_n`` sequences are blank
    labels : tick labels (default the index)
    ax : matplotlib Axes (default a new figure's)
    title, label : the axes' title and the colour bar's label

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    labels = list(mean.index) if labels is None else list(labels)
    values = mean if n is None else mean.where(n >= min_n)
    sns.heatmap(values, ax=ax, cmap="inferno", square=True, xticklabels=labels, yticklabels=labels,
                cbar_kws={"label": label})
    ax.set_title(title, fontsize=10)
    return ax
