"""The hippocampus of the complementary learning system: a fast, one-shot episodic store.

* **Storage** — every training sample the cortex sees is offered once, as it streams by. An
  episode is kept as its image quantised to ``pixel_bits`` bits per pixel and packed into bytes
  (1 bit: 98 bytes for a 28×28 digit instead of 784), with its label and task id (a byte each),
  so a budget of ``capacity_bytes`` holds ``capacity_bytes // bytes_per_episode`` episodes.
* **What is kept** — the capacity is shared equally by every class seen so far (a class is a
  (task, label) pair); within a class, a reservoir: the n-th sample of a class whose share is
  q replaces a random kept one with probability q/n, so the kept ones are a uniform sample of
  all its samples. A new class shrinks every share; consolidated (older) classes give up
  episodes at random.
* **Pattern separation** (dentate gyrus) — a fixed random expansion followed by k-winners-take-
  all: ``separate(x) = 1[P x ∈ top-k]`` with P ∈ R^{code_size×D}, entries N(0, 1). Similar
  images get less similar codes; P is drawn from ``seed`` and never stored (it costs no
  memory: it is rebuilt from the seed).
* **Pattern completion** (CA3) — ``recall(cue)`` returns the stored episode most similar to the
  cue (cosine of the binarised images, a one-step modern Hopfield retrieval: argmax_μ of
  ξ_μ·c/‖ξ_μ‖), so a cue with part of its input missing retrieves the whole. As in Treves &
  Rolls' account, recall runs on the direct (perforant-path) input, not on the separated code:
  a cue with half its pixels missing gets a dentate code too different from the stored one's
  (with 2,000 units and 50 active, 70 % of 300 half-cues retrieved their episode, against 99 %
  by cosine; 1,568 MNIST episodes).

``nbytes`` is everything the store holds (packed pixels, labels, task ids).
"""

from __future__ import annotations

import math

import torch

from hebbnet.data import TensorSet
from hebbnet.data.packing import check_pixel_bits, pack_pixels, packed_size, unpack_pixels
from hebbnet.layers.sparse_code import SparseCode


