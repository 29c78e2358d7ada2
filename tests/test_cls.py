"""The complementary learning system: the hippocampus stores within its budget, separates and
completes patterns; sleep's downscaling is multiplicative; sleep makes a small class-incremental
run forget less; task-free sleep runs on its own clock and resumes."""

import pytest
import torch
from conftest import killed_and_resumed, quick_config
from torch import nn

from hebbnet.config import MLPConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import TensorSet, permuted_tasks, split_tasks
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import CLSConfig, ComplementaryLearningSystem
from hebbnet.continual.strategies.base import NonFiniteLossError
from hebbnet.data import load_dataset
from hebbnet.memory_systems.hippocampus import Hippocampus
from hebbnet.memory_systems.sleep import downscale
from hebbnet.memory_systems.spiking_sleep import SpikingSleepConfig, spiking_sleep
from hebbnet.spiking.conversion import layer_scales


def labelled(images: torch.Tensor, label: int, task: int = 0) -> TensorSet:
    n = len(images)
    return TensorSet(images, torch.full((n,), label), torch.full((n,), task))


def random_images(n: int, seed: int = 0, density: float = 0.3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return ((torch.rand(n, 1, 8, 8, generator=generator) < density) * 255).to(torch.uint8)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_episodes_come_back_within_half_a_quantisation_level(bits):
    hippocampus = Hippocampus(10_000, pixel_bits=bits)
    images = torch.randint(0, 256, (5, 1, 7, 7), dtype=torch.uint8)  # 49 pixels: padding too
    hippocampus.store(labelled(images, 3), torch.Generator().manual_seed(0))
    stored = hippocampus.episodes()
    assert hippocampus.bytes_per_episode == -(-49 * bits // 8) + 2
    assert torch.equal(stored.y, torch.full((5,), 3))
    error = (stored.x.float() - images.float()).abs().max()
    assert error <= 255 / (2 ** bits - 1) / 2 + 0.5


def test_budget_is_shared_equally_by_the_classes_seen_and_never_exceeded():
    hippocampus = Hippocampus(capacity_bytes=40 * 10)  # 8×8 at 1 bit: 10 bytes an episode
    generator = torch.Generator().manual_seed(0)
    for label in (0, 1):
        hippocampus.store(labelled(random_images(30, label), label), generator)
    assert hippocampus.capacity == 40 and torch.bincount(hippocampus.episodes().y).tolist() == [20, 20]
    for label in (2, 3):
        hippocampus.store(labelled(random_images(30, label), label, task=1), generator)
    assert torch.bincount(hippocampus.episodes().y).tolist() == [10, 10, 10, 10]
    assert hippocampus.nbytes == 400


def test_each_class_keeps_a_uniform_sample_of_its_stream():
    hippocampus = Hippocampus(capacity_bytes=100 * 10)
    images = torch.zeros(2000, 1, 8, 8, dtype=torch.uint8)
    images[:, 0, 0, :] = (torch.arange(2000).unsqueeze(1) >> torch.arange(8)) % 2 * 255
    images[:, 0, 1, :3] = (torch.arange(2000).unsqueeze(1) >> torch.arange(8, 11)) % 2 * 255
    generator = torch.Generator().manual_seed(0)
    for chunk in images.split(128):  # streamed batch by batch
        hippocampus.store(labelled(chunk, 0), generator)
    bits = (hippocampus.episodes().x[:, 0, :2].reshape(-1, 16)[:, :11] > 0).long()
    index = (bits << torch.arange(11)).sum(1).float()
    assert len(index) == 100 and len(index.unique()) == 100
    assert abs(index.mean().item() - 1000) < 3 * 577 / 10  # uniform on 0..1999: sd 577


def test_half_a_cue_recalls_the_whole_episode():
    hippocampus = Hippocampus(capacity_bytes=10_000)
    images = random_images(40, density=0.4)
    hippocampus.store(labelled(images, 1), torch.Generator().manual_seed(0))
    stored = hippocampus.episodes()
    cue = stored.x.clone()
    cue[:, :, 4:] = 0  # the bottom half missing
    assert torch.equal(hippocampus.recall(cue).x, stored.x)


def test_dentate_codes_are_sparse_and_separate_similar_inputs():
    hippocampus = Hippocampus(10_000, code_size=1000, code_active=20)
    base = random_images(200, density=0.3).reshape(200, -1).float() / 255
    flip = torch.rand(base.shape, generator=torch.Generator().manual_seed(1)) < 0.1
    similar = torch.where(flip, 1 - base, base)
    codes, similar_codes = hippocampus.separate(base), hippocampus.separate(similar)
    assert torch.equal(codes.sum(1), torch.full((200,), 20.0))
    input_overlap = (base * similar).sum(1) / base.sum(1)
    code_overlap = (codes * similar_codes).sum(1) / 20
    assert code_overlap.mean() < input_overlap.mean() - 0.1


def test_bad_budgets_and_labels_are_named():
    with pytest.raises(ValueError, match="cannot hold one episode"):
        Hippocampus(capacity_bytes=9).store(labelled(random_images(2), 0), torch.Generator())
    with pytest.raises(ValueError, match="pixel_bits must be one of"):
        Hippocampus(100, pixel_bits=3)
    with pytest.raises(ValueError, match="labels and task ids as bytes"):
        Hippocampus(1000).store(labelled(random_images(2), 300), torch.Generator())


def test_downscaling_is_multiplicative_and_brings_units_to_the_median():
    layer = nn.Linear(4, 5)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(5, 4) * torch.tensor([1.0, 2, 3, 4, 5]).unsqueeze(1))
    before, bias = layer.weight.clone(), layer.bias.clone()
    norms = before.norm(dim=1)
    seen = torch.tensor([True, True, True, True, False])
    change = downscale(nn.Sequential(layer), 1.0, "output", seen)
    after = layer.weight.norm(dim=1)
    median = norms[seen].median()
    expected = torch.where(seen & (norms > median), median, norms)
    torch.testing.assert_close(after, expected)
    factor = after / norms
    torch.testing.assert_close(layer.weight, before * factor.unsqueeze(1))
    torch.testing.assert_close(layer.bias, bias * factor)
    assert change < 0
    assert downscale(nn.Sequential(layer), 0.0) == 0.0


def cls_config(**options):
    defaults = dict(memory_bytes=500, sleep_steps=20, sleep_batch_size=32)
    return CLSConfig(**{**defaults, **options})


def test_sleep_makes_a_class_incremental_run_forget_less(tmp_path):
    train = TrainConfig(batch_size=32, iterations=40)
    awake = run_experiment(quick_config(train=train, strategy=cls_config(
        sleep_steps=0, downscaling=0.0)), tmp_path / "awake")
    slept = run_experiment(quick_config(train=train, strategy=cls_config(sleep_steps=40)),
                           tmp_path / "slept")
    assert slept["forgetting"] < awake["forgetting"] - 0.05
    assert slept["acc"] > awake["acc"]
    assert len(slept["sleeps"]) == 5 and slept["strategy_bytes"] <= 500
    last = slept["sleeps"][-1]
    assert last["replayed"] == 40 * 32 and len(last["acc_before"]) == 5


def test_task_free_sleep_runs_on_the_wake_clock_and_resumes(tmp_path, monkeypatch):
    cfg = quick_config(train=TrainConfig(batch_size=16, iterations=12),
                       strategy=cls_config(sleep_every=10))
    calls = []
    sleep = ComplementaryLearningSystem.sleep
    monkeypatch.setattr(ComplementaryLearningSystem, "sleep",
                        lambda self, task: calls.append(self.wake_steps) or sleep(self, task))
    straight = run_experiment(cfg, tmp_path / "straight")
    assert calls == [10, 20, 30, 40, 50, 60] and straight["sleeps"] == []
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def test_a_hippocampus_of_codes_holds_no_pixels_and_still_forgets_less(tmp_path, monkeypatch):
    held = {}
    store = Hippocampus.store
    monkeypatch.setattr(Hippocampus, "store", lambda self, data, g: (
        held.update(shape=data.x.shape[1:]) or store(self, data, g)))
    train = TrainConfig(batch_size=32, iterations=40)
    model = MLPConfig(code_size=300, code_active=30)
    naive = run_experiment(quick_config(train=train, model=model), tmp_path / "naive")
    codes = run_experiment(quick_config(train=train, model=model, strategy=cls_config(
        store="codes", memory_bytes=2000)), tmp_path / "codes")
    assert held["shape"] == (300,)  # codes, not 8×8 images
    code_layer = 300 * (64 + 1) * 4  # the fixed Gaussian projection and its thresholds
    assert 2000 - 40 < codes["strategy_bytes"] - code_layer <= 2000  # the store within budget
    assert codes["acc"] > naive["acc"] + 0.2
    seeded = run_experiment(quick_config(train=train, strategy=cls_config(
        store="codes", memory_bytes=2000), model=MLPConfig(code_size=300, code_active=30,
                                                           code_seed=7)), tmp_path / "seeded")
    # the code drawn again from its seed: 8 bytes of seed and the thresholds, not the matrix
    assert seeded["strategy_bytes"] - (codes["strategy_bytes"] - code_layer) == 8 + 300 * 4


@pytest.mark.parametrize("make_tasks, moved", [
    (lambda digits: split_tasks(digits, 2, 5, list(range(10))), True),
    (lambda digits: permuted_tasks(digits, 2, torch.Generator().manual_seed(0)), False),
])
def test_replay_moves_images_but_not_permuted_pixels(make_tasks, moved):
    benchmark = make_tasks(load_dataset("digits"))
    scenario = Scenario.from_benchmark("domain", benchmark)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, scenario.n_outputs))
    strategy = ComplementaryLearningSystem(model, scenario, TrainConfig(),
                                           torch.Generator().manual_seed(0))
    episodes = scenario.relabel(benchmark.experiences[0]).train.select(slice(0, 64))
    losses = {strategy._replay_loss(episodes, 0).item() for _ in range(3)}
    assert (len(losses) > 1) == moved


