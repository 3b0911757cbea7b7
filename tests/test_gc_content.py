"""GC content, the paper's Figure S12 data checked against the test table, and its verdicts."""

import numpy as np
import pandas as pd
import pytest

from camformer.data import dream
from camformer.explain.gc_content import (
    gc_correlation,
    gc_direction_verdict,
    gc_percent,
    match_paper_gc_table,
    same_direction,
)


def test_gc_percent_by_hand():
    codes = dream.encode_sequences(["ACGT", "GGCC", "ATAT", "GCNA"], seq_len=4)
    np.testing.assert_allclose(gc_percent(codes), [50.0, 100.0, 0.0, 50.0])
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        gc_percent(codes[0])


def test_match_paper_gc_table_finds_measured_values():
    table = pd.DataFrame({"id": [3, 1, 2, 7], "seq": ["GGAA", "AAAA", "GGAA", "GGGA"],
                          "expression": [0.5, -1.0, 0.5, 2.0]})
    paper = pd.DataFrame({"GC Content (%)": [50.0, 0.0, 75.0, 75.0], "Expr": [0.5, -1.0, 2.0, 2.1]})
    match = match_paper_gc_table(paper, table)
    assert match["n_matches"].tolist() == [2, 1, 1, 0]  # ids 2 and 3 share (50%, 0.5)
    assert match["id"].tolist() == [2, 1, 7, -1] and match["unique"].tolist() == [False, True, True, False]
    np.testing.assert_allclose(match["value"], paper["Expr"])


def test_the_paper_s12_expr_column_is_the_measured_expression():
    """The erratum the book states: every one of the 10,000 rows of the paper's S12 data is a test
    sequence's GC content and its *measured* expression, and none is a published prediction."""
    table = dream.load_test_table()
    paper = dream.load_paper_table("GC_content_nt_effect_snv_test10k.csv")
    match = match_paper_gc_table(paper, table)
    assert len(match) == 10_000 and (match["n_matches"] > 0).all()
    assert match["unique"].sum() > 9_900
    predictions = dream.load_published_predictions().set_index("id").loc[table["id"]]
    as_predictions = table.assign(expression=predictions["original"].to_numpy())
    assert (match_paper_gc_table(paper, as_predictions)["n_matches"] == 0).all()


def test_gc_correlation_and_its_verdict_go_both_ways():
    gc = np.linspace(30, 60, 200)
    noise = np.random.default_rng(0).normal(size=200)
    up = gc_correlation(gc, gc / 10 + noise, n_boot=300)
    assert up["n"] == 200 and 0 < up["ci_low"] < up["r"] < up["ci_high"]
    assert gc_direction_verdict(up, "measured expression").words == "higher GC content goes with higher measured expression"
    down = gc_correlation(gc, -gc / 10 + noise, n_boot=300)
    assert gc_direction_verdict(down, "predicted expression").words == (
        "higher GC content goes with lower predicted expression")
    flat = gc_correlation(gc, noise, n_boot=300)
    assert flat["ci_low"] < 0 < flat["ci_high"]
    assert not gc_direction_verdict(flat, "x").decided
    constant = gc_correlation(gc, np.ones(200))
    assert np.isnan(constant["r"]) and gc_direction_verdict(constant, "x").words == "undefined (the x is constant)"


def test_same_direction():
    gc = np.linspace(30, 60, 100)
    up = gc_direction_verdict(gc_correlation(gc, gc, n_boot=50), "a")
    down = gc_direction_verdict(gc_correlation(gc, -gc, n_boot=50), "b")
    flat = gc_direction_verdict({"r": 0.0, "ci_low": -0.1, "ci_high": 0.1}, "c")
    assert same_direction(up, up) == "the same direction"
    assert same_direction(up, down) == "opposite directions"
    assert same_direction(up, flat) == "undecided"


