"""Known-answer tests for camformer.explain.hierarchy: the steps of the book's two motif chapters."""


import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.explain import hierarchy as H
from camformer.explain import motifs as M
from camformer.data.dream import ALPHABET, encode_sequences

torch.set_num_threads(1)


def pair_table(rows):
    """A pair table with pair_effects' columns from (motif1, motif2, n, mean)."""
    return pd.DataFrame(rows, columns=["motif1", "motif2", "n", "mean"])


def test_names():
    names = ["MA0001.1.ABF1", "MA0320.1.IME1", "MA0412.3.UME6"]
    assert H.motif_named(names, "IME1") == "MA0320.1.IME1"
    assert H.short_name("MA0412.3.UME6") == "UME6"
    with pytest.raises(ValueError, match="no motif for 'REB1'"):
        H.motif_named(names, "REB1")
    # "ME1" is not IME1: the whole TF name must match.
    with pytest.raises(ValueError):
        H.motif_named(names, "ME1")


def test_figure8_motifs_are_the_papers_19_in_its_order():
    motifs = H.figure8_motifs()
    paper = H.paper_pair_effects()
    assert list(motifs) == list(dict.fromkeys(paper["motif1"])) and len(motifs) == 19
    assert M.consensus(motifs[H.motif_named(motifs, "IME1")]) == "CCGCCGAG"
    assert {"motif1", "motif2", "n", "Mean_real", "Mean_pred"} <= set(paper.columns)


def test_diagonal_order_by_hand():
    mine = pair_table([("a", "a", 5, 1.0), ("b", "b", 6, 3.0), ("c", "c", 7, 2.0), ("a", "b", 2, 9.0),
                       (M.NONE_LABEL, M.NONE_LABEL, 50, 99.0)])
    reference = pair_table([("a", "a", 50, 10.0), ("b", "b", 60, 30.0), ("c", "c", 70, 40.0)])
    assert H.diagonal_order(mine, "mean") == ["b", "c", "a"]  # the pair and "(none)" are not motifs
    assert H.diagonal_order(reference, "mean", motifs=["a", "b"]) == ["b", "a"]


def test_row_differences_as_figure8bc_r():
    # R's `pred - diagonal` recycles the diagonal down each column: cell (i, j) minus cell (i, i).
    matrix = pd.DataFrame([[10.0, 8.0, np.nan], [8.0, 9.0, 12.0], [np.nan, 12.0, 11.0]],
                          index=list("abc"), columns=list("abc"))
    diff = H.row_differences(matrix)
    expected = [[0.0, -2.0, np.nan], [-1.0, 0.0, 3.0], [np.nan, 1.0, 0.0]]
    np.testing.assert_allclose(diff.to_numpy(), expected)
    assert list(diff.index) == list("abc")


def test_figure8bc_from_the_papers_table():
    paper = H.paper_pair_effects()
    means, differences = H.figure8bc(paper)
    # Figure 8b's first rows and columns, as the paper's PDF shows them: REB1, ABF1, PDR3.
    assert list(means.index[:3]) == ["REB1", "ABF1", "PDR3"] and list(means.columns) == list(means.index)
    assert means.shape == (19, 19) and not means.isna().any().any()
    reb1_abf1 = paper[(paper["motif1"] == "MA0363.3.REB1") & (paper["motif2"] == "MA0265.3.ABF1")]
    assert means.loc["REB1", "ABF1"] == float(reb1_abf1["Mean_pred"].iloc[0])
    assert differences.loc["IME1", "UME6"] == pytest.approx(means.loc["IME1", "UME6"] - means.loc["IME1", "IME1"])
    assert (np.diag(differences) == 0).all()
    # The diagonal is ordered highest first.
    assert (np.diff(np.diag(means)) <= 0).all()


