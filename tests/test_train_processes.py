"""What several processes must agree on, tested with two gloo processes on the CPU.

* After validation every process holds the first process's BatchNorm buffers, so the gathered
  predictions are those of one model (without SyncBatchNorm each process updates its own).
* The first process alone decides whether to resume and which split to use, and hands both to
  the others by broadcast: run directories local to each host (here: one per process) work,
  and a process whose own directory holds something else ignores it.
* A failure of the first process while it decides (a refused checkpoint, a split it cannot
  write) stops every process with an error that names it, instead of leaving them waiting.

And, in one process: the paper split honours the sizes and refuses a file made otherwise, a
resume ignores the fields that only change how a run goes, and more processes than GPUs on a
host is refused before NCCL would fail.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.training.checkpoint import CHECKPOINT
from camformer.data.dream import SequenceData, resource_path, save_split, stratified_split
from camformer.models.inference import predict
from camformer.stats.metrics import pearson_r
from camformer.training.presets import paper_data, preset_data
from camformer.training.train import RUN_ONLY_FIELDS, TrainConfig, train

torch.set_num_threads(1)

SAMPLE = resource_path("dream2022_train_sample1000.txt")
CFG = TrainConfig(batch_size=32, max_epochs=2, patience=2, steps_per_epoch=4, loss="MSE", scheduler="None",
                  encoding="onehot", lr=1e-2, amp="off", compile="off", device="cpu", progress=False,
                  eval_batch_size=16)


class BatchNormNet(nn.Module):
    """Convolution, BatchNorm and a linear head (no dropout: every difference between the
    processes comes from BatchNorm)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 9)
        self.norm = nn.BatchNorm1d(6)
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        return self.head(torch.relu(self.norm(self.conv(x))).mean(-1)).squeeze(-1)


