/* Fitted transform state: typed named arrays and their JSON form, which
 * must read back to the same bits and refuse anything malformed. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/state.h"
#include "test_util.h"

static void test_put_get(void)
{
  keel_error err = {0};
  keel_state *st = keel_state_new();
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  double mean[3] = {1.5, -2.0, 0.25};
  const char *vocab[] = {"a", "b c", ""};
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "mean", mean, 3, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "vocab", vocab, 3, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "empty", NULL, 0, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "none", NULL, 0, &err), KEEL_OK);
  /* The state keeps copies. */
  mean[0] = 99;
  char buf[4] = "a";
  const char *mine[] = {buf};
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "mine", mine, 1, &err), KEEL_OK);
  buf[0] = 'z';

  const double *v = NULL;
  size_t n = 0;
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "mean", &v, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  CU_ASSERT_EQUAL(v[0], 1.5);
  CU_ASSERT_EQUAL(v[2], 0.25);
  const char *const *s = NULL;
  CU_ASSERT_EQUAL(keel_state_get_strings(st, "vocab", &s, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  CU_ASSERT_STRING_EQUAL(s[1], "b c");
  CU_ASSERT_STRING_EQUAL(s[2], "");
  CU_ASSERT_EQUAL(keel_state_get_strings(st, "mine", &s, &n, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(s[0], "a");
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "empty", &v, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(keel_state_get_strings(st, "none", &s, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 0);

  /* Absent keys and the wrong type are "not found" and name the key. */
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "nope", &v, &n, &err), KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "nope"));
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "vocab", &v, &n, &err),
                  KEEL_ENOTFOUND);
  CU_ASSERT_EQUAL(keel_state_get_strings(st, "mean", &s, &n, &err),
                  KEEL_ENOTFOUND);
  keel_state_free(st);
  keel_state_free(NULL);
}

static void test_put_refusals(void)
{
  keel_error err = {0};
  keel_state *st = keel_state_new();
  double x = 1;
  const char *a[] = {"a"};
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "k", &x, 1, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "k", &x, 1, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'k'"));
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "k", a, 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "", &x, 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_state_put_f64(st, NULL, &x, 1, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "", a, 1, &err), KEEL_EINVAL);
  /* A NULL err is allowed and the code still comes back. */
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "k", &x, 1, NULL), KEEL_EINVAL);
  /* The first value is unchanged. */
  const double *v;
  size_t n;
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "k", &v, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(n, 1);
  keel_state_free(st);
}

static void test_many_keys_order(void)
{
  keel_error err = {0};
  keel_state *st = keel_state_new();
  char key[16];
  for (int i = 0; i < 50; i++) {
    snprintf(key, sizeof key, "k%02d", 49 - i);
    double v = i;
    CU_ASSERT_EQUAL_FATAL(keel_state_put_f64(st, key, &v, 1, &err), KEEL_OK);
  }
  char *json = keel_state_to_json(st);
  CU_ASSERT_PTR_NOT_NULL_FATAL(json);
  /* Insertion order, not sorted: k49 before k48 before ... k00. */
  CU_ASSERT(strstr(json, "\"k49\"") < strstr(json, "\"k48\""));
  CU_ASSERT(strstr(json, "\"k01\"") < strstr(json, "\"k00\""));
  free(json);
  keel_state_free(st);
}

static int same_bits(double a, double b)
{
  return memcmp(&a, &b, sizeof a) == 0;
}

