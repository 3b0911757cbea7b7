"""Transcription-factor motifs: JASPAR 2024 matrices, FIMO scanning, insertion, pair means.

Motifs are ``dict[str, np.ndarray]`` of letter probabilities, shape ``(4, w)`` with rows
A, C, G, T, named ``"<matrix id>.<TF name>"`` (``"MA0320.1.IME1"``), the names FIMO prints
as ``motif_alt_id`` and the paper uses in ``combinations.train.fc.txt``.

:func:`scan` is FIMO (MEME suite 5.5) as the paper ran it (``fimo --thresh 1e-4``, default
options): log2-odds against MEME's default background (non-redundant database letter
frequencies, averaged over complementary letters), FIMO's motif pseudocount 0.1, the matrix
scaled to integers (range 1000) and exact p-values from the score distribution of that
integer matrix under the background, computed by dynamic programming; both strands. It
reproduces the paper's FIMO output on the DREAM test set: on its 80-nt random regions,
all 1,652 IME1 (MA0320.1) hits and 7,284 UME6 (MA0412.1-3) hits, plus 3 hits at p = 1e-4
that FIMO's rounding left out (``tests/test_motifs.py`` checks rows of it).
``memelite.fimo`` implements the same algorithm but fixes the background to uniform, so
it finds fewer hits than the paper's runs; :func:`scan` with a uniform ``background``
agrees with it.

Sequences are one-hot ``(N, 4, L)`` (numpy or torch; an all-zero column is an N, and no
window containing one is scored) or ``uint8`` codes ``(N, L)`` (A, C, G, T, N = 0..4, as in
:mod:`camformer.data.dream`). Positions are 0-based; a hit's ``end`` is exclusive.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from camformer.data.dream import ALPHABET, N_CODE

# MEME's default background (the non-redundant database, MEME ``--nrdb--``), order A, C, G,
# T, and what FIMO uses when no ``--bfile`` is given (the paper's runs had none): the same,
# averaged over complementary letters because both strands are scanned. The averaged one
# reproduces the paper's FIMO scores and p-values; the plain one does not.
NRDB_BACKGROUND: tuple[float, float, float, float] = (0.281774, 0.222020, 0.228876, 0.267330)
FIMO_DNA_BACKGROUND: tuple[float, float, float, float] = (0.274552, 0.225448, 0.225448, 0.274552)
UNIFORM_BACKGROUND: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)
# FIMO's --motif-pseudo default, and the range of its integer score matrix (PSSM_RANGE).
FIMO_PSEUDOCOUNT = 0.1
_PSSM_RANGE = 1000
# The paper scanned the 80-nt random region: the test sequences without the 17-nt 5' and
# 13-nt 3' plasmid flanks (analysis/FIMO, "MEME_FIMO_NOFLANKING").
RANDOM_REGION = slice(17, 97)
_COMPLEMENT = np.array([3, 2, 1, 0, N_CODE], dtype=np.uint8)

HIT_COLUMNS = ["seq_index", "motif", "start", "end", "strand", "score", "p_value"]


# ---------------------------------------------------------------------------- motifs

def jaspar_motifs(
    release: str = "JASPAR2024",
    tax_group: str | list[str] = "fungi",
    collection: str = "CORE",
    *,
    ids: list[str] | None = None,
    pseudocount: float = FIMO_PSEUDOCOUNT,
    background: tuple[float, ...] = FIMO_DNA_BACKGROUND,
) -> dict[str, np.ndarray]:
    """JASPAR motifs as letter probabilities, read offline from pyjaspar's bundled database.

    Parameters
    ----------
    release, tax_group, collection : str
        JASPAR release, taxonomic group(s) and collection (the latest version of each matrix).
    ids : list of str, optional
        Fetch exactly these matrices instead (``"MA0320.1"`` or ``"MA0320.1.IME1"``; any version).
    pseudocount : float
        FIMO's ``--motif-pseudo``: each column becomes ``(counts + pseudocount * background) /
        (n_sites + pseudocount)``, with ``n_sites`` the first column's total, as in JASPAR's
        MEME-format files. 0 gives the plain column frequencies.
    background : 4 floats (A, C, G, T)

    Returns
    -------
    dict
        ``"ID.version.NAME" -> np.ndarray (4, w)`` float64, columns summing to 1.
    """
    from pyjaspar import jaspardb

    db = jaspardb(release=release)
    if ids is not None:
        found = [db.fetch_motif_by_id(".".join(i.split(".")[:2])) for i in ids]
    else:
        groups = [tax_group] if isinstance(tax_group, str) else list(tax_group)
        found = db.fetch_motifs(collection=collection, tax_group=groups)
    bg = np.asarray(background, dtype=np.float64)[:, None]
    motifs = {}
    for m in found:
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64)
        freqs = counts / counts.sum(axis=0, keepdims=True)
        n_sites = counts[:, 0].sum()
        motifs[f"{m.matrix_id}.{m.name}"] = (freqs * n_sites + pseudocount * bg) / (n_sites + pseudocount)
    return motifs


def consensus(pwm: np.ndarray) -> str:
    """The most probable letter at each position of a ``(4, w)`` matrix (ties: first of A, C, G, T)."""
    return "".join(ALPHABET[i] for i in np.argmax(np.asarray(pwm), axis=0))


def reverse_complement_codes(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of uint8 codes ``(..., L)`` (N stays N)."""
    return _COMPLEMENT[np.asarray(codes)[..., ::-1]]


