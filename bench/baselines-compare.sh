#!/bin/sh
# The comparison of issue 17: MoMKE, MMIN, GCNet, the no-curriculum student and HARDY-MER on the
# synthetic `small` preset, 5 folds, seeds 1-3, six fixed conditions, validation selection, with the
# SHORT schedules of configs/demo.yaml (12 epochs per model: not the papers' 100-200, see
# docs/baselines.md). One run folder per method and seed, seed-major, so that a partial run has every
# method on the first seeds; re-running continues (--resume). Table: bench/baselines-table.ts.
#   DATA=... OUT=... SEEDS="1 2 3" FOLDS=1,2,3,4,5 CONDITIONS=a,t,v,at,av,tv METHODS="..." sh bench/baselines-compare.sh
set -e
DATA=${DATA:-bench/out/small}
OUT=${OUT:-bench/out/compare}
SEEDS=${SEEDS:-"1 2 3"}
METHODS=${METHODS:-"momke mmin gcnet no-curriculum hardy"}
FOLDS=${FOLDS:-1,2,3,4,5}
CONDITIONS=${CONDITIONS:-a,t,v,at,av,tv}
[ -f "$DATA/difficulty.json" ] || node bin/hardy-mer.js synth --out "$DATA" --preset small --seed 1
for s in $SEEDS; do
  for m in $METHODS; do
    node bin/hardy-mer.js train --data "$DATA" --config configs/demo.yaml --method "$m" --seeds "$s" \
      --folds "$FOLDS" --conditions "$CONDITIONS" --out "$OUT/$m-s$s" --resume --quiet
  done
done
