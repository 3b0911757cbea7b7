"""ISM: exact against a naive one-mutant-at-a-time loop, for any model and encoding."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.explain.attribution import attribute
from camformer.models.encoding import encode
from camformer.explain.embedding import penultimate_activations
from camformer.explain.gradcam import gradcam
from camformer.explain.ism import (
    VARIABLE_POSITIONS,
    conv_reach,
    ism,
    ism_receptive_field,
    mutant_table,
    position_effect,
    positions_per_group,
    pssm,
    receptive_field_stages,
)
from camformer.models.networks import camformer_mini, camformer_original, init_he

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
    got = ism_receptive_field(model, codes, stem=list(model.stem), head=model.head, positions=None, batch_size=7,
                              sequence_chunk=2, device="cpu")
    torch.testing.assert_close(got, expect, atol=1e-5, rtol=0)
    assert (expect[:, :, 0] != 0).any() and (expect[:, :, -1] != 0).any()  # the ends were mutated


def test_receptive_field_ism_detects_a_wrong_reach(codes):
    """A reach smaller than the stage's real one gives wrong effects; the built-in check
    against a full pass catches it."""
    model = TinyCamformer()
    with pytest.raises(ValueError, match="differs from the full pass"):
        ism_receptive_field(model, codes, stem=list(model.stem), head=model.head, reach=[(0, 0)] * 3,
                            positions=range(10, 20), device="cpu")


def test_receptive_field_groups_fill_batch_size_on_a_gpu_and_64_mutants_on_a_cpu():
    # g positions x 3 substitutions x sequences mutants per forward pass
    assert positions_per_group(1024, 64, "cuda") == 5  # 960 mutants, not a fixed 192
    assert positions_per_group(4096, 64, torch.device("cuda", 1)) == 21
    assert positions_per_group(1024, 4, "cuda") == 85
    assert positions_per_group(1024, 64, "cpu") == 1  # 192: never less than one position
    assert positions_per_group(1024, 4, "cpu") == 5  # 60 of the CPU's 64
    assert positions_per_group(24, 4, "cpu") == 2  # batch_size below 64 caps the CPU's group too
    assert positions_per_group(8, 4, "cuda") == 1


def test_conv_reach_counts_padding_a_stage_applies_itself():
    """Camformer's blocks pad with F.pad and run an unpadded convolution: Original's kernel
    10 looks 4 back and 5 ahead; Mini's first block (kernel 5, 5 zeros each side) 5 back and
    -1 ahead (its output is 6 longer than its input)."""
    original, mini = camformer_original(), camformer_mini()
    assert conv_reach(original.blocks[0]) == (4, 5)
    assert conv_reach(mini.blocks[0]) == (5, -1) and conv_reach(mini.blocks[1]) == (5, 0)
    assert conv_reach(nn.Sequential(nn.ConstantPad1d((2, 1), 0.0), nn.Conv1d(4, 4, 4))) == (2, 1)


@pytest.mark.parametrize("build, encoding", [(camformer_original, "onehot"), (camformer_mini, "onehotWithP")])
def test_receptive_field_ism_on_camformer_itself(build, encoding, codes):
    """The library splits Original and Mini into stages itself (Mini's stages lengthen the
    sequence), and agrees with the full ISM, ends of the sequence included."""
    torch.manual_seed(0)
    model = init_he(build()).eval()
    for m in model.modules():  # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    x = np.random.default_rng(2).integers(0, 4, size=(2, 110)).astype(np.uint8)
    x[1, 60] = 4
    positions = [0, 1, 17, 60, 108, 109]
    expect = ism(model, x, positions=positions, encoding=encoding, batch_size=64)
    got = ism_receptive_field(model, x, positions=positions, encoding=encoding, batch_size=64)
    scale = expect.abs().max().item()
    assert scale > 1e-3
    torch.testing.assert_close(got, expect, atol=1e-4 * max(1.0, scale), rtol=0)
    assert (got[:, :, 0] != 0).any() and (got[:, :, 109] != 0).any()


def test_receptive_field_stages_rebuild_the_model_and_refuse_other_shapes():
    torch.manual_seed(0)
    model = camformer_mini(4).eval()
    stem, head = receptive_field_stages(model)
    assert len(stem) == 4  # blocks 0-2, then block 3 up to its max-pool
    x = torch.rand(3, 4, 110)
    with torch.no_grad():
        y = x
        for stage in stem:
            y = stage(y)
        torch.testing.assert_close(head(y), model(x))
    with pytest.raises(ValueError, match="not shaped like Camformer"):
        receptive_field_stages(TinyCamformer())
    with pytest.raises(ValueError, match="give both stem= and head="):
        ism_receptive_field(TinyCamformer(), np.zeros((1, L), np.uint8), stem=[])


def test_ism_uses_the_encoding_saved_with_the_model(tmp_path, codes):
    """A onehotWithN model (4 channels, so its channel count cannot tell) saved and loaded
    explains codes in onehotWithN: an N reads as 0.25 in every base channel, not 0."""
    from camformer.models.networks import load_model, save_model

    torch.manual_seed(0)
    save_model(init_he(camformer_mini(4)), tmp_path, encoding="onehotWithN")
    model = load_model(tmp_path)
    x = np.tile(codes[2:3, :1], (1, 110))  # one base all along ...
    x[0, 40:43] = 4  # ... and three N, whose neighbours the mutants read
    got = ism(model, x, positions=range(36, 48))
    torch.testing.assert_close(got, ism(model, x, positions=range(36, 48), encoding="onehotWithN"), atol=0, rtol=0)
    assert (got - ism(model, x, positions=range(36, 48), encoding="onehot")).abs().max() > 1e-6
    rf = ism_receptive_field(model, x, positions=range(36, 48))
    torch.testing.assert_close(rf, got, atol=1e-5, rtol=0)


EXPLAINERS = {
    "ism": lambda m, c, **kw: ism(m, c, positions=[3, 30], **kw),
    "ism_receptive_field": lambda m, c, **kw: ism_receptive_field(m, c, stem=list(m.stem), head=m.head,
                                                                  positions=[3, 30], **kw),
    "gradcam": lambda m, c, **kw: gradcam(m, c, "stem.0.0", **kw),
    "attribute": lambda m, c, **kw: attribute(m, c, "saliency", **kw),
    "penultimate_activations": lambda m, c, **kw: torch.as_tensor(penultimate_activations(m, c, **kw)),
}


@pytest.mark.parametrize("name", EXPLAINERS)
def test_explainers_compute_where_the_model_is_and_leave_it_there(name, codes, monkeypatch):
    """device=None means the device of the model's parameters (not "CUDA if there is one"),
    and the caller's model keeps its device and its train/eval mode."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a CUDA default would now fail
    model = TinyCamformer().train()
    EXPLAINERS[name](model, codes)
    assert next(model.parameters()).device == torch.device("cpu") and model.training
    model.eval()
    EXPLAINERS[name](model, codes)
    assert not model.training


