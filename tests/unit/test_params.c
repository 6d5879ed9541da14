/* Parameter parsing, defaults, ranges, canonical formatting, "did you mean"
 * and the load-time check of whole declaration tables. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "test_util.h"

static const char *const act_choices[] = {"relu", "tanh", "sigmoid", NULL};

static const keel_param_decl p_bool = KEEL_P_BOOL("shuffle", 1, "shuffle rows");
static const keel_param_decl p_int =
    KEEL_P_INT("epochs", 5, 1, 10, "epochs", "passes over the data");
static const keel_param_decl p_int_wide =
    KEEL_P_INT("seed", 0, -INFINITY, INFINITY, NULL, "any integer");
static const keel_param_decl p_float =
    KEEL_P_FLOAT("lr", 0.1, 0.0, 1.0, KEEL_PARAM_LOG_SCALE, NULL, "step size");
static const keel_param_decl p_float_wide =
    KEEL_P_FLOAT("x", 0.0, -INFINITY, INFINITY, 0, NULL, "any finite number");
static const keel_param_decl p_string = KEEL_P_STRING("path", "", 0, "a path");
static const keel_param_decl p_string_req =
    KEEL_P_STRING("label", NULL, KEEL_PARAM_REQUIRED, "label column");
static const keel_param_decl p_enum =
    KEEL_P_ENUM("activation", "relu", act_choices, "hidden activation");
static const keel_param_decl p_ints =
    KEEL_P_INT_LIST("hidden", "16", 1, 4096, "units", "hidden layer sizes");
static const keel_param_decl p_names =
    KEEL_P_STRING_LIST("columns", "", "columns to use");

/* Parses and expects success. */
static keel_value ok(const keel_param_decl *d, const char *text)
{
  keel_value v;
  keel_error err = {0};
  int rc = keel_param_parse(d, text, &v, &err);
  if (rc != KEEL_OK)
    fprintf(stderr, "\n  unexpected refusal of '%s': %s\n", text, err.message);
  CU_ASSERT_EQUAL(rc, KEEL_OK);
  if (rc != KEEL_OK)
    memset(&v, 0, sizeof v);
  return v;
}

/* Parses and expects the given refusal; the message must name the
 * parameter and contain `needle` (if given). */
static void bad(const keel_param_decl *d, const char *text, int code,
                const char *needle)
{
  keel_value v;
  memset(&v, 0xA5, sizeof v);
  keel_error err = {0};
  int rc = keel_param_parse(d, text, &v, &err);
  if (rc != code)
    fprintf(stderr, "\n  '%s' for %s: rc %d (want %d): %s\n", text, d->name, rc,
            code, err.message);
  CU_ASSERT_EQUAL(rc, code);
  if (rc == KEEL_OK) {
    keel_value_clear(d, &v);
    return;
  }
  CU_ASSERT_EQUAL(err.code, code);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, d->name));
  if (needle && !strstr(err.message, needle)) {
    fprintf(stderr, "\n  message '%s' lacks '%s'\n", err.message, needle);
    CU_FAIL("message lacks the expected words");
  }
}

static void test_bool(void)
{
  const char *yes[] = {"true", "yes", "on", "1"};
  const char *no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(ok(&p_bool, yes[i]).i, 1);
    CU_ASSERT_EQUAL(ok(&p_bool, no[i]).i, 0);
  }
  bad(&p_bool, "", KEEL_EINVAL, "true or false");
  bad(&p_bool, "2", KEEL_EINVAL, NULL);
  bad(&p_bool, "truee", KEEL_EINVAL, NULL);
  bad(&p_bool, " true", KEEL_EINVAL, NULL);
  bad(&p_bool, "true ", KEEL_EINVAL, NULL);
  bad(&p_bool, "-1", KEEL_EINVAL, NULL);
}

