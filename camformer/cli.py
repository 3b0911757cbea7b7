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
    from .distributed import init_distributed
    from .presets import preset_data, run_preset
    from .train import TrainConfig

    overrides = {k: v for k, v in {
        "max_epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed, "amp": args.amp,
        "compile": args.compile, "device": args.device, "train_size": args.train_size, "val_size": args.val_size,
        "test_size": args.test_size,
    }.items() if v is not None}
    if args.no_progress:
        overrides["progress"] = False
    config = TrainConfig.preset(args.preset, **overrides)
    rank, _ = init_distributed()
    # The data is loaded here, as run_preset would, so that its split is saved with the model.
    data = preset_data(config, args.train_file, args.run_dir)
    result = run_preset(config, args.run_dir, data=data)
    if rank == 0:
        model_dir = save_model(result.model, Path(args.run_dir) / "model", encoding=config.encoding or "onehot",
                               dataset=config.dataset, split={name: part.ids for name, part in data.items()})
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
    p.add_argument("--val-size", type=int, help="subsample this many validation sequences")
    p.add_argument("--test-size", type=int, help="subsample this many test sequences")
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


def _model_directory(path: str):
    """A model directory (model.pt + config.json), or the ``model`` folder of a run directory
    of ``camformer train``."""
    from pathlib import Path

    directory = Path(path)
    if not (directory / "config.json").exists() and (directory / "model" / "config.json").exists():
        directory = directory / "model"
    return directory


def _predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .models import load_model
    from .inference import predict

    model = load_model(_model_directory(args.checkpoint), map_location="cpu")
    data = _read_sequences(args.file)
    values = predict(model, data.codes, args.encoding or model.encoding, batch_size=args.batch_size,
                     amp=args.amp, progress=not args.no_progress)
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
    p.add_argument("--encoding", choices=sorted(ENCODINGS),
                   help="default: the one saved with the model, else from its input channels")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--amp", choices=["auto", "bf16", "off"], default="off")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_predict)
# --- end train / predict ---

# --- evaluate (owner: metrics) ---
# The private SNV pairs are rebuilt (camformer/resources/SOURCE.md). Scored here, Camformer's
# published predictions differ from the paper's seed-42 rows (grid_res_all_models_pvt.csv) by at
# most these amounts: r² of a subset (the paper's r squared), ρ, and the weighted scores; every
# subset but SNVs agrees to 1e-6. Checked by tests/test_cli.py.
SNV_NOTE = ("note: the private SNV pairs (39,822 of 44,492) are reconstructed, not the official list "
            "(camformer/resources/SOURCE.md). On Camformer's published predictions this moves the paper's "
            "published rows by at most 4.8e-4 (Camformer Mini, SNV r²; ρ by at most 2.8e-4, the weighted "
            "scores by at most 1.3e-4).")


def _evaluate_checkpoint(path: str):
    """Predict the bundled test set with a saved model: ``(predictions indexed by id, note)``.

    A model trained on the measured test library (saved ``dataset`` "test_library") is scored
    on its own held-out ids only (``split.npz``, ``"test"``), and refused without them; a
    model trained on the challenge's training data on all 71,103 test ids.
    """
    import pandas as pd

    from . import data, inference
    from .models import load_model, load_model_metadata

    directory = _model_directory(path)
    meta = load_model_metadata(directory)
    test = data.test_set_data()
    if meta["dataset"] == "test_library":
        split = meta["split"] or {}
        if "test" not in split:
            raise ValueError("the model was trained on the measured test library, and no split.npz with its "
                             "held-out ids is saved beside it: scoring it on the test set would score sequences "
                             "it was trained on")
        try:
            test = test.subset(split["test"])
        except KeyError:
            raise ValueError(f"{directory / 'split.npz'}: some held-out ids are not test-set ids") from None
        note = (f"model trained on the measured test library: scoring only its {len(test):,} held-out test "
                f"ids ({directory / 'split.npz'}), not all 71,103")
    elif meta["dataset"] in ("dream_train", None):
        note = ("model trained on the challenge's training data: scoring all test ids" if meta["dataset"]
                else "the model does not record what it was trained on: scoring all test ids, as for a model "
                     "trained on the challenge's training data")
    else:
        raise ValueError(f"unknown training dataset {meta['dataset']!r} in {directory / 'config.json'}; "
                         "expected 'dream_train' or 'test_library'")
    model = load_model(directory)
    values = inference.predict(model, test.codes, model.encoding, progress=True)
    return pd.Series(values, index=test.ids, name="prediction"), note


def _evaluate(args: argparse.Namespace) -> int:
    from .metrics import dream_score, read_predictions, score_predictions

    if (args.predictions is None) == (args.checkpoint is None):
        print("camformer evaluate: give either a PREDICTIONS file or --checkpoint DIR", file=sys.stderr)
        return 2
    if args.checkpoint is not None:
        try:
            pred, note = _evaluate_checkpoint(args.checkpoint)
            source = f"checkpoint {args.checkpoint}"
            print(note)
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
    print(SNV_NOTE)
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


# --- weights (owner: published) ---
def _weights_fetch(args: argparse.Namespace) -> int:
    from . import fetch, published
    from .models import count_parameters

    names = [args.name] if args.name else sorted(published.PUBLISHED)
    if args.url and len(names) != 1:
        print("camformer weights fetch: --url needs one model name (original or mini)", file=sys.stderr)
        return 2
    try:
        for name in names:
            spec = published.published_model(name)
            model = published.load_published(name, cache_dir=args.cache_dir, url=args.url,
                                             progressbar=not args.no_progress)
            trust = fetch.expected_hash(spec.file, args.cache_dir)[1]
            print(f"{spec.title}: {count_parameters(model):,} parameters, encoding {model.encoding}; "
                  f"{fetch.local_path(spec.file, args.cache_dir)}  [{trust}]")
            if args.check is not None:
                result = published.self_check(model, name, n=args.check or None, progress=not args.no_progress)
                print(f"  self-check: predictions within {result['max_abs_diff']:.2g} of the published ones "
                      f"on {result['n']:,} test sequences (tolerance {result['tolerance']:g})")
    except (fetch.FetchError, published.PublishedModelError, published.UnsafePickleError,
            published.SelfCheckError) as err:
        print(f"camformer: error: {err}", file=sys.stderr)
        return 2
    return 0


def _add_weights(sub) -> None:
    from .published import PUBLISHED

    p = sub.add_parser("weights", help="the paper's trained models (Original, Mini), loaded without running "
                                       "pickled code")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    f = wsub.add_parser("fetch", help="download the authors' seed-42 models (sha256 pinned on first use) and load them")
    f.add_argument("name", nargs="?", choices=sorted(PUBLISHED), help="which model (default: both)")
    f.add_argument("--cache-dir", help="download directory (default: $CAMFORMER_DATA_DIR or the user cache)")
    f.add_argument("--url", help="download the tarball from this URL instead of the authors' site (needs NAME)")
    f.add_argument("--check", type=int, nargs="?", const=0, metavar="N",
                   help="also compare predictions with the published ones on N test sequences (no N: all 71,103)")
    f.add_argument("--no-progress", action="store_true", help="no progress bars")
    f.set_defaults(func=_weights_fetch)
# --- end weights ---


# Every subcommand's parser builder, in the order `camformer --help` lists them: a new
# subcommand is one more entry here (a missing builder is a NameError at import, not a
# command that silently disappears).
COMMANDS = (_add_data, _add_train, _add_predict, _add_evaluate, _add_weights)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camformer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
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
