/*
 * test_replica.c: the clock, the change codec, the hash chain and the
 * replica rules. The convergence test applies the same changes in many
 * random orders (with repeats) to separate databases and compares them.
 */
#include <check.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/change.h"
#include "gridsync/replica.h"
#include "gstest.h"

/* ---- HLC ------------------------------------------------------------------ */

START_TEST(hlc_rules)
{
    /* wall clock ahead: take it */
    ck_assert_uint_eq(gs_hlc_tick(GS_HLC_MAKE(1000, 5), 2000), GS_HLC_MAKE(2000, 0));
    /* wall clock behind (a slow village PC): counter advances, never back */
    ck_assert_uint_eq(gs_hlc_tick(GS_HLC_MAKE(5000, 5), 2000), GS_HLC_MAKE(5000, 6));
    /* counter overflow moves to the next millisecond */
    ck_assert_uint_eq(gs_hlc_tick(GS_HLC_MAKE(5000, 0xffff), 0), GS_HLC_MAKE(5001, 0));
    /* receive: beyond both the local and the remote clock */
    gs_hlc remote = GS_HLC_MAKE(90000, 7);
    gs_hlc h = gs_hlc_recv(GS_HLC_MAKE(1000, 0), remote, 1000);
    ck_assert_uint_gt(h, remote);
    ck_assert_uint_eq(h, GS_HLC_MAKE(90000, 8));
    /* a node a day slow: after hearing from the hub, its next write orders after */
    uint64_t hub_wall = 1800000000000ull, node_wall = hub_wall - 86400000ull;
    gs_hlc hub = gs_hlc_tick(0, hub_wall);
    gs_hlc node = gs_hlc_recv(gs_hlc_tick(0, node_wall), hub, node_wall);
    ck_assert_uint_gt(gs_hlc_tick(node, node_wall + 1), hub);
}
END_TEST

/* ---- changes -------------------------------------------------------------- */

static gs_change make_change(const char *origin, uint64_t seq, gs_hlc hlc, const char *id,
                             const char *status, const char *title)
{
    gs_change c = {0};
    snprintf(c.origin, sizeof c.origin, "%s", origin);
    c.seq = seq;
    c.hlc = hlc;
    c.op = GS_OP_UPSERT;
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    c.rec = gs_record_new(rt);
    gs_record_parse(c.rec, GS_INCIDENT_ID, id, NULL);
    gs_record_parse(c.rec, GS_INCIDENT_VILLAGE_CODE, "411122101201", NULL);
    if (status)
        gs_record_parse(c.rec, GS_INCIDENT_STATUS, status, NULL);
    if (title)
        gs_record_parse(c.rec, GS_INCIDENT_TITLE, title, NULL);
    return c;
}

START_TEST(change_round_trip_and_chain)
{
    gs_change c = make_change("411122101201-1", 7, GS_HLC_MAKE(123456, 3), "a1", "accepted",
                              "消防通道堵塞");
    gs_buf b = GS_BUF_INIT;
    gs_change_encode(&c, &b);
    gs_change d = {0};
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_change_decode(b.data, b.len, &d, &eb) == GS_OK, "%s", eb.msg);
    ck_assert_str_eq(d.origin, c.origin);
    ck_assert_uint_eq(d.seq, 7);
    ck_assert_uint_eq(d.hlc, c.hlc);
    ck_assert_int_eq(d.op, GS_OP_UPSERT);
    ck_assert_str_eq(gs_record_str(d.rec, GS_INCIDENT_TITLE), "消防通道堵塞");
    /* re-encoding gives the same bytes: the body is canonical */
    gs_buf b2 = GS_BUF_INIT;
    gs_change_encode(&d, &b2);
    ck_assert_uint_eq(b.len, b2.len);
    ck_assert_mem_eq(b.data, b2.data, b.len);

    /* chain: deterministic, and any flipped byte changes the head */
    uint8_t h1[GS_HASH_LEN], h2[GS_HASH_LEN], h3[GS_HASH_LEN];
    gs_chain_next(NULL, b.data, b.len, h1);
    gs_chain_next(NULL, b2.data, b2.len, h2);
    ck_assert_mem_eq(h1, h2, GS_HASH_LEN);
    b2.data[b2.len - 1] ^= 1;
    gs_chain_next(NULL, b2.data, b2.len, h3);
    ck_assert(memcmp(h1, h3, GS_HASH_LEN) != 0);
    gs_chain_next(h1, b.data, b.len, h3);
    ck_assert(memcmp(h1, h3, GS_HASH_LEN) != 0);

    /* every truncation is an error, never a crash */
    for (size_t n = 0; n < b.len; n++) {
        gs_change t = {0};
        ck_assert_int_ne(gs_change_decode(b.data, n, &t, NULL), GS_OK);
        ck_assert_ptr_null(t.rec);
    }
    gs_change_clear(&c);
    gs_change_clear(&d);
    gs_buf_free(&b);
    gs_buf_free(&b2);
}
END_TEST

