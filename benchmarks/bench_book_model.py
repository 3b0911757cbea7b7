"""The book's model on a CPU: training throughput of Micro, Mini and Original side by side, and
the quick preset itself (seconds and held-out r, rho).

Part 1 times training steps of each model in one process, interleaved over rounds, in the
dtype asked for (``--amp off`` is float32, what the book uses on every CPU), and reports
sequences per second, the ratio to Micro, and the seconds one quick-preset epoch (56,881
sequences) would take. Part 2 (``--train``) runs the quick preset as the book does and reports
its training seconds and held-out r and rho; those two numbers do not depend on the machine.
``--batch-sizes`` times Micro's training steps at each batch size, interleaved in one run, and
reports the cost per sequence against the first size (what a smaller batch costs an epoch).

    python benchmarks/bench_book_model.py --threads 2 --amp off [--batch-sizes 64 256] [--train]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from camformer.models import networks
from camformer.models.encoding import encode
from camformer.models.inference import cpu_has_native_bf16, describe_device
from camformer.training.presets import quick_data, run_preset
from camformer.training.train import TrainConfig, make_loss

QUICK_TRAIN = 56_881  # training sequences of quick_data() (similarity-grouped split)


def time_steps(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, amp: str) -> float:
    """Seconds per training step (forward, MSE, backward, AdamW) after one warm-up step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = make_loss("MSE")
    model.train()
    for i in range(steps + 1):
        if i == 1:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp == "bf16"):
            pred = model(x).reshape(-1)
        loss = loss_fn(pred.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def time_batch_sizes(net: torch.nn.Module, sizes: list[int], args: argparse.Namespace) -> dict[int, dict]:
    """Micro's training step at each batch size, the sizes interleaved within each round: sequences
    per second, the time per sequence against the first size, and a quick-preset epoch's seconds."""
    batches = {}
    for size in sizes:
        codes = torch.randint(0, 4, (size, 110), dtype=torch.uint8)
        batches[size] = (encode(codes, "onehotWithP"), torch.randn(size))
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(args.rounds):
        for size, (x, y) in batches.items():
            times[size].append(time_steps(net, x, y, max(args.steps, 256 // size * args.steps), args.amp))
    per_sequence = {size: statistics.median(t) / size for size, t in times.items()}
    first = per_sequence[sizes[0]]
    rows = {size: {"seq_per_s": 1 / cost, "time_per_seq_vs_first": cost / first, "quick_epoch_s": QUICK_TRAIN * cost}
            for size, cost in per_sequence.items()}
    print(f"Micro by batch size (time per sequence against batch {sizes[0]}):")
    for size, row in rows.items():
        print(f"  batch {size:>4d}: {row['seq_per_s']:>8.0f} seq/s  x{row['time_per_seq_vs_first']:.2f}  "
              f"{row['quick_epoch_s']:>6.0f} s / quick epoch")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--amp", choices=("off", "bf16"), default="off")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[],
                        help="also time Micro at each of these batch sizes, side by side")
    parser.add_argument("--train", action="store_true", help="also train the quick preset (about 5 min)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    nets = {"micro": networks.camformer_micro(5), "mini": networks.camformer_mini(5), "original": networks.camformer_original(5)}
    codes = torch.randint(0, 4, (args.batch, 110), dtype=torch.uint8)
    x, y = encode(codes, "onehotWithP"), torch.randn(args.batch)
    times: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(args.rounds):
        for name, net in nets.items():
            times[name].append(time_steps(net, x, y, args.steps, args.amp))
    out = {"cpu": describe_device("cpu"), "native_bf16": cpu_has_native_bf16(), "threads": args.threads, "amp": args.amp,
           "torch": torch.__version__, "batch": args.batch, "models": {}}
    micro = statistics.median(times["micro"])
    print(f"{out['cpu']}, {args.threads} threads, amp={args.amp}, batch {args.batch}")
    print(f"{'model':10s} {'params':>11s} {'MACs/seq':>12s} {'seq/s':>8s} {'x Micro time':>13s} {'s / quick epoch':>16s}")
    for name, net in nets.items():
        step = statistics.median(times[name])
        row = {"parameters": networks.count_parameters(net), "macs": networks.count_macs(net, (1, 5, 110)),
               "seq_per_s": args.batch / step, "time_vs_micro": step / micro,
               "quick_epoch_s": QUICK_TRAIN / (args.batch / step)}
        out["models"][name] = row
        print(f"{name:10s} {row['parameters']:>11,} {row['macs']:>12,} {row['seq_per_s']:>8.0f} "
              f"{row['time_vs_micro']:>13.2f} {row['quick_epoch_s']:>16.0f}")
    if args.batch_sizes:
        out["batch_sizes"] = time_batch_sizes(networks.camformer_micro(5), args.batch_sizes, args)
    if args.train:
        config = TrainConfig.preset("quick", progress=False, amp=args.amp, num_threads=args.threads)
        data = quick_data(seed=config.seed)
        start = time.perf_counter()
        result = run_preset(config, data=data)
        seconds = time.perf_counter() - start
        out["quick_preset"] = {"seconds": seconds, "epoch_seconds": result.history["seconds"].tolist(),
                               "heldout_pearson": result.metrics["test_pearson"],
                               "heldout_spearman": result.metrics["test_spearman"]}
        print(f"quick preset ({config.model}, {config.max_epochs} epochs, amp={args.amp}): {seconds:.0f} s, "
              f"held-out r {result.metrics['test_pearson']:.4f}, rho {result.metrics['test_spearman']:.4f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
