"""Benchmark the library behind ``camformer predict`` and ``camformer explain`` against the plain ways.

Two comparisons, each on one model and the same sequences, methods interleaved round by round
(on a shared machine the load drifts; each method sees the same), reported as ratios:

1. **predict**: ``camformer.data.sequence_files.read_sequence_file`` + ``camformer.cli.apply.predict_sequences``
   (what ``camformer predict`` runs: uint8 codes, one-hot encoded per batch on the device)
   against a plain batched loop (pandas ``read_csv``, a numpy one-hot of each batch, the model
   under ``torch.no_grad``), both from the same TSV file of ``--sequences`` test promoters
   (the 71,103 of the bundled test set, drawn with replacement, seeded), the same batch size.
   The predictions must agree to 1e-5.
2. **ISM**: ``camformer.cli.apply.explain_maps(..., "ism")`` (what ``camformer explain --method ism``
   runs: exact ISM recomputing only each substitution's receptive field) against tangermeme's
   ``saturation_mutagenesis`` (benchmark extra) on the same model, all 110 positions of each
   sequence; the effects must agree to 1e-4 relative to the largest prediction.

Usage::

    python benchmarks/bench_predict.py [--sequences 100000] [--rounds 4] [--model micro]
        [--ism-model original] [--ism-sequences 2] [--results benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from camformer.cli.apply import explain_maps, predict_sequences
from camformer.data.dream import load_test_table
from camformer.models.inference import describe_device
from camformer.models.networks import ModelConfig, build_model, init_he
from camformer.data.sequence_files import read_sequence_file

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common beside this file, however it is run
from bench_common import tangermeme_effects, write_section  # noqa: E402

SECTION = "## Applying a model: `camformer predict` and `explain` (`bench_predict.py`)"
CHANNELS = {"onehot": 4, "onehotWithP": 5}


def plain_predict(model: torch.nn.Module, path: Path, encoding: str, batch_size: int) -> np.ndarray:
    """What a user would write: read the TSV with pandas, one-hot each batch with numpy, predict."""
    table = pd.read_csv(path, sep="\t")
    lookup = np.zeros((256, CHANNELS[encoding]), dtype=np.float32)
    for i, base in enumerate("ACGT"):
        lookup[ord(base), i] = 1.0
    if encoding == "onehotWithP":
        lookup[ord("N"), :4] = 0.25
        lookup[[ord("A"), ord("G")], 4] = 1.0
        lookup[ord("N"), 4] = 0.5
    out = []
    with torch.no_grad():
        for start in range(0, len(table), batch_size):
            seqs = table["seq"].iloc[start: start + batch_size]
            raw = np.frombuffer("".join(s.ljust(110, "N")[:110] for s in seqs).encode(), dtype=np.uint8)
            x = torch.from_numpy(lookup[raw].reshape(len(seqs), 110, -1).transpose(0, 2, 1).copy())
            out.append(model(x).numpy())
    return np.concatenate(out)


def library_predict(model: torch.nn.Module, path: Path, batch_size: int) -> np.ndarray:
    return predict_sequences(model, read_sequence_file(path), batch_size=batch_size)["prediction"].to_numpy()


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _model(architecture: str, encoding: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = init_he(build_model(ModelConfig(architecture, CHANNELS[encoding]))).eval()
    model.encoding = encoding
    return model


def bench_predict(n: int, rounds: int, architecture: str, batch_size: int, workdir: Path) -> dict:
    model = _model(architecture, "onehotWithP")
    test = load_test_table()
    rng = np.random.default_rng(0)
    per_round = n // rounds
    seconds = {"library": [], "plain": []}
    worst = 0.0
    for r in range(rounds):
        rows = rng.integers(0, len(test), per_round)
        path = workdir / f"round{r}.tsv"
        pd.DataFrame({"id": np.arange(per_round) + r * per_round, "seq": test["seq"].to_numpy()[rows]}).to_csv(
            path, sep="\t", index=False)
        order = [("library", lambda: library_predict(model, path, batch_size)),
                 ("plain", lambda: plain_predict(model, path, "onehotWithP", batch_size))]
        got = {}
        for name, fn in order if r % 2 == 0 else order[::-1]:
            got[name], t = _timed(fn)
            seconds[name].append(t)
        worst = max(worst, float(np.abs(got["library"] - got["plain"]).max()))
        print(f"predict round {r + 1}/{rounds}: library {seconds['library'][-1]:.1f} s, plain "
              f"{seconds['plain'][-1]:.1f} s", flush=True)
    assert worst < 1e-5, f"predictions differ by {worst:.3g}"
    ratios = np.array(seconds["plain"]) / np.array(seconds["library"])
    return {"n": per_round * rounds, "rounds": rounds, "architecture": architecture, "batch_size": batch_size,
            "library_s": sum(seconds["library"]), "plain_s": sum(seconds["plain"]),
            "ratio_median": float(np.median(ratios)), "ratio_min": float(ratios.min()),
            "ratio_max": float(ratios.max()), "max_abs_diff": worst}


def bench_ism(n_seq: int, rounds: int, architecture: str, batch_size: int) -> dict:
    model = _model(architecture, "onehot")
    seqs = load_test_table()["seq"].sample(n_seq * rounds, random_state=1).tolist()
    from camformer.data.dream import encode_sequences
    from camformer.models.encoding import encode

    codes = encode_sequences(seqs)
    X = encode(torch.as_tensor(codes))
    explain_maps(model, codes[:1], "ism", batch_size=batch_size)  # warm-up (oneDNN kernels per shape)
    tangermeme_effects(model, X[:1], batch_size)
    seconds = {"library": [], "tangermeme": []}
    worst, scale = 0.0, 0.0
    for r in range(rounds):
        part = slice(r * n_seq, (r + 1) * n_seq)
        order = [("library", lambda: torch.as_tensor(explain_maps(model, codes[part], "ism", batch_size=batch_size))),
                 ("tangermeme", lambda: tangermeme_effects(model, X[part], batch_size))]
        got = {}
        for name, fn in order if r % 2 == 0 else order[::-1]:
            got[name], t = _timed(fn)
            seconds[name].append(t / n_seq)
        worst = max(worst, float((got["library"] - got["tangermeme"]).abs().max()))
        with torch.no_grad():
            scale = max(scale, float(model(X[part]).abs().max()))
        print(f"ISM round {r + 1}/{rounds}: library {seconds['library'][-1]:.2f} s/seq, tangermeme "
              f"{seconds['tangermeme'][-1]:.2f} s/seq", flush=True)
    assert worst < 1e-4 * max(1.0, scale), f"ISM effects differ by {worst:.3g}"
    ratios = np.array(seconds["tangermeme"]) / np.array(seconds["library"])
    return {"n": n_seq * rounds, "rounds": rounds, "architecture": architecture, "batch_size": batch_size,
            "library_s_per_seq": float(np.median(seconds["library"])),
            "tangermeme_s_per_seq": float(np.median(seconds["tangermeme"])),
            "ratio_median": float(np.median(ratios)), "ratio_min": float(ratios.min()),
            "ratio_max": float(ratios.max()), "max_abs_diff": worst, "scale": scale}


def report(pred: dict, isms: list[dict], load: tuple[float, float]) -> str:
    import tangermeme

    lines = [
        SECTION, "",
        f"`python benchmarks/bench_predict.py --sequences {pred['n']} --rounds {pred['rounds']} --model "
        f"{pred['architecture']}` on {time.strftime('%Y-%m-%d')}; machine: {describe_device('cpu')}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}. **The CPU was shared with other jobs** "
        f"(1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on 2 cores), so "
        "seconds are not given as results: only ratios of methods run interleaved, round by round, on the "
        "same sequences, which see the same load. Untrained He-initialised weights (speed does not depend "
        "on them).", "",
        "| comparison | model | work | camformer | other | other / camformer, median of rounds (range) | "
        "max abs diff |",
        "|---|---|---|---|---|---|---|",
        f"| predict a TSV file vs pandas + numpy one-hot + batched forward | {pred['architecture']} (onehotWithP), "
        f"batch {pred['batch_size']} | {pred['n']:,} sequences in {pred['rounds']} rounds | read_sequence_file + "
        f"predict_sequences | plain batched loop | {pred['ratio_median']:.2f}x ({pred['ratio_min']:.2f}-"
        f"{pred['ratio_max']:.2f}) | {pred['max_abs_diff']:.1e} |",
    ]
    for ism in isms:
        lines.append(
            f"| ISM, all 110 positions (330 substitutions) per sequence | {ism['architecture']} (onehot), batch "
            f"{ism['batch_size']} | {ism['n']} sequences in {ism['rounds']} rounds | explain_maps (receptive "
            f"field) | tangermeme {tangermeme.__version__} saturation_mutagenesis | {ism['ratio_median']:.2f}x "
            f"({ism['ratio_min']:.2f}-{ism['ratio_max']:.2f}) | {ism['max_abs_diff']:.1e} |")
    lines += ["", "A ratio above 1 means camformer's path took less time. The predictions of both predict "
              "paths agree to the stated difference; tangermeme's ISM also predicts the reference base at "
              "each position (440 forward rows per sequence, against 330 substitutions recomputed on their "
              "receptive fields), and its effects agree with camformer's to the stated difference.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sequences", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--model", default="micro", help="architecture for predict (default micro: the 100,000 "
                                                    "sequences fit a shared 2-core CPU)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--ism-model", default="original,micro",
                   help="architectures for ISM, comma-separated (4 channels, as tangermeme mutates)")
    p.add_argument("--ism-sequences", type=int, default=2, help="sequences per round")
    p.add_argument("--ism-rounds", type=int, default=2)
    p.add_argument("--ism-batch-size", type=int, default=330)
    p.add_argument("--no-ism", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--results", type=Path, help="write the section into this RESULTS.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    start_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        pred = bench_predict(args.sequences, args.rounds, args.model, args.batch_size, Path(workdir))
    isms = [] if args.no_ism else [bench_ism(args.ism_sequences, args.ism_rounds, name, args.ism_batch_size)
                                   for name in args.ism_model.split(",")]
    text = report(pred, isms, (start_load, os.getloadavg()[0]))
    print(text)
    if args.results:
        write_section(args.results, SECTION, text)
        print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