START_TEST(change_rejects_missing_scope)
{
    gs_change c = make_change("n1", 1, 1, "a1", NULL, "t");
    gs_record_unset(c.rec, GS_INCIDENT_VILLAGE_CODE);
    gs_buf b = GS_BUF_INIT;
    gs_change_encode(&c, &b);
    gs_change d = {0};
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_change_decode(b.data, b.len, &d, &eb), GS_EREQUIRED);
    ck_assert_ptr_nonnull(strstr(eb.msg, "village_code"));
    gs_change_clear(&c);
    gs_buf_free(&b);
}
END_TEST

/* ---- replica -------------------------------------------------------------- */

static sqlite3 *open_replica(gs_replica **r)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(gs_replica_create_schema(db, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_open(r, db, NULL), GS_OK);
    return db;
}

/* The entity rows of a database as one string, for comparison. */
static char *dump(sqlite3 *db)
{
    gs_buf b = GS_BUF_INIT;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "SELECT id, status, title, severity, _deleted, hex(_clock) FROM incidents "
                       "ORDER BY id",
                       -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < 6; i++)
            gs_buf_printf(&b, "%s%c", sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "NULL",
                          i == 5 ? '\n' : '|');
    sqlite3_finalize(st);
    return gs_buf_steal(&b);
}

