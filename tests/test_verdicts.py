"""camformer.stats.verdicts: the words follow the numbers, whichever way they go."""

import numpy as np
import pytest

from camformer.stats import verdicts

WORDS = dict(above="raises expression", below="lowers expression", undecided="has no clear effect")


@pytest.mark.parametrize("interval, words, decided", [
    ((0.1, 0.7), "raises expression", True),
    ((-0.7, -0.1), "lowers expression", True),
    ((-0.1, 0.7), "has no clear effect", False),
    ((0.0, 0.7), "has no clear effect", False),  # touching the threshold is not excluding it
])
def test_by_interval_follows_the_interval(interval, words, decided):
    verdict = verdicts.by_interval(0.3, *interval, **WORDS)
    assert (verdict.words, verdict.decided, str(verdict)) == (words, decided, words)


def test_by_interval_threshold_and_facts():
    verdict = verdicts.by_interval(0.93, 0.91, 0.95, above="agrees", below="falls short", undecided="?",
                                   threshold=0.9)
    assert verdict.words == "agrees"
    assert verdict.facts("r") == {"r": 0.93, "r_ci_low": 0.91, "r_ci_high": 0.95, "r_verdict": "agrees",
                                  "r_decided": True}
    with pytest.raises(ValueError):
        verdicts.by_interval(0.0, 1.0, -1.0, **WORDS)
    assert "r_ci_low" not in verdicts.Verdict("n/a", 1.0, np.nan, np.nan, False).facts("r")


def test_best_of_decides_only_without_overlap():
    assert verdicts.best_of({"a": (0.9, 0.88, 0.92), "b": (0.8, 0.78, 0.82)}) == ("a", True, [])
    assert verdicts.best_of({"a": (0.9, 0.85, 0.95), "b": (0.87, 0.80, 0.86), "c": (0.1, 0, 0.2)}) == (
        "a", False, ["b"])
    assert verdicts.best_of({"a": (1.0, 0.9, 1.1), "b": (0.2, 0.1, 0.3)}, higher_is_better=False) == ("b", True, [])
    with pytest.raises(ValueError):
        verdicts.best_of({"a": (1, 0, 2)})


def test_holm_by_hand():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (cumulative max of 0.06), 0.5
    np.testing.assert_allclose(verdicts.holm([0.03, 0.5, 0.01, 0.02]), [0.06, 0.5, 0.04, 0.06])
    np.testing.assert_allclose(verdicts.holm({"x": 0.2, "y": 0.6}), [0.4, 0.6])
    assert verdicts.holm([0.9, 0.8]).max() <= 1
    with pytest.raises(ValueError):
        verdicts.holm([0.1, 1.5])


def test_bootstrap_p_value():
    assert verdicts.bootstrap_p_value(np.full(99, 2.0)) == pytest.approx(2 / 100)
    assert verdicts.bootstrap_p_value(np.linspace(-1, 1, 101)) == pytest.approx(1.0)
    samples = np.r_[np.full(10, -1.0), np.full(90, 1.0)]
    assert verdicts.bootstrap_p_value(samples) == pytest.approx(2 * 11 / 101)
