/* The everyday library scripts get: os.time/date/clock on the step's time, json,
 * ISO 8601 dates and durations, uuid, base64, sha256/hmac, bpmn outcomes and
 * string helpers. No clock, no OS randomness: time and seeds come from the run. */
#include "scripts.h"
#include "timer.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
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
    lua_pushstring(L, h->text);
    holder_release(h); /* now, rather than at the next GC */
    return 1;
}

/* json.decode(text) -> value; raises on invalid JSON */
static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
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
        const char *hit = NULL;
        for (const char *q = p; q + slen <= end; q++)
            if (memcmp(q, sep, slen) == 0) {
                hit = q;
                break;
            }
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
    lua_pop(L, 1);

    lua_getfield(L, env, "math");
    lua_pushcfunction(L, l_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
}
