#!/usr/bin/env bash
# tests/arch/check_consumers.sh SOURCE_DIR [BUILD_DIR]: core's headers stay
# inside keel. Consumers see them only by their layer-qualified names, and
# the installed SDK carries none of them.
#
#   - plugins/ and sdk/ include nothing under core/: gcc -MM maps every
#     .c and .h there with the include path a plugin gets (-I sdk/include),
#     and any header under core/ it reaches is an error
#     (a relative "../../core/base/status.h" included);
#   - tests/ name core headers only as LAYER/FILE.h, which is all their
#     include folders (build/core/layer-include/*) offer: an #include that
#     spells a path into core/ ("core/...", "../core/...") is an error;
#   - with BUILD_DIR: `cmake --install BUILD_DIR` into a scratch prefix
#     installs exactly the headers of sdk/include under include/, and no
#     header anywhere in the prefix is a copy of a core header.
#
# Prints one line per violation and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:?usage: check_consumers.sh SOURCE_DIR [BUILD_DIR]}" && pwd)
build=${2:-}
cd "$src"
CC=${CC:-gcc}
violations=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Plugins and the SDK: the real include graph, as check_layers.sh maps core.
read -r -a pc_flags <<<"$(pkg-config --cflags inih libarchive libffi jansson zlib libcrypto)"
flags=(-MM -x c -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
       -I sdk/include "${pc_flags[@]}")
mapped=0
while IFS= read -r -d '' file; do
  mapped=$((mapped + 1))
  if ! deps=$("$CC" "${flags[@]}" -MT x "$file" 2>"$tmp/err"); then
    violation "$file: gcc -MM cannot read it with the SDK's include path:"
    sed 's/^/    /' "$tmp/err"
    continue
  fi
  deps=${deps#x:}
  deps=${deps//\\$'\n'/ }
  read -r -a headers <<<"$deps"
  ((${#headers[@]} > 1)) || continue
  while IFS= read -r path; do
    [[ $path == core/* ]] && violation "$file -> $path: plugins and the SDK may not include core/"
  done < <(realpath -m --relative-to="$src" "${headers[@]:1}")
done < <(find plugins sdk -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

# Tests: the spelling of each include.
while IFS= read -r hit; do
  violation "$hit: tests include core headers as LAYER/FILE.h, never by a path into core/"
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]([^">]*/)?core/' \
  --include='*.c' --include='*.h' tests || true)

# The install.
installed=""
if [[ -n $build ]]; then
  prefix=$tmp/prefix
  if ! cmake --install "$build" --prefix "$prefix" >"$tmp/log" 2>&1; then
    violation "cmake --install $build failed:"
    sed 's/^/    /' "$tmp/log"
  else
    want=$(cd sdk/include && find . -type f -name '*.h' | sed 's|^\./||' | sort)
    have=$(cd "$prefix/include" 2>/dev/null && find . -type f | sed 's|^\./||' | sort)
    while IFS= read -r f; do
      [[ -n $f ]] && violation "installed include/$f: not a header of sdk/include"
    done < <(comm -13 <(echo "$want") <(echo "$have"))
    while IFS= read -r f; do
      [[ -n $f ]] && violation "sdk/include/$f: not installed under include/"
    done < <(comm -23 <(echo "$want") <(echo "$have"))
    # A core header copied under another name or place counts too.
    core_sums=$(find core -type f -name '*.h' -exec sha256sum {} + | sort)
    while IFS= read -r f; do
      sum=$(sha256sum "$f" | cut -d' ' -f1)
      same=$(awk -v s="$sum" '$1 == s { print $2; exit }' <<<"$core_sums")
      [[ -n $same ]] && violation "installed ${f#"$prefix"/}: a copy of $same"
    done < <(find "$prefix" -type f -name '*.h')
    installed=", install of $build checked"
  fi
fi

if ((violations > 0)); then
  echo "check_consumers: $violations violation(s)" >&2
  exit 1
fi
echo "check_consumers: $mapped plugin and SDK files include nothing from core/; tests use layer-qualified names$installed"
