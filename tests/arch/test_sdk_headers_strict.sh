#!/usr/bin/env bash
# tests/arch/test_sdk_headers_strict.sh [SOURCE_DIR]: every installed SDK
# header (sdk/include/keel/*.h) builds alone under the strictest flags a
# plugin author uses (the template's Makefile: -std=c11 -Wall -Wextra
# -Wpedantic -Werror), with gcc and, when present, clang; and its static
# inline helpers, all emitted (-fkeep-inline-functions), define no global
# symbol and call nothing but libc/libm: the host only through the
# keel_host table, never by a symbol.
# Prints one line per violation and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
violations=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}
compilers=(gcc)
command -v clang >/dev/null 2>&1 && compilers+=(clang)
flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -I sdk/include)
headers=0
for h in sdk/include/keel/*.h; do
  headers=$((headers + 1))
  name=${h#sdk/include/}
  printf '#include <%s>\n' "$name" >"$tmp/t.c"
  for cc in "${compilers[@]}"; do
    if ! "$cc" "${flags[@]}" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
      violation "$name: does not build alone with $cc ${flags[*]}:"
      sed 's/^/    /' "$tmp/err" | head -20
    fi
  done
  if ! gcc "${flags[@]}" -fkeep-inline-functions -c "$tmp/t.c" -o "$tmp/k.o" 2>"$tmp/err"; then
    violation "$name: does not build with -fkeep-inline-functions:"
    sed 's/^/    /' "$tmp/err" | head -20
    continue
  fi
  while read -r sym; do
    [[ -n $sym ]] && violation "$name: defines the global symbol $sym (a plugin would export or clash on it)"
  done < <(nm -g --defined-only "$tmp/k.o" | awk '{print $3}')
  while read -r sym; do
    [[ $sym == keel* ]] && violation "$name: calls $sym by symbol; reach the host through keel_host"
  done < <(nm -u "$tmp/k.o" | awk '{print $2}')
done
if ((violations > 0)); then
  echo "test_sdk_headers_strict: $violations violation(s)" >&2
  exit 1
fi
echo "test_sdk_headers_strict: $headers SDK headers build alone with ${compilers[*]} (-Wall -Wextra -Wpedantic -Werror), define no symbol, call the host by none"
