"""The same conclusions on every CPU: the smoke book built with two sets of CPU kernels.

Vectorised kernels differ in the last bits between instruction sets, so two builds on CPUs with
AVX-512 and with only AVX2 give slightly different numbers. ``ATEN_CPU_CAPABILITY=avx2
ONEDNN_MAX_CPU_ISA=AVX2`` makes this machine compute as an AVX2-only CPU does (bit for bit, and
slower). The test builds the whole book on the ``smoke`` preset (seconds a chapter; its model is a
small Micro) with the default kernels; then chapter 03 alone with AVX2 kernels, which trains the
model again; then every other chapter with AVX2 kernels on the default build's model. The records
of each pair must agree by the rules of :mod:`camformer.agreement`: equal conclusions (words,
booleans, ranks, counts), each number with an interval inside the other build's interval. The
quick preset's whole book, each build training its own model, is compared in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# pytest puts tests/ on sys.path; test_book loads book/'s scripts
from test_book import build

from camformer.agreement import compare_records, compare_results
from camformer.report import load_records

REPO_ROOT = Path(__file__).resolve().parent.parent
AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
TRAINING_SECTIONS = ["training", "heldout_split"]  # what chapter 03 records


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in AVX2}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


def _build(results: Path, stage: Path, extra: dict[str, str], only: list[str] | None = None) -> None:
    command = [sys.executable, str(REPO_ROOT / "book" / "build.py"), "--preset", "smoke", "--no-html",
               "--results-dir", str(results), "--stage-dir", str(stage), *(["--only", *only] if only else [])]
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


def _assert_agree(agreement) -> None:
    print(agreement.summary())
    assert agreement.ok, (f"{agreement.summary()}\n"
                          + "\n".join(f"{r.section}.{r.key}: {r.a!r} vs {r.b!r} ({r.note})"
                                      for r in agreement.disagreements.itertuples()))


@pytest.mark.slow
def test_two_kernel_sets_reach_the_same_conclusions(tmp_path: Path):
    """Two questions, each on the smoke book. (1) Does training reach the same conclusions? Chapter 03
    trains the book's model under both kernel sets (and chapter 07 its grid slice, within the builds
    below). (2) Given one trained model, do the chapters that explain it conclude the same? The AVX2
    build explains the model the default build trained: a model trained on 1,024 sequences for two
    epochs is a different model after any change in the last bits (its Grad-CAM maps and embedding
    with it), and what these chapters conclude is about the model they explain. The quick preset's
    whole book, each build training its own model, is compared in benchmarks/RESULTS.md."""
    import shutil

    _build(tmp_path / "default", tmp_path / "stage_default", {})
    trained = tmp_path / "avx2_training"
    _build(trained, tmp_path / "stage_training", AVX2, only=["03_training"])
    records = [load_records(results, "smoke") for results in (tmp_path / "default", trained)]
    training = compare_records(*(r[r["section"].isin(TRAINING_SECTIONS)] for r in records))
    _assert_agree(training)
    assert len(training.table) >= 10
    # the AVX2 build: every chapter after training, on the default build's model
    shutil.copytree(tmp_path / "default", tmp_path / "avx2")
    later = [page.name for page in build.execution_order(build.toc_pages()) if page.name != "03_training"]
    _build(tmp_path / "avx2", tmp_path / "stage_avx2", AVX2, only=later)
    agreement = compare_results(tmp_path / "default", tmp_path / "avx2", "smoke")
    _assert_agree(agreement)
    # The audit's verdicts are among the records compared: each item gets the same verdict.
    judged = agreement.table[agreement.table["judged"]]
    assert (judged["section"] == "audit").sum() >= 30
