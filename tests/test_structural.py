"""Synapse turnover and plasticity schedules on plastic layers (issue 16)."""

import subprocess
import sys

import pytest
import torch

from hebbnet.homeostasis import IntrinsicPlasticity, SynapticScaling
from hebbnet.layers import HebbianConv2d, HebbianLinear, SpikingLinear
from hebbnet.plasticity import CriticalPeriod, PlasticitySchedule, TagAndCapture
from hebbnet.signatures import (
    FINGERS,
    amputation,
    dentate_codes_across_tasks,
    develop_map,
    map_expansion,
    monocular_deprivation,
    neurogenesis_for_a_new_class,
    reward_capture,
    skin_regions,
    synapse_turnover,
)
from hebbnet.structural import (
    Neurogenesis,
    SynapseTurnover,
    rewire,
    structure_report,
    turnover_fraction,
)


def test_budget_is_kept_and_the_rate_of_the_budget_is_replaced_each_period():
    torch.manual_seed(0)
    turnover = SynapseTurnover(density=0.25, rate=0.1, period=5)
    layer = HebbianLinear(40, 10, rule="oja", structure=turnover)
    assert turnover.synapses == 100
    generator = torch.Generator().manual_seed(0)
    for period in range(4):
        before = turnover.mask.clone()
        for _ in range(5):
            layer(torch.rand(16, 40, generator=generator))
        assert turnover.synapses == 100
        assert turnover_fraction(before, turnover.mask) == pytest.approx(0.1)
        assert int(turnover.rewirings) == period + 1
    assert int(turnover.replaced) == 40 and float(turnover.last_turnover) == pytest.approx(0.1)


@pytest.mark.parametrize("update", ["local", "grad"])
def test_absent_synapses_are_zero_in_the_forward_pass_and_in_every_update(update):
    turnover = SynapseTurnover(density=0.3, rate=0.2, period=3, new_weight=0.05)
    layer = HebbianLinear(30, 6, rule="hebb", lr=0.1, update=update, structure=turnover)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01, weight_decay=0.1)
    generator = torch.Generator().manual_seed(1)
    for _ in range(10):
        x = torch.rand(8, 30, generator=generator)
        optimizer.zero_grad()
        expected = x @ (layer.weight * turnover.mask).T  # the drive ignores absent synapses
        assert torch.allclose(layer(x), expected)
        assert not layer.weight[~turnover.mask].any()
        if update == "grad":
            assert not layer.weight.grad[~turnover.mask].any()
            optimizer.step()  # Adam's momentum and the decay may move them ...
    layer(torch.rand(8, 30, generator=generator))
    assert not layer.weight[~turnover.mask].any()  # ... the next forward pass zeroes them


def test_new_synapses_start_weak_and_are_spared_the_next_pruning():
    weight = torch.arange(1.0, 11.0)
    mask = torch.tensor([True] * 6 + [False] * 4)
    protected = torch.tensor([True, True] + [False] * 8)
    pruned, grown = rewire(weight, mask, protected, 2, None, 0.0, torch.Generator().manual_seed(0))
    assert sorted(pruned.tolist()) == [2, 3]  # the weakest unprotected, not 0 and 1
    assert set(grown.tolist()) <= {6, 7, 8, 9} and len(grown) == 2
    assert weight[grown].eq(0).all() and mask.sum() == 6


def test_learned_associations_survive_and_connectivity_follows_the_inputs():
    coactive = synapse_turnover(seed=0)
    assert set(coactive.synapses) == {128}  # the budget, every period
    assert all(f == pytest.approx(13 / 128) for f in coactive.new_fraction)
    assert coactive.associated_survival > 0.7 and coactive.other_survival < 0.3
    assert coactive.share_on_second_half[29] < 0.05  # inputs 32-63 silent in phase 1
    assert coactive.share_on_second_half[-1] > 0.95  # then they hold the synapses
    weak = synapse_turnover(seed=0, prune="weak")  # strong synapses on silent inputs stay
    assert weak.share_on_second_half[-1] < 0.8


def test_turnover_resumes_bit_exactly_from_a_state_dict():
    def build():
        torch.manual_seed(0)
        return HebbianLinear(20, 5, rule="oja", schedule=CriticalPeriod(0, 8, after=0.2),
                             structure=SynapseTurnover(density=0.5, rate=0.2, period=2,
                                                       growth="coactive", seed=7))

    generator = torch.Generator().manual_seed(4)
    inputs = [torch.rand(4, 20, generator=generator) for _ in range(12)]
    whole = build()
    for x in inputs:
        whole(x)
    first, second = build(), build()
    for x in inputs[:5]:
        first(x)
    second.load_state_dict(first.state_dict())
    for x in inputs[5:]:
        second(x)
    assert torch.equal(whole.weight, second.weight)
    assert torch.equal(whole.structure.mask, second.structure.mask)
    assert whole.schedule.updates == second.schedule.updates == 12


