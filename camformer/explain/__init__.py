"""Explaining any model, ``(N, 4, L)`` in: ISM, Grad-CAM, attributions, embeddings, motifs. Never
imports the networks or the training loop; uses the data, the one inference path and the
statistics.

Modules:

- ``attribution``: captum attributions (Integrated Gradients, ...).
- ``embedding``: penultimate-layer activations and their 2-D maps.
- ``gc_content``: GC content and expression (Figure S12).
- ``gradcam``: Grad-CAM as the paper defines it.
- ``hierarchy``: the paper's motif hierarchy (IME1, UME6).
- ``ism``: in-silico mutagenesis.
- ``motifs``: JASPAR matrices, FIMO scans, motif insertion.

Import a module from here, ``from camformer.explain import attribution``; this file imports
nothing, so importing the subpackage costs nothing.
"""

__all__ = ["attribution", "embedding", "gc_content", "gradcam", "hierarchy", "ism", "motifs"]
