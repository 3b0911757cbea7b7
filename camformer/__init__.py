"""camformer: predict yeast promoter expression (DREAM 2022) and explain the predictions.

Modules, bottom up (imports run one way): ``data`` (read, validate, pack, encode),
``metrics`` (DREAM subsets and scores, numpy only), ``models`` (plain ``nn.Module``s),
``ism``, ``gradcam``, ``motifs`` (any model), ``train`` (one function), ``cli``.
"""

__version__ = "0.1.0"
