"""Grad-CAM against closed forms on hand-built convolution models."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.explain.gradcam import conv_layers, gradcam, normalize_by_max

torch.set_num_threads(1)
L = 12


class ConvMeanLinear(nn.Module):
    """conv(k, one channel) -> mean over length -> a * m + d. With kernel 1 and weights w,
    bias c: f(x) = a/L * sum_l (w . x_l + c) + d, so the conv output is A_l = w . x_l + c,
    the gradient is a w_b / L, and Grad-CAM[b, l] = (w . x_l + c) a w_b / L."""

    def __init__(self, w, c, a, d, kernel=1):
        super().__init__()
        self.conv = nn.Conv1d(4, 1, kernel)
        self.dense = nn.Linear(1, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.as_tensor(w, dtype=torch.float32).view(1, 4, 1).expand(1, 4, kernel))
            self.conv.bias.fill_(c)
            self.dense.weight.fill_(a)
            self.dense.bias.fill_(d)

    def forward(self, x):
        return self.dense(self.conv(x).mean(-1))  # (N, 1)


@pytest.fixture
def X():
    g = torch.Generator().manual_seed(0)
    return nn.functional.one_hot(torch.randint(0, 4, (3, L), generator=g), 4).transpose(1, 2).float()


def test_gradcam_closed_form_kernel_1(X):
    w, c, a, d = torch.tensor([1.0, -2.0, 0.5, 3.0]), 0.25, 2.0, -1.0
    model = ConvMeanLinear(w, c, a, d)
    raw = gradcam(model, X, "conv", normalize=False, device="cpu")
    A = torch.einsum("c,ncl->nl", w, X) + c  # (N, L)
    expect = A[:, None, :] * (a * w / L)[None, :, None]
    torch.testing.assert_close(raw, expect, atol=1e-6, rtol=1e-6)
    maps = gradcam(model, X, model.conv, device="cpu")
    torch.testing.assert_close(maps, expect / expect.flatten(1).max(1).values[:, None, None], atol=1e-6, rtol=1e-6)
    assert torch.allclose(maps.flatten(1).max(1).values, torch.ones(3))


def test_gradcam_upsamples_a_shorter_layer_linearly(X):
    """A valid conv of kernel 3 gives L - 2 outputs; the channel mean is upsampled to L by
    linear interpolation (half-pixel centres, clamped at the ends)."""
    w, c, a = torch.tensor([0.3, -1.0, 2.0, 0.7]), 0.1, 1.5
    model = ConvMeanLinear(w, c, a, 0.0, kernel=3)
    raw = gradcam(model, X, "conv", normalize=False, device="cpu")
    A = torch.einsum("c,ncl->nl", w, X)
    A = (A[:, :-2] + A[:, 1:-1] + A[:, 2:] + c).numpy()  # (N, L - 2)
    src = np.clip((np.arange(L) + 0.5) * (L - 2) / L - 0.5, 0, L - 3)
    up = np.stack([np.interp(src, np.arange(L - 2), row) for row in A])  # (N, L)
    # gradient: x[b, l] enters the outputs l-2..l that exist; each with weight a w_b / (L - 2)
    count = np.array([min(l, L - 3) - max(l - 2, 0) + 1 for l in range(L)])
    grad = (a * w.numpy())[None, :, None] * count[None, None, :] / (L - 2)
    np.testing.assert_allclose(raw.numpy(), up[:, None, :] * grad, rtol=1e-5, atol=1e-6)


def test_normalize_by_max_and_layer_names():
    maps = torch.tensor([[[1.0, -4.0], [2.0, 0.5]], [[0.0, 0.0], [0.0, 0.0]]])
    out = normalize_by_max(maps)
    torch.testing.assert_close(out[0], maps[0] / 2.0)
    torch.testing.assert_close(out[1], maps[1])  # an all-zero map stays zero
    model = ConvMeanLinear(torch.ones(4), 0.0, 1.0, 0.0)
    assert conv_layers(model) == ["conv"]
    with pytest.raises(KeyError, match="convolution layers are"):
        gradcam(model, torch.zeros(1, 4, L), "nope", device="cpu")


def test_region_share_by_hand():
    from camformer.explain.gradcam import region_share

    cam = np.zeros((4, 110))
    cam[0, 20], cam[1, 5], cam[2, 100] = 3.0, -1.0, 1.0  # 3 of 5 inside 17..96
    assert region_share(cam) == pytest.approx(0.6)
    assert region_share(cam, slice(0, 10)) == pytest.approx(0.2)
    assert np.isnan(region_share(np.zeros((4, 110))))


def test_region_share_interval_by_hand():
    from camformer.explain.gradcam import region_share_interval

    inside = np.zeros((6, 4, 110))
    inside[:, 0, 20:30] = np.arange(1.0, 7.0)[:, None]  # all mass in the variable region
    assert region_share_interval(inside, n_boot=100) == {"share": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    mixed = inside.copy()
    mixed[:3, 1, 0:10] = -1.0  # half the sequences also mark a flank (negative: absolute mass counts)
    # mean region mass 10 * mean(1..6) = 35, mean flank mass 10 * 0.5 = 5
    out = region_share_interval(mixed, n_boot=300)
    assert out["share"] == pytest.approx(35 / 40)
    assert out["ci_low"] < 35 / 40 < out["ci_high"] <= 1.0
    # cancelling signs do not hide mass: +1 and -1 in a flank of two sequences
    cancel = np.zeros((2, 4, 110))
    cancel[:, 0, 50] = 1.0
    cancel[0, 0, 5], cancel[1, 0, 5] = 1.0, -1.0
    assert region_share_interval(cancel, n_boot=50)["share"] == pytest.approx(0.5)
    assert np.isnan(region_share_interval(np.zeros((3, 4, 110)))["share"])


def test_region_verdict_goes_every_way():
    from camformer.explain.gradcam import VARIABLE_SHARE_OF_POSITIONS, region_verdict

    assert VARIABLE_SHARE_OF_POSITIONS == pytest.approx(80 / 110)
    assert "more of the map" in region_verdict({"share": 0.9, "ci_low": 0.85, "ci_high": 0.95}).words
    assert "flanks hold more" in region_verdict({"share": 0.5, "ci_low": 0.45, "ci_high": 0.55}).words
    assert not region_verdict({"share": 0.73, "ci_low": 0.6, "ci_high": 0.8}).decided
    # A narrow interval around the share is still only "no evidence", never "about its share".
    about = region_verdict({"share": 0.73, "ci_low": 0.72, "ci_high": 0.74}, "layer x")
    assert about.words == ("at layer x this sample shows no evidence that the variable region holds more or "
                           "less of the map than its share of positions")
    assert not about.decided
    assert region_verdict({"share": np.nan, "ci_low": np.nan, "ci_high": np.nan}).words.startswith("undefined")


def test_layer_maps_fold_gradcam_onto_the_bases():
    from camformer.explain.attribution import fold_channels
    from camformer.models.encoding import encode
    from camformer.explain.gradcam import layer_maps

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(5, 3, 3, padding=1), nn.ReLU(), nn.Conv1d(3, 2, 3, padding=1), nn.Flatten(),
                          nn.Linear(2 * L, 1))
    X = encode(torch.randint(0, 4, (4, L), dtype=torch.uint8), "onehotWithP")
    maps = layer_maps(model, X, ["0", "2"], "onehotWithP")
    assert list(maps) == ["0", "2"]
    for layer, m in maps.items():
        assert m.shape == (4, 4, L)
        torch.testing.assert_close(m, fold_channels(gradcam(model, X, layer, normalize=False), X, "onehotWithP"))


def _chapter_model(seed: int, length: int = 110) -> nn.Module:
    """A small two-convolution model of the purine encoding (with its ``encoding`` attribute, as a
    saved model has)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv1d(5, 3, 5, padding=2), nn.ReLU(), nn.Conv1d(3, 2, 3, padding=1), nn.Flatten(),
                          nn.Linear(2 * length, 1)).eval()
    model.encoding = "onehotWithP"
    return model


