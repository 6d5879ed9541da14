#!/usr/bin/env bash
# Data pipeline end to end: `keel check` shows every stage's schema for each
# shipped manifest and refuses static mismatches with exit 2 naming the
# stage and column; `keel run --until-transforms` writes the prepared
# matrices and fitted state, and data-only problems exit 1 naming file,
# row and column (or stage), leaving nothing half-written.
set -euo pipefail
: "${KEEL:?}" "${KEEL_SRC:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
cd "$KEEL_TMP"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect CODE NEEDLE... -- CMD...: exit code and stderr+stdout contents
expect() {
  local want=$1; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then
    fail "exit $rc (want $want): $*"; echo "$out" | tail -5 >&2; return
  fi
  for n in "${needles[@]}"; do
    if ! grep -qF -- "$n" <<<"$out"; then
      fail "output of '$*' lacks '$n'"; echo "$out" | tail -5 >&2
    fi
  done
}

# ---- shipped manifests: schema at every stage ------------------------------
for m in iris penguins cars diabetes digits; do
  expect 0 "[source] csv" "model input:" "ok: " -- \
    "$KEEL" check "$KEEL_SRC/manifests/$m.ini"
done
expect 0 "[transform.sex] onehot" "sex=*" "may-miss" -- \
  "$KEEL" check "$KEEL_SRC/manifests/penguins.ini"
expect 0 "name          text" "[transform.drop_name] drop" "year_year" -- \
  "$KEEL" check "$KEEL_SRC/manifests/cars.ini"

# ---- prepared data ---------------------------------------------------------
expect 0 "" -- "$KEEL" run "$KEEL_SRC/manifests/cars.ini" --quiet \
  --until-transforms --out "$KEEL_TMP/runs"
d=$KEEL_TMP/runs/transforms-cars
for f in X_train.npy y_train.npy X_valid.npy y_valid.npy X_test.npy \
         01-transform.drop_name.json 05-transform.scale.json schemas.json \
         split.json; do
  [ -s "$d/$f" ] || fail "cars: $f missing"
done
grep -q '"dropped_missing_label": 8' "$d/split.json" || fail "cars: 8 dropped labels not recorded"
grep -q '"train": 278' "$d/split.json" || fail "cars: train count"
head -c 6 "$d/X_train.npy" | od -c | grep -q 'N   U   M   P   Y' || fail "cars: X_train.npy is not .npy"
# same manifest, same bytes
cp -r "$d" "$KEEL_TMP/first"
expect 0 "" -- "$KEEL" run "$KEEL_SRC/manifests/cars.ini" --quiet \
  --until-transforms --out "$KEEL_TMP/runs"
for f in X_train.npy X_valid.npy y_train.npy 03-transform.fill.json split.json; do
  cmp -s "$d/$f" "$KEEL_TMP/first/$f" || fail "cars: $f differs between runs"
done
expect 0 "" -- "$KEEL" run "$KEEL_SRC/manifests/digits.ini" --quiet \
  --until-transforms --out "$KEEL_TMP/runs"
grep -q '"classes": \[' "$KEEL_TMP/runs/transforms-digits/schemas.json" || fail "digits: classes"

# ---- bad input -------------------------------------------------------------
# a 60-row table: x1 numeric, x2 numeric, c categorical, t text-ish, label
awk 'BEGIN { print "x1,x2,c,label";
  for (i = 0; i < 60; i++) printf "%d,%g,%s,%s\n", i, i * 0.5, (i % 3 ? "p" : "q"), (i % 2 ? "yes" : "no") }' > good.csv
manifest() { # FILE CSV [extra lines for [source]] ; transforms from $TX
  cat > "$1" <<INI
[keel]
template = tabular-classification
template_version = >=1.0 <2

[data]
label = ${LABEL:-label}
missing_label = ${MISSING_LABEL:-error}

[source]
plugin = csv
path = $2
$3

${TX:-}

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd
INI
}
ENC=$'[transform.enc]\nplugin = onehot\ncolumns = c'

TX=$ENC manifest ok.ini good.csv ""
expect 0 "[transform.enc] onehot" "c=*" -- "$KEEL" check ok.ini

LABEL=lable TX=$ENC manifest nolabel.ini good.csv ""
expect 2 "label = 'lable'" "did you mean 'label'" -- "$KEEL" check nolabel.ini

