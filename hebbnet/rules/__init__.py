"""Local plasticity rules: pure update functions, and modules that hold their parameters and state.

``make_rule("oja", n_in, n_out)`` builds a rule by name; pass an instance (``SoftHebb(0.5)``)
or a plain function ``f(pre, post, weight) -> ΔW`` to a layer for anything else.
"""

from __future__ import annotations

import inspect

from hebbnet.rules.base import (
    FunctionRule,
    OuterUpdate,
    PlasticityRule,
    batch_outer,
    implicit_step,
)
from hebbnet.rules.bcm import BCM, bcm_threshold, bcm_update
from hebbnet.rules.calcium import CalciumRule
from hebbnet.rules.competitive import (
    Competitive,
    KrotovHopfield,
    instar_update,
    k_winners,
    krotov_hopfield_update,
)
from hebbnet.rules.hebbian import Hebb, Oja, Sanger, hebb_update, oja_update, sanger_update
from hebbnet.rules.kohonen import Kohonen, neighbourhood, sheet_coordinates
from hebbnet.rules.softhebb import (
    SoftHebb,
    anti_hebbian_credit,
    norm_adaptive_rate,
    softhebb_update,
)
from hebbnet.rules.stdp import (
    STDP,
    RewardModulatedSTDP,
    TripletSTDP,
    pair_stdp_update,
    trace_step,
    triplet_stdp_update,
)
from hebbnet.rules.three_factor import (
    RewardModulatedHebb,
    eligibility_trace,
    modulated_update,
    reward_prediction_error,
)

RULES: dict[str, type[PlasticityRule]] = {
    "hebb": Hebb,
    "oja": Oja,
    "sanger": Sanger,
    "bcm": BCM,
    "competitive": Competitive,
    "krotov_hopfield": KrotovHopfield,
    "softhebb": SoftHebb,
    "reward_hebb": RewardModulatedHebb,
    "stdp": STDP,
    "triplet_stdp": TripletSTDP,
    "reward_stdp": RewardModulatedSTDP,
    "calcium": CalciumRule,
    "kohonen": Kohonen,
}


def make_rule(rule, n_in: int, n_out: int, **kwargs) -> PlasticityRule:
    """A rule from a name in :data:`RULES`, a :class:`PlasticityRule`, or an update function."""
    if isinstance(rule, PlasticityRule):
        return rule
    if callable(rule):
        return FunctionRule(rule)
    if rule not in RULES:
        raise ValueError(f"Unknown plasticity rule {rule!r}; valid: {', '.join(RULES)}, "
                         "a PlasticityRule instance, or a function f(pre, post, weight).")
    cls = RULES[rule]
    sizes = {"n_in": n_in, "n_out": n_out}
    parameters = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in sizes.items() if k in parameters}, **kwargs)


__all__ = [
    "BCM", "RULES", "STDP", "CalciumRule", "Competitive", "FunctionRule", "Hebb",
    "Kohonen", "KrotovHopfield", "Oja", "OuterUpdate", "PlasticityRule", "RewardModulatedHebb",
    "RewardModulatedSTDP",
    "Sanger", "SoftHebb", "TripletSTDP", "anti_hebbian_credit", "batch_outer", "bcm_threshold",
    "bcm_update", "eligibility_trace", "hebb_update", "implicit_step", "instar_update",
    "k_winners", "krotov_hopfield_update", "make_rule", "modulated_update", "neighbourhood",
    "norm_adaptive_rate",
    "oja_update", "pair_stdp_update", "reward_prediction_error", "sanger_update",
    "sheet_coordinates", "softhebb_update", "trace_step", "triplet_stdp_update",
]