# ---------------------------------------------------------------------------- scanning

def _as_codes(X) -> np.ndarray:
    """uint8 codes ``(N, L)`` from one-hot ``(N, 4, L)`` or codes ``(N, L)``, numpy or torch."""
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.ndim == 2:
        return X.astype(np.uint8, copy=False)
    if X.ndim != 3 or X.shape[1] < 4:
        raise ValueError(f"expected one-hot (N, 4, L) or codes (N, L), got shape {X.shape}")
    onehot = X[:, :4, :]
    codes = np.argmax(onehot, axis=1).astype(np.uint8)
    codes[onehot.max(axis=1) <= 0] = N_CODE
    return codes


def fimo_pssm(pwm: np.ndarray, background=FIMO_DNA_BACKGROUND) -> tuple[np.ndarray, float, float]:
    """FIMO's integer score matrix of a motif.

    Log2-odds ``log2(p / background)`` are scaled as MEME's ``scale_pssm`` does:
    ``round((x - offset) * scale)`` with ``offset`` the smallest entry and
    ``scale = 1000 / (largest - smallest)``.

    Returns
    -------
    scaled : np.ndarray, int64, shape (4, w)
    scale, offset : float
        A window's integer score ``s`` is ``s / scale + w * offset`` bits.
    """
    pwm = np.asarray(pwm, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)[:, None]
    log_odds = np.log2(np.maximum(pwm, 1e-300) / bg)
    small, large = log_odds.min(), log_odds.max()
    scale = _PSSM_RANGE / (large - small) if large > small else 1.0
    scaled = np.floor((log_odds - small) * scale + 0.5).astype(np.int64)
    return scaled, float(scale), float(small)


def score_pvalues(scaled: np.ndarray, background=FIMO_DNA_BACKGROUND) -> np.ndarray:
    """Exact p-values of every integer score of a scaled matrix, by dynamic programming.

    Parameters
    ----------
    scaled : np.ndarray, int, shape (4, w), entries >= 0
    background : 4 floats (A, C, G, T): the letter probabilities of a random window

    Returns
    -------
    np.ndarray, float64, shape (max_score + 1,)
        ``pv[s]`` = P(score >= s) for a window drawn from the background.
    """
    bg = np.asarray(background, dtype=np.float64)
    dist = np.ones(1)
    for col in np.asarray(scaled).T:
        new = np.zeros(len(dist) + int(col.max()))
        for letter, s in enumerate(col):
            new[s:s + len(dist)] += bg[letter] * dist
        dist = new
    return np.cumsum(dist[::-1])[::-1]


