"""The book model's held-out scores, judged against a bar with intervals that resample units.

Chapter 03 states the quick model's held-out Pearson r and Spearman ρ and whether they lie
above 0, that is whether the model predicts held-out expression at all (no bar of quality is
set: none is grounded for a small-data model). Both come from :func:`judged_correlation`: the estimate on all held-out sequences, a
percentile interval from a cluster bootstrap over the split's units (variant families joined
with similarity groups; ``camformer.data.similarity.test_library_units``), and words chosen from
that interval by ``camformer.stats.verdicts.by_interval``. A correlation that a model cannot give
(constant predictions) comes back undefined, with its reason, instead of stopping the build.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

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
        ``(n,)`` unit labels: resample whole units (``camformer.stats.bootstrap.bootstrap_samples``).
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


# The project's own target for its demonstration recipe (issue 24 of the project: each model of the
# book's seed ensemble should reach it), not a bar from the paper: pages name the models below it.
QUALITY_TARGET = 0.80
METRIC_NAMES = {"pearson_r": "Pearson r", "spearman_rho": "Spearman ρ"}


def judged_ensemble(y: np.ndarray, predictions: Mapping[str, np.ndarray], *, groups: np.ndarray | None = None,
                    n_boot: int = 1000, seed: int = 0, target: float = QUALITY_TARGET) -> dict:
    """Held-out r and ρ of every model of a seed ensemble, across the models, and of their mean prediction.

    Parameters
    ----------
    y : numpy.ndarray
        ``(n,)`` measured values.
    predictions : mapping label -> numpy.ndarray
        ``(n,)`` each model's predictions, e.g. ``{"seed 42": ..., "seed 23": ...}``.
    groups, n_boot, seed
        As for :func:`judged_correlation` (each model's interval resamples units; the threshold is 0).
    target : float
        The correlation each model should reach (:data:`QUALITY_TARGET`); the models below it
        on either metric are listed.

    Returns
    -------
    dict
        ``"pearson_r"`` and ``"spearman_rho"`` -> :class:`camformer.stats.ensemble.Across` (every model's
        verdict against 0, the mean with its between-model interval; one model: its own);
        ``"mean_prediction"`` -> {metric: Verdict} of the models' averaged prediction;
        ``"below_target"`` -> the labels of the models with r or ρ below ``target``.
    """
    from .ensemble import across_models

    if not predictions:
        raise ValueError("no models' predictions to judge")
    labels = list(predictions)
    out: dict = {}
    for metric in _ESTIMATORS:
        per_model = [judged_correlation(y, predictions[label], metric, threshold=0.0, groups=groups,
                                        n_boot=n_boot, seed=seed) for label in labels]
        out[metric] = across_models(per_model, labels, bounds=(-1.0, 1.0))
    if len(labels) == 1:  # one model: its averaged prediction is its own, already judged
        out["mean_prediction"] = {metric: out[metric].verdict for metric in _ESTIMATORS}
    else:
        mean = np.mean([np.asarray(predictions[label], np.float64) for label in labels], axis=0)
        out["mean_prediction"] = {metric: judged_correlation(y, mean, metric, threshold=0.0, groups=groups,
                                                             n_boot=n_boot, seed=seed) for metric in _ESTIMATORS}
    out["below_target"] = [label for i, label in enumerate(labels)
                           if any(not out[m].per_model[i].estimate >= target for m in _ESTIMATORS)]
    return out


def ensemble_table(judged: dict) -> pd.DataFrame:
    """:func:`judged_ensemble` as a table: one row per model, then the mean over models (its
    between-model 95% interval) and the averaged prediction; columns r and ρ with their intervals."""
    def cell(v: Verdict) -> str:
        if not np.isfinite(v.estimate):
            return v.words
        interval = f" [{v.ci_low:.3f}, {v.ci_high:.3f}]" if np.isfinite(v.ci_low) else ""
        return f"{v.estimate:.3f}{interval}"

    across = {m: judged[m] for m in _ESTIMATORS}
    first = across["pearson_r"]
    rows = {label: {METRIC_NAMES[m]: cell(a.per_model[i]) for m, a in across.items()}
            for i, label in enumerate(first.labels)}
    if first.k > 1:
        rows[f"mean of the {first.k} models (interval between models)"] = {
            METRIC_NAMES[m]: cell(a.verdict) for m, a in across.items()}
        rows["their averaged prediction"] = {METRIC_NAMES[m]: cell(v) for m, v in judged["mean_prediction"].items()}
    return pd.DataFrame(rows).T


def ensemble_sentence(judged: dict, target: float = QUALITY_TARGET) -> str:
    """What the held-out scores say, chosen from :func:`judged_ensemble`'s numbers: each metric's
    verdict across the models, and which models miss the project's target."""
    parts = []
    for metric, name in METRIC_NAMES.items():
        a = judged[metric]
        if a.k == 1:
            parts.append(describe(a.verdict, name))
        else:
            v = a.verdict
            parts.append(f"{name} is {v.estimate:.3f} on average over the {a.k} models (95% interval between "
                         f"models {v.ci_low:.3f} to {v.ci_high:.3f}): {a.stated()}")
    below = judged["below_target"]
    k = judged["pearson_r"].k
    if below:
        miss = (f"{', '.join(below)} {'is' if len(below) == 1 else 'are'} below the project's target of "
                f"{target:.2f} for its demonstration recipe on r or ρ")
    else:
        miss = (f"{'every model reaches' if k > 1 else 'the model reaches'} the project's target of {target:.2f} "
                "for its demonstration recipe on both")
    return "; ".join(parts) + f". {miss[0].upper() + miss[1:]}."


def ensemble_facts(judged: dict) -> dict:
    """Records of :func:`judged_ensemble`: ``heldout_pearson``/``heldout_spearman`` (across the
    models), ``mean_prediction_pearson``/``_spearman``, ``below_target_models`` (the labels of the
    models below the project's target: per-model evidence, which two builds that trained their
    own models need not share)."""
    out: dict = {}
    for metric, key in (("pearson_r", "pearson"), ("spearman_rho", "spearman")):
        out |= judged[metric].facts(f"heldout_{key}")
        if judged[metric].k > 1:
            out |= judged["mean_prediction"][metric].facts(f"mean_prediction_{key}")
    out["below_target_models"] = ", ".join(judged["below_target"]) or "none"
    return out
