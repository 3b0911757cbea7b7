"""The presets' data and runs: which sequences each preset trains on, and one call to train it.

``paper``
    The challenge's training file (:func:`paper_data`), split 90/5/5 by expression decile. The
    split is stored as ids in ``run_dir/split.npz`` with what made it (seed, sizes, number of
    sequences); a rerun reads it back, and refuses a file made otherwise.
``quick``, ``grid_slice``, ``smoke``
    The measured test library (:func:`quick_data`), split 80/10/10 by variant family.

Both honour the configuration's ``train_size``, ``val_size`` and ``test_size`` (a seeded
subsample of each split, taken after splitting). :func:`run_preset` builds the preset's model
and trains it (:func:`camformer.training.train.train`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .checkpoint import write_atomic
from camformer.data.dream import ENCODINGS, SequenceData
from .distributed import on_first_process
from .train import TrainConfig, TrainResult, train

# The ten seeds of the paper's seed ensemble.
PAPER_SEEDS: tuple[int, ...] = (42, 23, 47, 56, 89, 12, 34, 78, 67, 98)
SPLIT_FILE = "split.npz"
PAPER_FRACTIONS = (0.9, 0.05, 0.05)


def subsample_split(split: Mapping[str, np.ndarray], sizes: Mapping[str, int | None],
                    seed: int) -> dict[str, np.ndarray]:
    """Each split's ids cut to ``sizes[name]`` (seeded; sorted), in the order train, val, test.

    A size of ``None``, or one not below the split's length, keeps the split whole.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("train", "val", "test"):
        ids, size = split[name], sizes.get(name)
        if size is not None and size < len(ids):
            ids = np.sort(rng.choice(ids, size=size, replace=False))
        out[name] = ids
    return out


def quick_data(train_size: int | None = None, val_size: int | None = None, test_size: int | None = None,
               *, seed: int = 42) -> dict[str, SequenceData]:
    """The quick preset's data: the measured test library, split 80/10/10 by variant family and
    by similarity (no held-out sequence within 5 substitutions of a training one,
    :func:`camformer.data.similarity.test_library_groups`).

    The sizes subsample each split's sequences (seeded; ``None`` keeps the split whole), after
    the split, so no family or group straddles two splits. A small-data demonstration: these
    sequences are the challenge's *test* set, so numbers from it are not comparable to the
    leaderboard.

    Returns
    -------
    dict with ``"train"``, ``"val"``, ``"test"`` -> SequenceData
    """
    from camformer.data.dream import family_split, load_test_pairs, test_set_data
    from camformer.data.similarity import test_library_groups

    full = test_set_data()
    split = family_split(full.ids, full.targets, load_test_pairs(), seed=seed, groups=test_library_groups())
    split = subsample_split(split, {"train": train_size, "val": val_size, "test": test_size}, seed)
    return {name: full.subset(ids) for name, ids in split.items()}


def _paper_split(data: SequenceData, run_dir: str | Path | None, seed: int,
                 sizes: Mapping[str, int | None]) -> dict[str, np.ndarray]:
    """The paper split's ids: read back from ``run_dir/split.npz`` when it is there and was made
    the same way, refused when it was made otherwise, else drawn and written (atomically)."""
    from camformer.data.dream import load_split, save_split, stratified_split

    made = {"seed": int(seed), "fractions": list(PAPER_FRACTIONS), "n_sequences": len(data),
            **{f"{name}_size": sizes.get(name) for name in ("train", "val", "test")}}
    path = Path(run_dir) / SPLIT_FILE if run_dir is not None else None
    if path is not None and path.exists():
        stored = load_split(path)
        recorded = json.loads(str(stored.pop("made"))) if "made" in stored else None
        if recorded != made:
            then = (f"was made with {_describe(recorded)}" if recorded is not None
                    else "has no record of its seed and sizes (an older camformer wrote it)")
            raise ValueError(f"{path}: this split {then}, but this run asks for {_describe(made)}; use another run "
                             f"directory (or delete the file to draw the split again)")
        missing = sum(int((~np.isin(ids, data.ids)).sum()) for ids in stored.values())
        if missing:
            raise ValueError(f"{path}: {missing:,} of its ids are not in the training file; "
                             f"it belongs to another file: use another run directory")
        return stored
    split = subsample_split(stratified_split(data.ids, data.targets, PAPER_FRACTIONS, seed=seed), sizes, seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda tmp: save_split({**split, "made": np.array(json.dumps(made))}, tmp))
    return split


def _describe(made: dict) -> str:
    sizes = ", ".join(f"{k.removesuffix('_size')} {made[k] if made[k] is not None else 'all'}"
                      for k in ("train_size", "val_size", "test_size"))
    return f"seed {made['seed']} from {made['n_sequences']:,} sequences ({sizes})"


