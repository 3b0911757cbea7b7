"""Grad-CAM for sequence models, as the Camformer paper defines it.

For a chosen convolution layer with output ``A`` ``(N, K, L_k)``, the map is the channel
mean of ``A``, linearly upsampled to the input length when ``L_k != L``, times the gradient
of the prediction with respect to the input ``X`` ``(N, C, L)``:

``M[n, c, l] = mean_k A[n, k, l] * d f(X_n) / d X[n, c, l]``

normalised by its maximum (``base/gradcam_utils.py`` of the authors: the hook sits on the
convolution module itself, so ``A`` is its raw output before batch norm; a single map is
divided by its maximum, an average map is averaged first, then divided). Works for any model
and any module whose output is ``(N, K, L_k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from camformer.models.inference import explaining, model_input, predict_scalar


def find_layer(model: nn.Module, layer: str | nn.Module) -> nn.Module:
    """The submodule named ``layer`` (as in ``model.named_modules()``), or ``layer`` itself."""
    if isinstance(layer, nn.Module):
        return layer
    modules = dict(model.named_modules())
    if layer not in modules:
        convs = [n for n, m in modules.items() if isinstance(m, nn.Conv1d)]
        raise KeyError(f"model has no layer {layer!r}; its convolution layers are {convs}")
    return modules[layer]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of every ``nn.Conv1d`` in ``model``, in definition order."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv1d)]


def normalize_by_max(maps: torch.Tensor) -> torch.Tensor:
    """Divide each map (all axes but the first) by its maximum, as the paper does.

    Parameters
    ----------
    maps : torch.Tensor, shape (N, ...)

    Returns
    -------
    torch.Tensor, same shape; a map whose maximum is 0 is returned unchanged. As in the
    paper, a map whose maximum is negative changes sign.
    """
    top = maps.flatten(1).max(1).values
    top = torch.where(top == 0, torch.ones_like(top), top)
    return maps / top.view(-1, *([1] * (maps.ndim - 1)))


def gradcam(
    model: nn.Module,
    X: torch.Tensor,
    layer: str | nn.Module,
    *,
    normalize: bool = True,
    encoding: str | None = None,
    real_valued: torch.Tensor | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Grad-CAM maps of ``model`` at one layer, one map per sequence.

    Parameters
    ----------
    model : nn.Module
        Maps float ``(B, C, L)`` to ``(B,)`` or ``(B, 1)``; run in eval mode on ``device``,
        and left on its own device and in its own mode afterwards.
    X : torch.Tensor
        Encoded sequences, float ``(N, C, L)``, or uint8 codes ``(N, L)`` encoded with
        ``encoding`` (default: the one saved with the model; ``camformer.models.inference.model_input``)
        and the Int flag ``real_valued`` ``(N,)``.
    layer : str or nn.Module
        The layer (a name from ``model.named_modules()``, e.g. ``"blocks.0.conv"``, or the
        module) whose output ``(B, K, L_k)`` is averaged over its ``K`` channels.
    normalize : bool
        Divide each map by its maximum (:func:`normalize_by_max`). For an average over
        sequences, take ``normalize=False``, average, then normalise.
    batch_size : int
    device : str or torch.device, optional
        ``None``: where the model's parameters are.
    progress : bool
        Show a tqdm progress bar over batches.

    Returns
    -------
    torch.Tensor, float32, shape (N, C, L), on the CPU
    """
    X = model_input(model, X, encoding=encoding, real_valued=real_valued)
    module = find_layer(model, layer)
    captured = {}

    def hook(_module, _inputs, output):
        captured["A"] = output

    handle = module.register_forward_hook(hook)
    maps = []
    try:
        with explaining(model, device=device) as device:
            for i in tqdm(range(0, len(X), batch_size), desc="Grad-CAM", disable=not progress):
                x = X[i : i + batch_size].to(device).float().requires_grad_(True)
                pred = predict_scalar(model, x)
                (grad,) = torch.autograd.grad(pred.sum(), x)
                A = captured["A"].detach()
                if A.ndim != 3:
                    raise ValueError(f"layer {layer!r} gives shape {tuple(A.shape)}; Grad-CAM needs (N, K, L)")
                cam = A.mean(1, keepdim=True)  # (B, 1, L_k)
                if cam.shape[-1] != x.shape[-1]:
                    cam = F.interpolate(cam, size=x.shape[-1], mode="linear", align_corners=False)
                maps.append((cam * grad).cpu())
    finally:
        handle.remove()
    out = torch.cat(maps)
    return normalize_by_max(out) if normalize else out


