"""The same conclusions on every CPU: the smoke book built with two sets of CPU kernels.

Vectorised kernels differ in the last bits between instruction sets, so two builds on CPUs with
AVX-512 and with only AVX2 give slightly different numbers. ``ATEN_CPU_CAPABILITY=avx2
ONEDNN_MAX_CPU_ISA=AVX2`` makes this machine compute as an AVX2-only CPU does (bit for bit, and
slower). The test compares two builds of the whole book on the ``smoke`` preset (seconds a
chapter; its models are three small Micro): the session's book (``tests/conftest.py``), built with
the default kernels, and one built here with AVX2 kernels, each build training and explaining its
own models. The records must agree by the rules of :mod:`camformer.records.agreement`:
equal conclusions (words, booleans, ranks, counts), each number with an interval inside the other
build's interval, per-model values listed but not judged. The quick preset's whole book, compared
the same way, is in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AVX2, build_book, kernel_environment

from camformer.records.agreement import compare_records, compare_results
from camformer.records.report import load_records

REPO_ROOT = Path(__file__).resolve().parent.parent
TRAINING_SECTIONS = ["training", "heldout_split"]  # what chapter 03 records


def test_a_smoke_build_executes_chapters_without_building_html(tmp_path: Path):
    # The introduction alone, on no records: it runs on the smoke preset and says so.
    import json

    stage = tmp_path / "stage"
    command = [sys.executable, str(REPO_ROOT / "book" / "build.py"), "--preset", "smoke", "--no-html",
               "--results-dir", str(tmp_path / "results"), "--stage-dir", str(stage), "--only", "00_intro"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=kernel_environment({}), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "--no-html: no book built" in result.stdout
    assert not (stage / "_build").exists() and (tmp_path / "results" / "smoke" / "timings.csv").is_file()
    cells = json.loads((stage / "notebooks" / "00_intro.ipynb").read_text())["cells"]
    shown = "".join("".join(out.get("data", {}).get("text/markdown", ""))
                    for cell in cells for out in cell.get("outputs", []))
    assert "Preset: `smoke`" in shown and "No numbers were recorded on this preset." in shown


def test_the_avx2_setting_reaches_torch():
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", probe], env=kernel_environment(AVX2), capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "AVX2"


def _assert_agree(agreement) -> None:
    print(agreement.summary())
    assert agreement.ok, (f"{agreement.summary()}\n"
                          + "\n".join(f"{r.section}.{r.key}: {r.a!r} vs {r.b!r} ({r.note})"
                                      for r in agreement.disagreements.itertuples()))


@pytest.mark.slow
def test_two_kernel_sets_reach_the_same_conclusions(tmp_path: Path, smoke_results_default_kernels: Path):
    """The whole smoke book built twice, once with the default kernels and once with AVX2 kernels,
    each build training its own seed ensemble (chapter 03) and grid slice (chapter 07) and
    explaining its own models (chapters 10-14). A model trained under other kernels is another
    model, so only what every model of an ensemble shows is concluded, and those conclusions must
    be equal; per-model values (keys ending in ``_models``) are listed, not judged. The quick
    preset's whole book, compared the same way, is in benchmarks/RESULTS.md."""
    default, avx2 = smoke_results_default_kernels, tmp_path / "avx2"  # the first: the session's smoke book
    build_book("smoke", avx2, tmp_path / "stage_avx2", AVX2, html=False)
    records = [load_records(results, "smoke") for results in (default, avx2)]
    # Each build trained its own models: their held-out predictions differ in the last bits at least.
    per_model = [r.set_index(["section", "key"]).loc[("training", "heldout_pearson_models"), "value"]
                 for r in records]
    assert len(per_model[0]) == len(per_model[1]) >= 3 and per_model[0] != per_model[1]
    training = compare_records(*(r[r["section"].isin(TRAINING_SECTIONS)] for r in records))
    _assert_agree(training)
    assert len(training.table) >= 10
    agreement = compare_results(default, avx2, "smoke")
    print(agreement.summary())
    table = agreement.table[agreement.table["judged"]]
    # Every conclusion (verdict words, decided flags, counts, ranks) is equal.
    conclusions = table[table["kind"] != "interval"]
    differ = conclusions[~conclusions["agrees"].astype(bool)]
    assert differ.empty, "\n".join(f"{r.section}.{r.key}: {r.a!r} vs {r.b!r} ({r.note})" for r in differ.itertuples())
    # Numbers: a mean over three models with its between-model t interval is itself noisy, and even
    # two estimates of one quantity fall outside each other's 95% intervals more often than 5% of the
    # time (the quick book's comparison, benchmarks/RESULTS.md: 4 of 68), so most, not all, must.
    numbers = table[table["kind"] == "interval"]
    assert len(numbers) >= 30 and numbers["agrees"].astype(bool).mean() >= 0.9, numbers[~numbers["agrees"].astype(bool)]
    # The explaining chapters' ensemble verdicts are among the records compared.
    for section in ("embedding", "gradcam", "ism", "motifs_model"):
        assert table["key"][table["section"] == section].str.endswith("_verdict").any(), section
    # The audit's verdicts are among the records compared: each item gets the same verdict.
    assert (table["section"] == "audit").sum() >= 30
