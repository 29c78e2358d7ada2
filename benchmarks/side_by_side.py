"""What every peer comparison shares: one torch thread per process, runs of the two systems
alternating within each pair (A B, then B A, …), and the median of the per-pair ratios with
their min–max, since a shared machine's seconds from different moments are not comparable."""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"


def one_thread_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMBA_NUM_THREADS": "1"}


def require_peer(python: str, data_root: str, peer: str) -> None:
    """Stop, saying how to make it, when the peer's environment or its MNIST is missing."""
    if not Path(python).exists() or not Path(data_root).exists():
        sys.exit(f"No {peer} environment at {python} or no MNIST for it at {data_root}: make "
                 f"both as {PEERS / 'README.md'} says, then pass --peer-python (and --peer-root).")


def alternate(pairs: int, measure: dict[str, Callable[[], dict]], log: Path,
              about: dict) -> list[dict[str, dict]]:
    """Run the two systems of ``measure`` (name → a function returning its figures) ``pairs``
    times, in alternating order; append one record per pair to ``log`` (``about``, the order,
    each system's figures) and return the figures of every pair."""
    runs = []
    first, second = measure
    for pair in range(pairs):
        order = (first, second) if pair % 2 == 0 else (second, first)
        runs.append({system: measure[system]() for system in order})
        record = {**about, "pair": pair, "order": order, **runs[-1], "threads": 1}
        print(json.dumps(record), flush=True)
        with log.open("a") as out:
            out.write(json.dumps(record) + "\n")
    return runs


def ratios(runs: list[dict[str, dict]], numerator: str, denominator: str,
           figure: str) -> list[float]:
    """Per pair: ``numerator``'s ``figure`` over ``denominator``'s."""
    return [run[numerator][figure] / run[denominator][figure] for run in runs]


def summary(ratios: list[float]) -> str:
    return (f"median {statistics.median(ratios):.2f}× [{min(ratios):.2f}–{max(ratios):.2f}] "
            f"over {len(ratios)} pairs")
