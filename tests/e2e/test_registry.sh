#!/usr/bin/env bash
# The run registry (issue 15, docs/registry.md): keel run indexes the
# bundles it seals (ok and failed ones), keel runs list/show/compare/best
# read them back, --where and --sort select and order them, import is
# idempotent and verifies first, verify finds missing and altered
# bundles, the run cache (--reuse) returns a verified bundle of the same
# inputs, and the registry's location follows the settings precedence.
. "$(dirname "$0")/lib.sh"
need sqlite3
shipped_manifests iris diabetes
M=$T/m/iris.ini
REG=$XDG_DATA_HOME/keel/registry.db
rows() { sqlite3 "$1" "SELECT count(*) FROM runs"; }

# ---- runs register when sealed ------------------------------------------
seal "$M" train.epochs=3 --out "$T/runs" || bail "first run failed"
b1=$B
seal "$M" train.epochs=3 optimizer.lr=0.005 --out "$T/runs" || bail "second run failed"
b2=$B
[[ -f $REG ]] && ok || bail "keel run made no registry at the default $REG"
[[ $(rows "$REG") == 2 ]] && ok || fail "registry holds $(rows "$REG") runs, expected 2"
krun run "$T/m/diabetes.ini" optimizer.lr=0.5 --out "$T/div" --quiet
bf=$(tail -n 1 "$T/out")
((RC == 1)) && [[ -f $bf ]] && ok || fail "the diverging run: exit $RC, bundle '$bf'"
[[ $(sqlite3 "$REG" "SELECT status FROM runs WHERE bundle_path = '$bf'") == failed ]] && ok ||
  fail "the failed run is not indexed with status failed"
[[ $(sqlite3 "$REG" "SELECT count(*) FROM schema_version WHERE version = 1") == 1 ]] && ok || fail "no schema version 1"
[[ $(sqlite3 "$REG" "PRAGMA journal_mode") == wal ]] && ok || fail "the registry is not in WAL mode"
# an interrupted run is indexed too (SIGTERM after its first epoch)
"$KEEL" run "$M" train.epochs=10000 --out "$T/int" >"$T/int.out" 2>"$T/int.err" &
pid=$!
for _ in $(seq 3000); do
  grep -q '^epoch 1/' "$T/int.err" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
bi=$(tail -n 1 "$T/int.out")
((rc == 143)) && [[ -f $bi ]] && ok || { fail "interrupted run: exit $rc, bundle '$bi'"; show_output "$T/int.err"; }
[[ $(sqlite3 "$REG" "SELECT status FROM runs WHERE bundle_path = '$bi'") == interrupted ]] && ok ||
  fail "the interrupted run is not indexed with status interrupted"
sqlite3 "$REG" "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE bundle_path = '$bi'"
seal "$M" train.epochs=3 --out "$T/runs" --no-register || bail "--no-register run failed"
[[ $(rows "$REG") == 3 ]] && ok || fail "--no-register indexed the run"
rm -f "$B"

# ---- list ---------------------------------------------------------------
expect "list csv" 0 "" -- runs list --format csv
(($(wc -l <"$T/out") == 4)) && ok || { fail "list csv: expected a header and 3 rows"; show_output; }
expect "where on a parameter and a metric" 0 "" -- runs list --format csv \
  --where 'optimizer.lr < 0.01 and valid.accuracy >= 0.1'
(($(wc -l <"$T/out") == 2)) && grep -q "$(basename "$b2" .tar.gz)" "$T/out" && ok ||
  { fail "where lr < 0.01 did not select the second run alone"; show_output; }
head -n 1 "$T/out" | grep -q 'optimizer.lr,valid.accuracy$' && ok || fail "where keys are not shown as columns"
expect "or and parentheses" 0 "" -- runs list --format csv \
  --where "(optimizer.lr = 0.1 or optimizer.lr = 0.005) and template = tabular-classification and not status = failed"
