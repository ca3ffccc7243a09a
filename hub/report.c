/*
 * report.c: `gridhub report`: the city's figures from the synced data, per
 * county, township and village (issue 7; docs/reports.md is the user's guide
 * and the reference of every column and JSON key).
 *
 * Role: read the entity tables, the node registry, the quarantine and the
 * change log of the hub database and print five reports (summary,
 * elections, incidents, councils, nodes) as an aligned terminal table, CSV
 * for Excel, JSON with a fixed key order, or an XLSX workbook (--out).
 *
 * This file holds the options, the query helpers, the output and the entry
 * point; each report is a file of its own (report_<kind>.c: its sheet
 * definitions and its queries), the areas and the villages they divide by
 * are in report_area.c (the map of the files: report_int.h).
 *
 * How the figures are made: SQL aggregates the small tables per village
 * (GROUP BY village_code) and works out each incident's figures in one
 * straight pass over the incidents; C rolls each village's figures up into
 * exactly one display row (a county, a township or a village, depending on
 * --county/--township/--village) and into the total, through the division
 * table: a village's township is its first 9 digits, the township's county
 * is the township's parent_code in `divisions` (so 邓襄镇 411171102 belongs
 * to 开发区 411171 whatever its digits say). A village whose township is not
 * a known township, or whose township's county is not a known county,
 * belongs to the "未知区划 unknown" group; nothing is dropped. Every
 * per-village rate divides by the villages of the area (villages_load): the
 * village rows of the division table, the city's list, and every other
 * village there with a node or data, each in its own row.
 *
 * Invariants:
 *   - Read-only: nothing here writes the database.
 *   - Each village contributes to one row and to the total, and nothing else
 *     feeds the total, so every count in a total row is the sum of the rows
 *     above it. Percentages and medians are not summed: they are recomputed
 *     from the pooled parts (sums of ballots and voters, the merged
 *     histogram of day counts).
 *   - Integer arithmetic for every percentage and median: one decimal,
 *     rounded half up; a median of an even count is the mean of the two
 *     middle values (so it ends in .0 or .5 for day counts).
 *   - One output model, the core's sheet model (gridsync/sheet.h), is
 *     rendered to every format, so they always carry the same numbers.
 *   - Bad input (option, date, code) gets one line on stderr naming it and
 *     exit status 2; a database error exit status 1. No global state.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/buf.h"
#include "gridsync/bundle.h"
#include "gridsync/hlc.h"
#include "gridsync/record.h"
#include "gridsync/rules.h"
#include "gridsync/sheet.h"
#include "report.h"
#include "report_int.h"

static const char usage_text[] =
    "usage: gridhub report KIND [--county CODE|--township CODE|--village CODE]\n"
    "                      [--since DATE] [--until DATE] [--as-of DATE]\n"
    "                      [--format table|csv|json|xlsx] [--out FILE] [--bom]\n"
    "                      [--findings-only]\n"
    "\n"
    "KIND\n"
    "  summary     per county (or township, or village) and the total: the villages the\n"
    "              city expects, with a node and reporting, committee elections held,\n"
    "              turnout, incidents, red-white councils (every rate over those villages)\n"
    "  elections   one row per election, with every legal finding and the rule it comes from\n"
    "  incidents   by area with the ageing of open incidents, category x status, and the\n"
    "              median time spent in each stage of the workflow\n"
    "  councils    coverage, each council's standards, affairs, violations by rule\n"
    "  nodes       every registered node's sync health, oldest silence first; the villages\n"
    "              with no node yet (未开通), never synced, silent over 30 and over 7 days\n"
    "\n"
    "  --county CODE     rows per township of the county (6 digits, or \"unknown\" for the\n"
    "                    villages whose township or county is not in the division table)\n"
    "  --township CODE   rows per village of the township (9 digits)\n"
    "  --village CODE    one village (12 digits)\n"
    "  --since, --until  YYYY-MM-DD, inclusive: incidents by reported_at, elections by\n"
    "                    election_date, affairs by event_date\n"
    "  --as-of DATE      count ages, 7-day reporting and silence at the end of DATE (China\n"
    "                    time) instead of now\n"
    "  --format F        table (default), csv (CRLF, for Excel; --bom writes a UTF-8 BOM\n"
    "                    first), json (the same as --json) or xlsx (a workbook, a worksheet\n"
    "                    per table; needs --out)\n"
    "  --out FILE        where --format xlsx writes the workbook\n"
    "  --findings-only   elections: only the elections with findings\n"
    "\n"
    "The villages of an area: its village rows in the division table (gridhub refdata load\n"
    "divisions data/luohe_villages.csv) and any other village there with a node or data.\n"
    "Every total is the sum of its rows. Columns and JSON keys: docs/reports.md.\n";

/* ---- errors ---------------------------------------------------------------------------------- */

