"""Gradient attributions from captum through one small function: Integrated Gradients,
DeepLift and Saliency, for any model mapping ``(N, C, L)`` to ``(N,)`` or ``(N, 1)``; and
:func:`fold_channels`, which turns attributions of the extra input channels (the purine
channel) into per-base attributions ``(N, 4, L)``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

import torch
from torch import nn

from camformer.data.dream import ENCODINGS
from camformer.models.inference import explaining, model_input, predict_scalar

if TYPE_CHECKING:  # pandas is imported where it is used
    import pandas as pd

METHODS = ("integrated_gradients", "deeplift", "saliency")
# Where camformer.data.dream.encode puts the purine channel (A/G 1, C/T 0, N 0.5: a property of the
# base at each position). The Int flag (channel 4 of onehotWithInt and onehotWithBoth) is one
# value per sequence.
PURINE_CHANNEL: dict[str, int] = {"onehotWithP": 4, "onehotWithBoth": 5}


class _Scalar(nn.Module):
    """The model with its output flattened to ``(N,)``, which captum expects for one target."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return predict_scalar(self.model, x)


def attribute(
    model: nn.Module,
    X: torch.Tensor,
    method: str = "integrated_gradients",
    baseline: torch.Tensor | float | None = None,
    *,
    encoding: str | None = None,
    real_valued: torch.Tensor | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    **kwargs,
) -> torch.Tensor:
    """Attribution of each input value to the prediction, with captum.

    Parameters
    ----------
    model : nn.Module
        Maps float ``(B, C, L)`` to ``(B,)`` or ``(B, 1)``; run in eval mode on ``device``,
        and left on its own device and in its own mode afterwards.
    X : torch.Tensor
        Float ``(N, C, L)``, or uint8 codes ``(N, L)`` encoded with ``encoding`` (default:
        the one saved with the model; ``camformer.models.inference.model_input``) and the Int flag
        ``real_valued`` ``(N,)``. Per-base attributions of an encoding with extra channels:
        :func:`fold_channels`.
    method : {"integrated_gradients", "deeplift", "saliency"}
        ``integrated_gradients``: ``(x - baseline) *`` the path-averaged gradient;
        ``deeplift``: DeepLift (rescale rule) against ``baseline``; ``saliency``: the
        absolute gradient ``|d f / d x|`` (``abs=False`` in ``kwargs`` keeps the sign).
    baseline : tensor ``(C, L)`` or ``(N, C, L)``, or float, optional
        Reference input for IG and DeepLift; ``None`` means zeros. Ignored by saliency.
    batch_size : int
        Sequences per batch; for IG also the most points of the integration path per forward pass
        (captum's ``internal_batch_size``), so memory does not grow with ``n_steps``.
    device : str or torch.device, optional
        ``None``: where the model's parameters are.
    **kwargs
        Passed to captum's ``attribute`` (e.g. ``n_steps=50`` for IG).

    Returns
    -------
    torch.Tensor, float32, shape (N, C, L), on the CPU
    """
    with warnings.catch_warnings():  # captum imports tqdm.auto, which warns outside Jupyter widgets
        warnings.simplefilter("ignore")
        from captum.attr import DeepLift, IntegratedGradients, Saliency

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    X = model_input(model, X, encoding=encoding, real_valued=real_valued)
    wrapped = _Scalar(model)
    explainer = {"integrated_gradients": IntegratedGradients, "deeplift": DeepLift, "saliency": Saliency}[method](wrapped)
    out = []
    with explaining(wrapped, device=device) as device, warnings.catch_warnings():
        # captum announces the hooks DeepLift sets on activations; nothing to act on
        warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
        for i in range(0, len(X), batch_size):
            x = X[i : i + batch_size].to(device).float().requires_grad_(True)
            if method == "saliency":
                attr = explainer.attribute(x, **kwargs)
            else:
                if baseline is None:
                    base = torch.zeros_like(x)
                elif isinstance(baseline, (int, float)):
                    base = torch.full_like(x, float(baseline))
                else:
                    base = torch.as_tensor(baseline, dtype=x.dtype, device=device)
                    base = base[i : i + batch_size] if base.ndim == 3 else base.expand_as(x)
                if method == "integrated_gradients":  # its n_steps points of a batch, in batches too
                    kwargs.setdefault("internal_batch_size", batch_size)
                attr = explainer.attribute(x, baselines=base, **kwargs)
            out.append(attr.detach().float().cpu())
    return torch.cat(out)


