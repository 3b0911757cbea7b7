"""The install: compatible ranges in the package, the exact tested set in constraints.txt."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _requirements(extras: bool = True) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    if extras:
        lines += [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(line) for line in lines]


def _constraints() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_package_requirements_are_ranges_not_pins():
    pinned = [str(r) for r in _requirements(extras=False) if any(s.operator == "==" for s in r.specifier)]
    assert pinned == [], f"exact pins in [project].dependencies force versions on users: {pinned}"


@pytest.mark.parametrize("version", ["2.5.0", "2.5.1", "2.7.0", "2.13.0"])
def test_another_torch_2_is_accepted(version):
    torch = next(r for r in _requirements(extras=False) if r.name == "torch")
    assert torch.specifier.contains(version)
    assert not torch.specifier.contains("3.0.0")


def test_the_tested_set_satisfies_the_ranges_and_pins_torch():
    pins = _constraints()
    assert pins["torch"] == Version("2.13.0")
    assert Version("1.0.4") <= pins["jupyter-book"] < Version("2")  # version 2 cannot build offline
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        if name in pins:
            assert requirement.specifier.contains(pins[name]), f"constraints.txt pins {name}=={pins[name]}, outside {requirement}"
    missing = [r.name for r in _requirements() if canonicalize_name(r.name) not in pins and r.name != "tangermeme"]
    assert missing == [], f"not pinned in constraints.txt: {missing}"


def test_make_and_binder_install_with_the_constraints():
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()
    assert "-c constraints.txt" in (ROOT / "postBuild").read_text()


def test_colab_cells_install_the_package_with_its_dependencies():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = path.read_text()
        assert "git+https://github.com/camformer/camformer" in text, path.name
        assert "--no-deps" not in text, path.name
