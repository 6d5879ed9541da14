/* ffi: apply an existing C function from a shared library to numeric
 * columns, through libffi, without writing a plugin:
 *     [transform.logs]  plugin = ffi
 *     library = libm.so.6   symbol = log1p   signature = double(double)
 *
 * Signature grammar (whitespace allowed between tokens):
 *     signature := type "(" type [ "," type ] ")"
 *     type      := "double" | "float" | "int32" | "int64"
 * The return type comes first. The first argument is the column's value;
 * a second argument, if declared, is the constant parameter `arg2`. Values
 * convert to the argument type exactly or not at all: float needs a value
 * within float's range (rounded to nearest float), int32/int64 an integral
 * value in range; anything else stops the run naming the column and the
 * row. The result converts to double.
 *
 * The library is opened with dlopen(RTLD_NOW | RTLD_LOCAL), the symbol
 * looked up and the call interface prepared (ffi_prep_cif) when the schema
 * is checked (so `keel check` refuses an unknown type, library or symbol)
 * and again for each apply; no handle is kept between calls. A non-finite
 * result is an error by default (nonfinite=error), or becomes missing, or
 * is kept (declared MAY_NONFINITE). Missing rows stay missing and the
 * function is not called for them. The function must be pure: keel's
 * reproducibility is only as good as the library's (the fitted state
 * records the library as named and as resolved, the symbol and the
 * signature). Fitted state: columns, library, library_path, symbol,
 * signature. */
#define _GNU_SOURCE /* dlinfo */
#include <dlfcn.h>
#include <ffi.h>
#include <float.h>
#include <link.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

#include <keel/util.h>

#define WHO "ffi"
#define ACCEPTS KEEL_COL_BIT(KEEL_COL_NUMERIC)

enum {
  P_LIBRARY,
  P_SYMBOL,
  P_SIGNATURE,
  P_ARG2,
  P_COLUMNS,
  P_NONFINITE,
  P_COUNT
};
enum { NF_ERROR, NF_MISSING, NF_KEEP };
static const char *const nonfinite_choices[] = {"error", "missing", "keep",
                                                NULL};

static const keel_param_decl fx_params[] = {
    [P_LIBRARY] = {.name = "library",
                   .type = KEEL_PARAM_STRING,
                   .flags = KEEL_PARAM_REQUIRED,
                   .doc = "shared library to dlopen (e.g. libm.so.6)"},
    [P_SYMBOL] = {.name = "symbol",
                  .type = KEEL_PARAM_STRING,
                  .flags = KEEL_PARAM_REQUIRED,
                  .doc = "C function to call (e.g. log1p)"},
    [P_SIGNATURE] =
        KEEL_P_STRING("signature", "double(double)", 0,
                      "RET(ARG[,ARG2]) with types double, float, int32, int64"),
    [P_ARG2] = KEEL_P_FLOAT("arg2", 0.0, -INFINITY, INFINITY, 0, NULL,
                            "constant second argument, if the signature "
                            "has one"),
    [P_COLUMNS] = KEEL_P_STRING_LIST(
        "columns", "", "numeric columns to transform (empty: all numeric)"),
    [P_NONFINITE] =
        KEEL_P_ENUM("nonfinite", "error", nonfinite_choices,
                    "a NaN/Inf result: error, make it missing, or keep it"),
};
KEEL_PARAMS_MATCH(fx_params, P_COUNT);

enum { T_DOUBLE, T_FLOAT, T_INT32, T_INT64 };
static const char *const type_names[] = {"double", "float", "int32", "int64"};
#define N_TYPES 4

/* A prepared call: the library handle, the function and its interface. */
typedef struct fx_call {
  void *lib;
  void (*fn)(void);
  ffi_cif cif;
  ffi_type *arg_types[2];
  int ret, arg[2], n_args;
} fx_call;

static ffi_type *fx_type_of(int t)
{
  switch (t) {
  case T_FLOAT: return &ffi_type_float;
  case T_INT32: return &ffi_type_sint32;
  case T_INT64: return &ffi_type_sint64;
  default: return &ffi_type_double;
  }
}

