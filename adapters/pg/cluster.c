/* The embedded default: a private PostgreSQL cluster under the data
 * directory, created with initdb and run with pg_ctl on a Unix socket only.
 * As root, the server runs as the 'postgres' system user (PostgreSQL refuses
 * root). A lock file serialises concurrent starters. */
#define _DEFAULT_SOURCE /* setgroups, flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg.h"

/* Newest server binaries Debian installed: /usr/lib/postgresql/N/bin. */
static bool find_bin(char *out, size_t n)
{
    const char *env = getenv("BPMND_PG_BIN");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return true;
    }
    int best = 0;
    DIR *d = opendir("/usr/lib/postgresql");
    if (!d)
        return false;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);
        char probe[300];
        snprintf(probe, sizeof probe, "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
        if (end && *end == '\0' && v > best && access(probe, X_OK) == 0)
            best = (int)v;
    }
    closedir(d);
    if (!best)
        return false;
    snprintf(out, n, "/usr/lib/postgresql/%d/bin", best);
    return true;
}

/* Runs argv (argv[0] absolute) as `run_as` (or ourselves when NULL), output
 * appended to log. Returns the exit status, or -1 if it could not run. */
static int run(const struct passwd *run_as, const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            if (run_as && fchown(fd, run_as->pw_uid, run_as->pw_gid) != 0) {
                /* the log stays root's; the server opens its own log anyway */
            }
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        if (run_as) {
            if (setgroups(0, NULL) != 0 || setgid(run_as->pw_gid) != 0 || setuid(run_as->pw_uid) != 0)
                _exit(126);
            setenv("HOME", run_as->pw_dir, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, mode) != 0 && errno != EEXIST ? -1 : 0;
}

void bpm_cluster_default_dir(char *buf, size_t n)
{
    const char *env = getenv("BPMND_DATA_DIR");
    if (env && *env) {
        /* absolute, since libpq takes a socket directory only as an
         * absolute path (a relative one would be read as a host name) */
        char cwd[1024];
        if (env[0] != '/' && getcwd(cwd, sizeof cwd))
            snprintf(buf, n, "%s/%s", cwd, env);
        else
            snprintf(buf, n, "%s", env);
        return;
    }
    if (geteuid() == 0) {
        snprintf(buf, n, "/var/lib/bpmnd");
        return;
    }
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, n, "%s/bpmnd", xdg);
    else
        snprintf(buf, n, "%s/.local/share/bpmnd", home && *home ? home : "/tmp");
}

/* Unix socket paths are limited to about 107 bytes: use a short directory
 * under /tmp named after the data directory when the natural one is long. */
static void socket_dir(const char *data_dir, char *out, size_t n)
{
    snprintf(out, n, "%s/run", data_dir);
    if (strlen(out) + sizeof "/.s.PGSQL.5432" < 100)
        return;
    unsigned long h = 5381;
    for (const char *p = data_dir; *p; p++)
        h = h * 33 + (unsigned char)*p;
    snprintf(out, n, "/tmp/bpmnd-%lu-%lx", (unsigned long)geteuid(), h);
}

