/* The Lua sandbox: state creation, the read-only base environment with a fresh
 * per-run _ENV, the `vars` proxy and `execution`, and the budgets (count hook,
 * capped allocator). Errors leave Lua only through lua_pcall here. */
#include "scripts.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include("dialect.h")
#include "dialect.h"
#define HAVE_DIALECT 1
#endif
#endif
#ifndef HAVE_DIALECT
#define HAVE_DIALECT 0
#endif

enum { HOOK_STEP = 1000 }; /* instructions between two budget checks */
enum { ENV_REPLACE_AFTER = 64 }; /* a run env with more globals is replaced */

typedef enum abort_kind {
    ABORT_NONE = 0,
    ABORT_INSTRUCTIONS,
    ABORT_MEMORY,
    ABORT_OUTCOME, /* bpmn.error / bpmn.escalation */
} abort_kind;

struct bpm_lua_sandbox {
    lua_State *L;
    size_t mem_used;
    size_t mem_limit; /* SIZE_MAX outside runs */
    uint64_t default_instructions;
    size_t default_memory;
    int64_t wall_ms;
    int env_ref;      /* the per-run _ENV, cleared after each run */
    int varcache_ref; /* name -> table value read or set in this run */
    int frozen_ref;   /* set of read-only proxies (rawset refuses them) */

    /* the current run */
    bool in_run;
    bpm_lua_run run;
    uint64_t budget;
    uint64_t instructions;
    int hook_step;
    int64_t started_ms; /* monotonic; 0 until the first hook call */
    bool timed_out;
    size_t mem_cap;
    abort_kind abort;
    int abort_line;
    bool varcache_used;
    bpm_eval_outcome outcome;
    const char *code;
    const char *message;
    bool seeded;
    uint64_t prng[4];
    int err_line;
    char traceback[512];
};

static const char outcome_key = 'x'; /* error object of bpmn.error */

static bpm_lua_sandbox *SB(lua_State *L)
{
    return *(bpm_lua_sandbox **)lua_getextraspace(L);
}

/* ---- allocator and panic ----------------------------------------------------- */

static int script_line(lua_State *L, const bpm_lua_sandbox *sb, int level);
static void arm_abort(lua_State *L);

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    bpm_lua_sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && sb->mem_used - old + nsize > sb->mem_limit) {
        /* The run's cap: Lua collects garbage, retries, then raises a memory
         * error. Record the line now: no message handler runs for those. */
        if (sb->in_run && sb->abort == ABORT_NONE) {
            sb->abort = ABORT_MEMORY;
            sb->abort_line = script_line(sb->L, sb, 0);
            arm_abort(sb->L); /* lua_sethook is safe anywhere */
        }
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return nsize <= old ? ptr : NULL; /* Lua assumes shrinking never fails */
    sb->mem_used = sb->mem_used - old + nsize;
    if (sb->in_run && nsize > old) {
        /* Bill the bytes: s = big .. "x" is one instruction but O(n) work. */
        sb->instructions += (nsize - old) >> 6;
        if (sb->instructions >= sb->budget && sb->abort == ABORT_NONE) {
            sb->abort = ABORT_INSTRUCTIONS;
            sb->abort_line = script_line(sb->L, sb, 0);
            arm_abort(sb->L); /* fails at the next instruction */
        }
    }
    return p;
}

static int sb_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "bpmnd: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    abort();
}

/* ---- where the script is --------------------------------------------------- */

/* Line in the run's own chunk, searching outward from `level`; else the first
 * Lua frame's line; 0 when there is none. Reads the stack only (no allocation),
 * so the allocator may call it. */
static int script_line(lua_State *L, const bpm_lua_sandbox *sb, int level)
{
    lua_Debug ar;
    int first = 0;
    const char *want = sb->run.chunkname;
    for (int depth = 0; depth < 200 && lua_getstack(L, level, &ar); level++, depth++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        if (want && ar.source && strcmp(ar.source, want) == 0)
            return ar.currentline;
        if (!first)
            first = ar.currentline;
    }
    return first;
}

/* ---- budgets ------------------------------------------------------------------
 * Once a run is aborting (budget, memory cap, bpmn.error) nothing may catch it:
 * the pcall/xpcall/resume/load wrappers re-raise, refuse to start anything new,
 * and every thread that runs code fails at its next instruction. */

static void count_hook(lua_State *L, lua_Debug *ar);

/* The wall-clock backstop only: budgets never depend on it. */
static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every instruction of L and of the main thread fails from now on. */
static void arm_abort(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    if (L != sb->L)
        lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, 1);
}

