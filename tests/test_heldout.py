"""Held-out scores judged against a bar (camformer.stats.heldout): the words follow the interval."""

from __future__ import annotations

import numpy as np
import pytest

from camformer.stats.heldout import judged_correlation
from camformer.stats.metrics import pearson_r


def _noisy(rng, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = rng.normal(size=n)
    return y, y + noise * rng.normal(size=n)


def test_words_follow_the_interval_both_ways():
    rng = np.random.default_rng(0)
    y, good = _noisy(rng, 2000, 0.3)  # r about 0.96
    high = judged_correlation(y, good, threshold=0.80, n_boot=200)
    assert high.words == "above 0.80" and high.decided and high.ci_low > 0.80
    assert high.estimate == pytest.approx(pearson_r(y, good))
    assert high.ci_low <= high.estimate <= high.ci_high
    y, poor = _noisy(rng, 2000, 1.5)  # r about 0.55
    low = judged_correlation(y, poor, "spearman_rho", threshold=0.80, n_boot=200)
    assert low.words == "below 0.80" and low.decided and low.ci_high < 0.80
    y, edge = _noisy(rng, 60, 0.75)  # r about 0.8 on few sequences: the interval straddles the bar
    undecided = judged_correlation(y, edge, threshold=pearson_r(y, edge), n_boot=200)
    assert not undecided.decided and undecided.words.startswith("not distinguishable from")


def test_groups_widen_the_interval():
    rng = np.random.default_rng(1)
    base, offset = rng.normal(size=40), rng.normal(scale=0.8, size=40)
    y = np.repeat(base, 25) + 0.1 * rng.normal(size=1000)  # 40 families of 25 near-copies
    yhat = np.repeat(base + offset, 25) + 0.1 * rng.normal(size=1000)
    alone = judged_correlation(y, yhat, threshold=0.0, n_boot=300)
    by_family = judged_correlation(y, yhat, threshold=0.0, n_boot=300, groups=np.repeat(np.arange(40), 25))
    assert by_family.ci_high - by_family.ci_low > 2 * (alone.ci_high - alone.ci_low)


def test_undefined_correlation_says_why():
    y = np.arange(10.0)
    flat = judged_correlation(y, np.ones(10), threshold=0.0)
    assert flat.words == "undefined (the predictions are constant)" and not flat.decided
    assert np.isnan(flat.estimate) and flat.facts("r") == {"r_verdict": flat.words, "r_decided": False}
    assert judged_correlation(np.ones(10), y, threshold=0.0).words == "undefined (the measured values are constant)"
    with pytest.raises(ValueError, match="metric must be one of"):
        judged_correlation(y, y, "kendall_tau", threshold=0.0)


def test_describe_reads_the_verdict():
    from camformer.stats.heldout import describe
    from camformer.stats.verdicts import Verdict

    assert describe(Verdict("above 0.80", 0.8333, 0.8211, 0.8456, True), "Pearson r") == (
        "Pearson r = 0.833 (95% interval 0.821 to 0.846, above 0.80)")
    flat = judged_correlation(np.arange(5.0), np.zeros(5), threshold=0.0)
    assert describe(flat, "Spearman ρ") == "Spearman ρ is undefined (the predictions are constant)"


def test_judged_ensemble_by_model_across_models_and_averaged():
    from camformer.stats.ensemble import between_models_interval
    from camformer.stats.heldout import ensemble_facts, ensemble_sentence, ensemble_table, judged_ensemble

    rng = np.random.default_rng(2)
    y = rng.normal(size=600)
    noise = {"seed 42": 0.3, "seed 23": 0.5, "seed 47": 1.2}  # r about 0.96, 0.89, 0.64
    predictions = {label: y + s * rng.normal(size=600) for label, s in noise.items()}
    judged = judged_ensemble(y, predictions, n_boot=200)
    r = judged["pearson_r"]
    per_model = [pearson_r(y, p) for p in predictions.values()]
    assert [v.estimate for v in r.per_model] == pytest.approx(per_model)
    assert (r.verdict.estimate, r.verdict.ci_low, r.verdict.ci_high) == pytest.approx(
        between_models_interval(per_model, bounds=(-1, 1)))
    assert r.verdict.ci_high == 1.0  # the t interval over three spread models is cut at a correlation's bound
    assert r.verdict.decided and r.verdict.words == "above 0.00" and r.agreement() == "3 of 3 models"
    averaged = np.mean(list(predictions.values()), axis=0)
    assert judged["mean_prediction"]["pearson_r"].estimate == pytest.approx(pearson_r(y, averaged))
    # only the third model misses the project's 0.80 target, and the sentence names it
    assert judged["below_target"] == ["seed 47"]
    assert "Seed 47 is below the project's target of 0.80" in ensemble_sentence(judged)
    table = ensemble_table(judged)
    assert list(table.index[:3]) == list(noise) and table.shape == (5, 2)
    records = ensemble_facts(judged)
    assert records["heldout_pearson_models"] == pytest.approx(per_model) and records["below_target_models"] == "seed 47"
    assert records["heldout_pearson_agreeing_models"] == "3 of 3" and "mean_prediction_spearman" in records
    # one model: its own verdict, its interval over units, no per-model records
    alone = judged_ensemble(y, {"seed 42": predictions["seed 42"]}, n_boot=200)
    assert "heldout_pearson_models" not in ensemble_facts(alone)
    # its averaged prediction is its own prediction: the same verdict, not bootstrapped again
    assert alone["mean_prediction"]["spearman_rho"] == judged_correlation(
        y, predictions["seed 42"], "spearman_rho", threshold=0.0, n_boot=200)
    assert ensemble_sentence(alone).startswith("Pearson r = ")
    assert "The model reaches the project's target" in ensemble_sentence(alone)
