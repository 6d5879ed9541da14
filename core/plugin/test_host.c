/* keel/test_host.h: the host services of this layer packaged for a plugin
 * author's unit tests (built into libkeel_test_host, core/CMakeLists.txt):
 * the table from host.c bound to a context of its own, defaults from
 * base/params.c, state and schemas from state.c and table.c. */
#include "keel/test_host.h"

#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/status.h"
#include "plugin/host.h"
#include "plugin/state.h"
#include "plugin/table.h"

struct keel_test_host {
  keel_host host;
  keel_host_context ctx;
};

keel_test_host *keel_test_host_new(const char *base_dir)
{
  keel_test_host *th = calloc(1, sizeof *th);
  if (!th)
    return NULL;
  if (keel_host_context_init(&th->ctx, base_dir ? base_dir : ".") != 0) {
    free(th);
    return NULL;
  }
  keel_host_bind(&th->host, &th->ctx);
  return th;
}

void keel_test_host_free(keel_test_host *th)
{
  if (!th)
    return;
  keel_error e;
  keel_host_context_settle(&th->ctx, &e);
  keel_host_context_free(&th->ctx);
  free(th);
}

const keel_host *keel_test_host_services(keel_test_host *th)
{
  return &th->host;
}

void keel_test_params_free(const keel_plugin *plugin, keel_value *values)
{
  for (size_t i = 0; values && plugin->params && i < plugin->n_params; i++)
    keel_value_clear(&plugin->params[i], &values[i]);
  free(values);
}

/* The declaration a "key=value" setting names, or n. */
static size_t find_param(const keel_plugin *p, const char *kv, size_t len)
{
  size_t n = p->params ? p->n_params : 0, i = 0;
  while (i < n && !(strlen(p->params[i].name) == len &&
                    strncmp(p->params[i].name, kv, len) == 0))
    i++;
  return i;
}

int keel_test_params(const keel_plugin *plugin, const char *const *settings,
                     keel_value **out, keel_error *err)
{
  size_t n = plugin->params ? plugin->n_params : 0;
  keel_value *v = calloc(n ? n : 1, sizeof *v);
  unsigned char *set = calloc(n ? n : 1, 1);
  int rc = 0;
  *out = NULL;
  if (!v || !set) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; settings && settings[k]; k++) {
    const char *eq = strchr(settings[k], '=');
    size_t i =
        eq ? find_param(plugin, settings[k], (size_t)(eq - settings[k])) : n;
    if (i == n) {
      rc = keel_fail(err, KEEL_EINVAL,
                     "'%s' names no parameter of %s (expected key=value)",
                     settings[k], plugin->name);
      goto out;
    }
    if (set[i])
      keel_value_clear(&plugin->params[i], &v[i]);
    set[i] = 0;
    if ((rc = keel_param_parse(&plugin->params[i], eq + 1, &v[i], err)))
      goto out;
    set[i] = 1;
  }
  for (size_t i = 0; i < n; i++) {
    if (set[i])
      continue;
    if (plugin->params[i].flags & KEEL_PARAM_REQUIRED) {
      rc = keel_fail(err, KEEL_EINVAL,
                     "parameter '%s' of %s is required and not set",
                     plugin->params[i].name, plugin->name);
      goto out;
    }
    if ((rc = keel_param_default(&plugin->params[i], &v[i], err)))
      goto out;
    set[i] = 1;
  }
out:
  if (rc && v) {
    for (size_t i = 0; i < n; i++)
      if (set[i])
        keel_value_clear(&plugin->params[i], &v[i]);
    free(v);
    v = NULL;
  }
  free(set);
  *out = v;
  return rc;
}

keel_state *keel_test_state_new(void)
{
  return keel_state_new();
}

void keel_test_state_free(keel_state *state)
{
  keel_state_free(state);
}

char *keel_test_state_json(const keel_state *state)
{
  return keel_state_to_json(state);
}

void keel_test_schema_init(keel_schema *schema)
{
  keel_schema_init(schema);
}

void keel_test_schema_free(keel_schema *schema)
{
  keel_schema_free(schema);
}
