"""Running any model: the one path from sequences to predictions, and the device and mode rules.

Every part of the package that runs a model goes through here: :func:`predict` (uint8 codes
``(N, L)`` to predictions ``(N,)``, batched, on the model's device), :func:`predict_scalar` (one
forward pass of float input, ``(N,)`` whatever the model returns), :func:`model_input` (codes
encoded in the model's own encoding, :func:`model_encoding`), :func:`eval_mode` and
:func:`explaining` (a block with the model in eval mode, on a device, and everything put back as
it was), the device a command asks for, checked (:func:`choose_device`), the autocast dtype a
device supports (:func:`resolve_amp`, :func:`autocast`), and the
plain model inside compile and DDP wrappers (:func:`unwrap`).

The model is any ``nn.Module`` mapping float ``(N, C, L)`` to ``(N,)`` or ``(N, 1)``; nothing
here needs to know which architecture it is.
"""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager
from typing import Callable

import numpy as np
import torch
from torch import nn

from camformer.data.dream import ENCODINGS
from camformer.models.encoding import encode

# The encoding a model with C input channels gets when none is named or saved (the published
# models: Original uses onehot, Mini onehotWithP).
DEFAULT_ENCODING: dict[int, str] = {4: "onehot", 5: "onehotWithP", 6: "onehotWithBoth"}


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside ``torch.compile`` and DDP wrappers (``model`` itself if none)."""
    while hasattr(model, "_orig_mod") or isinstance(model, nn.parallel.DistributedDataParallel):
        model = getattr(model, "_orig_mod", None) or model.module
    return model


def auto_amp_dtype(device_type: str, capability: tuple[int, int] | None = None,
                   cpu_has_bf16: bool = False) -> torch.dtype | None:
    """The autocast dtype ``amp="auto"`` picks for the hardware (``None``: float32).

    Parameters
    ----------
    device_type : str
        ``"cuda"``, ``"cpu"`` or another torch device type (which trains in float32).
    capability : (major, minor), optional
        The CUDA card's compute capability (``torch.cuda.get_device_capability``).
    cpu_has_bf16 : bool
        Whether the CPU computes bf16 natively (AVX512-BF16 or AMX).

    Returns
    -------
    torch.bfloat16 on CUDA cards of compute capability 8.0 or more (A100, H100, RTX 30xx and
    later) and on CPUs with native bf16; torch.float16 on capability 7.x (V100, T4, RTX 20xx),
    which :func:`train` pairs with a gradient scaler; ``None`` otherwise. Older cards report
    bf16 as supported (``torch.cuda.is_bf16_supported()``) but emulate it, slower than
    float32; fp16 runs on their tensor cores at several times the float32 rate, and the
    scaler keeps small gradients from underflowing its narrower range. Cards before 7.0 have
    no tensor cores (and some no fast fp16 at all): float32.
    """
    if device_type == "cuda" and capability is not None:
        if tuple(capability) >= (8, 0):
            return torch.bfloat16
        if tuple(capability) >= (7, 0):
            return torch.float16
        return None
    if device_type == "cpu" and cpu_has_bf16:
        return torch.bfloat16
    return None


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX); without it, bf16 is emulated
    and several times slower than float32."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def describe_device(device: str | torch.device = "cpu", *, cpuinfo: str = "/proc/cpuinfo") -> str:
    """Which machine computed a number, for benchmark reports: for a CPU its model name, its
    logical CPUs and whether bf16 is native (``"AMD EPYC 7B13, 2 logical CPUs, float32 and
    emulated bf16 only"``); for a CUDA device its name, compute capability and memory."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        p = torch.cuda.get_device_properties(index)
        return f"{p.name}, compute capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB"
    if device.type != "cpu":
        return device.type
    name = platform.processor() or platform.machine() or "unknown CPU"
    try:
        with open(cpuinfo) as handle:
            name = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), name)
    except OSError:
        pass
    bf16 = "native bf16 (AVX512-BF16 or AMX)" if cpu_has_native_bf16() else "float32 and emulated bf16 only"
    return f"{name}, {os.cpu_count()} logical CPUs, {bf16}"


