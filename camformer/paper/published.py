"""The paper's own trained models (seed 42: Camformer Original and Mini), loaded safely.

The authors publish each model as a tarball (``Camformer_9.tar.gz``: Original, grid model 9;
``Camformer_219.tar.gz``: Mini, model 219; their ``saved_models/README.md``). Inside,
``training_results_tr0.9/<id>_<encoding>_<loss>_<optimiser>_<scheduler>/<seed>/config.json``
names in ``best_model_path`` a whole model pickled by ``torch.save(model)``: their
``base.model.CNN`` (Original) or ``base.model_basic.CNN`` (Mini), 2-D convolutions with
``(k, 1)`` kernels over input ``(N, C, 110, 1)``.

Loading such a file the usual way (``torch.load(..., weights_only=False)``) imports their
``base`` package and would run whatever the pickle names. Here nothing from the download runs:

- the tarball is downloaded by :func:`camformer.data.fetch.fetch_file` (its sha256 pinned on first
  use, checked on every later use) and read in memory, never extracted, within caps sized from
  the model's published parameter count (:func:`archive_caps`; :mod:`camformer.paper.model_archive`);
- the model file is unpickled by :mod:`camformer.paper.safe_pickle`: every class becomes an inert
  stand-in that keeps its pickled state, no constructor runs, tensors are rebuilt from the
  archive's records, any other global (``os.system``, ``builtins.eval``, ...) is refused with
  :class:`UnsafePickleError` naming it;
- the pickled layers' settings (kernel, stride, padding, dilation, pooling, BatchNorm eps, the
  order of the layers, residual or plain forward) are compared with the architecture the
  conversion builds (:func:`layer_mismatches`), and a mismatch is refused;
- the weights are read off the inert object tree in the authors' key layout
  (``CNN_layers.<i>.0[.conv].weight``, ``linear_layers.<i>.0.bias``, ...) and converted into
  this package's Conv1d model (:func:`camformer.models.networks.load_reference_state_dict`), after
  checking the parameter count against the published scoreboard's.

:func:`self_check` then predicts the bundled DREAM test set and compares with the authors'
published predictions of the same model; :func:`load_checked` does it once per downloaded
tarball and remembers the result in the cache. :func:`camformer.records.book.explained_models` gives the
book the paper's model where all this succeeds, and the book's own model otherwise, and says which.
Every failure raises :class:`PublishedModelError`, :class:`UnsafePickleError`,
:class:`SelfCheckError` or :class:`camformer.data.fetch.FetchError`, naming the file and the member.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from camformer.data import fetch
from camformer.data.dream import ENCODINGS, load_paper_table, load_published_predictions, test_set_data
from .model_archive import ArchiveCaps, ArchiveError, read_archive
from camformer.models.networks import ARCHITECTURES, Architecture, Camformer, GridConfig, build_model, grid_config, \
    load_reference_state_dict
from .safe_pickle import InertObject, PickledFileError, SizeCap, UnsafePickleError, load_torch_zip, module_tree, \
    module_tree_state

OFFLINE_ENV = "CAMFORMER_OFFLINE"
MIRROR_ENV = "CAMFORMER_WEIGHTS_URL"  # a folder URL holding Camformer_9.tar.gz and Camformer_219.tar.gz
SELF_CHECKS_FILE = "self_checks.json"  # beside the cached tarballs: results of load_checked
__all__ = ["PUBLISHED", "PublishedModel", "PublishedModelError", "SelfCheckError", "UnsafePickleError",
           "archive_caps", "layer_mismatches", "load_checked", "load_published", "model_from_archive",
           "offline", "published_model", "self_check", "weights_url"]


class PublishedModelError(ValueError):
    """A published model's archive or pickle is not what the authors publish."""


class SelfCheckError(AssertionError):
    """A loaded model does not reproduce the published predictions of that model."""


# ---------------------------------------------------------------------------- the models