START_TEST(last_writer_wins_per_field)
{
    gs_replica *r;
    sqlite3 *db = open_replica(&r);
    gs_change a = make_change("node-a", 1, GS_HLC_MAKE(100, 0), "x", "reported", "原标题");
    gs_change b = make_change("node-b", 1, GS_HLC_MAKE(200, 0), "x", "accepted", NULL);
    gs_change c = make_change("hub", 1, GS_HLC_MAKE(150, 0), "x", "rejected", "城市改的标题");
    int won;
    ck_assert_int_eq(gs_replica_apply(r, &b, &won, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_apply(r, &a, &won, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_apply(r, &c, &won, NULL), GS_OK);
    ck_assert_int_eq(won, 1); /* c wins the title, loses the status and existence */
    gs_record *rec;
    ck_assert_int_eq(gs_replica_get(r, a.rec->rt, "x", &rec, NULL), GS_OK);
    ck_assert_str_eq(gs_record_str(rec, GS_INCIDENT_STATUS), "accepted");
    ck_assert_str_eq(gs_record_str(rec, GS_INCIDENT_TITLE), "城市改的标题");
    gs_record_destroy(&rec);
    /* a repeated change wins nothing */
    ck_assert_int_eq(gs_replica_apply(r, &b, &won, NULL), GS_OK);
    ck_assert_int_eq(won, 0);
    /* equal hlc: the greater origin wins, deterministically */
    gs_change d = make_change("node-c", 2, GS_HLC_MAKE(200, 0), "x", "registered", NULL);
    ck_assert_int_eq(gs_replica_apply(r, &d, &won, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_get(r, a.rec->rt, "x", &rec, NULL), GS_OK);
    ck_assert_str_eq(gs_record_str(rec, GS_INCIDENT_STATUS), "registered");
    gs_record_destroy(&rec);
    /* delete, then a later upsert resurrects */
    gs_change del = make_change("node-a", 2, GS_HLC_MAKE(300, 0), "x", NULL, NULL);
    del.op = GS_OP_DELETE;
    ck_assert_int_eq(gs_replica_apply(r, &del, &won, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_get(r, a.rec->rt, "x", &rec, NULL), GS_ENOTFOUND);
    gs_change e = make_change("node-b", 2, GS_HLC_MAKE(400, 0), "x", NULL, NULL);
    ck_assert_int_eq(gs_replica_apply(r, &e, &won, NULL), GS_OK);
    ck_assert_int_eq(gs_replica_get(r, a.rec->rt, "x", &rec, NULL), GS_OK);
    gs_record_destroy(&rec);
    gs_change *all[] = {&a, &b, &c, &d, &del, &e};
    for (size_t i = 0; i < 6; i++)
        gs_change_clear(all[i]);
    gs_replica_destroy(&r);
    sqlite3_close(db);
}
END_TEST

/* A push may touch only its own village's records: a record stored under
 * one village, claimed by a change from another, stays as it was. */
START_TEST(record_stays_in_its_village)
{
    static const char *const east = "411122101201", *const west = "411122101202";
    gs_replica *r;
    sqlite3 *db = open_replica(&r);
    gs_change a = make_change("node-a", 1, GS_HLC_MAKE(100, 0), "x", "reported", "东村的事件");
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_replica_apply_in(r, &a, east, NULL, &eb), GS_OK);
    /* a later change that names the record and claims the west village */
    gs_change b = make_change("node-b", 1, GS_HLC_MAKE(200, 0), "x", "closed", "被抢走");
    int vc = GS_INCIDENT_VILLAGE_CODE;
    gs_record_parse(b.rec, vc, west, NULL);
    char *before = dump(db);
    int won = -1;
    ck_assert_int_eq(gs_replica_apply_in(r, &b, west, &won, &eb), GS_ESCOPE);
    ck_assert_int_eq(won, 0);
    ck_assert_ptr_nonnull(strstr(eb.msg, "belongs to village 411122101201"));
    char *after = dump(db);
    ck_assert_str_eq(after, before);
    /* deleted records too: the tombstone keeps the village */
    gs_change del = make_change("node-a", 2, GS_HLC_MAKE(300, 0), "x", NULL, NULL);
    del.op = GS_OP_DELETE;
    ck_assert_int_eq(gs_replica_apply_in(r, &del, east, NULL, &eb), GS_OK);
    b.hlc = GS_HLC_MAKE(400, 0);
    ck_assert_int_eq(gs_replica_apply_in(r, &b, west, NULL, &eb), GS_ESCOPE);
    /* its own village may; a new record in the west village may */
    gs_change c = make_change("node-a", 3, GS_HLC_MAKE(500, 0), "x", "accepted", NULL);
    ck_assert_int_eq(gs_replica_apply_in(r, &c, east, &won, &eb), GS_OK);
    ck_assert_int_gt(won, 0);
    gs_change d = make_change("node-b", 2, GS_HLC_MAKE(600, 0), "y", "reported", "西村");
    gs_record_parse(d.rec, vc, west, NULL);
    ck_assert_int_eq(gs_replica_apply_in(r, &d, west, NULL, &eb), GS_OK);
    /* without a village (the city's own changes), no check */
    ck_assert_int_eq(gs_replica_apply_in(r, &b, NULL, &won, &eb), GS_OK);
    ck_assert_int_gt(won, 0);
    free(before);
    free(after);
    gs_change *all[] = {&a, &b, &del, &c, &d};
    for (size_t i = 0; i < 5; i++)
        gs_change_clear(all[i]);
    gs_replica_destroy(&r);
    sqlite3_close(db);
}
END_TEST

START_TEST(convergence_any_order)
{
    enum { N = 60, REPLICAS = 6 };
    static const char *statuses[] = {"reported", "accepted", "registered", "closed"};
    static const char *origins[] = {"hub", "411122101201-1", "411122101201-2"};
    gs_change ch[N];
    srand(20261128);
    for (int i = 0; i < N; i++) {
        char id[8], title[32];
        snprintf(id, sizeof id, "r%d", rand() % 5);
        snprintf(title, sizeof title, "标题%d", i);
        /* few distinct milliseconds; the counter keeps (hlc, origin) unique as on real replicas */
        ch[i] = make_change(origins[rand() % 3], (uint64_t)i + 1, GS_HLC_MAKE(rand() % 10, i), id,
                            rand() % 3 ? statuses[rand() % 4] : NULL, rand() % 2 ? title : NULL);
        if (rand() % 10 == 0)
            ch[i].op = GS_OP_DELETE;
    }
    char *first = NULL;
    for (int k = 0; k < REPLICAS; k++) {
        gs_replica *r;
        sqlite3 *db = open_replica(&r);
        int order[N];
        for (int i = 0; i < N; i++)
            order[i] = i;
        for (int i = N - 1; i > 0; i--) {
            int j = rand() % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(gs_replica_apply(r, &ch[order[i]], NULL, NULL), GS_OK);
            if (rand() % 4 == 0) /* duplicates change nothing */
                ck_assert_int_eq(gs_replica_apply(r, &ch[order[rand() % (i + 1)]], NULL, NULL),
                                 GS_OK);
        }
        char *d = dump(db);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_gt(strlen(d), 0);
        if (!first)
            first = d;
        else {
            ck_assert_str_eq(d, first);
            free(d);
        }
        gs_replica_destroy(&r);
        sqlite3_close(db);
    }
    free(first);
    for (int i = 0; i < N; i++)
        gs_change_clear(&ch[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replica");
    TCase *tc = tcase_create("hlc");
    tcase_add_test(tc, hlc_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("change");
    tcase_add_test(tc, change_round_trip_and_chain);
    tcase_add_test(tc, change_rejects_missing_scope);
    suite_add_tcase(s, tc);
    tc = tcase_create("replica");
    tcase_add_test(tc, last_writer_wins_per_field);
    tcase_add_test(tc, record_stays_in_its_village);
    tcase_add_test(tc, convergence_any_order);
    suite_add_tcase(s, tc);
    return gst_run_suite(s);
}