static void test_json_round_trip_bits(void)
{
  double tricky[] = {0.1,
                     1.0 / 3.0,
                     2.0 / 3.0,
                     1e-310,
                     5e-324,
                     -0.0,
                     0.0,
                     DBL_MAX,
                     -DBL_MAX,
                     DBL_MIN,
                     DBL_EPSILON,
                     1e22,
                     1e23,
                     123456789012345678.0,
                     0.1 + 0.2,
                     -1.5,
                     3.0,
                     INFINITY,
                     -INFINITY,
                     NAN,
                     9007199254740993.0,
                     4503599627370497.5};
  size_t n = sizeof tricky / sizeof tricky[0];
  const char *words[] = {"plain", "quote\"d",    "back\\slash",  "new\nline",
                         "tab\t", "caf\xc3\xa9", "\xe2\x82\xac", "",
                         "NaN",   "{\"key\":1}"};
  size_t nw = sizeof words / sizeof words[0];
  keel_error err = {0};
  keel_state *st = keel_state_new();
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "tricky", tricky, n, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_strings(st, "words", words, nw, &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL(keel_state_put_f64(st, "nothing", NULL, 0, &err), KEEL_OK);
  char *json = keel_state_to_json(st);
  CU_ASSERT_PTR_NOT_NULL_FATAL(json);

  keel_state *back = NULL;
  int rc = keel_state_from_json(json, "state.json", &back, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "\n  %s\n%s\n", err.message, json);
  CU_ASSERT_EQUAL_FATAL(rc, KEEL_OK);
  const double *v;
  size_t m;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_f64(back, "tricky", &v, &m, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(m, n);
  for (size_t i = 0; i < n; i++) {
    if (!same_bits(v[i], tricky[i]))
      fprintf(stderr, "\n  item %zu: wrote %a, read %a\n", i, tricky[i], v[i]);
    CU_ASSERT(same_bits(v[i], tricky[i]));
  }
  const char *const *s;
  CU_ASSERT_EQUAL_FATAL(keel_state_get_strings(back, "words", &s, &m, &err),
                        KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(m, nw);
  for (size_t i = 0; i < nw; i++)
    CU_ASSERT_STRING_EQUAL(s[i], words[i]);
  CU_ASSERT_EQUAL(keel_state_get_f64(back, "nothing", &v, &m, &err), KEEL_OK);
  CU_ASSERT_EQUAL(m, 0);

  /* The text is canonical: writing the reloaded state gives the same bytes. */
  char *again = keel_state_to_json(back);
  CU_ASSERT_PTR_NOT_NULL_FATAL(again);
  CU_ASSERT_STRING_EQUAL(again, json);
  free(again);
  free(json);
  keel_state_free(back);
  keel_state_free(st);
}

static void test_json_empty_state(void)
{
  keel_error err = {0};
  keel_state *st = keel_state_new();
  char *json = keel_state_to_json(st);
  CU_ASSERT_PTR_NOT_NULL_FATAL(json);
  keel_state *back = NULL;
  CU_ASSERT_EQUAL(keel_state_from_json(json, "empty.json", &back, &err),
                  KEEL_OK);
  CU_ASSERT_PTR_NOT_NULL(back);
  const double *v;
  size_t n;
  CU_ASSERT_EQUAL(keel_state_get_f64(back, "x", &v, &n, &err), KEEL_ENOTFOUND);
  free(json);
  keel_state_free(back);
  keel_state_free(st);
}

/* Hand-written JSON in the documented shape, integers included. */
static void test_json_hand_written(void)
{
  const char *text =
      "{\"keel_state\": 1, \"entries\": ["
      " {\"key\": \"mean\", \"f64\": [1, 2.5, -3e2, \"NaN\", \"-Infinity\"]},"
      " {\"key\": \"names\", \"strings\": [\"x\"]}]}";
  keel_error err = {0};
  keel_state *st = NULL;
  CU_ASSERT_EQUAL_FATAL(keel_state_from_json(text, "hand.json", &st, &err),
                        KEEL_OK);
  const double *v;
  size_t n;
  CU_ASSERT_EQUAL(keel_state_get_f64(st, "mean", &v, &n, &err), KEEL_OK);
  CU_ASSERT_EQUAL_FATAL(n, 5);
  CU_ASSERT_EQUAL(v[0], 1.0);
  CU_ASSERT_EQUAL(v[2], -300.0);
  CU_ASSERT(isnan(v[3]));
  CU_ASSERT(isinf(v[4]) && v[4] < 0);
  keel_state_free(st);
}

/* Expects a refusal whose message contains each needle. */
static void json_bad(const char *text, const char *n1, const char *n2)
{
  keel_error err = {0};
  keel_state *st = (keel_state *)(uintptr_t)1; /* must not be touched */
  int rc = keel_state_from_json(text, "fit/standardize.json", &st, &err);
  if (rc == KEEL_OK) {
    fprintf(stderr, "\n  accepted: %s\n", text);
    CU_FAIL("malformed state accepted");
    keel_state_free(st);
    return;
  }
  CU_ASSERT_EQUAL(rc, KEEL_EDATA);
  CU_ASSERT_EQUAL(err.code, rc);
  CU_ASSERT_PTR_EQUAL(st, (keel_state *)(uintptr_t)1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "fit/standardize.json"));
  if ((n1 && !strstr(err.message, n1)) || (n2 && !strstr(err.message, n2))) {
    fprintf(stderr, "\n  message '%s' lacks '%s' / '%s'\n", err.message,
            n1 ? n1 : "", n2 ? n2 : "");
    CU_FAIL("message lacks the expected words");
  }
}

static void test_json_malformed(void)
{
  /* Syntax error on line 3: the message gives name:line. */
  json_bad("{\"keel_state\": 1,\n \"entries\": [\n  {\"key\": \"a\", \"f64\": "
           "[1,]}\n]}",
           "fit/standardize.json:3:", NULL);
  json_bad("", NULL, NULL);
  json_bad("{", NULL, NULL);
  json_bad("{\"keel_state\": 1, \"entries\": []} trailing", NULL, NULL);
  json_bad("[1, 2]", "not a keel state", NULL);
  json_bad("null", NULL, NULL);
  /* Numbers JSON itself cannot hold. */
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": [NaN]}]}",
      NULL, NULL);
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": [1e999]}]}",
      NULL, NULL);
}

