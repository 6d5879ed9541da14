#!/usr/bin/env bash
# Sealed run bundles end to end: keel run seals a bundle that keel verify
# and `sha256sum -c` accept; tampering (a flipped byte in weights, the
# manifest, a plugin; an added or removed file) fails verify with exit 3
# naming the file; hostile archives are refused by verify, show, diff and
# replay; diff is quiet on equal results and names a changed value; replay
# reproduces at another thread count from the bundle alone.
. "$(dirname "$0")/lib.sh"
need tar sha256sum

M=$KEEL_SRC/manifests/iris.ini

# ---- sealing -------------------------------------------------------------
seal "$M" --out "$T/runs" --threads 1 || bail "keel run --threads 1 sealed no bundle"
b1=$B
seal "$M" --out "$T/runs" --threads 2 || bail "keel run --threads 2 sealed no bundle"
b2=$B
[[ $b1 != "$b2" ]] || bail "keel run printed the same bundle path twice: $b1"
[[ $(basename "$b1") == keel-run-*.tar.gz ]] && ok || fail "bundle name $(basename "$b1")"
if ls -A "$T/runs" | grep -q '^\.'; then fail "temporary file left in runs/"; else ok; fi

expect "verify intact" 0 "^OK .*result digest [0-9a-f]{64}" -- verify "$b1"
expect "verify intact (2 threads)" 0 "" -- verify "$b2"

# sha256sum -c after a plain tar x.
mkdir -p "$T/x1" "$T/x2"
tar xzf "$b1" -C "$T/x1"
tar xzf "$b2" -C "$T/x2"
top1=$(ls "$T/x1")
top2=$(ls "$T/x2")
if (cd "$T/x1/$top1" && sha256sum --quiet --strict -c SHA256SUMS); then ok; else fail "sha256sum -c SHA256SUMS"; fi

# Same manifest at 1 and 2 threads: same result digest, same deterministic
# files; only the run record and volatile companions differ.
if cmp -s "$T/x1/$top1/digest.txt" "$T/x2/$top2/digest.txt"; then ok; else fail "result digests differ between 1 and 2 threads"; fi
volatile='^(run\.json|audit\.jsonl|audit_chain\.json|environment\.json|SHA256SUMS|README\.md)$'
differing=$(diff -rq "$T/x1/$top1" "$T/x2/$top2" | sed -E "s#.*$top1/([^ ]+) and .*#\1#" | grep -vE "$volatile" || true)
[[ -z $differing ]] && ok || fail "bundles differ beyond the run record: $differing"
expect "diff of equal results is quiet" 0 "" -- diff "$b1" "$b2"
[[ ! -s $T/out ]] && ok || fail "diff of equal results printed: $(cat "$T/out")"

# ---- tampering -----------------------------------------------------------
# fresh: $b1 extracted into $T/tamper; retar NAME: packs $T/tamper/<top>
# into $T/NAME.tar.gz.
fresh() { rm -rf "$T/tamper"; mkdir -p "$T/tamper"; tar xzf "$b1" -C "$T/tamper"; }
retar() { tar czf "$T/$1.tar.gz" -C "$T/tamper" "$top1"; }