static const char *fx_skip_space(const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* Reads one type name at *s (after spaces); -1 if none matches. */
static int fx_read_type(const char **s)
{
  const char *p = fx_skip_space(*s);
  size_t len = 0;
  while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9'))
    len++;
  for (int t = 0; t < N_TYPES; t++)
    if (strlen(type_names[t]) == len && strncmp(p, type_names[t], len) == 0) {
      *s = p + len;
      return t;
    }
  return -1;
}

/* Parses the signature grammar of the header comment into call. */
static int fx_parse_signature(const keel_host *host, const char *sig,
                              fx_call *call, keel_error *err)
{
  const char *s = sig;
  call->ret = fx_read_type(&s);
  if (call->ret < 0)
    goto bad;
  s = fx_skip_space(s);
  if (*s++ != '(')
    goto bad;
  call->n_args = 0;
  for (;;) {
    int t = fx_read_type(&s);
    if (t < 0)
      goto bad;
    call->arg[call->n_args++] = t;
    s = fx_skip_space(s);
    if (*s == ')')
      break;
    if (*s != ',' || call->n_args == 2)
      goto bad;
    s++;
  }
  s = fx_skip_space(s + 1);
  if (*s != '\0')
    goto bad;
  return KEEL_OK;
bad:
  return host->fail(err, KEEL_EINVAL,
                    "signature '%s' is not RET(ARG) or RET(ARG,ARG2) "
                    "with types double, float, int32, int64 (e.g. "
                    "double(double))",
                    sig);
}

/* Converts x to type t in *out; 0 when exact conversion is impossible. */
static int fx_convert(double x, int t, void *out)
{
  switch (t) {
  case T_DOUBLE: memcpy(out, &x, sizeof x); return 1;
  case T_FLOAT: {
    if (isfinite(x) && fabs(x) > FLT_MAX)
      return 0;
    float f = (float)x;
    memcpy(out, &f, sizeof f);
    return 1;
  }
  case T_INT32: {
    if (!(x >= -2147483648.0 && x <= 2147483647.0) || x != floor(x))
      return 0;
    int32_t i = (int32_t)x;
    memcpy(out, &i, sizeof i);
    return 1;
  }
  default: {
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0) ||
        x != floor(x))
      return 0;
    int64_t i = (int64_t)x;
    memcpy(out, &i, sizeof i);
    return 1;
  }
  }
}

static void fx_release(fx_call *call)
{
  if (call->lib != NULL)
    dlclose(call->lib);
  call->lib = NULL;
}

/* Parses the signature, opens the library, finds the symbol and prepares
 * the call interface. Release with fx_release (also after a failure). */
static int fx_prepare(const keel_host *host, const keel_value *params,
                      fx_call *call, keel_error *err)
{
  memset(call, 0, sizeof *call);
  const char *lib = params[P_LIBRARY].s, *sym = params[P_SYMBOL].s;
  int rc = fx_parse_signature(host, params[P_SIGNATURE].s, call, err);
  if (rc != KEEL_OK)
    return rc;
  if (lib == NULL || lib[0] == '\0' || sym == NULL || sym[0] == '\0')
    return host->fail(err, KEEL_EINVAL, "library and symbol must both be set");
  unsigned char scratch[8];
  if (call->n_args == 2 && !fx_convert(params[P_ARG2].f, call->arg[1], scratch))
    return host->fail(err, KEEL_EINVAL, "arg2 = %.17g is not a valid %s",
                      params[P_ARG2].f, type_names[call->arg[1]]);
  dlerror();
  call->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (call->lib == NULL) {
    const char *why = dlerror();
    return host->fail(err, KEEL_ENOTFOUND, "cannot open library '%s': %s", lib,
                      why ? why : "unknown reason");
  }
  dlerror();
  void *fn = dlsym(call->lib, sym);
  const char *why = dlerror();
  if (fn == NULL || why != NULL)
    return host->fail(err, KEEL_ENOTFOUND,
                      "symbol '%s' not found in library '%s'%s%s", sym, lib,
                      why ? ": " : "", why ? why : "");
  /* POSIX guarantees a data pointer from dlsym converts to a function. */
  memcpy(&call->fn, &fn, sizeof fn);
  for (int i = 0; i < call->n_args; i++)
    call->arg_types[i] = fx_type_of(call->arg[i]);
  if (ffi_prep_cif(&call->cif, FFI_DEFAULT_ABI, (unsigned)call->n_args,
                   fx_type_of(call->ret), call->arg_types) != FFI_OK)
    return host->fail(err, KEEL_EINVAL,
                      "libffi cannot prepare a call to '%s' with "
                      "signature '%s'",
                      sym, params[P_SIGNATURE].s);
  return KEEL_OK;
}

