#!/bin/sh
# Installs what keel needs to build and test on Debian 12 (bookworm), and
# nothing that is already there. Idempotent: a second run changes nothing
# and does not touch the network.
#
#   packaging/bootstrap.sh            # build + test dependencies
#   packaging/bootstrap.sh --fuzz     # also clang + libFuzzer runtime
#   packaging/bootstrap.sh --check    # only list what is missing (exit 1 if any)
#
# Runs as root directly, or through sudo otherwise. Exit codes: 0 done (or
# nothing missing), 1 something missing (--check) or apt failed, 2 usage.
set -eu

# Build: gcc, make and binutils (build-essential; gcc brings OpenMP),
# CMake >= 3.25 (bookworm has 3.25.1), pkg-config, and the libraries
# core/ and plugins/ link: inih, libarchive, libffi, OpenSSL's libcrypto,
# jansson, zlib, libcurl (CMakeLists.txt finds each of them), and SQLite
# (the sqlite source, plugins/sources/sqlite/CMakeLists.txt).
BUILD_PACKAGES="build-essential cmake pkg-config libinih-dev libarchive-dev
libffi-dev libssl-dev libjansson-dev zlib1g-dev libcurl4-openssl-dev
libsqlite3-dev"
# Test: what the test programs and scripts under tests/ call.
#   libcunit1-dev  the unit tests (tests/unit)
#   python3        e2e tests build hostile tarballs and read JSON
#   git            core/revision.cmake records the revision; the checks in
#                  tests/arch list the files git tracks
#   clang-format   tests/arch/check_format.sh (clang-format-14 on bookworm)
#   binutils       nm, for the exported symbols of plugins (e2e)
#   valgrind       tests/e2e/test_corpus_valgrind.sh (slow tier)
#   strace         tests/e2e/test_relocated_install.sh (what a moved
#                  install opens)
#   openssl        the data-access tests make their own CA and server
#                  certificate (tests/e2e/test_data_fetch_http.sh)
#   sqlite3        the registry tests read the registry file directly
#                  (tests/e2e/test_registry*.sh)
#   gcc, make      (build-essential) gcc -MM in tests/arch/check_layers.sh,
#                  make in the out-of-tree SDK test
#   bash coreutils tar gzip diffutils findutils sed grep mawk
#                  the shell tools the scripts run (sha256sum, od, tar,
#                  diff, cmp, find, awk, ...); Debian's base system has
#                  them, they are listed so a trimmed image gets them too
TEST_PACKAGES="libcunit1-dev python3 git clang-format binutils valgrind strace openssl
sqlite3 bash coreutils tar gzip diffutils findutils sed grep mawk"
PACKAGES="$BUILD_PACKAGES $TEST_PACKAGES"
# Fuzzing (tests/fuzz/run_fuzz.sh): libFuzzer ships in clang's runtime
# package.
FUZZ_PACKAGES="clang libclang-rt-14-dev"

fuzz=0
check_only=0
for arg in "$@"; do
  case $arg in
  --fuzz) fuzz=1 ;;
  --check) check_only=1 ;;
  -h | --help)
    sed -n '2,12s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *)
    echo "bootstrap.sh: unknown option '$arg' (try --help)" >&2
    exit 2
    ;;
  esac
done
if [ "$fuzz" = 1 ]; then
  PACKAGES="$PACKAGES $FUZZ_PACKAGES"
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap.sh: needs a Debian system with dpkg and apt-get (Debian 12 is supported)" >&2
  exit 1
fi
if [ -r /etc/os-release ]; then
  # In a subshell, so os-release's variables do not leak into ours.
  os=$(. /etc/os-release && echo "${ID:-}-${VERSION_ID:-}")
  if [ "$os" != debian-12 ]; then
    echo "bootstrap.sh: note: tested on Debian 12, this is $os; trying anyway" >&2
  fi
fi

# A package counts as present only when dpkg says "install ok installed"
# (not "deinstall ok config-files", not half-configured).
missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "bootstrap.sh: all dependencies are installed"
  exit 0
fi
echo "bootstrap.sh: missing:$missing"
if [ "$check_only" = 1 ]; then
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "bootstrap.sh: not root and no sudo; install as root:$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Only now touch the network: the package lists of a fresh image are empty.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends $missing
echo "bootstrap.sh: installed:$missing"
