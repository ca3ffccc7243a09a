/*
 * server_push.c: applying what the nodes push (part of the sync server, see
 * server_int.h).
 *
 * PUSHes wait in the server's queue until the end of a loop turn; then
 * sv_commit_group applies them all in one transaction (group commit): per
 * change, the chain hash from the node's stored head, decoding, authorization
 * (origin, seq, village, not reference data), and hub_store_append, which
 * judges and applies it. A change refused by a rule or a scope check goes to
 * quarantine and is acked past (REJECTED); a broken chain stops that node's
 * batch with an ERROR. Invariant: no ACK is sent before the COMMIT that holds
 * the change and the node's new acked_through has returned. A node's
 * acked_through and head are read inside that transaction, so two
 * connections of one node cannot apply a change twice.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

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
    uint64_t acked; /* the node's state after this push */
    uint8_t head[GS_HASH_LEN];
    bool rewind;
    int error; /* GS_OK, or the code of an ERROR to send */
    char text[512];
    uint64_t *rejected; /* seqs quarantined */
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
            rc = hub_store_append(sv->store, &c, w->body, w->len, w->hash, s->village, true, &eb);
            if (!rc) {
                sv->hlc = gs_hlc_recv(sv->hlc, c.hlc, gs_wall_ms());
            } else if (rc != GS_ESCOPE && rc != GS_ERULE) { /* else: refused, quarantined */
                gs_change_clear(&c);
                sv_log(sv, 0, "applying %s #%" PRIu64 ": %s", s->node_id, seq, eb.msg);
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
void sv_commit_group(server *sv, bool force)
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
        sv_tick_clock(sv);
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
    if (!rc && hub_store_meta_set_int(sv->store, HUB_META_HLC, (int64_t)sv->hlc, &eb))
        rc = GS_ESQL;
    if (!rc)
        rc = hub_store_commit(sv->store, &eb);
    else
        hub_store_rollback(sv->store);
    if (rc)
        sv_log(sv, 0, "group commit failed, nothing acknowledged: %s",
               eb.msg[0] ? eb.msg : gs_strerror(rc));
    if (!rc) {
        for (size_t i = 0; i < sv->nsessions; i++)
            sv->sessions[i].seen_dirty = false;
        sv->seen_since = 0;
    }
    sv_log(sv, 2, "group of %zu pushes, %zu changes: %s", sv->nqueue, changes,
           rc ? "failed" : "committed");
    /* Durable now (or not at all): answer. */
    for (size_t q = 0; q < sv->nqueue; q++) {
        session *s = &sv->sessions[sv->queue[q].session];
        if (rc)
            sv_send_error(sv, s, GS_ESQL, "hub busy or failing (%s); retry later", gs_strerror(rc));
        else if (out[q].error > 0)
            sv_send_error(sv, s, out[q].error, "%s", out[q].text);
        else if (out[q].error == 0 && out[q].rewind)
            sv_send_welcome(sv, s);
        else if (out[q].error == 0) {
            for (size_t k = 0; k < out[q].nrejected; k++) {
                gs_msg m = {0};
                m.type = GS_MSG_REJECTED;
                m.version = GS_PROTO_VERSION;
                m.seq = out[q].rejected[k];
                snprintf(m.code, sizeof m.code, "%s", out[q].codes[k]);
                snprintf(m.text, sizeof m.text, "%s", out[q].reasons[k]);
                sv_log(sv, 1, "REJECTED %s #%" PRIu64 ": %s", s->node_id, m.seq, m.text);
                sv_send(sv, s, &m);
            }
            gs_msg ack = {0};
            ack.type = GS_MSG_ACK;
            ack.version = GS_PROTO_VERSION;
            ack.acked_through = out[q].acked;
            memcpy(ack.chain_head, out[q].head, GS_HASH_LEN);
            sv_grant(sv, s, out[q].acked, &ack);
            sv_send(sv, s, &ack);
        }
        if (out)
            free_outcome(&out[q]);
        gs_msg_clear(&sv->queue[q].msg);
    }
    free(out);
    sv->nqueue = 0;
    sv->queued_bytes = 0;
}