def test_turnover_on_convolutional_and_spiking_layers():
    conv = HebbianConv2d(2, 4, 3, structure=SynapseTurnover(density=0.5, rate=0.25, period=1))
    conv(torch.rand(2, 2, 6, 6))
    assert not conv.weight[~conv.structure.mask].any() and conv.structure.synapses == 36
    spiking = SpikingLinear(30, 5, structure=SynapseTurnover(density=0.2, period=1))
    assert (spiking.weight != 0).sum() <= 30
    spiking(torch.ones(1, 30))
    assert not spiking.weight[~spiking.structure.mask].any()


@pytest.mark.parametrize("options, message", [
    (dict(density=0.5, rate=-0.1), "rate"),
    (dict(density=0.5, rate=0.6), "rate"),
    (dict(density=0.0), "density"),
    (dict(density=0.5, budget=10), "one of density"),
    (dict(budget=1000), "budget 1000 does not fit"),
    (dict(density=0.99, rate=0.5), "absent to grow"),
    (dict(density=0.5, period=0), "period"),
    (dict(density=0.5, growth="sprout"), "growth"),
    (dict(density=0.5, prune="oldest"), "prune"),
])
def test_bad_turnover_settings_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        HebbianLinear(20, 10, structure=SynapseTurnover(**options))


def test_a_schedule_scales_the_step_and_a_closed_period_freezes_the_weights():
    schedule = CriticalPeriod(opens=2, closes=4, peak=1.0, before=0.5, after=0.0, closing=2)
    assert [schedule.gain_at(t) for t in range(7)] == [0.5, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
    scheduled = HebbianLinear(6, 3, rule="hebb", lr=0.1, schedule=schedule)
    plain = HebbianLinear(6, 3, rule="hebb", lr=0.1)
    plain.load_state_dict(scheduled.state_dict(), strict=False)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(5))
    before = scheduled.weight.clone()
    scheduled(x)
    plain.lr = 0.05
    plain(x)
    assert torch.allclose(scheduled.weight, plain.weight)  # gain 0.5 = half the rate
    for _ in range(5):
        scheduled(x)
    frozen = scheduled.weight.clone()
    scheduled(x)
    assert torch.equal(scheduled.weight, frozen) and not torch.equal(frozen, before)
    schedule.lift_brake()
    scheduled(x)
    assert not torch.equal(scheduled.weight, frozen)  # the brake lifted, it learns again
    schedule.apply_brake()
    assert schedule.gain() == 0.0


def test_a_schedule_scales_the_gradient_in_grad_mode():
    layer = HebbianLinear(6, 3, rule="hebb", update="grad", schedule=PlasticitySchedule([0], [0.25]))
    reference = HebbianLinear(6, 3, rule="hebb", update="grad")
    reference.load_state_dict(layer.state_dict(), strict=False)
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(6))
    layer(x)
    reference(x)
    assert torch.allclose(layer.weight.grad, 0.25 * reference.weight.grad)


@pytest.mark.parametrize("build, message", [
    (lambda: PlasticitySchedule([0, 5, 3], [1, 1, 1]), "non-decreasing"),
    (lambda: PlasticitySchedule([0, 5], [1, -1]), ">= 0"),
    (lambda: PlasticitySchedule([0, 5], [1]), "as many gains"),
    (lambda: CriticalPeriod(opens=5, closes=5), "opens < closes"),
    (lambda: CriticalPeriod(opens=0, closes=5, peak=0.5, after=1.0), "must not exceed peak"),
])
def test_bad_schedules_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_layers_name_a_wrong_schedule_or_structure_type():
    with pytest.raises(TypeError, match="schedule= takes a PlasticitySchedule"):
        HebbianLinear(4, 2, schedule=0.5)
    with pytest.raises(TypeError, match="structure= takes a SynapseTurnover"):
        HebbianLinear(4, 2, structure=torch.ones(2, 4))


def test_a_finger_used_more_takes_more_of_the_map_the_more_it_is_used():
    areas = map_expansion([1, 2, 4], finger=2, seed=0)
    assert areas[0] <= 12 and areas[0] < areas[1] < areas[2] and areas[2] >= 2 * areas[0], areas


def test_the_neighbours_of_an_amputated_finger_take_over_its_territory():
    result = amputation(finger=2, seed=0)
    assert result.before[2] >= 8 and result.after[2] == 0
    assert result.former_territory_now[1] + result.former_territory_now[3] == result.before[2]
    assert result.after[1] > result.before[1] and result.after[3] > result.before[3]


