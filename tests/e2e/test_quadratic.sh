#!/usr/bin/env bash
# Quadratic time (issue 11, finding 3): keel's cost grows linearly (or
# n log n) with the number of INI sections and of CSV columns. Each case is
# timed at N and 4N (median of 3 runs, to stay robust on a busy machine);
# t(4N)/t(N) must be at most 5: a linear step gives about 4 (less, as long
# as start-up weighs in), a quadratic one about 16. The sizes make the
# quadratic code take seconds and the linear code a fraction of one.
# tests/bench/bench_quadratic.sh prints the same figures for more sizes.
. "$(dirname "$0")/lib.sh"

. "$KEEL_SRC/tests/bench/quadratic_inputs.sh"

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
