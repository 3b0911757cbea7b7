"""Download the Random Promoter DREAM Challenge 2022 data from Zenodo, and the paper's trained
models from the authors' site, with hash checks.

Two Zenodo records hold the data (Rafi et al. 2024, Nature Biotechnology,
doi:10.1038/s41587-024-02414-w):

- **7395397**: the challenge's training file (6.7M random promoters with measured expression)
  and the test sequences.
- **10633252**: the later, citable release that adds the official test subsets, the
  public-leaderboard ids and the measured test expression.

The paper's trained models (seed 42; Original = grid model 9, Mini = model 219) are tarballs on
the authors' site (``http://www.sblab.uk/code/camformer/``, named in the authors'
``saved_models/README.md``); they are in :func:`weights_registry` and cached in
``sblab-camformer/``. :mod:`camformer.paper.published` loads them.

Files go to a user cache directory: ``--cache-dir`` / ``cache_dir=``, else the
``CAMFORMER_DATA_DIR`` environment variable, else ``pooch.os_cache("camformer")``; each record
in its own folder ``zenodo-<record>/``.

Hash checking
-------------
Each file in :func:`registry` has a ``hash`` (``"md5:<hex>"`` as Zenodo publishes it, or
``"sha256:<hex>"``) and a ``hash_source`` naming where it was published. Where no hash was
available when this table was written (``hash=None``), the first download is trusted and its
sha256 is pinned in ``pinned_hashes.txt`` in the cache directory, with the URL it came from
(trust on first use); :func:`fetch_file` says so when it pins. Every later download, from the
canonical URL or a mirror (``url=``/``base_url=``), and every cached copy, is checked against the
pin, and a refusal names where the pin came from. A file whose hash does not match is refused
with :class:`HashMismatchError` naming the file and both hashes, and it is deleted, so nothing
unverified stays in the cache under the file's name. A cached copy with no pin (its line was
deleted) is not trusted: it is downloaded again and pinned anew, with a message. Delete a line
of ``pinned_hashes.txt`` to accept a new version of that file.

At the time of writing, no hash is pinned from a published source: the Zenodo records' md5
checksums could not be read from this build machine, so every file is trust-on-first-use.
The file names and their records come from public code and documentation that download them,
named in each entry's ``name_source``; check them against the record pages when online.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ZENODO_URL = "https://zenodo.org/records/{record}/files/{name}?download=1"
RECORDS: dict[str, str] = {
    "7395397": "Random Promoter DREAM Challenge 2022: training and test files",
    "10633252": "Random Promoter DREAM Challenge 2022 (Rafi et al. 2024): official test subsets and evaluation data",
}
SBLAB_URL = "http://www.sblab.uk/code/camformer"
WEIGHTS_FOLDER = "sblab-camformer"  # cache folder of the authors' model tarballs
ENV_VAR = "CAMFORMER_DATA_DIR"
PINS_FILE = "pinned_hashes.txt"
TRAIN_FILE = "train_sequences.txt"  # the challenge's 6.7M-line training file (record 7395397)


@dataclass(frozen=True)
class RemoteFile:
    """One file of a Zenodo record, or one file elsewhere (``base_url``).

    Attributes
    ----------
    name : str
        File name in the record (also its name in the cache).
    record : str
        Zenodo record id; for a file with a ``base_url``, the name of its cache folder.
    description : str
        What the file holds.
    name_source : str
        Where the file name (and its place in this record) is documented.
    hash : str or None
        ``"md5:<hex>"`` or ``"sha256:<hex>"`` from a published source; ``None``: trust on first use.
    hash_source : str or None
        Where ``hash`` was published.
    base_url : str or None
        The file is ``{base_url}/{name}``; ``None``: in Zenodo record ``record``.
    """

    name: str
    record: str
    description: str
    name_source: str
    hash: str | None = None
    hash_source: str | None = None
    base_url: str | None = None

    @property
    def url(self) -> str:
        if self.base_url:
            return f"{self.base_url}/{self.name}"
        return ZENODO_URL.format(record=self.record, name=self.name)

    @property
    def folder(self) -> str:
        """The file's folder in the cache: ``zenodo-<record>``, or ``record`` for a non-Zenodo file."""
        return self.record if self.base_url else f"zenodo-{self.record}"