static void test_int(void)
{
  CU_ASSERT_EQUAL(ok(&p_int, "3").i, 3);
  CU_ASSERT_EQUAL(ok(&p_int_wide, "-42").i, -42);
  CU_ASSERT_EQUAL(ok(&p_int_wide, "9223372036854775807").i, INT64_MAX);
  CU_ASSERT_EQUAL(ok(&p_int_wide, "-9223372036854775808").i, INT64_MIN);
  bad(&p_int, "1.5", KEEL_EINVAL, "not an integer");
  bad(&p_int, "12abc", KEEL_EINVAL, "12abc");
  bad(&p_int, " 3", KEEL_EINVAL, NULL);
  bad(&p_int, "3 ", KEEL_EINVAL, NULL);
  bad(&p_int, "", KEEL_EINVAL, NULL);
  bad(&p_int, "0x5", KEEL_EINVAL, NULL);
  bad(&p_int, "1e1", KEEL_EINVAL, NULL);
  bad(&p_int, "three", KEEL_EINVAL, NULL);
  bad(&p_int_wide, "9223372036854775808", KEEL_ERANGE, "64 bits");
  bad(&p_int_wide, "-9223372036854775809", KEEL_ERANGE, NULL);
  bad(&p_int_wide, "99999999999999999999999", KEEL_ERANGE, NULL);
}

static void test_int_range_inclusive(void)
{
  CU_ASSERT_EQUAL(ok(&p_int, "1").i, 1);
  CU_ASSERT_EQUAL(ok(&p_int, "10").i, 10);
  bad(&p_int, "0", KEEL_ERANGE, "[1, 10]");
  bad(&p_int, "11", KEEL_ERANGE, "outside");
  bad(&p_int, "-5", KEEL_ERANGE, NULL);
}

static void test_float(void)
{
  CU_ASSERT_EQUAL(ok(&p_float, "0.25").f, 0.25);
  CU_ASSERT_EQUAL(ok(&p_float_wide, "-3").f, -3.0);
  CU_ASSERT_EQUAL(ok(&p_float_wide, "1e300").f, 1e300);
  CU_ASSERT_EQUAL(ok(&p_float_wide, "1.7976931348623157e308").f, DBL_MAX);
  /* Subnormals are valid numbers although glibc sets ERANGE for them. */
  double sub = ok(&p_float_wide, "1e-310").f;
  CU_ASSERT_EQUAL(sub, 1e-310);
  CU_ASSERT(sub > 0 && sub < DBL_MIN);
  CU_ASSERT_EQUAL(ok(&p_float_wide, "4.9406564584124654e-324").f, 5e-324);
  /* Zero written as zero is fine; a nonzero value that underflows to 0 is
   * not silently turned into 0. */
  CU_ASSERT_EQUAL(ok(&p_float_wide, "0e-400").f, 0.0);
  CU_ASSERT_EQUAL(ok(&p_float_wide, "-0.0").f, 0.0);
  bad(&p_float_wide, "1e-400", KEEL_ERANGE, "too small");
  bad(&p_float_wide, "-2e-330", KEEL_ERANGE, NULL);
  bad(&p_float_wide, "1e400", KEEL_ERANGE, "overflow");
  bad(&p_float_wide, "-1e400", KEEL_ERANGE, NULL);
  bad(&p_float_wide, "nan", KEEL_EINVAL, "finite");
  bad(&p_float_wide, "NaN", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "inf", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "-inf", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "Infinity", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "", KEEL_EINVAL, "not a number");
  bad(&p_float_wide, " 1", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "1 ", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "1.5x", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "1,5", KEEL_EINVAL, NULL);
  bad(&p_float_wide, ".", KEEL_EINVAL, NULL);
  bad(&p_float_wide, "e5", KEEL_EINVAL, NULL);
}

static void test_float_range_inclusive(void)
{
  CU_ASSERT_EQUAL(ok(&p_float, "0").f, 0.0);
  CU_ASSERT_EQUAL(ok(&p_float, "1").f, 1.0);
  CU_ASSERT_EQUAL(ok(&p_float, "1.0").f, 1.0);
  bad(&p_float, "1.0000000000000002", KEEL_ERANGE, "outside");
  bad(&p_float, "-1e-300", KEEL_ERANGE, NULL);
  bad(&p_float, "2", KEEL_ERANGE, NULL);
}

