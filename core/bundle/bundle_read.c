/* Reading a bundle as untrusted input (keel_bundle_open): every member's
 * name, type and size checked after libarchive decoded its header and
 * before its data is read, duplicates and file/folder clashes refused,
 * the whole gzip layer checked on its own (libarchive forgives it). */
#include "bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/filecopy.h"
#include "base/status.h"
#include "bundle/bundle_name.h"
#include "bundle/gzcheck.h"

const keel_bundle_limits keel_bundle_default_limits = {
    (uint64_t)512 << 20, (uint64_t)2 << 30, 100000};

/* ---- names -------------------------------------------------------------- */

/* A small open-addressing set of names, to refuse duplicates as soon as
 * the header is decoded. */
typedef struct name_set {
  char **slots;
  size_t cap, n;
} name_set;

static uint64_t fnv1a(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* 1 inserted, 0 already there, -1 ENOMEM. name borrowed (must outlive). */
static int name_set_add(name_set *s, char *name)
{
  if (2 * (s->n + 1) > s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots)
      return -1;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i]) {
        size_t j = fnv1a(s->slots[i]) & (cap - 1);
        while (slots[j])
          j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
      }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
  }
  for (size_t j = fnv1a(name) & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
    if (!s->slots[j]) {
      s->slots[j] = name;
      s->n++;
      return 1;
    }
    if (strcmp(s->slots[j], name) == 0)
      return 0;
  }
}

/* ---- the gzip layer ------------------------------------------------------ */

/* libarchive accepts a gzip stream with a bad CRC or trailing garbage, and
 * zlib ignores padding bits: gzcheck.c checks the whole gzip layer.
 * Returns NULL or a malloc'd description. */
static char *gzip_problem(const char *path)
{
  /* A layer that cannot be checked is a problem, never a pass: the tar
   * reader opened the path a moment ago, so this means it changed since. */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char why_not[512];
  if (fd < 0) {
    snprintf(why_not, sizeof why_not,
             "%s: cannot open for the gzip check: "
             "%s",
             path, strerror(errno));
    return strdup(why_not);
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why_not, sizeof why_not,
             "%s: not a regular file at the gzip "
             "check (it changed while being read)",
             path);
    return strdup(why_not);
  }
  /* Read, not mapped: a bundle truncated meanwhile is a message. */
  keel_file_copy *copy = NULL;
  keel_error err = {0};
  int rc = keel_file_copy_open(fd, (size_t)st.st_size, path, NULL, NULL, &copy,
                               &err);
  close(fd);
  if (!rc)
    rc = keel_file_copy_fill(copy, (size_t)st.st_size, &err);
  char *why = rc ? strdup(err.message)
                 : keel_gzip_layer_problem(keel_file_copy_data(copy),
                                           keel_file_copy_len(copy));
  keel_file_copy_unref(copy);
  return why;
}

/* ---- opening ------------------------------------------------------------ */

static int member_cmp(const void *a, const void *b)
{
  return strcmp(((const keel_bundle_member *)a)->name,
                ((const keel_bundle_member *)b)->name);
}

void keel_bundle_close(keel_bundle *b)
{
  if (!b)
    return;
  for (size_t i = 0; i < b->n_members; i++) {
    free(b->members[i].name);
    free(b->members[i].data);
  }
  free(b->members);
  free(b->archive_problem);
  free(b->top);
  free(b->path);
  free(b);
}

static int push_member(keel_bundle *b, size_t *cap, char *name, int is_dir)
{
  if (b->n_members == *cap) {
    size_t ncap = *cap ? 2 * *cap : 64;
    keel_bundle_member *m = realloc(b->members, ncap * sizeof *m);
    if (!m)
      return -1;
    b->members = m;
    *cap = ncap;
  }
  memset(&b->members[b->n_members], 0, sizeof b->members[0]);
  b->members[b->n_members].name = name;
  b->members[b->n_members].is_dir = is_dir;
  b->n_members++;
  return 0;
}

static const char *ar_msg(struct archive *a)
{
  const char *m = archive_error_string(a);
  return m ? m : "unknown libarchive error";
}

/* Checks one decoded header; on success *rel is the malloc'd name below
 * the top folder, or NULL for the top folder entry itself. */
