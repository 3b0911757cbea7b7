"""camformer.records.audit: each comparison and each item's verdict on known answers, and the book's audit file."""

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from camformer.records import audit, report
from camformer.records.audit import Check, Comparison

REPO_ROOT = Path(__file__).resolve().parent.parent


def _records(**values) -> dict:
    return {("s", key): value for key, value in values.items()}


def _check(records=None, preset="quick", how="recomputed", **comparison) -> Check:
    return audit.check(Comparison(what="x", section="s", key="k", **comparison), records or {}, preset, how)


def test_paper_numbers_keep_their_printed_precision():
    assert audit.paper_number("0.958") == (0.958, 0.0005)
    assert audit.paper_number("0.950") == (0.95, 0.0005)  # a quoted trailing zero counts
    assert audit.paper_number(0.95) == (0.95, 0.005)      # an unquoted YAML float loses it
    assert audit.paper_number("16,611,073") == (16611073.0, 0.5)
    assert audit.paper_number(270) == (270.0, 0.5)
    assert audit.paper_number("6.7 million") == (6.7e6, 5e4)
    assert audit.paper_number("−0.25") == (-0.25, 0.005) and audit.paper_number("+3") == (3.0, 0.5)
    for word in ("raises", "optimiser", True, None, "4th", "0.914 ± 0.003"):
        assert audit.paper_number(word) is None


def test_a_number_within_the_papers_rounding_is_reproduced_and_one_outside_differs():
    assert _check(_records(k=0.9584), paper="0.958").status == "match"
    edge = _check(_records(k=0.9575), paper="0.958")  # rounds half up to the paper's number
    assert edge.status == "match" and edge.detail == "equal at the paper's rounding"
    assert _check(_records(k=0.9585), paper="0.958").status == "differs"  # rounds to 0.959
    far = _check(_records(k=0.9574), paper="0.958")
    assert far.status == "differs" and far.book == "0.9574"
    assert math.isclose(far.difference, -0.0006) and far.detail == "by -0.0006 (-0.1%)"
    small = _check(_records(k=0.000484), paper="0", tolerance=0.0005)
    assert small.status == "match" and small.book == "0.00048"
    # A stated tolerance replaces the rounding.
    assert _check(_records(k=0.9574), paper="0.958", tolerance=0.001).status == "match"
    # Counts: whole numbers with separators; millions at the paper's rounding (0.1 million).
    count = _check(_records(k=16611073), paper="16,611,073")
    assert count.status == "match" and count.book == "16,611,073"
    assert _check(_records(k=16611074), paper="16,611,073").status == "differs"
    assert _check(_records(k=6_739_258), paper="6.7 million").status == "match"
    assert _check(_records(k=6_750_000), paper="6.7 million").status == "differs"


def test_at_paper_rounding_against_a_naive_rounding():
    # Rounding done by hand on the decimal digits: keep `decimals` digits, add 5 to the next one.
    for book in (0.9564, 0.95025, 0.9550524, 0.9611294, 0.0025, 0.12345):
        for decimals in (2, 3, 4):
            digits = f"{book:.10f}".replace(".", "")[: 2 + decimals]  # the units digit, decimals + 1 more
            naive = (int(digits) + 5) // 10 / 10 ** decimals
            unit = 0.5 * 10 ** -decimals
            assert audit.at_paper_rounding(book, naive, unit), (book, decimals)
            assert not audit.at_paper_rounding(book, naive + 10 ** -decimals, unit), (book, decimals)
            assert not audit.at_paper_rounding(book, naive - 10 ** -decimals, unit), (book, decimals)


def test_a_recomputed_number_one_rounding_unit_off_differs_even_inside_the_books_interval():
    # The paper's own data recomputed: the interval holds 0.953 to 0.959, yet the paper printed
    # 0.956, so 0.955 (one unit of its rounding off) differs.
    records = _records(k=0.955, k_ci_low=0.953, k_ci_high=0.959)
    for how in ("recomputed", "copied"):
        off = _check(records, paper="0.956", how=how)
        assert off.status == "differs" and off.detail == "by -0.001 (-0.1%)", how
        on = _check(_records(k=0.9564, k_ci_low=0.953, k_ci_high=0.959), paper="0.956", how=how)
        assert on.status == "match", how
    # A number of a model retrained here has its own noise: the paper's inside its interval matches.
    retrained = _check(records, paper="0.956", how="retrained")
    assert retrained.status == "match" and retrained.detail == "the paper's number lies inside the book's interval"