static void test_string(void)
{
  keel_value v = ok(&p_string, "data/iris.csv");
  CU_ASSERT_STRING_EQUAL(v.s, "data/iris.csv");
  keel_value_clear(&p_string, &v);
  CU_ASSERT_PTR_NULL(v.s);
  v = ok(&p_string, "");
  CU_ASSERT_PTR_NOT_NULL(v.s);
  if (v.s)
    CU_ASSERT_STRING_EQUAL(v.s, "");
  keel_value_clear(&p_string, &v);
  /* Text is kept as given: spaces and commas are the user's business. */
  v = ok(&p_string, " a, b ");
  CU_ASSERT_STRING_EQUAL(v.s, " a, b ");
  keel_value_clear(&p_string, &v);
  bad(&p_string_req, "", KEEL_EINVAL, "empty");
  bad(&p_string, NULL, KEEL_EINVAL, NULL);
}

static void test_enum(void)
{
  keel_value v = ok(&p_enum, "tanh");
  CU_ASSERT_EQUAL(v.i, 1);
  CU_ASSERT_STRING_EQUAL(v.s, "tanh");
  v = ok(&p_enum, "sigmoid");
  CU_ASSERT_EQUAL(v.i, 2);
  bad(&p_enum, "rleu", KEEL_EINVAL, "did you mean 'relu'");
  bad(&p_enum, "sigmod", KEEL_EINVAL, "did you mean 'sigmoid'");
  /* The message lists the choices. */
  bad(&p_enum, "softplus", KEEL_EINVAL, "relu, tanh, sigmoid");
  bad(&p_enum, "RELU", KEEL_EINVAL, NULL);
  bad(&p_enum, "relu ", KEEL_EINVAL, NULL);
  bad(&p_enum, "", KEEL_EINVAL, NULL);
  /* Nothing close: no guess. */
  keel_value w;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_parse(&p_enum, "xxxxxxxxxxxx", &w, &err),
                  KEEL_EINVAL);
  CU_ASSERT_PTR_NULL(strstr(err.message, "did you mean"));
}

static void test_int_list(void)
{
  keel_value v = ok(&p_ints, "64, 32 ,16");
  CU_ASSERT_EQUAL_FATAL(v.n, 3);
  CU_ASSERT_EQUAL(v.ints[0], 64);
  CU_ASSERT_EQUAL(v.ints[1], 32);
  CU_ASSERT_EQUAL(v.ints[2], 16);
  keel_value_clear(&p_ints, &v);
  CU_ASSERT_EQUAL(v.n, 0);
  CU_ASSERT_PTR_NULL(v.ints);

  v = ok(&p_ints, "");
  CU_ASSERT_EQUAL(v.n, 0);
  keel_value_clear(&p_ints, &v);

  v = ok(&p_ints, "7");
  CU_ASSERT_EQUAL(v.n, 1);
  keel_value_clear(&p_ints, &v);

  /* Repeated sizes are meaningful (two layers of 64 units). */
  v = ok(&p_ints, "64,64");
  CU_ASSERT_EQUAL(v.n, 2);
  keel_value_clear(&p_ints, &v);

  bad(&p_ints, "1,,2", KEEL_EINVAL, "empty item 2");
  bad(&p_ints, "1,", KEEL_EINVAL, "empty item");
  bad(&p_ints, ",1", KEEL_EINVAL, "empty item 1");
  bad(&p_ints, "1, ,2", KEEL_EINVAL, "empty item");
  bad(&p_ints, "1,2.5", KEEL_EINVAL, "2.5");
  bad(&p_ints, "1,x", KEEL_EINVAL, NULL);
  bad(&p_ints, "1 2", KEEL_EINVAL, NULL);
  /* Range applies to each element, inclusively. */
  v = ok(&p_ints, "1,4096");
  keel_value_clear(&p_ints, &v);
  bad(&p_ints, "16,0", KEEL_ERANGE, NULL);
  bad(&p_ints, "4097", KEEL_ERANGE, "4097");
  bad(&p_ints, "1,99999999999999999999", KEEL_ERANGE, NULL);
}

