/* Checkpoints: a run's state after an epoch, or after a batch of an
 * interrupted epoch (weights, optimizer state, step, early stopping,
 * metric lines, the epoch's partial sums) in one little-endian file
 * ending in its SHA-256, written atomically; read back defensively. */
#include "train/checkpoint.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/fsutil.h"
#include "base/status.h"

#define CKPT_MAGIC "KEELCKP1"
#define CKPT_VERSION 2u
#define CKPT_HEADER_V1 (8 + 4 + 4 + 5 * 8 + 4 * 8)
#define CKPT_HEADER (CKPT_HEADER_V1 + 5 * 8)
#define CKPT_HASH 32
/* Refuse absurd sizes before allocating (a hostile or broken file). */
#define CKPT_MAX_TEXT (256u * 1024u * 1024u)

static int put_u32(keel_buf *b, uint32_t v)
{
  unsigned char le[4];
  for (int i = 0; i < 4; i++)
    le[i] = (unsigned char)(v >> (8 * i));
  return keel_buf_append(b, le, 4);
}

static int put_u64(keel_buf *b, uint64_t v)
{
  unsigned char le[8];
  for (int i = 0; i < 8; i++)
    le[i] = (unsigned char)(v >> (8 * i));
  return keel_buf_append(b, le, 8);
}

static int put_f32s(keel_buf *b, const float *v, size_t n)
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

int keel_checkpoint_encode(const keel_checkpoint *ck, unsigned char **out,
                           size_t *n, keel_error *err)
{
  keel_buf b = KEEL_BUF_INIT;
  const char *fp = ck->fingerprint ? ck->fingerprint : "";
  const char *mt = ck->metrics_jsonl ? ck->metrics_jsonl : "";
  uint64_t best, sums[3];
  memcpy(&best, &ck->best_value, 8);
  memcpy(&sums[0], &ck->loss_sum, 8);
  memcpy(&sums[1], &ck->sq_err_sum, 8);
  memcpy(&sums[2], &ck->abs_err_sum, 8);
  int rc = keel_buf_append(&b, CKPT_MAGIC, 8);
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
  rc = rc ? rc : put_u64(&b, ck->batch);
  for (int i = 0; i < 3; i++)
    rc = rc ? rc : put_u64(&b, sums[i]);
  rc = rc ? rc : put_u64(&b, ck->n_confusion);
  rc = rc ? rc : keel_buf_append(&b, fp, strlen(fp));
  rc = rc ? rc : put_f32s(&b, ck->weights, ck->n_weights);
  rc = rc ? rc : put_f32s(&b, ck->opt_state, ck->n_opt_state);
  for (size_t i = 0; i < ck->n_confusion; i++)
    rc = rc ? rc : put_u64(&b, ck->confusion[i]);
  rc = rc ? rc : keel_buf_append(&b, mt, strlen(mt));
  if (rc == KEEL_OK) {
    unsigned char h[CKPT_HASH];
    sha256(b.data, b.len, h);
    rc = keel_buf_append(&b, h, CKPT_HASH);
  }
  if (rc != KEEL_OK) {
    keel_buf_free(&b);
    return keel_fail(err, KEEL_ENOMEM, "checkpoint: out of memory");
  }
  *n = b.len;
  *out = (unsigned char *)keel_buf_take(&b);
  return *out ? KEEL_OK
              : keel_fail(err, KEEL_ENOMEM, "checkpoint: out of memory");
}

int keel_checkpoint_write(const char *path, const keel_checkpoint *ck,
                          keel_error *err)
{
  unsigned char *bytes = NULL;
  size_t n = 0;
  int rc = keel_checkpoint_encode(ck, &bytes, &n, err);
  if (rc == KEEL_OK)
    rc = keel_write_file_atomic(path, bytes, n, 0644, 0, err);
  free(bytes);
  return rc;
}

