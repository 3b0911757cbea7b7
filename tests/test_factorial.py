"""camformer.stats.factorial: variance shares, paired level tests and seed-paired effects, with verdicts
that follow the numbers whichever way they go."""

import itertools

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from camformer.stats import factorial


def test_additive_variance_shares_hand_computed():
    # balanced 2 x 3 design, y = a + b exactly: SS_A = 3 * (1 + 1) = 6, SS_B = 2 * (1 + 0 + 1) = 4
    grid = pd.DataFrame([(a, b) for a in ("x", "y") for b in ("p", "q", "r")], columns=["A", "B"])
    grid["y"] = grid["A"].map({"x": 0.0, "y": 2.0}) + grid["B"].map({"p": 0.0, "q": 1.0, "r": 2.0})
    shares = factorial.additive_variance_shares(grid, ["A", "B"], "y")
    np.testing.assert_allclose(shares[["A", "B", "residual"]], [0.6, 0.4, 0.0], atol=1e-12)


def test_additive_variance_shares_match_group_means_when_balanced():
    rng = np.random.default_rng(0)
    grid = pd.DataFrame([(a, b, c) for a in range(3) for b in range(2) for c in range(4) for _ in range(2)],
                        columns=["A", "B", "C"])
    grid["y"] = grid["A"] * 0.5 + grid["B"] + rng.normal(size=len(grid))
    shares = factorial.additive_variance_shares(grid, ["A", "B", "C"], "y")
    total = ((grid["y"] - grid["y"].mean()) ** 2).sum()
    for f in ("A", "B", "C"):  # balanced: share = between-group sum of squares / total
        means = grid.groupby(f)["y"].transform("mean")
        assert shares[f] == pytest.approx(((means - grid["y"].mean()) ** 2).sum() / total)
    assert shares.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-finite"):
        factorial.additive_variance_shares(grid.assign(y=np.nan), ["A"], "y")


