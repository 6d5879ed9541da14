#!/usr/bin/env bash
# Issue 12, "Third-party plugins without forking a template": a template may
# extend another ([template] extends = NAME RANGE, found like a manifest's
# template, its own folder first). A derived template adds plugins to a
# slot, narrows ranges and adds checks; a widening is refused (exit 2,
# naming both files and lines); chains of several levels work; a cycle or a
# missing base is an error naming the chain; `keel check` says which
# template file and line each rule came from (text and --json).
. "$(dirname "$0")/lib.sh"
shipped_manifests
mkdir -p "$T/m/tpl"
cd "$T/m"

cat >tpl/base.ini <<'INI'
[template]
name = base
version = 1.2.0
task = classification

[slot.source]
allow = csv >=1 <2

[slot.transform]
allow = standardize >=1 <2

[slot.model]
allow = softmax >=1 <2

[slot.loss]
allow = xent >=1 <2

[slot.optimizer]
allow = sgd >=1 <2

[contract]
features = numeric
missing = forbidden
finite = required

[checks]
min_rows = 50
max_missing_fraction = 0.5

[ranges.optimizer.sgd]
lr = 0.001 .. 0.5
INI

# line numbers below are part of the expected messages
cat >tpl/derived.ini <<'INI'
[template]
name = derived
version = 1.0.0
extends = base >=1.2 <2

[slot.transform]
allow = minmax >=1 <2

[checks]
min_class_count = 5

[ranges.optimizer.sgd]
lr = 0.01 .. 0.2
INI

manifest() { # FILE TEMPLATE TRANSFORM LR
  cat >"$1" <<INI
[keel]
template = $2
template_version = >=1 <2

[data]
label = species

[source]
plugin = csv
path = data/iris.csv

[transform.scale]
plugin = $3

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = sgd
lr = $4

[train]
epochs = 2
INI
}

# ---- a derived template adds a plugin; the base's still apply -------------
manifest d.ini tpl/derived.ini minmax 0.1
expect "check: derived template adds minmax" 0 'is valid' -- check d.ini
has "check names the chain" "derived 1.0.0" "base 1.2.0"
# each rule with the template file and line it came from
grep -E 'allow.*minmax.*derived\.ini:7' "$T/out" >/dev/null && ok ||
  { fail "check does not say minmax's allow came from derived.ini:7"; show_output; }
grep -E 'allow.*csv.*base\.ini:7' "$T/out" >/dev/null && ok ||
  { fail "check does not say csv's allow came from base.ini:7"; show_output; }
grep -E 'lr.*0\.01 \.\. 0\.2.*derived\.ini:13' "$T/out" >/dev/null && ok ||
  { fail "check does not say sgd's lr range came from derived.ini:13"; show_output; }
grep -E 'min_rows.*50.*base\.ini:27' "$T/out" >/dev/null && ok ||
  { fail "check does not say min_rows came from base.ini:27"; show_output; }
grep -E 'min_class_count.*5.*derived\.ini:10' "$T/out" >/dev/null && ok ||
  { fail "check does not say min_class_count came from derived.ini:10"; show_output; }
manifest b.ini tpl/derived.ini standardize 0.1
expect "check: the base's own plugin still allowed" 0 'is valid' -- check b.ini

krun check d.ini --json
((RC == 0)) && ok || fail "check --json exit $RC"
json_value "$T/out" '[t["name"] for t in d["template"]["chain"]]' >"$T/chain"
[[ $(cat "$T/chain") == '["derived","base"]' ]] && ok ||
  fail "check --json template.chain: $(cat "$T/chain")"
json_value "$T/out" '[r for r in d["rules"] if r["rule"].startswith("allow transform minmax")][0]["line"]' >"$T/line"
[[ $(cat "$T/line") == 7 ]] && ok || fail "check --json rules: minmax line $(cat "$T/line")"
json_value "$T/out" '[r for r in d["rules"] if r["rule"].startswith("allow source csv")][0]["file"]' >"$T/file"
[[ $(cat "$T/file") == */tpl/base.ini ]] && ok || fail "check --json rules: csv file $(cat "$T/file")"

# ---- the narrowed range applies, and names the derived file --------------
manifest r.ini tpl/derived.ini minmax 0.3
expect "lr outside the derived range" 2 'derived\.ini:13' -- check r.ini
# a plugin neither template allows
sed 's/plugin = sgd/plugin = adam/; s/^lr = .*//' d.ini >a.ini
expect "adam is in neither allow list" 2 'not allowed' -- check a.ini

