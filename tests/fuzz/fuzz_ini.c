/* libFuzzer target for keel's strict INI layer (core/config/ini.c) and the two
 * readers on top of it, manifests (core/config/manifest.c) and templates
 * (core/config/template.c).
 *
 * The first input byte picks what is fuzzed, the rest is the file:
 *   mode % 3 == 0  keel_ini_parse_buffer, and keel_ini_parse_file on the
 *                  same bytes: both must agree (same code, same message,
 *                  same sections and entries);
 *   mode % 3 == 1  keel_manifest_load;
 *   mode % 3 == 2  keel_template_load, then the template queries
 *                  (allow text, allows, defaults, ranges).
 * Beyond memory errors and leaks (ASan/UBSan), it checks what ini.h
 * promises of a parsed file (names of valid characters and lengths, no
 * duplicate sections or keys, lines in order, values trimmed and free of
 * control bytes, the text kept verbatim) and that every error has a
 * message naming the file ("PATH:..."). Build and run:
 * tests/fuzz/run_fuzz.sh ini.
 *
 * What `extends` can reach: a base is NAME.ini with NAME a plain name
 * ([a-z][a-z0-9_-]*: no '/', no "..") looked up in the input's own folder
 * (/proc/self/fd, which holds only numbers) and then the template search
 * list. The target pins that list's settings (template_path, and
 * XDG_CONFIG_HOME so no config.ini adds one) to a folder that does not
 * exist, so the bases an input can name are the shipped templates alone
 * (manifests/templates of the build tree, the install prefix's), whatever
 * the caller's environment. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/ini.h"
#include "config/manifest.h"
#include "config/template.h"
#include "fuzz_check.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A key: letters, digits, '_', '.', '-'; a section name also '@' and '+'
 * (the catalog's NAME@VERSION). */
static int name_ok(const char *s, size_t max, int section)
{
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return 0;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-' ||
          (section && (*c == '@' || *c == '+'))))
      return 0;
  return 1;
}

