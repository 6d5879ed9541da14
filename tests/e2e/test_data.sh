#!/usr/bin/env bash
# Data pipeline end to end: `keel check` shows every stage's schema for each
# shipped manifest and refuses static mismatches with exit 2 naming the
# stage and column; `keel run --until-transforms` writes the prepared
# matrices and fitted state, and data-only problems exit 1 naming file,
# row and column (or stage), leaving nothing half-written.
. "$(dirname "$0")/lib.sh"
cd "$T"

# ---- shipped manifests: schema at every stage ------------------------------
for m in iris penguins cars diabetes digits; do
  expect "check $m.ini" 0 "" -- check "$KEEL_SRC/manifests/$m.ini"
  has "check $m.ini" "[source] csv" "model input:" "ok: "
done
expect "check penguins.ini" 0 "" -- check "$KEEL_SRC/manifests/penguins.ini"
has "check penguins.ini" "[transform.sex] onehot" "sex=*" "may-miss"
expect "check cars.ini" 0 "" -- check "$KEEL_SRC/manifests/cars.ini"
has "check cars.ini" "name          text" "[transform.drop_name] drop" "year_year"

# ---- prepared data ---------------------------------------------------------
expect "run cars.ini" 0 "" -- run "$KEEL_SRC/manifests/cars.ini" --quiet --until-transforms --out "$T/runs"
d=$T/runs/transforms-cars
for f in X_train.npy y_train.npy X_valid.npy y_valid.npy X_test.npy \
         01-transform.drop_name.json 05-transform.scale.json schemas.json \
         split.json; do
  [ -s "$d/$f" ] && ok || fail "cars: $f missing"
done
grep -q '"dropped_missing_label": 8' "$d/split.json" && ok || fail "cars: 8 dropped labels not recorded"
grep -q '"train": 278' "$d/split.json" && ok || fail "cars: train count"
head -c 6 "$d/X_train.npy" | od -c | grep -q 'N   U   M   P   Y' && ok || fail "cars: X_train.npy is not .npy"
# same manifest, same bytes
cp -r "$d" "$T/first"
expect "run cars.ini" 0 "" -- run "$KEEL_SRC/manifests/cars.ini" --quiet --until-transforms --out "$T/runs"
for f in X_train.npy X_valid.npy y_train.npy 03-transform.fill.json split.json; do
  cmp -s "$d/$f" "$T/first/$f" && ok || fail "cars: $f differs between runs"
done
expect "run digits.ini" 0 "" -- run "$KEEL_SRC/manifests/digits.ini" --quiet --until-transforms --out "$T/runs"
grep -q '"classes": \[' "$T/runs/transforms-digits/schemas.json" && ok || fail "digits: classes"

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
expect "check ok.ini" 0 "" -- check ok.ini
has "check ok.ini" "[transform.enc] onehot" "c=*"

LABEL=lable TX=$ENC manifest nolabel.ini good.csv ""
expect "check nolabel.ini" 2 "" -- check nolabel.ini
has "check nolabel.ini" "label = 'lable'" "did you mean 'label'"

manifest cat.ini good.csv ""
expect "check cat.ini" 2 "" -- check cat.ini
has "check cat.ini" "column 'c'" "categorical" "onehot"

TX=$ENC$'\n[transform.scale]\nplugin = standardize\ncolumns = x1, c' \
  manifest stdcat.ini good.csv ""
expect "check stdcat.ini" 2 "" -- check stdcat.ini
has "check stdcat.ini" "[transform.scale] standardize" "'c'"

TX=$ENC manifest text.ini good.csv "text_columns = x2"
expect "check text.ini" 2 "" -- check text.ini
has "check text.ini" "column 'x2'" "text"

sed 's/^4,2,/4,nan,/' good.csv > nan.csv
TX=$ENC manifest nan.ini nan.csv ""
expect "check nan.ini" 2 "" -- check nan.ini
has "check nan.ini" "column 'x2'" "NaN or Inf"

