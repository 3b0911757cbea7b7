"""camformer.bootstrap: family (cluster) resampling, paired differences, and the table of intervals,
checked against naive loops that draw the same resamples."""

import numpy as np
import pytest
from scipy import stats

from camformer import bootstrap


def _noisy(n=400, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    return y, y + rng.normal(scale=0.7, size=n)


def test_resample_counts_by_group_copy_whole_groups():
    groups = np.array([0, 0, 0, 1, 2, 2])
    counts = bootstrap.resample_counts(np.random.default_rng(5), 6, 50, groups=groups, n_groups=3)
    assert counts.shape == (50, 6)
    # every item of a group has its group's count, and each resample draws 3 groups
    assert (counts[:, 0] == counts[:, 1]).all() and (counts[:, 1] == counts[:, 2]).all()
    assert (counts[:, 4] == counts[:, 5]).all()
    np.testing.assert_array_equal(counts[:, [0, 3, 4]].sum(axis=1), 3)
    # the same draws, by hand
    draws = np.random.default_rng(5).integers(0, 3, size=(50, 3))
    for b in range(50):
        np.testing.assert_array_equal(counts[b, [0, 3, 4]], np.bincount(draws[b], minlength=3))


def test_grouped_samples_match_a_naive_loop_over_families():
    y, yhat = _noisy()
    labels = np.repeat([f"family{i}" for i in range(80)], 5)  # 80 families of 5 sequences
    fast = bootstrap.bootstrap_samples(y, yhat, "pearson_r", n_boot=30, seed=2, groups=labels, chunk=16)
    _, codes = np.unique(labels, return_inverse=True)  # sorted labels, as bootstrap codes them
    rng = np.random.default_rng(2)
    naive = []
    for start in range(0, 30, 16):
        for drawn in rng.integers(0, 80, size=(min(16, 30 - start), 80)):
            idx = np.concatenate([np.flatnonzero(codes == g) for g in drawn])
            naive.append(stats.pearsonr(y[idx], yhat[idx])[0])
    np.testing.assert_allclose(fast, naive, rtol=1e-10)
    rho = bootstrap.bootstrap_samples(y, yhat, "spearman_rho", n_boot=30, seed=2, groups=labels, chunk=16)
    rng = np.random.default_rng(2)
    naive = [stats.spearmanr(y[i], yhat[i])[0] for start in range(0, 30, 16)
             for i in (np.concatenate([np.flatnonzero(codes == g) for g in drawn])
                       for drawn in rng.integers(0, 80, size=(min(16, 30 - start), 80)))]
    np.testing.assert_allclose(rho, naive, rtol=1e-10)


def test_families_widen_the_interval_when_families_share_their_errors():
    rng = np.random.default_rng(0)
    family = np.repeat(np.arange(100), 20)
    y = rng.normal(size=2000)
    yhat = y + rng.normal(size=100)[family] + 0.2 * rng.normal(size=2000)  # error shared within a family
    low_i, high_i = bootstrap.bootstrap_ci(y, yhat, "pearson_r", n_boot=300, seed=1)
    low_f, high_f = bootstrap.bootstrap_ci(y, yhat, "pearson_r", n_boot=300, seed=1, groups=family)
    assert high_f - low_f > 2 * (high_i - low_i)


def test_two_models_share_their_resamples():
    y, yhat = _noisy()
    both = bootstrap.bootstrap_samples(y, np.vstack([yhat, 2 * yhat + 1]), "pearson_r2", n_boot=40, seed=3)
    assert both.shape == (2, 40)
    np.testing.assert_allclose(both[0], both[1], rtol=1e-12)  # r is invariant to a linear map
    np.testing.assert_array_equal(both[0], bootstrap.bootstrap_samples(y, yhat, "pearson_r2", n_boot=40, seed=3))


def test_paired_difference_is_zero_for_equivalent_models_and_signed_otherwise():
    y, yhat = _noisy()
    same = bootstrap.paired_difference(y, yhat, 3 * yhat, "spearman_rho", n_boot=50)
    assert same["difference"] == 0 and same["ci_low"] == same["ci_high"] == 0
    worse = yhat + np.random.default_rng(9).normal(size=len(y))
    better = bootstrap.paired_difference(y, yhat, worse, "pearson_r2", n_boot=200, seed=1)
    assert better["a"] == pytest.approx(stats.pearsonr(y, yhat)[0] ** 2)
    assert better["difference"] == pytest.approx(better["a"] - better["b"])
    assert 0 < better["ci_low"] < better["difference"] < better["ci_high"]
    flipped = bootstrap.paired_difference(y, worse, yhat, "pearson_r2", n_boot=200, seed=1)
    assert (flipped["ci_low"], flipped["ci_high"]) == pytest.approx((-better["ci_high"], -better["ci_low"]))


def test_paired_interval_is_narrower_than_separate_intervals_when_errors_are_shared():
    rng = np.random.default_rng(4)
    y = rng.normal(size=3000)
    common = rng.normal(size=3000)
    a, b = y + common + 0.1 * rng.normal(size=3000), y + common + 0.3 * rng.normal(size=3000)
    paired = bootstrap.paired_difference(y, a, b, "pearson_r", n_boot=300)
    la, ha = bootstrap.bootstrap_ci(y, a, "pearson_r", n_boot=300)
    assert paired["ci_high"] - paired["ci_low"] < 0.5 * (ha - la)


def test_bootstrap_table_against_a_naive_percentile():
    y, yhat = _noisy(n=300)
    table = bootstrap.bootstrap_table({"A": (y, yhat)}, {"A": {"pearson_r2": 0.5, "spearman_rho": 0.4}},
                                      n_boot=64, seed=3)
    assert list(table.index) == [("A", "r²"), ("A", "ρ")]
    assert table.loc[("A", "r²"), "estimate"] == 0.5 and table.loc[("A", "ρ"), "estimate"] == 0.4
    idx = np.random.default_rng(3).integers(0, 300, size=(64, 300))
    naive = [stats.spearmanr(y[i], yhat[i])[0] for i in idx]
    low, high = np.percentile(naive, [2.5, 97.5])
    assert (table.loc[("A", "ρ"), "95% low"], table.loc[("A", "ρ"), "95% high"]) == pytest.approx((low, high))


def test_bad_groups_are_refused():
    y, yhat = _noisy(n=10)
    with pytest.raises(ValueError, match="one label per item"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.zeros(9))
    with pytest.raises(ValueError, match="missing label"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.array([1.0] * 9 + [np.nan]))
    with pytest.raises(ValueError, match="sample_size"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.zeros(10), sample_size=5)
