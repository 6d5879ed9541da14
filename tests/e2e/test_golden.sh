#!/usr/bin/env bash
# Golden bundles (tests/data/golden/): bundles sealed by an earlier keel must
# keep verifying and replaying to REPRODUCED, and today's keel, run on the
# same shipped manifest, must compute the same result digest.
. "$(dirname "$0")/lib.sh"
G=$KEEL_SRC/tests/data/golden

digest_of() {
  "$KEEL" show "$1" --json | json_value - 'd["run"]["result_digest"]'
}

n=0
for golden in "$G"/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  expect "$name: verify" 0 '^OK ' -- verify "$golden"
  expect "$name: replay" 0 '^REPRODUCED' -- replay "$golden" --threads 1
  want=$(digest_of "$golden")
  seal "$KEEL_SRC/manifests/$name.ini" --out "$T/runs" || continue
  got=$(digest_of "$B")
  [[ $got == "$want" ]] && ok || fail "$name: fresh run digest $got, golden $want"
done
((n == 5)) && ok || fail "expected 5 golden bundles, found $n"

finish
