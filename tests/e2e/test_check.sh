#!/usr/bin/env bash
# `keel check`: the shipped manifest checks green with every value's
# origin; overrides are applied and recorded; every bad input of the
# manifest/template reference fails with exit 2, a FILE:LINE message on
# stderr, nothing on stdout and nothing written; plugin and template search
# paths are honoured in their documented order.
. "$(dirname "$0")/lib.sh"

# Fixtures are copied so that "nothing written" can be checked.
FX=$T/fx
cp -r "$KEEL_SRC/tests/data/manifests" "$FX"
snapshot() { (cd "$FX" && find . -printf '%p %s %T@\n' | sort); }
before=$(snapshot)

# valid LABEL ARGS... : `keel check ARGS` exits 0 (stdout in $T/out);
# returns 1 otherwise, so the checks of its output can be skipped.
valid() {
  local label=$1
  shift
  krun check "$@"
  if ((RC != 0)); then
    fail "$label: exit $RC: $(cat "$T/err")"
    return 1
  fi
  ok
}

# invalid LABEL WANT ARGS... : exit 2, stderr contains WANT, stdout empty
invalid() {
  local label=$1 want=$2
  shift 2
  krun check "$@"
  if ((RC != 2)); then
    fail "$label: exit $RC, expected 2 ($(cat "$T/err"))"
  elif ! grep -qF -- "$want" "$T/err"; then
    fail "$label: stderr '$(cat "$T/err")' lacks '$want'"
  elif [[ -s $T/out ]]; then
    fail "$label: wrote to stdout: $(head -c 200 "$T/out")"
  else
    ok
  fi
}

# --- the shipped manifest ---------------------------------------------------
if valid "iris" "$KEEL_SRC/manifests/iris.ini"; then
  has iris "template  tabular-classification 1.0.0 (classification)" \
    "optimizer.lr" "(manifest iris.ini:31)" "(template tabular-classification.ini:" \
    "(default)" "sha256:" "/sgd.so" "model input: 4 numeric features" \
    "ok: $KEEL_SRC/manifests/iris.ini is valid"
  grep -E '^  optimizer\.lr +.*= 0\.1 +\(manifest iris\.ini:31\)$' "$T/out" >/dev/null &&
    ok || fail "iris: optimizer.lr line not as documented"
