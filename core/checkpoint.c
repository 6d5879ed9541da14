#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "status.h"

#define CKPT_MAGIC "KEELCKP1"
#define CKPT_VERSION 1u
#define CKPT_HEADER (8 + 4 + 4 + 5 * 8 + 4 * 8)
#define CKPT_HASH 32
/* Refuse absurd sizes before allocating (a hostile or broken file). */
#define CKPT_MAX_TEXT (256u * 1024u * 1024u)

typedef struct buf {
  unsigned char *p;
  size_t n, cap;
} buf;

static int buf_put(buf *b, const void *src, size_t n)
{
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n)
      cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
      return KEEL_ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
  return KEEL_OK;
}

static int put_u32(buf *b, uint32_t v)
{
  unsigned char le[4];
  for (int i = 0; i < 4; i++)
    le[i] = (unsigned char)(v >> (8 * i));
  return buf_put(b, le, 4);
}

static int put_u64(buf *b, uint64_t v)
{
  unsigned char le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (unsigned char)(v >> (8 * i));
  return buf_put(b, le, 8);
}

static int put_f32s(buf *b, const float *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    int rc = put_u32(b, u);
    if (rc)
      return rc;
  }
  return KEEL_OK;
}

static uint64_t get_u64(const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static uint32_t get_u32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void sha256(const void *data, size_t n, unsigned char out[CKPT_HASH])
{
  unsigned int len = CKPT_HASH;
  EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Writes bytes to path via a temporary file in the same folder. */
static int atomic_write(const char *path, const unsigned char *p, size_t n,
                        keel_error *err)
{
  size_t len = strlen(path);
  char *tmp = malloc(len + 32);
  if (!tmp)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int rc = keel_fail(err, KEEL_EIO, "checkpoint %s: cannot create %s: %s",
                       path, tmp, strerror(errno));
    free(tmp);
    return rc;
  }
  if (write_all(fd, p, n) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    return keel_fail(err, KEEL_EIO, "checkpoint %s: writing failed: %s",
                     path, strerror(e));
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    free(tmp);
    return keel_fail(err, KEEL_EIO, "checkpoint %s: cannot move in place: %s",
                     path, strerror(e));
  }
  free(tmp);
  /* Make the rename itself durable (best effort, as before). */
  (void)keel_fs_sync_dir_of(path);
  return KEEL_OK;
}

int keel_checkpoint_write(const char *path, const keel_checkpoint *ck,
                          keel_error *err)
{
  buf b = {0};
  const char *fp = ck->fingerprint ? ck->fingerprint : "";
  const char *mt = ck->metrics_jsonl ? ck->metrics_jsonl : "";
  uint64_t best;
  memcpy(&best, &ck->best_value, 8);
  int rc = buf_put(&b, CKPT_MAGIC, 8);
  rc = rc ? rc : put_u32(&b, CKPT_VERSION);
  rc = rc ? rc : put_u32(&b, 0);
  rc = rc ? rc : put_u64(&b, ck->epoch);
  rc = rc ? rc : put_u64(&b, ck->step);
  rc = rc ? rc : put_u64(&b, ck->best_epoch);
  rc = rc ? rc : put_u64(&b, ck->bad_epochs);
  rc = rc ? rc : put_u64(&b, best);
  rc = rc ? rc : put_u64(&b, ck->n_weights);
  rc = rc ? rc : put_u64(&b, ck->n_opt_state);
  rc = rc ? rc : put_u64(&b, strlen(fp));
  rc = rc ? rc : put_u64(&b, strlen(mt));
  rc = rc ? rc : buf_put(&b, fp, strlen(fp));
  rc = rc ? rc : put_f32s(&b, ck->weights, ck->n_weights);
  rc = rc ? rc : put_f32s(&b, ck->opt_state, ck->n_opt_state);
  rc = rc ? rc : buf_put(&b, mt, strlen(mt));
  if (rc == KEEL_OK) {
    unsigned char h[CKPT_HASH];
    sha256(b.p, b.n, h);
    rc = buf_put(&b, h, CKPT_HASH);
  }
  if (rc != KEEL_OK) {
    free(b.p);
    return keel_fail(err, KEEL_ENOMEM, "checkpoint %s: out of memory", path);
  }
  rc = atomic_write(path, b.p, b.n, err);
  free(b.p);
  return rc;
}

static int read_file(const char *path, unsigned char **out, size_t *n,
                     keel_error *err)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "checkpoint %s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return keel_fail(err, KEEL_EIO, "checkpoint %s: not a regular file",
                     path);
  }
  size_t size = (size_t)st.st_size;
  unsigned char *p = malloc(size ? size : 1);
  if (!p) {
    fclose(f);
    return keel_fail(err, KEEL_ENOMEM, "checkpoint %s: out of memory", path);
  }
  if (fread(p, 1, size, f) != size) {
    free(p);
    fclose(f);
    return keel_fail(err, KEEL_EIO, "checkpoint %s: read failed", path);
  }
  fclose(f);
  *out = p;
  *n = size;
  return KEEL_OK;
}

