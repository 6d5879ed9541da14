/* keel runs list | show ID | compare ID ID... | best --sweep S |
 *           import DIR|BUNDLE... | verify   [--registry FILE]
 *
 * The run registry (run/registry.h, docs/registry.md). Exit codes: 0; 1 a
 * registry that is locked, unwritable or from a newer keel, a bundle that
 * cannot be read; 2 a malformed --where or --sort, an unknown or ambiguous
 * run id; 3 a registry file that is not a registry (corrupt), a bundle
 * that does not verify (import), a bundle that is missing or altered
 * (verify). */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buffer.h"
#include "base/number.h"
#include "base/path.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "run/registry.h"
#include "run/registry_where.h"

typedef struct runs_args {
  const char *registry;
  const char *where;
  const char *sort;
  const char *format;
  const char *sweep;
  int limit;
} runs_args;

static const keel_cli_option runs_options[] = {
    {"registry", 0, KEEL_CLI_PATH, "FILE",
     "the registry file (the `registry` setting)",
     offsetof(runs_args, registry), 0, 0},
    {"where", 0, KEEL_CLI_STRING, "EXPR",
     "list: only runs matching EXPR, e.g. 'optimizer.lr < 0.01 and "
     "valid.accuracy >= 0.95' (docs/registry.md)",
     offsetof(runs_args, where), 0, 0},
    {"sort", 0, KEEL_CLI_STRING, "KEY",
     "list: order by KEY, 'KEY asc' or 'KEY desc' (default: newest first)",
     offsetof(runs_args, sort), 0, 0},
    {"limit", 0, KEEL_CLI_INT, "N", "list, best: at most N runs",
     offsetof(runs_args, limit), 1, 1000000000},
    {"format", 0, KEEL_CLI_STRING, "F", "list, best: table, csv or json",
     offsetof(runs_args, format), 0, 0},
    {"sweep", 0, KEEL_CLI_STRING, "ID", "best: the sweep whose trials to rank",
     offsetof(runs_args, sweep), 0, 0},
};

const keel_cli_command keel_cli_runs = {
    .name = "runs",
    .main = keel_cmd_runs,
    .summary = "the run registry: list and query runs, show or compare "
               "them, rank a sweep, import bundles, verify the index "
               "against the bundles",
    .operands = "list|show|compare|best|import|verify [ID|DIR|BUNDLE]...",
    .min_operands = 1,
    .max_operands = 100000,
    .missing = "no subcommand given (expected: list, show, compare, best, "
               "import or verify)",
    .too_many = "too many operands",
    .options = runs_options,
    .n_options = KEEL_CLI_COUNT(runs_options),
};

static int exit_for(int rc)
{
  switch (rc) {
  case 0: return KEEL_EXIT_OK;
  case KEEL_EINVAL:
  case KEEL_ENOTFOUND: return KEEL_EXIT_CONFIG;
  case KEEL_EINTEGRITY: return KEEL_EXIT_INTEGRITY;
  default: return KEEL_EXIT_RUNTIME;
  }
}

/* Opens the registry for reading; a missing file is *r NULL with 0 (an
 * empty registry) unless `need` says a run must be found in it. */
static int open_reader(const runs_args *a, int need, keel_run_registry **r)
{
  keel_error err = {0};
  int rc = keel_run_registry_open(a->registry, 0, r, &err);
  if (rc == KEEL_ENOTFOUND && !need) {
    keel_log_emit(KEEL_LOG_INFO, "%s (no run registered yet)", err.message);
    return 0;
  }
  if (rc) {
    keel_cli_error("runs", "%s", err.message);
    return rc == KEEL_ENOTFOUND ? KEEL_EXIT_CONFIG : exit_for(rc);
  }
  return 0;
}

/* ---- tables ----------------------------------------------------------- */

static void csv_field(FILE *fp, const char *s)
{
  if (!s)
    return;
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, fp);
    return;
  }
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', fp);
    fputc(*s, fp);
  }
  fputc('"', fp);
}

