/* The data checks of `keel check --data`, one table in the order they
 * run (see check_data.h). */
#include "run/check_data.h"

#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "plugin/host.h"
#include "train/train.h"

/* What the checks share: the configuration, the declared schemas and
 * what the data revealed (filled by "read"). */
typedef struct data_ctx {
  const keel_run_config *cfg;
  const keel_stage_schemas *schemas;
  const keel_host *host;
  keel_host_context *hctx;
  keel_prepared data; /* read and split, no transform fitted */
} data_ctx;

/* The source read and split by the run's own pipeline code: actual
 * against declared schema, missing labels, the template's data checks. */
static int check_read(data_ctx *c, char *detail, size_t n, keel_error *err)
{
  int rc = keel_pipeline_read_split(c->cfg, c->host, c->schemas, &c->data, err);
  /* Hash beside parse: bytes that are not the catalogued ones explain a
   * failed read, and fail a good one (data/access.h). */
  const keel_input_record *bad = NULL;
  keel_error herr = {0};
  int hrc = keel_host_context_settle_checked(c->hctx, &bad, &herr);
  if (bad || (!rc && hrc)) {
    *err = herr;
    return hrc;
  }
  if (rc)
    return rc;
  const keel_prepared *p = &c->data;
  const keel_sample_record *s = &p->sample;
  char sampled[48] = "", balanced[64] = "";
  if (s->downsampled)
    snprintf(sampled, sizeof sampled, ", %zu sampled", s->rows_after);
  if (s->rebalanced)
    snprintf(balanced, sizeof balanced, " (re-balanced %s from %zu)",
             s->spec.rebalance == KEEL_REBALANCE_UNDER ? "under" : "over",
             s->train_before);
  snprintf(detail, n,
           "%zu source rows, %zu kept%s; split %zu train%s, %zu valid, "
           "%zu test",
           p->n_source_rows, p->n_source_rows - p->n_dropped, sampled,
           p->part[KEEL_SPLIT_TRAIN].n_rows, balanced,
           p->part[KEEL_SPLIT_VALID].n_rows, p->part[KEEL_SPLIT_TEST].n_rows);
  return KEEL_OK;
}

/* The model and loss built for the class count the data has (logistic
 * serves 2 only): what the trainer does before its first step. */
static int check_class_count(data_ctx *c, char *detail, size_t n,
                             keel_error *err)
{
  int exact = 0;
  size_t width = keel_stage_schemas_model_width(c->schemas, &exact);
  int rc = keel_train_check(c->cfg, width, exact, c->data.n_classes, err);
  if (rc)
    return rc;
  if (c->data.n_classes)
    snprintf(detail, n, "%zu classes, served by [model] %s and [loss] %s",
             c->data.n_classes, c->cfg->model.plugin->desc.name,
             c->cfg->loss.plugin->desc.name);
  else
    snprintf(detail, n, "regression, served by [model] %s and [loss] %s",
             c->cfg->model.plugin->desc.name, c->cfg->loss.plugin->desc.name);
  return KEEL_OK;
}

/* [train] batch_size at most the training rows. */
static int check_batch_size(data_ctx *c, char *detail, size_t n,
                            keel_error *err)
{
  size_t rows = c->data.part[KEEL_SPLIT_TRAIN].n_rows;
  int rc = keel_train_check_batch(c->cfg->train.values, rows, err);
  if (rc)
    return rc;
  snprintf(detail, n, "%lld <= %zu training rows",
           (long long)c->cfg->train.values[KEEL_TRAIN_BATCH_SIZE].i, rows);
  return KEEL_OK;
}

typedef struct data_check {
  const char *name;
  int (*run)(data_ctx *c, char *detail, size_t n, keel_error *err);
} data_check;

/* In order: every later check uses what "read" found. */
static const data_check data_checks[] = {
    {"read", check_read},
    {"class_count", check_class_count},
    {"batch_size", check_batch_size},
};

_Static_assert(sizeof data_checks / sizeof data_checks[0] <=
                   KEEL_DATA_CHECKS_MAX,
               "keel_data_report holds every data check");

int keel_check_data(const keel_run_config *cfg,
                    const keel_stage_schemas *schemas, keel_host_context *hctx,
                    keel_data_report *report, keel_error *err)
{
  memset(report, 0, sizeof *report);
  keel_host host;
  keel_host_bind(&host, hctx);
  data_ctx c = {.cfg = cfg, .schemas = schemas, .host = &host, .hctx = hctx};
  int rc = KEEL_OK;
  for (size_t i = 0; !rc && i < sizeof data_checks / sizeof data_checks[0];
       i++) {
    keel_data_check_result *r = &report->checks[report->n++];
    r->name = data_checks[i].name;
    rc = data_checks[i].run(&c, r->detail, sizeof r->detail, err);
    r->passed = rc == KEEL_OK;
    if (rc)
      r->detail[0] = '\0';
  }
  report->declared = c.data.checks;
  memset(&c.data.checks, 0, sizeof c.data.checks);
  keel_prepared_free(&c.data);
  return rc;
}

void keel_data_report_free(keel_data_report *r)
{
  keel_check_report_free(&r->declared);
}