def _window_scores(codes: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Integer scores of every window ``(N, L - w + 1)``; -1 where the window has an N."""
    w = scaled.shape[1]
    n_win = codes.shape[1] - w + 1
    # int32 halves the memory traffic; scores are at most w * 1000 and the N sentinel sum
    # stays above -2**31 for motifs up to 2,000 columns.
    table = np.zeros((w, 5), dtype=np.int32)
    table[:, :4] = scaled.T
    table[:, 4] = -(10 ** 6)  # far below any score: an N rules the window out
    scores = np.zeros((codes.shape[0], n_win), dtype=np.int32)
    for j in range(w):
        scores += table[j][codes[:, j:j + n_win]]
    return np.maximum(scores, -1)


def scan(
    X,
    motifs: dict[str, np.ndarray],
    threshold: float = 1e-4,
    *,
    background=FIMO_DNA_BACKGROUND,
    both_strands: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Find motif occurrences with FIMO's scores and p-values (hits with p-value < threshold).

    Parameters
    ----------
    X : one-hot ``(N, 4, L)`` or uint8 codes ``(N, L)``, numpy or torch
    motifs : dict name -> letter probabilities ``(4, w)``
    threshold : float
        Report windows whose p-value is below this (FIMO ``--thresh``).
    background : 4 floats (A, C, G, T)
        For the log-odds and the p-values. Default: MEME's, as the paper's FIMO runs.
    both_strands : bool
        Also scan the reverse complement (reported with strand ``"-"`` at the same
        forward-strand coordinates, as FIMO does).
    progress : bool
        tqdm bar over the motifs.

    Returns
    -------
    pd.DataFrame
        Columns ``seq_index`` (row of X), ``motif``, ``start`` (0-based), ``end``
        (exclusive), ``strand``, ``score`` (bits, FIMO's), ``p_value``; sorted by motif,
        sequence, start, strand.
    """
    from tqdm import tqdm

    codes = _as_codes(X)
    frames = []
    for name, pwm in tqdm(motifs.items(), desc="scan", disable=not progress):
        pwm = np.asarray(pwm, dtype=np.float64)
        w = pwm.shape[1]
        if w > codes.shape[1]:
            continue
        strands = [("+", pwm)] + ([("-", pwm[::-1, ::-1])] if both_strands else [])
        for strand, matrix in strands:
            scaled, scale, offset = fimo_pssm(matrix, background)
            pv = score_pvalues(scaled, background)
            passing = np.flatnonzero(pv < threshold)
            if len(passing) == 0:
                continue
            scores = _window_scores(codes, scaled)
            seq_index, start = np.nonzero(scores >= passing[0])
            s = scores[seq_index, start]
            frames.append(pd.DataFrame({
                "seq_index": seq_index, "motif": name, "start": start, "end": start + w,
                "strand": strand, "score": s / scale + w * offset, "p_value": pv[s],
            }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            HIT_COLUMNS, ["int64", "str", "int64", "int64", "str", "float64", "float64"])})
    hits = pd.concat(frames, ignore_index=True)
    return hits.sort_values(["motif", "seq_index", "start", "strand"], ignore_index=True)[HIT_COLUMNS]


def presence_matrix(hits: pd.DataFrame, n_seqs: int, motifs) -> pd.DataFrame:
    """Which sequence contains which motif (at least one hit, either strand).

    Parameters
    ----------
    hits : DataFrame from :func:`scan`
    n_seqs : int
        Number of scanned sequences N (rows 0..N-1).
    motifs : iterable of motif names (the columns, in this order)

    Returns
    -------
    pd.DataFrame, bool, shape (N, n_motifs)
    """
    names = list(motifs)
    presence = np.zeros((n_seqs, len(names)), dtype=bool)
    column = {name: i for i, name in enumerate(names)}
    known = hits[hits["motif"].isin(column)]
    presence[known["seq_index"].to_numpy(np.int64), known["motif"].map(column).to_numpy(np.int64)] = True
    return pd.DataFrame(presence, columns=names)


def overlapping_hits(hits: pd.DataFrame, motif_a: str, motif_b: str, n_seqs: int) -> np.ndarray:
    """Which sequences have a hit of ``motif_a`` that overlaps a hit of ``motif_b`` (any strands).

    Returns
    -------
    np.ndarray, bool, shape (N,)
    """
    a = hits.loc[hits["motif"] == motif_a, ["seq_index", "start", "end"]]
    b = hits.loc[hits["motif"] == motif_b, ["seq_index", "start", "end"]]
    pairs = a.merge(b, on="seq_index", suffixes=("_a", "_b"))
    touching = (pairs["start_a"] < pairs["end_b"]) & (pairs["start_b"] < pairs["end_a"])
    out = np.zeros(n_seqs, dtype=bool)
    out[pairs.loc[touching, "seq_index"].to_numpy()] = True
    return out


