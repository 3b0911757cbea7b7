"""Metrics: Pearson r², Spearman ρ and the DREAM 2022 weighted score (numpy/pandas/scipy only).

Scoring follows the challenge's official evaluation (de-Boer-Lab/random-promoter-dream-challenge-2022,
``prixfixe/evaluation.py``): Pearson r and Spearman ρ on "all" and on each official subset; the three
variant subsets (SNVs, motif_perturbation, motif_tiling) are scored on differences, measured
``alt - ref`` against predicted ``alt - ref``. The final (private) leaderboard leaves out the
public-leaderboard ids from "all" and the single subsets, and the public pairs from the pair subsets.
The weighted score combines the subsets with :data:`SUBSET_WEIGHTS`, once on r² and once on ρ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .data import DataFormatError, load_test_pairs, load_test_table

#: The nine scored subsets, in the leaderboard's order.
SUBSETS: tuple[str, ...] = ("all", "high", "low", "yeast", "random", "challenging",
                            "SNVs", "motif_perturbation", "motif_tiling")
#: Subsets scored on (reference, variant) differences.
PAIR_SUBSETS: tuple[str, ...] = ("SNVs", "motif_perturbation", "motif_tiling")
#: Weights of the challenge's score; the score divides by their sum, 4.65.
SUBSET_WEIGHTS: dict[str, float] = {"all": 1.0, "high": 0.3, "low": 0.3, "yeast": 0.3, "random": 0.3,
                                    "challenging": 0.5, "SNVs": 1.25, "motif_perturbation": 0.3,
                                    "motif_tiling": 0.4}
#: Metric names accepted by :func:`bootstrap_ci` and :func:`dream_score`.
METRICS: tuple[str, ...] = ("pearson_r", "pearson_r2", "spearman_rho")


def _defined(y: np.ndarray, yhat: np.ndarray) -> bool:
    """A correlation is defined for two or more pairs where neither side is constant."""
    return len(y) >= 2 and np.ptp(y) > 0 and np.ptp(yhat) > 0


def pearson_r(y: np.ndarray, yhat: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays; NaN where it is undefined (a constant side)."""
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    return float(stats.pearsonr(y, yhat)[0]) if _defined(y, yhat) else float("nan")


def spearman_rho(y: np.ndarray, yhat: np.ndarray) -> float:
    """Spearman rank correlation of two 1-D arrays; NaN where it is undefined (a constant side)."""
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    return float(stats.spearmanr(y, yhat)[0]) if _defined(y, yhat) else float("nan")


def _metric_row(y: np.ndarray, yhat: np.ndarray) -> dict[str, float]:
    n = len(y)
    if n < 3:  # too few points for a correlation; say so with NaN and the count
        return {"n": n, "pearson_r": np.nan, "pearson_r2": np.nan, "spearman_rho": np.nan}
    r = pearson_r(y, yhat)
    return {"n": n, "pearson_r": r, "pearson_r2": r * r, "spearman_rho": spearman_rho(y, yhat)}


