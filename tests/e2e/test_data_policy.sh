#!/usr/bin/env bash
# The access policy (issue 14, docs/data-access.md "Access policy"): with
# no policy file, public data is read and restricted and pii data refused
# (exit 2, no bundle); a policy grants a scope to a user or to a group;
# pii needs a declared purpose the policy allows and a legal basis in the
# catalog; a policy that cannot be read, is malformed or is writable by
# the user it governs refuses every read. The identity is the real uid:
# the policy cases run as `nobody` (setpriv) on a world-readable copy of
# what they need, so they need root.
. "$(dirname "$0")/lib.sh"
need setpriv tar "$PY"
cd "$T"

# A catalog of one file in three scopes, and a manifest for each.
W=$T/w
mkdir -p "$W"
cp "$KEEL_SRC/manifests/data/penguins.csv" "$W/"
cp -r "$KEEL_SRC/manifests/templates" "$W/templates"
"$PY" - "$KEEL_SRC" "$W" <<'PY'
import re, sys
src, w = sys.argv[1:]
txt = open(src + "/manifests/data/catalog.ini").read()
body = re.search(r"\[penguins@1\.0\.0\]\n(.*?)(?=\n\[|\Z)", txt, re.S).group(1).strip() + "\n"
body = re.sub(r"location = .*", "location = file:penguins.csv", body)
out = "[catalog]\nformat = 1\n"
for name, scope, extra in [("pub", "public", ""), ("sec", "restricted", ""),
                           ("pers", "pii", "legal_basis = consent (form 7, 2026)\n")]:
    out += "\n[%s@1.0.0]\n%s%s" % (name, re.sub(r"scope = \w+", "scope = " + scope, body), extra)
open(w + "/catalog.ini", "w").write(out)
man = open(src + "/manifests/penguins.ini").read()
man = man.replace("catalog = data/catalog.ini", "catalog = catalog.ini").replace("epochs = 60", "epochs = 2")
for name in ("pub", "sec", "pers"):
    open("%s/%s.ini" % (w, name), "w").write(man.replace("penguins@^1", name + "@^1"))
open(w + "/pers-churn.ini", "w").write(
    man.replace("penguins@^1", "pers@^1").replace("[keel]\n", "[keel]\npurpose = churn-model\n"))
open(w + "/pers-ads.ini", "w").write(
    man.replace("penguins@^1", "pers@^1").replace("[keel]\n", "[keel]\npurpose = ads\n"))
PY
member() { tar xzf "$1" -O --wildcards "*/$2"; }

# ---- no policy file: the built-in default (as root) ---------------------------
expect "no policy: public is read" 0 "^policy +built-in \(no policy file .*policy\.ini\)" -- check "$W/pub.ini"
expect "no policy: restricted is denied" 2 \
  "access denied: dataset sec@1\.0\.0 \(scope restricted\) for user root .*built-in policy .*default deny" -- \
  check "$W/sec.ini"
krun run "$W/sec.ini" --out "$T/runs0" --quiet
((RC == 2)) && ok || fail "no policy: run of restricted data exit $RC, expected 2"
[[ ! -e $T/runs0 ]] || [[ -z $(ls -A "$T/runs0") ]] && ok || fail "a denied run wrote $(ls "$T/runs0")"
# the denial is in the audit trail: a policy line, then the run's end
AUD=$XDG_DATA_HOME/keel/audit.jsonl
tail -2 "$AUD" | head -1 | grep -q '"action":"policy".*"decision":"denied".*"policy":"built-in"' && ok ||
  fail "the denial is not the audit log's policy line: $(tail -2 "$AUD" | head -1)"
tail -1 "$AUD" | grep -q '"action":"run-end".*exit 2' && ok || fail "no run-end after the denial: $(tail -1 "$AUD")"
expect "the log with the denial verifies" 0 "" -- audit verify "$AUD"
expect "pii without a purpose" 2 "pers@1\.0\.0 \(scope pii\).*declared purpose; expected \[keel\] purpose" -- \
  check "$W/pers.ini"

# pii data without a legal basis is refused when the catalog loads.
sed 's/^legal_basis = .*//' "$W/catalog.ini" >"$W/nolegal.ini"
expect "pii without legal_basis" 2 "nolegal\.ini:[0-9]+: \[pers@1\.0\.0\] scope: pii data needs a consent or legal basis" -- \
  data list --catalog "$W/nolegal.ini"
