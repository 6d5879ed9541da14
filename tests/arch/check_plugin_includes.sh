#!/usr/bin/env bash
# tests/arch/check_plugin_includes.sh [SOURCE_DIR]: the built-in plugins
# are SDK-only, so they prove a third party needs nothing else.
#
# Every #include in a file under plugins/ is one of:
#   - <keel/NAME.h> with NAME.h a header of sdk/include/keel (installed);
#   - <...> any other header the compiler finds with no -I (the system's);
#   - "NAME" a file beside the including one (a plugin's own private
#     header), never a path ("../common/x.h", "sub/x.h").
# And plugins/common/ is gone: no shared folder a plugin could reach.
# Prints one line per violation and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
CC=${CC:-cc}
violations=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}
declare -A system_ok=()
is_system_header() {
  local h=$1
  if [[ -z ${system_ok[$h]+x} ]]; then
    if printf '#include <%s>\n' "$h" | "$CC" -E -x c - >/dev/null 2>&1; then
      system_ok[$h]=1
    else
      system_ok[$h]=0
    fi
  fi
  [[ ${system_ok[$h]} == 1 ]]
}

files=0
while IFS= read -r -d '' file; do
  files=$((files + 1))
  dir=$(dirname "$file")
  while IFS=: read -r line text; do
    if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^>]*)\> ]]; then
      h=${BASH_REMATCH[1]}
      if [[ $h == keel/* ]]; then
        [[ -f sdk/include/$h ]] ||
          violation "$file:$line: <$h> is not a header of sdk/include/keel"
      elif ! is_system_header "$h"; then
        violation "$file:$line: <$h> is neither <keel/...> nor a system header"
      fi
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*)\" ]]; then
      h=${BASH_REMATCH[1]}
      if [[ $h == */* ]]; then
        violation "$file:$line: \"$h\" reaches outside the plugin's folder; use <keel/...> (the installed SDK)"
      elif [[ ! -f $dir/$h ]]; then
        violation "$file:$line: \"$h\" is not a file beside it in $dir (shared helpers belong in sdk/include/keel)"
      fi
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include ]]; then
      violation "$file:$line: an #include this check cannot read: $text"
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
done < <(find plugins -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if [[ -d plugins/common ]]; then
  violation "plugins/common/: a helper folder beside the plugins; publish what they share under sdk/include/keel"
fi

if ((violations > 0)); then
  echo "check_plugin_includes: $violations violation(s)" >&2
  exit 1
fi
echo "check_plugin_includes: $files files under plugins/ include only <keel/...>, system headers and their own folder's files"
