/* Strict INI reading: libinih does the parsing, our reader refuses what it
 * would silently mangle (see ini.h). */
#include "config/ini.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h> /* libinih: config/ini.h is keel's strict layer over it */

#include "base/status.h"
#include "config/config_error.h"
#include "keel/utf8.h"

typedef struct ini_ctx {
  keel_ini *ini;
  size_t pos;     /* next byte of ini->text to read */
  int line;       /* number of the line last handed to libinih */
  int failed;     /* first error recorded in err */
  int key_open;   /* the previous line was a key line or its continuation */
  int continuing; /* the line handed to libinih continues the last key */
  keel_error *err;
} ini_ctx;

static int ctx_fail(ini_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ctx_fail(ini_ctx *c, int code, const char *fmt, ...)
{
  if (c->failed)
    return code;
  va_list ap;
  va_start(ap, fmt);
  keel_config_vfail(c->err, code, c->ini->path, c->line, fmt, ap);
  va_end(ap);
  c->failed = 1;
  return code;
}

static int is_blank(char ch)
{
  return ch == ' ' || ch == '\t';
}

static int is_name_char(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

/* Length of [s, s+n) without trailing blanks. */
static size_t trim_end(const char *s, size_t n)
{
  while (n > 0 && is_blank(s[n - 1]))
    n--;
  return n;
}

/* Rest of a line after a section header: blank or a comment. */
static int rest_is_comment(const char *s)
{
  while (is_blank(*s))
    s++;
  return *s == '\0' || *s == ';' || *s == '#';
}

/* A section with more keys than this has its keys indexed (keys): a
 * short one is searched in order, which costs less than a table. */
#define INDEX_KEYS_AFTER 8

static int add_section(ini_ctx *c, const char *name, size_t n)
{
  keel_ini *ini = c->ini;
  size_t first;
  if (keel_strmap_get(&ini->names, name, n, &first))
    return ctx_fail(c, KEEL_EINVAL,
                    "[%.*s]: section appears twice (first at line %d); "
                    "expected each section once",
                    (int)n, name, ini->sections[first].line);
  if (ini->n_sections == ini->cap_sections) {
    size_t cap = ini->cap_sections ? 2 * ini->cap_sections : 16;
    keel_ini_section *grown = realloc(ini->sections, cap * sizeof *grown);
    if (!grown)
      return ctx_fail(c, KEEL_ENOMEM, "out of memory");
    ini->sections = grown;
    ini->cap_sections = cap;
  }
  keel_ini_section *s = &ini->sections[ini->n_sections];
  memset(s, 0, sizeof *s);
  s->name = strndup(name, n);
  if (!s->name)
    return ctx_fail(c, KEEL_ENOMEM, "out of memory");
  if (keel_strmap_put(&ini->names, s->name, n, ini->n_sections, NULL) < 0) {
    free(s->name);
    return ctx_fail(c, KEEL_ENOMEM, "out of memory");
  }
  s->line = c->line;
  ini->n_sections++;
  return 0;
}

/* Index of the entry `key` of a section, or -1 (linear while short). */
static long entry_index(const keel_ini_section *s, const char *key)
{
  if (s->keys.cap) {
    size_t i;
    return keel_strmap_get(&s->keys, key, strlen(key), &i) ? (long)i : -1;
  }
  for (size_t i = 0; i < s->n_entries; i++)
    if (strcmp(s->entries[i].key, key) == 0)
      return (long)i;
  return -1;
}

/* Records the section's last entry in its key index, building the index
 * once the section has grown past INDEX_KEYS_AFTER keys. */
static int index_last_entry(keel_ini_section *s)
{
  if (s->n_entries <= INDEX_KEYS_AFTER)
    return 0;
  size_t from = s->keys.cap ? s->n_entries - 1 : 0;
  for (size_t i = from; i < s->n_entries; i++) {
    const char *k = s->entries[i].key;
    if (keel_strmap_put(&s->keys, k, strlen(k), i, NULL) < 0)
      return KEEL_ENOMEM;
  }
  return 0;
}

/* Checks one line (content without its line end, NUL-terminated, already
 * free of control bytes) the way libinih will read it. */
static int check_line(ini_ctx *c, const char *s)
{
  const char *p = s;
  while (is_blank(*p))
    p++;
  int key_open = c->key_open;
  c->key_open = 0;
  c->continuing = 0;
  if (*p == '\0' || *p == ';' || *p == '#')
    return 0; /* blank or comment: libinih ignores these */
  if (p != s) {
    /* libinih's multi-line rule (as Python's configparser): an indented
     * line continues the previous key's value. We accept it only right
     * below that key or another continuation, and never when it looks
     * like a section header, where the user meant something else. */
    if (*p == '[')
      return ctx_fail(c, KEEL_EINVAL,
                      "indented section header; expected `[section]` at "
                      "the start of the line");
    const char *k = p;
    while (is_name_char(*k))
      k++;
    const char *eq = k;
    while (is_blank(*eq))
      eq++;
    if (k != p && *eq == '=')
      return ctx_fail(c, KEEL_EINVAL,
                      "indented `%.*s = ...` line; expected a key at the "
                      "start of the line (an indented line continues the "
                      "value of the key above it, and a key name followed "
                      "by '=' there is almost surely a misplaced key)",
                      (int)(k - p), p);
    if (!key_open)
      return ctx_fail(c, KEEL_EINVAL,
                      "indented line not directly below a `key = value` "
                      "line; expected `key = value` or `[section]` at the "
                      "start of the line (an indented line continues the "
                      "value of the key on the line above it)");
    c->key_open = 1;
    c->continuing = 1;
    return 0;
  }
  if (*p == '[') {
    const char *name = p + 1;
    const char *close = strchr(name, ']');
    if (!close)
      return ctx_fail(c, KEEL_EINVAL,
                      "unterminated section header; expected `[name]`");
    size_t n = (size_t)(close - name);
    if (n == 0)
      return ctx_fail(c, KEEL_EINVAL, "empty section name; expected `[name]`");
    /* '@' and '+' for the catalog's NAME@VERSION sections (semver build
     * metadata included); each reader refuses the section names it does
     * not know. */
    for (size_t i = 0; i < n; i++)
      if (!is_name_char(name[i]) && name[i] != '@' && name[i] != '+')
        return ctx_fail(c, KEEL_EINVAL,
                        "[%.*s]: invalid character '%c' in section name; "
                        "expected letters, digits, '_', '-', '.', '@' and "
                        "'+'",
                        (int)n, name, name[i]);
    if (n > KEEL_INI_MAX_SECTION)
      return ctx_fail(c, KEEL_EINVAL,
                      "section name too long (%zu bytes); expected at most "
                      "%d",
                      n, KEEL_INI_MAX_SECTION);
    if (!rest_is_comment(close + 1))
      return ctx_fail(c, KEEL_EINVAL,
                      "[%.*s]: text after ']'; expected nothing or a "
                      "comment",
                      (int)n, name);
    return add_section(c, name, n);
  }
  /* A key line. libinih splits at the first '=' or ':' unless an inline
   * comment (" ;") comes first; we accept only '='. */
  const char *q = p;
  while (*q && *q != '=' && *q != ':' && !(*q == ';' && is_blank(q[-1])))
    q++;
  if (*q != '=')
    return ctx_fail(c, KEEL_EINVAL,
                    "expected `key = value`, `[section]` or a comment");
  size_t n = trim_end(p, (size_t)(q - p));
  if (n == 0)
    return ctx_fail(c, KEEL_EINVAL, "missing key before '='");
  for (size_t i = 0; i < n; i++)
    if (!is_name_char(p[i]))
      return ctx_fail(c, KEEL_EINVAL,
                      "key '%.*s': invalid character '%c'; expected "
                      "letters, digits, '_', '-' and '.'",
                      (int)n, p, p[i]);
  if (n > KEEL_INI_MAX_KEY)
    return ctx_fail(c, KEEL_EINVAL,
                    "key too long (%zu bytes); expected at most %d", n,
                    KEEL_INI_MAX_KEY);
  if (c->ini->n_sections == 0)
    return ctx_fail(c, KEEL_EINVAL,
                    "key '%.*s' before any section; expected a `[section]` "
                    "header first",
                    (int)n, p);
  c->key_open = 1;
  return 0;
}

/* Appends a continuation line's text to the section's last entry, which
 * libinih names again: joined with one space (a value that was empty
 * takes the text as it is), so a long list or URL may span lines. */
static int continue_entry(ini_ctx *c, keel_ini_section *s, const char *name,
                          const char *value)
{
  keel_ini_entry *e = s->n_entries ? &s->entries[s->n_entries - 1] : NULL;
  if (!e || strcmp(e->key, name) != 0)
    return ctx_fail(c, KEEL_EINVAL,
                    "continuation of '%s', which is not the key above it",
                    name);
  /* libinih 55 leaves an inline comment on a continuation line: cut it
   * here as it does on a key line (" ;" starts one). */
  size_t add = 0;
  while (value[add] &&
         !(value[add] == ';' && add > 0 && is_blank(value[add - 1])))
    add++;
  add = trim_end(value, add);
  size_t old = strlen(e->value);
  char *joined = realloc(e->value, old + 1 + add + 1);
  if (!joined)
    return ctx_fail(c, KEEL_ENOMEM, "out of memory");
  if (old)
    joined[old++] = ' ';
  memcpy(joined + old, value, add);
  joined[old + add] = '\0';
  e->value = joined;
  return 0;
}

/* fgets-like reader for ini_parse_stream. Returns one line without its
 * line end, or NULL at the end or after the first error. */
static char *read_line(char *str, int num, void *stream)
{
  ini_ctx *c = stream;
  keel_ini *ini = c->ini;
  if (c->failed || c->pos >= ini->size || num < 2)
    return NULL;
  c->line++;
  size_t start = c->pos;
  size_t end = start;
  size_t next;
  for (;;) {
    if (end >= ini->size) {
      next = end;
      break;
    }
    unsigned char ch = (unsigned char)ini->text[end];
    if (ch == '\n') {
      next = end + 1;
      break;
    }
    if (ch == '\r') {
      if (end + 1 < ini->size && ini->text[end + 1] == '\n') {
        next = end + 2;
        break;
      }
      ctx_fail(c, KEEL_EINVAL,
               "carriage return without line feed (bare CR line end); "
               "expected LF or CRLF line ends");
      return NULL;
    }
    if (ch == '\0') {
      ctx_fail(c, KEEL_EINVAL, "NUL byte in line; expected text");
      return NULL;
    }
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
      ctx_fail(c, KEEL_EINVAL, "control byte 0x%02x in line; expected text",
               ch);
      return NULL;
    }
    end++;
  }
  if (c->line == 1 && end - start >= 3 &&
      memcmp(ini->text + start, "\xEF\xBB\xBF", 3) == 0)
    start += 3; /* UTF-8 BOM: dropped here so libinih never sees it */
  size_t len = end - start;
  size_t max = KEEL_INI_MAX_LINE;
  if ((size_t)num - 1 < max)
    max = (size_t)num - 1;
  if (len > max) {
    ctx_fail(c, KEEL_EINVAL, "line too long (%zu bytes); max %zu bytes", len,
             max);
    return NULL;
  }
  /* One policy for text (docs/manifest.md): a manifest or template is
   * UTF-8, so every value, key and comment is; Latin-1 and other bytes
   * are refused here, before a value reaches a JSON record. */
  size_t bad = keel_utf8_check(ini->text + start, len);
  if (bad < len) {
    ctx_fail(c, KEEL_EINVAL,
             "not valid UTF-8 (byte 0x%02x at column %zu): '%.*s'; "
             "expected UTF-8 text (save the file as UTF-8)",
             (unsigned char)ini->text[start + bad], bad + 1, (int)len,
             ini->text + start);
    return NULL;
  }
  memcpy(str, ini->text + start, len);
  str[len] = '\0';
  c->pos = next;
  if (check_line(c, str) != 0)
    return NULL;
  return str;
}

static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
  ini_ctx *c = user;
  keel_ini *ini = c->ini;
  if (c->failed)
    return 0;
  if (ini->n_sections == 0 ||
      strcmp(ini->sections[ini->n_sections - 1].name, section) != 0) {
    /* The reader tracks sections itself; a mismatch means libinih read
     * the line differently from us. Refuse rather than guess. */
    ctx_fail(c, KEEL_EINVAL, "key '%s' in unexpected section '%s'", name,
             section);
    return 0;
  }
  keel_ini_section *s = &ini->sections[ini->n_sections - 1];
  if (c->continuing) {
    c->continuing = 0;
    return continue_entry(c, s, name, value) == 0;
  }
  long first = entry_index(s, name);
  if (first >= 0) {
    ctx_fail(c, KEEL_EINVAL,
             "[%s] %s: key set twice (first at line %d); expected each "
             "key once per section",
             s->name, name, s->entries[first].line);
    return 0;
  }
  if (s->n_entries == s->cap_entries) {
    size_t cap = s->cap_entries ? 2 * s->cap_entries : 4;
    keel_ini_entry *grown = realloc(s->entries, cap * sizeof *grown);
    if (!grown) {
      ctx_fail(c, KEEL_ENOMEM, "out of memory");
      return 0;
    }
    s->entries = grown;
    s->cap_entries = cap;
  }
  keel_ini_entry *e = &s->entries[s->n_entries];
  e->key = strdup(name);
  e->value = strdup(value);
  e->line = c->line;
  if (!e->key || !e->value) {
    free(e->key);
    free(e->value);
    ctx_fail(c, KEEL_ENOMEM, "out of memory");
    return 0;
  }
  s->n_entries++;
  if (index_last_entry(s)) {
    ctx_fail(c, KEEL_ENOMEM, "out of memory");
    return 0;
  }
  return 1;
}

