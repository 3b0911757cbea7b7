"""Factorial designs such as the paper's 270-model grid: which design choice matters most.

For one run per combination (the published grid): main-effect variance shares of an additive
model with wild-bootstrap intervals (:func:`bootstrap_shares`, :func:`largest_factor`), and
paired Wilcoxon tests between the levels of each factor on runs matched by every other factor,
as the paper's Figure S4 tests them (:func:`paired_level_tests`). For a two-level slice trained
with several seeds (the book's retrained slice): each factor's main effect per seed and the
paired difference of two effects over seeds (:func:`seed_paired_effects`, :func:`larger_effect`).
Verdicts (:class:`camformer.stats.verdicts.Verdict`) are chosen from these intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .verdicts import Verdict, by_interval, holm


def _design(table: pd.DataFrame, factors: list[str]) -> np.ndarray:
    """Intercept and treatment-coded dummies of ``factors``: ``(n_runs, 1 + sum(levels - 1))``."""
    columns = [np.ones((len(table), 1))]
    columns += [pd.get_dummies(table[f].astype(str), drop_first=True).to_numpy(np.float64)
                for f in factors]
    return np.hstack(columns)


def _residuals(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares residuals of each column of ``y`` ``(n, B)`` on the design ``x``."""
    return y - x @ np.linalg.lstsq(x, y, rcond=None)[0]


def _shares(table: pd.DataFrame, factors: list[str], y: np.ndarray) -> dict[str, np.ndarray]:
    """Type II main-effect shares of each column of ``y`` ``(n, B)``: factor -> ``(B,)``."""
    total = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    full = (_residuals(_design(table, factors), y) ** 2).sum(axis=0)
    shares = {}
    for f in factors:
        rest = _design(table, [g for g in factors if g != f])
        shares[f] = ((_residuals(rest, y) ** 2).sum(axis=0) - full) / total
    shares["residual"] = full / total
    return shares


