#!/bin/bash
# Training benchmarks side by side with the peers (PyTorch CPU,
# scikit-learn), printed as one table of medians and ratios. Figures only:
# nothing here passes/fails.
#
#   tests/bench/run_bench.sh BUILD_DIR DIGITS_CSV [PEERS_DIR]
#
# BUILD_DIR   a configured and built keel tree (holds tests/bench/bench_train
#             and plugins-out/)
# DIGITS_CSV  the digits table (64 pixel columns, then the label)
# PEERS_DIR   the peer scripts (default: tests/bench/peers/ of this tree;
#             tests/bench/peers/README.md says where they come from)
# Env: REPS (default 5), THREADS (default "1 2"), PEERS_DATA (synth cache),
#      PY (the python with the peers' modules; default /usr/bin/python3),
#      PEERS (default "torch sklearn"; empty: keel's figures only), SEAL
#      (default 1: also time what sealing adds to `keel run
#      manifests/digits.ini`, bench_seal), TASKS (default "digits synth").
# A peer whose runtime is missing (PY cannot import torch, sklearn, numpy,
# ...) is skipped with a note saying which module; keel's figures and the
# table still print. A peer that fails while running is noted the same way.
set -euo pipefail
usage="usage: run_bench.sh BUILD_DIR DIGITS_CSV [PEERS_DIR]"
build=${1:?$usage}
digits=${2:?$usage}
reps=${REPS:-5}
threads=${THREADS:-1 2}
bench="$build/tests/bench/bench_train"
plugins="$build/plugins-out"
tasks=${TASKS:-digits synth}
src=$(cd "$(dirname "$0")/../.." && pwd)
peers_dir=${3:-$src/tests/bench/peers}
peers=${PEERS-torch sklearn}
py=${PY:-/usr/bin/python3}
for peer in $peers; do
  case $peer in
    torch | sklearn)
      if [ ! -f "$peers_dir/${peer}_peer.py" ] || [ ! -f "$peers_dir/common.py" ]; then
        echo "run_bench.sh: $peers_dir lacks ${peer}_peer.py or common.py" >&2
        exit 2
      fi ;;
    *) echo "run_bench.sh: unknown peer '$peer' in PEERS (known: torch sklearn)" >&2
       exit 2 ;;
  esac
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "env date=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpus=$(nproc) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" | tee -a "$out"
load() { echo "env loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" $*" | tee -a "$out"; }
case " $tasks " in *" digits "*)
  for t in $threads; do
    load "before keel digits threads=$t"
    "$bench" digits "$plugins" "$digits" --threads "$t" --reps "$reps" | tee -a "$out"
  done ;;
esac
case " $tasks " in *" synth "*)
  for t in $threads; do
    load "before keel synth threads=$t"
    "$bench" synth "$plugins" --threads "$t" --reps "$reps" | tee -a "$out"
  done ;;
esac
if [ "${SEAL:-1}" = 1 ] && [ -x "$build/tests/bench/bench_seal" ]; then
  for t in $threads; do
    load "before keel seal threads=$t"
    "$build/tests/bench/bench_seal" "$plugins" "$src/manifests/digits.ini" \
      --threads "$t" --reps "$reps" | tee -a "$out"
  done
fi

