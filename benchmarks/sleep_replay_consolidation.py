"""Sleep Replay Consolidation (Tadros, Krishnan, Ramyaa & Bazhenov, Nature Communications 13,
2022) in its own regime: class-incremental MNIST, 5 tasks of 2 digits, their network, training,
conversion, sleep and tuned values, with hebbnet's spiking sleep
(:func:`hebbnet.memory_systems.spiking_sleep.spiking_sleep`). What follows is read from their code
(``tmtadros/SleepReplayConsolidation``: ``MNIST/run_class_task_summary.m``,
``sleep/sleepnn_old.m``, ``utils/normalize_nn_data.m`` and their DeepLearnToolbox):

* **network** — 784-1200-1200-10, no biases, ReLU everywhere (the output too), weights
  U(−0.01, 0.01); dropout 0.25 on the hidden layers as the toolbox does it (units dropped in
  training, activations × 0.75 at test, not rescaled in training); loss ½ Σ e² / m against
  one-hot targets; SGD lr 0.1, momentum 0.5 (never reset), batches of 100, 2 epochs per task
  on the first 5,000 training images of the task's digits (0/1, 2/3, 4/5, 6/7, 8/9, in order);
  one 10-unit output; test accuracy on all 10,000 test images.
* **conversion** — per layer s_l = max(largest positive weight, largest activation on every
  training image of the tasks so far, test-mode); the scale factors as their code computes
  them: α₁ = 1/s₁, α₂ = s₁/s₂, α₃ = s₂/(s₁ s₃) (their third factor is not Diehl's s₂/s₃);
  times alpha_scale 55.882454; thresholds β = 14.548273, 44.560317, 38.046326.
* **sleep** — after every task, 15,000 + 5,000·(t − 1) steps; input spikes with probability
  2·dt·max_rate·x̄ = 0.4790·x̄ (dt 0.001, max_rate 239.515363), x̄ the mean training image of
  the tasks so far, only inside a random 11×11 window each step; membrane decay 0.999, reset
  to 0; inc 0.032064, dec 0.003344, weight dependence 2(1 − sigmoid(w / 0.001)); weights kept
  as sleep leaves them.

The control is the same network trained the same way without sleep. Seeds 1–5, never used to
choose anything (every value is theirs).

    python benchmarks/sleep_replay_consolidation.py --seeds 1 2 3 4 5 \
        --log benchmarks/results/src_tadros.jsonl
    # the one departure the CLS's spiking sleep makes in the conversion: Diehl's layer factors
    python benchmarks/sleep_replay_consolidation.py --seeds 1 2 3 --scales diehl \
        --log benchmarks/results/src_tadros.jsonl
    python benchmarks/sleep_replay_consolidation.py --report --log benchmarks/results/src_tadros.jsonl
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from records import append_records
from torch import nn

from hebbnet.continual.aggregate import mean_std
from hebbnet.data import load_dataset, to_float
from hebbnet.memory_systems.spiking_sleep import SpikingSleepConfig, spiking_sleep
from hebbnet.spiking.conversion import layer_scales

PAIRS = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
KEEP = 0.75  # 1 − dropout fraction
SLEEP = SpikingSleepConfig(steps=15_000, steps_per_task=5_000, input_window=11,
                           rate_scale=2 * 0.001 * 239.515363, alpha_scale=55.882454,
                           thresholds=[14.548273, 44.560317, 38.046326], decay=0.999,
                           inc=0.032064, dec=0.003344, w0=0.001)


def network(generator: torch.Generator) -> list[nn.Linear]:
    layers = [nn.Linear(a, b, bias=False) for a, b in ((784, 1200), (1200, 1200), (1200, 10))]
    with torch.no_grad():
        for layer in layers:
            layer.weight.copy_((torch.rand(layer.weight.shape, generator=generator) - 0.5) * 0.02)
    return layers


def forward(layers: list[nn.Linear], x: torch.Tensor, generator: torch.Generator | None = None):
    """ReLU throughout; the hidden layers' dropout as the toolbox's (a generator: training)."""
    h = x
    for i, layer in enumerate(layers):
        h = torch.relu(layer(h))
        if i < len(layers) - 1:
            h = h * ((torch.rand(h.shape, generator=generator) < KEEP).float()
                     if generator is not None else KEEP)
    return h


def train_task(layers, optimizer, x, y, generator) -> None:
    targets = F.one_hot(y, 10).float()
    for _ in range(2):
        for batch in torch.randperm(len(x), generator=generator).split(100):
            error = forward(layers, x[batch], generator) - targets[batch]
            loss = 0.5 * error.square().sum() / len(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@torch.no_grad()
def their_scales(layers: list[nn.Linear], data: torch.Tensor) -> list[float]:
    """α_l / alpha_scale as ``normalize_nn_data.m`` computes them (see the module docstring)."""
    h, previous, scales = data, 1.0, []
    for i, layer in enumerate(layers):
        h = torch.relu(layer(h)) * (KEEP if i < len(layers) - 1 else 1.0)
        peak = max(float(layer.weight.clamp_min(0).max()), float(h.max()))
        applied = peak / previous
        scales.append(1 / applied)
        previous = applied
    return scales


@torch.no_grad()
def accuracy_per_task(layers, x, y) -> list[float]:
    predicted = forward(layers, x).argmax(1)
    return [float((predicted[(y == a) | (y == b)] == y[(y == a) | (y == b)]).float().mean())
            for a, b in PAIRS]


def run(seed: int, root: str, scales: str = "theirs") -> dict:
    mnist = load_dataset("mnist", root)
    x_all, y_all = to_float(mnist.train_images).flatten(1), mnist.train_labels
    test_x, test_y = to_float(mnist.test_images).flatten(1), mnist.test_labels
    init = network(torch.Generator().manual_seed(seed))
    record = {"seed": seed, "scales": scales}
    scale = their_scales if scales == "theirs" else layer_scales
    for arm in ("control", "sleep"):
        layers = copy.deepcopy(init)  # both arms start from the same weights
        parameters = [p for layer in layers for p in layer.parameters()]
        optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.5)
        generator = torch.Generator().manual_seed(seed + 1000)
        before, after, spikes, seconds = [], [], [], 0.0
        for task, pair in enumerate(PAIRS):
            in_pair = torch.isin(y_all, torch.tensor(pair))
            first = in_pair.nonzero().squeeze(1)[:5000]
            train_task(layers, optimizer, x_all[first], y_all[first], generator)
            before.append(accuracy_per_task(layers, test_x, test_y))
            if arm == "sleep":
                seen = torch.isin(y_all, torch.tensor(PAIRS[: task + 1]).flatten())
                start = time.perf_counter()
                counts = spiking_sleep(layers, x_all[seen].mean(0).reshape(1, 28, 28),
                                       scale(layers, x_all[seen]), SLEEP, generator, task)
                seconds += time.perf_counter() - start
                spikes.append(counts)
                after.append(accuracy_per_task(layers, test_x, test_y))
        final = after[-1] if arm == "sleep" else before[-1]
        record[arm] = {"acc": _overall(final, test_y), "before_sleep": before,
                       "after_sleep": after, "spikes": spikes, "sleep_seconds": seconds}
    return record


def _overall(per_task: list[float], test_y: torch.Tensor) -> float:
    """Accuracy on all 10,000 test images from the per-task accuracies (weighted by size)."""
    sizes = [int(((test_y == a) | (test_y == b)).sum()) for a, b in PAIRS]
    return sum(acc * n for acc, n in zip(per_task, sizes)) / sum(sizes)


def report(log: Path) -> str:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    lines = ["| arm | layer scales | seeds | ACC on the 10,000 test images % | "
             "per task at the end % |", "|---|---|---|---|---|"]
    for scales in ("theirs", "diehl"):
        chosen = [r for r in records if r.get("scales", "theirs") == scales]
        for arm in ("control", "sleep") if chosen else ():
            finals = [r[arm]["after_sleep"][-1] if arm == "sleep" else r[arm]["before_sleep"][-1]
                      for r in chosen]
            per_task = " / ".join(f"{100 * statistics.mean(f[t] for f in finals):.1f}"
                                  for t in range(len(PAIRS)))
            lines.append(f"| {arm} | {scales if arm == 'sleep' else ''} | "
                         f"{','.join(str(r['seed']) for r in chosen)} | "
                         f"{mean_std([r[arm]['acc'] for r in chosen], 100)} | {per_task} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--log", type=Path,
                        default=Path(__file__).parent / "results" / "src_tadros.jsonl")
    parser.add_argument("--scales", choices=("theirs", "diehl"), default="theirs",
                        help="their code's layer factors, or Diehl et al.'s λ_{l−1}/λ_l as the "
                             "CLS computes them (hebbnet.spiking.conversion.layer_scales)")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(report(args.log))
        return
    args.log.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        record = run(seed, args.data_root, args.scales)
        append_records(args.log, record)
        print(f"seed {seed}: control {100 * record['control']['acc']:.2f} %, "
              f"sleep {100 * record['sleep']['acc']:.2f} %", flush=True)


if __name__ == "__main__":
    main()
