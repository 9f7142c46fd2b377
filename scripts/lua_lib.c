/* The everyday library scripts get: os.time/date/clock on the step's time, json,
 * ISO 8601 dates and durations, uuid, base64, sha256/hmac, bpmn outcomes and
 * string helpers. No clock, no OS randomness: time and seeds come from the run. */
#include "scripts.h"
#include "timer.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SHA-256 (FIPS 180-4) and HMAC (RFC 2104) --------------------------------- */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t len; /* bytes hashed */
    unsigned char block[64];
    size_t used;
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(sha256_ctx *c, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static void sha256_init(sha256_ctx *c)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->len = 0;
    c->used = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    c->len += len;
    while (len > 0) {
        size_t n = 64 - c->used;
        if (n > len)
            n = len;
        memcpy(c->block + c->used, p, n);
        c->used += n;
        p += n;
        len -= n;
        if (c->used == 64) {
            sha256_block(c, c->block);
            c->used = 0;
        }
    }
}

static void sha256_final(sha256_ctx *c, unsigned char out[32])
{
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80;
    sha256_update(c, &pad, 1);
    pad = 0;
    while (c->used != 56)
        sha256_update(c, &pad, 1);
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(c, lenbuf, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

void bpm_lua_lib_sha256(const void *data, size_t len, unsigned char digest[32])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, digest);
}

void bpm_lua_lib_hmac_sha256(const void *key, size_t key_len, const void *msg,
                             size_t msg_len, unsigned char mac[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    if (key_len > 64)
        bpm_lua_lib_sha256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    sha256_ctx c;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    sha256_init(&c);
    sha256_update(&c, pad, 64);
    sha256_update(&c, msg, msg_len);
    sha256_final(&c, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_init(&c);
    sha256_update(&c, pad, 64);
    sha256_update(&c, inner, 32);
    sha256_final(&c, mac);
}

static void push_digest(lua_State *L, const unsigned char d[32], bool raw)
{
    if (raw) {
        lua_pushlstring(L, (const char *)d, 32);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char buf[64];
    for (int i = 0; i < 32; i++) {
        buf[2 * i] = hex[d[i] >> 4];
        buf[2 * i + 1] = hex[d[i] & 15];
    }
    lua_pushlstring(L, buf, 64);
}

/* crypto.sha256(data [, raw]) -> hex (or 32 raw bytes) */
static int l_sha256(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    bpm_lua_sandbox_charge(L, len / 4 + 1);
    unsigned char d[32];
    bpm_lua_lib_sha256(s, len, d);
    push_digest(L, d, lua_toboolean(L, 2));
    return 1;
}

/* crypto.hmac_sha256(key, data [, raw]) -> hex (or 32 raw bytes) */
static int l_hmac_sha256(lua_State *L)
{
    size_t klen, mlen;
    const char *k = luaL_checklstring(L, 1, &klen);
    const char *m = luaL_checklstring(L, 2, &mlen);
    bpm_lua_sandbox_charge(L, (klen + mlen) / 4 + 1);
    unsigned char d[32];
    bpm_lua_lib_hmac_sha256(k, klen, m, mlen, d);
    push_digest(L, d, lua_toboolean(L, 3));
    return 1;
}

/* ---- base64 (RFC 4648) -------------------------------------------------------- */

/* base64.encode(data [, urlsafe]): urlsafe uses -_ and no padding. */
static int l_b64encode(lua_State *L)
{
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    bool url = lua_toboolean(L, 2);
    bpm_lua_sandbox_charge(L, len / 8 + 1);
    const char *abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        luaL_addchar(&b, abc[v >> 18]);
        luaL_addchar(&b, abc[(v >> 12) & 63]);
        luaL_addchar(&b, abc[(v >> 6) & 63]);
        luaL_addchar(&b, abc[v & 63]);
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        luaL_addchar(&b, abc[v >> 18]);
        luaL_addchar(&b, abc[(v >> 12) & 63]);
        if (i + 1 < len)
            luaL_addchar(&b, abc[(v >> 6) & 63]);
        else if (!url)
            luaL_addchar(&b, '=');
        if (!url)
            luaL_addchar(&b, '=');
    }
    luaL_pushresult(&b);
    return 1;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* base64.decode(text) -> data, or nil and a message. Either alphabet; the
 * padding may be left out. */
static int l_b64decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    bpm_lua_sandbox_charge(L, len / 8 + 1);
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1) {
        luaL_pushfail(L);
        lua_pushliteral(L, "invalid base64: wrong length");
        return 2;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            luaL_pushresult(&b);
            luaL_pushfail(L);
            lua_pushfstring(L, "invalid base64: unexpected character at position %d",
                            (int)i + 1);
            return 2;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            luaL_addchar(&b, (char)((acc >> bits) & 0xff));
        }
    }
    luaL_pushresult(&b);
    return 1;
}

