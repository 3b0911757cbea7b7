"""The `camformer` command: every subcommand answers --help; predict and evaluate use what is
saved with a model (its encoding, its training data and held-out ids); evaluate's SNV note."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import torch

from camformer.data import dream
from camformer.models import encoding
from camformer.cli.main import SNV_NOTE, build_parser, main
from camformer.models.networks import camformer_mini, init_he, load_model_metadata, save_model

torch.set_num_threads(1)


def _subcommand_paths(parser: argparse.ArgumentParser, prefix=()):
    """Every command path, e.g. ("data", "check"), walking the parser's subparsers."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _subcommand_paths(sub, (*prefix, name))


def test_help_of_every_subcommand(capsys):
    paths = list(_subcommand_paths(build_parser()))
    assert {p[0] for p in paths} >= {"data", "train", "predict", "evaluate", "weights"}
    assert ("data", "check") in paths and ("data", "fetch") in paths
    for path in [(), *paths]:
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        assert exit_.value.code == 0, path
        assert "usage: camformer" in capsys.readouterr().out


def test_predict_uses_the_encoding_saved_with_the_model(tmp_path):
    """onehotWithN has 4 channels, like onehot: only the saved encoding tells them apart
    (an N is 0.25 in every base channel, not 0)."""
    torch.manual_seed(0)
    model = init_he(camformer_mini(4)).eval()
    save_model(model, tmp_path / "model", encoding="onehotWithN")
    seqs = ["TGCATTTTTTTCACATC" + "ACGTNACGTA" * 3 + "CGTA" * 12 + "AC" + "GGTTACGGCTGTT",
            "NNN" + "ACGT" * 25 + "GGTTACG"]
    assert all(len(s) == 110 and s.count("N") == 3 for s in seqs)  # the most N a kept row may have
    (tmp_path / "seqs.txt").write_text("".join(f"{s}\t0\n" for s in seqs))
    out = tmp_path / "pred.tsv"
    assert main(["predict", "--checkpoint", str(tmp_path / "model"), str(tmp_path / "seqs.txt"), "-o", str(out),
                 "--no-progress"]) == 0
    got = pd.read_csv(out, sep="\t")["prediction"].to_numpy()
    codes = torch.from_numpy(dream.encode_sequences(seqs))
    with torch.no_grad():
        want = model(encoding.encode(codes, "onehotWithN")).numpy()
        as_onehot = model(encoding.encode(codes, "onehot")).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.abs(got - as_onehot).max() > 1e-4


def test_train_saves_what_evaluate_needs_and_evaluate_scores_only_held_out_ids(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--preset", "smoke", "--run-dir", str(run), "--no-progress", "--epochs", "1"]) == 0
    meta = load_model_metadata(run / "model")
    assert (meta["encoding"], meta["dataset"]) == ("onehotWithP", "test_library")
    assert {k: len(v) for k, v in meta["split"].items()} == {"train": 1024, "val": 256, "test": 2048}
    capsys.readouterr()
    out_table = tmp_path / "scores.tsv"
    assert main(["evaluate", "--checkpoint", str(run), "--public", "--output", str(out_table)]) == 0
    out = capsys.readouterr().out
    assert "model trained on the measured test library: scoring only its 2,048 held-out test ids" in out
    assert "2,048 predictions" in out
    assert pd.read_csv(out_table, sep="\t", index_col="subset").loc["all", "n"] == 2048


@pytest.fixture
def small_test_set(monkeypatch):
    """The first 200 test sequences stand in for all 71,103 (predicting those takes minutes)."""
    small = dream.load_test_table().iloc[:200]
    monkeypatch.setattr(dream, "test_set_data", lambda table=None: dream.SequenceData(
        codes=dream.encode_sequences(small["seq"]), targets=small["expression"].to_numpy(np.float32),
        ids=small["id"].to_numpy(np.int64), real_valued=np.ones(len(small), dtype=bool)))
    return small["id"].to_numpy()


def test_evaluate_scores_a_challenge_trained_model_on_every_test_id(tmp_path, small_test_set, capsys):
    save_model(camformer_mini(), tmp_path, encoding="onehotWithP", dataset="dream_train")
    assert main(["evaluate", "--checkpoint", str(tmp_path), "--public"]) == 0
    out = capsys.readouterr().out
    assert "trained on the challenge's training data: scoring all test ids" in out
    assert f"{len(small_test_set)} predictions" in out


def test_evaluate_refuses_a_test_library_model_without_its_split(tmp_path, small_test_set, capsys):
    save_model(camformer_mini(), tmp_path, encoding="onehotWithP", dataset="test_library")
    assert main(["evaluate", "--checkpoint", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"camformer: error: {tmp_path}: the model was trained on the measured test library" in err
    assert "no split.npz with its held-out ids" in err


def test_evaluate_prints_the_snv_reconstruction_note(tmp_path, capsys):
    pred = dream.load_published_predictions().iloc[:500]
    pred = pred[["id", "original"]].rename(columns={"original": "prediction"})
    pred.to_csv(tmp_path / "p.tsv", sep="\t", index=False)
    assert main(["evaluate", str(tmp_path / "p.tsv")]) == 0
    out = capsys.readouterr().out
    assert SNV_NOTE in out
    assert "private SNV pairs (39,822 of 44,492) are reconstructed" in out and "at most 4.8e-4" in out


def test_snv_note_states_the_measured_deviations():
    """The note's numbers: Camformer's published predictions scored here against the paper's
    seed-42 rows; every subset but SNVs agrees."""
    from camformer.stats import metrics

    pred = dream.load_published_predictions().set_index("id")
    grid = dream.load_paper_table("grid_res_all_models_pvt.csv")
    pairs = dream.load_test_pairs()
    snv = pairs["subset"] == "SNVs"
    assert snv.sum() == 44_492 and (snv & (pairs["public"] == 0)).sum() == 39_822
    dev = {"r2": {}, "rho": {}, "score": []}
    for column, model in (("original", "Orig"), ("mini", "Mini")):
        table = metrics.score_predictions(pred[column])
        row = grid[(grid["Seed"] == 42) & (grid["Model"] == model)].iloc[0]
        for subset in metrics.SUBSETS:
            prefix = "" if subset == "all" else f"{subset}_"
            dev["r2"][model, subset] = abs(table.loc[subset, "pearson_r2"] - row[f"{prefix}pearson"] ** 2)
            dev["rho"][model, subset] = abs(table.loc[subset, "spearman_rho"] - row[f"{prefix}spearman"])
        dev["score"] += [abs(metrics.dream_score(table, "pearson_r2") - row["pearsons_score"]),
                         abs(metrics.dream_score(table, "spearman_rho") - row["spearmans_score"])]
    assert max(dev["r2"], key=dev["r2"].get) == ("Mini", "SNVs")
    assert round(max(dev["r2"].values()), 5) == 4.8e-4
    assert round(max(dev["rho"].values()), 5) == 2.8e-4
    assert round(max(dev["score"]), 5) == 1.3e-4
    others = [v for d in (dev["r2"], dev["rho"]) for (_, subset), v in d.items() if subset != "SNVs"]
    assert max(others) < 1e-6
