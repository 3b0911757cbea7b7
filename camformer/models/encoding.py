"""One-hot encoding of packed sequences on their device, in the paper's five encodings.

Sequences travel as uint8 codes ``(N, L)`` (:mod:`camformer.data.dream`, which needs no torch);
:func:`encode` turns a batch of them into float input ``(N, C, L)`` where the model runs.
"""

from __future__ import annotations

import functools

import torch

from camformer.data.dream import ENCODINGS


@functools.lru_cache(maxsize=64)
def encoding_table(encoding: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The lookup table ``(5, C)`` of one encoding: row = base code (A, C, G, T, N), column =
    channel; the Int flag column (4) is left 0 and filled per sequence by :func:`encode`.
    Cached per (encoding, dtype, device), so a batch neither rebuilds it nor copies it to the
    device again. Callers must not modify it in place."""
    table = torch.zeros(5, ENCODINGS[encoding], dtype=dtype)
    table[:4, :4] = torch.eye(4, dtype=dtype)
    if encoding != "onehot":
        table[4, :4] = 0.25
    purine = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.5], dtype=dtype)  # A, G = 1; C, T = 0; N = 0.5
    if encoding == "onehotWithP":
        table[:, 4] = purine
    elif encoding == "onehotWithBoth":
        table[:, 5] = purine
    return table.to(device)


def encode(codes: torch.Tensor, encoding: str = "onehot", *, real_valued: torch.Tensor | None = None,
           dtype: torch.dtype | None = None) -> torch.Tensor:
    """One-hot encode uint8 codes on their device, in one of the paper's five encodings.

    Parameters
    ----------
    codes : torch.Tensor, uint8 or int, shape (N, L)
    encoding : str
        ``onehot`` (4 channels, N = 0), ``onehotWithN`` (N = 0.25), ``onehotWithP`` (plus a
        purine channel: A/G = 1, C/T = 0, N = 0.5), ``onehotWithInt`` (plus a channel that is
        1 for a sequence with a real-valued measurement, 0 for an integer one), or
        ``onehotWithBoth`` (the Int channel, then the purine channel). As in the paper, every
        encoding but ``onehot`` writes N as 0.25 in the four base channels.
    real_valued : torch.Tensor, bool, shape (N,), optional
        The Int flag; ``None`` means 1 for every sequence (what the paper used at test time).
    dtype : torch.dtype, default float32

    Returns
    -------
    torch.Tensor, shape (N, C, L), C = ``ENCODINGS[encoding]``
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose from {sorted(ENCODINGS)}")
    dtype = dtype or torch.float32
    codes = codes.long()
    x = encoding_table(encoding, dtype, codes.device)[codes]  # (N, L, C)
    if encoding in ("onehotWithInt", "onehotWithBoth"):
        flag = torch.ones(len(codes), dtype=dtype, device=codes.device)
        if real_valued is not None:
            flag = real_valued.to(device=codes.device, dtype=dtype)
        x[:, :, 4] = flag[:, None]
    return x.transpose(1, 2).contiguous()
