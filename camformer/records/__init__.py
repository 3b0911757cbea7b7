"""The book's records: the numbers chapters record, two builds compared, the reproduction audit,
and which model each chapter uses.

Modules:

- ``agreement``: two builds of the book compared.
- ``audit``: the reproduction audit.
- ``book``: the book's model: saved by chapter 03, chosen for each chapter.
- ``report``: numbers the chapters record.

Import a module from here, ``from camformer.records import agreement``; this file imports nothing,
so importing the subpackage costs nothing.
"""

__all__ = ["agreement", "audit", "book", "report"]
