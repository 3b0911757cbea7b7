"""Read a whole model saved by ``torch.save(model)`` without running anything the file names.

``torch.load(..., weights_only=False)`` imports the classes a pickle names and calls whatever
it says; ``weights_only=True`` refuses a whole pickled model. Here the file is read as data:

- the torch zip archive is parsed by Python's :mod:`zipfile` (not torch's reader), within caps
  on the number of records and on every record's inflated size, each record read in bounded
  chunks, so a compression bomb stops at the cap;
- the pickle is read by :class:`RestrictedUnpickler`: every class it names (the authors'
  ``base.*`` and ``torch.nn`` layers alike) becomes an :class:`InertObject` that only keeps the
  state the pickle gives it. ``torch.save`` creates objects without calling their constructors
  (pickle's NEWOBJ, then BUILD), so a pickle that *calls* a class (an ``nn.Linear(20000,
  20000)`` built while loading) is refused. Tensors are rebuilt from the archive's records by
  this module (bounds checked against the record's bytes, never allocated from a size the pickle
  states); ``collections.OrderedDict``, ``set``, ``frozenset``, torch dtypes, ``torch.Size`` and
  ``torch.device`` are allowed; any other global (``os.system``, ``builtins.eval``, ...) is
  refused with :class:`UnsafePickleError` naming it;
- :func:`module_tree` walks the pickled module tree, each module once, and
  :func:`module_tree_state` reads its state dict off the inert objects.

Every failure raises :class:`UnsafePickleError` or :class:`PickledFileError`, naming the file
and the record.
"""

from __future__ import annotations

import _compat_pickle
import collections
import io
import pickle
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import torch

MAX_PICKLE_BYTES = 1 << 20  # a Camformer's pickled module tree is about 20 kB
MAX_RECORDS = 4096  # a Camformer's torch.save archive has about 100 records (one per tensor)
MAX_DEPTH = 50  # a Camformer's module tree is 4 deep
_CHUNK = 1 << 20


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global, or calls a constructor, that a saved model never needs."""


class PickledFileError(ValueError):
    """A model file that is not a readable ``torch.save`` archive, or is larger than allowed."""


# ---------------------------------------------------------------------------- inert stand-ins

def _constructor_call(source: str) -> str:
    return (f"the pickle calls the constructor of {source}; torch.save never calls a constructor (it "
            "restores state), so this pickle is not a saved model; refused without running it")


class InertObject:
    """Stand-in for a class a pickle names (``base.model.CNN``, ``torch.nn.modules.conv.Conv2d``,
    ...): keeps what the pickle's BUILD gives it and runs nothing.

    Creating one as ``torch.save`` does (``cls.__new__(cls)``, pickle's NEWOBJ) works; calling the
    class (pickle's REDUCE, which would run a constructor with the pickle's arguments) raises
    :class:`UnsafePickleError`.

    Attributes
    ----------
    source : str
        The class the pickle named, e.g. ``"base.model.CNN"``.
    pickled_state : object
        What the pickle's BUILD gave (for a pickled ``nn.Module``: its ``__dict__``).
    """

    source = "?"

    def __new__(cls, *args, **kwargs):
        if args or kwargs:  # REDUCE with arguments, or NEWOBJ with arguments: refused before any use
            raise UnsafePickleError(_constructor_call(cls.source))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        raise UnsafePickleError(_constructor_call(self.source))

    def __setstate__(self, state):
        self.pickled_state = state

    def __repr__(self) -> str:
        return f"<inert {self.source}>"

    @property
    def attributes(self) -> dict:
        """The pickled ``__dict__`` (``{}`` if the pickle gave none)."""
        state = getattr(self, "pickled_state", None)
        if isinstance(state, tuple) and state:  # BUILD with (state, slotstate)
            state = state[0]
        return state if isinstance(state, dict) else {}


_STAND_INS: dict[str, type] = {}


def _stand_in(qualname: str) -> type:
    if qualname not in _STAND_INS:
        _STAND_INS[qualname] = type(qualname.rsplit(".", 1)[-1], (InertObject,), {"source": qualname})
    return _STAND_INS[qualname]


@dataclass(frozen=True)
class _StorageType:
    """What the pickle's ``torch.FloatStorage`` (etc.) stands for: a dtype."""

    dtype: torch.dtype


def _storage_types() -> dict[str, torch.dtype]:
    from torch.storage import _storage_type_to_dtype_map

    return dict(_storage_type_to_dtype_map())


# ---------------------------------------------------------------------------- tensors

@dataclass
class _Storage:
    """A storage record of the archive, as a flat tensor of its dtype."""

    key: str
    flat: torch.Tensor


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                    metadata=None):
    """``torch._utils._rebuild_tensor_v2`` with every argument checked against the storage it
    views: a view reaching past its record is refused (nothing is allocated from ``size``)."""
    if not isinstance(storage, _Storage):
        raise PickledFileError(f"a tensor is rebuilt from {type(storage).__name__}, not a storage record")
    ints = lambda v: isinstance(v, (tuple, list)) and all(type(i) is int and i >= 0 for i in v)  # noqa: E731
    if type(storage_offset) is not int or storage_offset < 0 or not ints(size) or not ints(stride) \
            or len(size) != len(stride) or len(size) > 8:
        raise PickledFileError(f"tensor of storage {storage.key}: invalid offset, size or stride "
                               f"({storage_offset!r}, {size!r}, {stride!r})")
    if metadata:
        raise PickledFileError(f"tensor of storage {storage.key}: conjugate or negative views are not supported")
    n = len(storage.flat)
    if all(size):
        last = storage_offset + sum((s - 1) * st for s, st in zip(size, stride))
        if last >= n:
            raise PickledFileError(f"tensor of storage {storage.key} reaches element {last:,}; the record holds {n:,}")
    return torch.as_strided(storage.flat, tuple(size), tuple(stride), storage_offset)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    """A parameter's tensor (``torch._utils._rebuild_parameter[_with_state]``), without its hooks
    or extra state."""
    if not isinstance(data, torch.Tensor):
        raise PickledFileError(f"a parameter is rebuilt from {type(data).__name__}, not a tensor")
    return data


