#!/usr/bin/env bash
# Issue 12: a template may pin a plugin by hash (`allow = softmax >=1 <2
# sha256:HEX`); the loaded file must have that SHA-256, else exit 2 naming
# the template file:line, the expected and the actual hash. A malformed pin
# is refused when the template is read.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
krun plugins softmax --json
((RC == 0)) && ok || bail "plugins softmax --json exit $RC"
sha=$(json_value "$T/out" 'd["sha256"] if "sha256" in d else d["plugins"][0]["sha256"]')
[[ $sha =~ ^[0-9a-f]{64}$ ]] && ok || bail "no sha256 for softmax: $sha"

pinned() { # HASH
  sed "s/^allow = softmax >=1 <2, /allow = softmax >=1 <2 $1, /" \
    "$KEEL_SRC/manifests/templates/tabular-classification.ini" >pinned.ini
  sed 's/^template = .*/template = pinned.ini/' iris.ini >p.ini
}
pinned "sha256:$sha"
grep -q "sha256:$sha" pinned.ini && ok || bail "the fixture did not pin softmax"
line=$(grep -n '^allow = softmax' pinned.ini | cut -d: -f1)
expect "the right hash" 0 'is valid' -- check p.ini
grep -E "softmax.*sha256:$sha.*pinned\.ini:$line" "$T/out" >/dev/null && ok ||
  { fail "check does not show the pin with its origin"; show_output; }

zero=$(printf '0%.0s' {1..64})
pinned "sha256:$zero"
expect "a wrong hash" 2 "pinned\.ini:$line.*$zero.*$sha" -- check p.ini
expect "a wrong hash: run refuses before data" 2 "pinned\.ini:$line" -- run p.ini --out "$T/runs"
[[ ! -e $T/runs ]] || [[ -z $(ls -A "$T/runs") ]] && ok || fail "a refused run left files in $T/runs"

pinned "sha256:abc"
expect "a malformed pin" 2 "pinned\.ini:$line.*sha256.*64" -- check p.ini
pinned "sha256:$sha sha256:$sha"
expect "two pins" 2 "pinned\.ini:$line" -- check p.ini
finish
