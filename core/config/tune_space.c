/* The tuning space (tune_space.h): [tune] and [tune.SECTION] sections of
 * a template chain, base first, then of the manifest. Each later level
 * may only narrow what an earlier one declared; a manifest may not add a
 * parameter (a template may). Values are checked against the plugins'
 * declarations and the template's [ranges.*] by run/tune_check.c, which
 * resolves the configuration at every end of every distribution. */
#include "config/tune_space.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/number.h"
#include "base/params.h"
#include "base/status.h"
#include "config/config_error.h"
#include "config/template.h"
#include "plugin/loader.h"

static const char *const knob_names[] = {
    "objective",   "strategy", "trials", "round_size", "startup",
    "prune_after", "model",    "loss",   "optimizer"};
#define N_KNOBS (sizeof knob_names / sizeof knob_names[0])
#define N_SLOT_KNOBS 3 /* the last three: a choice of plugins */

void keel_tune_space_free(keel_tune_space *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++) {
    free(s->params[i].name);
    free(s->params[i].plugin);
    for (size_t j = 0; j < s->params[i].n_choices; j++)
      free(s->params[i].choices[j]);
    free(s->params[i].choices);
  }
  free(s->params);
  free(s->objective);
  free(s->strategy);
  for (size_t i = 0; i < s->n_files; i++)
    free(s->files[i]);
  free(s->files);
  free(s);
}

static char *trimmed(const char *p, size_t n)
{
  while (n && isspace((unsigned char)*p))
    p++, n--;
  while (n && isspace((unsigned char)p[n - 1]))
    n--;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

static int dist_fail(keel_error *err, const char *file, int line,
                     const char *section, const char *key, const char *value,
                     const char *why)
{
  return keel_config_fail(err, KEEL_EINVAL, file, line,
                          "[%s] %s = %s: %s; expected choice(a, b, ...), "
                          "int(LO, HI), uniform(LO, HI[, steps = N]) or "
                          "loguniform(LO, HI[, steps = N])",
                          section, key, value, why);
}

/* Parses one distribution into p (name and origin set by the caller). */
static int parse_dist(keel_tune_param *p, const char *section, const char *key,
                      const char *value, const char *file, int line,
                      keel_error *err)
{
  static const char *const kinds[] = {"choice", "int", "uniform", "loguniform"};
  size_t n = strcspn(value, "(");
  char *kind = trimmed(value, n);
  if (!kind)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int k = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(kind, kinds[i]) == 0)
      k = i;
  free(kind);
  size_t len = strlen(value);
  if (k < 0 || value[n] != '(' || len < n + 2 || value[len - 1] != ')')
    return dist_fail(err, file, line, section, key, value,
                     "not a distribution");
  p->kind = (keel_tune_kind)k;
  const char *args = value + n + 1, *end = value + len - 1;
  char *parts[64];
  size_t np = 0;
  int rc = KEEL_OK;
  for (const char *a = args; a <= end && np < 64;) {
    const char *c = memchr(a, ',', (size_t)(end - a));
    const char *stop = c ? c : end;
    if (!(parts[np++] = trimmed(a, (size_t)(stop - a)))) {
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
      break;
    }
    a = stop + 1;
    if (!c)
      break;
  }
  for (size_t i = 0; !rc && i < np; i++)
    if (!parts[i][0])
      rc = dist_fail(err, file, line, section, key, value, "an empty argument");
  if (!rc && p->kind == KEEL_TUNE_CHOICE) {
    if (np > 63)
      rc = dist_fail(err, file, line, section, key, value,
                     "more than 63 choices");
    for (size_t i = 0; !rc && i < np; i++)
      for (size_t j = 0; j < i; j++)
        if (strcmp(parts[i], parts[j]) == 0)
          rc = dist_fail(err, file, line, section, key, value,
                         "a choice written twice");
    if (!rc && !(p->choices = calloc(np, sizeof *p->choices)))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < np; i++) {
      p->choices[i] = parts[i];
      parts[i] = NULL;
    }
    if (!rc)
      p->n_choices = np;
  } else if (!rc) {
    size_t want = p->kind == KEEL_TUNE_INT ? 2 : np == 3 ? 3 : 2;
    if (np != want)
      rc = dist_fail(err, file, line, section, key, value,
                     p->kind == KEEL_TUNE_INT ? "int takes exactly LO and HI"
                                              : "expected LO, HI and an "
                                                "optional steps = N");
    if (!rc && (keel_parse_double(parts[0], &p->lo, NULL) ||
                keel_parse_double(parts[1], &p->hi, NULL) || !isfinite(p->lo) ||
                !isfinite(p->hi)))
      rc = dist_fail(err, file, line, section, key, value,
                     "LO and HI must be finite numbers");
    if (!rc && p->lo > p->hi)
      rc = dist_fail(err, file, line, section, key, value, "LO is above HI");
    if (!rc && p->kind == KEEL_TUNE_INT &&
        (p->lo != floor(p->lo) || p->hi != floor(p->hi) || fabs(p->lo) > 9e15 ||
         fabs(p->hi) > 9e15))
      rc = dist_fail(err, file, line, section, key, value,
                     "int bounds must be whole numbers");
    if (!rc && p->kind == KEEL_TUNE_LOGUNIFORM && !(p->lo > 0))
      rc = dist_fail(err, file, line, section, key, value,
                     "loguniform needs 0 < LO");
    if (!rc && np == 3) {
      const char *s = parts[2];
      int64_t steps = 0;
      if (strncmp(s, "steps", 5) != 0)
        rc = 1;
      for (s += 5; !rc && isspace((unsigned char)*s); s++)
        ;
      if (!rc && *s++ != '=')
        rc = 1;
      while (!rc && isspace((unsigned char)*s))
        s++;
      if (!rc &&
          (keel_parse_int64(s, &steps, NULL) || steps < 2 || steps > 100000))
        rc = 1;
      if (rc)
        rc = dist_fail(err, file, line, section, key, value,
                       "the third argument must be steps = N with "
                       "2 <= N <= 100000");
      else
        p->steps = (unsigned)steps;
    }
  }
  for (size_t i = 0; i < np; i++)
    free(parts[i]);
  return rc;
}

