#!/usr/bin/env bash
# Fault injection (issue 11): a data file changed while `keel run` reads
# it, in two ways: rewritten in place with other bytes of the same size,
# and appended to. Either is the documented changed-file error
# (docs/data.md, "The lineage hash runs beside the parse"): exit 1, the
# message names the file and says it changed while this run was reading
# it, and the failed run is sealed as such (its bundle verifies, status
# "failed"); no bundle of a successful run. When the validation's schema
# scan is what sees the change, it is exit 2 and nothing is written. (A
# file truncated while read is test_truncated_while_read*.)
# The change is made as soon as keel has the file open or mapped
# (/proc/PID/fd, /proc/PID/maps);
# when keel was faster than the change, the file is made larger and the
# round repeated.
. "$(dirname "$0")/lib.sh"
need tar readlink grep
shipped_manifests iris
cd "$T/m"

# big ROWS: data/big.csv in $T/m holds ROWS rows of iris-like values.
big() {
  "$PY" - "$1" <<'PY'
import sys
n = int(sys.argv[1])
names = ("setosa", "versicolor", "virginica")
with open("big.csv", "w") as f:
    f.write("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species\n")
    for i in range(n):
        c = i % 3
        f.write(f"{4 + c + (i * 7 % 10) / 10:.1f},{3 + (i * 3 % 10) / 10:.1f},"
                f"{1 + 2 * c + (i * 11 % 10) / 10:.1f},{0.2 + c * 0.8:.1f},{names[c]}\n")
PY
}
uncatalogued iris.ini plain.ini # a plain path to the generated file
sed -e 's|^path = .*|path = big.csv|' -e 's|^epochs = .*|epochs = 1|' plain.ini >big.ini

# rewrite: other digits, same size and layout, from the middle on.
rewrite() {
  "$PY" -c 'import os
f = open("big.csv", "r+b"); n = os.fstat(f.fileno()).st_size
f.seek(n // 2); b = f.read(4096)
f.seek(n // 2); f.write(bytes(c if not 48 <= c <= 57 else 48 + (c - 47) % 10 for c in b))'
}
append() { echo "5.0,3.0,1.0,0.2,setosa" >>big.csv; }

# changed_under HOW: run, change the file with HOW once it is open, check.
changed_under() {
  local how=$1 rows=100000 try pid rc at_validation=0
  for try in 1 2 3 4; do
    big "$rows"
    rm -rf runs
    "$KEEL" run big.ini --out runs --quiet >"$T/out" 2>"$T/err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      if [[ $(readlink /proc/"$pid"/fd/* 2>/dev/null) == *"/big.csv"* ]] ||
        grep -q "/big\.csv" /proc/"$pid"/maps 2>/dev/null; then
        "$how"
        break
      fi
    done
    rc=0
    wait "$pid" || rc=$?
    if ((rc == 0)); then
      echo "$how: keel finished ($rows rows) before the change took; more rows"
      rows=$((rows * 3))
      continue
    fi
    grep -q "big\.csv: the file changed while this run was reading it" "$T/err" && ok ||
      { fail "$how: not the changed-file error"; show_output "$T/err"; }
    if ((rc == 2)); then
      # The validation's schema scan saw the change: a refusal before the
      # run starts, with nothing written (docs/data.md).
      [[ ! -s $T/out && -z $(ls -A runs 2>/dev/null) ]] && ok ||
        fail "$how: refused at validation yet wrote $(cat "$T/out") $(ls -A runs 2>/dev/null)"
      at_validation=1 # try again for the change during the run proper
      continue
    fi
    ((rc == 1)) && ok || { fail "$how: exit $rc, expected 1 (or 2 at validation)"; show_output "$T/err"; }
    local b
    b=$(tail -n 1 "$T/out")
    if [[ -f $b ]]; then
      expect "$how: the failed run's bundle verifies" 0 "^OK " -- verify "$b"
      tar xzf "$b" -O --wildcards '*/run.json' >"$T/run.json"
      [[ $(json_value "$T/run.json" 'd["status"]') == failed ]] && ok ||
        fail "$how: run.json status is not failed"
    else
      fail "$how: no failed-run bundle printed ($(cat "$T/out"))"
    fi
    return
  done
  if ((at_validation)); then
    echo "$how: every round's change was seen at validation (exit 2, checked)"
  else
    fail "$how: keel always finished before the change could be made"
  fi
}

changed_under rewrite
changed_under append

finish
