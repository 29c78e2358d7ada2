"""Split CIFAR-10/100: tasks, validation and a seeded class order; per-channel normalisation from
the run's own training images; crop-and-flip augmentation of training and replayed batches,
seeded so that a resumed run repeats it, and never at test time; the published protocols end to
end on a tiny image tree. The real copy is used where present."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, killed_and_resumed
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from test_cifar_data import SHARED_ZIP, pickle_to, png
from test_cli import train
from torch import nn

from hebbnet.cli import CONFIG_DIR
from hebbnet.config import Config, LoggerConfig, TrainConfig
from hebbnet.config.schema import BenchmarkConfig
from hebbnet.config.store import register_configs
from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import normalized, split_tasks
from hebbnet.continual.evaluation import accuracy
from hebbnet.continual.factory import build_benchmark
from hebbnet.continual.runner import run_benchmark
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import ERConfig, ExperienceReplay
from hebbnet.data import ImageDataset, to_float
from hebbnet.data.augment import CROP_PADDING, augment, check_augment
from hebbnet.data.cifar import CIFAR10_CLASSES
from hebbnet.models.mlp import MLPConfig


def write_cifar10_tree(root, train=6, test=2):
    """``root/cifar10/{train,test}/<class>/NNNN.png``: noise with a bright band per class."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        for c, name in enumerate(CIFAR10_CLASSES):
            folder = root / "cifar10" / split / name
            folder.mkdir(parents=True)
            for j in range(n):
                x = rng.integers(0, 90, (3, 32, 32), dtype=np.uint8)
                x[c % 3, 3 * c : 3 * c + 3] = 255
                (folder / f"{j:04d}.png").write_bytes(png(x))
    return root


