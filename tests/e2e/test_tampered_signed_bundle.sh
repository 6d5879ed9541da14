#!/usr/bin/env bash
# Fault injection (issue 11): a signed bundle tampered with and re-sealed
# the way a forger would (SHA256SUMS, result digest and gzip seal all
# recomputed, lib.sh reseal). test_bundle.sh covers a bundle checked
# against another key and an unsigned one with --pubkey; here:
# - a member edited, the owner's SIGNATURE kept: verify --pubkey fails (3,
#   naming the signature); without a key verify checks hashes only and
#   says the signature was not checked (docs/bundle-format.md);
# - the SIGNATURE itself altered: the same;
# - the SIGNATURE dropped: verify --pubkey says the bundle is not signed;
# - controls: the bundle as sealed verifies with --pubkey, and a re-seal
#   with no edit verifies (else the crafting, not keel, is what failed).
. "$(dirname "$0")/lib.sh"
need tar
cd "$T"
shipped_manifests iris
expect "keygen" 0 "" -- keygen owner
seal m/iris.ini train.epochs=3 --out runs --sign owner.key || bail "signed run failed"
b=$B

expect "the signed bundle verifies with the owner's key" 0 "signature valid" -- verify "$b" --pubkey owner.pub
reseal "$b" same.tar.gz 'pass'
expect "a re-seal with no edit verifies" 0 "^OK " -- verify same.tar.gz

reseal "$b" lr.tar.gz 'keep_signature = True
files["config.json"] = files["config.json"].replace(b"0.1", b"0.2", 1)'
expect "member edited, signature kept: --pubkey" 3 "signature" -- verify lr.tar.gz --pubkey owner.pub
expect "member edited, signature kept: no key" 0 "signature not checked" -- verify lr.tar.gz

reseal "$b" sig.tar.gz 'keep_signature = True
s = files["SIGNATURE"].decode()
i = s.index("signature: ") + len("signature: ")
files["SIGNATURE"] = (s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]).encode()'
expect "signature altered: --pubkey" 3 "signature" -- verify sig.tar.gz --pubkey owner.pub
expect "signature altered: no key" 0 "signature not checked" -- verify sig.tar.gz

reseal "$b" nosig.tar.gz 'files["config.json"] = files["config.json"].replace(b"0.1", b"0.2", 1)'
expect "signature dropped: --pubkey" 3 "not signed" -- verify nosig.tar.gz --pubkey owner.pub

finish
