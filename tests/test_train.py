"""Tests of camformer.training.train: DDP equals one process, resume equals no interruption, atomic
checkpoints, early stopping, the presets, and the train/predict commands."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.data.dream import SequenceData, read_dream_txt, resource_path
from camformer.models.encoding import encode
from camformer.training.checkpoint import CHECKPOINT
from camformer.models.inference import predict
from camformer.training.presets import PAPER_SEEDS
from camformer.training.train import EarlyStopping, TrainConfig, make_loss, make_optimizer, make_scheduler, train

torch.set_num_threads(1)


class TinyNet(nn.Module):
    """A small convolutional regressor (no BatchNorm; dropout optional)."""

    def __init__(self, channels: int = 4, dropout: float = 0.0):
        super().__init__()
        self.conv = nn.Conv1d(channels, 6, 9)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        h = self.drop(torch.relu(self.conv(x)))
        return self.head(h.mean(-1)).squeeze(-1)


def toy_data(n: int, seed: int = 0) -> SequenceData:
    """Random sequences whose target is their GC fraction plus noise (learnable)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
    gc = ((codes == 1) | (codes == 2)).mean(1)
    targets = (10 * (gc - 0.5) + rng.normal(0, 0.2, n)).astype(np.float32)
    return SequenceData(codes, targets, np.arange(n, dtype=np.int64) + 1000 * seed)


def toy_split() -> dict[str, SequenceData]:
    return {"train": toy_data(256, 0), "val": toy_data(96, 1), "test": toy_data(64, 2)}


FAST = TrainConfig(batch_size=32, max_epochs=3, patience=3, loss="MSE", scheduler="None", encoding="onehot",
                   lr=1e-2, amp="off", compile="off", device="cpu", progress=False, eval_batch_size=64)


# ---------------------------------------------------------------------------- recipe pieces

def test_paper_preset_is_the_published_recipe():
    cfg = TrainConfig.preset("paper")
    assert (cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.batch_size) == ("AdamW", 1e-3, 1e-3, 256)
    assert (cfg.max_epochs, cfg.patience, cfg.he_init, cfg.seed) == (50, 10, True, 42)
    assert (cfg.model, cfg.encoding, cfg.dataset, cfg.sync_batchnorm) == ("original", "onehot", "dream_train", True)
    assert PAPER_SEEDS == (42, 23, 47, 56, 89, 12, 34, 78, 67, 98)
    assert TrainConfig.preset("quick").dataset == "test_library"
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig.preset("huge")
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="SGD")


def test_grid_names_map_to_torch_objects():
    assert isinstance(make_loss("L1"), nn.L1Loss) and isinstance(make_loss("MSE"), nn.MSELoss)
    assert make_loss("Huber").delta == 0.9
    params = [nn.Parameter(torch.zeros(3))]
    lion = make_optimizer("Lion", params, 1e-3, 1e-3)
    assert type(lion).__name__ == "Lion" and lion.param_groups[0]["betas"] == (0.9, 0.99)
    adamw = make_optimizer("AdamW", params, 1e-3, 1e-3)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.param_groups[0]["weight_decay"] == 1e-3
    assert make_scheduler("None", adamw, 10, 2) is None
    one = make_scheduler("OneCycleLR", adamw, 10, 2)
    assert one.total_steps == 20 and max(g["max_lr"] for g in adamw.param_groups) == 0.01


def test_early_stopping_on_score_with_patience():
    stopper = EarlyStopping(patience=2)
    scores = [0.5, 0.7, 0.6, 0.7, 0.9, 0.8, 0.85]  # 0.7 again is not an improvement
    improved, stopped_at = [], None
    for epoch, s in enumerate(scores):
        improved.append(stopper.update(s, epoch))
        if stopper.stop:
            stopped_at = epoch
            break
    assert improved == [True, True, False, False]
    assert stopped_at == 3 and stopper.best_epoch == 1 and stopper.best_score == 0.7


