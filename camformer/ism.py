"""In-silico mutagenesis (ISM): the predicted effect of every single-nucleotide substitution.

For each sequence and each chosen position, every base other than the reference is put in
its place and the model predicts again; the result is the change in prediction,
``ΔE = f(mutant) - f(reference)``, as an array ``(N, 4, L)`` (bases A, C, G, T on axis 1)
with zeros at the reference base and at positions not mutated. By default only the 80
variable positions of the DREAM promoters are mutated (0-based 17..96; the first 17 and the
last 13 nucleotides are constant plasmid sequence), 240 mutants per sequence, as in the
paper (``base/ism_utils.py``). The paper's logo (PSSM) is ``ΔE / 3`` (:func:`pssm`).

Two exact implementations share the mutant enumeration:

- :func:`ism` works for any model: the mutants of many sequences are built on the device,
  in batches, by overwriting one column of the encoded reference, and predicted in one
  forward pass per batch.
- :func:`ism_receptive_field` exploits that a substitution only changes the outputs of
  position-local layers (same-padded convolutions, batch norm in eval mode, activations,
  residual additions) within their receptive field. The caller splits the model into a
  ``stem`` of length-preserving local stages and a ``head``; the reference activations of
  every stage are computed once and, for each mutant, only the window the substitution can
  reach is recomputed, stage by stage, before the head runs on the full-length activation.

Both accept one-hot ``X`` (N, 4, L) float, or uint8 codes (N, L) with an ``encoding`` name
(:func:`camformer.data.encode`), which is how models with extra input channels (the purine
or the integer-measurement flag) are explained: mutants are re-encoded exactly as the data
pipeline encodes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from camformer.data import encode

#: The 80 variable positions of a 110-nt DREAM promoter (0-based, 17..96 inclusive).
VARIABLE_POSITIONS = range(17, 97)


# ---------------------------------------------------------------------------- helpers


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device``, or the best available one (CUDA if present, else CPU) when ``None``."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
    running statistics), restoring each one's training flag afterwards. A bound method such
    as ``model.head`` stands for its module; other callables are ignored."""
    modules = [m for m in (getattr(o, "__self__", o) for o in objs) if isinstance(m, nn.Module)]
    flags = [m.training for m in modules]
    try:
        for m in modules:
            m.eval()
        yield
    finally:
        for m, flag in zip(modules, flags):
            m.train(flag)


def _prepare(X, encoding: str | None, real_valued, device: torch.device):
    """Encoded reference ``(N, C, L)``, per-sequence base columns ``(N, C, 4)`` and the
    reference base index ``(N, L)`` (-1 where the reference is not one of A, C, G, T)."""
    X = torch.as_tensor(X)
    if X.dtype.is_floating_point:
        if X.ndim != 3:
            raise ValueError(f"one-hot X must have shape (N, C, L); got {tuple(X.shape)}")
        if encoding is not None or X.shape[1] != 4:
            raise ValueError(
                "one-hot X must have 4 channels (A, C, G, T); for encodings with extra channels "
                "pass uint8 codes (N, L) and the encoding name"
            )
        Xenc = X.to(device)
        n = len(Xenc)
        columns = torch.eye(4, dtype=Xenc.dtype, device=device).expand(n, 4, 4)
        is_base = (Xenc == 1).sum(1) == 1  # exactly one channel at 1 (else N or padding)
        ref = torch.where(is_base & (Xenc.sum(1) == 1), Xenc.argmax(1), -1)
        return Xenc, columns, ref
    if X.ndim != 2:
        raise ValueError(f"codes must have shape (N, L); got {tuple(X.shape)}")
    encoding = encoding or "onehot"
    codes = X.to(device=device, dtype=torch.long)
    rv = None if real_valued is None else torch.as_tensor(real_valued, device=device)
    Xenc = encode(codes, encoding, real_valued=rv)
    bases = torch.arange(4, device=device).expand(len(codes), 4)
    columns = encode(bases, encoding, real_valued=rv)  # (N, C, 4): the column of each base
    ref = torch.where(codes < 4, codes, -1)
    return Xenc, columns, ref


