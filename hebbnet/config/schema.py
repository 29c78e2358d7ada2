"""Typed configuration of a continual-learning run.

Plain dataclasses: Hydra validates ``hebbnet/conf/`` against them (see :mod:`hebbnet.config.store`),
and Python users build them directly, e.g. ``Config(benchmark=BenchmarkConfig(n_tasks=3))``.
Each group whose options differ in shape (``model``, ``strategy``) has one dataclass per option.
"""


from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class DataConfig:
    root: str = "data"  # the folder that holds MNIST/raw/*.gz (or FashionMNIST/, KMNIST/)


@dataclass
class BenchmarkConfig:
    name: str = "split_digits"
    dataset: str = "digits"  # digits | mnist | fashion_mnist | kmnist
    kind: str = "split"  # split | permuted | rotated
    n_tasks: int = 5
    classes_per_task: int = 2  # split only
    class_order: Optional[List[int]] = None  # split only; None: 0, 1, 2, ...
    shuffle_class_order: bool = False  # split only; seeded by `seed`
    permute_first_task: bool = True  # permuted only; False keeps task 0 unpermuted
    angles: Optional[List[float]] = None  # rotated only; None: evenly spaced in [0, 180)
    random_angles: bool = False  # rotated only, angles null: draw them from U[0, 180), seeded
    pad: int = 0  # zero pixels added on every side before tasks are built (2: MNIST to 32×32)
    validation: float = 0.0  # fraction of each task's training data held out (val_acc_matrix)


@dataclass
class MLPConfig:
    name: str = "mlp"
    hidden_sizes: List[int] = field(default_factory=lambda: [400, 400])
    activation: str = "relu"  # relu | tanh | sigmoid | gelu
    init: str = "default"  # default (PyTorch's Linear) | xavier (Xavier-uniform, zero bias)
    code_size: Optional[int] = None  # a fixed sparse code (random expansion, k-WTA) first
    code_active: int = 200  # its k winners
    # each code unit's threshold set to its mean drive over the first task's training images
    # (once, before any learning; SparseCode.calibrate)
    code_calibrated: bool = False
    # the code's projection drawn from this seed and not saved (a CLS counts 8 bytes for it);
    # null: drawn from the run's seed, saved with the model and counted in full
    code_seed: Optional[int] = None
    bias: bool = True  # false: no biases (a network to run as spiking units, Tadros et al.)
    # neurogenesis in the code (the dentate gyrus's): code_size is its capacity, this many units
    # born per task, newborns' extra drive code_newborn_excitability fading over
    # code_newborn_maturation training steps; null: every code unit from the start
    code_neurons_per_task: Optional[int] = None
    code_newborn_excitability: float = 0.0
    code_newborn_maturation: float = 100.0


@dataclass
class PlasticModelConfig:
    """What every plastic network shares: its readout and its critical period."""

    name: str = "hebbian_dense"
    readout: str = "backprop"  # backprop | delta | hebbian | class_means | neuron_labels
    readout_lr: Optional[float] = None  # delta and hebbian readouts; null: the rule's default
    readout_w_max: Optional[float] = None  # hebbian readout: synapses saturate here; null: never
    lr_decay: float = 1.0  # the features' plasticity at task k is lr_decay^k (0: frozen after task 0)


@dataclass
class HebbianDenseConfig(PlasticModelConfig):
    name: str = "hebbian_dense"
    width: int = 2000  # feature units
    rule: str = "krotov_hopfield"  # any rule of hebbnet.rules.RULES
    rule_options: Dict[str, Any] = field(default_factory=dict)  # the rule's keyword arguments
    lr: float = 0.02
    activation: str = "relu"  # relu | triangle
    homeostasis: List[str] = field(default_factory=list)  # scaling, intrinsic
    target: float = 0.05  # homeostatic target activity
    consolidation: bool = False  # tagging and capture on the feature layer
    # synapse turnover on the feature layer (SynapseTurnover, co-active growth, unused synapses
    # pruned): keep this fraction of the synapses; null: all, no turnover
    turnover_density: Optional[float] = None
    turnover_rate: float = 0.05  # the fraction of the kept synapses replaced per period
    turnover_period: int = 100  # plastic updates per period
    # neurogenesis: width is the capacity, this many units born per task, a newborn's extra
    # drive newborn_excitability fading over newborn_maturation plastic updates; null: all
    # units from the start
    neurons_per_task: Optional[int] = None
    newborn_excitability: float = 0.0
    newborn_maturation: float = 100.0


@dataclass
class SoftHebbConvConfig(PlasticModelConfig):
    name: str = "softhebb_conv"
    depth: int = 3  # blocks of Journé et al. (2023), 1-3


