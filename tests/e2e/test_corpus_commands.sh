#!/usr/bin/env bash
# The committed fuzz corpora (tests/fuzz/corpus/) through the real
# commands, not only the fuzz targets (issue 11): every bundle corpus file
# through verify, show, env and diff; every ini file through check as a
# manifest and, for the template-mode files, as a manifest's template;
# every csv file as a manifest's data through check and run
# --until-transforms; every json file as the member of a re-sealed bundle
# (the member its fuzz mode reads: fitted state, run.json, environment.json,
# config.json) through verify, show, env and diff. Each command must end
# with an exit below 128 (no crash, no timeout), write no sanitizer report
# (AddressSanitizer, LeakSanitizer, UBSan's "runtime error") and, when it
# fails, say something.
# The fast tier runs every 16th file of each corpus (sorted by name), in
# both presets (so under ASan + UBSan too); test_corpus_commands_full.sh
# (slow tier) every file, and test_corpus_valgrind.sh the copies in
# tests/fuzz/valgrind-subset/ under valgrind. docs/fuzzing.md.
#
# Sourced by those two with, set before:
#   CORPUS_STEP N    every Nth file (default 16)
#   CORPUS_DIR D     the corpora: D/bundle, D/ini, ... (default
#                    tests/fuzz/corpus)
#   CORPUS_WRAP      a command to run keel under (an array)
#   CORPUS_TIMEOUT S the limit of one command (default 120 s)
. "$(dirname "$0")/lib.sh"
[[ -n ${CORPUS_WRAP+x} ]] || CORPUS_WRAP=()
need tar timeout xargs od "${CORPUS_WRAP[@]:0:1}"
shopt -s nullglob
CORPUS=${CORPUS_DIR:-$KEEL_SRC/tests/fuzz/corpus}
STEP=${CORPUS_STEP:-16}
: "${CORPUS_TIMEOUT:=120}"

# A base bundle (for diff, and to carry the json corpus members).
shipped_manifests iris
seal "$T/m/iris.ini" train.epochs=2 --out "$T/runs" || bail "no base bundle"
base=$B