static void test_string_list(void)
{
  keel_value v = ok(&p_names, " a , b,c ");
  CU_ASSERT_EQUAL_FATAL(v.n, 3);
  CU_ASSERT_STRING_EQUAL(v.strings[0], "a");
  CU_ASSERT_STRING_EQUAL(v.strings[1], "b");
  CU_ASSERT_STRING_EQUAL(v.strings[2], "c");
  keel_value_clear(&p_names, &v);
  CU_ASSERT_EQUAL(v.n, 0);

  v = ok(&p_names, "");
  CU_ASSERT_EQUAL(v.n, 0);
  keel_value_clear(&p_names, &v);

  v = ok(&p_names, "sepal length");
  CU_ASSERT_EQUAL_FATAL(v.n, 1);
  CU_ASSERT_STRING_EQUAL(v.strings[0], "sepal length");
  keel_value_clear(&p_names, &v);

  bad(&p_names, "a,,b", KEEL_EINVAL, "empty item");
  bad(&p_names, "a,", KEEL_EINVAL, "empty item");
  bad(&p_names, "a,b,a", KEEL_EINVAL, "'a' twice");
  bad(&p_names, "a, a", KEEL_EINVAL, "twice");
}

static void test_message_prefix(void)
{
  keel_value v;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_parse(&p_int, "x", &v, &err), KEEL_EINVAL);
  /* "int epochs: 'x' is not an integer" */
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "int epochs"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'x'"));
  /* A NULL err is allowed. */
  CU_ASSERT_EQUAL(keel_param_parse(&p_int, "x", &v, NULL), KEEL_EINVAL);
}

