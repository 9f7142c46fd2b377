/* JSON (Jansson) <-> Lua 5.4 values, lossless both ways: integers stay integers,
 * [] and {} keep their kind through marker metatables, null is a sentinel. */
#include "scripts.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Registry keys: the addresses of these objects. */
static const char null_key = 'n';
static const char array_key = 'a';
static const char object_key = 'o';

static int null_tostring(lua_State *L)
{
    lua_pushliteral(L, "null");
    return 1;
}

/* A marker metatable: protected, so scripts can neither read nor replace it. */
static void new_marker(lua_State *L, const char *name, const void *key)
{
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void bpm_lua_value_setup(lua_State *L)
{
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "null"); /* "attempt to index a null value" */
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &null_key);
    new_marker(L, "json.array", &array_key);
    new_marker(L, "json.object", &object_key);
}

void bpm_lua_value_push_null(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &null_key);
}

bool bpm_lua_value_is_null(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TUSERDATA)
        return false;
    const void *p = lua_touserdata(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &null_key);
    bool is = lua_touserdata(L, -1) == p;
    lua_pop(L, 1);
    return is;
}

void bpm_lua_value_mark(lua_State *L, int idx, bool array)
{
    idx = lua_absindex(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, array ? &array_key : &object_key);
    lua_setmetatable(L, idx);
}

int bpm_lua_value_marker(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    int m = -1;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_key);
    if (lua_rawequal(L, -1, -2))
        m = 1;
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_key);
    if (lua_rawequal(L, -1, -2))
        m = 2;
    lua_pop(L, 2);
    return m;
}

const char *bpm_lua_value_type_name(lua_State *L, int idx)
{
    if (bpm_lua_value_is_null(L, idx))
        return "null";
    return lua_typename(L, lua_type(L, idx));
}

/* ---- JSON -> Lua ------------------------------------------------------------ */

/* Returns false when too deep; the stack is then restored by the caller. */
static bool push_value(lua_State *L, const json_t *v, int depth)
{
    if (depth > BPM_LUA_VALUE_MAX_DEPTH || !lua_checkstack(L, 4))
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t key_len;
        json_t *item;
        size_t n = json_object_size(v);
        lua_createtable(L, 0, n > INT32_MAX ? INT32_MAX : (int)n);
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            lua_pushlstring(L, key, key_len);
            if (!push_value(L, item, depth + 1))
                return false;
            lua_rawset(L, -3);
        }
        if (n == 0)
            bpm_lua_value_mark(L, -1, false);
        return true;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            if (!push_value(L, json_array_get(v, i), depth + 1))
                return false;
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        bpm_lua_value_mark(L, -1, true);
        return true;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        return true;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        return true;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        return true;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        return true;
    case JSON_NULL:
        bpm_lua_value_push_null(L);
        return true;
    }
    return false;
}

bpm_rc bpm_lua_value_push(lua_State *L, const json_t *v, bpm_err *err)
{
    if (!v) {
        lua_pushnil(L);
        return BPM_OK;
    }
    /* Scalars first: the hot path of conditions. */
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        return BPM_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(v));
        return BPM_OK;
    default:
        break;
    }
    int top = lua_gettop(L);
    if (push_value(L, v, 0))
        return BPM_OK;
    lua_settop(L, top);
    return bpm_err_set(err, BPM_LIMIT, "value is nested more than %d levels deep",
                       BPM_LUA_VALUE_MAX_DEPTH);
}

/* ---- Lua -> JSON ------------------------------------------------------------ */

/* One step of the path to the value being converted, for error messages. Keys
 * point into strings held on the Lua stack while we descend. */
typedef struct path_step {
    const char *key; /* NULL: array index */
    size_t key_len;
    lua_Integer index;
} path_step;

typedef struct conv {
    lua_State *L;
    const void *null_ptr;
    int array_mt; /* stack slots holding the marker metatables */
    int object_mt;
    path_step path[BPM_LUA_VALUE_MAX_DEPTH + 2];
    int depth;
    bpm_err *err;
} conv;

/* "$.a.b[2]"; long paths (cycles) keep their first and last steps. */
static void format_path(const conv *c, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "$");
    for (int i = 0; i < c->depth && used < size; i++) {
        const path_step *p = &c->path[i];
        int n;
        if (c->depth > 12 && i == 6) {
            n = snprintf(buf + used, size - used, "...");
            i = c->depth - 5;
        } else if (p->key) {
            n = snprintf(buf + used, size - used, ".%.*s",
                         (int)(p->key_len > 24 ? 24 : p->key_len), p->key);
        } else {
            n = snprintf(buf + used, size - used, "[%lld]", (long long)p->index);
        }
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static json_t *fail(conv *c, const char *what)
{
    char path[200];
    format_path(c, path, sizeof path);
    bpm_err_set(c->err, BPM_SCRIPT, "value at %s cannot be converted to JSON: %s", path,
                what);
    return NULL;
}

static json_t *to_json(conv *c, int idx);

/* Which marker the table at idx carries: 1 array, 2 object, 0 none. */
static int marker(conv *c, int idx)
{
    lua_State *L = c->L;
    if (!lua_getmetatable(L, idx))
        return 0;
    int m = lua_rawequal(L, -1, c->array_mt) ? 1 : lua_rawequal(L, -1, c->object_mt) ? 2 : 0;
    lua_pop(L, 1);
    return m;
}

static json_t *array_to_json(conv *c, int idx, lua_Integer n)
{
    lua_State *L = c->L;
    json_t *arr = json_array();
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        c->path[c->depth].key = NULL;
        c->path[c->depth].index = i;
        c->depth++;
        json_t *item = lua_isnil(L, -1) ? json_null() : to_json(c, lua_gettop(L));
        c->depth--;
        lua_pop(L, 1);
        if (!item || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            return item ? fail(c, "out of memory") : NULL;
        }
    }
    return arr;
}

