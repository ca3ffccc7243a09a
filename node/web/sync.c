/*
 * sync.c: 同步, the sync page of the village desk.
 *
 *   GET  /sync       the state: a sync running (how long), the last result
 *                    in words, what waits to be sent, the last sync, and a
 *                    `gridnode sync --watch` running in another process
 *   POST /sync       starts a sync (CSRF-checked by the HTTP layer)
 *   GET  /api/sync   the same state as JSON, which sync.js polls every
 *                    second while a sync runs
 *
 * A sync runs on a thread of its own with its own store connection
 * (node_store_open on nweb->db_path; SQLite's WAL lets it write while the
 * server's connection reads), through node_sync_once, the function
 * `gridnode sync` runs. One at a time: a second press while one runs only
 * shows the one running. The state it shares with the server's thread is
 * struct nweb_sync, guarded by nweb->sync_lock; the thread touches nothing
 * else of the desk.
 *
 * A watch in another process is known by the heartbeat its loop writes in
 * the meta table (cmd_sync.c): its pid, still alive, and a beat less than
 * WATCH_STALE_MS old.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "gridsync/hlc.h"
#include "pages.h"
#include "sync.h"

#define WATCH_STALE_MS 150000 /* a watch beats at least every 30 s + the hub's timeout + backoff */

/* What the server's thread and the sync thread share (under sync_lock). */
struct nweb_sync {
    pthread_t thread;
    bool started;  /* a thread was started and not joined yet */
    bool running;  /* it has not finished */
    volatile sig_atomic_t stop;
    int64_t started_ms, finished_ms;
    int rc;
    char msg[GS_ERRBUF_MAX];
    node_sync_stats st;
    uint64_t runs;
};

/* A snapshot of the state, taken under the lock. */
typedef struct sync_view {
    bool running, ever;
    int64_t started_ms, finished_ms;
    int rc;
    char msg[GS_ERRBUF_MAX];
    node_sync_stats st;
} sync_view;

static void *sync_thread(void *arg)
{
    nweb *w = arg;
    node_store *s = NULL;
    node_sync_stats st = {0};
    gs_errbuf eb = {{0}};
    int rc = node_store_open(&s, w->db_path, &eb);
    if (!rc) {
        node_sync_opts o;
        node_sync_opts_default(&o);
        o.progress = false;
        o.stop = &w->sync->stop;
        /* plaintext only for a node that has no hub key to talk CURVE with
         * (a development hub), as `gridnode sync --insecure` */
        o.insecure = !node_store_identity(s)->hub_public_key[0];
        rc = node_sync_once(s, &o, &st, &eb);
    }
    node_store_close(&s);
    pthread_mutex_lock(&w->sync_lock);
    w->sync->running = false;
    w->sync->finished_ms = (int64_t)gs_wall_ms();
    w->sync->rc = rc;
    w->sync->st = st;
    snprintf(w->sync->msg, sizeof w->sync->msg, "%s", rc ? eb.msg : "");
    pthread_mutex_unlock(&w->sync_lock);
    return NULL;
}

/* Starts a sync unless one runs; GS_EEXIST when one does. Called on the
 * server's thread. */
static int sync_start(nweb *w, gs_errbuf *eb)
{
    int rc = GS_OK;
    pthread_mutex_lock(&w->sync_lock);
    if (!w->sync && !(w->sync = calloc(1, sizeof *w->sync)))
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    else if (w->sync->running)
        rc = GS_EEXIST;
    if (!rc && w->sync->started) {
        pthread_join(w->sync->thread, NULL); /* finished: running is false */
        w->sync->started = false;
    }
    if (!rc) {
        w->sync->running = true;
        w->sync->stop = 0;
        w->sync->started_ms = (int64_t)gs_wall_ms();
        w->sync->msg[0] = '\0';
        w->sync->runs++;
        if (pthread_create(&w->sync->thread, NULL, sync_thread, w)) {
            w->sync->running = false;
            rc = gs_errf(eb, GS_ENOMEM, "无法启动同步线程 (cannot start the sync thread)");
        } else {
            w->sync->started = true;
        }
    }
    pthread_mutex_unlock(&w->sync_lock);
    return rc;
}