def fold_channels(attr: torch.Tensor, x: torch.Tensor, encoding: str) -> torch.Tensor:
    """Per-base attributions ``(N, 4, L)`` from attributions of an encoded input ``(N, C, L)``.

    The purine channel (channel 4 of ``onehotWithP``, 5 of ``onehotWithBoth``) describes the
    base at each position, so its attribution is added onto that base: onto the channel
    that is 1 in ``x``, or spread over A, C, G, T in proportion to their values where no base
    is (an N: 0.25 each). The Int flag (channel 4 of ``onehotWithInt``/``onehotWithBoth``)
    is one value per sequence, not a property of any base, and is left out: for Integrated
    Gradients the folded attributions then add up to ``f(x) - f(baseline)`` less the flag's
    share (none when the baseline keeps the flag). ``onehot`` and ``onehotWithN`` are
    returned as they are.

    Parameters
    ----------
    attr : torch.Tensor, shape (N, C, L)
        Attributions, e.g. from :func:`attribute`.
    x : torch.Tensor, shape (N, C, L)
        The encoded input they explain (:func:`camformer.data.dream.encode`).
    encoding : str
        Its encoding, one of :data:`camformer.data.dream.ENCODINGS`.

    Returns
    -------
    torch.Tensor, shape (N, 4, L), the dtype and device of ``attr``
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose from {sorted(ENCODINGS)}")
    if attr.shape != x.shape or attr.ndim != 3 or attr.shape[1] != ENCODINGS[encoding]:
        raise ValueError(f"attr and x must both have shape (N, {ENCODINGS[encoding]}, L) for {encoding!r}; "
                         f"got {tuple(attr.shape)} and {tuple(x.shape)}")
    bases = attr[:, :4]
    if encoding not in PURINE_CHANNEL:
        return bases.clone()
    present = x[:, :4].to(attr.dtype)
    total = present.sum(1, keepdim=True)
    share = torch.where(total > 0, present / torch.where(total > 0, total, 1), 0.25)
    return bases + share * attr[:, PURINE_CHANNEL[encoding], None]


def position_profiles(maps: dict[str, torch.Tensor | np.ndarray], x: torch.Tensor | np.ndarray) -> "pd.DataFrame":
    """Per-position attribution at the base actually present: ``(map * x[:4]).sum(bases)``.

    Parameters
    ----------
    maps : dict name -> per-base map ``(4, L)`` (e.g. :func:`fold_channels` of one sequence)
    x : the sequence's one-hot ``(C, L)`` (the first four channels are A, C, G, T)

    Returns
    -------
    pandas.DataFrame, shape (L, len(maps)): one column per map
    """
    import pandas as pd

    onehot = np.asarray(x[:4], dtype=np.float64)
    return pd.DataFrame({name: (np.asarray(m, dtype=np.float64)[:4] * onehot).sum(0) for name, m in maps.items()})


def present_base_profiles(maps: torch.Tensor | np.ndarray, x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Per-position attribution at the base present, for many sequences: ``(maps * x[:, :4]).sum(1)``.

    Parameters
    ----------
    maps : array ``(N, 4, L)``: per-base maps (e.g. :func:`fold_channels`)
    x : array ``(N, C, L)``: the encoded sequences (channels 0-3 are A, C, G, T)

    Returns
    -------
    np.ndarray, float64, shape (N, L)
    """
    maps = np.asarray(maps, dtype=np.float64)
    onehot = np.asarray(x, dtype=np.float64)[:, :4]
    if maps.shape != onehot.shape:
        raise ValueError(f"maps must have shape (N, 4, L) like x's bases, {onehot.shape}; got {maps.shape}")
    return (maps * onehot).sum(1)


def rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``a`` with the same row of ``b`` (both ``(N, L)``): ``(N,)``, NaN
    where either row is constant (the correlation is undefined)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must both be (N, L); got {a.shape} and {b.shape}")
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    norm = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    constant = (np.ptp(a, axis=1) == 0) | (np.ptp(b, axis=1) == 0)
    return np.where(constant, np.nan, (a * b).sum(1) / np.where(constant, 1.0, norm))


def agreement_table(profiles: dict[str, np.ndarray], reference: str, *, groups: np.ndarray | None = None,
                    n_boot: int = 1000, seed: int = 0) -> "pd.DataFrame":
    """How well each attribution agrees with ``reference`` over many sequences.

    For each sequence, the Pearson r of its per-position profile with the reference's
    (:func:`rowwise_pearson`); the table gives their mean over the sequences where r is defined,
    with a percentile-bootstrap interval over sequences (or whole ``groups``: variant families).
    One sequence's r is fragile (it moves with the last bits of the model); the mean over many is not.

    Parameters
    ----------
    profiles : dict name -> array ``(N, L)`` (:func:`present_base_profiles`), ``reference`` among them
    reference : str
    groups : array ``(N,)``, optional
    n_boot, seed : as for :func:`camformer.stats.explain_stats.mean_interval`

    Returns
    -------
    pandas.DataFrame indexed by the other profiles' names: ``mean_r, ci_low, ci_high, n`` (sequences
    with a defined r), ``n_undefined`` (NaN statistics when no sequence has one)
    """
    import pandas as pd

    from camformer.stats.explain_stats import mean_interval

    rows = {}
    for name, profile in profiles.items():
        if name == reference:
            continue
        r = rowwise_pearson(profiles[reference], profile)
        ok = np.isfinite(r)
        stats = (mean_interval(r[ok], groups=None if groups is None else np.asarray(groups)[ok],
                               n_boot=n_boot, seed=seed) if ok.any() else (np.nan,) * 3)
        rows[name] = dict(zip(("mean_r", "ci_low", "ci_high"), stats), n=int(ok.sum()), n_undefined=int((~ok).sum()))
    return pd.DataFrame.from_dict(rows, orient="index")


#: Mean correlations whose whole interval lies within this distance of 0 count as unrelated: an
#: equivalence margin at Cohen's small effect, r = 0.1 (J. Cohen, Statistical Power Analysis for the
#: Behavioral Sciences, 2nd ed., 1988, ch. 3), so 'unrelated' claims less than a small effect.
NEGLIGIBLE_R = 0.1


