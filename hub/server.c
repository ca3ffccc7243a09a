/*
 * server.c: the hub's sync server (see server.h and DESIGN.md "The sync
 * protocol").
 *
 * One thread, one zmq_poll loop over the ROUTER socket and the ZAP socket.
 * Each turn drains what has arrived: HELLO, PULL and PING are answered at
 * once; PUSHes are queued and then applied together in one transaction
 * (group commit). Only after that commit returns are their ACKs sent, so
 * nothing is acknowledged before it is durable. Pushes that arrive while a
 * commit runs wait in the socket and form the next group.
 *
 * Flow control: the hub grants every node a window (PUSHes in flight) and a
 * batch size in bytes, in each WELCOME and ACK, so that all the nodes
 * together never have more than the in-flight budget on their way into the
 * hub's memory (ZeroMQ's receive pipes and the group-commit queue). The
 * grants are credit against the budget, shared by the sessions active in
 * the last 30 s (see grant()); they shrink as more villages connect and grow
 * back as they finish.
 *
 * Per connection (routing id) a session remembers the node it proved to be
 * (the ZAP User-Id, checked against HELLO). A node's acked_through and chain
 * head are read from the store inside the transaction that advances them, so
 * two connections of one node (a `sync --watch` and a manual sync) can never
 * apply a change twice or check the chain against a stale head.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "city.h"
#include "gridsync/hlc.h"
#include "server.h"

#define MAX_DRAIN 256        /* messages taken per loop turn */
#define MAX_QUEUED_BYTES (64u << 20) /* change bytes queued per group commit */
#define SESSION_IDLE_MS 600000
#define PULL_MAX_CHANGES 512
#define PULL_MAX_BYTES (1u << 20)
/* The grant (see grant()): a node may never have more in flight than this,
 * whatever the budget, and never less than one small batch. */
#define GRANT_MAX_WINDOW 8
#define GRANT_MAX_BATCH (512u << 10)
#define GRANT_MIN_BATCH (8u << 10)
#define SESSION_ACTIVE_MS 30000 /* a session counts against the budget this long */
#define CHECKPOINT_PAGES       1000 /* WAL pages: checkpoint at the next gap of 20 ms */
#define CHECKPOINT_FORCE_PAGES 8000 /* WAL pages: checkpoint after this turn's ACKs */

typedef struct session {
    uint8_t rid[256]; /* ROUTER routing id */
    size_t rid_len;
    bool hello;
    char node_id[GS_ORIGIN_MAX + 1];
    char village[13];
    char key[41]; /* the CURVE key this connection authenticated with ("" if insecure) */
    int64_t last_ms;
    bool seen_dirty; /* a HELLO's visit, written with the next group commit */
    size_t granted;  /* bytes its last grant allows in flight (see grant()) */
    uint64_t pending_until; /* the node's last seq to send, as its HELLO said */
    bool verify;     /* its HELLO asked for the city chains' digests */
    bool open;       /* between HELLO and the last CHANGES page: a close now is a drop */
    char peer[64];   /* the connection's Peer-Address, to name it when it drops */
    int fd;          /* the connection's socket (ZMQ_SRCFD), -1 once it closed */
    int64_t first_ms; /* of its first message */
    hub_node seen;
} session;

/* Why the hub dropped a frame (or a connection, and the frames with it):
 * each reason is logged at most once a second, with how many were not. */
typedef enum {
    DROP_ENVELOPE, /* a routing id without a message, or no session for it */
    DROP_FRAMES,   /* a message of more than one frame */
    DROP_DECODE,   /* not a message of this protocol */
    DROP_ORDER,    /* a message before HELLO, or one a node does not send */
    DROP_SEND,     /* an answer that could not be queued to the peer */
    DROP_CLOSED,   /* a connection closed mid-sync: an oversized frame, or the link */
    DROP_EARLY,    /* one closed before any message of it came through */
    DROP__COUNT
} drop_reason;

typedef struct drop_limit {
    int64_t second; /* of the last line logged */
    long suppressed;
} drop_limit;

/* The peer the last ACCEPTED event named for a connection's socket (fd),
 * so that its DISCONNECTED can be named too (a slot per fd, modulo). */
typedef struct fd_peer {
    int fd;
    char peer[64];
} fd_peer;
#define FD_PEERS 1024

typedef struct pending_push {
    size_t session; /* index into sessions */
    gs_msg msg;
} pending_push;

typedef struct server {
    hub_store *store;
    const hub_server_config *cfg;
    void *ctx, *router, *zap, *mon;
    session *sessions;
    size_t nsessions, cap;
    pending_push *queue;
    size_t nqueue;
    gs_hlc hlc;
    gs_buf out;
    char last_peer[64]; /* address of the latest accepted connection */
    size_t queued_bytes; /* of the pushes waiting for the group commit */
    int64_t refusal_second; /* rate limit of refusal log lines */
    int refusals, suppressed;
    size_t active;     /* sessions sharing the in-flight budget (see grant()) */
    size_t granted;    /* the sum of their grants */
    int64_t active_ms; /* when they were counted */
    int64_t seen_since; /* when the oldest visit not yet written was made */
    drop_limit drops[DROP__COUNT];
    fd_peer fds[FD_PEERS];
    int failed_handshakes; /* whose DISCONNECTED is still to come */
} server;

