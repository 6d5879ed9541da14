#!/usr/bin/env bash
# An install is relocatable (issue 12): install into a temporary prefix,
# move the prefix, and from a manifest folder outside it (the shipped *.ini
# and their data, no templates/) check, run, verify and replay every
# shipped manifest with the moved binary, under strace in a clean
# environment. Templates, plugins and docs must come from the moved prefix;
# no path under the source tree, the build tree or the configured
# CMAKE_INSTALL_PREFIX may be opened, stat'ed or executed. keel.pc and
# keelConfig.cmake must name the moved plugin folder too.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
need strace cmake pkg-config realpath

# The scratch folder must lie outside the build tree (where $T is), or
# every path of the moved install would count as "under the build tree".
R=$(mktemp -d /tmp/keel-relocated.XXXXXX)
trap 'rc=$?; rm -rf "$R"; (exit $rc); _lib_on_exit' EXIT
src=$(realpath "$KEEL_SRC")
build=$(realpath "$KEEL_BUILD")
configured=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$build/CMakeCache.txt")
[[ -n $configured ]] && ok || bail "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"

# --- install, then move --------------------------------------------------
cmake --install "$build" --prefix "$R/staged" >"$T/install.log" 2>&1 && ok ||
  { show_output "$T/install.log"; bail "cmake --install failed"; }
mv "$R/staged" "$R/moved"
P=$R/moved
[[ -x $P/bin/keel ]] && ok || bail "no bin/keel in the install"

