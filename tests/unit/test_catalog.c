/* The data catalog: a good catalog reads back every field; each kind of
 * bad entry is refused naming FILE:LINE, the entry and the key; references
 * pick the newest version a range admits. */
#include <stdio.h>
#include <string.h>

#include "config/catalog.h"
#include "test_util.h"

#define HEADER "[catalog]\nformat = 1\n"

/* One valid entry, its lines numbered from 3 (after HEADER). */
#define ENTRY(ID, EXTRA)                                                       \
  "[" ID "]\n"                                                                 \
  "location = file:data/p.csv\n"                                               \
  "plugin = csv\n"                                                             \
  "sha256 = "                                                                  \
  "e70c49495fd192cbd259f8028ecd623348a4151c86c26aeddade9073ae657420\n"         \
  "rows = 344\n"                                                               \
  "schema = species:categorical:label, island:categorical,\n"                  \
  "  mass:numeric\n"                                                           \
  "owner = data team\n"                                                        \
  "scope = internal\n"                                                         \
  "as_of = 2024-02-29\n"                                                       \
  "license = CC0-1.0\n" EXTRA

static keel_catalog *parse(const char *text, keel_error *err)
{
  keel_catalog *c = NULL;
  int rc = keel_catalog_parse("/cat/catalog.ini", text, strlen(text), &c, err);
  if (rc && !err->message[0])
    snprintf(err->message, sizeof err->message, "rc %d without message", rc);
  return c;
}

static void test_good(void)
{
  keel_error err = {0};
  keel_catalog *c =
      parse(HEADER ENTRY("penguins@1.0.0", "option.missing = NA, .\n"
                                           "max_age_days = 30\n"
                                           "description = long text\n"
                                           "  continued\n"),
            &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL_FATAL(c->n_entries, 1u);
  const keel_catalog_entry *e = &c->entries[0];
  CU_ASSERT_STRING_EQUAL(e->id, "penguins@1.0.0");
  CU_ASSERT_STRING_EQUAL(e->name, "penguins");
  CU_ASSERT_EQUAL(e->line, 3);
  CU_ASSERT_EQUAL(e->scheme, KEEL_LOCATION_FILE);
  CU_ASSERT_STRING_EQUAL(e->path, "/cat/data/p.csv");
  CU_ASSERT_STRING_EQUAL(e->plugin, "csv");
  CU_ASSERT_EQUAL_FATAL(e->n_options, 1u);
  CU_ASSERT_STRING_EQUAL(e->options[0].key, "missing");
  CU_ASSERT_STRING_EQUAL(e->options[0].value, "NA, .");
  CU_ASSERT_EQUAL(e->rows, 344u);
  CU_ASSERT_EQUAL_FATAL(e->n_columns, 3u);
  CU_ASSERT(e->columns[0].label && !e->columns[1].label);
  CU_ASSERT_EQUAL(e->columns[1].type, KEEL_COL_CATEGORICAL);
  CU_ASSERT_STRING_EQUAL(e->columns[2].name, "mass");
  CU_ASSERT_EQUAL(e->scope, KEEL_SCOPE_INTERNAL);
  CU_ASSERT_EQUAL(e->auth, KEEL_AUTH_NONE);
  CU_ASSERT_EQUAL(e->as_of_days, 19782); /* 2024-02-29 */
  CU_ASSERT_EQUAL(e->max_age_days, 30u);
  CU_ASSERT_STRING_EQUAL(e->description, "long text continued");
  keel_catalog_free(c);
}

static void test_http_auth(void)
{
  keel_error err = {0};
  keel_catalog *c =
      parse(HEADER ENTRY("remote@2.1.0",
                         "auth = bearer-env:DATA_TOKEN\n") "[remote@2.1.0]\n",
            &err);
  CU_ASSERT_PTR_NULL(c); /* a section twice: the INI reader refuses */
  c = parse(HEADER
            "[remote@2.1.0]\n"
            "location = https://data.example.org/p.csv?v=2\n"
            "plugin = csv\n"
            "sha256 = "
            "e70c49495fd192cbd259f8028ecd623348a4151c86c26aeddade9073ae6574"
            "20\n"
            "rows = 1\nschema = a:numeric\nowner = o\nscope = pii\n"
            "auth = bearer-env:DATA_TOKEN\nas_of = 2025-01-31\n"
            "license = proprietary\nlegal_basis = contract\n",
            &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL(c->entries[0].scheme, KEEL_LOCATION_HTTPS);
  CU_ASSERT_PTR_NULL(c->entries[0].path);
  CU_ASSERT_EQUAL(c->entries[0].auth, KEEL_AUTH_BEARER_ENV);
  CU_ASSERT_STRING_EQUAL(c->entries[0].auth_ref, "DATA_TOKEN");
  CU_ASSERT_STRING_EQUAL(c->entries[0].legal_basis, "contract");
  keel_catalog_free(c);
  /* pii without a legal basis: refused at the scope line */
  c = parse(HEADER
            "[p@1.0.0]\nlocation = file:p.csv\nplugin = csv\nsha256 = "
            "e70c49495fd192cbd259f8028ecd623348a4151c86c26aeddade9073ae6574"
            "20\nrows = 1\nschema = a:numeric\nowner = o\nscope = pii\n"
            "as_of = 2025-01-31\nlicense = x\n",
            &err);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message,
                                "[p@1.0.0] scope: pii data needs a "
                                "consent or legal basis"));
}

