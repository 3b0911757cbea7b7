"""Training: one function, :func:`train`, fast on CPU and GPU, resumable, multi-process (DDP).

The loop never builds float one-hot on the host: the uint8 codes ``(N, 110)`` move to the
device once and each batch is one-hot encoded there (:func:`camformer.data.encode`). Speed
switches live in :class:`TrainConfig`, not in the model: bf16 autocast (``amp``),
``torch.compile`` (``compile``), the device and the CPU thread count. Several processes launched
with ``torchrun`` train one model with ``DistributedDataParallel``; every process sees the same
shuffled global batch and takes its own equal slice, validation predictions are gathered, so
the logged metrics are those a single process would compute on the same data (exactly so for a
model without BatchNorm or dropout; see :func:`train`).

Each epoch writes ``checkpoint.pt`` (model, optimiser, scheduler, RNG and early-stopping state,
the best weights so far, the history) to the run directory atomically: a temporary file, then a
rename. Started again with the same arguments, :func:`train` continues after the last finished
epoch; on CPU it reaches the same weights as a run that was never interrupted.

Presets (:meth:`TrainConfig.preset`)
------------------------------------
``paper``
    The published recipe: AdamW, lr 1e-3, weight decay 1e-3, batch 256, up to 50 epochs, early
    stopping with patience 10 on validation Pearson r + Spearman rho, He initialisation, L1 loss
    and ReduceLROnPlateau on the validation loss (the Original model's grid run), trained on the
    challenge's 6.7M-sequence training file split 90/5/5 by expression decile. Needs a GPU.
``quick``
    A small-data demonstration for a 2-core CPU: Camformer Mini trained for a few minutes on a
    subsample of the *measured test library* (71,103 sequences with measured expression), split
    by variant family so that no sequence and its SNV or motif variants straddle train and
    held-out. Its held-out r and rho are **not comparable** to the challenge leaderboard.
``smoke``
    A few steps on a few hundred sequences, to test the machinery end to end.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from .data import ENCODINGS, SequenceData, encode
from .metrics import pearson_r, spearman_rho
from .models import _unwrap, init_he

# The ten seeds of the paper's seed ensemble.
PAPER_SEEDS: tuple[int, ...] = (42, 23, 47, 56, 89, 12, 34, 78, 67, 98)
# The encoding a model with C input channels gets when none is named (the published models:
# Original uses onehot, Mini onehotWithP).
DEFAULT_ENCODING: dict[int, str] = {4: "onehot", 5: "onehotWithP", 6: "onehotWithBoth"}
CHECKPOINT = "checkpoint.pt"
HISTORY = "history.csv"


# ---------------------------------------------------------------------------- configuration

@dataclass(frozen=True)
class TrainConfig:
    """How to train: the recipe, the data size and the speed switches.

    Parameters
    ----------
    lr, weight_decay : float
        Optimiser learning rate and decoupled weight decay.
    batch_size : int
        Global batch size (summed over all processes; must divide by their number).
    max_epochs, patience : int
        Stop after ``max_epochs`` or when validation r + rho has not improved for ``patience``
        epochs.
    loss : {"L1", "MSE", "Huber"}
        Huber uses delta 0.9, as in the authors' code.
    optimizer : {"AdamW", "Lion"}
        Lion (``lion_pytorch``) uses betas (0.9, 0.99).
    scheduler : {"None", "ReduceLROnPlateau", "OneCycleLR"}
        ReduceLROnPlateau steps on the validation loss each epoch; OneCycleLR (max_lr 0.01)
        steps each batch over ``max_epochs`` epochs.
    encoding : str or None
        One of ``camformer.data.ENCODINGS``; ``None`` takes the model's ``in_channels`` and
        :data:`DEFAULT_ENCODING`.
    seed : int
        Seeds the initial weights, the shuffling and dropout.
    he_init : bool
        Re-initialise convolution and linear weights (He, fan-in) before a fresh run.
    steps_per_epoch : int or None
        Cap on the batches per epoch (``None``: one pass over the training set).
    time_limit_s : float or None
        Stop after the epoch at which another epoch as long as the last would pass this many
        seconds of training (``None``: no limit). Keeps the quick preset inside the book's time
        budget on a slow or busy machine; on a fast one it never triggers.
    model, dataset, train_size, val_size, test_size
        Used by :func:`run_preset` only: the architecture to build (``camformer.models``), the
        data (``"dream_train"``: the challenge's training file, :func:`paper_data`;
        ``"test_library"``: the measured test library, :func:`quick_data`) and how many
        sequences of each split to subsample (``None``: all).
    amp : {"auto", "bf16", "off"}
        bf16 autocast with float32 master weights. ``auto``: on for CUDA and for CPUs with
        native bf16 (AVX512-BF16 or AMX), where it speeds up the convolutions several-fold.
    compile : {"auto", "on", "off"}
        ``torch.compile`` the model; ``auto`` means on for CUDA only (on CPU it took tens of
        seconds to compile and was not faster when measured).
    device : str
        ``"auto"`` (CUDA if present, else CPU), or a torch device string.
    num_threads : int or None
        ``torch.set_num_threads`` for CPU training (``None``: leave as is).
    eval_batch_size : int
        Batch size for validation and prediction.
    progress : bool
        Show a tqdm bar per epoch (first process only).
    """

    lr: float = 1e-3
    weight_decay: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 50
    patience: int = 10
    loss: str = "L1"
    optimizer: str = "AdamW"
    scheduler: str = "ReduceLROnPlateau"
    encoding: str | None = None
    seed: int = 42
    he_init: bool = True
    steps_per_epoch: int | None = None
    time_limit_s: float | None = None
    model: str = "original"
    dataset: str = "dream_train"
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    amp: str = "auto"
    compile: str = "auto"
    device: str = "auto"
    num_threads: int | None = None
    eval_batch_size: int = 1024
    progress: bool = True

    def __post_init__(self):
        checks = {
            "loss": (self.loss, LOSSES), "optimizer": (self.optimizer, OPTIMIZERS),
            "scheduler": (self.scheduler, SCHEDULERS), "amp": (self.amp, ("auto", "bf16", "off")),
            "compile": (self.compile, ("auto", "on", "off")),
            "dataset": (self.dataset, ("dream_train", "test_library")),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ValueError(f"TrainConfig.{name} = {value!r}; choose from {list(allowed)}")
        if self.encoding is not None and self.encoding not in ENCODINGS:
            raise ValueError(f"TrainConfig.encoding = {self.encoding!r}; choose from {sorted(ENCODINGS)}")
        if self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, max_epochs and patience must be at least 1")

    @classmethod
    def preset(cls, name: str, **overrides) -> "TrainConfig":
        """A named preset (``"paper"``, ``"quick"``, ``"smoke"``), with fields overridden."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


