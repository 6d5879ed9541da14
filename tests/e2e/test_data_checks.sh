#!/usr/bin/env bash
# Issue 14, "Data checks": the template's [checks] and [checks.column.NAME]
# bounds pass and fail with messages naming the check, column, observed
# value and bound; a drift check against the decile profile `keel data
# add` recorded for a reference version fires on a copy with one column
# shifted by +0.5 standard deviations and stays quiet at +0.05, and the
# PSI and KS keel reports equal a hand computation here; a column the
# data lacks is refused before any data is read; `keel check --data`
# lists every check; a checked run records them and replays REPRODUCED.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/w/cat"
cd "$T/w"

# --- data: a reference and two shifted copies of column x1 -------------------
"$PY" - <<'PY'
import csv, random, statistics
rng = random.Random(7)
rows = []
for i in range(400):
    x1, x2 = rng.gauss(10, 2), rng.gauss(0, 1)
    rows.append([round(x1, 4), round(x2, 4), "a" if x1 + rng.gauss(0, 1) < 10 else "b"])
sd = statistics.stdev(r[0] for r in rows)
for name, k in (("ref", 0), ("half", 0.5), ("tiny", 0.05)):
    with open(f"cat/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "label"])
        for r in rows:
            w.writerow([repr(r[0] + k * sd), r[1], r[2]])
PY
common=(--catalog cat/catalog.ini --owner "data team" --scope internal --license CC0-1.0 --label label)
for v in ref half tiny; do
  expect "data add $v records statistics" 0 "^ADDED" -- data add "cat/$v.csv" --name drifty "${common[@]}"
done
STATS=cat/catalog.ini.stats/drifty@1.0.0.json

# --- the hand computation (docs/data-access.md, "Data checks") ---------------
# edges: sorted reference values at ranks floor(k n / 10); bins [e_j, e_j+1);
# PSI = sum (a - b) ln(a / b) over shares floored at 1e-4; KS = the largest
# gap between the shares below each edge.
hand() {
  "$PY" - "$1" "$2" <<'PY'
import csv, math, sys
col = lambda p: [float(r["x1"]) for r in csv.DictReader(open(p))]
ref, run = col(sys.argv[1]), col(sys.argv[2])
s = sorted(ref)
edges = [s[k * len(s) // 10] for k in range(1, 10)]
def shares(v):
    c = [0] * 10
    for x in v:
        c[sum(e <= x for e in edges)] += 1
    return [n / len(v) for n in c]
p, q = shares(run), shares(ref)
psi = sum((max(a, 1e-4) - max(b, 1e-4)) * math.log(max(a, 1e-4) / max(b, 1e-4)) for a, b in zip(p, q))
ks = max(abs(sum(p[:k]) - sum(q[:k])) for k in range(1, 10))
print("%.6f %.6f" % (psi, ks))
PY
}
want_edges=$("$PY" -c '
import csv
s = sorted(float(r["x1"]) for r in csv.DictReader(open("cat/ref.csv")))
print([s[k * len(s) // 10] for k in range(1, 10)])')
check "data add: x1's decile edges are the reference's sorted values at ranks floor(k n / 10)" \
  test "$(json_value "$STATS" 'str([c["drift"]["edges"] for c in d["columns"] if c["name"] == "x1"][0])')" = "$want_edges"
check "data add: the categorical label has no drift profile" \
  test "$(json_value "$STATS" '[("drift" in c) for c in d["columns"] if c["name"] == "label"][0]')" = false

# --- template and manifests ---------------------------------------------------
cp "$KEEL_SRC/manifests/templates/tabular-classification.ini" t.ini
sed -i -e 's/^name = tabular-classification/name = checked-classification/' \
  -e 's/^min_class_count = 2/min_class_count = 2\nmax_rows = 1000\nmax_class_imbalance = 3\ndrift_reference = drifty@1.0.0/' t.ini
cat >>t.ini <<'INI'

[checks.column.x1]
min = -100
max = 100
mean_min = 5
mean_max = 15
std_min = 0.5
std_max = 5
max_missing_fraction = 0
psi_max = 0.1
ks_max = 0.1

[checks.column.label]
categories = a, b
INI
manifest() { # manifest FILE VERSION [TEMPLATE]
  cat >"$1" <<INI
[keel]
template = ${3:-t.ini}
template_version = >=1 <2
catalog = cat/catalog.ini

[data]
label = label
valid_fraction = 0.2
split_seed = 3

[source]
dataset = drifty@$2

[transform.scale]
plugin = standardize

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd

[train]
epochs = 2
batch_size = 16
seed = 1
INI
}
manifest m_ref.ini 1.0.0
manifest m_half.ini 1.1.0
manifest m_tiny.ini 1.2.0

# --- drift: +0.5 sd fires, +0.05 sd stays quiet, values equal the hand ones --
observed() { # the observed value of CHECK in the last check --data output
  awk -v c="$1" '$1 == c && $2 == "x1" { print $4 }' "$T/out"
}
expect "check --data: the +0.05 sd copy passes" 0 "passes every data check" -- check --data m_tiny.ini
read -r psi ks <<<"$(hand cat/ref.csv cat/tiny.csv)"
check "+0.05 sd: PSI $(observed psi_max) is the hand computation $psi" test "$(observed psi_max)" = "$psi"
check "+0.05 sd: KS $(observed ks_max) is the hand computation $ks" test "$(observed ks_max)" = "$ks"
check "+0.05 sd: the drift is not zero (the test can fail)" test "$psi" != 0.000000
has "check --data lists the drift reference" "template data checks (drift reference drifty@1.0.0)"

expect "check --data: the +0.5 sd copy fails on PSI" 1 \
  "check psi_max of column 'x1': observed [0-9.]+, above the bound 0\.1 \(.*t\.ini:[0-9]+\)" -- check --data m_half.ini
read -r psi ks <<<"$(hand cat/ref.csv cat/half.csv)"
check "+0.5 sd: PSI $(observed psi_max) is the hand computation $psi" test "$(observed psi_max)" = "$psi"
check "+0.5 sd: KS $(observed ks_max) is the hand computation $ks" test "$(observed ks_max)" = "$ks"
has "+0.5 sd: both drift checks listed as failed" "psi_max               x1                   FAILED" \
  "ks_max                x1                   FAILED" "2 checks failed in all"
expect "run: the +0.5 sd copy fails like a failed min_rows run (exit 1)" 1 "check psi_max of column 'x1'" -- \
  run m_half.ini --quiet --out "$T/runs_half"
# the failed run's bundle records what the checks found
FB=$(ls "$T"/runs_half/*.tar.gz 2>/dev/null | head -1)
if [[ -n $FB ]]; then
  mkdir -p "$T/xh" && tar -xzf "$FB" -C "$T/xh"
  DCH=$(ls -d "$T"/xh/*/)data_checks.json
  check "failed run: data_checks.json names the failed drift checks with the hand-computed PSI" \
    test "$(json_value "$DCH" '" ".join("%s=%.6f" % (c["check"], c["observed"]) for c in d["checks"] if not c["passed"])')" = "psi_max=$psi ks_max=$ks"
else
  fail "failed run: no bundle in $T/runs_half"
fi

# --- the reference itself: every check passes and lands in the bundle -------
seal m_ref.ini --out "$T/runs" || bail "checked run"
mkdir -p "$T/x" && tar -xzf "$B" -C "$T/x"
DC=$(ls -d "$T"/x/*/)data_checks.json
check "bundle: data_checks.json lists 15 checks, all passed" \
  test "$(json_value "$DC" '[len(d["checks"]), all(c["passed"] for c in d["checks"])]')" = "[15,true]"
check "bundle: psi of the reference against itself is 0" \
  test "$(json_value "$DC" '[c["observed"] for c in d["checks"] if c["check"] == "psi_max"][0]')" = 0.0
check "bundle: the reference and its statistics' hash are named" \
  test "$(json_value "$DC" 'd["reference"]["id"] + " " + d["reference"]["stats_sha256"]')" = \
  "drifty@1.0.0 $(sha256sum "$STATS" | cut -c1-64)"
check "bundle: dataset.ini names the entry's statistics by absolute path, for replay" \
  grep -qx "stats = $(realpath "$STATS")" "$(ls -d "$T"/x/*/)dataset.ini"
check "bundle: dataset.ini carries the statistics' SHA-256" \
  grep -qx "stats_sha256 = $(sha256sum "$STATS" | cut -c1-64)" "$(ls -d "$T"/x/*/)dataset.ini"
check "data add: the catalog anchors the statistics by their SHA-256" \
  grep -qx "stats_sha256 = $(sha256sum "$STATS" | cut -c1-64)" cat/catalog.ini
# statistics edited after cataloguing: every drift figure would move, so
# nothing runs on them (exit 2 before any data is read, as for a template
# whose pinned hash does not match)
cp "$STATS" "$T/stats.orig"
sed -i '0,/"mean": /s/"mean": /"mean": 1e-9 + /' "$STATS"
cmp -s "$STATS" "$T/stats.orig" && bail "the statistics were not changed"
expect "check: edited statistics are refused" 2 \
  "drift reference drifty@1\.0\.0: its statistics .*drifty@1\.0\.0\.json have SHA-256 [0-9a-f]{64}; the catalog \(.*catalog\.ini:[0-9]+\) expects $(sha256sum "$T/stats.orig" | cut -c1-64) \(stats_sha256\)" -- \
  check m_ref.ini
expect "run: edited statistics are refused before a bundle" 2 "stats_sha256" -- run m_ref.ini --quiet --out "$T/runs_edited"
[[ -z $(ls -A "$T/runs_edited" 2>/dev/null) ]] && ok || fail "a run on edited statistics wrote $(ls "$T/runs_edited")"
cp "$T/stats.orig" "$STATS"
krun check --data --json m_ref.ini
check "check --data --json: the template's checks as the bundle records them" \
  test "$(json_value "$T/out" '[c["detail"]["checks"][-1]["check"] for c in d["data_checks"] if c["name"] == "template_checks"]')" = '["categories"]'
expect "show lists the checks" 0 "psi_max +x1 +ok +0\.000000 <= 0\.1" -- show "$B"
expect "replay of a checked run" 0 "REPRODUCED" -- replay "$B"

# --- each other check failing, with its message --------------------------------
fails() { # fails LABEL SED-EXPRESSION REGEX
  sed -e "$2" t.ini >t2.ini
  manifest m2.ini 1.0.0 t2.ini
  expect "$1" 1 "$3" -- check --data m2.ini
}
fails "min_rows" 's/^min_rows = 50/min_rows = 500/' "400 usable rows, but the template requires at least 500 \(min_rows\)"
fails "max_rows" 's/^max_rows = 1000/max_rows = 100/' "check max_rows: observed 400, above the bound 100"
fails "max_class_imbalance" 's/^max_class_imbalance = 3/max_class_imbalance = 1/' \
  "check max_class_imbalance of column 'label': observed [0-9.]+ \('[ab]' [0-9]+ / '[ab]' [0-9]+\), above the bound 1"
fails "min" 's/^min = -100/min = 9/' "check min of column 'x1': observed [0-9.]+ \(source data row [0-9]+\), below the bound 9 \(.*t2\.ini:[0-9]+\)"
fails "max" 's/^max = 100/max = 11/' "check max of column 'x1': observed [0-9.]+ \(source data row [0-9]+\), above the bound 11"
fails "mean_min" 's/^mean_min = 5/mean_min = 12/' "check mean_min of column 'x1': observed [0-9.]+, below the bound 12"
fails "mean_max" 's/^mean_max = 15/mean_max = 9/' "check mean_max of column 'x1': observed [0-9.]+, above the bound 9"
fails "std_min" 's/^std_min = 0.5/std_min = 4/' "check std_min of column 'x1': observed [0-9.]+, below the bound 4"
fails "std_max" 's/^std_max = 5/std_max = 1/' "check std_max of column 'x1': observed [0-9.]+, above the bound 1"
fails "categories" 's/^categories = a, b/categories = a/' \
  "check categories of column 'label': observed 'b' \(source data row [0-9]+; [0-9]+ values in all\), outside the bound a"
cp t.ini t2.ini
"$PY" - <<'PY'
import csv
rows = list(csv.reader(open("cat/ref.csv")))
rows[5][0] = ""  # one gap in x1 (source data row 5)
csv.writer(open("cat/gap.csv", "w", newline="")).writerows(rows)
PY
expect "data add of a copy with one gap" 0 "^ADDED drifty@1\.3\.0" -- data add cat/gap.csv --name drifty "${common[@]}"
manifest m2.ini 1.3.0 t2.ini
sed -i 's/^\[transform.scale\]/[transform.fill]\nplugin = impute\n\n[transform.scale]/' m2.ini
expect "max_missing_fraction of a column" 1 \
  "check max_missing_fraction of column 'x1': observed 0\.0025, above the bound 0" -- check --data m2.ini

# --- refusals before any data is read (exit 2) ----------------------------------
sed -e 's/^\[checks.column.x1\]/[checks.column.x9]/' t.ini >t2.ini
manifest m2.ini 1.0.0 t2.ini
expect "a drift check on a column the data lacks is refused" 2 \
  "t2\.ini:[0-9]+: \[checks\.column\.x9\]: the source has no column 'x9'; its columns are x1, x2, label" -- check m2.ini
expect "run refuses it before writing a bundle" 2 "no column 'x9'" -- run m2.ini --quiet --out "$T/none"
check "no bundle for the refused run" test ! -e "$T/none"
sed -e 's/^categories = a, b/categories = a, b\nmin = 0/' t.ini >t2.ini
expect "a value range on a categorical column is refused" 2 \
  "column 'label' is categorical; value ranges, mean, std and drift bounds apply to a numeric column" -- check m2.ini
sed -e 's/^drift_reference = .*/drift_reference = drifty@9.0.0/' t.ini >t2.ini
expect "a drift reference the catalog lacks is refused" 2 "drift_reference = drifty@9\.0\.0" -- check m2.ini
sed -e 's/^ks_max = 0.1/ks_max = 2/' t.ini >t2.ini
expect "ks_max above 1 is refused" 2 "t2\.ini:[0-9]+: \[checks\.column\.x1\] ks_max: '2'; expected a number in 0 \.\. 1" -- check m2.ini

# --- [checks] after = STAGE: the column checks again on that stage's output --
sed -e 's/^drift_reference = .*/&\nafter = scale/' t.ini >t2.ini
manifest m2.ini 1.0.0 t2.ini
expect "after a stage: raw bounds on standardized x1 fail, naming the stage" 1 \
  "check mean_min of column 'x1' after \[transform\.scale\]: observed [-0-9.e]+, below the bound 5" -- \
  run m2.ini --quiet --out "$T/runs_after"
sed -e 's/^drift_reference = .*/&\nafter = transform.scale/' -e '/^\[checks.column.x1\]/,/^ks_max/d' t.ini >t3.ini
printf '\n[checks.column.x2]\nmin = -100\nmax = 100\nstd_max = 5\n' >>t3.ini
manifest m3.ini 1.0.0 t3.ini
seal m3.ini --out "$T/runs_after" || bail "a run with checks after a stage"
rm -rf "$T/x3" && mkdir -p "$T/x3" && tar -xzf "$B" -C "$T/x3"
DC3=$(ls -d "$T"/x3/*/)data_checks.json
check "after a stage: x2's checks recorded on the data as read and after [transform.scale]" \
  test "$(json_value "$DC3" '[c["stage"] for c in d["checks"] if c["column"] == "x2"]')" = \
  '[null,null,null,"transform.scale","transform.scale","transform.scale"]'
train_rows=$(json_value "$(ls -d "$T"/x3/*/)lineage.json" 'd["split"]["counts"]["train"]')
check "after a stage: the std of standardized x2 over the $train_rows training rows is about 1" \
  test "$(json_value "$DC3" '[round(c["observed"], 2) for c in d["checks"] if c["stage"] and c["check"] == "std_max"][0]')" = 1.0
expect "show names the stage" 0 "std_max +x2 after transform\.scale +ok" -- show "$B"
sed -e 's/^drift_reference = .*/&\nafter = nosuch/' t.ini >t2.ini
expect "after a stage the manifest lacks is refused" 2 \
  "t2\.ini:[0-9]+: \[checks\] after: the manifest has no stage \[transform\.nosuch\]; its transforms are \[transform\.scale\]" -- \
  check m2.ini

# --- a derived template may tighten a column's bounds, never loosen them ------
cat >d.ini <<'INI'
[template]
name = derived-checks
version = 1.0.0
extends = checked-classification >=1 <2

[checks.column.x1]
psi_max = 0.5
INI
cp t.ini checked-classification.ini
manifest m3.ini 1.0.0 d.ini
expect "a derived template cannot loosen psi_max" 2 \
  "d\.ini:[0-9]+: \[checks\.column\.x1\] psi_max: '0\.5' loosens base template checked-classification" -- check m3.ini
finish
