/*
 * sync.c: the node's sync client (see sync.h).
 *
 * Invariants: the outbox is read in batches straight from the change log, so
 * what is sent is byte for byte what is stored; the local acked_through only
 * follows what the hub acknowledged (after its commit); the downstream
 * cursor is written in the same transaction as the changes it covers; no
 * write transaction is held while waiting for the network, so staff can keep
 * entering data while a sync runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "gridsync/hlc.h"
#include "gridsync/msg.h"
#include "sync.h"

void node_sync_opts_default(node_sync_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 30000;
    o->window = 8;
    o->batch_changes = 512; /* gs_limits_default.max_changes */
    o->batch_bytes = 512u * 1024u;
}

#define BUSY_GRACE_MS 120000 /* extra patience once the hub has answered the handshake */

typedef struct batch {
    uint64_t first, last;
} batch;

typedef struct node_sync client;
struct node_sync {
    node_store *s;
    const node_sync_opts *o;
    node_sync_stats *st;
    void *ctx, *sock, *mon;
    gs_limits lim;
    gs_buf out;
    const node_identity *id;
    uint64_t head;      /* own last seq, re-read as the session goes */
    uint64_t acked;     /* as the hub said */
    uint64_t next;      /* next seq to send */
    batch *inflight;
    int ninflight;
    int window;         /* PUSHes in flight: ours, or less if the hub grants less */
    size_t batch_bytes; /* change bytes per PUSH: likewise */
    uint64_t cursor;    /* downstream hub_seq cursor */
    uint8_t cursor_hash[GS_HASH_LEN]; /* the hub's log hash at cursor */
    int64_t started_ms;
    int64_t last_progress_ms;
    bool resumed;       /* HELLO sent again after the hub lost the session */
    bool connected;     /* the handshake succeeded: the hub is there, maybe busy */
    bool lost;          /* the connection dropped (a hub restart): HELLO again on reconnect */
    bool reconnected;
    bool verify_only;   /* a `gridnode verify`: HELLO asks for the city chains' digests */
    gs_wire_head heads[GS_MAX_HEADS]; /* the hub's city chains, from its WELCOME */
    size_t nheads;
    gs_wire_head held[GS_MAX_HEADS];  /* the city chains this node holds changes of */
    size_t nheld;
    size_t ret;         /* the held chain being given back (see send_return) */
    node_sync_stats scratch; /* stats of a session whose caller wants none */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_msg(client *c, const gs_msg *m, gs_errbuf *eb)
{
    gs_buf_reset(&c->out);
    int rc = gs_msg_encode(m, &c->lim, &c->out);
    if (rc)
        return gs_errf(eb, rc, "encoding %s: %s", gs_msg_name(m->type), gs_strerror(rc));
    if (zmq_send(c->sock, c->out.data, c->out.len, 0) < 0)
        return gs_errf(eb, GS_EZMQ, "sending %s: %s", gs_msg_name(m->type), zmq_strerror(errno));
    return GS_OK;
}

static int connect_hub(client *c, gs_errbuf *eb)
{
    const node_identity *id = c->id;
    bool keys = id->hub_public_key[0] && id->public_key[0] && id->secret_key[0];
    if (!keys && !c->o->insecure)
        return gs_errf(eb, GS_EAUTH,
                       "this node has no keys (it was not installed from a bundle); install one "
                       "with `gridnode init --bundle FILE`, or use --insecure against a local "
                       "development hub");
    if (!(c->ctx = zmq_ctx_new()) || !(c->sock = zmq_socket(c->ctx, ZMQ_DEALER)))
        return gs_errf(eb, GS_EZMQ, "socket: %s", zmq_strerror(errno));
    int zero = 0, hb_ivl = 5000, hb_ttl = 30000, hb_timeout = 15000;
    int64_t maxmsg = (int64_t)c->lim.max_msg_bytes;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(c->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt(c->sock, ZMQ_HEARTBEAT_TTL, &hb_ttl, sizeof hb_ttl);
    zmq_setsockopt(c->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    if (keys && !c->o->insecure) {
        if (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, id->hub_public_key, 40) ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, id->public_key, 40) ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, id->secret_key, 40))
            return gs_errf(eb, GS_EAUTH, "the node's CURVE keys are not usable: %s",
                           zmq_strerror(errno));
    }
    /* The hub refusing our key shows up only as a handshake event; watch for it
     * so that a revoked or re-keyed node is told why instead of timing out. */
    if (zmq_socket_monitor(c->sock, "inproc://gridnode.monitor",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) == 0) {
        c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
        if (c->mon && zmq_connect(c->mon, "inproc://gridnode.monitor")) {
            zmq_close(c->mon);
            c->mon = NULL;
        }
    }
    if (zmq_connect(c->sock, id->hub_endpoint))
        return gs_errf(eb, GS_EZMQ, "cannot connect to %s: %s", id->hub_endpoint,
                       zmq_strerror(errno));
    return GS_OK;
}

