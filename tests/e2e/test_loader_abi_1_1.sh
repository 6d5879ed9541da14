#!/usr/bin/env bash
# The minor-version rule across two real SDK versions: clamp as written
# for ABI 1.1 and a model (tests/sdk/tiny_linear.c), built against the 1.1
# headers kept under tests/sdk/, load on today's host and train to the same
# bits as today's template clamp and the same model built against the 1.2
# SDK (same arithmetic). `keel plugins clamp` says the 1.1 build recorded
# no build flags.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build folder}"
OLD=$KEEL_BUILD/sdk-abi11-plugins/clamp.so
NEW=$KEEL_BUILD/sdk-abi12-plugins/clamp.so
for f in "$OLD" "$NEW" "${OLD%/*}/tiny_linear.so" "${NEW%/*}/tiny_linear.so"; do
  [[ -f $f ]] || bail "$f was not built (tests/sdk/CMakeLists.txt)"
done

expect "the 1.1 build is described" 0 'ABI +1\.1' -- plugins clamp --plugin-path "$OLD"
has "its build flags were not recorded" "build flags: not recorded (ABI 1.1)"
expect "the 1.2 build is described" 0 'ABI +1\.2' -- plugins clamp --plugin-path "$NEW"

mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
sed -e 's/^allow = standardize >=1 <2/allow = clamp >=0.1 <1, standardize >=1 <2/' \
  -e 's/^allow = softmax >=1 <2/allow = tiny_linear >=1 <2, softmax >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" >"$T/m/templates/tabular-classification.ini"
grep -q 'tiny_linear' "$T/m/templates/tabular-classification.ini" || bail "the template's model allow list was not extended"
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

# The model too: the whole folder of each SDK's builds, model = tiny_linear.
seal "$T/m/iris.ini" model.plugin=tiny_linear --plugin-path "${OLD%/*}" --out "$T/runs-old-m" || bail "the 1.1 model did not run"
old=$B
seal "$T/m/iris.ini" model.plugin=tiny_linear --plugin-path "${NEW%/*}" --out "$T/runs-new-m" || bail "the 1.2 model did not run"
new=$B
a=$(members "$old") b=$(members "$new")
check "the same model bits from both SDK versions" test "$a" = "$b"
grep -q '"abi": *"1.1"\|1\.1' <(tar -xzOf "$old" --wildcards '*/plugins.json' 2>/dev/null) &&
  ok || fail "the 1.1 run's plugins.json does not record ABI 1.1"
finish
