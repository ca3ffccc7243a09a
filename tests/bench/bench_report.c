/*
 * bench_report.c: how long `gridhub report` takes at city scale (issue 7).
 *
 * Builds a hub database the way test_reports.c does (gridhub init, refdata
 * load, then records applied as city changes with gs_replica_apply and
 * appended to the change log with their bodies and chain hashes), at the
 * scale of the brief: 1,000,000 incidents with their status history and
 * 50,000 elections, plus a council in most villages and 50,000 affairs, in
 * synthetic villages under the 58 real townships (24 each, 1,392 villages,
 * each with a registered node; 1% of the records in villages of an unknown
 * township). Then it runs every report kind through the real gridhub binary,
 * whole city and filtered, and prints the wall time of each.
 *
 * usage: bench_report [INCIDENTS [ELECTIONS [DIR]]]
 *   INCIDENTS  default 1000000; ELECTIONS default 50000
 *   DIR        keep the database in DIR/hub.db and reuse it on the next run
 *              (default: a temporary directory, removed at the end)
 *
 * The data is deterministic (a fixed-seed xorshift generator). Generation
 * runs with synchronous=OFF (a benchmark fixture, not a hub); the reports
 * run on the database as gridhub leaves it. Each report runs three times;
 * the best wall time is shown with the CPU time (user + system) of that
 * run, which depends less on what else the machine is doing. The page cache
 * is warm: the database was just written or read. The machine (nproc, CPU)
 * and the load average before and after are printed too.
 */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/record.h"
#include "gridsync/replica.h"
#include "gstest.h"

#define NVILLAGES_PER_TOWNSHIP 24
#define DAY_MS                 86400000LL
#define HOUR_MS                3600000LL

