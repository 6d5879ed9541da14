/* libFuzzer target for the data catalog reader (core/config/catalog.c), on
 * top of the strict INI layer. The input is a catalog file, read both from
 * memory (keel_catalog_parse) and from a file (keel_catalog_load): both
 * must agree. Beyond memory errors and leaks (ASan/UBSan), it checks what
 * catalog.h promises of an accepted catalog (entries sorted by name and
 * version, each id NAME@VERSION, a 64-hex SHA-256, at least one column and
 * at most one label, a path exactly for file: and sqlite: locations, no
 * user information in a URL, every entry found again by its exact id) and
 * that every refusal names the file ("PATH:..."). Build and run:
 * tests/fuzz/run_fuzz.sh catalog. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/catalog.h"
#include "fuzz_check.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const keel_catalog *c, const keel_catalog_entry *e)
{
  char id[256];
  snprintf(id, sizeof id, "%s@%s", e->name, e->version);
  CHECK(strcmp(id, e->id) == 0);
  CHECK(strlen(e->sha256) == 64);
  for (size_t i = 0; i < 64; i++)
    CHECK((e->sha256[i] >= '0' && e->sha256[i] <= '9') ||
          (e->sha256[i] >= 'a' && e->sha256[i] <= 'f'));
  CHECK(e->n_columns >= 1);
  size_t labels = 0;
  for (size_t i = 0; i < e->n_columns; i++)
    labels += e->columns[i].label != 0;
  CHECK(labels <= 1);
  int local =
      e->scheme == KEEL_LOCATION_FILE || e->scheme == KEEL_LOCATION_SQLITE;
  CHECK(local == (e->path != NULL));
  if (!local) {
    const char *host = strstr(e->location, "://");
    CHECK(host != NULL);
    host += 3;
    CHECK(!memchr(host, '@', strcspn(host, "/?#")));
  }
  CHECK(e->auth == KEEL_AUTH_NONE || !local);
  CHECK(e->owner && e->owner[0] && e->license && e->license[0]);
  CHECK(e->as_of && strlen(e->as_of) == 10 && e->description);
  CHECK(e->plugin && e->plugin[0]);
  for (size_t i = 0; i < e->n_options; i++)
    CHECK(strcmp(e->options[i].key, "path") != 0);
  const keel_catalog_entry *found = NULL;
  keel_error err = {0};
  /* Build metadata ("+b") is ignored by precedence, so an exact id may
   * find an entry of equal precedence: the same name and semver. */
  CHECK(keel_catalog_find(c, e->id, &found, &err) == KEEL_OK);
  CHECK(found && strcmp(found->name, e->name) == 0 &&
        keel_semver_compare(&found->semver, &e->semver) == 0);
}

static void check_catalog(const keel_catalog *c)
{
  CHECK(c->path && c->dir);
  for (size_t i = 0; i < c->n_entries; i++) {
    const keel_catalog_entry *e = &c->entries[i];
    if (i > 0) {
      const keel_catalog_entry *p = &c->entries[i - 1];
      int order = strcmp(p->name, e->name);
      CHECK(order < 0 ||
            (order == 0 && keel_semver_compare(&p->semver, &e->semver) < 0));
    }
    check_entry(c, e);
  }
  const keel_catalog_entry *none = NULL;
  keel_error err = {0};
  int rc = keel_catalog_find(c, "no-such-dataset-xyz", &none, &err);
  CHECK(rc == KEEL_ENOTFOUND && !none && err.message[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  const char *path = fuzz_file_put(data, size);
  if (!path)
    return 0;
  keel_catalog *a = NULL, *b = NULL;
  keel_error ea = {0}, eb = {0};
  int ra = keel_catalog_parse(path, (const char *)data, size, &a, &ea);
  int rb = keel_catalog_load(path, &b, &eb);
  CHECK(ra == rb);
  if (ra == KEEL_OK) {
    CHECK(a && b && a->n_entries == b->n_entries);
    check_catalog(a);
    for (size_t i = 0; i < a->n_entries; i++)
      CHECK(strcmp(a->entries[i].id, b->entries[i].id) == 0);
  } else {
    CHECK(!a && !b && ra < 0 && ea.message[0]);
    CHECK(strcmp(ea.message, eb.message) == 0);
    if (ra == KEEL_EINVAL)
      CHECK(strncmp(ea.message, path, strlen(path)) == 0);
  }
  keel_catalog_free(a);
  keel_catalog_free(b);
  return 0;
}