def _as_series(pred: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(pred, pd.DataFrame):
        if pred.shape[1] != 1:
            raise ValueError(f"predictions must have exactly one column, got {list(pred.columns)}")
        pred = pred.iloc[:, 0]
    pred = pd.Series(pred, dtype=np.float64)
    if pred.index.has_duplicates:
        dup = pred.index[pred.index.duplicated()][0]
        raise ValueError(f"predictions hold id {dup} more than once")
    if pred.isna().any():
        raise ValueError(f"prediction for id {pred.index[pred.isna().to_numpy()][0]} is missing (NaN)")
    return pred


def _check_predictions(pred: pd.Series | pd.DataFrame, truth: pd.Series) -> pd.Series:
    pred = _as_series(pred)
    unknown = ~pred.index.isin(truth.index)
    if unknown.any():
        raise ValueError(f"{int(unknown.sum())} predicted ids are not in the test table "
                         f"(first: {pred.index[unknown][0]})")
    return pred


def _subset_values(pred: pd.Series, truth: pd.Series, table: pd.DataFrame, pairs: pd.DataFrame,
                   subset: str, private: bool) -> tuple[np.ndarray, np.ndarray]:
    if subset in PAIR_SUBSETS:
        p = pairs[pairs["subset"] == subset]
        ok = p["ref_id"].isin(pred.index) & p["alt_id"].isin(pred.index)
        if private:
            ok &= p["public"] != 1
        ref, alt = p.loc[ok, "ref_id"].to_numpy(), p.loc[ok, "alt_id"].to_numpy()
        return (truth.loc[alt].to_numpy() - truth.loc[ref].to_numpy(),
                pred.loc[alt].to_numpy() - pred.loc[ref].to_numpy())
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    mask = table["id"].isin(pred.index).to_numpy()
    if private:
        mask = mask & (table["public"].to_numpy() != 1)
    if subset != "all":
        mask = mask & table["subsets"].fillna("").str.split(";").map(lambda names: subset in names).to_numpy(bool)
    ids = table["id"].to_numpy()[mask]
    return truth.loc[ids].to_numpy(), pred.loc[ids].to_numpy()


def _truth(table: pd.DataFrame) -> pd.Series:
    return pd.Series(table["expression"].to_numpy(np.float64), index=table["id"].to_numpy())


def subset_values(
    pred: pd.Series | pd.DataFrame,
    subset: str,
    table: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    *,
    private: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Measured and predicted values that :func:`score_predictions` correlates for one subset.

    Returns ``(y, yhat)``, float64 ``(n,)`` each: expression of the subset's sequences, or for a
    pair subset the ``alt - ref`` differences of its pairs. Arguments as in :func:`score_predictions`.
    """
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    truth = _truth(table)
    return _subset_values(_check_predictions(pred, truth), truth, table, pairs, subset, private)


def score_predictions(
    pred: pd.Series | pd.DataFrame,
    table: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    *,
    private: bool = True,
) -> pd.DataFrame:
    """Per-subset Pearson r, r² and Spearman ρ of test-set predictions, as the challenge scored them.

    Parameters
    ----------
    pred
        Predicted expression indexed by test-set id (a Series, or a one-column DataFrame).
        Ids not in ``pred`` are left out of every subset (and a pair is left out unless both
        of its ids are predicted), so a prediction of part of the test set is scored on that part.
    table
        The test table (:func:`camformer.data.load_test_table`; columns ``id, expression,
        subsets, public``). Defaults to the bundled DREAM 2022 test set.
    pairs
        Variant pairs (:func:`camformer.data.load_test_pairs`; ``subset, ref_id, alt_id, public``).
        Defaults to the bundled pairs.
    private
        Score as the final (private) leaderboard did: leave out ids with ``public == 1`` from
        "all" and the single subsets, and pairs with ``public == 1`` from the pair subsets.

    Returns
    -------
    pandas.DataFrame
        One row per subset of :data:`SUBSETS` (index ``subset``), columns ``n`` (sequences, or
        pairs for a pair subset), ``pearson_r``, ``pearson_r2``, ``spearman_rho``. A subset with
        fewer than 3 scored items has NaN metrics.

    Raises
    ------
    ValueError
        If ``pred`` has ids that are not in the test table, duplicate ids or NaN values.
    """
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    truth = _truth(table)
    pred = _check_predictions(pred, truth)
    rows = {name: _metric_row(*_subset_values(pred, truth, table, pairs, name, private)) for name in SUBSETS}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "subset"
    out["n"] = out["n"].astype(np.int64)
    return out


def dream_score(per_subset: pd.DataFrame, metric: str = "pearson_r2") -> float:
    """The challenge's weighted score from a :func:`score_predictions` table.

    ``(all + 0.3 high + 0.3 low + 0.3 yeast + 0.3 random + 0.5 challenging + 1.25 SNVs
    + 0.3 motif_perturbation + 0.4 motif_tiling) / 4.65`` of column ``metric``: the Pearson
    score uses ``"pearson_r2"``, the Spearman score ``"spearman_rho"``. NaN if any subset is NaN.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    missing = [s for s in SUBSET_WEIGHTS if s not in per_subset.index]
    if missing:
        raise ValueError(f"per-subset table lacks subsets {missing}")
    w = pd.Series(SUBSET_WEIGHTS)
    # NaN (a subset too small to score) propagates: a partial score would not be the challenge's
    return float(np.sum(per_subset.loc[w.index, metric].to_numpy(np.float64) * w.to_numpy()) / w.sum())


def leaderboard_layout(per_subset: pd.DataFrame) -> pd.DataFrame:
    """A :func:`score_predictions` table in the leaderboard's layout.

    Returns a DataFrame with rows ``pearson_r2`` and ``spearman_rho`` and columns the nine
    :data:`SUBSETS` then ``score`` (the weighted score of that row's metric).
    """
    rows = {}
    for metric in ("pearson_r2", "spearman_rho"):
        rows[metric] = [*per_subset.loc[list(SUBSETS), metric], dream_score(per_subset, metric)]
    return pd.DataFrame.from_dict(rows, orient="index", columns=[*SUBSETS, "score"])


def read_predictions(path: str | Path, column: str | None = None) -> pd.Series:
    """Read a predictions file (TSV or CSV, optionally gzipped) with an ``id`` column.

    Parameters
    ----------
    path
        File with a header line, an ``id`` column of integer test-set ids and a prediction column.
    column
        Name of the prediction column; by default the file's only column besides ``id``, or
        ``prediction`` if present.

    Returns
    -------
    pandas.Series
        float64 predictions indexed by id (named after the column).

    Raises
    ------
    camformer.data.DataFormatError
        Naming the file, the line and the problem: no ``id`` column, an ambiguous or missing
        prediction column, an id or value that is missing or not a number, or a repeated id.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such predictions file")
    name = path.name.removesuffix(".gz")
    sep = "," if name.endswith(".csv") else "\t"
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    if "id" not in df.columns:
        raise DataFormatError(path, 1, f"no 'id' column in the header (found {list(df.columns)})")
    others = [c for c in df.columns if c != "id"]
    if column is None:
        if "prediction" in others:
            column = "prediction"
        elif len(others) == 1:
            column = others[0]
        else:
            raise DataFormatError(path, 1, f"several prediction columns {others}; choose one with --column")
    if column not in others:
        raise DataFormatError(path, 1, f"no column {column!r} (found {list(df.columns)})")
    ids = pd.to_numeric(df["id"], errors="coerce")
    values = pd.to_numeric(df[column], errors="coerce")
    for label, arr in (("id", ids), (column, values)):
        bad = ~np.isfinite(arr.to_numpy(np.float64))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataFormatError(path, i + 2, f"{label} value {df[label].iloc[i]!r} is missing or not a number")
    if (ids % 1 != 0).any():
        i = int(np.argmax((ids % 1 != 0).to_numpy()))
        raise DataFormatError(path, i + 2, f"id {df['id'].iloc[i]!r} is not an integer")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise DataFormatError(path, i + 2, f"id {int(ids.iloc[i])} appears more than once")
    return pd.Series(values.to_numpy(np.float64), index=ids.to_numpy(np.int64), name=column)


# ---------------------------------------------------------------------------- uncertainty

def _weighted_rows_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``(B, n)`` arrays, weighting item j of row b by ``w[b, j]``."""
    total = w.sum(axis=1)
    mx = np.einsum("ij,ij->i", w, x) / total
    my = np.einsum("ij,ij->i", w, y) / total
    cov = np.einsum("ij,ij,ij->i", w, x, y) / total - mx * my
    vx = np.einsum("ij,ij,ij->i", w, x, x) / total - mx * mx
    vy = np.einsum("ij,ij,ij->i", w, y, y) / total - my * my
    return cov / np.sqrt(vx * vy)


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson r of fixed ``x, y`` ``(n,)`` under each row of weights ``w`` ``(B, n)``."""
    x, y = x - x.mean(), y - y.mean()  # centring first keeps the moment sums well conditioned
    total = w.sum(axis=1)
    mx, my = w @ x / total, w @ y / total
    cov = w @ (x * y) / total - mx * my
    return cov / np.sqrt((w @ (x * x) / total - mx * mx) * (w @ (y * y) / total - my * my))


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
    return _weighted_rows_pearson(rank_y, rank_p, np.take(counts, order_y, axis=1))


def bootstrap_samples(
    y: np.ndarray,
    yhat: np.ndarray,
    metric: str = "pearson_r2",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    sample_size: int | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Metric on ``n_boot`` resamples (with replacement) of the pairs ``(y, yhat)``.

    Each resample is held as copy counts of the original items, so a chunk of resamples is a few
    vectorised passes over ``(chunk, n)`` arrays; Spearman ρ is exact (ties averaged) without
    sorting each resample.

    Parameters
    ----------
    y, yhat
        Measured and predicted values, shape ``(n,)``.
    metric
        ``"pearson_r"``, ``"pearson_r2"`` or ``"spearman_rho"`` (re-ranked within each resample).
    n_boot
        Number of resamples.
    seed
        Seed of the resampling; the same seed gives the same samples. Resample ``b`` draws the
        indices ``rng.integers(0, n, size=(chunk, sample_size))[b]`` of a
        ``numpy.random.default_rng(seed)``, chunk after chunk.
    sample_size
        Size of each resample (default ``n``).
    chunk
        Resamples computed at once; memory is about ``chunk * (n + sample_size) * 40`` bytes.

    Returns
    -------
    numpy.ndarray
        float64 ``(n_boot,)``.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    if y.shape != yhat.shape or y.ndim != 1:
        raise ValueError(f"y and yhat must be 1-D of the same length, got {y.shape} and {yhat.shape}")
    n = len(y)
    size = n if sample_size is None else int(sample_size)
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(b, size))
        counts = np.bincount((idx + n * np.arange(b)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        counts = counts.astype(np.float64)
        if metric == "spearman_rho":
            out[start:start + b] = _bootstrap_spearman(y, yhat, counts)
        else:
            out[start:start + b] = _weighted_pearson(y, yhat, counts)
    return out ** 2 if metric == "pearson_r2" else out


def bootstrap_ci(
    y: np.ndarray,
    yhat: np.ndarray,
    metric: str = "pearson_r2",
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval ``(low, high)`` of a metric (see :func:`bootstrap_samples`)."""
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    samples = bootstrap_samples(y, yhat, metric, n_boot=n_boot, seed=seed)
    low, high = np.quantile(samples, [(1 - ci) / 2, (1 + ci) / 2])
    return float(low), float(high)


def ensemble_summary(values: np.ndarray | pd.Series) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``) of a metric over a seed ensemble."""
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"need a 1-D array of at least 2 values, got shape {values.shape}")
    return float(values.mean()), float(values.std(ddof=1))


def seed_ensemble_facts(table: pd.DataFrame) -> dict[str, float]:
    """Summary of a seed-ensemble table (the paper's ``seed_ensemble_*.csv``: one row per
    combination of seeds, columns ``num_seeds, average_score``).

    Returns
    -------
    dict
        ``single_mean``, ``single_sd``: :func:`ensemble_summary` of the one-seed rows (one per
        seed); ``single_first``: the first one-seed row's score; ``n_seeds``: the largest
        ensemble's size; ``all_seeds``: its score (the mean over its rows, one in the paper's tables).
    """
    missing = {"num_seeds", "average_score"} - set(table.columns)
    if missing:
        raise ValueError(f"seed-ensemble table lacks columns {sorted(missing)}")
    single = table.loc[table["num_seeds"] == 1, "average_score"]
    mean, sd = ensemble_summary(single)
    n = int(table["num_seeds"].max())
    return {"single_mean": mean, "single_sd": sd, "single_first": float(single.iloc[0]), "n_seeds": n,
            "all_seeds": float(table.loc[table["num_seeds"] == n, "average_score"].mean())}


def score_facts(per_subset: pd.DataFrame, prefix: str) -> dict[str, float]:
    """A model's headline numbers from a :func:`score_predictions` table, keyed ``{prefix}_r2``,
    ``{prefix}_rho`` (all sequences) and ``{prefix}_pearson_score``, ``{prefix}_spearman_score``
    (:func:`dream_score`)."""
    return {f"{prefix}_r2": float(per_subset.loc["all", "pearson_r2"]),
            f"{prefix}_rho": float(per_subset.loc["all", "spearman_rho"]),
            f"{prefix}_pearson_score": dream_score(per_subset, "pearson_r2"),
            f"{prefix}_spearman_score": dream_score(per_subset, "spearman_rho")}


def additive_variance_shares(table: pd.DataFrame, factors: list[str], response: str) -> pd.Series:
    """Share of the variance of ``response`` explained by each factor of an additive (main-effects) model.

    Fits ``response ~ factor_1 + ... + factor_k`` (categorical factors, least squares) and gives
    each factor the drop in explained sum of squares when it alone is left out (type II sums of
    squares), divided by the total sum of squares. In a balanced full-factorial design, such as
    the paper's 270-model grid, these are the classical main-effect shares and they add up, with
    ``"residual"`` (interactions and noise), to 1.

    Returns
    -------
    pandas.Series
        Share per factor, then ``"residual"``, indexed by name.
    """
    y = table[response].to_numpy(np.float64)
    if not np.isfinite(y).all():
        raise ValueError(f"{response} has missing or non-finite values")

    def rss(names: list[str]) -> float:
        design = [np.ones((len(y), 1))]
        design += [pd.get_dummies(table[f].astype(str), drop_first=True).to_numpy(np.float64) for f in names]
        x = np.hstack(design)
        resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        return float(resid @ resid)

    total = float(((y - y.mean()) ** 2).sum())
    full = rss(factors)
    shares = {f: (rss([g for g in factors if g != f]) - full) / total for f in factors}
    shares["residual"] = full / total
    return pd.Series(shares, name=f"share of variance of {response}")



def factor_effects(table: pd.DataFrame, factors: list[str], response: str) -> pd.DataFrame:
    """Each factor's effect on ``response``: the range (max - min) of its levels' means (each
    level averaged over everything else). Rows with a non-finite response are left out.

    Returns
    -------
    pandas.DataFrame
        One row per factor: ``factor, best_level, worst_level, best_mean, worst_mean, effect``,
        largest effect first.
    """
    missing = [c for c in [*factors, response] if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    finite = table[np.isfinite(table[response].to_numpy(np.float64))]
    rows = []
    for factor in factors:
        means = finite.groupby(factor)[response].mean()
        rows.append({"factor": factor, "best_level": means.idxmax(), "worst_level": means.idxmin(),
                     "best_mean": float(means.max()), "worst_mean": float(means.min()),
                     "effect": float(means.max() - means.min())})
    return pd.DataFrame(rows).sort_values("effect", ascending=False, ignore_index=True)


def factor_effects_vs_seeds(table: pd.DataFrame, factors: list[str], response: str,
                            seed: str = "seed") -> pd.DataFrame:
    """Is each factor's effect larger than the spread between seeds? For a grid slice trained
    with several seeds per cell.

    A factor's effect is as in :func:`factor_effects`. The *seed spread* is the range of
    ``response`` over the seeds of one cell (one combination of all ``factors``), averaged over
    the cells with at least two finite runs: the difference two seeds of the same recipe make. A
    factor's effect ``exceeds_seeds`` when it is larger than that spread. Runs with a
    non-finite response (a model that predicted a constant) are left out and counted.

    Returns
    -------
    pandas.DataFrame
        :func:`factor_effects`' columns and ``seed_spread, exceeds_seeds, runs, runs_left_out``.
    """
    if seed not in table.columns:
        raise ValueError(f"table has no column {seed!r}")
    effects = factor_effects(table, factors, response)
    finite = table[np.isfinite(table[response].to_numpy(np.float64))]
    cells = finite.groupby(list(factors))[response]
    if not (cells.size() >= 2).any():
        raise ValueError("need at least 2 seeds in some cell to measure the seed spread")
    spread = float((cells.max() - cells.min())[cells.size() >= 2].mean())
    return effects.assign(seed_spread=spread, exceeds_seeds=effects["effect"] > spread,
                          runs=len(finite), runs_left_out=len(table) - len(finite))


def load_leaderboard() -> pd.DataFrame:
    """The challenge's final private leaderboard as the paper publishes it (``paper/sota.csv``,
    from Rafi et al. 2024): index ``(metric, team)`` with metric ``"r²"`` (Pearson r², the sheet's
    "pearson") or ``"ρ"``, columns the subsets of :data:`SUBSETS` and the weighted ``score``."""
    from .data import load_paper_table

    board = load_paper_table("sota.csv", sep="\t", index_col=[0, 1])
    board.index.names = ["metric", "team"]
    return board.rename(index={"pearson": "r²", "spearman": "ρ"}, level="metric")


def challenge_scores(board: pd.DataFrame) -> pd.DataFrame:
    """Each team's two weighted scores from a :func:`load_leaderboard` table: columns
    ``Pearson score`` (the r² rows' ``score``) and ``Spearman score`` (the ρ rows')."""
    return pd.DataFrame({"Pearson score": board.loc["r²", "score"], "Spearman score": board.loc["ρ", "score"]})


def leaderboard_board(published: pd.DataFrame, extra: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The leaderboard with extra rows: ``published`` (index ``metric, team``) and, for each
    extra team, its :func:`leaderboard_layout` (index ``metric``), grouped by metric."""
    rows = pd.concat({team: layout for team, layout in extra.items()}, names=["team", "metric"])
    rows = rows.swaplevel().sort_index(level="metric", sort_remaining=False)
    return pd.concat([published, rows])


