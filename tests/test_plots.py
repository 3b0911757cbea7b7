"""Known answers for the figure helpers (camformer.plots.plot_eval, camformer.plots.plot_interpret) and the
tables the evaluation chapter builds with camformer.stats.metrics. Figures are drawn with Agg."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from scipy import stats  # noqa: E402

from camformer.plots import plot_eval, plot_interpret
from camformer.stats import metrics, seeds  # noqa: E402
from figure_checks import assert_colour_bars, assert_data_fill_axes, data_fill  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _spans(ax) -> list[tuple[float, float]]:
    """x extents of the axvspan patches of ``ax``."""
    return [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches
            if isinstance(p, Rectangle) and p.get_alpha() == pytest.approx(0.15)]


# ----------------------------------------------------------------------------- plot_eval


def test_measured_vs_predicted_panels_and_colorbar():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    panels = {"Original": (y, y + 0.1 * rng.normal(size=200)), "Mini": (y, -y)}
    fig = plot_eval.measured_vs_predicted(panels, title="Camformer {}")
    axes = fig.axes[:2]
    assert [ax.get_title().split("\n")[0] for ax in axes] == ["Camformer Original", "Camformer Mini"]
    assert len(fig.axes) == 3  # two panels and one colour bar
    assert fig.axes[2].get_xlabel() == "sequences per hexagon"  # a horizontal bar below the panels
    for ax, (yy, yhat) in zip(axes, panels.values()):
        hexbins = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(hexbins) == 1
        assert hexbins[0].get_array().sum() == len(yy)  # every point counted in one hexagon
        assert ax.get_xlabel() == "measured expression"
        assert not ax.texts  # the numbers are in the title, not on the data
    assert "r² = 1.000" in axes[1].get_title()  # yhat = -y: r² is 1
    assert not axes[0].get_shared_x_axes().joined(axes[0], axes[1])
    # one colour scale: both panels share the norm, which spans the largest count
    assert axes[0].collections[0].norm is axes[1].collections[0].norm
    assert axes[0].collections[0].norm.vmax == max(ax.collections[0].get_array().max() for ax in axes)
    assert_colour_bars(fig)
    assert_data_fill_axes(fig)


def test_measured_vs_predicted_grid_labels_and_hidden_axes():
    y = np.arange(10.0)
    panels = {name: (y, y) for name in ("a", "b", "c")}
    fig = plot_eval.measured_vs_predicted(panels, ncols=2, figsize=(6, 6), colorbar=False, gridsize=5,
                                          suptitle="whole", xlabel=lambda s: f"x {s}", ylabel="pred")
    axes = fig.axes
    assert len(axes) == 4 and not axes[3].get_visible()
    assert [ax.get_xlabel() for ax in axes[:3]] == ["x a", "x b", "x c"]
    assert {ax.get_ylabel() for ax in axes[:3]} == {"pred"}
    assert fig._suptitle.get_text() == "whole"
    assert not axes[0].get_shared_x_axes().joined(axes[0], axes[1])
    with pytest.raises(AssertionError, match="without a colour bar"):
        assert_colour_bars(fig)  # colorbar=False leaves the counts unexplained


def test_seed_ensemble_curves_lines_and_means():
    table = pd.DataFrame({"num_seeds": [1, 1, 2, 2, 3], "average_score": [0.90, 0.92, 0.93, 0.95, 0.96]})
    curves = {"r²": {"Original": table, "Mini": table.assign(average_score=table["average_score"] - 0.1)},
              "ρ": {"Original": table}}
    axes = plot_eval.seed_ensemble_curves(curves)
    assert len(axes) == 2
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 1
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [0.91, 0.94, 0.96])
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), [0.81, 0.84, 0.86])
    np.testing.assert_allclose(axes[0].lines[0].get_xdata(), [1, 2, 3])
    assert axes[0].get_ylabel() == "test r² (all 71,103)"
    assert axes[1].get_title() == "ρ: seed ensembles"
    assert axes[0].get_xlabel() == "seeds averaged"
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["Original", "Mini"]


# ----------------------------------------------------------------------------- plot_interpret


def test_shade_flanks_default_spans():
    _, ax = plt.subplots()
    assert plot_interpret.shade_flanks(ax) is ax
    assert _spans(ax) == [(-0.5, 16.5), (96.5, 109.5)]


def test_logo_stack_titles_and_shading():
    matrices = [np.full((4, 110), -0.1), np.full((4, 110), 0.1)]
    axes = plot_interpret.logo_stack(matrices, ["high", "low"])
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["high", "low"]
    for ax in axes:
        assert _spans(ax) == [(-0.5, 16.5), (96.5, 109.5)]
        assert ax.get_ylabel() == r"$\Delta E$ / 3"
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[1])


def test_effect_spread_histogram_and_profile():
    deltas = np.array([-0.2, -0.1, 0.0, 0.0, 0.1, 0.3])
    per_position = pd.Series([0.0, 0.5, 1.0], index=[10, 20, 30])
    axes = plot_interpret.effect_spread(deltas, per_position, bins=4)
    bars = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    assert len(bars) == 4
    assert sum(p.get_height() for p in bars) == len(deltas)
    assert axes[0].get_yscale() == "log"
    assert axes[0].get_ylabel() == "substitutions"
    np.testing.assert_allclose(axes[1].lines[0].get_xdata(), [10, 20, 30])
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), [0.0, 0.5, 1.0])
    assert _spans(axes[1]) == [(-0.5, 16.5), (96.5, 109.5)]
    assert axes[1].get_xlabel() == "position (nt, 0-based)"


# ----------------------------------------------------------------------------- metrics tables


def _per_subset(value: float) -> pd.DataFrame:
    return pd.DataFrame({"n": 100, "pearson_r2": value, "spearman_rho": value}, index=list(metrics.SUBSETS))


def test_compare_with_paper_known_differences():
    scores = {"Original": _per_subset(0.81)}
    paper = {f"{s}_pearson": 0.9 for s in metrics.SUBSETS if s != "all"}
    paper |= {f"{s}_spearman": 0.81 for s in metrics.SUBSETS if s != "all"}
    paper |= {"pearson": 0.9, "spearman": 0.8, "pearsons_score": 0.81, "spearmans_score": 0.81}
    table = metrics.compare_with_paper(scores, {"Original": pd.Series(paper)})
    assert list(table.index.get_level_values("subset")) == [*metrics.SUBSETS, "weighted score"]
    np.testing.assert_allclose(table["r² paper"], 0.81)
    assert np.isnan(table.loc[("Original", "weighted score"), "n"])
    assert table.loc[("Original", "weighted score"), "r² here"] == pytest.approx(0.81)
    # only the overall ρ differs from the paper, by 0.01
    assert table["largest |difference|"].idxmax() == ("Original", "all")
    assert table["largest |difference|"].max() == pytest.approx(0.01)
    assert table.drop(("Original", "all"))["largest |difference|"].max() == pytest.approx(0, abs=1e-12)


def test_seed_summary_mean_and_sd():
    grid = pd.DataFrame({"Model": ["A", "A", "A", "B", "B"], "r2": [0.90, 0.91, 0.92, 0.5, 0.7]})
    table = seeds.seed_summary(grid, ["B", "A"], {"r2": "r²"})
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", ("mean", "r²")] == pytest.approx(0.91)
    assert table.loc["A", ("sd", "r²")] == pytest.approx(0.01)
    assert table.loc["B", ("sd", "r²")] == pytest.approx(np.std([0.5, 0.7], ddof=1))


def test_subset_panels_labels_variant_subsets():
    y = np.linspace(0, 1, 50)
    panels = {"high": (y, y), "SNVs": (y, -y)}
    fig = plot_eval.subset_panels(panels, suptitle="Camformer X", ncols=2, figsize=(6, 3))
    high, snvs = fig.axes[:2]
    assert (high.get_xlabel(), high.get_ylabel()) == ("measured", "predicted")
    assert (snvs.get_xlabel(), snvs.get_ylabel()) == ("measured alt − ref", "predicted alt − ref")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["high\nr² = 1.000, ρ = 1.000, n = 50",
                                                       "SNVs\nr² = 1.000, ρ = -1.000, n = 50"]
    assert fig._suptitle.get_text() == "Camformer X"
    # the least-squares line, not y = x: slope -1 through the data of SNVs
    fit = snvs.lines[0]
    np.testing.assert_allclose(fit.get_xydata(), [[0, 0], [1, -1]], atol=1e-12)


def test_measured_vs_predicted_on_given_axes():
    fig, axes = plt.subplots(1, 3)
    y = np.arange(20.0)
    out = plot_eval.measured_vs_predicted({"a": (y, y), "b": (y, 2 * y)}, axes=axes, gridsize=5)
    assert out is fig
    assert [ax.get_title().split("\n")[0] for ax in axes] == ["a", "b", ""]
    assert not axes[2].get_visible()
    assert len(fig.axes) == 4  # the three given axes and the colour bar


# ----------------------------------------------------------------------------- the figure checks


def test_figure_checks_catch_a_sliver_and_a_missing_colour_bar():
    y = np.linspace(-1.5, 1.7, 300)
    fig, ax = plt.subplots()
    ax.scatter(y, 3 + 5 * (y + 1.5))
    ax.plot([-1.5, 21], [-1.5, 21])  # a y = x line over both scales squeezes the data to a sliver
    fx, fy = data_fill(ax)
    assert fx < 0.2 and 0.6 < fy < 0.7  # x: 3.2 of 22.5 units; y: 16 of 22.5 units
    with pytest.raises(AssertionError, match="of the width"):
        assert_data_fill_axes(fig)
    fig, ax = plt.subplots()
    art = ax.hexbin(y, y, gridsize=10)
    assert_data_fill_axes(fig)
    with pytest.raises(AssertionError, match="PolyCollection maps values to colours"):
        assert_colour_bars(fig)
    fig.colorbar(art)
    assert_colour_bars(fig)


# ----------------------------------------------------------------------------- every figure function


def _known_scales(n=2000, seed=0):
    """Measured on the test set's scale (-1.5..1.7), predicted on the training scale (3..21)."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(-1.5, 1.7, n)
    return y, 3 + 18 * (y + 1.5) / 3.2 + rng.normal(scale=0.3, size=n)


