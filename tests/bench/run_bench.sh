#!/bin/bash
# Training benchmarks side by side with the peers (PyTorch CPU), printed as
# one table of medians and ratios. Figures only: nothing here passes/fails.
#
#   tests/bench/run_bench.sh BUILD_DIR DIGITS_CSV[.gz] [PEERS_DIR]
#
# BUILD_DIR   a configured and built keel tree (holds tests/bench/bench_train
#             and plugins-out/)
# DIGITS_CSV  the digits table (64 pixel columns, then the label)
# PEERS_DIR   optional: the peer scripts (../shared/bench/peers); run only
#             when /usr/bin/python3 can import torch
# Env: REPS (default 5), THREADS (default "1 2"), PEERS_DATA (synth cache),
#      PY (the python with torch; default /usr/bin/python3), SEAL (default
#      1: also time what sealing adds to `keel run manifests/digits.ini`,
#      bench_seal), TASKS (default "digits synth").
set -euo pipefail
build=${1:?usage: run_bench.sh BUILD_DIR DIGITS_CSV [PEERS_DIR]}
digits=${2:?usage: run_bench.sh BUILD_DIR DIGITS_CSV [PEERS_DIR]}
peers=${3:-}
reps=${REPS:-5}
threads=${THREADS:-1 2}
bench="$build/tests/bench/bench_train"
plugins="$build/plugins-out"
tasks=${TASKS:-digits synth}
src=$(cd "$(dirname "$0")/../.." && pwd)
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

py=${PY:-/usr/bin/python3}
if [ -n "$peers" ] && "$py" -c 'import torch' 2>/dev/null; then
  export PEERS_DATA=${PEERS_DATA:-/tmp/peers-data}
  mkdir -p "$PEERS_DATA"
  # The synthetic set exactly as gen_synth.py makes it, npz only (the CSV
  # and libsvm copies it also writes are not needed here and take minutes).
  [ -f "$PEERS_DATA/synth.npz" ] || "$py" - <<'PY'
import os, numpy as np
N, D, NOISE = 200000, 100, 0.3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D), dtype=np.float32); w = rng.standard_normal(D)
y = ((X.astype(np.float64) @ (w / np.linalg.norm(w))) + NOISE * rng.standard_normal(N) > 0).astype(np.int8)
np.savez(os.path.join(os.environ["PEERS_DATA"], "synth.npz"), X=X, y=y)
PY
  echo "env torch=$("$py" -c 'import torch; print(torch.__version__)')" | tee -a "$out"
  for task in digits_mlp synth_logreg; do
    case "$task" in digits_mlp) k=digits ;; *) k=synth ;; esac
    case " $tasks " in *" $k "*) ;; *) continue ;; esac
    for t in $threads; do
      load "before torch $task threads=$t"
      (cd "$peers" && "$py" torch_peer.py --task "$task" --threads "$t" --reps "$reps") | tee -a "$out"
    done
  done
else
  echo "note: peers skipped (no PEERS_DIR given or $py cannot import torch)"
fi

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
