/* The --where and --sort compiler (registry_where.h): a lexer, a
 * recursive-descent parser that emits SQL as it goes, and the one table
 * of attribute names. The SQL text is built only from string constants of
 * this file and ?N placeholders; what the user wrote goes into binds. */
#include "run/registry_where.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/escape.h"
#include "base/status.h"

/* The attributes: the name a user writes, the runs column (text of this
 * file, never of the user) and whether it holds numbers. */
typedef struct attribute {
  const char *name, *column;
  int numeric;
} attribute;

static const attribute attributes[] = {
    {"run_id", "run_id", 0},
    {"name", "name", 0},
    {"template", "template", 0},
    {"template_version", "template_version", 0},
    {"status", "status", 0},
    {"exit_code", "exit_code", 1},
    {"error", "error", 0},
    {"user", "user", 0},
    {"host", "host", 0},
    {"started_at", "started_at", 0},
    {"ended_at", "ended_at", 0},
    {"manifest_sha256", "manifest_sha256", 0},
    {"input_digest", "input_digest", 0},
    {"result_digest", "result_digest", 0},
    {"dataset", "dataset", 0},
    {"dataset_version", "dataset_version", 0},
    {"sweep", "sweep_id", 0},
    {"trial", "sweep_trial", 1},
    {"objective", "sweep_objective", 1},
    {"format", "format", 0},
    {"bundle", "bundle_path", 0},
    {"bundle_sha256", "bundle_sha256", 0},
};

static const attribute *find_attribute(const char *name)
{
  for (size_t i = 0; i < sizeof attributes / sizeof attributes[0]; i++)
    if (strcmp(attributes[i].name, name) == 0)
      return &attributes[i];
  return NULL;
}

int keel_where_is_attribute(const char *key)
{
  return find_attribute(key) != NULL;
}

/* Metric names are train.*, valid.*, test.* (DESIGN.md); such a key may
 * also be a host parameter ([train] epochs), so it is looked up as both. */
static int may_be_metric(const char *key)
{
  return strncmp(key, "train.", 6) == 0 || strncmp(key, "valid.", 6) == 0 ||
         strncmp(key, "test.", 5) == 0;
}

/* ---- lexer -------------------------------------------------------------- */

typedef enum tok_kind {
  T_END,
  T_WORD,   /* a key, a keyword or a bare literal */
  T_NUMBER, /* a bare word that reads whole as a finite number */
  T_STRING, /* '...' or "..." */
  T_OP,     /* = != <> < <= > >= */
  T_LPAREN,
  T_RPAREN,
  T_BAD
} tok_kind;

typedef struct token {
  tok_kind kind;
  size_t pos, len; /* in the source text */
  char *text;      /* malloc'd: a word or number as written, a string
                      unquoted; NULL for the rest */
  double num;
  char op[3];
} token;

typedef struct parser {
  const char *src;
  size_t at; /* where the lexer is */
  token tok; /* the current token */
  keel_where_sql *out;
  keel_buf sql;
  int depth, terms;
  keel_error *err;
  int failed;
} parser;

static int word_char(int c)
{
  return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+' ||
         c == ':' || c == '@' || c == '/';
}

/* A finite number written the usual way (no inf, nan or hex floats). */
static int read_number(const char *s, double *v)
{
  if (!(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' ||
        s[0] == '.'))
    return 0;
  for (const char *p = s; *p; p++)
    if (!(isdigit((unsigned char)*p) || strchr("+-.eE", *p)))
      return 0;
  char *end;
  errno = 0;
  double d = strtod(s, &end);
  if (end == s || *end || !isfinite(d) || (errno == ERANGE && d != 0))
    return 0;
  *v = d;
  return 1;
}

static int fail_at(parser *p, size_t pos, const char *expected)
{
  if (p->failed)
    return -1;
  p->failed = 1;
  keel_buf near = KEEL_BUF_INIT;
  const char *s = p->src + pos;
  size_t n = strlen(s);
  if (n > 24)
    n = 24;
  keel_escape(&near, s, n, 0);
  if (!*s)
    keel_fail(p->err, KEEL_EINVAL, "column %zu: expected %s at the end",
              pos + 1, expected);
  else
    keel_fail(p->err, KEEL_EINVAL, "column %zu: expected %s near '%s'", pos + 1,
              expected, near.data ? (char *)near.data : "");
  keel_buf_free(&near);
  return -1;
}

