"""The signature experiments of structural plasticity (``hebbnet.signatures``) over
several seeds: each figure as mean ± std, with the records in a JSON-lines file.

    OMP_NUM_THREADS=1 python benchmarks/structural_signatures.py --seeds 0 1 2 3 4 \
        --log benchmarks/results/structural_signatures.jsonl
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

import torch
from records import append_records

from hebbnet import signatures as sig


def figures(seed: int) -> dict[str, float]:
    """Every number the experiments report, for one seed."""
    out: dict[str, float] = {}
    for name, options in (("co-active, unused", {}), ("random, unused", {"growth": "random"}),
                          ("co-active, weak", {"prune": "weak"})):
        run = sig.synapse_turnover(seed=seed, **options)
        out[f"turnover {name}: associated survival"] = run.associated_survival
        out[f"turnover {name}: other survival"] = run.other_survival
        out[f"turnover {name}: share on new inputs at the end"] = run.share_on_second_half[-1]
    for name, options in (("4 born, excitable", {"grow": 4}),
                          ("4 born, not excitable", {"grow": 4, "excitability": 0.0}),
                          ("no neurogenesis", {"grow": 0})):
        run = sig.neurogenesis_for_a_new_class(seed=seed, **options)
        out[f"neurogenesis {name}: old units' drift"] = run.old_drift
        if run.new_class_won_by_new_units is not None:
            out[f"neurogenesis {name}: 2s won by new units"] = run.new_class_won_by_new_units
        out[f"neurogenesis {name}: 0/1 accuracy after"] = run.old_accuracy_after
        out[f"neurogenesis {name}: 2s accuracy"] = run.new_accuracy
    for factor, area in zip((1, 2, 4, 8), sig.map_expansion([1, 2, 4, 8], seed=seed)):
        out[f"map: units of finger 2 touched {factor}x"] = area
    cut = sig.amputation(seed=seed)
    out["amputation: finger 2's units before"] = cut.before[2]
    out["amputation: finger 2's units after"] = cut.after[2]
    out["amputation: its former units now on fingers 1 and 3"] = (
        cut.former_territory_now[1] + cut.former_territory_now[3]) / cut.before[2]
    for name, deprive_at in (("inside the critical period", 1000), ("after it", 2000)):
        run = sig.monocular_deprivation(deprive_at, seed=seed)
        out[f"ocular dominance, deprived {name}: shift"] = run.shift
        out[f"ocular dominance, deprived {name}: lasting shift"] = run.lasting_shift
    for name, options in (("ordinary reward", {"surge": 0.0}), ("surge", {}),
                          ("surge + scaling", {"homeostasis": True}),
                          ("surge, then blocked", {"remedy": (1.0, 0.0)}),
                          ("surge, then withdrawn", {"remedy": (0.0, 0.0)})):
        out[f"capture {name}: drug cue's share at the end"] = sig.reward_capture(
            seed=seed, **options).drug_share[-1]
    return out


def table(records: list[dict[str, float]], describe: Callable[[list[float]], str]) -> str:
    lines = ["| figure | mean ± std |", "|---|---|"]
    for key in records[0]:
        lines.append(f"| {key} | {describe([r[key] for r in records])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny layers: a second thread only synchronises
    records = []
    for seed in args.seeds:
        records.append(figures(seed))
        if args.log:
            append_records(args.log, {"seed": seed, **records[-1]})
    print(f"seeds {args.seeds}")
    print(table(records, lambda v: f"{statistics.mean(v):.3f} ± "
                                   f"{statistics.stdev(v) if len(v) > 1 else 0:.3f}"))


if __name__ == "__main__":
    main()
