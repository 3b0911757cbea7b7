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

The item's ``how`` says which rule judges its numbers:

- ``copied`` and ``recomputed``: the book's number comes from the paper's own published data or
  predictions, so it must equal the paper's number at the paper's rounding (``0.9584`` matches
  ``"0.958"``; ``0.959``, one unit of its rounding off, differs), whatever interval the book recorded;
- ``retrained``: the book's number comes from a model trained or explained here, with its own
  noise, so it also matches when the paper's number lies inside the book's recorded interval
  (``key_ci_low``/``key_ci_high``).

A comparison is one of:

- a **number**: ``paper`` as printed (quote it to keep trailing zeros, ``"0.950"``; ``"16,611,073"``
  and ``"6.7 million"`` are read as numbers), judged by the item's rule above; a ``tolerance``
  replaces the paper's rounding;
- a number of the paper's **published data** computed by the book: ``paper_key`` names the record (in
  the same section) that holds it; ``tolerance`` is then required;
- a **direction**: ``sign: positive`` or ``negative`` with ``paper`` the paper's words ("raises"). It
  matches only when the book's interval (``key_ci_low``/``key_ci_high``) lies wholly on that side of
  zero; an interval across zero, or no interval, is undecided;
- a **word** (a verdict, a best level, ``"True"``): equal ignoring case.

A number its chapter could not compute, recording only why (``key_verdict`` without ``key``, as
"cannot be computed (too few sequences)"), is missing with that reason.

A result its chapter calls undecided is *undecided*, never a match and never a difference: a
recorded ``"undecided"``, and a word or number whose ``decided`` record (a key of the same section,
``key_decided`` of :meth:`camformer.stats.verdicts.Verdict.facts`) is false.

``judge: false`` shows a number beside the paper's without judging it (a different model or
scope: ``note`` says why); ``presets: [paper]`` limits a comparison to the presets that compute it
(the reason this build shows no number for it).

The verdict of an item (:func:`item_verdict`): *not reproduced* where the book cannot or does not
reproduce it (``how``), *differs* (by how much) where a judged comparison disagrees, *undecided*
where one is undecided and none disagrees, *reproduced* where all agree, *partly reproduced* where
some agree and the others were not computed, *not reproduced* where none was computed, and *no
number to compare* where the paper gives none.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
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
VERDICTS = ("reproduced", "partly reproduced", "undecided", "differs", "not reproduced", "no number to compare")
#: How an item's numbers come: from the paper's own data (judged at the paper's rounding), or
#: retrained here (the paper's number inside the book's interval also matches).
FROM_PAPER_DATA = ("copied", "recomputed")
STATUSES = ("match", "differs", "undecided", "missing", "other preset", "not judged")
_ITEM_FIELDS = {"item", "shows", "chapter", "how", "why", "note", "model", "compare"}
_COMPARE_FIELDS = {"what", "section", "key", "paper", "paper_key", "sign", "tolerance", "judge", "presets", "note",
                   "decided"}
#: The word a chapter records for a result in the noise.
UNDECIDED = "undecided"


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
    decided: str | None = None


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
                note=c.get("note", ""), decided=c.get("decided"),
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