static int check_header(keel_bundle *b, struct archive_entry *e,
                        const keel_bundle_limits *lim, uint64_t *total,
                        char **rel, int *is_dir, keel_error *err)
{
  const char *raw = archive_entry_pathname(e);
  const char *why, *slash;
  char *name;
  size_t len, top_len;
  mode_t type = archive_entry_filetype(e);
  *rel = NULL;
  if (!raw)
    return keel_fail(err, KEEL_EINTEGRITY, "%s: a member has no readable name",
                     b->path);
  if (archive_entry_hardlink(e) || archive_entry_symlink(e) || type == AE_IFLNK)
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: member '%s' is a link; bundles hold no links",
                     b->path, raw);
  if (type != AE_IFREG && type != AE_IFDIR)
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: member '%s' is a device, fifo or socket; bundles "
                     "hold only files and folders",
                     b->path, raw);
  *is_dir = type == AE_IFDIR;
  name = strdup(raw);
  if (!name)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", b->path);
  len = strlen(name);
  if (*is_dir && len > 1 && name[len - 1] == '/')
    name[--len] = '\0';
  why = keel__bundle_name_problem(name);
  if (why) {
    keel_fail(err, KEEL_EINTEGRITY, "%s: member '%s' refused: %s", b->path, raw,
              why);
    free(name);
    return KEEL_EINTEGRITY;
  }
  slash = strchr(name, '/');
  top_len = slash ? (size_t)(slash - name) : len;
  if (!b->top) {
    b->top = strndup(name, top_len);
    if (!b->top) {
      free(name);
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", b->path);
    }
  } else if (strlen(b->top) != top_len || strncmp(b->top, name, top_len)) {
    keel_fail(err, KEEL_EINTEGRITY,
              "%s: member '%s' is outside the bundle's folder '%s/'", b->path,
              raw, b->top);
    free(name);
    return KEEL_EINTEGRITY;
  }
  if (!slash && !*is_dir) {
    keel_fail(err, KEEL_EINTEGRITY,
              "%s: member '%s' is a file where the bundle's folder should be",
              b->path, raw);
    free(name);
    return KEEL_EINTEGRITY;
  }
  if (!*is_dir) {
    la_int64_t size = archive_entry_size(e);
    if (!archive_entry_size_is_set(e) || size < 0)
      goto size_fail;
    if ((uint64_t)size > lim->max_member_bytes) {
      keel_fail(err, KEEL_EINTEGRITY,
                "%s: member '%s' is %lld bytes, over the limit of %llu",
                b->path, raw, (long long)size,
                (unsigned long long)lim->max_member_bytes);
      free(name);
      return KEEL_EINTEGRITY;
    }
    *total += (uint64_t)size;
    if (*total > lim->max_total_bytes) {
      keel_fail(err, KEEL_EINTEGRITY,
                "%s: members add up to more than %llu bytes (at '%s')", b->path,
                (unsigned long long)lim->max_total_bytes, raw);
      free(name);
      return KEEL_EINTEGRITY;
    }
  }
  if (slash) {
    *rel = strdup(slash + 1);
    free(name);
    if (!*rel)
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", b->path);
  } else {
    free(name);
  }
  return 0;
size_fail:
  keel_fail(err, KEEL_EINTEGRITY, "%s: member '%s' has no valid size", b->path,
            raw);
  free(name);
  return KEEL_EINTEGRITY;
}

static int read_member_data(struct archive *a, keel_bundle *b,
                            keel_bundle_member *m, size_t size, keel_error *err)
{
  size_t got = 0;
  m->data = malloc(size + 1);
  if (!m->data)
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory reading '%s'",
                     b->path, m->name);
  while (got < size) {
    la_ssize_t r = archive_read_data(a, m->data + got, size - got);
    if (r < 0)
      return keel_fail(err, KEEL_EINTEGRITY,
                       "%s: member '%s' is corrupt or truncated: %s", b->path,
                       m->name, ar_msg(a));
    if (r == 0)
      return keel_fail(err, KEEL_EINTEGRITY,
                       "%s: member '%s' is truncated (%zu of %zu bytes)",
                       b->path, m->name, got, size);
    got += (size_t)r;
  }
  m->data[size] = '\0';
  m->size = size;
  return 0;
}

/* Reads every member of the open archive a into b: headers checked,
 * duplicates refused, data read. */
