"""Plasticity schedules: how plastic a layer is as a function of its experience.

A schedule gives a gain g(t) ≥ 0 at the layer's t-th plastic update; the layer then steps
``lr·g(t)`` (``update="local"``) or writes ``g(t)·(−ΔW)`` into ``.grad`` (``"grad"``). With
g(t) = 0 the weights do not move (the rule's own state, a BCM threshold or an eligibility
trace, still follows the activity). Homeostasis is not scaled.

* :class:`PlasticitySchedule`: piecewise linear through given (update, gain) points.
* :class:`CriticalPeriod`: low before the window opens, high inside it, falling to a low
  floor when it closes — the window of ocular-dominance plasticity in visual cortex (Hubel &
  Wiesel 1970; Hensch 2005). The closure is held by "brakes" (perineuronal nets, myelin-
  associated signals, Lynx1); :meth:`PlasticitySchedule.lift_brake` reopens plasticity in the
  adult, as digesting the nets does (Pizzorusso et al. 2002), until
  :meth:`PlasticitySchedule.apply_brake`.

The update count lives in the schedule (saved with the layer): a resumed run continues at the
same point of its schedule.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from torch import nn


class PlasticitySchedule(nn.Module):
    """g(t) piecewise linear through ``(times[k], gains[k])``, constant before the first point
    and after the last; two equal times make a step.

    Args:
        times: plastic updates, non-decreasing, the first ≥ 0.
        gains: the gain at each time, ≥ 0.
    """

    def __init__(self, times: Sequence[float], gains: Sequence[float]):
        super().__init__()
        times, gains = [float(t) for t in times], [float(g) for g in gains]
        if not times or len(times) != len(gains):
            raise ValueError(f"A plasticity schedule needs as many gains as times (at least one);"
                             f" got {len(times)} times, {len(gains)} gains.")
        if times[0] < 0 or any(b < a for a, b in zip(times, times[1:])):
            raise ValueError(f"Schedule times must be >= 0 and non-decreasing (two equal times "
                             f"make a step); got {times}.")
        if min(gains) < 0:
            raise ValueError(f"Schedule gains must be >= 0; got {gains}.")
        self.times, self.gains = times, gains
        self.updates = 0
        self.lifted: float | None = None  # the gain while the brake is lifted

    def gain_at(self, t: float) -> float:
        """g(t), ignoring the brake."""
        k = bisect.bisect_right(self.times, t)
        if k == 0:
            return self.gains[0]
        if k == len(self.times):
            return self.gains[-1]
        t0, t1, g0, g1 = self.times[k - 1], self.times[k], self.gains[k - 1], self.gains[k]
        return g0 + (g1 - g0) * (t - t0) / (t1 - t0)

    def gain(self) -> float:
        """The gain for the next plastic update."""
        return self.lifted if self.lifted is not None else self.gain_at(self.updates)

    def advance(self) -> float:
        """The gain for this plastic update; then count it."""
        gain = self.gain()
        self.updates += 1
        return gain

    def lift_brake(self, gain: float | None = None) -> None:
        """Plasticity at ``gain`` (default: the schedule's largest) until :meth:`apply_brake`."""
        gain = max(self.gains) if gain is None else float(gain)
        if gain < 0:
            raise ValueError(f"A lifted brake's gain must be >= 0, got {gain}.")
        self.lifted = gain

    def apply_brake(self) -> None:
        """Back to the schedule."""
        self.lifted = None

    def get_extra_state(self) -> dict:
        return {"updates": self.updates, "lifted": self.lifted}

    def set_extra_state(self, state: dict) -> None:
        self.updates, self.lifted = state["updates"], state["lifted"]

    def extra_repr(self) -> str:
        return f"times={self.times}, gains={self.gains}"


class CriticalPeriod(PlasticitySchedule):
    """A window of heightened plasticity: ``before`` until ``opens``, ``peak`` from ``opens``
    to ``closes``, then falling linearly over ``closing`` updates to ``after``.

    Args:
        opens, closes: the window, in plastic updates (0 ≤ opens < closes).
        peak: the gain inside the window.
        before, after: the gains before it opens and once it has closed (≤ peak).
        closing: updates over which the gain falls from ``peak`` to ``after`` (> 0).
    """

    def __init__(self, opens: float, closes: float, peak: float = 1.0, before: float = 0.0,
                 after: float = 0.0, closing: float = 1.0):
        if not 0 <= opens < closes or closing <= 0:
            raise ValueError(f"A critical period needs 0 <= opens < closes and closing > 0; got "
                             f"opens={opens}, closes={closes}, closing={closing}.")
        if max(before, after) > peak:
            raise ValueError(f"A critical period is a window of heightened plasticity: before "
                             f"({before}) and after ({after}) must not exceed peak ({peak}).")
        times, gains = [opens, closes, closes + closing], [peak, peak, after]
        if opens > 0:
            times, gains = [0.0, opens, *times], [before, before, *gains]
        super().__init__(times, gains)
        self.opens, self.closes = opens, closes

    @property
    def open(self) -> bool:
        return self.opens <= self.updates < self.closes or self.lifted is not None
