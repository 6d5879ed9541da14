/* Datasets in a manifest (see dataset.h). */
#include "config/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buffer.h"
#include "base/path.h"
#include "base/status.h"
#include "config/settings.h"

static char *text_of(keel_buf *b)
{
  return b->failed ? (keel_buf_free(b), NULL) : keel_buf_take(b);
}

int keel_catalog_choose(const char *flag, const char *manifest_path,
                        const char *manifest_dir, const keel_ini_entry *key,
                        keel_catalog_choice *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  keel_buf why = KEEL_BUF_INIT;
  if (flag) {
    out->path = strdup(flag);
    keel_buf_printf(&why, "--catalog");
  } else if (key) {
    out->path = keel_path_join(manifest_dir, key->value);
    keel_buf_printf(&why, "[keel] catalog (%s:%d)",
                    keel_path_basename(manifest_path), key->line);
  } else {
    keel_settings s;
    int rc = keel_settings_load(&s, err);
    if (rc) {
      keel_settings_free(&s);
      return rc;
    }
    const keel_setting *it = &s.items[KEEL_SETTING_CATALOG];
    out->path = strdup(it->value);
    if (it->source == KEEL_SETTING_FROM_ENV)
      keel_buf_printf(&why, "%s", it->decl->env);
    else if (it->source == KEEL_SETTING_FROM_FILE)
      keel_buf_printf(&why, "%s:%d ([%s] %s)", s.config_path, it->line,
                      it->decl->section, it->decl->key);
    else
      keel_buf_printf(&why, "the default location");
    keel_settings_free(&s);
  }
  out->origin = text_of(&why);
  if (!out->path || !out->origin) {
    keel_catalog_choice_free(out);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  return KEEL_OK;
}

void keel_catalog_choice_free(keel_catalog_choice *c)
{
  free(c->path);
  free(c->origin);
  memset(c, 0, sizeof *c);
}

int keel_dataset_resolve(const char *ref, const char *where,
                         const keel_catalog_choice *choice, keel_dataset **out,
                         keel_error *err)
{
  *out = NULL;
  keel_dataset *d = calloc(1, sizeof *d);
  if (!d || !(d->ref = strdup(ref)) || !(d->where = strdup(where)) ||
      !(d->catalog_path = strdup(choice->path)) ||
      !(d->catalog_origin = strdup(choice->origin))) {
    keel_dataset_free(d);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  struct stat st;
  if (stat(choice->path, &st) != 0) {
    int e = errno;
    keel_dataset_free(d);
    return keel_fail(err, e == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "the catalog %s (chosen by %s) cannot be read: %s; "
                     "expected a catalog file (docs/data-access.md): set "
                     "[keel] catalog in the manifest, KEEL_CATALOG, or "
                     "--catalog",
                     choice->path, choice->origin, strerror(e));
  }
  int rc = keel_catalog_load(choice->path, &d->catalog, err);
  if (!rc)
    rc = keel_catalog_find(d->catalog, ref, &d->entry, err);
  if (rc) {
    keel_dataset_free(d);
    return rc;
  }
  *out = d;
  return KEEL_OK;
}

void keel_dataset_free(keel_dataset *d)
{
  if (!d)
    return;
  free(d->ref);
  free(d->where);
  free(d->catalog_path);
  free(d->catalog_origin);
  keel_catalog_free(d->catalog);
  free(d);
}

/* Appends entry e with an absolute location and, when it has them, the
 * absolute path of its statistics (a drift check's reference). */
static int put_entry(keel_buf *b, const keel_catalog_entry *e)
{
  char *abs = e->path ? realpath(e->path, NULL) : NULL;
  keel_buf loc = KEEL_BUF_INIT;
  if (e->path)
    keel_buf_printf(&loc, "%s:%s", keel_location_scheme_name(e->scheme),
                    abs ? abs : e->path);
  free(abs);
  int rc = loc.failed ? KEEL_ENOMEM
                      : keel_catalog_entry_write(
                            b, e, loc.len ? (const char *)loc.data : NULL);
  keel_buf_free(&loc);
  if (!rc && e->stats) {
    char *sabs = realpath(e->stats, NULL);
    keel_catalog_put_value(b, "stats", sabs ? sabs : e->stats);
    free(sabs);
    if (e->stats_sha256[0])
      keel_catalog_put_value(b, "stats_sha256", e->stats_sha256);
  }
  return rc;
}

/* dataset.ini: the catalog entry the run read, as a catalog of one with
 * an absolute location, so a replay finds the same version (and where it
 * was) without the catalog it came from; beside it the entry a drift
 * check compared with, when that is another one. */
int keel_dataset_catalog_text(const keel_dataset *d,
                              const char *drift_reference, keel_buf *b)
{
  keel_buf_printf(b, "[catalog]\nformat = 1\n\n");
  int rc = put_entry(b, d->entry);
  const keel_catalog_entry *ref = NULL;
  if (!rc && drift_reference && drift_reference[0] &&
      strcmp(drift_reference, d->entry->id) != 0 &&
      keel_catalog_find(d->catalog, drift_reference, &ref, NULL) == KEEL_OK) {
    keel_buf_printf(b, "\n");
    rc = put_entry(b, ref);
  }
  return rc || b->failed ? KEEL_ENOMEM : KEEL_OK;
}
