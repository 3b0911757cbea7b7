"""The camformer command line: data fetch|check, train, predict, variants, explain, evaluate,
weights fetch. Each command checks its options before any work, then calls the library.

A bad option value or input file gives one line on standard error and exit code 2; progress bars
are drawn only when standard error is a terminal."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DESCRIPTION = ("Predict, explain and score yeast promoter expression with Camformer (Dash & Bornelöv, "
               "Bioinformatics Advances 2025). Each command's --help lists its options and output columns.")
# The presets of camformer.training.train.PRESETS, named here so that --help imports no torch
# (tests/test_cli_options.py checks that the two agree).
PRESET_NAMES = ("quick", "paper", "smoke", "grid_slice")
ACCEPTED_INPUT = ("FASTA, a TSV with a header line holding seq (and id), or DREAM lines seq<TAB>expression; "
                  "gzip too; '-' reads standard input")


class UsageError(Exception):
    """A bad option value: one line on standard error, exit code 2, before any work."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (the usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _at_least(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return whole_number


_positive, _non_negative = _at_least(1), _at_least(0)


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal (in a pipe or a log they would fill it with \\r lines)."""
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def _check_output_file(path: str | None, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written (``-``: standard output).
    A probe file is created and removed when none is there, so nothing stays behind."""
    if path is None or path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {target.parent} does not exist")
    try:
        if target.exists():
            with open(target, "r+b"):
                pass
        else:
            with open(target, "xb"):
                pass
            target.unlink()
    except OSError as err:
        raise UsageError(f"{option} {path}: cannot write there ({err.strerror or err})") from None


def _check_output_folder(path: str | None, option: str, *, keep: bool = False) -> None:
    """Refuse, before any work, a folder that cannot be created or written. A folder created to
    check is removed again (unless ``keep``), so nothing stays behind."""
    if path is None:
        return
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{option} {path}: exists and is not a folder; give a folder (created if needed)")
    created = []
    try:
        if not target.exists():
            missing = [target, *[p for p in target.parents if not p.exists()]]
            created = list(missing)
            target.mkdir(parents=True)
        probe = target / f".camformer-write-check-{os.getpid()}"  # one per process (torchrun)
        with open(probe, "xb"):
            pass
        probe.unlink()
    except OSError as err:
        raise UsageError(f"{option} {path}: cannot create or write this folder ({err.strerror or err})") from None
    finally:
        for folder in created if not keep else ():  # innermost first
            if folder.is_dir():
                folder.rmdir()


def _check_device(args: argparse.Namespace) -> None:
    """``--device`` checked against this machine (auto: CUDA if present, else CPU)."""
    from camformer.models.inference import choose_device

    try:
        args.device = str(choose_device(args.device))
    except ValueError as err:
        raise UsageError(f"--device {err}") from None


def _add_device(p, what: str = "run the model") -> None:
    p.add_argument("--device", default="auto",
                   help=f"where to {what}: auto (default: the first CUDA device if there is one, else the CPU), "
                        "cpu, cuda, cuda:N or mps; refused if this machine does not have it")


def _add_no_progress(p) -> None:
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars (they are drawn only when standard error is a terminal)")


