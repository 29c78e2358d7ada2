"""hebbnet against Avalanche 0.6.0 on Split MNIST, measured side by side in one session.

The setting (issue 3): class-incremental Split MNIST, MLP 784-400-400-10, Adam lr 1e-3, batch
128, one epoch per task; naive, EWC (λ = 5000) and replay of 200 stored samples. For each
strategy, ``--pairs`` pairs run alternately (A B, then B A), each process with one torch
thread (``OMP_NUM_THREADS=1``):

* hebbnet: ``python train.py experiment=vdv2022_split_mnist ...`` in a temporary run
  directory, TensorBoard on unless ``--no-tensorboard``;
* Avalanche: ``../shared/peers/avalanche_splitmnist.py`` in the peer's own virtual
  environment (``--peer-python``), which evaluates once, after the last task, on the whole
  test stream (hebbnet evaluates every task after every task, and once before training).

Each side's whole process is timed from outside (launch to exit, imports included); each also
reports its training seconds. The result per strategy is the median of the per-pair ratios
(Avalanche ÷ hebbnet: how many times faster hebbnet is) with their min–max. Records are
appended to ``--log``. Without the peer's environment it says how to make it and stops.

    python benchmarks/speed_vs_avalanche.py --peer-python $TMPDIR/peer-avalanche/bin/python
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from side_by_side import (
    PEERS,
    ROOT,
    alternate,
    one_thread_env,
    peer_parser,
    peer_result,
    ratios,
    require_peer,
    summary,
)

HEBBNET = {"naive": ["strategy=naive"],
           "ewc": ["strategy=ewc", "strategy.ewc_lambda=5000"],
           "replay": ["strategy=er", "strategy.buffer_size=200"]}


def timed(command: list[str], **kwargs) -> tuple[float, str]:
    start = time.perf_counter()
    finished = subprocess.run(command, check=True, env=one_thread_env(), capture_output=True,
                              text=True, **kwargs)
    return time.perf_counter() - start, finished.stdout


def hebbnet_run(strategy: str, seed: int, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="vs_avalanche_") as run_dir:
        command = [sys.executable, str(ROOT / "train.py"), "experiment=vdv2022_split_mnist",
                   "scenario=class", *HEBBNET[strategy], "train.iterations=null",
                   "train.epochs=1", f"seed={seed}", f"data.root={args.data}",
                   f"hydra.run.dir={run_dir}", "logger.progress=false",
                   *(["logger=none"] if args.no_tensorboard else [])]
        wall, _ = timed(command, cwd=ROOT)
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    return {"wall_s": round(wall, 2), "train_s": round(metrics["train_seconds"], 2),
            "acc": round(100 * metrics["acc"], 2)}


def avalanche_run(strategy: str, seed: int, args) -> dict:
    command = [args.peer_python, str(PEERS / "avalanche_splitmnist.py"), "--strategy", strategy,
               "--seed", str(seed), "--epochs", "1", "--threads", "1", "--root", args.peer_root]
    wall, output = timed(command)
    result = peer_result(output)
    return {"wall_s": round(wall, 2), "train_s": round(result["train_s"], 2),
            "acc": round(result["final_stream_acc"], 2)}


def main() -> None:
    parser = peer_parser(__doc__.splitlines()[0], "Avalanche", "speed_vs_avalanche.jsonl")
    parser.add_argument("--strategies", nargs="+", default=list(HEBBNET), choices=list(HEBBNET))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tensorboard", action="store_true", help="hebbnet with logger=none")
    args = parser.parse_args()
    require_peer(args.peer_python, args.peer_root, "Avalanche")
    for strategy in args.strategies:
        figures = {"hebbnet": partial(hebbnet_run, strategy, args.seed, args),
                   "avalanche": partial(avalanche_run, strategy, args.seed, args)}
        about = {"command": "speed_vs_avalanche", "strategy": strategy, "seed": args.seed,
                 "tensorboard": not args.no_tensorboard}
        runs = alternate(args.pairs, figures, args.log, about)
        for figure, what in (("wall_s", "whole process"), ("train_s", "training")):
            print(f"{strategy}, {what}: hebbnet faster than Avalanche "
                  f"{summary(ratios(runs, 'avalanche', 'hebbnet', figure))}")

if __name__ == "__main__":
    main()
