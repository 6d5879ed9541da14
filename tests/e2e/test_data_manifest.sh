#!/usr/bin/env bash
# Manifests that name their data through the catalog (issue 13,
# docs/data-access.md "Datasets in a manifest"): `[source] dataset =
# NAME@RANGE` resolves to one catalog version, shown by `keel check` with
# where it came from; the shipped manifests all do it and compute what
# their plain-path form computes; a reference that matches nothing, a
# plugin or an option set beside the entry, and a plain path under a
# template that requires the catalog are refused (exit 2); bytes that are
# not the catalogued ones are exit 3 and a file that has gone exit 1. The
# same manifest read from a file, from a local HTTP server and from the
# cache gives one result digest; a corrupt cache entry is replaced and
# never used; replay reads through the same shim. A secret never reaches
# an output or the bundle. A sqlite dataset records its query and the
# hash of its result rows.
. "$(dirname "$0")/lib.sh"
need tar sha256sum
cd "$T"
S=$KEEL_SRC/manifests

# digest BUNDLE: its result digest.
digest() { tar xzf "$1" -O --wildcards '*/digest.txt' | cut -c1-64; }
# member BUNDLE NAME: one member's bytes on stdout.
member() { tar xzf "$1" -O --wildcards "*/$2"; }

# ---- the shipped manifests and catalog --------------------------------------
expect "data verify: the shipped catalog" 0 "^OK penguins@1\.0\.0" -- \
  data verify --catalog "$S/data/catalog.ini"
for m in iris penguins cars diabetes digits; do
  expect "check $m" 0 "^data      $m@1\.0\.0 \(dataset = $m@\^1, $m\.ini:" -- check "$S/$m.ini"
  has "check $m: catalog and entry" "catalog $S/data/catalog.ini:" "chosen by [keel] catalog ($m.ini:" "scope public" "read from $S/data/"
done
expect "check: the entry's values come from the catalog" 0 \
  "source\.path +\= penguins@1\.0\.0 +\(catalog catalog\.ini:" -- check "$S/penguins.ini"
has "check: a catalog option" "(catalog catalog.ini:"

# A catalogued run computes what the plain path computes.
shipped_manifests penguins
uncatalogued "$S/penguins.ini" "$T/m/plain.ini"
expect "check: a plain path is uncatalogued" 0 "^data      uncatalogued" -- check "$T/m/plain.ini"
seal "$S/penguins.ini" --out runs && cat_b=$B
seal "$T/m/plain.ini" --out runs && plain_b=$B
for f in metrics.json weights/W.npy weights/b.npy; do
  [[ $(member "$cat_b" "$f" | sha256sum) == $(member "$plain_b" "$f" | sha256sum) ]] && ok ||
    fail "$f differs between the catalogued and the plain run"
done
member "$cat_b" lineage.json >lineage.json
json_value lineage.json 'd["source"]["dataset"]["id"]' | grep -qx 'penguins@1.0.0' && ok || fail "lineage: no dataset id"
json_value lineage.json 'd["source"]["files"][0]["path"]' | grep -qx 'penguins@1.0.0' && ok ||
  fail "lineage: the file is not named by the entry's id"
member "$cat_b" dataset.ini >sealed.ini
grep -qx "location = file:$(readlink -f "$S/data/penguins.csv")" sealed.ini && ok ||
  fail "dataset.ini: no absolute location"
expect "the sealed entry is a catalog" 0 "^OK penguins@1\.0\.0" -- data verify --catalog sealed.ini
member "$cat_b" config_full.json >full.json
json_value full.json 'd["dataset"]["catalog_origin"]' | grep -q '^\[keel\] catalog (penguins.ini:' && ok ||
  fail "config_full.json: no catalog origin"
json_value full.json 'd["data_access"]["read_from"]' | grep -qx location && ok || fail "config_full.json: read_from"

# ---- refusals before any data is read (exit 2) --------------------------------
expect "unknown dataset" 2 "\[source\] dataset: no dataset 'pengiuns' in the catalog .*did you mean 'penguins'" -- \
  check "$S/penguins.ini" source.dataset=pengiuns@^1