/* ---- uuid --------------------------------------------------------------------- */

/* uuid() -> "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" from the run's PRNG */
static int l_uuid(lua_State *L)
{
    unsigned char u[16];
    uint64_t a = bpm_lua_sandbox_random(L), b = bpm_lua_sandbox_random(L);
    for (int i = 0; i < 8; i++) {
        u[i] = (unsigned char)(a >> (56 - 8 * i));
        u[8 + i] = (unsigned char)(b >> (56 - 8 * i));
    }
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char buf[36];
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[n++] = '-';
        buf[n++] = hex[u[i] >> 4];
        buf[n++] = hex[u[i] & 15];
    }
    lua_pushlstring(L, buf, n);
    return 1;
}

/* ---- math.random on the run's PRNG --------------------------------------------- */

static int l_random(lua_State *L)
{
    uint64_t rv = bpm_lua_sandbox_random(L);
    lua_Integer low, up;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (lua_Number)(rv >> 11) * 0x1.0p-53);
        return 1;
    case 1:
        low = 1;
        up = luaL_checkinteger(L, 1);
        if (up == 0) { /* math.random(0): all bits */
            lua_pushinteger(L, (lua_Integer)rv);
            return 1;
        }
        break;
    case 2:
        low = luaL_checkinteger(L, 1);
        up = luaL_checkinteger(L, 2);
        break;
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    luaL_argcheck(L, low <= up, 1, "interval is empty");
    uint64_t range = (uint64_t)up - (uint64_t)low;
    uint64_t mask = range;
    for (int s = 1; s < 64; s <<= 1)
        mask |= mask >> s;
    while ((rv &= mask) > range) /* rejection keeps it unbiased */
        rv = bpm_lua_sandbox_random(L);
    lua_pushinteger(L, (lua_Integer)((uint64_t)low + rv));
    return 1;
}

static int l_randomseed(lua_State *L)
{
    (void)L; /* seeds come from the run (see bpm_lua_sandbox_random) */
    return 0;
}

