#!/usr/bin/env bash
# Quadratic time (issue 11, finding 3): keel's cost grows linearly (or
# n log n) with the number of INI sections and of CSV columns. Each case is
# timed at N and 4N (median of 3 runs, to stay robust on a busy machine);
# t(4N)/t(N) must be at most 5: a linear step gives about 4 (less, as long
# as start-up weighs in), a quadratic one about 16. The sizes make the
# quadratic code take seconds and the linear code a fraction of one.
# tests/bench/bench_quadratic.sh prints the same figures for more sizes.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME=$T/xdg/cache XDG_DATA_HOME=$T/xdg/data \
  XDG_CONFIG_HOME=$T/xdg/config

# gen_ini N FILE: a [keel] section, then N one-line sections (10 bytes each).
gen_ini() {
  awk -v n="$1" 'BEGIN {
    print "[keel]"; print "template = tabular-regression"
    print "template_version = >=1.0 <2"
    for (i = 1; i <= n; i++) printf "[s%06d]\n", i }' >"$2"
}

# gen_csv N DIR: DIR/wide.csv (N numeric columns, a categorical one, the
# label y) and DIR/wide.ini, which drops two of them, one-hot encodes the
# categorical one and standardizes the rest.
gen_csv() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  awk -v n="$n" 'BEGIN {
    for (c = 0; c < n; c++) printf "c%d,", c
    print "kind,y"
    for (r = 0; r < 40; r++) {
      for (c = 0; c < n; c++) printf "%d,", (r * 7 + c * 13) % 101
      printf "%s,%d\n", (r % 2 ? "a" : "b"), r
    } }' >"$dir/wide.csv"
  cat >"$dir/wide.ini" <<INI
[keel]
template = tabular-regression
template_version = >=1.0 <2

[data]
label = y

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
INI
}

# median3 WANT ARGS...: the median wall time (seconds) of three runs of
# `keel ARGS`, each of which must exit WANT.
median3() {
  local want=$1 i s e rc ts=()
  shift
  for i in 1 2 3; do
    s=$(date +%s%N)
    rc=0
    "$KEEL" "$@" >"$T/out" 2>&1 || rc=$?
    e=$(date +%s%N)
    if ((rc != want)); then
      echo "keel $*: exit $rc, expected $want" >&2
      show_output
    fi
    ts+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p
}

# scales LABEL T_N T_4N: t(4N)/t(N) <= 5 (times in microseconds).
scales() {
  local label=$1 a=$2 b=$3
  printf '%s: t(N) = %d ms, t(4N) = %d ms, ratio %d.%02d\n' "$label" \
    $((a / 1000)) $((b / 1000)) $((b / a)) $((b * 100 / a % 100)) >&2
  if ((b <= 5 * a)); then ok; else
    fail "$label: t(4N)/t(N) = $((b / a)).$((b * 100 / a % 100)) > 5: quadratic"
  fi
}

# INI sections: 10,000 and 40,000 (the 1 MiB limit holds about 104,000).
# Every section after [keel] is unknown, so check exits 2 once it has read
# them all; what is timed is reading and checking them.
gen_ini 10000 "$T/s10k.ini"
gen_ini 40000 "$T/s40k.ini"
t1=$(median3 2 check "$T/s10k.ini")
t4=$(median3 2 check "$T/s40k.ini")
scales "ini sections 10k -> 40k" "$t1" "$t4"

# CSV width: keel check at 5,000 and 20,000 columns.
gen_csv 5000 "$T/w5k"
gen_csv 20000 "$T/w20k"
t1=$(median3 0 check "$T/w5k/wide.ini")
t4=$(median3 0 check "$T/w20k/wide.ini")
scales "check csv columns 5k -> 20k" "$t1" "$t4"

finish
