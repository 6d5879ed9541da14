/* The seal: the entries the builder writes itself (plugins.json,
 * audit.jsonl, environment.json, README.md, run.json, digest.txt,
 * SHA256SUMS, SIGNATURE), the result digest, and the bundle file: the tar
 * gzip-compressed as a chain of segments, written to a temporary file,
 * fsync'd and renamed, so a bundle is whole or absent. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buffer.h"
#include "base/fsutil.h"
#include "base/json_text.h"
#include "base/status.h"
#include "bundle/bundle_write_internal.h"
#include "bundle/sign.h"

static int entry_cmp(const void *a, const void *b)
{
  return strcmp(((const keel__bundle_entry *)a)->name,
                ((const keel__bundle_entry *)b)->name);
}

static int plugin_cmp(const void *a, const void *b)
{
  const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  return strcmp(json_string_value(json_object_get(x, "file")),
                json_string_value(json_object_get(y, "file")));
}

/* plugins.json, sorted by file name so the load order does not matter. */
static int seal_plugins(keel_bundle_builder *b, keel_error *err)
{
  size_t n = json_array_size(b->plugins);
  json_t **items = calloc(n ? n : 1, sizeof *items), *sorted, *doc;
  int rc;
  if (!items)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  for (size_t i = 0; i < n; i++)
    items[i] = json_array_get(b->plugins, i);
  qsort(items, n, sizeof *items, plugin_cmp);
  sorted = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append(sorted, items[i]);
  free(items);
  doc = json_object();
  json_object_set_new(doc, "plugins", sorted);
  {
    char *text = keel__bundle_json_text(doc);
    json_decref(doc);
    if (!text)
      return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    rc = keel__bundle_put_entry(b, "plugins.json", (unsigned char *)text,
                                strlen(text), err);
  }
  return rc;
}

/* Puts the text in t (taken, also on failure) as entry name. */
static int put_text(keel_bundle_builder *b, const char *name, keel_buf *t,
                    keel_error *err)
{
  size_t len = t->len;
  char *text = keel_buf_take(t);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  return keel__bundle_put_entry(b, name, (unsigned char *)text, len, err);
}

static int seal_audit(keel_bundle_builder *b, keel_error *err)
{
  keel_buf out = KEEL_BUF_INIT;
  size_t i;
  json_t *ev;
  json_array_foreach(b->audit, i, ev)
  {
    char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
      keel_buf_printf(&out, "%s\n", line);
      free(line);
    }
  }
  return put_text(b, "audit.jsonl", &out, err);
}

/* run.json's "status": the one set, else what the outcome says. */
static const char *run_status(const keel_bundle_builder *b)
{
  if (b->status)
    return b->status;
  return b->error || b->exit_code ? "failed" : "ok";
}

/* A sweep's README: what it holds, how to verify and read it. */
static int seal_sweep_readme(keel_bundle_builder *b, const char *digest,
                             int signing, keel_error *err)
{
  keel_buf out = KEEL_BUF_INIT;
  keel_buf_printf(
      &out,
      "# keel sweep bundle %s\n\n"
      "This archive is the sealed record of one `keel sweep`: the tuning\n"
      "space, strategy and seed (sweep.json), the plan every trial ran\n"
      "against (plan/: the manifest, templates and catalog entry as frozen,\n"
      "plan.json with the SHA-256 of every frozen input, plugins and data\n"
      "included), and every trial in order with its parameters, status,\n"
      "objective, run id, bundle SHA-256 and result digest (trials.json,\n"
      "sweep.json). Each trial is an ordinary run bundle beside this file.\n\n"
      "- format: %s\n"
      "- status: %s (exit code %d)%s%s\n"
      "- sweep result digest: `%s` (SHA-256 over trials.json: the trials'\n"
      "  parameters and result digests in trial order; docs/tuning.md)\n\n"
      "## Verify\n\n"
      "    keel verify %s.tar.gz%s\n\n"
      "or, without keel:\n\n"
      "    tar xzf %s.tar.gz && cd %s && sha256sum -c SHA256SUMS\n\n"
      "## Inspect\n\n"
      "    keel show %s.tar.gz      # the ranked trials\n"
      "    keel diff A.tar.gz B.tar.gz   # two sweeps, trial by trial\n",
      b->run_id, b->format->name, run_status(b), b->exit_code,
      b->error ? "\n- error: " : "", b->error ? b->error : "", digest,
      b->run_id, signing ? " --pubkey KEY.pub" : "", b->run_id, b->run_id,
      b->run_id);
  return put_text(b, "README.md", &out, err);
}

