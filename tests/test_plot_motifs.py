"""Figure test of the motif heatmaps: known data fill each panel, every colour mapping has a
colour bar (tests/figure_checks.py), blank cells stay blank, and differences are centred on zero
as in the paper."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_checks import assert_colour_bars, assert_data_fill_axes  # noqa: E402

from camformer.plots.plot_motifs import heatmap_panels, pair_heatmap  # noqa: E402

NAMES = [f"m{i}" for i in range(6)]


def square(seed=0, low=10.0, high=15.0):
    values = np.random.default_rng(seed).uniform(low, high, (6, 6))
    return pd.DataFrame((values + values.T) / 2, index=NAMES, columns=NAMES)


def test_pair_heatmap_blanks_small_cells_and_labels():
    mean = square()
    n = pd.DataFrame(20, index=NAMES, columns=NAMES)
    n.loc["m0", "m1"] = n.loc["m1", "m0"] = 3
    ax = pair_heatmap(mean, n, min_n=10, labels=list("ABCDEF"), title="t", label="mean")
    shown = ax.images[0].get_array()
    assert shown.count() == 34 and np.ma.is_masked(shown[0, 1])  # the two cells under min_n are blank
    assert [t.get_text() for t in ax.get_xticklabels()] == list("ABCDEF") and ax.get_title() == "t"
    assert ax.images[0].colorbar.ax.get_ylabel() == "mean"
    assert_data_fill_axes(ax.figure, 0.9)
    assert_colour_bars(ax.figure)
    plt.close("all")


def test_difference_heatmap_is_symmetric_about_zero():
    diff = square(low=-1.0, high=3.0)
    ax = pair_heatmap(diff, diverging=True)
    low, high = ax.images[0].get_clim()
    assert high == pytest.approx(np.abs(diff.to_numpy()).max()) and low == pytest.approx(-high)
    cmap = ax.images[0].get_cmap()
    assert cmap.N == 40 and np.allclose(cmap(0.5)[:3], 1.0, atol=0.03)  # white at zero
    plt.close("all")


def test_heatmap_panels_fill_and_have_colour_bars():
    fig = heatmap_panels([{"values": square(1)}, {"values": square(2, -1, 1), "diverging": True},
                          {"values": square(3)}], ncols=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3 and fig.get_figwidth() == pytest.approx(7.0)
    assert_data_fill_axes(fig, 0.9)  # the fourth, empty slot is hidden
    assert_colour_bars(fig)
    # A figure of the paper's Figure 8b and 8c, drawn from its table.
    from camformer.explain.hierarchy import figure8bc as tables, paper_pair_effects
    from camformer.plots.plot_motifs import figure8bc

    fig = figure8bc(*tables(paper_pair_effects()))
    assert [ax.get_title()[:7] for ax in fig.axes if ax.images] == ["Fig. 8b", "Fig. 8c"]
    assert_data_fill_axes(fig, 0.9)
    assert_colour_bars(fig)
    plt.close("all")
