/* The services table plugins receive. Each service is a thin, checked
 * wrapper over a core module; the table itself is static const so every
 * plugin sees the same one, and only the per-run context differs. */
#include "plugin/host.h"
#include "base/log.h"
#include "base/path.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "base/filecopy.h"
#include "base/status.h"
#include "plugin/input_hash.h"
#include "plugin/loader.h"
#include "plugin/state.h"
#include "plugin/table.h"

static int log_threshold(void)
{
  const char *v = getenv("KEEL_LOG");
  if (v && strcmp(v, "debug") == 0)
    return KEEL_LOG_DEBUG;
  if (v && strcmp(v, "warn") == 0)
    return KEEL_LOG_WARN;
  return KEEL_LOG_INFO;
}

/* Plugins log through the host so the program decides where lines go. */
static void host_log(keel_log_level level, const char *fmt, ...)
{
  if ((int)level < log_threshold())
    return;
  va_list ap;
  va_start(ap, fmt);
  keel_log_vemit(level, fmt, ap);
  va_end(ap);
}

static void *host_alloc(size_t size)
{
  return malloc(size ? size : 1);
}

static void *host_alloc_zero(size_t count, size_t size)
{
  return calloc(count ? count : 1, size ? size : 1);
}

static void host_free(void *p)
{
  free(p);
}

/* ---- inputs ------------------------------------------------------------
 * An uncompressed file is read with pread, in bounded windows, into memory
 * the host owns (base/filecopy.h), never mapped: a file truncated
 * underneath is an error naming it, not a SIGBUS inside the parse.
 * input_read copies from that memory, input_view hands it out. A gzip
 * file (magic 1f 8b) goes through zlib's reader; input_view inflates it
 * once into host memory. The lineage hash of each new file starts at open
 * (input_hash.c), and while it is not settled the inputs of that file
 * share the hash's own copy: the file is read once, and the parse reads
 * exactly the bytes hashed. */

struct keel_input {
  char *name;
  gzFile gz;               /* gzip files */
  keel_file_copy *copy;    /* uncompressed files: the whole file, shared */
  size_t pos;              /* input_read's position in copy */
  unsigned char *inflated; /* input_view of a gzip file */
  size_t inflated_len;
  int gz_started; /* input_read has consumed gzip bytes */
};

