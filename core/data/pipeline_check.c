/* The data pipeline's declared schemas: propagated from the source through
 * every transform to the model input without reading the data (`keel
 * check`), checked against the label, the template and the model's
 * contract; and shown (keel_stage_schemas_print, schemas.json). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/params.h"
#include "base/status.h"
#include "data/data_checks.h"
#include "data/pipeline_internal.h"
#include "plugin/table.h"

static const char *flags_text(uint32_t flags)
{
  switch (flags & (KEEL_COL_MAY_MISS | KEEL_COL_MAY_NONFINITE)) {
  case KEEL_COL_MAY_MISS: return "may-miss";
  case KEEL_COL_MAY_NONFINITE: return "non-finite";
  case KEEL_COL_MAY_MISS | KEEL_COL_MAY_NONFINITE: return "may-miss non-finite";
  default: return "";
  }
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

/* Text from the manifest, the data or a plugin, escaped for a person
 * (base/escape.h) into b, which is reset first; "?" when out of memory. */
static const char *shown(keel_buf *b, const char *text)
{
  b->len = 0;
  keel_escape(b, text, strlen(text), 0);
  if (keel_buf_append(b, "", 1))
    return "?";
  return (const char *)b->data;
}

void keel_stage_schemas_print(FILE *f, const keel_stage_schemas *s)
{
  keel_buf b1 = KEEL_BUF_INIT, b2 = KEEL_BUF_INIT;
  for (size_t i = 0; i < s->n_stages; i++) {
    const keel_stage_schema *st = &s->stages[i];
    size_t w = 4;
    for (size_t c = 0; c < st->schema.n_cols; c++) {
      size_t l = strlen(shown(&b1, st->schema.cols[c].name));
      if (l > w)
        w = l;
    }
    if (w > 40)
      w = 40;
    fprintf(f, "[%s] ", shown(&b1, st->section));
    fprintf(f, "%s: %zu column%s%s\n", shown(&b1, st->plugin),
            st->schema.n_cols, st->schema.n_cols == 1 ? "" : "s",
            i == 0 ? " (label included)" : "");
    for (size_t c = 0; c < st->schema.n_cols; c++) {
      const keel_column_schema *col = &st->schema.cols[c];
      int is_label = i == 0 && s->label && strcmp(col->name, s->label) == 0;
      const char *fl = flags_text(col->flags);
      const char *type = keel_col_type_name(col->type);
      const char *name = shown(&b1, col->name);
      if (fl[0] || is_label)
        fprintf(f, "  %-*s  %-11s%s%s%s\n", (int)w, name, type,
                fl[0] ? "  " : "", fl, is_label ? "  <- label" : "");
      else
        fprintf(f, "  %-*s  %s\n", (int)w, name, type);
    }
  }
  size_t wild = 0;
  for (size_t c = 0; c < s->features.n_cols; c++)
    wild += keel_schema_group_prefix(s->features.cols[c].name) != 0;
  size_t fixed = s->features.n_cols - wild;
  fprintf(f, "model input: %zu numeric feature%s", fixed,
          fixed == 1 ? "" : "s");
  if (wild)
    fprintf(f, " + %zu group%s expanded at fit (NAME=*)", wild,
            wild == 1 ? "" : "s");
  fprintf(f, ", never missing, finite; label '%s' (%s, %s)\n",
          s->label ? shown(&b2, s->label) : "?",
          keel_col_type_name(s->label_type),
          s->task == KEEL_TASK_REGRESSION ? "regression" : "classification");
  keel_buf_free(&b1);
  keel_buf_free(&b2);
}

size_t keel_stage_schemas_model_width(const keel_stage_schemas *s, int *exact)
{
  size_t wild = 0;
  for (size_t c = 0; c < s->features.n_cols; c++)
    wild += keel_schema_group_prefix(s->features.cols[c].name) != 0;
  *exact = wild == 0 && s->features.n_cols > 0;
  /* a NAME=* group stands for one column or more in practice (a
   * categorical column has at least one category) */
  return s->features.n_cols ? s->features.n_cols : 1;
}

/* All or nothing: a column json_pack cannot write (a name that is not
 * UTF-8, which table.c refuses before it gets here) makes the whole
 * document NULL, never an array with a column missing. */
static json_t *schema_json(const keel_schema *sc)
{
  json_t *cols = json_array();
  for (size_t c = 0; cols && c < sc->n_cols; c++) {
    const keel_column_schema *col = &sc->cols[c];
    json_t *o =
        json_pack("{s:s, s:s, s:b, s:b}", "name", col->name, "type",
                  keel_col_type_name(col->type), "may_miss",
                  (col->flags & KEEL_COL_MAY_MISS) != 0, "may_nonfinite",
                  (col->flags & KEEL_COL_MAY_NONFINITE) != 0);
    if (!o || json_array_append_new(cols, o)) {
      json_decref(cols);
      return NULL;
    }
  }
  return cols;
}

