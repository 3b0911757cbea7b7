"""camformer.records.agreement: two builds' records compared by the stated rules, on known answers."""

import pandas as pd
import pytest

from camformer.records import report
from camformer.records.agreement import compare_records, compare_results, is_run_only


def _records(**sections) -> pd.DataFrame:
    rows = [{"section": section, "key": key, "value": value}
            for section, values in sections.items() for key, value in values.items()]
    return pd.DataFrame(rows, columns=["section", "key", "value"])


def _row(agreement, key):
    return agreement.table.set_index("key").loc[key]


def test_equal_conclusions_and_covering_intervals_agree():
    a = _records(grid={"best": "AdamW", "rank": 4, "decided": True, "effect": 0.20, "effect_ci_low": 0.10,
                       "effect_ci_high": 0.30, "share": 0.41, "seconds": 12.0, "scan_seconds": 3.0})
    b = _records(grid={"best": "AdamW", "rank": 4, "decided": True, "effect": 0.25, "effect_ci_low": 0.12,
                       "effect_ci_high": 0.33, "share": 0.47, "seconds": 30.0, "scan_seconds": 9.0})
    agreement = compare_records(a, b)
    assert agreement.ok and agreement.disagreements.empty
    table = agreement.table.set_index("key")
    # The interval bounds are judged with their number, not listed on their own.
    assert set(table.index) == {"best", "rank", "decided", "effect", "share", "seconds", "scan_seconds"}
    assert table.loc[["best", "rank", "decided"], "kind"].tolist() == ["conclusion"] * 3
    assert table.loc["effect", "kind"] == "interval" and table.loc["effect", "agrees"]
    # A number without an interval is listed with its difference, but not judged.
    assert table.loc["share", "kind"] == "number" and not table.loc["share", "judged"]
    assert table.loc["share", "note"] == "difference +0.06"
    same = compare_records(_records(s={"x": 0.25}), _records(s={"x": 0.25})).table
    assert same["note"].tolist() == ["equal"] and not same["judged"].any()
    # Seconds measure the machine: excluded by the stated rule.
    assert table.loc[["seconds", "scan_seconds"], "kind"].tolist() == ["run-only", "run-only"]
    assert agreement.summary().startswith("4 of 4 judged records agree (3 conclusions, 1 numbers with intervals")


@pytest.mark.parametrize("key, a_value, b_value", [
    ("best", "AdamW", "Lion"),          # a best level flips
    ("decided", True, False),           # a verdict's decided flag flips
    ("rank", 4, 5),                     # a rank moves
    ("rank", 4, 4.0),                   # the same number, but recorded as a count and as a measurement
])
def test_a_changed_conclusion_disagrees(key, a_value, b_value):
    base = {"best": "AdamW", "decided": True, "rank": 4}
    agreement = compare_records(_records(s=base), _records(s={**base, key: b_value}))
    assert not agreement.ok
    assert agreement.disagreements["key"].tolist() == [key]


def test_intervals_are_checked_both_ways():
    # B's estimate lies inside A's wide interval, but A's estimate lies outside B's narrow one.
    a = _records(s={"r": 0.50, "r_ci_low": 0.30, "r_ci_high": 0.70})
    b = _records(s={"r": 0.62, "r_ci_low": 0.55, "r_ci_high": 0.69})
    row = _row(compare_records(a, b), "r")
    assert not row["agrees"] and row["note"] == "A [0.3, 0.7], B [0.55, 0.69]; A outside B's interval"
    row = _row(compare_records(b, a), "r")
    assert not row["agrees"] and row["note"].endswith("; B outside A's interval")
    # On the bounds counts as inside.
    c = _records(s={"r": 0.55, "r_ci_low": 0.30, "r_ci_high": 0.70})
    assert compare_records(c, b).ok


def test_one_sided_keys_and_intervals_disagree():
    a = _records(s={"r": 0.5, "r_ci_low": 0.4, "r_ci_high": 0.6, "only_a": "x"})
    b = _records(s={"r": 0.5}, t={"only_b": 1})
    table = compare_records(a, b).table.set_index("key")
    assert table.loc["r", "note"] == "interval recorded only by build A" and not table.loc["r", "agrees"]
    assert table.loc["only_a", "note"] == "recorded only by build A"
    assert table.loc["only_b", "note"] == "recorded only by build B" and table.loc["only_b", "section"] == "t"


def test_undefined_statistics_are_conclusions():
    reason = report.Undefined("the map is constant")
    same = compare_records(_records(s={"c": reason}), _records(s={"c": report.Undefined("the map is constant")}))
    assert same.ok
    changed = compare_records(_records(s={"c": reason}), _records(s={"c": 0.3}))
    assert changed.disagreements["note"].tolist() == ["types differ: Undefined and float"]


