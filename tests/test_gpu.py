"""The CUDA path: a short bf16 run, a compiled run, a one-process NCCL run under torchrun, and
the explainers on CUDA against the CPU. Marked ``gpu``; skipped without CUDA.

``python benchmarks/gpu_check.py`` runs these (``pytest -m gpu``) with the throughput and
end-to-end checks.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from camformer.data.dream import read_dream_txt, resource_path
from camformer.models.networks import camformer_mini, init_he
from camformer.training.presets import paper_data
from camformer.training.train import TrainConfig, train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

SAMPLE = resource_path("dream2022_train_sample1000.txt")
CFG = TrainConfig(batch_size=64, max_epochs=2, patience=2, steps_per_epoch=8, scheduler="None", device="cuda",
                  compile="off", progress=False, eval_batch_size=256)


def runtime(run_dir: Path) -> dict:
    return json.loads((run_dir / "train_config.json").read_text())["runtime"]


def short_run(run_dir: Path, **overrides):
    data = paper_data(SAMPLE, run_dir)
    result = train(camformer_mini(), data, replace(CFG, **overrides), run_dir=run_dir)
    assert len(result.history) == 2 and np.isfinite(result.history["train_loss"]).all()
    assert np.isfinite(result.test_predictions).all()
    return runtime(run_dir)


def test_a_short_bf16_run(tmp_path):
    recorded = short_run(tmp_path, amp="bf16")
    assert recorded["device"] == f"cuda:{torch.cuda.current_device()}"
    assert (recorded["amp_dtype"], recorded["compile"], recorded["world_size"]) == ("bfloat16", False, 1)


def test_auto_amp_is_bf16_on_ampere_or_later_else_fp16_with_a_scaler(tmp_path):
    recorded = short_run(tmp_path, amp="auto")
    newer = torch.cuda.get_device_capability() >= (8, 0)
    assert recorded["amp_dtype"] == ("bfloat16" if newer else "float16")
    assert recorded["grad_scaler"] is (not newer)


def test_a_compiled_run(tmp_path):
    recorded = short_run(tmp_path, compile="on")
    assert recorded["compile"] is True


def test_a_one_process_nccl_run_under_torchrun(tmp_path):
    """The multi-GPU code path (process group, DDP, NCCL, rank-0 split) on one GPU."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
           "-m", "camformer.cli.main", "train", "--preset", "paper", "--train-file", str(SAMPLE), "--run-dir", str(run),
           "--epochs", "1", "--batch-size", "64", "--compile", "off", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "4"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recorded = runtime(run)
    assert (recorded["world_size"], recorded["ddp"], recorded["device"]) == (1, True, "cuda:0")
    assert "nccl" in recorded["backend"]
    assert (run / "split.npz").exists() and (run / "model" / "config.json").exists()


def test_explainers_agree_on_cuda_and_the_cpu():
    """ISM and Grad-CAM of a small model, in float32 (TF32 off), to 1e-4."""
    from camformer.explain.gradcam import gradcam
    from camformer.explain.ism import ism

    torch.manual_seed(0)
    model = init_he(camformer_mini()).eval()
    codes = read_dream_txt(SAMPLE)[0].codes[:4]
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        on_cpu = copy.deepcopy(model)
        on_gpu = copy.deepcopy(model).cuda()
        delta_cpu = ism(on_cpu, codes, encoding="onehotWithP", device="cpu")
        delta_gpu = ism(on_gpu, codes, encoding="onehotWithP", device="cuda")
        torch.testing.assert_close(delta_gpu, delta_cpu, rtol=1e-4, atol=1e-4)
        from camformer.models.encoding import encode

        x = encode(torch.as_tensor(codes), "onehotWithP")
        cam_cpu = gradcam(on_cpu, x, "blocks.2.conv", device="cpu")
        cam_gpu = gradcam(on_gpu, x, "blocks.2.conv", device="cuda")
        torch.testing.assert_close(cam_gpu, cam_cpu, rtol=1e-4, atol=1e-4)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
