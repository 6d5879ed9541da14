#!/usr/bin/env bash
# What keel check and keel sweep refuse in a tuning space (docs/tuning.md),
# each with exit 2, the file and line, and nothing written: a distribution
# outside the template's [ranges.*] or outside the plugin's declared range,
# a manifest widening the template's space or adding a parameter, an
# objective no run reports, a malformed distribution. And what a sweep
# survives: a trial that fails at run time (batch larger than the data) or
# diverges (infinite loss) is recorded as failed with its error, and the
# sweep goes on.
. "$(dirname "$0")/lib.sh"
shipped_manifests iris cars
cd "$T/m"

# A template of our own: the shipped one without its space, sgd's rate
# allowed up to 10 by [ranges], and a space that reaches past the plugin.
sed '/^; The space/,$d' templates/tabular-classification.ini >wide.ini
sed -i -e 's/^name = tabular-classification/name = wide/' \
  -e 's/^lr = 0.00001 .. 1$/lr = 0.00001 .. 2/' wide.ini
cat >>wide.ini <<'EOF'
[tune]
objective = valid.accuracy max

[tune.optimizer.sgd]
lr = loguniform(0.0001, 8)
momentum = uniform(0, 0.9999)

[tune.train]
batch_size = choice(16, 4096)
EOF
manifest() { # NAME TEMPLATE: iris on TEMPLATE, then the lines of stdin
  sed "s/^template = tabular-classification/template = $2/" iris.ini >"$1"
  cat >>"$1"
}

# --- refused by keel check and keel sweep, nothing written ----------------
refused() { # LABEL MANIFEST REGEX
  expect "check: $1" 2 "$3" -- check "$2"
  expect "sweep: $1" 2 "$3" -- sweep "$2" --out "$T/refused"
  check "sweep: $1: no sweep folder" test ! -e "$T/refused"
}
manifest range.ini wide.ini <<'EOF'
[tune.optimizer.sgd]
lr = loguniform(0.001, 4)
EOF
refused "outside the template's [ranges]" range.ini \
  "range.ini:[0-9]+: optimizer.lr = loguniform\(0.001, 4\): the value 4 is not one a run accepts: .*outside the allowed range \[1e-05, 2\], as narrowed by template wide"
manifest plugin.ini wide.ini <<'EOF'
[tune.optimizer.sgd]
momentum = uniform(0.5, 0.9999)
EOF
refused "outside the plugin's declared range" plugin.ini \
  "plugin.ini:[0-9]+: optimizer.momentum = uniform\(0.5, 0.9999\): the value 0.9999 .*outside"
manifest widen.ini tabular-classification <<'EOF'
[tune.optimizer.sgd]
lr = loguniform(0.00001, 0.5)
EOF
refused "a manifest widening the template's space" widen.ini \
  "widen.ini:[0-9]+: \[tune.optimizer.sgd\] lr = loguniform\(0.00001, 0.5\) is not inside loguniform\(0.0001, 1\) .*never widen"
manifest add.ini tabular-classification <<'EOF'
[tune.optimizer.sgd]
weight_decay = uniform(0, 0.1)
EOF
refused "a manifest adding a parameter" add.ini \
  "add.ini:[0-9]+: \[tune.optimizer.sgd\] weight_decay: the template declares no such tuned parameter"
manifest objective.ini tabular-classification <<'EOF'
[tune]
objective = valid.rmse min
[tune.optimizer.sgd]
lr = loguniform(0.001, 0.5)
EOF
refused "an objective a classification run does not report" objective.ini \
  "objective.ini:[0-9]+: \[tune\] objective 'valid.rmse' is not a metric this classification run reports; expected one of .*valid.accuracy"
manifest split.ini tabular-classification <<'EOF'
[tune]
objective = test.accuracy max
[tune.optimizer.sgd]
lr = loguniform(0.001, 0.5)
EOF
refused "an objective on a split the run does not make" split.ini \
  "objective 'test.accuracy' is not a metric"
manifest malformed.ini tabular-classification <<'EOF'
[tune.optimizer.sgd]
lr = loguniform(0.001)
EOF
refused "a malformed distribution" malformed.ini \
  "malformed.ini:[0-9]+: \[tune.optimizer.sgd\] lr = loguniform\(0.001\): expected LO, HI"
manifest unknown.ini tabular-classification <<'EOF'
[tune.optimizer.sgd]
lr = normal(0.01, 0.1)
EOF
refused "an unknown distribution" unknown.ini "not a distribution; expected choice"
manifest section.ini tabular-classification <<'EOF'
[tune.data]
valid_fraction = uniform(0.1, 0.3)
EOF
refused "the data's split tuned" section.ini "\[tune.data\]: the data's split is not tuned"
expect "a plain run ignores [tune]" 0 "" -- run widen.ini --quiet --out "$T/plain"

# --- failures a sweep records and survives --------------------------------
manifest fail.ini wide.ini <<'EOF'
[tune]
strategy = grid
[tune.train]
batch_size = choice(16, 4096)
EOF
RC=0
"$KEEL" sweep fail.ini --out "$T/fail" >"$T/out" 2>"$T/err" || RC=$?
check "a sweep with one failing trial exits 0 (one succeeded)" test "$RC" = 0
has_err "the failed trial's error in the progress" "failed: " "batch_size"
has "the failed trial in the table" "failed"
SB=$(tail -n 1 "$T/out")
"$KEEL" show "$SB" --json >"$T/show.json"
check "sweep.json records one failed trial with its error" test \
  "$(json_value "$T/show.json" '",".join(t["status"] for t in d["sweep"]["trials"])')" \
  != "ok,ok"
check "the failed trial's error is recorded" test -n \
  "$(json_value "$T/show.json" '[t["error"] for t in d["sweep"]["trials"] if t["status"] == "failed"][0]')"

# a regression whose rate makes the loss infinite: recorded as failed
sed '/^; The space/,$d' templates/tabular-regression.ini >wider.ini
sed -i -e 's/^name = tabular-regression/name = wider/' \
  -e 's/^lr = 0.000001 .. 0.5$/lr = 0.000001 .. 10/' wider.ini
cat >>wider.ini <<'EOF'
[tune]
objective = valid.rmse min
strategy = grid
optimizer = choice(sgd)

[tune.optimizer.sgd]
lr = choice(0.001, 10)
EOF
sed "s/^template = tabular-regression/template = wider.ini/" cars.ini >diverge.ini
RC=0
"$KEEL" sweep diverge.ini --out "$T/diverge" >"$T/out" 2>"$T/err" || RC=$?
check "a sweep with a diverging trial exits 0" test "$RC" = 0
has_err "the diverged trial says so" "training diverged"
SB=$(tail -n 1 "$T/out")
expect "the sweep with failed trials verifies" 0 "intact" -- verify "$SB"

# every trial failing: exit 1, the sweep still sealed
manifest allfail.ini wide.ini <<'EOF'
[tune]
strategy = grid
[tune.train]
batch_size = choice(4096)
EOF
RC=0
"$KEEL" sweep allfail.ini --out "$T/allfail" >"$T/out" 2>"$T/err" || RC=$?
check "a sweep with no successful trial exits 1" test "$RC" = 1
has_err "says no trial succeeded" "no trial of 1 succeeded"
check "and is sealed all the same" test -f "$(tail -n 1 "$T/out")"

finish
