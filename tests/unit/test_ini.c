/* The strict INI layer: what it accepts, and every libinih trap it must
 * refuse (over-long lines, bare CR, NUL, long names, unterminated section
 * headers, continuation lines, duplicates). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "config/ini.h"
#include "test_util.h"

static keel_ini *parse_ok(const char *text)
{
  keel_ini *ini = NULL;
  keel_error err = {0};
  int rc = keel_ini_parse_buffer("t.ini", text, strlen(text), &ini, &err);
  if (rc)
    fprintf(stderr, "unexpected: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  return ini;
}

/* Parses bytes that must be refused; checks the code and that the message
 * contains `want`. */
static void parse_bad(const char *text, size_t n, const char *want)
{
  keel_ini *ini = NULL;
  keel_error err = {0};
  int rc = keel_ini_parse_buffer("t.ini", text, n, &ini, &err);
  CU_ASSERT_EQUAL(rc, KEEL_EINVAL);
  CU_ASSERT_PTR_NULL(ini);
  if (!strstr(err.message, want))
    fprintf(stderr, "message '%s' lacks '%s'\n", err.message, want);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want));
  keel_ini_free(ini);
}

static void test_basic(void)
{
  keel_ini *ini = parse_ok("; comment\n"
                           "# another\n"
                           "[a]\n"
                           "x = 1\n"
                           "y=two words ; inline comment\n"
                           "\n"
                           "[b.c]\n"
                           "  ; indented comment is fine\n"
                           "z = a;b\n"
                           "empty =\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ini);
  CU_ASSERT_EQUAL(ini->n_sections, 2);
  const keel_ini_section *a = keel_ini_section_find(ini, "a");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(a->line, 3);
  CU_ASSERT_EQUAL(a->n_entries, 2);
  const keel_ini_entry *y = keel_ini_entry_find(a, "y");
  CU_ASSERT_PTR_NOT_NULL_FATAL(y);
  CU_ASSERT_STRING_EQUAL(y->value, "two words");
  CU_ASSERT_EQUAL(y->line, 5);
  const keel_ini_section *bc = keel_ini_section_find(ini, "b.c");
  CU_ASSERT_PTR_NOT_NULL_FATAL(bc);
  const keel_ini_entry *z = keel_ini_entry_find(bc, "z");
  CU_ASSERT_PTR_NOT_NULL_FATAL(z);
  CU_ASSERT_STRING_EQUAL(z->value, "a;b");
  CU_ASSERT_EQUAL(z->line, 9);
  const keel_ini_entry *e = keel_ini_entry_find(bc, "empty");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_STRING_EQUAL(e->value, "");
  CU_ASSERT_PTR_NULL(keel_ini_entry_find(bc, "x"));
  CU_ASSERT_PTR_NULL(keel_ini_section_find(ini, "nope"));
  keel_ini_free(ini);
}

static void test_crlf_bom_and_empty_section(void)
{
  keel_ini *ini =
      parse_ok("\xEF\xBB\xBF[a]\r\nx = 1\r\n[empty]\r\n[c]\r\ny = 2");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ini);
  CU_ASSERT_EQUAL(ini->n_sections, 3);
  const keel_ini_entry *x = keel_ini_entry_find(&ini->sections[0], "x");
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_STRING_EQUAL(x->value, "1"); /* no stray CR */
  CU_ASSERT_EQUAL(ini->sections[1].n_entries, 0);
  CU_ASSERT_EQUAL(ini->sections[1].line, 3);
  const keel_ini_entry *y = keel_ini_entry_find(&ini->sections[2], "y");
  CU_ASSERT_PTR_NOT_NULL_FATAL(y);
  CU_ASSERT_EQUAL(y->line, 5);
  keel_ini_free(ini);
}

/* libinih would split this line at 199 bytes and parse "evil = 1" as a
 * key of its own. */
static void test_long_line_with_phantom_key(void)
{
  char text[512];
  char pad[256];
  memset(pad, 'x', 220);
  pad[220] = '\0';
  snprintf(text, sizeof text, "[a]\nk = %s evil = 1\n", pad);
  parse_bad(text, strlen(text), "t.ini:2: line too long");
  /* ... and a phantom section likewise. */
  snprintf(text, sizeof text, "[a]\nk = %s[evil]\n", pad);
  parse_bad(text, strlen(text), "t.ini:2: line too long");
}

static void test_line_length_limit(void)
{
  char text[600];
  /* Exactly KEEL_INI_MAX_LINE bytes: accepted, value intact. */
  size_t vlen = KEEL_INI_MAX_LINE - 4; /* "k = " */
  strcpy(text, "[a]\nk = ");
  memset(text + 8, 'v', vlen);
  strcpy(text + 8 + vlen, "\n");
  keel_ini *ini = parse_ok(text);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ini);
  CU_ASSERT_EQUAL(strlen(ini->sections[0].entries[0].value), vlen);
  keel_ini_free(ini);
  /* One more byte: refused. */
  memset(text + 8, 'v', vlen + 1);
  strcpy(text + 8 + vlen + 1, "\n");
  parse_bad(text, strlen(text), "line too long (200 bytes); max 199");
  /* Also when the long line is the last one, without a newline. */
  text[strlen(text) - 1] = '\0';
  parse_bad(text, strlen(text), "t.ini:2: line too long");
  /* CRLF does not count against the limit. */
  strcpy(text, "[a]\nk = ");
  memset(text + 8, 'v', vlen);
  strcpy(text + 8 + vlen, "\r\n");
  ini = parse_ok(text);
  CU_ASSERT_PTR_NOT_NULL(ini);
  keel_ini_free(ini);
}

