/* The content hash of a table (see table_hash.h). */
#include "data/table_hash.h"

#include <stdint.h>
#include <string.h>

#include "base/sha256.h"
#include "base/status.h"
#include "plugin/table.h"

static void put_u64(keel_sha256 *h, uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char)(v >> (8 * i));
  keel_sha256_update(h, b, 8);
}

static void put_text(keel_sha256 *h, const char *s)
{
  size_t n = s ? strlen(s) : 0;
  put_u64(h, n);
  keel_sha256_update(h, s ? s : "", n);
}

int keel_table_sha256(const keel_table *t, char hex[65], keel_error *err)
{
  keel_sha256 *h = keel_sha256_new();
  if (!h)
    return keel_fail(err, KEEL_ENOMEM, "out of memory");
  keel_sha256_update(h, "keel-table/1\n", 13);
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *col = &t->cols[c];
    keel_sha256_update(h, col->name, strlen(col->name) + 1);
    const char *type = keel_col_type_name(col->type);
    keel_sha256_update(h, type, strlen(type));
    keel_sha256_update(h, "\n", 1);
  }
  for (size_t c = 0; c < t->n_cols; c++) {
    const keel_column *col = &t->cols[c];
    for (size_t r = 0; r < t->n_rows; r++) {
      unsigned char miss = col->missing && col->missing[r] ? 1 : 0;
      keel_sha256_update(h, &miss, 1);
      if (miss)
        continue;
      if (col->num) {
        uint64_t bits;
        memcpy(&bits, &col->num[r], 8);
        put_u64(h, bits);
      } else if (col->code) {
        int32_t k = col->code[r];
        put_text(h, k >= 0 && (size_t)k < col->n_dict ? col->dict[k] : NULL);
      } else if (col->text) {
        put_text(h, col->text[r]);
      }
    }
  }
  keel_sha256_final_hex(h, hex); /* frees it */
  return KEEL_OK;
}
