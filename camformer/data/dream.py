"""DREAM 2022 data: read, validate, filter and pack promoter sequences (no torch needed).

Sequences travel as ``uint8`` codes ``(N, 110)`` (A, C, G, T, N -> 0..4) with float32
targets and stable integer ids; they are one-hot encoded on the device, per batch, by
:func:`camformer.models.encoding.encode` (also reachable as ``camformer.data.dream.encode``, which imports
torch only when asked for). Reading is chunked and vectorised so that the 6.7M-line training
file packs in seconds and in about 1 GB.

Every problem in an input file raises :class:`DataFormatError`, naming the file, the
line and what was wrong. The paper's filters drop rows, and every drop is counted in a
:class:`DropReport`.
"""

from __future__ import annotations

import gzip
import itertools
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ALPHABET = "ACGTN"
SEQ_LEN = 110
# A stand-in for the bundled published predictions, for rehearsing the online book with stand-in
# weights (book/rehearse_online.py); every page that explains a published model then says so.
STAND_IN_PREDICTIONS_ENV = "CAMFORMER_STAND_IN_PREDICTIONS"
N_CODE = 4
# Encoding name -> number of channels. Names are the paper's (score_board_*.csv, Seq_Enc).
ENCODINGS: dict[str, int] = {
    "onehot": 4,
    "onehotWithN": 4,
    "onehotWithP": 5,
    "onehotWithInt": 5,
    "onehotWithBoth": 6,
}
_INVALID = 255
_LUT = np.full(256, _INVALID, dtype=np.uint8)
for _i, _c in enumerate(ALPHABET):
    _LUT[ord(_c)] = _i
    _LUT[ord(_c.lower())] = _i


class DataFormatError(ValueError):
    """A data file that cannot be read: the message names the file, line and problem."""

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class FilterConfig:
    """The paper's preprocessing: drop rows with more than ``max_n`` N or a length
    outside ``seq_len`` ± ``length_tolerance``; pad the 3' end with N and cut to ``seq_len``."""

    max_n: int = 3
    length_tolerance: int = 3
    seq_len: int = SEQ_LEN


@dataclass
class DropReport:
    """Counts of what reading a file kept and dropped, by reason."""

    path: str
    lines: int = 0
    kept: int = 0
    too_many_n: int = 0
    bad_length: int = 0
    padded: int = 0
    truncated: int = 0
    length_counts: dict[int, int] = field(default_factory=dict)  # sequence length -> rows

    @property
    def dropped(self) -> int:
        return self.too_many_n + self.bad_length

    def __str__(self) -> str:
        # one short line per fact: the report prints in a terminal and in the book's code column
        return (
            f"{self.path}:\n"
            f"  {self.lines:,} rows read, {self.kept:,} kept, {self.dropped:,} dropped\n"
            f"  dropped: {self.too_many_n:,} with too many N, {self.bad_length:,} with a length out of range\n"
            f"  kept: {self.padded:,} padded and {self.truncated:,} cut to length"
        )


