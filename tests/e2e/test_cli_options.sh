#!/usr/bin/env bash
# Every option of every command, tested from the outside and driven by the
# help each command prints (core/cli/options.c writes it from the same
# table that parses), so a new option or command is covered without
# editing this file:
# - `keel help CMD`, `keel CMD --help` and `keel CMD -h` print the same;
# - a value option parses as `--opt V` and as `--opt=V` (V picked from its
#   placeholder and range; the command may still fail later, but not with
#   a usage error), and with its short alias;
# - a typed value out of range or malformed is refused with exit 2, naming
#   the option and the value; a missing value names the option;
# - a flag parses bare and refuses `--flag=x`;
# - an unknown option is named with exit 2 (escaped when it holds control
#   bytes); `--` ends the options;
# - docs/cli.md and README.md's Commands table name every option;
# - replay makes its temporary folder under $TMPDIR.
. "$(dirname "$0")/lib.sh"
unset KEEL_PLUGIN_PATH

# Commands may write where they run; nothing a refusal does may land in the
# tree. Every check below runs in $W and none may leave a file there.
W=$T/work
mkdir -p "$W"

# keel_out CMD ARGS...: runs keel in $W, output in $T/out, exit in $RC.
keel_out() {
  RC=0
  (cd "$W" && "$KEEL" "$@") >"$T/out" 2>&1 || RC=$?
}

# usage_error CMD: whether the last output is a usage error of CMD (the
# parser's: exit 2 and the usage line).
usage_error() {
  ((RC == 2)) && grep -q "^usage: keel $1 " "$T/out"
}

# parses LABEL CMD ARGS...: the line gets past the parser.
parses() {
  local label=$1 cmd=$2
  shift 2
  keel_out "$cmd" "$@"
  if usage_error "$cmd" || grep -q "unknown option" "$T/out"; then
    fail "$label: a usage error (exit $RC)"
    show_output
  else
    ok
  fi
}

# refused LABEL CMD WANT... -- ARGS...: exit 2, a usage error, and the
# output contains every WANT (fixed strings).
refused() {
  local label=$1 cmd=$2 want=()
  shift 2
  while [[ $1 != -- ]]; do
    want+=("$1")
    shift
  done
  shift
  keel_out "$cmd" "$@"
  if ! usage_error "$cmd"; then
    fail "$label: exit $RC, expected a usage error (2)"
    show_output
    return
  fi
  local w
  for w in "${want[@]}"; do
    if ! grep -qF -- "$w" "$T/out"; then
      fail "$label: the error does not name $w"
      show_output
      return
    fi
  done
  ok
}

