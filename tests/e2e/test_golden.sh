#!/usr/bin/env bash
# ctest: timeout 600
# Golden bundles (tests/data/golden/): bundles sealed by an earlier keel must
# keep verifying and replaying to REPRODUCED, and today's keel, run on the
# same shipped manifest, must compute the same thing.
#
# keel-bundle/1 (tests/data/golden/*.tar.gz): "the same thing" is read by
# format 1's rule: weights, optimizer state, fitted preprocessing and
# metrics byte-equal to the golden bundle's; its resolved values and
# lineage equal to the fresh run's once read the way format 2 records them
# (no origins, ranges or plugin binary hashes). Its result digest also
# covered the plugin binaries, which differ for any other compiler or
# build type, so it is not compared.
# keel-bundle/2 (tests/data/golden/2/*.tar.gz): the fresh run's result
# digest is the golden one, whichever build made the plugins.
# keel-bundle/3 (tests/data/golden/3/*.tar.gz): the same rule; each also
# seals its template chain, which show lists (iris-derived: a derived
# template and its base, from tests/data/golden/3/src/), and diff of a /2
# and a /3 bundle of one run, or of a /3 and the fresh run, is quiet.
. "$(dirname "$0")/lib.sh"
G=$KEEL_SRC/tests/data/golden

digest_of() {
  "$KEEL" show "$1" --json | json_value - 'd["run"]["result_digest"]'
}