sed 's/^purpose = .*/purpose = Churn Model/' "$W/pers-churn.ini" >"$W/pers-bad.ini"
expect "a purpose that is no word" 2 "pers-bad\.ini:[0-9]+: \[keel\] purpose: 'Churn Model'" -- \
  check "$W/pers-bad.ini"

expect "config show: the policy setting" 0 "^policy +$XDG_CONFIG_HOME/keel/policy\.ini +\(default\)" -- config show
mkdir -p "$XDG_CONFIG_HOME/keel"
printf '[data]\npolicy = pol.ini\n' >"$XDG_CONFIG_HOME/keel/config.ini"
expect "a policy named in config.ini must exist" 2 "$XDG_CONFIG_HOME/keel/pol\.ini: the access policy does not exist" -- \
  check "$W/pub.ini"
rm "$XDG_CONFIG_HOME/keel/config.ini"

# ---- governance in the template --------------------------------------------
printf '%s\n' '[template]' 'name = tabular-gov' 'version = 1.0.0' 'extends = tabular-classification >=1 <2' '' \
  '[governance]' 'require = owner, intended_use' 'allowed_scopes = public, internal' >"$W/templates/tabular-gov.ini"
printf '%s\n' '[template]' 'name = tabular-gov-wide' 'version = 1.0.0' 'extends = tabular-gov >=1 <2' '' \
  '[governance]' 'allowed_scopes = public, restricted' >"$W/templates/tabular-gov-wide.ini"
gov() { # gov NAME DATASET TEMPLATE: a manifest of DATASET under TEMPLATE
  sed -e "s/^template = .*/template = $3/" -e "s/^template_version = .*/template_version = >=1 <2/" \
    -e "s/^dataset = .*/dataset = $2@^1/" "$W/pub.ini" >"$W/$1.ini"
}
gov gov-pub pub tabular-gov
expect "governance: an entry without intended_use" 2 \
  "gov-pub\.ini:[0-9]+: \[source\] dataset: pub@1\.0\.0 \(catalog .*catalog\.ini:[0-9]+\) has no intended_use; template tabular-gov requires it \(\[governance\] require, tabular-gov\.ini:7\)" -- \
  check "$W/gov-pub.ini"
sed -i 's/^license = \(.*\)/license = \1\nintended_use = teaching classifiers/' "$W/catalog.ini"
expect "governance: the entry has what is required" 0 "^data +pub@1\.0\.0" -- check "$W/gov-pub.ini"
expect "check names the governance rules" 0 "governance allowed_scopes = public, internal" -- check "$W/gov-pub.ini"
gov gov-sec sec tabular-gov
expect "governance: a scope the template does not allow" 2 \
  "sec@1\.0\.0 .* has scope restricted; template tabular-gov allows only the scopes of \[governance\] allowed_scopes \(tabular-gov\.ini:8\)" -- \
  check "$W/gov-sec.ini"
gov gov-wide pub tabular-gov-wide
expect "governance: a derived template cannot widen the scopes" 2 \
  "tabular-gov-wide\.ini:7: \[governance\] allowed_scopes: 'public, restricted' allows a scope its base does not of base template tabular-gov \(.*tabular-gov\.ini:8\)" -- \
  check "$W/gov-wide.ini"
sed -e 's/^dataset = .*/plugin = csv\npath = penguins.csv\nmissing = NA, ./' -e '/^catalog = /d' "$W/gov-pub.ini" >"$W/gov-plain.ini"
expect "governance: uncatalogued data" 2 "template tabular-gov governs its data \(\[governance\], tabular-gov\.ini:7\)" -- \
  check "$W/gov-plain.ini"

if ((EUID != 0)); then
  echo "$TEST_NAME: not root: the cases that run as nobody (setpriv) are skipped" >&2
  finish
  exit
fi

