"""Training seeds: a metric's mean and spread over seeds, and the paper's seed-ensemble tables."""

from __future__ import annotations

import numpy as np
import pandas as pd


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