static int is_whole(double v)
{
  return v == floor(v);
}

/* Whether distribution `in` lies inside `of`: a choice inside a choice
 * (a subset) or inside an interval (every value a number in it, whole for
 * int); an interval inside an interval of the same kind. */
static int within(const keel_tune_param *in, const keel_tune_param *of)
{
  if (in->kind == KEEL_TUNE_CHOICE) {
    for (size_t i = 0; i < in->n_choices; i++) {
      int found = 0;
      if (of->kind == KEEL_TUNE_CHOICE) {
        for (size_t j = 0; j < of->n_choices; j++)
          found |= strcmp(in->choices[i], of->choices[j]) == 0;
      } else {
        double v;
        found = keel_parse_double(in->choices[i], &v, NULL) == 0 &&
                v >= of->lo && v <= of->hi &&
                (of->kind != KEEL_TUNE_INT || is_whole(v));
      }
      if (!found)
        return 0;
    }
    return 1;
  }
  return in->kind == of->kind && in->lo >= of->lo && in->hi <= of->hi;
}

static void dist_text(const keel_tune_param *p, keel_buf *b)
{
  static const char *const kinds[] = {"choice", "int", "uniform", "loguniform"};
  keel_buf_printf(b, "%s(", kinds[p->kind]);
  if (p->kind == KEEL_TUNE_CHOICE)
    for (size_t i = 0; i < p->n_choices; i++)
      keel_buf_printf(b, "%s%s", i ? ", " : "", p->choices[i]);
  else if (p->kind == KEEL_TUNE_INT)
    keel_buf_printf(b, "%.0f, %.0f", p->lo, p->hi);
  else {
    char lo[32], hi[32];
    keel_format_double(p->lo, lo, sizeof lo);
    keel_format_double(p->hi, hi, sizeof hi);
    keel_buf_printf(b, "%s, %s", lo, hi);
  }
  keel_buf_printf(b, ")");
}

char *keel_tune_param_text(const keel_tune_param *p)
{
  keel_buf b = KEEL_BUF_INIT;
  dist_text(p, &b);
  if (p->steps)
    keel_buf_printf(&b, " steps %u", p->steps);
  return keel_buf_take(&b);
}

/* The override a [tune.SECTION] key sets: "train.batch_size" for
 * [tune.train], "optimizer.lr" for [tune.optimizer.adam]; the slot's
 * "KIND.plugin" for a [tune] model/loss/optimizer key. */
static char *param_name(const char *section, const char *key)
{
  keel_buf b = KEEL_BUF_INIT;
  if (strcmp(section, "tune") == 0)
    keel_buf_printf(&b, "%s.plugin", key);
  else {
    const char *rest = section + 5;
    keel_buf_printf(&b, "%.*s.%s", (int)strcspn(rest, "."), rest, key);
  }
  return keel_buf_take(&b);
}