int rpt_say(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gridhub: report: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int rpt_db_error(sqlite3 *db)
{
    return rpt_say(1, "database: %s", sqlite3_errmsg(db));
}

int rpt_oom(void)
{
    return rpt_say(1, "out of memory");
}

/* ---- options --------------------------------------------------------------------------------- */

static int set_area(ropts *o, area_level lv, const char *opt_name, const char *v)
{
    if (o->area_opt)
        return rpt_say(2, "%s and %s: give at most one of --county, --township, --village", o->area_opt,
                   opt_name);
    size_t want = lv == LV_COUNTY ? 6 : lv == LV_TOWNSHIP ? 9 : 12;
    bool ok = strlen(v) == want && strspn(v, "0123456789") == want;
    if (lv == LV_COUNTY && !strcmp(v, UNKNOWN))
        ok = true;
    if (!ok)
        return rpt_say(2, "%s \"%s\": expected a %zu-digit division code%s", opt_name, v, want,
                   lv == LV_COUNTY ? " (or \"unknown\")" : "");
    o->level = lv;
    o->area_opt = opt_name;
    snprintf(o->area, sizeof o->area, "%s", v);
    return 0;
}

static int set_date(const char *opt_name, const char *v, char out[11], int64_t *days)
{
    if (!gs_date_days(v, days))
        return rpt_say(2, "%s \"%s\": expected a date YYYY-MM-DD", opt_name, v);
    snprintf(out, 11, "%s", v);
    return 0;
}

/* Parses the command line; 0, or the exit status of an error already printed. */
static int parse_args(int argc, char **argv, bool json, ropts *o)
{
    memset(o, 0, sizeof *o);
    o->format = json ? FMT_JSON : FMT_TABLE;
    const char *format = NULL;
    int64_t since_d = 0, until_d = 0, asof_d = 0;
    bool has_asof = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        static const char *const with_value[] = {"--county", "--township", "--village", "--since",
                                                 "--until",  "--format",   "--as-of",   "--out",
                                                 NULL};
        bool takes = false;
        for (int k = 0; with_value[k]; k++)
            takes |= !strcmp(a, with_value[k]);
        if (takes && i + 1 >= argc)
            return rpt_say(2, "%s needs a value", a);
        const char *v = takes ? argv[++i] : NULL;
        int rc = 0;
        if (!strcmp(a, "--county"))
            rc = set_area(o, LV_COUNTY, a, v);
        else if (!strcmp(a, "--township"))
            rc = set_area(o, LV_TOWNSHIP, a, v);
        else if (!strcmp(a, "--village"))
            rc = set_area(o, LV_VILLAGE, a, v);
        else if (!strcmp(a, "--since"))
            rc = set_date(a, v, o->since, &since_d);
        else if (!strcmp(a, "--until"))
            rc = set_date(a, v, o->until, &until_d);
        else if (!strcmp(a, "--as-of")) {
            char tmp[11];
            rc = set_date(a, v, tmp, &asof_d);
            has_asof = true;
        } else if (!strcmp(a, "--format"))
            format = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--bom"))
            o->bom = true;
        else if (!strcmp(a, "--findings-only"))
            o->findings_only = true;
        else if (a[0] == '-')
            return rpt_say(2, "unknown option %s (see gridhub report --help)", a);
        else if (!o->kind)
            o->kind = a;
        else
            return rpt_say(2, "unexpected argument \"%s\"", a);
        if (rc)
            return rc;
    }
    if (!o->kind)
        return rpt_say(2, "which report? summary, elections, incidents, councils or nodes");
    if (format) {
        out_format f = !strcmp(format, "table")  ? FMT_TABLE
                       : !strcmp(format, "csv")  ? FMT_CSV
                       : !strcmp(format, "json") ? FMT_JSON
                       : !strcmp(format, "xlsx") ? FMT_XLSX
                                                 : (out_format)-1;
        if ((int)f < 0)
            return rpt_say(2, "--format \"%s\": expected table, csv, json or xlsx", format);
        if (json && f != FMT_JSON)
            return rpt_say(2, "--json and --format %s contradict each other", format);
        o->format = f;
    }
    if (o->format == FMT_XLSX && !o->out)
        return rpt_say(2, "--format xlsx writes a file: give it with --out FILE.xlsx");
    if (o->out && o->format != FMT_XLSX)
        return rpt_say(2, "--out %s: only --format xlsx writes to a file (the others print)",
                       o->out);
    if (o->bom && o->format != FMT_CSV)
        return rpt_say(2, "--bom applies to --format csv only");
    if (o->since[0] && o->until[0] && since_d > until_d)
        return rpt_say(2, "--since %s is after --until %s", o->since, o->until);
    if (o->until[0])
        gs_date_from_days(until_d + 1, o->until_next);
    o->as_of_ms = has_asof ? (asof_d + 1) * DAY_MS - CST_MS : (int64_t)gs_wall_ms();
    rpt_datetime(o->as_of_ms, o->as_of);
    return 0;
}

