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
def _evaluate_checkpoint(directory: str):
    """Predict the bundled test set with a saved model; returns predictions indexed by id."""
    import pandas as pd

    from . import train
    from .data import test_set_data
    from .models import load_model

    if not hasattr(train, "predict"):
        raise RuntimeError("camformer.train has no predict(model, codes, ...) function to run a checkpoint")
    data = test_set_data()
    model = load_model(directory)
    values = train.predict(model, data.codes)
    values = values.detach().cpu().numpy() if hasattr(values, "detach") else values
    return pd.Series(values, index=data.ids, name="prediction")


def _evaluate(args: argparse.Namespace) -> int:
    from .metrics import dream_score, read_predictions, score_predictions

    if (args.predictions is None) == (args.checkpoint is None):
        print("camformer evaluate: give either a PREDICTIONS file or --checkpoint DIR", file=sys.stderr)
        return 2
    if args.checkpoint is not None:
        pred, source = _evaluate_checkpoint(args.checkpoint), f"checkpoint {args.checkpoint}"
    else:
        pred = read_predictions(args.predictions, args.column)
        source = f"{args.predictions} (column {pred.name})"
    try:
        table = score_predictions(pred, private=not args.public)
    except ValueError as err:
        print(f"camformer: error: {source}: {err}", file=sys.stderr)
        return 2
    which = "all test ids (public + private)" if args.public else "the private leaderboard's ids (public ids left out)"
    print(f"{source}: {len(pred):,} predictions; scored on {which}")
    if len(pred) < 71103:
        print("note: predictions cover part of the test set; each subset is scored on the covered ids only")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    for label, metric in (("Pearson score (r²)", "pearson_r2"), ("Spearman score (ρ)", "spearman_rho")):
        score = dream_score(table, metric)
        print(f"{label}: " + (f"{score:.4f}" if score == score else "n/a (a subset has fewer than 3 scored items)"))
    if args.output:
        table.to_csv(args.output, sep="\t")
    return 0


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score test-set predictions per DREAM subset, with both weighted scores")
    p.add_argument("predictions", nargs="?", help="TSV/CSV (optionally .gz) with an 'id' column and a prediction column")
    p.add_argument("--column", help="prediction column (default: 'prediction' or the only non-id column)")
    p.add_argument("--checkpoint", metavar="DIR", help="score a saved model (model.pt + config.json) instead")
    p.add_argument("--public", action="store_true",
                   help="score all ids, public-leaderboard ones included (default: as the final private leaderboard)")
    p.add_argument("--output", metavar="TSV", help="also write the per-subset table here")
    p.set_defaults(func=_evaluate)
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
