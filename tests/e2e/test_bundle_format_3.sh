#!/usr/bin/env bash
# Issue 12: keel-bundle/3 seals the whole chain of templates a run was
# resolved against (docs/bundle-format.md): each template file's bytes
# (templates/NAME.ini) and SHA-256, in order, in templates.json. `show`
# lists the chain, `verify` checks each template's hash, `replay` uses the
# sealed chain (not a same-named template on the template path), and the
# result digest is format 2's rule unchanged.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
cat >derived.ini <<'INI'
[template]
name = iris-derived
version = 1.0.0
extends = tabular-classification >=1 <2

[slot.transform]
allow = clip >=1 <2

[ranges.optimizer.sgd]
lr = 0.01 .. 0.5
INI
sed 's/^template = .*/template = derived.ini/; s/^template_version = .*/template_version = 1/' iris.ini >d.ini
sed -i 's/^train.epochs.*//; s/^epochs = 50/epochs = 3/' d.ini

seal d.ini --out "$T/runs" || bail "a run on a derived template"
D=$B
krun show "$D" --json
json_value "$T/out" 'd["run"]["format"]' >"$T/fmt"
[[ $(cat "$T/fmt") == keel-bundle/3 ]] && ok || fail "format: $(cat "$T/fmt")"
expect "show lists the chain" 0 'iris-derived 1\.0\.0' -- show "$D"
has "show lists the base" "tabular-classification 1.0.0"
krun show "$D" --json
json_value "$T/out" '[t["name"] for t in d["templates"]]' >"$T/chain"
[[ $(cat "$T/chain") == '["iris-derived","tabular-classification"]' ]] && ok ||
  fail "show --json templates: $(cat "$T/chain")"
mkdir "$T/x" && tar xzf "$D" -C "$T/x"
top=$(ls "$T/x")
cmp "$T/x/$top/templates/iris-derived.ini" derived.ini && ok || fail "derived template not sealed as is"
cmp "$T/x/$top/templates/tabular-classification.ini" \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" && ok || fail "base template not sealed as is"
want=$(sha256sum derived.ini | cut -d' ' -f1)
got=$(json_value "$T/x/$top/templates.json" 'd["chain"][0]["sha256"]')
[[ $want == "$got" ]] && ok || fail "templates.json sha256 $got, expected $want"
expect "verify" 0 'ok' -- verify "$D"
# the bundle's own README describes format 3: the chain and its hashes
for want in 'format: keel-bundle/3' 'templates/' 'templates.json'; do
  grep -qF "$want" "$T/x/$top/README.md" && ok || fail "README.md lacks '$want'"
done

# a forger who edits a template and re-seals SHA256SUMS: templates.json
# still names the old hash
reseal "$D" "$T/forged.tar.gz" 'k=[n for n in files if n.endswith("templates/tabular-classification.ini")][0]; files[k] = files[k].replace(b"min_rows = 50", b"min_rows = 5")'
expect "verify: a template's hash" 3 'tabular-classification.*sha256|templates\.json' -- verify "$T/forged.tar.gz"

# replay uses the sealed chain even when the template path has another base
mkdir -p "$T/other"
sed 's/min_rows = 50/min_rows = 100000/' "$KEEL_SRC/manifests/templates/tabular-classification.ini" \
  >"$T/other/tabular-classification.ini"
KEEL_TEMPLATE_PATH=$T/other expect "replay with the sealed chain" 0 'REPRODUCED' -- replay "$D" --out "$T/replays"

# the same run on the shipped template: one digest rule for 2 and 3
seal iris.ini --out "$T/runs" train.epochs=3 || bail "iris"
krun show "$B" --json
json_value "$T/out" '[t["name"] for t in d["templates"]]' >"$T/chain"
[[ $(cat "$T/chain") == '["tabular-classification"]' ]] && ok || fail "chain of one: $(cat "$T/chain")"
# format-2 golden bundles still replay to REPRODUCED with a format-3 keel
# (with their own plugin builds, trusted: another build type or a rebuilt
# built-in has other binary hashes, as in test_golden)
expect "golden /2 replays" 0 'REPRODUCED' -- replay "$KEEL_SRC/tests/data/golden/2/iris.tar.gz" \
  --out "$T/replays" --trust-bundled-plugins
expect "golden /2 verifies" 0 '' -- verify "$KEEL_SRC/tests/data/golden/2/iris.tar.gz"
finish
