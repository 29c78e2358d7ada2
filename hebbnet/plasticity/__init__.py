"""Synaptic mechanisms beyond a single rule: two-timescale consolidation with tagging and capture."""

from hebbnet.plasticity.consolidation import TagAndCapture

__all__ = ["TagAndCapture"]
