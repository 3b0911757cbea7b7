"""`camformer data check FILE`: the drop report and summary, or the file:line error and exit code 2."""

from __future__ import annotations

import gzip

from camformer.cli.main import main
from camformer.data.dream import resource_path

SEQ = "TGCATTTTTTTCACATC" + "ACGT" * 20 + "GGTTACGGCTGTT"  # 110 nt


def test_check_good_file_prints_report_and_summary(tmp_path, capsys):
    rows = [
        f"{SEQ}\t3",  # kept, integer
        f"{SEQ[:108]}\t4.5",  # kept, padded, real-valued
        f"{SEQ[:100]}NN\t7",  # 102 nt: outside 110 +- 3, dropped
        f"NNNN{SEQ[4:]}\t1",  # 4 N: dropped
        f"{SEQ}A\t11",  # kept, cut to length
    ]
    path = tmp_path / "train.txt"
    path.write_text("\n".join(rows) + "\n")
    assert main(["data", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:\n  5 rows read, 3 kept, 2 dropped\n" in out
    assert "dropped: 1 with too many N, 1 with a length out of range" in out
    assert "kept: 1 padded and 1 cut to length" in out
    assert "expression: min 3, median 4.5, max 11; 1 real-valued, 2 integer" in out


def test_check_filters_are_options(tmp_path, capsys):
    path = tmp_path / "train.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(f"NNNN{SEQ[4:]}\t1\n{SEQ}\t2\n")
    assert main(["data", "check", str(path), "--max-n", "4"]) == 0
    assert "2 rows read, 2 kept, 0 dropped" in capsys.readouterr().out


def test_check_bundled_sample(capsys):
    path = resource_path("dream2022_train_sample1000.txt")
    assert main(["data", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1,000 rows read" in out and "expression: min" in out


def test_check_bad_file_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_text(f"{SEQ}\t1\n{SEQ}\t2\n{SEQ[:50]}X{SEQ[51:]}\t3\n")
    assert main(["data", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"camformer: error: {path}, line 3: character 'X' at position 51" in captured.err


def test_check_bad_value_and_missing_file(tmp_path, capsys):
    path = tmp_path / "bad.txt"
    path.write_text(f"{SEQ}\t1\n{SEQ}\thigh\n")
    assert main(["data", "check", str(path)]) == 2
    assert f"{path}, line 2: expression value is not a number: 'high'" in capsys.readouterr().err
    assert main(["data", "check", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err