LOSSES = ("L1", "MSE", "Huber")
OPTIMIZERS = ("AdamW", "Lion")
SCHEDULERS = ("None", "ReduceLROnPlateau", "OneCycleLR")

PRESETS: dict[str, TrainConfig] = {
    "paper": TrainConfig(model="original", encoding="onehot"),
    # Sized by measurement on a 2-core CPU (Xeon with AMX) for the book's 15-minute budget. At
    # this scale the paper's lr 1e-3 often left Mini predicting a constant (with L1 and batch
    # 128 or 256, and with OneCycleLR) and MSE diverged for some seeds; L1 with lr 3e-4 learned
    # for every seed tried. 20,000 sequences x 5 epochs on two idle threads took 218 s (held-out
    # r 0.66, rho 0.76, seed 42). Two threads slow down badly when another process holds a core
    # (the threads wait on each other): the time limit then ends training early, so the book
    # stays within its budget on a busy machine; pass num_threads=1 there.
    "quick": TrainConfig(
        model="mini", dataset="test_library", encoding="onehotWithP", batch_size=128, max_epochs=5, patience=2,
        loss="L1", lr=3e-4, train_size=20_000, val_size=2_000, scheduler="None", num_threads=None,
        time_limit_s=300.0,
    ),
    "smoke": TrainConfig(
        model="mini", dataset="test_library", encoding="onehotWithP", batch_size=32, max_epochs=2, patience=2,
        train_size=192, val_size=128, test_size=128, scheduler="None", amp="off", eval_batch_size=256,
        progress=False,
    ),
}