@pytest.mark.parametrize("name", EXPLAINERS)
def test_explainers_encode_codes_as_the_model_was_trained(name, codes):
    """Codes go in encoded with the encoding saved with the model (its ``encoding``
    attribute, set by ``load_model``), unless the caller names one."""
    model = TinyCamformer()
    model.encoding = "onehotWithN"  # 4 channels, like onehot: N (at [2, 7]) reads 0.25, not 0
    saved = EXPLAINERS[name](model, codes)
    torch.testing.assert_close(saved, EXPLAINERS[name](model, codes, encoding="onehotWithN"), atol=0, rtol=0)
    assert (saved - EXPLAINERS[name](model, codes, encoding="onehot")).abs().max() > 1e-6


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", EXPLAINERS)
def test_explainers_on_a_named_device_give_the_model_back(name, codes):
    model = TinyCamformer().train()
    on_cpu = EXPLAINERS[name](model, codes)
    on_gpu = EXPLAINERS[name](model, codes, device="cuda")
    assert next(model.parameters()).device == torch.device("cpu") and model.training
    assert on_gpu.device == torch.device("cpu")
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-4, rtol=1e-3)
    model.cuda()
    EXPLAINERS[name](model, codes)  # device=None: the model's GPU
    assert next(model.parameters()).is_cuda


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


