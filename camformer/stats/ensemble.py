"""Conclusions across a seed ensemble: one question asked of k independently trained models.

What one trained model shows is evidence about that model only. The same recipe trained from
another seed, or from the same seed on a CPU whose vector kernels round sums differently, gives
another model, and its averages can move by more than any interval over promoters. A chapter that
asks what *the recipe* learns therefore asks each of k models and concludes only what holds in
all of them:

- each model's own verdict comes from its own interval over promoters, as for one fixed model
  (:mod:`camformer.stats.verdicts`);
- the ensemble's words are that verdict where all k models reach it ("in k of k models"); where
  they differ (a sign that changes, or a model left undecided) the ensemble is *undecided*;
- the number reported is the mean over the models, with a between-model 95% t interval
  (``mean ± t(k-1) · s / sqrt(k)``), beside every model's own value.

With k = 1 (one fixed model, such as the paper's published one) :func:`across_models` returns
that model's verdict and its interval over promoters unchanged. No torch here: the inputs are
numbers.

Records (:meth:`Across.facts`) keep the keys a single model's verdict gives (``key``,
``key_ci_low``, ``key_ci_high``, ``key_verdict``, ``key_decided``) and add ``key_models`` (every
model's value) and ``key_agreeing_models`` (``"3 of 4"``: the models that reach the ensemble's
words themselves, :attr:`Across.agreeing`): keys ending in ``_models`` are
per-model evidence, which two builds with differently trained models are not asked to share
(:mod:`camformer.records.agreement`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .verdicts import Verdict

UNDECIDED = "undecided"  # the consensus of labels (e.g. "which method is closest") that differ between models


def between_models_interval(values: Sequence[float], level: float = 0.95,
                            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """The mean of k models' values and its t interval over models.

    Parameters
    ----------
    values : sequence of float, length k >= 2
    level : float
    bounds : (float, float), optional
        The values the quantity can take (a correlation: ``(-1, 1)``): the interval is cut to them.

    Returns
    -------
    (mean, ci_low, ci_high)
        ``mean ± t_{(1+level)/2, k-1} · s / sqrt(k)``, with ``s`` the sample standard deviation.

    Examples
    --------
    >>> [round(x, 3) for x in between_models_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484, 4.484]
    """
    from scipy.stats import t

    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"a between-model interval needs at least 2 models' values, got {x.size}")
    if not np.isfinite(x).all():
        raise ValueError(f"a model's value is not a number: {x.tolist()}")
    if not 0 < level < 1:
        raise ValueError(f"level = {level}: it must lie between 0 and 1")
    mean = float(x.mean())
    half = float(t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, low, high


@dataclass(frozen=True)
class Across:
    """One question asked of k models: the ensemble's verdict beside every model's own.

    Attributes
    ----------
    verdict : Verdict
        The ensemble's: the words all k models reach (``decided``), or undecided words; the mean
        of the models' estimates with the between-model interval (k = 1: the model's own).
    per_model : tuple of Verdict
        Each model's verdict from its own interval over promoters.
    labels : tuple of str
        The models' names, e.g. ``("seed 1", "seed 2", "seed 3")``.
    """

    verdict: Verdict
    per_model: tuple[Verdict, ...]
    labels: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.per_model)

    @property
    def agreeing(self) -> int:
        """How many models reach the ensemble's words themselves: all k where it is decided; where
        it is undecided, the models undecided alike (0 where every model decided, but not alike)."""
        return sum(v.words == self.verdict.words for v in self.per_model)

    def agreement(self) -> str:
        """``"4 of 4 models"``, or where they differ every answer with its count, the most common
        first, a model undecided in the ensemble's own words named so rather than quoted:
        ``"2 of 3 models say 'raises', 1 of 3 says 'lowers'"``, ``"2 of 3 models undecided, 1 of 3
        says 'raises'"``: for a sentence or a table."""
        if self.k == 1:
            return "one model"
        if self.verdict.decided:
            return f"{self.agreeing} of {self.k} models"
        return tally([v.words for v in self.per_model], self.verdict.words)

    def __str__(self) -> str:
        return self.verdict.words

    def stated(self) -> str:
        """The verdict with how many models reach it, for a sentence: ``"raises (in 3 of 3 models)"``,
        ``"no clear effect (in 3 of 3 models)"`` (every model undecided alike), ``"no clear effect
        (2 of 3 models say 'raises', 1 of 3 undecided)"``; one model: the words alone."""
        if self.k == 1:
            return self.verdict.words
        if self.verdict.decided or all(v.words == self.verdict.words for v in self.per_model):
            return f"{self.verdict.words} (in {self.k} of {self.k} models)"
        return f"{self.verdict.words} ({self.agreement()})"

    def facts(self, key: str) -> dict[str, float | str | bool | list]:
        """Records for :func:`camformer.records.report.record`: :meth:`Verdict.facts` of the ensemble's
        verdict, and, with k > 1, ``key_models`` (each model's estimate) and
        ``key_agreeing_models`` (``"3 of 4"``)."""
        out = dict(self.verdict.facts(key))
        if self.k > 1:
            # a model whose statistic is undefined gives None (JSON null), not a NaN
            out[f"{key}_models"] = [float(v.estimate) if np.isfinite(v.estimate) else None for v in self.per_model]
            out[f"{key}_agreeing_models"] = f"{self.agreeing} of {self.k}"
        return out