def _data_check(args: argparse.Namespace) -> int:
    from camformer.data.dream import FilterConfig, read_dream_txt

    filters = FilterConfig(max_n=args.max_n, length_tolerance=args.length_tolerance)
    data, report = read_dream_txt(args.file, filters, progress=args.progress and sys.stderr.isatty())
    print(report)
    t = data.targets
    if len(t):
        import numpy as np

        print(f"expression: min {t.min():.3g}, median {float(np.median(t)):.3g}, "
              f"max {t.max():.3g}; {int(data.real_valued.sum()):,} real-valued, "
              f"{int((~data.real_valued).sum()):,} integer")
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="fetch or check DREAM data files", description="Fetch or check DREAM data files.")
    dsub = p.add_subparsers(dest="data_command", required=True)
    c = dsub.add_parser("check", help="validate a DREAM training file and print its summary",
                        description="Validate a DREAM training file (seq<TAB>expression per line, gzip too) with "
                                    "the paper's filters; print what was kept and dropped, and the expression range. "
                                    "A bad row stops it with the file, the line and the problem (exit code 2).")
    c.add_argument("file", metavar="FILE", help="the DREAM file to check (seq<TAB>expression per line; gzip too)")
    c.add_argument("--max-n", type=_non_negative, default=3,
                   help="drop sequences with more N than this (default 3, as the paper did)")
    c.add_argument("--length-tolerance", type=_non_negative, default=3,
                   help="drop sequences whose length differs from 110 by more than this (default 3, as the paper did)")
    c.add_argument("--progress", action="store_true", help="show a progress bar while reading (on a terminal)")
    c.set_defaults(func=_data_check)
    # --- data fetch (owner: fetch) ---
    def _data_fetch(args: argparse.Namespace) -> int:
        from camformer.data import fetch

        try:
            names = [args.file] if args.file else fetch.record_files(args.record)
            for name in names:
                path = fetch.fetch_file(name, cache_dir=args.cache_dir, base_url=args.base_url,
                                        progressbar=_progress(args))
                print(f"{path}  [{fetch.expected_hash(name, args.cache_dir)[1]}]")
        except fetch.FetchError as err:
            print(f"camformer: error: {err}", file=sys.stderr)
            return 2
        print(f"{len(names)} file(s) in {fetch.resolve_cache_dir(args.cache_dir)}")
        return 0

    f = dsub.add_parser("fetch", help="download the challenge data from Zenodo (checked hashes, cached)",
                        description="Download the DREAM 2022 challenge data from Zenodo into a cache, checking "
                                    "each file's hash; print each file's path.")
    f.add_argument("--record", choices=["7395397", "10633252", "all"], default="all",
                   help="Zenodo record: 7395397 training and test files, 10633252 official test subsets")
    f.add_argument("--file", help="fetch only this file of the registry (see camformer.data.fetch.registry)")
    f.add_argument("--cache-dir", help="download directory (default: $CAMFORMER_DATA_DIR or the user cache)")
    f.add_argument("--base-url", help="download URL/<name> instead of Zenodo (a mirror or a test server)")
    _add_no_progress(f)
    f.set_defaults(func=_data_fetch)
    # --- end data fetch ---