def test_topographic_map_reads_out_territories_and_names_a_wrong_region_map():
    layer, _ = develop_map([1.0] * FINGERS, seed=1, steps=300)
    territory = layer.territory(skin_regions(), FINGERS)
    assert territory.sum() == 50 and len(territory) == FINGERS
    with pytest.raises(ValueError, match="one region per input point"):
        layer.territory(torch.zeros(10, dtype=torch.long))


def test_monocular_deprivation_shifts_dominance_for_good_only_in_the_critical_period():
    inside = monocular_deprivation(deprive_at=1000, closes=2000, seed=0)
    after = monocular_deprivation(deprive_at=2000, closes=2000, seed=0)
    assert abs(float(inside.before.mean())) < 0.1  # binocular before
    assert inside.shift > 0.4 and inside.lasting_shift > 0.4  # stays after reopening the eye
    assert after.shift < 0.25 and inside.shift > 2 * after.shift


@pytest.mark.parametrize("package", ["hebbnet.layers", "hebbnet.structural", "hebbnet.plasticity",
                                     "hebbnet.rules", "hebbnet.signatures"])
def test_each_package_imports_first_in_a_fresh_interpreter(package):
    """An import cycle shows only when its package is the first one imported."""
    subprocess.run([sys.executable, "-c", f"import {package}"], check=True)


def test_unborn_units_output_nothing_never_win_and_do_not_learn():
    torch.manual_seed(0)
    layer = HebbianLinear(8, 6, rule="competitive", homeostasis=Neurogenesis(6, born=3))
    assert not layer.weight[3:].any()
    x = torch.rand(16, 8)
    y = layer(x)
    assert not y[:, 3:].any() and (y[:, :3] != 0).any(1).all()  # a born unit wins every sample
    assert not layer.weight[3:].any()
    oja = HebbianLinear(8, 6, rule="oja", homeostasis=Neurogenesis(6, born=2))
    assert not oja(x)[:, 2:].any()  # a linear response is gated too


def test_grown_units_start_young_excitable_and_learn_with_an_optimizer():
    torch.manual_seed(0)
    birth = Neurogenesis(5, born=3, excitability=2.0, maturation=10.0)
    layer = HebbianLinear(4, 5, rule="hebb", update="grad", homeostasis=birth)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        layer(torch.rand(8, 4))
        optimizer.step()
    new = layer.grow(2, init=torch.full((2, 4), 0.5))
    assert new.tolist() == [3, 4] and birth.born == 5
    assert torch.equal(layer.weight[3:], torch.full((2, 4), 0.5))
    x = torch.rand(8, 4)
    u = x @ layer.weight.T
    assert torch.allclose(birth.compete(u)[:, 3:], u[:, 3:] + 2.0)  # age 0: the whole bonus
    layer.eval()
    assert torch.allclose(layer(x), u + 2.0 * torch.exp(-birth.age / 10.0))  # the (linear)
    # response, the competition's, has every unit's bonus (ages 3 and 0) ...
    layer.output = "drive"
    assert torch.allclose(layer(x), u)  # ... the emitted drive is without it
    layer.train()
    layer.output = "response"
    optimizer.zero_grad()
    layer(x)
    optimizer.step()  # Adam's state for the new rows was zero: it steps them like any other
    assert not torch.equal(layer.weight[3:], torch.full((2, 4), 0.5))
    assert birth.age.tolist() == [4, 4, 4, 1, 1]


