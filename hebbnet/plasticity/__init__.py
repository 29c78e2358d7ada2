"""Synaptic mechanisms beyond a single rule: two-timescale consolidation with tagging and
capture, and schedules of plasticity over time (critical periods)."""

from hebbnet.plasticity.consolidation import TagAndCapture
from hebbnet.plasticity.schedules import CriticalPeriod, PlasticitySchedule

__all__ = ["CriticalPeriod", "PlasticitySchedule", "TagAndCapture"]
