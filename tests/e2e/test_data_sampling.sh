#!/usr/bin/env bash
# Issue 14, "Sampling": [data] sample_rows / sample_fraction (optionally
# sample_by a column) keep a declared, seeded part of the labelled rows
# BEFORE the split; [data] rebalance = under | over re-balances the classes
# of the TRAINING split only, AFTER it. Counts are checked against a hand
# computation from the CSV, validation and test stay untouched, the result
# does not depend on the thread count, what was asked is refused with exit
# 2 where it can be known before reading and exit 1 after, everything is
# recorded in lineage.json, and a sampled, re-balanced run replays
# REPRODUCED.
. "$(dirname "$0")/lib.sh"
shipped_manifests penguins diabetes
cd "$T/m"
O=$T/runs

# lineage.json of bundle $1 into $T/lin.json (and config.json into $T/cfg.json)
lineage() {
  rm -rf "$T/x" && mkdir -p "$T/x" && tar -xzf "$1" -C "$T/x"
  cp "$T"/x/*/lineage.json "$T/lin.json"
  cp "$T"/x/*/config.json "$T/cfg.json"
}
digest() { json_value "$T/x/$(ls "$T/x")/run.json" 'd["result_digest"]'; }
fast=(train.epochs=3)

# --- no sampling: nothing recorded, no new parameter in config.json --------
seal penguins.ini "${fast[@]}" --out "$O" || bail "plain run"
lineage "$B"
check "plain: no sampling record" \
  test "$(json_value "$T/lin.json" '"sampling" in d["split"]')" = false
check "plain: neutral parameters left out of config.json" \
  test "$(json_value "$T/cfg.json" '[p["name"] for s in d["stages"] for p in s["params"] if p["name"].startswith(("sample","rebalance"))]')" = "[]"
PLAIN_VALID=$(json_value "$T/lin.json" 'd["split"]["sha256"]["valid"]')

# --- downsample to N rows ----------------------------------------------------
seal penguins.ini "${fast[@]}" data.sample_rows=100 --out "$O" || bail "rows"
lineage "$B"
check "rows: 100 kept" test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["rows_after"]')" = 100
check "rows: 344 before" test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["rows_before"]')" = 344
check "rows: the split parts add up to 100" \
  test "$(json_value "$T/lin.json" 'sum(d["split"]["counts"].values())')" = 100
check "rows: sha256 of the kept rows recorded" \
  test "$(json_value "$T/lin.json" 'len(d["split"]["sampling"]["sample"]["sha256"])')" = 64

# --- a fraction ---------------------------------------------------------------
seal penguins.ini "${fast[@]}" data.sample_fraction=0.25 --out "$O" || bail "fraction"
lineage "$B"
check "fraction: round(344 * 0.25) = 86 kept" \
  test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["rows_after"]')" = 86
check "fraction: recorded as asked" \
  test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["fraction_asked"]')" = 0.25

# --- stratified by the label: each class keeps its share -----------------------
seal penguins.ini "${fast[@]}" data.sample_rows=100 data.sample_by=species \
  data.sample_seed=7 --out "$O" || bail "stratified"
