/* The sqlite source's reading of SQL text, outside SQLite: where a
 * statement's tail is only blanks and comments, its first keyword, and
 * whether its outermost SELECT has an ORDER BY.
 *
 * The scanner follows SQLite's tokenizer (tokenize.c) only as far as these
 * questions need: whitespace; `--` comments to the end of the line and
 * `/ * ... * /` comments (an unterminated one runs to the end);
 * '...' strings and "...", `...` quoted identifiers with the quote doubled
 * inside; [...] identifiers; words of letters, digits, '_', '$' and bytes
 * >= 0x80; parentheses for depth; anything else one byte. Keywords compare
 * ASCII case-insensitively. Pure functions of their arguments: no
 * allocation, no state, safe from any thread. */
#ifndef KEEL_SQLITE_SQL_H
#define KEEL_SQLITE_SQL_H

#include <stddef.h>

/* 1 when sql[0..n) holds nothing but whitespace, comments and ';' (what
 * may follow the one statement of a query), else 0. */
int sqlsrc_tail_is_blank(const char *sql, size_t n);

/* Copies the first word of sql[0..n) (after blanks and comments),
 * upper-cased, into buf (cap bytes, NUL-terminated, cut to fit); an empty
 * string when the text starts with anything else. */
void sqlsrc_first_word(const char *sql, size_t n, char *buf, size_t cap);

/* 1 when the statement sql[0..n) has the clause ORDER BY at parenthesis
 * depth 0 after its last SELECT or VALUES keyword at depth 0, else 0.
 * That ORDER BY sorts the outermost result (of a compound SELECT too:
 * compound operators come before the last SELECT); an ORDER BY inside a
 * subquery, a CTE, a window or an aggregate's parentheses, in a string or
 * a comment does not count. ORDER and SELECT are reserved words in
 * SQLite, so an unquoted ORDER is always the clause. */
int sqlsrc_has_outer_order_by(const char *sql, size_t n);

#endif /* KEEL_SQLITE_SQL_H */