def agreement_verdicts(table: "pd.DataFrame", reference: str = "Grad-CAM", *, margin: float = NEGLIGIBLE_R):
    """The words for :func:`agreement_table`: per method, whether its profiles are unrelated to the
    reference's on average (the interval of the mean r inside ``± margin``), agree (above 0),
    point the other way (below 0), or none of these clearly; and which method agrees best
    (:func:`camformer.stats.verdicts.best_of`), or that the intervals cannot tell.

    Returns
    -------
    (dict name -> camformer.stats.verdicts.Verdict, camformer.stats.verdicts.Verdict, str)
        The per-method verdicts; the verdict on the best (its words a sentence, its numbers the
        best method's mean r and interval); and the best method's name, or ``"undecided"`` when
        its interval overlaps another's, or ``"undefined"`` when fewer than two means are defined.
    """
    from camformer.stats.explain_stats import verdict
    from camformer.stats.verdicts import Verdict, best_of

    verdicts = {
        name: verdict(row.mean_r, row.ci_low, row.ci_high, margin=margin,
                      negligible=f"{name} and {reference} are unrelated on average (|r| below {margin:g})",
                      above=f"{name} agrees with {reference} on average (r above 0)",
                      below=f"{name} points the other way from {reference} on average (r below 0)",
                      undecided=f"{name} neither clearly agrees with {reference} nor is unrelated to it",
                      undefined=f"the {name} or {reference} profiles are constant")
        for name, row in table.iterrows()}
    defined = {name: (row.mean_r, row.ci_low, row.ci_high) for name, row in table.iterrows() if np.isfinite(row.mean_r)}
    if len(defined) < 2:
        nan = float("nan")
        return verdicts, Verdict("undefined (fewer than two methods have a defined agreement)", nan, nan, nan,
                                 False), "undefined"
    best, decided, tied = best_of(defined)
    words = (f"{best} agrees with {reference} best" if decided else
             f"{best} agrees with {reference} best, but its interval overlaps that of {', '.join(tied)}: "
             "which agrees best is undecided")
    return verdicts, Verdict(words, *defined[best], decided), best if decided else "undecided"


#: The attributions the Grad-CAM chapter compares with Grad-CAM: display name -> (method, captum
#: keyword arguments) for :func:`attribute`, and the record key of each.
COMPARED: dict[str, tuple[str, dict]] = {
    "Integrated Gradients": ("integrated_gradients", {"n_steps": 32}),
    "DeepLift": ("deeplift", {}),
    "Saliency": ("saliency", {}),
}
RECORD_KEYS: dict[str, str] = {"Integrated Gradients": "ig", "DeepLift": "deeplift", "Saliency": "saliency"}


def attribution_maps(model: nn.Module, X: torch.Tensor, encoding: str,
                     methods: dict[str, tuple[str, dict]] | None = None) -> dict[str, torch.Tensor]:
    """Per-base attributions ``(N, 4, L)`` of every sequence by each method (default
    :data:`COMPARED`): :func:`attribute`, then :func:`fold_channels`.

    Parameters
    ----------
    model : nn.Module
    X : torch.Tensor, float ``(N, C, L)`` encoded with ``encoding``
    encoding : str
    methods : dict name -> (method, keyword arguments), optional

    Returns
    -------
    dict name -> torch.Tensor ``(N, 4, L)``
    """
    methods = COMPARED if methods is None else methods
    return {name: fold_channels(attribute(model, X, method, **kwargs), X, encoding)
            for name, (method, kwargs) in methods.items()}


def agreement_summary(table: "pd.DataFrame", verdicts: dict, best) -> str:
    """The finding of :func:`agreement_table` and :func:`agreement_verdicts` as Markdown: each
    method's mean r with its interval, how many sequences it averages, and the verdicts."""
    from camformer.stats.explain_stats import stated

    parts = []
    for name, row in table.iterrows():
        left_out = f", {int(row.n_undefined)} with a constant profile left out" if row.n_undefined else ""
        parts.append(f"{name} {stated(verdicts[name])} ({int(row.n)} promoters{left_out}): {verdicts[name]}")
    return ("Mean over promoters of each method's r with Grad-CAM: " + "; ".join(parts) + f". **{best}**. "
            "Pearson r weighs the few positions with large values, which is what the eye compares in the "
            "profiles above.")


def agreement_keys(verdicts: dict, prefix: str = "gradcam") -> dict:
    """The record key of each method's verdict from :func:`agreement_verdicts`:
    ``{prefix}_{key}_mean_r`` (keys from :data:`RECORD_KEYS`, else the name in lower case) ->
    the verdict, for ``camformer.records.report.facts``."""
    return {f"{prefix}_{RECORD_KEYS.get(name, name.lower().replace(' ', '_'))}_mean_r": v
            for name, v in verdicts.items()}
