/* Open-addressing hash map from strings to pointers, stored in an arena.
 * Used to intern model ids (equal ids share one pointer) and to look nodes
 * up by id in O(1). Not thread safe while being written; read-only use
 * after the model is frozen is safe from any thread. */
#ifndef BPM_STRMAP_H
#define BPM_STRMAP_H

#include <stddef.h>

#include "arena.h"

typedef struct bpm_strmap_slot {
    const char *key; /* NULL = empty */
    size_t hash;
    void *value;
} bpm_strmap_slot;

typedef struct bpm_strmap {
    bpm_arena *arena; /* borrowed: owns the slots and interned keys */
    bpm_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
} bpm_strmap;

void bpm_strmap_init(bpm_strmap *m, bpm_arena *arena);
/* Value stored under key, or NULL. */
void *bpm_strmap_get(const bpm_strmap *m, const char *key);
/* Stored key equal to `key` (the interned pointer), or NULL. */
const char *bpm_strmap_key(const bpm_strmap *m, const char *key);
/* Sets key -> value; copies key into the arena when new. Returns the
 * interned key. *old (if not NULL) receives the previous value or NULL. */
const char *bpm_strmap_put(bpm_strmap *m, const char *key, void *value, void **old);
/* Interns s: returns the one arena copy of it (value untouched). */
const char *bpm_strmap_intern(bpm_strmap *m, const char *s);

#endif
