#!/usr/bin/env bash
# keel sweep (docs/tuning.md): a grid over two parameters of the penguins
# manifest gives one verified bundle per trial and a ranked table; the
# same seed with --jobs 1 and --jobs 2 gives identical trials and result
# digests although the trials end in another order (digits with one
# value of epochs 40 times the other: the short trial of a pair ends
# first); TPE likewise; the sweep's bundle verifies, shows and diffs, and replay
# refuses it; editing the manifest while the sweep runs changes nothing.
. "$(dirname "$0")/lib.sh"
shipped_manifests penguins digits
cd "$T/m"
sweep_manifests

sweep() { # OUT ARGS...: the sweep's bundle in $SB, progress in $T/OUT.err
  local out=$1
  shift
  RC=0
  "$KEEL" sweep "$@" --out "$T/$out" >"$T/$out.out" 2>"$T/$out.err" || RC=$?
  SB=$(tail -n 1 "$T/$out.out")
}
trials_of() { # BUNDLE: one "values status result_digest" line per trial
  "$KEEL" show "$1" --json |
    json_value - '"\n".join(" ".join(t["overrides"]) + " " + t["status"] + " " + str(t.get("result_digest")) for t in d["sweep"]["trials"])'
}

# --- the grid, one job ---------------------------------------------------
sweep j1 grid.ini --jobs 1 --seed 1 --no-reuse
check "grid sweep exits 0" test "$RC" = 0
check "the sweep's bundle exists" test -f "$SB"
has_trials=$(grep -c '^trial [0-9] ok .*\[[1-4]/4 done' "$T/j1.err" || true)
check "four trials ran, each ok (progress says done/N)" test "$has_trials" = 4
cp "$T/j1.out" "$T/out"
has "ranked table" "rank  trial  valid.accuracy" "best: trial" "sweep result digest"
n_bundles=$(ls "$(dirname "$SB")"/trials/keel-run-*.tar.gz | wc -l)
check "one run bundle per trial" test "$n_bundles" = 4
for b in "$(dirname "$SB")"/trials/keel-run-*.tar.gz; do
  expect "trial bundle $(basename "$b") verifies" 0 "" -- verify "$b"
done
expect "the sweep's bundle verifies" 0 "intact" -- verify "$SB"
expect "show lists the space, trials and best" 0 "keel-sweep/1" -- show "$SB"
has "show" "strategy   grid, seed 1" "train.epochs" "optimizer.lr" "best       trial"
expect "replay refuses a sweep's bundle" 2 "sweep's bundle, not a run's" -- replay "$SB"
S1=$SB
D1=$(sweep_digest "$S1")

# --- the same sweep, two jobs ---------------------------------------------
sweep j2 grid.ini --jobs 2 --seed 1 --no-reuse
check "two-job sweep exits 0" test "$RC" = 0
check "--jobs 2 gives the sweep result digest of --jobs 1" test "$(sweep_digest "$SB")" = "$D1"
check "--jobs 2 gives the same trials, in order, with the same result digests" \
  test "$(trials_of "$SB")" = "$(trials_of "$S1")"
expect "diff of the two sweeps is quiet" 0 "" -- diff "$S1" "$SB"
check "diff printed nothing" test ! -s "$T/out"

# --- trials that end in another order than they started -------------------
sweep d1 slow.ini --jobs 1 --seed 2 --no-reuse
check "digits grid, one job, exits 0" test "$RC" = 0
DS1=$SB
sweep d2 slow.ini --jobs 2 --seed 2 --no-reuse
ended=$(grep -oE '^trial [0-9]+ ok' "$T/d2.err" | grep -oE '[0-9]+' | tr '\n' ' ')
if [[ $ended == "0 1 2 3 " ]]; then
  fail "with --jobs 2 the digits trials should end out of order (ended: $ended)"
  show_output "$T/d2.err"
else ok; fi
check "trials ending out of order: the same sweep result digest as one job" \
  test "$(sweep_digest "$SB")" = "$(sweep_digest "$DS1")"
