"""The paper's model archives, built as the authors' code builds them (random weights).

The authors (github.com/Bornelov-lab/Camformer) build a model as ``CNN(**config["model_args"])``
with ``config`` read back from JSON (``base/run_utils.py`` ``loadDict``), save it whole with
``torch.save(model)``, and publish ``training_results_tr0.9/<run>/<seed>/{config.json, model.pt}``
in a tarball (``saved_models/README.md``). Because the config comes from JSON, every kernel is a
list: ``conv_block``'s test ``pool_kernel != (1,1)`` is then always true, and every block holds a
``MaxPool2d``, the identity ``kernel_size=[1, 1], stride=[1, 1]`` where the architecture has no
pool (their ``gen_figs.ipynb`` printout of the seed-42 Original;
``manuscript_figures/Figure_2/data/model_str.md`` lists six MaxPool2d in its 16,611,073
parameters). The classes below are their ``base/model.py`` and ``base/model_basic.py``,
shortened to what a pickle records and what the forward pass computes; their module and class
names, attribute names and layer order are theirs.

Used by the loader's tests and by ``python tests/authors_archives.py OUT_DIR`` (archives for a
book build that serves them from 127.0.0.1, as the Pages build downloads the real ones).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
import tarfile
from contextlib import contextmanager
from pathlib import Path

import torch

AUTHORS_MODEL = '''
import collections
from itertools import repeat

import torch
from torch import nn
from torch.nn import functional as F


def convolution_output_size(input_size, kernel, padding, stride):
    out_height = int(((input_size[0] + 2*padding[0] - (kernel[0] - 1) - 1)/stride[0])+1)
    out_width = int(((input_size[1] + 2*padding[1] - (kernel[1] - 1) - 1)/stride[1])+1)
    return (out_height, out_width)


def _ntuple(n):
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))
    return parse


def conv_block(in_f, out_f, kernel, pool_kernel, stride, pool_stride, padding, dilation=1, dropout=0.1):
    modules = []
    if padding == "same":
        modules.append(Conv2dSame(in_channels=in_f, out_channels=out_f, kernel_size=kernel, stride=stride,
                                  dilation=dilation))
    else:
        modules.append(nn.Conv2d(in_channels=in_f, out_channels=out_f, kernel_size=kernel, stride=stride,
                                 padding=padding, dilation=dilation))
    modules.append(nn.BatchNorm2d(out_f))
    modules.append(nn.ReLU())
    if pool_kernel != (1,1):
        modules.append(nn.MaxPool2d(kernel_size=pool_kernel, stride=pool_stride))
    modules.append(nn.Dropout(dropout))
    return nn.Sequential(*modules)


def lin_block(in_f, out_f, dropout=0.0):
    return nn.Sequential(nn.Linear(in_f, out_f), nn.ReLU(), nn.Dropout(dropout))


class Conv2dSame(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, dilation=1, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                              stride=stride, dilation=dilation, **kwargs)
        _pair = _ntuple(2)
        kernel_size_ = _pair(kernel_size)
        dilation_ = _pair(dilation)
        self._reversed_padding_repeated_twice = [0, 0]*len(kernel_size_)
        for d, k, i in zip(dilation_, kernel_size_, range(len(kernel_size_) - 1, -1, -1)):
            total_padding = d * (k - 1)
            left_pad = total_padding // 2
            self._reversed_padding_repeated_twice[2 * i] = left_pad
            self._reversed_padding_repeated_twice[2 * i + 1] = total_padding - left_pad

    def forward(self, imgs):
        return self.conv(F.pad(imgs, self._reversed_padding_repeated_twice))


def build(self, feature_height, feature_width, input_channels, out_channels, kernels, pool_kernels,
          paddings, strides, pool_strides, dropouts, linear_output, linear_dropouts, block_padding):
    out_size = (feature_height, feature_width)
    if paddings == "same":
        for n in range(len(out_channels)):
            out_size = convolution_output_size(out_size, pool_kernels[n], (0,0), pool_strides[n])
    else:
        for n in range(len(out_channels)):
            out_size = convolution_output_size(out_size, kernels[n], paddings[n], strides[n])
            out_size = convolution_output_size(out_size, pool_kernels[n], (0,0), pool_strides[n])
    output_size = int(out_channels[-1] * out_size[0] * out_size[1])
    self.CNN_layers = nn.ModuleList()
    conv_sizes = [x for x in zip([input_channels] + out_channels, out_channels)]
    for n, sizes in enumerate(conv_sizes):
        conv_blocks = conv_block(sizes[0], sizes[1], kernel=kernels[n], pool_kernel=pool_kernels[n],
                                 stride=strides[n], pool_stride=pool_strides[n],
                                 padding=block_padding(paddings, n), dilation=1, dropout=dropouts[n])
        self.CNN_layers.append(nn.Sequential(*conv_blocks))
    linear_sizes = [x for x in zip([output_size] + linear_output, linear_output + [1])]
    linear_blocks = [lin_block(in_f, out_f, dropout=linear_dropouts[n])
                     for n, (in_f, out_f) in enumerate(linear_sizes[:-1])]
    linear_blocks.append(nn.Sequential(nn.Linear(linear_sizes[-1][0], linear_sizes[-1][1])))
    self.linear_layers = nn.Sequential(*linear_blocks)


class CNN(nn.Module):
    """Residual pairs; every block padded "same" (base/model.py). Input (N, C, 110, 1)."""

    def __init__(self, feature_height, feature_width, batch_size, print_size=False, **layers):
        super(CNN, self).__init__()
        build(self, feature_height, feature_width, block_padding=lambda paddings, n: "same", **layers)

    def forward(self, x):
        for i in range(0, len(self.CNN_layers), 2):
            x = self.CNN_layers[i](x)
            ShortCut = x
            x = self.CNN_layers[i+1](x)
            x = x + ShortCut
        x = x.view(x.size(0), -1)
        x = self.linear_layers(x)
        return torch.flatten(x)
'''

AUTHORS_MODEL_BASIC = '''
import torch
from torch import nn
from .model import build


class CNN(nn.Module):
    """A plain stack; each block padded as its config says (base/model_basic.py). Input (N, C, 110, 1)."""

    def __init__(self, feature_height, feature_width, batch_size, print_size=False, **layers):
        super(CNN, self).__init__()
        build(self, feature_height, feature_width, block_padding=lambda paddings, n: paddings[n], **layers)

    def forward(self, x):
        for i in range(0, len(self.CNN_layers)):
            x = self.CNN_layers[i](x)
        x = x.view(x.size(0), -1)
        x = self.linear_layers(x)
        return torch.flatten(x)
'''

_ONES = [[1, 1]] * 6
# model_args as the published runs' config.json holds them (JSON: lists, never tuples), with the
# published layer sizes (camformer.models.networks ARCHITECTURES): module, run folder, model_args.
AUTHORS_RUNS = {
    "original": ("base.model", "9_onehot_L1_AdamW_ReduceLROnPlateau", dict(
        feature_height=110, feature_width=1, batch_size=256, input_channels=4, out_channels=[512] * 6,
        kernels=[[10, 1]] * 6, pool_kernels=_ONES[:4] + [[10, 1], [1, 1]],
        pool_strides=_ONES[:4] + [[4, 1], [1, 1]], paddings="same", strides=_ONES, dropouts=[0.3] * 6,
        linear_output=[256, 256], linear_dropouts=[0.0, 0.0])),
    "mini": ("base.model_basic", "219_onehotWithP_MSE_AdamW_ReduceLROnPlateau", dict(
        feature_height=110, feature_width=1, batch_size=256, input_channels=5,
        out_channels=[384, 256, 128, 64, 128, 192], kernels=[[5, 1], [6, 1], [6, 1], [5, 1], [5, 1], [4, 1]],
        pool_kernels=_ONES[:3] + [[7, 1], [1, 1], [1, 1]], pool_strides=_ONES[:3] + [[2, 1], [1, 1], [1, 1]],
        paddings=[[5, 0]] * 6, strides=_ONES, dropouts=[0.156, 0.194, 0.231, 0.269, 0.306, 0.344],
        linear_output=[32], linear_dropouts=[0.0])),
}
ENCODINGS = {"original": "onehot", "mini": "onehotWithP"}
FILES = {"original": "Camformer_9.tar.gz", "mini": "Camformer_219.tar.gz"}


def authors_package(root: Path) -> Path:
    """Write the authors' ``base`` package (model.py, model_basic.py) under ``root``; returns ``root``."""
    (root / "base").mkdir()
    (root / "base" / "__init__.py").write_text("")
    (root / "base" / "model.py").write_text(AUTHORS_MODEL)
    (root / "base" / "model_basic.py").write_text(AUTHORS_MODEL_BASIC)
    return root


