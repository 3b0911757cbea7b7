"""The distributed and device paths of camformer.training.train, on CPU.

Two gloo processes train Camformer Mini itself (BatchNorm and dropout) on the bundled
1,000-line training sample: identical parameters after every step, other dropout masks in each
process, a resume that reaches the unbroken run's weights, and a split file written once. Then
the device policy (which GPU, which autocast dtype) as pure functions, one bf16 step, one fp16
step with its gradient scaler, and one compiled step.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.data.dream import resource_path
from camformer.models.networks import camformer_mini
from camformer.training.checkpoint import CHECKPOINT
from camformer.training.distributed import resolve_device, restore_modules, to_sync_batchnorm
from camformer.models.inference import auto_amp_dtype, resolve_amp
from camformer.training.presets import paper_data
from camformer.training.train import TrainConfig, train

torch.set_num_threads(1)

SAMPLE = resource_path("dream2022_train_sample1000.txt")
# sync_batchnorm is asked for and must be ignored: gloo on CPU has no SyncBatchNorm.
CFG = TrainConfig(batch_size=32, max_epochs=2, patience=2, steps_per_epoch=3, scheduler="None", amp="off",
                  compile="off", device="cpu", progress=False, eval_batch_size=64, sync_batchnorm=True)


class Interrupt(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_data(run_dir: Path) -> dict:
    """The paper preset's split of the bundled sample (875 / 50 / 50), without the test split."""
    data = paper_data(SAMPLE, run_dir)
    return {"train": data["train"], "val": data["val"]}


def runtime(run_dir: Path) -> dict:
    return json.loads((run_dir / "train_config.json").read_text())["runtime"]


# ---------------------------------------------------------------------------- two processes

def _spread(model: nn.Module) -> float:
    """Largest difference between this process's parameters and process 0's (collective)."""
    import torch.distributed as dist

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    parts = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, flat)
    return max(float((p - parts[0]).abs().max()) for p in parts)


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import torch.distributed as dist

    import camformer.data.dream

    torch.set_num_threads(1)
    out = Path(out)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        real_save = camformer.data.dream.save_split

        def counting_save(split, path):  # paper_data imports it from camformer.data.dream at call time
            with open(out / "split_writes.txt", "a") as fh:
                fh.write(f"{rank}\n")
            real_save(split, path)

        camformer.data.dream.save_split = counting_save
        data = sample_data(out / "whole")
        report = {"train_ids": data["train"].ids.tolist(), "spread": [], "spread_resumed": []}

        # The RNG state the first dropout layer draws its first mask from (same shape everywhere).
        rng = []
        model = camformer_mini()
        model.blocks[0].drop.register_forward_pre_hook(
            lambda m, inputs: rng.append(torch.get_rng_state()) if m.training and not rng else None)
        train(model, data, CFG, run_dir=out / "whole", on_step=lambda e, s: report["spread"].append(_spread(model)))
        both = [torch.empty_like(rng[0]) for _ in range(world)]
        dist.all_gather(both, rng[0])
        report["dropout_rng_equal"] = bool(torch.equal(both[0], both[1]))

        def kill(epoch, step):
            if (epoch, step) == (1, 1):
                raise Interrupt

        try:
            train(camformer_mini(), data, CFG, run_dir=out / "killed", on_step=kill)
        except Interrupt:
            report["interrupted"] = True
        resumed = camformer_mini()
        train(resumed, data, CFG, run_dir=out / "killed",
              on_step=lambda e, s: report["spread_resumed"].append(_spread(resumed)))
        (out / f"rank{rank}.json").write_text(json.dumps(report))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> Path:
    """Run the two-process script once; its files are the evidence the tests read."""
    import torch.multiprocessing as mp

    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_ddp_worker, args=(2, free_port(), str(out)), nprocs=2, join=True)
    return out


