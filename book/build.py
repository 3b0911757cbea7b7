"""Build the camformer book: execute every chapter with papermill, then build the HTML.

One preset runs the whole book::

    python book/build.py --preset quick          # what `make book` runs
    python book/build.py --only 01_data 00_intro # re-execute a few chapters, rebuild the HTML
    python book/build.py --skip-execute          # rebuild the HTML from executed notebooks
    python book/build.py --preset smoke --no-html --results-dir R --stage-dir S
                                                 # execute only (tests): records in R, notebooks in S

Steps:

1. every chapter to execute (``notebooks/NN_name.py``) must have its paired, stripped
   ``notebooks/NN_name.ipynb`` in sync (``python book/sync_notebooks.py`` makes them);
2. each chapter is executed with papermill (``-p preset P -p results_dir R``, cwd = the
   repository root) in the order of ``_toc.yml``, the introduction last so that it can read
   the numbers every other chapter recorded; the executed notebooks go to the staging
   folder ``_build/book/notebooks/``, and the seconds each took to
   ``{results_dir}/{preset}/timings.csv``;
3. ``_config.yml``, ``_toc.yml`` and ``book/`` are staged beside them, so the staged book
   mirrors the repository (the launch buttons use a page's path, which is then the path of
   the committed notebook they open);
4. ``jupyter-book build -W -n --keep-going`` (execution off) writes the HTML to
   ``_build/book/_build/html``; any warning fails the build.

A full build (no ``--only``) requires every page of ``_toc.yml``. With ``--only`` the book
holds the chosen chapters and any executed earlier, and says which it left out. With
``--no-html`` the build stops after step 2 (what the two-kernel test needs: the records).

Presets: ``quick`` (the published book: a 2-core CPU, minutes), ``paper`` (the paper's recipe,
on a GPU) and ``smoke`` (the smallest sizes, seconds per chapter, the same code path as quick:
for tests, such as building the book twice with two CPU kernel sets).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from repository import repository_url, with_repository
from sync_notebooks import pair_problem, paired_notebook

from camformer.records.book import REFUSED_LOG, log_file
from camformer.records.report import clear_records

REPO_ROOT = Path(__file__).resolve().parent.parent
STAGE_DIR = REPO_ROOT / "_build" / "book"
HTML_DIR = STAGE_DIR / "_build" / "html"
PRESETS = ("quick", "paper", "smoke")
TIMINGS_FIELDS = ("chapter", "seconds", "measured_at")


class BuildError(RuntimeError):
    """A problem that stops the build; the message says what to do."""


@dataclass(frozen=True)
class Page:
    """One ``file:`` entry of ``_toc.yml``."""

    entry: str  # as written in the toc, e.g. "notebooks/01_data" or "book/references"

    @property
    def name(self) -> str:
        return Path(self.entry).name

    @property
    def is_chapter(self) -> bool:
        return self.entry.startswith("notebooks/")

    @property
    def source(self) -> Path:
        """The file a reader edits: the Jupytext ``.py`` of a chapter, else the ``.md`` page."""
        return REPO_ROOT / (self.entry + (".py" if self.is_chapter else ".md"))

    def staged(self, stage_dir: Path) -> Path:
        """Where the page lies in the staged book."""
        return stage_dir / (self.entry + (".ipynb" if self.is_chapter else ".md"))


def toc_pages(toc_path: Path = REPO_ROOT / "_toc.yml") -> list[Page]:
    """The pages of a jb-book table of contents, root first, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    pages = [Page(toc["root"])]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(Page(entry["file"]))
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return pages


def execution_order(pages: list[Page]) -> list[Page]:
    """Chapters in toc order, with the root (the introduction) moved last."""
    chapters = [page for page in pages if page.is_chapter]
    return chapters[1:] + chapters[:1] if chapters and chapters[0] == pages[0] else chapters


def select(pages: list[Page], names: list[str]) -> list[Page]:
    """The chapters named (``01_data``, ``notebooks/01_data.py`` ...), in execution order."""
    by_name = {page.name: page for page in pages if page.is_chapter}
    wanted = {Path(name).stem for name in names}
    unknown = sorted(wanted - set(by_name))
    if unknown:
        raise BuildError(f"not a chapter of _toc.yml: {', '.join(unknown)} (chapters: {', '.join(by_name)})")
    return [page for page in execution_order(pages) if page.name in wanted]


def check_sources(pages: list[Page]) -> None:
    """Fail naming every toc page whose source file is missing."""
    missing = [page for page in pages if not page.source.exists()]
    if missing:
        lines = [f"  {page.entry}: {page.source.relative_to(REPO_ROOT)} is missing" for page in missing]
        raise BuildError("_toc.yml lists pages that do not exist:\n" + "\n".join(lines))


def check_pairs(chapters: list[Page]) -> None:
    """Fail if a chapter's committed ``.ipynb`` is missing or out of sync with its ``.py``."""
    problems = [(page, pair_problem(page.source)) for page in chapters]
    problems = [f"  {page.entry}: {problem}" for page, problem in problems if problem]
    if problems:
        raise BuildError(
            "paired notebooks out of sync with their .py sources:\n" + "\n".join(problems)
            + "\nrun: python book/sync_notebooks.py"
        )


