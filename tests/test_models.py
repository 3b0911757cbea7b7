"""Tests for camformer.models.networks: published parameter counts, shapes and lengths, residual
wiring, the 270-run grid against the paper's scoreboards, save/load, and loading weights in the
authors' key layout (checked against an independent Conv2d re-implementation of their model)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from camformer.data.dream import load_paper_table
from camformer.training.grid import grid_parameter_counts
from camformer.models.networks import (
    ModelConfig,
    architecture_table,
    build_model,
    camformer_mini,
    camformer_original,
    camformer_small,
    count_parameters,
    grid_config,
    grid_configs,
    init_he,
    load_model,
    load_model_metadata,
    load_reference_state_dict,
    save_model,
)

torch.set_num_threads(1)


def test_published_parameter_counts():
    assert count_parameters(camformer_original()) == 16_611_073
    assert count_parameters(camformer_mini(5)) == 1_446_721
    assert count_parameters(camformer_mini(4)) == 1_444_801


def test_grid_matches_the_published_scoreboards():
    board = pd.concat([load_paper_table(f"score_board_{s}Model.csv") for s in ("Large", "Small", "Mini")])
    counts = grid_parameter_counts().set_index("id")
    assert len(grid_configs()) == 270 and len(board) == 270
    assert sorted(board.RunID) == list(range(1, 271))
    for row in board.itertuples():
        run = grid_config(row.RunID)
        scheduler = "None" if pd.isna(row.LRScheduler) else row.LRScheduler
        assert (run.id, run.encoding, run.loss, run.optimizer, run.scheduler) == (
            row.RunID, row.Seq_Enc, row.LossFn, row.Optimizer, scheduler)
        assert counts.loc[row.RunID, "params"] == round(float(row.ModelSize.rstrip("M")) * 1e6), run.name
        assert counts.loc[row.RunID, "size"] == run.size


def test_grid_lookup_by_id_and_name():
    assert grid_config(9).model_config() == ModelConfig("original", 4)
    assert (grid_config(9).loss, grid_config(9).scheduler) == ("L1", "ReduceLROnPlateau")
    mini = grid_config(219)
    assert mini.name == "Mini-onehotWithP-MSE-AdamW-ReduceLROnPlateau"
    assert mini.model_config() == ModelConfig("mini", 5)
    assert all(grid_config(run.name) == run == grid_config(str(run.id)) for run in grid_configs())
    assert len({run.name for run in grid_configs()}) == 270
    for bad in (0, 271, "Tiny-onehot-MSE-AdamW-None"):
        with pytest.raises(KeyError):
            grid_config(bad)


@pytest.mark.parametrize("build,channels,width", [
    (camformer_original, 4, 256), (camformer_small, 6, 128), (camformer_mini, 5, 32)])
def test_output_and_embedding_shapes(build, channels, width):
    model = build(channels).eval()
    x = torch.rand(3, channels, 110)
    assert model(x).shape == (3,)
    assert model(x[:1]).shape == (1,)
    assert model.embed(x).shape == (3, width)
    # The output is the last linear layer applied to the embedding.
    torch.testing.assert_close(model(x), model.output(model.embed(x)).squeeze(-1))


def test_intermediate_lengths():
    table = architecture_table(camformer_original(), (1, 4, 110))
    convs = table[table.type == "Conv1d"]
    assert list(convs.output_length) == [110, 110, 110, 110, 110, 26]
    assert table.loc[table.type == "MaxPool1d", "output_length"].tolist() == [26]
    assert table.loc[table.layer == "hidden.0.0", "in_channels"].item() == 13_312
    table = architecture_table(camformer_mini(), (1, 5, 110))
    steps = table[table.type.isin(["Conv1d", "MaxPool1d"])].output_length.tolist()
    assert steps == [116, 121, 126, 132, 63, 69, 76]
    assert table.loc[table.layer == "hidden.0.0", "in_channels"].item() == 14_592


def test_architecture_table_accounts_for_every_parameter():
    for model, shape in ((camformer_original(), (2, 4, 110)), (camformer_mini(), (2, 5, 110))):
        table = architecture_table(model, shape)
        assert table.params.sum() == count_parameters(model)
        assert table.output_channels.iloc[-1] == 1
    flagged = sorted(set(table.block[table.residual]))
    assert flagged == []  # Mini has no shortcuts
    table = architecture_table(camformer_original(), (1, 4, 110))
    assert sorted(set(table.block[table.residual])) == [1, 3, 5]


def _silence(block):
    """Make a block output exactly zero: zero conv weights/bias and BatchNorm shift."""
    with torch.no_grad():
        block.conv.weight.zero_()
        block.conv.bias.zero_()
        block.norm.bias.zero_()


def test_residual_pairs_add_the_first_block_output():
    torch.manual_seed(0)
    model = camformer_original().eval()
    x = torch.rand(2, 4, 110)
    # Wiring by hand: x = B2(B1(x)) + B1(x) for each pair.
    b = model.blocks
    h = x
    for i in (0, 2, 4):
        h = b[i](h)
        h = b[i + 1](h) + h
    torch.testing.assert_close(model.features(x), h)
    # With the second block of each pair silenced, each pair reduces to its first block.
    for i in (1, 3, 5):
        _silence(b[i])
    torch.testing.assert_close(model.features(x), b[4](b[2](b[0](x))))
    assert model.features(x).abs().sum() > 0
    # Mini has no shortcuts: silencing its last block silences the features.
    mini = camformer_mini().eval()
    _silence(mini.blocks[5])
    assert torch.count_nonzero(mini.features(torch.rand(2, 5, 110))) == 0


def test_model_config_dropout_forms():
    assert ModelConfig().dropout == (0.3,) * 6
    assert ModelConfig(dropout=0.3) == ModelConfig()
    assert ModelConfig("mini").dropout == (0.156, 0.194, 0.231, 0.269, 0.306, 0.344)
    model = build_model(ModelConfig("small", 4, dropout=0.1, linear_dropout=0.2))
    assert [blk.drop.p for blk in model.blocks] == [0.1] * 6
    assert model.hidden[0][2].p == 0.2
    for bad in (dict(architecture="huge"), dict(dropout=(0.1, 0.2)), dict(dropout=1.5), dict(in_channels=0)):
        with pytest.raises(ValueError):
            ModelConfig(**bad)


def test_init_he():
    model = init_he(camformer_original())
    weight = model.hidden[0][0].weight  # fan-in 13,312, 3.4M draws
    assert weight.std().item() == pytest.approx(np.sqrt(2 / 13_312), rel=0.01)
    assert model.blocks[3].conv.weight.std().item() == pytest.approx(np.sqrt(2 / (512 * 10)), rel=0.01)
    assert all(torch.count_nonzero(m.bias) == 0 for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear)))


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(1)
    model = init_he(build_model(ModelConfig("mini", 6, dropout=0.25)))
    model.train()
    model(torch.rand(8, 6, 110))  # move the BatchNorm running statistics off their defaults
    save_model(model, tmp_path / "m", encoding="onehotWithBoth", dataset="dream_train")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.pt"]
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert saved["model"]["architecture"] == "mini"
    assert (saved["encoding"], saved["dataset"]) == ("onehotWithBoth", "dream_train")
    loaded = load_model(tmp_path / "m")
    assert loaded.config == model.config and not loaded.training
    assert loaded.encoding == "onehotWithBoth"
    x = torch.rand(4, 6, 110)
    assert torch.equal(loaded(x), model.eval()(x))


def test_save_model_records_encoding_dataset_and_split(tmp_path):
    split = {"train": np.array([3, 1, 2]), "val": np.array([7]), "test": np.array([4, 9])}
    save_model(camformer_original(), tmp_path, encoding="onehotWithN", dataset="test_library", split=split)
    meta = load_model_metadata(tmp_path)
    assert (meta["encoding"], meta["dataset"]) == ("onehotWithN", "test_library")
    assert sorted(meta["split"]) == ["test", "train", "val"]
    np.testing.assert_array_equal(meta["split"]["test"], [4, 9])
    # saving a loaded model again keeps its encoding; a split not given again is not left behind
    save_model(load_model(tmp_path), tmp_path)
    meta = load_model_metadata(tmp_path)
    assert (meta["encoding"], meta["dataset"], meta["split"]) == ("onehotWithN", None, None)
    assert not (tmp_path / "split.npz").exists()


def test_load_model_reads_the_older_flat_layout(tmp_path):
    model = camformer_mini(4)
    save_model(model, tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(model.config.to_dict()))  # ModelConfig keys only
    loaded = load_model(tmp_path)
    assert loaded.config == model.config and loaded.encoding is None
    assert load_model_metadata(tmp_path) == {"encoding": None, "dataset": None, "split": None}


@pytest.mark.parametrize("text, message", [
    ('{"architecture": "mini",\n "in_channels": }', "config.json, line 2"),
    ('{"architecture": "mini", "colour": "red"}', "colour"),
    ('{"model": {"architecture": "huge"}, "encoding": null}', "config.json: unknown architecture 'huge'"),
    ('{"model": {"architecture": "mini", "in_channels": 5}, "encoding": "onehotWithN"}',
     "config.json: encoding 'onehotWithN' has 4 channels, but the model takes 5"),
    ('{"model": {"architecture": "mini", "in_channels": 5}, "encoding": "onehotWithP", "seed": 1}',
     r"config.json: unexpected entries \['seed'\]"),
])
def test_load_model_errors_name_the_file(tmp_path, text, message):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model(tmp_path)
    save_model(camformer_mini(), tmp_path)
    (tmp_path / "config.json").write_text(text)
    for load in (load_model, load_model_metadata):
        with pytest.raises(ValueError, match=message):
            load(tmp_path)


def test_save_model_refuses_an_encoding_the_model_cannot_take(tmp_path):
    with pytest.raises(ValueError, match="save_model: encoding 'onehot' has 4 channels, but the model takes 5"):
        save_model(camformer_mini(5), tmp_path, encoding="onehot")


# ---------------------------------------------------------------------------- the authors' layout

class _RefSameConv2d(nn.Module):
    """The authors' Conv2dSame: pad the sequence axis (k-1)//2 before, the rest after."""

    def __init__(self, c_in, c_out, k):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, (k, 1))
        self.pads = (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2)

    def forward(self, x):
        return self.conv(F.pad(x, self.pads))


