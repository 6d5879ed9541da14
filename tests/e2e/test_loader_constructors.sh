#!/usr/bin/env bash
# ELF constructors run inside dlopen, before any keel check. The host does
# not dlopen a plugin file it only lists: a scanner child does, with its
# output captured, and a registry cache keeps unchanged files from being
# scanned again. The fixture ctor_major2.so (ABI major 2) has a
# constructor that prints "CTOR RAN" and creates $KEEL_TEST_CTOR_MARKER.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
[[ -f $KEEL_BROKEN_DIR/ctor_major2.so ]] || bail "ctor_major2.so was not built (tests/plugins/ctor_major2.c)"
export XDG_CACHE_HOME=$T/cache XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data
export KEEL_TEST_CTOR_MARKER=$T/marker
mkdir -p "$T/extra"
cp "$KEEL_BROKEN_DIR/ctor_major2.so" "$T/extra/"
shipped_manifests iris

krun plugins --plugin-path "$T/extra"
check "plugins exits 0 (exit $RC)" test "$RC" = 0
has "listed as broken for its ABI major" ctor_major2.so "ABI major"
if grep -q "CTOR RAN" "$T/out" "$T/err"; then
  fail "the constructor's output reached keel's own output"
  show_output "$T/err"
else
  ok
fi
check "the registry cache was written" test -s "$T/cache/keel/plugin-registry.json"

# Warm cache: the file is not scanned again, so its constructor never runs.
rm -f "$T/marker"
krun plugins --plugin-path "$T/extra"
check "warm plugins exits 0 (exit $RC)" test "$RC" = 0
has "still listed as broken" ctor_major2.so "ABI major"
check "a warm cache runs no scan (marker not re-created)" test ! -e "$T/marker"

# check of a manifest that does not use it: passes, nothing printed by it.
rm -f "$T/marker"
krun check "$T/m/iris.ini" --plugin-path "$T/extra"
check "check of a manifest not using it (exit $RC)" test "$RC" = 0
check "check's output has no CTOR RAN" bash -c "! grep -q 'CTOR RAN' '$T/out' '$T/err'"
check "check ran no constructor (warm cache)" test ! -e "$T/marker"

# A changed file is scanned again (size, mtime and SHA-256 key the cache).
printf '\0' >>"$T/extra/ctor_major2.so"
krun plugins --plugin-path "$T/extra"
check "changed file rescanned (marker created by the scanner child)" test -e "$T/marker"
check "the rescan's child output stays out of keel's" bash -c "! grep -q 'CTOR RAN' '$T/out' '$T/err'"

# A cache that does not parse is ignored and rewritten.
echo '{not json' >"$T/cache/keel/plugin-registry.json"
krun plugins --plugin-path "$T/extra"
check "a corrupt cache is ignored (exit $RC)" test "$RC" = 0
check "and rewritten as JSON" "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/cache/keel/plugin-registry.json"
finish
