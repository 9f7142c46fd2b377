/* bpm_eval_ops on the Lua sandbox: compile dispatches on the dialect, checks
 * the Lua at deploy time and stores an immutable handle in the model arena;
 * run finds the chunk in the per-state cache (loading it once) and runs it. */
#include "scripts.h"

#include <lauxlib.h>
#include <lua.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("dialect.h")
#include "dialect.h"
#define HAVE_DIALECT 1
#endif
#endif
#ifndef HAVE_DIALECT
#define HAVE_DIALECT 0
#endif

typedef enum handle_kind {
    HANDLE_LUA = 1, /* Lua source: run it */
    HANDLE_BOOL,    /* a literal condition */
    HANDLE_STRING,  /* a literal value */
} handle_kind;

/* What compile() leaves in the model arena. Immutable, so shared by threads. */
typedef struct handle {
    uint64_t id; /* unique in the process: the chunk cache key (an address
                  * could be reused by a later model after this one is freed) */
    handle_kind kind;
    bpm_eval_use use;
    bool bool_value;
    const char *text; /* Lua source, or the literal */
    size_t len;
    const char *chunkname;
} handle;

struct bpm_scripts {
    bpm_lua_sandbox *sb;
    int cache_ref; /* registry: handle id -> function */
    size_t cached;
    size_t max_cached;
    uint64_t loads;
    uint64_t runs;
};

static atomic_uint_fast64_t next_handle_id = 1;

static bpm_rc ops_compile(void *self, const bpm_expr *expr, bpm_eval_use use,
                          bpm_arena *model_arena, const void **out, bpm_err *err)
{
    return bpm_scripts_compile(self, expr, use, model_arena, out, err);
}

static bpm_rc ops_run(void *self, const void *compiled, const bpm_eval_call *call,
                      const bpm_vars *vars, bpm_arena *step, bpm_eval_result *out,
                      bpm_err *err)
{
    return bpm_scripts_run(self, compiled, call, vars, step, out, err);
}

const bpm_eval_ops bpm_lua_eval_ops = {.compile = ops_compile, .run = ops_run};

bpm_scripts *bpm_scripts_new(const bpm_scripts_config *cfg, bpm_err *err)
{
    bpm_lua_sandbox *sb = bpm_lua_sandbox_new(cfg, err);
    if (!sb)
        return NULL;
    bpm_scripts *s = bpm_xcalloc(1, sizeof *s);
    s->sb = sb;
    s->max_cached = cfg && cfg->max_cached_chunks ? cfg->max_cached_chunks
                                                  : BPM_SCRIPTS_DEFAULT_CACHE;
    lua_State *L = bpm_lua_sandbox_state(sb);
    lua_newtable(L);
    s->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return s;
}

void bpm_scripts_free(bpm_scripts *s)
{
    if (!s)
        return;
    bpm_lua_sandbox_free(s->sb);
    free(s);
}

bpm_evaluator bpm_scripts_evaluator(bpm_scripts *s)
{
    return (bpm_evaluator){.ops = &bpm_lua_eval_ops, .self = s};
}

void bpm_scripts_stats_get(const bpm_scripts *s, bpm_scripts_stats *out)
{
    out->memory_used = bpm_lua_sandbox_memory(s->sb);
    out->cached_chunks = s->cached;
    out->chunk_loads = s->loads;
    out->runs = s->runs;
}

/* ---- the chunk cache ----------------------------------------------------------- */

/* Stores the function on top of the stack under id (leaves it there). When
 * the cache is full it starts over: models come and go, ids never repeat. */
static void cache_put(bpm_scripts *s, uint64_t id)
{
    lua_State *L = bpm_lua_sandbox_state(s->sb);
    if (s->cached >= s->max_cached) {
        luaL_unref(L, LUA_REGISTRYINDEX, s->cache_ref);
        lua_newtable(L);
        s->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        s->cached = 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->cache_ref);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, (lua_Integer)id);
    lua_pop(L, 1);
    s->cached++;
}

static bpm_rc load_chunk(bpm_scripts *s, const char *text, size_t len, const char *chunkname,
                         int *err_line, bpm_err *err)
{
    s->loads++;
    return bpm_lua_sandbox_load(s->sb, text, len, chunkname, err_line, err);
}

/* Whether Lua text reads as statements rather than an expression: it starts
 * with a statement keyword or assigns (an '=' that is not ==, ~=, <=, >=).
 * Only decides which of two syntax errors to show, so rough is fine. */
