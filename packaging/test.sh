#!/usr/bin/env bash
# Quickstart, command 2: build and run the whole test suite: CUnit unit
# tests and end-to-end CLI tests, then the same suite under AddressSanitizer
# and UndefinedBehaviorSanitizer. Pass --no-asan to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."

asan=1
for arg in "$@"; do
  case "$arg" in
    --no-asan) asan=0 ;;
    *) echo "usage: $0 [--no-asan]" >&2; exit 2 ;;
  esac
done

bash packaging/bootstrap.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default
if [ "$asan" = 1 ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan
fi
