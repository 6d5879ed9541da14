/* The result digest: what a run computed, apart from when and where.
 *
 * Which entries it covers is the bundle format's rule (bundle_format.c);
 * the digest is SHA-256 over the canonical text made of one
 * "<sha256 hex>  <name>\n" line per covered entry, sorted by name
 * (bytewise), i.e. a sha256sum listing of exactly those files. */
#include "base/sha256.h"
#include "bundle/bundle.h"

#include <stdlib.h>
#include <string.h>

#include "base/status.h"

int keel_bundle_digest_covers(const char *name)
{
  return keel_bundle_format_covers(keel_bundle_format_current(), name);
}

typedef struct digest_pair {
  const char *name;
  const char *sha;
} digest_pair;

static int pair_cmp(const void *a, const void *b)
{
  return strcmp(((const digest_pair *)a)->name, ((const digest_pair *)b)->name);
}

static int digest_compute(const keel_bundle_format *f, const char *const *names,
                          const char *const *sha256s, size_t n,
                          char digest_hex[65], char **lines_out,
                          keel_error *err)
{
  int rc = KEEL_OK;
  digest_pair *pairs = calloc(n ? n : 1, sizeof *pairs);
  char *text = NULL;
  size_t m = 0, len = 0, cap = 1;
  if (!pairs)
    return keel_fail(err, KEEL_ENOMEM, "result digest: out of memory");
  for (size_t i = 0; i < n; i++) {
    if (!keel_bundle_format_covers(f, names[i]))
      continue;
    if (strlen(sha256s[i]) != 64) {
      rc = keel_fail(err, KEEL_EINVAL, "result digest: '%s' has no SHA-256",
                     names[i]);
      goto out;
    }
    pairs[m].name = names[i];
    pairs[m].sha = sha256s[i];
    cap += 66 + strlen(names[i]) + 1;
    m++;
  }
  qsort(pairs, m, sizeof *pairs, pair_cmp);
  text = malloc(cap);
  if (!text) {
    rc = keel_fail(err, KEEL_ENOMEM, "result digest: out of memory");
    goto out;
  }
  text[0] = '\0';
  for (size_t i = 0; i < m; i++) {
    if (i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0) {
      rc = keel_fail(err, KEEL_EINVAL, "result digest: '%s' listed twice",
                     pairs[i].name);
      goto out;
    }
    len += (size_t)snprintf(text + len, cap - len, "%s  %s\n", pairs[i].sha,
                            pairs[i].name);
  }
  keel_sha256_hex(text, len, digest_hex);
  if (lines_out) {
    *lines_out = text;
    text = NULL;
  }
out:
  free(text);
  free(pairs);
  return rc;
}

int keel_bundle_digest_compute(const char *const *names,
                               const char *const *sha256s, size_t n,
                               char digest_hex[65], char **lines_out,
                               keel_error *err)
{
  return digest_compute(keel_bundle_format_current(), names, sha256s, n,
                        digest_hex, lines_out, err);
}

int keel_bundle_digest_compute_as(const keel_bundle_format *f,
                                  const char *const *names,
                                  const char *const *sha256s, size_t n,
                                  char digest_hex[65], keel_error *err)
{
  return digest_compute(f, names, sha256s, n, digest_hex, NULL, err);
}

int keel_bundle_digest_of(const keel_bundle *b, char digest_hex[65],
                          keel_error *err)
{
  const keel_bundle_format *f;
  int frc = keel_bundle_format_of(b, &f, err);
  if (frc)
    return frc;
  size_t n = b->n_members ? b->n_members : 1;
  const char **names = calloc(n, sizeof *names);
  const char **shas = calloc(n, sizeof *shas);
  char(*hex)[65] = calloc(n, sizeof *hex);
  size_t m = 0;
  int rc;
  if (!names || !shas || !hex) {
    rc = keel_fail(err, KEEL_ENOMEM, "result digest: out of memory");
    goto out;
  }
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *mb = &b->members[i];
    if (mb->is_dir || !keel_bundle_format_covers(f, mb->name))
      continue;
    keel_sha256_hex(mb->data, mb->size, hex[m]);
    names[m] = mb->name;
    shas[m] = hex[m];
    m++;
  }
  rc = digest_compute(f, names, shas, m, digest_hex, NULL, err);
out:
  free(names);
  free(shas);
  free(hex);
  return rc;
}
