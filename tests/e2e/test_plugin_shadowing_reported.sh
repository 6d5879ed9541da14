#!/usr/bin/env bash
# A plugin on an earlier plugin-path entry that replaces a later one of the
# same kind and name (here a copy of the built-in logistic model) is not
# silent: keel plugins, check and run say on stderr which file shadows
# which, and `keel plugins --json` records it.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
builtin=$KEEL_BUILD/plugins-out/logistic.so
[[ -f $builtin ]] || bail "$builtin was not built"
mkdir "$T/third"
cp "$builtin" "$T/third/logistic.so"
shipped_manifests iris
sed -e 's/^plugin = softmax$/plugin = logistic/' \
  "$T/m/iris.ini" >"$T/m/binary.ini"

# says_shadow LABEL: stderr names both files and the word "shadows".
says_shadow() {
  if grep -qF "$T/third/logistic.so" "$T/err" && grep -qF "$builtin" "$T/err" &&
    grep -qi 'shadows' "$T/err"; then
    ok
  else
    fail "$1: stderr does not say that $T/third/logistic.so shadows $builtin (exit $RC)"
    show_output "$T/err"
  fi
}

krun plugins --plugin-path "$T/third"
check "plugins exits 0" test "$RC" = 0
says_shadow "keel plugins"

krun plugins --json --plugin-path "$T/third"
check "plugins --json exits 0" test "$RC" = 0
n=$(json_value "$T/out" 'len([s for s in d["shadowed"] if s["name"] == "logistic" and s["path"].endswith("plugins-out/logistic.so") and s["shadowed_by"].endswith("third/logistic.so")])' 2>/dev/null || true)
check "plugins --json records the shadowed file and what shadows it" test "$n" = 1

krun check "$T/m/binary.ini" --plugin-path "$T/third"
says_shadow "keel check"

krun run "$T/m/binary.ini" --quiet --out "$T/runs" --until-transforms --plugin-path "$T/third"
says_shadow "keel run"

# Without the extra entry nothing is shadowed and nothing is said.
krun check "$T/m/binary.ini"
if grep -qi shadow "$T/err"; then
  fail "check without a shadowing entry still talks of shadowing"
  show_output "$T/err"
else
  ok
fi
finish