/* ---- dates: engine/timer.h does the calendar --------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (any month/day). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t check_ms(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx))
        return (int64_t)lua_tointeger(L, idx);
    lua_Number n = luaL_checknumber(L, idx);
    luaL_argcheck(L, n > -9.2e18 && n < 9.2e18, idx, "time out of range");
    return (int64_t)(n < 0 && (lua_Number)(int64_t)n != n ? n - 1 : n);
}

/* date.parse(text) -> ms since the epoch, or nil and a message */
static int l_date_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    int64_t ms;
    bpm_err err;
    if (bpm_timer_parse_date(s, &ms, &err) != BPM_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

static void push_iso(lua_State *L, int64_t ms)
{
    char buf[BPM_TIMER_ISO_SIZE];
    size_t n = bpm_timer_format_iso(ms, buf, sizeof buf);
    if (n == 0)
        luaL_error(L, "date is outside the years 0001-9999");
    lua_pushlstring(L, buf, n);
}

/* date.format(ms) -> "2024-03-01T08:00:00.000Z" */
static int l_date_format(lua_State *L)
{
    push_iso(L, check_ms(L, 1));
    return 1;
}

static void check_duration(lua_State *L, int idx, bpm_timer_duration *d)
{
    const char *s = luaL_checkstring(L, idx);
    bpm_err err;
    if (bpm_timer_parse_duration(s, d, &err) != BPM_OK)
        luaL_error(L, "%s", err.msg);
}

/* date.add(date, duration): date as ms or ISO text; returns the same kind.
 * Months are calendar steps (Jan 31 + P1M = Feb 28/29), as for timers. */
static int l_date_add(lua_State *L)
{
    bpm_timer_duration dur;
    check_duration(L, 2, &dur);
    int64_t ms, res;
    bpm_err err;
    bool text = lua_type(L, 1) == LUA_TSTRING;
    if (text) {
        if (bpm_timer_parse_date(lua_tostring(L, 1), &ms, &err) != BPM_OK)
            return luaL_error(L, "%s", err.msg);
    } else {
        ms = check_ms(L, 1);
    }
    if (bpm_timer_add(ms, &dur, &res, &err) != BPM_OK)
        return luaL_error(L, "%s", err.msg);
    if (text)
        push_iso(L, res);
    else
        lua_pushinteger(L, (lua_Integer)res);
    return 1;
}

/* date.duration("PT5M") -> 300000 (fixed durations only: no years, months) */
static int l_date_duration(lua_State *L)
{
    bpm_timer_duration dur;
    check_duration(L, 1, &dur);
    if (dur.months)
        return luaL_error(L, "duration \"%s\" has years or months: no fixed length",
                          lua_tostring(L, 1));
    lua_pushinteger(L, (lua_Integer)(dur.days * 86400000 + dur.ms));
    return 1;
}

static int l_date_now(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)bpm_lua_sandbox_now(L));
    return 1;
}

/* ---- os: the step's time, always UTC ------------------------------------------ */

static lua_Integer table_int(lua_State *L, const char *key, lua_Integer def, bool required)
{
    int t = lua_getfield(L, 1, key);
    lua_Integer v = def;
    if (t == LUA_TNIL) {
        if (required)
            luaL_error(L, "field '%s' missing in date table", key);
    } else {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "field '%s' is not an integer", key);
        if (v > 100000000 || v < -100000000)
            luaL_error(L, "field '%s' is out of range", key);
    }
    lua_pop(L, 1);
    return v;
}

/* os.time([t]): without t the step's time in seconds; t is read as UTC. */
static int l_os_time(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, (lua_Integer)floor_div(bpm_lua_sandbox_now(L), 1000));
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer year = table_int(L, "year", 0, true);
    lua_Integer month = table_int(L, "month", 0, true);
    lua_Integer day = table_int(L, "day", 0, true);
    lua_Integer hour = table_int(L, "hour", 12, false);
    lua_Integer min = table_int(L, "min", 0, false);
    lua_Integer sec = table_int(L, "sec", 0, false);
    int64_t m0 = (int64_t)month - 1;
    int64_t y = (int64_t)year + floor_div(m0, 12);
    int64_t m = m0 - floor_div(m0, 12) * 12 + 1;
    int64_t days = days_from_civil(y, m, 1) + day - 1;
    lua_pushinteger(L, (lua_Integer)(((days * 24 + hour) * 60 + min) * 60 + sec));
    return 1;
}

/* os.date([fmt [, t]]): UTC always ("!" implied), t defaults to the step's time. */
static int l_os_date(lua_State *L)
{
    const char *fmt = luaL_optstring(L, 1, "%c");
    lua_Integer t = lua_isnoneornil(L, 2)
                        ? (lua_Integer)floor_div(bpm_lua_sandbox_now(L), 1000)
                        : luaL_checkinteger(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    if (fmt[0] == '!')
        lua_pushstring(L, fmt);
    else
        lua_pushfstring(L, "!%s", fmt);
    lua_pushinteger(L, t);
    lua_call(L, 2, 1);
    return 1;
}

/* ---- json ------------------------------------------------------------------------ */

/* C resources held while Lua may raise (a memory error would longjmp past
 * our free): a userdata whose __gc releases them. */
typedef struct holder {
    json_t *json;
    char *text;
} holder;

static const char holder_key = 'h';

static void holder_release(holder *h)
{
    json_decref(h->json);
    free(h->text);
    h->json = NULL;
    h->text = NULL;
}

static int holder_gc(lua_State *L)
{
    holder_release(lua_touserdata(L, 1));
    return 0;
}

static holder *new_holder(lua_State *L)
{
    holder *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->json = NULL;
    h->text = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &holder_key);
    lua_setmetatable(L, -2);
    return h;
}