_REBUILDERS = {
    "_rebuild_tensor_v2": _rebuild_tensor,
    "_rebuild_parameter": _rebuild_parameter,
    "_rebuild_parameter_with_state": _rebuild_parameter,
}
_BUILTINS = {"set": set, "frozenset": frozenset}


def allowed_global(module: str, name: str):
    """What the restricted unpickler gives for the global ``module.name``.

    The authors' ``base``/``base.*`` classes and the ``torch.nn`` module classes give an
    :class:`InertObject` subclass; torch's tensor and parameter rebuilds give this module's
    checked versions; the storage types, dtypes, ``torch.device``, ``torch.Size``,
    ``collections.OrderedDict``, ``set`` and ``frozenset`` give themselves. Nothing is imported.
    Anything else raises :class:`UnsafePickleError`.
    """
    # Protocol-2 pickles name Python 2 modules (__builtin__.set); map them as pickle itself does.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    if module == "base" or module.startswith("base."):
        return _stand_in(f"{module}.{name}")
    if module.startswith("torch.nn.modules."):
        import sys

        found = getattr(sys.modules.get(module), name, None)
        if isinstance(found, type) and issubclass(found, torch.nn.Module):
            return _stand_in(f"{module}.{name}")
    if module == "collections" and name == "OrderedDict":
        return collections.OrderedDict
    if module == "builtins" and name in _BUILTINS:
        return _BUILTINS[name]
    if module == "torch._utils" and name in _REBUILDERS:
        return _REBUILDERS[name]
    if module == "torch":
        storage_types = _storage_types()
        if name in storage_types:
            return _StorageType(storage_types[name])
        found = vars(torch).get(name)  # vars, not getattr: no lazy import of a torch submodule
        if isinstance(found, torch.dtype) or found is torch.device or found is torch.Size:
            return found
    raise UnsafePickleError(
        f"the pickle names {module}.{name}, which a saved model never needs; refused "
        "(allowed: the authors' base.* classes and torch.nn layers as inert stand-ins, tensor rebuilds)"
    )


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves globals with :func:`allowed_global` only and
    takes tensor storages from ``storage(key, dtype, numel)``."""

    def __init__(self, file, storage):
        super().__init__(file)
        self._storage = storage

    def find_class(self, module: str, name: str):
        return allowed_global(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise PickledFileError(f"unsupported persistent id {str(pid)[:80]!r} (expected a torch storage)")
        _, storage_type, key, _location, numel = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise PickledFileError(f"invalid storage reference {str(pid)[:80]!r}")
        return self._storage(key, storage_type.dtype, numel)


# ---------------------------------------------------------------------------- the archive

@dataclass(frozen=True)
class SizeCap:
    """The most bytes a model file may hold, and why that is enough (said in the error)."""

    bytes: int
    reason: str

    def refuse(self, where: str, what: str) -> PickledFileError:
        return PickledFileError(f"{where}: {what}, over the cap of {self.bytes:,} bytes ({self.reason}); refused")


def _read_record(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str, cap: SizeCap) -> bytes:
    """A record's bytes, read in bounded chunks: never more than ``limit`` inflated bytes."""
    out = bytearray()
    with archive.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise cap.refuse(f"{where}:{info.filename}", f"the record inflates past {limit:,} bytes")
    return bytes(out)