/* The instant ms as China time, "2026-04-01T00:00:00+08:00". */
void rpt_datetime(int64_t ms, char out[CST_TEXT_MAX])
{
    gs_buf b = GS_BUF_INIT;
    gs_datetime_from_ms(ms, &b);
    snprintf(out, CST_TEXT_MAX, "%s", b.err ? "" : b.data);
    gs_buf_free(&b);
}

/* ---- the report context ---------------------------------------------------------------------- */


/* The display name of a division code: its name in the table, else the code. */
const char *rpt_name_of(const ctx *c, const char *code)
{
    const division *d = rpt_div_find(&c->div, code);
    return d && d->name[0] ? d->name : code;
}

/* Appends " AND <col is in the selected area>" to a query. The same rule as
 * rpt_area_of() below, in SQL, so that the scan can use the village indexes. */
void rpt_where_area(gs_buf *q, const ctx *c, const char *col)
{
    switch (c->o.level) {
    case LV_CITY:
        break;
    case LV_COUNTY:
        if (!strcmp(c->o.area, UNKNOWN))
            gs_buf_printf(q,
                          " AND substr(%s, 1, 9) NOT IN (SELECT t.code FROM divisions t JOIN "
                          "divisions k ON k.code = t.parent_code WHERE t._deleted = 0 AND "
                          "k._deleted = 0 AND t.level = 'township' AND k.level = 'county')",
                          col);
        else
            gs_buf_printf(q,
                          " AND substr(%s, 1, 9) IN (SELECT code FROM divisions WHERE "
                          "_deleted = 0 AND level = 'township' AND parent_code = :area)",
                          col);
        break;
    case LV_TOWNSHIP:
        gs_buf_printf(q, " AND %s BETWEEN :lo AND :hi", col);
        break;
    case LV_VILLAGE:
        gs_buf_printf(q, " AND %s = :area", col);
        break;
    }
}

/* Appends the --since/--until conditions on a date or China-time datetime
 * column (both compare as text: "2026-03-01" <= "2026-03-01T09:00:00+08:00"). */
void rpt_where_dates(gs_buf *q, const ctx *c, const char *col)
{
    if (c->o.since[0])
        gs_buf_printf(q, " AND %s >= :since", col);
    if (c->o.until[0])
        gs_buf_printf(q, " AND %s < :until_next", col);
}

/* Binds the named parameters a statement uses. */
static void bind_common(sqlite3_stmt *st, const ctx *c)
{
    char lo[16], hi[16];
    snprintf(lo, sizeof lo, "%.9s000", c->o.area);
    snprintf(hi, sizeof hi, "%.9s999", c->o.area);
    struct {
        const char *name, *text;
    } texts[] = {{":area", c->o.area},
                 {":lo", lo},
                 {":hi", hi},
                 {":since", c->o.since},
                 {":until_next", c->o.until_next}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int k = sqlite3_bind_parameter_index(st, texts[i].name);
        if (k)
            sqlite3_bind_text(st, k, texts[i].text, -1, SQLITE_TRANSIENT);
    }
    int k;
    if ((k = sqlite3_bind_parameter_index(st, ":asof_day"))) {
        /* the China date of the last moment before as-of: a deadline of
         * that day has not passed yet */
        char day[11];
        gs_date_from_days(gs_floor_div(c->o.as_of_ms - 1 + CST_MS, DAY_MS), day);
        sqlite3_bind_text(st, k, day, -1, SQLITE_TRANSIENT);
    }
    if ((k = sqlite3_bind_parameter_index(st, ":asof_s")))
        sqlite3_bind_int64(st, k, gs_floor_div(c->o.as_of_ms, 1000));
    if ((k = sqlite3_bind_parameter_index(st, ":asof_ms")))
        sqlite3_bind_int64(st, k, c->o.as_of_ms);
    if ((k = sqlite3_bind_parameter_index(st, ":rep_from")))
        sqlite3_bind_int64(st, k, c->o.as_of_ms - 7 * DAY_MS);
}

