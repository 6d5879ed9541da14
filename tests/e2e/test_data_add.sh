#!/usr/bin/env bash
# `keel data add` (issue 13): reads a file, or a URL served on 127.0.0.1
# by tests/tools/http_fixture_server.py, through its source plugin and
# appends a new catalog version with the hash, rows, schema and a
# statistics file; versions go one minor up; the old text of the catalog
# is never rewritten; every refusal leaves the catalog byte for byte as it
# was and names what is wrong.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/cat"
cp "$KEEL_SRC/manifests/data/penguins.csv" "$KEEL_SRC/manifests/data/iris.csv" "$T/cat/"
C=$T/cat/catalog.ini
SHA_P=$(sha256sum "$T/cat/penguins.csv" | cut -c1-64)
common=(--catalog "$C" --owner "data team" --scope internal --license CC0-1.0)

expect "add a file" 0 "^ADDED penguins@1\.0\.0 to .*: 344 rows, 7 columns, sha256 $SHA_P" -- \
  data add "$T/cat/penguins.csv" --name penguins --label species --option "missing=NA, ." "${common[@]}"
grep -qx "\[catalog\]" "$C" && ok || fail "the new catalog has no [catalog] header"
grep -qx "location = file:penguins.csv" "$C" && ok || fail "location not relative to the catalog: $(grep location "$C")"
grep -q "^schema = species:categorical:label, island:categorical" "$C" && ok || fail "schema: $(grep -A1 schema "$C")"
grep -qx "stats = catalog.ini.stats/penguins@1.0.0.json" "$C" && ok || fail "no stats key"
STATS=$T/cat/catalog.ini.stats/penguins@1.0.0.json
[[ $(json_value "$STATS" '[c["counts"]["Adelie"] for c in d["columns"] if c["name"] == "species"][0]') == 152 ]] &&
  ok || fail "stats: Adelie count"
[[ $(json_value "$STATS" '[c["missing"] for c in d["columns"] if c["name"] == "bill_length_mm"][0]') == 2 ]] &&
  ok || fail "stats: bill_length_mm missing"
expect "verify after add" 0 "^OK penguins@1\.0\.0" -- data verify --catalog "$C"

cp "$C" "$T/before.ini"
expect "a second add is the next minor" 0 "^ADDED penguins@1\.1\.0" -- \
  data add "$T/cat/penguins.csv" --name penguins "${common[@]}"
cmp -s "$T/before.ini" <(head -c "$(stat -c %s "$T/before.ini")" "$C") && ok ||
  fail "add rewrote the existing text of the catalog"

# Refusals leave the catalog as it was.
cp "$C" "$T/before.ini"
refused() {
  local label=$1 re=$2
  shift 2
  expect "$label" 2 "$re" -- "$@"
  cmp -s "$T/before.ini" "$C" && ok || fail "$label: the catalog changed"
}
refused "an existing version" "penguins@1\.0\.0 is already in .* \(line [0-9]+\); a version is written once" \
  data add "$T/cat/penguins.csv" --name penguins --version 1.0.0 "${common[@]}"
refused "a bad version" "--version 1\.0: " data add "$T/cat/iris.csv" --name iris --version 1.0 "${common[@]}"
refused "no --owner" "add needs --owner" data add "$T/cat/iris.csv" --name iris --catalog "$C" --scope public --license x
refused "a bad scope" "'secret' is not an access scope" \
  data add "$T/cat/iris.csv" --name iris --catalog "$C" --owner o --scope secret --license x
refused "an unknown plugin option" "--option delimeter: source plugin 'csv' has no such parameter; did you mean 'delimiter'\?" \
  data add "$T/cat/iris.csv" --name iris --option delimeter=, "${common[@]}"
refused "a label that is no column" "--label kind: the data has no such column" \
  data add "$T/cat/iris.csv" --name iris --label kind "${common[@]}"
refused "a file with no known plugin" "cannot tell the source plugin from the name; give --plugin NAME" \
  data add "$C" --name x "${common[@]}"
refused "a bad dataset name" "'Iris' is not a dataset name" \
  data add "$T/cat/iris.csv" --name Iris "${common[@]}"
expect "a missing file" 2 "no-such\.csv: No such file" -- data add "$T/cat/no-such.csv" --name iris "${common[@]}"
cmp -s "$T/before.ini" "$C" && ok || fail "a missing file: the catalog changed"

# A URL: fetched into the cache, catalogued with its URL.
mkdir -p "$T/www"
cp "$T/cat/iris.csv" "$T/www/"
http_server srv "$T/www"
URL=http://127.0.0.1:$PORT/close/iris.csv
expect "add a URL" 0 "^ADDED iris@1\.0\.0 .*: 150 rows, 5 columns" -- \
  data add "$URL" --name iris --label species --cache "$T/cache" "${common[@]}"
grep -qx "location = $URL" "$C" && ok || fail "URL location: $(grep location "$C" | tail -1)"
SHA_I=$(sha256sum "$T/www/iris.csv" | cut -c1-64)
cmp -s "$T/cache/sha256/${SHA_I:0:2}/$SHA_I" "$T/www/iris.csv" && ok || fail "the URL's bytes are not in the cache"
expect "fetch after add is a hit" 0 "^CACHED iris@1\.0\.0" -- data fetch iris --catalog "$C" --cache "$T/cache"
expect "verify after adding a URL" 0 "OK iris@1\.0\.0" -- data verify --catalog "$C"

finish
