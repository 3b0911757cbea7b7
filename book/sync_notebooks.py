"""Keep each chapter's committed ``.ipynb`` paired with its Jupytext ``.py`` source.

The ``.py`` (py:percent) file is the one people edit; the ``.ipynb`` beside it exists so
that Colab (which opens only ``.ipynb`` files from GitHub) and Binder can launch the
chapter, and so that papermill has a notebook to execute. The ``.ipynb`` is written with
no outputs, no execution counts, minimal metadata and cell ids derived from the cell
contents, so regenerating it from an unchanged ``.py`` changes nothing in git.

Usage::

    python book/sync_notebooks.py            # write notebooks/NN.ipynb from notebooks/NN.py
    python book/sync_notebooks.py --check    # exit 1 and list the pairs out of sync
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
# Notebook-level metadata kept in the .ipynb; everything else jupytext adds is dropped.
KEPT_METADATA = ("kernelspec",)


def paired_notebook(source: Path) -> Path:
    """The ``.ipynb`` path paired with a ``.py`` chapter source."""
    return source.with_suffix(".ipynb")


def cell_signature(notebook: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between a pair: each cell's type, source and tags, in order."""
    return [
        (cell.cell_type, cell.source.rstrip("\n"), tuple(cell.metadata.get("tags", ())))
        for cell in notebook.cells
    ]


def notebook_from_source(source: Path) -> nbformat.NotebookNode:
    """The stripped ``.ipynb`` content for a py:percent source (not written).

    Cell ids are the first 8 hex digits of the SHA-1 of the cell type and source (with a
    counter for repeated cells), so an unchanged cell keeps its id.
    """
    notebook = jupytext.read(source)
    notebook.metadata = nbformat.NotebookNode(
        {key: notebook.metadata[key] for key in KEPT_METADATA if key in notebook.metadata}
    )
    # Keep the pairing, so that Jupyter with jupytext saves both files when someone edits.
    notebook.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    seen: dict[str, int] = {}
    for cell in notebook.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def stripped_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """Cells of a committed notebook that carry outputs or execution counts."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has execution_count {cell.execution_count}")
    return problems


def pair_problem(source: Path) -> str | None:
    """Why ``source`` and its paired ``.ipynb`` are out of sync, or None if they agree."""
    target = paired_notebook(source)
    if not target.exists():
        return f"{target.name} is missing"
    committed = nbformat.read(target, as_version=4)
    expected = cell_signature(jupytext.read(source))
    found = cell_signature(committed)
    if found != expected:
        for index, (want, have) in enumerate(zip(expected, found)):
            if want != have:
                return f"{target.name} differs from {source.name} at cell {index}"
        return f"{target.name} has {len(found)} cells, {source.name} has {len(expected)}"
    problems = stripped_problems(committed)
    if problems:
        return f"{target.name} is not stripped: " + "; ".join(problems)
    return None


def chapter_sources(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """Every Jupytext chapter source, in chapter order."""
    return sorted(notebook_dir.glob("[0-9][0-9]_*.py"))


def sync(sources: list[Path]) -> list[Path]:
    """Write the paired ``.ipynb`` of each source whose content changed; returns those written."""
    written = []
    for source in sources:
        target = paired_notebook(source)
        text = jupytext.writes(notebook_from_source(source), fmt="ipynb")
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report pairs out of sync")
    parser.add_argument("names", nargs="*", help="chapter names (e.g. 01_data); default: all")
    args = parser.parse_args(argv)
    sources = chapter_sources()
    if args.names:
        sources = [NOTEBOOK_DIR / f"{name.removesuffix('.py')}.py" for name in args.names]
        missing = [str(path) for path in sources if not path.exists()]
        if missing:
            print("no such chapter source: " + ", ".join(missing), file=sys.stderr)
            return 2
    if args.check:
        problems = [(source, pair_problem(source)) for source in sources]
        problems = [(source, problem) for source, problem in problems if problem]
        for source, problem in problems:
            print(f"{source.relative_to(REPO_ROOT)}: {problem}", file=sys.stderr)
        if problems:
            print("run: python book/sync_notebooks.py", file=sys.stderr)
        return 1 if problems else 0
    for path in sync(sources):
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
