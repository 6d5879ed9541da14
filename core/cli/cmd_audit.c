/* keel audit verify [LOG] [--bundle B]...
 * keel audit show [LOG] [--dataset D] [--user U] [--since T] [--json]
 *
 * The central audit log (data/audit_log.h; LOG defaults to the audit_log
 * setting). verify walks the hash chain and names the first line removed,
 * altered, inserted, reordered or torn (exit 3), and checks each bundle's
 * anchor (audit_chain.json) against the log, which finds a tail cut or
 * rewritten after the bundle was sealed. show answers who read what, when,
 * with which hash. */
#include <ctype.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/status.h"
#include "bundle/bundle.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "config/load.h"
#include "data/audit_log.h"

typedef struct audit_args {
  keel_cli_list bundles;
  const char *dataset;
  const char *user;
  const char *since;
  int json;
} audit_args;

static const keel_cli_option audit_options[] = {
    {"bundle", 0, KEEL_CLI_LIST, "BUNDLE",
     "verify: also check that this bundle's chain head is in the log at its "
     "seq (repeatable)",
     offsetof(audit_args, bundles), 0, 0},
    {"dataset", 0, KEEL_CLI_STRING, "D",
     "show: only lines about dataset D (NAME or NAME@VERSION)",
     offsetof(audit_args, dataset), 0, 0},
    {"user", 0, KEEL_CLI_STRING, "U",
     "show: only lines of user U (a name or a uid)", offsetof(audit_args, user),
     0, 0},
    {"since", 0, KEEL_CLI_STRING, "T",
     "show: only lines at or after T (UTC: YYYY-MM-DD[THH:MM[:SS]])",
     offsetof(audit_args, since), 0, 0},
    {"json", 0, KEEL_CLI_FLAG, NULL,
     "show: print the matching lines as they are", offsetof(audit_args, json),
     0, 0},
};

const keel_cli_command keel_cli_audit = {
    .name = "audit",
    .main = keel_cmd_audit,
    .summary = "the central audit log: verify its hash chain (and the "
               "anchors bundles carry), show who read what, when, with "
               "which hash",
    .operands = "verify|show [LOG]",
    .min_operands = 1,
    .max_operands = 2,
    .missing = "no subcommand given (expected: verify or show)",
    .too_many = "one subcommand and at most one log at a time",
    .options = audit_options,
    .n_options = KEEL_CLI_COUNT(audit_options),
};

/* Reads the log; a missing one is an empty log when allow_missing. */
static int read_log(const char *path, int allow_missing, keel_audit_log *log)
{
  keel_error err = {0};
  int rc = keel_audit_log_read(path, log, &err);
  if (rc == KEEL_ENOTFOUND && allow_missing)
    return KEEL_EXIT_OK;
  if (rc) {
    keel_cli_error("audit", "%s", err.message);
    return rc == KEEL_ENOTFOUND ? KEEL_EXIT_RUNTIME : keel_config_exit_code(rc);
  }
  return KEEL_EXIT_OK;
}

/* One bundle's anchor against the log: 0 or the exit code. */
static int check_bundle(const keel_audit_log *log, const char *path,
                        keel_buf *problems)
{
  keel_bundle *b = NULL;
  keel_bundle_report rep = {0};
  keel_error err = {0};
  int rc = keel_bundle_open(path, NULL, &b, &err);
  if (!rc)
    rc = keel_bundle_check(b, NULL, &rep, &err);
  if (rc) {
    keel_cli_error("audit",
                   "bundle %s does not verify (%s); its anchor "
                   "cannot be trusted: see `keel verify %s`",
                   path, rep.problems ? rep.problems : err.message, path);
    keel_bundle_report_free(&rep);
    keel_bundle_close(b);
    return keel_bundle_exit_code(rc);
  }
  keel_bundle_report_free(&rep);
  int code = KEEL_EXIT_OK;
  if (!keel_bundle_find(b, "audit_chain.json")) {
    printf("bundle %s: no audit_chain.json (sealed before keel anchored the "
           "audit log): nothing to check\n",
           path);
  } else {
    json_t *chain = keel_bundle_json(b, "audit_chain.json", &err);
    size_t n = chain ? keel_audit_log_check_anchor(log, chain, path, problems)
                     : (keel_buf_printf(problems, "%s: audit_chain.json: %s\n",
                                        path, err.message),
                        1);
    if (n)
      code = KEEL_EXIT_INTEGRITY;
    else
      printf("bundle %s: anchored at seq %lld: found in the log\n", path,
             (long long)json_integer_value(json_object_get(chain, "seq")));
    json_decref(chain);
  }
  keel_bundle_close(b);
  return code;
}

static int audit_verify(const audit_args *a, const char *path)
{
  keel_audit_log log;
  int code = read_log(path, a->bundles.n > 0, &log);
  keel_buf problems = KEEL_BUF_INIT;
  if (code)
    goto out;
  size_t breaks = keel_audit_log_verify(&log, &problems);
  if (!breaks)
    printf("audit log %s: %zu lines, chain intact%s%s\n", path, log.n_lines,
           log.n_lines ? ", head " : "",
           log.n_lines ? log.lines[log.n_lines - 1].hash : "");
  for (size_t i = 0; i < a->bundles.n; i++) {
    int c = check_bundle(&log, a->bundles.items[i], &problems);
    if (c && (!code || c == KEEL_EXIT_INTEGRITY))
      code = c;
  }
  if (breaks && !code)
    code = KEEL_EXIT_INTEGRITY;
  if (problems.len) {
    fprintf(stderr, "keel audit: audit log %s does not verify:\n", path);
    fputs((const char *)problems.data, stderr);
  }
out:
  keel_buf_free(&problems);
  keel_audit_log_free(&log);
  return code;
}

