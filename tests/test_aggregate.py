"""Tables over seeds from run directories: rows by setting, analytic mean, std and interval."""

import csv
import json
import statistics
import subprocess
import sys

import pytest

from hebbnet.continual.aggregate import RecordError, confidence_interval, find_runs, main, table


def fake_run(folder, overrides, seed, acc, validation=None):
    folder.mkdir(parents=True)
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in [*overrides, f"seed={seed}", f"hydra.run.dir={folder}"]))
    metrics = {"seed": seed, "acc": acc, "bwt": -0.1, "forgetting": 0.1, "strategy_bytes": 800,
               "train_seconds": 2.0, "validation": {"acc": validation} if validation else None,
               "acc_matrix": [[1.0, 0.0], [acc + 0.02, acc - 0.02]]}
    (folder / "metrics.json").write_text(json.dumps(metrics))


def test_runs_differing_only_in_seed_form_one_row_with_mean_std_and_interval(tmp_path):
    for seed, acc in zip((1, 2, 3), (0.90, 0.92, 0.97)):
        fake_run(tmp_path / f"er/seed{seed}", ["strategy=er"], seed, acc, validation=acc - 0.01)
    fake_run(tmp_path / "naive/seed1", ["strategy=naive"], 1, 0.2)
    text = table(find_runs([tmp_path]))
    er_row = next(line for line in text.splitlines() if line.startswith("| strategy=er "))
    accs = [90.0, 92.0, 97.0]
    assert f"{statistics.mean(accs):.2f} ± {statistics.stdev(accs):.2f}" in er_row
    assert f"± {4.303 * statistics.stdev(accs) / 3 ** 0.5:.2f} |" in er_row  # t(0.975, 2) = 4.303
    assert "| 1,2,3 |" in er_row and "92.00 ± 3.61" in er_row  # validation: 0.89, 0.91, 0.96
    assert "| strategy=naive | 1 | 20.00 ± 0.00 | ± 0.00 |" in text
    assert confidence_interval([0.5]) == 0.0


def test_the_same_setting_and_seed_twice_is_refused(tmp_path):
    fake_run(tmp_path / "a", ["strategy=er"], 1, 0.9)
    fake_run(tmp_path / "b", ["strategy=er"], 1, 0.8)
    with pytest.raises(ValueError, match="same setting with the same seed"):
        find_runs([tmp_path])


def test_a_folder_without_runs_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit, match="No finished run"):
        main([str(tmp_path)])
    with pytest.raises(SystemExit, match="Not a directory"):
        main([str(tmp_path / "missing")])


def test_the_rows_also_go_to_csv_and_the_curves_to_a_figure(tmp_path):
    for seed, acc in zip((1, 2), (0.90, 0.94)):
        fake_run(tmp_path / f"runs/er/seed{seed}", ["strategy=er"], seed, acc)
    main([str(tmp_path / "runs"), "--csv", str(tmp_path / "t.csv"),
          "--figure", str(tmp_path / "f.png")])
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert len(rows) == 1 and rows[0]["settings"] == "strategy=er" and rows[0]["seeds"] == "1 2"
    assert float(rows[0]["acc_mean"]) == pytest.approx(92.0)
    assert float(rows[0]["acc_std"]) == pytest.approx(statistics.stdev([90.0, 94.0]))
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def edit_metrics(folder, **changes):
    """Rewrite a run's metrics.json with ``changes``; a value of None removes the key."""
    path = folder / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics.update(changes)
    path.write_text(json.dumps({k: v for k, v in metrics.items() if v is not None}))


def truncate(folder):
    path = folder / "metrics.json"
    path.write_text(path.read_text()[:40])


DAMAGES = {  # name: (damage, damaged file, what the message must say)
    "truncated JSON": (truncate, "metrics.json", r"not valid JSON \(.*\); the file is truncated"),
    "acc NaN": (lambda f: edit_metrics(f, acc=float("nan")), "metrics.json",
                "acc is nan, not a finite number"),
    "acc a string": (lambda f: edit_metrics(f, acc="0.9"), "metrics.json",
                     "acc is '0.9', not a number"),
    "missing key": (lambda f: edit_metrics(f, bwt=None), "metrics.json", "no 'bwt'"),
    "ragged matrix": (lambda f: edit_metrics(f, acc_matrix=[[1.0, 0.0], [0.8]]), "metrics.json",
                      r"acc_matrix has 2 rows of lengths \[2, 1\]; it must be square"),
    "non-numeric matrix": (lambda f: edit_metrics(f, acc_matrix=[[1.0, 0.0], ["x", 0.9]]),
                           "metrics.json", r"acc_matrix entry \[1\]\[0\] is 'x', not a number"),
    "acc a percent": (lambda f: edit_metrics(f, acc=32.3), "metrics.json",
                      r"acc is 32.3, outside \[0, 1\]: it looks like a percent.*\(0.323\)"),
    "validation acc a percent": (lambda f: edit_metrics(f, validation={"acc": 91.0}),
                                 "metrics.json", r"validation acc is 91.0, outside \[0, 1\]: it "
                                                 "looks like a percent"),
    "bwt in points": (lambda f: edit_metrics(f, bwt=-10.0), "metrics.json",
                      r"bwt is -10.0, outside \[-1, 1\]: it looks like a percent"),
    "seed a string": (lambda f: edit_metrics(f, seed="2"), "metrics.json",
                      "seed is '2', not an integer"),
    "negative seconds": (lambda f: edit_metrics(f, train_seconds=-3.0), "metrics.json",
                         r"train_seconds is -3.0, outside \[0, inf\]"),
    "fractional bytes": (lambda f: edit_metrics(f, strategy_bytes=800.5), "metrics.json",
                         "strategy_bytes is 800.5, not an integer"),
    "overrides a mapping": (lambda f: (f / ".hydra" / "overrides.yaml").write_text("strategy: er\n"),
                            ".hydra/overrides.yaml", "holds {'strategy': 'er'}, not a list of "
                                                     "override strings"),
    "overrides not YAML": (lambda f: (f / ".hydra" / "overrides.yaml").write_text("- [seed=1\n"),
                           ".hydra/overrides.yaml", r"not valid YAML \("),
}


@pytest.mark.parametrize("name", DAMAGES)
def test_a_damaged_record_is_refused_with_its_path_and_the_problem(tmp_path, name):
    damage, damaged_file, problem = DAMAGES[name]
    fake_run(tmp_path / "er/seed1", ["strategy=er"], 1, 0.9)
    fake_run(tmp_path / "er/seed2", ["strategy=er"], 2, 0.92, validation=0.9)
    damage(tmp_path / "er/seed2")
    with pytest.raises(RecordError, match=rf"^{tmp_path / 'er/seed2' / damaged_file}: {problem}"):
        find_runs([tmp_path])
    with pytest.raises(SystemExit) as exit:  # the command: that one line, nothing else
        main([str(tmp_path)])
    assert str(tmp_path / "er/seed2" / damaged_file) in exit.value.code
    assert "\n" not in exit.value.code


def test_the_command_prints_one_line_and_no_traceback_for_a_damaged_record(tmp_path):
    fake_run(tmp_path / "er/seed1", ["strategy=er"], 1, 0.9)
    edit_metrics(tmp_path / "er/seed1", acc=32.3)
    result = subprocess.run([sys.executable, "-m", "hebbnet.continual.aggregate", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"{tmp_path / 'er/seed1/metrics.json'}: acc is 32.3, outside [0, 1]: it looks like a percent, "
        "and records hold fractions (0.323). Rerun that run, or move its folder out of the ones "
        "aggregated."]
