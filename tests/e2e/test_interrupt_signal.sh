#!/usr/bin/env bash
# Finding 10 of issue 11: Ctrl-C and SIGTERM must not lose the run.
# On the digits manifest (more epochs and a wider model by override, so a
# run lasts a few seconds), a signal sent once the first epoch's progress
# line is on stderr:
# - ends `keel run` with exit 130 (SIGINT) or 143 (SIGTERM), the path of a
#   sealed bundle as the last stdout line;
# - that bundle verifies (exit 0, saying `interrupted`), `show` gives the
#   status and the epoch/batch reached, it carries its checkpoint
#   (checkpoint/checkpoint.ckpt) and `replay` refuses it with exit 2;
# - `keel run --resume BUNDLE`, and `--resume` of the checkpoint taken out
#   of it, at another thread count, end with the uninterrupted run's
#   weights, optimizer state, metrics and result digest (bytes compared);
# - --resume of another run's bundle, or of a finished one, is refused;
# - two signals in a row leave no half-written bundle: what is there
#   verifies, and a temporary left behind is swept by the next run;
# - a signal right after the start (validation, data reading or training,
#   wherever it lands) ends with 130 and either nothing written or an
#   intact `interrupted` bundle.
. "$(dirname "$0")/lib.sh"
need tar
shopt -s nullglob

shipped_manifests digits
M=$T/m/digits.ini
O=(model.hidden=256 train.epochs=60 train.batch_size=32)

# members_of BUNDLE DIR: extracts BUNDLE into DIR, prints its run folder.
members_of() {
  mkdir -p "$2"
  tar xzf "$1" -C "$2"
  echo "$2"/keel-run-*
}