static int seal_readme(keel_bundle_builder *b, const char *digest, int signing,
                       keel_error *err)
{
  if (b->format && b->format->sweep)
    return seal_sweep_readme(b, digest, signing, err);
  keel_buf out = KEEL_BUF_INIT;
  keel_buf_printf(
      &out,
      "# keel run bundle %s\n\n"
      "This archive is the sealed record of one `keel` training run: the\n"
      "manifest as given, the chain of templates it was checked against\n"
      "(templates/, derived first, each SHA-256 in templates.json;\n"
      "template.ini is the first), the fully resolved configuration,\n"
      "the plugins that ran, data lineage, fitted preprocessing state,\n"
      "weights and optimizer state (`.npy`), per-epoch and final metrics,\n"
      "the environment, the audit events and a run record.\n\n"
      "- format: %s\n"
      "- status: %s (exit code %d)%s%s\n"
      "- result digest: `%s` (SHA-256 over the deterministic parts; see\n"
      "  `digest.txt` and docs/bundle-format.md)\n\n",
      b->run_id, keel_bundle_format_current()->name, run_status(b),
      b->exit_code, b->error ? "\n- error: " : "", b->error ? b->error : "",
      digest);
  keel_buf_printf(
      &out,
      "## Verify\n\n"
      "    keel verify %s.tar.gz%s\n\n"
      "or, without keel:\n\n"
      "    tar xzf %s.tar.gz && cd %s && sha256sum -c SHA256SUMS\n\n"
      "## Inspect\n\n"
      "    keel show %s.tar.gz\n"
      "    keel env %s.tar.gz      # drift from this machine\n\n"
      "## Replay\n\n"
      "    keel replay %s.tar.gz [--threads N]\n\n"
      "Replay extracts the bundle into a temporary folder, runs the values\n"
      "recorded in config.json against the templates in templates/ (never\n"
      "an installed template of the same name) and prints REPRODUCED when\n"
      "the result digest matches. The plugins in plugins/ are code: replay "
      "loads them\n"
      "only when the bundle is signed by a key you trust (or with\n"
      "--trust-bundled-plugins); otherwise it uses installed plugins with\n"
      "the SHA-256 that plugins.json records.\n",
      b->run_id, signing ? " --pubkey KEY.pub" : "", b->run_id, b->run_id,
      b->run_id, b->run_id, b->run_id);
  return put_text(b, "README.md", &out, err);
}