# ---- as nobody, on a world-readable copy --------------------------------------
chmod -R a+rX "$W"
mkdir -p "$W/home" "$W/out"
chown 65534:65534 "$W/home" "$W/out"
# nk ARGS: keel as nobody (uid and gid 65534, no other groups), its
# output in $T/out and exit in $RC.
nk() {
  RC=0
  setpriv --reuid=65534 --regid=65534 --clear-groups \
    env HOME="$W/home" XDG_CONFIG_HOME="$W/home/config" XDG_DATA_HOME="$W/home/data" \
    XDG_CACHE_HOME="$W/home/cache" KEEL_POLICY="${POLICY:-}" \
    "$KEEL" "$@" >"$T/out" 2>&1 || RC=$?
}
nexpect() {
  local label=$1 want=$2 re=$3
  shift 4
  nk "$@"
  if ((RC != want)); then
    fail "$label: exit $RC, expected $want"
    show_output
  elif [[ -n $re ]] && ! grep -qEi -- "$re" "$T/out"; then
    fail "$label: output does not match /$re/"
    show_output
  else ok; fi
}
NOBODY=$(getent passwd 65534 | cut -d: -f1)
NOGROUP=$(getent group 65534 | cut -d: -f1)
mkdir -p "$W/pol"
chmod 755 "$W/pol"
# policy NAME TEXT: a policy file root owns (mode 0644: nobody reads it).
policy() {
  printf '%s\n' "$2" >"$W/pol/$1"
  chmod 644 "$W/pol/$1"
  POLICY=$W/pol/$1
}

POLICY= nexpect "nobody, no policy: restricted denied" 2 "for user $NOBODY \(groups $NOGROUP\)" -- check "$W/sec.ini"

policy user.ini "[policy]
format = 1
version = 2026.12.1

[user.$NOBODY]
scopes = restricted"
nexpect "allowed by a user rule" 0 "^policy +$W/pol/user\.ini:5 \(version 2026\.12\.1\): allowed for user $NOBODY" -- \
  check "$W/sec.ini"
nexpect "a run allowed by a user rule" 0 "" -- run "$W/sec.ini" --out "$W/out" --quiet
B=$(tail -n 1 "$T/out")
member "$B" config_full.json >full.json
json_value full.json '[d["policy"][k] for k in ("allowed", "policy", "version", "line", "user", "scope")]' |
  grep -qxF "[true,\"$W/pol/user.ini\",\"2026.12.1\",5,\"$NOBODY\",\"restricted\"]" && ok ||
  fail "config_full.json: the decision is not recorded: $(json_value full.json 'd.get("policy")')"
expect "show: data not bundled" 0 "^holds +restricted +sec@1\.0\.0: data not bundled; read under policy $W/pol/user\.ini:5 \(version 2026\.12\.1\) by $NOBODY" -- \
  show "$B"
member "$B" config.json >config.json
grep -q "policy\|$NOBODY" config.json && fail "config.json holds the policy decision" || ok

POLICY=$W/pol/none.ini nexpect "--policy before KEEL_POLICY" 0 "user\.ini:5 \(version 2026\.12\.1\): allowed" -- \
  check --policy "$W/pol/user.ini" "$W/sec.ini"

policy group.ini "[policy]
format = 1
version = 7

[group.$NOGROUP]
scopes = restricted"
nexpect "allowed by a group rule" 0 "group\.ini:5 \(version 7\): allowed for user $NOBODY.*granted by \[group\.$NOGROUP\]" -- \
  check "$W/sec.ini"
policy other.ini "[policy]
format = 1
version = 7

[group.staff]
scopes = restricted"
nexpect "a rule for another group" 2 \
  "dataset sec@1\.0\.0 \(scope restricted\) for user $NOBODY .*by $W/pol/other\.ini:1: no rule" -- check "$W/sec.ini"

# pii: a purpose the policy allows, one it does not.
policy pii.ini "[policy]
format = 1
version = 3

[user.$NOBODY]
scopes = pii
purposes = churn-model"
nexpect "pii with an allowed purpose" 0 "allowed for user $NOBODY, purpose churn-model" -- check "$W/pers-churn.ini"
nexpect "pii with a purpose the policy does not allow" 2 \
  "pers@1\.0\.0 \(scope pii\) for user $NOBODY .*pii\.ini:5: \[user\.$NOBODY\] grants it for the purposes churn-model, not for 'ads'" -- \
  check "$W/pers-ads.ini"
nexpect "pii without a purpose, under a policy" 2 "pii\.ini:1: pii data is read only for a declared purpose" -- \
  check "$W/pers.ini"
# a denied run: no bundle, and the audit log names the deciding rule
nexpect "run: pii for a purpose the policy does not allow" 2 "pii\.ini:5: \[user\.$NOBODY\] grants it" -- \
  run "$W/pers-ads.ini" --out "$W/out/denied" --quiet
