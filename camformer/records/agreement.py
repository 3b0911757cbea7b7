"""Do two builds of the book agree? The same conclusions, and numbers inside each other's intervals.

Two builds of the same commit on different CPUs (AVX-512 and AVX2 kernels, say) differ in the last
bits of their sums, so their numbers need not be equal; what they conclude must be. This module
compares the records of two builds (:func:`camformer.records.report.load_records`) key by key:

- **run-only keys are excluded**: a key named ``seconds`` or ending in ``_seconds`` measures the
  machine that ran the build, not its result (:func:`is_run_only`);
- **conclusions must be equal**: every ``str``, ``bool`` or ``int`` record (verdict words, best
  levels, ranks, signs, counts) and every :class:`~camformer.records.report.Undefined` statistic, with the
  same type in both builds;
- **numbers with an interval must lie inside the other build's interval**, both ways: a ``float``
  record ``k`` whose build also recorded ``k_ci_low`` and ``k_ci_high`` agrees when each build's
  ``k`` lies in the other's ``[k_ci_low, k_ci_high]`` (the two bounds are judged with ``k``, not
  on their own);
- **per-model evidence is listed but not judged**: a key ending in ``_models`` holds each model of
  a seed ensemble's own value, or how many models agree (:mod:`camformer.stats.ensemble`); two builds
  that trained their own models share the ensemble's conclusion, not each model's numbers
  (:func:`is_per_model`);
- **other numbers are listed but not judged** (their difference is shown);
- a key recorded by only one of the builds is a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .report import load_records, numbers_dir

RUN_ONLY_RULE = "a key named `seconds` or ending in `_seconds` measures the machine, not the result"
PER_MODEL_RULE = "a key ending in `_models` holds each model's own value, not the ensemble's conclusion"
COLUMNS = ["section", "key", "kind", "a", "b", "judged", "agrees", "note"]


def is_run_only(key: str) -> bool:
    """Whether ``key`` measures the machine (:data:`RUN_ONLY_RULE`), so two builds may differ."""
    return key == "seconds" or key.endswith("_seconds")


def is_per_model(key: str) -> bool:
    """Whether ``key`` holds per-model evidence of a seed ensemble (:data:`PER_MODEL_RULE`)."""
    return key.endswith("_models")


def _is_number(value) -> bool:
    return isinstance(value, float)


def _interval(values: dict, key: str) -> tuple[float, float] | None:
    low, high = values.get(f"{key}_ci_low"), values.get(f"{key}_ci_high")
    return (low, high) if _is_number(low) and _is_number(high) else None


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _row(section, key, kind, a, b, judged, agrees, note=""):
    return {"section": section, "key": key, "kind": kind, "a": a, "b": b, "judged": judged,
            "agrees": agrees, "note": note}


def _compare_section(section: str, a: dict, b: dict) -> list[dict]:
    bounds = {f"{key}_ci_{end}" for values in (a, b) for key in values
              if _interval(values, key) is not None and _is_number(values[key]) for end in ("low", "high")}
    rows = []
    for key in sorted(set(a) | set(b)):
        if key in bounds:
            continue  # judged with the number it bounds
        va, vb = a.get(key), b.get(key)
        if is_run_only(key):
            rows.append(_row(section, key, "run-only", va, vb, False, None, "excluded: " + RUN_ONLY_RULE))
        elif is_per_model(key):
            rows.append(_row(section, key, "per-model", va, vb, False, None, "not judged: " + PER_MODEL_RULE))
        elif key not in a or key not in b:
            rows.append(_row(section, key, "missing", va, vb, True, False,
                             f"recorded only by build {'A' if key in a else 'B'}"))
        elif _is_number(va) and _is_number(vb):
            ia, ib = _interval(a, key), _interval(b, key)
            if ia is None and ib is None:
                note = "equal" if va == vb else f"difference {vb - va:+.3g}"
                rows.append(_row(section, key, "number", va, vb, False, None, note))
            elif ia is None or ib is None:
                rows.append(_row(section, key, "interval", va, vb, True, False,
                                 f"interval recorded only by build {'A' if ia else 'B'}"))
            else:
                a_in_b, b_in_a = ib[0] <= va <= ib[1], ia[0] <= vb <= ia[1]
                note = (f"A [{ia[0]:.4g}, {ia[1]:.4g}], B [{ib[0]:.4g}, {ib[1]:.4g}]"
                        + ("" if a_in_b else "; A outside B's interval")
                        + ("" if b_in_a else "; B outside A's interval"))
                rows.append(_row(section, key, "interval", va, vb, True, a_in_b and b_in_a, note))
        else:
            same = type(va) is type(vb) and va == vb
            note = "" if same else (f"types differ: {type(va).__name__} and {type(vb).__name__}"
                                    if type(va) is not type(vb) else "values differ")
            rows.append(_row(section, key, "conclusion", va, vb, True, same, note))
    return rows


@dataclass(frozen=True)
class Agreement:
    """The comparison of two builds' records.

    Attributes
    ----------
    table : DataFrame
        One row per record key: ``section``, ``key``, ``kind`` (``conclusion``, ``interval``,
        ``number``, ``per-model``, ``run-only`` or ``missing``), ``a``, ``b`` (the values), ``judged``, ``agrees``
        (``None`` where not judged) and ``note``.
    """

    table: pd.DataFrame

    @property
    def disagreements(self) -> pd.DataFrame:
        """The judged rows that do not agree."""
        judged = self.table[self.table["judged"]]
        return judged[~judged["agrees"].astype(bool)]

    @property
    def ok(self) -> bool:
        """True when every judged record agrees (and at least one was judged)."""
        return bool(self.table["judged"].any()) and self.disagreements.empty

    def summary(self) -> str:
        """One sentence: how many records were judged, how many agree, how many were only listed."""
        kinds = self.table["kind"].value_counts()
        judged = int(self.table["judged"].sum())
        return (f"{judged - len(self.disagreements)} of {judged} judged records agree "
                f"({int(kinds.get('conclusion', 0))} conclusions, {int(kinds.get('interval', 0))} numbers "
                f"with intervals, {int(kinds.get('missing', 0))} recorded by one build only); "
                f"{int(kinds.get('number', 0))} numbers without an interval and "
                f"{int(kinds.get('per-model', 0))} per-model records listed, not judged; "
                f"{int(kinds.get('run-only', 0))} run-only keys excluded")

    def markdown(self, labels: tuple[str, str] = ("A", "B"), *, unjudged: bool = False) -> str:
        """The two builds side by side as a Markdown table (judged rows; with ``unjudged``, all)."""
        rows = self.table if unjudged else self.table[self.table["judged"]]
        lines = [f"| record | {labels[0]} | {labels[1]} | agree | note |", "|---|---|---|---|---|"]
        for row in rows.itertuples():
            agree = "—" if row.agrees is None else ("yes" if row.agrees else "**no**")
            a, b = _show(row.a), _show(row.b)
            lines.append(f"| {row.section}.`{row.key}` | {a} | {b} | {agree} | {row.note} |")
        return "\n".join(lines)


def _by_section(records: pd.DataFrame) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in records.itertuples():
        out.setdefault(row.section, {})[row.key] = row.value
    return out


def compare_records(a: pd.DataFrame, b: pd.DataFrame) -> Agreement:
    """Compare two builds' records (tables of :func:`camformer.records.report.load_records`).

    The rules are the module's: run-only keys excluded, conclusions equal, numbers with intervals
    inside each other's interval, other numbers listed but not judged, one-sided keys disagree.
    """
    sa, sb = _by_section(a), _by_section(b)
    rows = []
    for section in sorted(set(sa) | set(sb)):
        rows += _compare_section(section, sa.get(section, {}), sb.get(section, {}))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["judged"] = table["judged"].astype(bool)
    return Agreement(table)


def compare_results(results_a: str | Path, results_b: str | Path, preset: str) -> Agreement:
    """Compare the records two builds wrote under ``results_a`` and ``results_b`` for ``preset``.

    Raises
    ------
    FileNotFoundError
        Naming the build whose ``{results}/{preset}/numbers`` folder holds no record.
    """
    tables = []
    for results in (results_a, results_b):
        records = load_records(results, preset)
        if records.empty:
            raise FileNotFoundError(f"{numbers_dir(results, preset)}: no records (build the book with "
                                    f"--preset {preset} --results-dir {results} first)")
        tables.append(records)
    return compare_records(*tables)