static int refuse_if_aborting(lua_State *L)
{
    if (SB(L)->abort != ABORT_NONE)
        return luaL_error(L, "script run is being aborted");
    return 0;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    bpm_lua_sandbox *sb = SB(L);
    if (!sb->in_run)
        return;
    if (sb->abort != ABORT_NONE) {
        arm_abort(L);
        luaL_error(L, "script run is being aborted");
        return;
    }
    sb->instructions += (uint64_t)sb->hook_step;
    int64_t now = monotonic_ms();
    if (sb->started_ms == 0)
        sb->started_ms = now; /* short runs never read the clock */
    else if (now - sb->started_ms > sb->wall_ms)
        sb->timed_out = true;
    if (sb->instructions < sb->budget && !sb->timed_out)
        return;
    sb->abort = ABORT_INSTRUCTIONS;
    sb->abort_line = script_line(L, sb, 0);
    arm_abort(L);
    /* Lua runs code reached from this error (xpcall handlers, __close) with
     * hooks off: the wrappers below make sure none of it is script code. */
    luaL_error(L, "script exceeded its instruction budget of %llu",
               (unsigned long long)sb->budget);
}

/* Message handler of the run's pcall: note the line and the traceback while
 * the stack is still there. Memory errors do not come here. */
static int msgh(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    size_t saved = sb->mem_limit;
    sb->mem_limit = SIZE_MAX; /* the traceback must not fail on the cap */
    if (!sb->err_line)
        sb->err_line = script_line(L, sb, 1);
    if (sb->abort != ABORT_OUTCOME) {
        luaL_traceback(L, L, NULL, 1);
        size_t len;
        const char *tb = lua_tolstring(L, -1, &len);
        if (tb) {
            if (len >= sizeof sb->traceback)
                len = sizeof sb->traceback - 1;
            memcpy(sb->traceback, tb, len);
            sb->traceback[len] = '\0';
        }
        lua_pop(L, 1);
    }
    sb->mem_limit = saved;
    lua_settop(L, 1);
    return 1;
}

/* ---- wrapped base functions -------------------------------------------------- */

/* pcall/xpcall continuation: budgets and bpmn.error cannot be caught. */
static int finish_pcall(lua_State *L, int status, lua_KContext extra)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        if (SB(L)->abort != ABORT_NONE)
            return lua_error(L);
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

static int sb_pcall(lua_State *L)
{
    refuse_if_aborting(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
    return finish_pcall(L, status, 0);
}

/* An xpcall message handler, run only when the run is not aborting: after a
 * budget error Lua calls handlers with hooks disabled. */
static int guarded_handler(lua_State *L)
{
    if (SB(L)->abort != ABORT_NONE)
        return 1; /* the error object, unchanged */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sb_xpcall(lua_State *L)
{
    refuse_if_aborting(L);
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* handler, true, f, args... */
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
    return finish_pcall(L, status, 2);
}

/* load(chunk [, name [, mode [, env]]]): text only, env defaults to the run's. */
static int sb_load(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    refuse_if_aborting(L);
    int n = lua_gettop(L);
    lua_settop(L, 4); /* absent arguments become nil */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (n >= 4)
        lua_pushvalue(L, 4);
    else
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
    lua_call(L, 4, 2);
    if (!lua_isnil(L, -2)) {
        lua_pop(L, 1);
        return 1;
    }
    if (sb->abort != ABORT_NONE)
        return lua_error(L); /* the budget ran out inside a reader function */
    return 2;
}

static bool is_frozen(lua_State *L, int idx)
{
    bpm_lua_sandbox *sb = SB(L);
    idx = lua_absindex(L, idx);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->frozen_ref);
    lua_pushvalue(L, idx);
    bool frozen = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return frozen;
}

static int sb_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_frozen(L, 1))
        return luaL_error(L, "attempt to modify a read-only table");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sb_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        /* A finalizer would run at some later GC, outside any budget. */
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in scripts");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static int sb_collectgarbage(lua_State *L)
{
    lua_pushinteger(L, 0);
    return 1;
}

static int sb_print(lua_State *L)
{
    (void)L; /* scripts have no stdout */
    return 0;
}

static int sb_co_create(lua_State *L)
{
    refuse_if_aborting(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    /* Threads inherit the creator's hook; set it anyway, so the budget holds
     * even if the creator's hook was changed by an abort. */
    bpm_lua_sandbox *sb = SB(L);
    if (sb->in_run)
        lua_sethook(co, count_hook, LUA_MASKCOUNT, sb->hook_step);
    return 1;
}

/* coroutine.resume / coroutine.close: an abort inside the coroutine continues
 * in the resumer instead of coming back as (false, msg). */
static int sb_co_call(lua_State *L)
{
    /* also keeps coroutine.close from running a dead coroutine's __close
     * handlers, which Lua would run with that thread's hooks off */
    refuse_if_aborting(L);
    luaL_checktype(L, 1, LUA_TTHREAD);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    if (SB(L)->abort != ABORT_NONE && lua_type(L, 1) == LUA_TBOOLEAN && !lua_toboolean(L, 1)) {
        lua_settop(L, 2);
        return lua_error(L);
    }
    return lua_gettop(L);
}

static int wrap_call(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1)); /* our resume */
    lua_pushvalue(L, lua_upvalueindex(2)); /* the thread */
    lua_rotate(L, 1, 2);
    lua_call(L, n + 1, LUA_MULTRET);
    if (!lua_toboolean(L, 1)) {
        lua_settop(L, 2);
        if (lua_type(L, 2) == LUA_TSTRING) { /* like coroutine.wrap: add position */
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return lua_gettop(L) - 1;
}

static int sb_co_wrap(lua_State *L)
{
    sb_co_create(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, -2);
    lua_pushcclosure(L, wrap_call, 2);
    return 1;
}

/* ---- read-only library tables --------------------------------------------------- */

static int ro_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only table");
}

