"""The book: its build script, and the built book checked as a reader would see it.

The ``slow`` tests open the built book in headless Chromium. They read the session's whole-book
build (``tests/conftest.py``): the smoke preset by default, ``CAMFORMER_BOOK_PRESET=quick`` for the
published book's preset, or the HTML folder ``CAMFORMER_BOOK_HTML`` names. The pages are served on
127.0.0.1 and loaded in Chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import csv
import functools
import html.parser
import importlib.util
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import numpy as np
import pytest
import yaml
from matplotlib import image as mpimg

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTER_NAMES = [
    "01_data", "02_architecture", "03_training", "04_performance", "05_leaderboard", "06_grid",
    "07_grid_retrained", "08_native", "09_bootstrap", "10_embedding", "11_gradcam", "12_ism", "13_motifs",
    "14_motif_model", "15_audit",
]


def _load(name: str):
    # book/ holds scripts, not a package: load them from their files (registered, so that
    # build.py's `from sync_notebooks import ...` finds its sibling).
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "book" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


screenshot = _load("screenshot")
_load("sync_notebooks")
repository = _load("repository")
build = _load("build")
PAGES = build.toc_pages()
CHAPTERS = [page for page in PAGES if page.is_chapter]


# --- the build script (fast) ---


def test_toc_holds_every_chapter_in_the_papers_order():
    assert PAGES[0].entry == "notebooks/00_intro"
    assert [page.name for page in CHAPTERS] == ["00_intro", *CHAPTER_NAMES]
    assert PAGES[-1].entry == "book/references" and not PAGES[-1].is_chapter
    # The introduction runs last, so that it reads every other chapter's numbers.
    assert [page.name for page in build.execution_order(PAGES)] == [*CHAPTER_NAMES, "00_intro"]


def test_select_orders_chapters_and_rejects_unknown_names():
    chosen = build.select(PAGES, ["00_intro", "notebooks/04_performance.py", "01_data"])
    assert [page.name for page in chosen] == ["01_data", "04_performance", "00_intro"]
    with pytest.raises(build.BuildError, match="not a chapter of _toc.yml: 99_nothing"):
        build.select(PAGES, ["99_nothing"])


def test_missing_sources_are_named():
    with pytest.raises(build.BuildError) as error:
        build.check_sources([build.Page("notebooks/99_missing"), build.Page("book/nothing"), PAGES[0]])
    assert "notebooks/99_missing: notebooks/99_missing.py is missing" in str(error.value)
    assert "book/nothing: book/nothing.md is missing" in str(error.value)
    assert "00_intro" not in str(error.value)


def test_timings_keep_other_chapters(tmp_path: Path):
    path = build.timings_path(tmp_path, "quick")
    assert path == tmp_path / "quick" / "timings.csv"
    assert build.timings_path(Path("results"), "paper") == REPO_ROOT / "results" / "paper" / "timings.csv"
    build.write_timing(path, "01_data", 3.04)
    build.write_timing(path, "02_architecture", 7.0)
    build.write_timing(path, "01_data", 5.26)
    build.write_timing(path, "total", 12.0)
    build.write_timing(path, "00_intro", 1.0)  # a chapter written after the total still sorts before it
    rows = list(csv.DictReader(path.open()))
    assert [(row["chapter"], row["seconds"]) for row in rows] == [
        ("00_intro", "1.0"), ("01_data", "5.3"), ("02_architecture", "7.0"), ("total", "12.0")]
    assert all(row["measured_at"].endswith("+00:00") for row in rows)


def test_stage_mirrors_the_repository_and_marks_unexecuted_chapters(tmp_path: Path):
    executed = tmp_path / "notebooks" / "01_data.ipynb"
    executed.parent.mkdir()
    executed.write_text(json.dumps({
        "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# The data"}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }))
    left_out = build.stage(PAGES, tmp_path)
    assert [page.name for page in left_out] == [page.name for page in CHAPTERS if page.name != "01_data"]
    assert (tmp_path / "_config.yml").read_text() == (REPO_ROOT / "_config.yml").read_text()
    assert (tmp_path / "_toc.yml").read_text() == (REPO_ROOT / "_toc.yml").read_text()
    assert (tmp_path / "book" / "references.bib").is_file() and not (tmp_path / "book" / "build.py").exists()
    placeholder = json.loads((tmp_path / "notebooks" / "00_intro.ipynb").read_text())
    assert placeholder["metadata"]["placeholder"] is True
    assert "".join(placeholder["cells"][0]["source"]).startswith("# Camformer: an executable paper")
    assert "placeholder" not in json.loads(executed.read_text())["metadata"]


def test_a_full_build_starts_without_old_pages_or_numbers(tmp_path: Path):
    from camformer.records import report

    stage, results = tmp_path / "stage", tmp_path / "results"
    (stage / "notebooks").mkdir(parents=True)
    (stage / "notebooks" / "old.ipynb").write_text("{}")
    report.record(results, "quick", "motifs", stale=1.0)
    report.record(results, "paper", "motifs", kept=1.0)
    build.start_afresh(stage, results, "quick")
    assert not (stage / "notebooks").exists()
    assert report.load_records(results, "quick").empty and len(report.load_records(results, "paper")) == 1


def test_chapters_run_quietly_on_ipc_kernels(tmp_path: Path, capfd, monkeypatch):
    import nbformat

    source = tmp_path / "notebooks" / "99_tiny.py"
    source.parent.mkdir()
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell("preset = 'x'\nresults_dir = 'r'", metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("print(preset * 2)")]
    nbformat.write(notebook, source.with_suffix(".ipynb"))
    monkeypatch.setattr(build, "REPO_ROOT", tmp_path)
    build.execute([build.Page("notebooks/99_tiny")], "quick", tmp_path / "results", tmp_path / "stage")
    out = nbformat.read(tmp_path / "stage" / "notebooks" / "99_tiny.ipynb", 4)
    assert out.cells[-1].outputs[0]["text"] == "quickquick\n"
    captured = capfd.readouterr()
    assert "without encryption" not in captured.out + captured.err
    assert "99_tiny done in" in captured.out


def test_parameters_cell_shows_the_values_the_chapter_ran_with():
    own = 'preset = "quick"\nresults_dir = "results"\nn_boot = 1000\nlevels = [\n    1,\n    2,\n]\nseed = 0'
    injected = '# Parameters\npreset = "smoke"\nlevels = [3]\nextra = "x"\n'
    merged = build.merge_parameters(own, injected).splitlines()
    assert merged == [build.PARAMETERS_NOTE, 'preset = "smoke"', 'results_dir = "results"', "n_boot = 1000",
                      "levels = [3]", "seed = 0", 'extra = "x"']


def test_show_parameters_merges_the_injected_cell(tmp_path: Path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell('preset = "quick"\nseed = 0', metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell('preset = "smoke"', metadata={"tags": ["injected-parameters"]}),
                      nbformat.v4.new_code_cell("print(seed)")]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    build.show_parameters(path)
    cells = nbformat.read(path, 4).cells
    assert [c.source for c in cells] == [f'{build.PARAMETERS_NOTE}\npreset = "smoke"\nseed = 0', "print(seed)"]
    assert "remove-cell" not in cells[0].metadata["tags"]


@pytest.mark.parametrize("remote, url", [
    ("git@github.com:someone/camformer.git", "https://github.com/someone/camformer"),
    ("https://github.com/someone/camformer.git", "https://github.com/someone/camformer"),
    ("https://x-access-token:abc@github.com/org/repo", "https://github.com/org/repo"),
    ("ssh://git@github.com/org/my.repo.git", "https://github.com/org/my.repo"),
    ("/work/some/local/path", None),
    ("https://gitlab.com/org/repo.git", None),
])
def test_github_remote_addresses(remote, url):
    assert repository.github_url(remote) == url


def test_repository_address_comes_from_the_environment(tmp_path: Path):
    # 1. GitHub Actions
    assert repository.repository_url({"GITHUB_REPOSITORY": "me/fork"}, cwd=tmp_path) == (
        "https://github.com/me/fork", "GITHUB_REPOSITORY")
    with pytest.raises(ValueError, match="owner/name"):
        repository.repository_url({"GITHUB_REPOSITORY": "not a slug"}, cwd=tmp_path)
    # 3. no git checkout at all: the placeholder
    assert repository.repository_url({}, cwd=tmp_path) == (repository.PLACEHOLDER, "placeholder")
    # 2. a clone with a GitHub origin
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:lab/camformer.git"],
                   check=True)
    assert repository.repository_url({}, cwd=tmp_path) == ("https://github.com/lab/camformer", "git origin")
    assert repository.repository_url({"GITHUB_REPOSITORY": "a/b"}, cwd=tmp_path)[0] == "https://github.com/a/b"


def test_committed_files_spell_one_address_and_a_fork_can_rewrite_them(tmp_path: Path):
    files = repository.committed_files()
    names = {path.name for path in files}
    assert {"_config.yml", "CITATION.cff", "01_data.py", "01_data.ipynb"} <= names
    spelled = {path.name for path in files if repository.PLACEHOLDER in path.read_text()}
    assert {"_config.yml", "CITATION.cff"} <= spelled
    # every chapter's Colab cell installs from the same address
    assert {p.name for p in files if p.suffix == ".py"} <= spelled
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_config.yml").write_text(f"url: {repository.PLACEHOLDER}\n")
    (tmp_path / "notebooks" / "01_x.py").write_text(f'pip install git+{repository.PLACEHOLDER}\n')
    changed = repository.write_committed("https://github.com/me/fork", root=tmp_path)
    assert sorted(p.name for p in changed) == ["01_x.py", "_config.yml"]
    assert (tmp_path / "notebooks" / "01_x.py").read_text() == "pip install git+https://github.com/me/fork\n"
    with pytest.raises(ValueError, match="GitHub"):
        repository.write_committed("https://example.org/x", root=tmp_path)


def test_staged_book_points_at_the_repository_of_the_environment(tmp_path: Path, monkeypatch):
    import nbformat

    monkeypatch.setenv("GITHUB_REPOSITORY", "me/fork")
    staged = tmp_path / "notebooks" / "01_data.ipynb"
    staged.parent.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f'install("git+{repository.PLACEHOLDER}")')]
    nbformat.write(notebook, staged)
    build.stage([build.Page("notebooks/01_data")], tmp_path)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/me/fork"
    assert "git+https://github.com/me/fork" in nbformat.read(staged, 4).cells[0].source


def test_config_points_the_launch_buttons_at_the_repository():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert config["repository"]["path_to_book"] == "" and config["repository"]["branch"] == "main"
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    for bibfile in config["bibtex_bibfiles"]:
        assert (REPO_ROOT / bibfile).is_file()


# --- the built book, in Chromium (slow) ---


class Elements(html.parser.HTMLParser):
    """The links, images, ids and title of an HTML document."""

    def __init__(self, text: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []
        self.assets: list[str] = []
        self.ids: set[str] = set()
        self.title = ""
        self.h1: list[str] = []
        self._in_title = self._in_h1 = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        elif tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])
        elif tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        elif tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href"):
            self.assets.append(attributes["href"])
        elif tag == "h1":
            self.h1.append("")
        self._in_title = tag == "title"
        self._in_h1 = tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._in_h1:
            self.h1[-1] += data


@pytest.fixture(scope="session")
def html_dir(built_book) -> Path:
    return built_book.html


@pytest.fixture(scope="session")
def base_url(html_dir: Path):
    if screenshot.chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with screenshot.serve(html_dir) as url:
        yield url


@pytest.fixture(scope="session")
def doms(base_url: str) -> dict[str, Elements]:
    """Each toc page as loaded by Chromium (the DOM after its scripts ran)."""
    return {page.entry: Elements(screenshot.dump_dom(base_url + page.entry + ".html")) for page in PAGES}


@functools.lru_cache(maxsize=None)
def _ids(html_file: Path) -> frozenset[str]:
    return frozenset(Elements(html_file.read_text()).ids)


def _distinct_colours(png: Path) -> int:
    pixels = mpimg.imread(png)
    return len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


def _image_outputs(notebook: Path) -> int:
    """How many figures the executed notebook shows (cells not removed from the page)."""
    count = 0
    for cell in json.loads(notebook.read_text())["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or {"remove-cell", "remove-output"} & set(tags):
            continue
        count += sum("image/png" in output.get("data", {}) or "image/svg+xml" in output.get("data", {})
                     for output in cell.get("outputs", []))
    return count


@pytest.mark.slow
def test_screenshots_of_the_introduction_and_a_figure_page(html_dir: Path, base_url: str, tmp_path_factory):
    figure_page = next(
        page for page in CHAPTERS[1:] if _image_outputs(html_dir / "_sources" / f"{page.entry}.ipynb") > 0
    )
    out = tmp_path_factory.mktemp("screenshots")
    for page in (PAGES[0], figure_page):
        png = screenshot.screenshot(base_url + page.entry + ".html", out / f"{page.name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000, f"{png} is suspiciously small"
        # A blank or error page has a handful of colours; a rendered page with text has hundreds.
        assert _distinct_colours(png) > 200, f"{png} looks blank"
        print(f"screenshot of {page.entry}: {png}")


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_loads_with_title_and_figures(page, html_dir: Path, base_url: str, doms: dict[str, Elements]):
    with urllib.request.urlopen(base_url + page.entry + ".html") as response:
        assert response.status == 200
    dom = doms[page.entry]
    assert dom.title.strip(), f"{page.entry} has no title"
    assert dom.h1 and dom.h1[-1].strip(), f"{page.entry} has no heading"
    assert dom.title.startswith(dom.h1[-1].strip()), f"{page.entry}: title {dom.title!r} is not its heading"
    page_dir = (html_dir / page.entry).parent
    figures = [src for src in dom.images if "_images/" in src or src.startswith("data:image")]
    for src in dom.images:
        if src.startswith("data:"):
            continue
        file = (page_dir / unquote(urlsplit(src).path)).resolve()
        assert file.is_file() and file.stat().st_size > 0, f"{page.entry}: image {src} missing or empty"
    if page.is_chapter:
        notebook = html_dir / "_sources" / f"{page.entry}.ipynb"
        assert "placeholder" not in json.loads(notebook.read_text())["metadata"], f"{page.entry} was not executed"
        assert len(figures) >= _image_outputs(notebook), f"{page.entry}: figures missing from the page"


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS, ids=[page.name for page in CHAPTERS])
def test_no_cell_shows_a_return_value_nobody_asked_for(page, html_dir: Path):
    """A cell that ends with a call for its side effect shows nothing (``PosixPath('...')`` was once
    printed under every chapter's ``report.record``)."""
    shown = []
    for cell in json.loads((html_dir / "_sources" / f"{page.entry}.ipynb").read_text())["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or {"remove-cell", "remove-output"} & set(tags):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if set(data) != {"text/plain"}:  # a figure or a table: its text/plain is only a fallback
                continue
            text = "".join(data["text/plain"])
            if text.startswith(("PosixPath(", "<matplotlib.", "<Axes", "<Figure", "Text(")):
                shown.append(text[:60])
    assert not shown, f"{page.entry}: outputs of calls made for their side effects: {shown}"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_no_broken_internal_links(page, html_dir: Path, base_url: str, doms: dict[str, Elements]):
    page_url = base_url + page.entry + ".html"
    dom = doms[page.entry]
    broken = []
    for link in dom.hrefs + dom.assets:
        target = urlsplit(urljoin(page_url, link))
        if not (target.scheme + "://" + target.netloc + "/").startswith(base_url):
            continue  # external: Colab, Binder, GitHub, DOIs
        file = html_dir / unquote(target.path).lstrip("/")
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            broken.append(link)
        elif target.fragment and file.suffix == ".html" and unquote(target.fragment) not in _ids(file):
            broken.append(link)
    assert not broken, f"{page.entry}: broken internal links {broken}"


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS, ids=[page.name for page in CHAPTERS])
def test_launch_buttons_open_the_committed_notebook(page, doms: dict[str, Elements]):
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    address = urlsplit(repository.repository_url()[0]).path.strip("/")
    branch = config["repository"]["branch"]
    notebook = f"{page.entry}.ipynb"
    hrefs = doms[page.entry].hrefs
    colab = f"https://colab.research.google.com/github/{address}/blob/{branch}/{notebook}"
    binder = f"https://mybinder.org/v2/gh/{address}/{branch}?urlpath=tree/{notebook}"
    assert colab in hrefs, f"{page.entry}: no Colab button to {colab}"
    assert binder in hrefs, f"{page.entry}: no Binder button to {binder}"
    assert (REPO_ROOT / notebook).is_file(), f"the launch buttons open {notebook}, which is not in the repository"


def _ran_with(notebook: Path) -> dict[str, object]:
    """The parameters an executed chapter ran with (its parameters cell, the injected values written
    in by ``build.show_parameters``)."""
    import ast

    cells = json.loads(notebook.read_text())["cells"]
    source = next("".join(c["source"]) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


@pytest.mark.slow
def test_every_number_of_the_audit_is_recorded(html_dir: Path):
    """In the built book, every number the audit compares was recorded by its chapter, except where
    the audit states why this preset cannot compute it (a comparison of another preset, an
    undefined statistic, a number whose chapter recorded only why it has none)."""
    from camformer.records import audit, report

    ran = _ran_with(html_dir / "_sources" / "notebooks" / "15_audit.ipynb")
    results = Path(ran["results_dir"])
    records = report.load_records(results if results.is_absolute() else REPO_ROOT / results, ran["preset"])
    assert not records.empty, f"no records under {results} for the {ran['preset']} preset"
    table = audit.audit(audit.load_audit(REPO_ROOT / "book" / "audit.yml"), records, ran["preset"])
    assert audit.unrecorded(table) == []
    print(audit.audit_summary(table))


@pytest.fixture(scope="session")
def layouts(base_url: str) -> dict[str, dict]:
    """Each toc page measured in Chromium at the book's default width (1280 px), offline."""
    return {page.entry: screenshot.measure(base_url, page.entry + ".html") for page in PAGES}


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_code_and_tables_fit_the_column(page, layouts: dict[str, dict]):
    layout = layouts[page.entry]
    if page.is_chapter and page != PAGES[0]:
        assert layout["code_blocks"] > 0, f"{page.entry}: the measuring page found no code"
    # test_chapter_pages.py keeps every visible code line within 80 characters
    assert layout["code_columns"] is None or layout["code_columns"] >= 80, layout["code_columns"]
    assert not layout["scrolling_code"], f"{page.entry}: code blocks scroll sideways: {layout['scrolling_code']}"
    assert not layout["cut_tables"], f"{page.entry}: tables cut off on the right: {layout['cut_tables']}"


@pytest.mark.slow
def test_math_renders_without_a_network(layouts: dict[str, dict]):
    # Chromium runs with every host but 127.0.0.1 unresolvable (screenshot.CHROMIUM_FLAGS): a CDN fails
    with_math = {entry for entry, layout in layouts.items() if layout["math_rendered"]}
    assert {"notebooks/02_architecture", "notebooks/12_ism"} <= with_math, with_math
    left_raw = {entry: layout["raw_math"] for entry, layout in layouts.items() if layout["raw_math"]}
    assert not left_raw, f"TeX shown unrendered: {left_raw}"
