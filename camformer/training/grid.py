"""Retraining the paper's 270-model grid, and its published scoreboards.

A run of the grid is a :class:`camformer.models.networks.GridConfig` (the grid's configurations live
beside the models' own, so that loading the published models never imports the training loop):
:meth:`~camformer.models.networks.GridConfig.model_config` is its network and :func:`grid_train_config`
its training recipe (:class:`camformer.training.train.TrainConfig`). :func:`retrain_grid` trains runs with
several seeds; :func:`load_scoreboards` reads the paper's validation results of all 270.
:func:`slice_plan` is the slice the book retrains (chapter 07) and :func:`paper_slice` the same
runs on the paper's scoreboards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import pandas as pd

from camformer.data.dream import ENCODINGS, SequenceData
from camformer.models.networks import (GRID_SIZES, SIZE_ARCHITECTURES, GridConfig, ModelConfig, build_model, count_parameters,
                     grid_configs)
from .presets import PAPER_SEEDS
from .train import TrainConfig
from .workers import TrainRun, train_runs

# The published scoreboards' factor columns and the names the book uses for them.
SCOREBOARD_FACTORS = {"Seq_Enc": "encoding", "LossFn": "loss function", "Optimizer": "optimiser",
                      "LRScheduler": "scheduler", "Size": "size"}


def load_scoreboards() -> pd.DataFrame:
    """The paper's published validation results of the 270-model grid, one row per run.

    ``score_board_{Large,Small,Mini}Model.csv`` stacked in that order, with a ``Size`` column,
    an empty scheduler cell (a constant learning rate) read as ``"None"``, and the factor columns
    renamed to :data:`SCOREBOARD_FACTORS`' values (``encoding, loss function, optimiser,
    scheduler, size``); ``RunID``, ``r`` and ``rho`` (validation Pearson and Spearman) as published.
    """
    from camformer.data.dream import load_paper_table

    board = pd.concat([load_paper_table(f"score_board_{size}Model.csv", keep_default_na=False).assign(Size=size)
                       for size in GRID_SIZES], ignore_index=True)
    board["LRScheduler"] = board["LRScheduler"].replace("", "None")
    return board.rename(columns=SCOREBOARD_FACTORS)


def grid_parameter_counts() -> pd.DataFrame:
    """Parameter count of every grid run: columns ``id, name, size, encoding, in_channels,
    params`` (each distinct size and channel count is built once)."""
    counts: dict[tuple[str, int], int] = {}
    rows = []
    for run in grid_configs():
        key = (run.size, run.in_channels)
        if key not in counts:
            counts[key] = count_parameters(build_model(run.model_config()))
        rows.append({"id": run.id, "name": run.name, "size": run.size, "encoding": run.encoding,
                     "in_channels": run.in_channels, "params": counts[key]})
    return pd.DataFrame(rows)


def grid_train_config(grid, base: TrainConfig) -> TrainConfig:
    """``base`` with the loss, optimiser, scheduler, encoding and model of a grid run
    (a :class:`GridConfig`): the training half of the run's (model, training) pair."""
    return replace(base, loss=grid.loss, optimizer=grid.optimizer, scheduler=grid.scheduler,
                   encoding=grid.encoding, model=SIZE_ARCHITECTURES[grid.size])


