#!/usr/bin/env bash
# One process against torchrun's two ranks, alternating in one session: class-incremental Split
# MNIST, one epoch per task, seed 1, for the MLP (naive) and the dense Krotov-Hopfield network
# (class-mean readout). Arms, in this order within each of three rounds: one process at 1
# thread, one process at 2 threads, torchrun with 2 ranks at 1 thread each. Prints each arm's
# whole-process seconds (timed from outside) and the run's own accuracy and training seconds.
#   bash benchmarks/torchrun_speed.sh [DATA_ROOT]      (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
OUT=$(mktemp -d)
MLP="strategy=naive train.epochs=1 train.iterations=null train.batch_size=128"
KH="experiment=plastic_split_mnist model=hebbian_dense model.readout=class_means"
COMMON="benchmark=split_mnist scenario=class data.root=$DATA logger=none logger.progress=false seed=1"
for model in MLP KH; do
  for round in 1 2 3; do
    line="$model round $round"
    for arm in one_process_1_thread one_process_2_threads torchrun_2_ranks; do
      rm -rf "${OUT:?}/$arm"
      start=$(date +%s.%N)
      case $arm in
        one_process_1_thread) OMP_NUM_THREADS=1 python train.py ${!model} $COMMON threads=1 \
                                hydra.run.dir="$OUT/$arm" > "$OUT/$arm.log" 2>&1 ;;
        one_process_2_threads) OMP_NUM_THREADS=2 python train.py ${!model} $COMMON threads=2 \
                                 hydra.run.dir="$OUT/$arm" > "$OUT/$arm.log" 2>&1 ;;
        torchrun_2_ranks) OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 train.py \
                            ${!model} $COMMON threads=1 hydra.run.dir="$OUT/$arm" > "$OUT/$arm.log" 2>&1 ;;
      esac
      end=$(date +%s.%N)
      own=$(python -c "import json; m = json.load(open('$OUT/$arm/metrics.json')); \
print(f\"acc {100 * m['acc']:.2f} % training {m['train_seconds']:.2f} s\")")
      line="$line | $arm: whole $(python -c "print(f'{$end - $start:.2f}')") s, $own"
    done
    echo "$line"
  done
done
rm -rf "$OUT"
