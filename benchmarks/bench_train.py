"""Training throughput: camformer's loop vs a straightforward PyTorch loop, side by side.

The reference loop is written the way the authors' code trains (``base/model.py``,
``base/model_utils.py``): float32 one-hot prepared on the host as ``(N, C, 110, 1)`` images,
``Conv2d`` layers with ``(k, 1)`` kernels, a ``DataLoader`` over a ``TensorDataset``, no
autocast, ``loss.item()`` and a host copy of the predictions every step. Its layer sizes are
those of Camformer Original and Mini (the parameter counts are checked against
``camformer.models.networks``).

camformer's loop is :func:`camformer.training.train.train` itself (uint8 codes one-hot encoded per batch,
``Conv1d`` models from :mod:`camformer.models.networks`, bf16 autocast where the CPU has native bf16);
its throughput is the ``seq_per_s`` it logs for the training steps.

Both run in one process, alternating, at batch 256; the result is the median of the rounds.

    python benchmarks/bench_train.py [--models original mini] [--steps 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from camformer.data.dream import SequenceData
from camformer.models.encoding import encode
from camformer.models.networks import camformer_mini, camformer_original, count_parameters
from camformer.training.train import TrainConfig, train


class RefConv2dSame(nn.Module):
    """``Conv2d`` with "same" padding done by hand, as in the authors' ``Conv2dSame``."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int]):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel)
        total = kernel[0] - 1
        self.pad = (0, 0, total // 2, total - total // 2)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad))


class RefCNN(nn.Module):
    """The authors' CNN on ``(N, C, 110, 1)`` images: six Conv2d blocks (BatchNorm2d, ReLU,
    optional MaxPool2d, Dropout), optional residual pairs, then dense layers."""

    def __init__(self, c_in, channels, kernels, padding, pool_block, pool, hidden, residual, dropout):
        super().__init__()
        blocks, length = [], 110
        for i, (c, k) in enumerate(zip(channels, kernels)):
            conv = RefConv2dSame(c_in, c, (k, 1)) if padding == "same" else nn.Conv2d(c_in, c, (k, 1), padding=(padding, 0))
            layers = [conv, nn.BatchNorm2d(c), nn.ReLU()]
            length = length if padding == "same" else length + 2 * padding - k + 1
            if i == pool_block:
                layers.append(nn.MaxPool2d((pool[0], 1), stride=(pool[1], 1)))
                length = (length - pool[0]) // pool[1] + 1
            layers.append(nn.Dropout(dropout[i]))
            blocks.append(nn.Sequential(*layers))
            c_in = c
        self.blocks = nn.ModuleList(blocks)
        self.residual = residual
        dims = [c_in * length, *hidden]
        dense = [m for a, b in zip(dims[:-1], dims[1:]) for m in (nn.Linear(a, b), nn.ReLU(), nn.Dropout(0.0))]
        self.dense = nn.Sequential(*dense, nn.Linear(dims[-1], 1))

    def forward(self, x):
        if self.residual:
            for i in range(0, len(self.blocks), 2):
                x = self.blocks[i](x)
                x = self.blocks[i + 1](x) + x
        else:
            for block in self.blocks:
                x = block(x)
        return torch.flatten(self.dense(x.view(x.size(0), -1)))


def reference_model(name: str) -> RefCNN:
    if name == "original":
        return RefCNN(4, (512,) * 6, (10,) * 6, "same", 4, (10, 4), (256, 256), True, (0.3,) * 6)
    return RefCNN(5, (384, 256, 128, 64, 128, 192), (5, 6, 6, 5, 5, 4), 5, 3, (7, 2), (32,), False,
                  (0.156, 0.194, 0.231, 0.269, 0.306, 0.344))


def reference_steps(model: nn.Module, x_host: torch.Tensor, y_host: torch.Tensor, steps: int) -> float:
    """Seconds per step of the reference loop (DataLoader, float32, no autocast)."""
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_host, y_host), batch_size=256,
                                         shuffle=True, drop_last=True)
    loss_fn = nn.L1Loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-3)
    model.train()
    preds = []
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if i == steps:
            break
        pred = model(x)
        loss = loss_fn(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
        preds.append(pred.cpu().detach())
    return (time.perf_counter() - t0) / steps


def camformer_steps(model: nn.Module, data: dict, steps: int, amp: str) -> float:
    """Seconds per step of :func:`camformer.training.train.train`'s loop (its logged throughput)."""
    cfg = TrainConfig(batch_size=256, max_epochs=1, steps_per_epoch=steps, scheduler="None", amp=amp,
                      compile="off", device="cpu", progress=False, eval_batch_size=256)
    result = train(model, data, cfg)
    return 256 / float(result.history["seq_per_s"].iloc[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["original", "mini"], choices=["original", "mini"])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n = 256 * (args.steps + 1)
    codes = rng.integers(0, 4, size=(n, 110), dtype=np.uint8)
    targets = rng.normal(10, 3, n).astype(np.float32)
    seqs = SequenceData(codes, targets, np.arange(n, dtype=np.int64))
    data = {"train": seqs, "val": SequenceData(codes[:256], targets[:256], np.arange(256, dtype=np.int64))}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch 256, {args.steps} steps x "
          f"{args.rounds} rounds after one warm-up round; medians")
    for name in args.models:
        ours = camformer_original() if name == "original" else camformer_mini()
        ref = reference_model(name)
        assert count_parameters(ref) == count_parameters(ours), "reference and camformer sizes differ"
        encoding = "onehot" if name == "original" else "onehotWithP"
        x_host = encode(torch.from_numpy(codes), encoding).unsqueeze(-1)  # float32 (N, C, 110, 1) on the host
        y_host = torch.from_numpy(targets)
        times: dict[str, list[float]] = {"reference": [], "camformer amp=off": [], "camformer amp=bf16": []}
        for r in range(args.rounds + 1):
            t_ref = reference_steps(ref, x_host, y_host, args.steps if r else 1)
            t_off = camformer_steps(ours, data, args.steps if r else 1, "off")
            t_bf16 = camformer_steps(ours, data, args.steps if r else 1, "bf16")
            if r:  # round 0 warms up oneDNN's kernels
                times["reference"].append(t_ref)
                times["camformer amp=off"].append(t_off)
                times["camformer amp=bf16"].append(t_bf16)
        base = 256 / statistics.median(times["reference"])
        print(f"\n{name} ({count_parameters(ours):,} parameters)")
        for label, ts in times.items():
            rate = 256 / statistics.median(ts)
            print(f"  {label:<20} {rate:8.1f} seq/s   x{rate / base:.2f}")


if __name__ == "__main__":
    main()