def reports(out: Path) -> list[dict]:
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_ranks_hold_identical_parameters_after_every_step(two_processes):
    for report in reports(two_processes):
        assert len(report["spread"]) == 6 and set(report["spread"]) == {0.0}  # 2 epochs x 3 steps
        assert len(report["spread_resumed"]) == 3 and set(report["spread_resumed"]) == {0.0}


def test_ranks_draw_their_own_dropout_masks(two_processes):
    assert not reports(two_processes)[0]["dropout_rng_equal"]


def test_split_is_written_once_by_rank_zero_and_shared(two_processes):
    assert (two_processes / "split_writes.txt").read_text() == "0\n"
    first, second = reports(two_processes)
    assert first["train_ids"] == second["train_ids"] and len(first["train_ids"]) == 875
    assert not list((two_processes / "whole").glob(".split*"))  # no temporary file left behind


def test_resume_under_two_processes_reaches_the_unbroken_weights(two_processes):
    assert all(r["interrupted"] for r in reports(two_processes))
    whole = torch.load(two_processes / "whole" / CHECKPOINT, weights_only=False)
    resumed = torch.load(two_processes / "killed" / CHECKPOINT, weights_only=False)
    assert whole["epoch"] == resumed["epoch"] == 1
    for k, v in whole["model"].items():
        assert torch.equal(v, resumed["model"][k]), k
    cols = ["train_loss", "val_loss", "val_pearson", "val_spearman"]
    pd.testing.assert_frame_equal(pd.DataFrame(whole["history"])[cols], pd.DataFrame(resumed["history"])[cols])
    # Each process's own RNG state is kept: rank 1 does not restart from rank 0's.
    states = whole["rng_per_rank"]
    assert len(states) == 2 and not torch.equal(states[0]["torch"], states[1]["torch"])
    recorded = runtime(two_processes / "whole")
    assert (recorded["world_size"], recorded["ddp"], recorded["backend"]) == (2, True, "gloo")
    assert recorded["sync_batchnorm"] is False  # asked for, but CPU processes cannot sync BatchNorm


# ---------------------------------------------------------------------------- the split file

def test_split_file_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    def crash_mid_write(file, **arrays):
        Path(file).write_bytes(b"partial")
        raise Interrupt

    monkeypatch.setattr(np, "savez_compressed", crash_mid_write)
    with pytest.raises(Interrupt):
        paper_data(SAMPLE, tmp_path)
    assert not (tmp_path / "split.npz").exists()
    monkeypatch.undo()
    first = paper_data(SAMPLE, tmp_path)
    monkeypatch.setattr(np, "savez_compressed", crash_mid_write)  # a rerun reads, never rewrites
    again = paper_data(SAMPLE, tmp_path)
    for k in first:
        np.testing.assert_array_equal(first[k].ids, again[k].ids)


# ---------------------------------------------------------------------------- device policy

@pytest.mark.parametrize("device_type, capability, cpu_bf16, want", [
    ("cuda", (9, 0), False, torch.bfloat16),  # H100, H200
    ("cuda", (8, 0), False, torch.bfloat16),  # A100
    ("cuda", (8, 6), False, torch.bfloat16),  # RTX 30xx, A10
    ("cuda", (7, 5), True, torch.float16),  # T4: bf16 only emulated
    ("cuda", (7, 0), False, torch.float16),  # V100
    ("cuda", (6, 1), False, None),  # Pascal: no tensor cores
    ("cpu", None, True, torch.bfloat16),  # AVX512-BF16 or AMX
    ("cpu", None, False, None),
    ("mps", None, True, None),
])
def test_auto_amp_dtype_follows_what_the_hardware_runs_natively(device_type, capability, cpu_bf16, want):
    assert auto_amp_dtype(device_type, capability, cpu_bf16) is want


