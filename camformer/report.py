"""Numbers the book's chapters compute, recorded for the introduction's claims table.

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


def record(results_dir: str | Path, preset: str, section: str,
           **numbers: float | int | str | Undefined) -> Path:
    """Write (or update) the numbers of one section; returns the JSON file's path.

    Raises
    ------
    ValueError
        For a NaN or infinite float: record an :class:`Undefined` with the reason instead.
    """
    path = numbers_dir(results_dir, preset) / f"{section}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    for key, value in numbers.items():
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{section}.{key} is {value}; record a finite number, or report.Undefined(reason)")
        current[key] = {"undefined": value.reason} if isinstance(value, Undefined) else value
    path.write_text(json.dumps(current, indent=1, sort_keys=True))
    return path


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


def load_claims(path: str | Path) -> list[dict]:
    """The claims of the introduction's table from a YAML file (``book/claims.yml``).

    Raises
    ------
    ValueError
        Naming the file, the claim and the missing field.
    """
    import yaml

    claims = yaml.safe_load(Path(path).read_text())
    if not isinstance(claims, list):
        raise ValueError(f"{path}: expected a list of claims")
    for i, claim in enumerate(claims, start=1):
        missing = [k for k in ("claim", "paper", "chapter", "section", "show") if k not in claim]
        if missing:
            raise ValueError(f"{path}: claim {i} ({claim.get('claim', '?')!r}) has no {', '.join(missing)}")
        for alternative in claim["show"]:
            if set(alternative) != {"keys", "format"}:
                raise ValueError(f"{path}: claim {i}: each 'show' entry needs exactly 'keys' and 'format'")
    return claims


def claims_table(claims: list[dict], records: pd.DataFrame, titles: dict[str, str] | None = None
                 ) -> tuple[str, set[tuple[str, str]]]:
    """The introduction's table: each claim, the paper's number and the book's, as Markdown.

    For each claim the first alternative in ``show`` whose record keys all exist in
    ``records`` (:func:`load_records`) is formatted; a claim with none says "not computed on
    this preset". Whole-number floats are shown as integers; an :class:`Undefined` shows its
    reason. ``titles`` maps chapter names to the link text (default the name).

    Returns
    -------
    (str, set of (section, key)): the Markdown table and the records it showed
    """
    numbers = {}
    for row in records.itertuples():
        value = row.value
        numbers[(row.section, row.key)] = int(value) if isinstance(value, float) and value.is_integer() else value
    titles = titles or {}
    lines = ["| Claim | The paper | This book | Where |", "|---|---|---|---|"]
    shown: set[tuple[str, str]] = set()
    for claim in claims:
        computed = "not computed on this preset"
        for alternative in claim["show"]:
            keys = [(claim["section"], key) for key in alternative["keys"]]
            if all(key in numbers for key in keys):
                computed = alternative["format"].format(*(numbers[key] for key in keys))
                shown.update(keys)
                break
        chapter = claim["chapter"]
        where = f"[{titles[chapter]}]({chapter}.ipynb)" if chapter in titles else chapter
        lines.append(f"| {claim['claim']} | {claim['paper']} | {computed} | {where} |")
    return "\n".join(lines), shown


def effect_text(row, *, n: bool = True, unit: str = "") -> str:
    """A difference with its interval as prose: ``"+0.400 (95% CI +0.366 to +0.435; n = 1,025)"``.

    ``row`` has ``difference`` (or ``mean_change``), ``ci_low``, ``ci_high`` and, with ``n``, ``n``
    (e.g. a row of :func:`camformer.motifs.motif_hierarchy` or ``insertion_effects``).
    """
    value = row["difference"] if "difference" in row else row["mean_change"]
    count = f"; n = {int(row['n']):,}{unit}" if n else ""
    return f"{value:+.3f} (95% CI {row['ci_low']:+.3f} to {row['ci_high']:+.3f}{count})"
