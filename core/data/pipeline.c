/* The data pipeline: declared-schema propagation (`keel check`) and the
 * real run (read, check, split, fit on train, apply, pack). See
 * pipeline.h for the contract and docs/data.md for the user's view. */
#include "data/pipeline.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/npy.h"
#include "base/params.h"
#include "plugin/state.h"
#include "base/status.h"
#include "plugin/table.h"

/* ---- helpers ---------------------------------------------------------- */

static const char *plugin_name(const keel_stage *st)
{
  return st->plugin ? st->plugin->desc.name : "(none)";
}

static void free_strings(char **v, size_t n)
{
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

/* "[transform.scale] standardize" or "[source] csv". */
static void stage_tag(char *buf, size_t n, const keel_stage *st)
{
  snprintf(buf, n, "[%s] %s", st->section ? st->section : "?",
           plugin_name(st));
}

static const char *flags_text(uint32_t flags)
{
  switch (flags & (KEEL_COL_MAY_MISS | KEEL_COL_MAY_NONFINITE)) {
  case KEEL_COL_MAY_MISS: return "may-miss";
  case KEEL_COL_MAY_NONFINITE: return "non-finite";
  case KEEL_COL_MAY_MISS | KEEL_COL_MAY_NONFINITE: return "may-miss non-finite";
  default: return "";
  }
}

/* A declared column named "<prefix>=*" stands for zero or more actual
 * columns named "<prefix>=<something>" whose count is known only after fit
 * (onehot's categories). Returns the length of "<prefix>=" or 0. */
static size_t wildcard_prefix(const char *name)
{
  size_t n = strlen(name);
  return (n >= 2 && name[n - 1] == '*' && name[n - 2] == '=') ? n - 1 : 0;
}

void keel_stage_schemas_free(keel_stage_schemas *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n_stages; i++) {
    free(s->stages[i].section);
    free(s->stages[i].plugin);
    keel_schema_free(&s->stages[i].schema);
  }
  free(s->stages);
  free(s->label);
  keel_schema_free(&s->features);
  memset(s, 0, sizeof *s);
}

void keel_stage_schemas_print(FILE *f, const keel_stage_schemas *s)
{
  for (size_t i = 0; i < s->n_stages; i++) {
    const keel_stage_schema *st = &s->stages[i];
    size_t w = 4;
    for (size_t c = 0; c < st->schema.n_cols; c++) {
      size_t l = strlen(st->schema.cols[c].name);
      if (l > w)
        w = l;
    }
    if (w > 40)
      w = 40;
    fprintf(f, "[%s] %s: %zu column%s%s\n", st->section, st->plugin,
            st->schema.n_cols, st->schema.n_cols == 1 ? "" : "s",
            i == 0 ? " (label included)" : "");
    for (size_t c = 0; c < st->schema.n_cols; c++) {
      const keel_column_schema *col = &st->schema.cols[c];
      int is_label = i == 0 && s->label && strcmp(col->name, s->label) == 0;
      const char *fl = flags_text(col->flags);
      const char *type = keel_col_type_name(col->type);
      if (fl[0] || is_label)
        fprintf(f, "  %-*s  %-11s%s%s%s\n", (int)w, col->name, type,
                fl[0] ? "  " : "", fl, is_label ? "  <- label" : "");
      else
        fprintf(f, "  %-*s  %s\n", (int)w, col->name, type);
    }
  }
  size_t wild = 0;
  for (size_t c = 0; c < s->features.n_cols; c++)
    wild += wildcard_prefix(s->features.cols[c].name) != 0;
  size_t fixed = s->features.n_cols - wild;
  fprintf(f, "model input: %zu numeric feature%s", fixed,
          fixed == 1 ? "" : "s");
  if (wild)
    fprintf(f, " + %zu group%s expanded at fit (NAME=*)", wild,
            wild == 1 ? "" : "s");
  fprintf(f, ", never missing, finite; label '%s' (%s, %s)\n",
          s->label ? s->label : "?", keel_col_type_name(s->label_type),
          s->task == KEEL_TASK_REGRESSION ? "regression" : "classification");
}

static json_t *schema_json(const keel_schema *sc)
{
  json_t *cols = json_array();
  for (size_t c = 0; cols && c < sc->n_cols; c++) {
    const keel_column_schema *col = &sc->cols[c];
    json_array_append_new(
        cols, json_pack("{s:s, s:s, s:b, s:b}", "name", col->name, "type",
                        keel_col_type_name(col->type), "may_miss",
                        (col->flags & KEEL_COL_MAY_MISS) != 0, "may_nonfinite",
                        (col->flags & KEEL_COL_MAY_NONFINITE) != 0));
  }
  return cols;
}

static json_t *schemas_json(const keel_stage_schemas *s)
{
  json_t *stages = json_array();
  for (size_t i = 0; stages && i < s->n_stages; i++)
    json_array_append_new(
        stages, json_pack("{s:s, s:s, s:o}", "section", s->stages[i].section,
                          "plugin", s->stages[i].plugin, "columns",
                          schema_json(&s->stages[i].schema)));
  return json_pack("{s:s, s:s, s:s, s:o, s:o}", "task",
                   s->task == KEEL_TASK_REGRESSION ? "regression"
                                                   : "classification",
                   "label", s->label ? s->label : "", "label_type",
                   keel_col_type_name(s->label_type), "stages", stages,
                   "model_input", schema_json(&s->features));
}

static char *dump_json(json_t *j)
{
  if (!j)
    return NULL;
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                 JSON_REAL_PRECISION(17));
  json_decref(j);
  return text;
}

char *keel_stage_schemas_to_json(const keel_stage_schemas *s)
{
  return dump_json(schemas_json(s));
}

/* ---- check: declared schemas ----------------------------------------- */