@contextmanager
def authors_code(root: Path):
    """The authors' ``base`` package importable from ``root`` inside the block, and gone after it."""
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
        for key in [k for k in sys.modules if k == "base" or k.startswith("base.")]:
            del sys.modules[key]


def model_args(name: str, **overrides) -> dict:
    """The run's ``model_args`` with ``overrides``, after the JSON round trip of the authors' configs."""
    return json.loads(json.dumps({**AUTHORS_RUNS[name][2], **overrides}))


def authors_network(name: str, seed: int = 0, **overrides) -> torch.nn.Module:
    """``CNN(**config["model_args"])`` as the authors build it (inside :func:`authors_code`), in eval
    mode, with trained-looking BatchNorm statistics and affine weights so that they matter."""
    torch.manual_seed(seed)
    net = importlib.import_module(AUTHORS_RUNS[name][0]).CNN(**model_args(name, **overrides))
    for layer in net.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 2.0)
            torch.nn.init.uniform_(layer.weight, 0.5, 1.5)
            torch.nn.init.uniform_(layer.bias, -0.2, 0.2)
    return net.eval()


def saved(net: torch.nn.Module) -> bytes:
    """``torch.save(model)``: the whole pickled module, as the authors save ``best_model_path``."""
    buffer = io.BytesIO()
    torch.save(net, buffer)
    return buffer.getvalue()


