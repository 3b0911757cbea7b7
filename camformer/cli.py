"""The ``camformer`` command line: ``camformer data fetch|check``, ``train``, ``predict``, ``variants``,
``explain``, ``evaluate``, ``weights fetch``. Each command parses its arguments and calls the library."""

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


# --- train (owner: train) ---
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
    p = sub.add_parser("train", help="train a model with a preset (resumes from RUN_DIR/checkpoint.pt)",
                       description="Train with a preset; run under torchrun for several GPUs or hosts.")
    # No choices here: listing the presets would import the training loop (and torch) for every
    # command; TrainConfig.preset names them when an unknown one is given.
    p.add_argument("--preset", default="quick", help="quick (CPU, default), paper (GPU), or another preset "
                                                     "of camformer.train.PRESETS")
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


# --- end train ---


# --- predict / variants / explain (owner: apply) ---
def _add_model_options(p, *, checkpoint_alias: bool = False, batch_size: int = 1024,
                       batch_help: str = "sequences per forward pass") -> None:
    names = ["--model", "-m"] + (["--checkpoint"] if checkpoint_alias else [])
    p.add_argument(*names, dest="model", required=True, metavar="MODEL",
                   help="original or mini (the paper's published models: downloaded once, cached, self-checked), "
                        "or a saved model directory (model.pt + config.json; a run directory's model/ is found)")
    p.add_argument("--cache-dir", help="where published models are cached (default: $CAMFORMER_DATA_DIR or the user "
                                       "cache)")
    p.add_argument("--url", help="download the published model's tarball from this URL (a mirror)")
    p.add_argument("--check", type=int, default=256, metavar="N",
                   help="test sequences of a published model's one-time self-check (default 256)")
    p.add_argument("--batch-size", type=int, default=batch_size, help=f"{batch_help} (default {batch_size})")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cpu)")
    p.add_argument("--output", "-o", default="-", help="output TSV ('-': standard output)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _model(args: argparse.Namespace):
    from .apply import resolve_model

    model, about = resolve_model(args.model, check_n=args.check, cache_dir=args.cache_dir, url=args.url,
                                 progress=not args.no_progress)
    print(about, file=sys.stderr)
    return model


def _write(table, args: argparse.Namespace, what: str) -> None:
    if args.output == "-":
        table.to_csv(sys.stdout, sep="\t", index=False)
    else:
        table.to_csv(args.output, sep="\t", index=False)
        print(f"{len(table):,} {what} written to {args.output}", file=sys.stderr)


def _add_input_options(p, help_text: str) -> None:
    p.add_argument("file", help=help_text)
    p.add_argument("--paper-filters", action="store_true",
                   help="drop what the paper's training filters drop (length outside 110 +- 3, more than 3 N)")


def _read_input(args: argparse.Namespace):
    """The command's sequence file, read and packed; its preparation report goes to standard error."""
    from .data import FilterConfig
    from .sequence_files import read_sequence_file

    seqs = read_sequence_file(args.file, FilterConfig() if args.paper_filters else None)
    print(seqs.report, file=sys.stderr)
    return seqs


def _progress(args: argparse.Namespace, n: int) -> bool:
    """A progress bar on long files only (more than ten batches)."""
    return not args.no_progress and n > 10 * args.batch_size


def _predict(args: argparse.Namespace) -> int:
    from .apply import predict_sequences

    seqs = _read_input(args)
    model = _model(args)
    if args.encoding:
        model.encoding = args.encoding
    table = predict_sequences(model, seqs, batch_size=args.batch_size, device=args.device, amp=args.amp,
                              progress=_progress(args, len(seqs)))
    _write(table, args, "predictions")
    return 0


def _add_predict(sub) -> None:
    from .data import ENCODINGS

    p = sub.add_parser("predict", help="predict expression of the promoters in a file",
                       description="Predict expression: a TSV of id and prediction. Sequences of other lengths "
                                   "are padded at the 3' end with N or cut to 110 nt, as the paper did, and counted.")
    _add_input_options(p, "DREAM seq<TAB>expression file, a TSV with a header holding seq (and id), or FASTA "
                          "(gzip too)")
    _add_model_options(p, checkpoint_alias=True)
    p.add_argument("--encoding", choices=sorted(ENCODINGS),
                   help="default: the one saved with the model, else from its input channels")
    p.add_argument("--amp", choices=["auto", "bf16", "off"], default="off")
    p.set_defaults(func=_predict)


def _variants(args: argparse.Namespace) -> int:
    from .apply import score_variants
    from .sequence_files import read_variant_pairs

    pairs = read_variant_pairs(args.pairs, args.reference)
    print(pairs.report, file=sys.stderr)
    table = score_variants(_model(args), pairs, batch_size=args.batch_size, device=args.device,
                           progress=_progress(args, len(pairs)))
    _write(table, args, "variant effects")
    return 0


def _add_variants(sub) -> None:
    p = sub.add_parser("variants", help="predicted effect (alt - ref) of sequence variants",
                       description="Score variants as the challenge scored its SNVs: predicted alt minus predicted "
                                   "ref. PAIRS is a TSV with a header holding ref and alt sequences (and id), or, "
                                   "with --reference, one variant per line: [id<TAB>]pos:ref>alt[,pos:ref>alt...] "
                                   "(1-based positions in the reference).")
    p.add_argument("pairs", metavar="PAIRS")
    p.add_argument("--reference", help="the reference of a substitution list: a file with one sequence, or the "
                                       "sequence itself")
    _add_model_options(p)
    p.set_defaults(func=_variants)


def _explain(args: argparse.Namespace) -> int:
    from .apply import METHODS, explain_maps, tidy_maps, write_logos

    if args.method not in METHODS:
        print(f"camformer explain: --method {args.method!r}: choose from {', '.join(METHODS)}", file=sys.stderr)
        return 2
    seqs = _read_input(args)
    model = _model(args)
    maps = explain_maps(model, seqs.codes, args.method, layer=args.layer, batch_size=args.batch_size,
                        device=args.device, progress=not args.no_progress)
    _write(tidy_maps(seqs.ids, maps), args, "scores (id, position, base)")
    if args.logos:
        written = write_logos(maps, seqs, args.method, args.logos)
        print(f"{len(written):,} sequence logos written to {args.logos}", file=sys.stderr)
    return 0


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="per-base maps (ISM, Grad-CAM, IG, DeepLift) of the promoters in a file",
                       description="Explain each sequence: a tidy TSV of id, position (1-based), base and score. "
                                   "ism: predicted change of each substitution, exact, recomputing only the "
                                   "receptive field; gradcam, ig, deeplift: attributions folded onto the bases.")
    _add_input_options(p, "as for camformer predict")
    _add_model_options(p, batch_size=128, batch_help="mutants (ism), sequences (gradcam, deeplift) or interpolation "
                                                     "points (ig) per forward pass")
    # Checked by the command (apply.METHODS): naming the choices here would import torch for every command.
    p.add_argument("--method", default="ism", help="ism (default), gradcam, ig or deeplift")
    p.add_argument("--layer", help="gradcam: the convolution layer (default: the last)")
    p.add_argument("--logos", metavar="DIR", help="also write one sequence-logo PNG per sequence here")
    p.set_defaults(func=_explain)
