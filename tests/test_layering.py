"""camformer's modules import each other as the design's layering says (shared/DESIGN.md, "Which
module may use which"), read from their source with ``ast`` (imports inside functions count).

Imports run from the top of :data:`LAYERS` down, never back up; modules of one layer may use
each other (no cycles). Some layers name what they may use at most (:data:`AT_MOST`). A module
that is not in :data:`LAYERS` fails the test until it is placed there.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "camformer"

# Top first. Layer 3 holds the presets' runs beside the grid's (both train models); layer 4 the
# loop with its distributed helpers and checkpoint I/O, as DESIGN.md allows; layer 8 scoring
# and the statistics split from it (intervals, the leaderboard, seeds, the grid's factorial
# analysis, verdicts), all without torch.
LAYERS: list[set[str]] = [
    {"cli", "book", "apply"},
    {"published", "safe_pickle", "model_archive"},
    {"grid", "presets"},
    {"train", "distributed", "checkpoint", "workers"},
    {"ism", "gradcam", "attribution", "embedding", "motifs", "hierarchy", "gc_content"},
    {"plot_eval", "plot_grid", "plot_interpret", "plot_models", "plot_motifs", "report", "agreement", "audit"},
    {"models"},
    {"metrics", "bootstrap", "leaderboard", "seeds", "factorial", "verdicts", "interaction", "explain_stats", "ensemble",
     "heldout"},
    {"inference", "encoding"},
    {"data", "fetch", "sequence_files", "similarity", "cpu_budget"},
]
EXPLAINERS = LAYERS[4]
# What a module may use at most (beyond the modules of its own layer).
AT_MOST: dict[str, set[str]] = {
    "published": {"models", "inference", "data", "fetch"},  # never the training loop
    # any model: never models or train; "metrics" is its whole layer (scoring and the statistics split from it)
    **{name: {*LAYERS[8], "data", *LAYERS[7]} for name in EXPLAINERS},
}
NO_TORCH_AT_IMPORT = LAYERS[7] | LAYERS[9]  # a predictions file is scored without torch


def layer_of(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    raise KeyError(f"camformer/{name}.py is in no layer: add it to LAYERS in {Path(__file__).name}, where "
                   f"DESIGN.md places it")


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def camformer_imports(name: str) -> set[str]:
    """The camformer modules that ``camformer/<name>.py`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{name}.py").read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("camformer.")}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1 or module == "camformer" or module.startswith("camformer."):
                path = module.removeprefix("camformer").lstrip(".") if node.level == 0 else module
                found |= {path.split(".")[0]} if path else {a.name for a in node.names}
    return found & set(modules())


def imports_torch_at_import(name: str) -> bool:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    for node in tree.body:  # module level only
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == "torch" or n.startswith("torch.") for n in names):
            return True
    return False


def violations(name: str) -> list[str]:
    """What ``name`` imports against the layering, in words."""
    own = layer_of(name)
    found = []
    for used in sorted(camformer_imports(name) - {name}):
        if layer_of(used) < own:
            found.append(f"{name} (layer {own + 1}) imports {used} (layer {layer_of(used) + 1}), above it")
        elif name in AT_MOST and used not in AT_MOST[name] and used not in LAYERS[own]:
            found.append(f"{name} may use at most {sorted(AT_MOST[name])}, and imports {used}")
    if name in NO_TORCH_AT_IMPORT and imports_torch_at_import(name):
        found.append(f"{name} imports torch when it is imported")
    return found


@pytest.mark.parametrize("name", modules())
def test_module_imports_follow_the_layers(name):
    assert violations(name) == []


def test_no_import_cycles_within_a_layer():
    graph = {m: camformer_imports(m) - {m} for m in modules()}
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            assert m != start, f"camformer.{start} imports itself through {sorted(seen)}"
            if m not in seen:
                seen.add(m)
                todo.extend(graph[m])


def test_the_check_finds_what_breaks_the_layers(monkeypatch):
    # Known answers on made-up import lists: upwards, beyond "at most", torch in metrics.
    fake = {"models": {"train"}, "ism": {"models"}, "hierarchy": {"motifs", "metrics"}, "presets": {"train"}}
    monkeypatch.setattr(sys.modules[__name__], "camformer_imports", lambda name: fake.get(name, set()))
    assert violations("models") == ["models (layer 7) imports train (layer 4), above it"]
    assert violations("ism") == [f"ism may use at most {sorted(AT_MOST['ism'])}, and imports models"]
    assert violations("hierarchy") == [] and violations("presets") == []
    with pytest.raises(KeyError, match="camformer/newthing.py is in no layer"):
        layer_of("newthing")
    monkeypatch.setattr(sys.modules[__name__], "imports_torch_at_import", lambda name: True)
    assert violations("metrics") == ["metrics imports torch when it is imported"]
