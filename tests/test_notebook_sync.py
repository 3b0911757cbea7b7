"""The committed .ipynb of every chapter is its Jupytext .py source, stripped of outputs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jupytext
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))

# book/ holds scripts, not a package: load the sync tool from its file.
_spec = importlib.util.spec_from_file_location("sync_notebooks", REPO_ROOT / "book" / "sync_notebooks.py")
sync_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_notebooks)

CHAPTER = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A chapter
#
# Some prose.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"

# %%
print(preset)

# %%
print(preset)
"""


def test_there_are_chapters():
    assert (REPO_ROOT / "notebooks" / "00_intro.py") in SOURCES


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_pair_in_sync(source: Path):
    problem = sync_notebooks.pair_problem(source)
    assert problem is None, f"{problem}; run: python book/sync_notebooks.py"


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_committed_notebook_has_same_cells_and_no_outputs(source: Path):
    # Read the .ipynb as plain JSON (not through the sync tool) and compare with jupytext.
    committed = json.loads(source.with_suffix(".ipynb").read_text())
    expected = jupytext.read(source).cells
    assert [cell["cell_type"] for cell in committed["cells"]] == [cell.cell_type for cell in expected]
    for index, (have, want) in enumerate(zip(committed["cells"], expected)):
        assert "".join(have["source"]).rstrip("\n") == want.source.rstrip("\n"), f"cell {index}"
        assert have["metadata"].get("tags", []) == want.metadata.get("tags", []), f"cell {index} tags"
        if have["cell_type"] == "code":
            assert have["outputs"] == [] and have["execution_count"] is None, f"cell {index} not stripped"
    assert set(committed["metadata"]) == {"jupytext", "kernelspec"}
    assert committed["metadata"]["kernelspec"]["name"] == "python3"


def test_sync_writes_stripped_stable_notebook(tmp_path: Path):
    source = tmp_path / "05_chapter.py"
    source.write_text(CHAPTER)
    assert sync_notebooks.sync([source]) == [tmp_path / "05_chapter.ipynb"]
    assert sync_notebooks.pair_problem(source) is None
    first = (tmp_path / "05_chapter.ipynb").read_text()
    notebook = json.loads(first)
    assert [cell["cell_type"] for cell in notebook["cells"]] == ["markdown", "code", "code", "code"]
    assert notebook["cells"][1]["metadata"] == {"tags": ["parameters"]}
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == 4  # the two identical cells get distinct ids
    # An unchanged source writes nothing; a changed cell keeps the other cells' ids.
    assert sync_notebooks.sync([source]) == []
    source.write_text(CHAPTER.replace("# Some prose.", "# Other prose."))
    assert sync_notebooks.pair_problem(source) == "05_chapter.ipynb differs from 05_chapter.py at cell 0"
    sync_notebooks.sync([source])
    new_ids = [cell["id"] for cell in json.loads((tmp_path / "05_chapter.ipynb").read_text())["cells"]]
    assert new_ids[0] != ids[0] and new_ids[1:] == ids[1:]


def test_pair_problems_are_named(tmp_path: Path):
    source = tmp_path / "07_chapter.py"
    source.write_text(CHAPTER)
    assert sync_notebooks.pair_problem(source) == "07_chapter.ipynb is missing"
    sync_notebooks.sync([source])
    target = tmp_path / "07_chapter.ipynb"
    notebook = json.loads(target.read_text())
    notebook["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["quick\n"]}]
    notebook["cells"][2]["execution_count"] = 3
    target.write_text(json.dumps(notebook))
    assert sync_notebooks.pair_problem(source) == (
        "07_chapter.ipynb is not stripped: cell 2 has outputs; cell 2 has execution_count 3"
    )
    source.write_text(CHAPTER + "\n# %%\nprint(results_dir)\n")
    assert sync_notebooks.pair_problem(source) == "07_chapter.ipynb has 4 cells, 07_chapter.py has 5"
    tagged = CHAPTER.replace('# %% tags=["parameters"]', "# %%")
    source.write_text(tagged)
    assert sync_notebooks.pair_problem(source) == "07_chapter.ipynb differs from 07_chapter.py at cell 1"