def test_a_cls_built_in_code_sleeps_without_spikes_unless_asked():
    benchmark = split_tasks(load_dataset("digits"), 2, 5, list(range(10)))
    scenario = Scenario.from_benchmark("class", benchmark)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, scenario.n_outputs))
    strategy = ComplementaryLearningSystem(model, scenario, TrainConfig(),
                                           torch.Generator().manual_seed(0),
                                           CLSConfig(sleep_steps=0))
    strategy.hippocampus.store(scenario.relabel(benchmark.experiences[0]).train,
                               torch.Generator().manual_seed(0))
    assert strategy.sleep(0).spikes == 0  # as the config's spiking_sleep.steps=0


def test_spiking_sleep_strengthens_coactive_and_weakens_silent_synapses():
    layer = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, 0.5, 0.0, 0.0], [-1.0, -1.0, -1.0, -1.0]]))
    before = layer.weight.clone()
    mean_input = torch.tensor([1.0, 1.0, 0.0, 0.0])  # inputs 0, 1 always fire, 2, 3 never
    params = SpikingSleepConfig(steps=5, rate_scale=1.0, thresholds=[0.5], inc=0.01,
                                    dec=0.02, w0=1.0)
    counts = spiking_sleep([layer], mean_input, [1.0], params, torch.Generator().manual_seed(0))
    assert counts == [5]  # unit 0 fires every step, unit 1 never
    change = layer.weight - before
    assert (change[0, :2] > 0).all() and (change[0, 2:] < 0).all()
    assert torch.equal(change[1], torch.zeros(4))
    sigma = 2 * (1 - torch.sigmoid(torch.tensor(0.5)))  # σ(w) at the first step
    assert change[0, 0] < 5 * 0.01 * sigma + 1e-6


