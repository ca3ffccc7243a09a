/*
 * cmd_sync.c: `gridnode sync`, `verify` and `keygen`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "cli.h"
#include "gridsync/hlc.h"
#include "sync.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char sync_help[] =
    "usage: gridnode sync [--watch] [--timeout SECONDS] [--from-start] [--insecure] [--db PATH]\n"
    "\n"
    "Sends every change not yet acknowledged by the city hub, then receives the city's\n"
    "changes for this village, then exits 0. Exits non-zero with a clear message when the\n"
    "hub cannot be reached within --timeout (default 30). With --watch it keeps going:\n"
    "it syncs soon after each local entry, pulls the city's changes every 30 s, on one\n"
    "connection it keeps open (a new one after a failure), retries with exponential\n"
    "backoff when the hub is away, and stops on Ctrl-C.\n"
    "--insecure talks plaintext to a development hub started with --insecure.\n"
    "--from-start receives the city's changes for this village from the beginning again\n"
    "(harmless, they are applied idempotently); needed once after the hub was restored from\n"
    "a backup, so that changes other nodes re-sent to it are not skipped.\n";

/* Parses the options common to sync and verify. */
static int sync_args(node_cli *cli, const char *cmd, node_sync_opts *o, bool *watch,
                     bool *from_start)
{
    node_sync_opts_default(o);
    o->progress = isatty(STDERR_FILENO);
    enum { O_WATCH, O_FROM_START, O_INSECURE, O_QUIET, O_TIMEOUT };
    static const gs_cli_opt sync_opts[] = {
        {"--watch", false, O_WATCH},       {"--from-start", false, O_FROM_START},
        {"--insecure", false, O_INSECURE}, {"--quiet", false, O_QUIET},
        {"--timeout", true, O_TIMEOUT},    {NULL, false, 0}};
    /* verify has no --watch nor --from-start */
    gs_cli_args a;
    int rc = gs_cli_parse(cli, cmd, cli->argc, cli->argv, watch ? sync_opts : sync_opts + 2, NULL,
                          NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return node_usage("%s: unexpected argument %s", cmd, a.pos[0]);
    if (watch)
        *watch = gs_cli_count(&a, O_WATCH);
    if (from_start)
        *from_start = gs_cli_count(&a, O_FROM_START);
    o->insecure = gs_cli_count(&a, O_INSECURE);
    if (gs_cli_count(&a, O_QUIET))
        o->progress = false;
    const char *t = gs_cli_arg(&a, O_TIMEOUT);
    if (t) {
        char *end;
        long secs = strtol(t, &end, 10);
        if (!*t || *end || secs < 1 || secs > 86400)
            return node_usage("%s: --timeout takes whole seconds from 1 to 86400", cmd);
        o->timeout_ms = (int)secs * 1000;
    }
    return NODE_EXIT_OK;
}

static void report_skew(const node_sync_stats *st)
{
    if (st->skew_ms > 60000 || st->skew_ms < -60000)
        fprintf(stderr,
                "gridnode: 注意 本机时钟与城市中心相差 %+lld 秒; warning: this PC's clock is off "
                "by %+lld s (the records stay correctly ordered)\n",
                (long long)(st->skew_ms / 1000), (long long)(st->skew_ms / 1000));
}

/* Sleeps up to ms, waking early on a stop signal. */
static void nap(int64_t ms)
{
    while (ms > 0 && !stop_flag) {
        int64_t step = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* The watch's heartbeat in the meta table, after every session: whoever
 * opens the database (the 同步 page of `gridnode web`) can tell that a
 * watch runs, when it last synced and whether that failed. pid 0: it
 * stopped. A heartbeat that cannot be written is not worth stopping for. */
static void heartbeat(node_store *s, int64_t pid, const char *state)
{
    node_store_meta_set_int(s, NODE_META_WATCH_PID, pid, NULL);
    node_store_meta_set_int(s, NODE_META_WATCH_BEAT_MS, (int64_t)gs_wall_ms(), NULL);
    node_store_meta_set_text(s, NODE_META_WATCH_STATE, state, NULL);
}

/* Syncs soon after each local write and every 30 s, on one connection kept
 * open between syncs (a new one after a failure). */
static int watch_loop(node_store *s, node_sync_opts *o)
{
    node_sync *conn = NULL;
    int failures = 0;
    uint64_t last_head = (uint64_t)-1;
    int64_t last_sync = 0;
    heartbeat(s, (int64_t)getpid(), "");
    while (!stop_flag) {
        uint64_t head = 0;
        uint8_t h[GS_HASH_LEN];
        node_store_head(s, &head, h, NULL);
        int64_t now = (int64_t)gs_wall_ms();
        if (head == last_head && now - last_sync < 30000) {
            nap(500); /* soon after a local write, or every 30 s for the city's changes */
            continue;
        }
        node_sync_stats st = {0};
        gs_errbuf eb = {{0}};
        int rc = conn ? GS_OK : node_sync_open(&conn, s, o, &eb);
        if (!rc)
            rc = node_sync_run(conn, &st, &eb);
        if (rc)
            node_sync_close(&conn);
        if (stop_flag)
            break;
        heartbeat(s, (int64_t)getpid(), rc ? eb.msg : "");
        if (rc == GS_EAUTH) {
            heartbeat(s, 0, eb.msg);
            return node_fail("sync: %s", eb.msg); /* retrying will not help */
        }
        if (rc) {
            failures++;
            int64_t backoff = 1000LL << (failures < 6 ? failures : 6);
            if (backoff > 60000)
                backoff = 60000;
            backoff = backoff / 2 + (int64_t)(randombytes_uniform((uint32_t)backoff));
            fprintf(stderr, "gridnode: sync: %s; retrying in %.1f s\n", eb.msg,
                    (double)backoff / 1000.0);
            nap(backoff);
            continue;
        }
        report_skew(&st);
        if (st.sent || st.pulled || st.rejected)
            fprintf(stderr, "gridnode: synced: %llu sent, acked through %llu, %llu received\n",
                    (unsigned long long)st.sent, (unsigned long long)st.acked_to,
                    (unsigned long long)st.pulled);
        failures = 0;
        last_head = head;
        last_sync = (int64_t)gs_wall_ms();
    }
    node_sync_close(&conn);
    heartbeat(s, 0, "");
    return NODE_EXIT_OK;
}

int node_cmd_sync(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(sync_help, stdout);
        return NODE_EXIT_OK;
    }
    node_sync_opts o;
    bool watch = false, from_start = false;
    int rc = sync_args(cli, "sync", &o, &watch, &from_start);
    if (rc)
        return rc;
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_errbuf fe = {{0}};
    if (from_start && node_store_set_cursor(s, 0, (uint8_t[GS_HASH_LEN]){0}, &fe)) {
        node_store_close(&s);
        return node_fail("sync: %s", fe.msg);
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.stop = &stop_flag;
    if (watch) {
        rc = watch_loop(s, &o);
    } else {
        node_sync_stats st;
        gs_errbuf eb = {{0}};
        if (node_sync_once(s, &o, &st, &eb)) {
            rc = node_fail("sync: %s", eb.msg);
        } else {
            report_skew(&st);
            if (st.returned)
                fprintf(stderr,
                        "gridnode: 交回 gave back %llu of the city's decisions that the hub had "
                        "lost (it was restored from a backup)\n",
                        (unsigned long long)st.returned);
            printf("synced with %s: %llu sent, acked through %llu, %llu rejected, %llu received\n",
                   node_store_identity(s)->hub_endpoint, (unsigned long long)st.sent,
                   (unsigned long long)st.acked_to, (unsigned long long)st.rejected,
                   (unsigned long long)st.pulled);
        }
    }
    node_store_close(&s);
    return rc;
}

int node_cmd_verify(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridnode verify [--timeout SECONDS] [--insecure] [--db PATH]\n\nAsks the hub "
             "for the hash-chain head of this node's log at the last change it\nacknowledged and "
             "compares it with this node's own; and compares the city's own\nchanges this PC "
             "holds (its village's, and the reference data) with the hub's,\nchain by chain. "
             "Exit 0 and 一致 when both agree.");
        return NODE_EXIT_OK;
    }
    node_sync_opts o;
    int rc = sync_args(cli, "verify", &o, NULL, NULL);
    if (rc)
        return rc;
    o.progress = false;
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_errbuf eb = {{0}};
    if (node_verify(s, &o, &eb))
        rc = node_fail("verify: %s", eb.msg);
    node_store_close(&s);
    return rc;
}

int node_cmd_keygen(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridnode keygen [--db PATH]\n\nMakes this node's CURVE key pair before it is "
             "registered: the secret key is kept\nin DB.key (mode 0600) and never leaves this PC; "
             "the public key is printed for the\ncity to register with `gridhub node add "
             "--public-key KEY`. Then install the\nbundle the city sends back with `gridnode init "
             "--bundle FILE`.");
        return NODE_EXIT_OK;
    }
    gs_cli_args a;
    int prc = gs_cli_parse(cli, "keygen", cli->argc, cli->argv, NULL, NULL, NULL, &a);
    if (prc)
        return prc;
    if (a.npos)
        return node_usage("keygen: unexpected argument %s", a.pos[0]);
    char path[4096], pub[41], sec[41];
    snprintf(path, sizeof path, "%s.key", cli->db);
    if (zmq_curve_keypair(pub, sec))
        return node_fail("keygen: %s", zmq_strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return node_fail("keygen: %s: %s", path,
                         errno == EEXIST ? "a key already exists (delete it to make a new one)"
                                         : strerror(errno));
    char text[128];
    int n = snprintf(text, sizeof text, "public = %s\nsecret = %s\n", pub, sec);
    bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    memset(sec, 0, sizeof sec);
    memset(text, 0, sizeof text);
    if (!ok)
        return node_fail("keygen: %s: %s", path, strerror(errno));
    printf("%s\n", pub);
    return NODE_EXIT_OK;
}
