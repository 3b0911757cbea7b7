"""benchmarks/gpu_check.py --smoke: every part of the GPU check runs (on the CPU, at tiny sizes)
and writes every section of its JSON, so the script does not rot between GPU runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_gpu_check_smoke_writes_every_section(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # two threads contend on a busy 2-core machine
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "gpu_check.json").read_text())
    for section in ("environment", "tests", "throughput", "paper", "ddp", "explainers"):
        assert section in results and "error" not in results[section], section
    assert results["smoke"] is True and results["environment"]["torch"]
    assert results["tests"]["passed"] and "skipped" in results["tests"]["summary"]  # no CUDA here

    rows = results["throughput"]["rows"]
    grid = {(r["model"], r["dtype"], r["compile"]) for r in rows}
    assert grid == {(m, d, c) for m in ("original", "mini") for d in ("fp32", "bf16") for c in ("off", "on")}
    assert all(r["seq_per_s"] > 0 and r["epoch_6.7M_s"] > 0 and r["finite_loss"] for r in rows)
    gflop = {r["model"]: r["train_gflop_per_seq"] for r in rows}
    assert gflop["original"] > 5 * gflop["mini"] > 0  # Original is about 11x Mini's FLOPs

    paper = results["paper"]
    assert paper["data"].startswith("SYNTHETIC")
    assert paper["interrupted"] and paper["killed_after_epoch"] == 1 and paper["finished"]
    assert paper["epochs_logged"] == [1, 2] and paper["predictions_finite"]
    runtime = paper["runtime"]
    assert (runtime["device"], runtime["world_size"], runtime["ddp"]) == ("cpu", 1, True)
    assert {"amp_dtype", "compile", "backend"} <= set(runtime)

    ddp = results["ddp"]  # SyncBatchNorm + DDP + compile: two processes (gloo on the CPU here)
    assert ddp["passed"] and ddp["returncode"] == 0 and ddp["processes"] == 2
    runtime = ddp["runtime"]
    assert (runtime["world_size"], runtime["ddp"], runtime["backend"], runtime["compile"]) == (2, True, "gloo", True)
    assert runtime["sync_batchnorm"] is False and "SyncBatchNorm needs CUDA tensors" in ddp["note"]
    assert ddp["parameter_spread"] == 0.0 and ddp["buffer_spread"] == 0.0  # one model in both processes
    assert len(ddp["train_loss"]) == 2 and "== ddp" in proc.stdout

    explained = {r["method"]: r for r in results["explainers"]["rows"]}
    assert set(explained) == {"ism", "ism_receptive_field", "gradcam"}
    assert all(r["max_abs_diff"] == 0.0 and r["cpu_s_per_seq"] > 0 for r in explained.values())  # CPU vs CPU
    assert "== throughput" in proc.stdout and "== paper" in proc.stdout


def test_peak_table_names_the_card_from_its_device_name():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    gpu_check = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = gpu_check  # its dataclass looks itself up there
    spec.loader.exec_module(gpu_check)
    cases = {"NVIDIA H100 80GB HBM3": "H100 SXM", "NVIDIA H100 PCIe": "H100 PCIe", "NVIDIA H100 NVL": "H100 NVL",
             "NVIDIA H200": "H200", "NVIDIA H200 NVL": "H200 NVL", "NVIDIA A100-SXM4-80GB": "A100",
             "NVIDIA A100 80GB PCIe": "A100"}
    for card, entry in cases.items():
        assert gpu_check.peak_bf16_tflops(card) == (gpu_check.PEAK_BF16_TFLOPS[entry], entry), card
    assert gpu_check.peak_bf16_tflops("Tesla T4")[0] is None
