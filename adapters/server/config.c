/* Configuration from defaults, a file, the environment and flags, in that
 * order of precedence (the last wins). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

static const char usage[] =
    "usage: bpmnd [--listen HOST:PORT] [--database-url URL] [--data-dir DIR] [--http-threads N]\n"
    "             [--worker-threads N] [--worker-batch N] [--auth on|off|auto] [--max-body BYTES] [--history full|activity|none]\n"
    "             [--amqp-url amqp://USER:PASSWORD@HOST:PORT/VHOST] [--amqp-batch N] [--config FILE]\n"
    "Serves the Camunda 7 REST API under /engine-rest (default http://localhost:8080/engine-rest) and runs\n"
    "the job executor. Environment: BPMND_LISTEN, BPMND_DATABASE_URL, BPMND_DATA_DIR, BPMND_HTTP_THREADS,\n"
    "BPMND_WORKER_THREADS, BPMND_WORKER_BATCH, BPMND_AUTH, BPMND_MAX_BODY, BPMND_HISTORY, BPMND_AMQP_URL, BPMND_AMQP_BATCH,\n"
    "BPMND_CONFIG. With amqp.url set, the outbox relay publishes to RabbitMQ (docs/messaging.md) and the\n"
    "amqp.consume.NAME.* sections of the file consume queues into starts and correlations (docs/events.md).\n";

/* Section prefixes and the fields each takes. Values are checked by their
 * reader (adapters/api/webhook.c for webhook), which names file:line too. */
static const struct {
    const char *prefix;
    const char *const fields[8];
} section_kinds[] = {
    {"webhook", {"kind", "secret", "mapping", "process", NULL}},
    {"amqp.consume", {"queue", "mapping", "process", "max_failures", "dead_letter", "prefetch", NULL}},
};

