#!/usr/bin/env bash
# Issue 11, finding 4: a data file truncated in place while keel reads it
# is an error, never a signal. The fixture source `truncating`
# (tests/plugins/truncate_while_read.c) opens its file through the host,
# truncates it to zero bytes and then reads the host's view of it, at one
# thread (lineage hash inline) and at two (hash on its own thread). keel
# must exit 1 with "the file changed while this run was reading it" naming
# the file, and seal the failed run into a bundle that verifies and shows
# as failed, with that message as its error.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the test plugins}"
cd "$T"

mkdir -p m
# The shipped regression template, with the fixture as its only source.
sed 's/^allow = csv .*/allow = truncating >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-regression.ini" >m/trunc-template.ini
grep -q '^allow = truncating' m/trunc-template.ini || bail "template edit failed"

for threads in 1 2; do
  data=$T/data-$threads.bin
  # 1 MiB: many pages, so a fault is not a matter of one boundary page.
  "$PY" -c 'import sys; open(sys.argv[1], "wb").write(bytes(i % 251 for i in range(1 << 20)))' "$data"
  cat >m/t$threads.ini <<EOF
[keel]
template = trunc-template.ini
template_version = >=1.0 <2

[data]
label = y

[source]
plugin = truncating
path = $data

[model]
plugin = linear

[loss]
plugin = mse

[optimizer]
plugin = sgd

[train]
epochs = 1
EOF
  krun run m/t$threads.ini --threads "$threads" --out "$T/runs$threads" \
    --plugin-path "$KEEL_BROKEN_DIR/truncate_while_read.so"
  if ((RC == 1)); then ok; else
    fail "threads $threads: exit $RC, expected 1 (135 is SIGBUS)"
    show_output "$T/out" "$T/err"
  fi
  has_err "threads $threads" "$data: the file changed while this run was reading it"
  [[ ! -s $data ]] && ok || fail "threads $threads: the fixture did not truncate $data"

  fb=$(ls "$T/runs$threads"/keel-run-*.tar.gz 2>/dev/null | head -n 1 || true)
  if [[ -z $fb ]]; then
    fail "threads $threads: no bundle sealed for the failed run"
    continue
  fi
  ok
  krun verify "$fb"
  ((RC == 0)) && ok || { fail "threads $threads: keel verify of the failed run's bundle: exit $RC"; show_output "$T/out" "$T/err"; }
  tar xzf "$fb" -O --wildcards '*/run.json' >"$T/run.json"
  [[ $(json_value "$T/run.json" 'd["status"]') == failed ]] && ok ||
    fail "threads $threads: run.json status is not failed"
  [[ $(json_value "$T/run.json" 'd["exit_code"]') == 1 ]] && ok ||
    fail "threads $threads: run.json exit_code is not 1"
  json_value "$T/run.json" 'd["error"]' | grep -qF "$data: the file changed while this run was reading it" && ok ||
    fail "threads $threads: run.json error does not say the file changed: $(json_value "$T/run.json" 'd.get("error")')"
  krun show "$fb"
  ((RC == 0)) && grep -qi 'failed' "$T/out" && ok || fail "threads $threads: keel show of the failed run: exit $RC"
done

finish