def test_the_books_interval_covering_the_papers_number_is_reproduced_for_a_retrained_number():
    covered = _check(_records(k=0.80, k_ci_low=0.75, k_ci_high=0.90), paper="0.85", how="retrained")
    assert covered.status == "match" and covered.detail == "the paper's number lies inside the book's interval"
    assert covered.book == "0.800 [0.75, 0.9]"
    assert _check(_records(k=0.80, k_ci_low=0.75, k_ci_high=0.84), paper="0.85", how="retrained").status == "differs"
    assert _check(_records(k=0.80, k_ci_low=0.75, k_ci_high=0.90), paper="0.85").status == "differs"


def test_an_undecided_record_is_undecided_never_a_match_nor_a_difference():
    # A chapter that records "undecided" (07's matters_most) against the paper's word.
    for paper in ("optimizer", "undecided"):
        word = _check(_records(k="undecided"), paper=paper)
        assert word.status == "undecided" and word.detail == "s.k is undecided" and word.book == "undecided"
    # A word whose lead the chapter calls undecided (06's top_factor, top_factor_lead_decided false):
    # the paper's word is not a match, another word is not a difference.
    for book in ("optimiser", "size"):
        lead = _check(_records(k=book, k_lead_decided=False), paper="optimiser", decided="k_lead_decided")
        assert lead.status == "undecided"
        assert lead.detail == "s.k_lead_decided is false: the chapter calls its k undecided"
    decided = {"paper": "optimiser", "decided": "k_lead_decided"}
    assert _check(_records(k="optimiser", k_lead_decided=True), **decided).status == "match"
    assert _check(_records(k="size", k_lead_decided=True), **decided).status == "differs"
    gone = _check(_records(k="optimiser"), **decided)
    assert gone.status == "missing" and gone.detail == "s.k_lead_decided not recorded"
    # A number too: a false decided record makes it undecided, whatever its value.
    assert _check(_records(k=0.958, k_decided=False), paper="0.958", decided="k_decided").status == "undecided"
    # And its item: undecided, not "reproduced" nor "differs", however many other numbers agree.
    checks = [_check(_records(k="undecided"), paper="optimizer"), _c("match", "best")]
    assert audit.item_verdict("retrained", checks) == ("undecided", "1 of 2 agree; x: s.k is undecided")
    assert audit.item_verdict("retrained", [_c("undecided", "IME1", "the interval includes zero")]) == (
        "undecided", "0 of 1 agree; IME1: the interval includes zero")
    assert audit.item_verdict("retrained", [*checks, _c("differs", "r", "by +0.01")])[0] == "differs"


def test_a_direction_needs_an_interval_wholly_on_the_papers_side():
    up = _records(k=0.25, k_ci_low=0.10, k_ci_high=0.40)
    assert _check(up, sign="positive", paper="raises").status == "match"
    against = _check(up, sign="negative", paper="lowers")  # the numbers go the other way
    assert against.status == "differs" and against.detail == "the interval lies wholly above zero"
    down = _records(k=-0.3, k_ci_low=-0.5, k_ci_high=-0.1)
    assert _check(down, sign="negative", paper="lowers").status == "match"
    assert _check(down, sign="positive", paper="raises").status == "differs"
    noise = _check(_records(k=0.25, k_ci_low=-0.05, k_ci_high=0.55), sign="positive", paper="raises")
    assert noise.status == "undecided" and noise.detail == "the interval includes zero"
    bare = _check(_records(k=0.25), sign="positive", paper="raises")
    assert bare.status == "undecided" and bare.detail == "no interval recorded"
    with pytest.raises(ValueError, match="s.k is 'up': a sign needs a number"):
        _check(_records(k="up"), sign="positive", paper="raises")


def test_words_missing_records_presets_and_unjudged_numbers():
    assert _check(_records(k="optimiser"), paper="Optimiser").status == "match"
    assert _check(_records(k="True"), paper=True).status == "match"
    other = _check(_records(k="size"), paper="optimiser")
    assert other.status == "differs" and other.detail == "the book says size"
    missing = _check({}, paper="0.9")
    assert missing.status == "missing" and missing.detail == "s.k not recorded" and missing.book == "—"
    why = _check(_records(k_verdict="cannot be computed (too few sequences)", k_decided=False), sign="positive",
                 paper="raises")
    assert why.status == "missing" and why.detail == "no number: cannot be computed (too few sequences)"
    undefined = _check(_records(k=report.Undefined("the map is constant")), paper="0.9")
    assert undefined.status == "missing" and undefined.detail == "undefined: the map is constant"
    elsewhere = _check(_records(k=1000), paper="6.7 million", presets=("paper",))
    assert elsewhere.status == "other preset" and elsewhere.detail == "computed on the paper preset only"
    assert _check(_records(k=6_739_258), "paper", paper="6.7 million", presets=("paper",)).status == "match"
    shown = _check(_records(k=0.5), paper="0.263", judge=False)
    unjudged_missing = _check({}, paper="0.263", judge=False)
    assert unjudged_missing.status == "missing" and not unjudged_missing.judged
    assert shown.status == "not judged" and not shown.judged and shown.book == "0.5000"


