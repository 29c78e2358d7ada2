"""The consolidation-curve report reads lesioned CLS runs from a results log: the tasks before
the lesion right after it and at the end, the same tasks in runs without a hippocampus, and
each task's final accuracy by the sleeps it had."""

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "continual_strategies.py"


def load_benchmark_script():
    if str(SCRIPT.parent) not in sys.path:  # as running the script puts its folder there
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("continual_strategies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def record(seed, k, matrix):
    return {"suite": "s", "scenario": "domain", "strategy": "cls", "seed": seed, "acc": 0.5,
            "overrides": [] if k is None else [f"strategy.lesion_after={k}"],
            "acc_matrix": matrix}


def test_the_lesion_report_reads_the_accuracy_matrix_at_the_lesion_and_at_the_end(tmp_path):
    lesioned = [[0.9, 0.0, 0.0], [0.8, 0.9, 0.0], [0.4, 0.6, 1.0]]  # lesion after 2 sleeps
    never = [[0.9, 0.0, 0.0], [0.3, 0.9, 0.0], [0.2, 0.2, 1.0]]  # no hippocampus at all
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in (
        record(1, 2, lesioned), record(2, 2, lesioned), record(1, 0, never), record(2, 0, never))))
    rows = {line.split("|")[3].strip(): [c.strip() for c in line.split("|")[1:-1]]
            for line in load_benchmark_script().lesion_report(log).splitlines()[2:]}
    assert rows["2"][5] == "85.0 ± 0.0 → 50.0 ± 0.0"  # tasks 1–2 after the lesion, at the end
    assert rows["2"][6] == "20.0 ± 0.0"  # the same tasks without a hippocampus
    assert rows["2"][7:10] == ["60.0 ± 0.0", "40.0 ± 0.0", ""]  # 1 sleep: task 2; 2: task 1
    assert rows["0"][5] == "—"