fresh; flip "$T/tamper/$top1/weights/W.npy" 150; retar t-weights
expect "flipped byte in weights" 3 "modified: weights/W.npy" -- verify "$T/t-weights.tar.gz"
fresh; flip "$T/tamper/$top1/manifest.ini" 3; retar t-manifest
expect "flipped byte in the manifest" 3 "modified: manifest.ini" -- verify "$T/t-manifest.tar.gz"
so=$(cd "$T/tamper/$top1" && ls plugins/*.so | head -n 1)
fresh; flip "$T/tamper/$top1/$so" 4000; retar t-plugin
expect "flipped byte in a plugin" 3 "modified: $so" -- verify "$T/t-plugin.tar.gz"
fresh; echo extra >"$T/tamper/$top1/weights/extra.npy"; retar t-add
expect "added file" 3 "extra: weights/extra.npy" -- verify "$T/t-add.tar.gz"
fresh; rm "$T/tamper/$top1/metrics.jsonl"; retar t-remove
expect "removed file" 3 "missing: metrics.jsonl" -- verify "$T/t-remove.tar.gz"
# A tampered bundle is refused by the other commands too.
expect "replay refuses tampered" 3 "fails verification" -- replay "$T/t-weights.tar.gz"
expect "diff refuses tampered" 3 "fails verification" -- diff "$b1" "$T/t-weights.tar.gz"
expect "show flags tampered" 3 "integrity +FAILED" -- show "$T/t-weights.tar.gz"

# A flipped byte in the compressed file itself.
cp "$b1" "$T/t-raw.tar.gz"
flip "$T/t-raw.tar.gz" 2000
expect "flipped byte in the .tar.gz" 3 "" -- verify "$T/t-raw.tar.gz"
cp "$b1" "$T/t-crc.tar.gz"
flip "$T/t-crc.tar.gz" $(($(stat -c %s "$b1") - 6))
expect "flipped CRC byte" 3 "archive: the gzip stream is corrupt" -- verify "$T/t-crc.tar.gz"

# Truncated and non-tar files.
head -c 1000 "$b1" >"$T/t-trunc.tar.gz"
expect "truncated bundle" 3 "truncated|corrupt" -- verify "$T/t-trunc.tar.gz"
echo "not a bundle" >"$T/t-text.tar.gz"
expect "non-tar file" 3 "not a tar.gz bundle" -- verify "$T/t-text.tar.gz"
expect "missing file" 1 "cannot open" -- verify "$T/nope.tar.gz"

# ---- hostile archives ----------------------------------------------------
$PY - "$T" <<'EOF'
import io, sys, tarfile
t = sys.argv[1]
def member(tf, name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)
def make(name, *members, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(f"{t}/{name}.tar.gz", "w:gz", format=fmt) as tf:
        for m in members:
            member(tf, *m[0], **m[1])
make("h-abs", (("/tmp/keel-evil",), {}))
make("h-dotdot", (("keel-run-x/../../keel-evil",), {}))
make("h-symlink", (("keel-run-x/link",), {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}))
make("h-hardlink", (("keel-run-x/a",), {}), (("keel-run-x/b",), {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}))
make("h-device", (("keel-run-x/null",), {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}))
make("h-fifo", (("keel-run-x/fifo",), {"type": tarfile.FIFOTYPE}))
make("h-dup", (("keel-run-x/a", b"one"), {}), (("keel-run-x/a", b"two"), {}))
# The name hides in a pax header and in a GNU long-name record.
make("h-pax", (("keel-run-x/" + "d/" * 40 + "../" * 45 + "keel-evil",), {}))
make("h-gnu", (("keel-run-x/" + "a" * 120 + "/../../../keel-evil",), {}), fmt=tarfile.GNU_FORMAT)
# A member header claiming 3 GiB (the data is never there).
hdr = tarfile.TarInfo("keel-run-x/huge"); hdr.size = 3 << 30
import gzip
with gzip.open(f"{t}/h-huge.tar.gz", "wb") as g:
    g.write(hdr.tobuf(format=tarfile.USTAR_FORMAT))
EOF
for case in "h-abs:absolute path" "h-dotdot:'\.\.'" "h-symlink:link" "h-hardlink:link" \
            "h-device:device" "h-fifo:fifo" "h-dup:twice" "h-pax:'\.\.'" "h-gnu:'\.\.'" \
            "h-huge:over the limit"; do
  name=${case%%:*}
  why=${case#*:}
  expect "verify refuses $name" 3 "$why" -- verify "$T/$name.tar.gz"
  expect "show refuses $name" 3 "$why" -- show "$T/$name.tar.gz"
  expect "diff refuses $name" 3 "$why" -- diff "$b1" "$T/$name.tar.gz"
  expect "replay refuses $name" 3 "$why" -- replay "$T/$name.tar.gz"
  expect "env refuses $name" 3 "$why" -- env "$T/$name.tar.gz"
done
[[ ! -e /tmp/keel-evil && ! -e $T/keel-evil ]] && ok || fail "a hostile member was written outside"

# ---- diff with a changed value -------------------------------------------
seal "$M" optimizer.lr=0.05 --out "$T/runs" || true
b3=$B
expect "diff names a changed value" 1 "optimizer\.lr: 0\.1 -> 0\.05" -- diff "$b1" "$b3"
grep -qE "metrics.*epoch 1" "$T/out" && ok || fail "diff does not name the first differing epoch"
grep -qE "weights/W\.npy: differs" "$T/out" && ok || fail "diff does not name the weights"

# ---- show, env ------------------------------------------------------------
expect "show" 0 "digest +[0-9a-f]{64}" -- show "$b1"
grep -qE "optimizer\.lr = 0\.1 \(manifest\)" "$T/out" && ok || fail "show lacks the values"
expect "show --json" 0 '"digest"' -- show "$b1" --json
[[ $(json_value "$T/out" 'bool(d["integrity"]["ok"] and len(d["digest"]) == 64)') == true ]] && ok ||
  fail "show --json is not the expected JSON"
expect "env" 0 "drift|no drift" -- env "$b1" --containerfile "$T/Containerfile"
grep -qE "^FROM .*debian:[a-z]+" "$T/Containerfile" && grep -qE "libc6=" "$T/Containerfile" && ok || fail "Containerfile not pinned"

# ---- replay ----------------------------------------------------------------
# From the bundle alone: no plugin path, another working folder, another
# thread count.
mkdir -p "$T/elsewhere"
rc=0
(cd "$T/elsewhere" && KEEL_PLUGIN_PATH= "$KEEL" replay "$b1" --threads 2) >"$T/out" 2>&1 || rc=$?
if ((rc == 0)) && grep -q "^REPRODUCED" "$T/out"; then ok; else fail "replay at 2 threads: exit $rc"; show_output; fi
expect "replay of an overridden run" 0 "^REPRODUCED" -- replay "$b3" --threads 1
expect "replay --threads 0" 2 "--threads wants an integer in .1, 1024., not '0'" -- replay "$b3" --threads 0
expect "replay --threads 2x" 2 "not '2x'" -- replay "$b3" --threads 2x

# Bundled data: the replay reads the bundle's copy even when the original
# is gone. Unbundled data that changed: exit 4 naming the file, before any
# training. Bundles made without plugins need --plugin-path.
mkdir -p "$T/own/data"
uncatalogued "$M" "$T/own/iris.ini" # a plain path: the data is edited below
cp "$KEEL_SRC/manifests/data/iris.csv" "$T/own/data/"
seal "$T/own/iris.ini" --out "$T/runs" --include-data || true
bd=$B
seal "$T/own/iris.ini" --out "$T/runs" || true
bu=$B
seal "$M" --out "$T/runs" --no-plugins || true
bn=$B
sed -i '2s/^5\.1/5.2/' "$T/own/data/iris.csv"
expect "replay with changed data" 4 "data/iris.csv.*SHA-256" -- replay "$bu"
grep -q "^NOT REPRODUCED" "$T/out" && ok || fail "no NOT REPRODUCED line"
rm -rf "$T/own"
expect "replay from bundled data" 0 "^REPRODUCED" -- replay "$bd"
expect "replay with the data gone" 1 "neither bundled nor readable" -- replay "$bu"
expect "replay without bundled plugins: installed ones by SHA-256" 0 "installed .*plugins-out/" -- replay "$bn"
expect "replay with --plugin-path" 0 "^REPRODUCED" -- replay "$bn" --plugin-path "$(dirname "$KEEL")/plugins-out"

# ---- signing ---------------------------------------------------------------
expect "keygen" 0 "" -- keygen "$T/signer"
expect "keygen never overwrites" 2 "exists" -- keygen "$T/signer"
seal "$M" --out "$T/runs" --sign "$T/signer.key" || true
bs=$B
expect "verify signed" 0 "signature valid" -- verify "$bs" --pubkey "$T/signer.pub"
expect "keygen other" 0 "" -- keygen "$T/other"
expect "verify with another key" 3 "signature" -- verify "$bs" --pubkey "$T/other.pub"
expect "unsigned bundle with --pubkey" 3 "not signed" -- verify "$b1" --pubkey "$T/signer.pub"

finish
