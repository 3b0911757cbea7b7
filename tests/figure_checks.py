"""Small checks of rendered matplotlib figures, shared by the figure tests.

- :func:`assert_data_fill_axes`: the data span most of each axis (no panel where they are a sliver);
- :func:`assert_colour_bars`: every colour mapping of a figure has a colour bar.
"""

from __future__ import annotations

import numpy as np


def _data_extent(ax) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` of what is drawn: for an image its cells that hold data (not masked or
    NaN), else the axes' data limits."""
    if not ax.images:
        box = ax.dataLim
        return box.x0, box.x1, box.y0, box.y1
    boxes = []
    for image in ax.images:
        data = np.ma.masked_invalid(np.ma.asarray(image.get_array()))
        rows, cols = np.nonzero(~np.ma.getmaskarray(data))
        if len(rows) == 0:
            continue
        left, right, bottom, top = image.get_extent()
        dx, dy = (right - left) / data.shape[1], (top - bottom) / data.shape[0]
        xs = (left + cols.min() * dx, left + (cols.max() + 1) * dx)
        ys = (bottom + rows.min() * dy, bottom + (rows.max() + 1) * dy)
        boxes.append((min(xs), max(xs), min(ys), max(ys)))
    if not boxes:
        return (0.0, 0.0, 0.0, 0.0)
    boxes = np.array(boxes)
    return boxes[:, 0].min(), boxes[:, 1].max(), boxes[:, 2].min(), boxes[:, 3].max()


def assert_data_fill_axes(ax, fraction: float = 0.8) -> None:
    """Assert that the data drawn on ``ax`` span at least ``fraction`` of its x and y ranges."""
    x0, x1, y0, y1 = _data_extent(ax)
    for name, (low, high), span in (("x", sorted(ax.get_xlim()), x1 - x0), ("y", sorted(ax.get_ylim()), y1 - y0)):
        assert span >= fraction * (high - low), (
            f"axes {ax.get_title()!r}: the data span {span:.3g} of the {name} range {high - low:.3g} "
            f"(less than {fraction:.0%})")


def assert_colour_bars(fig) -> None:
    """Assert that every colour mapping (an image, or a collection coloured by values) drawn on an
    axes of ``fig`` has a colour bar."""
    for ax in fig.axes:
        if hasattr(ax, "_colorbar"):  # the colour bar's own axes
            continue
        mappables = list(ax.images) + [c for c in ax.collections if c.get_array() is not None]
        for mappable in mappables:
            assert mappable.colorbar is not None, (
                f"axes {ax.get_title()!r}: a {type(mappable).__name__} maps values to colours without a colour bar")