static bool name_ok(const char *s, size_t n)
{
    if (!n || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

/* "<prefix>.<name>.<field>": 0 when stored, 2 on an error, -1 when key is
 * not a section key. */
static int set_section(bpm_config *c, const char *key, const char *val, const char *where)
{
    for (size_t k = 0; k < sizeof section_kinds / sizeof section_kinds[0]; k++) {
        const char *pre = section_kinds[k].prefix;
        size_t pn = strlen(pre);
        if (strncmp(key, pre, pn) != 0 || key[pn] != '.')
            continue;
        const char *name = key + pn + 1, *dot = strrchr(name, '.');
        if (!dot || !name_ok(name, (size_t)(dot - name))) {
            fprintf(stderr, "bpmnd: %s: \"%s\" must be %s.NAME.FIELD, NAME of letters, digits, '-' and '_'\n", where,
                    key, pre);
            return 2;
        }
        const char *field = dot + 1;
        bool known = false;
        for (const char *const *f = section_kinds[k].fields; *f && !known; f++)
            known = strcmp(*f, field) == 0;
        if (!known) {
            char list[200] = "";
            for (const char *const *f = section_kinds[k].fields; *f; f++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", f == section_kinds[k].fields ? "" : ", ",
                         *f);
            fprintf(stderr, "bpmnd: %s: unknown field \"%s\" of %s \"%.*s\" (known: %s)\n", where, field, pre,
                    (int)(dot - name), name, list);
            return 2;
        }
        bpm_config_section *sec = NULL;
        for (size_t i = 0; i < c->n_sections && !sec; i++)
            if (c->sections[i].prefix == pre && strlen(c->sections[i].name) == (size_t)(dot - name) &&
                strncmp(c->sections[i].name, name, (size_t)(dot - name)) == 0)
                sec = &c->sections[i];
        if (!sec) {
            c->sections = bpm_xrealloc(c->sections, (c->n_sections + 1) * sizeof *c->sections);
            sec = &c->sections[c->n_sections++];
            memset(sec, 0, sizeof *sec);
            sec->prefix = pre;
            snprintf(sec->name, sizeof sec->name, "%.*s", (int)(dot - name), name);
            snprintf(sec->where, sizeof sec->where, "%s", where);
        }
        for (size_t i = 0; i < sec->n_fields; i++)
            if (strcmp(sec->fields[i].key, field) == 0) {
                fprintf(stderr, "bpmnd: %s: %s is set twice (first at %s)\n", where, key, sec->fields[i].where);
                return 2;
            }
        sec->fields = bpm_xrealloc(sec->fields, (sec->n_fields + 1) * sizeof *sec->fields);
        bpm_config_field *f = &sec->fields[sec->n_fields++];
        snprintf(f->key, sizeof f->key, "%s", field);
        /* a mapping file named relative to the configuration file is found
         * next to it, wherever bpmnd was started from */
        if (strcmp(field, "mapping") == 0 && val[0] && val[0] != '/' && c->file_dir[0]) {
            size_t n = strlen(c->file_dir) + strlen(val) + 2;
            f->value = bpm_xmalloc(n);
            snprintf(f->value, n, "%s/%s", c->file_dir, val);
        } else {
            f->value = bpm_xstrdup(val);
        }
        snprintf(f->where, sizeof f->where, "%s", where);
        return 0;
    }
    return -1;
}

void bpm_config_cleanup(bpm_config *c)
{
    for (size_t i = 0; i < c->n_sections; i++) {
        for (size_t k = 0; k < c->sections[i].n_fields; k++)
            free(c->sections[i].fields[k].value);
        free(c->sections[i].fields);
    }
    free(c->sections);
    c->sections = NULL;
    c->n_sections = 0;
}

const char *bpm_config_get(const bpm_config_section *sec, const char *field, const char **where)
{
    for (size_t i = 0; i < sec->n_fields; i++)
        if (strcmp(sec->fields[i].key, field) == 0) {
            if (where)
                *where = sec->fields[i].where;
            return sec->fields[i].value;
        }
    if (where)
        *where = sec->where;
    return NULL;
}

/* Applies one setting; where names the source for the error message. */
static int set(bpm_config *c, const char *key, const char *val, const char *where)
{
    char *end = NULL;
    int st = set_section(c, key, val, where);
    if (st >= 0)
        return st;
    if (strcmp(key, "listen") == 0) {
        const char *colon = strrchr(val, ':');
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == val || !end || *end || port < 0 || port > 65535) {
            fprintf(stderr, "bpmnd: %s: listen must be HOST:PORT, not \"%s\"\n", where, val);
            return 2;
        }
        snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)(colon - val), val);
        c->listen_port = (int)port;
    } else if (strcmp(key, "database_url") == 0) {
        snprintf(c->database_url, sizeof c->database_url, "%s", val);
    } else if (strcmp(key, "data_dir") == 0) {
        snprintf(c->data_dir, sizeof c->data_dir, "%s", val);
    } else if (strcmp(key, "http_threads") == 0 || strcmp(key, "worker_threads") == 0) {
        long n = strtol(val, &end, 10);
        int lo = strcmp(key, "worker_threads") == 0 ? 0 : 1;
        if (!*val || *end || n < lo || n > 64) {
            fprintf(stderr, "bpmnd: %s: %s must be a number from %d to 64, not \"%s\"\n", where, key, lo, val);
            return 2;
        }
        if (key[0] == 'h')
            c->http_threads = (int)n;
        else
            c->worker_threads = (int)n;
    } else if (strcmp(key, "worker_batch") == 0) {
        long n = strtol(val, &end, 10);
        if (!*val || *end || n < 1 || n > 1000) {
            fprintf(stderr, "bpmnd: %s: worker_batch must be a number from 1 to 1000, not \"%s\"\n", where, val);
            return 2;
        }
        c->worker_batch = (int)n;
    } else if (strcmp(key, "auth") == 0) {
        if (strcmp(val, "on") == 0)
            c->auth = BPM_AUTH_ON;
        else if (strcmp(val, "off") == 0)
            c->auth = BPM_AUTH_OFF;
        else if (strcmp(val, "auto") == 0)
            c->auth = BPM_AUTH_AUTO;
        else {
            fprintf(stderr, "bpmnd: %s: auth must be on, off or auto, not \"%s\"\n", where, val);
            return 2;
        }
    } else if (strcmp(key, "max_body") == 0) {
        long long n = strtoll(val, &end, 10);
        if (!*val || *end || n < 1024) {
            fprintf(stderr, "bpmnd: %s: max_body must be a number of bytes of at least 1024, not \"%s\"\n", where, val);
            return 2;
        }
        c->max_body = (size_t)n;
    } else if (strcmp(key, "history") == 0) {
        if (strcmp(val, "full") && strcmp(val, "activity") && strcmp(val, "none")) {
            fprintf(stderr, "bpmnd: %s: history must be full, activity or none, not \"%s\"\n", where, val);
            return 2;
        }
        snprintf(c->history, sizeof c->history, "%s", val);
    } else if (strcmp(key, "amqp.url") == 0 || strcmp(key, "amqp_url") == 0) {
        if (*val && strncmp(val, "amqp://", 7) != 0 && strncmp(val, "amqps://", 8) != 0) {
            fprintf(stderr, "bpmnd: %s: amqp.url must be amqp[s]://USER:PASSWORD@HOST:PORT/VHOST[?cacertfile=PATH]\n",
                    where);
            return 2;
        }
        snprintf(c->amqp_url, sizeof c->amqp_url, "%s", val);
    } else if (strcmp(key, "amqp.batch") == 0 || strcmp(key, "amqp_batch") == 0) {
        long n = strtol(val, &end, 10);
        if (!*val || *end || n < 1 || n > 10000) {
            fprintf(stderr, "bpmnd: %s: amqp.batch must be a number from 1 to 10000, not \"%s\"\n", where, val);
            return 2;
        }
        c->amqp_batch = (int)n;
    } else {
        fprintf(stderr, "bpmnd: %s: unknown setting \"%s\"\n", where, key);
        return 2;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(bpm_config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bpmnd: cannot read the configuration file %s\n", path);
        return 2;
    }
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(c->file_dir, sizeof c->file_dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    else
        snprintf(c->file_dir, sizeof c->file_dir, ".");
    char line[2048];
    int no = 0, st = 0;
    while (!st && fgets(line, sizeof line, f)) {
        no++;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, no);
        if (!strchr(line, '\n') && !feof(f)) {
            /* a cut line would be read as two settings */
            fprintf(stderr, "bpmnd: %s: line longer than %zu characters\n", where, sizeof line - 2);
            st = 2;
            break;
        }
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            fprintf(stderr, "bpmnd: %s: expected \"key = value\"\n", where);
            st = 2;
            break;
        }
        *eq = '\0';
        char *raw = eq + 1, *v = trim(raw);
        if (*v == '"') {
            /* a quoted value keeps every character up to its closing quote,
             * '#' included; only a comment may follow it */
            char *close = strchr(v + 1, '"');
            const char *rest = close ? close + 1 : "";
            while (*rest == ' ' || *rest == '\t')
                rest++;
            if (!close || (*rest && *rest != '#')) {
                fprintf(stderr, "bpmnd: %s: %s\n", where,
                        close ? "only a comment (# ...) may follow a quoted value" : "the quoted value has no closing \"");
                st = 2;
                break;
            }
            *close = '\0';
            v++;
        } else {
            /* an unquoted value ends at a '#' that follows a space or tab;
             * "a#b" stays whole, as in URLs and secrets */
            for (char *h = strchr(raw, '#'); h; h = strchr(h + 1, '#'))
                if (h > raw && (h[-1] == ' ' || h[-1] == '\t')) {
                    *h = '\0';
                    v = trim(raw);
                    break;
                }
        }
        st = set(c, trim(l), v, where);
    }
    fclose(f);
    return st;
}

