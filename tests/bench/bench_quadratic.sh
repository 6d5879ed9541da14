#!/bin/bash
# Quadratic-time benchmark (issue 11, finding 3): generates inputs that are
# wide in one dimension and times keel on them at several sizes, each 4x the
# one before; prints the median of REPS runs and the ratio t(4N)/t(N).
# A linear step shows a ratio near 4, a quadratic one near 16 (small sizes
# are dominated by start-up, so their ratios are lower).
# Figures only: nothing passes or fails (tests/e2e/test_quadratic.sh is the
# ctest check).
#
#   tests/bench/bench_quadratic.sh KEEL [CASE...]
#
# KEEL   a built keel binary (e.g. build/core/keel)
# CASE   ini | check | prepare (default: all three)
#          ini      keel check on a manifest of N one-line sections
#                   ([s000001] ... 10 bytes each: 104,000 fill 1.04 MB)
#          check    keel check on a CSV of N numeric columns
#          prepare  keel run --until-transforms on the same CSV
# Env: REPS (default 3), INI_SIZES (default "6500 26000 104000"),
#      CSV_SIZES (default "1250 5000 20000"), ROWS (CSV rows, default 40).
set -euo pipefail
keel=$(realpath "${1:?usage: bench_quadratic.sh KEEL [ini|check|prepare...]}")
shift
cases=${*:-ini check prepare}
reps=${REPS:-3}
rows=${ROWS:-40}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C
unset OMP_NUM_THREADS KEEL_PLUGIN_PATH KEEL_TEMPLATE_PATH
export XDG_CACHE_HOME=$work/xdg/cache XDG_DATA_HOME=$work/xdg/data \
  XDG_CONFIG_HOME=$work/xdg/config

# gen_ini N FILE: a valid [keel] section, then N one-line sections.
gen_ini() {
  awk -v n="$1" 'BEGIN {
    print "[keel]"; print "template = tabular-regression"
    print "template_version = >=1.0 <2"
    for (i = 1; i <= n; i++) printf "[s%06d]\n", i }' >"$2"
}

# gen_csv N DIR: DIR/wide.csv with N numeric columns, a categorical one and
# the label y; DIR/wide.ini drops, one-hot encodes and standardizes it.
gen_csv() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  awk -v n="$n" -v rows="$rows" 'BEGIN {
    for (c = 0; c < n; c++) printf "c%d,", c
    print "kind,y"
    for (r = 0; r < rows; r++) {
      for (c = 0; c < n; c++) printf "%d,", (r * 7 + c * 13) % 101
      printf "%s,%d\n", (r % 3 == 0 ? "a" : (r % 3 == 1 ? "b" : "c")), r
    } }' >"$dir/wide.csv"
  cat >"$dir/wide.ini" <<INI
[keel]
template = tabular-regression
template_version = >=1.0 <2

[data]
label = y
valid_fraction = 0.25
split_seed = 1

[source]
plugin = csv
path = wide.csv

[transform.drop]
plugin = drop
columns = c0, c$((n - 1))

[transform.encode]
plugin = onehot
columns = kind

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
INI
}

# median_time CMD...: the median wall time of REPS runs, in seconds.
median_time() {
  local i s e ts=()
  for ((i = 0; i < reps; i++)); do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    ts+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${ts[@]}" | sort -g | sed -n "$(((reps + 1) / 2))p"
}

run_case() {
  local name=$1 sizes=$2 prev="" n t dir
  for n in $sizes; do
    dir=$work/$name-$n
    mkdir -p "$dir"
    case $name in
    ini)
      gen_ini "$n" "$dir/m.ini"
      t=$(median_time "$keel" check "$dir/m.ini")
      ;;
    check)
      gen_csv "$n" "$dir"
      t=$(median_time "$keel" check "$dir/wide.ini")
      ;;
    prepare)
      gen_csv "$n" "$dir"
      t=$(median_time "$keel" run "$dir/wide.ini" --until-transforms \
        --out "$dir/prep")
      ;;
    esac
    if [[ -n $prev ]]; then
      printf '%-8s N=%-7d %8.3f s   t(N)/t(N/4) = %.1f\n' "$name" "$n" "$t" \
        "$(echo "$t / $prev" | bc -l)"
    else
      printf '%-8s N=%-7d %8.3f s\n' "$name" "$n" "$t"
    fi
    prev=$t
    rm -rf "$dir"
  done
}

echo "keel: $keel ($("$keel" --version 2>&1 | head -1)); median of $reps"
for c in $cases; do
  case $c in
  ini) run_case ini "${INI_SIZES:-6500 26000 104000}" ;;
  check) run_case check "${CSV_SIZES:-1250 5000 20000}" ;;
  prepare) run_case prepare "${CSV_SIZES:-1250 5000 20000}" ;;
  *) echo "unknown case '$c'; expected ini, check or prepare" >&2; exit 2 ;;
  esac
done
