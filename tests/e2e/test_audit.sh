#!/usr/bin/env bash
# The central audit log (issue 14, docs/data-access.md "Audit trail"): a
# run appends hash-chained lines (run-start, the access, the hash check,
# the read, run-end) to the log the audit_log setting names; its bundle
# carries them and the chain head in audit_chain.json. `keel audit verify`
# passes on the log as written and names each tampering, exit 3: a line
# removed, altered, inserted, reordered, a torn last line; a tail cut or
# rewritten is found against a bundle sealed after it. `keel audit show`
# filters by dataset, user and time. A log that cannot be written, or
# whose last line is torn, refuses the run before any data is read.
. "$(dirname "$0")/lib.sh"
need tar sha256sum
cd "$T"
S=$KEEL_SRC/manifests
LOG=$XDG_DATA_HOME/keel/audit.jsonl

member() { tar xzf "$1" -O --wildcards "*/$2"; }
# sha LINE_NUMBER FILE: the SHA-256 of that line's bytes, without its end.
sha() { sed -n "$1p" "$2" | tr -d '\n' | sha256sum | cut -c1-64; }

# ---- runs append to the default log --------------------------------------------
seal "$S/iris.ini" --out runs && b1=$B
[[ -s $LOG ]] && ok || bail "no audit log at $LOG after a run"
for a in run-start read hash-verified read-data run-end; do
  grep -q "\"action\":\"$a\"" "$LOG" && ok || fail "the log has no $a line"
done
grep -q '"dataset":"iris@1.0.0"' "$LOG" && ok || fail "no line names iris@1.0.0"
sum=$(sha256sum "$S/data/iris.csv" | cut -c1-64)
grep '"action":"read-data"' "$LOG" | grep -q "\"sha256\":\"$sum\"" && ok ||
  fail "read-data does not carry the data's SHA-256"
[[ $(head -n1 "$LOG" | json_value - 'd["prev"]') == $(printf '0%.0s' {1..64}) ]] && ok ||
  fail "the first line's prev is not 64 zeros"
[[ $(head -n1 "$LOG" | json_value - 'd["user"]["uid"]') == "$(id -u)" ]] && ok ||
  fail "the user is not the real uid"
member "$b1" audit_chain.json >chain1.json
n=$(wc -l <"$LOG")
[[ $(json_value chain1.json 'd["seq"]') == "$n" ]] && ok || fail "audit_chain.json seq is not the last line ($n)"
[[ $(json_value chain1.json 'd["head"]') == "$(sha "$n" "$LOG")" ]] && ok ||
  fail "audit_chain.json head is not the last line's SHA-256"
[[ $(json_value chain1.json 'len(d["lines"])') == "$n" ]] && ok || fail "the bundle does not carry the run's $n lines"
run_id=$(member "$b1" run.json | json_value - 'd["run_id"]')
[[ $(grep -c "\"run_id\":\"$run_id\"" "$LOG") == "$n" ]] && ok || fail "lines do not name run $run_id"
# The chain, recomputed here: each prev is the SHA-256 of the line before.
for ((i = 2; i <= n; i++)); do
  [[ $(sed -n "${i}p" "$LOG" | json_value - 'd["prev"]') == "$(sha $((i - 1)) "$LOG")" ]] ||
    fail "line $i's prev is not the hash of line $((i - 1))"
done
ok
expect "keel verify: the bundle with audit_chain.json" 0 "" -- verify "$b1"

seal "$S/penguins.ini" --out runs && b2=$B
expect "verify: the log as written" 0 "chain intact" -- audit verify
expect "verify: the log and both bundles" 0 "anchored at seq $n: found" -- \
  audit verify "$LOG" --bundle "$b1" --bundle "$b2"
N=$(wc -l <"$LOG")