static void logf_(const server *sv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const server *sv, int level, const char *fmt, ...)
{
    if (sv->cfg->verbose < level)
        return;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s gridhub: ", ts);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Whether to log one more refused or failed connection: at most 5 lines a
 * second, so a client retrying in a loop cannot flood the log. */
static bool log_refusal(server *sv)
{
    int64_t sec = (int64_t)(gs_wall_ms() / 1000);
    if (sec != sv->refusal_second) {
        if (sv->suppressed)
            logf_(sv, 0, "(%d more refused connections not logged)", sv->suppressed);
        sv->refusal_second = sec;
        sv->refusals = sv->suppressed = 0;
    }
    if (++sv->refusals <= 5)
        return true;
    sv->suppressed++;
    return false;
}

/* Logs how many drops of one reason were not logged, if any. */
static void drop_count(server *sv, drop_limit *l)
{
    if (l->suppressed)
        logf_(sv, 0, "(%ld more dropped like the last not logged)", l->suppressed);
    l->suppressed = 0;
}

/* Logs a dropped frame (or connection): always, not only with -v, but at
 * most one line a second per reason, so that a peer sending garbage in a
 * loop cannot flood the log; how many were not logged follows once their
 * second is over (drop_flush). who names the node, or the peer. */
static void drop(server *sv, drop_reason why, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void drop(server *sv, drop_reason why, const char *who, const char *fmt, ...)
{
    static const char *const what[DROP__COUNT] = {
        [DROP_ENVELOPE] = "a frame", [DROP_FRAMES] = "a frame",   [DROP_DECODE] = "a frame",
        [DROP_ORDER] = "a frame",    [DROP_SEND] = "an answer",   [DROP_CLOSED] = "a connection",
        [DROP_EARLY] = "a connection",
    };
    drop_limit *l = &sv->drops[why];
    int64_t sec = (int64_t)(gs_wall_ms() / 1000);
    if (sec == l->second) {
        l->suppressed++;
        return;
    }
    drop_count(sv, l);
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    logf_(sv, 0, "dropped %s %s %s: %s", what[why], why == DROP_SEND ? "to" : "from",
          who && who[0] ? who : "an unknown peer", text);
    l->second = sec;
}

/* Logs the counts of drops not logged, once their second is over. */
static void drop_flush(server *sv)
{
    int64_t sec = (int64_t)(gs_wall_ms() / 1000);
    for (int i = 0; i < DROP__COUNT; i++)
        if (sv->drops[i].second != sec)
            drop_count(sv, &sv->drops[i]);
}

/* Names a session's peer for a log line: "node ID (peer ADDR)". */
static const char *who(const session *s, char *buf, size_t cap)
{
    if (s->node_id[0])
        snprintf(buf, cap, "node %s (peer %s)", s->node_id, s->peer[0] ? s->peer : "?");
    else
        snprintf(buf, cap, "peer %s", s->peer[0] ? s->peer : "?");
    return buf;
}

/* ---- sessions ------------------------------------------------------------------ */

static session *find_session(server *sv, const void *rid, size_t len, bool create)
{
    for (size_t i = 0; i < sv->nsessions; i++)
        if (sv->sessions[i].rid_len == len && !memcmp(sv->sessions[i].rid, rid, len))
            return &sv->sessions[i];
    if (!create || len > sizeof sv->sessions[0].rid)
        return NULL;
    int64_t now = (int64_t)gs_wall_ms();
    /* Reuse an idle slot before growing (sessions of gone connections). */
    for (size_t i = 0; i < sv->nsessions; i++)
        if (now - sv->sessions[i].last_ms > SESSION_IDLE_MS) {
            bool queued = false;
            for (size_t q = 0; q < sv->nqueue; q++)
                queued |= sv->queue[q].session == i;
            if (!queued) {
                memset(&sv->sessions[i], 0, sizeof sv->sessions[i]);
                memcpy(sv->sessions[i].rid, rid, len);
                sv->sessions[i].rid_len = len;
                return &sv->sessions[i];
            }
        }
    if (sv->nsessions == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 64;
        session *p = realloc(sv->sessions, cap * sizeof *p);
        if (!p)
            return NULL;
        sv->sessions = p;
        sv->cap = cap;
    }
    session *s = &sv->sessions[sv->nsessions++];
    memset(s, 0, sizeof *s);
    memcpy(s->rid, rid, len);
    s->rid_len = len;
    return s;
}

/* ---- sending ----------------------------------------------------------------------- */

static void send_msg(server *sv, const session *s, const gs_msg *m)
{
    gs_buf_reset(&sv->out);
    if (gs_msg_encode(m, &sv->cfg->limits, &sv->out) != GS_OK) {
        logf_(sv, 0, "cannot encode %s for %s", gs_msg_name(m->type), s->node_id);
        return;
    }
    /* A peer that is gone or slow is dropped rather than blocking the loop. */
    if (zmq_send(sv->router, s->rid, s->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sv->router, sv->out.data, sv->out.len, ZMQ_DONTWAIT) < 0) {
        char w[160];
        drop(sv, DROP_SEND, who(s, w, sizeof w), "%s not sent: %s", gs_msg_name(m->type),
             zmq_strerror(errno));
    }
}

static void send_error(server *sv, const session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void send_error(server *sv, const session *s, int code, const char *fmt, ...)
{
    gs_msg m = {0};
    m.type = GS_MSG_ERROR;
    m.version = GS_PROTO_VERSION;
    snprintf(m.code, sizeof m.code, "%s", gs_errname(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.text, sizeof m.text, fmt, ap);
    va_end(ap);
    logf_(sv, 1, "ERROR to %s: %s", s->node_id[0] ? s->node_id : "peer", m.text);
    send_msg(sv, s, &m);
}

/* The hub's clock: past everything this process has seen and everything the
 * city commands (which run in other processes) have stamped into meta.hlc. */
static gs_hlc tick_clock(server *sv)
{
    gs_hlc stored = (gs_hlc)hub_store_meta_int(sv->store, "hlc", 0);
    if (stored > sv->hlc)
        sv->hlc = stored;
    sv->hlc = gs_hlc_tick(sv->hlc, gs_wall_ms());
    return sv->hlc;
}

/* The grant of a session: its share of the in-flight budget (the budget
 * divided among the sessions active in the last 30 s), but never more than
 * what the other active sessions' grants leave of it, so that the grants
 * given out never add up to more than the budget (at most one small batch
 * each when more villages are syncing than the budget has room for). With
 * few nodes that is the most a node would use (8 x 512 KiB), with the whole
 * city connected one batch of some KiB. A batch always carries at least one
 * change, so a node whose changes are bigger than its batch sends them one
 * at a time; a node with nothing left to send (by its HELLO's pending count)
 * is granted one small batch, for what is entered meanwhile, and holds none
 * of the budget. */
static void grant(server *sv, session *s, uint64_t acked, gs_msg *m)
{
    int64_t now = (int64_t)gs_wall_ms();
    if (now - sv->active_ms > 100) { /* counted at most 10 times a second */
        sv->active = sv->granted = 0;
        for (size_t i = 0; i < sv->nsessions; i++) {
            session *o = &sv->sessions[i];
            if (o->hello && now - o->last_ms < SESSION_ACTIVE_MS) {
                sv->active++;
                sv->granted += o->granted;
            } else {
                o->granted = 0; /* gone quiet: its grant is free again */
            }
        }
        sv->active_ms = now;
    }
    size_t budget = sv->cfg->inflight_bytes ? sv->cfg->inflight_bytes : HUB_INFLIGHT_DEFAULT;
    size_t share = budget / (sv->active ? sv->active : 1);
    /* no more than the node still has to send, at 1 KiB a change (most
     * are a few hundred bytes): a node that is up to date holds nothing */
    uint64_t left_changes = s->pending_until > acked ? s->pending_until - acked : 0;
    if (left_changes < share / 1024)
        share = (size_t)left_changes * 1024;
    size_t others = sv->granted > s->granted ? sv->granted - s->granted : 0;
    size_t left = budget > others ? budget - others : 0;
    if (share > left)
        share = left;
    size_t batch = share / 2;
    if (batch > GRANT_MAX_BATCH)
        batch = GRANT_MAX_BATCH;
    if (batch < GRANT_MIN_BATCH)
        batch = GRANT_MIN_BATCH;
    size_t window = share / batch;
    window = window < 1 ? 1 : window > GRANT_MAX_WINDOW ? GRANT_MAX_WINDOW : window;
    m->window = window;
    m->batch_bytes = batch;
    s->granted = share ? window * batch : 0;
    sv->granted = others + s->granted;
}

static void send_welcome(server *sv, session *s)
{
    gs_msg m = {0};
    hub_node node;
    gs_errbuf eb = {{0}};
    if (hub_node_get(sv->store, s->node_id, &node, &eb)) {
        send_error(sv, s, GS_ESQL, "cannot read this node's sync state: %s", eb.msg);
        return;
    }
    m.type = GS_MSG_WELCOME;
    m.version = GS_PROTO_VERSION;
    m.acked_through = node.acked_through;
    m.hub_time = tick_clock(sv);
    m.hub_wall = gs_wall_ms();
    m.hub_seq_head = hub_store_hub_seq_head(sv->store);
    memcpy(m.chain_head, node.chain_head, GS_HASH_LEN);
    if (hub_store_own_heads(sv->store, s->verify ? s->village : NULL, m.heads, GS_MAX_HEADS,
                            &m.nheads, &eb)) {
        send_error(sv, s, GS_ESQL, "cannot read the city's chains: %s", eb.msg);
        return;
    }
    grant(sv, s, node.acked_through, &m);
    send_msg(sv, s, &m);
}

/* ---- ZAP ----------------------------------------------------------------------- */

/* Answers one ZAP request (RFC 27): admits a CURVE client whose key belongs
 * to an enabled registered node, with the node id as User-Id; in insecure
 * mode admits NULL-mechanism clients with an empty User-Id. */
static void handle_zap(server *sv)
{
    char frames[7][256];
    size_t lens[7] = {0};
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sv->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return;
        }
        if (n < 7) {
            lens[n] = zmq_msg_size(&part) < 255 ? zmq_msg_size(&part) : 255;
            memcpy(frames[n], zmq_msg_data(&part), lens[n]);
            frames[n][lens[n]] = '\0';
            n++;
        }
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
    const char *status = "400", *text = "unknown key", *user = "";
    hub_node node;
    char key[41] = "";
    /* frames: version, request id, domain, address, identity, mechanism, credentials */
    if (n >= 6 && !strcmp(frames[5], "CURVE") && n == 7 && lens[6] == 32) {
        zmq_z85_encode(key, (const uint8_t *)frames[6], 32);
        if (hub_node_by_key(sv->store, key, &node, NULL) == GS_OK) {
            if (node.enabled) {
                status = "200";
                text = "OK";
                user = node.id;
            } else {
                text = "node revoked";
            }
        }
        if (strcmp(status, "200") && log_refusal(sv))
            logf_(sv, 0, "refused CURVE client from %s: %s (key %.8s...)", frames[3], text, key);
    } else if (n >= 6 && !strcmp(frames[5], "NULL") && sv->cfg->insecure) {
        status = "200";
        text = "OK";
    } else if (log_refusal(sv)) {
        logf_(sv, 0, "refused %s client from %s", n >= 6 ? frames[5] : "?", n >= 4 ? frames[3] : "?");
    }
    /* Metadata (ZMTP property list): X-Key = the client's public key, so each
     * message says which key its connection proved, not only which node. */
    uint8_t meta[64];
    size_t mlen = 0;
    if (!strcmp(status, "200") && key[0]) {
        meta[mlen++] = 5;
        memcpy(meta + mlen, "X-Key", 5);
        mlen += 5;
        meta[mlen++] = 0;
        meta[mlen++] = 0;
        meta[mlen++] = 0;
        meta[mlen++] = 40;
        memcpy(meta + mlen, key, 40);
        mlen += 40;
    }
    const char *reply[6] = {"1.0", n >= 2 ? frames[1] : "", status, text, user,
                            (const char *)meta};
    size_t rlen[6] = {3, n >= 2 ? lens[1] : 0, 3, strlen(text), strlen(user), mlen};
    for (int i = 0; i < 6; i++)
        zmq_send(sv->zap, reply[i], rlen[i], i < 5 ? ZMQ_SNDMORE : 0);
}

/* A connection's socket closed (a DISCONNECTED event, value = its fd).
 * ZeroMQ closes a connection that sends a frame over ZMQ_MAXMSGSIZE without
 * passing anything up, so this is where such a frame shows: the session that
 * had that socket (the oldest, should the fd have been reused already) was
 * mid-sync, or no message of it ever got through. A node that finished its
 * sync, or only verified, closes with its session done, which is not a drop. */
static void closed_connection(server *sv, int fd)
{
    session *s = NULL;
    for (size_t i = 0; i < sv->nsessions; i++) {
        session *o = &sv->sessions[i];
        if (o->rid_len && o->fd == fd && (!s || o->first_ms < s->first_ms))
            s = o;
    }
    char w[160];
    if (s) {
        s->fd = -1;
        if (s->open)
            drop(sv, DROP_CLOSED, who(s, w, sizeof w),
                 "it closed in the middle of a sync: a frame over the %zu-byte limit "
                 "(ZMQ_MAXMSGSIZE), which ZeroMQ drops together with its connection; or the "
                 "node gave up, or its link broke",
                 sv->cfg->limits.max_msg_bytes);
        s->open = false;
        return;
    }
    const fd_peer *fp = &sv->fds[(unsigned)fd % FD_PEERS];
    snprintf(w, sizeof w, "peer %s", fp->fd == fd ? fp->peer : "?");
    if (sv->failed_handshakes > 0) { /* logged as such already */
        sv->failed_handshakes--;
        return;
    }
    drop(sv, DROP_EARLY, w,
         "it closed before any message of it got through: its first frame was over the "
         "%zu-byte limit (ZMQ_MAXMSGSIZE), or the client left at once",
         sv->cfg->limits.max_msg_bytes);
}

/* Logs one socket monitor event: handshake failures always, connections at -vv. */
static void handle_monitor(server *sv)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, sv->mon, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&ev) ||
        zmq_msg_recv(&addr, sv->mon, ZMQ_DONTWAIT) < 0 || zmq_msg_size(&ev) < 6) {
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        return;
    }
    uint16_t event;
    uint32_t value;
    memcpy(&event, zmq_msg_data(&ev), 2);
    memcpy(&value, (const uint8_t *)zmq_msg_data(&ev) + 2, 4);
    char where[256];
    size_t n = zmq_msg_size(&addr) < sizeof where - 1 ? zmq_msg_size(&addr) : sizeof where - 1;
    memcpy(where, zmq_msg_data(&addr), n);
    where[n] = '\0';
    /* libzmq 4.3 names only the listening endpoint in failure events; the
     * peer is known at ACCEPTED, whose value is the connection's socket. */
    bool failure = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    if (failure)
        sv->failed_handshakes++;
    if (failure && !log_refusal(sv))
        event = 0;
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        logf_(sv, 0, "handshake refused (authentication, status %u) on %s, peer %s", value, where,
              sv->last_peer);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        logf_(sv, 0,
              "handshake failed (protocol error 0x%x: plaintext or foreign client?) on %s, peer %s",
              value, where, sv->last_peer);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        logf_(sv, 0, "handshake failed (%s) on %s, peer %s", zmq_strerror((int)value), where,
              sv->last_peer);
        break;
    case ZMQ_EVENT_ACCEPTED: {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char host[48] = "local";
        int port = 0;
        if (getpeername((int)value, (struct sockaddr *)&ss, &len) == 0) {
            if (ss.ss_family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
            } else if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
            }
        }
        snprintf(sv->last_peer, sizeof sv->last_peer, "%s:%d", host, port);
        fd_peer *fp = &sv->fds[value % FD_PEERS];
        fp->fd = (int)value;
        snprintf(fp->peer, sizeof fp->peer, "%s", sv->last_peer);
        logf_(sv, 2, "connection from %s accepted on %s", sv->last_peer, where);
        break;
    }
    case ZMQ_EVENT_DISCONNECTED:
        logf_(sv, 2, "connection closed on %s", where);
        closed_connection(sv, (int)value);
        break;
    default: break;
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

