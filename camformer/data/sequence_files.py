"""Users' sequence files: DREAM txt, TSV with a header, FASTA, and variant pairs (no torch needed).

:func:`read_sequence_file` reads promoters to predict or explain, from

- a DREAM file: ``seq<TAB>expression`` (or ``seq`` alone) per line, no header; ids are the
  0-based row numbers, as :func:`camformer.data.dream.read_dream_txt` gives them;
- a TSV with a header line holding ``seq`` (or ``sequence``) and, optionally, ``id`` (or
  ``name``); without an id column the ids are the 0-based row numbers;
- FASTA (``>id description`` then the sequence, on one or more lines).

Any of them may be gzipped and may start with a UTF-8 byte-order mark (skipped); ``"-"`` reads
standard input. Sequences are prepared as the paper's preprocessing does (DESIGN.md,
"Preprocessing"): A, C, G, T, N in any case (other IUPAC letters are an error, or N with
``iupac_as_n``, counted); the 3' end padded with N to 110 nt, or cut to 110;
:class:`PreparationReport` counts each and how many sequences the paper's training filters
(length 110 ± 3, at most 3 N) would have dropped. Those are predicted all the same, unless
``filters`` asks to drop them (counted too).

:func:`read_variant_pairs` reads ref/alt pairs for variant scoring: a TSV with ``ref`` and
``alt`` sequence columns, or a list of substitutions ``pos:ref>alt`` (1-based positions,
several joined by ``,``) applied to a reference sequence.

Every problem raises :class:`camformer.data.dream.DataFormatError` naming the file, the line and what
was wrong.
"""

from __future__ import annotations

import gzip
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .dream import _INVALID, _LUT, N_CODE, SEQ_LEN, UTF8_BOM, DataFormatError, FilterConfig, check_input_file, \
    describe_character

SEQUENCE_COLUMNS = ("seq", "sequence")
ID_COLUMNS = ("id", "name")
_SUBSTITUTION = re.compile(r"(\d+):([ACGTNacgtn]+)>([ACGTNacgtn]+)")
STDIN = "-"
STDIN_NAME = "<stdin>"  # how messages name standard input
# What a sequence file may be, for the messages that refuse another kind of file.
ACCEPTED = ("accepted: FASTA, a TSV with a header line holding seq (and id), or DREAM lines "
            "seq<TAB>expression (tab-separated; gzip too)")
# IUPAC ambiguity letters other than N: an error, or N with iupac_as_n.
IUPAC_OTHER = b"RYSWKMBDHV"
_LUT_IUPAC = _LUT.copy()
for _letter in IUPAC_OTHER + IUPAC_OTHER.lower():
    _LUT_IUPAC[_letter] = N_CODE


@dataclass
class PreparationReport:
    """What preparing a file's sequences for a model did.

    Attributes
    ----------
    path : str
    sequences : int
        Sequences read.
    padded, cut : int
        Shorter than ``seq_len`` (3' end padded with N) / longer (cut to ``seq_len``).
    outside_filters : int
        Sequences the paper's training filters would drop (length outside ``seq_len`` ±
        tolerance, or more N than allowed).
    dropped : int
        Of those, dropped here (only when filters were asked for).
    seq_len : int
    iupac_as_n : int
        IUPAC letters other than N (R, Y, S, W, K, M, B, D, H, V) read as N.
    """

    path: str
    sequences: int = 0
    padded: int = 0
    cut: int = 0
    outside_filters: int = 0
    dropped: int = 0
    seq_len: int = SEQ_LEN
    iupac_as_n: int = 0

    def __str__(self) -> str:
        text = (f"{self.path}: {self.sequences:,} sequences; {self.padded:,} shorter than {self.seq_len} nt "
                f"padded at the 3' end with N, {self.cut:,} longer cut to {self.seq_len} nt")
        if self.outside_filters:
            fate = f"{self.dropped:,} dropped" if self.dropped else "kept"
            text += (f"; {self.outside_filters:,} outside the paper's training filters (length or N count), "
                     f"{fate}")
        if self.iupac_as_n:
            text += f"; {self.iupac_as_n:,} IUPAC letters other than N (R, Y, S, W, K, M, B, D, H, V) read as N"
        return text


