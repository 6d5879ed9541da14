#!/usr/bin/env bash
# `keel plugins`: lists every built-in sorted by kind then name, prints
# documentation generated from a plugin's schema (text and --json), honours
# --plugin-path, and refuses unknown names with exit 2 and a "did you mean".
set -euo pipefail
: "${KEEL:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
unset KEEL_PLUGIN_PATH
failures=0
passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }
run() { # run EXPECTED-RC ARGS... ; output in $KEEL_TMP/out, err
  local want=$1
  shift
  local rc=0
  "$KEEL" plugins "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  if ((rc != want)); then
    fail "plugins $*: exit $rc, expected $want: $(cat "$KEEL_TMP/err")"
    return 1
  fi
  ok
}
has() { grep -qF -- "$2" "$KEEL_TMP/$3" && ok || fail "$1: $3 lacks '$2'"; }

# --- the list ---------------------------------------------------------------
if run 0; then
  for p in "source +csv" "transform +standardize" "model +softmax" "loss +xent" "optimizer +sgd"; do
    grep -qE "^$p +[0-9]+\.[0-9]+\.[0-9]+ +[^ ]" "$KEEL_TMP/out" && ok || fail "list lacks $p"
  done
  # Sorted by kind (pipeline order), then name.
  order="source transform model loss optimizer"
  tail -n +2 "$KEEL_TMP/out" | awk -v order="$order" '
    BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
    { key = sprintf("%d %s", rank[$1], $2); if (NR > 1 && key < prev) bad = 1; prev = key }
    END { exit bad }' && ok || fail "list is not sorted by kind then name"
fi

# --- one plugin's documentation ---------------------------------------------
if run 0 sgd; then
  has "sgd doc" "sgd 1." out
  has "sgd doc" "(optimizer)" out
  has "sgd doc" "license" out
  has "sgd doc" "parameters" out
  grep -qE '^  lr +float +0\.01 +1e-08 \.\. 10 +1/step +yes +learning rate' "$KEEL_TMP/out" && ok ||
    fail "sgd doc: lr row not as expected: $(grep ' lr ' "$KEEL_TMP/out")"
  grep -qE '^  nesterov +bool +false +true \| false' "$KEEL_TMP/out" && ok || fail "sgd doc: nesterov row"
  file=$(awk '$1 == "file" {print $2}' "$KEEL_TMP/out")
  sum=$(awk '$1 == "sha256" {print $2}' "$KEEL_TMP/out")
  [[ -f $file && $(sha256sum "$file" | cut -d' ' -f1) == "$sum" ]] && ok || fail "sgd doc: sha256 does not match $file"
fi
run 0 optimizer/sgd && has "kind/name" "sgd 1." out
if run 0 model/mlp; then
  grep -qE '^  activation +enum +relu +relu \| tanh \| gelu' "$KEEL_TMP/out" && ok || fail "mlp doc: enum choices"
  has "mlp doc" "tasks     classification, regression" out
  has "mlp doc" "accepts   numeric" out
fi
run 0 csv && grep -qE '^  path +string +\(required\)' "$KEEL_TMP/out" && ok || fail "csv doc: required path"
run 0 xent && has "xent doc" "parameters: none" out

# --- JSON -------------------------------------------------------------------
if run 0 --json && command -v jq >/dev/null; then
  [[ $(jq -r '[.[] | select(.name == "softmax")] | .[0].kind' "$KEEL_TMP/out") == model ]] && ok || fail "json list"
  [[ $(jq -r 'length' "$KEEL_TMP/out") -ge 5 ]] && ok || fail "json list length"
fi
if run 0 sgd --json && command -v jq >/dev/null; then
  [[ $(jq -r '.params[] | select(.name == "lr") | .log_scale' "$KEEL_TMP/out") == true ]] && ok || fail "json lr log_scale"
  [[ $(jq -r '.params[] | select(.name == "lr") | .default' "$KEEL_TMP/out") == 0.01 ]] && ok || fail "json lr default"
  [[ $(jq -r '.params[] | select(.name == "lr") | .unit' "$KEEL_TMP/out") == 1/step ]] && ok || fail "json lr unit"
  [[ $(jq -r '.kind' "$KEEL_TMP/out") == optimizer ]] && ok || fail "json kind"
  [[ $(jq -r '.sha256 | length' "$KEEL_TMP/out") == 64 ]] && ok || fail "json sha256"
fi
if run 0 mlp --json && command -v jq >/dev/null; then
  [[ $(jq -c '.params[] | select(.name == "activation") | .choices' "$KEEL_TMP/out") == '["relu","tanh","gelu"]' ]] &&
    ok || fail "json choices"
  [[ $(jq -c '.contract.tasks' "$KEEL_TMP/out") == '["classification","regression"]' ]] && ok || fail "json tasks"
fi

# --- --plugin-path ------------------------------------------------------------
run 0 sgd >/dev/null
src=$(awk '$1 == "file" {print $2}' "$KEEL_TMP/out")
mkdir -p "$KEEL_TMP/pp"
cp "$src" "$KEEL_TMP/pp/"
run 0 sgd --plugin-path "$KEEL_TMP/pp" && has "--plugin-path" "file      $KEEL_TMP/pp/sgd.so" out
run 0 sgd "--plugin-path=$KEEL_TMP/pp" && has "--plugin-path=" "file      $KEEL_TMP/pp/sgd.so" out
KEEL_PLUGIN_PATH=$KEEL_TMP/pp run 0 sgd && has "KEEL_PLUGIN_PATH" "file      $KEEL_TMP/pp/sgd.so" out

# --- refusals -------------------------------------------------------------------
run 2 sdg && has "did you mean" "no plugin named 'sdg' on the plugin path; did you mean 'sgd'?" err
run 2 modle/mlp && has "unknown kind" "unknown plugin kind 'modle' (did you mean 'model'?)" err
run 2 loss/sgd && has "wrong kind" "no loss plugin named 'sgd'" err
run 2 sgd adam && has "two names" "expected at most one plugin name" err
run 2 --frobnicate && has "unknown option" "unknown option '--frobnicate'" err
run 2 --plugin-path && has "missing dir" "--plugin-path needs" err
run 2 --plugin-path /nonexistent-dir && has "bad path" "/nonexistent-dir" err
[[ ! -s $KEEL_TMP/out ]] && ok || fail "refusal wrote to stdout"

echo "test_plugins_cli: $passed passed, $failures failed"
((failures == 0))
