/*
 * server_zap.c: who may connect, and what the hub says about connections and
 * frames it drops (part of the sync server, see server_int.h).
 *
 * The ZAP handler (RFC 27) runs inside the server's loop: it admits a CURVE
 * client only when its key belongs to an enabled registered node, and passes
 * the node id on as the connection's User-Id and the key as X-Key. The
 * socket monitor names the peer of each accepted connection (getpeername on
 * its fd), logs failed handshakes, and notices connections that close in the
 * middle of a sync, which is how a frame over ZMQ_MAXMSGSIZE shows.
 *
 * Logging: refusals at most 5 lines a second; every dropped frame is logged
 * without -v, at most one line a second per reason, followed by how many
 * more were not logged, so that a peer looping garbage cannot flood the log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <zmq.h>

#include "server_int.h"

void sv_log(const server *sv, int level, const char *fmt, ...)
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
            sv_log(sv, 0, "(%d more refused connections not logged)", sv->suppressed);
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
        sv_log(sv, 0, "(%ld more dropped like the last not logged)", l->suppressed);
    l->suppressed = 0;
}

/* Logs a dropped frame (or connection): always, not only with -v, but at
 * most one line a second per reason, so that a peer sending garbage in a
 * loop cannot flood the log; how many were not logged follows once their
 * second is over (drop_flush). who names the node, or the peer. */
void sv_drop(server *sv, drop_reason why, const char *who, const char *fmt, ...)
{
    static const char *const what[DROP__COUNT] = {
        [DROP_ENVELOPE] = "a frame",   [DROP_FRAMES] = "a frame", [DROP_DECODE] = "a frame",
        [DROP_ORDER] = "a frame",      [DROP_SEND] = "an answer", [DROP_CLOSED] = "a connection",
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
    sv_log(sv, 0, "dropped %s %s %s: %s", what[why], why == DROP_SEND ? "to" : "from",
           who && who[0] ? who : "an unknown peer", text);
    l->second = sec;
}

/* Logs the counts of drops not logged, once their second is over. */
void sv_drop_flush(server *sv)
{
    int64_t sec = (int64_t)(gs_wall_ms() / 1000);
    for (int i = 0; i < DROP__COUNT; i++)
        if (sv->drops[i].second != sec)
            drop_count(sv, &sv->drops[i]);
}

/* Names a session's peer for a log line: "node ID (peer ADDR)". */
const char *sv_who(const session *s, char *buf, size_t cap)
{
    if (s->node_id[0])
        snprintf(buf, cap, "node %s (peer %s)", s->node_id, s->peer[0] ? s->peer : "?");
    else
        snprintf(buf, cap, "peer %s", s->peer[0] ? s->peer : "?");
    return buf;
}

/* ---- ZAP ----------------------------------------------------------------------- */

/* Answers one ZAP request (RFC 27): admits a CURVE client whose key belongs
 * to an enabled registered node, with the node id as User-Id; in insecure
 * mode admits NULL-mechanism clients with an empty User-Id. */
void sv_handle_zap(server *sv)
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
            sv_log(sv, 0, "refused CURVE client from %s: %s (key %.8s...)", frames[3], text, key);
    } else if (n >= 6 && !strcmp(frames[5], "NULL") && sv->cfg->insecure) {
        status = "200";
        text = "OK";
    } else if (log_refusal(sv)) {
        sv_log(sv, 0, "refused %s client from %s", n >= 6 ? frames[5] : "?",
               n >= 4 ? frames[3] : "?");
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
    const char *reply[6] = {"1.0", n >= 2 ? frames[1] : "", status, text, user, (const char *)meta};
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
            sv_drop(sv, DROP_CLOSED, sv_who(s, w, sizeof w),
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
    sv_drop(sv, DROP_EARLY, w,
            "it closed before any message of it got through: its first frame was over the "
            "%zu-byte limit (ZMQ_MAXMSGSIZE), or the client left at once",
            sv->cfg->limits.max_msg_bytes);
}

/* Logs one socket monitor event: handshake failures always, connections at -vv. */
void sv_handle_monitor(server *sv)
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
        sv_log(sv, 0, "handshake refused (authentication, status %u) on %s, peer %s", value, where,
               sv->last_peer);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        sv_log(
            sv, 0,
            "handshake failed (protocol error 0x%x: plaintext or foreign client?) on %s, peer %s",
            value, where, sv->last_peer);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        sv_log(sv, 0, "handshake failed (%s) on %s, peer %s", zmq_strerror((int)value), where,
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
        sv_log(sv, 2, "connection from %s accepted on %s", sv->last_peer, where);
        break;
    }
    case ZMQ_EVENT_DISCONNECTED:
        sv_log(sv, 2, "connection closed on %s", where);
        closed_connection(sv, (int)value);
        break;
    default:
        break;
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}