/* json.encode(value [, indent]) -> text; keys sorted, so output is stable */
static int l_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_Integer indent = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, indent >= 0 && indent <= 31, 2, "indent must be 0..31");
    holder *h = new_holder(L);
    bpm_err err;
    bpm_err_clear(&err);
    if (bpm_lua_value_to_json(L, 1, &h->json, &err) != BPM_OK)
        return luaL_error(L, "json.encode: %s", err.msg);
    size_t flags = JSON_ENCODE_ANY | JSON_SORT_KEYS |
                   (indent ? JSON_INDENT((size_t)indent) : JSON_COMPACT);
    h->text = json_dumps(h->json, flags);
    if (!h->text)
        return luaL_error(L, "json.encode: out of memory");
    bpm_lua_sandbox_charge(L, strlen(h->text) / 8 + 1);
    lua_pushstring(L, h->text);
    holder_release(h); /* now, rather than at the next GC */
    return 1;
}

/* json.decode(text) -> value; raises on invalid JSON */
static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    /* Jansson's tree lives outside the Lua cap, transiently, and takes up to
     * ~20 times the text (dense arrays of small numbers): bound the text. */
    size_t left = bpm_lua_sandbox_memory_left(L);
    if (left != SIZE_MAX && len > left / 8)
        return luaL_error(L, "json.decode: text of %d bytes is too large for the script's "
                             "memory limit", (int)(len > INT32_MAX ? INT32_MAX : len));
    bpm_lua_sandbox_charge(L, len / 8 + 1);
    lua_settop(L, 1);
    holder *h = new_holder(L);
    json_error_t jerr;
    h->json = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!h->json)
        return luaL_error(L, "json.decode: %s (line %d, column %d)", jerr.text, jerr.line,
                          jerr.column);
    bpm_err err;
    if (bpm_lua_value_push(L, h->json, &err) != BPM_OK)
        return luaL_error(L, "json.decode: %s", err.msg);
    holder_release(h);
    return 1;
}

static int mark(lua_State *L, bool array)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    /* only plain or already-marked tables: never strip a protected metatable */
    if (bpm_lua_value_marker(L, 1) < 0)
        return luaL_error(L, "table already has a metatable");
    bpm_lua_value_mark(L, 1, array);
    return 1;
}

/* json.array([t]) / json.object([t]): mark t (or a new table) so it encodes
 * as an array / object even when empty. Returns the table. */
static int l_json_array(lua_State *L)
{
    return mark(L, true);
}

static int l_json_object(lua_State *L)
{
    return mark(L, false);
}

/* ---- bpmn -------------------------------------------------------------------------- */

/* bpmn.error(code [, message]): ends the script; the engine routes a BPMN error */
static int l_bpmn_error(lua_State *L)
{
    const char *code = luaL_checkstring(L, 1);
    const char *msg = luaL_optstring(L, 2, NULL);
    return bpm_lua_sandbox_raise(L, BPM_EVAL_BPMN_ERROR, code, msg);
}

static int l_bpmn_escalation(lua_State *L)
{
    const char *code = luaL_checkstring(L, 1);
    const char *msg = luaL_optstring(L, 2, NULL);
    return bpm_lua_sandbox_raise(L, BPM_EVAL_ESCALATION, code, msg);
}

/* ---- string helpers ---------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static const char *plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp);

/* s:split([sep]) -> array. sep is plain text; without it, runs of whitespace
 * separate and empty items are dropped. */
