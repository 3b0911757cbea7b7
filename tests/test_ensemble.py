"""camformer.stats.ensemble: verdicts across a seed ensemble, on hand-computed answers."""

import math

import numpy as np
import pytest

from camformer.stats.ensemble import across_models, between_models_interval, combine, consensus, facts, table
from camformer.stats.verdicts import Verdict, by_interval


def _v(x, half=0.05):
    return by_interval(x, x - half, x + half, above="raises", below="lowers", undecided="no clear effect")


def test_between_models_interval_by_hand():
    # Values 0.1, 0.2, 0.3, 0.6: mean 0.3, s = sqrt(((-.2)^2+(-.1)^2+0+.3^2)/3) = sqrt(0.14/3);
    # t(0.975, 3) = 3.182446305284263.
    mean, low, high = between_models_interval([0.1, 0.2, 0.3, 0.6])
    half = 3.182446305284263 * math.sqrt(0.14 / 3) / 2
    assert mean == pytest.approx(0.3) and low == pytest.approx(0.3 - half) and high == pytest.approx(0.3 + half)
    # A naive check of coverage: over many draws of 5 normal values, the 95% interval holds the mean ~95%.
    rng = np.random.default_rng(0)
    hits = [low <= 1.0 <= high for low, high in
            (between_models_interval(rng.normal(1.0, 2.0, 5))[1:] for _ in range(4000))]
    assert 0.94 < np.mean(hits) < 0.96
    assert between_models_interval([0.9, 0.95, 0.99], bounds=(-1, 1))[2] == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        between_models_interval([0.4])
    with pytest.raises(ValueError, match="not a number"):
        between_models_interval([0.4, float("nan")])


def test_all_models_alike_decide_with_the_mean_and_between_model_interval():
    across = across_models([_v(0.3), _v(0.4), _v(0.5)], ["seed 1", "seed 2", "seed 3"])
    assert across.verdict.decided and str(across) == "raises"
    assert across.verdict.estimate == pytest.approx(0.4)
    assert (across.verdict.ci_low, across.verdict.ci_high) == pytest.approx(between_models_interval([.3, .4, .5])[1:])
    assert across.agreement() == "3 of 3 models" and across.agreeing == 3
    records = across.facts("effect")
    assert records["effect_models"] == pytest.approx([0.3, 0.4, 0.5])
    assert records["effect_agreeing_models"] == "3 of 3" and records["effect_verdict"] == "raises"
    assert records["effect_decided"] is True and records["effect"] == pytest.approx(0.4)


@pytest.mark.parametrize("values, words, agreement, agreeing", [
    # the sign changes between models: no model is undecided itself, so none reaches the ensemble's words
    ((0.3, 0.4, -0.3), "no clear effect", "2 of 3 models say 'raises', 1 of 3 says 'lowers'", 0),
    # one model is undecided on its own: the ensemble's words, named so and not quoted again
    ((0.3, 0.4, 0.02), "no clear effect", "2 of 3 models say 'raises', 1 of 3 undecided", 1),
    ((0.3, 0.01, 0.02), "no clear effect", "2 of 3 models undecided, 1 of 3 says 'raises'", 2),
])
def test_a_model_that_differs_leaves_the_ensemble_undecided(values, words, agreement, agreeing):
    across = across_models([_v(x) for x in values])
    assert not across.verdict.decided and str(across) == words
    assert across.facts("e")["e_decided"] is False
    assert across.agreeing == agreeing and across.facts("e")["e_agreeing_models"] == f"{agreeing} of 3"
    assert across.agreement() == agreement
    assert across.stated() == f"{words} ({agreement})"
    assert str(across_models([_v(x) for x in values], undecided="mixed")) == "mixed"


def test_models_undecided_alike_are_stated_once():
    across = across_models([_v(x) for x in (0.01, 0.02, -0.01)])
    assert not across.verdict.decided and across.stated() == "no clear effect (in 3 of 3 models)"


def test_one_model_keeps_its_own_verdict_and_interval():
    one = _v(0.3)
    across = across_models([one], ["Camformer Original (published)"])
    assert across.verdict is one and across.agreement() == "one model"
    assert set(across.facts("e")) == {"e", "e_ci_low", "e_ci_high", "e_verdict", "e_decided"}


def test_an_undefined_model_value_leaves_the_mean_undefined():
    undefined = Verdict("undefined (constant maps)", math.nan, math.nan, math.nan, False)
    across = across_models([_v(0.3), undefined])
    assert not across.verdict.decided and math.isnan(across.verdict.estimate)
    assert across.facts("e")["e_models"] == [0.3, None]  # JSON null, not NaN
    shown = table({"e": across})
    assert shown.loc["e", "model 2"] == "—" and shown.loc["e", "mean [95% CI over models]"] == "—"


def test_combine_and_table():
    per_model = [{"a": _v(0.3), "b": _v(-0.2)}, {"a": _v(0.5), "b": _v(0.2)}]
    combined = combine(per_model, ["seed 1", "seed 2"])
    assert str(combined["a"]) == "raises" and not combined["b"].verdict.decided
    shown = table(combined, {"a": "effect A"})
    assert list(shown.index) == ["effect A", "b"]
    assert shown.loc["effect A", "seed 2"] == 0.5 and shown.loc["effect A", "models agreeing"] == "2 of 2 models"
    assert set(facts(combined)) >= {"a", "a_models", "b_verdict", "b_agreeing_models"}
    with pytest.raises(ValueError, match=r"model 2's findings have other keys.*\['b'\]"):
        combine([{"a": _v(0.3), "b": _v(0.1)}, {"a": _v(0.3)}])


def test_combine_cuts_each_interval_to_its_statistics_range():
    # |rho| of 0.99, 1.0 and 0.96: mean 0.9833, t interval 0.9833 +- 4.3027 * 0.02082 / sqrt(3) = [0.9316, 1.0350]
    models = [{"rho": _v(x), "effect": _v(x)} for x in (0.99, 1.0, 0.96)]
    combined = combine(models, ranges={"rho": (0.0, 1.0)})
    assert combined["rho"].verdict.ci_high == 1.0
    assert combined["effect"].verdict.ci_high == pytest.approx(0.9833 + 4.3027 * 0.020817 / math.sqrt(3), abs=1e-3)
    assert combined["rho"].verdict.ci_low == pytest.approx(combined["effect"].verdict.ci_low)


def test_consensus_counts_the_models_that_give_its_label_themselves():
    assert consensus(["Saliency", "Saliency", "Saliency"]) == ("Saliency", 3)
    assert consensus(["Saliency", "Saliency", "IG"]) == ("undecided", 0)  # not "2": two models did not say undecided
    assert consensus(["Saliency", "undecided", "undecided"]) == ("undecided", 2)
    assert consensus(["undecided", "undecided"]) == ("undecided", 2)
    with pytest.raises(ValueError, match="no models' labels"):
        consensus([])