static int oom(parser *p)
{
  if (!p->failed) {
    p->failed = 1;
    keel_fail(p->err, KEEL_ENOMEM, "out of memory");
  }
  return -1;
}

static int next(parser *p)
{
  token *t = &p->tok;
  free(t->text);
  memset(t, 0, sizeof *t);
  const char *s = p->src;
  while (s[p->at] == ' ' || s[p->at] == '\t' || s[p->at] == '\n' ||
         s[p->at] == '\r')
    p->at++;
  t->pos = p->at;
  char c = s[p->at];
  if (!c) {
    t->kind = T_END;
    return 0;
  }
  if (c == '(' || c == ')') {
    t->kind = c == '(' ? T_LPAREN : T_RPAREN;
    t->len = 1;
    p->at++;
    return 0;
  }
  if (strchr("=!<>", c)) {
    size_t n = 1;
    if ((c == '!' || c == '<' || c == '>') && s[p->at + 1] == '=')
      n = 2;
    else if (c == '<' && s[p->at + 1] == '>')
      n = 2;
    if (c == '!' && n == 1) {
      t->kind = T_BAD;
      return 0;
    }
    t->kind = T_OP;
    memcpy(t->op, s + p->at, n);
    if (strcmp(t->op, "<>") == 0)
      strcpy(t->op, "!=");
    t->len = n;
    p->at += n;
    return 0;
  }
  if (c == '\'' || c == '"') { /* a quote inside is written twice */
    keel_buf b = KEEL_BUF_INIT;
    size_t i = p->at + 1;
    for (;; i++) {
      if (!s[i]) {
        keel_buf_free(&b);
        return fail_at(p, t->pos, "a closing quote for the string starting");
      }
      if (s[i] == c) {
        if (s[i + 1] != c)
          break;
        i++;
      }
      keel_buf_append(&b, s + i, 1);
    }
    keel_buf_append(&b, "", 0);
    t->text = b.data ? keel_buf_take(&b) : strdup("");
    if (!t->text)
      return oom(p);
    t->kind = T_STRING;
    t->len = i + 1 - p->at;
    p->at = i + 1;
    return 0;
  }
  if (!word_char((unsigned char)c)) {
    t->kind = T_BAD;
    return 0;
  }
  size_t n = 0;
  while (word_char((unsigned char)s[p->at + n]))
    n++;
  t->text = strndup(s + p->at, n);
  if (!t->text)
    return oom(p);
  t->len = n;
  p->at += n;
  t->kind = read_number(t->text, &t->num) ? T_NUMBER : T_WORD;
  return 0;
}

static int is_keyword(const token *t, const char *kw)
{
  return t->kind == T_WORD && strcasecmp(t->text, kw) == 0;
}

/* ---- emitting ----------------------------------------------------------- */

/* Adds a bind and returns its number (1-based), or 0 out of memory. */
static size_t bind_text(keel_where_sql *o, const char *text)
{
  keel_where_bind *nb = realloc(o->binds, (o->n_binds + 1) * sizeof *nb);
  if (!nb)
    return 0;
  o->binds = nb;
  nb[o->n_binds] = (keel_where_bind){'t', strdup(text), 0};
  if (!nb[o->n_binds].text)
    return 0;
  return ++o->n_binds;
}

static size_t bind_num(keel_where_sql *o, double v)
{
  keel_where_bind *nb = realloc(o->binds, (o->n_binds + 1) * sizeof *nb);
  if (!nb)
    return 0;
  o->binds = nb;
  nb[o->n_binds] = (keel_where_bind){'n', NULL, v};
  return ++o->n_binds;
}