def test_resolve_amp_asks_the_capability_not_bf16_support(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # true under emulation
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    assert resolve_amp("auto", torch.device("cuda", 0)) is torch.float16
    assert resolve_amp("bf16", torch.device("cuda", 0)) is torch.bfloat16  # asked for explicitly
    assert resolve_amp("off", torch.device("cuda", 0)) is None


def test_resolve_device_gives_each_process_its_own_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert resolve_device("cuda") == torch.device("cuda", 2)
    assert resolve_device("auto") == torch.device("cuda", 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)  # explicit: as given
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # each process sees its own GPU only
    assert resolve_device("cuda") == torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "3")
    with pytest.raises(ValueError, match="LOCAL_RANK=3 but this host shows 2 CUDA devices"):
        resolve_device("auto")
    monkeypatch.delenv("LOCAL_RANK")
    assert resolve_device("cuda") == torch.device("cuda", 0)


def test_sync_batchnorm_shares_the_tensors_and_goes_back():
    model = camformer_mini()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    replaced = to_sync_batchnorm(model)
    synced = [m for m in model.modules() if isinstance(m, nn.SyncBatchNorm)]
    assert len(replaced) == len(synced) == len(norms) == 6
    assert all(s.weight is n.weight and s.running_mean is n.running_mean for s, n in zip(synced, norms))
    restore_modules(model, replaced)
    assert [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)] == norms
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())


# ---------------------------------------------------------------------------- one step of each kind

def one_step(model: nn.Module, run_dir: Path, **overrides):
    data = sample_data(run_dir)
    cfg = replace(CFG, batch_size=16, max_epochs=1, steps_per_epoch=1, **overrides)
    before = [p.detach().clone() for p in model.parameters()]
    result = train(model, data, cfg, run_dir=run_dir)
    assert np.isfinite(result.history["train_loss"]).all()
    assert all(p.dtype == torch.float32 for p in model.parameters())  # float32 master weights
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    return result


def test_a_bf16_autocast_step_on_cpu(tmp_path):
    one_step(camformer_mini(), tmp_path, amp="bf16")
    recorded = runtime(tmp_path)
    assert (recorded["device"], recorded["amp_dtype"], recorded["grad_scaler"]) == ("cpu", "bfloat16", False)
    assert (recorded["compile"], recorded["world_size"], recorded["ddp"]) == (False, 1, False)


def test_an_fp16_step_uses_a_gradient_scaler(tmp_path, monkeypatch):
    import camformer.training.train

    monkeypatch.setattr(camformer.training.train, "resolve_amp", lambda amp, device: torch.float16)  # as on a T4
    one_step(camformer_mini(), tmp_path, amp="auto")
    recorded = runtime(tmp_path)
    assert (recorded["amp_dtype"], recorded["grad_scaler"]) == ("float16", True)
    assert torch.load(tmp_path / CHECKPOINT, weights_only=False)["scaler"]["scale"] > 0


class SmallNet(nn.Module):
    """Convolution, BatchNorm, dropout and a linear head: Mini's kinds of layer, at a size that
    compiles in seconds (Mini itself took over a minute on a 2-core CPU)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(5, 8, 9)
        self.norm = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.drop(torch.relu(self.norm(self.conv(x)))).mean(-1)).squeeze(-1)


def test_a_compiled_step_on_cpu(tmp_path):
    one_step(SmallNet(), tmp_path, compile="on")
    assert runtime(tmp_path)["compile"] is True


def test_describe_device_names_the_cpu_and_its_bf16(tmp_path, monkeypatch):
    from camformer.models import inference

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: avx2\n")
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    monkeypatch.setattr(inference.os, "cpu_count", lambda: 2)
    assert inference.describe_device("cpu", cpuinfo=str(cpuinfo)) == (
        "Test CPU 9000, 2 logical CPUs, float32 and emulated bf16 only")
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: True)
    missing = inference.describe_device("cpu", cpuinfo=str(tmp_path / "none"))
    assert missing.endswith(", 2 logical CPUs, native bf16 (AVX512-BF16 or AMX)") and not missing.startswith(",")
