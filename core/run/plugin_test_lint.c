/* The kit's lint: what a reader of `keel plugins NAME` and a reviewer of
 * a bundle need from a descriptor beyond what the loader refuses, and the
 * build's determinism facts (plugin.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/params.h"
#include "run/plugin_test_internal.h"

/* NULL when text is one non-empty printable line, else why not. */
static const char *one_line(const char *text)
{
  if (!text || !*text)
    return "is missing";
  for (const char *s = text; *s; s++)
    if (*s == '\n' || *s == '\r' || *s == '\t')
      return "spans more than one line";
  return NULL;
}

static int lint_descriptor(pt_ctx *c)
{
  const keel_plugin *d = &c->plugin->desc;
  const char *why;
  if ((why = one_line(d->summary)))
    return pt_record(c, "lint.descriptor", KEEL_PT_FAIL,
                     "the summary %s: `keel plugins` lists it as the plugin's "
                     "one-line description",
                     why);
  if ((why = one_line(d->license)))
    return pt_record(c, "lint.descriptor", KEEL_PT_FAIL,
                     "the license %s: name an SPDX identifier (\"MIT\"), "
                     "which a bundle records",
                     why);
  if ((d->kind == KEEL_KIND_MODEL || d->kind == KEEL_KIND_LOSS) &&
      d->contract.tasks == 0)
    return pt_record(c, "lint.descriptor", KEEL_PT_FAIL,
                     "contract.tasks is 0: a %s says which tasks it fits "
                     "(KEEL_TASK_CLASSIFICATION, KEEL_TASK_REGRESSION)",
                     d->kind == KEEL_KIND_MODEL ? "model" : "loss");
  return pt_record(
      c, "lint.descriptor", KEEL_PT_PASS, "%s %s: summary, license %s%s",
      d->name, d->version, d->license,
      d->kind == KEEL_KIND_MODEL || d->kind == KEEL_KIND_LOSS ? ", tasks" : "");
}

/* NULL when the declaration documents itself, else why not (in buf). */
static const char *lint_param(const keel_param_decl *p, char *buf, size_t n)
{
  const char *why = one_line(p->doc);
  if (why) {
    snprintf(buf, n, "parameter '%s': its doc line %s", p->name, why);
    return buf;
  }
  if ((p->flags & KEEL_PARAM_LOG_SCALE) &&
      (p->type != KEEL_PARAM_FLOAT || !(p->min > 0))) {
    snprintf(buf, n,
             "parameter '%s' is log-scale, which needs a float whose range "
             "starts above 0 (min is %g)",
             p->name, p->min);
    return buf;
  }
  if (p->type == KEEL_PARAM_ENUM && p->choices && p->choices[0] &&
      !p->choices[1]) {
    snprintf(buf, n, "parameter '%s' is an enum with one choice", p->name);
    return buf;
  }
  if (!(p->flags & KEEL_PARAM_REQUIRED)) {
    keel_value v;
    keel_error e;
    if (keel_param_default(p, &v, &e)) {
      snprintf(buf, n, "parameter '%s': its default does not parse: %.300s",
               p->name, e.message);
      return buf;
    }
    keel_value_clear(p, &v);
  }
  return NULL;
}

static int lint_params(pt_ctx *c)
{
  const keel_plugin *d = &c->plugin->desc;
  size_t n = d->params ? d->n_params : 0;
  char buf[512];
  for (size_t i = 0; i < n; i++)
    if (lint_param(&d->params[i], buf, sizeof buf))
      return pt_record(c, "lint.params", KEEL_PT_FAIL, "%s", buf);
  return pt_record(c, "lint.params", KEEL_PT_PASS,
                   "%zu parameter%s, each with a one-line doc and a default "
                   "that parses",
                   n, n == 1 ? "" : "s");
}

static int lint_determinism(pt_ctx *c)
{
  const keel_plugin *d = &c->plugin->desc;
  if (d->build_flags & KEEL_BUILD_FAST_MATH)
    return pt_record(c, "lint.determinism", KEEL_PT_FAIL,
                     "built with -ffast-math (__FAST_MATH__): results depend "
                     "on the compiler's rewrites; build without it");
  if (d->flt_eval_method != 0)
    return pt_record(c, "lint.determinism", KEEL_PT_FAIL,
                     "__FLT_EVAL_METHOD__ is %d: intermediate precision "
                     "depends on register spills; build for SSE2 (0)",
                     (int)d->flt_eval_method);
  if (!d->fp_probe)
    return pt_record(c, "lint.determinism", KEEL_PT_SKIP,
                     "the descriptor has no fp_probe (built against an SDK "
                     "older than ABI 1.2): contraction cannot be checked");
  /* (1 + 2^-27)(1 - 2^-27) - 1 is 0 when rounded after the product and
   * -2^-54 when fused into one multiply-add. */
  volatile double a = 1.0 + 0x1p-27, b = 1.0 - 0x1p-27, m1 = -1.0;
  double got = d->fp_probe(a, b, m1);
  if (got != 0.0)
    return pt_record(c, "lint.determinism", KEEL_PT_FAIL,
                     "floating-point contraction is on (the probe gave %g, "
                     "not 0): build with -ffp-contract=off",
                     got);
  return pt_record(
      c, "lint.determinism", KEEL_PT_PASS,
      "no -ffast-math, FLT_EVAL_METHOD 0, contraction off%s",
      d->build_flags & KEEL_BUILD_FP_CONTRACT_OFF ? " (and declared)" : "");
}

int pt_lint(pt_ctx *c)
{
  int rc = 0;
  if (pt_wanted(c, "lint.descriptor"))
    rc = lint_descriptor(c);
  if (!rc && pt_wanted(c, "lint.params"))
    rc = lint_params(c);
  if (!rc && pt_wanted(c, "lint.determinism"))
    rc = lint_determinism(c);
  return rc;
}
