/* The command-line parser and help writer (see options.h). */
#include "cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "base/params.h"
#include "base/status.h"
#include "cli/cli_common.h"

/* Every command takes -h/--help; it is listed in the help like any other
 * option but acted on before the others (see keel_cli_parse). */
static const keel_cli_option help_option = {
    "help", 'h', KEEL_CLI_FLAG, NULL, "print this help and exit", 0, 0, 0};

#define WRAP_COLUMN 79

/* ---- help and usage ------------------------------------------------------ */

/* "[--out DIR]", "[-q|--quiet]", "[--plugin-path DIR]..." */
static void synopsis_token(const keel_cli_option *o, char *buf, size_t size)
{
  char shrt[8] = "";
  if (o->short_name)
    snprintf(shrt, sizeof shrt, "-%c|", o->short_name);
  snprintf(buf, size, "[%s--%s%s%s]%s", shrt, o->name, o->meta ? " " : "",
           o->meta ? o->meta : "", o->kind == KEEL_CLI_LIST ? "..." : "");
}

/* Appends one word to a wrapped line: a new line, indented, when it would
 * pass the wrap column. */
static void put_word(FILE *fp, const char *word, size_t indent, size_t *col)
{
  size_t n = strlen(word);
  if (*col > indent && *col + 1 + n > WRAP_COLUMN) {
    fprintf(fp, "\n%*s", (int)indent, "");
    *col = indent;
  } else {
    fputc(' ', fp);
    (*col)++;
  }
  fputs(word, fp);
  *col += n;
}

static void write_usage(FILE *fp, const keel_cli_command *cmd)
{
  char token[160];
  size_t col = (size_t)fprintf(fp, "usage: keel %s", cmd->name);
  size_t indent = col + 1;
  if (cmd->operands && cmd->operands[0])
    put_word(fp, cmd->operands, indent, &col);
  if (cmd->overrides)
    put_word(fp, "[section.key=value...]", indent, &col);
  for (size_t i = 0; i < cmd->n_options; i++) {
    synopsis_token(&cmd->options[i], token, sizeof token);
    put_word(fp, token, indent, &col);
  }
  fputc('\n', fp);
}

/* "  -q, --quiet", "      --out DIR" */
static void option_left(const keel_cli_option *o, char *buf, size_t size)
{
  char shrt[8] = "    ";
  if (o->short_name)
    snprintf(shrt, sizeof shrt, "-%c, ", o->short_name);
  snprintf(buf, size, "  %s--%s%s%s", shrt, o->name, o->meta ? " " : "",
           o->meta ? o->meta : "");
}

/* Writes text from column col on, word by word, wrapped with `indent`
 * spaces; ends the line. */
static void write_wrapped(FILE *fp, const char *text, size_t col, size_t indent)
{
  char word[256];
  size_t first = 1;
  while (*text) {
    size_t n = strcspn(text, " ");
    snprintf(word, sizeof word, "%.*s", (int)n, text);
    if (first) {
      fputs(word, fp);
      col += strlen(word);
      first = 0;
    } else {
      put_word(fp, word, indent, &col);
    }
    text += n;
    text += strspn(text, " ");
  }
  fputc('\n', fp);
}

/* The help column of one option: its line, then what the table says about
 * the value (range, repeatable), so the text cannot drift from the check. */
static void write_option_line(FILE *fp, const keel_cli_option *o, int width)
{
  char left[160], help[512];
  option_left(o, left, sizeof left);
  if (o->kind == KEEL_CLI_INT)
    snprintf(help, sizeof help, "%s (%s in [%ld, %ld])", o->help, o->meta,
             o->min, o->max);
  else if (o->kind == KEEL_CLI_LIST)
    snprintf(help, sizeof help, "%s (repeatable)", o->help);
  else
    snprintf(help, sizeof help, "%s", o->help);
  fprintf(fp, "%-*s  ", width, left);
  write_wrapped(fp, help, (size_t)width + 2, (size_t)width + 2);
}