def test_a_number_of_the_published_data():
    records = _records(k=0.95645, published=0.95652)
    check = _check(records, paper_key="published", tolerance=0.001)
    assert check.status == "match" and check.paper == "0.9565 (published data)" and check.book == "0.9565"
    assert _check(_records(k=0.95, published=0.96), paper_key="published", tolerance=0.001).status == "differs"
    assert _check(_records(k=0.95), paper_key="published", tolerance=0.001).detail == "s.published not recorded"


def _c(status, what="x", detail="", judged=True, difference=math.nan):
    return Check(what, status, "p", "b", difference, detail, judged)


def test_item_verdicts():
    assert audit.item_verdict("copied", [_c("match"), _c("match")]) == ("reproduced", "2 of 2 agree")
    assert audit.item_verdict("copied", [_c("match"), _c("differs", "r", "by +0.01")]) == ("differs", "r: by +0.01")
    assert audit.item_verdict("recomputed", [_c("match"), _c("missing", "ρ", "s.rho not recorded")]) == (
        "partly reproduced", "1 of 2 agree; ρ: s.rho not recorded")
    assert audit.item_verdict("recomputed", [_c("missing", "IME1", "s.ime1 not recorded")]) == (
        "not reproduced", "IME1: s.ime1 not recorded")
    # A number not judged does not make an item reproduced.
    assert audit.item_verdict("retrained", [_c("not judged", judged=False)]) == (
        "no number to compare", "the paper gives no number to compare for this item")
    assert audit.item_verdict("not possible", [_c("match")], why="not published") == ("not reproduced",
                                                                                        "not published")
    assert audit.item_verdict("not done", [], why="no chapter draws it") == ("not reproduced",
                                                                               "no chapter draws it")


def test_audit_file_errors_name_the_item(tmp_path):
    path = tmp_path / "audit.yml"
    cases = [
        ("- item: F1\n  shows: s\n  chapter: c\n", r"item 1 \('F1'\): has no how"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: guessed\n", r"how is 'guessed'; choose from copied"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: not possible\n", r"how is 'not possible': say why"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: copied\n  colour: red\n", r"unknown field colour"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: copied\n  compare:\n    - what: w\n      section: s\n"
         "      key: k\n", r"item 1 \('F1'\), comparison 1: give exactly one of paper and paper_key"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: copied\n  compare:\n    - what: w\n      section: s\n"
         "      key: k\n      paper_key: p\n", r"a paper_key needs a tolerance"),
        ("- item: F1\n  shows: s\n  chapter: c\n  how: copied\n  compare:\n    - what: w\n      section: s\n"
         "      key: k\n      paper: up\n      sign: upwards\n", r"sign is 'upwards'"),
        ("- item: Figure 1\n  shows: s\n  chapter: c\n  how: copied\n"
         "- item: Figure 1!\n  shows: s\n  chapter: c\n  how: copied\n", r"items named alike \(record keys figure_1\)"),
    ]
    for text, message in cases:
        path.write_text(text)
        with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + message):
            audit.load_audit(path)


