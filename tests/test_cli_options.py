"""Every bad option value of every `camformer` subcommand: one line on standard error, exit code
2, no traceback, and nothing written when it is refused before any work; and what the command
line offers besides (stdin, --version, --iupac-as-n, help texts, output columns, a default run
directory, a resume that says so, progress bars on a terminal only)."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from camformer.cli import apply, main as cli
from camformer.paper import published
from camformer.cli.main import PRESET_NAMES, build_parser, main
from camformer.data.dream import encode_sequences, load_test_table
from camformer.models.encoding import encode
from camformer.models.networks import camformer_mini, init_he, save_model
from camformer.data.sequence_files import read_sequence_file
from camformer.training.train import PRESETS

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
TEST = load_test_table().iloc[:3]
SEQS = list(TEST["seq"])
REF = SEQS[0]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A saved Mini (He-initialised, onehotWithP, 5 channels) and the model itself."""
    root = tmp_path_factory.mktemp("model")
    torch.manual_seed(5)
    model = init_he(camformer_mini(5)).eval()
    save_model(model, root / "M", encoding="onehotWithP", dataset="dream_train")
    return root / "M", model


@pytest.fixture
def work(tmp_path, monkeypatch, model_dir):
    """A working directory holding the inputs: s.fa (3 promoters), pairs.tsv (ref/alt table),
    subs.txt (substitutions of REF), pred.tsv (predictions of test ids)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.fa").write_text("".join(f">{i}\n{s[:60]}\n{s[60:]}\n" for i, s in zip(TEST["id"], SEQS)))
    alt = REF[:19] + ("G" if REF[19] != "G" else "C") + REF[20:]
    (tmp_path / "pairs.tsv").write_text(f"id\tref\talt\nv1\t{REF}\t{alt}\n")
    (tmp_path / "subs.txt").write_text(f"v1\t20:{REF[19]}>{alt[19]}\n")
    pd.DataFrame({"id": TEST["id"], "prediction": [0.1, 0.2, 0.3]}).to_csv(tmp_path / "pred.tsv", sep="\t",
                                                                           index=False)
    return tmp_path


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run(argv, capsys) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as exit_:  # argparse's own refusals
        rc = exit_.code
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _refused(rc: int, err: str, wanted: str) -> None:
    """Exit code 2, and exactly one line on standard error, holding ``wanted``, no traceback."""
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and wanted in err, err


NO_CUDA = not torch.cuda.is_available()
M = "{model}"
# (subcommand's arguments, what the one line says). {model} is the saved model directory.
BAD_OPTIONS = [
    (["predict", "-m", M, "s.fa", "--batch-size", "-5"], "argument --batch-size: must be at least 1, got -5"),
    (["predict", "-m", M, "s.fa", "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["predict", "-m", M, "s.fa", "--batch-size", "x"], "argument --batch-size: 'x' is not a whole number"),
    (["predict", "-m", M, "s.fa", "--check", "0"], "argument --check: must be at least 1"),
    (["predict", "-m", M, "s.fa", "--device", "gpu"], "--device gpu: unknown device"),
    (["predict", "-m", M, "s.fa", "--device", "cuda:7"], "--device cuda:7: this machine has"),
    (["predict", "-m", M, "s.fa", "--encoding", "onehot"], "--encoding onehot: the model"),
    (["predict", "-m", M, "s.fa", "--encoding", "onehotWithInt"], "was saved with encoding onehotWithP"),
    (["predict", "-m", M, "s.fa", "--encoding", "nosuch"], "argument --encoding: invalid choice"),
    (["predict", "-m", M, "s.fa", "-o", "/nonexistent/dir/out.tsv"], "the folder /nonexistent/dir does not exist"),
    (["predict", "-m", M, "s.fa", "-o", "."], "--output .: is a folder"),
    (["predict", "-m", M, "s.fa", "--amp", "fp8"], "argument --amp: invalid choice"),
    (["variants", "-m", M, "pairs.tsv", "--batch-size", "-4"], "argument --batch-size: must be at least 1"),
    (["variants", "-m", M, "pairs.tsv", "--batch-size", "0"], "argument --batch-size: must be at least 1"),
    (["variants", "-m", M, "pairs.tsv", "--device", "cuda:7"], "--device cuda:7"),
    (["variants", "-m", M, "pairs.tsv", "--reference", REF], "--reference) would be ignored"),
    (["variants", "-m", M, "pairs.tsv", "-o", "/nonexistent/dir/out.tsv"], "does not exist"),
    (["explain", "-m", M, "s.fa", "--batch-size", "-3"], "argument --batch-size: must be at least 1, got -3"),
    (["explain", "-m", M, "s.fa", "--method", "ig", "--batch-size", "0"], "argument --batch-size"),
    (["explain", "-m", M, "s.fa", "--method", "shap"], "--method shap: choose from ism, gradcam, ig, deeplift"),
    (["explain", "-m", M, "s.fa", "--method", "gradcam", "--layer", "nosuch"],
     "--layer nosuch: not a convolution layer of this model; choose from blocks.0.conv, "),
    (["explain", "-m", M, "s.fa", "--method", "gradcam", "--layer", "3"], "choose from blocks.0.conv"),
    (["explain", "-m", M, "s.fa", "--method", "ism", "--layer", "blocks.0.conv"], "--layer applies to --method "
                                                                                  "gradcam only"),
    (["explain", "-m", M, "s.fa", "--logos", "pairs.tsv"], "--logos pairs.tsv: exists and is not a folder"),
    (["explain", "-m", M, "s.fa", "--logos", "s.fa/logos"], "--logos s.fa/logos: cannot create"),
    (["explain", "-m", M, "s.fa", "--device", "gpu"], "--device gpu"),
    (["explain", "-m", M, "s.fa", "-o", "/nonexistent/dir/out.tsv"], "does not exist"),
    (["evaluate", "pred.tsv", "--output", "/nonexistent/dir/s.tsv"], "the folder /nonexistent/dir does not exist"),
    (["evaluate"], "give either a PREDICTIONS file or --checkpoint DIR"),
    (["evaluate", "--checkpoint", M, "--device", "gpu"], "--device gpu"),
    (["train", "--preset", "nosuch"], "--preset nosuch: unknown; choose from quick, paper, smoke, grid_slice"),
    (["train", "--preset", "smoke", "--epochs", "0"], "argument --epochs: must be at least 1"),
    (["train", "--preset", "smoke", "--batch-size", "-1"], "argument --batch-size: must be at least 1"),
    (["train", "--preset", "smoke", "--train-size", "0"], "argument --train-size: must be at least 1"),
    (["train", "--preset", "smoke", "--device", "gpu", "--run-dir", "run"], "--device gpu"),
    (["train", "--preset", "smoke", "--run-dir", "s.fa/run"], "--run-dir s.fa/run: cannot create"),
    (["train", "--preset", "paper"], "--preset paper trains on the challenge's training file: run `camformer data "
                                     "fetch` and pass its path with --train-file"),
    (["train", "--preset", "paper", "--train-file", "nosuch.txt"], "nosuch.txt: no such file"),
    (["data", "check", "s.fa", "--max-n", "-1"], "argument --max-n: must be at least 0, got -1"),
    (["data", "check", "s.fa", "--length-tolerance", "-2"], "argument --length-tolerance: must be at least 0"),
    (["nosuch"], "invalid choice"),
]
if NO_CUDA:
    BAD_OPTIONS += [
        (["predict", "-m", M, "s.fa", "--device", "cuda"], "--device cuda: this machine has no CUDA device"),
        (["explain", "-m", M, "s.fa", "--device", "cuda"], "this machine has no CUDA device"),
        (["train", "--preset", "smoke", "--device", "cuda", "--run-dir", "run"], "no CUDA device"),
    ]
if Path("/proc").is_dir() and os.name == "posix":
    BAD_OPTIONS += [(["explain", "-m", M, "s.fa", "--logos", "/proc/nope"],
                     "--logos /proc/nope: cannot create or write this folder")]


@pytest.mark.parametrize("argv, wanted", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_every_bad_option_is_one_line_and_exit_2_with_nothing_written(work, model_dir, capsys, argv, wanted):
    before = _files(work)
    rc, out, err = _run([a.replace(M, str(model_dir[0])) for a in argv], capsys)
    _refused(rc, err, wanted)
    assert out == ""
    assert _files(work) == before


def test_every_subcommand_is_in_the_table():
    """The table covers each command that takes options with values."""
    covered = {tuple(a[:2]) if a[0] == "data" else (a[0],) for a, _ in BAD_OPTIONS}
    assert covered >= {("predict",), ("variants",), ("explain",), ("evaluate",), ("train",), ("data", "check")}


# ---------------------------------------------------------------- inputs

@pytest.mark.parametrize("content, wanted", [
    (b"id,seq\n1,ACGT\n", "line 1: looks like a comma-separated (CSV) file; accepted: FASTA"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, "is not a text file (binary byte"),
    (b">a\nACGTACGTAC\nACGTRACGT\n", "line 3: character 'R' at position 5 of the line (position 15 of sequence "
                                     "'a') is not one of A, C, G, T, N (an IUPAC ambiguity letter: --iupac-as-n"),
])
def test_unreadable_inputs_say_why(work, model_dir, capsys, content, wanted):
    (work / "in.txt").write_bytes(content)
    rc, out, err = _run(["predict", "-m", str(model_dir[0]), "in.txt"], capsys)
    _refused(rc, err, wanted)
    assert out == ""


def test_variants_refuse_a_substitution_that_changes_nothing(work, model_dir, capsys):
    (work / "noop.txt").write_text(f"ok\t21:{REF[20]}>{'A' if REF[20] != 'A' else 'C'}\nsame\t20:{REF[19]}>{REF[19]}\n")
    rc, out, err = _run(["variants", "-m", str(model_dir[0]), "noop.txt", "--reference", REF], capsys)
    _refused(rc, err, f"noop.txt, line 2: 20:{REF[19]}>{REF[19]}: changes nothing")


def test_iupac_letters_read_as_n_on_request_and_counted(work, model_dir, capsys):
    folder, model = model_dir
    seq = REF[:30] + "R" + REF[31:50] + "y" + REF[51:]
    (work / "iu.fa").write_text(f">a\n{seq}\n")
    rc, out, err = _run(["predict", "-m", str(folder), "iu.fa", "--iupac-as-n"], capsys)
    assert rc == 0, err
    assert "2 IUPAC letters other than N (R, Y, S, W, K, M, B, D, H, V) read as N" in err
    as_n = REF[:30] + "N" + REF[31:50] + "N" + REF[51:]
    with torch.no_grad():
        want = model(encode(torch.from_numpy(encode_sequences([as_n])), "onehotWithP")).numpy()
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out), sep="\t")["prediction"], want, rtol=1e-5, atol=1e-6)
    assert read_sequence_file(work / "iu.fa", iupac_as_n=True).codes.tolist() == encode_sequences([as_n]).tolist()


def test_a_published_model_without_a_network_says_what_to_do(work, capsys, monkeypatch):
    monkeypatch.setenv(published.OFFLINE_ENV, "1")
    rc, _, err = _run(["predict", "-m", "mini", "s.fa", "--cache-dir", str(work / "cache")], capsys)
    _refused(rc, err, "could not get the published mini model")
    assert "--model DIR" in err and "--model /path/to/Camformer_219.tar.gz" in err
    monkeypatch.delenv(published.OFFLINE_ENV)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    rc, _, err = _run(["predict", "-m", "mini", "s.fa", "--cache-dir", str(work / "cache"), "--no-progress",
                       "--url", "http://127.0.0.1:9/Camformer_219.tar.gz"], capsys)  # port 9: nothing listens
    _refused(rc, err, "could not download the published mini model (download from http://127.0.0.1:9/")
    assert "Max retries" not in err and "urllib3" not in err and "Connection" not in err


# ---------------------------------------------------------------- evaluate: ids and sequences

def test_evaluate_refuses_predictions_of_other_sequences_under_test_ids(work, model_dir, capsys):
    """Row numbers of a DREAM file of random sequences are test-set ids: the seq column that
    predict writes tells them apart; the test set's own sequences pass the check."""
    rng = np.random.default_rng(0)
    random_seqs = ["".join(rng.choice(list("ACGT"), 110)) for _ in range(20)]
    (work / "random.txt").write_text("".join(f"{s}\n" for s in random_seqs))
    assert main(["predict", "-m", str(model_dir[0]), "random.txt", "-o", "random_pred.tsv", "--no-progress"]) == 0
    assert list(pd.read_csv("random_pred.tsv", sep="\t").columns) == ["id", "prediction", "seq"]
    capsys.readouterr()
    rc, out, err = _run(["evaluate", "random_pred.tsv", "--public"], capsys)
    _refused(rc, err, "random_pred.tsv, line 2: id 0: the sequence is not the test set's sequence of this id "
                      "(20 of 20 rows differ)")
    test = load_test_table().iloc[:20]
    test[["id", "seq"]].to_csv("test20.tsv", sep="\t", index=False)
    assert main(["predict", "-m", str(model_dir[0]), "test20.tsv", "-o", "test_pred.tsv", "--no-progress"]) == 0
    capsys.readouterr()
    rc, out, err = _run(["evaluate", "test_pred.tsv", "--public"], capsys)
    assert rc == 0, err
    assert "20 sequences checked against the test set's of their ids" in out
    rc, out, _ = _run(["evaluate", "pred.tsv", "--public"], capsys)  # no seq column: scored by id, said so
    assert rc == 0 and "no seq column: the ids are taken as test-set ids without checking" in out