# --- train (owner: train) ---
def _train(args: argparse.Namespace) -> int:
    if args.preset not in PRESET_NAMES:
        raise UsageError(f"--preset {args.preset}: unknown; choose from {', '.join(PRESET_NAMES)}")
    _check_device(args)
    from camformer.training.checkpoint import CHECKPOINT, load_checkpoint
    from camformer.data.dream import check_input_file
    from camformer.training.distributed import init_distributed
    from camformer.training.presets import preset_data, run_preset, save_run_model
    from camformer.training.train import TrainConfig

    overrides = {k: v for k, v in {
        "max_epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed, "amp": args.amp,
        "compile": args.compile, "device": args.device, "train_size": args.train_size, "val_size": args.val_size,
        "test_size": args.test_size,
    }.items() if v is not None}
    overrides["progress"] = _progress(args)
    config = TrainConfig.preset(args.preset, **overrides)
    if config.dataset == "dream_train":
        if args.train_file is None:
            raise UsageError(f"--preset {args.preset} trains on the challenge's training file: run `camformer data "
                             "fetch` and pass its path with --train-file")
        check_input_file(args.train_file)
    if args.run_dir is None:
        args.run_dir = str(Path("runs") / args.preset)  # not results/: the book keeps its own model there
        print(f"run directory: {args.run_dir} (the default for --preset {args.preset}; --run-dir chooses another)")
    # Kept: training writes into it next (and processes under torchrun check it at the same time).
    _check_output_folder(args.run_dir, "--run-dir", keep=True)
    rank, _ = init_distributed()
    run_dir = Path(args.run_dir)
    if rank == 0 and (run_dir / CHECKPOINT).exists():
        done = int(load_checkpoint(run_dir / CHECKPOINT)["epoch"]) + 1
        print(f"resuming the run in {run_dir} from its checkpoint after epoch {done} (of at most "
              f"{config.max_epochs}); a new --run-dir starts afresh")
    # The data is loaded here, as run_preset would, so that its split is saved with the model.
    data = preset_data(config, args.train_file, args.run_dir)
    result = run_preset(config, args.run_dir, data=data)
    if rank == 0:
        model_dir = save_run_model(result, run_dir / "model", config, data)
        m = result.metrics
        label = " (small-data demonstration on the measured test library; not comparable to the leaderboard)" \
            if config.dataset == "test_library" else ""
        print(f"best epoch {m['best_epoch']}: validation r {m['val_pearson']:.4f}, rho {m['val_spearman']:.4f}")
        if "test_pearson" in m:
            print(f"held-out test: r {m['test_pearson']:.4f}, rho {m['test_spearman']:.4f}{label}")
        print(f"model written to {model_dir} (use it with --model {model_dir}); history in "
              f"{run_dir / 'history.csv'}")
    return 0


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model with a preset (resumes from RUN_DIR/checkpoint.pt)",
                       description="Train with a preset; run under torchrun for several GPUs or hosts. A run "
                                   "directory that holds a checkpoint is resumed (and says from which epoch). "
                                   "Writes RUN_DIR/model (model.pt, config.json, split.npz: what --model DIR "
                                   "and evaluate --checkpoint read), history.csv and train_config.json.")
    p.add_argument("--preset", default="quick",
                   help="quick (default: the book's model, CPU, minutes), paper (the published recipe, GPU, needs "
                        "--train-file), smoke (seconds, to test the machinery) or grid_slice (chapter 07's runs)")
    p.add_argument("--run-dir", help="checkpoints, history, split and the final model go here "
                                     "(default: runs/PRESET)")
    p.add_argument("--train-file", help="the challenge's training file (paper preset; see `camformer data fetch`)")
    p.add_argument("--epochs", type=_positive, help="at most this many epochs (default: the preset's)")
    p.add_argument("--batch-size", type=_positive, help="sequences per optimiser step (default: the preset's)")
    p.add_argument("--seed", type=int, help="seeds the weights, the shuffling and the split (default: the preset's)")
    p.add_argument("--train-size", type=_positive, help="subsample this many training sequences")
    p.add_argument("--val-size", type=_positive, help="subsample this many validation sequences")
    p.add_argument("--test-size", type=_positive, help="subsample this many test sequences")
    p.add_argument("--amp", choices=["auto", "bf16", "off"],
                   help="autocast: off (float32), bf16, or auto (the fastest the hardware runs natively); "
                        "default: the preset's")
    p.add_argument("--compile", choices=["auto", "on", "off"],
                   help="torch.compile the model (auto: on CUDA only); default: the preset's")
    _add_device(p, "train")
    _add_no_progress(p)
    p.set_defaults(func=_train)


# --- end train ---


# --- predict / variants / explain (owner: apply) ---
def _add_model_options(p, *, checkpoint_alias: bool = False, batch_size: int = 1024,
                       batch_help: str = "sequences per forward pass") -> None:
    names = ["--model", "-m"] + (["--checkpoint"] if checkpoint_alias else [])
    p.add_argument(*names, dest="model", required=True, metavar="MODEL",
                   help="original or mini (the paper's published models: downloaded once, cached, self-checked), "
                        "the authors' tarball of one downloaded by hand (Camformer_9.tar.gz, Camformer_219.tar.gz), "
                        "or a saved model directory (model.pt + config.json; a run directory's model/ is found)")
    p.add_argument("--cache-dir", help="where published models are cached (default: $CAMFORMER_DATA_DIR or the user "
                                       "cache)")
    p.add_argument("--url", help="download the published model's tarball from this URL (a mirror)")
    p.add_argument("--check", type=_positive, default=256, metavar="N",
                   help="test sequences of a published model's one-time self-check (default 256)")
    p.add_argument("--batch-size", type=_positive, default=batch_size, help=f"{batch_help} (default {batch_size})")
    _add_device(p)
    p.add_argument("--output", "-o", default="-", help="output TSV ('-': standard output, the default)")
    _add_no_progress(p)


