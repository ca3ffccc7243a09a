/*
 * cmd_serve.c: `gridhub serve`: reads the options and the hub's secret key,
 * sets up signals and the descriptor limit, and runs the sync server
 * (server.c) until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "gridsync/bundle.h"
#include "server.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Plaintext is allowed only where nobody else can listen: loopback and ipc. */
static bool local_endpoint(const char *e)
{
    return !strncmp(e, "ipc://", 6) || !strncmp(e, "tcp://127.", 10);
}

int hub_cmd_serve(hub_cli *cli)
{
    enum { O_BIND, O_INFLIGHT, O_INSECURE, O_V, O_VV };
    static const gs_cli_opt opts[] = {{"--bind", true, O_BIND},
                                      {"--inflight-mib", true, O_INFLIGHT},
                                      {"--insecure", false, O_INSECURE},
                                      {"-v", false, O_V},
                                      {"-vv", false, O_VV},
                                      {NULL, false, 0}};
    if (gs_cli_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub serve --bind tcp://*:PORT [--inflight-mib N] [--insecure] [-v|-vv]\n\n"
             "Serves node syncs until SIGINT or SIGTERM, then finishes and answers the\ncommit "
             "in progress and exits. CURVE encryption always, unless --insecure\n(plaintext, "
             "only on tcp://127.x.x.x or ipc://, for development). -v logs\nconnections, -vv "
             "every commit group.\n\n--inflight-mib N: the change data (MiB) all nodes together "
             "may have on the way\ninto the hub's memory at once (default 8). The hub shares it "
             "among the\nnodes syncing, as a window of batches and a batch size it grants each; "
             "with\nthe whole city connected that is one batch of 8 KiB per village.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "serve", cli->argc, cli->argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    hub_server_config cfg = {0};
    cfg.bind = gs_cli_arg(&a, O_BIND);
    cfg.insecure = gs_cli_count(&a, O_INSECURE);
    cfg.verbose = gs_cli_count(&a, O_VV) ? 2 : gs_cli_count(&a, O_V) ? 1 : 0;
    cfg.limits = gs_limits_default;
    const char *mib = gs_cli_arg(&a, O_INFLIGHT);
    if (mib) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(mib, &end, 10);
        if (errno || end == mib || *end || mib[0] == '-' || v < 1 || v > 4096)
            return hub_usage("serve: --inflight-mib must be a whole number of MiB from 1 to 4096, "
                             "not \"%s\"",
                             mib);
        cfg.inflight_bytes = (size_t)v << 20;
    }
    if (!cfg.bind || a.npos)
        return hub_usage("serve needs --bind ENDPOINT");
    if (cfg.insecure && !local_endpoint(cfg.bind))
        return hub_fail("serve: --insecure is allowed only on tcp://127.x.x.x or ipc:// endpoints");
    if (cfg.insecure)
        fprintf(stderr, "gridhub: WARNING: --insecure: plaintext, no authentication; for local "
                        "development only\n");
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    hub_store_meta_text(s, HUB_META_PUBLIC_KEY, cfg.public_key, sizeof cfg.public_key);
    char kp[4096];
    hub_key_path(cli->db, kp, sizeof kp);
    FILE *f = fopen(kp, "r");
    if (!cfg.insecure) {
        if (!f || !fgets(cfg.secret_key, sizeof cfg.secret_key, f) ||
            !gs_z85_key_valid(cfg.secret_key)) {
            if (f)
                fclose(f);
            hub_store_close(&s);
            return hub_fail("serve: cannot read the hub secret key from %s", kp);
        }
    }
    if (f)
        fclose(f);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* one descriptor per connected village: 1,346 for Luohe, more than the usual 1,024 */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    gs_errbuf eb = {{0}};
    rc = hub_serve(s, &cfg, &stop_flag, &eb) ? hub_fail("serve: %s", eb.msg) : 0;
    memset(cfg.secret_key, 0, sizeof cfg.secret_key);
    hub_store_close(&s);
    return rc;
}