def test_predict_matches_a_naive_loop():
    model = TinyNet().eval()
    data = toy_data(50)
    got = predict(model, data.codes, "onehot", batch_size=16)
    with torch.no_grad():
        want = np.array([float(model(encode(torch.from_numpy(c[None]), "onehot"))[0]) for c in data.codes])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        predict(model, data.codes, "onehotWithP")


# ---------------------------------------------------------------------------- training

def test_train_learns_and_restores_the_best_epoch(tmp_path):
    torch.manual_seed(0)
    result = train(TinyNet(), toy_split(), replace(FAST, max_epochs=4), run_dir=tmp_path)
    h = result.history
    assert list(h["epoch"]) == [1, 2, 3, 4]
    assert h["val_pearson"].max() > 0.5  # GC content is easy to learn
    best = h.loc[h["val_score"].idxmax()]
    assert result.metrics["best_epoch"] == best["epoch"]
    assert result.metrics["val_pearson"] == pytest.approx(best["val_pearson"])
    for k, v in result.model.state_dict().items():
        assert torch.equal(v, result.best_state[k])
    logged = pd.read_csv(tmp_path / "history.csv")
    assert list(logged.columns) == list(h.columns)
    np.testing.assert_allclose(logged["val_spearman"], h["val_spearman"])
    assert (logged["seq_per_s"] > 0).all() and "test_pearson" in result.metrics


class Interrupt(Exception):
    pass


def test_resume_after_a_kill_mid_epoch_reaches_the_same_weights(tmp_path):
    cfg = replace(FAST, max_epochs=3)
    data = toy_split()
    whole = train(TinyNet(dropout=0.2), data, cfg, run_dir=tmp_path / "whole")

    def kill(epoch, step):
        if epoch == 1 and step == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(TinyNet(dropout=0.2), data, cfg, run_dir=tmp_path / "killed", on_step=kill)
    assert torch.load(tmp_path / "killed" / CHECKPOINT, weights_only=False)["epoch"] == 0
    resumed = train(TinyNet(dropout=0.2), data, cfg, run_dir=tmp_path / "killed")  # the same command again
    a = torch.load(tmp_path / "whole" / CHECKPOINT, weights_only=False)["model"]
    b = torch.load(tmp_path / "killed" / CHECKPOINT, weights_only=False)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    for k in whole.best_state:
        assert torch.equal(whole.best_state[k], resumed.best_state[k]), k
    pd.testing.assert_frame_equal(whole.history.drop(columns=["seconds", "seq_per_s"]),
                                  resumed.history.drop(columns=["seconds", "seq_per_s"]))
    with pytest.raises(ValueError, match="different TrainConfig"):
        train(TinyNet(dropout=0.2), data, replace(cfg, lr=0.5), run_dir=tmp_path / "killed")


def test_checkpoint_is_replaced_atomically(tmp_path, monkeypatch):
    data = toy_split()
    cfg = replace(FAST, max_epochs=1)
    train(TinyNet(), data, cfg, run_dir=tmp_path)
    before = (tmp_path / CHECKPOINT).read_bytes()
    real_save = torch.save

    def crash_mid_write(obj, f, *a, **k):  # a kill while the file is half written
        Path(f).write_bytes(b"partial")
        raise Interrupt

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(Interrupt):
        train(TinyNet(), data, replace(cfg, max_epochs=2), run_dir=tmp_path / "second")
    monkeypatch.setattr(torch, "save", real_save)
    assert not (tmp_path / "second" / CHECKPOINT).exists()  # only the temporary file was touched
    assert (tmp_path / CHECKPOINT).read_bytes() == before
    assert torch.load(tmp_path / CHECKPOINT, weights_only=False)["epoch"] == 0


# ---------------------------------------------------------------------------- DDP on 2 CPU processes

def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        result = train(TinyNet(), toy_split(), replace(FAST, scheduler="OneCycleLR"))
        if rank == 0:
            result.history.to_csv(out, index=False)
            torch.save(result.best_state, out + ".pt")
    finally:
        dist.destroy_process_group()


