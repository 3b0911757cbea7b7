"""`camformer.data.fetch` against a local HTTP server on 127.0.0.1 (Zenodo is not reachable here)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from camformer.data import fetch
from camformer.cli.main import main
from camformer.data.dream import read_dream_txt, resource_path

# Three real training rows (110 nt), a small file in the DREAM format.
GOOD = b"".join(resource_path("dream2022_train_sample1000.txt").read_bytes().splitlines(keepends=True)[:3])


class _Server:
    """``http.server`` on an ephemeral port of 127.0.0.1, serving ``root``; counts GET requests."""

    def __init__(self, root: Path):
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A served directory, a cache directory and the server; proxies bypassed for 127.0.0.1."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(fetch.ENV_VAR, raising=False)
    root = tmp_path / "server"
    root.mkdir()
    with _Server(root) as server:
        yield root, tmp_path / "cache", server


def _with_files(monkeypatch, *files: fetch.RemoteFile) -> None:
    monkeypatch.setattr(fetch, "_FILES", files)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_registry_lists_both_records_with_zenodo_urls():
    reg = fetch.registry()
    assert {f.record for f in reg.values()} == set(fetch.RECORDS) == {"7395397", "10633252"}
    train = reg["train_sequences.txt"]
    assert train.url == "https://zenodo.org/records/7395397/files/train_sequences.txt?download=1"
    for f in reg.values():
        assert f.name_source
        # A hash is either absent (trust on first use) or comes with the place it was published.
        assert (f.hash is None) == (f.hash_source is None)
        if f.hash:
            alg, hexdigest = f.hash.split(":")
            assert alg in ("md5", "sha256") and int(hexdigest, 16) >= 0


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(fetch.ENV_VAR, str(tmp_path / "env"))
    assert fetch.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert fetch.resolve_cache_dir() == tmp_path / "env"
    monkeypatch.delenv(fetch.ENV_VAR)
    import pooch

    assert fetch.resolve_cache_dir() == Path(pooch.os_cache("camformer"))


def test_pinned_hash_download_then_cache_hit(served, monkeypatch):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "7395397", "test", "test", _sha256(GOOD), "this test"))
    path = fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert path == cache / "zenodo-7395397" / "a.txt"
    assert path.read_bytes() == GOOD
    assert server.requests == ["/a.txt"]
    assert len(read_dream_txt(path)[0]) == 3  # what arrived is a readable DREAM file
    again = fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert again == path and server.requests == ["/a.txt"]  # second fetch: no request
    assert not fetch.pinned_hashes(cache)  # a published hash is not re-pinned
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]  # no temporary files left


def test_md5_hash_is_checked_with_md5(served, monkeypatch):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    md5 = "md5:" + hashlib.md5(GOOD).hexdigest()
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "7395397", "test", "test", md5, "this test"))
    assert fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False).read_bytes() == GOOD


def test_corrupted_file_is_refused_and_not_kept(served, monkeypatch):
    root, cache, server = served
    corrupted = GOOD.replace(b"\t11\n", b"\t12\n")
    assert corrupted != GOOD
    (root / "a.txt").write_bytes(corrupted)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "7395397", "test", "test", _sha256(GOOD), "this test"))
    with pytest.raises(fetch.HashMismatchError) as err:
        fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    msg = str(err.value)
    assert "a.txt" in msg and _sha256(GOOD) in msg and _sha256(corrupted) in msg
    folder = cache / "zenodo-7395397"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing left, not even a partial file


def test_damaged_cached_copy_is_downloaded_again(served, monkeypatch):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "7395397", "test", "test", _sha256(GOOD), "this test"))
    path = fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    path.write_bytes(b"truncated")
    assert fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False).read_bytes() == GOOD
    assert server.requests == ["/a.txt", "/a.txt"]


def test_trust_on_first_use_then_changed_file_is_refused(served, monkeypatch):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "10633252", "test", "test"))
    assert fetch.expected_hash("a.txt", cache)[0] is None
    path = fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert fetch.pinned_hashes(cache) == {"a.txt": _sha256(GOOD)}
    assert fetch.expected_hash("a.txt", cache) == (
        _sha256(GOOD), f"pinned on first download from {server.url}/a.txt in {cache / fetch.PINS_FILE}")
    # The record changes on the server; a fresh download must be checked against the pin.
    path.unlink()
    changed = GOOD + b"ACGT\t1\n"
    (root / "a.txt").write_bytes(changed)
    with pytest.raises(fetch.HashMismatchError, match=_sha256(changed)):
        fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert not path.exists()
    assert fetch.pinned_hashes(cache) == {"a.txt": _sha256(GOOD)}  # the pin is unchanged


def test_missing_file_and_unknown_names(served, monkeypatch):
    root, cache, server = served
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "7395397", "test", "test"))
    with pytest.raises(fetch.FetchError, match="a.txt: download from .* failed"):
        fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert not fetch.pinned_hashes(cache)
    with pytest.raises(fetch.FetchError, match="not a known file"):
        fetch.fetch_file("b.txt", cache_dir=cache)
    with pytest.raises(fetch.FetchError, match="not a known Zenodo record"):
        fetch.fetch_record("123", cache_dir=cache)


def test_cli_fetch_end_to_end(served, capsys):
    """The real registry, served from 127.0.0.1: every file trusted on first use, then cached."""
    root, cache, server = served
    for name in fetch.registry():
        (root / name).write_bytes(GOOD if name.endswith(".txt") else name.encode())
    rc = main(["data", "fetch", "--record", "7395397", "--cache-dir", str(cache), "--base-url", server.url])
    out = capsys.readouterr().out
    assert rc == 0
    assert sorted(server.requests) == ["/test_sequences.txt", "/train_sequences.txt"]
    for name in ("train_sequences.txt", "test_sequences.txt"):
        assert str(cache / "zenodo-7395397" / name) in out
    assert "pinned on first download" in out
    rc = main(["data", "fetch", "--cache-dir", str(cache), "--base-url", server.url, "--no-progress"])
    assert rc == 0
    assert len(server.requests) == len(fetch.registry())  # only the 10633252 files were new
    # A file changed on the server after it was pinned: refused, exit code 2, both hashes named.
    (cache / "zenodo-10633252" / "test_subset_ids.tar.gz").unlink()
    (root / "test_subset_ids.tar.gz").write_bytes(b"changed")
    capsys.readouterr()
    rc = main(["data", "fetch", "--record", "10633252", "--cache-dir", str(cache), "--base-url", server.url])
    err = capsys.readouterr().err
    assert rc == 2
    assert "test_subset_ids.tar.gz: hash mismatch" in err and _sha256(b"changed") in err


def test_env_var_sets_the_cache_and_cli_single_file(served, monkeypatch, capsys):
    root, cache, server = served
    (root / "train_sequences.txt").write_bytes(GOOD)
    monkeypatch.setenv(fetch.ENV_VAR, str(cache))
    rc = main(["data", "fetch", "--file", "train_sequences.txt", "--base-url", server.url, "--no-progress"])
    assert rc == 0 and server.requests == ["/train_sequences.txt"]
    assert (cache / "zenodo-7395397" / "train_sequences.txt").read_bytes() == GOOD
    assert f"1 file(s) in {cache}" in capsys.readouterr().out
    assert main(["data", "fetch", "--file", "nope.txt", "--base-url", server.url]) == 2
    assert "nope.txt: not a known file" in capsys.readouterr().err


# ---------------------------------------------------------------- pinning (issue 19)

def test_first_pin_is_announced_and_kept_with_its_source(served, monkeypatch, capsys):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "10633252", "test", "test"))
    fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    err = capsys.readouterr().err
    assert f"a.txt: no published hash; pinned {_sha256(GOOD)} from {server.url}/a.txt" in err
    assert "(a mirror, not the file's own address)" in err  # the registry's address is Zenodo's
    assert fetch.pinned_sources(cache) == {"a.txt": f"{server.url}/a.txt"}
    assert f"a.txt {_sha256(GOOD)} {server.url}/a.txt" in (cache / fetch.PINS_FILE).read_text()
    fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False)
    assert capsys.readouterr().err == ""  # a verified cached copy: nothing to say


def test_a_mirror_is_checked_against_the_existing_pin(served, monkeypatch, tmp_path):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "10633252", "test", "test"))
    fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False, say=lambda m: None)
    fetch.local_path("a.txt", cache).unlink()
    mirror_root = tmp_path / "mirror"
    mirror_root.mkdir()
    (mirror_root / "copy.txt").write_bytes(GOOD + b"ACGT\t1\n")  # the mirror serves another file
    with _Server(mirror_root) as mirror:
        with pytest.raises(fetch.HashMismatchError) as err:
            fetch.fetch_file("a.txt", cache_dir=cache, url=f"{mirror.url}/copy.txt", progressbar=False)
        (mirror_root / "copy.txt").write_bytes(GOOD)  # now the same file: accepted
        assert fetch.fetch_file("a.txt", cache_dir=cache, url=f"{mirror.url}/copy.txt",
                                progressbar=False).read_bytes() == GOOD
    message = str(err.value)
    assert f"refusing the file from {mirror.url}/copy.txt" in message
    assert f"pinned on first download from {server.url}/a.txt" in message
    assert fetch.pinned_sources(cache) == {"a.txt": f"{server.url}/a.txt"}  # the pin keeps its source


def test_a_cached_copy_without_a_pin_is_not_trusted(served, monkeypatch, capsys):
    root, cache, server = served
    (root / "a.txt").write_bytes(GOOD)
    _with_files(monkeypatch, fetch.RemoteFile("a.txt", "10633252", "test", "test"))
    path = fetch.local_path("a.txt", cache)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"planted, never downloaded")
    with pytest.raises(fetch.FetchError, match="has no pin .* downloads are off"):
        fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False, offline=True)
    assert not fetch.pinned_hashes(cache)
    assert fetch.fetch_file("a.txt", cache_dir=cache, base_url=server.url, progressbar=False).read_bytes() == GOOD
    err = capsys.readouterr().err
    assert "the cached copy has no pin" in err and f"pinned {_sha256(GOOD)}" in err
    assert server.requests == ["/a.txt"] and fetch.pinned_hashes(cache) == {"a.txt": _sha256(GOOD)}
