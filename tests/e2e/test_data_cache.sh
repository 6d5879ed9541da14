#!/usr/bin/env bash
# The content-addressed data cache (issue 13): `keel data fetch` fills
# CACHE/sha256/HE/HEX from a real server on 127.0.0.1
# (tests/tools/http_fixture_server.py); a second fetch is served from the
# cache without a request; a corrupted or truncated entry is detected,
# removed and fetched again, never used; bytes that do not match the
# catalog are exit 3 and leave nothing cached; 2 and 8 processes filling
# the same entry at once make one request and all succeed; `keel data gc
# --max-size` evicts the least recently used entries.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/www"
cp "$KEEL_SRC/manifests/data/penguins.csv" "$KEEL_SRC/manifests/data/iris.csv" "$T/www/"
SHA_P=$(sha256sum "$T/www/penguins.csv" | cut -c1-64)
SHA_I=$(sha256sum "$T/www/iris.csv" | cut -c1-64)

http_server srv "$T/www"
BASE=http://127.0.0.1:$PORT
CACHE=$T/cache

# catalog MODE: penguins and iris served through fixture MODE.
catalog() {
  {
    printf '[catalog]\nformat = 1\n'
    for d in penguins:$SHA_P iris:$SHA_I; do
      printf '\n[%s@1.0.0]\nlocation = %s/%s/%s.csv\nplugin = csv\nsha256 = %s\n' \
        "${d%%:*}" "$BASE" "$1" "${d%%:*}" "${d#*:}"
      printf 'rows = 1\nschema = a:numeric\nowner = o\nscope = public\nas_of = 2025-01-31\nlicense = x\n'
    done
  } >"$T/c.ini"
}
requests() { grep -c "\"/$1/$2.csv\"" "$T/srv.log" || true; }
ENTRY=$CACHE/sha256/${SHA_P:0:2}/$SHA_P

catalog ok
expect "fetch fills the cache" 0 "^FETCHED penguins@1\.0\.0  $ENTRY" -- data fetch penguins --catalog "$T/c.ini" --cache "$CACHE"
cmp -s "$ENTRY" "$T/www/penguins.csv" && ok || fail "the cache entry is not the file's bytes"
expect "a second fetch is a hit" 0 "^CACHED penguins@1\.0\.0" -- data fetch penguins --catalog "$T/c.ini" --cache "$CACHE"
[[ $(requests ok penguins) == 1 ]] && ok || fail "a hit made a request ($(requests ok penguins) in all)"
ls -a "$CACHE/sha256/${SHA_P:0:2}" | grep -q '\.tmp-' && fail "a temporary was left behind" || ok

# Corrupted, then truncated: detected, removed, fetched again.
printf 'X' | dd of="$ENTRY" bs=1 seek=100 conv=notrunc 2>/dev/null
expect "a corrupted entry is fetched again" 0 "^REFETCHED penguins@1\.0\.0" -- data fetch penguins --catalog "$T/c.ini" --cache "$CACHE"
grep -q "does not match its hash (corrupted or truncated)" "$T/out" && ok || fail "no warning about the corrupted entry"
cmp -s "$ENTRY" "$T/www/penguins.csv" && ok || fail "the refetched entry is not the file's bytes"
truncate -s 50 "$ENTRY"
expect "a truncated entry is fetched again" 0 "^REFETCHED penguins@1\.0\.0" -- data fetch penguins --catalog "$T/c.ini" --cache "$CACHE"
[[ $(requests ok penguins) == 3 ]] && ok || fail "expected 3 requests, saw $(requests ok penguins)"

# Wrong bytes: exit 3, nothing cached.
catalog wrong
krun data fetch --catalog "$T/c.ini" --cache "$T/cache-w"
((RC == 3)) && ok || fail "wrong bytes: exit $RC, expected 3"
has "wrong bytes" "NOT CACHED penguins@1.0.0: the" "have SHA-256" "(nothing was cached)"
[[ -z $(find "$T/cache-w" -type f ! -name '*.lock') ]] && ok || fail "wrong bytes left a file: $(find "$T/cache-w" -type f)"

# Concurrent fillers: one request, every process succeeds, one entry.
catalog slow
for n in 2 8; do
  pids=()
  for i in $(seq "$n"); do
    "$KEEL" data fetch iris --catalog "$T/c.ini" --cache "$T/cache-$n" >"$T/c$n.$i" 2>&1 &
    pids+=($!)
  done
  bad=0
  for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
  ((bad == 0)) && ok || fail "$n concurrent fetches: $bad failed: $(cat "$T"/c$n.*)"
  got=$(grep -c "\"/slow/iris.csv\"" "$T/srv.log" || true)
  want=$((n == 2 ? 1 : 2))
  ((got == want)) && ok || fail "$n concurrent fetches made $((got - want + 1)) requests, expected 1"
  cmp -s "$T/cache-$n/sha256/${SHA_I:0:2}/$SHA_I" "$T/www/iris.csv" && ok || fail "$n concurrent: the entry is wrong"
  [[ $(grep -l '^FETCHED' "$T"/c$n.* | wc -l) == 1 ]] && ok || fail "$n concurrent: not exactly one FETCHED"
done

# gc: keep the most recently used within the size.
catalog ok
"$KEEL" data fetch --catalog "$T/c.ini" --cache "$T/cache-gc" >/dev/null 2>&1 || fail "fetch both for gc"
IRIS=$T/cache-gc/sha256/${SHA_I:0:2}/$SHA_I
PENG=$T/cache-gc/sha256/${SHA_P:0:2}/$SHA_P
touch -d '2020-01-01' "$IRIS"
expect "gc to the bigger entry's size" 0 "2 entries, .* -> 1 entries" -- data gc --cache "$T/cache-gc" --max-size "$(stat -c %s "$PENG")"
[[ -f $PENG && ! -f $IRIS ]] && ok || fail "gc did not evict the least recently used entry"
expect "gc to nothing" 0 "-> 0 entries, 0 bytes" -- data gc --cache "$T/cache-gc" --max-size 0
expect "gc of a cache that does not exist" 0 "0 entries, 0 bytes" -- data gc --cache "$T/no-cache" --max-size 1G
expect "gc without --max-size" 2 "gc needs --max-size SIZE" -- data gc --cache "$T/cache-gc"
expect "gc with a bad size" 2 "not '12Q'" -- data gc --cache "$T/cache-gc" --max-size 12Q
# The cache folder by default: $XDG_CACHE_HOME/keel/data.
"$KEEL" data fetch iris --catalog "$T/c.ini" >/dev/null 2>&1 || fail "fetch into the default cache"
[[ -f $XDG_CACHE_HOME/keel/data/sha256/${SHA_I:0:2}/$SHA_I ]] && ok || fail "the default cache is not \$XDG_CACHE_HOME/keel/data"

finish