int keel__tune_check_section(const keel_ini *ini, const keel_ini_section *sec,
                             int *is_tune, keel_error *err)
{
  const char *n = sec->name;
  *is_tune = strcmp(n, "tune") == 0 || strncmp(n, "tune.", 5) == 0;
  if (!*is_tune)
    return KEEL_OK;
  if (strcmp(n, "tune.data") == 0)
    return keel_config_fail(err, KEEL_EINVAL, ini->path, sec->line,
                            "[%s]: the data's split is not tuned (a sweep "
                            "compares trials on one split); expected "
                            "[tune], [tune.train] or [tune.KIND.PLUGIN]",
                            n);
  if (strncmp(n, "tune.", 5) == 0 && strcmp(n, "tune.train") != 0) {
    const char *rest = n + 5, *dot = strchr(rest, '.');
    char kind[16] = "";
    if (dot && (size_t)(dot - rest) < sizeof kind)
      memcpy(kind, rest, (size_t)(dot - rest));
    int k = keel_kind_from_name(kind);
    if (!dot || !dot[1] ||
        (k != KEEL_KIND_MODEL && k != KEEL_KIND_LOSS &&
         k != KEEL_KIND_OPTIMIZER))
      return keel_config_fail(
          err, KEEL_EINVAL, ini->path, sec->line,
          "[%s]: unknown section; expected [tune], [tune.train] or "
          "[tune.KIND.PLUGIN] with KIND model, loss or optimizer "
          "(such as [tune.optimizer.adam])",
          n);
  }
  for (size_t i = 0; i < sec->n_entries; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    int knob = -1;
    for (size_t j = 0; strcmp(n, "tune") == 0 && j < N_KNOBS; j++)
      if (strcmp(e->key, knob_names[j]) == 0)
        knob = (int)j;
    if (strcmp(n, "tune") == 0 && knob < 0)
      return keel__template_check_keys(ini, sec, knob_names, N_KNOBS, err);
    if (knob >= 0 && knob < (int)(N_KNOBS - N_SLOT_KNOBS))
      continue; /* knobs are read by keel_tune_space_read */
    keel_tune_param p = {0};
    int rc = parse_dist(&p, n, e->key, e->value, ini->path, e->line, err);
    for (size_t j = 0; j < p.n_choices; j++)
      free(p.choices[j]);
    free(p.choices);
    if (rc)
      return rc;
    if (knob >= 0 && p.kind != KEEL_TUNE_CHOICE)
      return keel_config_fail(err, KEEL_EINVAL, ini->path, e->line,
                              "[tune] %s = %s: a slot's plugin is tuned by "
                              "choice(PLUGIN, ...)",
                              e->key, e->value);
  }
  return KEEL_OK;
}

/* ---- reading a space ---------------------------------------------------- */

typedef struct reader {
  keel_tune_space *s;
  size_t cap;
  size_t sections; /* [tune*] sections seen */
  keel_error *err;
} reader;

static const char *keep_file(reader *r, const char *path)
{
  for (size_t i = 0; i < r->s->n_files; i++)
    if (strcmp(r->s->files[i], path) == 0)
      return r->s->files[i];
  char **grown = realloc(r->s->files, (r->s->n_files + 1) * sizeof *grown);
  if (!grown)
    return NULL;
  r->s->files = grown;
  return grown[r->s->n_files] = strdup(path),
         grown[r->s->n_files] ? grown[r->s->n_files++] : NULL;
}

static keel_tune_param *find(keel_tune_space *s, const char *name,
                             const char *plugin)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->params[i].name, name) == 0 &&
        !s->params[i].plugin == !plugin &&
        (!plugin || strcmp(s->params[i].plugin, plugin) == 0))
      return &s->params[i];
  return NULL;
}

