"""The paper's own trained models (seed 42: Camformer Original and Mini), loaded safely.

The authors publish each model as a tarball (``Camformer_9.tar.gz``: Original, grid model 9;
``Camformer_219.tar.gz``: Mini, model 219; their ``saved_models/README.md``). Inside,
``training_results_tr0.9/<id>_<encoding>_<loss>_<optimiser>_<scheduler>/<seed>/config.json``
names in ``best_model_path`` a whole model pickled by ``torch.save(model)``: their
``base.model.CNN`` (Original) or ``base.model_basic.CNN`` (Mini), 2-D convolutions with
``(k, 1)`` kernels over input ``(N, C, 110, 1)``.

Loading such a file the usual way (``torch.load(..., weights_only=False)``) imports their
``base`` package and would run whatever the pickle names. Here nothing from the download runs:

- the tarball is downloaded by :func:`camformer.fetch.fetch_file` (its sha256 pinned on first
  use, checked on every later use) and read in memory, never extracted;
- ``config.json`` and the model file are found by what they contain (a JSON object with
  ``best_model_path``; a torch zip archive), so a changed folder layout still loads, and an
  unexpected one is refused with the list of the archive's members;
- the pickle is read by a restricted unpickler: the authors' ``base.*`` classes become an inert
  stand-in that only keeps its pickled state; torch's tensor-rebuild functions,
  ``collections.OrderedDict`` and the ``torch.nn`` layer classes are allowed; any other global
  (``os.system``, ``builtins.eval``, ...) is refused with :class:`UnsafePickleError` naming it;
- the weights are read off the inert object tree in the authors' key layout
  (``CNN_layers.<i>.0[.conv].weight``, ``linear_layers.<i>.0.bias``, ...) and converted into
  this package's Conv1d model (:func:`camformer.models.load_reference_state_dict`), after
  checking the parameter count against the published scoreboard's.

:func:`self_check` then predicts the bundled DREAM test set and compares with the authors'
published predictions of the same model; :func:`camformer.book.explained_model` gives the book
the paper's model where all this succeeds, and the book's own model otherwise, and says which.
"""

from __future__ import annotations

import _compat_pickle
import collections
import io
import json
import os
import pickle
import sys
import tarfile
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import fetch
from .data import ENCODINGS, load_paper_table, load_published_predictions, test_set_data
from .grid import GridConfig, grid_config
from .models import Camformer, build_model, load_reference_state_dict

OFFLINE_ENV = "CAMFORMER_OFFLINE"
_MAX_JSON_BYTES = 1 << 20  # a config.json is a few kB; larger members are not read as JSON


class PublishedModelError(ValueError):
    """A published model's archive or pickle is not what the authors publish."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global that loading the published models never needs."""


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
        :func:`camformer.data.load_published_predictions`.
    label : str
        E.g. ``"Camformer Original"``.
    grid_id : int
        Its run in the paper's grid (:func:`camformer.grid.grid_config`): 9 or 219.
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
        """Its tarball's name on the authors' site (a :func:`camformer.fetch.weights_registry` entry)."""
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


# ---------------------------------------------------------------------------- restricted unpickling

class InertObject:
    """Stand-in for a class of the authors' ``base`` package: keeps what the pickle gives it,
    runs nothing (no ``forward``, no methods of theirs).

    Attributes
    ----------
    source : str
        The class the pickle named, e.g. ``"base.model.CNN"``.
    pickled_state : object
        What the pickle's BUILD gave (for a pickled ``nn.Module``: its ``__dict__``).
    """

    source = "?"

    def __init__(self, *args, **kwargs):
        self.pickled_args = (args, kwargs)

    def __setstate__(self, state):
        self.pickled_state = state

    def __repr__(self) -> str:
        return f"<inert {self.source}>"


_STAND_INS: dict[str, type] = {}
_REBUILD_FUNCTIONS = frozenset({
    "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter",
    "_rebuild_parameter_with_state",
})
_BUILTINS = {"set": set, "frozenset": frozenset}


def _stand_in(qualname: str) -> type:
    if qualname not in _STAND_INS:
        _STAND_INS[qualname] = type(qualname.rsplit(".", 1)[-1], (InertObject,), {"source": qualname})
    return _STAND_INS[qualname]


