#!/usr/bin/env bash
# Found by the kill -9 fault injection (test_kill_resume_random.sh): a run
# killed after its last checkpoint was written (while it seals its bundle)
# and resumed from that checkpoint trains no epoch, and its bundle records
# the final train metrics as null (train.rows 0): another result digest
# than the uninterrupted run's. Resuming from the final checkpoint must
# give the uninterrupted run's bits like any other checkpoint; so must the
# last checkpoint of a run that early stopping ended.
. "$(dirname "$0")/lib.sh"
need tar cmp
shopt -s nullglob
shipped_manifests digits
M=$T/m/digits.ini
O=(train.checkpoint_every=1 model.hidden=32 train.epochs=3)

seal "$M" "${O[@]}" --out "$T/a" || bail "uninterrupted run failed"
a=$B
# The checkpoint the run left is the one after its last epoch: what a kill
# during sealing leaves.
ck=("$T"/a/checkpoints/*/checkpoint.ckpt)
((${#ck[@]} == 1)) || bail "expected one checkpoint, found ${#ck[@]}"
seal "$M" "${O[@]}" --out "$T/b" --resume "${ck[0]}" || bail "resume failed"
r=$B
expect "verify the resumed bundle" 0 "^OK " -- verify "$r"
expect "keel diff: resumed from the final checkpoint vs uninterrupted" 0 "" -- diff "$a" "$r"
[[ ! -s $T/out ]] && ok || fail "diff printed: $(cat "$T/out")"
for f in metrics.json digest.txt; do
  if cmp -s <(tar xzf "$a" -O --wildcards "*/$f") <(tar xzf "$r" -O --wildcards "*/$f"); then ok; else
    fail "$f differs after resuming from the final checkpoint"
  fi
done

# A run that early stopping ended: its last checkpoint is that of the
# stopping epoch, and a resume from it is finished, not trained on.
E=(train.checkpoint_every=1 model.hidden=32 train.epochs=40
  train.early_stop_metric=accuracy train.patience=1)
seal "$M" "${E[@]}" --out "$T/c" || bail "early-stopping run failed"
c=$B
lines=$(tar xzf "$c" -O --wildcards '*/metrics.jsonl' | wc -l)
((lines < 40)) && ok || bail "the fixture did not stop early ($lines epochs)"
ck=("$T"/c/checkpoints/*/checkpoint.ckpt)
seal "$M" "${E[@]}" --out "$T/d" --resume "${ck[0]}" || bail "resume failed"
expect "keel diff: early-stopped run resumed from its last checkpoint" 0 "" -- diff "$c" "$B"
[[ ! -s $T/out ]] && ok || fail "diff printed: $(cat "$T/out")"

finish
