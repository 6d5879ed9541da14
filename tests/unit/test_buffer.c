/* The one growable buffer and the one double printer of core/base. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buffer.h"
#include "base/number.h"
#include "test_util.h"

static void test_text_and_bytes(void)
{
  keel_buf b = KEEL_BUF_INIT;
  CU_ASSERT_EQUAL(keel_buf_printf(&b, "%s=%d", "epochs", 20), 0);
  CU_ASSERT_EQUAL(keel_buf_append(&b, "\0x", 2), 0);
  CU_ASSERT_EQUAL(b.len, 11u);
  CU_ASSERT_EQUAL(memcmp(b.data, "epochs=20\0x", 11), 0);
  CU_ASSERT_EQUAL(b.data[b.len], '\0');
  /* grows past its first capacity many times, content intact */
  keel_buf_free(&b);
  for (int i = 0; i < 5000; i++)
    CU_ASSERT_EQUAL(keel_buf_printf(&b, "%04d,", i), 0);
  CU_ASSERT_EQUAL(b.len, 25000u);
  CU_ASSERT_EQUAL(memcmp(b.data + 5 * 4321, "4321,", 5), 0);
  char *s = keel_buf_take(&b);
  CU_ASSERT_PTR_NOT_NULL(s);
  CU_ASSERT_PTR_NULL(b.data);
  CU_ASSERT_EQUAL(strlen(s), 25000u);
  free(s);
  /* an empty buffer still hands out an empty string */
  s = keel_buf_take(&b);
  CU_ASSERT_STRING_EQUAL(s, "");
  free(s);
}

/* advance counts bytes without writing them: what follows lands after
 * them, and the bytes before are kept. */
static void test_advance(void)
{
  keel_buf b = KEEL_BUF_INIT;
  CU_ASSERT_EQUAL(keel_buf_append(&b, "head", 4), 0);
  CU_ASSERT_EQUAL(keel_buf_advance(&b, 100000), 0);
  CU_ASSERT_EQUAL(b.len, 100004u);
  CU_ASSERT(b.cap > b.len);
  CU_ASSERT_EQUAL(keel_buf_append(&b, "tail", 4), 0);
  CU_ASSERT_EQUAL(b.len, 100008u);
  CU_ASSERT_EQUAL(memcmp(b.data, "head", 4), 0);
  CU_ASSERT_EQUAL(memcmp(b.data + 100004, "tail", 5), 0);
  CU_ASSERT_NOT_EQUAL(keel_buf_advance(&b, (size_t)-1), 0);
  CU_ASSERT(b.failed);
  CU_ASSERT_EQUAL(b.len, 100008u);
  keel_buf_free(&b);
}

static void test_failed_stays_failed(void)
{
  keel_buf b = KEEL_BUF_INIT;
  CU_ASSERT_NOT_EQUAL(keel_buf_reserve(&b, (size_t)-1), 0);
  CU_ASSERT(b.failed);
  CU_ASSERT_NOT_EQUAL(keel_buf_printf(&b, "x"), 0);
  CU_ASSERT_PTR_NULL(keel_buf_take(&b));
}

static void test_shortest_double(void)
{
  char t[KEEL_DOUBLE_TEXT];
  const struct {
    double v;
    const char *want;
  } cases[] = {{0.1, "0.1"},
               {1.0, "1"},
               {-2.5e-7, "-2.5e-07"},
               {1e300, "1e+300"},
               {0.30000000000000004, "0.30000000000000004"},
               {0.0, "0"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    keel_format_double(cases[i].v, t, sizeof t);
    CU_ASSERT_STRING_EQUAL(t, cases[i].want);
  }
  const double round_trip[] = {DBL_MIN, DBL_MAX, 4.9e-324, M_PI, -1.0 / 3};
  for (size_t i = 0; i < sizeof round_trip / sizeof round_trip[0]; i++) {
    keel_format_double(round_trip[i], t, sizeof t);
    CU_ASSERT_EQUAL(strtod(t, NULL), round_trip[i]);
  }
  keel_format_double(INFINITY, t, sizeof t);
  CU_ASSERT_STRING_EQUAL(t, "inf");
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"text and bytes", test_text_and_bytes},
      {"advance counts bytes it does not write", test_advance},
      {"a failed buffer stays failed", test_failed_stays_failed},
      {"shortest round-trip doubles", test_shortest_double},
      {NULL, NULL}};
  return keel_test_run_suite("buffer", tests);
}