static int schema_without(const keel_schema *in, int skip, keel_schema *out,
                          keel_error *err)
{
  keel_schema_init(out);
  for (size_t c = 0; c < in->n_cols; c++) {
    if ((int)c == skip)
      continue;
    int rc = keel_schema_add(out, in->cols[c].name, in->cols[c].type,
                             in->cols[c].flags, err);
    if (rc) {
      keel_schema_free(out);
      return rc;
    }
  }
  return KEEL_OK;
}

static int label_not_found(const keel_schema *src, const char *label,
                           keel_error *err)
{
  const char **names = malloc((src->n_cols ? src->n_cols : 1) * sizeof *names);
  if (!names)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  char list[200] = "";
  size_t used = 0;
  for (size_t c = 0; c < src->n_cols; c++) {
    names[c] = src->cols[c].name;
    int w = snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "",
                     names[c]);
    if (w > 0 && (size_t)w < sizeof list - used)
      used += (size_t)w;
  }
  const char *dym = keel_did_you_mean(label, names, src->n_cols);
  int rc = keel_fail(err, KEEL_ESCHEMA, "[data] label = '%s': the source has "
                     "no such column%s%s%s (columns: %s)", label,
                     dym ? "; did you mean '" : "", dym ? dym : "",
                     dym ? "'?" : "", list);
  free(names);
  return rc;
}

static int check_label(const keel_run_config *cfg, keel_stage_schemas *s,
                       const keel_schema *src, int *label_index,
                       keel_error *err)
{
  const char *label = cfg->data.values
                          ? cfg->data.values[KEEL_DATA_LABEL].s
                          : NULL;
  if (!label || !label[0])
    return keel_fail(err, KEEL_EINVAL, "[data] label: no label column named");
  int li = keel_schema_find(src, label);
  if (li < 0)
    return label_not_found(src, label, err);
  const keel_column_schema *lc = &src->cols[li];
  s->label_type = lc->type;
  s->label_flags = lc->flags;
  if (cfg->task == KEEL_TASK_REGRESSION && lc->type != KEEL_COL_NUMERIC)
    return keel_fail(err, KEEL_ESCHEMA, "[data] label '%s' is %s, but the "
                     "template's task is regression: the label must be "
                     "numeric", label, keel_col_type_name(lc->type));
  if (cfg->task != KEEL_TASK_REGRESSION && lc->type != KEEL_COL_NUMERIC &&
      lc->type != KEEL_COL_CATEGORICAL)
    return keel_fail(err, KEEL_ESCHEMA, "[data] label '%s' is %s, but the "
                     "template's task is classification: the label must be "
                     "categorical or integer-valued numeric", label,
                     keel_col_type_name(lc->type));
  *label_index = li;
  return KEEL_OK;
}

/* What reaches the model: numeric, never missing, finite, and what the
 * model's contract accepts. */
static int check_model_input(const keel_run_config *cfg,
                             const keel_schema *feat, const char *last_tag,
                             keel_error *err)
{
  const keel_plugin *m = cfg->model.plugin ? &cfg->model.plugin->desc : NULL;
  char mtag[96];
  snprintf(mtag, sizeof mtag, "[model] %s", m ? m->name : "(model)");
  uint32_t need = cfg->checks.contract_flags;
  if (m)
    need |= m->contract.flags;
  if (feat->n_cols == 0)
    return keel_fail(err, KEEL_ESCHEMA, "%s: no feature column reaches the "
                     "model (after %s)", mtag, last_tag);
  for (size_t c = 0; c < feat->n_cols; c++) {
    const keel_column_schema *col = &feat->cols[c];
    if (col->type != KEEL_COL_NUMERIC)
      return keel_fail(err, KEEL_ESCHEMA, "%s: column '%s' reaches the model "
                       "as %s (after %s); the model input must be numeric "
                       "(%s)", mtag, col->name, keel_col_type_name(col->type),
                       last_tag,
                       col->type == KEEL_COL_CATEGORICAL
                           ? "add an onehot transform or drop it"
                       : col->type == KEEL_COL_DATE
                           ? "add a date transform or drop it"
                           : "drop it with a drop transform");
    if (m && m->contract.accepts &&
        !(m->contract.accepts & KEEL_COL_BIT(col->type)))
      return keel_fail(err, KEEL_ESCHEMA, "%s: the model does not accept %s "
                       "column '%s'", mtag, keel_col_type_name(col->type),
                       col->name);
    if (col->flags & KEEL_COL_MAY_MISS)
      return keel_fail(err, KEEL_ESCHEMA, "%s: column '%s' may be missing at "
                       "the model input (after %s); the %s requires no "
                       "missing values (add an impute transform)", mtag,
                       col->name, last_tag,
                       (need & KEEL_CONTRACT_NO_MISSING) ? "template/model"
                                                         : "dense matrix");
    if (col->flags & KEEL_COL_MAY_NONFINITE)
      return keel_fail(err, KEEL_ESCHEMA, "%s: column '%s' may hold NaN or "
                       "Inf at the model input (after %s); the %s requires "
                       "finite values (clean the data, or impute/clip it)",
                       mtag, col->name, last_tag,
                       (need & KEEL_CONTRACT_FINITE) ? "template/model"
                                                     : "dense matrix");
  }
  if (m && m->contract.tasks && !(m->contract.tasks & (uint32_t)cfg->task))
    return keel_fail(err, KEEL_EINVAL, "%s: the model does not serve the "
                     "template's task (%s)", mtag,
                     cfg->task == KEEL_TASK_REGRESSION ? "regression"
                                                       : "classification");
  return KEEL_OK;
}

static int add_stage(keel_stage_schemas *s, const keel_stage *st,
                     keel_schema *schema, keel_error *err)
{
  keel_stage_schema *dst = &s->stages[s->n_stages];
  dst->section = strdup(st->section ? st->section : "?");
  dst->plugin = strdup(plugin_name(st));
  dst->schema = *schema; /* takes ownership */
  keel_schema_init(schema);
  s->n_stages++;
  if (!dst->section || !dst->plugin)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  return KEEL_OK;
}