expect "no version satisfies" 2 "no version of 'penguins' in the catalog .* satisfies '\^2' \(versions: 1\.0\.0\)" -- \
  check "$S/penguins.ini" source.dataset=penguins@^2
expect "a malformed reference" 2 "'penguins@@1' is not a dataset reference" -- \
  check "$S/penguins.ini" source.dataset=penguins@@1
expect "a missing catalog" 2 "the catalog $T/none.ini \(chosen by --catalog\) cannot be read" -- \
  check "$S/penguins.ini" --catalog "$T/none.ini"
sed 's|^dataset = penguins@^1|dataset = penguins@^1\nplugin = csv|' "$S/penguins.ini" >"$T/m/both.ini"
expect "plugin beside dataset" 2 "both.ini:[0-9]*: \[source\] plugin: not with dataset = penguins@\^1" -- check "$T/m/both.ini"
sed 's|^dataset = penguins@^1|dataset = penguins@^1\nmissing = NA|' "$S/penguins.ini" >"$T/m/opt.ini"
expect "an option the entry sets" 2 "opt.ini:[0-9]*: \[source\] missing: set by the catalog entry penguins@1\.0\.0 \(catalog\.ini:[0-9]*\)" -- \
  check "$T/m/opt.ini"
expect "a path the entry sets" 2 "\[source\] path: set by the catalog entry penguins@1\.0\.0" -- \
  check "$S/penguins.ini" source.path=other.csv
expect "a dataset override resolves" 0 "^data      iris@1\.0\.0 \(dataset = iris@1\.0\.0, command line\)" -- \
  check "$S/iris.ini" source.dataset=iris@1.0.0

# [contract] catalog = required
cat >"$T/m/governed.ini" <<'EOF'
[template]
name = governed
version = 1.0.0
extends = tabular-classification >=1 <2

[contract]
catalog = required
EOF
sed 's|^template = .*|template = ./governed.ini|' "$T/m/plain.ini" >"$T/m/gplain.ini"
expect "a required catalog refuses a plain path" 2 \
  "gplain.ini:[0-9]*: \[source\]: template governed requires data named by a catalog entry \(\[contract\] catalog = required, governed.ini:7\)" -- \
  check "$T/m/gplain.ini"
sed -e 's|^template = .*|template = ./governed.ini|' -e 's|^catalog = .*|catalog = data/catalog.ini|' \
  "$S/penguins.ini" >"$T/m/gcat.ini"
expect "a required catalog takes a dataset" 0 "contract catalog = required +.*governed.ini:7" -- check "$T/m/gcat.ini"
printf '[template]\nname = loose\nversion = 1.0.0\nextends = governed >=1 <2\n\n[contract]\ncatalog = optional\n' >"$T/m/loose.ini"
expect "a derived template cannot drop the requirement" 2 "loose.ini:7: \[contract\] catalog: 'optional' drops what is required" -- \
  check "$T/m/loose.ini"

# ---- which catalog: flag > [keel] catalog > KEEL_CATALOG ----------------------
mkdir -p cat
cp "$S/data/catalog.ini" "$S/data/penguins.csv" cat/
grep -v '^catalog = ' "$S/penguins.ini" | sed 's|^template = .*|template = '"$S"'/templates/tabular-classification.ini|' >nocat.ini
KEEL_CATALOG=$T/cat/catalog.ini expect "KEEL_CATALOG" 0 "chosen by KEEL_CATALOG" -- check nocat.ini
KEEL_CATALOG=$T/none.ini expect "[keel] catalog over KEEL_CATALOG" 0 "chosen by \[keel\] catalog" -- check "$S/penguins.ini"
expect "--catalog over [keel] catalog" 0 "catalog cat/catalog.ini:[0-9]* \(chosen by --catalog\)" -- \
  check "$S/penguins.ini" --catalog cat/catalog.ini
expect "no catalog anywhere" 2 "the catalog .*keel/catalog.ini \(chosen by the default location\) cannot be read" -- check nocat.ini

# ---- the bytes: changed (3), gone (1) ------------------------------------------
"$PY" -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); i=b.index(b"39.1"); b[i+3]=ord("2"); open(p,"wb").write(bytes(b))' cat/penguins.csv
expect "check --data: changed bytes" 3 "dataset penguins@1\.0\.0 \(catalog .*cat/catalog.ini:[0-9]*, file:penguins\.csv\): the 13479 bytes read from .*cat/penguins\.csv have SHA-256 [0-9a-f]{64}; expected e70c4949" -- \
  check nocat.ini --catalog cat/catalog.ini --data
