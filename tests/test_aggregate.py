"""Tables over seeds from run directories: rows by setting, analytic mean, std and interval."""

import csv
import json
import statistics

import pytest

from hebbnet.continual.aggregate import confidence_interval, find_runs, main, table


def fake_run(folder, overrides, seed, acc, validation=None):
    folder.mkdir(parents=True)
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "overrides.yaml").write_text(
        "".join(f"- {o}\n" for o in [*overrides, f"seed={seed}", f"hydra.run.dir={folder}"]))
    metrics = {"seed": seed, "acc": acc, "bwt": -0.1, "forgetting": 0.1, "strategy_bytes": 800,
               "train_seconds": 2.0, "validation": {"acc": validation} if validation else None,
               "acc_matrix": [[1.0, 0.0], [acc - 0.1, acc + 0.1]]}
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