/* The threads this run may use (--threads, OMP_NUM_THREADS). */
static int max_threads(void)
{
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

static int hash_in_background(void)
{
  return max_threads() > 1;
}

/* The record of resolved in ctx, made (and its hash started) on first
 * use; *rec points into ctx->inputs until the next call. */
static int record_input(keel_host_context *ctx, const char *name,
                        const char *resolved, size_t route,
                        keel_input_record **rec_out, keel_error *err)
{
  for (size_t i = 0; i < ctx->n_inputs; i++)
    if (strcmp(ctx->inputs[i].resolved, resolved) == 0) {
      *rec_out = &ctx->inputs[i];
      return KEEL_OK;
    }
  keel_input_record *grown =
      realloc(ctx->inputs, (ctx->n_inputs + 1) * sizeof *grown);
  if (!grown)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  ctx->inputs = grown;
  keel_input_record rec = {0};
  rec.route = route;
  rec.name = strdup(name);
  rec.resolved = strdup(resolved);
  if (!rec.name || !rec.resolved) {
    free(rec.name);
    free(rec.resolved);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  int rc = keel_input_hash_start(resolved, name, hash_in_background(),
                                 &rec.hashing, err);
  if (rc) {
    free(rec.name);
    free(rec.resolved);
    return rc;
  }
  ctx->inputs[ctx->n_inputs] = rec;
  *rec_out = &ctx->inputs[ctx->n_inputs++];
  return KEEL_OK;
}

/* Opens resolved (a regular file) for reading as in; `hashing` is its
 * lineage hash in progress, or NULL. */
static int open_content(keel_input *in, const char *resolved,
                        keel_input_hash *hashing, keel_error *err)
{
  int fd = open(resolved, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return keel_fail(err, KEEL_EIO, "%s: cannot open: %s", in->name,
                     strerror(e));
  }
  unsigned char magic[2] = {0, 0};
  ssize_t got = pread(fd, magic, 2, 0);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    /* The hash reads its own copy of the compressed bytes. */
    in->gz = gzdopen(fd, "rb"); /* owns fd from here */
    if (!in->gz) {
      close(fd);
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", in->name);
    }
    return KEEL_OK;
  }
  int rc = KEEL_OK;
  if (hashing) /* the hashed bytes, unless the file changed since */
    in->copy = keel_input_hash_copy(hashing, &st);
  if (!in->copy)
    rc = keel_file_copy_open(fd, (size_t)st.st_size, in->name, NULL, NULL,
                             &in->copy, err);
  close(fd);
  return rc;
}

static int host_input_open(void *vctx, const char *path, keel_input **out,
                           keel_error *err)
{
  keel_host_context *ctx = vctx;
  *out = NULL;
  if (!path || !path[0])
    return keel_fail(err, KEEL_EINVAL, "no input path given");
  char *resolved = NULL;
  size_t route = 0;
  for (size_t i = 0; ctx && i < ctx->n_routes && !route; i++)
    if (strcmp(ctx->routes[i].name, path) == 0) {
      route = i + 1;
      if (!(resolved = strdup(ctx->routes[i].path)))
        return keel_fail(err, KEEL_ENOMEM, "out of memory");
    }
  if (!resolved && ctx && ctx->remap)
    resolved = ctx->remap(ctx->remap_ctx, path);
  if (!resolved)
    resolved = keel_path_join(ctx ? ctx->base_dir : NULL, path);
  if (!resolved)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int rc = KEEL_OK;
  /* Refuse what is not a regular file before anything reads it. */
  struct stat st;
  if (stat(resolved, &st) != 0) {
    rc = keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                   "%s: cannot open: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = keel_fail(err, KEEL_EINVAL,
                   "%s: not a regular file (a folder, "
                   "device or pipe cannot be data)",
                   path);
    goto out;
  }
  keel_input_record *rec = NULL;
  if (ctx && (rc = record_input(ctx, path, resolved, route, &rec, err)))
    goto out;
  keel_input *in = calloc(1, sizeof *in);
  if (!in || !(in->name = strdup(path))) {
    free(in);
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = open_content(in, resolved, rec ? rec->hashing : NULL, err))) {
    free(in->name);
    free(in);
    goto out;
  }
  *out = in;
out:
  free(resolved);
  return rc;
}

/* One gzread; 0 at the end, a KEEL_E* on a corrupt or truncated stream. */
static long gz_read(keel_input *in, void *buf, size_t n, keel_error *err)
{
  if (n > (1u << 30))
    n = 1u << 30;
  int got = gzread(in->gz, buf, (unsigned)n);
  if (got > 0)
    return got;
  /* A truncated gzip stream ends with 0 and Z_BUF_ERROR ("unexpected end
   * of file"), not with -1: check the error state at every end. */
  int zerr = Z_OK;
  const char *msg = gzerror(in->gz, &zerr);
  if (got < 0 || zerr != Z_OK) {
    /* zlib names a stream opened with gzdopen "<fd:N>": drop that, the
     * message names the file. */
    if (msg && strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": "))
      msg = strstr(msg, ": ") + 2;
    return keel_fail(err, KEEL_EIO, "%s: read failed (corrupt gzip?): %s",
                     in->name, msg && msg[0] ? msg : "unknown error");
  }
  return 0;
}

static long host_input_read(keel_input *in, void *buf, size_t n,
                            keel_error *err)
{
  if (in->gz) {
    in->gz_started = 1;
    return gz_read(in, buf, n, err);
  }
  size_t left = keel_file_copy_len(in->copy) - in->pos;
  if (n > left)
    n = left;
  if (n > (1u << 30))
    n = 1u << 30;
  int rc = keel_file_copy_fill(in->copy, in->pos + n, err);
  if (rc)
    return rc;
  if (n)
    memcpy(buf, keel_file_copy_data(in->copy) + in->pos, n);
  in->pos += n;
  return (long)n;
}

