/*
 * test_derive.c: derived values and the hard checks of entry (derive.c), and
 * the property that makes them safe to keep beside replicated rows.
 *
 * The property test drives random edits from two PCs of one village and from
 * the city (an election and its candidates, a council and its affairs, an
 * incident through its workflow), some of them carrying stale derived values
 * as an older PC would send, and applies the same set of changes in several
 * random orders, with repeats, to separate replicas. Every replica must end
 * with the same rows, and every derived value in them must equal a fresh
 * computation from the converged rows (and, for closed_at, from the changes
 * that closed the incident).
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/derive.h"
#include "gridsync/replica.h"
#include "gstest.h"

#define VILLAGE "411122101201"

static gs_record *rec_of(gs_rtype t, const char *const *kv)
{
    gs_record *r = gs_record_new(gs_rectype_get(t));
    for (int i = 0; kv[i]; i += 2) {
        gs_errbuf eb = {{0}};
        int f = gs_field_find(r->rt, kv[i]);
        ck_assert_msg(f >= 0, "no field %s", kv[i]);
        ck_assert_msg(gs_record_parse(r, f, kv[i + 1], &eb) == GS_OK, "%s=%s: %s", kv[i],
                      kv[i + 1], eb.msg);
    }
    return r;
}

static const char *str(const gs_record *r, const char *f)
{
    const char *s = gs_record_str(r, gs_field_find(r->rt, f));
    return s ? s : "";
}

/* ---- the law that applies ---------------------------------------------------- */

START_TEST(residents_committee_cites_its_law)
{
    const gs_finding_info *v = gs_finding_cite(GS_FIND_SIZE_SMALL, GS_COMMITTEE_VILLAGE);
    const gs_finding_info *r = gs_finding_cite(GS_FIND_SIZE_SMALL, GS_COMMITTEE_RESIDENTS);
    ck_assert_str_eq(v->law, "村民委员会组织法");
    ck_assert_str_eq(v->article, "第六条");
    ck_assert_str_eq(r->law, "城市居民委员会组织法");
    ck_assert_str_eq(r->article, "第七条");
    ck_assert_str_eq(r->name, "SIZE_SMALL");
    /* no residents' finding cites the villagers' law */
    for (int f = 1; f < GS_FIND__COUNT; f++)
        ck_assert_msg(!strstr(gs_finding_cite((gs_finding)f, GS_COMMITTEE_RESIDENTS)->law,
                              "村民委员会组织法"),
                      "%s", gs_finding_get((gs_finding)f)->name);

    /* 4 seats (chair + 3): within 3-7, below 5-9 */
    static const char *const e[] = {"id", "e", "village_code", VILLAGE, "committee", "居民委员会",
                                    "election_date", "2026-03-08", "registered", "1000", "voted",
                                    "800", "valid", "800", "invalid", "0", "seats_member", "3",
                                    "seats_chair", "1", "seats_vice", "0", NULL};
    gs_record *res = rec_of(GS_RT_ELECTION, e);
    ck_assert_int_eq(gs_derive_election(res, NULL, 0), GS_OK);
    ck_assert_msg(strstr(str(res, "findings"), "SIZE_SMALL"), "%s", str(res, "findings"));
    gs_record_parse(res, GS_ELECTION_COMMITTEE, "村民委员会", NULL);
    gs_derive_election(res, NULL, 0);
    ck_assert_msg(!strstr(str(res, "findings"), "SIZE_"), "%s", str(res, "findings"));
    /* a Party committee: no organic-law finding, even with a failed turnout */
    gs_record_parse(res, GS_ELECTION_COMMITTEE, "党组织委员会", NULL);
    gs_record_parse(res, GS_ELECTION_VOTED, "400", NULL);
    gs_record_parse(res, GS_ELECTION_VALID, "400", NULL);
    gs_derive_election(res, NULL, 0);
    ck_assert_str_eq(str(res, "findings"), "");
    gs_record_destroy(&res);
}
END_TEST

/* ---- the hard checks name the options and the numbers ---------------------- */