@dataclass
class DiehlCookConfig(PlasticModelConfig):
    name: str = "diehl_cook"
    readout: str = "neuron_labels"
    n_neurons: int = 400
    steps: int = 250  # time steps (ms) per image
    rule: str = "triplet"  # triplet (Diehl & Cook's code) | pair (BindsNET's PostPre)
    theta_plus: float = 0.05  # mV of adaptive threshold per spike
    inhibition: float = 120.0  # mV
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    # metaplasticity: neuron j's STDP rates × θ½/(θ½ + θ_j), θ_j its adaptive threshold (mV);
    # null: the same rates for every neuron
    theta_half: Optional[float] = None
    # L2 normalisation (Allred & Roy 2020): each neuron's input weights rescaled to this
    # Euclidean length instead of summing to 78.4, and each image to input_l2; null: not
    weight_l2: Optional[float] = None
    input_l2: Optional[float] = None
    neurons_per_task: Optional[int] = None  # neurogenesis: a block born per task, older protected
    # κ: evaluate with thresholds θ = κ‖w‖² (mV) instead of the learned θ; null: the learned θ
    threshold_from_weights: Optional[float] = None


@dataclass
class FlyConfig(PlasticModelConfig):
    """Defaults chosen on a validation split of Split MNIST (benchmarks/RESULTS.md, issue 18)."""

    name: str = "fly"
    readout: str = "hebbian"
    readout_w_max: Optional[float] = 30.0  # a synapse saturates after 30 co-activations
    kenyon_cells: int = 40000  # random expansion (Kenyon cells)
    active: int = 200  # k winners (APL inhibition): 0.5 %
    fan_in: Optional[int] = 32  # inputs each Kenyon cell sums (binary); null: dense Gaussian


@dataclass
class StrategyConfig:
    # naive | joint | ewc | online_ewc | si | lwf | er | agem | derpp | clser | cls
    name: str = "naive"
    # Tuned values per named experiment, applied by train.py (see hebbnet/config/published.py).
    published: Dict[str, Any] = field(default_factory=dict)


@dataclass
class EWCConfig(StrategyConfig):
    name: str = "ewc"
    ewc_lambda: float = 5000.0  # λ of the penalty (λ/2) Σ F (θ − θ*)²
    online: bool = False  # one running penalty (Schwarz et al. 2018) instead of one per task
    gamma: float = 1.0  # online only: decay of the running Fisher
    fisher_samples: Optional[int] = None  # samples per task for the Fisher; null: all


@dataclass
class OnlineEWCConfig(EWCConfig):
    name: str = "online_ewc"
    online: bool = True


@dataclass
class SIConfig(StrategyConfig):
    name: str = "si"
    c: float = 1.0  # strength of the surrogate penalty c Σ Ω (θ − θ*)²
    epsilon: float = 0.1  # ξ, damping of Ω = ω / (Δθ² + ξ)


@dataclass
class LwFConfig(StrategyConfig):
    name: str = "lwf"
    alpha: float = 1.0  # weight of the distillation term
    temperature: float = 2.0


@dataclass
class StoredSamplesConfig(StrategyConfig):
    """What every replay strategy shares: its buffer, and the CLS's storage and augmentation
    as options (for replay baselines at the CLS's bytes)."""

    buffer_size: int = 200  # stored samples
    replay_batch_size: Optional[int] = None  # stored samples per step; null: train.batch_size
    pixel_bits: Optional[int] = None  # 1 | 2 | 4 | 8: packed as the hippocampus packs; null: raw
    replay_shift: int = 0  # replayed images moved by up to this many pixels


@dataclass
class ReplayConfig(StoredSamplesConfig):
    policy: str = "reservoir"  # reservoir | class_balanced | class_reservoir (the hippocampus's)


@dataclass
class ERConfig(ReplayConfig):
    name: str = "er"
    weighting: str = "concat"  # concat (Mammoth) | tasks_seen (van de Ven et al.)


@dataclass
class AGEMConfig(ReplayConfig):
    name: str = "agem"


@dataclass
class CLSERConfig(ERConfig):
    """Defaults of the authors' code (NeurAI-Lab/CLS-ER, models/clser.py); their tuned values
    per setting are in hebbnet/conf/strategy/clser.yaml."""

    name: str = "clser"
    reg_weight: float = 0.1  # λ of the consistency term toward the better memory's logits
    plastic_update_rate: float = 0.9  # probability of updating the plastic memory after a step
    plastic_decay: float = 0.999  # its moving average's decay at most
    stable_update_rate: float = 0.7
    stable_decay: float = 0.999


@dataclass
class DERppConfig(StoredSamplesConfig):
    name: str = "derpp"  # a reservoir buffer, each sample with its logits
    alpha: float = 0.2  # weight of the logit-matching term
    beta: float = 0.5  # weight of the stored-label term; 0 gives DER


@dataclass
class SpikingSleepConfig:
    steps: int = 0  # steps of the sleep after the first task; 0: no spiking sleep
    steps_per_task: int = 0  # more steps per task learned before (Tadros et al.: steps / 3)
    input_window: Optional[int] = None  # each step, only a random w×w window of the mean image
    rate_scale: float = 0.5  # input firing probability per step = rate_scale · mean intensity
    alpha_scale: float = 1.0  # layer scaling α_l = alpha_scale · λ_{l−1} / λ_l
    thresholds: List[float] = field(default_factory=lambda: [1.0])  # β per layer
    decay: float = 0.999
    inc: float = 1e-3
    dec: float = 1e-4
    w0: float = 1e-3


