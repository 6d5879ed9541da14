#!/usr/bin/env bash
# Golden bundles (tests/data/golden/): bundles sealed by an earlier keel must
# keep verifying and replaying to REPRODUCED, and today's keel, run on the
# same shipped manifest, must compute the same thing.
#
# "The same thing": every computed member (weights, optimizer state, fitted
# preprocessing, metrics, resolved values, lineage) is byte-equal to the
# golden bundle's. The result digest of keel-bundle/1 also covers the
# plugin binaries' SHA-256, which differ for any other compiler or build
# type (the asan preset, say); so the whole digest is compared only when
# this build's plugins are byte-identical to the golden ones.
. "$(dirname "$0")/lib.sh"
G=$KEEL_SRC/tests/data/golden

digest_of() {
  "$KEEL" show "$1" --json | json_value - 'd["run"]["result_digest"]'
}

# The members of a bundle (extracted in $1) that the run computed, one
# "sha256  name" line each; in the JSON ones every plugin binary's SHA-256
# (as plugins.json lists them) is masked. With REF (the golden bundle's
# extracted folder), a plugin parameter REF's config.json lacks and this
# run left at its declared default is dropped: a parameter added since
# (csv's encoding) ran at the value that reproduces the old behaviour.
computed_members() { # DIR [REF]
  local ref=${2:+$(cd "$2"/*/ && pwd)}
  (cd "$1"/*/ && sha256sum $(ls -d metrics.json metrics.jsonl \
    optimizer_state.npy preprocess/* weights/* optimizer/* 2>/dev/null) &&
    "$PY" - "$ref" <<'PY'
import hashlib, json, sys
binaries = {p["sha256"] for p in json.load(open("plugins.json"))["plugins"]}
def added_defaults_dropped(cfg, ref):
    old = {s["section"]: {p["name"] for p in s.get("params") or []}
           for s in ref["stages"]}
    for s in cfg["stages"]:
        if s.get("params") and s["section"] in old:
            s["params"] = [p for p in s["params"]
                           if p["name"] in old[s["section"]] or p["origin"] != "default"]
    return cfg
def mask(o):
    if isinstance(o, dict):
        return {k: mask(v) for k, v in o.items()}
    if isinstance(o, list):
        return [mask(v) for v in o]
    return "<plugin binary>" if o in binaries else o
for name in ("config.json", "lineage.json", "plugins.json"):
    doc = json.load(open(name))
    if name == "config.json" and sys.argv[1]:
        doc = added_defaults_dropped(doc, json.load(open(sys.argv[1] + "/" + name)))
    text = json.dumps(mask(doc), sort_keys=True)
    print(hashlib.sha256(text.encode()).hexdigest() + "  " + name +
          " (plugin binary hashes masked)")
PY
  )
}

plugin_hashes() {
  json_value "$1"/*/plugins.json '" ".join(p["sha256"] for p in d["plugins"])'
}

n=0
for golden in "$G"/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  expect "$name: verify" 0 '^OK ' -- verify "$golden"
  expect "$name: replay" 0 '^REPRODUCED' -- replay "$golden" --threads 1
  seal "$KEEL_SRC/manifests/$name.ini" --out "$T/runs" || continue
  mkdir -p "$T/$name/golden" "$T/$name/fresh"
  tar xzf "$golden" -C "$T/$name/golden"
  tar xzf "$B" -C "$T/$name/fresh"
  computed_members "$T/$name/golden" >"$T/$name/golden.sums"
  computed_members "$T/$name/fresh" "$T/$name/golden" >"$T/$name/fresh.sums"
  if cmp -s "$T/$name/golden.sums" "$T/$name/fresh.sums"; then ok; else
    fail "$name: a fresh run computed something else than the golden bundle"
    diff "$T/$name/golden.sums" "$T/$name/fresh.sums" | sed 's/^/    /' >&2 || true
  fi
  if [[ $(plugin_hashes "$T/$name/golden") == "$(plugin_hashes "$T/$name/fresh")" ]]; then
    want=$(digest_of "$golden")
    got=$(digest_of "$B")
    [[ $got == "$want" ]] && ok || fail "$name: fresh run digest $got, golden $want"
  else
    echo "$name: plugins differ from the golden build: result digest not compared"
  fi
done
((n == 5)) && ok || fail "expected 5 golden bundles, found $n"

finish
