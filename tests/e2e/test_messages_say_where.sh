#!/usr/bin/env bash
# Issue 11, finding 8: "Messages that do not say where." Each refusal names
# the file (and column, or the count) it is about, in the user's terms:
#   (a) a NaN/Inf literal in a numeric column: the data file, the source
#       plugin and the manifest, beside the column;
#   (b) a label missing in every row: "missing in all N rows";
#   (c) a truncated gzip data file: its name, not zlib's "<fd:N>";
#   (d) an empty bundle file: "empty file (0 bytes)", not libarchive's
#       "Unrecognized archive format".
. "$(dirname "$0")/lib.sh"
need gzip head
cd "$T"

awk 'BEGIN { print "x1,x2,label";
  for (i = 0; i < 60; i++) printf "%d,%g,%s\n", i, i * 0.5, (i % 2 ? "yes" : "no") }' > good.csv
manifest() { # FILE CSV
  cat > "$1" <<INI
[keel]
template = tabular-classification
template_version = >=1.0 <2

[data]
label = label
missing_label = ${MISSING_LABEL:-error}

[source]
plugin = csv
path = $2

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd
INI
}

# (a) NaN literal: file, plugin and manifest named with the column
sed 's/^4,2,/4,nan,/' good.csv > nan.csv
manifest nan.ini nan.csv
expect "check nan.ini" 2 "" -- check nan.ini
has "check nan.ini" "column 'x2'" "NaN or Inf" "nan.csv" "[source] csv" "manifest nan.ini"

# (b) a label missing in every row
awk 'NR == 1 { print; next } { sub(/,(yes|no)$/, ",NA"); print }' good.csv > nolab.csv
manifest nolab.ini nolab.csv
expect "run nolab.ini" 1 "" -- run nolab.ini --quiet --until-transforms --out "$T/runs"
has "run nolab.ini" "label 'label' is missing in all 60 source data rows"
MISSING_LABEL=drop manifest droplab.ini nolab.csv
expect "run droplab.ini" 1 "" -- run droplab.ini --quiet --until-transforms --out "$T/runs"
has "run droplab.ini" "label 'label' is missing in all 60 source data rows"

# (c) a truncated gzip data file: its name, not the descriptor zlib saw
for i in $(seq 1 40); do cat good.csv; done | gzip -9 > whole.csv.gz
head -c $(( $(stat -c %s whole.csv.gz) / 2 )) whole.csv.gz > cut.csv.gz
manifest cut.ini cut.csv.gz
RC=0
"$KEEL" run cut.ini --quiet --until-transforms --out "$T/runs" > out 2>&1 || RC=$?
[ "$RC" != 0 ] && ok || fail "a truncated gzip file was read whole"
has "run cut.ini" "cut.csv.gz" "unexpected end of file"
grep -q '<fd:' out && fail "the message names zlib's descriptor: $(cat out)" || ok

# (d) an empty bundle
: > empty.tar.gz
expect "verify empty.tar.gz" 3 "empty file \(0 bytes\): not a keel bundle" -- verify empty.tar.gz
grep -qi "unrecognized archive format" out && fail "libarchive's message leaks: $(cat out)" || ok

finish
