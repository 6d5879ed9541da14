#!/bin/bash
# TPE against random search on a real model's validation loss (issue 15):
# `keel sweep` of the shipped digits manifest (an mlp, adam) with the
# objective valid.loss min over three tuned parameters, once with
# --strategy tpe and once with --strategy random for each seed. Prints per
# seed the best valid.loss of each strategy (and the trial that found it),
# how many seeds TPE won (a tie, when the best came from the start-up
# trials both strategies share, is not a win), the medians over seeds and
# the load average. Figures only: nothing passes or fails.
#
#   tests/bench/run_sweep_tpe_bench.sh BUILD_DIR
#
# BUILD_DIR  a built keel tree (BUILD_DIR/keel and its plugins)
# Env: SEEDS (default 10: seeds 1..SEEDS), TRIALS (default 40), JOBS
#      (default 2), EPOCHS (default 10: each trial's train.epochs), PYTHON
#      (default python3; reads the sweeps' `keel show --json`), KEEP=1
#      keeps the scratch folder (the sweeps' bundles) and prints its path.
#
# The manifest, the templates and the data are copied into a scratch
# folder first, so an edit of the source tree while the benchmark runs
# changes nothing. Each sweep gets its own empty run registry, so no trial
# is reused from another sweep (the start-up trials of both strategies are
# the same runs) and every sweep's wall time counts all its trials.
set -euo pipefail
build=${1:?usage: run_sweep_tpe_bench.sh BUILD_DIR}
seeds=${SEEDS:-10}
trials=${TRIALS:-40}
jobs=${JOBS:-2}
epochs=${EPOCHS:-10}
python=${PYTHON:-python3}
keel=$(cd "$build" && pwd)/keel
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$keel" ] || { echo "run_sweep_tpe_bench.sh: no $keel (build first)" >&2; exit 2; }

tmp=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then
  echo "scratch folder (kept): $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
# the registry's default and any user configuration stay out of it
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_DATA_HOME=$tmp/home/.local/share \
  XDG_CACHE_HOME=$tmp/home/.cache LC_ALL=C
mkdir -p "$HOME"
cp -r "$src/manifests/templates" "$src/manifests/data" "$tmp/"
m=$tmp/bench.ini
sed "s/^epochs = .*/epochs = $epochs/" "$src/manifests/digits.ini" >"$m"
cat >>"$m" <<'EOF'

; the benchmark's space: three parameters, each inside the template's
; [tune] space (keel check proves it)
[tune]
objective = valid.loss min

[tune.optimizer.adam]
lr = loguniform(0.0001, 0.1)

[tune.train]
batch_size = choice(8, 16, 32, 64, 128)

[tune.model.mlp]
hidden = int(8, 256)
EOF
"$keel" check "$m" >"$tmp/check.txt" 2>&1 || { cat "$tmp/check.txt" >&2; exit 1; }

rev=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  rev="$rev (with uncommitted changes)"
fi
echo "env date=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpus=$(nproc) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
echo "env keel=\"$("$keel" --version)\" source=$rev"
echo "env manifest=manifests/digits.ini train.epochs=$epochs objective=\"valid.loss min\" seeds=1..$seeds trials=$trials jobs=$jobs"
echo "env space: optimizer.lr loguniform(0.0001, 0.1); train.batch_size choice(8, 16, 32, 64, 128); model.hidden int(8, 256)"

# best KEEL_SHOW_JSON: "objective trial ok failed" of a sweep's bundle
best_of() {
  "$keel" show "$1" --json | "$python" -c '
import json, sys
d = json.load(sys.stdin)["sweep"]
b = d["best"]
ok = sum(1 for t in d["trials"] if t["status"] == "ok")
print(repr(b["objective"]), b["trial"] + 1, ok, len(d["trials"]) - ok)'
}

res=$tmp/results.txt
: >"$res"
start=$(date +%s)
printf '%-5s %-7s %22s %6s %5s %7s %7s\n' seed strategy best_valid_loss trial ok failed wall_s
for seed in $(seq 1 "$seeds"); do
  for strategy in tpe random; do
    t0=$(date +%s.%N)
    sb=$("$keel" sweep "$m" --strategy "$strategy" --trials "$trials" --jobs "$jobs" --seed "$seed" \
      --out "$tmp/sweeps/$strategy-$seed" --registry "$tmp/registry-$strategy-$seed.db" -q | tail -n 1)
    t1=$(date +%s.%N)
    read -r obj trial ok failed < <(best_of "$sb")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    printf '%-5s %-7s %22s %6s %5s %7s %7s\n' "$seed" "$strategy" "$obj" "$trial" "$ok" "$failed" "$wall"
    echo "$seed $strategy $obj" >>"$res"
  done
done

awk -v seeds="$seeds" '
  { best[$1, $2] = $3; v[$2] = v[$2] " " $3 }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    w = 0; l = 0; t = 0
    for (s = 1; s <= seeds; s++) {
      if (best[s, "tpe"] + 0 < best[s, "random"] + 0) w++
      else if (best[s, "tpe"] + 0 > best[s, "random"] + 0) l++
      else t++
    }
    printf "median best valid.loss over seeds 1..%d: tpe %.6g, random %.6g\n", seeds, median(v["tpe"]), median(v["random"])
    printf "TPE better than random in %d of %d seeds (worse in %d, tied in %d)\n", w, seeds, l, t
  }' "$res"
echo "env loadavg_end=\"$(cut -d' ' -f1-3 /proc/loadavg)\" total_wall_s=$(($(date +%s) - start))"
