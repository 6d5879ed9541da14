#!/usr/bin/env bash
# The loader refuses every malformed plugin with exit code 2 and a message
# naming the file and the reason. The broken plugins come from
# tests/plugins/*.c (built into $KEEL_BROKEN_DIR); the file-level cases
# (not ELF, empty, truncated, a directory, a dangling link) are made here.
set -euo pipefail
: "${KEEL:?}" "${KEEL_BROKEN_DIR:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
B=$KEEL_BROKEN_DIR
failures=0
passed=0

# expect_refusal LABEL FILE-NAME-IN-MESSAGE REGEX... -- ARGS...
# Runs `keel plugins ARGS`, wants exit 2 and stderr holding FILE-NAME and
# every (case-insensitive, extended) REGEX.
expect_refusal() {
  local label=$1 file=$2
  shift 2
  local regexes=()
  while [[ $1 != -- ]]; do
    regexes+=("$1")
    shift
  done
  shift
  local rc=0
  "$KEEL" plugins "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  local err
  err=$(cat "$KEEL_TMP/err")
  local why=""
  if ((rc != 2)); then
    why="exit code $rc, expected 2"
  elif ! grep -qF -- "$file" <<<"$err"; then
    why="message does not name the file '$file'"
  else
    local re
    for re in "${regexes[@]}"; do
      if ! grep -qEi -- "$re" <<<"$err"; then
        why="message does not match /$re/"
        break
      fi
    done
  fi
  if [[ -n $why ]]; then
    echo "FAIL $label: $why"
    echo "  keel plugins $*"
    sed 's/^/  stderr: /' "$KEEL_TMP/err"
    failures=$((failures + 1))
  else
    echo "ok   $label: $(head -n 1 "$KEEL_TMP/err")"
    passed=$((passed + 1))
  fi
}

# expect_ok LABEL REGEX -- ARGS...: exit 0 and stdout matching REGEX.
expect_ok() {
  local label=$1 re=$2
  shift 3
  local rc=0
  "$KEEL" plugins "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  if ((rc != 0)) || ! grep -qEi -- "$re" "$KEEL_TMP/out"; then
    echo "FAIL $label: exit $rc, wanted 0 and stdout matching /$re/"
    echo "  keel plugins $*"
    sed 's/^/  stderr: /' "$KEEL_TMP/err"
    sed 's/^/  stdout: /' "$KEEL_TMP/out" | head -n 20
    failures=$((failures + 1))
  else
    echo "ok   $label"
    passed=$((passed + 1))
  fi
}

for f in no_entry abi_major abi_minor_newer too_small no_name no_version \
  bad_semver bad_name bad_kind missing_function dup_param \
  default_out_of_range entry_null dup_a dup_b; do
  [[ -f $B/$f.so ]] || {
    echo "FAIL: $B/$f.so was not built (tests/plugins/$f.c)"
    exit 1
  }
done

# --- one refusal per descriptor defect ----------------------------------
expect_refusal no_entry no_entry.so 'no entry symbol' 'keel_plugin_entry' -- --plugin-path "$B/no_entry.so"
expect_refusal entry_null entry_null.so 'no descriptor' -- --plugin-path "$B/entry_null.so"
expect_refusal abi_major abi_major.so 'ABI major' 'host has [0-9]+, plugin has [0-9]+' -- --plugin-path "$B/abi_major.so"
expect_refusal abi_minor_newer abi_minor_newer.so 'ABI [0-9]+\.[0-9]+' 'newer' -- --plugin-path "$B/abi_minor_newer.so"
expect_refusal too_small too_small.so 'descriptor too small' '\b8 bytes' -- --plugin-path "$B/too_small.so"
expect_refusal no_name no_name.so 'no name' -- --plugin-path "$B/no_name.so"
expect_refusal no_version no_version.so 'no version' -- --plugin-path "$B/no_version.so"
expect_refusal bad_semver bad_semver.so 'semantic version' "'1\\.x'" -- --plugin-path "$B/bad_semver.so"
expect_refusal bad_name bad_name.so 'invalid plugin name' 'Bad Name' -- --plugin-path "$B/bad_name.so"
expect_refusal bad_kind bad_kind.so 'kind' '\b42\b' -- --plugin-path "$B/bad_kind.so"
expect_refusal missing_function missing_function.so 'function' 'forward' -- --plugin-path "$B/missing_function.so"
expect_refusal dup_param dup_param.so 'duplicate parameter' "'lr'" -- --plugin-path "$B/dup_param.so"
expect_refusal default_out_of_range default_out_of_range.so 'default' "'lr'" 'range' -- --plugin-path "$B/default_out_of_range.so"