static void disconnect(client *c)
{
    if (c->mon) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->mon);
    }
    c->mon = NULL;
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    c->sock = c->ctx = NULL;
    gs_buf_free(&c->out);
    free(c->inflight);
    c->inflight = NULL;
}

static int send_hello(client *c, gs_errbuf *eb)
{
    gs_msg m = {0};
    m.type = GS_MSG_HELLO;
    m.version = GS_PROTO_VERSION;
    snprintf(m.node_id, sizeof m.node_id, "%s", c->id->node_id);
    snprintf(m.software, sizeof m.software, "gridnode %s", GS_VERSION);
    uint64_t acked = (uint64_t)node_store_meta_int(c->s, NODE_META_ACKED_THROUGH, 0);
    m.pending = c->head > acked ? c->head - acked : 0;
    m.hub_seq_seen = c->cursor;
    m.node_time = gs_wall_ms();
    m.verify = c->verify_only;
    return send_msg(c, &m, eb);
}

/* A run of changes being read into a PUSH (read_run). */
typedef struct run_ctx {
    client *c;
    bool own;
    gs_msg *m;
    size_t bytes;
    uint64_t expect;
    gs_errbuf *eb;
} run_ctx;
#define RUN_END (-1) /* the run or the batch ends before this change */

static int add_to_run(uint64_t seq, const void *body, size_t len, const uint8_t hash[GS_HASH_LEN],
                      void *arg)
{
    run_ctx *r = arg;
    if (seq != r->expect && r->own)
        return gs_errf(r->eb, GS_ECHAIN, "the change log has a gap at seq %" PRIu64, r->expect);
    if (seq != r->expect || (r->m->nchanges && r->bytes + len > r->c->batch_bytes))
        return RUN_END;
    int rc = gs_msg_add_change(r->m, body, len, hash, 0);
    r->bytes += len;
    r->expect++;
    return rc;
}

/* Reads origin's changes from seq from on into m while their seqs run on,
 * within the batch limits; *end is the seq after the last read. A gap is an
 * error in the node's own log (own: its seqs run 1..n), the end of the run
 * in a city chain, of which the node holds only its village's changes. */
static int read_run(client *c, const char *origin, uint64_t from, bool own, gs_msg *m,
                    uint64_t *end, gs_errbuf *eb)
{
    run_ctx r = {c, own, m, 0, from, eb};
    int rc = node_store_changes_from(c->s, origin, from, c->o->batch_changes, add_to_run, &r, eb);
    *end = r.expect;
    return rc == RUN_END ? GS_OK : rc;
}

/* Reads the next batch from the outbox into a PUSH and sends it. */
static int send_batch(client *c, gs_errbuf *eb)
{
    gs_msg m = {0};
    m.type = GS_MSG_PUSH;
    m.version = GS_PROTO_VERSION;
    m.first_seq = c->next;
    uint64_t expect;
    int rc = read_run(c, c->id->node_id, c->next, true, &m, &expect, eb);
    if (!rc && m.nchanges) {
        rc = send_msg(c, &m, eb);
        if (!rc) {
            c->inflight[c->ninflight++] = (batch){c->next, expect - 1};
            c->st->sent += m.nchanges;
            c->next = expect;
        }
    }
    gs_msg_clear(&m);
    return rc;
}

/* The hub's head of a city chain, as its WELCOME (or a RETURNED since)
 * said; NULL when it named none and there is no room to note one. */
