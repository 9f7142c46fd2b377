/* bpmnctl db migrate|start|stop|status: the database bpmnctl and bpmnd use:
 * BPMND_DATABASE_URL when set, else the embedded cluster in the data
 * directory (BPMND_DATA_DIR). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg.h"
#include "pgstore.h"
#include "session.h"

bpm_history_level bpm_cli_history_level(void)
{
    return bpm_session_history_level();
}

bpm_rc bpm_cli_connect(bpm_pg **out, bool quiet, bpm_err *err)
{
    char conninfo[1024];
    bpm_rc rc = bpm_session_conninfo("bpmnctl", quiet, conninfo, sizeof conninfo, err);
    return rc ? rc : bpm_pg_open(conninfo, out, err);
}

int bpm_cli_db(int argc, char **argv)
{
    const char *sub = argc ? argv[0] : NULL;
    bpm_err err = {0};
    char dir[512];
    bpm_cluster_default_dir(dir, sizeof dir);
    if (!sub || strcmp(sub, "--help") == 0) {
        fprintf(sub ? stdout : stderr, "usage: bpmnctl db migrate|start|stop|status\n");
        return sub ? 0 : 2;
    }
    if (strcmp(sub, "stop") == 0) {
        if (bpm_cluster_stop(dir, &err)) {
            fprintf(stderr, "bpmnctl: %s\n", err.msg);
            return 1;
        }
        printf("the embedded PostgreSQL in %s is stopped\n", dir);
        return 0;
    }
    if (strcmp(sub, "migrate") == 0 || strcmp(sub, "start") == 0 || strcmp(sub, "status") == 0) {
        bpm_pg *pg = NULL;
        if (bpm_cli_connect(&pg, false, &err)) {
            fprintf(stderr, "bpmnctl: %s\n", err.msg);
            return 1;
        }
        int version = 0;
        bpm_pg_schema_version(pg, &version, NULL);
        const char *url = getenv("BPMND_DATABASE_URL");
        printf("database: %s\nschema version: %d\n", url && *url ? "BPMND_DATABASE_URL" : dir, version);
        bpm_pg_close(pg);
        return 0;
    }
    fprintf(stderr, "bpmnctl db: unknown subcommand \"%s\"\n", sub);
    return 2;
}