(($(wc -l <"$T/out") == 3)) && ok || { fail "or/parentheses: expected 2 rows"; show_output; }
expect "status attribute" 0 "" -- runs list --format csv --where "status = 'failed'"
(($(wc -l <"$T/out") == 2)) && ok || { fail "status = failed: expected 1 row"; show_output; }
expect "like" 0 "" -- runs list --format csv --where "name like 'iri%'"
(($(wc -l <"$T/out") == 3)) && ok || { fail "like: expected 2 rows"; show_output; }
expect "sort by a metric, limit" 0 "" -- runs list --format json --sort 'valid.accuracy desc' --limit 1 --where 'name = iris.ini'
[[ $(json_value "$T/out" 'len(d)') == 1 ]] && ok || fail "limit 1 gave $(json_value "$T/out" 'len(d)') rows"
[[ $(json_value "$T/out" 'd[0]["run_id"]') == $(basename "$b1" .tar.gz) ]] && ok ||
  fail "sort valid.accuracy desc: the lr=0.1 run is not first"
expect "table" 0 "run_id +started_at +status" -- runs list
expect "malformed where" 2 "runs: list --where: column 16: expected a value" -- runs list --where 'optimizer.lr < '
expect "malformed sort" 2 "runs: list --sort: column 12: expected asc, desc" -- runs list --sort 'started_at x'
expect "bad format" 2 "expected table, csv or json" -- runs list --format xml

# ---- show, compare ------------------------------------------------------
id1=$(basename "$b1" .tar.gz)
id2=$(basename "$b2" .tar.gz)
expect "show by prefix" 0 "optimizer.lr +0.1" -- runs show "${id1:0:30}"
has "show" "$id1" "valid.accuracy" "iris@1.0.0" "softmax" "$(sha256sum "$b1" | cut -c1-64)"
expect "show ambiguous" 2 "names more than one run" -- runs show keel-run-
expect "show unknown" 2 "no run nosuch" -- runs show nosuch
expect "compare" 0 "" -- runs compare "$id1" "$id2"
grep -qE '^\* optimizer.lr +0.1 +0.005' "$T/out" && ok || { fail "compare does not mark optimizer.lr"; show_output; }
grep -qE '^  optimizer.momentum +0.9 +0.9' "$T/out" && ok || { fail "compare marks an equal value"; show_output; }
expect "compare one" 2 "two run ids or more" -- runs compare "$id1"

# ---- import -------------------------------------------------------------
expect "import again" 0 "imported 0, already indexed 2" -- runs import "$T/runs"
mkdir -p "$T/moved" && cp "$b1" "$T/moved/"
expect "import a copy" 0 "imported 0, already indexed 1" -- runs import "$T/moved"
expect "other registry" 0 "imported 3, already indexed 0, skipped 0" -- runs import --registry "$T/other.db" "$T/runs" "$bf"
mkdir -p "$T/bad"
reseal "$b2" "$T/bad/forged.tar.gz" 'files["manifest.ini"] += b"; edited\n"' 
expect "same run id, another bundle" 3 "already indexed from another bundle file" -- runs import "$T/bad/forged.tar.gz"
cp "$b2" "$T/bad/tampered.tar.gz"
flip "$T/bad/tampered.tar.gz" 2000
rm -f "$T/bad/forged.tar.gz"
echo "not a bundle" >"$T/bad/junk.tar.gz"
expect "import refuses what does not verify" 3 "skipped .*tampered.tar.gz" -- runs import --registry "$T/fresh.db" "$T/bad"
has "import names the junk" "skipped $T/bad/junk.tar.gz"
has "import counts" "imported 0, already indexed 0, skipped 2"
[[ $(rows "$T/fresh.db") == 0 ]] && ok || fail "a bundle that does not verify was indexed"

# ---- a metric recorded as null is a NaN flag, never a value -------------
mkdir -p "$T/nan"
reseal "$b1" "$T/nan/nan.tar.gz" "
m = json.loads(files['metrics.json'])
m['valid']['loss'] = None
files['metrics.json'] = (json.dumps(m, indent=2) + '\\n').encode()"
expect "import a run with a NaN metric" 0 "imported 1" -- runs import --registry "$T/nan.db" "$T/nan"
[[ $(sqlite3 "$T/nan.db" "SELECT is_nan, value FROM latest_metrics WHERE key = 'valid.loss'") == "1|0.0" ]] && ok ||
  fail "valid.loss recorded as null is not flagged: $(sqlite3 "$T/nan.db" "SELECT * FROM latest_metrics WHERE key = 'valid.loss'")"