static int read_knob(reader *r, const keel_ini *ini, const keel_ini_entry *e)
{
  keel_tune_space *s = r->s;
  const char *v = e->value;
  if (strcmp(e->key, "objective") == 0) {
    size_t n = strcspn(v, " \t");
    const char *dir = v + n;
    while (*dir == ' ' || *dir == '\t')
      dir++;
    if (!n || (strcmp(dir, "max") != 0 && strcmp(dir, "min") != 0))
      return keel_config_fail(r->err, KEEL_EINVAL, ini->path, e->line,
                              "[tune] objective = %s: expected a metric and "
                              "max or min, such as 'valid.accuracy max' or "
                              "'valid.rmse min'",
                              v);
    free(s->objective);
    if (!(s->objective = trimmed(v, n)) ||
        !(s->objective_file = keep_file(r, ini->path)))
      return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    s->objective_line = e->line;
    s->maximize = strcmp(dir, "max") == 0;
    return KEEL_OK;
  }
  if (strcmp(e->key, "strategy") == 0) {
    if (strcmp(v, "grid") && strcmp(v, "random") && strcmp(v, "tpe"))
      return keel_config_fail(r->err, KEEL_EINVAL, ini->path, e->line,
                              "[tune] strategy = %s: expected grid, random "
                              "or tpe",
                              v);
    free(s->strategy);
    return (s->strategy = strdup(v))
               ? KEEL_OK
               : keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  }
  int64_t n = 0;
  int zero_ok = strcmp(e->key, "prune_after") == 0;
  if (keel_parse_int64(v, &n, NULL) || n < (zero_ok ? 0 : 1) || n > 1000000)
    return keel_config_fail(r->err, KEEL_EINVAL, ini->path, e->line,
                            "[tune] %s = %s: expected a whole number from %d "
                            "to 1000000",
                            e->key, v, zero_ok ? 0 : 1);
  unsigned *slot = strcmp(e->key, "trials") == 0       ? &s->trials
                   : strcmp(e->key, "round_size") == 0 ? &s->round_size
                   : strcmp(e->key, "startup") == 0    ? &s->startup
                                                       : &s->prune_after;
  *slot = (unsigned)n;
  return KEEL_OK;
}

/* One parameter entry of one level. A manifest (may_add 0) may only
 * narrow; a template may also add. */
static int read_param(reader *r, const keel_ini *ini, const char *section,
                      const keel_ini_entry *e, int may_add)
{
  keel_tune_param p = {.parent = -1};
  p.name = param_name(section, e->key);
  if (strncmp(section, "tune.", 5) == 0 && strcmp(section, "tune.train") != 0)
    p.plugin = strdup(strchr(section + 5, '.') + 1);
  if (!p.name || (strncmp(section, "tune.", 5) == 0 &&
                  strcmp(section, "tune.train") != 0 && !p.plugin))
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  p.file = keep_file(r, ini->path);
  p.line = e->line;
  int rc = p.file ? parse_dist(&p, section, e->key, e->value, ini->path,
                               e->line, r->err)
                  : keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  keel_tune_param *old = rc ? NULL : find(r->s, p.name, p.plugin);
  if (!rc && !old && !may_add)
    rc = keel_config_fail(r->err, KEEL_EINVAL, ini->path, e->line,
                          "[%s] %s: the template declares no such tuned "
                          "parameter (%s); a manifest may narrow the "
                          "template's [tune] space, never widen it",
                          section, e->key, p.name);
  if (!rc && old && !within(&p, old)) {
    keel_buf b = KEEL_BUF_INIT;
    dist_text(old, &b);
    rc = keel_config_fail(r->err, KEEL_EINVAL, ini->path, e->line,
                          "[%s] %s = %s is not inside %s (%s:%d); a "
                          "later level may narrow a tuned parameter, never "
                          "widen it",
                          section, e->key, e->value,
                          b.failed ? "?" : (const char *)b.data, old->file,
                          old->line);
    keel_buf_free(&b);
  }
  if (!rc && old) {
    /* replace in place: the narrower distribution, its origin */
    for (size_t j = 0; j < old->n_choices; j++)
      free(old->choices[j]);
    free(old->choices);
    free(old->name);
    free(old->plugin);
    *old = p;
    return KEEL_OK;
  }
  if (!rc && r->s->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 8;
    keel_tune_param *grown = realloc(r->s->params, cap * sizeof *grown);
    if (!grown)
      rc = keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    else {
      r->s->params = grown;
      r->cap = cap;
    }
  }
  if (!rc) {
    r->s->params[r->s->n++] = p;
    return KEEL_OK;
  }
  for (size_t j = 0; j < p.n_choices; j++)
    free(p.choices[j]);
  free(p.choices);
  free(p.name);
  free(p.plugin);
  return rc;
}

