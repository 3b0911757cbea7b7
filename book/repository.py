"""Where the book's repository lives: the address behind the launch buttons and the Colab install cell.

The address is taken from the build's environment, first match wins:

1. ``GITHUB_REPOSITORY`` (``owner/name``, set by GitHub Actions);
2. the ``origin`` remote of the git checkout, when it is on GitHub (``git@github.com:owner/name.git``
   and ``https://github.com/owner/name(.git)`` both work);
3. the placeholder :data:`PLACEHOLDER`, which is what the committed files hold.

``book/build.py`` writes the address into the *staged* ``_config.yml`` and notebooks (so the
published pages point at the repository they were built from). A fork that wants its committed
notebooks to install from itself on Colab (Colab opens the committed notebook on GitHub) runs once::

    python book/repository.py --write            # address from the environment, as above
    python book/repository.py --write https://github.com/me/camformer
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The address the committed files hold until a fork sets its own.
PLACEHOLDER = "https://github.com/camformer/camformer"
#: Committed files that spell the address (the notebooks' Colab install cell, the book's config, the citation).
COMMITTED = ("_config.yml", "CITATION.cff", "notebooks/*.py", "notebooks/*.ipynb")

_GITHUB_REMOTE = re.compile(r"^(?:git@github\.com:|(?:https?|ssh|git)://(?:[^@/]+@)?github\.com/)"
                            r"(?P<slug>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_SLUG = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def github_url(remote: str) -> str | None:
    """``https://github.com/owner/name`` for a GitHub remote address; None for any other address."""
    match = _GITHUB_REMOTE.match(remote.strip())
    return f"https://github.com/{match['slug']}" if match else None


def origin_remote(cwd: Path = REPO_ROOT) -> str | None:
    """The ``origin`` remote of the git checkout at ``cwd``, or None (no git, no remote)."""
    try:
        result = subprocess.run(["git", "remote", "get-url", "origin"], cwd=cwd, capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def repository_url(environ: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> tuple[str, str]:
    """The repository's address and where it came from (``"GITHUB_REPOSITORY"``, ``"git origin"``
    or ``"placeholder"``)."""
    environ = os.environ if environ is None else environ
    slug = environ.get("GITHUB_REPOSITORY", "").strip()
    if slug:
        if not _SLUG.match(slug):
            raise ValueError(f"GITHUB_REPOSITORY={slug!r} is not of the form owner/name")
        return f"https://github.com/{slug}", "GITHUB_REPOSITORY"
    remote = origin_remote(cwd)
    url = github_url(remote) if remote else None
    return (url, "git origin") if url else (PLACEHOLDER, "placeholder")


def with_repository(text: str, url: str) -> str:
    """``text`` with the placeholder address replaced by ``url``."""
    return text.replace(PLACEHOLDER, url)


def committed_files(root: Path = REPO_ROOT) -> list[Path]:
    """The committed files that spell the repository's address."""
    return sorted(path for pattern in COMMITTED for path in root.glob(pattern))


def write_committed(url: str, root: Path = REPO_ROOT, old: str = PLACEHOLDER) -> list[Path]:
    """Replace ``old`` by ``url`` in :func:`committed_files`; returns the files changed."""
    if github_url(url) != url.rstrip("/"):
        raise ValueError(f"{url!r} is not a GitHub repository address (https://github.com/owner/name)")
    changed = []
    for path in committed_files(root):
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, url.rstrip("/")))
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print (or write into the committed files) the repository's address.")
    parser.add_argument("url", nargs="?", help="the address to write (default: from the environment)")
    parser.add_argument("--write", action="store_true", help="replace the placeholder in the committed files")
    args = parser.parse_args(argv)
    url, source = (args.url, "given") if args.url else repository_url()
    print(f"{url} (from {source})")
    if args.write:
        for path in write_committed(url):
            print(f"  wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
