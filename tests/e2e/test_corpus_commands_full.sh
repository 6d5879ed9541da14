#!/usr/bin/env bash
# ctest: slow
# ctest: timeout 2400
# test_corpus_commands.sh over every file of every fuzz corpus, not a
# sample (the fast tier takes every 16th): the real bundle, manifest,
# template and data reading commands end without a crash, a timeout or a
# sanitizer report, and say something when they fail.
CORPUS_STEP=1
. "$(dirname "$0")/test_corpus_commands.sh"