void nweb_sync_stop(nweb *w)
{
    pthread_mutex_lock(&w->sync_lock);
    struct nweb_sync *st = w->sync;
    if (st)
        st->stop = 1;
    pthread_mutex_unlock(&w->sync_lock);
    if (st && st->started)
        pthread_join(st->thread, NULL);
    free(st);
    w->sync = NULL;
}

static sync_view sync_get(nweb *w)
{
    sync_view v = {0};
    pthread_mutex_lock(&w->sync_lock);
    if (w->sync) {
        v.running = w->sync->running;
        v.ever = w->sync->runs > 0;
        v.started_ms = w->sync->started_ms;
        v.finished_ms = w->sync->finished_ms;
        v.rc = w->sync->rc;
        v.st = w->sync->st;
        snprintf(v.msg, sizeof v.msg, "%s", w->sync->msg);
    }
    pthread_mutex_unlock(&w->sync_lock);
    return v;
}

/* The result in words, Chinese first. */
static void result_words(const sync_view *v, gs_buf *b)
{
    if (v->running) {
        gs_buf_printf(b, "正在同步，已用 %lld 秒 (syncing)",
                      (long long)(((int64_t)gs_wall_ms() - v->started_ms) / 1000));
        return;
    }
    if (!v->ever) {
        gs_buf_puts(b, "本次打开工作台后还没有同步 (no sync since the desk started)");
        return;
    }
    switch (v->rc) {
    case GS_OK:
        gs_buf_printf(b, "同步完成：发送 %llu 条，接收 %llu 条，被市级平台退回 %llu 条，本机拒收 %llu 条",
                      (unsigned long long)v->st.sent, (unsigned long long)v->st.pulled,
                      (unsigned long long)v->st.rejected, (unsigned long long)v->st.refused);
        return;
    case GS_ETIMEOUT:
        gs_buf_puts(b, "无法连接市级平台：等待应答超时，请检查网络后再试");
        break;
    case GS_EAUTH: gs_buf_puts(b, "市级平台拒绝了本机：本机的密钥未登记或已停用，请联系市级管理员"); break;
    case GS_ECHAIN: gs_buf_puts(b, "本机记录与市级平台不一致，请联系市级管理员核对"); break;
    case GS_EZMQ: gs_buf_puts(b, "无法连接市级平台：网络错误"); break;
    default: gs_buf_puts(b, "同步失败"); break;
    }
    if (v->msg[0])
        gs_buf_printf(b, " (%s)", v->msg);
}

static const char *state_name(const sync_view *v)
{
    return v->running ? "running" : !v->ever ? "idle" : v->rc ? "failed" : "done";
}

/* A watch in another process, from its heartbeat. */
typedef struct watch_view {
    bool running;
    int64_t pid, beat_ms;
    char state[GS_ERRBUF_MAX];
} watch_view;

static watch_view watch_get(node_store *s)
{
    watch_view v = {0};
    v.pid = node_store_meta_int(s, NODE_META_WATCH_PID, 0);
    v.beat_ms = node_store_meta_int(s, NODE_META_WATCH_BEAT_MS, 0);
    node_store_meta_text(s, NODE_META_WATCH_STATE, v.state, sizeof v.state);
    int64_t age = (int64_t)gs_wall_ms() - v.beat_ms;
    v.running = v.pid > 0 && age < WATCH_STALE_MS &&
                (kill((pid_t)v.pid, 0) == 0 || errno == EPERM);
    return v;
}

/* What waits to be sent: the node's own changes past what the hub acked. */
static int64_t pending(node_store *s)
{
    uint64_t head = 0;
    uint8_t h[GS_HASH_LEN];
    if (node_store_head(s, &head, h, NULL))
        return -1;
    int64_t acked = node_store_meta_int(s, NODE_META_ACKED_THROUGH, 0);
    return (int64_t)head > acked ? (int64_t)head - acked : 0;
}

static void when(gs_buf *b, int64_t ms)
{
    if (ms <= 0)
        gs_buf_puts(b, "从未 (never)");
    else
        gs_datetime_from_ms(ms, b);
}