def _records(data: bytes, where: str, cap: SizeCap) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo], str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if len(infos) > MAX_RECORDS:
        raise PickledFileError(f"{where}: {len(infos):,} records; a saved Camformer has about 100 "
                               f"(cap {MAX_RECORDS:,})")
    names = [i.filename for i in infos]
    if any(PurePosixPath(r).name == "constants.pkl" or "/code/" in r for r in names):
        raise PickledFileError(f"{where}: a TorchScript archive; refused (loading it would run its code)")
    pickles = [r for r in names if PurePosixPath(r).name == "data.pkl" and r.count("/") == 1]
    if len(pickles) != 1:
        raise PickledFileError(f"{where}: {len(pickles)} <name>/data.pkl records, not a torch.save archive: {names[:20]}")
    declared = sum(i.file_size for i in infos)
    if declared > cap.bytes:
        raise cap.refuse(where, f"its records declare {declared:,} bytes")
    return archive, {i.filename: i for i in infos}, pickles[0].split("/")[0]


def load_torch_zip(data: bytes, where: str, cap: SizeCap) -> object:
    """Unpickle a whole model saved by ``torch.save(model)`` without running code from it.

    Parameters
    ----------
    data : bytes
        A torch zip archive (the format of ``torch.save`` since PyTorch 1.6).
    where : str
        How error messages name the file (e.g. ``"Camformer_219.tar.gz:.../model.pt"``).
    cap : SizeCap
        The most bytes the archive's records may inflate to, together.

    Returns
    -------
    object
        The pickled object tree: classes as :class:`InertObject`, tensors as CPU tensors
        ``(shape as saved)`` viewing the archive's records.

    Raises
    ------
    UnsafePickleError
        The pickle names a global that is not allowed, or calls a constructor (nothing it names has run).
    PickledFileError
        Not a torch zip archive, a TorchScript archive, too large, or malformed (the message
        names the record where it can).
    """
    record = "(zip directory)"
    try:
        archive, infos, prefix = _records(data, where, cap)
        budget = [cap.bytes]
        storages: dict[str, _Storage] = {}
        order = infos.get(f"{prefix}/byteorder")
        if order is not None and _read_record(archive, order, 16, where, cap) != b"little":
            raise PickledFileError(f"{where}:{order.filename}: big-endian tensors are not supported")

        def storage(key: str, dtype: torch.dtype, numel: int) -> _Storage:
            nonlocal record
            if key not in storages:
                record = f"{prefix}/data/{key}"
                info = infos.get(record)
                if info is None:
                    raise PickledFileError(f"{where}: the pickle refers to {record}, which the archive lacks")
                raw = _read_record(archive, info, budget[0], where, cap)
                budget[0] -= len(raw)
                size = torch.empty((), dtype=dtype).element_size()
                if numel < 0 or len(raw) != numel * size:
                    raise PickledFileError(f"{where}:{record}: {len(raw):,} bytes, but the pickle says "
                                           f"{numel:,} elements of {dtype}")
                flat = torch.from_numpy(np.frombuffer(bytearray(raw), dtype=np.uint8)).view(dtype)
                storages[key] = _Storage(key, flat)
            return storages[key]

        record = f"{prefix}/data.pkl"
        pickled = _read_record(archive, infos[record], MAX_PICKLE_BYTES,  where,
                               SizeCap(MAX_PICKLE_BYTES, "a Camformer's pickled module tree is about 20 kB"))
        budget[0] -= len(pickled)
        return RestrictedUnpickler(io.BytesIO(pickled), storage).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{where}: {err}") from None
    except PickledFileError:
        raise
    except Exception as err:  # noqa: BLE001 (a hostile file can make zipfile or pickle raise anything)
        raise PickledFileError(f"{where}:{record}: not a readable torch.save archive "
                               f"({type(err).__name__}: {str(err)[:200]})") from None


