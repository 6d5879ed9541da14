#!/usr/bin/env bash
# `keel plugins`: lists every built-in sorted by kind then name, prints
# documentation generated from a plugin's schema (text and --json), honours
# --plugin-path, and refuses unknown names with exit 2 and a "did you mean".
. "$(dirname "$0")/lib.sh"

# run CODE ARGS...: `keel plugins ARGS` exits CODE (stdout in $T/out,
# stderr in $T/err); returns 1 otherwise, so the checks of its output can
# be skipped.
run() {
  local want=$1
  shift
  krun plugins "$@"
  if ((RC != want)); then
    fail "plugins $*: exit $RC, expected $want: $(cat "$T/err")"
    return 1
  fi
  ok
}

# --- the list ---------------------------------------------------------------
if run 0; then
  for p in "source +csv" "transform +standardize" "model +softmax" "loss +xent" "optimizer +sgd"; do
    grep -qE "^$p +[0-9]+\.[0-9]+\.[0-9]+ +[^ ]" "$T/out" && ok || fail "list lacks $p"
  done
  # Sorted by kind (pipeline order), then name.
  order="source transform model loss optimizer"
  tail -n +2 "$T/out" | awk -v order="$order" '
    BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
    { key = sprintf("%d %s", rank[$1], $2); if (NR > 1 && key < prev) bad = 1; prev = key }
    END { exit bad }' && ok || fail "list is not sorted by kind then name"
fi

# --- one plugin's documentation ---------------------------------------------
if run 0 sgd; then
  has "sgd doc" "sgd 1." "(optimizer)" "license" "parameters"
  grep -qE '^  lr +float +0\.01 +1e-08 \.\. 10 +1/step +yes +learning rate' "$T/out" && ok ||
    fail "sgd doc: lr row not as expected: $(grep ' lr ' "$T/out")"
  grep -qE '^  nesterov +bool +false +true \| false' "$T/out" && ok || fail "sgd doc: nesterov row"
  file=$(awk '$1 == "file" {print $2}' "$T/out")
  sum=$(awk '$1 == "sha256" {print $2}' "$T/out")
  [[ -f $file && $(sha256sum "$file" | cut -d' ' -f1) == "$sum" ]] && ok || fail "sgd doc: sha256 does not match $file"
fi
run 0 optimizer/sgd && has "kind/name" "sgd 1."
if run 0 model/mlp; then
  grep -qE '^  activation +enum +relu +relu \| tanh \| gelu' "$T/out" && ok || fail "mlp doc: enum choices"
  has "mlp doc" "tasks     classification, regression" "accepts   numeric"
fi
run 0 csv && grep -qE '^  path +string +\(required\)' "$T/out" && ok || fail "csv doc: required path"
run 0 xent && has "xent doc" "parameters: none"

# --- JSON -------------------------------------------------------------------
# lr EXPR: EXPR over sgd's "lr" parameter (p), one value per match.
lr() { json_value "$T/out" "[$1 for p in d['params'] if p['name'] == 'lr']"; }
if run 0 --json; then
  [[ $(json_value "$T/out" '[p["kind"] for p in d["plugins"] if p["name"] == "softmax"][0]') == model ]] && ok || fail "json list"
  [[ $(json_value "$T/out" 'len(d["plugins"])') -ge 5 ]] && ok || fail "json list length"
  [[ $(json_value "$T/out" 'len(d["broken"]) + len(d["shadowed"])') == 0 ]] && ok || fail "json list: nothing broken or shadowed"
fi
if run 0 sgd --json; then
  [[ $(lr 'p["log_scale"]') == '[true]' ]] && ok || fail "json lr log_scale"
  [[ $(lr 'p["default"]') == '[0.01]' ]] && ok || fail "json lr default"
  [[ $(lr 'p["unit"]') == '["1/step"]' ]] && ok || fail "json lr unit"
  [[ $(json_value "$T/out" 'd["kind"]') == optimizer ]] && ok || fail "json kind"
  [[ $(json_value "$T/out" 'len(d["sha256"])') == 64 ]] && ok || fail "json sha256"
fi
if run 0 mlp --json; then
  [[ $(json_value "$T/out" '[p["choices"] for p in d["params"] if p["name"] == "activation"]') == '[["relu","tanh","gelu"]]' ]] &&
    ok || fail "json choices"
  [[ $(json_value "$T/out" 'd["contract"]["tasks"]') == '["classification","regression"]' ]] && ok || fail "json tasks"
fi

# --- --plugin-path ------------------------------------------------------------
run 0 sgd >/dev/null
src=$(awk '$1 == "file" {print $2}' "$T/out")
mkdir -p "$T/pp"
cp "$src" "$T/pp/"
run 0 sgd --plugin-path "$T/pp" && has "--plugin-path" "file      $T/pp/sgd.so"
run 0 sgd "--plugin-path=$T/pp" && has "--plugin-path=" "file      $T/pp/sgd.so"
KEEL_PLUGIN_PATH=$T/pp run 0 sgd && has "KEEL_PLUGIN_PATH" "file      $T/pp/sgd.so"

# --- refusals -------------------------------------------------------------------
run 2 sdg && has_err "did you mean" "no plugin named 'sdg' on the plugin path; did you mean 'sgd'?"
run 2 modle/mlp && has_err "unknown kind" "unknown plugin kind 'modle' (did you mean 'model'?)"
run 2 loss/sgd && has_err "wrong kind" "no loss plugin named 'sgd'"
run 2 sgd adam && has_err "two names" "expected at most one plugin name"
run 2 --frobnicate && has_err "unknown option" "unknown option '--frobnicate'"
run 2 --plugin-path && has_err "missing dir" "--plugin-path needs"
run 2 --plugin-path /nonexistent-dir && has_err "bad path" "/nonexistent-dir"
[[ ! -s $T/out ]] && ok || fail "refusal wrote to stdout"

# --- plugin log lines reach the terminal escaped ---------------------------------
# noisy.so logs an OSC title sequence, a bell and a carriage return when it
# is loaded; the CLI prints them as \xNN, never as raw control bytes.
run 0 noisy --plugin-path "${KEEL_BROKEN_DIR:?}/log_controls.so"
has_err "log line printed" 'keel: warning: noisy: \x1b]0;pwned\x07 title\x0dforged line'
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/err"; then
  fail "a plugin's control bytes reached stderr raw"
else
  ok
fi

finish