static double tv_seconds(struct timeval tv)
{
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int seal_run_record(keel_bundle_builder *b, const char *digest,
                           keel_error *err)
{
  struct timespec end_real, end_mono;
  struct rusage ru;
  char start_s[32], end_s[32], host[256] = "";
  json_t *r = json_object(), *cpu;
  const char *key;
  json_t *v;
  char *text;
  clock_gettime(CLOCK_REALTIME, &end_real);
  clock_gettime(CLOCK_MONOTONIC, &end_mono);
  getrusage(RUSAGE_SELF, &ru);
  keel__bundle_iso_time(&b->start_real, start_s);
  keel__bundle_iso_time(&end_real, end_s);
  gethostname(host, sizeof host - 1);
  json_object_set_new(r, "format",
                      json_string(b->format
                                      ? b->format->name
                                      : keel_bundle_format_current()->name));
  json_object_set_new(r, "run_id", json_string(b->run_id));
  json_object_set_new(r, "status", json_string(run_status(b)));
  json_object_set_new(r, "exit_code", json_integer(b->exit_code));
  /* an error message may echo bytes that are not UTF-8: escaped as the
   * terminal showed them, never dropped */
  json_object_set_new(r, "error",
                      b->error ? keel_json_message(b->error) : json_null());
  json_object_set_new(r, "result_digest", json_string(digest));
  json_object_set_new(r, "started_at", json_string(start_s));
  json_object_set_new(r, "ended_at", json_string(end_s));
  json_object_set_new(
      r, "wall_seconds",
      json_real((double)(end_mono.tv_sec - b->start_mono.tv_sec) +
                (double)(end_mono.tv_nsec - b->start_mono.tv_nsec) / 1e9));
  cpu = json_object();
  json_object_set_new(
      cpu, "user",
      json_real(tv_seconds(ru.ru_utime) - tv_seconds(b->start_usage.ru_utime)));
  json_object_set_new(
      cpu, "system",
      json_real(tv_seconds(ru.ru_stime) - tv_seconds(b->start_usage.ru_stime)));
  json_object_set_new(r, "cpu_seconds", cpu);
  json_object_set_new(r, "peak_rss_kib", json_integer(ru.ru_maxrss));
  json_object_set_new(r, "threads", json_integer(b->threads));
  v = json_string(host);
  json_object_set_new(r, "host", v ? v : json_string("?"));
  json_object_set_new(r, "user", json_string(keel__bundle_current_user(b)));
  json_object_set_new(r, "pid", json_integer(getpid()));
  json_object_foreach(b->info, key, v) json_object_set(r, key, v);
  text = keel__bundle_json_text(r);
  json_decref(r);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  return keel__bundle_put_entry(b, "run.json", (unsigned char *)text,
                                strlen(text), err);
}

static int seal_digest(keel_bundle_builder *b, char digest[65], keel_error *err)
{
  const char **names = calloc(b->n ? b->n : 1, sizeof *names);
  const char **shas = calloc(b->n ? b->n : 1, sizeof *shas);
  int rc;
  if (!names || !shas) {
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
    goto out;
  }
  rc = keel__bundle_finish_jobs(b, err);
  if (rc)
    goto out;
  for (size_t i = 0; i < b->n; i++) {
    names[i] = b->entries[i].name;
    shas[i] = keel__bundle_entry_hex(b, &b->entries[i]);
  }
  rc = b->format
           ? keel_bundle_digest_compute_as(b->format, names, shas, b->n, digest,
                                           err)
           : keel_bundle_digest_compute(names, shas, b->n, digest, NULL, err);
out:
  free(names);
  free(shas);
  return rc;
}

/* SIGNATURE: the Ed25519 signature of the SHA256SUMS text. */
static int seal_signature(keel_bundle_builder *b, const char *sign_key,
                          const keel_buf *sums, keel_error *err)
{
  unsigned char sig[KEEL_SIG_BYTES];
  char fp[65];
  keel_buf text = KEEL_BUF_INIT;
  int rc = keel_sign_bytes(sign_key, sums->data, sums->len, sig, fp, err);
  if (rc)
    return rc;
  keel_buf_printf(&text,
                  "algorithm: ed25519\npublic-key-sha256: %s\n"
                  "signature: ",
                  fp);
  for (size_t i = 0; i < KEEL_SIG_BYTES; i++)
    keel_buf_printf(&text, "%02x", sig[i]);
  keel_buf_printf(&text, "\n");
  return put_text(b, "SIGNATURE", &text, err);
}

/* SHA256SUMS over every entry so far (sorted), then the signature. */
static int seal_sums(keel_bundle_builder *b, const char *sign_key,
                     keel_error *err)
{
  keel_buf sums = KEEL_BUF_INIT;
  int rc = KEEL_OK;
  qsort(b->entries, b->n, sizeof *b->entries, entry_cmp);
  for (size_t i = 0; i < b->n; i++)
    keel_buf_printf(&sums, "%s  %s\n",
                    keel__bundle_entry_hex(b, &b->entries[i]),
                    b->entries[i].name);
  if (sums.failed)
    rc = keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  if (!rc && sign_key)
    rc = seal_signature(b, sign_key, &sums, err);
  if (rc) {
    keel_buf_free(&sums);
    return rc;
  }
  rc = put_text(b, "SHA256SUMS", &sums, err);
  qsort(b->entries, b->n, sizeof *b->entries, entry_cmp);
  return rc;
}

/* The tar t, gzip-compressed into w as a chain of segments (gzseg.h):
 * each member that has its own segment (bundle_worker.c, segment_level)
 * spliced in as its job made it, everything between them (headers, small
 * members, padding) compressed now at KEEL__BUNDLE_SEGMENT_LEVEL. The
 * segments depend only on the bytes, so the file is the same whoever
 * compressed what. Every job is done: the worker's compressor is lent. */
static int compress_tar(keel_bundle_builder *b, const keel__tarbuf *t,
                        const size_t *start, keel_gzseg_writer *w,
                        const char *dest, keel_error *err)
{
  const unsigned char *tp = t->buf.data;
  size_t tlen = t->buf.len, pos = 0;
  int rc = keel_gzseg_begin(w, &b->worker_defl);
  for (size_t i = 0; !rc && i < b->n; i++) {
    keel__bundle_job *j = b->entries[i].job;
    if (j->level < 0)
      continue;
    keel_gzseg_span span[3];
    size_t hs = start[i] - 512;
    size_t pad =
        keel__bundle_member_spans(start[i] >= 512 ? tp + hs : NULL, j, span);
    size_t pe = start[i] + j->size + pad;
    /* libarchive wrote the header just before the data and zeros after
     * it, as the job assumed. */
    if (start[i] < 512 || hs < pos || pe > tlen ||
        memcmp(tp + start[i] + j->size, span[2].p, pad) != 0)
      return keel_fail(err, KEEL_EIO,
                       "%s: unexpected tar layout at member "
                       "'%s' (internal error)",
                       dest, b->entries[i].name);
    if (hs > pos)
      rc = keel_gzseg_add(w, tp + pos, hs - pos, KEEL__BUNDLE_SEGMENT_LEVEL);
    if (!rc && j->header_ok && memcmp(tp + hs, j->header, 512) == 0) {
      rc = keel_gzseg_append(w, &j->seg);
    } else if (!rc) { /* the same segment, made here */
      rc = keel_gzseg_addv(w, span, 3, j->level);
    }
    pos = pe;
  }
  if (!rc && tlen > pos)
    rc = keel_gzseg_add(w, tp + pos, tlen - pos, KEEL__BUNDLE_SEGMENT_LEVEL);
  if (!rc)
    rc = keel_gzseg_finish(w);
  if (rc)
    return keel_fail(err, rc, "%s: compressing the archive failed", dest);
  return KEEL_OK;
}

/* The bundle's bytes into fd: the tar built from the entries (every job
 * done first), compressed, written. */
static int write_tar(keel_bundle_builder *b, int fd, const char *dest,
                     keel_error *err)
{
  keel__tarbuf t = {KEEL_BUF_INIT, 0};
  keel_gzseg_writer w = {0};
  size_t *start = calloc(b->n ? b->n : 1, sizeof *start);
  if (!start)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  /* Every job done: the worker has nothing left to do (SHA256SUMS was
   * the last entry), so its compressor, warm from the run, is free to
   * lend once it is made. */
  int rc = keel__bundle_finish_jobs(b, err);
  if (!rc)
    rc = keel__bundle_build_tar(b, &t, start, dest, err);
  if (!rc) {
    keel__bundle_borrow_compressor(b);
    rc = compress_tar(b, &t, start, &w, dest, err);
  }
  if (!rc) {
    keel__bundle_retire_worker(b); /* every job done, no compressing left */
    rc = keel_gzseg_write_fd(&w, fd, dest, err);
  }
  keel_gzseg_writer_free(&w);
  keel_buf_free(&t.buf);
  free(start);
  return rc;
}

/* environment.json, captured with the builder, unless the run added one. */
static int seal_environment(keel_bundle_builder *b, keel_error *err)
{
  if (keel__bundle_find_entry(b, "environment.json"))
    return KEEL_OK;
  json_t *env = keel__bundle_take_environment(b);
  char *text = env ? keel__bundle_json_text(env) : NULL;
  json_decref(env);
  if (!text)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  return keel__bundle_put_entry(b, "environment.json", (unsigned char *)text,
                                strlen(text), err);
}

static int seal_digest_file(keel_bundle_builder *b, const char *digest,
                            keel_error *err)
{
  unsigned char *line = malloc(66);
  if (!line)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  snprintf((char *)line, 66, "%s\n", digest);
  return keel__bundle_put_entry(b, "digest.txt", line, 65, err);
}

/* The entries the seal writes, each after those it needs: the digest
 * covers plugins.json, README.md and run.json name the digest, and
 * SHA256SUMS (then SIGNATURE) lists everything. */
static int seal_entries(keel_bundle_builder *b, const char *sign_key,
                        char digest[65], keel_error *err)
{
  int rc = seal_plugins(b, err);
  if (!rc)
    rc = seal_audit(b, err);
  if (!rc)
    rc = seal_environment(b, err);
  if (!rc)
    rc = seal_digest(b, digest, err);
  if (!rc)
    rc = seal_readme(b, digest, sign_key != NULL, err);
  if (!rc)
    rc = seal_run_record(b, digest, err);
  if (!rc)
    rc = seal_digest_file(b, digest, err);
  if (!rc)
    rc = seal_sums(b, sign_key, err);
  return rc;
}

/* Writes <out_dir>/<run_id>.tar.gz atomically (a temporary file beside
 * it, fsync'd, linked into place, never over an existing bundle); *dest
 * gets its path (malloc'd) on success. */
static int write_bundle_file(keel_bundle_builder *b, const char *out_dir,
                             char **dest, keel_error *err)
{
  char *tmp = NULL;
  int rc = keel_fs_mkdir_p(out_dir, err);
  if (rc)
    return rc;
  size_t n = strlen(out_dir) + strlen(b->run_id) + 16;
  char *path = malloc(n);
  if (!path)
    return keel_fail(err, KEEL_ENOMEM, "bundle: out of memory");
  snprintf(path, n, "%s/%s.tar.gz", out_dir, b->run_id);
  int fd = keel_fs_temp_open(path, &tmp, err);
  if (fd < 0) {
    free(path);
    return fd;
  }
  fchmod(fd, 0644);
  rc = write_tar(b, fd, path, err);
  if (rc) {
    unlink(tmp); /* while still locked: a closed temporary may be swept */
    close(fd);
    free(tmp);
  } else {
    rc = keel_fs_temp_commit(fd, tmp, path, 1, err);
  }
  if (rc)
    free(path);
  else
    *dest = path;
  return rc;
}

int keel_bundle_seal(keel_bundle_builder *b, const char *out_dir,
                     const char *sign_key, char **final_path,
                     char digest_hex[65], keel_error *err)
{
  char digest[65], *dest = NULL;
  if (final_path)
    *final_path = NULL;
  if (!b || b->sealed)
    return keel_fail(err, KEEL_EINVAL, "bundle: builder already sealed");
  b->sealed = 1;
  int rc = seal_entries(b, sign_key, digest, err);
  if (!rc)
    rc = write_bundle_file(b, out_dir, &dest, err);
  if (rc)
    return rc;
  if (digest_hex)
    memcpy(digest_hex, digest, 65);
  if (final_path)
    *final_path = dest;
  else
    free(dest);
  return 0;
}
