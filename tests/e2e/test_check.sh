#!/usr/bin/env bash
# `keel check`: the shipped manifest checks green with every value's
# origin; overrides are applied and recorded; every bad input of the
# manifest/template reference fails with exit 2, a FILE:LINE message on
# stderr, nothing on stdout and nothing written; plugin and template search
# paths are honoured in their documented order.
set -euo pipefail
: "${KEEL:?}" "${KEEL_SRC:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
unset KEEL_PLUGIN_PATH KEEL_TEMPLATE_PATH
failures=0
passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }

# Fixtures are copied so that "nothing written" can be checked.
FX=$KEEL_TMP/fx
cp -r "$KEEL_SRC/tests/data/manifests" "$FX"
snapshot() { (cd "$FX" && find . -printf '%p %s %T@\n' | sort); }
before=$(snapshot)

# expect_ok LABEL ARGS... : exit 0; stdout kept in $KEEL_TMP/out
expect_ok() {
  local label=$1
  shift
  local rc=0
  "$KEEL" check "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  if ((rc != 0)); then
    fail "$label: exit $rc: $(cat "$KEEL_TMP/err")"
    return 1
  fi
  ok
}

# has LABEL FIXED-STRING : stdout of the last command contains it
has() {
  if grep -qF -- "$2" "$KEEL_TMP/out"; then ok; else fail "$1: stdout lacks '$2'"; fi
}

# expect_bad LABEL WANT ARGS... : exit 2, stderr contains WANT, stdout empty
expect_bad() {
  local label=$1 want=$2
  shift 2
  local rc=0
  "$KEEL" check "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  if ((rc != 2)); then
    fail "$label: exit $rc, expected 2 ($(cat "$KEEL_TMP/err"))"
  elif ! grep -qF -- "$want" "$KEEL_TMP/err"; then
    fail "$label: stderr '$(cat "$KEEL_TMP/err")' lacks '$want'"
  elif [[ -s $KEEL_TMP/out ]]; then
    fail "$label: wrote to stdout: $(head -c 200 "$KEEL_TMP/out")"
  else
    ok
  fi
}

# --- the shipped manifest ---------------------------------------------------
if expect_ok "iris" "$KEEL_SRC/manifests/iris.ini"; then
  has iris "template  tabular-classification 1.0.0 (classification)"
  has iris "optimizer.lr"
  has iris "(manifest iris.ini:30)"
  has iris "(template tabular-classification.ini:"
  has iris "(default)"
  has iris "sha256:"
  has iris "/sgd.so"
  has iris "model input: 4 numeric features"
  has iris "ok: $KEEL_SRC/manifests/iris.ini is valid"
  grep -E '^  optimizer\.lr +.*= 0\.1 +\(manifest iris\.ini:30\)$' "$KEEL_TMP/out" >/dev/null &&
    ok || fail "iris: optimizer.lr line not as documented"