int keel_pipeline_check(const keel_run_config *cfg, const keel_host *host,
                        keel_stage_schemas *out, keel_error *err)
{
  keel_stage_schemas s;
  keel_schema cur, next;
  char tag[128];
  int rc = KEEL_OK, li = -1;
  memset(&s, 0, sizeof s);
  memset(out, 0, sizeof *out);
  keel_schema_init(&cur);
  keel_schema_init(&next);
  keel_schema_init(&s.features);
  s.task = cfg->task;
  if (!cfg->source.plugin || !cfg->source.plugin->api)
    return keel_fail(err, KEEL_EINVAL, "[source]: no source plugin");
  s.stages = calloc(1 + cfg->n_transforms, sizeof *s.stages);
  if (!s.stages)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");

  /* the source */
  const keel_source_api *sapi = cfg->source.plugin->api;
  stage_tag(tag, sizeof tag, &cfg->source);
  rc = sapi->schema(host, cfg->source.values, &next, err);
  if (rc) {
    keel_error_prefix(err, "%s", tag);
    goto out;
  }
  if ((rc = add_stage(&s, &cfg->source, &next, err)))
    goto out;
  const keel_schema *src = &s.stages[0].schema;
  if ((rc = check_label(cfg, &s, src, &li, err)))
    goto out;
  if (!(s.label = strdup(src->cols[li].name))) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = schema_without(src, li, &cur, err)))
    goto out;

  /* each transform maps the declared schema */
  for (size_t i = 0; i < cfg->n_transforms; i++) {
    const keel_stage *st = &cfg->transforms[i];
    stage_tag(tag, sizeof tag, st);
    if (!st->plugin || !st->plugin->api) {
      rc = keel_fail(err, KEEL_EINVAL, "%s: no plugin", tag);
      goto out;
    }
    const keel_transform_api *tapi = st->plugin->api;
    keel_schema_init(&next);
    rc = tapi->schema(host, st->values, &cur, &next, err);
    if (rc) {
      keel_error_prefix(err, "%s", tag);
      goto out;
    }
    keel_schema_free(&cur);
    if ((rc = keel_schema_copy(&cur, &next, err)) ||
        (rc = add_stage(&s, st, &next, err)))
      goto out;
  }
  if (cfg->n_transforms)
    stage_tag(tag, sizeof tag, &cfg->transforms[cfg->n_transforms - 1]);
  else
    snprintf(tag, sizeof tag, "the source");
  if ((rc = check_model_input(cfg, &cur, tag, err)))
    goto out;
  s.features = cur;
  keel_schema_init(&cur);
  *out = s;
  memset(&s, 0, sizeof s);
out:
  keel_schema_free(&cur);
  keel_schema_free(&next);
  keel_stage_schemas_free(&s);
  return rc;
}

/* ---- prepare: actual data ------------------------------------------- */

/* Source data row (1-based) of row i of a table whose rows map to `rows`
 * (NULL: the source itself). */
static size_t src_row(const size_t *rows, size_t i)
{
  return (rows ? rows[i] : i) + 1;
}

/* Checks one actual column against its declaration's flags. */
static int check_column(const keel_column_schema *d, const keel_column *col,
                        size_t n_rows, const char *tag, const char *part,
                        const size_t *rows, keel_error *err)
{
  for (size_t r = 0; r < n_rows; r++) {
    if (col->missing[r]) {
      if (!(d->flags & KEEL_COL_MAY_MISS))
        return keel_fail(err, KEEL_EDATA, "%s: column '%s' is missing in "
                         "source data row %zu (%s split), but the stage "
                         "declared it never missing", tag, col->name,
                         src_row(rows, r), part);
      continue;
    }
    if (col->num && !isfinite(col->num[r]) &&
        !(d->flags & KEEL_COL_MAY_NONFINITE))
      return keel_fail(err, KEEL_EDATA, "%s: column '%s' is %g in source "
                       "data row %zu (%s split), but the stage declared it "
                       "finite", tag, col->name, col->num[r],
                       src_row(rows, r), part);
    if (col->type == KEEL_COL_CATEGORICAL &&
        (col->code[r] < 0 || (size_t)col->code[r] >= col->n_dict))
      return keel_fail(err, KEEL_EPLUGIN, "%s: column '%s' has category "
                       "code %d outside its dictionary of %zu in row %zu",
                       tag, col->name, (int)col->code[r], col->n_dict,
                       src_row(rows, r));
    if (col->type == KEEL_COL_TEXT && !col->text[r])
      return keel_fail(err, KEEL_EPLUGIN, "%s: text column '%s' has no "
                       "value in row %zu but is not marked missing", tag,
                       col->name, src_row(rows, r));
  }
  return KEEL_OK;
}

/* Checks a table a stage produced against the stage's declared schema:
 * structure (a plugin bug: KEEL_EPLUGIN) and flags (data: KEEL_EDATA). */
