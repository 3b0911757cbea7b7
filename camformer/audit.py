"""The reproduction audit: every item of the paper, how the book reproduces it, and a verdict.

The items live in a YAML file (``book/audit.yml``), one entry per figure of the paper and per
number of its abstract::

    - item: Figure 5
      shows: measured against predicted expression of native yeast promoters
      chapter: 08_native
      how: recomputed          # copied | recomputed | retrained | not possible | not done
      why: ...                 # required for "not possible" and "not done"
      note: ...                # optional
      model: {section: gradcam, key: model}   # optional: the record naming the model explained
      compare:
        - what: r, complex medium
          section: native
          key: complex_r
          paper: "0.956"

A comparison is one of:

- a **number**: ``paper`` as printed (quote it to keep trailing zeros, ``"0.950"``; ``"16,611,073"``
  and ``"6.7 million"`` are read as numbers). It matches when the book's number lies within
  ``tolerance`` of it, by default half a unit of the paper's last printed digit (its rounding), or
  when the paper's number lies inside the book's recorded interval (``key_ci_low``/``key_ci_high``);
- a number of the paper's **published data** computed by the book: ``paper_key`` names the record (in
  the same section) that holds it; ``tolerance`` is then required;
- a **direction**: ``sign: positive`` or ``negative`` with ``paper`` the paper's words ("raises"). It
  matches only when the book's interval (``key_ci_low``/``key_ci_high``) lies wholly on that side of
  zero; an interval across zero, or no interval, is undecided;
- a **word** (a verdict, a best level, ``"True"``): equal ignoring case.

``judge: false`` shows a number beside the paper's without judging it (a different model or
scope: ``note`` says why); ``presets: [paper]`` limits a comparison to the presets that compute it.

The verdict of an item (:func:`item_verdict`): *not reproduced* where the book cannot or does not
reproduce it (``how``), *differs* (by how much) where a judged comparison disagrees, *reproduced*
where all agree, *partly reproduced* where some agree and the others could not be judged, *not
reproduced* where none could be judged, and *no number to compare* where the paper gives none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .report import Undefined

HOW = {
    "copied": "copied from published data",
    "recomputed": "recomputed from published data or predictions",
    "retrained": "retrained here",
    "not possible": "not possible here",
    "not done": "not drawn by the book",
}
VERDICTS = ("reproduced", "partly reproduced", "differs", "not reproduced", "no number to compare")
STATUSES = ("match", "differs", "undecided", "missing", "other preset", "not judged")
_ITEM_FIELDS = {"item", "shows", "chapter", "how", "why", "note", "model", "compare"}
_COMPARE_FIELDS = {"what", "section", "key", "paper", "paper_key", "sign", "tolerance", "judge", "presets", "note"}


@dataclass(frozen=True)
class Comparison:
    """One number or word of an item: the paper's, and the record holding the book's."""

    what: str
    section: str
    key: str
    paper: object = None
    paper_key: str | None = None
    sign: str | None = None
    tolerance: float | None = None
    judge: bool = True
    presets: tuple[str, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class Item:
    """One item of the paper (a figure, a number of the abstract) and how the book reproduces it."""

    item: str
    shows: str
    chapter: str
    how: str
    why: str = ""
    note: str = ""
    model: tuple[str, str] | None = None
    compare: tuple[Comparison, ...] = ()

    @property
    def slug(self) -> str:
        """The item as a record key: ``"Figure S4 (retrained)"`` -> ``"figure_s4_retrained"``,
        ``"Abstract: ρ = 0.962"`` -> ``"abstract_rho_0_962"``."""
        text = self.item.lower().replace("ρ", "rho").replace("²", "2")
        return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


@dataclass(frozen=True)
class Check:
    """The outcome of one comparison: ``status`` (one of :data:`STATUSES`), the two sides as text,
    the book's number minus the paper's (NaN where not numbers) and a short explanation."""

    what: str
    status: str
    paper: str
    book: str
    difference: float = math.nan
    detail: str = ""
    judged: bool = True


def paper_number(value) -> tuple[float, float] | None:
    """The paper's number and its rounding (half a unit of the last printed digit), or None for a word.

    Examples
    --------
    >>> paper_number("0.950"), paper_number("16,611,073"), paper_number("6.7 million")
    ((0.95, 0.0005), (16611073.0, 0.5), (6700000.0, 50000.0))
    >>> paper_number("raises") is None and paper_number(True) is None
    True
    """
    if isinstance(value, bool) or value is None:
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    match = re.fullmatch(r"\s*([-+\u2212]?)(\d[\d,]*(?:\.(\d+))?)\s*(million)?\s*", text)
    if not match:
        return None
    sign, digits, decimals, million = match.groups()
    number = float(digits.replace(",", "")) * (-1.0 if sign in ("-", "\u2212") else 1.0)
    rounding = 0.5 * 10.0 ** -len(decimals or "")
    scale = 1e6 if million else 1.0
    return number * scale, rounding * scale


def _fail(path, where: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {where}: {problem}")


def load_audit(path: str | Path) -> list[Item]:
    """The items of an audit file (``book/audit.yml``).

    Raises
    ------
    ValueError
        Naming the file, the item (and comparison) and the problem: a missing or unknown field, an
        unknown ``how``, a ``not possible`` item without ``why``, a comparison without a paper side.
    """
    import yaml

    entries = yaml.safe_load(Path(path).read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of items")
    items = []
    for i, entry in enumerate(entries, start=1):
        where = f"item {i} ({entry.get('item', '?')!r})" if isinstance(entry, dict) else f"item {i}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a mapping")
        missing = [k for k in ("item", "shows", "chapter", "how") if k not in entry]
        if missing:
            raise _fail(path, where, f"has no {', '.join(missing)}")
        unknown = sorted(set(entry) - _ITEM_FIELDS)
        if unknown:
            raise _fail(path, where, f"unknown field {', '.join(unknown)}")
        if entry["how"] not in HOW:
            raise _fail(path, where, f"how is {entry['how']!r}; choose from {', '.join(HOW)}")
        if entry["how"] in ("not possible", "not done") and not entry.get("why"):
            raise _fail(path, where, f"how is {entry['how']!r}: say why")
        compare = []
        for j, c in enumerate(entry.get("compare") or [], start=1):
            cwhere = f"{where}, comparison {j}"
            missing = [k for k in ("what", "section", "key") if k not in c]
            if missing:
                raise _fail(path, cwhere, f"has no {', '.join(missing)}")
            unknown = sorted(set(c) - _COMPARE_FIELDS)
            if unknown:
                raise _fail(path, cwhere, f"unknown field {', '.join(unknown)}")
            if ("paper" in c) == ("paper_key" in c):
                raise _fail(path, cwhere, "give exactly one of paper and paper_key")
            if "paper_key" in c and "tolerance" not in c:
                raise _fail(path, cwhere, "a paper_key needs a tolerance")
            if c.get("sign") not in (None, "positive", "negative"):
                raise _fail(path, cwhere, f"sign is {c['sign']!r}; choose positive or negative")
            presets = c.get("presets")
            compare.append(Comparison(
                what=c["what"], section=c["section"], key=c["key"], paper=c.get("paper"),
                paper_key=c.get("paper_key"), sign=c.get("sign"),
                tolerance=None if c.get("tolerance") is None else float(c["tolerance"]),
                judge=bool(c.get("judge", True)), presets=tuple(presets) if presets else None,
                note=c.get("note", ""),
            ))
        model = entry.get("model")
        items.append(Item(
            item=entry["item"], shows=entry["shows"], chapter=entry["chapter"], how=entry["how"],
            why=entry.get("why", ""), note=entry.get("note", ""),
            model=(model["section"], model["key"]) if model else None, compare=tuple(compare),
        ))
    slugs = [item.slug for item in items]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ValueError(f"{path}: items named alike (record keys {', '.join(duplicates)}); name them apart")
    return items


def _fmt(value: float, decimals: int) -> str:
    if float(value).is_integer() and abs(value) >= 100:
        return f"{value:,.0f}"
    if value and abs(value) < 10.0 ** (2 - decimals):  # few digits left: show two significant ones
        return f"{value:.2g}"
    return f"{value:.{decimals}f}"


def _decimals(rounding: float) -> int:
    return max(0, -int(math.floor(math.log10(2 * rounding)))) + 1 if rounding < 0.5 else 0


def check(comparison: Comparison, records: dict[tuple[str, str], object], preset: str) -> Check:
    """Judge one comparison against the records (``(section, key) -> value``) of a build."""
    c = comparison
    values = {key: value for (section, key), value in records.items() if section == c.section}
    parsed = paper_number(c.paper) if c.paper_key is None else None
    paper_text = str(c.paper) if c.paper is not None else f"{c.paper_key} (published data)"
    if c.presets and preset not in c.presets:
        return Check(c.what, "other preset", paper_text, "—",
                     detail=f"computed on the {' and '.join(c.presets)} preset only", judged=c.judge)
    if c.key not in values:
        return Check(c.what, "missing", paper_text, "—", detail=f"{c.section}.{c.key} not recorded", judged=c.judge)
    book = values[c.key]
    if isinstance(book, Undefined):
        return Check(c.what, "missing", paper_text, str(book), detail=f"undefined: {book.reason}", judged=c.judge)
    low, high = values.get(f"{c.key}_ci_low"), values.get(f"{c.key}_ci_high")
    interval = (low, high) if isinstance(low, float) and isinstance(high, float) else None
    interval_text = f" [{low:.3g}, {high:.3g}]" if interval else ""

    if c.sign is not None:
        if not isinstance(book, (int, float)) or isinstance(book, bool):
            raise ValueError(f"{c.section}.{c.key} is {book!r}: a sign needs a number")
        book_text = f"{book:+.3g}{interval_text}"
        side = None if interval is None else "positive" if low > 0 else "negative" if high < 0 else None
        if interval is None:
            status, detail = "undecided", "no interval recorded"
        elif side is None:
            status, detail = "undecided", "the interval includes zero"
        elif side == c.sign:
            status, detail = "match", f"the interval lies wholly {'above' if side == 'positive' else 'below'} zero"
        else:
            status, detail = "differs", f"the interval lies wholly {'above' if side == 'positive' else 'below'} zero"
        return Check(c.what, status if c.judge else "not judged", paper_text, book_text, detail=detail,
                     judged=c.judge)

    if c.paper_key is not None:
        if c.paper_key not in values:
            return Check(c.what, "missing", paper_text, "—", detail=f"{c.section}.{c.paper_key} not recorded",
                         judged=c.judge)
        parsed = (float(values[c.paper_key]), c.tolerance)
        paper_text = f"{parsed[0]:.4f} (published data)"

    if parsed is None:  # a word
        same = str(book).strip().lower() == str(c.paper).strip().lower()
        status = ("match" if same else "differs") if c.judge else "not judged"
        return Check(c.what, status, paper_text, str(book), detail="" if same else f"the book says {book}",
                     judged=c.judge)

    if not isinstance(book, (int, float)) or isinstance(book, bool):
        raise ValueError(f"{c.section}.{c.key} is {book!r}: the paper's {c.paper!r} needs a number")
    number, rounding = parsed
    tolerance = c.tolerance if c.tolerance is not None else rounding
    difference = float(book) - number
    decimals = _decimals(min(rounding, tolerance)) if c.paper_key is None else 4
    book_text = _fmt(float(book), decimals) + interval_text
    if abs(difference) <= tolerance + 1e-12 * max(1.0, abs(number)):
        status, detail = "match", f"within {tolerance:.2g}"
    elif interval is not None and low <= number <= high:
        status, detail = "match", "the paper's number lies inside the book's interval"
    else:
        status, detail = "differs", f"by {difference:+.3g}" + (f" ({difference / number:+.1%})" if number else "")
    return Check(c.what, status if c.judge else "not judged", paper_text, book_text, difference, detail,
                 judged=c.judge)


def item_verdict(how: str, checks: list[Check], why: str = "") -> tuple[str, str]:
    """The verdict of an item (one of :data:`VERDICTS`) and the words that explain it.

    Parameters
    ----------
    how : str
        How the book reproduces the item (a key of :data:`HOW`).
    checks : list of Check
        Its comparisons, from :func:`check`.
    why : str
        Why the book cannot or does not reproduce it (for ``not possible`` and ``not done``).
    """
    if how in ("not possible", "not done"):
        return "not reproduced", why
    judged = [c for c in checks if c.judged]
    if not judged:
        return "no number to compare", "the paper gives no number to compare for this item"
    differing = [c for c in judged if c.status == "differs"]
    if differing:
        return "differs", "; ".join(f"{c.what}: {c.detail}" for c in differing)
    matched = [c for c in judged if c.status == "match"]
    open_ = [f"{c.what}: {c.detail}" for c in judged if c.status != "match"]
    if matched and not open_:
        return "reproduced", f"{len(matched)} of {len(judged)} agree"
    if matched:
        return "partly reproduced", f"{len(matched)} of {len(judged)} agree; " + "; ".join(open_)
    return "not reproduced", "; ".join(open_)


def audit(items: list[Item], records: pd.DataFrame, preset: str) -> pd.DataFrame:
    """Judge every item against a build's records (:func:`camformer.report.load_records`).

    Returns
    -------
    DataFrame
        One row per item: ``item``, ``slug``, ``shows``, ``chapter``, ``how``, ``why``, ``note``,
        ``model`` (the explained model's record, or ""), ``checks`` (list of :class:`Check`),
        ``verdict`` and ``explanation``.
    """
    values = {(row.section, row.key): row.value for row in records.itertuples()}
    rows = []
    for item in items:
        checks = [check(c, values, preset) for c in item.compare]
        verdict, explanation = item_verdict(item.how, checks, item.why)
        model = str(values.get(item.model, "")) if item.model else ""
        rows.append({"item": item.item, "slug": item.slug, "shows": item.shows, "chapter": item.chapter,
                     "how": item.how, "why": item.why, "note": item.note, "model": model, "checks": checks,
                     "verdict": verdict, "explanation": explanation})
    return pd.DataFrame(rows)


def audit_facts(table: pd.DataFrame) -> dict[str, str | int]:
    """Records of an audit (:func:`audit`): each item's verdict words, and the count of each verdict."""
    facts: dict[str, str | int] = dict(zip(table["slug"], table["verdict"]))
    for verdict in VERDICTS:
        facts[f"n_{verdict.replace(' ', '_')}"] = int((table["verdict"] == verdict).sum())
    return facts


def _cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped, and long names (``motifs.ime1_effect_families``)
    given break opportunities (``<wbr>`` after ``.`` and ``_``), so that the table fits the page."""
    words = str(text).replace("|", "\\|").replace("\n", " ").split(" ")
    return " ".join(re.sub(r"([._])(?=\w)", r"\1<wbr>", w) if len(w) > 20 and "](" not in w else w for w in words)


def audit_markdown(table: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """The audit as one Markdown table of four columns, narrow enough for the book's page: the item
    (with its chapter and what it shows), how the book reproduces it, each of its numbers as
    "the paper → this book", and the verdict with its explanation."""
    titles = titles or {}
    lines = ["| Item | How | The paper → this book | Verdict |", "|---|---|---|---|"]
    for row in table.itertuples():
        chapter = f"[{titles[row.chapter]}]({row.chapter}.ipynb)" if row.chapter in titles else row.chapter
        item = f"**{row.item}** ({chapter}): {row.shows}"
        how = HOW[row.how] + ": " * bool(row.why or row.note) + "; ".join(x for x in (row.why, row.note) if x)
        if row.model:
            how += f"; model: {row.model}"
        numbers = "<br>".join(f"{c.what}: {c.paper} → {c.book}" + ("" if c.judged else " (not judged)")
                              for c in row.checks) or "—"
        verdict = f"**{row.verdict}**" + (f": {row.explanation}" if row.explanation else "")
        lines.append("| " + " | ".join(_cell(x) for x in (item, how, numbers, verdict)) + " |")
    return "\n".join(lines)


def verdict_counts(table: pd.DataFrame) -> pd.Series:
    """How many items got each verdict, in the order of :data:`VERDICTS` (zeros included)."""
    return table["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)


def audit_summary(table: pd.DataFrame) -> str:
    """One sentence counting the verdicts of an audit (:func:`audit`), e.g. "Of the 31 items of
    the paper, 9 are reproduced, 2 partly reproduced, 0 differ, 17 are not reproduced and 3 give
    no number to compare." (items whose verdict nobody got are still counted, as 0)."""
    counts = verdict_counts(table)
    words = {"reproduced": "are reproduced", "partly reproduced": "partly reproduced",
             "differs": "differ", "not reproduced": "are not reproduced",
             "no number to compare": "give no number to compare"}
    parts = [f"{counts[v]} {words[v]}" for v in VERDICTS]
    return f"Of the {len(table)} items of the paper, " + ", ".join(parts[:-1]) + f" and {parts[-1]}."
