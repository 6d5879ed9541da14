#!/usr/bin/env bash
# The loader refuses every malformed plugin with exit code 2 and a message
# naming the file and the reason, when the plugin is asked for (a broken
# file on the path is otherwise only listed: test_broken_plugin_listed.sh). The broken plugins come from
# tests/plugins/*.c (built into $KEEL_BROKEN_DIR); the file-level cases
# (not ELF, empty, truncated, a directory, a dangling link) are made here.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
B=$KEEL_BROKEN_DIR

# refused LABEL FILE-NAME-IN-MESSAGE REGEX... -- ARGS...
# Runs `keel plugins STEM ARGS` (STEM: FILE-NAME without .so, the name a
# broken file answers to), wants exit 2 and stderr holding FILE-NAME and
# every (case-insensitive, extended) REGEX. KRUN (default krun) runs keel.
refused() {
  local label=$1 file=$2
  shift 2
  local regexes=()
  while [[ $1 != -- ]]; do
    regexes+=("$1")
    shift
  done
  shift
  ${KRUN:-krun} plugins "${file%.so}" "$@"
  local why=""
  if ((RC != 2)); then
    why="exit code $RC, expected 2"
  elif ! grep -qF -- "$file" "$T/err"; then
    why="message does not name the file '$file'"
  else
    local re
    for re in "${regexes[@]}"; do
      if ! grep -qEi -- "$re" "$T/err"; then
        why="message does not match /$re/"
        break
      fi
    done
  fi
  if [[ -n $why ]]; then
    fail "$label: $why (keel plugins $*)"
    show_output "$T/err"
  else
    ok
  fi
}

# loads LABEL REGEX -- ARGS...: `keel plugins ARGS` exits 0 with stdout
# matching REGEX. KRUN as for refused.
loads() {
  local label=$1 re=$2
  shift 3
  ${KRUN:-krun} plugins "$@"
  if ((RC != 0)) || ! grep -qEi -- "$re" "$T/out"; then
    fail "$label: exit $RC, wanted 0 and stdout matching /$re/ (keel plugins $*)"
    show_output "$T/err"
    head -n 20 "$T/out" | show_output /dev/stdin
  else
    ok
  fi
}

for f in no_entry abi_major too_small no_name no_version \
  bad_semver bad_name bad_kind missing_function dup_param \
  default_out_of_range entry_null dup_a dup_b; do
  [[ -f $B/$f.so ]] || bail "$B/$f.so was not built (tests/plugins/$f.c)"
done

# --- one refusal per descriptor defect ----------------------------------
refused no_entry no_entry.so 'no entry symbol' 'keel_plugin_entry' -- --plugin-path "$B/no_entry.so"
refused entry_null entry_null.so 'no descriptor' -- --plugin-path "$B/entry_null.so"
refused abi_major abi_major.so 'ABI major' 'host has [0-9]+, plugin has [0-9]+' -- --plugin-path "$B/abi_major.so"
refused too_small too_small.so 'descriptor too small' '\b8 bytes' -- --plugin-path "$B/too_small.so"
refused no_name no_name.so 'no name' -- --plugin-path "$B/no_name.so"
refused no_version no_version.so 'no version' -- --plugin-path "$B/no_version.so"
refused bad_semver bad_semver.so 'semantic version' "'1\\.x'" -- --plugin-path "$B/bad_semver.so"
refused bad_name bad_name.so 'invalid plugin name' 'Bad Name' -- --plugin-path "$B/bad_name.so"
refused bad_kind bad_kind.so 'kind' '\b42\b' -- --plugin-path "$B/bad_kind.so"
refused missing_function missing_function.so 'function' 'forward' -- --plugin-path "$B/missing_function.so"
refused dup_param dup_param.so 'duplicate parameter' "'lr'" -- --plugin-path "$B/dup_param.so"
refused default_out_of_range default_out_of_range.so 'default' "'lr'" 'range' -- --plugin-path "$B/default_out_of_range.so"

# --- two plugins of the same kind and name -------------------------------
# In one folder: refused, naming both files (dup_a.so sorts first, so the
# message is about dup_b.so and mentions dup_a.so as the other one).
mkdir "$T/twins"
cp "$B/dup_a.so" "$B/dup_b.so" "$T/twins/"
refused duplicate dup_b.so 'twin' 'dup_a\.so' -- --plugin-path "$T/twins"
# Each alone is a valid plugin: the refusal above is about the pair.
loads dup_a_alone 'twin' -- --plugin-path "$B/dup_a.so"
loads dup_b_alone 'twin' -- --plugin-path "$B/dup_b.so"
# In two search entries: the earlier entry wins, like PATH, whatever order
# the files have on disk (deterministic resolution).
loads shadow_a_first 'file +.*/dup_a\.so' -- twin --plugin-path "$B/dup_a.so" --plugin-path "$B/dup_b.so"
loads shadow_b_first 'file +.*/dup_b\.so' -- twin --plugin-path "$B/dup_b.so" --plugin-path "$B/dup_a.so"

# --- files that are not plugins --------------------------------------------
echo "this is not a shared object" >"$T/x.so"
refused not_elf x.so 'not an ELF' -- --plugin-path "$T/x.so"
: >"$T/empty.so"
refused empty_file empty.so 'not an ELF' -- --plugin-path "$T/empty.so"
# An ELF header and nothing else: passes the magic check, dlopen refuses.
head -c 64 "$B/dup_a.so" >"$T/truncated.so"
refused truncated_elf truncated.so 'cannot load' -- --plugin-path "$T/truncated.so"
# A folder given as a search entry is scanned (that is what --plugin-path
# DIR means); a *directory named like a plugin* inside it is refused.
mkdir -p "$T/withdir/y.so"
refused directory y.so 'directory' -- --plugin-path "$T/withdir"
# A missing file given directly, and a dangling symlink in a folder.
refused missing_file nowhere.so 'no such file|cannot access|not found' -- --plugin-path "$T/nowhere.so"
mkdir "$T/dangling"
ln -s "$T/gone.so" "$T/dangling/z.so"
refused dangling_symlink z.so 'no such file|cannot access|not found' -- --plugin-path "$T/dangling"

# Unreadable (mode 000). Root reads any file whatever its mode, so as root
# (as in CI) keel runs as a user that mode bits apply to: nobody, through
# setpriv, when nobody can run keel and reach $T; otherwise root without
# the capabilities that bypass mode bits (CAP_DAC_OVERRIDE,
# CAP_DAC_READ_SEARCH).
unprivileged_krun() {
  if [[ $(id -u) != 0 ]]; then
    krun "$@"
    return
  fi
  local as=(setpriv --bounding-set=-dac_override,-dac_read_search)
  local nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  if "${nobody[@]}" test -x "$T" && "${nobody[@]}" "$KEEL" --version >/dev/null 2>&1; then
    as=("${nobody[@]}")
  fi
  RC=0
  "${as[@]}" "$KEEL" "$@" >"$T/out" 2>"$T/err" || RC=$?
}
[[ $(id -u) != 0 ]] || need setpriv
cp "$B/dup_a.so" "$T/unreadable.so"
chmod 000 "$T/unreadable.so"
KRUN=unprivileged_krun refused unreadable unreadable.so 'permission denied|cannot read' -- --plugin-path "$T/unreadable.so"
# The refusal is about the mode: the same user loads a mode-644 copy.
cp "$B/dup_a.so" "$T/readable.so"
chmod 644 "$T/readable.so"
KRUN=unprivileged_krun loads readable_as_same_user 'twin' -- --plugin-path "$T/readable.so"
chmod 600 "$T/unreadable.so"

finish