def pickled_forward(model_bytes: bytes, x: torch.Tensor) -> torch.Tensor:
    """What the pickled model predicts for ``x`` ``(N, C, 110)``, loaded back as the authors load it
    (``torch.load``, inside :func:`authors_code`), in their layout ``(N, C, 110, 1)``."""
    net = torch.load(io.BytesIO(model_bytes), weights_only=False)
    with torch.no_grad():
        return net.eval()(x.unsqueeze(-1))


def tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def authors_members(folder: str, model_bytes: bytes, encoding: str, model_name: str = "model.pt",
                    args: dict | None = None) -> dict[str, bytes]:
    """The members of the authors' tarball: training_results_tr0.9/<run>/42/{config.json, model.pt,
    score_board.csv}; the config as ``saveDict`` writes it (``json.dump``)."""
    run = f"training_results_tr0.9/{folder}/42"
    config = {"seed": 42, "seq_enc": encoding, "best_model_path": f"./{run}/{model_name}", "batch_size": 256,
              "model_args": args or {}}
    return {f"{run}/config.json": json.dumps(config).encode(), f"{run}/{model_name}": model_bytes,
            f"{run}/score_board.csv": b"r,rho\n0.74,0.75\n"}


def build_archive(name: str, out_dir: Path, seed: int = 0) -> Path:
    """``out_dir/Camformer_9.tar.gz`` (or ``_219``): the run's tarball with a random-weight model
    built and saved by the authors' code (which must be importable: :func:`authors_code`)."""
    module, folder, _ = AUTHORS_RUNS[name]
    data = saved(authors_network(name, seed))
    return tarball(Path(out_dir) / FILES[name], authors_members(folder, data, ENCODINGS[name],
                                                                args=model_args(name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the paper's two model tarballs, built as the authors' "
                                     "code builds them, with random weights (NOT the published weights).")
    parser.add_argument("out_dir", type=Path, help="folder to write Camformer_9.tar.gz and Camformer_219.tar.gz into")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    code = args.out_dir / "_authors_code"
    code.mkdir(exist_ok=True)
    if not (code / "base").exists():
        authors_package(code)
    with authors_code(code):
        for name in AUTHORS_RUNS:
            print(build_archive(name, args.out_dir, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
