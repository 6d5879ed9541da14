#!/usr/bin/env bash
# The SDK works for a third party: install keel into a fresh prefix, copy
# the plugin template from that install, build it out of tree with CMake
# (find_package) and with make (pkg-config), and load the result with
# `keel plugins --plugin-path DIR`. Each step needs the ones before it, so
# the first failure ends the test (bail).
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
need cmake make pkg-config nm "$PY"
prefix=$T/prefix
log=$T/log

# Runs a build step quietly; shows its output only when it fails.
quiet() {
  if "$@" >"$log" 2>&1; then ok; else
    show_output "$log"
    bail "command failed: $*"
  fi
}

# --- install -------------------------------------------------------------
quiet cmake --install "$KEEL_BUILD" --prefix "$prefix"
[[ -f $prefix/include/keel/keel.h ]] && ok || bail "headers not installed"
[[ -x $prefix/bin/keel ]] && ok || bail "keel binary not installed"
config=$(find "$prefix" -name keelConfig.cmake -print -quit)
[[ -n $config ]] && ok || bail "keelConfig.cmake not installed"
pc=$(find "$prefix" -name keel.pc -print -quit)
[[ -n $pc ]] && ok || bail "keel.pc not installed"
template=$prefix/share/keel/plugin-template
[[ -f $template/CMakeLists.txt && -f $template/Makefile ]] && ok ||
  bail "plugin template not installed in $template"

# The copy a plugin author starts from: the installed template, minus any
# build output that might have been installed with it.
src=$T/my-plugin
cp -r "$template" "$src"
rm -rf "$src/build" "$src"/*.so

# --- CMake: find_package(keel) + keel_add_plugin -----------------------
quiet cmake -S "$src" -B "$T/build-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release
# It must have found *this* install, not one elsewhere on the machine.
keel_dir=$(sed -n 's/^keel_DIR:[A-Z]*=//p' "$T/build-cmake/CMakeCache.txt")
[[ $keel_dir == "$prefix"/* ]] && ok || bail "find_package(keel) used '$keel_dir', not $prefix"
quiet cmake --build "$T/build-cmake"
cmake_so=$T/build-cmake/clamp.so
[[ -f $cmake_so ]] && ok || bail "the CMake build made no clamp.so"

# --- make + pkg-config ------------------------------------------------------
pcdir=$(dirname "$pc")
export PKG_CONFIG_PATH=$pcdir
# keel.pc must describe the prefix it was installed into (relocatable), or
# the build would silently use headers from somewhere else.
incdir=$(pkg-config --variable=includedir keel)
[[ $(realpath -m "$incdir") == $(realpath "$prefix/include") ]] && ok ||
  bail "keel.pc installed in $prefix says includedir=$incdir: keel.pc is not relocatable (use \${pcfiledir} in keel.pc.in)"
[[ $(pkg-config --cflags keel) == *"-I$incdir"* ]] && ok ||
  bail "pkg-config --cflags keel lacks -I$incdir"
quiet make -C "$src"
make_so=$src/clamp.so
[[ -f $make_so ]] && ok || bail "the make build made no clamp.so"
unset PKG_CONFIG_PATH

# --- both builds export only the entry symbol --------------------------
for so in "$cmake_so" "$make_so"; do
  syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }')
  [[ $syms == keel_plugin_entry ]] && ok || bail "$so exports: $(tr '\n' ' ' <<<"$syms")"
done

# --- keel loads them ----------------------------------------------------------
for dir in "$T/build-cmake" "$src"; do
  out=$("$KEEL" plugins --plugin-path "$dir") && ok || bail "keel plugins --plugin-path $dir failed"
  grep -qw clamp <<<"$out" && ok || bail "keel plugins --plugin-path $dir does not list clamp: $out"

  doc=$("$KEEL" plugins clamp --plugin-path "$dir") && ok ||
    bail "keel plugins clamp --plugin-path $dir failed"
  # The generated documentation comes from the descriptor and the
  # parameter table: the summary, every parameter and its doc line.
  for want in "limit numeric columns to [lo, hi]" "0.1.0" lo hi columns \
    "smallest value kept" "numeric columns to clamp"; do
    grep -qF -- "$want" <<<"$doc" && ok || bail "docs of clamp lack '$want':
$doc"
  done

  json=$("$KEEL" plugins clamp --json --plugin-path "$dir") && ok ||
    bail "keel plugins clamp --json failed"
  "$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
text = json.dumps(d)
for want in ("clamp", "lo", "hi", "columns"):
    assert want in text, want
' "$json" && ok || bail "keel plugins clamp --json is not JSON describing clamp: $json"
done

# --- it works in a pipeline ----------------------------------------------
# The shipped templates allow only the built-ins, as a team's template
# would; a team adopting clamp extends one (README step 4): the installed
# plugin template ships that derived template.
tpl=$T/clamp-demo.ini
cp "$src/tabular-classification-clamp.ini" "$tpl" ||
  bail "the plugin template lacks its derived template"
grep -q '^extends = tabular-classification ' "$tpl" && ok || bail "the derived template extends nothing"
cat >"$T/clamp-demo-run.ini" <<INI
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
m=$T/clamp-demo-run.ini
"$KEEL" check "$m" --plugin-path "$src" >"$log" 2>&1 && ok ||
  { show_output "$log"; bail "keel check with the clamp transform failed"; }
grep -Eq 'transform\.clip +clamp +0\.1\.0' "$log" && ok ||
  bail "keel check does not show clamp 0.1.0 in slot transform.clip: $(cat "$log")"
# clamp's schema() checks lo <= hi, so keel check refuses before any data.
rc=0
"$KEEL" check "$m" --plugin-path "$src" transform.clip.lo=3 >"$log" 2>&1 || rc=$?
((rc == 2)) && ok || bail "keel check with lo > hi exited $rc, expected 2"
grep -q 'lo (3) must not be greater than hi (2.5)' "$log" && ok ||
  bail "keel check with lo > hi does not give clamp's message: $(cat "$log")"
# And apply() runs in a real (one-epoch) training run.
"$KEEL" run "$m" --plugin-path "$src" --out "$T/runs" --quiet >"$log" 2>&1 && ok ||
  { show_output "$log"; bail "keel run with the clamp transform failed"; }
compgen -G "$T/runs/*.tar.gz" >/dev/null && ok || bail "keel run wrote no bundle"

# The installed keel binary works with the plugin as well.
"$prefix/bin/keel" plugins clamp --plugin-path "$src/clamp.so" >"$log" 2>&1 && ok ||
  { show_output "$log"; bail "the installed keel cannot load clamp.so"; }

finish