check "trials ending out of order: the same trials and result digests" \
  test "$(trials_of "$SB")" = "$(trials_of "$DS1")"

# --- the run cache: a repeated sweep trains nothing ------------------------
sweep again grid.ini --jobs 2 --seed 1
check "a repeated sweep exits 0" test "$RC" = 0
reused=$(grep -c '^trial [0-9] ok .*(reused)' "$T/again.err" || true)
check "a repeated sweep reuses every trial from the registry" test "$reused" = 4
check "and has the sweep result digest of the first" test "$(sweep_digest "$SB")" = "$D1"
expect "keel runs best --sweep ranks a sweep's trials" 0 "valid.accuracy" -- \
  runs best --sweep "$(basename "$(dirname "$S1")")"

# --- another seed visits the grid in another order ------------------------
sweep s2 grid.ini --jobs 2 --seed 2
expect "diff of two seeds names the trials" 1 "sweep result digest" -- diff "$S1" "$SB"
expect "diff of a sweep and a run is refused" 2 "sweep's bundle and" -- \
  diff "$S1" "$(ls "$(dirname "$S1")"/trials/keel-run-*.tar.gz | head -n 1)"

# --- TPE: the same trials for one job and two ------------------------------
sweep t1 tpe.ini --trials 9 --seed 7 --jobs 1
check "tpe sweep exits 0" test "$RC" = 0
T1=$SB
sweep t2 tpe.ini --trials 9 --seed 7 --jobs 2 --no-reuse
check "tpe with --jobs 2: the same trials and results" \
  test "$(trials_of "$SB")" = "$(trials_of "$T1")"
check "tpe with --jobs 2: the same sweep result digest" \
  test "$(sweep_digest "$SB")" = "$(sweep_digest "$T1")"

# --- median pruning: the same pruned trials for one job and two ----------
sed 's/^startup = 4$/startup = 4\nprune_after = 2\nstrategy = random\ntrials = 16/' tpe.ini |
  sed '/^strategy = tpe$/d; /^\[tune.train\]$/,$d' >prune.ini
sweep p1 prune.ini --seed 3 --jobs 1 --no-reuse
check "a pruning sweep exits 0" test "$RC" = 0
pruned=$(grep -c '^trial [0-9]* pruned .*worse than .*the median of the earlier rounds' "$T/p1.err" || true)
check "some trials are pruned, each saying by which median" test "$pruned" -ge 1
sweep p2 prune.ini --seed 3 --jobs 2 --no-reuse
check "pruning with --jobs 2: the same trials, statuses and results" \
  test "$(trials_of "$SB")" = "$(trials_of "$(tail -n 1 "$T/p1.out")")"
check "pruning with --jobs 2: the same sweep result digest" \
  test "$(sweep_digest "$SB")" = "$(sweep_digest "$(tail -n 1 "$T/p1.out")")"
pb=$("$KEEL" show "$SB" --json | json_value - '[t["bundle"] for t in d["sweep"]["trials"] if t["status"] == "pruned"][0]')
expect "a pruned trial's bundle verifies as interrupted" 0 "run interrupted" -- \
  verify "$(dirname "$SB")/$pb"
expect "and says it was pruned" 0 "pruned after epoch [0-9]+: valid.accuracy" -- show "$(dirname "$SB")/$pb" --json

# --- the plan is frozen: an edit during the sweep changes nothing ----------
cp grid.ini edit.ini
"$KEEL" sweep edit.ini --jobs 1 --seed 1 --no-reuse --out "$T/edit" >"$T/edit.out" 2>"$T/edit.err" &
pid=$!
for _ in $(seq 1 200); do
  compgen -G "$T/edit/*/trials/0.json" >/dev/null && break
  sleep 0.05
done
sed -i 's/^lr = choice(0.01, 0.05)$/lr = choice(0.02, 0.03)/' edit.ini
wait $pid || true
SB=$(tail -n 1 "$T/edit.out")
check "a sweep whose manifest was edited while it ran has the unedited sweep's digest" \
  test "$(sweep_digest "$SB")" = "$D1"

finish