def test_scatter_with_margins_keeps_each_scale_and_prints_both_sets():
    y, yhat = _known_scales()
    groups = np.where(y > 1, "high", np.where(np.arange(len(y)) % 3 == 0, "SNVs", "random"))
    private = np.arange(len(y)) % 5 != 0
    fig = plot_eval.scatter_with_margins(y, yhat, groups, private=private, title="Figure 3")
    main, top, right, box = fig.axes
    assert main.get_xlim()[0] > -2 and main.get_xlim()[1] < 2.2  # measured scale only
    assert main.get_ylim()[0] > 1 and main.get_ylim()[1] < 23  # training scale only
    assert len(main.collections) == 3  # one colour per group, no colour mapping
    fit = main.lines[0].get_xydata()
    slope = (fit[1, 1] - fit[0, 1]) / (fit[1, 0] - fit[0, 0])
    assert slope == pytest.approx(np.polyfit(y, yhat, 1)[0])  # the least-squares line, not y = x
    assert sum(p.get_height() for p in top.patches) == len(y)  # marginal histograms of every point
    assert sum(p.get_width() for p in right.patches) == len(y)
    text = box.texts[0].get_text()
    assert f"n = {len(y):,}" in text and f"n = {private.sum():,}" in text
    assert f"r = {stats.pearsonr(y, yhat)[0]:.3f}" in text and f"ρ = {stats.spearmanr(y, yhat)[0]:.3f}" in text
    assert {t.get_text().split(" (")[0] for t in fig.legends[0].get_texts()} == {"high", "SNVs", "random",
                                                                               "least-squares line"}
    assert_data_fill_axes(fig, min_fraction=0.8)
    assert_colour_bars(fig)