sed 's/^4,2,/4,,/' good.csv > gap.csv
TX=$ENC manifest gap.ini gap.csv ""
expect "check gap.ini" 2 "" -- check gap.ini
has "check gap.ini" "column 'x2'" "may be missing" "impute"

sed '7s/,p,/,p,extra,/' good.csv > ragged.csv
TX=$ENC manifest ragged.ini ragged.csv ""
expect "check ragged.ini" 2 "" -- check ragged.ini
has "check ragged.ini" "ragged.csv:7" "data row 6" "ragged"

printf 'x1,x2,c,label\n1,2,"p,no\n' > quote.csv
TX=$ENC manifest quote.ini quote.csv ""
expect "check quote.ini" 2 "" -- check quote.ini
has "check quote.ini" "quote.csv:2" "unterminated"

sed 's/^8,4,/8,four,/' good.csv > word.csv
TX=$ENC manifest word.ini word.csv "numeric_columns = x2"
expect "check word.ini" 2 "" -- check word.ini
has "check word.ini" "word.csv:10" "data row 9" "'x2'" "four"

: > empty.csv
TX=$ENC manifest empty.ini empty.csv ""
expect "check empty.ini" 2 "" -- check empty.ini
has "check empty.ini" "empty.csv" "empty"
echo "x1,x2,c,label" > header.csv
TX=$ENC manifest header.ini header.csv ""
expect "check header.ini" 2 "" -- check header.ini
has "check header.ini" "header.csv" "no data rows"
sed '1s/x2/x1/' good.csv > dup.csv
TX=$ENC manifest dup.ini dup.csv ""
expect "check dup.ini" 2 "" -- check dup.ini
has "check dup.ini" "dup.csv:1" "duplicate column name 'x1'"

# only the data reveals these: keel check passes, keel run exits 1
sed '13s/,yes$/,/' good.csv > nolab.csv
TX=$ENC manifest nolab.ini nolab.csv ""
expect "check nolab.ini" 0 "" -- check nolab.ini
expect "run nolab.ini" 1 "" -- run nolab.ini --quiet --until-transforms --out "$T/bad"
has "run nolab.ini" "label 'label' is missing in source data row 12" "missing_label = drop"
[ ! -e "$T/bad/transforms-nolab" ] && ok || fail "failed run left a prepared folder"
MISSING_LABEL=drop TX=$ENC manifest droplab.ini nolab.csv ""
expect "run droplab.ini" 0 "" -- run droplab.ini --quiet --until-transforms --out "$T/runs"
grep -q '"dropped_rows": \[' "$T/runs/transforms-droplab/split.json" && ok || fail "dropped rows not recorded"

awk -F, 'BEGIN { OFS = "," } NR > 1 { $2 = 7 } { print }' good.csv > const.csv
TX=$ENC$'\n[transform.scale]\nplugin = standardize' manifest const.ini const.csv ""
expect "run const.ini" 1 "" -- run const.ini --quiet --until-transforms --out "$T/bad"
has "run const.ini" "[transform.scale] standardize" "'x2'" "variance"

# a category only outside the training split: find a validation row first
"$KEEL" run ok.ini --quiet --until-transforms --out "$T/runs" >/dev/null
# rows_valid.npy: int64 source rows after a 128-byte header
row=$(od -An -t d8 -j 128 -N 8 "$T/runs/transforms-ok/rows_valid.npy" | tr -d ' ')
awk -F, -v r="$row" 'BEGIN { OFS = "," } NR == r + 2 { $3 = "zzz" } { print }' good.csv > unseen.csv
TX=$ENC manifest unseen.ini unseen.csv ""
expect "run unseen.ini" 1 "" -- run unseen.ini --quiet --until-transforms --out "$T/bad"
has "run unseen.ini" "[transform.enc] onehot" "'c'" "zzz"

finish