static void write_help(FILE *fp, const keel_cli_command *cmd)
{
  char left[160];
  int width = 0;
  write_usage(fp, cmd);
  fputc('\n', fp);
  write_wrapped(fp, cmd->summary, 0, 0);
  fprintf(fp, "\noptions:\n");
  for (size_t i = 0; i <= cmd->n_options; i++) {
    option_left(i < cmd->n_options ? &cmd->options[i] : &help_option, left,
                sizeof left);
    if ((int)strlen(left) > width)
      width = (int)strlen(left);
  }
  for (size_t i = 0; i < cmd->n_options; i++)
    write_option_line(fp, &cmd->options[i], width);
  write_option_line(fp, &help_option, width);
}

void keel_cli_write_doc(FILE *fp, const keel_cli_command *cmd,
                        keel_cli_doc_format format)
{
  switch (format) {
  case KEEL_CLI_DOC_HELP: write_help(fp, cmd); break;
  }
}

/* ---- errors -------------------------------------------------------------- */

static int vusage_error(const keel_cli_command *cmd, const char *fmt,
                        va_list ap)
{
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fprintf(stderr, "keel %s: ", cmd->name);
  keel_escape_fputs(stderr, msg); /* msg quotes argv */
  fputc('\n', stderr);
  write_usage(stderr, cmd);
  fprintf(stderr, "`keel help %s` describes every option\n", cmd->name);
  return KEEL_EXIT_CONFIG;
}

int keel_cli_usage_error(const keel_cli_command *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int code = vusage_error(cmd, fmt, ap);
  va_end(ap);
  return code;
}

/* "unknown option '--thread'; did you mean '--threads'?" */
static int unknown_option(const keel_cli_command *cmd, const char *arg,
                          size_t len)
{
  const char *names[64];
  size_t n = 0;
  for (size_t i = 0; i < cmd->n_options && n < 63; i++)
    names[n++] = cmd->options[i].name;
  names[n++] = help_option.name;
  char typed[256];
  snprintf(typed, sizeof typed, "%.*s", (int)len, arg);
  const char *guess = strncmp(typed, "--", 2) == 0
                          ? keel_did_you_mean(typed + 2, names, n)
                          : NULL;
  if (guess)
    return keel_cli_usage_error(
        cmd, "unknown option '%s'; did you mean '--%s'?", typed, guess);
  return keel_cli_usage_error(cmd, "unknown option '%s'", typed);
}

/* ---- parsing ------------------------------------------------------------- */

static int push(keel_cli_list *list, const char *item)
{
  const char **grown = realloc(list->items, (list->n + 1) * sizeof *grown);
  if (!grown)
    return -1;
  grown[list->n++] = item;
  list->items = grown;
  return 0;
}

/* A whole decimal number, optionally signed, nothing around it. */
static int parse_long(const char *text, long *out)
{
  const char *digits = text + (text[0] == '-' || text[0] == '+');
  char *end = NULL;
  if (!isdigit((unsigned char)digits[0]))
    return -1;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (*end || errno == ERANGE)
    return -1;
  *out = v;
  return 0;
}

/* Stores one value where the table says. Returns KEEL_CLI_GO or an exit
 * code. */
static int store(const keel_cli_command *cmd, const keel_cli_option *o,
                 const char *value, void *opts)
{
  char *field = (char *)opts + o->offset;
  long v;
  switch (o->kind) {
  case KEEL_CLI_FLAG: *(int *)field = 1; return KEEL_CLI_GO;
  case KEEL_CLI_INT:
    if (parse_long(value, &v) || v < o->min || v > o->max)
      return keel_cli_usage_error(cmd,
                                  "--%s wants an integer in [%ld, %ld], "
                                  "not '%s'",
                                  o->name, o->min, o->max, value);
    *(int *)field = (int)v;
    return KEEL_CLI_GO;
  case KEEL_CLI_STRING: *(const char **)field = value; return KEEL_CLI_GO;
  case KEEL_CLI_PATH:
  case KEEL_CLI_LIST:
    if (!value[0])
      return keel_cli_usage_error(cmd, "--%s wants a non-empty %s, not ''",
                                  o->name, o->meta);
    if (o->kind == KEEL_CLI_PATH)
      *(const char **)field = value;
    else if (push((keel_cli_list *)(void *)field, value))
      return KEEL_EXIT_RUNTIME;
    return KEEL_CLI_GO;
  }
  return KEEL_CLI_GO;
}

