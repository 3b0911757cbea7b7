"""Figures from results. Uses the statistics; never a model or a training loop.

Modules:

- ``plot_eval``: figures of the evaluation chapters.
- ``plot_grid``: figures of the grid chapters.
- ``plot_interpret``: figures of the interpretation chapters.
- ``plot_models``: a Camformer architecture drawn (Figure 2).
- ``plot_motifs``: motif-pair heatmaps (Figure 8).

Import a module from here, ``from camformer.plots import plot_eval``; this file imports nothing, so
importing the subpackage costs nothing.
"""

__all__ = ["plot_eval", "plot_grid", "plot_interpret", "plot_models", "plot_motifs"]