static int check_actual(const keel_schema *decl, const keel_table *t,
                        const char *tag, const char *part,
                        const size_t *rows, keel_error *err)
{
  size_t c = 0;
  for (size_t k = 0; k < decl->n_cols; k++) {
    const keel_column_schema *d = &decl->cols[k];
    size_t wp = wildcard_prefix(d->name);
    if (wp) {
      for (; c < t->n_cols && strncmp(t->cols[c].name, d->name, wp) == 0;
           c++) {
        if (t->cols[c].type != d->type)
          return keel_fail(err, KEEL_EPLUGIN, "%s: column '%s' is %s on the "
                           "%s split, but '%s' declared %s", tag,
                           t->cols[c].name, keel_col_type_name(t->cols[c].type),
                           part, d->name, keel_col_type_name(d->type));
        int rc = check_column(d, &t->cols[c], t->n_rows, tag, part, rows, err);
        if (rc)
          return rc;
      }
      continue;
    }
    if (c >= t->n_cols)
      return keel_fail(err, KEEL_EPLUGIN, "%s: produced %zu columns on the %s "
                       "split, but declared %zu (column '%s' is absent)", tag,
                       t->n_cols, part, decl->n_cols, d->name);
    const keel_column *col = &t->cols[c++];
    if (strcmp(col->name, d->name) != 0 || col->type != d->type)
      return keel_fail(err, KEEL_EPLUGIN, "%s: column %zu is '%s' (%s) on the "
                       "%s split, but declared '%s' (%s)", tag, c, col->name,
                       keel_col_type_name(col->type), part, d->name,
                       keel_col_type_name(d->type));
    int rc = check_column(d, col, t->n_rows, tag, part, rows, err);
    if (rc)
      return rc;
  }
  if (c != t->n_cols)
    return keel_fail(err, KEEL_EPLUGIN, "%s: produced %zu columns on the %s "
                     "split, but declared %zu ('%s' is not declared)", tag,
                     t->n_cols, part, decl->n_cols, t->cols[c].name);
  return KEEL_OK;
}

/* Packs an all-numeric table into float32 rows. */
static int pack(const keel_table *t, size_t n_features, const char *tag,
                const char *part, const size_t *rows, float **X,
                keel_error *err)
{
  size_t n = t->n_rows;
  *X = NULL;
  if (n && n_features > SIZE_MAX / sizeof(float) / n)
    return keel_fail(err, KEEL_ENOMEM, "matrix too large");
  float *x = malloc(n && n_features ? n * n_features * sizeof *x : 1);
  if (!x)
    return keel_fail(err, KEEL_ENOMEM, "out of memory for a %zu x %zu "
                     "matrix", n, n_features);
  if (t->n_cols != n_features) {
    free(x);
    return keel_fail(err, KEEL_EPLUGIN, "%s: %zu columns on the %s split, "
                     "but %zu on the train split", tag, t->n_cols, part,
                     n_features);
  }
  for (size_t c = 0; n && c < n_features; c++) {
    const keel_column *col = &t->cols[c];
    for (size_t r = 0; r < n; r++) {
      float v = (float)col->num[r];
      if (col->type != KEEL_COL_NUMERIC || col->missing[r] || !isfinite(v)) {
        free(x);
        return keel_fail(err, KEEL_EDATA, "%s: column '%s' in source data "
                         "row %zu (%s split) is %s; the model input must be "
                         "finite float32", tag, col->name, src_row(rows, r),
                         part,
                         col->missing[r] ? "missing"
                         : isfinite(col->num[r])
                             ? "outside the float32 range"
                             : "NaN or Inf");
      }
      x[r * n_features + c] = v;
    }
  }
  *X = x;
  return KEEL_OK;
}

/* Applies transform i with `state` to *cur (replaced by the output). */
static int apply_stage(const keel_run_config *cfg, const keel_host *host,
                       const keel_stage_schemas *schemas, size_t i,
                       const keel_state *state, keel_table **cur,
                       const char *part, const size_t *rows, keel_error *err)
{
  const keel_stage *st = &cfg->transforms[i];
  const keel_transform_api *tapi = st->plugin->api;
  char tag[128];
  keel_table *next = NULL;
  stage_tag(tag, sizeof tag, st);
  int rc = tapi->apply(host, st->values, state, *cur, &next, err);
  if (rc) {
    keel_error_prefix(err, "%s (%s split)", tag, part);
    if (next)
      keel_table_free(next);
    return rc;
  }
  if (!next)
    return keel_fail(err, KEEL_EPLUGIN, "%s: apply returned no table", tag);
  if (next->n_rows != (*cur)->n_rows)
    rc = keel_fail(err, KEEL_EPLUGIN, "%s: apply turned %zu rows into %zu "
                   "(%s split); transforms must keep every row", tag,
                   (*cur)->n_rows, next->n_rows, part);
  if (!rc)
    rc = check_actual(&schemas->stages[i + 1].schema, next, tag, part, rows,
                      err);
  if (rc) {
    keel_table_free(next);
    return rc;
  }
  keel_table_free(*cur);
  *cur = next;
  return KEEL_OK;
}

static const char *last_tag(const keel_run_config *cfg, char *buf, size_t n)
{
  if (cfg->n_transforms)
    stage_tag(buf, n, &cfg->transforms[cfg->n_transforms - 1]);
  else
    stage_tag(buf, n, &cfg->source);
  return buf;
}

int keel_pipeline_apply(const keel_run_config *cfg, const keel_host *host,
                        const keel_stage_schemas *schemas,
                        keel_state *const *states, const keel_table *features,
                        float **X, size_t *n_features, keel_error *err)
{
  char tag[128];
  *X = NULL;
  keel_table *cur = keel_table_new(features->n_rows);
  if (!cur)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  for (size_t c = 0; !rc && c < features->n_cols; c++)
    if (!keel_table_copy_column(cur, &features->cols[c], err))
      rc = err && err->code ? err->code : KEEL_ENOMEM;
  for (size_t i = 0; !rc && i < cfg->n_transforms; i++)
    rc = apply_stage(cfg, host, schemas, i, states[i], &cur, "given", NULL,
                     err);
  if (!rc) {
    *n_features = cur->n_cols;
    rc = pack(cur, *n_features, last_tag(cfg, tag, sizeof tag), "given", NULL,
              X, err);
  }
  keel_table_free(cur);
  return rc;
}

typedef struct label_info {
  size_t n_classes;
  char **names;
  int32_t *cls; /* per kept row (classification) */
  double *y;    /* per kept row */
} label_info;

