#!/usr/bin/env bash
# `keel plugin-test` on the kit's fixtures (tests/plugins/kit/): the
# correct tanh layer passes every property; each broken one exits 1 with
# FAIL on the property its bug breaks, and a reproducer line naming it:
# an accumulating backward, a wrong gradient, a thread-unsafe model (the
# deterministic re-entrancy check, so it fails on any core count) and a
# transform whose fit is not deterministic. --json says the same.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build folder}"
K=$KEEL_BUILD/kit-plugins
[[ -f $K/kit_good_model.so ]] || bail "$K/kit_good_model.so was not built (tests/plugins/kit)"

expect "the correct model passes" 0 'PASS.*model\.gradient' -- plugin-test "$K/kit_good_model.so"
if grep -q '^FAIL' "$T/out"; then fail "the correct model failed a property"; show_output; else ok; fi

fixture() { # FILE PROPERTY
  local f=$K/$1.so prop=$2
  expect "$1" 1 "^FAIL +$prop" -- plugin-test "$f" --seed 7
  has "$1 reproducer" "keel plugin-test $f --seed 7 --only $prop"
}
fixture kit_accumulating_backward model.backward_overwrites
fixture kit_wrong_gradient model.gradient
fixture kit_thread_unsafe_model model.reentrant
fixture kit_nondeterministic_fit transform.fit_deterministic

# The wrong gradient names the weight it is wrong on (the bias, after W).
expect "wrong gradient, again" 1 '' -- plugin-test "$K/kit_wrong_gradient.so" --seed 7
if grep -Eq 'FAIL +model\.gradient.*w\[[0-9]+\]' "$T/out"; then ok; else
  fail "model.gradient does not name the worst weight"; show_output; fi

krun plugin-test "$K/kit_wrong_gradient.so" --seed 7 --json
check "--json exits 1" test "$RC" = 1
got=$(json_value "$T/out" '[r["result"] for r in d if r["property"] == "model.gradient"]')
check "--json: model.gradient FAIL ($got)" test "$got" = '["FAIL"]'
got=$(json_value "$T/out" 'sorted(set(r["seed"] for r in d))')
check "--json: seed 7 on every record ($got)" test "$got" = '[7]'

# --only runs the one property, and the reproducer reproduces.
expect "--only" 1 'FAIL +model\.gradient' -- plugin-test "$K/kit_wrong_gradient.so" --seed 7 --only model.gradient
n=$(grep -Ec '^(PASS|FAIL|SKIP) ' "$T/out" || true)
check "--only ran one property ($n)" test "$n" = 1

# Usage: no file, a file the loader refuses, an unknown property.
expect "no file" 2 'no plugin file' -- plugin-test
expect "refused by the loader" 2 'no_header\.so' -- plugin-test "$KEEL_BUILD/broken-plugins/no_header.so"
expect "unknown property" 2 "model\.gradeint.*did you mean 'model\.gradient'" -- plugin-test "$K/kit_good_model.so" --only model.gradeint
finish