# --- end predict / variants / explain ---


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
    from .apply import model_directory
    from .models import load_model, load_model_metadata

    directory = model_directory(path)
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

    if args.name and args.name not in published.PUBLISHED:
        print(f"camformer weights fetch: {args.name!r} is not a published model; choose from "
              f"{sorted(published.PUBLISHED)}", file=sys.stderr)
        return 2
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
    except _known_errors() as err:
        print(f"camformer: error: {err}", file=sys.stderr)
        return 2
    return 0


def _add_weights(sub) -> None:
    p = sub.add_parser("weights", help="the paper's trained models (Original, Mini), loaded without running "
                                       "pickled code")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    f = wsub.add_parser("fetch", help="download the authors' seed-42 models (sha256 pinned on first use) and load them")
    f.add_argument("name", nargs="?", help="original or mini (default: both)")
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
COMMANDS = (_add_data, _add_train, _add_predict, _add_variants, _add_explain, _add_evaluate, _add_weights)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="camformer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    """The errors a command reports in one line (exit code 2) instead of a traceback: bad input
    files, and, where their modules are loaded, downloads, published archives and self-checks.
    Looked up in ``sys.modules`` so that a command that needs no torch imports none."""
    from .data import DataFormatError

    errors: list[type[BaseException]] = [DataFormatError, FileNotFoundError, IsADirectoryError]
    for module, names in (("camformer.fetch", ("FetchError",)),
                          ("camformer.published", ("PublishedModelError", "SelfCheckError")),
                          ("camformer.safe_pickle", ("UnsafePickleError", "PickledFileError")),
                          ("camformer.model_archive", ("ArchiveError",))):
        if module in sys.modules:
            errors += [getattr(sys.modules[module], name) for name in names]
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _known_errors() as err:
        print(f"camformer: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
