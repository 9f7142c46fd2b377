/* bpmnctl audit: the audit trail for auditors, filtered by instance,
 * business key, user, element, event kind, time range and definition, as a
 * table, JSON or CSV. Reads the audit_event view (docs/audit.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg.h"

static const struct {
    const char *flag, *sql;
} filters[] = {
    {"--instance", "instance_id = $%d"},
    {"--business-key", "business_key = $%d"},
    {"--user", "user_id = $%d"},
    {"--element", "element_id = $%d"},
    {"--kind", "kind = any(string_to_array($%d, ','))"},
    {"--definition", "definition_key = $%d"},
    {"--from", "at >= $%d::timestamptz"},
    {"--to", "at < $%d::timestamptz"},
};
#define N_FILTERS (sizeof filters / sizeof filters[0])

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

int bpm_cli_audit(int argc, char **argv)
{
    const char *vals[N_FILTERS] = {0};
    const char *format = "table";
    long limit = 0;
    for (int i = 0; i < argc; i++) {
        bool known = false;
        for (size_t f = 0; f < N_FILTERS; f++)
            if (strcmp(argv[i], filters[f].flag) == 0 && i + 1 < argc) {
                vals[f] = argv[++i];
                known = true;
            }
        if (known)
            continue;
        if (strcmp(argv[i], "--json") == 0)
            format = "json";
        else if (strcmp(argv[i], "--csv") == 0)
            format = "csv";
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: bpmnctl audit [--instance ID] [--business-key K] [--user U] [--element EL] [--kind K[,K]]\n"
                    "                     [--definition KEY] [--from TIME] [--to TIME] [--limit N] [--json | --csv]\n");
            return 2;
        }
    }
    char sql[2048];
    size_t n = (size_t)snprintf(sql, sizeof sql,
                                "select seq, to_char(at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') as at,"
                                " instance_id, definition_key, business_key, kind, element_id, element_type, user_id,"
                                " detail from audit_event where true");
    const char *params[N_FILTERS];
    int np = 0;
    for (size_t f = 0; f < N_FILTERS; f++) {
        if (!vals[f])
            continue;
        params[np++] = vals[f];
        n += (size_t)snprintf(sql + n, sizeof sql - n, " and ");
        n += (size_t)snprintf(sql + n, sizeof sql - n, filters[f].sql, np);
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, " order by seq");
    if (limit > 0)
        snprintf(sql + n, sizeof sql - n, " limit %ld", limit);
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, true, &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        return 1;
    }
    PGresult *res = NULL;
    if (strcmp(format, "json") == 0) {
        char wrapped[2300];
        snprintf(wrapped, sizeof wrapped, "select coalesce(json_agg(t), '[]') from (%s) t", sql);
        if (bpm_pg_query(pg, wrapped, np, params, NULL, NULL, &res, "read the audit trail", &err)) {
            fprintf(stderr, "bpmnctl: %s\n", err.msg);
            bpm_pg_close(pg);
            return 1;
        }
        printf("%s\n", PQgetvalue(res, 0, 0));
        PQclear(res);
        bpm_pg_close(pg);
        return 0;
    }
    if (bpm_pg_query(pg, sql, np, params, NULL, NULL, &res, "read the audit trail", &err)) {
        fprintf(stderr, "bpmnctl: %s\n", err.msg);
        bpm_pg_close(pg);
        return 1;
    }
    int rows = PQntuples(res), cols = PQnfields(res);
    if (strcmp(format, "csv") == 0) {
        for (int j = 0; j < cols; j++)
            csv(PQfname(res, j), j + 1 == cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                csv(PQgetvalue(res, i, j), j + 1 == cols);
    } else {
        /* a readable table: time, business key, event, element, user, detail */
        printf("%-24s  %-12s  %-17s  %-32s  %-10s  %s\n", "at", "business_key", "event", "element", "user", "detail");
        for (int i = 0; i < rows; i++)
            printf("%-24s  %-12.12s  %-17.17s  %-32.32s  %-10.10s  %.80s\n", PQgetvalue(res, i, 1),
                   PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 8),
                   PQgetvalue(res, i, 9));
        if (!rows)
            printf("(none)\n");
    }
    PQclear(res);
    bpm_pg_close(pg);
    return 0;
}
