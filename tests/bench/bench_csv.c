/* CSV ingest benchmark: the csv source plugin, loaded by the real loader
 * and called through the real host (input_open hashes the file for the
 * lineage, input_read reads it), timed end to end and by part.
 *
 *   bench_csv gen PATH MB           writes a numeric CSV of about MB x 1e6
 *                                   bytes (100 columns of mixed decimal
 *                                   shapes, Philox-seeded, so the same
 *                                   bytes every time)
 *   bench_csv read PLUGIN_DIR PATH [--threads T] [--reps N]
 *                                   times csv read() N times at T OpenMP
 *                                   threads (0 = the OpenMP default) and
 *                                   prints medians: the end-to-end read
 *                                   (until the lineage hash is known),
 *                                   the host's SHA-256 of the file alone,
 *                                   the host's input_read loop alone
 *   bench_csv numbers N             compares the plugin's number parser
 *                                   with strtod on N random decimal strings
 *                                   (the unit test's generator; exits 1 on
 *                                   a mismatch) and prints both speeds
 *
 * MB is 10^6 bytes of the file on disk. Figures only: nothing here passes
 * or fails, except `numbers` on a mismatch. */
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "base/params.h"
#include "base/sha256.h"
#include "keel/rng.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/table.h"

/* The exactness test's string generator and checker (csv_random_decimal,
 * csv_check_decimal) and, through it, the plugin's number parser. */
#define CSV_NUMBERS_NO_MAIN
#include "../unit/test_csv_numbers.c"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long minor_faults(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- gen ------------------------------------------------------------- */

/* One cell of column j, row r: the shapes a numeric ML table holds. */
static int gen_cell(char *out, size_t cap, uint64_t r, size_t j)
{
  keel_rng_block b = keel_rng_philox(4242, j, r);
  double u = (double)((((uint64_t)b.v[0] << 32) | b.v[1]) >> 11) * 0x1.0p-53;
  double g = (u - 0.5) * 8.0; /* spread */
  switch (j % 6) {
  case 0: /* small integer */ return snprintf(out, cap, "%u", b.v[2] % 1000u);
  case 1: /* fixed, 6 decimals */ return snprintf(out, cap, "%.6f", g);
  case 2: /* full precision, shortest-ish round trip */
    return snprintf(out, cap, "%.17g", g);
  case 3: /* few significant digits */
    return snprintf(out, cap, "%.4g", g * 100.0);
  case 4: /* scientific */ return snprintf(out, cap, "%.10e", g * 1e-3);
  default: /* signed integer-valued or 2 decimals */
    return snprintf(out, cap, (b.v[3] & 1) ? "%.2f" : "%.0f", g * 50.0);
  }
}

static int cmd_gen(const char *path, double mb)
{
  const size_t cols = 100;
  uint64_t target = (uint64_t)(mb * 1e6);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    return 2;
  }
  static char line[1 << 16];
  uint64_t written = 0;
  size_t n = 0;
  for (size_t j = 0; j < cols; j++)
    n += (size_t)snprintf(line + n, sizeof line - n, "%sx%zu", j ? "," : "", j);
  line[n++] = '\n';
  fwrite(line, 1, n, f);
  written += n;
  for (uint64_t r = 0; written < target; r++) {
    n = 0;
    for (size_t j = 0; j < cols; j++) {
      if (j)
        line[n++] = ',';
      n += (size_t)gen_cell(line + n, sizeof line - n, r, j);
    }
    line[n++] = '\n';
    if (fwrite(line, 1, n, f) != n) {
      perror(path);
      fclose(f);
      return 2;
    }
    written += n;
  }
  if (fclose(f) != 0) {
    perror(path);
    return 2;
  }
  printf("gen path=%s bytes=%llu\n", path, (unsigned long long)written);
  return 0;
}

/* ---- read ------------------------------------------------------------ */