int keel_ini_parse_buffer(const char *name, const char *text, size_t size,
                          keel_ini **out, keel_error *err)
{
  *out = NULL;
  if (size > KEEL_INI_MAX_FILE)
    return keel_fail(err, KEEL_EINVAL,
                     "%s: file too large (%zu bytes); expected at most %u",
                     name, size, KEEL_INI_MAX_FILE);
  keel_ini *ini = calloc(1, sizeof *ini);
  if (!ini)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  ini->path = strdup(name);
  ini->text = malloc(size + 1);
  if (!ini->path || !ini->text) {
    keel_ini_free(ini);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  memcpy(ini->text, text, size);
  ini->text[size] = '\0';
  ini->size = size;

  ini_ctx c = {.ini = ini, .err = err};
  int rc = ini_parse_stream(read_line, &c, on_key, &c);
  if (c.failed) {
    int code = err ? err->code : KEEL_EINVAL;
    keel_ini_free(ini);
    return code;
  }
  if (rc != 0) {
    /* libinih refused a line our reader let through. */
    keel_ini_free(ini);
    if (rc == -2)
      return keel_fail(err, KEEL_ENOMEM, "out of memory");
    return keel_config_fail(err, KEEL_EINVAL, name, rc,
                            "syntax error; expected `key = value`, "
                            "`[section]` or a comment");
  }
  *out = ini;
  return 0;
}

int keel_ini_parse_file(const char *path, keel_ini **out, keel_error *err)
{
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return keel_fail(err, errno == ENOENT ? KEEL_ENOTFOUND : KEEL_EIO,
                     "%s: cannot open: %s", path, strerror(errno));
  char *buf = malloc(KEEL_INI_MAX_FILE + 1);
  if (!buf) {
    fclose(f);
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  }
  size_t n = fread(buf, 1, KEEL_INI_MAX_FILE + 1, f);
  int bad = ferror(f);
  fclose(f);
  int rc;
  if (bad)
    rc = keel_fail(err, KEEL_EIO, "%s: cannot read (is it a folder?)", path);
  else
    rc = keel_ini_parse_buffer(path, buf, n, out, err);
  free(buf);
  return rc;
}

void keel_ini_free(keel_ini *ini)
{
  if (!ini)
    return;
  for (size_t i = 0; i < ini->n_sections; i++) {
    keel_ini_section *s = &ini->sections[i];
    for (size_t j = 0; j < s->n_entries; j++) {
      free(s->entries[j].key);
      free(s->entries[j].value);
    }
    free(s->entries);
    free(s->name);
    keel_strmap_free(&s->keys);
  }
  keel_strmap_free(&ini->names);
  free(ini->sections);
  free(ini->text);
  free(ini->path);
  free(ini);
}

const keel_ini_section *keel_ini_section_find(const keel_ini *ini,
                                              const char *name)
{
  size_t i;
  if (ini && keel_strmap_get(&ini->names, name, strlen(name), &i))
    return &ini->sections[i];
  return NULL;
}

const keel_ini_entry *keel_ini_entry_find(const keel_ini_section *sec,
                                          const char *key)
{
  long i = sec ? entry_index(sec, key) : -1;
  return i >= 0 ? &sec->entries[i] : NULL;
}
