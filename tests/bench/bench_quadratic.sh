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
# KEEL   a built keel binary (e.g. build/keel)
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

. "$src/tests/bench/quadratic_inputs.sh"

# median_time CMD...: the median wall time of REPS runs, in seconds.
median_time() {
  local i s e ts=()
  for ((i = 0; i < reps; i++)); do
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    ts+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f", e - s }')")
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
      gen_csv "$n" "$dir" "$rows"
      t=$(median_time "$keel" check "$dir/wide.ini")
      ;;
    prepare)
      gen_csv "$n" "$dir" "$rows"
      t=$(median_time "$keel" run "$dir/wide.ini" --until-transforms \
        --out "$dir/prep")
      ;;
    esac
    if [[ -n $prev ]]; then
      printf '%-8s N=%-7d %8.3f s   t(N)/t(N/4) = %.1f\n' "$name" "$n" "$t" \
        "$(awk -v a="$t" -v b="$prev" 'BEGIN { print a / b }')"
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