def test_rank_agreement_by_hand():
    reference = np.array([1.0, 2.0, 3.0, 4.0])
    samples = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [1.0, np.nan, 2.0, 3.0]])
    out = H.rank_agreement([10.0, 20.0, 40.0, 30.0], samples, reference)
    # Ranks (1, 2, 4, 3) against (1, 2, 3, 4): 1 - 6 * 2 / (4 * 15) = 0.8; resamples give 1, -1, 1
    # (the NaN cell is left out of the third).
    assert out["rho"] == pytest.approx(0.8) and out["cells"] == 4
    assert out["ci_low"] == pytest.approx(np.quantile([1, -1, 1], 0.025))
    assert out["ci_high"] == pytest.approx(1.0)
    assert np.isnan(H.rank_agreement([1.0, 2.0], samples[:, :2], reference[:2])["rho"])
    # A cell without an estimate (too few families) is left out of the estimate and the resamples.
    partial = H.rank_agreement([10.0, 20.0, np.nan, 30.0], samples, reference)
    assert partial["rho"] == pytest.approx(1.0) and partial["cells"] == 3
    assert H.rank_verdict(out).words == "cannot be told to rank alike"  # the interval holds -1 and 1
    assert H.rank_verdict({"rho": 0.9, "ci_low": 0.5, "ci_high": 1.0}).words == "rank alike"
    assert H.rank_verdict({"rho": -0.9, "ci_low": -1.0, "ci_high": -0.5}).words == "rank in reverse"
    verdict = H.rank_verdict({"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan})
    assert not verdict.decided and "too few" in verdict.words
    assert verdict.facts("r") == {"r_verdict": verdict.words, "r_decided": False}
    assert H.rank_text({"rho": 0.84, "ci_low": 0.812, "ci_high": 0.868}) == \
        "rank alike: Spearman ρ = 0.84 (95% CI 0.81 to 0.87)"
    assert H.rank_text({"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan}) == verdict.words


def test_rank_agreement_is_spearmanr_resample_by_resample():
    from scipy.stats import spearmanr

    from camformer.stats.bootstrap import percentile_interval

    rng = np.random.default_rng(5)
    reference = rng.normal(size=8)
    samples = rng.normal(size=(300, 8)) + reference
    samples[:40, 2] = np.nan  # some resamples lose a cell
    samples[40:45, :6] = np.nan  # and some too many to rank
    samples[46, :3] = [2.0, 2.0, 1.0]  # ties
    drawn = [spearmanr(r[np.isfinite(r)], reference[np.isfinite(r)]).statistic for r in samples
             if np.isfinite(r).sum() >= 3]
    low, high = percentile_interval(np.asarray(drawn))
    out = H.rank_agreement(reference.copy(), samples, reference)
    assert out["rho"] == pytest.approx(1.0)
    assert out["ci_low"] == pytest.approx(low, abs=1e-12) and out["ci_high"] == pytest.approx(high, abs=1e-12)


def test_singles_and_pair_agreement_on_a_known_library():
    rng = np.random.default_rng(0)
    presence = pd.DataFrame(rng.random((600, 3)) < 0.4, columns=["a", "b", "c"])
    # Expression: 1 per a, 2 per b, 3 per c: singles rank a < b < c; the reference says the same.
    y = presence.to_numpy() @ np.array([1.0, 2.0, 3.0]) + rng.normal(scale=0.1, size=600)
    reference = pair_table([("a", "a", 1, 1.0), ("b", "b", 1, 2.0), ("c", "c", 1, 3.0), ("a", "b", 1, 3.0),
                            ("b", "a", 1, 3.0), ("a", "c", 1, 4.0), ("b", "c", 1, 5.0)])
    reference["Mean_real"] = reference["mean"]
    table, rho = H.singles_agreement(y, presence, reference, ["c", "b", "a"], n_boot=200)
    assert list(table.index) == ["c", "b", "a"] and table["n"].tolist() == presence[["c", "b", "a"]].sum().tolist()
    assert table.loc["a", "mean"] == pytest.approx(y[presence["a"].to_numpy()].mean())
    assert (table["ci_low"] < table["mean"]).all() and (table["mean"] < table["ci_high"]).all()
    assert rho["rho"] == pytest.approx(1.0) and rho["ci_low"] == pytest.approx(1.0) and rho["cells"] == 3
    turned = H.singles_agreement(-y, presence, reference, ["a", "b", "c"], n_boot=200)[1]
    assert turned["rho"] == pytest.approx(-1.0) and turned["ci_high"] == pytest.approx(-1.0)
    # Pairs: a, b, c, ab, ac, bc means are 1.x, 2.x, ... in the reference's order; (b, c) has no
    # sequences with min_n = 10**6, so no cell is kept.
    pairs = H.pair_rank_agreement(y, presence, reference, ["a", "b", "c"], min_n=10, reference_value="mean",
                                  n_boot=100)
    assert pairs["cells"] == 6 and pairs["rho"] > 0.9
    assert np.isnan(H.pair_rank_agreement(y, presence, reference, ["a", "b", "c"], min_n=10**6,
                                          reference_value="mean", n_boot=100)["rho"])


# The groups of test_interaction's example, ten times: neither 1, A only 3, B only 0, both -1.
Y = np.tile([0.0, 2.0, 2.0, 3.0, 4.0, -1.0, 1.0, -2.0, -1.0, 0.0], 10)
HAS_A = np.tile(np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1], bool), 10)
HAS_B = np.tile(np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], bool), 10)


