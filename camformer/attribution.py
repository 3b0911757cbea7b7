"""Gradient attributions from captum through one small function: Integrated Gradients,
DeepLift and Saliency, for any model mapping ``(N, C, L)`` to ``(N,)`` or ``(N, 1)``."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from camformer.ism import eval_mode, pick_device, predict_scalar

METHODS = ("integrated_gradients", "deeplift", "saliency")


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
    batch_size: int = 256,
    device: str | torch.device | None = None,
    **kwargs,
) -> torch.Tensor:
    """Attribution of each input value to the prediction, with captum.

    Parameters
    ----------
    model : nn.Module
        Maps float ``(B, C, L)`` to ``(B,)`` or ``(B, 1)``; run in eval mode (training flag
        restored afterwards) and moved to ``device``.
    X : torch.Tensor, float, shape (N, C, L)
    method : {"integrated_gradients", "deeplift", "saliency"}
        ``integrated_gradients``: ``(x - baseline) *`` the path-averaged gradient;
        ``deeplift``: DeepLift (rescale rule) against ``baseline``; ``saliency``: the
        absolute gradient ``|d f / d x|`` (``abs=False`` in ``kwargs`` keeps the sign).
    baseline : tensor ``(C, L)`` or ``(N, C, L)``, or float, optional
        Reference input for IG and DeepLift; ``None`` means zeros. Ignored by saliency.
    batch_size : int
    device : str or torch.device, optional
        ``None`` picks CUDA if available, else CPU.
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
    device = pick_device(device)
    wrapped = _Scalar(model).to(device)
    explainer = {"integrated_gradients": IntegratedGradients, "deeplift": DeepLift, "saliency": Saliency}[method](wrapped)
    out = []
    with eval_mode(wrapped), warnings.catch_warnings():
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
