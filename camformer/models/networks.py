"""Camformer models: Original (= Large), Small, Mini and the book's Micro, the configurations of the paper's 270-model grid, and checkpoints (retraining the grid is :mod:`camformer.training.grid`).

Every model is a plain :class:`torch.nn.Module` built from a frozen :class:`ModelConfig`; it
maps float one-hot input ``(N, C, 110)`` to predicted expression ``(N,)`` and carries its
``.config``. Speed switches (bf16 autocast, channels-last, ``torch.compile``, DDP) belong to
the training loop, not here.

Where each architecture comes from
----------------------------------
``original`` (the paper's Camformer, and the "Large" size of the grid; 16,611,073 parameters
with 4 input channels)
    The authors' code (github.com/Bornelov-lab/Camformer, ``base/model.py``) and the challenge
    submission's own printout of the model (github.com/FredrikSvenssonUK/DREAM2022_Camformers,
    ``submission/Output/stdout.txt``): six blocks of a "same"-padded convolution (kernel 10,
    512 channels; for the even kernel the extra zero goes on the 3' side: 4 before, 5 after),
    BatchNorm, ReLU, dropout 0.3, with a max-pool (10, stride 4: 110 -> 26) in block 5; residual
    pairs (1, 2), (3, 4), (5, 6) computing ``x = B2(B1(x)) + B1(x)``; then 13,312 -> 256 -> 256
    -> 1 with ReLU (dense dropout 0.0 in the submission).
``mini`` (Camformer Mini; 1,446,721 parameters with 5 channels, 1,444,801 with 4)
    Not listed in the paper. A public fork of the authors' code (github.com/gautammalik-git/
    Camformer, ``base_camformer.py``, run with the authors' ``base/model_basic.py``) gives a
    plain CNN without shortcuts that reproduces both published counts exactly: convolutions
    5->384 (kernel 5), 384->256 (6), 256->128 (6), 128->64 (5, then max-pool 7 stride 2),
    64->128 (5), 128->192 (4), each padded by 5 on both sides (110 -> 116 -> 121 -> 126 -> 132
    -> 63 -> 69 -> 76), BatchNorm, ReLU and dropout 0.156 ... 0.344 rising by block; then
    14,592 -> 32 -> 1.
``small`` (the grid's "Small" size; 3,401,601 / 3,402,881 / 3,404,161 parameters)
    **A reconstruction matched on parameter counts**: neither the paper nor the public code
    lists its layers. The authors' training script says Small is a residual CNN like Large
    (``base/model.py``). We use three residual pairs of 256-channel convolutions with kernel 5
    ("same" padding), a max-pool (5, stride 2: 110 -> 53) in block 5, and 13,568 -> 128 -> 128
    -> 1. It gives the three published counts exactly (first layer 256 x 5 = 1,280 weights per
    input channel, as the scoreboards' steps require), but other layer choices would too.
``micro`` (the book's own model; 438,913 parameters with 5 channels; **not a model of the paper**)
    Original's blocks (six "same" convolutions of kernel 10, residual pairs (1, 2), (3, 4),
    (5, 6), the pool 10 / 4) at 64 channels with dropout 0.1, then 1,664 -> 128 -> 128 -> 1;
    the max-pool sits in block 3 instead of block 5, so blocks 4-6 run on 26 positions. It
    needs about 1/10 of Mini's arithmetic per sequence (:func:`count_macs`): on a 2-core AVX2
    CPU in fp32 it trains three epochs of the quick preset's data in under five minutes, where
    Mini manages about one (benchmarks/RESULTS.md); the quick preset trains three of them (a
    seed ensemble) for two epochs each.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from camformer.data.dream import ENCODINGS, SEQ_LEN, load_split, save_split
from camformer.models.inference import unwrap

N_BLOCKS = 6


# ---------------------------------------------------------------------------- architectures

@dataclass(frozen=True)
class Architecture:
    """The layer plan of one Camformer architecture (six convolution blocks, then dense layers).

    Attributes
    ----------
    channels, kernels : tuple of 6 ints
        Output channels and kernel width of each block's convolution.
    padding : "same" or int
        "same" keeps the length (for even kernels the extra zero is on the 3' side); an int pads
        both sides by that many positions.
    pool_block, pool_kernel, pool_stride : int
        The block (0-based) that ends with a max-pool, and the pool's size and stride.
    hidden : tuple of int
        Widths of the hidden dense layers (each Linear, ReLU, Dropout).
    residual_blocks : tuple of int
        Blocks (0-based) whose input is added to their output: (1, 3, 5) makes the pairs
        (B1, B2) compute ``B2(B1(x)) + B1(x)``.
    dropout : tuple of 6 floats
        The published dropout rate of each block (the default of :class:`ModelConfig`).
    """

    channels: tuple[int, ...]
    kernels: tuple[int, ...]
    padding: str | int
    pool_block: int
    pool_kernel: int
    pool_stride: int
    hidden: tuple[int, ...]
    residual_blocks: tuple[int, ...]
    dropout: tuple[float, ...]


CHANNELS_MICRO = 64
DROPOUT_MICRO = 0.1
ARCHITECTURES: dict[str, Architecture] = {
    "original": Architecture(
        channels=(512,) * 6, kernels=(10,) * 6, padding="same",
        pool_block=4, pool_kernel=10, pool_stride=4, hidden=(256, 256),
        residual_blocks=(1, 3, 5), dropout=(0.3,) * 6,
    ),
    # Reconstruction matched on the published parameter counts (see the module docstring).
    "small": Architecture(
        channels=(256,) * 6, kernels=(5,) * 6, padding="same",
        pool_block=4, pool_kernel=5, pool_stride=2, hidden=(128, 128),
        residual_blocks=(1, 3, 5), dropout=(0.3,) * 6,
    ),
    "mini": Architecture(
        channels=(384, 256, 128, 64, 128, 192), kernels=(5, 6, 6, 5, 5, 4), padding=5,
        pool_block=3, pool_kernel=7, pool_stride=2, hidden=(32,),
        residual_blocks=(), dropout=(0.156, 0.194, 0.231, 0.269, 0.306, 0.344),
    ),
    # The book's own model for a 2-core CPU (not a model of the paper): Original's blocks (six
    # "same" convolutions of kernel 10, residual pairs, two hidden layers) at 64 channels and
    # hidden 128, with the max-pool moved from block 5 to block 3, so that the last three
    # convolutions run on 26 positions. Sized so the quick preset trains in fp32 within five
    # minutes on a 2-core AVX2 CPU (measured in benchmarks/RESULTS.md).
    "micro": Architecture(
        channels=(CHANNELS_MICRO,) * 6, kernels=(10,) * 6, padding="same",
        pool_block=2, pool_kernel=10, pool_stride=4, hidden=(128, 128),
        residual_blocks=(1, 3, 5), dropout=(DROPOUT_MICRO,) * 6,
    ),
}
# The grid's model sizes -> architectures ("Large" is the Original network).
SIZE_ARCHITECTURES: dict[str, str] = {"Large": "original", "Small": "small", "Mini": "mini"}


@dataclass(frozen=True)
class ModelConfig:
    """What to build: an architecture, its input channels and its dropout rates.

    Parameters
    ----------
    architecture : {"original", "small", "mini", "micro"}
        "original" is also the grid's "Large" size; "micro" is the book's CPU-sized model.
    in_channels : int
        Input channels: 4 for ``onehot``/``onehotWithN``, 5 with a purine or Int channel, 6 with
        both (``camformer.data.dream.ENCODINGS``).
    dropout : float, tuple of 6 floats, or None
        Dropout after each convolution block: one rate for all, one per block, or ``None`` for
        the architecture's published rates. Stored as a tuple of 6 floats.
    linear_dropout : float
        Dropout after each hidden dense layer (0.0 in the published models).
    seq_len : int
        Input length in nucleotides.
    """

    architecture: str = "original"
    in_channels: int = 4
    dropout: float | tuple[float, ...] | None = None
    linear_dropout: float = 0.0
    seq_len: int = SEQ_LEN

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; choose from {sorted(ARCHITECTURES)}")
        if int(self.in_channels) < 1:
            raise ValueError(f"in_channels must be at least 1, got {self.in_channels}")
        rates = self.dropout
        if rates is None:
            rates = ARCHITECTURES[self.architecture].dropout
        elif isinstance(rates, (int, float)):
            rates = (rates,) * N_BLOCKS
        rates = tuple(float(r) for r in rates)
        if len(rates) != N_BLOCKS or not all(0.0 <= r < 1.0 for r in rates + (self.linear_dropout,)):
            raise ValueError(f"dropout needs {N_BLOCKS} rates in [0, 1), got {self.dropout!r}")
        object.__setattr__(self, "dropout", rates)
        object.__setattr__(self, "in_channels", int(self.in_channels))
        object.__setattr__(self, "linear_dropout", float(self.linear_dropout))

    @property
    def spec(self) -> Architecture:
        """The architecture's layer plan."""
        return ARCHITECTURES[self.architecture]

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["dropout"] = list(d["dropout"])
        return d


class ConvBlock(nn.Module):
    """Convolution, BatchNorm, ReLU, optional max-pool, dropout: ``(N, C_in, L) -> (N, C_out, L')``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, padding: str | int,
                 pool: tuple[int, int] | None, dropout: float):
        super().__init__()
        # "same" for an even kernel pads one more zero after than before (as the authors'
        # Conv2dSame does); an explicit pad avoids PyTorch's warning for that case.
        total = kernel - 1 if padding == "same" else 2 * padding
        self.padding = (total // 2, total - total // 2)
        self.conv = nn.Conv1d(in_channels, out_channels, kernel)
        self.norm = nn.BatchNorm1d(out_channels)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool1d(pool[0], stride=pool[1]) if pool else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.pool(self.act(self.norm(self.conv(F.pad(x, self.padding))))))


def _output_length(length: int, kernel: int, padding: str | int) -> int:
    return length if padding == "same" else length + 2 * padding - kernel + 1


class Camformer(nn.Module):
    """A Camformer network: six convolution blocks (with shortcuts where the architecture has
    them), flatten, hidden dense layers, one output.

    Parameters
    ----------
    config : ModelConfig

    Input ``(N, config.in_channels, config.seq_len)`` float; output ``(N,)`` predicted expression.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        spec = config.spec
        self.residual_blocks = tuple(spec.residual_blocks)
        blocks, c_in, length = [], config.in_channels, config.seq_len
        for i, (c_out, k) in enumerate(zip(spec.channels, spec.kernels)):
            pool = (spec.pool_kernel, spec.pool_stride) if i == spec.pool_block else None
            blocks.append(ConvBlock(c_in, c_out, k, spec.padding, pool, config.dropout[i]))
            length = _output_length(length, k, spec.padding)
            if pool:
                length = (length - pool[0]) // pool[1] + 1
            if i in self.residual_blocks and (c_in != c_out or pool):
                raise ValueError(f"block {i} cannot have a shortcut: it changes the shape")
            c_in = c_out
        if length < 1:
            raise ValueError(f"seq_len {config.seq_len} is too short for architecture {config.architecture!r}")
        self.blocks = nn.ModuleList(blocks)
        self.flat_features = c_in * length
        dims = (self.flat_features,) + tuple(spec.hidden)
        self.hidden = nn.Sequential(*[
            nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(config.linear_dropout))
            for a, b in zip(dims[:-1], dims[1:])
        ])
        self.output = nn.Linear(dims[-1], 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution stack: ``(N, C, L) -> (N, C_last, L_last)``."""
        for i, block in enumerate(self.blocks):
            y = block(x)
            x = y + x if i in self.residual_blocks else y
        return x

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the last hidden layer, ``(N, C, L) -> (N, D)`` (D = 256 for Original,
        128 for Small, 32 for Mini): the embedding the paper's t-SNE maps use."""
        return self.hidden(self.features(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.embed(x)).squeeze(-1)


# ---------------------------------------------------------------------------- builders

def build_model(config: ModelConfig) -> Camformer:
    """Build the model a :class:`ModelConfig` describes (PyTorch's default initialisation;
    call :func:`init_he` for the authors' He initialisation)."""
    return Camformer(config)


def camformer_original(in_channels: int = 4) -> Camformer:
    """Camformer Original (grid model 9; the Large size): 16,611,073 parameters with 4 channels."""
    return build_model(ModelConfig("original", in_channels))


def camformer_small(in_channels: int = 4) -> Camformer:
    """The grid's Small size (a reconstruction matched on parameter counts): 3,401,601 with 4."""
    return build_model(ModelConfig("small", in_channels))


def camformer_mini(in_channels: int = 5) -> Camformer:
    """Camformer Mini (grid model 219, onehotWithP): 1,446,721 parameters with 5 channels."""
    return build_model(ModelConfig("mini", in_channels))


def camformer_micro(in_channels: int = 5) -> Camformer:
    """Camformer Micro, the book's own CPU-sized model (not a model of the paper): Original's
    blocks at 64 channels, hidden 128, the pool in block 3 (438,913 parameters with 5 channels)."""
    return build_model(ModelConfig("micro", in_channels))


def init_he(model: nn.Module) -> nn.Module:
    """He (Kaiming normal, fan-in, ReLU) initialisation of every convolution and linear weight,
    zero biases, as in the authors' ``initialize_weights_he``. Modifies and returns ``model``."""
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (what the paper's scoreboards report, in millions)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = (1, 4, SEQ_LEN)) -> int:
    """Multiply-accumulates of one forward pass per sequence, counted by
    ``torch.utils.flop_counter`` (convolutions and matrix products; 1 MAC = 2 FLOPs) on a zero
    input of ``input_shape`` ``(N, C, L)``, divided by N. Training costs about 3x this per sequence."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(input_shape))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2 // input_shape[0]


# ---------------------------------------------------------------------------- the paper's grid

GRID_SIZES = ("Large", "Small", "Mini")
GRID_ENCODINGS = ("onehot", "onehotWithN", "onehotWithP", "onehotWithInt", "onehotWithBoth")
GRID_LOSSES = ("MSE", "L1", "Huber")
GRID_OPTIMIZERS = ("AdamW", "Lion")
GRID_SCHEDULERS = ("None", "OneCycleLR", "ReduceLROnPlateau")


@dataclass(frozen=True)
class GridConfig:
    """One run of the paper's 270-model grid (RunID and order as in ``score_board_*.csv``): a
    model (:meth:`model_config`) and the choices it was trained with
    (:func:`camformer.training.grid.grid_train_config`).

    Losses, optimisers and schedulers are names; ``camformer.training.train`` maps them to objects:
    ``loss`` MSE, L1 or Huber (delta 0.9); ``optimizer`` AdamW or Lion (betas 0.9, 0.99);
    ``scheduler`` "None", OneCycleLR (max_lr 0.01) or ReduceLROnPlateau (on validation loss).
    """

    id: int
    size: str
    encoding: str
    loss: str
    optimizer: str
    scheduler: str

    @property
    def name(self) -> str:
        """E.g. ``"Mini-onehotWithP-MSE-AdamW-ReduceLROnPlateau"``."""
        return f"{self.size}-{self.encoding}-{self.loss}-{self.optimizer}-{self.scheduler}"

    @property
    def in_channels(self) -> int:
        return ENCODINGS[self.encoding]

    def model_config(self) -> ModelConfig:
        """The :class:`ModelConfig` of this run's network."""
        return ModelConfig(SIZE_ARCHITECTURES[self.size], self.in_channels)


def grid_configs() -> list[GridConfig]:
    """All 270 grid runs, ids 1..270: size, then encoding, loss, optimiser, scheduler, the
    order of the published scoreboards (model 9 = Original, model 219 = Mini)."""
    runs = []
    for size in GRID_SIZES:
        for encoding in GRID_ENCODINGS:
            for loss in GRID_LOSSES:
                for optimizer in GRID_OPTIMIZERS:
                    for scheduler in GRID_SCHEDULERS:
                        runs.append(GridConfig(len(runs) + 1, size, encoding, loss, optimizer, scheduler))
    return runs


def grid_config(name_or_id: int | str) -> GridConfig:
    """One grid run by id (1..270, also as a string such as ``"9"``) or by name."""
    runs = grid_configs()
    key = str(name_or_id)
    if key.isdigit() and 1 <= int(key) <= len(runs):
        return runs[int(key) - 1]
    for run in runs:
        if run.name == key:
            return run
    raise KeyError(f"no grid run {name_or_id!r}: give an id 1..{len(runs)} or a name such as {runs[8].name!r}")


# ---------------------------------------------------------------------------- save and load

CONFIG_FILE, WEIGHTS_FILE, SPLIT_FILE = "config.json", "model.pt", "split.npz"
_METADATA_KEYS = ("encoding", "dataset")


def save_model(model: nn.Module, directory: str | Path, *, encoding: str | None = None,
               dataset: str | None = None, split: dict[str, np.ndarray] | None = None) -> Path:
    """Save a model with what it takes to use it again; returns the directory (created if needed).

    Writes ``model.pt`` (the state dict), ``config.json`` as ``{"model": <ModelConfig>,
    "encoding": ..., "dataset": ...}`` and, with ``split``, ``split.npz``
    (:func:`camformer.data.dream.save_split`; a stale one is removed when no split is given).

    Parameters
    ----------
    model : Camformer (also inside ``torch.compile`` or DDP)
    encoding : str, optional
        The input encoding it was trained with (:data:`camformer.data.dream.ENCODINGS`); default the
        model's own ``encoding`` attribute (set by :func:`load_model`), else not recorded.
    dataset : str, optional
        What it was trained on: ``"dream_train"`` (the challenge's training file) or
        ``"test_library"`` (the measured test library; see ``camformer.training.train``).
    split : dict of name -> id array, optional
        The ids of its ``train``/``val``/``test`` splits, so that held-out ids are known.
    """
    model = unwrap(model)
    encoding = encoding if encoding is not None else getattr(model, "encoding", None)
    _check_encoding(encoding, model.config.in_channels, "save_model")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), directory / WEIGHTS_FILE)
    config = {"model": model.config.to_dict(), "encoding": encoding, "dataset": dataset}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=1))
    if split is not None:
        save_split(split, directory / SPLIT_FILE)
    else:
        (directory / SPLIT_FILE).unlink(missing_ok=True)
    return directory


