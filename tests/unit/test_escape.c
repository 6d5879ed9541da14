/* The one escaping rule for text shown to a person (base/escape.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "test_util.h"

/* The escaped form of text[0..n) with flags, as a fresh string. */
static char *esc(const char *text, size_t n, unsigned flags, size_t *used)
{
  keel_buf b = KEEL_BUF_INIT;
  size_t u = keel_escape(&b, text, n, flags);
  if (used)
    *used = u;
  keel_buf_append(&b, "", 0);
  return keel_buf_take(&b);
}

static void expect(const char *text, unsigned flags, const char *want)
{
  char *got = esc(text, strlen(text), flags, NULL);
  CU_ASSERT_STRING_EQUAL(got, want);
  free(got);
}

static void test_controls_and_del(void)
{
  expect("plain text, tab\there", 0, "plain text, tab\there");
  expect("\x1b]0;pwned\x07x", 0, "\\x1b]0;pwned\\x07x");
  expect("a\x1b[2Jb\r\x7f", 0, "a\\x1b[2Jb\\x0d\\x7f");
  expect("two\nlines", 0, "two\\x0alines");
  expect("two\nlines", KEEL_ESCAPE_KEEP_NEWLINE, "two\nlines");
  /* a NUL inside the given length is shown too */
  char *got = esc("a\0b", 3, 0, NULL);
  CU_ASSERT_STRING_EQUAL(got, "a\\x00b");
  free(got);
}

static void test_utf8(void)
{
  /* valid multi-byte UTF-8 passes: 2, 3 and 4 bytes */
  expect("Z\xc3\xbcrich \xe2\x86\x92 \xf0\x9f\x98\x80", 0,
         "Z\xc3\xbcrich \xe2\x86\x92 \xf0\x9f\x98\x80");
  /* Latin-1, a lone continuation byte, bytes never valid */
  expect("Z\xfcrich", 0, "Z\\xfcrich");
  expect("\x80x\xff\xfe", 0, "\\x80x\\xff\\xfe");
  /* overlong forms, surrogates, above U+10FFFF */
  expect("\xc0\xaf", 0, "\\xc0\\xaf");
  expect("\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf");
  expect("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");
  expect("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80");
  /* a cut sequence followed by ASCII: only the bad byte is escaped */
  expect("\xc3z", 0, "\\xc3z");
}

static void test_partial(void)
{
  size_t used;
  /* an incomplete sequence at the end is left for the next call... */
  char *got = esc("ab\xe2\x86", 4, KEEL_ESCAPE_PARTIAL, &used);
  CU_ASSERT_EQUAL(used, 2u);
  CU_ASSERT_STRING_EQUAL(got, "ab");
  free(got);
  /* ...an invalid one is not, and without the flag the end is escaped */
  got = esc("ab\xe2x", 4, KEEL_ESCAPE_PARTIAL, &used);
  CU_ASSERT_EQUAL(used, 4u);
  CU_ASSERT_STRING_EQUAL(got, "ab\\xe2x");
  free(got);
  got = esc("ab\xe2\x86", 4, 0, &used);
  CU_ASSERT_EQUAL(used, 4u);
  CU_ASSERT_STRING_EQUAL(got, "ab\\xe2\\x86");
  free(got);
}

static void test_fputs(void)
{
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  CU_ASSERT_EQUAL(keel_escape_fputs(fp, "col\x1b[2J\n\xff"), 0);
  fclose(fp);
  CU_ASSERT_STRING_EQUAL(text, "col\\x1b[2J\\x0a\\xff");
  free(text);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"control bytes and DEL as \\xNN", test_controls_and_del},
      {"valid UTF-8 passes, invalid bytes escaped", test_utf8},
      {"a sequence cut at the end waits", test_partial},
      {"escaped to a stream", test_fputs},
      {NULL, NULL}};
  return keel_test_run_suite("escape", tests);
}
