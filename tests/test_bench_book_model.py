"""benchmarks/bench_book_model.py runs end to end at a tiny size (so the benchmark never rots)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_bench_book_model_tiny(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_book_model", ROOT / "benchmarks" / "bench_book_model.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    assert bench.main(["--threads", "1", "--batch", "4", "--steps", "1", "--rounds", "1", "--batch-sizes", "4", "8",
                       "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["models"]) == {"micro", "mini", "original"} and result["amp"] == "off"
    micro = result["models"]["micro"]
    assert micro["parameters"] == 438_913 and micro["time_vs_micro"] == 1.0 and micro["seq_per_s"] > 0
    assert result["models"]["original"]["macs"] > result["models"]["mini"]["macs"] > micro["macs"]
    by_size = result["batch_sizes"]
    assert set(by_size) == {"4", "8"} and by_size["4"]["time_per_seq_vs_first"] == 1.0
    assert by_size["8"]["quick_epoch_s"] == pytest.approx(56_881 / by_size["8"]["seq_per_s"])
    assert "micro" in capsys.readouterr().out