static void label_info_free(label_info *l)
{
  free_strings(l->names, l->n_classes);
  free(l->cls);
  free(l->y);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct named_code {
  const char *name;
  int32_t code;
} named_code;

static int cmp_named(const void *a, const void *b)
{
  /* strcmp orders bytes as unsigned char: bytewise */
  return strcmp(((const named_code *)a)->name, ((const named_code *)b)->name);
}

/* Encodes the label of the kept rows: class indices or regression targets. */
static int encode_label(const keel_run_config *cfg, const keel_column *lc,
                        const size_t *kept, size_t n_kept, label_info *out,
                        keel_error *err)
{
  memset(out, 0, sizeof *out);
  out->y = malloc(n_kept * sizeof *out->y);
  if (!out->y)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (cfg->task == KEEL_TASK_REGRESSION) {
    for (size_t i = 0; i < n_kept; i++) {
      double v = lc->num[kept[i]];
      if (!isfinite(v) || !isfinite((float)v))
        return keel_fail(err, KEEL_EDATA, "[data] label '%s' is %g in source "
                         "data row %zu; a regression target must be finite "
                         "(and fit float32)", lc->name, v, kept[i] + 1);
      out->y[i] = v;
    }
    return KEEL_OK;
  }
  out->cls = malloc(n_kept * sizeof *out->cls);
  if (!out->cls)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (lc->type == KEEL_COL_CATEGORICAL) {
    int32_t *map = malloc((lc->n_dict ? lc->n_dict : 1) * sizeof *map);
    named_code *used = malloc((lc->n_dict ? lc->n_dict : 1) * sizeof *used);
    if (!map || !used) {
      free(map);
      free(used);
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < lc->n_dict; k++)
      map[k] = -1;
    size_t n_used = 0;
    for (size_t i = 0; i < n_kept; i++) {
      int32_t code = lc->code[kept[i]];
      if (code < 0 || (size_t)code >= lc->n_dict) {
        free(map);
        free(used);
        return keel_fail(err, KEEL_EPLUGIN, "[data] label '%s': category code "
                         "%d out of range in row %zu", lc->name, (int)code,
                         kept[i] + 1);
      }
      if (map[code] < 0) {
        map[code] = 0;
        used[n_used].name = lc->dict[code];
        used[n_used++].code = code;
      }
    }
    qsort(used, n_used, sizeof *used, cmp_named);
    out->names = calloc(n_used ? n_used : 1, sizeof *out->names);
    int ok = out->names != NULL;
    for (size_t k = 0; ok && k < n_used; k++) {
      map[used[k].code] = (int32_t)k;
      ok = (out->names[k] = strdup(used[k].name)) != NULL;
    }
    out->n_classes = n_used;
    for (size_t i = 0; ok && i < n_kept; i++) {
      out->cls[i] = map[lc->code[kept[i]]];
      out->y[i] = out->cls[i];
    }
    free(map);
    free(used);
    if (!ok)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    return KEEL_OK;
  }
  /* numeric classification label: integer values */
  double *vals = malloc(n_kept * sizeof *vals);
  if (!vals)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n_kept; i++) {
    double v = lc->num[kept[i]];
    if (!isfinite(v) || v != floor(v) || fabs(v) > 9007199254740992.0) {
      free(vals);
      return keel_fail(err, KEEL_EDATA, "[data] label '%s' is %g in source "
                       "data row %zu; a classification label must be a "
                       "category or an integer", lc->name, v, kept[i] + 1);
    }
    vals[i] = v;
  }
  qsort(vals, n_kept, sizeof *vals, cmp_double);
  size_t n_uniq = 0;
  for (size_t i = 0; i < n_kept; i++)
    if (i == 0 || vals[i] != vals[n_uniq - 1])
      vals[n_uniq++] = vals[i];
  out->names = calloc(n_uniq ? n_uniq : 1, sizeof *out->names);
  int ok = out->names != NULL;
  for (size_t k = 0; ok && k < n_uniq; k++) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)vals[k]);
    ok = (out->names[k] = strdup(buf)) != NULL;
  }
  out->n_classes = n_uniq;
  for (size_t i = 0; ok && i < n_kept; i++) {
    double v = lc->num[kept[i]];
    const double *hit = bsearch(&v, vals, n_uniq, sizeof *vals, cmp_double);
    out->cls[i] = (int32_t)(hit - vals);
    out->y[i] = out->cls[i];
  }
  free(vals);
  return ok ? KEEL_OK : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

/* The template's data sanity checks on the kept rows. */
static int template_checks(const keel_run_config *cfg, const keel_table *t,
                           size_t label_col, const size_t *kept,
                           size_t n_kept, const label_info *lab,
                           keel_error *err)
{
  const keel_template_checks *ck = &cfg->checks;
  if (ck->min_rows >= 0 && n_kept < (size_t)ck->min_rows)
    return keel_fail(err, KEEL_EDATA, "[data] %zu usable rows, but the "
                     "template requires at least %lld (min_rows)", n_kept,
                     (long long)ck->min_rows);
  if (ck->max_missing_fraction >= 0) {
    for (size_t c = 0; c < t->n_cols; c++) {
      if (c == label_col)
        continue;
      size_t miss = 0;
      for (size_t i = 0; i < n_kept; i++)
        miss += t->cols[c].missing[kept[i]] != 0;
      double frac = n_kept ? (double)miss / (double)n_kept : 0.0;
      if (frac > ck->max_missing_fraction)
        return keel_fail(err, KEEL_EDATA, "[data] column '%s' is %.1f%% "
                         "missing (%zu of %zu rows), but the template allows "
                         "at most %.1f%% (max_missing_fraction)",
                         t->cols[c].name, 100.0 * frac, miss, n_kept,
                         100.0 * ck->max_missing_fraction);
    }
  }
  if (cfg->task == KEEL_TASK_REGRESSION)
    return KEEL_OK;
  if (lab->n_classes < 2)
    return keel_fail(err, KEEL_EDATA, "[data] label '%s' has %zu class%s in "
                     "the data; classification needs at least 2",
                     t->cols[label_col].name, lab->n_classes,
                     lab->n_classes == 1 ? "" : "es");
  if (ck->min_class_count >= 0) {
    size_t *count = calloc(lab->n_classes, sizeof *count);
    if (!count)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_kept; i++)
      count[lab->cls[i]]++;
    int rc = KEEL_OK;
    for (size_t k = 0; !rc && k < lab->n_classes; k++)
      if (count[k] < (size_t)ck->min_class_count)
        rc = keel_fail(err, KEEL_EDATA, "[data] class '%s' of label '%s' has "
                       "%zu rows, but the template requires at least %lld "
                       "(min_class_count)", lab->names[k],
                       t->cols[label_col].name, count[k],
                       (long long)ck->min_class_count);
    free(count);
    return rc;
  }
  return KEEL_OK;
}

