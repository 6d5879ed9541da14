#!/usr/bin/env bash
# The data catalog (issue 13, first part): `keel data list | show | verify`
# over the shipped catalog (manifests/data/catalog.ini) and copies of it.
# verify passes for every shipped entry and fails, naming the entry, with
# exit 3 on a tampered copy; a missing file is exit 1; an http(s) entry is
# not checked without its credential (exit 2), its query string never printed; no
# catalog at all is exit 2 saying how to name one; KEEL_CATALOG and
# config.ini name the catalog as docs/configuration.md says.
. "$(dirname "$0")/lib.sh"
SHIPPED=$KEEL_SRC/manifests/data/catalog.ini

expect "verify the shipped catalog" 0 '' -- data verify --catalog "$SHIPPED"
for id in cars@1.0.0 diabetes@1.0.0 digits@1.0.0 iris@1.0.0 penguins@1.0.0; do
  grep -qx "OK $id" "$T/out" && ok || fail "verify does not say 'OK $id'"
done

expect "list" 0 'penguins@1\.0\.0 +public +344 rows +csv +file:penguins\.csv' -- \
  data list --catalog "$SHIPPED"
krun data list --catalog "$SHIPPED" --json
((RC == 0)) && ok || fail "list --json: exit $RC"
[[ $(json_value "$T/out" 'len(d["entries"])') == 5 ]] && ok || fail "list --json: not 5 entries"
[[ $(json_value "$T/out" '[e["rows"] for e in d["entries"] if e["name"] == "digits"][0]') == 1797 ]] &&
  ok || fail "list --json: digits rows"

expect "show by range" 0 'sha256 +e70c49495fd192cbd259f8028ecd623348a4151c86c26aeddade9073ae657420' -- \
  data show 'penguins@^1' --catalog "$SHIPPED"
has "show" "option       missing = NA, ." "species:categorical (label)" "license      CC0-1.0"
expect "show: no such version" 2 "no version of 'penguins' .* satisfies '\^2' \(versions: 1\.0\.0\)" -- \
  data show 'penguins@^2' --catalog "$SHIPPED"
expect "show: no such dataset" 2 "no dataset 'pengins' .*; did you mean 'penguins'\? \(it has: cars, diabetes, digits, iris, penguins\)" -- \
  data show pengins --catalog "$SHIPPED"
expect "show: malformed reference" 2 "not a dataset reference" -- data show 'p@>>1' --catalog "$SHIPPED"
expect "show without a dataset" 2 "show needs a dataset" -- data show --catalog "$SHIPPED"
expect "unknown subcommand" 2 "unknown subcommand 'lst'" -- data lst --catalog "$SHIPPED"

# A copy of the catalog and its data; then one file tampered with.
mkdir -p "$T/cat"
cp "$SHIPPED" "$KEEL_SRC"/manifests/data/*.csv "$KEEL_SRC"/manifests/data/*.csv.gz "$T/cat/"
expect "verify a copy" 0 '' -- data verify --catalog "$T/cat/catalog.ini"
printf 'x' >>"$T/cat/iris.csv"
krun data verify --catalog "$T/cat/catalog.ini"
((RC == 3)) && ok || fail "verify a tampered copy: exit $RC, expected 3"
has "tampered" "FAILED iris@1.0.0: $T/cat/iris.csv has SHA-256" "OK penguins@1.0.0"
krun data verify iris --catalog "$T/cat/catalog.ini" --json
((RC == 3)) && ok || fail "verify iris --json: exit $RC"
[[ $(json_value "$T/out" 'd["entries"][0]["status"]') == mismatch ]] && ok || fail "json status"
[[ $(json_value "$T/out" 'len(d["entries"])') == 1 ]] && ok || fail "verify iris checked more than iris"
rm "$T/cat/penguins.csv"
krun data verify penguins --catalog "$T/cat/catalog.ini"
((RC == 1)) && ok || fail "verify a missing file: exit $RC, expected 1"
has "missing file" "NOT CHECKED penguins@1.0.0:" "penguins.csv"

# An http entry: not fetched by this keel yet; the query is never printed.
cat >"$T/remote.ini" <<'INI'
[catalog]
format = 1

[remote@1.0.0]
location = https://data.example.org/p.csv?token=SECRET123
plugin = csv
sha256 = e70c49495fd192cbd259f8028ecd623348a4151c86c26aeddade9073ae657420
rows = 1
schema = a:numeric:label
owner = o
scope = restricted
auth = bearer-env:DATA_TOKEN
as_of = 2025-01-31
license = proprietary
INI
for args in "list" "show remote" "verify" "list --json" "show remote --json" "verify --json"; do
  # shellcheck disable=SC2086
  krun data $args --catalog "$T/remote.ini"
  if grep -q SECRET123 "$T/out" "$T/err"; then fail "data $args printed the query string"; else ok; fi
done
# (fetching is tests/e2e/test_data_fetch_http.sh; here the credential is
# missing, so nothing goes to the network)
krun data verify --catalog "$T/remote.ini"
((RC == 2)) && ok || fail "verify an https entry without its token: exit $RC, expected 2"
has "https entry" "NOT CHECKED remote@1.0.0: auth bearer-env:DATA_TOKEN: the environment variable DATA_TOKEN is not set"

# A malformed catalog names FILE:LINE, the entry and the key.
printf '[catalog]\nformat = 1\n\n[x@1.0.0]\nrows = many\n' >"$T/bad.ini"
expect "malformed catalog" 2 "bad\.ini:5: \[x@1\.0\.0\] rows: 'many' is not a count" -- \
  data list --catalog "$T/bad.ini"

# Which catalog: none configured is exit 2 with the way out; then
# KEEL_CATALOG, then config.ini ([data] catalog, relative to its folder).
expect "no catalog" 2 "catalog\.ini: cannot open.*name the catalog with --catalog FILE, KEEL_CATALOG or \[data\] catalog in config\.ini" -- \
  data list
mkdir -p "$XDG_CONFIG_HOME/keel"
printf '[data]\ncatalog = ../../../cat/catalog.ini\n' >"$XDG_CONFIG_HOME/keel/config.ini"
cp "$SHIPPED" "$T/cat/catalog.ini"
expect "config.ini names the catalog" 0 "catalog .*cat/catalog\.ini: 5 entries" -- data list
expect "config show lists it" 0 "catalog +.*cat/catalog\.ini +\(.*config\.ini:2\)" -- config show
KEEL_CATALOG=$SHIPPED expect "KEEL_CATALOG wins over config.ini" 0 "catalog $SHIPPED: 5 entries" -- data list

finish
