"""The ResNet-18 cortex: the published architectures, BatchNorm's statistics under training,
evaluation and EWC's Fisher, every strategy running on it, and bf16 autocast."""

import copy
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.config import Config, LoggerConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import normalized, split_tasks
from hebbnet.continual.evaluation import accuracy
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.continual.strategies import STRATEGIES, Naive
from hebbnet.continual.strategies.importance import diagonal_fisher
from hebbnet.data import ImageDataset
from hebbnet.models.factory import build_model
from hebbnet.models.resnet import ResNet18, ResNet18Config

# strategy options small enough for a few steps on 24 images a task
OPTIONS = {"ewc": {"fisher_samples": 6}, "online_ewc": {"fisher_samples": 6},
           "cls": {"memory_bytes": 20_000, "sleep_steps": 2}}


def tiny_benchmark(n_tasks=2, per_class=12, seed=0):
    """Random 3×32×32 images, 2 classes a task, each class a bright row band of its own."""
    g = torch.Generator().manual_seed(seed)
    n_classes = 2 * n_tasks

    def images(n):
        y = torch.arange(n) % n_classes
        x = torch.randint(0, 90, (n, 3, 32, 32), generator=g, dtype=torch.uint8)
        for c in range(n_classes):
            x[y == c, :, 2 * c : 2 * c + 2, :] = 255
        return x, y

    data = ImageDataset("tiny", *images(per_class * n_classes), *images(4 * n_classes),
                        classes=n_classes)
    tasks = split_tasks(data, 2, n_tasks, list(range(n_classes)))
    return normalized(replace(tasks, augment="crop_flip"))


def strategy_config(name):
    registered = STRATEGIES[name].config
    fields = registered.__dataclass_fields__
    return registered(**OPTIONS.get(name, {"buffer_size": 16} if "buffer_size" in fields else {}))


@pytest.mark.parametrize("width, parameters", [(20, 1_094_750), (64, 11_173_962)])
def test_reduced_and_full_resnet18_have_the_published_sizes(width, parameters):
    """GEM's reduced ResNet-18 (≈ 1.1 M) and Mammoth's full one (11.17 M, as kuangliu's CIFAR
    ResNet-18) for ten classes."""
    model = build_model(ResNet18Config(width=width), (3, 32, 32), 10)
    assert sum(p.numel() for p in model.parameters()) == parameters
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert model.conv1.weight.is_contiguous(memory_format=torch.channels_last)


def test_the_stages_halve_the_resolution_and_double_the_channels():
    model = ResNet18(3, 5, width=4)
    shapes = []
    hooks = [stage.register_forward_hook(lambda m, i, out: shapes.append(tuple(out.shape[1:])))
             for stage in model.stages]
    model(torch.rand(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    assert shapes == [(4, 32, 32), (8, 16, 16), (16, 8, 8), (32, 4, 4)]


def test_a_width_below_one_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="model.width"):
        ResNet18(3, 10, width=0)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_trains_the_resnet_and_evaluation_leaves_batchnorm_alone(name, tmp_path,
                                                                                monkeypatch):
    """A few steps of each strategy on the ResNet; testing never moves BatchNorm's running
    statistics, training does."""
    evaluated = []
    original = accuracy

    def recording(model, *args):
        stats = [b.clone() for b in model.buffers()]
        result = original(model, *args)
        evaluated.append(all(torch.equal(a, b) for a, b in zip(stats, model.buffers())))
        return result

    monkeypatch.setattr("hebbnet.continual.evaluation.accuracy", recording)
    cfg = Config(model=ResNet18Config(width=4), strategy=strategy_config(name),
                 train=TrainConfig(optimizer="sgd", lr=0.05, batch_size=8, iterations=3),
                 logger=LoggerConfig(name="none", progress=False))
    metrics = run_experiment(cfg, tmp_path, benchmark=tiny_benchmark())
    assert len(metrics["acc_matrix"]) == 2 and evaluated and all(evaluated)
    assert metrics["train_samples"] == 2 * 3 * 8


def bn_model(seed=0):
    torch.manual_seed(seed)
    model = ResNet18(3, 4, width=2)
    model.train()
    model(torch.randn(16, 3, 32, 32))  # running statistics away from their initial values
    return model


def test_the_fisher_of_a_resnet_is_each_samples_expected_squared_gradient_in_eval_mode():
    """torch.func's per-sample Fisher against one backward pass per sample and class, with
    BatchNorm on its running statistics; those statistics and the training flag survive."""
    model = bn_model()
    data = tiny_benchmark(per_class=2).experiences[0].train.select(slice(0, 3))
    scenario = Scenario.from_benchmark("class", tiny_benchmark())
    active = lambda t: scenario.train_mask(0, t)  # noqa: E731
    stats = copy.deepcopy(list(model.buffers()))
    fisher = diagonal_fisher(model, data, active, inputs=scenario.inputs)
    assert model.training and all(torch.equal(a, b) for a, b in zip(stats, model.buffers()))

    model.eval()
    expected = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    x = scenario.inputs(data.x)
    for n in range(len(data)):
        log_p = F.log_softmax(mask_logits(model(x[n : n + 1]), active(data.t[n : n + 1])), 1)[0]
        for c in (0, 1):  # the units of task 0: the others have no probability
            grads = torch.autograd.grad(log_p[c], list(model.parameters()), retain_graph=True)
            for (name, _), g in zip(model.named_parameters(), grads):
                expected[name] += log_p[c].exp().detach() * g ** 2 / len(data)
    for name in expected:
        torch.testing.assert_close(fisher[name], expected[name], rtol=1e-4, atol=1e-9)
    assert fisher["conv1.weight"].sum() > 0 and fisher["stages.3.1.bn2.weight"].sum() > 0


def test_a_parameter_outside_linear_conv_and_norm_layers_is_still_refused():
    model = bn_model()
    model.gate = nn.Parameter(torch.ones(1))
    data = tiny_benchmark(per_class=1).experiences[0].train
    with pytest.raises(NotImplementedError, match="gate"):
        diagonal_fisher(model, data, lambda t: None)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_bf16_precision_runs_the_forward_pass_under_autocast(precision):
    benchmark = tiny_benchmark()
    scenario = Scenario.from_benchmark("class", benchmark)
    model = ResNet18(3, scenario.n_outputs, width=4)
    dtypes = []
    model.conv1.register_forward_hook(lambda m, i, out: dtypes.append(out.dtype))
    schedule = TrainConfig(optimizer="sgd", lr=0.05, batch_size=8, iterations=2, precision=precision)
    strategy = Naive(model, scenario, schedule, torch.Generator().manual_seed(0))
    stats = strategy.train_experience(benchmark.experiences[0], benchmark.experiences[:1])
    assert stats.steps == 2
    assert set(dtypes) == {torch.bfloat16 if precision == "bf16" else torch.float32}
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in model.parameters())


def test_an_unknown_precision_names_the_valid_ones():
    benchmark = tiny_benchmark()
    scenario = Scenario.from_benchmark("class", benchmark)
    with pytest.raises(ValueError, match="train.precision.*fp32, bf16"):
        Naive(ResNet18(3, 4, 4), scenario, TrainConfig(precision="fp16"), torch.Generator())
