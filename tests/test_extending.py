"""A user's own model, strategy and benchmark in the harness: as objects, and by name through
the registry (from Python and from the command line)."""

import math
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
import torch
from conftest import REPO, killed_and_resumed, quick_config
from omegaconf import OmegaConf
from torch import nn

from hebbnet.config import BenchmarkConfig
from hebbnet.config.store import load_config
from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import split_tasks
from hebbnet.continual.strategies import Strategy
from hebbnet.data import ImageDataset
from hebbnet.registry import register_dataset, register_model, register_strategy


class TinyNet(nn.Module):
    def __init__(self, input_shape, n_outputs, width=16):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), width),
                                 nn.ReLU(), nn.Linear(width, n_outputs))

    def forward(self, x):
        return self.net(x)


class Anchored(Strategy):
    """Fine-tuning pulled toward the weights at the end of the previous task (an L2 anchor);
    the anchor is the strategy's state."""

    def __init__(self, model, scenario, schedule, generator, options=None):
        super().__init__(model, scenario, schedule, generator)
        self.strength, self.anchor = (options or AnchoredConfig()).strength, None

    def batch_loss(self, batch, task):
        loss = super().batch_loss(batch, task)
        if self.anchor is not None:
            loss = loss + self.strength * sum(
                (p - a).square().sum() for p, a in zip(self.model.parameters(), self.anchor))
        return loss

    def after_experience(self, experience):
        self.anchor = [p.detach().clone() for p in self.model.parameters()]

    def memory_bytes(self):
        return sum(a.nbytes for a in self.anchor or [])

    def state_dict(self):
        return {**super().state_dict(), "anchor": self.anchor}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.anchor = state["anchor"]


def test_a_users_model_and_strategy_run_through_the_harness_and_resume_bit_for_bit(
        tmp_path, monkeypatch):
    def build(input_shape, n_outputs, n_tasks):
        return TinyNet(input_shape, n_outputs)

    parts = {"model": build, "strategy": Anchored}
    straight = run_experiment(quick_config(), tmp_path / "straight", **parts)
    assert straight["given_parts"] == {"model": "TinyNet", "strategy": "Anchored"}
    assert straight["strategy"] == "Anchored" and 0 <= straight["acc"] <= 1
    assert straight["strategy_bytes"] == sum(p.nbytes for p in TinyNet((1, 8, 8), 10).parameters())
    resumed = killed_and_resumed(quick_config(), tmp_path / "resumed", monkeypatch, **parts)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def test_a_benchmark_from_the_users_own_tensors(tmp_path):
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (300, 1, 6, 6), dtype=torch.uint8, generator=generator)
    y = torch.arange(300) % 4
    x[y == 1, :, :3] = 255  # classes a model can tell apart
    x[y == 2, :, 3:] = 0
    data = ImageDataset("mine", x[:200], y[:200], x[200:], y[200:])
    benchmark = split_tasks(data, classes_per_task=2, n_tasks=2, class_order=[0, 1, 2, 3])
    metrics = run_experiment(quick_config(), tmp_path, benchmark=benchmark,
                             model=TinyNet((1, 6, 6), 4))
    assert metrics["benchmark"] == "split_mine" and len(metrics["acc_matrix"]) == 2
    assert metrics["given_parts"] == {"benchmark": "split_mine", "model": "TinyNet"}


