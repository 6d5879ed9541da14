#!/usr/bin/env bash
# `keel check TEMPLATE.ini` checks a template on its own, before any
# manifest names it (issue 12: "keel check of the derived template ...
# refuses a widening with exit 2 naming both files and lines"): its
# structure and its whole `extends` chain; it prints the chain and every
# rule with the template file:line it came from (text and --json).
. "$(dirname "$0")/lib.sh"
shipped_manifests
cd "$T/m"
base=$KEEL_SRC/manifests/templates/tabular-classification.ini
cat >derived.ini <<'INI'
[template]
name = derived
version = 1.0.0
extends = tabular-classification >=1 <2

[slot.transform]
allow = clamp >=0.1 <1

[checks]
min_rows = 100
INI
expect "a derived template" 0 'ok: derived\.ini is a valid template' -- check derived.ini
has "the chain" "template  derived 1.0.0" "extends tabular-classification 1.0.0"
has "rule origins" "derived.ini:7" "derived.ini:10" "tabular-classification.ini:"
krun check derived.ini --json
[[ $RC == 0 ]] && ok || fail "--json: exit $RC"
json_value "$T/out" '[d["valid"], [c["name"] for c in d["template"]["chain"]], any(r["file"].endswith("derived.ini") and r["line"] == 10 for r in d["rules"])]' >"$T/j" || true
[[ $(cat "$T/j") == '[true,["derived","tabular-classification"],true]' ]] && ok ||
  fail "--json: $(cat "$T/j")"

# the shipped template itself: a chain of one
expect "a base template" 0 'is a valid template' -- check "$base"

# a widening: both files and lines
cat >wide.ini <<'INI'
[template]
name = wide
version = 1.0.0
extends = tabular-classification >=1 <2

[ranges.optimizer.sgd]
lr = 1e-6 .. 1
INI
expect "a widening" 2 "wide\.ini:7: .*not inside '0\.00001 \.\. 1' of base template tabular-classification \(.*tabular-classification\.ini:[0-9]+\)" \
  -- check wide.ini
krun check wide.ini --json
[[ $RC == 2 ]] && ok || fail "--json widening: exit $RC"
json_value "$T/out" 'd["valid"]' | grep -qx false && ok || fail "--json widening: valid is not false"

# a missing base names the chain
printf '[template]\nname = lost\nversion = 1.0.0\nextends = no-such-base >=1 <2\n' >lost.ini
expect "a missing base" 2 'lost\.ini:4: \[template\] extends: .*no-such-base' -- check lost.ini
# a template has no values to override nor data of its own
expect "overrides refused" 2 'template.*manifest' -- check derived.ini train.epochs=3
expect "--data refused" 2 'template.*manifest' -- check derived.ini --data
finish
