"""Run one continual-learning experiment from the command line.

    hebbnet-train                                     # Split Digits, class-incremental
    hebbnet-train benchmark=split_mnist scenario=class strategy=naive data.root=../shared/data seed=1
    hebbnet-train experiment=vdv2022_split_mnist scenario=domain
    hebbnet-train --multirun seed=1,2,3 strategy=naive,joint
    hebbnet-train resume=true hydra.run.dir=DIR       # continue an interrupted run, as started

``python -m hebbnet`` and the repository's ``train.py`` are the same command. Configuration
lives in ``hebbnet/conf/`` (installed with the package) and is typed by
:mod:`hebbnet.config.schema`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import cast

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from hebbnet.config.overrides import (
    SavedOverridesError,
    missing_launcher_message,
    unknown_key_messages,
    with_saved_overrides,
)
from hebbnet.config.published import apply_published, override_keys, unpublished_setting
from hebbnet.config.schema import Config
from hebbnet.config.store import register_configs
from hebbnet.continual import RunDirectoryError, run_experiment
from hebbnet.continual.factory import resolve_device
from hebbnet.continual.report import format_report
from hebbnet.distributed import (
    RankFailedError,
    from_rank_zero,
    join_torchrun,
    leave_torchrun,
    rank,
)
from hebbnet.files import write_text
from hebbnet.layers import PlasticityDivergedError
from hebbnet.registry import PACKAGED_CONFIGS
from hebbnet.run_directory import CHECKPOINT_NAME, TENSORBOARD_NAME, refuse_links

CONFIG_DIR = PACKAGED_CONFIGS  # shipped inside the package
log = logging.getLogger("train")

register_configs()


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    try:
        run_dir = _join_ranks(cfg, Path(hydra_cfg.runtime.output_dir))
        quiet = rank() > 0
    except ValueError as error:
        log.error("%s", error)
        raise SystemExit(1) from error
    record = _RunRecord(cfg, run_dir)
    try:
        experiment = hydra_cfg.runtime.choices.get("experiment")
        applied = apply_published(cfg, experiment, override_keys(list(hydra_cfg.overrides.task)))
        if applied:
            log.info("Published values for this experiment: %s", applied)
        if warning := unpublished_setting(cfg, experiment):
            log.warning("%s", warning)
        log.info("Run: %s", _summary(hydra_cfg, cfg))
        config = cast(Config, OmegaConf.to_object(cfg))
        metrics = run_experiment(config, run_dir, on_start=record.accept)
    except FloatingPointError as error:  # a NaN loss or weight
        log.error("%s%s %s", error, _layer_rate_key(error, cfg), _what_is_kept(run_dir))
        raise SystemExit(1) from error
    except (ValueError, TypeError, OSError, RunDirectoryError, RankFailedError) as error:
        log.error("%s", error)
        raise SystemExit(1) from error
    finally:
        record.close()
        leave_torchrun()
    tensorboard_dir = run_dir / TENSORBOARD_NAME if config.logger.name == "tensorboard" else None
    if not quiet:
        print(format_report(metrics, run_dir, tensorboard_dir))
    return metrics["acc"]


def _layer_rate_key(error: FloatingPointError, cfg: DictConfig) -> str:
    """A plastic layer's error names its own ``lr``; say which config key sets it."""
    rate = OmegaConf.select(cfg, "model.lr")
    if not isinstance(error, PlasticityDivergedError) or rate is None:
        return ""
    return f" (This run's plastic layer takes its lr from model.lr={rate}.)"


def _what_is_kept(run_dir: Path) -> str:
    """What a run stopped by a NaN leaves to resume from."""
    if (run_dir / CHECKPOINT_NAME).exists():
        return (f"The checkpoint of the last finished task is kept in {run_dir}: after the fix, "
                "resume=true continues from it (a setting that changes what is trained needs a "
                "new hydra.run.dir).")
    return "No task had finished, so no checkpoint was written: start the run again after the fix."


def _join_ranks(cfg: DictConfig, own_dir: Path) -> Path:
    """Under torchrun (``torchrun --nproc-per-node N train.py ...``): join the ranks, leave the
    console to rank 0, and return rank 0's run directory — Hydra names each rank's from its own
    clock (``${now:}``), so a rank's own, when it differs, is removed while still empty. In one
    process: ``own_dir``."""
    join_torchrun(resolve_device(cfg.device))
    if rank() > 0:
        logging.getLogger().setLevel(logging.WARNING)
    shared = Path(cast(str, from_rank_zero(str(own_dir))))
    if shared != own_dir and own_dir.is_dir() and not any(own_dir.iterdir()):
        own_dir.rmdir()
    return shared


