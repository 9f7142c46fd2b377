/* libFuzzer target: JSON text as a typed variable map. Decoding gives plain
 * values or an error; encoding what was decoded and decoding that again
 * gives the same values (except File content, which the typed form leaves
 * out). Never a crash, a leak or a broken round trip. */
#include <stdint.h>
#include <stdlib.h>

#include "restvars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!in)
        return 0;
    json_t *vars = NULL, *transient = NULL;
    bpm_err err;
    if (bpm_restvars_decode(in, &vars, &transient, &err) == BPM_OK) {
        /* File content does not travel in the typed form */
        const char *name;
        json_t *v;
        void *tmp;
        bpm_restvars_binary bin;
        json_object_foreach_safe(vars, tmp, name, v)
        {
            if (bpm_restvars_binary_get(v, &bin) && bin.is_file)
                json_object_del(vars, name);
        }
        json_t *typed = bpm_restvars_encode(vars), *back = NULL;
        if (bpm_restvars_decode(typed, &back, NULL, &err) != BPM_OK || !json_equal(back, vars))
            abort();
        json_decref(typed);
        json_decref(back);
        json_decref(vars);
        json_decref(transient);
    } else if (json_is_object(in)) {
        /* one variable at a time must fail or succeed the same way */
        const char *name;
        json_t *typed;
        json_object_foreach(in, name, typed)
        {
            json_t *v = NULL;
            if (bpm_restvars_decode_one(name, typed, &v, NULL, &err) == BPM_OK)
                json_decref(v);
        }
    }
    json_decref(in);
    return 0;
}