/* YYYY-MM-DD, optionally THH:MM or THH:MM:SS, optionally Z. */
static int valid_since(const char *t)
{
  static const char form[] = "dddd-dd-ddTdd:dd:dd";
  size_t n = strlen(t);
  if (n && t[n - 1] == 'Z')
    n--;
  if (n != 10 && n != 16 && n != 19)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (form[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != form[i])
      return 0;
  return 1;
}

static int matches(const json_t *o, const audit_args *a)
{
  if (a->dataset) {
    const char *d = json_string_value(json_object_get(o, "dataset"));
    size_t n = strlen(a->dataset);
    if (!d || (strcmp(d, a->dataset) != 0 &&
               !(strncmp(d, a->dataset, n) == 0 && d[n] == '@')))
      return 0;
  }
  if (a->user) {
    json_t *u = json_object_get(o, "user");
    const char *name = json_string_value(json_object_get(u, "name"));
    char uid[32];
    snprintf(uid, sizeof uid, "%lld",
             (long long)json_integer_value(json_object_get(u, "uid")));
    if (strcmp(uid, a->user) != 0 && (!name || strcmp(name, a->user) != 0))
      return 0;
  }
  if (a->since) {
    const char *t = json_string_value(json_object_get(o, "time"));
    size_t n = strlen(a->since) - (a->since[strlen(a->since) - 1] == 'Z');
    if (!t || strncmp(t, a->since, n) < 0)
      return 0;
  }
  return 1;
}

static const char *str(const json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s && *s ? s : "-";
}

static int audit_show(const audit_args *a, const char *path)
{
  if (a->since && !valid_since(a->since)) {
    keel_cli_error("audit",
                   "--since '%s' is not a UTC time; expected YYYY-MM-DD, "
                   "YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS",
                   a->since);
    return KEEL_EXIT_CONFIG;
  }
  keel_audit_log log;
  int code = read_log(path, 0, &log);
  keel_buf problems = KEEL_BUF_INIT;
  if (!code && keel_audit_log_verify(&log, &problems))
    fprintf(stderr,
            "keel audit: warning: the chain of %s is broken: %s"
            "keel audit:   (`keel audit verify` says more)\n",
            path, (const char *)problems.data);
  FILE *out = a->json ? keel_cli_machine_stdout() : stdout;
  if (!code && !a->json)
    printf("%-24s %-12s %-14s %-24s %-12s %s\n", "TIME", "USER", "ACTION",
           "DATASET", "SHA256", "RUN");
  for (size_t i = 0; !code && i < log.n_lines; i++) {
    const keel_audit_line *l = &log.lines[i];
    if (!l->obj || !matches(l->obj, a))
      continue;
    if (a->json) {
      fwrite(l->text, 1, l->len, out);
      fputc('\n', out);
      continue;
    }
    const json_t *u = json_object_get(l->obj, "user");
    char user[64];
    const char *name = json_string_value(json_object_get(u, "name"));
    if (name)
      snprintf(user, sizeof user, "%s", name);
    else
      snprintf(user, sizeof user, "uid %lld",
               (long long)json_integer_value(json_object_get(u, "uid")));
    printf("%-24s %-12s %-14s %-24s %-12.12s %s\n", str(l->obj, "time"), user,
           str(l->obj, "action"), str(l->obj, "dataset"), str(l->obj, "sha256"),
           str(l->obj, "run_id"));
  }
  keel_buf_free(&problems);
  keel_audit_log_free(&log);
  return code;
}

int keel_cmd_audit(int argc, char **argv)
{
  audit_args a = {0};
  keel_cli_operands ops;
  char *path = NULL;
  int code = keel_cli_parse(&keel_cli_audit, argc, argv, &a, &ops);
  const char *sub = code == KEEL_CLI_GO ? ops.args.items[0] : NULL;
  if (sub && strcmp(sub, "verify") != 0 && strcmp(sub, "show") != 0) {
    keel_cli_error("audit", "unknown subcommand '%s'; expected: verify or show",
                   sub);
    code = KEEL_EXIT_CONFIG;
  }
  if (code == KEEL_CLI_GO && ops.args.n < 2) {
    keel_error err = {0};
    int rc = keel_audit_log_path(&path, &err);
    if (rc) {
      keel_cli_error("audit", "%s", err.message);
      code = keel_config_exit_code(rc);
    }
  }
  if (code == KEEL_CLI_GO) {
    const char *log = ops.args.n >= 2 ? ops.args.items[1] : path;
    code = strcmp(sub, "verify") == 0 ? audit_verify(&a, log)
                                      : audit_show(&a, log);
  }
  free(path);
  keel_cli_free(&keel_cli_audit, &a, &ops);
  return code;
}
