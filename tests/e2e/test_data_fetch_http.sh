#!/usr/bin/env bash
# Fetching over HTTP(S) (issue 13): `keel data verify` of catalog entries
# served by a real server on 127.0.0.1 (tests/tools/http_fixture_server.py,
# started and stopped here) that misbehaves on purpose. Every behaviour
# that a network can show ends in the same verified bytes or a clear
# refusal: 503 and 429 answered with Retry-After are retried; a body cut
# short is resumed with a Range request; a server that ignores Range, or
# answers another range, makes the fetch start over (never append); a
# stall is detected within the stall limit and reported; other bytes are exit 3;
# 401 and 404 are not retried. Credentials are referenced (bearer-env,
# header-file, netrc) and neither they nor a URL's query string appear in
# any output. TLS is verified against the test's own CA: unknown CA
# refused, --ca-bundle and KEEL_CA_BUNDLE accepted.
. "$(dirname "$0")/lib.sh"
need openssl
mkdir -p "$T/www"
cp "$KEEL_SRC/manifests/data/penguins.csv" "$T/www/"
SHA=$(sha256sum "$T/www/penguins.csv" | cut -c1-64)

# start NAME [--tls CERT KEY]: a server for $T/www; its port in $PORT.
start() { http_server "$1" "$T/www" "${@:2}"; }

# catalog FILE URL [AUTH]: a one-entry catalog for penguins at URL.
catalog() {
  cat >"$1" <<INI
[catalog]
format = 1

[penguins@1.0.0]
location = $2
plugin = csv
sha256 = $SHA
rows = 344
schema = species:categorical:label
owner = o
scope = internal
auth = ${3:-none}
as_of = 2025-01-31
license = CC0-1.0
INI
}

# requests LOG MODE: how many requests the server saw for MODE.
requests() { grep -c "\"/$2/" "$T/$1.log" || true; }

start plain
BASE=http://127.0.0.1:$PORT

# verifies LABEL MODE [ARGS...]: exit 0 and "OK penguins@1.0.0".
verifies() {
  local label=$1 mode=$2
  shift 2
  catalog "$T/c.ini" "$BASE/$mode/penguins.csv?token=SECRET-Q"
  krun data verify --catalog "$T/c.ini" "$@"
  if ((RC == 0)) && grep -qx "OK penguins@1.0.0" "$T/out"; then ok; else
    fail "$label: exit $RC: $(cat "$T/out" "$T/err")"
  fi
}

verifies "a plain fetch" ok
verifies "503 twice, then 200 (Retry-After honoured)" fail/2/503
[[ $(requests plain fail/2/503) == 3 ]] && ok || fail "503 x2: $(requests plain fail/2/503) requests, expected 3"
verifies "429 once" fail/1/429
verifies "408 once" fail/1/408
verifies "a body cut short is resumed" close
grep -q '"/close/penguins.csv?token=SECRET-Q", "range": "bytes=[1-9][0-9]*-"' "$T/plain.log" && ok ||
  fail "close: no Range request after the cut ($(grep close "$T/plain.log"))"
verifies "a server that ignores Range: start over" norange
verifies "a server that answers another range: start over" badrange

catalog "$T/c.ini" "$BASE/wrong/penguins.csv"
krun data verify --catalog "$T/c.ini"
((RC == 3)) && ok || fail "other bytes: exit $RC, expected 3"
has "other bytes" "FAILED penguins@1.0.0: $BASE/wrong/penguins.csv has SHA-256"

catalog "$T/c.ini" "$BASE/fail/9/503/penguins.csv"
krun data verify --catalog "$T/c.ini" --attempts 2
((RC == 1)) && ok || fail "503 past the attempts: exit $RC, expected 1"
has "503 past the attempts" "answered HTTP 503 (attempt 2 of 2; no attempt left)"

catalog "$T/c.ini" "$BASE/ok/no-such.csv"
krun data verify --catalog "$T/c.ini"
((RC == 1)) && ok || fail "404: exit $RC, expected 1"
has "404" "answered HTTP 404 (attempt 1 of 5; not retried)"

