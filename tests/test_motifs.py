"""Known-answer tests for camformer.explain.motifs: FIMO scanning, presence and pair means, insertion."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from camformer.explain import motifs as M
from camformer.data.dream import encode_sequences, resource_path
from camformer.models.encoding import encode

torch.set_num_threads(1)

# A made-up 8-nt motif, with some uncertainty at two positions (letter probabilities, A C G T).
TOY = np.array([
    [0.97, 0.01, 0.01, 0.01],  # A
    [0.01, 0.97, 0.01, 0.01],  # C
    [0.01, 0.01, 0.97, 0.01],  # G
    [0.01, 0.01, 0.01, 0.97],  # T
    [0.70, 0.10, 0.10, 0.10],  # A
    [0.01, 0.01, 0.97, 0.01],  # G
    [0.10, 0.70, 0.10, 0.10],  # C
    [0.01, 0.01, 0.01, 0.97],  # T
]).T
TOY_SITE = "ACGTAGCT"


def random_codes(n, length, seed):
    return np.random.default_rng(seed).integers(0, 4, size=(n, length), dtype=np.uint8)


def onehot(codes):
    return encode(torch.as_tensor(codes), "onehot").numpy()


# ---------------------------------------------------------------------------- scanning

def test_consensus_and_reverse_complement():
    assert M.consensus(TOY) == TOY_SITE
    rc = M.reverse_complement_codes(encode_sequences(["ACGTTN"])[:, :6])
    assert "".join("ACGTN"[c] for c in rc[0]) == "NAACGT"


def test_score_pvalues_match_enumeration():
    """The DP p-values equal a brute-force count over all 4**w words (w = 5, uniform and skewed background)."""
    scaled = np.array([[0, 3, 1, 2], [2, 0, 0, 5], [1, 1, 4, 0], [3, 0, 2, 1], [0, 2, 2, 2]]).T
    words = np.array(np.meshgrid(*[range(4)] * 5, indexing="ij")).reshape(5, -1)
    for bg in (M.UNIFORM_BACKGROUND, (0.4, 0.1, 0.2, 0.3)):
        scores = scaled[words, np.arange(5)[:, None]].sum(axis=0)
        weights = np.prod(np.asarray(bg)[words], axis=0)
        pv = M.score_pvalues(scaled, bg)
        for s in range(pv.size):
            assert pv[s] == pytest.approx(weights[scores >= s].sum(), rel=1e-12)


def test_scan_finds_planted_site_on_both_strands():
    codes = random_codes(40, 80, seed=1)
    codes = M.insert_motif(codes, TOY_SITE, 10, "+")
    codes[20:] = M.insert_motif(codes[20:], TOY_SITE, 50, "-")
    for X in (onehot(codes), codes, torch.as_tensor(onehot(codes))):
        hits = M.scan(X, {"toy": TOY}, threshold=1e-4)
        plus = hits[(hits.start == 10) & (hits.strand == "+")]
        minus = hits[(hits.start == 50) & (hits.strand == "-")]
        assert set(plus.seq_index) == set(range(40))
        assert set(minus.seq_index) == set(range(20, 40))
        assert (hits.end - hits.start == 8).all()
        # The consensus is the best word: its p-value is 4**-8 under a uniform-ish background or less.
        assert plus.p_value.max() < 1e-4 and (hits.p_value < 1e-4).all()


def test_scan_shuffled_control_has_no_hits():
    codes = random_codes(40, 80, seed=2)
    planted = M.insert_motif(codes, TOY_SITE, 30)
    rng = np.random.default_rng(3)
    shuffled = np.stack([rng.permutation(row) for row in planted])
    # The planted words are found; shuffling the same letters destroys them (checked: no hit).
    assert len(M.scan(planted, {"toy": TOY})) >= 40
    assert len(M.scan(shuffled, {"toy": TOY})) == 0


def test_scan_threshold_and_n_windows():
    codes = random_codes(200, 80, seed=4)
    loose = M.scan(codes, {"toy": TOY}, threshold=1e-2)
    strict = M.scan(codes, {"toy": TOY}, threshold=1e-3)
    assert len(loose) > len(strict) > 0
    assert (strict.p_value < 1e-3).all() and (loose.p_value < 1e-2).all()
    # Every strict hit is a loose hit with the same p-value.
    key = ["seq_index", "start", "strand"]
    merged = strict.merge(loose, on=key, suffixes=("", "_loose"))
    assert len(merged) == len(strict)
    np.testing.assert_allclose(merged.p_value, merged.p_value_loose)
    # About threshold * windows * strands hits are expected in random sequence (binomial bounds).
    expected = 1e-2 * 200 * 73 * 2
    assert 0.6 * expected < len(loose) < 1.4 * expected
    # A window that holds an N is never scored.
    with_n = M.insert_motif(codes[:5], TOY_SITE, 10)
    with_n[:, 13] = 4
    hits = M.scan(with_n, {"toy": TOY})
    assert not ((hits.start <= 13) & (hits.end > 13)).any()


def test_scan_reproduces_the_papers_fimo_output():
    """Rows of the paper's FIMO 5.5.7 output (analysis/FIMO/AllTestSeqs_IME1_and_UME6/fimo.tsv:
    fimo --thresh 1e-4, JASPAR 2024 IME1/UME6, test sequences without their flanks):
    (test id, motif, 1-based start, strand, score, p-value)."""
    from camformer.data.dream import load_test_table

    paper = [
        (14029, "MA0412.2.UME6", 49, "-", 21.8, 2.07e-09),
        (46160, "MA0412.2.UME6", 10, "-", 17.9714, 5.37e-07),
        (40216, "MA0412.2.UME6", 16, "+", 15.2, 3.94e-06),
        (35288, "MA0320.1.IME1", 58, "-", 15.9143, 8.13e-06),
        (6278, "MA0320.1.IME1", 69, "+", 14.5857, 1.63e-05),
        (20615, "MA0320.1.IME1", 34, "+", 13.9857, 2.44e-05),
        (6555, "MA0412.2.UME6", 51, "+", 11.3857, 3e-05),
        (30570, "MA0412.2.UME6", 54, "-", 9.81429, 6.01e-05),
        (58948, "MA0320.1.IME1", 11, "-", 10.0429, 7.21e-05),
        (24490, "MA0412.2.UME6", 37, "+", 8.82857, 9.04e-05),
    ]
    table = load_test_table()
    ids = sorted({row[0] for row in paper})
    codes = encode_sequences(table.set_index("id").loc[ids, "seq"].tolist())[:, M.RANDOM_REGION]
    motifs = M.jaspar_motifs(ids=["MA0320.1", "MA0412.2"])
    assert set(motifs) == {"MA0320.1.IME1", "MA0412.2.UME6"}
    hits = M.scan(codes, motifs, background=M.FIMO_DNA_BACKGROUND)
    hits["id"] = np.asarray(ids)[hits.seq_index]
    found = hits.set_index(["id", "motif", "start", "strand"])
    for seq_id, motif, start, strand, score, p in paper:
        row = found.loc[(seq_id, motif, start - 1, strand)]
        assert row.score == pytest.approx(score, abs=0.03)
        assert math.log10(row.p_value) == pytest.approx(math.log10(p), abs=0.03)


def test_scan_agrees_with_memelite_under_a_uniform_background():
    memelite = pytest.importorskip("memelite")
    codes = random_codes(300, 80, seed=5)
    codes[::3] = M.insert_motif(codes[::3], TOY_SITE, 20)
    ours = M.scan(codes, {"toy": TOY}, background=M.UNIFORM_BACKGROUND)
    theirs = memelite.fimo({"toy": TOY}, onehot(codes).astype(np.float32), threshold=1e-4)[0]
    key = lambda df, s, st, sd: set(zip(df[s], df[st], df[sd]))  # noqa: E731
    a = key(ours, "seq_index", "start", "strand")
    b = key(theirs, "sequence_name", "start", "strand")
    # Same algorithm, different score discretisation: the hit sets may differ only at the threshold.
    assert len(a & b) >= 0.95 * max(len(a), len(b)) and len(a) >= 100
    merged = ours.merge(theirs, left_on=["seq_index", "start", "strand"],
                        right_on=["sequence_name", "start", "strand"])
    np.testing.assert_allclose(np.log10(merged.p_value), np.log10(merged["p-value"]), atol=0.1)


def test_jaspar_motifs_offline():
    motifs = M.jaspar_motifs()
    assert len(motifs) > 150
    ime1 = motifs["MA0320.1.IME1"]
    assert ime1.shape == (4, 8)
    np.testing.assert_allclose(ime1.sum(axis=0), 1.0)
    assert M.consensus(ime1) == "CCGCCGAG"
    paper = pd.read_csv(resource_path("paper/combinations.train.fc.txt"), sep="\t")
    assert set(paper.Motif1) <= set(motifs)


# ---------------------------------------------------------------------------- presence, pair means

def test_presence_and_pair_effects_hand_computed():
    hits = pd.DataFrame({
        "seq_index": [0, 1, 1, 2, 3, 3, 3], "motif": ["a", "a", "b", "b", "a", "a", "c"],
        "start": 0, "end": 1, "strand": "+", "score": 1.0, "p_value": 1e-5})
    presence = M.presence_matrix(hits, 6, ["a", "b"])
    expected = np.array([[1, 0], [1, 1], [0, 1], [1, 0], [0, 0], [0, 0]], dtype=bool)
    np.testing.assert_array_equal(presence.to_numpy(), expected)
    y = np.array([1.0, 2.0, 3.0, 5.0, 7.0, 9.0])
    effects = M.pair_effects(presence, y).set_index(["motif1", "motif2"])
    # a: rows 0,1,3 -> 1,2,5; b: rows 1,2 -> 2,3; a&b: row 1 -> 2; neither: rows 4,5 -> 7,9.
    assert effects.loc[("a", "a"), "n"] == 3 and effects.loc[("a", "a"), "mean"] == pytest.approx(8 / 3)
    assert effects.loc[("a", "a"), "sd"] == pytest.approx(np.std([1, 2, 5], ddof=1))
    assert effects.loc[("b", "b"), "mean"] == pytest.approx(2.5)
    assert effects.loc[("a", "b"), "n"] == 1 and effects.loc[("a", "b"), "mean"] == 2.0
    assert math.isnan(effects.loc[("a", "b"), "sd"])
    assert effects.loc[(M.NONE_LABEL, M.NONE_LABEL), "mean"] == 8.0
    matrix = M.pair_matrix(effects.reset_index())
    assert matrix.loc["b", "a"] == matrix.loc["a", "b"] == 2.0 and matrix.loc["a", "a"] == pytest.approx(8 / 3)


def test_presence_without_hits():
    empty = M.scan(np.zeros((3, 5), np.uint8), {"toy": TOY})  # sequences shorter than the motif
    assert empty.empty
    presence = M.presence_matrix(empty, 3, ["toy"])
    assert presence.shape == (3, 1) and not presence.to_numpy().any()


def test_pair_masks_by_hand():
    presence = pd.DataFrame({"a": [1, 1, 0, 1], "b": [0, 1, 1, 1], "c": [0, 0, 1, 1]}, dtype=bool)
    cells, masks = M.pair_masks(presence, ["c", "a", "b"])
    assert cells == [("c", "c"), ("a", "a"), ("b", "b"), ("c", "a"), ("c", "b"), ("a", "b")]
    np.testing.assert_array_equal(masks.T, [[0, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1],
                                            [0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 0, 1]])
    # One motif: no pairs, and the masks are its presence.
    cells, masks = M.pair_masks(presence, ["a"])
    assert cells == [("a", "a")] and masks.shape == (4, 1)


# ---------------------------------------------------------------------------- insertion

def test_insert_motif_known_answer():
    codes = np.zeros((2, 12), dtype=np.uint8)  # all A
    out = M.insert_motif(codes, "CCGA", 3)
    assert "".join("ACGTN"[c] for c in out[0]) == "AAACCGAAAAAA"
    out = M.insert_motif(codes, "CCGA", 8, strand="-")
    assert "".join("ACGTN"[c] for c in out[1]) == "AAAAAAAATCGG"
    assert (codes == 0).all()  # the input is not modified
    oh = M.insert_motif(torch.as_tensor(onehot(codes)), TOY, 2)
    assert M.consensus(oh[0, :, 2:10].numpy()) == TOY_SITE and oh.shape == (2, 4, 12)
    with pytest.raises(ValueError, match="does not fit"):
        M.insert_motif(codes, "CCGA", 10)


def test_insert_motifs_writes_in_order():
    codes = np.zeros((1, 12), dtype=np.uint8)  # all A
    # The second motif is written over the first where they overlap.
    out = M.insert_motifs(codes, {"x": "CCCC", "y": "GG"}, {"x": 2, "y": 4})
    assert "".join("ACGTN"[c] for c in out[0]) == "AACCGGAAAAAA"
    out = M.insert_motifs(codes, {"x": "CCCC", "y": "GG"}, {"y": 4, "x": 2})
    assert "".join("ACGTN"[c] for c in out[0]) == "AACCCCAAAAAA"
    assert (codes == 0).all()


def test_ism_on_a_trained_model_recovers_the_planted_motif():
    """Simulated data: expression = 1 if the motif is planted (at a random place), else 0."""
    from camformer.explain.ism import ism

    torch.manual_seed(0)
    n, length = 1200, 40
    codes = random_codes(n, length, seed=7)
    rng = np.random.default_rng(8)
    label = rng.random(n) < 0.5
    for i in np.flatnonzero(label):
        codes[i] = M.insert_motif(codes[i:i + 1], TOY_SITE, int(rng.integers(0, length - 8)))[0]
    x = encode(torch.as_tensor(codes), "onehot")
    y = torch.as_tensor(label, dtype=torch.float32)
    model = nn.Sequential(nn.Conv1d(4, 8, 8), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(25):
        for i in range(0, n, 200):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[i:i + 200]).squeeze(1), y[i:i + 200])
            loss.backward()
            opt.step()
    # A test sequence with the motif at 16..23: ISM's largest effects lie on it.
    probe = M.insert_motif(random_codes(1, length, seed=9), TOY_SITE, 16)
    delta = ism(model, encode(torch.as_tensor(probe), "onehot"), positions=None, device="cpu")
    importance = delta[0].abs().max(dim=0).values.numpy()
    top = np.argsort(importance)[::-1][:6]
    assert set(top) <= set(range(16, 24))


def test_overlapping_hits():
    hits = pd.DataFrame({"seq_index": [0, 0, 1, 1, 2], "motif": ["a", "b", "a", "b", "a"],
                         "start": [5, 10, 5, 13, 0], "end": [13, 20, 13, 20, 8]})
    # seq 0: a 5..12 and b 10..19 overlap; seq 1: a ends where b starts (no overlap); seq 2: no b.
    np.testing.assert_array_equal(M.overlapping_hits(hits, "a", "b", 4), [True, False, False, False])


def test_overlap_configurations_by_hand():
    hits = pd.DataFrame({"seq_index": [0, 0, 1, 1, 2, 2, 2], "motif": ["a", "b", "a", "b", "a", "b", "b"],
                         "start": [10, 5, 7, 2, 0, 20, 30], "end": [18, 17, 15, 14, 8, 32, 42],
                         "strand": ["+", "+", "+", "+", "-", "-", "-"]})
    # seq 0 and 1: a starts 5 after b on +/+; seq 2: no overlap.
    table = M.overlap_configurations(hits, "a", "b")
    assert table.to_dict("records") == [{"offset": 5, "strand_a": "+", "strand_b": "+", "sequences": 2}]


def test_motif_counts():
    hits = pd.DataFrame({"seq_index": [0, 0, 2], "motif": ["a", "a", "b"]})
    presence = pd.DataFrame({"a": [True, False, False], "b": [False, False, True]})
    motifs = {"a": onehot(np.array([[0, 1]], dtype=np.uint8))[0], "b": onehot(np.array([[2, 3]], dtype=np.uint8))[0]}
    table = M.motif_counts(hits, presence, motifs)
    assert table.to_dict("list") == {"motif": ["a", "b"], "consensus": ["AC", "GT"], "hits": [2, 1], "sequences": [1, 1]}