START_TEST(judge_messages_give_the_numbers)
{
    static const char *const e[] = {"id", "e", "village_code", VILLAGE, "committee", "村民委员会",
                                    "election_date", "2026-03-08", "registered", "1000", "voted",
                                    "1001", "valid", "1001", "invalid", "0", "seats_member", "4",
                                    NULL};
    gs_record *r = rec_of(GS_RT_ELECTION, e);
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_judge_record(r, &eb), GS_ERULE);
    ck_assert_msg(strstr(eb.msg, "投票人数 --voted 1001 超过 登记选民数 --registered 1000") &&
                      strstr(eb.msg, "[CAST_OVER_REGISTERED]"),
                  "%s", eb.msg);
    gs_record_parse(r, GS_ELECTION_VOTED, "900", NULL);
    gs_record_parse(r, GS_ELECTION_VALID, "890", NULL);
    gs_record_parse(r, GS_ELECTION_INVALID, "11", NULL);
    ck_assert_int_eq(gs_judge_record(r, &eb), GS_ERULE);
    ck_assert_msg(strstr(eb.msg, "有效票数 --valid 890 加 无效票数 --invalid 11 不等于 投票人数 "
                                 "--voted 900") &&
                      strstr(eb.msg, "[BALLOTS_SUM]"),
                  "%s", eb.msg);
    gs_record_parse(r, GS_ELECTION_INVALID, "10", NULL);
    ck_assert_int_eq(gs_judge_record(r, &eb), GS_OK);
    static const char *const c[] = {"id", "c", "village_code", VILLAGE, "election_id", "e",
                                    "name", "王芳", "gender", "女", "post", "委员", "votes",
                                    "891", NULL};
    gs_record *cand = rec_of(GS_RT_CANDIDATE, c);
    ck_assert_int_eq(gs_judge_election(r, &cand, 1, &eb), GS_ERULE);
    ck_assert_msg(strstr(eb.msg, "候选人 王芳 的得票数 --votes 891 超过 有效票数 --valid 890") &&
                      strstr(eb.msg, "[VOTES_OVER_VALID]"),
                  "%s", eb.msg);
    gs_record_destroy(&cand);
    gs_record_destroy(&r);
}
END_TEST

/* 火化 否 with a reason is refused as contradictory at entry; a row stored
 * that way before is read as the exemption it records, never as a violation
 * that says there was none. */
START_TEST(exemption_is_the_exemption)
{
    static const char *const k[] = {"id", "k", "village_code", VILLAGE, "name", "红白理事会",
                                    "cremation_required", "是", "max_funeral_days", "3", NULL};
    static const char *const a[] = {"id", "a", "village_code", VILLAGE, "kind", "白事", "host",
                                    "马家", "event_date", "2026-06-03", "cremation", "否",
                                    "exemption", "回族", "days", "3", NULL};
    gs_record *council = rec_of(GS_RT_COUNCIL, k), *affair = rec_of(GS_RT_AFFAIR, a);
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_judge_record(affair, &eb), GS_ERULE);
    ck_assert_msg(strstr(eb.msg, "EXEMPTION_CONTRADICTS") && strstr(eb.msg, "豁免理由 --exemption 回族"),
                  "%s", eb.msg);
    gs_derive_affair(affair, council);
    ck_assert_str_eq(str(affair, "violations"), "");
    /* without the reason it is the violation */
    gs_record_set_null(affair, GS_AFFAIR_EXEMPTION);
    ck_assert_int_eq(gs_judge_record(affair, &eb), GS_OK);
    gs_derive_affair(affair, council);
    ck_assert_str_eq(str(affair, "violations"), "AFFAIR_CREMATION");
    /* exempt without a reason is refused */
    gs_record_parse(affair, GS_AFFAIR_CREMATION, "豁免", NULL);
    ck_assert_int_eq(gs_judge_record(affair, &eb), GS_ERULE);
    ck_assert_msg(strstr(eb.msg, "EXEMPTION_MISSING"), "%s", eb.msg);
    gs_record_destroy(&council);
    gs_record_destroy(&affair);
}
END_TEST