# ---------------------------------------------------------------- what users expect

def test_stdin_version_and_the_console_entry_point(work, model_dir):
    """Through a real process: `-` reads standard input (the same predictions as the file), and
    --version prints the package's version."""
    from camformer import __version__

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "camformer.cli.main"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and version.stdout.strip() == f"camformer {__version__}"
    fasta = (work / "s.fa").read_bytes()
    piped = subprocess.run([*command, "predict", "-m", str(model_dir[0]), "-"], input=fasta, capture_output=True,
                           env=env)
    assert piped.returncode == 0, piped.stderr
    assert b"<stdin>: 3 sequences" in piped.stderr and b"\r" not in piped.stderr  # no bars in a pipe
    from_file = subprocess.run([*command, "predict", "-m", str(model_dir[0]), "s.fa"], capture_output=True, env=env)
    assert piped.stdout == from_file.stdout
    bad = subprocess.run([*command, "predict", "-m", str(model_dir[0]), "--batch-size", "0", "-"], input=fasta,
                         capture_output=True, env=env)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and b"Traceback" not in bad.stderr


def test_progress_bars_only_on_a_terminal_and_for_every_method(work, model_dir, capsys, monkeypatch):
    args = argparse.Namespace(no_progress=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not cli._progress(args)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli._progress(args) and not cli._progress(argparse.Namespace(no_progress=True))
    codes = encode_sequences(SEQS[:2])
    for method in ("ism", "gradcam", "ig", "deeplift"):
        capsys.readouterr()
        apply.explain_maps(model_dir[1], codes, method, batch_size=64, progress=True)
        assert "100%" in capsys.readouterr().err, method


def _actions(parser: argparse.ArgumentParser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, (*prefix, name))
        else:
            yield prefix, action


def test_every_option_and_argument_has_help_and_the_top_help_is_plain(capsys):
    missing = [(path, action.dest) for path, action in _actions(build_parser()) if not action.help]
    assert missing == []
    devices = {path: action.default for path, action in _actions(build_parser()) if action.dest == "device"}
    assert set(devices) == {("train",), ("predict",), ("variants",), ("explain",), ("evaluate",)}
    assert set(devices.values()) == {"auto"}
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "``" not in capsys.readouterr().out
    assert set(PRESET_NAMES) == set(PRESETS)
    for command in ("predict", "variants", "explain", "evaluate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "output" in capsys.readouterr().out


def test_readme_and_help_name_the_columns_the_commands_write(work, model_dir, capsys):
    readme = (REPO / "README.md").read_text()
    folder = str(model_dir[0])
    runs = {"predict": ["predict", "-m", folder, "s.fa"], "variants": ["variants", "-m", folder, "pairs.tsv"],
            "explain": ["explain", "-m", folder, "s.fa", "--method", "gradcam"]}
    for command, argv in runs.items():
        rc, out, err = _run([*argv, "--no-progress"], capsys)
        assert rc == 0, err
        columns = ", ".join(pd.read_csv(io.StringIO(out), sep="\t", nrows=1).columns)
        assert f"| `{command}` | `{columns}`" in readme, (command, columns)
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert " ".join(columns.split(", ")[-1:]) in capsys.readouterr().out
    assert "id, ref, alt, alt − ref" not in readme


def test_train_has_a_default_run_directory_and_says_when_it_resumes(work, capsys):
    argv = ["train", "--preset", "smoke", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "run directory: runs/smoke (the default for --preset smoke" in out and "resuming" not in out
    assert (work / "runs" / "smoke" / "model" / "model.pt").exists()
    assert "use it with --model runs/smoke/model" in out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "resuming the run in runs/smoke from its checkpoint after epoch 2 (of at most 2)" in out
    assert len(pd.read_csv(work / "runs" / "smoke" / "history.csv")) == 2


def test_choose_device_on_a_machine_with_one_gpu_and_on_one_without(monkeypatch):
    from camformer.models.inference import choose_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert choose_device("auto") == torch.device("cuda") and choose_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"cuda:7: this machine has 1 CUDA device\(s\), cuda:0 to cuda:0"):
        choose_device("cuda:7")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert choose_device("auto") == torch.device("cpu") and choose_device(None) == torch.device("cpu")
    for bad, message in (("cuda", "cuda: this machine has no CUDA device"), ("gpu", "gpu: unknown device"),
                         ("tpu", "tpu: unknown device")):
        with pytest.raises(ValueError, match=message):
            choose_device(bad)
