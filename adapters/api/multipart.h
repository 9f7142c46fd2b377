/* multipart/form-data (RFC 7578 over RFC 2046), as deployment uploads send
 * it. Parts point into the caller's body; nothing is copied but the header
 * values. No I/O; thread safe on distinct bpm_multipart values. */
#ifndef BPM_MULTIPART_H
#define BPM_MULTIPART_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

/* RFC 2046 §5.1.1: a boundary has 1 to 70 characters. */
#define BPM_MULTIPART_BOUNDARY_MAX 70
#define BPM_MULTIPART_BOUNDARY_SIZE (BPM_MULTIPART_BOUNDARY_MAX + 1)
/* Parts allowed when the caller passes max_parts = 0. */
#define BPM_MULTIPART_MAX_PARTS 100
/* Header bytes allowed per part (the headers, not the content). */
#define BPM_MULTIPART_MAX_HEADER 8192

typedef struct bpm_multipart_part {
    const char *name;         /* Content-Disposition name (may be ""); never NULL */
    const char *filename;     /* Content-Disposition filename, unescaped; NULL if none */
    const char *content_type; /* Content-Type header as sent; NULL if none (RFC 7578
                                 §4.4 then means text/plain) */
    const char *data;         /* the content: points into the body, not NUL-terminated */
    size_t len;
} bpm_multipart_part;

typedef struct bpm_multipart {
    bpm_multipart_part *parts; /* in body order */
    size_t n_parts;
    bpm_arena *arena; /* owns parts and the header strings */
} bpm_multipart;

/* Finds the boundary in a Content-Type header value such as
 *   multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW
 *   Multipart/Form-Data; charset=utf-8; boundary="a b:c"
 * The media type must be multipart/form-data (case-insensitive); the
 * parameter may be quoted (with backslash escapes). content_type is borrowed;
 * out has cap bytes (BPM_MULTIPART_BOUNDARY_SIZE is enough) and is written
 * only on success. Returns BPM_OK, or BPM_BAD_REQUEST when the type is not
 * multipart/form-data, has no boundary, or the boundary is empty, longer
 * than 70 characters (or cap - 1), or holds a control character. */
bpm_rc bpm_multipart_boundary(const char *content_type, char *out, size_t cap, bpm_err *err);

/* Splits body[0..len) into parts. body need not be NUL-terminated and is
 * borrowed: the parts point into it, so it must outlive *out. boundary is
 * the value from bpm_multipart_boundary (without the leading "--").
 * Accepted: CRLF or bare LF line ends (also mixed), a preamble before the
 * first boundary and an epilogue after the closing one (both ignored),
 * white space after a boundary, header names in any case, parameters
 * quoted or not, filename with backslash-escaped '"' and '\\' (any other
 * backslash is kept, so C:\dir\f.bpmn survives), and zero parts.
 * Ignored: headers other than Content-Disposition and Content-Type, and
 * Content-Disposition parameters other than name and filename (filename*
 * included, as RFC 7578 §4.2 says senders must not use it).
 * max_parts bounds the parts (0: BPM_MULTIPART_MAX_PARTS).
 * On BPM_OK *out holds the parts; release them with bpm_multipart_cleanup.
 * On error *out is left empty (cleanup is harmless), and the result is
 *   BPM_BAD_REQUEST  no opening boundary, no closing boundary, headers
 *                    without the blank line after them, a folded or
 *                    malformed header line, a part without Content-Disposition
 *                    or without name, a disposition other than form-data, an
 *                    unterminated quoted string or a NUL in a header
 *   BPM_LIMIT        more than max_parts parts, or a part's headers longer
 *                    than BPM_MULTIPART_MAX_HEADER
 * Names and filenames are the bytes as sent, not checked for UTF-8: check
 * them before making JSON strings of them (json_string refuses bad UTF-8).
 * The parser never reads outside body[0..len) and is linear in len times
 * the boundary length. */
bpm_rc bpm_multipart_parse(const char *body, size_t len, const char *boundary, size_t max_parts,
                           bpm_multipart *out, bpm_err *err);

/* Frees what bpm_multipart_parse allocated and empties mp. The body is the
 * caller's and is not touched. mp may be zeroed or already cleaned. */
void bpm_multipart_cleanup(bpm_multipart *mp);

#endif
