#!/bin/bash
# TPE benchmark (issue 15): keel's TPE and random search through the
# samplers' C interface (bench_tpe) beside Optuna 3.1's TPESampler
# (tpe_optuna.py) on the same functions, trials and seeds. Prints, per
# function, the median over seeds of the best value found, how many seeds
# keel's TPE beat keel's random search (ties, when the best came from the
# start-up trials both share, are not wins), and the load average. Figures
# only: nothing passes or fails.
#
#   tests/bench/run_tpe_bench.sh BUILD_DIR
#
# BUILD_DIR  a built keel tree (tests/bench/bench_tpe)
# Env: SEEDS (default 10: seeds 1..SEEDS), TRIALS (default 40), FUNCTIONS
#      (default "branin hartmann6 mixed"), PYTHON (default /usr/bin/python3,
#      where Debian's python3-optuna installs; NO_OPTUNA=1 skips Optuna).
#
# keel proposes in rounds (the sweep driver's round_size): round 1 is one
# trial at a time, as Optuna runs here; round 4 proposes four trials from
# the same history (the round's earlier proposals counted as running).
set -euo pipefail
build=${1:?usage: run_tpe_bench.sh BUILD_DIR}
seeds=${SEEDS:-10}
trials=${TRIALS:-40}
functions=${FUNCTIONS:-branin hartmann6 mixed}
python=${PYTHON:-/usr/bin/python3}
bench="$build/tests/bench/bench_tpe"
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "env date=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpus=$(nproc) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" seeds=1..$seeds trials=$trials"
for f in $functions; do
  "$bench" --function "$f" --trials "$trials" --seeds "$seeds" --round-size 1 --csv >>"$out"
  "$bench" --function "$f" --trials "$trials" --seeds "$seeds" --round-size 4 --csv |
    sed 's/,keel-\(tpe\|random\),4,/,keel-\1-r4,4,/' >>"$out"
  if [ -z "${NO_OPTUNA:-}" ]; then
    "$python" "$here/tpe_optuna.py" --function "$f" --trials "$trials" --seeds "$seeds" --csv >>"$out"
  fi
done

# median of the best values per (function, sampler); wins of keel's TPE
# over keel's random search on the same seed
awk -F, '
  { v[$1","$2] = v[$1","$2] " " $5; best[$1","$2","$4] = $5; fn[$1] = 1 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n == 0 ? "-" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
  }
  function wins(f, tpe, rnd,   k, w, s) {
    w = 0
    for (k in best) { split(k, s, ","); if (s[1] == f && s[2] == tpe && best[k] + 0 < best[f "," rnd "," s[3]] + 0) w++ }
    return w
  }
  END {
    printf "%-10s %14s %14s %14s %14s %14s %10s %10s\n", "function", "keel-tpe", "keel-random", "keel-tpe-r4", "keel-rand-r4", "optuna-tpe", "wins-r1", "wins-r4"
    for (f in fn) {
      o = (f ",optuna-tpe" in v) ? sprintf("%.6g", median(v[f ",optuna-tpe"])) : "-"
      printf "%-10s %14.6g %14.6g %14.6g %14.6g %14s %10s %10s\n", f,
        median(v[f ",keel-tpe"]), median(v[f ",keel-random"]),
        median(v[f ",keel-tpe-r4"]), median(v[f ",keel-random-r4"]), o,
        wins(f, "keel-tpe", "keel-random") "/'"$seeds"'", wins(f, "keel-tpe-r4", "keel-random-r4") "/'"$seeds"'"
    }
  }' "$out" | { read -r header; echo "$header"; sort; }
echo "medians of the best value over seeds 1..$seeds (lower is better); wins: seeds where keel's TPE beat keel's random search"
echo "env loadavg_end=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