fi
# Every shipped manifest checks green.
for m in "$KEEL_SRC"/manifests/*.ini; do
  valid "shipped $(basename "$m")" "$m" || true
done

# --- overrides ----------------------------------------------------------------
cd "$FX"
if valid "overrides" good.ini optimizer.lr=0.01 model.plugin=mlp \
  transform.scale.with_mean=false train.epochs=5; then
  has overrides "overrides optimizer.lr=0.01 model.plugin=mlp transform.scale.with_mean=false train.epochs=5"
  grep -E '^  optimizer\.lr +.*= 0\.01 +\(command line\)$' "$T/out" >/dev/null && ok ||
    fail "overrides: optimizer.lr not from the command line"
  grep -E '^\[model\] mlp 1\.' "$T/out" >/dev/null && ok || fail "overrides: model not swapped"
  grep -E '^  transform\.scale\.with_mean +.*= false +\(command line\)$' "$T/out" >/dev/null &&
    ok || fail "overrides: with_mean"
  grep -E '^  train\.epochs +.*= 5 +\(command line\)$' "$T/out" >/dev/null && ok ||
    fail "overrides: epochs"
fi

# --- JSON -----------------------------------------------------------------------
if valid "json" good.ini optimizer.lr=0.02 --json; then
  [[ $(json_value "$T/out" 'd["valid"]') == true ]] && ok || fail "json: valid"
  [[ $(json_value "$T/out" '[p["origin"] for s in d["stages"] if s["section"] == "optimizer"
                            for p in s["params"] if p["name"] == "lr"]') == '["override"]' ]] &&
    ok || fail "json: lr origin"
  [[ $(json_value "$T/out" '[len(s["plugin"]["sha256"]) for s in d["stages"] if s["section"] == "optimizer"]') == '[64]' ]] &&
    ok || fail "json: sha256"
  [[ $(json_value "$T/out" '[p["where"] for s in d["stages"] if s["section"] == "train"
                            for p in s["params"] if p["name"] == "epochs"]') == '["test-classification.ini:35"]' ]] &&
    ok || fail "json: template where"
  [[ $(json_value "$T/out" 'd["template"]["name"]') == test-classification ]] && ok || fail "json: template"
  [[ $(json_value "$T/out" 'd["overrides"][0]') == optimizer.lr=0.02 ]] && ok || fail "json: overrides"
fi

# --- every bad input: FILE:LINE, exit 2, nothing on stdout -------------------
invalid "ini syntax" "bad_syntax.ini:25: expected \`key = value\`" bad_syntax.ini
invalid "unknown section" "bad_unknown_section.ini:23: [optimiser]: unknown section; did you mean [optimizer]?" bad_unknown_section.ini
invalid "unknown key" "bad_unknown_key.ini:25: [optimizer] key 'lrr' is not a parameter of sgd; did you mean 'lr'?" bad_unknown_key.ini
invalid "missing slot" "bad_missing_slot.ini:2: missing required slot [model]" bad_missing_slot.ini
invalid "wrong type" "bad_wrong_type.ini:28: [train] batch_size: 'eight' is not an integer; expected an integer" bad_wrong_type.ini
invalid "wrong bool" "bad_bool.ini:15: [transform.scale] with_std:" bad_bool.ini
invalid "out of range" "bad_out_of_range.ini:25: [optimizer] lr: 50 is outside the allowed range" bad_out_of_range.ini
invalid "template range" "bad_template_range.ini:25: [optimizer] lr: 5 is outside the allowed range [0.0001, 1], as narrowed by template" bad_template_range.ini
invalid "template enum" "bad_enum_narrowed.ini:19: [model] activation: 'gelu' is not allowed by template" bad_enum_narrowed.ini
invalid "template version" "bad_template_version.ini:4: [keel] template_version: template test-classification is version 1.2.0" bad_template_version.ini
invalid "plugin version" "bad_plugin_version.ini:24: [optimizer] plugin: adam version 1.0.0 is outside the template's range" bad_plugin_version.ini
invalid "not allowed" "bad_not_allowed.ini:18: [model] plugin: plugin 'logistic' is not allowed by template" bad_not_allowed.ini
invalid "not found" "bad_not_found.ini:18: [model] plugin: no model plugin named 'sofmax' on the plugin path; did you mean 'softmax'?" bad_not_found.ini
invalid "required" "bad_required.ini:9: [source] path: required parameter of csv is not set" bad_required.ini
invalid "no label" "bad_no_label.ini:6: [data] label: required parameter" bad_no_label.ini
invalid "task" "bad_task.ini:18: [loss] plugin: mse does not support the template's task classification" bad_task.ini
invalid "wide template" "test-wide.ini:20: [ranges.optimizer.sgd] lr: 0.001 .. 100 is wider than sgd's range" bad_wide_template.ini
invalid "template missing" "bad_template_missing.ini:3: [keel] template: template 'no-such-template' not found" bad_template_missing.ini
invalid "transform name" "bad_transform_name.ini:13: [transfrom.scale]: unknown section; did you mean [transform.scale]?" bad_transform_name.ini
invalid "duplicate key" "bad_duplicate_key.ini:26: [optimizer] lr: key set twice (first at line 25)" bad_duplicate_key.ini
# libinih traps
invalid "long line + evil key" "bad_long_line.ini:26: line too long (242 bytes); max 199" bad_long_line.ini
invalid "bare CR" "bad_bare_cr.ini:1: carriage return without line feed" bad_bare_cr.ini
invalid "long section" "bad_long_section.ini:27: section name too long" bad_long_section.ini
invalid "unterminated section" "bad_unterminated.ini:27: unterminated section header" bad_unterminated.ini
invalid "continuation" "bad_continuation.ini:26: indented \`momentum = ...\` line" bad_continuation.ini
printf '[keel]\ntemplate = test-classification\x00\n' >"$T/nul.ini"
invalid "NUL byte" "nul.ini:2: NUL byte" "$T/nul.ini"

# Bad overrides.
invalid "override range" "command line: override 'optimizer.lr=50': [optimizer] lr: 50 is outside" good.ini optimizer.lr=50
invalid "override template range" "override 'train.epochs=2000': [train] epochs: 2000 is outside the allowed range [1, 1000], as narrowed by template" good.ini train.epochs=2000
invalid "override key" "[optimizer] key 'lrr' is not a parameter of sgd; did you mean 'lr'?" good.ini optimizer.lrr=1
invalid "override type" "override 'train.epochs=ten': [train] epochs: 'ten' is not an integer" good.ini train.epochs=ten
invalid "override plugin" "override 'model.plugin=linear': [model] plugin: plugin 'linear' is not allowed" good.ini model.plugin=linear
invalid "override section" "has no [transform.x] section" good.ini transform.x.with_mean=false
invalid "override twice" "optimizer.lr given twice" good.ini optimizer.lr=0.1 optimizer.lr=0.2

# Usage.
invalid "no manifest" "no manifest given" --json
invalid "two manifests" "expected one manifest" good.ini good.ini
invalid "unknown option" "unknown option '--frobnicate'" good.ini --frobnicate
invalid "missing manifest" "nope.ini: cannot open" nope.ini
invalid "manifest is a folder" "templates: cannot read" templates
invalid "bad plugin path" "/nonexistent-plugins" good.ini --plugin-path /nonexistent-plugins

# --json on failure: the error as JSON on stdout too, still exit 2.
krun check bad_unknown_key.ini --json
((RC == 2)) && grep -qF '"valid": false' "$T/out" && ok || fail "json failure output"

# Nothing written anywhere in the fixture folder.
[[ $(snapshot) == "$before" ]] && ok || fail "check wrote into the manifest folder"

# --- search paths ---------------------------------------------------------------
# Template path: KEEL_TEMPLATE_PATH first, then <manifest dir>/templates.
mkdir -p "$T/tp" "$T/m"
sed 's/^version = 1.2.0/version = 1.3.0/' "$FX/templates/test-classification.ini" >"$T/tp/test-classification.ini"
sed 's#^path = .*#path = ../fx/data/iris.csv#' "$FX/good.ini" >"$T/m/good.ini"
if KEEL_TEMPLATE_PATH=$T/tp valid "KEEL_TEMPLATE_PATH" "$T/m/good.ini"; then
  has KEEL_TEMPLATE_PATH "test-classification 1.3.0"
fi
invalid "template not on path" "template 'test-classification' not found" "$T/m/good.ini"
# Template given as a path relative to the manifest.
sed -i 's#^template = .*#template = ../fx/templates/test-classification.ini#' "$T/m/good.ini"
valid "template path" "$T/m/good.ini" && has "template path" "test-classification 1.2.0"

# Plugin path order: --plugin-path, KEEL_PLUGIN_PATH, the manifest's
# plugin_path, then the built-in folders. A copy earlier on the path wins.
PLUG=$(dirname "$(grep -oE '/[^ ]*/sgd\.so' <<<"$("$KEEL" plugins sgd)" | head -1)")
mkdir -p "$T/m/extra" "$T/env" "$T/cli"
for d in "$T/m/extra" "$T/env" "$T/cli"; do cp "$PLUG/sgd.so" "$d/"; done
sed -i 's#^\[keel\]$#[keel]\nplugin_path = extra#' "$T/m/good.ini"
valid "manifest plugin_path" "$T/m/good.ini" && has "manifest plugin_path" "$T/m/extra/sgd.so"
KEEL_PLUGIN_PATH=$T/env valid "KEEL_PLUGIN_PATH" "$T/m/good.ini" &&
  has "KEEL_PLUGIN_PATH" "$T/env/sgd.so"
KEEL_PLUGIN_PATH=$T/env valid "--plugin-path" "$T/m/good.ini" --plugin-path "$T/cli" &&
  has "--plugin-path" "$T/cli/sgd.so"
KEEL_PLUGIN_PATH=$T/env valid "--plugin-path=" "$T/m/good.ini" "--plugin-path=$T/cli" &&
  has "--plugin-path=" "$T/cli/sgd.so"

finish
