"""Interaction contrasts: do two motifs together do what their separate effects add up to?

The paper's hierarchy (IME1 raises expression, IME1 with UME6 lowers it) is a statement about an
interaction, and it is tested as one, in two designs:

- **Groups of sequences** (measured or predicted expression): with both motifs, with A only,
  with B only, with neither. The interaction contrast is ``both - A only - B only + neither``,
  zero when the two effects add. The DREAM test set is made of variant families (SNVs, motif
  perturbations, tilings of shared backgrounds) and near copies, so intervals resample whole
  similarity units (:func:`camformer.stats.bootstrap.test_set_units`, through
  :func:`camformer.stats.bootstrap.resample_counts` with ``groups``), not sequences.
- **Insertion** into backgrounds (a model's predictions, :func:`camformer.explain.hierarchy.nested_insertion`):
  a 2 x 2 contrast of the same letters edited in two contexts
  (:func:`camformer.explain.hierarchy.insertion_contrasts`), paired per background, resampling backgrounds.

Both reduce to means of columns under resampling (:func:`resampled_means`) and weighted sums of
those means (:class:`Contrast`). :func:`contrast_table` gives each contrast its estimate, 95%
percentile interval, bootstrap p-value, Holm-corrected p-value over the contrasts of the table
and its verdict: the ``above``/``below`` words when the interval excludes 0 *and* the Holm-corrected
p-value is below ``alpha``, else the ``undecided`` words.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from camformer.stats.bootstrap import percentile_interval, resample_counts
from camformer.stats.verdicts import Verdict, bootstrap_p_value, by_interval, holm

EFFECT_WORDS = {"above": "raises", "below": "lowers", "undecided": "does not clearly change"}
TOO_FEW = "cannot be computed (too few sequences)"
NOT_TESTED = ""  # the words of an untested contrast: none


@dataclass(frozen=True)
class Contrast:
    """A weighted sum of column means, with the words for each outcome.

    Attributes
    ----------
    name : str
        Shown in tables (``"IME1 without UME6"``).
    key : str
        The record key (``"ime1_effect"``).
    weights : mapping column -> weight
        ``{"IME1 only": 1, "neither": -1}`` is a difference of two group means.
    above, below, undecided : str
        The verdict's words when the interval lies above 0, below 0, or neither.
    tested : bool
        Whether a verdict is drawn. An untested contrast is shown with its interval only: it
        takes no words, no Holm correction and no part in the family of tests, so the book
        concludes only what it sets out to test.
    """

    name: str
    key: str
    weights: Mapping[str, float]
    above: str = EFFECT_WORDS["above"]
    below: str = EFFECT_WORDS["below"]
    undecided: str = EFFECT_WORDS["undecided"]
    tested: bool = True


def group_names(names: tuple[str, str] = ("IME1", "UME6")) -> tuple[str, str, str, str]:
    """The four groups' names: ``("IME1 and UME6", "IME1 only", "UME6 only", "neither")``."""
    A, B = names
    return f"{A} and {B}", f"{A} only", f"{B} only", "neither"


def group_masks(has_a, has_b, names: tuple[str, str] = ("IME1", "UME6")) -> pd.DataFrame:
    """bool ``(N, 4)``: which sequences are in each group of :func:`group_names`."""
    a, b = np.asarray(has_a, bool), np.asarray(has_b, bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"has_a and has_b must be 1-D of one length, got {a.shape} and {b.shape}")
    return pd.DataFrame(dict(zip(group_names(names), (a & b, a & ~b, b & ~a, ~a & ~b))))


