"""Training throughput on a busy or quota-limited CPU: torch's default threads against threads
from the CPU budget, and against independent one-thread workers, side by side.

The workload is Camformer Micro trained by :func:`camformer.training.train.train` at batch 64 on random
sequences (the quick preset's model, batch and encoding, fp32); the throughput is the
``seq_per_s`` the loop logs for its last epoch (the first warms up). Each measurement is a fresh
process, so that torch's thread pool starts as it would in a new kernel, in three conditions:

* **alone**: nothing else started by the benchmark;
* **beside a spinning process**: one busy-looping Python process runs for the whole measurement,
  as in the CI run where chapter 07 took 1,149 s instead of about 200 s;
* **in a 1-CPU-quota cgroup** (needs root and a writable cgroup; left out otherwise): the
  process joins a new cgroup whose quota is one CPU per period, as Binder and other containers
  give (:func:`camformer.training.cpu_budget.quota_cgroup`).

and three thread settings: torch's default (its count of the visible cores), the CPU budget's
count (:func:`camformer.training.cpu_budget.cpu_budget`, read inside the process: the quota included),
and as many one-thread workers as the budget holds, run at once, their throughputs summed (how
:mod:`camformer.training.workers` runs the grid slice and seeds).

    python benchmarks/bench_busy_core.py [--steps 30] [--results benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## A busy core and a CPU quota: threads from the budget (`bench_busy_core.py`)"


def measure(threads: str, steps: int) -> dict:
    """Run in the child: train Micro for two epochs of ``steps`` batches of 64 at ``threads``
    (``"default"``: torch's own count; ``"budget"``: the CPU budget's; or a number)."""
    import numpy as np
    import torch

    from camformer.training.cpu_budget import cpu_budget
    from camformer.data.dream import SequenceData
    from camformer.models.networks import ModelConfig, build_model
    from camformer.training.train import TrainConfig, train

    count = {"default": torch.get_num_threads(), "budget": cpu_budget().cpus}.get(threads)
    count = int(threads) if count is None else count
    rng = np.random.default_rng(0)

    def split(n):
        codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
        return SequenceData(codes, rng.normal(size=n).astype(np.float32), np.arange(n, dtype=np.int64))

    data = {"train": split(64 * steps), "val": split(256)}
    config = TrainConfig(model="micro", encoding="onehotWithP", batch_size=64, max_epochs=2, patience=2,
                         loss="Huber", scheduler="None", amp="off", compile="off", device="cpu", progress=False,
                         num_threads=count, eval_batch_size=256)
    result = train(build_model(ModelConfig("micro", 5)), data, config)
    return {"threads": count, "seq_per_s": float(result.history["seq_per_s"].iloc[-1])}


def child_command(threads: str, steps: int, procs: Path | None) -> list[str]:
    """The command of one measuring process; with ``procs`` it first joins that cgroup."""
    python = [sys.executable, str(Path(__file__).resolve()), "--child", threads, "--steps", str(steps)]
    if procs is None:
        return python
    return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *python]


def child_env() -> dict[str, str]:
    """This process's environment with the repository importable: for a benchmark's child processes."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_children(commands: list[list[str]]) -> list[dict]:
    """Start the commands at once; their JSON results in order."""
    env = child_env()
    env.pop("CAMFORMER_CPUS", None)
    children = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for c in commands]
    results = []
    for child in children:
        out, err = child.communicate()
        if child.returncode:
            raise SystemExit(f"a measuring process failed:\n{err}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@contextmanager
def spinning(procs: Path | None = None):
    """One busy-looping process for the duration (in the cgroup ``procs`` when given)."""
    spin = [sys.executable, "-c", "while True: pass"]
    if procs is not None:
        spin = ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh", *spin]
    process = subprocess.Popen(spin)
    try:
        yield
    finally:
        process.kill()
        process.wait()


def condition_row(name: str, steps: int, procs: Path | None) -> dict:
    """The three thread settings in one condition."""
    default = run_children([child_command("default", steps, procs)])[0]
    budget = run_children([child_command("budget", steps, procs)])[0]
    workers = max(1, budget["threads"])
    side_by_side = run_children([child_command("1", steps, procs) for _ in range(workers)])
    return {"condition": name, "default": default, "budget": budget, "workers": workers,
            "workers_seq_per_s": sum(r["seq_per_s"] for r in side_by_side)}


def machine() -> str:
    """``lscpu``'s model name and the vector flags that matter here."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown CPU (no lscpu)"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model name")),
                 "unknown CPU")
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("Flags")), []))
    shown = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model}, {len(os.sched_getaffinity(0))} CPUs in the affinity mask, flags: {', '.join(shown) or 'none'}"


def table(rows: list[dict]) -> str:
    lines = ["| condition | torch default | budget threads | budget workers x 1 thread | budget / default | "
             "workers / default |", "|---|---|---|---|---|---|"]
    for r in rows:
        d, b, w = r["default"]["seq_per_s"], r["budget"]["seq_per_s"], r["workers_seq_per_s"]
        lines.append(f"| {r['condition']} | {d:,.0f} seq/s ({r['default']['threads']} threads) | {b:,.0f} seq/s "
                     f"({r['budget']['threads']}) | {w:,.0f} seq/s ({r['workers']} x 1) | {b / d:.2f} | "
                     f"{w / d:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="batches of 64 per epoch (two epochs)")
    parser.add_argument("--results", type=Path, default=None, help="write the section into this RESULTS.md")
    parser.add_argument("--note", default="", help="a sentence about the machine's load, for the section")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps {args.steps}: at least 2")
    if args.child is not None:
        print(json.dumps(measure(args.child, args.steps)))
        return 0
    from camformer.training.cpu_budget import quota_cgroup

    rows = [condition_row("alone", args.steps, None)]
    with spinning():
        rows.append(condition_row("beside a spinning process", args.steps, None))
    with ExitStack() as stack:
        try:
            procs = stack.enter_context(quota_cgroup(1.0))
        except OSError as error:
            print(f"no 1-CPU-quota cgroup: {error}", file=sys.stderr)
        else:
            rows.append(condition_row("in a 1-CPU-quota cgroup", args.steps, procs))
    text = table(rows)
    print(machine())
    print(text)
    if args.results is not None:
        from bench_common import write_section

        import torch

        write_section(args.results, SECTION, f"{SECTION}\n\n`python benchmarks/bench_busy_core.py --steps "
                      f"{args.steps}`, Camformer Micro trained at batch 64 (fp32, `onehotWithP`), each cell a "
                      f"fresh process, the last of two epochs of {args.steps} batches. Machine: {machine()}; "
                      f"torch {torch.__version__}. {args.note}\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