START_TEST(closed_at_from_the_closing_change)
{
    static const char *const i[] = {"id", "i", "village_code", VILLAGE, "category", "dispute",
                                    "title", "t", "reported_at", "2026-11-28T10:00:00+08:00",
                                    "status", "closed", NULL};
    gs_record *inc = rec_of(GS_RT_INCIDENT, i);
    /* 2026-11-28T02:00:00Z = 10:00 China time */
    gs_hlc closed = GS_HLC_MAKE(1795831200000ull, 3), later = GS_HLC_MAKE(1795917600000ull, 0);
    gs_derive_incident(inc, later, closed);
    ck_assert_str_eq(str(inc, "closed_at"), "2026-11-28T10:00:00+08:00");
    gs_record_parse(inc, GS_INCIDENT_STATUS, "evaluated", NULL);
    gs_derive_incident(inc, later, closed);
    ck_assert_str_eq(str(inc, "closed_at"), "2026-11-28T10:00:00+08:00");
    /* entered as evaluated, never closed by a change: the status's own time */
    gs_derive_incident(inc, later, 0);
    ck_assert_str_eq(str(inc, "closed_at"), "2026-11-29T10:00:00+08:00");
    gs_record_parse(inc, GS_INCIDENT_STATUS, "dispatched", NULL);
    gs_derive_incident(inc, later, closed);
    ck_assert_int_eq(inc->v[GS_INCIDENT_CLOSED_AT].state, GS_V_UNSET);
    gs_record_destroy(&inc);
}
END_TEST

/* ---- the property ------------------------------------------------------------- */

#define NCHANGES 160
#define NREPLICAS 3
#define NCAND 4
#define NAFFAIR 3

typedef struct gen {
    gs_change c[NCHANGES * 2];
    int n;
    gs_hlc clock[3];
} gen;

static const char *const origins[3] = {"411122101201-1", "411122101201-2", "hub"};

static int pick(int n)
{
    return rand() % n;
}

/* Appends a change by origin o, setting kv (NULL-terminated); every field of
 * a new record comes with its first change. */
static void emit(gen *g, int o, gs_rtype t, gs_op op, const char *const *kv)
{
    ck_assert_int_lt(g->n, NCHANGES * 2);
    gs_change *c = &g->c[g->n++];
    snprintf(c->origin, sizeof c->origin, "%s", origins[o]);
    c->seq = (uint64_t)g->n;
    /* clocks advance unevenly and sometimes meet another origin's: ties are
     * broken by origin; one origin's clock never repeats (an HLC) */
    if (pick(4) == 0 && g->clock[(o + 1) % 3] > g->clock[o])
        g->clock[o] = g->clock[(o + 1) % 3];
    else
        g->clock[o] += GS_HLC_MAKE((uint64_t)pick(3), 1);
    c->hlc = g->clock[o];
    c->op = op;
    c->rec = rec_of(t, kv);
}