def test_gc_change_effects_by_hand():
    from camformer.explain.ism import gc_change_effects, mutant_table

    codes = np.array([[0, 1, 4]], dtype=np.uint8)  # A C N
    delta = np.arange(12, dtype=np.float64).reshape(1, 4, 3)  # delta[base, position] = 3 * base + position
    table = gc_change_effects(mutant_table(delta, codes, positions=range(3)), positions=range(3))
    # A->C (3), A->G (6): gain; A->T (9): kept. C->A (1), C->T (10): loss; C->G (7): kept.
    # N->A (2), N->T (11): kept (no G/C before or after); N->C (5), N->G (8): gain.
    assert table.loc["A/T → G/C", "mean"] == pytest.approx((3 + 6 + 5 + 8) / 4)
    assert table.loc["GC kept", "mean"] == pytest.approx((9 + 7 + 2 + 11) / 4)
    assert table.loc["G/C → A/T", "mean"] == pytest.approx((1 + 10) / 2)
    assert table["size"].tolist() == [4, 4, 2]
    only_first = gc_change_effects(mutant_table(delta, codes, positions=range(3)), positions=[0])
    assert only_first["size"].tolist() == [2, 1, 0] and np.isnan(only_first.loc["G/C → A/T", "mean"])


def test_logo_examples_skip_sequences_no_substitution_changes():
    from camformer.explain.ism import logo_examples

    delta = np.zeros((4, 4, 5))
    delta[1, 2, 3], delta[2, 0, 0], delta[3, 1, 1] = 0.5, -0.2, 0.1
    reference = np.array([9.0, 2.0, 1.0, 3.0])  # row 0 is the highest but flat
    assert logo_examples(delta, reference) == ([3, 2], 3)
    # A constant model: every row is flat, so the extremes of all rows, and a count of 0.
    assert logo_examples(np.zeros((3, 4, 5)), [1.0, 5.0, -1.0]) == ([1, 2], 0)


def test_flank_ratio_by_hand():
    from camformer.explain.ism import flank_ratio, flank_verdict

    codes = np.zeros((2, 3), dtype=np.uint8)  # AAA twice: three substitutions per position
    delta = np.zeros((2, 4, 3))
    delta[:, 1:, 0] = [0.1, -0.2, 0.3]  # flank: mean |ΔE| 0.2 in both
    delta[0, 1:, 1:] = [[1.0, 0.0], [-2.0, 0.05], [0.0, -0.6]]  # variable: mean |ΔE| 3.65 / 6
    delta[1, 1:, 1:] = 0.4  # variable: 0.4
    effects = mutant_table(delta, codes, positions=range(3))
    table = flank_ratio(effects, positions=[1, 2], n_boot=200)
    variable = (3.65 / 6 + 0.4) / 2
    assert table.loc["variable region", "estimate"] == pytest.approx(variable)
    assert table.loc["flanks"].tolist() == pytest.approx([0.2, 0.2, 0.2])
    assert table.loc["ratio", "estimate"] == pytest.approx(variable / 0.2)
    assert table.loc["ratio", "ci_low"] == pytest.approx(2.0) and table.loc["ratio", "ci_high"] == pytest.approx(3.65 / 1.2)
    assert flank_verdict(table).words.startswith("substitutions in the variable region move the prediction more")
    delta[:, 1:, 0] = 1.0  # flanks now matter more
    assert flank_verdict(flank_ratio(mutant_table(delta, codes, positions=range(3)), positions=[1, 2])
                         ).words.startswith("substitutions in the constant flanks move")
    delta[:, 1:, 0] = 0.0  # nothing in the flanks: the ratio is undefined
    blank = flank_verdict(flank_ratio(mutant_table(delta, codes, positions=range(3)), positions=[1, 2]))
    assert blank.words.startswith("undefined") and not blank.decided
    with pytest.raises(ValueError, match="inside and outside"):
        flank_ratio(effects, positions=range(3))


