#!/usr/bin/env bash
# --where and --sort strings that attempt SQL injection are data, never
# SQL (issue 15, "Bad input"): each is refused as malformed (exit 2) or
# matches nothing, and the registry file is byte for byte the same after
# all of them, with the same row counts.
. "$(dirname "$0")/lib.sh"
need sqlite3 sha256sum
shipped_manifests iris
REG=$T/reg.db
seal "$T/m/iris.ini" train.epochs=2 --out "$T/runs" --registry "$REG" || bail "run failed"
seal "$T/m/iris.ini" train.epochs=3 --out "$T/runs" --registry "$REG" || bail "run failed"
# the WAL folded into the file first, so its bytes are the whole database
sqlite3 "$REG" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
counts() {
  sqlite3 "$REG" "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM params), (SELECT count(*) FROM latest_metrics), (SELECT count(*) FROM metrics), (SELECT count(*) FROM data), (SELECT count(*) FROM plugins), (SELECT count(*) FROM sqlite_master)"
}
sum_before=$(sha256sum "$REG" | cut -c1-64)
counts_before=$(counts)

malformed=(
  "x = 1; DROP TABLE runs"
  "status = ok; DROP TABLE runs"
  "status = ok; DROP TABLE runs; --"
  "status = 'ok'; DELETE FROM runs"
  "status = ok -- and 1 = 1"
  "status = ok /* comment */"
  "status = ok UNION SELECT * FROM sqlite_master"
  "1 = 1"
  "status = ok or 1=1"
  "run_id = ''; DROP TABLE runs; --'"
  "optimizer.lr < 0.1) OR (1 = 1"
  "status = \"ok\" ; ATTACH DATABASE '/tmp/x' AS x"
)
for w in "${malformed[@]}"; do
  expect "malformed: $w" 2 "runs: list --where: column [0-9]+: expected" -- runs list --registry "$REG" --where "$w"
done
# Well-formed: quotes and SQL inside a literal are a value no run has.
as_data=(
  "status = 'ok''; DROP TABLE runs; --'"
  "name = 'x'' OR ''1''=''1'"
  "template = '1 UNION SELECT run_id FROM runs'"
  "optimizer.lr = 'x'') OR 1=1 --'"
  "run_id like '%'' OR 1=1 --'"
  "user = \"root\"\" OR \"\"1\"\"=\"\"1\""
  "valid.accuracy >= 0 and name = '/* */ DROP TABLE params'"
  "\`optimizer.lr\` = 1"
)
for w in "${as_data[@]}"; do
  RC=0
  "$KEEL" runs list --registry "$REG" --format csv --where "$w" >"$T/out" 2>&1 || RC=$?
  if ((RC == 0)); then
    (($(wc -l <"$T/out") == 1)) && ok || { fail "as data: '$w' matched runs"; show_output; }
  else
    ((RC == 2)) && grep -q "column" "$T/out" && ok || { fail "as data: '$w': exit $RC"; show_output; }
  fi
done
for s in "started_at; DROP TABLE runs" "started_at desc, (SELECT 1)" "run_id) --" "1"; do
  expect "sort: $s" 2 "runs: list --sort: " -- runs list --registry "$REG" --sort "$s"
done
# Control: a real query still matches, so the cases above could fail.
expect "control" 0 "" -- runs list --registry "$REG" --format csv --where "status = 'ok' and train.epochs >= 2"
(($(wc -l <"$T/out") == 3)) && ok || { fail "control query did not match both runs"; show_output; }

sqlite3 "$REG" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
[[ $(sha256sum "$REG" | cut -c1-64) == "$sum_before" ]] && ok || fail "the registry file changed"
[[ $(counts) == "$counts_before" ]] && ok || fail "row counts changed: $(counts), were $counts_before"
finish