/* How a query starts its WHERE: a whole-city or whole-county one reads the
 * table straight through (NOT INDEXED). Through the village_code index it
 * would fetch every row by its primary key in village order, a random read
 * per row, many times slower on a table bigger than the page cache. The
 * unary + on _deleted keeps SQLite 3.40 from scanning instead an index
 * that holds every column the WHERE tests and fetching each row from
 * there, which NOT INDEXED alone does not prevent (with an index of
 * (..., reported_at, ..., _deleted, village_code) a county's year took
 * 1.4 s instead of 0.18 s). A township or village is a narrow range of the
 * village index, which is then the right way in. */
const char *rpt_scan_where(const ctx *c)
{
    return c->o.level == LV_CITY || c->o.level == LV_COUNTY ? " NOT INDEXED WHERE +_deleted = 0"
                                                            : " WHERE _deleted = 0";
}

/* Runs the query in q (freed), calling fn for each row; 0 or an exit status. */
int rpt_query(const ctx *c, gs_buf *q, row_fn fn, void *arg)
{
    if (q->err) {
        gs_buf_free(q);
        return rpt_oom();
    }
    sqlite3_stmt *st;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db, q->data, -1, &st, NULL)) {
        rc = rpt_db_error(c->db);
        gs_buf_free(q);
        return rc;
    }
    gs_buf_free(q);
    bind_common(st, c);
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(st, arg);
    if (!rc && step != SQLITE_DONE)
        rc = rpt_db_error(c->db);
    sqlite3_finalize(st);
    return rc;
}

const char *rpt_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- rendering ------------------------------------------------------------------------------- */

static const char *scope_text(const ctx *c, char *buf, size_t cap)
{
    switch (c->o.level) {
    case LV_CITY:
        snprintf(buf, cap, "全市 city");
        break;
    case LV_COUNTY:
        snprintf(buf, cap, "%s %s", c->o.area,
                 !strcmp(c->o.area, UNKNOWN) ? UNKNOWN_NAME : rpt_name_of(c, c->o.area));
        break;
    default:
        snprintf(buf, cap, "%s %s", c->o.area, rpt_name_of(c, c->o.area));
        break;
    }
    return buf;
}

/* The first line of the terminal form: the report, as-of, scope, period. */
static void heading(const ctx *c, const char *title, gs_doc *rp)
{
    const ropts *o = &c->o;
    char scope[160];
    gs_buf h = GS_BUF_INIT;
    gs_buf_printf(&h, "%s · 截至 as of %s · 范围 %s", title, o->as_of,
                  scope_text(c, scope, sizeof scope));
    if (o->since[0] || o->until[0])
        gs_buf_printf(&h, " · 期间 %s ~ %s", o->since[0] ? o->since : "…",
                      o->until[0] ? o->until : "…");
    if (o->findings_only)
        gs_buf_puts(&h, " · 仅有审查结果 findings only");
    gs_doc_set_heading(rp, h.err ? "" : h.data);
    gs_buf_free(&h);
}

/* The leading keys of the JSON form: the report, as-of and the filter. */
static int json_meta(const ctx *c, gs_doc *rp)
{
    const ropts *o = &c->o;
    json_t *m = gs_doc_meta(rp), *f = json_object();
    const char *keys[] = {"county", "township", "village", "since", "until"};
    const char *vals[] = {o->level == LV_COUNTY ? o->area : NULL,
                          o->level == LV_TOWNSHIP ? o->area : NULL,
                          o->level == LV_VILLAGE ? o->area : NULL, o->since, o->until};
    int bad = !f;
    for (size_t i = 0; f && i < NCOLS(keys); i++)
        bad |= json_object_set_new(f, keys[i],
                                   vals[i] && *vals[i] ? json_string(vals[i]) : json_null());
    bad |= f && json_object_set_new(f, "findings_only", json_boolean(o->findings_only));
    bad |= json_object_set_new(m, "report", json_string(o->kind));
    bad |= json_object_set_new(m, "as_of", json_string(o->as_of));
    bad |= json_object_set_new(m, "filter", f);
    return bad ? rpt_oom() : 0;
}