def _response(table: pd.DataFrame, factors: list[str], response: str) -> np.ndarray:
    missing = [c for c in [*factors, response] if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    y = table[response].to_numpy(np.float64)
    if not np.isfinite(y).all():
        raise ValueError(f"{response} has missing or non-finite values")
    return y


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
    y = _response(table, factors, response)
    shares = _shares(table, factors, y[:, None])
    return pd.Series({k: float(v[0]) for k, v in shares.items()},
                     name=f"share of variance of {response}")


def wild_responses(table: pd.DataFrame, factors: list[str], response: str, *, n_boot: int = 2000,
                   seed: int = 0) -> np.ndarray:
    """Responses redrawn by a wild bootstrap of the additive model: ``(n_runs, n_boot)``.

    Run ``i`` keeps its fitted value and its own residual, rescaled to ``e_i / sqrt(1 - h_i)``
    (``h_i`` its leverage, so that a residual's variance is not shrunk by the fit) and multiplied
    by a random sign (Rademacher weights, seeded). Each run's noise is thus drawn with its own
    spread: in the paper's grid the Lion runs' residuals spread about six times as widely as the
    AdamW runs', and a residual bootstrap that pools them over runs would give an AdamW run
    Lion's noise.
    """
    y = _response(table, factors, response)
    x = _design(table, factors)
    resid = _residuals(x, y[:, None])[:, 0]
    leverage = np.einsum("ij,ji->i", x, np.linalg.pinv(x))
    scaled = resid / np.sqrt(np.clip(1 - leverage, 1e-12, None))
    signs = np.random.default_rng(seed).integers(0, 2, size=(len(y), n_boot)) * 2.0 - 1.0
    return (y - resid)[:, None] + scaled[:, None] * signs


def residual_spread(table: pd.DataFrame, factors: list[str], response: str, by: str) -> pd.Series:
    """Root mean square of the additive model's residuals within each level of ``by`` (e.g. the
    optimiser): how unequal the runs' noise is. Indexed by the levels of ``by``."""
    y = _response(table, factors, response)
    resid = _residuals(_design(table, factors), y[:, None])[:, 0]
    return pd.Series(resid ** 2, index=table.index).groupby(table[by].to_numpy()).mean() ** 0.5


def bootstrap_shares(table: pd.DataFrame, factors: list[str], response: str, *,
                     n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`additive_variance_shares` under redrawn noise: a wild bootstrap (:func:`wild_responses`).

    It asks: if each run's noise had come out differently, with the spread that run's own
    residual shows, would the shares, and their order, be the same?

    A share is a sum of squares: noise adds to it even for a factor without effect (about its
    degrees of freedom times the noise variance, over the total), so a small share is biased
    upward; the resamples, which add noise to fitted values that already hold it, sit higher
    still, by about the same amount. :func:`largest_factor` subtracts that bias.

    Returns
    -------
    pandas.DataFrame
        ``(n_boot, len(factors) + 1)``: one resample per row, a column per factor and
        ``"residual"``.
    """
    draws = wild_responses(table, factors, response, n_boot=n_boot, seed=seed)
    return pd.DataFrame(_shares(table, factors, draws))


@dataclass(frozen=True)
class FactorRanking:
    """Which factor explains the most variance, with intervals (:func:`largest_factor`).

    Attributes
    ----------
    shares : pandas.DataFrame
        Index: the factors, largest share first, then ``"residual"``; columns ``share`` (the
        estimate), ``bias`` (the bootstrap's mean minus the estimate), ``corrected`` (``share -
        bias``) and ``ci_low, ci_high`` (the percentile interval moved by ``-2 bias``, so that
        it is centred as ``corrected`` is).
    top, runner_up : str
        The factors with the largest and second-largest share.
    verdict : camformer.stats.verdicts.Verdict
        From the top factor's lead over the runner-up, ``share[top] - share[runner_up]``: its
        estimate, and its interval from the same difference in each resample (bias-corrected
        as the shares are).
    """

    shares: pd.DataFrame
    top: str
    runner_up: str
    verdict: Verdict

    @property
    def corrected(self) -> pd.DataFrame:
        """The shares for a figure or table: columns ``share`` (bias-corrected; below 0 where the
        estimate is smaller than its bias), ``ci_low``, ``ci_high``."""
        return self.shares[["corrected", "ci_low", "ci_high"]].rename(columns={"corrected": "share"})

    @property
    def leader(self) -> str:
        """The top factor where its lead is decided, else ``"undecided"``."""
        return self.top if self.verdict.decided else "undecided"

    def describe(self, factor: str) -> str:
        """A factor's bias-corrected share with its interval, for a sentence: ``"67% [62%, 72%]"``."""
        row = self.shares.loc[factor]
        return f"{row['corrected']:.0%} [{row['ci_low']:.0%}, {row['ci_high']:.0%}]"


def largest_factor(table: pd.DataFrame, factors: list[str], response: str, *,
                   n_boot: int = 2000, seed: int = 0, ci: float = 0.95) -> FactorRanking:
    """Does one factor explain more of the variance of ``response`` than the runner-up?

    The shares are :func:`additive_variance_shares`, their intervals percentile intervals of
    :func:`bootstrap_shares` (a wild bootstrap), corrected for the bootstrap's estimate of their
    upward bias. The verdict is on one contrast, the top factor's share minus the runner-up's
    (both named by their estimates): decided when its interval lies above 0.

    Examples
    --------
    A grid where factor A moves the response by 1 and B by 0.1: A matters most.

    >>> import itertools
    >>> runs = pd.DataFrame(itertools.product("xy", "pqr", range(4)), columns=["A", "B", "rep"])
    >>> runs["y"] = (runs["A"] == "y") + 0.1 * (runs["B"] == "q") + 0.01 * runs["rep"]
    >>> largest_factor(runs, ["A", "B"], "y", n_boot=200).verdict.words
    'A matters most'
    """
    if len(factors) < 2:
        raise ValueError("need at least two factors to rank")
    point = additive_variance_shares(table, factors, response)
    samples = bootstrap_shares(table, factors, response, n_boot=n_boot, seed=seed)
    tail = (1 - ci) / 2 * 100
    bias = samples.mean() - point
    low, high = np.percentile(samples.to_numpy(), [tail, 100 - tail], axis=0)
    shares = pd.DataFrame({"share": point, "bias": bias, "corrected": point - bias,
                           "ci_low": low - 2 * bias, "ci_high": high - 2 * bias}, index=point.index)
    order = list(point[factors].sort_values(ascending=False).index)
    shares = shares.loc[[*order, "residual"]]
    top, runner = order[0], order[1]
    lead = samples[top] - samples[runner]
    estimate = point[top] - point[runner]
    lead_bias = lead.mean() - estimate
    lead_low, lead_high = np.percentile(lead, [tail, 100 - tail]) - 2 * lead_bias
    verdict = by_interval(estimate - lead_bias, lead_low, lead_high,
                          above=f"{top} matters most",
                          below=f"{runner} explains more than {top}",
                          undecided=f"{top} leads, but not clearly ahead of {runner}")
    return FactorRanking(shares, top, runner, verdict)


def wilcoxon_signed_rank_p(differences: np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test of paired ``differences`` ``(n,)``,
    computed as R's ``wilcox.test(paired = TRUE)`` (the paper's Figure S4 script): zero
    differences dropped; exact below 50 pairs without ties, else the normal approximation with
    tie correction and continuity correction. NaN when every difference is 0."""
    d = np.asarray(differences, np.float64)
    d = d[d != 0]
    if len(d) == 0:
        return float("nan")
    exact = len(d) < 50 and len(np.unique(np.abs(d))) == len(d) and len(d) == len(differences)
    result = stats.wilcoxon(d, zero_method="wilcox", correction=not exact,
                            method="exact" if exact else "approx")
    return float(result.pvalue)


def hodges_lehmann(differences: np.ndarray) -> float:
    """The Hodges-Lehmann estimate of the centre of paired ``differences`` ``(n,)``: the median
    of all Walsh averages ``(d_i + d_j) / 2``, ``i <= j``; NaN for no differences."""
    d = np.asarray(differences, np.float64)
    if len(d) == 0:
        return float("nan")
    i, j = np.triu_indices(len(d))
    return float(np.median((d[i] + d[j]) / 2))


def paired_level_tests(table: pd.DataFrame, factors: list[str], response: str, *,
                       tested: list[str] | None = None) -> pd.DataFrame:
    """Every two levels of each factor, compared on runs that share all the other factors.

    As the paper's Figure S4 tests them: a paired Wilcoxon signed-rank test
    (:func:`wilcoxon_signed_rank_p`) over the matched runs; the p-values are then Holm-adjusted
    over every row (:func:`camformer.stats.verdicts.holm`), since they are read together. Each factor's
    levels are ordered by their median response (lowest first, the paper's order). ``tested``
    limits the tests to some factors (default: all); runs are still matched on every factor.

    Returns
    -------
    pandas.DataFrame
        One row per pair of levels: ``factor, level_a, level_b`` (``level_a`` has the lower
        median), ``n_pairs, median_a, median_b``, ``pseudo_median`` (the Hodges-Lehmann
        estimate of b - a, which goes with the signed-rank test), ``b_wins`` (pairs where b is
        higher), ``p, p_holm``.
    """
    _response(table.dropna(subset=[response]), factors, response)
    if table.duplicated(subset=factors).any():
        raise ValueError(f"more than one run for some combination of {factors}: "
                         "paired tests need one run per combination")
    rows = []
    for factor in tested or factors:
        others = [g for g in factors if g != factor]
        wide = table.pivot(index=others, columns=factor, values=response)
        levels = list(table.groupby(factor)[response].median().sort_values().index)
        for a, b in combinations(levels, 2):
            pair = wide[[a, b]].dropna()
            diff = (pair[b] - pair[a]).to_numpy()
            rows.append({"factor": factor, "level_a": a, "level_b": b, "n_pairs": len(pair),
                         "median_a": float(table.loc[table[factor] == a, response].median()),
                         "median_b": float(table.loc[table[factor] == b, response].median()),
                         "pseudo_median": hodges_lehmann(diff),
                         "b_wins": int((diff > 0).sum()), "p": wilcoxon_signed_rank_p(diff)})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p"].fillna(1.0).to_numpy())
    return out


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


def paired_verdict(test: pd.Series | dict, alpha: float = 0.05) -> Verdict:
    """The words of one row of :func:`paired_level_tests`: which level is higher, or that the
    matched runs do not tell them apart (Holm-adjusted p at least ``alpha``). The estimate is the
    Hodges-Lehmann pseudo-median of ``level_b - level_a``; the verdict has no interval."""
    a, b, diff, p = test["level_a"], test["level_b"], test["pseudo_median"], test["p_holm"]
    decided = bool(p < alpha and diff != 0)
    if decided:
        words = f"{b} above {a}" if diff > 0 else f"{a} above {b}"
    else:
        words = f"no clear difference between {a} and {b}"
    return Verdict(words, float(diff), float("nan"), float("nan"), decided)


def paper_agreement(found: str, decided: bool, paper: str) -> Verdict:
    """Whether a result agrees with the paper's: ``found`` (a level or factor the numbers
    pick) against ``paper`` (what the paper states), counted only when ``decided``.

    >>> paper_agreement("AdamW", True, "AdamW").words
    'agrees with the paper'
    >>> paper_agreement("AdamW", False, "AdamW").words
    'is too uncertain to agree or disagree with the paper'
    """
    nan = float("nan")
    if not decided:
        return Verdict("is too uncertain to agree or disagree with the paper", nan, nan, nan, False)
    if found == paper:
        return Verdict("agrees with the paper", nan, nan, nan, True)
    return Verdict("disagrees with the paper", nan, nan, nan, True)


def verdict_text(verdict: Verdict, label: str) -> str:
    """A verdict with the number it rests on, for a sentence:
    ``"AdamW above Lion (AdamW − Lion +0.300, 95% interval +0.100 to +0.500)"``."""
    if np.isfinite(verdict.ci_low):
        return (f"{verdict.words} ({label} {verdict.estimate:+.3f}, 95% interval "
                f"{verdict.ci_low:+.3f} to {verdict.ci_high:+.3f})")
    return f"{verdict.words} ({label} {verdict.estimate:+.3f}, no interval)"


def _t_verdict(values: np.ndarray, ci: float, *, above: str, below: str, undecided: str) -> Verdict:
    """:func:`camformer.stats.verdicts.by_interval` on the mean of ``values`` ``(n,)`` and its Student-t
    interval (n - 1 degrees of freedom); undecided, without an interval, below two values."""
    values = np.asarray(values, np.float64)
    nan = float("nan")
    if len(values) < 2:
        mean = float(values.mean()) if len(values) else nan
        return Verdict(f"{undecided} (fewer than two complete seeds)", mean, nan, nan, False)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + ci / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return by_interval(mean, mean - half, mean + half, above=above, below=below, undecided=undecided)


@dataclass(frozen=True)
class SeedPairedEffects:
    """Main effects of two-level factors, measured within seeds (:func:`seed_paired_effects`).

    Attributes
    ----------
    per_seed : pandas.DataFrame
        Index: the seeds kept; a column per factor: the mean response at the factor's first
        level (names sorted) minus at its second, over that seed's runs.
    levels : dict
        Factor -> its two levels ``(first, second)``.
    effects : pandas.DataFrame
        Index: the factors; columns ``best_level, worst_level, effect`` (mean over seeds of best
        minus worst), ``ci_low, ci_high`` (Student-t over seeds), ``n_seeds``, ``words``,
        ``decided``.
    verdicts : dict
        Factor -> :class:`camformer.stats.verdicts.Verdict` on the sign of its effect.
    seeds_left_out : int
        Seeds without every cell or with a non-finite response (e.g. a constant prediction).
    """

    per_seed: pd.DataFrame
    levels: dict
    effects: pd.DataFrame
    verdicts: dict
    seeds_left_out: int


def seed_paired_effects(table: pd.DataFrame, factors: list[str], response: str, *,
                        seed: str = "seed", ci: float = 0.95) -> SeedPairedEffects:
    """Main effects of two-level factors in a slice trained once per cell with several seeds.

    A seed fixes the initial weights and the order of the data for every recipe, so the runs
    of one seed form a block: within it, a factor's main effect is the mean response at one
    level minus the mean at the other, averaged over the other factors' levels (a balanced
    2 x ... x 2 block). Over seeds these effects are paired differences, and their mean gets a
    Student-t interval. A factor's verdict names the better level when the interval excludes 0.

    With fewer than two complete seeds the effects have no interval and the verdicts are
    undecided.

    Raises
    ------
    ValueError
        For a missing column or a factor without exactly two levels.
    """
    missing = [c for c in [*factors, response, seed] if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    levels = {f: tuple(sorted(table[f].unique())) for f in factors}
    wrong = {f: v for f, v in levels.items() if len(v) != 2}
    if wrong:
        raise ValueError(f"each factor needs exactly two levels; got {wrong}")
    cells = int(np.prod([2] * len(factors)))
    finite = np.isfinite(table[response].to_numpy(np.float64))
    complete = table.groupby(seed).apply(
        lambda runs: len(runs) == cells and not runs[list(factors)].duplicated().any(),
        include_groups=False)
    bad = set(table.loc[~finite, seed]) | set(complete.index[~complete])
    kept = table[~table[seed].isin(bad)]
    per_seed = pd.DataFrame({
        f: kept[kept[f] == levels[f][0]].groupby(seed)[response].mean()
        - kept[kept[f] == levels[f][1]].groupby(seed)[response].mean() for f in factors})
    rows, verdicts = {}, {}
    for f in factors:
        first, second = levels[f]
        verdict = _t_verdict(per_seed[f].to_numpy(), ci, **_level_words(first, second))
        mean = verdict.estimate
        best, worst, sign = (first, second, 1) if not mean < 0 else (second, first, -1)
        lo, hi = sorted((sign * verdict.ci_low, sign * verdict.ci_high))
        rows[f] = {"best_level": best, "worst_level": worst, "effect": abs(mean), "ci_low": lo,
                   "ci_high": hi, "n_seeds": len(per_seed), "words": verdict.words,
                   "decided": verdict.decided}
        verdicts[f] = verdict
    return SeedPairedEffects(per_seed, levels, pd.DataFrame(rows).T.infer_objects(), verdicts,
                             len(bad))


def larger_effect(effects: SeedPairedEffects, first: str, second: str,
                  ci: float = 0.95) -> tuple[Verdict, str]:
    """Does factor ``first`` move the response more than ``second``? A paired comparison over seeds.

    Each seed's effects are oriented by the sign of their mean over seeds (so that both point
    from worse level to better); the per-seed difference of the two oriented effects then has
    mean ``|effect first| - |effect second|`` and a Student-t interval. Decided when the
    interval excludes 0.

    Returns
    -------
    (verdict, leader)
        The verdict, and the factor that matters more (``"undecided"`` unless decided).
    """
    per_seed = effects.per_seed
    for f in (first, second):
        if f not in per_seed.columns:
            raise ValueError(f"no factor {f!r}; have {list(per_seed.columns)}")
    oriented = per_seed * np.where(per_seed.mean() >= 0, 1.0, -1.0)
    verdict = _t_verdict((oriented[first] - oriented[second]).to_numpy(), ci, **_larger_words(first, second))
    leader = (first if verdict.estimate > 0 else second) if verdict.decided else "undecided"
    return verdict, leader


def _level_words(first: str, second: str) -> dict[str, str]:
    return dict(above=f"{first} above {second}", below=f"{second} above {first}",
                undecided=f"no clear difference between {first} and {second}")


def _larger_words(first: str, second: str) -> dict[str, str]:
    return dict(above=f"the {first} matters more than the {second}",
                below=f"the {second} matters more than the {first}",
                undecided=f"the runs cannot tell whether the {first} or the {second} matters more")


def t_p_value(values) -> float:
    """Two-sided p-value of a one-sample Student-t test of ``mean(values) == 0`` ``(n,)``, the
    test that goes with :func:`_t_verdict`'s interval; NaN below two values or without spread."""
    values = np.asarray(values, np.float64)
    if len(values) < 2 or values.std(ddof=1) == 0:
        return float("nan")
    return float(stats.ttest_1samp(values, 0.0).pvalue)


