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

from camformer.data import ENCODINGS
from camformer.inference import explaining, model_input, predict_scalar

if TYPE_CHECKING:  # pandas is imported where it is used
    import pandas as pd

METHODS = ("integrated_gradients", "deeplift", "saliency")
# Where camformer.data.encode puts the purine channel (A/G 1, C/T 0, N 0.5: a property of the
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
        the one saved with the model; ``camformer.inference.model_input``) and the Int flag
        ``real_valued`` ``(N,)``. Per-base attributions of an encoding with extra channels:
        :func:`fold_channels`.
    method : {"integrated_gradients", "deeplift", "saliency"}
        ``integrated_gradients``: ``(x - baseline) *`` the path-averaged gradient;
        ``deeplift``: DeepLift (rescale rule) against ``baseline``; ``saliency``: the
        absolute gradient ``|d f / d x|`` (``abs=False`` in ``kwargs`` keeps the sign).
    baseline : tensor ``(C, L)`` or ``(N, C, L)``, or float, optional
        Reference input for IG and DeepLift; ``None`` means zeros. Ignored by saliency.
    batch_size : int
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
        The encoded input they explain (:func:`camformer.data.encode`).
    encoding : str
        Its encoding, one of :data:`camformer.data.ENCODINGS`.

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


def compare_profiles(profiles: "pd.DataFrame", reference: str) -> "pd.DataFrame":
    """Pearson r and Spearman rho of each profile with ``reference``, or why they are undefined.

    A correlation with a constant profile (a blank map: no position pushes the prediction) is
    undefined: its row has NaN and the reason, never a made-up number.

    Returns
    -------
    pandas.DataFrame indexed by the other profiles' names: ``pearson_r, spearman_rho, undefined``
    (the reason, or ``""``)
    """
    import pandas as pd

    from .metrics import pearson_r, spearman_rho

    rows = {}
    ref = profiles[reference].to_numpy(np.float64)
    for name in profiles.columns.drop(reference):
        other = profiles[name].to_numpy(np.float64)
        blank = [n for n, v in ((reference, ref), (name, other)) if np.ptp(v) == 0]
        if blank:
            rows[name] = {"pearson_r": np.nan, "spearman_rho": np.nan,
                          "undefined": f"the {' and '.join(blank)} profile is constant"}
        else:
            rows[name] = {"pearson_r": pearson_r(ref, other), "spearman_rho": spearman_rho(ref, other), "undefined": ""}
    return pd.DataFrame.from_dict(rows, orient="index")
