#!/usr/bin/env bash
# tests/arch/test_params_match.sh [SOURCE_DIR]: KEEL_PARAMS_MATCH (plugin.h)
# catches a parameter table that disagrees with its index enum at compile
# time, and every built-in plugin and the template use it.
#
#   - a table with one entry fewer than its enum fails to compile, naming
#     the table and the word "disagree"; one entry more fails too; the
#     matching table compiles (so the check can tell them apart);
#   - each .c file under plugins/ and sdk/template that declares a
#     keel_param_decl table declares it unsized ("name[] = {") and checks
#     it with KEEL_PARAMS_MATCH(name, ...): a table sized by the enum
#     itself ("name[P_COUNT]") always has P_COUNT entries, so it hides a
#     forgotten one as a zeroed entry.
# Prints one line per violation and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
violations=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}

write_case() { # FILE ENTRIES...: a table of the given entries, enum of two
  local file=$1
  shift
  {
    echo '#include <keel/keel.h>'
    echo 'enum { P_A, P_B, P_COUNT };'
    echo 'static const keel_param_decl demo_params[] = {'
    local e
    for e in "$@"; do echo "  $e,"; done
    echo '};'
    echo 'KEEL_PARAMS_MATCH(demo_params, P_COUNT);'
    echo 'const keel_param_decl *demo(void) { return demo_params; }'
  } >"$file"
}
compile() { "$CC" -std=c11 -Wall -Werror -I sdk/include -c "$1" -o "$tmp/o.o" 2>"$tmp/err"; }

a='[P_A] = KEEL_P_INT("a", 1, 0, 9, NULL, "a")'
b='[P_B] = KEEL_P_INT("b", 1, 0, 9, NULL, "b")'
c='[P_COUNT] = KEEL_P_INT("c", 1, 0, 9, NULL, "c")'
write_case "$tmp/match.c" "$a" "$b"
compile "$tmp/match.c" || {
  violation "a table that matches its enum does not compile:"
  sed 's/^/    /' "$tmp/err"
}
for case in fewer more; do
  if [[ $case == fewer ]]; then write_case "$tmp/$case.c" "$a"; else write_case "$tmp/$case.c" "$a" "$b" "$c"; fi
  if compile "$tmp/$case.c"; then
    violation "a table with $case entries than its enum compiles"
  elif ! grep -q 'demo_params and its index enum disagree' "$tmp/err"; then
    violation "a table with $case entries fails without naming it and 'disagree':"
    sed 's/^/    /' "$tmp/err"
  fi
done

files=0
while IFS= read -r file; do
  files=$((files + 1))
  while IFS= read -r name; do
    grep -qE "keel_param_decl[[:space:]]+$name\[\][[:space:]]*=" "$file" ||
      violation "$file: $name is sized by hand; declare it '$name[] = {' so KEEL_PARAMS_MATCH can count it"
    grep -qE "KEEL_PARAMS_MATCH\($name," "$file" ||
      violation "$file: $name is not checked with KEEL_PARAMS_MATCH($name, P_COUNT)"
  done < <(sed -nE 's/.*keel_param_decl[[:space:]]+([a-z_0-9]+)\[[^]]*\][[:space:]]*=.*/\1/p' "$file")
done < <(grep -rlE 'keel_param_decl[[:space:]]+[a-z_0-9]+\[' --include='*.c' plugins sdk/template | sort)

if ((violations > 0)); then
  echo "test_params_match: $violations violation(s)" >&2
  exit 1
fi
echo "test_params_match: the macro refuses fewer and more entries; $files plugin files check their tables"
