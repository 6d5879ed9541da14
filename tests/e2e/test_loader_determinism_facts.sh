#!/usr/bin/env bash
# The build's determinism facts, checked at load (keel/plugin.h): a plugin
# compiled with -ffast-math (fast_math.so), one whose load set
# flush-to-zero (fast_math_ftz.so, linked with -ffast-math), and one whose
# contraction probe fuses (fused_probe.so: fma() on any CPU; fma_contract.so:
# a real -mfma -ffp-contract=fast build, only on a CPU with FMA) are
# refused, naming the file and the cause. `keel plugins NAME` shows the
# facts of an accepted plugin (text and --json).
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
B=$KEEL_BROKEN_DIR
for f in fast_math fast_math_ftz fused_probe; do
  [[ -f $B/$f.so ]] || bail "$B/$f.so was not built (tests/plugins/$f.c)"
done

expect "fast-math build" 2 'fast_math\.so.*built with -ffast-math.*rebuild without it' -- \
  plugins fast_math --plugin-path "$B/fast_math.so"
expect "flush-to-zero at load" 2 'fast_math_ftz\.so.*changed the floating-point environment when loaded \(flush-to-zero' -- \
  plugins fast_math_ftz --plugin-path "$B/fast_math_ftz.so"
expect "fused probe" 2 'fused_probe\.so.*contraction' -- plugins fused_probe --plugin-path "$B/fused_probe.so"
# The refused files are listed, and the rest still load.
krun plugins --plugin-path "$B/fast_math_ftz.so" --plugin-path "$B/fused_probe.so"
check "plugins lists the rest (exit $RC)" test "$RC" = 0
has "both listed as broken" fast_math_ftz.so fused_probe.so

if grep -qw fma /proc/cpuinfo; then
  [[ -f $B/fma_contract.so ]] || bail "the CPU has FMA but $B/fma_contract.so was not built"
  expect "a real contracting build" 2 'fma_contract\.so.*contraction' -- \
    plugins fma_contract --plugin-path "$B/fma_contract.so"
else
  echo "$TEST_NAME: skipping the real -mfma build: this CPU has no FMA (grep -w fma /proc/cpuinfo)"
fi

# The facts of an accepted built-in.
expect "facts of sgd" 0 'build flags: .*fp-contract=off' -- plugins sgd
has "no fast-math, FLT_EVAL_METHOD 0, probe unfused" "fast-math: no" "FLT_EVAL_METHOD: 0" "probe: not fused"
krun plugins sgd --json
check "plugins sgd --json exits 0" test "$RC" = 0
v=$(json_value "$T/out" '[d["build"]["fast_math"], d["build"]["fp_contract_off"], d["build"]["flt_eval_method"], d["build"]["probe_fused"]]' 2>/dev/null || true)
check "plugins sgd --json build facts ($v)" test "$v" = '[false,true,0,false]'
finish
