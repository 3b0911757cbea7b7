"""Find the training config and the pickled model in an authors' tarball, in memory, within caps.

The authors publish each trained model as a tarball holding
``training_results_tr0.9/<run>/<seed>/config.json`` (a JSON object whose ``best_model_path`` names
the model file) and the model file (``torch.save(model)``, a zip archive). :func:`read_archive`
finds both by what they contain, so a changed folder layout still loads, and refuses an
unexpected one with the list of the archive's members. Nothing is extracted to disk.

The tarball is read in one pass, member by member, with caps that say what a Camformer needs:
the inflated size of the whole tarball, the size of the chosen model file (read in bounded
chunks), the number of members and the size of a JSON member. A truncated or corrupt tarball,
or a JSON member nested too deep to parse, raises :class:`ArchiveError` naming the file and the
member, never a bare ``EOFError`` or ``RecursionError``.
"""

from __future__ import annotations

import json
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 10_000  # the authors' tarballs hold a handful of files
MAX_JSON_BYTES = 1 << 20  # a config.json is a few kB; larger members are not read as JSON
_CHUNK = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"


class ArchiveError(ValueError):
    """A tarball that cannot be read, is too large, or does not hold a config and a model file."""


@dataclass(frozen=True)
class ArchiveCaps:
    """How large an authors' tarball may be, and why that suffices (said in every refusal).

    Attributes
    ----------
    model_bytes : int
        The most bytes the model file may have.
    total_bytes : int
        The most bytes all members may inflate to, together.
    reason : str
        Why these suffice, e.g. ``"Camformer Mini's 1,446,721 float32 parameters take 5.8 MB"``.
    """

    model_bytes: int
    total_bytes: int
    reason: str

    def refuse(self, where: str, what: str, cap: int) -> ArchiveError:
        return ArchiveError(f"{where}: {what}, over the cap of {cap:,} bytes ({self.reason}); refused")


def _layout_error(path: Path, problem: str, members: list[str]) -> ArchiveError:
    listing = "\n  ".join(members[:50]) if members else "(no members)"
    more = f"\n  ... and {len(members) - 50:,} more" if len(members) > 50 else ""
    return ArchiveError(
        f"{path}: {problem}; expected the authors' layout, a config.json with best_model_path and "
        f"the torch.save file it names. The archive holds:\n  {listing}{more}"
    )


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    """A member's bytes, read in bounded chunks (never more than ``limit``)."""
    handle = tar.extractfile(member)
    out = bytearray()
    while len(out) <= limit and (chunk := handle.read(min(_CHUNK, limit + 1 - len(out)))):
        out += chunk
    return bytes(out)


def _parse_config(raw: bytes, where: str) -> dict | None:
    """A config candidate: a JSON object with a string ``best_model_path``, else None."""
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    except RecursionError:
        raise ArchiveError(f"{where}: JSON nested too deep to parse (a config.json is flat); refused") from None
    if isinstance(config, dict) and isinstance(config.get("best_model_path"), str):
        return config
    return None


def read_archive(path: str | os.PathLike, caps: ArchiveCaps, seed: int = 42) -> tuple[dict, str, bytes]:
    """The training config and the pickled model of an authors' tarball.

    The config is the member that parses as a JSON object with ``best_model_path`` (the one with
    ``seed`` where there are several); the model is the torch zip archive whose file name
    ``best_model_path`` gives (or the only torch zip archive in the tarball).

    Parameters
    ----------
    path : path
        A tarball (gzip, bz2, xz or plain).
    caps : ArchiveCaps
    seed : int

    Returns
    -------
    (dict, str, bytes)
        The config, the model's member name and its bytes.

    Raises
    ------
    ArchiveError
        Not a readable tarball (truncated, corrupt), over a cap, or no such config or model; the
        message names the file and the member, and lists the members where the layout is wrong.
    """
    path = Path(path)
    member_name = "(header)"
    try:
        with tarfile.open(path, "r:*") as tar:
            members: list[tarfile.TarInfo] = []
            configs: list[tuple[tarfile.TarInfo, dict]] = []
            zips: list[tarfile.TarInfo] = []
            # One forward pass: a gzip stream cannot seek back without inflating from the start.
            while (member := tar.next()) is not None:
                member_name = member.name
                members.append(member)
                if len(members) > MAX_MEMBERS:
                    raise ArchiveError(f"{path}: more than {MAX_MEMBERS:,} members; refused")
                if member.offset_data + member.size > caps.total_bytes:
                    raise caps.refuse(f"{path}:{member.name}", "the archive inflates past "
                                      f"{member.offset_data + member.size:,} bytes", caps.total_bytes)
                if not member.isfile():
                    continue
                if member.size <= MAX_JSON_BYTES:
                    raw = _read_member(tar, member, MAX_JSON_BYTES)
                    if (config := _parse_config(raw, f"{path}:{member.name}")) is not None:
                        configs.append((member, config))
                    if raw.startswith(_ZIP_MAGIC):
                        zips.append(member)
                elif _read_member(tar, member, 3) == _ZIP_MAGIC:
                    zips.append(member)
            member_name = "(members)"
            names = [m.name for m in members]
            if len(configs) > 1:
                configs = [c for c in configs if c[1].get("seed") == seed] or configs
            if len(configs) != 1:
                found = "no JSON member with best_model_path" if not configs else \
                    f"{len(configs)} configs with best_model_path ({', '.join(m.name for m, _ in configs)})"
                raise _layout_error(path, found, names)
            config_member, config = configs[0]
            wanted = PurePosixPath(config["best_model_path"]).name
            named = [m for m in zips if PurePosixPath(m.name).name == wanted]
            if len(named) > 1:  # the one beside the config
                folder = PurePosixPath(config_member.name).parent
                named = [m for m in named if PurePosixPath(m.name).parent == folder]
            chosen = named if named else zips
            if len(chosen) != 1:
                raise _layout_error(path, f"{config_member.name} names best_model_path {config['best_model_path']!r}, "
                                    f"and {len(chosen)} torch zip members fit it", names)
            model = chosen[0]
            member_name = model.name
            if model.size > caps.model_bytes:
                raise caps.refuse(f"{path}:{model.name}", f"the model file has {model.size:,} bytes", caps.model_bytes)
            data = _read_member(tar, model, caps.model_bytes)
            if len(data) != model.size:
                raise ArchiveError(f"{path}:{model.name}: {len(data):,} bytes read, the header says {model.size:,}")
            return config, model.name, data
    except ArchiveError:
        raise
    except FileNotFoundError:
        raise ArchiveError(f"{path}: not a readable tar archive (no such file)") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError, RecursionError) as err:
        raise ArchiveError(f"{path}:{member_name}: not a readable tar archive, or truncated "
                           f"({type(err).__name__}: {str(err)[:200]})") from None