/* Each bad catalog fails with a message holding `want`. */
static void test_bad(void)
{
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"[x@1.0.0]\n", "catalog.ini:1: a catalog begins with a [catalog]"},
      {"[catalog]\nformat = 2\n",
       "catalog.ini:2: [catalog] format: format '2'"},
      {"[catalog]\n", "[catalog] missing key 'format'"},
      {HEADER "[penguins]\n", "catalog.ini:3: [penguins]: a dataset section is "
                              "named NAME@VERSION"},
      {HEADER ENTRY("Penguins@1.0.0", ""), "'Penguins' is not a dataset name"},
      {HEADER ENTRY("p@1.0", ""), "[p@1.0] version '1.0'"},
      {HEADER ENTRY("p@1.0.0", "colour = red\n"),
       "catalog.ini:14: [p@1.0.0] colour: unknown key"},
      {HEADER ENTRY("p@1.0.0", "option.path = x.csv\n"),
       "[p@1.0.0] option.path: the source's path comes from `location`"},
      {HEADER ENTRY("p@1.0.0", "option.Bad = 1\n"),
       "option.Bad: 'Bad' is not a parameter name"},
      {HEADER ENTRY("p@1.0.0", "auth = netrc\n"),
       "auth: netrc applies to http(s) locations only"},
      {HEADER ENTRY("p@1.0.0", "auth = bearer-env:lower\n"),
       "'lower' is not an environment variable name"},
      {HEADER ENTRY("p@1.0.0", "auth = password:x\n"),
       "'password:x' is not an authentication method"},
      {HEADER ENTRY("p@1.0.0", "max_age_days = 0\n"),
       "max_age_days: 0 days; expected 1 to 36600"},
      {HEADER ENTRY("p@1.0.0", "") ENTRY("p@1.0.0+b", ""),
       "[p@1.0.0+b] the same version as [p@1.0.0] (line 3)"},
      {HEADER "[p@1.0.0]\nlocation = ftp://x/y\n",
       "catalog.ini:4: [p@1.0.0] location: 'ftp://x/y' has no known scheme"},
      {HEADER "[p@1.0.0]\nlocation = https://user:secret@h/p.csv\n",
       "location: user information in a URL is refused"},
      {HEADER "[p@1.0.0]\nlocation = https:///p.csv\n", "has no host"},
      {HEADER "[p@1.0.0]\nlocation = file:\n", "names nothing after"},
      {HEADER "[p@1.0.0]\nsha256 = ABC\n", "sha256: 'ABC' is not a SHA-256"},
      {HEADER "[p@1.0.0]\nrows = -3\n", "rows: '-3' is not a count"},
      {HEADER "[p@1.0.0]\nrows = 99999999999999999999\n", "is not a count"},
      {HEADER "[p@1.0.0]\nschema = a:int\n",
       "column 'a' has type 'int'; expected numeric"},
      {HEADER "[p@1.0.0]\nschema = a:numeric:label, b:numeric:label\n",
       "column 'b' is a second label"},
      {HEADER "[p@1.0.0]\nschema = a:numeric, a:text\n",
       "column 'a' appears twice"},
      {HEADER "[p@1.0.0]\nschema = a\n", "column 1 is not NAME:TYPE"},
      {HEADER "[p@1.0.0]\nschema = a:numeric:key\n",
       "the only mark is 'label'"},
      {HEADER "[p@1.0.0]\nscope = secret\n", "'secret' is not an access scope"},
      {HEADER "[p@1.0.0]\nas_of = 2023-02-29\n", "'2023-02-29' is not a date"},
      {HEADER "[p@1.0.0]\nas_of = 2023-1-05\n", "is not a date"},
      {HEADER "[p@1.0.0]\nowner =\n", "owner: empty value"},
      {HEADER "[p@1.0.0]\nplugin = csv\n", "[p@1.0.0] missing key 'location'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    keel_error err = {0};
    keel_catalog *c = parse(cases[i].text, &err);
    CU_ASSERT_PTR_NULL(c);
    if (!strstr(err.message, cases[i].want)) {
      fprintf(stderr, "case %zu: wanted '%s' in '%s'\n", i, cases[i].want,
              err.message);
      CU_FAIL("message");
    }
    keel_catalog_free(c);
  }
}