def _rows_of(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row in ``ids`` of each wanted id, and whether it is there at all (row 0 where not)."""
    if len(ids) == 0:
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    order = np.argsort(ids, kind="stable")
    # searchsorted gives len(ids) for an id above the largest: clip before indexing
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)
    rows = order[at]
    return rows, ids[rows] == wanted


@dataclass
class SequenceData:
    """Packed sequences.

    Attributes
    ----------
    codes : np.ndarray, uint8, shape (N, L)
        A, C, G, T, N as 0..4.
    targets : np.ndarray, float32, shape (N,)
        Measured expression.
    ids : np.ndarray, int64, shape (N,)
        Stable ids: the row number (0-based) in the source file, or the test set's ``id``.
    real_valued : np.ndarray, bool, shape (N,)
        True where the measured value is not an integer (the paper's "Int" flag input).
    """

    codes: np.ndarray
    targets: np.ndarray
    ids: np.ndarray
    real_valued: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        if self.real_valued is None:
            self.real_valued = self.targets != np.round(self.targets)
        n = len(self.codes)
        if not (len(self.targets) == len(self.ids) == len(self.real_valued) == n):
            raise ValueError("codes, targets, ids and real_valued must have the same length")

    def __len__(self) -> int:
        return len(self.codes)

    def subset(self, ids: np.ndarray) -> "SequenceData":
        """The rows with the given ids, in that order."""
        pos, found = _rows_of(self.ids, np.asarray(ids))
        if not found.all():
            raise KeyError("some ids are not in this data set")
        return SequenceData(self.codes[pos], self.targets[pos], self.ids[pos], self.real_valued[pos])


# ---------------------------------------------------------------------------- encoding

def encode_sequences(seqs, seq_len: int = SEQ_LEN) -> np.ndarray:
    """Strings -> uint8 codes ``(N, seq_len)``, padding the 3' end with N and cutting to length.

    Raises ``ValueError`` naming the sequence index for a character outside ACGTN.
    """
    seqs = list(seqs)
    out = np.full((len(seqs), seq_len), N_CODE, dtype=np.uint8)
    for i, s in enumerate(seqs):
        c = _LUT[np.frombuffer(s[:seq_len].encode("ascii", "replace"), dtype=np.uint8)]
        if (c == _INVALID).any():
            bad = s[int(np.argmax(c == _INVALID))]
            raise ValueError(f"sequence {i}: character {bad!r} is not one of A, C, G, T, N")
        out[i, : len(c)] = c
    return out


def decode(codes: np.ndarray) -> list[str]:
    """uint8 codes ``(N, L)`` -> strings."""
    table = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    return [row.tobytes().decode() for row in table[np.asarray(codes)]]


# ---------------------------------------------------------------------------- reading

UTF8_BOM = b"\xef\xbb\xbf"
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_input_file(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is a file that can be read; else a clear error.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    DataFormatError
        ``path`` is a directory (or another thing that is not a regular file).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise DataFormatError(path, None, "is a directory; give a file")
    if not path.is_file():
        raise DataFormatError(path, None, "is not a regular file")
    return path


def _open_chunks(path: Path, chunk_bytes: int):
    """Yield raw byte chunks of a plain or gzip file, with a clear error for a truncated gzip.

    A UTF-8 byte-order mark at the start of the file (spreadsheet programs write one) is
    skipped: it is not part of the first sequence."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(len(UTF8_BOM))
            if head != UTF8_BOM and head:
                yield head
            while True:
                block = fh.read(chunk_bytes)
                if not block:
                    return
                yield block
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DataFormatError(path, None, f"the gzip stream is truncated or corrupt ({err})") from None


def describe_character(raw: bytes) -> str:
    """How an error names the character that starts ``raw``: ``'X'``; for a byte outside ASCII,
    the byte in hex and, where ``raw`` starts with one, the UTF-8 byte-order mark or character."""
    if not raw or raw[0] < 0x80:
        return repr(raw[:1].decode("ascii"))
    if raw.startswith(UTF8_BOM):
        return "a UTF-8 byte-order mark (bytes EF BB BF; only allowed at the very start of the file)"
    for n in (2, 3, 4):
        try:
            return f"non-ASCII {raw[:n].decode('utf-8')!r} (byte 0x{raw[0]:02X})"
        except UnicodeDecodeError:
            continue
    return f"byte 0x{raw[0]:02X} (not ASCII)"


def _parse_block(buf: np.ndarray, path: Path, first_line: int, filters: FilterConfig, report: DropReport):
    """Parse whole lines in ``buf`` (uint8, ends with a newline). Returns codes, targets."""
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl[:-1] + 1))
    ends = nl.copy()  # exclusive, without the newline
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends[cr] -= 1
    line_no = first_line + np.arange(len(starts))
    report.lines += len(starts)
    tabs = np.flatnonzero(buf == 9)
    line_of_tab = np.searchsorted(nl, tabs)
    n_tabs = np.bincount(line_of_tab, minlength=len(starts))
    if (n_tabs != 1).any():
        i = int(np.argmax(n_tabs != 1))
        if ends[i] == starts[i]:
            raise DataFormatError(path, int(line_no[i]), "blank line (only a trailing blank line is allowed)")
        raise DataFormatError(
            path, int(line_no[i]),
            f"expected 2 tab-separated columns (sequence, expression), found {n_tabs[i] + 1}",
        )
    tab = tabs  # exactly one per line, in line order
    lengths = tab - starts
    for length, count in zip(*np.unique(lengths, return_counts=True)):
        report.length_counts[int(length)] = report.length_counts.get(int(length), 0) + int(count)
    # Validate every sequence character: mark the sequence spans and look for invalid codes.
    codes_all = _LUT[buf]
    span = np.zeros(len(buf) + 1, dtype=np.int8)
    span[starts] += 1  # indices are unique within each statement, so buffered += is exact
    span[tab] -= 1
    in_seq = np.cumsum(span[:-1], dtype=np.int8).view(bool)
    del span
    bad = np.flatnonzero(in_seq & (codes_all == _INVALID))
    if len(bad):
        i = int(np.searchsorted(nl, bad[0]))
        ch = describe_character(bytes(buf[bad[0]: bad[0] + 4]))
        raise DataFormatError(
            path, int(line_no[i]),
            f"character {ch} at position {int(bad[0] - starts[i]) + 1} of the sequence is not one of A, C, G, T, N",
        )
    empty = lengths == 0
    if empty.any():
        raise DataFormatError(path, int(line_no[np.argmax(empty)]), "empty sequence")
    # Expression values.
    body = buf.base if isinstance(buf.base, bytes) else buf.tobytes()  # slicing bytes beats numpy views
    fields = [body[a + 1: b] for a, b in zip(tab.tolist(), ends.tolist())]
    try:
        values = np.array(fields, dtype=np.float64) if fields else np.zeros(0)
    except ValueError:
        for i, f in enumerate(fields):
            try:
                float(f)
            except ValueError:
                what = "missing" if not f.strip() else f"not a number: {f.decode('latin-1')!r}"
                raise DataFormatError(path, int(line_no[i]), f"expression value is {what}") from None
        raise
    finite = np.isfinite(values)
    if not finite.all():
        i = int(np.argmax(~finite))
        raise DataFormatError(path, int(line_no[i]), f"expression value is {fields[i].decode()!r}, not a finite number")
    too_big = np.abs(values) > _FLOAT32_MAX
    if too_big.any():
        i = int(np.argmax(too_big))
        raise DataFormatError(path, int(line_no[i]), f"expression value {fields[i].decode()!r} is beyond the float32 "
                              f"range (largest {_FLOAT32_MAX:.4g}) in which targets are kept; it would become inf")
    # The paper's filters.
    # N is rare: count it from its positions rather than over every byte.
    n_pos = np.flatnonzero(codes_all == N_CODE)
    n_pos = n_pos[in_seq[n_pos]]
    n_count = np.bincount(np.searchsorted(nl, n_pos), minlength=len(starts))
    keep_n = n_count <= filters.max_n
    keep_len = np.abs(lengths - filters.seq_len) <= filters.length_tolerance
    report.too_many_n += int((~keep_n).sum())
    report.bad_length += int((keep_n & ~keep_len).sum())
    keep = keep_n & keep_len
    report.padded += int((keep & (lengths < filters.seq_len)).sum())
    report.truncated += int((keep & (lengths > filters.seq_len)).sum())
    st, ln = starts[keep], lengths[keep]
    # Gather rows through a strided window view (no (N, L) index matrix), then pad short rows with N.
    L = filters.seq_len
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([codes_all, np.full(L, N_CODE, np.uint8)]), L)
    codes = windows[st]
    short = np.flatnonzero(ln < L)
    if len(short):
        rows = codes[short]
        rows[np.arange(L)[None, :] >= ln[short, None]] = N_CODE
        codes[short] = rows
    return codes, values[keep].astype(np.float32), line_no[keep] - 1, values[keep] != np.round(values[keep])