def at_paper_rounding(book: float, paper: float, rounding: float) -> bool:
    """Whether ``book`` rounded as the paper printed ``paper`` (to a unit of ``2 * rounding``, halves
    up, :func:`paper_number`) equals it.

    Examples
    --------
    >>> at_paper_rounding(0.9584, 0.958, 0.0005), at_paper_rounding(0.9575, 0.958, 0.0005)
    (True, True)
    >>> at_paper_rounding(0.9585, 0.958, 0.0005), at_paper_rounding(0.959, 0.958, 0.0005)
    (False, False)
    """
    unit = Decimal(repr(2 * rounding))
    rounded = (Decimal(repr(float(book))) / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return rounded == (Decimal(repr(float(paper))) / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _undecided(c: Comparison, values: dict, book) -> str | None:
    """Why the chapter's result is undecided (a recorded "undecided", or a false ``decided``
    record), or None."""
    if isinstance(book, str) and book.strip().lower() == UNDECIDED:
        return f"{c.section}.{c.key} is undecided"
    if c.decided is not None and values.get(c.decided) is False:
        return f"{c.section}.{c.decided} is false: the chapter calls its {c.key} undecided"
    return None


def check(comparison: Comparison, records: dict[tuple[str, str], object], preset: str,
          how: str = "recomputed") -> Check:
    """Judge one comparison against the records (``(section, key) -> value``) of a build.

    ``how`` is the item's (a key of :data:`HOW`): a number of a ``copied`` or ``recomputed`` item
    matches only at the paper's rounding (:func:`at_paper_rounding`), one of a ``retrained`` item
    also when the paper's number lies inside the book's interval.
    """
    c = comparison
    values = {key: value for (section, key), value in records.items() if section == c.section}
    parsed = paper_number(c.paper) if c.paper_key is None else None
    paper_text = str(c.paper) if c.paper is not None else f"{c.paper_key} (published data)"
    if c.presets and preset not in c.presets:
        return Check(c.what, "other preset", paper_text, "—",
                     detail=f"computed on the {' and '.join(c.presets)} preset only", judged=c.judge)
    if c.key not in values and f"{c.key}_verdict" in values:  # its chapter says why there is no number
        return Check(c.what, "missing", paper_text, "—", detail=f"no number: {values[f'{c.key}_verdict']}",
                     judged=c.judge)
    for key in (c.key, c.decided):
        if key is not None and key not in values:
            return Check(c.what, "missing", paper_text, "—", detail=f"{c.section}.{key} not recorded",
                         judged=c.judge)
    book = values[c.key]
    if isinstance(book, Undefined):
        return Check(c.what, "missing", paper_text, str(book), detail=f"undefined: {book.reason}", judged=c.judge)
    low, high = values.get(f"{c.key}_ci_low"), values.get(f"{c.key}_ci_high")
    interval = (low, high) if isinstance(low, float) and isinstance(high, float) else None
    interval_text = f" [{low:.3g}, {high:.3g}]" if interval else ""
    undecided = _undecided(c, values, book)
    if undecided:
        return Check(c.what, UNDECIDED if c.judge else "not judged", paper_text, str(book), detail=undecided,
                     judged=c.judge)

    if c.sign is not None:
        if not isinstance(book, (int, float)) or isinstance(book, bool):
            raise ValueError(f"{c.section}.{c.key} is {book!r}: a sign needs a number")
        book_text = f"{book:+.3g}{interval_text}"
        side = None if interval is None else "positive" if low > 0 else "negative" if high < 0 else None
        if interval is None:
            status, detail = UNDECIDED, "no interval recorded"
        elif side is None:
            status, detail = UNDECIDED, "the interval includes zero"
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
    if c.tolerance is None and at_paper_rounding(book, number, rounding):
        status, detail = "match", "equal at the paper's rounding"
    elif c.tolerance is not None and abs(difference) <= tolerance + 1e-12 * max(1.0, abs(number)):
        status, detail = "match", f"within {tolerance:.2g}"
    elif how not in FROM_PAPER_DATA and interval is not None and low <= number <= high:
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
    if any(c.status == UNDECIDED for c in judged):
        return UNDECIDED, f"{len(matched)} of {len(judged)} agree; " + "; ".join(open_)
    if matched and not open_:
        return "reproduced", f"{len(matched)} of {len(judged)} agree"
    if matched:
        return "partly reproduced", f"{len(matched)} of {len(judged)} agree; " + "; ".join(open_)
    return "not reproduced", "; ".join(open_)


def audit(items: list[Item], records: pd.DataFrame, preset: str) -> pd.DataFrame:
    """Judge every item against a build's records (:func:`camformer.records.report.load_records`).

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
        checks = [check(c, values, preset, item.how) for c in item.compare]
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


#: The short words of the summary table's "How" column (:func:`audit_markdown`).
HOW_SHORT = {"copied": "copied", "recomputed": "recomputed", "retrained": "retrained",
             "not possible": "not possible", "not done": "not drawn"}


def _chapter_link(chapter: str, titles: dict[str, str], text: str | None = None) -> str:
    return f"[{text or titles[chapter]}]({chapter}.ipynb)" if chapter in titles else chapter


def audit_markdown(table: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """The audit as a Markdown table of one short line per item, to scan down the book's narrow
    column: the item, its chapter (its number, linked), how the book reproduces it and the verdict.
    The numbers and the reasons are in :func:`audit_details`; the words of "How" and "Verdict" do
    not break (no-break spaces), so only an item's name may wrap."""
    titles = titles or {}
    lines = ["| Item | Chapter | How | Verdict |", "|---|---|---|---|"]
    for row in table.itertuples():
        chapter = _chapter_link(row.chapter, titles, row.chapter.split("_")[0])
        how, verdict = (w.replace(" ", "\u00a0") for w in (HOW_SHORT[row.how], row.verdict))  # one line each
        lines.append(f"| {_cell(row.item)} | {chapter} | {how} | **{verdict}** |")
    return "\n".join(lines)


def audit_details(table: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """Each item of the audit as a collapsible block (HTML ``<details>``): its verdict and why in
    the one-line summary; inside, what it shows, its chapter, how the book reproduces it, and a
    table of its numbers, the paper's beside this book's, with each one's status."""
    titles = titles or {}
    blocks = []
    for row in table.itertuples():
        summary = f"<b>{html.escape(row.item)}</b>: {html.escape(row.verdict)}"
        if row.explanation:
            summary += f" ({html.escape(row.explanation)})"
        how = HOW[row.how] + ": " * bool(row.why or row.note) + "; ".join(x for x in (row.why, row.note) if x)
        if row.model:
            how += f"; model explained: {row.model}"
        body = [f"{row.shows[:1].upper()}{row.shows[1:]}. Chapter: {_chapter_link(row.chapter, titles)}. "
                f"How: {how}."]
        if row.checks:
            body += ["", "| Number | The paper | This book | Status |", "|---|---|---|---|"]
            body += ["| " + " | ".join(_cell(x) for x in (
                c.what, c.paper, c.book, c.status + (f": {c.detail}" if c.detail else ""))) + " |"
                for c in row.checks]
        blocks.append("\n".join([f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]))
    return "\n\n".join(blocks)


def unrecorded(table: pd.DataFrame) -> list[str]:
    """The numbers of an audit (:func:`audit`) that no chapter recorded, as ``"item: what
    (section.key not recorded)"``, judged or not. A comparison limited to other presets (its
    ``presets``, the reason this build cannot compute it), an undefined statistic (recorded with
    its reason, :class:`camformer.records.report.Undefined`) and a number whose chapter recorded only why
    it could not compute it (``key_verdict``) are not listed."""
    return [f"{row.item}: {c.what} ({c.detail})" for row in table.itertuples() for c in row.checks
            if c.status == "missing" and c.detail.endswith(" not recorded")]


def unrecorded_text(table: pd.DataFrame) -> str:
    """One sentence on the numbers of an audit that no chapter recorded (:func:`unrecorded`): that
    there are none, or which they are."""
    missing = unrecorded(table)
    if not missing:
        return "Every number the audit compares was recorded by its chapter, or its item says why not."
    many = len(missing) > 1
    return (f"{len(missing)} number{'s' * many} the audit compares {'were' if many else 'was'} not recorded: "
            + "; ".join(missing) + ".")


#: How the items of the paper's abstract are named (``book/audit.yml``): ``"Abstract: 4th place"``.
ABSTRACT_PREFIX = "Abstract:"


def abstract_items(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an audit (:func:`audit`) that judge the paper's abstract, in order: the
    introduction's table of the paper's claims."""
    return table[table["item"].str.startswith(ABSTRACT_PREFIX)]


def verdict_counts(table: pd.DataFrame) -> pd.Series:
    """How many items got each verdict, in the order of :data:`VERDICTS` (zeros included)."""
    return table["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)


def audit_summary(table: pd.DataFrame) -> str:
    """One sentence counting the verdicts of an audit (:func:`audit`), e.g. "Of the 31 items of
    the paper, 9 are reproduced, 2 partly reproduced, 1 undecided, 0 differ, 16 are not reproduced
    and 3 give no number to compare." (items whose verdict nobody got are still counted, as 0)."""
    counts = verdict_counts(table)
    words = {"reproduced": "are reproduced", "partly reproduced": "partly reproduced",
             "undecided": "undecided", "differs": "differ", "not reproduced": "are not reproduced",
             "no number to compare": "give no number to compare"}
    parts = [f"{counts[v]} {words[v]}" for v in VERDICTS]
    return f"Of the {len(table)} items of the paper, " + ", ".join(parts[:-1]) + f" and {parts[-1]}."
