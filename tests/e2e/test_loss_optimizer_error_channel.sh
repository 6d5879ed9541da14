#!/usr/bin/env bash
# Losses and optimizers report failures through the ABI 1.2 error channel
# (evaluate, update) instead of a NaN: the fixture loss fail_at_target
# (tests/plugins/fail_at_target.c) fails on every row whose target is 72,
# which diabetes holds in several rows, so several chunks of one batch fail
# on different threads. The run stops with exit 1 and a sealed failed
# bundle, the message names the stage, the epoch, the batch and the source
# data row (the row's target is 72), and its bytes are the same at 1 and 2
# threads, in both schedules of the trainer (the claimed one of a small
# linear model, the barrier one of an mlp with many chunk gradients). The
# fixture optimizer fail_at_step (tests/plugins/fail_at_step.c) fails at
# step 3: exit 1, a message naming the optimizer, epoch and step. With
# measure_only the loss fails only on the validation split, which names it.
# A loss with neither evaluate nor value_grad is refused at load.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the test plugins}"
LOSS=$KEEL_BROKEN_DIR/fail_at_target.so
OPT=$KEEL_BROKEN_DIR/fail_at_step.so
[[ -f $LOSS && -f $OPT ]] || bail "fixtures $LOSS and $OPT are not built"
CSV=$KEEL_SRC/manifests/data/diabetes.csv

# A template that also allows both fixtures, beside the manifest.
mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
sed -e 's/^allow = mse >=1 <2/allow = fail_at_target >=1 <2, mse >=1 <2/' \
  -e 's/^allow = sgd >=1 <2/allow = fail_at_step >=1 <2, sgd >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-regression.ini" \
  >"$T/m/templates/tabular-regression.ini"
grep -q fail_at_target "$T/m/templates/tabular-regression.ini" &&
  grep -q fail_at_step "$T/m/templates/tabular-regression.ini" ||
  bail "the template's allow lists were not extended"
cp "$KEEL_SRC/manifests/diabetes.ini" "$T/m/"
M=$T/m/diabetes.ini

# failing_run TAG ARGS...: keel run with the fixtures on the plugin path;
# the error line in $T/$TAG.msg, the bundle (last stdout line) in $T/$TAG.b
failing_run() {
  local tag=$1
  shift
  krun run "$M" --plugin-path "$LOSS" --plugin-path "$OPT" --out "$T/$tag" --quiet train.epochs=2 "$@"
  if ((RC != 1)); then
    fail "$tag: exit $RC, expected 1"
    show_output "$T/out" "$T/err"
  else
    ok
  fi
  grep -F '] fail_at_' "$T/err" >"$T/$tag.msg" || true
  [[ -s $T/$tag.msg ]] && ok || { fail "$tag: no plugin message"; show_output "$T/err"; }
  tail -n 1 "$T/out" >"$T/$tag.b"
}

# sealed TAG: the failed run left one verified bundle recording exit 1 and
# the message
sealed() {
  local tag=$1 b
  b=$(cat "$T/$tag.b")
  if [[ ! -f $b ]]; then
    fail "$tag: no sealed bundle (last stdout line '$b')"
    return
  fi
  "$KEEL" verify "$b" >/dev/null 2>&1 && ok || fail "$tag: keel verify of the failed bundle"
  tar xzf "$b" -O --wildcards '*/run.json' >"$T/$tag.json"
  [[ $(json_value "$T/$tag.json" 'd["status"]') == failed ]] && ok ||
    fail "$tag: run.json status is not failed"
  [[ $(json_value "$T/$tag.json" 'd["exit_code"]') == 1 ]] && ok ||
    fail "$tag: run.json exit_code is not 1"
  json_value "$T/$tag.json" 'd["error"]' | grep -qF "fail_at_" && ok ||
    fail "$tag: run.json error does not carry the plugin's message"
  (($(find "$T/$tag" -type f | wc -l) == 1)) && ok ||
    fail "$tag: left more than the bundle: $(ls -A "$T/$tag")"
}

