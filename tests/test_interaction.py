"""Known-answer tests for camformer.stats.interaction: group means under (family) resampling, contrasts,
Holm-corrected verdicts that follow the numbers both ways."""

import numpy as np
import pandas as pd
import pytest

from camformer.stats import interaction as I
from camformer.stats.bootstrap import resample_counts

# 2 with neither (mean 1), 3 with A only (mean 3), 2 with B only (mean 0), 3 with both (mean -1).
Y = np.array([0.0, 2.0, 2.0, 3.0, 4.0, -1.0, 1.0, -2.0, -1.0, 0.0])
HAS_A = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1], bool)
HAS_B = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], bool)


def test_group_masks_and_names():
    masks = I.group_masks(HAS_A, HAS_B, ("A", "B"))
    assert list(masks.columns) == ["A and B", "A only", "B only", "neither"]
    assert masks.sum().tolist() == [3, 3, 2, 2] and (masks.sum(axis=1) == 1).all()
    with pytest.raises(ValueError, match="1-D of one length"):
        I.group_masks(HAS_A, HAS_B[:-1])


def test_resampled_means_against_a_naive_loop():
    rng = np.random.default_rng(0)
    y = rng.normal(size=30)
    masks = rng.random((30, 3)) < 0.5
    families = np.repeat(np.arange(10), 3)
    estimate, samples = I.resampled_means(y, masks, groups=families, n_boot=50, seed=4, chunk=50)
    np.testing.assert_allclose(estimate, [y[m].mean() for m in masks.T])
    counts = resample_counts(np.random.default_rng(4), 30, 50, groups=families, n_groups=10)
    for b in range(50):
        rows = np.repeat(np.arange(30), counts[b].astype(int))  # the resample, row by row
        for j in range(3):
            chosen = rows[masks[rows, j]]
            expected = y[chosen].mean() if len(chosen) else np.nan
            np.testing.assert_allclose(samples[b, j], expected, equal_nan=True)
    # Chunks draw the same stream: any chunk size gives the same samples.
    np.testing.assert_allclose(I.resampled_means(y, masks, groups=families, n_boot=50, seed=4, chunk=7)[1],
                               samples, equal_nan=True)


def test_family_resampling_of_duplicates_is_resampling_the_originals():
    # Each family is one sequence copied 4 times: drawing families is drawing the originals.
    y = np.random.default_rng(1).normal(size=25)
    copies = np.repeat(y, 4)
    _, by_family = I.resampled_means(copies, groups=np.repeat(np.arange(25), 4), n_boot=300, seed=2)
    _, by_copy = I.resampled_means(copies, n_boot=300, seed=2)
    _, originals = I.resampled_means(y, n_boot=300, seed=2)
    np.testing.assert_allclose(by_family, originals)
    # Resampling copies as if independent gives an interval about half as wide (sqrt(4)): too narrow.
    ratio = np.ptp(np.percentile(by_copy, [2.5, 97.5])) / np.ptp(np.percentile(by_family, [2.5, 97.5]))
    assert 0.35 < ratio < 0.7


def test_group_contrasts_known_means():
    # Ten copies of the ten sequences, so that no group is empty in a resample.
    y, has_a, has_b = np.tile(Y, 10), np.tile(HAS_A, 10), np.tile(HAS_B, 10)
    groups, table = I.group_contrasts(y, has_a, has_b, names=("A", "B"), n_boot=200, seed=1)
    assert groups["mean"].tolist() == pytest.approx([-1.0, 3.0, 0.0, 1.0])
    assert groups["n"].tolist() == [30, 30, 20, 20] and groups["units"].tolist() == [30, 30, 20, 20]
    assert list(table.index) == ["A without B", "B without A", "A and B", "A and B vs A without B", "interaction"]
    assert table["difference"].tolist() == pytest.approx([2.0, -1.0, -2.0, -4.0, -1 - 3 - 0 + 1])
    assert table["key"].tolist() == ["a_effect", "b_effect", "a_b_effect", "a_b_vs_a", "a_b_interaction"]
    assert (table["ci_low"] <= table["difference"]).all() and (table["difference"] <= table["ci_high"]).all()
    assert (table["p_holm"] >= table["p_value"]).all()
    # Families: the ten copies of a sequence are one family; they count once among the families.
    groups, _ = I.group_contrasts(y, has_a, has_b, names=("A", "B"), families=np.tile(np.arange(10), 10), n_boot=200)
    assert groups["units"].tolist() == [3, 3, 2, 2] and groups.loc["A only", "n"] == 30
    # With 10 sequences, a group of 2 is empty in about 11% of resamples: no interval is made up.
    _, few = I.group_contrasts(Y, HAS_A, HAS_B, names=("A", "B"), n_boot=200)
    assert few["ci_low"].isna().all() and (few["words"] == I.TOO_FEW).all()