def test_findings_are_the_chapter_steps_for_one_model():
    """findings() gives what chapter 11 computed step by step before the ensemble (the same maps,
    agreement table, verdicts and record keys), and the first and last layer only where asked."""
    from camformer.explain import attribution as attr
    from camformer.models.encoding import encode
    from camformer.explain.gradcam import findings, layer_maps, region_share_interval, region_verdict

    model = _chapter_model(0)
    codes = np.random.default_rng(1).integers(0, 4, (24, 110)).astype(np.int8)
    boot = {"groups": np.arange(24) // 2, "n_boot": 200, "seed": 3}
    got = findings(model, codes, boot)
    # the steps as the chapter wrote them
    X = encode(torch.as_tensor(codes), "onehotWithP")
    layers = conv_layers(model)
    raw = layer_maps(model, X, layers, "onehotWithP")
    maps = {"Grad-CAM": raw[layers[0]]} | attr.attribution_maps(model, X, "onehotWithP")
    profiles = {n: attr.present_base_profiles(m, X) for n, m in maps.items()}
    table = attr.agreement_table(profiles, "Grad-CAM", **boot)
    verdicts, best, closest = attr.agreement_verdicts(table)
    share = {layer: region_share_interval(raw[layer].numpy(), **boot) for layer in (layers[0], layers[-1])}
    expected = attr.agreement_keys(verdicts) | {
        "variable_share_first_layer": region_verdict(share[layers[0]], f"layer {layers[0]}"),
        "variable_share_last_layer": region_verdict(share[layers[-1]], f"layer {layers[-1]}")}
    assert got.layers == layers == ["0", "2"]
    assert got.verdicts == expected
    assert list(got.verdicts) == ["gradcam_ig_mean_r", "gradcam_deeplift_mean_r", "gradcam_saliency_mean_r",
                                  "variable_share_first_layer", "variable_share_last_layer"]
    assert (got.closest, got.best) == (closest, best)
    for layer in layers:
        torch.testing.assert_close(got.maps[layer], raw[layer])
    np.testing.assert_array_equal(got.profiles["Saliency"], profiles["Saliency"])
    assert got.agreement.equals(table)
    # the first and the last layer only: the same verdicts
    three = nn.Sequential(nn.Conv1d(5, 3, 5, padding=2), nn.ReLU(), nn.Conv1d(3, 3, 3, padding=1), nn.ReLU(),
                          nn.Conv1d(3, 2, 3, padding=1), nn.Flatten(), nn.Linear(220, 1)).eval()
    three.encoding = "onehotWithP"
    every, ends = findings(three, codes, boot), findings(three, codes, boot, every_layer=False)
    assert list(every.maps) == ["0", "2", "4"] and list(ends.maps) == ["0", "4"]
    assert every.verdicts == ends.verdicts and every.closest == ends.closest


def test_findings_of_identical_models_agree_k_of_k_and_the_summary_says_so():
    """The ensemble of one model three times: every verdict is that model's, in 3 of 3 models, its
    mean the model's value with a zero-width interval between models; the page's sentence and
    records say so. Two different models that disagree leave a verdict undecided."""
    from dataclasses import replace

    from camformer.stats import ensemble
    from camformer.explain.gradcam import FINDING_NAMES, findings, summary
    from camformer.stats.verdicts import Verdict

    codes = np.random.default_rng(2).integers(0, 4, (20, 110)).astype(np.int8)
    boot = {"groups": None, "n_boot": 200, "seed": 0}
    one = findings(_chapter_model(0), codes, boot)
    combined = ensemble.combine([one.verdicts] * 3, ["seed 1", "seed 2", "seed 3"])
    assert set(combined) == set(FINDING_NAMES)
    for key, across in combined.items():
        v = one.verdicts[key]
        assert across.verdict.words == v.words and across.verdict.decided == v.decided
        assert across.verdict.estimate == pytest.approx(v.estimate)
        assert across.verdict.ci_low == pytest.approx(v.estimate) == pytest.approx(across.verdict.ci_high)
    facts = ensemble.facts(combined)
    assert facts["gradcam_ig_mean_r_models"] == [one.verdicts["gradcam_ig_mean_r"].estimate] * 3
    text = summary(combined, [one] * 3, 20)
    assert "the mean over 3 models, each averaged over 20 held-out promoters" in text
    assert one.verdicts["variable_share_last_layer"].words in text
    # k = 1: the model's own verdict and its interval over promoters
    single = summary(ensemble.combine([one.verdicts], ["Camformer Original"]), [one], 20)
    assert single.startswith("Each number is over 20 held-out promoters (95% interval over them)")
    assert "models" not in single and single.endswith(f"**{one.best.words}**.")
    # a sign that changes between models: undecided, and so is the closest method
    up = dict(one.verdicts, gradcam_ig_mean_r=Verdict("Integrated Gradients agrees with Grad-CAM on average (r above 0)",
                                                        0.115, 0.078, 0.151, True))
    down = dict(one.verdicts, gradcam_ig_mean_r=Verdict("Integrated Gradients points the other way from Grad-CAM on "
                                                          "average (r below 0)", -0.135, -0.177, -0.101, True))
    mixed = ensemble.combine([up, down], ["seed 1", "seed 2"])
    assert not mixed["gradcam_ig_mean_r"].verdict.decided
    assert ensemble.consensus(["Saliency", "undecided"]) == ("undecided", 1)
    saliency, undecided = (replace(one, closest=label) for label in ("Saliency", "undecided"))
    text = summary(mixed, [saliency, undecided], 20)
    assert "which method is closest to Grad-CAM is undecided** (the models say: Saliency, undecided)" in text
    assert "**Saliency is closest to Grad-CAM** (in 2 of 2 models)" in summary(mixed, [saliency] * 2, 20)
    with pytest.raises(ValueError, match="3 models' findings for 2"):
        summary(mixed, [saliency] * 3, 20)
    assert "undecided: the models disagree" in text
