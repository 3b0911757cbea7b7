"""Similarity of sequences (camformer.data.similarity) and the split that keeps near sequences together
(camformer.data.dream.family_split with groups): known answers and brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from camformer.data import similarity
from camformer.data.dream import encode_sequences, family_split, split_groups, split_summary


def _mutate(rng, seq: np.ndarray, k: int) -> np.ndarray:
    """``seq`` with exactly ``k`` positions substituted (each by a different base)."""
    out = seq.copy()
    where = rng.choice(len(seq), size=k, replace=False)
    out[where] = (out[where] + rng.integers(1, 4, size=k)) % 4
    return out


def _brute_distances(codes: np.ndarray) -> np.ndarray:
    return (codes[:, None, :] != codes[None, :, :]).sum(-1)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Two labelings describe one partition (labels may be numbered differently)."""
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


def test_pack_puts_each_base_in_two_bits_and_refuses_n():
    codes = np.zeros((2, 34), np.uint8)
    codes[0, :4] = [0, 1, 2, 3]  # ACGT, then A (code 0)
    codes[1, 33] = 2  # G at position 33: word 1, bits 2-3
    packed = similarity.pack(codes)
    assert packed.shape == (2, 2) and packed.dtype == np.uint64
    assert packed[0].tolist() == [0 + (1 << 2) + (2 << 4) + (3 << 6), 0]
    assert packed[1].tolist() == [0, 2 << 2]
    assert similarity.pack(encode_sequences(["ACGT"], seq_len=4)).tolist() == [[228]]
    with pytest.raises(ValueError, match=r"codes row 1, position 3: code 4 is not A, C, G or T"):
        similarity.pack(np.array([[0, 1, 2, 3], [0, 1, 2, 4]]))
    with pytest.raises(ValueError, match="must be 2-D"):
        similarity.pack(np.zeros(5, np.uint8))


def test_popcount_table_agrees_with_numpy():
    words = np.random.default_rng(0).integers(0, 2**63, size=(7, 3), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    expected = np.array([[bin(int(w)).count("1") for w in row] for row in words])
    np.testing.assert_array_equal(similarity._popcount_table(words), expected)
    np.testing.assert_array_equal(similarity._popcount(words), expected)


def test_hand_built_sequences_at_distances_4_5_6():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 4, size=80).astype(np.uint8)
    codes = np.stack([base, _mutate(rng, base, 4), _mutate(rng, base, 5), _mutate(rng, base, 6)])
    d = similarity.pair_distances(codes, np.array([[0, 1], [0, 2], [0, 3]]))
    assert d.tolist() == [4, 5, 6]
    near = {tuple(p) for p in similarity.near_pairs(codes, 5).tolist()}
    assert {(0, 1), (0, 2)} <= near and (0, 3) not in near
    assert similarity.near_pairs(codes, 3).tolist() == []  # the mutants lie further apart from each other
    assert similarity.nearest_distances(codes[[0]], codes[1:]).tolist() == [4]
    assert similarity.nearest_distances(codes[[0]], codes[3:]).tolist() == [6]


def test_a_chain_joins_ends_that_are_far_apart():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 4, size=80).astype(np.uint8)
    c = a.copy()
    c[:10] = (c[:10] + 1) % 4  # a and c differ in 10 positions
    b = a.copy()
    b[:5] = c[:5]  # b is 5 from a and 5 from c
    far = _mutate(rng, a, 40)
    codes = np.stack([a, far, c, b])
    assert similarity.pair_distances(codes, np.array([[0, 2], [0, 3], [2, 3]])).tolist() == [10, 5, 5]
    assert similarity.near_pairs(codes, 5).tolist() == [[0, 3], [2, 3]]  # not (a, c) itself
    groups = similarity.similarity_groups(codes, 5)
    assert groups.tolist() == [0, 1, 0, 0]  # a, c, b together; numbered by first member
    assert similarity.similarity_groups(codes, 4).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("length", [80, 45, 33])
