"""Benchmark records: JSON objects, one per line, appended to a results file."""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def append_records(path: Path, *records: dict) -> None:
    """Append each record to ``path`` as one JSON line, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.writelines(json.dumps(record) + "\n" for record in records)


def mean_std(values: list[float], digits: int = 2) -> str:
    """``"mean ± std"`` of ``values`` (sample standard deviation; 0 for a single value)."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {spread:.{digits}f}"