def allowed_global(module: str, name: str):
    """What the restricted unpickler gives for the global ``module.name``.

    The authors' ``base`` and ``base.*`` names give an :class:`InertObject` subclass; torch's
    tensor-rebuild functions, dtypes, ``torch.device``, ``torch.Size``, the ``torch.nn`` module
    classes (already imported by torch), ``collections.OrderedDict``, ``set`` and ``frozenset``
    give themselves. Nothing is imported. Anything else raises :class:`UnsafePickleError`.
    """
    # Protocol-2 pickles name Python 2 modules (__builtin__.set); map them as pickle itself does.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    if module == "base" or module.startswith("base."):
        return _stand_in(f"{module}.{name}")
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module == "builtins" and name in _BUILTINS:
        return _BUILTINS[name]
    if module == "torch._utils" and name in _REBUILD_FUNCTIONS:
        return getattr(torch._utils, name)
    if module == "torch":
        found = vars(torch).get(name)  # vars, not getattr: no lazy import of a torch submodule
        if isinstance(found, torch.dtype) or found is torch.device or found is torch.Size:
            return found
    if module.startswith("torch.nn.") and module in sys.modules:
        found = getattr(sys.modules[module], name, None)
        if isinstance(found, type) and issubclass(found, nn.Module):
            return found
    raise UnsafePickleError(
        f"the pickle names {module}.{name}, which loading a published model never needs; refused "
        "(allowed: the authors' base.* classes as inert stand-ins, torch tensor rebuilds, torch.nn layers)"
    )


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves globals with :func:`allowed_global` only."""

    def find_class(self, module: str, name: str):
        return allowed_global(module, name)


def _restricted_load(file, **kwargs):
    return RestrictedUnpickler(file, **kwargs).load()


# What torch.load calls its ``pickle_module``: torch wraps ``Unpickler`` (adding its storage
# handling in front of our find_class) and calls ``load`` for legacy headers.
_RESTRICTED_PICKLE = types.SimpleNamespace(__name__=__name__, Unpickler=RestrictedUnpickler,
                                           load=_restricted_load)


def load_pickled_model(data: bytes, where: str = "model file") -> object:
    """Unpickle a whole model saved by ``torch.save(model)`` without running code from it.

    Parameters
    ----------
    data : bytes
        A torch zip archive (the format of ``torch.save`` since PyTorch 1.6).
    where : str
        How error messages name the file.

    Returns
    -------
    object
        The pickled object tree: the authors' classes as :class:`InertObject`, torch layers and
        tensors as themselves (see :func:`allowed_global`).

    Raises
    ------
    UnsafePickleError
        The pickle names a global that is not allowed (nothing it names has run).
    PublishedModelError
        Not a torch zip archive, or a TorchScript archive (whose code torch would run).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            records = archive.namelist()
    except zipfile.BadZipFile:
        raise PublishedModelError(f"{where}: not a torch zip archive (torch.save since PyTorch 1.6)") from None
    if not any(PurePosixPath(r).name == "data.pkl" for r in records):
        raise PublishedModelError(f"{where}: a zip archive without data.pkl, not a torch.save file: {records[:20]}")
    if any(PurePosixPath(r).name == "constants.pkl" or "/code/" in r for r in records):
        raise PublishedModelError(f"{where}: a TorchScript archive; refused (loading it would run its code)")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", pickle_module=_RESTRICTED_PICKLE,
                          weights_only=False)
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{where}: {err}") from None


def pickled_state_dict(tree: object) -> tuple[dict[str, torch.Tensor], int]:
    """The state dict of a pickled model tree (from :func:`load_pickled_model`), read off the
    modules' ``_parameters``, ``_buffers`` and ``_modules`` without calling any of them.

    Returns
    -------
    (dict, int)
        Keys in the pickled model's own layout (``CNN_layers.0.0.conv.weight``, ...); the number
        of parameters (buffers such as BatchNorm's running statistics not counted).
    """
    state: dict[str, torch.Tensor] = {}
    n_params = 0

    def visit(obj, prefix: str, depth: int) -> None:
        nonlocal n_params
        if depth > 50:
            raise PublishedModelError(f"pickled model: modules nested deeper than 50 at {prefix!r}")
        attrs = obj.pickled_state if isinstance(obj, InertObject) else getattr(obj, "__dict__", None)
        if isinstance(attrs, tuple):  # BUILD with (state, slotstate)
            attrs = attrs[0]
        kinds = ("_parameters", "_buffers", "_modules")
        if not isinstance(attrs, dict) or not all(isinstance(attrs.get(k), dict) for k in kinds):
            raise PublishedModelError(f"pickled model: {prefix or 'the root'} ({obj!r}) is not a torch module")
        skip = attrs.get("_non_persistent_buffers_set")
        skip = skip if isinstance(skip, (set, frozenset)) else set()
        for kind in ("_parameters", "_buffers"):
            for key, value in attrs[kind].items():
                if value is None or (kind == "_buffers" and key in skip):
                    continue
                if not isinstance(value, torch.Tensor):
                    raise PublishedModelError(f"pickled model: {prefix}{key} is a {type(value).__name__}, not a tensor")
                state[prefix + key] = value.detach()
                n_params += value.numel() if kind == "_parameters" else 0
        for key, child in attrs["_modules"].items():
            if child is not None:
                visit(child, f"{prefix}{key}.", depth + 1)

    visit(tree, "", 0)
    return state, n_params


