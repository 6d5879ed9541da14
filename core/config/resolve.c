/* Resolution of a run configuration (see resolve.h). */
#include "config/resolve.h"
#include "base/path.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/params.h"
#include "base/semver.h"
#include "base/status.h"
#include "config/config_error.h"

typedef struct ovr {
  char *text, *section, *key, *value;
  int used;
} ovr;

typedef struct rctx {
  const keel_manifest *m;
  const keel_template *t;
  const keel_registry *reg;
  ovr *ovr;
  size_t n_ovr;
  keel_run_config *cfg;
  keel_error *err;
  const keel_catalog_choice *catalog; /* where datasets are looked up */
  /* While resolving a [source] that names a dataset: its entry, whose
   * path and options form the catalog layer of resolve_params. */
  const keel_dataset *ds;
} rctx;

/* A composed message's text, or what to say when composing it failed. */
static const char *buf_text(const keel_buf *b)
{
  return b->failed || !b->data ? "(out of memory)" : (const char *)b->data;
}

/* Fails at the place a value came from: "command line: override 'TEXT':
 * " when override_text is set, else "FILE:LINE: " (nothing when file is
 * NULL too). The message is composed once in a growable buffer, so a long
 * plugin message is never cut short by an intermediate fixed buffer. */
static int where_fail(keel_error *err, int code, const char *override_text,
                      const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int where_fail(keel_error *err, int code, const char *override_text,
                      const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (!override_text) {
    int rc = keel_config_vfail(err, code, file, line, fmt, ap);
    va_end(ap);
    return rc;
  }
  keel_buf what = KEEL_BUF_INIT;
  keel_buf_vprintf(&what, fmt, ap);
  va_end(ap);
  int rc =
      keel_config_fail(err, code, NULL, 0, "command line: override '%s': %s",
                       override_text, buf_text(&what));
  keel_buf_free(&what);
  return rc;
}

int keel_override_split(const char *text, char **section, char **key,
                        char **value, keel_error *err)
{
  *section = *key = *value = NULL;
  const char *eq = strchr(text, '=');
  const char *dot = NULL;
  if (eq)
    for (const char *p = text; p < eq; p++)
      if (*p == '.')
        dot = p;
  if (!eq || !dot || dot == text || dot + 1 == eq)
    return keel_fail(err, KEEL_EINVAL,
                     "command line: override '%s' is malformed; expected "
                     "SECTION.KEY=VALUE such as optimizer.lr=0.01",
                     text);
  for (const char *p = text; p < eq; p++)
    if (*p == ' ' || *p == '\t')
      return keel_fail(err, KEEL_EINVAL,
                       "command line: override '%s': blank in the name; "
                       "expected SECTION.KEY=VALUE",
                       text);
  *section = strndup(text, (size_t)(dot - text));
  *key = strndup(dot + 1, (size_t)(eq - dot - 1));
  *value = strdup(eq + 1);
  if (!*section || !*key || !*value) {
    free(*section);
    free(*key);
    free(*value);
    *section = *key = *value = NULL;
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  return 0;
}

static const ovr *find_override(rctx *r, const char *section, const char *key)
{
  for (size_t i = 0; i < r->n_ovr; i++)
    if (strcmp(r->ovr[i].section, section) == 0 &&
        strcmp(r->ovr[i].key, key) == 0) {
      r->ovr[i].used = 1;
      return &r->ovr[i];
    }
  return NULL;
}

static char *where_text(const char *path, int line)
{
  const char *base = keel_path_basename(path);
  size_t n = strlen(base) + 24;
  char *w = malloc(n);
  if (w)
    snprintf(w, n, "%s:%d", base, line);
  return w;
}

/* Drops a leading "TYPE NAME: " that params.c puts before its messages,
 * since our prefix names the key already. */
static const char *param_msg(const keel_param_decl *d, const char *msg)
{
  char head[96];
  snprintf(head, sizeof head, "%s %s: ", keel_param_type_name(d->type),
           d->name);
  size_t n = strlen(head);
  return strncmp(msg, head, n) == 0 ? msg + n : msg;
}

/* A narrowed range from the template: numeric [lo, hi] or an enum subset. */
typedef struct narrow {
  int set;
  double lo, hi;
  unsigned long long choices; /* enum: bit i = choice i allowed */
  int line;
  const char *text;
  const char *file;  /* the template file that holds it */
  const char *owner; /* and that template's name */
} narrow;

static int count_choices(const keel_param_decl *d)
{
  int n = 0;
  while (d->choices && d->choices[n])
    n++;
  return n;
}

static int parse_narrow(rctx *r, const char *section, const char *path,
                        const char *who, const keel_param_decl *d,
                        const keel_ini_entry *e, narrow *out)
{
  out->set = 1;
  out->file = path;
  out->line = e->line;
  out->text = e->value;
  out->lo = d->min;
  out->hi = d->max;
  if (d->type == KEEL_PARAM_ENUM) {
    int nc = count_choices(d);
    char *copy = strdup(e->value);
    if (!copy)
      return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    char *save = NULL;
    out->choices = 0;
    int rc = 0;
    for (char *tok = strtok_r(copy, "|", &save); tok;
         tok = strtok_r(NULL, "|", &save)) {
      while (*tok == ' ' || *tok == '\t')
        tok++;
      size_t n = strlen(tok);
      while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        tok[--n] = '\0';
      int k;
      for (k = 0; k < nc && k < 64; k++)
        if (strcmp(d->choices[k], tok) == 0)
          break;
      if (k == nc || k >= 64) {
        rc = keel_config_fail(
            r->err, KEEL_EINVAL, path, e->line,
            "[%s] %s: '%s' is not a choice of %s; a template "
            "may only narrow the choices (expected a subset like "
            "'a | b')",
            section, d->name, tok, who);
        break;
      }
      out->choices |= 1ull << k;
    }
    free(copy);
    if (!rc && out->choices == 0)
      rc = keel_config_fail(r->err, KEEL_EINVAL, path, e->line,
                            "[%s] %s: empty choice list; expected 'a | b'",
                            section, d->name);
    return rc;
  }
  if (d->type != KEEL_PARAM_INT && d->type != KEEL_PARAM_FLOAT &&
      d->type != KEEL_PARAM_INT_LIST)
    return keel_config_fail(
        r->err, KEEL_EINVAL, path, e->line,
        "[%s] %s: a %s parameter has no range; expected "
        "ranges only for int, float, int_list and enum parameters",
        section, d->name, keel_param_type_name(d->type));
  const char *dots = strstr(e->value, "..");
  char lo_s[64], hi_s[64];
  int ok = dots != NULL;
  if (ok) {
    const char *a = e->value;
    while (*a == ' ')
      a++;
    size_t alen = (size_t)(dots - a);
    while (alen && a[alen - 1] == ' ')
      alen--;
    const char *b = dots + 2;
    while (*b == ' ')
      b++;
    size_t blen = strlen(b);
    while (blen && b[blen - 1] == ' ')
      blen--;
    ok = alen && blen && alen < sizeof lo_s && blen < sizeof hi_s;
    if (ok) {
      snprintf(lo_s, sizeof lo_s, "%.*s", (int)alen, a);
      snprintf(hi_s, sizeof hi_s, "%.*s", (int)blen, b);
      ok = keel_parse_double(lo_s, &out->lo, NULL) == 0 &&
           keel_parse_double(hi_s, &out->hi, NULL) == 0 && out->lo <= out->hi;
    }
  }
  if (!ok)
    return keel_config_fail(r->err, KEEL_EINVAL, path, e->line,
                            "[%s] %s: '%s' is not a range; expected 'LO .. HI' "
                            "with LO <= HI",
                            section, d->name, e->value);
  if (out->lo < d->min || out->hi > d->max)
    return keel_config_fail(r->err, KEEL_EINVAL, path, e->line,
                            "[%s] %s: %g .. %g is wider than %s's range %g .. "
                            "%g; expected a template range inside the plugin's",
                            section, d->name, out->lo, out->hi, who, d->min,
                            d->max);
  return 0;
}

/* Refuses keys in a template/manifest section that are not declared. */
static int check_unknown_keys(rctx *r, const char *path,
                              const keel_ini_section *sec,
                              const keel_param_decl *decls, size_t n,
                              const char *who, int allow_plugin_key)
{
  if (!sec)
    return 0;
  const char **names = calloc(n + 1, sizeof *names);
  if (!names)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    names[i] = decls[i].name;
  int rc = 0;
  for (size_t i = 0; i < sec->n_entries && !rc; i++) {
    const keel_ini_entry *e = &sec->entries[i];
    if (allow_plugin_key && strcmp(e->key, "plugin") == 0)
      continue;
    if (allow_plugin_key && r->ds && strcmp(e->key, "dataset") == 0)
      continue;
    size_t j;
    for (j = 0; j < n; j++)
      if (strcmp(e->key, decls[j].name) == 0)
        break;
    if (j < n)
      continue;
    const char *dym = keel_did_you_mean(e->key, names, n);
    if (dym)
      rc = keel_config_fail(r->err, KEEL_EINVAL, path, e->line,
                            "[%s] key '%s' is not a parameter of %s; did you "
                            "mean '%s'?",
                            sec->name, e->key, who, dym);
    else {
      char list[256] = "";
      for (size_t k = 0; k < n; k++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                 names[k]);
      }
      rc = keel_config_fail(r->err, KEEL_EINVAL, path, e->line,
                            "[%s] key '%s' is not a parameter of %s; expected "
                            "one of: %s",
                            sec->name, e->key, who,
                            n ? list : "(none: it takes no parameters)");
    }
  }
  free(names);
  return rc;
}

/* One layer that sets a value. */
typedef struct layer {
  const char *text;
  keel_origin origin;
  const char *file; /* for messages, NULL for the command line */
  int line;
  const char *override_text;
} layer;

/* Fails at layer l: "WHERE: [SECTION] KEY: WHAT". */
static int layer_fail(rctx *r, const layer *l, const char *section,
                      const keel_param_decl *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int layer_fail(rctx *r, const layer *l, const char *section,
                      const keel_param_decl *d, int code, const char *fmt, ...)
{
  keel_buf what = KEEL_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  keel_buf_vprintf(&what, fmt, ap);
  va_end(ap);
  int rc = where_fail(
      r->err, code, l->origin == KEEL_ORIGIN_OVERRIDE ? l->override_text : NULL,
      l->file, l->line, "[%s] %s: %s%s", section, d->name,
      l->origin == KEEL_ORIGIN_PLUGIN_DEFAULT ? "declared default: " : "",
      buf_text(&what));
  keel_buf_free(&what);
  return rc;
}

/* Appends "an integer in [1, 100]", "one of: a | b", ... for messages. */
static void expected_text(const keel_param_decl *d, keel_buf *b)
{
  const char *what = "a value";
  switch (d->type) {
  case KEEL_PARAM_BOOL: keel_buf_printf(b, "true or false"); return;
  case KEEL_PARAM_INT: what = "an integer"; break;
  case KEEL_PARAM_FLOAT: what = "a finite number"; break;
  case KEEL_PARAM_INT_LIST: what = "comma-separated integers, each"; break;
  case KEEL_PARAM_STRING: keel_buf_printf(b, "text"); return;
  case KEEL_PARAM_STRING_LIST:
    keel_buf_printf(b, "comma-separated names");
    return;
  case KEEL_PARAM_ENUM:
    keel_buf_printf(b, "one of:");
    for (size_t i = 0; d->choices && d->choices[i]; i++)
      keel_buf_printf(b, "%s%s", i ? " | " : " ", d->choices[i]);
    return;
  }
  if (d->type == KEEL_PARAM_FLOAT)
    keel_buf_printf(b, "%s in [%g, %g]", what, d->min, d->max);
  else
    keel_buf_printf(b, "%s in [%.0f, %.0f]", what, d->min, d->max);
}

/* Parses one layer's text and checks both ranges. */
static int check_layer(rctx *r, const layer *l, const char *section,
                       const keel_param_decl *d, const narrow *nw,
                       keel_value *v)
{
  keel_error e2 = {0};
  int rc = keel_param_parse(d, l->text, v, &e2);
  if (rc) {
    const char *msg = param_msg(d, e2.message);
    if (strstr(msg, "expected"))
      return layer_fail(r, l, section, d, rc, "%s", msg);
    keel_buf exp = KEEL_BUF_INIT;
    expected_text(d, &exp);
    rc = layer_fail(r, l, section, d, rc, "%s; expected %s", msg,
                    buf_text(&exp));
    keel_buf_free(&exp);
    return rc;
  }
  if (nw->set && d->type == KEEL_PARAM_ENUM) {
    if (v->i < 0 || v->i >= 64 || !(nw->choices & (1ull << v->i))) {
      keel_value_clear(d, v);
      return layer_fail(r, l, section, d, KEEL_ERANGE,
                        "'%s' is not allowed by template %s; expected one "
                        "of: %s (%s:%d)",
                        l->text, nw->owner, nw->text,
                        keel_path_basename(nw->file), nw->line);
    }
  } else if (nw->set) {
    rc = keel_param_check_range(d, v, nw->lo, nw->hi, &e2);
    if (rc) {
      keel_value_clear(d, v);
      return layer_fail(r, l, section, d, rc,
                        "%s, as narrowed by template %s (%s:%d)",
                        param_msg(d, e2.message), nw->owner,
                        keel_path_basename(nw->file), nw->line);
    }
  }
  return 0;
}

/* Resolves every parameter of one stage. `tkey` names the template's
 * [defaults.TKEY]/[ranges.TKEY]; `msec` may be NULL. */
/* The catalog layer of source parameter d when [source] names a dataset:
 * `path` is the entry's id (data/access.h maps it to the bytes), an
 * `option.KEY` line sets KEY. 1 with *out filled, 0 when the entry leaves
 * d to the manifest, or a (negative) KEEL_E* code: a manifest line or an
 * override setting what the entry sets. */
static int catalog_layer(rctx *r, const keel_stage *st,
                         const keel_param_decl *d, const keel_ini_entry *me,
                         const ovr *o, layer *out)
{
  const keel_catalog_entry *e = r->ds->entry;
  const char *file = r->ds->catalog_path;
  if (strcmp(d->name, "path") == 0) {
    *out = (layer){.text = e->id,
                   .origin = KEEL_ORIGIN_CATALOG,
                   .file = file,
                   .line = e->line};
  } else {
    size_t i = 0;
    while (i < e->n_options && strcmp(e->options[i].key, d->name) != 0)
      i++;
    if (i == e->n_options)
      return 0;
    *out = (layer){.text = e->options[i].value,
                   .origin = KEEL_ORIGIN_CATALOG,
                   .file = file,
                   .line = e->options[i].line};
  }
  if (me || o) {
    where_fail(r->err, KEEL_EINVAL, o ? o->text : NULL, r->m->ini->path,
               me ? me->line : 0,
               "[%s] %s: set by the catalog entry %s (%s:%d); a [source] "
               "naming a dataset may set only the plugin's other "
               "parameters; expected no %s here (or a plain plugin and "
               "path instead of the dataset)",
               st->section, d->name, e->id, keel_path_basename(file), out->line,
               d->name);
    return KEEL_EINVAL; /* negative, as every KEEL_E* code */
  }
  return 1;
}

static int resolve_params(rctx *r, keel_stage *st, const char *tkey,
                          const keel_ini_section *msec, const char *who)
{
  const keel_template *t = r->t;
  const keel_manifest *m = r->m;
  char dname[KEEL_INI_MAX_SECTION + 80], rname[KEEL_INI_MAX_SECTION + 80];
  snprintf(dname, sizeof dname, "defaults.%s", tkey);
  snprintf(rname, sizeof rname, "ranges.%s", tkey);
  int rc = 0;
  for (const keel_template *l = t; l && !rc; l = l->base) {
    rc = check_unknown_keys(r, l->ini->path,
                            keel_ini_section_find(l->ini, dname), st->decls,
                            st->n_params, who, 0);
    if (!rc)
      rc = check_unknown_keys(r, l->ini->path,
                              keel_ini_section_find(l->ini, rname), st->decls,
                              st->n_params, who, 0);
  }
  if (!rc)
    rc = check_unknown_keys(r, m->ini->path, msec, st->decls, st->n_params, who,
                            1);
  if (rc)
    return rc;
  if (st->n_params) {
    st->params = calloc(st->n_params, sizeof *st->params);
    st->values = calloc(st->n_params, sizeof *st->values);
    if (!st->params || !st->values)
      return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < st->n_params; i++) {
    const keel_param_decl *d = &st->decls[i];
    keel_resolved_param *rp = &st->params[i];
    rp->decl = d;
    rp->lo = d->min;
    rp->hi = d->max;
    /* Each template's range is checked against the plugin's; the
     * nearest applies (template.c checked it narrows its bases'). */
    narrow nw = {0};
    for (const keel_template *l = t; l; l = l->base) {
      const keel_ini_entry *re =
          keel_ini_entry_find(keel_ini_section_find(l->ini, rname), d->name);
      narrow here = {0};
      if (re && (rc = parse_narrow(r, rname, l->ini->path, who, d, re, &here)))
        return rc;
      here.owner = l->name;
      if (re && !nw.set)
        nw = here;
    }
    if (nw.set) {
      rp->lo = nw.lo;
      rp->hi = nw.hi;
    }
    layer layers[5];
    size_t nl = 0;
    if (!(d->flags & KEEL_PARAM_REQUIRED)) {
      /* The declared default, formatted canonically. */
      keel_value dv;
      keel_error e2 = {0};
      rc = keel_param_default(d, &dv, &e2);
      if (rc)
        return keel_config_fail(r->err, KEEL_EPLUGIN, NULL, 0, "[%s] %s: %s",
                                st->section, d->name, e2.message);
      char *txt = keel_param_format(d, &dv);
      keel_value_clear(d, &dv);
      if (!txt)
        return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
      rp->text = txt; /* replaced below if a higher layer sets it */
      layers[nl++] = (layer){.text = txt, .origin = KEEL_ORIGIN_PLUGIN_DEFAULT};
    }
    const char *tfile = NULL;
    const keel_ini_entry *te =
        keel_template_default_entry(t, tkey, d->name, &tfile);
    if (te)
      layers[nl++] = (layer){.text = te->value,
                             .origin = KEEL_ORIGIN_TEMPLATE,
                             .file = tfile,
                             .line = te->line};
    const keel_ini_entry *me = keel_ini_entry_find(msec, d->name);
    const ovr *o = find_override(r, st->section, d->name);
    layer cl;
    if (r->ds && (rc = catalog_layer(r, st, d, me, o, &cl)) < 0)
      return rc;
    if (r->ds && rc == 1)
      layers[nl++] = cl;
    rc = 0;
    if (me)
      layers[nl++] = (layer){.text = me->value,
                             .origin = KEEL_ORIGIN_MANIFEST,
                             .file = m->ini->path,
                             .line = me->line};
    if (o)
      layers[nl++] = (layer){.text = o->value,
                             .origin = KEEL_ORIGIN_OVERRIDE,
                             .override_text = o->text};
    if (nl == 0) {
      int line = msec ? msec->line : m->keel_line;
      return keel_config_fail(r->err, KEEL_EINVAL, m->ini->path, line,
                              "[%s] %s: required parameter of %s is not set; "
                              "expected %s = <%s> (%s)",
                              st->section, d->name, who, d->name,
                              keel_param_type_name(d->type),
                              d->doc ? d->doc : "");
    }
    /* Every layer must be valid on its own, even when a higher one wins:
     * a broken template default is a broken template. */
    for (size_t k = 0; k < nl; k++) {
      keel_value v = {0};
      /* a plugin default a template replaces need not fit its range
       * (a derived template narrowing sgd's lr gives its own default) */
      const narrow none = {0};
      int replaced =
          layers[k].origin == KEEL_ORIGIN_PLUGIN_DEFAULT && k + 1 < nl;
      rc = check_layer(r, &layers[k], st->section, d, replaced ? &none : &nw,
                       &v);
      if (rc)
        return rc;
      if (k + 1 < nl) {
        keel_value_clear(d, &v);
        continue;
      }
      st->values[i] = v;
      char *canon = keel_param_format(d, &v);
      if (!canon)
        return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
      free(rp->text);
      rp->text = canon;
      rp->origin = layers[k].origin;
      if (layers[k].origin == KEEL_ORIGIN_OVERRIDE)
        rp->where = strdup("command line");
      else if (layers[k].file)
        rp->where = where_text(layers[k].file, layers[k].line);
      if (layers[k].origin != KEEL_ORIGIN_PLUGIN_DEFAULT && !rp->where)
        return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    }
  }
  return 0;
}

/* Lists the registry's plugins of one kind: "softmax 1.0.0, mlp 1.0.0". */
static void list_kind(const keel_registry *reg, keel_kind kind, char *buf,
                      size_t size, const char **names, size_t *n_names)
{
  buf[0] = '\0';
  *n_names = 0;
  size_t count = keel_registry_count(reg);
  for (size_t i = 0; i < count; i++) {
    const keel_loaded_plugin *p = keel_registry_at(reg, i);
    if (p->desc.kind != (uint32_t)kind)
      continue;
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, "%s%s %s", used ? ", " : "", p->desc.name,
             p->desc.version);
    if (*n_names < 256)
      names[(*n_names)++] = p->desc.name;
  }
  if (!buf[0])
    snprintf(buf, size, "none on the plugin path");
}

/* The template's [governance]: the entry must have the keys it requires
 * and one of the scopes it allows (exit 2, naming the template line). */
static int check_governance(rctx *r, int line, const char *otext)
{
  const keel_template_checks *k = &r->t->checks;
  const keel_catalog_entry *e = r->ds->entry;
  const char *have[] = {e->owner, e->intended_use, e->legal_basis,
                        e->description && *e->description ? e->description
                                                          : NULL};
  static const char *const names[] = {"owner", "intended_use", "legal_basis",
                                      "description"};
  for (int i = 0; i < 4; i++) {
    if (!(k->gov_require & (1u << i)) || (have[i] && *have[i]))
      continue;
    const keel_template_origin *o = &r->t->check_at[KEEL_TCHECK_GOV_REQUIRE];
    return where_fail(r->err, KEEL_EINVAL, otext, r->m->ini->path, line,
                      "[source] dataset: %s (catalog %s:%d) has no %s; "
                      "template %s requires it ([governance] require, %s:%d)",
                      e->id, r->ds->catalog_path, e->line, names[i], r->t->name,
                      o->file ? keel_path_basename(o->file) : "?", o->line);
  }
  if (k->gov_scopes && !(k->gov_scopes & (1u << e->scope))) {
    const keel_template_origin *o = &r->t->check_at[KEEL_TCHECK_GOV_SCOPES];
    return where_fail(r->err, KEEL_EINVAL, otext, r->m->ini->path, line,
                      "[source] dataset: %s (catalog %s:%d) has scope %s; "
                      "template %s allows only the scopes of [governance] "
                      "allowed_scopes (%s:%d)",
                      e->id, r->ds->catalog_path, e->line,
                      keel_data_scope_name(e->scope), r->t->name,
                      o->file ? keel_path_basename(o->file) : "?", o->line);
  }
  return 0;
}

/* [source] dataset = REF (or the override source.dataset=REF): resolves
 * the catalog entry into r->cfg->dataset and r->ds, refuses a plugin
 * named beside it, and enforces the template's [contract] catalog. */
static int resolve_dataset(rctx *r, const keel_ini_section *msec,
                           const keel_ini_entry *pe, const ovr *po)
{
  const keel_manifest *m = r->m;
  const keel_ini_entry *de = keel_ini_entry_find(msec, "dataset");
  const ovr *dov = find_override(r, msec->name, "dataset");
  if (!de && !dov) {
    const keel_template_checks *k = &r->t->checks;
    if (!k->catalog_required && (k->gov_require || k->gov_scopes)) {
      const keel_template_origin *o =
          &r->t->check_at[k->gov_require ? KEEL_TCHECK_GOV_REQUIRE
                                         : KEEL_TCHECK_GOV_SCOPES];
      return keel_config_fail(
          r->err, KEEL_EINVAL, m->ini->path, msec->line,
          "[source]: template %s governs its data ([governance], %s:%d), "
          "which only a catalog entry describes; expected dataset = "
          "NAME@RANGE in place of plugin and path (docs/data-access.md)",
          r->t->name, o->file ? keel_path_basename(o->file) : "?", o->line);
    }
    if (!k->catalog_required)
      return 0;
    const keel_template_origin *o = &r->t->check_at[KEEL_TCHECK_CATALOG];
    return keel_config_fail(
        r->err, KEEL_EINVAL, m->ini->path, msec->line,
        "[source]: template %s requires data named by a catalog entry "
        "([contract] catalog = required, %s:%d); expected dataset = "
        "NAME@RANGE in place of plugin and path (docs/data-access.md)",
        r->t->name, o->file ? keel_path_basename(o->file) : "?", o->line);
  }
  const char *otext = dov ? dov->text : NULL;
  int line = de ? de->line : msec->line;
  const char *ref = dov ? dov->value : de->value;
  if (pe || po)
    return where_fail(
        r->err, KEEL_EINVAL, po ? po->text : NULL, m->ini->path,
        pe ? pe->line : line,
        "[source] plugin: not with dataset = %s; the catalog entry names "
        "the source plugin; expected either dataset or plugin (and path)",
        ref);
  if (!*ref)
    return where_fail(r->err, KEEL_EINVAL, otext, m->ini->path, line,
                      "[source] dataset: empty; expected NAME@RANGE (e.g. "
                      "penguins@^1)");
  char *where = otext ? strdup("command line") : where_text(m->ini->path, line);
  if (!where)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  keel_error e2 = {0};
  int rc = r->catalog ? keel_dataset_resolve(ref, where, r->catalog,
                                             &r->cfg->dataset, &e2)
                      : keel_fail(&e2, KEEL_EINVAL, "no catalog was chosen");
  free(where);
  if (rc)
    return where_fail(r->err, rc, otext, m->ini->path, line,
                      "[source] dataset: %s", e2.message);
  r->ds = r->cfg->dataset;
  return check_governance(r, line, otext);
}

/* The entry's plugin must read a path, and every option.KEY of the entry
 * must be one of its parameters (named at the catalog's line). */
static int check_dataset_plugin(rctx *r, const keel_loaded_plugin *p)
{
  const keel_catalog_entry *e = r->ds->entry;
  size_t n = p->desc.params ? p->desc.n_params : 0;
  int has_path = 0;
  for (size_t i = 0; i < n; i++)
    has_path |= strcmp(p->desc.params[i].name, "path") == 0;
  if (!has_path)
    return keel_config_fail(
        r->err, KEEL_EINVAL, r->ds->catalog_path, e->line,
        "[%s] plugin: %s has no path parameter, so it cannot read the "
        "entry's location; expected a source plugin that reads a path "
        "(csv, libsvm, sqlite)",
        e->id, p->desc.name);
  for (size_t k = 0; k < e->n_options; k++) {
    size_t i = 0;
    while (i < n && strcmp(p->desc.params[i].name, e->options[k].key) != 0)
      i++;
    if (i == n || strcmp(e->options[k].key, "path") == 0)
      return keel_config_fail(
          r->err, KEEL_EINVAL, r->ds->catalog_path, e->options[k].line,
          "[%s] option.%s: %s; expected a parameter of %s %s other than "
          "path (keel plugins %s lists them)",
          e->id, e->options[k].key,
          i == n ? "not a parameter of the entry's plugin"
                 : "the location gives the path",
          p->desc.name, p->desc.version, p->desc.name);
  }
  return 0;
}

static int resolve_slot(rctx *r, keel_stage *st, keel_kind kind,
                        const keel_ini_section *msec)
{
  const keel_manifest *m = r->m;
  const char *kn = keel_kind_name((int)kind);
  st->section = strdup(msec->name);
  if (!st->section)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  st->line = msec->line;
  const keel_ini_entry *pe = keel_ini_entry_find(msec, "plugin");
  const ovr *po = find_override(r, msec->name, "plugin");
  const char *name = po ? po->value : pe ? pe->value : NULL;
  /* Where the plugin was named, for messages. */
  const char *otext = po ? po->text : NULL;
  int line = pe ? pe->line : msec->line;
  if (kind == KEEL_KIND_SOURCE) {
    int rc = resolve_dataset(r, msec, pe, po);
    if (rc)
      return rc;
    if (r->ds) { /* the entry names the plugin */
      const ovr *dov = find_override(r, msec->name, "dataset");
      const keel_ini_entry *de = keel_ini_entry_find(msec, "dataset");
      name = r->ds->entry->plugin;
      otext = dov ? dov->text : NULL;
      line = de ? de->line : msec->line;
    }
  }
  if (!name || !*name) {
    char *allowed = keel_template_allow_text(r->t, kind);
    where_fail(r->err, KEEL_EINVAL, otext, m->ini->path, line,
               "[%s] plugin: missing; expected plugin = one of: %s", msec->name,
               allowed ? allowed : "?");
    free(allowed);
    return KEEL_EINVAL;
  }
  const keel_loaded_plugin *p = keel_registry_find(r->reg, kind, name);
  const keel_broken_plugin *bp =
      keel_registry_find_broken(r->reg, (int)kind, name, p);
  if (bp) /* asked for by name: now its refusal matters */
    return where_fail(r->err, KEEL_EPLUGIN, otext, m->ini->path, line,
                      "[%s] plugin: %s plugin '%s' is broken: %s", msec->name,
                      kn, name, bp->reason);
  if (!p) {
    char avail[KEEL_ERROR_SIZE / 2];
    const char *names[256];
    size_t nn;
    list_kind(r->reg, kind, avail, sizeof avail, names, &nn);
    const char *dym = keel_did_you_mean(name, names, nn);
    char hint[128] = "";
    if (dym)
      snprintf(hint, sizeof hint, "did you mean '%s'? ", dym);
    return where_fail(r->err, KEEL_EINVAL, otext, m->ini->path, line,
                      "[%s] plugin: no %s plugin named '%s' on the plugin "
                      "path; %savailable: %s",
                      msec->name, kn, name, hint, avail);
  }
  keel_error e2 = {0};
  if (keel_template_allows(r->t, kind, p->desc.name, p->desc.version, p->sha256,
                           &e2))
    return where_fail(r->err, KEEL_EINVAL, otext, m->ini->path, line,
                      "[%s] plugin: %s", msec->name, e2.message);
  if ((kind == KEEL_KIND_MODEL || kind == KEEL_KIND_LOSS) &&
      p->desc.contract.tasks != 0 &&
      !(p->desc.contract.tasks & (uint32_t)r->t->task))
    return where_fail(r->err, KEEL_EINVAL, otext, m->ini->path, line,
                      "[%s] plugin: %s does not support the template's task "
                      "%s; expected a %s for %s",
                      msec->name, p->desc.name,
                      r->t->task == KEEL_TASK_CLASSIFICATION ? "classification"
                                                             : "regression",
                      kn,
                      r->t->task == KEEL_TASK_CLASSIFICATION ? "classification"
                                                             : "regression");
  st->plugin = p;
  st->decls = p->desc.params;
  st->n_params = p->desc.params ? p->desc.n_params : 0;
  char tkey[KEEL_INI_MAX_SECTION + 64];
  snprintf(tkey, sizeof tkey, "%s.%s", kn, p->desc.name);
  if (r->ds) {
    int rc = check_dataset_plugin(r, p);
    if (rc)
      return rc;
  }
  int rc = resolve_params(r, st, tkey, msec, p->desc.name);
  r->ds = NULL; /* the catalog layer is the source's alone */
  return rc;
}

static int resolve_host(rctx *r, keel_stage *st, const char *section,
                        const keel_param_decl *decls, size_t n)
{
  const keel_ini_section *msec = keel_ini_section_find(r->m->ini, section);
  st->section = strdup(section);
  if (!st->section)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  st->line = msec ? msec->line : 0;
  st->decls = decls;
  st->n_params = n;
  char who[32];
  snprintf(who, sizeof who, "[%s]", section);
  return resolve_params(r, st, section, msec, who);
}

/* Overrides: syntax, sections that exist, no duplicates. */
static int parse_overrides(rctx *r, const char *const *texts, size_t n)
{
  if (n == 0)
    return 0;
  r->ovr = calloc(n, sizeof *r->ovr);
  if (!r->ovr)
    return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    ovr *o = &r->ovr[i];
    int rc =
        keel_override_split(texts[i], &o->section, &o->key, &o->value, r->err);
    if (rc)
      return rc;
    r->n_ovr = i + 1;
    o->text = strdup(texts[i]);
    if (!o->text)
      return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    int kind = keel_manifest_section_kind(o->section);
    if (kind == -1)
      return keel_config_fail(
          r->err, KEEL_EINVAL, NULL, 0,
          "command line: override '%s': [keel] cannot be "
          "overridden; expected an override of a slot or of "
          "[data]/[train]",
          o->text);
    if (kind > 0 && !keel_ini_section_find(r->m->ini, o->section))
      return keel_config_fail(
          r->err, KEEL_EINVAL, NULL, 0,
          "command line: override '%s': %s has no [%s] section; "
          "expected an override of a section the manifest has",
          o->text, r->m->ini->path, o->section);
    if (kind == -2) {
      static const char *const known[] = {"data",  "train", "source",
                                          "model", "loss",  "optimizer"};
      const char *dym = keel_did_you_mean(o->section, known, 6);
      return keel_config_fail(
          r->err, KEEL_EINVAL, NULL, 0,
          "command line: override '%s': unknown section [%s]; "
          "%s%s%sexpected data, train, source, transform.NAME, "
          "model, loss or optimizer",
          o->text, o->section, dym ? "did you mean [" : "", dym ? dym : "",
          dym ? "]? " : "");
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(r->ovr[j].section, o->section) == 0 &&
          strcmp(r->ovr[j].key, o->key) == 0)
        return keel_config_fail(
            r->err, KEEL_EINVAL, NULL, 0,
            "command line: override '%s': %s.%s given twice "
            "(also '%s'); expected each value once",
            o->text, o->section, o->key, r->ovr[j].text);
  }
  return 0;
}

