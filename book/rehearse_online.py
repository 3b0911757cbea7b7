"""Rehearse the online book (the Pages build) offline: chapters explain a published-architecture
model downloaded from 127.0.0.1, as the Pages build downloads the paper's from the authors' site.

The paper's weights cannot be downloaded here, so the archives are *stand-ins*: built and saved
with the authors' own classes as their JSON configs build them (``tests/authors_archives.py``),
with random weights, laid out as the authors' tarballs. Everything else is the online path: the
download and its pinned checksum, the safe unpickling, the layer check, the conversion, the
self-check, and chapters 10–14 explaining a 16.6M-parameter Camformer Original. The self-check
compares with a stand-in of the published predictions (``$CAMFORMER_STAND_IN_PREDICTIONS``): the
bundled file with the rows the self-check draws replaced by the stand-in's own predictions; each
page that explains the stand-in says so in a warning box. Nothing of a rehearsal is published.

    python book/rehearse_online.py --preset quick                  # the whole book, timed
    python book/rehearse_online.py --preset smoke --only 12_ism --no-html --results-dir R --stage-dir S

Any option after the rehearsal's own goes to ``book/build.py``. Exit code: the build's.
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from authors_archives import authors_code, authors_package, build_archive  # noqa: E402
from screenshot import serve  # noqa: E402  (book/ is this script's folder: its sibling)

from camformer.data import dream
from camformer.paper import published  # noqa: E402
from camformer.records.book import explained_models  # noqa: E402
from camformer.models.inference import predict  # noqa: E402

# How many test sequences camformer.records.book.explained_models has the self-check compare (its check_n).
CHECK_N = inspect.signature(explained_models).parameters["check_n"].default


def stand_in_archives(work: Path, seed: int = 0) -> Path:
    """``work/archives/Camformer_{9,219}.tar.gz``, random weights saved by the authors' code."""
    archives = work / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    code = work / "authors_code"
    if not (code / "base").exists():
        code.mkdir(parents=True, exist_ok=True)
        authors_package(code)
    with authors_code(code):
        for name in published.PUBLISHED:
            build_archive(name, archives, seed)
    return archives


def stand_in_predictions(archives: Path, out: Path, check_n: int = CHECK_N, seed: int = 0) -> Path:
    """The bundled published predictions with the ``check_n`` rows that :func:`camformer.paper.published.
    self_check` draws (its ``seed``) replaced by each stand-in's own predictions."""
    table = dream.load_published_predictions(dream.resource_path("camformer_published_predictions.tsv.gz"))
    test = dream.test_set_data()
    rows = np.flatnonzero(np.isin(test.ids, table["id"].to_numpy()))
    rows = np.sort(np.random.default_rng(seed).choice(rows, size=check_n, replace=False))
    where = table.set_index("id").index.get_indexer(test.ids[rows])
    for name, spec in published.PUBLISHED.items():
        model = published.model_from_archive(archives / spec.file, name)
        table.loc[where, spec.name] = predict(model, test.codes[rows], model.encoding)
    table.to_csv(out, sep="\t", index=False)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Other options are passed to book/build.py.")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "_build" / "rehearsal",
                        help="folder for the stand-in archives, their download cache and predictions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stand-ins' random weights")
    args, build_args = parser.parse_known_args(argv)
    work = args.work.resolve()
    shutil.rmtree(work / "cache", ignore_errors=True)  # new archives: their checksums are pinned afresh
    archives = stand_in_archives(work, args.seed)
    predictions = stand_in_predictions(archives, work / "stand_in_predictions.tsv.gz")
    with serve(archives) as url:
        env = {**os.environ, published.MIRROR_ENV: url, dream.STAND_IN_PREDICTIONS_ENV: str(predictions),
               "CAMFORMER_DATA_DIR": str(work / "cache"), "NO_PROXY": "127.0.0.1,localhost"}
        env.pop(published.OFFLINE_ENV, None)
        print(f"rehearsal: stand-in archives served from {url}; predictions {predictions}", flush=True)
        return subprocess.run([sys.executable, str(REPO_ROOT / "book" / "build.py"), *build_args],
                              env=env, cwd=REPO_ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
