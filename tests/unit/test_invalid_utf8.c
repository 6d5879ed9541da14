/* Issue 11, finding 1 (invalid UTF-8 accepted, then silently lost): the
 * one validator (keel/utf8.h), the Latin-1 transcoder, the checked JSON
 * string constructors (base/json_text.h) and the host's refusal of text a
 * plugin hands it (plugin/table.c). */
#include <stdlib.h>
#include <string.h>

#include "base/json_text.h"
#include "keel/utf8.h"
#include "plugin/table.h"
#include "test_util.h"

/* keel_utf8_check over a string of known length */
static size_t check(const char *s, size_t n)
{
  return keel_utf8_check(s, n);
}

static void test_valid(void)
{
  static const char *const ok[] = {
      "",
      "plain ascii, longer than eight bytes",
      "Z\xc3\xbcrich",
      "\xe2\x82\xac",     /* U+20AC */
      "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
      "\xee\x80\x80",     /* U+E000, just above */
      "\xf0\x90\x80\x80", /* U+10000 */
      "\xf4\x8f\xbf\xbf", /* U+10FFFF */
      "sixteen bytes...\xc3\xa4 then ascii again ...."};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    CU_ASSERT_EQUAL(check(ok[i], strlen(ok[i])), strlen(ok[i]));
}

static void test_invalid(void)
{
  static const struct {
    const char *s;
    size_t at;
  } bad[] = {{"Z\xfcrich", 1},               /* Latin-1 */
             {"\xc0\xaf", 0},                /* overlong '/' */
             {"\xc1\xbf", 0},                /* overlong */
             {"\xe0\x80\xaf", 0},            /* overlong, three bytes */
             {"\xf0\x80\x80\xaf", 0},        /* overlong, four bytes */
             {"ab\xed\xa0\x80", 2},          /* surrogate U+D800 */
             {"\xed\xbf\xbf", 0},            /* surrogate U+DFFF */
             {"\xf4\x90\x80\x80", 0},        /* U+110000 */
             {"\xf5\x80\x80\x80", 0},        /* F5 never starts a sequence */
             {"\xff", 0},                    /* never in UTF-8 */
             {"x\x80", 1},                   /* a lone continuation byte */
             {"ascii ascii ascii \xc3", 18}, /* truncated at the end */
             {"\xe2\x82", 0},                /* truncated three-byte sequence */
             {"\xe2\x82x", 0},               /* cut by an ASCII byte */
             {"12345678\xf0\x9f\x98", 8}}; /* truncated after an ASCII block */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t got = check(bad[i].s, strlen(bad[i].s));
    if (got != bad[i].at)
      fprintf(stderr, "case %zu: got %zu, want %zu\n", i, got, bad[i].at);
    CU_ASSERT_EQUAL(got, bad[i].at);
  }
  /* the length given is the end: a valid sequence cut there is invalid */
  CU_ASSERT_EQUAL(check("\xc3\xbc", 1), 0u);
  CU_ASSERT_EQUAL(keel_utf8_seq_len((const unsigned char *)"\xc3\xbc", 1), -1);
  CU_ASSERT_EQUAL(keel_utf8_seq_len((const unsigned char *)"\xc3\xbc", 2), 2);
}

static void test_latin1(void)
{
  char all[256], out[512 + 1];
  for (int i = 0; i < 256; i++)
    all[i] = (char)(i ? i : 'x');
  size_t n = keel_latin1_to_utf8(all, 256, out);
  CU_ASSERT_EQUAL(n, 128u + 2 * 128u);
  CU_ASSERT_EQUAL(check(out, n), n); /* every byte becomes valid UTF-8 */
  n = keel_latin1_to_utf8("Z\xfcrich Gen\xe8ve \xff", 15, out);
  out[n] = '\0';
  CU_ASSERT_STRING_EQUAL(out, "Z\xc3\xbcrich Gen\xc3\xa8ve \xc3\xbf");
}

static void test_json_text(void)
{
  keel_error err = {0};
  json_t *j = keel_json_text("Z\xc3\xbcrich", &err, "class %d", 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT_STRING_EQUAL(json_string_value(j), "Z\xc3\xbcrich");
  json_decref(j);
  CU_ASSERT_PTR_NULL(keel_json_text("Z\xfcrich", &err, "class %d", 2));
  CU_ASSERT_EQUAL(err.code, KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "class 2 is not valid UTF-8"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "byte 0xfc at byte 2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'Z\\xfcrich'")); /* escaped */

  json_t *arr = json_array();
  CU_ASSERT_EQUAL(keel_json_append_text(arr, "Bern", &err, "class 1"), 0);
  CU_ASSERT_EQUAL(keel_json_append_text(arr, "\xed\xa0\x80", &err, "class 2"),
                  KEEL_EINVAL);
  CU_ASSERT_EQUAL(json_array_size(arr), 1u);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "class 2"));
  json_t *obj = json_object();
  CU_ASSERT_EQUAL(keel_json_set_text(obj, "label", "\xc0\xaf", &err, "label"),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NULL(json_object_get(obj, "label"));
  CU_ASSERT_EQUAL(keel_json_set_text(obj, "label", "city", &err, "label"), 0);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(obj, "label")),
                         "city");
  json_decref(arr);
  json_decref(obj);

  /* a message keeps its text, escaped, where json_string would drop it */
  j = keel_json_message("no such column 'Z\xfcrich'\x1b[2J");
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT_STRING_EQUAL(json_string_value(j),
                         "no such column 'Z\\xfcrich'\\x1b[2J");
  json_decref(j);
}

/* What a plugin hands the host through the table and schema services. */
static void test_host_refuses(void)
{
  keel_error err = {0};
  keel_schema s;
  keel_schema_init(&s);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "b\xe4", KEEL_COL_NUMERIC, 0, &err),
                  KEEL_EDATA);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column name 'b\xe4'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "not valid UTF-8"));
  CU_ASSERT_EQUAL(s.n_cols, 0u);
  CU_ASSERT_EQUAL(keel_schema_add(&s, "b\xc3\xa4", KEEL_COL_NUMERIC, 0, &err),
                  0);
  keel_schema_free(&s);

  keel_table *t = keel_table_new(2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_PTR_NULL(
      keel_table_add(t, "\xff", KEEL_COL_NUMERIC, NULL, 0, &err));
  const char *dict[] = {"Bern", "Z\xfcrich"};
  CU_ASSERT_PTR_NULL(
      keel_table_add(t, "city", KEEL_COL_CATEGORICAL, dict, 2, &err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column 'city', category 2"));
  CU_ASSERT_EQUAL(t->n_cols, 0u);
  CU_ASSERT_PTR_NOT_NULL_FATAL(
      keel_table_add(t, "note", KEEL_COL_TEXT, NULL, 0, &err));
  CU_ASSERT_EQUAL(keel_table_text_set(t, 0, 1, "gr\xfcn", 4, &err), KEEL_EDATA);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column 'note' row 2"));
  CU_ASSERT_PTR_NULL(t->cols[0].text[1]);
  CU_ASSERT_EQUAL(keel_table_text_set(t, 0, 1, "gr\xc3\xbcn", 5, &err), 0);
  keel_table_free(t);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"valid UTF-8 passes", test_valid},
      {"overlong, surrogate, too large, truncated: refused", test_invalid},
      {"Latin-1 transcodes to valid UTF-8", test_latin1},
      {"checked JSON strings refuse, naming what", test_json_text},
      {"the host refuses plugin text that is not UTF-8", test_host_refuses},
      {NULL, NULL}};
  return keel_test_run_suite("invalid_utf8", tests);
}
