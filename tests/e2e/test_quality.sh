#!/usr/bin/env bash
# Quality of the shipped manifests (issue 4's thresholds), read from each
# bundle's metrics.json: validation accuracy iris >= 0.93, digits (mlp)
# >= 0.96, penguins >= 0.95; diabetes validation R^2 >= 0.40. Swapping the
# digits mlp for softmax (`model.plugin=softmax`, and the one-line edit of
# the manifest) is accepted by keel check and trains.
#
# JSON is parsed with python3 (packaging/bootstrap.sh installs it; the
# bundle tests use it too).
. "$(dirname "$0")/lib.sh"
need "$PY" tar

# metric BUNDLE SPLIT NAME: the final metric from metrics.json.
metric() {
  tar xzf "$1" -O --wildcards '*/metrics.json' |
    json_value - "None if d['$2']['$3'] is None else float(d['$2']['$3'])"
}

# at_least LABEL VALUE MIN
at_least() {
  if [[ $2 != null ]] && "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$2" "$3"; then
    echo "$1 = $2 (>= $3)"
    ok
  else
    fail "$1 = $2, expected at least $3"
  fi
}

M=$KEEL_SRC/manifests
for spec in iris:accuracy:0.93 digits:accuracy:0.96 penguins:accuracy:0.95 diabetes:r2:0.40; do
  IFS=: read -r name key min <<<"$spec"
  if seal "$M/$name.ini" --out "$T/runs"; then
    b=$B
    at_least "$name valid $key" "$(metric "$b" valid "$key")" "$min"
    rows=$(metric "$b" valid rows)
    [[ $rows != null && ${rows%.*} -gt 0 ]] && ok || fail "$name: validation has no rows ($rows)"
  fi
done

# digits is an mlp model (the threshold is about the mlp).
grep -qE '^plugin *= *mlp' <(sed -n '/^\[model\]/,/^\[/p' "$M/digits.ini") && ok ||
  fail "manifests/digits.ini does not use the mlp model"

# Swapping mlp for softmax in digits: an override ...
expect "keel check digits.ini model.plugin=softmax" 0 "" -- check "$M/digits.ini" model.plugin=softmax
if seal "$M/digits.ini" model.plugin=softmax train.epochs=5 --out "$T/runs"; then
  b=$B
  acc=$(metric "$b" valid accuracy)
  at_least "digits softmax (5 epochs) valid accuracy" "$acc" 0.5
fi
# ... and the one-line edit of the manifest (a copy in a folder that sees
# the shipped templates and data under the same relative names).
shipped_manifests digits
edited=$T/m/digits-softmax.ini
sed -E '/^\[model\]/,/^\[/ s/^plugin *= *mlp *$/plugin = softmax/' "$T/m/digits.ini" >"$edited"
if (($(diff "$T/m/digits.ini" "$edited" | grep -c '^[<>]') == 2)); then ok; else
  fail "the softmax edit is not a one-line change: $(diff "$T/m/digits.ini" "$edited" | tr '\n' ' ')"
fi
expect "keel check on digits.ini with '[model] plugin = softmax' (one-line edit)" 0 "" -- check "$edited"

finish
