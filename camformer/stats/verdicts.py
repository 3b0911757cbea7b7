"""Conclusions chosen from numbers: a verdict is computed from an estimate and its interval.

A sentence of the book that concludes (a direction, a "most", a rank, "agrees with the paper")
is never fixed text: a function picks its words from the numbers, and an interval that does not
exclude the alternative gives the *undecided* words. A :class:`Verdict` carries the words with the
evidence, and :meth:`Verdict.facts` turns it into records (``camformer.records.report.record``): the
estimate and its interval as floats, the words as a string, so that the two-kernel check can
require equal words and covering intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """The words a result allows, with the estimate and interval they were chosen from.

    Attributes
    ----------
    words : str
        The conclusion, ready for a sentence.
    estimate, ci_low, ci_high : float
        The number and its interval (NaN where a verdict has no single number).
    decided : bool
        False when the interval does not settle the question (the words then say so).
    undecided : str, optional
        The words this question gives when the interval does not settle it (set by
        :func:`by_interval`), so that several models' verdicts on one question can be combined
        into the same undecided words however they differ (:mod:`camformer.stats.ensemble`).
    """

    words: str
    estimate: float
    ci_low: float
    ci_high: float
    decided: bool
    undecided: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.words

    def facts(self, key: str) -> dict[str, float | str | bool]:
        """Records for ``camformer.records.report.record``: ``key``, ``key_ci_low``, ``key_ci_high`` (floats,
        left out where NaN), ``key_verdict`` (the words) and ``key_decided``."""
        numbers = {key: self.estimate, f"{key}_ci_low": self.ci_low, f"{key}_ci_high": self.ci_high}
        out: dict[str, float | str | bool] = {k: float(v) for k, v in numbers.items() if np.isfinite(v)}
        return {**out, f"{key}_verdict": self.words, f"{key}_decided": self.decided}


def by_interval(estimate: float, ci_low: float, ci_high: float, *, above: str, below: str,
                undecided: str, threshold: float = 0.0) -> Verdict:
    """``above`` if the whole interval lies above ``threshold``, ``below`` if it lies below, else
    ``undecided``.

    Examples
    --------
    >>> by_interval(0.4, 0.1, 0.7, above="raises", below="lowers", undecided="no clear effect").words
    'raises'
    >>> by_interval(0.4, -0.1, 0.7, above="raises", below="lowers", undecided="no clear effect").words
    'no clear effect'
    """
    if not ci_low <= ci_high:
        raise ValueError(f"interval ({ci_low}, {ci_high}) is empty or not a number")
    if ci_low > threshold:
        words, decided = above, True
    elif ci_high < threshold:
        words, decided = below, True
    else:
        words, decided = undecided, False
    return Verdict(words, float(estimate), float(ci_low), float(ci_high), decided, undecided)


def best_of(intervals: Mapping[str, tuple[float, float, float]], *, higher_is_better: bool = True
            ) -> tuple[str, bool, list[str]]:
    """Which of several estimates is best, and whether its interval separates it from the rest.

    Parameters
    ----------
    intervals
        Name to ``(estimate, ci_low, ci_high)``.
    higher_is_better
        Whether the largest estimate is the best.

    Returns
    -------
    (best, decided, tied)
        ``best``: the name with the best estimate; ``decided``: True when its interval does not
        overlap any other's; ``tied``: the other names whose intervals overlap the best's.
    """
    if len(intervals) < 2:
        raise ValueError("need at least two estimates to compare")
    sign = 1.0 if higher_is_better else -1.0
    best = max(intervals, key=lambda name: sign * intervals[name][0])
    _, low, high = intervals[best]
    tied = [name for name, (_, lo, hi) in intervals.items() if name != best and lo <= high and hi >= low]
    return best, not tied, tied


def holm(p_values: Mapping[str, float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down), in the order given.

    The adjusted p-value of the k-th smallest of m p-values is
    ``max over j <= k of min(1, (m - j + 1) * p_(j))``; rejecting where it is below alpha controls the
    family-wise error rate at alpha.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(list(p_values.values()) if isinstance(p_values, Mapping) else p_values, np.float64)
    if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p-values must be a 1-D array of numbers in [0, 1], got {p}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return adjusted


def bootstrap_p_value(samples: np.ndarray, null: float = 0.0) -> float:
    """Two-sided bootstrap p-value of ``estimate == null``: twice the smaller share of resamples
    on either side of ``null`` (at least ``1 / (B + 1)``, at most 1)."""
    samples = np.asarray(samples, np.float64)
    if samples.ndim != 1 or len(samples) == 0 or not np.isfinite(samples).all():
        raise ValueError("samples must be a non-empty 1-D array of finite numbers")
    b = len(samples)
    below = (np.sum(samples <= null) + 1) / (b + 1)
    above = (np.sum(samples >= null) + 1) / (b + 1)
    return float(min(1.0, 2 * min(below, above)))
