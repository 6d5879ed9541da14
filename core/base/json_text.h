/* json_text: the one way keel puts text into a JSON record. JSON strings
 * must be UTF-8, and jansson's json_string() answers anything else with
 * NULL, which json_object_set_new and json_array_append_new then drop
 * without a word: a class, a column name or a whole key vanishes from a
 * record. These constructors refuse instead, with a message that names
 * what the text was (the key, column or plugin), where the byte is, and
 * the text itself escaped (base/escape.h). */
#ifndef KEEL_BASE_JSON_TEXT_H
#define KEEL_BASE_JSON_TEXT_H

#include <jansson.h>

#include "keel/error.h"

/* A new JSON string holding the NUL-terminated text s, or NULL with err
 * filled (KEEL_EINVAL for invalid UTF-8, KEEL_ENOMEM). `what` (printf
 * format) names the text in the message: "column 'x' of [source] csv". */
json_t *keel_json_text(const char *s, keel_error *err, const char *what, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets obj[key] to the text s: 0, or a KEEL_E* code with err filled (the
 * message names key and what). obj is left without the key on failure. */
int keel_json_set_text(json_t *obj, const char *key, const char *s,
                       keel_error *err, const char *what, ...)
    __attribute__((format(printf, 5, 6)));

/* Appends the text s to the array arr: 0, or a KEEL_E* code with err
 * filled. */
int keel_json_append_text(json_t *arr, const char *s, keel_error *err,
                          const char *what, ...)
    __attribute__((format(printf, 4, 5)));

/* A JSON string of a message meant for a person (an error text that may
 * echo user bytes): invalid UTF-8 and control bytes escaped as \xNN, as
 * the terminal showed it. Never drops the text; NULL only when out of
 * memory. */
json_t *keel_json_message(const char *s);

#endif