def paper_data(train_file: str | Path | None, run_dir: str | Path | None = None, *, seed: int = 42,
               train_size: int | None = None, val_size: int | None = None, test_size: int | None = None,
               progress: bool = False) -> dict[str, SequenceData]:
    """The paper preset's data: the challenge's training file, split 90/5/5 by expression decile.

    Parameters
    ----------
    train_file : path
        The challenge's training file (every process reads its own copy).
    run_dir : path, optional
        Where the split is stored as ids (``split.npz``, with the seed, sizes and number of
        sequences that made it) and read back on a rerun; a file made with another seed, other
        sizes or another training file is refused with a message saying so. ``None``: nothing
        is stored.
    seed : int
        Seeds the split and the subsample.
    train_size, val_size, test_size : int, optional
        Subsample each split to this many sequences (seeded, after the split; ``None``: all).

    Returns
    -------
    dict with ``"train"``, ``"val"``, ``"test"`` -> SequenceData

    Notes
    -----
    Under a process group (``torchrun``) the first process alone reads or draws the split and
    writes the file; the ids travel to the others by broadcast, so the run directory need not
    be shared between hosts. If the first process fails there, every process stops with its
    error (:func:`camformer.training.distributed.on_first_process`).
    """
    from camformer.data.dream import read_dream_txt

    if train_file is None:
        raise FileNotFoundError("the paper preset needs the challenge's training file: run `camformer data fetch` "
                                "and pass its path with --train-file")
    data, report = read_dream_txt(train_file, progress=progress)
    if progress:
        print(report)
    sizes = {"train": train_size, "val": val_size, "test": test_size}
    split = on_first_process(lambda: _paper_split(data, run_dir, seed, sizes), what="reading or writing the split")
    return {name: data.subset(ids) for name, ids in split.items()}


def preset_data(config: TrainConfig, train_file: str | Path | None = None,
                run_dir: str | Path | None = None) -> dict[str, SequenceData]:
    """The data ``config.dataset`` names: :func:`paper_data` of ``train_file`` (``"dream_train"``)
    or :func:`quick_data` (``"test_library"``), sized and seeded by ``config``."""
    sizes = {"train_size": config.train_size, "val_size": config.val_size, "test_size": config.test_size}
    if config.dataset == "dream_train":
        return paper_data(train_file, run_dir, seed=config.seed, progress=config.progress, **sizes)
    return quick_data(**sizes, seed=config.seed)


def run_preset(
    preset: str | TrainConfig,
    run_dir: str | Path | None = None,
    *,
    train_file: str | Path | None = None,
    data: Mapping[str, SequenceData] | None = None,
    **overrides,
) -> TrainResult:
    """Build the preset's model, load its data and :func:`camformer.training.train.train` it.

    ``config.dataset`` picks the data: :func:`paper_data` of ``train_file`` (``paper``) or
    :func:`quick_data` (``quick``, ``smoke``); ``data`` overrides either. The model is
    ``config.model`` (:func:`camformer.models.networks.build_model`) with the encoding's channels.

    ``run_dir`` holds the checkpoints (a run into a directory with one resumes it) and the
    history, not a model to predict with: save that with :func:`save_run_model`, which writes
    what ``camformer predict --model DIR`` and ``camformer evaluate --checkpoint DIR`` read::

        config = TrainConfig.preset("smoke")
        data = preset_data(config)
        result = run_preset(config, data=data)
        save_run_model(result, "my_model", config, data)   # then: camformer predict --model my_model
    """
    from camformer.models.networks import ModelConfig, build_model

    config = preset if isinstance(preset, TrainConfig) else TrainConfig.preset(preset, **overrides)
    if data is None:
        data = preset_data(config, train_file, run_dir)
    encoding = config.encoding or "onehot"
    model = build_model(ModelConfig(config.model, ENCODINGS[encoding]))
    return train(model, data, replace(config, encoding=encoding), run_dir=run_dir)


def run_seeds(config: TrainConfig, seeds: Sequence[int], data: Mapping[str, SequenceData], *, threads: int = 1,
              workers: int | None = None) -> list[TrainResult]:
    """A seed ensemble: the preset's model trained once per seed on the same ``data`` (the same
    split), side by side in worker processes of ``threads`` torch threads each
    (:func:`camformer.training.workers.train_runs`; as many at once as the CPU budget holds).

    ``config.seed`` made the split; each run replaces it by its own seed, which sets the initial
    weights, the batches' order and the dropout. A run's bits depend on its seed and ``threads``
    only, not on the machine's cores or on what runs beside it (on CPUs of one kind).

    Returns
    -------
    list of TrainResult
        One per seed, in order; ``metrics["threads"]`` records ``threads``.
    """
    from camformer.models.networks import ModelConfig
    from .workers import TrainRun, train_runs

    if not seeds:
        raise ValueError("no seeds: a seed ensemble needs at least one")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {list(seeds)}: each run of a seed ensemble needs its own seed")
    encoding = config.encoding or "onehot"
    model = ModelConfig(config.model, ENCODINGS[encoding])
    runs = [TrainRun(model, replace(config, encoding=encoding, seed=int(seed))) for seed in seeds]
    return train_runs(runs, data, threads=threads, workers=workers)


def save_run_model(result: TrainResult, directory: str | Path, config: TrainConfig,
                   data: Mapping[str, SequenceData]) -> Path:
    """Save a trained model with what it takes to use it again (:func:`camformer.models.networks.save_model`):
    its weights, encoding, what it was trained on (``config.dataset``) and the ids of each split of
    ``data``, so that ``camformer evaluate --checkpoint DIR`` scores a model trained on the test
    library on its held-out ids only. Returns the directory (``model.pt``, ``config.json``,
    ``split.npz``), which ``camformer predict --model DIR`` takes."""
    from camformer.models.networks import save_model

    return save_model(result.model, directory, encoding=config.encoding or "onehot", dataset=config.dataset,
                      split={name: part.ids for name, part in data.items()})


__all__ = ["PAPER_SEEDS", "subsample_split", "quick_data", "paper_data", "preset_data", "run_preset", "run_seeds",
           "save_run_model"]
