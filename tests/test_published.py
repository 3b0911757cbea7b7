"""`camformer.paper.published`: the paper's models from tarballs made here with the authors' classes,
served from 127.0.0.1 (the authors' site is not reachable from the test machine)."""

from __future__ import annotations

import builtins
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import time

import numpy as np
import pandas as pd
import pytest
import torch
from test_fetch import _Server  # pytest puts tests/ on sys.path

from camformer.data import fetch
from camformer.paper import published
from camformer.cli.main import main
from camformer.data.dream import test_set_data
from camformer.models.encoding import encode
from camformer.models.networks import camformer_mini, count_parameters
from camformer.records.book import REFUSED_LOG, PublishedRefusedWarning, describe_model, explained_models, \
    save_book_model
from camformer.models.inference import predict

from authors_archives import AUTHORS_RUNS, authors_code, authors_members as _authors_members, \
    authors_network, authors_package as _authors_package, model_args, pickled_forward, saved, \
    tarball as _tarball


@pytest.fixture(scope="module")
def authors(tmp_path_factory):
    """For each published model: the tarball (built and saved with the authors' code, as their
    JSON configs build it), a test input (N, C, 110) and what the pickled model predicts for it,
    loaded back with the authors' code; `base` is gone afterwards."""
    root = _authors_package(tmp_path_factory.mktemp("authors"))
    codes = torch.as_tensor(test_set_data().codes[:6])
    out = {}
    with authors_code(root):
        for name, (module, folder, args) in AUTHORS_RUNS.items():
            net = authors_network(name)
            data = saved(net)
            x = encode(codes, published.PUBLISHED[name].encoding)
            tarball = _tarball(root / published.PUBLISHED[name].file,
                               _authors_members(folder, data, published.PUBLISHED[name].encoding,
                                                args=model_args(name)))
            pools = [[m for m in block if isinstance(m, torch.nn.MaxPool2d)] for block in net.CNN_layers]
            out[name] = {"tarball": tarball, "x": x, "expected": pickled_forward(data, x), "model_bytes": data,
                         "params": sum(p.numel() for p in net.parameters()), "pools": pools, "repr": repr(net)}
    return out


def test_fixtures_hold_the_authors_identity_pools(authors):
    """As the authors' printout of the seed-42 Original shows (gen_figs.ipynb; model_str.md lists
    six MaxPool2d): a pool in every block, the identity ([1, 1] lists from JSON) but block 4's."""
    identity = "MaxPool2d(kernel_size=[1, 1], stride=[1, 1], padding=0, dilation=1, ceil_mode=False)"
    for name, pooled in (("original", 4), ("mini", 3)):
        pools = authors[name]["pools"]
        assert [len(p) for p in pools] == [1] * 6
        assert [repr(p[0]) == identity for p in pools] == [i != pooled for i in range(6)]
    assert "MaxPool2d(kernel_size=[10, 1], stride=[4, 1], padding=0" in authors["original"]["repr"]
    # torch prints blocks 1-3 once, "3 x Sequential", as in the authors' printout: 3 identity lines
    assert "(1-3): 3 x Sequential(" in authors["original"]["repr"]
    assert authors["original"]["repr"].count(identity) == 3