_CAMFORMER = "Bornelov-lab/Camformer"
_CHALLENGE = "de-Boer-Lab/random-promoter-dream-challenge-2022"
_FILES: tuple[RemoteFile, ...] = (
    RemoteFile(
        TRAIN_FILE, "7395397",
        "training file: about 6.7 million random promoters, seq<TAB>expression (0-17)",
        f"{_CAMFORMER} manuscript_figures/Figure_1/Figure1b_histogram.R (download URL of this record)",
    ),
    RemoteFile(
        "test_sequences.txt", "7395397",
        "the 71,103 challenge test sequences, seq<TAB>placeholder",
        f"challenge file name used by the teams' code ({_CAMFORMER} score_rep.py; {_CHALLENGE} "
        "dream_submissions/*); record 7395397 per the Camformer README",
    ),
    RemoteFile(
        "filtered_test_data_with_MAUDE_expression.txt", "10633252",
        "measured expression of the test sequences, seq<TAB>expression",
        f"{_CHALLENGE} data/ and {_CAMFORMER} base/eval_utils.py (OfficialEval/); record 10633252 "
        "per the HuggingFaceBio/random-promoter-dream-2022 repackaging (labelled test split)",
    ),
    RemoteFile(
        "test_subset_ids.tar.gz", "10633252",
        "official test subsets (high, low, yeast, random, challenging, SNVs, motif perturbation/tiling)",
        "HuggingFaceBio/random-promoter-dream-2022 README (repackages record 10633252)",
    ),
    RemoteFile(
        "public_leaderboard_ids.tar.gz", "10633252",
        "ids of the public-leaderboard part of each subset",
        "HuggingFaceBio/random-promoter-dream-2022 README (repackages record 10633252)",
    ),
)

WEIGHTS_NAME = "Camformer_{grid_id}.tar.gz"  # the authors' tarball of a grid model's seed-42 run
_WEIGHTS: tuple[RemoteFile, ...] = tuple(
    RemoteFile(
        WEIGHTS_NAME.format(grid_id=grid_id), WEIGHTS_FOLDER,
        f"Camformer {label} (grid model {grid_id}, seed 42): the authors' training folder with "
        "config.json and the whole model pickled by torch.save",
        f"{_CAMFORMER} saved_models/README.md (wget URL) and saved_models/demo_test.py",
        base_url=SBLAB_URL,
    )
    for grid_id, label in ((9, "Original"), (219, "Mini"))
)


class FetchError(RuntimeError):
    """A file could not be downloaded (network, HTTP error, unknown name)."""


class HashMismatchError(FetchError):
    """A downloaded or cached file does not have the recorded hash."""

    def __init__(self, name: str, source: str, expected: str, actual: str, where: str):
        self.name, self.source, self.expected, self.actual = name, source, expected, actual
        super().__init__(
            f"{name}: hash mismatch, refusing the file from {source}: expected {expected} "
            f"({where}), got {actual}. The file was deleted; if the record was updated on purpose, "
            f"remove its line from {PINS_FILE} in the cache directory and fetch again."
        )


def registry() -> dict[str, RemoteFile]:
    """The known files of Zenodo records 7395397 and 10633252, by file name."""
    return {f.name: f for f in _FILES}


def weights_registry() -> dict[str, RemoteFile]:
    """The paper's trained-model tarballs on the authors' site, by file name (see :mod:`camformer.paper.published`)."""
    return {f.name: f for f in _WEIGHTS}


def record_files(record: str) -> list[str]:
    """Names of the registry files of a record (``"7395397"``, ``"10633252"`` or ``"all"``)."""
    if record != "all" and record not in RECORDS:
        raise FetchError(f"{record}: not a known Zenodo record; choose from {sorted(RECORDS)} or 'all'")
    return [f.name for f in _FILES if record in ("all", f.record)]


def _pooch():
    """pooch, imported without the warning its ``tqdm.auto`` import prints in a Jupyter kernel
    that has no widgets (every chapter of the book would show it)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pooch
    return pooch


def resolve_cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The download directory: ``path``, else ``$CAMFORMER_DATA_DIR``, else ``pooch.os_cache("camformer")``."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    pooch = _pooch()

    return Path(pooch.os_cache("camformer"))


def _read_pins(root: Path) -> dict[str, tuple[str, str]]:
    pins = root / PINS_FILE
    if not pins.exists():
        return {}
    out = {}
    for line in pins.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split(maxsplit=2)
            if len(fields) >= 2:
                out[fields[0]] = (fields[1], fields[2] if len(fields) > 2 else "an unrecorded source")
    return out


def pinned_hashes(root: str | os.PathLike | None = None) -> dict[str, str]:
    """Hashes pinned on first download (``pinned_hashes.txt`` in the cache): name -> ``"sha256:<hex>"``."""
    return {name: value for name, (value, _) in _read_pins(resolve_cache_dir(root)).items()}


def pinned_sources(root: str | os.PathLike | None = None) -> dict[str, str]:
    """Where each pinned hash came from: name -> the URL its first download was made from."""
    return {name: source for name, (_, source) in _read_pins(resolve_cache_dir(root)).items()}


def _pin(root: Path, name: str, value: str, source: str) -> None:
    pins = _read_pins(root)
    pins[name] = (value, source)
    text = "# camformer: sha256 of files trusted on first download (name hash source-url)\n"
    text += "".join(f"{k} {v} {src}\n" for k, (v, src) in sorted(pins.items()))
    tmp = root / f".{PINS_FILE}.tmp"
    tmp.write_text(text)
    os.replace(tmp, root / PINS_FILE)


def _say(message: str) -> None:
    print(f"camformer: {message}", file=sys.stderr)


def file_hash(path: str | os.PathLike, alg: str = "sha256") -> str:
    """``"<alg>:<hex>"`` of a file (``alg``: md5, sha256, ... as :func:`pooch.file_hash` takes)."""
    pooch = _pooch()

    return f"{alg}:{pooch.file_hash(str(path), alg)}"


def expected_hash(name: str, cache: str | os.PathLike | None = None) -> tuple[str | None, str]:
    """The hash a file must have and where it comes from: published, pinned, or ``None`` (not yet)."""
    entry = _entry(name)
    if entry.hash:
        return entry.hash, f"published: {entry.hash_source}"
    root = resolve_cache_dir(cache)
    pin = _read_pins(root).get(name)
    if pin:
        return pin[0], f"pinned on first download from {pin[1]} in {root / PINS_FILE}"
    return None, "no hash recorded yet (trust on first use)"


def _entry(name: str) -> RemoteFile:
    known = {**registry(), **weights_registry()}
    try:
        return known[name]
    except KeyError:
        raise FetchError(f"{name}: not a known file; choose from {sorted(known)}") from None


def local_path(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where :func:`fetch_file` keeps a registry file: ``{cache_dir}/{folder}/{name}`` (it may not exist yet)."""
    return resolve_cache_dir(cache_dir) / _entry(name).folder / name