# same_result LABEL BUNDLE: BUNDLE computed what the uninterrupted run did.
same_result() {
  local d bad="" f
  d=$(members_of "$2" "$T/x-$1")
  for f in $(cd "$FULL" && ls weights/* optimizer_state.npy metrics.jsonl metrics.json digest.txt); do
    cmp -s "$FULL/$f" "$d/$f" || bad+=" $f"
  done
  [[ -z $bad ]] && ok || fail "$1: differs from the uninterrupted run in:$bad"
}

# start_run NAME THREADS: keel run in the background, stdout and stderr in
# $T/NAME.out and $T/NAME.err, its pid in $PID. A script's background
# command inherits SIGINT ignored, and keel keeps an ignored signal ignored
# (docs/training.md), so SIGINT is given back its default first.
start_run() {
  env --default-signal=INT,TERM "$KEEL" run "$M" "${O[@]}" --out "$T/$1" --threads "$2" >"$T/$1.out" 2>"$T/$1.err" &
  PID=$!
}

# after_first_epoch NAME: waits (60 s at most) until the first epoch's
# progress line is on stderr; 1 when the run ended first.
after_first_epoch() {
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    grep -q '^epoch 1/' "$T/$1.err" 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

seal "$M" "${O[@]}" --out "$T/full" --threads 2 || bail "the uninterrupted run failed"
FULLB=$B
FULL=$(members_of "$B" "$T/x-full")

# interrupted SIG CODE THREADS RESUME_THREADS
interrupted() {
  local sig=$1 code=$2 name=$1 rc=0 b d
  start_run "$name" "$3"
  after_first_epoch "$name" || {
    fail "$sig: the run ended before its first epoch line"
    show_output "$T/$name.err"
    return
  }
  kill -"$sig" "$PID"
  wait "$PID" || rc=$?
  ((rc == code)) && ok || {
    fail "$sig: exit $rc, expected $code"
    show_output "$T/$name.err"
  }
  b=$(tail -n 1 "$T/$name.out")
  [[ -n $b && -f $b ]] || {
    fail "$sig: no bundle path on stdout: '$b'"
    show_output "$T/$name.err"
    return
  }
  ok
  d=$(members_of "$b" "$T/x-$name")
  [[ $(json_value "$d/run.json" 'd["status"]') == interrupted ]] && ok ||
    fail "$sig: run.json status is not interrupted: $(cat "$d/run.json")"
  [[ $(json_value "$d/run.json" 'd["exit_code"]') == "$code" ]] && ok ||
    fail "$sig: run.json exit_code is not $code"
  [[ -f $d/checkpoint/checkpoint.ckpt ]] && ok || fail "$sig: the bundle holds no checkpoint/checkpoint.ckpt"
  local lines
  lines=$(wc -l <"$d/metrics.jsonl")
  ((lines >= 1 && lines < 60)) && ok || fail "$sig: the interrupted bundle has $lines epoch lines"
  expect "$sig: verify the interrupted bundle" 0 "interrupted" -- verify "$b"
  expect "$sig: show the interrupted bundle" 0 "interrupted" -- show "$b"
  has "$sig: show says where it stopped" "reached" "epoch" "batch"
  expect "$sig: replay of an interrupted bundle" 2 "interrupted" -- replay "$b"

  # Resume from the bundle, at another thread count.
  rc=0
  r=$("$KEEL" run "$M" "${O[@]}" --out "$T/$name-r1" --threads "$4" --quiet --resume "$b" 2>"$T/$name-r1.err" | tail -n 1) || rc=$?
  if ((rc != 0)) || [[ ! -f $r ]]; then
    fail "$sig: --resume BUNDLE exited $rc"
    show_output "$T/$name-r1.err"
  else
    same_result "$name-resume-bundle" "$r"
    expect "$sig: verify the resumed bundle" 0 "^OK " -- verify "$r"
  fi
  # Resume from the checkpoint taken out of it.
  rc=0
  r=$("$KEEL" run "$M" "${O[@]}" --out "$T/$name-r2" --threads "$4" --quiet --resume "$d/checkpoint/checkpoint.ckpt" 2>"$T/$name-r2.err" | tail -n 1) || rc=$?
  if ((rc != 0)) || [[ ! -f $r ]]; then
    fail "$sig: --resume CHECKPOINT exited $rc"
    show_output "$T/$name-r2.err"
  else
    same_result "$name-resume-checkpoint" "$r"
  fi
}

interrupted INT 130 2 1
interrupted TERM 143 1 2

# A resume of another manifest's interrupted bundle is refused.
expect "resume with other values" 1 "another run|fingerprint" -- \
  run "$M" "${O[@]}" optimizer.lr=0.001 --out "$T/other" --quiet --resume "$(tail -n 1 "$T/INT.out")"

# A finished run's bundle holds no checkpoint: refused, naming why.
expect "resume of a finished bundle" 1 "holds no checkpoint.*status is 'ok'" -- \
  run "$M" "${O[@]}" --out "$T/fin" --quiet --resume "$FULLB"

# ---- two signals in a row -------------------------------------------------
start_run twice 2
if after_first_epoch twice; then
  kill -INT "$PID"
  kill -INT "$PID" 2>/dev/null || true
  rc=0
  wait "$PID" || rc=$?
  ((rc == 130)) && ok || fail "two SIGINTs: exit $rc, expected 130"
  for b in "$T"/twice/keel-run-*.tar.gz; do
    expect "two SIGINTs: what was sealed verifies" 0 "" -- verify "$b"
  done
  # The next run in the folder removes a temporary the killed seal left.
  seal "$M" train.epochs=1 --out "$T/twice" || true
  left=$(find "$T/twice" -name '.*.tmp-*')
  [[ -z $left ]] && ok || fail "two SIGINTs: temporaries left after the next run: $left"
else
  fail "two SIGINTs: the run ended before its first epoch line"
fi

# ---- a signal right after the start ---------------------------------------
start_run early 2
sleep 0.05
kill -INT "$PID" 2>/dev/null || true
rc=0
wait "$PID" || rc=$?
((rc == 130)) && ok || fail "early SIGINT: exit $rc, expected 130"
b=$(tail -n 1 "$T/early.out" 2>/dev/null || true)
if [[ -n $b ]]; then
  expect "early SIGINT: the bundle verifies" 0 "interrupted" -- verify "$b"
else
  left=$(find "$T/early" -type f 2>/dev/null || true)
  [[ -z $left ]] && ok || fail "early SIGINT: no bundle, but files were written: $left"
fi

finish
