"""``python -m hebbnet ...``: the same command as ``hebbnet-train`` (:mod:`hebbnet.cli`)."""

from hebbnet.cli import run

run()