# The members of a format-1 or -2 bundle (extracted in $1) that the run
# computed, one "sha256  name" line each; config.json and lineage.json as
# format 2 records them. With REF (the golden bundle's extracted folder), a
# plugin parameter REF's config.json lacks and this run left at its
# declared default (config_full.json says so) is dropped: a parameter added
# since (csv's encoding) ran at the value that reproduces the old behaviour,
# and plugins are compared by name and major version (the line whose
# results must not change; the format-2 digest pins exact versions).
computed_members() { # DIR [REF]
  local ref=${2:+$(cd "$2"/*/ && pwd)}
  (cd "$1"/*/ && sha256sum $(ls -d metrics.json metrics.jsonl \
    optimizer_state.npy preprocess/* weights/* optimizer/* 2>/dev/null) &&
    "$PY" - "$ref" <<'PY'
import hashlib, json, os, sys
def major(v):  # a plugin's compatible line: csv 1.3.0 added a parameter
    return v.split(".")[0]
def values(c):
    return {"template": {k: c["template"][k] for k in ("name", "version", "task")},
            "checks": c["checks"],
            "stages": [{"section": s["section"], "kind": s["kind"],
                        "plugin": s["plugin"] and {"name": s["plugin"]["name"],
                                                   "major": major(s["plugin"]["version"])},
                        "params": [{k: p[k] for k in ("name", "type", "value", "text")}
                                   for p in s["params"]]} for s in c["stages"]]}
def origins(dir):
    full = dir + "/config_full.json"
    doc = json.load(open(full if os.path.exists(full) else dir + "/config.json"))
    return {(s["section"], p["name"]): p.get("origin")
            for s in doc["stages"] for p in s.get("params") or []}
def added_defaults_dropped(cfg, ref):
    old = {(s["section"], p["name"]) for s in ref["stages"] for p in s.get("params") or []}
    origin = origins(".")
    for s in cfg["stages"]:
        s["params"] = [p for p in s["params"]
                       if (s["section"], p["name"]) in old
                       or origin.get((s["section"], p["name"])) != "default"]
    return cfg
config = values(json.load(open("config.json")))
if sys.argv[1]:
    config = added_defaults_dropped(config, json.load(open(sys.argv[1] + "/config.json")))
lineage = json.load(open("lineage.json"))
lineage["source"].pop("sha256", None)
lineage["source"]["version"] = major(lineage["source"]["version"])
for name, d in (("config.json", config), ("lineage.json", lineage)):
    text = json.dumps(d, sort_keys=True)
    print(hashlib.sha256(text.encode()).hexdigest() + "  " + name + " (values)")
PY
  )
}

# compare NAME GOLDEN FRESH: the computed members agree.
compare() {
  mkdir -p "$T/$1/golden" "$T/$1/fresh"
  tar xzf "$2" -C "$T/$1/golden"
  tar xzf "$3" -C "$T/$1/fresh"
  computed_members "$T/$1/golden" >"$T/$1/golden.sums"
  computed_members "$T/$1/fresh" "$T/$1/golden" >"$T/$1/fresh.sums"
  if cmp -s "$T/$1/golden.sums" "$T/$1/fresh.sums"; then ok; else
    fail "$1: a fresh run computed something else than the golden bundle"
    diff "$T/$1/golden.sums" "$T/$1/fresh.sums" | sed 's/^/    /' >&2 || true
  fi
}

format_is() {
  "$KEEL" show "$1" --json | json_value - 'd["run"]["format"]' | grep -qx "$2"
}

declare -A fresh
n=0
for golden in "$G"/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  check "$name: keel-bundle/1" format_is "$golden" keel-bundle/1
  expect "$name: verify" 0 '^OK ' -- verify "$golden"
  # Our own fixtures, sealed by older builds whose plugin binaries are
  # installed nowhere: trusted explicitly (docs/cli.md, keel replay).
  expect "$name: replay" 0 '^REPRODUCED' -- replay "$golden" --threads 1 --trust-bundled-plugins
  # The manifest as it read when the goldens were made: a plain path
  # (test_data_manifest checks the catalogued run computes the same).
  shipped_manifests
  uncatalogued "$KEEL_SRC/manifests/$name.ini" "$T/m/$name.ini"
  seal "$T/m/$name.ini" --out "$T/runs" || continue
  compare "$name" "$golden" "$B"
  fresh[$name]=$B
done
((n == 5)) && ok || fail "expected 5 keel-bundle/1 golden bundles, found $n"

n=0
for golden in "$G"/2/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  check "$name (2): keel-bundle/2" format_is "$golden" keel-bundle/2
  expect "$name (2): verify" 0 '^OK ' -- verify "$golden"
  expect "$name (2): replay" 0 '^REPRODUCED' -- replay "$golden" --threads 2 \
    --trust-bundled-plugins
  [[ -n ${fresh[$name]:-} ]] || continue
  want=$(digest_of "$golden")
  got=$(digest_of "${fresh[$name]}")
  [[ $got == "$want" ]] && ok || fail "$name (2): fresh run digest $got, golden $want"
  compare "$name-2" "$golden" "${fresh[$name]}"
done
((n == 5)) && ok || fail "expected 5 keel-bundle/2 golden bundles, found $n"

# the derived template's manifest, run beside the shipped data and templates
shipped_manifests
cp "$G"/3/src/*.ini "$T/m/"
cd "$T/m"
seal iris-derived.ini --out "$T/runs" && fresh[iris-derived]=$B
cd "$KEEL_SRC"

chain_of() {
  "$KEEL" show "$1" --json | json_value - '" ".join(t["name"] for t in d["templates"])'
}
declare -A chain=([cars]=tabular-regression [diabetes]=tabular-regression
  [digits]=tabular-classification [iris]=tabular-classification
  [penguins]=tabular-classification
  [iris-derived]="iris-narrow tabular-classification")
n=0
for golden in "$G"/3/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  check "$name (3): keel-bundle/3" format_is "$golden" keel-bundle/3
  expect "$name (3): verify" 0 '^OK ' -- verify "$golden"
  expect "$name (3): show" 0 'digest' -- show "$golden"
  got=$(chain_of "$golden")
  [[ $got == "${chain[$name]:-?}" ]] && ok ||
    fail "$name (3): show lists the chain '$got', expected '${chain[$name]:-?}'"
  expect "$name (3): replay" 0 '^REPRODUCED' -- replay "$golden" --threads 2 \
    --trust-bundled-plugins
  krun diff "$golden" "$golden"
  [[ $RC == 0 ]] && ok || fail "$name (3): diff with itself: exit $RC"
  if [[ -f $G/2/$name.tar.gz ]]; then
    krun diff "$G/2/$name.tar.gz" "$golden"
    [[ $RC == 0 ]] && ok || fail "$name: diff of golden /2 and /3: exit $RC, expected 0 (one run)"
  fi
  [[ -n ${fresh[$name]:-} ]] || { fail "$name (3): no fresh run"; continue; }
  want=$(digest_of "$golden")
  got=$(digest_of "${fresh[$name]}")
  [[ $got == "$want" ]] && ok || fail "$name (3): fresh run digest $got, golden $want"
  krun diff "$golden" "${fresh[$name]}"
  [[ $RC == 0 ]] && ok || fail "$name (3): diff with the fresh run: exit $RC"
  compare "$name-3" "$golden" "${fresh[$name]}"
done
((n == 6)) && ok || fail "expected 6 keel-bundle/3 golden bundles, found $n"

finish