static int print_table(const keel_run_registry_table *t, const char *format)
{
  if (strcmp(format, "csv") == 0) {
    FILE *fp = keel_cli_machine_stdout();
    for (size_t c = 0; c < t->n_cols; c++) {
      fputs(c ? "," : "", fp);
      csv_field(fp, t->cols[c]);
    }
    fputc('\n', fp);
    for (size_t r = 0; r < t->n_rows; r++) {
      for (size_t c = 0; c < t->n_cols; c++) {
        fputs(c ? "," : "", fp);
        csv_field(fp, t->cells[r * t->n_cols + c]);
      }
      fputc('\n', fp);
    }
    return fflush(fp) ? KEEL_EXIT_RUNTIME : 0;
  }
  if (strcmp(format, "json") == 0) {
    json_t *arr = json_array();
    for (size_t r = 0; r < t->n_rows; r++) {
      json_t *o = json_object();
      for (size_t c = 0; c < t->n_cols; c++) {
        const char *v = t->cells[r * t->n_cols + c];
        char *end = NULL;
        double d = v ? strtod(v, &end) : 0;
        json_t *j = !v ? json_null()
                    : t->numeric[c] && end && !*end && isfinite(d)
                        ? json_real(d)
                        : json_string(v);
        json_object_set_new(o, t->cols[c], j ? j : json_null());
      }
      json_array_append_new(arr, o);
    }
    FILE *fp = keel_cli_machine_stdout();
    int rc = json_dumpf(arr, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', fp);
    json_decref(arr);
    return rc || fflush(fp) ? KEEL_EXIT_RUNTIME : 0;
  }
  size_t *w = calloc(t->n_cols, sizeof *w);
  if (!w)
    return KEEL_EXIT_RUNTIME;
  for (size_t c = 0; c < t->n_cols; c++) {
    w[c] = strlen(t->cols[c]);
    for (size_t r = 0; r < t->n_rows; r++) {
      const char *v = t->cells[r * t->n_cols + c];
      size_t n = v ? strlen(v) : 1;
      if (n > w[c])
        w[c] = n;
    }
  }
  for (size_t r = 0; r <= t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      const char *v = r ? t->cells[(r - 1) * t->n_cols + c] : t->cols[c];
      if (c + 1 == t->n_cols)
        printf("%s", v ? v : "-");
      else
        printf("%-*s  ", (int)w[c], v ? v : "-");
    }
    printf("\n");
  }
  free(w);
  return 0;
}

static int check_format(const runs_args *a)
{
  if (strcmp(a->format, "table") && strcmp(a->format, "csv") &&
      strcmp(a->format, "json"))
    return keel_cli_usage_error(&keel_cli_runs,
                                "--format '%s': expected table, csv or json",
                                a->format);
  return 0;
}

static int cmd_list(const runs_args *a)
{
  keel_run_registry *r = NULL;
  keel_run_registry_table t = {0};
  keel_error err = {0};
  int code = check_format(a);
  if (code || (code = open_reader(a, 0, &r)))
    return code;
  int rc = 0;
  if (r) {
    rc = keel_run_registry_list(r, a->where, a->sort, a->limit, &t, &err);
  } else { /* no registry: an empty list, the expressions still checked */
    keel_where_sql w = {0};
    rc = keel_where_compile(a->where, &w, &err);
    if (rc)
      keel_error_prefix(&err, "--where");
    else if ((rc = keel_where_compile_sort(a->sort, &w, &err)))
      keel_error_prefix(&err, "--sort");
    keel_where_sql_free(&w);
  }
  if (rc) {
    keel_cli_error("runs", "list %s", err.message);
    code = exit_for(rc);
  } else if (r) {
    code = print_table(&t, a->format);
  } else if (strcmp(a->format, "json") == 0) {
    printf("[]\n"); /* no registry yet: no runs, still a JSON document */
  }
  keel_run_registry_table_free(&t);
  keel_run_registry_close(r);
  return code;
}

static int cmd_best(const runs_args *a)
{
  if (!a->sweep)
    return keel_cli_usage_error(&keel_cli_runs,
                                "best needs --sweep ID (the sweep's id)");
  keel_run_registry *r = NULL;
  keel_run_registry_table t = {0};
  keel_error err = {0};
  int code = check_format(a);
  if (code || (code = open_reader(a, 0, &r)) || !r)
    return code;
  int rc = keel_run_registry_best(r, a->sweep, a->limit, &t, &err);
  if (rc) {
    keel_cli_error("runs", "best: %s", err.message);
    code = exit_for(rc);
  } else if (t.n_rows == 0) {
    keel_cli_error("runs",
                   "best: no finished trial of sweep '%s' with an objective "
                   "in registry %s",
                   a->sweep, keel_run_registry_path(r));
    code = KEEL_EXIT_RUNTIME;
  } else {
    code = print_table(&t, a->format);
  }
  keel_run_registry_table_free(&t);
  keel_run_registry_close(r);
  return code;
}

/* ---- one run ---------------------------------------------------------- */

