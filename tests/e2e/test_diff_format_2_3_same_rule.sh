#!/usr/bin/env bash
# keel-bundle/3 only adds the template chain, outside the digest: its
# result digest rule is format 2's (docs/bundle-format.md, "Format
# versions"). So `keel diff` of a format-2 and a format-3 bundle must not
# say "the result digest is defined differently": the same run is quiet,
# a different run names the format change as the same rule. Format 1 vs 3
# still says the definitions differ.
. "$(dirname "$0")/lib.sh"
G=$KEEL_SRC/tests/data/golden

# the manifest as the goldens ran it: a plain path (lib.sh)
shipped_manifests
uncatalogued "$KEEL_SRC/manifests/iris.ini" "$T/m/iris.ini"
seal "$T/m/iris.ini" --out "$T/runs" || bail "iris"
same=$B
seal "$T/m/iris.ini" --out "$T/runs" train.epochs=3 || bail "iris, 3 epochs"
other=$B

# the same run, sealed as 2 (golden) and as 3 (now): equal digests, quiet
krun diff "$G/2/iris.tar.gz" "$same"
[[ $RC == 0 ]] && ok || fail "golden /2 vs fresh /3 of one run: exit $RC, expected 0"
grep -q 'defined differently' "$T/out" && fail "same run: says the digest is defined differently" || ok

# another run: the results differ, the digest rule does not
krun diff "$G/2/iris.tar.gz" "$other"
[[ $RC == 1 ]] && ok || fail "golden /2 vs another /3 run: exit $RC, expected 1"
has "2 vs 3" "keel-bundle/2 -> keel-bundle/3" "same result digest rule"
grep -q 'defined differently' "$T/out" && fail "2 vs 3: says the digest is defined differently" || ok

# format 1's digest also covered plugins.json: defined differently
krun diff "$G/iris.tar.gz" "$same"
[[ $RC == 1 ]] && ok || fail "golden /1 vs fresh /3: exit $RC, expected 1"
has "1 vs 3" "keel-bundle/1 -> keel-bundle/3 (the result digest is defined differently"
finish