def motif_counts(hits: pd.DataFrame, presence: pd.DataFrame, motifs: dict) -> pd.DataFrame:
    """One row per motif: ``motif, consensus, hits`` (all hits, both strands) and ``sequences``
    (sequences with at least one hit), in the order of ``motifs`` (name -> ``(4, w)`` matrix)."""
    names = list(motifs)
    return pd.DataFrame({
        "motif": names, "consensus": [consensus(motifs[n]) for n in names],
        "hits": hits["motif"].value_counts().reindex(names, fill_value=0).to_numpy(),
        "sequences": presence[names].sum().to_numpy(),
    })


def overlap_configurations(hits: pd.DataFrame, motif_a: str, motif_b: str) -> pd.DataFrame:
    """How overlapping hits of two motifs sit on each other: one row per (offset, strands).

    ``offset`` is ``start_a - start_b`` (0-based, forward-strand coordinates). Each sequence
    counts once per configuration.

    Returns
    -------
    pandas.DataFrame with columns ``offset, strand_a, strand_b, sequences``, most common first
    """
    a = hits.loc[hits["motif"] == motif_a, ["seq_index", "start", "end", "strand"]]
    b = hits.loc[hits["motif"] == motif_b, ["seq_index", "start", "end", "strand"]]
    pairs = a.merge(b, on="seq_index", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["start_a"] < pairs["end_b"]) & (pairs["start_b"] < pairs["end_a"])]
    pairs = pairs.assign(offset=pairs["start_a"] - pairs["start_b"]).drop_duplicates(
        ["seq_index", "offset", "strand_a", "strand_b"])
    counts = pairs.groupby(["offset", "strand_a", "strand_b"]).size().rename("sequences").reset_index()
    return counts.sort_values("sequences", ascending=False, ignore_index=True)


# ---------------------------------------------------------------------------- effects

NONE_LABEL = "(none)"


