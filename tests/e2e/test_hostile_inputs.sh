#!/usr/bin/env bash
# Regressions from a hostile review: inputs that once hung, passed
# verification or lost data. Each must fail clearly (or work) now.
. "$(dirname "$0")/lib.sh"
need timeout tar
cd "$T"

# 1. A device as data: refused at once, not hashed forever.
shipped_manifests iris
uncatalogued "$KEEL_SRC/manifests/iris.ini" "$T/m/plain.ini" # a path to override
RC=0
timeout 10 "$KEEL" check "$T/m/plain.ini" source.path=/dev/zero >/dev/null 2>err.txt || RC=$?
[ "$RC" = 2 ] && grep -q "not a regular file" err.txt && ok || fail "/dev/zero as data: rc=$RC $(cat err.txt)"

# 2. Hex floats are not manifest numbers.
if "$KEEL" check "$KEEL_SRC/manifests/iris.ini" optimizer.lr=0x1p-4 >/dev/null 2>err.txt; then
  fail "optimizer.lr=0x1p-4 accepted"
else
  grep -q "not a decimal number" err.txt && ok || fail "hex float message: $(cat err.txt)"
fi

# 3. Bundles re-sealed consistently (SHA256SUMS, digest) but with a broken
#    run record or plugin list still fail verify with exit 3.
seal "$KEEL_SRC/manifests/iris.ini" --out runs || bail "no bundle to craft from"
b=$B
craft() { reseal "$b" "$1" "$2"; }
craft same.tar.gz 'pass'
expect "a faithfully re-sealed bundle verifies (else crafting is broken)" 0 "" -- verify same.tar.gz
craft norun_json.tar.gz 'files["run.json"] = b"this is not json"'
expect "verify norun_json.tar.gz" 3 'run\.json' -- verify norun_json.tar.gz
craft no_run.tar.gz 'del files["run.json"]'
expect "verify no_run.tar.gz" 3 'run\.json' -- verify no_run.tar.gz
craft plugins_shape.tar.gz 'files["plugins.json"] = b"{\"plugins\": {\"x\": 1}}"'
expect "verify plugins_shape.tar.gz" 3 'plugins\.json' -- verify plugins_shape.tar.gz

# 4. --include-data with a data path outside the manifest's folder: the
#    bundled copy is what replay reads once the original is gone.
mkdir -p m d && cp "$KEEL_SRC/manifests/data/iris.csv" d/
uncatalogued "$KEEL_SRC/manifests/iris.ini" plain-iris.ini
sed -e 's|^path = .*|path = ../d/iris.csv|' \
    -e 's|^template = .*|template = '"$KEEL_SRC"'/manifests/templates/tabular-classification.ini|' \
    plain-iris.ini > m/iris.ini
if seal m/iris.ini --include-data --out runs2; then
  mv d d.gone
  expect "replay of bundled ../ data" 0 "REPRODUCED" -- replay "$B"
  mv d.gone d
fi

# 5. Every transform's plugin is recorded, however many transforms there are.
{
  sed -n '1,/^\[transform.scale\]/p' plain-iris.ini | sed '$d'
  for i in $(seq 1 61); do printf '[transform.s%02d]\nplugin = standardize\n\n' "$i"; done
  printf '[transform.last]\nplugin = minmax\n\n'
  sed -n '/^\[model\]/,$p' plain-iris.ini
} | sed -e 's|^path = .*|path = '"$KEEL_SRC"'/manifests/data/iris.csv|' \
        -e 's|^template = .*|template = '"$KEEL_SRC"'/manifests/templates/tabular-classification.ini|' > many.ini
if seal many.ini --out runs3; then
  tar xzf "$B" -O --wildcards '*/plugins.json' | grep -q '"minmax"' && ok ||
    fail "the 62nd transform's plugin is missing from plugins.json"
fi

finish
