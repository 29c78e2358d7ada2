"""A fixed sparse code: random expansion, then k-winners-take-all.

The dentate gyrus's pattern separation (Marr 1971; Treves & Rolls 1994), or the mushroom body's
Kenyon cells (Dasgupta et al. 2017): an input x ∈ R^D drives ``size`` units through a fixed
random matrix, and only the ``active`` most driven units fire,

    c_i = 1  if (P x)_i is among the k largest entries of P x,  else 0,   k = active,

    P_ij ~ N(0, 1)                               (``fan_in=None``), or
    P_ij = 1 for fan_in inputs j drawn per unit  (``fan_in=m``: each Kenyon cell sums the
                                                  m projection neurons it samples)

With ``calibrate(inputs)`` each unit's threshold becomes its mean drive over those inputs,
c_i = 1[(P x)_i − θ_i among the k largest], θ_i = mean_x (P x)_i — feedforward inhibition of
the drive all inputs share, set once and then fixed. Without it, the units that the mean image
drives hardest win for almost every input (on MNIST, 1,000 units and 20 winners: one unit on
for 53 % of images, mean overlap of two codes 0.14 against 0.02 for random codes); calibrated
on 2,000 images of digits 0 and 1, the overlap is 0.04 (benchmarks/RESULTS.md, issue 15).

Similar inputs get less similar codes (their overlap shrinks), every code has exactly k ones,
and nothing in it learns: P is a buffer (saved with the model; for ``fan_in`` its indices),
and no gradient flows through the choice of winners. Given a ``seed``, P is drawn from it and
not saved: rebuilding the code needs the seed and the thresholds (:meth:`stored_bytes`), not
the D × size matrix. The binary projection runs as a sparse
matrix product, size·fan_in multiply-adds per input instead of size·D (in float32 for a code
moved to a half-precision dtype, whose sparse products torch lacks on the CPU).

NaN or Inf input is refused, by :meth:`SparseCode.forward` and :meth:`SparseCode.calibrate`
alike, with a ValueError: the k winners of NaN drives are a confident code of nothing, and one
NaN in the calibration data turns every threshold into NaN, after which every input gets the
same code. One reduction over the input per call (on an accelerator, one sync).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from hebbnet.layers.plastic import all_finite
from hebbnet.structural.neurogenesis import Neurogenesis


def refuse_non_finite(flat: torch.Tensor, call: str, because: str) -> None:
    """A ValueError naming ``SparseCode.<call>``, the NaN or Inf values of its input ``flat``
    and what to check, if there are any."""
    if bool(all_finite(flat)):
        return
    raise ValueError(f"SparseCode.{call} received NaN or Inf input ({int((~flat.isfinite()).sum())} of "
                     f"{flat.numel()} values): {because}. Check what feeds it (a normalisation "
                     "dividing by 0, an upstream layer's output) and clean the input first.")


class SparseCode(nn.Module):
    """Args:
        in_features: D, values per input.
        size: units of the code.
        active: k, winners per input.
        generator: for P; None: torch's global generator.
        fan_in: inputs each unit sums (binary projection); None: a dense Gaussian projection.
        seed: draw P from this seed instead of ``generator``, and leave it out of the
            ``state_dict`` (it is drawn again from the seed when the code is built).
        neurogenesis: which of the ``size`` units exist and how excitable the young ones are
            (at least ``active`` born); None: all of them, alike.

    Shape: x (N, ...) with D values per sample → codes (N, size) of 0s and 1s.
    """

    threshold: torch.Tensor
    projection: torch.Tensor
    inputs: torch.Tensor

    def __init__(self, in_features: int, size: int, active: int,
                 generator: torch.Generator | None = None, fan_in: int | None = None,
                 seed: int | None = None, neurogenesis: Neurogenesis | None = None):
        super().__init__()
        if seed is not None and generator is not None:
            raise ValueError("Give a SparseCode a seed or a generator, not both.")
        if not 0 < active <= size:
            raise ValueError(f"A sparse code needs 0 < active <= size; got active={active}, "
                             f"size={size}.")
        if neurogenesis is not None and (len(neurogenesis.alive) != size
                                         or neurogenesis.born < active):
            raise ValueError(f"A sparse code's Neurogenesis needs capacity = size ({size}) and at "
                             f"least active ({active}) units born; got capacity "
                             f"{len(neurogenesis.alive)}, born {neurogenesis.born}.")
        if fan_in is not None and not 0 < fan_in <= in_features:
            raise ValueError(f"fan_in must be in 1..{in_features} (the inputs), got {fan_in}.")
        self.in_features, self.size, self.active, self.fan_in = in_features, size, active, fan_in
        self.seed = seed
        if seed is not None:
            generator = torch.Generator().manual_seed(seed)
        saved = seed is None
        if fan_in is None:
            self.register_buffer("projection", torch.randn(size, in_features, generator=generator),
                                 persistent=saved)
        else:
            chosen = torch.rand(size, in_features, generator=generator).argsort(1)[:, :fan_in]
            self.register_buffer("inputs", chosen.sort(1).values, persistent=saved)
        self.register_buffer("threshold", torch.zeros(size))
        self.neurogenesis = neurogenesis

    def stored_bytes(self) -> int:
        """Bytes that rebuild this code: its saved buffers (the projection unless a seed makes
        it), and 8 for the seed."""
        seed = 8 if self.seed is not None else 0
        return seed + sum(buffer.nbytes for buffer in self.state_dict().values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Binary codes (N, size) of inputs (N, ...) with ``in_features`` values each."""
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != self.in_features:
            raise ValueError(f"SparseCode expects {self.in_features} input values per sample, "
                             f"got {flat.shape[1]} (input shape {tuple(x.shape)}).")
        refuse_non_finite(flat, "forward", "its k winners would be drawn from NaN drives")
        drive = self.drive(flat.detach()) - self.threshold
        if self.neurogenesis is not None:
            drive = self.neurogenesis.compete(drive)
            if self.training:
                self.neurogenesis.mature()
        # new_zeros, not zeros_like: the sparse product's drive is a transposed view, and a code
        # laid out like it makes the readout's product and index_add 10-20× slower (measured).
        codes = drive.new_zeros(drive.shape)
        return codes.scatter_(1, drive.topk(self.active, dim=1).indices, 1.0)

    def grow(self, n: int) -> torch.Tensor:
        """Give birth to ``n`` units (a code built with ``neurogenesis``); their indices."""
        if self.neurogenesis is None:
            raise TypeError("This SparseCode has no Neurogenesis: build it with "
                            "neurogenesis=Neurogenesis(size, born) to grow units.")
        return self.neurogenesis.birth(n)

    @torch.no_grad()
    def calibrate(self, inputs: torch.Tensor, batch_size: int = 4096) -> None:
        """Each unit's threshold θ_i ← its mean drive over ``inputs`` (N, ...)."""
        flat = inputs.reshape(len(inputs), -1)
        refuse_non_finite(flat, "calibrate", "every threshold would become NaN and every "
                                             "input then get the same code")
        total = sum((self.drive(part).sum(0) for part in flat.split(batch_size)),
                    torch.zeros_like(self.threshold))
        self.threshold.copy_(total / len(flat))

    def drive(self, flat: torch.Tensor) -> torch.Tensor:
        """P x for inputs (N, D): (N, size)."""
        if self.fan_in is None:
            return flat.to(self.projection.dtype) @ self.projection.T
        rows = torch.arange(0, self.size * self.fan_in + 1, self.fan_in, device=flat.device)
        values = flat if flat.element_size() >= 4 else flat.float()
        with warnings.catch_warnings():  # CSR is "beta" in torch; 4× faster here than COO
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            projection = torch.sparse_csr_tensor(rows, self.inputs.flatten(),
                                                 values.new_ones(self.size * self.fan_in),
                                                 (self.size, self.in_features),
                                                 check_invariants=False)
        return (projection @ values.T).T.to(flat.dtype)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, size={self.size}, active={self.active}, "
                f"fan_in={self.fan_in}, seed={self.seed}")
