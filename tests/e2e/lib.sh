#!/usr/bin/env bash
# tests/e2e/lib.sh: what every end-to-end test script shares (in the spirit
# of git's t/test-lib.sh). Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# It checks the environment ctest gives (KEEL, KEEL_SRC, KEEL_TMP; see
# tests/CMakeLists.txt; a script that needs KEEL_BUILD or KEEL_BROKEN_DIR
# checks those itself), starts from an empty $KEEL_TMP (also $T), makes
# $KEEL absolute (scripts cd), and unsets what would make a result depend
# on the caller's shell: OMP_NUM_THREADS, KEEL_PLUGIN_PATH,
# KEEL_TEMPLATE_PATH and KEEL_TRUSTED_KEYS; LC_ALL=C. HOME and every XDG_*
# folder point into $T (HOME=$T/home, XDG_CONFIG_HOME=$T/xdg/config, and
# XDG_DATA_HOME, XDG_CACHE_HOME, XDG_STATE_HOME alike, all created empty):
# no test reads the caller's configuration or writes into their cache
# (DESIGN.md, "Configuration"). PY is the python3 the bootstrap installs.
#
# Counting checks:
#   ok                      count a passed check
#   fail MESSAGE            count a failed check, print MESSAGE on stderr
#   bail MESSAGE            fail MESSAGE and finish at once: for a step that
#                           everything after it depends on
#   check LABEL CMD...      ok when CMD succeeds, else fail LABEL
#   finish                  print "NAME: P passed, F failed"; exit 1 if any
#                           check failed or none ran
#
# Running keel:
#   expect LABEL CODE REGEX -- ARGS...
#                           run "$KEEL" ARGS; wants exit CODE and, unless
#                           REGEX is empty, stdout+stderr matching REGEX
#                           (grep -Ei); output kept in $T/out, exit in $RC
#   krun ARGS...            run "$KEEL" ARGS with stdout in $T/out, stderr
#                           in $T/err and the exit status in $RC; checks
#                           nothing (for the scripts that tell the two
#                           streams apart)
#   seal ARGS...            `keel run ARGS --quiet`: the bundle path (last
#                           stdout line) in $B; on a non-zero exit or no
#                           bundle file: fail, show stderr, return 1 (so
#                           call it in `if` or with `||`)
#
# Looking at output:
#   has LABEL TEXT...       for each fixed TEXT: ok when $T/out holds it,
#                           else fail "LABEL: out lacks 'TEXT'" (and
#                           show the file once)
#   has_err LABEL TEXT...   the same on $T/err
#   show_output [FILE...]   indent FILEs ($T/out) onto stderr
#   json_value FILE EXPR    print the Python expression EXPR over the JSON
#                           document in FILE ("-": stdin), bound to d: a
#                           string as it is, anything else as compact JSON
#                           (true, 0.01, ["a","b"])
#
# Fixtures:
#   flip FILE OFFSET        xor one byte of FILE with 0x01 in place (OFFSET
#                           past the end: the last byte)
#   shipped_manifests [NAME...]
#                           copy manifests/NAME.ini (all with no NAME) into
#                           $T/m beside links to the shipped templates/ and
#                           data/, so an edit of the source tree while the
#                           test runs cannot change them
#   sweep_manifests         after `shipped_manifests penguins digits`:
#                           three manifests with a [tune] space in $T/m:
#                           grid.ini (penguins; a grid of epochs 200 or 5
#                           by adam lr 0.01 or 0.05), slow.ini (the same
#                           grid on digits with batches of 8 and softmax:
#                           a 200-epoch trial takes seconds, a 5-epoch one
#                           tenths; seed 2 visits 200, 5, 5, 200 epochs)
#                           and tpe.ini (penguins; TPE over a log-uniform
#                           lr and three batch sizes, 4 start-up trials)
#   sweep_digest BUNDLE     print a sweep bundle's sweep result digest
#   need TOOL...            bail unless every TOOL is on PATH
#   reseal SRC OUT CODE     re-seal bundle SRC as OUT the way a forger
#                           would, after CODE (Python statements) edits the
#                           dict `files` (member name -> bytes): the result
#                           digest (digest.txt, and run.json's when it
#                           parses), SHA256SUMS, the tar and keel's gzip
#                           seal are all recomputed; SIGNATURE is dropped
#                           unless CODE sets keep_signature = True (a
#                           forger replaying the owner's signature)
#
# Each script ends with `finish`; one that stops before (set -e, a bail
# aside) says where and exits non-zero. A script that needs a tool the
# bootstrap installs fails when it is missing (DESIGN.md: tests do not
# skip).
set -euo pipefail
: "${KEEL:?KEEL must name the keel binary (run through ctest)}"
: "${KEEL_SRC:?KEEL_SRC must name the source tree}"
: "${KEEL_TMP:?KEEL_TMP must name a scratch folder}"
rm -rf "$KEEL_TMP"
mkdir -p "$KEEL_TMP"
T=$KEEL_TMP
KEEL=$(realpath "$KEEL")
unset OMP_NUM_THREADS KEEL_PLUGIN_PATH KEEL_TEMPLATE_PATH KEEL_TRUSTED_KEYS
export LC_ALL=C
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg/config XDG_DATA_HOME=$T/xdg/data \
  XDG_CACHE_HOME=$T/xdg/cache XDG_STATE_HOME=$T/xdg/state
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" \
  "$XDG_STATE_HOME"
