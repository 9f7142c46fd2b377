/* libFuzzer target: arbitrary text through the JUEL and FEEL translators
 * (the first byte picks which). Either Lua source or a clean error; never a
 * crash, hang, leak or unbounded recursion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 100000)
        return 0;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    bpm_arena *a = bpm_arena_new();
    const char *lua = NULL;
    bpm_err err = {0};
    if (data[0] == 'f')
        bpm_feel_translate(text, a, &lua, &err);
    else
        bpm_juel_translate(text, a, &lua, &err);
    bpm_arena_free(a);
    free(text);
    return 0;
}
