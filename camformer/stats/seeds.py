"""Training seeds: a metric's mean and spread over seeds, the paper's seed-ensemble tables, its
per-subset seed results (Figure 4, S5–S6) and seed curves over training size (S8)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .verdicts import by_interval


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


#: The metric columns of the paper's seed table that :func:`seed_summary` shows by default.
SUMMARY_COLUMNS: dict[str, str] = {"all_pearson_r2": "r²", "spearman": "ρ", "pearsons_score": "Pearson score",
                                   "spearmans_score": "Spearman score"}


def seed_summary(grid: pd.DataFrame, models: list[str], columns: dict[str, str] | None = None, *,
                 model_column: str = "Model") -> pd.DataFrame:
    """Mean and standard deviation (:func:`ensemble_summary`) of metrics over training seeds.

    Parameters
    ----------
    grid : DataFrame
        One row per trained model and seed (the paper's ``grid_res_all_models_pvt.csv``).
    models : list of str
        Values of ``model_column`` to summarise.
    columns : dict of str to str, optional
        Metric column of ``grid`` to its label (default :data:`SUMMARY_COLUMNS`).
    model_column : str

    Returns
    -------
    DataFrame
        Index model (sorted), columns (``"mean"`` or ``"sd"``, metric label).
    """
    rows = []
    for model in models:
        sub = grid[grid[model_column] == model]
        for column, label in (columns or SUMMARY_COLUMNS).items():
            mean, sd = ensemble_summary(sub[column])
            rows.append({"model": model, "metric": label, "mean": mean, "sd": sd, "seeds": len(sub)})
    return pd.DataFrame(rows).pivot(index="model", columns="metric", values=["mean", "sd"])



def seed_rank(grid: pd.DataFrame, model: str, seed: int, column: str, *, model_column: str = "Model",
              seed_column: str = "Seed") -> tuple[int, int]:
    """Place of one seed among a model's seeds by ``column`` (1 = the highest; ties share the best
    place) and the number of seeds."""
    sub = grid[grid[model_column] == model]
    if seed not in set(sub[seed_column]):
        raise ValueError(f"model {model!r} has no seed {seed} (seeds {sorted(sub[seed_column])})")
    value = sub.loc[sub[seed_column] == seed, column].iloc[0]
    return int((sub[column] > value).sum()) + 1, len(sub)


def ensemble_gain_share(table: pd.DataFrame, k: int) -> float:
    """Share of the gain from one seed to all seeds that averaging ``k`` seeds already gives, in a
    seed-ensemble table (columns ``num_seeds, average_score``; means over the rows of each size):
    ``(mean(k) - mean(1)) / (mean(all) - mean(1))``."""
    means = table.groupby("num_seeds")["average_score"].mean()
    if k not in means.index:
        raise ValueError(f"no ensembles of {k} seeds (sizes {list(means.index)})")
    return float((means[k] - means.iloc[0]) / (means.iloc[-1] - means.iloc[0]))


#: The paper's groups of Figure 4 and S5–S6: the nine subsets and the weighted score.
SEED_GROUPS: tuple[str, ...] = ("all", "high", "low", "yeast", "random", "challenging", "SNVs",
                                "motif_perturbation", "motif_tiling", "score")


def per_subset_seeds(grid: pd.DataFrame, models: list[str], *, model_column: str = "Model",
                     squared: bool = True) -> pd.DataFrame:
    """The private-leaderboard metrics of each model's seeds in the layout of the leaderboard
    (:func:`camformer.stats.leaderboard.load_leaderboard`), as the paper's Figure 4 and S5–S6 plot them.

    Parameters
    ----------
    grid : DataFrame
        The paper's ``grid_res_all_models_pvt.csv``: one row per model and seed; columns
        ``{subset}_pearson`` and ``{subset}_spearman`` (``pearson`` and ``spearman`` for all
        sequences) hold Pearson r and Spearman ρ, ``pearsons_score`` and ``spearmans_score`` the
        weighted scores.
    models : list of str
        Values of ``model_column``, in the order to plot.
    squared : bool
        Square Pearson r (metric ``"r²"``, as the leaderboard and Figure 4) or keep it (``"r"``, as
        the paper's radar plot, Figure S7).

    Returns
    -------
    DataFrame
        Columns ``model``, ``seed``, ``metric`` (``"r²"`` or ``"r"``, and ``"ρ"``), ``group`` (one of
        :data:`SEED_GROUPS`) and ``value``: Pearson r squared (as the leaderboard's r² rows) or not,
        Spearman ρ, or the weighted score as published.
    """
    rows = []
    for model in models:
        sub = grid[grid[model_column] == model]
        if sub.empty:
            raise ValueError(f"no rows of model {model!r} in the seed table")
        for metric, kind in (("r²" if squared else "r", "pearson"), ("ρ", "spearman")):
            for group in SEED_GROUPS:
                column = {"all": kind, "score": f"{kind}s_score"}.get(group, f"{group}_{kind}")
                values = sub[column].to_numpy(np.float64)
                values = values ** 2 if metric == "r²" and group != "score" else values
                rows += [{"model": model, "seed": s, "metric": metric, "group": group, "value": v}
                         for s, v in zip(sub["Seed"], values)]
    return pd.DataFrame(rows)


def seed_means(values: pd.DataFrame) -> pd.DataFrame:
    """Mean and s.d. (``ddof=1``) over seeds of each model's metric in each group, as the boxes of
    Figure 4 and S5–S6 and the points of S7 show them.

    Parameters
    ----------
    values : DataFrame
        :func:`per_subset_seeds` rows (columns ``model``, ``seed``, ``metric``, ``group``, ``value``).

    Returns
    -------
    DataFrame
        Index ``model, metric, group`` (in order of appearance), columns ``mean``, ``sd``, ``seeds``.
    """
    return values.groupby(["model", "metric", "group"], sort=False)["value"].agg(
        mean="mean", sd=lambda v: v.std(ddof=1), seeds="count")


#: The paper's model names in its seed table, and their names in record keys.
RECORD_NAMES: dict[str, str] = {"Leg": "legnet", "Orig": "original", "Mini": "mini", "Small": "small",
                                "Large": "large"}


def seed_mean_facts(values: pd.DataFrame, groups: tuple[str, ...] = ("all", "score")) -> dict[str, float]:
    """Records (``camformer.records.report.record``) of the seed means of :func:`seed_means`: a subset's as
    ``{model}_{r2|r|rho}_{group}_seeds_mean``, the weighted scores as
    ``{model}_{pearson|spearman}_score_seeds_mean`` (``model`` named by :data:`RECORD_NAMES`): for
    example ``original_rho_all_seeds_mean`` (Figure 4's ρ panel of all sequences),
    ``mini_r2_all_seeds_mean`` and ``original_spearman_score_seeds_mean``. ``groups``: the groups to
    record (default all sequences and the weighted score).
    """
    facts = {}
    for (model, metric, group), row in seed_means(values).iterrows():
        if group not in groups:
            continue
        kind = {"r²": "r2", "r": "r", "ρ": "rho"}[metric]
        name = RECORD_NAMES.get(model, model.lower())
        key = (f"{name}_{'spearman' if kind == 'rho' else 'pearson'}_score" if group == "score"
               else f"{name}_{kind}_{group}")
        facts[f"{key}_seeds_mean"] = float(row["mean"])
    return facts


def curves_separated(a: pd.DataFrame, b: pd.DataFrame, x: str, y: str, *, names: tuple[str, str] = ("A", "B"),
                     every: str = "at every size", some: str = "at some size"):
    """Whether model ``a`` scores above model ``b`` at every value of ``x``, seed against seed.

    ``a`` and ``b`` hold one row per ``x`` and seed (the paper's ``Fig_S8_*_trn_seeds.csv``). At each
    ``x`` the gap's range is from ``a``'s lowest seed minus ``b``'s highest to ``a``'s highest minus
    ``b``'s lowest. The verdict's interval runs from the smallest low end to the largest high end
    over all ``x``: above zero means every seed of ``a`` beats every seed of ``b`` at every size.
    ``every`` and ``some`` name the values of ``x`` in the words (``"in every panel"``, ...).

    Returns
    -------
    camformer.stats.verdicts.Verdict
        ``estimate``: the smallest gap of the means over ``x``; words naming ``names``.
    """
    ga, gb = (t.groupby(x)[y].agg(["min", "mean", "max"]) for t in (a, b))
    if not ga.index.equals(gb.index):
        raise ValueError(f"the two tables have different values of {x!r}")
    first, second = names
    return by_interval(float((ga["mean"] - gb["mean"]).min()), float((ga["min"] - gb["max"]).min()),
                       float((ga["max"] - gb["min"]).max()),
                       above=f"{first} stays ahead of {second} {every}, every seed above every seed",
                       below=f"{second} stays ahead of {first} {every}, every seed above every seed",
                       undecided=f"{first} and {second} overlap {some}")


def model_seed_facts(grid: pd.DataFrame, model: str, prefix: str, *, seed: int = 42) -> dict[str, float | int]:
    """A model's r² and ρ over its training seeds in the paper's ``grid_res_all_models_pvt.csv``.

    Returns
    -------
    dict
        ``{prefix}_r2_seeds_mean``, ``_sd``, ``{prefix}_rho_seeds_mean``, ``_sd``
        (:func:`ensemble_summary` of the ``all_pearson_r2`` and ``spearman`` columns),
        ``{prefix}_seed{seed}_rank_r2`` (:func:`seed_rank`) and ``{prefix}_n_seeds``.
    """
    sub = grid[grid["Model"] == model]
    (r2_mean, r2_sd), (rho_mean, rho_sd) = (ensemble_summary(sub[c]) for c in ("all_pearson_r2", "spearman"))
    rank, n = seed_rank(grid, model, seed, "all_pearson_r2")
    return {f"{prefix}_r2_seeds_mean": r2_mean, f"{prefix}_r2_seeds_sd": r2_sd,
            f"{prefix}_rho_seeds_mean": rho_mean, f"{prefix}_rho_seeds_sd": rho_sd,
            f"{prefix}_seed{seed}_rank_r2": rank, f"{prefix}_n_seeds": n}


def panels_separated(values: pd.DataFrame, a: str, b: str, *, names: tuple[str, str] | None = None
                     ) -> tuple[pd.DataFrame, str]:
    """In how many panels of Figure 4 every seed of model ``a`` lies above every seed of ``b``.

    Parameters
    ----------
    values : DataFrame
        :func:`per_subset_seeds` rows (columns ``model``, ``metric``, ``group``, ``value``).
    a, b : str
        The two models (values of ``model``).
    names : (str, str), optional
        Their names in the sentence (default ``a`` and ``b``).

    Returns
    -------
    (DataFrame, str)
        One row per (metric, group) panel, in order of appearance: ``gap`` (difference of the seed
        means), ``low`` and ``high`` (``a``'s worst seed minus ``b``'s best, and best minus worst),
        ``ahead`` (``a``, ``b`` or ``"neither"`` where the seeds overlap); and a sentence with the counts.
    """
    first, second = names or (a, b)
    rows = []
    for (metric, group), sub in values.groupby(["metric", "group"], sort=False):
        v = curves_separated(sub[sub["model"] == a], sub[sub["model"] == b], "metric", "value")
        ahead = (first if v.ci_low > 0 else second) if v.decided else "neither"
        rows.append({"metric": metric, "group": group, "gap": v.estimate, "low": v.ci_low, "high": v.ci_high,
                     "ahead": ahead})
    table = pd.DataFrame(rows).set_index(["metric", "group"])
    counts = table["ahead"].value_counts()

    def listed(who: str) -> str:
        return ", ".join(f"{g} ({m})" for m, g in table.index[table["ahead"] == who])

    text = f"Every seed of {first} lies above every seed of {second} in {counts.get(first, 0)} of {len(table)} panels"
    if counts.get(second, 0):
        text += f"; every seed of {second} lies above in {listed(second)}"
    if counts.get("neither", 0):
        text += f"; their seeds overlap in {listed('neither')}"
    return table, text + "."


def curve_summary(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean, standard deviation (``ddof=1``) and count of column ``y`` at each value of ``x``
    (one row per ``x``, sorted; columns ``x``, ``mean``, ``std``, ``count``)."""
    return table.groupby(x)[y].agg(["mean", "std", "count"]).reset_index()


def curve_ends(tables: dict[tuple[str, str], pd.DataFrame], x: str, y: str) -> pd.DataFrame:
    """Each curve's mean ± s.d. over seeds at its smallest and largest ``x``, and its largest s.d.

    ``tables`` maps ``(panel, model)`` to one row per ``x`` and seed. Returns one row per curve
    (index ``panel, model``), columns ``smallest``, ``at smallest`` (``"0.944 ± 0.003"``),
    ``largest``, ``at largest`` and ``largest s.d.``.
    """
    rows = {}
    for key, table in tables.items():
        s = curve_summary(table, x, y)
        first, last = s.iloc[0], s.iloc[-1]
        rows[key] = {"smallest": first[x], "at smallest": f"{first['mean']:.3f} ± {first['std']:.3f}",
                     "largest": last[x], "at largest": f"{last['mean']:.3f} ± {last['std']:.3f}",
                     "largest s.d.": s["std"].max()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.names = ["panel", "model"]
    return out