def simulated(effect_a, effect_b, interaction, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n) < 0.3, rng.random(n) < 0.3
    y = effect_a * a + effect_b * b + interaction * (a & b) + rng.normal(scale=0.5, size=n)
    return y, a, b


@pytest.mark.parametrize("interaction, words", [
    (0.0, "not shown to differ from the sum of their effects"),
    (-0.6, "below the sum of their effects alone"),
    (0.6, "above the sum of their effects alone"),
])
def test_interaction_words_follow_the_numbers(interaction, words):
    y, a, b = simulated(0.5, -0.3, interaction)
    _, table = I.group_contrasts(y, a, b, n_boot=500, seed=3)
    assert table.loc["interaction", "words"] == words
    assert table.loc["interaction", "decided"] == (interaction != 0)
    assert table.loc["IME1 without UME6", "words"] == "raises"
    assert table.loc["UME6 without IME1", "words"] == "lowers"
    # The same data with the sign of every effect turned: the other words come out.
    _, turned = I.group_contrasts(-y, a, b, n_boot=500, seed=3)
    assert turned.loc["IME1 without UME6", "words"] == "lowers"
    assert turned.loc["UME6 without IME1", "words"] == "raises"


def test_holm_leaves_a_lone_small_p_value_undecided():
    # Five contrasts on 1,000 resamples; "x" has 1.5% of its resamples below 0: its 95% interval
    # excludes 0 (raw p 0.03) but among five tests Holm's p is 0.15, so the verdict is undecided.
    rng = np.random.default_rng(0)
    columns = ["x", "y1", "y2", "y3", "y4"]
    draws = np.column_stack([np.r_[-np.ones(15), np.ones(985)]] + [rng.normal(size=1000) for _ in range(4)])
    contrasts = [I.Contrast(c, c, {c: 1.0}) for c in columns]
    table = I.contrast_table(pd.Series(draws.mean(axis=0), index=columns), pd.DataFrame(draws, columns=columns),
                             contrasts)
    assert table.loc["x", "ci_low"] > 0 and table.loc["x", "p_value"] < 0.05
    assert table.loc["x", "p_holm"] >= 0.05 and table.loc["x", "words"] == "does not clearly change"
    assert not table.loc["x", "decided"]
    # Alone, the same contrast is decided.
    alone = I.contrast_table(pd.Series(draws[:, :1].mean(axis=0), index=["x"]), pd.DataFrame(draws[:, :1],
                             columns=["x"]), contrasts[:1])
    assert alone.loc["x", "words"] == "raises" and alone.loc["x", "decided"]


def test_untested_contrasts_have_intervals_but_no_verdict():
    y, a, b = simulated(0.5, -0.3, -0.6)
    _, every = I.group_contrasts(y, a, b, n_boot=300, seed=3)
    _, two = I.group_contrasts(y, a, b, n_boot=300, seed=3, tested=["IME1 without UME6", "interaction"])
    assert two["tested"].tolist() == [True, False, False, False, True]
    assert two.loc["UME6 without IME1", "words"] == I.NOT_TESTED and not two.loc["UME6 without IME1", "decided"]
    assert two["ci_low"].tolist() == every["ci_low"].tolist()  # the same intervals
    # Holm over two tests, not five: the corrected p-values are no larger.
    assert two.loc["interaction", "p_holm"] <= every.loc["interaction", "p_holm"]
    assert np.isnan(two.loc["UME6 without IME1", "p_holm"])
    facts = I.contrast_facts(two)
    assert "ume6_effect" in facts and "ume6_effect_verdict" not in facts and "ume6_effect_decided" not in facts
    assert I.directions_agree(two.loc["UME6 without IME1"], every.loc["UME6 without IME1"]) == "not tested"
    with pytest.raises(ValueError, match="no contrasts named"):
        I.hierarchy_contrasts(tested=["IME1 alone"])