# --- two plugins of the same kind and name -------------------------------
# In one folder: refused, naming both files (dup_a.so sorts first, so the
# message is about dup_b.so and mentions dup_a.so as the other one).
mkdir "$KEEL_TMP/twins"
cp "$B/dup_a.so" "$B/dup_b.so" "$KEEL_TMP/twins/"
expect_refusal duplicate dup_b.so 'twin' 'dup_a\.so' -- --plugin-path "$KEEL_TMP/twins"
# Each alone is a valid plugin: the refusal above is about the pair.
expect_ok dup_a_alone 'twin' -- --plugin-path "$B/dup_a.so"
expect_ok dup_b_alone 'twin' -- --plugin-path "$B/dup_b.so"
# In two search entries: the earlier entry wins, like PATH, whatever order
# the files have on disk (deterministic resolution).
expect_ok shadow_a_first 'file +.*/dup_a\.so' -- twin --plugin-path "$B/dup_a.so" --plugin-path "$B/dup_b.so"
expect_ok shadow_b_first 'file +.*/dup_b\.so' -- twin --plugin-path "$B/dup_b.so" --plugin-path "$B/dup_a.so"

# --- files that are not plugins --------------------------------------------
echo "this is not a shared object" >"$KEEL_TMP/x.so"
expect_refusal not_elf x.so 'not an ELF' -- --plugin-path "$KEEL_TMP/x.so"
: >"$KEEL_TMP/empty.so"
expect_refusal empty_file empty.so 'not an ELF' -- --plugin-path "$KEEL_TMP/empty.so"
# An ELF header and nothing else: passes the magic check, dlopen refuses.
head -c 64 "$B/dup_a.so" >"$KEEL_TMP/truncated.so"
expect_refusal truncated_elf truncated.so 'cannot load' -- --plugin-path "$KEEL_TMP/truncated.so"
# A folder given as a search entry is scanned (that is what --plugin-path
# DIR means); a *directory named like a plugin* inside it is refused.
mkdir -p "$KEEL_TMP/withdir/y.so"
expect_refusal directory y.so 'directory' -- --plugin-path "$KEEL_TMP/withdir"
# A missing file given directly, and a dangling symlink in a folder.
expect_refusal missing_file nowhere.so 'no such file|cannot access|not found' -- --plugin-path "$KEEL_TMP/nowhere.so"
mkdir "$KEEL_TMP/dangling"
ln -s "$KEEL_TMP/gone.so" "$KEEL_TMP/dangling/z.so"
expect_refusal dangling_symlink z.so 'no such file|cannot access|not found' -- --plugin-path "$KEEL_TMP/dangling"

# Unreadable (mode 000): root reads any file whatever its mode, and root
# also passes a folder without search permission, so permissions cannot
# make a file unreadable for root. Run as root (as in CI) this case is
# skipped; the dangling symlink above covers "cannot open" for everyone.
cp "$B/dup_a.so" "$KEEL_TMP/unreadable.so"
chmod 000 "$KEEL_TMP/unreadable.so"
if [[ $(id -u) == 0 ]]; then
  echo "skip unreadable: running as root, who can read a mode-000 file"
else
  expect_refusal unreadable unreadable.so 'permission denied|cannot read' -- --plugin-path "$KEEL_TMP/unreadable.so"
fi
chmod 600 "$KEEL_TMP/unreadable.so"

echo "$passed passed, $failures failed"
((failures == 0))
