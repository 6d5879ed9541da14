#!/usr/bin/env bash
# Builds the CSV fuzz target with clang (libFuzzer + ASan + UBSan) and runs
# it for N seconds (default 60) on the committed corpus.
#
#   tests/fuzz/run_fuzz.sh [SECONDS] [--update-corpus]
#
# Scratch work goes to build-fuzz/ (ignored). With --update-corpus the new
# inputs found are merged (minimised, libFuzzer -merge=1) back into
# tests/fuzz/corpus/csv/ so the next run starts from them. A finding
# (crash, leak, sanitizer report or contract violation) exits non-zero and
# leaves the reproducer in build-fuzz/ (crash-*); replay it with
#   build-fuzz/fuzz_csv build-fuzz/crash-...
set -euo pipefail
seconds=${1:-60}
update=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${KEEL_FUZZ_BUILD:-$root/build-fuzz}
cc=${CLANG:-clang}
mkdir -p "$out/work-csv"
"$cc" -std=c11 -g -O1 -Wall -Werror=implicit-function-declaration -fno-omit-frame-pointer -ffp-contract=off \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
  -I"$root/sdk/include" -I"$root/core" \
  "$root/tests/fuzz/fuzz_csv.c" \
  "$root/plugins/sources/csv/csv.c" "$root/plugins/sources/csv/csv_parse.c" \
  "$root/core/table.c" "$root/core/status.c" -lm -o "$out/fuzz_csv"
corpus=$root/tests/fuzz/corpus/csv
cd "$out"
./fuzz_csv -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -dict="$root/tests/fuzz/csv.dict" -print_final_stats=1 \
  work-csv "$corpus"
if [ "$update" = "--update-corpus" ]; then
  rm -rf merged && mkdir merged
  ./fuzz_csv -merge=1 -max_len=4096 merged "$corpus" work-csv
  rm -f "$corpus"/*
  cp merged/* "$corpus"/
  echo "corpus: $(ls "$corpus" | wc -l) files in $corpus"
fi
