"""Capacity of the attractor hippocampus (CA3 as a Willshaw network) as its store fills.

For each pattern source and each number M of stored patterns, 200 of the stored patterns are
cued with half of their ones missing; a pattern counts as *recalled* when the settled state
shares at least 90 % of its ones (the stated fidelity). Spontaneous reactivation is measured
too: of 200 reactivations from noise, the share that lands within the same fidelity of some
stored pattern, how many distinct patterns they reach, and (MNIST codes) how often the tag
readout gives the label of the pattern reached.

Sources: random sparse patterns (N units, k on); real MNIST training images through the
CLS's own code (``hebbnet.layers.SparseCode``: a Gaussian expansion, k winners), whose
patterns are correlated; and the same code of the images minus a mean image. The baseline is
a dense Hopfield network measured here, not quoted: ±1 patterns, W = Σ ξξᵀ / N with a zero
diagonal, synchronous sign updates from the pattern with 10 % of its bits flipped, recalled at
overlap ≥ 0.9 (its classical capacity is ≈ 0.14 N).

    python benchmarks/attractor_capacity.py --data-root ../shared/data \
        --log benchmarks/results/attractor_capacity.jsonl
    python benchmarks/attractor_capacity.py --report --log benchmarks/results/attractor_capacity.jsonl

With ``--ca3-units``, CA3 is larger than the code (``AttractorHippocampus(ca3_units=...)``):
the centred MNIST codes (``--units``, ``--actives``) reach it through the dentate, streamed in
batches of 128 as the CLS offers them, and each spontaneous reactivation is read out as a code;
it counts as replayed when that code shares at least 90 % of a stored code's ones. Its tag is
read by the store's naive-Bayes readout, and, for comparison, by the mean count T[c]·x / n_c
(the readout before 2026-12-05).

    python benchmarks/attractor_capacity.py --units 1000 --actives 100 --ca3-units 10000 \
        --fills 1000 3000 5000 8000 --log benchmarks/results/attractor_capacity.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from pathlib import Path

import torch
from records import append_records

from hebbnet.data import TensorSet, load_dataset, to_float
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.memory_systems.attractor import (
    AttractorConfig,
    AttractorHippocampus,
    AttractorMemory,
    CapacityWarning,
)

SOURCES = ("random", "mnist", "mnist_centred")
FIDELITY = 0.9
PROBES = 200


def random_patterns(n: int, units: int, active: int, generator: torch.Generator) -> torch.Tensor:
    winners = torch.rand(n, units, generator=generator).topk(active, 1).indices
    return torch.zeros(n, units).scatter_(1, winners, 1.0)


def mnist_codes(n: int, units: int, active: int, root: str, generator: torch.Generator,
                centred: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes of n training images; ``centred``: of the images minus the mean of 1,000 others,
    which gives the codes of ``SparseCode.calibrate`` on those others (P(x − m) = Px − Pm; the
    CLS's ``model.code_calibrated`` calibrates on the first task's images instead)."""
    mnist = load_dataset("mnist", root)
    order = torch.randperm(len(mnist.train_labels), generator=generator)
    chosen, others = order[:n], order[-1000:]
    code = SparseCode(784, units, active, generator)
    images = to_float(mnist.train_images[chosen]).flatten(1)
    if centred:
        images = images - to_float(mnist.train_images[others]).flatten(1).mean(0)
    return code(images), mnist.train_labels[chosen]


def half_cues(patterns: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    order = torch.rand(patterns.shape, generator=generator) * patterns
    half = int(patterns[0].sum()) // 2
    return patterns.clone().scatter_(1, order.topk(half, 1).indices, 0.0)


def willshaw(patterns: torch.Tensor, tags: torch.Tensor, active: int,
             generator: torch.Generator) -> dict:
    memory = AttractorMemory(patterns.shape[1], active)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CapacityWarning)
        memory.store(patterns, tags)
    probes = torch.randperm(len(patterns), generator=generator)[:PROBES]
    cued = memory.complete(half_cues(patterns[probes], generator), generator)
    overlap = (cued.patterns * patterns[probes]).sum(1) / active
    spontaneous = memory.reactivate(PROBES, generator)
    similarity = spontaneous.patterns @ patterns.T / active
    best, reached = similarity.max(1)
    landed = best >= FIDELITY
    return {"load": memory.load, "recalled": float((overlap >= FIDELITY).float().mean()),
            "stability": float(cued.stability.mean()),
            "spontaneous_landed": float(landed.float().mean()),
            "spontaneous_distinct": len(set(reached[landed].tolist())),
            "tag_accuracy": float((spontaneous.tags[landed] == tags[reached[landed]]).float()
                                  .mean()) if landed.any() else None,
            "bytes": memory.synapses.nbytes}


