/* Reading bundles as untrusted input, extracting them safely, and checking
 * their hashes, result digest and signature. */
#include "bundle/bundle.h"
#include "base/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "base/filemap.h"
#include "bundle/gzcheck.h"
#include "bundle/sign.h"
#include "base/status.h"

#define NAME_LIMIT 255

const keel_bundle_limits keel_bundle_default_limits = {
    (uint64_t)512 << 20, (uint64_t)2 << 30, 100000};

/* ---- names -------------------------------------------------------------- */

/* Relative, canonical, printable: no leading '/', no empty, "." or ".."
 * component, no control characters or backslashes (which sha256sum would
 * escape), at most NAME_LIMIT bytes. Returns NULL or why not. */
static const char *name_problem(const char *name)
{
  size_t len = strlen(name);
  const char *p = name;
  if (len == 0)
    return "empty name";
  if (len > NAME_LIMIT)
    return "name too long";
  if (name[0] == '/')
    return "absolute path";
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
      return "control character or backslash in name";
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return "'..' in path";
    if (n == 0 || (n == 1 && p[0] == '.'))
      return "non-canonical path (empty or '.' component)";
    p += n;
    if (*p == '/')
      p++;
  }
  return NULL;
}

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
    snprintf(why_not, sizeof why_not, "%s: cannot open for the gzip check: "
             "%s", path, strerror(errno));
    return strdup(why_not);
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why_not, sizeof why_not, "%s: not a regular file at the gzip "
             "check (it changed while being read)", path);
    return strdup(why_not);
  }
  keel_file_map m;
  keel_error err = {0};
  int rc = keel_file_map_open(fd, (size_t)st.st_size, path, &m, &err);
  close(fd);
  if (rc)
    return strdup(err.message);
  char *why = keel_gzip_layer_problem(m.data, m.len);
  keel_file_map_close(&m);
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
    return keel_fail(err, KEEL_EINTEGRITY,
                     "%s: a member has no readable name", b->path);
  if (archive_entry_hardlink(e) || archive_entry_symlink(e) ||
      type == AE_IFLNK)
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
  why = name_problem(name);
  if (why) {
    keel_fail(err, KEEL_EINTEGRITY, "%s: member '%s' refused: %s", b->path,
              raw, why);
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
              "%s: member '%s' is outside the bundle's folder '%s/'",
              b->path, raw, b->top);
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
                "%s: members add up to more than %llu bytes (at '%s')",
                b->path, (unsigned long long)lim->max_total_bytes, raw);
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
  keel_fail(err, KEEL_EINTEGRITY, "%s: member '%s' has no valid size",
            b->path, raw);
  free(name);
  return KEEL_EINTEGRITY;
}

static int read_member_data(struct archive *a, keel_bundle *b,
                            keel_bundle_member *m, size_t size,
                            keel_error *err)
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
                       "%s: member '%s' is corrupt or truncated: %s",
                       b->path, m->name, ar_msg(a));
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