/* ---- messages ------------------------------------------------------------------------ */

static void handle_hello(server *sv, session *s, const gs_msg *m, const char *user_id,
                         const char *key)
{
    hub_node node;
    gs_errbuf eb = {{0}};
    if (!sv->cfg->insecure && strcmp(user_id, m->node_id)) {
        send_error(sv, s, GS_EAUTH, "HELLO.node_id %s does not match the key, which belongs to %s",
                   m->node_id, user_id);
        return;
    }
    if (hub_node_get(sv->store, m->node_id, &node, &eb) != GS_OK || !node.enabled) {
        send_error(sv, s, GS_EAUTH, "node %s is not registered or is revoked", m->node_id);
        return;
    }
    /* its changes would pass for the city's (gs_origin_is_hub) */
    if (gs_origin_is_hub(node.id)) {
        send_error(sv, s, GS_EAUTH, "node id %s is a name of the city's own chains; register "
                                    "the node again under another id",
                   node.id);
        return;
    }
    /* A connection opened before a rekey still carries the old key. */
    if (!sv->cfg->insecure && strcmp(key, node.public_key)) {
        send_error(sv, s, GS_EAUTH, "node %s has a new key; this connection's key is no longer "
                                    "valid",
                   m->node_id);
        return;
    }
    snprintf(s->key, sizeof s->key, "%s", key);
    s->hello = true;
    snprintf(s->node_id, sizeof s->node_id, "%s", node.id);
    snprintf(s->village, sizeof s->village, "%s", node.village);
    node.last_seen_ms = (int64_t)gs_wall_ms();
    snprintf(node.software, sizeof node.software, "%s", m->software);
    node.pending = m->pending;
    s->pending_until = node.acked_through + m->pending;
    node.hub_seq_seen = m->hub_seq_seen;
    node.skew_ms = (int64_t)m->node_time - node.last_seen_ms;
    s->verify = m->verify;
    s->open = !m->verify; /* a verify ends at the WELCOME */
    /* Recorded with the next group commit: a burst of HELLOs costs one fsync. */
    s->seen = node;
    s->seen_dirty = true;
    logf_(sv, 1, "HELLO %s (%s) acked %" PRIu64 ", %" PRIu64 " pending", node.id, m->software,
          node.acked_through, m->pending);
    send_welcome(sv, s);
}

