"""Checkpoint I/O: files written atomically, the random-number state, and which fields of a
run's configuration a resume must match.

A file is written to a temporary name beside its place and renamed into it
(:func:`write_atomic`), so a reader (a resumed run, another process) sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np
import torch

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.csv"


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """``write(tmp)`` a temporary file next to ``path`` (same suffix), then rename it into
    place, so a reader never sees a partly written file."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only left over when writing failed
    return path


def atomic_save(obj, path: str | Path) -> Path:
    """``torch.save`` to a temporary file next to ``path``, then rename it into place."""
    return write_atomic(path, lambda tmp: torch.save(obj, tmp))


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def rng_state() -> dict:
    """This process's random-number state: torch (CPU and every CUDA device), NumPy, Python."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore a state :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def config_differences(saved: Mapping, now: Mapping, defaults: Mapping,
                       ignore: Iterable[str] = ()) -> dict[str, tuple]:
    """The fields whose values differ between a saved configuration and this run's,
    ``{field: (saved, now)}``.

    A field missing from ``saved`` (added since it was written) counts as its value in
    ``defaults``; the fields in ``ignore`` (those that only change how a run goes, not what it
    computes) are not compared.
    """
    saved = {**defaults, **saved}
    skip = set(ignore)
    return {k: (saved.get(k), v) for k, v in now.items() if k not in skip and saved.get(k) != v}


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by the training loop (on the CPU)."""
    return torch.load(path, map_location="cpu", weights_only=False)


__all__ = [
    "CHECKPOINT", "HISTORY", "write_atomic", "atomic_save", "write_text_atomic", "rng_state", "set_rng_state",
    "config_differences", "load_checkpoint",
]
