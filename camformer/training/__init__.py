"""Training: one loop, its processes, checkpoints and workers, the presets' runs and the grid's.
Uses the data, the models and the statistics.

Modules:

- ``checkpoint``: atomic checkpoints and resume.
- ``cpu_budget``: the CPUs a process may use (affinity mask capped by the cgroup quota).
- ``distributed``: several processes (torchrun).
- ``grid``: retraining a slice of the 270-model grid.
- ``presets``: the presets' data and runs.
- ``train``: the one training loop (train, TrainConfig).
- ``workers``: independent runs in worker processes at a fixed thread count.

Import a module from here, ``from camformer.training import checkpoint``; this file imports
nothing, so importing the subpackage costs nothing.
"""

__all__ = ["checkpoint", "cpu_budget", "distributed", "grid", "presets", "train", "workers"]
