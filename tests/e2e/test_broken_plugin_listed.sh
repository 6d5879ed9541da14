#!/usr/bin/env bash
# One broken .so on the plugin path does not stop commands that never ask
# for it: `keel plugins` lists it as broken with its reason (text and
# --json), `keel check` of a manifest that does not use it passes, and only
# asking for its name (keel plugins NAME, a manifest) fails with exit 2,
# naming the file and the reason.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
B=$KEEL_BROKEN_DIR
for f in abi_major no_entry; do
  [[ -f $B/$f.so ]] || bail "$B/$f.so was not built (tests/plugins/$f.c)"
done
mkdir "$T/extra"
cp "$B/abi_major.so" "$B/no_entry.so" "$T/extra/"
shipped_manifests iris

expect "plugins lists the rest" 0 'softmax' -- plugins --plugin-path "$T/extra"
has "plugins lists the broken files" abi_major.so no_entry.so broken
has "plugins gives the reasons" "ABI major" "no entry symbol"

krun plugins --json --plugin-path "$T/extra"
check "plugins --json exits 0" test "$RC" = 0
n=$(json_value "$T/out" 'len([p for p in d["broken"] if p["path"].endswith("abi_major.so") and "ABI" in p["reason"]])' 2>/dev/null || true)
check "plugins --json records abi_major.so as broken with its reason" test "$n" = 1
n=$(json_value "$T/out" 'len([p for p in d["plugins"] if p["name"] == "softmax"])' 2>/dev/null || true)
check "plugins --json still lists the good plugins" test "$n" = 1

expect "check of a manifest that never uses them" 0 '' -- check "$T/m/iris.ini" --plugin-path "$T/extra"

expect "asking for the broken one by file name" 2 'no_entry\.so.*no entry symbol' -- plugins no_entry --plugin-path "$T/extra"

# A manifest that asks for the broken plugin's name: refused, naming the
# file and the reason (abi_major.so is a model; the stem names it).
sed 's/^plugin = softmax$/plugin = abi_major/' "$T/m/iris.ini" >"$T/m/wants_broken.ini"
expect "a manifest asking for it" 2 'abi_major\.so.*ABI major' -- check "$T/m/wants_broken.ini" --plugin-path "$T/extra"
finish
