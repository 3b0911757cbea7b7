"""camformer.training.workers: independent runs in worker processes at a fixed thread count, and the
training loop's thread default from the CPU budget. A run trained beside another worker has the
bits of the same run trained alone."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import camformer.training.train as train_module
from camformer.training.cpu_budget import CpuBudget
from camformer.data.dream import SequenceData
from camformer.training.grid import retrain_grid, slice_plan
from camformer.models.networks import ModelConfig, build_model
from camformer.training.train import TrainConfig, train
from camformer.training.workers import TrainRun, map_in_workers, train_runs, worker_count


def toy_data(n: int, seed: int) -> SequenceData:
    """Random sequences whose target is their GC fraction plus noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
    gc = ((codes == 1) | (codes == 2)).mean(1)
    targets = (10 * (gc - 0.5) + rng.normal(0, 0.2, n)).astype(np.float32)
    return SequenceData(codes, targets, np.arange(n, dtype=np.int64) + 1000 * seed)


DATA = {"train": toy_data(192, 0), "val": toy_data(64, 1), "test": toy_data(64, 2)}
# Micro, a few steps: seconds per run on one thread.
TINY = TrainConfig(model="micro", encoding="onehotWithP", batch_size=32, max_epochs=2, patience=2,
                   steps_per_epoch=3, loss="MSE", scheduler="None", amp="off", compile="off", device="cpu",
                   progress=False, eval_batch_size=64)
MICRO = ModelConfig("micro", 5)


def job_facts(job: int, shared: int) -> tuple[int, int, int]:
    return job * shared, torch.get_num_threads(), os.getpid()


def fail_on_two(job: int, shared) -> int:
    if job == 2:
        raise ValueError("job 2 is bad")
    return job


def pool_threads(job: int, shared) -> tuple[list, str | None]:
    """The thread count of every thread pool of a worker, after a job that loads scikit-learn's OpenMP."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_info

    TSNE(2, perplexity=5, init="random", random_state=job).fit_transform(np.random.default_rng(job).normal(size=(30, 3)))
    return [(pool["user_api"], pool["num_threads"]) for pool in threadpool_info()], os.environ.get("OMP_NUM_THREADS")


def test_a_workers_other_thread_pools_run_at_its_thread_count():
    # t-SNE's OpenMP (scikit-learn's own runtime, loaded by the job) and numpy's BLAS, not only torch's
    for pools, omp in map_in_workers(pool_threads, [0, 1], workers=2, threads=1):
        assert omp == "1" and {"openmp", "blas"} <= {api for api, _ in pools}, pools
        assert all(n == 1 for _, n in pools), pools


def test_worker_count_follows_the_budget():
    assert worker_count(jobs=40, threads=1, cpus=2) == 2
    assert worker_count(jobs=1, threads=1, cpus=16) == 1
    assert worker_count(jobs=40, threads=2, cpus=5) == 2
    assert worker_count(jobs=40, threads=4, cpus=2) == 1  # never 0
    with pytest.raises(ValueError, match="at least 1 thread"):
        worker_count(3, threads=0, cpus=2)


def test_map_in_workers_keeps_the_order_and_the_thread_count():
    results = map_in_workers(job_facts, [3, 1, 2, 5], workers=2, threads=1, shared=10)
    assert [r[0] for r in results] == [30, 10, 20, 50]
    assert {r[1] for r in results} == {1}
    assert os.getpid() not in {r[2] for r in results}
    with pytest.raises(ValueError, match="job 2 is bad"):
        map_in_workers(fail_on_two, [1, 2, 3], workers=2)


def test_one_worker_runs_here_and_restores_the_threads():
    torch.set_num_threads(2)
    try:
        results = map_in_workers(job_facts, [1, 2], workers=1, threads=1, shared=1)
        assert [r[1:] for r in results] == [(1, os.getpid())] * 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    with pytest.raises(ValueError, match="workers = 0"):
        map_in_workers(job_facts, [1], workers=0)


def test_a_run_beside_another_worker_has_the_bits_of_the_run_alone():
    runs = [TrainRun(MICRO, replace(TINY, seed=1)), TrainRun(MICRO, replace(TINY, seed=2, loss="L1"))]
    alone = train_runs(runs[:1], DATA, workers=1, threads=1)[0]
    beside = train_runs(runs, DATA, workers=2, threads=1)
    assert [r.metrics["threads"] for r in beside] == [1, 1]
    for key, value in alone.best_state.items():
        assert torch.equal(value, beside[0].best_state[key]), key
    assert alone.metrics["test_pearson"] == beside[0].metrics["test_pearson"]
    np.testing.assert_array_equal(alone.test_predictions, beside[0].test_predictions)
    # the other run is another run (so the comparison above can fail)
    assert not all(torch.equal(v, beside[1].best_state[k]) for k, v in alone.best_state.items())

def test_the_grid_slice_records_threads_and_does_not_depend_on_the_workers():
    plan = slice_plan("smoke")
    base = replace(plan.base, max_epochs=1, patience=1, steps_per_epoch=2, batch_size=32)
    grids = list(plan.runs[:2])
    one = retrain_grid(grids, plan.seeds[:1], base, DATA, progress=False, architecture="micro", workers=1)
    two = retrain_grid(grids, plan.seeds[:1], base, DATA, progress=False, architecture="micro", workers=2)
    assert list(one["threads"]) == [1, 1] and list(one["id"]) == [g.id for g in grids]
    columns = ["id", "seed", "val_pearson", "val_spearman", "test_pearson", "test_spearman", "threads"]
    assert one[columns].equals(two[columns])


def test_training_threads_default_to_the_cpu_budget(monkeypatch):
    seen = []
    monkeypatch.setattr(train_module, "cpu_budget", lambda: CpuBudget(cpus=1, affinity=2, quota=1.0, override=None))
    torch.set_num_threads(2)
    try:
        train(build_model(MICRO), DATA, replace(TINY, max_epochs=1), on_step=lambda epoch, step: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {1}  # a 1-CPU quota: one thread, not the two visible cores
        assert torch.get_num_threads() == 2  # restored
        seen.clear()
        train(build_model(MICRO), DATA, replace(TINY, max_epochs=1, num_threads=2),
              on_step=lambda epoch, step: seen.append(torch.get_num_threads()))
        assert set(seen) == {2}  # an explicit count is kept
    finally:
        torch.set_num_threads(1)



def test_a_script_without_the_main_guard_gets_an_error_not_a_hang(tmp_path):
    # Each spawned worker imports the script again and fails there; with megabytes of shared
    # data in the start-up pipe, CPython's spawn used to wait on the dead worker for ever.
    script = tmp_path / "unguarded.py"
    script.write_text("import numpy as np\nfrom camformer.training.workers import map_in_workers\n"
                      "print(map_in_workers(max, [1, 2, 3], workers=2, shared=np.zeros(4_000_000, np.uint8)))\n")
    root = Path(__file__).resolve().parent.parent
    child = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180,
                           env={**os.environ, "PYTHONPATH": str(root)})
    assert child.returncode != 0
    assert 'without an `if __name__ == "__main__":` guard' in child.stderr
