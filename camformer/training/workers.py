"""Independent runs in worker processes, each with a fixed number of torch threads.

Seeds of one recipe and the runs of the grid slice are independent jobs. Run one after another
with torch's threads spread over the cores, every operation ends in a barrier where the threads
wait for each other, and a core busy with something else stalls them all. Run side by side in
processes of one thread each, they keep the cores busy without waiting (benchmarks/RESULTS.md).

The thread count of a run is fixed (``threads``, 1 unless asked) and recorded with its result,
never taken from the machine: on CPUs of one kind (the same vector kernels) the same run gives
the same bits with 2 cores or 64, alone or beside other runs. How many run at once follows the CPU budget
(:func:`camformer.training.cpu_budget.cpu_budget`: the affinity mask capped by the cgroup quota), so a
container with a quota of one CPU runs one at a time. Workers are started with ``spawn`` (a
fresh interpreter: no thread pool inherited through ``fork``), so, as with any ``spawn``, a
script that starts them keeps its work under ``if __name__ == "__main__":``. With one worker the
jobs run in this process, at the same thread count, with no start-up cost.

:func:`map_in_workers` runs any picklable function over jobs; :func:`train_runs` trains a list
of (model, training) configurations, for example several seeds of one recipe.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence, TypeVar

from .cpu_budget import cpu_budget
from camformer.data.dream import SequenceData
from camformer.models.networks import ModelConfig, build_model
from .train import TrainConfig, TrainResult, train

J = TypeVar("J")
R = TypeVar("R")

# What every job of one worker shares (the data), set once when the worker starts.
_SHARED: Any = None


def worker_count(jobs: int, threads: int = 1, cpus: int | None = None) -> int:
    """How many workers to start: as many as the CPU budget holds at ``threads`` each, no more
    than there are jobs, at least 1.

    ``cpus`` defaults to :func:`camformer.training.cpu_budget.cpu_budget`'s.
    """
    if threads < 1:
        raise ValueError(f"threads = {threads}: a run needs at least 1 thread")
    cpus = cpu_budget().cpus if cpus is None else cpus
    return max(1, min(jobs, cpus // threads))


# The thread-count variables of the thread pools besides torch's (OpenMP, OpenBLAS, MKL).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _start_worker(threads: int, shared_file: str) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    global _SHARED
    torch.set_num_threads(threads)
    # Every other thread pool at the same count: those loaded already (numpy's BLAS), and those a
    # job loads later (scikit-learn's own OpenMP, for t-SNE), which read these variables.
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    threadpool_limits(threads)
    with open(shared_file, "rb") as f:
        _SHARED = pickle.load(f)


def _call(fn: Callable[[Any, Any], Any], job: Any) -> Any:
    return fn(job, _SHARED)


def map_in_workers(fn: Callable[[J, Any], R], jobs: Sequence[J], *, workers: int | None = None, threads: int = 1,
                   shared: Any = None, progress: bool = False, desc: str = "runs") -> list[R]:
    """``[fn(job, shared) for job in jobs]``, run in worker processes of ``threads`` torch threads.

    Parameters
    ----------
    fn : callable
        ``fn(job, shared) -> result``, a module-level function (workers import it by name).
    jobs : sequence
        Picklable jobs; each result depends on its job and ``shared`` only.
    workers : int, optional
        Processes to run at once (default :func:`worker_count`); 1 runs the jobs here.
    threads : int
        torch threads of every job (``torch.set_num_threads``), whatever the machine.
    shared : object, optional
        Sent to each worker once (the data), not with every job.
    progress : bool
        A tqdm bar over the finished jobs.

    Returns
    -------
    list
        The results in the order of ``jobs``. A job's error is raised here.
    """
    jobs = list(jobs)
    workers = worker_count(len(jobs), threads) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers = {workers}: at least 1 is needed")
    with ExitStack() as stack:
        bar = None
        if progress:
            from tqdm import tqdm

            bar = stack.enter_context(tqdm(total=len(jobs), desc=desc, unit="run"))
        if workers == 1 or len(jobs) <= 1:
            return _map_here(fn, jobs, threads, shared, bar)
        context = multiprocessing.get_context("spawn")
        # ``shared`` goes through a file, not the start-up pipe: CPython's spawn writes the
        # initializer's arguments into that pipe while still holding its read end, so a worker
        # that dies while starting (a script without the main guard) would hang this process
        # once the data fills the pipe; through a file the pool reports the death instead.
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="camformer-workers-"))
        shared_file = os.path.join(scratch, "shared.pickle")
        with open(shared_file, "wb") as f:
            pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
        pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                                       initargs=(threads, shared_file)))
        futures = [pool.submit(_call, fn, job) for job in jobs]
        results = []
        for future in futures:  # in the jobs' order, whichever finishes first
            try:
                results.append(future.result())
            except BrokenProcessPool as error:
                raise RuntimeError(
                    f"a worker process ended abruptly while running {desc}: out of memory, or a script "
                    f"that starts workers without an `if __name__ == \"__main__\":` guard (each worker "
                    f"imports the main script again)") from error
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the jobs not started yet are not run
                raise
            if bar is not None:
                bar.update()
        return results


def _map_here(fn, jobs, threads, shared, bar) -> list:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = []
        for job in jobs:
            results.append(fn(job, shared))
            if bar is not None:
                bar.update()
        return results
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class TrainRun:
    """One independent training run: the network to build and how to train it.

    Attributes
    ----------
    model : ModelConfig
        Built fresh in the worker (:func:`camformer.models.networks.build_model`); the training seed sets
        its initial weights.
    config : TrainConfig
        The recipe; its ``num_threads`` is replaced by :func:`train_runs`' ``threads``.
    """

    model: ModelConfig
    config: TrainConfig


def _train_job(run: TrainRun, data: Mapping[str, SequenceData]) -> TrainResult:
    result = train(build_model(run.model), data, run.config)
    result.metrics["threads"] = run.config.num_threads
    return result


def train_runs(runs: Sequence[TrainRun], data: Mapping[str, SequenceData], *, workers: int | None = None,
               threads: int = 1, progress: bool = False) -> list[TrainResult]:
    """Train independent runs side by side, each on ``threads`` torch threads; results in order.

    Parameters
    ----------
    runs : sequence of TrainRun
        E.g. one recipe with several seeds (``replace(config, seed=s)``).
    data : mapping of SequenceData
        ``"train"``, ``"val"`` and optionally ``"test"`` (:func:`camformer.training.train.train`), shared.
    workers : int, optional
        Runs at once; default: :func:`worker_count` for runs on the CPU, 1 for runs on a GPU.
    threads : int
        torch threads per run. A run's bits depend on it (the order of float sums), so it is
        fixed, not taken from the machine.
    progress : bool
        A bar over the finished runs (each run's own bar is off).

    Returns
    -------
    list of TrainResult
        One per run, in order; ``metrics["threads"]`` is the thread count it trained with. The
        same as :func:`camformer.training.train.train` of each run alone at ``threads`` threads, to the bit.
    """
    runs = [replace(run, config=replace(run.config, num_threads=threads, progress=False)) for run in runs]
    if workers is None:
        workers = worker_count(len(runs), threads) if all(_on_cpu(r.config) for r in runs) else 1
    return map_in_workers(_train_job, runs, workers=workers, threads=threads, shared=data, progress=progress,
                          desc="training runs")


def _on_cpu(config: TrainConfig) -> bool:
    """Whether ``config`` trains on the CPU (``"auto"`` does where no GPU is present)."""
    if config.device == "auto":
        import torch

        return not torch.cuda.is_available()
    return config.device.split(":")[0] == "cpu"


__all__ = ["TrainRun", "map_in_workers", "train_runs", "worker_count"]
