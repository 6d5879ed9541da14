#!/usr/bin/env bash
# tests/arch/test_layers_build.sh SOURCE_DIR SCRATCH_DIR (slow tier): shows
# that the layer rules of core/layers.txt are enforced, on a scratch copy
# of the source tree (build folders left out), with controls on each side:
#
#   - the pristine copy builds keel_base and passes check_layers.sh;
#   - an upward `#include "train/train.h"` added to a core/base .c file:
#     the build of keel_base refuses it (base's include folder has no
#     train/), and says so;
#   - a downward `#include "base/status.h"` added to a core/train .c file:
#     keel_train builds;
#   - a quoted relative `#include "../train/train.h"` in core/base, which
#     include folders cannot see: check_layers.sh names the edge.
#
# Prints one line per check and exits 1 if any failed.
set -euo pipefail
src=$(cd "${1:?usage: test_layers_build.sh SOURCE_DIR SCRATCH_DIR}" && pwd)
scratch=${2:?usage: test_layers_build.sh SOURCE_DIR SCRATCH_DIR}
rm -rf "$scratch"
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
copy=$scratch/src
build=$scratch/build
log=$scratch/log
passed=0
failures=0
ok() {
  echo "ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
show_log() { tail -n 20 "$log" | sed 's/^/    /' >&2; }

# The copy: what git tracks or would track (no build folders, nothing
# ignored), or the tree minus build folders when this is not a checkout.
mkdir -p "$copy"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$copy"
else
  tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$copy"
fi
[[ -f $copy/core/layers.txt ]] || {
  echo "test_layers_build: the copy of $src has no core/layers.txt" >&2
  exit 1
}
base_c=$(find "$copy/core/base" -name '*.c' | sort | head -n 1)
train_c=$(find "$copy/core/train" -name '*.c' | sort | head -n 1)
[[ -n $base_c && -n $train_c ]] || {
  echo "test_layers_build: no .c file in core/base or core/train" >&2
  exit 1
}
base_rel=${base_c#"$copy"/}
cp "$base_c" "$scratch/base.c.orig"
cp "$train_c" "$scratch/train.c.orig"
restore() {
  cp "$scratch/base.c.orig" "$base_c"
  cp "$scratch/train.c.orig" "$train_c"
}

build_target() {
  cmake --build "$build" --target "$1" -j 2 >"$log" 2>&1
}

# Debug (-O0): the quickest compile; the include folders are the same in
# every configuration.
if cmake -S "$copy" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DKEEL_WERROR=ON \
  -DKEEL_BUILD_TESTS=OFF >"$log" 2>&1; then
  ok "the copy configures"
else
  fail "the copy does not configure"
  show_log
  exit 1
fi

# Controls: the pristine copy builds and maps clean.
if build_target keel_base; then ok "pristine keel_base builds"; else
  fail "pristine keel_base does not build"
  show_log
fi
if bash "$src/tests/arch/check_layers.sh" "$copy" >"$log" 2>&1; then
  ok "check_layers.sh passes on the pristine copy"
else
  fail "check_layers.sh fails on the pristine copy"
  show_log
fi

# Upward: base must not see train.
printf '\n#include "train/train.h"\n' >>"$base_c"
if build_target keel_base; then
  fail "keel_base built with #include \"train/train.h\" in $base_rel"
elif grep -q 'train/train.h: No such file or directory' "$log"; then
  ok "keel_base refuses #include \"train/train.h\" in $base_rel"
  grep -m 1 'train/train.h' "$log" | sed 's/^/    /'
else
  fail "keel_base failed, but not on train/train.h"
  show_log
fi
restore

# Downward: train may see base.
printf '\n#include "base/status.h"\n' >>"$train_c"
if build_target keel_train; then
  ok "keel_train builds with #include \"base/status.h\" in ${train_c#"$copy"/}"
else
  fail "keel_train refuses a downward #include \"base/status.h\""
  show_log
fi
restore

# Relative upward: invisible to include folders, named by check_layers.sh.
printf '\n#include "../train/train.h"\n' >>"$base_c"
if bash "$src/tests/arch/check_layers.sh" "$copy" >"$log" 2>&1; then
  fail "check_layers.sh passes a relative #include \"../train/train.h\" in $base_rel"
elif grep -q "^$base_rel -> core/train/train.h:" "$log"; then
  ok "check_layers.sh names $base_rel -> core/train/train.h"
  grep -m 1 "^$base_rel -> core/train/train.h:" "$log" | sed 's/^/    /'
else
  fail "check_layers.sh failed, but did not name $base_rel -> core/train/train.h"
  show_log
fi
restore

echo "test_layers_build: $passed passed, $failures failed"
((failures == 0))