static void test_bare_cr(void)
{
  const char *t = "[a]\rx = 1\ry = 2\r";
  parse_bad(t, strlen(t), "t.ini:1: carriage return without line feed");
  const char *t2 = "[a]\nx = 1\ry = 2\n";
  parse_bad(t2, strlen(t2), "t.ini:2: carriage return");
}

static void test_nul_and_control(void)
{
  const char t[] = "[a]\nx = 1\0evil = 2\n";
  parse_bad(t, sizeof t - 1, "t.ini:2: NUL byte");
  const char *t2 = "[a]\nx = \x1b[31m\n";
  parse_bad(t2, strlen(t2), "t.ini:2: control byte 0x1b");
}

static void test_section_names(void)
{
  char text[256];
  char name[64];
  memset(name, 's', 48);
  name[48] = '\0';
  snprintf(text, sizeof text, "[%s]\nx = 1\n", name);
  keel_ini *ini = parse_ok(text);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ini);
  CU_ASSERT_EQUAL(strlen(ini->sections[0].name), 48);
  keel_ini_free(ini);
  /* libinih would cut this to 49 bytes: two long names would collide. */
  memset(name, 's', 49);
  name[49] = '\0';
  snprintf(text, sizeof text, "[a]\n[%s]\nx = 1\n", name);
  parse_bad(text, strlen(text), "t.ini:2: section name too long (49 bytes)");
  parse_bad("[a b]\n", 6, "invalid character ' ' in section name");
  parse_bad("[]\n", 3, "t.ini:1: empty section name");
  parse_bad("[a] junk\n", 9, "t.ini:1: [a]: text after ']'");
  ini = parse_ok("[a] ; comment\n");
  CU_ASSERT_PTR_NOT_NULL(ini);
  keel_ini_free(ini);
}

/* libinih reports the line but still hands the following keys to the
 * previous section. */
static void test_unterminated_section(void)
{
  const char *t = "[a]\nx = 1\n[b\ny = 2\n";
  parse_bad(t, strlen(t), "t.ini:3: unterminated section header");
}

static void test_continuation_refused(void)
{
  const char *t = "[a]\nx = 1\n\n  more\n";
  parse_bad(t, strlen(t),
            "t.ini:4: indented line not directly below a `key = value` "
            "line");
  const char *t2 = "[a]\nx = 1\n; note\n\ty 2\n";
  parse_bad(t2, strlen(t2), "t.ini:4: indented line not directly below");
  const char *t3 = "[a]\nx = 1\n [b]\n";
  parse_bad(t3, strlen(t3), "t.ini:3: indented section header");
  const char *t4 = "[a]\n  x = 1\n";
  parse_bad(t4, strlen(t4), "t.ini:2: indented `x = ...` line");
  const char *t5 = "[a]\nx = 1\n\ty= 2\n";
  parse_bad(t5, strlen(t5), "t.ini:3: indented `y = ...` line");
}

/* The libinih multi-line convention (docs/manifest.md): an indented line
 * right below a key continues its value, joined with one space, past the
 * 199-byte line limit; the entry keeps the key's line. */
static void test_continuation_joined(void)
{
  char text[1024];
  size_t n = (size_t)snprintf(text, sizeof text,
                              "[t]\nallow = a >=1 <2,\n  b >=1 <2, ; c\n"
                              "\tc\nempty =\n  x\nnext = 2\n[u]\nk = v\n");
  keel_ini *ini = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(keel_ini_parse_buffer("t.ini", text, n, &ini, &err), 0);
  const keel_ini_section *t = keel_ini_section_find(ini, "t");
  const keel_ini_entry *e = keel_ini_entry_find(t, "allow");
  CU_ASSERT_STRING_EQUAL(e->value, "a >=1 <2, b >=1 <2, c");
  CU_ASSERT_EQUAL(e->line, 2);
  CU_ASSERT_STRING_EQUAL(keel_ini_entry_find(t, "empty")->value, "x");
  CU_ASSERT_STRING_EQUAL(keel_ini_entry_find(t, "next")->value, "2");
  CU_ASSERT_EQUAL(keel_ini_entry_find(t, "next")->line, 7);
  keel_ini_free(ini);
  /* 40 lines of 100 bytes: a value of about 4 KB */
  char *big = malloc(8192);
  size_t m = (size_t)snprintf(big, 8192, "[t]\nv = start\n");
  for (int i = 0; i < 40; i++) {
    big[m++] = ' ';
    memset(big + m, 'a' + i % 26, 99);
    m += 99;
    big[m++] = '\n';
  }
  CU_ASSERT_EQUAL_FATAL(keel_ini_parse_buffer("t.ini", big, m, &ini, &err), 0);
  CU_ASSERT_EQUAL(
      strlen(keel_ini_entry_find(keel_ini_section_find(ini, "t"), "v")->value),
      5 + 40 * 100);
  keel_ini_free(ini);
  free(big);
}