static bool looks_like_statements(const char *text)
{
    static const char *const keywords[] = {"local", "if",     "for",  "while", "return",
                                           "do",    "repeat", "goto", "function"};
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
        size_t n = strlen(keywords[i]);
        if (strncmp(p, keywords[i], n) == 0 && !(isalnum((unsigned char)p[n]) || p[n] == '_'))
            return true;
    }
    for (; *p; p++)
        if (*p == '=' && p[1] != '=' && (p == text || !strchr("=~<>", p[-1])))
            return true;
    return false;
}

static int count_lines(const char *text)
{
    int n = 1;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ---- compile -------------------------------------------------------------------- */

static const char *chunkname_for(bpm_eval_use use)
{
    switch (use) {
    case BPM_USE_CONDITION:
        return "=condition";
    case BPM_USE_VALUE:
        return "=expression";
    case BPM_USE_SCRIPT:
        break;
    }
    return "=script";
}

static bool literal_bool(const char *text, bool *value)
{
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n == 4 && strncmp(p, "true", 4) == 0)
        *value = true;
    else if (n == 5 && strncmp(p, "false", 5) == 0)
        *value = false;
    else
        return false;
    return true;
}

bpm_rc bpm_scripts_compile(bpm_scripts *s, const bpm_expr *expr, bpm_eval_use use,
                           bpm_arena *a, const void **out, bpm_err *err)
{
    if (!expr || !expr->text)
        return bpm_err_set(err, BPM_INVALID, "expression is missing");
    lua_State *L = bpm_lua_sandbox_state(s->sb);
    handle h = {.use = use, .chunkname = chunkname_for(use)};
    const char *lua_text = NULL;
    bool loaded = false; /* the function is already on the stack */

    switch (expr->dialect) {
    case BPM_DIALECT_NONE:
    case BPM_DIALECT_LITERAL:
        if (use == BPM_USE_CONDITION) {
            if (!literal_bool(expr->text, &h.bool_value))
                return bpm_err_set(err, BPM_INVALID,
                                   "condition \"%.80s\" is plain text; a literal condition "
                                   "must be true or false",
                                   expr->text);
            h.kind = HANDLE_BOOL;
        } else {
            h.kind = HANDLE_STRING;
            h.text = bpm_arena_strdup(a, expr->text);
            h.len = strlen(h.text);
        }
        break;

    case BPM_DIALECT_LUA:
        h.kind = HANDLE_LUA;
        if (use != BPM_USE_SCRIPT) {
            /* An expression if it parses as one; the newline keeps a trailing
             * `-- comment` from eating the parenthesis, and line numbers stay. */
            const char *wrapped = bpm_arena_sprintf(a, "return (%s\n)", expr->text);
            bpm_err expr_err;
            int expr_line = 0;
            if (load_chunk(s, wrapped, strlen(wrapped), h.chunkname, &expr_line, &expr_err) ==
                BPM_OK) {
                lua_text = wrapped;
                loaded = true;
                break;
            }
            if (load_chunk(s, expr->text, strlen(expr->text), h.chunkname, NULL, err) ==
                BPM_OK) {
                lua_text = bpm_arena_strdup(a, expr->text);
                loaded = true;
                break;
            }
            if (looks_like_statements(expr->text))
                return BPM_INVALID; /* the chunk's error is in err */
            int last = count_lines(expr->text);
            if (expr_line > last) /* the parser hit our closing parenthesis */
                return bpm_err_set(err, BPM_INVALID, "syntax error: incomplete expression (line %d)",
                                   last);
            if (err)
                *err = expr_err;
            return BPM_INVALID;
        }
        lua_text = bpm_arena_strdup(a, expr->text);
        break;

    case BPM_DIALECT_JUEL:
    case BPM_DIALECT_FEEL: {
        const char *kind = expr->dialect == BPM_DIALECT_JUEL ? "JUEL" : "FEEL";
#if HAVE_DIALECT
        bpm_rc rc = expr->dialect == BPM_DIALECT_JUEL
                        ? bpm_juel_translate(expr->text, a, &lua_text, err)
                        : bpm_feel_translate(expr->text, a, &lua_text, err);
        if (rc != BPM_OK)
            return rc;
        h.kind = HANDLE_LUA;
        /* A translation that does not parse is our bug; say so plainly. */
        if (load_chunk(s, lua_text, strlen(lua_text), h.chunkname, NULL, err) != BPM_OK) {
            bpm_err_set(err, BPM_INVALID, "could not compile %s expression \"%.80s\"", kind,
                        expr->text);
            bpm_err_detail(err, "translated to Lua: %.400s", lua_text);
            return BPM_INVALID;
        }
        loaded = true;
        break;
#else
        return bpm_err_set(err, BPM_INVALID, "%s expressions are not supported by this build",
                           kind);
#endif
    }

    case BPM_DIALECT_OTHER:
    default:
        return bpm_err_set(err, BPM_INVALID, "script language \"%s\" is not supported; use lua",
                           expr->language ? expr->language : "(unknown)");
    }

    if (h.kind == HANDLE_LUA) {
        h.text = lua_text;
        h.len = strlen(lua_text);
        if (!loaded) {
            bpm_rc rc = load_chunk(s, h.text, h.len, h.chunkname, NULL, err);
            if (rc != BPM_OK)
                return rc;
        }
        h.id = (uint64_t)atomic_fetch_add(&next_handle_id, 1);
        cache_put(s, h.id); /* this thread will not parse it again */
        lua_pop(L, 1);
    }
    handle *out_h = bpm_arena_alloc(a, sizeof *out_h);
    *out_h = h;
    *out = out_h;
    return BPM_OK;
}

