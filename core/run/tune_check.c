/* Proving a tuning space (tune_check.h) with the resolver itself: the
 * values at the ends of every distribution go through keel_config_load as
 * overrides, so the rules are exactly a run's (type, plugin range,
 * template range, allow list), with its messages. Ranges are intervals
 * or sets, so the ends (and every choice) are enough. */
#include "run/tune_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/params.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/load.h"
#include "plugin/loader.h"

void keel_tune_value_text(const keel_tune_param *p, double x, char buf[64])
{
  if (p->kind == KEEL_TUNE_CHOICE) {
    size_t i = x >= 0 && (size_t)x < p->n_choices ? (size_t)x : 0;
    snprintf(buf, 64, "%s", p->choices[i]);
    return;
  }
  if (p->kind == KEEL_TUNE_INT) {
    snprintf(buf, 64, "%.0f", x);
    return;
  }
  keel_format_double(x, buf, 64);
}

void keel_tune_overrides_free(char **o, size_t n)
{
  for (size_t i = 0; o && i < n; i++)
    free(o[i]);
  free(o);
}

char **keel_tune_overrides(const keel_tune_space *s, const double *x, size_t *n)
{
  char **o = calloc(s->n ? s->n : 1, sizeof *o);
  *n = 0;
  for (size_t i = 0; o && i < s->n; i++) {
    if (isnan(x[i]))
      continue;
    char v[64];
    keel_tune_value_text(&s->params[i], x[i], v);
    size_t len = strlen(s->params[i].name) + strlen(v) + 2;
    if (!(o[*n] = malloc(len))) {
      keel_tune_overrides_free(o, *n);
      return NULL;
    }
    snprintf(o[(*n)++], len, "%s=%s", s->params[i].name, v);
  }
  return o;
}

int keel_tune_objective_check(const keel_run_config *cfg, const char *metric,
                              keel_error *err)
{
  static const char *const cls[] = {"loss", "accuracy", "macro_f1"};
  static const char *const reg[] = {"loss", "rmse", "mae", "r2"};
  int regression = cfg->task == KEEL_TASK_REGRESSION;
  const char *const *names = regression ? reg : cls;
  size_t n_names = regression ? 4 : 3;
  double vf = cfg->data.values ? cfg->data.values[KEEL_DATA_VALID_FRACTION].f
                               : 0.2,
         tf = cfg->data.values ? cfg->data.values[KEEL_DATA_TEST_FRACTION].f
                               : 0.0;
  const char *splits[3] = {"train", vf > 0 ? "valid" : NULL,
                           tf > 0 ? "test" : NULL};
  char have[512] = "";
  size_t used = 0;
  for (size_t s = 0; s < 3; s++)
    for (size_t m = 0; splits[s] && m < n_names; m++) {
      char name[64];
      snprintf(name, sizeof name, "%s.%s", splits[s], names[m]);
      if (strcmp(name, metric) == 0)
        return KEEL_OK;
      used += (size_t)snprintf(have + used, sizeof have - used, "%s%s",
                               used ? ", " : "", name);
      if (used >= sizeof have)
        used = sizeof have - 1;
    }
  return keel_fail(err, KEEL_EINVAL,
                   "objective '%s' is not a metric this %s run reports; "
                   "expected one of %s",
                   metric, regression ? "regression" : "classification", have);
}

/* Resolves the manifest with the load's overrides, then `extra`. */
static int probe(const keel_tune_load *load, const char *const *extra,
                 size_t n_extra, keel_error *err)
{
  size_t n = load->n_overrides + n_extra;
  const char **all = calloc(n ? n : 1, sizeof *all);
  if (!all)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < load->n_overrides; i++)
    all[i] = load->overrides[i];
  for (size_t i = 0; i < n_extra; i++)
    all[load->n_overrides + i] = extra[i];
  keel_registry *reg = NULL;
  keel_run_config *cfg = NULL;
  int rc =
      keel_config_load(load->manifest_path, all, n, load->plugin_paths,
                       load->n_plugin_paths, load->only_explicit_paths,
                       load->template_path, load->catalog, &reg, &cfg, err);
  keel_run_config_free(cfg);
  keel_registry_destroy(reg);
  free(all);
  return rc;
}

/* The probes of parameter i at value x: its ancestors set to the choices
 * that activate it, then i itself. */
static int probe_value(const keel_tune_space *s, size_t i, double x,
                       const keel_tune_load *load, keel_error *err)
{
  double *point = malloc((s->n ? s->n : 1) * sizeof *point);
  if (!point)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t j = 0; j < s->n; j++)
    point[j] = NAN;
  point[i] = x;
  for (int p = s->params[i].parent, c = (int)i; p >= 0;
       c = p, p = s->params[p].parent)
    point[p] = (double)s->params[c].parent_choice;
  size_t n = 0;
  char **o = keel_tune_overrides(s, point, &n);
  free(point);
  if (!o)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_error inner = {0};
  int rc = probe(load, (const char *const *)o, n, &inner);
  keel_tune_overrides_free(o, n);
  if (!rc)
    return KEEL_OK;
  if (rc == KEEL_ENOMEM)
    return keel_fail(err, rc, "out of memory");
  const keel_tune_param *p = &s->params[i];
  char v[64];
  keel_tune_value_text(p, x, v);
  char *dist = keel_tune_param_text(p);
  rc = keel_config_fail(err, rc == KEEL_ERANGE ? KEEL_ERANGE : KEEL_EINVAL,
                        p->file, p->line,
                        "%s = %s: the value %s is not one a run accepts: %s",
                        p->name, dist ? dist : "?", v, inner.message);
  free(dist);
  return rc;
}

int keel_tune_space_check(const keel_tune_space *s, const keel_tune_load *load,
                          const keel_run_config *cfg, keel_error *err)
{
  keel_error inner = {0};
  int rc = keel_tune_objective_check(cfg, s->objective, &inner);
  if (rc)
    return keel_config_fail(err, KEEL_EINVAL, s->objective_file,
                            s->objective_line, "[tune] %s", inner.message);
  for (size_t i = 0; i < s->n && !rc; i++) {
    const keel_tune_param *p = &s->params[i];
    if (p->kind == KEEL_TUNE_CHOICE)
      for (size_t c = 0; c < p->n_choices && !rc; c++)
        rc = probe_value(s, i, (double)c, load, err);
    else {
      rc = probe_value(s, i, p->lo, load, err);
      if (!rc && p->hi != p->lo)
        rc = probe_value(s, i, p->hi, load, err);
    }
  }
  return rc;
}

int keel_tune_space_load(const keel_tune_load *load, const keel_run_config *cfg,
                         keel_tune_space **out, int *manifest_declares,
                         keel_error *err)
{
  *out = NULL;
  *manifest_declares = 0;
  keel_ini *ini = NULL;
  int rc = keel_ini_parse_file(load->manifest_path, &ini, err);
  for (size_t i = 0; !rc && i < ini->n_sections; i++) {
    const char *n = ini->sections[i].name;
    *manifest_declares |= strcmp(n, "tune") == 0 || strncmp(n, "tune.", 5) == 0;
  }
  keel_tune_space *s = NULL;
  if (!rc)
    rc = keel_tune_space_read(cfg, ini, &s, err);
  if (!rc)
    rc = keel_tune_space_check(s, load, cfg, err);
  keel_ini_free(ini);
  if (rc == KEEL_ENOTFOUND && !s) {
    *err = (keel_error){0};
    return KEEL_OK; /* nothing declares a space */
  }
  if (rc)
    keel_tune_space_free(s);
  else
    *out = s;
  return rc;
}