def choose_device(device: str | torch.device | None = "auto") -> torch.device:
    """The device a command runs on, checked against this machine.

    ``"auto"`` (or ``None``) is the first CUDA device if there is one, else the CPU. ``"cpu"``,
    ``"cuda"``, ``"cuda:N"`` and ``"mps"`` are taken when this machine has them.

    Raises
    ------
    ValueError
        An unknown device name (``"gpu"``), or a device this machine does not have (``"cuda"``
        without CUDA, ``"cuda:7"`` with fewer devices), with what it has instead.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"{device}: unknown device; use auto, cpu, cuda or cuda:N") from None
    if chosen.type == "cpu":
        return chosen
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{device}: this machine has no CUDA device; use cpu (or auto)")
        if chosen.index is not None and chosen.index >= count:
            raise ValueError(f"{device}: this machine has {count} CUDA device(s), cuda:0 to "
                             f"cuda:{count - 1}")
        return chosen
    if chosen.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"{device}: MPS is not available on this machine; use cpu (or auto)")
        return chosen
    raise ValueError(f"{device}: not supported here; use auto, cpu, cuda or cuda:N")


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (``None``: full float32): ``"off"`` is
    float32, ``"bf16"`` is bf16 anywhere, ``"auto"`` asks :func:`auto_amp_dtype`."""
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    device = torch.device(device)
    if device.type == "cuda":
        return auto_amp_dtype("cuda", capability=torch.cuda.get_device_capability(device))
    if device.type == "cpu":
        return auto_amp_dtype("cpu", cpu_has_bf16=cpu_has_native_bf16())
    return auto_amp_dtype(device.type)


def model_encoding(model: nn.Module, encoding: str | None = None) -> str:
    """The encoding to feed ``model``: ``encoding`` if given, else the one saved with the model
    (its ``encoding`` attribute, set by :func:`train` and by ``camformer.models.networks.load_model``),
    else :data:`DEFAULT_ENCODING` for the model's ``config.in_channels`` (or its first layer's
    input channels). A callable that is no module (a function of the input) and says nothing
    of its channels gets ``onehot``."""
    model = getattr(model, "__self__", model)  # a bound method (model.head) stands for its module
    model = unwrap(model) if isinstance(model, nn.Module) else model
    encoding = encoding if encoding is not None else getattr(model, "encoding", None)
    channels = getattr(getattr(model, "config", None), "in_channels", None)
    if channels is None and isinstance(model, nn.Module):
        first = next((m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))), None)
        channels = getattr(first, "in_channels", None)
    if encoding is None:
        if channels is None and not isinstance(model, nn.Module):
            return "onehot"
        if channels not in DEFAULT_ENCODING:
            raise ValueError(f"cannot tell which encoding a model with {channels} input channels takes; name one")
        return DEFAULT_ENCODING[channels]
    if channels is not None and ENCODINGS[encoding] != channels:
        raise ValueError(f"encoding {encoding!r} has {ENCODINGS[encoding]} channels; the model takes {channels}")
    return encoding


def model_input(model, X: torch.Tensor | np.ndarray, *, encoding: str | None = None,
                real_valued: torch.Tensor | np.ndarray | None = None) -> torch.Tensor:
    """Float input for ``model``: ``X`` itself when it is float ``(N, C, L)``, or uint8/int
    codes ``(N, L)`` encoded (on their device) with :func:`model_encoding`; ``real_valued``
    ``(N,)`` is the Int flag of the ``...WithInt``/``...WithBoth`` encodings."""
    X = torch.as_tensor(X)
    if X.dtype.is_floating_point:
        if encoding is not None:
            raise ValueError("encoding applies to codes (N, L); this X is already encoded (float)")
        return X
    if X.ndim != 2:
        raise ValueError(f"codes must have shape (N, L); got {tuple(X.shape)}")
    rv = None if real_valued is None else torch.as_tensor(real_valued, device=X.device)
    return encode(X, model_encoding(model, encoding), real_valued=rv)


