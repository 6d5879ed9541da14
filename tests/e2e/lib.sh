#!/usr/bin/env bash
# tests/e2e/lib.sh: what every end-to-end test script shares (in the spirit
# of git's t/test-lib.sh). Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It checks the environment ctest gives (KEEL, KEEL_SRC, KEEL_TMP; see
# tests/CMakeLists.txt), starts from an empty $KEEL_TMP (also $T), keeps
# the counters, and prints one summary line at the end:
#
#   ok                      count a passed check
#   fail MESSAGE            count a failed check, print MESSAGE on stderr
#   check LABEL CMD...      ok when CMD succeeds, else fail LABEL
#   expect LABEL CODE REGEX -- ARGS...
#                           run "$KEEL" ARGS; wants exit CODE and, unless
#                           REGEX is empty, stdout+stderr matching REGEX
#                           (grep -Ei); output kept in $T/out, exit in $RC
#   show_output [FILE]      indent FILE ($T/out) onto stderr
#   finish                  print "NAME: P passed, F failed"; exit 1 if any
#                           check failed or none ran
#
# Each script ends with `finish`. A script that needs a tool the bootstrap
# installs fails when it is missing (DESIGN.md: tests do not skip).
set -euo pipefail
: "${KEEL:?KEEL must name the keel binary (run through ctest)}"
: "${KEEL_SRC:?KEEL_SRC must name the source tree}"
: "${KEEL_TMP:?KEEL_TMP must name a scratch folder}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
T=$KEEL_TMP
PY=/usr/bin/python3
TEST_NAME=$(basename "$0" .sh)
passed=0
failures=0
RC=0

ok() { passed=$((passed + 1)); }

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

show_output() {
  sed 's/^/    /' "${1:-$T/out}" >&2
}

check() {
  local label=$1
  shift
  if "$@"; then ok; else fail "$label"; fi
}

expect() {
  local label=$1 want=$2 re=$3
  if [[ ${4:-} != -- ]]; then
    fail "$label: expect needs LABEL CODE REGEX -- ARGS"
    return
  fi
  shift 4
  RC=0
  "$KEEL" "$@" >"$T/out" 2>&1 || RC=$?
  if ((RC != want)); then
    fail "$label: exit $RC, expected $want"
    show_output
  elif [[ -n $re ]] && ! grep -qEi -- "$re" "$T/out"; then
    fail "$label: output does not match /$re/"
    show_output
  else
    ok
  fi
}

finish() {
  echo "$TEST_NAME: $passed passed, $failures failed"
  if ((passed + failures == 0)); then
    echo "$TEST_NAME: no check ran" >&2
    exit 1
  fi
  ((failures == 0)) || exit 1
  exit 0
}
