/* The bundle's tar layout: ustar headers (owner 0:0, mode 0644 or 0755,
 * mtime 0, so the same entries give the same bytes), the header of one
 * member as the worker precomputes it, and the whole archive in memory
 * as the seal writes it, with the data of members compressed elsewhere
 * counted but not copied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/status.h"
#include "bundle/bundle_write_internal.h"

static int tar_header(struct archive *a, struct archive_entry *e,
                      const char *path, int is_dir, size_t size)
{
  archive_entry_clear(e);
  archive_entry_set_pathname(e, path);
  archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e, is_dir ? 0755 : 0644);
  archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)size);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_uname(e, "keel");
  archive_entry_set_gname(e, "keel");
  archive_entry_set_mtime(e, 0, 0);
  return archive_write_header(a, e);
}

/* Keeps the first 512 bytes libarchive writes, counts the rest. */
typedef struct hdrcap {
  unsigned char *out;
  size_t len;
} hdrcap;

static la_ssize_t hdrcap_write(struct archive *a, void *client, const void *buf,
                               size_t n)
{
  hdrcap *h = client;
  (void)a;
  if (h->len < 512)
    memcpy(h->out + h->len, buf, n < 512 - h->len ? n : 512 - h->len);
  h->len += n;
  return (la_ssize_t)n;
}

/* The ustar header of member name as build_tar writes it (the same
 * libarchive calls; the data passes through uncopied). 0 or -1. The seal
 * compares it with the header it wrote before using it. */
int keel__bundle_member_header(const keel__bundle_job *j,
                               unsigned char out[512])
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  char path[KEEL__BUNDLE_NAME_MAX + 128];
  hdrcap h = {out, 0};
  int ok = a && e && archive_write_set_format_ustar(a) == ARCHIVE_OK &&
           archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK &&
           archive_write_open(a, &h, NULL, hdrcap_write, NULL) == ARCHIVE_OK;
  snprintf(path, sizeof path, "%s/%s", j->run_id, j->name);
  ok = ok && tar_header(a, e, path, 0, j->size) == ARCHIVE_OK && h.len == 512;
  ok = ok && archive_write_data(a, j->data, j->size) == (la_ssize_t)j->size &&
       archive_write_close(a) == ARCHIVE_OK;
  archive_entry_free(e);
  archive_write_free(a);
  return ok ? 0 : -1;
}

/* A member as the tar stream holds it: its 512-byte header, its data, and
 * the zeros up to the next 512-byte block. The worker's segment and the
 * seal's fallback are both made from these spans, so they are the same
 * bytes by construction. Returns the padding's length. */
size_t keel__bundle_member_spans(const unsigned char *header,
                                 const keel__bundle_job *j,
                                 keel_gzseg_span span[3])
{
  static const unsigned char zeros[512];
  span[0].p = header;
  span[0].n = 512;
  span[1].p = j->data;
  span[1].n = j->size;
  span[2].p = zeros;
  span[2].n = (512 - j->size % 512) % 512;
  return span[2].n;
}

/* The tar is built in memory, unblocked: each byte libarchive writes
 * arrives here at once, so the buffer's length after a member's header
 * is where its data starts. */
static la_ssize_t tarbuf_write(struct archive *a, void *client, const void *buf,
                               size_t n)
{
  keel__tarbuf *t = client;
  /* a member with its own segment: its bytes are counted, never read */
  int rc =
      t->skip ? keel_buf_advance(&t->buf, n) : keel_buf_append(&t->buf, buf, n);
  if (rc != KEEL_OK) {
    archive_set_error(a, ENOMEM, "out of memory");
    return -1;
  }
  return (la_ssize_t)n;
}

/* Writes the sorted entries as a ustar archive into t (padded with zeros
 * to a multiple of 10240 bytes, the classic tar record), with start[i]
 * the offset of entry i's data. The data of members with a segment of
 * their own is not copied: t->buf holds only what is compressed at the
 * seal. Entries are sorted, so a folder entry is written before the first
 * entry below it. */
int keel__bundle_build_tar(keel_bundle_builder *b, keel__tarbuf *t,
                           size_t *start, const char *dest, keel_error *err)
{
  struct archive *a = archive_write_new();
  struct archive_entry *e = archive_entry_new();
  char path[KEEL__BUNDLE_NAME_MAX + 128];
  const char *prev = "";
  size_t bound = 512 + 1024 + 10240;
  int rc = 0;
  for (size_t i = 0; i < b->n; i++) {
    bound += 512 + (b->entries[i].job->size + 511) / 512 * 512;
    for (const char *s = strchr(b->entries[i].name, '/'); s;
         s = strchr(s + 1, '/'))
      bound += 512;
  }
  t->buf = (keel_buf)KEEL_BUF_INIT;
  t->skip = 0;
  if (!a || !e || keel_buf_reserve(&t->buf, bound) != KEEL_OK) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
      archive_write_open(a, t, NULL, tarbuf_write, NULL) != ARCHIVE_OK)
    goto ar_fail;
  if (tar_header(a, e, b->run_id, 1, 0) != ARCHIVE_OK)
    goto ar_fail;
  for (size_t i = 0; i < b->n; i++) {
    const keel__bundle_entry *en = &b->entries[i];
    /* Folder entries for each new parent of this name, in order. */
    for (const char *s = strchr(en->name, '/'); s; s = strchr(s + 1, '/')) {
      size_t plen = (size_t)(s - en->name);
      if (strncmp(prev, en->name, plen) == 0 && (prev[plen] == '/'))
        continue;
      snprintf(path, sizeof path, "%s/%.*s", b->run_id, (int)plen, en->name);
      if (tar_header(a, e, path, 1, 0) != ARCHIVE_OK)
        goto ar_fail;
    }
    snprintf(path, sizeof path, "%s/%s", b->run_id, en->name);
    if (tar_header(a, e, path, 0, en->job->size) != ARCHIVE_OK)
      goto ar_fail;
    start[i] = t->buf.len;
    t->skip = en->job->level >= 0;
    if (en->job->size && archive_write_data(a, en->job->data, en->job->size) !=
                             (la_ssize_t)en->job->size)
      goto ar_fail;
    t->skip = 0;
    if (t->buf.len - start[i] != en->job->size) {
      rc = keel_fail(err, KEEL_EIO,
                     "%s: the tar writer buffered member "
                     "'%s' (internal error)",
                     dest, en->name);
      goto out;
    }
    prev = en->name;
  }
  if (archive_write_close(a) != ARCHIVE_OK)
    goto ar_fail;
  while (t->buf.len % 10240) {
    static const unsigned char zero[512];
    size_t k = 10240 - t->buf.len % 10240;
    if (tarbuf_write(a, t, zero, k < sizeof zero ? k : sizeof zero) < 0)
      goto ar_fail;
  }
  goto out;
ar_fail:
  rc = keel_fail(err, KEEL_EIO, "%s: writing the archive failed: %s", dest,
                 archive_error_string(a) ? archive_error_string(a)
                                         : "unknown libarchive error");
out:
  archive_entry_free(e);
  archive_write_free(a);
  return rc;
}
