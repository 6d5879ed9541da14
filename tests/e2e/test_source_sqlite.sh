#!/usr/bin/env bash
# The sqlite source (plugins/sources/sqlite, docs/data.md "sqlite"): a
# manifest with `query = SELECT ... ORDER BY id` trains, to one result
# digest at 1 and 2 threads; a WAL database reads; the lineage hashes the
# database file; NULL is missing, types come from the declared schema or
# the *_columns lists; every refusal (no ORDER BY on the outer SELECT,
# writes, two statements, ATTACH, PRAGMA, random(), a missing table, a file
# that is not a database, text in a numeric column, a blob, a query over
# max_work) exits 2 in `keel check`, before training, naming what; and
# `keel plugin-test` passes. Fixtures are made here with Python's sqlite3.
. "$(dirname "$0")/lib.sh"
need tar sha256sum

cd "$T"
"$PY" - <<'PYEOF'
import random, sqlite3
def make(path, wal=False):
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    db.executescript("""
        CREATE TABLE pts(id INTEGER PRIMARY KEY, a REAL NOT NULL,
                         b REAL NOT NULL, cls TEXT NOT NULL);
        CREATE TABLE extra(id INTEGER PRIMARY KEY, gap REAL, word TEXT,
                           day TEXT, raw BLOB, big REAL, val REAL);""")
    r = random.Random(7)
    for i in range(1, 201):
        a, b = r.uniform(-2, 2), r.uniform(-2, 2)
        db.execute("INSERT INTO pts VALUES (?,?,?,?)",
                   (i, a, b, "pos" if a + b > 0 else "neg"))
        db.execute("INSERT INTO extra VALUES (?,?,?,?,?,?,?)",
                   (i, None if i % 10 == 0 else a,
                    "seven" if i == 7 else str(i), "2024-01-%02d" % (i % 28 + 1),
                    b"\x00\x01", float("inf") if i == 5 else 1.0,
                    "seven" if i == 7 else i))
    db.commit()
    db.close()
make("x.db")
make("wal.db", wal=True)
open("notdb.db", "w").write("id,a\n1,2\n")
PYEOF
[[ $(od -An -tu1 -j18 -N2 wal.db | tr -s ' ') == " 2 2" ]] && ok ||
  fail "the WAL fixture is not in WAL mode (bytes 18/19)"

cat >t.ini <<'EOF2'
[template]
name = sqlite-classification
version = 1.0.0
extends = tabular-classification >=1 <2

[slot.source]
allow = sqlite >=1 <2
EOF2

# manifest FILE DB QUERY [EXTRA-LINES]: a classification run over DB.
manifest() {
  cat >"$1" <<EOF2
[keel]
template = ./t.ini
template_version = >=1 <2

[data]
label = cls

[source]
plugin = sqlite
path = $2
query = $3
${4:-}

[model]
plugin = softmax

[loss]
plugin = xent

[optimizer]
plugin = adam

[train]
epochs = 3
seed = 1
EOF2
}
member() { tar xzf "$1" -O --wildcards "*/$2"; }

# 1. Trains; 1 and 2 threads give one result digest; the lineage hash is
#    the database file's. The query continues on an indented line.
manifest m.ini x.db 'SELECT a, b, cls FROM pts
  ORDER BY id'
if seal m.ini --threads 1 --out runs1; then
  d1=$(member "$B" digest.txt)
  lin=$(member "$B" lineage.json)
  if seal m.ini --threads 2 --out runs2; then
    d2=$(member "$B" digest.txt)
    [[ -n $d1 && $d1 == "$d2" ]] && ok || fail "result digests differ: '$d1' vs '$d2'"
  fi
  want=$(sha256sum x.db | cut -d' ' -f1)
  got=$(echo "$lin" | json_value - 'd["source"]["files"][0]["sha256"]')
  [[ $got == "$want" ]] && ok || fail "lineage sha256 '$got', database file $want"
  [[ $(echo "$lin" | json_value - 'd["rows_read"]') == 200 ]] && ok ||
    fail "lineage rows_read is not 200"
fi

# 2. A WAL database (header bytes 18/19 = 2) reads, to the same rows.
manifest w.ini wal.db 'SELECT a, b, cls FROM pts ORDER BY id'
if seal w.ini --out runsw; then
  [[ $(member "$B" lineage.json | json_value - 'd["rows_read"]') == 200 ]] && ok ||
    fail "WAL database: rows_read is not 200"
fi

# 3. Types: NULL is missing (impute fills it), a TEXT column read as a
#    category, date_columns, an expression column typed by its values.
manifest types.ini x.db "SELECT p.a, e.gap, e.day, e.id % 3 AS k, p.cls
  FROM pts p JOIN extra e ON e.id = p.id ORDER BY p.id" "date_columns = day

[transform.fill]
plugin = impute