def test_a_newborn_starts_its_rule_and_homeostasis_state_afresh():
    """While unborn, a unit's intrinsic threshold sinks and its scaling rate falls (it is
    silent); born, it starts from the mechanisms' initial values, as does its BCM threshold;
    the other units keep theirs."""
    from hebbnet.rules import BCM

    torch.manual_seed(0)
    layer = HebbianLinear(6, 5, rule=BCM(5, theta0=0.5), homeostasis=[
        SynapticScaling(5, target=0.2), IntrinsicPlasticity(5, target=0.2),
        Neurogenesis(5, born=3)])
    for _ in range(20):
        layer(torch.rand(8, 6))
    scaling, intrinsic = layer.homeostasis[0], layer.homeostasis[1]
    assert (intrinsic.threshold[3:] < -0.003).all() and (scaling.rate[3:] < 0.2).all()
    before = (layer.rule.theta[:3].clone(), intrinsic.threshold[:3].clone(), scaling.rate[:3].clone())
    layer.grow(2)
    assert torch.equal(layer.rule.theta[3:], torch.full((2,), 0.5))
    assert torch.equal(intrinsic.threshold[3:], torch.zeros(2))
    assert torch.equal(scaling.rate[3:], torch.full((2,), 0.2))
    after = (layer.rule.theta[:3], intrinsic.threshold[:3], scaling.rate[:3])
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_neurogenesis_state_resumes_and_bad_growth_is_named():
    layer = HebbianLinear(4, 5, homeostasis=Neurogenesis(5, born=2))
    layer.grow(1)
    copy = HebbianLinear(4, 5, homeostasis=Neurogenesis(5, born=2))
    copy.load_state_dict(layer.state_dict())
    assert copy.homeostasis[0].born == 3
    with pytest.raises(ValueError, match="2 of the capacity 5 are unborn"):
        layer.grow(3)
    with pytest.raises(ValueError, match="must have shape"):
        layer.grow(1, init=torch.zeros(1, 3))
    with pytest.raises(TypeError, match="has no Neurogenesis"):
        HebbianLinear(4, 5).grow(1)
    with pytest.raises(ValueError, match="born <= capacity"):
        Neurogenesis(5, born=6)
    with pytest.raises(ValueError, match="must be the last"):
        HebbianLinear(4, 5, homeostasis=[Neurogenesis(5, 2), IntrinsicPlasticity(5, 0.1)])
    with pytest.raises(ValueError, match="does not take Neurogenesis"):
        SpikingLinear(4, 5, homeostasis=Neurogenesis(5, 2))


def test_units_born_for_a_new_class_take_it_and_the_old_units_keep_theirs():
    grown = neurogenesis_for_a_new_class(grow=4, seed=0)
    control = neurogenesis_for_a_new_class(grow=0, seed=0)
    calm = neurogenesis_for_a_new_class(grow=4, seed=0, excitability=0.0)
    assert grown.old_drift < 0.01 and grown.new_class_won_by_new_units > 0.95
    assert grown.old_accuracy_after >= grown.old_accuracy_before - 0.03
    assert grown.new_accuracy > 0.95
    assert control.old_drift > 0.2  # without newborns, old units are recruited for the 2s
    assert calm.old_drift > 0.1  # and without their excitability, too


def test_a_dentate_code_with_neurogenesis_separates_memories_in_time_and_loses_old_codes():
    """Excitable newborns take each task's codes: two tasks' codes overlap far less (Aimone's
    temporal separation); once they mature they win old inputs too, and an old memory's code
    is mostly gone by the end (Akers et al.'s neurogenesis-induced forgetting). A fixed code
    keeps every code."""
    fixed = dentate_codes_across_tasks(per_task=None)
    growing = dentate_codes_across_tasks(per_task=200, excitability=30.0)
    assert fixed.kept == [1.0] * 5
    assert growing.between_tasks < 0.25 * fixed.between_tasks
    assert max(growing.kept[:4]) < 0.5


def test_a_surge_no_prediction_cancels_captures_the_network_and_a_changed_signal_frees_it():
    natural = reward_capture(surge=0.0, trials=1000)
    captured = reward_capture(trials=1000)
    scaled = reward_capture(homeostasis=True, trials=1000)
    antagonist = reward_capture(remedy=(1.0, 0.0), trials=1000)
    assert natural.drug_share[1] < 0.5  # an ordinary reward shares the network with food
    assert captured.drug_share[1] > 0.95
    assert scaled.drug_share[1] > 0.95 and max(scaled.cue_drive[:3]) < 0.05  # bounded, not undone
    assert antagonist.drug_share[2] < natural.drug_share[1]  # the surge blocked: it is undone


def test_structure_report_names_every_structural_mechanism_of_a_model():
    model = torch.nn.Sequential(
        HebbianLinear(8, 6, structure=SynapseTurnover(density=0.5, rate=0.5, period=1)),
        HebbianLinear(6, 4, homeostasis=Neurogenesis(4, born=2)))
    model(torch.rand(3, 8))
    assert structure_report(model) == {"structure/0.structure/synapses": 24,
                                       "structure/0.structure/replaced": 12,
                                       "structure/0.structure/last_turnover": 0.5,
                                       "structure/1.homeostasis.0/born": 2}
    assert structure_report(torch.nn.Linear(2, 2)) == {}


def test_turnover_keeps_a_consolidated_copy_of_absent_synapses_at_zero():
    torch.manual_seed(0)
    layer = HebbianLinear(10, 4, rule="hebb", lr=0.1, consolidation=TagAndCapture(theta_tag=0.0),
                          structure=SynapseTurnover(density=0.5, rate=0.2, period=2))
    layer.consolidation.trigger(5.0)
    for _ in range(9):
        layer(torch.rand(8, 10))
    absent = ~layer.structure.mask
    assert not layer.consolidation.late[absent].any() and not layer.weight[absent].any()
    assert layer.consolidation.late[~absent].any()  # present synapses did consolidate