def _modules(objs) -> list[nn.Module]:
    """The ``nn.Module``s among ``objs`` (a bound method stands for its module), each once."""
    out: list[nn.Module] = []
    for m in (getattr(o, "__self__", o) for o in objs):
        if isinstance(m, nn.Module) and not any(m is seen for seen in out):
            out.append(m)
    return out


def model_device(*objs) -> torch.device:
    """Where the first parameter (else buffer) of the given modules is; CPU if they have none.
    A bound method stands for its module; other callables are skipped."""
    for m in _modules(objs):
        for tensor in (*m.parameters(), *m.buffers()):
            return tensor.device
    return torch.device("cpu")


@contextmanager
def explaining(*objs, device: str | torch.device | None = None):
    """Run a block with the given modules on ``device`` and in eval mode; yields the device.

    ``device=None`` means where the modules' parameters are (:func:`model_device`). On exit
    each module is back on the device it was on and in the train/eval mode it was in, so an
    explainer never moves the caller's model for good.
    """
    modules = _modules(objs)
    homes = [model_device(m) for m in modules]
    target = torch.device(device) if device is not None else model_device(*modules)
    with eval_mode(*modules):
        try:
            for m in modules:
                m.to(target)
            yield target
        finally:
            for m, home in zip(reversed(modules), reversed(homes)):
                m.to(home)


def predict_scalar(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``x`` and return one prediction per sequence, shape ``(B,)``.

    Accepts models returning ``(B,)`` or ``(B, 1)``; anything else is an error.
    """
    out = model(x)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1 or out.shape[0] != x.shape[0]:
        raise ValueError(f"the model must return shape (N,) or (N, 1); got {tuple(out.shape)} for N={x.shape[0]}")
    return out


@contextmanager
def eval_mode(*objs):
    """Run a block with the given modules in eval mode (dropout off, batch norm on its
    running statistics), restoring the training flag of each of their submodules afterwards
    (one by one: a wrapper made for the call, in train mode, does not put the model it wraps
    back into train mode; a model with some layers frozen in eval keeps them so). A bound
    method such as ``model.head`` stands for its module; other callables are ignored."""
    modules = _modules(objs)
    flags = [(sub, sub.training) for m in modules for sub in m.modules()]
    try:
        for m in modules:
            m.eval()
        yield
    finally:
        for sub, flag in flags:
            sub.training = flag


def autocast(device: torch.device, dtype: torch.dtype | None):
    """A ``torch.autocast`` context for ``device`` in ``dtype`` (:func:`resolve_amp`); ``None``
    means float32, autocast off."""
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
        Default: the model's saved encoding, else from its input channels (:func:`model_encoding`).
    real_valued : bool (N,), optional
        The Int flag for the ``onehotWith{Int,Both}`` encodings (``None``: 1 for all, as the
        paper did at test time).
    device : optional
        Default: where the model's parameters are; the model is moved there for the call and
        back afterwards, and put back in its train/eval mode (:func:`explaining`).
    amp : {"off", "auto", "bf16"}
        Autocast for the forward passes (default off: scored predictions in float32).

    Returns
    -------
    np.ndarray, float32, shape (N,)
    """
    encoding = model_encoding(model, encoding)
    codes = torch.as_tensor(codes)
    flags = torch.as_tensor(real_valued) if real_valued is not None else None
    out = torch.empty(len(codes), dtype=torch.float32)
    starts = range(0, len(codes), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="predicting", unit="batch")
    with explaining(model, device=device) as device, torch.no_grad(), autocast(device, resolve_amp(amp, device)):
        for s in starts:
            x = encode(codes[s:s + batch_size].to(device, non_blocking=True), encoding,
                       real_valued=None if flags is None else flags[s:s + batch_size].to(device))
            out[s:s + batch_size] = predict_scalar(model, x).float().cpu()
    return out.numpy()