int keel_checkpoint_read(const char *path, keel_checkpoint *out,
                         keel_error *err)
{
  memset(out, 0, sizeof *out);
  unsigned char *p = NULL;
  size_t n = 0;
  int rc = read_file(path, &p, &n, err);
  if (rc != KEEL_OK)
    return rc;
  rc = KEEL_EINTEGRITY;
  if (n < CKPT_HEADER + CKPT_HASH || memcmp(p, CKPT_MAGIC, 8) != 0) {
    keel_fail(err, rc, "checkpoint %s: not a keel checkpoint (bad magic or "
              "shorter than a header)", path);
    goto fail;
  }
  unsigned char h[CKPT_HASH];
  sha256(p, n - CKPT_HASH, h);
  if (memcmp(h, p + n - CKPT_HASH, CKPT_HASH) != 0) {
    keel_fail(err, rc, "checkpoint %s: corrupted (SHA-256 of the contents "
              "does not match the one stored; file truncated or modified)",
              path);
    goto fail;
  }
  uint32_t version = get_u32(p + 8);
  if (version != CKPT_VERSION) {
    rc = KEEL_EUNSUPPORTED;
    keel_fail(err, rc, "checkpoint %s: format version %u, this keel reads "
              "version %u", path, version, CKPT_VERSION);
    goto fail;
  }
  const unsigned char *q = p + 16;
  out->epoch = get_u64(q);
  out->step = get_u64(q + 8);
  out->best_epoch = get_u64(q + 16);
  out->bad_epochs = get_u64(q + 24);
  uint64_t best = get_u64(q + 32);
  memcpy(&out->best_value, &best, 8);
  uint64_t nw = get_u64(q + 40), no = get_u64(q + 48);
  uint64_t nfp = get_u64(q + 56), nmt = get_u64(q + 64);
  size_t body = n - CKPT_HEADER - CKPT_HASH;
  if (nfp > CKPT_MAX_TEXT || nmt > CKPT_MAX_TEXT || nw > body / 4 ||
      no > body / 4 || nfp + nmt + 4 * (nw + no) != body) {
    keel_fail(err, rc, "checkpoint %s: sizes in the header do not add up "
              "to the file size", path);
    goto fail;
  }
  q = p + CKPT_HEADER;
  out->fingerprint = malloc(nfp + 1);
  out->metrics_jsonl = malloc(nmt + 1);
  out->weights = malloc(nw ? nw * 4 : 1);
  out->opt_state = malloc(no ? no * 4 : 1);
  if (!out->fingerprint || !out->metrics_jsonl || !out->weights ||
      !out->opt_state) {
    rc = keel_fail(err, KEEL_ENOMEM, "checkpoint %s: out of memory", path);
    goto fail;
  }
  memcpy(out->fingerprint, q, nfp);
  out->fingerprint[nfp] = '\0';
  q += nfp;
  for (size_t i = 0; i < nw; i++, q += 4) {
    uint32_t u = get_u32(q);
    memcpy(&out->weights[i], &u, 4);
  }
  for (size_t i = 0; i < no; i++, q += 4) {
    uint32_t u = get_u32(q);
    memcpy(&out->opt_state[i], &u, 4);
  }
  memcpy(out->metrics_jsonl, q, nmt);
  out->metrics_jsonl[nmt] = '\0';
  if (memchr(out->fingerprint, '\0', nfp) ||
      memchr(out->metrics_jsonl, '\0', nmt)) {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "checkpoint %s: NUL byte inside a text field", path);
    goto fail;
  }
  out->n_weights = nw;
  out->n_opt_state = no;
  free(p);
  return KEEL_OK;
fail:
  free(p);
  keel_checkpoint_free(out);
  return rc;
}

void keel_checkpoint_free(keel_checkpoint *ck)
{
  if (!ck)
    return;
  free(ck->fingerprint);
  free(ck->weights);
  free(ck->opt_state);
  free(ck->metrics_jsonl);
  memset(ck, 0, sizeof *ck);
}
