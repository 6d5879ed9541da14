#!/bin/bash
# What a data-cache hit costs a run (issue 13: "a cache hit adds under 2 %
# to a run over a 500 MB CSV"), side by side with the uncached read.
#
#   tests/bench/bench_data_cache.sh BUILD_DIR [MB]
#
# BUILD_DIR  a built keel tree (keel, tests/bench/bench_csv, plugins-out/)
# MB         size of the generated numeric CSV (default 500; `bench_csv
#            gen`: 100 columns, never committed, removed at the end)
# Env: REPS (default 5), FULL=0 skips the full-run pair, IR=0 skips the
# instruction count (valgrind), IR_MB its file's size (default 50), TMPDIR.
#
# The file is catalogued (its SHA-256, rows counted, schema) at
# http://127.0.0.1:PORT/ok/FILE, served by tests/tools/http_fixture_server.py,
# which this script starts and stops itself (tests/e2e/lib.sh is a test
# harness: it wipes $KEEL_TMP and counts checks). One run fills the cache;
# then, interleaved run by run (as ab_csv.sh), each a fresh process on the
# page-cached bytes:
#   a  uncached: `dataset = big@1.0.0` from a catalog whose entry is the
#      file itself (location file:www/big.csv), read in place
#   b  cache hit: the same manifest, the entry at http://…, `--cache DIR`
# both with `keel run --until-transforms` (read + hash + split + fit, no
# training), and a full `keel run` of each (train.epochs=1: read, fit,
# one epoch, seal). Prints the load average before every figure, the
# medians (wall and CPU time) and b/a of both pairs, and checks that a and
# b wrote the same matrices and sealed the same result digest.
# --until-transforms writes ~190 MB of matrices, whose writeback makes its
# times noisier than the full run's: the full run is the figure to quote.
set -euo pipefail
build=$(realpath "${1:?usage: bench_data_cache.sh BUILD_DIR [MB]}")
mb=${2:-500}
reps=${REPS:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
keel=$build/keel
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-bench-cache.XXXXXX")
server=""
cleanup() {
  [[ -z $server ]] || kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export LC_ALL=C
unset OMP_NUM_THREADS KEEL_PLUGIN_PATH KEEL_TEMPLATE_PATH KEEL_CATALOG \
  KEEL_DATA_CACHE
export HOME=$work/home XDG_CACHE_HOME=$work/xdg/cache \
  XDG_DATA_HOME=$work/xdg/data XDG_CONFIG_HOME=$work/xdg/config
mkdir -p "$work/www" "$HOME"
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "env date=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpus=$(nproc) keel=\"$("$keel" --version | head -1)\" reps=$reps"
csv=$work/www/big.csv
"$build/tests/bench/bench_csv" gen "$csv" "$mb"
sha=$(sha256sum "$csv" | cut -c1-64)
rows=$(($(wc -l <"$csv") - 1))

/usr/bin/python3 "$src/tests/tools/http_fixture_server.py" "$work/www" \
  "$work/port" "$work/server.log" 2>"$work/server.err" &
server=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { echo "the server did not start: $(cat "$work/server.err")" >&2; exit 1; }

# the schema x0 .. x98 numeric, x99 the label, ten columns a line
{
  printf '[catalog]\nformat = 1\n\n[big@1.0.0]\n'
  printf 'location = http://127.0.0.1:%s/ok/big.csv\n' "$(cat "$work/port")"
  printf 'plugin = csv\nsha256 = %s\nrows = %s\nschema =' "$sha" "$rows"
  for j in $(seq 0 99); do
    ((j == 0)) || printf ','
    ((j == 0 || j % 10)) || printf '\n '
    printf ' x%d:numeric' "$j"
    ((j < 99)) || printf ':label\n'
  done
  printf 'owner = bench\nscope = public\nas_of = 2026-12-07\nlicense = CC0-1.0\n'
} >"$work/c.ini"
manifest() { # manifest FILE SOURCE-LINES
  cat >"$1" <<INI
[keel]
template = tabular-regression
template_version = >=1.0 <2

[data]
label = x99
valid_fraction = 0.2
split_seed = 1

[source]
$2

[transform.scale]
plugin = standardize

[model]
plugin = linear

[loss]
plugin = mse

[optimizer]
plugin = sgd

[train]
epochs = 1
batch_size = 256
INI
}
manifest "$work/cached.ini" 'dataset = big@1.0.0'
# the same entry read in place from the file (location file:www/big.csv)
sed 's#^location = .*#location = file:www/big.csv#' "$work/c.ini" >"$work/c-file.ini"
cache=$work/cache
a_args=("$work/cached.ini" --catalog "$work/c-file.ini")
b_args=("$work/cached.ini" --catalog "$work/c.ini" --cache "$cache")

# timed LABEL OUT ARGS...: one fresh `keel run ARGS --out OUT --quiet`;
# prints "LABEL load=... cpu=USER+SYS s=WALL" (seconds). The CPU time is
# printed too: on a shared machine the wall time of one run varies by
# +-20 %, the CPU time much less.
timed() {
  local label=$1 out=$2 l t
  shift 2
  rm -rf "$out"
  l=$(load)
  t=$({ TIMEFORMAT='%R %U %S' && time "$keel" run "$@" --out "$out" --quiet \
    >"$work/run.out" 2>"$work/run.err"; } 2>&1) ||
    { echo "$label failed:" >&2; cat "$work/run.err" >&2; exit 1; }
  echo "$label load=\"$l\" $(awk '{ printf "cpu=%.3f s=%.3f", $2 + $3, $1 }' <<<"$t")"
}
# what --until-transforms wrote (OUT/transforms-NAME/*), as one hash
written() { (cd "$1"/transforms-* && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }

timed fill "$work/out-fill" "${b_args[@]}" --until-transforms
gets=$(grep -c '"/ok/big.csv"' "$work/server.log" || true)
echo "fill requests=$gets rows=$rows bytes=$(stat -c %s "$csv")"
cat "$csv" "$cache/sha256/${sha:0:2}/$sha" >/dev/null # page cache

for _ in $(seq "$reps"); do
  timed a "$work/out-a" "${a_args[@]}" --until-transforms
  timed b "$work/out-b" "${b_args[@]}" --until-transforms
  if [[ ${FULL:-1} != 0 ]]; then
    timed full-a "$work/out-fa" "${a_args[@]}" train.epochs=1
    timed full-b "$work/out-fb" "${b_args[@]}" train.epochs=1
  fi
done | tee "$work/times"
wa=$(written "$work/out-a")
wb=$(written "$work/out-b")
[[ $wa == "$wb" ]] || { echo "ERROR: uncached and cached runs wrote different matrices ($wa, $wb)" >&2; exit 1; }
[[ $(grep -c '"/ok/big.csv"' "$work/server.log" || true) == "$gets" ]] ||
  { echo "ERROR: a cache hit made a request" >&2; exit 1; }
echo "until-transforms matrices=$wa (the same for a and b)"
if [[ ${FULL:-1} != 0 ]]; then
  digest() { "$keel" show "$1"/*.tar.gz | awk '$1 == "digest" { print $2 }'; }
  da=$(digest "$work/out-fa")
  db=$(digest "$work/out-fb")
  [[ -n $da && $da == "$db" ]] || { echo "ERROR: uncached and cached full runs gave different result digests ($da, $db)" >&2; exit 1; }
  echo "full-run result_digest=$da (the same for a and b)"
fi
# Instructions, which no neighbour on the machine changes: one full run of
# each under callgrind (the keel process only, one thread: an idle
# thread spinning in OpenMP would count too) on a
# smaller file of IR_MB (default 50) MB. What a hit adds is fixed, so its
# share of a run over 500 MB is about a tenth of this one's.
if [[ ${IR:-1} != 0 ]] && command -v valgrind >/dev/null; then
  irmb=${IR_MB:-50}
  small=$work/www/small.csv
  "$build/tests/bench/bench_csv" gen "$small" "$irmb" >/dev/null
  ssha=$(sha256sum "$small" | cut -c1-64)
  srows=$(($(wc -l <"$small") - 1))
  sed "s/^\[big@/[small@/; s#/ok/big.csv#/ok/small.csv#; s/^sha256 = .*/sha256 = $ssha/; s/^rows = .*/rows = $srows/" \
    "$work/c.ini" >"$work/cs.ini"
  sed 's#^location = .*#location = file:www/small.csv#' "$work/cs.ini" >"$work/cs-file.ini"
  manifest "$work/small.ini" 'dataset = small@1.0.0'
  "$keel" run "$work/small.ini" --catalog "$work/cs.ini" --cache "$cache" \
    --until-transforms --out "$work/out-sfill" --quiet >/dev/null
  irs() { # irs CATALOG: the instructions one full run executes
    rm -rf "$work/out-ir"
    OMP_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$keel" run \
      "$work/small.ini" --catalog "$1" --cache "$cache" train.epochs=1 \
      --out "$work/out-ir" --quiet 2>&1 >/dev/null | awk '/Collected :/ { print $NF }'
  }
  ia=$(irs "$work/cs-file.ini")
  ib=$(irs "$work/cs.ini")
  [[ -n $ia && -n $ib ]] || { echo "ERROR: callgrind printed no instruction count" >&2; exit 1; }
  awk -v a="$ia" -v b="$ib" -v mb="$irmb" 'BEGIN {
    printf "bench=data_cache full_run_epochs_1 instructions mb=%s uncached=%.0f cache_hit=%.0f added=%.0f b_over_a=%.6f overhead_pct=%.4f\n",
           mb, a, b, b - a, b / a, (b / a - 1) * 100 }' >"$work/ir"
fi
echo "env loadavg_after=\"$(load)\""

awk '
  { for (i = 2; i <= NF; i++) if (split($i, p, "=") == 2) v[p[1], $1, ++n[p[1], $1]] = p[2] }
  function median(k, side,   m, i, j, x, s) {
    m = n[k, side]
    for (i = 1; i <= m; i++) s[i] = v[k, side, i]
    for (i = 2; i <= m; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) {
      x = s[j]; s[j] = s[j - 1]; s[j - 1] = x }
    return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
  }
  END {
    for (q = 0; q < 2; q++) {
      k = q ? "cpu" : "s"
      a = median(k, "a"); b = median(k, "b")
      printf "bench=data_cache until_transforms %s uncached=%.3f cache_hit=%.3f b_over_a=%.4f overhead_pct=%.2f\n",
             q ? "cpu_s" : "wall_s", a, b, b / a, (b / a - 1) * 100
    }
    for (q = 0; q < 2 && n["s", "full-a"] && n["s", "full-b"]; q++) {
      k = q ? "cpu" : "s"
      a = median(k, "full-a"); b = median(k, "full-b")
      printf "bench=data_cache full_run_epochs_1 %s uncached=%.3f cache_hit=%.3f b_over_a=%.4f overhead_pct=%.2f\n",
             q ? "cpu_s" : "wall_s", a, b, b / a, (b / a - 1) * 100
    }
  }' "$work/times"
[[ ! -s $work/ir ]] || cat "$work/ir"
