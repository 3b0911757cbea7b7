"""Numbers the book's chapters compute, recorded for the introduction's claims table.

Each chapter calls :func:`record` with the numbers it computed; the introduction (run
last) reads them all back with :func:`load_records`. Files live under
``{results_dir}/{preset}/numbers/{section}.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd


def record(results_dir: str | Path, preset: str, section: str, **numbers: float | int | str) -> Path:
    """Write (or update) the numbers of one section; returns the JSON file's path."""
    path = Path(results_dir) / preset / "numbers" / f"{section}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    for key, value in numbers.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{section}.{key} is {value}; record only measured, finite numbers")
        current[key] = value.item() if hasattr(value, "item") else value
    path.write_text(json.dumps(current, indent=1, sort_keys=True))
    return path


def load_records(results_dir: str | Path, preset: str) -> pd.DataFrame:
    """All recorded numbers as a table with columns ``section, key, value``."""
    rows = []
    for path in sorted((Path(results_dir) / preset / "numbers").glob("*.json")):
        for key, value in json.loads(path.read_text()).items():
            rows.append({"section": path.stem, "key": key, "value": value})
    return pd.DataFrame(rows, columns=["section", "key", "value"])
