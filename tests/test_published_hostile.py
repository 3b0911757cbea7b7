"""The published-model loader against hostile archives, each built here and served from
127.0.0.1: every one is refused with the loader's own error (naming the file and the member,
exit code 2 from the command line), within 10 s and 500 MB of extra memory, and nothing in it runs."""

from __future__ import annotations

import gc
import importlib
import io
import json
import struct
import sys
import tarfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from test_fetch import _Server  # pytest puts tests/ on sys.path
from authors_archives import AUTHORS_RUNS, authors_code, authors_network, pickled_forward, saved
from test_published import _authors_members, _authors_package, _Payload, _tarball

from camformer.data import fetch
from camformer.paper import published
from camformer.cli.main import main
from camformer.data.dream import test_set_data
from camformer.models.encoding import encode
from camformer.paper.safe_pickle import SizeCap, load_torch_zip, module_tree

SECONDS, MEGABYTES = 10.0, 500
MINI = published.PUBLISHED["mini"]


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


@contextmanager
def bounded(seconds: float = SECONDS, megabytes: int = MEGABYTES):
    """Assert that the block takes less than ``seconds`` and raises this process's peak resident
    memory by less than ``megabytes`` (the peak is reset through /proc/self/clear_refs first)."""
    gc.collect()
    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    grown = _status("VmHWM") - before
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    assert grown < megabytes * 2**20, f"peak memory grew by {grown / 2**20:.0f} MB"


