"""Known answers for the figure helpers (camformer.plot_eval, camformer.plot_interpret) and the
tables the evaluation chapter builds with camformer.metrics. Figures are drawn with Agg."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from camformer import metrics, plot_eval, plot_interpret, seeds  # noqa: E402


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
    assert [ax.get_title() for ax in axes] == ["Camformer Original", "Camformer Mini"]
    assert len(fig.axes) == 3  # two panels and one colour bar
    assert fig.axes[2].get_ylabel() == "sequences per hexagon"
    for ax, (yy, yhat) in zip(axes, panels.values()):
        hexbins = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(hexbins) == 1
        assert hexbins[0].get_array().sum() == len(yy)  # every point counted in one hexagon
        assert ax.get_xlabel() == "measured expression"
    assert "r² = 1.000" in axes[1].texts[0].get_text()  # yhat = -y: r² is 1
    assert axes[0].get_shared_x_axes().joined(axes[0], axes[1])


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
    high, snvs = fig.axes
    assert (high.get_xlabel(), high.get_ylabel()) == ("measured", "predicted")
    assert (snvs.get_xlabel(), snvs.get_ylabel()) == ("measured alt − ref", "predicted alt − ref")
    assert [ax.get_title() for ax in fig.axes] == ["high", "SNVs"]
    assert fig._suptitle.get_text() == "Camformer X"


def test_measured_vs_predicted_on_given_axes():
    fig, axes = plt.subplots(1, 3)
    y = np.arange(20.0)
    out = plot_eval.measured_vs_predicted({"a": (y, y), "b": (y, 2 * y)}, axes=axes, gridsize=5)
    assert out is fig
    assert [ax.get_title() for ax in axes] == ["a", "b", ""]
    assert not axes[2].get_visible()
    assert len(fig.axes) == 4  # the three given axes and the colour bar
