"""Plastic networks in the continual-learning loop: every model trains and is evaluated through
the runner, resumes bit for bit, keeps its readout statistics from training samples only, and
refuses combinations that cannot work before training starts."""

import pytest
import torch
from conftest import killed_and_resumed, quick_config

from hebbnet.config import MLPConfig, StrategyConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.strategies import STRATEGIES
from hebbnet.models import DiehlCookConfig, FlyConfig, HebbianDenseConfig, SoftHebbConvConfig
from hebbnet.models.diehl_cook import DiehlCook2015, DiehlCookParameters, SpikeCountFeatures
from hebbnet.models.readouts import ClassMeans, DeltaRule, HebbianAssociation, NeuronLabels

MODELS = {
    "dense, backprop readout": HebbianDenseConfig(width=64),
    "dense, delta rule": HebbianDenseConfig(width=64, readout="delta"),
    "dense, class means, homeostasis": HebbianDenseConfig(width=64, readout="class_means",
                                                          homeostasis=["scaling", "intrinsic"]),
    "dense, consolidation, critical period": HebbianDenseConfig(
        width=64, readout="hebbian", consolidation=True, lr_decay=0.5),
    "dense, synapse turnover": HebbianDenseConfig(width=64, readout="class_means",
                                                  turnover_density=0.2, turnover_period=3),
    "dense, neurogenesis": HebbianDenseConfig(width=64, readout="class_means",
                                              neurons_per_task=12, newborn_excitability=1.0),
    "softhebb conv": SoftHebbConvConfig(depth=1),
    "diehl & cook": DiehlCookConfig(n_neurons=20, steps=20),
    "diehl & cook, neurogenesis, thresholds from weights": DiehlCookConfig(
        n_neurons=20, steps=20, neurons_per_task=4, threshold_from_weights=0.5),
    "fly": FlyConfig(kenyon_cells=500, active=25),
}


def plastic_config(model, strategy=None, **overrides):
    return quick_config(model=model, strategy=strategy or StrategyConfig(),
                        train=TrainConfig(batch_size=16, iterations=8), **overrides)


@pytest.mark.parametrize("name", MODELS)
def test_each_plastic_network_runs_through_the_runner_and_resumes_bit_for_bit(
        name, tmp_path, monkeypatch):
    cfg = plastic_config(MODELS[name])
    straight = run_experiment(cfg, tmp_path / "straight")
    assert len(straight["acc_matrix"]) == 5 and 0 <= straight["acc"] <= 1
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch, task=2, step=3)
    assert resumed["acc_matrix"] == straight["acc_matrix"]
    assert resumed["strategy_bytes"] == straight["strategy_bytes"]


def test_the_fly_learns_class_incremental_digits_without_replay(tmp_path):
    cfg = quick_config(model=FlyConfig(kenyon_cells=4000, active=200),
                       train=TrainConfig(batch_size=32, epochs=1, iterations=None))
    result = run_experiment(cfg, tmp_path)
    assert result["acc"] > 0.8 and result["forgetting"] < 0.1  # naive MLP: 0.20 and ≈ 1
    assert result["strategy_bytes"] == 0  # the readout keeps weights, no statistics


def test_readout_statistics_are_counted_in_the_bytes(tmp_path):
    cfg = plastic_config(DiehlCookConfig(n_neurons=20, steps=20))
    result = run_experiment(cfg, tmp_path)
    assert result["strategy_bytes"] == 10 * 20 * 4 + 10 * 8  # activity sums, sample counts


@pytest.mark.parametrize("strategy", ["ewc", "si", "lwf", "agem", "derpp", "clser"])
def test_a_gradient_strategy_refuses_a_network_that_learns_locally(strategy, tmp_path):
    cfg = plastic_config(FlyConfig(kenyon_cells=500, active=25), STRATEGIES[strategy].config())
    with pytest.raises(ValueError, match="needs a model trained by gradients.*model.readout="
                                         "backprop"):
        run_experiment(cfg, tmp_path)
    assert not (tmp_path / "checkpoint.pt").exists()


@pytest.mark.parametrize("strategy", ["ewc", "lwf", "derpp"])
def test_gradient_strategies_train_the_backprop_readout_of_plastic_features(strategy, tmp_path):
    cfg = plastic_config(HebbianDenseConfig(width=64), STRATEGIES[strategy].config())
    assert 0 <= run_experiment(cfg, tmp_path)["acc"] <= 1


@pytest.mark.parametrize("strategy", ["joint", "er", "cls"])
def test_data_choosing_strategies_show_a_local_learner_old_classes_again(strategy, tmp_path):
    options = {"er": {"buffer_size": 50}, "cls": {"memory_bytes": 2000, "sleep_steps": 5}}
    model = HebbianDenseConfig(width=64, readout="class_means")
    counts = {}
    for name, chosen in (("naive", StrategyConfig()),
                         (strategy, STRATEGIES[strategy].config(
                                                               **options.get(strategy, {})))):
        run_experiment(plastic_config(model, chosen), tmp_path / name)
        state = torch.load(tmp_path / name / "checkpoint.pt", weights_only=True)["model"]
        counts[name] = state["readout.counts"]
    assert counts["naive"].sum() == 5 * 8 * 16  # every stream sample once
    assert counts[strategy][:2].sum() > counts["naive"][:2].sum()  # task 0's classes again


