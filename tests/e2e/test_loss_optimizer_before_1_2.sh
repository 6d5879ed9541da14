#!/usr/bin/env bash
# A loss with value_grad alone and an optimizer with step alone (written as
# before ABI 1.2: tests/plugins/value_grad_only.c, step_only.c, mse's and
# plain sgd's arithmetic) load and train: the host calls value_grad and
# step when the table has no evaluate or update, and the weights and
# metric lines are the bytes of the same run with the built-in mse and sgd
# (which the host reaches through evaluate and update), at 1 and 2
# threads.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the test plugins}"
LOSS=$KEEL_BROKEN_DIR/value_grad_only.so
OPT=$KEEL_BROKEN_DIR/step_only.so
[[ -f $LOSS && -f $OPT ]] || bail "fixtures $LOSS and $OPT are not built"

mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
sed -e 's/^allow = mse >=1 <2/allow = sq_value_grad >=1 <2, mse >=1 <2/' \
  -e 's/^allow = sgd >=1 <2/allow = sgd_step >=1 <2, sgd >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-regression.ini" \
  >"$T/m/templates/tabular-regression.ini"
grep -q sq_value_grad "$T/m/templates/tabular-regression.ini" &&
  grep -q sgd_step "$T/m/templates/tabular-regression.ini" ||
  bail "the template's allow lists were not extended"
cp "$KEEL_SRC/manifests/diabetes.ini" "$T/m/"

# results TAG ARGS...: a run's weights and metric lines into $T/TAG/
results() {
  local tag=$1
  shift
  seal "$T/m/diabetes.ini" --plugin-path "$LOSS" --plugin-path "$OPT" \
    --out "$T/$tag.o" train.epochs=5 "$@" || return 0
  mkdir -p "$T/$tag"
  tar xzf "$B" -C "$T/$tag" --strip-components=1 --wildcards '*/weights/*' '*/metrics.jsonl'
  [[ -s $T/$tag/metrics.jsonl ]] && ls "$T/$tag/weights/"*.npy >/dev/null 2>&1 && ok ||
    fail "$tag: the bundle holds no weights or metric lines"
}

results new1 --threads 1
results old1 loss.plugin=sq_value_grad optimizer.plugin=sgd_step --threads 1
results old2 loss.plugin=sq_value_grad optimizer.plugin=sgd_step --threads 2
diff -r "$T/new1" "$T/old1" >/dev/null && ok ||
  fail "value_grad/step at 1 thread differ from mse/sgd through evaluate/update"
diff -r "$T/old1" "$T/old2" >/dev/null && ok ||
  fail "value_grad/step differ at 1 and 2 threads"

finish
