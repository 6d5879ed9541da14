/* libFuzzer target for the `keel runs` query languages
 * (core/run/registry_where.c): the input is an expression for --where and,
 * after the first NUL byte (if any), a text for --sort. Beyond memory
 * errors and leaks (ASan/UBSan), it checks what registry_where.h promises:
 * an accepted expression compiles to SQL that holds no byte sequence the
 * user wrote (every key and literal is a bound parameter; the SQL text
 * comes from the compiler alone), binds are numbered ?1..?N in the text
 * and each is a text or a number; a refusal is KEEL_EINVAL with a message
 * that says the column ("column N: ..."). Build and run:
 * tests/fuzz/run_fuzz.sh where. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "run/registry_where.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The compiled text holds no statement separator or double quote, and
 * its only quoted strings are the compiler's own ('\\' for LIKE's
 * ESCAPE, 'nan' for a NaN metric): literals are never pasted in. */
static void check_text(const char *t)
{
  for (; t && *t; t++) {
    CHECK(*t != ';' && *t != '"');
    if (*t != '\'')
      continue;
    const char *end = strchr(t + 1, '\'');
    CHECK(end != NULL);
    size_t n = (size_t)(end - t - 1);
    CHECK((n == 1 && t[1] == '\\') ||
          (n == 3 && strncmp(t + 1, "nan", 3) == 0));
    t = end;
  }
}

/* Each bind a text or a number, referred to as ?N in the text. */
static void check_sql(const keel_where_sql *s)
{
  for (size_t i = 0; i < s->n_binds; i++) {
    const keel_where_bind *b = &s->binds[i];
    CHECK(b->kind == 't' || b->kind == 'n');
    if (b->kind == 't')
      CHECK(b->text != NULL);
    char mark[24];
    snprintf(mark, sizeof mark, "?%zu", i + 1);
    CHECK((s->where && strstr(s->where, mark)) ||
          (s->order && strstr(s->order, mark)));
  }
  check_text(s->where);
  check_text(s->order);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 2);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  text[size + 1] = '\0';
  const char *sort = text + strlen(text) + 1; /* after the first NUL */
  if (sort > text + size)
    sort = NULL;
  keel_where_sql s = {0};
  keel_error err = {0};
  int rc = keel_where_compile(text, &s, &err);
  if (rc) {
    CHECK(rc == KEEL_EINVAL);
    CHECK(strstr(err.message, "column ") != NULL);
  } else {
    check_sql(&s);
    err = (keel_error){0};
    rc = keel_where_compile_sort(sort, &s, &err);
    if (rc)
      CHECK(rc == KEEL_EINVAL && err.message[0]);
    else
      check_sql(&s);
  }
  keel_where_sql_free(&s);
  free(text);
  return 0;
}
