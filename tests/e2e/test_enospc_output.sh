#!/usr/bin/env bash
# ctest: slow
# Fault injection (issue 11): a full disk. The output folder is a small
# tmpfs (a real mount, DESIGN.md: tests run as root) where the bundle, or a
# checkpoint, does not fit. keel exits 1 (I/O, docs/cli.md) with a message
# naming the file it could not write and "No space left on device"; no
# temporary is left and no file under a final name is half-written (a
# checkpoint left from an earlier epoch still resumes to the uninterrupted
# run's bits). The same run on a tmpfs large enough succeeds, so the size
# is what failed.
. "$(dirname "$0")/lib.sh"
need mount umount mountpoint find tar cmp
shopt -s nullglob

MNT=$T/mnt
mkdir -p "$MNT"
cleanup() { mountpoint -q "$MNT" && umount "$MNT" || true; }
trap 'rc=$?; cleanup; (exit $rc); _lib_on_exit' EXIT
# small SIZE: a fresh tmpfs of SIZE on $MNT.
small() {
  cleanup
  mount -t tmpfs -o "size=$1" keel-enospc "$MNT" 2>"$T/mount.err" ||
    bail "mount -t tmpfs failed ($(cat "$T/mount.err")): this test needs root with CAP_SYS_ADMIN (DESIGN.md: tests run as root and use real mounts)"
}

shipped_manifests iris digits
IRIS=$T/m/iris.ini
DIGITS=$T/m/digits.ini
DO=(train.checkpoint_every=1 model.hidden=256 train.epochs=3)

# full LABEL SIZE MANIFEST ARGS...: the run fails for want of space, cleanly.
full() {
  local label=$1 size=$2
  shift 2
  small "$size"
  krun run "$@" --out "$MNT/runs" --quiet
  if ((RC == 1)); then ok; else
    fail "$label: exit $RC, expected 1"
    show_output "$T/err"
  fi
  if grep -qE "$MNT/runs/[^ ]+: .*No space left on device" "$T/err"; then ok; else
    fail "$label: the message does not name the file and 'No space left on device'"
    show_output "$T/err"
  fi
  local tmp
  tmp=$(find "$MNT" -name '.*' -type f)
  [[ -z $tmp ]] && ok || fail "$label: temporaries left: $tmp"
  local bundles=("$MNT"/runs/keel-run-*)
  ((${#bundles[@]} == 0)) && ok || fail "$label: a bundle under its final name: ${bundles[*]}"
}

full "iris bundle, 16 KiB" 16k "$IRIS"
full "iris bundle (72 KiB), 48 KiB" 48k "$IRIS"
full "digits: no checkpoint fits, 128 KiB" 128k "$DIGITS" "${DO[@]}"
full "digits: the second checkpoint does not fit, 320 KiB" 320k "$DIGITS" "${DO[@]}"

# The checkpoint the last case left is the first epoch's, whole: resumed
# elsewhere it ends with the uninterrupted run's bits.
ck=("$MNT"/runs/checkpoints/*/checkpoint.ckpt)
if ((${#ck[@]} == 1)); then
  cp "${ck[0]}" "$T/left.ckpt"
  seal "$DIGITS" "${DO[@]}" --out "$T/a" || bail "uninterrupted digits run failed"
  a=$B
  if seal "$DIGITS" "${DO[@]}" --out "$T/b" --resume "$T/left.ckpt"; then
    expect "resume from the checkpoint left on the full disk" 0 "" -- diff "$a" "$B"
  fi
else
  fail "expected the first epoch's checkpoint on the 320 KiB tmpfs, found ${#ck[@]}"
fi

# Control: with room, the same runs seal and verify.
small 4m
if seal "$IRIS" --out "$MNT/runs"; then
  expect "iris on a 4 MiB tmpfs verifies" 0 "^OK " -- verify "$B"
fi
if seal "$DIGITS" "${DO[@]}" --out "$MNT/runs"; then
  expect "digits on a 4 MiB tmpfs verifies" 0 "^OK " -- verify "$B"
fi

finish
