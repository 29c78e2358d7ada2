"""Run one continual-learning experiment: the repository's entry to :mod:`hebbnet.cli`, the same
command as ``hebbnet-train`` and ``python -m hebbnet`` once the package is installed.

    python train.py                                   # Split Digits, class-incremental
    python train.py benchmark=split_mnist scenario=class strategy=naive data.root=../shared/data seed=1
    python train.py experiment=vdv2022_split_mnist scenario=domain
    python train.py --multirun seed=1,2,3 strategy=naive,joint
    python train.py resume=true hydra.run.dir=DIR     # continue an interrupted run, as started

Configuration lives in hebbnet/conf/ and is typed by hebbnet/config/schema.py.
"""

from hebbnet.cli import run

if __name__ == "__main__":
    run()