# ---------------------------------------------------------------------------- pieces of the loop

def make_loss(name: str) -> nn.Module:
    """The loss a grid name stands for: ``L1``, ``MSE`` or ``Huber`` (delta 0.9)."""
    return {"L1": nn.L1Loss, "MSE": nn.MSELoss, "Huber": lambda: nn.HuberLoss(delta=0.9)}[name]()


def make_optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW (betas 0.9, 0.999) or Lion (betas 0.9, 0.99), as in the authors' code."""
    if name == "AdamW":
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay)
    if name == "Lion":
        from lion_pytorch import Lion

        return Lion(params, lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {list(OPTIMIZERS)}")


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int):
    """``None``, ReduceLROnPlateau (mode min, on validation loss) or OneCycleLR (max_lr 0.01)."""
    if name == "None":
        return None
    if name == "ReduceLROnPlateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    if name == "OneCycleLR":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, steps_per_epoch=steps_per_epoch,
                                                   epochs=epochs)
    raise ValueError(f"unknown scheduler {name!r}; choose from {list(SCHEDULERS)}")


@dataclass
class EarlyStopping:
    """Early stopping on a score to maximise (validation r + rho).

    ``update(score, epoch)`` returns True when the score beats the best so far; ``stop`` is True
    once ``patience`` epochs in a row have not improved on it.
    """

    patience: int
    best_score: float = -math.inf
    best_epoch: int = -1
    bad_epochs: int = 0

    def update(self, score: float, epoch: int) -> bool:
        if score > self.best_score:
            self.best_score, self.best_epoch, self.bad_epochs = float(score), int(epoch), 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def stop(self) -> bool:
        return self.bad_epochs >= self.patience


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"``: this process's CUDA device (``LOCAL_RANK``) if CUDA is present, else the CPU."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (``None``: full float32)."""
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        return torch.bfloat16 if native else None
    return None


def model_encoding(model: nn.Module, encoding: str | None = None) -> str:
    """The encoding to feed ``model``: ``encoding`` if given, else :data:`DEFAULT_ENCODING` for
    the model's ``config.in_channels`` (or its first layer's input channels)."""
    channels = getattr(getattr(model, "config", None), "in_channels", None)
    if channels is None:
        first = next((m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))), None)
        channels = getattr(first, "in_channels", None)
    if encoding is None:
        if channels not in DEFAULT_ENCODING:
            raise ValueError(f"cannot tell which encoding a model with {channels} input channels takes; name one")
        return DEFAULT_ENCODING[channels]
    if channels is not None and ENCODINGS[encoding] != channels:
        raise ValueError(f"encoding {encoding!r} has {ENCODINGS[encoding]} channels; the model takes {channels}")
    return encoding


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def predict(
    model: nn.Module,
    codes: np.ndarray | torch.Tensor,
    encoding: str | None = None,
    *,
    real_valued: np.ndarray | torch.Tensor | None = None,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    amp: str = "off",
    progress: bool = False,
) -> np.ndarray:
    """Predict expression for packed sequences, one-hot encoding each batch on the device.

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, L)`` float to ``(N,)`` or ``(N, 1)``; run in eval mode.
    codes : uint8 array or tensor, shape (N, L)
    encoding : str, optional
        Default: from the model's input channels (:func:`model_encoding`).
    real_valued : bool (N,), optional
        The Int flag for the ``onehotWith{Int,Both}`` encodings (``None``: 1 for all, as the
        paper did at test time).
    device : optional
        Default: where the model's parameters are.
    amp : {"off", "auto", "bf16"}

    Returns
    -------
    np.ndarray, float32, shape (N,)
    """
    net = _unwrap(model)
    encoding = model_encoding(net, encoding)
    param = next(net.parameters(), None)
    device = torch.device(device) if device is not None else (param.device if param is not None else torch.device("cpu"))
    dtype = resolve_amp(amp, device)
    codes = torch.as_tensor(codes)
    flags = torch.as_tensor(real_valued) if real_valued is not None else None
    out = torch.empty(len(codes), dtype=torch.float32)
    was_training = net.training
    net.eval()
    starts = range(0, len(codes), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="predicting", unit="batch")
    try:
        with torch.no_grad(), _autocast(device, dtype):
            for s in starts:
                x = encode(codes[s:s + batch_size].to(device, non_blocking=True), encoding,
                           real_valued=None if flags is None else flags[s:s + batch_size].to(device))
                out[s:s + batch_size] = model(x).reshape(-1).float().cpu()
    finally:
        net.train(was_training)
    return out.numpy()


def atomic_save(obj, path: str | Path) -> Path:
    """``torch.save`` to a temporary file next to ``path``, then rename it into place, so a
    reader never sees a partly written file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)
    return path


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------- distributed