def test_hierarchy_verdict_and_facts():
    from camformer.stats.interaction import group_contrasts

    groups, table = group_contrasts(Y, HAS_A, HAS_B, n_boot=300, seed=1)
    assert H.hierarchy_verdict(table) == "holds"
    assert H.hierarchy_verdict(group_contrasts(-Y, HAS_A, HAS_B, n_boot=300)[1]) == "does not hold"
    noise = np.random.default_rng(0).normal(size=len(Y))
    assert H.hierarchy_verdict(group_contrasts(noise, HAS_A, HAS_B, n_boot=300)[1]) == "cannot be told"
    facts = H.hierarchy_facts(groups, table, prefix="r_")
    assert facts["r_ime1_effect"] == pytest.approx(2.0) and facts["r_ime1_ume6_interaction"] == pytest.approx(-3.0)
    assert (facts["r_n_ime1"], facts["r_n_ume6"], facts["r_n_ime1_ume6"], facts["r_n_neither"]) == (30, 20, 30, 20)
    assert facts["r_n_ime1_ume6_units"] == 30 and facts["r_hierarchy_verdict"] == "holds"
    assert facts["r_ime1_ume6_interaction_verdict"] == "below the sum of their effects alone"


def test_motif_free_backgrounds():
    presence = pd.DataFrame({"a": [0, 1, 0, 0, 0, 0], "b": [0, 0, 1, 0, 0, 0]}, dtype=bool)
    eligible = np.array([1, 1, 1, 1, 0, 1], bool)
    assert H.motif_free_backgrounds(presence, eligible, 10).tolist() == [0, 3, 5]
    chosen = H.motif_free_backgrounds(presence, eligible, 2, seed=3)
    assert len(chosen) == 2 and set(chosen) <= {0, 3, 5} and list(chosen) == sorted(chosen)
    # Row numbers and a mask choose alike.
    assert (H.motif_free_backgrounds(presence, np.array([5, 3, 0, 1]), 2, seed=3) == chosen).all()


def test_random_backgrounds_are_motif_free_random_promoters_among_the_rows():
    from camformer.data.dream import load_test_table, subset_membership

    table = load_test_table()
    is_random = subset_membership(table)["random"].to_numpy()
    rows = np.arange(3000)
    candidates = rows[is_random[rows]]
    presence = pd.DataFrame({"m": np.zeros(len(table), bool)})
    presence.loc[candidates[:3], "m"] = True  # three of them hold a motif
    codes = H.random_backgrounds(table, presence, rows, 10**6)
    expected = encode_sequences(table["seq"].iloc[candidates[3:]].tolist())
    assert len(candidates) > 10 and np.array_equal(codes, expected)
    assert len(H.random_backgrounds(table, presence, rows, 5, seed=1)) == 5


class PositionWeights(nn.Module):
    """A linear model: the sum of one weight per (letter, position) of the one-hot input."""

    def __init__(self, length, seed=0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, length, generator=torch.Generator().manual_seed(seed)))

    def forward(self, x):
        return (x[:, :4] * self.weight).sum(dim=(1, 2))


class MotifPresence(nn.Module):
    """Additive in motif presence, with an optional planted interaction: ``bias + a * [A] + b * [B]
    + ab * [A][B]``, where ``[A]`` is whether A's consensus occurs anywhere (either strand ignored)."""

    def __init__(self, site_a, site_b, a=0.25, b=-0.75, ab=0.0, bias=0.5):
        super().__init__()
        self.filters = [torch.as_tensor(encode_sequences([s], len(s))).long() for s in (site_a, site_b)]
        self.a, self.b, self.ab, self.bias = a, b, ab, bias

    def has(self, x, codes):
        w = codes.shape[1]
        windows = x[:, :4].argmax(dim=1).unfold(1, w, 1)  # (N, L - w + 1, w)
        return (windows == codes).all(dim=2).any(dim=1).float()

    def forward(self, x):
        has_a, has_b = (self.has(x, codes) for codes in self.filters)
        return self.bias + self.a * has_a + self.b * has_b + self.ab * has_a * has_b


def real_motifs():
    motifs = H.figure8_motifs()
    a, b = H.motif_named(motifs, "IME1"), H.motif_named(motifs, "UME6")
    # Measured: IME1 starts 5 into UME6 on +/+ (the book's data show this most often).
    hits = pd.DataFrame({"seq_index": [0, 0], "motif": [a, b], "start": [15, 10], "end": [23, 22],
                         "strand": ["+", "+"]})
    return motifs, a, b, hits


