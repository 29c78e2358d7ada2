"""Bad input to a plastic layer, and labels outside a data set's classes, get one message
naming the argument (or file) and the fix, never a raw torch error or a silent wrong result."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import REPO, quick_config, write_fake_mnist

from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import Benchmark, Experience, check_benchmark, split_tasks
from hebbnet.data import DataFileError, ImageDataset, TensorSet, load_dataset, write_idx
from hebbnet.data.cache import cached_tensors
from hebbnet.data.datasets import IDX_FILES
from hebbnet.layers import HebbianConv2d, HebbianLinear, SpikingLinear

LAYERS = {
    "dense": (lambda: HebbianLinear(16, 8), (2, 16)),
    "conv": (lambda: HebbianConv2d(1, 4, 3), (2, 1, 6, 6)),
    "spiking": (lambda: SpikingLinear(16, 8), (2, 16)),
}


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dtype, fix", [(torch.float64, r"x.to\(torch.float32\) or "
                                                       r"layer.to\(torch.float64\)"),
                                        (torch.int64, r"floating-point input.*/ 255")])
def test_an_input_of_another_dtype_names_both_dtypes_and_the_fix(kind, dtype, fix):
    make, shape = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"weights are torch.float32, its input is {dtype}"
                                        rf".*{fix}"):
        make()(torch.ones(shape, dtype=dtype))


@pytest.mark.parametrize("kind", LAYERS)
def test_an_input_on_another_device_names_both_devices(kind):
    make, shape = LAYERS[kind]
    with pytest.raises(ValueError, match=r"weights are on cpu, its input on meta.*x.to\('cpu'\)"):
        make()(torch.ones(shape, device="meta"))


@pytest.mark.parametrize("kind", LAYERS)
def test_nan_input_while_learning_is_refused(kind):
    make, shape = LAYERS[kind]
    x = torch.ones(shape)
    x.view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf input"):
        make()(x)


@pytest.mark.parametrize("kind", LAYERS)
def test_on_an_accelerator_nan_input_is_named_at_the_next_check_without_a_sync_per_step(
        kind, monkeypatch):
    """Where reading a value waits for the device (CUDA), the finiteness of the inputs is kept
    on the device and read at the periodic weight check: no error on the bad step itself, the
    error (naming the input, not the NaN weights) at the check."""
    import hebbnet.layers.plastic as plastic

    monkeypatch.setattr(plastic, "_reads_are_free", lambda device: False)
    make, shape = LAYERS[kind]
    layer = make()
    layer.check_every = 4
    bad = torch.ones(shape)
    bad.view(-1)[0] = float("nan")
    layer(torch.ones(shape))
    layer(bad)  # accepted for now: nothing read from the device
    layer(torch.ones(shape))
    with pytest.raises(ValueError, match="NaN or Inf input within its last 4 updates"):
        layer(torch.ones(shape))


def mnist_with_label(root, bad: int, split: str = "train"):
    """Fake MNIST whose every 100th ``split`` label is ``bad``; returns its labels file."""
    write_fake_mnist(root)
    path = root / "MNIST" / "raw" / f"{split}-labels-idx1-ubyte.gz"
    labels = np.arange(300 if split == "train" else 100, dtype=np.uint8) % 10
    labels[::100] = bad
    write_idx(path, labels)
    return path


@pytest.mark.parametrize("bad, split, count", [(200, "train", "3 of 300"), (10, "t10k", "1 of 100")])
def test_an_idx_label_outside_the_ten_classes_names_the_file_values_and_count(tmp_path, bad,
                                                                              split, count):
    path = mnist_with_label(tmp_path, bad, split)
    with pytest.raises(DataFileError, match=rf"^mnist, {path}: {count} labels are not among the 10 "
                                         rf"classes 0..9: {bad}. Replace it with a fresh copy"):
        load_dataset("mnist", tmp_path)


def test_a_cache_entry_of_unchecked_labels_is_not_handed_back(tmp_path):
    """An entry decoded before labels were checked (or edited since) is checked on every load."""
    path = mnist_with_label(tmp_path, 200)
    files = [tmp_path / "MNIST" / "raw" / f"{stem}.gz" for stem in IDX_FILES.values()]
    x = torch.zeros(300, 1, 28, 28, dtype=torch.uint8)
    unchecked = torch.arange(300) % 10
    unchecked[::100] = 200
    cached_tensors("mnist", files, lambda: {"train_images": x, "train_labels": unchecked,
                                            "test_images": x[:100], "test_labels": unchecked[1:101]})
    with pytest.raises(DataFileError, match=rf"{path}: 3 of 300 labels .*: 200\."):
        load_dataset("mnist", tmp_path)


def test_train_py_on_mnist_with_a_label_200_exits_with_one_message(tmp_path):
    path = mnist_with_label(tmp_path / "data", 200)
    result = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "benchmark=split_mnist",
         f"data.root={tmp_path / 'data'}", f"hydra.run.dir={tmp_path / 'run'}", "logger=none"],
        capture_output=True, text=True, env={**os.environ, "HYDRA_FULL_ERROR": "0"}, timeout=300)
    assert result.returncode == 1
    assert f"{path}: 3 of 300 labels are not among the 10 classes 0..9: 200." in result.stderr
    assert "Traceback" not in result.stderr


def user_images(y_train: torch.Tensor, **declared) -> ImageDataset:
    x = torch.zeros(len(y_train), 1, 4, 4, dtype=torch.uint8)
    return ImageDataset("mine", x, y_train, x[:8], torch.arange(8) % 4, **declared)


@pytest.mark.parametrize("bad", [-1, 99])
def test_a_users_label_outside_the_classes_is_refused_at_construction(bad):
    y = torch.arange(40) % 4
    y[[5, 9]] = bad
    with pytest.raises(ValueError, match=rf"ImageDataset 'mine', train labels: 2 of 40 labels are "
                                         rf"not among the 4 classes 0..3: {bad}\. .*classes=N"):
        split_tasks(user_images(y), 2, 2, [0, 1, 2, 3])


def test_declared_classes_bound_the_labels_and_set_the_output_units():
    assert user_images(torch.arange(40) % 4, classes=6).n_classes == 6  # classes 4, 5 unseen
    with pytest.raises(ValueError, match=r"test labels: 2 of 8 labels are not among the 3 "
                                         r"classes 0..2: 3\."):
        user_images(torch.arange(40) % 3, classes=3)
    with pytest.raises(ValueError, match=r"train labels are torch.float32 .*integer class ids"):
        user_images((torch.arange(40) % 4).float())


def user_benchmark(labels: torch.Tensor, classes=(0, 1)) -> Benchmark:
    x = torch.zeros(len(labels), 1, 4, 4, dtype=torch.uint8)
    tasks = TensorSet(x, labels, torch.zeros_like(labels))
    return Benchmark("mine", (Experience(0, classes, tasks, tasks),), 4, (1, 4, 4))


@pytest.mark.parametrize("bad", [-1, 99])
def test_a_user_benchmarks_label_outside_its_tasks_classes_is_refused_by_the_run(tmp_path, bad):
    labels = torch.arange(20) % 2
    labels[3] = bad
    with pytest.raises(ValueError, match=rf"Benchmark 'mine', task 0, train labels: 1 of 20 labels "
                                         rf"are not among the 2 classes 0..1: {bad}\."):
        run_experiment(quick_config(), tmp_path, benchmark=user_benchmark(labels))


def test_a_user_benchmarks_task_class_beyond_its_n_classes_is_refused():
    with pytest.raises(ValueError, match=r"task 0, classes: 1 of 2 labels are not among the 4 "
                                         r"classes 0..3: -1\."):
        check_benchmark(user_benchmark(torch.arange(20) % 2 - 1, classes=(0, -1)))
