#!/usr/bin/env bash
# Issue 14, "Freshness": a catalog entry older than its max_age_days
# (today - as_of, by the wall clock) warns, or fails the run before any
# byte is read, by the template's [contract] freshness (warn by default;
# a derived template may only tighten it). The message names the entry,
# as_of, the age and the maximum. The verdict is recorded in
# config_full.json, outside the result digest, and a replay of a bundle
# whose data has since expired reports it and still REPRODUCES, whatever
# the policy. The clock is never faked: stale entries have an as_of far in
# the past, fresh ones today's date.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/f/templates"
cd "$T/f"
cp "$KEEL_SRC/manifests/data/iris.csv" .
cp "$KEEL_SRC/manifests/templates/tabular-classification.ini" templates/
cat >templates/fresh-fail.ini <<'INI'
[template]
name = fresh-fail
version = 1.0.0
extends = tabular-classification >=1 <2

[contract]
freshness = fail
INI
cat >templates/fresh-loose.ini <<'INI'
[template]
name = fresh-loose
version = 1.0.0
extends = fresh-fail >=1 <2

[contract]
freshness = warn
INI
SHA=$(sha256sum iris.csv | cut -d' ' -f1)
TODAY=$(date -u +%F)
entry() { # NAME AS_OF [max_age_days line]
  cat <<INI
[$1@1.0.0]
location = file:iris.csv
plugin = csv
sha256 = $SHA
rows = 150
schema = sepal_length_cm:numeric, sepal_width_cm:numeric, petal_length_cm:numeric,
  petal_width_cm:numeric, species:categorical:label
owner = tests
scope = public
auth = none
as_of = $2
${3:-}
license = public-domain

INI
}
{
  printf '[catalog]\nformat = 1\n\n'
  entry old 2000-01-01 "max_age_days = 30"
  entry new "$TODAY" "max_age_days = 30"
  entry long 2000-01-01 "max_age_days = 36600"
} >catalog.ini
manifest() { # TEMPLATE DATASET
  cat <<INI
[keel]
template = $1
template_version = >=1 <2
catalog = catalog.ini

[data]
label = species

[source]
dataset = $2@^1

[transform.scale]
plugin = standardize

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd

[train]
epochs = 2
INI
}
manifest tabular-classification old >warn.ini
manifest fresh-fail old >fail.ini
manifest fresh-fail new >fail-new.ini
manifest fresh-fail long >fail-long.ini
manifest fresh-loose old >loose.ini
full() { # bundle -> $T/full.json (config_full.json)
  rm -rf "$T/x" && mkdir -p "$T/x" && tar -xzf "$1" -C "$T/x"
  cp "$T"/x/*/config_full.json "$T/full.json"
}
AGE_RE='old@1.0.0.*[0-9]+ days old \(as_of 2000-01-01, today '$TODAY'\), past its max_age_days 30'

# --- warn (the default policy): the run goes on, says so, records it -----------
krun run warn.ini --quiet --out "$T/o"
check "warn: exit 0 ($RC)" test "$RC" = 0
check "warn: the warning names entry, as_of, age and maximum" \
  grep -qE "warning: .*$AGE_RE.*freshness = warn" "$T/err"
B=$(tail -n 1 "$T/out")
full "$B"
check "warn: config_full.json records the verdict" \
  test "$(json_value "$T/full.json" 'd["freshness"]["verdict"]')" = "stale: warned"
check "warn: and as_of, max_age_days, policy" \
  test "$(json_value "$T/full.json" '[d["freshness"][k] for k in ("as_of","max_age_days","policy")]')" = '["2000-01-01",30,"warn"]'
check "warn: age = today - as_of" \
  test "$(json_value "$T/full.json" 'd["freshness"]["age_days"]')" = \
  "$("$PY" -c 'import datetime as t; print((t.datetime.now(t.timezone.utc).date() - t.date(2000, 1, 1)).days)')"
check "warn: not in config.json (outside the result digest)" \
  test "$(json_value "$(echo "$T"/x/*/config.json)" '"freshness" in str(d)')" = false
WARNED=$B
expect "check warns too" 0 "warning: .*$AGE_RE" -- check warn.ini

# --- fail: refused before any byte is read, nothing written --------------------------
expect "fail: exit 2 naming entry, as_of, age and maximum" 2 \
  "$AGE_RE.*freshness = fail: refused" -- run fail.ini --quiet --out "$T/refused"
check "fail: no bundle" test ! -e "$T/refused"
expect "fail: check refuses too" 2 "$AGE_RE" -- check fail.ini
expect "fail: a fresh entry runs" 0 '' -- run fail-new.ini --quiet --out "$T/o"
full "$(tail -n 1 "$T/out")"
check "fresh: verdict fresh" test "$(json_value "$T/full.json" 'd["freshness"]["verdict"]')" = fresh

# --- a derived template may not loosen fail to warn -------------------------------
expect "loosening is refused" 2 \
  'fresh-loose.ini:7: \[contract\] freshness: .warn. warns where the base fails of base template fresh-fail' -- \
  check loose.ini
expect "template rule shown by check" 0 'contract freshness = fail' -- check fail-new.ini

# --- replay: reports, never fails --------------------------------------------------
expect "replay of the warned run: REPRODUCED" 0 '^REPRODUCED' -- replay "$WARNED" --out "$T/r"
check "replay: reports the staleness" grep -qE "$AGE_RE.*a replay reports it" "$T/out"
# A bundle sealed under freshness = fail while its data was fresh, whose data
# has expired since: the entry's max_age_days is lowered in the bundle (it is
# outside the result digest) as the passing of time would.
seal fail-long.ini --out "$T/o" || bail "fail-long run"
reseal "$B" "$T/expired.tar.gz" '
files["dataset.ini"] = files["dataset.ini"].replace(b"max_age_days = 36600", b"max_age_days = 30")
full = json.loads(files["config_full.json"])
full["dataset"]["max_age_days"] = 30
files["config_full.json"] = (json.dumps(full, indent=2) + "\n").encode()'
expect "the expired bundle still verifies" 0 '' -- verify "$T/expired.tar.gz"
expect "replay under freshness = fail: REPRODUCED" 0 '^REPRODUCED' -- \
  replay "$T/expired.tar.gz" --out "$T/r"
check "replay: reports the expired entry" \
  grep -qE "long@1.0.0.*past its max_age_days 30; \[contract\] freshness = fail; a replay reports it" "$T/out"

finish