def backgrounds(n, seed=0):
    texts = ["".join(np.random.default_rng(seed + i).choice(list("ACGT"), 110)) for i in range(n)]
    return encode_sequences(texts)


def test_insertion_design_keeps_a_in_place_and_moves_b():
    design = H.insertion_design("M1.A", "M2.B", 5, position=30, apart=60)
    assert design == {"A alone": {"M1.A": 35}, "B alone": {"M2.B": 30}, "A inside B": {"M1.A": 35, "M2.B": 30},
                      "A's shared letters": {"M1.A[shared]": 35},
                      "B apart": {"M2.B": 60}, "A and B apart": {"M1.A": 35, "M2.B": 60}}


INSIDE = "interaction, IME1 inside UME6"


@pytest.mark.parametrize("ab, inside, conclusion", [
    (0.0, "no evidence that completing IME1 adds differently inside UME6 (the interval holds zero)",
     "shows no evidence"),
    (-1.0, "completing IME1 adds less inside UME6 than without UME6's own letters",
     "The model has learnt an interaction: completing IME1 adds less inside UME6"),
    (0.5, "completing IME1 adds more inside UME6 than without UME6's own letters",
     "The model has learnt an interaction: completing IME1 adds more inside UME6"),
])
def test_nested_insertion_additive_and_planted_interactions(ab, inside, conclusion):
    motifs, a, b, hits = real_motifs()
    model = MotifPresence("CCGCCGAG", "ATTAGCCGCCGA", ab=ab)
    result = H.nested_insertion(model, backgrounds(60), motifs, a, b, hits, encoding="onehot")
    assert 5 <= len(result.predictions) == result.kept.sum() < 60
    table = result.contrasts(("IME1", "UME6"), n_boot=300)
    # On the kept backgrounds the model sees exactly the motifs written: known changes.
    assert table.loc["IME1 alone", "difference"] == pytest.approx(0.25)
    assert table.loc["UME6 alone", "difference"] == pytest.approx(-0.75)
    # The fair contrast: zero, within its interval, without a planted interaction; the planted one with.
    row = table.loc[INSIDE]
    assert row["difference"] == pytest.approx(ab)
    assert row["ci_low"] <= ab <= row["ci_high"]
    assert row["words"] == inside and row["decided"] == (ab != 0.0)
    # Presence does not depend on position: apart, the interaction is the same.
    assert table.loc["interaction, IME1 and UME6 apart", "difference"] == pytest.approx(ab)
    assert conclusion in H.insertion_conclusion(table)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_nested_contrast_is_zero_for_any_additive_model(seed):
    """A model whose output is a sum of per-position effects: the fair contrast is 0 on every
    background (the old one, (inside − UME6 alone) − (IME1 alone − background), was minus the
    effect of the seven shared letters), and so is its interval; undecided."""
    motifs, a, b, hits = real_motifs()
    model = PositionWeights(110, seed=seed)
    codes = backgrounds(120, seed=100 + seed)
    result = H.nested_insertion(model, codes, motifs, a, b, hits, encoding="onehot")
    p = result.predictions
    per_background = (p["IME1 inside UME6"] - p["UME6 alone"]) - (p["IME1 alone"] - p["IME1's shared letters"])
    assert np.abs(per_background).max() < 1e-4
    table = result.contrasts(("IME1", "UME6"), n_boot=200)
    row = table.loc[INSIDE]
    assert abs(row["difference"]) < 1e-4 and row["ci_low"] <= 0 <= row["ci_high"] + 1e-9
    assert abs(row["ci_low"]) < 1e-4 and abs(row["ci_high"]) < 1e-4 and not row["decided"]
    # The unfair contrast would have called this additive model an interaction.
    w = model.weight.detach().numpy().astype(np.float64)
    kept = codes[result.kept]
    shared = np.mean([sum(w[ALPHABET.index(c), 35 + i] - w[s[35 + i], 35 + i] for i, c in enumerate("CCGCCGA"))
                      for s in kept])
    unfair = (p["IME1 inside UME6"] - p["UME6 alone"] - p["IME1 alone"] + p["background"]).mean()
    assert unfair == pytest.approx(-shared, abs=1e-4) and abs(shared) > 0.1


