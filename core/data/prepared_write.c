/* The prepared data as files (`keel run --until-transforms`): the split
 * record (split.json), the schemas, the fitted states and the matrices as
 * .npy, written into a fresh folder of this writer's own, put into place in
 * one step (rename, or an exchange with the folder there), so the folder at
 * the target is never half-written, and writers running at once each
 * succeed: the last one's folder stays. */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_text.h"
#include "base/log.h"
#include "base/npy.h"
#include "base/status.h"
#include "data/pipeline_internal.h"
#include "plugin/state.h"

/* Names and classes through base/json_text.h: one that is not UTF-8 is
 * an error naming it (err may be NULL), never a gap in the array. */
static json_t *string_array(char *const *v, size_t n, const char *what,
                            keel_error *err)
{
  json_t *a = json_array();
  if (!a) {
    keel_fail(err, KEEL_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (keel_json_append_text(a, v[i], err, "%s %zu", what, i + 1)) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static json_t *row_array(const size_t *rows, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_integer((json_int_t)rows[i]));
  return a;
}

char *keel_prepared_split_json(const keel_prepared *p)
{
  json_t *counts = json_object(), *hashes = json_object();
  for (int k = 0; counts && hashes && k < KEEL_SPLIT_N; k++) {
    const char *name = keel_split_part_name((keel_split_part)k);
    json_object_set_new(counts, name, json_integer((json_int_t)p->split.n[k]));
    json_object_set_new(hashes, name, json_string(p->split.sha256[k]));
  }
  json_t *j =
      json_pack("{s:I, s:b, s:f, s:f, s:s, s:I, s:I, s:o, s:o, s:o, s:o}",
                "seed", (json_int_t)p->split.seed, "stratified",
                p->split.stratified, "valid_fraction", p->split.valid_fraction,
                "test_fraction", p->split.test_fraction, "row_hash",
                "sha256 of the ascending 0-based source data row indices as "
                "little-endian uint64",
                "source_rows", (json_int_t)p->n_source_rows,
                "dropped_missing_label", (json_int_t)p->n_dropped,
                "dropped_rows", row_array(p->dropped_rows, p->n_dropped),
                "counts", counts, "sha256", hashes, "classes",
                string_array(p->class_names, p->n_classes, "class", NULL));
  /* only when asked: a run without sampling records what it always did */
  json_t *sampling = keel_sample_json(&p->sample, p->class_names, NULL);
  if (j && sampling)
    json_object_set_new(j, "sampling", sampling);
  else
    json_decref(sampling);
  return keel__dump_json(j);
}

static int write_text(const char *dir, const char *name, char *text,
                      keel_error *err)
{
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "out of memory building %s", name);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n = strlen(text);
  /* end text files with a newline */
  char *withnl = malloc(n + 2);
  int rc;
  if (!withnl) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  } else {
    memcpy(withnl, text, n);
    withnl[n] = '\n';
    rc = keel_write_file_atomic(path, withnl, n + 1, 0644, 0, err);
  }
  free(withnl);
  free(text);
  return rc;
}

/* The names keel_prepared_write creates (and may replace). */
static int is_prepared_file(const char *name)
{
  size_t n = strlen(name);
  if (strcmp(name, "split.json") == 0 || strcmp(name, "schemas.json") == 0)
    return 1;
  if (n > 4 && strcmp(name + n - 4, ".npy") == 0)
    return strncmp(name, "X_", 2) == 0 || strncmp(name, "y_", 2) == 0 ||
           strncmp(name, "rows_", 5) == 0;
  return n > 8 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' &&
         name[1] <= '9' && name[2] == '-' && strcmp(name + n - 5, ".json") == 0;
}

/* Refuses to replace dir unless it is a folder of prepared data: it holds
 * split.json and nothing but prepared files, so a mistyped path never
 * loses a user's files. */
static int check_replaceable(const char *dir, keel_error *err)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/split.json", dir);
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || stat(path, &st) != 0)
    return keel_fail(err, KEEL_EINVAL,
                     "%s exists and is not a prepared-data "
                     "folder (no split.json); refusing to replace it",
                     dir);
  DIR *d = opendir(dir);
  if (!d)
    return keel_fail(err, KEEL_EIO, "%s: %s", dir, strerror(errno));
  struct dirent *e;
  int rc = KEEL_OK;
  while (!rc && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
        !is_prepared_file(e->d_name))
      rc = keel_fail(err, KEEL_EINVAL,
                     "%s: cannot replace it: it holds %s, a file keel did "
                     "not write",
                     dir, e->d_name);
  }
  closedir(d);
  return rc;
}

/* Removes a folder holding only prepared files (and the temporaries of
 * their atomic writes); anything else stays, and so does the folder. */
static int remove_prepared_dir(const char *dir, keel_error *err)
{
  char path[4200];
  DIR *d = opendir(dir);
  if (!d)
    return keel_fail(err, KEEL_EIO, "%s: %s", dir, strerror(errno));
  struct dirent *e;
  int rc = KEEL_OK;
  while (!rc && (e = readdir(d)) != NULL) {
    if (!is_prepared_file(e->d_name) && !keel_fs_is_temp_name(e->d_name))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) != 0)
      rc = keel_fail(err, KEEL_EIO, "%s: %s", path, strerror(errno));
  }
  closedir(d);
  if (!rc && rmdir(dir) != 0)
    rc = keel_fail(err, KEEL_EIO,
                   "%s: cannot remove it (%s); it holds "
                   "files keel did not write",
                   dir, strerror(errno));
  return rc;
}