int keel_checkpoint_read(const char *path, keel_checkpoint *out,
                         keel_error *err)
{
  memset(out, 0, sizeof *out);
  unsigned char *p = NULL;
  size_t n = 0;
  keel_error why = {0};
  int rc = keel_read_file(path, &p, &n, &why);
  if (rc != KEEL_OK) /* "checkpoint PATH: cannot open: ..." */
    return keel_fail(err, rc, "checkpoint %s", why.message);
  rc = keel_checkpoint_parse(p, n, path, out, err);
  free(p);
  return rc;
}

int keel_checkpoint_parse(const unsigned char *p, size_t n, const char *path,
                          keel_checkpoint *out, keel_error *err)
{
  memset(out, 0, sizeof *out);
  int rc = KEEL_EINTEGRITY;
  if (n < CKPT_HEADER_V1 + CKPT_HASH || memcmp(p, CKPT_MAGIC, 8) != 0)
    return keel_fail(err, rc,
                     "checkpoint %s: not a keel checkpoint (bad magic or "
                     "shorter than a header)",
                     path);
  unsigned char h[CKPT_HASH];
  sha256(p, n - CKPT_HASH, h);
  if (memcmp(h, p + n - CKPT_HASH, CKPT_HASH) != 0)
    return keel_fail(err, rc,
                     "checkpoint %s: corrupted (SHA-256 of the contents "
                     "does not match the one stored; file truncated or "
                     "modified)",
                     path);
  uint32_t version = get_u32(p + 8);
  size_t header = version == 1 ? CKPT_HEADER_V1 : CKPT_HEADER;
  if ((version != 1 && version != CKPT_VERSION) || n < header + CKPT_HASH)
    return keel_fail(err, KEEL_EUNSUPPORTED,
                     "checkpoint %s: format version %u, this keel reads "
                     "versions 1 and %u",
                     path, version, CKPT_VERSION);
  const unsigned char *q = p + 16;
  out->epoch = get_u64(q);
  out->step = get_u64(q + 8);
  out->best_epoch = get_u64(q + 16);
  out->bad_epochs = get_u64(q + 24);
  uint64_t best = get_u64(q + 32);
  memcpy(&out->best_value, &best, 8);
  uint64_t nw = get_u64(q + 40), no = get_u64(q + 48);
  uint64_t nfp = get_u64(q + 56), nmt = get_u64(q + 64), nc = 0;
  if (version >= 2) {
    out->batch = get_u64(q + 72);
    uint64_t sums[3] = {get_u64(q + 80), get_u64(q + 88), get_u64(q + 96)};
    memcpy(&out->loss_sum, &sums[0], 8);
    memcpy(&out->sq_err_sum, &sums[1], 8);
    memcpy(&out->abs_err_sum, &sums[2], 8);
    nc = get_u64(q + 104);
  }
  size_t body = n - header - CKPT_HASH;
  if (nfp > CKPT_MAX_TEXT || nmt > CKPT_MAX_TEXT || nw > body / 4 ||
      no > body / 4 || nc > body / 8 ||
      nfp + nmt + 4 * (nw + no) + 8 * nc != body) {
    keel_fail(err, rc,
              "checkpoint %s: sizes in the header do not add up "
              "to the file size",
              path);
    goto fail;
  }
  q = p + header;
  out->fingerprint = malloc(nfp + 1);
  out->metrics_jsonl = malloc(nmt + 1);
  out->weights = malloc(nw ? nw * 4 : 1);
  out->opt_state = malloc(no ? no * 4 : 1);
  out->confusion = malloc(nc ? nc * 8 : 1);
  if (!out->fingerprint || !out->metrics_jsonl || !out->weights ||
      !out->opt_state || !out->confusion) {
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
  for (size_t i = 0; i < nc; i++, q += 8)
    out->confusion[i] = get_u64(q);
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
  out->n_confusion = nc;
  return KEEL_OK;
fail:
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
  free(ck->confusion);
  memset(ck, 0, sizeof *ck);
}
