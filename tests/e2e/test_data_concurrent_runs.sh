#!/usr/bin/env bash
# ctest: slow
# Runs sharing one data cache (issue 13): 2, then 8 `keel run`s started at
# once on an http dataset (the fixture server's /slow/ mode, so they
# overlap) with one empty cache all exit 0 with the result digest of the
# same data read from a file: entry; the body is fetched once per fill and
# the cache holds the one entry, no temporaries. A run that finds the
# entry does not wait for the others reading it. `keel data gc` while a
# run holds the entry (the run stopped with SIGSTOP once it holds the
# lock, so the moment is certain) leaves it. A corrupted and a truncated
# entry are replaced with a warning and give the same digest; their bytes
# reach neither the lineage nor the bundled data.
. "$(dirname "$0")/lib.sh"
need flock
shipped_manifests penguins
M=$T/m/penguins.ini
mkdir -p "$T/www"
cp "$KEEL_SRC/manifests/data/penguins.csv" "$T/www/"
SHA=$(sha256sum "$T/www/penguins.csv" | cut -c1-64)
http_server srv "$T/www"

# catalog FILE LOCATION: the shipped penguins entry, at LOCATION.
catalog() {
  {
    printf '[catalog]\nformat = 1\n\n'
    sed -n '/^\[penguins@/,/^\[/p' "$KEEL_SRC/manifests/data/catalog.ini" |
      sed '$d' | sed "s|^location = .*|location = $2|"
  } >"$1"
}
catalog "$T/file.ini" "file:$T/www/penguins.csv"
catalog "$T/http.ini" "http://127.0.0.1:$PORT/slow/penguins.csv"
grep -q "^sha256 = $SHA\$" "$T/http.ini" || bail "the shipped entry is not penguins.csv's hash"
member() { tar -xOzf "$1" --wildcards "*/$2"; }
digest() { member "$1" digest.txt; }
# full GETs of the body (a resume would carry a Range)
gets() { grep -s '"/slow/penguins.csv"' "$T/srv.log" | grep -c '"range": null' || true; }
entry() { echo "$1/sha256/${SHA:0:2}/$SHA"; }
# only_entry CACHE LABEL: the cache holds the entry (the served bytes),
# its lock file and nothing else: no temporary, no partial file.
only_entry() {
  local got want
  got=$(cd "$1" && find . -type f | sort)
  want=$(printf './sha256/%s/%s\n./sha256/%s/%s.lock' "${SHA:0:2}" "$SHA" "${SHA:0:2}" "$SHA")
  [[ $got == "$want" ]] && ok || fail "$2: the cache holds $(echo $got), expected the entry and its lock only"
  cmp -s "$(entry "$1")" "$T/www/penguins.csv" && ok || fail "$2: the entry is not the served bytes"
}

seal "$M" --catalog "$T/file.ini" --out "$T/ref" || bail "the file: run failed"
REF=$(digest "$B")
[[ $REF =~ ^[0-9a-f]{64}$ ]] && ok || bail "no digest in the file: run's bundle"

for n in 2 8; do
  cache=$T/cache-$n
  before=$(gets)
  pids=()
  for i in $(seq "$n"); do
    "$KEEL" run "$M" --catalog "$T/http.ini" --cache "$cache" --quiet \
      --out "$T/runs-$n-$i" >"$T/r$n.$i.out" 2>"$T/r$n.$i.err" &
    pids+=($!)
  done
  bad=0
  for i in $(seq "$n"); do
    wait "${pids[$((i - 1))]}" || { bad=$((bad + 1)) && show_output "$T/r$n.$i.err"; }
  done
  ((bad == 0)) && ok || fail "$n concurrent runs: $bad did not exit 0"
  same=0
  for i in $(seq "$n"); do
    b=$(tail -n 1 "$T/r$n.$i.out")
    [[ -f $b && $(digest "$b") == "$REF" ]] && same=$((same + 1))
  done
  ((same == n)) && ok || fail "$n concurrent runs: $same of $n gave the file: run's digest $REF"
  got=$(($(gets) - before))
  ((got == 1)) && ok || fail "$n concurrent runs fetched the body $got times, expected once"
  only_entry "$cache" "$n concurrent runs"
