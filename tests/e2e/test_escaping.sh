#!/usr/bin/env bash
# Escaping (issue 11, finding 2: raw control bytes and invalid UTF-8 reach
# the terminal). Hostile text (a CSV header and values with escape
# sequences, a manifest value in Latin-1, a bundle sealed from such data)
# is fed through every command `keel help` lists; in human mode neither
# stdout nor stderr may hold a C0 control byte other than newline and tab,
# DEL, or invalid UTF-8. The --json output stays lossless JSON.
. "$(dirname "$0")/lib.sh"

TPL=$KEEL_SRC/manifests/templates/tabular-classification.ini
cd "$T" && mkdir -p d m

# The command list comes from the CLI itself, so a new command is covered.
mapfile -t cmds < <("$KEEL" help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
((${#cmds[@]} >= 5)) || bail "no command list from keel help: ${cmds[*]}"

esc=$'\x1b]0;pwned\x07'
# A clean iris with hostile column names and a hostile class value.
{
  printf 'sep%sal,w\x1b[2Jid,len\xff,pw\x7f,species\n' "$esc"
  tail -n +2 "$KEEL_SRC/manifests/data/iris.csv" |
    sed -e $'s/,setosa$/,set\x1b[31mosa/'
} > d/hostile.csv
# The same with valid UTF-8 names, for a run to seal: a name that is not
# UTF-8 cannot be written into the fitted state's JSON (a refusal of its
# own, with its own message).
{
  printf 'sep%sal,w\x1b[2Jid,Z\xc3\xbcrich,pw\x7f,species\n' "$esc"
  tail -n +2 d/hostile.csv
} > d/runnable.csv
# A duplicate column name holding an OSC sequence.
printf '%sx,%sx,species\n1,2,a\n' "$esc" "$esc" > d/dup.csv
# A value with an erase-screen sequence where a number belongs.
{
  head -n 1 "$KEEL_SRC/manifests/data/iris.csv"
  printf 'a\x1b[2Jb,3.5,1.4,0.2,setosa\n'
  tail -n +3 "$KEEL_SRC/manifests/data/iris.csv"
} > d/value.csv

manifest() { # NAME CSV LABEL [EXTRA]
  {
    printf '[keel]\ntemplate = %s\ntemplate_version = >=1.0 <2\n\n[data]\nlabel = %s\nvalid_fraction = 0.2\nsplit_seed = 42\n\n' "$TPL" "$3"
    printf '[source]\nplugin = csv\npath = %s\n\n' "$T/d/$2"
    printf '[transform.scale]\nplugin = standardize\n\n[model]\nplugin = softmax\n\n'
    printf '[loss]\nplugin = xent\n\n[optimizer]\nplugin = sgd\nlr = 0.1\n\n'
    printf '[train]\nepochs = 2\nbatch_size = 16\nseed = 1\n'
  } > "m/$1.ini"
}
manifest hostile hostile.csv species
manifest runnable runnable.csv species
manifest dup dup.csv species
manifest value value.csv species
manifest latin1 hostile.csv $'Z\xfcrich'

clean() { # LABEL FILE...: no C0 but \n \t, no DEL, valid UTF-8
  local label=$1
  shift
  local f why
  for f in "$@"; do
    why=$("$PY" - "$f" << 'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
bad = [c for c in b if (c < 0x20 and c not in (9, 10)) or c == 0x7f]
if bad:
    print('control byte 0x%02x' % bad[0])
try:
    b.decode('utf-8')
except UnicodeDecodeError as e:
    print('invalid UTF-8 at byte %d' % e.start)
EOF
)
    if [[ -n $why ]]; then
      fail "$label: $(basename "$f"): $why: $(head -c 300 "$f" | od -c | head -5)"
      return
    fi
  done
  ok
}

# A bundle sealed from the hostile data (where the run gets that far).
B=
if seal m/runnable.ini --out runs; then
  ok
  HB=$B
else
  HB=
fi

hostile_arg=$'x\x1b[2Jy\xfc'
for c in "${cmds[@]}"; do
  sets=(
    "$hostile_arg"
    "--$hostile_arg"
    "m/hostile.ini"
    "m/runnable.ini"
    "m/dup.ini"
    "m/value.ini"
    "m/latin1.ini"
    "m/hostile.ini data.label=$hostile_arg"
  )
  [[ -n $HB ]] && sets+=("$HB" "$HB $HB" "$HB runs/nothing-$hostile_arg")
  for s in "${sets[@]}"; do
    read -r -a args <<< "$s"
    [[ $c == keygen ]] && args=(--out "$T/k-$RANDOM" "${args[@]}")
    [[ $c == replay ]] && args+=(--keep)
    krun "$c" "${args[@]}"
    clean "$c $(printf '%q' "$s")" "$T/out" "$T/err"
  done
done

# The messages still say what was wrong, in escaped form.
krun check m/dup.ini
has_err "duplicate column named escaped" '\x1b]0;pwned\x07x'
krun check m/latin1.ini
has_err "Latin-1 label escaped" 'Z\xfcrich'
# A name that is not UTF-8 is refused by the csv source (docs/data.md).
krun check m/hostile.ini
has_err "invalid UTF-8 name refused, escaped" "column 3 name 'len\xff'"
krun check m/runnable.ini
has "schema table escaped" 'w\x1b[2Jid' 'pw\x7f'

# Machine output stays lossless: --json keeps the names as JSON strings.
krun check m/runnable.ini --json
if [[ $RC == 0 ]] && "$PY" -c '
import json, sys
def strings(v):
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, str):
        yield v
d = json.load(open(sys.argv[1]))
assert "w\x1b[2Jid" in set(strings(d)), "name not kept"
' "$T/out"; then ok; else fail "check --json lost the raw column name"; fi

finish