static gs_wire_head *hub_head(client *c, const char *origin)
{
    for (size_t i = 0; i < c->nheads; i++)
        if (!strcmp(c->heads[i].origin, origin))
            return &c->heads[i];
    if (c->nheads == GS_MAX_HEADS)
        return NULL;
    gs_wire_head *h = &c->heads[c->nheads++];
    memset(h, 0, sizeof *h);
    snprintf(h->origin, sizeof h->origin, "%s", origin);
    return h;
}

/* Gives the hub back the city's changes this node holds beyond the hub's
 * head of their chain (a hub restored from a backup lost them; the node
 * keeps every city change it received, body and hash): sends a RETURN of
 * the next held chain, from c->ret on, whose hub head + 1 this node holds;
 * or of the hub's head itself when this node holds another change under
 * that number, so that the hub learns it gave the number twice. *sent is
 * false when there is none left. */
static int send_return(client *c, bool *sent, gs_errbuf *eb)
{
    *sent = false;
    for (; c->ret < c->nheld; c->ret++) {
        const gs_wire_head *held = &c->held[c->ret];
        gs_wire_head *hub = hub_head(c, held->origin);
        bool forked = hub && held->seq == hub->seq && hub->seq &&
                      memcmp(held->hash, hub->hash, GS_HASH_LEN);
        if (!hub || (held->seq <= hub->seq && !forked))
            continue;
        gs_msg m = {0};
        m.type = GS_MSG_RETURN;
        m.version = GS_PROTO_VERSION;
        snprintf(m.origin, sizeof m.origin, "%s", held->origin);
        m.first_seq = forked ? hub->seq : hub->seq + 1;
        uint64_t end;
        int rc = read_run(c, held->origin, m.first_seq, false, &m, &end, eb);
        if (!rc && m.nchanges) {
            rc = send_msg(c, &m, eb);
            *sent = !rc;
        }
        gs_msg_clear(&m);
        if (rc || *sent)
            return rc;
    }
    return GS_OK;
}

/* RETURNED: the hub's head of the chain now. The same chain again while
 * the hub takes more of it; the next one when it took nothing more (the
 * change after its head is another village's) or the chains differ. */
static void on_returned(client *c, const gs_msg *m)
{
    gs_wire_head *hub = hub_head(c, m->origin);
    bool more = hub && m->seq > hub->seq && !m->code[0];
    if (hub && m->seq > hub->seq) {
        c->st->returned += m->seq - hub->seq;
        hub->seq = m->seq;
    }
    if (m->code[0] && strcmp(m->code, gs_errname(GS_ENOTFOUND)))
        fprintf(stderr,
                "gridnode: 城市链不一致 the city's changes on %s that this PC holds differ from "
                "the hub's: %s (%s); run `gridnode verify`\n",
                m->origin, m->text, m->code);
    if (!more)
        c->ret++;
}

static int fill_window(client *c, gs_errbuf *eb)
{
    node_store_head(c->s, &c->head, (uint8_t[GS_HASH_LEN]){0}, NULL);
    while (c->ninflight < c->window && c->next <= c->head) {
        int rc = send_batch(c, eb);
        if (rc)
            return rc;
    }
    return GS_OK;
}

static void progress(client *c, bool final)
{
    if (!c->o->progress)
        return;
    int64_t t = now_ms();
    if (!final && t - c->last_progress_ms < 200)
        return;
    c->last_progress_ms = t;
    double secs = (double)(t - c->started_ms) / 1000.0;
    uint64_t done = c->acked > c->st->acked_from ? c->acked - c->st->acked_from : 0;
    uint64_t total = c->head > c->st->acked_from ? c->head - c->st->acked_from : 0;
    fprintf(stderr, "\r同步 sync: sent %" PRIu64 ", acked %" PRIu64 "/%" PRIu64 ", pulled %" PRIu64
                    "  %.0f changes/s \033[K",
            c->st->sent, done, total, c->st->pulled, secs > 0 ? (double)done / secs : 0.0);
    if (final)
        fputc('\n', stderr);
}

/* Takes the hub's grant from a WELCOME or ACK: never more than our own
 * settings, never less than one PUSH of one change. */