[transform.day]
plugin = date"
krun check types.ini --json
((RC == 0)) && ok || { fail "check types.ini: exit $RC"; show_output "$T/out" "$T/err"; }
out=$(cat "$T/out")
for want in 'a:numeric:False' 'gap:numeric:True' 'day:date:False' 'k:numeric:False'; do
  IFS=: read -r n ty miss <<<"$want"
  got=$(echo "$out" | json_value - "[(c['type'], c['may_miss']) for c in d['schemas']['stages'][0]['columns'] if c['name'] == '$n']")
  [[ $got == "[[\"$ty\",${miss,,}]]" ]] && ok || fail "column $n: $got, expected $ty may_miss=$miss"
done

# 4. Refusals, all in `keel check` (exit 2) and naming what.
refuse() {
  local label=$1 query=$2 re=$3 extra=${4:-} db=${5:-x.db}
  manifest bad.ini "$db" "$query" "$extra"
  expect "refuses $label" 2 "$re" -- check bad.ini
  expect "run refuses $label" 2 "$re" -- run bad.ini --out badruns
  [[ ! -e badruns ]] || ! ls badruns/*.tar.gz >/dev/null 2>&1 && ok ||
    fail "$label: a bundle was written"
}
refuse "no ORDER BY" 'SELECT a, b, cls FROM pts' \
  "query 'SELECT a, b, cls FROM pts'.*no ORDER BY on its outermost SELECT"
refuse "ORDER BY only in a subquery" \
  'SELECT a, b, cls FROM (SELECT * FROM pts ORDER BY id)' "no ORDER BY"
refuse "ORDER BY only in a comment" \
  'SELECT a, b, cls FROM pts /* ORDER BY id */' "no ORDER BY"
refuse "ORDER BY only in a string" \
  "SELECT a, b, cls FROM pts WHERE cls <> 'ORDER BY id'" "no ORDER BY"
refuse "DELETE" 'DELETE FROM pts' "uses DELETE on pts; expected one read-only SELECT"
refuse "INSERT" "INSERT INTO pts VALUES (999, 1, 1, 'x')" "uses INSERT on pts"
refuse "UPDATE" 'UPDATE pts SET a = 1' "uses UPDATE on pts"
refuse "two statements" 'SELECT a, b, cls FROM pts ORDER BY id; DELETE FROM pts' \
  "more than one statement \('DELETE FROM pts' follows"
refuse "ATTACH" "ATTACH 'y.db' AS y" "uses ATTACH"
refuse "PRAGMA" 'PRAGMA table_info(pts)' "uses PRAGMA table_info"
refuse "random()" 'SELECT a, b, cls FROM pts ORDER BY random()' "function random\(\)"
refuse "EXPLAIN" 'EXPLAIN SELECT a, b, cls FROM pts ORDER BY id' "begins with EXPLAIN"
refuse "a missing table" 'SELECT a, b, cls FROM nope ORDER BY id' "no such table: nope"
refuse "a file that is not a database" 'SELECT a, b, cls FROM pts ORDER BY id' \
  "notdb.db is not a SQLite database" "" notdb.db
refuse "text in a declared REAL column" \
  'SELECT a, val, cls FROM pts JOIN extra USING (id) ORDER BY id' \
  "x.db: query row 7, column 'val' \(2\): text 'seven' in a numeric column \(typed by its declared type\)"
refuse "text in a column of numeric_columns" 'SELECT a, b, cls, cls AS c2 FROM pts ORDER BY id' \
  "query row 1, column 'c2' \(4\): text '(neg|pos)' in a numeric column \(typed by numeric_columns\)" \
  "numeric_columns = c2"
refuse "one column with two types" 'SELECT a, b, cls FROM pts ORDER BY id' \
  "column 'a' is declared with two types" "numeric_columns = a
text_columns = a"
refuse "a blob" 'SELECT a, raw, cls FROM pts JOIN extra USING (id) ORDER BY id' \
  "column 'raw' is declared BLOB"
refuse "two columns of one name" 'SELECT a, a, cls FROM pts ORDER BY id' \
  "two columns named 'a'"
refuse "an unknown column in numeric_columns" 'SELECT a, b, cls FROM pts ORDER BY id' \
  "numeric_columns names column 'zz'" "numeric_columns = zz"
refuse "a non-finite value at the model" \
  'SELECT a, big, cls FROM pts JOIN extra USING (id) ORDER BY id' \
  "column 'big' may hold NaN or Inf"
refuse "work beyond max_work" \
  'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
  SELECT i AS a, i AS b, i AS cls FROM n ORDER BY i' \
  "stopped after 1 million SQLite instructions \(max_work\)" "max_work = 1"

# 5. Accepted shapes: ORDER BY after UNION, a CTE, a comment after.
manifest ok.ini x.db "WITH q AS (SELECT * FROM pts ORDER BY a) SELECT a, b, cls FROM q WHERE id <= 100
  UNION ALL SELECT a, b, cls FROM pts WHERE id > 100 ORDER BY 1, 2 -- sorted"
expect "ORDER BY after UNION" 0 "is valid" -- check ok.ini

# 6. The plugin test kit passes on the built plugin.
so=$(dirname "$KEEL")/plugins-out/sqlite.so
[[ -f $so ]] || so=$("$KEEL" plugins sqlite --json | json_value - 'd["file"]')
expect "plugin-test" 0 "0 failed" -- plugin-test "$so" --seed 1

finish