# ---- tampering ------------------------------------------------------------------
# tamper NAME PYTHON: a copy of the log as $T/NAME.jsonl after PYTHON edits
# `lines` (a list of the lines' bytes, ends kept).
tamper() {
  "$PY" - "$LOG" "$T/$1.jsonl" "$2" <<'EOF'
import sys
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
exec(sys.argv[3])
open(sys.argv[2], "wb").write(b"".join(lines))
EOF
}
tamper removed 'del lines[2]'
expect "removed line" 3 "removed: seq 3 missing between line 2 and line 3" -- audit verify removed.jsonl
tamper altered 'lines[1] = lines[1].replace(b"\"action\":\"", b"\"action\":\"x")'
expect "altered line" 3 "line 2 was altered" -- audit verify altered.jsonl
tamper inserted 'lines.insert(2, lines[1].replace(b"\"action\":\"", b"\"action\":\"x"))'
expect "inserted line" 3 "line 3 was inserted" -- audit verify inserted.jsonl
tamper reordered 'lines[2], lines[3] = lines[3], lines[2]'
expect "reordered lines" 3 "line 3 \(seq 4\) is out of order.*reordered" -- audit verify reordered.jsonl
tamper first 'del lines[0]'
expect "first line removed" 3 "line 1 \(seq 2\) does not start the chain" -- audit verify first.jsonl
tamper torn 'lines[-1] = lines[-1][:20]'
expect "torn last line" 3 "line $N is torn" -- audit verify torn.jsonl
tamper garbage 'lines[3] = b"not json\n"'
expect "a line that is not JSON" 3 "line 4 is malformed" -- audit verify garbage.jsonl

# A cut or rewritten tail keeps a valid chain; a bundle sealed after it
# finds it.
tamper truncated 'del lines[-3:]'
expect "truncated tail: the chain alone holds" 0 "chain intact" -- audit verify truncated.jsonl
expect "truncated tail: found with the bundle" 3 "truncated: .* was sealed with the log at seq $N.*ends at seq $((N - 3))" -- \
  audit verify truncated.jsonl --bundle "$b2"
tamper rewritten '
import hashlib, json
o = json.loads(lines[-1]); o["detail"] = "exit 0, rewritten"
lines[-1] = json.dumps(o, separators=(",", ":")).encode() + b"\n"'
expect "rewritten tail: the chain alone holds" 0 "chain intact" -- audit verify rewritten.jsonl
expect "rewritten tail: found with the bundle" 3 "rewritten: line $N \(seq $N\) is not the line" -- \
  audit verify rewritten.jsonl --bundle "$b2"
expect "an earlier bundle finds its own line altered" 3 "altered: line 2 \(seq 2\) differs from" -- \
  audit verify altered.jsonl --bundle "$b1"
expect "a missing log with a bundle: all of it is gone" 3 "truncated" -- \
  audit verify "$T/none.jsonl" --bundle "$b1"
expect "a missing log alone" 1 "does not exist" -- audit verify "$T/none.jsonl"

# ---- show ---------------------------------------------------------------------------
expect "show" 0 "^TIME +USER +ACTION" -- audit show
has "show: both datasets and the hash" "iris@1.0.0" "penguins@1.0.0" "${sum:0:12}" "$run_id"
expect "show --dataset iris" 0 "iris@1\.0\.0" -- audit show --dataset iris
! grep -q penguins "$T/out" && ok || fail "show --dataset iris lists penguins"
expect "show --dataset penguins@1.0.0 --json" 0 "" -- audit show --dataset penguins@1.0.0 --json
grep '"dataset":"penguins@1.0.0"' "$LOG" | cmp -s - "$T/out" && ok ||
  fail "show --json is not the log's penguins lines byte for byte"
expect "show --user NAME" 0 "iris@1\.0\.0" -- audit show --user "$(id -un)"
expect "show --user UID" 0 "penguins@1\.0\.0" -- audit show --user "$(id -u)" --json
[[ $(wc -l <"$T/out") == "$N" ]] && ok || fail "show --user UID --json: not every line"
expect "show --user nobody-else" 0 "" -- audit show --user no-such-user
[[ $(wc -l <"$T/out") == 1 ]] && ok || fail "show --user no-such-user lists lines"
expect "show --since the past" 0 "" -- audit show --since 2000-01-01 --json
[[ $(wc -l <"$T/out") == "$N" ]] && ok || fail "show --since 2000-01-01 misses lines"
expect "show --since the future" 0 "" -- audit show --since 2999-01-01T00:00 --json
[[ ! -s $T/out ]] && ok || fail "show --since 2999 lists lines"
expect "show --since: not a time" 2 "--since 'yesterday' is not a UTC time" -- audit show --since yesterday
expect "show: a broken chain is said" 0 "warning: the chain of .* is broken" -- audit show removed.jsonl
expect "unknown subcommand" 2 "unknown subcommand 'check'" -- audit check

