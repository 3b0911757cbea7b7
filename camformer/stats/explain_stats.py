"""Intervals and verdicts of the interpretation chapters (embedding, Grad-CAM, ISM).

An explanation of one sequence is fragile: a profile correlation over 110 positions can move
from 0.1 to 0.35 between two builds of the same model. The chapters therefore state averages
over many held-out sequences, each with a percentile-bootstrap interval that resamples whole
similarity units of the DREAM test set (:func:`camformer.stats.bootstrap.test_set_units`: variant
families joined with near copies), and choose their words
from the interval (:func:`verdict`; a statistic the model cannot give is *undefined*, never a
made-up number).
"""

from __future__ import annotations

import numpy as np

from .bootstrap import _as_groups, percentile_interval, resample_counts, test_set_units  # noqa: F401
from .verdicts import Verdict, by_interval


def resampled_means(values: np.ndarray, *, groups: np.ndarray | None = None, n_boot: int = 1000,
                    seed: int = 0, chunk: int = 200) -> np.ndarray:
    """Means of ``values`` over ``n_boot`` bootstrap resamples of its items (rows).

    Parameters
    ----------
    values : array, shape (n, ...)
        One row per item (sequence); NaN is not allowed (drop undefined items first).
    groups : array, shape (n,), optional
        Resample whole groups (e.g. :func:`camformer.stats.bootstrap.test_set_units`) instead of single items.
    n_boot, seed
        Resamples are drawn as :func:`camformer.stats.bootstrap.resample_counts` draws them from
        ``numpy.random.default_rng(seed)``, ``chunk`` at a time.

    Returns
    -------
    np.ndarray, float64, shape (n_boot, ...)
    """
    values = np.asarray(values, np.float64)
    if values.ndim == 0 or len(values) == 0:
        raise ValueError("values must have at least one item (row)")
    if not np.isfinite(values).all():
        raise ValueError("values hold NaN or inf: drop the undefined items first")
    n = len(values)
    codes, n_groups = _as_groups(groups, n) if groups is not None else (None, 0)
    flat = values.reshape(n, -1)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, flat.shape[1]))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        counts = resample_counts(rng, n, b, groups=codes, n_groups=n_groups)
        out[start:start + b] = counts @ flat / counts.sum(1, keepdims=True)
    return out.reshape(n_boot, *values.shape[1:])


def mean_interval(values: np.ndarray, *, groups: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0,
                  ci: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` ``(n,)`` and its percentile-bootstrap interval: ``(mean, low, high)``."""
    values = np.asarray(values, np.float64)
    samples = resampled_means(values, groups=groups, n_boot=n_boot, seed=seed)
    return (float(values.mean()), *percentile_interval(samples, ci))


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray, *, groups: np.ndarray | None = None,
                   n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> tuple[float, float, float]:
    """Ratio of two means over the same items, ``mean(numerator) / mean(denominator)``, and its
    interval from resampling the items (both means on the same resamples): ``(ratio, low, high)``.
    NaN throughout when the denominator's mean is 0 (the ratio is undefined)."""
    pair = np.column_stack([numerator, denominator]).astype(np.float64)
    if pair[:, 1].mean() == 0:
        return float("nan"), float("nan"), float("nan")
    means = resampled_means(pair, groups=groups, n_boot=n_boot, seed=seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = means[:, 0] / means[:, 1]
    ratios = np.where(np.isfinite(ratios), ratios, np.inf)  # a resample with no denominator: unbounded
    return (float(pair[:, 0].mean() / pair[:, 1].mean()), *percentile_interval(ratios, ci))


def verdict(estimate: float, ci_low: float, ci_high: float, *, above: str, below: str, undecided: str,
            threshold: float = 0.0, undefined: str = "", margin: float | None = None,
            negligible: str = "") -> Verdict:
    """:func:`camformer.stats.verdicts.by_interval`, with an optional zone of no practical difference,
    or an *undefined* verdict when the statistic is.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        NaN in any of them means the statistic is undefined (a constant map, no prediction
        varies): the verdict's words are then ``"undefined (<undefined>)"``, not decided.
    above, below, undecided, threshold
        As for :func:`camformer.stats.verdicts.by_interval`.
    undefined : str
        Why the statistic can be undefined, for the words.
    margin, negligible : float and str, optional
        With a ``margin``, an interval inside ``threshold ± margin`` gives the ``negligible`` words
        (decided: the difference from the threshold is too small to matter), before ``above`` or
        ``below`` are considered; so "above" means above the threshold and not only negligibly.
    """
    if not np.isfinite([estimate, ci_low, ci_high]).all() or not np.isfinite(ci_low + ci_high):
        reason = undefined or "the statistic is not defined for this model"
        return Verdict(f"undefined ({reason})", float("nan"), float("nan"), float("nan"), False)
    if margin is not None and threshold - margin <= ci_low <= ci_high <= threshold + margin:
        return Verdict(negligible, float(estimate), float(ci_low), float(ci_high), True)
    return by_interval(estimate, ci_low, ci_high, above=above, below=below, undecided=undecided,
                       threshold=threshold)


def interval_text(estimate: float, ci_low: float, ci_high: float, digits: int = 2) -> str:
    """``"0.42 (95% CI 0.38 to 0.47)"``, or ``"undefined"`` for a NaN estimate."""
    if not np.isfinite(estimate):
        return "undefined"
    if not np.isfinite([ci_low, ci_high]).all():
        return f"{estimate:.{digits}f}"
    return f"{estimate:.{digits}f} (95% CI {ci_low:.{digits}f} to {ci_high:.{digits}f})"


def stated(verdict: Verdict, digits: int = 2) -> str:
    """The number a verdict was chosen from, with its interval (:func:`interval_text`)."""
    return interval_text(verdict.estimate, verdict.ci_low, verdict.ci_high, digits)