@dataclass
class SequenceFile:
    """Sequences read from a file and packed for a model.

    Attributes
    ----------
    ids : np.ndarray of str, shape (N,)
    codes : np.ndarray, uint8, shape (N, seq_len)
        A, C, G, T, N as 0..4.
    lines : np.ndarray, int64, shape (N,)
        The line each sequence starts on (1-based), for messages.
    report : PreparationReport
    """

    ids: np.ndarray
    codes: np.ndarray
    lines: np.ndarray
    report: PreparationReport = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)


def _input_path(path: str | Path) -> Path:
    """``path`` checked (:func:`camformer.data.dream.check_input_file`); ``"-"`` as ``<stdin>``."""
    return Path(STDIN_NAME) if str(path) == STDIN else check_input_file(path)


def _binary_at(raw: bytes) -> int | None:
    """The offset of a NUL byte in the first 64 KiB, or of the first control byte when more than
    1 % of them are control bytes (not tab, CR, LF, form feed): a file that is not text."""
    head = raw[:1 << 16]
    if b"\x00" in head:
        return head.index(b"\x00")
    control = np.frombuffer(head, dtype=np.uint8)
    control = np.flatnonzero(((control < 32) & ~np.isin(control, (9, 10, 12, 13))) | (control == 127))
    return int(control[0]) if len(control) > max(1, len(head) // 100) else None


def _read_lines(path: Path) -> list[bytes]:
    """The file's lines (plain or gzip; CRLF or LF), without a leading UTF-8 byte-order mark;
    ``<stdin>`` (:func:`_input_path` of ``"-"``) reads standard input."""
    try:
        if str(path) == STDIN_NAME:
            raw = sys.stdin.buffer.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
        else:
            with open(path, "rb") as handle:
                gz = handle.read(2) == b"\x1f\x8b"
            with (gzip.open if gz else open)(path, "rb") as handle:
                raw = handle.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DataFormatError(path, None, f"the gzip stream is truncated or corrupt ({err})") from None
    if (offset := _binary_at(raw)) is not None:
        raise DataFormatError(path, None, f"is not a text file (binary byte {raw[offset]:#04x} at byte "
                                          f"{offset + 1:,}); {ACCEPTED}")
    if raw.startswith(UTF8_BOM):
        raw = raw[len(UTF8_BOM):]
    lines = raw.splitlines()
    while lines and not lines[-1].strip():  # trailing blank lines are allowed
        lines.pop()
    if not lines:
        raise DataFormatError(path, None, "the file is empty (no sequences)")
    return lines


def _codes(seq: bytes, path: Path, line: int) -> np.ndarray:
    """uint8 codes of one sequence, or an error naming the first character outside ACGTN."""
    if not seq:
        raise DataFormatError(path, line, "empty sequence")
    codes = _LUT[np.frombuffer(seq, dtype=np.uint8)]
    bad = np.flatnonzero(codes == _INVALID)
    if len(bad):
        k = int(bad[0])
        raise DataFormatError(path, line, f"character {describe_character(seq[k:k + 4])} at position {k + 1} of the "
                                          "sequence is not one of A, C, G, T, N")
    return codes


def prepare_sequences(seqs: list[bytes], lines: list[int], path: str | Path,
                      filters: FilterConfig | None = None, *, iupac_as_n: bool = False,
                      locate: Callable[[int, int], tuple[int, str]] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray, PreparationReport]:
    """Pack sequences for a model as the paper's preprocessing does.

    Parameters
    ----------
    seqs : list of bytes
        ASCII sequences (any case).
    lines : list of int
        The line of each, for error messages.
    path : path
        The file they come from, for messages and the report.
    filters : FilterConfig, optional
        Drop the sequences the paper's training filters drop (default: keep them, counted).
    iupac_as_n : bool
        Read the IUPAC letters R, Y, S, W, K, M, B, D, H, V as N (counted) instead of refusing them.
    locate : callable, optional
        ``locate(i, k)`` -> ``(line, "position ... of ...")``: where character ``k`` (0-based) of
        sequence ``i`` is in the file, for messages (FASTA sequences span lines); default
        ``lines[i]`` and its position in the sequence.

    Returns
    -------
    (np.ndarray uint8 (N, seq_len), np.ndarray bool (N,), PreparationReport)
        The codes of the kept sequences (3' end padded with N, or cut to ``seq_len``), which
        input sequences were kept, and the counts.
    """
    rules = filters or FilterConfig()
    length = rules.seq_len
    report = PreparationReport(str(path), sequences=len(seqs), seq_len=length)
    sizes = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    if (sizes == 0).any():
        raise DataFormatError(path, lines[int(np.argmax(sizes == 0))], "empty sequence")
    # One lookup over all the sequences joined, then each row copied from its slice.
    joined = b"".join(seqs)
    raw = np.frombuffer(joined, dtype=np.uint8)
    flat = (_LUT_IUPAC if iupac_as_n else _LUT)[raw]
    starts = np.cumsum(sizes) - sizes
    bad = np.flatnonzero(flat == _INVALID)
    if len(bad):
        i = int(np.searchsorted(starts, bad[0], side="right")) - 1
        k = int(bad[0] - starts[i])
        line, where = locate(i, k) if locate is not None else (lines[i], f"position {k + 1} of the sequence")
        hint = (" (an IUPAC ambiguity letter: --iupac-as-n reads these as N)"
                if joined[bad[0]:bad[0] + 1].upper() in IUPAC_OTHER else "")
        raise DataFormatError(path, line, f"character {describe_character(joined[bad[0]:bad[0] + 4])} at {where} "
                              f"is not one of A, C, G, T, N{hint}")
    if iupac_as_n:
        report.iupac_as_n = int(np.isin(raw, np.frombuffer(IUPAC_OTHER + IUPAC_OTHER.lower(), dtype=np.uint8)).sum())
    n_count = np.add.reduceat((flat == N_CODE).astype(np.int64), starts) if len(seqs) else sizes
    outside = (np.abs(sizes - length) > rules.length_tolerance) | (n_count > rules.max_n)
    report.padded, report.cut = int((sizes < length).sum()), int((sizes > length).sum())
    report.outside_filters = int(outside.sum())
    keep = ~outside if filters is not None else np.ones(len(seqs), dtype=bool)
    report.dropped = int((~keep).sum())
    codes = np.full((len(seqs), length), N_CODE, dtype=np.uint8)
    for lo in range(0, len(seqs), 1 << 16):  # bounded index arrays: 65,536 rows at a time
        rows = slice(lo, lo + (1 << 16))
        offsets = np.arange(length)[None, :]
        inside = offsets < np.minimum(sizes[rows], length)[:, None]
        block = codes[rows]
        block[inside] = flat[(starts[rows, None] + offsets)[inside]]
    return codes[keep], keep, report


def _unique_ids(ids: list[str], lines: list[int], path: Path) -> np.ndarray:
    seen: dict[str, int] = {}
    for name, line in zip(ids, lines):
        if not name:
            raise DataFormatError(path, line, "empty id")
        if name in seen:
            raise DataFormatError(path, line, f"id {name!r} is already used on line {seen[name]}; ids must be unique")
        seen[name] = line
    return np.array(ids, dtype=object)


def _header(line: bytes) -> list[str] | None:
    """The column names of a TSV header line, or None when the line is not one (no ``seq``)."""
    names = [c.strip().decode("ascii", "replace") for c in line.split(b"\t")]
    return names if any(n.lower() in SEQUENCE_COLUMNS for n in names) else None


def _column(names: list[str], wanted: tuple[str, ...]) -> int | None:
    lowered = [n.lower() for n in names]
    return next((lowered.index(w) for w in wanted if w in lowered), None)


def _table_rows(lines: list[bytes], path: Path, names: list[str]) -> list[tuple[int, list[bytes]]]:
    """The rows under a header, checked for the header's number of columns: (line, fields)."""
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = [f.strip() for f in line.split(b"\t")]
        if len(fields) != len(names):
            if not line.strip():
                raise DataFormatError(path, number, "blank line (only trailing blank lines are allowed)")
            raise DataFormatError(path, number, f"{len(fields)} tab-separated columns, the header has {len(names)}")
        rows.append((number, fields))
    if not rows:
        raise DataFormatError(path, None, "a header line but no rows")
    return rows


@dataclass
class _Fasta:
    """A FASTA file's records: ids, sequences (lines joined) and header lines; ``lines`` (the
    file's) to say, for a message, which line holds a character."""

    ids: list[str]
    seqs: list[bytes]
    starts: list[int]
    lines: list[bytes]

    def locate(self, i: int, k: int) -> tuple[int, str]:
        """The line holding character ``k`` (0-based) of record ``i``, and where on it."""
        offset = 0
        for number in range(self.starts[i] + 1, len(self.lines) + 1):
            size = len(self.lines[number - 1].strip())
            if k < offset + size:
                return number, f"position {k - offset + 1} of the line (position {k + 1} of sequence {self.ids[i]!r})"
            offset += size
        return self.starts[i], f"position {k + 1} of sequence {self.ids[i]!r}"


def _fasta(lines: list[bytes], path: Path) -> _Fasta:
    ids, starts, chunks = [], [], []
    for number, line in enumerate(lines, start=1):
        if line.startswith(b">"):
            ids.append(line[1:].split(maxsplit=1)[0].decode("ascii", "replace") if line[1:].strip() else "")
            chunks.append([])
            starts.append(number)
        elif not chunks:
            raise DataFormatError(path, number, "FASTA text before the first '>' header line")
        else:
            chunks[-1].append(line.strip())
    return _Fasta(ids, [b"".join(c) for c in chunks], starts, lines)


def _refuse_csv(lines: list[bytes], path: Path) -> None:
    """A clear error for a comma-separated file, which would otherwise fail on its first comma."""
    if b"," in lines[0] and b"\t" not in lines[0]:
        raise DataFormatError(path, 1, "looks like a comma-separated (CSV) file; " + ACCEPTED)


def read_sequence_file(path: str | Path, filters: FilterConfig | None = None, *,
                       iupac_as_n: bool = False) -> SequenceFile:
    """Read a DREAM txt, TSV-with-header or FASTA file of promoters (see the module docstring).

    Parameters
    ----------
    path : path
        ``"-"``: standard input.
    filters : FilterConfig, optional
        Drop what the paper's training filters drop (default: keep and count).
    iupac_as_n : bool
        Read IUPAC letters other than N as N (counted in the report) instead of refusing them.

    Returns
    -------
    SequenceFile
        Ids (str), uint8 codes ``(N, 110)``, start lines and the :class:`PreparationReport`.

    Raises
    ------
    FileNotFoundError, DataFormatError
        Naming the file and, for a bad row, the line and the problem (a character outside
        ACGTN: the line that holds it; a CSV or binary file: what is accepted).
    """
    path = _input_path(path)
    lines = _read_lines(path)
    locate = None
    if lines[0].lstrip().startswith(b">"):
        records = _fasta(lines, path)
        ids, seqs, numbers, locate = records.ids, records.seqs, records.starts, records.locate
    elif (names := _header(lines[0])) is not None:
        rows = _table_rows(lines, path, names)
        seq_col, id_col = _column(names, SEQUENCE_COLUMNS), _column(names, ID_COLUMNS)
        numbers = [n for n, _ in rows]
        seqs = [fields[seq_col] for _, fields in rows]
        ids = [fields[id_col].decode("ascii", "replace") if id_col is not None else str(k)
               for k, (_, fields) in enumerate(rows)]
    else:
        _refuse_csv(lines, path)
        numbers, seqs = [], []
        for number, line in enumerate(lines, start=1):
            fields = line.split(b"\t")
            if len(fields) > 2 or not line.strip():
                what = "blank line (only trailing blank lines are allowed)" if not line.strip() else \
                    f"expected the sequence and at most an expression value, found {len(fields)} tab-separated columns"
                raise DataFormatError(path, number, what)
            numbers.append(number)
            seqs.append(fields[0].strip())
        ids = [str(k) for k in range(len(seqs))]
    ids = _unique_ids(ids, numbers, path)
    codes, keep, report = prepare_sequences(seqs, numbers, path, filters, iupac_as_n=iupac_as_n, locate=locate)
    return SequenceFile(ids[keep], codes, np.asarray(numbers, dtype=np.int64)[keep], report)


# ---------------------------------------------------------------------------- variant pairs

@dataclass
class VariantPairs:
    """Reference and variant sequences, one pair per row, packed for a model.

    Attributes
    ----------
    ids : np.ndarray of str, shape (N,)
    ref_codes, alt_codes : np.ndarray, uint8, shape (N, seq_len)
    lines : np.ndarray, int64, shape (N,)
    report : PreparationReport
        Of the ref and alt sequences together (``sequences`` is 2N).
    """

    ids: np.ndarray
    ref_codes: np.ndarray
    alt_codes: np.ndarray
    lines: np.ndarray
    report: PreparationReport = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)