typedef struct pull_ctx {
    gs_msg *reply;
    int rc;
} pull_ctx;

static int add_pulled(uint64_t hub_seq, const void *body, size_t len,
                      const uint8_t hash[GS_HASH_LEN], void *arg)
{
    pull_ctx *p = arg;
    return p->rc = gs_msg_add_change(p->reply, body, len, hash, hub_seq);
}

static void handle_pull(server *sv, session *s, const gs_msg *m)
{
    gs_msg reply = {0};
    reply.type = GS_MSG_CHANGES;
    reply.version = GS_PROTO_VERSION;
    pull_ctx p = {&reply, GS_OK};
    gs_errbuf eb = {{0}};
    size_t max = sv->cfg->limits.max_changes < PULL_MAX_CHANGES ? sv->cfg->limits.max_changes
                                                                : PULL_MAX_CHANGES;
    hub_cursor cur = {.since = m->since};
    /* A node pulls once it has pushed all it had: nothing is pending now
     * (recorded with the next commit, as a HELLO's visit is). */
    if (s->seen.pending) {
        s->seen.pending = 0;
        s->seen_dirty = true;
    }
    memcpy(cur.since_hash, m->log_hash, GS_HASH_LEN);
    if (hub_store_pull(sv->store, s->village, s->node_id, &cur, max, PULL_MAX_BYTES, add_pulled,
                       &p, &reply.more, &reply.rewound, &eb) != GS_OK ||
        p.rc) {
        send_error(sv, s, GS_ESQL, "cannot read changes: %s", eb.msg);
    } else {
        reply.next = cur.next;
        memcpy(reply.log_hash, cur.next_hash, GS_HASH_LEN);
        if (reply.rewound)
            logf_(sv, 1, "node %s: its cursor %" PRIu64 " is not in this log (a restored hub?); "
                       "sending its village's changes from the start",
                s->node_id, m->since);
        if (!reply.more)
            s->open = false; /* the last page: the node may close now */
        send_msg(sv, s, &reply);
    }
    gs_msg_clear(&reply);
}

/* RETURN: the city's own changes a village holds beyond this hub's head of
 * their chain, given back after the hub was restored from a copy. Each must
 * follow from the hub's head by its chain hash, which is keyed with the
 * hub's own key (hub_city_chain_next), so a village can give back only what
 * the city itself wrote, not make up a decision; they are the city's,
 * judged when it wrote them, and are appended as they are.
 * The run stops at the first change that does not go in: one past a gap
 * (another village holds the change before it and gives it back first), one
 * that is not the city's (refused and logged), or one of the city's that
 * differs from the hub's change of that number (a fork: the city gave a
 * number twice; logged, and the chain is closed for writing). A village
 * holding more of the chain the city writes on closes it too: the database
 * lost numbers the villages hold, and the next city change starts a new
 * chain (city.c); only what the key proves closes a chain, so a village
 * cannot make the city start chain after chain. Applied and committed at
 * once: it happens only after a restore. RETURNED says the hub's head now. */
