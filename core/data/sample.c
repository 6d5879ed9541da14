/* Declared downsampling and re-balancing. See sample.h. */
#include "data/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/json_text.h"
#include "base/number.h"
#include "base/status.h"
#include "data/split.h"
#include "keel/rng.h"

keel_sample_spec keel_sample_spec_of(const keel_run_config *cfg)
{
  const keel_value *v = cfg->data.values;
  keel_sample_spec sp = {
      .rows = (size_t)v[KEEL_DATA_SAMPLE_ROWS].i,
      .fraction = v[KEEL_DATA_SAMPLE_FRACTION].f,
      .by = v[KEEL_DATA_SAMPLE_BY].s ? v[KEEL_DATA_SAMPLE_BY].s : "",
      .seed = (uint64_t)v[KEEL_DATA_SAMPLE_SEED].i,
      .rebalance = (keel_rebalance)v[KEEL_DATA_REBALANCE].i};
  return sp;
}

/* "sample_rows (m.ini:7)" or "sample_rows" when the value is a default. */
static const char *where_of(const keel_run_config *cfg, int k)
{
  const keel_resolved_param *rp = cfg->data.params ? &cfg->data.params[k] : 0;
  return rp && rp->where ? rp->where : "default";
}

int keel_sample_check(const keel_run_config *cfg, const keel_schema *src,
                      keel_error *err)
{
  keel_sample_spec sp = keel_sample_spec_of(cfg);
  if (sp.rows > 0 && sp.fraction < 1.0) {
    char f[KEEL_DOUBLE_TEXT];
    keel_format_double(sp.fraction, f, sizeof f);
    return keel_fail(err, KEEL_EINVAL,
                     "[data] sample_rows = %zu (%s) and sample_fraction = "
                     "%s (%s): expected one or the other",
                     sp.rows, where_of(cfg, KEEL_DATA_SAMPLE_ROWS), f,
                     where_of(cfg, KEEL_DATA_SAMPLE_FRACTION));
  }
  if (sp.rebalance != KEEL_REBALANCE_NONE &&
      cfg->task != KEEL_TASK_CLASSIFICATION)
    return keel_fail(err, KEEL_EINVAL,
                     "[data] rebalance = %s (%s): re-balancing needs "
                     "classes, but the template's task is not "
                     "classification; expected rebalance = none",
                     sp.rebalance == KEEL_REBALANCE_UNDER ? "under" : "over",
                     where_of(cfg, KEEL_DATA_REBALANCE));
  if (sp.rows > 0 && cfg->dataset && cfg->dataset->entry->rows < sp.rows)
    return keel_fail(err, KEEL_EINVAL,
                     "[data] sample_rows = %zu (%s), but dataset %s has "
                     "%llu rows (catalog %s:%d); expected at most that",
                     sp.rows, where_of(cfg, KEEL_DATA_SAMPLE_ROWS),
                     cfg->dataset->entry->id,
                     (unsigned long long)cfg->dataset->entry->rows,
                     cfg->dataset->catalog_path, cfg->dataset->entry->line);
  if (!sp.by[0])
    return KEEL_OK;
  for (size_t c = 0; src && c < src->n_cols; c++)
    if (strcmp(src->cols[c].name, sp.by) == 0)
      return KEEL_OK;
  keel_buf esc = KEEL_BUF_INIT;
  keel_escape(&esc, sp.by, strlen(sp.by), 0);
  int ok = keel_buf_append(&esc, "", 1) == 0;
  int rc = keel_fail(err, KEEL_EINVAL,
                     "[data] sample_by = '%s' (%s): expected a column of "
                     "the source, and it has none by that name",
                     ok ? (const char *)esc.data : "?",
                     where_of(cfg, KEEL_DATA_SAMPLE_BY));
  keel_buf_free(&esc);
  return rc;
}

/* A row's stratum key: rows sort by value (missing first, NaN last),
 * then by row, so strata are runs and each run is in row order. */
typedef struct skey {
  int missing;
  double num;
  int32_t code;
  const char *text;
  size_t row;
} skey;

