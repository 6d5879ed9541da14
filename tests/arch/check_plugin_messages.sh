#!/usr/bin/env bash
# tests/arch/check_plugin_messages.sh [SOURCE_DIR]: a plugin's messages
# carry no prefix of their own; the host puts "[stage] name: " in front of
# every message a plugin returns (docs/plugin-guide.md), so a plugin that
# writes its own name shows it twice wherever the host's strip does not
# reach (a message cut at KEEL_ERROR_SIZE, a name that differs).
#
# Flags, in every .c/.h of a built-in plugin folder plugins/KIND/NAME and
# of sdk/template, a string literal that starts with the plugin's name and
# ": " ("csv: ..." or WHO ": ..." with WHO defined as the name), and in
# the SDK's helper headers (sdk/include/keel/util*.h) a message that starts
# with "%s: " (a helper prefixing the caller's name).
# Prints one line per violation and exits 1 if there is any.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$src"
# KEEL_MESSAGE_CHECK_SKIP: kinds (folder names under plugins/) to leave
# out while one is being converted; none by default.
skip_kinds=${KEEL_MESSAGE_CHECK_SKIP:-}
violations=0
violation() {
  echo "$1"
  violations=$((violations + 1))
}
check_dir() { # DIR NAME
  local dir=$1 name=$2 hit
  while IFS= read -r hit; do
    violation "$hit: the message starts with '$name: '; the host adds it"
  done < <(grep -rnE "\"$name: |\bWHO[[:space:]]*\": " --include='*.c' --include='*.h' "$dir" || true)
}
plugins=0
for dir in plugins/*/*/; do
  dir=${dir%/}
  kind=$(basename "$(dirname "$dir")")
  [[ " $skip_kinds " == *" $kind "* ]] && continue
  plugins=$((plugins + 1))
  check_dir "$dir" "$(basename "$dir")"
done
check_dir sdk/template clamp
while IFS= read -r hit; do
  violation "$hit: an SDK helper prefixes the caller's name; the host adds it"
done < <(grep -nE '"%s: ' sdk/include/keel/util*.h 2>/dev/null || true)

if ((violations > 0)); then
  echo "check_plugin_messages: $violations violation(s)" >&2
  exit 1
fi
echo "check_plugin_messages: $plugins built-in plugins, the template and the SDK helpers write no prefix of their own"