static int l_split(lua_State *L)
{
    size_t len, slen = 0;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *sep = luaL_optlstring(L, 2, NULL, &slen);
    luaL_argcheck(L, !sep || slen > 0, 2, "separator is empty");
    lua_newtable(L);
    bpm_lua_value_mark(L, -1, true);
    lua_Integer n = 0;
    const char *p = s, *end = s + len;
    if (!sep) {
        while (p < end) {
            while (p < end && is_space(*p))
                p++;
            const char *start = p;
            while (p < end && !is_space(*p))
                p++;
            if (p > start) {
                lua_pushlstring(L, start, (size_t)(p - start));
                lua_rawseti(L, -2, ++n);
            }
        }
        return 1;
    }
    for (;;) {
        const char *hit = plain_find(L, p, (size_t)(end - p), sep, slen);
        const char *stop = hit ? hit : end;
        lua_pushlstring(L, p, (size_t)(stop - p));
        lua_rawseti(L, -2, ++n);
        if (!hit)
            break;
        p = hit + slen;
    }
    return 1;
}

static int l_trim(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    size_t a = 0, b = len;
    while (a < b && is_space(s[a]))
        a++;
    while (b > a && is_space(s[b - 1]))
        b--;
    lua_pushlstring(L, s + a, b - a);
    return 1;
}

static int l_startswith(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    lua_pushboolean(L, plen <= len && memcmp(s, p, plen) == 0);
    return 1;
}

static int l_endswith(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    lua_pushboolean(L, plen <= len && memcmp(s + len - plen, p, plen) == 0);
    return 1;
}

/* ---- string patterns with a step budget ---------------------------------------------
 * Lua's own find/match/gmatch/gsub run in C, where the count hook never fires:
 * ("a"):rep(3000):find(".-.-.-b") would hold a worker for hours. These are the
 * same functions with Lua 5.4's pattern syntax, billing every step to the run's
 * instruction budget (bpm_lua_sandbox_charge). */

enum { PAT_MAX_CAPTURES = 32, PAT_MAX_DEPTH = 200, PAT_CHARGE_EVERY = 256 };
enum { CAP_UNFINISHED = -1, CAP_POSITION = -2 };

typedef struct matcher {
    lua_State *L;
    const char *src, *src_end;
    const char *pat_end;
    int depth; /* recursion left */
    int level; /* captures opened */
    struct {
        const char *start;
        ptrdiff_t len; /* or CAP_UNFINISHED / CAP_POSITION */
    } cap[PAT_MAX_CAPTURES];
    unsigned steps; /* not billed yet */
} matcher;

static void tick(matcher *m, unsigned n)
{
    m->steps += n;
    if (m->steps >= PAT_CHARGE_EVERY) {
        bpm_lua_sandbox_charge(m->L, m->steps);
        m->steps = 0;
    }
}

static void matcher_reset(matcher *m)
{
    m->level = 0;
    m->depth = PAT_MAX_DEPTH;
}

static void matcher_done(matcher *m)
{
    bpm_lua_sandbox_charge(m->L, m->steps);
    m->steps = 0;
}

static bool class_match(int c, int cl)
{
    bool r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break; /* deprecated, still in Lua 5.4 */
    default: return cl == c; /* %. %% %] ...: the character itself */
    }
    return isupper(cl) ? !r : r;
}

/* p at '[', last at the closing ']' */
static bool set_match(int c, const char *p, const char *last)
{
    bool negate = false;
    p++;
    if (*p == '^') {
        negate = true;
        p++;
    }
    while (p < last) {
        if (*p == '%' && p + 1 < last) {
            if (class_match(c, (unsigned char)p[1]))
                return !negate;
            p += 2;
        } else if (p[1] == '-' && p + 2 < last) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return !negate;
            p += 3;
        } else {
            if ((unsigned char)*p == c)
                return !negate;
            p++;
        }
    }
    return negate;
}