static const char *or_dash(const char *s)
{
  return s && *s ? s : "-";
}

static void num_text(double v, int is_nan, char out[KEEL_DOUBLE_TEXT])
{
  if (is_nan)
    snprintf(out, KEEL_DOUBLE_TEXT, "nan");
  else
    keel_format_double(v, out, KEEL_DOUBLE_TEXT);
}

static void show_record(const keel_run_registry_record *x)
{
  char num[KEEL_DOUBLE_TEXT];
  printf("run        %s\n", x->run_id);
  printf("status     %s (exit %ld)%s%s\n", x->status, x->exit_code,
         x->error ? ": " : "", x->error ? x->error : "");
  printf("manifest   %s (sha256 %s)\n", or_dash(x->name),
         or_dash(x->manifest_sha256));
  printf("template   %s %s\n", or_dash(x->template_name),
         or_dash(x->template_version));
  printf("started    %s  ended %s  by %s on %s\n", or_dash(x->started_at),
         or_dash(x->ended_at), or_dash(x->user), or_dash(x->host));
  printf("result     %s\n", or_dash(x->result_digest));
  printf("inputs     %s\n", or_dash(x->input_digest));
  if (x->dataset)
    printf("dataset    %s@%s\n", x->dataset, or_dash(x->dataset_version));
  if (x->sweep_id)
    printf("sweep      %s trial %ld objective %s %s\n", x->sweep_id,
           x->sweep_trial, or_dash(x->sweep_objective),
           or_dash(x->sweep_direction));
  printf("bundle     %s (sha256 %s)\n", x->bundle_path, x->bundle_sha256);
  printf("\nparameters\n");
  for (size_t i = 0; i < x->n_params; i++)
    printf("  %-32s %s\n", x->params[i].key, x->params[i].text);
  printf("\nmetrics\n");
  size_t epochs = 0;
  for (size_t i = 0; i < x->n_metrics; i++) {
    if (x->metrics[i].epoch) {
      if ((size_t)x->metrics[i].epoch > epochs)
        epochs = (size_t)x->metrics[i].epoch;
      continue;
    }
    num_text(x->metrics[i].value, x->metrics[i].is_nan, num);
    printf("  %-32s %s\n", x->metrics[i].key, num);
  }
  if (epochs)
    printf("  (per epoch: %zu epochs indexed)\n", epochs);
  printf("\ndata\n");
  for (size_t i = 0; i < x->n_data; i++)
    printf("  %s sha256 %s (%lld bytes)\n", x->data[i].path,
           or_dash(x->data[i].sha256), x->data[i].bytes);
  printf("\nplugins\n");
  for (size_t i = 0; i < x->n_plugins; i++)
    printf("  %-10s %-14s %-8s %s\n", x->plugins[i].kind, x->plugins[i].name,
           or_dash(x->plugins[i].version), or_dash(x->plugins[i].sha256));
}

static int get_runs(const runs_args *a, const keel_cli_list *ids, size_t from,
                    keel_run_registry_record *recs, size_t *n)
{
  keel_run_registry *r = NULL;
  int code = open_reader(a, 1, &r);
  *n = 0;
  for (size_t i = from; !code && i < ids->n; i++) {
    keel_error err = {0};
    int rc = keel_run_registry_get(r, ids->items[i], &recs[*n], &err);
    if (rc) {
      keel_cli_error("runs", "%s", err.message);
      code = exit_for(rc);
    } else {
      (*n)++;
    }
  }
  keel_run_registry_close(r);
  return code;
}

static int cmd_show(const runs_args *a, const keel_cli_list *ids)
{
  if (ids->n != 2)
    return keel_cli_usage_error(&keel_cli_runs, "show takes one run id");
  keel_run_registry_record rec;
  size_t n;
  int code = get_runs(a, ids, 1, &rec, &n);
  if (!code)
    show_record(&rec);
  if (n)
    keel_run_registry_record_free(&rec);
  return code;
}

/* ---- compare ---------------------------------------------------------- */

/* One row of the comparison: label and one value per run; '*' marks a
 * row whose values are not all the same. */
static void compare_row(const char *label, char **vals, size_t n)
{
  int differ = 0;
  for (size_t i = 1; strcmp(label, "run") && i < n; i++)
    if (strcmp(vals[i] ? vals[i] : "", vals[0] ? vals[0] : ""))
      differ = 1;
  printf("%c %-30s", differ ? '*' : ' ', label);
  for (size_t i = 0; i < n; i++)
    printf("  %-22s", vals[i] ? vals[i] : "-");
  printf("\n");
}

