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

from camformer.data.dream import DataFormatError, load_test_pairs, load_test_table, subset_membership

#: The nine scored subsets, in the leaderboard's order.
SUBSETS: tuple[str, ...] = ("all", "high", "low", "yeast", "random", "challenging",
                            "SNVs", "motif_perturbation", "motif_tiling")
#: Subsets scored on (reference, variant) differences.
PAIR_SUBSETS: tuple[str, ...] = ("SNVs", "motif_perturbation", "motif_tiling")
#: Weights of the challenge's score; the score divides by their sum, 4.65.
SUBSET_WEIGHTS: dict[str, float] = {"all": 1.0, "high": 0.3, "low": 0.3, "yeast": 0.3, "random": 0.3,
                                    "challenging": 0.5, "SNVs": 1.25, "motif_perturbation": 0.3,
                                    "motif_tiling": 0.4}
#: Metric names accepted by :func:`dream_score` and :func:`camformer.stats.bootstrap.bootstrap_samples`.
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


def _subset_items(pred: pd.Series, truth: pd.Series, table: pd.DataFrame, pairs: pd.DataFrame,
                  subset: str, private: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, yhat, ids)`` of one subset: the scored sequences' ids, or for a pair subset its refs' ids."""
    if subset in PAIR_SUBSETS:
        p = pairs[pairs["subset"] == subset]
        ok = p["ref_id"].isin(pred.index) & p["alt_id"].isin(pred.index)
        if private:
            ok &= p["public"] != 1
        ref, alt = p.loc[ok, "ref_id"].to_numpy(), p.loc[ok, "alt_id"].to_numpy()
        return (truth.loc[alt].to_numpy() - truth.loc[ref].to_numpy(),
                pred.loc[alt].to_numpy() - pred.loc[ref].to_numpy(), ref)
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    mask = table["id"].isin(pred.index).to_numpy()
    if private:
        mask = mask & (table["public"].to_numpy() != 1)
    if subset != "all":
        mask = mask & table["subsets"].fillna("").str.split(";").map(lambda names: subset in names).to_numpy(bool)
    ids = table["id"].to_numpy()[mask]
    return truth.loc[ids].to_numpy(), pred.loc[ids].to_numpy(), ids


def _subset_values(pred: pd.Series, truth: pd.Series, table: pd.DataFrame, pairs: pd.DataFrame,
                   subset: str, private: bool) -> tuple[np.ndarray, np.ndarray]:
    return _subset_items(pred, truth, table, pairs, subset, private)[:2]


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
    return _items(pred, subset, table, pairs, private)[:2]


def _items(pred, subset: str, table: pd.DataFrame | None, pairs: pd.DataFrame | None, private: bool):
    """:func:`_subset_items` with the bundled test set as the default table and pairs."""
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    truth = _truth(table)
    return _subset_items(_check_predictions(pred, truth), truth, table, pairs, subset, private)


def subset_ids(
    pred: pd.Series | pd.DataFrame,
    subset: str,
    table: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    *,
    private: bool = True,
) -> np.ndarray:
    """Test-set ids of the items :func:`subset_values` returns, in the same order, ``(n,)``.

    For a single subset, the id of each scored sequence; for a pair subset, the id of each pair's
    reference sequence (a pair belongs to its reference's variant family). Arguments as in
    :func:`score_predictions`.
    """
    return _items(pred, subset, table, pairs, private)[2]


def all_sequences(pred: pd.Series | pd.DataFrame, table: pd.DataFrame | None = None,
                  pairs: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every predicted test sequence for a figure: measured ``y``, predicted ``yhat``, its
    :func:`primary_subset` and whether it is in the private set, each ``(n,)``."""
    table = load_test_table() if table is None else table
    y, yhat, ids = _items(pred, "all", table, pairs, False)
    private = table.set_index("id").loc[ids, "public"].to_numpy() != 1
    return y, yhat, primary_subset(table).loc[ids].to_numpy(), private


def subset_sizes(table: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """How many items each scored subset has: in the whole test set and as the final (private)
    leaderboard scores it (the items :func:`score_predictions` scores, for a prediction of every
    sequence). One row per :data:`SUBSETS` entry; columns ``subset``, ``kind`` ("sequences" or
    "variant pairs"), ``in the test set`` and ``scored (private)``."""
    table = load_test_table() if table is None else table
    pairs = load_test_pairs() if pairs is None else pairs
    truth = _truth(table)
    return pd.DataFrame([
        {"subset": name, "kind": "variant pairs" if name in PAIR_SUBSETS else "sequences",
         **{column: len(_subset_items(truth, truth, table, pairs, name, private)[2])
            for column, private in (("in the test set", False), ("scored (private)", True))}}
        for name in SUBSETS])


#: Order in which :func:`primary_subset` picks one subset for a sequence listed in several.
SUBSET_PRIORITY: tuple[str, ...] = ("high", "low", "yeast", "challenging", "random",
                                    "motif_perturbation", "motif_tiling", "SNVs")


def primary_subset(table: pd.DataFrame, *, none: str = "no subset") -> pd.Series:
    """One subset per test sequence, for colouring a figure: the first of :data:`SUBSET_PRIORITY`
    that its ``subsets`` column lists, or ``none`` where it lists none. Returns a Series indexed by id."""
    member = subset_membership(table.assign(subsets=table["subsets"].fillna("")))
    labels = pd.Series(none, index=member.index, name="subset", dtype=object)
    for name in reversed([s for s in SUBSET_PRIORITY if s in member.columns]):
        labels[member[name].to_numpy()] = name  # earlier subsets of the priority overwrite later ones
    return labels


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
        The test table (:func:`camformer.data.dream.load_test_table`; columns ``id, expression,
        subsets, public``). Defaults to the bundled DREAM 2022 test set.
    pairs
        Variant pairs (:func:`camformer.data.dream.load_test_pairs`; ``subset, ref_id, alt_id, public``).
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
    camformer.data.dream.DataFormatError
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


def score_facts(per_subset: pd.DataFrame, prefix: str) -> dict[str, float]:
    """A model's headline numbers from a :func:`score_predictions` table, keyed ``{prefix}_r2``,
    ``{prefix}_rho`` (all sequences) and ``{prefix}_pearson_score``, ``{prefix}_spearman_score``
    (:func:`dream_score`)."""
    return {f"{prefix}_r2": float(per_subset.loc["all", "pearson_r2"]),
            f"{prefix}_rho": float(per_subset.loc["all", "spearman_rho"]),
            f"{prefix}_pearson_score": dream_score(per_subset, "pearson_r2"),
            f"{prefix}_spearman_score": dream_score(per_subset, "spearman_rho")}


def all_sequences_facts(preds: dict[str, pd.Series | pd.DataFrame], table: pd.DataFrame | None = None,
                        pairs: pd.DataFrame | None = None) -> dict[str, float]:
    """The numbers Figure 3a and S3a print: Pearson r and Spearman ρ of every predicted test
    sequence (public ones included, as :func:`all_sequences`), keyed ``{name}_r_all_sequences`` and
    ``{name}_rho_all_sequences`` with ``name`` the lower-cased key of ``preds``."""
    facts = {}
    for name, pred in preds.items():
        y, yhat, _ = _items(pred, "all", table, pairs, False)
        facts |= {f"{name.lower()}_r_all_sequences": pearson_r(y, yhat),
                  f"{name.lower()}_rho_all_sequences": spearman_rho(y, yhat)}
    return facts


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




def agreement_text(comparison: pd.DataFrame, decimals: int = 4) -> str:
    """Which rows of a :func:`compare_with_paper` table differ from the paper beyond ``decimals``
    printed decimals (an absolute difference above half a unit in the last place), as a sentence."""
    tolerance = 0.5 * 10.0 ** -decimals
    column = comparison["largest |difference|"]
    beyond = column[column > tolerance].sort_values(ascending=False)
    if beyond.empty:
        return f"Every number agrees with the paper's to {decimals} decimals (largest difference {column.max():.1e})."
    rows = ", ".join(f"{' '.join(map(str, key))} ({value:.1e})" for key, value in beyond.items())
    return (f"Every number agrees with the paper's to {decimals} decimals except {len(beyond)}, "
            f"largest first: {rows}.")


def range_restriction(panels: dict[str, tuple[np.ndarray, np.ndarray]], k: int = 2) -> tuple[pd.DataFrame, str]:
    """Whether the single subsets with the lowest r² are those with the narrowest measured range.

    A correlation falls when the measured values span a narrow range, whatever the model. Given
    :func:`subset_values` per subset (pair subsets are left out), returns a table (index subset;
    columns ``measured s.d.``, ``r²``) and a sentence comparing the ``k`` lowest r² with the ``k``
    smallest standard deviations.
    """
    rows = {name: {"measured s.d.": float(np.std(y, ddof=1)), "r²": pearson_r(y, yhat) ** 2}
            for name, (y, yhat) in panels.items() if name not in PAIR_SUBSETS}
    table = pd.DataFrame.from_dict(rows, orient="index")
    lowest = list(table["r²"].nsmallest(k).index)
    narrowest = list(table["measured s.d."].nsmallest(k).index)

    def names(items: list[str]) -> str:
        return " and ".join(", ".join(items).rsplit(", ", 1))

    spread = ", ".join(f"{s} {table.loc[s, 'measured s.d.']:.2f}" for s in lowest)
    if set(lowest) == set(narrowest):
        text = (f"The single subsets with the lowest r², {names(lowest)}, are also those whose measured "
                f"expression spans the narrowest range (s.d. {spread}), which lowers a correlation "
                "whatever the model.")
    else:
        text = (f"The single subsets with the lowest r² are {names(lowest)} (measured s.d. {spread}); "
                f"the narrowest measured ranges are those of {names(narrowest)}, so range alone does not "
                "explain the low correlations.")
    return table, text