static int add_key(keel_where_sql *o, const char *key)
{
  for (size_t i = 0; i < o->n_keys; i++)
    if (strcmp(o->keys[i], key) == 0)
      return 0;
  char **nk = realloc(o->keys, (o->n_keys + 1) * sizeof *nk);
  if (!nk)
    return KEEL_ENOMEM;
  o->keys = nk;
  if (!(nk[o->n_keys] = strdup(key)))
    return KEEL_ENOMEM;
  o->n_keys++;
  return 0;
}

/* The SQL operator for one of ours (a fixed string, never the user's). */
static const char *sql_op(const char *op)
{
  static const char *const ops[][2] = {
      {"=", "="}, {"!=", "<>"}, {"<", "<"},      {"<=", "<="},
      {">", ">"}, {">=", ">="}, {"like", "LIKE"}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i][0], op) == 0)
      return ops[i][1];
  return NULL;
}

/* KEY OP LITERAL for a dotted key: a metric (when its name may be one) or
 * a parameter with that key. Correlated EXISTS on the (key, run) primary
 * keys: with the usual newest-first order and a limit, SQLite walks runs
 * by start time and stops at the limit instead of building every match. A
 * number compares with a parameter's number, or with its text when it has none;
 * a string compares with its text. */
static int emit_keyed(parser *p, const char *key, const char *op,
                      const token *lit)
{
  keel_where_sql *o = p->out;
  const char *sop = sql_op(op);
  int like = strcmp(op, "like") == 0;
  size_t k = bind_text(o, key);
  if (!k || add_key(o, key))
    return oom(p);
  keel_buf_printf(&p->sql, "(");
  if (may_be_metric(key) && lit->kind == T_NUMBER) {
    size_t v = bind_num(o, lit->num);
    if (!v)
      return oom(p);
    keel_buf_printf(&p->sql,
                    "EXISTS (SELECT 1 FROM latest_metrics WHERE key = ?%zu "
                    "AND run = r.id AND is_nan = 0 AND value %s ?%zu) OR ",
                    k, sop, v);
  }
  if (lit->kind == T_NUMBER && !like) {
    size_t v = bind_num(o, lit->num), t = bind_text(o, lit->text);
    if (!v || !t)
      return oom(p);
    keel_buf_printf(&p->sql,
                    "EXISTS (SELECT 1 FROM params WHERE key = ?%zu AND run = "
                    "r.id AND (value_num %s ?%zu OR (value_num IS NULL AND "
                    "value_text %s ?%zu))))",
                    k, sop, v, sop, t);
  } else {
    size_t t = bind_text(o, lit->text);
    if (!t)
      return oom(p);
    keel_buf_printf(&p->sql,
                    "EXISTS (SELECT 1 FROM params WHERE key = ?%zu AND run = "
                    "r.id AND value_text %s ?%zu%s))",
                    k, sop, t, like ? " ESCAPE '\\'" : "");
  }
  return 0;
}

static int emit_attribute(parser *p, const attribute *a, const char *op,
                          const token *lit, size_t lit_pos)
{
  keel_where_sql *o = p->out;
  const char *sop = sql_op(op);
  int like = strcmp(op, "like") == 0;
  size_t v;
  if (a->numeric && (like || lit->kind != T_NUMBER))
    return fail_at(p, lit_pos,
                   like ? "a text attribute before like" : "a number");
  if (a->numeric)
    v = bind_num(o, lit->num);
  else
    v = bind_text(o, lit->text); /* a number as written: 1.0 stays 1.0 */
  if (!v)
    return oom(p);
  keel_buf_printf(&p->sql, "(r.%s %s ?%zu%s)", a->column, sop, v,
                  like ? " ESCAPE '\\'" : "");
  return 0;
}

/* ---- parser ------------------------------------------------------------- */

static int parse_or(parser *p);