static void test_keys(void)
{
  parse_bad("[a]\nx = 1\nx = 2\n", 16,
            "t.ini:3: [a] x: key set twice (first at line 2)");
  parse_bad("[a]\nx = 1\n[a]\n", 14,
            "t.ini:3: [a]: section appears twice (first at line 1)");
  parse_bad("x = 1\n[a]\n", 10, "t.ini:1: key 'x' before any section");
  parse_bad("[a]\njust words\n", 15, "t.ini:2: expected `key = value`");
  parse_bad("[a]\nx: 1\n", 9, "t.ini:2: expected `key = value`");
  parse_bad("[a]\n = 1\n", 9, "t.ini:2: indented line");
  parse_bad("[a]\n= 1\n", 8, "t.ini:2: missing key");
  parse_bad("[a]\nmy key = 1\n", 14, "key 'my key': invalid character ' '");
  char text[256];
  char key[64];
  memset(key, 'k', 48);
  key[48] = '\0';
  snprintf(text, sizeof text, "[a]\n%s = 1\n", key);
  parse_bad(text, strlen(text), "t.ini:2: key too long (48 bytes)");
}

/* Many sections and many keys in one section (past the point where keys
 * are indexed): lookups and duplicate checks still name the first line. */
static void test_many_sections_and_keys(void)
{
  keel_buf b = KEEL_BUF_INIT;
  for (int i = 0; i < 3000; i++)
    keel_buf_printf(&b, "[s%d]\n", i);
  keel_buf_printf(&b, "[wide]\n");
  for (int i = 0; i < 3000; i++)
    keel_buf_printf(&b, "k%d = %d\n", i, i);
  keel_ini *ini = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL_FATAL(
      keel_ini_parse_buffer("t.ini", (const char *)b.data, b.len, &ini, &err),
      0);
  CU_ASSERT_EQUAL(ini->n_sections, 3001u);
  const keel_ini_section *s = keel_ini_section_find(ini, "s2999");
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(s->line, 3000);
  CU_ASSERT_PTR_NULL(keel_ini_section_find(ini, "s3000"));
  const keel_ini_section *w = keel_ini_section_find(ini, "wide");
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  for (int i = 0; i < 3000; i += 7) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    const keel_ini_entry *e = keel_ini_entry_find(w, k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->line, 3002 + i);
    CU_ASSERT_EQUAL(atoi(e->value), i);
  }
  CU_ASSERT_PTR_NULL(keel_ini_entry_find(w, "k3000"));
  keel_ini_free(ini);
  /* a duplicate key late in a long section, a duplicate section late */
  keel_buf_printf(&b, "k2500 = again\n");
  parse_bad((const char *)b.data, b.len,
            "t.ini:6002: [wide] k2500: key set twice (first at line 5502)");
  b.len -= strlen("k2500 = again\n");
  keel_buf_printf(&b, "[s1234]\n");
  parse_bad((const char *)b.data, b.len,
            "t.ini:6002: [s1234]: section appears twice (first at line "
            "1235)");
  keel_buf_free(&b);
}

static void test_files(void)
{
  keel_ini *ini = NULL;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_ini_parse_file("/nonexistent/x.ini", &ini, &err),
                  KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "/nonexistent/x.ini"));
  CU_ASSERT_EQUAL(keel_ini_parse_file(KEEL_TEST_DATA_DIR, &ini, &err),
                  KEEL_EIO);
  CU_ASSERT_PTR_NULL(ini);
  const char *path = keel_test_tmp_path("f.ini");
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("[s]\nk = v\n", f);
  fclose(f);
  CU_ASSERT_EQUAL(keel_ini_parse_file(path, &ini, &err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ini);
  CU_ASSERT_STRING_EQUAL(ini->text, "[s]\nk = v\n");
  CU_ASSERT_STRING_EQUAL(ini->path, path);
  keel_ini_free(ini);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"basic", test_basic},
      {"crlf_bom_empty_section", test_crlf_bom_and_empty_section},
      {"long_line_phantom_key", test_long_line_with_phantom_key},
      {"line_length_limit", test_line_length_limit},
      {"bare_cr", test_bare_cr},
      {"nul_and_control", test_nul_and_control},
      {"section_names", test_section_names},
      {"unterminated_section", test_unterminated_section},
      {"continuation_refused", test_continuation_refused},
      {"continuation_joined", test_continuation_joined},
      {"keys", test_keys},
      {"many_sections_and_keys", test_many_sections_and_keys},
      {"files", test_files},
      {NULL, NULL}};
  return keel_test_run_suite("ini", tests);
}