json_t *keel__schemas_json(const keel_stage_schemas *s)
{
  json_t *stages = json_array();
  for (size_t i = 0; stages && i < s->n_stages; i++) {
    json_t *o = json_pack("{s:s, s:s, s:o}", "section", s->stages[i].section,
                          "plugin", s->stages[i].plugin, "columns",
                          schema_json(&s->stages[i].schema));
    if (!o || json_array_append_new(stages, o)) {
      json_decref(stages);
      return NULL;
    }
  }
  return json_pack("{s:s, s:s, s:s, s:o, s:o}", "task",
                   s->task == KEEL_TASK_REGRESSION ? "regression"
                                                   : "classification",
                   "label", s->label ? s->label : "", "label_type",
                   keel_col_type_name(s->label_type), "stages", stages,
                   "model_input", schema_json(&s->features));
}

char *keel__dump_json(json_t *j)
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
  return keel__dump_json(keel__schemas_json(s));
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
  int rc = keel_fail(err, KEEL_ESCHEMA,
                     "[data] label = '%s': the source has "
                     "no such column%s%s%s (columns: %s)",
                     label, dym ? "; did you mean '" : "", dym ? dym : "",
                     dym ? "'?" : "", list);
  free(names);
  return rc;
}

static int check_label(const keel_run_config *cfg, keel_stage_schemas *s,
                       const keel_schema *src, int *label_index,
                       keel_error *err)
{
  const char *label =
      cfg->data.values ? cfg->data.values[KEEL_DATA_LABEL].s : NULL;
  if (!label || !label[0])
    return keel_fail(err, KEEL_EINVAL, "[data] label: no label column named");
  int li = keel_schema_find(src, label);
  if (li < 0)
    return label_not_found(src, label, err);
  const keel_column_schema *lc = &src->cols[li];
  s->label_type = lc->type;
  s->label_flags = lc->flags;
  if (cfg->task == KEEL_TASK_REGRESSION && lc->type != KEEL_COL_NUMERIC)
    return keel_fail(err, KEEL_ESCHEMA,
                     "[data] label '%s' is %s, but the "
                     "template's task is regression: the label must be "
                     "numeric",
                     label, keel_col_type_name(lc->type));
  if (cfg->task != KEEL_TASK_REGRESSION && lc->type != KEEL_COL_NUMERIC &&
      lc->type != KEEL_COL_CATEGORICAL)
    return keel_fail(err, KEEL_ESCHEMA,
                     "[data] label '%s' is %s, but the "
                     "template's task is classification: the label must be "
                     "categorical or integer-valued numeric",
                     label, keel_col_type_name(lc->type));
  *label_index = li;
  return KEEL_OK;
}

/* What reaches the model: numeric, never missing, finite, and what the
 * model's contract accepts. */
/* Where a non-finite column comes from, for the message: "; a NaN or Inf
 * literal in the source data: file <path> read by [source] <plugin>,
 * manifest <file>" when the source declared it so, else "". (The schema
 * carries no row: the check reads declarations, not values.) */
static void nonfinite_origin(const keel_run_config *cfg, const keel_schema *src,
                             const char *column, char *buf, size_t n)
{
  const char *path = NULL;
  int from_source = 0;
  buf[0] = '\0';
  for (size_t c = 0; src && c < src->n_cols; c++)
    if (strcmp(src->cols[c].name, column) == 0)
      from_source = (src->cols[c].flags & KEEL_COL_MAY_NONFINITE) != 0;
  if (!from_source)
    return;
  for (size_t i = 0; i < cfg->source.n_params; i++)
    if (cfg->source.params[i].decl &&
        strcmp(cfg->source.params[i].decl->name, "path") == 0)
      path = cfg->source.params[i].text;
  snprintf(buf, n,
           "; a NaN or Inf literal in the source data: %s%s%sread by [source] "
           "%s, manifest %s",
           path ? "file " : "", path ? path : "", path ? " " : "",
           cfg->source.plugin ? cfg->source.plugin->desc.name : "(source)",
           cfg->manifest_path ? cfg->manifest_path : "(none)");
}