/* The distinct keys of a kind across the runs, in first-seen order. */
typedef const char *(*key_of)(const keel_run_registry_record *x, size_t i,
                              size_t *n, char **value);

static const char *param_key(const keel_run_registry_record *x, size_t i,
                             size_t *n, char **value)
{
  *n = x->n_params;
  if (i >= *n)
    return NULL;
  if (value)
    *value = strdup(x->params[i].text ? x->params[i].text : "");
  return x->params[i].key;
}

static const char *metric_key(const keel_run_registry_record *x, size_t i,
                              size_t *n, char **value)
{
  *n = x->n_metrics;
  if (i >= *n || x->metrics[i].epoch)
    return NULL;
  if (value) {
    char num[KEEL_DOUBLE_TEXT];
    num_text(x->metrics[i].value, x->metrics[i].is_nan, num);
    *value = strdup(num);
  }
  return x->metrics[i].key;
}

static const char *data_key(const keel_run_registry_record *x, size_t i,
                            size_t *n, char **value)
{
  *n = x->n_data;
  if (i >= *n)
    return NULL;
  if (value)
    *value = x->data[i].sha256 ? strndup(x->data[i].sha256, 16) : NULL;
  return x->data[i].path;
}

static const char *plugin_key(const keel_run_registry_record *x, size_t i,
                              size_t *n, char **value)
{
  *n = x->n_plugins;
  if (i >= *n)
    return NULL;
  if (value) {
    keel_buf b = KEEL_BUF_INIT;
    keel_buf_printf(&b, "%s %.12s", or_dash(x->plugins[i].version),
                    or_dash(x->plugins[i].sha256));
    *value = keel_buf_take(&b);
  }
  return x->plugins[i].name;
}

static void compare_section(const char *title,
                            const keel_run_registry_record *recs, size_t n,
                            key_of get)
{
  char **vals = calloc(n, sizeof *vals);
  printf("%s\n", title);
  for (size_t r = 0; vals && r < n; r++) {
    size_t count = 0;
    get(&recs[r], 0, &count, NULL);
    for (size_t i = 0; i < count; i++) {
      const char *key = get(&recs[r], i, &count, NULL);
      if (!key)
        continue;
      int seen = 0; /* printed already, from an earlier run */
      for (size_t e = 0; e < r && !seen; e++) {
        size_t m = 0;
        get(&recs[e], 0, &m, NULL);
        for (size_t j = 0; j < m && !seen; j++) {
          const char *k2 = get(&recs[e], j, &m, NULL);
          seen = k2 && strcmp(k2, key) == 0;
        }
      }
      if (seen)
        continue;
      for (size_t o = 0; o < n; o++) {
        size_t m = 0;
        get(&recs[o], 0, &m, NULL);
        for (size_t j = 0; j < m && !vals[o]; j++) {
          const char *k2 = get(&recs[o], j, &m, NULL);
          if (k2 && strcmp(k2, key) == 0)
            get(&recs[o], j, &m, &vals[o]);
        }
      }
      compare_row(key, vals, n);
      for (size_t o = 0; o < n; o++) {
        free(vals[o]);
        vals[o] = NULL;
      }
    }
  }
  free(vals);
}

static int cmd_compare(const runs_args *a, const keel_cli_list *ids)
{
  if (ids->n < 3)
    return keel_cli_usage_error(&keel_cli_runs,
                                "compare takes two run ids or more");
  keel_run_registry_record *recs = calloc(ids->n, sizeof *recs);
  size_t n = 0;
  if (!recs)
    return KEEL_EXIT_RUNTIME;
  int code = get_runs(a, ids, 1, recs, &n);
  if (!code) {
    char **vals = calloc(n, sizeof *vals);
    for (size_t i = 0; vals && i < n; i++)
      vals[i] = recs[i].run_id;
    compare_row("run", vals, n);
    struct {
      const char *label;
      size_t off;
    } attrs[] = {
        {"status", offsetof(keel_run_registry_record, status)},
        {"manifest", offsetof(keel_run_registry_record, name)},
        {"template", offsetof(keel_run_registry_record, template_name)},
        {"template_version",
         offsetof(keel_run_registry_record, template_version)},
        {"dataset", offsetof(keel_run_registry_record, dataset)},
        {"dataset_version",
         offsetof(keel_run_registry_record, dataset_version)},
        {"input_digest", offsetof(keel_run_registry_record, input_digest)},
        {"result_digest", offsetof(keel_run_registry_record, result_digest)},
    };
    for (size_t k = 0; vals && k < sizeof attrs / sizeof attrs[0]; k++) {
      for (size_t i = 0; i < n; i++)
        vals[i] = *(char **)((char *)&recs[i] + attrs[k].off);
      compare_row(attrs[k].label, vals, n);
    }
    free(vals);
    compare_section("\nparameters", recs, n, param_key);
    compare_section("\nmetrics", recs, n, metric_key);
    compare_section("\ndata (sha256)", recs, n, data_key);
    compare_section("\nplugins (version sha256)", recs, n, plugin_key);
  }
  for (size_t i = 0; i < n; i++)
    keel_run_registry_record_free(&recs[i]);
  free(recs);
  return code;
}

