#!/usr/bin/env bash
# Issue 12: a template's allow list is not capped by the 199-byte physical
# line: it continues on following lines that start with whitespace
# (DESIGN.md, "Long INI values"). 30 entries, well over 199 bytes, the
# plugin a manifest uses last; one over-long physical line is still refused.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
{
  sed -n '/^\[template\]/,/^\[slot.transform\]/p' \
    "$KEEL_SRC/manifests/templates/tabular-classification.ini" | sed '$d'
  echo "[slot.transform]"
  echo "allow = extra00 >=1 <2,"
  for i in $(seq 1 28); do printf '  extra%02d >=1.0.0 <2.0.0,\n' "$i"; done
  echo "  standardize >=1 <2"
  sed -n '/^\[slot.model\]/,$p' "$KEEL_SRC/manifests/templates/tabular-classification.ini"
} >long.ini
sed 's/^template = .*/template = long.ini/' iris.ini >l.ini
n=$(sed -n '/^allow = extra00/,/standardize/p' long.ini | tr -d '\n' | wc -c)
((n > 199)) && ok || fail "the allow list is only $n bytes"
expect "30 entries on continuation lines" 0 'is valid' -- check l.ini
krun check l.ini --json; ((RC == 0)) && ok || fail "check --json exit $RC"
# the same list on one physical line is refused, naming the line
{
  sed -n '1,/^\[slot.transform\]/p' long.ini
  printf 'allow = %s\n' "$(sed -n '/^allow = extra00/,/standardize/p' long.ini | sed 's/^allow = //; s/^  //' | tr -d '\n')"
  sed -n '/^\[slot.model\]/,$p' long.ini
} >oneline.ini
sed 's/^template = .*/template = oneline.ini/' iris.ini >o.ini
expect "one physical line over 199 bytes" 2 'oneline\.ini:[0-9]+' -- check o.ini
finish