def test_the_nested_contrast_finds_an_interaction_built_into_positions():
    """An additive model plus one built-in interaction of UME6's own letters (ATTAG at 30..34)
    with IME1's own letter (G at 42): the fair contrast is exactly that interaction."""
    motifs, a, b, hits = real_motifs()

    class Planted(nn.Module):
        def __init__(self):
            super().__init__()
            self.additive = PositionWeights(110, seed=3)

        def forward(self, x):
            letters = x[:, :4].argmax(dim=1)
            own_b = (letters[:, 30:35] == torch.tensor([ALPHABET.index(c) for c in "ATTAG"])).all(dim=1)
            own_a = letters[:, 42] == ALPHABET.index("G")
            return self.additive(x) - 0.8 * (own_a & own_b).float()

    result = H.nested_insertion(Planted(), backgrounds(120, seed=300), motifs, a, b, hits, encoding="onehot")
    table = result.contrasts(("IME1", "UME6"), n_boot=200)
    row = table.loc[INSIDE]
    assert row["difference"] == pytest.approx(-0.8, abs=1e-4) and row["decided"]
    assert row["ci_high"] < 0
    # Apart, UME6's own letters sit elsewhere: no interaction there.
    assert table.loc["interaction, IME1 and UME6 apart", "difference"] == pytest.approx(0.0, abs=1e-4)


def test_nested_insertion_on_a_linear_model_by_hand():
    motifs, a, b, hits = real_motifs()
    model = PositionWeights(110)
    result = H.nested_insertion(model, backgrounds(40, seed=100), motifs, a, b, hits, encoding="onehot")
    w = model.weight.detach().numpy().astype(np.float64)
    kept = backgrounds(40, seed=100)[result.kept]

    def change(sites):
        out = []
        for codes in kept:
            edited = codes.copy()
            for site, at in sites:
                edited[at:at + len(site)] = [ALPHABET.index(c) for c in site]
            out.append(sum(w[edited[i], i] - w[codes[i], i] for i in range(110)))
        return np.mean(out)

    table = result.contrasts(("IME1", "UME6"), n_boot=100)
    assert table.loc["IME1 alone", "difference"] == pytest.approx(change([("CCGCCGAG", 35)]), abs=1e-4)
    assert table.loc["UME6 alone", "difference"] == pytest.approx(change([("ATTAGCCGCCGA", 30)]), abs=1e-4)
    # Both contexts gain the same one letter, G at 42.
    own = change([("G", 42)])
    assert table.loc["IME1's own letters after UME6", "difference"] == pytest.approx(own, abs=1e-4)
    assert table.loc["IME1's own letters after its shared letters", "difference"] == pytest.approx(own, abs=1e-4)
    # Apart, the sites share no letter: a per-letter additive model has no interaction at all.
    assert table.loc["interaction, IME1 and UME6 apart", "difference"] == pytest.approx(0.0, abs=1e-4)
    assert table.loc[INSIDE, "difference"] == pytest.approx(0.0, abs=1e-4)


def test_nested_insertion_refuses_a_nesting_without_a_fair_contrast():
    motifs, a, b, hits = real_motifs()
    codes = backgrounds(5)
    wrong = dict(motifs)
    wrong[a] = motifs[a][::-1, :]  # complementary letters: the consensus no longer matches UME6's end
    with pytest.raises(ValueError, match="disagree where they overlap"):
        H.nested_insertion(PositionWeights(110), codes, wrong, a, b, hits, encoding="onehot")
    inside = hits.assign(start=[12, 10], end=[20, 22])  # IME1 wholly inside UME6: no letter of its own
    with pytest.raises(ValueError, match="end past it"):
        H.nested_insertion(PositionWeights(110), codes, motifs, a, b, inside, encoding="onehot")


def test_nested_insertion_keeps_only_backgrounds_where_alone_means_alone():
    motifs, a, b, hits = real_motifs()
    codes = backgrounds(30, seed=200)
    codes[:, 42] = ALPHABET.index("G")  # UME6 at 30..41 then G: "UME6 alone" is IME1 inside UME6
    result = H.nested_insertion(PositionWeights(110), codes, motifs, a, b, hits, encoding="onehot")
    assert not result.kept.any() and result.contains.loc["UME6 alone", "IME1"] == 1.0
    # No background left: nothing is made up.
    assert len(result.predictions) == 0
    table = result.contrasts(("IME1", "UME6"), n_boot=50)
    assert (table.loc[table["tested"], "words"] == "cannot be computed (too few sequences)").all()
    assert table["ci_low"].isna().all()
    assert result.contains.loc["IME1 inside UME6"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="no overlapping forward-strand hits"):
        H.nested_insertion(PositionWeights(110), codes, motifs, a, b, hits.assign(strand="-"), encoding="onehot")
    with pytest.raises(ValueError, match="overlap"):
        H.nested_insertion(PositionWeights(110), codes, motifs, a, b, hits, apart=33, encoding="onehot")
    with pytest.raises(ValueError, match="outside the scanned region"):
        H.nested_insertion(PositionWeights(110), codes, motifs, a, b, hits, apart=90, encoding="onehot")


