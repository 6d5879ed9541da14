#!/usr/bin/env bash
# The SDK works for a third party: install keel into a fresh prefix, copy
# the plugin template from that install, build it out of tree with CMake
# (find_package) and with make (pkg-config), and load the result with
# `keel plugins --plugin-path DIR`.
set -euo pipefail
: "${KEEL:?}" "${KEEL_BUILD:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
prefix=$KEEL_TMP/prefix
log=$KEEL_TMP/log

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# Runs a build step quietly; shows its output only when it fails.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "command failed: $*"
  fi
}

# --- install -------------------------------------------------------------
quiet cmake --install "$KEEL_BUILD" --prefix "$prefix"
[[ -f $prefix/include/keel/keel.h ]] || fail "headers not installed"
[[ -x $prefix/bin/keel ]] || fail "keel binary not installed"
config=$(find "$prefix" -name keelConfig.cmake -print -quit)
[[ -n $config ]] || fail "keelConfig.cmake not installed"
pc=$(find "$prefix" -name keel.pc -print -quit)
[[ -n $pc ]] || fail "keel.pc not installed"
template=$prefix/share/keel/plugin-template
[[ -f $template/CMakeLists.txt && -f $template/Makefile ]] ||
  fail "plugin template not installed in $template"

# The copy a plugin author starts from: the installed template, minus any
# build output that might have been installed with it.
src=$KEEL_TMP/my-plugin
cp -r "$template" "$src"
rm -rf "$src/build" "$src"/*.so

# --- CMake: find_package(keel) + keel_add_plugin -----------------------
quiet cmake -S "$src" -B "$KEEL_TMP/build-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release
# It must have found *this* install, not one elsewhere on the machine.
keel_dir=$(sed -n 's/^keel_DIR:[A-Z]*=//p' "$KEEL_TMP/build-cmake/CMakeCache.txt")
[[ $keel_dir == "$prefix"/* ]] || fail "find_package(keel) used '$keel_dir', not $prefix"
quiet cmake --build "$KEEL_TMP/build-cmake"
cmake_so=$KEEL_TMP/build-cmake/clamp.so
[[ -f $cmake_so ]] || fail "the CMake build made no clamp.so"

# --- make + pkg-config ------------------------------------------------------
pcdir=$(dirname "$pc")
export PKG_CONFIG_PATH=$pcdir
# keel.pc must describe the prefix it was installed into (relocatable), or
# the build would silently use headers from somewhere else.
incdir=$(pkg-config --variable=includedir keel)
[[ $(realpath -m "$incdir") == $(realpath "$prefix/include") ]] ||
  fail "keel.pc installed in $prefix says includedir=$incdir: keel.pc is not relocatable (use \${pcfiledir} in keel.pc.in)"
[[ $(pkg-config --cflags keel) == *"-I$incdir"* ]] ||
  fail "pkg-config --cflags keel lacks -I$incdir"
quiet make -C "$src"
make_so=$src/clamp.so
[[ -f $make_so ]] || fail "the make build made no clamp.so"
unset PKG_CONFIG_PATH

# --- both builds export only the entry symbol --------------------------
for so in "$cmake_so" "$make_so"; do
  syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }')
  [[ $syms == keel_plugin_entry ]] || fail "$so exports: $(tr '\n' ' ' <<<"$syms")"
done

# --- keel loads them ----------------------------------------------------------
for dir in "$KEEL_TMP/build-cmake" "$src"; do
  out=$("$KEEL" plugins --plugin-path "$dir") || fail "keel plugins --plugin-path $dir failed"
  grep -qw clamp <<<"$out" || fail "keel plugins --plugin-path $dir does not list clamp: $out"

  doc=$("$KEEL" plugins clamp --plugin-path "$dir") ||
    fail "keel plugins clamp --plugin-path $dir failed"
  # The generated documentation comes from the descriptor and the
  # parameter table: the summary, every parameter and its doc line.
  for want in "limit numeric columns to [lo, hi]" "0.1.0" lo hi columns \
    "smallest value kept" "numeric columns to clamp"; do
    grep -qF -- "$want" <<<"$doc" || fail "docs of clamp lack '$want':
$doc"
  done

  json=$("$KEEL" plugins clamp --json --plugin-path "$dir") ||
    fail "keel plugins clamp --json failed"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
text = json.dumps(d)
for want in ("clamp", "lo", "hi", "columns"):
    assert want in text, want
' "$json" || fail "keel plugins clamp --json is not JSON describing clamp: $json"
done

# --- it works in a pipeline ----------------------------------------------
# The shipped templates allow only the built-ins, as a team's template
# would; a team adopting clamp adds it to the transform slot's allow list.
: "${KEEL_SRC:?}"
tpl=$KEEL_TMP/clamp-demo.ini
sed -e 's/^name = .*/name = clamp-demo/' \
  -e '/^\[slot\.transform\]/,/^\[/ s/^allow = \(.*\)$/allow = \1, clamp >=0.1 <1/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" >"$tpl"
grep -q 'clamp >=0.1' "$tpl" || fail "could not add clamp to the template's transform slot"
cat >"$KEEL_TMP/clamp-demo-run.ini" <<INI
[keel]
template = ./clamp-demo.ini
template_version = >=1.0 <2

[data]
label = species

[source]
plugin = csv
path = $KEEL_SRC/manifests/data/iris.csv

[transform.scale]
plugin = standardize

[transform.clip]
plugin = clamp
lo = -2.5
hi = 2.5

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd

[train]
epochs = 1
INI
m=$KEEL_TMP/clamp-demo-run.ini
"$KEEL" check "$m" --plugin-path "$src" >"$log" 2>&1 ||
  { cat "$log" >&2; fail "keel check with the clamp transform failed"; }
grep -Eq 'transform\.clip +clamp +0\.1\.0' "$log" ||
  fail "keel check does not show clamp 0.1.0 in slot transform.clip: $(cat "$log")"
# clamp's schema() checks lo <= hi, so keel check refuses before any data.
rc=0
"$KEEL" check "$m" --plugin-path "$src" transform.clip.lo=3 >"$log" 2>&1 || rc=$?
((rc == 2)) || fail "keel check with lo > hi exited $rc, expected 2"
grep -q 'lo (3) must not be greater than hi (2.5)' "$log" ||
  fail "keel check with lo > hi does not give clamp's message: $(cat "$log")"
# And apply() runs in a real (one-epoch) training run.
"$KEEL" run "$m" --plugin-path "$src" --out "$KEEL_TMP/runs" --quiet >"$log" 2>&1 ||
  { cat "$log" >&2; fail "keel run with the clamp transform failed"; }
compgen -G "$KEEL_TMP/runs/*.tar.gz" >/dev/null || fail "keel run wrote no bundle"

# The installed keel binary works with the plugin as well.
"$prefix/bin/keel" plugins clamp --plugin-path "$src/clamp.so" >"$log" 2>&1 ||
  { cat "$log" >&2; fail "the installed keel cannot load clamp.so"; }

echo "PASS: template plugin built out of tree (cmake + pkg-config) and loaded"
