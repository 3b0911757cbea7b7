"""camformer.stats.bootstrap: family (cluster) resampling, paired differences, and the table of intervals,
checked against naive loops that draw the same resamples."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from camformer.stats import bootstrap
from camformer.data.dream import load_published_predictions


def _noisy(n=400, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    return y, y + rng.normal(scale=0.7, size=n)


def test_resample_counts_by_group_copy_whole_groups():
    groups = np.array([0, 0, 0, 1, 2, 2])
    counts = bootstrap.resample_counts(np.random.default_rng(5), 6, 50, groups=groups, n_groups=3)
    assert counts.shape == (50, 6)
    # every item of a group has its group's count, and each resample draws 3 groups
    assert (counts[:, 0] == counts[:, 1]).all() and (counts[:, 1] == counts[:, 2]).all()
    assert (counts[:, 4] == counts[:, 5]).all()
    np.testing.assert_array_equal(counts[:, [0, 3, 4]].sum(axis=1), 3)
    # the same draws, by hand
    draws = np.random.default_rng(5).integers(0, 3, size=(50, 3))
    for b in range(50):
        np.testing.assert_array_equal(counts[b, [0, 3, 4]], np.bincount(draws[b], minlength=3))


def test_grouped_samples_match_a_naive_loop_over_families():
    y, yhat = _noisy()
    labels = np.repeat([f"family{i}" for i in range(80)], 5)  # 80 families of 5 sequences
    fast = bootstrap.bootstrap_samples(y, yhat, "pearson_r", n_boot=30, seed=2, groups=labels, chunk=16)
    _, codes = np.unique(labels, return_inverse=True)  # sorted labels, as bootstrap codes them
    rng = np.random.default_rng(2)
    naive = []
    for start in range(0, 30, 16):
        for drawn in rng.integers(0, 80, size=(min(16, 30 - start), 80)):
            idx = np.concatenate([np.flatnonzero(codes == g) for g in drawn])
            naive.append(stats.pearsonr(y[idx], yhat[idx])[0])
    np.testing.assert_allclose(fast, naive, rtol=1e-10)
    rho = bootstrap.bootstrap_samples(y, yhat, "spearman_rho", n_boot=30, seed=2, groups=labels, chunk=16)
    rng = np.random.default_rng(2)
    naive = [stats.spearmanr(y[i], yhat[i])[0] for start in range(0, 30, 16)
             for i in (np.concatenate([np.flatnonzero(codes == g) for g in drawn])
                       for drawn in rng.integers(0, 80, size=(min(16, 30 - start), 80)))]
    np.testing.assert_allclose(rho, naive, rtol=1e-10)


def test_families_widen_the_interval_when_families_share_their_errors():
    rng = np.random.default_rng(0)
    family = np.repeat(np.arange(100), 20)
    y = rng.normal(size=2000)
    yhat = y + rng.normal(size=100)[family] + 0.2 * rng.normal(size=2000)  # error shared within a family
    low_i, high_i = bootstrap.bootstrap_ci(y, yhat, "pearson_r", n_boot=300, seed=1)
    low_f, high_f = bootstrap.bootstrap_ci(y, yhat, "pearson_r", n_boot=300, seed=1, groups=family)
    assert high_f - low_f > 2 * (high_i - low_i)


def test_two_models_share_their_resamples():
    y, yhat = _noisy()
    both = bootstrap.bootstrap_samples(y, np.vstack([yhat, 2 * yhat + 1]), "pearson_r2", n_boot=40, seed=3)
    assert both.shape == (2, 40)
    np.testing.assert_allclose(both[0], both[1], rtol=1e-12)  # r is invariant to a linear map
    np.testing.assert_array_equal(both[0], bootstrap.bootstrap_samples(y, yhat, "pearson_r2", n_boot=40, seed=3))


def test_paired_difference_is_zero_for_equivalent_models_and_signed_otherwise():
    y, yhat = _noisy()
    same = bootstrap.paired_difference(y, yhat, 3 * yhat, "spearman_rho", n_boot=50)
    assert same["difference"] == 0 and same["ci_low"] == same["ci_high"] == 0
    worse = yhat + np.random.default_rng(9).normal(size=len(y))
    better = bootstrap.paired_difference(y, yhat, worse, "pearson_r2", n_boot=200, seed=1)
    assert better["a"] == pytest.approx(stats.pearsonr(y, yhat)[0] ** 2)
    assert better["difference"] == pytest.approx(better["a"] - better["b"])
    assert 0 < better["ci_low"] < better["difference"] < better["ci_high"]
    flipped = bootstrap.paired_difference(y, worse, yhat, "pearson_r2", n_boot=200, seed=1)
    assert (flipped["ci_low"], flipped["ci_high"]) == pytest.approx((-better["ci_high"], -better["ci_low"]))


def test_paired_interval_is_narrower_than_separate_intervals_when_errors_are_shared():
    rng = np.random.default_rng(4)
    y = rng.normal(size=3000)
    common = rng.normal(size=3000)
    a, b = y + common + 0.1 * rng.normal(size=3000), y + common + 0.3 * rng.normal(size=3000)
    paired = bootstrap.paired_difference(y, a, b, "pearson_r", n_boot=300)
    la, ha = bootstrap.bootstrap_ci(y, a, "pearson_r", n_boot=300)
    assert paired["ci_high"] - paired["ci_low"] < 0.5 * (ha - la)


def test_bootstrap_table_against_a_naive_percentile():
    y, yhat = _noisy(n=300)
    table = bootstrap.bootstrap_table({"A": (y, yhat)}, {"A": {"pearson_r2": 0.5, "spearman_rho": 0.4}},
                                      n_boot=64, seed=3)
    assert list(table.index) == [("A", "r²"), ("A", "ρ")]
    assert table.loc[("A", "r²"), "estimate"] == 0.5 and table.loc[("A", "ρ"), "estimate"] == 0.4
    idx = np.random.default_rng(3).integers(0, 300, size=(64, 300))
    naive = [stats.spearmanr(y[i], yhat[i])[0] for i in idx]
    low, high = np.percentile(naive, [2.5, 97.5])
    assert (table.loc[("A", "ρ"), "95% low"], table.loc[("A", "ρ"), "95% high"]) == pytest.approx((low, high))
    # without estimates, they are computed; r is labelled "r"
    own = bootstrap.bootstrap_table({"A": (y, yhat)}, n_boot=64, seed=3, metrics=("pearson_r", "spearman_rho"))
    assert list(own.index) == [("A", "r"), ("A", "ρ")] and (own["n"] == 300).all()
    assert own.loc[("A", "r"), "estimate"] == pytest.approx(stats.pearsonr(y, yhat)[0])
    assert own.loc[("A", "ρ"), "95% low"] == pytest.approx(low)


def test_bad_groups_are_refused():
    y, yhat = _noisy(n=10)
    with pytest.raises(ValueError, match="one label per item"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.zeros(9))
    with pytest.raises(ValueError, match="missing label"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.array([1.0] * 9 + [np.nan]))
    with pytest.raises(ValueError, match="sample_size"):
        bootstrap.bootstrap_samples(y, yhat, groups=np.zeros(10), sample_size=5)


# ----------------------------------------------------------------------------- the DREAM test set

def _tiny_test_set():
    """Seven sequences in three families: {0, 1, 2} and {3, 4, 5} by SNV pairs, {6} alone."""
    table = pd.DataFrame({"id": np.arange(7), "expression": [0.0, 1.0, 2.0, 3.0, 4.0, 5.5, 6.0],
                          "subsets": ["SNVs"] * 6 + ["random"], "public": 0})
    pairs = pd.DataFrame({"subset": "SNVs", "ref_id": [0, 0, 3, 3], "alt_id": [1, 2, 4, 5], "public": 0})
    return table, pairs


def test_dream_families_join_a_pairs_sequences():
    table, pairs = _tiny_test_set()
    fam = bootstrap.dream_families(table, pairs)
    assert list(fam.index) == list(range(7))
    assert fam[0] == fam[1] == fam[2] and fam[3] == fam[4] == fam[5]
    assert len({fam[0], fam[3], fam[6]}) == 3


def test_model_intervals_pair_subset_resamples_the_refs_families():
    table, pairs = _tiny_test_set()
    preds = {"A": pd.Series([0.0, 1.1, 1.9, 3.0, 4.2, 5.0, 6.0]),
             "B": pd.Series([0.0, 0.5, 2.5, 3.0, 3.0, 5.0, 6.0])}
    fam = bootstrap.dream_families(table, pairs)
    out = bootstrap.model_intervals(preds, "SNVs", table, pairs, families=fam, metrics=("pearson_r",),
                                    n_boot=200, seed=3)
    # four pairs: two with ref 0, two with ref 3, so two families are resampled
    assert out.attrs == {"n": 4, "groups": 2, "n_boot": 200}
    y = np.array([1.0, 2.0, 1.0, 2.5])  # alt - ref, measured
    ya, yb = np.array([1.1, 1.9, 1.2, 2.0]), np.array([0.5, 2.5, 0.0, 2.0])
    assert out.loc[("A", "r"), "estimate"] == pytest.approx(stats.pearsonr(y, ya)[0])
    assert out.loc[("A − B", "r"), "estimate"] == pytest.approx(stats.pearsonr(y, ya)[0] - stats.pearsonr(y, yb)[0])
    # the same resamples drawn by hand: whole families, a pair going with its ref's family
    samples = bootstrap.bootstrap_samples(y, np.vstack([ya, yb]), "pearson_r", n_boot=200, seed=3,
                                          groups=np.array([fam[0], fam[0], fam[3], fam[3]]))
    low, high = bootstrap.percentile_interval(samples[0] - samples[1])
    assert np.isfinite([low, high]).all() and low < high
    assert (out.loc[("A − B", "r"), "low"], out.loc[("A − B", "r"), "high"]) == pytest.approx((low, high))
    # resampling single pairs instead: four units, not two (a resample of one pair repeated has no r)
    with np.errstate(invalid="ignore"):
        single = bootstrap.model_intervals(preds, "SNVs", table, pairs, metrics=("pearson_r",), n_boot=20)
    assert single.attrs["groups"] == 4


def test_model_intervals_refuse_models_on_different_items():
    table, pairs = _tiny_test_set()
    preds = {"A": pd.Series(np.arange(7.0)), "B": pd.Series(np.arange(6.0))}
    with pytest.raises(ValueError, match="same items"):
        bootstrap.model_intervals(preds, "all", table, pairs, n_boot=10)


def test_families_widen_the_interval_on_the_published_predictions():
    """The review's numbers: resampling families widens Original's r² interval about threefold,
    and the paired Original − Mini difference in r² lies near [0.0098, 0.0179]."""
    published = load_published_predictions().set_index("id")
    preds = {"Original": published["original"], "Mini": published["mini"]}
    by_family = bootstrap.model_intervals(preds, families=bootstrap.dream_families(), metrics=("pearson_r2",),
                                          n_boot=400, seed=0)
    by_item = bootstrap.model_intervals(preds, metrics=("pearson_r2",), n_boot=400, seed=0)
    width = {name: t.loc[("Original", "r²"), "high"] - t.loc[("Original", "r²"), "low"]
             for name, t in (("family", by_family), ("item", by_item))}
    assert 0.0025 < width["item"] < 0.0045 and 0.0075 < width["family"] < 0.0125
    diff = by_family.loc[("Original − Mini", "r²")]
    assert diff["estimate"] == pytest.approx(0.01375, abs=1e-4)
    assert diff["low"] == pytest.approx(0.0098, abs=0.0015) and diff["high"] == pytest.approx(0.0179, abs=0.0015)
    assert by_family.attrs["groups"] < by_item.attrs["groups"] == by_item.attrs["n"] == 62058
    # Near copies join families into similarity units: wider still (the review: 0.0093 -> 0.0123).
    by_unit = bootstrap.model_intervals(preds, families=bootstrap.dream_units(), metrics=("pearson_r2",),
                                        n_boot=400, seed=0)
    assert by_unit.attrs["groups"] < by_family.attrs["groups"]
    assert by_unit.loc[("Original", "r²"), "width"] > 1.15 * width["family"]
    assert by_unit.loc[("Original − Mini", "r²"), "width"] > 1.15 * diff["width"]


@pytest.mark.parametrize("low, high, words", [(0.01, 0.02, "A scores higher than B"),
                                              (-0.02, -0.01, "B scores higher than A"),
                                              (-0.01, 0.02, "cannot tell A and B apart")])
def test_gap_verdict_follows_the_interval(low, high, words):
    verdict = bootstrap.gap_verdict(0.005, low, high, a="A", b="B")
    assert words in verdict.words
    assert verdict.decided == (words != "cannot tell A and B apart")


# ----------------------------------------------------------------------------- published resamples

def _resamples(shift_b: float, seed: int = 0, n: int = 2000) -> pd.DataFrame:
    """Three models scored on shared resamples: a common resample effect plus small own noise."""
    rng = np.random.default_rng(seed)
    common = rng.normal(scale=0.002, size=n)
    return pd.DataFrame({"A": 0.95 + common + rng.normal(scale=0.0005, size=n),
                         "B": 0.95 + shift_b + common + rng.normal(scale=0.0005, size=n),
                         "C": 0.90 + rng.normal(scale=0.002, size=n)})


def test_distribution_summary_by_hand():
    table = pd.DataFrame({"A": [1.0, 2.0, 3.0, 4.0, 5.0], "B": [1.0, 1.0, 1.0, np.nan, np.nan]})
    out = bootstrap.distribution_summary(table, ci=0.5)
    assert out.loc["A"].tolist() == [3.0, 2.0, 4.0, 5]
    assert out.loc["B", "resamples"] == 3 and out.loc["B", "median"] == 1.0


def test_paired_columns_see_through_a_shared_resample_effect():
    # B is 0.0015 above A on every resample; their ranges overlap, the paired difference does not
    table = _resamples(0.0015)
    verdict = bootstrap.paired_columns(table, "A", "B")
    assert verdict.words == "below B" and verdict.ci_high < 0
    assert bootstrap.paired_columns(table, "B", "A").words == "above A"
    assert bootstrap.paired_columns(_resamples(0.0), "A", "B").words == "not distinguishable from B within the resampling noise"


def test_standing_ranks_and_words_go_both_ways():
    first = bootstrap.standing(_resamples(-0.0015), "A", reference="C")  # A ahead of B
    assert (first["rank"], first["n_models"], first["rival"]) == (1, 3, "B")
    assert first["vs_rival"].words == "above B" and not first["overlaps_reference"]
    assert first["vs_reference"].words == "above C"
    assert "number 1 of 3" in first["text"] and "the runner-up" in first["text"] and "does not overlap C's" in first["text"]
    assert first["row_correlation"] > 0.8  # A and B share their resamples
    assert first["facts"]["rival"] == "B" and first["facts"]["minus_rival_verdict"] == "above B"
    assert first["facts"]["minus_reference_verdict"] == "above C" and first["facts"]["rank"] == 1
    second = bootstrap.standing(_resamples(0.0015), "A", reference="B")  # B ahead of A
    assert (second["rank"], second["rival"]) == (2, "B")
    assert second["vs_rival"].words == "below B" and second["overlaps_reference"]
    assert "the highest" in second["text"] and "overlaps B's." in second["text"]
    level = bootstrap.standing(_resamples(0.0), "A", reference="B")
    assert not level["vs_rival"].decided and "not distinguishable from B" in level["text"]


def test_which_correlation_tells_r_from_rho_and_says_when_it_cannot():
    rng = np.random.default_rng(0)
    y = rng.normal(size=3000)
    yhat = np.exp(y) + rng.normal(scale=0.3, size=3000)  # monotone but curved: ρ well above r
    r, rho = stats.pearsonr(y, yhat)[0], stats.spearmanr(y, yhat)[0]
    assert rho - r > 0.05
    assert bootstrap.which_correlation(r + rng.normal(scale=0.002, size=1000), y, yhat).words == "Pearson r"
    assert bootstrap.which_correlation(rho + rng.normal(scale=0.002, size=1000), y, yhat).words == "Spearman ρ"
    between = bootstrap.which_correlation((r + rho) / 2 + rng.normal(scale=0.01, size=1000), y, yhat)
    assert between.words == "Pearson r or Spearman ρ" and not between.decided


def test_compare_models_words_and_records_on_a_small_test_set():
    # 12 families of a reference and two variants each
    rng = np.random.default_rng(0)
    y = rng.normal(size=36)
    table = pd.DataFrame({"id": np.arange(36), "expression": y, "subsets": "SNVs", "public": 0})
    refs = np.repeat(np.arange(0, 36, 3), 2)
    pairs = pd.DataFrame({"subset": "SNVs", "ref_id": refs, "alt_id": refs + np.tile([1, 2], 12), "public": 0})
    preds = {"Good": pd.Series(y + rng.normal(scale=0.1, size=36)), "Bad": pd.Series(y + rng.normal(size=36))}
    units = pd.Series(np.arange(36) // 6, index=np.arange(36))  # near copies join two families each
    out = bootstrap.compare_models(preds, table, pairs, units=units, n_boot=200, seed=0)
    facts = out["facts"]
    assert facts["test_families"] == 12 and facts["test_units"] == 6
    by_unit = bootstrap.model_intervals(preds, "all", table, pairs, families=units, n_boot=200, seed=0)
    assert facts["good_r2_ci_width_by_unit"] == pytest.approx(by_unit.loc[("Good", "r²"), "width"])
    assert facts["good_minus_bad_r2"] == pytest.approx(stats.pearsonr(y, preds["Good"])[0] ** 2
                                                       - stats.pearsonr(y, preds["Bad"])[0] ** 2)
    assert facts["good_minus_bad_r2_verdict"] == str(out["verdicts"]["r²"])
    assert facts["good_minus_bad_r2_verdict"].startswith("Good scores higher than Bad")
    assert facts["good_r2_ci_low"] <= facts["good_r2_ci_high"]
    assert facts["good_r2_ci_width_by_family"] > 0 and facts["good_r2_ci_width_by_sequence"] > 0
    assert "The 36 private sequences form 12 variant families, which near copies join into 6 similarity units" \
        in out["text"]
    swapped = bootstrap.compare_models({"Bad": preds["Bad"], "Good": preds["Good"]}, table, pairs, units=units,
                                       n_boot=200)
    assert swapped["facts"]["bad_minus_good_r2_verdict"].startswith("Good scores higher than Bad")
    with pytest.raises(ValueError, match="exactly two"):
        bootstrap.compare_models({"Good": preds["Good"]}, table, pairs, units=units)


# ----------------------------------------------------------------------------- similarity units

def _near_copy_test_set():
    """Twelve backgrounds, each with two near copies (2 and 4 substitutions in the variable
    region, no pair listed) and one listed SNV: 48 sequences, 12 families of 2 and 24 singletons
    by the pairs alone, but 12 similarity units of 4."""
    rng = np.random.default_rng(5)
    seqs, ids, refs, alts = [], [], [], []
    for k in range(12):
        base = rng.choice(list("ACGT"), 110)
        copies = [base.copy() for _ in range(4)]
        for copy, n_subs in zip(copies[1:], (2, 4, 1)):
            for p in rng.choice(np.arange(20, 90), n_subs, replace=False):
                copy[p] = "ACGT"[("ACGT".index(copy[p]) + 1) % 4]
        seqs += ["".join(c) for c in copies]
        ids += [4 * k + j for j in range(4)]
        refs.append(4 * k)
        alts.append(4 * k + 3)
    y = rng.normal(size=48) + np.repeat(rng.normal(size=12), 4)
    table = pd.DataFrame({"id": ids, "seq": seqs, "expression": y, "subsets": "random", "public": 0})
    pairs = pd.DataFrame({"subset": "SNVs", "ref_id": refs, "alt_id": alts, "public": 0})
    return table, pairs


def test_dream_units_join_near_copies_that_no_pair_lists():
    table, pairs = _near_copy_test_set()
    units = bootstrap.dream_units(table, pairs)
    families = bootstrap.dream_families(table, pairs)
    assert families.nunique() == 36 and units.nunique() == 12
    assert (units.groupby(np.arange(48) // 4).nunique() == 1).all()


def test_unit_resampling_matches_a_naive_loop_over_units():
    table, pairs = _near_copy_test_set()
    units = bootstrap.dream_units(table, pairs)
    rng = np.random.default_rng(1)
    preds = {"A": pd.Series(table["expression"] + rng.normal(size=48)),
             "B": pd.Series(table["expression"] + 2 * rng.normal(size=48))}
    out = bootstrap.model_intervals(preds, "all", table, pairs, families=units, metrics=("pearson_r2",),
                                    private=False, n_boot=40, seed=7)
    assert out.attrs["groups"] == 12
    y = table["expression"].to_numpy()
    codes = pd.factorize(units.to_numpy(), sort=True)[0]
    draws = np.random.default_rng(7).integers(0, 12, size=(40, 12))  # one chunk of 40 resamples
    naive = {name: [] for name in preds}
    for drawn in draws:
        idx = np.concatenate([np.flatnonzero(codes == u) for u in drawn])
        for name, p in preds.items():
            naive[name].append(stats.pearsonr(y[idx], p.to_numpy()[idx])[0] ** 2)
    for name in preds:
        assert (out.loc[(name, "r²"), "low"], out.loc[(name, "r²"), "high"]) == \
            pytest.approx(bootstrap.percentile_interval(np.array(naive[name])), rel=1e-9)
    difference = np.array(naive["A"]) - np.array(naive["B"])
    assert (out.loc[("A − B", "r²"), "low"], out.loc[("A − B", "r²"), "high"]) == \
        pytest.approx(bootstrap.percentile_interval(difference), rel=1e-9)


def test_test_set_units_of_the_bundled_test_set():
    """Units are built over the whole test table: SNVs of one reference share a unit without
    it, near copies join families (fewer units than families), and an unknown id is an error."""
    from camformer.data.dream import load_test_pairs

    pairs = load_test_pairs()
    siblings = pairs.loc[pairs["ref_id"] == 67, "alt_id"].to_numpy()[:2]
    assert len(set(bootstrap.test_set_units(siblings))) == 1
    units, families = bootstrap.dream_units(), bootstrap.dream_families()
    assert (units.index == families.index).all() and units.nunique() < families.nunique()
    # every family lies inside one unit
    assert (units.groupby(families.to_numpy()).nunique() == 1).all()
    with pytest.raises(KeyError, match="not in the DREAM test table"):
        bootstrap.test_set_units(np.array([-5]))
