#!/usr/bin/env bash
# ctest: slow
# test_corpus_commands.sh under valgrind (memcheck, full leak check) on
# the default build, over the small subset of the fuzz corpora copied in
# tests/fuzz/valgrind-subset/ (all of them would take most of an hour):
# 0 errors required (valgrind exits 99 on one). The suppressions in
# tests/fuzz/valgrind.supp cover libgomp's thread pool only.
# tests/fuzz/valgrind-subset/README.md says how the subset was picked.
if [[ -n ${KEEL:-} ]] && ldd "$KEEL" 2>/dev/null | grep -q libasan; then
  echo "test_corpus_valgrind: $KEEL is an ASan build; valgrind needs the default one" >&2
  exit 1
fi
CORPUS_DIR=${KEEL_SRC:?}/tests/fuzz/valgrind-subset
CORPUS_STEP=1
CORPUS_WRAP=(valgrind -q --error-exitcode=99 --leak-check=full
  --suppressions="$KEEL_SRC/tests/fuzz/valgrind.supp")
CORPUS_TIMEOUT=300
. "$(dirname "$0")/test_corpus_commands.sh"
