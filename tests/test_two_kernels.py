"""The same conclusions on every CPU: the smoke book built twice, with two sets of CPU kernels.

Vectorised kernels differ in the last bits between instruction sets, so two builds on CPUs with
AVX-512 and with only AVX2 give slightly different numbers. ``ATEN_CPU_CAPABILITY=avx2
ONEDNN_MAX_CPU_ISA=AVX2`` makes this machine compute as an AVX2-only CPU does (bit for bit, and
slower). The test executes the chapters of :data:`SMOKE_CHAPTERS` on the ``smoke`` preset once with
the default kernels and once with AVX2 kernels, into two results folders, and requires that the two
builds' records agree by the rules of :mod:`camformer.agreement`: equal conclusions (words,
booleans, ranks, counts), each number with an interval inside the other build's interval.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from camformer.agreement import compare_results

REPO_ROOT = Path(__file__).resolve().parent.parent
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}

# The chapters that run on the smoke preset (in seconds each), in any order: build.py runs them in
# the book's order, the audit and the introduction last. Add a chapter here once it runs on smoke.
SMOKE_CHAPTERS = [
    "01_data", "02_architecture", "04_performance", "05_leaderboard", "06_grid", "08_native", "09_bootstrap",
    "13_motifs", "15_audit", "00_intro",
]


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in AVX2}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def _build(results: Path, stage: Path, extra: dict[str, str]) -> None:
    command = [sys.executable, str(REPO_ROOT / "book" / "build.py"), "--preset", "smoke", "--no-html",
               "--results-dir", str(results), "--stage-dir", str(stage), "--only", *SMOKE_CHAPTERS]
    result = subprocess.run(command, cwd=REPO_ROOT, env=_environment(extra), capture_output=True, text=True)
    assert result.returncode == 0, (f"smoke build ({extra or 'default kernels'}) failed:\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def test_a_smoke_build_executes_chapters_without_building_html(tmp_path: Path):
    # The introduction alone, on no records: it runs on the smoke preset and says so.
    import json

    stage = tmp_path / "stage"
    command = [sys.executable, str(REPO_ROOT / "book" / "build.py"), "--preset", "smoke", "--no-html",
               "--results-dir", str(tmp_path / "results"), "--stage-dir", str(stage), "--only", "00_intro"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=_environment({}), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--no-html: no book built" in result.stdout
    assert not (stage / "_build").exists() and (tmp_path / "results" / "smoke" / "timings.csv").is_file()
    cells = json.loads((stage / "notebooks" / "00_intro.ipynb").read_text())["cells"]
    shown = "".join("".join(out.get("data", {}).get("text/markdown", ""))
                    for cell in cells for out in cell.get("outputs", []))
    assert "Preset: `smoke`" in shown and "No numbers were recorded on this preset." in shown


def test_the_avx2_setting_reaches_torch():
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", probe], env=_environment(AVX2), capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "AVX2"


@pytest.mark.slow
def test_two_kernel_sets_reach_the_same_conclusions(tmp_path: Path):
    for name, extra in (("default", {}), ("avx2", AVX2)):
        _build(tmp_path / name, tmp_path / f"stage_{name}", extra)
    agreement = compare_results(tmp_path / "default", tmp_path / "avx2", "smoke")
    print(agreement.summary())
    assert agreement.ok, (f"{agreement.summary()}\n"
                          + agreement.markdown(("default kernels", "AVX2 kernels")).split("\n", 2)[0] + "\n"
                          + "\n".join(f"{r.section}.{r.key}: {r.a!r} vs {r.b!r} ({r.note})"
                                      for r in agreement.disagreements.itertuples()))
    # The audit's verdicts are among the records compared: each item gets the same verdict.
    judged = agreement.table[agreement.table["judged"]]
    assert (judged["section"] == "audit").sum() >= 30