def test_subset_panels_fill_their_own_scales_with_one_colour_bar():
    y, yhat = _known_scales()
    panels = {"high": (y[:500], yhat[:500]), "low": (y[500:], yhat[500:] / 10),
              "SNVs": (y[:800] - y[800:1600], yhat[:800] - yhat[800:1600])}
    fig = plot_eval.subset_panels(panels)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4  # three panels and the colour bar
    assert_data_fill_axes(fig, min_fraction=0.8)
    assert_colour_bars(fig)
    assert fig.get_size_inches()[0] <= 7


def _board(teams=("t1", "t2", "t3")):
    index = pd.MultiIndex.from_product([["r²", "ρ"], teams], names=["metric", "team"])
    values = np.linspace(0.5, 0.9, len(index) * 3).reshape(len(index), 3)
    return pd.DataFrame(values, index=index, columns=["all", "high", "score"])


def test_seed_boxplots_draw_every_group_with_the_leaderboard_lines():
    board = _board()
    rows = [{"model": m, "seed": s, "metric": metric, "group": g, "value": 0.6 + 0.1 * k + 0.01 * s}
            for k, m in enumerate(("Leg", "Orig")) for s in range(10) for metric in ("r²", "ρ")
            for g in ("all", "high", "score")]
    fig = plot_eval.seed_boxplots(pd.DataFrame(rows), board, ["all", "high", "score"], ncols=2, figsize=(6, 7),
                                  labels={"Leg": "LegNet"})
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [(ax.get_title(), ax.get_ylabel()) for ax in axes[:2]] == [("all", "Spearman ρ"), ("all", "Pearson r²")]
    assert len(axes) == 6
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["LegNet", "Orig"]
    lines = next(c for c in axes[1].collections if isinstance(c, LineCollection))  # one per team, dashed
    np.testing.assert_allclose([seg[0, 1] for seg in lines.get_segments()], board.loc["r²", "all"])
    assert axes[1].get_ylim()[0] <= board.loc["r²", "all"].min() and axes[1].get_ylim()[1] >= 0.79
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["t1", "t2", "t3"]
    assert_data_fill_axes(fig, min_fraction=0.6)
    assert_colour_bars(fig)