rm -rf bad && expect "run: changed bytes" 3 "have SHA-256 .*; expected e70c4949.*nothing computed from them was used" -- \
  run nocat.ini --catalog cat/catalog.ini --out bad --quiet
b=$(ls bad/*.tar.gz 2>/dev/null | head -1)
if [[ -n $b ]]; then
  member "$b" run.json | grep -q '"exit_code": 3' && ok || fail "the failed run is not sealed with exit 3"
  member "$b" weights/W.npy >/dev/null 2>&1 && fail "weights were sealed from the changed bytes" || ok
else
  fail "run: changed bytes: no failed bundle"
fi
rm cat/penguins.csv
rm -rf gone && expect "run: the file has gone" 1 "dataset penguins@1\.0\.0 .*: .*cat/penguins\.csv cannot be read: No such file or directory, and the data cache" -- \
  run nocat.ini --catalog cat/catalog.ini --out gone --quiet
[[ ! -e gone ]] || [[ -z $(ls gone) ]] && ok || fail "a dataset that cannot be had left files in --out"
# the same with a data cache that exists but lacks the entry: looking
# it up makes no folder or lock file there
mkdir -p emptycache
expect "run: gone, an empty cache" 1 "cannot be read: No such file or directory, and the data cache \(emptycache\) has no entry" -- \
  run nocat.ini --catalog cat/catalog.ini --cache emptycache --out gone --quiet
[[ -z $(ls -A emptycache) ]] && ok || fail "looking up the cache wrote into it: $(find emptycache | tr '\n' ' ')"

# ---- one digest: file, server, cache ----------------------------------------
cp "$S/data/penguins.csv" cat/
mkdir -p www && cp "$S/data/penguins.csv" www/
http_server srv www
url_catalog() { # MODE [AUTH] [QUERY]: cat/http.ini serving penguins through MODE
  sed -e "s|^location = file:penguins.csv|location = http://127.0.0.1:$PORT/$1/penguins.csv${3:-}|" \
    -e "/^\[penguins@1.0.0\]/,/^\[/s|^auth = none|auth = ${2:-none}|" cat/catalog.ini >cat/http.ini
}
url_catalog ok
seal nocat.ini --catalog cat/catalog.ini --out one && d_file=$(digest "$B")
seal nocat.ini --catalog cat/http.ini --cache cache --out one && d_http=$(digest "$B") && http_b=$B
member "$http_b" config_full.json >hfull.json
json_value hfull.json 'd["data_access"]["read_from"]' | grep -qx fetched && ok || fail "the first http run did not fetch"
stop_http_server srv
seal nocat.ini --catalog cat/http.ini --cache cache --out one && d_cache=$(digest "$B") && cache_b=$B
member "$cache_b" config_full.json >cfull.json
json_value cfull.json 'd["data_access"]["read_from"]' | grep -qx cache && ok || fail "the server-less run did not read the cache"
[[ -n ${d_file:-} && $d_file == "${d_http:-}" && $d_http == "${d_cache:-}" ]] && ok ||
  fail "file, server and cache gave different digests: ${d_file:-} ${d_http:-} ${d_cache:-}"
expect "replay from the cache, server down" 0 "^REPRODUCED" -- replay "$http_b" --cache cache
expect "replay: no cache, server down" 1 "http://127\.0\.0\.1:[0-9]*/ok/penguins\.csv" -- replay "$http_b" --cache "$T/empty-cache"

# A corrupt cache entry: replaced from the server, never used.
http_server srv2 www
url_catalog ok
SHA=$(sha256sum www/penguins.csv | cut -c1-64)
ENTRY=cache/sha256/${SHA:0:2}/$SHA
printf 'X' | dd of="$ENTRY" bs=1 seek=200 conv=notrunc 2>/dev/null
seal nocat.ini --catalog cat/http.ini --cache cache --out one && {
  [[ $(digest "$B") == "$d_file" ]] && ok || fail "the run after a corrupt cache entry computed something else"
  has_err "corrupt entry: warned" "does not hold the catalogued bytes (corrupted or truncated)"
}
cmp -s "$ENTRY" www/penguins.csv && ok || fail "the corrupt entry was not replaced"
truncate -s 5000 "$ENTRY"
seal nocat.ini --catalog cat/http.ini --cache cache --out one && {
  [[ $(digest "$B") == "$d_file" ]] && ok || fail "the run after a truncated cache entry computed something else"
}

# Other bytes from the server: exit 3, nothing cached.
url_catalog wrong
rm -rf wrongcache wrongout
expect "a server serving other bytes" 3 "fetched have SHA-256 .*; the catalog records $SHA \(nothing was cached\)" -- \
  run nocat.ini --catalog cat/http.ini --cache wrongcache --out wrongout --quiet
[[ -z $(find wrongcache -type f ! -name '*.lock' 2>/dev/null) ]] && ok || fail "bytes of a wrong fetch were cached"

# A secret: referenced, never printed or sealed (a token in the variable,
# another in the URL's query string).
url_catalog auth bearer-env:KEEL_TEST_TOKEN '?sig=QUERYSECRET42'
KEEL_TEST_TOKEN=s3cret-token seal nocat.ini --catalog cat/http.ini --cache authcache --out sec
if [[ -n ${B:-} ]]; then
  mkdir -p secx && tar xzf "$B" -C secx
  if grep -rqE 's3cret-token|QUERYSECRET42' secx "$T/out" "$T/err"; then
    fail "a secret reached the output or the bundle"
  else ok; fi
  grep -rq 'auth = bearer-env:KEEL_TEST_TOKEN' secx && ok || fail "the auth method is not recorded"
fi

# ---- a sqlite dataset -------------------------------------------------------
"$PY" - <<'PYEOF'
import random, sqlite3
db = sqlite3.connect("cat/pts.db")
db.execute("CREATE TABLE pts(id INTEGER PRIMARY KEY, a REAL NOT NULL, b REAL NOT NULL, cls TEXT NOT NULL)")
r = random.Random(3)
for i in range(1, 121):
    a, b = r.uniform(-2, 2), r.uniform(-2, 2)
    db.execute("INSERT INTO pts VALUES (?,?,?,?)", (i, a, b, "pos" if a + b > 0 else "neg"))
db.commit()
PYEOF
DBSHA=$(sha256sum cat/pts.db | cut -c1-64)
cat >>cat/catalog.ini <<EOF

[pts@1.0.0]
location = sqlite:pts.db
plugin = sqlite
option.query = SELECT a, b, cls FROM pts ORDER BY id
sha256 = $DBSHA
rows = 120
schema = a:numeric, b:numeric, cls:categorical:label
owner = tests
scope = internal
as_of = 2026-12-01
license = CC0-1.0
EOF
printf '[template]\nname = sql\nversion = 1.0.0\nextends = tabular-classification >=1 <2\n\n[slot.source]\nallow = sqlite >=1 <2\n' >cat/sql.ini
cat >sql.ini <<EOF
[keel]
template = cat/sql.ini
template_version = >=1 <2
catalog = cat/catalog.ini

[data]
label = cls

[source]
dataset = pts@^1

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd

[train]
epochs = 3
EOF
seal sql.ini --out sq --threads 1 && s1=$B
seal sql.ini --out sq --threads 2 && s2=$B
if [[ -n ${s1:-} && -n ${s2:-} ]]; then
  [[ $(digest "$s1") == $(digest "$s2") ]] && ok || fail "sqlite dataset: digests differ across threads"
  member "$s1" lineage.json >sq.json
  json_value sq.json 'd["source"]["dataset"]["options"]["query"]' | grep -qx 'SELECT a, b, cls FROM pts ORDER BY id' &&
    ok || fail "sqlite lineage: no query text"
  json_value sq.json 'd["source"]["rows_sha256"]' | grep -qE '^[0-9a-f]{64}$' && ok || fail "sqlite lineage: no rows hash"
  json_value sq.json 'd["source"]["files"][0]["sha256"]' | grep -qx "$DBSHA" && ok || fail "sqlite lineage: not the file's hash"
fi

finish
