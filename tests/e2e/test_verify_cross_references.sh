#!/usr/bin/env bash
# Issue 11, finding 5: "keel verify passes a bundle whose plugin binary no
# longer matches plugins.json" once SHA256SUMS is recomputed and the seal
# rebuilt. verify must check what members say about one another: plugins
# against plugins.json (and config.json's pins), bundled data against
# lineage.json, .npy members parse and fill their shape, preprocess/*
# against config.json's transform stages, run.json's run id against the
# top folder; and warn (not fail) when the file name is not the run's.
. "$(dirname "$0")/lib.sh"
need tar ln
cd "$T"

seal "$KEEL_SRC/manifests/iris.ini" --include-data --out runs || bail "no bundle to forge from"
b=$B
id=$(basename "$b" .tar.gz)

# forge OUT 'python statements editing the dict files (name -> bytes)':
# re-tars the members, recomputes the result digest (digest.txt and
# run.json), SHA256SUMS and keel's gzip seal (docs/bundle-format.md,
# "The seal"), as a forger would; SIGNATURE is dropped.
forge() { reseal "$b" "$1" "$2"; }
mkdir -p f
forge "f/$id.tar.gz" 'pass'
expect "a faithfully re-sealed bundle verifies (else forging is broken)" 0 "" -- verify "f/$id.tar.gz"

so=$(tar tzf "$b" | grep -o 'plugins/model-[^/]*\.so$')
forge "f/so.tar.gz" "files['$so'] = files['$so'] + b'\\0'"
expect "verify: plugin binary against plugins.json" 3 "$so.*plugins\.json" -- verify f/so.tar.gz
forge "f/extra_so.tar.gz" "files['plugins/model-evil-9.9.9.so'] = files['$so']"
expect "verify: a plugin binary plugins.json does not list" 3 "plugins/model-evil-9\.9\.9\.so" -- verify f/extra_so.tar.gz
forge "f/pin.tar.gz" "
p = json.loads(files['plugins.json'])
for e in p['plugins']:
    if e['kind'] == 'model': e['sha256'] = '0' * 64
files['plugins.json'] = json.dumps(p, indent=2).encode()
for n in [n for n in files if n.startswith('plugins/')]: del files[n]"
expect "verify: the configuration pins a plugin plugins.json lacks" 3 "config(_full)?\.json pins plugin" -- verify f/pin.tar.gz

forge "f/data.tar.gz" "files['data/iris@1.0.0'] = files['data/iris@1.0.0'].replace(b'5.1', b'5.2', 1)"
expect "verify: bundled data against lineage.json" 3 "data/iris@1\.0\.0.*lineage\.json" -- verify f/data.tar.gz
forge "f/data_extra.tar.gz" "files['data/other.csv'] = b'a,b\n'"
expect "verify: bundled data lineage.json does not record" 3 "data/other\.csv" -- verify f/data_extra.tar.gz

forge "f/npy_cut.tar.gz" "files['weights/W.npy'] = files['weights/W.npy'][:-4]"
expect "verify: a truncated weights .npy" 3 "weights/W\.npy" -- verify f/npy_cut.tar.gz
forge "f/npy_shape.tar.gz" "files['weights/W.npy'] = files['weights/W.npy'].replace(b\"'shape': (4, 3)\", b\"'shape': (4, 4)\", 1)"
expect "verify: a weights .npy whose shape does not fill it" 3 "weights/W\.npy.*shape" -- verify f/npy_shape.tar.gz
forge "f/npy_garbage.tar.gz" "files['weights/W.npy'] = b'not numpy at all'"
expect "verify: a weights member that is not .npy" 3 "weights/W\.npy.*not a \.npy" -- verify f/npy_garbage.tar.gz

forge "f/pre.tar.gz" "files['preprocess/01-transform.other.json'] = files.pop('preprocess/01-transform.scale.json')"
expect "verify: fitted state against config.json's stages" 3 "preprocess/01-transform\.other\.json" -- verify f/pre.tar.gz
forge "f/pre_gone.tar.gz" "del files['preprocess/01-transform.scale.json']"
expect "verify: a finished run lacks a stage's fitted state" 3 "preprocess/01-transform\.scale\.json" -- verify f/pre_gone.tar.gz

forge "f/runid.tar.gz" "
r = json.loads(files['run.json']); r['run_id'] = 'keel-run-20000101T000000.000Z-00000000'
files['run.json'] = json.dumps(r).encode()"
expect "verify: run.json run_id against the folder" 3 "run_id keel-run-20000101" -- verify f/runid.tar.gz

# A renamed bundle verifies with a warning; a link is followed.
cp "$b" other-run.tar.gz
expect "verify a renamed bundle" 0 "^OK" -- verify other-run.tar.gz
has "verify a renamed bundle" "warning" "$id" "other-run.tar.gz"
ln -s "$(realpath "$b")" latest
expect "verify through a link" 0 "^OK" -- verify latest
grep -q warning "$T/out" && fail "a link to a rightly named bundle warns: $(cat "$T/out")" || ok
expect "verify under its own name" 0 "^OK" -- verify "$b"
grep -q warning "$T/out" && fail "a rightly named bundle warns: $(cat "$T/out")" || ok

finish
