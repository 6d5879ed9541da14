/* The sqlite source's SQL scanner: sqlite_sql.h. */
#include "sqlite_sql.h"

#include <string.h>

/* One token's kind, as the questions of sqlite_sql.h need it. */
enum { T_END, T_BLANK, T_WORD, T_OPEN, T_CLOSE, T_SEMI, T_OTHER };

static int is_word_byte(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

static int is_space(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Past the quoted run that opens at s[i] with quote q, the quote doubled
 * inside; an unterminated one runs to the end. */
static size_t skip_quoted(const char *s, size_t n, size_t i, char q)
{
  for (i++; i < n; i++)
    if (s[i] == q) {
      if (i + 1 < n && s[i + 1] == q)
        i++;
      else
        return i + 1;
    }
  return n;
}

/* The token at s[*pos]: its kind, start and length; *pos moves past it. */
static int next_token(const char *s, size_t n, size_t *pos, size_t *start,
                      size_t *len)
{
  size_t i = *pos;
  int kind;
  *start = i;
  if (i >= n)
    return T_END;
  unsigned char c = (unsigned char)s[i];
  if (is_space(c)) {
    while (i < n && is_space((unsigned char)s[i]))
      i++;
    kind = T_BLANK;
  } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
    while (i < n && s[i] != '\n')
      i++;
    kind = T_BLANK;
  } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
    const char *e = NULL;
    for (size_t k = i + 2; k + 1 < n; k++)
      if (s[k] == '*' && s[k + 1] == '/') {
        e = s + k + 2;
        break;
      }
    i = e ? (size_t)(e - s) : n;
    kind = T_BLANK;
  } else if (c == '\'' || c == '"' || c == '`') {
    i = skip_quoted(s, n, i, (char)c);
    kind = T_OTHER;
  } else if (c == '[') {
    const char *e = memchr(s + i, ']', n - i);
    i = e ? (size_t)(e - s) + 1 : n;
    kind = T_OTHER;
  } else if (is_word_byte(c)) {
    while (i < n && is_word_byte((unsigned char)s[i]))
      i++;
    kind = T_WORD;
  } else {
    i++;
    kind = c == '(' ? T_OPEN : c == ')' ? T_CLOSE : c == ';' ? T_SEMI : T_OTHER;
  }
  *len = i - *start;
  *pos = i;
  return kind;
}

static int word_is(const char *w, size_t len, const char *kw)
{
  size_t k = strlen(kw);
  if (len != k)
    return 0;
  for (size_t i = 0; i < k; i++) {
    char c = w[i];
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    if (c != kw[i])
      return 0;
  }
  return 1;
}

int sqlsrc_tail_is_blank(const char *sql, size_t n)
{
  size_t pos = 0, start, len;
  for (;;) {
    int k = next_token(sql, n, &pos, &start, &len);
    if (k == T_END)
      return 1;
    if (k != T_BLANK && k != T_SEMI)
      return 0;
  }
}

void sqlsrc_first_word(const char *sql, size_t n, char *buf, size_t cap)
{
  size_t pos = 0, start, len;
  int k;
  buf[0] = '\0';
  while ((k = next_token(sql, n, &pos, &start, &len)) == T_BLANK)
    ;
  if (k != T_WORD || cap == 0)
    return;
  if (len >= cap)
    len = cap - 1;
  for (size_t i = 0; i < len; i++) {
    char c = sql[start + i];
    buf[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
  }
  buf[len] = '\0';
}

int sqlsrc_has_outer_order_by(const char *sql, size_t n)
{
  size_t pos = 0, start, len;
  long depth = 0;
  int after_order = 0; /* the previous depth-0 token was ORDER */
  int ordered = 0;     /* ORDER BY seen since the last SELECT/VALUES */
  for (;;) {
    int k = next_token(sql, n, &pos, &start, &len);
    if (k == T_END)
      return ordered;
    if (k == T_BLANK)
      continue;
    if (k == T_OPEN || k == T_CLOSE) {
      depth += k == T_OPEN ? 1 : -1;
      after_order = 0;
      continue;
    }
    if (depth != 0)
      continue;
    const char *w = sql + start;
    if (k == T_WORD && (word_is(w, len, "SELECT") || word_is(w, len, "VALUES")))
      ordered = 0;
    else if (k == T_WORD && after_order && word_is(w, len, "BY"))
      ordered = 1;
    after_order = k == T_WORD && word_is(w, len, "ORDER");
  }
}