def _model(args: argparse.Namespace):
    """The model ``--model`` names, and the line that says which it is (printed by :func:`_say`
    once every check has passed, so that a refused command prints one line only)."""
    from .apply import resolve_model

    return resolve_model(args.model, check_n=args.check, cache_dir=args.cache_dir, url=args.url,
                         progress=_progress(args))


def _say(*lines) -> None:
    """What a command found (its input's report, its model), on standard error, once checked."""
    for line in lines:
        print(line, file=sys.stderr)


def _write(table, args: argparse.Namespace, what: str) -> None:
    if args.output == "-":
        table.to_csv(sys.stdout, sep="\t", index=False)
    else:
        table.to_csv(args.output, sep="\t", index=False)
        print(f"{len(table):,} {what} written to {args.output}", file=sys.stderr)


def _add_input_options(p, help_text: str) -> None:
    p.add_argument("file", metavar="FILE", help=help_text)
    p.add_argument("--paper-filters", action="store_true",
                   help="drop what the paper's training filters drop (length outside 110 +- 3, more than 3 N)")
    _add_iupac(p)


def _add_iupac(p) -> None:
    p.add_argument("--iupac-as-n", action="store_true",
                   help="read the IUPAC letters R, Y, S, W, K, M, B, D, H, V as N (counted in the report) instead "
                        "of refusing them")


def _read_input(args: argparse.Namespace):
    """The command's sequence file, read and packed (its ``report`` for :func:`_say`)."""
    from camformer.data.dream import FilterConfig
    from camformer.data.sequence_files import read_sequence_file

    return read_sequence_file(args.file, FilterConfig() if args.paper_filters else None, iupac_as_n=args.iupac_as_n)


def _check_model_options(args: argparse.Namespace) -> None:
    """The options predict, variants and explain share, checked before any work."""
    _check_device(args)
    _check_output_file(args.output, "--output")


def _predict(args: argparse.Namespace) -> int:
    from .apply import predict_sequences, use_encoding

    _check_model_options(args)
    model, about = _model(args)
    try:
        use_encoding(model, args.encoding, f"the model {args.model}")
    except ValueError as err:
        raise UsageError(str(err)) from None
    seqs = _read_input(args)
    _say(seqs.report, about)
    table = predict_sequences(model, seqs, batch_size=args.batch_size, device=args.device, amp=args.amp,
                              progress=_progress(args))
    _write(table, args, "predictions")
    return 0


PREDICT_COLUMNS = ("output: a TSV with the columns id (the FASTA name, the id column, or the 0-based row number), "
                   "prediction (predicted expression, float32) and seq (the 110-nt sequence the model saw, after "
                   "padding or cutting; `camformer evaluate` checks it against the test set's sequence of that id)")


def _add_predict(sub) -> None:
    from camformer.data.dream import ENCODINGS

    p = sub.add_parser("predict", help="predict expression of the promoters in a file",
                       description="Predict expression. Sequences of other lengths are padded at the 3' end with N "
                                   "or cut to 110 nt, as the paper did, and counted.",
                       epilog=PREDICT_COLUMNS)
    _add_input_options(p, "the promoters: " + ACCEPTED_INPUT)
    _add_model_options(p, checkpoint_alias=True)
    p.add_argument("--encoding", choices=sorted(ENCODINGS),
                   help="the input encoding, for a model saved without one (default: the one saved with the model, "
                        "else from its input channels); another than the saved one is refused")
    p.add_argument("--amp", choices=["auto", "bf16", "off"], default="off",
                   help="autocast the forward passes: off (float32, the default), bf16, or auto (bf16 where the "
                        "hardware computes it natively)")
    p.set_defaults(func=_predict)


