"""The online book's path (the Pages build), rehearsed offline by ``book/rehearse_online.py``: a
chapter downloads a Camformer Original archive, built by the authors' code, from 127.0.0.1, loads
it (checksum pin, safe unpickling, layer check, conversion, self-check) and explains it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_chapter_explains_the_served_original_and_says_it_is_a_stand_in(tmp_path: Path):
    """Chapter 12 on the smoke preset: ISM (by the receptive-field method) of the served Original."""
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "book" / "rehearse_online.py"), "--work", str(tmp_path / "work"),
         "--preset", "smoke", "--only", "12_ism", "--no-html", "--results-dir", str(tmp_path / "results"),
         "--stage-dir", str(tmp_path / "stage")],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "WARNING" not in run.stderr  # the archive was not refused
    cells = json.loads((tmp_path / "stage" / "notebooks" / "12_ism.ipynb").read_text())["cells"]
    shown = "".join("".join(out.get("data", {}).get("text/markdown", "")) + "".join(out.get("text", ""))
                    for cell in cells for out in cell.get("outputs", []))
    assert "**A rehearsal, not the paper's model.**" in shown
    assert "**This chapter explains Camformer Original (published, seed 42)**" in shown
    assert "model: original, encoding onehot" in shown  # the ISM ran on the served Original
    assert (tmp_path / "work" / "cache" / "sblab-camformer" / "Camformer_9.tar.gz").exists()