def write_cifar100(root, per_class=2):
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        fine = np.arange(100 * per_class) % 100
        x = rng.integers(0, 256, (len(fine), 3 * 32 * 32), dtype=np.uint8)
        pickle_to(folder / split, {b"data": x, b"fine_labels": fine.tolist(),
                                   b"coarse_labels": (fine // 5).tolist()})
    pickle_to(folder / "meta", {b"fine_label_names": [b"f%d" % i for i in range(100)],
                                b"coarse_label_names": [b"c%d" % i for i in range(20)]})
    return root


def composed(*overrides: str) -> Config:
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return OmegaConf.to_object(compose("config", overrides=list(overrides)))


@pytest.fixture(scope="module")
def cifar10_root(tmp_path_factory):
    return write_cifar10_tree(tmp_path_factory.mktemp("cifar10"))


def tiny_benchmark(n_tasks=3, kind="crop_flip"):
    g = torch.Generator().manual_seed(0)
    n = 16 * 2 * n_tasks
    x = torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
    y = torch.arange(n) % (2 * n_tasks)
    data = ImageDataset("tiny", x, y, x[: n // 2], y[: n // 2], classes=2 * n_tasks)
    tasks = split_tasks(data, 2, n_tasks, list(range(2 * n_tasks)))
    return normalized(replace(tasks, augment=kind))


# --- the benchmarks ----------------------------------------------------------------------------

def test_split_cifar10_is_five_tasks_of_two_classes_each_with_its_validation_share(cifar10_root):
    cfg = composed("benchmark=split_cifar10", f"data.root={cifar10_root}", "benchmark.validation=0.25")
    benchmark = run_benchmark(cfg)
    assert [e.classes for e in benchmark.experiences] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert benchmark.augment == "crop_flip" and benchmark.normalization is not None
    for e in benchmark.experiences:
        assert (len(e.train), len(e.validation), len(e.test)) == (9, 3, 4)
        held = {tuple(x.flatten().tolist()) for x in e.validation.x}
        assert not held & {tuple(x.flatten().tolist()) for x in e.train.x}


def test_a_shuffled_class_order_is_seeded(cifar10_root):
    def order(seed):
        cfg = composed("benchmark=split_cifar10", f"data.root={cifar10_root}",
                       "benchmark.shuffle_class_order=true", f"seed={seed}")
        return [c for e in run_benchmark(cfg).experiences for c in e.classes]

    orders = [order(seed) for seed in range(3)]
    assert order(0) == orders[0] and all(sorted(o) == list(range(10)) for o in orders)
    assert len({tuple(o) for o in orders}) > 1


@pytest.mark.parametrize("overrides, shape", [([], (10, 10)),
                                              (["benchmark.n_tasks=20", "benchmark.classes_per_task=5"],
                                               (20, 5))])
def test_split_cifar100_is_ten_tasks_of_ten_or_twenty_of_five(tmp_path, overrides, shape):
    cfg = composed("benchmark=split_cifar100", f"data.root={write_cifar100(tmp_path)}", *overrides)
    benchmark = run_benchmark(cfg)
    assert (benchmark.n_tasks, len(benchmark.experiences[0].classes)) == shape
    assert [c for e in benchmark.experiences for c in e.classes] == list(range(100))


# --- normalisation -------------------------------------------------------------------------------

def test_normalisation_comes_from_the_training_images_left_after_the_validation_split(cifar10_root):
    config = BenchmarkConfig(dataset="cifar10", n_tasks=5, validation=0.25, normalize=True)
    benchmark = build_benchmark(config, str(cifar10_root), torch.Generator().manual_seed(0))
    train = torch.cat([e.train.x for e in benchmark.experiences]).numpy().astype(np.float64) / 255
    assert np.allclose(benchmark.normalization.mean, train.mean(axis=(0, 2, 3)), rtol=0, atol=1e-12)
    assert np.allclose(benchmark.normalization.std, train.std(axis=(0, 2, 3)), rtol=0, atol=1e-12)
    everything = torch.cat([e.train.x for e in benchmark.experiences] +
                           [e.validation.x for e in benchmark.experiences])
    assert not np.allclose(benchmark.normalization.mean, everything.double().mean((0, 2, 3)) / 255)

    inputs = Scenario.from_benchmark("class", benchmark).inputs(torch.from_numpy(train * 255).round().byte())
    assert torch.allclose(inputs.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(inputs.std((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-5)


def test_a_benchmark_not_normalised_shows_the_model_the_pixel_values_as_before():
    benchmark = build_benchmark(BenchmarkConfig(), "unused", torch.Generator().manual_seed(0))
    x = benchmark.experiences[0].train.x
    assert benchmark.normalization is None
    assert torch.equal(Scenario.from_benchmark("class", benchmark).inputs(x), x.float() / 255)
    assert torch.equal(to_float(x), x.float() / 255)


# --- augmentation --------------------------------------------------------------------------------

def test_crop_flip_is_a_crop_of_the_zero_padded_image_flipped_or_not_at_every_offset():
    image = torch.randint(1, 256, (1, 3, 32, 32), generator=torch.Generator().manual_seed(0),
                          dtype=torch.uint8)
    out = augment(image.expand(1500, -1, -1, -1), "crop_flip", torch.Generator().manual_seed(1))
    assert out.dtype == torch.uint8 and out.shape == (1500, 3, 32, 32)
    padded = torch.nn.functional.pad(image[0], (CROP_PADDING,) * 4)
    crops = {(i, j, flip): padded[:, i : i + 32, j : j + 32].flip(2) if flip else
             padded[:, i : i + 32, j : j + 32]
             for i in range(9) for j in range(9) for flip in (False, True)}
    found = [next(k for k, crop in crops.items() if torch.equal(crop, o)) for o in out]
    assert set(found) == set(crops)  # all 81 offsets, each with and without the flip


def test_augmentation_is_seeded_and_none_draws_nothing():
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    first = augment(images, "crop_flip", torch.Generator().manual_seed(5))
    assert torch.equal(first, augment(images, "crop_flip", torch.Generator().manual_seed(5)))
    assert not torch.equal(first, augment(images, "crop_flip", torch.Generator().manual_seed(6)))
    generator = torch.Generator().manual_seed(5)
    state = generator.get_state()
    assert augment(images, "none", generator) is images
    assert torch.equal(generator.get_state(), state)


def test_an_unknown_augmentation_and_one_of_permuted_pixels_are_refused():
    with pytest.raises(ValueError, match="benchmark.augment 'jitter'; valid: none, crop_flip"):
        check_augment("jitter", spatial=True)
    with pytest.raises(ValueError, match="benchmark.augment=none"):
        check_augment("crop_flip", spatial=False)


class Recording(nn.Module):
    """A linear model that keeps every input it is shown."""

    def __init__(self, n_outputs):
        super().__init__()
        self.linear = nn.Linear(3 * 32 * 32, n_outputs)
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.linear(x.flatten(1))


def test_training_and_replayed_batches_are_augmented_and_the_buffer_keeps_them_raw():
    benchmark = tiny_benchmark()
    scenario = Scenario.from_benchmark("class", benchmark)
    model = Recording(scenario.n_outputs)
    strategy = ExperienceReplay(model, scenario, TrainConfig(batch_size=8, iterations=2),
                                torch.Generator().manual_seed(0), ERConfig(buffer_size=100))
    task = benchmark.experiences[0]
    strategy.train_experience(task, benchmark.experiences[:1])
    raw = {tuple(x.flatten().tolist()) for x in task.train.x}
    assert {tuple(x.flatten().tolist()) for x in strategy.buffer.samples().x} <= raw
    shown_raw = {tuple(x.flatten().tolist()) for x in scenario.inputs(task.train.x)}
    incoming, replayed = model.seen[1], model.seen[2]  # step 2: current batch, then the replay
    for batch in (incoming, replayed):
        assert sum(tuple(x.flatten().tolist()) in shown_raw for x in batch) < len(batch) / 2


def test_evaluation_never_augments():
    benchmark = tiny_benchmark()
    scenario = Scenario.from_benchmark("class", benchmark)
    model = Recording(scenario.n_outputs)
    test = benchmark.experiences[0].test
    accuracy(model, test, None, inputs=scenario.inputs)
    accuracy(model, test, None, inputs=scenario.inputs)
    assert torch.equal(model.seen[0], scenario.inputs(test.x)) and torch.equal(*model.seen)


def test_a_run_with_augmentation_resumes_bit_for_bit(tmp_path, monkeypatch):
    cfg = Config(model=MLPConfig(hidden_sizes=[32]), strategy=ERConfig(buffer_size=40),
                 train=TrainConfig(batch_size=8, iterations=10),
                 logger=LoggerConfig(name="none", progress=False))
    straight = run_experiment(cfg, tmp_path / "straight", benchmark=tiny_benchmark())
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch, benchmark=tiny_benchmark())
    assert resumed["acc_matrix"] == straight["acc_matrix"]
    plain = run_experiment(cfg, tmp_path / "plain", benchmark=tiny_benchmark(kind="none"))
    assert plain["acc_matrix"] != straight["acc_matrix"]


# --- the published protocols, end to end ---------------------------------------------------------

def test_the_online_protocol_runs_er_ace_one_pass_with_its_published_values(cifar10_root, tmp_path):
    result = train("experiment=online_split_cifar10", "strategy=er_ace", "strategy.buffer_size=500",
                   f"data.root={cifar10_root}", "logger=none", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["benchmark"] == "split_cifar10" and len(metrics["acc_matrix"]) == 5
    assert metrics["train_samples"] == 5 * 2 * 10  # one pass over 11 images (one held out): 2 steps
    assert len(metrics["validation"]["acc_matrix"]) == 5
    saved = OmegaConf.load(tmp_path / "config.yaml")
    assert (saved.model.width, saved.train.batch_size, saved.train.epochs) == (20, 10, 1)
    assert (saved.strategy.replay_batch_size, saved.train.lr) == (10, 0.1)


def test_the_der2020_protocol_runs_a_task_of_the_full_resnet_on_a_few_batches(cifar10_root, tmp_path):
    result = train("experiment=der2020_split_cifar10", "strategy=derpp", "strategy.buffer_size=200",
                   "benchmark.n_tasks=1", "train.epochs=null", "train.iterations=2",
                   f"data.root={cifar10_root}", "logger=none", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    saved = OmegaConf.load(tmp_path / "config.yaml")
    assert (saved.model.width, saved.train.batch_size, saved.train.optimizer) == (64, 32, "sgd")
    assert (saved.strategy.alpha, saved.strategy.beta, saved.train.lr) == (0.1, 0.5, 0.03)
    assert json.loads((tmp_path / "metrics.json").read_text())["train_samples"] == 2 * 32


@pytest.mark.skipif(not SHARED_ZIP.exists(), reason="the shared CIFAR-10 JPEG copy is not present")
def test_real_split_cifar10_with_the_online_protocols_validation_share():
    cfg = composed("experiment=online_split_cifar10", f"data.root={SHARED_DATA}")
    benchmark = run_benchmark(cfg)
    assert [(len(e.train), len(e.validation), len(e.test)) for e in benchmark.experiences] == \
        [(9500, 500, 2000)] * 5
    assert np.allclose(benchmark.normalization.mean, [0.494, 0.485, 0.450], atol=0.01)
    assert all(0.2 < s < 0.3 for s in benchmark.normalization.std)
