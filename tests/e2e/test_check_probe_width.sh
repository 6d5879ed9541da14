#!/usr/bin/env bash
# `keel check` probes the model's create with the input width the declared
# schemas give, not a fixed 1: a model that refuses one input (the fixture
# wide_only, tests/plugins/refuses_one_input.c) checks green on iris's four
# features. Where the width is known only after fit (onehot), the probe's
# placeholder width is said in the message.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the test plugins}"
P=$KEEL_BROKEN_DIR/refuses_one_input.so
[[ -f $P ]] || bail "fixture $P is not built"

# A template that also allows wide_only, beside the manifests.
mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
sed 's/^allow = softmax >=1 <2/allow = wide_only >=1 <2, softmax >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" \
  >"$T/m/templates/tabular-classification.ini"
grep -q wide_only "$T/m/templates/tabular-classification.ini" ||
  bail "the template's model allow list was not extended"
cp "$KEEL_SRC/manifests/iris.ini" "$KEEL_SRC/manifests/penguins.ini" "$T/m/"

# Four numeric features reach the model: the probe builds it for 4.
krun check "$T/m/iris.ini" --plugin-path "$P" model.plugin=wide_only
((RC == 0)) && ok || fail "check iris with wide_only: exit $RC: $(cat "$T/err")"
has "check iris with wide_only" "model input: 4 numeric features"

# The same model behind a onehot of one column: the width is known only
# after fit; a refusal names the placeholder the probe used.
cat >"$T/m/one_group.ini" <<'INI'
[keel]
template = tabular-classification
template_version = >=1.0 <2

[data]
label = species

[source]
plugin = csv
path = data/penguins.csv
missing = NA, .

[transform.pick]
plugin = select
columns = island

[transform.island]
plugin = onehot
columns = island

[model]
plugin = wide_only

[loss]
plugin = xent

[optimizer]
plugin = sgd
INI
krun check "$T/m/one_group.ini" --plugin-path "$P"
if ((RC != 2)); then
  fail "check one onehot group: exit $RC (expected 2): $(cat "$T/err")"
else
  has_err "check one onehot group" "[model] wide_only" "placeholder"
fi

# Penguins with wide_only: 4 numeric columns and 2 onehot groups; the
# placeholder (one column per group) is wide enough.
krun check "$T/m/penguins.ini" --plugin-path "$P" model.plugin=wide_only
((RC == 0)) && ok || fail "check penguins with wide_only: $(cat "$T/err")"

finish
