"""Known answers for camformer.stats.metrics and ``camformer evaluate``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from camformer.stats import bootstrap, leaderboard, metrics, seeds
from camformer.cli.main import main
from camformer.data.dream import DataFormatError, load_paper_table, load_published_predictions

# ----------------------------------------------------------------------------- the paper's numbers


@pytest.fixture(scope="module")
def published_scores():
    pred = load_published_predictions().set_index("id")
    return {model: metrics.score_predictions(pred[col]) for col, model in (("original", "Orig"), ("mini", "Mini"))}


@pytest.mark.parametrize("model", ["Orig", "Mini"])
def test_reproduces_paper_seed42_rows(published_scores, model):
    """Every subset (r and ρ) and both weighted scores of the paper's seed-42 rows, to 3 decimals."""
    grid = load_paper_table("grid_res_all_models_pvt.csv")
    row = grid[(grid["Seed"] == 42) & (grid["Model"] == model)].iloc[0]
    table = published_scores[model]
    for subset in metrics.SUBSETS:
        prefix = "" if subset == "all" else f"{subset}_"
        assert table.loc[subset, "pearson_r"] == pytest.approx(row[f"{prefix}pearson"], abs=5e-4), subset
        assert table.loc[subset, "spearman_rho"] == pytest.approx(row[f"{prefix}spearman"], abs=5e-4), subset
    assert table.loc["all", "pearson_r2"] == pytest.approx(row["all_pearson_r2"], abs=5e-4)
    assert metrics.dream_score(table, "pearson_r2") == pytest.approx(row["pearsons_score"], abs=5e-4)
    assert metrics.dream_score(table, "spearman_rho") == pytest.approx(row["spearmans_score"], abs=5e-4)


def test_original_headline_numbers(published_scores):
    table = published_scores["Orig"]
    assert round(table.loc["all", "pearson_r2"], 4) == 0.9166
    assert round(table.loc["all", "spearman_rho"], 4) == 0.9631
    assert round(metrics.dream_score(table, "pearson_r2"), 4) == 0.7541
    assert round(metrics.dream_score(table, "spearman_rho"), 4) == 0.8225
    # private leaderboard: 71,103 - 9,045 public ids
    assert table.loc["all", "n"] == 71103 - 9045


# ----------------------------------------------------------------------------- hand-computed cases

Y = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 7.0])
P = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])


def _tiny(public_ids=(), public_pairs=()):
    table = pd.DataFrame({
        "id": np.arange(6), "seq": ["A" * 110] * 6, "expression": Y,
        "subsets": ["SNVs;high", "SNVs;high", "SNVs;high", "SNVs;low", "SNVs;low", "SNVs;low"],
        "public": [1 if i in public_ids else 0 for i in range(6)],
    })
    refalt = [(0, 1), (0, 2), (0, 3), (4, 5)]
    pairs = pd.DataFrame({"subset": "SNVs", "ref_id": [r for r, _ in refalt], "alt_id": [a for _, a in refalt],
                          "public": [1 if k in public_pairs else 0 for k in range(4)]})
    return table, pairs


def test_tiny_table_hand_computed():
    table, pairs = _tiny(public_ids=(4, 5), public_pairs=(3,))
    pred = pd.Series(P, index=np.arange(6))
    out = metrics.score_predictions(pred, table, pairs, private=False)
    # all 6: ranks of P are [1,3,2,5,4,6], of Y [1,2,4,3,5,6]; sum d^2 = 10 -> rho = 1 - 60/210
    assert out.loc["all", "spearman_rho"] == pytest.approx(1 - 6 * 10 / (6 * 35))
    assert out.loc["all", "pearson_r"] == pytest.approx(np.corrcoef(Y, P)[0, 1])
    assert out.loc["all", "pearson_r2"] == pytest.approx(np.corrcoef(Y, P)[0, 1] ** 2)
    assert out.loc["high", "n"] == 3 and out.loc["low", "n"] == 3
    assert out.loc["high", "pearson_r"] == pytest.approx(np.corrcoef(Y[:3], P[:3])[0, 1])
    # SNVs on alt - ref: truth [1, 3, 2, 2], prediction [2, 1, 4, 2]
    assert out.loc["SNVs", "n"] == 4
    assert out.loc["SNVs", "pearson_r"] == pytest.approx(np.corrcoef([1, 3, 2, 2], [2, 1, 4, 2])[0, 1])
    assert np.isnan(out.loc["motif_tiling", "pearson_r"]) and out.loc["motif_tiling", "n"] == 0


