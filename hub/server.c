/*
 * server.c: the hub's sync server (see server.h and DESIGN.md "The sync
 * protocol"): the loop, sessions, sending, the clock and the grants; the
 * other parts are server_push.c, server_pull.c and server_zap.c (see
 * server_int.h).
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
 * the last 30 s (see sv_grant()); they shrink as more villages connect and grow
 * back as they finish.
 *
 * Per connection (routing id) a session remembers the node it proved to be
 * (the ZAP User-Id, checked against HELLO). A node's acked_through and chain
 * head are read from the store inside the transaction that advances them, so
 * two connections of one node (a `sync --watch` and a manual sync) can never
 * apply a change twice or check the chain against a stale head.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "server_int.h"

#define MAX_DRAIN 256        /* messages taken per loop turn */
#define MAX_QUEUED_BYTES (64u << 20) /* change bytes queued per group commit */
#define SESSION_IDLE_MS 600000
/* The grant (see sv_grant()): a node may never have more in flight than this,
 * whatever the budget, and never less than one small batch. */
#define GRANT_MAX_WINDOW 8
#define GRANT_MAX_BATCH (512u << 10)
#define GRANT_MIN_BATCH (8u << 10)
#define SESSION_ACTIVE_MS 30000 /* a session counts against the budget this long */
#define CHECKPOINT_PAGES       1000 /* WAL pages: checkpoint at the next gap of 20 ms */
#define CHECKPOINT_FORCE_PAGES 8000 /* WAL pages: checkpoint after this turn's ACKs */

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

void sv_send(server *sv, const session *s, const gs_msg *m)
{
    gs_buf_reset(&sv->out);
    if (gs_msg_encode(m, &sv->cfg->limits, &sv->out) != GS_OK) {
        sv_log(sv, 0, "cannot encode %s for %s", gs_msg_name(m->type), s->node_id);
        return;
    }
    /* A peer that is gone or slow is dropped rather than blocking the loop. */
    if (zmq_send(sv->router, s->rid, s->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sv->router, sv->out.data, sv->out.len, ZMQ_DONTWAIT) < 0) {
        char w[160];
        sv_drop(sv, DROP_SEND, sv_who(s, w, sizeof w), "%s not sent: %s", gs_msg_name(m->type),
                zmq_strerror(errno));
    }
}