static int fx_schema(const keel_host *host, const keel_value *params,
                     const keel_schema *in, keel_schema *out, keel_error *err)
{
  fx_call call;
  int rc = fx_prepare(host, params, &call, err);
  fx_release(&call);
  if (rc != KEEL_OK)
    return rc;
  keel_tx_cols v = keel_tx_schema_cols(in);
  size_t *idx = NULL, n = 0, k = 0;
  rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                      &idx, &n, err);
  uint32_t add = params[P_NONFINITE].i == NF_MISSING ? KEEL_COL_MAY_MISS
                 : params[P_NONFINITE].i == NF_KEEP  ? KEEL_COL_MAY_NONFINITE
                                                     : 0u;
  for (size_t c = 0; rc == KEEL_OK && c < in->n_cols; c++) {
    uint32_t flags = in->cols[c].flags;
    if (k < n && idx[k] == c) {
      k++;
      flags |= add;
    }
    rc = host->schema_add(out, in->cols[c].name, in->cols[c].type, flags, err);
  }
  free(idx);
  return rc;
}

/* Records what will be called (the library as resolved, for audit). */
static int fx_fit(const keel_host *host, const keel_value *params,
                  const keel_table *train, keel_state *state, keel_error *err)
{
  fx_call call;
  keel_tx_cols v = keel_tx_table_cols(train);
  size_t *idx = NULL, n = 0;
  const char **names = NULL;
  int rc = fx_prepare(host, params, &call, err);
  if (rc == KEEL_OK)
    rc = keel_tx_select(host, WHO, &params[P_COLUMNS], ACCEPTS, "numeric", &v,
                        &idx, &n, err);
  if (rc != KEEL_OK)
    goto out;
  names = malloc((n ? n : 1) * sizeof *names);
  if (names == NULL) {
    rc = host->fail(err, KEEL_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t k = 0; k < n; k++)
    names[k] = train->cols[idx[k]].name;
  struct link_map *map = NULL;
  const char *resolved = params[P_LIBRARY].s;
  if (dlinfo(call.lib, RTLD_DI_LINKMAP, &map) == 0 && map != NULL &&
      map->l_name != NULL && map->l_name[0] != '\0')
    resolved = map->l_name;
  rc = host->state_put_strings(state, "columns", names, n, err);
  if (rc == KEEL_OK)
    rc =
        host->state_put_strings(state, "library", &params[P_LIBRARY].s, 1, err);
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "library_path", &resolved, 1, err);
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "symbol", &params[P_SYMBOL].s, 1, err);
  if (rc == KEEL_OK)
    rc = host->state_put_strings(state, "signature", &params[P_SIGNATURE].s, 1,
                                 err);
out:
  free(names);
  free(idx);
  fx_release(&call);
  return rc;
}

/* The state must describe the same function the parameters name. */
static int fx_check_state(const keel_host *host, const keel_value *params,
                          const keel_state *state, keel_error *err)
{
  static const struct {
    const char *key;
    int param;
  } keys[] = {
      {"library", P_LIBRARY}, {"symbol", P_SYMBOL}, {"signature", P_SIGNATURE}};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *const *v = NULL;
    size_t n = 0;
    int rc = host->state_get_strings(state, keys[i].key, &v, &n, err);
    if (rc != KEEL_OK)
      return host->fail(err, rc, "the fitted state has no '%s'", keys[i].key);
    if (n != 1 || strcmp(v[0], params[keys[i].param].s) != 0)
      return host->fail(err, KEEL_EINVAL,
                        "the fitted state was made for %s '%s', the "
                        "parameters say '%s'",
                        keys[i].key, n == 1 ? v[0] : "?",
                        params[keys[i].param].s);
  }
  return KEEL_OK;
}

