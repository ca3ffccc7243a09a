/*
 * cmd_init.c: `gridhub init` (the database and the hub's CURVE key pair),
 * and what every gridhub command uses: opening the store, the key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"

hub_store *hub_open(const hub_cli *cli)
{
    hub_store *s = NULL;
    gs_errbuf eb = {{0}};
    if (hub_store_open(&s, cli->db, &eb))
        hub_fail("%s", eb.msg);
    return s;
}

void hub_key_path(const char *db, char *out, size_t cap)
{
    snprintf(out, cap, "%s.key", db);
}

int hub_write_secret_file(const char *path, const char *text, bool force)
{
    int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0)
        return hub_fail("%s: %s", path,
                        errno == EEXIST ? "already exists; choose another file or remove it first"
                                        : strerror(errno));
    fchmod(fd, 0600);
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : hub_fail("%s: %s", path, strerror(errno));
}

/* ---- init ------------------------------------------------------------------------ */

int hub_cmd_init(hub_cli *cli)
{
    if (gs_cli_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub init [--force] [--db PATH]\n\nCreates the hub database and the hub's "
             "CURVE key pair; the secret key goes to DB.key\n(mode 0600). Refuses to replace an "
             "existing database or key unless --force.");
        return 0;
    }
    static const gs_cli_opt opts[] = {{"--force", false, 0}, {NULL, false, 0}};
    gs_cli_args a;
    int rc = gs_cli_parse_opts(cli, "init", cli->argc, cli->argv, opts, &a);
    if (rc)
        return rc;
    bool force = gs_cli_count(&a, 0);
    char kp[4096];
    hub_key_path(cli->db, kp, sizeof kp);
    if (!force && (access(cli->db, F_OK) == 0 || access(kp, F_OK) == 0))
        return hub_fail("init: %s or %s already exists (use --force to start over)", cli->db, kp);
    if (force) {
        unlink(cli->db);
        char side[4200];
        snprintf(side, sizeof side, "%s-wal", cli->db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", cli->db);
        unlink(side);
    }
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec))
        return hub_fail("init: cannot make a CURVE key pair: %s", zmq_strerror(errno));
    char text[128];
    snprintf(text, sizeof text, "%s\n", sec);
    if ((rc = hub_write_secret_file(kp, text, force)))
        return rc;
    gs_errbuf eb = {{0}};
    if (hub_store_create(cli->db, pub, &eb)) {
        unlink(kp);
        return hub_fail("init: %s", eb.msg);
    }
    printf("initialized hub %s\npublic key %s\nsecret key in %s (mode 0600)\n", cli->db, pub, kp);
    return 0;
}