static void test_json_duplicate_keys(void)
{
  /* A duplicate JSON object key. */
  json_bad("{\"keel_state\": 1, \"keel_state\": 1, \"entries\": []}",
           "duplicate", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"key\": \"b\", "
           "\"f64\": []}]}",
           "duplicate", NULL);
  /* Two entries with the same state key. */
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": [1]},"
           " {\"key\": \"a\", \"f64\": [2]}]}",
           "'a'", NULL);
}

static void test_json_wrong_shapes(void)
{
  json_bad("{\"entries\": []}", "not a keel state", NULL);
  json_bad("{\"keel_state\": 2, \"entries\": []}", "not a keel state", NULL);
  json_bad("{\"keel_state\": \"1\", \"entries\": []}", NULL, NULL);
  json_bad("{\"keel_state\": 1}", NULL, NULL);
  json_bad("{\"keel_state\": 1, \"entries\": {}}", NULL, NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [1]}", "entry 1", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"f64\": [1]}]}", "entry 1",
           NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": 7, \"f64\": [1]}]}",
           "entry 1", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\"}]}", "entry 1",
           NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": [1], "
           "\"strings\": [\"x\"]}]}",
           "entry 1", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": 3}]}",
           "entry 1", NULL);
  /* One side an array, the other the wrong type: still not one of them. */
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": 3, "
           "\"strings\": [\"x\"]}]}",
           "entry 1", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": [1], "
           "\"strings\": null}]}",
           "entry 1", NULL);
  /* Items of the wrong type name the key and the item. */
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"mu\", \"f64\": [1, "
           "\"x\"]}]}",
           "'mu'", "item 2");
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"mu\", \"f64\": [null]}]}",
      "'mu'", "item 1");
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"mu\", \"f64\": [[1]]}]}",
      "'mu'", NULL);
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"mu\", \"f64\": [true]}]}",
      "'mu'", NULL);
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"v\", \"strings\": "
           "[\"a\", 1]}]}",
           "'v'", "item 2");
  json_bad("{\"keel_state\": 1, \"entries\": [{\"key\": \"\", \"f64\": [1]}]}",
           NULL, NULL);
  /* The second of two entries is the bad one. */
  json_bad(
      "{\"keel_state\": 1, \"entries\": [{\"key\": \"a\", \"f64\": []}, 5]}",
      "entry 2", NULL);
}

/* Strings JSON cannot carry (invalid UTF-8) are never silently dropped. */
static void test_non_utf8_strings(void)
{
  keel_error err = {0};
  keel_state *st = keel_state_new();
  const char *latin1[] = {"ok", "caf\xe9", "end"};
  int rc = keel_state_put_strings(st, "vocab", latin1, 3, &err);
  if (rc == KEEL_OK) {
    /* Accepted: then the JSON must either carry all three or fail. */
    char *json = keel_state_to_json(st);
    if (json) {
      keel_state *back = NULL;
      CU_ASSERT_EQUAL_FATAL(keel_state_from_json(json, "s.json", &back, &err),
                            KEEL_OK);
      const char *const *s;
      size_t n = 0;
      CU_ASSERT_EQUAL(keel_state_get_strings(back, "vocab", &s, &n, &err),
                      KEEL_OK);
      CU_ASSERT_EQUAL(n, 3);
      keel_state_free(back);
      free(json);
    }
  } else {
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "vocab"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "UTF-8"));
  }
  keel_state_free(st);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"put and get", test_put_get},
      {"put refusals", test_put_refusals},
      {"insertion order", test_many_keys_order},
      {"JSON round trip is bit-exact", test_json_round_trip_bits},
      {"JSON of an empty state", test_json_empty_state},
      {"hand-written JSON", test_json_hand_written},
      {"malformed JSON", test_json_malformed},
      {"duplicate keys", test_json_duplicate_keys},
      {"wrong shapes", test_json_wrong_shapes},
      {"non-UTF-8 strings", test_non_utf8_strings},
      {NULL, NULL},
  };
  return keel_test_run_suite("state", tests);
}