class _RefCNN(nn.Module):
    """An independent copy of the authors' CNN on (N, C, L, 1) input, in their key layout:
    CNN_layers.i = Sequential(conv, BatchNorm2d, ReLU, [MaxPool2d], Dropout), linear_layers.j =
    Sequential(Linear[, ReLU, Dropout])."""

    def __init__(self, c_in, channels, kernels, same, pad, pool_at, pool, hidden, residual, length):
        super().__init__()
        self.residual = residual
        self.CNN_layers = nn.ModuleList()
        for i, (c, k) in enumerate(zip(channels, kernels)):
            conv = _RefSameConv2d(c_in, c, k) if same else nn.Conv2d(c_in, c, (k, 1), padding=(pad, 0))
            length = length if same else length + 2 * pad - k + 1
            layers = [conv, nn.BatchNorm2d(c), nn.ReLU()]
            if i == pool_at:
                layers.append(nn.MaxPool2d((pool[0], 1), stride=(pool[1], 1)))
                length = (length - pool[0]) // pool[1] + 1
            self.CNN_layers.append(nn.Sequential(*layers, nn.Dropout(0.3)))
            c_in = c
        dims = [c_in * length] + list(hidden)
        blocks = [nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(0.0)) for a, b in zip(dims, dims[1:])]
        self.linear_layers = nn.Sequential(*blocks, nn.Sequential(nn.Linear(dims[-1], 1)))

    def forward(self, x):
        if self.residual:
            for i in range(0, len(self.CNN_layers), 2):
                x = self.CNN_layers[i](x)
                x = self.CNN_layers[i + 1](x) + x
        else:
            for layer in self.CNN_layers:
                x = layer(x)
        return torch.flatten(self.linear_layers(x.view(x.size(0), -1)))


