"""Checks a figure test applies to a rendered matplotlib figure: the data fill each panel, and
every colour mapping has a colour bar."""

from __future__ import annotations

import numpy as np


def _is_colour_bar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _covered_fraction(data: tuple[float, float], view: tuple[float, float], log: bool) -> float:
    lo, hi = sorted(view)
    dlo, dhi = sorted(data)
    if log:
        lo, hi, dlo, dhi = (np.log10(max(v, 1e-300)) for v in (lo, hi, dlo, dhi))
    span = hi - lo
    return (min(hi, dhi) - max(lo, dlo)) / span if span > 0 else 1.0


def assert_data_fill_axes(fig, min_fraction: float = 0.5) -> None:
    """Each panel's data span at least ``min_fraction`` of its x and y axes (no panel where the
    data sit in a sliver). Panels without data and colour bars are skipped."""
    for i, ax in enumerate(fig.axes):
        box = ax.dataLim
        if _is_colour_bar(ax) or not np.all(np.isfinite(box.get_points())) or box.width == box.height == 0:
            continue
        for name, data, view, scale in (("x", box.intervalx, ax.get_xlim(), ax.get_xscale()),
                                        ("y", box.intervaly, ax.get_ylim(), ax.get_yscale())):
            fraction = _covered_fraction(data, view, scale == "log")
            assert fraction >= min_fraction, (
                f"axes {i} ({ax.get_title() or ax.get_xlabel()!r}): data cover {fraction:.0%} of the {name} "
                f"axis {view}, data {tuple(data)}; at least {min_fraction:.0%} expected")


def assert_colour_bars(fig) -> None:
    """Every colour mapping (an image, or a collection coloured by values through a colour map)
    has a colour bar in ``fig`` for it or for a mapping with the same norm."""
    bars = [ax._colorbar for ax in fig.axes if _is_colour_bar(ax)]
    norms = {id(bar.mappable.norm) for bar in bars} | {id(bar.norm) for bar in bars}
    mappables = {id(bar.mappable) for bar in bars}
    for i, ax in enumerate(fig.axes):
        if _is_colour_bar(ax):
            continue
        for art in [*ax.images, *ax.collections]:
            if getattr(art, "get_array", lambda: None)() is None:
                continue
            assert id(art) in mappables or id(art.norm) in norms, (
                f"axes {i} ({ax.get_title() or ax.get_xlabel()!r}): {type(art).__name__} maps values "
                "to colours but the figure has no colour bar for it")
