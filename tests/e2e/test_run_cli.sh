#!/usr/bin/env bash
# keel run's command-line contract:
# - the bundle path is the last (with --quiet: the only) line of stdout;
#   progress and logs go to stderr only;
# - --out DIR (and --out=DIR) is respected; the default is runs/ in the
#   working folder;
# - a run failing after validation (training diverges) exits 1, names the
#   epoch and step, and still leaves a sealed bundle that keel verify
#   accepts and whose run.json records the failure;
# - a batch size larger than the training split: non-zero exit, a message
#   naming both numbers, nothing half-written;
# - --until-transforms writes the prepared matrices;
# - keel --version, keel help run, usage errors and unknown commands.
. "$(dirname "$0")/lib.sh"
need tar

# no_temporaries DIR LABEL: no dot-files (the bundle writer's
# .<id>.tar.gz.tmp-XXXXXX) or other temporaries in DIR.
no_temporaries() {
  local left
  left=$(find "$1" -name '.*' -o -name '*.tmp*' 2>/dev/null | head)
  [[ -z $left ]] && ok || fail "$2: temporary files left: $left"
}

IRIS=$KEEL_SRC/manifests/iris.ini
DIAB=$KEEL_SRC/manifests/diabetes.ini

# ---- stdout / stderr -----------------------------------------------------
krun run "$IRIS" --out "$T/o1" --threads 2
b=$(tail -n 1 "$T/out")
if ((RC == 0)) && [[ -f $b && $b == "$T/o1/keel-run-"*.tar.gz ]]; then ok; else
  fail "keel run --out: exit $RC, last stdout line '$b'"
  show_output "$T/out" "$T/err"
fi
(($(wc -l <"$T/out") == 1)) && ok || fail "keel run printed more than the bundle path on stdout: $(cat "$T/out")"
grep -qE '^epoch 1/[0-9]+ ' "$T/err" && ok || fail "no per-epoch progress on stderr (not a terminal)"

krun run "$IRIS" --out="$T/o2" --quiet
b2=$(cat "$T/out")
if ((RC == 0)) && (($(wc -l <"$T/out") == 1)) && [[ -f $b2 && $b2 == "$T/o2/"* ]]; then ok; else
  fail "keel run --out=DIR --quiet: exit $RC, stdout '$(cat "$T/out")'"
fi
[[ ! -s $T/err ]] && ok || fail "--quiet still wrote to stderr: $(cat "$T/err")"
(($(find "$T/o2" -type f | wc -l) == 1)) && ok || fail "--out folder holds more than the bundle: $(ls -A "$T/o2")"
no_temporaries "$T/o1" "run"
"$KEEL" verify "$b" >/dev/null && ok || fail "keel verify of the bundle from --out"

# Default output folder: runs/ relative to the working folder.
mkdir -p "$T/cwd"
rc=0
rel=$(cd "$T/cwd" && "$KEEL" run "$IRIS" --quiet 2>"$T/err") || rc=$?
if ((rc == 0)) && [[ $rel == runs/keel-run-*.tar.gz && -f $T/cwd/$rel ]]; then ok; else
  fail "default --out: exit $rc, printed '$rel' (expected runs/keel-run-*.tar.gz under the working folder)"
fi
[[ ! -e $KEEL_SRC/manifests/runs ]] && ok || fail "a runs/ folder appeared beside the manifest"

# ---- failure after validation: divergence --------------------------------
# diabetes' raw target (~150) with SGD at the template's largest lr (0.5)
# blows up within a few epochs.
krun run "$DIAB" optimizer.lr=0.5 --out "$T/div" --quiet
fb=$(tail -n 1 "$T/out")
if ((RC == 1)); then ok; else
  fail "diverging run: exit $RC, expected 1"
  show_output "$T/out" "$T/err"
fi
if grep -qiE 'diverged.*epoch [0-9]+.*step [0-9]+' "$T/err" && grep -qi 'smaller learning rate' "$T/err"; then ok; else
  fail "divergence message does not name epoch and step and suggest a smaller learning rate: $(cat "$T/err")"
fi
if [[ -f $fb && $fb == "$T/div/keel-run-"*.tar.gz ]]; then
  ok
  krun verify "$fb"
  ((RC == 0)) && ok || { fail "keel verify of the failed run's bundle: exit $RC"; show_output "$T/out" "$T/err"; }
  tar xzf "$fb" -O --wildcards '*/run.json' >"$T/run.json"
  grep -q '"status": "failed"' "$T/run.json" && ok || fail "failed run's run.json status is not failed"
  grep -q '"exit_code": 1,' "$T/run.json" && ok || fail "failed run's run.json exit_code is not 1"
  grep -qE '"error": ".*diverged.*epoch [0-9]+.*step [0-9]+' "$T/run.json" && ok ||
    fail "failed run's run.json error does not name epoch and step: $(grep '"error"' "$T/run.json")"
  # The metric lines reached are kept.
  n=$(tar xzf "$fb" -O --wildcards '*/metrics.jsonl' | grep -c '"epoch"' || true)
  ((n >= 1)) && ok || fail "failed run's bundle has no metric lines"
  krun show "$fb"
  ((RC == 0)) && grep -qi 'failed' "$T/out" && ok || fail "keel show of a failed run: exit $RC"
else
  fail "diverging run left no sealed bundle (last stdout line '$fb')"
fi
no_temporaries "$T/div" "diverged run"
(($(find "$T/div" -type f | wc -l) == 1)) && ok || fail "diverged run left more than one file: $(ls -A "$T/div")"

