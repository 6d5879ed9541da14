/* keel SDK: typed parameter declarations and the values plugins receive.
 *
 * A plugin declares every parameter it accepts in one static table: name,
 * type, default, range or choices, unit and a one-line doc. The host parses
 * manifest text against this table, checks ranges (the plugin's and the
 * template's), fills defaults, and hands the plugin an array of keel_value
 * in the same order as the declarations. Plugins never parse strings.
 * The host also checks, when loading, that every default lies in its own
 * range, and generates `keel plugins NAME` documentation from the table. */
#ifndef KEEL_PARAMS_H
#define KEEL_PARAMS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef enum keel_param_type {
  KEEL_PARAM_BOOL = 1,       /* true/false; value in .i (0 or 1) */
  KEEL_PARAM_INT = 2,        /* 64-bit integer in [min, max]; value in .i */
  KEEL_PARAM_FLOAT = 3,      /* finite double in [min, max]; value in .f */
  KEEL_PARAM_STRING = 4,     /* free text (a path, a column name); in .s */
  KEEL_PARAM_ENUM = 5,       /* one of .choices; index in .i, name in .s */
  KEEL_PARAM_INT_LIST = 6,   /* comma-separated integers, each in range */
  KEEL_PARAM_STRING_LIST = 7 /* comma-separated names (columns, ...) */
} keel_param_type;

/* Declaration flags. */
#define KEEL_PARAM_LOG_SCALE 0x1u /* tune on a log scale (lr, weight decay) */
#define KEEL_PARAM_REQUIRED 0x2u  /* no default: the manifest must set it */

/* One parameter. Build entries with the KEEL_P_* macros below so that the
 * default, the range and the doc stay in one line. */
typedef struct keel_param_decl {
  const char *name;     /* [a-z][a-z0-9_]*, at most 47 bytes */
  keel_param_type type; /* see above */
  uint32_t flags;       /* KEEL_PARAM_* bits */
  int64_t def_int;      /* default of BOOL and INT */
  double def_float;     /* default of FLOAT */
  const char *def_text; /* default of STRING, ENUM (a choice), the lists
                           (comma-separated; "" is the empty list) */
  double min;           /* inclusive lower bound of INT, FLOAT, INT_LIST */
  double max;           /* inclusive upper bound; use +-INFINITY if none */
  const char *const *choices; /* ENUM: NULL-terminated list of names */
  const char *unit;           /* "rows", "1/step", ... or NULL */
  const char *doc;            /* one line for the generated documentation */
} keel_param_decl;

/* The value of one parameter, as the plugin receives it. Strings and
 * arrays are owned by the host and live as long as the plugin instance. */
typedef struct keel_value {
  int64_t i;                  /* BOOL, INT, ENUM (choice index) */
  double f;                   /* FLOAT */
  const char *s;              /* STRING, ENUM (choice name) */
  size_t n;                   /* number of list elements */
  const int64_t *ints;        /* INT_LIST elements */
  const char *const *strings; /* STRING_LIST elements */
} keel_value;

#define KEEL_P_BOOL(NAME, DEF, DOC)                                            \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_BOOL, .def_int = (DEF), .min = 0,       \
    .max = 1, .doc = (DOC)                                                     \
  }
#define KEEL_P_INT(NAME, DEF, LO, HI, UNIT, DOC)                               \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_INT, .def_int = (DEF), .min = (LO),     \
    .max = (HI), .unit = (UNIT), .doc = (DOC)                                  \
  }
#define KEEL_P_FLOAT(NAME, DEF, LO, HI, FLAGS, UNIT, DOC)                      \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_FLOAT, .flags = (FLAGS),                \
    .def_float = (DEF), .min = (LO), .max = (HI), .unit = (UNIT), .doc = (DOC) \
  }
#define KEEL_P_STRING(NAME, DEF, FLAGS, DOC)                                   \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_STRING, .flags = (FLAGS),               \
    .def_text = (DEF), .doc = (DOC)                                            \
  }
#define KEEL_P_ENUM(NAME, DEF, CHOICES, DOC)                                   \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_ENUM, .def_text = (DEF),                \
    .choices = (CHOICES), .doc = (DOC)                                         \
  }
#define KEEL_P_INT_LIST(NAME, DEF, LO, HI, UNIT, DOC)                          \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_INT_LIST, .def_text = (DEF),            \
    .min = (LO), .max = (HI), .unit = (UNIT), .doc = (DOC)                     \
  }
#define KEEL_P_STRING_LIST(NAME, DEF, DOC)                                     \
  {                                                                            \
    .name = (NAME), .type = KEEL_PARAM_STRING_LIST, .def_text = (DEF),         \
    .doc = (DOC)                                                               \
  }

#endif /* KEEL_PARAMS_H */