def pair_masks(presence: pd.DataFrame, motifs=None) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Which sequences contain each motif, and each unordered pair of motifs.

    Parameters
    ----------
    presence : bool DataFrame (N, n_motifs) from :func:`presence_matrix`
    motifs : list of names, optional (default: all columns)

    Returns
    -------
    (cells, masks)
        ``cells``: ``(motif, motif)`` for each motif, then ``(motif_i, motif_j)`` for each pair
        ``i < j`` in the order of ``motifs``; ``masks``: bool ``(N, len(cells))``.
    """
    motifs = list(presence.columns) if motifs is None else list(motifs)
    P = presence[motifs].to_numpy(dtype=bool)
    pairs = list(itertools.combinations(range(len(motifs)), 2))
    cells = [(m, m) for m in motifs] + [(motifs[i], motifs[j]) for i, j in pairs]
    both = np.array([P[:, i] & P[:, j] for i, j in pairs], dtype=bool).reshape(len(pairs), len(P))
    return cells, np.concatenate([P, both.T], axis=1)


def pair_effects(presence: pd.DataFrame, expression, motifs=None) -> pd.DataFrame:
    """Mean expression of the sequences containing each motif, each pair, and none of them.

    A sequence "contains" a motif if it has at least one hit; for a pair, at least one hit of
    each (other motifs may be present too), as in the paper's ``combinations.train.fc.txt``.

    Parameters
    ----------
    presence : bool DataFrame (N, n_motifs) from :func:`presence_matrix`
    expression : array (N,): measured (or predicted) expression
    motifs : list of names, optional (default: all columns)

    Returns
    -------
    pd.DataFrame
        Columns ``motif1, motif2, n, mean, sd`` (sd with ddof=1; NaN for n < 2): one row per
        motif with ``motif1 == motif2``, one per unordered pair (in the order of ``motifs``;
        :func:`pair_masks`), and a last row ``("(none)", "(none)")`` for the sequences with none
        of the motifs.
    """
    motifs = list(presence.columns) if motifs is None else list(motifs)
    y = np.asarray(expression, dtype=np.float64)
    cells, masks = pair_masks(presence, motifs)
    cells = cells + [(NONE_LABEL, NONE_LABEL)]
    masks = np.concatenate([masks, ~presence[motifs].to_numpy(dtype=bool).any(axis=1)[:, None]], axis=1)
    rows = []
    for (a, b), mask in zip(cells, masks.T):
        n = int(mask.sum())
        sd = float(y[mask].std(ddof=1)) if n >= 2 else math.nan
        rows.append((a, b, n, float(y[mask].mean()) if n else math.nan, sd))
    return pd.DataFrame(rows, columns=["motif1", "motif2", "n", "mean", "sd"])


def pair_matrix(effects: pd.DataFrame, value: str = "mean", motifs=None) -> pd.DataFrame:
    """A symmetric ``(n_motifs, n_motifs)`` table of one column of :func:`pair_effects` (or
    of the paper's ``combinations.train.fc.txt`` renamed to the same columns); the diagonal
    holds the single motifs. Missing pairs are NaN."""
    table = effects[effects["motif1"] != NONE_LABEL]
    motifs = list(dict.fromkeys(table["motif1"])) if motifs is None else list(motifs)
    out = pd.DataFrame(np.nan, index=motifs, columns=motifs)
    for a, b, v in zip(table["motif1"], table["motif2"], table[value]):
        if a in out.index and b in out.columns:
            out.loc[a, b] = v
            out.loc[b, a] = v
    return out


# ---------------------------------------------------------------------------- insertion

def _motif_codes(motif) -> np.ndarray:
    """uint8 codes ``(w,)`` of a motif given as a string or as a ``(4, w)`` matrix (its consensus)."""
    if isinstance(motif, str):
        text = motif.upper()
    else:
        text = consensus(motif)
    bad = set(text) - set(ALPHABET)
    if bad:
        raise ValueError(f"motif {motif!r} has letters outside {ALPHABET}: {sorted(bad)}")
    return np.array([ALPHABET.index(c) for c in text], dtype=np.uint8)


def insert_motif(X, motif, position: int, strand: str = "+"):
    """Write a motif into every sequence at a position (a copy; X is unchanged).

    Parameters
    ----------
    X : uint8 codes ``(N, L)`` or one-hot ``(N, C, L)`` (numpy or torch; the first four
        channels are A, C, G, T and only they are rewritten)
    motif : str (e.g. ``"CCGCCGAG"``) or letter probabilities ``(4, w)`` (its consensus is used)
    position : int
        0-based start of the motif on the forward strand; it covers ``position .. position + w - 1``.
    strand : ``"+"`` or ``"-"`` (the reverse complement is written at the same place)

    Returns
    -------
    Same type and shape as X.
    """
    site = _motif_codes(motif)
    if strand == "-":
        site = reverse_complement_codes(site)
    elif strand != "+":
        raise ValueError(f"strand must be '+' or '-', got {strand!r}")
    L = X.shape[-1]
    w = len(site)
    if position < 0 or position + w > L:
        raise ValueError(f"a motif of width {w} at position {position} does not fit in length {L}")
    is_torch = hasattr(X, "detach")
    out = X.clone() if is_torch else np.array(X, copy=True)
    if out.ndim == 2:
        if is_torch:
            import torch
            site = torch.as_tensor(site, device=out.device, dtype=out.dtype)
        out[:, position:position + w] = site
        return out
    onehot = np.zeros((4, w), dtype=np.float32)
    onehot[site, np.arange(w)] = 1.0
    if is_torch:
        import torch
        onehot = torch.as_tensor(onehot, device=out.device, dtype=out.dtype)
    out[:, :4, position:position + w] = onehot
    return out


def insert_motifs(X, motifs: dict, positions: dict[str, int], strand: str = "+"):
    """Write several motifs into every sequence, in the order of ``positions`` (a later motif is
    written over an earlier one where they overlap); a copy, as :func:`insert_motif`.

    Parameters
    ----------
    X : uint8 codes ``(N, L)`` or one-hot ``(N, C, L)``
    motifs : dict name -> str or ``(4, w)`` matrix (its consensus is written)
    positions : dict name -> 0-based start, for the motifs to write
    """
    for name, position in positions.items():
        X = insert_motif(X, motifs[name], position, strand)
    return X