@dataclass
class AttractorConfig:
    # share of the stream's samples stored in CA3's synapses (0.02 chosen on the validation
    # split over 0.01 and 0.02, code 1,000/20: benchmarks/RESULTS.md, issue 15; with
    # ca3_units=10000 and the code 1,000/100, 0.15 was chosen over 0.1)
    store_probability: float = 0.02
    iterations: int = 10  # settling steps at most
    # CA3 larger than the code: the code reaches it through a dentate expansion to ca3_units
    # with ca3_active winners, and a CA3 -> CA1 readout gives a reactivated state's code back;
    # null: CA3 is the code's own units
    ca3_units: int | None = None
    ca3_active: int = 20


@dataclass
class CLSConfig(StrategyConfig):
    name: str = "cls"
    memory_bytes: int = 156_800  # the slot hippocampus's budget (200 raw 28×28 images)
    # slots: episodes kept as packed samples within memory_bytes | attractor: codes stored in
    # CA3's synapses (needs store=codes; its bytes are N²/8 for N code units, whatever it holds)
    hippocampus: str = "slots"
    attractor: AttractorConfig = field(default_factory=AttractorConfig)
    pixel_bits: int = 1  # 1 | 2 | 4 | 8 bits per stored pixel
    wake_replay: bool = True  # replay hippocampal episodes beside every wake batch
    sleep_steps: int = 500  # NREM replay steps per sleep
    sleep_lr: Optional[float] = None  # null: train.lr
    sleep_batch_size: int = 128  # episodes per sleep replay step (its own, not train.batch_size)
    downscaling: float = 1.0  # 0 (none) … 1 (units above the median norm brought to it)
    downscale_layers: str = "output"  # output | all
    sleep_every: Optional[int] = None  # null: sleep after every task; N: every N wake steps
    store: str = "pixels"  # pixels | codes (the model's sparse input code; needs model.code_size)
    replay_shift: int = 2  # replayed episodes moved by up to this many pixels
    code_size: int = 2000  # dentate-gyrus expansion
    code_active: int = 50  # its k winners
    # Systems consolidation: the hippocampus is removed after this many sleeps (it stores and
    # replays nothing from then on); null: never. 0: a CLS without a hippocampus.
    lesion_after: Optional[int] = None
    # A slowly consolidating copy of the cortex: the moving average of its weights, decay d per
    # step (at most; 1 − 1/(n+1) over the first steps), answers at test time; null: none.
    slow_cortex_decay: Optional[float] = None
    # Unsupervised sleep (Tadros et al. 2022): the cortex run as spiking units on noise.
    spiking_sleep: SpikingSleepConfig = field(default_factory=SpikingSleepConfig)


@dataclass
class TrainConfig:
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    batch_size: int = 128
    iterations: Optional[int] = 2000  # optimiser steps per task; or null and set epochs
    epochs: Optional[float] = None  # passes over each task's data; or null and set iterations
    reset_optimizer: bool = False  # a fresh optimiser state at the start of every task
    eval_batch_size: int = 4096


@dataclass
class LoggerConfig:
    name: str = "tensorboard"  # tensorboard | none (metrics.json is written either way)
    log_every: int = 50  # steps between loss scalars
    eval_every: int = 0  # steps between test evaluations within a task; 0: after each task only
    histograms: bool = True  # weight histograms after each task
    progress: bool = True  # tqdm bars (shown only on a terminal)


@dataclass
class Config:
    seed: int = 0
    scenario: str = "class"  # task | domain | class (van de Ven et al. 2022)
    class_head: str = "expanding"  # class scenario: train seen classes' units, or full: all
    device: str = "cpu"  # cpu | cuda | cuda:N | auto
    threads: Optional[int] = None  # torch CPU threads; null: torch's, at most this process's cores
    resume: bool = False  # continue the run whose checkpoint is in the run directory
    data: DataConfig = field(default_factory=DataConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    model: Any = field(default_factory=MLPConfig)
    strategy: Any = field(default_factory=StrategyConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)


MODEL_SCHEMAS = {
    "mlp": MLPConfig,
    "hebbian_dense": HebbianDenseConfig,
    "softhebb_conv": SoftHebbConvConfig,
    "diehl_cook": DiehlCookConfig,
    "fly": FlyConfig,
}
STRATEGY_SCHEMAS = {
    "naive": StrategyConfig,
    "joint": StrategyConfig,
    "ewc": EWCConfig,
    "online_ewc": OnlineEWCConfig,
    "si": SIConfig,
    "lwf": LwFConfig,
    "er": ERConfig,
    "agem": AGEMConfig,
    "derpp": DERppConfig,
    "clser": CLSERConfig,
    "cls": CLSConfig,
}
