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
  position-local layers (padded stride-1 convolutions, batch norm in eval mode, activations,
  residual additions) within their receptive field. The model is split into a ``stem`` of
  position-local stages and a ``head`` (:func:`receptive_field_stages` does it for
  Camformer-shaped models); the reference activations of every stage are computed once and,
  for each mutant, only the window the substitution can reach is recomputed, stage by stage,
  before the head runs on the full activation.

Both accept one-hot ``X`` (N, 4, L) float, or uint8 codes (N, L) with an ``encoding`` name
(:func:`camformer.data.dream.encode`), which is how models with extra input channels (the purine
or the integer-measurement flag) are explained: mutants are re-encoded exactly as the data
pipeline encodes them. Without an ``encoding``, codes are encoded as the model was trained
(:func:`model_encoding`).

Every explainer here, in :mod:`camformer.explain.gradcam`, :mod:`camformer.explain.attribution` and
:mod:`camformer.explain.embedding` computes where the model's parameters are unless given a
``device``, and leaves the model on its own device and in its own train/eval mode
(:func:`explaining`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from camformer.models.encoding import encode
from camformer.models.inference import explaining, model_encoding, predict, predict_scalar

#: The 80 variable positions of a 110-nt DREAM promoter (0-based, 17..96 inclusive).
VARIABLE_POSITIONS = range(17, 97)


# ---------------------------------------------------------------------------- helpers


def _prepare(model, X, encoding: str | None, real_valued, device: torch.device):
    """Encoded reference ``(N, C, L)``, per-sequence base columns ``(N, C, 4)`` and the
    reference base index ``(N, L)`` (-1 where the reference is not one of A, C, G, T).
    Codes are encoded with :func:`model_encoding` of ``model``."""
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
    encoding = model_encoding(model, encoding)
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
        Maps float ``(B, C, L)`` to ``(B,)`` or ``(B, 1)``. An ``nn.Module`` runs in eval
        mode on ``device`` and is left on its own device and in its own mode afterwards.
    X : torch.Tensor or np.ndarray
        Either one-hot float ``(N, 4, L)`` (a column that is not exactly one-hot, e.g. N,
        has no reference base: all four bases are substituted), or uint8/int codes
        ``(N, L)`` (A, C, G, T, N = 0..4) that are encoded with ``encoding``.
    positions : iterable of int or None
        0-based positions to mutate; default the 80 variable positions 17..96; ``None``
        mutates every position.
    encoding : str, optional
        One of :data:`camformer.data.dream.ENCODINGS` (codes input only); default the encoding
        saved with the model, else ``onehot`` (:func:`model_encoding`).
    real_valued : bool array ``(N,)``, optional
        The integer-measurement flag for the ``...WithInt``/``...WithBoth`` encodings
        (default 1 for every sequence, as the paper used at test time).
    batch_size : int
        Mutants per forward pass.
    device : str or torch.device, optional
        Where to compute; ``None``: where the model's parameters are.
    progress : bool
        Show a tqdm progress bar over batches.

    Returns
    -------
    torch.Tensor, float32, shape (N, 4, L), on the CPU
        ``f(mutant) - f(reference)`` for base ``b`` at position ``p`` in ``[n, b, p]``;
        zero at the reference base and at positions not mutated.
    """
    with explaining(model, device=device) as device:
        Xenc, columns, ref = _prepare(model, X, encoding, real_valued, device)
        n, _, length = Xenc.shape
        idx = _mutants(ref, _positions(positions, length))
        delta = torch.zeros(n, 4, length, device=device)
        ref_pred = torch.cat([predict_scalar(model, Xenc[i : i + batch_size]) for i in range(0, n, batch_size)])
        for start in tqdm(range(0, len(idx), batch_size), desc="ISM", disable=not progress):
            s, p, b = idx[start : start + batch_size].unbind(1)
            xb = Xenc[s].clone()
            xb[torch.arange(len(s), device=device), :, p] = columns[s, :, b]
            delta[s, b, p] = predict_scalar(model, xb).float() - ref_pred[s].float()
    return delta.cpu()


def conv_reach(module: nn.Module) -> tuple[int, int]:
    """How far a stage of stride-1 1-D convolutions looks, ``(left, right)``.

    Output ``j`` of the stage depends on inputs ``j - left .. j + right`` (``right`` is
    negative for a stage that pads more than its kernel needs, which lengthens its output).
    Summed over every ``nn.Conv1d`` in ``module`` and every padding the stage applies itself
    (exact for a chain, an upper bound for residual or parallel branches, which is all
    exactness needs). A convolution's own ``padding`` is read, and so is an explicit pad: a
    module without a ``kernel_size`` whose ``padding`` is ``(left, right)``, such as
    ``nn.ConstantPad1d`` or camformer's ``ConvBlock`` (which pads with ``F.pad``).
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
        elif not hasattr(m, "kernel_size") and _is_pad_pair(getattr(m, "padding", None)):
            left, right = left + m.padding[0], right - m.padding[0]
    return left, right


def _is_pad_pair(padding) -> bool:
    return isinstance(padding, tuple) and len(padding) == 2 and all(isinstance(v, int) for v in padding)


class _Residual(nn.Module):
    """A block whose input is added to its output: ``x -> block(x) + x``."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + x


class _BeforePool(nn.Module):
    """A convolution block up to its activation: explicit pad, conv, norm, act."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        return b.act(b.norm(b.conv(F.pad(x, b.padding))))


class _Head(nn.Module):
    """The rest of a Camformer-shaped model after the stem: the pooling block's pool and
    dropout, the remaining blocks (with their shortcuts), flatten and the dense layers."""

    def __init__(self, model: nn.Module, first: int):
        super().__init__()
        self.model, self.first = model, first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        if self.first < len(m.blocks):
            b = m.blocks[self.first]
            x = b.drop(b.pool(x))
        for i in range(self.first + 1, len(m.blocks)):
            y = m.blocks[i](x)
            x = y + x if i in m.residual_blocks else y
        return m.output(m.hidden(x.flatten(1))).squeeze(-1)


def receptive_field_stages(model: nn.Module) -> tuple[list[nn.Module], nn.Module]:
    """Split a Camformer-shaped model into position-local stages and a head for
    :func:`ism_receptive_field`.

    Recognised by its structure, not its class: ``model.blocks`` (convolution blocks, each
    with ``padding`` ``(left, right)`` applied with ``F.pad``, then ``conv``, ``norm``,
    ``act``, ``pool``, ``drop``), ``model.residual_blocks`` (indices whose input is added to
    their output), and ``model.hidden``, ``model.output`` (dense layers on the flattened
    features); the model must compute exactly that. The stem is every block before the
    first one that pools, with its shortcut, then that block up to its activation; the head
    is the rest.

    Returns
    -------
    (list of nn.Module, nn.Module)
        ``stem`` and ``head``: ``head(stem[-1](...stem[0](x)))`` equals ``model(x)`` (``(N,)``).
    """
    parts = ("blocks", "residual_blocks", "hidden", "output")
    if not all(hasattr(model, a) for a in parts) or not all(
        all(hasattr(b, a) for a in ("padding", "conv", "norm", "act", "pool", "drop")) for b in model.blocks
    ):
        raise ValueError(f"{type(model).__name__} is not shaped like Camformer (.blocks of padding, conv, norm, "
                         "act, pool, drop; .residual_blocks; .hidden; .output): give stem= and head=")
    residual = set(model.residual_blocks)
    first = next((i for i, b in enumerate(model.blocks) if not isinstance(b.pool, nn.Identity)), len(model.blocks))
    if first in residual:
        raise ValueError(f"block {first} pools and has a shortcut: the stem cannot end inside it")
    stem = [_Residual(b) if i in residual else b for i, b in enumerate(model.blocks[:first])]
    if first < len(model.blocks):
        stem.append(_BeforePool(model.blocks[first]))
    return stem, _Head(model, first)


@torch.no_grad()
def ism_receptive_field(
    model: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor | np.ndarray,
    *,
    stem: Sequence[Callable[[torch.Tensor], torch.Tensor]] | None = None,
    head: Callable[[torch.Tensor], torch.Tensor] | None = None,
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
    position-local (padded stride-1 convolutions, batch norm in eval mode, element-wise
    activations, dropout, residual additions of its own input), so that its output ``j``
    depends on inputs ``j - left .. j + right`` only and, run on a slice of its input, pads
    the slice as it pads the whole: then a substitution at ``p`` changes stage ``k``'s
    output only within ``[p - right_1 - ... - right_k, p + left_1 + ... + left_k]``, and
    recomputing the stage on a slice of its input that covers that window's own receptive
    field gives exactly what the full pass gives (at the sequence ends the slice ends where
    the sequence does, so the padding is the same). A stage may change the length (Mini's
    blocks pad 5 on each side). ``head`` (pooling, flatten, dense layers) runs on the full
    activation with the window written in.

    Parameters
    ----------
    model : nn.Module or callable
        The model; its parameters say where to compute, and it gives the saved encoding.
    X, positions, encoding, real_valued, batch_size, device, progress
        As in :func:`ism`.
    stem : sequence of nn.Module or callable, optional
        Position-local stages, ``(B, C_k, L_k) -> (B, C_{k+1}, L_{k+1})``; with ``head``.
        Default: :func:`receptive_field_stages` of ``model``.
    head : nn.Module or callable, optional
        ``(B, C_K, L_K) -> (B,)`` or ``(B, 1)``.
    reach : sequence of (left, right), optional
        Per stage: output ``j`` depends on inputs ``j - left .. j + right`` (upper bounds
        are fine). Default :func:`conv_reach` of each stage (stages that are not modules
        must be given).
    sequence_chunk : int
        Sequences whose reference activations are cached at a time (memory:
        ``sequence_chunk * sum(C_k * L_k) * 4`` bytes).
    positions_per_batch : int, optional
        Neighbouring positions whose mutants share one window (wider by that many columns),
        so that a batch holds enough mutants even for few sequences. Default
        (:func:`positions_per_group`): enough to fill ``batch_size`` mutants per forward pass
        on a GPU; on a CPU about 64 (at most ``batch_size``), which keeps a 2-core CPU busy
        without widening the windows.

    Returns
    -------
    torch.Tensor, float32, shape (N, 4, L), on the CPU
        As :func:`ism`, equal to it up to floating-point rounding.
    """
    if (stem is None) != (head is None):
        raise ValueError("give both stem= and head=, or neither (then they come from receptive_field_stages)")
    if stem is None:
        stem, head = receptive_field_stages(model)
    if reach is None:
        if not all(isinstance(s, nn.Module) for s in stem):
            raise ValueError("give reach=[(left, right), ...] for stages that are not nn.Modules")
        reach = [conv_reach(s) for s in stem]
    if len(reach) != len(stem):
        raise ValueError(f"{len(stem)} stages but {len(reach)} reach pairs")
    with explaining(model, *stem, head, device=device) as device:
        Xenc, columns, ref = _prepare(model, X, encoding, real_valued, device)
        n, _, length = Xenc.shape
        pos = torch.sort(_positions(positions, length)).values.to(device)
        delta = torch.zeros(n, 4, length, device=device)
        chunks = range(0, n, sequence_chunk)
        group = positions_per_batch or positions_per_group(batch_size, min(sequence_chunk, n), device)
        bar = tqdm(total=len(chunks) * len(pos), desc="ISM (receptive field)", disable=not progress)
        for c0 in chunks:
            size = min(sequence_chunk, n - c0)
            cache = [Xenc[c0 : c0 + size]]
            for stage in stem:
                cache.append(stage(cache[-1]))
            ref_pred = predict_scalar(head, cache[-1])
            for g0 in range(0, len(pos), group):
                idx = _mutants(ref[c0 : c0 + size], pos[g0 : g0 + group])  # (M, 3): sequence, position, base
                for start in range(0, len(idx), batch_size):
                    s, p, b = idx[start : start + batch_size].unbind(1)
                    lo, hi = int(p.min()), int(p.max()) + 1
                    window = cache[0][:, :, lo:hi][s]
                    window[torch.arange(len(s), device=device), :, p - lo] = columns[c0 + s, :, b]
                    for k, stage in enumerate(stem):
                        window, lo, hi = _recompute_window(stage, reach[k], cache[k], cache[k + 1], s, window, lo, hi)
                    full = cache[-1][s]
                    full[:, :, lo:hi] = window
                    delta[c0 + s, b, p] = predict_scalar(head, full).float() - ref_pred[s].float()
                bar.update(len(pos[g0 : g0 + group]))
            if c0 == 0 and len(pos):
                _check_against_full_pass(stem, head, Xenc[:size], columns, ref[:size], pos, delta, ref_pred)
        bar.close()
    return delta.cpu()


def positions_per_group(batch_size: int, sequences: int, device: str | torch.device) -> int:
    """How many neighbouring positions :func:`ism_receptive_field` mutates together.

    Each position gives 3 mutants per sequence; a group of ``g`` positions of ``sequences``
    sequences makes ``3 g sequences`` mutants, one forward pass when that is at most
    ``batch_size``. On a GPU the group fills ``batch_size``; on a CPU it fills
    ``min(batch_size, 64)``, enough to keep a 2-core CPU busy (a wider group widens every
    window, which costs a CPU more than a larger batch gains it). At least one position.
    """
    target = batch_size if torch.device(device).type != "cpu" else min(batch_size, 64)
    return max(1, target // (3 * sequences))


def _recompute_window(stage, reach, cache_in, cache_out, s, window, lo, hi):
    """Stage output over the columns a changed input window ``[lo, hi)`` reaches: run the
    stage on the reference input of sequences ``s`` (sliced to cover those columns' own
    receptive field) with the window written in. Output column ``j`` of a slice starting at
    ``in_lo`` is column ``in_lo + j`` of the full output. Returns (window, lo, hi) of the output."""
    left, right = reach
    length_in, length_out = cache_in.shape[-1], cache_out.shape[-1]
    new_lo, new_hi = max(0, lo - right), min(length_out, hi + left)
    in_lo, in_hi = max(0, new_lo - left), min(length_in, new_hi + right)
    inp = cache_in[:, :, in_lo:in_hi][s]
    inp[:, :, lo - in_lo : hi - in_lo] = window
    out = stage(inp)[:, :, new_lo - in_lo : new_hi - in_lo]
    if out.shape[-1] != new_hi - new_lo:
        raise ValueError(f"stage {stage} gave {out.shape[-1]} columns on a slice where its reach {reach} "
                         f"promises {new_hi - new_lo}: give its reach=(left, right)")
    return out, new_lo, new_hi


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


def logo_examples(delta: torch.Tensor | np.ndarray, reference) -> tuple[list[int], int]:
    """The two sequences whose logos to show: the highest and the lowest ``reference`` prediction
    among the sequences on which some substitution changes the prediction.

    Parameters
    ----------
    delta : ``(N, 4, L)`` from :func:`ism`
    reference : ``(N,)`` predictions of the unmutated sequences

    Returns
    -------
    (list of 2 row numbers, int)
        The rows, and how many sequences have a non-zero effect. If none has (a model constant
        on them, possible for a small ReLU model whose hidden units are all silent), the
        extremes among all sequences, with count 0.
    """
    reference = np.asarray(reference, dtype=np.float64)
    active = np.flatnonzero(np.abs(np.asarray(delta)).sum(axis=(1, 2)) > 0)
    n_active = len(active)
    if n_active == 0:
        active = np.arange(len(reference))
    return [int(active[np.argmax(reference[active])]), int(active[np.argmin(reference[active])])], n_active


GC_CLASSES = ("A/T → G/C", "GC kept", "G/C → A/T")


def gc_change_class(effects) -> np.ndarray:
    """The class of GC change of each substitution (:data:`GC_CLASSES`): adds a G or C, keeps the
    GC content, or removes one; a substitution from N counts as gaining G/C when it writes G or C.

    Parameters
    ----------
    effects : pandas.DataFrame from :func:`mutant_table` (``ref``, ``alt``)

    Returns
    -------
    np.ndarray of str, shape (len(effects),)
    """
    gain = np.isin(effects["alt"], [1, 2]).astype(int) - np.isin(effects["ref"], [1, 2]).astype(int)
    return np.select([gain > 0, gain < 0], [GC_CLASSES[0], GC_CLASSES[2]], GC_CLASSES[1])


def gc_change_effects(effects, positions: Iterable[int] = VARIABLE_POSITIONS, *, groups: np.ndarray | None = None,
                      n_boot: int = 1000, seed: int = 0):
    """Mean effect of the substitutions that add a G or C, keep the GC content, or remove one
    (the ISM view of the paper's Figure S12), with intervals over sequences.

    Parameters
    ----------
    effects : pandas.DataFrame from :func:`mutant_table` (``sequence``, ``ref``, ``alt``,
        ``position``, ``delta``)
    positions : the positions to count (default the 80-nt variable region)
    groups : array, optional
        One label per sequence (row of the ISM input; e.g. variant families): resample whole groups.
    n_boot, seed
        The interval: each sequence's mean effect in the class, averaged over a bootstrap resample
        of the sequences (:func:`camformer.stats.explain_stats.mean_interval`); substitutions of one
        promoter are not independent, so they are never resampled one by one.

    Returns
    -------
    pandas.DataFrame indexed by :data:`GC_CLASSES`: ``mean, sem, size`` over substitutions (an
    empty class has size 0 and NaN), and ``sequence_mean, ci_low, ci_high, n_sequences``: the mean
    over sequences of each sequence's mean effect, with its interval.
    """
    import pandas as pd

    from camformer.stats.explain_stats import mean_interval

    keep = effects["position"].isin(list(positions)).to_numpy()
    label = gc_change_class(effects)[keep]
    kept = effects.loc[keep]
    table = kept["delta"].groupby(label).agg(["mean", "sem", "size"]).reindex(list(GC_CLASSES))
    table = table.assign(size=table["size"].fillna(0).astype(int))  # a class with no substitution: size 0
    per_sequence = kept["delta"].groupby([label, kept["sequence"].to_numpy()]).mean()
    rows = {}
    for name in GC_CLASSES:
        means = per_sequence.get(name, pd.Series(dtype=float))
        labels = None if groups is None else np.asarray(groups)[means.index.to_numpy(int)]
        stats = mean_interval(means.to_numpy(), groups=labels, n_boot=n_boot, seed=seed) if len(means) else (np.nan,) * 3
        rows[name] = dict(zip(("sequence_mean", "ci_low", "ci_high"), stats), n_sequences=len(means))
    return table.join(pd.DataFrame.from_dict(rows, orient="index"))


def gc_change_verdicts(by_class) -> dict:
    """Whether adding a G or C (``"A/T → G/C"``) and removing one (``"G/C → A/T"``) raise or lower
    the prediction on average over sequences, from :func:`gc_change_effects` (undecided when the
    interval spans 0).

    Returns
    -------
    dict class -> camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    what = {GC_CLASSES[0]: "adding a G or C", GC_CLASSES[2]: "removing a G or C"}
    return {name: verdict(by_class.loc[name, "sequence_mean"], by_class.loc[name, "ci_low"],
                          by_class.loc[name, "ci_high"], above=f"{words} raises the prediction on average",
                          below=f"{words} lowers the prediction on average",
                          undecided=f"{words} has no clear effect on the prediction on average",
                          undefined="no such substitution")
            for name, words in what.items()}


def flank_ratio(effects, positions: Iterable[int] = VARIABLE_POSITIONS, *, groups: np.ndarray | None = None,
                n_boot: int = 1000, seed: int = 0):
    """How much more the model responds to substitutions in the variable region than in the flanks.

    Each sequence's mean ``|ΔE|`` over its substitutions in the region and over those in the
    flanks; their means over sequences and the ratio of the two, with percentile-bootstrap
    intervals that resample sequences (or whole ``groups``), both means on the same resamples.

    Parameters
    ----------
    effects : pandas.DataFrame from :func:`mutant_table` over all positions
    positions : the variable region (default 17..96)
    groups : array, optional
        One label per sequence (row of the ISM input), e.g. its variant family.
    n_boot, seed
        As for :func:`camformer.stats.explain_stats.resampled_means`.

    Returns
    -------
    pandas.DataFrame indexed ``"variable region", "flanks", "ratio"``: ``estimate, ci_low, ci_high``
    (the ratio NaN when no flank substitution changes anything)
    """
    import pandas as pd

    from camformer.stats.explain_stats import mean_interval, ratio_interval

    inside = effects["position"].isin(list(positions)).to_numpy()
    if inside.all() or not inside.any():
        raise ValueError("flank_ratio needs substitutions both inside and outside the region")
    size = effects["delta"].abs().groupby([inside, effects["sequence"].to_numpy()]).mean()
    sequences = size.loc[True].index.intersection(size.loc[False].index)
    variable, flanks = size.loc[True].loc[sequences].to_numpy(), size.loc[False].loc[sequences].to_numpy()
    boot = {"groups": None if groups is None else np.asarray(groups)[sequences.to_numpy(int)],
            "n_boot": n_boot, "seed": seed}
    rows = {"variable region": mean_interval(variable, **boot), "flanks": mean_interval(flanks, **boot),
            "ratio": ratio_interval(variable, flanks, **boot)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_low", "ci_high"])


def flank_verdict(ratio):
    """Whether substitutions in the variable region move the prediction more than substitutions in
    the constant flanks (interval of the ratio of :func:`flank_ratio` above 1), less (below 1), or neither.

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    return verdict(*ratio.loc["ratio", ["estimate", "ci_low", "ci_high"]], threshold=1.0,
                   above="substitutions in the variable region move the prediction more than those in the flanks",
                   below="substitutions in the constant flanks move the prediction more than those in the "
                         "variable region",
                   undecided="this sample shows no evidence that substitutions in the variable region and in "
                             "the flanks move the prediction by different amounts",
                   undefined="no substitution in the flanks changes the prediction")


# ---------------------------------------------------------------------------- one model's findings


@dataclass(frozen=True)
class Findings:
    """What the ISM chapter asks of one model (:func:`findings`).

    Attributes
    ----------
    delta : np.ndarray, float32, shape (N, 4, L)
        :func:`ism` at every position.
    reference : np.ndarray, shape (N,)
        The predictions of the unmutated sequences.
    encoding : str
        The encoding the model was explained with (:func:`model_encoding`).
    effects : pandas.DataFrame
        :func:`mutant_table` of every substitution at every position.
    flanks : pandas.DataFrame
        :func:`flank_ratio`: mean ``|ΔE|`` in the variable region, in the flanks, and their ratio.
    by_class : pandas.DataFrame
        :func:`gc_change_effects`: mean ``ΔE`` of substitutions that add, keep or remove a G or C.
    verdicts : dict key -> camformer.stats.verdicts.Verdict
        The record keys of the chapter: ``variable_to_flank_ratio`` (:func:`flank_verdict`),
        ``gc_gain_mean_delta`` and ``gc_loss_mean_delta`` (:func:`gc_change_verdicts`).
    """

    delta: np.ndarray
    reference: np.ndarray
    encoding: str
    effects: object
    flanks: object
    by_class: object
    verdicts: dict


# Each finding's range: its between-model interval is cut to it (camformer.stats.ensemble.combine).
RANGES: dict[str, tuple[float, float]] = {"variable_to_flank_ratio": (0.0, float("inf"))}


def findings(model: nn.Module, codes: np.ndarray, *, groups: np.ndarray | None = None, n_boot: int = 1000,
             seed: int = 0, receptive_field: bool = True, batch_size: int = 512) -> Findings:
    """ISM of one model at every position of ``codes``, and the chapter's verdicts on it.

    Parameters
    ----------
    model : nn.Module
        Explained in eval mode with the encoding it was trained with (:func:`model_encoding`).
    codes : uint8 array, shape (N, L)
        The promoters (A, C, G, T, N = 0..4).
    groups, n_boot, seed
        Every interval resamples whole sequences, or whole ``groups`` (one label per sequence:
        similarity units), as :func:`flank_ratio` and :func:`gc_change_effects` do.
    receptive_field : bool
        Use :func:`ism_receptive_field` (default; the same numbers up to rounding, and on a CPU
        about half the time of :func:`ism` even for Camformer Micro); False: :func:`ism`, for
        models that are not shaped like Camformer.
    batch_size : int
        Mutants per forward pass.

    Returns
    -------
    Findings
        Its ``verdicts`` are one model's answers, ready for
        :func:`camformer.stats.ensemble.combine` across models.
    """
    encoding = model_encoding(model)
    explain = ism_receptive_field if receptive_field else ism
    delta = explain(model, codes, positions=None, encoding=encoding, batch_size=batch_size).numpy()
    effects = mutant_table(delta, codes, positions=range(delta.shape[-1]))
    boot = {"groups": groups, "n_boot": n_boot, "seed": seed}
    flanks = flank_ratio(effects, **boot)
    by_class = gc_change_effects(effects, **boot)
    gc = gc_change_verdicts(by_class)
    verdicts = {"variable_to_flank_ratio": flank_verdict(flanks), "gc_gain_mean_delta": gc[GC_CLASSES[0]],
                "gc_loss_mean_delta": gc[GC_CLASSES[2]]}
    return Findings(delta, predict(model, codes, encoding), encoding, effects, flanks, by_class, verdicts)