/* The whole inflated content of a gzip input, read once. */
static int inflate_all(keel_input *in, keel_error *err)
{
  if (in->gz_started && gzrewind(in->gz) != 0)
    return keel_fail(err, KEEL_EIO, "%s: cannot rewind", in->name);
  in->gz_started = 1;
  size_t cap = 1u << 20, len = 0;
  unsigned char *buf = malloc(cap);
  for (;;) {
    if (!buf)
      return keel_fail(err, KEEL_ENOMEM, "%s: out of memory", in->name);
    if (len == cap) {
      unsigned char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        free(buf);
        return keel_fail(err, KEEL_ENOMEM,
                         "%s: out of memory (%zu bytes "
                         "inflated)",
                         in->name, len);
      }
      buf = nb;
      cap *= 2;
    }
    long got = gz_read(in, buf + len, cap - len, err);
    if (got < 0) {
      free(buf);
      return (int)got;
    }
    if (got == 0)
      break;
    len += (size_t)got;
  }
  in->inflated = buf;
  in->inflated_len = len;
  return KEEL_OK;
}

static int host_input_view(keel_input *in, const char **data, size_t *len,
                           keel_error *err)
{
  *data = NULL;
  *len = 0;
  if (in->gz) {
    if (!in->inflated) {
      int rc = inflate_all(in, err);
      if (rc)
        return rc;
    }
    *data = (const char *)in->inflated;
    *len = in->inflated_len;
    return KEEL_OK;
  }
  size_t n = keel_file_copy_len(in->copy);
  int rc = keel_file_copy_fill_all(in->copy, max_threads(), err);
  if (rc)
    return rc;
  *data = n ? (const char *)keel_file_copy_data(in->copy) : "";
  *len = n;
  return KEEL_OK;
}

static const char *host_input_name(const keel_input *in)
{
  return in->name;
}

static void host_input_close(keel_input *in)
{
  if (!in)
    return;
  if (in->gz)
    gzclose(in->gz);
  keel_file_copy_unref(in->copy);
  free(in->inflated);
  free(in->name);
  free(in);
}

/* ABI 1.2: the context comes from the table the call received, which
 * keel_host_bind made for one run; the unbound table (given to `init`)
 * serves no run, and a file opened there would escape the lineage. */
static int host_open_input(const keel_host *host, const char *path,
                           keel_input **out, keel_error *err)
{
  *out = NULL;
  if (!host || !host->ctx)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: open_input needs the host table of a call that "
                     "serves a run (read, fit, apply), not init's",
                     path ? path : "(no path)");
  return host_input_open(host->ctx, path, out, err);
}

static int host_table_append(keel_table *table, const char *name,
                             keel_col_type type, const char *const *dict,
                             size_t n_dict, size_t *index, keel_error *err)
{
  keel_column *c = keel_table_add(table, name, type, dict, n_dict, err);
  if (!c)
    return err && err->code ? err->code : KEEL_EINVAL;
  if (index)
    *index = (size_t)(c - table->cols);
  return KEEL_OK;
}

static const keel_host host_table = {
    .struct_size = sizeof(keel_host),
    .abi_major = KEEL_ABI_MAJOR,
    .abi_minor = KEEL_ABI_MINOR,
    .fail = keel_fail,
    .log = host_log,
    .alloc = host_alloc,
    .alloc_zero = host_alloc_zero,
    .free = host_free,
    .schema_add = keel_schema_add,
    .table_new = keel_table_new,
    .table_add = keel_table_add,
    .table_copy_column = keel_table_copy_column,
    .text_set = keel_table_text_set,
    .table_free = keel_table_free,
    .state_put_f64 = keel_state_put_f64,
    .state_put_strings = keel_state_put_strings,
    .state_get_f64 = keel_state_get_f64,
    .state_get_strings = keel_state_get_strings,
    .input_open = host_input_open,
    .input_read = host_input_read,
    .input_name = host_input_name,
    .input_close = host_input_close,
    .ctx = NULL,
    .input_view = host_input_view,
    .open_input = host_open_input,
    .table_append = host_table_append,
};

