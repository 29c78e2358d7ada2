"""Fault injection: kill a run with SIGKILL at a chosen point, as a crash, a pre-empted job or
the out-of-memory killer would, then check that resuming it loses nothing.

A kill point is a function the run calls (``"module:attribute.path"``) and the how-manieth
call of it at which the process dies. :func:`count_calls` runs a function with counters on the
kill points, so that a campaign can choose calls that really happen; :func:`run_killed` runs it
in a forked child that kills itself at one call — with no ``finally`` blocks, no flushing and
no cleanup, exactly as ``kill -9`` would. At ``"checkpoint write"`` the child first writes half
of the file, so the kill leaves a torn temporary file behind.

POSIX only (``os.fork``). The child runs torch with one thread: forking a process whose OpenMP
pool is running is not safe, one thread is.
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

import torch

KILL_POINTS: dict[str, str] = {
    "start": "hebbnet.continual.runner:_open_run_directory",  # before the run's record exists
    "training step": "hebbnet.continual.strategies.base:Strategy.training_step",
    "evaluation": "hebbnet.continual.runner:accuracy_row",
    "checkpoint write": "hebbnet.files:torch.save",
    "checkpoint rename": "hebbnet.files:os.replace",
    "sleep": "hebbnet.continual.strategies.cls:downscale",
}
TORN = "checkpoint write"  # the kill point that leaves a half-written file


def count_calls(run: Callable[[], object], points: list[str]) -> dict[str, int]:
    """Run ``run()`` here, counting the calls of each kill point in ``points``."""
    counts = dict.fromkeys(points, 0)
    originals = {}
    for point in points:
        owner, name, original = _resolve(KILL_POINTS[point])
        originals[point] = (owner, name, original)
        setattr(owner, name, _counting(original, counts, point))
    try:
        run()
    finally:
        for owner, name, original in originals.values():
            setattr(owner, name, original)
    return counts


def run_killed(run: Callable[[], object], point: str, call: int) -> bool:
    """Run ``run()`` in a forked child that SIGKILLs itself at call ``call`` (1-based) of the
    kill point ``point``; True if it died there, False if it finished first."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            torch.set_num_threads(1)  # runs keep it: threads=null never raises the count
            owner, name, original = _resolve(KILL_POINTS[point])
            setattr(owner, name, _killing(original, call, torn=point == TORN))
            run()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _resolve(target: str):
    module_name, path = target.split(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, name, getattr(owner, name)


def _counting(original, counts: dict[str, int], point: str):
    def counted(*args, **kwargs):
        counts[point] += 1
        return original(*args, **kwargs)
    return counted


def _killing(original, call: int, torn: bool):
    calls = 0

    def killed(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == call:
            if torn:  # torch.save(payload, path): write it, then cut it in half
                original(*args, **kwargs)
                path = Path(args[1])
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return killed