def _same(path: Path, expected: str) -> tuple[bool, str]:
    alg = expected.split(":", 1)[0] if ":" in expected else "sha256"
    actual = file_hash(path, alg)
    want = expected if ":" in expected else f"sha256:{expected}"
    return actual.lower() == want.lower(), actual


def fetch_file(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    progressbar: bool = True,
    url: str | None = None,
    timeout: float | tuple[float, float] | None = None,
    offline: bool = False,
    say: Callable[[str], None] = _say,
) -> Path:
    """Download one file of the registry (or take it from the cache) and check its hash.

    Parameters
    ----------
    name : str
        A file name from :func:`registry` or :func:`weights_registry`.
    cache_dir : path, optional
        Where files go; default ``$CAMFORMER_DATA_DIR`` or ``pooch.os_cache("camformer")``.
    base_url : str, optional
        Download ``{base_url}/{name}`` instead of the file's URL (a mirror, or a test server).
    progressbar : bool
        Show a tqdm progress bar while downloading.
    url : str, optional
        Download exactly this URL (overrides ``base_url``); the file keeps its registry name.
    timeout : float or (connect, read) seconds, optional
        Give up on a server that does not answer in this time (``None``: pooch's default, 30 s).
    offline : bool
        Only take a verified copy from the cache; never open a connection.
    say : callable
        Receives a sentence when a hash is pinned for the first time, or a cached copy without
        a pin is downloaded again (default: printed on standard error).

    Returns
    -------
    Path
        The verified file, :func:`local_path` (``{cache_dir}/zenodo-{record}/{name}``).

    Raises
    ------
    HashMismatchError
        The file's hash differs from the published or pinned one; the file is deleted.
    FetchError
        Unknown name, the download failed, or ``offline`` and no verified copy is cached.
    """
    pooch = _pooch()
    import requests

    root = resolve_cache_dir(cache_dir)
    target = local_path(name, root)
    expected, where = expected_hash(name, root)
    if target.exists():
        if expected is not None and _same(target, expected)[0]:
            return target
        if expected is None and offline:
            raise FetchError(f"{name}: the cached copy {target} has no pin in {root / PINS_FILE} to check it "
                             "against, and downloads are off (offline)")
        if expected is None:  # nothing to check it against: not trusted, downloaded again and pinned anew
            say(f"{name}: the cached copy has no pin in {root / PINS_FILE}; downloading it again")
        target.unlink()  # a stale, damaged or unverifiable copy is not valid: download it again
    if offline:
        raise FetchError(f"{name}: no verified copy in {target.parent}, and downloads are off (offline)")
    url = url or (f"{base_url.rstrip('/')}/{name}" if base_url else _entry(name).url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            limits = {} if timeout is None else {"timeout": timeout}
            pooch.HTTPDownloader(progressbar=progressbar, **limits)(url, str(tmp), None)
        except requests.exceptions.RequestException as err:
            raise FetchError(f"{name}: download from {url} failed: {err}") from None
        if expected is None:
            value = file_hash(tmp)
            _pin(root, name, value, url)
            mirror = "" if url == _entry(name).url else " (a mirror, not the file's own address)"
            say(f"{name}: no published hash; pinned {value} from {url}{mirror} on this first download, in "
                f"{root / PINS_FILE}. Later downloads, from any address, and the cached copy must match it.")
        else:
            ok, actual = _same(tmp, expected)
            if not ok:
                raise HashMismatchError(name, url, expected, actual, where)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def fetch_record(
    record: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    progressbar: bool = True,
) -> list[Path]:
    """Fetch every registry file of a Zenodo record (``"7395397"``, ``"10633252"`` or ``"all"``).

    Same arguments as :func:`fetch_file`; returns the verified paths in registry order.
    """
    names = record_files(record)
    return [fetch_file(n, cache_dir=cache_dir, base_url=base_url, progressbar=progressbar) for n in names]