/* An override that matched nothing names a key the stage lacks. */
static int check_unused_overrides(rctx *r)
{
  keel_run_config *c = r->cfg;
  for (size_t i = 0; i < r->n_ovr; i++) {
    const ovr *o = &r->ovr[i];
    if (o->used)
      continue;
    const keel_stage *st = NULL;
    keel_stage *all[] = {&c->data,  &c->train, &c->source,
                         &c->model, &c->loss,  &c->optimizer};
    for (size_t k = 0; k < 6 && !st; k++)
      if (all[k]->section && strcmp(all[k]->section, o->section) == 0)
        st = all[k];
    for (size_t k = 0; k < c->n_transforms && !st; k++)
      if (strcmp(c->transforms[k].section, o->section) == 0)
        st = &c->transforms[k];
    const char *names[256] = {NULL};
    size_t n = 0;
    for (size_t k = 0; st && k < st->n_params && n < 256; k++)
      names[n++] = st->decls[k].name;
    const char *dym = keel_did_you_mean(o->key, names, n);
    const char *who = st && st->plugin ? st->plugin->desc.name : o->section;
    return keel_config_fail(
        r->err, KEEL_EINVAL, NULL, 0,
        "command line: override '%s': [%s] key '%s' is not a "
        "parameter of %s%s%s%s",
        o->text, o->section, o->key, who, dym ? "; did you mean '" : "",
        dym ? dym : "", dym ? "'?" : "");
  }
  return 0;
}

