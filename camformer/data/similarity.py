"""How alike sequences are: Hamming distances, near pairs and similarity groups (numpy/scipy only).

The book's quick preset trains on the measured DREAM test library, whose sequences come in
families: SNVs, motif perturbations and tilings of shared backgrounds, and designed sequences
that differ from each other in a few positions without being listed as a pair. A held-out set
is only held out if no held-out sequence is a near copy of a training one. This module finds
every pair of sequences within ``max_distance`` substitutions, joins them into groups by single
linkage (the connected components of the "within ``max_distance``" graph), and measures how far
each held-out sequence lies from its nearest training sequence.

Distances count substitutions only (Hamming distance over equal-length codes). On the test
library they are taken over the 80-nt variable region, :data:`VARIABLE_REGION`: the flanks are
the same plasmid sequence in every one of the 71,103 sequences, and no sequence has an N.

Sequences are packed 2 bits per nucleotide into ``uint64`` words (32 nt a word); the number of
differing nucleotides of two packed words is the popcount of their XOR folded onto one bit per
nucleotide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

VARIABLE_REGION = slice(17, 97)
"""Positions 17–96 (0-based) of the 110-nt DREAM sequences: the 80-nt random or designed
region between the constant flanks ``TGCATTTTTTTCACATC`` and ``GGTTACGGCTGTT``."""

HELDOUT_MIN_DISTANCE = 6
"""The quick preset's rule: every held-out sequence differs from every training sequence in at
least this many positions of :data:`VARIABLE_REGION` (groups of :func:`similarity_groups` at
``max_distance = HELDOUT_MIN_DISTANCE - 1``)."""

_NT_PER_WORD = 32
_LOW_BITS = np.uint64(0x5555555555555555)  # the low bit of every 2-bit nucleotide
_ONE = np.uint64(1)
_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each ``uint64`` (any shape), as uint8. Uses ``np.bitwise_count`` (numpy >= 2)
    and a byte table otherwise."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    return _popcount_table(words)


def _popcount_table(words: np.ndarray) -> np.ndarray:
    """:func:`_popcount` by a byte lookup table (the numpy < 2 path)."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(*words.shape, 8)
    return _BYTE_POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)


def pack(codes: np.ndarray) -> np.ndarray:
    """Pack nucleotide codes 2 bits each into ``uint64`` words.

    Parameters
    ----------
    codes : numpy.ndarray
        ``(N, L)`` integer codes, A, C, G, T = 0..3 (``camformer.data.dream.encode_sequences``; N, code
        4, is refused: a distance to an unknown base is not defined).

    Returns
    -------
    numpy.ndarray
        uint64 ``(N, ceil(L / 32))``; position ``p`` is bits ``2 (p mod 32)`` and the next of word
        ``p // 32``. Positions past ``L`` are zero in every row, so they never differ.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be 2-D (sequences, positions), got shape {codes.shape}")
    bad = (codes < 0) | (codes > 3)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"codes row {row}, position {col}: code {codes[row, col]} is not A, C, G or T "
                         "(0-3); distances are defined over A, C, G and T only")
    n, length = codes.shape
    words = -(-length // _NT_PER_WORD)
    padded = np.zeros((n, words * _NT_PER_WORD), dtype=np.uint8)
    padded[:, :length] = codes
    quads = padded.reshape(n, words * 8, 4)  # four nucleotides a byte, the first in the low bits
    as_bytes = quads[..., 0] | (quads[..., 1] << 2) | (quads[..., 2] << 4) | (quads[..., 3] << 6)
    return np.ascontiguousarray(as_bytes).view("<u8").astype(np.uint64)


def _differing(xor: np.ndarray) -> np.ndarray:
    """One bit (the low one) per nucleotide that differs, from the XOR of packed words."""
    return (xor | (xor >> _ONE)) & _LOW_BITS


def _word_pairs_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed rows ``a`` and ``b`` (broadcast over leading axes; the
    last axis is the word). Two words' difference bits share one popcount (their bits interleave)."""
    words = a.shape[-1]
    total = None
    wide = words * _NT_PER_WORD > 255  # sums past 255 need more than uint8
    for w in range(0, words, 2):
        bits = _differing(a[..., w] ^ b[..., w])
        if w + 1 < words:
            bits |= _differing(a[..., w + 1] ^ b[..., w + 1]) << _ONE
        count = _popcount(bits).astype(np.uint16) if wide else _popcount(bits)
        total = count if total is None else total + count
    return total