/* The real table behind a proxy: its metatable's __index. */
static void push_real(lua_State *L, int proxy)
{
    lua_getmetatable(L, proxy);
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
}

static int ro_len(lua_State *L)
{
    push_real(L, 1);
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
}

static int ro_next(lua_State *L)
{
    lua_settop(L, 2);
    push_real(L, 1);
    lua_pushvalue(L, 2);
    if (!lua_next(L, 3))
        return 0;
    return 2;
}

static int ro_pairs(lua_State *L)
{
    lua_pushcfunction(L, ro_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Replaces, in the table at t, every table value by a read-only proxy, depth
 * first. memo maps real tables to their proxies (shared or cyclic tables). */
static void freeze_fields(lua_State *L, int t, int memo, int frozen, int depth)
{
    if (depth > 16)
        return;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int v = lua_gettop(L);
        if (lua_type(L, v) != LUA_TTABLE || lua_getmetatable(L, v)) {
            /* values with a metatable (null, markers, proxies) stay as they are */
            lua_settop(L, v - 1);
            continue;
        }
        lua_pushvalue(L, v);
        if (lua_rawget(L, memo) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_newtable(L); /* the proxy */
            int proxy = lua_gettop(L);
            lua_createtable(L, 0, 5);
            lua_pushvalue(L, v);
            lua_setfield(L, -2, "__index");
            lua_pushcfunction(L, ro_newindex);
            lua_setfield(L, -2, "__newindex");
            lua_pushcfunction(L, ro_len);
            lua_setfield(L, -2, "__len");
            lua_pushcfunction(L, ro_pairs);
            lua_setfield(L, -2, "__pairs");
            lua_pushboolean(L, 0);
            lua_setfield(L, -2, "__metatable");
            lua_setmetatable(L, proxy);
            lua_pushvalue(L, v);
            lua_pushvalue(L, proxy);
            lua_rawset(L, memo);
            lua_pushvalue(L, proxy);
            lua_pushboolean(L, 1);
            lua_rawset(L, frozen);
            freeze_fields(L, v, memo, frozen, depth + 1);
        }
        /* t[key] = proxy (assigning an existing field during next is allowed) */
        lua_pushvalue(L, v - 1);
        lua_insert(L, -2);
        lua_rawset(L, t);
        lua_settop(L, v - 1);
    }
}

/* ---- variables ---------------------------------------------------------------- */

/* Pushes variable `name` (nil when undefined). Table values are kept in the
 * run's cache, so `vars.order.total = 5` changes one table for the run. */
static void push_variable(lua_State *L, bpm_lua_sandbox *sb, const char *name, size_t len)
{
    if (!sb->in_run || !sb->run.vars || !sb->run.vars->ops->get || memchr(name, 0, len)) {
        lua_pushnil(L);
        return;
    }
    if (sb->varcache_used) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->varcache_ref);
        lua_pushlstring(L, name, len);
        if (lua_rawget(L, -2) != LUA_TNIL) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 2);
    }
    json_t *v = sb->run.vars->ops->get(sb->run.vars->ctx, name);
    bpm_err err;
    if (bpm_lua_value_push(L, v, &err) != BPM_OK)
        luaL_error(L, "variable \"%s\": %s", name, err.msg);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->varcache_ref);
        lua_pushlstring(L, name, len);
        lua_pushvalue(L, -3);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        sb->varcache_used = true;
    }
}

static void set_variable(lua_State *L, bpm_lua_sandbox *sb, int name_idx, int value_idx)
{
    size_t len;
    const char *name = luaL_checklstring(L, name_idx, &len);
    if (!sb->in_run || !sb->run.vars || !sb->run.vars->ops->set)
        luaL_error(L, "variables cannot be set here");
    if (sb->run.use == BPM_USE_CONDITION)
        luaL_error(L, "a condition cannot set variables");
    if (len == 0 || memchr(name, 0, len))
        luaL_error(L, "invalid variable name");
    json_t *j;
    bpm_err err;
    bpm_err_clear(&err);
    if (bpm_lua_value_to_json(L, value_idx, &j, &err) != BPM_OK)
        luaL_error(L, "cannot set variable \"%s\": %s", name, err.msg);
    if (sb->run.vars->ops->set(sb->run.vars->ctx, name, j, &err) != BPM_OK)
        luaL_error(L, "cannot set variable \"%s\": %s", name, err.msg);
    /* Keep the cache coherent: a table set now is written back if changed. */
    if (lua_type(L, value_idx) == LUA_TTABLE || sb->varcache_used) {
        value_idx = lua_absindex(L, value_idx);
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->varcache_ref);
        lua_pushlstring(L, name, len);
        if (lua_type(L, value_idx) == LUA_TTABLE)
            lua_pushvalue(L, value_idx);
        else
            lua_pushnil(L);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        sb->varcache_used = true;
    }
}

