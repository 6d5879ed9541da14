#!/usr/bin/env bash
# tests/arch/check_layers.sh [SOURCE_DIR]: maps the real include graph of
# core/ and fails on every edge that core/layers.txt does not allow.
#
# The build already refuses `#include "train/train.h"` in base/ (each layer
# compiles with an include folder that holds only the layers it may see),
# but a quoted relative path ("../train/train.h") is found next to the
# including file and slips past include folders. So this script asks the
# compiler itself: `gcc -MM` lists every header each core/**/*.c and *.h
# really reads, resolved from the include root (-I core -I sdk/include);
# each header under core/ is mapped to its layer and checked against the
# edges in core/layers.txt, the one list that core/CMakeLists.txt builds
# from too. Headers under sdk/include are allowed everywhere; system
# headers are not listed by -MM; any other file of the repository is an
# error. Also an error: a C file of core/ outside every layer, and a file
# gcc cannot preprocess (the map would be incomplete).
#
# Prints one line per violation, "FILE -> HEADER: why", and exits 1 if
# there is any; 0 and a summary line otherwise. SOURCE_DIR defaults to
# the repository holding this script (tests/arch/test_layers_build.sh
# points it at a scratch copy).
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
CC=${CC:-gcc}
command -v "$CC" >/dev/null || {
  echo "check_layers: $CC not found (packaging/bootstrap.sh installs it)" >&2
  exit 1
}

# core/layers.txt: "LAYER: LAYERS IT MAY INCLUDE", comments with '#'.
declare -A allowed=()
while IFS= read -r line || [[ -n $line ]]; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ ! $line =~ ^([a-z][a-z0-9_]*):([a-z0-9_ ]*)$ ]]; then
    echo "check_layers: core/layers.txt: '$line': expected 'LAYER: LAYERS IT MAY INCLUDE'" >&2
    exit 1
  fi
  allowed[${BASH_REMATCH[1]}]=" ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} "
done <core/layers.txt
((${#allowed[@]} > 0)) || {
  echo "check_layers: core/layers.txt lists no layer" >&2
  exit 1
}

# The flags the build uses that can change which headers are read.
read -r -a pc_flags <<<"$(pkg-config --cflags inih libarchive libffi jansson zlib libcrypto)"
flags=(-MM -x c -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
       -I core -I sdk/include "${pc_flags[@]}")

violations=0
files=0
edges=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

while IFS= read -r -d '' file; do
  file=${file#./}
  files=$((files + 1))
  rest=${file#core/}
  layer=${rest%%/*}
  if [[ $rest != */* || -z ${allowed[$layer]+set} ]]; then
    violation "$file: not in a layer; expected a folder core/LAYER/ that core/layers.txt lists"
    continue
  fi
  if ! deps=$("$CC" "${flags[@]}" -MT x "$file" 2>"$errors"); then
    violation "$file: gcc -MM cannot read it, so its includes are unknown:"
    sed 's/^/    /' "$errors"
    continue
  fi
  # "x: FILE HEADER HEADER \<newline> HEADER ..."; the first is the file.
  deps=${deps#x:}
  deps=${deps//\\$'\n'/ }
  read -r -a headers <<<"$deps"
  ((${#headers[@]} > 1)) || continue
  while IFS= read -r path; do
    case $path in
    core/*/*)
      edges=$((edges + 1))
      target=${path#core/}
      target=${target%%/*}
      if [[ ${allowed[$layer]} != *" $target "* ]]; then
        may=$(echo ${allowed[$layer]})
        violation "$file -> $path: layer $layer may include only ${may// /, } (core/layers.txt)"
      fi
      ;;
    sdk/include/*) ;;
    ../* | /*) ;; # outside the repository: a system or library header
    *) violation "$file -> $path: core may include only core/ layers and sdk/include" ;;
    esac
  done < <(realpath -m --relative-to="$src" "${headers[@]:1}")
done < <(find core -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if ((files == 0)); then
  echo "check_layers: no C file under $src/core" >&2
  exit 1
fi
if ((violations > 0)); then
  echo "check_layers: $violations violation(s) of core/layers.txt in $files files" >&2
  exit 1
fi
echo "check_layers: $files files, $edges includes within core/, all allowed by core/layers.txt"
