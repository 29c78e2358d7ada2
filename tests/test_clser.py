"""CLS-ER (Arani et al. 2022): its moving averages, its choice of teacher, what answers at test
time and what it counts as memory."""

import pytest
import torch
from conftest import quick_config
from test_strategies import make

from hebbnet.config import TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.strategies import CLSER, CLSERConfig
from hebbnet.continual.strategies.clser import ema_update


def test_ema_update_is_the_weighted_mean_of_average_and_model():
    average, model = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    expected = [0.9 * a.detach() + 0.1 * m.detach()
                for a, m in zip(average.parameters(), model.parameters())]
    ema_update(average, model, 0.9)
    for kept, want in zip(average.parameters(), expected):
        torch.testing.assert_close(kept, want)


def test_first_update_averages_start_and_first_step_equally_then_decay_caps():
    strategy, experiences = make(CLSER, buffer_size=20, plastic_update_rate=1.0,
                                 stable_update_rate=1.0, plastic_decay=0.99, stable_decay=0.6)
    start = [p.detach().clone() for p in strategy.model.parameters()]
    data = experiences[0].train
    strategy.training_step(data, torch.arange(8), 0)  # step 1: d = min(1 - 1/2, decay) = 0.5
    for memory in ("plastic", "stable"):
        for kept, s, now in zip(strategy.memories[memory][0].parameters(), start,
                                strategy.model.parameters()):
            torch.testing.assert_close(kept, 0.5 * s + 0.5 * now.detach())
    stable_before = [p.clone() for p in strategy.predictor.parameters()]
    strategy.training_step(data, torch.arange(8, 16), 0)  # step 2: d = min(2/3, 0.6) = 0.6
    for kept, before, now in zip(strategy.predictor.parameters(), stable_before,
                                 strategy.model.parameters()):
        torch.testing.assert_close(kept, 0.6 * before + 0.4 * now.detach())


def test_the_teacher_is_the_memory_surer_of_the_true_class():
    strategy, experiences = make(CLSER, buffer_size=20)
    plastic, stable = (strategy.memories[m][0] for m in ("plastic", "stable"))
    with torch.no_grad():
        for layer in (plastic, stable):
            for p in layer.parameters():
                p.zero_()
        plastic.head.bias.copy_(torch.tensor([2.0, 0.0, 0.0, 0.0]))  # sure of class 0
        stable.head.bias.copy_(torch.tensor([0.0, 3.0, 0.0, 0.0]))  # sure of class 1
    x, y = torch.zeros(3, 2, 3, 3), torch.tensor([0, 1, 2])
    chosen = strategy.memory_logits(x, y)
    torch.testing.assert_close(chosen[0], plastic(x[:1])[0])
    torch.testing.assert_close(chosen[1], stable(x[:1])[0])
    # class 2: p = 1/(e² + 3) under the plastic memory, 1/(e³ + 3) under the stable one
    torch.testing.assert_close(chosen[2], plastic(x[:1])[0])


def test_the_stable_memory_answers_at_test_time(tmp_path):
    """Never updated, the stable memory is the initial network: every row is the untrained one."""
    strategy = CLSERConfig(buffer_size=50, stable_update_rate=0.0)
    result = run_experiment(quick_config(strategy=strategy, train=TrainConfig(batch_size=16,
                                                                             iterations=12)),
                            tmp_path)
    for row in result["acc_matrix"]:
        assert row == pytest.approx(result["random_init_acc"])


@pytest.mark.parametrize("options, message", [
    ({"reg_weight": -1.0}, "reg_weight"),
    ({"stable_update_rate": 1.5}, "stable_update_rate"),
    ({"plastic_decay": -0.1}, "plastic_decay"),
])
def test_bad_settings_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        make(CLSER, buffer_size=10, **options)
