"""The model's view of sequences: penultimate-layer activations and their 2-D maps
(the paper's Fig. 7/S9 t-SNE map, ``base/emb_utils.py``: standardise, PCA to 50
dimensions, t-SNE with perplexity 30)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from camformer.gradcam import find_layer
from camformer.inference import explaining, model_input


def _last_linear(model: nn.Module) -> nn.Module:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the model has no nn.Linear layer; name the layer to read with layer=")
    return linears[-1]


@torch.no_grad()
def penultimate_activations(
    model: nn.Module,
    X: torch.Tensor,
    layer: str | nn.Module | None = None,
    *,
    encoding: str | None = None,
    real_valued: torch.Tensor | None = None,
    batch_size: int = 512,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Activations of one layer for every sequence, read with a forward hook.

    Parameters
    ----------
    model : nn.Module
        Any model; run in eval mode on ``device``, and left on its own device and in its own
        mode afterwards.
    X : torch.Tensor
        Float ``(N, C, L)``, or uint8 codes ``(N, L)`` encoded with ``encoding`` (default: the
        one saved with the model; ``camformer.inference.model_input``) and the Int flag ``real_valued``.
    layer : str or nn.Module, optional
        The layer whose *output* is read (a name from ``model.named_modules()``). ``None``
        reads the *input* of the model's last ``nn.Linear``: the penultimate activations
        (for Camformer, what ``model.embed`` returns).
    batch_size : int
    device : str or torch.device, optional
        ``None``: where the model's parameters are.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    np.ndarray, float32, shape (N, D)
        The activations, flattened per sequence.
    """
    X = model_input(model, X, encoding=encoding, real_valued=real_valued)
    captured = {}
    if layer is None:
        handle = _last_linear(model).register_forward_pre_hook(lambda m, args: captured.__setitem__("a", args[0]))
    else:
        handle = find_layer(model, layer).register_forward_hook(lambda m, args, out: captured.__setitem__("a", out))
    out = []
    try:
        with explaining(model, device=device) as device:
            for i in tqdm(range(0, len(X), batch_size), desc="activations", disable=not progress):
                model(X[i : i + batch_size].to(device).float())
                out.append(captured["a"].flatten(1).float().cpu().numpy())
    finally:
        handle.remove()
    return np.concatenate(out)


def pca(A: np.ndarray, n_components: int = 2, *, standardize: bool = False) -> np.ndarray:
    """Principal-component scores by SVD of the centred (optionally standardised) data.

    Parameters
    ----------
    A : array, shape (N, D)
    n_components : int
    standardize : bool
        Scale each column to unit variance first (constant columns are left at 0).

    Returns
    -------
    np.ndarray, float64, shape (N, n_components)
        Scores on the leading components, in order of variance; each component's sign is
        fixed so that its largest loading is positive (deterministic output).
    """
    A = np.asarray(A, dtype=np.float64)
    A = A - A.mean(0)
    if standardize:
        sd = A.std(0)
        A = A / np.where(sd > 0, sd, 1.0)
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    k = min(n_components, Vt.shape[0])
    signs = np.sign(Vt[np.arange(k), np.abs(Vt[:k]).argmax(1)])
    return (U[:, :k] * S[:k]) * signs


def embed_2d(A: np.ndarray, method: str = "pca", *, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """A 2-D map of activations.

    Parameters
    ----------
    A : array, shape (N, D)
    method : {"pca", "tsne"}
        ``pca``: the first two principal components of the centred activations.
        ``tsne``: the paper's recipe: standardise, PCA to ``min(50, D, N)`` dimensions,
        then scikit-learn's t-SNE (``perplexity``, PCA initialisation, ``seed``).
    seed : int
        Random state of t-SNE.

    Returns
    -------
    np.ndarray, shape (N, 2)
    """
    if method == "pca":
        return pca(A, 2)
    if method == "tsne":
        from sklearn.manifold import TSNE

        reduced = pca(A, min(50, *np.shape(A)), standardize=True)
        perplexity = min(perplexity, (len(reduced) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(reduced)
    raise ValueError(f"unknown method {method!r}; choose 'pca' or 'tsne'")
