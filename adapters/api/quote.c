/* Values shown inside wire error messages: cut to a readable length, with
 * control characters replaced. */
#include "quote.h"

#include <stdlib.h>
#include <string.h>

char *bpm_quote_value(const char *s, size_t n, char *buf, size_t cap)
{
    size_t o = 0, i = 0;
    if (!s)
        n = 0;
    /* leave room for "..." and the NUL */
    for (; i < n && s[i] && o + 4 < cap; i++)
        buf[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (i < n && s[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

char *bpm_quote_str(const char *s, char *buf, size_t cap)
{
    return bpm_quote_value(s, s ? strlen(s) : 0, buf, cap);
}

char *bpm_quote_json(const json_t *v, char *buf, size_t cap)
{
    if (!v)
        return bpm_quote_str("null", buf, cap);
    if (json_is_string(v))
        return bpm_quote_value(json_string_value(v), json_string_length(v), buf, cap);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    bpm_quote_str(text ? text : "?", buf, cap);
    free(text);
    return buf;
}