static int check_model_input(const keel_run_config *cfg, const keel_schema *src,
                             const keel_schema *feat, const char *last_tag,
                             keel_error *err)
{
  char origin[1024];
  const keel_plugin *m = cfg->model.plugin ? &cfg->model.plugin->desc : NULL;
  char mtag[96];
  snprintf(mtag, sizeof mtag, "[model] %s", m ? m->name : "(model)");
  uint32_t need = cfg->checks.contract_flags;
  if (m)
    need |= m->contract.flags;
  if (feat->n_cols == 0)
    return keel_fail(err, KEEL_ESCHEMA,
                     "%s: no feature column reaches the "
                     "model (after %s)",
                     mtag, last_tag);
  for (size_t c = 0; c < feat->n_cols; c++) {
    const keel_column_schema *col = &feat->cols[c];
    if (col->type != KEEL_COL_NUMERIC)
      return keel_fail(err, KEEL_ESCHEMA,
                       "%s: column '%s' reaches the model "
                       "as %s (after %s); the model input must be numeric "
                       "(%s)",
                       mtag, col->name, keel_col_type_name(col->type), last_tag,
                       col->type == KEEL_COL_CATEGORICAL
                           ? "add an onehot transform or drop it"
                       : col->type == KEEL_COL_DATE
                           ? "add a date transform or drop it"
                           : "drop it with a drop transform");
    if (m && m->contract.accepts &&
        !(m->contract.accepts & KEEL_COL_BIT(col->type)))
      return keel_fail(err, KEEL_ESCHEMA,
                       "%s: the model does not accept %s "
                       "column '%s'",
                       mtag, keel_col_type_name(col->type), col->name);
    if (col->flags & KEEL_COL_MAY_MISS)
      return keel_fail(err, KEEL_ESCHEMA,
                       "%s: column '%s' may be missing at "
                       "the model input (after %s); the %s requires no "
                       "missing values (add an impute transform)",
                       mtag, col->name, last_tag,
                       (need & KEEL_CONTRACT_NO_MISSING) ? "template/model"
                                                         : "dense matrix");
    if (col->flags & KEEL_COL_MAY_NONFINITE) {
      nonfinite_origin(cfg, src, col->name, origin, sizeof origin);
      return keel_fail(err, KEEL_ESCHEMA,
                       "%s: column '%s' may hold NaN or "
                       "Inf at the model input (after %s%s); the %s requires "
                       "finite values (clean the data, or impute/clip it)",
                       mtag, col->name, last_tag, origin,
                       (need & KEEL_CONTRACT_FINITE) ? "template/model"
                                                     : "dense matrix");
    }
  }
  if (m && m->contract.tasks && !(m->contract.tasks & (uint32_t)cfg->task))
    return keel_fail(err, KEEL_EINVAL,
                     "%s: the model does not serve the "
                     "template's task (%s)",
                     mtag,
                     cfg->task == KEEL_TASK_REGRESSION ? "regression"
                                                       : "classification");
  return KEEL_OK;
}

static int add_stage(keel_stage_schemas *s, const keel_stage *st,
                     keel_schema *schema, keel_error *err)
{
  keel_stage_schema *dst = &s->stages[s->n_stages];
  dst->section = strdup(st->section ? st->section : "?");
  dst->plugin = strdup(keel__stage_plugin(st));
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
  keel__stage_tag(tag, sizeof tag, &cfg->source);
  rc = sapi->schema(host, cfg->source.values, &next, err);
  if (rc) {
    keel_error_prefix_plugin(err, keel__stage_plugin(&cfg->source), "%s", tag);
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
  if ((rc = keel_sample_check(cfg, src, err)) ||
      (rc = keel_data_checks_validate(cfg, src, err)) ||
      (rc = schema_without(src, li, &cur, err)))
    goto out;

  /* each transform maps the declared schema */
  for (size_t i = 0; i < cfg->n_transforms; i++) {
    const keel_stage *st = &cfg->transforms[i];
    keel__stage_tag(tag, sizeof tag, st);
    if (!st->plugin || !st->plugin->api) {
      rc = keel_fail(err, KEEL_EINVAL, "%s: no plugin", tag);
      goto out;
    }
    const keel_transform_api *tapi = st->plugin->api;
    keel_schema_init(&next);
    rc = tapi->schema(host, st->values, &cur, &next, err);
    if (rc) {
      keel_error_prefix_plugin(err, keel__stage_plugin(st), "%s", tag);
      goto out;
    }
    keel_schema_free(&cur);
    if ((rc = keel_schema_copy(&cur, &next, err)) ||
        (rc = add_stage(&s, st, &next, err)))
      goto out;
  }
  if (cfg->n_transforms)
    keel__stage_tag(tag, sizeof tag, &cfg->transforms[cfg->n_transforms - 1]);
  else
    snprintf(tag, sizeof tag, "the source");
  if ((rc = check_model_input(cfg, src, &cur, tag, err)))
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