def init_distributed() -> tuple[int, int]:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1 in the environment),
    with NCCL on CUDA and gloo otherwise. Returns ``(rank, world_size)``; ``(0, 1)`` alone."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather_rows(local: torch.Tensor, n_total: int, world: int) -> torch.Tensor:
    """All-gather equal-length (padded) 1-D shards and trim to ``n_total``."""
    import torch.distributed as dist

    parts = [torch.empty_like(local) for _ in range(world)]
    dist.all_gather(parts, local)
    return torch.cat(parts)[:n_total]


# ---------------------------------------------------------------------------- training

@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    history : pandas.DataFrame
        One row per epoch: ``epoch, train_loss, val_loss, val_pearson, val_spearman, val_score,
        lr, seconds, seq_per_s, best``.
    best_state : dict
        The state dict (on the CPU) of the epoch with the best validation r + rho (the last
        epoch's if none had a finite score); the model passed to :func:`train` holds these
        weights on return.
    metrics : dict
        ``best_epoch``, ``val_pearson``, ``val_spearman`` at the best epoch, ``stopped_early``,
        ``seconds``, and ``test_pearson``, ``test_spearman`` when ``data`` has a ``"test"`` split.
    model : nn.Module
        The trained model (best weights), unwrapped from DDP or compile.
    test_predictions : np.ndarray or None
        float32 ``(N_test,)``: the best weights' predictions for ``data["test"]``, in its order.
    """

    history: pd.DataFrame
    best_state: dict
    metrics: dict
    model: nn.Module = field(repr=False, default=None)
    test_predictions: np.ndarray | None = field(repr=False, default=None)


def _validate(model, codes, targets, flags, encoding, loss_fn, cfg, device, rank, world):
    """Predictions on a split (sharded over processes, gathered) -> (loss, r, rho, predictions)."""
    n = len(codes)
    per_rank = -(-n // world)
    lo, hi = min(rank * per_rank, n), min((rank + 1) * per_rank, n)
    # Scored predictions are made in float32: a bf16 output keeps about 3 significant digits,
    # and the ties that makes change Spearman's rho (the training steps still use autocast).
    local = torch.from_numpy(predict(model, codes[lo:hi], encoding, real_valued=None if flags is None else flags[lo:hi],
                                     batch_size=cfg.eval_batch_size, device=device, amp="off"))
    if world > 1:
        padded = torch.zeros(per_rank, dtype=torch.float32)
        padded[: len(local)] = local
        local = _gather_rows(padded.to(device), n, world).cpu()
    pred = local.numpy()
    loss = float(loss_fn(local.double(), torch.as_tensor(targets, dtype=torch.float64)))
    return loss, pearson_r(targets, pred), spearman_rho(targets, pred), pred


def train(
    model: nn.Module,
    data: Mapping[str, SequenceData],
    config: TrainConfig = TrainConfig(),
    *,
    run_dir: str | Path | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``data["train"]``, early-stopping on ``data["val"]``.

    Parameters
    ----------
    model : nn.Module
        Any model mapping ``(N, C, 110)`` float to ``(N,)`` or ``(N, 1)``.
    data : mapping of SequenceData
        ``"train"`` and ``"val"``, optionally ``"test"`` (scored once, with the best weights).
    config : TrainConfig
    run_dir : path, optional
        Where ``checkpoint.pt`` (every epoch, atomically), ``history.csv`` and
        ``train_config.json`` go. If it already holds a checkpoint, training resumes after its
        last finished epoch (the configs must match). ``None``: nothing is written.
    on_step : callable, optional
        Called as ``on_step(epoch, step)`` after every optimiser step (a hook for tests and
        monitoring; an exception raised there interrupts the run like a kill would).

    Returns
    -------
    TrainResult

    Notes
    -----
    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process takes an equal, contiguous slice of
    every global batch and DDP averages the gradients, which equals the single-process gradient
    of the batch-mean loss. The validation metrics are computed on the gathered predictions of
    all processes. The history then matches a single-process run on the same data up to
    floating-point summation order, provided the model has no dropout (each process draws its
    own masks) and no BatchNorm (statistics per slice; use ``nn.SyncBatchNorm`` on GPUs).
    """
    rank, world = init_distributed()
    device = resolve_device(config.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if config.num_threads and device.type == "cpu":
        torch.set_num_threads(config.num_threads)
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} does not divide among {world} processes")
    net = _unwrap(model)
    encoding = model_encoding(net, config.encoding)
    train_data, val_data = data["train"], data["val"]
    local_batch = config.batch_size // world
    steps = len(train_data) // config.batch_size  # drop the last incomplete batch, as the reference did
    if config.steps_per_epoch:
        steps = min(steps, config.steps_per_epoch)
    if steps < 1:
        raise ValueError(f"{len(train_data)} training sequences make no full batch of {config.batch_size}")

    run_dir = Path(run_dir) if run_dir is not None else None
    ckpt_path = run_dir / CHECKPOINT if run_dir is not None else None
    resume = ckpt_path is not None and ckpt_path.exists()
    if not resume:
        seed_everything(config.seed)
        if config.he_init:
            init_he(net)
    net.to(device)

    loss_fn = make_loss(config.loss)
    optimizer = make_optimizer(config.optimizer, net.parameters(), config.lr, config.weight_decay)
    scheduler = make_scheduler(config.scheduler, optimizer, steps, config.max_epochs)
    stopper = EarlyStopping(config.patience)
    rows: list[dict] = []
    best_state = None  # until an epoch scores (a model predicting a constant has no r or rho)
    start_epoch = 0
    if resume:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if ckpt["config"] != config.to_dict():
            raise ValueError(f"{ckpt_path}: written with a different TrainConfig; use a new run directory "
                             f"(saved {ckpt['config']}, now {config.to_dict()})")
        net.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        stopper = EarlyStopping(**ckpt["early_stopping"])
        rows, best_state = ckpt["history"], ckpt["best_state"]
        start_epoch = ckpt["epoch"] + 1
        _set_rng_state(ckpt["rng"])
    if rank == 0 and run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_text_atomic(run_dir / "train_config.json", json.dumps(config.to_dict(), indent=1))

    step_model: nn.Module = net
    if world > 1:
        step_model = nn.parallel.DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
    use_compile = config.compile == "on" or (config.compile == "auto" and device.type == "cuda")
    if use_compile:
        step_model = torch.compile(step_model)
    amp_dtype = resolve_amp(config.amp, device)

    # The training set lives on the device as uint8 codes: 110 bytes a sequence.
    codes = torch.from_numpy(np.ascontiguousarray(train_data.codes)).to(device)
    targets = torch.from_numpy(np.ascontiguousarray(train_data.targets, dtype=np.float32)).to(device)
    flags = torch.from_numpy(np.ascontiguousarray(train_data.real_valued)).to(device)
    with_flag = encoding in ("onehotWithInt", "onehotWithBoth")
    t_run = time.perf_counter()
    epoch = start_epoch
    for epoch in range(start_epoch, config.max_epochs):
        if stopper.stop:
            break
        # The same permutation in every process, and after a resume: seeded by (seed, epoch).
        gen = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(len(train_data), generator=gen)[: steps * config.batch_size].to(device)
        step_model.train()
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        bar = None
        if config.progress and rank == 0:
            from tqdm import tqdm

            bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{config.max_epochs}", unit="batch", leave=False,
                       mininterval=10)
        t0 = time.perf_counter()
        for step in range(steps):
            g = order[step * config.batch_size: (step + 1) * config.batch_size]
            idx = g[rank * local_batch: (rank + 1) * local_batch]
            x = encode(codes[idx], encoding, real_valued=flags[idx] if with_flag else None)
            with _autocast(device, amp_dtype):
                pred = step_model(x).reshape(-1)
            loss = loss_fn(pred.float(), targets[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if config.scheduler == "OneCycleLR":
                scheduler.step()
            loss_sum += loss.detach()
            if bar is not None:
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{loss.item():.4f}")
            if on_step is not None:
                on_step(epoch, step)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        if world > 1:
            import torch.distributed as dist

            dist.all_reduce(loss_sum)
            loss_sum /= world
        train_loss = float(loss_sum) / steps
        val_loss, val_r, val_rho, _ = _validate(net, val_data.codes, val_data.targets, val_data.real_valued if with_flag else None,
                                                encoding, loss_fn, config, device, rank, world)
        if config.scheduler == "ReduceLROnPlateau":
            scheduler.step(val_loss)
        score = val_r + val_rho
        improved = stopper.update(score if math.isfinite(score) else -math.inf, epoch)
        if improved:
            best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        rows.append({
            "epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "val_pearson": val_r,
            "val_spearman": val_rho, "val_score": score, "lr": optimizer.param_groups[0]["lr"],
            "seconds": seconds, "seq_per_s": steps * config.batch_size / seconds, "best": improved,
        })
        if rank == 0 and run_dir is not None:
            atomic_save({
                "epoch": epoch, "config": config.to_dict(), "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "early_stopping": asdict(stopper), "rng": _rng_state(), "history": rows,
                "best_state": best_state,
            }, ckpt_path)
            _write_text_atomic(run_dir / HISTORY, pd.DataFrame(rows).to_csv(index=False))
        if world > 1:
            import torch.distributed as dist

            dist.barrier()
        if config.time_limit_s is not None:
            trained = sum(row["seconds"] for row in rows[len(rows) - (epoch - start_epoch + 1):])
            over = torch.tensor(float(trained + seconds > config.time_limit_s), device=device)
            if world > 1:  # every process must take the same decision
                import torch.distributed as dist

                dist.all_reduce(over, op=dist.ReduceOp.MAX)
            if over.item():
                break
    if best_state is None:  # no epoch scored: keep the last weights
        best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    history = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss", "val_pearson", "val_spearman",
                                          "val_score", "lr", "seconds", "seq_per_s", "best"])
    best = history.loc[history["best"]].iloc[-1] if history["best"].any() else None
    metrics = {
        "best_epoch": int(best["epoch"]) if best is not None else 0,
        "val_pearson": float(best["val_pearson"]) if best is not None else float("nan"),
        "val_spearman": float(best["val_spearman"]) if best is not None else float("nan"),
        "stopped_early": bool(stopper.stop and len(history) < config.max_epochs),
        "seconds": time.perf_counter() - t_run,
    }
    test_predictions = None
    if "test" in data:
        test = data["test"]
        _, r, rho, test_predictions = _validate(net, test.codes, test.targets, test.real_valued if with_flag else None,
                                                encoding, loss_fn, config, device, rank, world)
        metrics.update(test_pearson=r, test_spearman=rho)
    return TrainResult(history=history, best_state=best_state, metrics=metrics, model=net,
                       test_predictions=test_predictions)


