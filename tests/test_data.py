"""The data layer: reading, validation messages, drop counts, padding, encodings, splits."""

import gzip

import numpy as np
import pytest
import torch

from camformer.data.dream import (
    ENCODINGS,
    DataFormatError,
    FilterConfig,
    SequenceData,
    decode,
    encode_sequences,
    family_split,
    load_split,
    load_test_pairs,
    load_test_table,
    read_dream_txt,
    resource_path,
    save_split,
    stratified_split,
    test_set_data,
    variant_families,
)

from camformer.models.encoding import encode

SEQ = "ACGT" * 27 + "AC"  # 110 nt


def write(tmp_path, text, name="train.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- reading good files

def test_reads_rows_with_ids_targets_and_flags(tmp_path):
    path = write(tmp_path, f"{SEQ}\t11\n{SEQ.lower()}\t3.5\n")
    data, report = read_dream_txt(path)
    assert data.codes.shape == (2, 110) and data.codes.dtype == np.uint8
    assert decode(data.codes) == [SEQ, SEQ]  # lower case is read as upper case
    np.testing.assert_array_equal(data.targets, np.array([11, 3.5], np.float32))
    np.testing.assert_array_equal(data.ids, [0, 1])
    np.testing.assert_array_equal(data.real_valued, [False, True])
    assert (report.lines, report.kept, report.dropped) == (2, 2, 0)


def test_crlf_trailing_blank_line_and_missing_final_newline(tmp_path):
    a, _ = read_dream_txt(write(tmp_path, f"{SEQ}\t1\r\n{SEQ}\t2\r\n\r\n", "a.txt"))
    b, _ = read_dream_txt(write(tmp_path, f"{SEQ}\t1\n{SEQ}\t2", "b.txt"))
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.targets, [1, 2])
    np.testing.assert_array_equal(b.targets, [1, 2])


def test_gzip_equals_plain(tmp_path):
    text = "".join(f"{SEQ[i:] + SEQ[:i]}\t{i}\n" for i in range(50))
    plain, _ = read_dream_txt(write(tmp_path, text))
    gz, _ = read_dream_txt(write(tmp_path, gzip.compress(text.encode()), "train.txt.gz"))
    np.testing.assert_array_equal(plain.codes, gz.codes)
    np.testing.assert_array_equal(plain.targets, gz.targets)


