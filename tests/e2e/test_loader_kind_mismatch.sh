#!/usr/bin/env bash
# A function table of the wrong kind is refused before anything is called:
# tests/plugins/kind_mismatch.c declares a transform but points `api` at a
# model table (KEEL_MODEL_API_HEADER). `keel check` of a manifest using it
# in a transform slot crashed (exit 139); now the plugin is listed as
# broken, and naming it is exit 2 with the file and both kinds by name.
# A 1.2 table without its kind (no_table_kind.c) is named as such.
. "$(dirname "$0")/lib.sh"
: "${KEEL_BROKEN_DIR:?KEEL_BROKEN_DIR must name the folder of the broken plugins}"
B=$KEEL_BROKEN_DIR
for f in kind_mismatch no_table_kind; do
  [[ -f $B/$f.so ]] || bail "$B/$f.so was not built (tests/plugins/$f.c)"
done
WRONG="descriptor says transform, its function table says model"

krun plugins --plugin-path "$B/kind_mismatch.so"
check "plugins lists the rest (exit $RC)" test "$RC" = 0
has "plugins lists it as broken with both kinds" kind_mismatch.so "$WRONG"

expect "asked for by name" 2 "kind_mismatch\\.so.*$WRONG" -- plugins kind_mismatch --plugin-path "$B/kind_mismatch.so"

# In a transform slot of a manifest: refused with exit 2, not a crash.
mkdir -p "$T/m/templates"
ln -sfn "$KEEL_SRC/manifests/data" "$T/m/data"
cp "$KEEL_SRC/manifests/iris.ini" "$T/m/"
sed 's/^allow = standardize >=1 <2/allow = kind_mismatch >=1 <2, standardize >=1 <2/' \
  "$KEEL_SRC/manifests/templates/tabular-classification.ini" >"$T/m/templates/tabular-classification.ini"
sed 's/^plugin = standardize$/plugin = kind_mismatch/' "$T/m/iris.ini" >"$T/m/wrong_kind.ini"
expect "check with it in a transform slot" 2 "kind_mismatch\\.so.*$WRONG" -- \
  check "$T/m/wrong_kind.ini" --plugin-path "$B/kind_mismatch.so"

expect "a 1.2 table without its kind" 2 \
  'no_table_kind\.so.*function table has no kind: begin it with KEEL_OPTIMIZER_API_HEADER' -- \
  plugins no_table_kind --plugin-path "$B/no_table_kind.so"
finish