static void handle_return(server *sv, session *s, const gs_msg *m)
{
    gs_msg reply = {0};
    reply.type = GS_MSG_RETURNED;
    reply.version = GS_PROTO_VERSION;
    snprintf(reply.origin, sizeof reply.origin, "%s", m->origin);
    gs_errbuf eb = {{0}};
    char w[160];
    if (!gs_origin_valid(m->origin) || !gs_origin_is_hub(m->origin)) {
        drop(sv, DROP_ORDER, who(s, w, sizeof w), "RETURN of %s, which is not the city's chain",
             m->origin);
        send_error(sv, s, GS_EINVAL, "RETURN.origin: %s is not one of the city's chains",
                   m->origin);
        return;
    }
    uint8_t head[GS_HASH_LEN];
    int rc = hub_store_begin(sv->store, &eb), stop = GS_OK;
    if (!rc) /* never write back a clock older than a city command's */
        tick_clock(sv);
    if (!rc)
        rc = hub_store_origin_head(sv->store, m->origin, &reply.seq, head, &eb);
    size_t applied = 0;
    for (size_t i = 0; !rc && !stop && i < m->nchanges; i++) {
        const gs_wire_change *wc = &m->changes[i];
        gs_change c = {0};
        gs_errbuf why = {{0}};
        uint8_t h[GS_HASH_LEN];
        uint8_t prev[GS_HASH_LEN], have[GS_HASH_LEN];
        stop = gs_change_decode(wc->body, wc->len, &c, &why);
        if (!stop && (strcmp(c.origin, m->origin) || c.seq == 0))
            stop = gs_errf(&why, GS_EAUTH, "a change of %s #%" PRIu64 " in a RETURN of %s",
                           c.origin, c.seq, m->origin);
        else if (!stop && c.seq > reply.seq + 1)
            stop = gs_errf(&why, GS_ENOTFOUND, "the hub holds %s through #%" PRIu64
                                               "; #%" PRIu64 " must come first",
                           m->origin, reply.seq, reply.seq + 1);
        if (!stop && c.seq == reply.seq + 1)
            memcpy(prev, head, GS_HASH_LEN);
        else if (!stop && hub_store_origin_hash_at(sv->store, m->origin, c.seq - 1, prev, &why))
            stop = GS_ENOTFOUND;
        /* the city's own, by its keyed hash: what no village can make up */
        if (!stop && hub_city_chain_next(sv->store, prev, wc->body, wc->len, h, &why))
            stop = GS_EAUTH;
        else if (!stop && sodium_memcmp(h, wc->hash, GS_HASH_LEN))
            stop = gs_errf(&why, GS_EAUTH,
                           "%s #%" PRIu64 " is not the city's: its hash does not follow from "
                           "the hub's #%" PRIu64,
                           m->origin, c.seq, c.seq - 1);
        else if (!stop && c.seq <= reply.seq) {
            /* the city's, at a number the hub holds: the same change, or the
             * city gave that number twice (a fork) */
            if (hub_store_origin_hash_at(sv->store, m->origin, c.seq, have, NULL) == GS_OK &&
                sodium_memcmp(have, wc->hash, GS_HASH_LEN))
                stop = gs_errf(&why, GS_ECHAIN,
                               "%s #%" PRIu64 " was given to two different city changes",
                               m->origin, c.seq);
        } else if (!stop && !(rc = hub_store_append(sv->store, &c, wc->body, wc->len, wc->hash,
                                                     NULL, false, &eb))) {
            reply.seq = c.seq;
            memcpy(head, h, GS_HASH_LEN);
            sv->hlc = gs_hlc_recv(sv->hlc, c.hlc, gs_wall_ms());
            applied++;
        }
        gs_change_clear(&c);
        if (stop) {
            snprintf(reply.code, sizeof reply.code, "%s", gs_errname(stop));
            snprintf(reply.text, sizeof reply.text, "%s", why.msg);
        }
    }
    if (!rc && (applied || stop == GS_ECHAIN))
        rc = hub_city_close_chain(sv->store, m->origin, &eb);
    if (!rc)
        rc = hub_store_meta_set_int(sv->store, "hlc", (int64_t)sv->hlc, &eb);
    if (!rc)
        rc = hub_store_commit(sv->store, &eb);
    else
        hub_store_rollback(sv->store);
    if (rc) {
        logf_(sv, 0, "RETURN of %s from %s failed, nothing applied: %s", m->origin,
              who(s, w, sizeof w), eb.msg);
        send_error(sv, s, rc, "hub busy or failing (%s); retry later", gs_strerror(rc));
        return;
    }
    if (applied)
        logf_(sv, 0, "%s gave back %zu of the city's changes on %s, which this database had "
                     "lost (restored from a backup?); it holds them through #%" PRIu64 " now",
              who(s, w, sizeof w), applied, m->origin, reply.seq);
    if (stop == GS_ECHAIN)
        logf_(sv, 0, "城市链分叉 %s holds the city's %s otherwise than this hub: %s",
              who(s, w, sizeof w), m->origin, reply.text);
    else if (stop == GS_EAUTH)
        logf_(sv, 0, "RETURN refused: %s gave back a change that is not the city's: %s",
              who(s, w, sizeof w), reply.text);
    send_msg(sv, s, &reply);
}

/* Checks that a decoded change is this node's to write; GS_OK or a code with eb. */
static int authorize(const session *s, const gs_change *c, uint64_t seq, gs_errbuf *eb)
{
    if (strcmp(c->origin, s->node_id))
        return gs_errf(eb, GS_EAUTH, "change %" PRIu64 " claims origin %s", seq, c->origin);
    if (c->seq != seq)
        return gs_errf(eb, GS_EINVAL, "change at position %" PRIu64 " says seq %" PRIu64, seq,
                       c->seq);
    if (c->rec->rt->reference)
        return gs_errf(eb, GS_EAUTH, "%s is reference data; only the city writes it",
                       c->rec->rt->name);
    const char *scope = gs_record_scope(c->rec);
    if (!scope || strcmp(scope, s->village))
        return gs_errf(eb, GS_ESCOPE, "%s %s belongs to village %s, not to this node's %s",
                       c->rec->rt->name, gs_record_key(c->rec), scope ? scope : "?", s->village);
    /* A record, once it exists (deleted or not), stays in its village: a node
     * may not take over or delete another village's record by naming its id.
     * hub_store_append checks that, on the row it reads anyway. */
    return GS_OK;
}

