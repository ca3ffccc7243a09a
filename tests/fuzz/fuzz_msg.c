/*
 * fuzz_msg.c: libFuzzer target for the wire-message decoder (proto/msg.c).
 *
 * Any input must decode or fail cleanly (the sanitizers catch the rest).
 * What decodes must survive a round trip: encode it, decode that, and get
 * the same message field by field; and the encoding is canonical, so
 * encoding the second decode gives the same bytes again. A mismatch aborts.
 *
 * The change bodies a message carries are decoded too, as the hub decodes a
 * PUSH's (gs_change_decode, down to each record field): a body that decodes
 * must re-encode to a body that decodes, and that one to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/change.h"
#include "gridsync/msg.h"

/* Field-by-field equality of two decoded messages (padding and the changes
 * pointer differ, so no memcmp of the whole struct). */
static int msg_equal(const gs_msg *a, const gs_msg *b)
{
    if (a->type != b->type || a->version != b->version || strcmp(a->node_id, b->node_id) ||
        strcmp(a->software, b->software) || a->pending != b->pending ||
        a->hub_seq_seen != b->hub_seq_seen || a->acked_through != b->acked_through ||
        a->hub_time != b->hub_time || a->hub_seq_head != b->hub_seq_head ||
        a->node_time != b->node_time || a->hub_wall != b->hub_wall || a->window != b->window ||
        a->batch_bytes != b->batch_bytes ||
        memcmp(a->chain_head, b->chain_head, GS_HASH_LEN) || a->first_seq != b->first_seq ||
        a->seq != b->seq || a->since != b->since || a->next != b->next || a->more != b->more ||
        memcmp(a->log_hash, b->log_hash, GS_HASH_LEN) || a->rewound != b->rewound ||
        strcmp(a->code, b->code) || strcmp(a->text, b->text) || a->nchanges != b->nchanges)
        return 0;
    for (size_t i = 0; i < a->nchanges; i++) {
        const gs_wire_change *x = &a->changes[i], *y = &b->changes[i];
        if (x->len != y->len || (x->len && memcmp(x->body, y->body, x->len)) ||
            memcmp(x->hash, y->hash, GS_HASH_LEN) || x->hub_seq != y->hub_seq)
            return 0;
    }
    return 1;
}

/* A change body: decoded or refused cleanly; if decoded, its encoding is
 * stable from the first re-encoding on. */
static void check_change(const gs_wire_change *w)
{
    gs_change c1 = {0}, c2 = {0};
    gs_buf e1 = GS_BUF_INIT, e2 = GS_BUF_INIT;
    gs_errbuf eb;
    if (gs_change_decode(w->len ? w->body : NULL, w->len, &c1, &eb) == GS_OK) {
        gs_change_encode(&c1, &e1);
        if (e1.err || gs_change_decode(e1.data, e1.len, &c2, &eb) != GS_OK)
            abort();
        gs_change_encode(&c2, &e2);
        if (e2.err || e2.len != e1.len || memcmp(e1.data, e2.data, e1.len))
            abort();
    }
    gs_change_clear(&c1);
    gs_change_clear(&c2);
    gs_buf_free(&e1);
    gs_buf_free(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_msg first = {0}, second = {0};
    gs_buf enc = GS_BUF_INIT, again = GS_BUF_INIT;
    gs_errbuf eb;
    if (gs_msg_decode(size ? data : NULL, size, NULL, &first, &eb) != GS_OK)
        goto done;
    for (size_t i = 0; i < first.nchanges; i++)
        check_change(&first.changes[i]);
    int rc = gs_msg_encode(&first, NULL, &enc);
    /* An accepted message that omitted an optional key can grow by that key
     * when re-encoded, so only a frame at the size limit may fail here. */
    if (rc == GS_ETOOBIG)
        goto done;
    if (rc != GS_OK)
        abort();
    if (gs_msg_decode(enc.data, enc.len, NULL, &second, &eb) != GS_OK)
        abort();
    if (!msg_equal(&first, &second))
        abort();
    if (gs_msg_encode(&second, NULL, &again) != GS_OK || again.len != enc.len ||
        memcmp(again.data, enc.data, enc.len))
        abort();
done:
    gs_msg_clear(&first);
    gs_msg_clear(&second);
    gs_buf_free(&enc);
    gs_buf_free(&again);
    return 0;
}
