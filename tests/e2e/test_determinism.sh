#!/usr/bin/env bash
# Determinism end to end, for every shipped manifest (manifests/*.ini):
# - --threads 1, 2 and 3, and OMP_NUM_THREADS=1/2 instead of --threads,
#   give the same result digest (digest.txt, run.json, keel verify) and
#   byte-identical deterministic files after tar xzf (weights, optimizer
#   state, metrics, preprocessing state, lineage, config, plugins.json);
# - two runs at the same thread count differ in exactly run.json,
#   audit.jsonl, audit_chain.json (the central audit log's head when it
#   was sealed), README.md and SHA256SUMS, and `keel diff` of them is quiet
#   with exit 0;
# - `keel replay` at another thread count, from another folder with an
#   empty KEEL_PLUGIN_PATH, prints REPRODUCED and exits 0;
# - `sha256sum -c SHA256SUMS` accepts every bundle after a plain `tar xf`.
. "$(dirname "$0")/lib.sh"
need tar sha256sum

# The files whose bytes are the result: every one must be equal between
# runs of one manifest, whatever the thread count.
deterministic_files() {
  (cd "$1" && ls -1d config.json plugins.json lineage.json metrics.json \
    metrics.jsonl optimizer_state.npy digest.txt preprocess/* weights/* \
    optimizer/* 2>/dev/null || true)
}

# run_one LABEL THREADS_ARG [OMP_NUM_THREADS]: runs the current manifest,
# extracts its bundle to $X/LABEL/ (the run folder itself) and records the
# path.
declare -A bundle dir
run_one() {
  local label=$1 targ=$2 omp=${3:-}
  local args=("$m" --out "$T/runs/$name")
  [[ -n $targ ]] && args+=(--threads "$targ")
  if [[ -n $omp ]]; then
    OMP_NUM_THREADS=$omp seal "${args[@]}" || return 1
  else
    seal "${args[@]}" || return 1
  fi
  mkdir -p "$X/$label"
  tar xzf "$B" -C "$X/$label"
  bundle[$label]=$B
  dir[$label]=$(echo "$X/$label"/keel-run-*)
  [[ -d ${dir[$label]} ]] || { fail "$name/$label: no run folder in bundle"; return 1; }
}

# threads_of DIR: the "threads" recorded in run.json.
threads_of() { sed -nE 's/^ *"threads": *([0-9]+),?$/\1/p' "$1/run.json"; }

# changed A B: the relative paths that differ or exist on one side only.
changed() {
  { (cd "$1" && find . -type f) && (cd "$2" && find . -type f); } | sed 's#^\./##' | sort -u |
    while read -r f; do cmp -s "$1/$f" "$2/$f" || echo "$f"; done
}

mkdir -p "$T/elsewhere"
shopt -s nullglob
# Snapshots of the shipped manifests beside the shipped templates and data,
# so an edit of the source tree while the test runs cannot change them.
shipped_manifests
manifests=("$T"/m/*.ini)
((${#manifests[@]} >= 5)) && ok || fail "expected at least 5 shipped manifests, found ${#manifests[@]}"

for m in "${manifests[@]}"; do
  name=$(basename "$m" .ini)
  X=$T/x/$name
  bundle=()
  dir=()
  # --threads wins over OMP_NUM_THREADS; OMP_NUM_THREADS alone is obeyed.
  run_one t1 1 3 || continue
  run_one t2 2 || continue
  run_one t3 3 || continue
  run_one omp1 "" 1 || continue
  run_one omp2 "" 2 || continue

  for spec in t1:1 t2:2 t3:3 omp1:1 omp2:2; do
    label=${spec%%:*} want=${spec#*:}
    got=$(threads_of "${dir[$label]}")
    [[ $got == "$want" ]] && ok || fail "$name/$label: run.json threads '$got', expected $want"
  done

  # Result digest: digest.txt, run.json and keel verify agree, and are the
  # same for every thread count.
  d=$(cat "${dir[t1]}/digest.txt")
  [[ $d =~ ^[0-9a-f]{64}$ ]] && ok || fail "$name: digest.txt holds '$d'"
  for label in t1 t2 t3 omp1 omp2; do
    dl=$(cat "${dir[$label]}/digest.txt")
    [[ $dl == "$d" ]] && ok || fail "$name/$label: result digest $dl != $d (threads 1)"
    grep -q "\"result_digest\": \"$d\"" "${dir[$label]}/run.json" && ok ||
      fail "$name/$label: run.json does not record result digest $d"
    expect "$name/$label: keel verify" 0 "result digest $d" -- verify "${bundle[$label]}"
  done

  # The deterministic files exist and are byte-identical.
  files=$(deterministic_files "${dir[t1]}")
  for want in config.json plugins.json lineage.json metrics.json metrics.jsonl; do
    grep -qx "$want" <<<"$files" && ok || fail "$name: bundle lacks $want"
  done
  grep -q '^weights/.*\.npy$' <<<"$files" && ok || fail "$name: bundle has no weights/*.npy"
  for label in t2 t3 omp1 omp2; do
    other=$(deterministic_files "${dir[$label]}")
    [[ $other == "$files" ]] && ok || fail "$name/$label: deterministic file list differs: $(diff <(echo "$files") <(echo "$other") | tr '\n' ' ')"
    bad=""
    while read -r f; do
      cmp -s "${dir[t1]}/$f" "${dir[$label]}/$f" || bad+=" $f"
    done <<<"$files"
    [[ -z $bad ]] && ok || fail "$name/$label: differs from --threads 1 in:$bad"
    # Nothing else differs but the run record (environment.json may carry
    # the thread count).
    extra=$(changed "${dir[t1]}" "${dir[$label]}" | grep -vxE 'run\.json|audit\.jsonl|audit_chain\.json|README\.md|SHA256SUMS|environment\.json' || true)
    [[ -z $extra ]] && ok || fail "$name/$label: bundles differ beyond the run record in: $(echo $extra)"
  done

  # Two runs at one thread (--threads 1 vs OMP_NUM_THREADS=1): exactly
  # the run record differs.
  set_diff=$(changed "${dir[t1]}" "${dir[omp1]}" | tr '\n' ' ')
  [[ $set_diff == "README.md SHA256SUMS audit.jsonl audit_chain.json run.json " ]] && ok ||
    fail "$name: two runs differ in '$set_diff', expected exactly README.md SHA256SUMS audit.jsonl audit_chain.json run.json"

  # keel diff: quiet and 0 for equal results (same and other thread count).
  for label in omp1 t3; do
    krun diff "${bundle[t1]}" "${bundle[$label]}"
    ((RC == 0)) && ok || fail "$name: keel diff t1 $label exited $RC"
    [[ ! -s $T/out && ! -s $T/err ]] && ok ||
      fail "$name: keel diff t1 $label printed: $(cat "$T/out" "$T/err")"
  done

  # Replay at another thread count than the original (2), from another
  # folder, with an empty plugin path: everything comes from the bundle.
  RC=0
  (cd "$T/elsewhere" && KEEL_PLUGIN_PATH= "$KEEL" replay "${bundle[t2]}" --threads 1) \
    >"$T/out" 2>"$T/err" || RC=$?
  if ((RC == 0)) && grep -qE "^REPRODUCED .*result digest $d" "$T/out"; then ok; else
    fail "$name: keel replay --threads 1 of a 2-thread run: exit $RC"
    show_output "$T/out" "$T/err"
  fi
  krun replay "${bundle[t1]}" --threads 3
  if ((RC == 0)) && grep -qE "^REPRODUCED .*result digest $d" "$T/out"; then ok; else
    fail "$name: keel replay --threads 3 of a 1-thread run: exit $RC"
    show_output "$T/out" "$T/err"
  fi
  [[ -z $(ls -A "$T/elsewhere") ]] && ok || fail "$name: replay left files in its working folder: $(ls -A "$T/elsewhere")"

  # sha256sum -c after a plain tar xf (no keel, no z flag).
  mkdir -p "$T/plain/$name"
  tar xf "${bundle[t1]}" -C "$T/plain/$name"
  if (cd "$T/plain/$name"/keel-run-* && sha256sum --quiet --strict -c SHA256SUMS); then ok; else
    fail "$name: sha256sum -c SHA256SUMS after tar xf"
  fi
  # SHA256SUMS covers every other file.
  listed=$(cd "$T/plain/$name"/keel-run-* && sed -E 's/^[0-9a-f]{64}  //' SHA256SUMS | sort)
  present=$(cd "$T/plain/$name"/keel-run-* && find . -type f ! -name SHA256SUMS ! -name SIGNATURE | sed 's#^\./##' | sort)
  [[ $listed == "$present" ]] && ok || fail "$name: SHA256SUMS does not list exactly the other files"
done

# Nothing but sealed bundles (and no temporary files) in the output folders.
leftover=$(find "$T/runs" -mindepth 2 ! -name 'keel-run-*.tar.gz' | head)
[[ -z $leftover ]] && ok || fail "unexpected files in the run folders: $leftover"

finish