done

# A run that finds the entry reads it beside the others: it does not wait
# for a run holding it (the shell's shared lock stands in for one, as
# keel_cache_open leaves it).
cache=$T/cache-2
exec 9<>"$(entry "$cache").lock"
flock -s 9
start=$SECONDS
RC=0
timeout -s KILL 20 "$KEEL" run "$M" --catalog "$T/http.ini" --cache "$cache" \
  --quiet --out "$T/beside" >"$T/out" 2>"$T/err" 9>&- || RC=$?
exec 9>&-
((RC == 0)) && ok || fail "a run on a cache entry another run reads: exit $RC after $((SECONDS - start)) s (it waited for the reader)"

# gc while a run reads the entry: stop the run once it holds the entry's
# lock, gc, go on. The run trains long enough to be caught holding it.
seal "$M" --catalog "$T/file.ini" --out "$T/ref-long" train.epochs=3000 || bail "the long file: run failed"
REF_LONG=$(digest "$B")
held() { ! flock -n -x "$(entry "$cache").lock" true; }
caught=0
for try in 1 2 3; do
  "$KEEL" run "$M" --catalog "$T/http.ini" --cache "$cache" --quiet \
    --out "$T/gc-run" train.epochs=3000 >"$T/gc.out" 2>"$T/gc.err" &
  pid=$!
  for _ in $(seq 500); do held && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  kill -STOP "$pid" 2>/dev/null || true
  if held; then caught=1 && break; fi
  kill -CONT "$pid" 2>/dev/null || true
  wait "$pid" || true
done
if ((caught)); then
  ok
  expect "gc while a run reads the entry" 0 "-> 1 entries" -- data gc --cache "$cache" --max-size 0
  [[ -f $(entry "$cache") ]] && ok || fail "gc removed the entry a run was reading"
  kill -CONT "$pid"
  RC=0
  wait "$pid" || RC=$?
  ((RC == 0)) && ok || { fail "the run gc went around: exit $RC" && show_output "$T/gc.err"; }
  b=$(tail -n 1 "$T/gc.out")
  [[ -f $b && $(digest "$b") == "$REF_LONG" ]] && ok || fail "the run gc went around: not the file: run's digest"
  expect "gc once the run is done" 0 "-> 0 entries" -- data gc --cache "$cache" --max-size 0
else
  fail "no run was caught holding the entry's lock in 3 tries"
fi

# A corrupted, then a truncated entry: replaced with a warning, read again,
# the same digest; the bad bytes reach neither the lineage nor --include-data.
cache=$T/cache-8
for damage in corrupted truncated; do
  if [[ $damage == corrupted ]]; then flip "$(entry "$cache")" 100; else truncate -s 50 "$(entry "$cache")"; fi
  before=$(gets)
  krun run "$M" --catalog "$T/http.ini" --cache "$cache" --quiet --include-data \
    --out "$T/$damage"
  ((RC == 0)) && ok || { fail "$damage entry: exit $RC" && show_output "$T/err"; }
  has_err "$damage entry" "does not hold the catalogued bytes (corrupted or truncated)"
  b=$(tail -n 1 "$T/out")
  [[ -f $b && $(digest "$b") == "$REF" ]] && ok || fail "$damage entry: not the file: run's digest"
  lineage=$(member "$b" lineage.json | json_value - 'd["source"]["files"][0]["sha256"]')
  [[ $lineage == "$SHA" ]] && ok || fail "$damage entry: the lineage records $lineage, not the catalogued $SHA"
  member "$b" 'data/penguins@1.0.0' | cmp -s - "$T/www/penguins.csv" && ok ||
    fail "$damage entry: the bundled data is not the catalogued bytes"
  (($(gets) - before == 1)) && ok || fail "$damage entry: fetched $(($(gets) - before)) times, expected once"
  only_entry "$cache" "$damage entry"
done

finish
