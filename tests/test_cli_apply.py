"""`camformer predict`, `variants` and `explain` on bundled test sequences: offline with a saved
book model, and with a published model served from 127.0.0.1; their inputs and errors."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest
import torch

from camformer.cli import apply
from camformer.paper import published
from camformer.records.book import save_book_model
from camformer.cli.main import main
from camformer.data.dream import DataFormatError, encode_sequences, load_published_predictions, load_test_table, \
    test_set_data
from camformer.models.encoding import encode
from camformer.models.inference import predict
from camformer.explain.ism import ism
from camformer.models.networks import camformer_mini, init_he
from camformer.data.sequence_files import read_sequence_file, read_variant_pairs
from test_published import authors, served  # noqa: F401  (fixtures: the authors' tarballs on 127.0.0.1)

torch.set_num_threads(1)
TEST = load_test_table().iloc[:3]
SEQS = list(TEST["seq"])
IDS = [str(i) for i in TEST["id"]]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A book results folder with a saved model (a He-initialised Mini, onehotWithP), and the model."""
    root = tmp_path_factory.mktemp("book")
    torch.manual_seed(3)
    model = init_he(camformer_mini(5)).eval()
    save_book_model(model, pd.DataFrame({"id": [1], "prediction": [0.0]}), root, "quick", dataset="test_library",
                    split={"train": np.array([2]), "val": np.array([3]), "test": np.array([1])},
                    encoding="onehotWithP")
    return root / "quick", model


def _direct(model, seqs: list[str]) -> np.ndarray:
    with torch.no_grad():
        return model(encode(torch.from_numpy(encode_sequences(seqs)), "onehotWithP")).numpy()


