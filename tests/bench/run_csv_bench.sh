#!/bin/bash
# CSV ingest benchmark: generates a large numeric CSV (never committed) and
# times the csv source plugin's read() through the real loader and host at
# each thread count; prints medians in MB/s (10^6 bytes of file per second)
# and the speed-up over one thread. Figures only: nothing passes or fails,
# except a table that differs between thread counts (exit 1).
#
#   tests/bench/run_csv_bench.sh BUILD_DIR [CSV_PATH] [MB]
#
# BUILD_DIR  a built keel tree (tests/bench/bench_csv and plugins-out/)
# CSV_PATH   the file to read; generated (bench_csv gen) when missing
#            (default /tmp/keel_csv_bench.csv)
# MB         its size when generated (default 520)
# Env: REPS (default 3), THREADS (default "1 2"), OLD_PLUGINS (a folder
#      with another csv.so to time at one thread, e.g. the previous
#      version), NUMBERS (strings for the exactness check, default 2000000).
#
# Columns: read = read() end to end until the lineage hash is known too
# (mapping the file, parsing, the table, and the host's SHA-256 of the file,
# which runs on its own thread beside the parse when threads > 1);
# sha256 = the host's hash alone; input_read = the host's read loop alone.
set -euo pipefail
build=${1:?usage: run_csv_bench.sh BUILD_DIR [CSV_PATH] [MB]}
csv=${2:-/tmp/keel_csv_bench.csv}
mb=${3:-520}
reps=${REPS:-3}
threads=${THREADS:-1 2}
bench="$build/tests/bench/bench_csv"
plugins="$build/plugins-out"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

[ -f "$csv" ] || "$bench" gen "$csv" "$mb"
echo "env date=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpus=$(nproc) loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\" cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')\""
# warm the page cache so every run reads from memory
cat "$csv" > /dev/null
for t in $threads; do
  "$bench" read "$plugins" "$csv" --threads "$t" --reps "$reps" | sed "s/^bench=csv/bench=csv plugin=new/" | tee -a "$out"
done
if [ -n "${OLD_PLUGINS:-}" ]; then
  "$bench" read "$OLD_PLUGINS" "$csv" --threads 1 --reps "$reps" | sed "s/^bench=csv/bench=csv plugin=old/" | tee -a "$out"
fi
echo "env loadavg_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
"$bench" numbers "${NUMBERS:-2000000}"

awk '
  /^bench=csv/ {
    delete kv
    for (i = 1; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
    key = kv["plugin"] SUBSEP kv["threads"]
    rows[++n] = key; rd[key] = kv["read_mb_s"]
    sha[key] = kv["sha256_mb_s"]; inr[key] = kv["input_read_mb_s"]; dg[key] = kv["table_digest"]
    if (kv["plugin"] == "new") { if (digest == "") digest = kv["table_digest"]; else if (digest != kv["table_digest"]) bad = 1 }
  }
  END {
    print ""
    print "| plugin | threads | read MB/s | sha256 MB/s | input_read MB/s | read vs 1t | table digest |"
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      k = rows[i]; split(k, f, SUBSEP); one = f[1] SUBSEP 1
      r1 = (one in rd && rd[one] > 0) ? sprintf("%.2fx", rd[k] / rd[one]) : "-"
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], rd[k], sha[k], inr[k], r1, dg[k]
    }
    if (bad) { print "ERROR: the table differs between thread counts"; exit 1 }
  }' "$out"
