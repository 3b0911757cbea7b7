"""Bootstrap intervals of correlations (numpy only), by item or by family, single or paired.

The DREAM 2022 test set is made of variant families: SNVs, motif perturbations and tilings of
shared backgrounds. Sequences of one family are not independent, so an honest interval resamples
whole families (a cluster bootstrap): pass each item's family as ``groups``. Two models scored on
the same items are compared on the *same* resamples, which gives their difference its own
(paired) interval: pass both predictions as the rows of ``yhat``.

Every resample is held as copy counts of the original items, so a chunk of resamples is a few
vectorised passes over ``(chunk, n)`` arrays; Spearman ρ is exact (ties averaged) without sorting
each resample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import METRICS, pearson_r, spearman_rho


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson r under each row of weights ``w`` ``(B, n)``; ``x`` and ``y`` are ``(n,)`` (the same
    items in every row) or ``(B, n)`` (their own values per row). Returns ``(B,)``.

    Each row is centred first, which leaves r unchanged and keeps the moment sums well conditioned.
    """
    x = x - x.mean(axis=-1, keepdims=True)
    y = y - y.mean(axis=-1, keepdims=True)
    total = w.sum(axis=1)

    def mean(a: np.ndarray) -> np.ndarray:
        return (w @ a if a.ndim == 1 else np.einsum("ij,ij->i", w, a)) / total

    mx, my = mean(x), mean(y)
    cov = mean(x * y) - mx * my
    return cov / np.sqrt((mean(x * x) - mx * mx) * (mean(y * y) - my * my))


def _sorted_resample_ranks(values: np.ndarray, order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Average ranks ``(B, n)`` of the items ``order`` (``values`` sorted ascending) in each resample.

    A resample holds ``counts[b, j]`` copies of item j; copies (and equal values) tie, so each gets
    the mean of the ranks they span: the number of smaller values plus ``(ties + 1) / 2``. This is
    what ranking the resample would give, without sorting it. Column k of the result is item ``order[k]``.
    """
    per_item = np.take(counts, order, axis=1)
    _, starts, inverse = np.unique(values[order], return_index=True, return_inverse=True)
    if len(starts) == len(values):
        return np.cumsum(per_item, axis=1) - 0.5 * (per_item - 1)
    per_value = np.add.reduceat(per_item, starts, axis=1)  # tied values share their ranks
    return np.take(np.cumsum(per_value, axis=1) - 0.5 * (per_value - 1), inverse, axis=1)


def _bootstrap_spearman(y: np.ndarray, yhat: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Spearman ρ of each resample given as copy counts ``(B, n)``; works in the order of sorted ``y``."""
    order_y = np.argsort(y, kind="stable")
    order_p = np.argsort(yhat, kind="stable")
    position_p = np.empty_like(order_p)
    position_p[order_p] = np.arange(len(order_p))
    rank_y = _sorted_resample_ranks(y, order_y, counts)
    rank_p = np.take(_sorted_resample_ranks(yhat, order_p, counts), position_p[order_y], axis=1)
    return _weighted_pearson(rank_y, rank_p, np.take(counts, order_y, axis=1))


def _as_groups(groups, n: int) -> tuple[np.ndarray, int]:
    """Group labels as codes ``0..G-1`` ``(n,)`` and the number of groups ``G``."""
    labels = np.asarray(groups)
    if labels.shape != (n,):
        raise ValueError(f"groups must have one label per item, shape ({n},), got {labels.shape}")
    codes, uniques = pd.factorize(labels, sort=True)
    if (codes < 0).any():
        raise ValueError("groups hold a missing label (NaN or None)")
    return codes.astype(np.int64), len(uniques)


def resample_counts(rng: np.random.Generator, n: int, b: int, *, groups: np.ndarray | None = None,
                    n_groups: int = 0, sample_size: int | None = None) -> np.ndarray:
    """Copy counts ``(b, n)`` of ``b`` bootstrap resamples of ``n`` items.

    Without ``groups``, resample ``i`` draws ``sample_size`` (default ``n``) items with replacement:
    ``rng.integers(0, n, size=(b, sample_size))[i]``. With ``groups`` (codes ``0..n_groups-1``, one
    per item), it draws ``n_groups`` whole groups with replacement, and every item of a group drawn
    k times gets k copies.
    """
    if groups is None:
        size = n if sample_size is None else int(sample_size)
        idx = rng.integers(0, n, size=(b, size))
        flat = (idx + n * np.arange(b)[:, None]).ravel()
        return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)
    if sample_size is not None:
        raise ValueError("sample_size is not supported with groups")
    draws = rng.integers(0, n_groups, size=(b, n_groups))
    flat = (draws + n_groups * np.arange(b)[:, None]).ravel()
    per_group = np.bincount(flat, minlength=b * n_groups).reshape(b, n_groups)
    return per_group[:, groups].astype(np.float64)


