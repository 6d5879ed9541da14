#!/usr/bin/env bash
# ctest: slow
# keel sweep --resume (docs/tuning.md): a sweep killed with kill -9 —
# mid-trial, the orphaned trial still running — and resumed has the
# uninterrupted sweep's result digest, grid and TPE alike; a resume checks
# the original inputs against the frozen plan (an edited manifest is
# refused with the difference, exit 2) and the frozen copies against
# plan.json (an altered copy: exit 3); resuming a finished sweep gives its
# bundle back; SIGTERM ends a sweep with 143 after its running trials and
# it resumes; a trial whose process is killed is recorded as failed and
# the sweep goes on.
. "$(dirname "$0")/lib.sh"
shipped_manifests penguins digits
cd "$T/m"
sweep_manifests

sweep_bg() { # OUT ARGS...: starts a sweep in the background, pid in $PID
  local out=$1
  shift
  "$KEEL" sweep "$@" --out "$T/$out" >"$T/$out.out" 2>"$T/$out.err" &
  PID=$!
}
wait_for() { # GLOB: until a file matches (30 s at most)
  for _ in $(seq 1 600); do
    compgen -G "$1" >/dev/null && return 0
    sleep 0.05
  done
  fail "timed out waiting for $1"
  return 1
}
resume() { # DIR: resumes it, the bundle in $SB
  RC=0
  "$KEEL" sweep --resume "$1" --no-reuse >"$T/out" 2>"$T/err" || RC=$?
  SB=$(tail -n 1 "$T/out")
}

# --- the uninterrupted sweeps ----------------------------------------------
"$KEEL" sweep slow.ini --seed 2 --out "$T/ref" -q >"$T/ref.out" 2>&1 ||
  bail "the reference grid sweep failed: $(cat "$T/ref.out")"
REF=$(sweep_digest "$(tail -n 1 "$T/ref.out")")
"$KEEL" sweep tpe.ini --trials 10 --seed 5 --out "$T/tref" -q >"$T/tref.out" 2>&1 ||
  bail "the reference TPE sweep failed: $(cat "$T/tref.out")"
TREF=$(sweep_digest "$(tail -n 1 "$T/tref.out")")

# --- kill -9 the driver mid-sweep, resume --------------------------------
sweep_bg grid slow.ini --seed 2 --jobs 1 --no-reuse
wait_for "$T/grid/*/trials/1.json"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
DIR=$(dirname "$(compgen -G "$T/grid/*/plan")")
check "killed before the end: no sweep bundle" test -z "$(compgen -G "$DIR/*.tar.gz")"
resume "$DIR"
check "the resumed grid sweep exits 0" test "$RC" = 0
check "the resumed grid sweep has the uninterrupted sweep's digest" \
  test "$(sweep_digest "$SB")" = "$REF"
expect "the resumed sweep verifies" 0 intact -- verify "$SB"
resume "$DIR"
check "resuming a finished sweep exits 0" test "$RC" = 0
check "and gives its bundle back" test "$(sweep_digest "$SB")" = "$REF"

# TPE: killed at whatever moment 0.8 s falls on
sweep_bg tpe tpe.ini --trials 10 --seed 5 --jobs 2 --no-reuse
sleep 0.8
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
DIR=$(dirname "$(compgen -G "$T/tpe/*/plan")")
resume "$DIR"
check "the resumed TPE sweep exits 0" test "$RC" = 0
check "the resumed TPE sweep has the uninterrupted sweep's digest" \
  test "$(sweep_digest "$SB")" = "$TREF"

# --- SIGTERM: the running trial ends, nothing new starts, exit 143 -------
sweep_bg term slow.ini --seed 2 --jobs 1
wait_for "$T/term/*/trials/0.request.json"
kill -TERM "$PID"
RC=0
wait "$PID" || RC=$?
check "a sweep stopped by SIGTERM exits 143" test "$RC" = 143
cp "$T/term.err" "$T/err"
has_err "it says how to continue" "interrupted: the trials that ended are kept; continue with: keel sweep --resume"
DIR=$(dirname "$(compgen -G "$T/term/*/plan")")
check "no trial after the signal started" test -z "$(compgen -G "$DIR/trials/2.request.json")"
resume "$DIR"
check "the stopped sweep resumes to the uninterrupted digest" \
  test "$(sweep_digest "$SB")" = "$REF"

# --- the inputs changed: refused, with the difference -------------------
sweep_bg edit slow.ini --seed 2 --jobs 1 --no-reuse
wait_for "$T/edit/*/trials/0.request.json"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
DIR=$(dirname "$(compgen -G "$T/edit/*/plan")")
cp slow.ini slow.ini.orig
sed -i 's/^lr = choice(0.01, 0.05)$/lr = choice(0.02, 0.05)/' slow.ini
expect "resume with an edited manifest is refused" 2 \
  "inputs changed since it was planned.*manifest .*slow.ini: SHA-256" -- sweep --resume "$DIR"
mv slow.ini.orig slow.ini
flip "$DIR/plan/slow.ini" 10
expect "resume with an altered frozen copy: integrity" 3 \
  "plan/slow.ini: SHA-256 .* plan.json froze it as" -- sweep --resume "$DIR"
flip "$DIR/plan/slow.ini" 10
cp "$DIR/plan/plan.json" "$T/plan.json.orig"
"$PY" - "$DIR/plan/plan.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["plugins"][0]["file"] = "../../../../lib/evil.so"
json.dump(d, open(sys.argv[1], "w"))
PY
expect "a plan.json naming a file outside plan/: integrity" 3 \
  "plan.json: file '../../../../lib/evil.so' is outside plan/" -- sweep --resume "$DIR"
cp "$T/plan.json.orig" "$DIR/plan/plan.json"
expect "restored, the resume goes on" 0 "" -- sweep --resume "$DIR" -q
expect "resume takes no manifest" 2 "--resume takes no manifest" -- \
  sweep --resume "$DIR" slow.ini

# --- a trial's process killed: recorded as failed, the sweep goes on -----
sweep_bg killed slow.ini --seed 2 --jobs 1 --no-reuse
wait_for "$T/killed/*/trials/0.request.json"
for _ in $(seq 1 200); do
  pkill -9 -f -- "sweep --trial 0 " && break
  sleep 0.05
done
wait "$PID" || true
cp "$T/killed.out" "$T/out"
cp "$T/killed.err" "$T/err"
has_err "the killed trial is recorded" "trial 0 failed: the trial's process was killed by signal 9"
has "the sweep went on to seal" "sweep result digest"

finish