# ---------------------------------------------------------------------------- the archive

def _layout_error(path: Path, problem: str, members: list[str]) -> PublishedModelError:
    listing = "\n  ".join(members) if members else "(no members)"
    return PublishedModelError(
        f"{path}: {problem}; expected the authors' layout, a config.json with best_model_path and "
        f"the torch.save file it names. The archive holds:\n  {listing}"
    )


def read_archive(path: str | os.PathLike, seed: int = 42) -> tuple[dict, str, bytes]:
    """Find the training config and the pickled model in an authors' tarball, in memory.

    The config is the member that parses as a JSON object with ``best_model_path`` (the one with
    ``seed`` where there are several); the model is the torch zip archive whose file name
    ``best_model_path`` gives (or the only torch zip archive in the tarball).

    Returns
    -------
    (dict, str, bytes)
        The config, the model's member name and its bytes.

    Raises
    ------
    PublishedModelError
        Not a readable tarball, or no such config or model; the message lists every member.
    """
    path = Path(path)
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as err:
        raise PublishedModelError(f"{path}: not a readable tar archive ({err})") from None
    with tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        files = [m for m in members if m.isfile()]

        def read(member: tarfile.TarInfo, size: int = -1) -> bytes:
            return tar.extractfile(member).read(size)

        configs = []
        for member in files:
            if member.size > _MAX_JSON_BYTES:
                continue
            try:
                config = json.loads(read(member))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(config, dict) and isinstance(config.get("best_model_path"), str):
                configs.append((member, config))
        if len(configs) > 1:
            configs = [c for c in configs if c[1].get("seed") == seed] or configs
        if len(configs) != 1:
            found = "no JSON member with best_model_path" if not configs else \
                f"{len(configs)} configs with best_model_path ({', '.join(m.name for m, _ in configs)})"
            raise _layout_error(path, found, names)
        config_member, config = configs[0]
        models = [m for m in files if read(m, 4) == b"PK\x03\x04"]
        wanted = PurePosixPath(config["best_model_path"]).name
        named = [m for m in models if PurePosixPath(m.name).name == wanted]
        if len(named) > 1:  # the one beside the config
            folder = PurePosixPath(config_member.name).parent
            named = [m for m in named if PurePosixPath(m.name).parent == folder]
        chosen = named if named else models
        if len(chosen) != 1:
            raise _layout_error(path, f"{config_member.name} names best_model_path "
                                f"{config['best_model_path']!r}, and {len(chosen)} torch zip members fit it", names)
        return config, chosen[0].name, read(chosen[0])


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
    """
    spec = published_model(name)
    config, member, data = read_archive(path, seed=spec.seed)
    where = f"{path}:{member}"
    state, n_params = pickled_state_dict(load_pickled_model(data, where))
    if n_params != spec.n_params:
        raise PublishedModelError(f"{where}: {n_params:,} parameters; the published {spec.label} has {spec.n_params:,}")
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
        As for :func:`camformer.fetch.fetch_file` (default ``$CAMFORMER_DATA_DIR`` or the user
        cache); the tarball goes to ``sblab-camformer/``.
    url : str, optional
        Download the tarball from here instead of the authors' site (a mirror, a test server).
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
    camformer.fetch.FetchError
        No download (network, offline), or the tarball's sha256 differs from its pin.
    PublishedModelError, UnsafePickleError
        The archive is not what the authors publish.
    """
    spec = published_model(name)
    path = fetch.fetch_file(spec.file, cache_dir=cache_dir, url=url, progressbar=progressbar,
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
        Columns ``id`` and ``name`` (default :func:`camformer.data.load_published_predictions`);
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
    from .inference import predict

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
