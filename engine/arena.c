/* Bump allocator over a chain of blocks, with a cleanup list. Large requests
 * get their own block so small ones never waste a big tail. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (16 * 1024)
#define ALIGN      (_Alignof(max_align_t))

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
} block;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *ptr;
} cleanup;

struct bpm_arena {
    block *head;
    size_t block_size;
    cleanup *cleanups;
    size_t used;
    size_t reserved;
};

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "bpmnd: out of memory allocating %zu bytes\n", n);
    abort();
}

void *bpm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *bpm_xcalloc(size_t count, size_t sz)
{
    void *p = calloc(count ? count : 1, sz ? sz : 1);
    if (!p)
        oom(count * sz);
    return p;
}

void *bpm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *bpm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = bpm_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static block *block_new(size_t size)
{
    block *b = malloc(sizeof(block) + size);
    if (!b)
        oom(size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

bpm_arena *bpm_arena_new(void) { return bpm_arena_new_sized(BLOCK_SIZE); }

bpm_arena *bpm_arena_new_sized(size_t block_size)
{
    bpm_arena *a = bpm_xcalloc(1, sizeof *a);
    a->block_size = block_size < 256 ? 256 : block_size;
    return a;
}

static void run_cleanups(bpm_arena *a)
{
    while (a->cleanups) {
        cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->ptr);
    }
}

void bpm_arena_free(bpm_arena *a)
{
    if (!a)
        return;
    run_cleanups(a);
    block *b = a->head;
    while (b) {
        block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void bpm_arena_reset(bpm_arena *a)
{
    run_cleanups(a);
    block *keep = NULL;
    block *b = a->head;
    while (b) {
        block *n = b->next;
        if (!keep && b->size == a->block_size) {
            keep = b;
            keep->next = NULL;
            keep->used = 0;
        } else {
            free(b);
        }
        b = n;
    }
    a->head = keep;
    a->used = 0;
    a->reserved = keep ? keep->size : 0;
}

void *bpm_arena_alloc(bpm_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n)
        oom(n);
    if (need == 0)
        need = ALIGN;
    block *b = a->head;
    if (!b || b->size - b->used < need) {
        if (need > a->block_size / 4) {
            /* A big request gets a private block behind the current one so
             * the current block's free tail stays usable. */
            block *big = block_new(need);
            big->used = need;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            a->used += need;
            a->reserved += need;
            memset(big->data, 0, need);
            return big->data;
        }
        b = block_new(a->block_size);
        b->next = a->head;
        a->head = b;
        a->reserved += a->block_size;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    a->used += need;
    memset(p, 0, need);
    return p;
}

void *bpm_arena_calloc(bpm_arena *a, size_t count, size_t sz)
{
    if (sz && count > SIZE_MAX / sz)
        oom(SIZE_MAX);
    return bpm_arena_alloc(a, count * sz);
}

char *bpm_arena_strndup(bpm_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = bpm_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bpm_arena_strdup(bpm_arena *a, const char *s)
{
    return s ? bpm_arena_strndup(a, s, strlen(s)) : NULL;
}

char *bpm_arena_sprintf(bpm_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return bpm_arena_strdup(a, "");
    char *p = bpm_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *bpm_arena_grow(bpm_arena *a, void *old, size_t old_count,
                     size_t new_count, size_t sz)
{
    void *p = bpm_arena_calloc(a, new_count, sz);
    if (old && old_count)
        memcpy(p, old, (old_count < new_count ? old_count : new_count) * sz);
    return p;
}

void bpm_arena_defer(bpm_arena *a, void (*fn)(void *), void *ptr)
{
    cleanup *c = bpm_arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->ptr = ptr;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t bpm_arena_used(const bpm_arena *a) { return a->used; }
size_t bpm_arena_reserved(const bpm_arena *a) { return a->reserved; }