/* A random edit by a random origin. */
static void random_edit(gen *g, int k)
{
    int o = pick(3);
    char ids[8], a[16], b[16], c[16], d[16];
    switch (k % 6) {
    case 0: { /* the election's figures: sometimes breaking the arithmetic once merged */
        int R = 500 + pick(3000), V = pick(R + 1), inv = pick(V / 10 + 1);
        snprintf(a, sizeof a, "%d", R);
        snprintf(b, sizeof b, "%d", V);
        snprintf(c, sizeof c, "%d", V - inv);
        snprintf(d, sizeof d, "%d", inv);
        const char *kv[] = {"id", "e1", "village_code", VILLAGE, "registered", a, "voted", b,
                            "valid", c, "invalid", d, pick(2) ? "findings" : NULL,
                            "SEATS_UNFILLED;NOT_CONTESTED", NULL};
        const char *one[] = {"id", "e1", "village_code", VILLAGE, "registered", a, NULL};
        emit(g, o, GS_RT_ELECTION, GS_OP_UPSERT, pick(3) ? kv : one);
        break;
    }
    case 1: { /* a candidate's votes, post or gender */
        snprintf(ids, sizeof ids, "c%d", pick(NCAND));
        snprintf(a, sizeof a, "%d", pick(1500));
        const char *posts[] = {"主任", "委员"}, *genders[] = {"男", "女"};
        const char *kv[] = {"id", ids, "village_code", VILLAGE, "votes", a, "post",
                            posts[pick(2)], "gender", genders[pick(2)],
                            pick(2) ? "outcome" : NULL, "elected", NULL};
        emit(g, o, GS_RT_CANDIDATE, GS_OP_UPSERT, kv);
        break;
    }
    case 2: { /* a candidate withdrawn (deleted) */
        snprintf(ids, sizeof ids, "c%d", pick(NCAND));
        const char *kv[] = {"id", ids, "village_code", VILLAGE, NULL};
        emit(g, o, GS_RT_CANDIDATE, pick(3) ? GS_OP_UPSERT : GS_OP_DELETE, kv);
        break;
    }
    case 3: { /* the council's standards */
        snprintf(a, sizeof a, "%d", 5 + pick(10));
        const char *kv[] = {"id", "k1", "village_code", VILLAGE, "max_tables", a,
                            "cremation_required", pick(2) ? "是" : "否", NULL};
        emit(g, o, GS_RT_COUNCIL, GS_OP_UPSERT, kv);
        break;
    }
    case 4: { /* an affair */
        snprintf(ids, sizeof ids, "f%d", pick(NAFFAIR));
        snprintf(a, sizeof a, "%d", pick(20));
        const char *crem[] = {"是", "否", "豁免"};
        int cr = pick(3);
        const char *kv[] = {"id", ids, "village_code", VILLAGE, "tables", a, "cremation",
                            crem[cr], "exemption", cr == 2 ? "回族" : "", "violations", "", NULL};
        emit(g, o, GS_RT_AFFAIR, GS_OP_UPSERT, kv);
        break;
    }
    default: { /* the incident's status, any state (both sides act at once) */
        const char *kv[] = {"id", "i1", "village_code", VILLAGE, "status",
                            gs_status_names[pick(GS_ST__COUNT)],
                            pick(3) ? NULL : "closed_at", "2020-01-01T00:00:00+08:00", NULL};
        emit(g, o, GS_RT_INCIDENT, GS_OP_UPSERT, kv);
        break;
    }
    }
}

static void generate(gen *g)
{
    memset(g, 0, sizeof *g);
    for (int o = 0; o < 3; o++)
        g->clock[o] = GS_HLC_MAKE(1795831200000ull + (uint64_t)pick(5), 0);
    const char *e[] = {"id", "e1", "village_code", VILLAGE, "committee",
                       pick(2) ? "村民委员会" : "居民委员会", "election_date", "2026-03-08",
                       "registered", "1200", "voted", "1000", "valid", "990", "invalid", "10",
                       "seats_member", "2", "seats_vice", "1", NULL};
    emit(g, 0, GS_RT_ELECTION, GS_OP_UPSERT, e);
    for (int i = 0; i < NCAND; i++) {
        char id[8], v[16];
        snprintf(id, sizeof id, "c%d", i);
        snprintf(v, sizeof v, "%d", 200 + pick(500));
        const char *c[] = {"id", id, "village_code", VILLAGE, "election_id", "e1", "name", "候选人",
                           "gender", pick(2) ? "女" : "男", "post", i == 0 ? "主任" : "委员",
                           "votes", v, NULL};
        emit(g, pick(2), GS_RT_CANDIDATE, GS_OP_UPSERT, c);
    }
    const char *k[] = {"id", "k1", "village_code", VILLAGE, "name", "红白理事会", "max_tables",
                       "10", "max_funeral_days", "3", "cremation_required", "是", NULL};
    emit(g, 0, GS_RT_COUNCIL, GS_OP_UPSERT, k);
    for (int i = 0; i < NAFFAIR; i++) {
        char id[8];
        snprintf(id, sizeof id, "f%d", i);
        const char *a[] = {"id", id, "village_code", VILLAGE, "kind", i ? "白事" : "红事", "host",
                           "某家", "event_date", "2026-06-03", "tables", "12", "days", "4",
                           "cremation", "否", NULL};
        emit(g, pick(2), GS_RT_AFFAIR, GS_OP_UPSERT, a);
    }
    const char *inc[] = {"id", "i1", "village_code", VILLAGE, "category", "dispute", "title", "纠纷",
                         "reported_at", "2026-11-28T10:00:00+08:00", "status", "reported", NULL};
    emit(g, 0, GS_RT_INCIDENT, GS_OP_UPSERT, inc);
    while (g->n < NCHANGES)
        random_edit(g, pick(6));
}