/* ---- run ------------------------------------------------------------------------- */

static bpm_rc condition_result(lua_State *L, bpm_eval_result *res, bpm_err *err)
{
    if (lua_type(L, -1) == LUA_TBOOLEAN) {
        res->value = json_boolean(lua_toboolean(L, -1));
        return BPM_OK;
    }
    const char *type = bpm_lua_value_type_name(L, -1);
    if (strcmp(type, "nil") == 0 || strcmp(type, "null") == 0)
        return bpm_err_set(err, BPM_SCRIPT, "condition returned %s, expected a boolean", type);
    return bpm_err_set(err, BPM_SCRIPT, "condition returned a %s, expected a boolean", type);
}

bpm_rc bpm_scripts_run(bpm_scripts *s, const void *compiled, const bpm_eval_call *call,
                       const bpm_vars *vars, bpm_arena *step, bpm_eval_result *out,
                       bpm_err *err)
{
    const handle *h = compiled;
    BPM_ASSERT(h && step);
    if (h->kind == HANDLE_BOOL || h->kind == HANDLE_STRING) {
        out->outcome = BPM_EVAL_VALUE;
        out->code = NULL;
        out->message = NULL;
        out->value = h->kind == HANDLE_BOOL ? json_boolean(h->bool_value)
                                            : json_stringn(h->text, h->len);
        return BPM_OK;
    }

    lua_State *L = bpm_lua_sandbox_state(s->sb);
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->cache_ref);
    if (lua_rawgeti(L, -1, (lua_Integer)h->id) == LUA_TFUNCTION) {
        lua_remove(L, -2);
    } else {
        lua_settop(L, top);
        /* compiled by another evaluator (or evicted): parse once here */
        bpm_rc rc = load_chunk(s, h->text, h->len, h->chunkname, NULL, err);
        if (rc != BPM_OK)
            return rc;
        cache_put(s, h->id);
    }

    s->runs++;
    bpm_lua_run run = {
        .call = call, .vars = vars, .step = step, .use = h->use, .chunkname = h->chunkname};
    bpm_eval_result res = {.outcome = BPM_EVAL_VALUE};
    bpm_rc rc = bpm_lua_sandbox_run(s->sb, &run, &res, err);
    if (rc == BPM_OK) {
        if (res.outcome == BPM_EVAL_VALUE) {
            if (h->use == BPM_USE_CONDITION)
                rc = condition_result(L, &res, err);
            else if (!lua_isnil(L, -1))
                rc = bpm_lua_value_to_json(L, -1, &res.value, err);
            if (rc == BPM_SCRIPT && h->use != BPM_USE_CONDITION)
                bpm_err_where(err, "the script's result");
        }
        if (rc == BPM_OK && h->use == BPM_USE_SCRIPT)
            rc = bpm_lua_sandbox_writeback(s->sb, err);
        if (rc != BPM_OK)
            json_decref(res.value);
    }
    bpm_lua_sandbox_finish(s->sb);
    lua_settop(L, top);
    if (rc == BPM_OK)
        *out = res;
    return rc;
}
