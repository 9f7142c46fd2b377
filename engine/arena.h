/* Arenas with named lifetimes (model, step, request, process). Allocation
 * never fails: out of memory logs and aborts. One reset frees everything,
 * including foreign handles tied to the arena with bpm_arena_defer(). */
#ifndef BPM_ARENA_H
#define BPM_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bpm_arena bpm_arena;

/* New empty arena; free it with bpm_arena_free(). Not thread safe: one
 * arena belongs to one thread at a time. */
bpm_arena *bpm_arena_new(void);
/* Same, with blocks of block_size bytes (small for the many small arenas,
 * such as one per instance; requests larger than a quarter block still get
 * a block of their own). */
bpm_arena *bpm_arena_new_sized(size_t block_size);
/* Runs deferred cleanups (last registered first), then releases all memory. */
void bpm_arena_free(bpm_arena *a);
/* Runs deferred cleanups and forgets all allocations, keeping one block. */
void bpm_arena_reset(bpm_arena *a);

/* n bytes aligned for any type, zeroed. Lives until reset/free. */
void *bpm_arena_alloc(bpm_arena *a, size_t n);
/* Array of count elements of size sz, zeroed; aborts on overflow. */
void *bpm_arena_calloc(bpm_arena *a, size_t count, size_t sz);
/* Copy of s (NULL stays NULL), NUL-terminated. */
char *bpm_arena_strdup(bpm_arena *a, const char *s);
char *bpm_arena_strndup(bpm_arena *a, const char *s, size_t n);
char *bpm_arena_sprintf(bpm_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Grows an arena array: returns a new array of new_count elements holding
 * the old_count old ones (the old storage is simply abandoned). */
void *bpm_arena_grow(bpm_arena *a, void *old, size_t old_count,
                     size_t new_count, size_t sz);

/* Ties ptr to the arena: fn(ptr) runs at reset or free. */
void bpm_arena_defer(bpm_arena *a, void (*fn)(void *), void *ptr);

/* Bytes handed out, and bytes taken from malloc (for benchmarks). */
size_t bpm_arena_used(const bpm_arena *a);
size_t bpm_arena_reserved(const bpm_arena *a);

/* Process-wide allocation wrappers that abort on OOM, for code outside arenas. */
void *bpm_xmalloc(size_t n);
void *bpm_xcalloc(size_t count, size_t sz);
void *bpm_xrealloc(void *p, size_t n);
char *bpm_xstrdup(const char *s);

#endif
