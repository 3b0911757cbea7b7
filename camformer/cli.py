"""The ``camformer`` command line: ``camformer data fetch|check``, ``train``, ``predict``, ``evaluate``."""

from __future__ import annotations

import argparse
import sys


def _data_check(args: argparse.Namespace) -> int:
    from .data import FilterConfig, read_dream_txt

    filters = FilterConfig(max_n=args.max_n, length_tolerance=args.length_tolerance)
    data, report = read_dream_txt(args.file, filters, progress=args.progress)
    print(report)
    t = data.targets
    if len(t):
        print(f"expression: min {t.min():.3g}, median {float(__import__('numpy').median(t)):.3g}, "
              f"max {t.max():.3g}; {int(data.real_valued.sum()):,} real-valued, "
              f"{int((~data.real_valued).sum()):,} integer")
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="fetch or check DREAM data files")
    dsub = p.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="validate a DREAM training file and print its summary")
    c.add_argument("file")
    c.add_argument("--max-n", type=int, default=3)
    c.add_argument("--length-tolerance", type=int, default=3)
    c.add_argument("--progress", action="store_true")
    c.set_defaults(func=_data_check)
    # --- data fetch (owner: fetch) ---
    # --- end data fetch ---


# --- train / predict (owner: train) ---
# --- end train / predict ---

# --- evaluate (owner: metrics) ---
# --- end evaluate ---


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camformer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data(sub)
    for name in ("_add_train", "_add_predict", "_add_evaluate"):
        add = globals().get(name)
        if add is not None:
            add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .data import DataFormatError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DataFormatError, FileNotFoundError) as err:
        print(f"camformer: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