/* What applying one queued push decided, to answer after the commit. */
typedef struct outcome {
    uint64_t acked;       /* the node's state after this push */
    uint8_t head[GS_HASH_LEN];
    bool rewind;
    int error;            /* GS_OK, or the code of an ERROR to send */
    char text[512];
    uint64_t *rejected;   /* seqs quarantined */
    char (*codes)[33];
    char (*reasons)[GS_ERRBUF_MAX];
    size_t nrejected;
} outcome;

/* Applies one PUSH within the open transaction, advancing the node's stored
 * acked_through and chain head (read here, inside the transaction). */
static int apply_push(server *sv, session *s, const gs_msg *m, outcome *o)
{
    hub_node node;
    gs_errbuf nerr = {{0}};
    int nrc = hub_node_get(sv->store, s->node_id, &node, &nerr);
    if (nrc)
        return nrc;
    o->acked = node.acked_through;
    memcpy(o->head, node.chain_head, GS_HASH_LEN);
    if (!node.enabled || (!sv->cfg->insecure && strcmp(node.public_key, s->key))) {
        o->error = GS_EAUTH;
        snprintf(o->text, sizeof o->text, "node %s was revoked or re-keyed; nothing applied",
                 s->node_id);
        return GS_OK;
    }
    if (m->first_seq > o->acked + 1) {
        o->rewind = true; /* a gap: the node must resend from acked + 1 */
        return GS_OK;
    }
    for (size_t i = 0; i < m->nchanges; i++) {
        uint64_t seq = m->first_seq + i;
        if (seq <= o->acked)
            continue; /* already have it: a replay or an overlap */
        const gs_wire_change *w = &m->changes[i];
        uint8_t h[GS_HASH_LEN];
        gs_chain_next(o->head, w->body, w->len, h);
        if (sodium_memcmp(h, w->hash, GS_HASH_LEN) != 0) {
            o->error = GS_ECHAIN;
            snprintf(o->text, sizeof o->text,
                     "change %" PRIu64 ": its chain hash does not follow from change %" PRIu64
                     "; nothing from %" PRIu64 " on was applied",
                     seq, seq - 1, seq);
            break; /* what came before it is kept, and acked_through says so */
        }
        gs_change c = {0};
        gs_errbuf eb = {{0}};
        int rc = gs_change_decode(w->body, w->len, &c, &eb);
        if (!rc)
            rc = authorize(s, &c, seq, &eb);
        if (!rc) {
            rc = hub_store_append(sv->store, &c, w->body, w->len, w->hash, s->village, true,
                                  &eb);
            if (!rc) {
                sv->hlc = gs_hlc_recv(sv->hlc, c.hlc, gs_wall_ms());
            } else if (rc != GS_ESCOPE && rc != GS_ERULE) { /* else: refused, quarantined */
                gs_change_clear(&c);
                logf_(sv, 0, "applying %s #%" PRIu64 ": %s", s->node_id, seq, eb.msg);
                return rc;
            }
        }
        gs_change_clear(&c);
        if (rc) {
            int q = hub_store_quarantine(sv->store, s->node_id, seq, w->body, w->len, w->hash,
                                         gs_errname(rc), eb.msg, &eb);
            if (q)
                return q;
            if (!o->rejected) { /* rejections are rare: room only when one happens */
                o->rejected = calloc(m->nchanges, sizeof *o->rejected);
                o->codes = calloc(m->nchanges, sizeof *o->codes);
                o->reasons = calloc(m->nchanges, sizeof *o->reasons);
                if (!o->rejected || !o->codes || !o->reasons)
                    return GS_ENOMEM;
            }
            o->rejected[o->nrejected] = seq;
            snprintf(o->codes[o->nrejected], sizeof o->codes[0], "%s", gs_errname(rc));
            snprintf(o->reasons[o->nrejected], sizeof o->reasons[0], "%s", eb.msg);
            o->nrejected++;
        }
        o->acked = seq;
        memcpy(o->head, h, GS_HASH_LEN);
    }
    /* what the node still has to send, by its HELLO, is written with this
     * commit (node list shows it), not the count it started with */
    s->seen.pending = s->pending_until > o->acked ? s->pending_until - o->acked : 0;
    s->seen.last_seen_ms = (int64_t)gs_wall_ms();
    s->seen_dirty = true;
    gs_errbuf eb = {{0}};
    return hub_store_set_acked(sv->store, s->node_id, o->acked, o->head, &eb);
}

static void free_outcome(outcome *o)
{
    free(o->rejected);
    free(o->codes);
    free(o->reasons);
}

/* Applies every queued push in one transaction, then answers them all. The
 * visits HELLOs recorded (last seen, pending, skew) go with it; on their own
 * they wait until the server is idle (force) or for 2 s, so that a HELLO does
 * not cost an fsync of its own before the PUSH that follows it. */