# ---- widenings are refused, naming both files and lines -------------------
widen() { # NAME SECTION KEY VALUE
  cat >"tpl/$1.ini" <<INI
[template]
name = $1
version = 1.0.0
extends = base >=1 <2

[$2]
$3 = $4
INI
  manifest "$1.m.ini" "tpl/$1.ini" standardize 0.1
}
widen wide-range ranges.optimizer.sgd lr "0.0001 .. 0.2"
expect "a wider lr range" 2 'wide-range\.ini:7.*base\.ini:31|base\.ini:31.*wide-range\.ini:7' -- check wide-range.m.ini
widen wide-rows checks min_rows 10
expect "a smaller min_rows" 2 'wide-rows\.ini:7.*base\.ini:27|base\.ini:27.*wide-rows\.ini:7' -- check wide-rows.m.ini
widen wide-missing checks max_missing_fraction 0.9
expect "a larger max_missing_fraction" 2 'wide-missing\.ini:7.*base\.ini:28' -- check wide-missing.m.ini
widen wide-contract contract missing allowed
expect "a contract dropped" 2 'wide-contract\.ini:7.*base\.ini:23' -- check wide-contract.m.ini
cat >tpl/wide-task.ini <<'INI'
[template]
name = wide-task
version = 1.0.0
task = regression
extends = base >=1 <2
INI
manifest wide-task.m.ini tpl/wide-task.ini standardize 0.1
expect "another task than the base's" 2 'wide-task\.ini:4.*base\.ini:4' -- check wide-task.m.ini

# ---- three levels ---------------------------------------------------------
cat >tpl/grand.ini <<'INI'
[template]
name = grand
version = 2.0.0
extends = derived 1

[slot.transform]
allow = clip >=1 <2

[ranges.optimizer.sgd]
lr = 0.05 .. 0.1

[defaults.optimizer.sgd]
lr = 0.08
INI
sed 's#tpl/derived.ini#tpl/grand.ini#; s/template_version = .*/template_version = 2/; s/plugin = minmax/plugin = clip/' d.ini >g.ini
expect "three levels: clip from grand, csv from base" 0 'is valid' -- check g.ini
has "three levels named" "grand 2.0.0" "derived 1.0.0" "base 1.2.0"
sed -i 's/^lr = 0.1/lr = 0.15/' g.ini
expect "three levels: the nearest range applies" 2 'grand\.ini:10' -- check g.ini

# ---- a missing base, a base outside the range, a cycle --------------------
cat >tpl/orphan.ini <<'INI'
[template]
name = orphan
version = 1.0.0
extends = no-such-template >=1 <2
INI
manifest orphan.m.ini tpl/orphan.ini standardize 0.1
expect "a missing base" 2 'orphan\.ini:4.*no-such-template.*not found' -- check orphan.m.ini
sed -i 's/no-such-template >=1 <2/base >=2/' tpl/orphan.ini
expect "a base outside the range" 2 'orphan\.ini:4.*base.*1\.2\.0.*>=2' -- check orphan.m.ini
for x in one two; do
  y=$([[ $x == one ]] && echo two || echo one)
  cat >"tpl/cyc-$x.ini" <<INI
[template]
name = cyc-$x
version = 1.0.0
extends = cyc-$y 1
INI
done
manifest cyc.m.ini tpl/cyc-one.ini standardize 0.1
expect "a cycle" 2 'cycle.*cyc-one.*cyc-two.*cyc-one' -- check cyc.m.ini
printf '[template]\nname = bad-ext\nversion = 1.0.0\nextends = base\n' >tpl/bad-ext.ini
manifest bad-ext.m.ini tpl/bad-ext.ini standardize 0.1
expect "extends without a range" 2 'bad-ext\.ini:4.*expected.*NAME RANGE' -- check bad-ext.m.ini

# ---- the shipped example in sdk/template extends the shipped template ----
cp "$KEEL_SRC/sdk/template/tabular-classification-clamp.ini" templates-clamp.ini 2>/dev/null &&
  ok || fail "sdk/template/tabular-classification-clamp.ini is missing"
grep -q '^extends = tabular-classification ' templates-clamp.ini && ok ||
  fail "the SDK example does not extend tabular-classification"
finish
