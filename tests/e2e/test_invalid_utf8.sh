#!/usr/bin/env bash
# Invalid UTF-8 (issue 11, finding 1: accepted, then silently lost). A CSV
# in Latin-1 (a label value, a column name, a onehot column) is refused by
# the csv source with FILE:LINE and the column; the same files with
# `encoding = latin1` run, and the bundle records every class, feature
# name and category transcoded to UTF-8 (compared as bytes). A manifest
# value in Latin-1 is refused with FILE:LINE.
. "$(dirname "$0")/lib.sh"

TPL=$KEEL_SRC/manifests/templates/tabular-classification.ini
cd "$T" && mkdir -p d m

# rows: a, b numeric; city the label, three classes, two in Latin-1
rows() { # COLOR_COLUMN(0/1)
  local i city color
  for ((i = 0; i < 60; i++)); do
    case $((i % 3)) in
      0) city=Bern color=blau ;;
      1) city=$'Z\xfcrich' color=$'gr\xfcn' ;;
      2) city=$'Gen\xe8ve' color=$'r\xf6t' ;;
    esac
    if (($1)); then
      printf '%d.5,%d,%s,%s\n' $((i % 7)) $((i % 5)) "$color" "$city"
    else
      printf '%d.5,%d,%s\n' $((i % 7)) $((i % 5)) "$city"
    fi
  done
}
{ printf 'a,b,city\n'; rows 0; } > d/labels.csv
{ printf $'a,b\xe4,city\n'; rows 0 | sed -e $'s/Z\xfcrich/Zurich/' -e $'s/Gen\xe8ve/Geneva/'; } > d/name.csv
{ printf 'a,b,color,city\n'; rows 1 | sed -e $'s/Z\xfcrich/Zurich/' -e $'s/Gen\xe8ve/Geneva/'; } > d/onehot.csv
# the same text in UTF-8: the default reads it as it is
iconv -f latin1 -t utf-8 d/labels.csv > d/labels-utf8.csv

manifest() { # NAME CSV [SOURCE EXTRA] [TRANSFORM]
  {
    printf '[keel]\ntemplate = %s\ntemplate_version = >=1.0 <2\n\n' "$TPL"
    printf '[data]\nlabel = city\nvalid_fraction = 0.2\nsplit_seed = 42\n\n'
    printf '[source]\nplugin = csv\npath = %s\n%s\n' "$T/d/$2" "${3:-}"
    [[ -n ${4:-} ]] && printf '[transform.onehot]\nplugin = onehot\ncolumns = color\n\n'
    printf '[transform.scale]\nplugin = standardize\n\n[model]\nplugin = softmax\n\n'
    printf '[loss]\nplugin = xent\n\n[optimizer]\nplugin = sgd\nlr = 0.1\n\n'
    printf '[train]\nepochs = 2\nbatch_size = 16\nseed = 1\n'
  } > "m/$1.ini"
}
manifest labels labels.csv
manifest name name.csv
manifest onehot onehot.csv '' onehot
manifest labels-l1 labels.csv 'encoding = latin1'
manifest name-l1 name.csv 'encoding = latin1'
manifest onehot-l1 onehot.csv 'encoding = latin1' onehot
manifest labels-utf8 labels-utf8.csv

# Refused at the reader, by check and by run: file, line, column, why;
# exit 2 like every malformed-data error of the csv source (both commands
# scan the file before any training).
for cmd in check run; do
  krun $cmd m/labels.ini
  check "$cmd labels: exit 2 (got $RC)" test "$RC" = 2
  has_err "$cmd labels" "labels.csv:3: data row 2, column 'city' (3)" 'not valid UTF-8' 'Z\xfcrich'
  krun $cmd m/name.ini
  check "$cmd name: exit 2 (got $RC)" test "$RC" = 2
  has_err "$cmd name" "name.csv:1: column 2 name" 'not valid UTF-8' 'b\xe4'
  krun $cmd m/onehot.ini
  check "$cmd onehot: exit 2 (got $RC)" test "$RC" = 2
  has_err "$cmd onehot" "onehot.csv:3: data row 2, column 'color' (3)" 'not valid UTF-8' 'gr\xfcn'
done

# The option is declared, with its choices.
krun plugins csv
has "plugins csv lists encoding" 'encoding' 'latin1'

# EXPR (Python, over the JSON member NAME of bundle $B bound to d) printed
# as compact JSON with its UTF-8 text as it is
member() { # NAME EXPR
  "$PY" -c 'import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if m.name.split("/", 1)[-1] == sys.argv[2]:
            d = json.load(t.extractfile(m))
v = eval(sys.argv[3], {"d": d})
sys.stdout.write(json.dumps(v, ensure_ascii=False, separators=(",", ":")))' "$B" "$1" "$2"
}
# EXPR's value as UTF-8 bytes in hex, so the comparison is of bytes
hexof() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
want_classes=$(hexof $'["Bern","Gen\xc3\xa8ve","Z\xc3\xbcrich"]')

# Latin-1 declared: every class, name and category arrives, transcoded.
if seal m/labels-l1.ini --out runs; then
  check "labels-l1: 3 classes, as UTF-8" test "$(hexof "$(member lineage.json 'd["classes"]')")" = "$want_classes"
  # the model has one output per listed class (the finding: 3 trained, 1 listed)
  outs=$("$PY" -c 'import ast, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if m.name.endswith("/weights/W.npy"):
            b = t.extractfile(m).read()
n = int.from_bytes(b[8:10], "little")
print(ast.literal_eval(b[10:10 + n].decode("latin1"))["shape"][-1])' "$B")
  check "labels-l1: W has one output per class ($outs)" test "$outs" = 3
fi
if seal m/labels-utf8.ini --out runs; then
  check "labels-utf8: 3 classes, as UTF-8" test "$(hexof "$(member lineage.json 'd["classes"]')")" = "$want_classes"
fi
if seal m/name-l1.ini --out runs; then
  check "name-l1: both feature names, b\\xe4 as UTF-8" test "$(hexof "$(member lineage.json 'd["feature_names"]')")" = "$(hexof $'["a","b\xc3\xa4"]')"
fi
if seal m/onehot-l1.ini --out runs; then
  got=$("$PY" -c 'import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if "/preprocess/" in m.name and m.name.endswith("onehot.json"):
            d = json.load(t.extractfile(m))
for e in d["entries"]:
    if e["key"] == "categories":
        sys.stdout.write(json.dumps(e["strings"], ensure_ascii=False, separators=(",", ":")))' "$B")
  check "onehot-l1: the categories, as UTF-8 ($got)" test "$(hexof "$got")" = "$(hexof $'["blau","gr\xc3\xbcn","r\xc3\xb6t"]')"
fi

# A manifest value in Latin-1: refused where it is written.
sed -e $'s/^label = city$/label = Z\xfcrich/' m/labels-utf8.ini > m/latin1-value.ini
krun check m/latin1-value.ini
check "latin1 value: exit 2 (got $RC)" test "$RC" = 2
has_err "latin1 value" 'latin1-value.ini:6:' 'not valid UTF-8' 'Z\xfcrich'

finish