def read_dream_txt(
    path: str | Path,
    filters: FilterConfig = FilterConfig(),
    *,
    chunk_bytes: int = 16 << 20,
    progress: bool = False,
) -> tuple[SequenceData, DropReport]:
    """Read a DREAM training file (``seq<TAB>expression``, no header, ``.txt`` or ``.gz``).

    Sequences are case-insensitive A/C/G/T/N; CRLF line ends, a trailing blank line and a
    UTF-8 byte-order mark at the start of the file are accepted. Rows failing the paper's filters are dropped and counted in the report. Ids
    are 0-based row numbers in the file, so a split stored as ids is stable.

    Returns
    -------
    (SequenceData, DropReport)

    Raises
    ------
    DataFormatError
        For an empty file, a directory, a truncated gzip, a bad character, a wrong column
        count, or a missing, non-numeric, non-finite or beyond-float32 expression value (such as
        1e39, which float32 targets would hold as inf), naming the file and line.
    """
    path = check_input_file(path)
    report = DropReport(str(path))
    # Count the rows first (about 1 s for the 6.7M-line file) and fill preallocated arrays, so
    # that the chunks' results and their concatenation never coexist in memory.
    capacity = sum(block.count(b"\n") for block in _open_chunks(path, chunk_bytes)) + 1
    codes = np.empty((capacity, filters.seq_len), np.uint8)
    targets, ids = np.empty(capacity, np.float32), np.empty(capacity, np.int64)
    real_valued = np.empty(capacity, bool)
    kept = 0
    carry = b""
    line = 1
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}")
    blank_line = None  # first blank line seen; an error if any row follows it
    for block in itertools.chain(_open_chunks(path, chunk_bytes), [None]):
        if block is None:  # end of file: the last line may lack its newline
            data, cut = carry + b"\n", len(carry) + 1 if carry else 0
        else:
            if bar is not None:
                bar.update(len(block))
            data = carry + block
            cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if not cut:
            continue
        part = _parse_chunk(data[:cut], path, line, filters, report)
        n_lines, n_blank = part[4], part[5]
        if blank_line is not None and n_lines > n_blank:
            raise DataFormatError(path, blank_line, "blank line (only a trailing blank line is allowed)")
        if n_blank and blank_line is None:
            blank_line = line + n_lines - n_blank
        k = len(part[0])
        codes[kept:kept + k], targets[kept:kept + k], ids[kept:kept + k], real_valued[kept:kept + k] = part[:4]
        kept += k
        line += n_lines
        del part, data
    if bar is not None:
        bar.close()
    if report.lines == 0:
        raise DataFormatError(path, None, "the file is empty (no sequence rows)")
    out = SequenceData(codes=codes[:kept], targets=targets[:kept], ids=ids[:kept], real_valued=real_valued[:kept])
    report.kept = kept
    return out, report