static void commit_group(server *sv, bool force)
{
    bool seen = false;
    for (size_t i = 0; i < sv->nsessions && !seen; i++)
        seen = sv->sessions[i].seen_dirty;
    int64_t now = (int64_t)gs_wall_ms();
    if (!seen)
        sv->seen_since = 0;
    else if (!sv->seen_since)
        sv->seen_since = now;
    if (!sv->nqueue && (!seen || (!force && now - sv->seen_since < 2000)))
        return;
    outcome *out = calloc(sv->nqueue ? sv->nqueue : 1, sizeof *out);
    gs_errbuf eb = {{0}};
    int rc = out ? hub_store_begin(sv->store, &eb) : GS_ENOMEM;
    if (!rc) /* never write back a clock older than a city command's */
        tick_clock(sv);
    size_t changes = 0;
    for (size_t q = 0; q < sv->nqueue && !rc; q++) {
        session *s = &sv->sessions[sv->queue[q].session];
        if (out[q].error == GS_OK)
            rc = apply_push(sv, s, &sv->queue[q].msg, &out[q]);
        changes += sv->queue[q].msg.nchanges;
        /* after a chain error, the node's later pushes in this group are ignored */
        if (out[q].error)
            for (size_t r = q + 1; r < sv->nqueue; r++)
                if (sv->queue[r].session == sv->queue[q].session)
                    out[r].error = -1;
    }
    for (size_t i = 0; i < sv->nsessions && !rc; i++)
        if (sv->sessions[i].seen_dirty)
            rc = hub_node_seen(sv->store, &sv->sessions[i].seen, &eb);
    if (!rc && hub_store_meta_set_int(sv->store, "hlc", (int64_t)sv->hlc, &eb))
        rc = GS_ESQL;
    if (!rc)
        rc = hub_store_commit(sv->store, &eb);
    else
        hub_store_rollback(sv->store);
    if (rc)
        logf_(sv, 0, "group commit failed, nothing acknowledged: %s",
              eb.msg[0] ? eb.msg : gs_strerror(rc));
    if (!rc) {
        for (size_t i = 0; i < sv->nsessions; i++)
            sv->sessions[i].seen_dirty = false;
        sv->seen_since = 0;
    }
    logf_(sv, 2, "group of %zu pushes, %zu changes: %s", sv->nqueue, changes,
          rc ? "failed" : "committed");
    /* Durable now (or not at all): answer. */
    for (size_t q = 0; q < sv->nqueue; q++) {
        session *s = &sv->sessions[sv->queue[q].session];
        if (rc)
            send_error(sv, s, GS_ESQL, "hub busy or failing (%s); retry later", gs_strerror(rc));
        else if (out[q].error > 0)
            send_error(sv, s, out[q].error, "%s", out[q].text);
        else if (out[q].error == 0 && out[q].rewind)
            send_welcome(sv, s);
        else if (out[q].error == 0) {
            for (size_t k = 0; k < out[q].nrejected; k++) {
                gs_msg m = {0};
                m.type = GS_MSG_REJECTED;
                m.version = GS_PROTO_VERSION;
                m.seq = out[q].rejected[k];
                snprintf(m.code, sizeof m.code, "%s", out[q].codes[k]);
                snprintf(m.text, sizeof m.text, "%s", out[q].reasons[k]);
                logf_(sv, 1, "REJECTED %s #%" PRIu64 ": %s", s->node_id, m.seq, m.text);
                send_msg(sv, s, &m);
            }
            gs_msg ack = {0};
            ack.type = GS_MSG_ACK;
            ack.version = GS_PROTO_VERSION;
            ack.acked_through = out[q].acked;
            memcpy(ack.chain_head, out[q].head, GS_HASH_LEN);
            grant(sv, s, out[q].acked, &ack);
            send_msg(sv, s, &ack);
        }
        if (out)
            free_outcome(&out[q]);
        gs_msg_clear(&sv->queue[q].msg);
    }
    free(out);
    sv->nqueue = 0;
    sv->queued_bytes = 0;
}

/* Receives and handles one message from the ROUTER; false when none is
 * waiting. A message that is not handled (not one frame, not decodable, out
 * of order) is logged as dropped, and answered with ERROR when it can be. */
static bool handle_one(server *sv)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, sv->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return false;
    }
    zmq_msg_init(&body);
    bool ok = zmq_msg_more(&rid) && zmq_msg_recv(&body, sv->router, ZMQ_DONTWAIT) >= 0;
    /* discard any further frames: a message is one frame */
    bool extra = ok && zmq_msg_more(&body);
    while (ok && zmq_msg_more(&body)) {
        zmq_msg_t skip;
        zmq_msg_init(&skip);
        zmq_msg_recv(&skip, sv->router, ZMQ_DONTWAIT);
        bool more = zmq_msg_more(&skip);
        zmq_msg_close(&skip);
        if (!more)
            break;
    }
    const char *addr = ok ? zmq_msg_gets(&body, "Peer-Address") : NULL;
    char w[160];
    session *s = ok ? find_session(sv, zmq_msg_data(&rid), zmq_msg_size(&rid), true) : NULL;
    if (!s) {
        snprintf(w, sizeof w, "peer %s", addr ? addr : "?");
        drop(sv, DROP_ENVELOPE, w,
             ok ? "no session for its routing id of %zu bytes (too long, or out of memory)"
                : "a routing id of %zu bytes without a message frame",
             zmq_msg_size(&rid));
        goto out;
    }
    s->last_ms = (int64_t)gs_wall_ms();
    if (!s->first_ms)
        s->first_ms = s->last_ms;
    s->fd = zmq_msg_get(&body, ZMQ_SRCFD);
    if (addr)
        snprintf(s->peer, sizeof s->peer, "%s", addr);
    if (extra) {
        drop(sv, DROP_FRAMES, who(s, w, sizeof w), "a message of more than one frame");
        send_error(sv, s, GS_EMALFORMED, "a message is exactly one frame");
        goto out;
    }
    const char *user = zmq_msg_gets(&body, "User-Id");
    const char *key = zmq_msg_gets(&body, "X-Key");
    if (!user)
        user = "";
    if (!key)
        key = "";
    /* A session belongs to the connection that said HELLO: a message from
     * another key on the same routing id starts over. */
    if (s->hello && !sv->cfg->insecure && (strcmp(user, s->node_id) || strcmp(key, s->key))) {
        memset(s->node_id, 0, sizeof s->node_id);
        s->hello = false;
        s->open = false;
    }
    gs_msg m = {0};
    gs_errbuf eb = {{0}};
    int rc = gs_msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &sv->cfg->limits, &m, &eb);
    if (rc) {
        drop(sv, DROP_DECODE, who(s, w, sizeof w), "%s", eb.msg);
        send_error(sv, s, rc, "%s", eb.msg);
        goto out;
    }
    if (m.type != GS_MSG_HELLO && m.type != GS_MSG_PING && !s->hello) {
        /* GS_ENOTFOUND: no session (e.g. the connection was silently
         * re-established); the node says HELLO again and rewinds. */
        drop(sv, DROP_ORDER, who(s, w, sizeof w), "%s before HELLO", gs_msg_name(m.type));
        send_error(sv, s, GS_ENOTFOUND, "%s before HELLO", gs_msg_name(m.type));
        gs_msg_clear(&m);
        goto out;
    }
    switch (m.type) {
    case GS_MSG_HELLO: handle_hello(sv, s, &m, user, key); break;
    case GS_MSG_PULL: handle_pull(sv, s, &m); break;
    case GS_MSG_RETURN: handle_return(sv, s, &m); break;
    case GS_MSG_PING: {
        gs_msg pong = {0};
        pong.type = GS_MSG_PONG;
        pong.version = GS_PROTO_VERSION;
        pong.hub_time = tick_clock(sv);
        pong.hub_wall = gs_wall_ms();
        send_msg(sv, s, &pong);
        break;
    }
    case GS_MSG_PUSH: {
        pending_push *p = realloc(sv->queue, (sv->nqueue + 1) * sizeof *p);
        if (!p) {
            drop(sv, DROP_ENVELOPE, who(s, w, sizeof w), "a PUSH: the hub is out of memory");
            send_error(sv, s, GS_ENOMEM, "hub out of memory; retry later");
            break;
        }
        s->open = true;
        sv->queue = p;
        sv->queue[sv->nqueue].session = (size_t)(s - sv->sessions);
        for (size_t k = 0; k < m.nchanges; k++)
            sv->queued_bytes += m.changes[k].len;
        sv->queue[sv->nqueue].msg = m; /* ownership moves to the queue */
        memset(&m, 0, sizeof m);
        sv->nqueue++;
        break;
    }
    default:
        drop(sv, DROP_ORDER, who(s, w, sizeof w), "%s is not something a node sends",
             gs_msg_name(m.type));
        send_error(sv, s, GS_EINVAL, "%s is not something a node sends", gs_msg_name(m.type));
    }
    gs_msg_clear(&m);
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
    return true;
}