L=(loss.plugin=fail_at_target loss.target=72 train.batch_size=256)
failing_run lin1 "${L[@]}" train.chunk_rows=8 --threads 1
failing_run lin2 "${L[@]}" train.chunk_rows=8 --threads 2
failing_run mlp1 "${L[@]}" train.chunk_rows=2 model.plugin=mlp --threads 1
failing_run mlp2 "${L[@]}" train.chunk_rows=2 model.plugin=mlp --threads 2
sealed lin2
msg=$(cat "$T/lin1.msg")
for text in "[loss] fail_at_target: " "epoch 1, step " "(batch " "source data row " \
  "(train split)" "target 72 is the value this fixture refuses"; do
  [[ $msg == *"$text"* ]] && ok || fail "loss message lacks '$text': $msg"
done
cmp -s "$T/lin1.msg" "$T/lin2.msg" && ok ||
  fail "linear: the messages at 1 and 2 threads differ: $(cat "$T/lin1.msg" "$T/lin2.msg")"
cmp -s "$T/mlp1.msg" "$T/mlp2.msg" && ok ||
  fail "mlp: the messages at 1 and 2 threads differ: $(cat "$T/mlp1.msg" "$T/mlp2.msg")"
# The source data row named (1-based, the csv's line minus its header)
# really holds the target the fixture refuses.
row=$(sed -n 's/.*source data row \([0-9]*\) .*/\1/p' "$T/lin1.msg")
if [[ -n $row ]]; then
  target=$(sed -n "$((row + 1))p" "$CSV" | awk -F, '{print $NF}')
  [[ $target == 72 ]] && ok || fail "source data row $row holds target '$target', not 72"
else
  fail "no source data row number in: $msg"
fi

# A loss that fails only where the host measures: the validation split
# (where diabetes holds target 200; split_seed 42)
# after epoch 1, in chunks on both threads.
V=(loss.plugin=fail_at_target loss.target=200 loss.measure_only=true)
failing_run val1 "${V[@]}" train.chunk_rows=4 --threads 1
failing_run val2 "${V[@]}" train.chunk_rows=4 --threads 2
msg=$(cat "$T/val1.msg")
for text in "[loss] fail_at_target: epoch 1, evaluating the valid split: source data row " \
  "(valid split): target 200 is the value this fixture refuses"; do
  [[ $msg == *"$text"* ]] && ok || fail "validation message lacks '$text': $msg"
done
cmp -s "$T/val1.msg" "$T/val2.msg" && ok ||
  fail "validation: the messages at 1 and 2 threads differ: $(cat "$T/val1.msg" "$T/val2.msg")"
row=$(sed -n 's/.*source data row \([0-9]*\) .*/\1/p' "$T/val1.msg")
[[ -n $row && $(sed -n "$((row + 1))p" "$CSV" | awk -F, '{print $NF}') == 200 ]] && ok ||
  fail "validation: source data row '$row' does not hold target 200"

# The optimizer's update fails at step 3 (epoch 1, batch 3).
failing_run opt1 optimizer.plugin=fail_at_step optimizer.step=3 --threads 1
failing_run opt2 optimizer.plugin=fail_at_step optimizer.step=3 --threads 2
sealed opt2
msg=$(cat "$T/opt1.msg")
for text in "[optimizer] fail_at_step: " "epoch 1, step 3 (batch 3 of " \
  "update refused, as this fixture is told to"; do
  [[ $msg == *"$text"* ]] && ok || fail "optimizer message lacks '$text': $msg"
done
cmp -s "$T/opt1.msg" "$T/opt2.msg" && ok ||
  fail "optimizer: the messages at 1 and 2 threads differ"

# A loss with neither evaluate nor value_grad is refused when it loads,
# naming the function it needs.
NOFN=$KEEL_BROKEN_DIR/loss_without_evaluate.so
krun plugins loss_without_evaluate --plugin-path "$NOFN"
if ((RC == 2)) && grep -qF "loss_without_evaluate.so" "$T/err" &&
  grep -qF "evaluate (or value_grad" "$T/err"; then ok; else
  fail "a loss without evaluate or value_grad: exit $RC: $(cat "$T/err")"
fi

finish