def test_s12_facts_record_the_papers_two_numbers():
    """The paper prints r = 0.263 and ρ = 0.288 on Figure S12: the facts hold ρ of the first panel (the
    paper's data), computed by scipy, beside the counts; r is a verdict's record (verdict_keys)."""
    from scipy import stats

    from camformer.explain.gc_content import S12Comparison

    gc, value = np.array([10.0, 20.0, 30.0, 40.0, 50.0]), np.array([0.1, 0.5, 0.2, 0.9, 0.7])
    match = pd.DataFrame({"n_matches": [1, 2, 0, 1, 1], "unique": [True, False, False, True, True]})
    first = gc_correlation(gc, value, n_boot=20)
    panels = {"paper": (gc, value, "measured expression", first),
              "other": (gc, -value, "predicted expression", gc_correlation(gc, -value, n_boot=20))}
    facts = S12Comparison(match, panels, {}, "undecided").facts()
    assert facts == {"s12_rows": 5, "s12_rows_equal_measured": 4, "gc_direction_model_vs_paper": "undecided",
                     "gc_spearman_measured_paper_data": pytest.approx(stats.spearmanr(gc, value)[0])}
    assert facts["gc_spearman_measured_paper_data"] == pytest.approx(0.8)  # ranks 1 3 2 5 4: 1 - 6*4/120


def _held_out(n=400):
    table = dream.load_test_table().sort_values("id")
    ids = table["id"].to_numpy()[::max(1, len(table) // n)][:n]
    gc = gc_percent(dream.encode_sequences(table.set_index("id").loc[ids, "seq"].tolist()))
    return ids, gc


def test_compare_s12_judges_every_model_of_an_ensemble():
    """Three models' held-out predictions: two rise with GC content, one falls. Each is judged on
    its own (the first is the drawn panel's), the direction against the paper's Camformer (which
    rises) is undecided with 2 of 3 models, and the data's panels are recorded once."""
    from camformer.stats.ensemble import combine
    from camformer.explain.gc_content import compare_s12

    ids, gc = _held_out()
    noise = np.random.default_rng(0).normal(size=len(ids))
    predictions = pd.DataFrame({"id": ids, "prediction": gc / 10 + noise, "seed 1": gc / 10 + noise,
                                "seed 2": -gc / 10 + noise, "seed 3": gc / 5 + noise})
    s12 = compare_s12(predictions, "the book's ensemble", labels=["seed 1", "seed 2", "seed 3"], n_boot=50)
    words = [v.words for v in s12.models.values()]
    assert words == ["higher GC content goes with higher predicted expression",
                     "higher GC content goes with lower predicted expression",
                     "higher GC content goes with higher predicted expression"]
    drawn = list(s12.verdicts.values())[2]
    assert s12.models["seed 1"] == drawn and list(s12.panels)[2] == "Seed 1 (first of 3 models), held-out"
    assert s12.directions == ("the same direction", "opposite directions", "the same direction")
    facts = s12.facts()
    assert facts["gc_direction_model_vs_paper"] == "undecided"
    assert facts["gc_direction_model_vs_paper_agreeing_models"] == "0 of 3"  # every model decided, not alike
    assert set(s12.verdict_keys()) == {"gc_pearson_measured_paper_data", "gc_pearson_predicted_paper_model",
                                       "gc_pearson_measured_heldout"}
    combined = combine(s12.model_verdicts(), ["seed 1", "seed 2", "seed 3"])
    assert str(combined["gc_pearson_predicted_model"]) == "GC content and predicted expression show no clear correlation"
    assert "The 3 models' held-out predictions" in s12.summary() and "**undecided** (2 of 3 models say 'the same direction', 1 of 3 says 'opposite directions')" in s12.summary()
    with pytest.raises(ValueError, match="seed 4"):
        compare_s12(predictions, "x", labels=["seed 1", "seed 4"], n_boot=10)


def test_compare_s12_of_one_model_judges_its_prediction_column():
    from camformer.explain.gc_content import compare_s12

    ids, gc = _held_out(200)
    s12 = compare_s12(pd.DataFrame({"id": ids, "prediction": -gc}), "Camformer Original", labels=["Original"],
                      n_boot=20)
    assert s12.models == {} and s12.direction == "opposite directions"
    assert [m["gc_pearson_predicted_model"].words for m in s12.model_verdicts()] == [
        "higher GC content goes with lower predicted expression"]
    assert "gc_direction_model_vs_paper_agreeing_models" not in s12.facts()
    assert "The explained model and the paper's Camformer point in **opposite directions**." in s12.summary()