# ---------------------------------------------------------------------------- the module tree

_KINDS = ("_parameters", "_buffers", "_modules")


def _module_attributes(obj: object, where: str) -> dict:
    attrs = obj.attributes if isinstance(obj, InertObject) else None
    if not isinstance(attrs, dict) or not all(isinstance(attrs.get(k), dict) for k in _KINDS):
        raise PickledFileError(f"pickled model: {where} ({obj!r}) is not a torch module")
    return attrs


def module_tree(root: object) -> Iterator[tuple[str, InertObject, dict]]:
    """Every module of a pickled model tree, each once, in definition order (depth first).

    Yields
    ------
    (str, InertObject, dict)
        The module's name (``""`` for the root, ``"CNN_layers.0.0"``, ...), its stand-in and its
        pickled attributes (with ``_parameters``, ``_buffers``, ``_modules``).

    Raises
    ------
    PickledFileError
        An object that is not a module, modules nested deeper than :data:`MAX_DEPTH`, or one
        module reached twice (a Camformer shares no layers; visiting it again would double the
        work at every level).
    """
    seen: dict[int, str] = {}
    stack = [("", root, 0)]
    while stack:
        name, obj, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PickledFileError(f"pickled model: modules nested deeper than {MAX_DEPTH} at {name!r}")
        if id(obj) in seen:
            raise PickledFileError(f"pickled model: the module at {name!r} is also at {seen[id(obj)] or 'the root'!r}; "
                                   "a saved Camformer shares no layers")
        seen[id(obj)] = name
        attrs = _module_attributes(obj, name or "the root")
        yield name, obj, attrs
        children = [(f"{name}.{k}" if name else str(k), child) for k, child in attrs["_modules"].items()
                    if child is not None]
        stack.extend((child_name, child, depth + 1) for child_name, child in reversed(children))


def module_tree_state(root: object) -> tuple[dict[str, torch.Tensor], int]:
    """The state dict of a pickled model tree (from :func:`load_torch_zip`), read off the
    modules' ``_parameters`` and ``_buffers`` without calling any of them.

    Returns
    -------
    (dict, int)
        Keys in the pickled model's own layout (``CNN_layers.0.0.conv.weight``, ...); the number
        of parameters (buffers such as BatchNorm's running statistics not counted).
    """
    state: dict[str, torch.Tensor] = {}
    n_params = 0
    for name, _, attrs in module_tree(root):
        prefix = f"{name}." if name else ""
        skip = attrs.get("_non_persistent_buffers_set")
        skip = skip if isinstance(skip, (set, frozenset)) else set()
        for kind in ("_parameters", "_buffers"):
            for key, value in attrs[kind].items():
                if value is None or (kind == "_buffers" and key in skip):
                    continue
                if not isinstance(value, torch.Tensor):
                    raise PickledFileError(f"pickled model: {prefix}{key} is a {type(value).__name__}, not a tensor")
                state[prefix + str(key)] = value
                n_params += value.numel() if kind == "_parameters" else 0
    return state, n_params