def test_an_empty_group_cannot_be_computed():
    has_a = np.tile(np.array([1, 1, 0, 0, 0, 0], bool), 20)
    has_b = np.tile(np.array([0, 0, 1, 1, 0, 0], bool), 20)  # nobody has both
    y = np.tile(np.arange(6.0), 20)
    groups, table = I.group_contrasts(y, has_a, has_b, n_boot=100)
    assert groups.loc["IME1 and UME6", "n"] == 0
    assert table.loc["interaction", "words"] == I.TOO_FEW and np.isnan(table.loc["interaction", "ci_low"])
    assert table.loc["IME1 without UME6", "difference"] == pytest.approx(0.5 - 4.5)
    facts = I.contrast_facts(table)
    assert facts["ime1_ume6_interaction_verdict"] == I.TOO_FEW and "ime1_ume6_interaction" not in facts
    assert facts["ime1_effect"] == pytest.approx(-4.0) and "ime1_effect_ci_low" in facts


def test_contrast_view():
    _, table = I.group_contrasts(*simulated(0.5, -0.3, -0.6), n_boot=300)
    view = I.contrast_view(table, digits=2)
    assert list(view.columns) == ["difference", "95% low", "95% high", "p (Holm)", "verdict"]
    assert view.loc["interaction", "difference"] == round(table.loc["interaction", "difference"], 2)
    assert view.loc["interaction", "verdict"] == table.loc["interaction", "words"]


def test_contrast_text():
    row = {"difference": -0.1821, "ci_low": -0.2286, "ci_high": -0.1374, "words": "lowers"}
    assert I.contrast_text(row) == "-0.182 (95% CI -0.229 to -0.137): lowers"
    assert I.contrast_text(row, words=False) == "-0.182 (95% CI -0.229 to -0.137)"
    assert I.contrast_text({**row, "words": I.NOT_TESTED}) == "-0.182 (95% CI -0.229 to -0.137)"
    undefined = {"difference": np.nan, "ci_low": np.nan, "ci_high": np.nan, "words": I.TOO_FEW}
    assert I.contrast_text(undefined) == I.contrast_text(undefined, words=False) == I.TOO_FEW


def test_contrast_facts_and_agreement():
    _, table = I.group_contrasts(*simulated(0.5, -0.3, -0.6), n_boot=300)
    facts = I.contrast_facts(table, prefix="x_")
    row = table.loc["interaction"]
    assert facts["x_ime1_ume6_interaction"] == row["difference"]
    assert facts["x_ime1_ume6_interaction_ci_low"] == row["ci_low"]
    assert facts["x_ime1_ume6_interaction_verdict"] == "below the sum of their effects alone"
    assert facts["x_ime1_ume6_interaction_decided"] is True
    decided_up = {"words": "raises", "decided": True}
    assert I.directions_agree(decided_up, {"words": "raises", "decided": True}) == "agree"
    assert I.directions_agree(decided_up, {"words": "lowers", "decided": True}) == "disagree"
    assert I.directions_agree(decided_up, {"words": "does not clearly change", "decided": False}) == "cannot tell"


def test_too_few_units_give_no_interval():
    # Column 0 lies on 4 families (40 rows), column 1 on all 10: only column 1 is defined.
    families = np.repeat(np.arange(10), 10)
    weights = np.column_stack([families < 4, np.ones(100, bool)])
    estimate, samples = I.resampled_means(np.arange(100.0), weights, groups=families, n_boot=20)
    assert np.isnan(estimate[0]) and np.isnan(samples[:, 0]).all()
    assert estimate[1] == pytest.approx(49.5) and np.isfinite(samples[:, 1]).all()
    # Counted as rows, the same 40 rows are enough; with min_units 41 they are not.
    assert np.isfinite(I.resampled_means(np.arange(100.0), weights, n_boot=20)[0]).all()
    assert np.isnan(I.resampled_means(np.arange(100.0), weights, n_boot=20, min_units=41)[0][0])


def test_resampled_means_of_nothing_are_undefined():
    estimate, samples = I.resampled_means(np.zeros((0, 2)), n_boot=10)
    assert np.isnan(estimate).all() and samples.shape == (10, 2) and np.isnan(samples).all()


def test_resampled_means_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        I.resampled_means(np.zeros(5), np.ones((4, 2)))
    with pytest.raises(ValueError, match="one label"):
        I.resampled_means(np.zeros(5), groups=np.zeros(4))
