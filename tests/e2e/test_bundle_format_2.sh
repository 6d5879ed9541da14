#!/usr/bin/env bash
# Issue 11, finding 11: bundle format 2 (docs/bundle-format.md).
#  1. an override and the same value written in the manifest give one
#     result digest (the digest covers values, not their origins);
#  2. a plugin rebuilt into a different binary that computes the same bits
#     gives the same digest, while diff reports the binary's SHA-256 and
#     verify and replay still check it;
#  3. replay runs the bundle's own resolved values, not what its template
#     (or a default) would resolve to today;
#  4. every golden keel-bundle/1 bundle still verifies, shows, diffs
#     against itself and against a format-2 bundle, and replays.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BUILD:?KEEL_BUILD must name the build folder}"
need objcopy
shipped_manifests iris
M=$T/m/iris.ini
uncatalogued "$KEEL_SRC/manifests/iris.ini" "$M" # compared with the goldens, made before the catalog
G=$KEEL_SRC/tests/data/golden

digest() {
  "$KEEL" show "$1" --json >"$T/show.json"
  json_value "$T/show.json" 'd["run"]["result_digest"]'
}
format_of() {
  "$KEEL" show "$1" --json >"$T/show.json"
  json_value "$T/show.json" 'd["run"]["format"]'
}

# ---- 1. an override and the same value in the manifest: one digest ------
seal "$M" --out "$T/runs" || bail "iris does not run"
plain=$B
[[ $(format_of "$plain") == keel-bundle/3 ]] && ok ||
  fail "a new bundle is not keel-bundle/3 (format 2 digest rule, test_bundle_format_3): $(format_of "$plain")"
# epochs = 50 is written in the manifest; give the same value again.
seal "$M" --out "$T/runs" train.epochs=50 optimizer.lr=0.1 || bail "override run"
over=$B
[[ $(digest "$plain") == "$(digest "$over")" ]] && ok ||
  fail "an override of the manifest's own value changed the result digest"
expect "diff: same values, same result" 0 '' -- diff "$plain" "$over"
# The origin is still recorded, outside the digest.
tar xzf "$over" -C "$T" --wildcards '*/config_full.json'
grep -q '"override"' "$T"/keel-run-*/config_full.json && ok ||
  fail "the override's origin is not recorded in config_full.json"
rm -rf "$T"/keel-run-*

# ---- 2. a rebuilt plugin that computes the same bits --------------------
mkdir -p "$T/rebuilt"
printf 'rebuilt by test_bundle_format_2\n' >"$T/note"
objcopy --add-section .note.keel-rebuild="$T/note" \
  "$KEEL_BUILD/plugins-out/sgd.so" "$T/rebuilt/sgd.so"
old_sha=$(sha256sum "$KEEL_BUILD/plugins-out/sgd.so" | cut -c1-64)
new_sha=$(sha256sum "$T/rebuilt/sgd.so" | cut -c1-64)
[[ $old_sha != "$new_sha" ]] && ok || bail "objcopy did not change sgd.so"
seal "$M" --out "$T/runs" --plugin-path "$T/rebuilt" || bail "rebuilt run"
rebuilt=$B
tar xzf "$rebuilt" -C "$T" --wildcards '*/plugins.json'
grep -q "$new_sha" "$T"/keel-run-*/plugins.json && ok ||
  fail "the run did not load the rebuilt sgd.so"
rm -rf "$T"/keel-run-*
[[ $(digest "$plain") == "$(digest "$rebuilt")" ]] && ok ||
  fail "a rebuilt plugin computing the same bits changed the result digest"
expect "diff names the plugin's binary" 0 "optimizer/sgd.*sha256" -- \
  diff "$plain" "$rebuilt"
has "diff shows both hashes" "${old_sha:0:12}" "${new_sha:0:12}"
expect "verify the rebuilt run" 0 '^OK ' -- verify "$rebuilt"
# A bundled binary that no longer matches plugins.json: refused by verify
# and by replay, whatever the digest says.
reseal "$rebuilt" "$T/tampered.tar.gz" '
n = [k for k in files if k.startswith("plugins/optimizer-sgd")][0]
files[n] = files[n] + b"\0"'
expect "verify checks plugin hashes" 3 'mismatch: plugins/optimizer-sgd' -- \
  verify "$T/tampered.tar.gz"
expect "replay checks plugin hashes" 3 'sgd' -- \
  replay "$T/tampered.tar.gz" --threads 1
# The rebuilt sgd.so is installed (on the plugin path) and matches by hash.
expect "replay of the rebuilt run" 0 '^REPRODUCED' -- replay "$rebuilt" \
  --plugin-path "$T/rebuilt"

# ---- 3. replay runs the bundle's resolved values --------------------------
# The template sets [data] stratify = true and iris.ini leaves it; a
# template that now says false must not change what the replay runs.
edit='
t = files["template.ini"].decode()
assert "stratify = true" in t
files["template.ini"] = t.replace("stratify = true", "stratify = false").encode()'
reseal "$plain" "$T/newdefault.tar.gz" "$edit"
expect "verify: template edited, resealed" 0 '^OK ' -- verify "$T/newdefault.tar.gz"
expect "replay runs the bundle's values" 0 '^REPRODUCED' -- \
  replay "$T/newdefault.tar.gz" --threads 2
# Control: a keel-bundle/1 bundle is replayed by its own rule (its
# manifest re-resolved against its template), so there the edit counts.
reseal "$G/iris.tar.gz" "$T/v1-newdefault.tar.gz" "$edit"
expect "the edit matters to a v1 replay" 4 'NOT REPRODUCED' -- \
  replay "$T/v1-newdefault.tar.gz" --threads 1 --trust-bundled-plugins

# ---- 4. golden keel-bundle/1 bundles still read -------------------------
n=0
for golden in "$G"/*.tar.gz; do
  name=$(basename "$golden" .tar.gz)
  n=$((n + 1))
  [[ $(format_of "$golden") == keel-bundle/1 ]] && ok ||
    fail "$name: golden bundle is not keel-bundle/1"
  expect "$name: verify" 0 '^OK ' -- verify "$golden"
  expect "$name: show" 0 'digest' -- show "$golden"
  krun diff "$golden" "$golden"
  ((RC == 0)) && [[ ! -s $T/out ]] && ok ||
    fail "$name: diff with itself: exit $RC, $(wc -c <"$T/out") bytes on stdout"
  # Our own fixtures, sealed by a build whose plugins are installed
  # nowhere: trusted explicitly (docs/cli.md, keel replay).
  expect "$name: replay" 0 '^REPRODUCED' -- replay "$golden" --threads 2 \
    --trust-bundled-plugins
done
((n == 5)) && ok || fail "expected 5 golden bundles, found $n"
# A v1 and a v2 bundle of one manifest: the digests are defined
# differently, so diff says the formats differ and that the values and
# results do not.
expect "diff v1 against v2" 1 'format.*keel-bundle/1.*keel-bundle/[23]' -- \
  diff "$G/iris.tar.gz" "$plain"
# (csv 1.3.0, newer than the golden build, added `encoding`, left at its
# default: diff rightly names that parameter and the source's version.)
if grep -E '^(values|results|final|metrics|data) ' "$T/out" |
  grep -Evq 'source\.encoding: \(absent\) -> utf-8|source\.version: 1\.2\.2 -> 1\.3\.0'; then
  fail "diff v1 v2 of one manifest reports computed differences"
  show_output
else ok; fi

finish