def timings_path(results_dir: Path, preset: str) -> Path:
    """``{results_dir}/{preset}/timings.csv`` (relative results dirs are from the repo root)."""
    base = results_dir if results_dir.is_absolute() else REPO_ROOT / results_dir
    return base / preset / "timings.csv"


def write_timing(path: Path, chapter: str, seconds: float) -> None:
    """Set one row (chapter, seconds, UTC time) of the timings table, keeping the others: chapters
    in name order (their NN_ prefix), then the whole build's ``total``."""
    rows: dict[str, dict[str, str]] = {}
    if path.exists():
        with path.open(newline="") as handle:
            rows = {row["chapter"]: row for row in csv.DictReader(handle)}
    rows[chapter] = {
        "chapter": chapter,
        "seconds": f"{seconds:.1f}",
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=TIMINGS_FIELDS)
        writer.writeheader()
        writer.writerows(sorted(rows.values(), key=lambda row: (row["chapter"] == "total", row["chapter"])))


def start_afresh(stage_dir: Path, results_dir: Path, preset: str) -> None:
    """Before a full build: no page and no recorded number of an older build may remain (the
    audit and the introduction read every record)."""
    shutil.rmtree(stage_dir / "notebooks", ignore_errors=True)
    clear_records(results_dir if results_dir.is_absolute() else REPO_ROOT / results_dir, preset)


