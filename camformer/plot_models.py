"""Draw a Camformer architecture (the paper's Fig. 2) from :func:`camformer.models.architecture_table`.

Plotting only: every label, shape and shortcut comes from the table, which is read from the
model object by a forward pass.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

_COLOURS = {"input": "#e8e8e8", "conv": "#cfe2f3", "pool": "#9fc5e8", "dense": "#fce5cd", "output": "#f4cccc"}


def _units(table: pd.DataFrame) -> list[dict]:
    """Boxes to draw, top to bottom: input, one per convolution block, flatten, one per Linear."""
    units = []
    first = table.iloc[0]
    units.append({"kind": "input", "residual": False,
                  "text": f"input\n{first.output_channels} × {first.output_length}"})
    blocks = table[table.block >= 0]
    for _, rows in blocks.groupby("block", sort=True):
        conv = rows[rows.type.str.startswith("Conv")].iloc[0]
        steps = [t for t in rows.type if not t.startswith("Conv")]
        pool = rows[rows.type.str.startswith("MaxPool")]
        if len(pool):
            steps = [f"MaxPool {pool.kernel.iloc[0]}/{pool.stride.iloc[0]}" if t.startswith("MaxPool") else t
                     for t in steps]
        last = rows.iloc[-1]
        units.append({
            "kind": "pool" if len(pool) else "conv", "residual": bool(rows.residual.any()),
            "text": (f"{conv.type} {conv.in_channels}→{conv.out_channels}, kernel {conv.kernel}\n"
                     f"{' · '.join(steps)}  →  {last.output_channels} × {last.output_length}"),
        })
    linears = table[table.type == "Linear"]
    if len(linears):
        units.append({"kind": "dense", "residual": False, "text": f"flatten → {linears.in_channels.iloc[0]:,}"})
    for i, (_, row) in enumerate(linears.iterrows()):
        is_output = i == len(linears) - 1
        units.append({"kind": "output" if is_output else "dense", "residual": False,
                      "text": f"Linear {row.in_channels:,}→{row.out_channels}" + ("" if is_output else " · ReLU · Dropout")})
    return units


def plot_architecture(table: pd.DataFrame, ax: plt.Axes | None = None, *, title: str | None = None) -> plt.Axes:
    """Draw a model as a stack of boxes with its residual shortcuts.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`camformer.models.architecture_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if ``None``.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    units = _units(table)
    n = len(units)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.62 * n + 0.5))
    height, left, width = 0.62, 0.0, 1.0
    centre = left + width / 2
    for j, unit in enumerate(units):
        y = n - 1 - j
        ax.add_patch(FancyBboxPatch((left, y - height / 2), width, height, boxstyle="round,pad=0.02",
                                    fc=_COLOURS[unit["kind"]], ec="#555555", lw=0.8))
        ax.text(centre, y, unit["text"], ha="center", va="center", fontsize=7.5)
        if j:
            ax.add_patch(FancyArrowPatch((centre, y + 1 - height / 2), (centre, y + height / 2),
                                         arrowstyle="-|>", mutation_scale=8, color="#555555", lw=0.8))
        if unit["residual"]:
            # The block's input (above it) is added to its output (below it).
            ax.add_patch(FancyArrowPatch((left + width, y + 0.5), (left + width, y - 0.5),
                                         connectionstyle="arc3,rad=-0.6", arrowstyle="-|>",
                                         mutation_scale=8, color="#cc0000", lw=1.0))
            ax.text(left + width + 0.1, y, "+", color="#cc0000", ha="center", va="center", fontsize=11)
    ax.set_xlim(left - 0.05, left + width + 0.3)
    ax.set_ylim(-0.6, n - 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
