#!/usr/bin/env bash
# ctest: slow
# Fault injection (issue 11): `keel run` killed with kill -9 at random
# moments and resumed from its latest checkpoint ends with the bits of the
# uninterrupted run. The delays come from a seed printed at the start
# (KEEL_FAULT_SEED=N reruns the same schedule; timing on a loaded machine
# still varies). Each round: a fresh run killed after a random delay, its
# resume killed again after another, then a resume to the end. After every
# kill every file under a final name is whole (a bundle verifies; the
# checkpoint is what the next --resume reads; temporaries are dot-named);
# the last resume's weights, optimizer state, metrics and result digest
# equal the uninterrupted run's (cmp, and keel diff quiet), and no
# temporary is left.
# A resume that trains no epoch (the kill came after the final checkpoint,
# while sealing) must give the same bits too
# (test_resume_after_final_checkpoint.sh).
. "$(dirname "$0")/lib.sh"
need tar cmp find
shopt -s nullglob

seed=${KEEL_FAULT_SEED:-$(($(date +%s%N) % 32768))}
echo "$TEST_NAME: seed $seed (rerun with KEEL_FAULT_SEED=$seed)"
RANDOM=$seed
ROUNDS=5

shipped_manifests digits
M=$T/m/digits.ini
O=(train.checkpoint_every=1 model.hidden=128 train.epochs=24)
epochs_seen() { grep -c '^epoch [0-9]' "$1" 2>/dev/null || true; }

# The uninterrupted run, and how long it takes (the kills fall within it).
t0=$(date +%s%N)
seal "$M" "${O[@]}" --out "$T/a" --threads 2 || bail "uninterrupted run failed"
a=$B
span_ms=$((($(date +%s%N) - t0) / 1000000))
echo "$TEST_NAME: uninterrupted run took ${span_ms} ms"
mkdir -p "$T/xa"
tar xzf "$a" -C "$T/xa"
da=$(echo "$T"/xa/keel-run-*)

# whole_files DIR LABEL: every file under a final name in DIR is whole.
whole_files() {
  local f
  while IFS= read -r f; do
    case $f in
    */keel-run-*.tar.gz)
      expect "$2: a bundle left after the kill verifies ($f)" 0 "^OK " -- verify "$f"
      ;;
    */checkpoints/*/checkpoint.ckpt) ok ;; # the next --resume reads it
    *) fail "$2: a file under a final name that keel does not write: $f" ;;
    esac
  done < <(find "$1" -type f ! -name '.*')
}

# latest DIR: the --resume arguments for DIR's checkpoint, if there is one.
latest() {
  local ck=("$1"/checkpoints/*/checkpoint.ckpt)
  ((${#ck[@]} <= 1)) || fail "more than one checkpoint: ${ck[*]}"
  ((${#ck[@]} == 0)) || echo "--resume ${ck[0]}"
}

# same_as_uninterrupted BUNDLE LABEL: cmp of what the run computed.
same_as_uninterrupted() {
  local x=$T/x.$RANDOM dr f bad=""
  mkdir -p "$x" && tar xzf "$1" -C "$x"
  dr=$(echo "$x"/keel-run-*)
  for f in $(cd "$da" && ls weights/* optimizer_state.npy metrics.jsonl metrics.json digest.txt); do
    cmp -s "$da/$f" "$dr/$f" || bad+=" $f"
  done
  [[ -z $bad ]] && ok || fail "$2: differs from the uninterrupted run in:$bad (seed $seed)"
  expect "$2: keel diff against the uninterrupted run" 0 "" -- diff "$a" "$1"
  rm -rf "$x"
}

# finished LOG BUNDLE LABEL: a run that ended by itself: its bundle verifies
# and computed what the uninterrupted run did.
finished() {
  expect "$3: verify the bundle" 0 "^OK " -- verify "$2"
  same_as_uninterrupted "$2" "$3"
}

killed=0
for round in $(seq "$ROUNDS"); do
  out=$T/b$round
  rc=137
  for attempt in 1 2; do
    delay=$((RANDOM % (span_ms + 1)))
    log=$T/r$round.$attempt.err
    latest "$out" >"$log.args"
    # shellcheck disable=SC2046 # latest prints zero or two words
    "$KEEL" run "$M" "${O[@]}" --out "$out" --threads 2 $(cat "$log.args") >"$T/r.out" 2>"$log" &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    rc=0
    if kill -9 "$pid" 2>/dev/null; then
      { wait "$pid"; } 2>/dev/null || rc=$?
    else
      wait "$pid" || rc=$?
    fi
    echo "round $round.$attempt: kill after ${delay} ms, exit $rc, $(epochs_seen "$log") epochs seen"
    if ((rc == 137)); then
      killed=$((killed + 1))
    elif ((rc != 0)); then
      fail "round $round.$attempt: exit $rc"
      show_output "$log"
    fi
    whole_files "$out" "round $round.$attempt"
    if ((rc == 0)); then
      finished "$log" "$(tail -n 1 "$T/r.out")" "round $round.$attempt"
      break
    fi
  done
  if ((rc == 137)); then
    # Resume to the end (not --quiet: the epoch lines tell whether it
    # trained).
    log=$T/r$round.end.err
    latest "$out" >"$log.args"
    rc=0
    # shellcheck disable=SC2046
    "$KEEL" run "$M" "${O[@]}" --out "$out" --threads 1 $(cat "$log.args") >"$T/r.out" 2>"$log" || rc=$?
    b=$(tail -n 1 "$T/r.out")
    if ((rc == 0)) && [[ -f $b ]]; then
      finished "$log" "$b" "round $round: resumed to the end"
    else
      fail "round $round: the final resume exited $rc (seed $seed)"
      show_output "$log"
    fi
  fi
  left=$(find "$out" -name '.*' -type f)
  [[ -z $left ]] && ok || fail "round $round: temporaries left after the final run: $left"
done
((killed > 0)) && ok || fail "no run was killed part-way (seed $seed)"

finish