def toy_data(n: int, seed: int) -> SequenceData:
    """Random sequences whose target is their GC fraction plus noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
    gc = ((codes == 1) | (codes == 2)).mean(1)
    return SequenceData(codes, (10 * (gc - 0.5) + rng.normal(0, 0.2, n)).astype(np.float32),
                        np.arange(n, dtype=np.int64) + 1000 * seed)


def toy_split() -> dict[str, SequenceData]:
    # 90 validation and 61 test sequences: the two processes' shares differ in length.
    return {"train": toy_data(256, 0), "val": toy_data(90, 1), "test": toy_data(61, 2)}


class Interrupt(Exception):
    pass


def _flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().double().reshape(-1) for t in tensors])


def _spread(flat: torch.Tensor) -> float:
    """Largest difference of ``flat`` between the processes (collective)."""
    import torch.distributed as dist

    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return float((high - low).max())


def _error(call) -> str | None:
    try:
        call()
    except Exception as err:  # the report says which error each process got
        return f"{type(err).__name__}: {err}"
    return None


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import torch.distributed as dist

    import camformer.data.dream

    torch.set_num_threads(1)
    out = Path(out)
    own = out / f"rank{rank}"  # a run directory local to this process, as on a host of its own
    # A hang would be a failure: collectives give up after a minute.
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=timedelta(seconds=60))
    report = {}
    try:
        # 1. Validation under DDP without SyncBatchNorm: one model on every process.
        data = toy_split()
        torch.manual_seed(0)
        result = train(BatchNormNet(), data, CFG)
        model = result.model
        report["buffer_spread"] = _spread(_flat(model.buffers()))
        report["parameter_spread"] = _spread(_flat(model.parameters()))
        alone = predict(model, data["test"].codes, "onehot", batch_size=16)
        report["test_vs_one_model"] = float(np.abs(result.test_predictions - alone).max())
        val_alone = predict(model, data["val"].codes, "onehot", batch_size=16)
        report["val_pearson"] = [result.metrics["val_pearson"], pearson_r(data["val"].targets, val_alone)]

        # 2. The split: the first process's, even where this process's directory holds another.
        if rank == 1:
            (own / "split").mkdir(parents=True)
            other = stratified_split(np.arange(1000), np.arange(1000.0), seed=7)
            save_split(other, own / "split" / "split.npz")
        report["train_ids"] = paper_data(SAMPLE, own / "split")["train"].ids.tolist()

        # 3. Resume decided by the first process: only its directory has the checkpoint.
        whole = train(BatchNormNet(), data, CFG, run_dir=own / "whole")

        def kill(epoch, step):
            if (epoch, step) == (1, 1):
                raise Interrupt

        report["killed"] = _error(lambda: train(BatchNormNet(), data, CFG, run_dir=own / "killed", on_step=kill))
        resumed = train(BatchNormNet(), data, CFG, run_dir=own / "killed")
        report["resumed_epochs"] = resumed.history["epoch"].tolist()
        report["resumed_equals_whole"] = all(torch.equal(whole.best_state[k], resumed.best_state[k])
                                             for k in whole.best_state)

        # 4. Failures of the first process reach every process.
        report["refused_resume"] = _error(lambda: train(BatchNormNet(), data, replace(CFG, lr=0.5),
                                                        run_dir=own / "killed"))
        if rank == 0:
            def full_disk(split, path):
                raise OSError("no space left on device")

            camformer.data.dream.save_split = full_disk  # presets imports it from camformer.data.dream when it writes
        report["failed_split"] = _error(lambda: paper_data(SAMPLE, own / "no_space"))
        report["still_together"] = _spread(torch.tensor([1.0])) == 0.0  # no process is stuck in a collective
        (out / f"report{rank}.json").write_text(json.dumps(report))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[dict]:
    import torch.multiprocessing as mp

    out = tmp_path_factory.mktemp("processes")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_worker, args=(2, port, str(out)), nprocs=2, join=True)
    found = [json.loads((out / f"report{r}.json").read_text()) for r in range(2)]
    for r, report in enumerate(found):
        report["dir"] = out / f"rank{r}"
    return found


def test_after_validation_every_process_holds_one_model(reports):
    for report in reports:
        assert report["buffer_spread"] == 0.0 and report["parameter_spread"] == 0.0
        # The gathered predictions (each process scored its own share) are one model's.
        assert report["test_vs_one_model"] < 1e-5
        logged, alone = report["val_pearson"]
        assert logged == pytest.approx(alone, abs=1e-6)


def test_the_split_is_the_first_processes_and_travels_by_broadcast(reports):
    first, second = reports
    assert first["train_ids"] == second["train_ids"] and len(first["train_ids"]) == 875
    assert (first["dir"] / "split" / "split.npz").exists()
    # The second process's own file (another seed) was neither read nor replaced.
    with np.load(second["dir"] / "split" / "split.npz") as z:
        assert "made" not in z.files


def test_resume_is_decided_by_the_first_process(reports):
    for report in reports:
        assert report["killed"] == "Interrupt: "
        assert report["resumed_epochs"] == [1, 2] and report["resumed_equals_whole"]
    first, second = reports
    assert (first["dir"] / "killed" / CHECKPOINT).exists()
    assert not (second["dir"] / "killed").exists()  # nothing was ever written there


def test_a_failure_of_the_first_process_stops_every_process(reports):
    first, second = reports
    assert first["refused_resume"].startswith("ValueError: ") and "different TrainConfig" in first["refused_resume"]
    assert second["refused_resume"].startswith("RuntimeError: process 0 failed reading the checkpoint: ValueError:")
    assert first["failed_split"] == "OSError: no space left on device"
    assert second["failed_split"] == ("RuntimeError: process 0 failed reading or writing the split: "
                                      "OSError: no space left on device")
    assert first["still_together"] and second["still_together"]
    assert not list((first["dir"] / "no_space").glob("*"))  # no partial or temporary file


# ---------------------------------------------------------------------------- one process

def test_paper_split_honours_the_sizes_and_refuses_a_file_made_otherwise(tmp_path):
    config = TrainConfig.preset("paper", train_size=100, val_size=20, test_size=10, progress=False)
    data = preset_data(config, SAMPLE, tmp_path)
    assert {k: len(v) for k, v in data.items()} == {"train": 100, "val": 20, "test": 10}
    full = paper_data(SAMPLE)  # the 875 / 50 / 50 split the sizes subsample
    for name, part in data.items():
        assert set(part.ids) <= set(full[name].ids)
    again = preset_data(config, SAMPLE, tmp_path)  # read back, the same ids
    assert all(np.array_equal(data[k].ids, again[k].ids) for k in data)

    n = f"{sum(len(v) for v in full.values()):,}"
    with pytest.raises(ValueError, match=rf"split.npz: this split was made with seed 42 from {n} sequences "
                                         rf"\(train 100, val 20, test 10\), but this run asks for seed 42 from {n} "
                                         rf"sequences \(train 200, val 20, test 10\); use another run directory"):
        preset_data(replace(config, train_size=200), SAMPLE, tmp_path)
    with pytest.raises(ValueError, match="asks for seed 7"):
        preset_data(replace(config, seed=7), SAMPLE, tmp_path)
    save_split({k: v.ids for k, v in full.items()}, tmp_path / "split.npz")  # as an older camformer wrote it
    with pytest.raises(ValueError, match="this split has no record of its seed and sizes"):
        paper_data(SAMPLE, tmp_path)


def test_a_resume_ignores_the_fields_that_only_change_how_the_run_goes(tmp_path):
    assert set(RUN_ONLY_FIELDS) == {"progress", "device", "compile", "num_threads", "eval_batch_size"}
    data = toy_split()
    # one thread in both runs: a thread count splits the weight gradients' sums differently, so
    # weights equal to the bit need it held (it is still only a run setting: checked below)
    cfg = replace(CFG, max_epochs=3, num_threads=1)
    threads = torch.get_num_threads()
    whole = train(BatchNormNet(), data, cfg, run_dir=tmp_path / "whole")
    assert torch.get_num_threads() == threads  # the run's thread count ends with the run

    def kill(epoch, step):
        if (epoch, step) == (1, 2):
            raise Interrupt

    with pytest.raises(Interrupt):
        train(BatchNormNet(), data, cfg, run_dir=tmp_path / "killed", on_step=kill)
    changed = replace(cfg, progress=True, device="auto", compile="auto", eval_batch_size=7)
    resumed = train(BatchNormNet(), data, changed, run_dir=tmp_path / "killed")
    for k in whole.best_state:
        assert torch.equal(whole.best_state[k], resumed.best_state[k]), k
    cols = ["epoch", "train_loss", "val_loss"]
    pd.testing.assert_frame_equal(whole.history[cols], resumed.history[cols])
    # another thread count resumes the finished run: the same history, no refusal
    again = train(BatchNormNet(), data, replace(changed, num_threads=2), run_dir=tmp_path / "killed")
    pd.testing.assert_frame_equal(whole.history[cols], again.history[cols])
    with pytest.raises(ValueError, match=r"lr: 0\.01 then, 0\.5 now"):
        train(BatchNormNet(), data, replace(changed, lr=0.5), run_dir=tmp_path / "killed")


def test_more_processes_than_gpus_on_a_host_is_refused_before_nccl(monkeypatch):
    import torch.distributed as dist

    from camformer.training import distributed

    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.append(("set_device", device)))
    monkeypatch.setattr(dist, "init_process_group", lambda *a, **k: calls.append(("init_process_group", a)))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    with pytest.raises(RuntimeError, match=r"2 processes on this host \(LOCAL_WORLD_SIZE\) but it shows 1 CUDA "
                                           r"device.*torchrun --nproc_per_node=1"):
        distributed.init_distributed()
    assert calls == []  # refused before choosing a GPU or joining the group
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")  # one process per host: joins
    monkeypatch.setenv("WORLD_SIZE", "4")
    distributed.init_distributed()
    assert [c[0] for c in calls] == ["set_device", "init_process_group"]
    assert calls[1][1] == ("cpu:gloo,cuda:nccl",)