def retrain_grid(grids, seeds, base: TrainConfig, data: Mapping[str, SequenceData],
                 progress: bool = True, architecture: str | None = None, workers: int | None = None,
                 threads: int = 1) -> pd.DataFrame:
    """Train each grid run with each seed on ``data``; one row per (run, seed).

    ``architecture`` (e.g. ``"micro"``) replaces the grid's model size for every run: a slice of
    the grid's training choices (loss, optimiser, scheduler, encoding) on a model a CPU can train.
    The runs are independent: :func:`camformer.training.workers.train_runs` trains them side by side,
    ``workers`` at once (default: as many as the CPU budget holds), each on ``threads`` torch
    threads, so a run's numbers do not depend on the machine's cores or on what runs beside it.

    Returns
    -------
    pandas.DataFrame
        ``id, name, size, encoding, loss, optimizer, scheduler, seed, epochs, val_pearson,
        val_spearman, test_pearson, test_spearman, seconds, threads`` (the test columns need a
        ``"test"`` split; ``threads``: the run's torch threads).
    """
    jobs = [(g, s) for g in grids for s in seeds]
    runs = []
    for grid, seed in jobs:
        config = grid_train_config(grid, replace(base, seed=seed, progress=False))
        if architecture is not None:
            config = replace(config, model=architecture)
        runs.append(TrainRun(ModelConfig(config.model, ENCODINGS[grid.encoding]), config))
    results = train_runs(runs, data, workers=workers, threads=threads, progress=progress)
    rows = []
    for (grid, seed), result in zip(jobs, results):
        m = result.metrics
        rows.append({"id": grid.id, "name": grid.name, "size": architecture or grid.size, "encoding": grid.encoding,
                     "loss": grid.loss, "optimizer": grid.optimizer, "scheduler": grid.scheduler, "seed": seed,
                     "epochs": len(result.history), "val_pearson": m["val_pearson"],
                     "val_spearman": m["val_spearman"], "test_pearson": m.get("test_pearson", np.nan),
                     "test_spearman": m.get("test_spearman", np.nan), "seconds": m["seconds"],
                     "threads": m["threads"]})
    return pd.DataFrame(rows)


#: Seeds of the book's retrained slice per preset: every recipe is trained with each, and the
#: runs of one seed share their initial weights and data order (a paired design).
SLICE_SEEDS = {"smoke": 2, "quick": 10, "paper": 3}


@dataclass(frozen=True)
class SlicePlan:
    """The runs of the book's retrained slice of the grid (:func:`slice_plan`).

    Attributes
    ----------
    runs : tuple of GridConfig
        Mini, ``onehotWithP``, no scheduler; AdamW and Lion crossed with L1 and MSE.
    seeds : tuple of int
        The first :data:`SLICE_SEEDS` ``[preset]`` of the paper's seeds.
    base : TrainConfig
        The training recipe each run starts from (it sets the loss and optimiser).
    architecture : str or None
        The network that replaces Mini (``"micro"`` on a CPU preset; None: Mini itself).
    """

    runs: tuple[GridConfig, ...]
    seeds: tuple[int, ...]
    base: TrainConfig
    architecture: str | None


def slice_plan(preset: str) -> SlicePlan:
    """The slice of the grid the book retrains, for a preset of the book.

    ``"paper"``: Mini on the challenge's training data with the paper's recipe; ``"quick"``:
    Micro on the measured test library, the ``grid_slice`` training preset (a fixed amount of
    work); ``"smoke"``: Micro on about a thousand sequences, to test the machinery.
    """
    if preset not in SLICE_SEEDS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(SLICE_SEEDS)}")
    runs = tuple(g for g in grid_configs() if g.size == "Mini" and g.encoding == "onehotWithP"
                 and g.scheduler == "None" and g.loss in ("L1", "MSE"))
    training = {"paper": "paper", "quick": "grid_slice", "smoke": "smoke"}[preset]
    # the smoke slice scores 256 held-out sequences, as before the smoke preset's test split grew
    base = TrainConfig.preset(training, progress=False, **({"test_size": 256} if preset == "smoke" else {}))
    return SlicePlan(runs, PAPER_SEEDS[:SLICE_SEEDS[preset]], base,
                     None if preset == "paper" else "micro")


def paper_slice(board: pd.DataFrame, plan: SlicePlan) -> pd.DataFrame:
    """The runs of ``plan`` on the paper's scoreboards (:func:`load_scoreboards`), one row per
    run with the factor columns named as :func:`retrain_grid` names them (``loss, optimizer``)."""
    rows = board[board["RunID"].isin([run.id for run in plan.runs])]
    return rows.rename(columns={"optimiser": "optimizer", "loss function": "loss"})