PY=/usr/bin/python3
TEST_NAME=$(basename "$0" .sh)
passed=0
failures=0
RC=0
B=""

_lib_finished=0
_lib_err_line=""
trap '_lib_err_line=$LINENO' ERR
_lib_servers=()
_lib_on_exit() {
  local rc=$? pid
  for pid in "${_lib_servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  ((_lib_finished)) && return
  echo "$TEST_NAME: stopped${_lib_err_line:+ at line $_lib_err_line} (exit $rc) before finish; $passed passed, $failures failed" >&2
  ((rc != 0)) || exit 1
}
trap _lib_on_exit EXIT

ok() { passed=$((passed + 1)); }

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

bail() {
  fail "$@"
  finish
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      bail "$tool is needed (packaging/bootstrap.sh installs it)"
  done
}

show_output() {
  if (($#)); then
    sed 's/^/    /' "$@" >&2
  else
    sed 's/^/    /' "$T/out" >&2
  fi
}

check() {
  local label=$1
  shift
  if "$@"; then ok; else fail "$label"; fi
}

expect() {
  local label=$1 want=$2 re=$3
  if [[ ${4:-} != -- ]]; then
    fail "$label: expect needs LABEL CODE REGEX -- ARGS"
    return
  fi
  shift 4
  RC=0
  "$KEEL" "$@" >"$T/out" 2>&1 || RC=$?
  if ((RC != want)); then
    fail "$label: exit $RC, expected $want"
    show_output
  elif [[ -n $re ]] && ! grep -qEi -- "$re" "$T/out"; then
    fail "$label: output does not match /$re/"
    show_output
  else
    ok
  fi
}

krun() {
  RC=0
  "$KEEL" "$@" >"$T/out" 2>"$T/err" || RC=$?
}

seal() {
  local rc=0
  B=$("$KEEL" run "$@" --quiet 2>"$T/err" | tail -n 1) || rc=$?
  if ((rc != 0)) || [[ ! -f $B ]]; then
    fail "keel run $*: exit $rc, printed '$B'"
    show_output "$T/err"
    return 1
  fi
}

# _has FILE LABEL TEXT...: has and has_err.
_has() {
  local file=$1 label=$2 text missing=0
  shift 2
  for text in "$@"; do
    if grep -qF -- "$text" "$file"; then ok; else
      fail "$label: $(basename "$file") lacks '$text'"
      missing=1
    fi
  done
  ((missing == 0)) || show_output "$file"
}
has() { _has "$T/out" "$@"; }
has_err() { _has "$T/err" "$@"; }

json_value() {
  "$PY" -c 'import json, sys
d = json.load(sys.stdin if sys.argv[1] == "-" else open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1" "$2"
}

flip() {
  "$PY" -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
i = min(int(sys.argv[2]), len(d) - 1); d[i] ^= 1
open(p, "wb").write(d)' "$1" "$2"
}

reseal() {
  "$PY" - "$1" "$2" "$3" <<'PY'
import sys, json, hashlib, tarfile, io, zlib
src, out, code = sys.argv[1:4]
files, top = {}, None
with tarfile.open(src) as t:
    for m in t.getmembers():
        if m.isfile():
            top, rel = m.name.split('/', 1)
            files[rel] = t.extractfile(m).read()
keep_signature = False
exec(code)
h = lambda b: hashlib.sha256(b).hexdigest()
# What the digest covers is the bundle format's rule (docs/bundle-format.md):
# keel-bundle/1 also covered plugins.json.
try:
    v1 = json.loads(files["run.json"]).get("format") == "keel-bundle/1"
except (KeyError, ValueError, TypeError, AttributeError):
    v1 = False
cov = lambda n: n in ("config.json", "lineage.json", "metrics.json",
                      "metrics.jsonl", "optimizer_state.npy") or (v1 and n == "plugins.json") or \
    any(n.startswith(p) and len(n) > len(p) for p in ("preprocess/", "weights/", "optimizer/"))
if not keep_signature:
    files.pop("SIGNATURE", None)
dig = h("".join(f"{h(files[n])}  {n}\n" for n in sorted(files) if cov(n)).encode())
files["digest.txt"] = (dig + "\n").encode()
try:
    run = json.loads(files["run.json"])
    run["result_digest"] = dig
    files["run.json"] = (json.dumps(run, indent=2) + "\n").encode()
except (KeyError, ValueError, TypeError):
    pass  # a missing or broken run record stays as CODE left it
files["SHA256SUMS"] = "".join(f"{h(files[n])}  {n}\n" for n in sorted(files) if n not in ("SHA256SUMS", "SIGNATURE")).encode()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    dirs = set()
    for n in sorted(files):
        parts = n.split('/')
        for i in range(1, len(parts)):
            d = '/'.join(parts[:i])
            if d not in dirs:
                dirs.add(d); ti = tarfile.TarInfo(top + '/' + d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
        ti = tarfile.TarInfo(top + '/' + n); ti.size = len(files[n]); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(files[n]))
# keel's gzip layer (docs/bundle-format.md): its header with the 'KS'
# extra field, raw deflate, CRC-32 and length, then the seal: SHA-256 of
# the whole file with the seal's 32 bytes zero.
tar = buf.getvalue()
z = zlib.compressobj(6, zlib.DEFLATED, -15)
raw = bytearray(b"\x1f\x8b\x08\x04\0\0\0\0\0\x03\x24\0KS\x20\0" + bytes(32)
                + z.compress(tar) + z.flush()
                + (zlib.crc32(tar) & 0xffffffff).to_bytes(4, "little")
                + (len(tar) & 0xffffffff).to_bytes(4, "little"))
raw[16:48] = hashlib.sha256(raw).digest()
open(out, "wb").write(bytes(raw))
PY
}

shipped_manifests() {
  mkdir -p "$T/m"
  ln -sfn "$KEEL_SRC/manifests/templates" "$T/m/templates"
  ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
  if (($#)); then
    local name
    for name in "$@"; do cp "$KEEL_SRC/manifests/$name.ini" "$T/m/"; done
  else
    cp "$KEEL_SRC"/manifests/*.ini "$T/m/"
  fi
}

sweep_manifests() {
  local space='
[tune]
strategy = grid

[tune.train]
epochs = choice(200, 5)

[tune.optimizer.adam]
lr = choice(0.01, 0.05)'
  { cat "$T/m/penguins.ini" && printf '%s\n' "$space"; } >"$T/m/grid.ini"
  { sed -e 's/^batch_size = 64$/batch_size = 8/' -e 's/^plugin = mlp$/plugin = softmax/' \
    "$T/m/digits.ini" && printf '%s\n' "$space"; } >"$T/m/slow.ini"
  { cat "$T/m/penguins.ini" && printf '%s\n' '
[tune]
strategy = tpe
startup = 4

[tune.optimizer.adam]
lr = loguniform(0.001, 0.1)

[tune.train]
batch_size = choice(8, 16, 32)'; } >"$T/m/tpe.ini"
}

sweep_digest() {
  "$KEEL" show "$1" --json | json_value - 'd["digest"]'
}

# http_server NAME DIR [--tls CERT KEY]: starts tests/tools/
# http_fixture_server.py for DIR on 127.0.0.1 (its port in $PORT, its
# request log in $T/NAME.log); stopped when the test ends, or by
# stop_http_server NAME.
declare -A _lib_server_pid
http_server() {
  local name=$1 dir=$2
  shift 2
  rm -f "$T/$name.port"
  "$PY" "$KEEL_SRC/tests/tools/http_fixture_server.py" "$dir" "$T/$name.port" \
    "$T/$name.log" "$@" 2>"$T/$name.err" &
  _lib_servers+=($!)
  _lib_server_pid[$name]=$!
  for _ in $(seq 100); do [[ -s $T/$name.port ]] && break; sleep 0.1; done
  [[ -s $T/$name.port ]] || bail "the $name server did not start: $(cat "$T/$name.err")"
  PORT=$(cat "$T/$name.port")
}
stop_http_server() {
  kill "${_lib_server_pid[$1]}" 2>/dev/null || true
  wait "${_lib_server_pid[$1]}" 2>/dev/null || true
}

# uncatalogued SRC DEST: the shipped manifest SRC as it read before it
# named its data through the catalog: `dataset = NAME@RANGE` replaced by
# the entry's plugin, its path (data/FILE, as the shipped catalog sits in
# data/) and options, and `[keel] catalog` dropped. For tests about other
# things that edit or move the data file, and for runs that must compute
# what the golden bundles (made before the catalog) computed.
uncatalogued() {
  python3 - "$1" "$2" "$KEEL_SRC/manifests/data/catalog.ini" <<'PY'
import re, sys
src, dest, catalog = sys.argv[1:]
entries, cur, key = {}, None, None
for raw in open(catalog):
    line = raw.rstrip("\n")
    if not line.strip() or line.lstrip().startswith(";"):
        continue
    m = re.match(r"\[(\w+)@([0-9.]+)\]$", line)
    if m:
        cur = entries.setdefault(m.group(1), {})
        continue
    if line.startswith("["):
        cur = None
        continue
    if cur is None:
        continue
    if line[0] in " \t" and key:
        cur[key] += " " + line.strip()
        continue
    key, _, value = line.partition("=")
    key = key.strip()
    cur[key] = value.strip()
out = []
for line in open(src).read().split("\n"):
    m = re.match(r"dataset\s*=\s*(\w+)@", line)
    if m:
        e = entries[m.group(1)]
        out.append("plugin = " + e["plugin"])
        out.append("path = data/" + e["location"].split(":", 1)[1])
        out += [k[7:] + " = " + v for k, v in e.items() if k.startswith("option.")]
    elif not re.match(r"catalog\s*=|; the catalog entry names", line):
        out.append(line)
open(dest, "w").write("\n".join(out))
PY
}

finish() {
  _lib_finished=1
  echo "$TEST_NAME: $passed passed, $failures failed"
  if ((passed + failures == 0)); then
    echo "$TEST_NAME: no check ran" >&2
    exit 1
  fi
  ((failures == 0)) || exit 1
  exit 0
}
