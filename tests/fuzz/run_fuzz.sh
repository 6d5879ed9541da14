#!/usr/bin/env bash
# Builds keel's libFuzzer targets with clang (libFuzzer + ASan + UBSan) and
# runs each for N seconds (default 60) on its committed corpus.
#
#   tests/fuzz/run_fuzz.sh [TARGET|all] [SECONDS] [--update-corpus]
#
# TARGET is csv, ini, bundle, json, catalog or where (default: all, one after the other,
# SECONDS each). The old form `run_fuzz.sh SECONDS [--update-corpus]` still
# means all targets. Each target TARGET is tests/fuzz/fuzz_TARGET.c, its
# corpus tests/fuzz/corpus/TARGET/ and its dictionary, when there is one,
# tests/fuzz/TARGET.dict. docs/fuzzing.md says what each target checks.
#
# Scratch work goes to build-fuzz/ (ignored; KEEL_FUZZ_BUILD overrides):
# csv compiles the plugin's sources directly (with -fopenmp, as the plugin
# is built) with core/plugin/table.c and core/base/status.c; the other
# targets link a clang-built, instrumented libkeel: the static library of
# every core/ layer and of the CLI (the json target reads bundles through
# cli/bundle_cli.c), built by the keel_cli target in build-fuzz/core
# (configured with CMake on first use). With --update-corpus the new inputs found are merged
# (minimised, libFuzzer -merge=1) back into the corpus so the next run
# starts from them. A finding (crash, leak, sanitizer report or contract
# violation) exits non-zero and leaves the reproducer in build-fuzz/
# (crash-*, leak-*, ...); replay it with
#   build-fuzz/fuzz_TARGET build-fuzz/crash-...
# KEEL_FUZZ_FLAGS adds libFuzzer flags (e.g. -detect_leaks=0 to grow a
# corpus past a known leak, -jobs=2).
# The committed corpora are also replayed by ctest (fuzz.replay_TARGET,
# built with the normal compiler), without clang.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
all_targets="csv ini bundle json catalog where"

target=all
if [ $# -gt 0 ] && [[ ! "$1" =~ ^[0-9]+$ ]] && [ "$1" != "--update-corpus" ]; then
  target=$1
  shift
fi
seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
update=${1:-}
if [ -n "$update" ] && [ "$update" != "--update-corpus" ]; then
  echo "usage: $0 [csv|ini|bundle|json|catalog|where|all] [SECONDS] [--update-corpus]" >&2
  exit 2
fi
case "$target" in
  all) targets=$all_targets ;;
  csv|ini|bundle|json|catalog|where) targets=$target ;;
  *) echo "run_fuzz.sh: unknown target '$target' (expected one of: $all_targets, all)" >&2
     exit 2 ;;
esac

out=${KEEL_FUZZ_BUILD:-$root/build-fuzz}
cc=${CLANG:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -Wall -Werror=implicit-function-declaration -fno-omit-frame-pointer -ffp-contract=off"
mkdir -p "$out"

# The core/ layer libraries (core/CMakeLists.txt: one static library per
# layer, keel_core only an interface over them), in the order a static
# link needs; --start-group below forgives a cycle.
core_libs="cli run train data config plugin bundle build_revision base"

# An instrumented libkeel built by clang, for the targets that call core/:
# the keel_cli target builds every layer below it. make/ninja rebuild only
# what changed.
build_core() {
  local dir=$out/core
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    CC=$cc cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
      -DKEEL_BUILD_TESTS=OFF -DKEEL_WERROR=OFF \
      -DCMAKE_C_FLAGS="-O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
      -DCMAKE_C_FLAGS_DEBUG="-g" >/dev/null
  fi
  cmake --build "$dir" --target keel_cli -j"$(nproc)" >/dev/null
}

build_target() {
  local t=$1
  case "$t" in
    csv)
      "$cc" $cflags -fsanitize=fuzzer $san \
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -I"$root/sdk/include" -I"$root/core" \
        "$root/tests/fuzz/fuzz_csv.c" \
        "$root/plugins/sources/csv/csv.c" "$root/plugins/sources/csv/csv_parse.c" \
        "$root/core/plugin/table.c" "$root/core/base/status.c" \
        "$root/core/base/strmap.c" -fopenmp -lm \
        -o "$out/fuzz_csv"
      ;;
    *)
      build_core
      local libs=() l
      for l in $core_libs; do
        libs+=("$out/core/core/libkeel_$l.a")
      done
      # -I core: the layer-qualified includes ("base/status.h") resolve
      # there, as headers live in core/<layer>/.
      # shellcheck disable=SC2046
      "$cc" $cflags -fsanitize=fuzzer $san \
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -I"$root/sdk/include" -I"$root/core" \
        "$root/tests/fuzz/fuzz_$t.c" -Wl,--start-group "${libs[@]}" -Wl,--end-group \
        $(pkg-config --libs inih libarchive libffi jansson zlib libcrypto) \
        -fopenmp -lpthread -ldl -lm -o "$out/fuzz_$t"
      ;;
  esac
}

max_len() {
  case "$1" in
    bundle) echo 24576 ;;
    json) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

status=0
for t in $targets; do
  echo "== fuzz_$t: building"
  build_target "$t"
  corpus=$root/tests/fuzz/corpus/$t
  work=$out/work-$t
  mkdir -p "$corpus" "$work"
  dict=()
  if [ -f "$root/tests/fuzz/$t.dict" ]; then
    dict=(-dict="$root/tests/fuzz/$t.dict")
  fi
  len=$(max_len "$t")
  echo "== fuzz_$t: ${seconds}s on $corpus"
  rc=0
  (cd "$out" && "./fuzz_$t" -max_total_time="$seconds" -max_len="$len" \
     -timeout=10 -rss_limit_mb=2048 "${dict[@]}" -print_final_stats=1 \
     ${KEEL_FUZZ_FLAGS:-} "$work" "$corpus") || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== fuzz_$t: FINDING (exit $rc); reproducer in $out" >&2
    status=1
    continue
  fi
  if [ "$update" = "--update-corpus" ]; then
    rm -rf "$out/merged-$t" && mkdir "$out/merged-$t"
    (cd "$out" && "./fuzz_$t" -merge=1 -max_len="$len" -rss_limit_mb=2048 \
       ${KEEL_FUZZ_FLAGS:-} "merged-$t" "$corpus" "$work")
    rm -f "$corpus"/*
    cp "$out/merged-$t"/* "$corpus"/
    echo "corpus: $(ls "$corpus" | wc -l) files, $(du -sh "$corpus" | cut -f1) in $corpus"
  fi
done
exit $status
