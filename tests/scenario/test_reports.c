/*
 * test_reports.c: `gridhub report` end to end (issue 7, "The city's figures:
 * reports that add up, per county, township and village").
 *
 * Every test builds the same small hub database (the fixture below) and runs
 * the real gridhub binary over it, in all three formats. The expected
 * figures are written by hand from the fixture, in the tables further down;
 * nothing here computes them with the code under test. Besides the hand
 * figures, every area report is checked to add up (each count of the total
 * row is the sum of the rows) and the reports are checked to agree with
 * each other.
 *
 * The fixture is made the way a hub gets its data: `gridhub init`, `refdata
 * load`, `node add`; then records are applied as city changes (origin
 * "hub") with the shared replica code (gs_replica_apply), each change also
 * appended to the hub's change log with its body (gs_change_encode) and
 * chain hash (gs_chain_next), so that the history-based figures (time per
 * stage) have a history to read. Computed fields (findings, elected, ...,
 * violations) are filled by the shared rules, as a node's entry rules would,
 * and checked against hand-written values first.
 *
 * The fixture, as of 2026-03-31 (end of day, China time):
 *   A 411102100201 刘庄村 (synthetic name) 大刘镇, 源汇区: nodes A-1 (seen 1 day
 *     ago), A-2 (never); council; elections E1 (village: a candidate with
 *     exactly half the votes, not elected; a supplementary-round winner with
 *     exactly a third, elected), E4 (party); incidents I1-I4, I12 (deleted);
 *     affairs A1 (wedding, 2 violations), A2 (funeral, none).
 *   B 411102100202 (no name: shown as its code) 大刘镇: node B-1 (10 days);
 *     E2 (turnout exactly half: invalid); I5 (rejected), I6 (open 120 days);
 *     A6 (wedding, no council: not checked).
 *   C 411102001001 老街街道, 源汇区: node C-1 (exactly 7 days: reporting);
 *     E3 (residents, no woman elected); I7 (open exactly 8 days), I8, I13
 *     (open exactly 30 days: not over 30), I14 (open exactly 7 days).
 *   D 411171102201 邓襄一村, 邓襄镇, 开发区 (411171 through the division
 *     table): node D-1 (2 days; 3 pending, 2 in quarantine); council (only a
 *     table limit); E5 (turnout exactly 95%); I9; A5 (other, over tables).
 *   E 411104101201: township 411104101 (邓襄镇's 2020 code) is not in the
 *     division table: the unknown group. E6 (no voters); I10.
 *   F 411122101201 繁城回族镇, 临颍县: node F-1 (never, revoked); council;
 *     E7; I11 (open 80 days, re-dispatched once); A3 (exempt funeral: no
 *     violation), A4 (funeral: days and cremation).
 *   G 411104199201 under 411104199, a synthetic township whose digits say
 *     召陵区 (411104) but whose parent_code in the division table is 开发区
 *     (411171): the table decides. I15 (open, 14 hours).
 *
 * Cleanup: main() points TMPDIR at one directory of its own and removes it.
 */
#include <check.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/record.h"
#include "gridsync/replica.h"
#include "gridsync/rules.h"
#include "gstest.h"

/* The fixture's data and the expected figures are tables written by hand,
 * one record a line; clang-format is switched off around them. */

#define VA    "411102100201"
#define VB    "411102100202"
#define VC    "411102001001"
#define VD    "411171102201"
#define VE    "411104101201"
#define VF    "411122101201"
#define VG    "411104199201"
#define AS_OF "2026-03-31"

static char *tmp;
static char db[PATH_MAX];
static gst_result R;

/* ---- time ------------------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* Milliseconds since the epoch of "2026-03-01T09:00:00+08:00" (China time). */
static int64_t ms_of(const char *t)
{
    int y, mo, d, h, mi, s;
    ck_assert_msg(sscanf(t, "%d-%d-%dT%d:%d:%d+08:00", &y, &mo, &d, &h, &mi, &s) == 6, "%s", t);
    return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - 8 * 3600) * 1000LL;
}

/* The as-of instant of the tests: the end of 2026-03-31, China time. */
#define AS_OF_MS ms_of("2026-04-01T00:00:00+08:00")
#define DAY_MS   86400000LL

/* ---- running gridhub ------------------------------------------------------------------------- */

/* HUB("report", "summary") runs gridhub --db <db> report summary into R. */
#define HUB(...)    gst_cmd(&R, false, "gridhub", db, __VA_ARGS__, (const char *)NULL)
#define ASSERT_OK() ck_assert_msg(R.status == 0, "exit %d, want 0; stderr: %s", R.status, R.err)

/* Runs a report and returns its stdout (malloc'd); the run must succeed. */
static char *report_(const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    gst_cmdv(&R, false, "gridhub", db, first, ap);
    va_end(ap);
    ASSERT_OK();
    ck_assert_msg(R.err_len == 0, "stderr: %s", R.err);
    return strdup(R.out);
}
#define REPORT(...) report_("report", __VA_ARGS__, "--as-of", AS_OF, (const char *)NULL)

/* ---- the fixture: records as city changes ---------------------------------------------------- */

typedef struct fixture {
    sqlite3 *db;
    gs_replica *rep;
    uint64_t seq, hub_seq;
    uint8_t head[GS_HASH_LEN];
    uint8_t log[GS_HASH_LEN]; /* the log hash at hub_seq, as hub/store.c chains it */
    unsigned ctr;
} fixture;

static fixture fx;

