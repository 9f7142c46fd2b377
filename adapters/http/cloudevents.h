/* CloudEvents 1.0 over HTTP (the HTTP protocol binding, binary and
 * structured content modes): a connector job's inputs become the request a
 * cloudevents-http connector sends. Pure: no I/O, no clock, no environment.
 * Entry point: bpm_cloudevents_request. */
#ifndef BPM_CLOUDEVENTS_H
#define BPM_CLOUDEVENTS_H

#include <jansson.h>

#include "err.h"

/* What the worker knows that the inputs do not say. */
typedef struct bpm_cloudevents_context {
    const char *id;      /* the event id unless the inputs set one: the job id, the same on every retry */
    const char *time;    /* RFC 3339: when the step that published ran */
    const char *process; /* the process id: the default source is "bpmnd:/<process>" */
} bpm_cloudevents_context;

/* Builds the request for inputs {url, type, source, subject, id, data, mode
 * ("binary", the default, or "structured"), datacontenttype, dataschema,
 * headers (a map), extensions (a map of lower-case names to strings,
 * integers or booleans)} as the object {"url", "headers": {name: value},
 * "body" (absent when there is no data)}, new in *out (the caller
 * decrefs). Binary mode: the attributes are ce-* headers (values
 * percent-encoded as the binding says) and the body is the data with the
 * datacontenttype as Content-Type; structured mode: the body is the event
 * as JSON, Content-Type application/cloudevents+json. Without a
 * datacontenttype, text data is text/plain; charset=utf-8 and any other
 * value application/json. BPM_BAD_REQUEST naming the input when an input
 * is missing or malformed; *out is then untouched. */
bpm_rc bpm_cloudevents_request(const json_t *inputs, const bpm_cloudevents_context *ctx, json_t **out,
                               bpm_err *err);

#endif