@pytest.fixture(scope="module")
def authors_cnn(tmp_path_factory):
    """Build a network with the authors' classes: ``build(name, **layer_overrides) -> (bytes, x,
    expected)`` (the torch.save file, an input and the authors' module's predictions)."""
    root = _authors_package(tmp_path_factory.mktemp("authors_base"))
    codes = torch.as_tensor(test_set_data().codes[:4])

    def build(name: str, **overrides):
        data = saved(authors_network(name, **overrides))
        x = encode(codes, published.PUBLISHED[name].encoding)
        return data, x, pickled_forward(data, x)

    with authors_code(root):
        yield build


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """``serve(members) -> load()``: a Mini tarball of these members served from 127.0.0.1, and a
    function that loads it with load_published into a fresh cache."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(fetch.ENV_VAR, raising=False)
    monkeypatch.delenv(published.OFFLINE_ENV, raising=False)
    root = tmp_path / "server"
    root.mkdir()
    with _Server(root) as server:
        counter = iter(range(10**6))

        def make(members: dict[str, bytes] | bytes):
            k = next(counter)
            path = root / f"{k}" / MINI.file
            path.parent.mkdir()
            if isinstance(members, bytes):
                path.write_bytes(members)
            else:
                _tarball(path, members)
            url = f"{server.url}/{k}/{MINI.file}"
            cache = tmp_path / f"cache{k}"
            return lambda: published.load_published("mini", cache_dir=cache, url=url, progressbar=False), url, cache

        yield make


class _Zeros(io.RawIOBase):
    """``prefix`` then zeros, ``size`` bytes in all, read in chunks: a large member that is never
    held in memory."""

    def __init__(self, size: int, prefix: bytes = b""):
        self.left, self.prefix = size, prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        head = self.prefix[:n]
        buffer[:n] = head + bytes(n - len(head))
        self.prefix, self.left = self.prefix[len(head):], self.left - n
        return n


def _streamed_tar(members: dict[str, bytes | _Zeros]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = data.left if isinstance(data, _Zeros) else len(data)
            tar.addfile(info, data if isinstance(data, _Zeros) else io.BytesIO(data))
    return out.getvalue()


def _mini_members(model_bytes: bytes) -> dict[str, bytes]:
    return _authors_members(AUTHORS_RUNS["mini"][1], model_bytes, "onehotWithP")


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


MODEL_MEMBER = f"training_results_tr0.9/{AUTHORS_RUNS['mini'][1]}/42/model.pt"


def test_a_served_authors_model_loads_within_the_bounds(authors_cnn, serve):
    data, x, expected = authors_cnn("mini")
    load, _, _ = serve(_mini_members(data))
    with bounded():
        model = load()
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=0)


def test_a_module_tree_that_repeats_a_child_is_refused_at_once(serve):
    """Each level holds the same child twice: 2^40 paths through 41 modules."""
    child = torch.nn.Identity()
    for _ in range(40):
        parent = torch.nn.Sequential()
        parent.add_module("a", child)
        parent.add_module("b", child)
        child = parent
    load, url, _ = serve(_mini_members(_saved(child)))
    with bounded(), pytest.raises(published.PublishedModelError, match="is also at") as err:
        load()
    assert MODEL_MEMBER in str(err.value)


def test_a_pickle_that_calls_a_constructor_is_refused_before_it_allocates(serve):
    """torch.save never calls a constructor; an nn.Linear(20000, 20000) would take 1.6 GB."""
    load, _, _ = serve(_mini_members(_saved({"CNN_layers": _Payload(torch.nn.Linear, 20000, 20000)})))
    with bounded(), pytest.raises(published.UnsafePickleError, match="calls the constructor of "
                                                                   "torch.nn.modules.linear.Linear") as err:
        load()
    assert MODEL_MEMBER in str(err.value)


def _zip(records: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in records.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _lie_about_size(data: bytes, record: str, size: int) -> bytes:
    """The zip ``data`` with ``record``'s uncompressed size set to ``size`` in both headers."""
    out = bytearray(data)
    name = record.encode()
    local = out.index(b"PK\x03\x04")
    while out[local + 30: local + 30 + len(name)] != name:
        local = out.index(b"PK\x03\x04", local + 4)
    struct.pack_into("<I", out, local + 22, size)
    central = out.index(b"PK\x01\x02")
    while out[central + 46: central + 46 + len(name)] != name:
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def _pickle_bomb(inflated: int) -> bytes:
    """A torch-style zip whose data.pkl inflates to ``inflated`` bytes (deflated, streamed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/byteorder", b"little")
        with archive.open("archive/data.pkl", "w", force_zip64=True) as handle:
            handle.write(b"\x80\x02")
            for _ in range(inflated >> 20):
                handle.write(b"N" * (1 << 20))
    return buffer.getvalue()


def test_a_pickle_record_that_inflates_past_the_cap_is_refused(serve):
    honest = _pickle_bomb(200 << 20)  # 200 MB of pickle opcodes in about 200 kB
    assert len(honest) < 1 << 20
    load, _, _ = serve(_mini_members(honest))
    with bounded(), pytest.raises(published.PublishedModelError, match="over the cap of") as err:
        load()
    assert "float32 parameters" in str(err.value)  # the error says why the cap suffices
    # The same record claiming 100 bytes in the zip's headers: read in bounded chunks, refused.
    lying = _lie_about_size(honest, "archive/data.pkl", 100)
    load, _, _ = serve(_mini_members(lying))
    with bounded(), pytest.raises(published.PublishedModelError) as err:
        load()
    assert MODEL_MEMBER in str(err.value) and "data.pkl" in str(err.value)


def test_a_model_member_over_its_cap_is_refused_before_it_is_read(serve):
    caps = published.archive_caps(MINI)
    for size, phrase in ((caps.model_bytes + 1, "the model file has"), (200 << 20, "the archive inflates past")):
        members = {**_mini_members(b""), MODEL_MEMBER: _Zeros(size, b"PK\x03\x04")}  # zip magic, then zeros
        load, _, _ = serve(_streamed_tar(members))
        with bounded(), pytest.raises(published.PublishedModelError, match=phrase) as err:
            load()
        assert f"over the cap of {caps.model_bytes if size < 200 << 20 else caps.total_bytes:,} bytes" in str(err.value)
        assert MODEL_MEMBER in str(err.value)


def test_a_truncated_tarball_is_the_loaders_error_with_exit_code_2(authors_cnn, serve, capsys):
    data, _, _ = authors_cnn("mini")
    whole = _streamed_tar(_mini_members(data))
    load, url, cache = serve(whole[: len(whole) // 2])
    with bounded(), pytest.raises(published.PublishedModelError, match="truncated") as err:
        load()
    assert "EOFError" in str(err.value) and MINI.file in str(err.value)
    assert main(["weights", "fetch", "mini", "--url", url, "--cache-dir", str(cache), "--no-progress"]) == 2
    assert "camformer: error:" in capsys.readouterr().err


def test_a_deeply_nested_json_member_is_the_loaders_error(serve):
    members = {"run/config.json": b"[" * 200_000 + b"]" * 200_000, "run/model.pt": b"PK\x03\x04"}
    load, _, _ = serve(members)
    with bounded(), pytest.raises(published.PublishedModelError, match="run/config.json: JSON nested too deep"):
        load()


@pytest.mark.parametrize("region", ["central directory", "local headers", "pickle"])
def test_malformed_zip_records_give_the_loaders_error(authors_cnn, serve, region):
    """Seeded corruptions of a good model file's zip structure or pickle: each load succeeds or is
    refused with the loader's own error, never with zipfile's or pickle's exceptions."""
    data, _, _ = authors_cnn("mini")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pkl = next(i for i in archive.infolist() if i.filename.endswith("/data.pkl"))
        start = pkl.header_offset + 30 + len(pkl.filename) + len(pkl.extra)
    spans = {"central directory": (data.rindex(b"PK\x01\x02") - 2000, len(data)),
             "local headers": (0, 200), "pickle": (start, start + pkl.compress_size)}
    lo, hi = spans[region]
    lo = max(0, lo)
    rng = np.random.default_rng({"central directory": 1, "local headers": 2, "pickle": 3}[region])
    outcomes = set()
    with bounded(seconds=3 * SECONDS):
        for _ in range(12):
            broken = bytearray(data)
            for at in rng.integers(lo, hi, size=3):
                broken[at] = rng.integers(0, 256)
            load, _, _ = serve(_mini_members(bytes(broken)))
            try:
                load()
                outcomes.add("loaded")
            except (published.PublishedModelError, published.UnsafePickleError) as err:
                assert MINI.file in str(err)
                outcomes.add(type(err).__name__)
    assert outcomes - {"loaded"}, "no corruption was detected"


