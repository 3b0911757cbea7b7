"""camformer.report: recorded numbers, undefined statistics, and a clean slate per full build."""

import json
import math

import pytest

from camformer import report


def test_record_merges_within_a_build_and_reads_back(tmp_path):
    report.record(tmp_path, "quick", "training", heldout_pearson=0.81, n_train=10)
    report.record(tmp_path, "quick", "training", heldout_spearman=0.8)
    table = report.load_records(tmp_path, "quick").set_index("key")["value"]
    assert table.to_dict() == {"heldout_pearson": 0.81, "heldout_spearman": 0.8, "n_train": 10}


def test_nan_is_refused_and_undefined_keeps_its_reason(tmp_path):
    with pytest.raises(ValueError, match="training.r is nan; record a finite number, or report.Undefined"):
        report.record(tmp_path, "quick", "training", r=math.nan)
    value = report.defined_or(math.nan, "the map is constant")
    assert value == report.Undefined("the map is constant")
    assert report.defined_or(0.5, "unused") == 0.5
    path = report.record(tmp_path, "quick", "gradcam", r=value)
    assert json.loads(path.read_text()) == {"r": {"undefined": "the map is constant"}}
    back = report.load_records(tmp_path, "quick")["value"].iloc[0]
    assert back == value
    # Formatted like a number in the introduction's table, it shows the reason.
    assert "{:.3f}".format(back) == "undefined (the map is constant)"


def test_clear_records_removes_an_older_builds_numbers(tmp_path):
    report.record(tmp_path, "quick", "old_section", stale=1.0)
    report.record(tmp_path, "paper", "kept", value=2.0)
    report.clear_records(tmp_path, "quick")
    assert report.load_records(tmp_path, "quick").empty
    assert len(report.load_records(tmp_path, "paper")) == 1


def test_claims_table_picks_the_first_complete_alternative(tmp_path):
    claims_file = tmp_path / "claims.yml"
    claims_file.write_text("""
- claim: r of the model
  paper: "0.9"
  chapter: 03_training
  section: training
  show:
    - keys: [r, r_sd]
      format: "{:.2f} ± {:.2f}"
    - keys: [r]
      format: "{:.2f} (one model)"
- claim: count
  paper: "3"
  chapter: 99_none
  section: other
  show:
    - keys: [n]
      format: "{:,}"
- claim: undefined one
  paper: "x"
  chapter: 11_gradcam
  section: gradcam
  show:
    - keys: [c]
      format: "{:.2f}"
""")
    report.record(tmp_path, "quick", "training", r=0.8123)
    report.record(tmp_path, "quick", "gradcam", c=report.Undefined("the map is constant"))
    claims = report.load_claims(claims_file)
    table, shown = report.claims_table(claims, report.load_records(tmp_path, "quick"), {"03_training": "Training"})
    lines = table.splitlines()
    assert lines[2] == "| r of the model | 0.9 | 0.81 (one model) | [Training](03_training.ipynb) |"
    assert lines[3] == "| count | 3 | not computed on this preset | 99_none |"
    assert lines[4] == "| undefined one | x | undefined (the map is constant) | 11_gradcam |"
    assert shown == {("training", "r"), ("gradcam", "c")}
    report.record(tmp_path, "quick", "other", n=12345.0)  # a whole float is shown as an integer
    table, _ = report.claims_table(claims, report.load_records(tmp_path, "quick"))
    assert "| count | 3 | 12,345 | 99_none |" in table


def test_claims_file_errors_name_the_claim(tmp_path):
    bad = tmp_path / "claims.yml"
    bad.write_text("- claim: no paper\n  chapter: c\n  section: s\n  show: []\n")
    with pytest.raises(ValueError, match=r"claims.yml: claim 1 \('no paper'\) has no paper"):
        report.load_claims(bad)


def test_the_books_claims_file_is_valid():
    from pathlib import Path

    claims = report.load_claims(Path(__file__).resolve().parent.parent / "book" / "claims.yml")
    assert len(claims) >= 10 and claims[0]["paper"] == "0.914 ± 0.003"


def test_effect_text_by_hand():
    row = {"difference": 0.4, "ci_low": 0.3662, "ci_high": 0.4349, "n": 1025}
    assert report.effect_text(row) == "+0.400 (95% CI +0.366 to +0.435; n = 1,025)"
    assert report.effect_text({"mean_change": -0.05, "ci_low": -0.1, "ci_high": 0.0}, n=False) == \
        "-0.050 (95% CI -0.100 to +0.000)"
    assert report.effect_text(row, unit=" families").endswith("n = 1,025 families)")
