"""Networks, each in its module beside its config dataclass and registered by name
(``model=<name>``): the MLP and the ResNet-18 that continual-learning strategies train, and the
plastic networks (features that learn by local rules, then a readout), among them the Diehl &
Cook (2015) spiking network that learns digits without labels."""

from hebbnet.models.contract import Calibrated, Coded, LocalLearner, TaskAware, check_model
from hebbnet.models.diehl_cook import (
    DiehlCook2015,
    DiehlCookConfig,
    DiehlCookParameters,
    assign_labels,
    predict,
)
from hebbnet.models.fly import FlyConfig
from hebbnet.models.hebbian_dense import HebbianDenseConfig
from hebbnet.models.mlp import MLP, MLPConfig
from hebbnet.models.plastic import PlasticModelConfig, PlasticNetwork
from hebbnet.models.resnet import ResNet18, ResNet18Config
from hebbnet.models.softhebb_conv import SoftHebbConvConfig

__all__ = ["MLP", "Calibrated", "Coded", "DiehlCook2015", "DiehlCookConfig", "DiehlCookParameters",
           "FlyConfig", "HebbianDenseConfig", "LocalLearner", "MLPConfig", "PlasticModelConfig",
           "PlasticNetwork", "ResNet18", "ResNet18Config", "SoftHebbConvConfig", "TaskAware",
           "assign_labels", "check_model", "predict"]
