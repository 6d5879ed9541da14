/* escape: the one rule for showing untrusted text to a person. Every C0
 * control byte (below 0x20) but tab, DEL (0x7f) and every byte that is not
 * part of a valid UTF-8 sequence is written as \xNN; valid multi-byte
 * UTF-8 passes through unchanged. Newline is escaped too unless the caller
 * keeps it (a whole report, not one message). Machine outputs (JSON, JSON
 * Lines, CSV) keep their own lossless quoting and never come here. */
#ifndef KEEL_BASE_ESCAPE_H
#define KEEL_BASE_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "base/buffer.h"

/* Newline passes unescaped (for reports made of lines). */
#define KEEL_ESCAPE_KEEP_NEWLINE 1u
/* An incomplete UTF-8 sequence at the very end is left unconsumed (the
 * caller has more bytes to come); without it, it is escaped. */
#define KEEL_ESCAPE_PARTIAL 2u

/* Appends the escaped form of text[0..n) to out. Returns the number of
 * input bytes consumed: n, or less with KEEL_ESCAPE_PARTIAL when the end
 * holds the start of a sequence. Allocation failures set out->failed. */
size_t keel_escape(keel_buf *out, const char *text, size_t n, unsigned flags);

/* Writes the escaped form of the NUL-terminated text to fp (newline
 * escaped). Returns 0, or EOF on a write error. */
int keel_escape_fputs(FILE *fp, const char *text);

#endif