# picked KIND: the corpus files of KIND this run takes.
picked() {
  local f i=0
  for f in "$CORPUS/$1"/*; do
    if ((i++ % STEP == 0)); then echo "$f"; fi
  done
}

# Cases and jobs: a job is one line, LABEL and keel's arguments separated
# by tabs. The python step writes each case's files.
mkdir -p "$T/cases"
JOBS=$T/jobs
: >"$JOBS"
job() {
  local IFS=$'\t'
  echo "$*" >>"$JOBS"
}

for f in $(picked bundle); do
  n=bundle/$(basename "$f")
  job "$n verify" verify "$f"
  job "$n show" show "$f"
  job "$n env" env "$f"
  job "$n diff" diff "$base" "$f"
done

# ini: byte 0 is the fuzz mode (% 3: 0 plain INI, 1 manifest, 2 template),
# the rest the file. Manifests sit beside templates/ and data/ links, so
# one that names a shipped template or data file gets further.
# csv: byte 0 picks delimiter (% 3) and header (bit 2), the rest is the
# data; the manifest's label is the first column when it has a plain name.
# json: byte 0 % 4 picks the member, the rest is its text.
picked ini >"$T/ini.list"
picked csv >"$T/csv.list"
picked json >"$T/json.list"
"$PY" - "$T" "$KEEL_SRC" <<'PY' >>"$JOBS"
import os, re, sys
T, src = sys.argv[1:3]
m = os.path.join(T, "m")
iris = open(os.path.join(src, "manifests", "iris.ini")).read()
def files(kind):
    return [l.strip() for l in open(os.path.join(T, kind + ".list")) if l.strip()]
def job(*args):
    print("\t".join(args))
os.makedirs(os.path.join(m, "ini"), exist_ok=True)
os.makedirs(os.path.join(m, "csv"), exist_ok=True)
for f in files("ini"):
    b = open(f, "rb").read()
    name = os.path.basename(f)
    p = os.path.join(m, "ini", name + ".ini")
    open(p, "wb").write(b[1:])
    job(f"ini/{name} check", "check", p)
    if b and b[0] % 3 == 2:
        q = os.path.join(m, "ini", name + ".manifest.ini")
        open(q, "w").write(re.sub(r"(?m)^template = .*$", "template = " + p, iris))
        job(f"ini/{name} check (as template)", "check", q)
delims = ("comma", "semicolon", "tab")
for f in files("csv"):
    b = open(f, "rb").read()
    name = os.path.basename(f)
    mode = b[0] if b else 0
    data = os.path.join(m, "csv", name + ".csv")
    open(data, "wb").write(b[1:])
    header = not (mode >> 2) & 1
    sep = (b",", b";", b"\t")[mode % 3]
    first = b[1:].split(b"\n", 1)[0].split(sep, 1)[0].strip()
    label = first.decode() if header and re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_]{0,40}", first) else ("c1" if not header else "label")
    text = re.sub(r"(?m)^path = .*$", f"path = {name}.csv\ndelimiter = {delims[mode % 3]}\nheader = {'true' if header else 'false'}", iris)
    text = re.sub(r"(?m)^label = .*$", f"label = {label}", text)
    q = os.path.join(m, "csv", name + ".ini")
    open(q, "w").write(text)
    job(f"csv/{name} check", "check", q)
    job(f"csv/{name} run --until-transforms", "run", q, "--until-transforms", "--quiet", "--out", os.path.join(T, "cases", "csv-" + name))
PY
members=(preprocess/01-transform.scale.json run.json environment.json config.json)
while read -r f; do
  name=$(basename "$f")
  mode=$(od -An -tu1 -N1 "$f" | tr -d ' ')
  member=${members[${mode:-0} % 4]}
  out=$T/cases/json-$name.tar.gz
  reseal "$base" "$out" "files['$member'] = open('$f', 'rb').read()[1:]"
  for cmd in verify show env; do job "json/$name $cmd ($member)" "$cmd" "$out"; done
  job "json/$name diff ($member)" diff "$base" "$out"
done <"$T/json.list"

# One job: run it, then judge it. Findings go to $T/findings.
export KEEL T CORPUS_TIMEOUT
wrap=""
((${#CORPUS_WRAP[@]} == 0)) || wrap=$(printf '%q ' "${CORPUS_WRAP[@]}")
export wrap
one() {
  local line=$1 label i rc=0
  IFS=$'\t' read -r -a a <<<"$line"
  label=${a[0]}
  i=$(printf '%s' "$line" | cksum | cut -d' ' -f1)
  eval "timeout $CORPUS_TIMEOUT $wrap \"\$KEEL\" \"\${a[@]:1}\"" >"$T/o.$i" 2>"$T/e.$i" </dev/null || rc=$?
  local why=""
  if ((rc == 124)); then
    why="timed out after ${CORPUS_TIMEOUT}s"
  elif ((rc == 126 || rc == 127)); then
    why="exit $rc: keel did not run"
  elif ((rc >= 128)); then
    why="exit $rc (a signal)"
  elif grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/e.$i"; then
    why="sanitizer report (exit $rc)"
  elif [[ -n $wrap ]] && { ((rc == 99)) || grep -qE '^==[0-9]+== ' "$T/e.$i"; }; then
    why="valgrind report (exit $rc)"
  elif ((rc != 0)) && ! grep -q '[^[:space:]]' "$T/o.$i" "$T/e.$i"; then
    why="exit $rc with no message"
  fi
  if [[ -n $why ]]; then
    {
      echo "FAIL: $label: $why: keel ${a[*]:1}"
      head -n 30 "$T/e.$i" | sed 's/^/    /'
    } >>"$T/findings"
  fi
  echo "$rc $label" >>"$T/exits"
  # The first line said, numbers and paths blurred: what
  # tests/fuzz/valgrind-subset/ was picked to cover.
  printf '%s\t%s\t%s\n' "$rc" "$label" "$(cat "$T/e.$i" "$T/o.$i" | grep -v -m1 -e '^[[:space:]]*$' -e 'warning:' |
    sed -E 's#^keel [a-z]+: ##; s#/[^ :]*##g; s#[0-9a-f]{6,}#H#g; s#[0-9]+#N#g' | cut -c1-100)" >>"$T/messages"
  rm -f "$T/o.$i" "$T/e.$i"
}
export -f one
: >"$T/findings"
: >"$T/exits"
n=$(wc -l <"$JOBS")
((n > 0)) || bail "no corpus file picked (step $STEP, in $CORPUS)"
t0=$SECONDS
tr '\n' '\0' <"$JOBS" | xargs -0 -P2 -n1 bash -c 'one "$1"' _
echo "$TEST_NAME: $n commands in $((SECONDS - t0)) s; exits: $(cut -d' ' -f1 "$T/exits" | sort -n | uniq -c | tr -s ' \n' ' ')"
(($(wc -l <"$T/exits") == n)) && ok || fail "$(wc -l <"$T/exits") of $n commands reported"
# Both outcomes occur (else the jobs did not reach keel as meant).
grep -q '^0 ' "$T/exits" && ok || fail "no command succeeded"
grep -q '^[1-9]' "$T/exits" && ok || fail "no command failed"
if [[ -s $T/findings ]]; then
  cat "$T/findings" >&2
  failures=$((failures + $(grep -c '^FAIL' "$T/findings")))
fi
passed=$((passed + n - $(grep -c '^FAIL' "$T/findings" || true)))

finish
