"""What every chapter's page shows, checked on the Jupytext sources (fast, no execution):
code a reader can read in the book's column, prose shown once, and no code longer than a short story.

A chapter's visible code cells (those without ``remove-cell`` or ``remove-input``) are what the
page prints in a code box of about 80 characters; a cell that writes prose into a ``Markdown(...)``
shows only its words, so it must hide its input.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
#: Characters a code box of the book's column shows without scrolling sideways.
CODE_WIDTH = 80
#: Code lines a chapter shows (blank lines, comments, the parameters cell and hidden cells, whose page
#: shows only their words, not counted).
CHAPTER_CODE_LINES = 80
_CELL = re.compile(r"^# %%(?P<header>.*)$", re.M)


def code_cells(source: str) -> list[tuple[set[str], str]]:
    """The code cells of a py:percent notebook: (tags, source) each; markdown cells are left out."""
    marks = list(_CELL.finditer(source))
    cells = []
    for mark, following in zip(marks, [*marks[1:], None]):
        header = mark.group("header")
        if "[markdown]" in header:
            continue
        body = source[mark.end():following.start() if following else len(source)]
        tags = set(re.findall(r'"([^"]+)"', header.split("tags=", 1)[1])) if "tags=" in header else set()
        cells.append((tags, body.strip("\n")))
    return cells


def visible(tags: set[str]) -> bool:
    return not {"remove-cell", "remove-input"} & tags


def test_code_cells_are_parsed_with_their_tags():
    source = '# %%\nx = 1\n\n# %% [markdown]\n# text\n\n# %% tags=["remove-input"]\ndisplay(Markdown("a"))\n'
    assert code_cells(source) == [(set(), "x = 1"), ({"remove-input"}, 'display(Markdown("a"))')]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_visible_code_fits_the_code_box(chapter: Path):
    long = [f"{len(line)} chars: {line.strip()[:60]}" for tags, body in code_cells(chapter.read_text())
            if visible(tags) for line in body.splitlines() if len(line) > CODE_WIDTH]
    assert not long, f"{chapter.name}: {len(long)} visible code lines longer than {CODE_WIDTH}:\n" + "\n".join(long)


def fenced_code(source: str) -> list[str]:
    """The lines of the code blocks (```` ``` ```` fences) in a py:percent notebook's markdown cells."""
    lines, inside = [], False
    for line in source.splitlines():
        text = line[2:] if line.startswith("# ") else line[1:] if line == "#" else None
        if text is None:
            inside = False
            continue
        if text.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append(text)
    return lines


def test_fenced_code_is_found():
    source = "# %% [markdown]\n# text\n#\n# ```bash\n# camformer train \\\n#     --x 1\n# ```\n# more\n"
    assert fenced_code(source) == ["camformer train \\", "    --x 1"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_code_in_the_prose_fits_the_code_box(chapter: Path):
    long = [line for line in fenced_code(chapter.read_text()) if len(line) > CODE_WIDTH]
    assert not long, f"{chapter.name}: code blocks in the prose with lines longer than {CODE_WIDTH}: {long}"


def prose_in_code(body: str) -> bool:
    """Whether a cell writes the words of a ``Markdown(...)`` in its code: an f-string or a string of
    several words among the call's arguments (``Markdown(facts["text"])`` shows one short line)."""
    for node in ast.walk(ast.parse(body)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Markdown":
            for part in ast.walk(ast.Module(body=[ast.Expr(arg) for arg in node.args], type_ignores=[])):
                if isinstance(part, ast.JoinedStr) or (
                        isinstance(part, ast.Constant) and isinstance(part.value, str) and " " in part.value):
                    return True
    return False


def test_prose_in_code_is_found():
    assert prose_in_code('display(Markdown(f"r = {r:.3f}"))')
    assert prose_in_code('display(Markdown("The model " + words))')
    assert not prose_in_code('display(Markdown(facts["text"]))')
    assert not prose_in_code("x = 1")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_prose_cells_show_their_words_once(chapter: Path):
    shown_twice = [body.splitlines()[0][:60] for tags, body in code_cells(chapter.read_text())
                   if visible(tags) and prose_in_code(body)]
    assert not shown_twice, (f"{chapter.name}: cells write prose in their code and show it twice (tag them "
                             f"remove-input, with the computation in a cell of its own): {shown_twice}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_code_is_a_short_story(chapter: Path):
    lines = 0
    for tags, body in code_cells(chapter.read_text()):
        if {"remove-cell", "remove-input", "parameters"} & tags:  # the page shows the words, not the code
            continue
        lines += sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))
    assert lines <= CHAPTER_CODE_LINES, f"{chapter.name}: {lines} code lines (at most {CHAPTER_CODE_LINES})"
