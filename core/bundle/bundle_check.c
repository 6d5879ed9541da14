/* Checking an opened bundle (keel verify): every SHA256SUMS line against
 * its member, members SHA256SUMS does not list, the members every sealed
 * bundle has, the result digest against digest.txt and run.json, what
 * members say about one another (bundle_xref.c), the gzip layer, and the
 * signature. Each finding is one line of the report. */
#include "bundle/bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle_name.h"
#include "bundle/bundle_xref.h"
#include "bundle/sign.h"

/* One finding: a line of the report. */
static void problem(keel_buf *out, keel_bundle_report *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(keel_buf *out, keel_bundle_report *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  keel_buf_vprintf(out, fmt, ap);
  va_end(ap);
  r->n_problems++;
}

static int is_hex64(const char *s)
{
  for (int i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return 1;
}

void keel_bundle_report_free(keel_bundle_report *r)
{
  if (!r)
    return;
  free(r->problems);
  r->problems = NULL;
}

typedef struct sums_line {
  char sha[65];
  char *name; /* points into a copy of SHA256SUMS */
} sums_line;

static int sums_cmp(const void *a, const void *b)
{
  return strcmp(((const sums_line *)a)->name, ((const sums_line *)b)->name);
}

/* Parses SIGNATURE: "algorithm: ed25519\npublic-key-sha256: H\nsignature:
 * S\n". */
static int parse_signature(const keel_bundle_member *m,
                           unsigned char sig[KEEL_SIG_BYTES])
{
  const char *s = strstr((const char *)m->data, "\nsignature: ");
  if (strncmp((const char *)m->data, "algorithm: ed25519\n", 19) != 0 || !s)
    return -1;
  s += 12;
  for (int i = 0; i < KEEL_SIG_BYTES; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1)
      return -1;
    sig[i] = (unsigned char)v;
  }
  return 0;
}

int keel_bundle_signed_by(const keel_bundle *b, const char *pubkey_path,
                          keel_error *err)
{
  const keel_bundle_member *sigm = keel_bundle_find(b, "SIGNATURE");
  const keel_bundle_member *sums = keel_bundle_find(b, "SHA256SUMS");
  unsigned char sig[KEEL_SIG_BYTES];
  if (!sigm)
    return keel_fail(err, KEEL_ENOTFOUND, "the bundle is not signed");
  if (!sums || parse_signature(sigm, sig) != 0)
    return keel_fail(err, KEEL_EINTEGRITY, "SIGNATURE is malformed");
  return keel_sign_verify(pubkey_path, sums->data, sums->size, sig, NULL, err);
}

static void check_signature(const keel_bundle *b, const char *pubkey,
                            const keel_bundle_member *sums, keel_buf *out,
                            keel_bundle_report *r)
{
  const keel_bundle_member *sigm = keel_bundle_find(b, "SIGNATURE");
  unsigned char sig[KEEL_SIG_BYTES];
  keel_error e = {0};
  r->signed_ = sigm != NULL;
  if (!pubkey)
    return;
  if (!sigm) {
    problem(out, r, "signature: the bundle is not signed\n");
    return;
  }
  if (!sums || parse_signature(sigm, sig) != 0) {
    problem(out, r, "signature: SIGNATURE is malformed\n");
    return;
  }
  if (keel_sign_verify(pubkey, sums->data, sums->size, sig, NULL, &e) != 0) {
    problem(out, r, "signature: %s\n", e.message);
    return;
  }
  r->signature_checked = 1;
}

static void check_digest(const keel_bundle *b, keel_buf *out,
                         keel_bundle_report *r)
{
  const keel_bundle_member *d = keel_bundle_find(b, "digest.txt");
  keel_error e = {0};
  json_t *run;
  const char *rd;
  if (keel_bundle_digest_of(b, r->digest, &e) != 0) {
    problem(out, r, "digest: %s\n", e.message);
    return;
  }
  if (!d || d->size != 65 || !is_hex64((const char *)d->data) ||
      d->data[64] != '\n')
    problem(out, r, "digest: digest.txt is %s\n", d ? "malformed" : "missing");
  else if (memcmp(d->data, r->digest, 64) != 0)
    problem(out, r,
            "digest: digest.txt says %.64s but the covered files give %s\n",
            (const char *)d->data, r->digest);
  run = keel_bundle_json(b, "run.json", &e);
  rd = json_string_value(json_object_get(run, "result_digest"));
  if (!run && keel_bundle_find(b, "run.json"))
    /* An unreadable run record must not skip the cross-check. */
    problem(out, r, "malformed: run.json (%s)\n", e.message);
  else if (run && !json_is_object(run))
    problem(out, r, "malformed: run.json is not a JSON object\n");
  else if (run && (!rd || strcmp(rd, r->digest) != 0))
    problem(out, r, "digest: run.json result_digest %s does not match %s\n",
            rd ? rd : "(absent)", r->digest);
  json_decref(run);
}

/* Members the sealing itself always writes (bundle_seal.c); a bundle
 * without them was not sealed by keel or lost its run record. */
static void check_required(const keel_bundle *b, keel_buf *out,
                           keel_bundle_report *r)
{
  static const char *const required[] = {
      "run.json",    "plugins.json", "environment.json",
      "audit.jsonl", "README.md",    "digest.txt",
      NULL};
  for (const char *const *name = required; *name; name++)
    if (!keel_bundle_find(b, *name))
      problem(out, r, "missing: %s (every sealed bundle has it)\n", *name);
  json_error_t je;
  const keel_bundle_member *m = keel_bundle_find(b, "plugins.json");
  json_t *pj = m ? json_loadb((const char *)m->data, m->size, 0, &je) : NULL;
  if (m && (!pj || !json_is_array(json_object_get(pj, "plugins"))))
    problem(out, r,
            "malformed: plugins.json (expected {\"plugins\": [...]})\n");
  json_decref(pj);
}

/* The listing in SHA256SUMS: its well-formed lines sorted by name, their
 * names pointing into copy. */
typedef struct sums_list {
  sums_line *lines;
  size_t n;
  char *copy;
} sums_list;

/* Parses SHA256SUMS into L; a malformed line (or file) is a finding.
 * KEEL_ENOMEM when the copy cannot be made. */
static int parse_sums(const keel_bundle_member *sums, sums_list *L,
                      keel_buf *out, keel_bundle_report *r)
{
  char *line, *save = NULL;
  size_t lineno = 0, cap = 0;
  L->copy = malloc(sums->size + 1);
  if (!L->copy)
    return KEEL_ENOMEM;
  memcpy(L->copy, sums->data, sums->size + 1);
  if (memchr(L->copy, '\0', sums->size) ||
      (sums->size && L->copy[sums->size - 1] != '\n')) {
    problem(out, r, "modified: SHA256SUMS (not a sha256sum listing)\n");
    return KEEL_OK;
  }
  for (line = strtok_r(L->copy, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    if (strlen(line) < 67 || !is_hex64(line) || line[64] != ' ' ||
        line[65] != ' ' || keel__bundle_name_problem(line + 66)) {
      problem(out, r, "modified: SHA256SUMS (line %zu malformed)\n", lineno);
      continue;
    }
    if (L->n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      sums_line *g = realloc(L->lines, ncap * sizeof *g);
      if (!g)
        break;
      L->lines = g;
      cap = ncap;
    }
    memcpy(L->lines[L->n].sha, line, 64);
    L->lines[L->n].sha[64] = '\0';
    L->lines[L->n].name = line + 66;
    L->n++;
  }
  if (L->n)
    qsort(L->lines, L->n, sizeof *L->lines, sums_cmp);
  return KEEL_OK;
}

/* Every listed file against its member's SHA-256. */
static void check_listed(const keel_bundle *b, const sums_list *L,
                         keel_buf *out, keel_bundle_report *r)
{
  for (size_t i = 0; i < L->n; i++) {
    const sums_line *l = &L->lines[i];
    char hex[65];
    if (i > 0 && strcmp(l->name, L->lines[i - 1].name) == 0) {
      problem(out, r, "modified: SHA256SUMS (lists %s twice)\n", l->name);
      continue;
    }
    if (strcmp(l->name, "SHA256SUMS") == 0 ||
        strcmp(l->name, "SIGNATURE") == 0) {
      problem(out, r, "modified: SHA256SUMS (lists %s)\n", l->name);
      continue;
    }
    const keel_bundle_member *m = keel_bundle_find(b, l->name);
    if (!m) {
      problem(out, r, "missing: %s\n", l->name);
      continue;
    }
    keel_sha256_hex(m->data, m->size, hex);
    if (strcmp(hex, l->sha) != 0)
      problem(out, r, "modified: %s\n", l->name);
  }
}

/* Every file member that SHA256SUMS does not list (but itself and
 * SIGNATURE). */
static void check_unlisted(const keel_bundle *b, const sums_list *L,
                           keel_buf *out, keel_bundle_report *r)
{
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    sums_line key;
    if (m->is_dir || strcmp(m->name, "SHA256SUMS") == 0 ||
        strcmp(m->name, "SIGNATURE") == 0)
      continue;
    key.name = m->name;
    if (!L->n || !bsearch(&key, L->lines, L->n, sizeof key, sums_cmp))
      problem(out, r, "extra: %s\n", m->name);
  }
}

int keel_bundle_check(const keel_bundle *b, const char *pubkey_path,
                      keel_bundle_report *r, keel_error *err)
{
  const keel_bundle_member *sums = keel_bundle_find(b, "SHA256SUMS");
  sums_list list = {0};
  keel_buf out = KEEL_BUF_INIT;
  int rc = KEEL_OK;
  memset(r, 0, sizeof *r);
  if (!sums) {
    problem(&out, r, "missing: SHA256SUMS\n");
  } else if (parse_sums(sums, &list, &out, r) != KEEL_OK) {
    rc = KEEL_ENOMEM;
  } else {
    check_listed(b, &list, &out, r);
    r->n_files = list.n;
  }
  if (!rc) {
    check_unlisted(b, &list, &out, r);
    if (b->archive_problem)
      problem(&out, r, "archive: %s\n", b->archive_problem);
    check_required(b, &out, r);
    check_digest(b, &out, r);
    keel__bundle_check_refs(b, &out, &r->n_problems);
    check_signature(b, pubkey_path, sums, &out, r);
  }
  free(list.lines);
  free(list.copy);
  if (rc || out.failed) {
    keel_buf_free(&out);
    r->n_problems = 0;
    return keel_fail(err, KEEL_ENOMEM, "verify: out of memory");
  }
  if (r->n_problems) {
    r->problems = keel_buf_take(&out);
    return keel_fail(err, KEEL_EINTEGRITY, "%s: %zu problem%s found", b->path,
                     r->n_problems, r->n_problems == 1 ? "" : "s");
  }
  keel_buf_free(&out);
  return 0;
}

int keel_bundle_exit_code(int status)
{
  switch (status) {
  case 0: return KEEL_EXIT_OK;
  case KEEL_EINTEGRITY: return KEEL_EXIT_INTEGRITY;
  case KEEL_EINVAL: return KEEL_EXIT_CONFIG;
  default: return KEEL_EXIT_RUNTIME;
  }
}