def region_share(cam: torch.Tensor | np.ndarray, region: slice = slice(17, 97)) -> float:
    """The share of a map's absolute value inside ``region`` (default the 80-nt variable region,
    0-based positions 17..96); NaN for a blank map, whose share is undefined.

    Parameters
    ----------
    cam : array ``(C, L)`` (or ``(L,)``): e.g. a Grad-CAM map averaged over sequences
    """
    mass = np.abs(np.asarray(cam, dtype=np.float64))
    total = mass.sum()
    return float(mass[..., region].sum() / total) if total > 0 else float("nan")


#: Share of the 110 positions that lie in the 80-nt variable region (0-based 17..96).
VARIABLE_SHARE_OF_POSITIONS = 80 / 110


def region_share_interval(maps: torch.Tensor | np.ndarray, region: slice = slice(17, 97), *,
                          groups: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Where the maps put their weight: the share of the maps' absolute mass inside ``region``,
    over many sequences, with a bootstrap interval.

    Each sequence's map is taken in absolute value (red and blue both mark positions the model
    responds to), so its mass in the region and in total are sums over bases and positions; the
    share is the mean over sequences of the region's mass divided by the mean of the total
    (:func:`camformer.stats.explain_stats.ratio_interval`). Unlike :func:`region_share` of an average
    map, in which positive and negative values of different sequences cancel, it is a smooth
    statistic of per-sequence numbers, whose bootstrap is not biased by the cancelling.

    Parameters
    ----------
    maps : array ``(N, C, L)``
        Per-sequence maps (e.g. ``gradcam(..., normalize=False)``; dividing a map by its maximum
        would weigh every sequence alike instead of by its mass).
    region : slice of positions
    groups, n_boot, seed
        Resample the sequences (or whole ``groups``, e.g. variant families).

    Returns
    -------
    dict: ``share, ci_low, ci_high`` (NaN when every map is blank)
    """
    from camformer.stats.explain_stats import ratio_interval

    mass = np.abs(np.asarray(maps, dtype=np.float64))
    share, low, high = ratio_interval(mass[..., region].sum(axis=(1, 2)), mass.sum(axis=(1, 2)), groups=groups,
                                      n_boot=n_boot, seed=seed)
    return {"share": share, "ci_low": low, "ci_high": high}


def region_verdict(share: dict[str, float], layer: str = "the layer"):
    """Whether the average map's mass falls in the variable region out of proportion to the
    region's share of the positions (:data:`VARIABLE_SHARE_OF_POSITIONS`, 73%), from
    :func:`region_share_interval`: more (the interval above it), less (below it), or no
    evidence either way. An interval that holds the share is not evidence that the mass is in
    proportion: no margin of "about its share" is claimed, since none is grounded.

    Returns
    -------
    camformer.stats.verdicts.Verdict
    """
    from camformer.stats.explain_stats import verdict

    return verdict(share["share"], share["ci_low"], share["ci_high"], threshold=VARIABLE_SHARE_OF_POSITIONS,
                   above=f"at {layer} the variable region holds more of the map than its share of positions",
                   below=f"at {layer} the constant flanks hold more of the map than their share of positions",
                   undecided=f"at {layer} this sample shows no evidence that the variable region holds more or "
                             "less of the map than its share of positions",
                   undefined="the average map is blank")


def layer_maps(model: nn.Module, X: torch.Tensor, layers: list[str], encoding: str, *, normalize: bool = False,
               batch_size: int = 128) -> dict[str, torch.Tensor]:
    """Per-base Grad-CAM maps of every sequence at each layer: :func:`gradcam` folded onto the four
    bases (``camformer.explain.attribution.fold_channels``: an encoding's purine channel is added onto the
    base present, so the maps show all the model's input).

    Parameters
    ----------
    model : nn.Module
    X : torch.Tensor, float ``(N, C, L)``, encoded with ``encoding``
    layers : layer names (:func:`conv_layers`)
    encoding : str
    normalize : bool
        Divide each sequence's map by its maximum (for showing one map; keep False to average).

    Returns
    -------
    dict layer -> torch.Tensor ``(N, 4, L)``
    """
    from .attribution import fold_channels

    return {layer: fold_channels(gradcam(model, X, layer, normalize=normalize, batch_size=batch_size), X, encoding)
            for layer in layers}


#: Row names of the chapter's findings (:func:`findings`' verdict keys) in a table.
FINDING_NAMES: dict[str, str] = {
    "gradcam_ig_mean_r": "Integrated Gradients, mean r",
    "gradcam_deeplift_mean_r": "DeepLift, mean r",
    "gradcam_saliency_mean_r": "Saliency, mean r",
    "variable_share_first_layer": "variable-region share, first layer",
    "variable_share_last_layer": "variable-region share, last layer",
}

# Each finding's range: its between-model interval is cut to it (camformer.stats.ensemble.combine).
RANGES: dict[str, tuple[float, float]] = {
    "gradcam_ig_mean_r": (-1.0, 1.0), "gradcam_deeplift_mean_r": (-1.0, 1.0), "gradcam_saliency_mean_r": (-1.0, 1.0),
    "variable_share_first_layer": (0.0, 1.0), "variable_share_last_layer": (0.0, 1.0),
}


@dataclass(frozen=True)
class Findings:
    """What one model shows in the Grad-CAM chapter (:func:`findings`).

    Attributes
    ----------
    verdicts : dict record key -> Verdict
        ``gradcam_{ig,deeplift,saliency}_mean_r`` (each method's agreement with the first layer's
        Grad-CAM, :func:`camformer.explain.attribution.agreement_verdicts`) and
        ``variable_share_{first,last}_layer`` (:func:`region_verdict`), each from this model's
        interval over the promoters.
    closest : str
        The method closest to Grad-CAM, or ``"undecided"`` / ``"undefined"``.
    best : Verdict
        The verdict on which method is closest (its words a sentence).
    layers : list of str
        Every convolution layer of the model, in order.
    maps : dict layer -> torch.Tensor ``(N, 4, L)``
        Unnormalised per-base Grad-CAM maps at the layers computed (every layer, or the first
        and the last).
    attributions : dict name -> torch.Tensor ``(N, 4, L)``
        The first layer's Grad-CAM and each compared method's per-base attributions.
    profiles : dict name -> np.ndarray ``(N, L)``
        The same at the base present (:func:`camformer.explain.attribution.present_base_profiles`).
    agreement : pandas.DataFrame
        :func:`camformer.explain.attribution.agreement_table` against Grad-CAM.
    shares : dict layer -> dict
        :func:`region_share_interval` at the first and the last layer.
    X : torch.Tensor ``(N, C, L)``
        The encoded sequences.
    encoding : str
    """

    verdicts: dict
    closest: str
    best: object
    layers: list
    maps: dict
    attributions: dict
    profiles: dict
    agreement: object
    shares: dict
    X: torch.Tensor
    encoding: str


def findings(model: nn.Module, codes: np.ndarray, boot: dict, *, every_layer: bool = True) -> Findings:
    """Everything the Grad-CAM chapter concludes about one model, on one sample of promoters.

    Grad-CAM (unnormalised, folded onto the four bases: :func:`layer_maps`) at the first and the
    last convolution layer (``every_layer``: at all of them, for the figure of average maps); the
    share of the absolute maps in the variable region at the first and the last layer with its
    verdict (:func:`region_share_interval`, :func:`region_verdict`); and how well Integrated
    Gradients, DeepLift and Saliency agree with the first layer's Grad-CAM, per promoter and on
    average (:mod:`camformer.explain.attribution`), with the method closest to it.

    Parameters
    ----------
    model : nn.Module
        In eval mode; its encoding is read from it (:func:`camformer.models.inference.model_encoding`).
    codes : np.ndarray ``(N, 110)`` int8
        The promoters' base codes (:func:`camformer.data.dream.encode_sequences`).
    boot : dict
        ``groups`` ``(N,)``, ``n_boot`` and ``seed`` of every interval over promoters.
    every_layer : bool
        Compute Grad-CAM at every convolution layer (else the first and the last only).

    Returns
    -------
    Findings
        ``verdicts`` holds the record keys of :data:`FINDING_NAMES`.
    """
    from .attribution import agreement_keys, agreement_table, agreement_verdicts, attribution_maps, \
        present_base_profiles
    from camformer.models.encoding import encode
    from camformer.models.inference import model_encoding

    encoding = model_encoding(model)
    layers = conv_layers(model)
    if not layers:
        raise ValueError("the model has no convolution layer for Grad-CAM")
    X = encode(torch.as_tensor(np.asarray(codes)), encoding)
    wanted = layers if every_layer else list(dict.fromkeys((layers[0], layers[-1])))
    maps = layer_maps(model, X, wanted, encoding)
    attributions = {"Grad-CAM": maps[layers[0]]} | attribution_maps(model, X, encoding)
    profiles = {name: present_base_profiles(m, X) for name, m in attributions.items()}
    agreement = agreement_table(profiles, "Grad-CAM", **boot)
    methods, best, closest = agreement_verdicts(agreement)
    shares = {layer: region_share_interval(maps[layer].numpy(), **boot) for layer in (layers[0], layers[-1])}
    verdicts = agreement_keys(methods) | {
        "variable_share_first_layer": region_verdict(shares[layers[0]], f"layer {layers[0]}"),
        "variable_share_last_layer": region_verdict(shares[layers[-1]], f"layer {layers[-1]}")}
    return Findings(verdicts, closest, best, layers, maps, attributions, profiles, agreement, shares, X, encoding)


def summary(combined: dict, per_model: list[Findings], n: int) -> str:
    """The chapter's conclusions as Markdown, from :func:`camformer.stats.ensemble.combine` of every
    model's :func:`findings` ``.verdicts``: each finding's number with its interval (over
    promoters for one model, between models for several) and its words with how many models
    reach them; then the closest method where every model names the same one
    (:func:`camformer.stats.ensemble.consensus`), else undecided, with what each model says (one model:
    its own verdict on the closest, :attr:`Findings.best`).

    Parameters
    ----------
    combined : dict key -> camformer.stats.ensemble.Across
    per_model : list of Findings
        Every model's, in the models' order.
    n : int
        Promoters in the sample.
    """
    from camformer.stats.ensemble import consensus
    from camformer.stats.explain_stats import stated

    k = next(iter(combined.values())).k
    if len(per_model) != k:
        raise ValueError(f"{len(per_model)} models' findings for {k} models' verdicts")
    over = (f"over {n} held-out promoters (95% interval over them)" if k == 1 else
            f"the mean over {k} models, each averaged over {n} held-out promoters (95% interval between models)")
    parts = [f"{FINDING_NAMES.get(key, key)} {stated(across.verdict)}: {across.stated()}"
             for key, across in combined.items()]
    closest = [f.closest for f in per_model]
    label, agreeing = consensus(closest)
    if k == 1:
        close = f"**{per_model[0].best.words}**"
    elif label != "undecided":
        close = f"**{label} is closest to Grad-CAM** (in {agreeing} of {k} models)"
    else:
        close = (f"**which method is closest to Grad-CAM is undecided** (the models say: "
                 + ", ".join(closest) + ")")
    return f"Each number is {over}. " + "; ".join(parts) + f". {close}."
