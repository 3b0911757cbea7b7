"""Transcription-factor motifs: JASPAR 2024 matrices, FIMO scanning, insertion, pair effects.

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
:mod:`camformer.data`). Positions are 0-based; a hit's ``end`` is exclusive.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from camformer.data import ALPHABET, N_CODE

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
    presence[known["seq_index"].to_numpy(), known["motif"].map(column).to_numpy()] = True
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
        motif with ``motif1 == motif2``, one per unordered pair (in the order of ``motifs``),
        and a last row ``("(none)", "(none)")`` for the sequences with none of the motifs.
    """
    motifs = list(presence.columns) if motifs is None else list(motifs)
    y = np.asarray(expression, dtype=np.float64)
    P = presence[motifs].to_numpy(dtype=bool)
    rows = []

    def summary(mask):
        n = int(mask.sum())
        sd = float(y[mask].std(ddof=1)) if n >= 2 else math.nan
        return n, (float(y[mask].mean()) if n else math.nan), sd

    for i, a in enumerate(motifs):
        rows.append((a, a, *summary(P[:, i])))
    for i, j in itertools.combinations(range(len(motifs)), 2):
        rows.append((motifs[i], motifs[j], *summary(P[:, i] & P[:, j])))
    rows.append((NONE_LABEL, NONE_LABEL, *summary(~P.any(axis=1))))
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