void keel_prepared_free(keel_prepared *p)
{
  if (!p)
    return;
  free(p->label);
  free_strings(p->feature_names, p->n_features);
  free_strings(p->class_names, p->n_classes);
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    free(p->part[k].X);
    free(p->part[k].y);
    free(p->part[k].rows);
  }
  keel_split_free(&p->split);
  free(p->dropped_rows);
  for (size_t i = 0; p->states && i < p->n_transforms; i++)
    keel_state_free(p->states[i]);
  free(p->states);
  keel_stage_schemas_free(&p->schemas);
  memset(p, 0, sizeof *p);
}

/* Reads the source, handles missing labels, encodes the label, runs the
 * template checks and splits. Leaves the per-split feature tables. */
static int read_and_split(const keel_run_config *cfg, const keel_host *host,
                          keel_prepared *p, keel_table *parts[KEEL_SPLIT_N],
                          keel_error *err)
{
  const keel_source_api *sapi = cfg->source.plugin->api;
  keel_table *src = NULL, *feat = NULL;
  size_t *kept = NULL;
  label_info lab;
  char tag[128];
  memset(&lab, 0, sizeof lab);
  stage_tag(tag, sizeof tag, &cfg->source);
  int rc = sapi->read(host, cfg->source.values, &src, err);
  if (rc) {
    keel_error_prefix(err, "%s", tag);
    goto out;
  }
  if (!src) {
    rc = keel_fail(err, KEEL_EPLUGIN, "%s: read returned no table", tag);
    goto out;
  }
  if ((rc = check_actual(&p->schemas.stages[0].schema, src, tag, "source",
                         NULL, err)))
    goto out;
  p->n_source_rows = src->n_rows;
  int li = keel_table_find(src, p->schemas.label);
  const keel_column *lc = &src->cols[li];
  kept = malloc((src->n_rows ? src->n_rows : 1) * sizeof *kept);
  p->dropped_rows = malloc((src->n_rows ? src->n_rows : 1) * sizeof(size_t));
  if (!kept || !p->dropped_rows) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  size_t n_kept = 0;
  int drop = cfg->data.values[KEEL_DATA_MISSING_LABEL].i == 1;
  for (size_t r = 0; r < src->n_rows; r++) {
    if (!lc->missing[r]) {
      kept[n_kept++] = r;
      continue;
    }
    if (!drop) {
      size_t total = 0;
      for (size_t q = 0; q < src->n_rows; q++)
        total += lc->missing[q] != 0;
      rc = keel_fail(err, KEEL_EDATA, "[data] label '%s' is missing in source "
                     "data row %zu (%zu row%s in all); set [data] "
                     "missing_label = drop to drop such rows", lc->name, r + 1,
                     total, total == 1 ? "" : "s");
      goto out;
    }
    p->dropped_rows[p->n_dropped++] = r;
  }
  if (n_kept == 0) {
    rc = keel_fail(err, KEEL_EDATA, "[data] no row has a label");
    goto out;
  }
  if ((rc = encode_label(cfg, lc, kept, n_kept, &lab, err)) ||
      (rc = template_checks(cfg, src, (size_t)li, kept, n_kept, &lab, err)))
    goto out;
  int stratify = cfg->task != KEEL_TASK_REGRESSION &&
                 cfg->data.values[KEEL_DATA_STRATIFY].i;
  rc = keel_split_make(n_kept, lab.cls, lab.n_classes,
                       cfg->data.values[KEEL_DATA_VALID_FRACTION].f,
                       cfg->data.values[KEEL_DATA_TEST_FRACTION].f,
                       (uint64_t)cfg->data.values[KEEL_DATA_SPLIT_SEED].i,
                       stratify, &p->split, err);
  if (rc) {
    keel_error_prefix(err, "[data]");
    goto out;
  }
  if (!(feat = keel_table_drop_column(src, (size_t)li, err))) {
    rc = err->code ? err->code : KEEL_ENOMEM;
    goto out;
  }
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    keel_prepared_part *pp = &p->part[k];
    size_t n = p->split.n[k];
    pp->n_rows = n;
    pp->y = malloc((n ? n : 1) * sizeof *pp->y);
    pp->rows = malloc((n ? n : 1) * sizeof *pp->rows);
    if (!pp->y || !pp->rows) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      goto out;
    }
    /* split positions index the kept rows; record source rows */
    for (size_t i = 0; i < n; i++) {
      size_t pos = p->split.rows[k][i];
      pp->y[i] = (float)lab.y[pos];
      pp->rows[i] = kept[pos];
      p->split.rows[k][i] = kept[pos];
    }
    keel_split_hash_rows(p->split.rows[k], n, p->split.sha256[k]);
    if (!(parts[k] = keel_table_take_rows(feat, pp->rows, n, err))) {
      rc = err->code ? err->code : KEEL_ENOMEM;
      goto out;
    }
  }
  p->n_classes = cfg->task == KEEL_TASK_REGRESSION ? 0 : lab.n_classes;
  if (p->n_classes) {
    p->class_names = lab.names;
    lab.names = NULL;
    lab.n_classes = 0;
  }