static const keel_loaded_plugin *load_csv(const char *dir)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/csv.so", dir);
  keel_loaded_plugin *p = NULL;
  keel_error err = {0};
  if (keel_plugin_load_file(path, &p, &err) != KEEL_OK) {
    fprintf(stderr, "bench_csv: %s\n", err.message);
    exit(2);
  }
  return p;
}

static keel_value *csv_values(const keel_loaded_plugin *p, const char *file)
{
  size_t n = p->desc.n_params;
  keel_value *v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++) {
    keel_error err = {0};
    const keel_param_decl *d = &p->desc.params[i];
    int rc = strcmp(d->name, "path") == 0
                 ? keel_param_parse(d, file, &v[i], &err)
                 : keel_param_default(d, &v[i], &err);
    if (rc != KEEL_OK) {
      fprintf(stderr, "bench_csv: %s: %s\n", d->name, err.message);
      exit(2);
    }
  }
  return v;
}

/* The host's input_read loop alone (no hashing: no context). */
static double time_input_read(const char *path, uint64_t *bytes)
{
  const keel_host *h = keel_host_services();
  keel_input *in = NULL;
  keel_error err = {0};
  size_t cap = 1u << 24;
  char *buf = malloc(cap);
  double t0 = now_s();
  if (h->input_open(h->ctx, path, &in, &err) != KEEL_OK) {
    fprintf(stderr, "bench_csv: %s\n", err.message);
    exit(2);
  }
  *bytes = 0;
  long got;
  while ((got = h->input_read(in, buf, cap, &err)) > 0)
    *bytes += (uint64_t)got;
  h->input_close(in);
  double t = now_s() - t0;
  free(buf);
  if (got < 0) {
    fprintf(stderr, "bench_csv: %s\n", err.message);
    exit(2);
  }
  return t;
}

static double time_sha(const char *path)
{
  char hex[65];
  uint64_t bytes = 0;
  keel_error err = {0};
  double t0 = now_s();
  if (keel_sha256_file(path, hex, &bytes, &err) != KEEL_OK) {
    fprintf(stderr, "bench_csv: %s\n", err.message);
    exit(2);
  }
  return now_s() - t0;
}

/* A checksum of the table's bits, to show every thread count reads the
 * same table. */
static uint64_t table_digest(const keel_table *t)
{
  uint64_t h = 1469598103934665603ull ^ t->n_rows ^ (t->n_cols << 32);
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *col = &t->cols[c];
    for (size_t r = 0; r < t->n_rows; r++) {
      uint64_t bits = 0;
      if (col->num)
        memcpy(&bits, &col->num[r], sizeof bits);
      else if (col->code)
        bits = (uint64_t)(uint32_t)col->code[r];
      h = (h ^ bits ^ ((uint64_t)col->missing[r] << 63)) * 1099511628211ull;
    }
  }
  return h;
}