def test_near_pairs_groups_and_nearest_agree_with_brute_force(length):
    rng = np.random.default_rng(length)
    seeds = rng.integers(0, 4, size=(60, length)).astype(np.uint8)
    # Mutated copies of a few seeds (and copies of copies) at 0-9 substitutions, plus exact duplicates.
    rows = list(seeds)
    for _ in range(240):
        rows.append(_mutate(rng, rows[rng.integers(len(rows))], int(rng.integers(0, 10))))
    codes = np.stack(rows)
    brute = _brute_distances(codes)
    for d in (0, 2, 5, 7):
        i, j = np.nonzero(np.triu(brute <= d, 1))
        assert similarity.near_pairs(codes, d).tolist() == np.stack([i, j], 1).tolist()
        graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(codes),) * 2)
        assert _same_partition(similarity.similarity_groups(codes, d),
                               connected_components(graph, directed=False)[1])
    # Candidates checked a few at a time (the big-bucket path) give the same pairs.
    np.testing.assert_array_equal(similarity.near_pairs(codes, 5, max_pairs=7), similarity.near_pairs(codes, 5))
    query, reference = codes[:90], codes[90:]
    np.testing.assert_array_equal(similarity.nearest_distances(query, reference, chunk_size=7, reference_chunk=50),
                                  brute[:90, 90:].min(axis=1))
    assert similarity.pair_distances(codes, np.array([[3, 200]])).tolist() == [brute[3, 200]]


def test_bad_arguments_are_refused():
    codes = np.zeros((3, 6), np.uint8)
    with pytest.raises(ValueError, match=r"max_distance must be in 0..5"):
        similarity.near_pairs(codes, 6)
    with pytest.raises(ValueError, match="same L"):
        similarity.nearest_distances(codes, np.zeros((2, 7), np.uint8))
    with pytest.raises(ValueError, match="reference has no rows"):
        similarity.nearest_distances(codes, np.zeros((0, 6), np.uint8))


def test_distance_table_counts_bins():
    table = similarity.distance_table(np.array([6, 7, 10, 11, 45, 60, 6]), edges=(0, 6, 11, 41))
    assert table["substitutions"].tolist() == ["0–5", "6–10", "11–40", "≥ 41"]
    assert table["key"].tolist() == ["0_5", "6_10", "11_40", "41_up"]
    assert table["sequences"].tolist() == [0, 4, 1, 2]
    np.testing.assert_allclose(table["cumulative share"], [0, 4 / 7, 5 / 7, 1])
    assert similarity.distance_table(np.array([3]), edges=(0, 3, 4))["substitutions"].tolist() == ["0–2", "3", "≥ 4"]
    with pytest.raises(ValueError, match="increasing"):
        similarity.distance_table(np.array([1]), edges=(0, 0, 3))


def test_split_groups_join_families_and_similarity_groups():
    ids = np.array([10, 11, 12, 13, 14])
    pairs = pd.DataFrame({"ref_id": [10], "alt_id": [11]})
    units = split_groups(ids, pairs, np.array([0, 1, 1, 2, 3]))  # 11 ~ 12 by similarity
    assert units[0] == units[1] == units[2] and len(set(units.tolist())) == 3
    with pytest.raises(ValueError, match="one label per id"):
        split_groups(ids, pairs, np.array([0, 1]))


def test_family_split_keeps_groups_whole_and_fractions_with_a_giant_unit():
    ids = np.arange(1000, 1100)
    pairs = pd.DataFrame({"ref_id": [1000], "alt_id": [1001]})
    groups = np.arange(100)
    groups[:40] = 0  # one unit of 40 sequences (more than a held-out share of 10)
    groups[40:50] = 1  # and one of 10
    split = family_split(ids, np.zeros(100), pairs, groups=groups, seed=3)
    where = {i: name for name, members in split.items() for i in members.tolist()}
    assert {where[i] for i in ids[:40]} == {"train"} and len({where[i] for i in ids[40:50]}) == 1
    assert {k: len(v) for k, v in split.items()} == {"train": 80, "val": 10, "test": 10}
    again = family_split(ids, np.zeros(100), pairs, groups=groups, seed=3)
    assert all(np.array_equal(split[k], again[k]) for k in split)
    other = family_split(ids, np.zeros(100), pairs, groups=groups, seed=4)
    assert not np.array_equal(split["test"], other["test"])
    summary = split_summary(split, ids, split_groups(ids, pairs, groups))
    assert summary.loc["train", "largest unit"] == 40 and summary["sequences"].sum() == 100
    assert summary.loc["val", "units"] + summary.loc["test", "units"] in (2 + 10, 1 + 10)  # 10-unit + singletons
    with pytest.raises(ValueError, match="three non-negative shares"):
        family_split(ids, np.zeros(100), pairs, (0.5, 0.6, -0.1))