def _variants(args: argparse.Namespace) -> int:
    from .apply import score_variants
    from camformer.data.sequence_files import read_variant_pairs

    _check_model_options(args)
    pairs = read_variant_pairs(args.pairs, args.reference, iupac_as_n=args.iupac_as_n)
    model, about = _model(args)
    _say(pairs.report, about)
    table = score_variants(model, pairs, batch_size=args.batch_size, device=args.device, progress=_progress(args))
    _write(table, args, "variant effects")
    return 0


VARIANT_COLUMNS = ("output: a TSV with the columns id, ref_prediction, alt_prediction (predicted expression of the "
                   "reference and of the variant) and effect (alt_prediction - ref_prediction)")


def _add_variants(sub) -> None:
    p = sub.add_parser("variants", help="predicted effect (alt - ref) of sequence variants",
                       description="Score variants as the challenge scored its SNVs: predicted alt minus predicted "
                                   "ref.",
                       epilog=VARIANT_COLUMNS)
    p.add_argument("pairs", metavar="PAIRS",
                   help="a TSV with a header holding ref and alt (sequences) and, optionally, id; or, with "
                        "--reference, one variant per line: [id<TAB>]pos:ref>alt[,pos:ref>alt...] (1-based "
                        "positions in the reference; # starts a comment); '-' reads standard input")
    p.add_argument("--reference", help="the reference of a substitution list: a file with one sequence, or the "
                                       "sequence itself (refused with a ref/alt table, which it would not change)")
    _add_iupac(p)
    _add_model_options(p)
    p.set_defaults(func=_variants)


def _explain(args: argparse.Namespace) -> int:
    from .apply import METHODS

    if args.method not in METHODS:
        raise UsageError(f"--method {args.method}: choose from {', '.join(METHODS)}")
    if args.layer is not None and args.method != "gradcam":
        raise UsageError(f"--layer applies to --method gradcam only, not {args.method}")
    _check_model_options(args)
    _check_output_folder(args.logos, "--logos")
    from .apply import check_layer, explain_maps, tidy_maps, write_logos

    model, about = _model(args)
    try:
        layer = check_layer(model, args.layer) if args.method == "gradcam" else None
    except ValueError as err:
        raise UsageError(str(err)) from None
    seqs = _read_input(args)
    _say(seqs.report, about)
    maps = explain_maps(model, seqs.codes, args.method, layer=layer, batch_size=args.batch_size,
                        device=args.device, progress=_progress(args))
    _write(tidy_maps(seqs.ids, maps), args, "scores (id, position, base)")
    if args.logos:
        written = write_logos(maps, seqs, args.method, args.logos)
        print(f"{len(written):,} sequence logos written to {args.logos}", file=sys.stderr)
    return 0


EXPLAIN_COLUMNS = ("output: a tidy TSV with the columns id, position (1-based), base (A, C, G, T) and score: for ism "
                   "the predicted change of substituting that base (0 at the reference base), for the others the "
                   "attribution folded onto the bases. Logos (--logos): one PNG per sequence, named by its id; an "
                   "ISM logo draws the paper's dE / 3, each substitution's change divided by the 3 substitutions "
                   "of its position, so that a position's letters add up to their mean change; an attribution "
                   "logo draws the score of the base present.")


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="per-base maps (ISM, Grad-CAM, IG, DeepLift) of the promoters in a file",
                       description="Explain each sequence. ism: predicted change of each substitution, exact, "
                                   "recomputing only the receptive field; gradcam, ig, deeplift: attributions folded "
                                   "onto the bases.",
                       epilog=EXPLAIN_COLUMNS)
    _add_input_options(p, "the promoters, as for camformer predict: " + ACCEPTED_INPUT)
    _add_model_options(p, batch_size=128, batch_help="mutants (ism), sequences (gradcam, deeplift) or interpolation "
                                                     "points (ig) per forward pass")
    # Checked by the command (apply.METHODS): naming the choices here would import torch for every command.
    p.add_argument("--method", default="ism", help="ism (default), gradcam, ig or deeplift")
    p.add_argument("--layer", help="gradcam only: the convolution layer, named as in model.named_modules(), e.g. "
                                   "blocks.5.conv (default: the last convolution; a wrong name lists the model's)")
    p.add_argument("--logos", metavar="DIR", help="also write one sequence-logo PNG per sequence into this folder "
                                                  "(created if needed; checked before any work)")
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