# ---------------------------------------------------------------------------- presets' data

def quick_data(train_size: int | None = None, val_size: int | None = None, test_size: int | None = None,
               *, seed: int = 42) -> dict[str, SequenceData]:
    """The quick preset's data: the measured test library, split 80/10/10 by variant family.

    The sizes subsample each split's sequences (seeded; ``None`` keeps the split whole), after
    the family split, so no family straddles two splits. A small-data demonstration: these
    sequences are the challenge's *test* set, so numbers from it are not comparable to the
    leaderboard.

    Returns
    -------
    dict with ``"train"``, ``"val"``, ``"test"`` -> SequenceData
    """
    from .data import family_split, load_test_pairs, test_set_data

    full = test_set_data()
    split = family_split(full.ids, full.targets, load_test_pairs(), seed=seed)
    rng = np.random.default_rng(seed)
    out = {}
    for name, size in (("train", train_size), ("val", val_size), ("test", test_size)):
        ids = split[name]
        if size is not None and size < len(ids):
            ids = np.sort(rng.choice(ids, size=size, replace=False))
        out[name] = full.subset(ids)
    return out


def paper_data(train_file: str | Path | None, run_dir: str | Path | None = None, *,
               seed: int = 42, progress: bool = False) -> dict[str, SequenceData]:
    """The paper preset's data: the challenge's training file, split 90/5/5 by expression decile.

    The split is stored as ids in ``run_dir/split.npz`` (and read back from there on a rerun).
    """
    from .data import load_split, read_dream_txt, save_split, stratified_split

    if train_file is None:
        raise FileNotFoundError("the paper preset needs the challenge's training file: run `camformer data fetch` "
                                "and pass its path with --train-file")
    data, report = read_dream_txt(train_file, progress=progress)
    if progress:
        print(report)
    split_path = Path(run_dir) / "split.npz" if run_dir is not None else None
    if split_path is not None and split_path.exists():
        split = load_split(split_path)
    else:
        split = stratified_split(data.ids, data.targets, (0.9, 0.05, 0.05), seed=seed)
        if split_path is not None:
            split_path.parent.mkdir(parents=True, exist_ok=True)
            save_split(split, split_path)
    return {k: data.subset(v) for k, v in split.items()}