static void test_check_range(void)
{
  keel_value v = {0};
  keel_error err = {0};
  v.i = 5;
  CU_ASSERT_EQUAL(keel_param_check_range(&p_int, &v, 5, 5, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_param_check_range(&p_int, &v, 6, 8, &err), KEEL_ERANGE);
  v.f = 0.5;
  CU_ASSERT_EQUAL(keel_param_check_range(&p_float, &v, 0.5, 0.5, &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL(keel_param_check_range(&p_float, &v, 0.0, 0.25, &err),
                  KEEL_ERANGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "0.5"));
  v.f = NAN;
  CU_ASSERT_EQUAL(
      keel_param_check_range(&p_float, &v, -INFINITY, INFINITY, &err),
      KEEL_ERANGE);
  int64_t xs[] = {2, 9};
  keel_value l = {.n = 2, .ints = xs};
  CU_ASSERT_EQUAL(keel_param_check_range(&p_ints, &l, 2, 9, &err), KEEL_OK);
  CU_ASSERT_EQUAL(keel_param_check_range(&p_ints, &l, 3, 9, &err), KEEL_ERANGE);
  CU_ASSERT_EQUAL(keel_param_check_range(&p_ints, &l, 2, 8, &err), KEEL_ERANGE);
}

static void test_default(void)
{
  keel_value v;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_default(&p_int, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.i, 5);
  CU_ASSERT_EQUAL(keel_param_default(&p_float, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.f, 0.1);
  CU_ASSERT_EQUAL(keel_param_default(&p_bool, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.i, 1);
  CU_ASSERT_EQUAL(keel_param_default(&p_enum, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.i, 0);
  CU_ASSERT_STRING_EQUAL(v.s, "relu");
  CU_ASSERT_EQUAL(keel_param_default(&p_ints, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.n, 1);
  CU_ASSERT_EQUAL(v.ints[0], 16);
  keel_value_clear(&p_ints, &v);
  CU_ASSERT_EQUAL(keel_param_default(&p_names, &v, &err), KEEL_OK);
  CU_ASSERT_EQUAL(v.n, 0);
  keel_value_clear(&p_names, &v);
  CU_ASSERT_EQUAL(keel_param_default(&p_string, &v, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(v.s, "");
  keel_value_clear(&p_string, &v);
  /* A NULL def_text of a string means "". */
  static const keel_param_decl s_null = KEEL_P_STRING("opt", NULL, 0, "doc");
  CU_ASSERT_EQUAL(keel_param_default(&s_null, &v, &err), KEEL_OK);
  CU_ASSERT_STRING_EQUAL(v.s, "");
  keel_value_clear(&s_null, &v);
}

static void test_default_refusals(void)
{
  keel_value v;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_default(&p_string_req, &v, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "label"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "required"));

  static const keel_param_decl int_out =
      KEEL_P_INT("steps", 0, 1, 10, NULL, "steps");
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_param_default(&int_out, &v, &err), KEEL_ERANGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "steps"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "default"));

  static const keel_param_decl float_out =
      KEEL_P_FLOAT("lr", 5.0, 0.0, 1.0, 0, NULL, "lr");
  CU_ASSERT_EQUAL(keel_param_default(&float_out, &v, &err), KEEL_ERANGE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "lr"));

  static const keel_param_decl float_nan =
      KEEL_P_FLOAT("lr", NAN, -INFINITY, INFINITY, 0, NULL, "lr");
  CU_ASSERT_NOT_EQUAL(keel_param_default(&float_nan, &v, &err), KEEL_OK);
  static const keel_param_decl float_inf =
      KEEL_P_FLOAT("lr", INFINITY, -INFINITY, INFINITY, 0, NULL, "lr");
  CU_ASSERT_NOT_EQUAL(keel_param_default(&float_inf, &v, &err), KEEL_OK);

  static const keel_param_decl bool_two = KEEL_P_BOOL("flag", 2, "flag");
  CU_ASSERT_EQUAL(keel_param_default(&bool_two, &v, &err), KEEL_EINVAL);

  static const keel_param_decl enum_bad =
      KEEL_P_ENUM("act", "gelu", act_choices, "activation");
  memset(&err, 0, sizeof err);
  CU_ASSERT_EQUAL(keel_param_default(&enum_bad, &v, &err), KEEL_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "gelu"));

  static const keel_param_decl enum_null =
      KEEL_P_ENUM("act", NULL, act_choices, "activation");
  CU_ASSERT_EQUAL(keel_param_default(&enum_null, &v, &err), KEEL_EINVAL);

  static const keel_param_decl list_out =
      KEEL_P_INT_LIST("hidden", "8,0", 1, 100, NULL, "sizes");
  CU_ASSERT_EQUAL(keel_param_default(&list_out, &v, &err), KEEL_ERANGE);
  static const keel_param_decl list_bad =
      KEEL_P_INT_LIST("hidden", "8,,9", 1, 100, NULL, "sizes");
  CU_ASSERT_EQUAL(keel_param_default(&list_bad, &v, &err), KEEL_EINVAL);
  static const keel_param_decl names_dup =
      KEEL_P_STRING_LIST("cols", "a,a", "columns");
  CU_ASSERT_EQUAL(keel_param_default(&names_dup, &v, &err), KEEL_EINVAL);
}

/* format(parse(text)) and the shortest text that reads back exactly. */
static void expect_format(const keel_param_decl *d, const char *text,
                          const char *want)
{
  keel_value v = ok(d, text);
  char *s = keel_param_format(d, &v);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  if (strcmp(s, want) != 0)
    fprintf(stderr, "\n  format of '%s': got '%s', want '%s'\n", text, s, want);
  CU_ASSERT_STRING_EQUAL(s, want);
  free(s);
  keel_value_clear(d, &v);
}

static void test_format_float(void)
{
  expect_format(&p_float_wide, "0.1", "0.1");
  expect_format(&p_float_wide, "3", "3");
  expect_format(&p_float_wide, "3.0", "3");
  expect_format(&p_float_wide, "0.5", "0.5");
  expect_format(&p_float_wide, "-2.25", "-2.25");
  expect_format(&p_float_wide, "1e300", "1e+300");
  /* Shortest, and exact: every value reads back to the same bits. */
  const double vals[] = {1e-7,     0.1,    1.0 / 3.0, 2.0 / 3.0, 0.1 + 0.2,
                         1e-310,   5e-324, DBL_MAX,   DBL_MIN,   -0.0,
                         123456.0, 1e22,   1e23,      0.3,       -1e-5};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    keel_value v = {.f = vals[i]};
    char *s = keel_param_format(&p_float_wide, &v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    double back = strtod(s, NULL);
    CU_ASSERT_EQUAL(memcmp(&back, &vals[i], sizeof back), 0);
    /* No digits wasted: one fewer significant digit would not round-trip. */
    CU_ASSERT(strlen(s) <= 24);
    free(s);
  }
  keel_value v = {.f = 1e-7};
  char *s = keel_param_format(&p_float_wide, &v);
  CU_ASSERT(strcmp(s, "1e-07") == 0 || strcmp(s, "1e-7") == 0);
  free(s);
  v.f = 0.1 + 0.2;
  s = keel_param_format(&p_float_wide, &v);
  CU_ASSERT_STRING_EQUAL(s, "0.30000000000000004");
  free(s);
  v.f = 1.0 / 3.0;
  s = keel_param_format(&p_float_wide, &v);
  CU_ASSERT_STRING_EQUAL(s, "0.3333333333333333");
  free(s);
  /* The formatted text parses again (round trip through the parser). */
  v.f = 1e-310;
  s = keel_param_format(&p_float_wide, &v);
  expect_format(&p_float_wide, s, s);
  free(s);
}

static void test_format_other(void)
{
  expect_format(&p_bool, "yes", "true");
  expect_format(&p_bool, "0", "false");
  expect_format(&p_int_wide, "-9223372036854775808", "-9223372036854775808");
  expect_format(&p_int, "7", "7");
  expect_format(&p_enum, "tanh", "tanh");
  expect_format(&p_string, "a b", "a b");
  expect_format(&p_ints, " 3 , 2,1", "3,2,1");
  expect_format(&p_ints, "", "");
  expect_format(&p_names, "x, y", "x,y");
  expect_format(&p_names, "", "");
  /* Long lists do not overflow the text buffer. */
  static const keel_param_decl wide_list =
      KEEL_P_INT_LIST("xs", "", -INFINITY, INFINITY, NULL, "any integers");
  expect_format(
      &wide_list,
      "-9223372036854775808,-9223372036854775808,9223372036854775807",
      "-9223372036854775808,-9223372036854775808,9223372036854775807");
}

static void test_did_you_mean(void)
{
  const char *const keys[] = {"learning_rate", "momentum", "weight_decay",
                              "lr"};
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("lerning_rate", keys, 4),
                         "learning_rate");
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("momentun", keys, 4), "momentum");
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("weightdecay", keys, 4),
                         "weight_decay");
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("lt", keys, 4), "lr");
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("momentum", keys, 4), "momentum");
  CU_ASSERT_PTR_NULL(keel_did_you_mean("batch_size", keys, 4));
  CU_ASSERT_PTR_NULL(keel_did_you_mean("zzzzzzzz", keys, 4));
  CU_ASSERT_PTR_NULL(keel_did_you_mean("lr", keys, 0));
  /* NULL candidates are skipped. */
  const char *const holes[] = {NULL, "epochs", NULL};
  CU_ASSERT_STRING_EQUAL(keel_did_you_mean("epoch", holes, 3), "epochs");
  /* Very long names do not overflow the distance table. */
  char longname[200];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  const char *const longs[] = {longname};
  (void)keel_did_you_mean(longname, longs, 1);
  (void)keel_did_you_mean("a", longs, 1);
}

