"""Data parallelism over two CPU processes (gloo): plastic layers and whole runs learn as one
process on the combined batch, with replicas that stay equal."""

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import quick_config

from hebbnet.config import TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.strategies import ERConfig, Strategy
from hebbnet.distributed import RankFailedError
from hebbnet.homeostasis import IntrinsicPlasticity
from hebbnet.layers import HebbianLinear
from hebbnet.models import HebbianDenseConfig
from hebbnet.models.factory import build_model
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


# ---- whole runs under torch.distributed: the loop's data parallelism ----

SCHEDULE = TrainConfig(batch_size=16, iterations=12)
LINEAR_PLASTIC = HebbianDenseConfig(width=32, rule="hebb", readout="class_means")


def run_config(**overrides):
    return quick_config(train=SCHEDULE, **overrides)


def run_capturing_model(cfg, run_dir) -> tuple[dict, dict]:
    """The run's metrics and its model's final weights."""
    built = {}

    def builder(shape, n_outputs, n_tasks):
        built["model"] = build_model(cfg.model, shape, n_outputs, n_tasks)
        return built["model"]

    def mark_start():  # the run directory is accepted: only the rank that writes it says so
        (run_dir / f"accepted_by_rank_{dist.get_rank() if dist.is_initialized() else 0}").touch()

    metrics = run_experiment(cfg, run_dir, model=builder, on_start=mark_start)
    return metrics, {k: v.clone() for k, v in built["model"].state_dict().items()}


def interrupted_then_resumed(cfg, run_dir) -> tuple[dict, dict]:
    """The run stopped as task 2 starts (on every rank), then resumed from its checkpoint."""
    original = Strategy.train_experience

    def stop_at_task_2(self, experience, *args, **kwargs):
        if experience.task_id == 2:
            raise KeyboardInterrupt
        return original(self, experience, *args, **kwargs)

    Strategy.train_experience = stop_at_task_2
    try:
        run_experiment(cfg, run_dir)
    except KeyboardInterrupt:
        pass
    finally:
        Strategy.train_experience = original
    cfg.resume = True
    return run_capturing_model(cfg, run_dir)


def model_missing_on_rank_1(shape, n_outputs, n_tasks):
    if dist.get_rank() == 1:
        raise ValueError("no model on this rank")
    return build_model(run_config().model, shape, n_outputs, n_tasks)


RUNS = {  # name: what each rank does in a shared directory of that name
    "mlp": lambda d: run_capturing_model(run_config(), d),
    "plastic": lambda d: run_capturing_model(run_config(model=LINEAR_PLASTIC), d),
    "resumed": lambda d: interrupted_then_resumed(run_config(), d),
    "seeds differ": lambda d: run_experiment(run_config(seed=dist.get_rank()), d),
    "replay": lambda d: run_experiment(run_config(strategy=ERConfig(buffer_size=20)), d),
    "odd batch": lambda d: run_experiment(quick_config(train=TrainConfig(batch_size=15,
                                                                         iterations=2)), d),
    "one rank fails": lambda d: run_experiment(run_config(), d, model=model_missing_on_rank_1),
}


def runs_main(rank: int, world: int, port: int, root: str) -> None:
    """One rank, started as torchrun would start it: the process group is described in the
    environment, and the first run joins it."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    try:
        outcomes = {}
        for name, run in RUNS.items():
            try:
                outcomes[name] = run(Path(root) / name)
            except (ValueError, RankFailedError) as error:
                outcomes[name] = f"{type(error).__name__}: {error}"
        torch.save(outcomes, Path(root) / f"outcomes.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_rank_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ranks")
    with socket.socket() as probe:  # a free port for the rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(runs_main, args=(2, port, str(root)), nprocs=2, join=True)
    return root, [torch.load(root / f"outcomes.{rank}", weights_only=False) for rank in (0, 1)]


def assert_equal_replicas(first, second) -> None:
    assert first[0]["acc_matrix"] == second[0]["acc_matrix"]
    for key, tensor in first[1].items():
        assert torch.equal(tensor, second[1][key]), key


@pytest.mark.parametrize("name,config", [("mlp", {}), ("plastic", {"model": LINEAR_PLASTIC})])
def test_two_ranks_train_equal_replicas_that_learn_as_one_process(two_rank_runs, name, config,
                                                                  tmp_path):
    root, ranks = two_rank_runs
    assert_equal_replicas(ranks[0][name], ranks[1][name])
    torch.set_num_threads(1)
    single = run_capturing_model(run_config(**config), tmp_path / "single")
    for key, tensor in single[1].items():  # the ranks' halves, averaged: the whole batch
        torch.testing.assert_close(ranks[0][name][1][key], tensor, rtol=1e-4, atol=1e-5)
    written = json.loads((root / name / "metrics.json").read_text())
    assert written["acc_matrix"] == ranks[0][name][0]["acc_matrix"]
    assert sorted(p.name for p in (root / name).glob("accepted_by_*")) == ["accepted_by_rank_0"]


def test_a_two_rank_run_resumes_bit_for_bit(two_rank_runs):
    _, ranks = two_rank_runs
    assert_equal_replicas(ranks[0]["resumed"], ranks[0]["mlp"])
    assert_equal_replicas(ranks[1]["resumed"], ranks[0]["mlp"])


@pytest.mark.parametrize("name,message", [
    ("seeds differ", "disagree on seed"),
    ("replay", "Run it in one process"),
    ("odd batch", "choose a multiple of 2"),
])
def test_ranks_that_cannot_run_together_all_stop_with_the_fix(two_rank_runs, name, message):
    root, ranks = two_rank_runs
    for outcome in (ranks[0][name], ranks[1][name]):
        assert isinstance(outcome, str) and message in outcome
    assert not (root / name / "config.yaml").exists()


def test_a_rank_that_cannot_start_stops_the_others_with_its_reason(two_rank_runs):
    root, ranks = two_rank_runs
    assert ranks[1]["one rank fails"] == "ValueError: no model on this rank"
    assert ranks[0]["one rank fails"] == ("RankFailedError: Rank 1 of this torchrun could not "
                                          "start the run: ValueError: no model on this rank")
    assert not (root / "one rank fails" / "config.yaml").exists()


def test_shard_takes_every_world_size_th_sample_from_the_rank(monkeypatch):
    import hebbnet.distributed as distributed

    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    assert distributed.shard(torch.arange(12).view(2, 6)).tolist() == [[1, 4], [7, 10]]
