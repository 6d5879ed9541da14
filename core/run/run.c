/* One run end to end. Validation problems (manifest, template, plugins,
 * declared schemas) stop before anything is written, with exit 2. Once a
 * run is past validation, it always ends as a sealed bundle, a failed one
 * included, so every attempt leaves an auditable record. */
#include "run/run.h"
#include "config/load.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <omp.h>

#include "base/buffer.h"
#include "base/fsutil.h"
#include "base/json_text.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "config/config_json.h"
#include "data/access.h"
#include "data/audit_log.h"
#include "data/freshness.h"
#include "data/pipeline.h"
#include "plugin/host.h"
#include "plugin/loader.h"
#include "plugin/state.h"
#include "run/input_digest.h"
#include "train/train.h"

/* Where an interrupted run's bundle keeps the checkpoint that resumes it
 * (outside the result digest). */
#define KEEL_RUN_CHECKPOINT_MEMBER "checkpoint/" KEEL_CHECKPOINT_FILE

void keel_run_outcome_free(keel_run_outcome *out)
{
  free(out->bundle_path);
  free(out->checkpoint_path);
  memset(out, 0, sizeof *out);
}

const char *keel_run_signal_name(int sig)
{
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* ---- the resolved configuration ---------------------------------------- */

/* The resolved values (config.json) as compact text: what a checkpoint's
 * fingerprint covers, so a checkpoint fits any run of the same values. */
static char *stable_config_text(const json_t *values)
{
  return json_dumps(values, JSON_SORT_KEYS | JSON_COMPACT);
}

/* ---- lineage --------------------------------------------------------- */

/* A JSON member parsed from text a writer built; NULL text (a writer
 * that could not represent a value) is an error, never a null member. */
static int set_parsed(json_t *root, const char *key, char *text,
                      keel_error *err)
{
  json_t *j = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!j)
    return keel_fail(err, KEEL_EINVAL,
                     "lineage.json: the %s could not be written as JSON", key);
  return json_object_set_new(root, key, j)
             ? keel_fail(err, KEEL_ENOMEM, "out of memory")
             : KEEL_OK;
}

/* Every text goes through base/json_text.h: a name, class or path that is
 * not UTF-8 stops the record with a message, never vanishes from it. The
 * keys keep their order (the bytes of lineage.json are in the digest). */
/* The catalog entry a run read, as lineage.json records it (inside the
 * result digest): what the data is, never where it was read from. */
static json_t *dataset_lineage(const keel_dataset *d)
{
  const keel_catalog_entry *e = d->entry;
  json_t *o =
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "id", e->id, "name",
                e->name, "version", e->version, "sha256", e->sha256, "rows",
                (json_int_t)e->rows, "scope", keel_data_scope_name(e->scope),
                "license", e->license ? e->license : "", "as_of", e->as_of);
  json_t *opts = json_object();
  /* what the entry sets: how the bytes are read (a sqlite query's text) */
  for (size_t i = 0; o && opts && i < e->n_options; i++)
    json_object_set_new(opts, e->options[i].key,
                        keel_json_message(e->options[i].value));
  if (o && opts)
    json_object_set_new(o, "options", opts);
  else
    json_decref(opts);
  return o ? o : json_null();
}

