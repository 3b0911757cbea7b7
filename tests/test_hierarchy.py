"""Known-answer tests for camformer.hierarchy: the steps of the book's two motif chapters."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer import hierarchy as H
from camformer import motifs as M
from camformer.data import ALPHABET, encode_sequences

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


def test_diagonal_order_and_singles_agreement_by_hand():
    mine = pair_table([("a", "a", 5, 1.0), ("b", "b", 6, 3.0), ("c", "c", 7, 2.0), ("a", "b", 2, 9.0),
                       (M.NONE_LABEL, M.NONE_LABEL, 50, 99.0)])
    reference = pair_table([("a", "a", 50, 10.0), ("b", "b", 60, 30.0), ("c", "c", 70, 40.0)])
    assert H.diagonal_order(mine, "mean") == ["b", "c", "a"]  # the pair and "(none)" are not motifs
    assert H.diagonal_order(reference, "mean", motifs=["a", "b"]) == ["b", "a"]
    table, rho = H.singles_agreement(mine, reference, ["c", "b", "a"], reference_value="mean")
    assert list(table.index) == ["c", "b", "a"]
    assert table.loc["b"].to_dict() == {"n": 6, "mean": 3.0, "n_reference": 60, "mean_reference": 30.0}
    # Ranks mine (c, b, a) = (2, 3, 1), reference = (3, 2, 1): Spearman 1 - 6*(1+1)/(3*8) = 0.5.
    assert rho == pytest.approx(0.5)


def test_pair_rank_agreement_counts_cells_with_enough_sequences():
    mine = pair_table([("a", "a", 20, 1.0), ("b", "b", 20, 2.0), ("a", "b", 3, 5.0)])
    reference = pair_table([("a", "a", 1, 10.0), ("b", "b", 1, 20.0), ("a", "b", 1, 0.0)])
    # With min_n 10 the pair (n = 3) is left out: two diagonal cells, same order -> rho 1.
    assert H.pair_rank_agreement(mine, reference, ["a", "b"], min_n=10, reference_value="mean") == (pytest.approx(1.0), 2)
    # With min_n 1 the pair counts in both off-diagonal cells: mine (1, 2, 5, 5), reference (10, 20, 0, 0).
    rho, cells = H.pair_rank_agreement(mine, reference, ["a", "b"], min_n=1, reference_value="mean")
    expected = pd.Series([1.0, 5, 5, 2]).corr(pd.Series([10.0, 0, 0, 20]), method="spearman")
    assert cells == 4 and rho == pytest.approx(expected)
    rho, cells = H.pair_rank_agreement(mine, reference, ["a", "b"], min_n=100, reference_value="mean")
    assert cells == 0 and math.isnan(rho)


# The groups of test_motifs' hierarchy example: neither mean 1, A only 3, B only 0, both -1.
Y = np.array([0.0, 2.0, 2.0, 3.0, 4.0, -1.0, 1.0, -2.0, -1.0, 0.0])
HAS_A = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1], bool)
HAS_B = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], bool)


def test_predicted_vs_measured_and_signs():
    compared = H.predicted_vs_measured(Y, 2 * Y + 1, HAS_A, HAS_B, names=("A", "B"), n_boot=200, seed=1)
    assert compared.loc["A without B", ("difference", "measured")] == pytest.approx(2.0)
    assert compared.loc["A without B", ("difference", "predicted")] == pytest.approx(4.0)  # 2 * (3 - 1)
    assert compared.loc["A and B", ("n", "predicted")] == 3
    assert H.signs_agree(compared)
    flipped = H.predicted_vs_measured(Y, -Y, HAS_A, HAS_B, names=("A", "B"), n_boot=200)
    assert not H.signs_agree(flipped)
    assert not H.signs_agree(flipped, ["A and B"])


def test_hierarchy_and_model_facts_are_the_tables_numbers():
    hierarchy = M.motif_hierarchy(Y, HAS_A, HAS_B, names=("IME1", "UME6"), n_boot=200,
                                  families=np.arange(len(Y)))
    facts = H.hierarchy_facts(hierarchy, scope="all sequences")
    assert facts == pytest.approx({
        "ime1_effect": 2.0, "ume6_effect": -1.0, "ime1_ume6_effect": -2.0, "ime1_ume6_vs_ime1": -4.0,
        "n_ime1": 3, "n_ume6": 2, "n_ime1_ume6": 3, "n_neither": 2,
        # One family per sequence: the family means are the sequences' values.
        "ime1_effect_families": 2.0, "ime1_ume6_effect_families": -2.0, "n_ime1_ume6_families": 3})
    without_families = H.hierarchy_facts(M.motif_hierarchy(Y, HAS_A, HAS_B, n_boot=200), scope="all sequences")
    assert "ime1_effect_families" not in without_families and without_families["ime1_effect"] == pytest.approx(2.0)

    compared = H.predicted_vs_measured(Y, -Y, HAS_A, HAS_B, n_boot=200)
    assert H.model_facts(compared) == pytest.approx({
        "predicted_ime1_effect": -2.0, "predicted_ime1_ume6_effect": 2.0,
        "measured_heldout_ime1_effect": 2.0, "measured_heldout_ime1_ume6_effect": -2.0,
        "predicted_signs_agree": "False"})


def test_motif_free_backgrounds():
    presence = pd.DataFrame({"a": [0, 1, 0, 0, 0, 0], "b": [0, 0, 1, 0, 0, 0]}, dtype=bool)
    eligible = np.array([1, 1, 1, 1, 0, 1], bool)
    assert H.motif_free_backgrounds(presence, eligible, 10).tolist() == [0, 3, 5]
    chosen = H.motif_free_backgrounds(presence, eligible, 2, seed=3)
    assert len(chosen) == 2 and set(chosen) <= {0, 3, 5} and list(chosen) == sorted(chosen)
    # Row numbers and a mask choose alike.
    assert (H.motif_free_backgrounds(presence, np.array([5, 3, 0, 1]), 2, seed=3) == chosen).all()


class PositionWeights(nn.Module):
    """A linear model: the sum of one weight per (letter, position) of the one-hot input."""

    def __init__(self, length, seed=0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, length, generator=torch.Generator().manual_seed(seed)))

    def forward(self, x):
        return (x[:, :4] * self.weight).sum(dim=(1, 2))


def score(model, text):
    w = model.weight.detach().numpy()
    return sum(w[ALPHABET.index(c), i] for i, c in enumerate(text))


def test_nested_insertion_writes_a_inside_b_at_the_measured_offset():
    model = PositionWeights(40)
    # A starts 4 into B: its CCG is B's last three letters and its T the letter after B, so "A
    # inside B" differs from B alone, and from A written at any other offset.
    motifs = {"M1.A": "CCGT", "M2.B": "ATTACCG"}
    # Measured hits: in two sequences A starts 4 after B on +/+; in one, 1 after on -/-.
    hits = pd.DataFrame({"seq_index": [0, 0, 1, 1, 2, 2], "motif": ["M1.A", "M2.B"] * 3,
                         "start": [14, 10, 24, 20, 6, 5], "end": [18, 17, 28, 27, 10, 12],
                         "strand": ["+", "+", "+", "+", "-", "-"]})
    texts = ["".join(np.random.default_rng(i).choice(list("ACGT"), 40)) for i in range(5)]
    table, configurations = H.nested_insertion(model, encode_sequences(texts, 40), motifs, "M1.A", "M2.B", hits,
                                               position=10, apart=30, encoding="onehot")
    assert configurations.iloc[0].to_dict() == {"offset": 4, "strand_a": "+", "strand_b": "+", "sequences": 2}

    def write(text, site, at):
        return text[:at] + site + text[at + len(site):]

    def change(edit):
        return np.mean([score(model, edit(t)) - score(model, t) for t in texts])

    expected = {
        ("A", "A", "alone"): change(lambda t: write(t, "CCGT", 14)),
        ("B", "B", "alone"): change(lambda t: write(t, "ATTACCG", 10)),
        ("A", "B", "A inside B"): change(lambda t: write(t, "ATTACCGT", 10)),
        ("A", "B", "apart"): change(lambda t: write(write(t, "CCGT", 30), "ATTACCG", 10)),
    }
    got = table.set_index(["motif1", "motif2", "placement"])["mean_change"]
    assert sorted(got.index) == sorted(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-4)
    facts = H.insertion_facts(table, names=("M1.A", "M2.B"))
    assert facts["insertion_a_inside_b"] == pytest.approx(expected[("A", "B", "A inside B")], abs=1e-4)
    assert facts["insertion_a_b_apart"] == pytest.approx(expected[("A", "B", "apart")], abs=1e-4)

    with pytest.raises(ValueError, match="no overlapping forward-strand hits"):
        H.nested_insertion(model, encode_sequences(texts, 40), motifs, "M1.A", "M2.B", hits.iloc[4:],
                           encoding="onehot")


def test_insertion_facts_by_hand():
    columns = ["motif1", "motif2", "placement", "mean_change", "ci_low", "ci_high", "direction"]
    table = pd.DataFrame([("IME1", "IME1", "alone", 0.3, 0.2, 0.4, "raises"),
                          ("UME6", "UME6", "alone", -0.1, -0.2, 0.05, "does not clearly change"),
                          ("IME1", "UME6", "IME1 inside UME6", 0.05, 0.0, 0.1, "does not clearly change"),
                          ("IME1", "UME6", "apart", 0.25, 0.1, 0.3, "raises")], columns=columns)
    assert H.insertion_facts(table) == {
        "insertion_ime1": 0.3, "insertion_ume6": -0.1, "insertion_ime1_inside_ume6": 0.05,
        "insertion_ime1_ume6_apart": 0.25, "insertion_ime1_direction": "raises",
        "insertion_ime1_inside_ume6_direction": "does not clearly change",
        "insertion_ume6_context_lowers_ime1": "True"}  # 0.1 < 0.2: the intervals do not overlap
    table.loc[2, "ci_high"] = 0.25
    assert H.insertion_facts(table)["insertion_ume6_context_lowers_ime1"] == "False"


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