manifest cat.ini good.csv ""
expect 2 "column 'c'" "categorical" "onehot" -- "$KEEL" check cat.ini

TX=$ENC$'\n[transform.scale]\nplugin = standardize\ncolumns = x1, c' \
  manifest stdcat.ini good.csv ""
expect 2 "[transform.scale] standardize" "'c'" -- "$KEEL" check stdcat.ini

TX=$ENC manifest text.ini good.csv "text_columns = x2"
expect 2 "column 'x2'" "text" -- "$KEEL" check text.ini

sed 's/^4,2,/4,nan,/' good.csv > nan.csv
TX=$ENC manifest nan.ini nan.csv ""
expect 2 "column 'x2'" "NaN or Inf" -- "$KEEL" check nan.ini

sed 's/^4,2,/4,,/' good.csv > gap.csv
TX=$ENC manifest gap.ini gap.csv ""
expect 2 "column 'x2'" "may be missing" "impute" -- "$KEEL" check gap.ini

sed '7s/,p,/,p,extra,/' good.csv > ragged.csv
TX=$ENC manifest ragged.ini ragged.csv ""
expect 2 "ragged.csv:7" "data row 6" "ragged" -- "$KEEL" check ragged.ini

printf 'x1,x2,c,label\n1,2,"p,no\n' > quote.csv
TX=$ENC manifest quote.ini quote.csv ""
expect 2 "quote.csv:2" "unterminated" -- "$KEEL" check quote.ini

sed 's/^8,4,/8,four,/' good.csv > word.csv
TX=$ENC manifest word.ini word.csv "numeric_columns = x2"
expect 2 "word.csv:10" "data row 9" "'x2'" "four" -- "$KEEL" check word.ini

: > empty.csv
TX=$ENC manifest empty.ini empty.csv ""
expect 2 "empty.csv" "empty" -- "$KEEL" check empty.ini
echo "x1,x2,c,label" > header.csv
TX=$ENC manifest header.ini header.csv ""
expect 2 "header.csv" "no data rows" -- "$KEEL" check header.ini
sed '1s/x2/x1/' good.csv > dup.csv
TX=$ENC manifest dup.ini dup.csv ""
expect 2 "dup.csv:1" "duplicate column name 'x1'" -- "$KEEL" check dup.ini

# only the data reveals these: keel check passes, keel run exits 1
sed '13s/,yes$/,/' good.csv > nolab.csv
TX=$ENC manifest nolab.ini nolab.csv ""
expect 0 "" -- "$KEEL" check nolab.ini
expect 1 "label 'label' is missing in source data row 12" "missing_label = drop" -- \
  "$KEEL" run nolab.ini --quiet --until-transforms --out "$KEEL_TMP/bad"
[ ! -e "$KEEL_TMP/bad/transforms-nolab" ] || fail "failed run left a prepared folder"
MISSING_LABEL=drop TX=$ENC manifest droplab.ini nolab.csv ""
expect 0 "" -- "$KEEL" run droplab.ini --quiet --until-transforms --out "$KEEL_TMP/runs"
grep -q '"dropped_rows": \[' "$KEEL_TMP/runs/transforms-droplab/split.json" || fail "dropped rows not recorded"

awk -F, 'BEGIN { OFS = "," } NR > 1 { $2 = 7 } { print }' good.csv > const.csv
TX=$ENC$'\n[transform.scale]\nplugin = standardize' manifest const.ini const.csv ""
expect 1 "[transform.scale] standardize" "'x2'" "variance" -- \
  "$KEEL" run const.ini --quiet --until-transforms --out "$KEEL_TMP/bad"

# a category only outside the training split: find a validation row first
"$KEEL" run ok.ini --quiet --until-transforms --out "$KEEL_TMP/runs" >/dev/null
# rows_valid.npy: int64 source rows after a 128-byte header
row=$(od -An -t d8 -j 128 -N 8 "$KEEL_TMP/runs/transforms-ok/rows_valid.npy" | tr -d ' ')
awk -F, -v r="$row" 'BEGIN { OFS = "," } NR == r + 2 { $3 = "zzz" } { print }' good.csv > unseen.csv
TX=$ENC manifest unseen.ini unseen.csv ""
expect 1 "[transform.enc] onehot" "'c'" "zzz" -- \
  "$KEEL" run unseen.ini --quiet --until-transforms --out "$KEEL_TMP/bad"

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)" >&2
  exit 1
fi
echo "test_data: ok"
