#!/usr/bin/env bash
# packaging/test.sh: the README's test command; CI runs it (.ci/run).
#
#   packaging/test.sh             everything: the fast tier, then the slow tier
#   packaging/test.sh --fast      the fast tier alone (the edit-build-test loop)
#   packaging/test.sh --no-asan   leave out the sanitizer build and its tests
#   packaging/test.sh --help      this text
#
# Fast tier: the `default` preset (Release -O2) built and its tests run
# (every test not labelled `slow`: ctest --preset fast), then the `asan`
# preset (ASan + UBSan) built and tested the same way.
# Slow tier: the tests labelled `slow` too (ctest --preset default runs
# every test), and the `debug`, `release` (plain -O3) and `relwithdebinfo`
# presets built, to show every configuration compiles with -Werror.
#
# Dependencies come first (packaging/bootstrap.sh, idempotent). Every step
# runs even when an earlier one failed, except the tests of a build that
# failed; a table of steps, results and times ends the output.
# Exit codes: 0 every step passed, 1 a step failed, 2 usage.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }
fast=0
asan=1
for arg in "$@"; do
  case "$arg" in
  --fast) fast=1 ;;
  --no-asan) asan=0 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "test.sh: unknown option '$arg'" >&2
    usage >&2
    exit 2
    ;;
  esac
done

results=()
failed=0
started=$SECONDS
# step NAME CMD...: runs CMD, records whether it passed and how long it took.
step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  echo "==> $name"
  "$@" || rc=$?
  local took=$((SECONDS - t0)) verdict=ok
  if ((rc != 0)); then
    verdict="FAILED (exit $rc)"
    failed=1
  fi
  results+=("$(printf '%-34s %-16s %4d:%02d' "$name" "$verdict" $((took / 60)) $((took % 60)))")
  return "$rc"
}
# build PRESET: configure and build one preset.
build() {
  cmake --preset "$1" >/dev/null && cmake --build --preset "$1"
}

step "dependencies (bootstrap.sh)" bash packaging/bootstrap.sh || {
  echo "test.sh: dependencies missing; nothing can build" >&2
  exit 1
}

# Fast tier.
if step "build default" build default; then
  if ((fast)); then
    step "test default (fast tier)" ctest --preset fast
  else
    step "test default (fast + slow tier)" ctest --preset default
  fi
fi
if ((asan)); then
  step "build asan" build asan && step "test asan (fast tier)" ctest --preset asan
fi

# Slow tier: every other configuration must compile with -Werror.
if ((!fast)); then
  for preset in debug release relwithdebinfo; do
    step "build $preset (-Werror)" build "$preset"
  done
fi

echo
echo "test.sh: $( ((fast)) && echo "fast tier" || echo "fast and slow tiers")$( ((asan)) || echo ", no asan")"
printf '  %s\n' "${results[@]}"
total=$((SECONDS - started))
printf '  %-34s %-16s %4d:%02d\n' "total" "" $((total / 60)) $((total % 60))
exit "$failed"
