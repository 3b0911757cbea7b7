"""The book's training and interpretation chapters idle and beside a busy core: how much longer they take.

A busy core (another job on a CI runner, a neighbour in a container) used to stall the book:
chapter 07 took 1,149 s instead of about 200 s in one CI run, because torch's two intra-op
threads wait on each other after every operation. The chapters now run their independent jobs
(chapter 03's seed ensemble, chapter 07's grid slice, the models that chapters 10-14 explain) in
one-thread worker processes (:mod:`camformer.training.workers`), as many as the CPU budget holds.
This benchmark runs each chapter's work as the chapter calls it, in a fresh process, twice in one
run: with nothing else started, and beside one busy-looping Python process, and reports the ratio
(the project's target: at most 2.5).

* ``training``: :func:`camformer.training.presets.run_seeds` of the quick preset's seeds
  (:func:`camformer.records.book.ensemble_seeds`) on ``--train-size`` training sequences of its split;
* ``grid slice``: :func:`camformer.training.grid.retrain_grid` of chapter 07's plan on the quick preset
  (:func:`camformer.training.grid.slice_plan`), with its first ``--grid-seeds`` seeds;
* with ``--explaining DIR``, the interpretation chapters 10, 11, 12 and 14 themselves, each run by
  ``book/build.py --only`` on a copy of ``DIR`` (the results folder of a quick build: its seed
  ensemble), as the book runs them (:meth:`camformer.records.book.Explaining.each_model`).

The sizes only scale both conditions alike; the jobs, workers and threads are the chapters'.

    python benchmarks/bench_busy_chapters.py [--train-size 8000] [--grid-seeds 10] [--explaining results] [--results benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_busy_core import child_env, machine, spinning  # noqa: E402
from bench_common import write_section  # noqa: E402

SECTION = "## The training and interpretation chapters beside a busy core (`bench_busy_chapters.py`)"
TARGET = 2.5


def training(train_size: int) -> float:
    """Seconds of chapter 03's training call on ``train_size`` sequences (run in the child)."""
    from camformer.records.book import ensemble_seeds
    from camformer.training.presets import quick_data, run_seeds
    from camformer.training.train import TrainConfig

    config = TrainConfig.preset("quick", progress=False)
    data = quick_data(train_size, config.val_size, config.test_size, seed=config.seed)
    start = time.perf_counter()
    run_seeds(config, ensemble_seeds("quick"), data, threads=1)
    return time.perf_counter() - start


def grid_slice(n_seeds: int) -> float:
    """Seconds of chapter 07's retraining call with its first ``n_seeds`` seeds (run in the child)."""
    from camformer.training.grid import retrain_grid, slice_plan
    from camformer.training.presets import quick_data

    plan = slice_plan("quick")
    base = plan.base
    data = quick_data(base.train_size, base.val_size, base.test_size, seed=base.seed)
    start = time.perf_counter()
    retrain_grid(list(plan.runs), plan.seeds[:n_seeds], base, data, progress=False, architecture=plan.architecture)
    return time.perf_counter() - start


EXPLAINING = ("10_embedding", "11_gradcam", "12_ism", "14_motif_model")


def explaining_chapters(book_results: Path) -> dict[str, float]:
    """Seconds of each of :data:`EXPLAINING`, run by ``book/build.py`` on a copy of ``book_results``."""
    import csv
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="camformer-busy-") as scratch:
        results = Path(scratch) / "results"
        shutil.copytree(book_results / "quick", results / "quick")
        out = subprocess.run([sys.executable, str(ROOT / "book" / "build.py"), "--preset", "quick", "--no-html",
                              "--only", *EXPLAINING, "--results-dir", str(results),
                              "--stage-dir", str(Path(scratch) / "stage")], env=child_env(), capture_output=True,
                             text=True)
        if out.returncode:
            raise SystemExit(f"the chapters failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        with (results / "quick" / "timings.csv").open() as f:
            seconds = {row["chapter"]: float(row["seconds"]) for row in csv.DictReader(f)}
    return {name: seconds[name] for name in EXPLAINING}


def run_child(work: str, size: int) -> float:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", work, str(size)], env=child_env(),
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the {work} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-size", type=int, default=8000, help="training sequences of each seed's run")
    parser.add_argument("--grid-seeds", type=int, default=10, help="seeds of chapter 07's slice (it has 10)")
    parser.add_argument("--explaining", type=Path, default=None, metavar="DIR",
                        help="also time chapters 10, 11, 12 and 14 on the quick ensemble of this results folder")
    parser.add_argument("--results", type=Path, default=None, help="write the section into this RESULTS.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        work, size = args.child[0], int(args.child[1])
        print(json.dumps({"seconds": training(size) if work == "training" else grid_slice(size)}))
        return 0
    if args.train_size < 64 or not 1 <= args.grid_seeds <= 10:
        parser.error("--train-size must be at least 64 and --grid-seeds 1 to 10")
    if args.explaining is not None and not (args.explaining / "quick" / "ensemble.json").is_file():
        parser.error(f"--explaining {args.explaining}: no quick seed ensemble there (build the book first: make book)")
    rows = []
    for work, size, what in (("training", args.train_size, f"03: 3 seeds x {args.train_size:,} sequences x 2 epochs"),
                             ("grid", args.grid_seeds, f"07: {args.grid_seeds} seeds x 4 recipes")):
        idle = run_child(work, size)
        with spinning():
            busy = run_child(work, size)
        rows.append((what, idle, busy))
    if args.explaining is not None:
        idle = explaining_chapters(args.explaining)
        with spinning():
            busy = explaining_chapters(args.explaining)
        rows += [(f"{name}: the whole chapter, 3 models", idle[name], busy[name]) for name in EXPLAINING]
    command = (f"python benchmarks/bench_busy_chapters.py --train-size {args.train_size} --grid-seeds {args.grid_seeds}"
               + (f" --explaining {args.explaining}" if args.explaining is not None else ""))
    lines = [SECTION, "", f"`{command}`. Machine: {machine()}; torch threads per run 1 (the chapters' workers); "
             f"default kernels. Each cell is a fresh process; \"busy\" runs beside one busy-looping Python process.",
             "", "| chapter's work | idle, s | one core busy, s | busy / idle | within 2.5x |",
             "|---|---:|---:|---:|---|"]
    for what, idle, busy in rows:
        lines.append(f"| {what} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f} | "
                     f"{'yes' if busy / idle <= TARGET else '**no**'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        write_section(args.results, SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
