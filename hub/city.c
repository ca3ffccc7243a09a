/*
 * city.c: the city's own changes (see city.h). The hub's chain state is read
 * from its own entries in the log, so there is no second copy to keep right.
 */
#include <string.h>

#include "city.h"
#include "gridsync/hlc.h"

static int own_head(hub_store *s, uint64_t *seq, uint8_t head[GS_HASH_LEN], gs_errbuf *eb)
{
    sqlite3_stmt *st;
    *seq = 0;
    memset(head, 0, GS_HASH_LEN);
    if (sqlite3_prepare_v2(hub_store_db(s),
                           "SELECT seq, hash FROM changes WHERE origin = 'hub' ORDER BY seq DESC "
                           "LIMIT 1",
                           -1, &st, NULL))
        return gs_errf(eb, GS_ESQL, "%s", sqlite3_errmsg(hub_store_db(s)));
    if (sqlite3_step(st) == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == GS_HASH_LEN)
            memcpy(head, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    sqlite3_finalize(st);
    return GS_OK;
}

int hub_city_put(hub_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb)
{
    gs_change c = {0};
    uint8_t prev[GS_HASH_LEN], hash[GS_HASH_LEN];
    int rc = own_head(s, &c.seq, prev, eb);
    if (rc)
        return rc;
    strcpy(c.origin, GS_HUB_ORIGIN);
    c.seq++;
    c.hlc = gs_hlc_tick((gs_hlc)hub_store_meta_int(s, "hlc", 0), gs_wall_ms());
    c.op = op;
    c.rec = (gs_record *)rec; /* borrowed */
    gs_buf body = GS_BUF_INIT;
    gs_change_encode(&c, &body);
    if (body.err) {
        gs_buf_free(&body);
        return gs_errf(eb, GS_ENOMEM, "encoding a city change");
    }
    gs_chain_next(prev, body.data, body.len, hash);
    rc = hub_store_append(s, &c, body.data, body.len, hash, NULL, eb);
    if (!rc)
        rc = hub_store_meta_set_int(s, "hlc", (int64_t)c.hlc, eb);
    gs_buf_free(&body);
    return rc;
}

int hub_city_put_diff(hub_store *s, const gs_record *want, bool *changed, gs_errbuf *eb)
{
    gs_record *cur = NULL, *diff = gs_record_new(want->rt);
    if (!diff)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    bool exists = gs_replica_get(hub_store_replica(s), want->rt, gs_record_key(want), &cur,
                                 NULL) == GS_OK;
    gs_buf a = GS_BUF_INIT, b = GS_BUF_INIT;
    bool any = !exists;
    for (int i = 0; i < want->rt->nfields; i++) {
        if (want->v[i].state == GS_V_UNSET)
            continue;
        gs_buf_reset(&a);
        gs_buf_reset(&b);
        gs_record_format(want, i, &a);
        if (cur)
            gs_record_format(cur, i, &b);
        bool same = exists && gs_record_has(want, i) == gs_record_has(cur, i) &&
                    !strcmp(a.data ? a.data : "", b.data ? b.data : "");
        if (!same || i == want->rt->key || i == want->rt->scope) {
            any |= !same;
            gs_record_parse(diff, i, a.data ? a.data : "", NULL);
        }
    }
    gs_buf_free(&a);
    gs_buf_free(&b);
    int rc = any ? hub_city_put(s, diff, GS_OP_UPSERT, eb) : GS_OK;
    *changed = any && !rc;
    gs_record_destroy(&cur);
    gs_record_destroy(&diff);
    return rc;
}