static int vars_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING) {
        lua_pushnil(L);
        return 1;
    }
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    push_variable(L, SB(L), name, len);
    return 1;
}

static int vars_newindex(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TSTRING);
    set_variable(L, SB(L), 2, 3);
    return 0;
}

typedef struct name_list {
    bpm_arena *arena;
    const char **names;
    size_t n, cap;
} name_list;

static void collect_name(void *arg, const char *name, json_t *value)
{
    (void)value;
    name_list *nl = arg;
    if (nl->n == nl->cap) {
        size_t cap = nl->cap ? nl->cap * 2 : 16;
        nl->names = bpm_arena_grow(nl->arena, nl->names, nl->n, cap, sizeof *nl->names);
        nl->cap = cap;
    }
    nl->names[nl->n++] = bpm_arena_strdup(nl->arena, name);
}

/* pairs(vars): a snapshot of the visible variables. Names are collected first,
 * so no Lua error can unwind through the caller's each(). */
static int vars_pairs(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    lua_newtable(L);
    if (sb->in_run && sb->run.vars && sb->run.vars->ops->each) {
        name_list nl = {.arena = sb->run.step};
        sb->run.vars->ops->each(sb->run.vars->ctx, collect_name, &nl);
        for (size_t i = 0; i < nl.n; i++) {
            push_variable(L, sb, nl.names[i], strlen(nl.names[i]));
            lua_setfield(L, -2, nl.names[i]);
        }
    }
    lua_getglobal(L, "next"); /* the real next: globals table is not the sandbox's */
    lua_insert(L, -2);
    lua_pushnil(L);
    return 3;
}

static int vars_tostring(lua_State *L)
{
    lua_pushliteral(L, "vars");
    return 1;
}

/* execution.getVariable(name) / execution:getVariable(name) */
static int exec_get(lua_State *L)
{
    int arg = lua_type(L, 1) == LUA_TTABLE ? 2 : 1;
    size_t len;
    const char *name = luaL_checklstring(L, arg, &len);
    push_variable(L, SB(L), name, len);
    return 1;
}

static int exec_set(lua_State *L)
{
    int arg = lua_type(L, 1) == LUA_TTABLE ? 2 : 1;
    luaL_checkany(L, arg + 1);
    set_variable(L, SB(L), arg, arg + 1);
    return 0;
}

static void set_str(lua_State *L, const char *field, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, field);
}

static void push_execution(lua_State *L, bpm_lua_sandbox *sb)
{
    const bpm_eval_call *c = sb->run.call;
    lua_createtable(L, 0, 9);
    if (c) {
        set_str(L, "instanceId", c->instance_id);
        set_str(L, "businessKey", c->business_key);
        set_str(L, "elementId", c->element_id);
        set_str(L, "definitionKey", c->definition_key);
        set_str(L, "definitionId", c->definition_id);
        set_str(L, "tenantId", c->tenant_id);
    }
    lua_pushinteger(L, c ? (lua_Integer)c->now_ms : 0);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, exec_get);
    lua_setfield(L, -2, "getVariable");
    lua_pushcfunction(L, exec_set);
    lua_setfield(L, -2, "setVariable");
}

/* __index of the base environment: what no library defines. `_G` is the run's
 * env, `execution` is built on first use, and so is `task` in a task
 * listener; any other name is a process variable (so `amount > 1000 and
 * approved` reads variables). */
/* Keeps the value on top of the stack as the script environment's global
 * of the name at index 2, so the next read finds it without this hook. */
static void remember(lua_State *L, const bpm_lua_sandbox *sb)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static int base_index(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    if (lua_type(L, 2) != LUA_TSTRING || !sb->in_run) {
        lua_pushnil(L);
        return 1;
    }
    size_t len;
    const char *name = lua_tolstring(L, 2, &len);
    if (len == 2 && memcmp(name, "_G", 2) == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
        return 1;
    }
    if (len == 9 && memcmp(name, "execution", 9) == 0) {
        push_execution(L, sb);
        remember(L, sb);
        return 1;
    }
    /* a task listener's task: a copy, so changing it changes nothing */
    if (len == 4 && memcmp(name, "task", 4) == 0 && sb->run.call && sb->run.call->task) {
        bpm_err err = {0};
        if (bpm_lua_value_push(L, sb->run.call->task, &err) != BPM_OK)
            return luaL_error(L, "%s", err.msg);
        remember(L, sb);
        return 1;
    }
    push_variable(L, sb, name, len);
    return 1;
}