def through_dentate(codes: torch.Tensor, labels: torch.Tensor, ca3_units: int, ca3_active: int,
                    generator: torch.Generator) -> dict:
    """Codes streamed into a CA3 of ``ca3_units`` through the dentate; reactivations read out."""
    settings = AttractorConfig(store_probability=1.0, ca3_units=ca3_units, ca3_active=ca3_active)
    hippocampus = AttractorHippocampus(codes.shape[1], int(codes[0].sum()), settings, seed=0)
    for part, part_labels in zip(codes.split(128), labels.split(128)):
        hippocampus.store(TensorSet((part * 255).to(torch.uint8), part_labels,
                                    torch.zeros_like(part_labels)), generator)
    memory, readout = hippocampus.memory, hippocampus.readout
    assert readout is not None
    spontaneous = memory.reactivate(PROBES, generator)
    replayed = readout.recall(spontaneous.patterns, generator)
    best, reached = (replayed @ codes.T / codes[0].sum()).max(1)
    landed = best >= FIDELITY
    label_of = torch.tensor([label for _, label in hippocampus.pairs])
    mean_count = spontaneous.patterns @ memory.tag_counts.float().T / memory.tag_sizes.float()
    truth = labels[reached[landed]]
    return {"ca3_units": ca3_units, "ca3_active": ca3_active, "load": memory.load,
            "readout_load": readout.load, "spontaneous_landed": float(landed.float().mean()),
            "spontaneous_distinct": len(set(reached[landed].tolist())),
            "tag_accuracy": float((label_of[spontaneous.tags[landed]] == truth).float().mean()),
            "tag_accuracy_mean_count": float((label_of[mean_count.argmax(1)[landed]] == truth)
                                             .float().mean()),
            "bytes": hippocampus.nbytes}


def hopfield(stored: int, units: int, generator: torch.Generator) -> dict:
    xi = torch.randint(0, 2, (stored, units), generator=generator).float() * 2 - 1
    weights = xi.T @ xi / units
    weights.fill_diagonal_(0)
    probes = xi[:PROBES]
    flips = torch.rand(probes.shape, generator=generator) < 0.1
    state = torch.where(flips, -probes, probes)
    for _ in range(20):
        state = torch.where(state @ weights >= 0, 1.0, -1.0)
    overlap = (state * probes).mean(1)
    return {"recalled": float((overlap >= FIDELITY).float().mean()), "bytes": units * units * 4}


def measure_dentate(root: str, log: Path, units: int, actives: list[int], fills: list[int],
                    ca3_units: int, ca3_active: int) -> None:
    for active in actives:
        for stored in fills:
            generator = torch.Generator().manual_seed(0)
            codes, labels = mnist_codes(stored, units, active, root, generator, centred=True)
            record = {"source": "mnist_dentate", "units": units, "active": active,
                      "stored": stored,
                      **through_dentate(codes, labels, ca3_units, ca3_active, generator)}
            append_records(log, record)
            print(record, flush=True)


def measure(root: str, log: Path, units: int, actives: list[int], fills: list[int]) -> None:
    for stored in fills:
        record = {"source": "hopfield", "units": units, "active": units // 2,
                  "stored": stored, **hopfield(stored, units, torch.Generator().manual_seed(0))}
        append_records(log, record)
        print(record, flush=True)
    for active in actives:
        for source in SOURCES:
            for stored in fills:
                generator = torch.Generator().manual_seed(0)
                if source == "random":
                    patterns = random_patterns(stored, units, active, generator)
                    tags = torch.zeros(stored, dtype=torch.long)
                else:
                    patterns, tags = mnist_codes(stored, units, active, root, generator,
                                                 centred=source == "mnist_centred")
                record = {"source": source, "units": units, "active": active,
                          "stored": stored,
                          "theory_half_load": math.log(2) / (active / units) ** 2,
                          **willshaw(patterns, tags, active, generator)}
                append_records(log, record)
                print(record, flush=True)


def report(log: Path) -> str:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    lines = ["| source | N | k | stored | synapses loaded | cued recall ≥ 90 % | "
             "spontaneous: landed / distinct / tag right |", "|---|---|---|---|---|---|---|"]
    for r in records:
        if r["source"] == "mnist_dentate":
            continue
        load = f"{r['load']:.2f}" if "load" in r else ""
        spontaneous = "" if r["source"] == "hopfield" else (
            f"{100 * r['spontaneous_landed']:.0f} % / {r['spontaneous_distinct']} / "
            + (f"{100 * r['tag_accuracy']:.0f} %" if r.get("tag_accuracy") is not None
               and r["source"] != "random" else "—"))
        lines.append(f"| {r['source']} | {r['units']} | {r['active']} | {r['stored']:,} | {load} | "
                     f"{100 * r['recalled']:.0f} % | {spontaneous} |")
    lines += ["", "| code N / k | CA3 N / k | stored | CA3 loaded | readout loaded | replayed "
              "≥ 90 % / distinct | tag right: naive Bayes / mean count | bytes |",
              "|---|---|---|---|---|---|---|---|"]
    for r in records:
        if r["source"] == "mnist_dentate":
            lines.append(
                f"| {r['units']:,} / {r['active']} | {r['ca3_units']:,} / {r['ca3_active']} | "
                f"{r['stored']:,} | {r['load']:.3f} | {r['readout_load']:.2f} | "
                f"{100 * r['spontaneous_landed']:.0f} % / {r['spontaneous_distinct']} | "
                f"{100 * r['tag_accuracy']:.0f} % / {100 * r['tag_accuracy_mean_count']:.0f} % | "
                f"{r['bytes']:,} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--log", type=Path,
                        default=Path(__file__).parent / "results" / "attractor_capacity.jsonl")
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--actives", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--fills", type=int, nargs="+",
                        default=[100, 140, 200, 500, 1000, 2000, 5000])
    parser.add_argument("--ca3-units", type=int,
                        help="a CA3 this large, reached through the dentate (MNIST codes only)")
    parser.add_argument("--ca3-active", type=int, default=20)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(report(args.log))
    elif args.ca3_units:
        measure_dentate(args.data_root, args.log, args.units, args.actives, args.fills,
                        args.ca3_units, args.ca3_active)
    else:
        measure(args.data_root, args.log, args.units, args.actives, args.fills)


if __name__ == "__main__":
    main()
