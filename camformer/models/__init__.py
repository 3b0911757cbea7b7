"""The models: plain ``nn.Module`` networks with their configs, and the one path that runs any
model (encodings, devices, batches). Uses :mod:`camformer.data`.

Modules:

- ``encoding``: one-hot encodings of packed sequences on their device.
- ``inference``: running any model: devices, batches, AMP.
- ``networks``: plain nn.Modules and their configs (Original, Large, Small, Mini, Micro; the
  grid's).

Import a module from here, ``from camformer.models import encoding``; this file imports nothing, so
importing the subpackage costs nothing.
"""

__all__ = ["encoding", "inference", "networks"]