def test_nothing_judged_is_not_agreement():
    only_numbers = _records(s={"x": 0.1, "seconds": 1.0})
    assert not compare_records(only_numbers, only_numbers).ok


def test_markdown_side_by_side():
    a = _records(s={"best": "AdamW", "r": 0.5, "r_ci_low": 0.4, "r_ci_high": 0.6, "x": 0.123456})
    b = _records(s={"best": "Lion", "r": 0.5, "r_ci_low": 0.4, "r_ci_high": 0.6, "x": 0.2})
    agreement = compare_records(a, b)
    lines = agreement.markdown(("AVX-512", "AVX2")).splitlines()
    assert lines[0] == "| record | AVX-512 | AVX2 | agree | note |"
    assert lines[2] == "| s.`best` | AdamW | Lion | **no** | values differ |"
    assert lines[3] == "| s.`r` | 0.5 | 0.5 | yes | A [0.4, 0.6], B [0.4, 0.6] |"
    assert len(lines) == 4  # the unjudged number only with unjudged=True
    assert agreement.markdown(unjudged=True).splitlines()[-1] == "| s.`x` | 0.1235 | 0.2 | — | difference +0.0765 |"


def test_compare_results_reads_two_results_dirs(tmp_path):
    for name, best in (("a", "AdamW"), ("b", "AdamW")):
        report.record(tmp_path / name, "smoke", "grid", best=best, seconds=1.0)
    assert compare_results(tmp_path / "a", tmp_path / "b", "smoke").ok
    with pytest.raises(FileNotFoundError, match=r"c/smoke/numbers: no records"):
        compare_results(tmp_path / "a", tmp_path / "c", "smoke")


def test_run_only_rule():
    assert is_run_only("seconds") and is_run_only("scan_seconds")
    assert not is_run_only("seconds_per_epoch") and not is_run_only("n_seconds_total")


def test_compare_builds_script_prints_both_builds_and_exits_by_agreement(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "compare_builds", Path(__file__).resolve().parent.parent / "book" / "compare_builds.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    report.record(tmp_path / "a", "quick", "grid", best="AdamW", r=0.5, r_ci_low=0.4, r_ci_high=0.6, share=0.1)
    report.record(tmp_path / "b", "quick", "grid", best="AdamW", r=0.52, r_ci_low=0.41, r_ci_high=0.62, share=0.2)
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b"), "--labels", "AVX-512", "AVX2"]) == 0
    out = capsys.readouterr().out
    assert "| record | AVX-512 | AVX2 | agree | note |" in out and "| grid.`best` | AdamW | AdamW | yes |  |" in out
    assert "grid.`share`" not in out  # listed only with --all
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b"), "--all"]) == 0
    assert "| grid.`share` | 0.1 | 0.2 | — | difference +0.1 |" in capsys.readouterr().out
    report.record(tmp_path / "b", "quick", "grid", best="Lion")
    assert script.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "**1 records disagree.**" in capsys.readouterr().out
    assert script.main([str(tmp_path / "a"), str(tmp_path / "none")]) == 2


def test_per_model_evidence_is_listed_not_judged():
    # Two builds that trained their own seed ensembles: the ensemble's conclusion must agree, each
    # model's value need not (they are different models); "_models" keys are listed, not judged.
    a = _records(s={"r": 0.10, "r_ci_low": 0.02, "r_ci_high": 0.18, "r_verdict": "agrees",
                    "r_models": [0.08, 0.10, 0.12], "r_agreeing_models": "3 of 3", "models": 3})
    b = _records(s={"r": 0.12, "r_ci_low": 0.05, "r_ci_high": 0.19, "r_verdict": "agrees",
                    "r_models": [0.15, 0.09, 0.12], "r_agreeing_models": "3 of 3", "models": 3})
    agreement = compare_records(a, b)
    table = agreement.table.set_index("key")
    assert agreement.ok
    assert table.loc[["r_models", "r_agreeing_models"], "kind"].tolist() == ["per-model", "per-model"]
    assert not table.loc[["r_models", "r_agreeing_models"], "judged"].any()
    assert "0.08, 0.1, 0.12" in agreement.markdown(unjudged=True)
    # The ensemble's own conclusion and its size are still judged.
    flipped = compare_records(a, _records(s={**dict(zip(b["key"], b["value"])), "r_verdict": "undecided"}))
    assert flipped.disagreements["key"].tolist() == ["r_verdict"]
    assert compare_records(a, _records(s={**dict(zip(b["key"], b["value"])), "models": 4})).disagreements[
        "key"].tolist() == ["models"]