static json_t *lineage_json(const keel_run_config *cfg,
                            const keel_host_context *ctx,
                            const keel_prepared *prep, keel_error *err)
{
  const keel_plugin *sp = &cfg->source.plugin->desc;
  json_t *files = json_array(), *names = json_array(), *classes = json_array(),
         *root = json_object();
  int rc = files && names && classes && root
               ? KEEL_OK
               : keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < prep->n_features; i++)
    rc = keel_json_append_text(names, prep->feature_names[i], err,
                               "lineage.json: feature name %zu", i + 1);
  for (size_t i = 0; !rc && i < prep->n_classes; i++)
    rc = keel_json_append_text(classes, prep->class_names[i], err,
                               "lineage.json: class %zu", i + 1);
  for (size_t i = 0; !rc && i < ctx->n_inputs; i++) {
    json_t *f = json_object();
    rc =
        f ? keel_json_set_text(f, "path", ctx->inputs[i].name, err,
                               "lineage.json: the path of data file %zu", i + 1)
          : keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (!rc &&
        (json_object_set_new(f, "sha256", json_string(ctx->inputs[i].sha256)) ||
         json_object_set_new(f, "bytes",
                             json_integer((json_int_t)ctx->inputs[i].bytes))))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    if (f && json_array_append_new(files, f) && !rc)
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  if (!rc) {
    /* The source by name and version: its binary's SHA-256 is provenance
     * (plugins.json), not part of what the run computed. */
    json_t *source = json_pack("{s:s, s:s, s:O}", "plugin", sp->name, "version",
                               sp->version, "files", files);
    if (source && cfg->dataset)
      json_object_set_new(source, "dataset", dataset_lineage(cfg->dataset));
    if (source && prep->source_rows_sha256[0])
      json_object_set_new(source, "rows_sha256",
                          json_string(prep->source_rows_sha256));
    if (!source || json_object_set_new(root, "source", source))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  if (!rc)
    rc = keel_json_set_text(root, "label", prep->label, err,
                            "lineage.json: the label column's name");
  if (!rc &&
      (json_object_set_new(root, "rows_read",
                           json_integer((json_int_t)prep->n_source_rows)) ||
       json_object_set_new(root, "features",
                           json_integer((json_int_t)prep->n_features))))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = set_parsed(root, "schemas", keel_stage_schemas_to_json(&prep->schemas),
                    err);
  if (!rc)
    rc = set_parsed(root, "split", keel_prepared_split_json(prep), err);
  if (!rc && (json_object_set(root, "feature_names", names) ||
              json_object_set(root, "classes", classes)))
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_decref(files);
  json_decref(names);
  json_decref(classes);
  if (rc) {
    json_decref(root);
    return NULL;
  }
  return root;
}

/* ---- metrics ---------------------------------------------------------- */

static json_t *num_or_null(double v)
{
  return isfinite(v) ? json_real(v) : json_null();
}

static json_t *metrics_json(const keel_metrics *m)
{
  json_t *o = json_object();
  json_object_set_new(o, "rows", json_integer((json_int_t)m->n_rows));
  json_object_set_new(o, "loss", num_or_null(m->loss));
  json_object_set_new(o, "accuracy", num_or_null(m->accuracy));
  json_object_set_new(o, "macro_f1", num_or_null(m->macro_f1));
  json_object_set_new(o, "rmse", num_or_null(m->rmse));
  json_object_set_new(o, "mae", num_or_null(m->mae));
  json_object_set_new(o, "r2", num_or_null(m->r2));
  return o;
}

/* ---- the run ------------------------------------------------------------ */

typedef struct run_state {
  const keel_run_options *opt;
  keel_registry *reg;
  keel_run_config *cfg;
  keel_host_context ctx;
  keel_host host;
  keel_bundle_builder *bundle;
  keel_prepared prep;
  int prepared;
  keel_train_result train;
  int trained;
  char *checkpoint_dir;
  keel_stage_schemas schemas; /* from validation, handed to preparation */
  keel_freshness fresh;       /* the dataset's age, for config_full.json */
  int checked;
  keel_bundle *resume_bundle; /* --resume BUNDLE: holds the checkpoint */
  const keel_bundle_member *resume_member; /* its checkpoint */
  keel_data_access *access;      /* the [source] dataset's bytes, or NULL */
  keel_policy_decision decision; /* the access policy's, when decided */
  int decided;
  int data_failed;         /* the dataset's bytes could not be had */
  int data_integrity;      /* a routed input was not the catalogued bytes */
  int checks_recorded;     /* data_checks.json is in the bundle */
  char *run_id;            /* made first: the audit lines name it */
  keel_audit_trail *audit; /* the run's lines of the central audit log */
  int audit_started;       /* run-start was appended ... */
  int audit_ended;         /* ... and run-end */
  int audit_failed;        /* run-start could not be appended */
} run_state;

/* ---- the audit trail (data/audit_log.h) --------------------------------- */

/* One line of this run's trail about its [source] dataset, when any. */
static int audit_run(run_state *rs, const char *action, const char *detail,
                     keel_error *err)
{
  const keel_dataset *ds = rs->cfg ? rs->cfg->dataset : NULL;
  keel_audit_event ev = {.action = action, .detail = detail};
  if (ds) {
    ev.dataset = ds->entry->id;
    ev.sha256 = ds->entry->sha256;
    ev.scope = keel_data_scope_name(ds->entry->scope);
  }
  return keel_audit_trail_append(rs->audit, &ev, err);
}

/* run-end, once, after a run-start: the exit code and the error. */
static int audit_end(run_state *rs, int exit_code, const char *error,
                     keel_error *err)
{
  if (!rs->audit_started || rs->audit_ended)
    return KEEL_OK;
  rs->audit_ended = 1;
  keel_buf d = KEEL_BUF_INIT;
  keel_buf_printf(&d, "exit %d%s%s", exit_code, error ? ": " : "",
                  error ? error : "");
  int rc = d.failed ? keel_fail(err, KEEL_ENOMEM, "out of memory")
                    : audit_run(rs, "run-end", (const char *)d.data, err);
  keel_buf_free(&d);
  return rc;
}

/* Records one stage's plugin unless an earlier stage used the same one. */
static int add_stage_plugin(run_state *rs, const keel_stage *st,
                            const keel_stage *const *earlier, size_t n_earlier,
                            keel_error *err)
{
  const keel_loaded_plugin *p = st->plugin;
  for (size_t j = 0; j < n_earlier; j++)
    if (earlier[j]->plugin == p)
      return KEEL_OK; /* one plugin used by two sections */
  char abi[32];
  snprintf(abi, sizeof abi, "%u.%u", p->desc.abi_major, p->desc.abi_minor);
  return keel_bundle_add_plugin(rs->bundle, keel_kind_name((int)p->desc.kind),
                                p->desc.name, p->desc.version, abi, p->path,
                                p->sha256, rs->opt->include_plugins, err);
}

static int add_plugins(run_state *rs, keel_error *err)
{
  const keel_run_config *cfg = rs->cfg;
  size_t n = 0, cap = cfg->n_transforms + 4;
  const keel_stage **stages = malloc(cap * sizeof *stages);
  if (!stages)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  stages[n++] = &cfg->source;
  for (size_t i = 0; i < cfg->n_transforms; i++)
    stages[n++] = &cfg->transforms[i];
  stages[n++] = &cfg->model;
  stages[n++] = &cfg->loss;
  stages[n++] = &cfg->optimizer;
  int rc = KEEL_OK;
  for (size_t i = 0; i < n && !rc; i++)
    rc = add_stage_plugin(rs, stages[i], stages, i, err);
  free(stages);
  return rc;
}

/* data_checks.json, once: outside the result digest (derived from the
 * data and the checks, which are in it); written only when the template
 * declares checks, by a run that failed on them too. */
static int add_checks_record(run_state *rs, keel_error *err)
{
  if (!rs->prep.checks.n || rs->checks_recorded)
    return KEEL_OK;
  json_t *checks = keel_check_report_json(&rs->prep.checks);
  int rc =
      checks ? keel_bundle_add_json(rs->bundle, "data_checks.json", checks, err)
             : keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_decref(checks);
  rs->checks_recorded = rc == KEEL_OK;
  return rc;
}

static int add_data_record(run_state *rs, keel_error *err)
{
  /* The lineage hashes ran while the source read the files. */
  int rc = keel_host_context_settle(&rs->ctx, err);
  if (rc)
    return rc;
  json_t *lineage = lineage_json(rs->cfg, &rs->ctx, &rs->prep, err);
  if (!lineage)
    return err && err->code ? err->code : KEEL_EINVAL;
  rc = keel_bundle_add_json(rs->bundle, "lineage.json", lineage, err);
  json_decref(lineage);
  if (!rc)
    rc = add_checks_record(rs, err);
  for (size_t i = 0; !rc && i < rs->ctx.n_inputs; i++) {
    rc = keel_bundle_audit(rs->bundle, "read-data", rs->ctx.inputs[i].name,
                           rs->ctx.inputs[i].sha256, err);
    const keel_dataset *ds = rs->cfg->dataset;
    int routed = ds && strcmp(ds->entry->id, rs->ctx.inputs[i].name) == 0;
    keel_audit_event ev = {.action = "read-data",
                           .dataset = routed ? ds->entry->id : NULL,
                           .location = routed ? NULL : rs->ctx.inputs[i].name,
                           .sha256 = rs->ctx.inputs[i].sha256};
    if (!rc)
      rc = keel_audit_trail_append(rs->audit, &ev, err);
    if (!rc && rs->opt->include_data) {
      char name[4200];
      snprintf(name, sizeof name, "data/%s", rs->ctx.inputs[i].name);
      if (strstr(name, "..") || rs->ctx.inputs[i].name[0] == '/')
        snprintf(name, sizeof name, "data/input-%.16s",
                 rs->ctx.inputs[i].sha256); /* cmd_replay.c looks here */
      rc = keel_bundle_add_file(rs->bundle, name, rs->ctx.inputs[i].resolved,
                                err);
    }
  }
  for (size_t i = 0; !rc && i < rs->prep.n_transforms; i++) {
    char name[512];
    snprintf(name, sizeof name, "preprocess/%02zu-%s.json", i + 1,
             rs->cfg->transforms[i].section);
    char *text = keel_state_to_json(rs->prep.states[i]);
    if (!text)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    rc = keel_bundle_add_bytes(rs->bundle, name, text, strlen(text), err);
    free(text);
  }
  return rc;
}

/* Prepared split `part` as the trainer takes it, with its source data rows
 * and its name for messages (a loss that fails names the row, as the data
 * messages do: "source data row 7 (train split)"). */
static keel_train_data split_data(const run_state *rs, keel_split_part part)
{
  const keel_prepared_part *p = &rs->prep.part[part];
  return (keel_train_data){.x = p->X,
                           .y = p->y,
                           .n_rows = p->n_rows,
                           .n_features = rs->prep.n_features,
                           .rows = p->rows,
                           .name = keel_split_part_name(part)};
}

static int add_results(run_state *rs, const keel_train_setup *setup,
                       keel_error *err)
{
  const keel_train_result *t = &rs->train;
  int rc = KEEL_OK;
  for (size_t i = 0; !rc && i < t->n_tensors; i++) {
    char name[256];
    snprintf(name, sizeof name, "weights/%s.npy", t->tensors[i].name);
    rc = keel_bundle_add_npy_f32(rs->bundle, name,
                                 t->weights + t->tensors[i].offset,
                                 t->tensors[i].shape, t->tensors[i].ndim, err);
  }
  if (!rc && t->n_opt_state) {
    size_t shape[1] = {t->n_opt_state};
    rc = keel_bundle_add_npy_f32(rs->bundle, "optimizer_state.npy",
                                 t->opt_state, shape, 1, err);
  }
  if (!rc && t->metrics_jsonl)
    rc = keel_bundle_add_bytes(rs->bundle, "metrics.jsonl", t->metrics_jsonl,
                               strlen(t->metrics_jsonl), err);
  if (rc)
    return rc;
  json_t *final = json_object();
  json_object_set_new(final, "epochs", json_integer((json_int_t)t->epochs_run));
  json_object_set_new(final, "steps", json_integer((json_int_t)t->steps));
  json_object_set_new(final, "stopped_early", json_boolean(t->stopped_early));
  json_object_set_new(final, "best_epoch",
                      json_integer((json_int_t)t->best_epoch));
  if (t->interrupted) /* where it stopped; absent for a finished run */
    json_object_set_new(final, "interrupted",
                        json_pack("{s:I,s:I,s:I}", "epochs_done",
                                  (json_int_t)t->epochs_run, "batches_done",
                                  (json_int_t)t->stop_batch,
                                  "batches_per_epoch", (json_int_t)t->batches));
  json_object_set_new(final, "train", metrics_json(&t->train));
  json_object_set_new(final, "valid", metrics_json(&t->valid));
  const keel_prepared_part *test = &rs->prep.part[KEEL_SPLIT_TEST];
  if (test->n_rows) {
    keel_train_data d = split_data(rs, KEEL_SPLIT_TEST);
    keel_metrics m;
    rc = keel_train_evaluate(setup, t->weights, t->n_weights, &d, &m, err);
    if (!rc)
      json_object_set_new(final, "test", metrics_json(&m));
  }
  if (!rc)
    rc = keel_bundle_add_json(rs->bundle, "metrics.json", final, err);
  json_decref(final);
  return rc;
}

/* The identity a checkpoint must match: config and data hashes. */
static void fingerprint(run_state *rs, const char *config_text, char hex[65])
{
  keel_sha256 *h = keel_sha256_new();
  keel_sha256_update(h, config_text, strlen(config_text));
  for (size_t i = 0; i < rs->ctx.n_inputs; i++)
    keel_sha256_update(h, rs->ctx.inputs[i].sha256, 64);
  keel_sha256_final_hex(h, hex);
}

/* OUT/checkpoints/<first 16 hex of fp>, created; malloc'd into *dir. */
static int checkpoint_folder(run_state *rs, const char *fp, char **dir,
                             keel_error *err)
{
  size_t n = strlen(rs->opt->out_dir) + 128;
  *dir = malloc(n);
  if (!*dir)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  snprintf(*dir, n, "%s/checkpoints/%.16s", rs->opt->out_dir, fp);
  return keel_fs_mkdir_p(*dir, err);
}

/* 1 when the file at path starts like a gzip file (a bundle), not like
 * a checkpoint; 0 also when it cannot be read (the checkpoint reader then
 * says why). */
static int looks_like_bundle(const char *path)
{
  unsigned char magic[2] = {0, 0};
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t got = fread(magic, 1, 2, f);
  fclose(f);
  return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* --resume BUNDLE, before any data is read: the bundle verified whole and
 * its checkpoint member found, for the loop (the fingerprint inside then
 * says whether it is this run's). */
static int resume_from_bundle(run_state *rs, keel_error *err)
{
  const char *path = rs->opt->resume;
  int rc = keel_bundle_open(path, NULL, &rs->resume_bundle, err);
  if (rc)
    return rc;
  keel_bundle_report report;
  rc = keel_bundle_check(rs->resume_bundle, NULL, &report, err);
  size_t problems = report.n_problems;
  keel_bundle_report_free(&report);
  if (rc == KEEL_EINTEGRITY)
    return keel_fail(err, rc,
                     "--resume %s: the bundle fails verification (%zu "
                     "problem(s); `keel verify` names them)",
                     path, problems);
  if (rc)
    return rc;
  const keel_bundle_member *m =
      keel_bundle_find(rs->resume_bundle, KEEL_RUN_CHECKPOINT_MEMBER);
  if (!m) {
    json_t *run = keel_bundle_json(rs->resume_bundle, "run.json", NULL);
    const char *status = json_string_value(json_object_get(run, "status"));
    rc = keel_fail(err, KEEL_EINVAL,
                   "--resume %s: the bundle holds no %s (its status is "
                   "'%s'): only a run interrupted during training can be "
                   "resumed; run the manifest again without --resume",
                   path, KEEL_RUN_CHECKPOINT_MEMBER, status ? status : "?");
    json_decref(run);
    return rc;
  }
  rs->resume_member = m;
  return KEEL_OK;
}

/* An interrupted training: its checkpoint beside the periodic ones (so a
 * second signal while sealing still leaves it) and in the bundle. */
static int keep_interrupted_state(run_state *rs, const char *fp,
                                  keel_run_outcome *out, keel_error *err)
{
  const keel_train_result *t = &rs->train;
  if (!rs->checkpoint_dir) {
    int rc = checkpoint_folder(rs, fp, &rs->checkpoint_dir, err);
    if (rc)
      return rc;
  }
  size_t n = strlen(rs->checkpoint_dir) + sizeof KEEL_CHECKPOINT_FILE + 2;
  out->checkpoint_path = malloc(n);
  if (!out->checkpoint_path)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  snprintf(out->checkpoint_path, n, "%s/%s", rs->checkpoint_dir,
           KEEL_CHECKPOINT_FILE);
  int rc = keel_write_file_atomic(out->checkpoint_path, t->checkpoint,
                                  t->checkpoint_size, 0644, 0, err);
  if (rc) {
    free(out->checkpoint_path);
    out->checkpoint_path = NULL;
    return rc;
  }
  return keel_bundle_add_bytes(rs->bundle, KEEL_RUN_CHECKPOINT_MEMBER,
                               t->checkpoint, t->checkpoint_size, err);
}

static int train_model(run_state *rs, const char *config_text,
                       keel_run_outcome *out, keel_error *err)
{
  const keel_run_config *cfg = rs->cfg;
  char fp[65];
  fingerprint(rs, config_text, fp);
  keel_train_setup setup = keel_train_setup_of(cfg);
  setup.task = rs->prep.task;
  setup.n_classes = rs->prep.n_classes;
  setup.threads = rs->opt->threads;
  setup.progress = rs->opt->progress;
  setup.resume_path = rs->opt->resume;
  setup.fingerprint = fp;
  setup.host = &rs->host;
  setup.interrupt = rs->opt->interrupt;
  if (cfg->train.values[KEEL_TRAIN_CHECKPOINT_EVERY].i > 0) {
    int rc = checkpoint_folder(rs, fp, &rs->checkpoint_dir, err);
    if (rc != 0)
      return rc;
    setup.checkpoint_dir = rs->checkpoint_dir;
  }
  if (rs->resume_member) {
    setup.resume_data = rs->resume_member->data;
    setup.resume_size = rs->resume_member->size;
  }
  keel_train_data train = split_data(rs, KEEL_SPLIT_TRAIN);
  keel_train_data valid = split_data(rs, KEEL_SPLIT_VALID);
  int rc = keel_train_run(&setup, &train, valid.n_rows ? &valid : NULL,
                          &rs->train, err);
  rs->trained = 1;
  keel_bundle_set_outcome(rs->bundle, 0, NULL, rs->train.threads);
  int add_rc = add_results(rs, &setup, rc ? NULL : err);
  if (!rc && !add_rc && rs->train.interrupt_signal)
    add_rc = keep_interrupted_state(rs, fp, out, err);
  if (!rc && !add_rc && rs->train.interrupt_signal) {
    out->interrupted_by = rs->train.interrupt_signal;
    out->stop_epochs = rs->train.epochs_run;
    out->stop_batch = rs->train.stop_batch;
    out->batches = rs->train.batches;
  }
  return rc ? rc : add_rc;
}

/* The input digest, once the data is read and hashed: into run.json, with
 * the sweep a trial belongs to, and to the caller's reuse hook, which may
 * stop the run here (an earlier bundle has the same inputs). */
static int record_inputs(run_state *rs, const char *config_text,
                         keel_run_outcome *out, keel_error *err)
{
  int rc =
      keel_input_digest(rs->cfg, &rs->ctx, config_text, out->input_digest, err);
  if (!rc)
    rc = keel_bundle_set_info(rs->bundle, "input_digest", out->input_digest,
                              err);
  const keel_run_sweep_info *sw = rs->opt->sweep;
  if (!rc && sw) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(sw->id));
    json_object_set_new(o, "trial", json_integer((json_int_t)sw->trial));
    json_object_set_new(o, "objective", json_string(sw->objective));
    json_object_set_new(o, "direction",
                        json_string(sw->maximize ? "max" : "min"));
    rc = keel_bundle_set_info_json(rs->bundle, "sweep", o, err);
  }
  if (!rc && rs->opt->reuse &&
      rs->opt->reuse(rs->opt->reuse_ctx, out->input_digest) == 1)
    out->reused = 1;
  return rc;
}

static int until_transforms(run_state *rs, keel_run_outcome *out,
                            keel_error *err)
{
  /* The prepared data is only as good as the bytes it came from: the
   * lineage hashes must settle (the files unchanged since they were read)
   * before anything computed from them is written. */
  int settled = keel_host_context_settle(&rs->ctx, err);
  if (settled)
    return settled;
  const char *stem = strrchr(rs->cfg->manifest_path, '/');
  stem = stem ? stem + 1 : rs->cfg->manifest_path;
  size_t n = strlen(rs->opt->out_dir) + strlen(stem) + 32;
  char *dir = malloc(n);
  if (!dir)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  int len = snprintf(dir, n, "%s/transforms-%s", rs->opt->out_dir, stem);
  if (len > 4 && strcmp(dir + len - 4, ".ini") == 0)
    dir[len - 4] = '\0';
  int rc = keel_prepared_write(&rs->prep, dir, err);
  if (rc)
    free(dir);
  else
    out->bundle_path = dir;
  return rc;
}

static int seal(run_state *rs, int exit_code, const char *error,
                keel_run_outcome *out, keel_error *err)
{
  int threads = rs->trained ? rs->train.threads : 0;
  keel_bundle_set_outcome(rs->bundle, exit_code, error, threads);
  if (out->interrupted_by) {
    int rc = keel_bundle_set_status(rs->bundle, "interrupted", err);
    if (!rc)
      rc = keel_bundle_set_info(rs->bundle, "interrupted_by",
                                rs->opt->interrupt_reason &&
                                        *rs->opt->interrupt_reason
                                    ? *rs->opt->interrupt_reason
                                    : keel_run_signal_name(out->interrupted_by),
                                err);
    if (rc)
      return rc;
  }
  /* run-end is the bundle's anchor: the last line of the run, whose seq
   * and hash audit_chain.json records. */
  int rc = audit_end(rs, exit_code, error, err);
  json_t *chain = rc ? NULL : keel_audit_trail_json(rs->audit);
  if (!rc)
    rc = chain
             ? keel_bundle_add_json(rs->bundle, "audit_chain.json", chain, err)
             : keel_fail(err, KEEL_ENOMEM, "out of memory");
  json_decref(chain);
  if (rc)
    return rc;
  char digest[65] = "";
  char *path = NULL;
  rc = keel_bundle_seal(rs->bundle, rs->opt->out_dir, rs->opt->sign_key, &path,
                        digest, err);
  if (rc)
    return rc;
  out->bundle_path = path;
  memcpy(out->result_digest, digest, sizeof digest);
  return KEEL_OK;
}

/* The bytes of a [source] dataset, routed in the host context: a copy
 * the bundle carries (replay) or what the access shim finds. */
static int open_dataset(run_state *rs, keel_error *err)
{
  const keel_dataset *ds = rs->cfg->dataset;
  if (!ds)
    return KEEL_OK;
  const keel_catalog_entry *e = ds->entry;
  keel_data_access_options o = {.cache_root = rs->opt->data_cache,
                                .ca_bundle = rs->opt->ca_bundle,
                                .policy = rs->opt->policy,
                                .purpose = rs->cfg->purpose,
                                .include_data = rs->opt->include_data,
                                .audit = rs->audit};
  /* The policy decides before any byte is read, bundled copies too; a
   * denial is accounted for in the audit trail as well. */
  rs->decided = 1;
  int rc = keel_data_access_decide(ds, &o, &rs->decision, err);
  if (rc != KEEL_ENOMEM) {
    keel_error aerr = {0}, inner = *err;
    if (keel_data_access_audit_decision(rs->audit, ds, &rs->decision,
                                        rc ? inner.message : NULL, &aerr))
      rc = rc ? keel_fail(err, rc, "%s (and the audit log: %s)", inner.message,
                          aerr.message)
              : keel_fail(err, aerr.code, "%s", aerr.message);
  }
  if (rc)
    return rc;
  o.decision = &rs->decision;
  char *bundled = rs->opt->data_remap
                      ? rs->opt->data_remap(rs->opt->data_remap_ctx, e->id)
                      : NULL;
  if (bundled) {
    struct stat st;
    int here = stat(bundled, &st) == 0;
    rc = here ? keel_host_context_route(&rs->ctx, e->id, bundled, e->sha256,
                                        "the bundled data")
              : KEEL_ENOTFOUND;
    free(bundled);
    if (rc != KEEL_ENOTFOUND)
      return rc ? keel_fail(err, rc, "out of memory") : KEEL_OK;
  }
  rc = keel_data_access_open(ds, &o, &rs->ctx, &rs->access, err);
  if (rc == KEEL_EINTEGRITY)
    rs->data_integrity = 1;
  return rc;
}

/* explain_by_hash's answer: the data must be read again. */
#define READ_AGAIN 1

/* After reading the dataset ended with rc (KEEL_OK included): settles
 * the hashes. When the bytes read were not the catalogued ones, that is
 * the error (a truncated file failing to parse is only its symptom),
 * unless they came from a cache entry that could be replaced: then
 * READ_AGAIN, and nothing read before is used. Else rc, err kept. */
static int explain_by_hash(run_state *rs, int rc, keel_error *err)
{
  const keel_input_record *bad = NULL;
  keel_error herr = {0};
  int hrc = keel_host_context_settle_checked(&rs->ctx, &bad, &herr);
  if ((bad || (!hrc && rs->ctx.n_inputs)) &&
      keel_data_access_audit_hash(rs->access, !bad, err))
    return err->code;
  if (!bad)
    return rc ? rc : hrc ? (*err = herr, hrc) : KEEL_OK;
  int again =
      keel_data_access_recover(rs->access, &rs->ctx, bad, KEEL_EINTEGRITY, err);
  if (again == KEEL_OK)
    return READ_AGAIN;
  if (again == KEEL_EINTEGRITY) {
    *err = herr;
    rs->data_integrity = 1;
  }
  return again;
}

/* Reads, splits and fits the data; a dataset's bytes are settled
 * against the catalog here, and read once more after a corrupt cache
 * entry was replaced. */
static int prepare_data(run_state *rs, keel_error *err)
{
  for (int attempt = 0;; attempt++) {
    int rc = keel_pipeline_prepare_checked(rs->cfg, &rs->host, &rs->schemas,
                                           &rs->prep, err);
    rs->checked = 0; /* the schemas now belong to rs->prep */
    rs->prepared = rc == KEEL_OK;
    if (!rs->cfg->dataset)
      return rc;
    rc = explain_by_hash(rs, rc, err);
    if (rc != READ_AGAIN || attempt > 0)
      return rc == READ_AGAIN ? keel_fail(err, KEEL_EINTEGRITY,
                                          "%s: the data did not match "
                                          "its catalogued hash twice",
                                          rs->cfg->dataset->entry->id)
                              : rc;
    keel_prepared_free(&rs->prep); /* all of it, or the checks' report */
    rs->prepared = 0;
    if ((rc = keel_pipeline_check(rs->cfg, &rs->host, &rs->schemas, err)))
      return rc;
    rs->checked = 1;
  }
}

static int validate(run_state *rs, keel_error *err)
{
  const keel_run_options *opt = rs->opt;
  int rc = keel_config_load(
      opt->manifest_path, opt->overrides, opt->n_overrides, opt->plugin_paths,
      opt->n_plugin_paths, opt->no_default_plugin_paths, opt->template_path,
      opt->catalog, &rs->reg, &rs->cfg, err);
  if (rc)
    return rc;
  /* Before any byte is read: the run is in the trail even if it fails. */
  if ((rc = audit_run(rs, "run-start", rs->cfg->manifest_path, err))) {
    rs->audit_failed = 1;
    return rc;
  }
  rs->audit_started = 1;
  if ((rc = keel_host_context_init(&rs->ctx, rs->cfg->manifest_dir)))
    return keel_fail(err, rc, "out of memory");
  rs->ctx.remap = opt->data_remap;
  rs->ctx.remap_ctx = opt->data_remap_ctx;
  keel_host_bind(&rs->host, &rs->ctx);
  /* before any byte is read: a refusal by the template's policy */
  if ((rc = keel_freshness_check(rs->cfg, keel_freshness_today(),
                                 opt->freshness_report_only, &rs->fresh, err)))
    return rc;
  if (rs->fresh.stale) {
    char m[1024];
    keel_freshness_message(rs->cfg, &rs->fresh, m, sizeof m);
    keel_log_emit(KEEL_LOG_WARN, "%s", m);
  }
  if ((rc = open_dataset(rs, err))) {
    rs->data_failed = 1;
    return rc;
  }
  rc = keel_pipeline_check(rs->cfg, &rs->host, &rs->schemas, err);
  if (rc && rs->cfg->dataset &&
      (rc = explain_by_hash(rs, rc, err)) == READ_AGAIN)
    rc = keel_pipeline_check(rs->cfg, &rs->host, &rs->schemas, err);
  if (rs->data_integrity)
    rs->data_failed = 1;
  rs->checked = rc == KEEL_OK;
  if (!rc) { /* training rules that need no data, before any is read */
    int exact = 0;
    size_t width = keel_stage_schemas_model_width(&rs->schemas, &exact);
    rc = keel_train_check(rs->cfg, width, exact, 0, err);
  }
  return rc;
}

/* Removes what killed runs left in the output folder: stale temporaries
 * of bundles there and of checkpoints in each checkpoint folder (stale:
 * no live writer holds them locked, base/fsutil.h). Each removal is said
 * through the log; a folder that cannot be swept is said too and does not
 * stop the run. */
static void sweep_stale_temps(const char *out_dir)
{
  keel_error e = {0};
  if (keel_fs_sweep_stale_temps(out_dir, &e) < 0)
    keel_log_emit(KEEL_LOG_WARN, "%s", e.message);
  size_t n = strlen(out_dir) + sizeof "/checkpoints";
  char *ck = malloc(n);
  if (!ck)
    return;
  snprintf(ck, n, "%s/checkpoints", out_dir);
  DIR *d = opendir(ck);
  for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.')
      continue;
    size_t m = n + strlen(de->d_name) + 1;
    char *sub = malloc(m);
    if (!sub)
      break;
    snprintf(sub, m, "%s/%s", ck, de->d_name);
    struct stat st;
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
        keel_fs_sweep_stale_temps(sub, &e) < 0)
      keel_log_emit(KEEL_LOG_WARN, "%s", e.message);
    free(sub);
  }
  if (d)
    closedir(d);
  free(ck);
}

