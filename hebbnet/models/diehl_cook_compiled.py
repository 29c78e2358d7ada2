"""The Diehl & Cook presentation as one compiled loop (Numba) for CPU tensors.

The same equations, in the same order of operations, as ``DiehlCook2015.present`` with
``backend="torch"`` (see ``diehl_cook.py`` for them): per step, each sample's drive is summed
from the weight rows of the inputs that fired, its membranes relax and integrate, one neuron at
most fires; then the batch's weight changes are applied. Compiled, one step costs about as much
as its arithmetic — a few input rows and one neuron row per sample — where the torch loop pays
some thirty tensor calls per step, which dominates at the sizes of this network.

Two bookkeeping shortcuts keep the work proportional to the spikes, and neither changes a
number: an input trace is read from a table of the powers a, a·a, … (in float32, as the running
product rounds them) indexed by the steps since the input last fired, instead of decaying every
trace at every step; and weights are clamped to [0, w_max] only where they changed — the rows
of inputs that fired and the columns of neurons that fired — except at the first learning step,
which clamps all, as normalisation between presentations may leave weights above w_max.
"""

from __future__ import annotations

import numba
import numpy as np
import torch


def present_compiled(net, inputs: torch.Tensor, bag_start: torch.Tensor,
                     lottery: torch.Tensor, batch: int) -> torch.Tensor:
    """Run one presentation of ``net`` (a ``DiehlCook2015`` on the CPU), updating its weight
    and θ in place while training. ``inputs`` are the input indices in (step, sample) order,
    ``bag_start`` (steps · batch + 1) where each (step, sample) starts in them, ``lottery``
    (steps, batch) the uniforms that pick one neuron among those that crossed. Returns the
    spikes (steps, batch, neurons)."""
    p = net.params
    dtype = net.weight.numpy().dtype.type
    decay = p.decays()
    spikes = np.zeros((p.steps, batch, p.n_neurons), dtype=np.bool_)
    theta = net.theta.numpy().copy()
    constants = np.array([
        decay["mem"], p.v_rest * (1 - decay["mem"]), p.v_rest, p.v_reset, p.v_threshold,
        p.dt, p.refractory, p.inhibition, decay["theta"], p.theta_plus, p.nu_pre, p.nu_post,
        decay["post1"], decay["post2"], p.w_max], dtype=dtype)
    _present(net.weight.numpy(), theta, net.plasticity_gain().numpy(), inputs.numpy(),
             bag_start.numpy(),
             lottery.numpy(), spikes, constants, _trace_table(decay["pre"], p.steps, dtype),
             p.inhibition_delay, net.training, p.rule == "triplet")
    if net.training:
        net.theta.copy_(torch.from_numpy(theta))
    return torch.from_numpy(spikes)


def _trace_table(decay: float, steps: int, dtype) -> np.ndarray:
    """table[k]: a trace set to 1 and multiplied by ``decay`` k times, rounded at each step."""
    table = np.ones(steps + 1, dtype=dtype)
    factor = dtype(decay)
    for k in range(1, steps + 1):
        table[k] = table[k - 1] * factor
    return table


@numba.njit(cache=True, nogil=True)
def _present(weight, theta, gain, inputs, bag_start, lottery, spikes, constants, trace_table,
             delay, training, triplet):
    (a_mem, leak, v_rest, v_reset, v_threshold, dt, refractory_time, inhibition, a_theta,
     theta_plus, nu_pre, nu_post, a_post1, a_post2, w_max) = constants
    steps, batch, n = spikes.shape
    v = np.full((batch, n), v_rest, dtype=weight.dtype)
    refractory = np.zeros((batch, n), dtype=weight.dtype)
    pending = np.zeros((delay, batch, n), dtype=weight.dtype)
    post1 = np.zeros((batch, n), dtype=weight.dtype)
    post2 = np.zeros((batch, n), dtype=weight.dtype)
    last_input_spike = np.full((batch, weight.shape[0]), -1, dtype=np.int64)
    drive = np.zeros(n, dtype=weight.dtype)
    crossings = np.zeros(n, dtype=np.int64)
    winner = np.full(batch, -1, dtype=np.int64)
    for t in range(steps):
        crossings[:] = 0
        for b in range(batch):
            bag = t * batch + b
            winner[b] = _integrate_and_fire(
                weight, inputs[bag_start[bag]:bag_start[bag + 1]], theta, v[b], refractory[b],
                pending[t % delay, b], drive, crossings, lottery[t, b], a_mem, leak, v_reset,
                v_threshold, dt, refractory_time, inhibition)
            if winner[b] >= 0:
                spikes[t, b, winner[b]] = True
        if training:
            for j in range(n):
                theta[j] = theta[j] * a_theta + theta_plus * weight.dtype.type(crossings[j])
            _learn(weight, gain, inputs, bag_start, t, winner, post1, post2, last_input_spike,
                   trace_table, nu_pre, nu_post, a_post1, a_post2, w_max, triplet)