fi
# Every shipped manifest checks green.
for m in "$KEEL_SRC"/manifests/*.ini; do
  expect_ok "shipped $(basename "$m")" "$m" || true
done

# --- overrides ----------------------------------------------------------------
cd "$FX"
if expect_ok "overrides" good.ini optimizer.lr=0.01 model.plugin=mlp \
  transform.scale.with_mean=false train.epochs=5; then
  has overrides "overrides optimizer.lr=0.01 model.plugin=mlp transform.scale.with_mean=false train.epochs=5"
  grep -E '^  optimizer\.lr +.*= 0\.01 +\(command line\)$' "$KEEL_TMP/out" >/dev/null && ok ||
    fail "overrides: optimizer.lr not from the command line"
  grep -E '^\[model\] mlp 1\.' "$KEEL_TMP/out" >/dev/null && ok || fail "overrides: model not swapped"
  grep -E '^  transform\.scale\.with_mean +.*= false +\(command line\)$' "$KEEL_TMP/out" >/dev/null &&
    ok || fail "overrides: with_mean"
  grep -E '^  train\.epochs +.*= 5 +\(command line\)$' "$KEEL_TMP/out" >/dev/null && ok ||
    fail "overrides: epochs"
fi

# --- JSON -----------------------------------------------------------------------
if expect_ok "json" good.ini optimizer.lr=0.02 --json; then
  if command -v jq >/dev/null; then
    [[ $(jq -r '.valid' "$KEEL_TMP/out") == true ]] && ok || fail "json: valid"
    [[ $(jq -r '.stages[] | select(.section=="optimizer") | .params[] | select(.name=="lr") | .origin' "$KEEL_TMP/out") == override ]] &&
      ok || fail "json: lr origin"
    [[ $(jq -r '.stages[] | select(.section=="optimizer") | .plugin.sha256' "$KEEL_TMP/out" | wc -c) == 65 ]] &&
      ok || fail "json: sha256"
    [[ $(jq -r '.stages[] | select(.section=="train") | .params[] | select(.name=="epochs") | .where' "$KEEL_TMP/out") == test-classification.ini:35 ]] &&
      ok || fail "json: template where"
    [[ $(jq -r '.template.name' "$KEEL_TMP/out") == test-classification ]] && ok || fail "json: template"
    [[ $(jq -r '.overrides[0]' "$KEEL_TMP/out") == optimizer.lr=0.02 ]] && ok || fail "json: overrides"
  else
    has json '"valid": true'
  fi
fi

# --- every bad input: FILE:LINE, exit 2, nothing on stdout -------------------
expect_bad "ini syntax" "bad_syntax.ini:25: expected \`key = value\`" bad_syntax.ini
expect_bad "unknown section" "bad_unknown_section.ini:23: [optimiser]: unknown section; did you mean [optimizer]?" bad_unknown_section.ini
expect_bad "unknown key" "bad_unknown_key.ini:25: [optimizer] key 'lrr' is not a parameter of sgd; did you mean 'lr'?" bad_unknown_key.ini
expect_bad "missing slot" "bad_missing_slot.ini:2: missing required slot [model]" bad_missing_slot.ini
expect_bad "wrong type" "bad_wrong_type.ini:28: [train] batch_size: 'eight' is not an integer; expected an integer" bad_wrong_type.ini
expect_bad "wrong bool" "bad_bool.ini:15: [transform.scale] with_std:" bad_bool.ini
expect_bad "out of range" "bad_out_of_range.ini:25: [optimizer] lr: 50 is outside the allowed range" bad_out_of_range.ini
expect_bad "template range" "bad_template_range.ini:25: [optimizer] lr: 5 is outside the allowed range [0.0001, 1], as narrowed by template" bad_template_range.ini
expect_bad "template enum" "bad_enum_narrowed.ini:19: [model] activation: 'gelu' is not allowed by template" bad_enum_narrowed.ini
expect_bad "template version" "bad_template_version.ini:4: [keel] template_version: template test-classification is version 1.2.0" bad_template_version.ini
expect_bad "plugin version" "bad_plugin_version.ini:24: [optimizer] plugin: adam version 1.0.0 is outside the template's range" bad_plugin_version.ini
expect_bad "not allowed" "bad_not_allowed.ini:18: [model] plugin: plugin 'logistic' is not allowed by template" bad_not_allowed.ini
expect_bad "not found" "bad_not_found.ini:18: [model] plugin: no model plugin named 'sofmax' on the plugin path; did you mean 'softmax'?" bad_not_found.ini
expect_bad "required" "bad_required.ini:9: [source] path: required parameter of csv is not set" bad_required.ini
expect_bad "no label" "bad_no_label.ini:6: [data] label: required parameter" bad_no_label.ini
expect_bad "task" "bad_task.ini:18: [loss] plugin: mse does not support the template's task classification" bad_task.ini
expect_bad "wide template" "test-wide.ini:20: [ranges.optimizer.sgd] lr: 0.001 .. 100 is wider than sgd's range" bad_wide_template.ini
expect_bad "template missing" "bad_template_missing.ini:3: [keel] template: template 'no-such-template' not found" bad_template_missing.ini
expect_bad "transform name" "bad_transform_name.ini:13: [transfrom.scale]: unknown section; did you mean [transform.scale]?" bad_transform_name.ini
expect_bad "duplicate key" "bad_duplicate_key.ini:26: [optimizer] lr: key set twice (first at line 25)" bad_duplicate_key.ini
# libinih traps
expect_bad "long line + evil key" "bad_long_line.ini:26: line too long (242 bytes); max 199" bad_long_line.ini
expect_bad "bare CR" "bad_bare_cr.ini:1: carriage return without line feed" bad_bare_cr.ini
expect_bad "long section" "bad_long_section.ini:27: section name too long" bad_long_section.ini
expect_bad "unterminated section" "bad_unterminated.ini:27: unterminated section header" bad_unterminated.ini
expect_bad "continuation" "bad_continuation.ini:26: indented line; continuation lines are not supported" bad_continuation.ini
printf '[keel]\ntemplate = test-classification\x00\n' >"$KEEL_TMP/nul.ini"
expect_bad "NUL byte" "nul.ini:2: NUL byte" "$KEEL_TMP/nul.ini"

# Bad overrides.
expect_bad "override range" "command line: override 'optimizer.lr=50': [optimizer] lr: 50 is outside" good.ini optimizer.lr=50
expect_bad "override template range" "override 'train.epochs=2000': [train] epochs: 2000 is outside the allowed range [1, 1000], as narrowed by template" good.ini train.epochs=2000
expect_bad "override key" "[optimizer] key 'lrr' is not a parameter of sgd; did you mean 'lr'?" good.ini optimizer.lrr=1
expect_bad "override type" "override 'train.epochs=ten': [train] epochs: 'ten' is not an integer" good.ini train.epochs=ten
expect_bad "override plugin" "override 'model.plugin=linear': [model] plugin: plugin 'linear' is not allowed" good.ini model.plugin=linear
expect_bad "override section" "has no [transform.x] section" good.ini transform.x.with_mean=false
expect_bad "override twice" "optimizer.lr given twice" good.ini optimizer.lr=0.1 optimizer.lr=0.2

# Usage.
expect_bad "no manifest" "no manifest given" --json
expect_bad "two manifests" "expected one manifest" good.ini good.ini
expect_bad "unknown option" "unknown option '--frobnicate'" good.ini --frobnicate
expect_bad "missing manifest" "nope.ini: cannot open" nope.ini
expect_bad "manifest is a folder" "templates: cannot read" templates
expect_bad "bad plugin path" "/nonexistent-plugins" good.ini --plugin-path /nonexistent-plugins

# --json on failure: the error as JSON on stdout too, still exit 2.
rc=0
"$KEEL" check bad_unknown_key.ini --json >"$KEEL_TMP/out" 2>/dev/null || rc=$?
((rc == 2)) && grep -qF '"valid": false' "$KEEL_TMP/out" && ok || fail "json failure output"

# Nothing written anywhere in the fixture folder.
[[ $(snapshot) == "$before" ]] && ok || fail "check wrote into the manifest folder"

# --- search paths ---------------------------------------------------------------
# Template path: KEEL_TEMPLATE_PATH first, then <manifest dir>/templates.
mkdir -p "$KEEL_TMP/tp" "$KEEL_TMP/m"
sed 's/^version = 1.2.0/version = 1.3.0/' "$FX/templates/test-classification.ini" >"$KEEL_TMP/tp/test-classification.ini"
sed 's#^path = .*#path = ../fx/data/iris.csv#' "$FX/good.ini" >"$KEEL_TMP/m/good.ini"
if KEEL_TEMPLATE_PATH=$KEEL_TMP/tp expect_ok "KEEL_TEMPLATE_PATH" "$KEEL_TMP/m/good.ini"; then
  has KEEL_TEMPLATE_PATH "test-classification 1.3.0"
fi
expect_bad "template not on path" "template 'test-classification' not found" "$KEEL_TMP/m/good.ini"
# Template given as a path relative to the manifest.
sed -i 's#^template = .*#template = ../fx/templates/test-classification.ini#' "$KEEL_TMP/m/good.ini"
expect_ok "template path" "$KEEL_TMP/m/good.ini" && has "template path" "test-classification 1.2.0"

# Plugin path order: --plugin-path, KEEL_PLUGIN_PATH, the manifest's
# plugin_path, then the built-in folders. A copy earlier on the path wins.
PLUG=$(dirname "$(grep -oE '/[^ ]*/sgd\.so' <<<"$("$KEEL" plugins sgd)" | head -1)")
mkdir -p "$KEEL_TMP/m/extra" "$KEEL_TMP/env" "$KEEL_TMP/cli"
for d in "$KEEL_TMP/m/extra" "$KEEL_TMP/env" "$KEEL_TMP/cli"; do cp "$PLUG/sgd.so" "$d/"; done
sed -i 's#^\[keel\]$#[keel]\nplugin_path = extra#' "$KEEL_TMP/m/good.ini"
expect_ok "manifest plugin_path" "$KEEL_TMP/m/good.ini" && has "manifest plugin_path" "$KEEL_TMP/m/extra/sgd.so"
KEEL_PLUGIN_PATH=$KEEL_TMP/env expect_ok "KEEL_PLUGIN_PATH" "$KEEL_TMP/m/good.ini" &&
  has "KEEL_PLUGIN_PATH" "$KEEL_TMP/env/sgd.so"
KEEL_PLUGIN_PATH=$KEEL_TMP/env expect_ok "--plugin-path" "$KEEL_TMP/m/good.ini" --plugin-path "$KEEL_TMP/cli" &&
  has "--plugin-path" "$KEEL_TMP/cli/sgd.so"
KEEL_PLUGIN_PATH=$KEEL_TMP/env expect_ok "--plugin-path=" "$KEEL_TMP/m/good.ini" "--plugin-path=$KEEL_TMP/cli" &&
  has "--plugin-path=" "$KEEL_TMP/cli/sgd.so"

echo "test_check: $passed passed, $failures failed"
((failures == 0))
