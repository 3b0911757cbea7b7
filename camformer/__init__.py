"""camformer: predict yeast promoter expression (DREAM 2022) and explain the predictions.

One subpackage per layer; imports run one way, from the top of this list down
(``tests/test_layering.py``): ``cli`` and ``records``; ``training``, ``paper``, ``plots``
and ``explain``; ``models`` and ``stats``; ``data``. Import modules from their subpackage,
``from camformer.stats import bootstrap``; nothing is imported here.
"""

__version__ = "0.1.0"
