#!/usr/bin/env bash
# Issue 11, finding 9: "Code inside a bundle runs on replay". A received
# bundle is untrusted: `keel replay` loads the plugin binaries it carries
# only when its signature checks against a trusted key (trusted_keys,
# docs/configuration.md) or with --trust-bundled-plugins; otherwise it
# loads installed plugins whose SHA-256 matches plugins.json, and refuses
# (exit 2, naming the plugin) when none does. The hostile plugin is the
# real sgd optimizer plus an ELF constructor that leaves a marker file
# when dlopen() runs it (tests/plugins/hostile/marker_ctor.c).
. "$(dirname "$0")/lib.sh"
need tar
cd "$T"
: "${KEEL_BUILD:?KEEL_BUILD must name the build tree}"
HOSTILE=$KEEL_BUILD/hostile-plugins
[[ -f $HOSTILE/sgd.so ]] || bail "no hostile fixture $HOSTILE/sgd.so (build tests/plugins)"
# Settings come from this test alone (DESIGN.md, "Configuration").
unset KEEL_TRUSTED_KEYS
export KEEL_TEST_MARKER=$T/marker
mkdir -p "$HOME"
no_marker() { if [[ -e $KEEL_TEST_MARKER ]]; then fail "$1: the bundled plugin's code ran"; rm -f "$KEEL_TEST_MARKER"; else ok; fi; }
marker() { if [[ -e $KEEL_TEST_MARKER ]]; then ok; rm -f "$KEEL_TEST_MARKER"; else fail "$1: the bundled plugin was not loaded"; fi; }

# An honest, unsigned bundle: replay finds the same builds installed.
seal "$KEEL_SRC/manifests/iris.ini" --include-data --out runs || bail "no bundle"
honest=$B
expect "unsigned bundle, matching installed plugins" 0 "REPRODUCED" -- replay "$honest"
has "replay names the installed file it loads" "optimizer sgd" "installed $KEEL_BUILD/plugins-out/sgd.so"
if grep -q "bundled" "$T/out"; then fail "unsigned bundle: bundled plugins used"; show_output; else ok; fi

# The same bundle with its optimizer swapped for the hostile build, then
# re-sealed consistently (plugins.json pins the hostile SHA-256): it
# verifies, but replay must not run it.
so=$(tar tzf "$honest" | grep -o 'plugins/optimizer-sgd-[^/]*\.so$')
hsha=$(sha256sum "$HOSTILE/sgd.so" | cut -d' ' -f1)
reseal "$honest" hostile.tar.gz "
files['$so'] = open('$HOSTILE/sgd.so', 'rb').read()
p = json.loads(files['plugins.json'])
for e in p['plugins']:
    if e['file'] == '$so': e['sha256'] = '$hsha'
files['plugins.json'] = json.dumps(p, indent=2).encode()
def repin(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if isinstance(v, str) and v == hashlib.sha256(open('$KEEL_BUILD/plugins-out/sgd.so', 'rb').read()).hexdigest(): o[k] = '$hsha'
            else: repin(v)
    elif isinstance(o, list):
        for v in o: repin(v)
for name in ('config.json', 'config_full.json'):
    if name in files:
        c = json.loads(files[name])
        repin(c)
        files[name] = json.dumps(c, indent=2).encode()"
expect "the forged bundle verifies (else the test proves nothing)" 0 "OK" -- verify hostile.tar.gz
rm -f "$KEEL_TEST_MARKER"
expect "no installed plugin has the bundled SHA-256: refused" 2 "sgd" -- replay hostile.tar.gz
has "the refusal names the plugin, its version, its SHA-256 and the way out" \
  "optimizer 'sgd'" "$hsha" "--trust-bundled-plugins" "trusted_keys"
no_marker "unsigned hostile bundle"
expect "an empty --plugin-path changes nothing" 2 "sgd" -- replay hostile.tar.gz --plugin-path "$T/home"
no_marker "unsigned hostile bundle, --plugin-path"

# --trust-bundled-plugins is what lets the bundled code run.
krun replay hostile.tar.gz --trust-bundled-plugins
marker "--trust-bundled-plugins"
if grep -q "optimizer sgd.*bundled" "$T/err"; then ok; else fail "--trust-bundled-plugins: replay does not say it used the bundled plugin"; cat "$T/err" >&2; fi

# A bundle signed by its author and carrying the hostile build legitimately.
expect "keygen author" 0 "" -- keygen "$T/author"
expect "keygen stranger" 0 "" -- keygen "$T/stranger"
seal "$KEEL_SRC/manifests/iris.ini" --include-data --out signed --sign "$T/author.key" \
  --plugin-path "$HOSTILE" || bail "no signed bundle"
signed=$B
rm -f "$KEEL_TEST_MARKER"
expect "signed, but no key trusted: treated as unsigned" 2 "optimizer 'sgd'" -- replay "$signed"
no_marker "signed bundle, no trusted keys"
KEEL_TRUSTED_KEYS=$T/stranger.pub expect "signed by an untrusted key: treated as unsigned" 2 \
  "optimizer 'sgd'" -- replay "$signed"
no_marker "signed by an untrusted key"
KEEL_TRUSTED_KEYS=$T/stranger.pub:$T/author.pub expect "signed by a trusted key (env)" 0 \
  "REPRODUCED" -- replay "$signed"
has "trusted signer: bundled plugins" "bundled-trusted"
marker "signed by a trusted key (env)"
# The same from config.ini, and a folder of keys.
mkdir -p "$XDG_CONFIG_HOME/keel" "$T/keys"
cp "$T/author.pub" "$T/keys/"
printf '[trust]\nkeys = %s\n' "$T/keys" >"$XDG_CONFIG_HOME/keel/config.ini"
expect "signed by a trusted key (config.ini, a folder)" 0 "REPRODUCED" -- replay "$signed"
has "config.ini trusted key: bundled plugins" "bundled-trusted"
marker "signed by a trusted key (config.ini)"
KEEL_TRUSTED_KEYS=$T/stranger.pub expect "the environment overrides config.ini" 2 \
  "optimizer 'sgd'" -- replay "$signed"
no_marker "KEEL_TRUSTED_KEYS over config.ini"
rm -f "$XDG_CONFIG_HOME/keel/config.ini"
KEEL_TRUSTED_KEYS=$T/nowhere.pub expect "a trusted key that is not there" 2 "nowhere\.pub" -- replay "$signed"
no_marker "missing trusted key"

# A bundle made with --no-plugins replays from installed plugins by hash.
seal "$KEEL_SRC/manifests/iris.ini" --include-data --out bare --no-plugins || bail "no --no-plugins bundle"
expect "--no-plugins bundle replays from installed plugins" 0 "REPRODUCED" -- replay "$B"
has "--no-plugins: installed" "installed $KEEL_BUILD/plugins-out/sgd.so"
no_marker "--no-plugins"

finish