/* Writes the report in the chosen format: to stdout, or the XLSX to --out. */
static int render(const ctx *c, const char *title, gs_doc *rp)
{
    const ropts *o = &c->o;
    if (gs_doc_failed(rp))
        return rpt_oom();
    if (o->format == FMT_XLSX) {
        gs_errbuf eb = {{0}};
        return gs_doc_xlsx(rp, o->out, &eb) ? rpt_say(1, "writing %s", eb.msg) : 0;
    }
    if (o->format == FMT_TABLE) {
        heading(c, title, rp);
        gs_doc_print(rp, stdout);
        return fflush(stdout) ? rpt_say(1, "writing the report: output error") : 0;
    }
    gs_buf b = GS_BUF_INIT;
    int rc = 0;
    if (o->format == FMT_JSON) {
        if (!(rc = json_meta(c, rp)) && gs_doc_json(rp, &b))
            rc = rpt_oom();
    } else {
        gs_doc_csv(rp, o->bom, &b);
    }
    if (!rc && b.err)
        rc = rpt_oom();
    if (!rc && b.len)
        fwrite(b.data, 1, b.len, stdout);
    gs_buf_free(&b);
    if (rc)
        return rc;
    return fflush(stdout) ? rpt_say(1, "writing the report: output error") : 0;
}

/* ---- entry point ----------------------------------------------------------------------------- */

/* The reports: each a function in its own file that adds its sheets to a
 * document (report_<name>.c). */
typedef struct kind {
    const char *name;
    const char *title; /* the terminal heading's */
    int (*run)(const ctx *, gs_doc *);
    bool dates; /* --since/--until apply */
} kind;

static const kind kinds[] = {
    {"summary", "网格治理数据汇总 summary", rpt_summary, true},
    {"elections", "换届选举 elections", rpt_elections, true},
    {"incidents", "网格事件 incidents", rpt_incidents, true},
    {"councils", "红白理事会 councils", rpt_councils, true},
    {"nodes", "节点同步状况 nodes", rpt_nodes, false},
};

/* Checks the area code against the division table (the syntax was checked
 * while parsing): a county or township must be a known one. 0, or 2 with
 * the message in eb. */
static int check_area(const ctx *c, gs_errbuf *eb)
{
    const ropts *o = &c->o;
    if (o->level == LV_COUNTY && strcmp(o->area, UNKNOWN) && !rpt_div_level(&c->div, o->area, "county"))
        return gs_errf(eb, GS_EINVAL,
                       "--county %s: not a county in the division table (gridhub refdata load "
                       "divisions FILE loads it)",
                       o->area), 2;
    if (o->level == LV_TOWNSHIP && !rpt_div_level(&c->div, o->area, "township"))
        return gs_errf(eb, GS_EINVAL,
                       "--township %s: not a township in the division table (gridhub refdata "
                       "load divisions FILE loads it)",
                       o->area), 2;
    if (o->level == LV_VILLAGE && !gs_village_code_valid(o->area))
        return gs_errf(eb, GS_EINVAL, "--village %s: expected a 12-digit village code", o->area), 2;
    return 0;
}

static const kind *kind_named(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* Runs report k into a new document *out, with c's division table loaded
 * (the caller frees it, and the document): 0, 2 for a bad area (message in
 * eb), 1 for a database error (printed). */
static int run_report(ctx *c, const kind *k, gs_doc **out, gs_errbuf *eb)
{
    *out = NULL;
    int rc = rpt_divmap_load(c->db, &c->div);
    if (!rc)
        rc = check_area(c, eb);
    if (rc)
        return rc;
    /* A small page cache: the reports read the big tables straight
     * through once, and every page a cache grows by is fresh memory. It
     * also bounds what a sort (GROUP BY) holds in memory before it spills
     * to a temporary file. */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d",
             c->o.cache_kib > 0 ? c->o.cache_kib : 16384);
    sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
    /* one read transaction: every figure comes from the same snapshot */
    sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
    gs_doc *rp = gs_doc_new();
    rc = rp ? k->run(c, rp) : rpt_oom();
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    if (!rc && gs_doc_failed(rp))
        rc = rpt_oom();
    if (rc)
        gs_doc_destroy(&rp);
    *out = rp;
    return rc;
}