def apply_substitutions(reference: bytes, text: str, path: Path, line: int) -> bytes:
    """``reference`` with the substitutions ``pos:ref>alt[,pos:ref>alt...]`` (1-based) applied.

    Each ``ref`` must be what the reference holds at ``pos``, and ``alt`` as long as ``ref``.
    """
    seq = bytearray(reference)
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        m = _SUBSTITUTION.fullmatch(item)
        if not m:
            raise DataFormatError(path, line, f"{item!r} is not a substitution pos:ref>alt (e.g. 17:A>G, 1-based)")
        pos, ref, alt = int(m[1]), m[2].upper().encode(), m[3].upper().encode()
        if len(ref) != len(alt):
            raise DataFormatError(path, line, f"{item}: ref and alt differ in length; only substitutions are supported")
        if pos < 1 or pos + len(ref) - 1 > len(reference):
            raise DataFormatError(path, line, f"{item}: position outside the {len(reference)}-nt reference (1-based)")
        found = bytes(reference[pos - 1: pos - 1 + len(ref)]).upper()
        if found != ref:
            raise DataFormatError(path, line, f"{item}: the reference has {found.decode()} at position {pos}, "
                                              f"not {ref.decode()}")
        if alt == ref:
            raise DataFormatError(path, line, f"{item}: changes nothing (alt is the reference's own base); "
                                              "leave it out or name another base")
        seq[pos - 1: pos - 1 + len(alt)] = alt
    return bytes(seq)