static int value_ok(const char *v)
{
  size_t n = strlen(v);
  if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
    return 0;
  for (const unsigned char *c = (const unsigned char *)v; *c; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
      return 0;
  return 1;
}

/* An error: a code, and a message that names the file. */
static void check_error(int rc, const keel_error *err, const char *path)
{
  CHECK(rc < 0);
  CHECK(err->message[0] != '\0');
  if (rc == KEEL_EINVAL)
    CHECK(strncmp(err->message, path, strlen(path)) == 0);
}

static void check_ini(const keel_ini *ini, const uint8_t *text, size_t size)
{
  CHECK(ini->size == size);
  CHECK(ini->text[size] == '\0');
  CHECK(size == 0 || memcmp(ini->text, text, size) == 0);
  int last_line = 0;
  for (size_t i = 0; i < ini->n_sections; i++) {
    const keel_ini_section *s = &ini->sections[i];
    CHECK(name_ok(s->name, KEEL_INI_MAX_SECTION, 1));
    CHECK(s->line > last_line);
    last_line = s->line;
    CHECK(keel_ini_section_find(ini, s->name) == s);
    for (size_t k = 0; k < s->n_entries; k++) {
      const keel_ini_entry *e = &s->entries[k];
      CHECK(name_ok(e->key, KEEL_INI_MAX_KEY, 0));
      CHECK(e->value && value_ok(e->value));
      CHECK(e->line > last_line);
      last_line = e->line;
      CHECK(keel_ini_entry_find(s, e->key) == e);
    }
  }
  CHECK(keel_ini_entry_find(NULL, "x") == NULL);
}

static void same_ini(const keel_ini *a, const keel_ini *b)
{
  CHECK(a->n_sections == b->n_sections);
  for (size_t i = 0; i < a->n_sections; i++) {
    const keel_ini_section *x = &a->sections[i], *y = &b->sections[i];
    CHECK(strcmp(x->name, y->name) == 0 && x->line == y->line);
    CHECK(x->n_entries == y->n_entries);
    for (size_t k = 0; k < x->n_entries; k++)
      CHECK(strcmp(x->entries[k].key, y->entries[k].key) == 0 &&
            strcmp(x->entries[k].value, y->entries[k].value) == 0 &&
            x->entries[k].line == y->entries[k].line);
  }
}

static void fuzz_plain(const char *path, const uint8_t *text, size_t size)
{
  keel_ini *a = NULL, *b = NULL;
  keel_error ea = {0}, eb = {0};
  int ra = keel_ini_parse_buffer(path, (const char *)text, size, &a, &ea);
  int rb = keel_ini_parse_file(path, &b, &eb);
  CHECK(ra == rb);
  if (ra == 0) {
    CHECK(a && b);
    check_ini(a, text, size);
    same_ini(a, b);
  } else {
    CHECK(!a && !b);
    check_error(ra, &ea, path);
    CHECK(strcmp(ea.message, eb.message) == 0);
  }
  keel_ini_free(a);
  keel_ini_free(b);
}

static void fuzz_manifest(const char *path, const uint8_t *text, size_t size)
{
  keel_manifest *m = NULL;
  keel_error err = {0};
  int rc = keel_manifest_load(path, &m, &err);
  if (rc) {
    CHECK(!m);
    check_error(rc, &err, path);
    return;
  }
  CHECK(m && m->ini && m->dir);
  check_ini(m->ini, text, size);
  for (size_t i = 0; i < m->n_plugin_paths; i++)
    CHECK(m->plugin_paths[i] != NULL);
  for (size_t i = 0; i < m->ini->n_sections; i++)
    (void)keel_manifest_section_kind(m->ini->sections[i].name);
  keel_manifest_free(m);
}

static void fuzz_template(const char *path, const uint8_t *text, size_t size)
{
  keel_template *t = NULL;
  keel_error err = {0};
  int rc = keel_template_load(path, &t, &err);
  if (rc) {
    CHECK(!t);
    check_error(rc, &err, path);
    return;
  }
  CHECK(t && t->ini && t->name && t->version && t->summary);
  check_ini(t->ini, text, size);
  static const char *const keys[] = {"data", "train", "model.softmax",
                                     "optimizer.sgd", "source.csv"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    (void)keel_template_default_entry(t, keys[i], "lr", NULL);
    (void)keel_template_range_entry(t, keys[i], "epochs", NULL);
  }
  for (int kind = 0; kind <= KEEL_KIND_OPTIMIZER; kind++) {
    const keel_template_slot *s = &t->slots[kind];
    if (!s->present)
      continue;
    char *txt = keel_template_allow_text(t, (keel_kind)kind);
    free(txt);
    for (size_t i = 0; i < s->n_allow; i++) {
      static const char *const versions[] = {"0.0.1", "1.0.0", "1.2.3-rc.1",
                                             "2.0.0", "not-a-version"};
      CHECK(s->allow[i].plugin && s->allow[i].plugin[0]);
      for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        keel_error e2 = {0};
        int r2 = keel_template_allows(t, (keel_kind)kind, s->allow[i].plugin,
                                      versions[v], NULL, &e2);
        if (r2)
          CHECK(r2 < 0 && e2.message[0]);
      }
    }
    keel_error e3 = {0};
    if (keel_template_allows(t, (keel_kind)kind, "no-such-plugin-xyz", "1.0.0",
                             NULL, &e3) == 0) {
      /* allowed only if the slot names it */
      int named = 0;
      for (size_t i = 0; i < s->n_allow; i++)
        named |= strcmp(s->allow[i].plugin, "no-such-plugin-xyz") == 0;
      CHECK(named);
    } else {
      CHECK(e3.message[0]);
    }
  }
  keel_template_free(t);
}

/* Pins the template search list (see the top of this file). */
static void pin_template_search(void)
{
  static int done;
  if (done)
    return;
  done = 1;
  setenv("KEEL_TEMPLATE_PATH", "/nonexistent/keel-fuzz-templates", 1);
  setenv("XDG_CONFIG_HOME", "/nonexistent/keel-fuzz-config", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 65536)
    return 0;
  pin_template_search();
  const uint8_t *text = data + 1;
  size_t n = size - 1;
  const char *path = fuzz_file_put(text, n);
  if (!path)
    return 0;
  switch (data[0] % 3) {
  case 0: fuzz_plain(path, text, n); break;
  case 1: fuzz_manifest(path, text, n); break;
  default: fuzz_template(path, text, n); break;
  }
  return 0;
}