/* End of the single-character class starting at p. */
static const char *class_end(matcher *m, const char *p)
{
    if (*p == '%') {
        if (++p >= m->pat_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (*p == '[') {
        p++;
        if (p < m->pat_end && *p == '^')
            p++;
        /* the first character is part of the set even when it is ']' */
        do {
            if (p >= m->pat_end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            if (*p++ == '%' && p < m->pat_end)
                p++;
        } while (p >= m->pat_end || *p != ']');
        return p + 1;
    }
    return p + 1;
}

static bool single_match(matcher *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->src_end)
        return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return true;
    case '%':
        return class_match(c, (unsigned char)p[1]);
    case '[':
        return set_match(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

static const char *do_match(matcher *m, const char *s, const char *p);

static const char *max_expand(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single_match(m, s + i, p, ep)) {
        i++;
        tick(m, 1);
    }
    for (; i >= 0; i--) { /* longest first */
        const char *r = do_match(m, s + i, ep + 1);
        if (r)
            return r;
        tick(m, 1);
    }
    return NULL;
}

static const char *min_expand(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = do_match(m, s, ep + 1);
        if (r)
            return r;
        if (!single_match(m, s, p, ep))
            return NULL;
        s++;
        tick(m, 1);
    }
}

static const char *start_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= PAT_MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].start = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = do_match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *end_capture(matcher *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_UNFINISHED)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].start;
    const char *r = do_match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_UNFINISHED;
    return r;
}

static const char *match_balance(matcher *m, const char *s, const char *p)
{
    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != p[0])
        return NULL;
    int open = 1;
    while (++s < m->src_end) {
        tick(m, 1);
        if (*s == p[1]) {
            if (--open == 0)
                return s + 1;
        } else if (*s == p[0]) {
            open++;
        }
    }
    return NULL;
}

static const char *match_backref(matcher *m, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    size_t len = (size_t)m->cap[l].len;
    tick(m, (unsigned)(len / 16) + 1);
    if ((size_t)(m->src_end - s) >= len && memcmp(m->cap[l].start, s, len) == 0)
        return s + len;
    return NULL;
}

/* End of the match of pattern p at s, or NULL. */
static const char *do_match(matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    while (p < m->pat_end) {
        tick(m, 1);
        if (*p == '(') {
            if (p + 1 < m->pat_end && p[1] == ')')
                s = start_capture(m, s, p + 2, CAP_POSITION);
            else
                s = start_capture(m, s, p + 1, CAP_UNFINISHED);
            goto done;
        }
        if (*p == ')') {
            s = end_capture(m, s, p + 1);
            goto done;
        }
        if (*p == '$' && p + 1 == m->pat_end) {
            if (s != m->src_end)
                s = NULL;
            goto done;
        }
        if (*p == '%' && p + 1 < m->pat_end) {
            if (p[1] == 'b') {
                s = match_balance(m, s, p + 2);
                if (!s)
                    goto done;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (p >= m->pat_end || *p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *ep = class_end(m, p);
                int prev = s == m->src ? 0 : (unsigned char)s[-1];
                int cur = s < m->src_end ? (unsigned char)*s : 0;
                if (set_match(prev, p, ep - 1) || !set_match(cur, p, ep - 1)) {
                    s = NULL;
                    goto done;
                }
                p = ep;
                continue;
            }
            if (isdigit((unsigned char)p[1])) {
                s = match_backref(m, s, (unsigned char)p[1]);
                if (!s)
                    goto done;
                p += 2;
                continue;
            }
        }
        const char *ep = class_end(m, p);
        char q = ep < m->pat_end ? *ep : '\0';
        if (q == '?') {
            if (single_match(m, s, p, ep)) {
                const char *r = do_match(m, s + 1, ep + 1);
                if (r) {
                    s = r;
                    goto done;
                }
            }
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            s = single_match(m, s, p, ep) ? max_expand(m, s + 1, p, ep) : NULL;
            goto done;
        }
        if (q == '*') {
            s = max_expand(m, s, p, ep);
            goto done;
        }
        if (q == '-') {
            s = min_expand(m, s, p, ep);
            goto done;
        }
        if (!single_match(m, s, p, ep)) {
            s = NULL;
            goto done;
        }
        s++;
        p = ep;
    }
done:
    m->depth++;
    return s;
}

static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s)); /* the whole match */
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_UNFINISHED)
        luaL_error(m->L, "unfinished capture");
    if (len == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].start - m->src) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].start, (size_t)len);
}