static void take_grant(client *c, const gs_msg *m)
{
    c->window = m->window < (uint64_t)c->o->window ? (int)m->window : c->o->window;
    if (c->window < 1)
        c->window = 1;
    c->batch_bytes = m->batch_bytes < c->o->batch_bytes ? (size_t)m->batch_bytes : c->o->batch_bytes;
}

static int on_welcome(client *c, const gs_msg *m, gs_errbuf *eb)
{
    uint8_t mine[GS_HASH_LEN];
    node_store_head(c->s, &c->head, mine, NULL);
    if (m->acked_through > c->head)
        return gs_errf(eb, GS_ECHAIN,
                       "the hub has acknowledged change %" PRIu64 " but this node only has %" PRIu64
                       "; is this the node's own database?",
                       m->acked_through, c->head);
    if (node_store_hash_at(c->s, m->acked_through, mine, eb))
        return GS_ECHAIN;
    if (memcmp(mine, m->chain_head, GS_HASH_LEN))
        return gs_errf(eb, GS_ECHAIN,
                       "the hub's chain head at change %" PRIu64 " differs from this node's; "
                       "the logs have diverged (run `gridnode verify`)",
                       m->acked_through);
    c->acked = m->acked_through;
    c->st->acked_to = c->acked;
    c->next = c->acked + 1;
    c->ninflight = 0; /* a repeated WELCOME means: rewind */
    take_grant(c, m);
    /* the city's chains: the hub's heads, and what this node holds of them */
    memcpy(c->heads, m->heads, m->nheads * sizeof *m->heads);
    c->nheads = m->nheads;
    c->ret = 0;
    if (node_store_hub_chains(c->s, c->held, GS_MAX_HEADS, &c->nheld, eb))
        return GS_ESQL;
    /* skew from the hub's wall clock; its HLC may run ahead of it after a fast node */
    int64_t skew = (int64_t)gs_wall_ms() - (int64_t)m->hub_wall;
    c->st->skew_ms = skew;
    /* The sync state in one transaction: acked_through, the clock skew for
     * `status`, and the hub's clock, which moves ours forward so that our
     * next edits order after its. */
    gs_errbuf ignore;
    if (node_store_begin(c->s, &ignore) == GS_OK) {
        node_store_meta_set_int(c->s, NODE_META_ACKED_THROUGH, (int64_t)c->acked, &ignore);
        node_store_meta_set_int(c->s, NODE_META_CLOCK_SKEW_MS, skew, &ignore);
        node_store_observe(c->s, m->hub_time);
        if (node_store_commit(c->s, &ignore))
            node_store_rollback(c->s);
    }
    return GS_OK;
}

static int on_ack(client *c, const gs_msg *m, gs_errbuf *eb)
{
    (void)eb;
    take_grant(c, m);
    if (m->acked_through > c->acked) {
        c->acked = m->acked_through;
        gs_errbuf ignore;
        node_store_meta_set_int(c->s, NODE_META_ACKED_THROUGH, (int64_t)c->acked, &ignore);
    }
    int k = 0;
    for (int i = 0; i < c->ninflight; i++)
        if (c->inflight[i].last > c->acked)
            c->inflight[k++] = c->inflight[i];
    c->ninflight = k;
    c->st->acked_to = c->acked;
    return GS_OK;
}

static void on_rejected(client *c, const gs_msg *m)
{
    gs_errbuf ignore;
    node_store_reject(c->s, m->seq, m->code, m->text, &ignore);
    c->st->rejected++;
    fprintf(stderr, "gridnode: the city rejected change %" PRIu64 ": %s (%s)\n", m->seq, m->text,
            m->code);
}