def test_private_leaves_out_public_ids_and_pairs():
    table, pairs = _tiny(public_ids=(4, 5), public_pairs=(3,))
    out = metrics.score_predictions(pd.Series(P, index=np.arange(6)), table, pairs, private=True)
    assert out.loc["all", "n"] == 4
    assert out.loc["all", "pearson_r"] == pytest.approx(np.corrcoef(Y[:4], P[:4])[0, 1])
    assert out.loc["low", "n"] == 1 and np.isnan(out.loc["low", "pearson_r"])
    # the three private pairs: truth diffs [1, 3, 2], predicted [2, 1, 4]
    # r = -1 / sqrt(2 * 42/9) (hand-computed); ranks [1,3,2] vs [2,1,3]: sum d^2 = 6 -> rho = 1 - 36/24
    assert out.loc["SNVs", "n"] == 3
    assert out.loc["SNVs", "pearson_r"] == pytest.approx(-1 / np.sqrt(2 * 42 / 9))
    assert out.loc["SNVs", "spearman_rho"] == pytest.approx(-0.5)


def test_subset_sizes_count_sequences_and_pairs_in_full_and_private():
    table, pairs = _tiny(public_ids=(4, 5), public_pairs=(3,))
    sizes = metrics.subset_sizes(table, pairs).set_index("subset")
    assert list(sizes.index) == list(metrics.SUBSETS)
    assert sizes.loc["all"].tolist() == ["sequences", 6, 4]
    assert sizes.loc["low"].tolist() == ["sequences", 3, 1] and sizes.loc["yeast"].tolist() == ["sequences", 0, 0]
    assert sizes.loc["SNVs"].tolist() == ["variant pairs", 4, 3]
    full = metrics.subset_sizes().set_index("subset")  # the bundled test set: its documented sizes
    assert full.loc["all", "in the test set"] == 71_103
    assert full.loc["all", "in the test set"] - full.loc["all", "scored (private)"] == 9_045


def test_partial_predictions_score_covered_ids_only():
    table, pairs = _tiny()
    out = metrics.score_predictions(pd.Series(P[:4], index=np.arange(4)), table, pairs, private=False)
    assert out.loc["all", "n"] == 4
    assert out.loc["SNVs", "n"] == 3  # pair (4, 5) is not covered


def test_prediction_errors():
    table, pairs = _tiny()
    with pytest.raises(ValueError, match="not in the test table"):
        metrics.score_predictions(pd.Series([1.0, 2.0], index=[0, 99]), table, pairs)
    with pytest.raises(ValueError, match="NaN"):
        metrics.score_predictions(pd.Series([1.0, np.nan], index=[0, 1]), table, pairs)
    with pytest.raises(ValueError, match="more than once"):
        metrics.score_predictions(pd.Series([1.0, 2.0], index=[0, 0]), table, pairs)


def test_dream_score_weights():
    ones = pd.DataFrame({"pearson_r2": 1.0, "spearman_rho": 1.0}, index=list(metrics.SUBSETS))
    assert metrics.dream_score(ones) == pytest.approx(1.0)
    assert sum(metrics.SUBSET_WEIGHTS.values()) == pytest.approx(4.65)
    only_snv = ones * 0
    only_snv.loc["SNVs"] = 0.8
    assert metrics.dream_score(only_snv, "spearman_rho") == pytest.approx(1.25 * 0.8 / 4.65)
    values = pd.Series([0.9, 0.3, 0.4, 0.7, 0.95, 0.88, 0.67, 0.95, 0.82], index=list(metrics.SUBSETS))
    expected = (0.9 + 0.3 * 0.3 + 0.3 * 0.4 + 0.3 * 0.7 + 0.3 * 0.95 + 0.5 * 0.88 + 1.25 * 0.67
                + 0.3 * 0.95 + 0.4 * 0.82) / 4.65
    assert metrics.dream_score(values.to_frame("pearson_r2")) == pytest.approx(expected)
    only_snv.loc["high"] = np.nan
    assert np.isnan(metrics.dream_score(only_snv, "spearman_rho"))
    with pytest.raises(ValueError, match="metric"):
        metrics.dream_score(ones, "r")


# ----------------------------------------------------------------------------- uncertainty