@numba.njit(cache=True, nogil=True)
def _integrate_and_fire(weight, rows, theta, v, refractory, pending, drive, crossings, uniform,
                        a_mem, leak, v_reset, v_threshold, dt, refractory_time, inhibition):
    """One sample, one step: sum the drive of the input ``rows`` that fired, relax and
    integrate the membranes ``v`` (not while refractory), reset every neuron that crossed
    (counted in ``crossings``), pick the one that fires — the k-th crosser, k = ⌊u·count⌋ —
    and queue its inhibition in ``pending``. Returns that neuron, or -1."""
    n = len(v)
    drive[:] = 0
    for row in rows:
        for j in range(n):
            drive[j] += weight[row, j]
    count = 0
    for j in range(n):
        u = v[j] * a_mem + leak
        if refractory[j] <= 0:
            u = u + (drive[j] - pending[j])
        v[j] = u
        if u >= v_threshold + theta[j]:
            count += 1
    winner = -1
    k = int(uniform * type(uniform)(count))
    for j in range(n):
        if v[j] >= v_threshold + theta[j]:
            if k == 0:
                winner = j
            k -= 1
            crossings[j] += 1
            v[j] = v_reset
            refractory[j] = refractory_time
        else:
            refractory[j] -= dt
    for j in range(n):
        pending[j] = inhibition if count > 0 and j != winner else 0
    return winner


@numba.njit(cache=True, nogil=True)
def _learn(weight, gain, inputs, bag_start, t, winner, post1, post2, last_input_spike,
           trace_table, nu_pre, nu_post, a_post1, a_post2, w_max, triplet):
    """Step t's weight change summed over the batch: depression of the rows of the inputs that
    fired by ν_pre·y1·g, potentiation of the winners' columns by ν_post·x·y2(t⁻)·g (g: each
    neuron's ``gain``, 1 without metaplasticity)."""
    batch, n = post1.shape
    n_inputs = weight.shape[0]
    zero = weight.dtype.type(0)
    for b in range(batch):
        for e in range(bag_start[t * batch + b], bag_start[t * batch + b + 1]):
            row = inputs[e]
            last_input_spike[b, row] = t
            for j in range(n):
                weight[row, j] += -nu_pre * (post1[b, j] * gain[j])
    for b in range(batch):
        post2[b] *= a_post2
        j = winner[b]
        if j >= 0:
            teach = nu_post * (post2[b, j] * gain[j]) if triplet else nu_post * gain[j]
            for i in range(n_inputs):
                if last_input_spike[b, i] >= 0:
                    weight[i, j] += trace_table[t - last_input_spike[b, i]] * teach
    if t == 0:
        np.clip(weight, zero, w_max, weight)
    else:
        for e in range(bag_start[t * batch], bag_start[(t + 1) * batch]):
            np.clip(weight[inputs[e]], zero, w_max, weight[inputs[e]])
        for b in range(batch):
            if winner[b] >= 0:
                np.clip(weight[:, winner[b]], zero, w_max, weight[:, winner[b]])
    for b in range(batch):
        post1[b] *= a_post1
        if winner[b] >= 0:
            post1[b, winner[b]] = 1
            post2[b, winner[b]] = 1
