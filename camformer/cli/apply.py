"""Applying a trained model to a user's sequences: predict, score variants, explain.

The library behind ``camformer predict``, ``camformer variants`` and ``camformer explain`` (the
command line only parses arguments and calls these):

- :func:`resolve_model` takes ``"original"`` or ``"mini"`` (the paper's published models,
  fetched, cached and self-checked once: :func:`camformer.paper.published.load_checked`), the authors'
  tarball downloaded by hand, or a model directory saved by :func:`camformer.models.networks.save_model`
  (also the ``model`` folder of a run directory, or a book results folder);
  :func:`use_encoding` and :func:`check_layer` check a command's options against that model;
- :func:`predict_sequences` predicts the sequences of a file
  (:func:`camformer.data.sequence_files.read_sequence_file`) with one batched pass;
- :func:`score_variants` predicts ref/alt pairs (:func:`camformer.data.sequence_files.read_variant_pairs`)
  and returns alt − ref, as the challenge scored its SNVs; a reference shared by many variants
  is predicted once;
- :func:`explain_sequences` gives per-base maps ``(N, 4, L)`` by exact ISM (the receptive-field
  path, :func:`camformer.explain.ism.ism_receptive_field`, where the model is Camformer-shaped),
  Grad-CAM, Integrated Gradients or DeepLift, as a tidy table; :func:`write_logos` draws one
  sequence logo per sequence.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from camformer.models.inference import model_encoding, model_input, predict
from camformer.data.sequence_files import SequenceFile, VariantPairs

PUBLISHED_NAMES = ("original", "mini")
METHODS = ("ism", "gradcam", "ig", "deeplift")
BASES = "ACGT"


def model_directory(path: str | os.PathLike) -> Path:
    """A model directory (``model.pt`` + ``config.json``), or the ``model`` folder inside ``path``
    (a run directory of ``camformer train``, or a book results folder ``results/<preset>``)."""
    directory = Path(path)
    if not (directory / "config.json").exists() and (directory / "model" / "config.json").exists():
        directory = directory / "model"
    return directory


def resolve_model(
    spec: str | os.PathLike,
    *,
    check_n: int = 256,
    cache_dir: str | os.PathLike | None = None,
    url: str | None = None,
    progress: bool = False,
) -> tuple[nn.Module, str]:
    """The model a command names, in eval mode on the CPU with its ``encoding`` set.

    Parameters
    ----------
    spec : str or path
        ``"original"`` or ``"mini"`` (the paper's seed-42 models), the authors' tarball of one of
        them (``Camformer_9.tar.gz``, ``Camformer_219.tar.gz``, downloaded by hand; self-checked
        on ``check_n`` test sequences at every load), or a saved model directory.
    check_n : int
        Test sequences of the published model's one-time self-check.
    cache_dir, url
        Where published tarballs are cached, and a URL to download one from instead of the
        authors' site (a mirror, a test server).
    progress : bool

    Returns
    -------
    (nn.Module, str)
        The model, and one line saying which it is (and its self-check).

    Raises
    ------
    FileNotFoundError
        ``spec`` is neither a published name nor a model directory.
    camformer.data.fetch.FetchError, camformer.paper.published.PublishedModelError, UnsafePickleError, SelfCheckError
        A failed download says how to do without one (a model directory, or the tarball by hand).
    """
    if str(spec) in PUBLISHED_NAMES and not Path(spec).exists():
        from camformer.data import fetch
        from camformer.paper.published import load_checked, published_model

        try:
            model, check = load_checked(str(spec), n=check_n, cache_dir=cache_dir, url=url, progressbar=progress)
        except fetch.FetchError as err:
            raise fetch.FetchError(_without_download(str(spec), str(err))) from None
        when = "remembered from its first load" if check["remembered"] else "checked now"
        return model, (f"{published_model(str(spec)).title}: self-check on {check['n']:,} test sequences "
                       f"within {check['max_abs_diff']:.1e} of the published predictions ({when})")
    if Path(spec).is_file():
        return _from_tarball(Path(spec), check_n, progress)
    from camformer.models.networks import load_model

    directory = model_directory(spec)
    if not directory.is_dir():
        raise FileNotFoundError(f"{spec}: neither a published model ({' or '.join(PUBLISHED_NAMES)}), the authors' "
                                "tarball of one, nor a model directory (model.pt + config.json)")
    model = load_model(directory)
    return model, f"model {directory} (encoding {model_encoding(model)})"


def _without_download(name: str, error: str) -> str:
    """A failed download of a published model, in one sentence that says what to do instead
    (the address, not the network library's internals)."""
    from camformer.data import fetch
    from camformer.paper.published import published_model

    spec = published_model(name)
    url = fetch._entry(spec.file).url
    if " failed: " in error:
        attempt = error.split(" failed: ")[0].split(": ", 1)[-1]  # "download from URL", without the library's words
        what = f"could not download the published {name} model ({attempt} failed)"
    else:
        what = f"could not get the published {name} model ({error.split(': ', 1)[-1]})"
    return (f"{what}. Instead, use --model DIR with a model saved by `camformer train` (or "
            f"camformer.models.networks.save_model), or download {url} elsewhere and give the file: --model "
            f"/path/to/{spec.file} (it is checked against the published predictions)")


def _from_tarball(path: Path, check_n: int, progress: bool) -> tuple[nn.Module, str]:
    """A published model from its tarball downloaded by hand, self-checked on ``check_n`` sequences."""
    from camformer.paper.published import PUBLISHED, model_from_archive, self_check

    name = next((n for n, spec in PUBLISHED.items() if spec.file == path.name), None)
    if name is None:
        files = " or ".join(spec.file for spec in PUBLISHED.values())
        raise FileNotFoundError(f"{path}: a file, but not one of the authors' tarballs ({files}); --model takes "
                                "original, mini, such a tarball or a model directory")
    model = model_from_archive(path, name)
    check = self_check(model, name, n=check_n, progress=progress)
    return model, (f"{PUBLISHED[name].title} from {path}: self-check on {check['n']:,} test sequences within "
                   f"{check['max_abs_diff']:.1e} of the published predictions")


def use_encoding(model: nn.Module, encoding: str | None, where: str = "the model") -> str:
    """Set the encoding a command asks for on ``model``, if the model allows it; returns the
    encoding the model is fed.

    A model that records its encoding (saved by :func:`camformer.models.networks.save_model`, or a
    published one) accepts only that one: another of the same channel count would give other
    predictions with no sign of it. A model saved without one accepts any of its channel count.

    Raises
    ------
    ValueError
        ``encoding`` differs from the saved one, or has another number of channels.
    """
    saved = getattr(model, "encoding", None)
    if encoding is None or encoding == saved:
        return model_encoding(model)
    if saved is not None:
        raise ValueError(f"--encoding {encoding}: {where} was saved with encoding {saved}, and is fed that one; "
                         "leave --encoding out")
    try:
        model_encoding(model, encoding)
    except ValueError as err:
        raise ValueError(f"--encoding {encoding}: {err}") from None
    model.encoding = encoding
    return encoding


def check_layer(model: nn.Module, layer: str | None) -> str:
    """The Grad-CAM layer: ``layer`` if it is a convolution of ``model``, else the last
    convolution when ``layer`` is None.

    Raises
    ------
    ValueError
        ``layer`` is not the name of a convolution layer of ``model``; the message lists them.
    """
    from camformer.explain.gradcam import conv_layers

    names = conv_layers(model)
    if not names:
        raise ValueError("the model has no Conv1d layer for Grad-CAM")
    if layer is None:
        return names[-1]
    if layer not in names:
        raise ValueError(f"--layer {layer}: not a convolution layer of this model; choose from {', '.join(names)}")
    return layer


def predict_sequences(
    model: nn.Module,
    seqs: SequenceFile,
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    amp: str = "off",
    progress: bool = False,
) -> pd.DataFrame:
    """Predicted expression of every sequence of a file.

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, 110)`` to ``(N,)``; fed its own encoding (:func:`camformer.models.inference.model_encoding`).
    seqs : SequenceFile
    batch_size, device, amp, progress
        As :func:`camformer.models.inference.predict` (a progress bar over batches).

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``prediction`` (float32) and ``seq`` (the 110-nt sequence the model saw,
        after padding or cutting; ``camformer evaluate`` checks it against the test set's), in
        file order.
    """
    from camformer.data.dream import decode

    values = predict(model, seqs.codes, batch_size=batch_size, device=device, amp=amp, progress=progress)
    return pd.DataFrame({"id": seqs.ids, "prediction": values, "seq": decode(seqs.codes)})


def score_variants(
    model: nn.Module,
    pairs: VariantPairs,
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Predicted effect of each variant: ``alt − ref``, as the challenge scored its SNVs.

    Each distinct sequence is predicted once (a reference shared by many substitutions too).

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``ref_prediction``, ``alt_prediction``, ``effect`` (alt − ref), in file order.
    """
    both = np.concatenate([pairs.ref_codes, pairs.alt_codes])
    unique, inverse = np.unique(both, axis=0, return_inverse=True)
    values = predict(model, unique, batch_size=batch_size, device=device, progress=progress)[inverse.ravel()]
    ref, alt = values[: len(pairs)], values[len(pairs):]
    return pd.DataFrame({"id": pairs.ids, "ref_prediction": ref, "alt_prediction": alt, "effect": alt - ref})


def _per_base(model: nn.Module, codes: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Attributions of the encoded input ``(N, C, L)`` as per-base maps ``(N, 4, L)``."""
    from camformer.explain.attribution import fold_channels

    encoding = model_encoding(model)
    return fold_channels(maps, model_input(model, codes), encoding)


def explain_maps(
    model: nn.Module,
    codes: np.ndarray | torch.Tensor,
    method: str,
    *,
    positions: range | None = None,
    layer: str | None = None,
    batch_size: int = 128,
    device: str | torch.device | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Per-base maps of sequences, ``(N, 4, L)`` (bases A, C, G, T on axis 1).

    Parameters
    ----------
    model : nn.Module
    codes : uint8 ``(N, L)``
    method : {"ism", "gradcam", "ig", "deeplift"}
        ``ism``: the predicted change of every substitution (0 at the reference base), exact, by
        :func:`camformer.explain.ism.ism_receptive_field` for Camformer-shaped models (else
        :func:`camformer.explain.ism.ism`); ``gradcam``: Grad-CAM at ``layer`` (default the last
        convolution); ``ig``: Integrated Gradients, ``deeplift``: DeepLift, both against an
        all-zero input. The attributions of a purine channel are folded onto the bases
        (:func:`camformer.explain.attribution.fold_channels`).
    positions : range, optional
        ISM only: the positions to mutate (0-based; default all).
    layer : str, optional
        Grad-CAM only: a name from ``model.named_modules()``.
    batch_size : int
        Rows per forward pass: mutants (ISM), sequences (Grad-CAM, DeepLift), interpolation
        points (IG, 50 per sequence).
    device : optional
        Default: where the model's parameters are.

    Returns
    -------
    np.ndarray, float32, shape (N, 4, L)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    codes = torch.as_tensor(np.asarray(codes))
    if method == "ism":
        from camformer.explain.ism import ism, ism_receptive_field, receptive_field_stages

        try:
            receptive_field_stages(model)
        except ValueError:  # not Camformer-shaped: the plain batched ISM is just as exact
            maps = ism(model, codes, positions=positions, batch_size=batch_size, device=device, progress=progress)
        else:
            # Neighbouring positions share a window so that a forward pass holds about batch_size
            # mutants (ism_receptive_field's default, 64, leaves a small model's passes overhead-bound).
            group = max(1, batch_size // (3 * min(64, max(1, len(codes)))))
            maps = ism_receptive_field(model, codes, positions=positions, batch_size=batch_size, device=device,
                                       positions_per_batch=group, progress=progress)
    elif method == "gradcam":
        from camformer.explain.gradcam import gradcam

        layer = check_layer(model, layer)
        maps = _per_base(model, codes, gradcam(model, codes, layer, batch_size=batch_size, device=device,
                                               progress=progress))
    else:
        from camformer.explain.attribution import attribute

        # IG runs 50 interpolation points per sequence: captum's internal_batch_size bounds a pass to batch_size.
        extra = {"internal_batch_size": batch_size} if method == "ig" else {}
        name = {"ig": "integrated_gradients", "deeplift": "deeplift"}[method]
        # Chunks of sequences (as many as a pass holds) so that a progress bar can follow them.
        per_chunk = max(1, batch_size // 50) if method == "ig" else batch_size
        starts = range(0, len(codes), per_chunk)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc=method, unit="batch")
        maps = torch.cat([_per_base(model, codes[s:s + per_chunk],
                                    attribute(model, codes[s:s + per_chunk], name, batch_size=batch_size,
                                              device=device, **extra)) for s in starts])
    return np.asarray(maps, dtype=np.float32)


def tidy_maps(ids: np.ndarray, maps: np.ndarray) -> pd.DataFrame:
    """Per-base maps ``(N, 4, L)`` as a tidy table: ``id``, ``position`` (1-based), ``base``,
    ``score``; one row per sequence, position and base, in that order."""
    n, n_bases, length = maps.shape
    return pd.DataFrame({
        "id": np.repeat(np.asarray(ids, dtype=object), length * n_bases),
        "position": np.tile(np.repeat(np.arange(1, length + 1), n_bases), n),
        "base": np.tile(np.array(list(BASES)), n * length),
        "score": maps.transpose(0, 2, 1).reshape(-1),
    })


def logo_matrix(maps: np.ndarray, codes: np.ndarray, method: str) -> np.ndarray:
    """What a sequence logo draws, ``(N, 4, L)``: for ISM the paper's ``ΔE / 3``
    (:func:`camformer.explain.ism.pssm`: the predicted change ΔE of each substitution divided by 3, the
    number of substitutions at a position, so that a position's letters add up to the mean
    change of its three substitutions); for an attribution the score of the base present (0 for
    the others and at N)."""
    if method == "ism":
        from camformer.explain.ism import pssm

        return pssm(maps)
    present = np.asarray(codes)[:, None, :] == np.arange(4)[None, :, None]
    return np.where(present, maps, 0.0)


def _file_name(name: str, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._") or "sequence"
    candidate, k = stem, 1
    while candidate in used:
        k += 1
        candidate = f"{stem}_{k}"
    used.add(candidate)
    return f"{candidate}.png"


def write_logos(maps: np.ndarray, seqs: SequenceFile, method: str, directory: str | os.PathLike) -> list[Path]:
    """One sequence-logo PNG per sequence (:func:`camformer.plots.plot_interpret.logo` of
    :func:`logo_matrix`), named by its id (characters outside ``A-Za-z0-9._-`` as ``_``).

    Returns
    -------
    list of Path
        The files written, in sequence order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from camformer.plots.plot_interpret import logo

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    matrices = logo_matrix(maps, seqs.codes, method)
    label = {"ism": r"$\Delta E$ / 3", "gradcam": "Grad-CAM", "ig": "Integrated Gradients",
             "deeplift": "DeepLift"}[method]
    used: set[str] = set()
    written = []
    for name, matrix in zip(seqs.ids, matrices):
        fig, ax = plt.subplots(figsize=(12, 2.4))
        logo(matrix, ax=ax, ylabel=label, title=str(name), start=1)
        ax.set_xlabel("position (nt, 1-based)")
        path = out / _file_name(str(name), used)
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