static int parse_comparison(parser *p)
{
  if (p->tok.kind != T_WORD || is_keyword(&p->tok, "and") ||
      is_keyword(&p->tok, "or") || is_keyword(&p->tok, "like"))
    return fail_at(p, p->tok.pos,
                   "a key (a metric, a parameter or an "
                   "attribute)");
  if (++p->terms > KEEL_WHERE_MAX_TERMS)
    return fail_at(p, p->tok.pos, "at most 64 comparisons");
  size_t key_pos = p->tok.pos;
  char *key = p->tok.text;
  p->tok.text = NULL;
  const attribute *a = find_attribute(key);
  int rc = -1;
  if (!a && !strchr(key, '.')) {
    fail_at(p, key_pos,
            "an attribute (run_id, name, template, status, "
            "user, sweep, started_at, ...) or a SECTION.NAME "
            "or metric key");
    goto out;
  }
  if (next(p))
    goto out;
  char op[5] = "";
  if (p->tok.kind == T_OP)
    strcpy(op, p->tok.op);
  else if (is_keyword(&p->tok, "like"))
    strcpy(op, "like");
  else {
    fail_at(p, p->tok.pos, "an operator (= != < <= > >= like)");
    goto out;
  }
  if (next(p))
    goto out;
  token lit = p->tok;
  size_t lit_pos = p->tok.pos;
  if (strcmp(op, "like") == 0
          ? lit.kind != T_STRING
          : !(lit.kind == T_NUMBER || lit.kind == T_STRING ||
              (lit.kind == T_WORD && !is_keyword(&lit, "and") &&
               !is_keyword(&lit, "or") && !is_keyword(&lit, "not")))) {
    fail_at(p, lit_pos,
            strcmp(op, "like") == 0
                ? "a quoted pattern after like"
                : "a value (a number, a word or a quoted text)");
    goto out;
  }
  rc = a ? emit_attribute(p, a, op, &lit, lit_pos)
         : emit_keyed(p, key, op, &lit);
  if (!rc)
    rc = next(p);
out:
  free(key);
  return rc;
}

static int parse_unary(parser *p)
{
  if (++p->depth > KEEL_WHERE_MAX_DEPTH)
    return fail_at(p, p->tok.pos, "at most 32 nested levels");
  int rc;
  if (is_keyword(&p->tok, "not")) {
    keel_buf_printf(&p->sql, "(NOT ");
    rc = next(p) ? -1 : parse_unary(p);
    keel_buf_printf(&p->sql, ")");
  } else if (p->tok.kind == T_LPAREN) {
    keel_buf_printf(&p->sql, "(");
    rc = next(p) ? -1 : parse_or(p);
    if (!rc && p->tok.kind != T_RPAREN)
      rc = fail_at(p, p->tok.pos, "')' or and/or");
    if (!rc)
      rc = next(p);
    keel_buf_printf(&p->sql, ")");
  } else {
    rc = parse_comparison(p);
  }
  p->depth--;
  return rc;
}

static int parse_and(parser *p)
{
  if (parse_unary(p))
    return -1;
  while (is_keyword(&p->tok, "and")) {
    keel_buf_printf(&p->sql, " AND ");
    if (next(p) || parse_unary(p))
      return -1;
  }
  return 0;
}

static int parse_or(parser *p)
{
  if (parse_and(p))
    return -1;
  while (is_keyword(&p->tok, "or")) {
    keel_buf_printf(&p->sql, " OR ");
    if (next(p) || parse_and(p))
      return -1;
  }
  return 0;
}

static int check_input(const char *text, const char *what, keel_error *err)
{
  size_t n = strlen(text);
  if (n > KEEL_WHERE_MAX_LEN)
    return keel_fail(err, KEEL_EINVAL,
                     "%s is %zu bytes long; expected at most %d", what, n,
                     KEEL_WHERE_MAX_LEN);
  return 0;
}

int keel_where_compile(const char *expr, keel_where_sql *out, keel_error *err)
{
  if (!expr || !expr[strspn(expr, " \t\r\n")])
    return 0;
  int rc = check_input(expr, "the expression", err);
  if (rc)
    return rc;
  parser p = {.src = expr, .out = out, .err = err};
  if (!next(&p) && !parse_or(&p) && p.tok.kind != T_END)
    fail_at(&p, p.tok.pos, "and, or, or the end of the expression");
  if (p.tok.kind == T_BAD && !p.failed)
    fail_at(&p, p.tok.pos, "a key, a value or an operator");
  free(p.tok.text);
  if (!p.failed && p.sql.failed)
    oom(&p);
  if (p.failed) {
    keel_buf_free(&p.sql);
    return err && err->code ? err->code : KEEL_EINVAL;
  }
  out->where = keel_buf_take(&p.sql);
  return out->where ? 0 : keel_fail(err, KEEL_ENOMEM, "out of memory");
}