# ---- the setting, and logs that refuse an append -------------------------------------
KEEL_AUDIT_LOG=$T/other.jsonl expect "config show: audit_log from the environment" 0 \
  "audit_log +$T/other\.jsonl +\(env KEEL_AUDIT_LOG\)" -- config show
KEEL_AUDIT_LOG=$T/other.jsonl seal "$S/iris.ini" --out runs2 || true
[[ $(wc -l <"$T/other.jsonl") == "$n" ]] && ok || fail "KEEL_AUDIT_LOG: the run's lines are not there"
mkdir -p "$XDG_CONFIG_HOME/keel"
printf '[data]\naudit_log = logs/cfg.jsonl\n' >"$XDG_CONFIG_HOME/keel/config.ini"
expect "config show: audit_log from config.ini" 0 "audit_log +$XDG_CONFIG_HOME/keel/logs/cfg\.jsonl" -- config show
seal "$S/iris.ini" --out runs3 || true
[[ -s $XDG_CONFIG_HOME/keel/logs/cfg.jsonl ]] && ok || fail "[data] audit_log: no log written"
rm "$XDG_CONFIG_HOME/keel/config.ini"

: >"$T/afile"
KEEL_AUDIT_LOG=$T/afile/audit.jsonl expect "a log that cannot be written refuses the run" 1 \
  "$T/afile" -- run "$S/iris.ini" --out runs4 --quiet
[[ ! -e runs4 ]] || [[ -z $(ls runs4) ]] && ok || fail "a refused run left a bundle"
cp "$T/torn.jsonl" "$T/torn2.jsonl"
KEEL_AUDIT_LOG=$T/torn2.jsonl expect "a torn log refuses the run" 3 \
  "last line has no line end \(torn\)" -- run "$S/iris.ini" --out runs5 --quiet
cmp -s "$T/torn.jsonl" "$T/torn2.jsonl" && ok || fail "a refused append changed the torn log"

# keel data verify and fetch account for what they read too
mkdir -p dv www && cp "$S/data/catalog.ini" "$S/data/"*.csv "$S/data/"*.gz dv/
cp "$S/data/iris.csv" www/
DLOG=$T/data.jsonl
KEEL_AUDIT_LOG=$DLOG expect "data verify: every entry" 0 "^OK iris@1\.0\.0" -- data verify --catalog dv/catalog.ini
n_entries=$(grep -c '^\[[a-z0-9_-]*@' dv/catalog.ini)
[[ $(grep -c '"action":"hash-verified"' "$DLOG") == "$n_entries" ]] && ok ||
  fail "data verify: $(grep -c '"action":"hash-verified"' "$DLOG") hash-verified lines for $n_entries entries"
printf 'x' >>dv/iris.csv
KEEL_AUDIT_LOG=$DLOG expect "data verify: a tampered copy" 3 "FAILED iris@1\.0\.0" -- data verify iris@1.0.0 --catalog dv/catalog.ini
tail -1 "$DLOG" | grep -q '"action":"hash-mismatch".*"dataset":"iris@1.0.0"' && ok || fail "no hash-mismatch line: $(tail -1 "$DLOG")"
http_server srv www
SHA=$(sha256sum www/iris.csv | cut -c1-64)
sed -n '/^\[iris@1.0.0\]/,/^$/p' dv/catalog.ini | sed "s#^location = .*#location = http://127.0.0.1:$PORT/ok/iris.csv#" |
  { printf '[catalog]\nformat = 1\n\n'; cat; } >web.ini
KEEL_AUDIT_LOG=$DLOG expect "data fetch: fetched" 0 "^FETCHED iris@1\.0\.0" -- data fetch --catalog web.ini --cache dc
tail -1 "$DLOG" | grep -q '"action":"fetched".*"sha256":"'"$SHA"'"' && ok || fail "no fetched line: $(tail -1 "$DLOG")"
KEEL_AUDIT_LOG=$DLOG expect "data fetch: a hit" 0 "^CACHED iris@1\.0\.0" -- data fetch --catalog web.ini --cache dc
tail -1 "$DLOG" | grep -q '"action":"cache-hit"' && ok || fail "no cache-hit line: $(tail -1 "$DLOG")"
expect "the data commands' log verifies" 0 "chain intact" -- audit verify "$DLOG"
KEEL_AUDIT_LOG=$T/afile/audit.jsonl expect "data verify: a log that cannot be written" 1 \
  "iris@1\.0\.0: not recorded in the audit log" -- data verify iris@1.0.0 --catalog web.ini
finish
