"""The torch floor in pyproject.toml is a version the package runs on.

Every torch name the package refers to (``torch.amp.GradScaler``, ``nn.SyncBatchNorm``,
``dist.broadcast_object_list`` ..., found by reading its source) must exist in the installed
torch. Run under the floor itself (``pip install torch==<floor>``), this test and the training
tests check that the floor is honest. The floor is the first release that has them all:
:data:`NEWEST` lists the names that came last and the release that brought each (read from
the 2.3, 2.4 and 2.5 wheels' sources: 2.3 and 2.4 lack the three 2.5 names).
"""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import torch
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "camformer"
NEWEST = {
    "torch.amp.GradScaler": "2.3",  # for any device (before: torch.cuda.amp.GradScaler)
    "torch.nn.Module.set_submodule": "2.5",
    "torch.cpu._is_avx512_bf16_supported": "2.5",
    "torch.cpu._is_amx_tile_supported": "2.5",
}
FLOOR = max(Version(v) for v in NEWEST.values())
# Torch names the package reaches through an instance, where reading the source cannot tell the
# class: ``net.set_submodule`` (SyncBatchNorm in and out of a model).
THROUGH_INSTANCES = ("torch.nn.Module.set_submodule",)


def torch_floor() -> Version:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    torch_req = next(Requirement(r) for r in project["dependencies"] if Requirement(r).name == "torch")
    floors = [Version(s.version) for s in torch_req.specifier if s.operator == ">="]
    assert len(floors) == 1, f"pyproject.toml: torch needs one >= floor, has {torch_req}"
    return floors[0]


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to torch modules or objects: ``nn`` -> ``torch.nn``, ``F`` -> ``torch.nn.functional``."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "torch":
                    names[a.asname or a.name.split(".")[0]] = a.name if a.asname else "torch"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "torch":
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _chain(node: ast.Attribute) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def torch_names_used() -> dict[str, list[str]]:
    """``{"torch.amp.GradScaler": ["training/train.py:123", ...]}`` over every module of the package."""
    used: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):  # so that a chain is taken whole, not each of its prefixes
            for child in ast.iter_child_nodes(node):
                child.parent = node
        aliases = _aliases(tree)
        for name in aliases.values():
            used.setdefault(name, []).append(f"{path.relative_to(PACKAGE).as_posix()} (import)")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
                chain = _chain(node)
                if chain and chain[0] in aliases:
                    used.setdefault(".".join([aliases[chain[0]], *chain[1:]]), []).append(f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}")
    return used


def resolves(name: str) -> bool:
    """Whether ``name`` (``torch.a.b.c``) exists: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def test_the_floor_in_pyproject_is_the_first_release_with_every_api():
    assert FLOOR == Version("2.5") and torch_floor() == FLOOR
    assert Version(torch.__version__.split("+")[0]) >= FLOOR
    assert all(resolves(name) for name in NEWEST)


def test_every_torch_name_the_package_uses_exists_in_this_torch():
    used = torch_names_used()
    assert "torch.amp.GradScaler" in used and "torch.nn.SyncBatchNorm.convert_sync_batchnorm" in used
    assert "torch.distributed.broadcast_object_list" in used  # through ``dist.``
    missing = {name: where[:3] for name, where in used.items() if not resolves(name)}
    missing.update({name: ["(instance)"] for name in THROUGH_INSTANCES if not resolves(name)})
    assert missing == {}, f"torch {torch.__version__} lacks what camformer uses: {missing}"


def test_the_scan_finds_a_missing_name():
    assert resolves("torch.nn.Module.set_submodule") and resolves("torch.nn.functional.pad")
    assert not resolves("torch.amp.NoSuchScaler") and not resolves("torch.no_such_module.thing")
