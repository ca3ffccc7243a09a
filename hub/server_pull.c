/*
 * server_pull.c: what the hub gives a node (part of the sync server, see
 * server_int.h).
 *
 * PULL is answered at once with one CHANGES page (at most PULL_MAX_CHANGES
 * changes and PULL_MAX_BYTES) of what the node's village should see, read by
 * hub_store_pull, which also checks the node's cursor against the log hash
 * and reads from 0 (rewound) when it is not in this log. The last page ends
 * the sync's "open" state (a close after it is not a drop).
 *
 * RETURN takes back the city's own changes a village holds beyond this hub's
 * head of their chain, after the hub was restored from a copy; only what the
 * hub's own key proves is the city's goes in, in one transaction of its own.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "city.h"
#include "server_int.h"

#define PULL_MAX_CHANGES 512
#define PULL_MAX_BYTES   (1u << 20)

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

void sv_handle_pull(server *sv, session *s, const gs_msg *m)
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
    if (hub_store_pull(sv->store, s->village, s->node_id, &cur, max, PULL_MAX_BYTES, add_pulled, &p,
                       &reply.more, &reply.rewound, &eb) != GS_OK ||
        p.rc) {
        sv_send_error(sv, s, GS_ESQL, "cannot read changes: %s", eb.msg);
    } else {
        reply.next = cur.next;
        memcpy(reply.log_hash, cur.next_hash, GS_HASH_LEN);
        if (reply.rewound)
            sv_log(sv, 1,
                   "node %s: its cursor %" PRIu64 " is not in this log (a restored hub?); "
                   "sending its village's changes from the start",
                   s->node_id, m->since);
        if (!reply.more)
            s->open = false; /* the last page: the node may close now */
        sv_send(sv, s, &reply);
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
void sv_handle_return(server *sv, session *s, const gs_msg *m)
{
    gs_msg reply = {0};
    reply.type = GS_MSG_RETURNED;
    reply.version = GS_PROTO_VERSION;
    snprintf(reply.origin, sizeof reply.origin, "%s", m->origin);
    gs_errbuf eb = {{0}};
    char w[160];
    if (!gs_origin_valid(m->origin) || !gs_origin_is_hub(m->origin)) {
        sv_drop(sv, DROP_ORDER, sv_who(s, w, sizeof w),
                "RETURN of %s, which is not the city's chain", m->origin);
        sv_send_error(sv, s, GS_EINVAL, "RETURN.origin: %s is not one of the city's chains",
                      m->origin);
        return;
    }
    uint8_t head[GS_HASH_LEN];
    int rc = hub_store_begin(sv->store, &eb), stop = GS_OK;
    if (!rc) /* never write back a clock older than a city command's */
        sv_tick_clock(sv);
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
            stop = gs_errf(&why, GS_ENOTFOUND,
                           "the hub holds %s through #%" PRIu64 "; #%" PRIu64 " must come first",
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
                               "%s #%" PRIu64 " was given to two different city changes", m->origin,
                               c.seq);
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
        rc = hub_store_meta_set_int(sv->store, HUB_META_HLC, (int64_t)sv->hlc, &eb);
    if (!rc)
        rc = hub_store_commit(sv->store, &eb);
    else
        hub_store_rollback(sv->store);
    if (rc) {
        sv_log(sv, 0, "RETURN of %s from %s failed, nothing applied: %s", m->origin,
               sv_who(s, w, sizeof w), eb.msg);
        sv_send_error(sv, s, rc, "hub busy or failing (%s); retry later", gs_strerror(rc));
        return;
    }
    if (applied)
        sv_log(sv, 0,
               "%s gave back %zu of the city's changes on %s, which this database had "
               "lost (restored from a backup?); it holds them through #%" PRIu64 " now",
               sv_who(s, w, sizeof w), applied, m->origin, reply.seq);
    if (stop == GS_ECHAIN)
        sv_log(sv, 0, "城市链分叉 %s holds the city's %s otherwise than this hub: %s",
               sv_who(s, w, sizeof w), m->origin, reply.text);
    else if (stop == GS_EAUTH)
        sv_log(sv, 0, "RETURN refused: %s gave back a change that is not the city's: %s",
               sv_who(s, w, sizeof w), reply.text);
    sv_send(sv, s, &reply);
}