/* Scans the keys of the table at idx: *count of entries, *max_int the largest
 * positive integer key, *only_ints whether every key is such an integer. */
static void scan_keys(lua_State *L, int idx, lua_Integer *count, lua_Integer *max_int,
                      bool *only_ints)
{
    *count = 0;
    *max_int = 0;
    *only_ints = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        (*count)++;
        if (lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k >= 1) {
                if (k > *max_int)
                    *max_int = k;
                continue;
            }
        }
        *only_ints = false;
    }
}

static json_t *table_to_json(conv *c, int idx)
{
    lua_State *L = c->L;
    int mark = marker(c, idx);
    lua_Integer count, max_int;
    bool only_ints;
    scan_keys(L, idx, &count, &max_int, &only_ints);

    if (mark == 1) {
        if (!only_ints)
            return fail(c, "an array has a key that is not a positive integer");
        /* Holes become null (a script may have set an item to nil), but a
         * handful of items spread over a huge range is a mistake, not data. */
        if (max_int > 2 * count + 16)
            return fail(c, "the array is too sparse");
        return array_to_json(c, idx, max_int);
    }
    if (mark == 0 && count > 0 && only_ints && max_int == count)
        return array_to_json(c, idx, count);

    json_t *obj = json_object();
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *key;
        size_t key_len;
        char num[32];
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
            key = lua_tolstring(L, -2, &key_len);
        } else if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
            /* Formatted by hand: lua_tolstring would convert the key in
             * place (allocating, and confusing lua_next). */
            int n = snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -2));
            key = num;
            key_len = (size_t)n;
        } else {
            lua_pop(L, 2);
            json_decref(obj);
            char what[80];
            snprintf(what, sizeof what, "a table key is a %s (keys must be strings)",
                     kt == LUA_TNUMBER ? "float" : lua_typename(L, kt));
            return fail(c, what);
        }
        if (memchr(key, '\0', key_len)) {
            /* JSON parsers (Jansson's, PostgreSQL's) refuse them in keys */
            lua_pop(L, 2);
            json_decref(obj);
            return fail(c, "an object key contains a NUL byte");
        }
        c->path[c->depth].key = key;
        c->path[c->depth].key_len = key_len;
        c->depth++;
        json_t *item = to_json(c, lua_gettop(L));
        c->depth--;
        lua_pop(L, 1);
        if (!item) {
            lua_pop(L, 1);
            json_decref(obj);
            return NULL;
        }
        if (json_object_setn_new(obj, key, key_len, item) != 0) {
            lua_pop(L, 1);
            json_decref(obj);
            return fail(c, "an object key is not valid UTF-8");
        }
    }
    return obj;
}

static json_t *to_json(conv *c, int idx)
{
    lua_State *L = c->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        else {
            double d = (double)lua_tonumber(L, idx);
            if (!isfinite(d))
                return fail(c, isnan(d) ? "the number is NaN" : "the number is infinite");
            return json_real(d);
        }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        json_t *j = json_stringn(s, len);
        if (!j)
            return fail(c, "the string is not valid UTF-8 (encode binary data with "
                           "base64.encode)");
        return j;
    }
    case LUA_TTABLE:
        if (c->depth >= BPM_LUA_VALUE_MAX_DEPTH || !lua_checkstack(L, 6)) {
            char what[96];
            snprintf(what, sizeof what,
                     "it is nested more than %d levels deep (or contains a cycle)",
                     BPM_LUA_VALUE_MAX_DEPTH);
            return fail(c, what);
        }
        return table_to_json(c, idx);
    case LUA_TUSERDATA:
        if (lua_touserdata(L, idx) == c->null_ptr)
            return json_null();
        return fail(c, "it is a userdata");
    case LUA_TLIGHTUSERDATA:
        return fail(c, "it is a light userdata");
    case LUA_TFUNCTION:
        return fail(c, "it is a function");
    case LUA_TTHREAD:
        return fail(c, "it is a coroutine");
    }
    return fail(c, "it has an unknown type");
}

bpm_rc bpm_lua_value_to_json(lua_State *L, int idx, json_t **out, bpm_err *err)
{
    idx = lua_absindex(L, idx);
    /* Scalars without touching the registry. */
    json_t *j = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        j = json_null();
        break;
    case LUA_TBOOLEAN:
        j = json_boolean(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            j = json_integer((json_int_t)lua_tointeger(L, idx));
        break;
    default:
        break;
    }
    if (j) {
        *out = j;
        return BPM_OK;
    }
    if (!lua_checkstack(L, 8))
        return bpm_err_set(err, BPM_LIMIT, "Lua stack is exhausted");
    /* conv is large (the path); keep it off small thread stacks. */
    static _Thread_local conv c;
    int top = lua_gettop(L);
    c.L = L;
    c.err = err;
    c.depth = 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &null_key);
    c.null_ptr = lua_touserdata(L, -1);
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_key);
    c.array_mt = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_key);
    c.object_mt = lua_gettop(L);
    j = to_json(&c, idx);
    lua_settop(L, top);
    if (!j)
        return err ? err->rc : BPM_SCRIPT;
    *out = j;
    return BPM_OK;
}