def run_preset(
    preset: str | TrainConfig,
    run_dir: str | Path | None = None,
    *,
    train_file: str | Path | None = None,
    data: Mapping[str, SequenceData] | None = None,
    **overrides,
) -> TrainResult:
    """Build the preset's model, load its data and :func:`train` it.

    ``config.dataset`` picks the data: :func:`paper_data` of ``train_file`` (``paper``) or
    :func:`quick_data` (``quick``, ``smoke``); ``data`` overrides either. The model is Original, Small or Mini
    (``config.model``) with the encoding's channels.
    """
    from .models import ModelConfig, build_model

    config = preset if isinstance(preset, TrainConfig) else TrainConfig.preset(preset, **overrides)
    if data is None:
        if config.dataset == "dream_train":
            data = paper_data(train_file, run_dir, seed=config.seed, progress=config.progress)
        else:
            data = quick_data(config.train_size, config.val_size, config.test_size, seed=config.seed)
    encoding = config.encoding or "onehot"
    model = build_model(ModelConfig(config.model, ENCODINGS[encoding]))
    return train(model, data, replace(config, encoding=encoding), run_dir=run_dir)


# ---------------------------------------------------------------------------- the grid

def grid_train_config(grid, base: TrainConfig) -> TrainConfig:
    """``base`` with the loss, optimiser, scheduler, encoding and model of a grid run
    (a :class:`camformer.models.GridConfig`)."""
    from .models import SIZE_ARCHITECTURES

    return replace(base, loss=grid.loss, optimizer=grid.optimizer, scheduler=grid.scheduler,
                   encoding=grid.encoding, model=SIZE_ARCHITECTURES[grid.size])