def _randomise(module):
    torch.manual_seed(3)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 2.0)
            elif tensor.is_floating_point():
                tensor.normal_(0, 0.05)
    return module


@pytest.mark.parametrize("which", ["original", "mini"])
def test_load_reference_state_dict_reproduces_the_reference_outputs(which):
    if which == "original":
        ref = _RefCNN(4, [512] * 6, [10] * 6, True, 0, 4, (10, 4), [256, 256], True, 110)
        model, channels = camformer_original(), 4
    else:
        ref = _RefCNN(5, [384, 256, 128, 64, 128, 192], [5, 6, 6, 5, 5, 4], False, 5, 3, (7, 2), [32], False, 110)
        model, channels = camformer_mini(), 5
    state = _randomise(ref).state_dict()
    assert any(k.startswith("CNN_layers.0.0.") for k in state) and "linear_layers.0.0.weight" in state
    load_reference_state_dict(model, state)
    ref.double().eval()
    model.double().eval()
    x = torch.rand(2, channels, 110, dtype=torch.float64)
    expected = ref(x.unsqueeze(-1))
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    assert expected.abs().max() > 1e-3  # a real signal, not two zeros


def test_load_reference_state_dict_rejects_a_mismatch():
    ref = _RefCNN(4, [384, 256, 128, 64, 128, 192], [5, 6, 6, 5, 5, 4], False, 5, 3, (7, 2), [32], False, 110)
    with pytest.raises(ValueError, match="blocks.0.conv.weight"):
        load_reference_state_dict(camformer_mini(5), ref.state_dict())  # 4 channels into a 5-channel Mini
    state = dict(ref.state_dict(), **{"CNN_layers.0.2.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="CNN_layers.0.2.weight"):
        load_reference_state_dict(camformer_mini(4), state)


def test_load_scoreboards_is_the_full_factorial_grid_and_the_optimiser_matters_most():
    from camformer.training.grid import SCOREBOARD_FACTORS, load_scoreboards
    from camformer.stats.factorial import additive_variance_shares

    board = load_scoreboards()
    factors = list(SCOREBOARD_FACTORS.values())
    assert len(board) == 270 and not board[factors].duplicated().any()  # each combination once
    assert [board[f].nunique() for f in factors] == [5, 3, 2, 3, 3]
    assert set(board["scheduler"]) == {"None", "OneCycleLR", "ReduceLROnPlateau"}  # no empty cell
    # Every row agrees with the run its RunID names.
    for row in board.to_dict("records"):
        run = grid_config(row["RunID"])
        assert (run.size, run.encoding, run.loss, run.optimizer, run.scheduler) == (
            row["size"], row["encoding"], row["loss function"], row["optimiser"], row["scheduler"])
    # The paper's finding, computed from its own scoreboards: the optimiser explains the most
    # variance of validation r and of ρ.
    for metric in ("r", "rho"):
        assert additive_variance_shares(board, factors, metric).drop("residual").idxmax() == "optimiser"