def test_test_library_groups_cover_the_library_and_are_cached():
    from camformer.data.dream import load_test_table

    table = load_test_table()
    assert table["seq"].str[:17].nunique() == table["seq"].str[97:].nunique() == 1  # the flanks are constant
    groups = similarity.test_library_groups()
    assert groups.shape == (len(table),) and groups.min() == 0
    groups[:] = -1  # a copy: the cached labels stay as they were
    assert similarity.test_library_groups().min() == 0


def test_separation_words_follow_the_numbers():
    apart = similarity.separation(np.array([6, 9, 44, 50]))
    assert apart["separated"] and apart["min_distance"] == 6 and apart["n_within"] == 0
    assert apart["words"] == ("no held-out sequence is within 5 substitutions of a training sequence "
                              "(the nearest lies 6 away)")
    near = similarity.separation(np.array([0, 1, 5, 40]))
    assert not near["separated"] and near["n_within"] == 3 and near["min_distance"] == 0
    assert near["words"] == ("3 of the 4 held-out sequences (75.0%) are within 5 substitutions of a "
                             "training sequence, 2 within one")
    assert similarity.separation(np.array([3, 4]), max_distance=2)["separated"]
    with pytest.raises(ValueError, match="non-empty"):
        similarity.separation(np.array([], np.int64))


def test_quick_split_units_match_family_split():
    """The units the book reports are the ones the quick preset's split keeps whole."""
    from camformer.data.dream import load_test_pairs, load_test_table

    table = load_test_table()
    units = similarity.test_library_units()
    assert units.index.equals(pd.Index(table["id"])) and units.max() + 1 == units.nunique()
    split = family_split(table["id"].to_numpy(), None, load_test_pairs(), groups=similarity.test_library_groups())
    where = pd.Series({i: k for k, members in split.items() for i in members.tolist()})
    assert (where.loc[units.index].groupby(units.to_numpy()).nunique() == 1).all()


def test_long_sequences_count_past_255():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, size=(1, 600)).astype(np.uint8)
    b = (a + 1) % 4  # every position differs
    assert similarity.pair_distances(np.concatenate([a, b]), np.array([[0, 1]])).tolist() == [600]
    assert similarity.nearest_distances(a, b).tolist() == [600]


def test_heldout_separation_on_a_hand_built_split():
    """Two training sequences; a validation one 7 substitutions from the nearest, a test one 2."""
    from camformer.data.dream import SequenceData

    rng = np.random.default_rng(11)
    base = rng.integers(0, 4, size=(2, 110)).astype(np.uint8)
    region = np.arange(110)[similarity.VARIABLE_REGION]
    far, near = base[0].copy(), base[1].copy()
    far[region[:7]] = (far[region[:7]] + 1) % 4
    near[region[10:12]] = (near[region[10:12]] + 2) % 4
    near[0] = (near[0] + 1) % 4  # outside the variable region: not counted

    def part(codes, ids):
        n = len(codes)
        return SequenceData(codes=codes, targets=np.zeros(n, np.float32), ids=np.array(ids),
                            real_valued=np.zeros(n, bool))

    splits = {"train": part(base, [0, 1]), "val": part(far[None], [2]), "test": part(near[None], [3])}
    units = pd.Series([0, 0, 1, 2], index=[0, 1, 2, 3])
    result = similarity.heldout_separation(splits, units)
    assert result.distances.tolist() == [7, 2]
    records = result.records()
    assert records["heldout_min_distance"] == 2 and records["heldout_within_5"] == 1
    assert not records["heldout_separated"] and records["n_units"] == 3 and records["largest_unit"] == 2
    assert result.split_table.loc["train", "sequences"] == 2 and result.split_table.loc["test", "share"] == 0.25
    summary = result.unit_summary().iloc[0]
    assert summary["units"] == 3 and summary["single sequences"] == 2 and summary["share of the largest"] == 0.5
    assert "1 of the 2 held-out sequences (50.0%) are within 5 substitutions" in result.sentence()
    assert result.sentence().endswith("the splits hold 50.0%, 25.0% and 25.0% of it.")
    split_html, units_html, bins_html = (table.to_html() for table in result.tables())
    assert "25.0%" in split_html and "50.0%" in units_html and "key" not in bins_html
    assert all('class="dataframe"' in html for html in (split_html, units_html, bins_html))
