"""What the benchmark scripts share: writing one section of RESULTS.md, and tangermeme's ISM as
effects ``(N, 4, L)`` (tangermeme is a benchmark-only dependency, the ``bench`` extra)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

HEADER = "# Benchmark results\n\nSpeed and memory of camformer, one section per script in `benchmarks/`.\n"


def write_section(results: Path, section: str, text: str) -> None:
    """Write ``text`` (starting with the heading ``section``) into ``results``, replacing that
    section where it is already there and keeping every other section."""
    old = results.read_text() if results.exists() else HEADER
    if section in old:
        head, _, rest = old.partition(section)
        nxt = rest.find("\n## ")
        old = head + (rest[nxt + 1:] if nxt >= 0 else "")
    results.write_text(old.rstrip("\n") + "\n\n" + text)


class _TwoD(torch.nn.Module):
    """The model with output ``(N, 1)``: tangermeme wants ``(N, targets)``."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[:, None]


def tangermeme_effects(model: torch.nn.Module, X: torch.Tensor, batch_size: int, start: int = 0,
                       end: int = -1) -> torch.Tensor:
    """tangermeme's ``saturation_mutagenesis`` of one-hot ``X`` ``(N, 4, L)`` at positions
    ``start..end`` as effects ``f(mutant) - f(reference)``, shape ``(N, 4, end - start)``."""
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y0, y_hat = saturation_mutagenesis(_TwoD(model).eval(), X, start=start, end=end, batch_size=batch_size,
                                           raw_outputs=True, device="cpu")
    return (y_hat[..., 0] - y0[:, None, None, 0]).float()
