"""The book model's held-out scores, judged against a bar with intervals that resample units.

Chapter 03 states the quick model's held-out Pearson r and Spearman ρ and whether they lie
above 0, that is whether the model predicts held-out expression at all (no bar of quality is
set: none is grounded for a small-data model). Both come from :func:`judged_correlation`: the estimate on all held-out sequences, a
percentile interval from a cluster bootstrap over the split's units (variant families joined
with similarity groups; ``camformer.similarity.test_library_units``), and words chosen from
that interval by ``camformer.verdicts.by_interval``. A correlation that a model cannot give
(constant predictions) comes back undefined, with its reason, instead of stopping the build.
"""

from __future__ import annotations

import numpy as np

from .bootstrap import bootstrap_ci
from .metrics import pearson_r, spearman_rho
from .verdicts import Verdict, by_interval

_ESTIMATORS = {"pearson_r": pearson_r, "spearman_rho": spearman_rho}


def judged_correlation(y: np.ndarray, yhat: np.ndarray, metric: str = "pearson_r", *, threshold: float,
                       groups: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0,
                       ci: float = 0.95) -> Verdict:
    """A correlation with its bootstrap interval, and whether it lies above ``threshold``.

    Parameters
    ----------
    y, yhat : numpy.ndarray
        ``(n,)`` measured and predicted values.
    metric : {"pearson_r", "spearman_rho"}
    threshold : float
        The bar (no default: a bar needs a reason). With 0.80, the words are ``"above 0.80"`` when
        the whole interval lies above it, ``"below 0.80"`` when it lies below, else ``"not
        distinguishable from 0.80"``.
    groups : numpy.ndarray, optional
        ``(n,)`` unit labels: resample whole units (``camformer.bootstrap.bootstrap_samples``).
    n_boot, seed, ci
        Resamples, their seed and the interval's coverage.

    Returns
    -------
    Verdict
        ``estimate``, ``ci_low``, ``ci_high`` and the words; where the correlation is undefined
        (fewer than two values, or a constant side), NaN numbers, ``decided`` False and words
        that say why.
    """
    if metric not in _ESTIMATORS:
        raise ValueError(f"metric must be one of {sorted(_ESTIMATORS)}, got {metric!r}")
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    if y.shape != yhat.shape or y.ndim != 1:
        raise ValueError(f"y and yhat must be (n,) arrays of one length, got {y.shape} and {yhat.shape}")
    estimate = _ESTIMATORS[metric](y, yhat)
    if not np.isfinite(estimate):
        side = "predictions" if len(y) >= 2 and np.ptp(y) > 0 else "measured values"
        reason = f"undefined (the {side} are constant)" if len(y) >= 2 else "undefined (fewer than two sequences)"
        return Verdict(reason, float("nan"), float("nan"), float("nan"), False)
    low, high = bootstrap_ci(y, yhat, metric, n_boot=n_boot, seed=seed, ci=ci, groups=groups)
    bar = f"{threshold:.2f}"
    return by_interval(estimate, low, high, threshold=threshold, above=f"above {bar}", below=f"below {bar}",
                       undecided=f"not distinguishable from {bar}")


def describe(verdict: Verdict, name: str) -> str:
    """A phrase for a page: ``"Pearson r = 0.833 (95% interval 0.821 to 0.846, above 0.80)"``, or
    ``"Pearson r is undefined (the predictions are constant)"``."""
    if not np.isfinite(verdict.estimate):
        return f"{name} is {verdict.words}"
    return (f"{name} = {verdict.estimate:.3f} (95% interval {verdict.ci_low:.3f} to {verdict.ci_high:.3f}, "
            f"{verdict.words})")