def rank_teams(scores: pd.DataFrame) -> pd.DataFrame:
    """Each team's place by each score column (1 = the highest score; tied teams share the best
    place, as ``pandas.Series.rank(method="min")``)."""
    return scores.rank(ascending=False, method="min").astype(int)


def place_among(scores: pd.DataFrame, entry: dict[str, float]) -> dict[str, int]:
    """The place ``entry`` (one value per score column) would take among the teams of ``scores``:
    1 + the number of teams with a strictly higher score, per column."""
    return {column: int((scores[column] > value).sum()) + 1 for column, value in entry.items()}


def compare_with_paper(scores: dict[str, pd.DataFrame], paper_rows: dict[str, pd.Series]) -> pd.DataFrame:
    """Put the metrics computed here beside the paper's, subset by subset.

    Parameters
    ----------
    scores : dict of str to DataFrame
        Model name to its :func:`score_predictions` table (index :data:`SUBSETS`).
    paper_rows : dict of str to Series
        Model name to its row of the paper's ``grid_res_all_models_pvt.csv`` (subset columns
        ``{subset}_pearson`` and ``{subset}_spearman`` hold Pearson r and Spearman ρ, the
        overall ones ``pearson`` and ``spearman``; the weighted scores ``pearsons_score`` and
        ``spearmans_score``).

    Returns
    -------
    DataFrame
        Index (model, subset), the subsets of :data:`SUBSETS` then ``"weighted score"``; columns
        ``n``, ``r² here``, ``r² paper`` (the paper's r squared), ``ρ here``, ``ρ paper`` and
        ``largest |difference|`` (the larger of the two absolute differences).
    """
    rows = []
    for name, per_subset in scores.items():
        row = paper_rows[name]
        for subset in SUBSETS:
            prefix = "" if subset == "all" else f"{subset}_"
            rows.append({"model": name, "subset": subset, "n": per_subset.loc[subset, "n"],
                         "r² here": per_subset.loc[subset, "pearson_r2"], "r² paper": row[f"{prefix}pearson"] ** 2,
                         "ρ here": per_subset.loc[subset, "spearman_rho"], "ρ paper": row[f"{prefix}spearman"]})
        rows.append({"model": name, "subset": "weighted score", "n": np.nan,
                     "r² here": dream_score(per_subset, "pearson_r2"), "r² paper": row["pearsons_score"],
                     "ρ here": dream_score(per_subset, "spearman_rho"), "ρ paper": row["spearmans_score"]})
    comparison = pd.DataFrame(rows).set_index(["model", "subset"])
    comparison["largest |difference|"] = np.maximum((comparison["r² here"] - comparison["r² paper"]).abs(),
                                                    (comparison["ρ here"] - comparison["ρ paper"]).abs())
    return comparison