class _RunRecord:
    """What Hydra would write into the run directory before the run starts — ``.hydra/`` (the
    config as composed, Hydra's own, the overrides) and the log file ``<job>.log`` — written
    only once the run is accepted, so that a refused start leaves the directory as it was."""

    def __init__(self, cfg: DictConfig, run_dir: Path):
        hydra_cfg = cast(DictConfig, HydraConfig.instance().cfg)
        self.run_dir = run_dir
        self.log_name = f"{hydra_cfg.hydra.job.name}.log"
        self.files = {
            "config.yaml": OmegaConf.to_yaml(cfg),
            "hydra.yaml": OmegaConf.to_yaml(hydra_cfg),
            "overrides.yaml": OmegaConf.to_yaml(hydra_cfg.hydra.overrides.task),
        }
        self.handler: logging.Handler | None = None

    def accept(self) -> None:
        """Write ``.hydra/`` and log to the file from now on (appending, on resume), in the
        console's format; neither may be a symbolic link, through which a directory someone
        handed over would have the run write elsewhere."""
        refuse_links(self.run_dir, [".hydra", self.log_name])
        (self.run_dir / ".hydra").mkdir(exist_ok=True)
        for name, text in self.files.items():
            write_text(self.run_dir / ".hydra" / name, text)
        root = logging.getLogger()
        self.handler = logging.FileHandler(self.run_dir / self.log_name)
        self.handler.setFormatter(root.handlers[0].formatter if root.handlers else None)
        root.addHandler(self.handler)

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()


def _summary(hydra_cfg, cfg: DictConfig) -> str:
    """The run in one line: the config groups chosen, scenario and seed, the overrides given
    (the whole config is saved in the run directory)."""
    choices = " ".join(f"{group}={choice}" for group, choice in
                       sorted(hydra_cfg.runtime.choices.items())
                       if choice and not group.startswith(("hydra", "schema")))
    overrides = " ".join(hydra_cfg.overrides.task) or "none"
    return f"{choices} scenario={cfg.scenario} seed={cfg.seed}; overrides: {overrides}"


def usage() -> str:
    """``--help``: the config groups a user chooses from and the keys most runs set (Hydra's
    own help also lists the schema's internal groups; it stays behind ``--hydra-help``)."""
    groups = sorted(d for d in CONFIG_DIR.iterdir() if d.is_dir() and d.name != "hydra")
    lines = ["hebbnet-train (= python -m hebbnet = python train.py): one continual-learning run.",
             "", "Config groups (group=option):"]
    lines += [f"  {d.name}: {', '.join(sorted(f.stem for f in d.glob('*.yaml')))}"
              for d in groups]
    lines += ["", "Keys most runs set: seed, scenario (task|domain|class), device, threads,",
              "  data.root, resume, train.{lr,batch_size,iterations,epochs},",
              "  logger.{log_every,eval_every,histograms,progress}, and model.* / strategy.*",
              "  of the chosen options (their files in hebbnet/conf/, their types in",
              "  hebbnet/config/schema.py).",
              "", "Every key with its value: --cfg job.  Hydra's flags: --hydra-help.",
              "Sweeps: --multirun (hydra/launcher=joblib|submitit_local|submitit_slurm)."]
    return "\n".join(lines)


def run() -> None:
    """The command line: ``hebbnet-train ...``, ``python -m hebbnet ...`` or ``python train.py
    ...`` (Hydra's overrides and flags)."""
    if {"--help", "-h"} & set(sys.argv[1:]):
        print(usage())
        return
    # resume=true hydra.run.dir=DIR alone: the run's saved overrides come back first.
    try:
        sys.argv[1:] = with_saved_overrides(sys.argv[1:], CONFIG_DIR)
    except SavedOverridesError as error:
        print(error, file=sys.stderr)
        sys.exit(2)
    # Hydra rejects an unknown key without listing the valid ones: check first and explain.
    problems = unknown_key_messages(sys.argv[1:], CONFIG_DIR)
    if launcher := missing_launcher_message(sys.argv[1:]):
        problems.append(launcher)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(2)
    main()