def read_reference(source: str | Path, *, iupac_as_n: bool = False) -> bytes:
    """One reference sequence: a file holding exactly one sequence (any format of
    :func:`read_sequence_file`), or the sequence itself (letters A, C, G, T, N; other IUPAC
    letters too with ``iupac_as_n``, read as N when the pairs are prepared)."""
    text = str(source)
    letters = r"[ACGTNacgtn]+" if not iupac_as_n else r"[ACGTNRYSWKMBDHVacgtnryswkmbdhv]+"
    if re.fullmatch(letters, text) and not Path(text).exists():
        return text.upper().encode()
    path = check_input_file(source)
    lines = _read_lines(path)
    if lines[0].lstrip().startswith(b">"):
        seqs = _fasta(lines, path).seqs
    elif (names := _header(lines[0])) is not None:
        seqs = [fields[_column(names, SEQUENCE_COLUMNS)] for _, fields in _table_rows(lines, path, names)]
    else:
        seqs = [line.split(b"\t")[0].strip() for line in lines]
    if len(seqs) != 1:
        raise DataFormatError(path, None, f"a reference file must hold one sequence; it holds {len(seqs)}")
    if not iupac_as_n:
        _codes(seqs[0], path, 1)
    return seqs[0].upper()


def read_variant_pairs(path: str | Path, reference: str | Path | None = None, *,
                       iupac_as_n: bool = False) -> VariantPairs:
    """Read variant pairs to score (see the module docstring).

    Parameters
    ----------
    path : path
        A TSV with a header holding ``ref`` and ``alt`` (sequences) and, optionally, ``id``; or,
        with ``reference``, one variant per line: ``[id<TAB>]pos:ref>alt[,pos:ref>alt...]``
        (1-based positions; ``#`` starts a comment line). ``"-"``: standard input.
    reference : path or str, optional
        The reference sequence of a substitution list (:func:`read_reference`); refused with a
        ref/alt table, which it would not change.
    iupac_as_n : bool
        Read IUPAC letters other than N as N (counted) instead of refusing them.

    Returns
    -------
    VariantPairs

    Raises
    ------
    FileNotFoundError, DataFormatError
        Naming the file, the line and the problem (a base that is not the reference's, a
        position outside it, a substitution that changes nothing, a character outside ACGTN, a
        missing column, a reference given with a ref/alt table, ...).
    """
    path = _input_path(path)
    lines = _read_lines(path)
    names = [c.strip().decode("ascii", "replace").lower() for c in lines[0].split(b"\t")]
    if "ref" in names and "alt" in names:
        if reference is not None:
            raise DataFormatError(path, 1, "has ref and alt columns, so a reference sequence (--reference) would be "
                                           "ignored; leave it out (it is for a list of substitutions pos:ref>alt)")
        rows = _table_rows(lines, path, names)
        id_col = _column(names, ID_COLUMNS)
        numbers = [n for n, _ in rows]
        ref = [fields[names.index("ref")] for _, fields in rows]
        alt = [fields[names.index("alt")] for _, fields in rows]
        ids = [fields[id_col].decode("ascii", "replace") if id_col is not None else str(k)
               for k, (_, fields) in enumerate(rows)]
    elif reference is None:
        _refuse_csv(lines, path)
        raise DataFormatError(path, 1, "expected a header with ref and alt columns (sequences), or a list of "
                                       "substitutions pos:ref>alt with a reference sequence (--reference)")
    else:
        base = read_reference(reference, iupac_as_n=iupac_as_n)
        numbers, ref, alt, ids = [], [], [], []
        for number, line in enumerate(lines, start=1):
            text = line.decode("ascii", "replace").strip()
            if not text or text.startswith("#"):
                continue
            name, _, subs = text.rpartition("\t")
            numbers.append(number)
            ref.append(base)
            alt.append(apply_substitutions(base, subs, path, number))
            ids.append(name.strip() or subs.replace(" ", ""))
        if not numbers:
            raise DataFormatError(path, None, "no substitutions")
    ids = _unique_ids(ids, numbers, path)
    ref_codes, _, ref_report = prepare_sequences(ref, numbers, path, iupac_as_n=iupac_as_n)
    alt_codes, _, alt_report = prepare_sequences(alt, numbers, path, iupac_as_n=iupac_as_n)
    report = PreparationReport(f"{path} (ref and alt of {len(ids):,} variants)",
                               **{k: getattr(ref_report, k) + getattr(alt_report, k)
                                  for k in ("sequences", "padded", "cut", "outside_filters", "iupac_as_n")})
    return VariantPairs(ids, ref_codes, alt_codes, np.asarray(numbers, dtype=np.int64), report)