lineage "$B"
# by hand: floor(n_c * 100 / 344), the rest to the largest remainders
want=$("$PY" - "$KEEL_SRC/manifests/data/penguins.csv" <<'PY'
import csv, sys, json
rows = list(csv.DictReader(open(sys.argv[1])))
n = {}
for r in rows:
    n[r["species"]] = n.get(r["species"], 0) + 1
tot, k = sum(n.values()), 100
take = {c: m * k // tot for c, m in n.items()}
for c in sorted(n, key=lambda c: -(n[c] * k % tot))[:k - sum(take.values())]:
    take[c] += 1
print(json.dumps({c: [n[c], take[c]] for c in sorted(n)}, separators=(",", ":")))
PY
)
got=$(json_value "$T/lin.json" '{s["value"]: [s["rows_before"], s["rows_after"]] for s in d["split"]["sampling"]["sample"]["strata"]}')
check "stratified: per-class counts $got equal the hand computation $want" \
  test "$got" = "$want"
check "stratified: the seed is recorded" \
  test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["seed"]')" = 7

# --- more rows than exist -----------------------------------------------------
expect "check: sample_rows above the catalogued rows" 2 \
  'sample_rows = 1000.*penguins@1.0.0 has 344 rows' -- check penguins.ini data.sample_rows=1000
expect "run: refused before a bundle" 2 'sample_rows = 1000' -- \
  run penguins.ini data.sample_rows=1000 --quiet --out "$T/none"
check "run: no bundle" test ! -e "$T/none"
# uncatalogued, only the data tells: exit 1 naming both counts
uncatalogued penguins.ini plain.ini
expect "uncatalogued: exit 1 naming the counts" 1 \
  'sample_rows = 400, but the source has only 344 labelled rows' -- \
  run plain.ini data.sample_rows=400 --quiet --out "$T/o1"

# --- refusals known before reading --------------------------------------------
expect "rows and fraction together" 2 'sample_rows = 10.*sample_fraction = 0.5.*one or the other' -- \
  check penguins.ini data.sample_rows=10 data.sample_fraction=0.5
expect "sample_by an unknown column" 2 "sample_by = 'nope'.*expected a column" -- \
  check penguins.ini data.sample_by=nope
expect "rebalance on regression" 2 'rebalance = over.*not classification' -- \
  check diabetes.ini data.rebalance=over
expect "rebalance of an unknown kind" 2 'rebalance' -- \
  check penguins.ini data.rebalance=sideways

# --- re-balancing the training split --------------------------------------------
for how in under over; do
  seal penguins.ini "${fast[@]}" data.rebalance=$how --out "$O" || bail "$how"
  lineage "$B"
  before=$(json_value "$T/lin.json" 'd["split"]["sampling"]["rebalance"]["classes_before"]')
  after=$(json_value "$T/lin.json" 'd["split"]["sampling"]["rebalance"]["classes_after"]')
  f=$([[ $how == under ]] && echo min || echo max)
  check "$how: every class at the $f of $before: $after" \
    test "$("$PY" -c "import json,sys; b=json.loads(sys.argv[1]); a=json.loads(sys.argv[2]); print(set(a)==set(b) and set(a.values())=={$f(b.values())})" "$before" "$after")" = True
  check "$how: the train count is the sum" \
    test "$(json_value "$T/lin.json" 'd["split"]["counts"]["train"] == sum(d["split"]["sampling"]["rebalance"]["classes_after"].values())')" = true
  check "$how: validation untouched" \
    test "$(json_value "$T/lin.json" 'd["split"]["sha256"]["valid"]')" = "$PLAIN_VALID"
  check "$how: before = the plain run's train split" \
    test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["rebalance"]["train_rows_before"]')" = \
    "$(json_value "$T/lin.json" 'sum(d["split"]["sampling"]["rebalance"]["classes_before"].values())')"
done

# --- sampled and re-balanced: thread count, check --data, replay ---------------------
args=(penguins.ini "${fast[@]}" data.sample_fraction=0.6 data.sample_by=island
  data.rebalance=over data.sample_seed=3)
seal "${args[@]}" --threads 1 --out "$O" || bail "1 thread"
lineage "$B"
D1=$(digest)
ONE=$B
seal "${args[@]}" --threads 2 --out "$O" || bail "2 threads"
lineage "$B"
check "1 and 2 threads: one result digest" test "$D1" = "$(digest)"
check "sampled by island, recorded" \
  test "$(json_value "$T/lin.json" 'd["split"]["sampling"]["sample"]["by"]')" = island
expect "check --data reports the sample" 0 'sampled.*re-balanced over' -- \
  check "${args[@]}" --data
expect "replay: REPRODUCED" 0 '^REPRODUCED' -- replay "$ONE" --out "$T/replays"

finish