/* Applies one page of downstream changes and the new cursor in one transaction. */
static int on_changes(client *c, const gs_msg *m, gs_errbuf *eb)
{
    bool same_hash = !memcmp(m->log_hash, c->cursor_hash, GS_HASH_LEN);
    if (!m->nchanges && m->next == c->cursor && same_hash)
        return GS_OK; /* nothing new: nothing to write */
    if (m->rewound && !c->st->rewound) {
        c->st->rewound = true;
        fprintf(stderr, "gridnode: 重新接收 the hub's log is not the one this node read up to hub "
                        "change %" PRIu64 " (was the hub restored from a backup?): receiving the "
                        "village's changes from the start again\n",
                c->cursor);
    }
    int rc = node_store_begin(c->s, eb);
    for (size_t i = 0; !rc && i < m->nchanges; i++) {
        const gs_wire_change *w = &m->changes[i];
        gs_change ch = {0};
        gs_errbuf why = {{0}};
        int drc = gs_change_decode(w->body, w->len, &ch, &why);
        const char *scope = drc ? NULL : gs_record_scope(ch.rec);
        if (!drc && !strcmp(ch.origin, c->id->node_id))
            drc = gs_errf(&why, GS_EINVAL, "a change of this node's own came back");
        else if (!drc && !ch.rec->rt->reference && (!scope || strcmp(scope, c->id->village)))
            drc = gs_errf(&why, GS_ESCOPE, "%s %s belongs to village %s, not this node's",
                          ch.rec->rt->name, gs_record_key(ch.rec), scope ? scope : "?");
        if (drc) {
            c->st->refused++;
            fprintf(stderr, "gridnode: refused a change from the hub (hub seq %" PRIu64 "): %s\n",
                    w->hub_seq, why.msg);
        } else {
            /* the city gave a number twice (a hub restored with its chain
             * file): the apply below keeps this PC's; say so, not silently */
            uint8_t held[GS_HASH_LEN];
            if (gs_origin_is_hub(ch.origin) &&
                node_store_hub_hash(c->s, ch.origin, ch.seq, held) == GS_OK &&
                memcmp(held, w->hash, GS_HASH_LEN))
                fprintf(stderr,
                        "gridnode: 城市链不一致 the hub sent the city's change %s #%" PRIu64
                        ", but this PC holds another change under that number; it keeps its "
                        "own (run `gridnode verify`)\n",
                        ch.origin, ch.seq);
            rc = node_store_apply_remote(c->s, &ch, w->body, w->len, w->hash, w->hub_seq, eb);
            c->st->pulled++;
        }
        gs_change_clear(&ch);
    }
    if (!rc)
        rc = node_store_set_cursor(c->s, m->next, m->log_hash, eb);
    if (!rc)
        rc = node_store_commit(c->s, eb);
    else
        node_store_rollback(c->s);
    if (!rc) {
        c->cursor = m->next;
        memcpy(c->cursor_hash, m->log_hash, GS_HASH_LEN);
    }
    return rc;
}

static int send_pull(client *c, gs_errbuf *eb)
{
    gs_msg m = {0};
    m.type = GS_MSG_PULL;
    m.version = GS_PROTO_VERSION;
    m.since = c->cursor;
    memcpy(m.log_hash, c->cursor_hash, GS_HASH_LEN);
    return send_msg(c, &m, eb);
}

/* Maps an ERROR's code name back to ours, so auth failures are not retried. */
static int error_code(const char *name)
{
    for (int i = 1; i < GS_ERR__COUNT; i++)
        if (!strcmp(gs_errname(i), name))
            return i;
    return GS_EZMQ;
}

/* Reads one monitor event; GS_EAUTH with a message for a refused handshake. */
static int handshake_event(client *c, gs_errbuf *eb)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    int rc = GS_OK;
    if (zmq_msg_recv(&ev, c->mon, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&ev) >= 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (const uint8_t *)zmq_msg_data(&ev) + 2, 4);
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, c->mon, ZMQ_DONTWAIT);
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            c->connected = true;
            c->reconnected = c->lost;
            c->lost = false;
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            c->connected = false;
            c->lost = true;
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            rc = gs_errf(eb, GS_EAUTH,
                         "the hub at %s refused this node's key (status %u): the node may have "
                         "been revoked or given a new key; ask the city (市民政局) for a new "
                         "bundle",
                         c->id->hub_endpoint, value);
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            rc = gs_errf(eb, GS_EAUTH,
                         "the handshake with the hub at %s failed (protocol error 0x%x): is the "
                         "hub's key in the bundle right, and is the hub using encryption too?",
                         c->id->hub_endpoint, value);
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    return rc;
}

typedef enum { ST_HELLO, ST_PUSH, ST_RETURN, ST_PULL, ST_DONE } phase;

/* After the last PUSH is acknowledged: give back what the hub lacks of the
 * city's chains (ST_RETURN), then pull (ST_PULL). */