def _two_factor_grid(effect_a: float, effect_b: float, noise: float, reps: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame(itertools.product("xy", "pqr", range(reps)), columns=["A", "B", "rep"])
    runs["y"] = (effect_a * (runs["A"] == "y") + effect_b * (runs["B"] == "q")
                 + noise * rng.normal(size=len(runs)))
    return runs


def test_bootstrap_shares_without_noise_are_the_point_shares():
    runs = _two_factor_grid(1.0, 0.5, 0.0)
    samples = factorial.bootstrap_shares(runs, ["A", "B"], "y", n_boot=20)
    point = factorial.additive_variance_shares(runs, ["A", "B"], "y")
    assert samples.shape == (20, 3)
    np.testing.assert_allclose(samples.to_numpy(), np.tile(point.to_numpy(), (20, 1)), atol=1e-12)


@pytest.mark.parametrize("effect_a, effect_b, words, decided", [
    (1.0, 0.1, "A matters most", True),
    (0.1, 1.0, "B matters most", True),  # the numbers go the other way: the other words
    (0.3, 0.3, "leads, but not clearly ahead of", False),  # A and B alike, in noise
])
def test_largest_factor_follows_the_numbers(effect_a, effect_b, words, decided):
    ranking = factorial.largest_factor(_two_factor_grid(effect_a, effect_b, 0.3), ["A", "B", "rep"], "y",
                                       n_boot=500)
    assert words in ranking.verdict.words and ranking.verdict.decided is decided
    assert ranking.top == ranking.shares.index[0] and ranking.shares.index[-1] == "residual"
    assert (ranking.shares["ci_low"] <= ranking.shares["corrected"]).all()
    assert (ranking.shares["corrected"] <= ranking.shares["ci_high"]).all()
    assert ranking.leader == (ranking.top if decided else "undecided")
    # One contrast for the estimate and the interval: the top share minus the runner-up's.
    shares = ranking.shares
    lead = shares.loc[ranking.top, "share"] - shares.loc[ranking.runner_up, "share"]
    lead_bias = shares.loc[ranking.top, "bias"] - shares.loc[ranking.runner_up, "bias"]
    assert ranking.verdict.estimate == pytest.approx(lead - lead_bias)
    assert ranking.verdict.ci_low <= ranking.verdict.estimate <= ranking.verdict.ci_high


def _heteroscedastic_grid(seed: int, null_b: bool = True):
    """Two optimisers whose runs' noise differs sixfold (sd 0.12 and 0.02), crossed with a
    four-level factor B (no effect when ``null_b``) and a five-level C: one run per cell, twice."""
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame(itertools.product(["Lion", "AdamW"], "pqrs", "vwxyz", range(2)),
                        columns=["opt", "B", "C", "rep"])
    sd = np.where(runs["opt"] == "Lion", 0.12, 0.02)
    runs["y"] = (0.1 * (runs["opt"] == "AdamW") + (0.0 if null_b else 0.05) * (runs["B"] == "q")
                 + 0.03 * runs["C"].map(dict(zip("vwxyz", range(5)))) + sd * rng.normal(size=len(runs)))
    return runs, sd


def test_wild_bootstrap_redraws_each_runs_noise_with_its_own_spread():
    runs, sd = _heteroscedastic_grid(0)
    factors = ["opt", "B", "C"]
    draws = factorial.wild_responses(runs, factors, "y", n_boot=400, seed=1)
    x = factorial._design(runs, factors)
    fitted = x @ np.linalg.lstsq(x, runs["y"].to_numpy(), rcond=None)[0]
    resid = runs["y"].to_numpy() - fitted
    leverage = np.diag(x @ np.linalg.pinv(x))
    # By hand: every draw is the fitted value plus or minus the leverage-scaled residual.
    np.testing.assert_allclose(np.abs(draws - fitted[:, None]), np.tile(np.abs(resid / np.sqrt(1 - leverage))[:, None],
                                                                         (1, 400)), rtol=1e-9)
    assert set(np.unique(np.sign(draws - fitted[:, None]))) <= {-1.0, 1.0}
    # The redrawn noise of each optimiser's runs has that optimiser's spread, as known from the
    # true noise (sd 0.12 and 0.02; a residual also carries a little of the other runs' noise,
    # through the fitted means: E e_i^2 = ((I - P) S (I - P))_ii, 0.12 and 0.033 here), averaged over
    # 30 grids; residuals pooled over runs would give both the same spread.
    keep = np.eye(len(runs)) - x @ np.linalg.pinv(x)
    expected = np.diag(keep @ np.diag(sd ** 2) @ keep) / (1 - leverage)
    lion = (runs["opt"] == "Lion").to_numpy()
    drawn = {True: [], False: []}
    for seed in range(30):
        grid, _ = _heteroscedastic_grid(seed)
        noise = factorial.wild_responses(grid, factors, "y", n_boot=50, seed=seed) - fitted_values(grid, x)[:, None]
        for rows in (True, False):
            drawn[rows].append((noise[lion == rows] ** 2).mean())
    for rows in (True, False):
        assert np.sqrt(np.mean(drawn[rows])) == pytest.approx(np.sqrt(expected[lion == rows].mean()), rel=0.1)
    assert np.mean(drawn[True]) > 8 * np.mean(drawn[False])  # pooled residuals: the same for both


def fitted_values(grid, x):
    y = grid["y"].to_numpy()
    return x @ np.linalg.lstsq(x, y, rcond=None)[0]


def test_share_bias_correction_on_a_factor_without_effect():
    """B has no effect, so its true share is 0; noise gives its estimate a positive share (the
    upward bias of a sum of squares), which the bootstrap's bias estimate removes on average."""
    raw, corrected = [], []
    for seed in range(40):
        runs, _ = _heteroscedastic_grid(seed)
        shares = factorial.largest_factor(runs, ["opt", "B", "C"], "y", n_boot=200, seed=seed).shares
        raw.append(shares.loc["B", "share"])
        corrected.append(shares.loc["B", "corrected"])
    raw, corrected = np.array(raw), np.array(corrected)
    spread = corrected.std(ddof=1) / np.sqrt(len(corrected))
    assert raw.mean() > 8 * spread  # biased upward: every raw share is positive
    assert abs(corrected.mean()) < 3 * spread  # unbiased within its standard error
    assert abs(corrected.mean()) < raw.mean() / 4


def test_wilcoxon_p_matches_r():
    # R 4.3: wilcox.test(c(1.1, 2.3, -0.4, 3.2, 0.7), paired-style one-sample) -> V = 14, p = 0.125 (exact)
    assert factorial.wilcoxon_signed_rank_p(np.array([1.1, 2.3, -0.4, 3.2, 0.7])) == pytest.approx(0.125)
    # all 60 differences positive and distinct: normal approximation with continuity correction
    d = np.arange(1, 61, dtype=float)
    n = 60
    z = (n * (n + 1) / 2 - n * (n + 1) / 4 - 0.5) / np.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    from scipy.stats import norm

    assert factorial.wilcoxon_signed_rank_p(d) == pytest.approx(2 * norm.sf(z))
    assert np.isnan(factorial.wilcoxon_signed_rank_p(np.zeros(4)))


def test_paired_level_tests_reproduce_the_papers_figure_s4():
    """The p-values the paper prints on Figure S4 (Performance_all_r.pdf), to one digit."""
    from camformer.training.grid import SCOREBOARD_FACTORS, load_scoreboards

    grid = load_scoreboards()
    tests = factorial.paired_level_tests(grid, list(SCOREBOARD_FACTORS.values()), "r")
    assert len(tests) == 10 + 3 + 1 + 3 + 3
    p = {(t.level_a, t.level_b): float(f"{t.p:.0e}") for t in tests.itertuples()}
    assert p[("Lion", "AdamW")] == 7e-24
    assert p[("Small", "Large")] == 6e-4 and p[("Small", "Mini")] == 2e-4 and p[("Large", "Mini")] == 0.7
    assert p[("MSE", "L1")] == 0.02 and p[("MSE", "Huber")] == 0.06 and p[("L1", "Huber")] == 7e-7
    assert p[("OneCycleLR", "None")] == 0.07 and p[("None", "ReduceLROnPlateau")] == 0.3
    row = tests[tests["factor"] == "optimiser"].iloc[0]
    assert (row.n_pairs, row.b_wins) == (135, 135)  # AdamW beats Lion in every matched pair
    assert (tests["p_holm"] >= tests["p"]).all() and tests["p_holm"].max() <= 1


def test_hodges_lehmann_by_hand():
    # Walsh averages of (1, 2, 9): 1, 1.5, 5, 2, 5.5, 9 -> median (2 + 5) / 2 = 3.5
    assert factorial.hodges_lehmann(np.array([1.0, 2.0, 9.0])) == 3.5
    assert np.isnan(factorial.hodges_lehmann(np.array([])))


def test_paired_level_tests_need_one_run_per_combination():
    runs = _two_factor_grid(1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="one run per combination"):
        factorial.paired_level_tests(runs, ["A", "B"], "y")


@pytest.mark.parametrize("shift, words, decided", [
    (0.1, "y above x", True),
    (-0.1, "x above y", True),
    (0.0, "no clear difference between x and y", False),
])
def test_paired_level_tests_and_their_verdicts(shift, words, decided):
    rng = np.random.default_rng(1)
    runs = pd.DataFrame(itertools.product("xy", range(30)), columns=["A", "block"])
    block_effect = rng.normal(size=30)
    runs["y"] = block_effect[runs["block"]] + shift * (runs["A"] == "y") + 0.01 * rng.normal(size=len(runs))
    row = factorial.paired_level_tests(runs, ["A", "block"], "y", tested=["A"]).iloc[0]
    assert row.factor == "A" and row.n_pairs == 30
    verdict = factorial.paired_verdict(row)
    assert verdict.words == words and verdict.decided is decided


def test_paper_agreement_three_ways():
    assert factorial.paper_agreement("optimiser", True, "optimiser").words == "agrees with the paper"
    assert factorial.paper_agreement("loss", True, "optimiser").words == "disagrees with the paper"
    verdict = factorial.paper_agreement("optimiser", False, "optimiser")
    assert verdict.words == "is too uncertain to agree or disagree with the paper" and not verdict.decided


def _slice(opt_effect, loss_effect, seeds=(1, 2, 3, 4), noise=(0.0, 0.01, -0.01, 0.02)):
    """A 2 x 2 slice: r = 0.5 + opt_effect (AdamW) + loss_effect (L1) + a seed's shared offset."""
    rows = []
    for s, offset in zip(seeds, noise):
        for opt, loss in itertools.product(("AdamW", "Lion"), ("L1", "MSE")):
            r = 0.5 + opt_effect * (opt == "AdamW") + loss_effect * (loss == "L1") + offset
            rows.append({"optimizer": opt, "loss": loss, "seed": s, "r": r})
    return pd.DataFrame(rows)


def test_seed_paired_effects_by_hand():
    table = _slice(0.2, -0.05)
    # seed 3's Lion/MSE run moves by +0.04: its optimiser effect (AdamW - Lion) drops by 0.02 and its
    # loss effect (L1 - MSE) by 0.02
    table.loc[(table.seed == 3) & (table.optimizer == "Lion") & (table.loss == "MSE"), "r"] += 0.04
    effects = factorial.seed_paired_effects(table, ["optimizer", "loss"], "r")
    np.testing.assert_allclose(effects.per_seed["optimizer"], [0.2, 0.2, 0.18, 0.2])
    np.testing.assert_allclose(effects.per_seed["loss"], [-0.05, -0.05, -0.07, -0.05])
    opt, loss = effects.effects.loc["optimizer"], effects.effects.loc["loss"]
    assert opt.best_level == "AdamW" and opt.effect == pytest.approx(0.195)
    # t interval: sd of (0.2, 0.2, 0.18, 0.2) = 0.01, t(0.975, 3) = 3.182446
    assert opt.ci_low == pytest.approx(0.195 - 3.182446 * 0.01 / 2, abs=1e-6)
    assert loss.best_level == "MSE" and loss.effect == pytest.approx(0.055)
    assert effects.verdicts["optimizer"].words == "AdamW above Lion"
    assert effects.verdicts["loss"].words == "MSE above L1"
    verdict, leader = factorial.larger_effect(effects, "optimizer", "loss")
    assert (verdict.words, leader) == ("the optimizer matters more than the loss", "optimizer")
    assert verdict.estimate == pytest.approx(0.195 - 0.055)


def test_seed_paired_effects_the_other_way_and_undecided():
    effects = factorial.seed_paired_effects(_slice(-0.05, 0.2), ["optimizer", "loss"], "r")
    assert effects.verdicts["optimizer"].words == "Lion above AdamW"
    verdict, leader = factorial.larger_effect(effects, "optimizer", "loss")
    assert (verdict.words, leader) == ("the loss matters more than the optimizer", "loss")
    # effects as large as the seeds' scatter: nothing decided
    rng = np.random.default_rng(0)
    noisy = _slice(0.0, 0.0)
    noisy["r"] += rng.normal(scale=0.05, size=len(noisy))
    effects = factorial.seed_paired_effects(noisy, ["optimizer", "loss"], "r")
    assert not effects.verdicts["optimizer"].decided
    assert effects.verdicts["optimizer"].words == "no clear difference between AdamW and Lion"
    verdict, leader = factorial.larger_effect(effects, "optimizer", "loss")
    assert not verdict.decided and verdict.words.startswith("the runs cannot tell") and leader == "undecided"


def test_seed_paired_effects_leave_out_incomplete_seeds():
    table = _slice(0.2, 0.0)
    table.loc[0, "r"] = np.nan  # seed 1, AdamW/L1 predicted a constant
    effects = factorial.seed_paired_effects(table, ["optimizer", "loss"], "r")
    assert effects.seeds_left_out == 1 and list(effects.per_seed.index) == [2, 3, 4]
    one_seed = factorial.seed_paired_effects(table[table.seed <= 2], ["optimizer", "loss"], "r")
    assert one_seed.verdicts["optimizer"].words.endswith("(fewer than two complete seeds)")
    assert not one_seed.verdicts["optimizer"].decided and np.isnan(one_seed.verdicts["optimizer"].ci_low)
    verdict, leader = factorial.larger_effect(one_seed, "optimizer", "loss")
    assert not verdict.decided and leader == "undecided"
    with pytest.raises(ValueError, match="exactly two levels"):
        factorial.seed_paired_effects(table.assign(loss="L1"), ["optimizer", "loss"], "r")


def test_factor_effects_by_hand():
    table = _slice(0.2, 0.01)
    effects = factorial.factor_effects(table, ["optimizer", "loss"], "r").set_index("factor")
    assert list(effects.index) == ["optimizer", "loss"]
    assert effects.loc["optimizer", "effect"] == pytest.approx(0.2)
    assert effects.loc["loss", "best_level"] == "L1"


def test_verdict_text_carries_the_interval():
    from camformer.stats.verdicts import Verdict

    text = factorial.verdict_text(Verdict("AdamW above Lion", 0.3, 0.1, 0.5, True), "AdamW − Lion")
    assert text == "AdamW above Lion (AdamW − Lion +0.300, 95% interval +0.100 to +0.500)"
    nan = float("nan")
    assert factorial.verdict_text(Verdict("undecided", 0.2, nan, nan, False), "d").endswith("(d +0.200, no interval)")


def test_residual_spread_by_hand():
    # y = A + noise of +-1 in level x and +-3 in level y of B; the additive fit takes out A and B
    runs = pd.DataFrame(itertools.product("pq", "xy", range(2)), columns=["A", "B", "rep"])
    noise = np.where(runs["B"] == "x", 1.0, 3.0) * np.where(runs["rep"] == 0, 1.0, -1.0)
    runs["y"] = (runs["A"] == "q") + noise
    spread = factorial.residual_spread(runs, ["A", "B"], "y", by="B")
    assert spread.to_dict() == pytest.approx({"x": 1.0, "y": 3.0})


def test_holm_seed_verdicts_adjust_the_three_together():
    """Per-seed effects built by hand: the optimiser's is steady (stays decided); the loss's has
    p between 0.05 / 2 and 0.05, decided alone but not after Holm over three (it ranks second:
    p times 2); which matters more is undecided either way."""
    opt = np.array([0.03, 0.035, 0.03, 0.032, 0.031])
    loss = np.array([0.02, 0.04, 0.005, 0.03, 0.01])
    rows = []
    for s in range(5):
        for o, lo in itertools.product(("AdamW", "Lion"), ("L1", "MSE")):
            # main effects exactly opt[s] and loss[s] in seed s (no interaction)
            rows.append({"optimizer": o, "loss": lo, "seed": s,
                         "r": 0.5 + opt[s] * (o == "AdamW") + loss[s] * (lo == "L1")})
    effects = factorial.seed_paired_effects(pd.DataFrame(rows), ["optimizer", "loss"], "r")
    np.testing.assert_allclose(effects.per_seed["optimizer"], opt)
    np.testing.assert_allclose(effects.per_seed["loss"], loss)
    p_loss = stats.ttest_1samp(loss, 0).pvalue
    assert 0.05 / 2 < p_loss < 0.05 and effects.verdicts["loss"].decided  # decided alone
    holm = factorial.holm_seed_verdicts(effects, "optimizer", "loss")
    p = [holm.p["optimizer"], holm.p["loss"], holm.p["difference"]]
    assert p == pytest.approx([stats.ttest_1samp(opt, 0).pvalue, p_loss, stats.ttest_1samp(opt - loss, 0).pvalue])
    from camformer.stats.verdicts import holm as holm_adjust

    np.testing.assert_allclose(list(holm.p_holm.values()), holm_adjust(p))
    assert holm.verdicts["optimizer"].words == "AdamW above Lion" and holm.verdicts["optimizer"].decided
    assert holm.verdicts["loss"].words == "no clear difference between L1 and MSE"
    assert not holm.verdicts["loss"].decided
    assert holm.verdicts["loss"].ci_low == effects.verdicts["loss"].ci_low  # the interval is kept
    assert holm.p_holm["loss"] == pytest.approx(2 * p_loss) and holm.p_holm["loss"] > 0.05
    assert not holm.verdicts["difference"].decided and holm.leader == "undecided"
