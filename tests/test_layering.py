"""camformer's subpackages import each other one way, as the design's layering says (shared/DESIGN.md,
"Which module may use which"; the README's layer table), read from their source with ``ast``
(imports inside functions count).

:data:`ALLOWED` is written once: which subpackages each subpackage may use. It has no circle, so
imports run from the top down, never back up. Inside a subpackage, :data:`TIERS` orders modules that
must not use each other both ways (the presets above the loop, the loop above the CPU budget), and
:data:`AT_MOST` narrows what a few modules may use: the explainers take any model, so never the
networks or the training loop, and the paper's weights never the training loop. The data and the
statistics import no torch, so a predictions file is scored and a training file checked without it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "camformer"

# Which subpackages each subpackage may import (its own modules aside). Floors, bottom up: data;
# models and stats; explain, plots, paper and training; records and cli.
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "models": {"data"},
    "stats": {"data"},
    "explain": {"data", "models", "stats"},
    "plots": {"data", "stats"},
    "paper": {"data", "models"},  # never the training loop
    "training": {"data", "models", "stats"},
    "records": {"data", "models", "stats", "explain", "plots", "paper", "training"},
    "cli": {"data", "models", "stats", "explain", "plots", "paper", "training"},
}
# Inside a subpackage, top first: a module never imports one of a tier above its own. A module of
# these subpackages that is in no tier fails the test until it is placed.
TIERS: dict[str, list[set[str]]] = {
    "training": [{"grid", "presets"}, {"train", "distributed", "checkpoint", "workers"}, {"cpu_budget"}],
    "models": [{"networks"}, {"inference", "encoding"}],
    "records": [{"book"}, {"report", "agreement", "audit"}],
    "cli": [{"main"}, {"apply"}],
}


def modules() -> list[str]:
    """Every module of the package as ``subpackage.module``."""
    return sorted(f"{p.parent.name}.{p.stem}" for p in PACKAGE.glob("*/*.py") if p.stem != "__init__")


def in_subpackage(sub: str) -> set[str]:
    return {m for m in modules() if m.split(".")[0] == sub}


# What a module may use at most, beyond its own subpackage.
AT_MOST: dict[str, set[str]] = {
    "paper.published": {"models.networks", "models.inference", "data.dream", "data.fetch"},
    **{name: {"models.inference", "models.encoding", "data.dream", *in_subpackage("stats")}
       for name in in_subpackage("explain")},
}
NO_TORCH_AT_IMPORT = in_subpackage("data") | in_subpackage("stats") | {"training.cpu_budget"}


def imports_in(source: str, name: str) -> set[str]:
    """The camformer modules (``sub.module``) or subpackages (``sub``) that ``source``, the text of
    module ``name`` (``sub.module``), imports anywhere in it."""
    own = name.split(".")[0]
    found = set()

    def add(path: list[str], names: list[str]):
        # path: camformer-relative module path, names: what is imported from it
        if len(path) >= 2:
            found.add(".".join(path[:2]))
        elif len(path) == 1:
            found.update(f"{path[0]}.{n}" if (PACKAGE / path[0] / f"{n}.py").exists() else path[0] for n in names)
        else:  # from camformer import a subpackage (not __version__)
            found.update(n for n in names if (PACKAGE / n / "__init__.py").exists())

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "camformer" and len(parts) > 1:
                    add(parts[1:3], [])
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            parts = (node.module or "").split(".") if node.module else []
            if node.level == 0 and parts and parts[0] == "camformer":
                add(parts[1:], names)
            elif node.level == 1:
                add([own, *parts], names)
            elif node.level == 2:
                add(parts, names)
            elif node.level > 2:
                raise AssertionError(f"{name}: a relative import above the package")
    return found


def camformer_imports(name: str) -> set[str]:
    sub, module = name.split(".")
    return imports_in((PACKAGE / sub / f"{module}.py").read_text(), name) - {name}


def tier_of(name: str) -> int:
    sub, module = name.split(".")
    for index, tier in enumerate(TIERS.get(sub, [{module}])):
        if module in tier:
            return index
    raise KeyError(f"camformer/{sub}/{module}.py is in no tier of {sub}: add it to TIERS in "
                   f"{Path(__file__).name}, where DESIGN.md places it")


def imports_torch_at_import(name: str) -> bool:
    sub, module = name.split(".")
    tree = ast.parse((PACKAGE / sub / f"{module}.py").read_text())
    for node in tree.body:  # module level only
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == "torch" or n.startswith("torch.") for n in names):
            return True
    return False


def violations(name: str) -> list[str]:
    """What ``name`` (``sub.module``) imports against the layering, in words."""
    own = name.split(".")[0]
    found = []
    for used in sorted(camformer_imports(name)):
        sub = used.split(".")[0]
        if sub not in ALLOWED:
            found.append(f"{name} imports {used}, which is in no subpackage of the layout")
        elif sub != own and sub not in ALLOWED[own]:
            found.append(f"{name} imports {used}: {own} may use only {sorted(ALLOWED[own])}")
        elif sub == own and "." in used and tier_of(used) < tier_of(name):
            found.append(f"{name} (tier {tier_of(name) + 1} of {own}) imports {used} (tier {tier_of(used) + 1}), "
                         "above it")
        elif name in AT_MOST and sub != own and used not in AT_MOST[name]:
            found.append(f"{name} may use at most {sorted(AT_MOST[name])} outside {own}, and imports {used}")
    if name in NO_TORCH_AT_IMPORT and imports_torch_at_import(name):
        found.append(f"{name} imports torch when it is imported")
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle in ``graph`` (node -> the nodes it uses) as a path, or None."""
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path + [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_the_package_is_its_subpackages():
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert flat == [], f"modules at the top of camformer/, in no layer: {flat}"
    folders = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert folders == sorted(ALLOWED)


@pytest.mark.parametrize("name", modules())
def test_module_imports_follow_the_layers(name):
    assert violations(name) == []


def test_the_allowed_arrows_have_no_circle():
    assert cycle(ALLOWED) is None
    assert all(used in ALLOWED for uses in ALLOWED.values() for used in uses)


def test_no_import_cycles_between_modules():
    graph = {m: {u for u in camformer_imports(m) if "." in u} for m in modules()}
    assert cycle(graph) is None


@pytest.mark.parametrize("sub", sorted(ALLOWED))
def test_a_subpackage_init_names_its_modules_and_imports_nothing(sub):
    tree = ast.parse((PACKAGE / sub / "__init__.py").read_text())
    assert ast.get_docstring(tree), f"camformer/{sub}/__init__.py has no docstring"
    body = tree.body[1:]
    assert [type(node) for node in body] == [ast.Assign], f"camformer/{sub}/__init__.py does more than name __all__"
    assert [t.id for t in body[0].targets] == ["__all__"]
    assert ast.literal_eval(body[0].value) == sorted(m.split(".")[1] for m in in_subpackage(sub))
    doc = ast.get_docstring(tree)
    missing = [m for m in in_subpackage(sub) if f"``{m.split('.')[1]}``" not in doc]
    assert missing == [], f"camformer/{sub}/__init__.py does not name {missing}"


def test_the_data_and_the_statistics_import_without_torch():
    names = sorted(f"camformer.{m}" for m in NO_TORCH_AT_IMPORT)
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False", f"importing {names} loads torch"


def test_the_readme_layer_table_shows_the_folders():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The library, layer by layer", 1)[1].split("\n## ", 1)[0]
    missing = [sub for sub in ALLOWED if f"`camformer/{sub}/`" not in section]
    assert missing == [], f"README's layer table does not show {missing}"


def test_imports_are_read_in_every_form():
    # Known answers on a made-up module camformer/explain/ism.py.
    source = "\n".join([
        "import camformer.data.dream",
        "import camformer.models.inference as inf",
        "from camformer.stats.metrics import pearson_r2",
        "from camformer.stats import bootstrap, verdicts",
        "from camformer import plots",
        "from . import gradcam",
        "from .motifs import scan",
        "from ..models.encoding import one_hot",
        "from .. import paper",
        "from camformer import __version__",
        "def f():",
        "    from camformer.training import train",
        "import numpy, torch",
    ])
    assert imports_in(source, "explain.ism") == {
        "data.dream", "models.inference", "stats.metrics", "stats.bootstrap", "stats.verdicts", "plots",
        "explain.gradcam", "explain.motifs", "models.encoding", "paper", "training.train"}


def test_the_check_finds_what_breaks_the_layers(monkeypatch):
    # Known answers on made-up import lists: upwards, inside a subpackage, beyond "at most", torch.
    fake = {"models.networks": {"training.train"}, "explain.ism": {"models.networks"},
            "explain.hierarchy": {"explain.motifs", "stats.metrics"}, "training.presets": {"training.train"},
            "training.train": {"training.presets"}, "stats.metrics": {"records"}}
    monkeypatch.setattr(sys.modules[__name__], "camformer_imports", lambda name: fake.get(name, set()))
    assert violations("models.networks") == ["models.networks imports training.train: models may use only ['data']"]
    assert violations("explain.ism") == [
        f"explain.ism may use at most {sorted(AT_MOST['explain.ism'])} outside explain, and imports models.networks"]
    assert violations("explain.hierarchy") == [] and violations("training.presets") == []
    assert violations("training.train") == [
        "training.train (tier 2 of training) imports training.presets (tier 1), above it"]
    assert violations("stats.metrics") == ["stats.metrics imports records: stats may use only ['data']"]
    with pytest.raises(KeyError, match="camformer/training/newthing.py is in no tier of training"):
        tier_of("training.newthing")
    assert tier_of("stats.newthing") == 0  # a subpackage without tiers places a module by its folder
    monkeypatch.setattr(sys.modules[__name__], "imports_torch_at_import", lambda name: True)
    assert violations("stats.metrics")[-1] == "stats.metrics imports torch when it is imported"
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
