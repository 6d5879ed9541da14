#!/usr/bin/env bash
# `keel check --data` catches what `keel run` refuses only once it has read
# the data (issue 12): logistic on iris's 3-class label, and a batch_size
# larger than iris's 120 training rows. For each: plain `keel check`
# cannot know the class or row count and passes; `check --data` gives the
# same message and exit code as run, and writes nothing.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
M=$T/m/iris.ini

# catches LABEL OVERRIDE RUN_TEXT: the checks above for one refusal.
catches() {
  local label=$1 override=$2 want=$3
  krun check "$M" "$override"
  ((RC == 0)) && ok || fail "$label: check without --data: exit $RC: $(cat "$T/err")"

  # the run's audit lines and its registry entry go outside the folders
  # check --data must not write
  KEEL_AUDIT_LOG=$T/audit.jsonl KEEL_REGISTRY=$T/registry.db krun run "$M" "$override" --quiet --out "$T/runs"
  if ((RC != 1)); then
    fail "$label: run: exit $RC (expected 1): $(cat "$T/err")"
    return
  fi
  local run_msg check_msg written
  run_msg=$(sed -n 's/^keel run: //p' "$T/err" | head -n 1)
  [[ $run_msg == *"$want"* ]] && ok || fail "$label: run's message lacks '$want': $run_msg"

  rm -rf "$T/cwd" && mkdir -p "$T/cwd"
  (cd "$T/cwd" && "$KEEL" check "$M" "$override" --data) >"$T/out" 2>"$T/err" &&
    RC=0 || RC=$?
  ((RC == 1)) && ok || fail "$label: check --data: exit $RC (expected 1 as run)"
  check_msg=$(sed -n 's/^keel check: //p' "$T/err" | head -n 1)
  [[ $check_msg == "$run_msg" ]] && ok ||
    fail "$label: check --data says '$check_msg', run says '$run_msg'"
  # the plugin registry cache is the one file any command may write
  written=$(find "$T/cwd" "$T/xdg" -type f ! -path '*/keel/plugin-registry.json' 2>/dev/null | head -n 3 || true)
  [[ -z $written ]] && ok || fail "$label: check --data wrote $written"
}

catches "logistic on three classes" model.plugin=logistic "[model] logistic"
catches "batch larger than the training rows" train.batch_size=200 "[train] batch_size = 200"

# The manifest as shipped passes every data check.
krun check "$M" --data
((RC == 0)) && ok || fail "check --data on iris.ini: exit $RC: $(cat "$T/err")"

finish