def test_insertion_conclusion_follows_the_verdicts():
    contrast = [c for c in H.insertion_contrasts() if c.name == INSIDE][0]

    def table(words, decided):
        return pd.DataFrame([{"words": words, "decided": decided}], index=[INSIDE])

    assert H.insertion_conclusion(table(contrast.below, True)) == \
        f"The model has learnt an interaction: {contrast.below}."
    assert H.insertion_conclusion(table(contrast.above, True)) == \
        f"The model has learnt an interaction: {contrast.above}."
    undecided = H.insertion_conclusion(table(contrast.undecided, False))
    assert "no evidence" in undecided and "not evidence that they add up" in undecided
    assert H.insertion_conclusion(table("cannot be computed (too few sequences)", False)) == \
        "The interaction cannot be computed (too few sequences)."


def test_scan_library_scans_the_random_region_only():
    ime1 = {"MA0320.1.IME1": H.figure8_motifs()["MA0320.1.IME1"]}
    background = "".join(np.random.default_rng(0).choice(list("AT"), 110))  # no C or G: no IME1 site
    planted = background[:2] + "CCGCCGAG" + background[10:40] + "CCGCCGAG" + background[48:]
    scan = H.scan_library([background, planted], ime1)
    # The site at 2 lies in the 5' plasmid flank (0..16) and is not scanned; the one at 40 is
    # found at 40 - 17 = 23 of the random region, on the forward strand.
    assert scan.hits[["seq_index", "start", "end", "strand"]].to_dict("records") == [
        {"seq_index": 1, "start": 23, "end": 31, "strand": "+"}]
    assert scan.has("MA0320.1.IME1").tolist() == [False, True]
    assert scan.presence.shape == (2, 1) and scan.seconds >= 0


# ---------------------------------------------------------------------------- one model, k models

def questions(n_boot=300):
    """MotifQuestions on the groups of Y (A = IME1, B = UME6) and 60 random backgrounds."""
    motifs, a, b, hits = real_motifs()
    presence = pd.DataFrame({a: HAS_A, b: HAS_B})
    paper = pair_table([(a, a, 1, 3.0), (b, b, 1, 0.0), (a, b, 1, -1.0)]).assign(Mean_pred=lambda t: t["mean"])
    edits = H.insertion_edits(backgrounds(60), motifs, a, b, hits)
    return H.MotifQuestions(Y, presence, np.arange(len(Y)), a, b, paper, [a, b], edits, min_n=10, n_boot=n_boot,
                            seed=1)


def motif_model(ab):
    model = MotifPresence("CCGCCGAG", "ATTAGCCGCCGA", ab=ab)
    model.encoding = "onehot"
    return model


SHOWN = {"predicted_ume6_effect", "predicted_ime1_ume6_effect", "predicted_ime1_ume6_vs_ime1", "insertion_ume6",
         "insertion_ime1_inside_ume6", "insertion_ime1_completed_inside_ume6", "insertion_ime1_completed_alone"}


def test_model_findings_of_one_model_by_hand():
    q = questions()
    found = H.model_findings(motif_model(-1.0), 2 * Y + 1, q)
    v = found.verdicts
    # Held-out groups: neither 1, A only 3, B only 0, both -1; predicted 2y + 1 doubles every contrast.
    assert v["predicted_ime1_effect"].estimate == pytest.approx(4.0) and v["predicted_ime1_effect"].words == "raises"
    assert v["predicted_ime1_ume6_interaction"].estimate == pytest.approx(-6.0)
    assert v["predicted_ime1_ume6_interaction"].decided
    assert found.shown == SHOWN and v["predicted_ime1_ume6_effect"].words == ""
    # The insertion: the planted interaction (-1) and IME1's effect (0.25), as nested_insertion finds them.
    assert v["insertion_ime1_ume6_interaction"].estimate == pytest.approx(-1.0)
    assert v["insertion_ime1"].estimate == pytest.approx(0.25)
    motifs, a, b, hits = real_motifs()
    alone = H.nested_insertion(motif_model(-1.0), backgrounds(60), motifs, a, b, hits, encoding="onehot")
    pd.testing.assert_frame_equal(found.effects, alone.contrasts(("IME1", "UME6"), n_boot=300, seed=1))
    assert (found.insertion.kept == q.edits.kept).all()
    # Pair means (IME1 3 -> 7, UME6 0 -> 1, both -1 -> -1) rank as the reference's 3, 0, -1.
    assert found.ranks["rho"] == pytest.approx(1.0) and found.ranks["cells"] == 3
    assert set(v) == {f"predicted_{k}" for k in ("ime1_effect", "ume6_effect", "ime1_ume6_effect",
                                                 "ime1_ume6_vs_ime1", "ime1_ume6_interaction")} | {
        c.key for c in H.insertion_contrasts()} | {H.RANK_KEY}
    with pytest.raises(ValueError, match="predictions for"):
        H.model_findings(motif_model(0.0), Y[:-1], q)