int hub_report_doc(sqlite3 *db, const hub_report_req *rq, gs_doc **out, gs_errbuf *eb)
{
    *out = NULL;
    ctx c;
    memset(&c, 0, sizeof c);
    c.db = db;
    ropts *o = &c.o;
    const kind *k = rq->kind ? kind_named(rq->kind) : NULL;
    if (!k)
        return gs_errf(eb, GS_EINVAL, "unknown report \"%s\": summary, elections, incidents, "
                                      "councils or nodes",
                       rq->kind ? rq->kind : "");
    o->kind = k->name;
    const struct {
        const char *v;
        area_level lv;
        size_t len;
        const char *opt;
    } areas_given[] = {{rq->county, LV_COUNTY, 6, "county"},
                       {rq->township, LV_TOWNSHIP, 9, "township"},
                       {rq->village, LV_VILLAGE, 12, "village"}};
    for (size_t i = 0; i < NCOLS(areas_given); i++) {
        const char *v = areas_given[i].v;
        if (!v || !*v)
            continue;
        if (o->area_opt)
            return gs_errf(eb, GS_EINVAL, "give at most one of county, township, village");
        if (strlen(v) != areas_given[i].len || strspn(v, "0123456789") != areas_given[i].len)
            return gs_errf(eb, GS_EINVAL, "%s \"%s\": expected a %zu-digit division code",
                           areas_given[i].opt, v, areas_given[i].len);
        o->level = areas_given[i].lv;
        o->area_opt = areas_given[i].opt;
        snprintf(o->area, sizeof o->area, "%s", v);
    }
    int64_t since_d = 0, until_d = 0, asof_d = 0;
    if (rq->since && *rq->since) {
        if (!gs_date_days(rq->since, &since_d))
            return gs_errf(eb, GS_EINVAL, "since \"%s\": expected a date YYYY-MM-DD", rq->since);
        snprintf(o->since, sizeof o->since, "%s", rq->since);
    }
    if (rq->until && *rq->until) {
        if (!gs_date_days(rq->until, &until_d))
            return gs_errf(eb, GS_EINVAL, "until \"%s\": expected a date YYYY-MM-DD", rq->until);
        snprintf(o->until, sizeof o->until, "%s", rq->until);
        gs_date_from_days(until_d + 1, o->until_next);
    }
    if (o->since[0] && o->until[0] && since_d > until_d)
        return gs_errf(eb, GS_EINVAL, "since %s is after until %s", o->since, o->until);
    if (!k->dates && (o->since[0] || o->until[0]))
        return gs_errf(eb, GS_EINVAL, "the dates do not apply to the %s report", k->name);
    if (rq->as_of && *rq->as_of && !gs_date_days(rq->as_of, &asof_d))
        return gs_errf(eb, GS_EINVAL, "as_of \"%s\": expected a date YYYY-MM-DD", rq->as_of);
    o->as_of_ms = rq->as_of && *rq->as_of ? (asof_d + 1) * DAY_MS - CST_MS : (int64_t)gs_wall_ms();
    rpt_datetime(o->as_of_ms, o->as_of);
    o->findings_only = rq->findings_only && k->run == rpt_elections;
    o->no_stages = rq->no_stages;
    o->cache_kib = rq->cache_kib;
    o->format = FMT_JSON;
    int rc = run_report(&c, k, out, eb);
    rpt_divmap_free(&c.div);
    if (rc == 2)
        return GS_EINVAL;
    if (rc)
        return eb->msg[0] ? GS_ESQL : gs_errf(eb, GS_ESQL, "reading the hub database failed");
    return GS_OK;
}

int hub_report_main(sqlite3 *db, int argc, char **argv, bool json)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
    ctx c;
    memset(&c, 0, sizeof c);
    c.db = db;
    int rc = parse_args(argc, argv, json, &c.o);
    if (rc)
        return rc;
    const kind *k = kind_named(c.o.kind);
    if (!k)
        return rpt_say(2, "unknown report \"%s\": summary, elections, incidents, councils or nodes",
                   c.o.kind);
    if (!k->dates && (c.o.since[0] || c.o.until[0]))
        return rpt_say(2, "--since/--until do not apply to the %s report", k->name);
    if (c.o.findings_only && k->run != rpt_elections)
        return rpt_say(2, "--findings-only applies to the elections report only");
    if (!db)
        return rpt_say(1, "no database");
    gs_doc *rp = NULL;
    gs_errbuf eb = {{0}};
    rc = run_report(&c, k, &rp, &eb);
    if (rc == 2)
        rpt_say(2, "%s", eb.msg);
    if (!rc)
        rc = render(&c, k->title, rp);
    gs_doc_destroy(&rp);
    rpt_divmap_free(&c.div);
    return rc;
}