def hierarchy_contrasts(names: tuple[str, str] = ("IME1", "UME6"), tested=None) -> tuple[Contrast, ...]:
    """The measured hierarchy's contrasts of group means: A without B, B without A and both, each
    against neither; both against A without B; and the interaction ``both - A - B + neither``.

    ``tested``: the names of the contrasts that get a verdict (default all of them).
    """
    A, B = names
    a, b = A.lower(), B.lower()
    both, a_only, b_only, neither = group_names(names)
    contrasts = (
        Contrast(f"{A} without {B}", f"{a}_effect", {a_only: 1, neither: -1}),
        Contrast(f"{B} without {A}", f"{b}_effect", {b_only: 1, neither: -1}),
        Contrast(f"{A} and {B}", f"{a}_{b}_effect", {both: 1, neither: -1}),
        Contrast(f"{A} and {B} vs {A} without {B}", f"{a}_{b}_vs_{a}", {both: 1, a_only: -1}),
        Contrast("interaction", f"{a}_{b}_interaction", {both: 1, a_only: -1, b_only: -1, neither: 1},
                 above="above the sum of their effects alone",
                 below="below the sum of their effects alone",
                 undecided="not shown to differ from the sum of their effects"),
    )
    if tested is None:
        return contrasts
    unknown = set(tested) - {c.name for c in contrasts}
    if unknown:
        raise ValueError(f"no contrasts named {sorted(unknown)}; choose from {[c.name for c in contrasts]}")
    return tuple(replace(c, tested=c.name in set(tested)) for c in contrasts)


MIN_UNITS = 5  # fewer resampled units (families or rows) than this give no interval


