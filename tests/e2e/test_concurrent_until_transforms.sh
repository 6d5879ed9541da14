#!/usr/bin/env bash
# Issue 11, finding 7, "Concurrent --until-transforms into one folder":
# four `keel run MANIFEST --until-transforms --out DIR` at once, several
# rounds. Each writer fills a temporary folder of its own and puts it into
# place atomically (docs/data.md, "Prepared data"): every writer succeeds,
# the last one to finish wins, the folder is complete and holds the same
# bytes as a lone run, and no temporary folder is left behind.
. "$(dirname "$0")/lib.sh"
shipped_manifests cars
M=$T/m/cars.ini
# The reference: one run alone.
expect "lone run" 0 "" -- run "$M" --quiet --until-transforms --out "$T/ref"
ref=$T/ref/transforms-cars
[[ -s $ref/split.json && -s $ref/X_valid.npy ]] || bail "the lone run wrote no prepared data"

for round in 1 2 3; do
  out=$T/runs
  if ((round == 3)); then rm -rf "$out"; fi # round 3: the folder is new
  pids=()
  for i in 1 2 3 4; do
    "$KEEL" run "$M" --quiet --until-transforms --out "$out" >"$T/c$i.out" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3 4; do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    if ((rc == 0)); then ok; else
      fail "round $round, writer $i exited $rc"
      show_output "$T/c$i.out"
    fi
  done
  d=$out/transforms-cars
  bad=""
  for f in "$ref"/*; do cmp -s "$f" "$d/${f##*/}" || bad+=" ${f##*/}"; done
  [[ -z $bad ]] && ok || fail "round $round: differs from a lone run or missing:$bad"
  [[ $(ls -A "$d") == "$(ls -A "$ref")" ]] && ok ||
    fail "round $round: the folder holds $(ls -A "$d" | tr '\n' ' ')"
  left=$(ls -A "$out" | grep -v '^transforms-cars$' || true)
  [[ -z $left ]] && ok || fail "round $round: left in the output folder: $left"
done

finish