static int check_template_version(rctx *r)
{
  const keel_manifest *m = r->m;
  int match = 0;
  keel_error e2 = {0};
  if (keel_semver_satisfies(r->t->version, m->template_version->value, &match,
                            &e2))
    return keel_config_fail(r->err, KEEL_EINVAL, m->ini->path,
                            m->template_version->line,
                            "[keel] template_version: %s", e2.message);
  if (!match)
    return keel_config_fail(
        r->err, KEEL_EINVAL, m->ini->path, m->template_version->line,
        "[keel] template_version: template %s is version "
        "%s (%s), outside '%s'; expected a template version in "
        "that range",
        r->t->name, r->t->version, r->t->ini->path, m->template_version->value);
  return 0;
}

static char *dup_or_null(const char *s, int *oom)
{
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *oom = 1;
  return d;
}

static int fill_header(rctx *r)
{
  keel_run_config *c = r->cfg;
  int oom = 0;
  c->manifest_path = dup_or_null(r->m->ini->path, &oom);
  c->manifest_dir = dup_or_null(r->m->dir, &oom);
  c->manifest_text = dup_or_null(r->m->ini->text, &oom);
  c->template_path = dup_or_null(r->t->ini->path, &oom);
  c->template_text = dup_or_null(r->t->ini->text, &oom);
  c->template_name = dup_or_null(r->t->name, &oom);
  c->template_version = dup_or_null(r->t->version, &oom);
  c->task = r->t->task;
  c->checks = r->t->checks;
  c->checks.columns = NULL; /* the config owns its own copy */
  if (keel_column_checks_dup(r->t->checks.columns, r->t->checks.n_columns,
                             &c->checks.columns))
    oom = 1;
  if (r->m->purpose) {
    c->purpose = dup_or_null(r->m->purpose->value, &oom);
    c->purpose_line = r->m->purpose->line;
  }
  if (!oom && keel_template_chain_copy(r->t, c, r->err))
    return KEEL_ENOMEM;
  if (r->n_ovr) {
    c->overrides = calloc(r->n_ovr, sizeof *c->overrides);
    if (!c->overrides)
      oom = 1;
    for (size_t i = 0; c->overrides && i < r->n_ovr; i++) {
      c->overrides[i].text = dup_or_null(r->ovr[i].text, &oom);
      c->n_overrides = i + 1;
    }
  }
  return oom ? keel_fail(r->err, KEEL_ENOMEM, "out of memory") : 0;
}