def _noisy(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    return y, y + rng.normal(scale=0.7, size=n)


@pytest.mark.parametrize("metric", metrics.METRICS)
def test_bootstrap_ci_contains_estimate_and_is_seeded(metric):
    y, yhat = _noisy()
    point = {"pearson_r": metrics.pearson_r(y, yhat), "pearson_r2": metrics.pearson_r(y, yhat) ** 2,
             "spearman_rho": metrics.spearman_rho(y, yhat)}[metric]
    low, high = bootstrap.bootstrap_ci(y, yhat, metric, n_boot=300, seed=3)
    assert low < point < high
    assert high - low < 0.1
    assert (low, high) == bootstrap.bootstrap_ci(y, yhat, metric, n_boot=300, seed=3)
    assert (low, high) != bootstrap.bootstrap_ci(y, yhat, metric, n_boot=300, seed=4)


def test_bootstrap_samples_match_naive_loop():
    y, yhat = _noisy(n=300)
    fast = bootstrap.bootstrap_samples(y, yhat, "spearman_rho", n_boot=20, seed=7, chunk=64)
    idx = np.random.default_rng(7).integers(0, 300, size=(20, 300))
    naive = [stats.spearmanr(y[i], yhat[i])[0] for i in idx]
    np.testing.assert_allclose(fast, naive, rtol=1e-10)
    # tied values (and the copies a resample makes) get average ranks, as scipy gives them
    y_tied, yhat_tied = np.round(y), np.round(yhat * 2)
    fast = bootstrap.bootstrap_samples(y_tied, yhat_tied, "spearman_rho", n_boot=20, seed=7, chunk=8)
    idx = np.vstack([rng.integers(0, 300, size=(8, 300)) for rng in [np.random.default_rng(7)] for _ in range(3)])[:20]
    naive = [stats.spearmanr(y_tied[i], yhat_tied[i])[0] for i in idx]
    np.testing.assert_allclose(fast, naive, rtol=1e-10)
    # chunking does not change the answer when one chunk covers all resamples
    small = bootstrap.bootstrap_samples(y, yhat, "pearson_r2", n_boot=20, seed=7, sample_size=50)
    idx = np.random.default_rng(7).integers(0, 300, size=(20, 50))
    np.testing.assert_allclose(small, [np.corrcoef(y[i], yhat[i])[0, 1] ** 2 for i in idx], rtol=1e-10)


def test_ensemble_summary():
    mean, sd = seeds.ensemble_summary([0.91, 0.914, 0.917])
    assert mean == pytest.approx(0.9136666667)
    assert sd == pytest.approx(np.std([0.91, 0.914, 0.917], ddof=1))
    with pytest.raises(ValueError):
        seeds.ensemble_summary([0.9])


# ----------------------------------------------------------------------------- files and the CLI


def test_read_predictions(tmp_path):
    good = tmp_path / "p.csv"
    good.write_text("id,prediction,other\n3,1.5,0\n1,2.5,0\n")
    s = metrics.read_predictions(good)
    assert list(s.index) == [3, 1] and list(s) == [1.5, 2.5]
    assert list(metrics.read_predictions(good, "other")) == [0.0, 0.0]


@pytest.mark.parametrize("text, line, problem", [
    ("seq\tprediction\nA\t1.0\n", 1, "no 'id' column"),
    ("id\ta\tb\n1\t1.0\t2\n", 1, "several prediction columns"),
    ("id\tprediction\n1\t1.0\n2\t\n", 3, "missing or not a number"),
    ("id\tprediction\n1\t1.0\nx\t2.0\n", 3, "missing or not a number"),
    ("id\tprediction\n1\t1.0\n2\t2.0\n1\t3.0\n", 4, "more than once"),
    ("id\tprediction\n1.5\t1.0\n", 2, "not an integer"),
])
def test_read_predictions_errors_name_file_and_line(tmp_path, text, line, problem):
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=problem) as err:
        metrics.read_predictions(path)
    assert err.value.line == line and err.value.path == str(path)


def test_cli_evaluate(tmp_path, capsys):
    pred = load_published_predictions()
    path = tmp_path / "pred.tsv.gz"
    pred[["id", "original"]].to_csv(path, sep="\t", index=False)
    assert main(["evaluate", str(path), "--output", str(tmp_path / "out.tsv")]) == 0
    out = capsys.readouterr().out
    assert "Pearson score (r²): 0.7541" in out and "Spearman score (ρ): 0.8225" in out
    assert "motif_tiling" in out
    written = pd.read_csv(tmp_path / "out.tsv", sep="\t", index_col="subset")
    assert written.loc["all", "pearson_r2"] == pytest.approx(0.9166, abs=5e-5)