static void test_find(void)
{
  keel_error err = {0};
  keel_catalog *c = parse(HEADER ENTRY("p@1.2.0", "") ENTRY("p@1.10.0", "")
                              ENTRY("p@2.0.0", "") ENTRY("q@0.1.0", ""),
                          &err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  static const struct {
    const char *ref, *id;
  } hits[] = {{"p", "p@2.0.0"},       {"p@^1", "p@1.10.0"},
              {"p@1.2.0", "p@1.2.0"}, {"p@>=1.3 <2", "p@1.10.0"},
              {"p@*", "p@2.0.0"},     {"q@^0.1", "q@0.1.0"}};
  for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
    const keel_catalog_entry *e = NULL;
    CU_ASSERT_EQUAL(keel_catalog_find(c, hits[i].ref, &e, &err), KEEL_OK);
    CU_ASSERT(e && strcmp(e->id, hits[i].id) == 0);
  }
  const keel_catalog_entry *e = NULL;
  CU_ASSERT_EQUAL(keel_catalog_find(c, "p@^3", &e, &err), KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(err.message, "satisfies '^3' (versions: 1.2.0, 1.10.0, 2.0.0)"));
  CU_ASSERT_EQUAL(keel_catalog_find(c, "r", &e, &err), KEEL_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(it has: p, q)"));
  CU_ASSERT_EQUAL(keel_catalog_find(c, "p@", &e, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_catalog_find(c, "@1", &e, &err), KEEL_EINVAL);
  CU_ASSERT_EQUAL(keel_catalog_find(c, "p@>>1", &e, &err), KEEL_EINVAL);
  keel_catalog_free(c);
}

/* An entry written by keel_catalog_entry_write reads back as the same
 * entry, long values cut into continuation lines and all. */
static void test_write_round_trip(void)
{
  keel_error err = {0};
  /* 700 bytes of prose, given as continuation lines of 70 */
  char longdesc[1000];
  size_t k = 0;
  for (size_t i = 0; i < 700; i++) {
    if (i && i % 70 == 0) {
      longdesc[k++] = '\n';
      longdesc[k++] = ' ';
    }
    longdesc[k++] = i % 9 == 8 ? 'x' : (char)('a' + i % 26);
    if (i % 7 == 6 && i % 70 != 69)
      longdesc[k++] = ' ';
  }
  longdesc[k] = 0;
  char text[4096];
  snprintf(text, sizeof text, "%s%s%s\n", HEADER,
           ENTRY("penguins@1.2.3", "option.missing = NA, .\n"
                                   "max_age_days = 30\n"
                                   "auth = none\n"
                                   "description = "),
           longdesc);
  keel_catalog *c = parse(text, &err);
  if (!c)
    fprintf(stderr, "%s\n", err.message);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  keel_buf b = KEEL_BUF_INIT;
  keel_buf_printf(&b, "%s", HEADER);
  CU_ASSERT_EQUAL(keel_catalog_entry_write(&b, &c->entries[0], NULL), KEEL_OK);
  keel_catalog *back = parse((const char *)b.data, &err);
  if (!back)
    fprintf(stderr, "%s\n%s\n", err.message, (const char *)b.data);
  CU_ASSERT_PTR_NOT_NULL_FATAL(back);
  const keel_catalog_entry *x = &c->entries[0], *y = &back->entries[0];
  CU_ASSERT_STRING_EQUAL(x->id, y->id);
  CU_ASSERT_STRING_EQUAL(x->location, y->location);
  CU_ASSERT_STRING_EQUAL(x->sha256, y->sha256);
  CU_ASSERT_EQUAL(x->rows, y->rows);
  CU_ASSERT_EQUAL(x->n_columns, y->n_columns);
  CU_ASSERT_EQUAL(y->columns[0].label, 1);
  CU_ASSERT_STRING_EQUAL(x->options[0].value, y->options[0].value);
  CU_ASSERT_STRING_EQUAL(x->description, y->description);
  CU_ASSERT_EQUAL(x->max_age_days, y->max_age_days);
  CU_ASSERT_EQUAL(x->scope, y->scope);
  for (const char *p = (const char *)b.data; *p;) { /* no line too long */
    size_t n = strcspn(p, "\n");
    CU_ASSERT(n <= 160);
    p += n + (p[n] ? 1 : 0);
  }
  keel_buf_free(&b);
  keel_catalog_free(back);
  keel_catalog_free(c);
}

int main(void)
{
  static const keel_test_case tests[] = {
      {"good entry", test_good},
      {"http and auth", test_http_auth},
      {"bad entries", test_bad},
      {"find by range", test_find},
      {"write, read back", test_write_round_trip},
      {NULL, NULL}};
  return keel_test_run_suite("catalog", tests);
}
