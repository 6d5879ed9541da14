#!/usr/bin/env bash
# Training rules that need no data (keel_train_check) are refused by
# `keel check` and by `keel run` before any data is read: exit 2, a
# message naming the section and what is expected, nothing written.
set -euo pipefail
: "${KEEL:?}" "${KEEL_SRC:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
unset KEEL_PLUGIN_PATH KEEL_TEMPLATE_PATH
failures=0
passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
M=$KEEL_SRC/manifests

# refuse LABEL PATTERN MANIFEST OVERRIDES...: check and run both exit 2
# with PATTERN on stderr; run leaves no bundle in its --out folder.
refuse() {
  local label=$1 pattern=$2 manifest=$3
  shift 3
  local rc=0
  "$KEEL" check "$manifest" "$@" >"$KEEL_TMP/out" 2>"$KEEL_TMP/err" || rc=$?
  if ((rc != 2)); then
    fail "check $label: exit $rc (expected 2): $(cat "$KEEL_TMP/err")"
  elif ! grep -q -- "$pattern" "$KEEL_TMP/err"; then
    fail "check $label: message lacks '$pattern': $(cat "$KEEL_TMP/err")"
  else
    passed=$((passed + 1))
  fi
  local out=$KEEL_TMP/runs-$passed-$failures
  rc=0
  "$KEEL" run "$manifest" "$@" --quiet --out "$out" >"$KEEL_TMP/out" \
    2>"$KEEL_TMP/err" || rc=$?
  if ((rc != 2)); then
    fail "run $label: exit $rc (expected 2): $(cat "$KEEL_TMP/err")"
  elif ! grep -q -- "$pattern" "$KEEL_TMP/err"; then
    fail "run $label: message lacks '$pattern': $(cat "$KEEL_TMP/err")"
  elif [ -n "$(find "$out" -type f 2>/dev/null)" ]; then
    fail "run $label: wrote $(find "$out" -type f | head -3)"
  else
    passed=$((passed + 1))
  fi
}

refuse "accuracy on regression" \
  "early_stop_metric = accuracy does not exist for regression" \
  "$M/diabetes.ini" train.early_stop_metric=accuracy
refuse "rmse on classification" \
  "early_stop_metric = rmse does not exist for classification" \
  "$M/iris.ini" train.early_stop_metric=rmse
refuse "early stopping without validation rows" \
  "needs a validation split" \
  "$M/iris.ini" train.early_stop_metric=loss data.valid_fraction=0
refuse "a model that cannot be built" \
  "\[model\] mlp.*at most 16" \
  "$M/digits.ini" model.hidden=1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1

# The same manifests without the bad value still check green.
for m in diabetes iris digits; do
  if "$KEEL" check "$M/$m.ini" >/dev/null 2>"$KEEL_TMP/err"; then
    passed=$((passed + 1))
  else
    fail "check $m.ini: $(cat "$KEEL_TMP/err")"
  fi
done

echo "$passed passed, $failures failed"
((failures == 0))
