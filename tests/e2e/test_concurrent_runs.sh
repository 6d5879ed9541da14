#!/usr/bin/env bash
# Fault injection (issue 11): four `keel run` of one manifest into one
# --out folder at once (with checkpoints, so they share the checkpoint
# folder too). Each succeeds with its own bundle; the four verify and
# carry one result digest, the uninterrupted single run's; the folder holds
# the four bundles and the checkpoints, no temporary.
. "$(dirname "$0")/lib.sh"
need find
shopt -s nullglob
shipped_manifests iris
M=$T/m/iris.ini
O=(train.checkpoint_every=5 train.epochs=30)

seal "$M" "${O[@]}" --out "$T/alone" || bail "single run failed"
want=$(tar xzf "$B" -O --wildcards '*/digest.txt')

pids=()
for i in 1 2 3 4; do
  "$KEEL" run "$M" "${O[@]}" --out "$T/runs" --threads $((i % 2 + 1)) --quiet \
    >"$T/run$i.out" 2>"$T/run$i.err" &
  pids+=($!)
done
for i in 1 2 3 4; do
  rc=0
  wait "${pids[i - 1]}" || rc=$?
  ((rc == 0)) && ok || { fail "run $i: exit $rc"; show_output "$T/run$i.err"; }
done

bundles=("$T"/runs/keel-run-*.tar.gz)
((${#bundles[@]} == 4)) && ok || fail "expected 4 bundles, found ${#bundles[@]}"
for i in 1 2 3 4; do
  b=$(tail -n 1 "$T/run$i.out")
  [[ -f $b ]] && ok || fail "run $i printed '$b', not a bundle"
done
for b in "${bundles[@]}"; do
  expect "verify $(basename "$b")" 0 "^OK " -- verify "$b"
  got=$(tar xzf "$b" -O --wildcards '*/digest.txt')
  [[ $got == "$want" ]] && ok || fail "$(basename "$b"): result digest $got, the single run's is $want"
done
tmp=$(find "$T/runs" -name '.*')
[[ -z $tmp ]] && ok || fail "temporaries left: $tmp"
stray=$(find "$T/runs" -mindepth 1 -maxdepth 1 ! -name checkpoints ! -name 'keel-run-*.tar.gz')
[[ -z $stray ]] && ok || fail "stray files: $stray"

finish
