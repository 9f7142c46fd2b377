/* bpmnd's configuration: defaults, then a file (--config FILE or
 * BPMND_CONFIG, "key = value" lines), then the environment, then flags.
 * Read-only once the server runs. */
#ifndef BPM_CONFIG_H
#define BPM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum bpm_auth_mode {
    BPM_AUTH_AUTO = 0, /* on unless listening on loopback only */
    BPM_AUTH_ON,
    BPM_AUTH_OFF,
} bpm_auth_mode;

/* Named sections: "<prefix>.<name>.<field> = value" lines of the file, e.g.
 * webhook.github.kind = github. Prefixes and their fields are registered in
 * config.c (webhook, amqp.consume). */
typedef struct bpm_config_field {
    char key[32];
    char *value;     /* malloc'd */
    char where[600]; /* "file:line", for the errors of whoever reads the value */
} bpm_config_field;

typedef struct bpm_config_section {
    const char *prefix; /* static: "webhook", "amqp.consume" */
    char name[64];
    char where[600];    /* file:line of its first field */
    bpm_config_field *fields;
    size_t n_fields;
} bpm_config_section;

typedef struct bpm_config {
    char listen_host[128];   /* listen = HOST:PORT; default localhost:8080 */
    int listen_port;
    char database_url[1024]; /* database_url; empty = the embedded cluster */
    char data_dir[512];      /* data_dir: the embedded cluster's home */
    int http_threads;        /* http_threads, default 4 */
    int worker_threads;      /* worker_threads: job executor threads, default 2 (0 = none) */
    int worker_batch;        /* worker_batch: due jobs per acquisition, default 64 */
    bpm_auth_mode auth;      /* auth = on|off|auto */
    size_t max_body;         /* max_body bytes, default 16 MiB */
    char history[16];        /* history = full|activity|none */
    bpm_config_section *sections; /* in file order; live for the process */
    size_t n_sections;
    char file_dir[512]; /* the configuration file's directory: relative paths in it are read from there */
    char amqp_url[1024];     /* amqp.url: RabbitMQ for the outbox relay; empty = no relay */
    int amqp_batch;          /* amqp.batch: outbox rows per relay round, default 100 */
} bpm_config;

/* Fills cfg from everything above; on a bad value prints what is wrong
 * (naming the file and line, variable or flag) and returns 2; 1 when --help
 * was asked for (usage printed); 0 otherwise. */
int bpm_config_load(bpm_config *cfg, int argc, char **argv);
/* Frees the sections (the rest of cfg is plain storage). */
void bpm_config_cleanup(bpm_config *cfg);
/* The value of field in section (borrowed), or NULL. *where (OUT, may be
 * NULL) gets the field's file:line, else the section's. */
const char *bpm_config_get(const bpm_config_section *sec, const char *field, const char **where);
/* True when the listen host is loopback only. */
bool bpm_config_loopback(const bpm_config *cfg);

#endif
