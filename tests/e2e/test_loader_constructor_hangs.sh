#!/usr/bin/env bash
# ctest: slow
# A plugin file whose constructor never returns (issue 12: plugin code
# runs in the scanner child, not in keel) must not hang keel: the scan is
# stopped after its deadline (20 s), the file is listed as broken saying
# so, the other plugins are listed, and a manifest that does not use it
# still checks. Without KEEL_TEST_CTOR_HANG the fixture loads at once.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
H=$KEEL_BUILD/hanging-plugins
[[ -f $H/ctor_hangs.so ]] || bail "no fixture $H/ctor_hangs.so"

start=$(date +%s)
KEEL_TEST_CTOR_HANG=1 timeout 120 "$KEEL" plugins --plugin-path "$H" >"$T/out" 2>&1 && RC=0 || RC=$?
took=$(($(date +%s) - start))
((RC == 0)) && ok || fail "keel plugins with a hanging constructor: exit $RC: $(cat "$T/out")"
((took < 60)) && ok || fail "keel plugins took ${took}s (the scan deadline is 20 s)"
has "the refusal" "did not finish loading it within 20 s (a constructor that never returns?)"
has "the built-ins are still listed" "softmax"

shipped_manifests iris
rm -rf "$XDG_CACHE_HOME/keel"
KEEL_TEST_CTOR_HANG=1 timeout 120 "$KEEL" check "$T/m/iris.ini" --plugin-path "$H" >"$T/out" 2>&1 && RC=0 || RC=$?
((RC == 0)) && ok || fail "check of a manifest that does not use it: exit $RC: $(cat "$T/out")"

# Without the variable the same file loads at once: a scan stopped at its
# deadline is not cached (the cache is kept here on purpose).
expect "the fixture without a hang" 0 "ctor_hangs" -- plugins --plugin-path "$H"

finish