def _parse_chunk(chunk: bytes, path: Path, first_line: int, filters: FilterConfig, report: DropReport):
    """Parse complete lines, allowing blank lines only at the very end of the file.

    Returns (codes, targets, ids, real_valued, lines consumed, trailing blank lines).
    """
    body = chunk.rstrip(b"\r\n")
    trailing = chunk[len(body):].count(b"\n") - (1 if body else 0)
    if not body:
        return (np.zeros((0, filters.seq_len), np.uint8), np.zeros(0, np.float32),
                np.zeros(0, np.int64), np.zeros(0, bool), chunk.count(b"\n"), chunk.count(b"\n"))
    buf = np.frombuffer(body + b"\n", dtype=np.uint8)
    codes, targets, ids, real = _parse_block(buf, path, first_line, filters, report)
    n_lines = int((buf == 10).sum())
    return codes, targets, ids, real, n_lines + trailing, trailing


# ---------------------------------------------------------------------------- bundled data

def resource_path(name: str) -> Path:
    """Path of a file shipped in ``camformer/resources`` (e.g. ``"dream2022_test.tsv.gz"``,
    ``"paper/sota.csv"``). Sources and licences: ``camformer/resources/SOURCE.md``."""
    path = Path(__file__).resolve().parents[1] / "resources" / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: not a bundled camformer resource")
    return path


def load_test_table(path: str | Path | None = None) -> pd.DataFrame:
    """The official DREAM 2022 test set: columns ``id, seq, expression, subsets, public``.

    ``subsets`` is a ``;``-separated list of the official subsets (high, low, yeast,
    random, challenging, SNVs, motif_perturbation, motif_tiling); ``public`` is 1 for the
    9,045 public-leaderboard ids. Defaults to the bundled copy (71,103 rows).
    """
    path = Path(path) if path is not None else resource_path("dream2022_test.tsv.gz")
    df = pd.read_csv(path, sep="\t", dtype={"id": np.int64, "seq": str, "expression": np.float64,
                                            "subsets": str, "public": np.int8}, keep_default_na=False,
                     na_values={"expression": [""]})
    expected = ["id", "seq", "expression", "subsets", "public"]
    if list(df.columns) != expected:
        raise DataFormatError(path, 1, f"expected columns {expected}, found {list(df.columns)}")
    bad = ~np.isfinite(df["expression"].to_numpy())
    if bad.any():
        raise DataFormatError(path, int(np.argmax(bad)) + 2, "expression value is missing or not finite")
    return df


def load_test_pairs(path: str | Path | None = None) -> pd.DataFrame:
    """Variant pairs of the test set: columns ``subset, ref_id, alt_id, public``."""
    path = Path(path) if path is not None else resource_path("dream2022_test_pairs.tsv.gz")
    return pd.read_csv(path, sep="\t")


def stand_in_predictions() -> Path | None:
    """The file ``$CAMFORMER_STAND_IN_PREDICTIONS`` names, or None (the usual case)."""
    value = os.environ.get(STAND_IN_PREDICTIONS_ENV, "").strip()
    return Path(value) if value else None


