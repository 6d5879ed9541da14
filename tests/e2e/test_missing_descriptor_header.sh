#!/usr/bin/env bash
# A descriptor without KEEL_PLUGIN_HEADER (tests/plugins/no_header.c) is
# reported as a missing header, naming the file and the macro, not as an
# incompatible ABI major that sends the author off to rebuild.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
F=$KEEL_BROKEN_DIR/no_header.so
[[ -f $F ]] || bail "$F was not built (tests/plugins/no_header.c)"

expect "asked for by name" 2 'no_header\.so' -- plugins no_header --plugin-path "$F"
if grep -qi 'KEEL_PLUGIN_HEADER' "$T/out" && grep -qi 'header.*missing\|missing.*header' "$T/out"; then
  ok
else
  fail "the message does not say the descriptor header (KEEL_PLUGIN_HEADER) is missing"
  show_output
fi
if grep -qi 'ABI major\|rebuild' "$T/out"; then
  fail "the message still blames the ABI major / asks for a rebuild"
  show_output
else
  ok
fi
finish