def _run(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


# ---------------------------------------------------------------- predict

def test_predict_reads_fasta_tsv_and_dream_files_alike(book, tmp_path, capsys):
    folder, model = book
    fasta = tmp_path / "seqs.fa"
    fasta.write_text("".join(f">{i} test\n{s[:60]}\n{s[60:]}\n" for i, s in zip(IDS, SEQS)))
    tsv = tmp_path / "seqs.tsv.gz"
    tsv.write_bytes(gzip.compress(("\ufeffid\tseq\n" + "".join(f"{i}\t{s.lower()}\n" for i, s in zip(IDS, SEQS)))
                                  .encode()))
    dream = tmp_path / "seqs.txt"
    dream.write_text("".join(f"{s}\t0\n" for s in SEQS))
    want = _direct(model, SEQS)
    tables = []
    for path in (fasta, tsv, dream):
        rc, out, err = _run(["predict", "--model", str(folder), str(path), "--no-progress"], capsys)
        assert rc == 0, err
        table = pd.read_csv(io.StringIO(out), sep="\t", dtype={"id": str})
        np.testing.assert_allclose(table["prediction"], want, rtol=1e-5, atol=1e-6)
        assert f"{path}: 3 sequences; 0 shorter than 110 nt padded" in err
        tables.append(table)
    assert list(tables[0]["id"]) == list(tables[1]["id"]) == IDS and list(tables[2]["id"]) == ["0", "1", "2"]
    # --checkpoint still names a model directory
    assert main(["predict", "--checkpoint", str(folder / "model"), str(dream), "-o", str(tmp_path / "p.tsv"),
                 "--no-progress"]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.tsv", sep="\t")["prediction"], want, rtol=1e-5, atol=1e-6)


def test_other_lengths_are_padded_or_cut_as_the_paper_did_and_counted(book, tmp_path, capsys):
    folder, model = book
    short, long_ = SEQS[0][:100], SEQS[1] + "ACG"  # 100 nt: outside 110 +- 3; 113 nt: inside
    path = tmp_path / "odd.fa"
    path.write_text(f">short\n{short}\n>long\n{long_}\n>far\n{SEQS[2][:90]}\n")
    rc, out, err = _run(["predict", "-m", str(folder), str(path), "--no-progress"], capsys)
    assert rc == 0
    got = pd.read_csv(io.StringIO(out), sep="\t")["prediction"].to_numpy()
    np.testing.assert_allclose(got, _direct(model, [short + "N" * 10, long_[:110], SEQS[2][:90] + "N" * 20]),
                               rtol=1e-5, atol=1e-6)
    assert "3 sequences; 2 shorter than 110 nt padded at the 3' end with N, 1 longer cut to 110 nt" in err
    assert "2 outside the paper's training filters (length or N count), kept" in err  # 100 and 90 nt
    rc, out, err = _run(["predict", "-m", str(folder), str(path), "--no-progress", "--paper-filters"], capsys)
    assert list(pd.read_csv(io.StringIO(out), sep="\t")["id"]) == ["long"] and "2 dropped" in err


@pytest.mark.parametrize("text, line, message", [
    ("id\tseq\na\tACGT\nb\tACXT\n", 3, "character 'X' at position 3 of the sequence"),
    (">a\nACGT\n>a\nACGT\n", 3, "id 'a' is already used on line 1"),
    ("id\tseq\na\tACGT\tx\n", 2, "3 tab-separated columns, the header has 2"),
    ("ACGT\t1\n\nACGT\t2\n", 2, "blank line"),
    ("ACGT\t1\t2\n", 1, "found 3 tab-separated columns"),
    ("ACGT\nTTTT\n", 1, None),  # a sequence per line, without values: fine
])
def test_bad_sequence_files_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "in.txt"
    path.write_text(text)
    if message is None:
        assert len(read_sequence_file(path)) == 2
        return
    with pytest.raises(DataFormatError, match=f"line {line}: .*{message}") as err:
        read_sequence_file(path)
    assert str(path) in str(err.value)


def test_predict_errors_exit_2(book, tmp_path, capsys):
    folder, _ = book
    rc, _, err = _run(["predict", "-m", str(folder), str(tmp_path), "--no-progress"], capsys)
    assert rc == 2 and f"{tmp_path}: is a directory" in err
    (tmp_path / "s.txt").write_text(SEQS[0] + "\n")
    rc, _, err = _run(["predict", "-m", str(tmp_path / "nowhere"), str(tmp_path / "s.txt")], capsys)
    assert rc == 2 and "neither a published model (original or mini), the authors' tarball of one, nor a model " \
                       "directory" in err


# ---------------------------------------------------------------- variants

def test_variants_from_ref_alt_pairs_and_from_substitutions(book, tmp_path, capsys):
    folder, model = book
    ref = SEQS[0]
    alt1 = ref[:16] + ("A" if ref[16] != "A" else "C") + ref[17:]
    alt2 = ref[:49] + "GG" + ref[51:]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"id\tref\talt\nv1\t{ref}\t{alt1}\nv2\t{ref}\t{alt2}\n")
    rc, out, err = _run(["variants", "-m", str(folder), str(pairs), "--no-progress"], capsys)
    assert rc == 0, err
    table = pd.read_csv(io.StringIO(out), sep="\t")
    want = _direct(model, [ref, alt1, alt2])
    np.testing.assert_allclose(table["effect"], want[1:] - want[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(table["ref_prediction"], want[[0, 0]], rtol=1e-5, atol=1e-6)
    # The same variants as substitutions of a reference (1-based positions).
    subs = tmp_path / "subs.txt"
    subs.write_text(f"# two variants\nv1\t17:{ref[16]}>{alt1[16]}\nv2\t50:{ref[49:51]}>GG\n")
    (tmp_path / "ref.fa").write_text(f">ref\n{ref}\n")
    rc, out, err = _run(["variants", "-m", str(folder), str(subs), "--reference", str(tmp_path / "ref.fa"),
                         "--no-progress"], capsys)
    assert rc == 0, err
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out), sep="\t")["effect"], table["effect"], rtol=1e-5,
                               atol=1e-6)
    # several substitutions in one variant, and the reference given as a sequence
    got = read_variant_pairs(subs, ref)
    assert got.alt_codes.tolist() == encode_sequences([alt1, alt2]).tolist()


