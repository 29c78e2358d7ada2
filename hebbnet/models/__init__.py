"""Networks: the MLP that continual-learning strategies train, and the Diehl & Cook (2015)
spiking network that learns digits without labels."""

from hebbnet.models.diehl_cook import (
    DiehlCook2015,
    DiehlCookParameters,
    assign_labels,
    predict,
)
from hebbnet.models.mlp import MLP

__all__ = ["MLP", "DiehlCook2015", "DiehlCookParameters", "assign_labels", "predict"]