def retrain_grid(grids, seeds, base: TrainConfig, data: Mapping[str, SequenceData],
                 progress: bool = True) -> pd.DataFrame:
    """Train each grid run with each seed on ``data``; one row per (run, seed).

    Returns
    -------
    pandas.DataFrame
        ``id, name, size, encoding, loss, optimizer, scheduler, seed, epochs, val_pearson,
        val_spearman, test_pearson, test_spearman, seconds`` (the test columns need a ``"test"``
        split).
    """
    from .models import ModelConfig, build_model

    jobs = [(g, s) for g in grids for s in seeds]
    if progress:
        from tqdm import tqdm

        jobs = tqdm(jobs, desc="grid runs", unit="run")
    rows = []
    for grid, seed in jobs:
        config = grid_train_config(grid, replace(base, seed=seed, progress=False))
        model = build_model(ModelConfig(config.model, ENCODINGS[grid.encoding]))
        result = train(model, data, config)
        m = result.metrics
        rows.append({"id": grid.id, "name": grid.name, "size": grid.size, "encoding": grid.encoding,
                     "loss": grid.loss, "optimizer": grid.optimizer, "scheduler": grid.scheduler, "seed": seed,
                     "epochs": len(result.history), "val_pearson": m["val_pearson"],
                     "val_spearman": m["val_spearman"], "test_pearson": m.get("test_pearson", np.nan),
                     "test_spearman": m.get("test_spearman", np.nan), "seconds": m["seconds"]})
    return pd.DataFrame(rows)