@dataclass(frozen=True)
class PublishedModel:
    """One of the paper's published trained models.

    Attributes
    ----------
    name : str
        ``"original"`` or ``"mini"``; also its column in
        :func:`camformer.data.dream.load_published_predictions`.
    label : str
        E.g. ``"Camformer Original"``.
    grid_id : int
        Its run in the paper's grid (:func:`camformer.models.networks.grid_config`): 9 or 219.
    seed : int
        The training seed of the published run.
    """

    name: str
    label: str
    grid_id: int
    seed: int = 42

    @property
    def grid(self) -> GridConfig:
        return grid_config(self.grid_id)

    @property
    def encoding(self) -> str:
        """The input encoding of its grid run (``onehot`` for Original, ``onehotWithP`` for Mini)."""
        return self.grid.encoding

    @property
    def file(self) -> str:
        """Its tarball's name on the authors' site (a :func:`camformer.data.fetch.weights_registry` entry)."""
        return fetch.WEIGHTS_NAME.format(grid_id=self.grid_id)

    @property
    def n_params(self) -> int:
        """Its parameter count as published in the paper's scoreboard (``score_board_*Model.csv``)."""
        board = load_paper_table(f"score_board_{self.grid.size}Model.csv")
        size = board.loc[board["RunID"] == self.grid_id, "ModelSize"].item()  # e.g. "16.611073M"
        return round(float(size.rstrip("M")) * 1e6)

    @property
    def title(self) -> str:
        """How a page names it: ``"Camformer Original (published, seed 42)"``."""
        return f"{self.label} (published, seed {self.seed})"


PUBLISHED: dict[str, PublishedModel] = {
    "original": PublishedModel("original", "Camformer Original", 9),
    "mini": PublishedModel("mini", "Camformer Mini", 219),
}


def published_model(name: str) -> PublishedModel:
    """The :class:`PublishedModel` called ``name`` (``"original"`` or ``"mini"``)."""
    try:
        return PUBLISHED[name]
    except KeyError:
        raise ValueError(f"{name!r}: not a published model; choose from {sorted(PUBLISHED)}") from None


# ---------------------------------------------------------------------------- caps and layer checks

_MIB = 1 << 20


def archive_caps(spec: PublishedModel) -> ArchiveCaps:
    """The size caps of a published model's tarball, from its published parameter count.

    A model file may have 4 bytes per parameter (float32) plus 4 MiB for BatchNorm statistics
    (under 20 kB), the pickled module tree (about 20 kB) and the zip's headers; the whole
    tarball may inflate to two such files plus 64 MiB of configs and logs. Camformer Original,
    the larger, gets a 70.6 MB model cap; Mini a 10 MB one.
    """
    weights = 4 * spec.n_params
    model_bytes = weights + 4 * _MIB
    reason = (f"{spec.label} has {spec.n_params:,} float32 parameters, {weights / 1e6:.1f} MB: its model file "
              f"needs at most {model_bytes:,} bytes with 4 MiB for BatchNorm statistics, the pickled module tree "
              f"and zip headers, and the tarball twice that plus 64 MiB of configs and logs")
    return ArchiveCaps(model_bytes=model_bytes, total_bytes=2 * model_bytes + 64 * _MIB, reason=reason)