static int after_push(client *c, phase *ph, gs_errbuf *eb)
{
    bool sent;
    int rc = send_return(c, &sent, eb);
    if (rc || sent) {
        *ph = ST_RETURN;
        return rc;
    }
    *ph = ST_PULL;
    return send_pull(c, eb);
}

/* Runs the protocol until done, or until the hub is silent for the timeout. */
static int run(client *c, bool verify_only, gs_msg *welcome, gs_errbuf *eb)
{
    phase ph = ST_HELLO;
    int64_t deadline = now_ms() + c->o->timeout_ms;
    c->verify_only = verify_only;
    int rc = send_hello(c, eb);
    while (!rc && ph != ST_DONE) {
        if (c->o->stop && *c->o->stop)
            return gs_errf(eb, GS_ETIMEOUT, "interrupted");
        zmq_pollitem_t it[2] = {{c->sock, 0, ZMQ_POLLIN, 0}, {c->mon, 0, ZMQ_POLLIN, 0}};
        int64_t wait = deadline - now_ms();
        /* A hub that completed the handshake is there but may be busy with a
         * thousand other villages: give it longer before giving up. */
        if (wait <= 0 && c->connected && deadline - c->o->timeout_ms + BUSY_GRACE_MS > now_ms())
            wait = 200;
        if (wait <= 0)
            return gs_errf(eb, GS_ETIMEOUT, "no answer from the hub at %s within %d s%s",
                           c->id->hub_endpoint,
                           (c->o->timeout_ms + (c->connected ? BUSY_GRACE_MS : 0)) / 1000,
                           c->connected ? " (it is reachable but did not answer: busy or stuck)"
                                        : "");
        int n = zmq_poll(it, c->mon ? 2 : 1, wait < 200 ? (long)wait : 200);
        if (n < 0 && errno != EINTR)
            return gs_errf(eb, GS_EZMQ, "poll: %s", zmq_strerror(errno));
        progress(c, false);
        if (n > 0 && c->mon && (it[1].revents & ZMQ_POLLIN) && (rc = handshake_event(c, eb)))
            break;
        if (c->reconnected && !verify_only) {
            /* a new hub process (or connection) knows nothing of our session:
             * say HELLO again and resume from its WELCOME */
            c->reconnected = false;
            c->resumed = true;
            c->ninflight = 0;
            ph = ST_HELLO;
            deadline = now_ms() + c->o->timeout_ms;
            if ((rc = send_hello(c, eb)))
                break;
            continue;
        }
        if (n <= 0 || !(it[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t raw;
        zmq_msg_init(&raw);
        if (zmq_msg_recv(&raw, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&raw);
            continue;
        }
        gs_msg m = {0};
        gs_errbuf why = {{0}};
        rc = gs_msg_decode(zmq_msg_data(&raw), zmq_msg_size(&raw), &c->lim, &m, &why);
        zmq_msg_close(&raw);
        if (rc) {
            rc = gs_errf(eb, rc, "the hub sent a bad message: %s", why.msg);
            break;
        }
        deadline = now_ms() + c->o->timeout_ms;
        switch (m.type) {
        case GS_MSG_WELCOME:
            if (verify_only) {
                *welcome = m;
                memset(&m, 0, sizeof m);
                ph = ST_DONE;
                break;
            }
            if (ph == ST_HELLO && !c->resumed)
                c->st->acked_from = m.acked_through;
            c->resumed = false;
            rc = on_welcome(c, &m, eb);
            if (!rc) {
                ph = ST_PUSH;
                rc = fill_window(c, eb);
            }
            break;
        case GS_MSG_ACK:
            rc = on_ack(c, &m, eb);
            if (!rc && ph == ST_PUSH)
                rc = fill_window(c, eb);
            break;
        case GS_MSG_REJECTED: on_rejected(c, &m); break;
        case GS_MSG_RETURNED:
            if (ph != ST_RETURN)
                break;
            on_returned(c, &m);
            rc = after_push(c, &ph, eb);
            break;
        case GS_MSG_CHANGES:
            if (ph != ST_PULL)
                break;
            rc = on_changes(c, &m, eb);
            if (!rc && m.more)
                rc = send_pull(c, eb);
            else if (!rc) {
                /* anything entered while we synced goes out in this session too */
                node_store_head(c->s, &c->head, (uint8_t[GS_HASH_LEN]){0}, NULL);
                if (c->head > c->acked) {
                    ph = ST_PUSH;
                    rc = fill_window(c, eb);
                } else {
                    ph = ST_DONE;
                }
            }
            break;
        case GS_MSG_ERROR:
            /* The hub restarted under a live connection: ZeroMQ reconnected
             * by itself, and the new hub process, which has no session for
             * it, refuses what was in flight ("PUSH before HELLO",
             * GS_ENOTFOUND). Say HELLO again and go on from its WELCOME; the
             * refusals of the other messages sent before it are ignored
             * until then. */
            if (error_code(m.code) == GS_ENOTFOUND && (ph != ST_HELLO || c->resumed)) {
                if (ph != ST_HELLO) {
                    c->resumed = true;
                    ph = ST_HELLO;
                    rc = send_hello(c, eb);
                }
                break;
            }
            rc = gs_errf(eb, error_code(m.code), "the hub refused: %s (%s)", m.text, m.code);
            break;
        default: break;
        }
        gs_msg_clear(&m);
        if (!rc && ph == ST_PUSH && c->ninflight == 0 && c->next > c->head)
            rc = after_push(c, &ph, eb);
    }
    return rc;
}

int node_sync_open(node_sync **out, node_store *s, const node_sync_opts *o, gs_errbuf *eb)
{
    client *c = calloc(1, sizeof *c);
    if (!c)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    c->s = s;
    c->o = o;
    c->st = &c->scratch;
    c->id = node_store_identity(s);
    c->lim = gs_limits_default;
    c->inflight = calloc((size_t)(o->window > 0 ? o->window : 1), sizeof *c->inflight);
    int rc = c->inflight ? node_store_sync_mode(s, eb) : gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc)
        rc = connect_hub(c, eb);
    if (rc) {
        node_sync_close(&c);
        return rc;
    }
    *out = c;
    return GS_OK;
}

void node_sync_close(node_sync **ns)
{
    if (!ns || !*ns)
        return;
    disconnect(*ns);
    free(*ns);
    *ns = NULL;
}

/* Starts a session on the open connection: fresh stats and state, and what
 * the connection's monitor said while it was idle (a refused key; a new hub
 * process, which the HELLO about to be sent already answers). */
static int begin_session(client *c, node_sync_stats *st, gs_errbuf *eb)
{
    c->st = st ? st : &c->scratch;
    memset(c->st, 0, sizeof *c->st);
    c->started_ms = c->last_progress_ms = now_ms();
    c->cursor = node_store_cursor(c->s, c->cursor_hash);
    node_store_head(c->s, &c->head, (uint8_t[GS_HASH_LEN]){0}, NULL);
    c->acked = c->next = 0;
    c->ninflight = 0;
    c->window = c->o->window > 0 ? c->o->window : 1;
    c->batch_bytes = c->o->batch_bytes;
    c->resumed = false;
    for (int i = 0; c->mon && i < 64; i++) {
        zmq_pollitem_t it = {c->mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 0) <= 0)
            break;
        int rc = handshake_event(c, eb);
        if (rc)
            return rc;
    }
    c->reconnected = false;
    return GS_OK;
}

int node_sync_run(node_sync *c, node_sync_stats *st, gs_errbuf *eb)
{
    int rc = begin_session(c, st, eb);
    if (!rc)
        rc = run(c, false, NULL, eb);
    if (!rc) {
        progress(c, true);
        gs_errbuf ignore;
        node_store_meta_set_int(c->s, NODE_META_LAST_SYNC_MS, (int64_t)gs_wall_ms(), &ignore);
    } else if (c->o->progress) {
        fputc('\n', stderr);
    }
    return rc;
}

int node_sync_once(node_store *s, const node_sync_opts *o, node_sync_stats *st, gs_errbuf *eb)
{
    node_sync *c = NULL;
    memset(st, 0, sizeof *st);
    int rc = node_sync_open(&c, s, o, eb);
    if (!rc)
        rc = node_sync_run(c, st, eb);
    node_sync_close(&c);
    return rc;
}

/* Compares the city's chains this node holds with the hub's heads of them
 * (count and digest over what the node's village holds, from a WELCOME to a
 * HELLO with verify), prints one line a chain; false when any differs, with
 * eb saying the first. */
static bool verify_city(node_store *s, const gs_msg *w, gs_errbuf *eb)
{
    gs_wire_head held[GS_MAX_HEADS];
    size_t nheld = 0;
    if (node_store_hub_chains(s, held, GS_MAX_HEADS, &nheld, eb))
        return false;
    bool same = true;
    /* every chain either side has: the hub's, then those only this PC has */
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = pass ? nheld : w->nheads;
        for (size_t i = 0; i < n; i++) {
            const gs_wire_head *hub = NULL, *mine = NULL;
            const char *origin = pass ? held[i].origin : w->heads[i].origin;
            for (size_t k = 0; k < w->nheads; k++)
                if (!strcmp(w->heads[k].origin, origin))
                    hub = &w->heads[k];
            for (size_t k = 0; k < nheld; k++)
                if (!strcmp(held[k].origin, origin))
                    mine = &held[k];
            if (pass && hub)
                continue; /* shown in the first pass */
            uint64_t hc = hub ? hub->count : 0, mc = mine ? mine->count : 0;
            bool ok = hc == mc && (!hc || !memcmp(hub->digest, mine->digest, GS_HASH_LEN));
            printf("  city chain %s: this PC holds %" PRIu64 " of its changes, the hub %" PRIu64
                   " for this village%s\n",
                   origin, mc, hc, ok ? "" : " — 不一致 DIFFERENT");
            if (!ok && same)
                gs_errf(eb, GS_ECHAIN,
                        "不一致 the city's own changes differ: on %s this PC holds %" PRIu64
                        " of them, the hub %" PRIu64 " for this village%s (sync first; if they "
                        "still differ, the hub lost decisions no PC gave back, or gave one "
                        "number twice)",
                        origin, mc, hc, mc == hc ? ", not the same ones" : "");
            same &= ok;
        }
    }
    return same;
}

