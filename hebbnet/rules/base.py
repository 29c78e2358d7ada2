"""What every local plasticity rule provides.

Shapes: ``pre`` is (B, n_in), the presynaptic activity; ``u`` is (B, n_out), the postsynaptic
drive ``W·pre (+ b)``; ``post`` is (B, n_out), the response the layer outputs; ``weight`` is
(n_out, n_in). An update ΔW has the weight's shape, is averaged over the batch, and carries no
learning rate: the layer applies ``W ← W + lr·ΔW`` (or hands ``-ΔW`` to an optimizer as ``.grad``).

A rule is an ``nn.Module`` so that its state (a sliding threshold, an eligibility trace) lives
in buffers: it moves with ``.to()`` and is saved in the layer's ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

UpdateFunction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class OuterUpdate:
    r"""A weight change in outer-product form,

    .. math:: \Delta W = \langle p\, x^\top\rangle - \operatorname{diag}(c)\, W,

    with p = ``post`` (B, n_out) — any per-unit factor of the Hebbian term already folded in —
    x = ``pre`` (B, n_in) (a difference of two such terms stacks them: 2B rows and
    ``batch=B``), the per-unit decay c = ``decay`` (n_out,) or None, and the per-unit
    restoring stiffness L = ``restoring`` (n_out,) or None that a layer takes implicitly (see
    :func:`implicit_step`). Most rules have this form; a layer then applies it in place with
    one ``addmm_`` and at most one scaling pass over W, never building ΔW
    (:meth:`hebbnet.layers.plastic.PlasticLayer.apply_outer`).
    """

    post: torch.Tensor
    pre: torch.Tensor
    decay: torch.Tensor | None = None
    restoring: torch.Tensor | None = None
    batch: int | None = None  # the samples ⟨·⟩ averages over; None: len(pre)

    @property
    def samples(self) -> int:
        return len(self.pre) if self.batch is None else self.batch

    def delta(self, weight: torch.Tensor) -> torch.Tensor:
        """ΔW itself, (n_out, n_in): the reference the in-place application is tested against."""
        change = self.post.T @ self.pre / self.samples
        return change if self.decay is None else change - self.decay[:, None] * weight


class PlasticityRule(nn.Module):
    """Base class: the postsynaptic response and the weight change a batch causes.

    Subclass and override :meth:`update` (and :meth:`respond` when the response is not the
    drive itself) to write a new rule; nothing in the library needs to change. A rule whose
    change has the outer-product form of :class:`OuterUpdate` overrides
    :meth:`outer_update` instead, and layers apply it without building ΔW.
    """

    def respond(self, u: torch.Tensor) -> torch.Tensor:
        """The postsynaptic response to the drive ``u`` (identity: a linear neuron)."""
        return u

    @property
    def stabilising(self) -> bool:
        """Whether the rule's own terms hold the weights bounded (Oja, BCM, SoftHebb, Hebb
        with decay); a diverging layer's error suggests a stabilising rule when it is not."""
        return False

    @property
    def takes_spikes(self) -> bool:
        """Whether the rule learns from spikes, values 0 or 1 (a trace adds each value as one
        spike); a spiking layer learning by it refuses other input."""
        return False

    def check_units(self, n_out: int) -> None:
        """Raise a ValueError naming the fix if the rule cannot run on a layer of ``n_out``
        units (a layer calls it when built); any size by default."""

    def silence_hint(self, pre: torch.Tensor, lr: float) -> str | None:
        """For a rule whose response can fall silent (a rectified unit whose drive stays below
        0): why every unit of a layer learning at rate ``lr`` may answer 0 to the non-zero
        batch ``pre`` (B, n_in), and the fix. None (the default) for a response that cannot
        (linear, a softmax, a neighbourhood): a layer then does not check for silence."""
        return None

    def outer_update(
        self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor, weight: torch.Tensor
    ) -> OuterUpdate | None:
        """This batch's change in :class:`OuterUpdate` form; None when the rule has no such
        form now (a layer then calls :meth:`update` and :meth:`restoring`)."""
        return None

    def update(
        self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor, weight: torch.Tensor
    ) -> torch.Tensor | None:
        """ΔW for one batch (batch-averaged, without learning rate); None for no change now.
        By default the ΔW of :meth:`outer_update`."""
        outer = self.outer_update(pre, post, u, weight)
        if outer is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither update nor "
                                      "outer_update.")
        return outer.delta(weight)

    def restoring(
        self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor, weight: torch.Tensor
    ) -> torch.Tensor | None:
        """The coefficients L ≥ 0 of the term −L·W with which the ΔW of :meth:`update` pulls the
        weights back, for the batch it has just seen (an :class:`OuterUpdate` carries its own):
        an (n_out,) diagonal or an (n_out, n_out) lower-triangular matrix; None for a rule
        without one. A layer applying the update itself takes that term implicitly
        (:func:`implicit_step`)."""
        return None

    def reset(self) -> None:
        """Forget the rule's state (thresholds, traces); stateless rules have nothing to do."""

    def reset_units(self, units: torch.Tensor) -> None:
        """Start the per-unit state of ``units`` (indices) afresh: units just born."""


class FunctionRule(PlasticityRule):
    """Wraps a plain function ``f(pre, post, weight) -> ΔW`` as a rule with a linear response."""

    def __init__(self, function: UpdateFunction):
        super().__init__()
        self.function = function

    def update(self, pre, post, u, weight):
        return self.function(pre, post, weight)

    def extra_repr(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


class ResizableBuffers:
    """Mixin for modules whose buffers take their size from the data (per-sample traces, a
    copy of the weights made on first use): ``load_state_dict`` gives each buffer named in
    :meth:`resizable_buffers` the saved size before copying into it."""

    def resizable_buffers(self) -> tuple[str, ...]:
        return ()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in self.resizable_buffers():
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name],
                                                     device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def implicit_step(delta: torch.Tensor, restoring: torch.Tensor | None,
                  lr: float) -> torch.Tensor:
    r"""The update to apply at rate ``lr`` so that the restoring term of ΔW = H − L·W is taken
    implicitly (backward Euler): :math:`\Delta W' = (I + \eta L)^{-1}\, \Delta W`, since then

    .. math:: W + \eta\,\Delta W' = (I + \eta L)^{-1} (W + \eta H).

    For Oja that is :math:`W_i \leftarrow (W_i + \eta\langle y_i x\rangle)/(1 + \eta\langle
    y_i^2\rangle)`. To first order in η it is the explicit step η·ΔW, but it never overshoots:
    the explicit step flips and amplifies W once η·L > 2, which large inputs (|x| ~ 10⁶) reach
    at any usable rate. ``restoring`` is L's diagonal (n_out,) or the lower-triangular matrix
    (n_out, n_out); None leaves ΔW as it is. Half-precision systems are solved in float32 and
    the step is returned in float32: a strong restoring term makes η·ΔW' nearly −W, and
    rounding it to bfloat16 before the sum would cancel whole rows to exactly 0 (Sanger's rule
    on 10⁶ input lost every row within 1,200 updates), where an in-place ``W.add_`` of the
    float32 step rounds the sum once.
    """
    if restoring is None:
        return delta
    if restoring.ndim == 1:
        return delta / (1 + lr * restoring)[:, None]
    system = torch.eye(len(restoring), device=delta.device) + lr * restoring.float()
    return torch.linalg.solve_triangular(system, delta.float(), upper=False)


def batch_outer(post: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
    """⟨post preᵀ⟩ over the batch: (B, n_out), (B, n_in) → (n_out, n_in)."""
    return post.T @ pre / post.shape[0]
