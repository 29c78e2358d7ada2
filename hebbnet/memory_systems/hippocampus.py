"""The hippocampus of the complementary learning system: a fast, one-shot episodic store.

* **Storage** — every training sample the cortex sees is offered once, as it streams by. An
  episode is kept as its image quantised to ``pixel_bits`` bits per pixel and packed into bytes
  (1 bit: 98 bytes for a 28×28 digit instead of 784), with its label and task id (a byte each),
  so a budget of ``capacity_bytes`` holds ``capacity_bytes // bytes_per_episode`` episodes.
* **What is kept** — the capacity is shared equally by every class seen so far (a class is a
  (task, label) pair); within a class, a reservoir: the n-th sample of a class whose share is
  q replaces a random kept one with probability q/n, so the kept ones are a uniform sample of
  all its samples. A new class shrinks every share; consolidated (older) classes give up
  episodes at random. The store is the replay buffer's ``class_reservoir`` policy
  (:class:`hebbnet.memory_systems.buffer.ReplayBuffer`), which a replay baseline can use as well.
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
from hebbnet.data.packing import check_pixel_bits, packed_size
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.memory_systems.buffer import ReplayBuffer


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
        self._store: ReplayBuffer | None = None  # made when the first episode shows its size
        self._dentate: SparseCode | None = None  # rebuilt from the seed, never stored

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        return self._store.image_shape if self._store is not None else None

    @property
    def capacity(self) -> int:
        return self._store.capacity if self._store is not None else 0

    @property
    def bytes_per_episode(self) -> int:
        if self.image_shape is None:
            raise RuntimeError("The hippocampus has stored nothing yet: an episode's size is "
                               "known once it has.")
        return self._episode_bytes(math.prod(self.image_shape))

    def _episode_bytes(self, n_pixels: int) -> int:
        return packed_size(n_pixels, self.pixel_bits) + 2  # + label and task id, a byte each

    def __len__(self) -> int:
        return len(self._store) if self._store is not None else 0

    @property
    def nbytes(self) -> int:
        """Bytes of the episodes held (allocated for the full capacity)."""
        return self._store.nbytes if self._store is not None else 0

    def store(self, data: TensorSet, generator: torch.Generator) -> None:
        """Offer every sample of ``data`` (uint8 images) once; keep a class-balanced reservoir."""
        if int(data.y.max()) > 255 or int(data.t.max()) > 255:
            raise ValueError("The hippocampus stores labels and task ids as bytes (0–255); "
                             f"got label {int(data.y.max())}, task {int(data.t.max())}.")
        data = data.to("cpu")
        if self._store is None:
            self._store = self._make_store(data.x.shape[1:])
        self._store.add_classes(data, generator)

    def _make_store(self, image_shape: tuple[int, ...]) -> ReplayBuffer:
        episode = self._episode_bytes(math.prod(image_shape))
        capacity = self.capacity_bytes // episode
        if capacity < 1:
            raise ValueError(f"strategy.memory_bytes={self.capacity_bytes} cannot hold one "
                             f"episode ({episode} bytes at pixel_bits={self.pixel_bits}); raise "
                             "it or lower pixel_bits.")
        return ReplayBuffer(capacity, "class_reservoir", pixel_bits=self.pixel_bits)

    def clear(self) -> None:
        """A lesion: every episode is lost (the budget stays; nothing is kept)."""
        self._store = None

    def episodes(self) -> TensorSet | None:
        """Every episode held, as uint8 images with their labels and task ids (None: empty)."""
        return self._store.samples() if self._store is not None else None

    def sample(self, n: int, generator: torch.Generator) -> TensorSet:
        """``min(n, len(self))`` distinct episodes drawn uniformly."""
        if self._store is None or len(self) == 0:
            raise RuntimeError("The hippocampus is empty; nothing to replay.")
        return self._store.sample(n, generator)[0]

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
        stored = self.episodes()
        if stored is None:
            raise RuntimeError("The hippocampus is empty; nothing to recall.")
        patterns = (stored.x.reshape(len(stored), -1) > 127).float()
        cues = (cue.reshape(len(cue), -1) > 127).float()
        similarity = cues @ patterns.T / patterns.norm(dim=1).clamp_min(1e-12)
        return stored.select(similarity.argmax(1))

    def state_dict(self) -> dict:
        return {"store": self._store.state_dict() if self._store is not None else None}

    def load_state_dict(self, state: dict) -> None:
        if "packed" in state:  # a checkpoint written before the store was the buffer's
            state = {"store": None if state["image_shape"] is None else {
                "x": state["packed"], "y": state["y"], "t": state["t"], "logits": None,
                "size": state["size"], "seen": sum(state["offered"].values()),
                "image_shape": state["image_shape"], "offered": state["offered"],
                "held": state["held"]}}
        self._store = None
        if state["store"] is not None:
            self._store = ReplayBuffer(len(state["store"]["x"]), "class_reservoir",
                                       pixel_bits=self.pixel_bits)
            self._store.load_state_dict(state["store"])
