"""GC content and expression: the paper's Figure S12, its data checked against the test set.

The paper's Figure S12 plots the ``Expr`` column of ``GC_content_nt_effect_snv_test10k.csv``
against GC content under the label "Predicted expression". Joined with the DREAM test table,
every one of its 10,000 rows is a test sequence's GC content and its *measured* expression
(:func:`match_paper_gc_table`): the label is an erratum. The book therefore compares measured
with measured and predicted with predicted (:func:`gc_correlation`, with family-bootstrap
intervals, and :func:`gc_direction_verdict`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def gc_percent(codes: np.ndarray) -> np.ndarray:
    """GC content in percent of each sequence: the share of G and C (codes 2 and 1) over its
    whole length, as the paper computes it (110 nt): ``(N, L)`` uint8 codes -> ``(N,)`` float64."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be (N, L); got shape {codes.shape}")
    return 100.0 * np.isin(codes, [1, 2]).mean(1)


def match_paper_gc_table(published: pd.DataFrame, table: pd.DataFrame, *, decimals: int = 6) -> pd.DataFrame:
    """Find each row of the paper's S12 table among the test sequences.

    A row matches a test sequence when both its GC content (% of the sequence, :func:`gc_percent`)
    and its value equal the sequence's GC content and *measured* expression, to ``decimals``.

    Parameters
    ----------
    published : pandas.DataFrame
        The paper's table: GC content (%) in the first column, the plotted value in the second.
    table : pandas.DataFrame
        The test table (:func:`camformer.data.dream.load_test_table`: ``id, seq, expression``).

    Returns
    -------
    pandas.DataFrame, one row per published row: ``gc, value, n_matches`` (test sequences with that
    GC content and measured expression), ``id`` (the first of them by id, -1 without a match) and
    ``unique`` (exactly one match: the row is that sequence; several identical (GC, measured)
    pairs leave the sequence, and so its prediction, open).
    """
    from camformer.data.dream import encode_sequences

    gc_col, value_col = published.columns[:2]
    codes = encode_sequences(table["seq"].tolist(), seq_len=int(table["seq"].str.len().max()))
    key = pd.DataFrame({"gc": gc_percent(codes).round(decimals),
                        "value": table["expression"].to_numpy(np.float64).round(decimals),
                        "id": table["id"].to_numpy()}).sort_values("id")
    found = key.groupby(["gc", "value"])["id"].agg(["size", "first"])
    rows = pd.DataFrame({"gc": published[gc_col].to_numpy(np.float64).round(decimals),
                         "value": published[value_col].to_numpy(np.float64).round(decimals)})
    joined = rows.join(found, on=["gc", "value"])
    n = joined["size"].fillna(0).astype(int)
    return pd.DataFrame({"gc": published[gc_col].to_numpy(np.float64), "value": published[value_col].to_numpy(np.float64),
                         "n_matches": n, "id": joined["first"].fillna(-1).to_numpy().astype(np.int64),
                         "unique": (n == 1).to_numpy()})