int node_verify(node_store *s, const node_sync_opts *o, gs_errbuf *eb)
{
    client *c = NULL;
    gs_msg w = {0};
    int rc = node_sync_open(&c, s, o, eb);
    if (!rc)
        rc = begin_session(c, NULL, eb);
    if (!rc)
        rc = run(c, true, &w, eb);
    node_sync_close(&c);
    if (rc)
        return rc;
    uint8_t mine[GS_HASH_LEN];
    uint64_t head = 0;
    node_store_head(s, &head, mine, NULL);
    gs_buf a = GS_BUF_INIT, b = GS_BUF_INIT;
    gs_buf_hex(&b, w.chain_head, GS_HASH_LEN);
    if (w.acked_through > head || node_store_hash_at(s, w.acked_through, mine, NULL)) {
        rc = gs_errf(eb, GS_ECHAIN,
                     "the hub has acknowledged change %" PRIu64 " but this node has only %" PRIu64,
                     w.acked_through, head);
    } else {
        gs_buf_hex(&a, mine, GS_HASH_LEN);
        printf("hub acknowledged through change %" PRIu64 " of %" PRIu64 "\n", w.acked_through,
               head);
        printf("  node chain head at %" PRIu64 ": %s\n  hub  chain head at %" PRIu64 ": %s\n",
               w.acked_through, a.data, w.acked_through, b.data);
        if (memcmp(mine, w.chain_head, GS_HASH_LEN))
            rc = gs_errf(eb, GS_ECHAIN, "the chains differ at change %" PRIu64
                                        ": the hub's copy of this node's log is not this log",
                         w.acked_through);
        gs_errbuf city = {{0}};
        bool city_same = verify_city(s, &w, &city);
        if (!rc && !city_same)
            rc = gs_errf(eb, GS_ECHAIN, "%s", city.msg);
        if (!rc)
            printf("一致 verified: the hub holds exactly this node's changes 1..%" PRIu64
                   ", and this PC exactly the city's own changes for this village\n",
                   w.acked_through);
    }
    gs_buf_free(&a);
    gs_buf_free(&b);
    gs_msg_clear(&w);
    return rc;
}
