#!/usr/bin/env bash
# Training rules that need no data (keel_train_check) are refused by
# `keel check` and by `keel run` before any data is read: exit 2, a
# message naming the section and what is expected, nothing written.
. "$(dirname "$0")/lib.sh"
M=$KEEL_SRC/manifests

# refuse LABEL PATTERN MANIFEST OVERRIDES...: check and run both exit 2
# with PATTERN on stderr; run leaves no bundle in its --out folder.
refuse() {
  local label=$1 pattern=$2 manifest=$3
  shift 3
  krun check "$manifest" "$@"
  if ((RC != 2)); then
    fail "check $label: exit $RC (expected 2): $(cat "$T/err")"
  elif ! grep -q -- "$pattern" "$T/err"; then
    fail "check $label: message lacks '$pattern': $(cat "$T/err")"
  else
    ok
  fi
  local out=$T/runs-$passed-$failures
  krun run "$manifest" "$@" --quiet --out "$out"
  if ((RC != 2)); then
    fail "run $label: exit $RC (expected 2): $(cat "$T/err")"
  elif ! grep -q -- "$pattern" "$T/err"; then
    fail "run $label: message lacks '$pattern': $(cat "$T/err")"
  elif [ -n "$(find "$out" -type f 2>/dev/null)" ]; then
    fail "run $label: wrote $(find "$out" -type f | head -3)"
  else
    ok
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
  krun check "$M/$m.ini"
  ((RC == 0)) && ok || fail "check $m.ini: $(cat "$T/err")"
done

finish