def gc_correlation(gc: np.ndarray, expression: np.ndarray, *, groups: np.ndarray | None = None,
                   n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Pearson r (and Spearman ρ) of GC content with expression, with a percentile-bootstrap
    interval of r over sequences (or whole ``groups``: variant families).

    Returns
    -------
    dict: ``r, ci_low, ci_high, rho, n`` (NaN statistics when either is constant)
    """
    from camformer.stats.bootstrap import bootstrap_ci
    from camformer.stats.metrics import pearson_r, spearman_rho

    gc = np.asarray(gc, np.float64)
    expression = np.asarray(expression, np.float64)
    if np.ptp(gc) == 0 or np.ptp(expression) == 0:
        nan = float("nan")
        return {"r": nan, "ci_low": nan, "ci_high": nan, "rho": nan, "n": len(gc)}
    low, high = bootstrap_ci(expression, gc, "pearson_r", n_boot=n_boot, seed=seed, groups=groups)
    return {"r": pearson_r(gc, expression), "ci_low": low, "ci_high": high, "rho": spearman_rho(gc, expression),
            "n": len(gc)}


def gc_direction_verdict(correlation: dict[str, float], what: str):
    """Whether higher GC content goes with higher or lower ``what`` (e.g. "measured expression"),
    from the interval of :func:`gc_correlation` (undecided when it spans 0).

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    return verdict(correlation["r"], correlation["ci_low"], correlation["ci_high"],
                   above=f"higher GC content goes with higher {what}",
                   below=f"higher GC content goes with lower {what}",
                   undecided=f"GC content and {what} show no clear correlation",
                   undefined=f"the {what} is constant")


def same_direction(a, b) -> str:
    """``"the same direction"`` when two decided verdicts (:class:`camformer.stats.verdicts.Verdict`
    with estimates) have estimates of the same sign, ``"opposite directions"`` when their signs
    differ, else ``"undecided"``."""
    if not (a.decided and b.decided):
        return "undecided"
    return "the same direction" if np.sign(a.estimate) == np.sign(b.estimate) else "opposite directions"


@dataclass(frozen=True)
class S12Comparison:
    """The book's Figure S12, measured with measured and predicted with predicted
    (:func:`compare_s12`).

    Attributes
    ----------
    match : pandas.DataFrame
        :func:`match_paper_gc_table` of the paper's data.
    panels : dict title -> (gc, values, y label, :func:`gc_correlation`)
        In order: the paper's data (measured), the paper's Camformer's published predictions for
        the same sequences, the first explained model's held-out predictions, and the measured
        expression of the same held-out promoters.
    verdicts : dict title -> camformer.stats.verdicts.Verdict
        :func:`gc_direction_verdict` of each panel.
    direction : str
        :func:`same_direction` of the explained model's panel and the paper's Camformer's; for
        several models, their :func:`camformer.stats.ensemble.consensus`.
    models : dict label -> camformer.stats.verdicts.Verdict
        Each explained model's :func:`gc_direction_verdict` on its own held-out predictions (the
        first is the third panel's). Empty: one model, the third panel's.
    directions : tuple of str
        :func:`same_direction` of each model in ``models`` with the paper's Camformer.
    """

    match: pd.DataFrame
    panels: dict
    verdicts: dict
    direction: str
    models: dict = field(default_factory=dict)
    directions: tuple = ()

    #: Record key of each panel, in order.
    KEYS = ("measured_paper_data", "predicted_paper_model", "predicted_model", "measured_heldout")
    #: The panel that depends on the explained model.
    MODEL_KEY = "gc_pearson_predicted_model"
    RANGES = {MODEL_KEY: (-1.0, 1.0)}  # a Pearson r: the between-model interval is cut to it

    def summary(self) -> str:
        """The section's finding as Markdown: the check of the paper's data, each panel's r with its
        interval and verdict (the explained models' across them, :func:`camformer.stats.ensemble.across_models`),
        and whether the models and the paper's Camformer point the same way."""
        from camformer.stats.ensemble import tally
        from camformer.stats.explain_stats import stated

        n_equal = int((self.match["n_matches"] > 0).sum())
        erratum = ("so the figure's y axis is measured, not predicted, expression: an erratum of the paper"
                   if n_equal == len(self.match) else "so the label cannot be checked here")
        titles = list(self.verdicts)
        k = max(1, len(self.models))
        parts = []
        for title, v in self.verdicts.items():
            if k > 1 and title == titles[2]:
                across = self.across()
                parts.append(f"The {k} models' held-out predictions, r averaged over the models with the interval "
                             f"between them: {stated(across.verdict, 3)}, **{across.stated()}**.")
            else:
                parts.append(f"{title}: r = {stated(v, 3)}, **{v}**.")
        who = f"the {k} explained models" if k > 1 else "the explained model"
        count = ("" if k == 1 else f" ({k} of {k} models)" if self.direction != "undecided" else
                 f" ({tally(list(self.directions), 'undecided')})")
        direction = (f"Whether {who} and the paper's Camformer point the same way is **undecided**{count}."
                     if self.direction == "undecided" else
                     f"{who[0].upper() + who[1:]} and the paper's Camformer point in **{self.direction}**{count}.")
        return (f"Of the paper's {len(self.match):,} rows, **{n_equal:,} equal the measured expression of a test "
                f"sequence with the same GC content** ({int(self.match['unique'].sum()):,} of them a single "
                f"sequence), {erratum}. {' '.join(parts)} {direction}")

    def across(self):
        """:func:`camformer.stats.ensemble.across_models` of the models' verdicts (one model: its own)."""
        from camformer.stats.ensemble import across_models

        if not self.models:
            return across_models([list(self.verdicts.values())[2]])
        return across_models(list(self.models.values()), list(self.models), bounds=self.RANGES[self.MODEL_KEY])

    def direction_count(self) -> int:
        """How many models give :attr:`direction` themselves (1 for one model): all of them where it
        is decided; where it is undecided, the models undecided on their own."""
        from camformer.stats.ensemble import consensus

        return consensus(list(self.directions))[1] if self.directions else 1

    def facts(self) -> dict:
        """Plain records: ``s12_rows``, ``s12_rows_equal_measured``, ``gc_direction_model_vs_paper`` (with
        several models, also ``gc_direction_model_vs_paper_agreeing_models``, ``"3 of 3"``) and
        ``gc_spearman_measured_paper_data`` (Spearman ρ of the paper's data: the figure's second
        number). Each panel's Pearson r, interval and verdict: :meth:`verdict_keys` and
        :meth:`model_verdicts`."""
        out = {"s12_rows": len(self.match), "s12_rows_equal_measured": int((self.match["n_matches"] > 0).sum()),
               "gc_direction_model_vs_paper": self.direction,
               "gc_spearman_measured_paper_data": float(next(iter(self.panels.values()))[3]["rho"])}
        if len(self.directions) > 1:
            out["gc_direction_model_vs_paper_agreeing_models"] = f"{self.direction_count()} of {len(self.directions)}"
        return out

    def verdict_keys(self) -> dict:
        """Record key ``gc_pearson_<panel>`` (:attr:`KEYS`) -> the verdict of each panel that does not
        depend on the explained model (the data's and the paper's Camformer's): recorded once."""
        return {f"gc_pearson_{key}": v for key, v in zip(self.KEYS, self.verdicts.values())
                if f"gc_pearson_{key}" != self.MODEL_KEY}

    def model_verdicts(self) -> list[dict]:
        """One ``{"gc_pearson_predicted_model": Verdict}`` per explained model, in order, for
        :func:`camformer.stats.ensemble.combine`."""
        if not self.models:
            return [{self.MODEL_KEY: list(self.verdicts.values())[2]}]
        return [{self.MODEL_KEY: v} for v in self.models.values()]


def compare_s12(predictions: pd.DataFrame, model_name: str, *, labels: Sequence[str] | None = None,
                n_boot: int = 1000, seed: int = 0) -> S12Comparison:
    """Figure S12 as it should be labelled: GC content against measured and predicted expression.

    Parameters
    ----------
    predictions : pandas.DataFrame
        The explained models' held-out predictions: ``id, prediction`` (test-set ids; the first
        model's) and, for several models, one column per label
        (``camformer.records.book.explained_models``'s ``info["predictions"]``).
    model_name : str
        For the panel's title.
    labels : sequence of str, optional
        The models' names (``info["labels"]``). With two or more, each model's column is judged on
        its own (:attr:`S12Comparison.models`); one or none: the ``prediction`` column alone.
    n_boot, seed
        Intervals of :func:`gc_correlation`, resampling similarity units
        (:func:`camformer.stats.bootstrap.test_set_units`).

    Returns
    -------
    S12Comparison

    Raises
    ------
    ValueError
        Where a label has no column in ``predictions``.
    """
    from camformer.stats.bootstrap import test_set_units
    from camformer.data.dream import (
        encode_sequences,
        load_paper_table,
        load_published_predictions,
        load_test_table,
    )
    from camformer.stats.ensemble import consensus

    labels = list(labels or [])
    several = len(labels) > 1
    missing = [label for label in labels if several and label not in predictions]
    if missing:
        raise ValueError(f"no prediction column for the models {missing}; the columns are {list(predictions)}")
    table = load_test_table()
    match = match_paper_gc_table(load_paper_table("GC_content_nt_effect_snv_test10k.csv"), table)
    single = match[match["unique"]]
    published = load_published_predictions().set_index("id")["original"]
    table = table.set_index("id")
    held = predictions["id"].to_numpy()
    held_gc = gc_percent(encode_sequences(table.loc[held, "seq"].tolist()))
    held_units = test_set_units(held)
    measured, predicted = "measured expression", "predicted expression"
    name = f"{labels[0]} (first of {len(labels)} models)" if several else model_name
    columns = {  # title: (gc, values, label, ids)
        "Paper's S12 data (measured)": (match["gc"], match["value"], measured, match["id"]),
        "Paper's Camformer, same sequences": (single["gc"], published.loc[single["id"]], predicted, single["id"]),
        f"{name[:1].upper()}{name[1:]}, held-out": (held_gc, predictions["prediction"], predicted, held),
        "The same held-out promoters": (held_gc, table.loc[held, "expression"], measured, held)}
    panels, verdicts = {}, {}
    for title, (gc, values, label, ids) in columns.items():
        groups = held_units if ids is held else test_set_units(np.asarray(ids))
        stats = gc_correlation(gc, values, groups=groups, n_boot=n_boot, seed=seed)
        panels[title] = (np.asarray(gc), np.asarray(values, np.float64), label, stats)
        verdicts[title] = gc_direction_verdict(stats, label)
    titles = list(columns)
    paper = verdicts[titles[1]]
    if not several:
        return S12Comparison(match, panels, verdicts, same_direction(verdicts[titles[2]], paper))
    models = {label: verdicts[titles[2]] if np.array_equal(predictions[label], predictions["prediction"]) else
              gc_direction_verdict(gc_correlation(held_gc, predictions[label], groups=held_units, n_boot=n_boot,
                                                  seed=seed), predicted)
              for label in labels}  # the first model's is the third panel's
    directions = tuple(same_direction(v, paper) for v in models.values())
    return S12Comparison(match, panels, verdicts, consensus(list(directions))[0], models, directions)
