#!/usr/bin/env bash
# Fault injection (issue 11): a read-only output folder. The folder is a
# read-only bind mount (a real mount, not mode bits: tests run as root,
# DESIGN.md). Every command that writes into it (run, run
# --until-transforms, replay --out, keygen) exits 1 (I/O, docs/cli.md) with
# a message naming the path it could not write and "Read-only file
# system", and nothing at all is written under it.
. "$(dirname "$0")/lib.sh"
need mount umount mountpoint find
SRC=$T/src
RO=$T/ro
mkdir -p "$SRC" "$RO"
cleanup() { mountpoint -q "$RO" && umount "$RO" || true; }
trap 'rc=$?; cleanup; (exit $rc); _lib_on_exit' EXIT

shipped_manifests iris
M=$T/m/iris.ini
seal "$M" train.epochs=2 --out "$T/runs" || bail "no bundle to replay"
b=$B

mount --bind "$SRC" "$RO" 2>"$T/mount.err" && mount -o remount,ro,bind "$RO" 2>>"$T/mount.err" ||
  bail "mount --bind / remount,ro failed ($(cat "$T/mount.err")): this test needs root with CAP_SYS_ADMIN (DESIGN.md: tests run as root and use real mounts)"
touch "$RO/probe" 2>/dev/null && bail "$RO is writable after remount,ro"
ok

# refused LABEL PATH_RE ARGS...: keel ARGS exits $CODE (1 unless set)
# naming PATH_RE and the read-only file system, and writes nothing.
refused() {
  local label=$1 re=$2 code=${CODE:-1}
  shift 2
  krun "$@"
  if ((RC == code)); then ok; else
    fail "$label: exit $RC, expected $code"
    show_output "$T/err"
  fi
  if grep -qE "$re.*Read-only file system" "$T/err"; then ok; else
    fail "$label: the message does not name $re and 'Read-only file system'"
    show_output "$T/err"
  fi
  local written
  written=$(find "$SRC" "$RO" -mindepth 1)
  [[ -z $written ]] && ok || fail "$label: written under the read-only folder: $written"
}

refused "run into a read-only folder" "$RO/keel-run-[^ ]*" run "$M" train.epochs=2 --out "$RO" --quiet
refused "run into a folder to create on a read-only file system" "$RO/runs" run "$M" train.epochs=2 --out "$RO/runs" --quiet
refused "run with checkpoints on a read-only file system" "$RO/" run "$M" train.epochs=2 train.checkpoint_every=1 --out "$RO" --quiet
refused "run --until-transforms" "$RO/" run "$M" --until-transforms --out "$RO" --quiet
# replay: a re-run that could not write its bundle is an I/O failure
# (exit 1), not "not reproduced" (cmd_replay.c).
refused "replay --out" "$RO/" replay "$b" --out "$RO"
refused "keygen" "$RO/k\.key" keygen "$RO/k"

finish
