"""Bootstrap intervals of correlations (numpy only), by item or by unit, single or paired.

The DREAM 2022 test set is made of variant families (SNVs, motif perturbations and tilings of
shared backgrounds) and of designed sequences a few substitutions apart that no pair lists.
Sequences of one family, or near copies, are not independent, so an honest interval resamples
whole similarity units (:func:`dream_units`: families joined with groups of near copies; a
cluster bootstrap): pass each item's unit as ``groups``. Two models scored on
the same items are compared on the *same* resamples, which gives their difference its own
(paired) interval: pass both predictions as the rows of ``yhat``.

Every resample is held as copy counts of the original items, so a chunk of resamples is a few
vectorised passes over ``(chunk, n)`` arrays; Spearman ρ is exact (ties averaged) without sorting
each resample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from camformer.data.dream import load_test_pairs, load_test_table, variant_families
from .metrics import METRICS, pearson_r, spearman_rho, subset_ids, subset_values
from .verdicts import Verdict, best_of, by_interval


def _point(metric: str, y: np.ndarray, yhat: np.ndarray) -> float:
    """The metric on all items (no resampling)."""
    r = pearson_r(y, yhat) if metric != "spearman_rho" else spearman_rho(y, yhat)
    return r * r if metric == "pearson_r2" else r


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
    samples = bootstrap_samples(y, np.vstack([yhat_a, yhat_b]), metric, n_boot=n_boot, seed=seed, groups=groups)
    low, high = percentile_interval(samples[0] - samples[1], ci)
    a, b = _point(metric, y, yhat_a), _point(metric, y, yhat_b)
    return {"a": a, "b": b, "difference": a - b, "ci_low": low, "ci_high": high, "n_boot": n_boot}


def bootstrap_table(values: dict[str, tuple[np.ndarray, np.ndarray]],
                    estimates: dict[str, dict[str, float]] | None = None, *, n_boot: int = 1000, seed: int = 0,
                    groups: np.ndarray | None = None,
                    metrics: tuple[str, ...] = ("pearson_r2", "spearman_rho")) -> pd.DataFrame:
    """Percentile-bootstrap 95% intervals of metrics for several models, beside their estimates.

    Parameters
    ----------
    values : dict of str to (y, yhat)
        Model name to measured and predicted values, each ``(n,)`` (see
        :func:`camformer.stats.metrics.subset_values`).
    estimates : dict of str to dict, optional
        Model name to its point estimates ``{"pearson_r2": ..., "spearman_rho": ...}`` (for example a
        :func:`camformer.stats.metrics.score_predictions` table's ``"all"`` row); computed from ``values``
        when ``None``.
    n_boot, seed, groups
        Passed to :func:`bootstrap_ci` (each interval uses the same ``seed``, hence the same resamples).
    metrics : tuple of str
        Metrics of :data:`camformer.stats.metrics.METRICS`.

    Returns
    -------
    DataFrame
        Index (model, metric) with the labels of :data:`METRIC_LABELS` (``"r"``, ``"r²"``, ``"ρ"``);
        columns ``n``, ``estimate``, ``95% low`` and ``95% high``.
    """
    rows = []
    for name, (y, yhat) in values.items():
        y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
        for metric in metrics:
            low, high = bootstrap_ci(y, yhat, metric, n_boot=n_boot, seed=seed, groups=groups)
            estimate = _point(metric, y, yhat) if estimates is None else estimates[name][metric]
            rows.append({"model": name, "metric": METRIC_LABELS[metric], "n": len(y), "estimate": float(estimate),
                         "95% low": low, "95% high": high})
    return pd.DataFrame(rows).set_index(["model", "metric"])


# ----------------------------------------------------------------------------- the DREAM test set

#: Labels of the metrics in tables and sentences.
METRIC_LABELS: dict[str, str] = {"pearson_r": "r", "pearson_r2": "r²", "spearman_rho": "ρ"}


def dream_families(table: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None) -> pd.Series:
    """Variant family of every test sequence, indexed by id: :func:`camformer.data.dream.variant_families`
    over all the test table's ids and all its pairs (public ones included, since a public variant
    still shares its background with the private ones)."""
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    ids = table["id"].to_numpy()
    return pd.Series(variant_families(ids, pairs), index=ids, name="family")


def dream_units(table: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None) -> pd.Series:
    """Similarity unit of every test sequence, indexed by id: variant families joined with groups
    of near copies (at most ``HELDOUT_MIN_DISTANCE - 1`` substitutions apart over the variable
    region), the units chapter 03 builds (:func:`camformer.data.similarity.test_library_units`; on the
    bundled test set, 20,854 families make 14,913 units). The resampling unit of every interval
    on the DREAM test set.

    Parameters
    ----------
    table, pairs : the test table (with ``id`` and ``seq``) and its pairs; default the bundled
        DREAM 2022 test set (computed once per process)
    """
    from camformer.data import similarity
    from camformer.data.dream import encode_sequences, split_groups

    if table is None and pairs is None:
        return similarity.test_library_units()
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    codes = encode_sequences(table["seq"].tolist())[:, similarity.VARIABLE_REGION]
    groups = similarity.similarity_groups(codes, similarity.HELDOUT_MIN_DISTANCE - 1)
    ids = table["id"].to_numpy()
    return pd.Series(split_groups(ids, pairs, groups), index=pd.Index(ids, name="id"), name="unit")


def test_set_units(ids) -> np.ndarray:
    """Similarity unit (:func:`dream_units`) of each bundled DREAM test-set id, ``(n,)`` int64: the
    groups to resample for an interval over these sequences. Units are built over the *whole* test
    table, so two sampled sequences joined only through an unsampled one still share a unit. An id
    not in the test table is an error."""
    units = dream_units()
    ids = np.asarray(ids)
    missing = ~np.isin(ids, units.index.to_numpy())
    if missing.any():
        raise KeyError(f"{int(missing.sum())} ids are not in the DREAM test table, e.g. {ids[missing][:3].tolist()}")
    return units.loc[ids].to_numpy(np.int64)


def model_intervals(
    preds: dict[str, pd.Series],
    subset: str = "all",
    table: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    *,
    families: pd.Series | None = None,
    metrics: tuple[str, ...] = ("pearson_r2", "spearman_rho"),
    private: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Models' metrics on one test subset with percentile intervals, and the paired difference of
    the first two models.

    Every model is scored on the same resamples (:func:`bootstrap_samples` with a 2-D ``yhat``), so
    the difference ``first − second`` gets its own, paired interval.

    Parameters
    ----------
    preds : dict of str to Series
        Model name to predictions indexed by test id (at least one model; two or more for the
        difference). All must cover the same ids.
    subset : str
        One of :data:`camformer.stats.metrics.SUBSETS`; a pair subset is scored on ``alt - ref``.
    table, pairs
        Test table and pairs (default: the bundled DREAM 2022 test set).
    families : Series, optional
        Family label per test id (:func:`dream_families`): resample whole families, a pair going
        with its reference's family. ``None`` resamples single items (sequences or pairs).
    metrics : tuple of str
        Metrics of :data:`camformer.stats.metrics.METRICS`.
    private : bool
        Score the private-leaderboard items only, as the challenge did.
    n_boot, seed, ci
        Resamples, their seed and the interval's coverage.

    Returns
    -------
    DataFrame
        Index ``(model, metric)`` with metric labels of :data:`METRIC_LABELS` and, after the models,
        ``"A − B"`` for the first two; columns ``estimate`` (on all items), ``low``, ``high`` and
        ``width`` (``high - low``).
        ``attrs`` holds ``n`` (items), ``groups`` (resampled units) and ``n_boot``.
    """
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    names = list(preds)
    values = [subset_values(preds[name], subset, table, pairs, private=private) for name in names]
    ids = subset_ids(preds[names[0]], subset, table, pairs, private=private)
    y = values[0][0]
    if any(len(v[0]) != len(y) or not np.array_equal(v[0], y) for v in values):
        raise ValueError(f"the models {names} do not cover the same items of subset {subset!r}")
    groups = None if families is None else families.loc[ids].to_numpy()
    yhat = np.vstack([v[1] for v in values])
    rows = []
    for metric in metrics:
        samples = bootstrap_samples(y, yhat, metric, n_boot=n_boot, seed=seed, groups=groups)
        estimates = [_point(metric, y, row) for row in yhat]
        label = METRIC_LABELS[metric]
        for name, estimate, s in zip(names, estimates, samples):
            rows.append((name, label, estimate, *percentile_interval(s, ci)))
        if len(names) >= 2:
            rows.append((f"{names[0]} − {names[1]}", label, estimates[0] - estimates[1],
                         *percentile_interval(samples[0] - samples[1], ci)))
    out = pd.DataFrame(rows, columns=["model", "metric", "estimate", "low", "high"]).set_index(["model", "metric"])
    out["width"] = out["high"] - out["low"]
    out.attrs.update(n=len(y), groups=len(np.unique(groups)) if groups is not None else len(y), n_boot=n_boot)
    return out


