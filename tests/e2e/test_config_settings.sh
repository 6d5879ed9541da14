#!/usr/bin/env bash
# Settings that are not part of a run (DESIGN.md, "Configuration"): one
# precedence for all, command-line flag > KEEL_* environment variable >
# $XDG_CONFIG_HOME/keel/config.ini > built-in default; `keel config show`
# prints each value and where it came from; a malformed config.ini is
# refused (exit 2) naming FILE:LINE. Checked on the settings that exist
# today: plugin_path, template_path, trusted_keys (docs/configuration.md).
. "$(dirname "$0")/lib.sh"
cd "$T"
unset KEEL_TRUSTED_KEYS
mkdir -p "$HOME" "$XDG_CONFIG_HOME/keel"
PLUG=$(dirname "$(grep -oE '/[^ ]*/sgd\.so' <<<"$("$KEEL" plugins sgd)" | head -1)")
CFG=$XDG_CONFIG_HOME/keel/config.ini
src() { json_value "$T/out" "[s for s in d['settings'] if s['name'] == '$1'][0]['$2']"; }
want() { # LABEL SETTING FIELD VALUE: the last --json output says so
  local got
  got=$(src "$2" "$3" 2>&1) || got="(no such setting: $got)"
  if [[ $got == "$4" ]]; then ok; else fail "$1: $2.$3 is '$got', expected '$4'"; fi
}

# Nothing set: every setting at its built-in default.
expect "config show, all defaults" 0 "plugin_path" -- config show
has "config show names the file it read" "$CFG"
has "defaults" "trusted_keys" "template_path" "(default)"
expect "config show --json" 0 "" -- config show --json
want "default" plugin_path source default
want "default" trusted_keys value "$XDG_DATA_HOME/keel/trusted-keys"
want "default" trusted_keys env KEEL_TRUSTED_KEYS
want "default" trusted_keys key trust.keys

# config.ini > default, naming FILE:LINE.
printf '; my settings\n[paths]\nplugin_path = %s\ntemplate_path = tp\n[trust]\nkeys = %s\n' \
  "$T/cfg-plugins" "$T/k.pub" >"$CFG"
expect "config.ini" 0 "$CFG:3" -- config show
has "config.ini sources" "$CFG:4" "$CFG:6"
expect "config show --json (file)" 0 "" -- config show --json
want "file" plugin_path source file
want "file" plugin_path line 3
want "file" plugin_path value "$T/cfg-plugins"
want "file: relative to its folder" template_path value "$XDG_CONFIG_HOME/keel/tp"

# environment > config.ini.
KEEL_PLUGIN_PATH=$T/env-plugins expect "env over config.ini" 0 "KEEL_PLUGIN_PATH" -- config show --json
want "env" plugin_path source env
want "env" plugin_path value "$T/env-plugins"
want "env leaves the others" template_path source file

# flag > environment.
KEEL_PLUGIN_PATH=$T/env-plugins expect "flag over env" 0 "" -- config show --json \
  --plugin-path "$T/a" --plugin-path "$T/b" --trusted-key "$T/flag.pub"
want "flag" plugin_path source flag
want "flag" plugin_path value "$T/a:$T/b"
want "flag" trusted_keys source flag
KEEL_PLUGIN_PATH=$T/env-plugins expect "flag, human" 0 "--plugin-path" -- config show --plugin-path "$T/a"

# The settings are the ones commands use: plugin_path and template_path
# from config.ini reach `keel check`.
mkdir -p "$T/cfg-plugins" "$T/env-plugins" "$XDG_CONFIG_HOME/keel/tp" "$T/env-tp" "$T/m"
cp "$PLUG/sgd.so" "$T/cfg-plugins/"
cp "$PLUG/sgd.so" "$T/env-plugins/"
sed 's/^version = 1\.0\.0/version = 1.9.0/' "$KEEL_SRC/manifests/templates/tabular-classification.ini" \
  >"$XDG_CONFIG_HOME/keel/tp/tabular-classification.ini"
sed 's/^version = 1\.0\.0/version = 1.8.0/' "$KEEL_SRC/manifests/templates/tabular-classification.ini" \
  >"$T/env-tp/tabular-classification.ini"
uncatalogued "$KEEL_SRC/manifests/iris.ini" "$T/m/iris.in"
sed "s#^path = .*#path = $KEEL_SRC/manifests/data/iris.csv#" "$T/m/iris.in" >"$T/m/iris.ini"
expect "check uses config.ini's settings" 0 "" -- check "$T/m/iris.ini"
has "check: config.ini plugin_path and template_path" "$T/cfg-plugins/sgd.so" "tabular-classification 1.9.0"
KEEL_PLUGIN_PATH=$T/env-plugins KEEL_TEMPLATE_PATH=$T/env-tp \
  expect "check: env over config.ini" 0 "" -- check "$T/m/iris.ini"
has "check: env" "$T/env-plugins/sgd.so" "tabular-classification 1.8.0"
KEEL_PLUGIN_PATH=$T/env-plugins expect "check: flag over env" 0 "" -- check "$T/m/iris.ini" --plugin-path "$PLUG"
has "check: flag" "$PLUG/sgd.so"

# $XDG_CONFIG_HOME unset: ~/.config/keel/config.ini.
mkdir -p "$HOME/.config/keel"
printf '[paths]\nplugin_path = %s\n' "$T/home-plugins" >"$HOME/.config/keel/config.ini"
(unset XDG_CONFIG_HOME; "$KEEL" config show >"$T/out" 2>&1) || fail "config show without XDG_CONFIG_HOME"
has "default config file" "$HOME/.config/keel/config.ini:2" "$T/home-plugins"

# A malformed config.ini: exit 2 naming FILE:LINE, for config show and
# for every command that reads settings.
printf '[paths]\nplugin_pth = x\n' >"$CFG"
expect "unknown key" 2 "$CFG:2.*plugin_pth.*plugin_path" -- config show
expect "unknown key refuses check too" 2 "$CFG:2" -- check "$T/m/iris.ini"
printf '[paths]\nplugin_path = x\n[colour]\nx = 1\n' >"$CFG"
expect "unknown section" 2 "$CFG:3.*colour" -- config show
printf '[trust]\nkeys\n' >"$CFG"
expect "a line without =" 2 "$CFG:2" -- config show
printf '[trust]\nkeys = \033]0;pwned\007\n' >"$CFG"
expect "control bytes" 2 "$CFG:2" -- config show
if grep -q $'\033' "$T/out"; then fail "a control byte reached the terminal"; else ok; fi
rm -f "$CFG"
expect "config: unknown subcommand" 2 "show" -- config frobnicate
expect "config: no subcommand" 2 "show" -- config

finish