def ipc_kernel_manager():
    """A kernel manager whose kernels talk over local IPC sockets instead of TCP.

    The same kernel; only the transport differs. Over TCP, ipykernel prints a warning that the
    connection is not encrypted for every chapter, between the build's own progress lines.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"

    return IPCKernelManager


PARAMETERS_NOTE = "# Parameters (rerun with others: papermill -p NAME VALUE)"


def merge_parameters(source: str, injected: str) -> str:
    """A chapter's ``parameters`` cell with the values papermill injected written in.

    Each assignment of ``source`` whose name ``injected`` assigns again is replaced by the injected
    assignment (the lines it spanned become one); the others keep their defaults. Names only
    injected are appended. The result is what the chapter ran with.
    """
    import ast

    values = {node.targets[0].id: ast.get_source_segment(injected, node)
              for node in ast.parse(injected).body
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    lines = source.splitlines()
    spans = {node.targets[0].id: (node.lineno, node.end_lineno) for node in ast.parse(source).body
             if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    for name, (first, last) in sorted(spans.items(), key=lambda item: -item[1][0]):
        if name in values:
            lines[first - 1:last] = [values[name]]
    lines += [values[name] for name in values if name not in spans]
    return "\n".join([PARAMETERS_NOTE, *lines])


def show_parameters(notebook_path: Path) -> None:
    """Show a chapter's parameters on its page as it ran: papermill adds a cell tagged
    ``injected-parameters`` (the preset, the results folder the build passed) after the chapter's
    own ``parameters`` cell of defaults; the two become one visible cell (:func:`merge_parameters`),
    so the code below never uses a name the page does not show."""
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    cells = notebook.cells
    own = next((c for c in cells if "parameters" in c.metadata.get("tags", [])), None)
    injected = next((c for c in cells if "injected-parameters" in c.metadata.get("tags", [])), None)
    if own is not None and injected is not None:
        own.source = merge_parameters(own.source, injected.source)
        cells.remove(injected)
    nbformat.write(notebook, notebook_path)


def execute(chapters: list[Page], preset: str, results_dir: Path, stage_dir: Path) -> float:
    """Run each chapter with papermill into the staging folder; returns the total seconds."""
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timings = timings_path(results_dir, preset)
    total = 0.0
    for index, page in enumerate(chapters, start=1):
        output = page.staged(stage_dir)
        output.parent.mkdir(parents=True, exist_ok=True)
        print(f"[{index:2d}/{len(chapters)}] {page.name} (preset {preset}) ...", flush=True)
        refused_log = log_file(results_dir, preset, REFUSED_LOG)
        refused_before = refused_log.read_text(encoding="utf-8") if refused_log.exists() else ""
        start = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(paired_notebook(page.source)),
                str(output),
                parameters={"preset": preset, "results_dir": str(results_dir)},
                kernel_name="python3",
                cwd=str(REPO_ROOT),
                log_output=False,
                progress_bar=False,
                kernel_manager_class=ipc_kernel_manager(),
            )
        except PapermillExecutionError as error:
            raise BuildError(
                f"chapter {page.name} failed in cell {error.exec_count}: {error.ename}: {error.evalue}\n"
                f"  the executed notebook, with the traceback, is {output}"
            ) from None
        except DeadKernelError:
            raise BuildError(f"chapter {page.name}: its kernel died (most often: out of memory; the system log "
                             f"says, e.g. `dmesg | grep -i oom`); the notebook as far as it ran is {output}") from None
        seconds = time.perf_counter() - start
        show_parameters(output)
        total += seconds
        write_timing(timings, page.name, seconds)
        print(f"        {page.name} done in {seconds:.1f} s", flush=True)
        refused = refused_log.read_text(encoding="utf-8") if refused_log.exists() else ""
        for line in refused[len(refused_before):].splitlines():  # a defect, not an offline build: say it loudly
            print(f"WARNING: {page.name}: {line}", file=sys.stderr, flush=True)
    print(f"executed {len(chapters)} chapters in {total:.1f} s; timings in {timings}", flush=True)
    return total


def stage(pages: list[Page], stage_dir: Path) -> list[Page]:
    """Copy the config, the toc and ``book/`` into the staging folder, with the repository's
    address from the build's environment (``book/repository.py``) in the config and the chapters.

    A chapter with no executed notebook staged (possible only with ``--only``) gets a
    placeholder page saying so, so the book keeps its structure and its links. Returns
    those chapters.
    """
    url, source = repository_url()
    print(f"repository address for the launch buttons: {url} (from {source})", flush=True)
    (stage_dir / "_config.yml").write_text(with_repository((REPO_ROOT / "_config.yml").read_text(), url))
    shutil.copy2(REPO_ROOT / "_toc.yml", stage_dir / "_toc.yml")
    shutil.copytree(
        REPO_ROOT / "book", stage_dir / "book", dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.py"),
    )
    import nbformat

    left_out = []
    for page in pages:
        staged = page.staged(stage_dir)
        if page.is_chapter and staged.exists():  # the Colab install cell installs from this repository
            staged.write_text(with_repository(staged.read_text(), url))
        if not page.is_chapter or (staged.exists() and not nbformat.read(staged, 4).metadata.get("placeholder")):
            continue
        left_out.append(page)
        title = next(
            (line[4:].strip() for line in page.source.read_text().splitlines() if line.startswith("# # ")),
            page.name,
        ) if page.source.exists() else page.name
        placeholder = nbformat.v4.new_notebook(metadata={"placeholder": True, "kernelspec": {
            "display_name": "Python 3", "language": "python", "name": "python3"}})
        placeholder.cells.append(nbformat.v4.new_markdown_cell(
            f"# {title}\n\n```{{warning}}\nThis chapter was not executed in this build of the book "
            f"(`book/build.py --only ...`). Build the whole book to see it.\n```"
        ))
        staged.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(placeholder, staged)
    return left_out


def jupyter_book_command() -> str:
    """The ``jupyter-book`` of this Python environment (falling back to the PATH)."""
    local = Path(sys.executable).parent / "jupyter-book"
    found = str(local) if local.exists() else shutil.which("jupyter-book")
    if not found:
        raise BuildError("jupyter-book not found: install the book extras, pip install -e '.[book]'")
    return found


def build_html(stage_dir: Path) -> Path:
    """``jupyter-book build -W -n --keep-going --all`` of the staged book; returns the HTML folder."""
    command = [jupyter_book_command(), "build", str(stage_dir), "-W", "-n", "--keep-going", "--all"]
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=stage_dir)
    if result.returncode != 0:
        raise BuildError(f"jupyter-book build failed (exit {result.returncode}): see the warnings above")
    return stage_dir / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the chapters with papermill and build the book.")
    parser.add_argument("--preset", default="quick", choices=PRESETS, help="passed to every chapter (default quick)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="execute only these chapters (e.g. 01_data 00_intro)")
    parser.add_argument("--skip-execute", action="store_true", help="rebuild the HTML from the executed notebooks")
    parser.add_argument("--results-dir", default="results", type=Path, help="where chapters write results (default results)")
    parser.add_argument("--no-html", action="store_true", help="execute the chapters only; build no HTML")
    parser.add_argument("--stage-dir", default=STAGE_DIR, type=Path,
                        help=f"where executed notebooks and the book are staged (default {STAGE_DIR.relative_to(REPO_ROOT)})")
    args = parser.parse_args(argv)
    if args.no_html and args.skip_execute:
        parser.error("--no-html and --skip-execute leave nothing to do")
    stage_dir = args.stage_dir if args.stage_dir.is_absolute() else REPO_ROOT / args.stage_dir

    start = time.perf_counter()
    try:
        pages = toc_pages()
        full = not args.only and not args.skip_execute
        check_sources(pages if full else [page for page in pages if not page.is_chapter])
        chapters = [] if args.skip_execute else (select(pages, args.only) if args.only else execution_order(pages))
        check_sources(chapters)
        check_pairs(chapters)
        stage_dir.mkdir(parents=True, exist_ok=True)
        if full:
            start_afresh(stage_dir, args.results_dir, args.preset)
        if chapters:
            execute(chapters, args.preset, args.results_dir, stage_dir)
        if args.no_html:
            print(f"executed {len(chapters)} chapters (--no-html: no book built); notebooks in {stage_dir / 'notebooks'}")
            return 0
        left_out = stage(pages, stage_dir)
        if left_out:
            print("placeholder pages (not executed in this build): " + ", ".join(page.name for page in left_out), flush=True)
        html = build_html(stage_dir)
    except BuildError as error:
        print(f"book build failed: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    if full:
        write_timing(timings_path(args.results_dir, args.preset), "total", seconds)
    print(f"book built in {seconds:.0f} s (preset {args.preset}); open {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