def test_team_heatmaps_leave_the_not_comparable_row_out_of_the_colours():
    board = _board()
    board.loc[("r²", "t3")] = [0.05, 0.01, np.nan]  # a row on other data, far below the rest
    fig = plot_eval.team_heatmaps(board, not_comparable=("t3",))
    ax = fig.axes[0]
    image = ax.images[0]
    assert image.norm.vmin == pytest.approx(board.loc["r²"].loc[["t1", "t2"]].min().min())
    assert image.get_array().mask[2].all() and not image.get_array().mask[:2].any()
    written = [t.get_text() for t in ax.texts]
    assert "0.05" in written and "–" in written  # its values are still shown, NaN as a dash
    assert [t.get_text() for t in ax.get_yticklabels()] == ["t1", "t2", "t3"]
    assert_colour_bars(fig)
    assert_data_fill_axes(fig, min_fraction=0.9)
    fig.canvas.draw()  # rotated column labels do not overlap each other
    boxes = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert all(a.x1 <= b.x1 and not a.overlaps(b) or a.x0 < b.x0 for a, b in zip(boxes, boxes[1:]))


def test_training_size_curves_label_pearson_r_and_millions():
    table = pd.DataFrame({"Training data size": np.repeat([2, 10, 30], 3), "score": np.linspace(0.9, 0.96, 9)})
    fig = plot_eval.training_size_curves({"complex": {"A": table, "B": table.assign(score=table["score"] - 0.02)}})
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("training sequences (millions)", "Pearson r")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [2, 10, 30])
    assert_data_fill_axes(fig, min_fraction=0.8)
    assert_colour_bars(fig)


def test_bootstrap_violins_and_histograms_say_what_they_show():
    rng = np.random.default_rng(0)
    samples = {"native": pd.DataFrame({"A": rng.normal(0.95, 0.002, 500), "B": rng.normal(0.93, 0.002, 500)}),
               "random": pd.DataFrame({"A": rng.normal(0.98, 0.001, 500)})}
    fig = plot_eval.bootstrap_violins(samples)
    assert [ax.get_ylabel() for ax in fig.axes] == ["Pearson r of a resample"] * 2
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["A", "B"]
    assert_data_fill_axes(fig, min_fraction=0.8)
    fig = plot_eval.overlaid_histograms({"here": samples["native"]["A"], "published": samples["native"]["B"]},
                                        xlabel="Pearson r")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["here", "published"]
    assert_data_fill_axes(fig, min_fraction=0.8)


def test_seed_ensemble_curves_fill_the_column():
    table = pd.DataFrame({"num_seeds": [1, 1, 2, 2, 3], "average_score": [0.90, 0.92, 0.93, 0.95, 0.96]})
    axes = plot_eval.seed_ensemble_curves({"r²": {"O": table}, "ρ": {"O": table}})
    assert axes[0].figure.get_size_inches()[0] <= 7
    assert_data_fill_axes(axes[0].figure, min_fraction=0.8)


def test_distance_histogram_has_one_bar_per_distance_and_the_shaded_band():
    ax = plot_eval.distance_histogram(np.array([6, 6, 7, 9, 9, 9]), max_distance=5)
    heights = [p.get_height() for p in ax.containers[0]]  # the histogram's bars (not the band)
    assert heights[6:10] == [2, 1, 0, 3] and sum(heights) == 6  # bars at 0..9, counts by distance
    assert ax.get_yscale() == "log" and "within 5 substitutions" in ax.get_legend_handles_labels()[1]
    plt.close(ax.figure)


