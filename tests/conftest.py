"""The whole book, built once per test session and shared by the tests that read it.

``tests/test_book.py`` opens the built book in headless Chromium and ``tests/test_two_kernels.py``
compares its records with a second build under AVX2 kernels. Both read one build: the whole book
on the ``smoke`` preset (three small Micro models, about 3 minutes on 2 cores), with the default
kernels, its HTML built with ``jupyter-book build -W``, in a temporary folder (nothing is written
into the repository). The published book's own preset is checked by

    CAMFORMER_BOOK_PRESET=quick make test     # the whole quick book (12-15 minutes on 2 cores)
    CAMFORMER_BOOK_HTML=_build/book/_build/html make test   # the book `make book` built, not rebuilt

With ``CAMFORMER_BOOK_HTML`` the browser tests read that book, and the two-kernel test builds its
own default-kernel smoke book.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
BOOK_PRESETS = ("smoke", "quick")  # "paper" needs a GPU and the full training data


@dataclass(frozen=True)
class BuiltBook:
    """A whole-book build: its HTML folder, and (when this session built it) its preset and results."""

    html: Path
    preset: str | None = None
    results: Path | None = None


def kernel_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment with the repository importable, the kernel caps removed, then ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in AVX2}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def build_book(preset: str, results: Path, stage: Path, extra: dict[str, str] | None = None, *,
               html: bool = True, only: list[str] | None = None) -> Path:
    """``book/build.py`` in a subprocess; fails the test with the build's last output. Returns the HTML folder."""
    command = [sys.executable, str(REPO_ROOT / "book" / "build.py"), "--preset", preset,
               "--results-dir", str(results), "--stage-dir", str(stage),
               *([] if html else ["--no-html"]), *(["--only", *only] if only else [])]
    result = subprocess.run(command, cwd=REPO_ROOT, env=kernel_environment(extra or {}),
                            capture_output=True, text=True)
    assert result.returncode == 0, (f"{preset} build ({extra or 'default kernels'}) failed:\n"
                                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return stage / "_build" / "html"


def book_preset() -> str:
    preset = os.environ.get("CAMFORMER_BOOK_PRESET", "smoke")
    if preset not in BOOK_PRESETS:
        raise pytest.UsageError(f"CAMFORMER_BOOK_PRESET={preset!r}: choose one of {', '.join(BOOK_PRESETS)}")
    return preset


def pytest_configure(config) -> None:
    book_preset()  # a wrong value stops the session before any work, with one line


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> BuiltBook:
    given = os.environ.get("CAMFORMER_BOOK_HTML")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").exists(), f"CAMFORMER_BOOK_HTML={given} holds no built book"
        return BuiltBook(path)
    preset, work = book_preset(), tmp_path_factory.mktemp("book")
    html = build_book(preset, work / "results", work / "stage")
    return BuiltBook(html, preset, work / "results")


@pytest.fixture(scope="session")
def smoke_results_default_kernels(built_book: BuiltBook, tmp_path_factory) -> Path:
    """Results of a whole smoke book executed with the default kernels: the session's book where it is one."""
    if built_book.preset == "smoke":
        return built_book.results
    work = tmp_path_factory.mktemp("smoke_default")
    build_book("smoke", work / "results", work / "stage", html=False)
    return work / "results"
