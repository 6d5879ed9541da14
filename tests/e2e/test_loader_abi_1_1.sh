#!/usr/bin/env bash
# The minor-version rule across two real SDK versions: clamp as written
# for ABI 1.1 and built against the 1.1 headers kept under tests/sdk/
# loads on today's host and trains to the same bits as today's template
# clamp built against the 1.2 SDK (same arithmetic). `keel plugins clamp`
# says the 1.1 build recorded no build flags.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build folder}"
OLD=$KEEL_BUILD/sdk-abi11-plugins/clamp.so
NEW=$KEEL_BUILD/sdk-abi12-plugins/clamp.so
[[ -f $OLD && -f $NEW ]] || bail "the two clamp builds are missing (tests/sdk/CMakeLists.txt)"

expect "the 1.1 build is described" 0 'ABI +1\.1' -- plugins clamp --plugin-path "$OLD"
has "its build flags were not recorded" "build flags: not recorded (ABI 1.1)"
expect "the 1.2 build is described" 0 'ABI +1\.2' -- plugins clamp --plugin-path "$NEW"

mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
sed 's/^allow = standardize >=1 <2/allow = clamp >=0.1 <1, standardize >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" >"$T/m/templates/tabular-classification.ini"
grep -q 'clamp' "$T/m/templates/tabular-classification.ini" || bail "the template's transform allow list was not extended"
# iris with a clamp after the standardize: values beyond 1.5 sd are cut.
sed -e 's/^epochs = 50/epochs = 5/' "$KEEL_SRC/manifests/iris.ini" >"$T/m/iris.ini"
printf '\n[transform.cut]\nplugin = clamp\nlo = -1.5\nhi = 1.5\n' >>"$T/m/iris.ini"

members() { tar -xzOf "$1" --wildcards '*/digest.txt' '*/weights/*' 2>/dev/null | sha256sum; }
seal "$T/m/iris.ini" --plugin-path "$OLD" --out "$T/runs-old" || bail "the 1.1 clamp did not run"
old=$B
seal "$T/m/iris.ini" --plugin-path "$NEW" --out "$T/runs-new" || bail "the 1.2 clamp did not run"
new=$B
a=$(members "$old") b=$(members "$new")
check "the same digest and weight bytes from both SDK versions" test "$a" = "$b"
check "the bundles hold weights" test "$a" != "$(printf '' | sha256sum)"
finish
