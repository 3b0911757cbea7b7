"""Intervals and verdicts of the interpretation chapters, against hand-computed answers."""

import numpy as np
import pytest

from camformer.stats import explain_stats as es
from camformer.stats.bootstrap import resample_counts
from camformer.records.report import Undefined, facts


def test_resampled_means_equal_a_naive_loop_over_the_same_draws():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(30, 2, 3))
    out = es.resampled_means(values, n_boot=50, seed=7, chunk=20)
    draws = np.random.default_rng(7)
    naive = []
    for b in (20, 20, 10):  # the same chunks draw the same counts
        for counts in resample_counts(draws, 30, b):
            naive.append(np.repeat(values, counts.astype(int), axis=0).mean(0))
    np.testing.assert_allclose(out, np.array(naive), rtol=1e-12)


def test_family_resampling_keeps_families_whole():
    """Two families of 5 identical values (0 and 1): a resample of families has a mean of 0, 0.5
    or 1, never anything between; resampling items gives other means too."""
    values = np.repeat([0.0, 1.0], 5)
    groups = np.repeat([10, 20], 5)
    by_family = es.resampled_means(values, groups=groups, n_boot=200)
    assert set(np.round(by_family, 9)) <= {0.0, 0.5, 1.0}
    assert len(set(np.round(es.resampled_means(values, n_boot=200), 9))) > 3
    mean, low, high = es.mean_interval(values, groups=groups, n_boot=200)
    assert (mean, low, high) == (0.5, 0.0, 1.0)


def test_mean_interval_of_constant_values_is_a_point_and_nan_is_refused():
    assert es.mean_interval(np.full(8, 0.25)) == (0.25, 0.25, 0.25)
    with pytest.raises(ValueError, match="NaN"):
        es.mean_interval(np.array([1.0, np.nan]))


def test_ratio_interval_by_hand():
    """Numerators twice the denominators: the ratio is 2 on every resample."""
    den = np.array([1.0, 2.0, 3.0, 4.0])
    assert es.ratio_interval(2 * den, den, n_boot=100) == pytest.approx((2.0, 2.0, 2.0))
    ratio, low, high = es.ratio_interval(np.array([1.0, 3.0]), np.array([1.0, 1.0]), n_boot=400)
    assert ratio == 2.0 and low == pytest.approx(1.0) and high == pytest.approx(3.0)
    assert np.isnan(es.ratio_interval(den, np.zeros(4))).all()


def test_verdict_goes_both_ways_and_is_undefined_for_nan():
    words = {"above": "up", "below": "down", "undecided": "unclear"}
    assert es.verdict(0.5, 0.2, 0.8, **words).words == "up"
    assert es.verdict(-0.5, -0.8, -0.2, **words).words == "down"
    assert es.verdict(0.1, -0.2, 0.4, **words).decided is False
    assert es.verdict(1.5, 1.2, 1.8, threshold=2.0, **words).words == "down"
    # a margin of no practical difference: checked first, so "up" means clearly above it
    assert es.verdict(0.02, 0.01, 0.05, margin=0.1, negligible="negligible", **words).words == "negligible"
    assert es.verdict(0.15, 0.05, 0.25, margin=0.1, negligible="negligible", **words).words == "up"
    assert not es.verdict(0.05, -0.05, 0.15, margin=0.1, negligible="negligible", **words).decided
    blank = es.verdict(np.nan, np.nan, np.nan, undefined="a blank map", **words)
    assert blank.words == "undefined (a blank map)" and not blank.decided


def test_facts_records_numbers_interval_and_words():
    v = es.verdict(0.5, 0.2, 0.8, above="up", below="down", undecided="unclear")
    assert facts("x", verdict=v) == {"x": 0.5, "x_ci_low": 0.2, "x_ci_high": 0.8, "x_verdict": "up",
                                        "x_decided": True}
    assert facts("y", 1.0, 0.5, 2.0) == {"y": 1.0, "y_ci_low": 0.5, "y_ci_high": 2.0}
    blank = es.verdict(np.nan, np.nan, np.nan, above="", below="", undecided="", undefined="a blank map")
    out = facts("z", verdict=blank)
    assert out["z"] == Undefined("a blank map") and "z_ci_low" not in out and out["z_decided"] is False
    assert facts("w", np.nan, undefined="constant")["w"] == Undefined("constant")


def test_interval_text():
    assert es.interval_text(0.4213, 0.38, 0.471) == "0.42 (95% CI 0.38 to 0.47)"
    assert es.interval_text(np.nan, 0, 1) == "undefined"
    assert es.stated(es.verdict(2.0, 1.0, 3.0, above="", below="", undecided=""), 1) == "2.0 (95% CI 1.0 to 3.0)"