def resampled_means(values, weights=None, *, groups=None, n_boot: int = 2000, seed: int = 0,
                    chunk: int = 64, min_units: int = MIN_UNITS) -> tuple[np.ndarray, np.ndarray]:
    """Weighted column means, and the same on bootstrap resamples of the rows.

    Column ``j``'s mean is ``sum_i w_ij v_ij / sum_i w_ij``; a resample gives row ``i`` its copy
    count ``c_i`` (:func:`camformer.stats.bootstrap.resample_counts`): ``sum_i c_i w_ij v_ij / sum_i c_i w_ij``.

    Parameters
    ----------
    values : float ``(N,)`` or ``(N, k)``
        One value per row (broadcast over the columns of ``weights``), or one per row and column.
    weights : ``(N, k)``, optional
        Row weights per column; a bool mask gives group means (default: all 1).
    groups : ``(N,)`` labels, optional
        Resample whole groups (families) instead of rows.
    n_boot, seed, chunk : resamples, their seed, and how many are computed at once
    min_units : a column whose weight lies on fewer groups (or rows) than this is undefined: a
        bootstrap of a handful of units has no meaningful interval

    Returns
    -------
    (estimate ``(k,)``, samples ``(n_boot, k)``), NaN where a column has no weight (in a resample)
    or too few units.
    """
    v = np.asarray(values, np.float64)
    v = v[:, None] if v.ndim == 1 else v
    w = np.ones_like(v) if weights is None else np.asarray(weights, np.float64)
    if w.ndim != 2 or v.shape[0] != w.shape[0] or v.shape[1] not in (1, w.shape[1]):
        raise ValueError(f"values {v.shape} and weights {w.shape} do not match: expected (N,) or (N, k), and (N, k)")
    weighted = w * v
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = weighted.sum(axis=0) / w.sum(axis=0)
    codes, n_groups = None, 0
    if groups is not None:
        codes, uniques = pd.factorize(np.asarray(groups), sort=True)
        if codes.shape != (len(w),) or (codes < 0).any():
            raise ValueError(f"groups must hold one label (not missing) per row, {len(w)} in all")
        n_groups = len(uniques)
    units = codes if codes is not None else np.arange(len(w))
    too_few = np.array([len(np.unique(units[column > 0])) < min_units for column in w.T], dtype=bool)
    estimate[too_few] = np.nan
    rng = np.random.default_rng(seed)
    samples = np.full((n_boot, w.shape[1]), np.nan)
    if len(w) == 0:  # nothing to resample: every mean is undefined
        return estimate, samples
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        counts = resample_counts(rng, len(w), b, groups=codes, n_groups=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            samples[start:start + b] = (counts @ weighted) / (counts @ w)
    samples[:, too_few] = np.nan
    return estimate, samples


def contrast_table(estimate: pd.Series, samples: pd.DataFrame, contrasts: Sequence[Contrast], *,
                   alpha: float = 0.05, ci: float = 0.95, min_resamples: float = 0.99) -> pd.DataFrame:
    """Each contrast's estimate, interval, p-values and verdict.

    Parameters
    ----------
    estimate : column means (index: the columns the contrasts weigh)
    samples : the same on resamples, ``(n_boot, columns)`` (:func:`resampled_means`)
    contrasts : the contrasts; the tested ones form one family for the Holm correction
    alpha : family-wise error rate of the verdicts
    ci : level of the percentile interval
    min_resamples : share of resamples that must define the contrast (a group can be empty in a
        resample); below it, or with an undefined estimate, the contrast "cannot be computed"

    Returns
    -------
    DataFrame indexed by contrast name: ``key, difference`` (the estimate), ``ci_low, ci_high,
    p_value, p_holm`` (NaN where undefined; the p-values only for tested contrasts), ``tested``,
    ``words`` (the verdict; :data:`NOT_TESTED` for an untested contrast), ``decided`` (bool),
    ``undecided`` (the words the contrast gives when its interval does not settle it).
    """
    rows = []
    for contrast in contrasts:
        w = pd.Series(contrast.weights, dtype=np.float64)
        value = float(estimate[w.index].to_numpy() @ w.to_numpy())
        drawn = samples[w.index].to_numpy() @ w.to_numpy()
        drawn = drawn[np.isfinite(drawn)]
        row = {"contrast": contrast.name, "key": contrast.key, "difference": value, "ci_low": np.nan,
               "ci_high": np.nan, "p_value": np.nan, "tested": contrast.tested}
        if np.isfinite(value) and len(drawn) >= min_resamples * len(samples) and len(drawn) > 1:
            row["ci_low"], row["ci_high"] = percentile_interval(drawn, ci)
            if contrast.tested:
                row["p_value"] = bootstrap_p_value(drawn)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("contrast")
    defined = table["p_value"].notna().to_numpy()
    table["p_holm"] = np.nan
    if defined.any():
        table.loc[defined, "p_holm"] = holm(table.loc[defined, "p_value"].to_numpy())
    words, decided = [], []
    for contrast, (_, row) in zip(contrasts, table.iterrows()):
        verdict = contrast_verdict(contrast, row, alpha=alpha)
        words.append(verdict.words)
        decided.append(verdict.decided)
    table["words"], table["decided"] = words, decided
    table["undecided"] = [contrast.undecided for contrast in contrasts]
    return table


def contrast_verdict(contrast: Contrast, row, *, alpha: float = 0.05) -> Verdict:
    """The words one row of :func:`contrast_table` allows: :func:`camformer.stats.verdicts.by_interval`
    of its interval, undecided unless its Holm-corrected p-value is below ``alpha`` too,
    :data:`TOO_FEW` where it is undefined, and :data:`NOT_TESTED` for an untested contrast."""
    if not contrast.tested:
        return Verdict(NOT_TESTED, float(row["difference"]), row["ci_low"], row["ci_high"], False)
    if not np.isfinite(row["p_holm"]):
        return Verdict(TOO_FEW, float(row["difference"]), np.nan, np.nan, False)
    verdict = by_interval(row["difference"], row["ci_low"], row["ci_high"], above=contrast.above,
                          below=contrast.below, undecided=contrast.undecided)
    if verdict.decided and row["p_holm"] >= alpha:
        return Verdict(contrast.undecided, verdict.estimate, verdict.ci_low, verdict.ci_high, False,
                       contrast.undecided)
    return verdict


def group_contrasts(values, has_a, has_b, *, names: tuple[str, str] = ("IME1", "UME6"), families=None,
                    n_boot: int = 2000, seed: int = 0, alpha: float = 0.05, tested=None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hierarchy test on one set of sequences: group means and :func:`hierarchy_contrasts`.

    Parameters
    ----------
    values : float ``(N,)``: measured or predicted expression
    has_a, has_b : bool ``(N,)``: which sequences contain motif A, motif B
    names : the motifs' names (A, B)
    families : ``(N,)`` labels, optional: resample whole units, e.g. the DREAM test set's similarity
        units (:func:`camformer.stats.bootstrap.test_set_units`; default: sequences)
    n_boot, seed, alpha : see :func:`resampled_means` and :func:`contrast_table`; the same ``seed``
        and ``families`` give the same resamples, so two calls on the same sequences are paired
    tested : names of the contrasts that get a verdict (:func:`hierarchy_contrasts`)

    Returns
    -------
    (groups, contrasts)
        ``groups``: indexed by :func:`group_names`, columns ``n`` (sequences), ``units`` (resampled),
        ``mean``, ``ci_low``, ``ci_high``; ``contrasts``: :func:`contrast_table`.
    """
    masks = group_masks(has_a, has_b, names)
    estimate, samples = resampled_means(values, masks, groups=families, n_boot=n_boot, seed=seed)
    fam = np.arange(len(masks)) if families is None else np.asarray(families)
    intervals = [percentile_interval(s[np.isfinite(s)]) if np.isfinite(s).sum() > 1 else (np.nan, np.nan)
                 for s in samples.T]
    groups = pd.DataFrame({"n": masks.sum().to_numpy(),
                           "units": [len(np.unique(fam[masks[g].to_numpy()])) for g in masks],
                           "mean": estimate, "ci_low": [lo for lo, _ in intervals],
                           "ci_high": [hi for _, hi in intervals]}, index=masks.columns)
    table = contrast_table(pd.Series(estimate, index=masks.columns), pd.DataFrame(samples, columns=masks.columns),
                           hierarchy_contrasts(names, tested), alpha=alpha)
    return groups, table


def contrast_facts(table: pd.DataFrame, prefix: str = "") -> dict:
    """Records of a :func:`contrast_table`: for each contrast ``prefix + key`` with ``_ci_low``,
    ``_ci_high`` (floats, left out where undefined) and, for a tested contrast, ``_verdict``
    (words) and ``_decided`` (:meth:`camformer.stats.verdicts.Verdict.facts`)."""
    facts: dict = {}
    for _, row in table.iterrows():
        verdict = Verdict(row["words"], row["difference"], row["ci_low"], row["ci_high"], bool(row["decided"]))
        found = verdict.facts(prefix + row["key"])
        if not row["tested"]:
            found = {k: v for k, v in found.items() if not k.endswith(("_verdict", "_decided"))}
        facts.update(found)
    return facts


def directions_agree(measured, predicted) -> str:
    """Whether two verdicts on the same contrast (rows of :func:`contrast_table`, or
    :class:`camformer.stats.verdicts.Verdict`) agree: ``"agree"`` when both are decided with the same
    words, ``"disagree"`` when both are decided with different words, ``"not tested"`` when
    either has no verdict (:data:`NOT_TESTED`), else ``"cannot tell"``."""
    def words(v):
        return (v.words, v.decided) if isinstance(v, Verdict) else (v["words"], bool(v["decided"]))

    (m_words, m_decided), (p_words, p_decided) = words(measured), words(predicted)
    if NOT_TESTED in (m_words, p_words):
        return "not tested"
    if not (m_decided and p_decided):
        return "cannot tell"
    return "agree" if m_words == p_words else "disagree"


def contrast_view(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A :func:`contrast_table` for the page: the difference, its 95% interval, the Holm-corrected
    p-value and the verdict, rounded to ``digits``."""
    view = table[["difference", "ci_low", "ci_high", "p_holm", "words"]]
    return view.rename(columns={"ci_low": "95% low", "ci_high": "95% high", "p_holm": "p (Holm)",
                                "words": "verdict"}).round(digits)


def contrast_text(row, *, words: bool = True) -> str:
    """One row of :func:`contrast_table` as prose: ``"-0.182 (95% CI -0.229 to -0.137)"``, followed
    by ``": <verdict>"`` with ``words`` (for a tested contrast); only the verdict's words (e.g.
    :data:`TOO_FEW`) where the interval is undefined."""
    if not np.isfinite(row["ci_low"]):
        return row["words"] or TOO_FEW
    text = f"{row['difference']:+.3f} (95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f})"
    return f"{text}: {row['words']}" if words and row["words"] else text
