#!/usr/bin/env bash
# tests/arch/check_file_map.sh [SOURCE_DIR]: the file map of
# docs/architecture.md names every file under core/, and nothing else.
#
# The map is the section headed "## File map" (up to the next "## "
# heading); a file counts as named when a markdown table row of that
# section ("| ... |") holds its path in backticks, `core/base/status.c`.
# Every file under core/ counts (.c, .h, .cmake, CMakeLists.txt, anything
# else), and every `core/...` path a row names must exist. Prints the
# missing and the stale entries and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
doc=docs/architecture.md
[[ -f $doc ]] || {
  echo "check_file_map: $doc not found" >&2
  exit 1
}

# The `core/...` paths named in table rows of the "## File map" section.
named=$(awk '
  /^## / { in_map = ($0 ~ /^## File map[[:space:]]*$/); if (in_map) seen = 1; next }
  in_map && /^[[:space:]]*\|/ {
    line = $0
    while (match(line, /`core\/[^`]*`/)) {
      print substr(line, RSTART + 1, RLENGTH - 2)
      line = substr(line, RSTART + RLENGTH)
    }
  }
  END { if (!seen) exit 3 }' "$doc") || {
  echo "check_file_map: $doc has no '## File map' section" >&2
  exit 1
}

# The files under core/: what git tracks or would track (ignored scratch
# files do not count), or every file when this is not a checkout.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  present=$(git ls-files --cached --others --exclude-standard -- core |
    while IFS= read -r f; do [[ -f $f ]] && echo "$f"; done)
else
  present=$(find core -type f)
fi
present=$(sort -u <<<"$present")
named=$(sort -u <<<"$named")

missing=$(comm -23 <(echo "$present") <(echo "$named") | sed '/^$/d')
stale=$(comm -13 <(echo "$present") <(echo "$named") | sed '/^$/d' |
  while IFS= read -r p; do [[ -e ${p%/} ]] || echo "$p"; done)
n_present=$(sed '/^$/d' <<<"$present" | wc -l)
if [[ -z $missing && -z $stale ]]; then
  echo "check_file_map: all $n_present files under core/ are in the file map of $doc"
  exit 0
fi
if [[ -n $missing ]]; then
  echo "check_file_map: missing from the file map of $doc (add a table row naming each):"
  sed 's/^/  /' <<<"$missing"
fi
if [[ -n $stale ]]; then
  echo "check_file_map: stale in the file map of $doc (no such path):"
  sed 's/^/  /' <<<"$stale"
fi
exit 1
