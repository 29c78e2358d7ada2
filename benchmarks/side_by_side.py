"""What every peer comparison shares: one torch thread per process, runs of the two systems
alternating within each pair (A B, then B A, …), and the median of the per-pair ratios with
their min–max, since a shared machine's seconds from different moments are not comparable."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from records import append_records

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers"


def peer_parser(description: str, peer: str, log_name: str) -> argparse.ArgumentParser:
    """The arguments every peer comparison takes: the peer's Python and MNIST, the number of
    pairs, hebbnet's data and the log the records go to."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--peer-python", required=True,
                        help=f"python of the virtual environment {peer} is installed in")
    parser.add_argument("--peer-root", default=os.path.join(tempfile.gettempdir(), "mnist_root"),
                        help="MNIST as torchvision reads it offline (see shared/peers/README.md)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--log", type=Path, default=ROOT / "benchmarks" / "results" / log_name)
    return parser


def peer_result(stdout: str) -> dict:
    """The record a peer script prints on its ``RESULT {json}`` line."""
    line = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


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
        append_records(log, record)
    return runs


def ratios(runs: list[dict[str, dict]], numerator: str, denominator: str,
           figure: str) -> list[float]:
    """Per pair: ``numerator``'s ``figure`` over ``denominator``'s."""
    return [run[numerator][figure] / run[denominator][figure] for run in runs]


def summary(ratios: list[float]) -> str:
    return (f"median {statistics.median(ratios):.2f}× [{min(ratios):.2f}–{max(ratios):.2f}] "
            f"over {len(ratios)} pairs")
