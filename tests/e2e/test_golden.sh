#!/usr/bin/env bash
# Golden bundles (tests/data/golden/): bundles sealed by an earlier keel must
# keep verifying and replaying to REPRODUCED, and today's keel, run on the
# same shipped manifest, must compute the same result digest.
set -euo pipefail
: "${KEEL:?}" "${KEEL_SRC:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
T=$KEEL_TMP
G=$KEEL_SRC/tests/data/golden
failures=0
passed=0

ok() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

digest_of() {
  "$KEEL" show "$1" --json | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)["run"]["result_digest"])'
}

n=0
for golden in "$G"/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  if "$KEEL" verify "$golden" >"$T/out" 2>&1; then ok; else
    fail "$name: verify"; sed 's/^/    /' "$T/out" >&2
  fi
  rc=0
  "$KEEL" replay "$golden" --threads 1 >"$T/out" 2>&1 || rc=$?
  if ((rc == 0)) && grep -q '^REPRODUCED' "$T/out"; then ok; else
    fail "$name: replay exit $rc"; sed 's/^/    /' "$T/out" >&2
  fi
  want=$(digest_of "$golden")
  fresh=$("$KEEL" run "$KEEL_SRC/manifests/$name.ini" --out "$T/runs" --quiet 2>"$T/err" | tail -n 1)
  got=$(digest_of "$fresh")
  if [[ $got == "$want" ]]; then ok; else
    fail "$name: fresh run digest $got, golden $want"
  fi
done
((n == 5)) || fail "expected 5 golden bundles, found $n"

echo "test_golden: $passed passed, $failures failed"
((failures == 0))
