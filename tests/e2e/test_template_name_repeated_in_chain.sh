#!/usr/bin/env bash
# A bundle seals each template of a chain as templates/NAME.ini, so two
# templates of one chain cannot share a name. A derived template named
# like its base (another file) used to pass `keel check`, train, and then
# fail sealing ("bundle entry ... added twice", exit 1, no bundle); it is
# refused before anything runs (exit 2, naming the file:line and the other
# template's file).
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
printf '[template]\nname = tabular-classification\nversion = 2.0.0\nextends = tabular-classification >=1 <2\n\n[checks]\nmin_rows = 60\n' >same.ini
sed "s/^template = .*/template = same.ini/; s/^template_version = .*/template_version = 2/" iris.ini >m.ini
expect "check of the template" 2 \
  "same\.ini:4: \[template\] extends: .*tabular-classification.*(templates/tabular-classification\.ini).*own name" \
  -- check same.ini
expect "check of its manifest" 2 'same\.ini:4: .*own name' -- check m.ini
expect "run" 2 'same\.ini:4: .*own name' -- run m.ini --quiet --out "$T/runs" train.epochs=1
[[ -z $(ls "$T/runs" 2>/dev/null) ]] && ok || fail "run left files in $T/runs: $(ls "$T/runs")"
finish
