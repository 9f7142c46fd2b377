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
    bpm_arena *arena; /* borrowed: interned keys live here; the slot table is
                         malloc'd and freed when the arena is reset or freed */
    bpm_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
} bpm_strmap;

void bpm_strmap_init(bpm_strmap *m, bpm_arena *arena);
/* Value stored under key, or NULL. */
void *bpm_strmap_get(const bpm_strmap *m, const char *key);
/* Stored key equal to `key` (the interned pointer), or NULL. */
const char *bpm_strmap_key(const bpm_strmap *m, const char *key);
/* Sets key -> value. The map keeps the key pointer as given, so the key must
 * live as long as the map (intern it first). Returns the stored key. *old
 * (if not NULL) receives the previous value or NULL. */
const char *bpm_strmap_put(bpm_strmap *m, const char *key, void *value, void **old);
/* Interns s: returns the one arena copy of it, copying it on first sight. */
const char *bpm_strmap_intern(bpm_strmap *m, const char *s);

#endif