/* ---- small helpers --------------------------------------------------------------------------- */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_report: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* ms as China time: "2025-03-01T09:00:00+08:00" (datetime) or "2025-03-01". */
static void fmt_time(int64_t ms, char *out, size_t cap, bool date_only)
{
    int64_t s = ms / 1000 + 8 * 3600, days = s / 86400, rem = s % 86400, y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (date_only)
        snprintf(out, cap, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
    else
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", (int)y, (int)m, (int)d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static int64_t ms_of_day(int y, int m, int d)
{
    return (days_from_civil(y, m, d) * 86400 - 8 * 3600) * 1000LL;
}

/* Runs gridhub --db DB ARGS...; exits on failure. */
static void hub(const char *db, const char *const *args)
{
    const char *argv[24] = {"gridhub", "--db", db};
    int n = 3;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    gst_result r = {0};
    if (gst_run(&r, NULL, argv) || r.status)
        die(args[0], r.err);
    gst_result_free(&r);
}

/* ---- the generator --------------------------------------------------------------------------- */

typedef struct gen {
    sqlite3 *db;
    gs_replica *rep;
    sqlite3_stmt *ins;
    uint64_t seq, hub_seq;
    uint8_t head[GS_HASH_LEN];
    size_t in_tx;
    char (*villages)[13];
    size_t nvillages;
    uint64_t rng; /* xorshift64* state: the data is the same on every run */
} gen;

static uint64_t rnd(gen *g)
{
    uint64_t x = g->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int64_t rnd_in(gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static void exec(gen *g, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(g->db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg);
}

/* Appends rec (consumed) to the log as the city's next change at ms and applies it. */
static void apply(gen *g, gs_record *rec, int64_t ms)
{
    gs_change c = {0};
    strcpy(c.origin, GS_HUB_ORIGIN);
    c.seq = ++g->seq;
    c.hlc = GS_HLC_MAKE(ms, c.seq & 0xffff);
    c.op = GS_OP_UPSERT;
    c.rec = rec;
    gs_buf body = GS_BUF_INIT;
    gs_change_encode(&c, &body);
    uint8_t hash[GS_HASH_LEN];
    gs_chain_next(g->head, body.data, body.len, hash);
    memcpy(g->head, hash, GS_HASH_LEN);
    sqlite3_stmt *st = g->ins;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)++g->hub_seq);
    sqlite3_bind_text(st, 2, c.origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c.seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c.hlc);
    sqlite3_bind_text(st, 5, rec->rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, gs_record_key(rec), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, gs_record_scope(rec), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, GS_OP_UPSERT);
    sqlite3_bind_blob(st, 9, body.data, (int)body.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 10, hash, GS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        die("appending a change", sqlite3_errmsg(g->db));
    gs_errbuf eb = {{0}};
    if (gs_replica_apply(g->rep, &c, NULL, &eb))
        die("applying a change", eb.msg);
    gs_buf_free(&body);
    gs_record_destroy(&rec);
    if (++g->in_tx == 100000) {
        exec(g, "COMMIT; BEGIN");
        g->in_tx = 0;
    }
}

static gs_record *rec_new(const char *type, const char *id, const char *village)
{
    const gs_rectype *rt = gs_rectype_find(type);
    gs_record *r = gs_record_new(rt);
    gs_record_set_str(r, rt->key, id);
    gs_record_set_str(r, rt->scope, village);
    return r;
}

static void set_s(gs_record *r, const char *field, const char *v)
{
    gs_record_set_str(r, gs_field_find(r->rt, field), v);
}

static void set_i(gs_record *r, const char *field, int64_t v)
{
    gs_record_set_int(r, gs_field_find(r->rt, field), v);
}

/* A village: 99% a synthetic village of a real township, 1% one under a
 * township the division table does not know (the unknown group). */
static const char *pick_village(gen *g, char buf[13])
{
    if (rnd(g) % 100 == 0) {
        snprintf(buf, 13, "411104101%03d", (int)rnd_in(g, 201, 224));
        return buf;
    }
    return g->villages[rnd(g) % g->nvillages];
}

static const char *const categories[] = {"dispute.neighbour",
                                         "dispute.family",
                                         "dispute.land",
                                         "dispute.labour",
                                         "safety.fire",
                                         "safety.gas",
                                         "safety.building",
                                         "safety.traffic",
                                         "safety.flood",
                                         "order",
                                         "livelihood.dibao",
                                         "livelihood.elderly",
                                         "livelihood.disability",
                                         "livelihood.children",
                                         "rescue",
                                         "sanitation",
                                         "urban",
                                         "urban.unmanaged_compound",
                                         "petition",
                                         "epidemic",
                                         "customs",
                                         "publicity"};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

static const char *const full_path[] = {"accepted", "registered", "dispatched", "in_progress",
                                        "feedback", "verified",   "closed"};

/* One incident and its history: 30% closed through the whole workflow
 * (a third of them evaluated), 30% resolved on the spot (accepted ->
 * closed), 5% rejected, 35% still open at some stage. */
static void gen_incident(gen *g, uint64_t i, int64_t from_ms, int64_t to_ms)
{
    char id[32], vbuf[13], when[40];
    snprintf(id, sizeof id, "inc-%08llu", (unsigned long long)i);
    const char *village = pick_village(g, vbuf);
    int64_t t = rnd_in(g, from_ms / 1000, to_ms / 1000) * 1000;
    gs_record *r = rec_new("incident", id, village);
    set_s(r, "category", categories[rnd(g) % NCATEGORIES]);
    set_s(r, "title", "网格事件(基准测试)");
    fmt_time(t, when, sizeof when, false);
    set_s(r, "reported_at", when);
    set_s(r, "status", "reported");
    set_i(r, "severity", rnd_in(g, 1, 4));
    apply(g, r, t);
    int kind = (int)(rnd(g) % 100);
    const char *steps[9];
    int n = 0;
    if (kind < 30) {
        for (int k = 0; k < 7; k++)
            steps[n++] = full_path[k];
        if (rnd(g) % 3 == 0)
            steps[n++] = "evaluated";
    } else if (kind < 60) {
        steps[n++] = "accepted";
        steps[n++] = "closed";
    } else if (kind < 65) {
        steps[n++] = "rejected";
    } else {
        int len = (int)rnd_in(g, 0, 5);
        for (int k = 0; k < len; k++)
            steps[n++] = full_path[k];
    }
    for (int k = 0; k < n; k++) {
        t += rnd_in(g, 1, 72) * HOUR_MS + rnd_in(g, 0, 59) * 60000;
        r = rec_new("incident", id, village);
        set_s(r, "status", steps[k]);
        if (!strcmp(steps[k], "closed")) {
            fmt_time(t, when, sizeof when, false);
            set_s(r, "closed_at", when);
        }
        apply(g, r, t);
    }
}

/* One election with the computed fields set as the rules would. */
static void gen_election(gen *g, uint64_t i)
{
    char id[32], vbuf[13], date[16], text[80];
    snprintf(id, sizeof id, "el-%07llu", (unsigned long long)i);
    const char *village = pick_village(g, vbuf);
    int64_t t = ms_of_day(2021, 1, 1) + rnd_in(g, 0, 5 * 365) * DAY_MS + 10 * HOUR_MS;
    fmt_time(t, date, sizeof date, true);
    int c = (int)(rnd(g) % 10);
    const char *committee = c < 5 ? "village" : c < 8 ? "residents" : "party";
    int64_t R = rnd_in(g, 300, 3000), B = R * rnd_in(g, 45, 100) / 100, inv = rnd_in(g, 0, B / 50);
    int64_t vice = rnd_in(g, 0, 2), member = rnd_in(g, 2, 4), seats = 1 + vice + member;
    gs_record *r = rec_new("election", id, village);
    set_s(r, "committee", committee);
    set_s(r, "election_date", date);
    set_i(r, "registered", R);
    set_i(r, "voted", B);
    set_i(r, "valid", B - inv);
    set_i(r, "invalid", inv);
    set_i(r, "seats_chair", 1);
    set_i(r, "seats_vice", vice);
    set_i(r, "seats_member", member);
    int64_t elected = 0, women = 0, unfilled = seats;
    text[0] = '\0';
    if (2 * B <= R) {
        snprintf(text, sizeof text, "TURNOUT_INVALID;SEATS_UNFILLED");
    } else {
        elected = seats - (rnd(g) % 10 == 0);
        unfilled = seats - elected;
        women = rnd_in(g, 0, 2);
        bool no_woman = women == 0 && strcmp(committee, "party");
        snprintf(text, sizeof text, "%s%s%s", unfilled ? "SEATS_UNFILLED" : "",
                 unfilled && no_woman ? ";" : "", no_woman ? "NO_WOMAN" : "");
    }
    set_s(r, "findings", text);
    set_i(r, "elected", elected);
    set_i(r, "women_elected", women);
    set_i(r, "unfilled", unfilled);
    set_i(r, "yijiantiao", elected && rnd(g) % 2);
    apply(g, r, t);
}

static void gen_council(gen *g, const char *village, uint64_t i)
{
    char id[32];
    snprintf(id, sizeof id, "co-%05llu", (unsigned long long)i);
    gs_record *r = rec_new("council", id, village);
    set_s(r, "name", "红白理事会(基准测试)");
    set_i(r, "max_tables", rnd_in(g, 6, 20));
    set_i(r, "max_cost_per_table", rnd_in(g, 300, 600));
    set_i(r, "max_gift", rnd_in(g, 100, 200));
    set_i(r, "max_cars", rnd_in(g, 6, 10));
    set_i(r, "max_funeral_days", rnd_in(g, 1, 5));
    set_i(r, "max_bride_price", rnd_in(g, 3, 5) * 10000);
    set_i(r, "cremation_required", rnd(g) % 4 != 0);
    apply(g, r, ms_of_day(2021, 6, 1));
}

static void gen_affair(gen *g, uint64_t i)
{
    static const char *const kinds[] = {"wedding", "funeral", "other"};
    static const char *const viol[] = {"AFFAIR_TABLES",
                                       "AFFAIR_COST",
                                       "AFFAIR_CARS",
                                       "AFFAIR_DAYS",
                                       "AFFAIR_TABLES;AFFAIR_CARS",
                                       "AFFAIR_DAYS;AFFAIR_CREMATION"};
    char id[32], vbuf[13], date[16];
    snprintf(id, sizeof id, "af-%07llu", (unsigned long long)i);
    const char *village = pick_village(g, vbuf);
    int64_t t = ms_of_day(2023, 1, 1) + rnd_in(g, 0, 3 * 365) * DAY_MS;
    fmt_time(t, date, sizeof date, true);
    gs_record *r = rec_new("affair", id, village);
    set_s(r, "kind", kinds[rnd(g) % 3]);
    set_s(r, "host", "某户");
    set_s(r, "event_date", date);
    set_i(r, "tables", rnd_in(g, 3, 25));
    set_s(r, "violations", rnd(g) % 100 < 15 ? viol[rnd(g) % 6] : "");
    apply(g, r, t);
}

/* Builds the database at db (which gridhub init has created). */
static void generate(const char *dir, const char *db, long long n_inc, long long n_el)
{
    const char *init[] = {"init", NULL};
    hub(db, init);
    const char *divs[] = {"refdata", "load", "divisions",
                          GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL};
    hub(db, divs);
    const char *cats[] = {"refdata", "load", "categories",
                          GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL};
    hub(db, cats);

    gen g = {0};
    g.rng = 0x9E3779B97F4A7C15ULL;
    if (sqlite3_open_v2(db, &g.db, SQLITE_OPEN_READWRITE, NULL))
        die(db, sqlite3_errmsg(g.db));
    /* synthetic villages: 24 under each real township, as division rows */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(g.db,
                           "SELECT code FROM divisions WHERE level = 'township' ORDER BY code", -1,
                           &st, NULL))
        die("divisions", sqlite3_errmsg(g.db));
    size_t cap = 64;
    g.villages = malloc(cap * NVILLAGES_PER_TOWNSHIP * sizeof *g.villages);
    gs_buf csv = GS_BUF_INIT;
    gs_buf_puts(&csv, "code,name,level,parent_code,synthetic\n");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        for (int v = 0; v < NVILLAGES_PER_TOWNSHIP; v++) {
            if (g.nvillages == cap * NVILLAGES_PER_TOWNSHIP)
                die("villages", "more than 64 townships");
            snprintf(g.villages[g.nvillages], 13, "%s%03d", t, 201 + v);
            gs_buf_printf(&csv, "%s,合成村%s,village,%s,1\n", g.villages[g.nvillages],
                          g.villages[g.nvillages] + 9, t);
            g.nvillages++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(g.db);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/villages.csv", dir);
    if (gst_write_file(path, csv.data, csv.len))
        die(path, "cannot write");
    gs_buf_free(&csv);
    const char *vill[] = {"refdata", "load", "divisions", path, NULL};
    hub(db, vill);

    if (sqlite3_open_v2(db, &g.db, SQLITE_OPEN_READWRITE, NULL))
        die(db, sqlite3_errmsg(g.db));
    exec(&g, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144");
    gs_errbuf eb = {{0}};
    if (gs_replica_open(&g.rep, g.db, &eb))
        die("replica", eb.msg);
    if (sqlite3_prepare_v2(g.db,
                           "SELECT seq, hash FROM changes WHERE origin = 'hub' ORDER BY seq "
                           "DESC LIMIT 1",
                           -1, &st, NULL))
        die("changes", sqlite3_errmsg(g.db));
    if (sqlite3_step(st) == SQLITE_ROW) {
        g.seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(g.head, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(g.db, "SELECT max(hub_seq) FROM changes", -1, &st, NULL) ||
        sqlite3_step(st) != SQLITE_ROW)
        die("changes", sqlite3_errmsg(g.db));
    g.hub_seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v3(g.db,
                           "INSERT INTO changes (hub_seq, origin, seq, hlc, rtype, rid, scope, op, "
                           "body, hash, received_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                           -1, SQLITE_PREPARE_PERSISTENT, &g.ins, NULL))
        die("changes", sqlite3_errmsg(g.db));
    exec(&g, "BEGIN");

    /* a node per village, seen over the last 30 days (some never) */
    int64_t as_of = ms_of_day(2026, 4, 1);
    if (sqlite3_prepare_v2(g.db,
                           "INSERT INTO nodes (id, village, name, public_key, enabled, created_ms, "
                           "last_seen_ms, software, pending, skew_ms, acked_through) VALUES "
                           "(?1, ?2, ?3, ?4, 1, 0, ?5, '0.1.0', ?6, ?7, ?8)",
                           -1, &st, NULL))
        die("nodes", sqlite3_errmsg(g.db));
    for (size_t v = 0; v < g.nvillages; v++) {
        char id[32], key[48];
        snprintf(id, sizeof id, "%s-1", g.villages[v]);
        snprintf(key, sizeof key, "bench-key-%06zu", v);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, g.villages[v], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "基准节点", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, rnd(&g) % 20 ? as_of - rnd_in(&g, 0, 30 * 24) * HOUR_MS : 0);
        sqlite3_bind_int64(st, 6, rnd_in(&g, 0, 50));
        sqlite3_bind_int64(st, 7, rnd_in(&g, -120000, 120000));
        sqlite3_bind_int64(st, 8, rnd_in(&g, 0, 5000));
        if (sqlite3_step(st) != SQLITE_DONE)
            die("nodes", sqlite3_errmsg(g.db));
    }
    sqlite3_finalize(st);

    double t0 = now_s();
    for (size_t v = 0; v < g.nvillages; v++)
        if (rnd(&g) % 10)
            gen_council(&g, g.villages[v], v);
    int64_t from = ms_of_day(2024, 1, 1), to = ms_of_day(2026, 3, 31);
    for (long long i = 0; i < n_inc; i++) {
        gen_incident(&g, (uint64_t)i, from, to);
        if ((i + 1) % 100000 == 0)
            fprintf(stderr, "  %lld incidents (%.0f s)\n", i + 1, now_s() - t0);
    }
    for (long long i = 0; i < n_el; i++)
        gen_election(&g, (uint64_t)i);
    for (long long i = 0; i < 50000; i++)
        gen_affair(&g, (uint64_t)i);
    exec(&g, "COMMIT");
    fprintf(stderr, "generated %llu changes in %.0f s\n", (unsigned long long)g.hub_seq,
            now_s() - t0);
    sqlite3_finalize(g.ins);
    gs_replica_destroy(&g.rep);
    free(g.villages);
    exec(&g, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(g.db);
}

/* ---- timing ---------------------------------------------------------------------------------- */

/* Runs one report; returns its wall time and sets *cpu to its CPU time
 * (user + system of the gridhub process). */
static double time_report(const char *db, const char *const *args, size_t *out_bytes, double *cpu)
{
    const char *argv[24] = {"gridhub", "--db", db, "report"};
    int n = 4;
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n++] = "--as-of";
    argv[n++] = "2026-03-31";
    argv[n] = NULL;
    gst_result r = {0};
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    double t0 = now_s();
    if (gst_run(&r, NULL, argv) || r.status)
        die(args[0], r.err);
    double t = now_s() - t0;
    getrusage(RUSAGE_CHILDREN, &after);
    *cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
           (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
           (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
           (double)(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
    *out_bytes = r.out_len;
    gst_result_free(&r);
    return t;
}

static void print_machine(const char *when)
{
    char load[64] = "?", model[128] = "?", line[256];
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = '\0';
        fclose(f);
    }
    if ((f = fopen("/proc/cpuinfo", "r"))) {
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        fclose(f);
    }
    printf("%s: nproc %ld, CPU %s, load average %s\n", when, sysconf(_SC_NPROCESSORS_ONLN), model,
           load);
}

static long long count(const char *db, const char *sql)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(d);
    return n;
}

int main(int argc, char **argv)
{
    long long n_inc = argc > 1 ? atoll(argv[1]) : 1000000;
    long long n_el = argc > 2 ? atoll(argv[2]) : 50000;
    char dir[PATH_MAX], db[PATH_MAX + 16];
    bool keep = argc > 3;
    if (keep)
        snprintf(dir, sizeof dir, "%s", argv[3]);
    else {
        snprintf(dir, sizeof dir, "%s/bench-report-XXXXXX",
                 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
            die(dir, "cannot create");
    }
    snprintf(db, sizeof db, "%s/hub.db", dir);
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "generating %lld incidents, %lld elections in %s ...\n", n_inc, n_el, db);
        generate(dir, db, n_inc, n_el);
    } else
        fprintf(stderr, "reusing %s\n", db);

    printf("database: %lld incidents, %lld elections, %lld affairs, %lld councils, %lld nodes, "
           "%lld changes\n",
           count(db, "SELECT count(*) FROM incidents"), count(db, "SELECT count(*) FROM elections"),
           count(db, "SELECT count(*) FROM affairs"), count(db, "SELECT count(*) FROM councils"),
           count(db, "SELECT count(*) FROM nodes"), count(db, "SELECT count(*) FROM changes"));
    static const char *const runs[][8] = {
        {"summary", "--format", "json", NULL},
        {"summary", NULL},
        {"summary", "--county", "411122", "--format", "json", NULL},
        {"summary", "--township", "411122101", "--format", "json", NULL},
        {"summary", "--since", "2026-01-01", "--until", "2026-03-31", "--format", "json", NULL},
        {"elections", "--format", "json", NULL},
        {"elections", "--findings-only", "--format", "csv", NULL},
        {"incidents", "--format", "json", NULL},
        {"incidents", "--county", "411122", "--format", "json", NULL},
        {"incidents", "--township", "411122101", "--format", "json", NULL},
        {"councils", "--format", "json", NULL},
        {"nodes", "--format", "json", NULL},
    };
    print_machine("before");
    printf("%-66s %8s %8s %10s\n", "gridhub report ... --as-of 2026-03-31", "wall s", "cpu s",
           "output");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char line[160] = "";
        for (int k = 0; runs[i][k]; k++) {
            strcat(line, runs[i][k]);
            strcat(line, " ");
        }
        size_t bytes = 0;
        double best = 1e9, best_cpu = 0;
        for (int rep = 0; rep < 3; rep++) { /* best of three */
            double cpu, t = time_report(db, runs[i], &bytes, &cpu);
            if (t < best)
                best = t, best_cpu = cpu;
        }
        printf("%-66s %8.2f %8.2f %9zuB\n", line, best, best_cpu, bytes);
        fflush(stdout);
    }
    print_machine("after");
    if (!keep)
        gst_rmrf(dir);
    return 0;
}