def group_difference(
    expression, in_group, reference, *, n_boot: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Difference of mean expression between two groups of sequences, with its uncertainty.

    Parameters
    ----------
    expression : array (N,)
    in_group, reference : bool arrays (N,): the sequences of each group
    n_boot : int
        Bootstrap resamples (each group resampled on its own) for a 95% percentile CI.
    seed : int

    Returns
    -------
    dict
        ``n, mean, n_ref, mean_ref, difference`` (mean - mean_ref), ``ci_low, ci_high``,
        ``welch_t`` and ``p_value`` (two-sided Welch's t-test).
    """
    from scipy import stats

    y = np.asarray(expression, dtype=np.float64)
    a, b = y[np.asarray(in_group, bool)], y[np.asarray(reference, bool)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 sequences per group, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    boot = (rng.choice(a, (n_boot, len(a))).mean(axis=1) - rng.choice(b, (n_boot, len(b))).mean(axis=1))
    t = stats.ttest_ind(a, b, equal_var=False)
    return {
        "n": len(a), "mean": float(a.mean()), "n_ref": len(b), "mean_ref": float(b.mean()),
        "difference": float(a.mean() - b.mean()),
        "ci_low": float(np.percentile(boot, 2.5)), "ci_high": float(np.percentile(boot, 97.5)),
        "welch_t": float(t.statistic), "p_value": float(t.pvalue),
    }


def direction(ci_low: float, ci_high: float) -> str:
    """``"raises"`` if a 95% interval of a difference lies above 0, ``"lowers"`` if below,
    else ``"does not clearly change"`` (also for an undefined interval)."""
    if ci_low > 0:
        return "raises"
    if ci_high < 0:
        return "lowers"
    return "does not clearly change"


def motif_hierarchy(
    expression,
    has_a,
    has_b,
    *,
    names: tuple[str, str] = ("IME1", "UME6"),
    scopes: dict | None = None,
    families=None,
    min_n: int = 2,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The effect of motif A alone, B alone, and A with B on expression: the paper's hierarchy test.

    Four groups of sequences: with neither motif, with A but not B, with B but not A, with both.
    Each of the last three is compared with "neither" (:func:`group_difference`), and "both" is
    also compared with "A without B". The comparison is repeated in each scope (a subset of the
    sequences) and, if ``families`` is given, on family means: each family (e.g. a variant
    family of :func:`camformer.data.variant_families`) counted once per group with its mean.

    Parameters
    ----------
    expression : float array (N,): measured or predicted expression
    has_a, has_b : bool arrays (N,): whether each sequence contains motif A / motif B
    names : the two motifs' names, used in the group labels
    scopes : dict label -> bool array (N,), optional
        Default ``{"all sequences": all}``.
    families : int array (N,), optional
        Adds the scope ``"family means"`` (over all N sequences).
    min_n : int
        A comparison whose groups hold fewer sequences is left out (it would have no interval).
    n_boot, seed : passed to :func:`group_difference`

    Returns
    -------
    pd.DataFrame
        One row per (scope, group): ``scope, group, n, mean, n_ref, mean_ref, difference,
        ci_low, ci_high, welch_t, p_value, direction`` (:func:`direction` of the interval).
        Groups: ``"A without B"``, ``"B without A"``, ``"A and B"`` (each against neither) and
        ``"A and B vs A without B"``, with A and B replaced by ``names``.
    """
    y = np.asarray(expression, dtype=np.float64)
    a, b = np.asarray(has_a, bool), np.asarray(has_b, bool)
    if not (len(y) == len(a) == len(b)):
        raise ValueError(f"expression, has_a and has_b differ in length: {len(y)}, {len(a)}, {len(b)}")
    A, B = names
    groups = {f"{A} without {B}": a & ~b, f"{B} without {A}": b & ~a, f"{A} and {B}": a & b}
    neither = ~a & ~b
    comparisons = [(g, mask, neither) for g, mask in groups.items()]
    comparisons.append((f"{A} and {B} vs {A} without {B}", groups[f"{A} and {B}"], groups[f"{A} without {B}"]))
    scopes = {"all sequences": np.ones(len(y), bool)} if scopes is None else scopes
    rows = []
    for scope, keep in scopes.items():
        keep = np.asarray(keep, bool)
        for group, g, ref in comparisons:
            if (g & keep).sum() >= min_n and (ref & keep).sum() >= min_n:
                rows.append({"scope": scope, "group": group,
                             **group_difference(y, g & keep, ref & keep, n_boot=n_boot, seed=seed)})
    if families is not None:
        label = np.full(len(y), "", dtype=object)
        label[neither] = "neither"
        for group, mask in groups.items():
            label[mask] = group
        fam = (pd.DataFrame({"family": np.asarray(families), "group": label, "y": y})
               .groupby(["group", "family"], as_index=False)["y"].mean())
        fam_groups = {g: (fam["group"] == g).to_numpy() for g in [*groups, "neither"]}
        for group, _, _ in comparisons[:3]:
            if fam_groups[group].sum() >= min_n and fam_groups["neither"].sum() >= min_n:
                rows.append({"scope": "family means", "group": group, **group_difference(
                    fam["y"], fam_groups[group], fam_groups["neither"], n_boot=n_boot, seed=seed)})
    table = pd.DataFrame(rows, columns=["scope", "group", "n", "mean", "n_ref", "mean_ref", "difference",
                                        "ci_low", "ci_high", "welch_t", "p_value"])
    table["direction"] = [direction(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])]
    return table


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


def insertion_effects(
    model,
    backgrounds,
    motifs: dict,
    positions: dict[str, int],
    *,
    pairs: bool = True,
    strand: str = "+",
    encoding: str | None = None,
    batch_size: int = 1024,
    device=None,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Predicted change in expression when motifs, alone and in pairs, are written into backgrounds.

    Parameters
    ----------
    model : nn.Module mapping ``(N, C, L)`` to ``(N,)`` or ``(N, 1)``
    backgrounds : uint8 codes ``(N, L)``
    motifs : dict name -> str or ``(4, w)`` matrix (its consensus is inserted)
    positions : dict name -> 0-based start of that motif (the same in every background;
        a pair is written at both motifs' positions; where they overlap, the second motif of
        the pair is written over the first)
    pairs : bool
        Also insert every unordered pair of motifs.
    strand, encoding, batch_size, device : see :func:`insert_motif` and :func:`camformer.inference.predict`
    n_boot, seed : bootstrap resamples of the backgrounds for the 95% percentile interval of
        the mean change, and their seed

    Returns
    -------
    pd.DataFrame
        Columns ``motif1, motif2, n, mean_change, sd_change, ci_low, ci_high, direction,
        mean_background, mean_inserted``: ``change`` = prediction(with motif(s)) -
        prediction(background), per background; ``direction`` as :func:`direction` of the
        interval. Singles have ``motif1 == motif2``.
    """
    backgrounds = np.asarray(backgrounds, dtype=np.uint8)
    from camformer.inference import predict  # torch is needed only here; scanning needs none

    kwargs = dict(encoding=encoding, batch_size=batch_size, device=device)
    base = predict(model, backgrounds, **kwargs).astype(np.float64)
    names = list(motifs)
    combos = [(a, a) for a in names] + (list(itertools.combinations(names, 2)) if pairs else [])
    rows = []
    for a, b in combos:
        edited = backgrounds
        for name in dict.fromkeys((a, b)):
            edited = insert_motif(edited, motifs[name], positions[name], strand)
        change = predict(model, edited, **kwargs).astype(np.float64) - base
        boot = np.random.default_rng(seed).choice(change, (n_boot, len(change))).mean(axis=1)
        lo, hi = (float(np.percentile(boot, q)) for q in (2.5, 97.5))
        rows.append((a, b, len(change), float(change.mean()),
                     float(change.std(ddof=1)) if len(change) > 1 else math.nan, lo, hi, direction(lo, hi),
                     float(base.mean()), float((base + change).mean())))
    return pd.DataFrame(rows, columns=["motif1", "motif2", "n", "mean_change", "sd_change", "ci_low", "ci_high",
                                       "direction", "mean_background", "mean_inserted"])