char *keel_where_value_expr(const char *key, keel_where_sql *out,
                            keel_error *err)
{
  keel_buf b = KEEL_BUF_INIT;
  const attribute *a = find_attribute(key);
  if (a) {
    keel_buf_printf(&b, "r.%s", a->column);
  } else if (strchr(key, '.')) {
    size_t k = bind_text(out, key);
    if (!k) {
      keel_fail(err, KEEL_ENOMEM, "out of memory");
      return NULL;
    }
    /* a metric's value ("nan" when it was not a number), else the
     * parameter's number, else its text */
    keel_buf_printf(&b,
                    "COALESCE((SELECT CASE WHEN is_nan THEN 'nan' ELSE value "
                    "END FROM latest_metrics WHERE key = ?%zu AND run = "
                    "r.id), (SELECT COALESCE(value_num, value_text) FROM "
                    "params WHERE key = ?%zu AND run = r.id))",
                    k, k);
  } else {
    keel_fail(err, KEEL_EINVAL,
              "'%s': expected an attribute (run_id, name, template, status, "
              "user, sweep, started_at, ...) or a SECTION.NAME or metric key",
              key);
    return NULL;
  }
  char *s = keel_buf_take(&b);
  if (!s)
    keel_fail(err, KEEL_ENOMEM, "out of memory");
  return s;
}

int keel_where_compile_sort(const char *sort, keel_where_sql *out,
                            keel_error *err)
{
  if (!sort || !sort[strspn(sort, " \t")]) {
    out->order = strdup("r.started_at DESC, r.run_id DESC");
    return out->order ? 0 : keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  int rc = check_input(sort, "the sort key", err);
  if (rc)
    return rc;
  parser p = {.src = sort, .out = out, .err = err};
  char *key = NULL, *expr = NULL;
  const char *dir = "ASC";
  if (next(&p))
    goto fail;
  if (p.tok.kind != T_WORD) {
    fail_at(&p, p.tok.pos, "a key to sort by");
    goto fail;
  }
  key = p.tok.text;
  p.tok.text = NULL;
  size_t key_pos = p.tok.pos;
  if (next(&p))
    goto fail;
  if (is_keyword(&p.tok, "desc") || is_keyword(&p.tok, "asc")) {
    dir = is_keyword(&p.tok, "desc") ? "DESC" : "ASC";
    if (next(&p))
      goto fail;
  }
  if (p.tok.kind != T_END) {
    fail_at(&p, p.tok.pos, "asc, desc or the end");
    goto fail;
  }
  if (!find_attribute(key) && !strchr(key, '.')) {
    fail_at(&p, key_pos,
            "an attribute (run_id, name, template, status, "
            "user, sweep, started_at, ...) or a SECTION.NAME "
            "or metric key");
    goto fail;
  }
  if (!(expr = keel_where_value_expr(key, out, err))) {
    p.failed = 1;
    goto fail;
  }
  if (!find_attribute(key) && add_key(out, key)) {
    oom(&p);
    goto fail;
  }
  keel_buf_printf(&p.sql, "%s %s NULLS LAST, r.run_id %s", expr, dir, dir);
  free(expr);
  free(key);
  free(p.tok.text);
  out->order = keel_buf_take(&p.sql);
  return out->order ? 0 : keel_fail(err, KEEL_ENOMEM, "out of memory");
fail:
  free(expr);
  free(key);
  free(p.tok.text);
  keel_buf_free(&p.sql);
  return err && err->code ? err->code : KEEL_EINVAL;
}

void keel_where_sql_free(keel_where_sql *s)
{
  free(s->where);
  free(s->order);
  for (size_t i = 0; i < s->n_binds; i++)
    free(s->binds[i].text);
  free(s->binds);
  for (size_t i = 0; i < s->n_keys; i++)
    free(s->keys[i]);
  free(s->keys);
  memset(s, 0, sizeof *s);
}