[[ -z $(ls -A "$W/out/denied" 2>/dev/null) ]] && ok || fail "a denied run wrote $(ls "$W/out/denied")"
NLOG=$W/home/data/keel/audit.jsonl
grep '"action":"policy"' "$NLOG" 2>/dev/null | tail -1 |
  grep -q "\"decision\":\"denied\".*\"policy\":\"$W/pol/pii\.ini:5\"" && ok ||
  fail "the denied run's audit line does not name pii.ini:5: $(tail -2 "$NLOG" 2>/dev/null)"
nexpect "the log with the denial verifies" 0 "" -- audit verify "$NLOG"

# --include-data of restricted data needs include_data in the granting rule.
POLICY=$W/pol/user.ini nexpect "include-data refused" 2 \
  "user\.ini:5: \[user\.$NOBODY\] grants reading it but not carrying it into a bundle" -- \
  run "$W/sec.ini" --out "$W/out" --include-data --quiet
policy incl.ini "[policy]
format = 1
version = 4
redact = user, host

[user.$NOBODY]
scopes = restricted
include_data = restricted"
nexpect "include-data allowed" 0 "" -- run "$W/sec.ini" --out "$W/out" --include-data --quiet
B=$(tail -n 1 "$T/out")
member "$B" run.json >run.json
json_value run.json '[d["user"], d["host"]]' | grep -qxF '["(redacted)","(redacted)"]' && ok ||
  fail "run.json: user and host not redacted: $(json_value run.json '[d["user"], d["host"]]')"
expect "show: what the bundle holds of each scope" 0 \
  "^holds +restricted +sec@1\.0\.0: data bundled; read under policy $W/pol/incl\.ini:6 \(version 4\) by \(redacted\)" -- show "$B"
member "$B" config_full.json >full2.json
grep -q "$NOBODY" full2.json && fail "config_full.json names the redacted user" || ok
tar tzf "$B" >list.txt
grep -q '/data/sec@1.0.0$' list.txt && ok || fail "include-data: the data is not in the bundle"

# ---- the policy fails closed ------------------------------------------------
policy unreadable.ini "[policy]
format = 1
version = 1"
chmod 600 "$W/pol/unreadable.ini"
nexpect "an unreadable policy" 2 "$W/pol/unreadable\.ini: the access policy cannot be read \(Permission denied\)" -- \
  check "$W/pub.ini"
policy malformed.ini "[policy]
format = 1
version = 1

[user.$NOBODY]
scope = restricted"
nexpect "a malformed policy" 2 "malformed\.ini:6: \[user\.$NOBODY\] scope: unknown key; expected scopes" -- \
  check "$W/pub.ini"
policy badscope.ini "[policy]
format = 1
version = 1

[group.x]
scopes = secret"
nexpect "an unknown scope" 2 "badscope\.ini:6: \[group\.x\] scopes: 'secret'; expected scopes among" -- check "$W/pub.ini"
policy noversion.ini "[policy]
format = 1"
nexpect "a policy without a version" 2 "noversion\.ini:1: \[policy\] version: missing" -- check "$W/pub.ini"
policy own.ini "[policy]
format = 1
version = 1"
chown 65534 "$W/pol/own.ini"
nexpect "a policy its subject owns and may write" 2 \
  "own\.ini: the access policy is writable by its owner, the user it governs \($NOBODY, mode 0644" -- check "$W/pub.ini"
policy world.ini "[policy]
format = 1
version = 1"
chmod 646 "$W/pol/world.ini"
nexpect "a world-writable policy" 2 "world\.ini: the access policy is writable by anyone" -- check "$W/pub.ini"
policy grp.ini "[policy]
format = 1
version = 1"
chgrp 65534 "$W/pol/grp.ini"
chmod 664 "$W/pol/grp.ini"
nexpect "a policy writable by the subject's group" 2 "grp\.ini: the access policy is writable by its group" -- \
  check "$W/pub.ini"
mkdir -p "$W/pol2"
printf '[policy]\nformat = 1\nversion = 1\n' >"$W/pol2/p.ini"
chmod 644 "$W/pol2/p.ini"
chmod 777 "$W/pol2"
POLICY=$W/pol2/p.ini nexpect "a policy in a folder its subject may write" 2 \
  "the folder of the access policy .* is writable by anyone" -- check "$W/pub.ini"
POLICY=$W/pol/none.ini nexpect "a named policy that does not exist" 2 \
  "none\.ini: the access policy does not exist" -- check "$W/pub.ini"
finish