# ---- peers ------------------------------------------------------------------
skipped=""
# skip WHAT WHY: note a peer run that does not happen, now and after the table.
skip() {
  echo "note: $1 skipped: $2"
  skipped="$skipped
  $1: $2"
}
# missing_module MODULE...: the first MODULE that $py cannot import.
missing_module() {
  local m
  for m in "$@"; do
    "$py" -c "import $m" 2>/dev/null || { echo "$m"; return; }
  done
}
# The peer task that matches keel's task, and the modules it needs: the
# peers' common.py loads digits through sklearn's bundled copy and synth
# through numpy.
peer_task() { case $1 in digits) echo digits_mlp ;; synth) echo synth_logreg ;; esac; }
modules() {
  local m="numpy"
  case $1 in
    torch) m="$m torch" ;;
    sklearn) m="$m sklearn threadpoolctl" ;;
  esac
  if [ "$2" = digits ]; then m="$m sklearn"; fi
  echo "$m"
}
# The synthetic set exactly as gen_synth.py makes it, npz only (the CSV
# and libsvm copies it also writes are not needed here and take minutes).
synth_data() {
  export PEERS_DATA=${PEERS_DATA:-/tmp/peers-data}
  mkdir -p "$PEERS_DATA"
  [ -f "$PEERS_DATA/synth.npz" ] || "$py" - <<'PY'
import os, numpy as np
N, D, NOISE = 200000, 100, 0.3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D), dtype=np.float32); w = rng.standard_normal(D)
y = ((X.astype(np.float64) @ (w / np.linalg.norm(w))) + NOISE * rng.standard_normal(N) > 0).astype(np.int8)
np.savez(os.path.join(os.environ["PEERS_DATA"], "synth.npz"), X=X, y=y)
PY
}

for peer in $peers; do
  versioned=0
  for k in $tasks; do
    task=$(peer_task "$k")
    [ -n "$task" ] || continue
    # shellcheck disable=SC2046 # the module list is split on purpose
    miss=$(missing_module $(modules "$peer" "$k"))
    if [ -n "$miss" ]; then
      skip "peer $peer $task" "$py cannot import $miss"
      continue
    fi
    if [ "$k" = synth ] && ! synth_data; then
      skip "peer $peer $task" "could not make the synthetic set in $PEERS_DATA"
      continue
    fi
    if [ "$versioned" = 0 ]; then
      echo "env $peer=$("$py" -c "import $peer; print($peer.__version__)")" | tee -a "$out"
      versioned=1
    fi
    for t in $threads; do
      load "before $peer $task threads=$t"
      rc=0
      (cd "$peers_dir" && "$py" "${peer}_peer.py" --task "$task" --threads "$t" --reps "$reps") |
        tee -a "$out" || rc=$?
      if [ "$rc" != 0 ]; then
        skip "peer $peer $task threads=$t" "it failed (exit $rc)"
      fi
    done
  done
done

# Table: medians, samples/s, keel vs torch at the same thread count, and
# each peer's own 2-thread / 1-thread speed-up.
awk '
  /^peer=/ {
    delete kv
    for (i = 1; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
    key = kv["peer"] SUBSEP kv["task"] SUBSEP kv["threads"]
    rows[++n] = key; sps[key] = kv["samples_per_s"]; ts[key] = kv["train_s"]
    acc[key] = ("test_acc" in kv) ? kv["test_acc"] : "-"
    extra[key] = ("keel_over_mono" in kv) ? "keel/mono time " kv["keel_over_mono"] ", same bits " kv["same_weight_bits"] : ""
    if ("seal_over_rest" in kv) {
      ts[key] = kv["run_s"]; sps[key] = "-"
      extra[key] = "seal " kv["seal_s"] " s = " kv["seal_over_rest"] " of the rest of the run"
    }
  }
  END {
    print ""
    print "| task | peer | threads | train s (median) | samples/s | test acc | vs torch same threads | 2t/1t | note |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      k = rows[i]; split(k, f, SUBSEP)
      tk = "torch" SUBSEP f[2] SUBSEP f[3]
      vs = (f[1] != "torch" && (tk in sps) && sps[tk] > 0) ? sprintf("%.2fx", sps[k] / sps[tk]) : "-"
      one = f[1] SUBSEP f[2] SUBSEP 1
      sc = (f[3] != 1 && (one in sps) && sps[one] > 0) ? sprintf("%.2fx", sps[k] / sps[one]) : "-"
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[2], f[1], f[3], ts[k], sps[k], acc[k], vs, sc, extra[k]
    }
  }' "$out"
if [ -n "$skipped" ]; then
  echo
  echo "skipped:$skipped"
fi
