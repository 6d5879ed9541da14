#!/usr/bin/env bash
# A plugin's error message carries the plugin's name once, from the host
# ("[transform.scale] standardize (...): column ..."), never twice
# ("standardize: standardize:"), whether the plugin prefixed it or not.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
# A constant column: standardize (zero_variance=error) refuses it at fit.
awk -F, -v OFS=, 'NR == 1 { print "flat", $0; next } { print 1, $0 }' \
  "$T/m/data/iris.csv" >"$T/m/flat.csv"
uncatalogued "$T/m/iris.ini" "$T/m/plain.ini"
sed 's|^path = data/iris.csv$|path = flat.csv|' "$T/m/plain.ini" >"$T/m/flat.ini"

expect "the zero-variance refusal" 1 "\[transform\.scale\] standardize.*column 'flat'.*zero variance" -- \
  run "$T/m/flat.ini" --quiet --out "$T/runs" --until-transforms
if grep -Eq 'standardize[^:]*: standardize:' "$T/out"; then
  fail "the plugin name comes twice"
  show_output
else
  ok
fi
finish