def _evaluate_checkpoint(path: str, device: str = "auto", progress: bool = False):
    """Predict the bundled test set with a saved model: ``(predictions indexed by id, note)``.

    A model trained on the measured test library (saved ``dataset`` "test_library") is scored
    on its own held-out ids only (``split.npz``, ``"test"``), and refused without them; a
    model trained on the challenge's training data on all 71,103 test ids.
    """
    import pandas as pd

    from camformer.data import dream
    from camformer.models import inference
    from .apply import model_directory
    from camformer.models.networks import load_model, load_model_metadata

    directory = model_directory(path)
    meta = load_model_metadata(directory)
    test = dream.test_set_data()
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
    values = inference.predict(model, test.codes, model.encoding, device=device, progress=progress)
    return pd.Series(values, index=test.ids, name="prediction"), note


def _evaluate(args: argparse.Namespace) -> int:
    from camformer.stats.metrics import dream_score, read_predictions, score_predictions

    if (args.predictions is None) == (args.checkpoint is None):
        raise UsageError("give either a PREDICTIONS file or --checkpoint DIR")
    _check_output_file(args.output, "--output")
    if args.checkpoint is not None:
        _check_device(args)
        try:
            pred, note = _evaluate_checkpoint(args.checkpoint, args.device, _progress(args))
            source = f"checkpoint {args.checkpoint}"
            print(note)
        except ValueError as err:
            print(f"camformer: error: {args.checkpoint}: {err}", file=sys.stderr)
            return 2
    else:
        from camformer.data.sequence_files import check_test_sequences

        pred = read_predictions(args.predictions, args.column)
        source = f"{args.predictions} (column {pred.name})"
        checked = check_test_sequences(args.predictions)
        print(f"{checked:,} sequences checked against the test set's of their ids" if checked is not None else
              "note: no seq column: the ids are taken as test-set ids without checking their sequences")
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
    p = sub.add_parser("evaluate", help="score test-set predictions per DREAM subset, with both weighted scores",
                       description="Score predictions of the DREAM 2022 test set per subset (Pearson r, r², "
                                   "Spearman ρ) and with the challenge's two weighted scores.",
                       epilog="output (standard output): one row per subset with its number of scored items, r, r² "
                              "and ρ, then the two weighted scores; --output writes the per-subset table as a TSV. "
                              "A seq column in PREDICTIONS (as camformer predict writes) is checked against the test "
                              "set's sequence of each id, and a file whose sequences differ is refused.")
    p.add_argument("predictions", nargs="?", metavar="PREDICTIONS",
                   help="TSV/CSV (optionally .gz) with an 'id' column of test-set ids, a prediction column and, "
                        "optionally, a seq column")
    p.add_argument("--column", help="prediction column (default: 'prediction' or the only non-id column)")
    p.add_argument("--checkpoint", metavar="DIR", help="score a saved model (model.pt + config.json) instead")
    p.add_argument("--public", action="store_true",
                   help="score all ids, public-leaderboard ones included (default: as the final private leaderboard)")
    p.add_argument("--output", metavar="TSV", help="also write the per-subset table here (checked before any work)")
    _add_device(p, "run the --checkpoint model")
    _add_no_progress(p)
    p.set_defaults(func=_evaluate)