def pair_distances(codes: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Hamming distance of each pair of rows.

    Parameters
    ----------
    codes : numpy.ndarray
        ``(N, L)`` codes (see :func:`pack`).
    pairs : numpy.ndarray
        ``(M, 2)`` row indices.

    Returns
    -------
    numpy.ndarray
        int64 ``(M,)``.
    """
    packed = pack(codes)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return _word_pairs_distance(packed[pairs[:, 0]], packed[pairs[:, 1]]).astype(np.int64)


def _block_buckets(codes: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by their exact content in columns ``lo:hi``: (rows in bucket order, bucket
    starts, bucket sizes), for buckets of two or more rows."""
    keys = pack(codes[:, lo:hi])  # one word per 32 nt: equal words, equal block
    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    new = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(order)))
    shared = sizes > 1
    return order, starts[shared], sizes[shared]


def _bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, max_pairs: int):
    """Every pair ``(i, j)`` of rows within one bucket, in chunks of at most about ``max_pairs``."""
    for size in np.unique(sizes):
        first = starts[sizes == size]
        per_bucket = int(size) * (int(size) - 1) // 2
        if per_bucket <= max_pairs:
            upper_i, upper_j = np.triu_indices(size, 1)
            step = max(1, max_pairs // per_bucket)
            for s in range(0, len(first), step):
                members = order[first[s:s + step, None] + np.arange(size)]
                yield members[:, upper_i].ravel(), members[:, upper_j].ravel()
        else:  # a big bucket: its rows in chunks against the rest of the bucket
            rows_per_chunk = max(1, max_pairs // size)
            for start in first:
                members = order[start:start + size]
                for r in range(0, size, rows_per_chunk):
                    i, j = np.nonzero(np.arange(r, min(r + rows_per_chunk, size))[:, None] < np.arange(size))
                    yield members[i + r], members[j]


def near_pairs(codes: np.ndarray, max_distance: int = 5, *, max_pairs: int = 1 << 21) -> np.ndarray:
    """Every pair of rows within ``max_distance`` substitutions, found exactly by the pigeonhole rule.

    Cut the ``L`` positions into ``max_distance + 1`` blocks: two rows that differ in at most
    ``max_distance`` positions leave at least one block untouched, so they agree exactly on it.
    Rows that agree on a block are candidates; each candidate's full Hamming distance decides.
    No pair within the distance is missed, and no pair beyond it is kept.

    Parameters
    ----------
    codes : numpy.ndarray
        ``(N, L)`` codes (see :func:`pack`), ``L > max_distance``.
    max_distance : int
        The largest number of differing positions that makes two rows near (0: identical).
    max_pairs : int
        Candidates checked at once (memory: about 40 bytes each).

    Returns
    -------
    numpy.ndarray
        int64 ``(M, 2)``, each pair once with ``i < j``, sorted.
    """
    codes = np.asarray(codes)
    packed = pack(codes)
    n, length = codes.shape
    if not 0 <= max_distance < length:
        raise ValueError(f"max_distance must be in 0..{length - 1} for sequences of {length} positions, "
                         f"got {max_distance}")
    bounds = np.linspace(0, length, max_distance + 2).round().astype(int)
    found = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        for i, j in _bucket_pairs(*_block_buckets(codes, lo, hi), max_pairs):
            keep = _word_pairs_distance(packed[i], packed[j]) <= max_distance
            found.append(np.minimum(i[keep], j[keep]) * n + np.maximum(i[keep], j[keep]))
    keys = np.sort(np.concatenate(found)) if found else np.zeros(0, np.int64)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    return np.stack([keys // n, keys % n], axis=1).astype(np.int64)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` items joined by ``pairs`` ``(M, 2)``: labels ``0..G-1`` ``(n,)``,
    numbered in the order of each component's first item."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[labels[np.sort(first)]] = np.arange(len(first))
    return renumber[labels]


def similarity_groups(codes: np.ndarray, max_distance: int = 5) -> np.ndarray:
    """Single-linkage groups: rows joined whenever they differ in at most ``max_distance`` positions.

    A group is a connected component of the graph of :func:`near_pairs`, so two rows in different
    groups differ in more than ``max_distance`` positions, while two rows of one group may be far
    apart through a chain of near rows (a ~ b ~ c). Splitting by these groups puts every row that
    is near a training row into training: the only split rule under which *no* held-out row is
    within ``max_distance`` of a training row.

    Parameters
    ----------
    codes : numpy.ndarray
        ``(N, L)`` codes (see :func:`pack`); for the DREAM library, its :data:`VARIABLE_REGION`.
    max_distance : int
        Substitutions that still join two rows.

    Returns
    -------
    numpy.ndarray
        int64 ``(N,)`` group labels ``0..G-1``.
    """
    codes = np.asarray(codes)
    return components(len(codes), near_pairs(codes, max_distance))


@lru_cache(maxsize=4)
def _test_library_groups(max_distance: int) -> np.ndarray:
    from .dream import encode_sequences, load_test_table

    labels = similarity_groups(encode_sequences(load_test_table()["seq"])[:, VARIABLE_REGION], max_distance)
    labels.setflags(write=False)
    return labels


def test_library_groups(max_distance: int = HELDOUT_MIN_DISTANCE - 1) -> np.ndarray:
    """:func:`similarity_groups` of the bundled DREAM test library over :data:`VARIABLE_REGION`.

    Aligned with the rows of ``camformer.data.dream.load_test_table()`` (and so with
    ``camformer.data.dream.test_set_data()``); computed once per process (a few seconds), and returned
    as a fresh copy.

    Returns
    -------
    numpy.ndarray
        int64 ``(71103,)``.
    """
    return _test_library_groups(int(max_distance)).copy()


def test_library_units(max_distance: int = HELDOUT_MIN_DISTANCE - 1) -> pd.Series:
    """The units the quick preset's split keeps whole: variant families of the bundled test library
    joined with its :func:`test_library_groups` (``camformer.data.dream.split_groups``).

    Returns
    -------
    pandas.Series
        int64 unit label per sequence, indexed by the test set's ``id`` (71,103 rows).
    """
    from .dream import load_test_pairs, load_test_table, split_groups

    ids = load_test_table()["id"].to_numpy()
    units = split_groups(ids, load_test_pairs(), test_library_groups(max_distance))
    return pd.Series(units, index=pd.Index(ids, name="id"), name="unit")


def nearest_distances(query: np.ndarray, reference: np.ndarray, *, chunk_size: int = 32,
                      reference_chunk: int = 4096) -> np.ndarray:
    """Hamming distance from each query row to its nearest reference row (exact, by brute force).

    Every query row is compared with every reference row on packed words (``Q * R`` comparisons,
    a few XORs and popcounts each), in chunks that stay in the CPU's cache.

    Parameters
    ----------
    query : numpy.ndarray
        ``(Q, L)`` codes (see :func:`pack`).
    reference : numpy.ndarray
        ``(R, L)`` codes, ``R >= 1``.
    chunk_size, reference_chunk : int
        Query and reference rows compared at once.

    Returns
    -------
    numpy.ndarray
        int64 ``(Q,)``: the smallest number of differing positions to any reference row.
    """
    query, reference = np.asarray(query), np.asarray(reference)
    if query.ndim != 2 or reference.ndim != 2 or query.shape[1] != reference.shape[1]:
        raise ValueError(f"query and reference must be (Q, L) and (R, L) with the same L, got "
                         f"{query.shape} and {reference.shape}")
    if len(reference) == 0:
        raise ValueError("reference has no rows: the nearest distance is not defined")
    q, r = pack(query), pack(reference)
    out = np.full(len(q), np.iinfo(np.int64).max, dtype=np.int64)
    for s in range(0, len(q), chunk_size):
        block = q[s:s + chunk_size, None, :]
        for t in range(0, len(r), reference_chunk):
            d = _word_pairs_distance(block, r[None, t:t + reference_chunk, :])
            out[s:s + chunk_size] = np.minimum(out[s:s + chunk_size], d.min(axis=1))
    return out


def distance_table(distances: np.ndarray, edges: tuple[int, ...] = (0, 6, 11, 21, 31, 41)) -> pd.DataFrame:
    """Counts of nearest-neighbour distances in bins, for a page.

    Parameters
    ----------
    distances : numpy.ndarray
        ``(Q,)`` integer distances (from :func:`nearest_distances`).
    edges : tuple of int
        Increasing left edges; bin ``k`` holds ``edges[k] <= d < edges[k + 1]``, the last bin
        ``d >= edges[-1]``.

    Returns
    -------
    DataFrame
        Columns ``substitutions`` (a label: ``"3"``, ``"6–10"``, ``"≥ 41"``), ``key`` (the same as
        a record key: ``"3"``, ``"6_10"``, ``"41_up"``), ``sequences``, ``share`` and
        ``cumulative share``; one row per bin, empty bins included.
    """
    d = np.asarray(distances, dtype=np.int64)
    edges = np.asarray(edges, dtype=np.int64)
    if len(edges) == 0 or (np.diff(edges) <= 0).any():
        raise ValueError(f"edges must be increasing, got {edges.tolist()}")
    if len(d) and d.min() < edges[0]:
        raise ValueError(f"a distance ({d.min()}) lies below the first edge ({edges[0]})")
    counts = np.bincount(np.searchsorted(edges, d, side="right") - 1, minlength=len(edges))
    labels = [str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])]
    labels.append(f"≥ {edges[-1]}")
    keys = [str(lo) if hi - lo == 1 else f"{lo}_{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])]
    keys.append(f"{edges[-1]}_up")
    share = counts / max(len(d), 1)
    return pd.DataFrame({"substitutions": labels, "key": keys, "sequences": counts, "share": share,
                         "cumulative share": np.cumsum(share)})


def separation(distances: np.ndarray, max_distance: int = HELDOUT_MIN_DISTANCE - 1) -> dict:
    """Whether held-out sequences are separated from training, in facts and words.

    Parameters
    ----------
    distances : numpy.ndarray
        ``(Q,)`` distances of each held-out sequence to its nearest training sequence
        (:func:`nearest_distances`), ``Q >= 1``.
    max_distance : int
        A held-out sequence within this many substitutions counts as near a training one.

    Returns
    -------
    dict
        ``n`` (held-out sequences), ``min_distance``, ``median_distance``, ``n_within`` (at most
        ``max_distance`` away), ``separated`` (``n_within == 0``) and ``words``: a sentence
        fragment chosen from them, e.g. "no held-out sequence is within 5 substitutions of a
        training sequence (the nearest lies 6 away)".
    """
    d = np.asarray(distances, dtype=np.int64)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError("distances must be a non-empty 1-D array")
    n_within = int((d <= max_distance).sum())
    facts = {"n": len(d), "min_distance": int(d.min()), "median_distance": float(np.median(d)),
             "n_within": n_within, "separated": n_within == 0}
    if n_within == 0:
        words = (f"no held-out sequence is within {max_distance} substitutions of a training sequence "
                 f"(the nearest lies {facts['min_distance']} away)")
    else:
        words = (f"{n_within:,} of the {len(d):,} held-out sequences ({n_within / len(d):.1%}) are within "
                 f"{max_distance} substitutions of a training sequence, {int((d <= 1).sum()):,} within one")
    return {**facts, "words": words}


@dataclass(frozen=True)
class Separation:
    """How a split of the test library keeps held-out sequences away from training ones.

    Attributes
    ----------
    split_table : DataFrame
        Sequences, share, units and largest unit per split (``camformer.data.dream.split_summary``).
    unit_sizes : Series
        Sequences per unit, largest first.
    distances : numpy.ndarray
        ``(Q,)`` substitutions from each held-out (validation and test) sequence to its nearest
        training sequence over the variable region (:func:`nearest_distances`).
    facts : dict
        :func:`separation` of ``distances``.
    distance_bins : DataFrame
        :func:`distance_table` of ``distances``.
    """

    split_table: pd.DataFrame
    unit_sizes: pd.Series
    distances: np.ndarray
    facts: dict
    distance_bins: pd.DataFrame

    def unit_summary(self) -> pd.DataFrame:
        """One row: how many units, how many single sequences, the largest five and the largest's share."""
        sizes = self.unit_sizes
        return pd.DataFrame({"units": [len(sizes)], "single sequences": [int((sizes == 1).sum())],
                             "largest five": [", ".join(f"{n:,}" for n in sizes.iloc[:5])],
                             "share of the largest": [sizes.iloc[0] / sizes.sum()]})

    def tables(self) -> list:
        """The split, the units and the distance bins as pandas Stylers for a page (shares as
        percentages, no row numbers; Stylers need jinja2, which the book's environment has)."""
        percent = "{:.1%}"
        styled = [self.split_table.style.format({"share": percent}, thousands=","),
                  self.unit_summary().style.hide(axis="index").format({"share of the largest": percent},
                                                                      thousands=","),
                  self.distance_bins.drop(columns="key").style.hide(axis="index")
                  .format({"share": percent, "cumulative share": percent}, thousands=",")]
        # the class pandas gives a DataFrame's own HTML, so the book's theme draws them alike
        return [table.set_table_attributes('class="dataframe"') for table in styled]

    def records(self) -> dict:
        """Record keys of the separation (``camformer.records.report.record``): ints, a bool and the median."""
        return {"heldout_min_distance": self.facts["min_distance"], "heldout_within_5": self.facts["n_within"],
                "heldout_separated": self.facts["separated"],
                "heldout_median_distance": self.facts["median_distance"],
                "n_units": len(self.unit_sizes), "largest_unit": int(self.unit_sizes.iloc[0]),
                **{f"heldout_distance_{key}": int(count)
                   for key, count in zip(self.distance_bins["key"], self.distance_bins["sequences"])}}

    def sentence(self) -> str:
        """The separation in words, for the page."""
        units, shares = self.unit_summary().iloc[0], self.split_table["share"]
        return (f"Over the {self.facts['n']:,} held-out sequences, {self.facts['words']}; half are "
                f"{self.facts['median_distance']:.0f} or more substitutions away. The {units['units']:,} units "
                f"range from single sequences ({units['single sequences']:,} of them) to "
                f"{self.unit_sizes.iloc[0]:,} sequences ({units['share of the largest']:.1%} of the library); "
                f"the splits hold {shares['train']:.1%}, {shares['val']:.1%} and {shares['test']:.1%} of it.")


def heldout_separation(splits: Mapping, units: pd.Series | None = None) -> Separation:
    """The :class:`Separation` of a split of the test library into ``"train"``, ``"val"``, ``"test"``.

    Parameters
    ----------
    splits : mapping of str to camformer.data.dream.SequenceData
        The split (``camformer.training.presets.quick_data``); its codes are ``(N, 110)``.
    units : Series, optional
        Unit label per id (default :func:`test_library_units`).
    """
    from .dream import split_summary

    units = test_library_units() if units is None else units
    split = {name: part.ids for name, part in splits.items()}
    region = {name: part.codes[:, VARIABLE_REGION] for name, part in splits.items()}
    distances = nearest_distances(np.concatenate([region["val"], region["test"]]), region["train"])
    return Separation(split_table=split_summary(split, units.index.to_numpy(), units.to_numpy()),
                      unit_sizes=units.value_counts(), distances=distances, facts=separation(distances),
                      distance_bins=distance_table(distances))


test_library_groups.__test__ = False  # not pytest tests, despite their names
test_library_units.__test__ = False
