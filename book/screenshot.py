"""Open the built book in headless Chromium: serve it locally, take screenshots, read the DOM.

Used by ``tests/test_book.py`` and to make the README's screenshot::

    python book/screenshot.py                      # docs/book.png of the built introduction
    python book/screenshot.py --page notebooks/01_data.html --out /tmp/data.png

Chromium is Debian's ``chromium`` package (``apt-get install chromium``); set ``CHROMIUM`` to
use another binary. It runs headless, without a sandbox (so it also runs as root), without
a GPU and without any network access but the local server.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HTML = REPO_ROOT / "_build" / "book" / "_build" / "html"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio",
    # No network but the local server, even on a connected machine: every other host name fails to
    # resolve, so a page that needs a CDN shows it.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
#: Path of the measuring page that :func:`serve` adds beside the book (see :func:`measure`).
PROBE = "__probe__.html"


def chromium_path() -> str | None:
    """The Chromium binary: ``$CHROMIUM``, else ``chromium`` on the PATH; None if neither."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if self.path.split("?")[0] != "/" + PROBE:
            return super().do_GET()
        body = _PROBE_HTML.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# The measuring page: loads ?page=... in a same-origin iframe of ?width=... px, waits for its scripts
# (MathJax among them), runs the measurements and writes them as JSON into #result.
_PROBE_HTML = r"""<!DOCTYPE html><html><body style="margin:0">
<pre id="result">pending</pre>
<iframe id="frame" style="border:0"></iframe>
<script>
const params = new URLSearchParams(location.search);
const frame = document.getElementById("frame");
frame.style.width = (params.get("width") || "1280") + "px";
frame.style.height = (params.get("height") || "900") + "px";
frame.addEventListener("load", () => setTimeout(() => {
  const doc = frame.contentDocument;
  const overflowing = (el) => el.scrollWidth > el.clientWidth + 1;
  const describe = (el) => (el.textContent || "").trim().split("\n")[0].slice(0, 80);
  const code = [...doc.querySelectorAll("div.cell_input pre, div.highlight pre, div.cell_output pre")];
  const tables = [...doc.querySelectorAll("table")].filter((t) => {
    const box = t.getBoundingClientRect();
    let parent = t.parentElement;
    while (parent && parent !== doc.body && !overflowing(parent)) parent = parent.parentElement;
    const scrolls = parent && parent !== doc.body && getComputedStyle(parent).overflowX !== "hidden"
      && getComputedStyle(parent).overflowX !== "clip";
    const column = doc.querySelector("main") || doc.body;
    return box.right > column.getBoundingClientRect().right + 1 && !scrolls;
  });
  // the page's prose: TeX left there means MathJax did not run (code cells may hold TeX in strings)
  const clone = doc.body.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style").forEach((el) => el.remove());
  const prose = clone.textContent;
  // how many characters of code a code box shows: its inner width over one character's width
  let columns = null;
  if (code.length) {
    const box = code[0], span = doc.createElement("span");
    span.textContent = "x".repeat(100);
    box.appendChild(span);
    const style = getComputedStyle(box);
    const inner = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    columns = Math.floor(inner / (span.getBoundingClientRect().width / 100));
    span.remove();
  }
  document.getElementById("result").textContent = JSON.stringify({
    code_blocks: code.length,
    code_columns: columns,
    scrolling_code: code.filter(overflowing).map(describe),
    cut_tables: tables.map(describe),
    math_rendered: doc.querySelectorAll("mjx-container").length,
    raw_math: (prose.match(/\\\(|\\\[/g) || []).length,
  });
}, 3000));
frame.src = params.get("page");
</script></body></html>
"""


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the browser hung up mid-transfer
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve ``html_dir`` on 127.0.0.1 at an ephemeral port; yields the base URL (with ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _run_chromium(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium not found: apt-get install chromium (or set CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="camformer-chromium-") as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def screenshot(url: str, output: Path, *, width: int = 1280, height: int = 900, timeout: float = 60) -> Path:
    """Save a PNG of the page at ``url`` as rendered by headless Chromium (``width`` × ``height`` px)."""
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    _run_chromium(
        [f"--screenshot={output}", f"--window-size={width},{height}", "--virtual-time-budget=5000", url],
        timeout,
    )
    if not output.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {url}")
    return output


def dump_dom(url: str, *, timeout: float = 60) -> str:
    """The page's DOM after Chromium loaded it and ran its scripts, as HTML text."""
    return _run_chromium(["--dump-dom", "--virtual-time-budget=5000", url], timeout).stdout


def measure(base_url: str, page: str, *, width: int = 1280, height: int = 900, timeout: float = 90) -> dict:
    """Measure a page of the book served by :func:`serve` as Chromium lays it out at ``width`` px.

    Returns
    -------
    dict
        ``code_blocks`` (how many), ``code_columns`` (characters a code box shows on one line;
        None without code), ``scrolling_code`` (the first line of each code block whose
        text is wider than its box, so it scrolls sideways), ``cut_tables`` (tables that reach
        past the page's main column without a scrolling box around them), ``math_rendered``
        (MathJax elements) and ``raw_math`` (TeX delimiters left in the page's text).
    """
    import json
    import re
    from urllib.parse import quote

    url = f"{base_url}{PROBE}?page={quote('/' + page)}&width={width}&height={height}"
    dom = _run_chromium(["--dump-dom", "--virtual-time-budget=15000", url], timeout).stdout
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    if not found or found.group(1) == "pending":
        raise RuntimeError(f"the measuring page did not finish for {page}")
    import html

    return json.loads(html.unescape(found.group(1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a page of the built book.")
    parser.add_argument("html_dir", nargs="?", type=Path, default=DEFAULT_HTML, help="the built HTML folder")
    parser.add_argument("--page", default="notebooks/00_intro.html", help="page path inside the HTML folder")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "book.png", help="PNG to write")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    if not (args.html_dir / args.page).exists():
        print(f"{args.html_dir / args.page} does not exist: build the book first (make book)", file=sys.stderr)
        return 2
    with serve(args.html_dir) as base:
        path = screenshot(base + args.page, args.out, width=args.width, height=args.height)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
