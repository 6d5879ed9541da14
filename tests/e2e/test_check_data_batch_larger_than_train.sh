#!/usr/bin/env bash
# `keel check --data` catches what `keel run` refuses once it has read the
# data (batch_size larger than iris's 120 training rows): the same message and exit
# code as run, nothing written.
# Plain `keel check` cannot know the training row count and still passes.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
M=$T/m/iris.ini
export XDG_CONFIG_HOME=$T/xdg/config XDG_CACHE_HOME=$T/xdg/cache \
  XDG_DATA_HOME=$T/xdg/data XDG_STATE_HOME=$T/xdg/state

krun check "$M" train.batch_size=200
((RC == 0)) && ok || fail "check without --data: exit $RC: $(cat "$T/err")"

krun run "$M" train.batch_size=200 --quiet --out "$T/runs"
((RC == 1)) || bail "run: exit $RC (expected 1): $(cat "$T/err")"
run_msg=$(sed -n 's/^keel run: //p' "$T/err" | head -n 1)
[[ $run_msg == *"[train] batch_size = 200"* ]] ||
  bail "run's message lacks '[train] batch_size = 200': $run_msg"

mkdir -p "$T/cwd"
(cd "$T/cwd" && "$KEEL" check "$M" train.batch_size=200 --data) >"$T/out" 2>"$T/err" &&
  RC=0 || RC=$?
((RC == 1)) && ok || fail "check --data: exit $RC (expected 1 as run)"
check_msg=$(sed -n 's/^keel check: //p' "$T/err" | head -n 1)
[[ $check_msg == "$run_msg" ]] && ok ||
  fail "check --data says '$check_msg', run says '$run_msg'"
# the plugin registry cache is the one file any command may write
written=$(find "$T/cwd" "$T/xdg" -type f ! -path '*/keel/plugin-registry.json' 2>/dev/null | head -n 3 || true)
[[ -z $written ]] && ok || fail "check --data wrote $written"

# The manifest as shipped passes every data check.
krun check "$M" --data
((RC == 0)) && ok || fail "check --data on iris.ini: exit $RC: $(cat "$T/err")"

finish
