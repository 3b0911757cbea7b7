"""The statistics: scoring, intervals over similarity units, verdicts computed from intervals.
numpy, pandas and scipy only: nothing here imports torch when it is imported, so a predictions file
is scored without it. Uses :mod:`camformer.data`.

Modules:

- ``bootstrap``: intervals by item or by similarity unit, single or paired.
- ``ensemble``: statistics across k trained models: per model, mean, between-model interval, k-of-k
  verdicts.
- ``explain_stats``: intervals and verdicts of the interpretation chapters.
- ``factorial``: factorial designs such as the 270-model grid.
- ``heldout``: the book model's held-out scores against a bar.
- ``interaction``: interaction contrasts.
- ``leaderboard``: the challenge's published final board.
- ``metrics``: DREAM scoring: Pearson r², Spearman ρ, the weighted score.
- ``seeds``: a metric over training seeds; seed ensembles.
- ``verdicts``: conclusions computed from an estimate and its interval.

Import a module from here, ``from camformer.stats import bootstrap``; this file imports nothing, so
importing the subpackage costs nothing.
"""

__all__ = [
    "bootstrap", "ensemble", "explain_stats", "factorial", "heldout", "interaction", "leaderboard",
    "metrics", "seeds", "verdicts",
]