def test_a_mini_whose_max_pool_differs_is_refused(authors_cnn, serve):
    """A MaxPool (8, 2) instead of (7, 2) keeps every shape (132 -> 63) and every parameter."""
    args = AUTHORS_RUNS["mini"][2]
    pools = list(args["pool_kernels"])
    pools[3] = (8, 1)
    data, _, _ = authors_cnn("mini", pool_kernels=pools)
    load, _, _ = serve(_mini_members(data))
    with bounded(), pytest.raises(published.PublishedModelError, match=r"CNN_layers\.3\.3 kernel, stride") as err:
        load()
    assert "((8, 1), (2, 1)" in str(err.value) and "expected ((7, 1), (2, 1)" in str(err.value)


def test_a_mini_with_another_batchnorm_eps_or_padding_is_refused(authors_cnn):
    data, _, _ = authors_cnn("mini")
    tree = load_torch_zip(data, "model.pt", SizeCap(1 << 26, "test"))
    assert published.layer_mismatches(tree, MINI) == []
    modules = {name: attrs for name, _, attrs in module_tree(tree)}
    modules["CNN_layers.2.1"]["eps"] = 1e-3
    modules["CNN_layers.4.0"]["padding"] = (4, 1)
    problems = published.layer_mismatches(tree, MINI)
    assert len(problems) == 2
    assert "CNN_layers.2.1 eps 0.001" in problems[0]
    assert "CNN_layers.4.0 pads the sequence by (4, 4) and the width by (1, 1), expected (5, 5)" in problems[1]
    assert "is base.model_basic.CNN, but Camformer Original is base.model.CNN" in \
        published.layer_mismatches(tree, published.PUBLISHED["original"])[0]


def test_json_config_is_read_in_one_pass_and_members_are_listed(serve):
    """An archive with many small members is read in one pass (no rewinding per member)."""
    members = {f"logs/{i}.json": json.dumps({"i": i}).encode() for i in range(2000)}
    load, _, _ = serve(members)
    with bounded(), pytest.raises(published.PublishedModelError, match="no JSON member with best_model_path") as err:
        load()
    assert "logs/0.json" in str(err.value) and "and 1,950 more" in str(err.value)


@pytest.mark.parametrize("name, block, pool, stride, problem", [
    # a pool that halves the length where the architecture has none: same parameters, other output
    ("original", 2, [2, 1], [2, 1], "CNN_layers.2.3 kernel, stride, padding, dilation ((2, 1), (2, 1), (0, 0), (1, 1)), "
                                    "expected ((1, 1), (1, 1), (0, 0), (1, 1)): the identity"),
    # kernel 1 with stride 2 keeps no parameter count but drops every other position
    ("mini", 5, [1, 1], [2, 1], "CNN_layers.5.3 kernel, stride, padding, dilation ((1, 1), (2, 1)"),
])
def test_a_pool_that_is_not_the_identity_where_none_belongs_is_refused(authors_cnn, tmp_path, name, block, pool,
                                                                       stride, problem):
    args = AUTHORS_RUNS[name][2]
    kernels, strides = list(args["pool_kernels"]), list(args["pool_strides"])
    kernels[block], strides[block] = pool, stride
    if name == "original":  # block 4's pool then takes 55 to the published 26: the same 16,611,073 parameters
        kernels[4], strides[4] = [5, 1], [2, 1]
    data, _, _ = authors_cnn(name, pool_kernels=kernels, pool_strides=strides)
    tree = load_torch_zip(data, "model.pt", SizeCap(1 << 27, "test"))
    problems = published.layer_mismatches(tree, published.PUBLISHED[name])
    assert any(problem in p for p in problems), problems


def test_an_identity_pool_with_other_settings_or_indices_is_refused(authors_cnn):
    data, _, _ = authors_cnn("mini")
    tree = load_torch_zip(data, "model.pt", SizeCap(1 << 26, "test"))
    modules = {name: attrs for name, _, attrs in module_tree(tree)}
    assert published.layer_mismatches(tree, MINI) == []
    modules["CNN_layers.0.3"]["padding"] = 1
    modules["CNN_layers.1.3"]["dilation"] = [2, 1]
    modules["CNN_layers.2.3"]["return_indices"] = True
    problems = published.layer_mismatches(tree, MINI)
    assert len(problems) == 3, problems
    assert "CNN_layers.0.3 kernel, stride, padding, dilation ((1, 1), (1, 1), (1, 1), (1, 1))" in problems[0]
    assert "CNN_layers.1.3 kernel, stride, padding, dilation ((1, 1), (1, 1), (0, 0), (2, 1))" in problems[1]
    assert problems[2] == "CNN_layers.2.3 returns indices, which the next layer cannot take"
