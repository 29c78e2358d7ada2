"""Data parallelism over the ranks of a ``torch.distributed`` group (``torchrun``): the few
collectives hebbnet's layers and training loop use. In one process every function here is a
no-op (or the identity), so the code that calls them needs no second path.

The scheme is plain data parallelism: every rank holds the same model and sees its own share
of each batch; what changes the model is averaged over the ranks (gradients in the loop, weight
changes in a plastic layer), so the replicas stay equal. Collectives come from
``torch.distributed`` (gloo on the CPU, NCCL on CUDA); these helpers only batch them into one
call each and keep the single-process case free of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether this process is one of several ranks of the default process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def shard(index: torch.Tensor) -> torch.Tensor:
    """This rank's share of a batch's sample indices (N,) or of batches of them (S, N): every
    ``world_size()``-th sample along the last dimension, from the ``rank()``-th."""
    return index[..., rank()::world_size()] if is_distributed() else index


def average_over_ranks(tensors: Iterable[torch.Tensor]) -> None:
    """Replace each floating-point tensor by its mean over the ranks, in place, with one
    all-reduce of their concatenation (gloo has no averaging reduction: sum, then divide)."""
    if not is_distributed():
        return
    tensors = [t for t in tensors if t.is_floating_point()]
    if not tensors:
        return
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    for tensor, averaged in zip(tensors, flat.split([t.numel() for t in tensors]), strict=True):
        tensor.detach().copy_(averaged.view_as(tensor))


def gather_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's ``tensor`` (same shape on each), concatenated along the first dimension in
    rank order: the whole batch whose shares the ranks hold."""
    if not is_distributed():
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def join_torchrun(device: torch.device) -> None:
    """Join the process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1),
    over gloo on the CPU or NCCL on CUDA, unless this process has joined one already; in a
    plain process, do nothing."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return
    if device.type == "cuda":  # NCCL's collectives run on the current device
        torch.cuda.set_device(_local_rank())
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def leave_torchrun() -> None:
    """Leave the process group, if this process is in one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """``cuda`` without an index means this rank's GPU (``LOCAL_RANK``) under torchrun."""
    if device.type == "cuda" and device.index is None and is_distributed():
        return torch.device("cuda", _local_rank())
    return device


def _local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def check_ranks_agree(settings: dict, fix: str) -> None:
    """Stop every rank, naming what differs, unless all ranks hold the same ``settings``."""
    every = _gathered(settings)
    differ = sorted({key for other in every for key in set(other) | set(every[0])
                     if other.get(key) != every[0].get(key)})
    if differ:
        raise ValueError(f"The {len(every)} ranks of this torchrun disagree on "
                         f"{', '.join(differ)}. {fix}")


class RankFailedError(RuntimeError):
    """Another rank of this torchrun could not start the run."""


def raise_if_any_rank_failed(error: BaseException | None) -> None:
    """A step every rank must pass (the run's start): each rank reports its ``error`` (None:
    passed), and all raise if any failed, so none waits forever in the next collective."""
    messages = _gathered(None if error is None else f"{type(error).__name__}: {error}")
    if error is not None:
        raise error
    for r, message in enumerate(messages):
        if message is not None:
            raise RankFailedError(f"Rank {r} of this torchrun could not start the run: {message}")


def from_rank_zero(value: object) -> object:
    """Rank 0's ``value`` (any picklable object) on every rank."""
    return _gathered(value)[0]


def _gathered(value: object) -> list:
    """Every rank's ``value`` (any picklable object), in rank order."""
    if not is_distributed():
        return [value]
    every: list = [None] * dist.get_world_size()
    dist.all_gather_object(every, value)
    return every