static int cmp_double(double a, double b)
{
  int na = isnan(a), nb = isnan(b);
  if (na || nb)
    return na - nb;
  return (a > b) - (a < b);
}

static int cmp_value(const skey *x, const skey *y)
{
  if (x->missing != y->missing)
    return y->missing - x->missing;
  if (x->missing)
    return 0;
  int c = cmp_double(x->num, y->num);
  if (!c)
    c = (x->code > y->code) - (x->code < y->code);
  if (!c && x->text && y->text)
    c = strcmp(x->text, y->text);
  return c;
}

static int cmp_skey(const void *a, const void *b)
{
  const skey *x = a, *y = b;
  int c = cmp_value(x, y);
  return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* Moves k of idx[0..m) chosen at random to the front (partial
 * Fisher-Yates, counters base + i). */
static void choose(size_t *idx, size_t m, size_t k, uint64_t seed,
                   uint64_t stream, uint64_t base)
{
  for (size_t i = 0; i < k && i + 1 < m; i++) {
    size_t j = i + (size_t)keel_rng_below(seed, stream, base + (uint64_t)i,
                                          (uint64_t)(m - i));
    size_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
}

static char *value_text(const keel_column *c, size_t row)
{
  if (c->missing[row])
    return NULL;
  char buf[KEEL_DOUBLE_TEXT];
  switch (c->type) {
  case KEEL_COL_CATEGORICAL: return strdup(c->dict[c->code[row]]);
  case KEEL_COL_TEXT: return strdup(c->text[row]);
  default: keel_format_double(c->num[row], buf, sizeof buf); return strdup(buf);
  }
}

/* Splits the sorted keys into strata: start[s] .. start[s + 1]. */
static size_t find_strata(const skey *k, size_t n, size_t *start)
{
  size_t ns = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || cmp_value(&k[i - 1], &k[i]) != 0)
      start[ns++] = i;
  start[ns] = n;
  return ns;
}

/* Each stratum's share of k rows by largest remainder (exact total). */
static void allocate(const size_t *start, size_t ns, size_t n, size_t k,
                     size_t *take)
{
  size_t given = 0;
  for (size_t s = 0; s < ns; s++) {
    size_t ms = start[s + 1] - start[s];
    take[s] = (size_t)(((keel__u128)ms * k) / n);
    given += take[s];
  }
  while (given < k) { /* at most ns rounds */
    size_t best = ns;
    uint64_t best_rem = 0;
    for (size_t s = 0; s < ns; s++) {
      size_t ms = start[s + 1] - start[s];
      uint64_t rem = (uint64_t)(((keel__u128)ms * k) % n);
      if (take[s] < ms && (best == ns || rem > best_rem) &&
          take[s] == (size_t)(((keel__u128)ms * k) / n)) {
        best = s;
        best_rem = rem;
      }
    }
    if (best == ns)
      break;
    take[best]++;
    given++;
  }
}

int keel_sample_rows(const keel_sample_spec *sp, const keel_column *by,
                     size_t *kept, size_t *n_kept, keel_sample_record *rec,
                     keel_error *err)
{
  size_t n = *n_kept, k;
  rec->spec = *sp;
  if (sp->rows == 0 && !(sp->fraction < 1.0))
    return KEEL_OK;
  if (sp->rows > 0) {
    if (sp->rows > n)
      return keel_fail(err, KEEL_EDATA,
                       "[data] sample_rows = %zu, but the source has only "
                       "%zu labelled row%s to sample from",
                       sp->rows, n, n == 1 ? "" : "s");
    k = sp->rows;
  } else {
    k = (size_t)floor((double)n * sp->fraction + 0.5);
  }
  if (k == 0) {
    char f[KEEL_DOUBLE_TEXT];
    keel_format_double(sp->fraction, f, sizeof f);
    return keel_fail(err, KEEL_EDATA,
                     "[data] sample_fraction = %s of %zu labelled rows "
                     "keeps no row; expected at least one",
                     f, n);
  }
  rec->downsampled = 1;
  rec->rows_before = n;
  if (!(rec->by = strdup(sp->by)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  rec->spec.by = rec->by;
  skey *keys = calloc(n ? n : 1, sizeof *keys);
  size_t *start = malloc((n + 1) * sizeof *start);
  size_t *take = calloc(n ? n : 1, sizeof *take);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  size_t *out = malloc((n ? n : 1) * sizeof *out);
  int rc = KEEL_OK;
  if (!keys || !start || !take || !idx || !out) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    size_t r = kept[i];
    keys[i].row = r;
    if (!by)
      continue;
    keys[i].missing = by->missing[r] != 0;
    if (keys[i].missing)
      continue;
    if (by->type == KEEL_COL_CATEGORICAL)
      keys[i].code = by->code[r];
    else if (by->type == KEEL_COL_TEXT)
      keys[i].text = by->text[r];
    else if (by->num)
      keys[i].num = by->num[r];
  }
  qsort(keys, n, sizeof *keys, cmp_skey);
  size_t ns = find_strata(keys, n, start);
  allocate(start, ns, n, k, take);
  if (by && !(rec->strata = calloc(ns, sizeof *rec->strata))) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto done;
  }
  size_t m_out = 0;
  for (size_t s = 0; s < ns; s++) {
    size_t ms = start[s + 1] - start[s];
    for (size_t i = 0; i < ms; i++)
      idx[i] = keys[start[s] + i].row;
    choose(idx, ms, take[s], sp->seed, KEEL_RNG_STREAM_SAMPLE,
           ((uint64_t)s + 1) << 40);
    memcpy(out + m_out, idx, take[s] * sizeof *idx);
    m_out += take[s];
    if (by) {
      keel_sample_stratum *st = &rec->strata[rec->n_strata++];
      st->before = ms;
      st->after = take[s];
      if (!by->missing[keys[start[s]].row] &&
          !(st->value = value_text(by, keys[start[s]].row))) {
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
        goto done;
      }
    }
  }
  qsort(out, m_out, sizeof *out, cmp_size);
  memcpy(kept, out, m_out * sizeof *out);
  *n_kept = m_out;
  rec->rows_after = m_out;
  keel_split_hash_rows(kept, m_out, rec->sha256);
done:
  free(keys);
  free(start);
  free(take);
  free(idx);
  free(out);
  return rc;
}

int keel_sample_rebalance(const keel_sample_spec *sp, const int32_t *cls,
                          size_t n_classes, size_t **train, size_t *n,
                          keel_sample_record *rec, keel_error *err)
{
  rec->spec.rebalance = sp->rebalance;
  rec->spec.seed = sp->seed;
  if (sp->rebalance == KEEL_REBALANCE_NONE)
    return KEEL_OK;
  size_t m = *n, lo = SIZE_MAX, hi = 0;
  rec->class_before = calloc(n_classes ? n_classes : 1, sizeof(size_t));
  rec->class_after = calloc(n_classes ? n_classes : 1, sizeof(size_t));
  if (!rec->class_before || !rec->class_after)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  rec->n_classes = n_classes;
  for (size_t i = 0; i < m; i++)
    rec->class_before[cls[(*train)[i]]]++;
  for (size_t c = 0; c < n_classes; c++)
    if (rec->class_before[c]) {
      lo = rec->class_before[c] < lo ? rec->class_before[c] : lo;
      hi = rec->class_before[c] > hi ? rec->class_before[c] : hi;
    }
  size_t target = sp->rebalance == KEEL_REBALANCE_UNDER ? lo : hi, total = 0;
  for (size_t c = 0; c < n_classes; c++)
    total += rec->class_before[c] ? target : 0;
  size_t *idx = malloc((m ? m : 1) * sizeof *idx);
  size_t *out = malloc((total ? total : 1) * sizeof *out);
  if (!idx || !out) {
    free(idx);
    free(out);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  size_t k = 0;
  for (size_t c = 0; c < n_classes; c++) {
    size_t mc = 0;
    for (size_t i = 0; i < m; i++)
      if ((size_t)cls[(*train)[i]] == c)
        idx[mc++] = (*train)[i];
    if (!mc)
      continue;
    /* whole copies first, then a random draw of the rest */
    for (size_t copy = 0; copy < target / mc; copy++)
      for (size_t i = 0; i < mc; i++)
        out[k++] = idx[i];
    size_t rest = target % mc;
    choose(idx, mc, rest, sp->seed, KEEL_RNG_STREAM_REBALANCE,
           ((uint64_t)c + 1) << 40);
    memcpy(out + k, idx, rest * sizeof *idx);
    k += rest;
    rec->class_after[c] = target;
  }
  qsort(out, k, sizeof *out, cmp_size);
  free(idx);
  free(*train);
  *train = out;
  *n = k;
  rec->rebalanced = 1;
  rec->train_before = m;
  rec->train_after = k;
  return KEEL_OK;
}

static json_t *class_counts(const size_t *count, size_t n, char *const *names,
                            keel_error *err)
{
  json_t *o = json_object();
  for (size_t c = 0; o && c < n; c++) {
    if (!names || !names[c]) {
      json_decref(o);
      return NULL;
    }
    if (!count[c])
      continue; /* a class absent from the training split stays absent */
    json_t *name = keel_json_text(names[c], err, "class %zu", c + 1);
    if (!name) { /* not UTF-8: refused, never dropped */
      json_decref(o);
      return NULL;
    }
    json_decref(name);
    json_object_set_new(o, names[c], json_integer((json_int_t)count[c]));
  }
  return o;
}

json_t *keel_sample_json(const keel_sample_record *rec,
                         char *const *class_names, keel_error *err)
{
  if (!rec->downsampled && !rec->rebalanced)
    return NULL;
  json_t *root = json_object();
  if (rec->downsampled) {
    json_t *strata = json_array();
    for (size_t s = 0; strata && s < rec->n_strata; s++) {
      const keel_sample_stratum *st = &rec->strata[s];
      json_t *v = st->value ? keel_json_text(st->value, err, "sample_by value")
                            : json_null();
      if (!v) {
        json_decref(strata);
        json_decref(root);
        return NULL;
      }
      json_array_append_new(strata,
                            json_pack("{s:o, s:I, s:I}", "value", v,
                                      "rows_before", (json_int_t)st->before,
                                      "rows_after", (json_int_t)st->after));
    }
    json_t *by =
        rec->by[0] ? keel_json_text(rec->by, err, "sample_by") : json_null();
    json_object_set_new(root, "sample",
                        json_pack("{s:I, s:f, s:o, s:I, s:I, s:I, s:o, s:s}",
                                  "rows_asked", (json_int_t)rec->spec.rows,
                                  "fraction_asked", rec->spec.fraction, "by",
                                  by ? by : json_null(), "seed",
                                  (json_int_t)rec->spec.seed, "rows_before",
                                  (json_int_t)rec->rows_before, "rows_after",
                                  (json_int_t)rec->rows_after, "strata", strata,
                                  "sha256", rec->sha256));
  }
  if (rec->rebalanced) {
    json_t *before =
        class_counts(rec->class_before, rec->n_classes, class_names, err);
    json_t *after =
        class_counts(rec->class_after, rec->n_classes, class_names, err);
    if (!before || !after) {
      json_decref(before);
      json_decref(after);
      json_decref(root);
      return NULL;
    }
    json_object_set_new(
        root, "rebalance",
        json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:s}", "method",
                  rec->spec.rebalance == KEEL_REBALANCE_UNDER ? "under"
                                                              : "over",
                  "seed", (json_int_t)rec->spec.seed, "train_rows_before",
                  (json_int_t)rec->train_before, "train_rows_after",
                  (json_int_t)rec->train_after, "classes_before", before,
                  "classes_after", after, "sha256", rec->train_sha256));
  }
  return root;
}

void keel_sample_record_free(keel_sample_record *rec)
{
  if (!rec)
    return;
  for (size_t s = 0; s < rec->n_strata; s++)
    free(rec->strata[s].value);
  free(rec->strata);
  free(rec->by);
  free(rec->class_before);
  free(rec->class_after);
  memset(rec, 0, sizeof *rec);
}