static int read_members(struct archive *a, keel_bundle *b,
                        const keel_bundle_limits *lim, keel_error *err)
{
  struct archive_entry *e;
  name_set seen = {0};
  size_t cap = 0;
  uint64_t total = 0;
  const char *path = b->path;
  int rc = 0;
  for (;;) {
    char *rel = NULL;
    int is_dir = 0, ins;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK) {
      rc = keel_fail(err, KEEL_EINTEGRITY, "%s: %s: %s", path,
                     b->n_members || b->top ? "truncated or corrupt archive"
                                            : "not a tar.gz bundle",
                     ar_msg(a));
      break;
    }
    if (archive_filter_count(a) > 2 ||
        (archive_filter_count(a) == 2 &&
         archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)) {
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "%s: nested or unexpected compression; a bundle is one "
                     "gzip layer over a tar",
                     path);
      break;
    }
    rc = check_header(b, e, lim, &total, &rel, &is_dir, err);
    if (rc)
      break;
    if (!rel) /* the top folder itself */
      continue;
    if (b->n_members >= lim->max_members) {
      free(rel);
      rc = keel_fail(err, KEEL_EINTEGRITY, "%s: more than %zu members", path,
                     lim->max_members);
      break;
    }
    ins = name_set_add(&seen, rel);
    if (ins <= 0) {
      rc = ins < 0 ? keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path)
                   : keel_fail(err, KEEL_EINTEGRITY,
                               "%s: member '%s/%s' appears twice", path, b->top,
                               rel);
      free(rel);
      break;
    }
    if (push_member(b, &cap, rel, is_dir)) {
      free(rel);
      rc = keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
      break;
    }
    if (!is_dir) {
      rc = read_member_data(a, b, &b->members[b->n_members - 1],
                            (size_t)archive_entry_size(e), err);
      if (rc)
        break;
    }
  }
  free(seen.slots);
  return rc;
}

/* A folder member must not also be a prefix-conflicting file: "x" file
 * and "x/y" would make extraction ambiguous. b->members sorted. */
static int refuse_file_and_folder(const keel_bundle *b, keel_error *err)
{
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    size_t n = strlen(m->name);
    if (m->is_dir)
      continue;
    for (size_t j = i + 1; j < b->n_members; j++) {
      if (strncmp(b->members[j].name, m->name, n) != 0)
        break;
      if (b->members[j].name[n] == '/')
        return keel_fail(err, KEEL_EINTEGRITY,
                         "%s: member '%s' is both a file and a folder", b->path,
                         m->name);
    }
  }
  return 0;
}

int keel_bundle_open(const char *path, const keel_bundle_limits *limits,
                     keel_bundle **out, keel_error *err)
{
  const keel_bundle_limits *lim = limits ? limits : &keel_bundle_default_limits;
  struct archive *a = NULL;
  keel_bundle *b;
  struct stat st;
  int rc = 0;
  *out = NULL;
  if (stat(path, &st) != 0)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot open bundle: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return keel_fail(err, KEEL_EIO, "%s: not a regular file", path);
  if (st.st_size == 0) /* libarchive: "Unrecognized archive format" */
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: empty file (0 bytes): not a keel bundle", path);
  b = calloc(1, sizeof *b);
  if (!b || !(b->path = strdup(path))) {
    free(b);
    return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
  }
  a = archive_read_new();
  if (!a) {
    rc = keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    rc = keel_fail(err, KEEL_EINTEGRITY, "%s: not a tar.gz bundle: %s", path,
                   ar_msg(a));
    goto out;
  }
  rc = read_members(a, b, lim, err);
  if (rc)
    goto out;
  if (!b->top) {
    rc = keel_fail(err, KEEL_EINTEGRITY, "%s: empty archive; not a keel bundle",
                   path);
    goto out;
  }
  b->archive_problem = gzip_problem(path);
  if (b->n_members)
    qsort(b->members, b->n_members, sizeof *b->members, member_cmp);
  rc = refuse_file_and_folder(b, err);
out:
  if (a)
    archive_read_free(a);
  if (rc) {
    keel_bundle_close(b);
    return rc;
  }
  *out = b;
  return 0;
}

const keel_bundle_member *keel_bundle_find(const keel_bundle *b,
                                           const char *name)
{
  keel_bundle_member key = {0};
  const keel_bundle_member *m;
  key.name = (char *)name;
  if (!b->n_members)
    return NULL;
  m = bsearch(&key, b->members, b->n_members, sizeof key, member_cmp);
  return m && !m->is_dir ? m : NULL;
}

json_t *keel_bundle_json(const keel_bundle *b, const char *name,
                         keel_error *err)
{
  const keel_bundle_member *m = keel_bundle_find(b, name);
  json_error_t je;
  json_t *j;
  if (!m) {
    keel_fail(err, KEEL_ENOTFOUND, "%s: has no %s", b->path, name);
    return NULL;
  }
  j = json_loadb((const char *)m->data, m->size, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    keel_fail(err, KEEL_EDATA, "%s: %s:%d:%d: %s", b->path, name, je.line,
              je.column, je.text);
  return j;
}
