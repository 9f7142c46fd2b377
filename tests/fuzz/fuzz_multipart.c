/* libFuzzer target: the first line is a Content-Type value, the rest a
 * multipart body. Boundary lookup and parsing must give parts or an error,
 * never a crash, an over-read, a leak or a part outside the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const bpm_multipart *mp, const char *body, size_t len)
{
    for (size_t i = 0; i < mp->n_parts; i++) {
        const bpm_multipart_part *p = &mp->parts[i];
        if (!p->name || p->data < body || p->len > len || p->data + p->len > body + len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size < 256 ? size : 256);
    char ct[257];
    size_t ctlen = nl ? (size_t)(nl - in) : 0;
    memcpy(ct, in, ctlen);
    ct[ctlen] = '\0';
    size_t off = nl ? ctlen + 1 : 0;
    /* an exact-size copy, so ASan sees any read past the body */
    size_t len = size - off;
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, in + off, len);

    char boundary[BPM_MULTIPART_BOUNDARY_SIZE];
    bpm_err err;
    if (bpm_multipart_boundary(ct, boundary, sizeof boundary, &err) != BPM_OK)
        memcpy(boundary, "b", 2); /* still exercise the body parser */
    bpm_multipart mp;
    if (bpm_multipart_parse(body, len, boundary, 16, &mp, &err) == BPM_OK)
        check(&mp, body, len);
    else if (mp.parts || mp.n_parts)
        abort(); /* an error leaves *out empty */
    bpm_multipart_cleanup(&mp);
    free(body);
    return 0;
}