/* ---- outcome and randomness for the library ----------------------------------- */

const bpm_lua_run *bpm_lua_sandbox_current(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    return sb && sb->in_run ? &sb->run : NULL;
}

int bpm_lua_sandbox_raise(lua_State *L, bpm_eval_outcome outcome, const char *code,
                          const char *message)
{
    bpm_lua_sandbox *sb = SB(L);
    if (!sb->in_run)
        return luaL_error(L, "bpmn outcomes can only be raised while a script runs");
    if (sb->abort == ABORT_NONE) {
        sb->abort = ABORT_OUTCOME;
        sb->outcome = outcome;
        sb->code = bpm_arena_strdup(sb->run.step, code);
        sb->message = message ? bpm_arena_strdup(sb->run.step, message) : NULL;
    }
    lua_pushlightuserdata(L, (void *)&outcome_key);
    return lua_error(L);
}

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    h = fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
    return h;
}

static void hash_var(void *arg, const char *name, json_t *value)
{
    uint64_t *acc = arg;
    uint64_t h = fnv_str(14695981039346656037ULL, name);
    char *dump = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (dump) {
        h = fnv_str(h, dump);
        free(dump);
    }
    *acc ^= h * 0x9e3779b97f4a7c15ULL; /* order independent */
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t bpm_lua_sandbox_random(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    uint64_t *s = sb->prng;
    if (!sb->seeded) {
        /* Execution facts and the variables, so two instances (or two loop
         * iterations) differ while a replay of the same step repeats. */
        uint64_t h = 14695981039346656037ULL;
        const bpm_eval_call *c = sb->in_run ? sb->run.call : NULL;
        if (c) {
            h = fnv_str(h, c->instance_id);
            h = fnv_str(h, c->business_key);
            h = fnv_str(h, c->element_id);
            h = fnv_str(h, c->definition_id);
            h = fnv_str(h, c->tenant_id);
            h = fnv(h, &c->now_ms, sizeof c->now_ms);
        }
        if (sb->in_run && sb->run.vars && sb->run.vars->ops->each) {
            uint64_t acc = 0;
            sb->run.vars->ops->each(sb->run.vars->ctx, hash_var, &acc);
            h = fnv(h, &acc, sizeof acc);
        }
        for (int i = 0; i < 4; i++)
            s[i] = splitmix(&h);
        sb->seeded = true;
    }
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void bpm_lua_sandbox_charge(lua_State *L, uint64_t units)
{
    bpm_lua_sandbox *sb = SB(L);
    if (!sb->in_run)
        return;
    refuse_if_aborting(L);
    sb->instructions += units;
    if (sb->instructions < sb->budget)
        return;
    sb->abort = ABORT_INSTRUCTIONS;
    sb->abort_line = script_line(L, sb, 0);
    arm_abort(L);
    luaL_error(L, "script exceeded its instruction budget of %llu",
               (unsigned long long)sb->budget);
}

size_t bpm_lua_sandbox_memory_left(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    if (!sb->in_run || sb->mem_limit == SIZE_MAX)
        return SIZE_MAX;
    return sb->mem_used < sb->mem_limit ? sb->mem_limit - sb->mem_used : 0;
}

int64_t bpm_lua_sandbox_now(lua_State *L)
{
    bpm_lua_sandbox *sb = SB(L);
    return sb && sb->in_run && sb->run.call ? sb->run.call->now_ms : 0;
}

/* ---- building the state ---------------------------------------------------------- */

static void copy_field(lua_State *L, int from, int to, const char *name)
{
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

static int ref_new_table(lua_State *L)
{
    lua_newtable(L);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

#if HAVE_DIALECT
/* The two functions bpm_dialect_prelude takes as its arguments. Only the
 * prelude holds them (as upvalues of its helpers); scripts mark tables with
 * json.array/json.object, which refuse foreign metatables the same way. */

/* mark(t, is_array): the array (or object) marker on a plain table; returns t. */
static int prelude_mark(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (bpm_lua_value_marker(L, 1) < 0)
        return luaL_error(L, "table already has a metatable");
    bpm_lua_value_mark(L, 1, lua_toboolean(L, 2));
    lua_settop(L, 1);
    return 1;
}

/* marker(v): 1 array, 2 object, 0 no metatable (or not a table), -1 other. */
static int prelude_marker(lua_State *L)
{
    lua_pushinteger(L, lua_type(L, 1) == LUA_TTABLE ? bpm_lua_value_marker(L, 1) : 0);
    return 1;
}
#endif

/* Builds everything; runs under lua_pcall so a failure is an error, not a panic. */
static int setup(lua_State *L)
{
    bpm_lua_sandbox *sb = lua_touserdata(L, 1);
    bpm_lua_value_setup(L);

    luaL_requiref(L, "_G", luaopen_base, 0);
    int g = lua_gettop(L); /* the real globals: never reachable from scripts */
    lua_newtable(L);
    int env = lua_gettop(L); /* the base environment */

    static const char *const base_names[] = {
        "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal",
        "rawget", "rawlen", "select", "tonumber", "tostring", "type", "_VERSION",
    };
    for (size_t i = 0; i < sizeof base_names / sizeof *base_names; i++)
        copy_field(L, g, env, base_names[i]);
    lua_pushcfunction(L, sb_pcall);
    lua_setfield(L, env, "pcall");
    lua_pushcfunction(L, sb_xpcall);
    lua_setfield(L, env, "xpcall");
    lua_pushcfunction(L, sb_rawset);
    lua_setfield(L, env, "rawset");
    lua_pushcfunction(L, sb_collectgarbage);
    lua_setfield(L, env, "collectgarbage");
    lua_pushcfunction(L, sb_print);
    lua_setfield(L, env, "print");
    lua_getfield(L, g, "load");
    lua_pushcclosure(L, sb_load, 1);
    lua_setfield(L, env, "load");
    lua_getfield(L, g, "setmetatable");
    lua_pushcclosure(L, sb_setmetatable, 1);
    lua_setfield(L, env, "setmetatable");

    luaL_requiref(L, "string", luaopen_string, 0);
    int str = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, str, "dump");
    lua_setfield(L, env, "string");
    luaL_requiref(L, "table", luaopen_table, 0);
    lua_setfield(L, env, "table");
    luaL_requiref(L, "math", luaopen_math, 0);
    lua_setfield(L, env, "math");
    luaL_requiref(L, "utf8", luaopen_utf8, 0);
    lua_setfield(L, env, "utf8");

    luaL_requiref(L, "coroutine", luaopen_coroutine, 0);
    int co = lua_gettop(L);
    lua_newtable(L);
    int sco = lua_gettop(L);
    static const char *const co_names[] = {"isyieldable", "running", "status", "yield"};
    for (size_t i = 0; i < sizeof co_names / sizeof *co_names; i++)
        copy_field(L, co, sco, co_names[i]);
    lua_pushcfunction(L, sb_co_create);
    lua_setfield(L, sco, "create");
    lua_getfield(L, co, "resume");
    lua_pushcclosure(L, sb_co_call, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, sco, "resume");
    lua_pushcclosure(L, sb_co_wrap, 1);
    lua_setfield(L, sco, "wrap");
    lua_getfield(L, co, "close");
    lua_pushcclosure(L, sb_co_call, 1);
    lua_setfield(L, sco, "close");
    lua_setfield(L, env, "coroutine");
    lua_pop(L, 1);

    bpm_lua_value_push_null(L);
    lua_setfield(L, env, "null");

    /* vars: a userdata, so rawset cannot reach around its metamethods */
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 6);
    lua_pushcfunction(L, vars_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, vars_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, vars_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, vars_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "vars");
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setfield(L, env, "vars");

    bpm_lua_lib_open(L, env);

#if HAVE_DIALECT
    if (luaL_loadbufferx(L, bpm_dialect_prelude, strlen(bpm_dialect_prelude),
                         "=dialect prelude", "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    lua_pushcfunction(L, prelude_mark);
    lua_pushcfunction(L, prelude_marker);
    lua_call(L, 2, 0);
#endif

    /* Freeze: every table in the base env becomes a read-only proxy. */
    sb->frozen_ref = ref_new_table(L);
    lua_newtable(L);
    int memo = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->frozen_ref);
    freeze_fields(L, env, memo, lua_gettop(L), 0);
    lua_settop(L, memo - 1);

    /* The string metatable stays the real one for ("x"):upper(), but scripts
     * cannot get it: getmetatable("") returns false. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_createtable(L, 0, 2); /* base env's metatable */
    lua_pushcfunction(L, base_index);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, env);

    lua_createtable(L, 0, 8); /* the run env, cleared after each run */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, env);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    sb->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    sb->varcache_ref = ref_new_table(L);
    return 0;
}

bpm_lua_sandbox *bpm_lua_sandbox_new(const bpm_scripts_config *cfg, bpm_err *err)
{
    bpm_lua_sandbox *sb = bpm_xcalloc(1, sizeof *sb);
    sb->mem_limit = SIZE_MAX;
    sb->default_instructions = cfg && cfg->max_instructions
                                   ? cfg->max_instructions
                                   : BPM_SCRIPTS_DEFAULT_INSTRUCTIONS;
    sb->default_memory = cfg && cfg->max_memory ? cfg->max_memory : BPM_SCRIPTS_DEFAULT_MEMORY;
    sb->wall_ms = cfg && cfg->max_wall_ms ? cfg->max_wall_ms : BPM_SCRIPTS_DEFAULT_WALL_MS;
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L) {
        free(sb);
        bpm_err_set(err, BPM_INTERNAL, "could not create a Lua state");
        return NULL;
    }
    sb->L = L;
    *(bpm_lua_sandbox **)lua_getextraspace(L) = sb;
    lua_atpanic(L, sb_panic);
    lua_setwarnf(L, NULL, NULL);
    /* incremental: measured faster than generational here, where every run
     * writes into long-lived tables (the run env, the cached closure) */
    lua_gc(L, LUA_GCINC, 0, 0, 0);
    lua_pushcfunction(L, setup);
    lua_pushlightuserdata(L, sb);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        bpm_err_set(err, BPM_INTERNAL, "could not set up the Lua sandbox: %s",
                    msg ? msg : "(no message)");
        lua_close(L);
        free(sb);
        return NULL;
    }
    return sb;
}