def load_published_predictions(path: str | Path | None = None) -> pd.DataFrame:
    """Camformer's published test-set predictions: columns ``id, original, mini`` (seed 42).

    Default: the bundled file; where ``$CAMFORMER_STAND_IN_PREDICTIONS`` names a file of the same
    columns, that one (a rehearsal of the online book with stand-in weights, never the paper's).
    """
    if path is None:
        path = stand_in_predictions() or resource_path("camformer_published_predictions.tsv.gz")
    return pd.read_csv(Path(path), sep="\t")


def load_paper_table(name: str, **read_csv_kwargs) -> pd.DataFrame:
    """A published figure-data table from the paper (``camformer/resources/paper/NAME``)."""
    return pd.read_csv(resource_path(f"paper/{name}"), **read_csv_kwargs)


def test_set_data(table: pd.DataFrame | None = None) -> SequenceData:
    """The test set as packed :class:`SequenceData` (ids = the official ``id``)."""
    table = load_test_table() if table is None else table
    return SequenceData(
        codes=encode_sequences(table["seq"]),
        targets=table["expression"].to_numpy(np.float32),
        ids=table["id"].to_numpy(np.int64),
        real_valued=np.ones(len(table), dtype=bool),
    )


def subset_membership(table: pd.DataFrame) -> pd.DataFrame:
    """Boolean membership ``(N, n_subsets)`` from the ``subsets`` column, indexed by id."""
    dummies = table["subsets"].str.get_dummies(sep=";").astype(bool)
    dummies.index = table["id"].to_numpy()
    return dummies


# ---------------------------------------------------------------------------- splits