def test_one_model_records_as_before_and_identical_models_agree_k_of_k():
    from camformer.stats import ensemble
    from camformer.stats.interaction import contrast_facts

    q = questions()
    found = H.model_findings(motif_model(-1.0), 2 * Y + 1, q)
    measured = q.contrasts(Y)
    one = ensemble.combine([found.verdicts], ["the model"])
    records = H.model_records(measured, one, found.shown)
    # One model: the records the chapter made before the ensemble, key for key.
    kept = found.contrasts[found.contrasts["key"].isin(H.MODEL_KEYS)]
    before = (contrast_facts(measured[measured["key"].isin(H.MODEL_KEYS)], "measured_heldout_")
              | contrast_facts(kept, "predicted_") | contrast_facts(found.effects)
              | H.rank_verdict(found.ranks).facts(H.RANK_KEY)
              | {"ime1_effect_agreement": "agree", "ime1_ume6_interaction_agreement": "agree"})
    assert records == before
    # Three identical models: the same verdicts, in 3 of 3, with a zero-width interval between them.
    three = ensemble.combine([found.verdicts] * 3, ["seed 1", "seed 2", "seed 3"])
    records = H.model_records(measured, three, found.shown)
    assert records["predicted_ime1_effect_verdict"] == "raises" and records["predicted_ime1_effect_decided"]
    assert records["predicted_ime1_effect_agreeing_models"] == "3 of 3"
    assert records["predicted_ime1_effect_models"] == pytest.approx([4.0] * 3)
    assert records["predicted_ime1_effect_ci_low"] == pytest.approx(4.0) == records["predicted_ime1_effect_ci_high"]
    assert records["insertion_ime1_ume6_interaction_verdict"] == found.verdicts["insertion_ime1_ume6_interaction"].words
    assert records["ime1_effect_agreement"] == "agree"
    # Shown contrasts: numbers, no verdict; held-out contrasts other than MODEL_KEYS are not recorded.
    assert "predicted_ime1_ume6_effect_models" in records and "insertion_ume6_models" in records
    assert not any(k.startswith(("predicted_ime1_ume6_effect_", "insertion_ume6_")) and
                   k.endswith(("_verdict", "_decided", "_agreeing_models")) for k in records)
    assert not any(k.startswith(("predicted_ume6_effect", "measured_heldout_ume6")) for k in records)
    # A model's undefined statistic: null in the list of the models' values, never a NaN.
    undefined = dict(three, rho_with_figure8_predicted=ensemble.combine(
        [{"r": H.rank_verdict({"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan})}] * 3)["r"])
    records = H.model_records(measured, undefined, found.shown)
    assert records[f"{H.RANK_KEY}_models"] == [None] * 3 and f"{H.RANK_KEY}_verdict" in records


def test_models_that_differ_leave_the_verdict_undecided():
    from camformer.stats import ensemble
    from camformer.stats.verdicts import Verdict

    q = questions()
    labels = ["seed 1", "seed 2"]
    found = [H.model_findings(motif_model(-1.0), 2 * Y + 1, q), H.model_findings(motif_model(0.0), -Y, q)]
    combined = ensemble.combine([f.verdicts for f in found], labels)
    measured = q.contrasts(Y)
    ime1 = combined["predicted_ime1_effect"]  # raises in one model, lowers in the other
    # the contrast's own undecided words, as when one model alone were undecided: two ensembles
    # undecided in different ways say the same
    assert not ime1.verdict.decided and ime1.verdict.words == "does not clearly change"
    assert H.agreement(measured, combined) == {"ime1_effect": "cannot tell", "ime1_ume6_interaction": "cannot tell"}
    inside = combined["insertion_ime1_ume6_interaction"]  # planted in one model only
    assert H.insertion_conclusion(inside).startswith("The models do not agree on the interaction (1 of 2 models")
    view = H.heldout_view(measured, combined, found[0].shown)
    assert list(view.columns) == ["measured", *labels, "mean [95% CI over models]", "verdict", "models agreeing",
                                  "agreement"]
    assert list(view.index) == list(measured.index)
    assert view.loc["UME6 without IME1", "verdict"] == "not tested"
    assert view.loc["interaction", "agreement"] == "cannot tell"
    assert view.loc["IME1 without UME6", "seed 2"] == pytest.approx(-2.0)
    one = ensemble.combine([found[0].verdicts], ["seed 1"])
    single = H.insertion_view(found[0].effects, one, found[0].shown)
    assert list(single.columns) == ["estimate [95% CI]", "verdict"]
    assert list(single.index) == list(found[0].effects.index)
    assert single.loc["UME6 alone", "verdict"] == "not tested"
    assert single.loc["IME1 alone", "estimate [95% CI]"].startswith("+0.250 [")
    # An undefined estimate shows a dash, and its verdict says why.
    gone = dict(one, insertion_ime1=ensemble.combine(
        [{"x": Verdict("cannot be computed (too few sequences)", np.nan, np.nan, np.nan, False)}], ["seed 1"])["x"])
    view = H.insertion_view(found[0].effects, gone, found[0].shown)
    assert view.loc["IME1 alone"].tolist() == ["—", "cannot be computed (too few sequences)"]


def test_insertion_conclusion_of_k_models():
    from camformer.stats.ensemble import across_models
    from camformer.stats.verdicts import Verdict

    contrast = [c for c in H.insertion_contrasts() if c.name == INSIDE][0]
    down = [Verdict(contrast.below, x, x - 0.1, x + 0.05, True) for x in (-0.3, -0.2, -0.25)]
    assert H.insertion_conclusion(across_models(down)) == \
        f"All 3 models have learnt an interaction: {contrast.below}."
    zero = [Verdict(contrast.undecided, x, -0.1, 0.1, False) for x in (0.01, -0.02)]
    said = H.insertion_conclusion(across_models(zero))
    assert said.startswith("The interval of the interaction holds zero in all 2 models") and "these models" in said
    too_few = [Verdict("cannot be computed (too few sequences)", np.nan, np.nan, np.nan, False)] * 2
    assert H.insertion_conclusion(across_models(too_few)) == \
        "The interaction cannot be computed (too few sequences) in all 2 models."


def test_across_text():
    from camformer.stats.ensemble import across_models
    from camformer.stats.verdicts import Verdict

    one = across_models([Verdict("raises", 0.5, 0.25, 0.75, True)])
    assert H.across_text(one) == "+0.500 (95% CI +0.250 to +0.750): raises"
    three = across_models([Verdict("raises", x, x - 0.1, x + 0.1, True) for x in (1.0, 2.0, 3.0)])
    assert H.across_text(three, digits=2) == \
        "+2.00 on average (95% CI between the 3 models -0.48 to +4.48): raises (in 3 of 3 models)"
    shown = across_models([Verdict("", x, x - 0.1, x + 0.1, False) for x in (1.0, 2.0, 3.0)])
    assert H.across_text(shown, digits=2) == "+2.00 on average (95% CI between the 3 models -0.48 to +4.48)"
    assert H.across_text(across_models([Verdict("cannot be computed", np.nan, np.nan, np.nan, False)] * 2)) == \
        "cannot be computed"


def test_measured_hierarchy_sentence_from_chapter_13s_records():
    facts = {"ime1_effect_verdict": "raises", "ime1_ume6_effect_verdict": "lowers",
             "ime1_ume6_interaction_verdict": "below the sum of their effects alone", "hierarchy_verdict": "holds"}
    assert H.measured_hierarchy_sentence(facts) == (
        "In the measured test library (chapter 13_motifs), IME1 without UME6 raises expression against sequences "
        "with neither motif, IME1 with UME6 lowers it, and together the two are below the sum of their effects "
        "alone: the paper's hierarchy holds there.")
    said = H.measured_hierarchy_sentence(facts | {"hierarchy_verdict": "cannot be told"})
    assert said.endswith("the paper's hierarchy cannot be told there.")
    for missing in ({}, {k: v for k, v in facts.items() if k != "hierarchy_verdict"}):
        said = H.measured_hierarchy_sentence(missing)
        assert "has not recorded" in said and "raises" not in said and "lowers" not in said