@pytest.fixture
def served(authors, tmp_path, monkeypatch):
    """The tarballs served from 127.0.0.1, a cache directory, the server."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(fetch.ENV_VAR, raising=False)
    monkeypatch.delenv(published.OFFLINE_ENV, raising=False)
    root = tmp_path / "server"
    root.mkdir()
    for item in authors.values():
        (root / item["tarball"].name).write_bytes(item["tarball"].read_bytes())
    with _Server(root) as server:
        yield root, tmp_path / "cache", server


def test_registry_names_the_authors_tarballs_and_published_counts():
    reg = fetch.weights_registry()
    assert reg["Camformer_9.tar.gz"].url == "http://www.sblab.uk/code/camformer/Camformer_9.tar.gz"
    assert reg["Camformer_219.tar.gz"].url == "http://www.sblab.uk/code/camformer/Camformer_219.tar.gz"
    assert not set(reg) & set(fetch.registry())  # `camformer data fetch` does not download them
    original, mini = published.PUBLISHED["original"], published.PUBLISHED["mini"]
    assert (original.file, original.encoding, original.n_params) == ("Camformer_9.tar.gz", "onehot", 16_611_073)
    assert (mini.file, mini.encoding, mini.n_params) == ("Camformer_219.tar.gz", "onehotWithP", 1_446_721)


@pytest.mark.parametrize("name", ["original", "mini"])
def test_loaded_model_predicts_what_the_authors_module_predicts(name, authors, served):
    root, cache, server = served
    item = authors[name]
    assert item["params"] == published.PUBLISHED[name].n_params  # the fixture has the published sizes
    assert importlib.util.find_spec("base") is None  # the authors' code cannot run: it is not importable
    file = published.PUBLISHED[name].file
    model = published.load_published(name, cache_dir=cache, url=f"{server.url}/{file}", progressbar=False)
    assert "base" not in sys.modules
    assert isinstance(model, torch.nn.Module) and not model.training
    assert count_parameters(model) == published.PUBLISHED[name].n_params
    assert model.encoding == published.PUBLISHED[name].encoding
    with torch.no_grad():
        got = model(item["x"])  # (N, C, 110), Conv1d
    torch.testing.assert_close(got, item["expected"], atol=1e-5, rtol=0)
    assert fetch.pinned_hashes(cache) == {file: fetch.file_hash(item["tarball"])}
    assert server.requests == [f"/{file}"]


def test_cached_tarball_is_used_offline_without_a_request(served, monkeypatch):
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    monkeypatch.setenv(published.OFFLINE_ENV, "1")
    with pytest.raises(fetch.FetchError, match="offline"):
        published.load_published("mini", cache_dir=cache, url=url, progressbar=False)
    assert server.requests == []
    monkeypatch.delenv(published.OFFLINE_ENV)
    published.load_published("mini", cache_dir=cache, url=url, progressbar=False)
    monkeypatch.setenv(published.OFFLINE_ENV, "1")
    assert published.load_published("mini", cache_dir=cache, url=url, progressbar=False).encoding == "onehotWithP"
    assert server.requests == ["/Camformer_219.tar.gz"]


def test_corrupted_tarball_is_refused_by_the_pin(served):
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    published.load_published("mini", cache_dir=cache, url=url, progressbar=False)
    cached = fetch.local_path("Camformer_219.tar.gz", cache)
    good = fetch.file_hash(cached)
    cached.unlink()
    data = bytearray((root / "Camformer_219.tar.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (root / "Camformer_219.tar.gz").write_bytes(bytes(data))
    with pytest.raises(fetch.HashMismatchError) as err:
        published.load_published("mini", cache_dir=cache, url=url, progressbar=False)
    assert good in str(err.value) and "Camformer_219.tar.gz" in str(err.value)
    assert not cached.exists()


class _Payload:
    """Pickles as a call of ``func(*args)``: what a malicious model file would hold."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("payload", ["os.system", "builtins.eval", "subprocess.call"])
def test_pickle_that_runs_code_is_refused_without_running_it(payload, tmp_path):
    marker = tmp_path / "marker"
    command = f"touch {marker}"
    func, args = {
        "os.system": (os.system, (command,)),
        "builtins.eval": (builtins.eval, (f"__import__('os').system({command!r})",)),
        "subprocess.call": (subprocess.call, (["touch", str(marker)],)),
    }[payload]
    buffer = io.BytesIO()
    torch.save({"CNN_layers": torch.nn.Linear(2, 2), "hook": _Payload(func, *args)}, buffer)
    members = _authors_members(AUTHORS_RUNS["mini"][1], buffer.getvalue(), "onehotWithP")
    tarball = _tarball(tmp_path / "Camformer_219.tar.gz", members)
    with pytest.raises(published.UnsafePickleError) as err:
        published.model_from_archive(tarball, "mini")
    assert f"{func.__module__}.{func.__name__}" in str(err.value)  # e.g. posix.system
    assert "model.pt" in str(err.value)
    assert not marker.exists()


def test_other_layouts(authors, tmp_path):
    mini = authors["mini"]
    # Another folder layout still loads: members are found by what they hold.
    moved = _tarball(tmp_path / "moved.tar.gz", {
        "Camformer/notes.json": b'{"what": "not the config"}',
        "Camformer/run.json": json.dumps({"best_model_path": "/home/x/best.pt", "seed": 42}).encode(),
        "Camformer/weights/best.pt": mini["model_bytes"],
    })
    with torch.no_grad():
        got = published.model_from_archive(moved, "mini")(mini["x"])
    torch.testing.assert_close(got, mini["expected"], atol=1e-5, rtol=0)
    # No config: an error that lists the members.
    other = _tarball(tmp_path / "other.tar.gz", {"README.txt": b"hello", "weights/model.bin": b"\0" * 64})
    with pytest.raises(published.PublishedModelError) as err:
        published.model_from_archive(other, "mini")
    message = str(err.value)
    assert "best_model_path" in message and "README.txt" in message and "weights/model.bin" in message
    # A config but no torch file: also listed.
    members = _authors_members(AUTHORS_RUNS["mini"][1], b"not a zip", "onehotWithP")
    with pytest.raises(published.PublishedModelError, match="(?s)0 torch zip members.*score_board.csv"):
        published.model_from_archive(_tarball(tmp_path / "nozip.tar.gz", members), "mini")
    # The wrong model for the name: refused on the parameter count.
    with pytest.raises(published.PublishedModelError, match="1,446,721 parameters; the published Camformer Original"):
        published.model_from_archive(mini["tarball"], "original")
    with pytest.raises(published.PublishedModelError, match="not a readable tar archive"):
        published.model_from_archive(mini["tarball"].with_name("missing.tar.gz"), "mini")


