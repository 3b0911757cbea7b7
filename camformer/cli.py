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
    def _data_fetch(args: argparse.Namespace) -> int:
        from . import fetch

        try:
            names = [args.file] if args.file else fetch.record_files(args.record)
            for name in names:
                path = fetch.fetch_file(name, cache_dir=args.cache_dir, base_url=args.base_url,
                                        progressbar=not args.no_progress)
                print(f"{path}  [{fetch.expected_hash(name, args.cache_dir)[1]}]")
        except fetch.FetchError as err:
            print(f"camformer: error: {err}", file=sys.stderr)
            return 2
        print(f"{len(names)} file(s) in {fetch.resolve_cache_dir(args.cache_dir)}")
        return 0

    f = dsub.add_parser("fetch", help="download the challenge data from Zenodo (checked hashes, cached)")
    f.add_argument("--record", choices=["7395397", "10633252", "all"], default="all",
                   help="Zenodo record: 7395397 training and test files, 10633252 official test subsets")
    f.add_argument("--file", help="fetch only this file of the registry (see camformer.fetch.registry)")
    f.add_argument("--cache-dir", help="download directory (default: $CAMFORMER_DATA_DIR or the user cache)")
    f.add_argument("--base-url", help="download URL/<name> instead of Zenodo (a mirror or a test server)")
    f.add_argument("--no-progress", action="store_true", help="no progress bar")
    f.set_defaults(func=_data_fetch)
    # --- end data fetch ---


# --- train / predict (owner: train) ---
def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .models import save_model
    from .train import TrainConfig, init_distributed, run_preset

    overrides = {k: v for k, v in {
        "max_epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed, "amp": args.amp,
        "compile": args.compile, "device": args.device, "train_size": args.train_size,
    }.items() if v is not None}
    if args.no_progress:
        overrides["progress"] = False
    config = TrainConfig.preset(args.preset, **overrides)
    rank, _ = init_distributed()
    result = run_preset(config, args.run_dir, train_file=args.train_file)
    if rank == 0:
        model_dir = save_model(result.model, Path(args.run_dir) / "model")
        m = result.metrics
        label = " (small-data demonstration on the measured test library; not comparable to the leaderboard)" \
            if config.dataset == "test_library" else ""
        print(f"best epoch {m['best_epoch']}: validation r {m['val_pearson']:.4f}, rho {m['val_spearman']:.4f}")
        if "test_pearson" in m:
            print(f"held-out test: r {m['test_pearson']:.4f}, rho {m['test_spearman']:.4f}{label}")
        print(f"model written to {model_dir}; history in {Path(args.run_dir) / 'history.csv'}")
    return 0


def _add_train(sub) -> None:
    from .train import PRESETS

    p = sub.add_parser("train", help="train a model with a preset (resumes from RUN_DIR/checkpoint.pt)",
                       description="Train with a preset; run under torchrun for several GPUs or hosts.")
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    p.add_argument("--run-dir", required=True, help="checkpoints, history, split and the final model go here")
    p.add_argument("--train-file", help="the challenge's training file (paper preset; see `camformer data fetch`)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--train-size", type=int, help="subsample this many training sequences")
    p.add_argument("--amp", choices=["auto", "bf16", "off"])
    p.add_argument("--compile", choices=["auto", "on", "off"])
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_train)


def _read_sequences(path: str):
    """A DREAM ``seq<TAB>expression`` file, or a TSV with a header holding ``seq`` (and ``id``)."""
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from .data import DataFormatError, SequenceData, encode_sequences, read_dream_txt

    with open(path, "rb") as fh:
        head = fh.read(2)
    if head != b"\x1f\x8b":
        with open(path) as fh:
            first = fh.readline()
    else:
        import gzip

        with gzip.open(path, "rt") as fh:
            first = fh.readline()
    if "seq" not in first.rstrip("\r\n").split("\t"):
        return read_dream_txt(path)[0]
    table = pd.read_csv(path, sep="\t")
    try:
        codes = encode_sequences(table["seq"].astype(str))
    except ValueError as err:
        raise DataFormatError(Path(path), None, str(err)) from None
    ids = table["id"].to_numpy(np.int64) if "id" in table else np.arange(len(table), dtype=np.int64)
    return SequenceData(codes, np.zeros(len(table), np.float32), ids, np.ones(len(table), bool))


def _predict(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from .models import load_model
    from .train import predict

    directory = Path(args.checkpoint)
    if not (directory / "config.json").exists() and (directory / "model" / "config.json").exists():
        directory = directory / "model"  # a run directory of `camformer train`
    model = load_model(directory, map_location="cpu")
    data = _read_sequences(args.file)
    values = predict(model, data.codes, args.encoding, batch_size=args.batch_size, amp=args.amp,
                     progress=not args.no_progress)
    table = pd.DataFrame({"id": data.ids, "prediction": values})
    if args.output == "-":
        table.to_csv(sys.stdout, sep="\t", index=False)
    else:
        table.to_csv(args.output, sep="\t", index=False)
        print(f"{len(table):,} predictions written to {args.output}", file=sys.stderr)
    return 0


def _add_predict(sub) -> None:
    from .data import ENCODINGS

    p = sub.add_parser("predict", help="predict expression for a sequence file with a saved model")
    p.add_argument("--checkpoint", required=True, help="a model directory (model.pt + config.json) or a run directory")
    p.add_argument("file", help="DREAM seq<TAB>expression file, or a TSV with a header holding seq (and id)")
    p.add_argument("--output", "-o", default="-", help="TSV with columns id, prediction ('-': standard output)")
    p.add_argument("--encoding", choices=sorted(ENCODINGS), help="default: from the model's input channels")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--amp", choices=["auto", "bf16", "off"], default="off")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_predict)
# --- end train / predict ---

# --- evaluate (owner: metrics) ---
def _evaluate_checkpoint(directory: str):
    """Predict the bundled test set with a saved model; returns predictions indexed by id."""
    import pandas as pd

    from . import data, train
    from .models import load_model

    test = data.test_set_data()
    model = load_model(directory)
    values = train.predict(model, test.codes, progress=True)
    return pd.Series(values, index=test.ids, name="prediction")


def _evaluate(args: argparse.Namespace) -> int:
    from .metrics import dream_score, read_predictions, score_predictions

    if (args.predictions is None) == (args.checkpoint is None):
        print("camformer evaluate: give either a PREDICTIONS file or --checkpoint DIR", file=sys.stderr)
        return 2
    if args.checkpoint is not None:
        try:
            pred, source = _evaluate_checkpoint(args.checkpoint), f"checkpoint {args.checkpoint}"
        except ValueError as err:
            print(f"camformer: error: {args.checkpoint}: {err}", file=sys.stderr)
            return 2
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