static int setup(server *sv, gs_errbuf *eb)
{
    const hub_server_config *cfg = sv->cfg;
    if (!(sv->ctx = zmq_ctx_new()))
        return gs_errf(eb, GS_EZMQ, "zmq_ctx_new: %s", zmq_strerror(errno));
    /* The ZAP handler must be bound before the server socket. */
    sv->zap = zmq_socket(sv->ctx, ZMQ_REP);
    if (!sv->zap || zmq_bind(sv->zap, "inproc://zeromq.zap.01"))
        return gs_errf(eb, GS_EZMQ, "ZAP handler: %s", zmq_strerror(errno));
    sv->router = zmq_socket(sv->ctx, ZMQ_ROUTER);
    if (!sv->router)
        return gs_errf(eb, GS_EZMQ, "socket: %s", zmq_strerror(errno));
    /* A small receive queue per connection: what a node has in flight waits
     * in the kernel's socket buffers, not in the hub's memory. */
    int one = 1, zero = 0, hwm = 1000, rcvhwm = 4;
    int64_t maxmsg = (int64_t)cfg->limits.max_msg_bytes;
    int hb_ivl = 10000, hb_ttl = 30000, hb_timeout = 30000;
    zmq_setsockopt(sv->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sv->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(sv->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sv->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt(sv->router, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt(sv->router, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl);
    zmq_setsockopt(sv->router, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    zmq_setsockopt(sv->router, ZMQ_ROUTER_MANDATORY, &zero, sizeof zero);
    zmq_setsockopt(sv->router, ZMQ_ZAP_DOMAIN, "gridsync", 8);
    if (!cfg->insecure) {
        zmq_setsockopt(sv->router, ZMQ_CURVE_SERVER, &one, sizeof one);
        if (zmq_setsockopt(sv->router, ZMQ_CURVE_SECRETKEY, cfg->secret_key, 40))
            return gs_errf(eb, GS_EZMQ, "CURVE secret key: %s", zmq_strerror(errno));
    }
    /* Failed handshakes (plaintext clients, bad keys, garbage) are logged
     * from the socket's monitor events, with the address they name. */
    if (zmq_socket_monitor(sv->router, "inproc://gridhub.monitor",
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_ACCEPTED |
                               ZMQ_EVENT_DISCONNECTED) == 0) {
        sv->mon = zmq_socket(sv->ctx, ZMQ_PAIR);
        if (sv->mon && zmq_connect(sv->mon, "inproc://gridhub.monitor")) {
            zmq_close(sv->mon);
            sv->mon = NULL;
        }
    }
    if (zmq_bind(sv->router, cfg->bind))
        return gs_errf(eb, GS_EZMQ, "cannot bind %s: %s", cfg->bind, zmq_strerror(errno));
    return GS_OK;
}

int hub_serve(hub_store *store, const hub_server_config *cfg, volatile sig_atomic_t *stop,
              gs_errbuf *eb)
{
    server sv = {0};
    sv.store = store;
    sv.cfg = cfg;
    sv.hlc = (gs_hlc)hub_store_meta_int(store, "hlc", 0);
    int rc = setup(&sv, eb);
    hub_store_defer_checkpoints(store);
    if (!rc)
        logf_(&sv, 0, "serving %s%s", cfg->bind,
              cfg->insecure ? " WITHOUT ENCRYPTION (--insecure): any client may connect" : " (CURVE)");
    while (!rc && !*stop) {
        zmq_pollitem_t items[3] = {{sv.router, 0, ZMQ_POLLIN, 0},
                                   {sv.zap, 0, ZMQ_POLLIN, 0},
                                   {sv.mon, 0, ZMQ_POLLIN, 0}};
        /* With a checkpoint due, wait only a moment for the next message:
         * the checkpoint runs when the nodes leave a gap of 20 ms, so that it
         * does not hold up a sync's next round trip; under a steady stream
         * it runs at 8,000 pages (32 MiB of WAL) anyway. */
        int wal = hub_store_wal_pages(store);
        int n = zmq_poll(items, sv.mon ? 3 : 2, wal >= CHECKPOINT_PAGES ? 20 : 500);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = gs_errf(eb, GS_EZMQ, "poll: %s", zmq_strerror(errno));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 64; i++) {
                zmq_pollitem_t z = {sv.zap, 0, ZMQ_POLLIN, 0};
                if (zmq_poll(&z, 1, 0) <= 0)
                    break;
                handle_zap(&sv);
            }
        if (sv.mon && (items[2].revents & ZMQ_POLLIN))
            for (int i = 0; i < 64; i++) {
                zmq_pollitem_t m = {sv.mon, 0, ZMQ_POLLIN, 0};
                if (zmq_poll(&m, 1, 0) <= 0)
                    break;
                handle_monitor(&sv);
            }
        /* a turn ends at MAX_DRAIN messages or MAX_QUEUED_BYTES of pushes */
        for (int i = 0; i < MAX_DRAIN && sv.queued_bytes < MAX_QUEUED_BYTES && handle_one(&sv);
             i++)
            ;
        commit_group(&sv, n == 0);
        drop_flush(&sv);
        hub_store_checkpoint(store, n == 0 ? 1 : CHECKPOINT_FORCE_PAGES);
    }
    commit_group(&sv, true); /* answer what was received before the stop */
    hub_store_checkpoint(store, 1);
    logf_(&sv, 0, "stopped");
    if (sv.mon) {
        zmq_socket_monitor(sv.router, NULL, 0);
        zmq_close(sv.mon);
    }
    if (sv.router)
        zmq_close(sv.router);
    if (sv.zap)
        zmq_close(sv.zap);
    if (sv.ctx)
        zmq_ctx_term(sv.ctx);
    free(sv.sessions);
    for (size_t q = 0; q < sv.nqueue; q++)
        gs_msg_clear(&sv.queue[q].msg);
    free(sv.queue);
    gs_buf_free(&sv.out);
    return rc;
}
