#!/bin/bash
# The run registry's two figures (issue 15), printed with the load average:
#
#   tests/bench/bench_registry.sh BUILD_DIR [WORK_DIR]
#
# 1. query: N_RUNS (default 100000) synthetic runs inserted through the
#    registry's own insert path (bench_registry), then
#      keel runs list --where 'optimizer.lr < 0.01 and valid.accuracy >= 0.95' --limit 50
#    end to end (the keel process included), warm: one untimed run, then
#    the median of REPS (default 9). Goal: under 200 ms.
# 2. import: N_BUNDLES (default 300) real bundles made once with `keel run`
#    of manifests/iris.ini (2 epochs, not registered), then `keel runs
#    import` of the folder into a fresh registry, every bundle verified;
#    the median of IMPORT_REPS (default 3) in bundles per second. Goal: at
#    least 200 bundles/s.
# WORK_DIR (default a folder under /tmp) keeps the registry and the bundles
# between invocations: they are made only when missing.
set -euo pipefail
build=$(cd "${1:?usage: bench_registry.sh BUILD_DIR [WORK_DIR]}" && pwd)
work=${2:-/tmp/keel-bench-registry}
src=$(cd "$(dirname "$0")/../.." && pwd)
keel=$build/keel
n_runs=${N_RUNS:-100000}
n_bundles=${N_BUNDLES:-300}
reps=${REPS:-9}
import_reps=${IMPORT_REPS:-3}
mkdir -p "$work"
export XDG_DATA_HOME=$work/xdg/data XDG_CONFIG_HOME=$work/xdg/config \
  XDG_CACHE_HOME=$work/xdg/cache

median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ms() { date +%s%N; }

echo "keel $("$keel" --version | head -n 1)"
echo "cpus: $(nproc), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. the query over N_RUNS runs -------------------------------------------
reg=$work/registry-$n_runs.db
if [ ! -f "$reg" ]; then
  "$build/tests/bench/bench_registry" "$reg.tmp" "$n_runs"
  mv "$reg.tmp" "$reg"
  rm -f "$reg.tmp-wal" "$reg.tmp-shm"
fi
where='optimizer.lr < 0.01 and valid.accuracy >= 0.95'
"$keel" runs list --registry "$reg" --where "$where" --limit 50 >/dev/null
rows=$("$keel" runs list --registry "$reg" --where "$where" --limit 50 --format csv | tail -n +2 | wc -l)
times=()
for _ in $(seq "$reps"); do
  t0=$(ms)
  "$keel" runs list --registry "$reg" --where "$where" --limit 50 >/dev/null
  t1=$(ms)
  times+=($(((t1 - t0) / 1000000)))
done
echo "query: keel runs list --where '$where' --limit 50"
echo "  over $n_runs runs ($(du -m "$reg" | cut -f1) MB): $rows rows," \
  "median $(printf '%s\n' "${times[@]}" | median) ms of $reps" \
  "(all: ${times[*]} ms; goal < 200 ms)"

# ---- 2. import of N_BUNDLES real bundles --------------------------------------
bundles=$work/bundles
have=$( (find "$bundles" -name '*.tar.gz' 2>/dev/null || true) | wc -l)
if [ "$have" -lt "$n_bundles" ]; then
  echo "making $((n_bundles - have)) bundles (once) ..."
  for i in $(seq "$have" $((n_bundles - 1))); do
    "$keel" run "$src/manifests/iris.ini" train.epochs=2 train.seed=$((i + 1)) \
      --out "$bundles" --quiet --no-register >/dev/null
  done
fi
have=$(find "$bundles" -name '*.tar.gz' | wc -l)
rates=()
for _ in $(seq "$import_reps"); do
  rm -f "$work/import.db" "$work/import.db-wal" "$work/import.db-shm"
  t0=$(ms)
  out=$("$keel" runs import --registry "$work/import.db" "$bundles")
  t1=$(ms)
  rates+=($(awk -v n="$have" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}'))
done
echo "import: keel runs import of $have bundles ($(du -sm "$bundles" | cut -f1) MB), each verified"
echo "  $out"
echo "  median $(printf '%s\n' "${rates[@]}" | median) bundles/s of $import_reps" \
  "(all: ${rates[*]}; goal >= 200 bundles/s)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