# ---- batch size larger than the training split ---------------------------
krun run "$DIAB" train.batch_size=100000 --out "$T/bs" --quiet
if ((RC != 0)) && grep -qE 'batch_size.*100000' "$T/err" && grep -qE 'training split.*[0-9]+ rows|[0-9]+ training rows' "$T/err"; then ok; else
  fail "batch_size > training rows: exit $RC"
  show_output "$T/out" "$T/err"
fi
no_temporaries "$T/bs" "batch_size refusal"
# Anything it left is a complete, sealed record of the failure.
for f in $(find "$T/bs" -type f 2>/dev/null); do
  if [[ $f == "$T/bs/keel-run-"*.tar.gz ]] && "$KEEL" verify "$f" >/dev/null 2>&1 &&
    tar xzf "$f" -O --wildcards '*/run.json' | grep -q '"status": "failed"'; then ok; else
    fail "batch_size refusal left '$f', not a sealed failed bundle"
  fi
done
# cli.md: exit 2 means nothing was written; a sealed run exits 1.
if ((RC == 2)) && [[ -n $(find "$T/bs" -type f 2>/dev/null) ]]; then
  fail "batch_size refusal exits 2 (\"nothing was trained or written\") yet sealed a bundle; a run failing after validation exits 1"
else
  ok
fi

# ---- --until-transforms ----------------------------------------------------
krun run "$KEEL_SRC/manifests/penguins.ini" --until-transforms --out "$T/ut"
d=$(tail -n 1 "$T/out")
if ((RC == 0)) && [[ $d == "$T/ut/transforms-penguins" && -d $d ]]; then ok; else
  fail "--until-transforms: exit $RC, printed '$d'"
  show_output "$T/out" "$T/err"
fi
for f in X_train.npy y_train.npy X_valid.npy y_valid.npy split.json schemas.json; do
  if [[ -f $d/$f ]]; then ok; else fail "--until-transforms did not write $f"; fi
done
[[ $(head -c 6 "$d/X_train.npy" | od -An -c | tr -d ' ') == '223NUMPY' ]] && ok || fail "X_train.npy is not a .npy file"
ls "$d"/0*-transform.*.json >/dev/null 2>&1 && ok || fail "--until-transforms wrote no fitted transform state"
[[ -z $(find "$T/ut" -name 'keel-run-*') ]] && ok || fail "--until-transforms sealed a bundle"
no_temporaries "$T/ut" "--until-transforms"

# ---- version, help, usage errors ------------------------------------------
krun --version
((RC == 0)) && grep -qE '^keel [0-9]+\.[0-9]+\.[0-9]+' "$T/out" && ok || { fail "keel --version: exit $RC"; show_output "$T/out" "$T/err"; }
# The revision is taken at build time, not at configure time: in a git
# checkout it is the commit the binary was built from (a build after a
# commit without a new configure must not report the older one).
if head=$(git -C "$KEEL_SRC" rev-parse HEAD 2>/dev/null); then
  grep -qE "revision $head(-dirty)?\)" "$T/out" && ok ||
    fail "keel --version does not name HEAD ($head; rebuild after a commit): $(cat "$T/out")"
fi
krun help run
if ((RC == 0)) && grep -q 'usage: keel run MANIFEST' "$T/out" && grep -q -- '--resume' "$T/out" && grep -q -- '--out' "$T/out"; then ok; else
  fail "keel help run: exit $RC"
  show_output "$T/out" "$T/err"
fi
# help and docs/cli.md agree: --until-transforms takes no folder.
if grep -q -- '--until-transforms DIR' "$T/out" "$T/err"; then
  fail "keel help run shows '--until-transforms DIR', but the option takes no value (docs/cli.md; 'keel run M --until-transforms DIR' is a usage error)"
else
  ok
fi
krun frobnicate
((RC == 2)) && grep -qi "unknown command 'frobnicate'" "$T/err" && ok || { fail "unknown command: exit $RC"; show_output "$T/out" "$T/err"; }
[[ ! -s $T/out ]] && ok || fail "unknown command wrote to stdout"

mkdir -p "$T/usage"
usage_case() {
  local label=$1
  shift
  RC=0
  (cd "$T/usage" && "$KEEL" "$@") >"$T/out" 2>"$T/err" || RC=$?
  if ((RC == 2)) && grep -q 'usage: keel run' "$T/err" && [[ ! -s $T/out ]]; then ok; else
    fail "$label: exit $RC, expected 2 with the usage on stderr"
    show_output "$T/out" "$T/err"
  fi
}
usage_case "no manifest" run
usage_case "--threads 0" run "$IRIS" --threads 0
usage_case "--threads x" run "$IRIS" --threads x
usage_case "unknown option" run "$IRIS" --bogus
usage_case "stray argument" run "$IRIS" stray
[[ -z $(ls -A "$T/usage") ]] && ok || fail "usage errors wrote files: $(ls -A "$T/usage")"
# A validation error (a value out of the template's range): exit 2, nothing written.
RC=0
(cd "$T/usage" && "$KEEL" run "$IRIS" optimizer.lr=5) >"$T/out" 2>"$T/err" || RC=$?
((RC == 2)) && grep -q 'optimizer' "$T/err" && ok || { fail "out-of-range lr: exit $RC"; show_output "$T/out" "$T/err"; }
[[ -z $(ls -A "$T/usage") ]] && ok || fail "a validation error wrote files: $(ls -A "$T/usage")"

finish
