/* Strict INI reading on top of libinih (Debian's shared build).
 *
 * libinih 55 gives its handler no line number, splits lines longer than
 * its 200-byte buffer silently (the tail becomes a phantom key or
 * section), cuts section names at 49 bytes, stops a value at a NUL byte,
 * yields nothing for a file with bare CR line ends, keeps going after an
 * unterminated "[section" line and treats indented lines as continuations
 * of the previous key (even after blank and comment lines). We therefore feed
 * it through ini_parse_stream with our own reader, which counts lines and
 * refuses every one of those cases before the library sees the line; the
 * handler learns the line number from the reader (libinih calls it right after
 * reading that line).
 *
 * Accepted syntax: `[section]` headers, `key = value` lines, whole-line
 * comments starting with ';' or '#', inline comments after " ;", blank
 * lines, LF or CRLF line ends, an optional UTF-8 BOM, and continuation
 * lines: an indented line right below a key line (or another
 * continuation) adds its text to that key's value, joined with one space,
 * so no value is limited by the line length. Refused, each with
 * "FILE:LINE: what; expected ...": lines over KEEL_INI_MAX_LINE bytes, NUL
 * and other control bytes, bytes that are not valid UTF-8 (keel/utf8.h), bare
 * CR, an indented line not right below a key line, an indented section
 * header, an unterminated or empty section header,
 * text after "]", section names over KEEL_INI_MAX_SECTION bytes, keys over
 * KEEL_INI_MAX_KEY bytes, a line without '=', "key: value", a key before any
 * section, a duplicate key in a section and a section that appears twice. */
#ifndef KEEL_CONFIG_INI_H
#define KEEL_CONFIG_INI_H

#include <stddef.h>

#include "base/strmap.h"
#include "keel/error.h"

#define KEEL_INI_MAX_LINE 199        /* bytes per line, line end excluded */
#define KEEL_INI_MAX_SECTION 48      /* bytes per section name */
#define KEEL_INI_MAX_KEY 47          /* bytes per key (a parameter name) */
#define KEEL_INI_MAX_FILE (1u << 20) /* bytes per file */

typedef struct keel_ini_entry {
  char *key;
  char *value; /* surrounding blanks and inline comment removed */
  int line;
} keel_ini_entry;

typedef struct keel_ini_section {
  char *name;
  int line;                /* line of the "[name]" header */
  keel_ini_entry *entries; /* in file order */
  size_t n_entries;
  size_t cap_entries;
  keel_strmap keys; /* key -> entry index; built once a section is long */
} keel_ini_section;

typedef struct keel_ini {
  char *path;                 /* as given (used in messages) */
  char *text;                 /* the bytes as read, NUL-terminated */
  size_t size;                /* number of bytes in text */
  keel_ini_section *sections; /* in file order */
  size_t n_sections;
  size_t cap_sections;
  keel_strmap names; /* section name -> section index */
} keel_ini;

/* Reads and parses a whole file. On failure *out is NULL and err holds the
 * first problem as "PATH:LINE: ..." (KEEL_EINVAL; KEEL_EIO when the file
 * cannot be read). The caller frees *out with keel_ini_free. */
int keel_ini_parse_file(const char *path, keel_ini **out, keel_error *err);
/* Same for bytes in memory; `name` stands for the file in messages. */
int keel_ini_parse_buffer(const char *name, const char *text, size_t size,
                          keel_ini **out, keel_error *err);
void keel_ini_free(keel_ini *ini);

/* The section called `name`, or NULL. */
const keel_ini_section *keel_ini_section_find(const keel_ini *ini,
                                              const char *name);
/* The entry `key` of a section (which may be NULL), or NULL. */
const keel_ini_entry *keel_ini_entry_find(const keel_ini_section *sec,
                                          const char *key);

#endif
