#!/usr/bin/env bash
# Checkpoints and --resume end to end, on the digits manifest with
# [train] checkpoint_every set by override:
# - a run killed with kill -9 after a checkpoint (and at least one more
#   epoch) and resumed from that checkpoint, at another thread count, ends
#   with the same weights, optimizer state and metrics bytes (and result
#   digest) as an uninterrupted run;
# - the killed run leaves no bundle and no temporary file under a final
#   name in the output folder;
# - a corrupted, truncated or foreign file is refused as a checkpoint, and
#   a checkpoint of another manifest or other values is refused naming the
#   reason; each with a non-zero exit.
. "$(dirname "$0")/lib.sh"
need tar
shopt -s nullglob

# expect_nonzero LABEL REGEX ARGS...: keel ARGS exits non-zero with
# stdout+stderr (in $T/out) matching REGEX (grep -Ei).
expect_nonzero() {
  local label=$1 re=$2
  shift 2
  RC=0
  "$KEEL" "$@" >"$T/out" 2>&1 || RC=$?
  if ((RC != 0)) && grep -qEi -- "$re" "$T/out"; then ok; else
    fail "$label: exit $RC, output:"
    show_output
  fi
}

# files_of BUNDLE DIR: extracts the bundle into DIR, prints the run folder.
files_of() {
  mkdir -p "$2"
  tar xzf "$1" -C "$2"
  echo "$2"/keel-run-*
}

# A snapshot of the manifest beside the shipped templates and data, so an
# edit of the source tree while the test runs cannot change it.
shipped_manifests digits iris
M=$T/m/digits.ini
# Epoch lines on stderr (not a terminal): "epoch E/N ...".
epochs_seen() { grep -c '^epoch [0-9]' "$1" 2>/dev/null || true; }