/* Puts the complete folder tmp at dir in one step. A new dir: rename. An
 * existing folder of prepared data: exchanged with tmp (renameat2
 * RENAME_EXCHANGE), so a reader finds the old folder or the new one,
 * never none and never a part; the old one, now at tmp, is removed. On a
 * file system that cannot exchange, the old folder is renamed aside
 * first (a reader may then find none for a moment, never a part).
 * Writers racing here each succeed and the last one's folder stays. */
static int put_in_place(const char *tmp, const char *dir, keel_error *err)
{
  for (int attempt = 0; attempt < 64; attempt++) {
    if (rename(tmp, dir) == 0)
      return keel_fs_sync_dir_of(dir, err);
    if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR &&
        errno != ENOTDIR)
      return keel_fail(err, KEEL_EIO, "%s: rename failed: %s", dir,
                       strerror(errno));
    int rc = check_replaceable(dir, err);
    if (rc == KEEL_EINVAL && access(dir, F_OK) != 0)
      continue; /* gone meanwhile: try the plain rename again */
    if (rc)
      return rc;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
      keel_error old_err = {0};
      /* tmp now holds the folder that was at dir */
      if (remove_prepared_dir(tmp, &old_err) != KEEL_OK)
        keel_log_emit(KEEL_LOG_WARN, "the replaced prepared data stays: %s",
                      old_err.message);
      return keel_fs_sync_dir_of(dir, err);
    }
    if (errno == ENOENT)
      continue;
    if (errno != EINVAL && errno != ENOSYS)
      return keel_fail(err, KEEL_EIO, "%s: cannot replace it: %s", dir,
                       strerror(errno));
    char aside[4200];
    snprintf(aside, sizeof aside, "%s-old", tmp);
    if (rename(dir, aside) == 0)
      remove_prepared_dir(aside, NULL);
    else if (errno != ENOENT)
      return keel_fail(err, KEEL_EIO, "%s: cannot move it aside: %s", dir,
                       strerror(errno));
  }
  return keel_fail(err, KEEL_EIO,
                   "%s: other writers kept replacing it; gave up after 64 "
                   "tries",
                   dir);
}

static int write_prepared_files(const keel_prepared *p, const char *dir,
                                keel_error *err)
{
  char path[4096], name[512];
  int rc = KEEL_OK;
  for (int k = 0; !rc && k < KEEL_SPLIT_N; k++) {
    const keel_prepared_part *pp = &p->part[k];
    const char *part = keel_split_part_name((keel_split_part)k);
    snprintf(path, sizeof path, "%s/X_%s.npy", dir, part);
    rc = keel_npy_write_f32_2d(path, pp->X, pp->n_rows, p->n_features, err);
    if (!rc) {
      snprintf(path, sizeof path, "%s/y_%s.npy", dir, part);
      rc = keel_npy_write_f32_1d(path, pp->y, pp->n_rows, err);
    }
    if (!rc) {
      int64_t *rows = malloc((pp->n_rows ? pp->n_rows : 1) * sizeof *rows);
      if (!rows)
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
      for (size_t i = 0; i < pp->n_rows; i++)
        rows[i] = (int64_t)pp->rows[i];
      snprintf(path, sizeof path, "%s/rows_%s.npy", dir, part);
      rc = keel_npy_write(path, KEEL_NPY_I64, rows, 1, &pp->n_rows, err);
      free(rows);
    }
  }
  for (size_t i = 0; !rc && i < p->n_transforms; i++) {
    snprintf(name, sizeof name, "%02zu-%s.json", i + 1,
             p->schemas.stages[i + 1].section);
    rc = write_text(dir, name, keel_state_to_json(p->states[i]), err);
  }
  if (!rc) {
    json_t *j = keel__schemas_json(&p->schemas);
    json_t *fn = string_array(p->feature_names, p->n_features,
                              "schemas.json: feature name", err);
    json_t *cl = fn ? string_array(p->class_names, p->n_classes,
                                   "schemas.json: class", err)
                    : NULL;
    if (!fn || !cl) {
      rc = err && err->code ? err->code : KEEL_EINVAL;
      json_decref(fn);
      json_decref(j);
    } else if (!j || json_object_set_new(j, "feature_names", fn) ||
               json_object_set_new(j, "classes", cl)) {
      json_decref(j);
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory building schemas.json");
    } else {
      rc = write_text(dir, "schemas.json", keel__dump_json(j), err);
    }
  }
  if (!rc)
    rc = write_text(dir, "split.json", keel_prepared_split_json(p), err);
  return rc;
}

int keel_prepared_write(const keel_prepared *p, const char *dir,
                        keel_error *err)
{
  size_t n = strlen(dir);
  if (n == 0 || n > 3000)
    return keel_fail(err, KEEL_EINVAL, "prepared-data folder: bad path '%s'",
                     dir);
  char tmp[3100], parent[3100];
  memcpy(parent, dir, n + 1);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    int rc = keel_fs_mkdir_p(parent, err);
    if (rc)
      return rc;
  }
  /* everything goes into a fresh sibling folder, renamed into place at
   * the end: the folder at `dir` is never half-written */
  snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", dir);
  if (!mkdtemp(tmp))
    return keel_fail(err, KEEL_EIO,
                     "%s: cannot create a temporary folder: "
                     "%s",
                     tmp, strerror(errno));
  chmod(tmp, 0755);
  int rc = write_prepared_files(p, tmp, err);
  if (!rc)
    rc = put_in_place(tmp, dir, err);
  if (rc)
    remove_prepared_dir(tmp, NULL); /* keeps err: its own goes to NULL */
  return rc;
}
