/* Values shown inside wire error messages: cut to a readable length, with
 * control characters replaced, so a hostile value cannot forge lines. */
#ifndef BPM_QUOTE_H
#define BPM_QUOTE_H

#include <stddef.h>

#include <jansson.h>

/* Buffer size that holds any shown value (60 characters, "...", NUL). */
#define BPM_QUOTE_SIZE 64

/* Copies the first n bytes of s (a NUL byte ends it early) into buf (cap
 * bytes, cap >= 4): bytes below 0x20 and 0x7f become '?', and a value that
 * does not fit ends in "...". s may be NULL (shown as ""). Returns buf. */
char *bpm_quote_value(const char *s, size_t n, char *buf, size_t cap);

/* As bpm_quote_value for a whole C string. */
char *bpm_quote_str(const char *s, char *buf, size_t cap);

/* A JSON value as Java's toString() would show it in Camunda's messages: a
 * string as its raw text, anything else as compact JSON. v is borrowed and
 * may be NULL ("null"). Returns buf. */
char *bpm_quote_json(const json_t *v, char *buf, size_t cap);

#endif
