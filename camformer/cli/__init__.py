"""The ``camformer`` command (:mod:`camformer.cli.main`) and what its subcommands do.

Modules:

- ``apply``: what predict / variants / explain do.
- ``main``: the camformer command's parser and main().

Import a module from here, ``from camformer.cli import apply``; this file imports nothing, so
importing the subpackage costs nothing.
"""

__all__ = ["apply", "main"]