def stratified_split(
    ids: np.ndarray,
    targets: np.ndarray,
    fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
    *,
    n_bins: int = 10,
    seed: int = 42,
) -> dict[str, np.ndarray]:
    """Seeded split stratified by expression decile: ``{"train", "val", "test"}`` -> ids.

    Within each decile the ids are shuffled and cut by ``fractions``, so every split has
    the same expression distribution (to within one sequence per decile). The same
    ``seed`` gives the same split; store the returned ids to repeat a run exactly.
    """
    ids, targets = np.asarray(ids), np.asarray(targets)
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    ranks = np.argsort(np.argsort(targets, kind="stable"), kind="stable")
    decile = (ranks * n_bins) // max(len(targets), 1)
    out: dict[str, list] = {"train": [], "val": [], "test": []}
    for d in range(n_bins):
        members = ids[decile == d]
        members = members[rng.permutation(len(members))]
        n_train = int(round(fractions[0] * len(members)))
        n_val = int(round(fractions[1] * len(members)))
        out["train"].append(members[:n_train])
        out["val"].append(members[n_train:n_train + n_val])
        out["test"].append(members[n_train + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in out.items()}


def variant_families(ids: np.ndarray, pairs: pd.DataFrame) -> np.ndarray:
    """Family label per id: connected components of the (ref, alt) variant-pair graph.

    A sequence and all its variants (SNVs, motif perturbations and tilings) share a label;
    a sequence in no pair is a family of its own. Returns int64 ``(N,)`` aligned to ``ids``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = np.asarray(ids)
    ref, ref_found = _rows_of(ids, pairs["ref_id"].to_numpy())
    alt, alt_found = _rows_of(ids, pairs["alt_id"].to_numpy())
    ok = ref_found & alt_found  # pairs with both ends among ids
    graph = coo_matrix((np.ones(ok.sum()), (ref[ok], alt[ok])), shape=(len(ids), len(ids)))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _join_partitions(n: int, *labelings: np.ndarray) -> np.ndarray:
    """Labels ``(n,)`` of the finest partition that keeps every group of every labeling whole: the
    connected components of "shares a label in some labeling"."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for labels in labelings:
        order = np.argsort(labels, kind="stable")
        same = labels[order][1:] == labels[order][:-1]
        rows.append(order[:-1][same])
        cols.append(order[1:][same])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def split_groups(ids: np.ndarray, pairs: pd.DataFrame, groups: np.ndarray | None = None) -> np.ndarray:
    """The units :func:`family_split` keeps whole: variant families, joined with ``groups``.

    Parameters
    ----------
    ids : numpy.ndarray
        ``(N,)`` sequence ids.
    pairs : DataFrame
        Variant pairs (``ref_id``, ``alt_id``), as for :func:`variant_families`.
    groups : numpy.ndarray, optional
        ``(N,)`` further labels aligned with ``ids`` (e.g. ``camformer.data.similarity.similarity_groups``):
        two ids of one group end in one unit, as do two ids of one family, transitively.

    Returns
    -------
    numpy.ndarray
        int64 ``(N,)`` unit labels.
    """
    ids = np.asarray(ids)
    families = variant_families(ids, pairs)
    if groups is None:
        return families
    groups = np.asarray(groups)
    if groups.shape != ids.shape:
        raise ValueError(f"groups must have one label per id, shape {ids.shape}, got {groups.shape}")
    return _join_partitions(len(ids), families, groups)


def _assign_units(units: np.ndarray, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Split index (0, 1, 2) per item: units largest first, each to the split with the most room
    left relative to its target; units of one size in seeded random order."""
    sizes = np.bincount(units)
    present = np.flatnonzero(sizes)
    rng = np.random.default_rng(seed)
    shuffled = present[rng.permutation(len(present))]
    order = shuffled[np.argsort(-sizes[shuffled], kind="stable")]
    target = np.asarray(fractions, np.float64) * len(units)
    filled = np.zeros(3)
    split_of_unit = np.zeros(len(sizes), dtype=np.int64)
    open_splits = target > 0
    for unit in order:
        room = np.where(open_splits, (target - filled) / np.where(open_splits, target, 1.0), -np.inf)
        k = int(np.argmax(room))
        split_of_unit[unit] = k
        filled[k] += sizes[unit]
    return split_of_unit[units]


def family_split(
    ids: np.ndarray,
    targets: np.ndarray,
    pairs: pd.DataFrame,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    *,
    seed: int = 42,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Seeded split that keeps each variant family (and each of ``groups``) whole:
    ``{"train", "val", "test"}`` -> ids.

    Used by the ``quick`` preset, which trains on the measured test library: a sequence and its
    variants never straddle train and held-out, and with ``groups`` from
    ``camformer.data.similarity.similarity_groups`` neither do sequences within a few substitutions of
    each other. The units (:func:`split_groups`) are placed largest first, each in the split
    with the most room left relative to its share, units of equal size in seeded random order.
    So the fractions hold to within a sequence or so however large the biggest unit is (a unit
    larger than every split's room goes to the split with most room, and the fractions then
    give way), and big units are spread over the splits rather than all landing in one.

    Parameters
    ----------
    ids, targets : numpy.ndarray
        ``(N,)`` sequence ids and their values (``targets`` is not used to split; kept for the
        common signature of splits).
    pairs : DataFrame
        Variant pairs (``ref_id``, ``alt_id``).
    fractions : tuple of 3 floats
        Train, validation and test shares, summing to 1.
    seed : int
        The same seed gives the same split.
    groups : numpy.ndarray, optional
        ``(N,)`` further labels that must stay whole.
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}")
    ids = np.asarray(ids)
    units = split_groups(ids, pairs, groups)
    s = _assign_units(units, tuple(fractions), seed) if len(ids) else np.zeros(0, np.int64)
    return {name: np.sort(ids[s == k]) for k, name in enumerate(("train", "val", "test"))}


def split_summary(split: dict[str, np.ndarray], ids: np.ndarray, units: np.ndarray) -> pd.DataFrame:
    """Sequences, share, units and largest unit per split (for a page).

    Parameters
    ----------
    split : dict
        Split name -> ids (from :func:`family_split`).
    ids, units : numpy.ndarray
        ``(N,)`` all ids and their unit labels (from :func:`split_groups`).

    Returns
    -------
    DataFrame
        Index: the split names; columns ``sequences``, ``share``, ``units``, ``largest unit``.
    """
    unit_of = pd.Series(np.asarray(units), index=np.asarray(ids))
    rows = {}
    for name, members in split.items():
        counts = unit_of.loc[members].value_counts()
        rows[name] = {"sequences": len(members), "share": len(members) / len(unit_of),
                      "units": len(counts), "largest unit": int(counts.max()) if len(counts) else 0}
    return pd.DataFrame.from_dict(rows, orient="index")


def save_split(split: dict[str, np.ndarray], path: str | Path) -> None:
    """Write a split as ``.npz`` of id arrays."""
    np.savez_compressed(path, **split)


def load_split(path: str | Path) -> dict[str, np.ndarray]:
    """Read a split written by :func:`save_split`."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


test_set_data.__test__ = False  # not a pytest test, despite its name