static int read_level(reader *r, const keel_ini *ini, int may_add)
{
  for (size_t i = 0; i < ini->n_sections; i++) {
    const keel_ini_section *sec = &ini->sections[i];
    int is_tune = 0;
    int rc = keel__tune_check_section(ini, sec, &is_tune, r->err);
    if (rc)
      return rc;
    r->sections += (size_t)is_tune;
    for (size_t j = 0; is_tune && j < sec->n_entries; j++) {
      const keel_ini_entry *e = &sec->entries[j];
      int knob = 0;
      for (size_t k = 0;
           strcmp(sec->name, "tune") == 0 && k < N_KNOBS - N_SLOT_KNOBS; k++)
        knob |= strcmp(e->key, knob_names[k]) == 0;
      rc = knob ? read_knob(r, ini, e)
                : read_param(r, ini, sec->name, e, may_add);
      if (rc)
        return rc;
    }
  }
  return KEEL_OK;
}

/* Slot choices first, each conditional parameter after its parent, and
 * a [tune.KIND.PLUGIN] whose plugin the run can never choose dropped (a
 * template's: it tunes plugins this manifest does not use) or refused (a
 * manifest's). */
static int link_conditions(reader *r, const keel_run_config *cfg,
                           const char *manifest_path)
{
  keel_tune_space *s = r->s;
  keel_tune_param *sorted = calloc(s->n ? s->n : 1, sizeof *sorted);
  if (!sorted)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  size_t n = 0, n_parents;
  for (size_t i = 0; i < s->n; i++)
    if (!s->params[i].plugin && strcmp(s->params[i].name, "train.") != 0 &&
        strncmp(s->params[i].name, "train.", 6) != 0)
      sorted[n++] = s->params[i];
  n_parents = n;
  int rc = KEEL_OK;
  for (size_t i = 0; i < s->n; i++) {
    keel_tune_param p = s->params[i];
    if (!p.plugin && strncmp(p.name, "train.", 6) != 0)
      continue; /* a slot's choice, placed above */
    int from_manifest = strcmp(p.file, manifest_path) == 0, keep = 1;
    if (p.plugin) {
      size_t klen = strcspn(p.name, ".");
      keel_buf slot = KEEL_BUF_INIT;
      keel_buf_printf(&slot, "%.*s.plugin", (int)klen, p.name);
      if (slot.failed) {
        rc = keel_fail(r->err, KEEL_ENOMEM, "out of memory");
        break;
      }
      const keel_tune_param *parent = NULL;
      size_t pi = 0;
      for (size_t j = 0; j < n_parents; j++)
        if (strcmp(sorted[j].name, (const char *)slot.data) == 0)
          parent = &sorted[pi = j];
      keel_buf_free(&slot);
      const keel_stage *st = klen == 5 && !strncmp(p.name, "model", 5)
                                 ? &cfg->model
                             : klen == 4 ? &cfg->loss
                                         : &cfg->optimizer;
      if (parent) {
        keep = 0;
        for (size_t c = 0; c < parent->n_choices; c++)
          if (strcmp(parent->choices[c], p.plugin) == 0) {
            p.parent = (int)pi;
            p.parent_choice = c;
            keep = 1;
          }
      } else
        keep = st->plugin && strcmp(st->plugin->desc.name, p.plugin) == 0;
      if (!keep && from_manifest) {
        rc = keel_config_fail(
            r->err, KEEL_EINVAL, p.file, p.line,
            "[tune.%.*s.%s] %s: no trial can use plugin %s (%s); "
            "expected a plugin the manifest's [%.*s] names or [tune] "
            "%.*s = choice(...) offers",
            (int)klen, p.name, p.plugin, p.name + klen + 1, p.plugin,
            parent ? "it is not among the slot's choices"
                   : "the manifest uses another",
            (int)klen, p.name, (int)klen, p.name);
        keep = 0;
      }
    }
    if (keep)
      sorted[n++] = p;
    else {
      for (size_t j = 0; j < p.n_choices; j++)
        free(p.choices[j]);
      free(p.choices);
      free(p.name);
      free(p.plugin);
    }
    if (rc) {
      /* what is left unplaced is freed here; placed ones by the space */
      for (size_t k = i + 1; k < s->n; k++) {
        keel_tune_param *q = &s->params[k];
        if (!q->plugin && strncmp(q->name, "train.", 6) != 0)
          continue;
        for (size_t j = 0; j < q->n_choices; j++)
          free(q->choices[j]);
        free(q->choices);
        free(q->name);
        free(q->plugin);
      }
      break;
    }
  }
  free(s->params);
  s->params = sorted;
  s->n = n;
  return rc;
}

static void param_free(keel_tune_param *p)
{
  for (size_t j = 0; j < p->n_choices; j++)
    free(p->choices[j]);
  free(p->choices);
  free(p->name);
  free(p->plugin);
}

