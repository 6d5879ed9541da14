#!/usr/bin/env bash
# Quality of the shipped manifests (issue 4's thresholds), read from each
# bundle's metrics.json: validation accuracy iris >= 0.93, digits (mlp)
# >= 0.96, penguins >= 0.95; diabetes validation R^2 >= 0.40. Swapping the
# digits mlp for softmax (`model.plugin=softmax`, and the one-line edit of
# the manifest) is accepted by keel check and trains.
#
# JSON is parsed with python3 (packaging/bootstrap.sh installs it; the
# bundle tests use it too).
set -euo pipefail
: "${KEEL:?}" "${KEEL_SRC:?}" "${KEEL_TMP:?}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
T=$KEEL_TMP
PY=$(command -v python3 || true)
[[ -n $PY ]] || { echo "FAIL: python3 is needed (packaging/bootstrap.sh installs it)" >&2; exit 1; }
unset OMP_NUM_THREADS
failures=0
passed=0

ok() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# train MANIFEST [OVERRIDES...]: sets B to the bundle path; 1 on failure.
train() {
  local out rc=0
  B=""
  out=$("$KEEL" run "$@" --out "$T/runs" --quiet 2>"$T/err") || rc=$?
  out=$(printf '%s\n' "$out" | tail -n 1)
  if ((rc != 0)) || [[ ! -f $out ]]; then
    fail "keel run $*: exit $rc"
    sed 's/^/    /' "$T/err" >&2
    return 1
  fi
  B=$out
}

# metric BUNDLE SPLIT NAME: the final metric from metrics.json.
metric() {
  tar xzf "$1" -O --wildcards '*/metrics.json' |
    "$PY" -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]][sys.argv[2]]
print("null" if v is None else repr(float(v)))' "$2" "$3"
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
  if train "$M/$name.ini"; then
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
rc=0
"$KEEL" check "$M/digits.ini" model.plugin=softmax >"$T/check.out" 2>&1 || rc=$?
if ((rc == 0)); then ok; else
  fail "keel check digits.ini model.plugin=softmax: exit $rc"
  sed 's/^/    /' "$T/check.out" >&2
fi
if train "$M/digits.ini" model.plugin=softmax train.epochs=5; then
  b=$B
  acc=$(metric "$b" valid accuracy)
  at_least "digits softmax (5 epochs) valid accuracy" "$acc" 0.5
fi
# ... and the one-line edit of the manifest (a copy in a folder that sees
# the shipped templates and data under the same relative names).
mkdir -p "$T/m"
ln -s "$M/templates" "$T/m/templates"
ln -s "$M/data" "$T/m/data"
edited=$T/m/digits-softmax.ini
sed -E '/^\[model\]/,/^\[/ s/^plugin *= *mlp *$/plugin = softmax/' "$M/digits.ini" >"$edited"
if (($(diff "$M/digits.ini" "$edited" | grep -c '^[<>]') == 2)); then ok; else
  fail "the softmax edit is not a one-line change: $(diff "$M/digits.ini" "$edited" | tr '\n' ' ')"
fi
rc=0
"$KEEL" check "$edited" >"$T/check.out" 2>&1 || rc=$?
if ((rc == 0)); then ok; else
  fail "keel check on digits.ini with '[model] plugin = softmax' (one-line edit): exit $rc"
  sed 's/^/    /' "$T/check.out" >&2
fi

echo "$passed passed, $failures failed"
((failures == 0))