static void fx_exec(const char *sql)
{
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(fx.db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
}

static void fx_open(void)
{
    memset(&fx, 0, sizeof fx);
    ck_assert_int_eq(sqlite3_open_v2(db, &fx.db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(fx.db, 10000);
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_replica_open(&fx.rep, fx.db, &eb) == GS_OK, "%s", eb.msg);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(fx.db,
                                        "SELECT seq, hash FROM changes WHERE origin = 'hub' "
                                        "ORDER BY seq DESC LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        fx.seq = (uint64_t)sqlite3_column_int64(st, 0);
        ck_assert_int_eq(sqlite3_column_bytes(st, 1), GS_HASH_LEN);
        memcpy(fx.head, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    sqlite3_finalize(st);
    ck_assert_int_eq(
        sqlite3_prepare_v2(fx.db,
                           "SELECT hub_seq, log_hash FROM changes ORDER BY hub_seq DESC LIMIT 1",
                           -1, &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        fx.hub_seq = (uint64_t)sqlite3_column_int64(st, 0);
        ck_assert_int_eq(sqlite3_column_bytes(st, 1), GS_HASH_LEN);
        memcpy(fx.log, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    sqlite3_finalize(st);
    fx_exec("BEGIN");
}

static void fx_close(void)
{
    fx_exec("COMMIT");
    gs_replica_destroy(&fx.rep);
    ck_assert_int_eq(sqlite3_close(fx.db), SQLITE_OK);
    fx.db = NULL;
}

/* Applies rec (consumed) as the city's next change at time ms: appended to
 * the log with its body and chained hash, then applied to the entity tables. */
static void fx_apply(gs_record *rec, gs_op op, int64_t ms)
{
    gs_change c = {0};
    strcpy(c.origin, GS_HUB_ORIGIN);
    c.seq = ++fx.seq;
    c.hlc = GS_HLC_MAKE(ms, fx.ctr++ & 0xffff);
    c.op = op;
    c.rec = rec;
    gs_buf body = GS_BUF_INIT;
    gs_change_encode(&c, &body);
    ck_assert_int_eq(body.err, 0);
    uint8_t hash[GS_HASH_LEN];
    gs_chain_next(fx.head, body.data, body.len, hash);
    memcpy(fx.head, hash, GS_HASH_LEN);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(fx.db,
                                        "INSERT INTO changes (hub_seq, origin, seq, hlc, rtype, "
                                        "rid, scope, op, body, hash, received_ms, log_hash) "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                        "?12)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)++fx.hub_seq);
    sqlite3_bind_text(st, 2, c.origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c.seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c.hlc);
    sqlite3_bind_text(st, 5, rec->rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, gs_record_key(rec), -1, SQLITE_STATIC);
    if (gs_record_scope(rec))
        sqlite3_bind_text(st, 7, gs_record_scope(rec), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, (int)op);
    sqlite3_bind_blob(st, 9, body.data, (int)body.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, ms);
    gs_chain_next(fx.log, hash, GS_HASH_LEN, fx.log);
    sqlite3_bind_blob(st, 12, fx.log, GS_HASH_LEN, SQLITE_STATIC);
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "%s", sqlite3_errmsg(fx.db));
    sqlite3_finalize(st);
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_replica_apply(fx.rep, &c, NULL, &eb) == GS_OK, "%s", eb.msg);
    gs_buf_free(&body);
    gs_record_destroy(&rec);
}

/* A record of type from "field", "text" pairs (NULL-ended), as a user would
 * type them; "" for a text field sets it to the empty text. */
static gs_record *vrecord(const char *type, va_list ap)
{
    const gs_rectype *rt = gs_rectype_find(type);
    ck_assert_ptr_nonnull(rt);
    gs_record *rec = gs_record_new(rt);
    gs_errbuf eb = {{0}};
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        int f = gs_field_find(rt, k);
        ck_assert_msg(f >= 0, "%s has no field %s", type, k);
        if (!*v && rt->fields[f].type == GS_FT_TEXT)
            gs_record_set_str(rec, f, "");
        else
            ck_assert_msg(gs_record_parse(rec, f, v, &eb) == GS_OK, "%s.%s = \"%s\": %s", type, k,
                          v, eb.msg);
    }
    ck_assert_msg(gs_record_check(rec, GS_CHECK_PARTIAL, &eb) == GS_OK, "%s: %s", type, eb.msg);
    return rec;
}

/* PUT(time, type, "field", "value", ...): an upsert at time (China time text). */
static void put_(const char *when, const char *type, ...)
{
    va_list ap;
    va_start(ap, type);
    gs_record *rec = vrecord(type, ap);
    va_end(ap);
    fx_apply(rec, GS_OP_UPSERT, ms_of(when));
}
#define PUT(when, type, ...) put_(when, type, __VA_ARGS__, (const char *)NULL)

/* ---- fixture: elections ---------------------------------------------------------------------- */

typedef struct cand {
    const char *name, *gender, *post, *round;
    int64_t votes;
    int secretary;
    const char *outcome; /* hand-written expectation */
} cand;

typedef struct elec {
    const char *id, *village, *committee, *date, *list_published;
    int64_t registered, voted, valid, invalid, supp_voted; /* supp_voted -1: none */
    int64_t chair, vice, member;
    cand c[9];
    /* hand-written expectations of the computed fields */
    const char *findings;
    int64_t elected, women, unfilled;
    int yijiantiao;
} elec;

/* clang-format off */
static const elec elections[] = {
    {"E1", VA, "village", "2026-01-10", "2025-12-15", 1000, 980, 970, 10, 900, 1, 0, 2,
     {{"张三", "male", "chair", "first", 600, 1, "elected"},
      {"李四", "male", "chair", "first", 370, 0, "not_elected"},
      /* exactly half of the 980 ballots: "过半数" is not reached */
      {"王芳", "female", "member", "first", 490, 0, "not_elected"},
      {"赵六", "male", "member", "first", 700, 0, "elected"},
      {"钱七", "male", "member", "first", 200, 0, "not_elected"},
      /* 另行选举: exactly a third of the 900 ballots is enough */
      {"王芳", "female", "member", "supplementary", 300, 0, "elected"}},
     "", 3, 1, 0, 1},
    {"E2", VB, "village", "2026-01-12", NULL, 800, 400, 400, 0, -1, 1, 0, 2,
     {{"孙一", "male", "chair", "first", 390, 0, "not_elected"},
      {"孙二", "male", "chair", "first", 10, 0, "not_elected"},
      {"孙三", "male", "member", "first", 200, 0, "not_elected"},
      {"孙四", "male", "member", "first", 150, 0, "not_elected"},
      {"孙五", "female", "member", "first", 50, 0, "not_elected"}},
     /* 2*400 == 800: turnout not over half, the election is invalid */
     "TURNOUT_INVALID;SEATS_UNFILLED", 0, 0, 3, 0},
    {"E3", VC, "residents", "2026-01-15", NULL, 2000, 1800, 1790, 10, -1, 1, 1, 3,
     {{"周一", "male", "chair", "first", 1000, 0, "elected"},
      {"周二", "male", "chair", "first", 700, 0, "not_elected"},
      {"周三", "male", "vice_chair", "first", 950, 0, "elected"},
      {"周四", "male", "vice_chair", "first", 800, 0, "not_elected"},
      {"周五", "male", "member", "first", 1200, 0, "elected"},
      {"周六", "male", "member", "first", 1100, 0, "elected"},
      {"周七", "male", "member", "first", 1000, 0, "elected"},
      {"周八", "male", "member", "first", 300, 0, "not_elected"}},
     "NO_WOMAN", 5, 0, 0, 0},
    {"E4", VA, "party", "2026-01-08", NULL, 50, 49, 49, 0, -1, 1, 0, 2,
     {{"吴一", "female", "chair", "first", 40, 0, "elected"},
      {"吴二", "male", "chair", "first", 9, 0, "not_elected"},
      {"吴三", "male", "member", "first", 30, 0, "elected"},
      {"吴四", "male", "member", "first", 28, 0, "elected"},
      {"吴五", "male", "member", "first", 10, 0, "not_elected"}},
     "", 3, 1, 0, 0},
    {"E5", VD, "village", "2026-02-01", NULL, 600, 570, 570, 0, -1, 1, 0, 2,
     {{"郑一", "female", "chair", "first", 300, 1, "elected"},
      {"郑二", "male", "chair", "first", 270, 0, "not_elected"},
      {"郑三", "male", "member", "first", 400, 0, "elected"},
      {"郑四", "male", "member", "first", 380, 0, "elected"},
      {"郑五", "female", "member", "first", 100, 0, "not_elected"}},
     "", 3, 1, 0, 1},
    {"E6", VE, "village", "2026-02-10", NULL, 0, 0, 0, 0, -1, 1, 0, 2, {{NULL}},
     "NO_VOTERS;SEATS_UNFILLED;NOT_CONTESTED", 0, 0, 3, 0},
    {"E7", VF, "village", "2026-03-05", NULL, 1200, 1100, 1100, 0, -1, 1, 1, 3,
     {{"马一", "male", "chair", "first", 700, 0, "elected"},
      {"马二", "male", "chair", "first", 400, 0, "not_elected"},
      {"马三", "female", "vice_chair", "first", 600, 0, "elected"},
      {"马四", "male", "vice_chair", "first", 500, 0, "not_elected"},
      {"马五", "female", "member", "first", 800, 0, "elected"},
      {"马六", "male", "member", "first", 700, 0, "elected"},
      {"马七", "male", "member", "first", 650, 0, "elected"},
      {"马八", "male", "member", "first", 300, 0, "not_elected"}},
     "", 5, 2, 0, 0},
};
/* clang-format on */
#define N_ELECTIONS (sizeof elections / sizeof elections[0])

static int enum_index(const char *const *names, const char *v)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], v))
            return i;
    ck_abort_msg("no enum value %s", v);
    return -1;
}

/* Puts an election and its candidates, with the computed fields the rules
 * give, after checking those against the hand-written expectations. */
static void fx_election(const elec *e)
{
    gs_election_in in = {0};
    in.committee = (gs_committee)enum_index(gs_committee_names, e->committee);
    in.registered = e->registered;
    in.cast = e->voted;
    in.valid = e->valid;
    in.invalid = e->invalid;
    in.supp_cast = e->supp_voted;
    in.seats[GS_POST_CHAIR] = e->chair;
    in.seats[GS_POST_VICE_CHAIR] = e->vice;
    in.seats[GS_POST_MEMBER] = e->member;
    in.list_days_before =
        e->list_published
            ? (ms_of("2026-01-10T00:00:00+08:00") - ms_of("2025-12-15T00:00:00+08:00")) / DAY_MS
            : -1;
    gs_candidate_in c[9] = {{0}};
    size_t n = 0;
    for (; n < 9 && e->c[n].name; n++) {
        c[n].votes = e->c[n].votes;
        c[n].post = (gs_post)enum_index(gs_post_names, e->c[n].post);
        c[n].round = strcmp(e->c[n].round, "first") ? GS_ROUND_SUPPLEMENTARY : GS_ROUND_FIRST;
        c[n].female = !strcmp(e->c[n].gender, "female");
        c[n].party_secretary = e->c[n].secretary;
    }
    ck_assert_int_eq(gs_election_errors(&in, c, n), GS_FIND_NONE);
    gs_election_out out;
    gs_election_evaluate(&in, c, n, &out);
    gs_buf f = GS_BUF_INIT;
    gs_findset_format(out.findings, &f);
    ck_assert_str_eq(f.data ? f.data : "", e->findings);
    ck_assert_int_eq(out.elected, e->elected);
    ck_assert_int_eq(out.women_elected, e->women);
    ck_assert_int_eq(out.unfilled, e->unfilled);
    ck_assert_int_eq(out.yijiantiao, e->yijiantiao);
    char reg[24], vot[24], val[24], inv[24], ch[8], vi[8], me[8], el[8], wo[8], un[8], yj[8];
    snprintf(reg, sizeof reg, "%lld", (long long)e->registered);
    snprintf(vot, sizeof vot, "%lld", (long long)e->voted);
    snprintf(val, sizeof val, "%lld", (long long)e->valid);
    snprintf(inv, sizeof inv, "%lld", (long long)e->invalid);
    snprintf(ch, sizeof ch, "%lld", (long long)e->chair);
    snprintf(vi, sizeof vi, "%lld", (long long)e->vice);
    snprintf(me, sizeof me, "%lld", (long long)e->member);
    snprintf(el, sizeof el, "%lld", (long long)out.elected);
    snprintf(wo, sizeof wo, "%lld", (long long)out.women_elected);
    snprintf(un, sizeof un, "%lld", (long long)out.unfilled);
    snprintf(yj, sizeof yj, "%d", out.yijiantiao ? 1 : 0);
    char when[40];
    snprintf(when, sizeof when, "%sT18:00:00+08:00", e->date);
    PUT(when, "election", "id", e->id, "village_code", e->village, "committee", e->committee,
        "election_date", e->date, "list_published", e->list_published ? e->list_published : "",
        "registered", reg, "voted", vot, "valid", val, "invalid", inv, "seats_chair", ch,
        "seats_vice", vi, "seats_member", me, "findings", f.data ? f.data : "", "elected", el,
        "women_elected", wo, "unfilled", un, "yijiantiao", yj);
    if (e->supp_voted >= 0) {
        char sv[24];
        snprintf(sv, sizeof sv, "%lld", (long long)e->supp_voted);
        PUT(when, "election", "id", e->id, "village_code", e->village, "supp_voted", sv);
    }
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(gs_outcome_names[c[i].outcome], e->c[i].outcome);
        char id[32], votes[24], cf[128];
        snprintf(id, sizeof id, "%s-c%zu", e->id, i + 1);
        snprintf(votes, sizeof votes, "%lld", (long long)e->c[i].votes);
        gs_buf cb = GS_BUF_INIT;
        gs_findset_format(c[i].findings, &cb);
        snprintf(cf, sizeof cf, "%s", cb.data ? cb.data : "");
        gs_buf_free(&cb);
        PUT(when, "candidate", "id", id, "village_code", e->village, "election_id", e->id, "name",
            e->c[i].name, "gender", e->c[i].gender, "post", e->c[i].post, "round", e->c[i].round,
            "votes", votes, "party_secretary", e->c[i].secretary ? "1" : "0", "outcome",
            gs_outcome_names[c[i].outcome], "findings", cf);
    }
    gs_buf_free(&f);
}

/* ---- fixture: incidents ---------------------------------------------------------------------- */

typedef struct incident {
    const char *id, *village, *category, *reported;
    const char *steps[20]; /* status, time, ... NULL-ended; "note" edits the note */
    bool deleted_after;    /* deleted one day after its last step */
} incident;

/* clang-format off */
static const incident incidents[] = {
    {"I1", VA, "dispute.neighbour", "2026-03-01T09:00:00+08:00",
     {"accepted", "2026-03-01T11:00:00+08:00", "registered", "2026-03-02T09:00:00+08:00",
      "dispatched", "2026-03-02T10:00:00+08:00", "in_progress", "2026-03-02T14:00:00+08:00",
      "note", "2026-03-03T08:00:00+08:00", "feedback", "2026-03-04T14:00:00+08:00", "verified",
      "2026-03-05T09:00:00+08:00", "closed", "2026-03-06T10:00:00+08:00"},
     false},
    {"I2", VA, "safety.fire", "2026-03-20T08:00:00+08:00",
     {"accepted", "2026-03-20T10:00:00+08:00", "closed", "2026-03-22T08:00:00+08:00",
      "evaluated", "2026-03-23T08:00:00+08:00"},
     false},
    {"I3", VA, "sanitation", "2026-03-30T10:00:00+08:00", {NULL}, false},
    {"I4", VA, "dispute.land", "2026-02-20T10:00:00+08:00",
     {"accepted", "2026-02-21T10:00:00+08:00"}, false},
    {"I5", VB, "safety.fire", "2026-03-10T09:00:00+08:00",
     {"rejected", "2026-03-10T12:00:00+08:00"}, false},
    {"I6", VB, "sanitation", "2025-12-01T09:00:00+08:00",
     {"accepted", "2025-12-01T10:00:00+08:00", "registered", "2025-12-02T09:00:00+08:00",
      "dispatched", "2025-12-03T09:00:00+08:00"},
     false},
    {"I7", VC, "order", "2026-03-24T00:00:00+08:00", {"accepted", "2026-03-24T06:00:00+08:00"},
     false},
    {"I8", VC, "dispute.neighbour", "2026-03-01T09:00:00+08:00",
     {"accepted", "2026-03-01T10:00:00+08:00", "closed", "2026-03-11T09:00:00+08:00"}, false},
    {"I9", VD, "safety.fire", "2026-03-15T09:00:00+08:00",
     {"accepted", "2026-03-15T12:00:00+08:00", "closed", "2026-03-16T21:00:00+08:00"}, false},
    {"I10", VE, "sanitation", "2026-03-31T20:00:00+08:00", {NULL}, false},
    {"I11", VF, "customs", "2026-01-10T09:00:00+08:00",
     {"accepted", "2026-01-10T10:00:00+08:00", "registered", "2026-01-11T09:00:00+08:00",
      "dispatched", "2026-01-11T10:00:00+08:00", "dispatched", "2026-01-11T15:00:00+08:00",
      "in_progress", "2026-01-12T09:00:00+08:00"},
     false},
    {"I12", VA, "sanitation", "2026-03-05T09:00:00+08:00",
     {"accepted", "2026-03-05T10:00:00+08:00"}, true},
    {"I13", VC, "sanitation", "2026-03-02T00:00:00+08:00", {NULL}, false},
    {"I14", VC, "order", "2026-03-25T00:00:00+08:00", {NULL}, false},
    {"I15", VG, "sanitation", "2026-03-31T10:00:00+08:00", {NULL}, false},
};
/* clang-format on */

static void fx_incident(const incident *in)
{
    char title[64];
    snprintf(title, sizeof title, "事件 %s", in->id);
    PUT(in->reported, "incident", "id", in->id, "village_code", in->village, "category",
        in->category, "title", title, "reported_at", in->reported, "status", "reported");
    const char *last = in->reported;
    for (int i = 0; in->steps[i]; i += 2) {
        const char *what = in->steps[i], *when = in->steps[i + 1];
        last = when;
        if (!strcmp(what, "note"))
            PUT(when, "incident", "id", in->id, "village_code", in->village, "note",
                "处置中补充说明");
        else if (!strcmp(what, "closed"))
            PUT(when, "incident", "id", in->id, "village_code", in->village, "status", what,
                "closed_at", when);
        else
            PUT(when, "incident", "id", in->id, "village_code", in->village, "status", what);
    }
    if (in->deleted_after) {
        gs_record *rec = gs_record_new(gs_rectype_get(GS_RT_INCIDENT));
        gs_record_set_str(rec, 0, in->id);
        gs_record_set_str(rec, gs_rectype_get(GS_RT_INCIDENT)->scope, in->village);
        fx_apply(rec, GS_OP_DELETE, ms_of(last) + DAY_MS);
    }
}

/* ---- fixture: councils and affairs ----------------------------------------------------------- */

typedef struct council {
    const char *id, *village, *name, *established;
    int64_t max[6]; /* tables, cost per table, gift, cars, funeral days, bride price; -1 none */
    int cremation;
} council;

/* clang-format off */
static const council councils[] = {
    {"K-A", VA, "刘庄村红白理事会", "2021-05-01", {10, 300, 100, 6, 3, 30000}, 1},
    {"K-F", VF, "繁城一村红白理事会", NULL, {20, 480, 200, 10, 5, 50000}, 1},
    {"K-D", VD, "邓襄一村红白理事会", NULL, {15, -1, -1, -1, -1, -1}, 0},
};
/* clang-format on */

