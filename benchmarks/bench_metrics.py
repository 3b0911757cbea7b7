"""Bootstrap of a test-set correlation: ``camformer.stats.bootstrap.bootstrap_samples`` against a naive loop.

Side by side in one run, on the same data (n sequences, simulated: y ~ N(0, 1), yhat = y + noise)
and the same resample indices: the naive loop draws each resample and calls
``scipy.stats.pearsonr`` / ``spearmanr``; the vectorised version holds a chunk of resamples as copy
counts (Spearman ranks without sorting each resample). Prints a Markdown table of seconds per
1,000 resamples and the ratio naive / vectorised, and checks both give the same numbers.

Usage: ``python benchmarks/bench_metrics.py [--n 62058] [--n-boot 100]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from camformer.models.inference import describe_device
from camformer.stats.bootstrap import bootstrap_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=62058)
    parser.add_argument("--n-boot", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.normal(size=args.n)
    yhat = y + rng.normal(scale=0.3, size=args.n)
    naive_fn = {"pearson_r": lambda a, b: stats.pearsonr(a, b)[0], "spearman_rho": lambda a, b: stats.spearmanr(a, b)[0]}
    print(f"machine: {describe_device('cpu')}; n = {args.n:,}, {args.n_boot} resamples\n")
    print("| metric | naive loop (s / 1,000) | vectorised (s / 1,000) | naive / vectorised |")
    print("|---|---:|---:|---:|")
    for metric, fn in naive_fn.items():
        start = time.perf_counter()
        fast = bootstrap_samples(y, yhat, metric, n_boot=args.n_boot, seed=1, chunk=64)
        t_fast = time.perf_counter() - start
        start = time.perf_counter()
        draw = np.random.default_rng(1)
        idx = np.vstack([draw.integers(0, args.n, size=(min(64, args.n_boot - s), args.n))
                         for s in range(0, args.n_boot, 64)])
        naive = np.array([fn(y[i], yhat[i]) for i in idx])
        t_naive = time.perf_counter() - start
        assert np.allclose(fast, naive, rtol=1e-9), metric
        scale = 1000 / args.n_boot
        print(f"| {metric} | {t_naive * scale:.1f} | {t_fast * scale:.1f} | {t_naive / t_fast:.1f} |")


if __name__ == "__main__":
    main()