@pytest.mark.parametrize("line, message", [
    ("17:T>G", None),
    ("v\t17:Q>G", "is not a substitution pos:ref>alt"),
    ("v\t111:A>G", "position outside the 110-nt reference"),
    ("v\t1:AC>G", "ref and alt differ in length"),
])
def test_bad_substitutions_name_file_and_line(tmp_path, line, message):
    ref = "T" + SEQS[0][1:]
    path = tmp_path / "subs.txt"
    path.write_text(f"ok\t1:T>A\n{line.replace('17:T', '17:' + ref[16])}\n")
    if message is None:
        assert len(read_variant_pairs(path, ref)) == 2
        return
    with pytest.raises(DataFormatError, match=f"{path}, line 2: .*{message}"):
        read_variant_pairs(path, ref)


def test_a_substitution_whose_base_is_not_the_references_exits_2(book, tmp_path, capsys):
    folder, _ = book
    ref = SEQS[0]
    wrong = next(b for b in "ACGT" if b != ref[9])
    path = tmp_path / "subs.txt"
    path.write_text(f"a\t10:{wrong}>{ref[9]}\n")
    rc, _, err = _run(["variants", "-m", str(folder), str(path), "--reference", ref], capsys)
    assert rc == 2 and f"{path}, line 1: 10:{wrong}>{ref[9]}: the reference has {ref[9]} at position 10" in err
    rc, _, err = _run(["variants", "-m", str(folder), str(path)], capsys)
    assert rc == 2 and "expected a header with ref and alt columns" in err


# ---------------------------------------------------------------- explain

def test_explain_ism_is_exact_tidy_and_draws_logos(book, tmp_path, capsys):
    folder, model = book
    path = tmp_path / "two.fa"
    path.write_text("".join(f">{i}\n{s}\n" for i, s in zip(IDS[:2], SEQS[:2])))
    rc, out, err = _run(["explain", "-m", str(folder), str(path), "--method", "ism", "--logos", str(tmp_path / "logos"),
                         "--no-progress"], capsys)
    assert rc == 0, err
    table = pd.read_csv(io.StringIO(out), sep="\t", dtype={"id": str})
    assert list(table.columns) == ["id", "position", "base", "score"] and len(table) == 2 * 110 * 4
    codes = encode_sequences(SEQS[:2])
    want = ism(model, codes, positions=None)  # the plain batched ISM: one forward pass per mutant
    got = table["score"].to_numpy().reshape(2, 110, 4).transpose(0, 2, 1)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-5)
    at_reference = table[table["base"] == np.array(list("ACGT"))[codes.reshape(-1).repeat(4) % 4]]
    assert (at_reference["score"] == 0).all()
    assert table.iloc[0].tolist()[:3] == [IDS[0], 1, "A"]
    pngs = sorted((tmp_path / "logos").iterdir())
    assert [p.name for p in pngs] == sorted(f"{i}.png" for i in IDS[:2])
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "2 sequence logos written" in err


def test_explain_uses_the_receptive_field_ism_for_a_camformer(book, monkeypatch):
    _, model = book
    calls = []
    import camformer.explain.ism as ism_module

    real = ism_module.ism_receptive_field
    monkeypatch.setattr(ism_module, "ism_receptive_field", lambda *a, **k: calls.append(1) or real(*a, **k))
    apply.explain_maps(model, encode_sequences(SEQS[:1]), "ism")
    assert calls == [1]