/* ---- import and verify ------------------------------------------------ */

/* Bundles are read and verified IMPORT_BATCH at a time on every core
 * (run/registry.h, keel_run_registry_read_bundles) and each batch is indexed
 * in one write transaction instead of one per bundle. */
enum { IMPORT_BATCH = 64 };

typedef struct import_state {
  keel_run_registry *r;
  size_t inserted, present, skipped;
  int code;           /* the worst exit code of the skipped bundles */
  const char **paths; /* the bundle files found, in order (owned) */
  size_t n_paths;
} import_state;

static void skip(import_state *s, const char *path, int rc, const char *why)
{
  printf("skipped %s: %s\n", path, why);
  s->skipped++;
  int code = exit_for(rc == KEEL_ENOTFOUND ? KEEL_EIO : rc);
  if (code == KEEL_EXIT_INTEGRITY || s->code == 0)
    s->code = code;
}

static void count(import_state *s, keel_run_registry_added what)
{
  if (what == KEEL_RUN_REGISTRY_INSERTED)
    s->inserted++;
  else
    s->present++;
}

/* Indexes the records read; a batch refused whole (a conflicting run id)
 * is indexed again one by one, so only that bundle is skipped. Returns
 * 0, or the code of a registry that failed (every later write would). */
static int index_batch(import_state *s, keel_run_registry_record *recs,
                       size_t n)
{
  keel_run_registry_added what[IMPORT_BATCH];
  keel_error err = {0};
  int rc = n ? keel_run_registry_insert(s->r, recs, n, what, &err) : 0;
  if (!rc)
    for (size_t i = 0; i < n; i++)
      count(s, what[i]);
  for (size_t i = 0; rc == KEEL_EINTEGRITY && i < n; i++) {
    keel_error one = {0};
    int r1 = keel_run_registry_insert(s->r, &recs[i], 1, what, &one);
    if (r1 && r1 != KEEL_EINTEGRITY) {
      err = one;
      rc = r1;
      break;
    }
    if (r1)
      skip(s, recs[i].bundle_path, r1, one.message);
    else
      count(s, what[0]);
  }
  if (rc == KEEL_EINTEGRITY)
    return 0;
  if (rc) {
    keel_cli_error("runs", "import: %s", err.message);
    s->code = exit_for(rc);
  }
  return rc;
}

static int import_paths(import_state *s)
{
  static keel_run_registry_record recs[IMPORT_BATCH], ok[IMPORT_BATCH];
  static keel_error errs[IMPORT_BATCH];
  int rcs[IMPORT_BATCH], rc = 0;
  for (size_t at = 0; !rc && at < s->n_paths; at += IMPORT_BATCH) {
    size_t n = s->n_paths - at < IMPORT_BATCH ? s->n_paths - at : IMPORT_BATCH;
    keel_run_registry_read_bundles(s->paths + at, n, 1, 0, recs, rcs, errs);
    size_t n_ok = 0;
    for (size_t i = 0; i < n; i++) {
      if (rcs[i])
        skip(s, s->paths[at + i], rcs[i], errs[i].message);
      else
        ok[n_ok++] = recs[i];
    }
    rc = index_batch(s, ok, n_ok);
    for (size_t i = 0; i < n_ok; i++)
      keel_run_registry_record_free(&ok[i]);
  }
  return rc;
}

