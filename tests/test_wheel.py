"""``pip install .`` from a wheel: the wheel holds every module and resource of the package, and a
fresh virtual environment with only the wheel installed (its dependencies taken from this
environment) imports every subpackage and module from it and runs the ``camformer`` command.

Built offline: ``pip wheel --no-build-isolation`` uses this environment's setuptools, from a copy
of the files the build reads (so that no ``build/`` or ``*.egg-info`` lands in the checkout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "camformer"

pytestmark = pytest.mark.slow  # a wheel build, a venv and torch imported: about half a minute


def package_files() -> set[str]:
    """What the wheel must hold: every module and every resource file, as ``camformer/...`` paths."""
    return {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "camformer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(out), str(src)], check=True, capture_output=True, text=True)
    (found,) = out.glob("camformer-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; a ``.pth`` file lends it this environment's dependencies
    (appended to ``sys.path``, so the wheel's camformer comes first, and this environment's own
    ``.pth`` files, an editable camformer among them, are not run)."""
    env = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return env


def run_in(env: Path, *command: str, tmp: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp, env=clean, timeout=300)


def test_the_wheel_holds_every_module_and_resource(wheel):
    with zipfile.ZipFile(wheel) as archive:
        held = {n for n in archive.namelist() if n.startswith("camformer/")}
        entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "camformer = camformer.cli.main:main" in archive.read(entry_points).decode()
    assert held == package_files()


def test_a_fresh_venv_imports_every_module_from_the_wheel(venv, tmp_path):
    names = module_names()
    assert {"camformer.data", "camformer.stats", "camformer.cli.main"} <= set(names)
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "import camformer\n"
            "print(camformer.__file__)\n")
    out = run_in(venv, str(venv / "bin" / "python"), "-c", code, tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(venv), f"camformer came from {out.stdout.strip()}, not the wheel"


def test_the_console_command_runs_from_the_wheel(venv, tmp_path):
    from camformer import __version__

    out = run_in(venv, str(venv / "bin" / "camformer"), "--version", tmp=tmp_path)
    assert (out.returncode, out.stdout.strip()) == (0, f"camformer {__version__}"), out.stderr
    out = run_in(venv, str(venv / "bin" / "camformer"), "predict", "--batch-size", "0", tmp=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
