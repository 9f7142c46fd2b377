/* FNV-1a hashed linear-probing map; grows at 70% load. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_str(const char *s)
{
    size_t h = (size_t)1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= (size_t)1099511628211ULL;
    }
    return h;
}

void bpm_strmap_init(bpm_strmap *m, bpm_arena *arena)
{
    m->arena = arena;
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

static bpm_strmap_slot *find(const bpm_strmap *m, const char *key, size_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        bpm_strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
    }
}

static void free_slots(void *p)
{
    bpm_strmap *m = p;
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

static void grow(bpm_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    bpm_strmap_slot *old = m->slots;
    size_t ocap = m->cap;
    /* The table is malloc'd, not arena memory, so the tables a growing map
     * leaves behind are given back instead of piling up in the arena. */
    if (!old)
        bpm_arena_defer(m->arena, free_slots, m);
    m->slots = bpm_xcalloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        bpm_strmap_slot *s = find(m, old[i].key, old[i].hash);
        *s = old[i];
    }
    free(old);
}

void *bpm_strmap_get(const bpm_strmap *m, const char *key)
{
    bpm_strmap_slot *s = find(m, key, hash_str(key));
    return s && s->key ? s->value : NULL;
}

const char *bpm_strmap_key(const bpm_strmap *m, const char *key)
{
    bpm_strmap_slot *s = find(m, key, hash_str(key));
    return s ? s->key : NULL;
}

const char *bpm_strmap_put(bpm_strmap *m, const char *key, void *value, void **old)
{
    if ((m->n + 1) * 10 > m->cap * 7)
        grow(m);
    size_t h = hash_str(key);
    bpm_strmap_slot *s = find(m, key, h);
    if (old)
        *old = s->key ? s->value : NULL;
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->n++;
    }
    s->value = value;
    return s->key;
}

const char *bpm_strmap_intern(bpm_strmap *m, const char *s)
{
    if (!s)
        return NULL;
    const char *k = bpm_strmap_key(m, s);
    if (k)
        return k;
    return bpm_strmap_put(m, bpm_arena_strdup(m->arena, s), NULL, NULL);
}