def gap_verdict(estimate: float, low: float, high: float, *, a: str, b: str) -> Verdict:
    """Words for a paired difference ``a − b`` with its interval (:func:`model_intervals`): which
    model scores higher, or that the gap is within the test set's sampling noise."""
    return by_interval(estimate, low, high,
                       above=f"{a} scores higher than {b}, by more than the test set's sampling noise",
                       below=f"{b} scores higher than {a}, by more than the test set's sampling noise",
                       undecided=f"the test set's sampling noise cannot tell {a} and {b} apart")


# ----------------------------------------------------------------------------- published resamples

def distribution_summary(samples: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Median and central ``ci`` range of each column of bootstrap resamples ``(B, models)``:
    columns ``median``, ``low``, ``high`` and ``resamples`` (non-missing values)."""
    rows = {name: (col.median(), *percentile_interval(col.dropna(), ci), col.count()) for name, col in samples.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["median", "low", "high", "resamples"])


def paired_columns(samples: pd.DataFrame, a: str, b: str, ci: float = 0.95) -> Verdict:
    """Whether column ``a`` of resamples lies above column ``b``, row by row.

    Row i of both columns is taken as one resample scored by both models, so the interval of the
    row-wise difference ``a − b`` (its median, and its central ``ci`` range) is a paired one. Were
    the rows drawn independently for each model, the same interval would still be right for the
    difference of two independent estimates (its spread is then the sum of both variances).
    """
    diff = (samples[a] - samples[b]).dropna().to_numpy(np.float64)
    low, high = percentile_interval(diff, ci)
    return by_interval(float(np.median(diff)), low, high, above=f"above {b}", below=f"below {b}",
                       undecided=f"not distinguishable from {b} within the resampling noise")


def standing(samples: pd.DataFrame, model: str, reference: str, ci: float = 0.95) -> dict:
    """Where ``model``'s bootstrap distribution stands among the columns of ``samples``.

    Returns
    -------
    dict
        ``rank`` (by median, 1 = highest) of ``n_models``; ``median``; ``rival``: the highest other
        model (the runner-up when ``model`` ranks first); ``row_correlation``: the correlation of
        ``model`` and ``rival`` across resamples (high when each row is one resample scored by
        both); ``vs_rival``: :func:`paired_columns` ``model − rival``; ``overlaps_reference``:
        whether the ``ci`` ranges of ``model`` and ``reference`` overlap
        (:func:`camformer.stats.verdicts.best_of`); ``vs_reference``: the paired verdict against
        ``reference``; ``text``: one sentence saying all of this; ``facts``: records (``rank``,
        ``n_models``, ``rival``, ``overlaps_reference`` and the two verdicts' facts as
        ``minus_rival`` and ``minus_reference``).
    """
    summary = distribution_summary(samples, ci).sort_values("median", ascending=False)
    rank = summary.index.get_loc(model) + 1
    rival = summary.index[1] if rank == 1 else summary.index[0]
    vs_rival = paired_columns(samples, model, rival, ci)
    _, separated, _ = best_of({n: tuple(summary.loc[n, ["median", "low", "high"]]) for n in (model, reference)})
    vs_reference = paired_columns(samples, model, reference, ci)
    correlation = float(samples[model].corr(samples[rival]))

    def paired(v: Verdict) -> str:
        return f"{v.words} (paired difference {v.estimate:+.4f}, {ci:.0%} {v.ci_low:+.4f} to {v.ci_high:+.4f})"

    role = "the runner-up" if rank == 1 else "the highest"
    text = (f"{model}'s median is number {rank} of {len(summary)} ({summary.loc[model, 'median']:.4f}); "
            f"against {rival}, {role} (resamples correlated row by row, r = {correlation:.2f}), it is "
            f"{paired(vs_rival)}. Its {ci:.0%} range {'does not overlap' if separated else 'overlaps'} "
            f"{reference}'s")
    text += "." if reference == rival else f"; paired, it is {paired(vs_reference)}."
    facts = {"rank": rank, "n_models": len(summary), "rival": rival, "overlaps_reference": not separated,
             **vs_rival.facts("minus_rival"), **vs_reference.facts("minus_reference")}
    return {"rank": rank, "n_models": len(summary), "median": float(summary.loc[model, "median"]), "rival": rival,
            "row_correlation": correlation, "vs_rival": vs_rival, "overlaps_reference": not separated,
            "vs_reference": vs_reference, "text": text, "facts": facts}


def which_correlation(samples: np.ndarray, y: np.ndarray, yhat: np.ndarray) -> Verdict:
    """Which correlation a published bootstrap distribution shows, judged from the data it was drawn from.

    Compares the distribution's median with Pearson r and Spearman ρ of ``(y, yhat)`` ``(n,)``:
    the estimate is how much closer the median lies to r than to ρ; its interval is the estimate
    ± 2 standard deviations of the resamples. Words: ``"Pearson r"``, ``"Spearman ρ"``, or
    ``"Pearson r or Spearman ρ"`` when the two lie too close to tell apart.
    """
    samples = np.asarray(samples, np.float64)
    median, spread = float(np.median(samples)), 2 * float(np.std(samples, ddof=1))
    closer = abs(median - spearman_rho(y, yhat)) - abs(median - pearson_r(y, yhat))
    return by_interval(closer, closer - spread, closer + spread, above="Pearson r", below="Spearman ρ",
                       undecided="Pearson r or Spearman ρ")


def compare_models(preds: dict[str, pd.Series], table: pd.DataFrame | None = None,
                   pairs: pd.DataFrame | None = None, *, units: pd.Series | None = None, n_boot: int = 1000,
                   seed: int = 0) -> dict:
    """Two models on the test set's private sequences, with intervals over similarity units.

    Runs :func:`model_intervals` on ``"all"`` three times: resampling similarity units (r² and ρ,
    the intervals the book states), and, to show how much too narrow they are, resampling listed
    variant families and single sequences (r² only); words the paired difference with
    :func:`gap_verdict`.

    Parameters
    ----------
    preds : dict of str to Series
        Exactly two models, ``{"Original": ..., "Mini": ...}``, predictions indexed by test id.
    table, pairs, n_boot, seed
        As in :func:`model_intervals`.
    units : Series, optional
        Unit per test id (default :func:`dream_units` of ``table`` and ``pairs``).

    Returns
    -------
    dict
        ``intervals`` (the unit table of :func:`model_intervals`), ``by_family`` (the family table,
        r² only), ``verdicts`` (metric label to :class:`~camformer.stats.verdicts.Verdict` of ``A − B``),
        ``text`` (a paragraph) and ``facts`` (records: ``{a}_r2_ci_low``/``_ci_high``,
        ``{a}_minus_{b}_r2``/``_rho`` with their intervals and verdicts, ``test_units``,
        ``test_families``, ``{a}_r2_ci_width_by_unit``, ``_by_family`` and ``_by_sequence``;
        ``a`` and ``b`` the lower-cased names).
    """
    if len(preds) != 2:
        raise ValueError(f"compare exactly two models, got {list(preds)}")
    units = dream_units(table, pairs) if units is None else units
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    a, b = preds
    unit = model_intervals(preds, "all", table, pairs, families=units, n_boot=n_boot, seed=seed)
    fam = model_intervals(preds, "all", table, pairs, families=dream_families(table, pairs),
                          metrics=("pearson_r2",), n_boot=n_boot, seed=seed)
    seq = model_intervals(preds, "all", table, pairs, metrics=("pearson_r2",), n_boot=n_boot, seed=seed)
    verdicts = {m: gap_verdict(*unit.loc[(f"{a} − {b}", m), ["estimate", "low", "high"]], a=a, b=b)
                for m in ("r²", "ρ")}
    width = {name: t.loc[(a, "r²"), "width"] for name, t in (("unit", unit), ("family", fam), ("sequence", seq))}
    differences = " and ".join(f"{v.estimate:.4f} in {m} (95% {v.ci_low:.4f} to {v.ci_high:.4f})"
                               for m, v in verdicts.items())
    text = (f"The {unit.attrs['n']:,} private sequences form {fam.attrs['groups']:,} variant families, which "
            f"near copies join into {unit.attrs['groups']:,} similarity units. With {n_boot:,} resamples of "
            f"units, {a}'s r² interval is {width['unit']:.4f} wide, against {width['family']:.4f} over "
            f"families and {width['sequence']:.4f} if the sequences are resampled as if independent. "
            f"{a} − {b} is {differences}. "
            + (f"In both, {verdicts['r²']}." if str(verdicts["r²"]) == str(verdicts["ρ"])
               else f"In r², {verdicts['r²']}; in ρ, {verdicts['ρ']}."))
    ka, kb = a.lower(), b.lower()
    facts = {f"{ka}_r2_ci_low": unit.loc[(a, "r²"), "low"], f"{ka}_r2_ci_high": unit.loc[(a, "r²"), "high"],
             **verdicts["r²"].facts(f"{ka}_minus_{kb}_r2"), **verdicts["ρ"].facts(f"{ka}_minus_{kb}_rho"),
             "test_units": int(unit.attrs["groups"]), "test_families": int(fam.attrs["groups"]),
             f"{ka}_r2_ci_width_by_unit": width["unit"], f"{ka}_r2_ci_width_by_family": width["family"],
             f"{ka}_r2_ci_width_by_sequence": width["sequence"]}
    return {"intervals": unit, "by_family": fam, "verdicts": verdicts, "text": text, "facts": facts}
