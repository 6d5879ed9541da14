#!/usr/bin/env bash
# The minor-version rule (keel/abi.h): a plugin built against a newer SDK
# minor (same major) loads; the host reads only the fields it knows. The
# fixture abi_minor_newer.so (tests/plugins/abi_minor_newer.c, minor + 1)
# was refused with "upgrade keel"; now it is listed, described and trains.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
P=$KEEL_BROKEN_DIR/abi_minor_newer.so
[[ -f $P ]] || bail "$P was not built (tests/plugins/abi_minor_newer.c)"

expect "described by name" 0 'abi_minor_newer' -- plugins abi_minor_newer --plugin-path "$P"
if grep -qi 'newer than this host\|upgrade keel' "$T/out"; then
  fail "still refused as newer"
  show_output
else
  ok
fi

mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
cp "$KEEL_SRC/manifests/iris.ini" "$T/m/"
sed 's/^allow = sgd >=1 <2/allow = abi_minor_newer >=1 <2, sgd >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" >"$T/m/templates/tabular-classification.ini"
grep -q abi_minor_newer "$T/m/templates/tabular-classification.ini" || bail "the template's optimizer allow list was not extended"
sed -e 's/^plugin = sgd$/plugin = abi_minor_newer/' -e '/^lr = /d' -e '/^momentum = /d' \
  -e 's/^epochs = 50/epochs = 2/' "$T/m/iris.ini" >"$T/m/newer.ini"
seal "$T/m/newer.ini" --plugin-path "$P" --out "$T/runs" && ok
finish