int keel_bundle_open(const char *path, const keel_bundle_limits *limits,
                     keel_bundle **out, keel_error *err)
{
  const keel_bundle_limits *lim = limits ? limits
                                         : &keel_bundle_default_limits;
  struct archive *a = NULL;
  struct archive_entry *e;
  keel_bundle *b;
  name_set seen = {0};
  size_t cap = 0;
  uint64_t total = 0;
  struct stat st;
  int rc = 0, r;
  *out = NULL;
  if (stat(path, &st) != 0)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot open bundle: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return keel_fail(err, KEEL_EIO, "%s: not a regular file", path);
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
  for (;;) {
    char *rel = NULL;
    int is_dir = 0, ins;
    r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK) {
      rc = keel_fail(err, KEEL_EINTEGRITY, "%s: %s: %s", path,
                     b->n_members || b->top ? "truncated or corrupt archive"
                                            : "not a tar.gz bundle",
                     ar_msg(a));
      goto out;
    }
    if (archive_filter_count(a) > 2 ||
        (archive_filter_count(a) == 2 &&
         archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP)) {
      rc = keel_fail(err, KEEL_EINTEGRITY,
                     "%s: nested or unexpected compression; a bundle is one "
                     "gzip layer over a tar",
                     path);
      goto out;
    }
    rc = check_header(b, e, lim, &total, &rel, &is_dir, err);
    if (rc)
      goto out;
    if (!rel) /* the top folder itself */
      continue;
    if (b->n_members >= lim->max_members) {
      free(rel);
      rc = keel_fail(err, KEEL_EINTEGRITY, "%s: more than %zu members", path,
                     lim->max_members);
      goto out;
    }
    ins = name_set_add(&seen, rel);
    if (ins <= 0) {
      rc = ins < 0 ? keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path)
                   : keel_fail(err, KEEL_EINTEGRITY,
                               "%s: member '%s/%s' appears twice", path,
                               b->top, rel);
      free(rel);
      goto out;
    }
    if (push_member(b, &cap, rel, is_dir)) {
      free(rel);
      rc = keel_fail(err, KEEL_ENOMEM, "%s: out of memory", path);
      goto out;
    }
    if (!is_dir) {
      rc = read_member_data(a, b, &b->members[b->n_members - 1],
                            (size_t)archive_entry_size(e), err);
      if (rc)
        goto out;
    }
  }
  if (!b->top) {
    rc = keel_fail(err, KEEL_EINTEGRITY,
                   "%s: empty archive; not a keel bundle", path);
    goto out;
  }
  b->archive_problem = gzip_problem(path);
  /* A folder member must not also be a prefix-conflicting file: "x" file
   * and "x/y" would make extraction ambiguous. */
  if (b->n_members)
    qsort(b->members, b->n_members, sizeof *b->members, member_cmp);
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    size_t n = strlen(m->name);
    if (m->is_dir)
      continue;
    for (size_t j = i + 1; j < b->n_members; j++) {
      if (strncmp(b->members[j].name, m->name, n) != 0)
        break;
      if (b->members[j].name[n] == '/') {
        rc = keel_fail(err, KEEL_EINTEGRITY,
                       "%s: member '%s' is both a file and a folder", path,
                       m->name);
        goto out;
      }
    }
  }
out:
  free(seen.slots);
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

/* ---- extraction --------------------------------------------------------- */

static int make_dir(const char *path, keel_error *err)
{
  struct stat st;
  if (mkdir(path, 0755) == 0)
    return 0;
  if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  return keel_fail(err, KEEL_EIO, "%s: cannot create folder: %s", path,
                   strerror(errno));
}

/* Creates every parent folder of path below root (root exists). */
static int make_parents(char *path, size_t root_len, keel_error *err)
{
  for (char *p = path + root_len + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = make_dir(path, err);
    *p = '/';
    if (rc)
      return rc;
  }
  return 0;
}

int keel_bundle_extract(const keel_bundle *b, const char *dir,
                        keel_error *err)
{
  size_t root_len = strlen(dir);
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    size_t n = root_len + strlen(b->top) + strlen(m->name) + 3;
    char *path = malloc(n);
    int rc = 0, fd;
    if (!path)
      return keel_fail(err, KEEL_ENOMEM, "extract: out of memory");
    /* The names were checked at open (relative, no "..", no links), and
     * only folders and new regular files are created here. */
    snprintf(path, n, "%s/%s/%s", dir, b->top, m->name);
    rc = make_parents(path, root_len, err);
    if (!rc && m->is_dir)
      rc = make_dir(path, err);
    if (!rc && !m->is_dir) {
      const unsigned char *p = m->data;
      size_t left = m->size;
      fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0644);
      if (fd < 0) {
        rc = keel_fail(err, KEEL_EIO, "%s: cannot create: %s", path,
                       strerror(errno));
      } else {
        while (left > 0) {
          ssize_t w = write(fd, p, left);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0) {
            rc = keel_fail(err, KEEL_EIO, "%s: write failed: %s", path,
                           strerror(errno));
            break;
          }
          p += w;
          left -= (size_t)w;
        }
        if (close(fd) != 0 && !rc)
          rc = keel_fail(err, KEEL_EIO, "%s: close failed: %s", path,
                         strerror(errno));
      }
    }
    free(path);
    if (rc)
      return rc;
  }
  return 0;
}