def test_the_table_summary_and_records_of_an_audit(tmp_path):
    path = tmp_path / "audit.yml"
    path.write_text("""
- item: Figure 5
  shows: native promoters
  chapter: 08_native
  how: recomputed
  compare:
    - what: r
      section: native
      key: complex_r
      paper: "0.956"
- item: Figure 7
  shows: a t-SNE map
  chapter: 10_embedding
  how: not possible
  why: the coordinates are not published
  model: {section: embedding, key: model}
""")
    records = pd.DataFrame([{"section": "native", "key": "complex_r", "value": 0.9564},
                            {"section": "embedding", "key": "model", "value": "Camformer Original"}])
    table = audit.audit(audit.load_audit(path), records, "quick")
    assert table["verdict"].tolist() == ["reproduced", "not reproduced"]
    titles = {"08_native": "Native promoters"}
    # One short line per item, to scan: item, chapter (its number, linked), how, verdict.
    assert audit.audit_markdown(table, titles).splitlines() == [
        "| Item | Chapter | How | Verdict |", "|---|---|---|---|",
        "| Figure 5 | [08](08_native.ipynb) | recomputed | **reproduced** |",
        "| Figure 7 | 10_embedding | not\u00a0possible | **not\u00a0reproduced** |"]
    # The numbers and reasons, each item in a collapsible block whose summary line gives the verdict.
    details = audit.audit_details(table, titles).split("\n\n<details>")
    assert len(details) == 2
    assert details[0].splitlines() == [
        "<details><summary><b>Figure 5</b>: reproduced (1 of 1 agree)</summary>", "",
        "Native promoters. Chapter: [Native promoters](08_native.ipynb). How: recomputed from published data "
        "or predictions.", "",
        "| Number | The paper | This book | Status |", "|---|---|---|---|",
        "| r | 0.956 | 0.9564 | match: equal at the paper's rounding |", "", "</details>"]
    assert details[1].splitlines() == [
        "<summary><b>Figure 7</b>: not reproduced (the coordinates are not published)</summary>", "",
        "A t-SNE map. Chapter: 10_embedding. How: not possible here: the coordinates are not published; "
        "model explained: Camformer Original.", "", "</details>"]
    assert audit.audit_summary(table) == ("Of the 2 items of the paper, 1 are reproduced, 0 partly reproduced, "
                                          "0 undecided, 0 differ, 1 are not reproduced and 0 give no number to "
                                          "compare.")
    assert audit.audit_facts(table) == {"figure_5": "reproduced", "figure_7": "not reproduced", "n_reproduced": 1,
                                        "n_partly_reproduced": 0, "n_undecided": 0, "n_differs": 0,
                                        "n_not_reproduced": 1, "n_no_number_to_compare": 0}
    assert audit.unrecorded(table) == []
    assert audit.unrecorded_text(table) == ("Every number the audit compares was recorded by its chapter, or its "
                                            "item says why not.")
    # A number no chapter recorded is listed; one of another preset, or undefined with its reason, is not.
    records.loc[0, "key"] = "complex_rho"
    unrecorded = audit.audit(audit.load_audit(path), records, "quick")
    assert audit.unrecorded(unrecorded) == ["Figure 5: r (native.complex_r not recorded)"]
    assert audit.unrecorded_text(unrecorded) == ("1 number the audit compares was not recorded: Figure 5: r "
                                                 "(native.complex_r not recorded).")
    assert audit.unrecorded_text(pd.concat([unrecorded, unrecorded])).startswith(
        "2 numbers the audit compares were not recorded: Figure 5: r (native.complex_r not recorded); Figure 5")
    records.loc[0, "key"] = "complex_r"
    # The numbers going the other way give the other verdict.
    records.loc[0, "value"] = 0.9400
    table = audit.audit(audit.load_audit(path), records, "quick")
    assert table["verdict"].iloc[0] == "differs" and table["explanation"].iloc[0] == "r: by -0.016 (-1.7%)"


def test_the_books_audit_lists_every_item_of_the_paper():
    items = audit.load_audit(REPO_ROOT / "book" / "audit.yml")
    names = [item.item for item in items]
    figures = {f"Figure {n}" for n in range(1, 9)} | {f"Figure S{n}" for n in range(2, 13)}
    # Every figure has at least one item (an item may be one panel, "Figure 8 (measured)" or "Figure 8c").
    covered = {re.match(r"(Figure S?\d+)", name).group(1) for name in names if name.startswith("Figure")}
    assert covered == figures
    # The abstract's numbers: r², ρ, the place, the training size, the grid, and the motif hierarchy.
    abstract = " ".join(name for name in names if name.startswith("Abstract"))
    # ... which are the introduction's table of the paper's claims (the same items, in order).
    judged = audit.audit(items, pd.DataFrame(columns=["section", "key", "value"]), "quick")
    claims = audit.abstract_items(judged)["item"].tolist()
    assert claims == [name for name in names if name.startswith("Abstract:")] and len(claims) == 9
    for number in ("0.914", "0.003", "0.962", "0.002", "4th", "6.7 million", "270", "IME1", "UME6"):
        assert number in abstract, number
    chapters = {path.stem for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    assert {item.chapter for item in items} <= chapters
    # Every record section the audit reads is one a chapter writes (a misspelt section would never match).
    sections = {c.section for item in items for c in item.compare} | {item.model[0] for item in items if item.model}
    assert sections <= set(report.record_sections(REPO_ROOT / "notebooks"))


def test_long_record_names_can_break_in_the_table():
    assert audit._cell("x: motifs.ime1_effect_families not recorded | [A long chapter title](13_motifs.ipynb)") == (
        "x: motifs.<wbr>ime1_<wbr>effect_<wbr>families not recorded \\| [A long chapter title](13_motifs.ipynb)")
    assert audit._cell("0.9139 short_name") == "0.9139 short_name"
