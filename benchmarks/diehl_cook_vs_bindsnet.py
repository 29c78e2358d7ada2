"""Diehl & Cook's network in the continual-learning loop beside BindsNET, measured side by side.

Each of ``--pairs`` pairs runs, one after the other and each with one torch thread
(``OMP_NUM_THREADS=1``):

* hebbnet: ``train.py experiment=plastic_split_mnist model=diehl_cook`` — class-incremental
  Split MNIST through the runner, with its evaluation, checkpoints and TensorBoard — for
  ``--iterations`` batches per task; its figure is the run's ``train_samples_per_s``
  (``metrics.json``: training samples over training seconds);
* BindsNET 0.3.4's ``DiehlAndCook2015``, run by ``../shared/peers/bindsnet_dc2015.py --mode
  speed`` in the peer's own virtual environment (``--peer-python``) with the same neurons,
  batch, presentation (250 steps of 1 ms) and input rate (63.75 Hz for a white pixel); its
  figure is its training loop's samples/s.

The order within a pair alternates (A B, B A, …), and the result is the median of the per-pair
ratios with their min–max: the machine is shared, so seconds from different moments are not
compared. Records are appended to ``--log``.

    python benchmarks/diehl_cook_vs_bindsnet.py --peer-python $TMPDIR/peer-bindsnet/bin/python

Without the peer's environment it says how to make it and stops.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
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

MAX_RATE = 63.75  # Hz for a white pixel: DiehlCookParameters.max_rate, BindsNET's intensity


def hebbnet_rate(args) -> dict:
    """One run in a directory of its own (a run directory takes one run), read and removed."""
    with tempfile.TemporaryDirectory(prefix="vs_bindsnet_") as run_dir:
        command = [sys.executable, str(ROOT / "train.py"), "experiment=plastic_split_mnist",
                   "model=diehl_cook", f"model.n_neurons={args.neurons}",
                   f"train.batch_size={args.batch}", "train.epochs=null",
                   f"train.iterations={args.iterations}", f"data.root={args.data}", "seed=1",
                   f"hydra.run.dir={run_dir}", "logger.progress=false", *args.set]
        subprocess.run(command, check=True, env=one_thread_env(), cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
        return {"samples_per_s": round(metrics["train_samples_per_s"], 1)}


def bindsnet_rate(args) -> dict:
    command = [args.peer_python, str(PEERS / "bindsnet_dc2015.py"), "--mode", "speed",
               "--n_neurons", str(args.neurons), "--batch_size", str(args.batch),
               "--n_train", str(args.peer_samples), "--intensity", str(MAX_RATE),
               "--threads", "1", "--root", args.peer_root]
    output = subprocess.run(command, check=True, env=one_thread_env(), capture_output=True,
                            text=True).stdout
    return {"samples_per_s": round(peer_result(output)["train_samples_per_s"], 1)}


def main() -> None:
    parser = peer_parser(__doc__.splitlines()[0], "BindsNET", "diehl_cook_vs_bindsnet.jsonl")
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=50, help="hebbnet batches per task")
    parser.add_argument("--peer-samples", type=int, default=1280, help="BindsNET samples timed")
    parser.add_argument("--set", nargs="*", default=[], help="more hebbnet overrides")
    args = parser.parse_args()
    require_peer(args.peer_python, args.peer_root, "BindsNET")
    runs = alternate(
        args.pairs, {"hebbnet": lambda: hebbnet_rate(args), "bindsnet": lambda: bindsnet_rate(args)},
        args.log, {"command": "diehl_cook_vs_bindsnet", "neurons": args.neurons,
                   "batch": args.batch, "overrides": args.set})
    print("hebbnet in the loop ÷ BindsNET, training samples/s: "
          f"{summary(ratios(runs, 'hebbnet', 'bindsnet', 'samples_per_s'))}")


if __name__ == "__main__":
    main()
