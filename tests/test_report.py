"""camformer.records.report: recorded numbers, undefined statistics, and a clean slate per full build."""

import json
import math
import subprocess
import sys

import pytest

from pathlib import Path

from camformer.records import report

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_record_merges_within_a_build_and_reads_back(tmp_path):
    report.record(tmp_path, "quick", "training", heldout_pearson=0.81, n_train=10)
    report.record(tmp_path, "quick", "training", heldout_spearman=0.8)
    table = report.load_records(tmp_path, "quick").set_index("key")["value"]
    assert table.to_dict() == {"heldout_pearson": 0.81, "heldout_spearman": 0.8, "n_train": 10}


def test_a_rerun_chapter_leaves_no_key_of_its_earlier_run(tmp_path):
    # An earlier run of the chapter (another process: a papermill kernel) explained three models.
    earlier = ("from camformer.records import report; "
               f"report.record({str(tmp_path)!r}, 'quick', 'gradcam', r=0.1, r_models=[0.1, 0.2, 0.0]); "
               f"report.record({str(tmp_path)!r}, 'quick', 'gradcam', n=300)")
    subprocess.run([sys.executable, "-c", earlier], cwd=REPO_ROOT, check=True)
    assert report.section_records(tmp_path, "quick", "gradcam") == {"r": 0.1, "r_models": [0.1, 0.2, 0.0], "n": 300}
    # This run explains one model: its first record replaces the section, its second adds to it.
    report.record(tmp_path, "quick", "gradcam", r=0.3)
    report.record(tmp_path, "quick", "gradcam", n=101)
    assert report.section_records(tmp_path, "quick", "gradcam") == {"r": 0.3, "n": 101}


def test_section_records_reads_one_section_or_none(tmp_path):
    assert report.section_records(tmp_path, "quick", "motifs") == {}  # nothing recorded yet
    report.record(tmp_path, "quick", "motifs", ime1_effect_verdict="raises", n=3,
                  why=report.Undefined("too few"))
    report.record(tmp_path, "quick", "training", n=10)
    assert report.section_records(tmp_path, "quick", "motifs") == {
        "ime1_effect_verdict": "raises", "n": 3, "why": report.Undefined("too few")}
    assert report.section_records(tmp_path, "quick", "absent") == {}


def test_nan_is_refused_and_undefined_keeps_its_reason(tmp_path):
    with pytest.raises(ValueError, match="training.r is nan; record a finite number, or report.Undefined"):
        report.record(tmp_path, "quick", "training", r=math.nan)
    value = report.defined_or(math.nan, "the map is constant")
    assert value == report.Undefined("the map is constant")
    assert report.defined_or(0.5, "unused") == 0.5
    assert report.record(tmp_path, "quick", "gradcam", r=value) is None  # nothing for a notebook to show
    path = report.numbers_dir(tmp_path, "quick") / "gradcam.json"
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


def test_chapter_titles_and_record_sections_from_the_sources(tmp_path):
    (tmp_path / "01_data.py").write_text(
        '# # The data\n\nreport.record(results_dir, preset, "data", n=1)\n'
        'record(\n    results_dir, preset, \'data_more\', n=2)\n')
    (tmp_path / "02_none.py").write_text("# no title, no record\n")
    (tmp_path / "notes.py").write_text('record(results_dir, preset, "ignored")\n')  # not a chapter
    assert report.chapter_titles(tmp_path) == {"01_data": "The data", "02_none": "02_none"}
    assert report.record_sections(tmp_path) == {"data": "01_data", "data_more": "01_data"}
    # The book's own chapters: every section is claimed by exactly the chapter that writes it.
    sections = report.record_sections(REPO_ROOT / "notebooks")
    assert sections["training"] == "03_training" and sections["motifs_model"] == "14_motif_model"


def test_records_by_chapter_lists_every_record_once(tmp_path):
    report.record(tmp_path, "quick", "training", r=0.8329, r_ci_low=0.81, r_ci_high=0.85, n=56863,
                  model="micro", agrees=True)
    report.record(tmp_path, "quick", "grid", low_ci_low=0.1, ci_high=0.2)  # bounds without their number
    report.record(tmp_path, "quick", "stray", x=report.Undefined("no data"))
    groups = report.records_by_chapter(report.load_records(tmp_path, "quick"),
                                       {"training": "03_training", "grid": "06_grid"},
                                       ["06_grid", "03_training"])
    assert list(groups) == ["06_grid", "03_training", "other"]
    training = groups["03_training"].set_index("record")["value"].to_dict()
    assert training == {"agrees": "True", "model": "micro", "n": "56,863", "r [95% interval]": "0.8329 [0.81, 0.85]"}
    assert groups["06_grid"]["record"].tolist() == ["ci_high", "low_ci_low"]
    assert groups["other"]["value"].tolist() == ["undefined (no data)"]
    total = sum(len(rows) for rows in groups.values())
    assert total == len(report.load_records(tmp_path, "quick")) - 2  # only r's two bounds are folded


def test_timings_text():
    import pandas as pd

    timings = pd.DataFrame({"chapter": ["00_intro", "01_data", "03_training", "total"],
                            "seconds": [5.0, 30.0, 270.0, 420.0],
                            "measured_at": ["t0", "t1", "t2", "2025-01-01T00:00:00+00:00"]})
    assert report.timings_text(timings, "quick") == (
        "Measured on the machine that built this page: the chapters before this introduction took 5.0 min "
        "together on the `quick` preset (the slowest, 03_training, 270 s). The last complete build on this "
        "preset (every chapter and the HTML) took 7.0 min, finished at 2025-01-01T00:00:00+00:00.")
    assert report.timings_text(timings.iloc[:1], "smoke") == "No chapter timings were recorded yet."


def test_effect_text_by_hand():
    row = {"difference": 0.4, "ci_low": 0.3662, "ci_high": 0.4349, "n": 1025}
    assert report.effect_text(row) == "+0.400 (95% CI +0.366 to +0.435; n = 1,025)"
    assert report.effect_text({"mean_change": -0.05, "ci_low": -0.1, "ci_high": 0.0}, n=False) == \
        "-0.050 (95% CI -0.100 to +0.000)"
    assert report.effect_text(row, unit=" families").endswith("n = 1,025 families)")
