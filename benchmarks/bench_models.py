"""Camformer Original on the CPU: our ``Conv1d`` layout against the authors' ``Conv2d`` (k, 1) one.

Side by side in one run, on the same random weights and input: one training step (forward and
backward) and one inference batch of Camformer Original, built

1. as ``camformer.models.networks.camformer_original`` (``Conv1d`` on ``(N, 4, 110)``), float32;
2. the same model under bf16 autocast (the training loop's CPU switch);
3. as the authors' layout: every ``Conv1d`` swapped for the equivalent ``Conv2d`` with a
   ``(k, 1)`` kernel on ``(N, C, 110, 1)`` (weights copied, so the outputs agree), float32.

Prints a Markdown table of milliseconds per batch (median of ``--repeats``) and ratios to (1).

Usage: ``python benchmarks/bench_models.py [--batch 64] [--repeats 5] [--threads 2]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from camformer.models.inference import describe_device
from camformer.models.networks import camformer_original, init_he


class _AsConv2d(nn.Module):
    """A ``Conv1d`` run as a ``Conv2d`` with a ``(k, 1)`` kernel on ``(N, C, L, 1)`` input."""

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        self.conv = nn.Conv2d(conv.in_channels, conv.out_channels, (conv.kernel_size[0], 1))
        with torch.no_grad():
            self.conv.weight.copy_(conv.weight.unsqueeze(-1))
            self.conv.bias.copy_(conv.bias)

    def forward(self, x):
        return self.conv(x.unsqueeze(-1)).squeeze(-1)


def conv2d_twin(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose convolutions are ``Conv2d`` (k, 1), as in the authors' code."""
    twin = camformer_original()
    twin.load_state_dict(model.state_dict())
    for block in twin.blocks:
        block.conv = _AsConv2d(block.conv)
    return twin


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = init_he(camformer_original())
    twin = conv2d_twin(model)
    x = torch.rand(args.batch, 4, 110)
    y = torch.rand(args.batch)
    with torch.no_grad():
        model.eval(), twin.eval()
        torch.testing.assert_close(model(x), twin(x), rtol=1e-4, atol=1e-4)

    def step(net, bf16=False):
        def run():
            net.train()
            net.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = nn.functional.l1_loss(net(x).float(), y)
            loss.backward()
        return run

    def infer(net, bf16=False):
        def run():
            net.eval()
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                net(x)
        return run

    cases = [("Conv1d, float32 (camformer.models.networks)", model, False),
             ("Conv1d, bf16 autocast", model, True),
             ("Conv2d (k, 1), float32 (authors' layout)", twin, False)]
    rows = [(name, _time(step(net, bf16), args.repeats), _time(infer(net, bf16), args.repeats))
            for name, net, bf16 in cases]
    print(f"Camformer Original, batch {args.batch}, {args.threads} threads, torch {torch.__version__}, "
          f"{describe_device('cpu')}\n")
    print("| layout | train step (ms) | ratio | inference (ms) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, train_ms, infer_ms in rows:
        print(f"| {name} | {train_ms:.0f} | {train_ms / rows[0][1]:.2f} | {infer_ms:.0f} | {infer_ms / rows[0][2]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