static int cmd_read(int argc, char **argv)
{
  const char *dir = argv[2], *path = argv[3];
  int threads = 0, reps = 3;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--reps") == 0)
      reps = atoi(argv[i + 1]);
  }
  if (reps < 1 || reps > 100)
    reps = 3;
  if (threads > 0)
    omp_set_num_threads(threads);
  struct stat stt;
  if (stat(path, &stt) != 0) {
    perror(path);
    return 2;
  }
  double mb = (double)stt.st_size / 1e6;
  const keel_loaded_plugin *p = load_csv(dir);
  const keel_source_api *api = p->api;
  keel_value *v = csv_values(p, path);
  double *t_read = calloc((size_t)reps, sizeof *t_read);
  double *t_sha = calloc((size_t)reps, sizeof *t_sha);
  double *t_in = calloc((size_t)reps, sizeof *t_in);
  double *t_cpu = calloc((size_t)reps, sizeof *t_cpu);
  uint64_t digest = 0;
  size_t rows = 0, cols = 0;
  long faults = 0;
  for (int k = 0; k < reps; k++) {
    keel_host_context ctx;
    keel_host host;
    keel_host_context_init(&ctx, ".");
    keel_host_bind(&host, &ctx);
    keel_table *t = NULL;
    keel_error err = {0};
    long f0 = minor_faults();
    double t0 = now_s(), c0 = cpu_s();
    int rc = api->read(&host, v, &t, &err);
    /* Ingest ends when the lineage hash is known too: with more than one
     * thread it runs beside the parse (core/plugin/input_hash.c). */
    if (rc == KEEL_OK)
      rc = keel_host_context_settle(&ctx, &err);
    t_read[k] = now_s() - t0;
    t_cpu[k] = cpu_s() - c0;
    faults = minor_faults() - f0;
    if (rc != KEEL_OK) {
      fprintf(stderr, "bench_csv: read: %s\n", err.message);
      return 2;
    }
    uint64_t d = table_digest(t);
    if (k > 0 && d != digest) {
      fprintf(stderr, "bench_csv: the table differs between reps\n");
      return 2;
    }
    digest = d;
    rows = t->n_rows;
    cols = t->n_cols;
    keel_table_free(t);
    keel_host_context_free(&ctx);
    uint64_t bytes = 0;
    t_sha[k] = time_sha(path);
    t_in[k] = time_input_read(path, &bytes);
    /* Give the freed table back to the kernel, so every rep pays the page
     * faults of a fresh table as `keel run` does; otherwise glibc keeps it
     * for the next rep at some thread counts and not at others. */
    malloc_trim(0);
  }
  double r = median(t_read, reps), s = median(t_sha, reps),
         in = median(t_in, reps);
  printf("bench=csv threads=%d reps=%d file_mb=%.1f rows=%zu cols=%zu "
         "read_s=%.3f read_mb_s=%.1f sha256_mb_s=%.1f input_read_mb_s=%.1f "
         "read_cpu_s=%.3f read_page_faults=%ld "
         "table_digest=%016llx\n",
         omp_get_max_threads(), reps, mb, rows, cols, r, mb / r, mb / s,
         mb / in, median(t_cpu, reps), faults, (unsigned long long)digest);
  free(t_read);
  free(t_sha);
  free(t_in);
  free(t_cpu);
  return 0;
}

/* ---- numbers ----------------------------------------------------------- */

static int cmd_numbers(uint64_t n)
{
  char buf[2048];
  uint64_t bad = 0, bytes = 0;
  double sum = 0;
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    size_t len = csv_random_decimal(9, i, buf);
    double v;
    bytes += len;
    int st = csvp_parse_double(buf, len, &v);
    if (st == CSVP_NUM_OK)
      sum += v;
  }
  double t_fast = now_s() - t0;
  t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    csv_random_decimal(9, i, buf);
    sum += strtod(buf, NULL);
  }
  double t_strtod = now_s() - t0;
  for (uint64_t i = 0; i < n; i++) {
    size_t len = csv_random_decimal(9, i, buf);
    if (csv_check_decimal(buf, len) != 0) {
      if (bad < 5)
        fprintf(stderr, "mismatch: '%s'\n", buf);
      bad++;
    }
  }
  /* generation time is in both loops: the ratio understates the gain */
  printf("numbers n=%llu mismatches=%llu bytes=%llu parser_s=%.3f "
         "strtod_s=%.3f (both include generating the strings) sum=%g\n",
         (unsigned long long)n, (unsigned long long)bad,
         (unsigned long long)bytes, t_fast, t_strtod, sum);
  return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
  if (argc >= 4 && strcmp(argv[1], "gen") == 0)
    return cmd_gen(argv[2], atof(argv[3]));
  if (argc >= 4 && strcmp(argv[1], "read") == 0)
    return cmd_read(argc, argv);
  if (argc >= 3 && strcmp(argv[1], "numbers") == 0)
    return cmd_numbers(strtoull(argv[2], NULL, 10));
  fprintf(stderr, "usage: bench_csv gen PATH MB\n"
                  "       bench_csv read PLUGIN_DIR PATH [--threads T] "
                  "[--reps N]\n"
                  "       bench_csv numbers N\n");
  return 2;
}
