#!/usr/bin/env bash
# ctest: slow
# Concurrent runs appending to one audit log (issue 14, docs/data-access.md
# "Audit trail"): 2, then 8 runs at once interleave whole lines; the chain
# stays valid (`keel audit verify` exit 0), the log holds exactly the lines
# the bundles say their runs appended, and every bundle's anchor is found.
. "$(dirname "$0")/lib.sh"
need tar
cd "$T"
S=$KEEL_SRC/manifests
LOG=$XDG_DATA_HOME/keel/audit.jsonl

member() { tar xzf "$1" -O --wildcards "*/$2"; }

# burst K: K runs of iris at once, each into its own folder.
burst() {
  local k=$1 i pids=() failed=0
  for ((i = 1; i <= k; i++)); do
    "$KEEL" run "$S/iris.ini" --out "burst$k/$i" --quiet --threads 1 \
      >"$T/run$k.$i.out" 2>"$T/run$k.$i.err" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
  ((failed == 0)) && ok || fail "$failed of $k concurrent runs failed: $(cat "$T"/run$k.*.err)"
}

total=0
for k in 2 8; do
  burst "$k"
  bundles=("$T"/burst$k/*/*.tar.gz)
  [[ ${#bundles[@]} == "$k" ]] && ok || fail "$k runs left ${#bundles[@]} bundles"
  args=()
  for b in "${bundles[@]}"; do
    lines=$(member "$b" audit_chain.json | json_value - 'len(d["lines"])')
    total=$((total + lines))
    args+=(--bundle "$b")
  done
  [[ $(wc -l <"$LOG") == "$total" ]] && ok ||
    fail "after $k concurrent runs the log has $(wc -l <"$LOG") lines, the bundles account for $total"
  expect "$k concurrent runs: the chain holds and every anchor is found" 0 "chain intact" -- \
    audit verify "${args[@]}"
  [[ $(grep -c "anchored at seq" "$T/out") == "$k" ]] && ok || fail "not every bundle of $k is anchored"
done
# Whole lines: every line parses and names one of the runs.
"$PY" -c '
import json, sys
runs = set()
for line in open(sys.argv[1]):
    runs.add(json.loads(line)["run_id"])
assert len(runs) == 10, runs
' "$LOG" && ok || fail "the log does not hold whole lines of 10 runs"
finish
