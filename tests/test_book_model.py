"""The book's own model (issue: deterministic, strong, the same on every 2-core CPU):
Camformer Micro, the quick preset as a fixed amount of fp32 work, and repeatability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from camformer.models import networks
from camformer.training.presets import quick_data, run_preset
from camformer.training.train import TrainConfig

torch.set_num_threads(1)


def test_micro_is_originals_blocks_at_64_channels_with_an_earlier_pool():
    micro, original = networks.camformer_micro(5), networks.camformer_original(5)
    spec, ref = micro.config.spec, original.config.spec
    assert spec.channels == (64,) * 6 and spec.hidden == (128, 128) and set(micro.config.dropout) == {0.1}
    assert (spec.kernels, spec.padding, spec.residual_blocks, spec.pool_kernel, spec.pool_stride) == (
        ref.kernels, ref.padding, ref.residual_blocks, ref.pool_kernel, ref.pool_stride)
    assert (spec.pool_block, ref.pool_block) == (2, 4)  # the pool in block 3, not 5
    # By hand: conv 5*64*10+64, five convs 64*64*10+64, six BatchNorms 2*64, 1664->128->128->1.
    by_hand = (5 * 64 * 10 + 64) + 5 * (64 * 64 * 10 + 64) + 6 * 128 + (64 * 26 * 128 + 128) + (128 * 128 + 128) + 129
    assert networks.count_parameters(micro) == by_hand == 438_913
    assert micro(torch.zeros(3, 5, 110)).shape == (3,)


def test_count_macs_by_hand():
    # Micro: three convolutions over 110 positions, three over 26 (after the pool in block 3), dense.
    convs = 5 * 64 * 10 * 110 + 2 * 64 * 64 * 10 * 110 + 3 * 64 * 64 * 10 * 26
    dense = 1664 * 128 + 128 * 128 + 128
    assert networks.count_macs(networks.camformer_micro(5), (2, 5, 110)) == convs + dense
    mini = networks.camformer_mini(5)
    assert networks.count_macs(mini, (1, 5, 110)) > 5 * networks.count_macs(networks.camformer_micro(5), (1, 5, 110))
    assert mini.training  # the count leaves the module's mode as it was


def test_quick_preset_is_fixed_fp32_work():
    cfg = TrainConfig.preset("quick")
    assert (cfg.model, cfg.amp, cfg.max_epochs, cfg.train_size, cfg.val_size, cfg.test_size) == (
        "micro", "off", 2, None, None, None)
    assert (cfg.loss, cfg.optimizer, cfg.scheduler, cfg.max_lr, cfg.batch_size, cfg.weight_decay) == (
        "Huber", "AdamW", "OneCycleLR", 5e-3, 64, 0.1)
    assert not hasattr(cfg, "time_limit_s")  # no wall-clock cut-off decides what is trained


def test_quick_data_uses_the_whole_split_and_holds_out_far_sequences():
    from camformer.data.similarity import VARIABLE_REGION, nearest_distances

    data = quick_data()
    sizes = {k: len(v) for k, v in data.items()}
    assert sizes == {"train": 56_881, "val": 7_111, "test": 7_111}
    ids = [set(v.ids.tolist()) for v in data.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    # The promise of chapter 03, checked by brute force (not by the pigeonhole search that made
    # the split): no held-out sequence within 5 substitutions of a training one.
    region = {k: v.codes[:, VARIABLE_REGION] for k, v in data.items()}
    nearest = nearest_distances(np.concatenate([region["val"], region["test"]]), region["train"])
    assert nearest.min() == 6


def _numbers(result) -> dict:
    history = result.history.drop(columns=["seconds", "seq_per_s"])
    metrics = {k: v for k, v in result.metrics.items() if k != "seconds"}
    return {"history": history.to_dict("list"), "metrics": metrics,
            "test": result.test_predictions.tolist(), "weights": {k: v.tolist() for k, v in result.best_state.items()}}


def test_a_small_preset_trained_twice_gives_identical_numbers():
    data = quick_data(256, 128, 128)
    config = TrainConfig.preset("quick", max_epochs=2, batch_size=64, progress=False)
    first, second = (_numbers(run_preset(config, data=data)) for _ in range(2))
    assert first == second  # every number but the seconds, bit for bit
    assert np.isfinite(first["metrics"]["test_pearson"])


def test_grid_slice_on_micro(tmp_path):
    from camformer.training.grid import retrain_grid
    from camformer.models.networks import grid_configs

    grids = [g for g in grid_configs() if g.size == "Mini" and g.encoding == "onehotWithP"
             and g.loss == "MSE" and g.scheduler == "None"]
    data = quick_data(128, 64, 64)
    base = TrainConfig.preset("quick", max_epochs=1, batch_size=64, scheduler="None", progress=False)
    table = retrain_grid(grids, [1], base, data, progress=False, architecture="micro")
    assert table["size"].eq("micro").all() and list(table["optimizer"]) == ["AdamW", "Lion"]
    with pytest.raises(ValueError, match="unknown architecture"):
        retrain_grid(grids[:1], [1], base, data, progress=False, architecture="nano")


def test_book_model_round_trip_with_encoding_dataset_split(tmp_path):
    import pandas as pd

    from camformer.records.book import load_book_model, save_book_model
    from camformer.data.dream import load_split

    with pytest.raises(FileNotFoundError, match=r"quick/model/config.json: missing; run chapter 03_training first"):
        load_book_model(tmp_path, "quick")
    model = networks.camformer_micro(6).eval()
    preds = pd.DataFrame({"id": [3, 1], "prediction": [0.5, -1.0], "extra": [0, 0]})
    split = {"train": np.array([7, 8]), "val": np.array([9]), "test": np.array([1, 3])}
    save_book_model(model, preds, tmp_path, "quick", dataset="test_library", split=split, encoding="onehotWithBoth")
    loaded, heldout = load_book_model(tmp_path, "quick")
    assert list(heldout.columns) == ["id", "prediction"] and heldout["id"].tolist() == [3, 1]
    assert loaded.encoding == "onehotWithBoth"  # not guessed from the 6 channels: saved
    assert load_split(tmp_path / "quick" / "model" / "split.npz")["test"].tolist() == [1, 3]
    x = torch.rand(2, 6, 110)
    torch.testing.assert_close(loaded(x), model(x))
    (tmp_path / "quick" / "predictions_heldout.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="predictions_heldout.tsv: missing"):
        load_book_model(tmp_path, "quick")


def test_train_attaches_the_encoding_it_used():
    from camformer.models.inference import model_encoding

    data = quick_data(64, 32, 32)
    result = run_preset(TrainConfig.preset("quick", max_epochs=1, batch_size=32, progress=False,
                                           encoding="onehotWithN"), data=data)
    assert result.model.encoding == "onehotWithN" and model_encoding(result.model) == "onehotWithN"


def test_heldout_sample_draws_only_heldout_ids_in_order():
    import pandas as pd

    from camformer.records.book import heldout_sample
    from camformer.data.dream import load_test_table

    table = load_test_table()
    ids = table["id"].to_numpy()[[50, 3, 700, 12, 9]]
    info = {"predictions": pd.DataFrame({"id": ids, "prediction": [0.5, 1.5, 2.5, 3.5, 4.5]})}
    sample = heldout_sample(info, 3, seed=1)
    assert list(sample.columns) == ["id", "seq", "expression", "prediction"]
    assert set(sample["id"]) <= set(ids) and sample["id"].is_monotonic_increasing and len(sample) == 3
    row = sample.iloc[0]
    assert row["prediction"] == dict(zip(ids, [0.5, 1.5, 2.5, 3.5, 4.5]))[row["id"]]
    assert row["seq"] == table.set_index("id").loc[row["id"], "seq"]
    assert heldout_sample(info, 3, seed=1).equals(sample) and len(heldout_sample(info, 99)) == 5
    # n = None: every held-out sequence, in id order, whatever the seed.
    every = heldout_sample(info, None, seed=7)
    assert every["id"].tolist() == sorted(ids) and every.equals(heldout_sample(info, None, seed=0))


def test_book_ensemble_round_trip_and_explained_models(tmp_path, monkeypatch):
    import json

    import pandas as pd

    from camformer.paper import published
    from camformer.records.book import ENSEMBLE_FILE, describe_model, explained_models, load_book_ensemble, \
        save_book_ensemble

    split = {"train": np.array([7, 8]), "val": np.array([9]), "test": np.array([1, 3])}
    members = []
    for seed in (42, 23, 47):
        torch.manual_seed(seed)
        members.append((seed, networks.camformer_micro(5).eval(),
                        pd.DataFrame({"id": [1, 3], "prediction": [seed / 100, -seed / 100]})))
    out = save_book_ensemble(members, tmp_path, "quick", dataset="test_library", split=split, threads=1,
                             encoding="onehotWithP")
    assert json.loads((out / ENSEMBLE_FILE).read_text()) == {"seeds": [42, 23, 47], "threads": 1}
    loaded = load_book_ensemble(tmp_path, "quick")
    assert [label for label, _, _ in loaded] == ["seed 42", "seed 23", "seed 47"]
    x = torch.rand(2, 5, 110)
    for (_, model, _), (_, got, heldout) in zip(members, loaded):
        torch.testing.assert_close(got(x), model(x))
    assert loaded[2][2]["prediction"].tolist() == [0.47, -0.47]
    monkeypatch.setenv(published.OFFLINE_ENV, "1")
    got, info = explained_models(tmp_path, "quick", prefer="book")
    assert len(got) == 3 and info["labels"] == ["seed 42", "seed 23", "seed 47"]
    assert info["model"] == "the book's seed ensemble (quick preset, 3 models)"
    assert list(info["predictions"].columns) == ["id", "prediction", "seed 42", "seed 23", "seed 47"]
    assert info["predictions"]["seed 23"].tolist() == [0.23, -0.23]
    assert "a conclusion is stated only where all 3 reach it" in describe_model(info)
    # A smaller ensemble saved over a larger one leaves none of the old members behind.
    save_book_ensemble(members[:1], tmp_path, "quick", dataset="test_library", split=split, threads=1)
    assert [label for label, _, _ in load_book_ensemble(tmp_path, "quick")] == ["seed 42"]
    with pytest.raises(ValueError, match="its own seed"):
        save_book_ensemble(members[:1] * 2, tmp_path, "quick", dataset="test_library", split=split, threads=1)


def test_run_seeds_trains_each_seed_as_train_alone_would():
    from dataclasses import replace

    from camformer.training.presets import run_seeds
    from camformer.training.workers import TrainRun, train_runs

    config = TrainConfig.preset("smoke", train_size=128, val_size=64, test_size=64, max_epochs=1)
    data = quick_data(128, 64, 64, seed=config.seed)
    results = run_seeds(config, (42, 23), data, threads=1, workers=1)
    assert [r.metrics["threads"] for r in results] == [1, 1]
    assert not np.array_equal(results[0].test_predictions, results[1].test_predictions)  # seeds differ
    from camformer.data.dream import ENCODINGS
    alone = train_runs([TrainRun(networks.ModelConfig("micro", ENCODINGS["onehotWithP"]),
                                 replace(config, encoding="onehotWithP", seed=23))], data, threads=1, workers=1)
    np.testing.assert_array_equal(results[1].test_predictions, alone[0].test_predictions)
    with pytest.raises(ValueError, match="its own seed"):
        run_seeds(config, (1, 1), data)


def test_affordable_n_sizes_the_sample_by_the_costliest_model():
    """A conv (4 -> 2 channels, kernel 3, 110 positions) and a linear layer (220 -> 1) cost
    2*4*3*110 + 220 = 2,860 multiply-accumulates per sequence; one with 4 output channels 5,500."""
    from torch import nn

    from camformer.records.book import affordable_n

    def model(channels):
        m = nn.Sequential(nn.Conv1d(4, channels, 3, padding=1), nn.Flatten(), nn.Linear(channels * 110, 1))
        m.encoding = "onehot"
        return m

    small, large = model(2), model(4)
    assert affordable_n([small], 300, None) == 300 and affordable_n([small], None, None) is None
    with pytest.raises(ValueError, match="needs a sample size"):
        affordable_n([small], None, 1e6)
    assert affordable_n([small], 300, 2_860 * 7) == 7
    assert affordable_n([small], 300, 2_860 * 7 + 2_859) == 7
    assert affordable_n([small], 5, 2_860 * 7) == 5  # never more than asked
    assert affordable_n([small, large], 300, 5_720 * 7) == 7  # the costliest model decides
    assert affordable_n([small, large], 300, 2_860 * 7) == 3
    assert affordable_n([large], 300, 10) == 2  # never fewer than `least`
    with pytest.raises(ValueError, match="macs_budget = 0"):
        affordable_n([small], 300, 0)


def test_explaining_takes_ensemble_n_for_several_models_and_the_budget_for_costly_ones(monkeypatch):
    """One model gets ``n`` promoters, several get ``ensemble_n``; a model over the arithmetic
    budget gets fewer; ``asked`` says what was asked for."""
    from torch import nn

    from camformer.records import book
    from camformer.data.dream import load_test_table

    ids = load_test_table()["id"].to_numpy()[:500]
    info = {"labels": [], "predictions": pd.DataFrame({"id": ids, "prediction": 0.0})}
    model = nn.Sequential(nn.Conv1d(4, 2, 3, padding=1), nn.Flatten(), nn.Linear(220, 1))  # 2,860 MACs
    model.encoding = "onehot"
    said = {1: "", 3: "With 3 models each is asked about 16 promoters instead of the 40 one model gets, "
                      "to keep the chapter's time."}
    for k, expected in ((1, 40), (3, 16)):
        monkeypatch.setattr(book, "explained_models", lambda *a, k=k, **kw: ([model] * k, info))
        ex = book.explaining("unused", "quick", prefer="book", n=40, ensemble_n=16, n_boot=10)
        assert len(ex.sample) == expected == ex.asked and ex.codes.shape == (expected, 110)
        assert ex.sizing() == said[k]
    monkeypatch.setattr(book, "explained_models", lambda *a, **kw: ([model], info))
    ex = book.explaining("unused", "quick", prefer="book", n=40, ensemble_n=16, n_boot=10, macs_budget=2_860 * 9)
    assert (len(ex.sample), ex.asked) == (9, 40)
    assert ex.sizing() == ("The preset asks for 40 promoters; this model costs more, so its sample is sized to "
                           "2.57e+04 multiply-accumulates of forward passes (`camformer.records.book.affordable_n`).")


def test_explaining_draws_figures_at_the_chapters_resolution(monkeypatch):
    import matplotlib.pyplot as plt
    from torch import nn

    from camformer.records import book
    from camformer.data.dream import load_test_table

    ids = load_test_table()["id"].to_numpy()[:50]
    info = {"labels": [], "predictions": pd.DataFrame({"id": ids, "prediction": 0.0})}
    monkeypatch.setattr(book, "explained_models", lambda *a, **kw: ([nn.Identity()], info))
    monkeypatch.setitem(plt.rcParams, "figure.dpi", 72)
    book.explaining("unused", "quick", prefer="book", n=10, n_boot=10)
    assert plt.rcParams["figure.dpi"] == 120  # as book.chapter_start draws the other chapters' figures
    book.explaining("unused", "quick", prefer="book", n=10, n_boot=10, dpi=200)
    assert plt.rcParams["figure.dpi"] == 200
    with pytest.raises(ValueError, match="dpi must be a whole number of at least 1, got 0"):
        book.explaining("unused", "quick", prefer="book", n=10, n_boot=10, dpi=0)


def output_and_process(model, codes: np.ndarray, *, scale: float = 1.0) -> tuple[np.ndarray, int, int]:
    """A model's outputs on ``codes`` (one-hot), with the process and the torch threads that computed them."""
    import os

    from camformer.models.inference import predict

    return scale * predict(model, codes, "onehot"), os.getpid(), torch.get_num_threads()


