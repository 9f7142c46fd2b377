/* bpmnctl user|group|token: the people bpmnd's REST API authenticates.
 * Passwords are read from BPMND_PASSWORD or the first line of stdin (never
 * from the command line, where other users could see them in ps) and stored
 * as crypt(3) hashes; API tokens are printed once and kept as SHA-256. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cli.h"
#include "pg.h"

static int fail(const bpm_err *err)
{
    fprintf(stderr, "bpmnctl: %s\n", err->msg);
    return 1;
}

/* Runs one statement; prints the error and returns 1 on failure. */
static int run(bpm_pg *pg, const char *sql, int n, const char *const *p, const char *doing, PGresult **out)
{
    bpm_err err = {0};
    if (bpm_pg_query(pg, sql, n, p, NULL, NULL, out, doing, &err))
        return fail(&err);
    return 0;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool read_password(char *out, size_t n)
{
    const char *env = getenv("BPMND_PASSWORD");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return true;
    }
    if (isatty(0))
        fprintf(stderr, "password: ");
    if (!fgets(out, (int)n, stdin))
        return false;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] != '\0';
}

static int user(bpm_pg *pg, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "";
    if (strcmp(verb, "add") == 0 && argc >= 2) {
        char pw[512], hash[256];
        if (!read_password(pw, sizeof pw)) {
            fprintf(stderr, "bpmnctl: user add needs a password in BPMND_PASSWORD or on stdin\n");
            return 2;
        }
        if (!bpm_auth_hash_password(pw, hash, sizeof hash)) {
            fprintf(stderr, "bpmnctl: this system's crypt(3) offers no strong hash method\n");
            return 1;
        }
        memset(pw, 0, sizeof pw);
        const char *p[5] = {argv[1], hash, opt(argc, argv, "--first"), opt(argc, argv, "--last"),
                            opt(argc, argv, "--email")};
        /* adding an existing user sets a new password */
        if (run(pg,
                "insert into app_user (id, password_hash, first_name, last_name, email) values ($1, $2, $3, $4, $5)"
                " on conflict (id) do update set password_hash = excluded.password_hash,"
                " first_name = coalesce(excluded.first_name, app_user.first_name),"
                " last_name = coalesce(excluded.last_name, app_user.last_name),"
                " email = coalesce(excluded.email, app_user.email)",
                5, p, "add the user", NULL))
            return 1;
        printf("user %s saved\n", argv[1]);
        return 0;
    }
    if (strcmp(verb, "delete") == 0 && argc >= 2) {
        const char *p[1] = {argv[1]};
        PGresult *res = NULL;
        if (run(pg, "delete from app_user where id = $1", 1, p, "delete the user", &res))
            return 1;
        bool gone = strcmp(PQcmdTuples(res), "1") == 0;
        PQclear(res);
        if (!gone) {
            fprintf(stderr, "bpmnctl: no user \"%s\"\n", argv[1]);
            return 1;
        }
        printf("user %s deleted\n", argv[1]);
        return 0;
    }
    if (strcmp(verb, "list") == 0) {
        PGresult *res = NULL;
        if (run(pg,
                "select u.id, coalesce(string_agg(m.group_id, ',' order by m.group_id), '') from app_user u left join"
                " app_membership m on m.user_id = u.id group by u.id order by u.id",
                0, NULL, "list the users", &res))
            return 1;
        for (int i = 0; i < PQntuples(res); i++)
            printf("%s  %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        PQclear(res);
        return 0;
    }
    fprintf(stderr, "usage: bpmnctl user add ID [--first F] [--last L] [--email E]   (password: BPMND_PASSWORD or stdin)\n"
                    "       bpmnctl user delete ID | user list\n");
    return 2;
}

static int group(bpm_pg *pg, int argc, char **argv)
{
    const char *verb = argc ? argv[0] : "";
    if (strcmp(verb, "add") == 0 && argc >= 2) {
        const char *p[2] = {argv[1], opt(argc, argv, "--name")};
        if (run(pg, "insert into app_group (id, name) values ($1, $2) on conflict (id) do update set name ="
                    " coalesce(excluded.name, app_group.name)",
                2, p, "add the group", NULL))
            return 1;
        /* --member U, any number of times */
        for (int i = 2; i + 1 < argc; i++)
            if (strcmp(argv[i], "--member") == 0) {
                const char *m[2] = {argv[i + 1], argv[1]};
                PGresult *res = NULL;
                if (run(pg,
                        "insert into app_membership (user_id, group_id) select $1, $2 where exists (select 1 from"
                        " app_user where id = $1) on conflict do nothing",
                        2, m, "add the member", &res))
                    return 1;
                PQclear(res);
                const char *u[1] = {argv[i + 1]};
                if (run(pg, "select 1 from app_user where id = $1", 1, u, "find the user", &res))
                    return 1;
                bool known = PQntuples(res) == 1;
                PQclear(res);
                if (!known) {
                    fprintf(stderr, "bpmnctl: no user \"%s\" (add it with bpmnctl user add)\n", argv[i + 1]);
                    return 1;
                }
            }
        printf("group %s saved\n", argv[1]);
        return 0;
    }
    fprintf(stderr, "usage: bpmnctl group add ID [--name NAME] [--member USER]...\n"
                    "       (the group 'admin' may run operator actions and deploy)\n");
    return 2;
}

static int token(bpm_pg *pg, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "create") != 0) {
        fprintf(stderr, "usage: bpmnctl token create USER [--name NAME]   (prints the token once)\n");
        return 2;
    }
    unsigned char raw[32];
    int fd = open("/dev/urandom", O_RDONLY);
    bool ok = fd >= 0 && read(fd, raw, sizeof raw) == (ssize_t)sizeof raw;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        fprintf(stderr, "bpmnctl: cannot read /dev/urandom\n");
        return 1;
    }
    char tok[80] = "bpmnd_";
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(tok + 6 + 2 * i, 3, "%02x", raw[i]);
    char digest[65];
    bpm_auth_sha256_hex(tok, digest);
    const char *p[3] = {digest, argv[1], opt(argc, argv, "--name")};
    PGresult *res = NULL;
    if (run(pg,
            "insert into api_token (token_sha256, user_id, name) select $1, $2, $3 where exists (select 1 from app_user"
            " where id = $2)",
            3, p, "create the token", &res))
        return 1;
    bool made = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!made) {
        fprintf(stderr, "bpmnctl: no user \"%s\" (add it with bpmnctl user add)\n", argv[1]);
        return 1;
    }
    printf("%s\n", tok);
    return 0;
}

int bpm_cli_users(int argc, char **argv)
{
    bpm_err err = {0};
    bpm_pg *pg = NULL;
    if (bpm_cli_connect(&pg, false, &err))
        return fail(&err);
    int st;
    if (strcmp(argv[0], "user") == 0)
        st = user(pg, argc - 1, argv + 1);
    else if (strcmp(argv[0], "group") == 0)
        st = group(pg, argc - 1, argv + 1);
    else
        st = token(pg, argc - 1, argv + 1);
    bpm_pg_close(pg);
    return st;
}
