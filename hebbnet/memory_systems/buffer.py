"""A fixed-size store of past training samples, shared by every replay strategy and by the
complementary learning system's hippocampus.

Three ways to decide what is kept:

* ``reservoir`` (Vitter's algorithm R, as in ER and DER++; Chaudhry et al. 2019, Buzzega et al.
  2020): every sample of the stream ends up in the buffer with the same probability
  ``capacity / seen``. Samples are offered batch by batch while training (:meth:`add_stream`).
* ``class_balanced`` (as in van de Ven et al. 2022): after each task (:meth:`add_task`) the
  capacity is split evenly between all classes seen so far — a class is a (task, label) pair,
  so domain-incremental tasks with the same labels keep their own share — and each class keeps
  a random subset of its samples.
* ``class_reservoir`` (the CLS's hippocampus): samples are offered once, as they stream by
  (:meth:`add_classes`); the capacity is shared equally by every class seen so far, and within a
  class a reservoir — the n-th sample of a class whose share is q replaces a random kept one
  with probability q/n, so the kept ones are a uniform sample of all its samples. A new class
  shrinks every share; older classes give up samples at random.

Images are kept as they come (uint8 for the built-in benchmarks), or with ``pixel_bits`` as
the hippocampus keeps its episodes (:mod:`hebbnet.data.packing`: quantised, packed, with the
label and the task id a byte each), so a replay baseline can hold the same episodes in the same
bytes as the complementary learning system. :attr:`nbytes` reports the memory the buffer
holds, so methods can be compared at equal memory.
"""

from __future__ import annotations

import math

import torch

from hebbnet.data import TensorSet
from hebbnet.data.packing import check_pixel_bits, pack_pixels, packed_size, unpack_pixels

POLICIES = ("reservoir", "class_balanced", "class_reservoir")
NEEDS_LOGITS = "This buffer stores logits; pass the model's logits with the batch."