def _check_encoding(encoding: str | None, in_channels: int, where: str | Path) -> None:
    if encoding is None:
        return
    if encoding not in ENCODINGS:
        raise ValueError(f"{where}: unknown encoding {encoding!r}; expected one of {sorted(ENCODINGS)}")
    if ENCODINGS[encoding] != in_channels:
        raise ValueError(f"{where}: encoding {encoding!r} has {ENCODINGS[encoding]} channels, "
                         f"but the model takes {in_channels}")


def _read_config(directory: Path) -> tuple[ModelConfig, dict]:
    """The :class:`ModelConfig` and the metadata (``encoding``, ``dataset``) in a model
    directory's ``config.json``: the layout of :func:`save_model`, or the older flat layout
    (the ModelConfig's keys only; no metadata)."""
    config_path = directory / CONFIG_FILE
    for path in (config_path, directory / WEIGHTS_FILE):
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; a saved model is a directory with {WEIGHTS_FILE} and {CONFIG_FILE}")
    try:
        raw = json.loads(config_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{config_path}, line {err.lineno}: not valid JSON ({err.msg})") from err
    if not isinstance(raw, dict):
        raise ValueError(f"{config_path}: expected a JSON object, found {type(raw).__name__}")
    metadata = dict.fromkeys(_METADATA_KEYS)
    if isinstance(raw.get("model"), dict):
        extra = sorted(set(raw) - {"model", *_METADATA_KEYS})
        if extra:
            raise ValueError(f"{config_path}: unexpected entries {extra}; expected 'model', 'encoding', 'dataset'")
        metadata.update({k: raw.get(k) for k in _METADATA_KEYS})
        raw = dict(raw["model"])
    known = {f.name for f in fields(ModelConfig)}
    if set(raw) - known:
        raise ValueError(f"{config_path}: unexpected entries {sorted(set(raw) - known)}; "
                         f"expected keys among {sorted(known)}")
    if isinstance(raw.get("dropout"), list):
        raw["dropout"] = tuple(raw["dropout"])
    try:
        config = ModelConfig(**raw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{config_path}: {err}") from err
    _check_encoding(metadata["encoding"], config.in_channels, config_path)
    return config, metadata


def load_model(directory: str | Path, map_location: str | torch.device = "cpu") -> Camformer:
    """Load a model written by :func:`save_model`, in eval mode.

    The returned model carries ``model.encoding``: the encoding saved with it (a str), or
    ``None`` for a model saved without one (then ``camformer.models.inference.model_encoding`` goes by
    the input channels).
    """
    directory = Path(directory)
    config, metadata = _read_config(directory)
    model = build_model(config)
    state = torch.load(directory / WEIGHTS_FILE, map_location=map_location, weights_only=True)
    model.load_state_dict(state)
    model.encoding = metadata["encoding"]
    return model.to(map_location).eval()


def load_model_metadata(directory: str | Path) -> dict:
    """What :func:`save_model` recorded beside a model's weights.

    Returns
    -------
    dict
        ``encoding`` (str or None), ``dataset`` (str or None) and ``split`` (dict of name ->
        id array from ``split.npz``, or None). Models saved in the older layout give None for all.
    """
    directory = Path(directory)
    _, metadata = _read_config(directory)
    split_path = directory / SPLIT_FILE
    metadata["split"] = load_split(split_path) if split_path.exists() else None
    return metadata


# The authors' key layout: CNN_layers.{block}.{0 conv [.conv when Conv2dSame] | 1 BatchNorm}.*
# and linear_layers.{layer}.0.{weight,bias}.
_REF_CONV = re.compile(r"CNN_layers\.(\d+)\.0\.(?:conv\.)?(weight|bias)")
_REF_NORM = re.compile(r"CNN_layers\.(\d+)\.1\.(weight|bias|running_mean|running_var|num_batches_tracked)")
_REF_LINEAR = re.compile(r"linear_layers\.(\d+)\.0\.(weight|bias)")


def load_reference_state_dict(model: Camformer, state_dict: dict[str, torch.Tensor]) -> Camformer:
    """Load weights saved by the authors' code (``base/model.py`` or ``base/model_basic.py``)
    into ``model``: their ``Conv2d`` kernels ``(out, in, k, 1)`` become ``Conv1d`` kernels
    ``(out, in, k)``; the last of their ``linear_layers`` becomes ``model.output``.

    Parameters
    ----------
    model : Camformer
        Built with the matching :class:`ModelConfig` (e.g. :func:`camformer_original`).
    state_dict : dict
        In the authors' key layout (``CNN_layers.0.0.conv.weight``, ``CNN_layers.0.1.running_mean``,
        ``linear_layers.2.0.bias``, ...; a DDP ``module.`` prefix is dropped). The published
        checkpoints are whole pickled models: ``torch.load(path, weights_only=False)`` with the
        authors' ``base`` package importable, then ``.state_dict()``.

    Returns
    -------
    Camformer
        ``model``, with every parameter and buffer replaced; raises ``ValueError`` naming any key
        that does not fit and any of the model's entries left unfilled.
    """
    n_hidden = len(model.hidden)
    mapped = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.")
        if m := _REF_CONV.fullmatch(key):
            target = f"blocks.{m[1]}.conv.{m[2]}"
        elif m := _REF_NORM.fullmatch(key):
            target = f"blocks.{m[1]}.norm.{m[2]}"
        elif m := _REF_LINEAR.fullmatch(key):
            layer = int(m[1])
            target = f"hidden.{layer}.0.{m[2]}" if layer < n_hidden else f"output.{m[2]}"
            if layer > n_hidden:
                raise ValueError(f"reference key {key}: the model has only {n_hidden + 1} dense layers")
        else:
            raise ValueError(f"reference key {key}: not in the authors' layout (CNN_layers.*, linear_layers.*)")
        if value.dim() == 4:  # Conv2d kernel (out, in, k, 1) or (out, in, 1, k)
            value = value.flatten(2)
        mapped[target] = value
    own = model.state_dict()
    missing = sorted(set(own) - set(mapped))
    unknown = sorted(set(mapped) - set(own))
    if missing or unknown:
        raise ValueError(f"reference state dict does not fit {model.config}: missing {missing}, unexpected {unknown}")
    for key, value in mapped.items():
        if value.shape != own[key].shape:
            raise ValueError(f"reference weight for {key}: shape {tuple(value.shape)}, the model needs {tuple(own[key].shape)}")
    model.load_state_dict(mapped)
    return model


# ---------------------------------------------------------------------------- description

def architecture_table(model: nn.Module, input_shape: tuple[int, ...]) -> pd.DataFrame:
    """The layers a forward pass runs through, read from the model itself.

    Runs one forward pass on zeros of ``input_shape`` (e.g. ``(1, 4, 110)``) in eval mode with
    hooks on every leaf module, in call order.

    Returns
    -------
    pandas.DataFrame
        A first row ``input``, then one row per leaf module call: ``layer`` (qualified name), ``type``, ``block`` (index of
        the convolution block, or -1 for dense layers), ``in_channels``, ``out_channels``,
        ``kernel``, ``stride`` (0 where not applicable), ``output_channels``, ``output_length``
        (the output's last dimension; 1 after flattening), ``params`` (the module's own),
        ``residual`` (True on the rows of a block whose input is added to its output).
    """
    residual = set(getattr(model, "residual_blocks", ()))
    rows = [{"layer": "input", "type": "Input", "block": -1, "in_channels": 0, "out_channels": 0,
             "kernel": 0, "stride": 0, "output_channels": input_shape[1],
             "output_length": input_shape[-1] if len(input_shape) > 2 else 1, "params": 0,
             "residual": False}]

    def hook(name):
        def record(module, args, output):
            parts = name.split(".")
            block = int(parts[1]) if parts[0] == "blocks" and len(parts) > 1 else -1
            size = lambda v: (v[0] if isinstance(v, tuple) else v) if v is not None else 0  # noqa: E731
            in_c = getattr(module, "in_channels", getattr(module, "in_features", getattr(module, "num_features", 0)))
            out_c = getattr(module, "out_channels", getattr(module, "out_features", getattr(module, "num_features", 0)))
            rows.append({
                "layer": name, "type": type(module).__name__, "block": block,
                "in_channels": in_c, "out_channels": out_c,
                "kernel": size(getattr(module, "kernel_size", None)),
                "stride": size(getattr(module, "stride", None)),
                "output_channels": output.shape[1], "output_length": output.shape[-1] if output.dim() > 2 else 1,
                "params": sum(p.numel() for p in module.parameters(recurse=False)),
                "residual": block in residual,
            })
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if n and not list(m.children()) and not isinstance(m, nn.Identity)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters(), None)
            model(torch.zeros(input_shape, device=param.device if param is not None else "cpu"))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return pd.DataFrame(rows)
