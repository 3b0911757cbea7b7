"""benchmarks/bench_predict.py runs at a tiny size and writes its section of RESULTS.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_predict.py"


def test_bench_predict_runs_small(tmp_path, capsys):
    pytest.importorskip("tangermeme")
    spec = importlib.util.spec_from_file_location("bench_predict", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Another section\n\nkept\n")
    assert bench.main(["--sequences", "64", "--rounds", "2", "--batch-size", "16", "--ism-model", "micro",
                       "--ism-sequences", "1", "--ism-rounds", "1", "--threads", "1", "--results", str(results)]) == 0
    text = results.read_text()
    assert "## Another section\n\nkept" in text and bench.SECTION in text
    assert "| predict a TSV file" in text and "| ISM, all 110 positions" in text
    assert "64 sequences in 2 rounds" in text
