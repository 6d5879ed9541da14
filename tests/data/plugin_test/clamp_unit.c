/* A plugin author's unit test of the template plugin, built out of tree
 * against the installed test host (keel/test_host.h) with clamp.c
 * compiled in: no hand-made host. Exit 0 when clamp limits a value, keeps
 * one inside [lo, hi], refuses lo > hi naming both, and its parameters
 * take their declared defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/test_host.h>

const struct keel_plugin *keel_plugin_entry(void);

static int failures;

static void expect(int cond, const char *what)
{
  if (!cond) {
    fprintf(stderr, "clamp_unit: %s\n", what);
    failures++;
  }
}

int main(void)
{
  const keel_plugin *d = keel_plugin_entry();
  const keel_transform_api *api = d->api;
  keel_test_host *th = keel_test_host_new(NULL);
  const keel_host *h = keel_test_host_services(th);
  keel_error err = {0};
  keel_value *p = NULL;
  expect(keel_test_params(d, (const char *const[]){"hi=1", NULL}, &p, &err) ==
             0,
         err.message);
  expect(p && p[0].f == -3.0 && p[1].f == 1.0, "lo default -3, hi set to 1");
  keel_table *in = h->table_new(2), *out = NULL;
  size_t x = 99;
  expect(h->table_append(in, "x", KEEL_COL_NUMERIC, NULL, 0, &x, &err) == 0 &&
             x == 0,
         "table_append gives index 0");
  in->cols[x].num[0] = 0.5;
  in->cols[x].num[1] = 7.0;
  keel_state *st = keel_test_state_new();
  expect(api->apply(h, p, st, in, &out, &err) == 0, err.message);
  expect(out && out->cols[0].num[0] == 0.5 && out->cols[0].num[1] == 1.0,
         "0.5 kept, 7 clamped to 1");
  char *json = keel_test_state_json(st);
  expect(json && strstr(json, "\"entries\": []"),
         json ? json : "no state JSON");
  free(json);
  keel_test_params_free(d, p);
  expect(keel_test_params(d, (const char *const[]){"lo=2", "hi=1", NULL}, &p,
                          &err) == 0,
         err.message);
  keel_schema s, s_out;
  keel_test_schema_init(&s);
  keel_test_schema_init(&s_out);
  expect(api->schema(h, p, &s, &s_out, &err) == KEEL_EINVAL &&
             strstr(err.message, "lo (2)") && strstr(err.message, "hi (1)"),
         "lo > hi refused, naming both");
  keel_test_schema_free(&s);
  keel_test_schema_free(&s_out);
  keel_test_params_free(d, p);
  expect(keel_test_params(d, (const char *const[]){"hj=1", NULL}, &p, &err) ==
                 KEEL_EINVAL &&
             strstr(err.message, "hj=1"),
         "an unknown parameter refused by name");
  h->table_free(in);
  h->table_free(out);
  keel_test_state_free(st);
  keel_test_host_free(th);
  return failures ? 1 : 0;
}