static void test_type_names(void)
{
  CU_ASSERT_STRING_EQUAL(keel_param_type_name(KEEL_PARAM_BOOL), "bool");
  CU_ASSERT_STRING_EQUAL(keel_param_type_name(KEEL_PARAM_INT), "int");
  CU_ASSERT_STRING_EQUAL(keel_param_type_name(KEEL_PARAM_FLOAT), "float");
  CU_ASSERT_STRING_EQUAL(keel_param_type_name(KEEL_PARAM_ENUM), "enum");
  CU_ASSERT_PTR_NOT_NULL(keel_param_type_name((keel_param_type)99));
}

/* ---- table checks ---------------------------------------------------- */

static void table_bad(const keel_param_decl *t, size_t n, const char *needle)
{
  keel_error err = {0};
  int rc = keel_param_table_check(t, n, &err);
  CU_ASSERT_EQUAL(rc, KEEL_EPLUGIN);
  if (rc == KEEL_OK)
    return;
  if (needle && !strstr(err.message, needle)) {
    fprintf(stderr, "\n  table message '%s' lacks '%s'\n", err.message, needle);
    CU_FAIL("table message lacks the expected words");
  }
}

static void test_table_ok(void)
{
  const keel_param_decl t[] = {p_bool,       p_int,    p_int_wide,   p_float,
                               p_float_wide, p_string, p_string_req, p_enum,
                               p_ints,       p_names};
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_table_check(t, sizeof t / sizeof t[0], &err),
                  KEEL_OK);
  CU_ASSERT_EQUAL(keel_param_table_check(NULL, 0, &err), KEEL_OK);
  table_bad(NULL, 2, "NULL");
}