def test_small_chunks_give_the_same_result_as_one_chunk(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(300):
        n = int(rng.integers(105, 116))
        s = "".join(rng.choice(list("ACGTN"), n, p=[0.24, 0.24, 0.24, 0.24, 0.04]))
        lines.append(f"{s}\t{rng.integers(0, 18) if i % 3 else rng.random() * 17}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    one, r1 = read_dream_txt(path)
    many, r2 = read_dream_txt(path, chunk_bytes=333)  # forces lines split across chunks
    np.testing.assert_array_equal(one.codes, many.codes)
    np.testing.assert_array_equal(one.ids, many.ids)
    np.testing.assert_array_equal(one.targets, many.targets)
    assert str(r1) == str(r2)


def test_bundled_training_sample():
    data, report = read_dream_txt(resource_path("dream2022_train_sample1000.txt"))
    assert report.lines == 1000
    assert report.kept + report.too_many_n + report.bad_length == 1000
    assert len(data) == report.kept


# ---------------------------------------------------------------- filters and padding

def test_drops_are_counted_by_reason(tmp_path):
    rows = [
        SEQ,                  # kept
        "NNNN" + SEQ[4:],     # 4 N: dropped (more than 3)
        "NNN" + SEQ[3:],      # 3 N: kept
        SEQ[:106],            # 106 nt: outside 110 ± 3, dropped
        SEQ[:107],            # 107 nt: kept, padded with 3 N
        SEQ + "ACG",          # 113 nt: kept, cut to 110
        SEQ + "ACGT",         # 114 nt: dropped
    ]
    data, report = read_dream_txt(write(tmp_path, "".join(f"{s}\t1\n" for s in rows)))
    assert (report.lines, report.kept, report.too_many_n, report.bad_length) == (7, 4, 1, 2)
    assert (report.padded, report.truncated) == (1, 1)
    np.testing.assert_array_equal(data.ids, [0, 2, 4, 5])  # ids are the rows in the file
    assert decode(data.codes)[2] == SEQ[:107] + "NNN"
    assert decode(data.codes)[3] == SEQ
    assert "4 kept, 3 dropped" in str(report)


def test_filters_are_options(tmp_path):
    path = write(tmp_path, f"{'NNNN' + SEQ[4:]}\t1\n{SEQ[:100]}\t2\n")
    data, report = read_dream_txt(path, FilterConfig(max_n=10, length_tolerance=20))
    assert report.kept == 2
    assert decode(data.codes)[1] == SEQ[:100] + "N" * 10


def test_encode_sequences_pads_3prime_and_cuts():
    codes = encode_sequences(["ACGT", SEQ + "TTTT"])
    assert decode(codes) == ["ACGT" + "N" * 106, SEQ]
    with pytest.raises(ValueError, match="sequence 0: character 'X'"):
        encode_sequences(["ACXT"])


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize(
    "text, line, message",
    [
        (f"{SEQ}\t1\nACGTXACGT\t2\n", 2, "character 'X' at position 5 of the sequence is not one of A, C, G, T, N"),
        (f"{SEQ}\t1\n{SEQ}\tabc\n", 2, "expression value is not a number: 'abc'"),
        (f"{SEQ}\t\n", 1, "expression value is missing"),
        (f"{SEQ}\tnan\n", 1, "expression value is 'nan', not a finite number"),
        (f"{SEQ}\t1\n{SEQ}\tinf\n", 2, "expression value is 'inf', not a finite number"),
        (f"{SEQ}\t1\n{SEQ}\n", 2, "expected 2 tab-separated columns (sequence, expression), found 1"),
        (f"{SEQ}\t1\t2\n", 1, "expected 2 tab-separated columns (sequence, expression), found 3"),
        (f"{SEQ}\t1\n\n{SEQ}\t2\n", 2, "blank line (only a trailing blank line is allowed)"),
        ("\t1\n", 1, "empty sequence"),
    ],
)
def test_bad_input_names_file_line_and_problem(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError) as err:
        read_dream_txt(path)
    assert str(err.value) == f"{path}, line {line}: {message}"
    assert (err.value.line, err.value.problem) == (line, message)


def test_bad_line_number_is_right_across_chunks(tmp_path):
    text = "".join(f"{SEQ}\t{i}\n" for i in range(200)) + f"{SEQ}\toops\n"
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError, match=r"line 201: expression value is not a number"):
        read_dream_txt(path, chunk_bytes=1000)


def test_blank_line_before_more_rows_in_a_later_chunk(tmp_path):
    text = "".join(f"{SEQ}\t{i}\n" for i in range(20)) + "\n" + "".join(f"{SEQ}\t{i}\n" for i in range(20))
    with pytest.raises(DataFormatError, match=r"line 21: blank line"):
        read_dream_txt(write(tmp_path, text), chunk_bytes=2000)


@pytest.mark.parametrize("text", ["", "\n", "\r\n\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(DataFormatError, match="the file is empty"):
        read_dream_txt(path)


def test_truncated_gzip(tmp_path):
    raw = gzip.compress("".join(f"{SEQ}\t{i}\n" for i in range(2000)).encode())
    path = write(tmp_path, raw[: len(raw) // 2], "train.txt.gz")
    with pytest.raises(DataFormatError, match="the gzip stream is truncated or corrupt") as err:
        read_dream_txt(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_dream_txt(tmp_path / "nope.txt")


# ---------------------------------------------------------------- encodings

def test_each_encoding_on_a_hand_made_sequence():
    codes = torch.from_numpy(encode_sequences(["ACGTN"], seq_len=5))
    expected_base = {
        "onehot": [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]],
        "n025": [[1, 0, 0, 0, .25], [0, 1, 0, 0, .25], [0, 0, 1, 0, .25], [0, 0, 0, 1, .25]],
    }
    purine = [1, 0, 1, 0, .5]
    flag_test = [1, 1, 1, 1, 1]
    expected = {
        "onehot": expected_base["onehot"],
        "onehotWithN": expected_base["n025"],
        "onehotWithP": expected_base["n025"] + [purine],
        "onehotWithInt": expected_base["n025"] + [flag_test],
        "onehotWithBoth": expected_base["n025"] + [flag_test, purine],
    }
    for name, want in expected.items():
        x = encode(codes, name)
        assert x.shape == (1, ENCODINGS[name], 5) and x.dtype == torch.float32
        np.testing.assert_allclose(x[0].numpy(), np.array(want, np.float32), err_msg=name)


def test_int_flag_follows_real_valued():
    codes = torch.from_numpy(encode_sequences(["AC", "GT"], seq_len=2))
    x = encode(codes, "onehotWithBoth", real_valued=torch.tensor([True, False]))
    np.testing.assert_array_equal(x[:, 4, :].numpy(), [[1, 1], [0, 0]])
    np.testing.assert_array_equal(x[:, 5, :].numpy(), [[1, 0], [1, 0]])


def naive_encoding(codes: np.ndarray, encoding: str, real_valued: np.ndarray) -> np.ndarray:
    """The paper's encodings written out with numpy, one channel at a time: (N, C, L)."""
    base = (codes[:, None, :] == np.arange(4)[None, :, None]).astype(np.float64)  # one-hot, N = 0
    if encoding != "onehot":
        base += 0.25 * (codes == 4)[:, None, :]  # N as 0.25 in every base channel
    purine = np.select([np.isin(codes, [0, 2]), codes == 4], [1.0, 0.5], 0.0)[:, None, :]
    flag = np.broadcast_to(real_valued.astype(np.float64)[:, None, None], purine.shape)
    extra = {"onehot": [], "onehotWithN": [], "onehotWithP": [purine], "onehotWithInt": [flag],
             "onehotWithBoth": [flag, purine]}[encoding]
    return np.concatenate([base, *extra], axis=1)


def test_encode_equals_a_naive_numpy_encoding_and_reuses_its_tables():
    from camformer.models.encoding import encoding_table as _encoding_table

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, size=(6, 30)).astype(np.uint8)
    flags = rng.random(6) < 0.5
    _encoding_table.cache_clear()
    for dtype in (torch.float32, torch.float64):
        for name in ENCODINGS:
            for batch in (codes[:3], codes[3:]):  # two batches: the second reuses the table
                rv = flags[: len(batch)]
                x = encode(torch.from_numpy(batch), name, real_valued=torch.from_numpy(rv), dtype=dtype)
                assert x.dtype == dtype and x.is_contiguous()
                np.testing.assert_array_equal(x.numpy(), naive_encoding(batch, name, rv), err_msg=name)
    info = _encoding_table.cache_info()
    assert (info.misses, info.hits) == (2 * len(ENCODINGS), 2 * len(ENCODINGS))
    # a cached table is never written into: encoding again gives the same answer
    again = encode(torch.from_numpy(codes), "onehotWithBoth", real_valued=torch.from_numpy(~flags))
    np.testing.assert_array_equal(again.numpy(), naive_encoding(codes, "onehotWithBoth", ~flags))


def test_encode_rejects_unknown_encoding():
    with pytest.raises(ValueError, match="unknown encoding 'onehotX'"):
        encode(torch.zeros(1, 3, dtype=torch.uint8), "onehotX")


# ---------------------------------------------------------------- test set and splits

def test_bundled_test_set():
    table = load_test_table()
    assert len(table) == 71103 and int(table["public"].sum()) == 9045
    data = test_set_data(table)
    assert data.codes.shape == (71103, 110)
    assert decode(data.codes[:1])[0] == table["seq"][0]


def test_stratified_split_is_stratified_and_reproducible():
    rng = np.random.default_rng(1)
    targets = rng.gamma(2.0, 3.0, 10_000)
    ids = np.arange(10_000) * 7
    a = stratified_split(ids, targets, seed=5)
    b = stratified_split(ids, targets, seed=5)
    c = stratified_split(ids, targets, seed=6)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["val"], c["val"])
    assert sorted(np.concatenate(list(a.values()))) == sorted(ids)  # a partition
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (9000, 500, 500)
    # Every decile holds 90/5/5 of its members.
    deciles = np.searchsorted(np.quantile(targets, np.linspace(0, 1, 11)[1:-1]), targets, side="right")
    decile_of = dict(zip(ids, deciles))
    for name, frac in (("train", 0.9), ("val", 0.05), ("test", 0.05)):
        counts = np.bincount([decile_of[i] for i in a[name]], minlength=10)
        np.testing.assert_array_equal(counts, np.full(10, int(1000 * frac)))


def test_split_round_trip(tmp_path):
    split = stratified_split(np.arange(100), np.arange(100.0))
    save_split(split, tmp_path / "split.npz")
    back = load_split(tmp_path / "split.npz")
    for k in split:
        np.testing.assert_array_equal(split[k], back[k])


def test_variant_families_and_family_split_keep_pairs_together():
    import pandas as pd

    ids = np.array([10, 11, 12, 13, 14, 15])
    pairs = pd.DataFrame({"ref_id": [10, 12, 13], "alt_id": [11, 13, 14]})
    fam = variant_families(ids, pairs)
    assert fam[0] == fam[1] and fam[2] == fam[3] == fam[4] and len(set(fam)) == 3

    table = load_test_table()
    pairs = load_test_pairs()
    split = family_split(table["id"].to_numpy(), table["expression"].to_numpy(), pairs)
    where = {}
    for name, members in split.items():
        where.update(dict.fromkeys(members.tolist(), name))
    assert len(where) == len(table)
    crossing = sum(where[r] != where[a] for r, a in zip(pairs["ref_id"], pairs["alt_id"]))
    assert crossing == 0
    assert 0.75 < len(split["train"]) / len(table) < 0.85


def test_variant_families_of_a_subset_of_ids():
    """Pairs that reach ids outside the subset (above its largest id, too) are left out,
    not an IndexError."""
    import pandas as pd

    pairs = pd.DataFrame({"ref_id": [10, 12, 13, 20, 14], "alt_id": [11, 13, 30, 21, 15]})
    fam = variant_families(np.array([14, 12, 13, 10]), pairs)  # unsorted, no 11, 15, 20, 21, 30
    assert fam[1] == fam[2] and len(set(fam.tolist())) == 3  # {14}, {12, 13}, {10}
    assert len(variant_families(np.array([], np.int64), pairs)) == 0


def test_subset_by_ids_keeps_order():
    data = SequenceData(np.zeros((3, 110), np.uint8), np.array([1, 2, 3], np.float32), np.array([7, 3, 5]))
    sub = data.subset(np.array([5, 7]))
    np.testing.assert_array_equal(sub.targets, [3, 1])
    for missing in ([4], [8]):  # 8 is above the largest id
        with pytest.raises(KeyError):
            data.subset(np.array(missing))


def test_report_counts_lengths(tmp_path):
    rows = [SEQ, SEQ[:107], SEQ[:100], SEQ]
    _, report = read_dream_txt(write(tmp_path, "".join(f"{s}\t1\n" for s in rows)), chunk_bytes=150)
    assert report.length_counts == {110: 2, 107: 1, 100: 1}


# ---------------------------------------------------------------- input-file cases of issue 19

def test_value_beyond_float32_is_an_error_not_inf(tmp_path):
    path = write(tmp_path, f"{SEQ}\t1\n{SEQ}\t1e39\n")
    with pytest.raises(DataFormatError, match=r"line 2: expression value '1e39' is beyond the float32 range") as err:
        read_dream_txt(path)
    assert str(path) in str(err.value) and "inf" in str(err.value)
    assert read_dream_txt(write(tmp_path, f"{SEQ}\t3e38\n", "ok.txt"))[0].targets[0] == np.float32(3e38)


def test_utf8_byte_order_mark_at_the_start_is_accepted(tmp_path):
    plain, _ = read_dream_txt(write(tmp_path, f"{SEQ}\t1\n{SEQ}\t2\n", "plain.txt"))
    bom, report = read_dream_txt(write(tmp_path, b"\xef\xbb\xbf" + f"{SEQ}\t1\n{SEQ}\t2\n".encode(), "bom.txt"))
    np.testing.assert_array_equal(bom.codes, plain.codes)
    assert report.length_counts == {110: 2}
    gz = tmp_path / "bom.txt.gz"
    gz.write_bytes(gzip.compress(b"\xef\xbb\xbf" + f"{SEQ}\t1\n".encode()))
    assert read_dream_txt(gz)[0].codes.tolist() == plain.codes[:1].tolist()


def test_byte_order_mark_inside_the_file_is_named(tmp_path):
    path = write(tmp_path, f"{SEQ}\t1\n".encode() + b"\xef\xbb\xbf" + f"{SEQ}\t2\n".encode())
    with pytest.raises(DataFormatError, match=r"line 2: character a UTF-8 byte-order mark \(bytes EF BB BF") as err:
        read_dream_txt(path)
    assert "'ï'" not in str(err.value)
    other = write(tmp_path, f"{SEQ[:5]}é{SEQ[6:]}\t1\n", "accent.txt")
    with pytest.raises(DataFormatError, match=r"line 1: character non-ASCII 'é' \(byte 0xC3\) at position 6"):
        read_dream_txt(other)


def test_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match=f"{tmp_path}: is a directory; give a file"):
        read_dream_txt(tmp_path)


def test_reading_and_checking_need_no_torch():
    """`camformer data check` reads a file with camformer.data.dream and the command line: neither
    imports torch (0.26 GB of RSS for the CPU build, 0.69 GB for the CUDA one)."""
    import subprocess
    import sys

    code = ("import sys; from camformer.cli.main import main; "
            f"rc = main(['data', 'check', {str(resource_path('dream2022_train_sample1000.txt'))!r}]); "
            "print('torch imported:', 'torch' in sys.modules, rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "1,000 rows read" in out and out.strip().endswith("torch imported: False 0")
    # one-hot encoding is camformer.models.encoding's job, which needs torch; camformer.data.dream does not offer it
    code = "import sys, camformer.data.dream as d; print('torch' in sys.modules, hasattr(d, 'encode'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