/* Calls the function on x; returns 0 and sets *y, or a KEEL_E* for a value
 * that does not convert to the argument type. */
static int fx_call_one(const keel_host *host, const keel_value *params,
                       fx_call *call, const keel_column *src, size_t r,
                       double *y, keel_error *err)
{
  union {
    double d;
    float f;
    int32_t i32;
    int64_t i64;
  } a0, a1;
  union {
    ffi_arg word;
    ffi_sarg sword;
    double d;
    float f;
    int64_t i64;
  } ret;
  void *values[2] = {&a0, &a1};
  if (!fx_convert(src->num[r], call->arg[0], &a0))
    return host->fail(err, KEEL_EDATA,
                      "column '%s' row %zu: value %.17g is not a "
                      "valid %s argument",
                      src->name, r + 1, src->num[r], type_names[call->arg[0]]);
  if (call->n_args == 2)
    (void)fx_convert(params[P_ARG2].f, call->arg[1], &a1);
  memset(&ret, 0, sizeof ret);
  ffi_call(&call->cif, call->fn, &ret, values);
  switch (call->ret) {
  case T_DOUBLE: *y = ret.d; break;
  case T_FLOAT: *y = (double)ret.f; break;
  case T_INT32: *y = (double)(int32_t)ret.sword; break;
  default: *y = (double)ret.i64; break;
  }
  return KEEL_OK;
}

/* keel_tx_column_fn: dst (src's copy) gets f(x) for each non-missing x of src;
 * ctx is the fx_call. */
static int fx_apply_column(const keel_host *host, const keel_value *params,
                           void *ctx, keel_table *t, const keel_column *src,
                           keel_column *dst, size_t k, keel_error *err)
{
  (void)k;
  fx_call *call = ctx;
  for (size_t r = 0; r < t->n_rows; r++) {
    if (keel_tx_is_missing(src, r))
      continue;
    double y = 0;
    int rc = fx_call_one(host, params, call, src, r, &y, err);
    if (rc != KEEL_OK)
      return rc;
    if (!isfinite(y) && params[P_NONFINITE].i == NF_ERROR)
      return host->fail(err, KEEL_EDATA,
                        "column '%s' row %zu: %s(%.17g) gave %g; set "
                        "nonfinite=missing or nonfinite=keep to allow it",
                        src->name, r + 1, params[P_SYMBOL].s, src->num[r], y);
    if (!isfinite(y) && params[P_NONFINITE].i == NF_MISSING) {
      dst->num[r] = 0.0;
      dst->missing[r] = 1;
    } else {
      dst->num[r] = y;
    }
  }
  return KEEL_OK;
}

static int fx_apply(const keel_host *host, const keel_value *params,
                    const keel_state *state, const keel_table *in,
                    keel_table **out, keel_error *err)
{
  fx_call call;
  const char *const *names = NULL;
  size_t n = 0;
  long *pos = NULL;
  int rc = fx_prepare(host, params, &call, err);
  if (rc == KEEL_OK)
    rc = fx_check_state(host, params, state, err);
  if (rc == KEEL_OK)
    rc = keel_tx_state_columns(host, state, &names, &n, err);
  if (rc == KEEL_OK)
    rc = keel_tx_bind(host, WHO, names, n, ACCEPTS, "numeric", in, &pos, err);
  if (rc == KEEL_OK)
    rc = keel_tx_apply_columns(host, params, in, pos, 1, fx_apply_column, &call,
                               out, err);
  free(pos);
  fx_release(&call);
  return rc;
}

static const keel_transform_api fx_api = {
    KEEL_TRANSFORM_API_HEADER,
    .schema = fx_schema,
    .fit = fx_fit,
    .apply = fx_apply,
};

static const keel_plugin fx_plugin = {
    KEEL_PLUGIN_HEADER(KEEL_KIND_TRANSFORM),
    .name = "ffi",
    .version = "1.0.0",
    .summary = "apply a C function from a shared library (libffi)",
    .license = "MIT",
    .params = fx_params,
    .n_params = KEEL_COUNT(fx_params),
    .contract = {.accepts = KEEL_COL_ANY},
    .api = &fx_api,
};

KEEL_PLUGIN_DEFINE(fx_plugin)