def test_two_process_ddp_matches_one_process(tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "ddp.csv")
    mp.spawn(_ddp_worker, args=(2, port, out), nprocs=2, join=True)
    single = train(TinyNet(), toy_split(), replace(FAST, scheduler="OneCycleLR"))
    ddp = pd.read_csv(out)
    cols = ["train_loss", "val_loss", "val_pearson", "val_spearman", "lr"]
    # Equal up to the order of floating-point sums (gradients averaged over two halves).
    np.testing.assert_allclose(ddp[cols].to_numpy(), single.history[cols].to_numpy(), rtol=1e-4, atol=1e-6)
    ddp_state = torch.load(out + ".pt")
    for k, v in single.best_state.items():
        torch.testing.assert_close(ddp_state[k], v, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- the commands

def test_cli_train_smoke_then_predict(tmp_path, capsys):
    from camformer.cli.main import main

    run = tmp_path / "run"
    assert main(["train", "--preset", "smoke", "--run-dir", str(run), "--no-progress", "--epochs", "1",
                 "--val-size", "64", "--test-size", "32"]) == 0
    text = capsys.readouterr().out
    assert "small-data demonstration" in text and "held-out test: r" in text
    assert (run / "model" / "model.pt").exists() and len(pd.read_csv(run / "history.csv")) == 1
    from camformer.data.dream import load_split

    assert {k: len(v) for k, v in load_split(run / "model" / "split.npz").items()} == {
        "train": 1024, "val": 64, "test": 32}  # the preset's training size; the others as asked

    seqs = tmp_path / "seqs.txt"
    lines = resource_path("dream2022_train_sample1000.txt").read_text().splitlines()[:5]
    seqs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "pred.tsv"
    assert main(["predict", "--checkpoint", str(run), str(seqs), "-o", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["id", "prediction", "seq"] and list(table["id"]) == [0, 1, 2, 3, 4]
    from camformer.models.networks import load_model

    model = load_model(run / "model")
    want = predict(model, read_dream_txt(seqs)[0].codes, "onehotWithP")
    np.testing.assert_allclose(table["prediction"], want, rtol=1e-5, atol=1e-6)


def test_cli_paper_preset_without_training_file_says_what_to_do(tmp_path, capsys):
    from camformer.cli.main import main

    assert main(["train", "--preset", "paper", "--run-dir", str(tmp_path)]) == 2
    assert "camformer data fetch" in capsys.readouterr().err


def test_grid_slice_maps_names_and_trains_each_seed():
    from camformer.training.grid import grid_train_config, retrain_grid
    from camformer.models.networks import grid_configs

    grids = [g for g in grid_configs() if g.size == "Mini" and g.encoding == "onehotWithP"
             and g.loss == "Huber" and g.scheduler == "None"]
    assert [g.optimizer for g in grids] == ["AdamW", "Lion"]
    cfg = grid_train_config(grids[1], FAST)
    assert (cfg.loss, cfg.optimizer, cfg.scheduler, cfg.encoding, cfg.model) == ("Huber", "Lion", "None", "onehotWithP", "mini")
    small = {k: SequenceData(v.codes[:64], v.targets[:64], v.ids[:64]) for k, v in toy_split().items()}
    table = retrain_grid(grids, [1, 2], replace(FAST, max_epochs=1), small, progress=False)
    assert list(zip(table["optimizer"], table["seed"])) == [("AdamW", 1), ("AdamW", 2), ("Lion", 1), ("Lion", 2)]
    assert table["epochs"].eq(1).all() and table["seconds"].gt(0).all()


class ConstantNet(nn.Module):
    """Predicts one learned number for every sequence: r and rho are undefined."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1))
        self.config = type("Cfg", (), {"in_channels": 4})()

    def forward(self, x):
        return self.bias.expand(len(x))


def test_a_run_without_a_finite_score_keeps_its_last_weights():
    result = train(ConstantNet(), toy_split(), replace(FAST, max_epochs=2, he_init=False))
    assert result.history["val_pearson"].isna().all()  # a constant prediction has no correlation
    assert not result.history["best"].any() and result.metrics["best_epoch"] == 0
    assert result.best_state["bias"].item() != 0.0  # trained towards the mean, not the initial 0
    assert result.model.bias.item() == result.best_state["bias"].item()