bpm_rc bpm_cluster_ensure(const char *data_dir, bpm_cluster *out, bpm_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->data_dir, sizeof out->data_dir, "%s", data_dir);
    char bin[256];
    if (!find_bin(bin, sizeof bin))
        return bpm_err_set(err, BPM_UNAVAILABLE,
                           "no PostgreSQL server binaries under /usr/lib/postgresql: install them (tools/install-deps) "
                           "or set BPMND_DATABASE_URL");
    const struct passwd *pw = NULL;
    if (geteuid() == 0) {
        pw = getpwnam("postgres");
        if (!pw)
            return bpm_err_set(err, BPM_UNAVAILABLE,
                               "running as root, the embedded PostgreSQL needs the 'postgres' system user, which does not "
                               "exist: install the postgresql package or set BPMND_DATABASE_URL");
    }
    if (mkdir_p(data_dir, 0755) != 0)
        return bpm_err_set(err, BPM_IO, "could not create data directory \"%s\": %s", data_dir, strerror(errno));

    char lock_path[600], pgdata[600], sock[300], version[700];
    snprintf(lock_path, sizeof lock_path, "%s/cluster.lock", data_dir);
    snprintf(pgdata, sizeof pgdata, "%s/pg", data_dir);
    snprintf(out->log_path, sizeof out->log_path, "%s/postgresql.log", data_dir);
    socket_dir(data_dir, sock, sizeof sock);
    int lock = open(lock_path, O_RDWR | O_CREAT, 0644);
    if (lock < 0)
        return bpm_err_set(err, BPM_IO, "could not open \"%s\": %s", lock_path, strerror(errno));
    while (flock(lock, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(lock);
            return bpm_err_set(err, BPM_IO, "could not lock \"%s\": %s", lock_path, strerror(errno));
        }
    bpm_rc rc = BPM_OK;
    snprintf(version, sizeof version, "%s/PG_VERSION", pgdata);
    if (mkdir_p(sock, 0700) != 0) {
        rc = bpm_err_set(err, BPM_IO, "could not create socket directory \"%s\": %s", sock, strerror(errno));
        goto done;
    }
    if (pw && (chown(sock, pw->pw_uid, pw->pw_gid) != 0)) {
        rc = bpm_err_set(err, BPM_IO, "could not give \"%s\" to the postgres user: %s", sock, strerror(errno));
        goto done;
    }
    if (access(version, F_OK) != 0) {
        if (mkdir_p(pgdata, 0700) != 0 || (pw && chown(pgdata, pw->pw_uid, pw->pw_gid) != 0)) {
            rc = bpm_err_set(err, BPM_IO, "could not prepare \"%s\": %s", pgdata, strerror(errno));
            goto done;
        }
        char initdb[300];
        snprintf(initdb, sizeof initdb, "%s/initdb", bin);
        char *argv[] = {initdb, "-D", pgdata, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", NULL};
        int st = run(pw, out->log_path, argv);
        if (st != 0) {
            rc = bpm_err_set(err, BPM_UNAVAILABLE,
                             "initdb failed for \"%s\" (exit %d); see %s%s", pgdata, st, out->log_path,
                             pw ? " (as root the cluster runs as 'postgres', which must be able to reach the data "
                                  "directory: choose one outside /root with BPMND_DATA_DIR)"
                                : "");
            goto done;
        }
        out->created = true;
    }
    char pg_ctl[300];
    snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", bin);
    {
        char *argv[] = {pg_ctl, "-D", pgdata, "status", NULL};
        int st = run(pw, "/dev/null", argv);
        if (st != 0) {
            char opts[512];
            snprintf(opts, sizeof opts, "-k %s -c listen_addresses='' -p 5432", sock);
            char *start[] = {pg_ctl, "-D", pgdata, "-l", out->log_path, "-w", "-t", "60", "-o", opts, "start", NULL};
            if (pw && access(out->log_path, F_OK) != 0) {
                int fd = open(out->log_path, O_WRONLY | O_CREAT, 0600);
                if (fd >= 0) {
                    if (fchown(fd, pw->pw_uid, pw->pw_gid) != 0) {
                        /* pg_ctl will report that it cannot write its log */
                    }
                    close(fd);
                }
            }
            st = run(pw, "/dev/null", start);
            if (st != 0) {
                rc = bpm_err_set(err, BPM_UNAVAILABLE, "could not start PostgreSQL in \"%s\" (exit %d); see %s", pgdata,
                                 st, out->log_path);
                goto done;
            }
            out->started = true;
        }
    }
    snprintf(out->conninfo, sizeof out->conninfo, "host=%s port=5432 user=postgres dbname=postgres", sock);
done:
    flock(lock, LOCK_UN);
    close(lock);
    return rc;
}

bpm_rc bpm_cluster_stop(const char *data_dir, bpm_err *err)
{
    char bin[256], pgdata[600], pg_ctl[300];
    if (!find_bin(bin, sizeof bin))
        return bpm_err_set(err, BPM_UNAVAILABLE, "no PostgreSQL server binaries under /usr/lib/postgresql");
    snprintf(pgdata, sizeof pgdata, "%s/pg", data_dir);
    snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", bin);
    const struct passwd *pw = geteuid() == 0 ? getpwnam("postgres") : NULL;
    char *status[] = {pg_ctl, "-D", pgdata, "status", NULL};
    if (run(pw, "/dev/null", status) != 0)
        return BPM_OK; /* not running: nothing to do */
    char *argv[] = {pg_ctl, "-D", pgdata, "-m", "fast", "-w", "stop", NULL};
    if (run(pw, "/dev/null", argv) != 0)
        return bpm_err_set(err, BPM_UNAVAILABLE, "could not stop PostgreSQL in \"%s\"", pgdata);
    return BPM_OK;
}
