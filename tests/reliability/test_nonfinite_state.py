"""A weight or buffer that turns NaN stops the run like a NaN loss does, before anything of
that task is saved, and train.py says which checkpoint is kept."""

import pytest
import torch
from conftest import quick_config

from hebbnet.continual import NonFiniteStateError, run_experiment
from hebbnet.continual.checkpoint import CHECKPOINT_NAME, load_checkpoint
from hebbnet.continual.strategies import Strategy


def test_a_nan_weight_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    original = Strategy.train_experience

    def poisoned_in_task_2(self, experience, *args, **kwargs):
        stats = original(self, experience, *args, **kwargs)
        if experience.task_id == 2:  # as a plastic update or a sleep gone wrong would leave it
            with torch.no_grad():
                next(self.model.parameters())[0, 0] = float("nan")
        return stats

    monkeypatch.setattr(Strategy, "train_experience", poisoned_in_task_2)
    with pytest.raises(NonFiniteStateError, match="After task 2 the model's .*weight"):
        run_experiment(quick_config(), tmp_path)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["state"]["next_task"] == 2
    assert isinstance(NonFiniteStateError("x"), FloatingPointError)  # train.py's catch