__all__ = [
    "grid_train_config", "retrain_grid",
    "PAPER_SEEDS", "TrainConfig", "TrainResult", "EarlyStopping", "train", "predict", "run_preset",
    "quick_data", "paper_data", "make_loss", "make_optimizer", "make_scheduler", "atomic_save",
    "init_distributed", "resolve_amp", "resolve_device", "model_encoding", "seed_everything",
]


# ---------------------------------------------------------------------------- the book's model

HELDOUT_PREDICTIONS = "predictions_heldout.tsv"


def save_book_model(model: nn.Module, predictions: pd.DataFrame, results_dir: str | Path, preset: str) -> Path:
    """Save the model the book's training chapter trained, and its held-out predictions
    (columns ``id, prediction``), under ``{results_dir}/{preset}/``; returns that folder."""
    from .models import save_model

    out = Path(results_dir) / preset
    out.mkdir(parents=True, exist_ok=True)
    predictions[["id", "prediction"]].to_csv(out / HELDOUT_PREDICTIONS, sep="\t", index=False)
    save_model(model, out / "model")
    return out


def load_book_model(results_dir: str | Path, preset: str) -> tuple[nn.Module, pd.DataFrame]:
    """The model saved by :func:`save_book_model` (in eval mode) and its held-out predictions.

    Returns
    -------
    (nn.Module, pandas.DataFrame with columns ``id, prediction``)

    Raises
    ------
    FileNotFoundError
        Naming the missing file, and saying to run the training chapter (``03_training``)
        first with the same preset and results directory.
    """
    from .models import load_model

    out = Path(results_dir) / preset
    for path in (out / "model" / "config.json", out / HELDOUT_PREDICTIONS):
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; run chapter 03_training first "
                                    f"(with preset={preset!r} and results_dir={str(results_dir)!r})")
    return load_model(out / "model"), pd.read_csv(out / HELDOUT_PREDICTIONS, sep="\t")