void sv_send_error(server *sv, const session *s, int code, const char *fmt, ...)
{
    gs_msg m = {0};
    m.type = GS_MSG_ERROR;
    m.version = GS_PROTO_VERSION;
    snprintf(m.code, sizeof m.code, "%s", gs_errname(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.text, sizeof m.text, fmt, ap);
    va_end(ap);
    sv_log(sv, 1, "ERROR to %s: %s", s->node_id[0] ? s->node_id : "peer", m.text);
    sv_send(sv, s, &m);
}

/* The hub's clock: past everything this process has seen and everything the
 * city commands (which run in other processes) have stamped into meta.hlc. */
gs_hlc sv_tick_clock(server *sv)
{
    gs_hlc stored = (gs_hlc)hub_store_meta_int(sv->store, HUB_META_HLC, 0);
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
void sv_grant(server *sv, session *s, uint64_t acked, gs_msg *m)
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

void sv_send_welcome(server *sv, session *s)
{
    gs_msg m = {0};
    hub_node node;
    gs_errbuf eb = {{0}};
    if (hub_node_get(sv->store, s->node_id, &node, &eb)) {
        sv_send_error(sv, s, GS_ESQL, "cannot read this node's sync state: %s", eb.msg);
        return;
    }
    m.type = GS_MSG_WELCOME;
    m.version = GS_PROTO_VERSION;
    m.acked_through = node.acked_through;
    m.hub_time = sv_tick_clock(sv);
    m.hub_wall = gs_wall_ms();
    m.hub_seq_head = hub_store_hub_seq_head(sv->store);
    memcpy(m.chain_head, node.chain_head, GS_HASH_LEN);
    if (hub_store_own_heads(sv->store, s->verify ? s->village : NULL, m.heads, GS_MAX_HEADS,
                            &m.nheads, &eb)) {
        sv_send_error(sv, s, GS_ESQL, "cannot read the city's chains: %s", eb.msg);
        return;
    }
    sv_grant(sv, s, node.acked_through, &m);
    sv_send(sv, s, &m);
}

/* ---- messages ------------------------------------------------------------------------ */

static void handle_hello(server *sv, session *s, const gs_msg *m, const char *user_id,
                         const char *key)
{
    hub_node node;
    gs_errbuf eb = {{0}};
    if (!sv->cfg->insecure && strcmp(user_id, m->node_id)) {
        sv_send_error(sv, s, GS_EAUTH,
                      "HELLO.node_id %s does not match the key, which belongs to %s", m->node_id,
                      user_id);
        return;
    }
    if (hub_node_get(sv->store, m->node_id, &node, &eb) != GS_OK || !node.enabled) {
        sv_send_error(sv, s, GS_EAUTH, "node %s is not registered or is revoked", m->node_id);
        return;
    }
    /* its changes would pass for the city's (gs_origin_is_hub) */
    if (gs_origin_is_hub(node.id)) {
        sv_send_error(sv, s, GS_EAUTH,
                      "node id %s is a name of the city's own chains; register "
                      "the node again under another id",
                      node.id);
        return;
    }
    /* A connection opened before a rekey still carries the old key. */
    if (!sv->cfg->insecure && strcmp(key, node.public_key)) {
        sv_send_error(sv, s, GS_EAUTH,
                      "node %s has a new key; this connection's key is no longer "
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
    sv_log(sv, 1, "HELLO %s (%s) acked %" PRIu64 ", %" PRIu64 " pending", node.id, m->software,
           node.acked_through, m->pending);
    sv_send_welcome(sv, s);
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
        sv_drop(sv, DROP_ENVELOPE, w,
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
        sv_drop(sv, DROP_FRAMES, sv_who(s, w, sizeof w), "a message of more than one frame");
        sv_send_error(sv, s, GS_EMALFORMED, "a message is exactly one frame");
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
        sv_drop(sv, DROP_DECODE, sv_who(s, w, sizeof w), "%s", eb.msg);
        sv_send_error(sv, s, rc, "%s", eb.msg);
        goto out;
    }
    if (m.type != GS_MSG_HELLO && m.type != GS_MSG_PING && !s->hello) {
        /* GS_ENOTFOUND: no session (e.g. the connection was silently
         * re-established); the node says HELLO again and rewinds. */
        sv_drop(sv, DROP_ORDER, sv_who(s, w, sizeof w), "%s before HELLO", gs_msg_name(m.type));
        sv_send_error(sv, s, GS_ENOTFOUND, "%s before HELLO", gs_msg_name(m.type));
        gs_msg_clear(&m);
        goto out;
    }
    switch (m.type) {
    case GS_MSG_HELLO: handle_hello(sv, s, &m, user, key); break;
    case GS_MSG_PULL:
        sv_handle_pull(sv, s, &m);
        break;
    case GS_MSG_RETURN:
        sv_handle_return(sv, s, &m);
        break;
    case GS_MSG_PING: {
        gs_msg pong = {0};
        pong.type = GS_MSG_PONG;
        pong.version = GS_PROTO_VERSION;
        pong.hub_time = sv_tick_clock(sv);
        pong.hub_wall = gs_wall_ms();
        sv_send(sv, s, &pong);
        break;
    }
    case GS_MSG_PUSH: {
        pending_push *p = realloc(sv->queue, (sv->nqueue + 1) * sizeof *p);
        if (!p) {
            sv_drop(sv, DROP_ENVELOPE, sv_who(s, w, sizeof w), "a PUSH: the hub is out of memory");
            sv_send_error(sv, s, GS_ENOMEM, "hub out of memory; retry later");
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
        sv_drop(sv, DROP_ORDER, sv_who(s, w, sizeof w), "%s is not something a node sends",
                gs_msg_name(m.type));
        sv_send_error(sv, s, GS_EINVAL, "%s is not something a node sends", gs_msg_name(m.type));
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
    sv.hlc = (gs_hlc)hub_store_meta_int(store, HUB_META_HLC, 0);
    int rc = setup(&sv, eb);
    hub_store_defer_checkpoints(store);
    if (!rc)
        sv_log(&sv, 0, "serving %s%s", cfg->bind,
               cfg->insecure ? " WITHOUT ENCRYPTION (--insecure): any client may connect"
                             : " (CURVE)");
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
                sv_handle_zap(&sv);
            }
        if (sv.mon && (items[2].revents & ZMQ_POLLIN))
            for (int i = 0; i < 64; i++) {
                zmq_pollitem_t m = {sv.mon, 0, ZMQ_POLLIN, 0};
                if (zmq_poll(&m, 1, 0) <= 0)
                    break;
                sv_handle_monitor(&sv);
            }
        /* a turn ends at MAX_DRAIN messages or MAX_QUEUED_BYTES of pushes */
        for (int i = 0; i < MAX_DRAIN && sv.queued_bytes < MAX_QUEUED_BYTES && handle_one(&sv);
             i++)
            ;
        sv_commit_group(&sv, n == 0);
        sv_drop_flush(&sv);
        hub_store_checkpoint(store, n == 0 ? 1 : CHECKPOINT_FORCE_PAGES);
    }
    sv_commit_group(&sv, true); /* answer what was received before the stop */
    hub_store_checkpoint(store, 1);
    sv_log(&sv, 0, "stopped");
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
