/* keel config show [--json] [--plugin-path DIR]... [--trusted-key KEY]...
 *
 * Prints every setting that is not part of a run (config/settings.h) with
 * its value and where the value came from: the flag (given here, as a
 * command would be given it), the KEEL_* variable, config.ini:LINE or
 * the built-in default. Then the built-in folders keel searches after the
 * settings, found from the binary's own path (base/install_layout.h). A
 * malformed config.ini exits 2 naming FILE:LINE. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/install_layout.h"
#include "base/status.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/load.h"
#include "config/settings.h"

typedef struct config_args {
  int json;
  keel_cli_list plugin_paths;
  keel_cli_list trusted_keys;
} config_args;

static const keel_cli_option config_options[] = {
    {"json", 0, KEEL_CLI_FLAG, NULL, "print JSON instead of a table",
     offsetof(config_args, json), 0, 0},
    {"plugin-path", 0, KEEL_CLI_LIST, "DIR",
     "show plugin_path as a command given this flag would use it",
     offsetof(config_args, plugin_paths), 0, 0},
    {"trusted-key", 0, KEEL_CLI_LIST, "KEY",
     "show trusted_keys as a command given this flag would use it",
     offsetof(config_args, trusted_keys), 0, 0},
};

const keel_cli_command keel_cli_config = {
    .name = "config",
    .main = keel_cmd_config,
    .summary = "show each setting, its value and where it came from",
    .operands = "show",
    .min_operands = 1,
    .max_operands = 1,
    .missing = "no subcommand given (expected: show)",
    .too_many = "one subcommand at a time (expected: show)",
    .options = config_options,
    .n_options = KEEL_CLI_COUNT(config_options),
};

/* "flag --plugin-path", "env KEEL_PLUGIN_PATH", "FILE:LINE", "default". */
static void source_text(const keel_settings *s, const keel_setting *it,
                        char *out, size_t n)
{
  switch (it->source) {
  case KEEL_SETTING_FROM_FLAG:
    snprintf(out, n, "flag --%s", it->decl->flag);
    break;
  case KEEL_SETTING_FROM_ENV: snprintf(out, n, "env %s", it->decl->env); break;
  case KEEL_SETTING_FROM_FILE:
    snprintf(out, n, "%s:%d", s->config_path, it->line);
    break;
  case KEEL_SETTING_FROM_DEFAULT: snprintf(out, n, "default"); break;
  }
}

/* "build tree" or "beside BINARY": why these folders. */
static void layout_source(const keel_install_layout *l, char *out, size_t n)
{
  if (!l->binary)
    snprintf(out, n, "the binary's own path is unreadable");
  else if (l->build_tree)
    snprintf(out, n, "build tree of %s", l->binary);
  else
    snprintf(out, n, "beside %s", l->binary);
}

static void show_table(const keel_settings *s, const keel_install_layout *l)
{
  char src[4200];
  printf("config file    %s (%s)\n", s->config_path,
         s->config_present ? "read" : "not present");
  for (size_t i = 0; i < KEEL_SETTING_COUNT; i++) {
    const keel_setting *it = &s->items[i];
    source_text(s, it, src, sizeof src);
    printf("%-14s %s  (%s)\n", it->decl->name,
           it->value[0] ? it->value : "(none)", src);
  }
  layout_source(l, src, sizeof src);
  for (size_t i = 0; i < KEEL_INSTALL_ITEM_COUNT; i++)
    printf("%-14s %s  (%s)\n", keel_install_item_name(i),
           l->dirs[i] ? l->dirs[i] : "(none)", src);
}

static int show_json(const keel_settings *s, const keel_install_layout *l)
{
  json_t *root = json_object(), *list = json_array();
  char key[128];
  for (size_t i = 0; i < KEEL_SETTING_COUNT; i++) {
    const keel_setting *it = &s->items[i];
    const keel_setting_decl *d = it->decl;
    json_t *o = json_object();
    snprintf(key, sizeof key, "%s.%s", d->section, d->key);
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "value", json_string(it->value));
    json_object_set_new(o, "source",
                        json_string(keel_setting_source_name(it->source)));
    if (it->source == KEEL_SETTING_FROM_FILE) {
      json_object_set_new(o, "file", json_string(s->config_path));
      json_object_set_new(o, "line", json_integer(it->line));
    }
    json_object_set_new(o, "env", json_string(d->env));
    json_object_set_new(o, "key", json_string(key));
    if (d->flag) {
      snprintf(key, sizeof key, "--%s", d->flag);
      json_object_set_new(o, "flag", json_string(key));
    } else {
      json_object_set_new(o, "flag", json_null());
    }
    json_object_set_new(o, "doc", json_string(d->doc));
    json_array_append_new(list, o);
  }
  json_object_set_new(root, "config_file", json_string(s->config_path));
  json_object_set_new(root, "config_present", json_boolean(s->config_present));
  json_object_set_new(root, "settings", list);
  json_t *inst = json_object();
  json_object_set_new(inst, "binary",
                      l->binary ? json_string(l->binary) : json_null());
  json_object_set_new(inst, "build_tree", json_boolean(l->build_tree));
  for (size_t i = 0; i < KEEL_INSTALL_ITEM_COUNT; i++)
    json_object_set_new(inst, keel_install_item_name(i),
                        l->dirs[i] ? json_string(l->dirs[i]) : json_null());
  json_object_set_new(root, "install", inst);
  FILE *out = keel_cli_machine_stdout();
  int rc = json_dumpf(root, out, JSON_INDENT(2));
  fputc('\n', out);
  json_decref(root);
  return rc ? KEEL_EXIT_RUNTIME : KEEL_EXIT_OK;
}

static int config_show(const config_args *a)
{
  keel_settings s;
  keel_install_layout l;
  keel_error err = {0};
  int rc = keel_settings_load(&s, &err);
  if (!rc)
    rc = keel_install_layout_find(&l, &err);
  else
    memset(&l, 0, sizeof l);
  if (!rc)
    rc = keel_settings_set_flag(&s, KEEL_SETTING_PLUGIN_PATH,
                                a->plugin_paths.items, a->plugin_paths.n, &err);
  if (!rc)
    rc = keel_settings_set_flag(&s, KEEL_SETTING_TRUSTED_KEYS,
                                a->trusted_keys.items, a->trusted_keys.n, &err);
  int code;
  if (rc) {
    keel_cli_error("config", "%s", err.message);
    code = keel_config_exit_code(rc);
  } else if (a->json) {
    code = show_json(&s, &l);
  } else {
    show_table(&s, &l);
    code = KEEL_EXIT_OK;
  }
  keel_install_layout_free(&l);
  keel_settings_free(&s);
  return code;
}

int keel_cmd_config(int argc, char **argv)
{
  config_args a = {0};
  keel_cli_operands ops;
  int code = keel_cli_parse(&keel_cli_config, argc, argv, &a, &ops);
  if (code == KEEL_CLI_GO && strcmp(ops.args.items[0], "show") != 0) {
    keel_cli_error("config", "unknown subcommand '%s'; expected: show",
                   ops.args.items[0]);
    code = KEEL_EXIT_CONFIG;
  }
  if (code == KEEL_CLI_GO)
    code = config_show(&a);
  keel_cli_free(&keel_cli_config, &a, &ops);
  return code;
}