def test_cli_evaluate_bad_file(tmp_path, capsys):
    path = tmp_path / "bad.tsv"
    path.write_text("id\tprediction\n0\t1.0\n1\tnan\n")
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "line 3" in err


def test_subset_values_pair_differences():
    table, pairs = _tiny(public_ids=(4, 5), public_pairs=(3,))
    y, yhat = metrics.subset_values(pd.Series(P, index=np.arange(6)), "SNVs", table, pairs)
    np.testing.assert_array_equal(y, [1, 3, 2])
    np.testing.assert_array_equal(yhat, [2, 1, 4])
    y, yhat = metrics.subset_values(pd.Series(P, index=np.arange(6)), "high", table, pairs)
    np.testing.assert_array_equal(y, Y[:3])
    with pytest.raises(ValueError, match="subset"):
        metrics.subset_values(pd.Series(P, index=np.arange(6)), "medium", table, pairs)


def test_full_test_set_matches_published_seed_ensemble_row():
    """The paper's seed-ensemble tables score all 71,103 ids; their first single-seed row is seed 42."""
    pred = load_published_predictions().set_index("id")["original"]
    table = metrics.score_predictions(pred, private=False)
    assert table.loc["all", "n"] == 71103
    r2 = load_paper_table("seed_ensemble_O_PearsonR2.csv")
    rho = load_paper_table("seed_ensemble_O_SpearmanR.csv")
    assert table.loc["all", "pearson_r2"] == pytest.approx(r2["average_score"].iloc[0], abs=1e-6)
    assert table.loc["all", "spearman_rho"] == pytest.approx(rho["average_score"].iloc[0], abs=1e-6)


def test_leaderboard_layout():
    ones = pd.DataFrame({"pearson_r2": 0.5, "spearman_rho": 1.0, "n": 10}, index=list(metrics.SUBSETS))
    layout = metrics.leaderboard_layout(ones)
    assert list(layout.index) == ["pearson_r2", "spearman_rho"]
    assert list(layout.columns) == [*metrics.SUBSETS, "score"]
    assert layout.loc["pearson_r2", "score"] == pytest.approx(0.5)
    assert layout.loc["spearman_rho", "SNVs"] == 1.0


