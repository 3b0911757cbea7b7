"""Draw a Camformer architecture (the paper's Fig. 2) from :func:`camformer.models.networks.architecture_table`.

Plotting only: every label, shape and shortcut comes from the table, which is read from the
model object by a forward pass. The drawing is sized for the book's column (about 7 inches):
one narrow column of boxes per model, two models side by side, text of 7.5 points or more.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

_COLOURS = {"input": "#e8e8e8", "conv": "#cfe2f3", "pool": "#9fc5e8", "dense": "#fce5cd", "output": "#f4cccc"}
_SHORT = {"BatchNorm1d": "BN", "ReLU": "ReLU", "Dropout": "drop"}
_LEGEND = "BN: BatchNorm · drop: dropout · pool k/s: max-pool of kernel k, stride s · k: kernel width"
FONT_SIZE = 8.5
"""Points of the boxes' main line; the second line is 1 point smaller."""
_BOX_PITCH_IN = 0.46  # inches of figure height per box


def _units(table: pd.DataFrame) -> list[dict]:
    """Boxes to draw, top to bottom: input, one per convolution block, flatten, one per Linear.

    Each unit has ``kind``, ``residual`` (the block's input is added to its output), ``text``
    (the layer), ``detail`` (the steps after it, or "") and ``shape`` (its output, or "").
    """
    units = []
    first = table.iloc[0]
    units.append({"kind": "input", "residual": False, "text": "input", "detail": "",
                  "shape": f"{first.output_channels}×{first.output_length}"})
    blocks = table[table.block >= 0]
    for _, rows in blocks.groupby("block", sort=True):
        conv = rows[rows.type.str.startswith("Conv")].iloc[0]
        pool = rows[rows.type.str.startswith("MaxPool")]
        steps = []
        for t in rows.type:
            if t.startswith("Conv"):
                continue
            steps.append(f"pool {pool.kernel.iloc[0]}/{pool.stride.iloc[0]}" if t.startswith("MaxPool")
                         else _SHORT.get(t, t))
        last = rows.iloc[-1]
        units.append({
            "kind": "pool" if len(pool) else "conv", "residual": bool(rows.residual.any()),
            "text": f"Conv {conv.in_channels}→{conv.out_channels}, k {conv.kernel}",
            "detail": " · ".join(steps), "shape": f"{last.output_channels}×{last.output_length}",
        })
    linears = table[table.type == "Linear"]
    if len(linears):
        units.append({"kind": "dense", "residual": False, "text": "flatten", "detail": "",
                      "shape": f"{linears.in_channels.iloc[0]:,}"})
    for i, (_, row) in enumerate(linears.iterrows()):
        is_output = i == len(linears) - 1
        units.append({"kind": "output" if is_output else "dense", "residual": False,
                      "text": f"Linear {row.in_channels:,}→{row.out_channels}",
                      "detail": "" if is_output else "ReLU · drop", "shape": f"{row.out_channels}"})
    return units


def plot_architecture(table: pd.DataFrame, ax: plt.Axes | None = None, *, title: str | None = None) -> plt.Axes:
    """Draw a model as a column of boxes with its residual shortcuts and output shapes.

    Each box is one convolution block (its convolution on the first line; BatchNorm, ReLU, an
    optional max-pool and dropout on the second) or one dense layer; the output shape
    (channels×positions) stands to its right; a red arc on the left with a "+" marks a block
    whose input is added to its output.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`camformer.models.networks.architecture_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure (3.4 inches wide, 0.46 inch per box) if ``None``.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    units = _units(table)
    n = len(units)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, _BOX_PITCH_IN * n + 0.5))
    height, left, width = 0.78, 0.0, 1.0
    centre = left + width / 2
    for j, unit in enumerate(units):
        y = n - 1 - j
        ax.add_patch(FancyBboxPatch((left, y - height / 2), width, height, boxstyle="round,pad=0.02",
                                    fc=_COLOURS[unit["kind"]], ec="#555555", lw=0.8))
        if unit["detail"]:
            ax.text(centre, y + 0.16, unit["text"], ha="center", va="center", fontsize=FONT_SIZE)
            ax.text(centre, y - 0.19, unit["detail"], ha="center", va="center", fontsize=FONT_SIZE - 1,
                    color="#333333")
        else:
            ax.text(centre, y, unit["text"], ha="center", va="center", fontsize=FONT_SIZE)
        if unit["shape"]:
            ax.text(left + width + 0.06, y, unit["shape"], ha="left", va="center", fontsize=FONT_SIZE,
                    color="#1f3a68")
        if j:
            ax.add_patch(FancyArrowPatch((centre, y + 1 - height / 2 - 0.02), (centre, y + height / 2 + 0.02),
                                         arrowstyle="-|>", mutation_scale=7, color="#555555", lw=0.8))
        if unit["residual"]:
            # The block's input (above it) is added to its output (below it).
            ax.add_patch(FancyArrowPatch((left, y + 0.5), (left, y - 0.5), connectionstyle="arc3,rad=0.6",
                                         arrowstyle="-|>", mutation_scale=8, color="#cc0000", lw=1.0))
            ax.text(left - 0.2, y, "+", color="#cc0000", ha="center", va="center", fontsize=11)
    ax.set_xlim(left - 0.3, left + width + 0.42)
    ax.set_ylim(-0.55, n - 0.45)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1)
    return ax


def plot_architectures(tables: dict[str, pd.DataFrame], *, ncols: int = 2, width: float = 7.0) -> plt.Figure:
    """Several models side by side, ``ncols`` to a row, sized for a page ``width`` inches wide.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Title -> :func:`camformer.models.networks.architecture_table`; each title gets the model's
        parameter count appended.
    ncols : int
        Models per row.
    width : float
        Figure width in inches; the height follows from the tallest model of each row.

    Returns
    -------
    matplotlib Figure
        With a line below the panels that spells out the abbreviations.
    """
    names = list(tables)
    nrows = -(-len(names) // ncols)
    rows = [names[r * ncols:(r + 1) * ncols] for r in range(nrows)]
    boxes = [max(len(_units(tables[name])) for name in row) for row in rows]
    height = sum(_BOX_PITCH_IN * b + 0.55 for b in boxes) + 0.6
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(nrows, ncols, height_ratios=[b + 1.2 for b in boxes], hspace=0.12, wspace=0.05,
                            left=0.01, right=0.99, top=1 - 0.45 / height, bottom=0.3 / height)
    for r, row in enumerate(rows):
        for c, name in enumerate(row):
            ax = fig.add_subplot(grid[r, c])
            table = tables[name]
            plot_architecture(table, ax=ax, title=f"{name}\n{int(table.params.sum()):,} parameters")
            # Rows of one grid row share the tallest model's scale, so boxes have one size.
            ax.set_ylim(len(_units(table)) - 0.45 - (boxes[r] + 0.1), len(_units(table)) - 0.45)
    fig.text(0.5, 0.08 / height, _LEGEND, ha="center", va="bottom", fontsize=FONT_SIZE - 1, color="#333333")
    return fig
