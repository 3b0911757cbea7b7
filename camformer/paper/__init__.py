"""The paper's own trained weights: the registry, reading the authors' archives and a self-check.
Uses the data and the models; never the training loop.

Modules:

- ``model_archive``: the authors' tarballs read in memory, within size caps.
- ``published``: the paper's seed-42 models: registry, conversion, self-check.
- ``safe_pickle``: unpickling a saved model without running code.

Import a module from here, ``from camformer.paper import model_archive``; this file imports
nothing, so importing the subpackage costs nothing.
"""

__all__ = ["model_archive", "published", "safe_pickle"]
