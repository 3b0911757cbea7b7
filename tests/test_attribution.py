"""captum attributions: known answers on a linear model."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.explain.attribution import attribute, fold_channels
from camformer.models.encoding import encode

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


def test_position_profiles_take_the_base_present():
    from camformer.explain.attribution import position_profiles, present_base_profiles

    x = torch.zeros(5, 4)
    x[[0, 1, 2, 3], [0, 1, 2, 3]] = 1  # ACGT
    ramp = torch.arange(16.0).reshape(4, 4)
    profiles = position_profiles({"a": ramp, "blank": torch.zeros(4, 4)}, x)
    assert profiles["a"].tolist() == [0.0, 5.0, 10.0, 15.0]  # the diagonal: the base present
    assert profiles["blank"].tolist() == [0.0] * 4
    batch = present_base_profiles(torch.stack([ramp, -ramp]), torch.stack([x, x]))
    np.testing.assert_array_equal(batch, [[0, 5, 10, 15], [0, -5, -10, -15]])
    with pytest.raises(ValueError, match="shape"):
        present_base_profiles(ramp[None], x[None, :, :3])


def test_rowwise_pearson_against_numpy_and_undefined_rows():
    from camformer.explain.attribution import rowwise_pearson

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 30)), rng.normal(size=(5, 30))
    b[3] = 2 * a[3] + 1
    b[4] = 1.0  # constant
    r = rowwise_pearson(a, b)
    for i in range(4):
        assert r[i] == pytest.approx(np.corrcoef(a[i], b[i])[0, 1])
    assert r[3] == pytest.approx(1.0) and np.isnan(r[4])


def _profiles(n=60, length=40, seed=0):
    rng = np.random.default_rng(seed)
    grad = rng.normal(size=(n, length))
    return {"Grad-CAM": grad, "same": grad + 0.3 * rng.normal(size=(n, length)),
            "opposite": -grad + 0.3 * rng.normal(size=(n, length)), "noise": rng.normal(size=(n, length))}


def test_agreement_table_and_verdicts_go_every_way():
    from camformer.explain.attribution import agreement_table, agreement_verdicts

    table = agreement_table(_profiles(), "Grad-CAM", groups=np.arange(60) // 3, n_boot=300)
    assert list(table.index) == ["same", "opposite", "noise"]
    assert table.loc["same", "mean_r"] > 0.9 and table.loc["opposite", "mean_r"] < -0.9
    assert table.loc["noise", "ci_low"] < 0 < table.loc["noise", "ci_high"]
    assert (table["n"] == 60).all() and (table["n_undefined"] == 0).all()
    verdicts, best, closest = agreement_verdicts(table)
    assert verdicts["same"].words == "same agrees with Grad-CAM on average (r above 0)"
    assert verdicts["opposite"].words == "opposite points the other way from Grad-CAM on average (r below 0)"
    assert verdicts["noise"].words == "noise and Grad-CAM are unrelated on average (|r| below 0.1)"
    assert verdicts["noise"].decided
    assert closest == "same" and best.words == "same agrees with Grad-CAM best" and best.decided


def test_agreement_verdict_undecided_between_unrelated_and_agreeing():
    from camformer.explain.attribution import agreement_verdicts

    table = pd.DataFrame({"mean_r": [0.08, 0.12], "ci_low": [-0.02, 0.11], "ci_high": [0.15, 0.13],
                          "n": 10, "n_undefined": 0}, index=["wide", "small but clear"])
    verdicts, _, _ = agreement_verdicts(table)
    assert verdicts["wide"].words == "wide neither clearly agrees with Grad-CAM nor is unrelated to it"
    assert not verdicts["wide"].decided
    assert verdicts["small but clear"].words.startswith("small but clear agrees")


def test_agreement_best_is_undecided_when_intervals_overlap_and_undefined_when_blank():
    from camformer.explain.attribution import agreement_table, agreement_verdicts

    profiles = _profiles()
    profiles["also same"] = profiles["same"] + 0.01
    _, best, closest = agreement_verdicts(agreement_table(profiles, "Grad-CAM", n_boot=300))
    assert closest == "undecided" and "undecided" in best.words and not best.decided
    blank = {"Grad-CAM": np.zeros((5, 10)), "other": np.ones((5, 10)).cumsum(1)}
    table = agreement_table(blank, "Grad-CAM")
    assert np.isnan(table.loc["other", "mean_r"]) and table.loc["other", "n_undefined"] == 5
    verdicts, best, closest = agreement_verdicts(table)
    assert verdicts["other"].words.startswith("undefined") and closest == "undefined"


def test_integrated_gradients_run_the_path_in_batches_of_at_most_batch_size():
    """IG evaluates n_steps points per sequence: 32 x 256 at once is 8,192 inputs, which for
    Camformer Original on a CPU ran out of 24 GB. The path goes through in batches of batch_size."""
    torch.manual_seed(0)
    seen = []

    class Recording(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv1d(4, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 7, 1))

        def forward(self, x):
            seen.append(len(x))
            return self.net(x)

    model, X = Recording(), torch.randn(10, 4, 9)
    got = attribute(model, X, "integrated_gradients", n_steps=32, batch_size=4, device="cpu")
    assert max(seen) <= 4 and sum(seen) >= 10 * 32
    seen.clear()
    whole = attribute(model, X, "integrated_gradients", n_steps=32, batch_size=10, internal_batch_size=320,
                      device="cpu")
    assert max(seen) == 320  # one pass when asked for
    torch.testing.assert_close(got, whole, atol=1e-5, rtol=1e-5)