@pytest.mark.parametrize("part, message", [
    ({"model": "mlp"}, "takes a Module or a callable that builds one, got str"),
    ({"model": lambda *args: "not a module"}, "built a str, not a Module"),
    ({"strategy": lambda *args: 3}, "built a int, not a Strategy"),
])
def test_wrong_parts_are_named(part, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        run_experiment(quick_config(), tmp_path, **part)


def test_a_benchmark_of_float_images_is_refused_with_the_conversion(tmp_path):
    x = torch.rand(40, 1, 6, 6)
    data = ImageDataset("floats", x[:20], torch.arange(20) % 2, x[20:], torch.arange(20) % 2)
    with pytest.raises(ValueError, match=r"task 0, train images are torch.float32.*to\(torch.uint8\)"):
        run_experiment(quick_config(), tmp_path, benchmark=split_tasks(data, 2, 1, [0, 1]))


@dataclass
class WideConfig:
    name: str = "test_wide"
    width: int = 24


@dataclass
class AnchoredConfig:
    name: str = "test_anchored"
    strength: float = 0.5


register_model("test_wide", WideConfig)(
    lambda cfg, input_shape, n_outputs, n_tasks: TinyNet(input_shape, n_outputs, cfg.width))
register_strategy("test_anchored", AnchoredConfig)(Anchored)


def test_registered_names_run_from_a_config_and_its_saved_copy_reads_back(tmp_path):
    metrics = run_experiment(quick_config(model=WideConfig(width=8), strategy=AnchoredConfig()),
                             tmp_path)
    assert metrics["strategy"] == "test_anchored" and metrics["given_parts"] == {}
    saved = load_config(tmp_path / "config.yaml")
    assert saved.model == WideConfig(width=8) and saved.strategy == AnchoredConfig()


def test_registering_a_taken_name_or_a_bad_config_is_named():
    with pytest.raises(ValueError, match="A model named 'mlp' exists already"):
        register_model("mlp", WideConfig)
    with pytest.raises(ValueError, match="needs a field name: str = 'other'"):
        register_model("other", WideConfig)
    with pytest.raises(TypeError, match="must be a dataclass"):
        register_strategy("plain", dict)
    with pytest.raises(TypeError, match="decorates a subclass of"):
        register_strategy("not_a_strategy", NotAStrategyConfig)(TinyNet)


@dataclass
class NotAStrategyConfig:
    name: str = "not_a_strategy"


def test_a_registered_model_is_chosen_on_the_command_line(tmp_path):
    script = tmp_path / "my_train.py"
    script.write_text(
        "import math\n"
        "from dataclasses import dataclass\n"
        "from torch import nn\n"
        "from hebbnet.registry import register_model\n\n"
        "@dataclass\n"
        "class LinearConfig:\n"
        "    name: str = 'linear'\n"
        "    bias: bool = True\n\n"
        "@register_model('linear', LinearConfig)\n"
        "def build(cfg, input_shape, n_outputs, n_tasks):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), n_outputs,"
        " bias=cfg.bias))\n\n"
        "from hebbnet.cli import main\n"
        "main()\n")
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(script), "model=linear", "model.bias=false",
                             "train.iterations=5", "logger=none", f"hydra.run.dir={tmp_path / 'run'}"],
                            cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    saved = OmegaConf.load(tmp_path / "run" / "config.yaml")
    assert saved.model == {"name": "linear", "bias": False}
    with pytest.raises(ValueError, match="model 'linear' is not known in this process; import"):
        load_config(tmp_path / "run" / "config.yaml")  # this process never registered it


def small_images(dtype=torch.uint8) -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat(30)
    images = (labels.view(-1, 1, 1, 1) * 60 + torch.randint(0, 20, (120, 1, 6, 6),
                                                           generator=generator))
    return ImageDataset("four", images.to(dtype), labels, images[:40].to(dtype), labels[:40])


@register_dataset("test_four_classes")
def load_four_classes(root):
    return small_images()


@register_dataset("test_float_images")
def load_float_images(root):
    return small_images(torch.float32)


def test_a_registered_dataset_is_cut_into_tasks_by_the_benchmark_config(tmp_path):
    benchmark = BenchmarkConfig(name="split_four", dataset="test_four_classes",
                                classes_per_task=2, n_tasks=2)
    result = run_experiment(quick_config(benchmark=benchmark), tmp_path)
    assert result["benchmark"] == "split_four" and len(result["acc_matrix"]) == 2
    assert result["acc_matrix"][0][0] > 0.9  # the two classes of task 0 are easy to tell apart


def test_a_registered_dataset_that_is_not_uint8_or_a_taken_name_is_named(tmp_path):
    benchmark = BenchmarkConfig(dataset="test_float_images", classes_per_task=2, n_tasks=2)
    with pytest.raises(ValueError, match="uint8"):
        run_experiment(quick_config(benchmark=benchmark), tmp_path)
    with pytest.raises(ValueError, match="exists already"):
        register_dataset("mnist")
    with pytest.raises(ValueError, match="valid names: digits, mnist.*test_four_classes"):
        run_experiment(quick_config(benchmark=BenchmarkConfig(dataset="nope")), tmp_path)


def test_a_model_that_breaks_the_declared_contract_is_named_when_the_run_starts(tmp_path):
    """hebbnet.models.contract: a model that says it learns locally must bring the rest of
    LocalLearner, and a plastic network's features their begin_task; each missing name is
    said once, before anything is trained."""
    from hebbnet.models import PlasticNetwork
    from hebbnet.models.readouts import make_readout

    class HalfLocal(TinyNet):
        learns_locally = True

    with pytest.raises(TypeError, match="lacks learn, statistics_bytes, start_task"):
        run_experiment(quick_config(), tmp_path,
                       model=lambda shape, n_outputs, n_tasks: HalfLocal(shape, n_outputs))

    class NoTasks(nn.Module):
        out_features = 16

        def forward(self, x):
            return x.flatten(1)[:, :16]

    with pytest.raises(TypeError, match="NoTasks lacks begin_task"):
        PlasticNetwork(NoTasks(), make_readout("class_means", 16, 10, None, None), (1, 4, 4))


def test_a_general_strategy_config_takes_the_strategys_own_defaults(tmp_path):
    from hebbnet.config import StrategyConfig
    from hebbnet.continual.strategies import EWCConfig

    metrics = run_experiment(quick_config(strategy=StrategyConfig("ewc")), tmp_path / "ewc")
    assert metrics["strategy"] == "ewc"
    assert load_config(tmp_path / "ewc" / "config.yaml").strategy == EWCConfig()
    with pytest.raises(TypeError, match="takes AnchoredConfig, which has no ewc_lambda"):
        run_experiment(quick_config(strategy=EWCConfig(name="test_anchored")), tmp_path / "bad")