def test_each_model_asks_several_models_in_one_thread_workers_and_one_model_here(monkeypatch):
    import os

    from torch import nn

    from camformer.data.dream import load_test_table
    from camformer.records import book

    ids = load_test_table()["id"].to_numpy()[:300]
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Conv1d(4, 2, 3, padding=1), nn.Flatten(), nn.Linear(220, 1)).eval() for _ in range(3)]
    info = {"labels": ["a", "b", "c"], "predictions": pd.DataFrame({"id": ids, "prediction": 0.0})}
    monkeypatch.setattr(book, "explained_models", lambda *a, **kw: (models, info))
    ex = book.explaining("unused", "quick", prefer="book", n=64, n_boot=10)
    answers = ex.each_model(output_and_process, ex.codes, per_model=[{"scale": s} for s in (1.0, 2.0, 3.0)])
    for (out, pid, threads), model, scale in zip(answers, models, (1.0, 2.0, 3.0)):
        expected = output_and_process(model, ex.codes, scale=scale)[0]
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)  # the models' order is kept
        assert pid != os.getpid() and threads == 1
    with pytest.raises(ValueError, match="2 per-model argument sets for 3 models"):
        ex.each_model(output_and_process, ex.codes, per_model=[{}, {}])
    monkeypatch.setattr(book, "explained_models", lambda *a, **kw: (models[:1], {**info, "labels": ["a"]}))
    one = book.explaining("unused", "quick", prefer="book", n=64, n_boot=10)
    [(out, pid, threads)] = one.each_model(output_and_process, one.codes)
    assert pid == os.getpid() and threads == one.threads  # the published model: here, on the budget's threads