def test_learning_curves_plot_each_column_over_whole_epochs():
    history = pd.DataFrame({"epoch": [0, 1, 2], "train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0],
                            "val_pearson": [0.1, 0.5, 0.6], "val_spearman": [0.2, 0.4, 0.55]})
    fig = plot_eval.learning_curves(history, loss="huber", suptitle="run")
    left, right = fig.axes
    assert [line.get_ydata().tolist() for line in left.lines] == [[3.0, 2.0, 1.0], [3.5, 2.5, 2.0]]
    assert [line.get_label() for line in right.lines] == ["Pearson r", "Spearman ρ"]
    assert left.get_ylabel() == "huber loss" and fig._suptitle.get_text() == "run"
    assert all(float(t).is_integer() for t in left.get_xticks())
    plt.close(fig)


def test_learning_curves_draw_one_line_per_seed_of_an_ensemble():
    one = {"epoch": [1, 2], "train_loss": [2.0, 1.0], "val_loss": [2.5, 2.0], "val_pearson": [0.5, 0.6],
           "val_spearman": [0.4, 0.55]}
    history = pd.concat([pd.DataFrame(one).assign(seed=42), pd.DataFrame(one).assign(seed=23, val_pearson=[0.3, 0.7])])
    fig = plot_eval.learning_curves(history)
    left, right = fig.axes
    assert len(left.lines) == len(right.lines) == 4  # two quantities x two seeds
    assert [line.get_ydata().tolist() for line in right.lines[:2]] == [[0.5, 0.6], [0.3, 0.7]]
    # one colour per quantity, one legend entry per quantity that says what the lines are
    assert right.lines[0].get_color() == right.lines[1].get_color() != right.lines[2].get_color()
    assert right.get_legend_handles_labels()[1] == ["Pearson r (a line per seed, 2)", "Spearman ρ (a line per seed, 2)"]
    plt.close(fig)


def test_seed_radar_draws_each_models_seed_means_on_closed_spokes():
    row = {f"{s}_{k}": 0.5 for s in metrics.SUBSETS[1:] for k in ("pearson", "spearman")}
    grid = pd.DataFrame([{**row, "Model": m, "Seed": seed, "pearson": 0.9 - k / 10 + seed / 100, "spearman": 0.8,
                          "pearsons_score": 0.7, "spearmans_score": 0.6, "high_pearson": 0.3 + k / 10}
                         for k, m in enumerate(("Orig", "Mini")) for seed in (1, 2, 3)])
    means = seeds.seed_means(seeds.per_subset_seeds(grid, ["Orig", "Mini"], squared=False))
    fig = plot_eval.seed_radar(means, ["Orig", "Mini"], labels={"Orig": "Original"}, title="Figure S7")
    axes = fig.axes
    assert [ax.name for ax in axes] == ["polar", "polar"]
    assert [ax.get_title() for ax in axes] == ["Pearson r", "Spearman ρ"]
    spokes = [t.get_text() for t in axes[0].get_xticklabels()]
    assert spokes == ["all", "high", "low", "yeast", "random", "chal", "SNVs", "mot pert", "mot tiling"]
    original, mini = (line for line in axes[0].get_lines() if line.get_label() in ("Original", "Mini"))
    # Closed: nine spokes and the first again, from 3 o'clock anticlockwise; radii are the seed means.
    theta, radius = original.get_data()
    np.testing.assert_allclose(theta, np.append(np.arange(9) * 2 * np.pi / 9, 0))
    np.testing.assert_allclose(radius[[0, 1, 2, 9]], [0.92, 0.3, 0.5, 0.92])
    np.testing.assert_allclose(mini.get_data()[1][:2], [0.82, 0.4])
    assert original.get_color() == "blue" and mini.get_color() == "green"
    assert axes[0].get_ylim() == (0, 1)
    # The error bars: ± one s.d. over the three seeds (0.01) around r of all sequences.
    bars = [c for c in axes[0].collections if isinstance(c, LineCollection)]
    first = bars[0].get_segments()[0]
    np.testing.assert_allclose(sorted(first[:, 1]), [0.91, 0.93])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Original", "Mini"]