static void add_path(import_state *s, const char *path)
{
  const char **np = realloc(s->paths, (s->n_paths + 1) * sizeof *np);
  char *copy = strdup(path);
  if (np)
    s->paths = np;
  if (np && copy)
    s->paths[s->n_paths++] = copy;
  else {
    free(copy);
    skip(s, path, KEEL_ENOMEM, "out of memory");
  }
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_bundle_name(const char *name)
{
  size_t n = strlen(name);
  return name[0] != '.' && n > 7 && strcmp(name + n - 7, ".tar.gz") == 0;
}

/* Every *.tar.gz below dir (sweep folders hold theirs one level down), in
 * name order. */
static void find_bundles(import_state *s, const char *dir, int depth)
{
  DIR *d = opendir(dir);
  if (!d) {
    skip(s, dir, KEEL_EIO, "cannot be read");
    return;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char **nn = realloc(names, (n + 1) * sizeof *nn);
    if (!nn)
      break;
    names = nn;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    char *p = names[i] ? keel_path_join(dir, names[i]) : NULL;
    struct stat sb;
    if (p && stat(p, &sb) == 0) {
      if (S_ISDIR(sb.st_mode) && depth < 8)
        find_bundles(s, p, depth + 1);
      else if (S_ISREG(sb.st_mode) && is_bundle_name(names[i]))
        add_path(s, p);
    }
    free(p);
    free(names[i]);
  }
  free(names);
}

static int cmd_import(const runs_args *a, const keel_cli_list *ops)
{
  if (ops->n < 2)
    return keel_cli_usage_error(&keel_cli_runs,
                                "import takes folders or bundle files");
  import_state s = {0};
  keel_error err = {0};
  int rc = keel_run_registry_open(a->registry, 1, &s.r, &err);
  if (rc) {
    keel_cli_error("runs", "%s", err.message);
    return exit_for(rc);
  }
  for (size_t i = 1; i < ops->n; i++) {
    struct stat sb;
    if (stat(ops->items[i], &sb) == 0 && S_ISDIR(sb.st_mode))
      find_bundles(&s, ops->items[i], 0);
    else
      add_path(&s, ops->items[i]);
  }
  if (!import_paths(&s))
    printf("imported %zu, already indexed %zu, skipped %zu (registry %s)\n",
           s.inserted, s.present, s.skipped, keel_run_registry_path(s.r));
  for (size_t i = 0; i < s.n_paths; i++)
    free((char *)s.paths[i]);
  free(s.paths);
  keel_run_registry_close(s.r);
  return s.code;
}

static int cmd_verify(const runs_args *a)
{
  keel_run_registry *r = NULL;
  int code = open_reader(a, 0, &r);
  if (code || !r)
    return code;
  char *report = NULL;
  size_t n = 0, bad = 0;
  keel_error err = {0};
  int rc = keel_run_registry_verify(r, &report, &n, &bad, &err);
  if (rc) {
    keel_cli_error("runs", "verify: %s", err.message);
    code = exit_for(rc);
  } else if (bad) {
    fputs(report, stdout);
    keel_cli_error("runs",
                   "verify: FAILED: %zu of %zu indexed runs do not match "
                   "their bundles (registry %s)",
                   bad, n, keel_run_registry_path(r));
    code = KEEL_EXIT_INTEGRITY;
  } else {
    printf("OK %s: %zu runs, every bundle present and unchanged\n",
           keel_run_registry_path(r), n);
  }
  free(report);
  keel_run_registry_close(r);
  return code;
}

static int runs_parsed(const runs_args *a, const keel_cli_operands *ops)
{
  const char *sub = ops->args.items[0];
  static const char *const subs[] = {"list", "show",   "compare",
                                     "best", "import", "verify"};
  size_t which = 0;
  while (which < 6 && strcmp(sub, subs[which]) != 0)
    which++;
  if (which == 6) {
    keel_cli_error("runs",
                   "unknown subcommand '%s'; expected list, show, compare, "
                   "best, import or verify",
                   sub);
    return KEEL_EXIT_CONFIG;
  }
  int takes_ids =
      !strcmp(sub, "show") || !strcmp(sub, "compare") || !strcmp(sub, "import");
  if (!takes_ids && ops->args.n > 1)
    return keel_cli_usage_error(&keel_cli_runs, "%s takes no operand", sub);
  switch (which) {
  case 0: return cmd_list(a);
  case 1: return cmd_show(a, &ops->args);
  case 2: return cmd_compare(a, &ops->args);
  case 3: return cmd_best(a);
  case 4: return cmd_import(a, &ops->args);
  default: return cmd_verify(a);
  }
}

int keel_cmd_runs(int argc, char **argv)
{
  runs_args a = {.format = "table"};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_runs, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO)
    code = runs_parsed(&a, &ops);
  keel_cli_free(&keel_cli_runs, &a, &ops);
  return code;
}
