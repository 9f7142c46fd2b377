/* The schema migrations compiled into the binary (generated migrations.c). */
#ifndef BPM_MIGRATIONS_H
#define BPM_MIGRATIONS_H

#include <stddef.h>

typedef struct bpm_migration {
    int version;
    const char *name;
    const char *sql;
} bpm_migration;

extern const bpm_migration bpm_migrations[];
extern const size_t bpm_migrations_count;

#endif