typedef struct replica {
    sqlite3 *db;
    gs_replica *r;
} replica;

static void replica_open(replica *x)
{
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(sqlite3_open(":memory:", &x->db), SQLITE_OK);
    ck_assert_msg(gs_replica_create_schema(x->db, &eb) == GS_OK, "%s", eb.msg);
    ck_assert_msg(gs_replica_open(&x->r, x->db, &eb) == GS_OK, "%s", eb.msg);
}

static void replica_close(replica *x)
{
    gs_replica_destroy(&x->r);
    sqlite3_close(x->db);
}

/* Every column of every row of table, in key order, as text. */
static char *dump(sqlite3 *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1", table);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "");
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
                for (int k = 0; k < sqlite3_column_bytes(st, i); k++)
                    gs_buf_printf(&b, "%02x", ((const unsigned char *)sqlite3_column_blob(st, i))[k]);
            } else {
                const unsigned char *t = sqlite3_column_text(st, i);
                gs_buf_puts(&b, t ? (const char *)t : "NULL");
            }
            gs_buf_putc(&b, '|');
        }
        gs_buf_putc(&b, '\n');
    }
    sqlite3_finalize(st);
    return gs_buf_steal(&b);
}

/* The live rows of rt with field = value, in key order. */
static size_t rows_where(replica *x, gs_rtype t, const char *field, const char *value,
                         gs_record **out, size_t cap)
{
    const gs_rectype *rt = gs_rectype_get(t);
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE %s = ?1 AND _deleted = 0 ORDER BY %s", rt->plural, field,
                  rt->fields[rt->key].name);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(x->db, sql.data, -1, &st, NULL), SQLITE_OK);
    gs_buf_free(&sql);
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    size_t n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW)
        ck_assert_int_eq(gs_replica_row(st, 0, rt, &out[n++]), GS_OK);
    sqlite3_finalize(st);
    return n;
}

static void assert_same_derived(const gs_record *got, const gs_record *want, const char *what)
{
    for (int i = 0; i < got->rt->nfields; i++) {
        if (!gs_derived_field(got->rt, i))
            continue;
        gs_buf a = GS_BUF_INIT, b = GS_BUF_INIT;
        gs_record_format(got, i, &a);
        gs_record_format(want, i, &b);
        ck_assert_msg(gs_record_has(got, i) == gs_record_has(want, i) &&
                          !strcmp(a.data ? a.data : "", b.data ? b.data : ""),
                      "%s %s.%s: stored \"%s\", computed from the rows \"%s\"", what,
                      gs_record_key(got), got->rt->fields[i].name, a.data ? a.data : "",
                      b.data ? b.data : "");
        gs_buf_free(&a);
        gs_buf_free(&b);
    }
}

