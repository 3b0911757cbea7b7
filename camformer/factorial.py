"""Factorial designs such as the paper's 270-model grid: which design choice matters most.

Main-effect variance shares of an additive model, each factor's effect as the range of its levels'
means, and whether an effect is larger than the spread between training seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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

