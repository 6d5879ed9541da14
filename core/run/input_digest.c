/* The input digest (input_digest.h): the SHA-256 of one canonical JSON
 * text, so that what it covers can be read back and documented:
 *   {"format": "keel-input/1", "keel_revision": ..., "config_sha256": ...,
 *    "data": [sha256, ...], "plugins": [{"kind","name","version","sha256"}]}
 * keys in that order, compact, as jansson writes them. */
#include "run/input_digest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/status.h"
#include "bundle/revision.h"

static int add_plugin(json_t *list, const keel_stage *st)
{
  const keel_loaded_plugin *p = st->plugin;
  if (!p)
    return 0; /* the host's own stages ([data], [train]) */
  json_t *o = json_object();
  json_object_set_new(o, "kind",
                      json_string(keel_kind_name((int)p->desc.kind)));
  json_object_set_new(o, "name", json_string(p->desc.name));
  json_object_set_new(o, "version", json_string(p->desc.version));
  json_object_set_new(o, "sha256", json_string(p->sha256));
  return json_array_append_new(list, o);
}

int keel_input_digest(const keel_run_config *cfg, const keel_host_context *ctx,
                      const char *config_text, char hex[65], keel_error *err)
{
  char config_sha[65];
  keel_sha256_hex(config_text, strlen(config_text), config_sha);
  json_t *root = json_object(), *data = json_array(), *plugins = json_array();
  json_object_set_new(root, "format", json_string("keel-input/1"));
  json_object_set_new(root, "keel_revision", json_string(keel_build_revision));
  json_object_set_new(root, "config_sha256", json_string(config_sha));
  for (size_t i = 0; i < ctx->n_inputs; i++)
    json_array_append_new(data, json_string(ctx->inputs[i].sha256));
  int bad = add_plugin(plugins, &cfg->source);
  for (size_t i = 0; i < cfg->n_transforms; i++)
    bad |= add_plugin(plugins, &cfg->transforms[i]);
  bad |= add_plugin(plugins, &cfg->model);
  bad |= add_plugin(plugins, &cfg->loss);
  bad |= add_plugin(plugins, &cfg->optimizer);
  json_object_set_new(root, "data", data);
  json_object_set_new(root, "plugins", plugins);
  char *text =
      bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_sha256_hex(text, strlen(text), hex);
  free(text);
  return KEEL_OK;
}