const keel_host *keel_host_services(void)
{
  return &host_table;
}

void keel_host_bind(keel_host *out, keel_host_context *ctx)
{
  *out = host_table;
  out->ctx = ctx;
}

int keel_host_context_init(keel_host_context *ctx, const char *base_dir)
{
  memset(ctx, 0, sizeof *ctx);
  ctx->base_dir = strdup(base_dir ? base_dir : ".");
  return ctx->base_dir ? KEEL_OK : KEEL_ENOMEM;
}

void keel_host_context_free(keel_host_context *ctx)
{
  for (size_t i = 0; i < ctx->n_inputs; i++) {
    keel_input_hash_free(ctx->inputs[i].hashing);
    free(ctx->inputs[i].name);
    free(ctx->inputs[i].resolved);
  }
  free(ctx->inputs);
  for (size_t i = 0; i < ctx->n_routes; i++) {
    free(ctx->routes[i].name);
    free(ctx->routes[i].path);
    free(ctx->routes[i].what);
  }
  free(ctx->routes);
  free(ctx->base_dir);
  memset(ctx, 0, sizeof *ctx);
}

void keel_host_context_forget_inputs(keel_host_context *ctx)
{
  for (size_t i = 0; i < ctx->n_inputs; i++) {
    keel_input_hash_free(ctx->inputs[i].hashing);
    free(ctx->inputs[i].name);
    free(ctx->inputs[i].resolved);
  }
  free(ctx->inputs);
  ctx->inputs = NULL;
  ctx->n_inputs = 0;
}

int keel_host_context_settle_checked(keel_host_context *ctx,
                                     const keel_input_record **bad,
                                     keel_error *err)
{
  if (bad)
    *bad = NULL;
  for (size_t i = 0; i < ctx->n_inputs; i++) {
    keel_input_record *r = &ctx->inputs[i];
    if (!r->hashing)
      continue;
    int rc = keel_input_hash_finish(r->hashing, r->sha256, &r->bytes, err);
    if (rc)
      return rc;
    keel_input_hash_free(r->hashing);
    r->hashing = NULL;
    /* Hash beside parse: what was parsed is used only when its hash is
     * the one recorded (DESIGN.md). */
    const keel_input_route *route =
        r->route ? &ctx->routes[r->route - 1] : NULL;
    if (route && strcmp(r->sha256, route->sha256) != 0) {
      if (bad)
        *bad = r;
      return keel_fail(err, KEEL_EINTEGRITY,
                       "%s: the %llu bytes read from %s have SHA-256 %s; "
                       "expected %s (the data changed after it was "
                       "catalogued, or a server or cache holds other bytes); "
                       "nothing computed from them was used",
                       route->what, (unsigned long long)r->bytes, r->resolved,
                       r->sha256, route->sha256);
    }
  }
  return KEEL_OK;
}

int keel_host_context_settle(keel_host_context *ctx, keel_error *err)
{
  return keel_host_context_settle_checked(ctx, NULL, err);
}

int keel_host_context_route(keel_host_context *ctx, const char *name,
                            const char *path, const char *sha256,
                            const char *what)
{
  keel_input_route r = {0};
  r.name = strdup(name);
  r.path = strdup(path);
  r.what = strdup(what);
  snprintf(r.sha256, sizeof r.sha256, "%s", sha256);
  size_t at = 0;
  while (at < ctx->n_routes && strcmp(ctx->routes[at].name, name) != 0)
    at++;
  keel_input_route *grown =
      at < ctx->n_routes
          ? ctx->routes
          : realloc(ctx->routes, (ctx->n_routes + 1) * sizeof *grown);
  if (!r.name || !r.path || !r.what || !grown) {
    free(r.name);
    free(r.path);
    free(r.what);
    return KEEL_ENOMEM;
  }
  ctx->routes = grown;
  if (at < ctx->n_routes) {
    free(ctx->routes[at].name);
    free(ctx->routes[at].path);
    free(ctx->routes[at].what);
  } else {
    ctx->n_routes++;
  }
  ctx->routes[at] = r;
  return KEEL_OK;
}
