"""Run one continual-learning experiment.

    python train.py                                   # Split Digits, class-incremental
    python train.py benchmark=split_mnist scenario=class strategy=naive data.root=../shared/data seed=1
    python train.py experiment=vdv2022_split_mnist scenario=domain
    python train.py --multirun seed=1,2,3 strategy=naive,joint
    python train.py resume=true hydra.run.dir=DIR     # continue an interrupted run

Configuration lives in conf/ and is typed by hebbnet/config/schema.py.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from hebbnet.config.overrides import unknown_key_messages
from hebbnet.config.published import apply_published, override_keys
from hebbnet.config.store import register_configs
from hebbnet.continual import RunDirectoryError, run_experiment
from hebbnet.continual.report import format_report
from hebbnet.continual.strategies import NonFiniteLossError

CONFIG_DIR = Path(__file__).resolve().parent / "conf"
log = logging.getLogger("train")

register_configs()


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        applied = apply_published(cfg, hydra_cfg.runtime.choices.get("experiment"),
                                  override_keys(list(hydra_cfg.overrides.task)))
        if applied:
            log.info("Published values for this experiment: %s", applied)
        config = OmegaConf.to_object(cfg)
        metrics = run_experiment(config, run_dir)
    except NonFiniteLossError as error:
        log.error("%s The checkpoint of the last finished task is kept in %s.", error, run_dir)
        raise SystemExit(1) from error
    except (ValueError, OSError, RunDirectoryError) as error:
        log.error("%s", error)
        raise SystemExit(1) from error
    tensorboard_dir = run_dir / "tensorboard" if config.logger.name == "tensorboard" else None
    print(format_report(metrics, run_dir, tensorboard_dir))
    return metrics["acc"]


if __name__ == "__main__":
    try:
        main()
    except SystemExit as stop:
        # Hydra rejects an unknown key without listing the valid ones; explain it (the check
        # composes the config again, so it runs only when a run has failed).
        problems = unknown_key_messages(sys.argv[1:], CONFIG_DIR) if stop.code else []
        if problems:
            print("\n".join(problems), file=sys.stderr)
            sys.exit(2)
        raise
