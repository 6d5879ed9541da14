#!/usr/bin/env bash
# ctest: slow
# Issue 11, finding 4, as it happens in the wild: a large CSV is truncated
# in place (to half its rows, on a row boundary) by a background
# `truncate` while `keel run` reads it, at delays spread over the run, at
# one and two threads. Every run must end in success with the lineage hash
# of the bytes it read (the whole file, or the half when the truncation
# came first), or with "the file changed while this run was reading it"
# naming the file: exit 1 and a sealed bundle once the run has started,
# exit 2 and nothing written when validation's schema scan saw it; never
# a signal (135 SIGBUS, 139 SIGSEGV). Deterministic fixture:
# test_truncated_while_read.sh.
. "$(dirname "$0")/lib.sh"
need truncate sha256sum
cd "$T"

mkdir -p m
# A 23-byte header and 600,000 rows of 80 bytes (48 MB): fixed width, so
# the truncated file (half the rows) is still a well-formed CSV.
"$PY" - "$T/pristine.csv" <<'PY'
import sys
rows, cols = 600000, 8
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{j}" for j in range(cols - 1)) + ",y\n")
    for i in range(rows):
        v = [((i * 7919 + j * 104729) % 200000) / 100000.0 - 1.0 for j in range(cols)]
        f.write(",".join(f"{x:+.6f}" for x in v)[:79] + "\n")
PY
size=$(stat -c %s "$T/pristine.csv")
half=$((23 + (size - 23) / 80 / 2 * 80))
full_sha=$(sha256sum "$T/pristine.csv" | cut -d' ' -f1)
half_sha=$(head -c "$half" "$T/pristine.csv" | sha256sum | cut -d' ' -f1)
data=$T/data.csv

cat >m/race.ini <<EOF
[keel]
template = tabular-regression
template_version = >=1.0 <2

[data]
label = y

[source]
plugin = csv
path = $data

[model]
plugin = linear

[loss]
plugin = mse

[optimizer]
plugin = sgd

[train]
epochs = 1
batch_size = 256
EOF
ln -s "$KEEL_SRC/manifests/templates" m/templates

# One undisturbed run per thread count: it must read the whole file, and
# its time sets the delays, spread over the run whatever the machine's
# load (the file is read by the schema scan of validation, then hashed
# and parsed by the run, which settles the hash before training).
declare -A took
for threads in 1 2; do
  cp "$T/pristine.csv" "$data"
  start=$(date +%s%N)
  krun run m/race.ini --threads "$threads" --out "$T/runs-clean" --quiet
  took[$threads]=$((($(date +%s%N) - start) / 1000000))
  ((RC == 0)) || bail "undisturbed run at $threads threads: exit $RC: $(cat "$T/err")"
  sha=$(tar xzf "$(tail -n 1 "$T/out")" -O --wildcards '*/lineage.json' | json_value - 'd["source"]["files"][0]["sha256"]')
  [[ $sha == "$full_sha" ]] && ok || fail "undisturbed run at $threads threads: lineage hash $sha, not the file's $full_sha"
done

sealed=0 refused=0 whole=0 halved=0
for threads in 1 2; do
  for pct in 0 5 10 15 20 30 40 50 60 70 80 90 100; do
    delay=$(printf '%d.%03d' $((took[$threads] * pct / 100 / 1000)) $((took[$threads] * pct / 100 % 1000)))
    cp "$T/pristine.csv" "$data"
    rm -rf "$T/runs"
    RC=0
    "$KEEL" run m/race.ini --threads "$threads" --out "$T/runs" --quiet \
      >"$T/out" 2>"$T/err" &
    pid=$!
    sleep "$delay"
    truncate -s "$half" "$data"
    wait "$pid" || RC=$?
    what="threads $threads, truncated after ${delay}s"
    fb=$(ls "$T/runs"/keel-run-*.tar.gz 2>/dev/null | head -n 1 || true)
    said_changed=0
    grep -qF "$data: the file changed while this run was reading it" "$T/err" && said_changed=1
    if ((RC == 0)) && [[ -n $fb ]]; then
      sha=$(tar xzf "$fb" -O --wildcards '*/lineage.json' | json_value - 'd["source"]["files"][0]["sha256"]')
      if [[ $sha == "$full_sha" ]]; then
        whole=$((whole + 1)) && ok
      elif [[ $sha == "$half_sha" ]]; then
        halved=$((halved + 1)) && ok
      else
        fail "$what: success with the hash of neither the whole file nor its half ($sha)"
      fi
    elif ((RC == 1 && said_changed)); then
      # The run had started: its failure is sealed.
      sealed=$((sealed + 1))
      [[ -n $fb ]] && ok || fail "$what: the failed run left no bundle"
    elif ((RC == 2 && said_changed)); then
      # Validation's schema scan saw the change: nothing is written.
      refused=$((refused + 1))
      [[ -z $fb ]] && ok || fail "$what: a refusal at validation left a bundle"
    else
      fail "$what: exit $RC (135 is SIGBUS, 139 SIGSEGV), not success or the changed-file error"
      show_output "$T/err"
    fi
  done
done
echo "$TEST_NAME: $whole read whole, $halved read the half, $refused refused at validation, $sealed failed and sealed"
# The delays span the run: some run must have seen the file change.
((sealed + refused > 0)) && ok || fail "no run saw the file change: the delays missed the read"

finish