# A stall: half the body, then silence; --stall-seconds 2, one attempt.
catalog "$T/c.ini" "$BASE/stall/penguins.csv"
start_s=$(date +%s)
krun data verify --catalog "$T/c.ini" --stall-seconds 2 --attempts 1
took=$(($(date +%s) - start_s))
((RC == 1)) && ok || fail "stall: exit $RC, expected 1"
grep -qi "Operation too slow\|timed out" "$T/out" && ok || fail "stall: $(cat "$T/out")"
((took < 15)) && ok || fail "stall: took ${took}s, the stall limit was 2 s"

# Credentials by reference; none of them is ever printed.
catalog "$T/c.ini" "$BASE/auth/penguins.csv" bearer-env:KEEL_TEST_TOKEN
krun data verify --catalog "$T/c.ini"
((RC == 2)) && ok || fail "bearer-env with the variable unset: exit $RC, expected 2"
has "unset bearer variable" "auth bearer-env:KEEL_TEST_TOKEN: the environment variable KEEL_TEST_TOKEN is not set"
KEEL_TEST_TOKEN=wrong-token krun data verify --catalog "$T/c.ini"
((RC == 1)) && ok || fail "a wrong token: exit $RC, expected 1"
KEEL_TEST_TOKEN=s3cret-token krun data verify --catalog "$T/c.ini"
((RC == 0)) && ok || fail "bearer-env: exit $RC: $(cat "$T/out")"
printf '# keel test\nX-Keel-Key: s3cret-key\n' >"$T/headers"
catalog "$T/c.ini" "$BASE/auth/penguins.csv" "header-file:$T/headers"
krun data verify --catalog "$T/c.ini"
((RC == 0)) && ok || fail "header-file: exit $RC: $(cat "$T/out")"
printf 'X-Keel-Key s3cret-key\n' >"$T/headers"
krun data verify --catalog "$T/c.ini"
((RC == 2)) && ok || fail "a malformed header file: exit $RC, expected 2"
has "malformed header file" "auth header-file:$T/headers:1: not a \`Name: value\` header line (the value is not shown)"
# A redirect is followed without credentials, not with bearer headers.
verifies "a redirect is followed" redirect
catalog "$T/c.ini" "$BASE/redirect/penguins.csv" bearer-env:KEEL_TEST_TOKEN
KEEL_TEST_TOKEN=s3cret-token krun data verify --catalog "$T/c.ini"
((RC == 1)) && ok || fail "a redirect with a bearer token: exit $RC, expected 1 (not followed)"
has "redirect with a token" "answered HTTP 302"
printf 'machine 127.0.0.1 login ann password pw\n' >"$T/netrc"
catalog "$T/c.ini" "$BASE/netrc/penguins.csv" netrc
NETRC=$T/netrc krun data verify --catalog "$T/c.ini"
((RC == 0)) && ok || fail "netrc: exit $RC: $(cat "$T/out")"
if grep -rqE "s3cret|SECRET-Q|password pw" "$T/out" "$T/err"; then
  fail "a secret or a query string was printed"
else ok; fi

# TLS: the test's own CA and a certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=keel test CA" \
  -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
  -CAcreateserial -days 2 -extfile "$T/san.ext" -out "$T/srv.pem" 2>/dev/null
start tls --tls "$T/srv.pem" "$T/srv.key"
catalog "$T/c.ini" "https://127.0.0.1:$PORT/ok/penguins.csv"
krun data verify --catalog "$T/c.ini"
((RC == 1)) && ok || fail "TLS with an unknown CA: exit $RC, expected 1"
grep -qi "certificate" "$T/out" && ok || fail "TLS with an unknown CA: $(cat "$T/out")"
expect "TLS with --ca-bundle" 0 "^OK penguins@1\.0\.0" -- data verify --catalog "$T/c.ini" --ca-bundle "$T/ca.pem"
KEEL_CA_BUNDLE=$T/ca.pem expect "TLS with KEEL_CA_BUNDLE" 0 "^OK penguins@1\.0\.0" -- data verify --catalog "$T/c.ini"

finish