def _pair(value, default=None):
    """A 2-D layer setting as a pair: ``3`` -> ``(3, 3)``, ``(3, 1)`` stays, ``None`` -> default."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return tuple(value)
    return value


def _kind(obj: object) -> str:
    return obj.source.rsplit(".", 1)[-1] if isinstance(obj, InertObject) else type(obj).__name__


def _conv_problems(name: str, conv: dict, wrapper: dict | None, kernel: int, pad: tuple[int, int]) -> list[str]:
    """What differs between a pickled Conv2d (inside the authors' Conv2dSame ``wrapper``) and a
    ``(kernel, 1)`` convolution padded ``pad`` (before, after) along the sequence."""
    problems = []
    for key, want in (("kernel_size", (kernel, 1)), ("stride", (1, 1)), ("dilation", (1, 1))):
        if _pair(conv.get(key)) != want:
            problems.append(f"{name} {key} {conv.get(key)!r}, expected {want}")
    if conv.get("groups", 1) != 1 or conv.get("padding_mode", "zeros") != "zeros":
        problems.append(f"{name} groups {conv.get('groups')!r} / padding_mode {conv.get('padding_mode')!r}, "
                        "expected 1 / 'zeros'")
    padding = conv.get("padding")
    if padding == "same":
        total = kernel - 1
        height, width = (total // 2, total - total // 2), (0, 0)
    elif padding == "valid":
        height, width = (0, 0), (0, 0)
    elif isinstance(_pair(padding), tuple):
        ph, pw = _pair(padding)
        height, width = (ph, ph), (pw, pw)
    else:
        return problems + [f"{name} padding {padding!r} is not a known setting"]
    if wrapper is not None:  # Conv2dSame pads with F.pad(x, [w_before, w_after, h_before, h_after]) first
        extra = wrapper.get("_reversed_padding_repeated_twice")
        if not (isinstance(extra, (list, tuple)) and len(extra) == 4 and all(isinstance(v, int) for v in extra)):
            return problems + [f"{name}: Conv2dSame padding {extra!r} is not four integers"]
        height = (height[0] + extra[2], height[1] + extra[3])
        width = (width[0] + extra[0], width[1] + extra[1])
    if (height, width) != (pad, (0, 0)):
        problems.append(f"{name} pads the sequence by {height} and the width by {width}, expected {pad} and (0, 0)")
    return problems


def _pool_problems(name: str, pool: dict, identity: bool, kernel: int, stride: int) -> list[str]:
    """What differs between a pickled MaxPool2d and the architecture's pool: ``(kernel, 1)`` with
    stride ``(stride, 1)``, or, where the architecture has none, the identity (kernel and stride
    ``(1, 1)``, as the authors' blocks hold them). Either has padding 0, dilation 1 and returns no
    indices; ceil mode is compared only where it can change the length (not for the identity)."""
    kernel_pair = _pair(pool.get("kernel_size"))
    got = (kernel_pair, _pair(pool.get("stride"), kernel_pair), _pair(pool.get("padding")),
           _pair(pool.get("dilation")))
    if identity:
        expected, what = ((1, 1), (1, 1), (0, 0), (1, 1)), "the identity (the architecture has no pool here)"
    else:
        got += (bool(pool.get("ceil_mode")),)
        expected, what = ((kernel, 1), (stride, 1), (0, 0), (1, 1), False), "the architecture's pool"
    problems = []
    if got != expected:
        fields = "kernel, stride, padding, dilation" + ("" if identity else ", ceil_mode")
        problems.append(f"{name} {fields} {got}, expected {expected}: {what}")
    if pool.get("return_indices"):
        problems.append(f"{name} returns indices, which the next layer cannot take")
    return problems


def layer_mismatches(tree: object, spec: PublishedModel) -> list[str]:
    """How a pickled model tree's layer settings differ from the architecture the conversion builds.

    Compares, block by block: the layer order (convolution, BatchNorm, ReLU, max-pool where the
    architecture pools, dropout), each convolution's kernel, stride, dilation, groups and padding
    (a ``Conv2dSame`` wrapper's padding included), the max-pool's kernel, stride, padding,
    dilation and ceil mode, BatchNorm's eps, the dense layers' order, and whether the pickled
    class is the authors' residual ``base.model.CNN`` or plain ``base.model_basic.CNN``.

    A max-pool where the architecture has none is accepted when it is the identity (kernel and
    stride 1, padding 0, dilation 1): the authors' ``conv_block`` adds one whenever
    ``pool_kernel != (1,1)``, and their configs come back from JSON as lists, so ``[1, 1]``
    never equals the tuple and every published block holds ``MaxPool2d(kernel_size=[1, 1],
    stride=[1, 1])`` (their ``gen_figs.ipynb`` printout; ``manuscript_figures/Figure_2/data/
    model_str.md``). Settings that do not change what an eval-mode model computes (dropout rates,
    BatchNorm momentum, ``inplace``) are not compared.

    Parameters
    ----------
    tree : object
        From :func:`camformer.paper.safe_pickle.load_torch_zip`.
    spec : PublishedModel

    Returns
    -------
    list of str
        One sentence per mismatch; empty when the pickled layers compute what the conversion's
        model computes.
    """
    arch: Architecture = ARCHITECTURES[spec.grid.model_config().architecture]
    modules = {name: (obj, attrs) for name, obj, attrs in module_tree(tree)}
    problems = []
    root = tree.source if isinstance(tree, InertObject) else type(tree).__name__
    want_root = "base.model.CNN" if arch.residual_blocks else "base.model_basic.CNN"
    if root != want_root:
        shape = "with residual pairs" if arch.residual_blocks else "without shortcuts"
        problems.append(f"the pickled model is {root}, but {spec.label} is {want_root} ({shape})")

    def children(name: str) -> list[tuple[str, object, dict]]:
        if name not in modules:
            return []
        return [(f"{name}.{k}", *modules[f"{name}.{k}"]) for k, v in modules[name][1]["_modules"].items()
                if v is not None]

    for i, (kernel, _) in enumerate(zip(arch.kernels, arch.channels)):
        block = children(f"CNN_layers.{i}")
        kinds = [_kind(obj) for _, obj, _ in block]
        # The authors' conv_block adds a pool unless pool_kernel != (1,1) is false; their configs are
        # read back from JSON, so the kernel is the list [1, 1] and every block has a pool. Where the
        # architecture has none, that pool must be the identity (checked below).
        pooled = i == arch.pool_block or kinds[3:4] == ["MaxPool2d"]
        want = ["Conv2dSame" if kinds[:1] == ["Conv2dSame"] else "Conv2d", "BatchNorm2d", "ReLU"]
        want += ["MaxPool2d"] * pooled + ["Dropout"]
        if kinds != want:
            problems.append(f"CNN_layers.{i} holds {kinds}, expected {want}")
            continue
        total = kernel - 1 if arch.padding == "same" else 2 * arch.padding
        pad = (total // 2, total - total // 2)
        name, conv_obj, conv = block[0]
        wrapper = None
        if kinds[0] == "Conv2dSame":
            inner = children(name)
            if [_kind(o) for _, o, _ in inner] != ["Conv2d"]:
                problems.append(f"{name} (Conv2dSame) holds {[_kind(o) for _, o, _ in inner]}, expected one Conv2d")
                continue
            wrapper, (name, _, conv) = conv, inner[0]
        problems += _conv_problems(name, conv, wrapper, kernel, pad)
        norm_name, _, norm = block[1]
        if norm.get("eps") != 1e-5 or norm.get("affine") is False or norm.get("track_running_stats") is False:
            problems.append(f"{norm_name} eps {norm.get('eps')!r} (affine {norm.get('affine')!r}, running statistics "
                            f"{norm.get('track_running_stats')!r}), expected 1e-05 with both")
        if pooled:
            pool_name, _, pool = block[3]
            problems += _pool_problems(pool_name, pool, identity=i != arch.pool_block,
                                       kernel=arch.pool_kernel, stride=arch.pool_stride)
    dense = children("linear_layers")
    want_dense = [["Linear", "ReLU", "Dropout"]] * len(arch.hidden) + [["Linear"]]
    got_dense = [[_kind(o) for _, o, _ in children(name)] for name, _, _ in dense]
    if got_dense != want_dense:
        problems.append(f"linear_layers hold {got_dense}, expected {want_dense}")
    return problems


def model_from_archive(path: str | os.PathLike, name: str) -> Camformer:
    """Load a published model from its tarball (see the module docstring), without running
    code from it.

    Parameters
    ----------
    path : path
        ``Camformer_9.tar.gz`` or ``Camformer_219.tar.gz`` (or an archive with their contents).
    name : {"original", "mini"}

    Returns
    -------
    Camformer
        In eval mode on the CPU, ``model.encoding`` set to the encoding its config saved
        (``seq_enc``; the grid run's where the config has none). Input ``(N, C, 110)``.

    Raises
    ------
    PublishedModelError, UnsafePickleError
        Naming the file and the member.
    """
    spec = published_model(name)
    caps = archive_caps(spec)
    try:
        config, member, data = read_archive(path, caps, seed=spec.seed)
        where = f"{path}:{member}"
        tree = load_torch_zip(data, where, SizeCap(caps.model_bytes, caps.reason))
    except (ArchiveError, PickledFileError) as err:  # their messages name the file and the member
        raise PublishedModelError(str(err)) from None
    del data
    try:
        state, n_params = module_tree_state(tree)
        if n_params != spec.n_params:
            raise PublishedModelError(f"{n_params:,} parameters; the published {spec.label} has {spec.n_params:,}")
        mismatches = layer_mismatches(tree, spec)
    except (PublishedModelError, PickledFileError) as err:
        raise PublishedModelError(f"{where}: {err}") from None
    if mismatches:
        raise PublishedModelError(f"{where}: the pickled layers differ from {spec.label} as the conversion builds "
                                  "it, so its weights would compute something else: " + "; ".join(mismatches[:8]))
    model = build_model(spec.grid.model_config())
    encoding = config.get("seq_enc", spec.encoding)
    if not isinstance(encoding, str) or ENCODINGS.get(encoding) != model.config.in_channels:
        raise PublishedModelError(f"{where}: config seq_enc {encoding!r} does not fit {spec.label}, "
                                  f"which takes {model.config.in_channels} channels ({spec.encoding})")
    try:
        load_reference_state_dict(model, state)
    except ValueError as err:
        raise PublishedModelError(f"{where}: {err}") from None
    model.encoding = encoding
    return model.eval()

# ---------------------------------------------------------------------------- fetch and check

def offline() -> bool:
    """True where ``$CAMFORMER_OFFLINE`` is set to 1 (or true/yes): use cached files only."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def weights_url(name: str, url: str | None = None) -> str:
    """Where a published model's tarball is downloaded from: ``url``, else
    ``$CAMFORMER_WEIGHTS_URL/<file>`` (a mirror), else the authors' site."""
    spec = published_model(name)
    if url:
        return url
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return f"{mirror.rstrip('/')}/{spec.file}" if mirror else fetch.weights_registry()[spec.file].url


def load_published(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    url: str | None = None,
    progressbar: bool = True,
    timeout: float | tuple[float, float] | None = None,
) -> Camformer:
    """The paper's trained model (seed 42), downloaded once, checked and loaded safely.

    Parameters
    ----------
    name : {"original", "mini"}
    cache_dir : path, optional
        As for :func:`camformer.data.fetch.fetch_file` (default ``$CAMFORMER_DATA_DIR`` or the user
        cache); the tarball goes to ``sblab-camformer/``.
    url : str, optional
        Download the tarball from here instead of the authors' site (a test server); default
        :func:`weights_url` (``$CAMFORMER_WEIGHTS_URL``, a mirror folder, where set).
    progressbar : bool
    timeout : float or (connect, read) seconds, optional
        Give up on a silent server (default: pooch's 30 s).

    Returns
    -------
    Camformer
        Eval mode, CPU, ``model.encoding`` set (``"onehot"`` for Original, ``"onehotWithP"`` for
        Mini); maps ``(N, C, 110)`` to ``(N,)``. With ``$CAMFORMER_OFFLINE=1`` only a cached,
        verified tarball is used.

    Raises
    ------
    camformer.data.fetch.FetchError
        No download (network, offline), or the tarball's sha256 differs from its pin.
    PublishedModelError, UnsafePickleError
        The archive is not what the authors publish.
    """
    spec = published_model(name)
    path = fetch.fetch_file(spec.file, cache_dir=cache_dir, url=weights_url(name, url), progressbar=progressbar,
                            timeout=timeout, offline=offline())
    return model_from_archive(path, name)


def self_check(
    model: nn.Module,
    name: str,
    *,
    n: int | None = None,
    seed: int = 0,
    tolerance: float = 1e-3,
    published: pd.DataFrame | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> dict:
    """Predict the DREAM test set with ``model`` and compare with the published predictions of
    the paper's model ``name``; raise if they differ.

    Parameters
    ----------
    model : nn.Module
        Maps ``(N, C, 110)`` to ``(N,)``; fed ``model.encoding`` (else the published model's).
    name : {"original", "mini"}
        Whose published predictions to compare with.
    n : int, optional
        Compare on this many test sequences, drawn with ``seed`` (default: all 71,103).
    tolerance : float
        The largest absolute difference allowed (expression units).
    published : DataFrame, optional
        Columns ``id`` and ``name`` (default :func:`camformer.data.dream.load_published_predictions`);
        only test ids it holds are compared.

    Returns
    -------
    dict
        ``model`` (the published title), ``n`` (sequences compared), ``max_abs_diff``,
        ``worst_id`` (where the difference is largest), ``tolerance``, ``passed`` (True).

    Raises
    ------
    SelfCheckError
        A difference above ``tolerance`` (or a non-finite prediction), naming the worst id.
    """
    spec = published_model(name)
    table = load_published_predictions() if published is None else published
    expected = table.set_index("id")[spec.name]
    test = test_set_data()
    rows = np.flatnonzero(np.isin(test.ids, expected.index.to_numpy()))
    if n is not None and n < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))
    if len(rows) == 0:
        raise SelfCheckError(f"{spec.title}: no test ids to compare with the published predictions")
    from camformer.models.inference import predict

    encoding = getattr(model, "encoding", None) or spec.encoding
    got = predict(model, test.codes[rows], encoding, batch_size=batch_size, progress=progress)
    want = expected.loc[test.ids[rows]].to_numpy(np.float64)
    diff = np.abs(got.astype(np.float64) - want)
    diff[~np.isfinite(diff)] = np.inf
    worst = int(np.argmax(diff))
    result = {"model": spec.title, "n": int(len(rows)), "max_abs_diff": float(diff[worst]),
              "worst_id": int(test.ids[rows[worst]]), "tolerance": tolerance, "passed": True}
    if not diff[worst] <= tolerance:
        raise SelfCheckError(
            f"{spec.title}: predictions differ from the published ones by up to {diff[worst]:.4g} on "
            f"{len(rows):,} test sequences (id {result['worst_id']}: {got[worst]:.4f}, published "
            f"{want[worst]:.4f}); tolerance {tolerance:g}"
        )
    return result


def load_checked(
    name: str,
    *,
    n: int = 256,
    cache_dir: str | os.PathLike | None = None,
    url: str | None = None,
    progressbar: bool = True,
    timeout: float | tuple[float, float] | None = None,
) -> tuple[Camformer, dict]:
    """The paper's model ``name``, loaded (:func:`load_published`) and self-checked once.

    The first load of a downloaded tarball runs :func:`self_check` on ``n`` test sequences
    (drawn with seed 0) and writes the result to ``self_checks.json`` beside the tarball in the
    cache, keyed by the tarball's sha256 and ``n``; later loads of the same file read it there.

    Returns
    -------
    (Camformer, dict)
        The model and the self-check result (see :func:`self_check`), with ``remembered``: True
        when it was read from the cache.

    Raises
    ------
    SelfCheckError
        The check failed, now or when it was first run (the message says which).
    camformer.data.fetch.FetchError, PublishedModelError, UnsafePickleError
        As :func:`load_published`.
    """
    spec = published_model(name)
    model = load_published(name, cache_dir=cache_dir, url=url, progressbar=progressbar, timeout=timeout)
    tarball = fetch.local_path(spec.file, cache_dir)
    memo_path = tarball.parent / SELF_CHECKS_FILE
    key = f"{spec.file} {fetch.file_hash(tarball)} n={n}"
    try:
        memo = json.loads(memo_path.read_text()) if memo_path.exists() else {}
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}  # an unreadable memo is only a lost shortcut: check again
    result = memo.get(key)
    if isinstance(result, dict) and "passed" in result:
        result = {**result, "remembered": True}
    else:
        try:
            result = self_check(model, name, n=n, progress=progressbar)
        except SelfCheckError as err:
            result = {"model": spec.title, "n": n, "passed": False, "error": str(err)}
        memo[key] = result
        tmp = memo_path.with_name(f".{SELF_CHECKS_FILE}.tmp")
        tmp.write_text(json.dumps(memo, indent=1))
        os.replace(tmp, memo_path)
        result = {**result, "remembered": False}
    if not result["passed"]:
        when = f"when {tarball} was first loaded (remembered in {memo_path})" if result["remembered"] else "now"
        raise SelfCheckError(f"{result['error']}; checked {when}")
    return model, result