@dataclass(frozen=True)
class HolmVerdicts:
    """The retrained slice's three verdicts, adjusted together (:func:`holm_seed_verdicts`).

    Attributes
    ----------
    verdicts : dict
        ``first``, ``second`` (each factor's effect) and ``"difference"`` (which matters more) ->
        :class:`camformer.stats.verdicts.Verdict`: the unadjusted estimate and 95% interval, decided only
        where the Holm-adjusted p-value is below ``alpha`` too.
    p, p_holm : dict
        The same keys -> Student-t p-value and its Holm adjustment over the three (NaN p counts as 1).
    leader : str
        The factor that matters more, ``"undecided"`` unless the adjusted difference is decided.
    """

    verdicts: dict
    p: dict
    p_holm: dict
    leader: str


def holm_seed_verdicts(effects: SeedPairedEffects, first: str, second: str, *, ci: float = 0.95,
                       alpha: float = 0.05) -> HolmVerdicts:
    """The three verdicts of a two-factor slice (each factor's effect, :func:`seed_paired_effects`,
    and which matters more, :func:`larger_effect`), with their Student-t p-values Holm-adjusted
    together: three tests read together have a family-wise error rate above ``alpha`` unless
    adjusted. A verdict stays decided only where its adjusted p-value is below ``alpha``.
    """
    most, _ = larger_effect(effects, first, second, ci)
    per_seed = effects.per_seed
    oriented = per_seed * np.where(per_seed.mean() >= 0, 1.0, -1.0)
    values = {first: per_seed[first], second: per_seed[second], "difference": oriented[first] - oriented[second]}
    raw = {first: effects.verdicts[first], second: effects.verdicts[second], "difference": most}
    undecided = {f: _level_words(*effects.levels[f])["undecided"] for f in (first, second)}
    undecided["difference"] = _larger_words(first, second)["undecided"]
    p = {k: t_p_value(v.to_numpy()) for k, v in values.items()}
    adjusted = dict(zip(p, holm(np.nan_to_num(np.array(list(p.values())), nan=1.0))))
    verdicts = {}
    for k, v in raw.items():
        keep = v.decided and adjusted[k] < alpha
        verdicts[k] = v if keep or not v.decided else Verdict(undecided[k], v.estimate, v.ci_low, v.ci_high, False)
    difference = verdicts["difference"]
    leader = (first if difference.estimate > 0 else second) if difference.decided else "undecided"
    return HolmVerdicts(verdicts, p, adjusted, leader)