def bootstrap_samples(
    y: np.ndarray,
    yhat: np.ndarray,
    metric: str = "pearson_r2",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    groups: np.ndarray | None = None,
    sample_size: int | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Metric on ``n_boot`` resamples (with replacement) of the pairs ``(y, yhat)``.

    Parameters
    ----------
    y
        Measured values, shape ``(n,)``.
    yhat
        Predicted values, ``(n,)``; or ``(m, n)`` for ``m`` models scored on the same resamples
        (paired: row-wise differences of the result are the paired differences).
    metric
        ``"pearson_r"``, ``"pearson_r2"`` or ``"spearman_rho"`` (re-ranked within each resample).
    n_boot
        Number of resamples.
    seed
        Seed of the resampling; the same seed gives the same samples (see :func:`resample_counts`
        for how each resample is drawn from a ``numpy.random.default_rng(seed)``, chunk after chunk).
    groups
        Optional ``(n,)`` labels (any hashable values): resample whole groups (a cluster bootstrap),
        for items that are not independent, such as the variant families of the DREAM test set.
    sample_size
        Size of each resample (default ``n``; only without ``groups``).
    chunk
        Resamples computed at once; memory is about ``chunk * n * 40`` bytes per model.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_boot,)``, or ``(m, n_boot)`` for a 2-D ``yhat``.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    rows = yhat[None] if yhat.ndim == 1 else yhat
    if y.ndim != 1 or rows.ndim != 2 or rows.shape[1] != len(y):
        raise ValueError(f"y must be (n,) and yhat (n,) or (m, n), got {y.shape} and {yhat.shape}")
    n = len(y)
    codes, n_groups = _as_groups(groups, n) if groups is not None else (None, 0)
    rng = np.random.default_rng(seed)
    out = np.empty((len(rows), n_boot))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        counts = resample_counts(rng, n, b, groups=codes, n_groups=n_groups, sample_size=sample_size)
        for k, pred in enumerate(rows):
            if metric == "spearman_rho":
                out[k, start:start + b] = _bootstrap_spearman(y, pred, counts)
            else:
                out[k, start:start + b] = _weighted_pearson(y, pred, counts)
    out = out ** 2 if metric == "pearson_r2" else out
    return out[0] if yhat.ndim == 1 else out


def percentile_interval(samples: np.ndarray, ci: float = 0.95) -> tuple[float, float]:
    """The central ``ci`` percentile interval ``(low, high)`` of bootstrap samples ``(B,)``."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    low, high = np.quantile(np.asarray(samples, np.float64), [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high)


def bootstrap_ci(
    y: np.ndarray,
    yhat: np.ndarray,
    metric: str = "pearson_r2",
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    *,
    groups: np.ndarray | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval ``(low, high)`` of a metric (see :func:`bootstrap_samples`)."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    return percentile_interval(bootstrap_samples(y, yhat, metric, n_boot=n_boot, seed=seed, groups=groups), ci)


def paired_difference(y: np.ndarray, yhat_a: np.ndarray, yhat_b: np.ndarray, metric: str = "pearson_r2",
                      *, n_boot: int = 1000, seed: int = 0, groups: np.ndarray | None = None,
                      ci: float = 0.95) -> dict[str, float]:
    """Metric of model A minus model B on the same items, with a paired percentile interval.

    Both models are scored on every resample (the same items, or the same families with
    ``groups``), so the interval of the difference is narrower than the two separate intervals
    suggest when the models err alike.

    Returns
    -------
    dict
        ``a``, ``b``, ``difference`` (estimates on all items; the metric as in
        :func:`bootstrap_samples` without resampling), ``ci_low``, ``ci_high`` (of the difference)
        and ``n_boot``.
    """
    y = np.asarray(y, np.float64)
    point = {"pearson_r": pearson_r, "spearman_rho": spearman_rho,
             "pearson_r2": lambda t, p: pearson_r(t, p) ** 2}[metric]
    samples = bootstrap_samples(y, np.vstack([yhat_a, yhat_b]), metric, n_boot=n_boot, seed=seed, groups=groups)
    low, high = percentile_interval(samples[0] - samples[1], ci)
    a, b = point(y, yhat_a), point(y, yhat_b)
    return {"a": a, "b": b, "difference": a - b, "ci_low": low, "ci_high": high, "n_boot": n_boot}


def bootstrap_table(values: dict[str, tuple[np.ndarray, np.ndarray]], estimates: dict[str, dict[str, float]], *,
                    n_boot: int = 1000, seed: int = 0, groups: np.ndarray | None = None) -> pd.DataFrame:
    """Percentile-bootstrap 95% intervals of r² and ρ for several models, beside their estimates.

    Parameters
    ----------
    values : dict of str to (y, yhat)
        Model name to measured and predicted values, each ``(n,)`` (see
        :func:`camformer.metrics.subset_values`).
    estimates : dict of str to dict
        Model name to its point estimates ``{"pearson_r2": ..., "spearman_rho": ...}`` (for example a
        :func:`camformer.metrics.score_predictions` table's ``"all"`` row).
    n_boot, seed, groups
        Passed to :func:`bootstrap_ci` (each interval uses the same ``seed``, hence the same resamples).

    Returns
    -------
    DataFrame
        Index (model, metric) with metric ``"r²"`` or ``"ρ"``; columns ``estimate``,
        ``95% low`` and ``95% high``.
    """
    rows = []
    for name, (y, yhat) in values.items():
        for metric, label in (("pearson_r2", "r²"), ("spearman_rho", "ρ")):
            low, high = bootstrap_ci(y, yhat, metric, n_boot=n_boot, seed=seed, groups=groups)
            rows.append({"model": name, "metric": label, "estimate": float(estimates[name][metric]),
                         "95% low": low, "95% high": high})
    return pd.DataFrame(rows).set_index(["model", "metric"])