# --- end evaluate ---


# --- weights (owner: published) ---
def _weights_fetch(args: argparse.Namespace) -> int:
    from camformer.data import fetch
    from camformer.paper import published
    from camformer.models.networks import count_parameters

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
                                             progressbar=_progress(args))
            trust = fetch.expected_hash(spec.file, args.cache_dir)[1]
            print(f"{spec.title}: {count_parameters(model):,} parameters, encoding {model.encoding}; "
                  f"{fetch.local_path(spec.file, args.cache_dir)}  [{trust}]")
            if args.check is not None:
                result = published.self_check(model, name, n=args.check or None, progress=_progress(args))
                print(f"  self-check: predictions within {result['max_abs_diff']:.2g} of the published ones "
                      f"on {result['n']:,} test sequences (tolerance {result['tolerance']:g})")
    except _known_errors() as err:
        print(f"camformer: error: {err}", file=sys.stderr)
        return 2
    return 0


def _add_weights(sub) -> None:
    p = sub.add_parser("weights", help="the paper's trained models (Original, Mini), loaded without running "
                                       "pickled code",
                       description="The paper's trained models (Original, Mini), loaded without running pickled code.")
    wsub = p.add_subparsers(dest="weights_command", required=True)
    f = wsub.add_parser("fetch", help="download the authors' seed-42 models (sha256 pinned on first use) and load them",
                        description="Download the authors' seed-42 Original and Mini (sha256 pinned on first use), "
                                    "load them without running pickled code, and print their parameter counts, "
                                    "encodings and cached paths.")
    f.add_argument("name", nargs="?", help="original or mini (default: both)")
    f.add_argument("--cache-dir", help="download directory (default: $CAMFORMER_DATA_DIR or the user cache)")
    f.add_argument("--url", help="download the tarball from this URL instead of the authors' site (needs NAME)")
    f.add_argument("--check", type=int, nargs="?", const=0, metavar="N",
                   help="also compare predictions with the published ones on N test sequences (no N: all 71,103)")
    _add_no_progress(f)
    f.set_defaults(func=_weights_fetch)
# --- end weights ---


# Every subcommand's parser builder, in the order `camformer --help` lists them: a new
# subcommand is one more entry here (a missing builder is a NameError at import, not a
# command that silently disappears).
COMMANDS = (_add_data, _add_train, _add_predict, _add_variants, _add_explain, _add_evaluate, _add_weights)


def build_parser() -> argparse.ArgumentParser:
    from camformer import __version__

    parser = _Parser(prog="camformer", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"camformer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    """The errors a command reports in one line (exit code 2) instead of a traceback: bad input
    files, and, where their modules are loaded, downloads, published archives and self-checks.
    Looked up in ``sys.modules`` so that a command that needs no torch imports none."""
    from camformer.data.dream import DataFormatError

    # ValueError: what the library raises for a bad value (DataFormatError is one).
    errors: list[type[BaseException]] = [UsageError, DataFormatError, ValueError, FileNotFoundError,
                                         IsADirectoryError, NotADirectoryError, PermissionError]
    for module, names in (("camformer.data.fetch", ("FetchError",)),
                          ("camformer.paper.published", ("PublishedModelError", "SelfCheckError")),
                          ("camformer.paper.safe_pickle", ("UnsafePickleError", "PickledFileError")),
                          ("camformer.paper.model_archive", ("ArchiveError",))):
        if module in sys.modules:
            errors += [getattr(sys.modules[module], name) for name in names]
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Run ``camformer`` with ``argv`` (default: the process's arguments); returns the exit code:
    0, 2 for a bad option value or input (one line on standard error), 130 when interrupted."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _known_errors() as err:
        text = " ".join(str(err).split()) or type(err).__name__
        print(f"camformer: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("camformer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of this command
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