void bpm_lua_sandbox_free(bpm_lua_sandbox *sb)
{
    if (!sb)
        return;
    lua_close(sb->L);
    free(sb);
}

lua_State *bpm_lua_sandbox_state(const bpm_lua_sandbox *sb)
{
    return sb->L;
}

size_t bpm_lua_sandbox_memory(const bpm_lua_sandbox *sb)
{
    return sb->mem_used;
}

/* "name:12: msg" -> "msg", *line = 12, when the prefix is the chunk's. */
static const char *strip_position(const char *msg, const char *chunkname, int *line)
{
    if (!chunkname || chunkname[0] != '=')
        return msg;
    size_t n = strlen(chunkname + 1);
    if (strncmp(msg, chunkname + 1, n) != 0 || msg[n] != ':')
        return msg;
    const char *p = msg + n + 1;
    int l = 0;
    if (*p < '0' || *p > '9')
        return msg;
    while (*p >= '0' && *p <= '9' && l < 100000000)
        l = l * 10 + (*p++ - '0');
    if (p[0] != ':' || p[1] != ' ')
        return msg;
    *line = l;
    return p + 2;
}

bpm_rc bpm_lua_sandbox_load(bpm_lua_sandbox *sb, const char *text, size_t len,
                            const char *chunkname, int *err_line, bpm_err *err)
{
    lua_State *L = sb->L;
    if (luaL_loadbufferx(L, text, len, chunkname, "t") == LUA_OK)
        return BPM_OK;
    const char *msg = lua_tostring(L, -1);
    int line = 0;
    const char *reason = strip_position(msg ? msg : "?", chunkname, &line);
    const char *prefix = strncmp(reason, "syntax error", 12) == 0 ? "" : "syntax error: ";
    if (line)
        bpm_err_set(err, BPM_INVALID, "%s%s (line %d)", prefix, reason, line);
    else
        bpm_err_set(err, BPM_INVALID, "%s%s", prefix, reason);
    if (err_line)
        *err_line = line;
    lua_pop(L, 1);
    return BPM_INVALID;
}