out:
  label_info_free(&lab);
  free(kept);
  if (feat)
    keel_table_free(feat);
  if (src)
    keel_table_free(src);
  return rc;
}

int keel_pipeline_prepare(const keel_run_config *cfg, const keel_host *host,
                          keel_prepared *out, keel_error *err)
{
  keel_stage_schemas schemas;
  memset(out, 0, sizeof *out);
  int rc = keel_pipeline_check(cfg, host, &schemas, err);
  if (rc)
    return rc;
  return keel_pipeline_prepare_checked(cfg, host, &schemas, out, err);
}

int keel_pipeline_prepare_checked(const keel_run_config *cfg,
                                  const keel_host *host,
                                  keel_stage_schemas *checked,
                                  keel_prepared *out, keel_error *err)
{
  keel_prepared p;
  keel_table *parts[KEEL_SPLIT_N] = {NULL, NULL, NULL};
  char tag[128];
  int rc = KEEL_OK;
  memset(&p, 0, sizeof p);
  memset(out, 0, sizeof *out);
  p.schemas = *checked; /* taken over: freed with p */
  memset(checked, 0, sizeof *checked);
  p.task = cfg->task;
  if (!(p.label = strdup(p.schemas.label))) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = read_and_split(cfg, host, &p, parts, err)))
    goto out;

  p.states = calloc(cfg->n_transforms ? cfg->n_transforms : 1,
                    sizeof *p.states);
  if (!p.states) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  p.n_transforms = cfg->n_transforms;
  for (size_t i = 0; i < cfg->n_transforms; i++) {
    const keel_stage *st = &cfg->transforms[i];
    const keel_transform_api *tapi = st->plugin->api;
    stage_tag(tag, sizeof tag, st);
    if (!(p.states[i] = keel_state_new())) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      goto out;
    }
    if (tapi->fit) {
      rc = tapi->fit(host, st->values, parts[KEEL_SPLIT_TRAIN], p.states[i],
                     err);
      if (rc) {
        keel_error_prefix(err, "%s (fit on the train split)", tag);
        goto out;
      }
    }
    for (int k = 0; k < KEEL_SPLIT_N; k++) {
      if (k != KEEL_SPLIT_TRAIN && p.part[k].n_rows == 0)
        continue; /* nothing to apply; packed as 0 rows below */
      rc = apply_stage(cfg, host, &p.schemas, i, p.states[i], &parts[k],
                       keel_split_part_name((keel_split_part)k),
                       p.part[k].rows, err);
      if (rc)
        goto out;
    }
  }

  /* the actual width: wildcard columns (onehot) expand after fit */
  const keel_table *ft = parts[KEEL_SPLIT_TRAIN];
  last_tag(cfg, tag, sizeof tag);
  if (ft->n_cols == 0) {
    rc = keel_fail(err, KEEL_EDATA, "%s: no feature column is left for the "
                   "model", tag);
    goto out;
  }
  p.feature_names = calloc(ft->n_cols, sizeof *p.feature_names);
  if (!p.feature_names) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  p.n_features = ft->n_cols;
  for (size_t c = 0; c < p.n_features; c++)
    if (!(p.feature_names[c] = strdup(ft->cols[c].name))) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      goto out;
    }
  for (int k = 1; k < KEEL_SPLIT_N; k++)
    for (size_t c = 0; p.part[k].n_rows && c < parts[k]->n_cols &&
                       c < p.n_features; c++)
      if (strcmp(parts[k]->cols[c].name, p.feature_names[c]) != 0) {
        rc = keel_fail(err, KEEL_EPLUGIN, "%s: column %zu is '%s' on the %s "
                       "split but '%s' on the train split", tag, c + 1,
                       parts[k]->cols[c].name,
                       keel_split_part_name((keel_split_part)k),
                       p.feature_names[c]);
        goto out;
      }
  for (int k = 0; k < KEEL_SPLIT_N; k++) {
    if (p.part[k].n_rows == 0) {
      p.part[k].X = malloc(1);
      if (!p.part[k].X) {
        rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
        goto out;
      }
      continue;
    }
    rc = pack(parts[k], p.n_features, tag,
              keel_split_part_name((keel_split_part)k), p.part[k].rows,
              &p.part[k].X, err);
    if (rc)
      goto out;
  }
  *out = p;
  memset(&p, 0, sizeof p);
out:
  for (int k = 0; k < KEEL_SPLIT_N; k++)
    if (parts[k])
      keel_table_free(parts[k]);
  keel_prepared_free(&p);
  return rc;
}

/* ---- output ----------------------------------------------------------- */

static json_t *string_array(char *const *v, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *row_array(const size_t *rows, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_integer((json_int_t)rows[i]));
  return a;
}

char *keel_prepared_split_json(const keel_prepared *p)
{
  json_t *counts = json_object(), *hashes = json_object();
  for (int k = 0; counts && hashes && k < KEEL_SPLIT_N; k++) {
    const char *name = keel_split_part_name((keel_split_part)k);
    json_object_set_new(counts, name, json_integer((json_int_t)p->split.n[k]));
    json_object_set_new(hashes, name, json_string(p->split.sha256[k]));
  }
  json_t *j = json_pack(
      "{s:I, s:b, s:f, s:f, s:s, s:I, s:I, s:o, s:o, s:o, s:o}", "seed",
      (json_int_t)p->split.seed, "stratified", p->split.stratified,
      "valid_fraction", p->split.valid_fraction, "test_fraction",
      p->split.test_fraction, "row_hash",
      "sha256 of the ascending 0-based source data row indices as "
      "little-endian uint64",
      "source_rows", (json_int_t)p->n_source_rows, "dropped_missing_label",
      (json_int_t)p->n_dropped, "dropped_rows",
      row_array(p->dropped_rows, p->n_dropped), "counts", counts, "sha256",
      hashes, "classes", string_array(p->class_names, p->n_classes));
  return dump_json(j);
}