def across_models(verdicts: Sequence[Verdict], labels: Sequence[str] | None = None, *,
                  undecided: str | None = None, level: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> Across:
    """The ensemble's verdict on one question from each model's own verdict.

    Parameters
    ----------
    verdicts : sequence of Verdict
        One per model, each from that model's interval over promoters.
    labels : sequence of str, optional
        The models' names (default ``model 1``, ``model 2``, ...).
    undecided : str, optional
        The words where the models differ. Default: the question's own undecided words
        (:attr:`Verdict.undecided`, which :func:`camformer.stats.verdicts.by_interval` sets), whichever
        way the models differ, so that two ensembles that are both undecided say the same; for
        verdicts without them, ``"undecided: the models disagree"``. Models that all give the same
        undecided words keep them.
    level, bounds : float, (float, float)
        Of the between-model interval (:func:`between_models_interval`).

    Returns
    -------
    Across
        Decided only where all models are decided with the same words. Its estimate is the mean of
        the models' estimates, and its interval the t interval over models (k = 1: the model's
        own verdict, unchanged). Where a model's estimate is not a number (an undefined
        statistic), the ensemble's estimate is not a number either.

    Examples
    --------
    >>> up = [Verdict("raises", x, x - 0.1, x + 0.1, True) for x in (0.3, 0.4, 0.5)]
    >>> str(across_models(up)), across_models(up).stated()
    ('raises', 'raises (in 3 of 3 models)')
    >>> str(across_models(up[:2] + [Verdict("lowers", -0.2, -0.3, -0.1, True)]))
    'undecided: the models disagree'
    """
    verdicts = tuple(verdicts)
    if not verdicts:
        raise ValueError("no models' verdicts to combine")
    labels = tuple(labels) if labels is not None else tuple(f"model {i + 1}" for i in range(len(verdicts)))
    if len(labels) != len(verdicts):
        raise ValueError(f"{len(labels)} labels for {len(verdicts)} models' verdicts")
    if len(verdicts) == 1:
        return Across(verdicts[0], verdicts, labels)
    words = {v.words for v in verdicts}
    decided = len(words) == 1 and all(v.decided for v in verdicts)
    if decided or len(words) == 1:
        text = verdicts[0].words  # every model reaches these words (decided, or undecided alike)
    elif undecided is not None:
        text = undecided
    else:  # the question's own undecided words, whichever way the models differ
        text = next((v.undecided for v in verdicts if v.undecided is not None), "undecided: the models disagree")
    estimates = [v.estimate for v in verdicts]
    if all(np.isfinite(estimates)):
        mean, low, high = between_models_interval(estimates, level, bounds)
    else:
        mean = low = high = math.nan
    return Across(Verdict(text, mean, low, high, decided), verdicts, labels)


def tally(answers: Sequence[str], undecided: str) -> str:
    """Every distinct answer of the models with how many give it, the most common first, for a
    sentence; an answer equal to ``undecided`` (the ensemble's own undecided words) is named so,
    not quoted again.

    >>> tally(["raises", "raises", "lowers"], "no clear effect")
    "2 of 3 models say 'raises', 1 of 3 says 'lowers'"
    >>> tally(["no clear effect", "raises", "no clear effect"], "no clear effect")
    "2 of 3 models undecided, 1 of 3 says 'raises'"
    """
    if not answers:
        raise ValueError("no models' answers to tally")
    parts = []
    for i, (words, count) in enumerate(Counter(answers).most_common()):
        said = "undecided" if words == undecided else f"{'says' if count == 1 else 'say'} '{words}'"
        parts.append(f"{count} of {len(answers)}{' models' if i == 0 else ''} {said}")
    return ", ".join(parts)


def consensus(values: Sequence[str], *, undecided: str = UNDECIDED) -> tuple[str, int]:
    """The label every model gives (e.g. which method is closest to Grad-CAM), else ``undecided``.

    A model's own ``undecided`` counts as disagreement. Returns ``(label, how many models give
    that label themselves)``: all of them where they agree; where they differ, those undecided
    on their own (0 where each model named a label, but not the same one).

    >>> consensus(["Saliency", "Saliency"]), consensus(["Saliency", "undecided"]), consensus(["IG", "Saliency"])
    (('Saliency', 2), ('undecided', 1), ('undecided', 0))
    """
    if not values:
        raise ValueError("no models' labels to combine")
    label, count = Counter(values).most_common(1)[0]
    label = label if count == len(values) and label != undecided else undecided
    return label, sum(value == label for value in values)


def combine(per_model: Sequence[Mapping[str, Verdict]], labels: Sequence[str] | None = None, *,
            level: float = 0.95, ranges: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Across]:
    """:func:`across_models` for every key that each model's findings share.

    Parameters
    ----------
    per_model : sequence of mapping key -> Verdict
        One mapping per model, all with the same keys (e.g. a chapter's findings for each model).
    ranges : mapping key -> (low, high), optional
        The range of a key's statistic (a correlation's ``(-1, 1)``, a share's ``(0, 1)``): its
        between-model interval is cut to it (``bounds`` of :func:`across_models`). Keys not named
        are not cut.

    Raises
    ------
    ValueError
        Where the models' keys differ (naming them).
    """
    if not per_model:
        raise ValueError("no models' findings to combine")
    keys = list(per_model[0])
    for i, findings in enumerate(per_model[1:], start=2):
        if set(findings) != set(keys):
            raise ValueError(f"model {i}'s findings have other keys than model 1's: "
                             f"{sorted(set(findings) ^ set(keys))}")
    ranges = ranges or {}
    return {key: across_models([f[key] for f in per_model], labels, level=level, bounds=ranges.get(key))
            for key in keys}


def facts(combined: Mapping[str, Across]) -> dict:
    """All records of :func:`combine`'s result, for one :func:`camformer.records.report.record` call."""
    out: dict = {}
    for key, across in combined.items():
        out |= across.facts(key)
    return out


def table(combined: Mapping[str, Across], names: Mapping[str, str] | None = None, digits: int = 3) -> pd.DataFrame:
    """The ensemble's results as a table to show: one row per question, one column per model
    (its value), then the mean with its between-model interval, the verdict and how many models
    reach it.

    ``names`` maps keys to row names (default: the keys).
    """
    rows = []
    for key, across in combined.items():
        v = across.verdict
        row = {"": (names or {}).get(key, key)}
        row |= {label: round(m.estimate, digits) if np.isfinite(m.estimate) else "—"
                for label, m in zip(across.labels, across.per_model)}
        interval = (f" [{v.ci_low:+.{digits}f}, {v.ci_high:+.{digits}f}]"
                    if np.isfinite(v.ci_low) and np.isfinite(v.ci_high) else "")
        value = f"{v.estimate:+.{digits}f}{interval}" if np.isfinite(v.estimate) else "—"
        row["mean [95% CI over models]" if across.k > 1 else "estimate [95% CI]"] = value
        row["verdict"] = v.words
        row["models agreeing"] = across.agreement()
        rows.append(row)
    return pd.DataFrame(rows).set_index("")


__all__ = ["Across", "UNDECIDED", "across_models", "between_models_interval", "combine", "consensus", "facts",
           "table", "tally"]