# Docs are installed with the rest (share/doc/keel).
for f in "$src"/docs/*.md; do
  [[ -f $P/share/doc/keel/$(basename "$f") ]] && ok ||
    fail "docs/$(basename "$f") not installed under share/doc/keel"
done
[[ -f $P/share/doc/keel/plugin-template/README.md ]] && ok ||
  fail "sdk/template/README.md not installed under share/doc/keel/plugin-template"

# --- pkg-config and find_package name the moved plugin folder -------------
pc=$(find "$P" -name keel.pc -print -quit)
[[ -n $pc ]] && ok || bail "keel.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
want_plugins=$(realpath "$libdir/keel/plugins")
[[ $want_plugins == "$P"/* ]] && ok || bail "no plugin folder in the moved install"
got=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir keel) && ok ||
  bail "pkg-config --variable=plugindir keel failed"
[[ $(realpath -m "$got") == "$want_plugins" ]] && ok ||
  fail "pkg-config --variable=plugindir keel says '$got', expected $want_plugins"

mkdir -p "$R/cmake-project"
cat >"$R/cmake-project/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(where_plugins_go NONE)
find_package(keel REQUIRED)
message(STATUS "keel_PLUGIN_DIR=${keel_PLUGIN_DIR}")
EOF
if cmake -S "$R/cmake-project" -B "$R/cmake-build" -DCMAKE_PREFIX_PATH="$P" \
  >"$T/cmake.log" 2>&1; then
  ok
  got=$(sed -n 's/^-- keel_PLUGIN_DIR=//p' "$T/cmake.log")
  [[ -n $got && $(realpath -m "$got") == "$want_plugins" ]] && ok ||
    fail "find_package(keel) sets keel_PLUGIN_DIR='$got', expected $want_plugins"
else
  show_output "$T/cmake.log"
  fail "a CMake project could not find_package(keel) in the moved install"
fi

# --- every shipped manifest from a folder outside the install -------------
M=$R/manifests
mkdir -p "$M" "$R/home" "$R/config" "$R/data" "$R/cache" "$R/tmp" "$R/out"
# The install's own copies (manifest_dir), without its templates/.
shipped=$P/share/keel/manifests
cp "$shipped"/*.ini "$M/" && cp -r "$shipped/data" "$M/data" && ok ||
  bail "the example manifests and their data are not installed in $shipped"
n_src=$(find "$src/manifests" -maxdepth 1 -name '*.ini' | wc -l)
n_got=$(find "$M" -maxdepth 1 -name '*.ini' | wc -l)
((n_got == n_src && n_got > 0)) && ok ||
  fail "$n_got manifests installed, the source tree ships $n_src"
[[ ! -e $M/templates ]] && ok || bail "the manifest folder must hold no templates"

# No KEEL_*, XDG_* at our own folders, nothing inherited from the caller
# but the sanitizers' options (asan preset): LeakSanitizer cannot run under
# ptrace, so leaks are left to the other tests of that build.
clean=(env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$R/home" TMPDIR="$R/tmp"
  XDG_CONFIG_HOME="$R/config" XDG_DATA_HOME="$R/data"
  XDG_CACHE_HOME="$R/cache" XDG_RUNTIME_DIR="$R/tmp"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-}")
n_trace=0
# traced LABEL ARGS...: the moved keel with ARGS, in $M, under strace;
# output in $T/out, exit status in $RC, the trace in $R/trace.N. The
# output goes to $R first: strace -y would name a descriptor open on $T
# (in the build tree).
traced() {
  local label=$1
  shift
  n_trace=$((n_trace + 1))
  RC=0
  (cd "$M" && "${clean[@]}" strace -f -qq -y -e trace=%file \
    -o "$R/trace.$n_trace" "$P/bin/keel" "$@") >"$R/output" 2>&1 || RC=$?
  cp "$R/output" "$T/out"
  if ((RC != 0)); then
    fail "$label: exit $RC"
    show_output
    return 1
  fi
  ok
}

for ini in "$M"/*.ini; do
  name=$(basename "$ini" .ini)
  traced "check $name" check "$name.ini" || continue
  traced "run $name" run "$name.ini" --out "$R/out/$name" --quiet || continue
  bundle=$(tail -n 1 "$T/out")
  [[ -f $bundle ]] && ok || { fail "run $name: no bundle ($bundle)"; continue; }
  traced "verify $name" verify "$bundle" || continue
  traced "replay $name" replay "$bundle" || continue
  grep -q REPRODUCED "$T/out" && ok || { fail "replay $name: not REPRODUCED"; show_output; }
done
traced "config show" config show && {
  has "config show" "$want_plugins" "$(realpath "$P/share/keel/manifests/templates")"
}

# --- what was touched -----------------------------------------------------
# Every path in the traces: quoted arguments and the paths strace -y
# prints for descriptors ("3</dir>").
cat "$R"/trace.* | grep -oE '"/[^"]*"|<(/[^>]*)>' | tr -d '"<>' | sort -u \
  >"$T/paths"
# Positive controls: the trace is real, and the moved install served the
# templates and the plugins.
grep -q "^$P/share/keel/manifests/templates/tabular-classification.ini$" "$T/paths" &&
  ok || fail "no template was read from the moved install ($P/share/keel/manifests/templates)"
grep -q "^$want_plugins/.*\.so$" "$T/paths" && ok ||
  fail "no plugin was loaded from the moved install ($want_plugins)"

forbidden=("$src" "$build")
# The configured prefix: all of it, or for a system prefix (/usr, whose
# lib/ holds libc) keel's own folders in it.
configured=$(realpath -m "$configured")
if [[ $configured == / || $configured == /usr ]]; then
  cfg_libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
  forbidden+=("${configured%/}/bin/keel" "${configured%/}/${cfg_libdir:-lib}/keel"
    "${configured%/}/share/keel" "${configured%/}/share/doc/keel")
elif [[ $configured != "$P" ]]; then
  forbidden+=("$configured")
fi
for dir in "${forbidden[@]}"; do
  hits=$(grep -E "^$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$dir")(/|$)" "$T/paths" || true)
  if [[ -z $hits ]]; then ok; else
    fail "the relocated keel touched paths under $dir:"
    sed 's/^/    /' <<<"$hits" | head -20 >&2
  fi
done
finish