static int write_text(const char *dir, const char *name, char *text,
                      keel_error *err)
{
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "out of memory building %s", name);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n = strlen(text);
  /* end text files with a newline */
  char *withnl = malloc(n + 2);
  int rc;
  if (!withnl) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else {
    memcpy(withnl, text, n);
    withnl[n] = '\n';
    rc = keel_write_file_atomic(path, withnl, n + 1, 0644, 0, err);
  }
  free(withnl);
  free(text);
  return rc;
}

/* The names keel_prepared_write creates (and may replace). */
static int is_prepared_file(const char *name)
{
  size_t n = strlen(name);
  if (strcmp(name, "split.json") == 0 || strcmp(name, "schemas.json") == 0)
    return 1;
  if (n > 4 && strcmp(name + n - 4, ".npy") == 0)
    return strncmp(name, "X_", 2) == 0 || strncmp(name, "y_", 2) == 0 ||
           strncmp(name, "rows_", 5) == 0;
  return n > 8 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' &&
         name[1] <= '9' && name[2] == '-' && strcmp(name + n - 5, ".json") == 0;
}

/* Removes a folder holding only prepared files; refuses anything else so a
 * mistyped path never loses a user's files. */
static int remove_prepared_dir(const char *dir, int need_marker,
                               keel_error *err)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/split.json", dir);
  struct stat st;
  if (need_marker && stat(path, &st) != 0)
    return keel_fail(err, KEEL_EINVAL, "%s exists and is not a prepared-data "
                     "folder (no split.json); refusing to replace it", dir);
  DIR *d = opendir(dir);
  if (!d)
    return keel_fail(err, KEEL_EIO, "%s: %s", dir, strerror(errno));
  struct dirent *e;
  int rc = KEEL_OK;
  while (!rc && (e = readdir(d)) != NULL) {
    if (!is_prepared_file(e->d_name))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) != 0)
      rc = keel_fail(err, KEEL_EIO, "%s: %s", path, strerror(errno));
  }
  closedir(d);
  if (!rc && rmdir(dir) != 0)
    rc = keel_fail(err, KEEL_EIO, "%s: cannot replace it (%s); it holds "
                   "files keel did not write", dir, strerror(errno));
  return rc;
}

static int write_prepared_files(const keel_prepared *p, const char *dir,
                                keel_error *err)
{
  char path[4096], name[512];
  int rc = KEEL_OK;
  for (int k = 0; !rc && k < KEEL_SPLIT_N; k++) {
    const keel_prepared_part *pp = &p->part[k];
    const char *part = keel_split_part_name((keel_split_part)k);
    snprintf(path, sizeof path, "%s/X_%s.npy", dir, part);
    rc = keel_npy_write_f32_2d(path, pp->X, pp->n_rows, p->n_features, err);
    if (!rc) {
      snprintf(path, sizeof path, "%s/y_%s.npy", dir, part);
      rc = keel_npy_write_f32_1d(path, pp->y, pp->n_rows, err);
    }
    if (!rc) {
      int64_t *rows = malloc((pp->n_rows ? pp->n_rows : 1) * sizeof *rows);
      if (!rows)
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      for (size_t i = 0; i < pp->n_rows; i++)
        rows[i] = (int64_t)pp->rows[i];
      snprintf(path, sizeof path, "%s/rows_%s.npy", dir, part);
      rc = keel_npy_write(path, KEEL_NPY_I64, rows, 1, &pp->n_rows, err);
      free(rows);
    }
  }
  for (size_t i = 0; !rc && i < p->n_transforms; i++) {
    snprintf(name, sizeof name, "%02zu-%s.json", i + 1,
             p->schemas.stages[i + 1].section);
    rc = write_text(dir, name, keel_state_to_json(p->states[i]), err);
  }
  if (!rc) {
    json_t *j = schemas_json(&p->schemas);
    if (j) {
      json_object_set_new(j, "feature_names",
                          string_array(p->feature_names, p->n_features));
      json_object_set_new(j, "classes",
                          string_array(p->class_names, p->n_classes));
    }
    rc = write_text(dir, "schemas.json", dump_json(j), err);
  }
  if (!rc)
    rc = write_text(dir, "split.json", keel_prepared_split_json(p), err);
  return rc;
}

int keel_prepared_write(const keel_prepared *p, const char *dir,
                        keel_error *err)
{
  size_t n = strlen(dir);
  if (n == 0 || n > 3000)
    return keel_fail(err, KEEL_EINVAL, "prepared-data folder: bad path '%s'",
                     dir);
  char tmp[3100], parent[3100];
  memcpy(parent, dir, n + 1);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    int rc = keel_fs_mkdir_p(parent, err);
    if (rc)
      return rc;
  }
  /* everything goes into a fresh sibling folder, renamed into place at
   * the end: the folder at `dir` is never half-written */
  snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", dir);
  if (!mkdtemp(tmp))
    return keel_fail(err, KEEL_EIO, "%s: cannot create a temporary folder: "
                     "%s", tmp, strerror(errno));
  chmod(tmp, 0755);
  int rc = write_prepared_files(p, tmp, err);
  struct stat st;
  if (!rc && stat(dir, &st) == 0)
    rc = remove_prepared_dir(dir, 1, err);
  if (!rc && rename(tmp, dir) != 0)
    rc = keel_fail(err, KEEL_EIO, "%s: rename failed: %s", dir,
                   strerror(errno));
  if (rc)
    remove_prepared_dir(tmp, 0, NULL); /* keeps err: its own goes to NULL */
  return rc;
}