static void error_text(lua_State *L, int idx, char *buf, size_t size)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        snprintf(buf, size, "%s", lua_tostring(L, idx));
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, size, "%.14g", (double)lua_tonumber(L, idx));
        return;
    case LUA_TNIL:
        snprintf(buf, size, "script raised an error without a message (nil)");
        return;
    case LUA_TTABLE:
        /* error({message = "..."}) is a common structured form */
        if (lua_getfield(L, idx, "message") == LUA_TSTRING) {
            snprintf(buf, size, "%s", lua_tostring(L, -1));
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        snprintf(buf, size, "script raised an error object of type table");
        return;
    default:
        snprintf(buf, size, "script raised an error object of type %s",
                 bpm_lua_value_type_name(L, idx));
    }
}

bpm_rc bpm_lua_sandbox_run(bpm_lua_sandbox *sb, const bpm_lua_run *run,
                           bpm_eval_result *res, bpm_err *err)
{
    lua_State *L = sb->L;
    int fn = lua_gettop(L);
    const bpm_eval_call *call = run->call;

    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_ref);
    if (!lua_setupvalue(L, fn, 1))
        lua_pop(L, 1);
    lua_pushcfunction(L, msgh);
    lua_insert(L, fn); /* msgh at fn, function at fn + 1 */

    sb->run = *run;
    sb->in_run = true;
    sb->abort = ABORT_NONE;
    sb->abort_line = 0;
    sb->err_line = 0;
    sb->traceback[0] = '\0';
    sb->seeded = false;
    sb->instructions = 0;
    sb->started_ms = 0;
    sb->timed_out = false;
    sb->budget = call && call->max_instructions ? call->max_instructions
                                                : sb->default_instructions;
    sb->hook_step = sb->budget < HOOK_STEP ? (int)sb->budget : HOOK_STEP;
    sb->mem_cap = call && call->max_memory ? call->max_memory : sb->default_memory;
    sb->mem_limit = sb->mem_used + sb->mem_cap;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, sb->hook_step);

    int status = lua_pcall(L, 0, 1, fn);

    lua_sethook(L, NULL, 0, 0);
    sb->mem_limit = SIZE_MAX;
    lua_remove(L, fn); /* msgh; the result or the error is at fn */

    bpm_rc rc = BPM_OK;
    if (sb->abort == ABORT_OUTCOME) {
        res->outcome = sb->outcome;
        res->code = sb->code;
        res->message = sb->message;
        lua_settop(L, fn - 1);
        lua_pushnil(L);
        return BPM_OK;
    }
    if (status == LUA_OK) {
        res->outcome = BPM_EVAL_VALUE;
        res->code = NULL;
        res->message = NULL;
        return BPM_OK;
    }
    if (sb->abort == ABORT_INSTRUCTIONS || sb->abort == ABORT_MEMORY) {
        int line = sb->abort_line ? sb->abort_line : sb->err_line;
        char what[96];
        if (sb->abort == ABORT_INSTRUCTIONS && sb->timed_out)
            snprintf(what, sizeof what, "script exceeded its time limit of %lld ms",
                     (long long)sb->wall_ms);
        else if (sb->abort == ABORT_INSTRUCTIONS)
            snprintf(what, sizeof what, "script exceeded its instruction budget of %llu",
                     (unsigned long long)sb->budget);
        else
            snprintf(what, sizeof what, "script exceeded its memory limit of %zu bytes",
                     sb->mem_cap);
        if (line)
            rc = bpm_err_set(err, BPM_LIMIT, "%s (line %d)", what, line);
        else
            rc = bpm_err_set(err, BPM_LIMIT, "%s", what);
    } else if (status == LUA_ERRMEM) {
        rc = bpm_err_set(err, BPM_LIMIT, "script ran out of memory");
    } else {
        char text[256];
        error_text(L, fn, text, sizeof text);
        int line = sb->err_line;
        const char *reason = strip_position(text, run->chunkname, &line);
        if (status == LUA_ERRERR)
            reason = "error while handling an error (stack overflow?)";
        if (line)
            rc = bpm_err_set(err, BPM_SCRIPT, "%s (line %d)", reason, line);
        else
            rc = bpm_err_set(err, BPM_SCRIPT, "%s", reason);
    }
    if (err && sb->traceback[0])
        bpm_err_detail(err, "%s", sb->traceback);
    lua_settop(L, fn - 1);
    if (rc == BPM_LIMIT)
        lua_gc(L, LUA_GCCOLLECT, 0); /* give the memory back now */
    return rc;
}