[[ $(sqlite3 "$T/nan.db" "SELECT count(*) FROM latest_metrics WHERE key = 'valid.rmse'") == 0 ]] && ok ||
  fail "a metric the task does not report (valid.rmse of a classifier) was indexed"
expect "a NaN matches no comparison" 0 "" -- runs list --registry "$T/nan.db" --format csv --where 'valid.loss < 1e300 or valid.loss >= 0'
(($(wc -l <"$T/out") == 1)) && ok || { fail "a NaN metric matched a comparison"; show_output; }
expect "show a NaN" 0 "valid.loss +nan" -- runs show --registry "$T/nan.db" "$id1"

# ---- sweeps: best -------------------------------------------------------
mkdir -p "$T/sweep"
i=0
for lr in 0.3 0.01 0.1; do
  seal "$M" train.epochs=3 optimizer.lr=$lr --out "$T/sweep-src" --no-register || bail "sweep trial $lr failed"
  reseal "$B" "$T/sweep/t$i.tar.gz" "
run = json.loads(files['run.json'])
run['sweep'] = {'id': 'sw1', 'trial': $i, 'objective': 'valid.loss', 'direction': 'min'}
files['run.json'] = (json.dumps(run, indent=2) + '\n').encode()"
  i=$((i + 1))
done
expect "import a sweep" 0 "imported 3" -- runs import "$T/sweep"
expect "best" 0 "" -- runs best --sweep sw1 --format csv
want=$(for f in "$T"/sweep/t*.tar.gz; do
  printf '%s %s\n' "$(tar xzf "$f" -O --wildcards '*/metrics.json' | json_value - 'd["valid"]["loss"]')" \
    "$(tar xzf "$f" -O --wildcards '*/run.json' | json_value - 'd["sweep"]["trial"]')"
done | sort -g | awk '{print $2}' | tr '\n' ' ')
got=$(tail -n +2 "$T/out" | cut -d, -f1 | tr '\n' ' ')
[[ $got == "$want" ]] && ok || fail "best --sweep: trials ranked '$got', by valid.loss '$want'"
# a batch holding a conflicting bundle: only that one is skipped
mkdir -p "$T/mix"
reseal "$b2" "$T/mix/a-forged.tar.gz" 'files["manifest.ini"] += b"; edited\n"'
seal "$M" train.epochs=2 --out "$T/mix-src" --no-register || bail "run failed"
cp "$B" "$T/mix/b-new.tar.gz"
expect "import a batch with a conflict" 3 "skipped $T/mix/a-forged.tar.gz: .*already indexed from another bundle file" -- runs import "$T/mix"
has "the rest of the batch is indexed" "imported 1, already indexed 0, skipped 1"
expect "best of no sweep" 1 "no finished trial of sweep 'nosuch'" -- runs best --sweep nosuch
expect "best needs --sweep" 2 "best needs --sweep" -- runs best
expect "where on sweep" 0 "" -- runs list --format csv --where 'sweep = sw1 and trial >= 1'
(($(wc -l <"$T/out") == 3)) && ok || { fail "where sweep/trial: expected 2 rows"; show_output; }

# ---- the run cache --------------------------------------------------------
n_runs=$(ls "$T/runs" | wc -l)
krun run "$M" train.epochs=3 --out "$T/runs" --quiet
((RC == 0)) && ok || fail "third run: exit $RC"
[[ $(ls "$T/runs" | wc -l) == $((n_runs + 1)) ]] && ok || fail "--quiet without --reuse did not train a new run"
[[ ! -s $T/err ]] && ok || fail "--quiet: the run cache's hint on stderr: $(cat "$T/err")"
krun run "$M" train.epochs=3 --out "$T/runs"
((RC == 0)) && ok || fail "fourth run: exit $RC"
grep -qE "info: run keel-run-[^ ]+ \(.*\.tar\.gz\) has the same inputs; keel run --reuse would return it" "$T/err" && ok ||
  { fail "keel run does not say a run with the same inputs exists"; show_output "$T/err"; }
