/* Camunda 7 typed variables (VariableValueDto: {"value", "type",
 * "valueInfo"}) to and from the engine's plain JSON values. Pure; thread safe.
 *
 * The engine keeps variables as plain JSON. What the plain form cannot say
 * is decided here, once:
 *  - Dates are stored as strings in our REST format (UTC, +0000) and come
 *    back as type String, not Date: the engine has no date type, and every
 *    client we serve parses the string (X uses new Date(value)).
 *  - Json values are stored parsed (a real JSON object/array/scalar) and go
 *    back out as type Json with the value SERIALISED as a string, because
 *    clients JSON.parse it (camunda7-rest.md 1.5, gotcha 3).
 *  - Long, Short and Integer are all JSON integers; on the way out the size
 *    picks Integer (int32) or Long. Double stays a JSON real.
 *  - Xml and Object are kept as their string; they come back as String.
 *  - File and Bytes are marker objects (below); no other object may have a
 *    top-level "$type" member, so the markers stay unambiguous.
 *  - Transient variables are never stored; decode hands them out apart.
 *
 * Error messages go to the REST error body as they are: Camunda's wording
 * where it has one (e.g. "Cannot convert value '99999999999' of type
 * 'Integer' to java type java.lang.Integer"), followed by the variable,
 * " (variable 'count')"; err->where names the variable too. */
#ifndef BPM_RESTVARS_H
#define BPM_RESTVARS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* The marker objects for binary values, as the engine stores them:
 *   {"$type": "File", "value": "<base64>", "filename": "a.pdf",
 *    "mimeType": "application/pdf" | null, "encoding": "utf-8" | null}
 *   {"$type": "Bytes", "value": "<base64>"}
 * The base64 text is kept as the client sent it (standard alphabet, padded;
 * white space allowed, e.g. MIME line breaks). */
#define BPM_RESTVARS_MARKER "$type"

/* Typed map to plain values. typed_map is
 *   {"<name>": {"value": <json>, "type": "<Type>"|null, "valueInfo": {...}}}
 * or NULL / JSON null (no variables). Borrowed.
 * Type names: String Integer Short Long Double Boolean Date Null Json Xml
 * Object Bytes File; the first letter may be lower case ("string"), nothing
 * else may differ ("STRING" is unsupported), as Camunda's
 * fromRestApiTypeName. A missing or null type infers from the value (any
 * JSON value is kept as it is). Per type:
 *   String       string; a number or boolean becomes its text; null stays
 *   Integer      int32; Short int16; Long int64: a JSON integer, an integral
 *                real (5.0) or a decimal string ("42"); out of range is an error
 *   Double       number or numeric string, stored as a JSON real
 *   Boolean      true/false or the strings "true"/"false"
 *   Date         a REST date string (bpm_restdate_parse), or an integer
 *                (epoch ms, as Jackson takes it); stored normalised to UTC:
 *                "2024-01-01T10:00:00.000+0000"
 *   Null         null, whatever the value
 *   Json         a STRING holding JSON text, parsed into the stored value
 *                (null stays null); Xml, Object: a string, kept as is
 *   Bytes, File  base64 string (null = empty), stored as the markers above;
 *                File needs valueInfo.filename and takes mimeType (or X's
 *                "mimetype") and encoding from valueInfo
 * Every type but Null accepts a null value (a null variable).
 * valueInfo.transient = true leaves a variable out of *vars; it goes to
 * *transient instead (when transient is not NULL, else it is dropped).
 * OUT: *vars a new object (caller's reference); *transient, when asked for,
 * a new object, empty when there were none. Both written only on success.
 * Returns BPM_OK or BPM_BAD_REQUEST (a non-object entry or valueInfo, an
 * unknown type, a value the type cannot take, invalid JSON text or base64, a
 * File without filename, a reserved "$type" key); the message names the
 * variable. */
bpm_rc bpm_restvars_decode(const json_t *typed_map, json_t **vars, json_t **transient,
                           bpm_err *err);

/* One typed value, e.g. the body of PUT .../variables/{name}. name is only
 * for messages. OUT: *value a new reference; *is_transient (may be NULL)
 * whether valueInfo.transient was true. Errors as bpm_restvars_decode. */
bpm_rc bpm_restvars_decode_one(const char *name, const json_t *typed, json_t **value,
                               bool *is_transient, bpm_err *err);

/* Plain value to a typed one, always {"type", "value", "valueInfo"}:
 *   string String; integer in int32 Integer, else Long; real Double;
 *   true/false Boolean; null Null; object/array Json with the value
 *   serialised to compact JSON text; the File marker File with value null
 *   and valueInfo {filename, mimeType, encoding} (the last two only when set,
 *   as Camunda does; the content is served by .../data); the Bytes marker
 *   Bytes with its base64 value. valueInfo is {} for all but File.
 * value is borrowed (NULL counts as JSON null). Returns a new reference. */
json_t *bpm_restvars_encode_one(const json_t *value);

/* Every member of vars (an object, or NULL for none) through
 * bpm_restvars_encode_one: {"<name>": {"type", "value", "valueInfo"}}.
 * vars is borrowed. Returns a new reference. */
json_t *bpm_restvars_encode(const json_t *vars);

/* A binary variable's parts, borrowed from the marker object. */
typedef struct bpm_restvars_binary {
    bool is_file;          /* File; else Bytes */
    const char *base64;    /* the content as stored ("" when empty) */
    const char *filename;  /* File only, else NULL */
    const char *mime_type; /* File only, may be NULL */
    const char *encoding;  /* File only, may be NULL */
} bpm_restvars_binary;

/* True when value is a File or Bytes marker; then *out (may be NULL) points
 * into value. For GET .../variables/{name}/data. */
bool bpm_restvars_binary_get(const json_t *value, bpm_restvars_binary *out);

/* Decodes standard base64 (padding required, white space skipped).
 * OUT: *data malloc'd (caller frees; NUL-terminated for convenience, not
 * counted in *len), *len its size. Returns BPM_OK or BPM_BAD_REQUEST when
 * b64 is not base64. */
bpm_rc bpm_restvars_base64_decode(const char *b64, unsigned char **data, size_t *len, bpm_err *err);

#endif