typedef struct affair {
    const char *id, *village, *kind, *date;
    int64_t tables, cost, gift, cars, days, bride_price;
    const char *cremation, *exemption;
    const char *violations; /* hand-written expectation */
} affair;

/* clang-format off */
static const affair affairs[] = {
    {"A1", VA, "wedding", "2026-02-14", 12, 300, 100, 8, -1, 30000, NULL, NULL,
     "AFFAIR_TABLES;AFFAIR_CARS"},
    {"A2", VA, "funeral", "2026-03-02", 8, -1, -1, -1, 3, -1, "yes", NULL, ""},
    /* a Hui household: an exempt funeral is not a cremation violation */
    {"A3", VF, "funeral", "2026-01-20", 10, -1, -1, -1, 3, -1, "exempt", "回族", ""},
    {"A4", VF, "funeral", "2026-02-05", 10, -1, -1, -1, 7, -1, "no", NULL,
     "AFFAIR_DAYS;AFFAIR_CREMATION"},
    {"A5", VD, "other", "2026-03-10", 20, -1, -1, -1, -1, -1, NULL, NULL, "AFFAIR_TABLES"},
    /* village B has no council: nothing to check against */
    {"A6", VB, "wedding", "2026-03-21", 30, -1, -1, -1, -1, -1, NULL, NULL, ""},
};
/* clang-format on */

static const char *const max_fields[] = {"max_tables", "max_cost_per_table", "max_gift",
                                         "max_cars",   "max_funeral_days",   "max_bride_price"};
static const char *const actual_fields[] = {"tables", "cost_per_table", "gift",
                                            "cars",   "days",           "bride_price"};

static void fx_council(const council *k)
{
    PUT("2026-01-01T09:00:00+08:00", "council", "id", k->id, "village_code", k->village, "name",
        k->name, "cremation_required", k->cremation ? "1" : "0");
    if (k->established)
        PUT("2026-01-01T09:00:00+08:00", "council", "id", k->id, "village_code", k->village,
            "established_on", k->established);
    for (int i = 0; i < 6; i++)
        if (k->max[i] >= 0) {
            char v[24];
            snprintf(v, sizeof v, "%lld", (long long)k->max[i]);
            PUT("2026-01-01T09:00:00+08:00", "council", "id", k->id, "village_code", k->village,
                max_fields[i], v);
        }
}

static void fx_affair(const affair *a)
{
    const council *k = NULL;
    for (size_t i = 0; i < sizeof councils / sizeof councils[0]; i++)
        if (!strcmp(councils[i].village, a->village))
            k = &councils[i];
    gs_findset v = 0;
    if (k) {
        gs_council_std std = {k->max[0], k->max[1], k->max[2],        k->max[3],
                              k->max[4], k->max[5], k->cremation != 0};
        gs_affair_in in = {(gs_affair_kind)enum_index(gs_affair_kind_names, a->kind),
                           a->tables,
                           a->cost,
                           a->gift,
                           a->cars,
                           a->days,
                           a->bride_price,
                           a->cremation ? enum_index(gs_cremation_names, a->cremation) : -1};
        v = gs_affair_check(&std, &in);
    }
    gs_buf b = GS_BUF_INIT;
    gs_findset_format(v, &b);
    ck_assert_str_eq(b.data ? b.data : "", a->violations);
    char when[40];
    snprintf(when, sizeof when, "%sT20:00:00+08:00", a->date);
    PUT(when, "affair", "id", a->id, "village_code", a->village, "kind", a->kind, "host", "某户",
        "event_date", a->date, "violations", a->violations);
    const int64_t actual[6] = {a->tables, a->cost, a->gift, a->cars, a->days, a->bride_price};
    for (int i = 0; i < 6; i++)
        if (actual[i] >= 0) {
            char num[24];
            snprintf(num, sizeof num, "%lld", (long long)actual[i]);
            PUT(when, "affair", "id", a->id, "village_code", a->village, actual_fields[i], num);
        }
    if (a->cremation)
        PUT(when, "affair", "id", a->id, "village_code", a->village, "cremation", a->cremation);
    if (a->exemption)
        PUT(when, "affair", "id", a->id, "village_code", a->village, "exemption", a->exemption);
    gs_buf_free(&b);
}

/* ---- fixture: nodes -------------------------------------------------------------------------- */

typedef struct node {
    const char *id, *village;
    int64_t seen_days_ago; /* -1: never */
    int64_t pending, skew_ms;
    const char *software;
} node;

/* clang-format off */
static const node nodes[] = {
    {"A-1", VA, 1, 0, 0, "0.1.0"},   {"A-2", VA, -1, 0, 0, NULL},
    {"B-1", VB, 10, 0, 0, "0.1.0"},  {"C-1", VC, 7, 0, -1250, "0.1.0"},
    {"D-1", VD, 2, 3, 90000, "0.1.1"}, {"F-1", VF, -1, 0, 0, NULL},
};
/* clang-format on */

static void fx_nodes(const char *dir)
{
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        char out[PATH_MAX], name[64];
        snprintf(out, sizeof out, "%s/%s.bundle", dir, nodes[i].id);
        snprintf(name, sizeof name, "节点%s", nodes[i].id);
        HUB("node", "add", "--village", nodes[i].village, "--name", name, "--endpoint",
            "tcp://127.0.0.1:7700", "--out", out, "--id", nodes[i].id);
        ASSERT_OK();
    }
    HUB("node", "revoke", "F-1");
    ASSERT_OK();
}

/* Sync state as a HELLO would have left it, and two refused changes of D-1. */
static void fx_node_state(void)
{
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        sqlite3_stmt *st;
        ck_assert_int_eq(sqlite3_prepare_v2(fx.db,
                                            "UPDATE nodes SET last_seen_ms = ?2, pending = ?3, "
                                            "skew_ms = ?4, software = ?5, acked_through = ?6 "
                                            "WHERE id = ?1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        const node *n = &nodes[i];
        sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, n->seen_days_ago < 0 ? 0 : AS_OF_MS - n->seen_days_ago * DAY_MS);
        sqlite3_bind_int64(st, 3, n->pending);
        sqlite3_bind_int64(st, 4, n->skew_ms);
        if (n->software)
            sqlite3_bind_text(st, 5, n->software, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, n->seen_days_ago < 0 ? 0 : 40 + (int64_t)i);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
        ck_assert_int_eq(sqlite3_changes(fx.db), 1);
        sqlite3_finalize(st);
    }
    fx_exec("INSERT INTO quarantine (origin, seq, body, hash, code, reason, received_ms) VALUES "
            "('D-1', 41, x'80', zeroblob(32), 'GS_ESCOPE', 'outside scope', 0), "
            "('D-1', 42, x'80', zeroblob(32), 'GS_ERULE', 'bad figures', 0)");
}

