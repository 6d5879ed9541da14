#!/usr/bin/env bash
# Issue 11, finding 6, "Leftovers after kill -9": a run killed while it
# writes a checkpoint or its bundle leaves a temporary file
# (.checkpoint.ckpt.tmp-XXXXXX, .keel-run-….tar.gz.tmp-XXXXXX). A writer
# holds a lock (flock) on its temporary for the temporary's whole life, so
# a later run in the same folder tells a stale temporary (one it can lock)
# from a live one:
# - a stale temporary in the output folder and in the checkpoint folder is
#   removed, and the run says so, naming it;
# - a live one (held locked by another process) stays, and so do files
#   that only look similar (no leading dot, a shorter random part);
# - runs killed with kill -9 at several moments, then one more run in the
#   folder: no temporary is left anywhere under it.
. "$(dirname "$0")/lib.sh"
need flock find
shipped_manifests iris digits
M=$T/m/iris.ini
O=(train.checkpoint_every=1 train.epochs=3)
OUT=$T/runs

# A first run makes the checkpoint folder (named by the run's fingerprint).
seal "$M" "${O[@]}" --out "$OUT" || bail "first run failed"
ck=$(echo "$OUT"/checkpoints/*)
[[ -d $ck ]] || bail "no checkpoint folder under $OUT/checkpoints"

# Plant the temporaries an interrupted keel leaves, and one a live keel
# holds locked.
stale_bundle=$OUT/.keel-run-20260101T000000Z-dead.tar.gz.tmp-Ab3dE9
stale_ckpt=$ck/.checkpoint.ckpt.tmp-Zz09aQ
live=$OUT/.keel-run-20260101T000000Z-live.tar.gz.tmp-Li7eXx
head -c 210000 /dev/zero >"$stale_bundle"
head -c 1000 /dev/zero >"$stale_ckpt"
: >"$live"
lookalikes=("$OUT/keel-run-x.tar.gz.tmp-Ab3dE9" "$OUT/.notes.tmp-abc" "$OUT/.x.tmp-ABCDEFG")
for f in "${lookalikes[@]}"; do echo keep >"$f"; done
# (the subshell becomes the sleep, holding the lock on fd 9: killing it
# releases the lock, and nothing outlives the script)
(
  exec 9>>"$live" </dev/null >/dev/null 2>&1
  flock -x 9
  exec sleep 60
) &
holder=$!
# wait until the holder has the lock
for _ in $(seq 100); do
  flock -n "$live" true 2>/dev/null || break
  sleep 0.05
done
flock -n "$live" true 2>/dev/null && bail "the background flock never took its lock"

krun run "$M" "${O[@]}" --out "$OUT"
((RC == 0)) && ok || { fail "second run exited $RC"; show_output "$T/err"; }
[[ ! -e $stale_bundle ]] && ok || fail "stale bundle temporary not removed"
[[ ! -e $stale_ckpt ]] && ok || fail "stale checkpoint temporary not removed"
has_err "removal is reported" "$(basename "$stale_bundle")" "$(basename "$stale_ckpt")" "stale temporary"
[[ -e $live ]] && ok || fail "a live (locked) temporary was removed"
grep -q "$(basename "$live")" "$T/err" && fail "the live temporary was reported as removed" || ok
for f in "${lookalikes[@]}"; do
  [[ -e $f ]] && ok || fail "$f is not keel's temporary but was removed"
done
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
rm -f "$live" "${lookalikes[@]}"

# ---- kill -9 at a few moments, then one more run -----------------------------
# (digits, slower: its checkpoint folder is not the one the later run uses)
K=(train.checkpoint_every=1 train.epochs=400 model.hidden=64)
for delay in 0.05 0.2 0.4 0.7 1.0 1.5; do
  "$KEEL" run "$T/m/digits.ini" "${K[@]}" --out "$OUT" --quiet >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
left=$(find "$OUT" -name '.*.tmp-*' | wc -l)
echo "note: $left temporaries left by the killed runs" >&2
krun run "$M" "${O[@]}" --out "$OUT"
((RC == 0)) && ok || { fail "run after the kills exited $RC"; show_output "$T/err"; }
left=$(find "$OUT" -name '.*.tmp-*')
[[ -z $left ]] && ok || fail "temporaries left after a later run: $left"

finish
