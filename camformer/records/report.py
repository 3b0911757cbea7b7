"""Numbers the book's chapters compute, recorded for the reproduction audit and the introduction.

Each chapter calls :func:`record` with the numbers it computed; the introduction (run
last) reads them all back with :func:`load_records`. Files live under
``{results_dir}/{preset}/numbers/{section}.json``; a full build of the book starts from an
empty ``numbers`` folder (:func:`clear_records`), so no number of an older build is shown.

A statistic that a model cannot give (a correlation of a constant map, say) is recorded as
:class:`Undefined` with its reason, never as a made-up value, and is shown as such.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Undefined:
    """A statistic that is undefined for this model or data, with the reason (shown on the page)."""

    reason: str

    def __format__(self, spec: str) -> str:  # any format spec of a number shows the reason
        return f"undefined ({self.reason})"

    def __str__(self) -> str:
        return format(self, "")


def defined_or(value: float, reason: str) -> float | Undefined:
    """``value`` if it is a finite number, else :class:`Undefined` with ``reason``."""
    return value if isinstance(value, (int, float)) and math.isfinite(value) else Undefined(reason)


def numbers_dir(results_dir: str | Path, preset: str) -> Path:
    """``{results_dir}/{preset}/numbers``: where the records of a preset live."""
    return Path(results_dir) / preset / "numbers"


def clear_records(results_dir: str | Path, preset: str) -> None:
    """Remove every recorded number of a preset (a full build starts from none)."""
    shutil.rmtree(numbers_dir(results_dir, preset), ignore_errors=True)


# The section files this process has written: its first record of a section replaces the file.
_STARTED: set[Path] = set()


def record(results_dir: str | Path, preset: str, section: str,
           **numbers: float | int | str | Undefined) -> None:
    """Write (or update) the numbers of one section, in ``numbers_dir(results_dir, preset) /
    f"{section}.json"``. Returns nothing, so a chapter's cell that ends with it shows no output.

    A process's first record of a section starts that section afresh, and its later records add
    to it. So a chapter (one papermill kernel) that records a section in several calls keeps them
    all, and a chapter rerun alone leaves no key of its earlier run behind (a rerun explaining one
    model where the last run explained three records no three-model ``*_models`` values).

    Raises
    ------
    ValueError
        For a NaN or infinite float: record an :class:`Undefined` with the reason instead.
    """
    path = numbers_dir(results_dir, preset) / f"{section}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    resolved = path.resolve()
    current = json.loads(path.read_text()) if resolved in _STARTED and path.exists() else {}
    for key, value in numbers.items():
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{section}.{key} is {value}; record a finite number, or report.Undefined(reason)")
        current[key] = {"undefined": value.reason} if isinstance(value, Undefined) else value
    path.write_text(json.dumps(current, indent=1, sort_keys=True))
    _STARTED.add(resolved)


def load_records(results_dir: str | Path, preset: str) -> pd.DataFrame:
    """All recorded numbers as a table with columns ``section, key, value`` (an undefined
    statistic comes back as :class:`Undefined`)."""
    rows = []
    for path in sorted(numbers_dir(results_dir, preset).glob("*.json")):
        for key, value in json.loads(path.read_text()).items():
            if isinstance(value, dict) and set(value) == {"undefined"}:
                value = Undefined(value["undefined"])
            rows.append({"section": path.stem, "key": key, "value": value})
    return pd.DataFrame(rows, columns=["section", "key", "value"])


def section_records(results_dir: str | Path, preset: str, section: str) -> dict:
    """The numbers one section recorded (:func:`load_records`), as a dict key -> value; ``{}``
    where it recorded none (its chapter has not run in this build): for a later chapter that
    restates an earlier one's result from its records, never from fixed text."""
    records = load_records(results_dir, preset)
    return dict(records.loc[records["section"] == section, ["key", "value"]].itertuples(index=False))


def chapter_titles(notebooks_dir: str | Path = "notebooks") -> dict[str, str]:
    """Each chapter's title (its ``# # `` heading), by name, from the Jupytext sources ``NN_name.py``."""
    titles = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.py")):
        lines = path.read_text().splitlines()
        titles[path.stem] = next((line[4:].strip() for line in lines if line.startswith("# # ")), path.stem)
    return titles


_RECORD_CALL = re.compile(r"record\(\s*results_dir\s*,\s*preset\s*,\s*[\"']([A-Za-z0-9_]+)[\"']")


def record_sections(notebooks_dir: str | Path = "notebooks") -> dict[str, str]:
    """Which chapter writes each record section: ``section -> chapter name``, read from the
    chapters' sources (their ``record(results_dir, preset, "section", ...)`` calls)."""
    sections: dict[str, str] = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.py")):
        for section in _RECORD_CALL.findall(path.read_text()):
            sections.setdefault(section, path.stem)
    return sections