static int resolve_all(rctx *r)
{
  const keel_manifest *m = r->m;
  keel_run_config *c = r->cfg;
  int rc = check_template_version(r);
  if (!rc)
    rc = fill_header(r);
  if (rc)
    return rc;
  /* Required slots first, so a missing one is named before anything
   * else in it could be. */
  static const keel_kind required[] = {KEEL_KIND_SOURCE, KEEL_KIND_MODEL,
                                       KEEL_KIND_LOSS, KEEL_KIND_OPTIMIZER};
  for (size_t i = 0; i < 4; i++) {
    const char *kn = keel_kind_name((int)required[i]);
    if (!keel_ini_section_find(m->ini, kn)) {
      char *allowed = keel_template_allow_text(r->t, required[i]);
      keel_config_fail(r->err, KEEL_EINVAL, m->ini->path, m->keel_line,
                       "missing required slot [%s]; expected a [%s] section "
                       "with plugin = one of: %s (template %s %s)",
                       kn, kn, allowed ? allowed : "?", r->t->name,
                       r->t->version);
      free(allowed);
      return KEEL_EINVAL;
    }
  }
  rc = resolve_host(r, &c->data, "data", keel_data_decls, KEEL_DATA_N_PARAMS);
  if (!rc)
    rc = resolve_slot(r, &c->source, KEEL_KIND_SOURCE,
                      keel_ini_section_find(m->ini, "source"));
  size_t nt = 0;
  for (size_t i = 0; i < m->ini->n_sections; i++)
    if (keel_manifest_section_kind(m->ini->sections[i].name) ==
        KEEL_KIND_TRANSFORM)
      nt++;
  if (!rc && nt) {
    c->transforms = calloc(nt, sizeof *c->transforms);
    if (!c->transforms)
      return keel_fail(r->err, KEEL_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < m->ini->n_sections; i++) {
      const keel_ini_section *s = &m->ini->sections[i];
      if (keel_manifest_section_kind(s->name) != KEEL_KIND_TRANSFORM)
        continue;
      rc = resolve_slot(r, &c->transforms[c->n_transforms++],
                        KEEL_KIND_TRANSFORM, s);
    }
  }
  if (!rc)
    rc = resolve_slot(r, &c->model, KEEL_KIND_MODEL,
                      keel_ini_section_find(m->ini, "model"));
  if (!rc)
    rc = resolve_slot(r, &c->loss, KEEL_KIND_LOSS,
                      keel_ini_section_find(m->ini, "loss"));
  if (!rc)
    rc = resolve_slot(r, &c->optimizer, KEEL_KIND_OPTIMIZER,
                      keel_ini_section_find(m->ini, "optimizer"));
  if (!rc)
    rc = resolve_host(r, &c->train, "train", keel_train_decls,
                      KEEL_TRAIN_N_PARAMS);
  if (!rc)
    rc = check_unused_overrides(r);
  return rc;
}

int keel_config_resolve(const keel_manifest *m, const keel_template *t,
                        const keel_registry *reg, const char *const *overrides,
                        size_t n_overrides, const keel_catalog_choice *catalog,
                        keel_run_config **out, keel_error *err)
{
  *out = NULL;
  rctx r = {.m = m, .t = t, .reg = reg, .err = err, .catalog = catalog};
  r.cfg = calloc(1, sizeof *r.cfg);
  if (!r.cfg)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = parse_overrides(&r, overrides, n_overrides);
  if (!rc)
    rc = resolve_all(&r);
  for (size_t i = 0; i < r.n_ovr; i++) {
    free(r.ovr[i].text);
    free(r.ovr[i].section);
    free(r.ovr[i].key);
    free(r.ovr[i].value);
  }
  free(r.ovr);
  if (rc) {
    keel_run_config_free(r.cfg);
    return rc;
  }
  *out = r.cfg;
  return 0;
}
