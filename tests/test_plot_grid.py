"""The grid chapters' figures (camformer.plots.plot_grid) on data with known ranges: the data fill each
panel, the axis clips a collapsed run and says so."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_checks import assert_colour_bars, assert_data_fill_axes  # noqa: E402

from camformer.plots import plot_grid
from camformer.stats import factorial  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _grid(collapsed: bool = True) -> pd.DataFrame:
    """A 2 x 3 x 4 grid with r between 0.70 and 0.75, and (``collapsed``) one Lion run at 0.01."""
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(itertools.product(("AdamW", "Lion"), ("L1", "MSE", "Huber"), range(4)),
                        columns=["optimiser", "loss", "rep"])
    runs["r"] = 0.72 + 0.02 * (runs["optimiser"] == "AdamW") + rng.uniform(-0.01, 0.01, len(runs))
    if collapsed:
        runs.loc[(runs["optimiser"] == "Lion") & (runs["rep"] == 0) & (runs["loss"] == "L1"), "r"] = 0.01
    return runs


def test_whisker_range_is_tukeys():
    # quartiles of 1..9 are 3 and 7 (IQR 4): whiskers reach 1 and 9; 100 lies beyond 7 + 6 = 13
    assert plot_grid.whisker_range([np.r_[1:10, 100.0]]) == (1.0, 9.0)
    assert plot_grid.whisker_range([np.array([0.5, 0.6]), np.array([0.2, np.nan, 0.3])]) == (0.2, 0.6)
    with pytest.raises(ValueError):
        plot_grid.whisker_range([np.array([np.nan])])


def test_factor_boxplots_clip_to_the_informative_range_and_count_the_rest():
    runs = _grid()
    factors = ["optimiser", "loss", "rep"]
    tests = factorial.paired_level_tests(runs, factors, "r")
    fig, outside = plot_grid.factor_boxplots(runs, factors, "r", tests, label="validation r")
    ax = fig.axes[0]
    assert outside == 1
    low, high = ax.get_xlim()
    assert 0.69 < low < 0.71 and 0.74 < high < 0.76  # not stretched down to the collapsed run
    assert any("1 run below" in t.get_text() for t in ax.texts)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["AdamW", "Lion"] and len(labels) == 2 + 3 + 4  # higher median first
    assert sum(t.get_text().startswith("p=") for t in ax.texts) == 1 + 2 + 3  # one per neighbours
    assert fig.get_figwidth() <= 7 and fig.dpi >= 110
    assert_data_fill_axes(fig, min_fraction=0.9)
    assert_colour_bars(fig)


def test_factor_boxplots_without_outliers_show_every_run():
    runs = _grid(collapsed=False)
    tests = factorial.paired_level_tests(runs, ["optimiser", "loss", "rep"], "r")
    fig, outside = plot_grid.factor_boxplots(runs, ["optimiser", "loss", "rep"], "r", tests)
    assert outside == 0 and not any("not shown" in t.get_text() for t in fig.axes[0].texts)


def test_share_bars_follow_the_table():
    table = pd.DataFrame({"share": [0.6, 0.1, 0.3], "ci_low": [0.5, 0.0, 0.2], "ci_high": [0.7, 0.2, 0.4]},
                         index=["optimiser", "size", "residual"])
    rho = table.add(pd.Series([-0.4, 0.4, 0.0], index=table.index), axis=0)  # shares 0.2, 0.5, 0.3
    fig = plot_grid.share_bars({"r": table, "ρ": rho})
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 3) for p in ax.patches)
    assert widths == [0.1, 0.2, 0.3, 0.3, 0.5, 0.6]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["optimiser", "size", "residual"]
    assert_colour_bars(fig)


def test_seed_slice_draws_each_seed_and_the_intervals():
    rows = []
    for seed, offset in zip((1, 2, 3), (0.0, 0.05, -0.03)):
        for opt, loss in itertools.product(("AdamW", "Lion"), ("L1", "MSE")):
            rows.append({"optimizer": opt, "loss": loss, "seed": seed,
                         "test_pearson": 0.3 + 0.2 * (opt == "AdamW") + 0.05 * (loss == "L1") + offset
                         + 0.01 * seed * (opt == "Lion")})
    table = pd.DataFrame(rows)
    effects = factorial.seed_paired_effects(table, ["optimizer", "loss"], "test_pearson")
    most, _ = factorial.larger_effect(effects, "optimizer", "loss")
    fig = plot_grid.seed_slice(table, effects, most)
    left, right = fig.axes
    assert len(left.lines) == 3  # one line per seed
    assert [t.get_text() for t in left.get_xticklabels()] == ["AdamW\nL1", "AdamW\nMSE", "Lion\nL1", "Lion\nMSE"]
    assert [t.get_text() for t in right.get_xticklabels()] == ["AdamW\n− Lion", "L1\n− MSE", "optimizer\n− loss"]
    # the last error bar spans the comparison's interval
    segments = right.collections[-1].get_segments()[0]
    np.testing.assert_allclose(sorted(segments[:, 1]), [most.ci_low, most.ci_high])
    assert fig._suptitle.get_text() == most.words and fig.get_figwidth() <= 7
    assert_data_fill_axes(fig, min_fraction=0.7)
    assert_colour_bars(fig)