/* Every derived value of x equals a fresh computation from x's rows. */
static void check_fresh(replica *x, const gen *g)
{
    gs_record *cs[NCAND + 1], *fresh[NCAND + 1], *e = NULL;
    size_t n = rows_where(x, GS_RT_CANDIDATE, "election_id", "e1", cs, NCAND + 1);
    ck_assert_int_eq(gs_replica_get(x->r, gs_rectype_get(GS_RT_ELECTION), "e1", &e, NULL), GS_OK);
    gs_record *fe = gs_record_dup(e);
    for (size_t i = 0; i < n; i++)
        fresh[i] = gs_record_dup(cs[i]);
    ck_assert_int_eq(gs_derive_election(fe, fresh, n), GS_OK);
    assert_same_derived(e, fe, "election");
    for (size_t i = 0; i < n; i++) {
        assert_same_derived(cs[i], fresh[i], "candidate");
        gs_record_destroy(&cs[i]);
        gs_record_destroy(&fresh[i]);
    }
    gs_record_destroy(&e);
    gs_record_destroy(&fe);

    gs_record *k[2] = {NULL, NULL}, *as[NAFFAIR + 1];
    rows_where(x, GS_RT_COUNCIL, "village_code", VILLAGE, k, 1);
    size_t na = rows_where(x, GS_RT_AFFAIR, "village_code", VILLAGE, as, NAFFAIR + 1);
    for (size_t i = 0; i < na; i++) {
        gs_record *fa = gs_record_dup(as[i]);
        gs_derive_affair(fa, k[0]);
        assert_same_derived(as[i], fa, "affair");
        gs_record_destroy(&fa);
        gs_record_destroy(&as[i]);
    }
    gs_record_destroy(&k[0]);

    /* closed_at: from the status that won and the changes that closed it */
    gs_hlc closed = 0, st_hlc = 0;
    const char *st_origin = "";
    const char *status = NULL;
    for (int i = 0; i < g->n; i++) {
        const gs_change *c = &g->c[i];
        if (c->rec->rt->id != GS_RT_INCIDENT)
            continue;
        const char *s = gs_record_str(c->rec, GS_INCIDENT_STATUS);
        if (!s)
            continue;
        if (!strcmp(s, "closed") && c->hlc > closed)
            closed = c->hlc;
        if (c->hlc > st_hlc || (c->hlc == st_hlc && strcmp(c->origin, st_origin) > 0))
            st_hlc = c->hlc, st_origin = c->origin, status = s;
    }
    gs_record *inc = NULL;
    ck_assert_int_eq(gs_replica_get(x->r, gs_rectype_get(GS_RT_INCIDENT), "i1", &inc, NULL),
                     GS_OK);
    ck_assert_str_eq(str(inc, "status"), status);
    gs_record *fi = gs_record_dup(inc);
    gs_derive_incident(fi, st_hlc, closed);
    assert_same_derived(inc, fi, "incident");
    gs_record_destroy(&fi);
    gs_record_destroy(&inc);
}

START_TEST(derived_values_converge)
{
    srand(20261202u + (unsigned)_i);
    gen *g = calloc(1, sizeof *g);
    generate(g);
    replica x[NREPLICAS];
    for (int k = 0; k < NREPLICAS; k++) {
        replica_open(&x[k]);
        /* replica 0 in the order made; the others shuffled, a third repeated */
        int order[NCHANGES * 3], m = 0;
        for (int i = 0; i < g->n; i++)
            order[m++] = i;
        for (int i = 0; k && i < g->n / 3; i++)
            order[m++] = pick(g->n);
        for (int i = m - 1; k && i > 0; i--) {
            int j = pick(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < m; i++) {
            gs_errbuf eb = {{0}};
            ck_assert_msg(gs_replica_apply(x[k].r, &g->c[order[i]], NULL, &eb) == GS_OK, "%s",
                          eb.msg);
        }
        check_fresh(&x[k], g);
    }
    static const char *const tables[] = {"elections", "candidates", "councils", "affairs",
                                         "incidents"};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char *want = dump(x[0].db, tables[t]);
        for (int k = 1; k < NREPLICAS; k++) {
            char *got = dump(x[k].db, tables[t]);
            ck_assert_msg(!strcmp(got, want), "%s differ between replica 0 and %d:\n%s\n%s",
                          tables[t], k, want, got);
            free(got);
        }
        free(want);
    }
    /* and computing everything again changes nothing */
    char *before = dump(x[1].db, "elections");
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_replica_derive_all(x[1].r, &eb) == GS_OK, "%s", eb.msg);
    char *after = dump(x[1].db, "elections");
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    for (int k = 0; k < NREPLICAS; k++)
        replica_close(&x[k]);
    for (int i = 0; i < g->n; i++)
        gs_change_clear(&g->c[i]);
    free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("derive");
    TCase *tc = tcase_create("law");
    tcase_add_test(tc, residents_committee_cites_its_law);
    tcase_add_test(tc, judge_messages_give_the_numbers);
    tcase_add_test(tc, exemption_is_the_exemption);
    tcase_add_test(tc, closed_at_from_the_closing_change);
    suite_add_tcase(s, tc);
    /* 200 runs; fewer under the sanitizers and valgrind (GS_TEST_SCALE) */
    const char *scale = getenv("GS_TEST_SCALE");
    double k = scale && atof(scale) > 0 && atof(scale) <= 1 ? atof(scale) : 1.0;
    int runs = (int)(200 * k) < 10 ? 10 : (int)(200 * k);
    tc = tcase_create("property");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, derived_values_converge, 0, runs);
    suite_add_tcase(s, tc);
    return gst_run_suite(s);
}