def test_cli_evaluate_checkpoint(tmp_path, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    from camformer.data import dream
    from camformer.models.networks import camformer_mini, save_model

    torch.manual_seed(0)
    torch.set_num_threads(1)
    save_model(camformer_mini(), tmp_path / "model")
    small = dream.load_test_table().iloc[:200]
    monkeypatch.setattr(dream, "test_set_data", lambda table=None: dream.SequenceData(
        codes=dream.encode_sequences(small["seq"]), targets=small["expression"].to_numpy(np.float32),
        ids=small["id"].to_numpy(np.int64), real_valued=np.ones(len(small), dtype=bool)))
    assert main(["evaluate", "--checkpoint", str(tmp_path / "model"), "--output", str(tmp_path / "s.tsv")]) == 0
    out = capsys.readouterr().out
    assert "200 predictions" in out and "covered ids only" in out
    scored = pd.read_csv(tmp_path / "s.tsv", sep="\t", index_col="subset")
    assert scored.loc["all", "n"] == (small["public"] == 0).sum()
    assert main(["evaluate", "--checkpoint", str(tmp_path / "missing")]) == 2


def test_correlations_are_nan_without_warning_for_constant_input():
    import warnings

    from camformer.stats.metrics import pearson_r, spearman_rho

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(pearson_r([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))
        assert np.isnan(spearman_rho([4.0, 4.0], [1.0, 2.0]))
        assert np.isnan(pearson_r([1.0], [2.0]))
    assert pearson_r([1.0, 2.0, 4.0], [2.0, 4.0, 8.0]) == pytest.approx(1.0)
    assert spearman_rho([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_rank_teams_and_place_among_a_small_board():
    from camformer.stats.leaderboard import place_among, rank_teams

    board = pd.DataFrame({"Pearson score": [0.70, 0.75, 0.72, 0.75], "Spearman score": [0.80, 0.78, 0.81, 0.79]},
                         index=["a", "b", "c", "d"])
    ranks = rank_teams(board)
    assert ranks["Pearson score"].to_dict() == {"a": 4, "b": 1, "c": 3, "d": 1}  # b and d tie for first
    assert ranks["Spearman score"].to_dict() == {"a": 2, "b": 4, "c": 1, "d": 3}
    assert place_among(board, {"Pearson score": 0.73, "Spearman score": 0.9}) == {"Pearson score": 3, "Spearman score": 1}
    assert place_among(board, {"Pearson score": 0.75}) == {"Pearson score": 1}  # a tie takes the shared place


def test_leaderboard_board_groups_rows_by_metric():
    from camformer.stats.leaderboard import leaderboard_board

    published = pd.DataFrame({"all": [0.9, 0.8, 0.95, 0.85]},
                             index=pd.MultiIndex.from_tuples([("r²", "t1"), ("r²", "t2"), ("ρ", "t1"), ("ρ", "t2")],
                                                             names=["metric", "team"]))
    mine = pd.DataFrame({"all": [0.5, 0.6]}, index=pd.Index(["r²", "ρ"], name="metric"))
    board = leaderboard_board(published, {"mine": mine})
    assert board.loc["r²"].index.tolist() == ["t1", "t2", "mine"] and board.loc[("ρ", "mine"), "all"] == 0.6


def test_seed_ensemble_facts_by_hand_and_on_the_papers_table():
    table = pd.DataFrame({"num_seeds": [1, 1, 1, 2, 2, 2, 3], "average_score": [0.5, 0.7, 0.9, 0.6, 0.7, 0.8, 0.85]})
    assert seeds.seed_ensemble_facts(table) == pytest.approx(
        {"single_mean": 0.7, "single_sd": 0.2, "single_first": 0.5, "n_seeds": 3, "all_seeds": 0.85})
    with pytest.raises(ValueError, match="num_seeds"):
        seeds.seed_ensemble_facts(table.rename(columns={"num_seeds": "k"}))
    # The paper's claim "test r² 0.914 ± 0.003" is the mean ± s.d. of its 10 single-seed rows.
    facts = seeds.seed_ensemble_facts(load_paper_table("seed_ensemble_O_PearsonR2.csv"))
    assert facts["n_seeds"] == 10
    assert (round(facts["single_mean"], 3), round(facts["single_sd"], 3)) == (0.914, 0.003)
    facts = seeds.seed_ensemble_facts(load_paper_table("seed_ensemble_O_SpearmanR.csv"))
    assert (round(facts["single_mean"], 3), round(facts["single_sd"], 3)) == (0.962, 0.002)  # "ρ 0.962 ± 0.002"


def test_score_facts_are_the_tables_numbers():
    table = pd.DataFrame({"pearson_r2": 1.0, "spearman_rho": 0.5}, index=list(metrics.SUBSET_WEIGHTS))
    table.loc["all"] = [0.9, 0.95]
    facts = metrics.score_facts(table, "model")
    assert facts["model_r2"] == 0.9 and facts["model_rho"] == 0.95
    weights = pd.Series(metrics.SUBSET_WEIGHTS)
    assert facts["model_pearson_score"] == pytest.approx((0.9 * weights["all"] + weights.drop("all").sum()) / weights.sum())
    # (0.95 x 1 + 0.5 x (4.65 - 1)) / 4.65, by hand
    assert facts["model_spearman_score"] == pytest.approx(2.775 / 4.65)


def test_camformers_place_fourth_on_the_published_leaderboard():
    board = leaderboard.load_leaderboard()
    assert set(board.index.get_level_values("metric")) == {"r²", "ρ"}
    assert list(board.columns) == [*metrics.SUBSETS, "score"]
    scores = leaderboard.challenge_scores(board)
    assert scores.loc["autosome.org", "Spearman score"] == pytest.approx(0.85410856382781)
    # The paper's "4th place in the challenge": the Camformers row, ranked by the Spearman score.
    assert leaderboard.rank_teams(scores).loc["Camformers", "Spearman score"] == 4


def test_subset_ids_follow_subset_values():
    table, pairs = _tiny(public_ids=(4, 5), public_pairs=(3,))
    pred = pd.Series(P, index=np.arange(6))
    # the three private pairs (0, 1), (0, 2), (0, 3): each goes by its reference, 0
    np.testing.assert_array_equal(metrics.subset_ids(pred, "SNVs", table, pairs), [0, 0, 0])
    np.testing.assert_array_equal(metrics.subset_ids(pred, "SNVs", table, pairs, private=False), [0, 0, 0, 4])
    np.testing.assert_array_equal(metrics.subset_ids(pred, "low", table, pairs), [3])
    y, _ = metrics.subset_values(pred, "all", table, pairs)
    np.testing.assert_array_equal(Y[metrics.subset_ids(pred, "all", table, pairs)], y)


def test_primary_subset_follows_the_priority():
    table = pd.DataFrame({"id": [5, 6, 7, 8], "subsets": ["SNVs;high", "random;SNVs", None, "motif_tiling"]})
    labels = metrics.primary_subset(table)
    assert labels.to_dict() == {5: "high", 6: "random", 7: "no subset", 8: "motif_tiling"}


def test_agreement_text_names_rows_beyond_the_printed_precision():
    table = pd.DataFrame({"largest |difference|": [1e-6, 4.8e-4, 2e-5]},
                         index=pd.MultiIndex.from_tuples([("O", "all"), ("Mini", "SNVs"), ("O", "low")]))
    text = metrics.agreement_text(table, decimals=4)
    assert "Mini SNVs (4.8e-04)" in text and "O low" not in text and "O all" not in text
    assert metrics.agreement_text(table.iloc[[0, 2]], decimals=4).startswith("Every number agrees")
    assert "O low" in metrics.agreement_text(table, decimals=5)


def test_seed_rank_and_gain_share_by_hand():
    grid = pd.DataFrame({"Model": ["A"] * 4 + ["B"], "Seed": [1, 2, 42, 7, 42], "r2": [0.90, 0.93, 0.92, 0.92, 0.5]})
    assert seeds.seed_rank(grid, "A", 42, "r2") == (2, 4)  # one seed above; the tie with seed 7 shares 2nd
    assert seeds.seed_rank(grid, "A", 2, "r2") == (1, 4)
    with pytest.raises(ValueError, match="no seed 3"):
        seeds.seed_rank(grid, "A", 3, "r2")
    table = pd.DataFrame({"num_seeds": [1, 1, 2, 3], "average_score": [0.90, 0.92, 0.95, 0.96]})
    assert seeds.ensemble_gain_share(table, 2) == pytest.approx((0.95 - 0.91) / (0.96 - 0.91))
    assert seeds.ensemble_gain_share(table, 1) == 0


def test_per_subset_seeds_square_r_but_not_the_scores():
    row = {f"{s}_{k}": 0.5 for s in metrics.SUBSETS[1:] for k in ("pearson", "spearman")}
    grid = pd.DataFrame([{**row, "Model": "M", "Seed": 1, "pearson": 0.9, "spearman": 0.8,
                          "pearsons_score": 0.7, "spearmans_score": 0.6}])
    out = seeds.per_subset_seeds(grid, ["M"]).set_index(["metric", "group"])["value"]
    assert out[("r²", "all")] == pytest.approx(0.81) and out[("r²", "high")] == pytest.approx(0.25)
    assert out[("r²", "score")] == 0.7 and out[("ρ", "score")] == 0.6 and out[("ρ", "all")] == 0.8
    assert len(out) == 2 * len(seeds.SEED_GROUPS)
    with pytest.raises(ValueError, match="no rows of model 'X'"):
        seeds.per_subset_seeds(grid, ["X"])
    plain = seeds.per_subset_seeds(grid, ["M"], squared=False).set_index(["metric", "group"])["value"]
    assert plain[("r", "all")] == 0.9 and plain[("r", "high")] == 0.5 and plain[("r", "score")] == 0.7


def test_seed_means_and_their_records_by_hand():
    row = {f"{s}_{k}": 0.5 for s in metrics.SUBSETS[1:] for k in ("pearson", "spearman")}
    grid = pd.DataFrame([{**row, "Model": m, "Seed": seed, "pearson": r, "spearman": rho,
                          "pearsons_score": 0.7 + seed / 100, "spearmans_score": 0.6}
                         for m, seed, r, rho in (("Orig", 1, 0.9, 0.8), ("Orig", 2, 0.8, 0.9), ("Leg", 1, 1.0, 0.7),
                                                 ("Leg", 2, 0.6, 0.7))])
    values = seeds.per_subset_seeds(grid, ["Leg", "Orig"])
    means = seeds.seed_means(values)
    assert means.index[0] == ("Leg", "r²", "all")  # in order of appearance
    assert means.loc[("Orig", "r²", "all")].tolist() == pytest.approx([(0.81 + 0.64) / 2, (0.81 - 0.64) / 2 ** 0.5, 2])
    assert means.loc[("Leg", "ρ", "all"), "sd"] == 0 and means.loc[("Leg", "r²", "score"), "mean"] == pytest.approx(0.715)
    facts = seeds.seed_mean_facts(values)
    assert facts == pytest.approx({
        "legnet_r2_all_seeds_mean": 0.68, "legnet_pearson_score_seeds_mean": 0.715,
        "legnet_rho_all_seeds_mean": 0.7, "legnet_spearman_score_seeds_mean": 0.6,
        "original_r2_all_seeds_mean": 0.725, "original_pearson_score_seeds_mean": 0.715,
        "original_rho_all_seeds_mean": 0.85, "original_spearman_score_seeds_mean": 0.6})
    assert seeds.seed_mean_facts(seeds.per_subset_seeds(grid, ["Orig"], squared=False), groups=("high",)) == {
        "original_r_high_seeds_mean": 0.5, "original_rho_high_seeds_mean": 0.5}


def test_the_papers_seed_means_of_figure_4_s5_and_s6():
    """The seed means the paper's boxplots draw (Individual_boxplots*.pdf), from its per-seed table."""
    grid = load_paper_table("grid_res_all_models_pvt.csv")
    facts = seeds.seed_mean_facts(seeds.per_subset_seeds(grid, ["Leg", "Orig", "Mini", "Small"]))
    printed = {"original_rho_all_seeds_mean": 0.9611, "original_r2_all_seeds_mean": 0.9121,
               "legnet_rho_all_seeds_mean": 0.9769, "mini_rho_all_seeds_mean": 0.9508,
               "small_rho_all_seeds_mean": 0.9505, "original_spearman_score_seeds_mean": 0.8171,
               "original_pearson_score_seeds_mean": 0.7499}
    assert {k: round(facts[k], 4) for k in printed} == printed


def test_per_subset_seeds_match_the_leaderboards_layout_on_the_papers_table():
    values = seeds.per_subset_seeds(load_paper_table("grid_res_all_models_pvt.csv"), ["Orig"])
    seed42 = values[values["seed"] == 42].set_index(["metric", "group"])["value"]
    pred = load_published_predictions().set_index("id")["original"]
    layout = metrics.leaderboard_layout(metrics.score_predictions(pred)).rename(
        index={"pearson_r2": "r²", "spearman_rho": "ρ"})
    for (metric, group), value in seed42.items():
        assert value == pytest.approx(layout.loc[metric, group], abs=1e-3)  # SNVs are rebuilt, to 5e-4


@pytest.mark.parametrize("shift, words", [(0.05, "A stays ahead of B"), (-0.05, "B stays ahead of A"),
                                          (0.0, "A and B overlap")])
def test_curves_separated_go_both_ways(shift, words):
    sizes = np.repeat([2, 4, 6], 3)
    b = pd.DataFrame({"n": sizes, "r": 0.9 + np.tile([0.0, 0.01, 0.02], 3)})
    a = b.assign(r=b["r"] + shift)
    verdict = seeds.curves_separated(a, b, "n", "r", names=("A", "B"))
    assert verdict.words.startswith(words) and verdict.estimate == pytest.approx(shift)
    assert (verdict.ci_low, verdict.ci_high) == pytest.approx((shift - 0.02, shift + 0.02))
    with pytest.raises(ValueError, match="different values"):
        seeds.curves_separated(a[a["n"] > 2], b, "n", "r")
    words = seeds.curves_separated(a, b, "n", "r", names=("A", "B"), every="in every panel", some="in a panel")
    assert words.words.endswith("in every panel, every seed above every seed" if shift else "overlap in a panel")


def test_ordinals_and_place_words():
    assert [leaderboard.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    ranks = pd.DataFrame({"Spearman score": [4, 2], "Pearson score": [5, 2]}, index=["a", "b"])
    assert leaderboard.place_words(ranks, "a") == "4th by the Spearman score, 5th by the Pearson score"
    assert leaderboard.place_words(ranks, "b") == "2nd by both the Spearman and the Pearson score"


def test_camformers_place_by_both_scores_on_the_published_leaderboard():
    ranks = leaderboard.rank_teams(leaderboard.challenge_scores(leaderboard.load_leaderboard()))
    assert leaderboard.place_words(ranks, "Camformers") == "4th by the Spearman score, 5th by the Pearson score"


def test_range_restriction_words_go_both_ways():
    rng = np.random.default_rng(0)
    wide = rng.normal(scale=1.0, size=400)
    narrow = rng.normal(scale=0.1, size=400)
    noise = rng.normal(scale=0.1, size=400)
    panels = {"all": (wide, wide + noise), "high": (narrow, narrow + noise), "low": (narrow, narrow + noise),
              "random": (wide, wide + noise), "SNVs": (narrow, -narrow)}
    table, text = metrics.range_restriction(panels)
    assert list(table.index) == ["all", "high", "low", "random"]  # pair subsets left out
    assert table.loc["high", "measured s.d."] == pytest.approx(np.std(narrow, ddof=1))
    assert text.startswith("The single subsets with the lowest r², high and low, are also")
    # the lowest r² on wide subsets with a bad model: the other words
    panels |= {"all": (wide, wide + 30 * noise), "random": (wide, wide + 30 * noise)}
    _, text = metrics.range_restriction(panels)
    assert "lowest r² are all and random" in text and "does not explain" in text


def test_model_seed_facts_on_the_papers_table():
    facts = seeds.model_seed_facts(load_paper_table("grid_res_all_models_pvt.csv"), "Orig", "original")
    assert facts["original_n_seeds"] == 10 and 1 <= facts["original_seed42_rank_r2"] <= 10
    # on the private set: r² 0.912 ± 0.003 (the chapter's numbers)
    assert (round(facts["original_r2_seeds_mean"], 3), round(facts["original_r2_seeds_sd"], 3)) == (0.912, 0.003)


def test_panels_separated_counts_each_way():
    rows = []
    for metric, group, a_values, b_values in (("ρ", "all", [0.9, 0.91], [0.8, 0.81]),   # A ahead
                                              ("ρ", "high", [0.5, 0.7], [0.6, 0.65]),   # overlap
                                              ("r²", "all", [0.7, 0.71], [0.8, 0.9])):  # B ahead
        rows += [{"model": "A", "metric": metric, "group": group, "value": v} for v in a_values]
        rows += [{"model": "B", "metric": metric, "group": group, "value": v} for v in b_values]
    table, text = seeds.panels_separated(pd.DataFrame(rows), "A", "B", names=("LegNet", "Original"))
    assert table["ahead"].tolist() == ["LegNet", "neither", "Original"]
    assert table.loc[("ρ", "all"), "low"] == pytest.approx(0.09) and table.loc[("ρ", "all"), "high"] == pytest.approx(0.11)
    assert text == ("Every seed of LegNet lies above every seed of Original in 1 of 3 panels; every seed of "
                    "Original lies above in all (r²); their seeds overlap in high (ρ).")


def test_curve_summary_and_ends_by_hand():
    table = pd.DataFrame({"n": [4, 2, 2, 4, 8, 8], "r": [0.92, 0.90, 0.92, 0.94, 0.95, 0.97]})
    summary = seeds.curve_summary(table, "n", "r")
    assert summary["n"].tolist() == [2, 4, 8] and summary["mean"].tolist() == pytest.approx([0.91, 0.93, 0.96])
    ends = seeds.curve_ends({("complex", "A"): table}, "n", "r")
    row = ends.loc[("complex", "A")]
    assert (row["smallest"], row["at smallest"], row["largest"], row["at largest"]) == (2, "0.910 ± 0.014", 8,
                                                                                       "0.960 ± 0.014")
    assert row["largest s.d."] == pytest.approx(np.std([0.95, 0.97], ddof=1))


def test_all_sequences_facts_are_the_numbers_printed_on_figure_3_and_s3():
    """The paper prints r = 0.958, ρ = 0.964 (Original, scatter_original.pdf) and 0.951, 0.955 (Mini)
    for all 71,103 test sequences; scipy on the same arrays gives the same numbers."""
    from scipy import stats

    published = load_published_predictions().set_index("id")
    preds = {"Original": published["original"], "Mini": published["mini"]}
    facts = metrics.all_sequences_facts(preds)
    y, yhat, _, _ = metrics.all_sequences(preds["Mini"])
    assert len(y) == 71_103
    assert facts["mini_r_all_sequences"] == pytest.approx(stats.pearsonr(y, yhat)[0])
    assert facts["mini_rho_all_sequences"] == pytest.approx(stats.spearmanr(y, yhat)[0])
    assert {k: round(v, 3) for k, v in facts.items()} == {
        "original_r_all_sequences": 0.958, "original_rho_all_sequences": 0.964,
        "mini_r_all_sequences": 0.951, "mini_rho_all_sequences": 0.955}
