"""Generic checks of a drawn matplotlib figure, for the figure tests of every chapter's plots."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import Collection
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch


def _is_colour_bar(ax) -> bool:
    return ax.get_label() == "<colorbar>" or hasattr(ax, "_colorbar")


def _in_data_coordinates(artist, ax) -> bool:
    """Whether both of ``artist``'s coordinates are data coordinates (for points: their offsets)."""
    transforms = [artist.get_transform()]
    if isinstance(artist, Collection):
        transforms.append(artist.get_offset_transform())
    return any(all(t.contains_branch_seperately(ax.transData)) for t in transforms)


def _data_box(ax, renderer) -> np.ndarray | None:
    """``[[x0, y0], [x1, y1]]`` in pixels of everything drawn in data coordinates on ``ax`` (lines,
    points, bars, glyphs, images), clipped to the axes; reference lines and spans drawn partly in
    axes coordinates (``axhline``, ``axvspan``) do not count. None when nothing is drawn."""
    boxes = []
    for artist in ax.get_children():
        if (artist.get_visible() and isinstance(artist, (Line2D, AxesImage, Collection, Patch))
                and artist is not ax.patch and _in_data_coordinates(artist, ax)):
            if isinstance(artist, Collection):  # a collection's window extent is not always known
                box = ax.transData.transform(artist.get_datalim(ax.transData).get_points())
            else:
                box = artist.get_window_extent(renderer).get_points()
            if np.isfinite(box).all():
                boxes.append(box)
    if not boxes:
        return None
    every = np.concatenate(boxes)
    frame = ax.bbox.get_points()
    return np.clip(np.array([every.min(0), every.max(0)]), frame[0], frame[1])


def assert_data_fill_axes(fig, min_fraction: float = 0.5) -> None:
    """Every axes of ``fig`` that shows data (colour bars aside) is covered by its data over at least
    ``min_fraction`` of its width and of its height, as drawn: no panel where the data are a sliver."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    checked = 0
    for ax in fig.axes:
        box = None if _is_colour_bar(ax) else _data_box(ax, renderer)
        if box is None:
            continue
        checked += 1
        size = np.diff(ax.bbox.get_points(), axis=0)[0]
        for axis, name in enumerate("xy"):
            fraction = (box[1, axis] - box[0, axis]) / size[axis]
            assert fraction >= min_fraction, (
                f"axes {ax.get_title() or ax.get_label()!r}: the data cover {fraction:.0%} of its {name} extent, "
                f"less than {min_fraction:.0%}")
    assert checked, "the figure has no axes with data"


def assert_colour_bars(fig) -> None:
    """Every colour mapping of ``fig`` (an image, or points or cells coloured by values) has a colour bar."""
    for ax in fig.axes:
        if _is_colour_bar(ax):
            continue
        for artist in ax.images + [c for c in ax.collections if c.get_array() is not None]:
            assert getattr(artist, "colorbar", None) is not None, (
                f"axes {ax.get_title() or ax.get_label()!r}: a {type(artist).__name__} maps values to colours "
                "without a colour bar")
