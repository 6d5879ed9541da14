#!/usr/bin/env bash
# A derived template's range is compared with its base's as numbers, not
# as text: "1e-5 .. 1.0" is the base's "0.00001 .. 1", not a widening,
# and "0.000001 .. 1" is one (exit 2 naming both files and lines). A
# default must lie inside the range that applies to it: a derived default
# outside its own narrowed range, or a narrowed range that leaves out an
# inherited default, is refused naming the template file and line.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
base=$KEEL_SRC/manifests/templates/tabular-classification.ini
# tpl NAME BODY: a template extending the shipped one, and a manifest m_NAME
tpl() {
  printf '[template]\nname = %s\nversion = 1.0.0\nextends = tabular-classification >=1 <2\n\n%s\n' \
    "$1" "$2" >"$1.ini"
  sed "s/^template = .*/template = $1.ini/; s/^template_version = .*/template_version = 1/" \
    iris.ini >"m_$1.ini"
}
line_of() { grep -n "$1" "$2" | head -1 | cut -d: -f1; }

tpl same $'[ranges.optimizer.sgd]\nlr = 1e-5 .. 1.0\n\n[ranges.train]\nepochs = 1.0 .. 1e4'
expect "equal range in other notation" 0 '' -- check m_same.ini

tpl wider $'[ranges.optimizer.sgd]\nlr = 1e-6 .. 1'
expect "a widening in exponent notation" 2 \
  "wider\.ini:7: \[ranges\.optimizer\.sgd\] lr: '1e-6 \.\. 1' is not inside '0\.00001 \.\. 1'" \
  -- check m_wider.ini
has "names the base line" "tabular-classification.ini:$(line_of '^lr = 0.00001' "$base")"

tpl own $'[defaults.optimizer.sgd]\nlr = 0.9\n\n[ranges.optimizer.sgd]\nlr = 0.01 .. 0.5'
expect "a default outside its own range" 2 \
  'own\.ini:7: \[optimizer\] lr: .*outside the allowed range \[0\.01, 0\.5\].*own\.ini:10' \
  -- check m_own.ini

tpl hostdef $'[defaults.train]\nepochs = 20000'
expect "a host default outside the base range" 2 \
  'hostdef\.ini:7: \[train\] epochs: 20000 is outside the allowed range \[1, 10000\]' \
  -- check m_hostdef.ini

tpl excl $'[ranges.train]\nepochs = 1 .. 20'
expect "a range leaving out the inherited default" 2 \
  "tabular-classification\.ini:$(line_of '^epochs = 50' "$base"): \[train\] epochs: 50 is outside the allowed range \[1, 20\].*excl\.ini:7" \
  -- check m_excl.ini
finish