/* ---- checking ----------------------------------------------------------- */

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

static void check_signature(const keel_bundle *b, const char *pubkey,
                            const keel_bundle_member *sums, FILE *out,
                            keel_bundle_report *r)
{
  const keel_bundle_member *sigm = keel_bundle_find(b, "SIGNATURE");
  unsigned char sig[KEEL_SIG_BYTES];
  keel_error e = {0};
  r->signed_ = sigm != NULL;
  if (!pubkey)
    return;
  if (!sigm) {
    fprintf(out, "signature: the bundle is not signed\n");
    r->n_problems++;
    return;
  }
  if (!sums || parse_signature(sigm, sig) != 0) {
    fprintf(out, "signature: SIGNATURE is malformed\n");
    r->n_problems++;
    return;
  }
  if (keel_sign_verify(pubkey, sums->data, sums->size, sig, NULL, &e) != 0) {
    fprintf(out, "signature: %s\n", e.message);
    r->n_problems++;
    return;
  }
  r->signature_checked = 1;
}

static void check_digest(const keel_bundle *b, FILE *out,
                         keel_bundle_report *r)
{
  const keel_bundle_member *d = keel_bundle_find(b, "digest.txt");
  keel_error e = {0};
  json_t *run;
  const char *rd;
  if (keel_bundle_digest_of(b, r->digest, &e) != 0) {
    fprintf(out, "digest: %s\n", e.message);
    r->n_problems++;
    return;
  }
  if (!d || d->size != 65 || !is_hex64((const char *)d->data) ||
      d->data[64] != '\n') {
    fprintf(out, "digest: digest.txt is %s\n", d ? "malformed" : "missing");
    r->n_problems++;
  } else if (memcmp(d->data, r->digest, 64) != 0) {
    fprintf(out,
            "digest: digest.txt says %.64s but the covered files give %s\n",
            (const char *)d->data, r->digest);
    r->n_problems++;
  }
  run = keel_bundle_json(b, "run.json", &e);
  rd = json_string_value(json_object_get(run, "result_digest"));
  if (!run && keel_bundle_find(b, "run.json")) {
    /* An unreadable run record must not skip the cross-check. */
    fprintf(out, "malformed: run.json (%s)\n", e.message);
    r->n_problems++;
  } else if (run && !json_is_object(run)) {
    fprintf(out, "malformed: run.json is not a JSON object\n");
    r->n_problems++;
  } else if (run && (!rd || strcmp(rd, r->digest) != 0)) {
    fprintf(out, "digest: run.json result_digest %s does not match %s\n",
            rd ? rd : "(absent)", r->digest);
    r->n_problems++;
  }
  json_decref(run);
}

/* Members the sealing itself always writes (bundle_write.c); a bundle
 * without them was not sealed by keel or lost its run record. */
static void check_required(const keel_bundle *b, FILE *out,
                           keel_bundle_report *r)
{
  static const char *const required[] = {
    "run.json", "plugins.json", "environment.json", "audit.jsonl",
    "README.md", "digest.txt", NULL};
  for (const char *const *name = required; *name; name++)
    if (!keel_bundle_find(b, *name)) {
      fprintf(out, "missing: %s (every sealed bundle has it)\n", *name);
      r->n_problems++;
    }
  json_error_t je;
  const keel_bundle_member *m = keel_bundle_find(b, "plugins.json");
  json_t *pj = m ? json_loadb((const char *)m->data, m->size, 0, &je) : NULL;
  if (m && (!pj || !json_is_array(json_object_get(pj, "plugins")))) {
    fprintf(out, "malformed: plugins.json (expected {\"plugins\": [...]})\n");
    r->n_problems++;
  }
  json_decref(pj);
}

