#!/usr/bin/env bash
# Every built-in plugin (each .so the build puts on its plugin folder) and
# the SDK's template plugin pass `keel plugin-test`: exit 0, no FAIL line,
# at two seeds. A built-in that fails is a bug in the built-in (or in a
# property), never a reason to weaken the property.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build folder}"
dir=$KEEL_BUILD/plugins-out # KEEL_BUILD_PLUGIN_DIR (CMakeLists.txt)
[[ -d $dir ]] || bail "no built plugin folder $dir"
shopt -s nullglob
plugins=("$dir"/*.so)
((${#plugins[@]} >= 20)) || bail "only ${#plugins[@]} plugins in $dir"
for f in "${plugins[@]}"; do
  for seed in 1 29; do
    expect "$(basename "$f") seed $seed" 0 '' -- plugin-test "$f" --seed "$seed"
    if grep -q '^FAIL' "$T/out"; then show_output; fi
  done
done

# The template plugin, built against the SDK the way sdk/template builds it.
cc -shared -fPIC -fvisibility=hidden -ffp-contract=off -DKEEL_FP_CONTRACT_OFF=1 \
  -I"$KEEL_SRC/sdk/include" -o "$T/clamp.so" "$KEEL_SRC/sdk/template/clamp.c" -lm ||
  bail "the template plugin does not build"
expect "sdk/template clamp" 0 'PASS +transform\.schema_matches' -- plugin-test "$T/clamp.so"
finish