# The commands, from `keel help`.
"$KEEL" help >"$T/help" 2>&1 || fail "keel help: exit $?"
mapfile -t commands < <(awk '/^commands:/ { on = 1; next }
  on && /^$/ { exit } on { print $1 }' "$T/help")
((${#commands[@]} >= 9)) && ok || fail "keel help lists ${#commands[@]} commands"

# docs/cli.md's section "## keel CMD ..." (up to the next "## ").
doc_section() {
  awk -v cmd="$1" '/^## / { on = ($2 == "keel" && $3 == cmd) }
    on' "$KEEL_SRC/docs/cli.md"
}

for cmd in "${commands[@]}"; do
  # --- the help: one text, three ways ------------------------------------
  "$KEEL" help "$cmd" >"$T/help.$cmd" 2>&1 || fail "keel help $cmd: exit $?"
  RC=0
  "$KEEL" "$cmd" --help >"$T/dash.$cmd" 2>&1 || RC=$?
  ((RC == 0)) && cmp -s "$T/help.$cmd" "$T/dash.$cmd" && ok ||
    fail "keel $cmd --help (exit $RC) differs from keel help $cmd"
  RC=0
  "$KEEL" "$cmd" -h >"$T/h.$cmd" 2>&1 || RC=$?
  ((RC == 0)) && cmp -s "$T/help.$cmd" "$T/h.$cmd" && ok ||
    fail "keel $cmd -h (exit $RC) differs from keel help $cmd"
  grep -q "^usage: keel $cmd" "$T/help.$cmd" && ok ||
    fail "keel help $cmd has no usage line"

  # --- operands: the synopsis words before the first [optional] one ------
  synopsis=$(awk '/^usage:/ { on = 1 } on && /^$/ { exit } on' "$T/help.$cmd" | tr -s ' \n' ' ')
  read -ra words <<<"$synopsis"
  operands=()
  for w in "${words[@]:3}"; do
    [[ $w == \[* ]] && break
    operands+=("$T/no-such-$w")
  done

  # --- unknown options, and -- ------------------------------------------
  refused "$cmd --frobnicate" "$cmd" "unknown option '--frobnicate'" -- "${operands[@]}" --frobnicate
  refused "$cmd --frobnicate=1" "$cmd" "unknown option '--frobnicate'" -- "${operands[@]}" --frobnicate=1
  refused "$cmd -Z" "$cmd" "unknown option '-Z'" -- "${operands[@]}" -Z
  refused "$cmd escaped option" "$cmd" "unknown option '--fr\\x1bob'" -- "${operands[@]}" $'--fr\x1bob'
  if grep -q $'\x1b' "$T/out"; then fail "$cmd echoed a raw control byte"; else ok; fi
  # (in a folder of its own: `keel keygen -- --frobnicate` rightly writes
  # --frobnicate.key)
  mkdir -p "$T/dd.$cmd"
  RC=0
  (cd "$T/dd.$cmd" && "$KEEL" "$cmd" -- --frobnicate "${operands[@]:1}") >"$T/out" 2>&1 || RC=$?
  grep -q "unknown option" "$T/out" && fail "$cmd: -- does not end the options" || ok

  # --- the options, as the help lists them ------------------------------
  names=()
  declare -A meta=() short=() help=()
  last=
  while IFS= read -r line; do
    if [[ $line =~ ^\ +(-([A-Za-z]),\ +)?--([a-z][a-z0-9-]*)(\ ([A-Z][A-Z0-9_-]*))?\ {2,}(.*)$ ]]; then
      last=${BASH_REMATCH[3]}
      names+=("$last")
      short[$last]=${BASH_REMATCH[2]}
      meta[$last]=${BASH_REMATCH[5]}
      help[$last]=${BASH_REMATCH[6]}
    elif [[ -n $last && $line =~ ^\ {4,}([^\ -].*)$ ]]; then
      help[$last]+=" ${BASH_REMATCH[1]}"
    fi
  done < <(sed -n '/^options:/,$p' "$T/help.$cmd")
  [[ " ${names[*]} " == *" help "* ]] && ok || fail "keel help $cmd does not list --help"

  section=$(doc_section "$cmd")
  [[ -n $section ]] && ok || fail "docs/cli.md has no section '## keel $cmd'"
  readme=$(grep -E "^\| \`keel $cmd( |\`)" "$KEEL_SRC/README.md" || true)
  [[ -n $readme ]] && ok || fail "README.md's Commands table has no row for keel $cmd"

  for name in "${names[@]}"; do
    opt=--$name
    [[ $synopsis == *"$opt"* || $name == help ]] && ok || fail "$cmd: $opt is not in the usage line"
    if [[ $name != help ]]; then
      grep -qF -- "$opt" <<<"$section" && ok || fail "docs/cli.md (keel $cmd) does not mention $opt"
      grep -qF -- "$opt" <<<"$readme" && ok || fail "README.md (keel $cmd) does not mention $opt"
    fi
    m=${meta[$name]}
    if [[ -z $m ]]; then
      # a flag
      refused "$cmd $opt=x" "$cmd" "$opt" -- "${operands[@]}" "$opt=x"
      if [[ $name != help ]]; then
        parses "$cmd $opt" "$cmd" "${operands[@]}" "$opt"
        [[ -n ${short[$name]} ]] && parses "$cmd -${short[$name]}" "$cmd" "${operands[@]}" "-${short[$name]}"
      fi
      continue
    fi
    # a value option: a valid value from its kind, bad ones if typed
    bad=()
    if [[ ${help[$name]} =~ \($m\ in\ \[(-?[0-9]+),\ (-?[0-9]+)\]\) ]]; then
      lo=${BASH_REMATCH[1]} hi=${BASH_REMATCH[2]}
      v=$lo
      bad=(x "$((hi + 1))" "$((lo - 1))" "${lo}x" "")
    else
      v=$T/value-$name
    fi
    parses "$cmd $opt V" "$cmd" "${operands[@]}" "$opt" "$v"
    parses "$cmd $opt=V" "$cmd" "${operands[@]}" "$opt=$v"
    [[ -n ${short[$name]} ]] && parses "$cmd -${short[$name]} V" "$cmd" "${operands[@]}" "-${short[$name]}" "$v"
    for b in "${bad[@]}"; do
      refused "$cmd $opt '$b'" "$cmd" "$opt" "not '$b'" -- "${operands[@]}" "$opt" "$b"
      refused "$cmd $opt='$b'" "$cmd" "$opt" "not '$b'" -- "${operands[@]}" "$opt=$b"
    done
    refused "$cmd $opt (no value)" "$cmd" "$opt needs a value" -- "${operands[@]}" "$opt"
  done
  unset meta short help
done

# Path values must not be empty (a typed kind without a range to list).
refused "run --out=" run "--out" "not ''" -- "$T/no-such-MANIFEST" --out=
refused "check --plugin-path ''" check "--plugin-path" "not ''" -- "$T/no-such-MANIFEST" --plugin-path ''
# The operand rules the parser keeps: overrides anywhere, one manifest.
keel_out check "$T/no-such.ini" optimizer.lr=0.1
usage_error check && fail "an override after the manifest is a usage error" || ok
keel_out check optimizer.lr=0.1 "$T/no-such.ini"
usage_error check && fail "an override before the manifest is a usage error" || ok
refused "two manifests" run "unexpected argument 'b.ini'" -- a.ini b.ini
refused "no bundle" verify "no bundle given" --
refused "two bundles" show "one bundle at a time" -- a b
# A unique near miss gets a suggestion.
refused "near miss" replay "unknown option '--thread'; did you mean '--threads'?" -- b.tar.gz --thread 2

[[ -z $(ls -A "$W") ]] && ok || fail "refused or failed commands wrote: $(ls -A "$W")"

# replay makes its temporary folder under $TMPDIR, else /tmp.
b=$("$KEEL" run "$KEEL_SRC/manifests/iris.ini" --out "$T/runs" --quiet 2>"$T/run.err" | tail -n 1) || true
if [[ -f $b ]]; then
  mkdir -p "$T/tmpdir"
  RC=0
  TMPDIR=$T/tmpdir "$KEEL" replay "$b" --keep >"$T/out" 2>&1 || RC=$?
  ((RC == 0)) && grep -q "kept $T/tmpdir/keel-replay-" "$T/out" && ok ||
    { fail "replay with TMPDIR=$T/tmpdir: exit $RC"; show_output; }
  compgen -G "$T/tmpdir/keel-replay-*/out" >/dev/null && ok || fail "replay --keep kept nothing under \$TMPDIR"
  RC=0
  TMPDIR=$T/no-such-tmpdir "$KEEL" replay "$b" >"$T/out" 2>&1 || RC=$?
  ((RC == 1)) && grep -qF "temporary folder in $T/no-such-tmpdir" "$T/out" && ok ||
    { fail "replay with a missing TMPDIR: exit $RC"; show_output; }
else
  fail "keel run iris.ini made no bundle"
  show_output "$T/run.err"
fi

finish
