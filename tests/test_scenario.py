import pytest
import torch
import torch.nn.functional as F

from hebbnet.continual.benchmark import split_tasks
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.data import load_dataset


@pytest.fixture(scope="module")
def split_digits():
    return split_tasks(load_dataset("digits"), 2, 5, [1, 0, 3, 2, 5, 4, 7, 6, 9, 8])


def test_domain_scenario_uses_within_task_labels(split_digits):
    scenario = Scenario.from_benchmark("domain", split_digits)
    assert scenario.n_outputs == 2
    experience = scenario.relabel(split_digits.experiences[1])  # classes (3, 2)
    original = split_digits.experiences[1].train.y
    assert torch.equal(experience.train.y, (original == 2).long())
    assert scenario.train_mask(1, experience.train.t) is None
    assert scenario.test_mask(1) is None


def test_task_scenario_masks_each_sample_to_its_own_task(split_digits):
    scenario = Scenario.from_benchmark("task", split_digits)
    mask = scenario.train_mask(3, torch.tensor([0, 3]))
    assert mask[0].nonzero().flatten().tolist() == [0, 1]
    assert mask[1].nonzero().flatten().tolist() == [6, 7]
    assert scenario.test_mask(2).nonzero().flatten().tolist() == [4, 5]


def test_class_scenario_trains_on_seen_classes_and_tests_on_all(split_digits):
    scenario = Scenario.from_benchmark("class", split_digits)
    assert scenario.n_outputs == 10
    mask = scenario.train_mask(1, torch.tensor([1, 1, 0]))
    assert mask.shape == (3, 10)
    assert mask[0].nonzero().flatten().tolist() == [0, 1, 2, 3]
    assert scenario.test_mask(1) is None


def test_full_class_head_trains_every_unit_from_the_first_task(split_digits):
    scenario = Scenario.from_benchmark("class", split_digits, class_head="full")
    assert scenario.train_mask(0, torch.tensor([0])).all()
    with pytest.raises(ValueError, match="expanding, full"):
        Scenario.from_benchmark("class", split_digits, class_head="growing")


def test_masked_units_never_win_and_get_no_gradient():
    logits = torch.tensor([[5.0, 1.0, 0.0]], requires_grad=True)
    active = torch.tensor([[False, True, True]])
    masked = mask_logits(logits, active)
    assert masked.argmax(1).item() == 1
    F.cross_entropy(masked, torch.tensor([2])).backward()
    assert logits.grad[0, 0] == 0
    assert logits.grad[0, 1] > 0 > logits.grad[0, 2]


def test_unknown_scenario_lists_valid_ones(split_digits):
    with pytest.raises(ValueError, match="task, domain, class"):
        Scenario.from_benchmark("instance", split_digits)
