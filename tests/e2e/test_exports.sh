#!/usr/bin/env bash
# Every built plugin exports exactly one symbol of its own: the entry
# keel_plugin_entry. Anything else in the dynamic symbol table could clash
# with another plugin or the host (RTLD_LOCAL limits, but does not remove,
# interposition) and is an ABI surface nobody promised to keep.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
need cc nm

# Symbols the static linker defines in every shared object, not the
# plugin's code: section boundaries (__bss_start, _edata, _end and their
# ARM/older-binutils spellings) and the crt init/fini hooks. GNU ld before
# 2.35-ish, gold and lld put some of them in .dynsym; Debian 12's ld does
# not. They are not callable plugin API, so they are allowed -- but only
# these exact names: a plugin function called e.g. "_init_weights" fails.
allowed='^(keel_plugin_entry|_init|_fini|_edata|_end|__bss_start|__bss_start__|__bss_end__|_bss_end__|__end__)$'

# Prints the offending symbols of $1 (none: it exports only the entry);
# fails if the entry itself is missing.
check_exports() {
  local so=$1 syms
  syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//')
  if ! grep -qx 'keel_plugin_entry' <<<"$syms"; then
    echo "$so: does not export keel_plugin_entry" >&2
    return 1
  fi
  local extra
  extra=$(grep -Ev "$allowed" <<<"$syms" || true)
  if [[ -n $extra ]]; then
    echo "$so: exports more than keel_plugin_entry:" >&2
    sed 's/^/  /' <<<"$extra" >&2
    return 1
  fi
}

# The check must be able to fail: a plugin built without hidden visibility
# leaks its helper, and one without the entry has nothing to offer.
cat >"$T/leaky.c" <<'C'
int keel_plugin_entry(void);
int helper_leaks(void);
int helper_leaks(void) { return 1; }
int keel_plugin_entry(void) { return helper_leaks(); }
C
cc -shared -fPIC -o "$T/leaky.so" "$T/leaky.c"
if check_exports "$T/leaky.so" 2>"$T/leaky.err"; then
  bail "the export check accepted a plugin exporting helper_leaks"
fi
grep -q helper_leaks "$T/leaky.err" && ok ||
  bail "the export check did not name helper_leaks: $(cat "$T/leaky.err")"
cc -shared -fPIC -fvisibility=hidden -o "$T/noentry.so" "$T/leaky.c"
if check_exports "$T/noentry.so" 2>/dev/null; then
  bail "the export check accepted a plugin without the entry symbol"
else
  ok
fi

shopt -s nullglob
plugins=("$KEEL_BUILD"/plugins-out/*.so)
((${#plugins[@]} > 0)) || bail "no plugins in $KEEL_BUILD/plugins-out"
for so in "${plugins[@]}"; do
  check "$(basename "$so") exports more than keel_plugin_entry" check_exports "$so"
done
finish