def test_gc_change_intervals_resample_sequences_and_verdicts():
    from camformer.explain.ism import gc_change_effects, gc_change_verdicts

    codes = np.array([[0, 3], [0, 3], [0, 3]], dtype=np.uint8)  # AT: C, G gain; T/A kept
    delta = np.zeros((3, 4, 2))
    delta[:, 1:3, :] = np.array([0.1, 0.2, 0.3])[:, None, None]  # gains: a mean per sequence
    table = gc_change_effects(mutant_table(delta, codes, positions=range(2)), positions=range(2), n_boot=300)
    assert table.loc["A/T → G/C", "sequence_mean"] == pytest.approx(0.2)
    assert table.loc["A/T → G/C", "n_sequences"] == 3 and table.loc["A/T → G/C", "size"] == 12
    assert 0.1 <= table.loc["A/T → G/C", "ci_low"] < 0.2 < table.loc["A/T → G/C", "ci_high"] <= 0.3
    assert table.loc["G/C → A/T", "n_sequences"] == 0 and np.isnan(table.loc["G/C → A/T", "sequence_mean"])
    verdicts = gc_change_verdicts(table)
    assert verdicts["A/T → G/C"].words == "adding a G or C raises the prediction on average"
    assert verdicts["G/C → A/T"].words.startswith("undefined")
    lowered = gc_change_verdicts(gc_change_effects(mutant_table(-delta, codes, positions=range(2)),
                                                   positions=range(2)))
    assert lowered["A/T → G/C"].words == "adding a G or C lowers the prediction on average"
    mixed = delta.copy()
    mixed[0] *= -3  # one sequence the other way: the interval spans 0
    undecided = gc_change_verdicts(gc_change_effects(mutant_table(mixed, codes, positions=range(2)),
                                                     positions=range(2)))
    assert undecided["A/T → G/C"].words == "adding a G or C has no clear effect on the prediction on average"


class GCLinear(nn.Module):
    """A linear toy on one-hot input, ``sum_p w[b_p, p]``: each G or C adds ``scale`` in the
    variable region and ``scale / 10`` in the flanks; A and T add nothing."""

    encoding = "onehot"

    def __init__(self, scale=1.0):
        super().__init__()
        w = torch.zeros(4, 110)
        w[1:3] = scale / 10
        w[1:3, 17:97] = scale
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).sum((1, 2))


def test_findings_of_a_linear_toy_by_hand():
    """Every position has exactly 2 of 3 substitutions that change the G/C count, by ±w: the mean
    |ΔE| is 2/3 in the variable region and 0.2/3 in the flanks (ratio 10 for every promoter, so
    the interval is 10 to 10); every G/C gain adds exactly 1, every loss removes 1."""
    from camformer.explain.ism import findings

    codes = np.random.default_rng(3).integers(0, 4, size=(6, 110)).astype(np.uint8)
    got = findings(GCLinear(), codes, n_boot=50, receptive_field=False)  # not Camformer-shaped
    gc = np.isin(codes, [1, 2])
    np.testing.assert_allclose(got.reference, gc[:, 17:97].sum(1) + 0.1 * (gc.sum(1) - gc[:, 17:97].sum(1)),
                               rtol=1e-5)
    assert got.delta.shape == (6, 4, 110) and got.encoding == "onehot"
    # float32 forward passes: equal to about 1e-5
    assert got.flanks.loc["variable region"].tolist() == pytest.approx([2 / 3] * 3, rel=1e-4)
    assert got.flanks.loc["ratio"].tolist() == pytest.approx([10.0] * 3, rel=1e-4)
    ratio, gain, loss = (got.verdicts[k] for k in ("variable_to_flank_ratio", "gc_gain_mean_delta",
                                                   "gc_loss_mean_delta"))
    assert ratio.decided and ratio.words.startswith("substitutions in the variable region move the prediction more")
    assert (gain.estimate, gain.ci_low, gain.ci_high) == pytest.approx((1.0, 1.0, 1.0), rel=1e-4)
    assert gain.words == "adding a G or C raises the prediction on average"
    assert loss.estimate == pytest.approx(-1.0, rel=1e-4)
    assert loss.words == "removing a G or C lowers the prediction on average"
    assert got.by_class.loc["GC kept", "mean"] == pytest.approx(0.0, abs=1e-5)