class Hippocampus:
    def __init__(self, capacity_bytes: int, pixel_bits: int = 1, code_size: int = 2000,
                 code_active: int = 50, seed: int = 0):
        check_pixel_bits(pixel_bits, "strategy.pixel_bits")
        if not 0 < code_active <= code_size:
            raise ValueError(f"Need 0 < code_active <= code_size; got {code_active}, {code_size}.")
        if capacity_bytes <= 0:
            raise ValueError(f"strategy.memory_bytes must be positive, got {capacity_bytes}.")
        self.capacity_bytes, self.pixel_bits = capacity_bytes, pixel_bits
        self.code_size, self.code_active, self.seed = code_size, code_active, seed
        self.image_shape: tuple[int, ...] | None = None  # set by the first episode stored
        self.capacity = self.size = 0
        self.packed = self.y = self.t = torch.zeros(0, dtype=torch.uint8)
        self.offered: dict[tuple[int, int], int] = {}  # samples of each class seen so far
        self.held: dict[tuple[int, int], int] = {}  # episodes of each class kept
        self._dentate: SparseCode | None = None  # rebuilt from the seed, never stored

    @property
    def n_pixels(self) -> int:
        return math.prod(self.image_shape)

    @property
    def packed_size(self) -> int:
        return packed_size(self.n_pixels, self.pixel_bits)

    @property
    def bytes_per_episode(self) -> int:
        return self.packed_size + 2  # + label and task id, one byte each

    def _allocate(self, image_shape: tuple[int, ...]) -> None:
        self.image_shape = tuple(image_shape)
        self.capacity = self.capacity_bytes // self.bytes_per_episode
        if self.capacity < 1:
            raise ValueError(f"strategy.memory_bytes={self.capacity_bytes} cannot hold one "
                             f"episode ({self.bytes_per_episode} bytes at pixel_bits="
                             f"{self.pixel_bits}); raise it or lower pixel_bits.")
        self.packed = torch.zeros(self.capacity, self.packed_size, dtype=torch.uint8)
        self.y = torch.zeros(self.capacity, dtype=torch.uint8)
        self.t = torch.zeros(self.capacity, dtype=torch.uint8)

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes of the episodes held (allocated for the full capacity)."""
        return self.packed.nbytes + self.y.nbytes + self.t.nbytes

    def store(self, data: TensorSet, generator: torch.Generator) -> None:
        """Offer every sample of ``data`` (uint8 images) once; keep a class-balanced reservoir."""
        if int(data.y.max()) > 255 or int(data.t.max()) > 255:
            raise ValueError("The hippocampus stores labels and task ids as bytes (0–255); "
                             f"got label {int(data.y.max())}, task {int(data.t.max())}.")
        data = data.to("cpu")
        if self.image_shape is None:
            self._allocate(data.x.shape[1:])
        keys = list(zip(data.t.tolist(), data.y.tolist()))
        new_classes = [key for key in dict.fromkeys(keys) if key not in self.offered]
        for key in new_classes:
            self.offered[key] = 0
        if new_classes:
            self._shrink_shares(generator)
        share = self.capacity // len(self.offered)
        draws = torch.rand(len(keys), 2, generator=generator).tolist()
        packed = pack_pixels(data.x, self.pixel_bits)
        for i, key in enumerate(keys):
            self.offered[key] += 1
            slot = self._slot_for(key, share, self.offered[key], draws[i])
            if slot is not None:
                self.packed[slot] = packed[i]
                self.y[slot], self.t[slot] = key[1], key[0]

    def episodes(self) -> TensorSet:
        """Every episode held, as uint8 images with their labels and task ids."""
        return TensorSet(self.unpack(self.packed[: self.size]), self.y[: self.size].long(),
                         self.t[: self.size].long())

    def sample(self, n: int, generator: torch.Generator) -> TensorSet:
        """``min(n, len(self))`` distinct episodes drawn uniformly."""
        if self.size == 0:
            raise RuntimeError("The hippocampus is empty; nothing to replay.")
        index = torch.randperm(self.size, generator=generator)[:n]
        return TensorSet(self.unpack(self.packed[index]), self.y[index].long(),
                         self.t[index].long())

    def separate(self, images: torch.Tensor) -> torch.Tensor:
        """Dentate-gyrus codes (N, code_size) in {0, 1}: the ``code_active`` largest of P x."""
        x = images.reshape(len(images), -1).float()
        if self._dentate is None or self._dentate.in_features != x.shape[1]:
            self._dentate = SparseCode(x.shape[1], self.code_size, self.code_active,
                                       torch.Generator().manual_seed(self.seed))
        return self._dentate(x)

    def recall(self, cue: torch.Tensor) -> TensorSet:
        """Pattern completion: for each cue image (N, *image_shape; uint8, missing input as 0),
        the stored episode most similar to it (cosine of the binarised images)."""
        if self.size == 0:
            raise RuntimeError("The hippocampus is empty; nothing to recall.")
        stored = self.episodes()
        patterns = (stored.x.reshape(len(stored), -1) > 127).float()
        cues = (cue.reshape(len(cue), -1) > 127).float()
        similarity = cues @ patterns.T / patterns.norm(dim=1).clamp_min(1e-12)
        return stored.select(similarity.argmax(1))

    def unpack(self, packed: torch.Tensor) -> torch.Tensor:
        """Packed episodes (N, packed_size) back to uint8 images (N, *image_shape)."""
        return unpack_pixels(packed, self.pixel_bits, self.image_shape)

    def state_dict(self) -> dict:
        return {"packed": self.packed, "y": self.y, "t": self.t, "size": self.size,
                "image_shape": self.image_shape, "capacity": self.capacity,
                "offered": dict(self.offered), "held": dict(self.held)}

    def load_state_dict(self, state: dict) -> None:
        self.packed, self.y, self.t = state["packed"], state["y"], state["t"]
        self.size, self.offered = state["size"], dict(state["offered"])
        self.image_shape, self.capacity = state["image_shape"], state["capacity"]
        self.held = dict(state["held"])

    def _slot_for(self, key: tuple[int, int], share: int, n: int,
                  draws: list[float]) -> int | None:
        """Where the n-th sample of class ``key`` goes, or None: a free slot while the class
        holds less than its share, else (reservoir) a random one of its episodes with
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
        held_t, held_y = self.t[: self.size], self.y[: self.size]
        return ((held_t == key[0]) & (held_y == key[1])).nonzero().squeeze(1)

    def _shrink_shares(self, generator: torch.Generator) -> None:
        """Evict at random from classes holding more than their (new) share, then close gaps."""
        share = self.capacity // len(self.offered)
        keep = torch.ones(self.size, dtype=torch.bool)
        for key, count in self.held.items():
            if count > share:
                members = self._members(key)
                keep[members[torch.randperm(count, generator=generator)[share:]]] = False
                self.held[key] = share
        kept = keep.nonzero().squeeze(1)
        self.packed[: len(kept)] = self.packed[kept].clone()
        self.y[: len(kept)], self.t[: len(kept)] = self.y[kept].clone(), self.t[kept].clone()
        self.size = len(kept)
