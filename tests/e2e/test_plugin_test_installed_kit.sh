#!/usr/bin/env bash
# ctest: slow
# The plugin test kit as a third party gets it: install keel into a fresh
# prefix, copy the plugin template, build it with CMake and run its ctest
# (keel plugin-test on the built plugin, from the install), then build a
# unit test of the template (tests/data/plugin_test/clamp_unit.c) against
# the installed test host, once with find_package (keel::test_host) and
# once with `pkg-config keel-test`, and run both.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
need cmake pkg-config cc
prefix=$T/prefix
log=$T/log
quiet() {
  if "$@" >"$log" 2>&1; then ok; else
    show_output "$log"
    bail "command failed: $*"
  fi
}

quiet cmake --install "$KEEL_BUILD" --prefix "$prefix"
[[ -f $prefix/include/keel/test_host.h ]] && ok || bail "keel/test_host.h not installed"
[[ -f $prefix/include/keel/plugin_test.h ]] && ok || bail "keel/plugin_test.h not installed"
src=$T/my-plugin
cp -r "$prefix/share/keel/plugin-template" "$src"
rm -rf "$src/build" "$src"/*.so

# The template's test: ctest runs the installed keel's plugin-test.
quiet cmake -S "$src" -B "$T/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
kexe=$(sed -n 's/^KEEL_EXECUTABLE:[A-Z]*=//p' "$T/build/CMakeCache.txt")
[[ $kexe == "$prefix"/bin/keel ]] && ok || fail "the template found keel at '$kexe', not in $prefix"
quiet cmake --build "$T/build"
quiet ctest --test-dir "$T/build" --output-on-failure
grep -q 'plugin-test .*Passed' "$log" && ok || { show_output "$log"; fail "ctest did not run plugin-test"; }

# A unit test with keel::test_host (CMake).
cp "$KEEL_SRC/tests/data/plugin_test/clamp_unit.c" "$src/"
cat >>"$src/CMakeLists.txt" <<'CMAKE'
add_executable(clamp_unit clamp_unit.c clamp.c)
target_link_libraries(clamp_unit PRIVATE keel::test_host m)
add_test(NAME clamp_unit COMMAND clamp_unit)
CMAKE
quiet cmake -S "$src" -B "$T/build2" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
quiet cmake --build "$T/build2"
quiet ctest --test-dir "$T/build2" --output-on-failure
grep -q 'clamp_unit .*Passed' "$log" && ok || { show_output "$log"; fail "clamp_unit did not pass"; }

# The same with pkg-config keel-test.
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name keel-test.pc -print -quit)")
quiet cc -std=c11 -o "$T/clamp_unit_pc" "$src/clamp_unit.c" "$src/clamp.c" \
  $(pkg-config --cflags --libs keel-test) -lm
quiet "$T/clamp_unit_pc"
finish