def _positions(positions: Iterable[int] | None, length: int) -> torch.Tensor:
    pos = torch.arange(length) if positions is None else torch.as_tensor(list(positions), dtype=torch.long)
    if len(pos) and (pos.min() < 0 or pos.max() >= length):
        raise ValueError(f"positions must lie in 0..{length - 1}")
    return pos


def _mutants(ref: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """All substitutions as rows ``(sequence, position, base)``, shape ``(M, 3)``, ordered by
    sequence, then position, then base."""
    pos = pos.to(ref.device)
    mask = torch.arange(4, device=ref.device) != ref[:, pos, None]  # (N, P, 4)
    idx = mask.nonzero()
    idx[:, 1] = pos[idx[:, 1]]
    return idx


# ---------------------------------------------------------------------------- ISM


@torch.no_grad()
def ism(
    model: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor | np.ndarray,
    *,
    positions: Iterable[int] | None = VARIABLE_POSITIONS,
    encoding: str | None = None,
    real_valued: torch.Tensor | np.ndarray | None = None,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Predicted change of every single-nucleotide substitution, for any model.

    Parameters
    ----------
    model : nn.Module or callable
        Maps float ``(B, C, L)`` to ``(B,)`` or ``(B, 1)``. An ``nn.Module`` is moved to
        ``device`` and run in eval mode (its training flag is restored afterwards).
    X : torch.Tensor or np.ndarray
        Either one-hot float ``(N, 4, L)`` (a column that is not exactly one-hot, e.g. N,
        has no reference base: all four bases are substituted), or uint8/int codes
        ``(N, L)`` (A, C, G, T, N = 0..4) that are encoded with ``encoding``.
    positions : iterable of int or None
        0-based positions to mutate; default the 80 variable positions 17..96; ``None``
        mutates every position.
    encoding : str, optional
        One of :data:`camformer.data.ENCODINGS` (codes input only; default ``onehot``).
    real_valued : bool array ``(N,)``, optional
        The integer-measurement flag for the ``...WithInt``/``...WithBoth`` encodings
        (default 1 for every sequence, as the paper used at test time).
    batch_size : int
        Mutants per forward pass.
    device : str or torch.device, optional
        Where to compute; ``None`` picks CUDA if available, else CPU.
    progress : bool
        Show a tqdm progress bar over batches.

    Returns
    -------
    torch.Tensor, float32, shape (N, 4, L), on the CPU
        ``f(mutant) - f(reference)`` for base ``b`` at position ``p`` in ``[n, b, p]``;
        zero at the reference base and at positions not mutated.
    """
    device = pick_device(device)
    if isinstance(model, nn.Module):
        model.to(device)
    Xenc, columns, ref = _prepare(X, encoding, real_valued, device)
    n, _, length = Xenc.shape
    idx = _mutants(ref, _positions(positions, length))
    delta = torch.zeros(n, 4, length, device=device)
    with eval_mode(model):
        ref_pred = torch.cat([predict_scalar(model, Xenc[i : i + batch_size]) for i in range(0, n, batch_size)])
        for start in tqdm(range(0, len(idx), batch_size), desc="ISM", disable=not progress):
            s, p, b = idx[start : start + batch_size].unbind(1)
            xb = Xenc[s].clone()
            xb[torch.arange(len(s), device=device), :, p] = columns[s, :, b]
            delta[s, b, p] = predict_scalar(model, xb).float() - ref_pred[s].float()
    return delta.cpu()


def conv_reach(module: nn.Module) -> tuple[int, int]:
    """How far a length-preserving stage of 1-D convolutions looks, ``(left, right)``.

    Output ``j`` of the stage depends on inputs ``j - left .. j + right``. Summed over every
    ``nn.Conv1d`` in ``module`` (exact for a chain of convolutions, an upper bound for
    residual or parallel branches, which is all exactness needs). Stride must be 1. Only
    the convolutions' own ``padding`` is read: a stage that pads its input itself (e.g.
    with ``F.pad``) needs its reach given explicitly.
    """
    left = right = 0
    for m in module.modules():
        if isinstance(m, nn.Conv1d):
            if m.stride[0] != 1:
                raise ValueError(f"{m}: only stride-1 convolutions are position-local stages")
            total = m.dilation[0] * (m.kernel_size[0] - 1)
            if m.padding == "same":
                pad = total // 2
            elif m.padding == "valid":
                pad = 0
            else:
                pad = m.padding[0]
            left, right = left + pad, right + total - pad
    return left, right


@torch.no_grad()
def ism_receptive_field(
    stem: Sequence[Callable[[torch.Tensor], torch.Tensor]],
    head: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor | np.ndarray,
    *,
    reach: Sequence[tuple[int, int]] | None = None,
    positions: Iterable[int] | None = VARIABLE_POSITIONS,
    encoding: str | None = None,
    real_valued: torch.Tensor | np.ndarray | None = None,
    batch_size: int = 1024,
    sequence_chunk: int = 64,
    positions_per_batch: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Exact ISM that recomputes only the receptive field of each substitution.

    The model must equal ``head(stem[-1](...stem[0](x)))``. Every stage of ``stem`` must be
    position-local and length-preserving (same-padded stride-1 convolutions, batch norm in
    eval mode, element-wise activations, dropout, residual additions of its own input):
    then a substitution at ``p`` changes stage ``k``'s output only within
    ``[p - right_1 - ... - right_k, p + left_1 + ... + left_k]``, and recomputing the stage
    on a slice of its input that covers that window's own receptive field gives exactly
    what the full pass gives (at the sequence ends the slice ends where the sequence does,
    so the zero padding is the same). ``head`` (pooling, flatten, dense layers) runs on the
    full-length activation with the window written in.

    Parameters
    ----------
    stem : sequence of nn.Module or callable
        Position-local stages, ``(B, C_k, L) -> (B, C_{k+1}, L)``.
    head : nn.Module or callable
        ``(B, C_K, L) -> (B,)`` or ``(B, 1)``.
    X, positions, encoding, real_valued, batch_size, device, progress
        As in :func:`ism`.
    reach : sequence of (left, right), optional
        Per stage: output ``j`` depends on inputs ``j - left .. j + right``. Default
        :func:`conv_reach` of each stage (stages that are not modules must be given).
    sequence_chunk : int
        Sequences whose reference activations are cached at a time (memory:
        ``sequence_chunk * sum(C_k) * L * 4`` bytes).
    positions_per_batch : int, optional
        Neighbouring positions whose mutants share one window (wider by that many columns),
        so that a batch holds enough mutants even for few sequences. Default: enough for
        about 64 mutants per batch, which keeps a 2-core CPU busy; larger suits a GPU.

    Returns
    -------
    torch.Tensor, float32, shape (N, 4, L), on the CPU
        As :func:`ism`, equal to it up to floating-point rounding.
    """
    device = pick_device(device)
    for m in [*stem, head]:
        m = getattr(m, "__self__", m)
        if isinstance(m, nn.Module):
            m.to(device)
    if reach is None:
        if not all(isinstance(s, nn.Module) for s in stem):
            raise ValueError("give reach=[(left, right), ...] for stages that are not nn.Modules")
        reach = [conv_reach(s) for s in stem]
    if len(reach) != len(stem):
        raise ValueError(f"{len(stem)} stages but {len(reach)} reach pairs")
    Xenc, columns, ref = _prepare(X, encoding, real_valued, device)
    n, _, length = Xenc.shape
    pos = torch.sort(_positions(positions, length)).values.to(device)
    delta = torch.zeros(n, 4, length, device=device)
    chunks = range(0, n, sequence_chunk)
    group = positions_per_batch or max(1, 64 // (3 * min(sequence_chunk, n)))
    bar = tqdm(total=len(chunks) * len(pos), desc="ISM (receptive field)", disable=not progress)
    with eval_mode(*stem, head):
        for c0 in chunks:
            size = min(sequence_chunk, n - c0)
            cache = [Xenc[c0 : c0 + size]]
            for stage in stem:
                out = stage(cache[-1])
                if out.shape[-1] != length:
                    raise ValueError(f"stage {stage} changed the length from {length} to {out.shape[-1]}")
                cache.append(out)
            ref_pred = predict_scalar(head, cache[-1])
            for g0 in range(0, len(pos), group):
                idx = _mutants(ref[c0 : c0 + size], pos[g0 : g0 + group])  # (M, 3): sequence, position, base
                for start in range(0, len(idx), batch_size):
                    s, p, b = idx[start : start + batch_size].unbind(1)
                    lo, hi = int(p.min()), int(p.max()) + 1
                    window = cache[0][:, :, lo:hi][s]
                    window[torch.arange(len(s), device=device), :, p - lo] = columns[c0 + s, :, b]
                    for k, stage in enumerate(stem):
                        left, right = reach[k]
                        new_lo, new_hi = max(0, lo - right), min(length, hi + left)
                        in_lo, in_hi = max(0, new_lo - left), min(length, new_hi + right)
                        inp = cache[k][:, :, in_lo:in_hi][s]
                        inp[:, :, lo - in_lo : hi - in_lo] = window
                        window = stage(inp)[:, :, new_lo - in_lo : new_hi - in_lo]
                        lo, hi = new_lo, new_hi
                    full = cache[-1][s]
                    full[:, :, lo:hi] = window
                    delta[c0 + s, b, p] = predict_scalar(head, full).float() - ref_pred[s].float()
                bar.update(len(pos[g0 : g0 + group]))
            if c0 == 0 and len(pos):
                _check_against_full_pass(stem, head, Xenc[:size], columns, ref[:size], pos, delta, ref_pred)
    bar.close()
    return delta.cpu()


def _check_against_full_pass(stem, head, Xenc, columns, ref, pos, delta, ref_pred) -> None:
    """Recompute a few substitutions (the first and last position, the first sequence) in
    full and raise if the windowed answer differs: a wrong ``reach`` or a stage that is not
    position-local fails loudly instead of giving wrong effects."""
    idx = _mutants(ref[:1], pos[[0, -1]])
    s, p, b = idx.unbind(1)
    x = Xenc[s].clone()
    x[torch.arange(len(s), device=x.device), :, p] = columns[s, :, b]
    for stage in stem:
        x = stage(x)
    full = predict_scalar(head, x).float() - ref_pred[s].float()
    err = (full - delta[s, b, p]).abs().max().item()
    if err > 1e-5 + 1e-4 * full.abs().max().item():
        raise ValueError(
            f"windowed ISM differs from the full pass by {err:.3g}: a stage reaches further than "
            "its reach says, or is not position-local (give reach=[(left, right), ...] per stage)"
        )


# ---------------------------------------------------------------------------- summaries


def pssm(delta: torch.Tensor | np.ndarray) -> np.ndarray:
    """The paper's ISM logo matrix: ``ΔE / 3``, shape ``(N, 4, L)`` (or ``(4, L)``).

    Summed over the bases it gives the mean effect of the three substitutions at each
    position (:func:`position_effect`).
    """
    return np.asarray(delta, dtype=np.float64) / 3.0


def position_effect(delta: torch.Tensor | np.ndarray) -> np.ndarray:
    """Mean ΔE of the three substitutions at each position, shape ``(N, L)`` (or ``(L,)``)."""
    return pssm(delta).sum(axis=-2)


def mutant_table(delta: torch.Tensor | np.ndarray, codes: np.ndarray, positions: Iterable[int] = VARIABLE_POSITIONS):
    """ISM results as one row per substitution.

    Parameters
    ----------
    delta : array ``(N, 4, L)`` from :func:`ism`
    codes : uint8 array ``(N, L)``, the reference sequences
    positions : the positions that were mutated

    Returns
    -------
    pandas.DataFrame with columns ``sequence`` (row in ``codes``), ``position``, ``ref``
    and ``alt`` (base codes 0..3, ``ref`` 4 for N) and ``delta``.
    """
    import pandas as pd

    delta = np.asarray(delta)
    codes = np.asarray(codes)
    pos = np.asarray(list(positions))
    s, b, p = np.nonzero(np.arange(4)[None, :, None] != codes[:, None, pos])
    p = pos[p]
    return pd.DataFrame({"sequence": s, "position": p, "ref": codes[s, p], "alt": b, "delta": delta[s, b, p]})
