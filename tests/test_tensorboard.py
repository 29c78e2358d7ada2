"""The event files a run writes, read back with TensorBoard's own reader."""

import pytest
import torch
from conftest import crash_during_task, quick_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from hebbnet.config import LoggerConfig, TrainConfig
from hebbnet.continual import run_experiment


def read_events(log_dir):
    accumulator = EventAccumulator(
        str(log_dir), size_guidance={"scalars": 0, "images": 0, "histograms": 0, "tensors": 0}
    )
    accumulator.Reload()
    return accumulator


def test_event_files_hold_scalars_matrix_histograms_and_hparams(tmp_path):
    cfg = quick_config(
        train=TrainConfig(batch_size=32, iterations=20),
        logger=LoggerConfig(name="tensorboard", log_every=5, eval_every=10, progress=False),
    )
    result = run_experiment(cfg, tmp_path)
    events = read_events(tmp_path / "tensorboard")
    tags = events.Tags()

    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == list(range(5, 101, 5))
    task0 = events.Scalars("test_acc/task_0")
    assert [e.step for e in task0] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert task0[-1].value == pytest.approx(result["acc_matrix"][-1][0])
    assert [e.step for e in events.Scalars("test_acc/task_4")] == [90, 100]

    assert [e.step for e in events.Images("accuracy/matrix_after_each_task")] == [20, 40, 60,
                                                                                  80, 100]
    for figure in ("accuracy/final_matrix", "accuracy/forgetting_curves"):  # at the end
        assert [e.step for e in events.Images(figure)] == [100]
    assert "sleep/before_and_after" not in tags["images"]  # this run never slept
    assert "custom_scalars__config__" in tags["tensors"]  # the grouped charts' layout
    lrs = [e.value for e in events.Scalars("train/lr")]
    assert lrs == pytest.approx([cfg.train.lr] * len(loss))
    assert "weights/head.weight" in tags["histograms"]
    head = events.Histograms("weights/head.weight")[-1].histogram_value
    assert head.num == 10 * 400 and sum(head.bucket) == head.num  # every weight in a bucket
    assert head.min <= head.max == pytest.approx(max(head.bucket_limit), rel=1e-9)
    assert events.Scalars("hparam/acc")[0].value == pytest.approx(result["acc"])

    plugin = events.PluginTagToContent("hparams")
    session = plugin_data_pb2.HParamsPluginData.FromString(plugin["_hparams_/session_start_info"])
    hparams = session.session_start_info.hparams
    assert hparams["strategy.name"].string_value == "naive"
    assert hparams["train.iterations"].number_value == 20


def test_resumed_run_purges_events_logged_after_the_checkpoint(tmp_path, monkeypatch):
    cfg = quick_config(logger=LoggerConfig(name="tensorboard", log_every=10, progress=False))
    crash_during_task(monkeypatch, task=2, step=25, error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, tmp_path)
    monkeypatch.undo()
    cfg.resume = True
    run_experiment(cfg, tmp_path)

    steps = [e.step for e in read_events(tmp_path / "tensorboard").Scalars("train/loss")]
    assert steps == list(range(10, 151, 10))  # task 3's first losses appear once, not twice


def test_receptive_fields_are_written_as_one_image_grid(tmp_path):
    from hebbnet.monitor import TensorBoardLogger, receptive_field_grid

    weight = torch.randn(12, 1 * 8 * 8)
    grid = receptive_field_grid(weight, (1, 8, 8), columns=5)
    assert grid.shape == (1, 3 * 9 + 1, 5 * 9 + 1)  # 3 rows × 5 columns of 8×8 + 1-pixel gaps
    assert grid.min() == 0.0 and grid.max() == 1.0
    torch.testing.assert_close(grid[0, 1:9, 1:9].flatten().argmax(), weight[0].argmax())

    logger = TensorBoardLogger(tmp_path, histograms=False)
    logger.receptive_fields("fields", weight, (1, 8, 8), step=3, columns=5)
    logger.close()
    image = read_events(tmp_path).Images("fields")[0]
    assert (image.step, image.width, image.height) == (3, 46, 28)


def test_accuracy_matrix_image_colours_defined_entries_and_greys_the_rest():
    import numpy as np

    from hebbnet.monitor import accuracy_matrix_image

    R = np.array([[1.0, 0.0], [np.nan, np.nan]])
    image = accuracy_matrix_image(R, cell=4)
    assert image.shape == (3, 8, 8)
    assert torch.allclose(image[:, 4:, :], torch.full((3, 4, 8), 0.5))
    assert not torch.allclose(image[:, 0, 0], image[:, 0, 4])  # 100 % and 0 % differ


def test_each_sleep_gets_its_panels(tmp_path):
    from hebbnet.continual.strategies import CLSConfig

    cfg = quick_config(
        train=TrainConfig(batch_size=32, iterations=20),
        strategy=CLSConfig(memory_bytes=500, sleep_steps=5, sleep_batch_size=32),
        logger=LoggerConfig(name="tensorboard", progress=False),
    )
    result = run_experiment(cfg, tmp_path)
    events = read_events(tmp_path / "tensorboard")
    before = events.Scalars("sleep/acc_before/task_0")
    after = events.Scalars("sleep/acc_after/task_0")
    assert [e.step for e in after] == [20, 40, 60, 80, 100] == [e.step for e in before]
    assert after[-1].value == pytest.approx(result["sleeps"][-1]["acc_after"][0])
    assert [e.value for e in events.Scalars("sleep/replayed")] == [5 * 32] * 5
    assert events.Scalars("sleep/bytes")[-1].value == result["strategy_bytes"] == 500
    assert len(events.Scalars("sleep/weight_norm_change")) == 5
    assert len(events.Scalars("sleep/episodes")) == 5
    assert [e.step for e in events.Images("sleep/before_and_after")] == [100]  # every sleep


def test_the_sleep_figure_draws_one_arrow_per_task_and_sleep_from_before_to_after():
    from hebbnet.monitor import plot_sleeps

    sleeps = [{"after_task": 0, "acc_before": [0.9], "acc_after": [0.95]},
              {"after_task": 1, "acc_before": [0.5, 0.99], "acc_after": [0.7, 0.97]}]
    arrows = plot_sleeps(sleeps).axes[0].texts
    assert [(a.xyann[1], a.xy[1]) for a in arrows] == [(0.9, 0.95), (0.5, 0.7), (0.99, 0.97)]
