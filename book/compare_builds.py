"""Print two builds' recorded conclusions side by side, as Markdown, and whether they agree.

Build the book twice into two results folders, e.g. with the default CPU kernels and with
AVX2 kernels (which reproduce an AVX2-only CPU's numbers bit for bit)::

    python book/build.py --preset quick --results-dir results_avx512
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
        python book/build.py --preset quick --results-dir results_avx2
    python book/compare_builds.py results_avx512 results_avx2 --preset quick --labels AVX-512 AVX2

The rules (``camformer.records.agreement``): every str/bool/int record must be equal; every number with
a 95% interval (``k_ci_low``/``k_ci_high``) must lie inside the other build's interval, both ways;
numbers without an interval are listed (``--all``) but not judged; run-only keys (seconds) are
excluded. Exit status 0 when the builds agree, 1 when they do not, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from camformer.records.agreement import RUN_ONLY_RULE, compare_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two builds' records (conclusions side by side).")
    parser.add_argument("results_a", type=Path, help="results folder of the first build")
    parser.add_argument("results_b", type=Path, help="results folder of the second build")
    parser.add_argument("--preset", default="quick", help="the preset both builds ran (default quick)")
    parser.add_argument("--labels", nargs=2, default=("A", "B"), metavar=("A", "B"), help="column names")
    parser.add_argument("--all", action="store_true", help="also list the numbers without an interval")
    args = parser.parse_args(argv)
    try:
        agreement = compare_results(args.results_a, args.results_b, args.preset)
    except FileNotFoundError as error:
        print(f"compare_builds: {error}", file=sys.stderr)
        return 2
    a, b = args.labels
    print(f"Records of two builds on the `{args.preset}` preset: {a} (`{args.results_a}`) and "
          f"{b} (`{args.results_b}`). Conclusions (words, booleans, counts, ranks) must be equal; a "
          f"number with a 95% interval must lie inside the other build's interval; {RUN_ONLY_RULE}.\n")
    print(agreement.markdown((a, b), unjudged=args.all))
    print(f"\n{agreement.summary()}.")
    if not agreement.ok:
        print(f"\n**{len(agreement.disagreements)} records disagree.**")
    return 0 if agreement.ok else 1


if __name__ == "__main__":
    sys.exit(main())
