"""captum attributions: known answers on a linear model."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.attribution import attribute, fold_channels
from camformer.encoding import encode

torch.set_num_threads(1)


@pytest.fixture
def linear():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 9, 1))
    w = model[1].weight.detach().view(4, 9)
    X = torch.randn(5, 4, 9)
    return model, w, X


def test_integrated_gradients_of_a_linear_model_is_x_times_w(linear):
    model, w, X = linear
    got = attribute(model, X, "integrated_gradients", n_steps=8, device="cpu")
    torch.testing.assert_close(got, X * w, atol=1e-5, rtol=1e-5)
    base = torch.full((4, 9), 0.25)
    got = attribute(model, X, "integrated_gradients", baseline=base, batch_size=2, device="cpu")
    torch.testing.assert_close(got, (X - base) * w, atol=1e-5, rtol=1e-5)


def test_deeplift_and_saliency_of_a_linear_model(linear):
    model, w, X = linear
    torch.testing.assert_close(attribute(model, X, "deeplift", device="cpu"), X * w, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(attribute(model, X, "saliency", device="cpu"), w.abs().expand_as(X), atol=1e-6, rtol=0)
    torch.testing.assert_close(attribute(model, X, "saliency", abs=False, device="cpu"), w.expand_as(X), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="unknown method"):
        attribute(model, X, "shap")


def test_fold_channels_adds_the_purine_attribution_onto_the_base_present():
    """Sequence A C G T N; attributions per channel, hand-made. The purine column goes onto
    the base that is there (0.25 of it to each base at the N); the Int flag is left out."""
    codes = torch.tensor([[0, 1, 2, 3, 4]], dtype=torch.uint8)
    bases = torch.arange(20, dtype=torch.float32).view(1, 4, 5)  # [c, l] = 5 c + l
    purine = torch.tensor([[[100.0, 200.0, 300.0, 400.0, 800.0]]])
    flag = torch.full((1, 1, 5), -7.0)
    expect = bases.clone()
    for position, base in enumerate([0, 1, 2, 3]):
        expect[0, base, position] += purine[0, 0, position]
    expect[0, :, 4] += 200.0  # N: 800 spread over A, C, G, T
    attr_p = torch.cat([bases, purine], 1)
    torch.testing.assert_close(fold_channels(attr_p, encode(codes, "onehotWithP"), "onehotWithP"), expect)
    attr_both = torch.cat([bases, flag, purine], 1)  # Int flag, then purine, as encode orders them
    torch.testing.assert_close(fold_channels(attr_both, encode(codes, "onehotWithBoth"), "onehotWithBoth"), expect)
    attr_int = torch.cat([bases, flag], 1)
    torch.testing.assert_close(fold_channels(attr_int, encode(codes, "onehotWithInt"), "onehotWithInt"), bases)
    torch.testing.assert_close(fold_channels(bases, encode(codes, "onehotWithN"), "onehotWithN"), bases)
    with pytest.raises(ValueError, match=r"shape \(N, 5, L\)"):
        fold_channels(bases, encode(codes), "onehotWithP")


def test_integrated_gradients_are_complete_on_a_nonlinear_model():
    """Sum of IG attributions = f(x) - f(baseline) (completeness), through ReLU and max-pool;
    folding the purine channel onto the bases keeps the sum."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(5, 8, 5, padding=2), nn.ReLU(), nn.MaxPool1d(3, 2), nn.Conv1d(8, 4, 3),
                          nn.ReLU(), nn.Flatten(), nn.Linear(4 * 7, 1))
    with torch.no_grad():
        for weight in model.parameters():
            weight.mul_(3.0)  # outputs of order 1, so the check has something to account for
    codes = torch.randint(0, 4, (3, 20), dtype=torch.uint8)
    x = encode(codes, "onehotWithP")
    base = torch.full((5, 20), 0.25)
    attr = attribute(model, codes, "integrated_gradients", baseline=base, encoding="onehotWithP", n_steps=300)
    with torch.no_grad():
        change = (model(x) - model(base.expand_as(x))).squeeze(1)
    assert change.abs().min() > 0.05  # a real difference to account for
    totals = attr.sum((1, 2))
    torch.testing.assert_close(totals, change, rtol=0.02, atol=1e-4)
    torch.testing.assert_close(fold_channels(attr, x, "onehotWithP").sum((1, 2)), totals, rtol=1e-5, atol=1e-6)


def test_position_profiles_and_undefined_correlation():
    from camformer.attribution import compare_profiles, position_profiles

    x = torch.zeros(5, 4)
    x[[0, 1, 2, 3], [0, 1, 2, 3]] = 1  # ACGT
    ramp = torch.arange(16.0).reshape(4, 4)
    profiles = position_profiles({"a": ramp, "b": 2 * ramp + 1, "blank": torch.zeros(4, 4)}, x)
    assert profiles["a"].tolist() == [0.0, 5.0, 10.0, 15.0]  # the diagonal: the base present
    table = compare_profiles(profiles, "a")
    assert table.loc["b", "pearson_r"] == pytest.approx(1.0) and table.loc["b", "undefined"] == ""
    assert np.isnan(table.loc["blank", "pearson_r"]) and table.loc["blank", "undefined"] == "the blank profile is constant"
