/* Fills a run registry with synthetic runs through the registry's own
 * insert path (keel_run_registry_insert, the code `keel run` and `keel runs
 * import` use), for the query benchmark of bench_registry.sh.
 *
 *   bench_registry REGISTRY_FILE [N_RUNS (100000)]
 *
 * Each run: 12 parameters (optimizer.lr log-uniform in [1e-4, 1e-1],
 * momentum, model.hidden, train.batch_size, ...), 8 final metrics
 * (valid.accuracy uniform in [0.5, 1]), 5 epochs of 6 per-epoch metrics,
 * one data file and five plugins. Values come from a fixed splitmix64
 * stream, so the same N gives the same registry content. Prints the
 * insert rate. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/registry.h"

static uint64_t state = 0x6b65656c;

static double uniform(void)
{
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

static char *num_text(double v)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  return strdup(buf);
}

static void param(keel_run_registry_record *r, const char *key,
                  const char *type, double v, const char *text)
{
  keel_run_registry_param *p = &r->params[r->n_params++];
  p->key = strdup(key);
  p->stage = strdup(strchr(key, '.') && strncmp(key, "train.", 6) &&
                            strncmp(key, "data.", 5)
                        ? "plugin"
                        : "host");
  p->type = strdup(type);
  p->text = text ? strdup(text) : num_text(v);
  p->num = v;
  p->has_num = text == NULL || strcmp(type, "bool") == 0;
}

static void metric(keel_run_registry_record *r, const char *key, long epoch,
                   double v)
{
  keel_run_registry_metric *m = &r->metrics[r->n_metrics++];
  m->key = strdup(key);
  m->epoch = epoch;
  m->value = v;
}

static void make_run(keel_run_registry_record *r, long i)
{
  static const char *const kinds[] = {"source", "transform", "model", "loss",
                                      "optimizer"};
  static const char *const names[] = {"csv", "standardize", "mlp", "xent",
                                      "sgd"};
  char buf[64], path[300], sha[65];
  memset(r, 0, sizeof *r);
  time_t t = 1767225600 + i * 60;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  char id[128];
  snprintf(id, sizeof id, "keel-run-%s.000Z-%08lx", buf, (unsigned long)i);
  r->run_id = strdup(id);
  r->name = strdup(i % 3 ? "iris.ini" : "penguins.ini");
  r->template_name = strdup("tabular-classification");
  r->template_version = strdup("1.0.0");
  snprintf(sha, sizeof sha, "%064lx", (unsigned long)i);
  r->manifest_sha256 = strdup(sha);
  r->input_digest = strdup(sha);
  r->result_digest = strdup(sha);
  r->status = strdup(i % 50 ? "ok" : "failed");
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  r->started_at = strdup(buf);
  r->ended_at = strdup(buf);
  r->user = strdup("bench");
  r->host = strdup("bench-host");
  r->format = strdup("keel-bundle/3");
  r->dataset = strdup("iris");
  r->dataset_version = strdup("1.0.0");
  snprintf(path, sizeof path, "/bench/runs/%s.tar.gz", id);
  r->bundle_path = strdup(path);
  memcpy(r->bundle_sha256, sha, 65);

  r->params = calloc(12, sizeof *r->params);
  param(r, "optimizer.lr", "float", pow(10, -4 + 3 * uniform()), NULL);
  param(r, "optimizer.momentum", "float", floor(uniform() * 10) / 10, NULL);
  param(r, "optimizer.weight_decay", "float", uniform() * 1e-3, NULL);
  param(r, "model.hidden", "int", 8 << (int)(uniform() * 4), NULL);
  param(r, "model.init_scale", "float", 1, NULL);
  param(r, "train.batch_size", "int", 16 << (int)(uniform() * 3), NULL);
  param(r, "train.epochs", "int", 5, NULL);
  param(r, "train.seed", "int", (double)(i % 1000), NULL);
  param(r, "data.valid_fraction", "float", 0.2, NULL);
  param(r, "data.label", "string", 0, "species");
  param(r, "source.path", "string", 0, "iris@1.0.0");
  param(r, "transform.scale.with_mean", "bool", 1, "true");

  r->metrics = calloc(8 + 5 * 6, sizeof *r->metrics);
  double acc = 0.5 + 0.5 * uniform();
  metric(r, "train.loss", 0, uniform());
  metric(r, "train.accuracy", 0, fmin(1, acc + 0.02));
  metric(r, "train.macro_f1", 0, fmin(1, acc + 0.01));
  metric(r, "valid.loss", 0, uniform());
  metric(r, "valid.accuracy", 0, acc);
  metric(r, "valid.macro_f1", 0, acc - 0.01);
  metric(r, "test.loss", 0, uniform());
  metric(r, "test.accuracy", 0, acc - 0.02);
  static const char *const per_epoch[] = {"train.loss",     "train.accuracy",
                                          "train.macro_f1", "valid.loss",
                                          "valid.accuracy", "valid.macro_f1"};
  for (long e = 1; e <= 5; e++)
    for (int k = 0; k < 6; k++)
      metric(r, per_epoch[k], e, acc * (double)e / 5);

  r->data = calloc(1, sizeof *r->data);
  r->data[0].path = strdup("iris@1.0.0");
  r->data[0].sha256 = strdup(sha);
  r->data[0].bytes = 3870;
  r->n_data = 1;
  r->plugins = calloc(5, sizeof *r->plugins);
  for (int k = 0; k < 5; k++) {
    r->plugins[k].kind = strdup(kinds[k]);
    r->plugins[k].name = strdup(names[k]);
    r->plugins[k].version = strdup("1.0.0");
    r->plugins[k].sha256 = strdup(sha);
  }
  r->n_plugins = 5;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: bench_registry REGISTRY_FILE [N_RUNS]\n");
    return 2;
  }
  long n = argc == 3 ? strtol(argv[2], NULL, 10) : 100000;
  keel_run_registry *reg = NULL;
  keel_error err = {0};
  if (keel_run_registry_open(argv[1], 1, &reg, &err)) {
    fprintf(stderr, "bench_registry: %s\n", err.message);
    return 1;
  }
  enum { BATCH = 1000 };
  static keel_run_registry_record batch[BATCH];
  double t0 = now();
  for (long i = 0; i < n; i += BATCH) {
    size_t m = (size_t)(n - i < BATCH ? n - i : BATCH);
    for (size_t k = 0; k < m; k++)
      make_run(&batch[k], i + (long)k);
    int rc = keel_run_registry_insert(reg, batch, m, NULL, &err);
    for (size_t k = 0; k < m; k++)
      keel_run_registry_record_free(&batch[k]);
    if (rc) {
      fprintf(stderr, "bench_registry: %s\n", err.message);
      keel_run_registry_close(reg);
      return 1;
    }
  }
  double dt = now() - t0;
  printf("inserted %ld runs in %.1f s (%.0f runs/s) into %s\n", n, dt, n / dt,
         argv[1]);
  keel_run_registry_close(reg);
  return 0;
}