/* A manifest that names tuned parameters tunes exactly those (each within
 * the template's); the others keep the values the run resolves. One that
 * names none tunes the template's whole space. */
static void only_named(keel_tune_space *s, const char *manifest_path)
{
  size_t named = 0, n = 0;
  for (size_t i = 0; i < s->n; i++)
    named += strcmp(s->params[i].file, manifest_path) == 0;
  if (!named)
    return;
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->params[i].file, manifest_path) == 0)
      s->params[n++] = s->params[i];
    else
      param_free(&s->params[i]);
  }
  s->n = n;
}

int keel_tune_space_read(const keel_run_config *cfg, const keel_ini *manifest,
                         keel_tune_space **out, keel_error *err)
{
  *out = NULL;
  keel_tune_space *s = calloc(1, sizeof *s);
  if (!s)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  s->trials = 20;
  s->round_size = 4;
  s->startup = 10;
  reader r = {.s = s, .err = err};
  int rc = KEEL_OK;
  /* the chain, base first: each level narrows or adds */
  for (size_t i = cfg->n_chain; !rc && i-- > 0;) {
    keel_ini *ini = NULL;
    const keel_template_file *f = &cfg->chain[i];
    rc = keel_ini_parse_buffer(f->path, f->text, strlen(f->text), &ini, err);
    if (!rc)
      rc = read_level(&r, ini, 1);
    keel_ini_free(ini);
  }
  if (!rc)
    rc = read_level(&r, manifest, 0);
  if (!rc)
    only_named(s, manifest->path);
  if (!rc && !r.sections)
    rc = keel_fail(err, KEEL_ENOTFOUND,
                   "%s: neither the manifest nor its template has a [tune] "
                   "section; docs/tuning.md says how to declare a space",
                   manifest->path);
  if (!rc)
    rc = link_conditions(&r, cfg, manifest->path);
  if (!rc && !s->strategy && !(s->strategy = strdup("tpe")))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc && !s->objective)
    rc = keel_config_fail(
        err, KEEL_EINVAL, manifest->path, 1,
        "no [tune] objective in the manifest or its template; expected "
        "such as 'objective = valid.accuracy max'");
  if (!rc && !s->n)
    rc = keel_config_fail(err, KEEL_EINVAL, manifest->path, 1,
                          "nothing to tune: neither the manifest nor its "
                          "template declares a [tune] or [tune.SECTION] "
                          "parameter this run can use");
  if (rc) {
    keel_tune_space_free(s);
    return rc;
  }
  *out = s;
  return KEEL_OK;
}

json_t *keel_tune_space_json(const keel_tune_space *s)
{
  static const char *const kinds[] = {"choice", "int", "uniform", "loguniform"};
  json_t *root = json_object(), *params = json_array();
  json_object_set_new(root, "objective", json_string(s->objective));
  json_object_set_new(root, "direction",
                      json_string(s->maximize ? "max" : "min"));
  json_object_set_new(root, "strategy", json_string(s->strategy));
  json_object_set_new(root, "trials", json_integer(s->trials));
  json_object_set_new(root, "round_size", json_integer(s->round_size));
  json_object_set_new(root, "startup", json_integer(s->startup));
  json_object_set_new(root, "prune_after", json_integer(s->prune_after));
  for (size_t i = 0; i < s->n; i++) {
    const keel_tune_param *p = &s->params[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "plugin",
                        p->plugin ? json_string(p->plugin) : json_null());
    json_object_set_new(o, "distribution", json_string(kinds[p->kind]));
    if (p->kind == KEEL_TUNE_CHOICE) {
      json_t *c = json_array();
      for (size_t j = 0; j < p->n_choices; j++)
        json_array_append_new(c, json_string(p->choices[j]));
      json_object_set_new(o, "choices", c);
    } else {
      json_object_set_new(o, "low", json_real(p->lo));
      json_object_set_new(o, "high", json_real(p->hi));
      json_object_set_new(o, "steps",
                          p->steps ? json_integer(p->steps) : json_null());
    }
    if (p->parent >= 0) {
      const keel_tune_param *q = &s->params[p->parent];
      json_t *w = json_object();
      json_object_set_new(w, "name", json_string(q->name));
      json_object_set_new(w, "value",
                          json_string(q->choices[p->parent_choice]));
      json_object_set_new(o, "when", w);
    } else
      json_object_set_new(o, "when", json_null());
    json_array_append_new(params, o);
  }
  json_object_set_new(root, "params", params);
  return root;
}