static const keel_cli_option *find_long(const keel_cli_command *cmd,
                                        const char *name, size_t len)
{
  for (size_t i = 0; i < cmd->n_options; i++)
    if (strlen(cmd->options[i].name) == len &&
        memcmp(cmd->options[i].name, name, len) == 0)
      return &cmd->options[i];
  if (len == 4 && memcmp(name, "help", 4) == 0)
    return &help_option;
  return NULL;
}

static const keel_cli_option *find_short(const keel_cli_command *cmd, char c)
{
  for (size_t i = 0; i < cmd->n_options; i++)
    if (cmd->options[i].short_name == c)
      return &cmd->options[i];
  return c == help_option.short_name ? &help_option : NULL;
}

/* One argument that starts with '-' (not "-" or "--"), with argv[*i + 1]
 * as its value when it needs one and has no "=". */
static int take_option(const keel_cli_command *cmd, int argc, char **argv,
                       int *i, void *opts)
{
  const char *arg = argv[*i];
  const char *eq = NULL;
  const keel_cli_option *o;
  size_t len = strlen(arg);
  if (arg[1] == '-') {
    eq = strchr(arg, '=');
    len = eq ? (size_t)(eq - arg) : len;
    o = find_long(cmd, arg + 2, len - 2);
  } else {
    o = arg[2] ? NULL : find_short(cmd, arg[1]);
  }
  if (!o)
    return unknown_option(cmd, arg, len);
  if (o->kind == KEEL_CLI_FLAG) {
    if (eq)
      return keel_cli_usage_error(cmd, "--%s takes no value, not '%s'", o->name,
                                  eq + 1);
    return store(cmd, o, NULL, opts);
  }
  if (eq)
    return store(cmd, o, eq + 1, opts);
  if (*i + 1 >= argc)
    return keel_cli_usage_error(cmd, "%.*s needs a value: %.*s %s", (int)len,
                                arg, (int)len, arg, o->meta);
  return store(cmd, o, argv[++*i], opts);
}

/* Whether text looks like an override: a '.' before its first '='. */
static int is_override(const char *text)
{
  const char *eq = strchr(text, '=');
  return eq && memchr(text, '.', (size_t)(eq - text)) != NULL;
}

static int check_operands(const keel_cli_command *cmd,
                          const keel_cli_operands *ops)
{
  if (ops->args.n < cmd->min_operands)
    return keel_cli_usage_error(cmd, "%s", cmd->missing);
  if (ops->args.n > cmd->max_operands)
    return keel_cli_usage_error(cmd, "unexpected argument '%s': %s",
                                ops->args.items[cmd->max_operands],
                                cmd->too_many);
  return KEEL_CLI_GO;
}

int keel_cli_parse(const keel_cli_command *cmd, int argc, char **argv,
                   void *opts, keel_cli_operands *ops)
{
  int code = KEEL_CLI_GO, only_operands = 0;
  memset(ops, 0, sizeof *ops);
  /* --help wins over any other mistake on the line, as users expect. */
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      keel_cli_write_doc(stdout, cmd, KEEL_CLI_DOC_HELP);
      return KEEL_EXIT_OK;
    }
  for (int i = 1; i < argc && code == KEEL_CLI_GO; i++) {
    const char *a = argv[i];
    if (only_operands || a[0] != '-' || a[1] == '\0') {
      keel_cli_list *to = cmd->overrides && !only_operands && is_override(a)
                              ? &ops->overrides
                              : &ops->args;
      if (push(to, a))
        code = KEEL_EXIT_RUNTIME;
    } else if (strcmp(a, "--") == 0) {
      only_operands = 1;
    } else {
      code = take_option(cmd, argc, argv, &i, opts);
    }
  }
  if (code == KEEL_EXIT_RUNTIME)
    fprintf(stderr, "keel %s: out of memory\n", cmd->name);
  if (code == KEEL_CLI_GO)
    code = check_operands(cmd, ops);
  return code;
}

void keel_cli_free(const keel_cli_command *cmd, void *opts,
                   keel_cli_operands *ops)
{
  for (size_t i = 0; opts && i < cmd->n_options; i++)
    if (cmd->options[i].kind == KEEL_CLI_LIST) {
      keel_cli_list *l =
          (keel_cli_list *)(void *)((char *)opts + cmd->options[i].offset);
      free(l->items);
      l->items = NULL;
      l->n = 0;
    }
  free(ops->args.items);
  free(ops->overrides.items);
  memset(ops, 0, sizeof *ops);
}