def bootstrap_table(values: dict[str, tuple[np.ndarray, np.ndarray]], scores: dict[str, pd.DataFrame], *,
                    n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Percentile-bootstrap 95% intervals of r² and ρ for several models, beside their estimates.

    Parameters
    ----------
    values : dict of str to (y, yhat)
        Model name to measured and predicted values, each ``(n,)`` (see :func:`subset_values`).
    scores : dict of str to DataFrame
        Model name to its :func:`score_predictions` table; the estimate is its ``"all"`` row.
    n_boot, seed : int
        Passed to :func:`bootstrap_ci` (each interval uses the same ``seed``).

    Returns
    -------
    DataFrame
        Index (model, metric) with metric ``"r²"`` or ``"ρ"``; columns ``estimate``,
        ``95% low`` and ``95% high``.
    """
    rows = []
    for name, (y, yhat) in values.items():
        for metric, label in (("pearson_r2", "r²"), ("spearman_rho", "ρ")):
            low, high = bootstrap_ci(y, yhat, metric, n_boot=n_boot, seed=seed)
            rows.append({"model": name, "metric": label, "estimate": scores[name].loc["all", metric],
                         "95% low": low, "95% high": high})
    return pd.DataFrame(rows).set_index(["model", "metric"])


def seed_summary(grid: pd.DataFrame, models: list[str], columns: dict[str, str], *,
                 model_column: str = "Model") -> pd.DataFrame:
    """Mean and standard deviation (:func:`ensemble_summary`) of metrics over training seeds.

    Parameters
    ----------
    grid : DataFrame
        One row per trained model and seed (the paper's ``grid_res_all_models_pvt.csv``).
    models : list of str
        Values of ``model_column`` to summarise.
    columns : dict of str to str
        Metric column of ``grid`` to its label.
    model_column : str

    Returns
    -------
    DataFrame
        Index model (sorted), columns (``"mean"`` or ``"sd"``, metric label).
    """
    rows = []
    for model in models:
        sub = grid[grid[model_column] == model]
        for column, label in columns.items():
            mean, sd = ensemble_summary(sub[column])
            rows.append({"model": model, "metric": label, "mean": mean, "sd": sd, "seeds": len(sub)})
    return pd.DataFrame(rows).pivot(index="model", columns="metric", values=["mean", "sd"])


def pearson_and_spearman(x: np.ndarray | pd.Series, y: np.ndarray | pd.Series) -> tuple[float, float]:
    """Pearson r and Spearman ρ of two ``(n,)`` arrays, as :func:`scipy.stats.pearsonr` and
    :func:`scipy.stats.spearmanr` give them (NaN, with scipy's warning, when either is constant)."""
    return stats.pearsonr(x, y)[0], stats.spearmanr(x, y)[0]