def test_findings_across_models_agree_only_where_every_model_does():
    """Identical models: 3 of 3 and the same verdicts; a model whose G/C lowers the prediction keeps
    the flank ratio (|ΔE| does not see the sign) but leaves the ensemble undecided on G/C."""
    from camformer.stats.ensemble import combine
    from camformer.explain.ism import findings

    codes = np.random.default_rng(4).integers(0, 4, size=(5, 110)).astype(np.uint8)
    labels = ["seed 1", "seed 2", "seed 3"]
    same = combine([findings(GCLinear(), codes, n_boot=50, receptive_field=False).verdicts for _ in labels],
                   labels)
    assert all(a.verdict.decided and a.agreeing == 3 for a in same.values())
    assert same["gc_gain_mean_delta"].stated() == "adding a G or C raises the prediction on average (in 3 of 3 models)"
    mixed = combine([findings(GCLinear(scale), codes, n_boot=50, receptive_field=False).verdicts
                     for scale in (1.0, 2.0, -1.0)], labels)
    assert mixed["variable_to_flank_ratio"].verdict.decided and mixed["variable_to_flank_ratio"].agreeing == 3
    assert str(mixed["gc_gain_mean_delta"]) == "adding a G or C has no clear effect on the prediction on average"
    assert mixed["gc_gain_mean_delta"].verdict.estimate == pytest.approx((1 + 2 - 1) / 3, rel=1e-4)


def test_findings_give_the_chapters_numbers_either_way():
    """On a random Camformer Mini, findings equal the functions composed by hand (the chapter's
    steps before the ensemble), with the full or the receptive-field ISM."""
    from camformer.explain.ism import findings, flank_ratio, gc_change_effects

    torch.manual_seed(0)
    model = init_he(camformer_mini(4)).eval()
    codes = np.random.default_rng(5).integers(0, 4, size=(2, 110)).astype(np.uint8)
    got = findings(model, codes, n_boot=100, seed=1, receptive_field=False)
    np.testing.assert_array_equal(got.delta, ism(model, codes, positions=None, batch_size=512).numpy())
    effects = mutant_table(got.delta, codes, positions=range(110))
    assert got.flanks.equals(flank_ratio(effects, n_boot=100, seed=1))
    assert got.by_class.equals(gc_change_effects(effects, n_boot=100, seed=1))
    fast = findings(model, codes, n_boot=100, seed=1)  # the receptive-field ISM, by default
    np.testing.assert_allclose(fast.delta, got.delta, atol=1e-5)
    assert {k: v.words for k, v in fast.verdicts.items()} == {k: v.words for k, v in got.verdicts.items()}


def test_findings_resample_groups():
    """One group that holds every promoter: every resample is the sample, a zero-width interval;
    without groups, promoters of unequal effects give a wider one."""
    from camformer.explain.ism import findings

    model = GCLinear()
    model.w.data = torch.randn(4, 110, generator=torch.Generator().manual_seed(0))
    codes = np.random.default_rng(6).integers(0, 4, size=(8, 110)).astype(np.uint8)
    key = "variable_to_flank_ratio"
    one = findings(model, codes, groups=np.zeros(8, int), n_boot=100, receptive_field=False).verdicts[key]
    assert one.ci_low == pytest.approx(one.estimate) and one.ci_high == pytest.approx(one.estimate)
    each = findings(model, codes, n_boot=100, receptive_field=False).verdicts[key]
    assert each.estimate == pytest.approx(one.estimate) and each.ci_high - each.ci_low > 0.01