@pytest.mark.parametrize("model, message", [
    (DiehlCookConfig(n_neurons=5), "5 feature neurons for 10 output classes"),
    (HebbianDenseConfig(readout="perceptron"), "Unknown model.readout 'perceptron'"),
    (HebbianDenseConfig(homeostasis=["sleep"]), "Unknown model.homeostasis"),
    (HebbianDenseConfig(lr_decay=1.5), "model.lr_decay must be in"),
    (SoftHebbConvConfig(depth=4), "model.depth"),
    (HebbianDenseConfig(turnover_density=1.5), "model.turnover_density .* density must be in"),
    (DiehlCookConfig(n_neurons=20, threshold_from_weights=-1.0),
     "model.threshold_from_weights"),
    (HebbianDenseConfig(width=64, neurons_per_task=13), "model.neurons_per_task=13 .* model.width is 64"),
    (HebbianDenseConfig(width=64, neurons_per_task=8, newborn_maturation=0.0),
     "model.newborn_excitability / newborn_maturation"),
    (MLPConfig(code_neurons_per_task=3), "grows the model's sparse code, and it has none"),
    (MLPConfig(code_size=10, code_active=2, code_neurons_per_task=3),
     "model.code_neurons_per_task=3 for 5 tasks needs 15 units, model.code_size is 10"),
])
def test_bad_plastic_model_settings_are_named_before_training(model, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        run_experiment(plastic_config(model), tmp_path)


def test_a_closed_critical_period_freezes_the_features_after_the_first_task(tmp_path,
                                                                             monkeypatch):
    from hebbnet.continual.strategies import Strategy

    weights = []
    original = Strategy.train_experience

    def record(self, experience, *args, **kwargs):
        stats = original(self, experience, *args, **kwargs)
        weights.append(self.model.features.layer.weight.clone())
        return stats

    monkeypatch.setattr(Strategy, "train_experience", record)
    run_experiment(plastic_config(HebbianDenseConfig(width=64, readout="delta", lr_decay=0.0)),
                   tmp_path)
    assert all(torch.equal(w, weights[0]) for w in weights[1:])


def test_the_delta_rule_moves_only_the_allowed_units_by_the_normalised_error():
    readout = DeltaRule(3, 4, lr=0.5)
    readout.weight.fill_(0.1)
    h = torch.tensor([[1.0, 0.0, 2.0]])
    active = torch.tensor([[True, True, False, False]])
    readout.learn(h, torch.tensor([1]), active)
    error = torch.tensor([0 - 0.3, 1 - 0.3, 0.0, 0.0]) / (5 + 1)  # (t − Wh)/(‖h‖² + 1)
    torch.testing.assert_close(readout.weight, 0.1 + 0.5 * error[:, None] * h)
    torch.testing.assert_close(readout.bias, 0.5 * error)


def test_the_normalised_delta_rule_stays_finite_on_large_features():
    readout = DeltaRule(2000, 10, lr=1.0)
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        h = 50 * torch.rand(32, 2000, generator=g)
        readout.learn(h, torch.randint(0, 10, (32,), generator=g), None)
    assert torch.isfinite(readout.weight).all() and readout(h).abs().max() < 10


def test_hebbian_association_changes_only_the_target_units_weights():
    readout = HebbianAssociation(5, 3)
    h = torch.tensor([[1.0, 0, 1, 0, 0], [0, 1.0, 0, 0, 0]])
    readout.learn(h, torch.tensor([2, 2]), None)
    assert readout.weight[:2].eq(0).all()
    assert readout.weight[2].tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_class_means_are_running_means_over_the_stream_and_unseen_classes_never_win():
    readout = ClassMeans(2, 3)
    g = torch.Generator().manual_seed(0)
    h, y = torch.randn(50, 2, generator=g), torch.randint(0, 2, (50,), generator=g)
    for part in range(0, 50, 7):
        readout.learn(h[part : part + 7], y[part : part + 7], None)
    for c in (0, 1):
        torch.testing.assert_close(readout.means[c], h[y == c].mean(0))
    assert readout(torch.zeros(4, 2))[:, 2].eq(float("-inf")).all()


def test_a_neuron_keeps_its_label_once_its_class_is_gone_and_new_neurons_take_new_classes():
    readout = NeuronLabels(3, 4)
    readout.learn(torch.tensor([[5.0, 0.0, 0.0]]), torch.tensor([0]), None)  # task 1: class 0
    assert readout.labels().tolist() == [0, -1, -1]
    for _ in range(3):  # task 2: class 2 drives neurons 1 and 2; neuron 0 is silent
        readout.learn(torch.tensor([[0.0, 4.0, 1.0]]), torch.tensor([2]), None)
    assert readout.labels().tolist() == [0, 2, 2]
    assert readout(torch.tensor([[0.0, 3.0, 3.0]])).argmax(1).item() == 2


def test_neurogenesis_protects_older_neurons_and_keeps_unborn_ones_silent(tmp_path, monkeypatch):
    from hebbnet.continual.strategies import Strategy

    states = []
    original = Strategy.train_experience

    def record(self, experience, *args, **kwargs):
        stats = original(self, experience, *args, **kwargs)
        network = self.model.features.network
        states.append((network.weight.clone(), network.theta.clone()))
        return stats

    monkeypatch.setattr(Strategy, "train_experience", record)
    model = DiehlCookConfig(n_neurons=50, steps=30, neurons_per_task=10)
    run_experiment(plastic_config(model), tmp_path)
    for task in range(1, 5):
        old = slice(0, 10 * task)
        assert torch.equal(states[task][0][:, old], states[task - 1][0][:, old])  # protected
        assert torch.equal(states[task][1][old], states[task - 1][1][old])
        assert (states[task - 1][1][10 * task:] > 1e8).all()  # not yet born: silent
        assert (states[task][1][10 * task : 10 * task + 10] < 1e8).all()  # born now


def test_evaluation_uses_thresholds_from_the_weights_and_keeps_the_learned_ones():
    params = DiehlCookParameters(n_neurons=8, steps=100)
    features = SpikeCountFeatures((1, 4, 4), params, neurons_per_task=4,
                                  threshold_from_weights=0.5).eval()
    network = features.network
    network.weight.fill_(1.0)  # drive ≈ 16 × 64 Hz × 1 mV: v settles ~100 mV above rest
    network.theta[:4] = 200.0  # learned: out of reach; from the weights: 0.5 × 16 = 8 mV
    learned = network.theta.clone()
    x = torch.ones(6, 1, 4, 4)

    torch.manual_seed(1)
    counts = features(x)
    assert torch.equal(network.theta, learned)  # put back after evaluating
    assert counts[:, :4].sum(1).ge(2).all() and counts[:, 4:].eq(0).all()  # unborn stay silent

    reference = DiehlCook2015(16, params).eval()
    reference.weight.fill_(1.0)
    reference.theta.copy_(torch.where(learned < 1e8, torch.full_like(learned, 8.0), learned))
    torch.manual_seed(1)
    assert torch.equal(counts, reference(x.flatten(1)).float())

    features.threshold_from_weights = None  # the learned θ: nothing reaches threshold
    assert features(x).eq(0).all()


def test_neurogenesis_that_needs_more_neurons_than_there_are_is_refused(tmp_path):
    with pytest.raises(ValueError, match="needs 60 units, model.n_neurons is 50"):
        run_experiment(plastic_config(DiehlCookConfig(n_neurons=50, neurons_per_task=12)),
                       tmp_path)


def test_a_saturating_association_stops_growing_at_w_max(tmp_path):
    readout = HebbianAssociation(3, 2, w_max=2.0)
    for _ in range(5):
        readout.learn(torch.tensor([[1.0, 0.0, 1.0]]), torch.tensor([1]), None)
    assert readout.weight[1].tolist() == [2.0, 0.0, 2.0] and readout.weight[0].eq(0).all()
    with pytest.raises(ValueError, match="readout_w_max saturates the Hebbian association"):
        run_experiment(plastic_config(HebbianDenseConfig(readout="delta", readout_w_max=1.0)),
                       tmp_path)


@pytest.mark.parametrize("activation", ["relu", "triangle"])
def test_neurogenesis_gives_each_task_its_units_and_the_newborns_win_its_samples(
        activation, tmp_path, monkeypatch):
    """Units born per task; the unborn stay silent; with newborns excitable enough (a bonus
    that falls e⁴-fold over a task of 8 updates, far above the currents' spread) each task's
    block takes every rank the Krotov-Hopfield rule updates, so the first block never changes
    after its task."""
    from hebbnet.continual.strategies import Strategy

    born, weights, silent = [], [], []
    original = Strategy.train_experience

    def record(self, experience, *args, **kwargs):
        stats = original(self, experience, *args, **kwargs)
        features = self.model.features
        born.append(features.born)
        weights.append(features.layer.weight[:12].clone())
        self.model.eval()
        silent.append(bool((features(experience.train.x[:64].float() / 255)[:, features.born:]
                            == 0).all()))
        return stats

    monkeypatch.setattr(Strategy, "train_experience", record)
    run_experiment(plastic_config(HebbianDenseConfig(
        width=64, readout="class_means", neurons_per_task=12, newborn_excitability=1000.0,
        newborn_maturation=2.0, activation=activation)), tmp_path)
    assert born == [12, 24, 36, 48, 60] and all(silent)
    drift = [float((w - weights[0]).norm() / weights[0].norm()) for w in weights[1:]]
    assert max(drift) < 1e-6  # the first block never won again: no update touched it
