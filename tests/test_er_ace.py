"""ER-ACE: its asymmetric loss against a hand computation, its memory of the classes seen, and
a run that resumes bit for bit; and ER's summed loss of Caccia et al.'s protocol."""

import math

import pytest
import torch
from conftest import killed_and_resumed, quick_config
from torch import nn

from hebbnet.config import TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.benchmark import Benchmark, Experience
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import ERACE, ERACEConfig, ERConfig, ExperienceReplay
from hebbnet.data import TensorSet

SCHEDULE = TrainConfig(optimizer="sgd", lr=0.1, batch_size=2, iterations=1)
# task 0 holds classes 4 and 5, task 1 classes 0 and 1: ids are not in the order seen
CLASSES = ((4, 5), (0, 1), (2, 3))


class Table(nn.Module):
    """Fixed logits per sample: sample i is a 1×1 image of value i and gets row i."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = nn.Parameter(logits)

    def forward(self, x):
        return self.logits[(x[:, 0, 0, 0] * 255).round().long()]


def samples(ids, labels, task):
    return TensorSet(torch.tensor(ids, dtype=torch.uint8).view(-1, 1, 1, 1),
                     torch.tensor(labels), torch.full((len(ids),), task))


def make(class_head="full"):
    experiences = tuple(Experience(i, c, samples([0], [c[0]], i), samples([0], [c[0]], i))
                        for i, c in enumerate(CLASSES))
    scenario = Scenario.from_benchmark("class", Benchmark("b", experiences, 6, (1, 1, 1)), class_head)
    logits = torch.randn(8, 6, generator=torch.Generator().manual_seed(1))
    strategy = ERACE(Table(logits.clone()), scenario, SCHEDULE, torch.Generator().manual_seed(0),
                     ERACEConfig(buffer_size=10, replay_batch_size=10))
    return strategy, logits


def cross_entropy(logits, label, units):
    """−log softmax over ``units`` only, by hand."""
    return -(logits[label] - math.log(sum(math.exp(logits[u]) for u in units)))


def test_the_incoming_loss_spans_present_and_unseen_classes_the_replayed_all_seen():
    strategy, z = make()
    z = z.tolist()
    first = samples([0, 1], [4, 5], 0)  # empty buffer: plain cross-entropy, all units allowed
    expected = (cross_entropy(z[0], 4, range(6)) + cross_entropy(z[1], 5, range(6))) / 2
    assert strategy.batch_loss(first, 0).item() == pytest.approx(expected, rel=1e-6)

    incoming = samples([2, 3], [0, 0], 1)  # class 1 unseen: allowed; 5 and 4 seen: masked
    allowed = [0, 1, 2, 3]
    replay = [cross_entropy(z[i], y, range(6)) for i, y in ((0, 4), (1, 5))]  # the buffer
    expected = (sum(cross_entropy(z[i], 0, allowed) for i in (2, 3)) / 2 + sum(replay) / 2)
    assert strategy.batch_loss(incoming, 1).item() == pytest.approx(expected, rel=1e-6)
    assert strategy.seen.tolist() == [True, False, False, False, True, True]

    again = samples([4, 5], [1, 1], 1)  # now class 0 is seen and absent: masked too
    loss = strategy.incoming_loss(again, 1).item()
    assert loss == pytest.approx(cross_entropy(z[4], 1, [1, 2, 3]) / 2
                                 + cross_entropy(z[5], 1, [1, 2, 3]) / 2, rel=1e-6)


def test_the_mask_stays_within_the_scenarios_expanding_head():
    strategy, z = make(class_head="expanding")
    strategy.incoming_loss(samples([0, 1], [4, 5], 0), 0)
    loss = strategy.incoming_loss(samples([2], [0], 1), 1).item()
    # units of task 2 (2, 3) are not yet trained: out, though unseen; 4, 5 seen and absent
    assert loss == pytest.approx(cross_entropy(z.tolist()[2], 0, [0, 1]), rel=1e-6)


def test_the_classes_seen_travel_with_the_state_and_a_run_resumes_bit_for_bit(tmp_path, monkeypatch):
    strategy, _ = make()
    strategy.batch_loss(samples([0, 1], [4, 5], 0), 0)
    fresh, _ = make()
    fresh.load_state_dict(strategy.state_dict())
    assert torch.equal(fresh.seen, strategy.seen) and len(fresh.buffer) == 2

    cfg = quick_config(strategy=ERACEConfig(buffer_size=50), train=TrainConfig(batch_size=16, iterations=12))
    straight = run_experiment(cfg, tmp_path / "straight")
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]
    assert straight["strategy_bytes"] == 50 * (64 + 8 + 8)  # 8×8 uint8 image, int64 label and task


def test_er_summed_as_caccia_et_al_adds_the_replayed_loss_to_the_incoming():
    strategy, z = make()
    er = ExperienceReplay(strategy.model, strategy.scenario, SCHEDULE, torch.Generator().manual_seed(0),
                          ERConfig(buffer_size=10, replay_batch_size=10, weighting="sum"))
    er.batch_loss(samples([0, 1], [4, 5], 0), 0)
    loss = er.batch_loss(samples([2, 3], [0, 1], 1), 1).item()
    z = z.tolist()
    units = range(6)
    expected = ((cross_entropy(z[2], 0, units) + cross_entropy(z[3], 1, units)) / 2
                + (cross_entropy(z[0], 4, units) + cross_entropy(z[1], 5, units)) / 2)
    assert loss == pytest.approx(expected, rel=1e-6)