static void test_table_names(void)
{
  keel_param_decl t[2] = {p_int, p_float};
  t[1].name = "epochs";
  table_bad(t, 2, "duplicate parameter 'epochs'");
  const char *bad_names[] = {"Lr", "1lr", "learning-rate", "",
                             "_x", "a b", "lr.",           "x\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    keel_param_decl d = p_int;
    d.name = bad_names[i];
    table_bad(&d, 1, "invalid name");
  }
  keel_param_decl d = p_int;
  d.name = NULL;
  table_bad(&d, 1, "(null)");
  char name48[49];
  memset(name48, 'a', 48);
  name48[48] = '\0';
  d.name = name48;
  table_bad(&d, 1, "47");
  name48[47] = '\0';
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_table_check(&d, 1, &err), KEEL_OK);
}

static void test_table_ranges_and_docs(void)
{
  keel_param_decl d = p_int;
  d.min = 10;
  d.max = 1;
  table_bad(&d, 1, "epochs");
  d = p_float;
  d.min = NAN;
  table_bad(&d, 1, "lr");
  d = p_ints;
  d.min = 5;
  d.max = 4;
  table_bad(&d, 1, "hidden");

  d = p_enum;
  d.choices = NULL;
  table_bad(&d, 1, "no choices");
  static const char *const none[] = {NULL};
  d.choices = none;
  table_bad(&d, 1, "activation");

  d = p_int;
  d.doc = NULL;
  table_bad(&d, 1, "doc");
  d.doc = "";
  table_bad(&d, 1, "epochs");

  d = p_int;
  d.type = (keel_param_type)42;
  table_bad(&d, 1, "type");
  d.type = (keel_param_type)0;
  table_bad(&d, 1, "type");
}

static void test_table_defaults(void)
{
  keel_param_decl d = p_int;
  d.def_int = 11;
  table_bad(&d, 1, "epochs");
  d = p_float;
  d.def_float = -0.5;
  table_bad(&d, 1, "default");
  d = p_enum;
  d.def_text = "gelu";
  table_bad(&d, 1, "activation");
  d = p_ints;
  d.def_text = "0";
  table_bad(&d, 1, "hidden");
  d = p_bool;
  d.def_int = -1;
  table_bad(&d, 1, "shuffle");
  /* REQUIRED parameters have no default to check... */
  d = p_int;
  d.flags = KEEL_PARAM_REQUIRED;
  d.def_int = 999;
  keel_error err = {0};
  CU_ASSERT_EQUAL(keel_param_table_check(&d, 1, &err), KEEL_OK);
  /* ...but still a valid range. */
  d.min = 3;
  d.max = 2;
  table_bad(&d, 1, "epochs");
}

/* Clearing leaves an all-zero value for every type (and frees: ASan). */
static void test_value_clear_all_types(void)
{
  const keel_param_decl *ds[] = {&p_bool, &p_int,  &p_float, &p_string,
                                 &p_enum, &p_ints, &p_names};
  const char *texts[] = {"true", "3", "0.5", "s", "relu", "1,2", "a,b"};
  for (size_t i = 0; i < 7; i++) {
    keel_value v = ok(ds[i], texts[i]);
    keel_value_clear(ds[i], &v);
    keel_value zero;
    memset(&zero, 0, sizeof zero);
    CU_ASSERT_EQUAL(memcmp(&v, &zero, sizeof v), 0);
  }
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"bool", test_bool},
      {"int strict", test_int},
      {"int range inclusive", test_int_range_inclusive},
      {"float strict", test_float},
      {"float range inclusive", test_float_range_inclusive},
      {"string", test_string},
      {"enum and did-you-mean", test_enum},
      {"int list", test_int_list},
      {"string list", test_string_list},
      {"message names type and parameter", test_message_prefix},
      {"check_range", test_check_range},
      {"defaults", test_default},
      {"default refusals", test_default_refusals},
      {"format floats shortest exact", test_format_float},
      {"format other types", test_format_other},
      {"did you mean", test_did_you_mean},
      {"type names", test_type_names},
      {"table check accepts a good table", test_table_ok},
      {"table check names", test_table_names},
      {"table check ranges, choices, docs", test_table_ranges_and_docs},
      {"table check defaults", test_table_defaults},
      {"value_clear resets", test_value_clear_all_types},
      {NULL, NULL},
  };
  return keel_test_run_suite("params", tests);
}
