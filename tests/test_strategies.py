"""Each strategy's defining behaviour, on tiny models and data."""

import copy
import dataclasses
import inspect

import pytest
import torch

from hebbnet.config import TrainConfig
from hebbnet.continual.benchmark import Benchmark, Experience, TensorSet
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.continual.strategies import (
    AGEM,
    EWC,
    SI,
    STRATEGIES,
    DERpp,
    ERConfig,
    ExperienceReplay,
    LwF,
)
from hebbnet.continual.strategies.agem import project_gradient
from hebbnet.continual.strategies.importance import diagonal_fisher, trainable
from hebbnet.continual.strategies.lwf import distillation_loss
from hebbnet.models import MLP

SCHEDULE = TrainConfig(optimizer="sgd", lr=0.1, batch_size=8, iterations=20)


def toy_benchmark(n=48, seed=0) -> Benchmark:
    """Two tasks of two classes each on 2×3×3 'images' (uint8)."""
    g = torch.Generator().manual_seed(seed)
    experiences = []
    for task, classes in enumerate(((0, 1), (2, 3))):
        y = torch.tensor(classes).repeat(n // 2)
        x = torch.randint(0, 256, (n, 2, 3, 3), generator=g, dtype=torch.uint8)
        x[:, 0, 0, 0] = (y * 60).to(torch.uint8)
        data = TensorSet(x, y, torch.full((n,), task))
        experiences.append(Experience(task, classes, data, data))
    return Benchmark("toy", tuple(experiences), 4, (2, 3, 3))


def config_of(strategy_cls, **options):
    """The config dataclass ``strategy_cls`` is registered with, holding ``options``."""
    return next(r.config for r in STRATEGIES.values() if r.build is strategy_cls)(**options)


def make(strategy_cls, kind="class", **options):
    torch.manual_seed(0)
    benchmark = toy_benchmark()
    scenario = Scenario.from_benchmark(kind, benchmark)
    model = MLP((2, 3, 3), [5], scenario.n_outputs)
    strategy = strategy_cls(model, scenario, SCHEDULE, torch.Generator().manual_seed(0),
                            config_of(strategy_cls, **options))
    return strategy, [scenario.relabel(e) for e in benchmark.experiences]


def brute_force_fisher(model, data, mask):
    fisher = {n: torch.zeros_like(p) for n, p in trainable(model).items()}
    for i in range(len(data)):
        logits = mask_logits(model(data.x[i : i + 1].float() / 255), mask[i : i + 1])
        log_p = torch.log_softmax(logits, dim=1)[0]
        for c in mask[i].nonzero().flatten():
            grads = torch.autograd.grad(log_p[c], list(trainable(model).values()), retain_graph=True)
            for (name, _), g in zip(trainable(model).items(), grads):
                fisher[name] += log_p[c].exp().detach() * g ** 2
    return {n: f / len(data) for n, f in fisher.items()}


@pytest.mark.parametrize("kind", ["task", "class"])
def test_fisher_equals_the_per_sample_definition(kind):
    strategy, experiences = make(EWC, kind, ewc_lambda=1.0)
    data = experiences[1].train.select(slice(0, 10))
    mask = strategy.scenario.train_mask(1, data.t)
    fast = diagonal_fisher(strategy.model, data, lambda t: strategy.scenario.train_mask(1, t),
                           batch_size=4)
    slow = brute_force_fisher(strategy.model, data, mask)
    for name in slow:
        torch.testing.assert_close(fast[name], slow[name], rtol=1e-4, atol=1e-7)


def test_ewc_penalty_is_zero_at_the_anchor_and_quadratic_away_from_it():
    strategy, experiences = make(EWC, ewc_lambda=3.0)
    strategy.after_experience(experiences[0])
    batch = experiences[1].train.select(slice(0, 8))
    plain = strategy.loss(strategy.model(batch.x.float() / 255), batch.y, batch.t, 1)
    torch.testing.assert_close(strategy.batch_loss(batch, 1), plain)
    fisher = strategy.fisher
    assert all((f >= 0).all() for f in fisher.values()) and any(f.sum() > 0 for f in fisher.values())
    for scale in (0.1, 0.2):
        moved = copy.deepcopy(strategy)
        with torch.no_grad():
            for parameter in trainable(moved.model).values():
                parameter += scale
        plain = moved.loss(moved.model(batch.x.float() / 255), batch.y, batch.t, 1)
        expected = 1.5 * sum((f * scale ** 2).sum() for f in fisher.values())
        torch.testing.assert_close(moved.batch_loss(batch, 1) - plain, expected)


def test_ewc_closed_form_equals_one_penalty_per_task():
    strategy, experiences = make(EWC, ewc_lambda=2.0)
    terms = []
    for task, experience in enumerate(experiences):
        strategy.train_experience(experience, experiences[: task + 1])
        fisher = diagonal_fisher(strategy.model, experience.train,
                                 lambda t, task=task: strategy.scenario.train_mask(task, t))
        terms.append(({n: p.detach().clone() for n, p in trainable(strategy.model).items()}, fisher))
    with torch.no_grad():
        for parameter in trainable(strategy.model).values():
            parameter.add_(0.05 * torch.randn_like(parameter))
    batch = experiences[1].train.select(slice(0, 8))
    plain = strategy.loss(strategy.model(batch.x.float() / 255), batch.y, batch.t, 1)
    separate = sum(((p - anchor[n]) ** 2 * fisher[n]).sum()
                   for anchor, fisher in terms for n, p in trainable(strategy.model).items())
    torch.testing.assert_close(strategy.batch_loss(batch, 1) - plain, 1.0 * separate,
                               rtol=1e-4, atol=1e-6)
    assert strategy.memory_bytes() == 2 * sum(p.nbytes for p in strategy.model.parameters())


def test_online_ewc_keeps_one_decayed_running_fisher_at_the_latest_parameters():
    strategy, experiences = make(EWC, ewc_lambda=1.0, online=True, gamma=0.5)
    strategy.after_experience(experiences[0])
    first = {n: f.clone() for n, f in strategy.fisher.items()}
    strategy.after_experience(experiences[1])
    task = 1
    new = diagonal_fisher(strategy.model, experiences[1].train,
                          lambda t: strategy.scenario.train_mask(task, t))
    for name, parameter in trainable(strategy.model).items():
        torch.testing.assert_close(strategy.fisher[name], 0.5 * first[name] + new[name])
        torch.testing.assert_close(strategy.anchor[name], parameter.detach())


def test_si_importance_accumulates_only_where_parameters_moved():
    strategy, experiences = make(SI, c=1.0)
    first_layer = strategy.model.features[0].weight
    first_layer.register_hook(lambda g: g * torch.tensor([1.0] * 9 + [0.0] * 9))  # channel 2 frozen
    strategy.train_experience(experiences[0], experiences[:1])
    omega = strategy.omega["features.0.weight"]
    assert (omega[:, 9:] == 0).all()
    assert omega[:, :9].abs().sum() > 0
    assert (strategy.path["features.0.weight"] == 0).all()  # reset for the next task
    torch.testing.assert_close(strategy.anchor["features.0.weight"], first_layer.detach())


def test_si_penalty_is_zero_at_the_anchor():
    strategy, experiences = make(SI, c=10.0)
    strategy.train_experience(experiences[0], experiences[:1])
    batch = experiences[1].train.select(slice(0, 8))
    at_anchor = strategy.batch_loss(batch, 1)
    plain = strategy.loss(strategy.model(batch.x.float() / 255), batch.y, batch.t, 1)
    torch.testing.assert_close(at_anchor, plain)


def test_agem_projection_never_points_uphill_for_the_reference():
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        gradient, reference = torch.randn(20, generator=g), torch.randn(20, generator=g)
        projected = project_gradient(gradient, reference)
        assert projected @ reference >= -1e-5
        if gradient @ reference >= 0:
            assert torch.equal(projected, gradient)


def test_agem_step_does_not_increase_the_reference_loss():
    strategy, experiences = make(AGEM, buffer_size=16)
    strategy.train_experience(experiences[0], experiences[:1])
    increases = 0
    for step in range(10):
        batch = experiences[1].train.select(slice(8 * (step % 6), 8 * (step % 6) + 8))
        reference = strategy.buffer.samples()
        strategy.replay_batch_size = len(reference)  # the whole memory is the reference
        before = strategy.replay_loss(reference, 1).item()
        for p in strategy.model.parameters():
            p.grad = None
        strategy.batch_loss(batch, 1).backward()
        strategy.before_step(1)
        with torch.no_grad():
            for parameter in strategy.model.parameters():
                parameter -= 1e-3 * parameter.grad
        increases += strategy.replay_loss(reference, 1).item() > before + 1e-6
    assert increases == 0


def test_derpp_stores_the_logits_each_sample_had_when_stored():
    strategy, experiences = make(DERpp, buffer_size=100)
    batch = experiences[0].train.select(slice(0, 8))
    with torch.no_grad():
        logits = strategy.model(batch.x.float() / 255)
    strategy.batch_loss(batch, 0)
    torch.testing.assert_close(strategy.buffer.logits[:8], logits)
    assert torch.equal(strategy.buffer.x[:8], batch.x)


def test_distillation_is_minimal_when_the_student_matches_the_teacher():
    teacher = torch.randn(6, 4)
    student = teacher.clone().requires_grad_(True)
    distillation_loss(student, teacher, 2.0).backward()
    assert student.grad.abs().max() < 1e-6
    noisy = teacher + torch.randn(6, 4)
    assert distillation_loss(noisy, teacher, 2.0) > distillation_loss(teacher, teacher, 2.0)


def test_lwf_teacher_is_a_frozen_copy_of_the_model_after_each_task():
    strategy, experiences = make(LwF, kind="task")
    batch = experiences[0].train.select(slice(0, 8))
    plain = strategy.loss(strategy.model(batch.x.float() / 255), batch.y, batch.t, 0)
    torch.testing.assert_close(strategy.batch_loss(batch, 0), plain)  # nothing to distil yet
    strategy.after_experience(experiences[0])
    assert not any(p.requires_grad for p in strategy.teacher.parameters())
    x = batch.x.float() / 255
    torch.testing.assert_close(strategy.teacher(x), strategy.model(x))
    assert [u.nonzero().flatten().tolist() for u, _ in strategy._distilled_units(1)] == [[0, 1]]


@pytest.mark.parametrize("strategy_cls, options, message", [
    (EWC, {"ewc_lambda": -1.0}, "ewc_lambda"),
    (SI, {"c": 1.0, "epsilon": 0.0}, "epsilon > 0"),
    (LwF, {"temperature": 0.0}, "temperature > 0"),
    (DERpp, {"buffer_size": 10, "alpha": -1.0}, "alpha >= 0"),
])
def test_bad_hyperparameters_are_named(strategy_cls, options, message):
    with pytest.raises(ValueError, match=message):
        make(strategy_cls, **options)


def test_fisher_of_a_non_linear_parameter_is_refused_with_advice():
    strategy, experiences = make(EWC, ewc_lambda=1.0)
    strategy.model.scale = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(NotImplementedError, match="scale"):
        strategy.after_experience(experiences[0])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_strategys_settings_live_in_its_config_alone(name):
    """One home per option: a strategy's constructor takes its config object and no setting
    of its own, and built with no options it takes the config's defaults."""
    registered = STRATEGIES[name]
    parameters = list(inspect.signature(registered.build.__init__).parameters)
    assert parameters == ["self", "model", "scenario", "schedule", "generator", "options"]
    assert registered.config().name == name
    strategy, _ = make(registered.build, **({"buffer_size": 8} if "buffer_size" in
                                            {f.name for f in dataclasses.fields(registered.config)}
                                            else {}))
    assert isinstance(strategy, registered.build)


@pytest.mark.parametrize("spatial", [True, False])
def test_replay_with_a_shift_moves_stored_images_only_where_inputs_are_images(spatial):
    strategy, experiences = make(ExperienceReplay, buffer_size=48, replay_shift=1)
    strategy.scenario = dataclasses.replace(strategy.scenario, spatial=spatial)
    strategy.__init__(strategy.model, strategy.scenario, SCHEDULE, torch.Generator().manual_seed(0),
                      ERConfig(buffer_size=48, replay_shift=1))
    strategy.remember(experiences[0].train)
    replay, _ = strategy.replay_batch()
    stored = {tuple(x.flatten().tolist()) for x in experiences[0].train.x}
    unmoved = sum(tuple(x.flatten().tolist()) in stored for x in replay.x)
    if spatial:
        assert unmoved < len(replay.x)  # most moved by (dy, dx) ≠ (0, 0): 8 of 9 on average
    else:
        assert unmoved == len(replay.x)


def test_a_class_reservoir_is_offered_each_sample_once_and_shares_its_capacity_by_class():
    strategy, experiences = make(ExperienceReplay, buffer_size=20, policy="class_reservoir")
    for experience in experiences:  # 20 steps of 8 = 160 draws from 48 samples a task
        strategy.train_experience(experience, experiences)
    assert strategy.buffer.seen == 2 * 48  # the first pass of each task only
    assert torch.bincount(strategy.buffer.samples().y).tolist() == [5, 5, 5, 5]