/* keel-bundle/3: every template of the chain, derived first, as
 * templates/NAME.ini (names are unique in a chain), and templates.json
 * listing them in order with their SHA-256 (verify checks each; replay
 * resolves against these files alone). */
static int add_template_chain(keel_bundle_builder *bundle,
                              const keel_run_config *cfg, keel_error *err)
{
  json_t *chain = json_array();
  int rc = chain ? 0 : keel_fail(err, KEEL_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && i < cfg->n_chain; i++) {
    const keel_template_file *f = &cfg->chain[i];
    char member[160];
    snprintf(member, sizeof member, "templates/%s.ini", f->name);
    rc = keel_bundle_add_bytes(bundle, member, f->text, strlen(f->text), err);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", f->name,
                          "version", f->version, "member", member, "sha256",
                          f->sha256, "path", f->path);
    if (!rc && (!o || json_array_append_new(chain, o)))
      rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  json_t *doc = rc ? NULL : json_pack("{s:o}", "chain", chain);
  if (!rc && !doc)
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (!rc)
    rc = keel_bundle_add_json(bundle, "templates.json", doc, err);
  if (doc)
    json_decref(doc);
  else
    json_decref(chain);
  return rc;
}

static int add_dataset_entry(keel_bundle_builder *bundle,
                             const keel_run_config *cfg, keel_error *err)
{
  keel_buf b = KEEL_BUF_INIT;
  keel_buf_printf(&b,
                  "; The catalog entry this run read (keel replay looks the "
                  "dataset up here;\n; config_full.json says which catalog "
                  "it came from).\n\n");
  if (keel_dataset_catalog_text(cfg->dataset, cfg->checks.drift_reference,
                                &b) ||
      b.failed) {
    keel_buf_free(&b);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  int rc = keel_bundle_add_bytes(bundle, "dataset.ini", b.data, b.len, err);
  keel_buf_free(&b);
  return rc;
}

static int begin_bundle(run_state *rs, const json_t *config,
                        const json_t *values, keel_error *err)
{
  if (!(rs->bundle = keel_bundle_builder_new(rs->run_id)))
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  const keel_run_config *cfg = rs->cfg;
  int rc = keel_bundle_add_bytes(rs->bundle, "manifest.ini", cfg->manifest_text,
                                 strlen(cfg->manifest_text), err);
  if (!rc)
    rc = keel_bundle_add_bytes(rs->bundle, "template.ini", cfg->template_text,
                               strlen(cfg->template_text), err);
  if (!rc)
    rc = add_template_chain(rs->bundle, cfg, err);
  if (!rc && cfg->dataset)
    rc = add_dataset_entry(rs->bundle, cfg, err);
  if (!rc)
    rc = keel_bundle_add_config(rs->bundle, config, values, err);
  if (!rc)
    rc = keel_bundle_set_info(rs->bundle, "manifest_path", cfg->manifest_path,
                              err);
  /* Absolute, so a replay from any folder finds data it does not carry. */
  char *abs_dir = realpath(cfg->manifest_dir, NULL);
  if (!rc)
    rc = keel_bundle_set_info(rs->bundle, "manifest_dir",
                              abs_dir ? abs_dir : cfg->manifest_dir, err);
  free(abs_dir);
  if (!rc)
    rc = keel_bundle_set_info(rs->bundle, "template_path", cfg->template_path,
                              err);
  if (!rc)
    rc = add_plugins(rs, err);
  return rc;
}

/* The decision as the bundle keeps it: without who asked when the
 * policy redacts the user. */
static json_t *policy_record(const keel_policy_decision *d)
{
  json_t *o = keel_policy_decision_json(d);
  if (o && d->redact_user) {
    json_object_set_new(o, "user", json_string("(redacted)"));
    json_object_set_new(o, "groups", json_string("(redacted)"));
    json_object_set_new(o, "uid", json_null());
    /* the reason names the rule's section, [user.NAME] */
    char why[64];
    snprintf(why, sizeof why, "granted by the rule at line %d", d->line);
    json_object_set_new(o, "reason", json_string(why));
  }
  return o;
}

/* run.json names who ran it where, unless the access policy says to
 * leave that out (`redact`); neither is in the result digest. */
static int redact_environment(run_state *rs, keel_error *err)
{
  int rc = KEEL_OK;
  if (rs->decided && rs->decision.redact_user)
    rc = keel_bundle_set_info(rs->bundle, "user", "(redacted)", err);
  if (!rc && rs->decided && rs->decision.redact_host)
    rc = keel_bundle_set_info(rs->bundle, "host", "(redacted)", err);
  return rc;
}

int keel_run_execute(const keel_run_options *opt, keel_run_outcome *out,
                     keel_error *err)
{
  memset(out, 0, sizeof *out);
  run_state rs = {0};
  rs.opt = opt;
  /* --threads applies to every parallel stage (parsing too), not only
   * training; results never depend on it. */
  if (opt->threads > 0)
    omp_set_num_threads(opt->threads);
  json_t *config = NULL, *values = NULL;
  char *config_text = NULL;
  int rc = (rs.run_id = keel_new_run_id())
               ? keel_audit_trail_open(NULL, rs.run_id, &rs.audit, err)
               : keel_fail(err, KEEL_ENOMEM, "out of memory");
  if (rc) {
    out->exit_code = keel_config_exit_code(rc);
    goto done;
  }
  rc = validate(&rs, err);
  if (rc) {
    /* Validation failed: the same exit code keel check gives, but for
     * data that could not be had (1) or was not the catalogued bytes (3). */
    out->exit_code =
        rs.audit_failed
            ? (rc == KEEL_EINTEGRITY ? KEEL_EXIT_INTEGRITY : KEEL_EXIT_RUNTIME)
        : rs.data_integrity                   ? KEEL_EXIT_INTEGRITY
        : rs.data_failed && rc != KEEL_EINVAL ? KEEL_EXIT_RUNTIME
                                              : keel_config_exit_code(rc);
    goto done;
  }
  if (opt->interrupt && *opt->interrupt) {
    /* Before anything is written: nothing to seal, nothing left behind. */
    out->interrupted_by = (int)*opt->interrupt;
    out->exit_code = KEEL_EXIT_SIGNAL + out->interrupted_by;
    goto done;
  }
  config = keel_run_config_to_json(rs.cfg);
  if (config && rs.access)
    json_object_set_new(config, "data_access",
                        keel_data_access_json(rs.access));
  if (config && rs.decided) /* outside the result digest: who, by which rule */
    json_object_set_new(config, "policy", policy_record(&rs.decision));
  if (config && rs.fresh.checked)
    json_object_set_new(config, "freshness", keel_freshness_json(&rs.fresh));
  values = keel_run_config_values_json(rs.cfg);
  config_text = config && values ? stable_config_text(values) : NULL;
  if (!config_text) {
    rc = keel_fail(err, KEEL_ENOMEM, "out of memory");
    out->exit_code = KEEL_EXIT_RUNTIME;
    goto done;
  }
  /* Past validation: from here on the run ends as a bundle. */
  sweep_stale_temps(opt->out_dir);
  if (!(rc = begin_bundle(&rs, config, values, err)))
    rc = redact_environment(&rs, err);
  if (rc) {
    out->exit_code = KEEL_EXIT_RUNTIME;
    goto done;
  }
  if (opt->resume && !opt->until_transforms && looks_like_bundle(opt->resume))
    rc = resume_from_bundle(&rs, err);
  if (!rc)
    rc = prepare_data(&rs, err);
  if (!rc && opt->until_transforms) {
    rc = until_transforms(&rs, out, err);
    out->exit_code = rc ? KEEL_EXIT_RUNTIME : KEEL_EXIT_OK;
    goto done;
  }
  if (!rc)
    rc = add_data_record(&rs, err);
  if (!rc)
    rc = record_inputs(&rs, config_text, out, err);
  if (!rc && out->reused) {
    out->exit_code = KEEL_EXIT_OK; /* nothing trained, nothing sealed */
    goto done;
  }
  if (!rc && opt->interrupt && *opt->interrupt) /* during data reading */
    out->interrupted_by = (int)*opt->interrupt;
  else if (!rc)
    rc = train_model(&rs, config_text, out, err);
  /* No parallel work is left: release OpenMP's threads now. Idle, they
   * spin for milliseconds waiting for more and take a core from sealing,
   * whose worker thread runs beside the main one (bundle_write.c). */
  omp_pause_resource_all(omp_pause_soft);
  /* Past validation every failure is a runtime failure (exit 1), even a
   * value only the data can refute (batch_size > training rows, another
   * run's checkpoint): the run is sealed, and exit 2 promises that nothing
   * was written (docs/cli.md). */
  out->exit_code = !rc                 ? KEEL_EXIT_OK
                   : rs.data_integrity ? KEEL_EXIT_INTEGRITY
                                       : KEEL_EXIT_RUNTIME;
  if (rc) {
    keel_error seal_err = {0};
    /* The failure is the run's result: seal it with the message, and
     * with what the data checks found when they ran. */
    if (add_checks_record(&rs, &seal_err) != KEEL_OK ||
        seal(&rs, out->exit_code, err->message, out, &seal_err) != KEEL_OK) {
      size_t used = strlen(err->message);
      snprintf(err->message + used, sizeof err->message - used,
               " (sealing its bundle failed too: %s)", seal_err.message);
    }
    goto done;
  }
  if (out->interrupted_by)
    out->exit_code = KEEL_EXIT_SIGNAL + out->interrupted_by;
  if ((rc = seal(&rs, out->exit_code, NULL, out, err)))
    out->exit_code = KEEL_EXIT_RUNTIME;
done:
  if (rs.audit_started && !rs.audit_ended) {
    /* Ended before sealing (refused, interrupted, or sealing failed). */
    keel_error aerr = {0};
    if (audit_end(&rs, out->exit_code, rc ? err->message : NULL, &aerr) &&
        !rc) {
      *err = aerr;
      rc = aerr.code;
      out->exit_code = KEEL_EXIT_RUNTIME;
    }
  }
  keel_audit_trail_free(rs.audit);
  free(rs.run_id);
  free(config_text);
  json_decref(config);
  json_decref(values);
  if (rs.trained)
    keel_train_result_free(&rs.train);
  keel_prepared_free(&rs.prep); /* all of it, or a failure's checks */
  if (rs.checked)
    keel_stage_schemas_free(&rs.schemas);
  keel_bundle_builder_free(rs.bundle);
  keel_bundle_close(rs.resume_bundle);
  keel_data_access_close(rs.access);
  keel_policy_decision_free(&rs.decision);
  free(rs.checkpoint_dir);
  if (rs.ctx.base_dir)
    keel_host_context_free(&rs.ctx);
  keel_run_config_free(rs.cfg);
  keel_registry_destroy(rs.reg);
  return rc;
}
