#!/usr/bin/env bash
# Concurrency of the run registry (issue 15): eight `keel run` processes
# registering at once lose nothing (WAL, busy timeout, BEGIN IMMEDIATE);
# a registry locked by another process beyond the busy timeout and a
# corrupt registry give a clear error naming the file, `keel run` still
# succeeds with a warning, `keel runs list` fails (1 locked, 3 corrupt),
# and the bundles are never touched.
# ctest: timeout 400
. "$(dirname "$0")/lib.sh"
need sqlite3 sha256sum
shipped_manifests iris
M=$T/m/iris.ini
REG=$XDG_DATA_HOME/keel/registry.db

pids=()
for i in 1 2 3 4 5 6 7 8; do
  "$KEEL" run "$M" train.epochs=2 train.seed=$i --out "$T/runs" --threads 1 --quiet \
    >"$T/run$i.out" 2>"$T/run$i.err" &
  pids+=($!)
done
for i in 1 2 3 4 5 6 7 8; do
  rc=0
  wait "${pids[i - 1]}" || rc=$?
  ((rc == 0)) && ok || { fail "run $i: exit $rc"; show_output "$T/run$i.err"; }
  grep -q warning "$T/run$i.err" && fail "run $i warned: $(cat "$T/run$i.err")" || ok
done
expect "list" 0 "" -- runs list --format csv
(($(wc -l <"$T/out") == 9)) && ok || { fail "expected 8 runs listed"; show_output; }
expect "verify" 0 "^OK .*: 8 runs" -- runs verify

bundle_sums() { sha256sum "$T"/runs/*.tar.gz; }
sums=$(bundle_sums)

# ---- locked: another process holds a lock past the busy timeout ----------
# lock MODE: a python3 sqlite3 connection holds the registry for 13 s:
# "write" a BEGIN EXCLUSIVE (in WAL mode: writers wait, readers do not),
# "all" also in exclusive locking mode (readers wait too).
lock() {
  rm -f "$T/locked"
  "$PY" - "$REG" "$T/locked" "$1" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[3] == "all":
    c.execute("PRAGMA locking_mode=EXCLUSIVE")
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(13)
c.execute("ROLLBACK")
PY
  locker=$!
  for _ in $(seq 100); do [[ -f $T/locked ]] && break; sleep 0.1; done
  [[ -f $T/locked ]] || bail "the locking process did not start"
}
lock write
krun run "$M" train.epochs=2 --out "$T/runs2" --quiet
((RC == 0)) && ok || { fail "run with a locked registry: exit $RC"; show_output "$T/err"; }
grep -q "keel: warning: .*registry $REG: .*locked" "$T/err" && ok ||
  { fail "run with a locked registry: no warning naming the file"; show_output "$T/err"; }
[[ -f $(tail -n 1 "$T/out") ]] && ok || fail "run with a locked registry printed no bundle"
expect "list while a writer holds the lock (WAL: readers go on)" 0 "" -- runs list --format csv
(($(wc -l <"$T/out") == 9)) && ok || fail "list while locked for writing: expected 8 runs"
expect "import while locked" 1 "registry $REG: .*locked" -- runs import "$T/runs2"
wait "$locker" || true
lock all
expect "list while locked" 1 "registry $REG: .*database is locked" -- runs list
wait "$locker" || true
[[ $(bundle_sums) == "$sums" ]] && ok || fail "bundles changed while the registry was locked"
expect "list after the lock" 0 "" -- runs list --format csv
(($(wc -l <"$T/out") == 9)) && ok || fail "the registry lost runs to the lock"
expect "import after the lock" 0 "imported 1" -- runs import "$T/runs2"

# ---- corrupt: garbage bytes -----------------------------------------------
BAD=$T/corrupt.db
head -c 8192 /dev/urandom >"$BAD"
krun run "$M" train.epochs=2 --out "$T/runs3" --quiet --registry "$BAD"
((RC == 0)) && ok || { fail "run with a corrupt registry: exit $RC"; show_output "$T/err"; }
grep -q "keel: warning: .*registry $BAD: .*not a keel registry" "$T/err" && ok ||
  { fail "run with a corrupt registry: no warning naming the file"; show_output "$T/err"; }
expect "list of a corrupt registry" 3 "registry $BAD: .*not a database" -- runs list --registry "$BAD"
expect "import into a corrupt registry" 3 "registry $BAD" -- runs import --registry "$BAD" "$T/runs3"
[[ $(bundle_sums) == "$sums" ]] && ok || fail "bundles changed"
# a valid SQLite file that is not a registry
sqlite3 "$T/other.db" "CREATE TABLE t(x)"
expect "list of a foreign SQLite file" 3 "without keel's tables" -- runs list --registry "$T/other.db"
# a registry from a newer keel
cp "$REG" "$T/newer.db"
sqlite3 "$T/newer.db" "UPDATE schema_version SET version = 99"
expect "list of a newer schema" 1 "schema version 99 was written by a newer keel" -- runs list --registry "$T/newer.db"
# an unwritable place: a folder where the file should be
mkdir -p "$T/dir.db"
krun run "$M" train.epochs=2 --out "$T/runs4" --quiet --registry "$T/dir.db"
((RC == 0)) && grep -q "keel: warning: .*registry $T/dir.db: not a regular file" "$T/err" && ok ||
  { fail "run with a folder as registry: exit $RC"; show_output "$T/err"; }
finish
