"""ISM: exact against a naive one-mutant-at-a-time loop, for any model and encoding."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.data import encode
from camformer.ism import (
    VARIABLE_POSITIONS,
    conv_reach,
    ism,
    ism_receptive_field,
    mutant_table,
    position_effect,
    pssm,
)

torch.set_num_threads(1)
# even kernels with padding="same" are the point here (asymmetric padding, as in Camformer)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
L = 40


class Residual(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return self.block(x) + x


def block(c_in, c_out, k):
    return nn.Sequential(nn.Conv1d(c_in, c_out, k, padding="same"), nn.BatchNorm1d(c_out), nn.ReLU(), nn.Dropout(0.3))


class TinyCamformer(nn.Module):
    """A small model shaped like Camformer: residual same-padded conv blocks, a max pool,
    one more conv, flatten, dense layers. Even kernels make the padding asymmetric."""

    def __init__(self, c_in=4, ch=8, k=4, length=L):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.ModuleList([block(c_in, ch, k), Residual(block(ch, ch, k)), block(ch, ch, 3)])
        self.pool = nn.MaxPool1d(4, 2)
        self.last = block(ch, ch, 3)
        pooled = (length - 4) // 2 + 1
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(ch * pooled, 16), nn.ReLU(), nn.Linear(16, 1))
        for m in self.modules():  # non-trivial batch-norm statistics
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)

    def head(self, x):
        x = self.pool(x)
        return self.dense(self.last(x) + x)

    def forward(self, x):
        for stage in self.stem:
            x = stage(x)
        return self.head(x)  # (N, 1)


def naive_ism(model, codes, encoding="onehot", positions=VARIABLE_POSITIONS):
    """One mutant at a time, straight from the definition."""
    model.eval()
    out = torch.zeros(len(codes), 4, codes.shape[1])
    with torch.no_grad():
        for n in range(len(codes)):
            ref = model(encode(torch.as_tensor(codes[n : n + 1]), encoding)).item()
            for p in positions:
                for b in range(4):
                    if b == codes[n, p]:
                        continue
                    mut = codes[n : n + 1].copy()
                    mut[0, p] = b
                    out[n, b, p] = model(encode(torch.as_tensor(mut), encoding)).item() - ref
    return out


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(1)
    c = rng.integers(0, 4, size=(5, L)).astype(np.uint8)
    c[2, 7] = 4  # an N: all four bases are substitutions there
    return c


def test_ism_matches_naive_loop_onehot(codes):
    model = TinyCamformer()
    positions = range(5, 30)
    expect = naive_ism(model, codes, positions=positions)
    got_codes = ism(model, codes, positions=positions, batch_size=37, device="cpu")
    got_onehot = ism(model, encode(torch.as_tensor(codes)), positions=positions, batch_size=1000, device="cpu")
    assert got_codes.shape == (5, 4, L)
    torch.testing.assert_close(got_codes, expect, atol=1e-5, rtol=0)
    torch.testing.assert_close(got_onehot, expect, atol=1e-5, rtol=0)
    # zeros at the reference base and outside the mutated positions
    ref = torch.as_tensor(codes[:, 5:30]).long()
    at_ref = got_codes[:, :, 5:30].gather(1, ref.clamp(max=3)[:, None])[:, 0]
    assert (at_ref[ref < 4] == 0).all()
    assert (got_codes[:, :, :5] == 0).all() and (got_codes[:, :, 30:] == 0).all()
    # the N at (2, 7) has four substitutions, the others three
    assert (got_codes[2, :, 7] != 0).sum() == 4


def test_ism_restores_training_mode_and_ignores_dropout(codes):
    model = TinyCamformer().train()
    a = ism(model, codes, positions=range(10, 12), device="cpu")
    b = ism(model, codes, positions=range(10, 12), device="cpu")
    assert model.training
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_ism_extra_channel_encoding_reencodes_mutants(codes):
    model = TinyCamformer(c_in=6)
    rv = np.array([True, False, True, False, True])
    positions = range(0, L, 7)
    got = ism(model, codes, positions=positions, encoding="onehotWithBoth", real_valued=rv, device="cpu")
    model.eval()
    expect = torch.zeros_like(got)
    with torch.no_grad():
        for n in range(len(codes)):
            flag = torch.as_tensor(rv[n : n + 1])
            ref = model(encode(torch.as_tensor(codes[n : n + 1]), "onehotWithBoth", real_valued=flag)).item()
            for p in positions:
                for b in range(4):
                    if b != codes[n, p]:
                        mut = codes[n : n + 1].copy()
                        mut[0, p] = b
                        x = encode(torch.as_tensor(mut), "onehotWithBoth", real_valued=flag)
                        expect[n, b, p] = model(x).item() - ref
    torch.testing.assert_close(got, expect, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="extra channels"):
        ism(model, encode(torch.as_tensor(codes), "onehotWithBoth"), device="cpu")


def test_receptive_field_ism_is_exact_at_every_position(codes):
    model = TinyCamformer()
    assert conv_reach(model.stem[0]) == (1, 2)  # kernel 4, same padding: 1 left, 2 right
    assert conv_reach(model.stem[1]) == (1, 2)
    expect = ism(model, codes, positions=None, device="cpu")
    got = ism_receptive_field(list(model.stem), model.head, codes, positions=None, batch_size=7, sequence_chunk=2, device="cpu")
    torch.testing.assert_close(got, expect, atol=1e-5, rtol=0)
    assert (expect[:, :, 0] != 0).any() and (expect[:, :, -1] != 0).any()  # the ends were mutated


def test_receptive_field_ism_detects_a_wrong_reach(codes):
    """A reach smaller than the stage's real one gives wrong effects; the built-in check
    against a full pass catches it."""
    model = TinyCamformer()
    with pytest.raises(ValueError, match="differs from the full pass"):
        ism_receptive_field(list(model.stem), model.head, codes, reach=[(0, 0)] * 3, positions=range(10, 20), device="cpu")


def test_pssm_and_mutant_table():
    delta = torch.zeros(1, 4, 3)
    delta[0, :, 1] = torch.tensor([0.0, 3.0, -6.0, 0.3])
    np.testing.assert_allclose(pssm(delta)[0, :, 1], [0, 1, -2, 0.1])
    np.testing.assert_allclose(position_effect(delta)[0], [0, -0.9, 0], atol=1e-7)
    table = mutant_table(delta, np.array([[0, 0, 1]], dtype=np.uint8), positions=[1])
    assert table[["position", "ref", "alt"]].values.tolist() == [[1, 0, 1], [1, 0, 2], [1, 0, 3]]
    np.testing.assert_allclose(table["delta"], [3.0, -6.0, 0.3])


def test_rejects_bad_input(codes):
    model = TinyCamformer()
    with pytest.raises(ValueError, match="positions"):
        ism(model, codes, positions=[L], device="cpu")
    with pytest.raises(ValueError, match=r"\(N,\)"):
        ism(lambda x: x.sum(1), codes, positions=[3], device="cpu")
