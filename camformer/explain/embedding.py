"""The model's view of sequences: penultimate-layer activations and their 2-D maps
(the paper's Fig. 7/S9 t-SNE map, ``base/emb_utils.py``: standardise, PCA to 50
dimensions, t-SNE with perplexity 30)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from camformer.explain.gradcam import find_layer
from camformer.models.inference import explaining, model_input

if TYPE_CHECKING:  # pandas is imported where it is used
    import pandas as pd

    from camformer.stats.verdicts import Verdict


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
        one saved with the model; ``camformer.models.inference.model_input``) and the Int flag ``real_valued``.
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
        then scikit-learn's t-SNE (``perplexity``, PCA initialisation, ``seed``). Its
        Barnes-Hut map does not depend on the OpenMP thread count (a test checks), so not on
        the machine's cores.
    seed : int
        Random state of t-SNE.

    Returns
    -------
    np.ndarray, shape (N, 2)
        Constant activations (a model whose hidden units are all silent) put every point at
        the origin, for either method: there is nothing to lay out.
    """
    if method == "pca":
        return pca(A, 2)
    if method == "tsne":
        from sklearn.manifold import TSNE

        reduced = pca(A, min(50, *np.shape(A)), standardize=True)
        if not np.ptp(reduced, axis=0).any():  # t-SNE of identical points divides by zero
            return np.zeros((len(reduced), 2))
        perplexity = min(perplexity, (len(reduced) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(reduced)
    raise ValueError(f"unknown method {method!r}; choose 'pca' or 'tsne'")


def _abs_interval(low: float, high: float) -> tuple[float, float]:
    """The interval of ``|x|`` for ``x`` in ``[low, high]``."""
    if low >= 0:
        return low, high
    if high <= 0:
        return -high, -low
    return 0.0, max(-low, high)


def axis_correlations(maps: dict[str, np.ndarray], targets: dict[str, np.ndarray], *,
                      groups: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0) -> "pd.DataFrame":
    """Spearman ρ of every map axis with every target, with percentile-bootstrap intervals.

    The sign of a map axis is arbitrary (a principal component or a t-SNE axis can be flipped),
    so the size ``|ρ|`` is what a map shows; its interval is the interval of ``|ρ|`` over the
    interval of ρ (it starts at 0 when the interval of ρ spans 0).

    Parameters
    ----------
    maps : dict name -> array ``(N, 2)`` (e.g. from :func:`embed_2d`)
    targets : dict name -> array ``(N,)`` (e.g. measured and predicted expression)
    groups : array ``(N,)``, optional
        Resample whole groups (similarity units, :func:`camformer.stats.bootstrap.test_set_units`).
    n_boot, seed
        As for :func:`camformer.stats.bootstrap.bootstrap_samples` (the same resamples for every pair).

    Returns
    -------
    pandas.DataFrame, one row per (map, axis, target): ``map, axis`` (1-based), ``target, rho,
    abs_rho, ci_low, ci_high`` (of ``|ρ|``) and ``undefined`` (why ρ is NaN, or ``""``: a
    constant axis or target).
    """
    import pandas as pd

    from camformer.stats.bootstrap import bootstrap_samples, percentile_interval
    from camformer.stats.metrics import spearman_rho

    rows = []
    for name, Y in maps.items():
        for axis in range(np.shape(Y)[1]):
            x = np.asarray(Y, np.float64)[:, axis]
            for target, y in targets.items():
                y = np.asarray(y, np.float64)
                row = {"map": name, "axis": axis + 1, "target": target}
                constant = [n for n, v in ((f"{name} axis {axis + 1}", x), (target, y)) if np.ptp(v) == 0]
                if constant:
                    rows.append({**row, "rho": np.nan, "abs_rho": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                 "undefined": f"{' and '.join(constant)} constant"})
                    continue
                samples = bootstrap_samples(y, x, "spearman_rho", n_boot=n_boot, seed=seed, groups=groups)
                rho = spearman_rho(y, x)
                low, high = _abs_interval(*percentile_interval(samples[np.isfinite(samples)]))
                rows.append({**row, "rho": rho, "abs_rho": abs(rho), "ci_low": low, "ci_high": high, "undefined": ""})
    return pd.DataFrame(rows)


def neighbour_agreement(Y: np.ndarray, values: np.ndarray, *, k: int = 15, groups: np.ndarray | None = None,
                        n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """How well a 2-D map keeps promoters of similar expression together.

    The points are split at random into two halves: for each point of the first (the queries),
    the mean of ``values`` over its ``k`` nearest points of the second half (the references) on
    the map; the statistic is the Pearson r of each query's value with that neighbourhood mean.
    Unlike the correlation of one map axis with ``values``, it does not depend on how the map is
    rotated or bent, which is what a t-SNE map leaves free. A map with no gradient gives r near 0,
    a map ordered by ``values`` r near 1. Queries never share a value with their neighbourhoods,
    so without a gradient their pairs are independent and the bootstrap over queries is honest
    (neighbourhoods drawn from the same points would not be: mutual neighbours share values).

    Parameters
    ----------
    Y : array ``(N, 2)``
    values : array ``(N,)``
    k : int
        Neighbours per query (ties broken as ``scipy.spatial.cKDTree`` breaks them).
    groups : array ``(N,)``, optional
        Resample the queries by whole groups (variant families).
    n_boot, seed
        Bootstrap resamples of the queries; ``seed`` also draws the split.

    Returns
    -------
    dict
        ``r, ci_low, ci_high`` (NaN when ``values`` or the neighbourhood means are constant, or
        every point lies at the same place), ``k``, ``n_queries``.
    """
    from scipy.spatial import cKDTree

    from camformer.stats.bootstrap import bootstrap_samples, percentile_interval
    from camformer.stats.metrics import pearson_r

    Y = np.asarray(Y, np.float64)
    values = np.asarray(values, np.float64)
    if Y.ndim != 2 or len(Y) != len(values):
        raise ValueError(f"Y must be (N, 2) and values (N,); got {Y.shape} and {values.shape}")
    order = np.random.default_rng(seed).permutation(len(Y))
    query, reference = np.sort(order[: len(Y) // 2]), np.sort(order[len(Y) // 2:])
    if not 0 < k <= len(reference):
        raise ValueError(f"k must be in 1..{len(reference)} (half the points), got {k}")
    _, idx = cKDTree(Y[reference]).query(Y[query], k=k)
    local = values[reference][np.asarray(idx).reshape(len(query), k)].mean(1)
    nan = float("nan")
    out = {"r": nan, "ci_low": nan, "ci_high": nan, "k": k, "n_queries": len(query)}
    if np.ptp(values[query]) == 0 or np.ptp(local) == 0 or not np.ptp(Y, axis=0).any():  # nothing to order
        return out
    labels = None if groups is None else np.asarray(groups)[query]
    samples = bootstrap_samples(values[query], local, "pearson_r", n_boot=n_boot, seed=seed, groups=labels)
    low, high = percentile_interval(samples[np.isfinite(samples)])
    return {**out, "r": pearson_r(values[query], local), "ci_low": low, "ci_high": high}


def variance_share(A: np.ndarray, *, groups: np.ndarray | None = None, n_boot: int = 200, seed: int = 0
                   ) -> dict[str, float]:
    """Share of the activations' total variance on their first principal component, with a
    percentile-bootstrap interval (each resample recomputes the covariance and its top eigenvalue).

    Parameters
    ----------
    A : array ``(N, D)``
    groups, n_boot, seed
        Resample the rows (or whole ``groups``) as :func:`camformer.stats.bootstrap.resample_counts` does.

    Returns
    -------
    dict: ``share, ci_low, ci_high`` (NaN for constant activations)
    """
    from camformer.stats.bootstrap import _as_groups, percentile_interval, resample_counts

    A = np.asarray(A, np.float64)
    A = A[:, np.ptp(A, axis=0) > 0]
    if A.shape[1] == 0:
        return {"share": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    A = A - A.mean(0)

    def share(w: np.ndarray) -> float:
        mean = w @ A / w.sum()
        eig = np.linalg.eigvalsh((A * w[:, None]).T @ A / w.sum() - np.outer(mean, mean))
        return float(eig[-1] / eig.sum())

    codes, n_groups = _as_groups(groups, len(A)) if groups is not None else (None, 0)
    counts = resample_counts(np.random.default_rng(seed), len(A), n_boot, groups=codes, n_groups=n_groups)
    low, high = percentile_interval(np.array([share(w) for w in counts]))
    return {"share": share(np.ones(len(A))), "ci_low": low, "ci_high": high}


#: |ρ| above which a map axis is called an expression axis (a strong monotone relation): the
#: lower bound of a "high" correlation in the common rule of thumb (0.70-0.90 high, 0.90-1.00 very
#: high; M. M. Mukaka, "A guide to appropriate use of correlation coefficient in medical research",
#: Malawi Medical Journal 24(3):69-71, 2012; "strong" from 0.7 in the conventions summarised by
#: H. Akoglu, "User's guide to correlation coefficients", Turkish Journal of Emergency Medicine
#: 18(3):91-93, 2018). A convention for naming a size, not a test: the whole interval must clear it.
STRONG_RHO = 0.7


def expression_axis_verdict(abs_rho: float, ci_low: float, ci_high: float, *, threshold: float = STRONG_RHO,
                            target: str = "predicted"):
    """Whether the first principal component of the activations is an expression axis.

    ``abs_rho`` and its interval are ``|ρ|`` of the first component with the model's own
    predictions (``target="predicted"``) or with measured expression (``target="measured"``)
    (:func:`axis_correlations`). Above ``threshold`` over the whole interval: one axis carries
    that expression; below it: it is not the main axis; else undecided.

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    if target == "predicted":
        words = {"above": "the main axis of variation of the activations is the model's expression axis",
                 "below": "expression is not the main axis of variation of the activations",
                 "undecided": "this sample cannot tell whether expression is the main axis of the activations"}
    elif target == "measured":
        words = {"above": "the main axis of variation of the activations follows measured expression strongly",
                 "below": "the main axis of variation of the activations does not follow measured expression "
                          "strongly",
                 "undecided": "this sample cannot tell whether the main axis of the activations follows measured "
                              "expression strongly"}
    else:
        raise ValueError(f"target = {target!r}: choose 'predicted' or 'measured'")
    return verdict(abs_rho, ci_low, ci_high, threshold=threshold, **words,
                   undefined=f"the first component or the {target} expression is constant")


#: The share of the activations' variance above which one component carries *most* of it (more than
#: all the others together): a representation that is mostly one-dimensional.
MOST = 0.5


def dominant_axis_verdict(share: dict[str, float], *, threshold: float = MOST):
    """Whether the first principal component carries most of the activations' variance
    (:func:`variance_share`; the whole interval above ``threshold``), less than that (below),
    or undecided.

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    return verdict(share["share"], share["ci_low"], share["ci_high"], threshold=threshold,
                   above="the first component carries most of the activations' variance",
                   below="the first component carries less than half of the activations' variance",
                   undecided="this sample cannot tell whether the first component carries most of the variance",
                   undefined="constant activations")


def gradient_verdict(neighbour: dict[str, float], map_name: str = "map"):
    """Whether neighbours on a map share their measured expression (:func:`neighbour_agreement`):
    the interval of r above 0 means the colours form a gradient; below 0, that neighbours differ
    more than random points would; else that no gradient is detectable.

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    return verdict(neighbour["r"], neighbour["ci_low"], neighbour["ci_high"],
                   above=f"neighbours on the {map_name} have similar measured expression: the colours form a gradient",
                   below=f"neighbours on the {map_name} differ in measured expression more than random promoters do",
                   undecided=f"no gradient of measured expression is detectable on the {map_name}",
                   undefined="the expression or its neighbourhood means are constant")


#: Names of :func:`findings`' verdicts for a table (``camformer.stats.ensemble.table``), in the page's order.
FINDING_NAMES = {
    "pc1_variance_share": "PC 1: share of the variance",
    "pc1_abs_rho_predicted": "PC 1: |ρ| with predictions",
    "pc1_abs_rho_measured": "PC 1: |ρ| with measured",
    "pca_neighbour_r_measured": "PCA map: neighbours' r",
    "tsne_neighbour_r_measured": "t-SNE map: neighbours' r",
}

# Each finding's range: its between-model interval is cut to it (camformer.stats.ensemble.combine).
RANGES: dict[str, tuple[float, float]] = {
    "pc1_variance_share": (0.0, 1.0), "pc1_abs_rho_predicted": (0.0, 1.0), "pc1_abs_rho_measured": (0.0, 1.0),
    "pca_neighbour_r_measured": (-1.0, 1.0), "tsne_neighbour_r_measured": (-1.0, 1.0),
}


@dataclass(frozen=True)
class Findings:
    """What :func:`findings` asks of one model's activations.

    Attributes
    ----------
    measured : np.ndarray
        ``(N,)`` the promoters' measured expression (to colour the maps).
    activations : np.ndarray
        ``(N, D)`` penultimate activations.
    maps : dict
        ``"PCA"`` and ``"t-SNE"`` -> ``(N, 2)`` maps (:func:`embed_2d`).
    axes : pandas.DataFrame
        :func:`axis_correlations` of the first principal component with measured and predicted
        expression (two rows).
    verdicts : dict
        The keys of :data:`FINDING_NAMES` -> :class:`camformer.stats.verdicts.Verdict`, each from this
        model's interval over promoters.
    """

    measured: np.ndarray
    activations: np.ndarray
    maps: dict
    axes: "pd.DataFrame"
    verdicts: dict[str, "Verdict"]


def findings(model: nn.Module, codes: np.ndarray, measured: np.ndarray, predicted: np.ndarray, boot: dict, *,
             seed: int = 0, share_boot: int = 200,
             activations: np.ndarray | None = None) -> Findings:
    """The chapter's questions asked of one model: its penultimate activations, their PCA and
    t-SNE maps, and a verdict on each of :data:`FINDING_NAMES` from intervals over promoters.

    Parameters
    ----------
    model : nn.Module
    codes : np.ndarray
        ``(N, L)`` base codes of the promoters (:func:`camformer.data.dream.encode_sequences`).
    measured, predicted : np.ndarray
        ``(N,)`` measured expression, and this model's predictions.
    boot : dict
        ``groups``, ``n_boot`` and ``seed`` of the bootstrap over promoters (the ``boot`` of
        :func:`camformer.records.book.explaining`).
    seed : int
        Of t-SNE.
    share_boot : int
        Resamples of the variance share's interval (each one an eigen-decomposition).
    activations : np.ndarray, optional
        ``(N, D)``: use these instead of reading them from ``model`` (for tests).

    Returns
    -------
    Findings
        Verdicts: ``pc1_variance_share`` (:func:`dominant_axis_verdict`),
        ``pc1_abs_rho_predicted`` and ``pc1_abs_rho_measured`` (:func:`expression_axis_verdict`),
        ``pca_neighbour_r_measured`` and ``tsne_neighbour_r_measured`` (:func:`gradient_verdict`).
    """
    measured, predicted = np.asarray(measured, np.float64), np.asarray(predicted, np.float64)
    if not len(codes) == len(measured) == len(predicted):
        raise ValueError(f"{len(codes)} promoters, {len(measured)} measured and {len(predicted)} predicted values")
    A = penultimate_activations(model, codes) if activations is None else np.asarray(activations)
    maps = {"PCA": embed_2d(A, "pca"), "t-SNE": embed_2d(A, "tsne", seed=seed)}
    # only the first component is judged: the other axes' bootstraps would cost time and say nothing
    axes = axis_correlations({"PCA": maps["PCA"][:, :1]}, {"measured": measured, "predicted": predicted}, **boot)
    pc1 = axes.set_index("target")
    rho = {t: pc1.loc[t, ["abs_rho", "ci_low", "ci_high"]].to_numpy(float) for t in ("measured", "predicted")}
    share = variance_share(A, groups=boot.get("groups"), n_boot=share_boot, seed=boot.get("seed", 0))
    verdicts = {
        "pc1_variance_share": dominant_axis_verdict(share),
        "pc1_abs_rho_predicted": expression_axis_verdict(*rho["predicted"]),
        "pc1_abs_rho_measured": expression_axis_verdict(*rho["measured"], target="measured"),
        "pca_neighbour_r_measured": gradient_verdict(neighbour_agreement(maps["PCA"], measured, **boot), "PCA map"),
        "tsne_neighbour_r_measured": gradient_verdict(neighbour_agreement(maps["t-SNE"], measured, **boot),
                                                      "t-SNE map"),
    }
    return Findings(measured, A, maps, axes, verdicts)
