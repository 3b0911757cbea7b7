"""Checks any figure test can use: the data fill each axis, and every colour mapping has a colour bar.

Both work on a drawn matplotlib Figure and know nothing of what it shows.

- *Data* are the marks of an axes: collections (points, hexagons, filled bands, meshes), patches
  (bars, boxes), images, and lines with markers or at least three points. A two-point line without
  markers (a y = x or regression line, a whisker, ``axhline``) is a guide, not data. Text and
  legends are not data.
- A *colour mapping* is a collection or image that maps an array of values through a colormap.
  It is covered when it, or a mapping sharing its norm (panels drawn on one scale), has a colour bar.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.transforms import Bbox


def _is_colour_bar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _data_artists(ax) -> list:
    def marked(line) -> bool:
        return line.get_marker() not in (None, "", "None", " ")

    lines = [line for line in ax.lines if len(line.get_xydata()) >= 3 or marked(line)]
    return [a for a in [*ax.collections, *ax.patches, *ax.images, *lines] if a.get_visible()]


def _collection_extent(collection, ax) -> Bbox:
    """Display-space extent of a collection: its data limits (for hexbin, the hexagons' centres
    widened by one hexagon, which ``get_datalim`` cannot give) mapped through ``ax.transData``."""
    box = collection.get_datalim(ax.transData)
    if not np.isfinite(box.get_points()).all():
        offsets = np.asarray(collection.get_offsets(), np.float64)
        if not len(offsets) or not collection.get_paths():
            return Bbox.null()
        shape = collection.get_paths()[0].vertices
        box = Bbox([offsets.min(axis=0) + shape.min(axis=0), offsets.max(axis=0) + shape.max(axis=0)])
    return box.transformed(ax.transData)


def data_fill(ax, renderer=None) -> tuple[float, float]:
    """Shares ``(x, y)`` of the axes' width and height that its data marks span (1 = edge to edge)."""
    if renderer is None:
        ax.figure.canvas.draw()  # settle the limits (autoscaling is lazy) before measuring
        renderer = ax.figure.canvas.get_renderer()
    boxes = [_collection_extent(a, ax) if isinstance(a, Collection) else a.get_window_extent(renderer)
             for a in _data_artists(ax)]
    boxes = [b for b in boxes if np.isfinite(b.get_points()).all() and (b.width > 0 or b.height > 0)]
    if not boxes:
        return 0.0, 0.0
    union = Bbox.intersection(Bbox.union(boxes), ax.bbox)
    if union is None:
        return 0.0, 0.0
    return union.width / ax.bbox.width, union.height / ax.bbox.height


def assert_data_fill_axes(fig: Figure, min_fraction: float = 0.5) -> None:
    """Every visible axes of ``fig`` (colour bars aside) holds data spanning at least
    ``min_fraction`` of its width and of its height.

    Raises
    ------
    AssertionError
        Naming the axes (its title or labels) and the shares found.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or _is_colour_bar(ax) or not ax.axison:
            continue
        fx, fy = data_fill(ax, renderer)
        name = ax.get_title() or ax.get_xlabel() or ax.get_ylabel() or f"axes {i}"
        assert fx >= min_fraction and fy >= min_fraction, (
            f"{name!r}: data span {fx:.0%} of the width and {fy:.0%} of the height "
            f"(at least {min_fraction:.0%} each expected)")


def colour_mappings(fig: Figure) -> list:
    """The collections and images of ``fig`` that map values through a colormap (colour bars aside)."""
    found = []
    for ax in fig.axes:
        if _is_colour_bar(ax):
            continue
        for artist in [*ax.collections, *ax.images]:
            if isinstance(artist, (Collection, AxesImage)) and artist.get_array() is not None:
                found.append(artist)
    return found


def assert_colour_bars(fig: Figure) -> None:
    """Every colour mapping of ``fig`` has a colour bar (its own, or one of a mapping with the same norm).

    Raises
    ------
    AssertionError
        Naming the axes whose mapping has none.
    """
    mappings = colour_mappings(fig)
    covered = {id(m.norm) for m in mappings if getattr(m, "colorbar", None) is not None}
    for m in mappings:
        if id(m.norm) not in covered:
            ax = m.axes
            name = ax.get_title() or ax.get_xlabel() or "an axes"
            raise AssertionError(f"{name!r}: a {type(m).__name__} maps values to colours without a colour bar")