static const struct {
    const char *env, *key;
} envs[] = {
    {"BPMND_LISTEN", "listen"},
    {"BPMND_DATABASE_URL", "database_url"},
    {"BPMND_DATA_DIR", "data_dir"},
    {"BPMND_HTTP_THREADS", "http_threads"},
    {"BPMND_WORKER_THREADS", "worker_threads"},
    {"BPMND_WORKER_BATCH", "worker_batch"},
    {"BPMND_AUTH", "auth"},
    {"BPMND_MAX_BODY", "max_body"},
    {"BPMND_HISTORY", "history"},
    {"BPMND_AMQP_URL", "amqp.url"},
    {"BPMND_AMQP_BATCH", "amqp.batch"},
};

int bpm_config_load(bpm_config *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "localhost");
    c->listen_port = 8080;
    c->http_threads = 4;
    c->worker_threads = 2;
    c->worker_batch = 64;
    c->max_body = 16u << 20;
    c->amqp_batch = 100;
    snprintf(c->history, sizeof c->history, "full");
    const char *file = getenv("BPMND_CONFIG");
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0)
            file = argv[i + 1];
    int st;
    if (file && *file && (st = load_file(c, file)))
        return st;
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        const char *v = getenv(envs[i].env);
        if (v && *v && (st = set(c, envs[i].key, v, envs[i].env)))
            return st;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "bpmnd: %s: unknown argument or missing value\n%s", a, usage);
            return 2;
        }
        char key[64];
        snprintf(key, sizeof key, "%s", a + 2);
        for (char *k = key; *k; k++)
            if (*k == '-')
                *k = '_';
        i++;
        if (strcmp(key, "config") == 0)
            continue;
        char where[80];
        snprintf(where, sizeof where, "flag %s", a);
        if ((st = set(c, key, argv[i], where)))
            return st;
    }
    return 0;
}

bool bpm_config_loopback(const bpm_config *c)
{
    const char *h = c->listen_host;
    return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 ||
           strcmp(h, "[::1]") == 0;
}