def test_layer_scales_bring_each_layers_peak_activity_to_one():
    torch.manual_seed(0)
    layers = [nn.Linear(6, 5, bias=False), nn.Linear(5, 3, bias=False)]
    inputs = torch.rand(50, 6) * 3
    activity = inputs / inputs.max()
    for layer, scale in zip(layers, layer_scales(layers, inputs)):
        activity = torch.relu(activity @ layer.weight.detach().T) * scale
        assert float(activity.max()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("options, message", [
    ({"downscaling": 1.5}, r"strength must be in \[0, 1\]"),
    ({"downscale_layers": "hidden"}, "Unknown downscaling layers 'hidden'; valid: output, all"),
    ({"sleep_every": 0}, "sleep_every positive or null"),
    ({"sleep_batch_size": 0}, "sleep_batch_size positive"),
    ({"lesion_after": -1}, "lesion_after is the number of sleeps"),
    ({"pixel_bits": 3}, "pixel_bits must be one of"),
    ({"store": "latents"}, "Unknown strategy.store 'latents'; valid: pixels, codes"),
    ({"store": "codes"}, "this model reads pixels; give it a code, e.g. model.code_size=2000"),
    ({"slow_cortex_decay": 1.0}, "slow_cortex_decay averages .* give a decay in \\(0, 1\\)"),
])
def test_bad_cls_settings_fail_before_any_training(options, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        run_experiment(quick_config(strategy=cls_config(**options)), tmp_path)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_a_slow_cortex_is_the_moving_average_that_answers_and_resumes(tmp_path, monkeypatch):
    cfg = quick_config(strategy=cls_config(slow_cortex_decay=0.9),
                       train=TrainConfig(batch_size=32, iterations=20))
    plain = run_experiment(quick_config(strategy=cls_config(), train=cfg.train), tmp_path / "p")
    straight = run_experiment(cfg, tmp_path / "straight")
    state = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["strategy"]
    slow = state["slow_cortex"]
    n_weights = sum(v.numel() for k, v in slow.items() if k.endswith(("weight", "bias")))
    assert straight["strategy_bytes"] == plain["strategy_bytes"] + 4 * n_weights
    assert straight["acc_matrix"] != plain["acc_matrix"]  # the slow copy answers, not the cortex
    resumed = killed_and_resumed(cfg, tmp_path / "killed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def test_the_slow_cortex_follows_the_cortex_as_an_average():
    model = nn.Linear(3, 2)
    benchmark = split_tasks(load_dataset("digits"), 2, 5, list(range(10)))
    scenario = Scenario.from_benchmark("class", benchmark)  # no training here
    cls = ComplementaryLearningSystem(model, scenario, TrainConfig(), torch.Generator(),
                                      CLSConfig(slow_cortex_decay=0.9))
    start = model.weight.detach().clone()
    for _ in range(3):
        model.weight.data += 1.0
        cls.after_step()
    # decays min(1 − 1/(n+1), 0.9) = 1/2, 2/3, 3/4: the mean of the four weights so far
    torch.testing.assert_close(cls.predictor.weight, start + 1.5)
    assert cls.predictor is not model


def test_a_non_finite_loss_in_sleep_stops_the_run_as_in_wake(tmp_path, monkeypatch):
    monkeypatch.setattr(ComplementaryLearningSystem, "_replay_loss",  # only sleep replays here
                        lambda self, replay, task: torch.tensor(float("nan"), requires_grad=True))
    with pytest.raises(NonFiniteLossError, match="strategy.sleep_lr"):
        run_experiment(quick_config(strategy=cls_config(wake_replay=False, sleep_steps=5,
                                                        memory_bytes=2000)), tmp_path)


@pytest.mark.parametrize("lesion_after", [0, 2])
def test_a_lesioned_cls_stores_and_replays_nothing_and_resumes(lesion_after, tmp_path,
                                                               monkeypatch):
    cfg = quick_config(strategy=cls_config(lesion_after=lesion_after))
    used = []  # the sleeps passed whenever the hippocampus stores or replays
    for method in ("store", "sample"):
        original = getattr(Hippocampus, method)
        monkeypatch.setattr(Hippocampus, method, lambda self, *a, _f=original: (
            used.append(strategy_of[0].sleeps) or _f(self, *a)))
    init = ComplementaryLearningSystem.__init__
    strategy_of = []
    monkeypatch.setattr(ComplementaryLearningSystem, "__init__", lambda self, *a, **k: (
        strategy_of.insert(0, self) or init(self, *a, **k)))
    straight = run_experiment(cfg, tmp_path / "straight")
    assert used and max(used) < lesion_after if lesion_after else not used
    sleeps = straight["sleeps"]
    assert all(s["replayed"] > 0 for s in sleeps[:lesion_after])
    assert all(s["replayed"] == s["episodes"] == s["bytes"] == 0 for s in sleeps[lesion_after:])
    assert straight["strategy_bytes"] == 0
    monkeypatch.undo()
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch, task=3)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def test_spiking_sleep_drives_a_random_window_and_lengthens_with_each_task():
    layer = nn.Linear(16, 16, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(16))  # each output unit repeats its input
    params = SpikingSleepConfig(steps=1, steps_per_task=2, input_window=2, rate_scale=1.0,
                                thresholds=[0.5], inc=0.0, dec=0.0)
    image = torch.ones(1, 4, 4)
    generator = torch.Generator().manual_seed(0)
    assert spiking_sleep([layer], image, [1.0], params, generator) == [4]  # one 2×2 window
    assert spiking_sleep([layer], image, [1.0], params, generator, task=2) == [4 * 5]
    with pytest.raises(ValueError, match="input_window places a window on an image"):
        spiking_sleep([layer], image.flatten(), [1.0], params, generator)
