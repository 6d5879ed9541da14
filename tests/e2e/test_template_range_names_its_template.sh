#!/usr/bin/env bash
# A value outside a range that a template chain narrowed names the template
# that narrowed it: for a range inherited from the base, the base (not the
# derived template the manifest names).
. "$(dirname "$0")/lib.sh"
shipped_manifests iris
cd "$T/m"
printf '[template]\nname = mine\nversion = 1.0.0\nextends = tabular-classification >=1 <2\n\n[defaults.train]\nepochs = 20000\n' >mine.ini
sed "s/^template = .*/template = mine.ini/; s/^template_version = .*/template_version = 1/" \
  iris.ini >m.ini
expect "range of the base" 2 \
  'mine\.ini:7: \[train\] epochs: 20000 .* as narrowed by template tabular-classification \(tabular-classification\.ini:' \
  -- check m.ini
printf '[template]\nname = other\nversion = 1.0.0\nextends = tabular-classification >=1 <2\n' >other.ini
sed "s/^template = .*/template = other.ini/; s/^template_version = .*/template_version = 1/" \
  iris.ini >o.ini
expect "an override, same range" 2 \
  'train\.epochs=20001.* as narrowed by template tabular-classification \(' \
  -- check o.ini train.epochs=20001
finish
