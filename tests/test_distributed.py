"""Data-parallel local learning: two CPU processes (gloo) learn as one on the combined batch."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from hebbnet.homeostasis import IntrinsicPlasticity
from hebbnet.layers import HebbianLinear
from hebbnet.structural import SynapseTurnover

STEPS = 6


def batches():
    generator = torch.Generator().manual_seed(1)
    return [torch.rand(8, 6, generator=generator) for _ in range(STEPS)]


def make_layer(rule: str, **options) -> HebbianLinear:
    torch.manual_seed(0)
    return HebbianLinear(6, 3, rule=rule, lr=0.05, **options)


def rank_main(rank: int, world: int, init_file: str, out: str, rule: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world)
    try:
        layer = make_layer(rule, homeostasis=IntrinsicPlasticity(3, 0.2))
        share = 8 // world
        for batch in batches():
            layer(batch[rank * share:(rank + 1) * share])  # this rank's share of the batch
        torch.save({"weight": layer.weight.detach().clone(),
                    "threshold": layer.homeostasis[0].threshold.clone()}, f"{out}.{rank}")
        turnover = HebbianLinear(6, 3, structure=SynapseTurnover(density=0.5))
        try:
            turnover(batches()[0][:4])
            torch.save("no error", f"{out}.turnover.{rank}")
        except RuntimeError as error:
            torch.save(str(error), f"{out}.turnover.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("rule", ["hebb", "oja"])
def test_two_ranks_stay_identical_and_a_linear_rule_learns_as_one_process(rule, tmp_path):
    out = str(tmp_path / "state")
    mp.spawn(rank_main, args=(2, str(tmp_path / "init"), out, rule), nprocs=2, join=True)
    ranks = [torch.load(f"{out}.{rank}") for rank in range(2)]
    assert torch.equal(ranks[0]["weight"], ranks[1]["weight"])
    assert torch.equal(ranks[0]["threshold"], ranks[1]["threshold"])
    single = make_layer(rule, homeostasis=IntrinsicPlasticity(3, 0.2))
    for batch in batches():
        single(batch)
    if rule == "hebb":  # ⟨y xᵀ⟩ over the batch: the mean of the two halves' means, exactly
        torch.testing.assert_close(ranks[0]["weight"], single.weight, rtol=1e-5, atol=1e-6)
    else:  # Oja's implicit step is not linear in the batch: close, not equal
        torch.testing.assert_close(ranks[0]["weight"], single.weight, rtol=0.05, atol=1e-3)
    assert "cannot learn data-parallel" in torch.load(f"{out}.turnover.0")