def show_value(value) -> str:
    """A record as the page shows it: counts with thousands separators, numbers to 4 significant
    digits, words as they are, an :class:`Undefined` with its reason."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def records_by_chapter(records: pd.DataFrame, sections: dict[str, str],
                       order: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every record, grouped by the chapter that wrote it (``sections``: :func:`record_sections`).

    A number ``k`` recorded with ``k_ci_low`` and ``k_ci_high`` is one row, with its interval
    (``"0.8329 [0.8101, 0.8544]"``); every other record is a row of its own. Sections that no
    chapter writes are grouped under ``"other"``.

    Returns
    -------
    dict chapter -> DataFrame (columns ``section``, ``record``, ``value``)
        The chapters in ``order`` (chapter names; default sorted), then any others, sorted.
    """
    values = {(row.section, row.key): row.value for row in records.itertuples()}
    bounds = {}
    for (section, key), value in values.items():
        low, high = values.get((section, f"{key}_ci_low")), values.get((section, f"{key}_ci_high"))
        if _is_number(value) and isinstance(low, float) and isinstance(high, float):
            bounds[(section, key)] = (low, high)
    folded = {(section, f"{key}{end}") for section, key in bounds for end in ("_ci_low", "_ci_high")}
    groups: dict[str, list[dict]] = {}
    for (section, key), value in values.items():
        if (section, key) in folded:
            continue
        text, name = show_value(value), key
        if (section, key) in bounds:
            low, high = bounds[(section, key)]
            text, name = f"{text} [{low:.4g}, {high:.4g}]", f"{key} [95% interval]"
        groups.setdefault(sections.get(section, "other"), []).append(
            {"section": section, "record": name, "value": text})
    first = [chapter for chapter in (order or []) if chapter in groups]
    ordered = first + sorted(chapter for chapter in groups if chapter not in first)
    return {chapter: pd.DataFrame(groups[chapter], columns=["section", "record", "value"]) for chapter in ordered}


def timings_text(timings: pd.DataFrame, preset: str) -> str:
    """The introduction's sentence on build time, from ``timings.csv`` (columns ``chapter``,
    ``seconds``, ``measured_at``; written by ``book/build.py``): the chapters before the
    introduction, the slowest, and the last complete build (row ``total``) where there is one."""
    chapters = timings[~timings["chapter"].isin(["total", "00_intro"])]
    total = timings[timings["chapter"] == "total"]
    if chapters.empty:
        text = "No chapter timings were recorded yet."
    else:
        slowest = chapters.loc[chapters["seconds"].idxmax()]
        text = (f"Measured on the machine that built this page: the chapters before this introduction took "
                f"{chapters['seconds'].sum() / 60:.1f} min together on the `{preset}` preset "
                f"(the slowest, {slowest['chapter']}, {slowest['seconds']:.0f} s).")
    if not total.empty:
        text += (f" The last complete build on this preset (every chapter and the HTML) took "
                 f"{total['seconds'].iloc[0] / 60:.1f} min, finished at {total['measured_at'].iloc[0]}.")
    return text


def effect_text(row, *, n: bool = True, unit: str = "") -> str:
    """A difference with its interval as prose: ``"+0.400 (95% CI +0.366 to +0.435; n = 1,025)"``.

    ``row`` has ``difference`` (or ``mean_change``), ``ci_low``, ``ci_high`` and, with ``n``, ``n``
    (e.g. a row of :func:`camformer.explain.motifs.motif_hierarchy` or ``insertion_effects``).
    """
    value = row["difference"] if "difference" in row else row["mean_change"]
    count = f"; n = {int(row['n']):,}{unit}" if n else ""
    return f"{value:+.3f} (95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}{count})"


def facts(key: str, *numbers: float, undefined: str = "the statistic is not defined for this model",
          verdict=None) -> dict:
    """Records (:func:`record`) of a stated number, its interval and its verdict.

    Parameters
    ----------
    key : str
    *numbers : float
        ``estimate, ci_low, ci_high`` (or the estimate alone); default: the verdict's.
    undefined : str
        The reason recorded for a NaN estimate (default: the undefined verdict's reason).
    verdict : camformer.stats.verdicts.Verdict, optional
        An undefined verdict (words ``"undefined (<reason>)"``, e.g. from
        :func:`camformer.stats.explain_stats.verdict`) gives its reason to the record.

    Returns
    -------
    dict
        ``key`` (a float, or :class:`Undefined` with the reason),
        ``key_ci_low`` and ``key_ci_high`` where the interval is defined, and, with a ``verdict``,
        ``key_verdict`` (its words) and ``key_decided``.
    """
    if not numbers:
        if verdict is None:
            raise ValueError(f"{key}: give the numbers or a verdict")
        numbers = (verdict.estimate, verdict.ci_low, verdict.ci_high)
    estimate, ci_low, ci_high = (*numbers, math.nan, math.nan)[:3]
    if verdict is not None and verdict.words.startswith("undefined (") and verdict.words.endswith(")"):
        undefined = verdict.words[len("undefined ("):-1]
    out: dict = {key: defined_or(float(estimate), undefined)}
    if all(math.isfinite(x) for x in (estimate, ci_low, ci_high)):
        out.update({f"{key}_ci_low": float(ci_low), f"{key}_ci_high": float(ci_high)})
    if verdict is not None:
        out.update({f"{key}_verdict": verdict.words, f"{key}_decided": bool(verdict.decided)})
    return out