/* Pushes the captures (the whole match when there are none and s is set). */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = m->level == 0 && s ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

static bool has_specials(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (strchr("^$*+?.([%-", p[i]) && p[i] != '\0')
            return true;
    return false;
}

/* Plain search, billed per byte compared (a naive search can be n*m). */
static const char *plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0)
        return s;
    if (lp > ls)
        return NULL;
    const char *end = s + ls - lp + 1;
    uint64_t bill = 0;
    for (const char *q = s; q < end;) {
        const char *hit = memchr(q, *p, (size_t)(end - q));
        if (!hit)
            break;
        bill += (uint64_t)(hit - q) / 64 + lp / 16 + 1;
        if (bill >= PAT_CHARGE_EVERY) {
            bpm_lua_sandbox_charge(L, bill);
            bill = 0;
        }
        if (memcmp(hit + 1, p + 1, lp - 1) == 0) {
            bpm_lua_sandbox_charge(L, bill);
            return hit;
        }
        q = hit + 1;
    }
    bpm_lua_sandbox_charge(L, bill);
    return NULL;
}

/* Lua 5.4's reading of an init position: negative counts from the end. */
static size_t start_index(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *hit = plain_find(L, s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    matcher m = {.L = L, .src = s, .src_end = s + ls, .pat_end = p + lp};
    bool anchor = lp > 0 && *p == '^';
    if (anchor)
        p++;
    const char *s1 = s + init;
    do {
        matcher_reset(&m);
        const char *e = do_match(&m, s1, p);
        if (e) {
            matcher_done(&m);
            if (!find)
                return push_captures(&m, s1, e);
            lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
            lua_pushinteger(L, (lua_Integer)(e - s));
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (s1++ < m.src_end && !anchor);
    matcher_done(&m);
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int l_match(lua_State *L)
{
    return find_or_match(L, false);
}

/* gmatch state: offsets into the subject (upvalue 1), pattern upvalue 2. */
typedef struct gmatch_state {
    size_t pos;
    size_t last_end; /* end of the last match, or SIZE_MAX */
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher m = {.L = L, .src = s, .src_end = s + ls, .pat_end = p + lp};
    for (const char *src = s + g->pos; src <= m.src_end; src++) {
        matcher_reset(&m);
        const char *e = do_match(&m, src, p);
        if (e && (size_t)(e - s) != g->last_end) {
            g->pos = g->last_end = (size_t)(e - s);
            matcher_done(&m);
            return push_captures(&m, src, e);
        }
    }
    matcher_done(&m);
    g->pos = ls + 1;
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_index(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init > ls ? ls + 1 : init;
    g->last_end = SIZE_MAX;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

static void add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int how)
{
    lua_State *L = m->L;
    if (how == LUA_TSTRING || how == LUA_TNUMBER) {
        size_t lr;
        const char *r = lua_tolstring(L, 3, &lr);
        for (size_t i = 0; i < lr; i++) {
            if (r[i] != '%') {
                luaL_addchar(b, r[i]);
                continue;
            }
            i++;
            if (i < lr && r[i] == '%') {
                luaL_addchar(b, '%');
            } else if (i < lr && isdigit((unsigned char)r[i])) {
                if (r[i] == '0')
                    luaL_addlstring(b, s, (size_t)(e - s));
                else {
                    push_capture(m, r[i] - '1', s, e);
                    luaL_tolstring(L, -1, NULL);
                    lua_remove(L, -2);
                    luaL_addvalue(b);
                }
            } else {
                luaL_error(L, "invalid use of '%%' in replacement string");
            }
        }
        tick(m, (unsigned)(lr / 16) + 1);
        return;
    }
    if (how == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else { /* table */
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int how = lua_type(L, 3);
    luaL_argexpected(L,
                     how == LUA_TNUMBER || how == LUA_TSTRING || how == LUA_TFUNCTION ||
                         how == LUA_TTABLE,
                     3, "string/function/table");
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    matcher m = {.L = L, .src = s, .src_end = s + ls, .pat_end = p + lp};
    bool anchor = lp > 0 && *p == '^';
    if (anchor)
        p++;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *src = s, *last = NULL;
    lua_Integer n = 0;
    while (n < max_n) {
        matcher_reset(&m);
        const char *e = do_match(&m, src, p);
        if (e && e != last) {
            n++;
            add_replacement(&m, &b, src, e, how);
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    matcher_done(&m);
    luaL_addlstring(&b, src, (size_t)(m.src_end - src));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

/* ---- opening --------------------------------------------------------------------- */

static void new_lib(lua_State *L, int env, const char *name, const luaL_Reg *fns)
{
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, env, name);
}

void bpm_lua_lib_open(lua_State *L, int env)
{
    env = lua_absindex(L, env);

    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, holder_gc);
    lua_setfield(L, -2, "__gc");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &holder_key);

    /* os: only time, date and clock */
    luaL_requiref(L, "os", luaopen_os, 0);
    int realos = lua_gettop(L);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, l_os_time);
    lua_setfield(L, -2, "time");
    lua_getfield(L, realos, "date");
    lua_pushcclosure(L, l_os_date, 1);
    lua_setfield(L, -2, "date");
    lua_getfield(L, realos, "clock");
    lua_setfield(L, -2, "clock");
    lua_setfield(L, env, "os");
    lua_pop(L, 1);

    static const luaL_Reg json_fns[] = {
        {"encode", l_json_encode}, {"decode", l_json_decode}, {"array", l_json_array},
        {"object", l_json_object}, {NULL, NULL},
    };
    new_lib(L, env, "json", json_fns);
    lua_getfield(L, env, "json");
    bpm_lua_value_push_null(L);
    lua_setfield(L, -2, "null");
    lua_pop(L, 1);

    static const luaL_Reg date_fns[] = {
        {"parse", l_date_parse}, {"format", l_date_format},     {"add", l_date_add},
        {"now", l_date_now},     {"duration", l_date_duration}, {NULL, NULL},
    };
    new_lib(L, env, "date", date_fns);

    static const luaL_Reg b64_fns[] = {
        {"encode", l_b64encode}, {"decode", l_b64decode}, {NULL, NULL}};
    new_lib(L, env, "base64", b64_fns);

    static const luaL_Reg crypto_fns[] = {
        {"sha256", l_sha256}, {"hmac_sha256", l_hmac_sha256}, {NULL, NULL}};
    new_lib(L, env, "crypto", crypto_fns);

    static const luaL_Reg bpmn_fns[] = {
        {"error", l_bpmn_error}, {"escalation", l_bpmn_escalation}, {NULL, NULL}};
    new_lib(L, env, "bpmn", bpmn_fns);

    lua_pushcfunction(L, l_uuid);
    lua_setfield(L, env, "uuid");

    /* into the real string table, so ("a,b"):split(",") works too */
    static const luaL_Reg str_fns[] = {
        {"split", l_split},           {"trim", l_trim},         {"startswith", l_startswith},
        {"endswith", l_endswith},     {NULL, NULL},
    };
    lua_getfield(L, env, "string");
    luaL_setfuncs(L, str_fns, 0);
    static const luaL_Reg pattern_fns[] = {
        {"find", l_find}, {"match", l_match}, {"gmatch", l_gmatch}, {"gsub", l_gsub},
        {NULL, NULL},
    };
    luaL_setfuncs(L, pattern_fns, 0);
    lua_pop(L, 1);

    lua_getfield(L, env, "math");
    lua_pushcfunction(L, l_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}