class ReplayBuffer:
    """Up to ``capacity`` samples (image, label, task id, and optionally the logits a model gave
    them when they were stored, for DER); ``pixel_bits``: images packed at that many bits per
    pixel, labels and task ids as bytes (None: everything as it comes)."""

    def __init__(self, capacity: int, policy: str = "reservoir", store_logits: bool = False,
                 pixel_bits: int | None = None):
        if capacity <= 0:
            raise ValueError(f"strategy.buffer_size must be positive, got {capacity}.")
        if policy not in POLICIES:
            raise ValueError(f"Unknown buffer policy {policy!r}; valid: {', '.join(POLICIES)}.")
        if pixel_bits is not None:
            check_pixel_bits(pixel_bits, "strategy.pixel_bits")
        self.capacity, self.policy, self.store_logits = capacity, policy, store_logits
        self.pixel_bits = pixel_bits
        self.image_shape: tuple[int, ...] | None = None  # of the images, known once allocated
        # the stored samples, allocated for the full capacity on first use
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.t: torch.Tensor | None = None
        self.logits: torch.Tensor | None = None
        self.size = 0  # samples held
        self.seen = 0  # samples offered so far (reservoir)
        self.offered: dict[tuple[int, int], int] = {}  # per (task, label): samples offered,
        self.held: dict[tuple[int, int], int] = {}  # and samples kept (class reservoir)

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored tensors (allocated for the full capacity once first used)."""
        return sum(v.nbytes for v in (self.x, self.y, self.t, self.logits) if v is not None)

    def add_stream(self, data: TensorSet, generator: torch.Generator,
                   logits: torch.Tensor | None = None) -> None:
        """Reservoir step for one batch: sample number i (0-based over the stream) replaces a
        uniformly drawn slot j ∈ [0, i] when j < capacity; later samples win ties."""
        self._check_policy("reservoir")
        self._allocate(data, logits)
        n, start = len(data), self.seen
        fill = min(self.capacity - self.size, n)
        self._write(torch.arange(self.size, self.size + fill), data, logits, torch.arange(fill))
        self.size += fill
        stream_index = start + torch.arange(fill, n)
        slots = (torch.rand(n - fill, generator=generator) * (stream_index + 1)).long()
        keep = slots < self.capacity
        slots, sources = slots[keep], torch.arange(fill, n)[keep]
        if len(slots):
            unique, inverse = torch.unique(slots, return_inverse=True)
            last = torch.zeros(len(unique), dtype=torch.long).scatter_reduce(
                0, inverse, torch.arange(len(slots)), "amax")
            self._write(unique, data, logits, sources[last])
        self.seen += n

    def add_task(self, data: TensorSet, generator: torch.Generator) -> None:
        """Class-balanced update after a task: every (task, label) class gets an equal share."""
        self._check_policy("class_balanced")
        held = self.samples()
        pool = data if held is None else TensorSet.concat([held, data.to(held.x.device)])
        keys = pool.t.cpu() * (int(pool.y.max()) + 1) + pool.y.cpu()
        classes = keys.unique()
        share = self.capacity // len(classes)
        if share == 0:
            raise ValueError(f"strategy.buffer_size={self.capacity} is smaller than the "
                             f"{len(classes)} classes seen; a class-balanced buffer needs at "
                             "least one sample per class.")
        chosen = []
        for key in classes:
            members = (keys == key).nonzero().squeeze(1)
            chosen.append(members[torch.randperm(len(members), generator=generator)[:share]])
        kept = torch.cat(chosen).to(pool.x.device)
        self._allocate(pool, None)
        self.size = len(kept)
        self._write(torch.arange(self.size), pool, None, kept)
        self.seen += len(data)

    def add_classes(self, data: TensorSet, generator: torch.Generator) -> None:
        """Class reservoir: offer every sample of ``data`` once, in order (see the module)."""
        self._check_policy("class_reservoir")
        self._allocate(data, None)
        keys = list(zip(data.t.tolist(), data.y.tolist()))
        new_classes = [key for key in dict.fromkeys(keys) if key not in self.offered]
        for key in new_classes:
            self.offered[key] = 0
        if new_classes:
            self._shrink_shares(generator)
        share = self.capacity // len(self.offered)
        draws = torch.rand(len(keys), 2, generator=generator).tolist()
        written: dict[int, int] = {}  # slot → the sample it holds now (the later one wins)
        for i, key in enumerate(keys):
            self.offered[key] += 1
            slot = self._slot_for(key, share, self.offered[key], draws[i])
            if slot is not None:
                _, y, t = self._stored()
                y[slot], t[slot] = key[1], key[0]
                written[slot] = i
        if written:
            self._write(torch.tensor(list(written)), data, None,
                        torch.tensor(list(written.values())))
        self.seen += len(data)

    def sample(self, n: int, generator: torch.Generator) -> tuple[TensorSet, torch.Tensor | None]:
        """``min(n, len(self))`` distinct stored samples, and their stored logits (or None)."""
        if self.size == 0:
            raise RuntimeError("The replay buffer is empty; nothing to sample.")
        index = torch.randperm(self.size, generator=generator)[:n].to(self._stored()[0].device)
        logits = self.logits[index] if self.logits is not None else None
        return self._read(index), logits

    def samples(self) -> TensorSet | None:
        """Everything held, or None when empty."""
        if self.size == 0:
            return None
        return self._read(slice(0, self.size))

    def state_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "t": self.t, "logits": self.logits,
                "size": self.size, "seen": self.seen, "image_shape": self.image_shape,
                "offered": dict(self.offered), "held": dict(self.held)}

    def load_state_dict(self, state: dict) -> None:
        self.x, self.y, self.t, self.logits = state["x"], state["y"], state["t"], state["logits"]
        self.size, self.seen = state["size"], state["seen"]
        self.image_shape = state.get("image_shape")  # absent from checkpoints of 2026-11
        self.offered, self.held = dict(state.get("offered", {})), dict(state.get("held", {}))

    def _check_policy(self, policy: str) -> None:
        if self.policy != policy:
            raise RuntimeError(f"This buffer uses the {self.policy!r} policy; "
                               f"only a {policy!r} buffer can be filled this way.")

    def _stored(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The stored images (or packed bytes), labels and task ids."""
        if self.x is None or self.y is None or self.t is None:
            raise RuntimeError("The replay buffer holds nothing yet.")
        return self.x, self.y, self.t

    def _allocate(self, data: TensorSet, logits: torch.Tensor | None) -> None:
        if self.x is not None:
            return
        device = data.x.device
        self.image_shape = image_shape = tuple(data.x.shape[1:])
        if self.pixel_bits is None:
            self.x = torch.zeros((self.capacity, *image_shape), dtype=data.x.dtype,
                                 device=device)
            self.y = torch.zeros(self.capacity, dtype=data.y.dtype, device=device)
            self.t = torch.zeros(self.capacity, dtype=data.t.dtype, device=device)
        else:
            if data.x.dtype != torch.uint8:
                raise ValueError(f"strategy.pixel_bits packs uint8 images; this benchmark's "
                                 f"are {data.x.dtype}. Set strategy.pixel_bits=null.")
            size = packed_size(math.prod(image_shape), self.pixel_bits)
            self.x = torch.zeros((self.capacity, size), dtype=torch.uint8, device=device)
            self.y = torch.zeros(self.capacity, dtype=torch.uint8, device=device)
            self.t = torch.zeros(self.capacity, dtype=torch.uint8, device=device)
        if self.store_logits:
            if logits is None:
                raise ValueError(NEEDS_LOGITS)
            self.logits = torch.zeros((self.capacity, logits.shape[1]), dtype=logits.dtype,
                                      device=device)

    def _write(self, slots: torch.Tensor, data: TensorSet, logits: torch.Tensor | None,
               sources: torch.Tensor) -> None:
        x, y, t = self._stored()
        slots, sources = slots.to(x.device), sources.to(x.device)
        if self.pixel_bits is None:
            x[slots] = data.x[sources]
        else:
            if int(data.y.max()) > 255 or int(data.t.max()) > 255:
                raise ValueError("With strategy.pixel_bits labels and task ids are kept as bytes "
                                 f"(0–255); got label {int(data.y.max())}, task "
                                 f"{int(data.t.max())}. Set strategy.pixel_bits=null.")
            x[slots] = pack_pixels(data.x[sources], self.pixel_bits)
        y[slots] = data.y[sources].to(y.dtype)
        t[slots] = data.t[sources].to(t.dtype)
        if self.logits is not None:
            if logits is None:
                raise ValueError(NEEDS_LOGITS)
            self.logits[slots] = logits[sources].detach()

    def _read(self, index) -> TensorSet:
        """The samples at ``index`` (a tensor or a slice); packed ones unpacked, with int64
        labels and task ids."""
        x, y, t = self._stored()
        if self.pixel_bits is None:
            return TensorSet(x[index], y[index], t[index])
        assert self.image_shape is not None  # set with the tensors
        return TensorSet(unpack_pixels(x[index], self.pixel_bits, self.image_shape),
                         y[index].long(), t[index].long())

    def _slot_for(self, key: tuple[int, int], share: int, n: int,
                  draws: list[float]) -> int | None:
        """Where the n-th sample of class ``key`` goes, or None: a free slot while the class
        holds less than its share, else (reservoir) a random one of its samples with
        probability share / n. ``draws``: two uniforms."""
        if self.held.get(key, 0) < share and self.size < self.capacity:
            self.held[key] = self.held.get(key, 0) + 1
            self.size += 1
            return self.size - 1
        if draws[0] * n >= share:
            return None
        members = self._members(key)
        return int(members[int(draws[1] * len(members))]) if len(members) else None

    def _members(self, key: tuple[int, int]) -> torch.Tensor:
        _, y, t = self._stored()
        held_t, held_y = t[: self.size], y[: self.size]
        return ((held_t == key[0]) & (held_y == key[1])).nonzero().squeeze(1)

    def _shrink_shares(self, generator: torch.Generator) -> None:
        """Evict at random from classes holding more than their (new) share, then close gaps."""
        share = self.capacity // len(self.offered)
        x, y, t = self._stored()
        keep = torch.ones(self.size, dtype=torch.bool, device=x.device)
        for key, count in self.held.items():
            if count > share:
                members = self._members(key)
                keep[members[torch.randperm(count, generator=generator)[share:]]] = False
                self.held[key] = share
        kept = keep.nonzero().squeeze(1)
        x[: len(kept)] = x[kept].clone()
        y[: len(kept)], t[: len(kept)] = y[kept].clone(), t[kept].clone()
        self.size = len(kept)