# ---------------------------------------------------------------------------- predictions of the test set

def check_test_sequences(path: str | Path) -> int | None:
    """Check the ``seq`` column of a predictions file against the test set's sequences.

    A file written by ``camformer predict`` carries the sequence of each id. Scored by id alone,
    predictions of other sequences whose ids happen to be test-set ids (the row numbers of a
    DREAM file: 0, 1, 2, ...) would get a score; checked here, they are refused.

    Parameters
    ----------
    path : path
        A TSV (CSV if named ``.csv``; gzip too) with an ``id`` column and, optionally, ``seq``
        (or ``sequence``): prepared as :func:`read_sequence_file` prepares sequences (3' end
        padded with N or cut to 110 nt) before the comparison.

    Returns
    -------
    int or None
        The rows checked (those whose id is a test-set id), or None when the file has no
        sequence column (nothing to check).

    Raises
    ------
    DataFormatError
        Naming the file, the line of the first row whose sequence differs from the test set's
        sequence of its id, and how many differ.
    """
    import pandas as pd

    from . import dream

    path = Path(path)
    sep = "," if path.name.removesuffix(".gz").endswith(".csv") else "\t"
    header = list(pd.read_csv(path, sep=sep, nrows=0).columns)
    column = next((c for c in header if str(c).lower() in SEQUENCE_COLUMNS), None)
    if column is None or "id" not in header:
        return None
    table = pd.read_csv(path, sep=sep, dtype=str, usecols=["id", column], keep_default_na=False)
    codes, _, _ = prepare_sequences([s.strip().encode() for s in table[column]], list(range(2, len(table) + 2)), path)
    test = dream.test_set_data()
    ids = pd.to_numeric(table["id"], errors="coerce").to_numpy()
    row = pd.Index(test.ids).get_indexer(ids)
    known = row >= 0
    differ = np.flatnonzero(known & (codes != test.codes[np.where(known, row, 0)]).any(axis=1))
    if len(differ):
        first = int(differ[0])
        raise DataFormatError(path, first + 2, f"id {table['id'].iloc[first]}: the sequence is not the test set's "
                              f"sequence of this id ({len(differ):,} of {int(known.sum()):,} rows differ); these are "
                              "not predictions of the test sequences, so they are not scored")
    return int(known.sum())