static int h_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    sync_view v = sync_get(w);
    watch_view wv = watch_get(w->store);
    nweb_begin(rq, rs, NWEB_SYNC, nweb_t(rq, "同步", "Sync"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    if (v.running) /* without JavaScript: the page reloads itself while the sync runs */
        gs_buf_puts(b, "<noscript><meta http-equiv=\"refresh\" content=\"1\"></noscript>\n");
    gs_buf words = GS_BUF_INIT;
    result_words(&v, &words);
    gs_html_printf(b, "<div id=\"sync-state\" class=\"sync-state %s\" data-state=\"%s\" "
                      "aria-live=\"polite\">%s</div>\n",
                   state_name(&v), state_name(&v), words.data);
    gs_buf_free(&words);
    gs_buf_puts(b, "<form method=\"post\" action=\"/sync\" id=\"sync-form\">");
    nweb_csrf_field(rq, b);
    gs_buf_printf(b, "<p><button type=\"submit\" class=\"primary\" id=\"sync-button\"%s>%s</button></p></form>\n",
                  v.running ? " disabled" : "", nweb_t(rq, "立即同步", "Sync now"));
    node_store *s = w->store;
    const node_identity *id = node_store_identity(s);
    gs_buf_puts(b, "<table class=\"figures\">\n<tr><th>市级平台</th><td>");
    gs_html_escape(b, id->hub_endpoint);
    gs_buf_puts(b, "</td></tr>\n<tr><th>上次同步</th><td id=\"last-sync\">");
    when(b, node_store_meta_int(s, NODE_META_LAST_SYNC_MS, 0));
    gs_buf_printf(b, "</td></tr>\n<tr><th>待上传的修改</th><td id=\"pending\">%lld 条</td></tr>\n"
                     "<tr><th>被市级平台退回的修改</th><td>%lld 条</td></tr>\n",
                  (long long)pending(s), (long long)node_store_rejected_count(s));
    gs_buf_puts(b, "<tr><th>自动同步 (sync --watch)</th><td id=\"watch\">");
    if (wv.running) {
        gs_buf_printf(b, "正在运行 (进程 %lld)，上次 ", (long long)wv.pid);
        when(b, wv.beat_ms);
        if (wv.state[0])
            gs_html_printf(b, "；上次失败：%s", wv.state);
    } else {
        gs_buf_puts(b, "未运行 (not running)");
    }
    gs_buf_puts(b, "</td></tr>\n</table>\n<script src=\"/static/sync.js\"></script>\n");
    nweb_end(rq, rs);
    return GS_OK;
}

static int h_start(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    gs_errbuf eb = {{0}};
    int rc = sync_start(pg_web(app), &eb);
    if (rc && rc != GS_EEXIST)
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    return gs_http_redirect(rs, "/sync");
}

static int h_api(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)rq;
    nweb *w = pg_web(app);
    sync_view v = sync_get(w);
    watch_view wv = watch_get(w->store);
    gs_buf words = GS_BUF_INIT;
    result_words(&v, &words);
    int64_t now = (int64_t)gs_wall_ms();
    json_t *j = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:{s:b, s:I, s:I, s:s}}", "state",
        state_name(&v), "text", words.data, "elapsed_s",
        (json_int_t)(v.ever ? ((v.running ? now : v.finished_ms) - v.started_ms) / 1000 : 0),
        "sent", (json_int_t)v.st.sent, "received", (json_int_t)v.st.pulled, "rejected",
        (json_int_t)v.st.rejected, "refused", (json_int_t)v.st.refused, "error", v.msg, "pending",
        (json_int_t)pending(w->store), "last_sync_ms",
        (json_int_t)node_store_meta_int(w->store, NODE_META_LAST_SYNC_MS, 0), "watch", "running",
        wv.running, "pid", (json_int_t)(wv.running ? wv.pid : 0), "beat_ms", (json_int_t)wv.beat_ms,
        "state", wv.state);
    gs_buf_free(&words);
    return gs_http_json_reply(rs, 200, j);
}

const gs_http_route nweb_sync_routes[] = {
    {"GET", "/sync", h_page, 0},
    {"POST", "/sync", h_start, 0},
    {"GET", "/api/sync", h_api, 0},
    {NULL, NULL, NULL, 0},
};