n_before=$(ls "$T/runs" | wc -l)
krun run "$M" train.epochs=3 --out "$T/runs" --reuse
((RC == 0)) && ok || fail "--reuse: exit $RC"
reused=$(tail -n 1 "$T/out")
[[ -f $reused ]] && tar tzf "$reused" >/dev/null && ok || fail "--reuse printed '$reused', not a bundle"
[[ $(ls "$T/runs" | wc -l) == "$n_before" ]] && ok || fail "--reuse sealed a new bundle"
grep -q "reused run" "$T/err" && ok || fail "--reuse does not say it reused a run"
d_reused=$(tar xzf "$reused" -O --wildcards '*/run.json' | json_value - 'd["input_digest"]')
d_b1=$(tar xzf "$b1" -O --wildcards '*/run.json' | json_value - 'd["input_digest"]')
[[ $d_reused == "$d_b1" && ${#d_b1} == 64 ]] && ok || fail "reused bundle has input digest $d_reused, the run's is $d_b1"
# an altered bundle is never reused: the run trains
for f in $(sqlite3 "$REG" "SELECT bundle_path FROM runs WHERE input_digest = '$d_b1'"); do
  flip "$f" 3000
done
krun run "$M" train.epochs=3 --out "$T/runs" --quiet --reuse
((RC == 0)) && ok || fail "--reuse over altered bundles: exit $RC"
[[ $(ls "$T/runs" | wc -l) == $((n_before + 1)) ]] && ok || fail "--reuse returned an altered bundle instead of training"

# ---- verify ---------------------------------------------------------------
expect "verify finds altered bundles" 3 "FAILED: .* of .* indexed runs do not match" -- runs verify
has "verify names the altered" "altered: $id1"
rm -f "$b2"
expect "verify finds a missing bundle" 3 "" -- runs verify
has "verify names the missing" "missing: $id2"
expect "verify of a clean registry" 0 "^OK .*: 1 runs, every bundle present" -- runs verify --registry "$T/nan.db"

# ---- location: flag > KEEL_REGISTRY > config.ini > default -----------------
mkdir -p "$XDG_CONFIG_HOME/keel"
printf '[runs]\nregistry = from-config.db\n' >"$XDG_CONFIG_HOME/keel/config.ini"
expect "config show (file)" 0 "registry +$XDG_CONFIG_HOME/keel/from-config.db +\\($XDG_CONFIG_HOME/keel/config.ini:2\\)" -- config show
KEEL_REGISTRY=$T/env.db expect "config show (env)" 0 "registry +$T/env.db +\\(env KEEL_REGISTRY\\)" -- config show
seal "$M" train.epochs=2 --out "$T/loc" || bail "run with a config.ini registry failed"
[[ $(rows "$XDG_CONFIG_HOME/keel/from-config.db") == 1 ]] && ok || fail "config.ini's registry was not used"
KEEL_REGISTRY=$T/env.db seal "$M" train.epochs=2 --out "$T/loc" || bail "run with KEEL_REGISTRY failed"
[[ $(rows "$T/env.db") == 1 ]] && ok || fail "KEEL_REGISTRY was not used"
KEEL_REGISTRY=$T/env.db seal "$M" train.epochs=2 --out "$T/loc" --registry "$T/flag.db" || bail "run with --registry failed"
[[ $(rows "$T/flag.db") == 1 && $(rows "$T/env.db") == 1 ]] && ok || fail "--registry did not win over KEEL_REGISTRY"
KEEL_REGISTRY=$T/env.db expect "list reads KEEL_REGISTRY" 0 "" -- runs list --format csv
(($(wc -l <"$T/out") == 2)) && ok || fail "runs list did not read KEEL_REGISTRY's registry"
expect "list without a registry" 0 "no run registered yet" -- runs list --registry "$T/none.db"
[[ ! -e $T/none.db ]] && ok || fail "runs list created a registry"
krun runs list --registry "$T/none.db" --format json
((RC == 0)) && [[ $(json_value "$T/out" 'len(d)') == 0 ]] && ok || fail "runs list --format json without a registry: exit $RC, '$(cat "$T/out")'"
expect "malformed where without a registry" 2 "column 9: expected a value" -- runs list --registry "$T/none.db" --where 'status ='
[[ ! -e $T/none.db ]] && ok || fail "runs list created a registry"

finish