# ---- kill -9 between checkpoints, then resume ---------------------------
# The first setting that is slow enough to be killed part-way is used.
killed=0
for setting in "model.hidden=256 train.epochs=40" "model.hidden=512 train.epochs=80"; do
  read -r -a O <<<"train.checkpoint_every=2 $setting"
  rm -rf "$T/a" "$T/b"
  seal "$M" "${O[@]}" --out "$T/a" --threads 2 || break
  a=$B
  n_epochs=${setting##*=}

  "$KEEL" run "$M" "${O[@]}" --out "$T/b" --threads 2 >"$T/b.out" 2>"$T/b.err" &
  pid=$!
  # Wait for a checkpoint and at least one epoch past the first one
  # (checkpoint_every=2: epoch 3 is between checkpoints).
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    if compgen -G "$T/b/checkpoints/*/checkpoint.ckpt" >/dev/null && (($(epochs_seen "$T/b.err") >= 3)); then
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if kill -9 "$pid" 2>/dev/null; then
    rc=0
    { wait "$pid"; } 2>/dev/null || rc=$?
    # Counted once the run is dead: it may have finished another epoch
    # (and written its checkpoint) between the loop's last look and the
    # kill, and an epoch's line comes before its checkpoint.
    seen=$(epochs_seen "$T/b.err")
    if ((rc == 137)) && ((seen < n_epochs)); then
      killed=1
      break
    fi
  else
    wait "$pid" || true
    seen=$(epochs_seen "$T/b.err")
  fi
  echo "note: run with $setting finished before it could be killed (saw $seen epochs); trying a slower one" >&2
done

if ((killed == 0)); then
  fail "could not kill a run part-way"
else
  ok
  # The killed run left no bundle, no temporary bundle, and only the
  # checkpoint (or a checkpoint temporary, never under the final name).
  top=$(ls -A "$T/b")
  [[ $top == checkpoints ]] && ok || fail "killed run left in its output folder: $(echo $top)"
  others=$(find "$T/b/checkpoints" -type f ! -name checkpoint.ckpt)
  if [[ -n $others ]]; then
    if grep -qvE '/\.checkpoint\.ckpt\.tmp-[A-Za-z0-9]{6}$' <<<"$others"; then
      fail "killed run left non-temporary files: $others"
    else
      echo "note: killed run left a checkpoint temporary: $others" >&2
      ok
    fi
  else
    ok
  fi
  ckpts=("$T"/b/checkpoints/*/checkpoint.ckpt)
  ((${#ckpts[@]} == 1)) || bail "expected one checkpoint after the kill, found ${#ckpts[@]}"
  ok
  ck=${ckpts[0]}
  cp "$ck" "$T/saved.ckpt"

  # Resume at another thread count.
  rc=0
  r=$("$KEEL" run "$M" "${O[@]}" --out "$T/b" --threads 1 --resume "$ck" 2>"$T/r.err" | tail -n 1) || rc=$?
  if ((rc != 0)) || [[ ! -f $r ]]; then
    fail "resume exited $rc"
    show_output "$T/r.err"
  else
    ok
    first=$(sed -nE 's#^epoch ([0-9]+)/.*#\1#p' "$T/r.err" | head -n 1)
    last=$(sed -nE 's#^epoch ([0-9]+)/.*#\1#p' "$T/r.err" | tail -n 1)
    ((first > 1 && first <= seen + 1)) && ok ||
      fail "resume began at epoch '$first' (killed after $seen epochs; a checkpoint was there)"
    [[ $last == "$n_epochs" ]] && ok || fail "resume ended at epoch '$last', expected $n_epochs"
    da=$(files_of "$a" "$T/xa")
    dr=$(files_of "$r" "$T/xr")
    bad=""
    for f in $(cd "$da" && ls weights/* optimizer_state.npy metrics.jsonl metrics.json digest.txt); do
      cmp -s "$da/$f" "$dr/$f" || bad+=" $f"
    done
    [[ -z $bad ]] && ok || fail "resumed run differs from the uninterrupted one in:$bad"
    [[ $(cd "$dr" && ls weights) == $(cd "$da" && ls weights) ]] && ok || fail "resumed run has other weight tensors"
    expect "diff uninterrupted vs resumed" 0 "" -- diff "$a" "$r"
    [[ ! -s $T/out ]] && ok || fail "diff of uninterrupted and resumed printed: $(cat "$T/out")"
    expect "verify resumed bundle" 0 "^OK " -- verify "$r"
  fi
  # The folder holds the one sealed bundle and checkpoints, nothing else.
  stray=$(find "$T/b" -mindepth 1 -maxdepth 1 ! -name checkpoints ! -name 'keel-run-*.tar.gz')
  [[ -z $stray ]] && ok || fail "stray files beside the bundle: $stray"
  (($(find "$T/b" -maxdepth 1 -name 'keel-run-*.tar.gz' | wc -l) == 1)) && ok || fail "expected one bundle in $T/b"

  # ---- refusals -----------------------------------------------------------
  # A flipped byte in the middle of the checkpoint.
  cp "$T/saved.ckpt" "$T/flipped.ckpt"
  flip "$T/flipped.ckpt" $(($(stat -c %s "$T/flipped.ckpt") / 2))
  expect_nonzero "corrupted checkpoint" "flipped\.ckpt.*corrupt" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$T/flipped.ckpt"
  # Refused after validation: the attempt is sealed as a failed run.
  fb=$(grep '\.tar\.gz$' "$T/out" | tail -n 1 || true)
  if [[ -n $fb && -f $fb ]]; then
    expect "verify the failed resume's bundle" 0 "" -- verify "$fb"
    tar xzf "$fb" -O --wildcards '*/run.json' >"$T/run.json"
    grep -q '"status": "failed"' "$T/run.json" && grep -q 'corrupted' "$T/run.json" && ok ||
      fail "failed resume's run.json does not record the failure: $(cat "$T/run.json")"
  else
    fail "the refused resume printed no bundle path"
  fi
  # A flipped byte in the header.
  cp "$T/saved.ckpt" "$T/header.ckpt"
  flip "$T/header.ckpt" 20
  expect_nonzero "checkpoint with a flipped header byte" "header\.ckpt.*(corrupt|sizes|version|not a keel)" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$T/header.ckpt"
  head -c 100 "$T/saved.ckpt" >"$T/truncated.ckpt"
  expect_nonzero "truncated checkpoint" "truncated\.ckpt" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$T/truncated.ckpt"
  expect_nonzero "not a checkpoint" "digits\.ini.*not a keel checkpoint" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$M"
  expect_nonzero "missing checkpoint" "checkpoint .*nope\.ckpt: cannot open" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$T/nope.ckpt"
  # No temporaries from the refused resumes.
  tmp=$(find "$T/c" -name '.*' 2>/dev/null || true)
  [[ -z $tmp ]] && ok || fail "temporary files left after refused resumes: $tmp"

  # A checkpoint of another manifest, and of the same manifest with
  # another value: refused, naming the fingerprint.
  "$KEEL" run "$T/m/iris.ini" train.checkpoint_every=1 train.epochs=3 \
    --out "$T/iris" --quiet >/dev/null 2>"$T/iris.err" || { fail "iris checkpoint run"; show_output "$T/iris.err"; }
  iris_ck=$(echo "$T"/iris/checkpoints/*/checkpoint.ckpt)
  expect_nonzero "checkpoint of another manifest" "fingerprint|another run|different" \
    run "$M" "${O[@]}" --out "$T/c" --quiet --resume "$iris_ck"
  expect_nonzero "checkpoint of other values" "fingerprint|another run|different" \
    run "$M" "${O[@]}" optimizer.lr=0.001 --out "$T/c" --quiet --resume "$T/saved.ckpt"
fi

finish
