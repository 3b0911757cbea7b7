"""In-silico mutagenesis on Camformer Original, side by side in one run.

Compares, on the same test sequences and the same model (Camformer Original, eval mode,
untrained weights: the speed does not depend on the weights):

1. a naive loop: one mutant per forward pass (the definition);
2. ``camformer.explain.ism.ism``: mutants of many sequences batched on the device;
3. ``camformer.explain.ism.ism_receptive_field``: only the receptive field of each substitution is
   recomputed through the first five convolution blocks (the library's own split of the
   model, ``camformer.explain.ism.receptive_field_stages``, with reaches from ``conv_reach``);
4. tangermeme's ``saturation_mutagenesis`` (benchmark-only dependency), with its fastISM path.

All at the 80 variable positions (240 substitutions per sequence; tangermeme also predicts
the reference base at each position, 320 per sequence). Checks that every method agrees
with the naive loop to 1e-5 (relative to the size of the prediction, float32) and prints a
Markdown table of seconds per sequence and ratios.

The naive loop is timed on a few random positions per sequence and scaled to 80 (it is too
slow for whole sequences on a shared 2-core CPU). Methods run interleaved, one sequence each
per round, and the median per method is reported.

Usage: ``python benchmarks/bench_ism.py [--rounds 3] [--naive-positions 8] [--threads 2]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bench_common import tangermeme_effects

from camformer.data.dream import encode, load_test_table, encode_sequences
from camformer.models.inference import predict_scalar
from camformer.explain.ism import VARIABLE_POSITIONS, ism, ism_receptive_field
from camformer.models.networks import camformer_original, init_he


@torch.no_grad()
def naive_ism(model, X, positions=VARIABLE_POSITIONS):
    """One mutant per forward pass, straight from the definition."""
    out = torch.zeros(len(X), 4, X.shape[-1])
    for n in range(len(X)):
        ref = predict_scalar(model, X[n : n + 1])
        for p in positions:
            for b in range(4):
                if X[n, b, p] == 1:
                    continue
                x = X[n : n + 1].clone()
                x[0, :, p] = 0
                x[0, b, p] = 1
                out[n, b, p] = predict_scalar(model, x) - ref
    return out


def tangermeme_ism(model, X, batch_size):
    out = torch.zeros(len(X), 4, X.shape[-1])
    out[:, :, 17:97] = tangermeme_effects(model, X, batch_size, start=17, end=97)
    return out


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds; each method runs once per round")
    ap.add_argument("--sequences", type=int, default=4, help="sequences per method per round")
    ap.add_argument("--naive-positions", type=int, default=8,
                    help="positions per round for the naive loop (its time is scaled to 80)")
    ap.add_argument("--batch-size", type=int, default=240)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = init_he(camformer_original()).eval()  # He init: effects of a realistic size
    seqs = load_test_table()["seq"].sample(args.rounds * args.sequences, random_state=0).tolist()
    X_all = encode(torch.as_tensor(encode_sequences(seqs)))
    methods = {
        "camformer.explain.ism.ism (batched)": lambda X: ism(model, X, batch_size=args.batch_size, device="cpu"),
        "camformer.explain.ism.ism_receptive_field": lambda X: ism_receptive_field(
            model, X, batch_size=args.batch_size, device="cpu"),
        "tangermeme saturation_mutagenesis": lambda X: tangermeme_ism(model, X, args.batch_size),
    }
    for fn in methods.values():  # warm-up (oneDNN kernels for each batch shape)
        fn(X_all[:1])
    naive_name = f"naive loop (1 mutant per pass; {args.naive_positions} of 80 positions, scaled)"
    seconds = {naive_name: [], **{name: [] for name in methods}}
    max_err = {name: 0.0 for name in methods}
    max_err_rf = 0.0
    scale = 0.0
    rng = np.random.default_rng(0)
    # Interleaved rounds: on a shared machine the load drifts, and each method sees the same.
    for r in range(args.rounds):
        X = X_all[r * args.sequences : (r + 1) * args.sequences]
        positions = sorted(rng.choice(list(VARIABLE_POSITIONS), size=args.naive_positions, replace=False).tolist())
        naive, t = timed(lambda: naive_ism(model, X[:1], positions))  # first sequence only
        seconds[naive_name].append(t * 80 / args.naive_positions)
        results = {}
        for name, fn in methods.items():
            results[name], t = timed(lambda: fn(X))
            seconds[name].append(t / len(X))
            err = (results[name][:1, :, positions] - naive[:, :, positions]).abs().max().item()
            max_err[name] = max(max_err[name], err)
        batched = results["camformer.explain.ism.ism (batched)"]
        max_err_rf = max(max_err_rf, (results["camformer.explain.ism.ism_receptive_field"] - batched).abs().max().item())
        with torch.no_grad():
            scale = max(scale, model(X).abs().max().item())
        print(f"round {r + 1}: " + ", ".join(f"{k.split(' ')[0]} {v[-1]:.1f}s" for k, v in seconds.items()), flush=True)

    median = {name: float(np.median(v)) for name, v in seconds.items()}
    best = {name: float(np.min(v)) for name, v in seconds.items()}
    print()
    print(f"Camformer Original (eval, He-initialised, untrained), {args.rounds} rounds of {args.sequences} test "
          f"sequences x 240 substitutions (80 variable positions) per method, methods interleaved; batch "
          f"{args.batch_size}, {torch.get_num_threads()} threads, torch {torch.__version__}; largest "
          f"|prediction| {scale:.3g}.")
    print()
    # Ratios within a round see the same load; their median is the steadiest summary.
    batched_name = "camformer.explain.ism.ism (batched)"
    within = {name: float(np.median(np.array(seconds[batched_name]) / np.array(v))) for name, v in seconds.items()}
    print("| method | s / sequence, best round | speed-up vs naive, best | s / sequence, median | "
          "speed-up vs naive, median | speed vs batched, median within a round | max abs diff vs naive |")
    print("|---|---|---|---|---|---|---|")
    for name in seconds:
        err = f"{max_err[name]:.1e}" if name in max_err else "(reference)"
        print(f"| {name} | {best[name]:.2f} | {best[naive_name] / best[name]:.1f}x | {median[name]:.2f} | "
              f"{median[naive_name] / median[name]:.1f}x | {within[name]:.2f}x | {err} |")
    print(f"\nReceptive-field ISM vs batched ISM, all 240 substitutions: max abs diff {max_err_rf:.1e}.")
    # float32: agreement to 1e-5 relative to the size of the prediction
    tol = 1e-5 * max(1.0, scale)
    for name, err in [*max_err.items(), ("receptive field vs batched", max_err_rf)]:
        assert err < tol, f"{name} differs by {err:.3g} (tolerance {tol:.3g})"


if __name__ == "__main__":
    main()