def test_self_check_compares_with_published_predictions(monkeypatch):
    torch.manual_seed(1)
    model = camformer_mini(5).eval()
    test = test_set_data()
    rows = np.arange(0, 4000, 100)  # 40 test sequences
    # A published column made by this very model on 40 ids: the comparison must pass, then catch
    # a perturbation of the weights.
    table = pd.DataFrame({"id": test.ids[rows], "mini": predict(model, test.codes[rows], "onehotWithP")})
    result = published.self_check(model, "mini", published=table)
    assert result["passed"] and result["n"] == 40 and result["max_abs_diff"] < 1e-5
    assert result["model"] == "Camformer Mini (published, seed 42)"
    sub = published.self_check(model, "mini", n=10, seed=3, published=table)
    assert sub["n"] == 10 and sub == published.self_check(model, "mini", n=10, seed=3, published=table)
    with torch.no_grad():
        model.output.bias.add_(0.01)  # every prediction moves by 0.01, ten times the tolerance
    with pytest.raises(published.SelfCheckError, match="differ from the published ones by up to 0.01 on 40"):
        published.self_check(model, "mini", published=table)


def test_cli_weights_fetch(served, capsys):
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    assert main(["weights", "fetch", "mini", "--url", url, "--cache-dir", str(cache), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Camformer Mini (published, seed 42): 1,446,721 parameters, encoding onehotWithP" in out
    assert str(fetch.local_path("Camformer_219.tar.gz", cache)) in out and "pinned on first download" in out
    assert main(["weights", "fetch", "--url", url, "--cache-dir", str(cache)]) == 2  # --url needs a name
    # --check compares with the authors' real predictions, which these made-up weights do not give.
    capsys.readouterr()
    rc = main(["weights", "fetch", "mini", "--url", url, "--cache-dir", str(cache), "--no-progress", "--check", "4"])
    assert rc == 2 and "differ from the published ones" in capsys.readouterr().err
    (root / "Camformer_9.tar.gz").unlink()
    rc = main(["weights", "fetch", "original", "--url", f"{server.url}/Camformer_9.tar.gz",
               "--cache-dir", str(cache), "--no-progress"])
    assert rc == 2 and "Camformer_9.tar.gz: download from" in capsys.readouterr().err


@pytest.fixture
def book_results(tmp_path):
    """A saved 'book model' (a Mini) under results/quick, as chapter 03 writes it."""
    torch.manual_seed(2)
    heldout = pd.DataFrame({"id": [1, 2], "prediction": [0.5, 0.25]})
    save_book_model(camformer_mini(5), heldout, tmp_path / "results", "quick", dataset="test_library",
                    split={"train": np.array([3]), "val": np.array([4]), "test": np.array([1, 2])},
                    encoding="onehotWithP")
    return tmp_path / "results"


def test_book_model_falls_back_and_says_why(served, book_results, monkeypatch):
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    monkeypatch.setenv(published.OFFLINE_ENV, "1")
    models, info = explained_models(book_results, "quick", prefer="mini", cache_dir=cache, url=url)
    assert info["model"] == "the book's model (quick preset)" and not info["published"] and len(models) == 1
    assert info["labels"] == ["the book's model"]
    assert "CAMFORMER_OFFLINE=1" in info["reason"] and server.requests == []
    assert list(info["predictions"]["id"]) == [1, 2]
    monkeypatch.delenv(published.OFFLINE_ENV)
    # A server that is not there: a quick failure, not a hang.
    dead = _Server(root)
    dead_url = f"{dead.url}/Camformer_219.tar.gz"
    dead.httpd.server_close()
    start = time.monotonic()
    _, info = explained_models(book_results, "quick", prefer="mini", cache_dir=cache, url=dead_url)
    assert "could not be downloaded" in info["reason"] and time.monotonic() - start < 20
    # one plain sentence on the page; the exception itself in the log it names
    log = book_results / "quick" / "logs" / "published_weights.log"
    assert "Error" not in info["reason"] and str(log) in info["reason"] and "FetchError" in log.read_text()
    # Offline or unreachable is the usual fallback: no warning, nothing in the refusal log.
    assert not info["refused"] and ":::{warning}" not in describe_model(info)
    refused_log = book_results / "quick" / "logs" / REFUSED_LOG
    assert not refused_log.exists()
    # Weights that do not reproduce the published predictions (these are made up): refused, loudly.
    with pytest.warns(PublishedRefusedWarning, match="Camformer Mini .*was refused"):
        _, info = explained_models(book_results, "quick", prefer="mini", cache_dir=cache, url=url, check_n=8)
    assert not info["published"] and "did not reproduce the authors' published predictions" in info["reason"]
    assert "SelfCheckError" in log.read_text()
    assert info["refused"] and describe_model(info).startswith(":::{warning}\n**The paper's published weights "
                                                               "were refused.**")
    assert refused_log.read_text().count("was refused") == 1
    with pytest.raises(FileNotFoundError, match="did not reproduce"), pytest.warns(PublishedRefusedWarning):
        explained_models(book_results, "paper", prefer="mini", cache_dir=cache, url=url, check_n=8)


def test_book_model_uses_the_published_model_that_passes(served, book_results, monkeypatch):
    root, cache, server = served
    url = f"{server.url}/Camformer_219.tar.gz"
    model = published.load_published("mini", cache_dir=cache, url=url, progressbar=False)
    test = test_set_data()
    rows = np.arange(16)
    # The bundled predictions are of the authors' real weights; give these weights' own instead.
    fake = pd.DataFrame({"id": test.ids[rows], "original": 0.0,
                         "mini": predict(model, test.codes[rows], "onehotWithP")})
    monkeypatch.setattr(published, "load_published_predictions", lambda: fake)
    [got], info = explained_models(book_results, "quick", prefer="mini", cache_dir=cache, url=url, check_n=8)
    assert info["model"] == "Camformer Mini (published, seed 42)" and info["published"]
    assert info["self_check"]["n"] == 8 and info["self_check"]["passed"] and info["reason"] is None
    assert url in info["source"] and list(info["predictions"].columns) == ["id", "prediction"]
    assert info["labels"] == ["Camformer Mini (published, seed 42)"]
    assert got.encoding == "onehotWithP"


def test_loading_published_weights_does_not_import_the_training_loop():
    """published -> models (the grid's configs live there), never -> grid -> train."""
    code = ("import sys, camformer.paper.published, camformer.cli.apply; "
            "print(sorted(m for m in ('camformer.training.train', 'camformer.training.grid') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_mirror_folder_and_a_stand_in_predictions_file_are_taken_from_the_environment(served, monkeypatch,
                                                                                       tmp_path):
    root, cache, server = served
    assert published.weights_url("mini") == "http://www.sblab.uk/code/camformer/Camformer_219.tar.gz"
    monkeypatch.setenv(published.MIRROR_ENV, f"{server.url}/")
    assert published.weights_url("mini") == f"{server.url}/Camformer_219.tar.gz"
    assert published.weights_url("mini", "http://x/y.tar.gz") == "http://x/y.tar.gz"  # an explicit url wins
    published.load_published("mini", cache_dir=cache, progressbar=False)
    assert server.requests == ["/Camformer_219.tar.gz"]
    # the stand-in predictions replace the bundled ones, and a page explaining a published model says so
    from camformer.data import dream
    bundled = dream.load_published_predictions()
    stand_in = bundled.head(3).assign(original=1.0, mini=2.0)
    stand_in.to_csv(tmp_path / "stand_in.tsv", sep="\t", index=False)
    monkeypatch.setenv(dream.STAND_IN_PREDICTIONS_ENV, str(tmp_path / "stand_in.tsv"))
    assert dream.load_published_predictions()["mini"].tolist() == [2.0, 2.0, 2.0]
    info = {"published": True, "model": "Camformer Mini (published, seed 42)", "source": "x",
            "self_check": {"n": 3, "max_abs_diff": 0.0, "tolerance": 1e-3}}
    assert describe_model(info).startswith(":::{warning}\n**A rehearsal, not the paper's model.**")
    monkeypatch.delenv(dream.STAND_IN_PREDICTIONS_ENV)
    assert describe_model(info).startswith("**This chapter explains Camformer Mini")
    assert len(dream.load_published_predictions()) == 71_103