@pytest.mark.parametrize("method", ["ig", "deeplift", "gradcam"])
def test_explain_attributions(book, tmp_path, capsys, method):
    folder, model = book
    path = tmp_path / "one.txt"
    path.write_text(SEQS[0] + "\n")
    rc, out, err = _run(["explain", "-m", str(folder), str(path), "--method", method, "--no-progress"], capsys)
    assert rc == 0, err
    table = pd.read_csv(io.StringIO(out), sep="\t")
    assert len(table) == 440 and np.isfinite(table["score"]).all() and (table["score"] != 0).any()
    if method == "ig":  # completeness: the attributions add up to f(x) - f(all-zero input)
        x = encode(torch.from_numpy(encode_sequences(SEQS[:1])), "onehotWithP")
        with torch.no_grad():
            gap = (model(x) - model(torch.zeros_like(x))).item()
        assert table["score"].sum() == pytest.approx(gap, rel=0.05, abs=0.02)
    rc, _, err = _run(["explain", "-m", str(folder), str(path), "--method", "shap"], capsys)
    assert rc == 2 and "choose from ism, gradcam, ig, deeplift" in err


# ---------------------------------------------------------------- a published model from 127.0.0.1

def test_the_three_commands_with_a_published_model_served_locally(authors, served, tmp_path, capsys, monkeypatch):
    """Mini made with the authors' classes, served from 127.0.0.1, taken by name; its self-check
    runs once and is remembered in the cache (these made-up weights are compared with their own
    predictions, standing in for the authors' published ones)."""
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    model = published.load_published("mini", cache_dir=tmp_path / "first", url=url, progressbar=False)
    test = test_set_data()
    own = pd.DataFrame({"id": test.ids[:32], "original": 0.0, "mini": predict(model, test.codes[:32])})
    monkeypatch.setattr(published, "load_published_predictions", lambda: own)
    checks = []
    real_check = published.self_check
    monkeypatch.setattr(published, "self_check", lambda *a, **k: checks.append(k["n"]) or real_check(*a, **k))
    common = ["--model", "mini", "--url", url, "--cache-dir", str(cache), "--check", "16", "--no-progress"]
    path = tmp_path / "two.txt"
    path.write_text("".join(f"{s}\t0\n" for s in SEQS[:2]))
    rc, out, err = _run(["predict", str(path), *common], capsys)
    assert rc == 0, err
    assert "Camformer Mini (published, seed 42): self-check on 16 test sequences" in err and "(checked now)" in err
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out), sep="\t")["prediction"],
                               predict(model, encode_sequences(SEQS[:2])), rtol=1e-5, atol=1e-6)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"ref\talt\n{SEQS[0]}\t{SEQS[1]}\n")
    rc, out, err = _run(["variants", str(pairs), *common], capsys)
    assert rc == 0 and "(remembered from its first load)" in err
    rc, out, err = _run(["explain", str(path), "--method", "ism", *common], capsys)
    assert rc == 0 and len(pd.read_csv(io.StringIO(out), sep="\t")) == 880
    assert checks == [16] and server.requests == ["/Camformer_219.tar.gz"] * 2  # "first", then cache
    # Against the authors' real predictions these weights fail; the failure is remembered too.
    monkeypatch.setattr(published, "load_published_predictions", lambda: real_predictions)
    real_predictions = load_published_predictions()
    other = ["--model", "mini", "--url", url, "--cache-dir", str(tmp_path / "c2"), "--check", "8", "--no-progress"]
    for when in ("checked now", "remembered in"):
        rc, _, err = _run(["predict", str(path), *other], capsys)
        assert rc == 2 and "differ from the published ones" in err and when in err
    assert checks == [16, 8]
    # The tarball downloaded by hand, given by its path: self-checked at every load.
    tarball = root / "Camformer_219.tar.gz"
    by_path = ["predict", str(path), "--model", str(tarball), "--check", "8", "--no-progress"]
    rc, _, err = _run(by_path, capsys)
    assert rc == 2 and "differ from the published ones" in err and len(err.splitlines()) == 1
    monkeypatch.setattr(published, "load_published_predictions", lambda: own)
    rc, out, err = _run(by_path, capsys)
    assert rc == 0 and f"Camformer Mini (published, seed 42) from {tarball}: self-check on 8 test sequences" in err
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out), sep="\t")["prediction"],
                               predict(model, encode_sequences(SEQS[:2])), rtol=1e-5, atol=1e-6)
