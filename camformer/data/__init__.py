"""The data layer, at the bottom: DREAM files, downloads, users' sequence files and similarity
groups. Nothing here imports torch when it is imported.

Modules:

- ``dream``: DREAM 2022 files read, checked and packed to uint8 codes; splits; the packaged tables.
- ``fetch``: downloads with pinned hashes, into a cache.
- ``sequence_files``: users' sequence files: DREAM txt, TSV, FASTA, variant pairs.
- ``similarity``: Hamming distances, near pairs and similarity groups.

Import a module from here, ``from camformer.data import dream``; this file imports nothing, so
importing the subpackage costs nothing.
"""

__all__ = ["dream", "fetch", "sequence_files", "similarity"]
