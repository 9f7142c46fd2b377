/* libFuzzer target: the webhook request reader. The first byte picks the
 * endpoint kind (json, github, cloudevents); then "name: value" header lines
 * up to an empty line; the rest is the body. Reading must give an event or a
 * 400/415 with a message, never a crash, an over-read or a leak; a read
 * event must go through the default mapping, and the header
 * x-hub-signature-256 through the HMAC check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inbound.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bpm_webhook_endpoint ep = {.name = "fuzz", .kind = (bpm_webhook_kind)(data[0] % 3)};
    if (data[0] & 0x80)
        ep.process = "p"; /* the default mapping's other branch */
    const char *in = (const char *)data + 1;
    size_t n = size - 1, off = 0;
    json_t *headers = json_object();
    while (off < n) {
        const char *nl = memchr(in + off, '\n', n - off);
        size_t ll = nl ? (size_t)(nl - (in + off)) : n - off;
        if (ll == 0) {
            off++;
            break;
        }
        const char *colon = memchr(in + off, ':', ll);
        if (colon && colon > in + off && ll < 4096) {
            char name[4096], value[4096];
            size_t nn = (size_t)(colon - (in + off)), vn = ll - nn - 1;
            memcpy(name, in + off, nn);
            name[nn] = '\0';
            for (char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            const char *v = colon + 1;
            while (vn && *v == ' ')
                v++, vn--;
            memcpy(value, v, vn);
            value[vn] = '\0';
            json_t *js = json_string(value); /* NULL unless UTF-8: the server drops such headers too */
            if (js && !json_object_get(headers, name) && strlen(name) == nn)
                json_object_set_new(headers, name, js);
            else
                json_decref(js);
        }
        off += ll + (nl ? 1 : 0);
    }
    size_t len = n - off;
    char *body = malloc(len ? len : 1); /* exact size: ASan sees any read past the body */
    if (!body) {
        json_decref(headers);
        return 0;
    }
    memcpy(body, in + off, len);
    bpm_arena *a = bpm_arena_new();
    bpm_webhook_request wr;
    bpm_err err = {0};
    int st = bpm_webhook_read(&ep, headers, body, len, a, &wr, &err);
    if (st != 0 && st != 400 && st != 415)
        abort();
    if (st && !err.msg[0])
        abort(); /* every refusal says why */
    if (!st) {
        if (ep.kind == BPM_WEBHOOK_CLOUDEVENTS && (!wr.ev.id || !wr.ev.source || !wr.ev.type))
            abort(); /* the required attributes were checked */
        bpm_inbound_action act;
        if (bpm_webhook_default(&ep, &wr.ev, a, &act, &err) != BPM_OK)
            abort();
        json_t *copy = act.variables ? json_deep_copy(act.variables) : NULL;
        json_decref(copy);
    }
    const char *sig = json_string_value(json_object_get(headers, "x-hub-signature-256"));
    if (bpm_inbound_hmac_check("secret", 6, body, len, sig) && len == 0 && !sig)
        abort();
    bpm_arena_free(a);
    free(body);
    json_decref(headers);
    return 0;
}
