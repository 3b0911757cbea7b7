"""Activations by hook, and 2-D maps."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.explain.embedding import embed_2d, pca, penultimate_activations

torch.set_num_threads(1)


def test_hook_reads_the_penultimate_and_named_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 8, 5), nn.Tanh(), nn.Linear(5, 1))
    model.train()
    X = torch.randn(7, 4, 10)
    A = penultimate_activations(model, X, batch_size=3, device="cpu")
    with torch.no_grad():
        expect = model[:5](X).numpy()
        conv = model[0](X).flatten(1).numpy()
    np.testing.assert_allclose(A, expect, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(penultimate_activations(model, X, "0", device="cpu"), conv, rtol=1e-6, atol=1e-6)
    assert model.training  # restored


def test_pca_recovers_points_on_a_plane():
    """Points on a 2-D plane in 10-D: the 2-D PCA map is an isometry of the plane."""
    rng = np.random.default_rng(0)
    uv = rng.normal(size=(50, 2)) * [3.0, 1.0]
    basis, _ = np.linalg.qr(rng.normal(size=(10, 2)))
    A = uv @ basis.T + rng.normal(size=10)  # an offset plane
    Y = embed_2d(A, "pca")
    d = lambda Z: np.linalg.norm(Z[:, None] - Z[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(d(Y), d(uv), atol=1e-9)
    # the first axis carries the larger variance, and scores are centred
    assert Y[:, 0].var() > Y[:, 1].var()
    np.testing.assert_allclose(Y.mean(0), 0, atol=1e-9)
    # sign convention is deterministic: flipping the data's sign flips nothing in |scores|
    np.testing.assert_allclose(np.abs(pca(-A)), np.abs(Y), atol=1e-9)


def test_tsne_separates_two_clusters():
    rng = np.random.default_rng(0)
    A = np.concatenate([rng.normal(size=(30, 8)), rng.normal(size=(30, 8)) + 8.0])
    Y = embed_2d(A, "tsne", seed=0)
    assert Y.shape == (60, 2)
    within = np.linalg.norm(Y[:30] - Y[:30].mean(0), axis=1).mean()
    between = np.linalg.norm(Y[:30].mean(0) - Y[30:].mean(0))
    assert between > 3 * within
    with pytest.raises(ValueError, match="unknown method"):
        embed_2d(A, "umap")


def test_tsne_gives_the_same_map_whatever_threads_the_machine_allows():
    # scikit-learn's Barnes-Hut t-SNE runs on OpenMP threads, as many as the machine's cores: the
    # book's maps and their verdicts rely on its map not following the thread count.
    from threadpoolctl import threadpool_limits

    A = np.random.default_rng(3).normal(size=(400, 16))
    maps = []
    for threads in (1, 2, 4):
        with threadpool_limits(limits=threads, user_api="openmp"):
            maps.append(embed_2d(A, "tsne", seed=0))
    for other in maps[1:]:
        np.testing.assert_array_equal(maps[0], other)


def test_tsne_of_constant_activations_is_all_at_the_origin():
    np.testing.assert_array_equal(embed_2d(np.ones((20, 5)), "tsne"), np.zeros((20, 2)))


def test_axis_correlations_size_sign_and_undefined():
    from camformer.explain.embedding import axis_correlations

    x = np.arange(40.0)
    maps = {"m": np.column_stack([x, -x ** 3])}
    table = axis_correlations(maps, {"up": x, "flat": np.ones(40)}, n_boot=200).set_index(["axis", "target"])
    assert table.loc[(1, "up"), "rho"] == pytest.approx(1.0)
    assert table.loc[(2, "up"), "rho"] == pytest.approx(-1.0)  # a flipped axis: the same size
    for axis in (1, 2):
        assert table.loc[(axis, "up"), ["abs_rho", "ci_low", "ci_high"]].tolist() == pytest.approx([1.0, 1.0, 1.0])
        assert np.isnan(table.loc[(axis, "flat"), "rho"]) and "flat constant" in table.loc[(axis, "flat"), "undefined"]


def test_abs_interval():
    from camformer.explain.embedding import _abs_interval

    assert _abs_interval(0.2, 0.5) == (0.2, 0.5)
    assert _abs_interval(-0.5, -0.2) == (0.2, 0.5)
    assert _abs_interval(-0.1, 0.3) == (0.0, 0.3)


def test_neighbour_agreement_finds_a_gradient_and_no_gradient():
    from camformer.explain.embedding import gradient_verdict, neighbour_agreement

    rng = np.random.default_rng(0)
    Y = rng.uniform(size=(400, 2))
    graded = neighbour_agreement(Y, Y[:, 0] + Y[:, 1], k=10, n_boot=200)
    assert graded["r"] > 0.95 and graded["ci_low"] > 0.9
    assert gradient_verdict(graded, "map").words.endswith("the colours form a gradient")
    noise = neighbour_agreement(Y, rng.normal(size=400), k=10, n_boot=200)
    assert abs(noise["r"]) < 0.15 and noise["ci_low"] < 0 < noise["ci_high"]
    assert gradient_verdict(noise, "map").words == "no gradient of measured expression is detectable on the map"
    # the same noise many times: the interval covers 0 in about 95% of them (honest under no gradient)
    runs = [neighbour_agreement(Y, np.random.default_rng(s).normal(size=400), k=10, n_boot=200, seed=s)
            for s in range(40)]
    covered = [n["ci_low"] < 0 < n["ci_high"] for n in runs]
    assert np.mean(covered) >= 0.85
    opposite = {"r": -0.4, "ci_low": -0.5, "ci_high": -0.3}
    assert "differ" in gradient_verdict(opposite, "map").words
    assert np.isnan(neighbour_agreement(np.zeros((10, 2)), np.arange(10.0), k=3)["r"])  # one point: no map


def test_expression_axis_verdict_both_ways():
    from camformer.explain.embedding import expression_axis_verdict

    assert expression_axis_verdict(0.95, 0.93, 0.97).words.startswith("the main axis")
    assert expression_axis_verdict(0.3, 0.2, 0.4).words.startswith("expression is not the main axis")
    assert not expression_axis_verdict(0.72, 0.6, 0.8).decided
    assert expression_axis_verdict(np.nan, np.nan, np.nan).words.startswith("undefined")


def test_variance_share_by_hand():
    """Two independent columns with variances 9 and 1: the first component carries 90%."""
    from camformer.explain.embedding import variance_share

    grid = np.array([[a, b] for a in (-3.0, 3.0) for b in (-1.0, 1.0)] * 25)
    out = variance_share(np.column_stack([grid, np.zeros(100)]), n_boot=100)
    assert out["share"] == pytest.approx(0.9)
    assert out["ci_low"] < 0.9 < out["ci_high"] and out["ci_high"] - out["ci_low"] < 0.2
    assert np.isnan(variance_share(np.ones((5, 3)))["share"])


def test_dominant_axis_and_measured_axis_verdicts():
    from camformer.explain.embedding import dominant_axis_verdict, expression_axis_verdict

    assert dominant_axis_verdict({"share": 0.7, "ci_low": 0.6, "ci_high": 0.8}).words.endswith("most of the "
                                                                                                  "activations' variance")
    assert dominant_axis_verdict({"share": 0.3, "ci_low": 0.2, "ci_high": 0.4}).words.startswith("the first "
                                                                                                    "component carries less")
    assert not dominant_axis_verdict({"share": 0.5, "ci_low": 0.45, "ci_high": 0.55}).decided
    nan = float("nan")
    assert dominant_axis_verdict({"share": nan, "ci_low": nan, "ci_high": nan}).words.startswith("undefined")
    assert "measured expression strongly" in expression_axis_verdict(0.9, 0.8, 0.95, target="measured").words
    with pytest.raises(ValueError, match="choose 'predicted' or 'measured'"):
        expression_axis_verdict(0.9, 0.8, 0.95, target="both")


def _one_axis_activations(n=120, seed=0):
    """Activations whose first column (variance 25) is the prediction; three small noise columns."""
    rng = np.random.default_rng(seed)
    predicted = rng.normal(size=n)
    A = np.column_stack([5 * predicted, 0.3 * rng.normal(size=(n, 3))])
    return A, predicted


def test_findings_of_a_one_axis_representation():
    """Known answers: one column carries the prediction and ~99% of the variance; measured expression
    is that prediction plus a little noise. Every verdict follows: most variance on PC 1, an
    expression axis for predicted and measured, gradients on both maps; the same numbers as the
    functions the chapter called one by one."""
    from camformer.explain.embedding import (FINDING_NAMES, axis_correlations, embed_2d, findings, neighbour_agreement,
                                     variance_share)

    A, predicted = _one_axis_activations()
    measured = predicted + 0.1 * np.random.default_rng(1).normal(size=len(predicted))
    boot = {"groups": np.arange(len(A)) // 2, "n_boot": 200, "seed": 0}
    out = findings(None, np.zeros((len(A), 110), np.int8), measured, predicted, boot, activations=A)
    assert list(out.verdicts) == list(FINDING_NAMES)
    assert all(v.decided for v in out.verdicts.values())
    assert out.verdicts["pc1_variance_share"].estimate == pytest.approx(
        variance_share(A, groups=boot["groups"], n_boot=200)["share"])
    assert out.verdicts["pc1_variance_share"].estimate > 0.98
    assert out.verdicts["pc1_abs_rho_predicted"].estimate > 0.999
    assert out.verdicts["pc1_abs_rho_predicted"].words.startswith("the main axis")
    table = axis_correlations({"PCA": embed_2d(A, "pca")}, {"measured": measured}, **boot)
    assert out.verdicts["pc1_abs_rho_measured"].estimate == pytest.approx(table.loc[0, "abs_rho"])
    np.testing.assert_allclose(out.maps["t-SNE"], embed_2d(A, "tsne", seed=0))
    assert out.verdicts["tsne_neighbour_r_measured"].estimate == pytest.approx(
        neighbour_agreement(out.maps["t-SNE"], measured, **boot)["r"])
    assert out.verdicts["pca_neighbour_r_measured"].words.startswith("neighbours on the PCA map")
    with pytest.raises(ValueError, match="promoters"):
        findings(None, np.zeros((3, 110), np.int8), measured, predicted, boot, activations=A)


def test_findings_read_the_models_activations_and_identical_models_agree_k_of_k():
    """A model's findings use its own activations (the hook), and three identical models give every
    verdict in 3 of 3 with a between-model interval of width 0."""
    from camformer.stats import ensemble
    from camformer.explain.embedding import findings

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 12, 6), nn.ReLU(), nn.Linear(6, 1))
    codes = np.random.default_rng(0).integers(0, 4, size=(60, 12)).astype(np.int8)
    X = torch.nn.functional.one_hot(torch.as_tensor(codes, dtype=torch.long), 4).permute(0, 2, 1).float()
    with torch.no_grad():
        predicted = model(X).squeeze(1).numpy()
    measured = predicted + 0.01 * np.random.default_rng(2).normal(size=60)
    boot = {"groups": None, "n_boot": 100, "seed": 0}
    one = findings(model, X, measured, predicted, boot)
    with torch.no_grad():
        np.testing.assert_allclose(one.activations, model[:3](X).numpy(), rtol=1e-5, atol=1e-6)
    combined = ensemble.combine([one.verdicts] * 3, ["a", "b", "c"])
    for key, across in combined.items():
        assert across.verdict.words == one.verdicts[key].words
        assert across.verdict.decided == one.verdicts[key].decided
        assert across.verdict.ci_low == pytest.approx(across.verdict.ci_high)
        assert across.facts(key)[f"{key}_agreeing_models"] == "3 of 3"
