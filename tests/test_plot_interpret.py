"""Figures of the interpretation chapters on data with known ranges: column-wide, the data fill
every panel, every colour mapping has its colour bar (tests/figure_checks.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_checks import assert_colour_bars, assert_data_fill_axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from camformer.plots import plot_interpret  # noqa: E402
from camformer.plots.plot_interpret import COLUMN_WIDTH  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _column_wide(fig):
    assert fig.get_figwidth() <= COLUMN_WIDTH


def test_base_map_stack_has_a_colour_bar_per_map():
    rng = np.random.default_rng(0)
    maps = {f"layer {i}": rng.normal(size=(4, 110)) for i in range(3)}
    axes = plot_interpret.base_map_stack(maps)
    fig = axes[0].figure
    _column_wide(fig)
    assert [ax.get_title() for ax in axes] == list(maps)
    assert len(fig.axes) == 6  # three maps, three colour bars
    assert_colour_bars(fig)
    assert_data_fill_axes(fig, min_fraction=0.95)
    image = axes[1].images[0]
    np.testing.assert_array_equal(image.get_array(), maps["layer 1"])
    assert image.get_clim() == pytest.approx((-np.abs(maps["layer 1"]).max(), np.abs(maps["layer 1"]).max()))


def test_figure_checks_catch_a_missing_colour_bar_and_a_sliver():
    fig, ax = plt.subplots()
    plot_interpret.base_map(np.ones((4, 10)), ax=ax, colorbar=False)
    with pytest.raises(AssertionError, match="without a colour bar"):
        assert_colour_bars(fig)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlim(-10, 10)
    with pytest.raises(AssertionError, match="of the width"):
        assert_data_fill_axes(fig)


def test_profile_bars_colour_by_sign():
    profiles = pd.DataFrame({"a": np.linspace(-1, 1, 110), "b": np.sin(np.arange(110) / 10)})
    axes = plot_interpret.profile_bars(profiles)
    _column_wide(axes[0].figure)
    bars = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    assert len(bars) == 110 and bars[0].get_height() == pytest.approx(-1.0)
    assert bars[0].get_facecolor() != bars[-1].get_facecolor()
    assert_data_fill_axes(axes[0].figure, min_fraction=0.9)


def test_agreement_strips_points_and_intervals():
    rng = np.random.default_rng(0)
    per_sequence = {"IG": rng.uniform(-0.2, 0.9, 50), "Saliency": np.append(rng.uniform(-0.8, 0.4, 49), np.nan)}
    table = pd.DataFrame({"mean_r": [0.35, -0.2], "ci_low": [0.3, -0.25], "ci_high": [0.4, -0.15]},
                         index=["IG", "Saliency"])
    ax = plot_interpret.agreement_strips(per_sequence, table)
    _column_wide(ax.figure)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["IG", "Saliency"]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in points] == [50, 49]  # the NaN is left out
    means = [line.get_xydata()[0].tolist() for line in ax.lines if line.get_marker() == "o"]
    assert means == [[0.35, 0.0], [-0.2, 1.0]]
    assert_data_fill_axes(ax.figure, min_fraction=0.5)


def test_embedding_scatter_has_its_colour_bar():
    Y = np.random.default_rng(0).normal(size=(100, 2))
    ax = plot_interpret.embedding_scatter(Y, Y[:, 0], label="measured expression")
    _column_wide(ax.figure)
    assert_colour_bars(ax.figure)
    assert_data_fill_axes(ax.figure, min_fraction=0.8)


def test_gc_content_panels_scatter_line_bars():
    by_class = pd.DataFrame({"sequence_mean": [0.02, 0.0, -0.03], "ci_low": [0.01, -0.01, -0.05],
                             "ci_high": [0.03, 0.01, -0.01]}, index=["A/T → G/C", "GC kept", "G/C → A/T"])
    gc = np.array([40.0, 50.0, 60.0])
    stats = {"r": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 3}
    scatters = {"measured": (gc, np.array([1.0, 2.0, 3.0]), "measured expression", stats),
                "predicted": (np.array([45.0, 55.0]), np.array([0.5, 0.7]), "predicted expression", None)}
    axes = plot_interpret.gc_content_panels(scatters, by_class, bar_title="ISM (2 promoters)")
    fig = axes[0].figure
    _column_wide(fig)
    assert len(axes) == 3 and len(fig.axes) == 3  # the fourth cell of the 2 x 2 grid is removed
    np.testing.assert_allclose(axes[0].collections[0].get_offsets(), np.column_stack([gc, [1, 2, 3]]))
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [1.0, 3.0])  # the least-squares line
    assert axes[0].get_ylabel() == "measured expression" and axes[1].get_ylabel() == "predicted expression"
    assert "n = 3" in axes[0].texts[0].get_text()
    bars = [p for p in axes[2].patches if isinstance(p, Rectangle)]
    np.testing.assert_allclose([p.get_height() for p in bars], [0.02, 0.0, -0.03])
    assert axes[2].get_title() == "ISM (2 promoters)"
    assert_data_fill_axes(fig, min_fraction=0.5)


def test_logo_and_spread_figures_are_column_wide():
    axes = plot_interpret.logo_stack([np.full((4, 110), -0.1), np.full((4, 110), 0.1)], ["high", "low"])
    _column_wide(axes[0].figure)
    deltas = np.random.default_rng(0).laplace(scale=0.01, size=5000)  # most small, a few large
    per_position = pd.Series(np.linspace(0, 1, 110), index=np.arange(110))
    axes = plot_interpret.effect_spread(deltas, per_position)
    _column_wide(axes[0].figure)
    assert_data_fill_axes(axes[0].figure, min_fraction=0.7)