/* Builds the fixture database at path (see the banner). */
static void build_fixture(const char *dir)
{
    snprintf(db, sizeof db, "%s/hub.db", dir);
    HUB("init");
    ASSERT_OK();
    HUB("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    ASSERT_OK();
    HUB("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    ASSERT_OK();
    /* synthetic village names, marked as such */
    char csv[PATH_MAX];
    snprintf(csv, sizeof csv, "%s/villages.csv", dir);
    const char *rows = "code,name,level,parent_code,synthetic\n" VA
                       ",刘庄村,village,411102100,1\n" VD ",邓襄一村,village,411171102,1\n"
                       "411104199,合成镇(测试),township,411171,1\n";
    ck_assert_int_eq(gst_write_file(csv, rows, strlen(rows)), 0);
    HUB("refdata", "load", "divisions", csv);
    ASSERT_OK();
    fx_nodes(dir);

    fx_open();
    fx_node_state();
    for (size_t i = 0; i < sizeof councils / sizeof councils[0]; i++)
        fx_council(&councils[i]);
    for (size_t i = 0; i < N_ELECTIONS; i++)
        fx_election(&elections[i]);
    for (size_t i = 0; i < sizeof incidents / sizeof incidents[0]; i++)
        fx_incident(&incidents[i]);
    for (size_t i = 0; i < sizeof affairs / sizeof affairs[0]; i++)
        fx_affair(&affairs[i]);
    fx_close();
}

/* Each test gets its own copy of one fixture database, built by the first
 * test that needs it (in TMPDIR, which main() owns; built under another name
 * and renamed, so a failed build never leaves a half template). */
static void setup(void)
{
    tmp = gst_tmpdir();
    char tpl[PATH_MAX], tpl_db[PATH_MAX + 16];
    snprintf(tpl, sizeof tpl, "%s/reports-template", getenv("TMPDIR"));
    snprintf(tpl_db, sizeof tpl_db, "%s/hub.db", tpl);
    if (access(tpl_db, F_OK) != 0) {
        char *dir = gst_tmpdir();
        build_fixture(dir);
        gst_rmrf(tpl);
        ck_assert_int_eq(rename(dir, tpl), 0);
        free(dir);
    }
    size_t len;
    char *bytes = gst_read_file(tpl_db, &len);
    ck_assert_ptr_nonnull(bytes);
    snprintf(db, sizeof db, "%s/hub.db", tmp);
    ck_assert_int_eq(gst_write_file(db, bytes, len), 0);
    free(bytes);
}

static void teardown(void)
{
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* ---- reading the outputs --------------------------------------------------------------------- */

/* The lines of text, each malloc'd, "\r\n" or "\n" ended; *n set. */
static char **lines_of(const char *text, size_t *n)
{
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    *n = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        size_t keep = len && p[len - 1] == '\r' ? len - 1 : len;
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = strndup(p, keep);
        p += len + (e != NULL);
    }
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* s with runs of spaces made one and the ends trimmed (in place). */
static char *squeeze(char *s)
{
    char *o = s;
    bool space = true;
    for (char *p = s; *p; p++) {
        if (*p == ' ') {
            if (!space)
                *o++ = ' ';
            space = true;
        } else {
            *o++ = *p;
            space = false;
        }
    }
    if (o > s && o[-1] == ' ')
        o--;
    *o = '\0';
    return s;
}

/* Splits "a b | c d" (hand-written expectations) into tokens, dropping "|". */
static size_t tokens(const char *text, char out[][48], size_t max)
{
    size_t n = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (strcmp(t, "|")) {
            ck_assert_uint_lt(n, max);
            snprintf(out[n++], 48, "%s", t);
        }
    free(copy);
    return n;
}

/* The JSON section "key": {...} of a report: its text up to the next
 * top-level section (malloc'd). */
static char *json_section(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n  \"%s\": {", key);
    const char *p = strstr(json, pat);
    ck_assert_msg(p != NULL, "no JSON section %s in:\n%s", key, json);
    const char *e = strstr(p + 1, "\n  }");
    ck_assert_ptr_nonnull(e);
    return strndup(p, (size_t)(e - p));
}

/* The value of key in a one-line JSON object: a string without its quotes,
 * anything else as written (malloc'd); NULL when the key is absent. */
static char *jget(const char *obj, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(obj, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    if (*p == '"') {
        const char *e = strchr(p + 1, '"');
        return strndup(p + 1, (size_t)(e - p - 1));
    }
    if (*p == '[') {
        int depth = 0;
        const char *e = p;
        for (; *e; e++) {
            depth += *e == '[';
            depth -= *e == ']';
            if (!depth)
                break;
        }
        return strndup(p, (size_t)(e - p + 1));
    }
    size_t len = strcspn(p, ",}");
    return strndup(p, len);
}

/* The one-line JSON object of a section row whose key field equals value,
 * or the total line when total (malloc'd). */
static char *json_row(const char *section, const char *field, const char *value, bool total)
{
    size_t n;
    char **ls = lines_of(section, &n);
    char *found = NULL;
    for (size_t i = 0; i < n && !found; i++) {
        const char *l = ls[i];
        while (*l == ' ')
            l++;
        bool is_total = !strncmp(l, "\"total\": ", 9);
        if (is_total != total || !strchr(l, '{'))
            continue;
        if (is_total)
            l += 9; /* the object, without its "total": key */
        char *v = jget(l, field);
        if (v && !strcmp(v, value))
            found = strdup(l);
        free(v);
    }
    free_lines(ls, n);
    ck_assert_msg(found != NULL, "no %s row with %s = %s in:\n%s", total ? "total" : "data", field,
                  value, section);
    return found;
}

/* A CSV block: the header keys ("中文 key" -> key) and the rows' cells. */
typedef struct csvblock {
    char keys[40][48];
    size_t nkeys;
    char ***rows;
    size_t nrows;
} csvblock;

static size_t csv_split(const char *line, char out[][512], size_t max)
{
    size_t n = 0, k = 0;
    bool quoted = false;
    out[0][0] = '\0';
    for (const char *p = line;; p++) {
        if (quoted) {
            if (*p == '"' && p[1] == '"')
                out[n][k++] = '"', p++;
            else if (*p == '"')
                quoted = false;
            else if (*p)
                out[n][k < 510 ? k++ : k] = *p;
            else
                break;
            continue;
        }
        if (*p == '"')
            quoted = true;
        else if (*p == ',' || !*p) {
            out[n][k] = '\0';
            n++;
            k = 0;
            if (!*p || n == max)
                break;
            out[n][0] = '\0';
        } else
            out[n][k < 510 ? k++ : k] = *p;
    }
    return n;
}

/* The CSV block whose header has the column key (the first such block). */
static void csv_block(const char *csv, const char *key, csvblock *b)
{
    memset(b, 0, sizeof *b);
    size_t n;
    char **ls = lines_of(csv, &n);
    static char cells[40][512];
    size_t start = n;
    for (size_t i = 0; i < n && start == n; i++) {
        size_t nc = csv_split(ls[i], cells, 40);
        for (size_t c = 0; c < nc; c++) {
            const char *sp = strrchr(cells[c], ' ');
            if (sp && !strcmp(sp + 1, key))
                start = i;
        }
    }
    ck_assert_msg(start < n, "no CSV header with %s in:\n%s", key, csv);
    b->nkeys = csv_split(ls[start], cells, 40);
    for (size_t c = 0; c < b->nkeys; c++) {
        const char *sp = strrchr(cells[c], ' ');
        snprintf(b->keys[c], 48, "%.47s", sp ? sp + 1 : cells[c]);
    }
    b->rows = calloc(n, sizeof *b->rows);
    for (size_t i = start + 1; i < n && ls[i][0]; i++) {
        size_t nc = csv_split(ls[i], cells, 40);
        ck_assert_uint_eq(nc, b->nkeys);
        char **row = calloc(nc, sizeof *row);
        for (size_t c = 0; c < nc; c++)
            row[c] = strdup(cells[c]);
        b->rows[b->nrows++] = row;
    }
    free_lines(ls, n);
}

static void csv_free(csvblock *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t c = 0; c < b->nkeys; c++)
            free(b->rows[r][c]);
        free(b->rows[r]);
    }
    free(b->rows);
}

static long csv_col(const csvblock *b, const char *key)
{
    for (size_t c = 0; c < b->nkeys; c++)
        if (!strcmp(b->keys[c], key))
            return (long)c;
    ck_abort_msg("no CSV column %s", key);
    return -1;
}

/* The row with field == value: the first one, or the last one for a total
 * (a total row comes after the rows and may share their code). */
static char **csv_row(const csvblock *b, const char *field, const char *value, bool total)
{
    long c = csv_col(b, field);
    char **found = NULL;
    for (size_t r = 0; r < b->nrows; r++)
        if (!strcmp(b->rows[r][c], value)) {
            found = b->rows[r];
            if (!total)
                break;
        }
    ck_assert_msg(found != NULL, "no CSV row with %s = %s", field, value);
    return found;
}

/* ---- checking area reports in every format --------------------------------------------------- */

/* One expected row: its code (the total when total), and the values of the
 * report's keys in order, parts separated by "|", "-" for a missing value. */
typedef struct want {
    const char *code;
    bool total;
    const char *values;
} want;

/* Checks the rows of an area section in JSON (section key), CSV (the block
 * with column keys[0]) and the terminal table (one line per part, each
 * starting with the code and ending with that part's values). */
static void check_areas(const char *table, const char *csv, const char *json, const char *section,
                        const char *const *keys, size_t nkeys, const want *w, size_t nw)
{
    char *sec = json_section(json, section);
    csvblock cb;
    csv_block(csv, keys[0], &cb);
    size_t ntl;
    char **tl = lines_of(table, &ntl);
    for (size_t i = 0; i < ntl; i++)
        squeeze(tl[i]);
    for (size_t i = 0; i < nw; i++) {
        char vals[40][48];
        size_t nv = tokens(w[i].values, vals, 40);
        ck_assert_msg(nv == nkeys, "%s: %zu values for %zu keys", w[i].code, nv, nkeys);
        /* JSON */
        char *row = json_row(sec, "code", w[i].code, w[i].total);
        for (size_t k = 0; k < nkeys; k++) {
            char *v = jget(row, keys[k]);
            const char *want_v = strcmp(vals[k], "-") ? vals[k] : "null";
            ck_assert_msg(v && !strcmp(v, want_v), "JSON %s %s%s: %s = %s, want %s", section,
                          w[i].code, w[i].total ? " (total)" : "", keys[k], v ? v : "(absent)",
                          want_v);
            free(v);
        }
        free(row);
        /* CSV */
        char **cr = csv_row(&cb, "code", w[i].code, w[i].total);
        for (size_t k = 0; k < nkeys; k++) {
            const char *want_v = strcmp(vals[k], "-") ? vals[k] : "";
            const char *got = cr[csv_col(&cb, keys[k])];
            ck_assert_msg(!strcmp(got, want_v), "CSV %s %s: %s = %s, want %s", section, w[i].code,
                          keys[k], got, want_v);
        }
        /* table: the lines of this code, per part (a total may share it) */
        char prefix[40];
        snprintf(prefix, sizeof prefix, "%s ", w[i].code);
        size_t hits[16], nh = 0;
        for (size_t l = 0; l < ntl && nh < 16; l++)
            if (!strncmp(tl[l], prefix, strlen(prefix)))
                hits[nh++] = l;
        char *copy = strdup(w[i].values), *save = NULL;
        size_t nparts = 0;
        char *parts[8];
        for (char *p = strtok_r(copy, "|", &save); p && nparts < 8; p = strtok_r(NULL, "|", &save))
            parts[nparts++] = squeeze(p);
        size_t per = nh / nparts;
        ck_assert_msg(per >= 1 && nh == per * nparts, "table: %zu lines for %s, %zu parts:\n%s", nh,
                      w[i].code, nparts, table);
        for (size_t p = 0; p < nparts; p++) {
            const char *line = tl[hits[p * per + (w[i].total && per > 1 ? per - 1 : 0)]];
            size_t ll = strlen(line), pl = strlen(parts[p]);
            ck_assert_msg(ll > pl && !strcmp(line + ll - pl, parts[p]) && line[ll - pl - 1] == ' ',
                          "table %s, part %zu: \"%s\" does not end with \"%s\"", w[i].code, p + 1,
                          line, parts[p]);
        }
        free(copy);
    }
    free_lines(tl, ntl);
    csv_free(&cb);
    free(sec);
}

/* Each additive key of the total equals the sum over the rows (JSON). */
static void check_adds_up(const char *json, const char *section, const char *const *keys,
                          size_t nkeys)
{
    char *sec = json_section(json, section);
    size_t n;
    char **ls = lines_of(sec, &n);
    for (size_t k = 0; k < nkeys; k++) {
        long long sum = 0, total = -1;
        int rows = 0;
        for (size_t i = 0; i < n; i++) {
            const char *l = ls[i];
            while (*l == ' ')
                l++;
            if (*l != '{' && strncmp(l, "\"total\": ", 9))
                continue;
            char *v = jget(l, keys[k]);
            ck_assert_msg(v != NULL, "%s: no %s in %s", section, keys[k], l);
            if (*l == '{') {
                sum += atoll(v);
                rows++;
            } else
                total = atoll(v);
            free(v);
        }
        ck_assert_msg(rows > 0 && total == sum, "%s.%s: total %lld, rows sum to %lld", section,
                      keys[k], total, sum);
    }
    free_lines(ls, n);
    free(sec);
}

/* Runs an area report in all three formats with the extra arguments (up to
 * four, NULL-ended) and checks it. */
static void check_report(const char *kind, const char *const *extra, const char *section,
                         const char *const *keys, size_t nkeys, const want *w, size_t nw,
                         const char *const *additive, size_t nadd)
{
    const char *a[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4 && extra && extra[i]; i++)
        a[i] = extra[i];
#define RUN_FMT(fmt)                                                                               \
    report_("report", kind, "--as-of", AS_OF, "--format", fmt, a[0], a[1], a[2], a[3],             \
            (const char *)NULL)
    char *table = RUN_FMT("table"), *csv = RUN_FMT("csv"), *json = RUN_FMT("json");
#undef RUN_FMT
    check_areas(table, csv, json, section, keys, nkeys, w, nw);
    check_adds_up(json, section, additive, nadd);
    free(table);
    free(csv);
    free(json);
}

/* ---- summary --------------------------------------------------------------------------------- */

/* clang-format off */
static const char *const summary_keys[] = {
    "villages",                "villages_unlisted",        "villages_registered",
    "villages_without_node",   "villages_reporting",       "reporting_pct",
    "elections_village",       "elections_residents",      "elections_party",
    "villagers_committees",    "villagers_committees_elected", "villagers_election_pct",
    "residents_committees",    "residents_committees_elected", "residents_election_pct",
    "registered_voters",
    "ballots_cast",            "turnout_pct",              "villages_turnout_below_95",
    "elections_invalid",       "seats_unfilled",           "elections_no_woman",
    "yijiantiao",              "incidents_opened",         "incidents_closed",
    "incidents_rejected",      "incidents_open",           "incidents_open_over_30d",
    "median_days_to_close",    "villages_with_council",    "council_coverage_pct",
    "affairs_wedding",         "affairs_funeral",          "affairs_other",
    "affairs_total",           "affairs_with_violations",  "violation_rate_pct",
};
/* clang-format on */
#define NSUMMARY (sizeof summary_keys / sizeof summary_keys[0])

/* Every summary key but the percentages and the median. */
static const char *const summary_additive[] = {
    "villages",            "villages_unlisted",         "villages_without_node",
    "villagers_committees", "villagers_committees_elected", "residents_committees",
    "residents_committees_elected",
    "villages_registered", "villages_reporting",        "elections_village",
    "elections_residents", "elections_party",           "registered_voters",
    "ballots_cast",        "villages_turnout_below_95", "elections_invalid",
    "seats_unfilled",      "elections_no_woman",        "yijiantiao",
    "incidents_opened",    "incidents_closed",          "incidents_rejected",
    "incidents_open",      "incidents_open_over_30d",   "villages_with_council",
    "affairs_wedding",     "affairs_funeral",           "affairs_other",
    "affairs_total",       "affairs_with_violations",
};
#define NSUMMARY_ADD (sizeof summary_additive / sizeof summary_additive[0])

/* An area with nothing in it. */
#define ZERO "0 0 0 0 0 - | 0 0 0 0 0 - 0 0 - | 0 0 - 0 0 0 0 0 | 0 0 0 0 0 - | 0 - 0 0 0 0 0 -"

/* Hand-computed from the fixture (see the banner):
 *   源汇区 = A + B + C. Elections E1 E2 (village), E3 (residents), E4 (party):
 *   voters 1000+800+2000+50 = 3850, ballots 980+400+1800+49 = 3229, 83.87% -> 83.9;
 *   below 95%: B (50%) and C (90%), not A (1029/1050 = 98%); invalid E2;
 *   unfilled 3 (E2); no woman E3; 一肩挑 E1. Incidents I1-I8, I13, I14 (I12
 *   deleted): closed I1 (5 days) I2 (evaluated, exactly 2 days) I8 (10
 *   days), rejected I5, open I3 (1 day) I4 (39) I6 (120) I7 (8) I13 (30)
 *   I14 (7); over 30 days: I4 I6; median of 2, 5, 10 = 5.
 *   Council: A of 3 registered = 33.3%; affairs A1 A6 (weddings), A2
 *   (funeral), A1 violates: 1 of 3 = 33.3%.
 *   临颍县 = F: E7 1100/1200 = 91.67% -> 91.7 (below 95); I11 open 80 days;
 *   A3 (exempt) and A4 (violates) = 1 of 2.
 *   开发区 = D + G: E5 570/600 = exactly 95.0% (not below); I9 closed in 1
 *   day (36 h), I15 open; A5 violates.
 *   unknown = E: E6 (no voters: invalid, 3 unfilled); I10 open (4 h).
 *   City: median of 1, 2, 5, 10 = 3.5; turnout 4899/5650 = 86.71% -> 86.7.
 * The villages each rate divides by (docs/reports.md): the village list of
 * this fixture is A and D (their division rows); B, C, E, F, G are not in
 * it but have data, so each counts in its own area too. All are villagers'
 * committees by their codes (2xx) but C (001: residents'). 源汇区: A B C, 2
 * unlisted, 3 with a node, 2 reporting (A 1 day, C exactly 7) = 66.7%;
 * villagers' A B both elected (E1 E2), residents' C (E3). 临颍县: F (node
 * never seen). 开发区: D G (G: data only, no node): 1 of 2 reporting, D
 * elected, G not: 50.0%; council D of 2 = 50.0% (was 1 of 1 when the
 * denominator was the villages with a node). unknown: E, no node, E6 held.
 * City: 7 villages, 5 with a node, 3 reporting = 42.9%; villagers' 6 (A B D
 * E F G), 5 elected = 83.3%; councils A D F of 7 = 42.9% (was 3 of 5). */
/* clang-format off */
static const want summary_city[] = {
    {"411102", false, "3 2 3 0 2 66.7 | 2 1 1 2 2 100.0 1 1 100.0 | 3850 3229 83.9 2 1 3 1 1 | 10 3 1 6 2 5.0 | 1 33.3 2 1 0 3 1 33.3"},
    {"411103", false, ZERO},
    {"411104", false, ZERO},
    {"411121", false, ZERO},
    {"411122", false, "1 1 1 0 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 1200 1100 91.7 1 0 0 0 0 | 1 0 0 1 1 - | 1 100.0 0 2 0 2 1 50.0"},
    {"411171", false, "2 1 1 1 1 50.0 | 1 0 0 2 1 50.0 0 0 - | 600 570 95.0 0 0 0 0 1 | 2 1 0 1 0 1.0 | 1 50.0 0 0 1 1 1 100.0"},
    {"unknown", false, "1 1 0 1 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 0 0 - 0 1 3 0 0 | 1 0 0 1 0 - | 0 0.0 0 0 0 0 0 -"},
    {"411100", true, "7 5 5 2 3 42.9 | 5 1 1 6 5 83.3 1 1 100.0 | 5650 4899 86.7 3 2 6 1 2 | 14 4 1 9 3 3.5 | 3 42.9 2 3 1 6 3 50.0"},
};
/* clang-format on */

#define CHECK_SUMMARY(extra, w)                                                                    \
    check_report("summary", extra, "by_area", summary_keys, NSUMMARY, w, sizeof w / sizeof w[0],   \
                 summary_additive, NSUMMARY_ADD)

START_TEST(summary_city_by_county)
{
    CHECK_SUMMARY(NULL, summary_city);
    /* the terminal table shows the Chinese names, aligned by display width */
    char *t = REPORT("summary");
    ck_assert_msg(strstr(t, "漯河经济技术开发区") && strstr(t, "未知区划 unknown") &&
                      strstr(t, "漯河市"),
                  "%s", t);
    free(t);
}
END_TEST

/* 源汇区 by township: 老街街道 = C; 大刘镇 = A + B: voters 1000+800+50 = 1850,
 * ballots 980+400+49 = 1429 (77.2%); incidents I1-I6: closed I1 (5) I2 (2),
 * median 3.5; council A of A, B = 50%; affairs A1 A2 A6, 1 violates. */
/* clang-format off */
static const want summary_yuanhui[] = {
    {"411102001", false, "1 1 1 0 1 100.0 | 0 1 0 0 0 - 1 1 100.0 | 2000 1800 90.0 1 0 0 1 0 | 4 1 0 3 0 10.0 | 0 0.0 0 0 0 0 0 -"},
    {"411102002", false, ZERO},
    {"411102003", false, ZERO},
    {"411102004", false, ZERO},
    {"411102100", false, "2 1 2 0 1 50.0 | 2 0 1 2 2 100.0 0 0 - | 1850 1429 77.2 1 1 3 0 1 | 6 2 1 3 2 3.5 | 1 50.0 2 1 0 3 1 33.3"},
    {"411102101", false, ZERO},
    {"411102102", false, ZERO},
    {"411102202", false, ZERO},
    {"411102", true, "3 2 3 0 2 66.7 | 2 1 1 2 2 100.0 1 1 100.0 | 3850 3229 83.9 2 1 3 1 1 | 10 3 1 6 2 5.0 | 1 33.3 2 1 0 3 1 33.3"},
};
/* clang-format on */

/* 开发区 by township: 邓襄镇 411171102 holds village D; 411104199 (parent
 * 411171 in the division table, whatever its digits) holds G. */
/* clang-format off */
static const want summary_kaifaqu[] = {
    {"411104199", false, "1 1 0 1 0 0.0 | 0 0 0 1 0 0.0 0 0 - | 0 0 - 0 0 0 0 0 | 1 0 0 1 0 - | 0 0.0 0 0 0 0 0 -"},
    {"411171101", false, ZERO},
    {"411171102", false, "1 0 1 0 1 100.0 | 1 0 0 1 1 100.0 0 0 - | 600 570 95.0 0 0 0 0 1 | 1 1 0 0 0 1.0 | 1 100.0 0 0 1 1 1 100.0"},
    {"411171", true, "2 1 1 1 1 50.0 | 1 0 0 2 1 50.0 0 0 - | 600 570 95.0 0 0 0 0 1 | 2 1 0 1 0 1.0 | 1 50.0 0 0 1 1 1 100.0"},
};
/* clang-format on */

START_TEST(summary_county_by_township)
{
    const char *yuanhui[] = {"--county", "411102", NULL};
    CHECK_SUMMARY(yuanhui, summary_yuanhui);
    const char *kaifaqu[] = {"--county", "411171", NULL};
    CHECK_SUMMARY(kaifaqu, summary_kaifaqu);
}
END_TEST

/* 大刘镇 by village: A (刘庄村, a synthetic name) and B (no name: its code).
 * A: E1 + E4 = 1050 voters, 1029 ballots (98.0%); I1-I4 (I12 deleted):
 * closed I1 (5) I2 (2), median 3.5, open I3 I4 (39 days); A1 A2.
 * B: E2 (400/800 = 50.0%, invalid, 3 unfilled); I5 rejected, I6 open 120
 * days; A6 without a council: no violation. */
/* clang-format off */
static const want summary_daliu[] = {
    {VA, false, "1 0 1 0 1 100.0 | 1 0 1 1 1 100.0 0 0 - | 1050 1029 98.0 0 0 0 0 1 | 4 2 0 2 1 3.5 | 1 100.0 1 1 0 2 1 50.0"},
    {VB, false, "1 1 1 0 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 800 400 50.0 1 1 3 0 0 | 2 0 1 1 1 - | 0 0.0 1 0 0 1 0 0.0"},
    {"411102100", true, "2 1 2 0 1 50.0 | 2 0 1 2 2 100.0 0 0 - | 1850 1429 77.2 1 1 3 0 1 | 6 2 1 3 2 3.5 | 1 50.0 2 1 0 3 1 33.3"},
};
/* clang-format on */

START_TEST(summary_township_by_village)
{
    const char *daliu[] = {"--township", "411102100", NULL};
    CHECK_SUMMARY(daliu, summary_daliu);
    char *j = REPORT("summary", "--township", "411102100", "--format", "json");
    char *a = json_row(j, "code", VA, false), *b = json_row(j, "code", VB, false);
    char *na = jget(a, "name"), *nb = jget(b, "name"), *lv = jget(a, "level");
    ck_assert_str_eq(na, "刘庄村"); /* a synthetic village row of the division table */
    ck_assert_str_eq(nb, VB);       /* no division row: the code */
    ck_assert_str_eq(lv, "village");
    free(na), free(nb), free(lv), free(a), free(b), free(j);
}
END_TEST

START_TEST(summary_village_and_unknown)
{
    const want a[] = {
        {VA, false, "1 0 1 0 1 100.0 | 1 0 1 1 1 100.0 0 0 - | 1050 1029 98.0 0 0 0 0 1 | 4 2 0 2 1 3.5 | 1 100.0 1 1 0 2 1 50.0"},
        {VA, true, "1 0 1 0 1 100.0 | 1 0 1 1 1 100.0 0 0 - | 1050 1029 98.0 0 0 0 0 1 | 4 2 0 2 1 3.5 | 1 100.0 1 1 0 2 1 50.0"},
    };
    const char *village[] = {"--village", VA, NULL};
    CHECK_SUMMARY(village, a);
    /* the unknown group, village by village: E is reported, not dropped */
    const want u[] = {
        {VE, false, "1 1 0 1 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 0 0 - 0 1 3 0 0 | 1 0 0 1 0 - | 0 0.0 0 0 0 0 0 -"},
        {"unknown", true, "1 1 0 1 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 0 0 - 0 1 3 0 0 | 1 0 0 1 0 - | 0 0.0 0 0 0 0 0 -"},
    };
    const char *unknown[] = {"--county", "unknown", NULL};
    CHECK_SUMMARY(unknown, u);
}
END_TEST

/* --since 2026-01-11 --until 2026-03-20, both inclusive (the villages of an
 * area are not dated, so G still counts in 开发区; A's E1 is before the
 * period, so 源汇区 has 1 of 2 villagers' committees elected): elections E2 E3 E5
 * E6 E7 (not E4 01-08, E1 01-10); incidents reported I1 I2 (03-20 08:00, the
 * last day) I4 I5 I8 I9 I13 (not I3 I7 I10 I14 I15 after, I6 I11 before);
 * affairs all but A6 (03-21). Ballots 400+1800+570+1100 = 3870 of 4600
 * voters: 84.1%. */
/* clang-format off */
static const want summary_period[] = {
    {"411102", false, "3 2 3 0 2 66.7 | 1 1 0 2 1 50.0 1 1 100.0 | 2800 2200 78.6 2 1 3 1 0 | 6 3 1 2 1 5.0 | 1 33.3 1 1 0 2 1 50.0"},
    {"411171", false, "2 1 1 1 1 50.0 | 1 0 0 2 1 50.0 0 0 - | 600 570 95.0 0 0 0 0 1 | 1 1 0 0 0 1.0 | 1 50.0 0 0 1 1 1 100.0"},
    {"unknown", false, "1 1 0 1 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 0 0 - 0 1 3 0 0 | 0 0 0 0 0 - | 0 0.0 0 0 0 0 0 -"},
    {"411122", false, "1 1 1 0 0 0.0 | 1 0 0 1 1 100.0 0 0 - | 1200 1100 91.7 1 0 0 0 0 | 0 0 0 0 0 - | 1 100.0 0 2 0 2 1 50.0"},
    {"411100", true, "7 5 5 2 3 42.9 | 4 1 0 6 4 66.7 1 1 100.0 | 4600 3870 84.1 3 2 6 1 1 | 7 4 1 2 1 3.5 | 3 42.9 1 3 1 5 3 60.0"},
};
/* clang-format on */

START_TEST(summary_period_filters)
{
    const char *period[] = {"--since", "2026-01-11", "--until", "2026-03-20"};
    CHECK_SUMMARY(period, summary_period);
}
END_TEST

/* The same period in the other date forms entry takes: the same figures. */
START_TEST(summary_period_date_forms)
{
    const char *period[] = {"--since", "2026/01/11", "--until", "2026年3月20日"};
    CHECK_SUMMARY(period, summary_period);
}
END_TEST

/* ---- elections ------------------------------------------------------------------------------- */

typedef struct want_election {
    const char *id, *village_name, *township_name, *county_name, *committee_name, *date;
    const char *figures; /* registered voted turnout seats elected unfilled women */
    const char *yijiantiao, *findings;
} want_election;

static const char *const election_keys[] = {"registered", "voted",    "turnout_pct",  "seats",
                                            "elected",    "unfilled", "women_elected"};

/* In row order: by village code, then date. */
/* clang-format off */
static const want_election election_rows[] = {
    {"E3", VC, "老街街道", "源汇区", "居民委员会", "2026-01-15", "2000 1800 90.0 5 5 0 0", "否",
     "NO_WOMAN"},
    {"E4", "刘庄村", "大刘镇", "源汇区", "党组织委员会", "2026-01-08", "50 49 98.0 3 3 0 1", "否",
     ""},
    {"E1", "刘庄村", "大刘镇", "源汇区", "村民委员会", "2026-01-10", "1000 980 98.0 3 3 0 1", "是",
     ""},
    {"E2", VB, "大刘镇", "源汇区", "村民委员会", "2026-01-12", "800 400 50.0 3 0 3 0", "否",
     "TURNOUT_INVALID;SEATS_UNFILLED"},
    {"E6", VE, "未知区划 unknown", "未知区划 unknown", "村民委员会", "2026-02-10", "0 0 - 3 0 3 0",
     "否", "NO_VOTERS;SEATS_UNFILLED;NOT_CONTESTED"},
    {"E7", VF, "繁城回族镇", "临颍县", "村民委员会", "2026-03-05", "1200 1100 91.7 5 5 0 2", "否",
     ""},
    {"E5", "邓襄一村", "邓襄镇", "漯河经济技术开发区", "村民委员会", "2026-02-01",
     "600 570 95.0 3 3 0 1", "是", ""},
};
/* clang-format on */

static void check_election_rows(const char *table, const char *csv, const char *json,
                                const want_election *w, size_t nw)
{
    char *sec = json_section(json, "elections");
    csvblock cb;
    csv_block(csv, "registered", &cb);
    ck_assert_uint_eq(cb.nrows, nw);
    size_t ntl;
    char **tl = lines_of(table, &ntl);
    const char *order = sec;
    for (size_t i = 0; i < nw; i++) {
        char vals[8][48];
        ck_assert_uint_eq(tokens(w[i].figures, vals, 8), 7);
        /* JSON, in this order */
        char pat[32];
        snprintf(pat, sizeof pat, "{\"id\": \"%s\"", w[i].id);
        const char *at = strstr(order, pat);
        ck_assert_msg(at != NULL, "JSON: %s missing or out of order", w[i].id);
        order = at + 1;
        char *row = json_row(sec, "id", w[i].id, false);
        for (size_t k = 0; k < 7; k++) {
            char *v = jget(row, election_keys[k]);
            ck_assert_msg(v && !strcmp(v, strcmp(vals[k], "-") ? vals[k] : "null"),
                          "JSON %s: %s = %s, want %s", w[i].id, election_keys[k], v, vals[k]);
            free(v);
        }
        const char *const str_keys[] = {"village_name", "township_name", "county_name",
                                        "committee_name", "election_date"};
        const char *str_want[] = {w[i].village_name, w[i].township_name, w[i].county_name,
                                  w[i].committee_name, w[i].date};
        for (size_t k = 0; k < 5; k++) {
            char *v = jget(row, str_keys[k]);
            ck_assert_msg(v && !strcmp(v, str_want[k]), "JSON %s: %s = %s, want %s", w[i].id,
                          str_keys[k], v, str_want[k]);
            free(v);
        }
        char *y = jget(row, "yijiantiao");
        ck_assert_str_eq(y, !strcmp(w[i].yijiantiao, "是") ? "true" : "false");
        free(y);
        /* findings: one object per code, with the rule it comes from */
        char *f = jget(row, "findings");
        if (!*w[i].findings)
            ck_assert_str_eq(f, "[]");
        char *codes = strdup(w[i].findings), *save = NULL;
        for (char *c = strtok_r(codes, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
            char obj[96];
            snprintf(obj, sizeof obj, "{\"code\": \"%s\", \"text\": ", c);
            ck_assert_msg(strstr(f, obj) != NULL, "JSON %s findings lack %s: %s", w[i].id, c, f);
        }
        free(codes);
        free(f);
        free(row);
        /* CSV */
        char **cr = csv_row(&cb, "id", w[i].id, false);
        ck_assert_ptr_eq(cr, cb.rows[i]);
        for (size_t k = 0; k < 7; k++) {
            const char *got = cr[csv_col(&cb, election_keys[k])];
            ck_assert_msg(!strcmp(got, strcmp(vals[k], "-") ? vals[k] : ""),
                          "CSV %s: %s = %s, want %s", w[i].id, election_keys[k], got, vals[k]);
        }
        ck_assert_str_eq(cr[csv_col(&cb, "yijiantiao")], w[i].yijiantiao);
        ck_assert_str_eq(cr[csv_col(&cb, "finding_codes")], w[i].findings);
        /* table: the row names the place and ends with the figures */
        char line_want[256];
        snprintf(line_want, sizeof line_want, "%s %s %s %s %s %s %s %s%s%s", w[i].id,
                 w[i].village_name, w[i].township_name, w[i].county_name, w[i].committee_name,
                 w[i].date, w[i].figures, w[i].yijiantiao, *w[i].findings ? " " : "",
                 w[i].findings);
        bool seen = false;
        for (size_t l = 0; l < ntl && !seen; l++) {
            char *copy = squeeze(strdup(tl[l]));
            seen = !strcmp(copy, line_want);
            free(copy);
        }
        ck_assert_msg(seen, "table lacks the line \"%s\":\n%s", line_want, table);
    }
    free_lines(tl, ntl);
    csv_free(&cb);
    free(sec);
}

START_TEST(elections_with_findings_and_rules)
{
    char *table = REPORT("elections"), *csv = REPORT("elections", "--format", "csv"),
         *json = REPORT("elections", "--format", "json");
    check_election_rows(table, csv, json, election_rows,
                        sizeof election_rows / sizeof election_rows[0]);
    /* the rule of a finding: law, version date, article */
    char *row = json_row(json, "id", "E2", false);
    ck_assert_msg(strstr(row,
                         "{\"code\": \"TURNOUT_INVALID\", \"text\": "
                         "\"投票人数未过登记选民半数，选举无效\", \"law\": \"村民委员会组织法\", "
                         "\"version\": \"2018-12-29\", \"article\": \"第十五条\"}"),
                  "%s", row);
    free(row);
    /* CSV carries the same with the text: one cell per election */
    csvblock cb;
    csv_block(csv, "finding_rules", &cb);
    const char *rules = csv_row(&cb, "id", "E3", false)[csv_col(&cb, "finding_rules")];
    /* E3 is a residents' committee: not the villagers' law (城市居民委员会组织法
     * has no women-member article; the provincial rules carry it) */
    ck_assert_str_eq(rules, "当选成员中没有妇女 [NO_WOMAN; 城市居民委员会组织法实施办法(省级)]");
    csv_free(&cb);
    /* totals: 7 elections, 3 with findings; seats 3+3+5+3+3+3+5 = 25,
     * elected 3+0+5+3+3+0+5 = 19, unfilled 6, women 1+1+1+2 = 5, 一肩挑 E1 E5 */
    char *sec = json_section(json, "elections");
    char *tot = json_row(sec, "elections", "7", true);
    const char *const tk[] = {"with_findings", "registered",    "voted",
                              "turnout_pct",   "seats",         "elected",
                              "unfilled",      "women_elected", "yijiantiao"};
    const char *const tv[] = {"3", "5650", "4899", "86.7", "25", "19", "6", "5", "2"};
    for (size_t k = 0; k < 9; k++) {
        char *v = jget(tot, tk[k]);
        ck_assert_msg(v && !strcmp(v, tv[k]), "total %s = %s, want %s", tk[k], v, tv[k]);
        free(v);
    }
    free(tot);
    free(sec);
    /* the legend: each finding with its count and rule */
    char *leg = json_section(json, "findings");
    const char *const lc[] = {"NO_VOTERS", "TURNOUT_INVALID", "SEATS_UNFILLED", "NOT_CONTESTED",
                              "NO_WOMAN"};
    const char *const ln[] = {"1", "1", "2", "1", "1"};
    for (size_t k = 0; k < 5; k++) {
        char *r = json_row(leg, "code", lc[k], false), *n = jget(r, "elections");
        ck_assert_msg(!strcmp(n, ln[k]), "%s counted %s, want %s", lc[k], n, ln[k]);
        free(n), free(r);
    }
    ck_assert_ptr_null(strstr(leg, "BELOW_HALF")); /* a candidate's finding, not the election's */
    free(leg);
    ck_assert_msg(strstr(table, "投票人数未过登记选民半数，选举无效") &&
                      strstr(table, "村民委员会组织法"),
                  "%s", table);
    free(table), free(csv), free(json);
}
END_TEST

START_TEST(elections_findings_only)
{
    const want_election only[] = {election_rows[0], election_rows[3], election_rows[4]};
    char *table = REPORT("elections", "--findings-only"),
         *csv = REPORT("elections", "--findings-only", "--format", "csv"),
         *json = REPORT("elections", "--findings-only", "--format", "json");
    check_election_rows(table, csv, json, only, 3);
    ck_assert_ptr_null(strstr(json, "\"E1\""));
    ck_assert_ptr_nonnull(strstr(json, "\"findings_only\": true"));
    char *sec = json_section(json, "elections");
    char *tot = json_row(sec, "elections", "3", true);
    char *wf = jget(tot, "with_findings");
    ck_assert_str_eq(wf, "3");
    free(wf), free(tot), free(sec);
    /* the area filter applies too: 大刘镇 has one election with findings, E2 */
    char *j2 =
        REPORT("elections", "--findings-only", "--township", "411102100", "--format", "json");
    ck_assert_ptr_nonnull(strstr(j2, "{\"id\": \"E2\""));
    ck_assert_ptr_null(strstr(j2, "{\"id\": \"E3\""));
    free(j2);
    free(table), free(csv), free(json);
}
END_TEST

/* ---- incidents ------------------------------------------------------------------------------- */

static const char *const incident_keys[] = {"opened",      "closed",        "rejected",
                                            "open",        "open_0_7d",     "open_8_30d",
                                            "open_31_90d", "open_over_90d", "median_days_to_close"};
static const char *const incident_additive[] = {"opened",      "closed",       "rejected",
                                                "open",        "open_0_7d",    "open_8_30d",
                                                "open_31_90d", "open_over_90d"};

/* Ages at the end of 2026-03-31: I3 1 day, I14 exactly 7 (0-7), I7 exactly
 * 8 (8-30), I13 exactly 30 (8-30), I4 39, I11 80, I6 120, I10 and I15 0. */
/* clang-format off */
static const want incident_city[] = {
    {"411102", false, "10 3 1 6 2 2 1 1 5.0"},
    {"411103", false, "0 0 0 0 0 0 0 0 -"},
    {"411104", false, "0 0 0 0 0 0 0 0 -"},
    {"411122", false, "1 0 0 1 0 0 1 0 -"},
    {"411171", false, "2 1 0 1 1 0 0 0 1.0"},
    {"unknown", false, "1 0 0 1 1 0 0 0 -"},
    {"411100", true, "14 4 1 9 4 2 2 1 3.5"},
};
/* clang-format on */

START_TEST(incidents_by_area_category_and_stage)
{
    check_report("incidents", NULL, "by_area", incident_keys, 9, incident_city,
                 sizeof incident_city / sizeof incident_city[0], incident_additive, 8);
    char *json = REPORT("incidents", "--format", "json");
    char *csv = REPORT("incidents", "--format", "csv");
    char *table = REPORT("incidents");

    /* category x status */
    static const char *const st[] = {"reported",   "accepted",    "rejected",  "registered",
                                     "dispatched", "in_progress", "suspended", "feedback",
                                     "verified",   "closed",      "evaluated", "total"};
    struct {
        const char *code, *name, *counts;
    } cats[] = {
        {"customs", "移风易俗", "0 0 0 0 0 1 0 0 0 0 0 1"},
        {"dispute.land", "土地/宅基地纠纷", "0 1 0 0 0 0 0 0 0 0 0 1"},
        {"dispute.neighbour", "邻里纠纷", "0 0 0 0 0 0 0 0 0 2 0 2"},
        {"order", "治安与特殊人群", "1 1 0 0 0 0 0 0 0 0 0 2"},
        {"safety.fire", "消防隐患", "0 0 1 0 0 0 0 0 0 1 1 3"},
        {"sanitation", "环境卫生", "4 0 0 0 1 0 0 0 0 0 0 5"},
        {NULL, "合计 total", "5 2 1 0 1 1 0 0 0 3 1 14"},
    };
    char *sec = json_section(json, "by_category");
    csvblock cb;
    csv_block(csv, "in_progress", &cb);
    ck_assert_uint_eq(cb.nrows, 7);
    for (size_t i = 0; i < 7; i++) {
        char vals[12][48];
        ck_assert_uint_eq(tokens(cats[i].counts, vals, 12), 12);
        char *row = cats[i].code ? json_row(sec, "category", cats[i].code, false)
                                 : json_row(sec, "name", cats[i].name, true);
        char *nm = jget(row, "name");
        ck_assert_str_eq(nm, cats[i].name);
        free(nm);
        char **cr = cb.rows[i];
        ck_assert_str_eq(cr[csv_col(&cb, "name")], cats[i].name);
        for (size_t k = 0; k < 12; k++) {
            char *v = jget(row, st[k]);
            ck_assert_msg(v && !strcmp(v, vals[k]), "JSON %s %s = %s, want %s", cats[i].name, st[k],
                          v, vals[k]);
            free(v);
            ck_assert_str_eq(cr[csv_col(&cb, st[k])], vals[k]);
        }
        free(row);
        char line[200];
        snprintf(line, sizeof line, "%s %s %s", cats[i].code ? cats[i].code : "-", cats[i].name,
                 cats[i].counts);
        size_t ntl;
        char **tl = lines_of(table, &ntl);
        bool seen = false;
        for (size_t l = 0; l < ntl; l++)
            seen |= !strcmp(squeeze(tl[l]), line);
        free_lines(tl, ntl);
        ck_assert_msg(seen, "table lacks \"%s\":\n%s", line, table);
    }
    csv_free(&cb);
    free(sec);

    /* time per stage, in hours, from the change history (I12, deleted, not
     * counted; I11's second dispatch continues its stage):
     *   reported: 2 2 24 3 1 6 1 3 1 -> 9 samples, median 2
     *   accepted: I1 22, I2 46, I6 23, I8 239, I9 33, I11 23 -> (23+33)/2 = 28
     *   registered: 1 24 1 -> 1; dispatched: I1 4, I11 23 -> 13.5;
     *   in_progress: I1 48; feedback: I1 19; verified: I1 25; closed: I2 24 */
    struct {
        const char *status, *samples, *median;
    } stages[] = {
        {"reported", "9", "2.0"},   {"accepted", "6", "28.0"},   {"rejected", "0", "-"},
        {"registered", "3", "1.0"}, {"dispatched", "2", "13.5"}, {"in_progress", "1", "48.0"},
        {"suspended", "0", "-"},    {"feedback", "1", "19.0"},   {"verified", "1", "25.0"},
        {"closed", "1", "24.0"},    {"evaluated", "0", "-"},
    };
    sec = json_section(json, "stages");
    csv_block(csv, "median_hours", &cb);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        char *row = json_row(sec, "status", stages[i].status, false);
        char *n = jget(row, "samples"), *m = jget(row, "median_hours");
        ck_assert_msg(!strcmp(n, stages[i].samples), "%s: %s samples", stages[i].status, n);
        ck_assert_msg(!strcmp(m, strcmp(stages[i].median, "-") ? stages[i].median : "null"),
                      "%s: median %s, want %s", stages[i].status, m, stages[i].median);
        free(n), free(m), free(row);
        char **cr = csv_row(&cb, "status", stages[i].status, false);
        ck_assert_str_eq(cr[csv_col(&cb, "samples")], stages[i].samples);
        ck_assert_str_eq(cr[csv_col(&cb, "median_hours")],
                         strcmp(stages[i].median, "-") ? stages[i].median : "");
        char want_end[32];
        snprintf(want_end, sizeof want_end, " %s %s", stages[i].samples, stages[i].median);
        size_t ntl;
        char **tl = lines_of(table, &ntl);
        bool seen = false;
        for (size_t l = 0; l < ntl; l++) {
            char *s = squeeze(tl[l]);
            size_t a = strlen(s), b = strlen(want_end);
            seen |= !strncmp(s, stages[i].status, strlen(stages[i].status)) &&
                    s[strlen(stages[i].status)] == ' ' && a > b && !strcmp(s + a - b, want_end);
        }
        free_lines(tl, ntl);
        ck_assert_msg(seen, "table lacks stage %s%s", stages[i].status, want_end);
    }
    csv_free(&cb);
    free(sec);
    free(json), free(csv), free(table);
}
END_TEST

START_TEST(incidents_by_township_in_kaifaqu)
{
    const want w[] = {
        {"411104199", false, "1 0 0 1 1 0 0 0 -"},
        {"411171101", false, "0 0 0 0 0 0 0 0 -"},
        {"411171102", false, "1 1 0 0 0 0 0 0 1.0"},
        {"411171", true, "2 1 0 1 1 0 0 0 1.0"},
    };
    const char *kaifaqu[] = {"--county", "411171", NULL};
    check_report("incidents", kaifaqu, "by_area", incident_keys, 9, w, 4, incident_additive, 8);
    /* the stages follow the filter: only I9 (reported 3 h, accepted 33 h) */
    char *json = REPORT("incidents", "--county", "411171", "--format", "json");
    char *sec = json_section(json, "stages");
    char *r = json_row(sec, "status", "accepted", false), *m = jget(r, "median_hours");
    ck_assert_str_eq(m, "33.0");
    free(m), free(r), free(sec), free(json);
}
END_TEST

/* ---- councils -------------------------------------------------------------------------------- */

static const char *const council_keys[] = {
    "villages",                "villages_registered",     "villages_with_council", "coverage_pct",  "councils",
    "affairs_wedding",         "affairs_funeral",       "affairs_other", "affairs_total",
    "affairs_with_violations", "violation_rate_pct"};
static const char *const council_additive[] = {
    "villages",            "villages_registered", "villages_with_council", "councils",      "affairs_wedding",
    "affairs_funeral",     "affairs_other",         "affairs_total", "affairs_with_violations"};

/* clang-format off */
static const want council_city[] = {
    {"411102", false, "3 3 1 33.3 1 2 1 0 3 1 33.3"},
    {"411104", false, "0 0 0 - 0 0 0 0 0 0 -"},
    {"411122", false, "1 1 1 100.0 1 0 2 0 2 1 50.0"},
    {"411171", false, "2 1 1 50.0 1 0 0 1 1 1 100.0"},
    {"411100", true, "7 5 3 42.9 3 2 3 1 6 3 50.0"},
};
/* clang-format on */

START_TEST(councils_coverage_standards_violations)
{
    check_report("councils", NULL, "by_area", council_keys, 11, council_city,
                 sizeof council_city / sizeof council_city[0], council_additive, 9);
    char *json = REPORT("councils", "--format", "json"),
         *csv = REPORT("councils", "--format", "csv");
    char *table = REPORT("councils");
    /* standards of each council; "-"/null where no limit is set */
    struct {
        const char *id, *name, *std, *cremation;
    } ks[] = {
        {"K-A", "刘庄村红白理事会", "10 300 100 6 3 30000", "是"},
        {"K-F", "繁城一村红白理事会", "20 480 200 10 5 50000", "是"},
        {"K-D", "邓襄一村红白理事会", "15 - - - - -", "否"},
    };
    const char *const sk[] = {"max_tables", "max_cost_per_table", "max_gift",
                              "max_cars",   "max_funeral_days",   "max_bride_price"};
    char *sec = json_section(json, "councils");
    csvblock cb;
    csv_block(csv, "max_bride_price", &cb);
    ck_assert_uint_eq(cb.nrows, 3);
    size_t ntl;
    char **tl = lines_of(table, &ntl);
    for (size_t l = 0; l < ntl; l++)
        squeeze(tl[l]);
    for (size_t i = 0; i < 3; i++) {
        char vals[6][48];
        ck_assert_uint_eq(tokens(ks[i].std, vals, 6), 6);
        char *row = json_row(sec, "id", ks[i].id, false);
        ck_assert_str_eq(cb.rows[i][csv_col(&cb, "id")], ks[i].id); /* by village code */
        for (size_t k = 0; k < 6; k++) {
            char *v = jget(row, sk[k]);
            ck_assert_msg(!strcmp(v, strcmp(vals[k], "-") ? vals[k] : "null"),
                          "%s %s = %s, want %s", ks[i].id, sk[k], v, vals[k]);
            free(v);
            ck_assert_str_eq(cb.rows[i][csv_col(&cb, sk[k])], strcmp(vals[k], "-") ? vals[k] : "");
        }
        char *c = jget(row, "cremation_required");
        ck_assert_str_eq(c, !strcmp(ks[i].cremation, "是") ? "true" : "false");
        free(c);
        free(row);
        /* table: the council's line ends with its standards */
        char end[96];
        snprintf(end, sizeof end, " %s %s", ks[i].std, ks[i].cremation);
        bool seen = false;
        for (size_t l = 0; l < ntl; l++) {
            size_t a = strlen(tl[l]), b = strlen(end);
            seen |= strstr(tl[l], ks[i].name) && a > b && !strcmp(tl[l] + a - b, end);
        }
        ck_assert_msg(seen, "table lacks %s ...%s:\n%s", ks[i].name, end, table);
    }
    free_lines(tl, ntl);
    csv_free(&cb);
    free(sec);
    /* violations by rule: A1 tables + cars, A4 days + cremation, A5 tables;
     * A3 (exempt funeral) none */
    struct {
        const char *code, *counts;
    } vs[] = {
        {"AFFAIR_TABLES", "1 0 1 2"},    {"AFFAIR_COST", "0 0 0 0"},
        {"AFFAIR_GIFT", "0 0 0 0"},      {"AFFAIR_CARS", "1 0 0 1"},
        {"AFFAIR_DAYS", "0 1 0 1"},      {"AFFAIR_BRIDE_PRICE", "0 0 0 0"},
        {"AFFAIR_CREMATION", "0 1 0 1"},
    };
    const char *const vk[] = {"wedding", "funeral", "other", "total"};
    sec = json_section(json, "violations");
    csv_block(csv, "funeral", &cb);
    for (size_t i = 0; i < 7; i++) {
        char vals[4][48];
        tokens(vs[i].counts, vals, 4);
        char *row = json_row(sec, "code", vs[i].code, false);
        char **cr = csv_row(&cb, "code", vs[i].code, false);
        for (size_t k = 0; k < 4; k++) {
            char *v = jget(row, vk[k]);
            ck_assert_msg(!strcmp(v, vals[k]), "%s %s = %s, want %s", vs[i].code, vk[k], v,
                          vals[k]);
            free(v);
            ck_assert_str_eq(cr[csv_col(&cb, vk[k])], vals[k]);
        }
        free(row);
    }
    char *tot = json_row(sec, "text", "合计 total", true);
    char *tv = jget(tot, "total");
    ck_assert_str_eq(tv, "5");
    free(tv), free(tot);
    char *cremation = json_row(sec, "code", "AFFAIR_CREMATION", false),
         *txt = jget(cremation, "text");
    ck_assert_str_eq(txt, "未按要求火化(且无豁免)");
    free(txt), free(cremation);
    csv_free(&cb);
    free(sec);
    free(json), free(csv), free(table);
}
END_TEST

/* ---- nodes ----------------------------------------------------------------------------------- */

START_TEST(nodes_oldest_silence_first)
{
    char *json = REPORT("nodes", "--format", "json"), *csv = REPORT("nodes", "--format", "csv"),
         *table = REPORT("nodes");
    /* never seen first (by id), then by last seen */
    struct {
        const char *id, *enabled, *last_seen, *silent, *pending, *rejected, *skew, *software;
    } ns[] = {
        {"A-2", "是", NULL, NULL, "0", "0", "0.0", NULL},
        {"F-1", "否", NULL, NULL, "0", "0", "0.0", NULL},
        {"B-1", "是", "2026-03-22T00:00:00+08:00", "10", "0", "0", "0.0", "0.1.0"},
        {"C-1", "是", "2026-03-25T00:00:00+08:00", "7", "0", "0", "-1.3", "0.1.0"},
        {"D-1", "是", "2026-03-30T00:00:00+08:00", "2", "3", "2", "90.0", "0.1.1"},
        {"A-1", "是", "2026-03-31T00:00:00+08:00", "1", "0", "0", "0.0", "0.1.0"},
    };
    char *sec = json_section(json, "nodes");
    csvblock cb;
    csv_block(csv, "silent_days", &cb);
    ck_assert_uint_eq(cb.nrows, 6);
    const char *p = sec;
    for (size_t i = 0; i < 6; i++) {
        char pat[32];
        snprintf(pat, sizeof pat, "{\"id\": \"%s\"", ns[i].id);
        p = strstr(p, pat);
        ck_assert_msg(p != NULL, "node %s missing or out of order:\n%s", ns[i].id, sec);
        char *row = json_row(sec, "id", ns[i].id, false);
        const char *keys[] = {"last_seen", "silent_days",  "pending",
                              "rejected",  "clock_skew_s", "software"};
        const char *vals[] = {ns[i].last_seen, ns[i].silent, ns[i].pending,
                              ns[i].rejected,  ns[i].skew,   ns[i].software};
        for (size_t k = 0; k < 6; k++) {
            char *v = jget(row, keys[k]);
            ck_assert_msg(!strcmp(v, vals[k] ? vals[k] : "null"), "%s %s = %s, want %s", ns[i].id,
                          keys[k], v, vals[k] ? vals[k] : "null");
            free(v);
            ck_assert_str_eq(cb.rows[i][csv_col(&cb, keys[k])], vals[k] ? vals[k] : "");
        }
        char *en = jget(row, "enabled");
        ck_assert_str_eq(en, !strcmp(ns[i].enabled, "是") ? "true" : "false");
        free(en);
        ck_assert_str_eq(cb.rows[i][csv_col(&cb, "id")], ns[i].id);
        ck_assert_str_eq(cb.rows[i][csv_col(&cb, "enabled")], ns[i].enabled);
        free(row);
    }
    /* 6 nodes, F-1 revoked; A-1 C-1 D-1 seen within 7 days (C-1 exactly) */
    char *tot = json_row(sec, "nodes", "6", true);
    const char *tk[] = {"enabled", "reporting", "never_seen", "pending", "rejected"};
    const char *tv[] = {"5", "3", "2", "3", "2"};
    for (size_t k = 0; k < 5; k++) {
        char *v = jget(tot, tk[k]);
        ck_assert_msg(!strcmp(v, tv[k]), "total %s = %s, want %s", tk[k], v, tv[k]);
        free(v);
    }
    free(tot);
    ck_assert_msg(strstr(table, "邓襄镇") && strstr(table, "2026-03-30T00:00:00+08:00"), "%s",
                  table);
    /* the area filter: 开发区 has D-1 only */
    char *j2 = REPORT("nodes", "--county", "411171", "--format", "json");
    ck_assert_ptr_nonnull(strstr(j2, "{\"id\": \"D-1\""));
    ck_assert_ptr_null(strstr(j2, "{\"id\": \"A-1\""));
    free(j2);
    csv_free(&cb);
    free(sec), free(json), free(csv), free(table);
}
END_TEST

/* ---- formats and errors ---------------------------------------------------------------------- */

START_TEST(csv_opens_in_excel)
{
    const char *kinds[] = {"summary", "elections", "incidents", "councils", "nodes"};
    for (size_t i = 0; i < 5; i++) {
        HUB("report", kinds[i], "--format", "csv", "--bom", "--as-of", AS_OF);
        ASSERT_OK();
        ck_assert_msg(R.out_len > 3 && !memcmp(R.out, "\xEF\xBB\xBF", 3), "%s: no BOM", kinds[i]);
        for (size_t k = 0; k < R.out_len; k++)
            if (R.out[k] == '\n')
                ck_assert_msg(k > 0 && R.out[k - 1] == '\r', "%s: a bare LF at byte %zu", kinds[i],
                              k);
        HUB("report", kinds[i], "--format", "csv", "--as-of", AS_OF);
        ck_assert_msg(memcmp(R.out, "\xEF\xBB\xBF", 3) != 0, "%s: BOM without --bom", kinds[i]);
        /* --json is the same as --format json; JSON is stable: same bytes twice */
        HUB("report", kinds[i], "--json", "--as-of", AS_OF);
        char *a = strdup(R.out);
        HUB("report", kinds[i], "--format", "json", "--as-of", AS_OF);
        ck_assert_str_eq(a, R.out);
        ck_assert_msg(!strncmp(a, "{\n  \"report\": \"", 15), "%s", a);
        free(a);
    }
}
END_TEST

/* --format xlsx --out FILE: each report's workbook, converted back to CSV by
 * LibreOffice (headless), holds the CSV report's first table cell for cell:
 * numbers as numbers shown as printed, codes keeping every digit. Skipped
 * (with a message) only when soffice is not installed. */
START_TEST(xlsx_opens_in_libreoffice)
{
    gst_result_free(&R);
    const char *which[] = {"sh", "-c", "command -v soffice", NULL};
    gst_run(&R, NULL, which);
    if (R.status != 0) {
        fprintf(stderr, "xlsx_opens_in_libreoffice: SKIPPED, soffice not installed "
                        "(Debian libreoffice-calc-nogui)\n");
        return;
    }
    const char *kinds[] = {"summary", "elections", "incidents", "councils", "nodes"};
    char path[5][PATH_MAX], outdir[PATH_MAX], profile[PATH_MAX + 16];
    snprintf(outdir, sizeof outdir, "%s/csv", tmp);
    snprintf(profile, sizeof profile, "-env:UserInstallation=file://%s/lo", tmp);
    const char *argv[16] = {"soffice", profile, "--headless", "--convert-to",
                            "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", outdir};
    int n = 7;
    for (size_t i = 0; i < 5; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s.xlsx", tmp, kinds[i]);
        HUB("report", kinds[i], "--format", "xlsx", "--out", path[i], "--as-of", AS_OF);
        ASSERT_OK();
        ck_assert_uint_eq(R.out_len, 0);
        argv[n++] = path[i];
    }
    argv[n] = NULL;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_msg(R.status == 0, "soffice: exit %d: %s", R.status, R.err);
    for (size_t i = 0; i < 5; i++) {
        char *csv = REPORT(kinds[i], "--format", "csv");
        /* the first table of the CSV report: under its title when it has several */
        size_t nl;
        char **exp = lines_of(csv, &nl);
        size_t from = 0, to = nl;
        for (size_t k = 0; k < nl; k++)
            if (!exp[k][0]) {
                to = k;
                from = 1; /* a blank line: several tables, each under a title */
                break;
            }
        while (to > from && !exp[to - 1][0])
            to--;
        char got_path[PATH_MAX + 32];
        snprintf(got_path, sizeof got_path, "%s/%s.csv", outdir, kinds[i]);
        size_t len;
        char *text = gst_read_file(got_path, &len);
        ck_assert_msg(text != NULL, "%s: no CSV from soffice", kinds[i]);
        size_t ng;
        char **got = lines_of(text, &ng);
        while (ng > 0 && !got[ng - 1][0])
            ng--;
        ck_assert_msg(ng == to - from, "%s: %zu rows in the workbook, %zu in the CSV", kinds[i], ng,
                      to - from);
        for (size_t k = 0; k < ng; k++)
            ck_assert_msg(!strcmp(got[k], exp[from + k]), "%s row %zu:\n xlsx: %s\n csv:  %s",
                          kinds[i], k, got[k], exp[from + k]);
        free_lines(exp, nl);
        free_lines(got, ng);
        free(text);
        free(csv);
    }
    /* xlsx without --out: one clear line, exit 2 */
    HUB("report", "summary", "--format", "xlsx");
    ck_assert_int_eq(R.status, 2);
    ck_assert_msg(strstr(R.err, "--out") != NULL, "%s", R.err);
}
END_TEST

/* The reports agree: the summary's totals are the other reports' totals. */
START_TEST(reports_agree)
{
    char *s = REPORT("summary", "--format", "json"), *i = REPORT("incidents", "--format", "json"),
         *e = REPORT("elections", "--format", "json"), *c = REPORT("councils", "--format", "json");
    char *ss = json_section(s, "by_area"), *is = json_section(i, "by_area"),
         *es = json_section(e, "elections"), *cs = json_section(c, "by_area");
    char *st = json_row(ss, "code", "411100", true), *it = json_row(is, "code", "411100", true),
         *et = json_row(es, "elections", "7", true), *ct = json_row(cs, "code", "411100", true);
    const char *pairs[][4] = {
        {"incidents_opened", "opened", NULL, NULL},
        {"incidents_closed", "closed", NULL, NULL},
        {"incidents_open", "open", NULL, NULL},
        {"median_days_to_close", "median_days_to_close", NULL, NULL},
        {"registered_voters", NULL, "registered", NULL},
        {"ballots_cast", NULL, "voted", NULL},
        {"turnout_pct", NULL, "turnout_pct", NULL},
        {"seats_unfilled", NULL, "unfilled", NULL},
        {"yijiantiao", NULL, "yijiantiao", NULL},
        {"affairs_total", NULL, NULL, "affairs_total"},
        {"council_coverage_pct", NULL, NULL, "coverage_pct"},
        {"affairs_with_violations", NULL, NULL, "affairs_with_violations"},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        char *a = jget(st, pairs[k][0]);
        const char *other = pairs[k][1] ? it : pairs[k][2] ? et : ct;
        const char *key = pairs[k][1] ? pairs[k][1] : pairs[k][2] ? pairs[k][2] : pairs[k][3];
        char *b = jget(other, key);
        ck_assert_msg(a && b && !strcmp(a, b), "summary %s = %s, other report %s = %s", pairs[k][0],
                      a, key, b);
        free(a), free(b);
    }
    free(st), free(it), free(et), free(ct), free(ss), free(is), free(es), free(cs);
    free(s), free(i), free(e), free(c);
}
END_TEST

/* Bad input: one line on stderr naming what was wrong, exit 2. */
/* clang-format off */
static const char *const bad_args[][6] = {
    {"summary", "--since", "2026-02-30", NULL},
    {"summary", "--until", "2026/02/30", NULL},
    {"summary", "--since", "2026-03-01", "--until", "2026-02-01", NULL},
    {"summary", "--county", "411199", NULL},
    {"summary", "--county", "41110", NULL},
    {"summary", "--township", "411102999", NULL},
    {"summary", "--village", "4111021002", NULL},
    {"summary", "--county", "411102", "--village", VA, NULL},
    {"summary", "--format", "xml", NULL},
    {"summary", "--bom", NULL},
    {"summary", "--findings-only", NULL},
    {"nodes", "--since", "2026-01-01", NULL},
    {"weekly", NULL},
    {"summary", "--county", NULL},
    {"summary", "--color", NULL},
    {"summary", "extra", NULL},
    {"--format", "json", NULL},
};
/* clang-format on */
static const char *const bad_names[] = {
    "2026-02-30", "2026/02/30", "--since", "411199", "41110",           "411102999",
    "4111021002", "--village",  "xml",     "--bom",  "--findings-only", "--since",
    "weekly",     "--county",   "--color", "extra",  "which report",
};

START_TEST(bad_input_one_line_exit_2)
{
    const char *argv[12];
    int n = 0;
    argv[n++] = "gridhub";
    argv[n++] = "--db";
    argv[n++] = db;
    argv[n++] = "report";
    for (int k = 0; bad_args[_i][k]; k++)
        argv[n++] = bad_args[_i][k];
    argv[n] = NULL;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_msg(R.status == 2, "case %d: exit %d, want 2; stderr: %s", _i, R.status, R.err);
    ck_assert_msg(R.err_len > 0 && R.err[R.err_len - 1] == '\n' &&
                      memchr(R.err, '\n', R.err_len - 1) == NULL && !strncmp(R.err, "gridhub: ", 9),
                  "case %d: want one line, got:\n%s", _i, R.err);
    ck_assert_msg(strstr(R.err, bad_names[_i]) != NULL, "case %d: \"%s\" not named in: %s", _i,
                  bad_names[_i], R.err);
    ck_assert_uint_eq(R.out_len, 0);
}
END_TEST

START_TEST(help_and_missing_database)
{
    HUB("report", "--help");
    ASSERT_OK();
    ck_assert_msg(strstr(R.out, "usage: gridhub report") && strstr(R.out, "--findings-only"), "%s",
                  R.out);
    char other[PATH_MAX];
    snprintf(other, sizeof other, "%s/none.db", tmp);
    const char *argv[] = {"gridhub", "--db", other, "report", "summary", NULL};
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_int_ne(R.status, 0);
    ck_assert_msg(strstr(R.err, "none.db") != NULL, "%s", R.err);
}
END_TEST

static Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = gst_tcase(s, "summary", setup, teardown, 300);
    tcase_add_test(tc, summary_city_by_county);
    tcase_add_test(tc, summary_county_by_township);
    tcase_add_test(tc, summary_township_by_village);
    tcase_add_test(tc, summary_village_and_unknown);
    tcase_add_test(tc, summary_period_filters);
    tcase_add_test(tc, summary_period_date_forms);

    tc = gst_tcase(s, "kinds", setup, teardown, 300);
    tcase_add_test(tc, elections_with_findings_and_rules);
    tcase_add_test(tc, elections_findings_only);
    tcase_add_test(tc, incidents_by_area_category_and_stage);
    tcase_add_test(tc, incidents_by_township_in_kaifaqu);
    tcase_add_test(tc, councils_coverage_standards_violations);
    tcase_add_test(tc, nodes_oldest_silence_first);
    tcase_add_test(tc, reports_agree);

    tc = gst_tcase(s, "cli", setup, teardown, 300);
    tcase_add_test(tc, csv_opens_in_excel);
    tcase_add_test(tc, xlsx_opens_in_libreoffice);
    tcase_add_loop_test(tc, bad_input_one_line_exit_2, 0,
                        (int)(sizeof bad_args / sizeof bad_args[0]));
    tcase_add_test(tc, help_and_missing_database);
    return s;
}

int main(void)
{
    _Static_assert(sizeof bad_args / sizeof bad_args[0] == sizeof bad_names / sizeof bad_names[0],
                   "one name per bad case");
    char *top = gst_tmp_top();
    int rc = gst_run_suite(reports_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