int keel_bundle_check(const keel_bundle *b, const char *pubkey_path,
                      keel_bundle_report *r, keel_error *err)
{
  const keel_bundle_member *sums = keel_bundle_find(b, "SHA256SUMS");
  sums_line *lines = NULL;
  size_t n_lines = 0, cap = 0, len = 0;
  char *copy = NULL, *text = NULL;
  FILE *out;
  memset(r, 0, sizeof *r);
  out = open_memstream(&text, &len);
  if (!out)
    return keel_fail(err, KEEL_ENOMEM, "verify: out of memory");
  if (!sums) {
    fprintf(out, "missing: SHA256SUMS\n");
    r->n_problems++;
  } else {
    char *line, *save = NULL;
    size_t lineno = 0;
    copy = malloc(sums->size + 1);
    if (!copy) {
      fclose(out);
      free(text);
      return keel_fail(err, KEEL_ENOMEM, "verify: out of memory");
    }
    memcpy(copy, sums->data, sums->size + 1);
    if (memchr(copy, '\0', sums->size) ||
        (sums->size && copy[sums->size - 1] != '\n')) {
      fprintf(out, "modified: SHA256SUMS (not a sha256sum listing)\n");
      r->n_problems++;
    } else {
      for (line = strtok_r(copy, "\n", &save); line;
           line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (strlen(line) < 67 || !is_hex64(line) || line[64] != ' ' ||
            line[65] != ' ' || name_problem(line + 66)) {
          fprintf(out, "modified: SHA256SUMS (line %zu malformed)\n", lineno);
          r->n_problems++;
          continue;
        }
        if (n_lines == cap) {
          size_t ncap = cap ? 2 * cap : 64;
          sums_line *g = realloc(lines, ncap * sizeof *g);
          if (!g)
            break;
          lines = g;
          cap = ncap;
        }
        memcpy(lines[n_lines].sha, line, 64);
        lines[n_lines].sha[64] = '\0';
        lines[n_lines].name = line + 66;
        n_lines++;
      }
    }
    if (n_lines)
      qsort(lines, n_lines, sizeof *lines, sums_cmp);
    for (size_t i = 0; i < n_lines; i++) {
      const keel_bundle_member *m;
      char hex[65];
      if (i > 0 && strcmp(lines[i].name, lines[i - 1].name) == 0) {
        fprintf(out, "modified: SHA256SUMS (lists %s twice)\n", lines[i].name);
        r->n_problems++;
        continue;
      }
      if (strcmp(lines[i].name, "SHA256SUMS") == 0 ||
          strcmp(lines[i].name, "SIGNATURE") == 0) {
        fprintf(out, "modified: SHA256SUMS (lists %s)\n", lines[i].name);
        r->n_problems++;
        continue;
      }
      m = keel_bundle_find(b, lines[i].name);
      if (!m) {
        fprintf(out, "missing: %s\n", lines[i].name);
        r->n_problems++;
        continue;
      }
      keel_sha256_hex(m->data, m->size, hex);
      if (strcmp(hex, lines[i].sha) != 0) {
        fprintf(out, "modified: %s\n", lines[i].name);
        r->n_problems++;
      }
    }
    r->n_files = n_lines;
  }
  for (size_t i = 0; i < b->n_members; i++) {
    const keel_bundle_member *m = &b->members[i];
    sums_line key;
    if (m->is_dir || strcmp(m->name, "SHA256SUMS") == 0 ||
        strcmp(m->name, "SIGNATURE") == 0)
      continue;
    key.name = m->name;
    if (!n_lines || !bsearch(&key, lines, n_lines, sizeof key, sums_cmp)) {
      fprintf(out, "extra: %s\n", m->name);
      r->n_problems++;
    }
  }
  if (b->archive_problem) {
    fprintf(out, "archive: %s\n", b->archive_problem);
    r->n_problems++;
  }
  check_required(b, out, r);
  check_digest(b, out, r);
  check_signature(b, pubkey_path, sums, out, r);
  fclose(out);
  free(lines);
  free(copy);
  if (r->n_problems) {
    r->problems = text;
    return keel_fail(err, KEEL_EINTEGRITY, "%s: %zu problem%s found", b->path,
                     r->n_problems, r->n_problems == 1 ? "" : "s");
  }
  free(text);
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