bpm_rc bpm_lua_sandbox_writeback(bpm_lua_sandbox *sb, bpm_err *err)
{
    if (!sb->varcache_used || !sb->run.vars || !sb->run.vars->ops->set)
        return BPM_OK;
    lua_State *L = sb->L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->varcache_ref);
    int cache = lua_gettop(L);
    bpm_rc rc = BPM_OK;
    lua_pushnil(L);
    while (lua_next(L, cache)) {
        const char *name = lua_tostring(L, -2);
        json_t *j;
        rc = bpm_lua_value_to_json(L, -1, &j, err);
        if (rc) {
            bpm_err_where(err, "variable \"%s\"", name);
            break;
        }
        json_t *cur = sb->run.vars->ops->get(sb->run.vars->ctx, name);
        if (cur && json_equal(cur, j)) {
            json_decref(j);
        } else {
            rc = sb->run.vars->ops->set(sb->run.vars->ctx, name, j, err);
            if (rc)
                break;
        }
        lua_pop(L, 1);
    }
    lua_settop(L, top);
    return rc;
}

/* Empties the table in registry slot *ref; replaces it when it grew large, so
 * one script's thousand globals do not slow every later run's clearing. */
static void clear_ref_table(lua_State *L, int *ref)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
    int t = lua_gettop(L);
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, t);
        n++;
    }
    if (n > ENV_REPLACE_AFTER) {
        lua_createtable(L, 0, 8);
        if (lua_getmetatable(L, t))
            lua_setmetatable(L, -2);
        lua_rawseti(L, LUA_REGISTRYINDEX, *ref);
    }
    lua_pop(L, 1);
}

void bpm_lua_sandbox_finish(bpm_lua_sandbox *sb)
{
    lua_State *L = sb->L;
    int top = lua_gettop(L);
    clear_ref_table(L, &sb->env_ref);
    if (sb->varcache_used)
        clear_ref_table(L, &sb->varcache_ref);
    lua_settop(L, top);
    sb->varcache_used = false;
    sb->in_run = false;
    sb->abort = ABORT_NONE;
    memset(&sb->run, 0, sizeof sb->run);
    sb->code = NULL;
    sb->message = NULL;
}
