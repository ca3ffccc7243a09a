/*
 * report.c: `gridhub report`: the city's figures from the synced data, per
 * county, township and village (issue 7; docs/reports.md is the user's guide
 * and the reference of every column and JSON key).
 *
 * Role: read the entity tables, the node registry, the quarantine and the
 * change log of the hub database and print five reports (summary,
 * elections, incidents, councils, nodes) as an aligned terminal table, CSV
 * for Excel, or JSON with a fixed key order.
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
 *   - One output model (a "sheet": columns and rows of text cells) is
 *     rendered to all three formats, so they always carry the same numbers.
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
#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/rules.h"
#include "gridsync/table.h"
#include "report.h"

#define DAY_MS       86400000LL
#define CST_MS       (8LL * 3600 * 1000) /* China Standard Time, UTC+08:00 */
#define UNKNOWN      "unknown"
#define UNKNOWN_NAME "未知区划 unknown"

static const char usage_text[] =
    "usage: gridhub report KIND [--county CODE|--township CODE|--village CODE]\n"
    "                      [--since DATE] [--until DATE] [--as-of DATE]\n"
    "                      [--format table|csv|json] [--bom] [--findings-only]\n"
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
    "                    first) or json (the same as --json)\n"
    "  --findings-only   elections: only the elections with findings\n"
    "\n"
    "The villages of an area: its village rows in the division table (gridhub refdata load\n"
    "divisions data/luohe_villages.csv) and any other village there with a node or data.\n"
    "Every total is the sum of its rows. Columns and JSON keys: docs/reports.md.\n";

/* ---- errors ---------------------------------------------------------------------------------- */

/* Prints "gridhub: report: ..." on stderr and returns code. */
static int say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gridhub: report: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

static int db_error(sqlite3 *db)
{
    return say(1, "database: %s", sqlite3_errmsg(db));
}

static int oom(void)
{
    return say(1, "out of memory");
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) -------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* Parses exactly YYYY-MM-DD naming a real calendar day. */
static bool parse_day(const char *s, int64_t *days)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int64_t y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

static void format_day(int64_t days, char out[11])
{
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

/* Room for any instant format_cst can write (six ints at their widest). */
#define CST_TEXT_MAX 80

/* The instant ms as China time, "2026-04-01T00:00:00+08:00". */
static void format_cst(int64_t ms, char out[CST_TEXT_MAX])
{
    int64_t s = floor_div(ms + CST_MS, 1000);
    int64_t days = floor_div(s, 86400), rem = s - days * 86400;
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, CST_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", (int)y, (int)m, (int)d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

/* ---- options --------------------------------------------------------------------------------- */

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON } out_format;

/* The level of the rows: what the area filter selects. */
typedef enum { LV_CITY, LV_COUNTY, LV_TOWNSHIP, LV_VILLAGE } area_level;

typedef struct ropts {
    const char *kind;
    area_level level;
    const char *area_opt; /* the option that set level, for messages */
    char area[16];        /* the county, township or village code, or "unknown" */
    char since[11], until[11], until_next[11]; /* "" when not given */
    int64_t as_of_ms;
    char as_of[CST_TEXT_MAX];
    out_format format;
    bool bom, findings_only;
} ropts;

static int set_area(ropts *o, area_level lv, const char *opt_name, const char *v)
{
    if (o->area_opt)
        return say(2, "%s and %s: give at most one of --county, --township, --village", o->area_opt,
                   opt_name);
    size_t want = lv == LV_COUNTY ? 6 : lv == LV_TOWNSHIP ? 9 : 12;
    bool ok = strlen(v) == want && strspn(v, "0123456789") == want;
    if (lv == LV_COUNTY && !strcmp(v, UNKNOWN))
        ok = true;
    if (!ok)
        return say(2, "%s \"%s\": expected a %zu-digit division code%s", opt_name, v, want,
                   lv == LV_COUNTY ? " (or \"unknown\")" : "");
    o->level = lv;
    o->area_opt = opt_name;
    snprintf(o->area, sizeof o->area, "%s", v);
    return 0;
}

static int set_date(const char *opt_name, const char *v, char out[11], int64_t *days)
{
    if (!parse_day(v, days))
        return say(2, "%s \"%s\": expected a date YYYY-MM-DD", opt_name, v);
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
                                                 "--until",  "--format",   "--as-of",   NULL};
        bool takes = false;
        for (int k = 0; with_value[k]; k++)
            takes |= !strcmp(a, with_value[k]);
        if (takes && i + 1 >= argc)
            return say(2, "%s needs a value", a);
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
        else if (!strcmp(a, "--bom"))
            o->bom = true;
        else if (!strcmp(a, "--findings-only"))
            o->findings_only = true;
        else if (a[0] == '-')
            return say(2, "unknown option %s (see gridhub report --help)", a);
        else if (!o->kind)
            o->kind = a;
        else
            return say(2, "unexpected argument \"%s\"", a);
        if (rc)
            return rc;
    }
    if (!o->kind)
        return say(2, "which report? summary, elections, incidents, councils or nodes");
    if (format) {
        out_format f = !strcmp(format, "table")  ? FMT_TABLE
                       : !strcmp(format, "csv")  ? FMT_CSV
                       : !strcmp(format, "json") ? FMT_JSON
                                                 : (out_format)-1;
        if ((int)f < 0)
            return say(2, "--format \"%s\": expected table, csv or json", format);
        if (json && f != FMT_JSON)
            return say(2, "--json and --format %s contradict each other", format);
        o->format = f;
    }
    if (o->bom && o->format != FMT_CSV)
        return say(2, "--bom applies to --format csv only");
    if (o->since[0] && o->until[0] && since_d > until_d)
        return say(2, "--since %s is after --until %s", o->since, o->until);
    if (o->until[0])
        format_day(until_d + 1, o->until_next);
    o->as_of_ms = has_asof ? (asof_d + 1) * DAY_MS - CST_MS : (int64_t)gs_wall_ms();
    format_cst(o->as_of_ms, o->as_of);
    return 0;
}

/* ---- a string-keyed hash map (code -> index) ------------------------------------------------- */

typedef struct strmap {
    char **keys;
    long *vals;
    size_t cap, n;
} strmap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static long map_get(const strmap *m, const char *k)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (!strcmp(m->keys[i], k))
            return m->vals[i];
    }
}

static int map_put(strmap *m, const char *k, long v)
{
    if (2 * (m->n + 1) > m->cap) {
        strmap g = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};
        g.keys = calloc(g.cap, sizeof *g.keys);
        g.vals = calloc(g.cap, sizeof *g.vals);
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = hash_str(m->keys[i]) & (g.cap - 1);
                while (g.keys[j])
                    j = (j + 1) & (g.cap - 1);
                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
                g.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k))
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        if (!(m->keys[i] = strdup(k)))
            return -1;
        m->n++;
    }
    m->vals[i] = v;
    return 0;
}

static void map_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Makes room for one more element in a growable array *p of *cap elements
 * of size bytes holding n (doubling, from first); false when out of memory,
 * *p then unchanged. */
static bool vec_room(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : first;
    void *q = realloc(*(void **)p, c * size);
    if (!q)
        return false;
    *(void **)p = q;
    *cap = c;
    return true;
}

/* ---- a set of ids (incident id -> dense number) ---------------------------------------------- */

/* The incidents a report covers, as dense numbers 0..n-1 (an arena of ids
 * and an open-addressing table over it: a million ids in a few tens of MB,
 * without a malloc each). */
typedef struct idset {
    char *arena;
    size_t used, cap;
    uint32_t *off;    /* id i starts at arena + off[i] */
    uint32_t *slots;  /* i + 1, or 0 when empty */
    size_t n, nslots; /* nslots: a power of two, at least twice n */
} idset;

static long idset_find(const idset *s, const char *id)
{
    if (!s->nslots)
        return -1;
    for (size_t i = hash_str(id) & (s->nslots - 1);; i = (i + 1) & (s->nslots - 1)) {
        if (!s->slots[i])
            return -1;
        if (!strcmp(s->arena + s->off[s->slots[i] - 1], id))
            return (long)s->slots[i] - 1;
    }
}

static int idset_add(idset *s, const char *id)
{
    size_t len = strlen(id) + 1;
    if (2 * (s->n + 1) > s->nslots) {
        size_t ns = s->nslots ? s->nslots * 2 : 1024;
        uint32_t *slots = calloc(ns, sizeof *slots);
        uint32_t *off = realloc(s->off, ns / 2 * sizeof *off);
        if (!slots || !off) {
            free(slots);
            if (off)
                s->off = off;
            return -1;
        }
        s->off = off;
        for (size_t k = 0; k < s->n; k++) {
            size_t i = hash_str(s->arena + s->off[k]) & (ns - 1);
            while (slots[i])
                i = (i + 1) & (ns - 1);
            slots[i] = (uint32_t)k + 1;
        }
        free(s->slots);
        s->slots = slots;
        s->nslots = ns;
    }
    if (s->used + len > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 65536;
        while (cap < s->used + len)
            cap *= 2;
        char *a = realloc(s->arena, cap);
        if (!a)
            return -1;
        s->arena = a;
        s->cap = cap;
    }
    if (s->n >= UINT32_MAX - 1 || s->used > UINT32_MAX - len)
        return -1;
    memcpy(s->arena + s->used, id, len);
    s->off[s->n] = (uint32_t)s->used;
    s->used += len;
    size_t i = hash_str(id) & (s->nslots - 1);
    while (s->slots[i])
        i = (i + 1) & (s->nslots - 1);
    s->slots[i] = (uint32_t)++s->n;
    return 0;
}

static void idset_free(idset *s)
{
    free(s->arena);
    free(s->off);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- the division table ---------------------------------------------------------------------- */

typedef struct division {
    char code[16], level[16], parent[16];
    char committee[16]; /* a village row's committee kind, "" when not given */
    char *name;
} division;

/* Every live division row, sorted by code (binary search). */
typedef struct divmap {
    division *d;
    size_t n;
} divmap;

static void divmap_free(divmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->d[i].name);
    free(m->d);
    memset(m, 0, sizeof *m);
}

static int divmap_load(sqlite3 *db, divmap *m)
{
    sqlite3_stmt *st;
    memset(m, 0, sizeof *m);
    /* A database made before the division record had its `committee` field
     * has no such column: its villages' kinds then come from their codes. */
    if (sqlite3_prepare_v2(db,
                           "SELECT code, coalesce(name, ''), coalesce(level, ''), "
                           "coalesce(parent_code, ''), coalesce(committee, '') FROM divisions "
                           "WHERE _deleted = 0 ORDER BY code",
                           -1, &st, NULL) &&
        sqlite3_prepare_v2(db,
                           "SELECT code, coalesce(name, ''), coalesce(level, ''), "
                           "coalesce(parent_code, ''), '' FROM divisions "
                           "WHERE _deleted = 0 ORDER BY code",
                           -1, &st, NULL))
        return db_error(db);
    size_t cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n == cap) {
            cap = cap ? cap * 2 : 128;
            division *p = realloc(m->d, cap * sizeof *p);
            if (!p) {
                rc = oom();
                break;
            }
            m->d = p;
        }
        division *d = &m->d[m->n];
        snprintf(d->code, sizeof d->code, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(d->level, sizeof d->level, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(d->parent, sizeof d->parent, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(d->committee, sizeof d->committee, "%s",
                 (const char *)sqlite3_column_text(st, 4));
        if (!(d->name = strdup((const char *)sqlite3_column_text(st, 1)))) {
            rc = oom();
            break;
        }
        m->n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(db);
    sqlite3_finalize(st);
    return rc;
}

static const division *div_find(const divmap *m, const char *code)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->d[mid].code, code);
        if (!c)
            return &m->d[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const division *div_level(const divmap *m, const char *code, const char *level)
{
    const division *d = div_find(m, code);
    return d && !strcmp(d->level, level) ? d : NULL;
}

/* The known township of a village code (its first 9 digits), or NULL. */
static const division *township_of(const divmap *m, const char *village)
{
    char t[10];
    if (strlen(village) < 9)
        return NULL;
    memcpy(t, village, 9);
    t[9] = '\0';
    return div_level(m, t, "township");
}

/* The known county of a village, through its township's parent_code; NULL
 * when either is unknown (the village is then in the unknown group). */
static const division *county_of(const divmap *m, const char *village)
{
    const division *t = township_of(m, village);
    return t ? div_level(m, t->parent, "county") : NULL;
}

/* The committee kinds of village-level units, in the order of the division
 * record's `committee` values, and the election committee each one elects. */
enum { KIND_VILLAGERS, KIND_RESIDENTS, KIND__COUNT };
static const gs_committee kind_committee[KIND__COUNT] = {GS_COMMITTEE_VILLAGE,
                                                          GS_COMMITTEE_RESIDENTS};

int hub_village_kind_of_code(const char *code)
{
    if (!code || strlen(code) != 12 || strspn(code, "0123456789") != 12)
        return -1;
    int vvv = atoi(code + 9);
    if ((vvv >= 1 && vvv <= 199) || (vvv >= 400 && vvv <= 499))
        return KIND_RESIDENTS;
    if ((vvv >= 200 && vvv <= 399) || (vvv >= 500 && vvv <= 599))
        return KIND_VILLAGERS;
    return -1;
}

/* A village's committee kind: its division row's `committee`, else what its
 * code's village segment says (hub_village_kind_of_code); -1 when neither. */
static int kind_of(const division *d, const char *code)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_DIVISION);
    int f = gs_field_find(rt, "committee");
    int k = d && d->committee[0] && f >= 0 ? gs_enum_find(&rt->fields[f], d->committee) : -1;
    return k >= 0 && k < KIND__COUNT ? k : hub_village_kind_of_code(code);
}

/* A village row of the division table: one of the villages the city expects. */
static bool is_listed_village(const division *d)
{
    return !strcmp(d->level, "village") && strlen(d->code) == 12;
}

/* ---- the report context ---------------------------------------------------------------------- */

typedef struct ctx {
    sqlite3 *db;
    ropts o;
    divmap div;
} ctx;

/* The display name of a division code: its name in the table, else the code. */
static const char *name_of(const ctx *c, const char *code)
{
    const division *d = div_find(&c->div, code);
    return d && d->name[0] ? d->name : code;
}

/* Appends " AND <col is in the selected area>" to a query. The same rule as
 * area_of() below, in SQL, so that the scan can use the village indexes. */
static void where_area(gs_buf *q, const ctx *c, const char *col)
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
static void where_dates(gs_buf *q, const ctx *c, const char *col)
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
    if ((k = sqlite3_bind_parameter_index(st, ":asof_s")))
        sqlite3_bind_int64(st, k, floor_div(c->o.as_of_ms, 1000));
    if ((k = sqlite3_bind_parameter_index(st, ":asof_ms")))
        sqlite3_bind_int64(st, k, c->o.as_of_ms);
    if ((k = sqlite3_bind_parameter_index(st, ":rep_from")))
        sqlite3_bind_int64(st, k, c->o.as_of_ms - 7 * DAY_MS);
}

/* How a whole-city or whole-county query reads a table: straight through
 * (NOT INDEXED). Through the village_code index it would fetch every row by
 * its primary key in village order, a random read per row, many times slower
 * on a table bigger than the page cache. A township or village is a narrow
 * range of that index, which is then the right way in. */
static const char *scan(const ctx *c)
{
    return c->o.level == LV_CITY || c->o.level == LV_COUNTY ? " NOT INDEXED" : "";
}

typedef int (*row_fn)(sqlite3_stmt *st, void *arg);

/* Runs the query in q (freed), calling fn for each row; 0 or an exit status. */
static int run_query(const ctx *c, gs_buf *q, row_fn fn, void *arg)
{
    if (q->err) {
        gs_buf_free(q);
        return oom();
    }
    sqlite3_stmt *st;
    int rc = 0;
    if (sqlite3_prepare_v2(c->db, q->data, -1, &st, NULL)) {
        rc = db_error(c->db);
        gs_buf_free(q);
        return rc;
    }
    gs_buf_free(q);
    bind_common(st, c);
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(st, arg);
    if (!rc && step != SQLITE_DONE)
        rc = db_error(c->db);
    sqlite3_finalize(st);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- histograms and medians ------------------------------------------------------------------ */

/* A multiset of small non-negative integers (day counts), as a count per
 * value, for exact medians: merging and the median walk are linear. */
typedef struct hist {
    int64_t *count; /* count[v]: how many times v */
    size_t len;
    int err;
} hist;

/* Longest span a day count may have: spans beyond a century (a mistyped
 * year) count as a century, so that the array stays small. */
#define HIST_MAX_DAYS 36525

/* Adds n times v; negative v count as 0, v over HIST_MAX_DAYS as that. */
static void hist_add(hist *h, int64_t v, int64_t n)
{
    if (h->err || n <= 0)
        return;
    if (v < 0)
        v = 0;
    if (v > HIST_MAX_DAYS)
        v = HIST_MAX_DAYS;
    if ((size_t)v >= h->len) {
        size_t len = h->len ? h->len : 64;
        while (len <= (size_t)v)
            len *= 2;
        int64_t *p = realloc(h->count, len * sizeof *p);
        if (!p) {
            h->err = 1;
            return;
        }
        memset(p + h->len, 0, (len - h->len) * sizeof *p);
        h->count = p;
        h->len = len;
    }
    h->count[v] += n;
}

static void hist_free(hist *h)
{
    free(h->count);
    memset(h, 0, sizeof *h);
}

/* Twice the median (the sum of the two middle values; the middle value
 * twice for an odd count), so that it stays an integer. False when empty. */
static bool hist_median2(const hist *h, int64_t *m2)
{
    int64_t total = 0;
    for (size_t v = 0; v < h->len; v++)
        total += h->count[v];
    if (total == 0)
        return false;
    int64_t lo_at = (total - 1) / 2, hi_at = total / 2, seen = 0, lo = 0;
    bool have_lo = false;
    for (size_t v = 0; v < h->len; v++) {
        if (!h->count[v])
            continue;
        if (!have_lo && lo_at < seen + h->count[v]) {
            lo = (int64_t)v;
            have_lo = true;
        }
        if (hi_at < seen + h->count[v]) {
            *m2 = lo + (int64_t)v;
            return true;
        }
        seen += h->count[v];
    }
    return false; /* not reached */
}

/* ---- sheets: the one output model ------------------------------------------------------------ */

enum { T_STR, T_NUM, T_BOOL, T_RAW };              /* how a cell goes to JSON */
enum { C_NOTABLE = 1, C_NOCSV = 2, C_NOJSON = 4 }; /* where a column is left out */

typedef struct col {
    const char *key; /* JSON key; CSV header "zh key" */
    const char *zh;  /* terminal header */
    int type;
    unsigned flags;
    int part; /* terminal table part (0: in every part) */
} col;

/* A table of text cells. NULL is a missing value: "-" in a terminal, an
 * empty CSV field, JSON null. T_NUM cells are numbers as JSON writes them,
 * T_BOOL cells "是" or "否", T_RAW cells JSON text (JSON only). */
typedef struct sheet {
    const char *key, *title;
    const col *cols;
    size_t ncols;
    char **cells;
    size_t nrows, cap;
    bool total_last;          /* the last row is the total */
    struct sheet *total;      /* or a one-row total with columns of its own */
    const char *const *parts; /* titles of the terminal parts, or NULL for one table */
    int nparts;
    bool no_csv, is_total;
    int err;
} sheet;

static sheet *sheet_new(const char *key, const char *title, const col *cols, size_t ncols)
{
    sheet *s = calloc(1, sizeof *s);
    if (s) {
        s->key = key;
        s->title = title;
        s->cols = cols;
        s->ncols = ncols;
    }
    return s;
}

static void sheet_free(sheet **sp)
{
    if (!*sp)
        return;
    sheet *s = *sp;
    for (size_t i = 0; i < s->nrows * s->ncols; i++)
        free(s->cells[i]);
    free(s->cells);
    sheet_free(&s->total);
    free(s);
    *sp = NULL;
}

/* A row being filled, cell by cell from the left. */
typedef struct rowb {
    sheet *s;
    char **cells;
    size_t i;
} rowb;

static rowb row_begin(sheet *s)
{
    rowb r = {s, NULL, 0};
    if (s->err)
        return r;
    if (s->nrows == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **p = realloc(s->cells, cap * s->ncols * sizeof *p);
        if (!p) {
            s->err = 1;
            return r;
        }
        s->cells = p;
        s->cap = cap;
    }
    r.cells = s->cells + s->nrows * s->ncols;
    for (size_t i = 0; i < s->ncols; i++)
        r.cells[i] = NULL;
    s->nrows++;
    return r;
}

/* Takes ownership of v (NULL: a missing value). */
static void put_own(rowb *r, char *v)
{
    if (!r->cells || r->i >= r->s->ncols) {
        free(v);
        if (r->cells)
            r->s->err = 1; /* more cells than columns: a programming error, reported */
        return;
    }
    r->cells[r->i++] = v;
}

static void put_s(rowb *r, const char *v)
{
    char *d = v ? strdup(v) : NULL;
    if (v && !d)
        r->s->err = 1;
    put_own(r, d);
}

static void put_null(rowb *r)
{
    put_own(r, NULL);
}

static void put_fmt(rowb *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(rowb *r, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put_s(r, tmp);
}

static void put_i(rowb *r, int64_t v)
{
    put_fmt(r, "%" PRId64, v);
}

/* num/den as a percentage with one decimal, rounded half up; missing when den is 0. */
static void put_pct(rowb *r, int64_t num, int64_t den)
{
    if (den <= 0 || num < 0) {
        put_null(r);
        return;
    }
    int64_t tenths = (2000 * num + den) / (2 * den);
    put_fmt(r, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
}

/* The median of h with one decimal (exact: x.0 or x.5); missing when h is empty. */
static void put_median(rowb *r, const hist *h)
{
    int64_t m2;
    if (h->err) {
        r->s->err = 1;
        put_null(r);
    } else if (!hist_median2(h, &m2))
        put_null(r);
    else
        put_fmt(r, "%" PRId64 ".%d", m2 / 2, (int)(m2 % 2) * 5);
}

static void put_b(rowb *r, bool v)
{
    put_s(r, v ? "是" : "否");
}

/* Ends a row: every column must have been given a cell. */
static void row_end(rowb *r)
{
    if (r->cells && r->i != r->s->ncols)
        r->s->err = 1;
}

typedef struct report {
    const char *title;
    sheet *sheets[4];
    int n;
    char *notes[4]; /* what a reader must know about the figures (Chinese, then English) */
    int nnotes;
} report;

/* Adds a note to the report (a line under the title, JSON "notes"). */
static void report_note(report *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_note(report *rp, const char *fmt, ...)
{
    if (rp->nnotes >= 4)
        return;
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if ((rp->notes[rp->nnotes] = strdup(tmp)))
        rp->nnotes++;
}

static sheet *report_add(report *rp, const char *key, const char *title, const col *cols,
                         size_t ncols)
{
    sheet *s = sheet_new(key, title, cols, ncols);
    if (s)
        rp->sheets[rp->n++] = s;
    return s;
}

/* Attaches a one-row total with its own columns to s. */
static sheet *attach_total(sheet *s, const col *cols, size_t ncols)
{
    if (!s)
        return NULL;
    s->total = sheet_new("total", "合计 total", cols, ncols);
    if (s->total)
        s->total->is_total = true;
    return s->total;
}

static bool report_failed(const report *rp)
{
    for (int i = 0; i < rp->n; i++)
        if (!rp->sheets[i] || rp->sheets[i]->err ||
            (rp->sheets[i]->total && rp->sheets[i]->total->err))
            return true;
    return false;
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
                 !strcmp(c->o.area, UNKNOWN) ? UNKNOWN_NAME : name_of(c, c->o.area));
        break;
    default:
        snprintf(buf, cap, "%s %s", c->o.area, name_of(c, c->o.area));
        break;
    }
    return buf;
}

static void print_table_sheet(const sheet *s, FILE *f)
{
    int parts = s->parts ? s->nparts : 1;
    for (int p = 1; p <= parts; p++) {
        const char *heads[64];
        size_t idx[64], n = 0;
        for (size_t c = 0; c < s->ncols && n < 64; c++) {
            if (s->cols[c].flags & C_NOTABLE)
                continue;
            if (s->parts && s->cols[c].part != 0 && s->cols[c].part != p)
                continue;
            heads[n] = s->cols[c].zh;
            idx[n++] = c;
        }
        if (s->parts)
            fprintf(f, "== %s: %s ==\n", s->title, s->parts[p - 1]);
        else
            fprintf(f, "== %s ==\n", s->title);
        gs_table *t = gs_table_new(n, heads);
        if (!t)
            return;
        for (size_t r = 0; r < s->nrows; r++) {
            const char *cells[64];
            for (size_t k = 0; k < n; k++) {
                const char *v = s->cells[r * s->ncols + idx[k]];
                cells[k] = v ? v : "-";
            }
            gs_table_add(t, cells);
        }
        gs_table_print(t, f);
        gs_table_destroy(&t);
        fputc('\n', f);
    }
}

static void csv_sheet(const sheet *s, gs_buf *b)
{
    bool first = true;
    for (size_t c = 0; c < s->ncols; c++) {
        if (s->cols[c].flags & C_NOCSV)
            continue;
        if (!first)
            gs_buf_putc(b, ',');
        char head[160];
        snprintf(head, sizeof head, "%s %s", s->cols[c].zh, s->cols[c].key);
        gs_buf_csv_field(b, head);
        first = false;
    }
    gs_buf_puts(b, "\r\n");
    for (size_t r = 0; r < s->nrows; r++) {
        first = true;
        for (size_t c = 0; c < s->ncols; c++) {
            if (s->cols[c].flags & C_NOCSV)
                continue;
            if (!first)
                gs_buf_putc(b, ',');
            const char *v = s->cells[r * s->ncols + c];
            if (v && s->cols[c].type == T_STR && gs_csv_formula_start(v[0])) {
                gs_buf cell = GS_BUF_INIT; /* text, not a formula, to a spreadsheet */
                gs_buf_printf(&cell, "'%s", v);
                gs_buf_csv_field(b, cell.data ? cell.data : "");
                gs_buf_free(&cell);
            } else {
                gs_buf_csv_field(b, v ? v : "");
            }
            first = false;
        }
        gs_buf_puts(b, "\r\n");
    }
}

static void json_row(gs_buf *b, const sheet *s, size_t r)
{
    gs_buf_putc(b, '{');
    bool first = true;
    for (size_t c = 0; c < s->ncols; c++) {
        const col *k = &s->cols[c];
        if (k->flags & C_NOJSON)
            continue;
        if (!first)
            gs_buf_puts(b, ", ");
        first = false;
        gs_buf_json_str(b, k->key);
        gs_buf_puts(b, ": ");
        const char *v = s->cells[r * s->ncols + c];
        if (!v)
            gs_buf_puts(b, "null");
        else if (k->type == T_STR)
            gs_buf_json_str(b, v);
        else if (k->type == T_BOOL)
            gs_buf_puts(b, !strcmp(v, "是") ? "true" : "false");
        else
            gs_buf_puts(b, v);
    }
    gs_buf_putc(b, '}');
}

static void json_sheet(gs_buf *b, const sheet *s)
{
    size_t rows = s->total_last && s->nrows ? s->nrows - 1 : s->nrows;
    gs_buf_printf(b, "  \"%s\": {\n    \"rows\": [", s->key);
    for (size_t r = 0; r < rows; r++) {
        gs_buf_puts(b, r ? ",\n      " : "\n      ");
        json_row(b, s, r);
    }
    gs_buf_puts(b, rows ? "\n    ]" : "]");
    if (s->total_last && s->nrows) {
        gs_buf_puts(b, ",\n    \"total\": ");
        json_row(b, s, s->nrows - 1);
    } else if (s->total && s->total->nrows) {
        gs_buf_puts(b, ",\n    \"total\": ");
        json_row(b, s->total, 0);
    }
    gs_buf_puts(b, "\n  }");
}

static void json_opt(gs_buf *b, const char *key, const char *v, bool last)
{
    gs_buf_printf(b, "\"%s\": ", key);
    if (v && *v)
        gs_buf_json_str(b, v);
    else
        gs_buf_puts(b, "null");
    if (!last)
        gs_buf_puts(b, ", ");
}

/* Writes the report to stdout in the chosen format. */
static int render(const ctx *c, const report *rp)
{
    if (report_failed(rp))
        return oom();
    gs_buf b = GS_BUF_INIT;
    const ropts *o = &c->o;
    if (o->format == FMT_JSON) {
        gs_buf_puts(&b, "{\n  \"report\": ");
        gs_buf_json_str(&b, o->kind);
        gs_buf_puts(&b, ",\n  \"as_of\": ");
        gs_buf_json_str(&b, o->as_of);
        gs_buf_puts(&b, ",\n  \"filter\": {");
        json_opt(&b, "county", o->level == LV_COUNTY ? o->area : NULL, false);
        json_opt(&b, "township", o->level == LV_TOWNSHIP ? o->area : NULL, false);
        json_opt(&b, "village", o->level == LV_VILLAGE ? o->area : NULL, false);
        json_opt(&b, "since", o->since, false);
        json_opt(&b, "until", o->until, false);
        gs_buf_printf(&b, "\"findings_only\": %s}", o->findings_only ? "true" : "false");
        gs_buf_puts(&b, ",\n  \"notes\": [");
        for (int i = 0; i < rp->nnotes; i++) {
            gs_buf_puts(&b, i ? ", " : "");
            gs_buf_json_str(&b, rp->notes[i]);
        }
        gs_buf_putc(&b, ']');
        for (int i = 0; i < rp->n; i++) {
            gs_buf_puts(&b, ",\n");
            json_sheet(&b, rp->sheets[i]);
        }
        gs_buf_puts(&b, "\n}\n");
    } else if (o->format == FMT_CSV) {
        if (o->bom)
            gs_buf_puts(&b, "\xEF\xBB\xBF");
        int ncsv = 0;
        for (int i = 0; i < rp->n; i++)
            ncsv += !rp->sheets[i]->no_csv;
        bool first = true;
        for (int i = 0; i < rp->n; i++) {
            const sheet *s = rp->sheets[i];
            if (s->no_csv)
                continue;
            if (!first)
                gs_buf_puts(&b, "\r\n");
            first = false;
            if (ncsv > 1) { /* several tables in one file: each under its title */
                gs_buf_csv_field(&b, s->title);
                gs_buf_puts(&b, "\r\n");
            }
            csv_sheet(s, &b);
        }
    }
    if (b.err) {
        gs_buf_free(&b);
        return oom();
    }
    if (o->format != FMT_TABLE) {
        if (b.len)
            fwrite(b.data, 1, b.len, stdout);
        gs_buf_free(&b);
        return fflush(stdout) ? say(1, "writing the report: output error") : 0;
    }
    char scope[160];
    printf("%s · 截至 as of %s · 范围 %s", rp->title, o->as_of, scope_text(c, scope, sizeof scope));
    if (o->since[0] || o->until[0])
        printf(" · 期间 %s ~ %s", o->since[0] ? o->since : "…", o->until[0] ? o->until : "…");
    if (o->findings_only)
        printf(" · 仅有审查结果 findings only");
    printf("\n");
    for (int i = 0; i < rp->nnotes; i++)
        printf("注意 note: %s\n", rp->notes[i]);
    printf("\n");
    for (int i = 0; i < rp->n; i++) {
        print_table_sheet(rp->sheets[i], stdout);
        if (rp->sheets[i]->total)
            print_table_sheet(rp->sheets[i]->total, stdout);
    }
    return fflush(stdout) ? say(1, "writing the report: output error") : 0;
}

/* ---- areas: the rows a village rolls up into ------------------------------------------------- */

/* The figures of one area, each a sum over its villages (the histograms merge). */
typedef struct figs {
    /* villages: the denominator of every per-village rate (see villages_load) */
    int64_t villages, unlisted, registered, reporting, council_villages, councils;
    int64_t kind[KIND__COUNT], held[KIND__COUNT];
    int64_t elections[GS_COMMITTEE__COUNT];
    int64_t voters, ballots, low_turnout, invalid, unfilled, no_woman, yijiantiao;
    int64_t opened, closed, rejected, open, age[4];
    hist close_days;
    int64_t affairs[GS_AFFAIR__COUNT], violating;
} figs;

typedef struct area {
    char code[16];
    const char *level; /* "county", "township", "village", "city", "unknown" */
    char *name;
    figs f;
} area;

/* One village of the area as the per-village figures see it (villages_load). */
typedef struct vstate {
    char code[16];
    bool listed;  /* a village row of the division table: the city expects it */
    int kind;     /* KIND_*, or -1 when neither the row nor the code says */
    int64_t nodes, last_seen_ms; /* nodes issued (enabled or revoked); their latest sync, 0 never */
    bool council; /* has a (not deleted) red-white council */
    bool held[KIND__COUNT]; /* held an election of its own committee kind in the period */
} vstate;

typedef struct areas {
    const ctx *c;
    area *a;
    size_t n, cap;
    area total;
    strmap idx;  /* area code -> row */
    strmap memo; /* village code -> row, or -1 outside the area */
    vstate *v;   /* the villages of the area, once villages_load ran */
    size_t nv, vcap;
    strmap vidx;                   /* village code -> v[] */
    int64_t list_size, unlisted_n; /* village rows in the whole table; villages of v not listed */
    int err;
} areas;

static area *area_add(areas *as, const char *code, const char *level, const char *name)
{
    long i = map_get(&as->idx, code);
    if (i >= 0)
        return &as->a[i];
    if (!vec_room(&as->a, &as->cap, as->n, sizeof *as->a, 32)) {
        as->err = 1;
        return NULL;
    }
    area *a = &as->a[as->n];
    memset(a, 0, sizeof *a);
    snprintf(a->code, sizeof a->code, "%s", code);
    a->level = level;
    a->name = strdup(name);
    if (!a->name || map_put(&as->idx, code, (long)as->n)) {
        free(a->name);
        as->err = 1;
        return NULL;
    }
    as->n++;
    return a;
}

/* The rows every report shows even when empty: all counties of the city,
 * all townships of the county, the known villages of the township. */
static void areas_init(areas *as, const ctx *c)
{
    memset(as, 0, sizeof *as);
    as->c = c;
    const divmap *m = &c->div;
    const ropts *o = &c->o;
    area *t = &as->total;
    switch (o->level) {
    case LV_CITY: {
        const division *city = NULL;
        int ncity = 0;
        for (size_t i = 0; i < m->n; i++) {
            if (!strcmp(m->d[i].level, "county"))
                area_add(as, m->d[i].code, "county", m->d[i].name);
            if (!strcmp(m->d[i].level, "city"))
                city = &m->d[i], ncity++;
        }
        snprintf(t->code, sizeof t->code, "%s", ncity == 1 ? city->code : "");
        t->name = strdup(ncity == 1 ? city->name : "全市 total");
        t->level = "city";
        break;
    }
    case LV_COUNTY:
        if (strcmp(o->area, UNKNOWN))
            for (size_t i = 0; i < m->n; i++)
                if (!strcmp(m->d[i].level, "township") && !strcmp(m->d[i].parent, o->area))
                    area_add(as, m->d[i].code, "township", m->d[i].name);
        snprintf(t->code, sizeof t->code, "%s", o->area);
        t->name = strdup(strcmp(o->area, UNKNOWN) ? name_of(c, o->area) : UNKNOWN_NAME);
        t->level = strcmp(o->area, UNKNOWN) ? "county" : UNKNOWN;
        break;
    case LV_TOWNSHIP:
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->d[i].level, "village") && strlen(m->d[i].code) == 12 &&
                !strncmp(m->d[i].code, o->area, 9))
                area_add(as, m->d[i].code, "village", m->d[i].name);
        snprintf(t->code, sizeof t->code, "%s", o->area);
        t->name = strdup(name_of(c, o->area));
        t->level = "township";
        break;
    case LV_VILLAGE:
        area_add(as, o->area, "village", name_of(c, o->area));
        snprintf(t->code, sizeof t->code, "%s", o->area);
        t->name = strdup(name_of(c, o->area));
        t->level = "village";
        break;
    }
    if (!t->name)
        as->err = 1;
}

/* The row village rolls up into, or NULL when it lies outside the area.
 * Remembered per village: a scan asks once per row, in any order. */
static area *area_of(areas *as, const char *village)
{
    long known = map_get(&as->memo, village);
    if (known != -1)
        return known >= 0 ? &as->a[known] : NULL; /* -2: outside */
    const ctx *c = as->c;
    const ropts *o = &c->o;
    const division *k = NULL, *t = NULL;
    area *a = NULL;
    switch (o->level) {
    case LV_CITY:
        k = county_of(&c->div, village);
        a = k ? area_add(as, k->code, "county", k->name)
              : area_add(as, UNKNOWN, UNKNOWN, UNKNOWN_NAME);
        break;
    case LV_COUNTY:
        k = county_of(&c->div, village);
        if (!strcmp(o->area, UNKNOWN)) {
            if (!k)
                a = area_add(as, village, "village", name_of(c, village));
        } else if (k && !strcmp(k->code, o->area)) {
            t = township_of(&c->div, village);
            a = area_add(as, t->code, "township", t->name);
        }
        break;
    case LV_TOWNSHIP:
        if (strlen(village) == 12 && !strncmp(village, o->area, 9))
            a = area_add(as, village, "village", name_of(c, village));
        break;
    case LV_VILLAGE:
        if (!strcmp(village, o->area))
            a = area_add(as, village, "village", name_of(c, village));
        break;
    }
    /* -2: outside (map_get's -1 means "not asked yet") */
    if (map_put(&as->memo, village, a ? (long)(a - as->a) : -2))
        as->err = 1;
    return a;
}

static void areas_free(areas *as)
{
    free(as->v);
    map_free(&as->vidx);
    for (size_t i = 0; i < as->n; i++) {
        free(as->a[i].name);
        hist_free(&as->a[i].f.close_days);
    }
    free(as->a);
    free(as->total.name);
    hist_free(&as->total.f.close_days);
    map_free(&as->idx);
    map_free(&as->memo);
    memset(as, 0, sizeof *as);
}

static int cmp_area(const void *x, const void *y)
{
    const area *a = x, *b = y;
    bool ua = !strcmp(a->code, UNKNOWN), ub = !strcmp(b->code, UNKNOWN);
    if (ua != ub)
        return ua ? 1 : -1;
    return strcmp(a->code, b->code);
}

/* Sorts the rows by code, the unknown group last. The maps are stale
 * afterwards: sort only when every figure is in. */
static void areas_sort(areas *as)
{
    qsort(as->a, as->n, sizeof *as->a, cmp_area);
}

/* The row and the total: every contribution goes to both. */
#define BOTH(a, as, stmt)                                                                          \
    do {                                                                                           \
        area *targets_[2] = {(a), &(as)->total};                                                   \
        for (int k_ = 0; k_ < 2; k_++) {                                                           \
            figs *F = &targets_[k_]->f;                                                            \
            stmt;                                                                                  \
        }                                                                                          \
    } while (0)

/* ---- per-village queries shared by the reports ----------------------------------------------- */

/* ---- the villages of an area: the denominators -------------------------------------------- */

/* The state of village code, or NULL when it lies outside the area; added
 * (as not listed, its kind from its code) when add is set and it is new. */
static vstate *village_get(areas *as, const char *code, bool add)
{
    long i = map_get(&as->vidx, code);
    if (i >= 0)
        return &as->v[i];
    if (!add || !area_of(as, code))
        return NULL;
    if (!vec_room(&as->v, &as->vcap, as->nv, sizeof *as->v, 256)) {
        as->err = 1;
        return NULL;
    }
    vstate *v = &as->v[as->nv];
    memset(v, 0, sizeof *v);
    snprintf(v->code, sizeof v->code, "%s", code);
    v->kind = hub_village_kind_of_code(code);
    if (map_put(&as->vidx, code, (long)as->nv)) {
        as->err = 1;
        return NULL;
    }
    as->nv++;
    return v;
}

static int village_nodes_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    vstate *v = village_get(as, col_text(st, 0), true);
    if (v) {
        v->nodes = sqlite3_column_int64(st, 1);
        v->last_seen_ms = sqlite3_column_int64(st, 2);
    }
    return as->err ? oom() : 0;
}

static int village_council_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    vstate *v = village_get(as, col_text(st, 0), true);
    if (v)
        v->council = true;
    return as->err ? oom() : 0;
}

static int village_data_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    village_get(as, col_text(st, 0), true);
    return as->err ? oom() : 0;
}

/*
 * The villages every per-village rate of the area divides by: the villages
 * the city expects there (the village rows of the division table, loaded
 * from data/luohe_villages.csv), and with them every village of the area
 * that is not in that list but has a node or a record (not deleted) of any
 * village-scoped type, so that a village with data is counted in its own
 * row and no rate can pass 100%. Without a village list this is the
 * villages with a node or data. Not dated: --since/--until do not change
 * which villages an area has. The distinct village codes of each record
 * table are read by skipping through its village_code index, one seek per
 * village, not by reading the table.
 */
static int villages_load(const ctx *c, areas *as)
{
    for (size_t i = 0; i < c->div.n; i++) {
        const division *d = &c->div.d[i];
        if (!is_listed_village(d))
            continue;
        as->list_size++;
        vstate *v = village_get(as, d->code, true);
        if (v) {
            v->listed = true;
            v->kind = kind_of(d, d->code);
        }
    }
    if (as->err)
        return oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT village, count(*), max(coalesce(last_seen_ms, 0)) FROM nodes WHERE 1");
    where_area(&q, c, "village");
    gs_buf_puts(&q, " GROUP BY village");
    int rc = run_query(c, &q, village_nodes_row, as);
    if (!rc) {
        gs_buf_reset(&q);
        gs_buf_puts(&q, "SELECT village_code FROM councils WHERE _deleted = 0");
        where_area(&q, c, "village_code");
        gs_buf_puts(&q, " GROUP BY village_code");
        rc = run_query(c, &q, village_council_row, as);
    }
    bool narrow = c->o.level == LV_TOWNSHIP || c->o.level == LV_VILLAGE;
    for (int t = 0; !rc && t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        if (rt->scope < 0)
            continue;
        const char *vc = rt->fields[rt->scope].name;
        gs_buf_reset(&q);
        gs_buf_printf(&q,
                      "WITH RECURSIVE v(code) AS (SELECT (SELECT %s FROM %s WHERE %s >= %s AND "
                      "_deleted = 0 ORDER BY %s LIMIT 1) UNION ALL SELECT (SELECT %s FROM %s "
                      "WHERE %s > v.code AND _deleted = 0 ORDER BY %s LIMIT 1) FROM v WHERE "
                      "v.code IS NOT NULL%s) SELECT code FROM v WHERE code IS NOT NULL",
                      vc, rt->plural, vc, narrow ? ":lo" : "''", vc, vc, rt->plural, vc, vc,
                      narrow ? " AND v.code < :hi" : "");
        rc = run_query(c, &q, village_data_row, as);
    }
    for (size_t i = 0; i < as->nv; i++)
        as->unlisted_n += !as->v[i].listed;
    return rc;
}

/* Adds each village of villages_load to its row and to the total. */
static void villages_rollup(areas *as)
{
    int64_t rep_from = as->c->o.as_of_ms - 7 * DAY_MS;
    for (size_t i = 0; i < as->nv; i++) {
        const vstate *v = &as->v[i];
        area *a = area_of(as, v->code);
        if (!a)
            continue;
        BOTH(a, as, {
            F->villages++;
            F->unlisted += !v->listed;
            F->registered += v->nodes > 0;
            F->reporting += v->nodes > 0 && v->last_seen_ms > 0 && v->last_seen_ms >= rep_from;
            F->council_villages += v->council;
            if (v->kind >= 0) {
                F->kind[v->kind]++;
                F->held[v->kind] += v->held[v->kind];
            }
        });
    }
}

/* Says in the report what the denominators are when they are not the
 * village list: no list loaded, none of it in the area, villages outside it. */
static void villages_notes(const ctx *c, const areas *as, report *rp)
{
    int64_t listed = 0;
    for (size_t i = 0; i < as->nv; i++)
        listed += as->v[i].listed;
    if (as->list_size == 0)
        report_note(rp,
                    "未加载村社区名单 (gridhub refdata load divisions data/luohe_villages.csv)，各比率"
                    "的分母暂为有节点或有数据的村社区 no village list is loaded: rates are over the "
                    "villages that have a node or data");
    else if (listed == 0)
        report_note(rp,
                    "本范围 %s 没有名单内的村社区，各比率的分母为有节点或有数据的村社区 no village "
                    "of the list lies in this area: rates are over the villages that have a node "
                    "or data",
                    c->o.level == LV_CITY ? "全市" : c->o.area);
    if (as->unlisted_n > 0)
        report_note(rp,
                    "%" PRId64 " 个村社区不在村社区名单内，因有节点或数据计入所在区划及分母 "
                    "%" PRId64 " village(s) not in the village list are counted, in their own "
                    "area, because they have a node or data",
                    as->unlisted_n, as->unlisted_n);
}

typedef struct elect_acc {
    areas *as;
    char village[16];
    int64_t voters, ballots;
} elect_acc;

/* Closes one village's elections: below 95% turnout is 20*B < 19*R. */
static void elect_flush(elect_acc *e)
{
    if (!e->village[0])
        return;
    area *a = area_of(e->as, e->village);
    if (a && e->voters > 0 && 20 * e->ballots < 19 * e->voters)
        BOTH(a, e->as, F->low_turnout++);
    e->village[0] = '\0';
    e->voters = e->ballots = 0;
}

static int elect_row(sqlite3_stmt *st, void *arg)
{
    elect_acc *e = arg;
    const char *v = col_text(st, 0);
    if (strcmp(v, e->village)) {
        elect_flush(e);
        snprintf(e->village, sizeof e->village, "%s", v);
    }
    area *a = area_of(e->as, v);
    if (!a)
        return e->as->err ? oom() : 0;
    int ci = -1;
    for (int i = 0; gs_committee_names[i]; i++)
        if (!strcmp(gs_committee_names[i], col_text(st, 1)))
            ci = i;
    int64_t n = sqlite3_column_int64(st, 2), R = sqlite3_column_int64(st, 3),
            B = sqlite3_column_int64(st, 4);
    /* held: an election of the committee of the village's own kind */
    vstate *vs = village_get(e->as, v, false);
    if (vs && vs->kind >= 0 && ci == (int)kind_committee[vs->kind] && n > 0)
        vs->held[vs->kind] = true;
    e->voters += R;
    e->ballots += B;
    BOTH(a, e->as, {
        if (ci >= 0)
            F->elections[ci] += n;
        F->voters += R;
        F->ballots += B;
        F->invalid += sqlite3_column_int64(st, 5);
        F->unfilled += sqlite3_column_int64(st, 6);
        F->no_woman += sqlite3_column_int64(st, 7);
        F->yijiantiao += sqlite3_column_int64(st, 8);
    });
    return 0;
}

/* Appends an SQL test: the "A;B" finding list in column findings holds name. */
static void has_finding(gs_buf *q, const char *name)
{
    gs_buf_printf(q, "instr(';' || coalesce(findings, '') || ';', ';%s;') > 0", name);
}

static int q_elections(const ctx *c, areas *as)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT village_code, committee, count(*), coalesce(sum(registered), 0), "
                    "coalesce(sum(voted), 0), sum(");
    has_finding(&q, "TURNOUT_INVALID");
    gs_buf_puts(&q, " OR ");
    has_finding(&q, "NO_VOTERS");
    gs_buf_puts(&q, "), coalesce(sum(unfilled), 0), sum(");
    has_finding(&q, "NO_WOMAN");
    gs_buf_puts(&q, "), sum(coalesce(yijiantiao, 0) <> 0) FROM elections");
    gs_buf_printf(&q, "%s WHERE _deleted = 0", scan(c));
    where_area(&q, c, "village_code");
    where_dates(&q, c, "election_date");
    gs_buf_puts(&q, " GROUP BY village_code, committee ORDER BY village_code, committee");
    elect_acc e = {as, "", 0, 0};
    int rc = run_query(c, &q, elect_row, &e);
    if (!rc)
        elect_flush(&e);
    return rc;
}

static int status_index(const char *s)
{
    for (int i = 0; gs_status_names[i]; i++)
        if (!strcmp(gs_status_names[i], s))
            return i;
    return -1;
}

/* Incidents by category and status. */
typedef struct cat_row {
    char *code;
    int64_t n[GS_ST__COUNT];
} cat_row;

typedef struct cats {
    strmap idx;
    cat_row *r;
    size_t n, cap;
    int64_t total[GS_ST__COUNT];
} cats;

static cat_row *cat_of(cats *k, const char *code)
{
    long i = map_get(&k->idx, code);
    if (i >= 0)
        return &k->r[i];
    if (!vec_room(&k->r, &k->cap, k->n, sizeof *k->r, 32))
        return NULL;
    cat_row *r = &k->r[k->n];
    memset(r, 0, sizeof *r);
    if (!(r->code = strdup(code)) || map_put(&k->idx, code, (long)k->n)) {
        free(r->code);
        return NULL;
    }
    k->n++;
    return r;
}

static void cats_free(cats *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->r[i].code);
    free(k->r);
    map_free(&k->idx);
    memset(k, 0, sizeof *k);
}

/* What one pass over the incidents feeds: the areas, and optionally the
 * category x status counts and the set of incidents covered. */
typedef struct inc_scan {
    areas *as;
    cats *cats;
    idset *ids;
} inc_scan;

static int incidents_row(sqlite3_stmt *st, void *arg)
{
    inc_scan *x = arg;
    area *a = area_of(x->as, col_text(st, 0));
    if (!a)
        return x->as->err ? oom() : 0;
    int kind = sqlite3_column_int(st, 1);
    bool has_days = sqlite3_column_type(st, 2) != SQLITE_NULL;
    int64_t days = sqlite3_column_int64(st, 2), age = sqlite3_column_int64(st, 3);
    int bucket = age <= 7 ? 0 : age <= 30 ? 1 : age <= 90 ? 2 : 3;
    BOTH(a, x->as, {
        F->opened++;
        if (kind == 1) {
            F->closed++;
            if (has_days)
                hist_add(&F->close_days, days, 1);
        } else if (kind == 2) {
            F->rejected++;
        } else {
            F->open++;
            F->age[bucket]++;
        }
    });
    if (x->cats) {
        cat_row *r = cat_of(x->cats, col_text(st, 4));
        int si = status_index(col_text(st, 5));
        if (!r)
            return oom();
        if (si >= 0) {
            r->n[si]++;
            x->cats->total[si]++;
        }
    }
    if (x->ids && idset_add(x->ids, col_text(st, 6)))
        return oom();
    return 0;
}

/*
 * One pass over the incidents of the area and period. SQL filters and
 * works out each incident's figures: closed (closed, evaluated) with the
 * whole days from reported_at to closed_at, rejected, or open with its age
 * in whole days at as-of (negative spans, a clock error, count as 0 days);
 * C adds them up per area. The rows are not grouped in SQL: at a million
 * incidents, sorting them for GROUP BY costs more than the scan itself,
 * while the sums per area fit in a few kilobytes.
 */
static int q_incidents(const ctx *c, inc_scan *x)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q,
                "SELECT village_code, "
                "CASE WHEN status IN ('closed', 'evaluated') THEN 1 WHEN status = 'rejected' THEN "
                "2 ELSE 0 END, "
                "CASE WHEN status IN ('closed', 'evaluated') AND closed_at IS NOT NULL THEN "
                "max(0, unixepoch(closed_at) - unixepoch(reported_at)) / 86400 END, "
                "CASE WHEN status IN ('closed', 'evaluated', 'rejected') THEN 0 ELSE "
                "coalesce(max(0, :asof_s - unixepoch(reported_at)) / 86400, 0) END, "
                "category, status, id FROM incidents");
    gs_buf_printf(&q, "%s WHERE _deleted = 0", scan(c));
    where_area(&q, c, "village_code");
    where_dates(&q, c, "reported_at");
    return run_query(c, &q, incidents_row, x);
}

static int affairs_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    area *a = area_of(as, col_text(st, 0));
    if (!a)
        return as->err ? oom() : 0;
    int ki = -1;
    for (int i = 0; gs_affair_kind_names[i]; i++)
        if (!strcmp(gs_affair_kind_names[i], col_text(st, 1)))
            ki = i;
    int64_t n = sqlite3_column_int64(st, 2), bad = sqlite3_column_int64(st, 3);
    BOTH(a, as, {
        if (ki >= 0)
            F->affairs[ki] += n;
        F->violating += bad;
    });
    return 0;
}

static int q_affairs(const ctx *c, areas *as)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_printf(&q,
                  "SELECT village_code, kind, count(*), sum(coalesce(violations, '') <> '') "
                  "FROM affairs%s WHERE _deleted = 0",
                  scan(c));
    where_area(&q, c, "village_code");
    where_dates(&q, c, "event_date");
    gs_buf_puts(&q, " GROUP BY village_code, kind ORDER BY village_code");
    return run_query(c, &q, affairs_row, as);
}

static int councils_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    area *a = area_of(as, col_text(st, 0));
    if (!a)
        return as->err ? oom() : 0;
    int64_t n = sqlite3_column_int64(st, 1);
    BOTH(a, as, F->councils += n);
    return 0;
}

static int q_councils(const ctx *c, areas *as)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_printf(&q, "SELECT village_code, count(*) FROM councils%s WHERE _deleted = 0", scan(c));
    where_area(&q, c, "village_code");
    gs_buf_puts(&q, " GROUP BY village_code ORDER BY village_code");
    return run_query(c, &q, councils_row, as);
}

/* The three leading cells of an area row: level, code, name. */
static rowb area_row(sheet *s, const area *a)
{
    rowb r = row_begin(s);
    put_s(&r, a->level);
    put_s(&r, a->code[0] ? a->code : NULL);
    put_s(&r, a->name);
    return r;
}

#define AREA_COLS                                                                                  \
    {"level", "级别", T_STR, C_NOTABLE, 0}, {"code", "区划代码", T_STR, 0, 0},                     \
    {                                                                                              \
        "name", "名称", T_STR, 0, 0                                                                \
    }
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* Emits every row, then the total, through fn. */
static void area_rows(sheet *s, areas *as, void (*fn)(sheet *, area *))
{
    for (size_t i = 0; i < as->n; i++)
        fn(s, &as->a[i]);
    fn(s, &as->total);
    s->total_last = true;
}

/* ---- summary --------------------------------------------------------------------------------- */

static const col summary_cols[] = {
    AREA_COLS,
    {"villages", "村社区", T_NUM, 0, 1},
    {"villages_unlisted", "名单外", T_NUM, 0, 1},
    {"villages_registered", "已开通", T_NUM, 0, 1},
    {"villages_without_node", "未开通", T_NUM, 0, 1},
    {"villages_reporting", "7日内同步", T_NUM, 0, 1},
    {"reporting_pct", "同步率%", T_NUM, 0, 1},
    {"elections_village", "村委会选举", T_NUM, 0, 2},
    {"elections_residents", "居委会选举", T_NUM, 0, 2},
    {"elections_party", "党组织选举", T_NUM, 0, 2},
    {"villagers_committees", "村委会", T_NUM, 0, 2},
    {"villagers_committees_elected", "已选村委会", T_NUM, 0, 2},
    {"villagers_election_pct", "村委会换届率%", T_NUM, 0, 2},
    {"residents_committees", "居委会", T_NUM, 0, 2},
    {"residents_committees_elected", "已选居委会", T_NUM, 0, 2},
    {"residents_election_pct", "居委会换届率%", T_NUM, 0, 2},
    {"registered_voters", "登记选民", T_NUM, 0, 3},
    {"ballots_cast", "投票人数", T_NUM, 0, 3},
    {"turnout_pct", "投票率%", T_NUM, 0, 3},
    {"villages_turnout_below_95", "投票率<95%的村", T_NUM, 0, 3},
    {"elections_invalid", "依法无效", T_NUM, 0, 3},
    {"seats_unfilled", "空缺名额", T_NUM, 0, 3},
    {"elections_no_woman", "无女性当选", T_NUM, 0, 3},
    {"yijiantiao", "一肩挑", T_NUM, 0, 3},
    {"incidents_opened", "新发事件", T_NUM, 0, 4},
    {"incidents_closed", "已结案", T_NUM, 0, 4},
    {"incidents_rejected", "不予受理", T_NUM, 0, 4},
    {"incidents_open", "未办结", T_NUM, 0, 4},
    {"incidents_open_over_30d", "超30天未办结", T_NUM, 0, 4},
    {"median_days_to_close", "结案天数中位数", T_NUM, 0, 4},
    {"villages_with_council", "有理事会的村", T_NUM, 0, 5},
    {"council_coverage_pct", "理事会覆盖率%", T_NUM, 0, 5},
    {"affairs_wedding", "红事", T_NUM, 0, 5},
    {"affairs_funeral", "白事", T_NUM, 0, 5},
    {"affairs_other", "其他", T_NUM, 0, 5},
    {"affairs_total", "事项合计", T_NUM, 0, 5},
    {"affairs_with_violations", "违规事项", T_NUM, 0, 5},
    {"violation_rate_pct", "违规率%", T_NUM, 0, 5},
};
static const char *const summary_parts[] = {
    "村社区与同步 villages and sync", "换届选举 elections held", "选举结果 election results",
    "网格事件 incidents", "红白理事会 councils"};

static int64_t affairs_total(const figs *f)
{
    int64_t n = 0;
    for (int i = 0; i < GS_AFFAIR__COUNT; i++)
        n += f->affairs[i];
    return n;
}

static void summary_row(sheet *s, area *a)
{
    figs *f = &a->f;
    rowb r = area_row(s, a);
    put_i(&r, f->villages);
    put_i(&r, f->unlisted);
    put_i(&r, f->registered);
    put_i(&r, f->villages - f->registered);
    put_i(&r, f->reporting);
    put_pct(&r, f->reporting, f->villages);
    put_i(&r, f->elections[GS_COMMITTEE_VILLAGE]);
    put_i(&r, f->elections[GS_COMMITTEE_RESIDENTS]);
    put_i(&r, f->elections[GS_COMMITTEE_PARTY]);
    for (int k = 0; k < KIND__COUNT; k++) {
        put_i(&r, f->kind[k]);
        put_i(&r, f->held[k]);
        put_pct(&r, f->held[k], f->kind[k]);
    }
    put_i(&r, f->voters);
    put_i(&r, f->ballots);
    put_pct(&r, f->ballots, f->voters);
    put_i(&r, f->low_turnout);
    put_i(&r, f->invalid);
    put_i(&r, f->unfilled);
    put_i(&r, f->no_woman);
    put_i(&r, f->yijiantiao);
    put_i(&r, f->opened);
    put_i(&r, f->closed);
    put_i(&r, f->rejected);
    put_i(&r, f->open);
    put_i(&r, f->age[2] + f->age[3]);
    put_median(&r, &f->close_days);
    put_i(&r, f->council_villages);
    put_pct(&r, f->council_villages, f->villages);
    put_i(&r, f->affairs[GS_AFFAIR_WEDDING]);
    put_i(&r, f->affairs[GS_AFFAIR_FUNERAL]);
    put_i(&r, f->affairs[GS_AFFAIR_OTHER]);
    put_i(&r, affairs_total(f));
    put_i(&r, f->violating);
    put_pct(&r, f->violating, affairs_total(f));
    row_end(&r);
}

static int run_summary(const ctx *c, report *rp)
{
    rp->title = "网格治理数据汇总 summary";
    areas as;
    areas_init(&as, c);
    int rc = as.err ? oom() : villages_load(c, &as);
    if (!rc)
        rc = q_elections(c, &as);
    if (!rc) {
        villages_rollup(&as);
        villages_notes(c, &as, rp);
    }
    inc_scan x = {&as, NULL, NULL};
    if (!rc)
        rc = q_incidents(c, &x);
    if (!rc)
        rc = q_affairs(c, &as);
    if (!rc) {
        areas_sort(&as);
        sheet *s = report_add(rp, "by_area", "汇总 summary", summary_cols, NCOLS(summary_cols));
        if (s) {
            s->parts = summary_parts;
            s->nparts = (int)NCOLS(summary_parts);
            area_rows(s, &as, summary_row);
        }
    }
    areas_free(&as);
    return rc;
}

/* ---- elections ------------------------------------------------------------------------------- */

static const col election_cols[] = {
    {"id", "选举编号", T_STR, 0, 0},
    {"village", "村社区代码", T_STR, C_NOTABLE, 0},
    {"village_name", "村社区", T_STR, 0, 0},
    {"township", "乡镇代码", T_STR, C_NOTABLE, 0},
    {"township_name", "乡镇", T_STR, 0, 0},
    {"county", "县区代码", T_STR, C_NOTABLE, 0},
    {"county_name", "县区", T_STR, 0, 0},
    {"committee", "委员会代码", T_STR, C_NOTABLE, 0},
    {"committee_name", "委员会", T_STR, 0, 0},
    {"election_date", "选举日", T_STR, 0, 0},
    {"registered", "登记选民", T_NUM, 0, 0},
    {"voted", "投票人数", T_NUM, 0, 0},
    {"turnout_pct", "投票率%", T_NUM, 0, 0},
    {"seats", "应选名额", T_NUM, 0, 0},
    {"elected", "当选", T_NUM, 0, 0},
    {"unfilled", "空缺", T_NUM, 0, 0},
    {"women_elected", "女性当选", T_NUM, 0, 0},
    {"yijiantiao", "一肩挑", T_BOOL, 0, 0},
    {"finding_codes", "审查结果", T_STR, C_NOJSON, 0},
    {"finding_rules", "审查结果及依据", T_STR, C_NOTABLE | C_NOJSON, 0},
    {"findings", "审查结果", T_RAW, C_NOTABLE | C_NOCSV, 0},
};
static const col election_total_cols[] = {
    {"elections", "选举", T_NUM, 0, 0},         {"with_findings", "有审查结果", T_NUM, 0, 0},
    {"registered", "登记选民", T_NUM, 0, 0},    {"voted", "投票人数", T_NUM, 0, 0},
    {"turnout_pct", "投票率%", T_NUM, 0, 0},    {"seats", "应选名额", T_NUM, 0, 0},
    {"elected", "当选", T_NUM, 0, 0},           {"unfilled", "空缺", T_NUM, 0, 0},
    {"women_elected", "女性当选", T_NUM, 0, 0}, {"yijiantiao", "一肩挑", T_NUM, 0, 0},
};
static const col finding_cols[] = {
    {"code", "代码", T_STR, 0, 0},    {"text", "审查结果", T_STR, 0, 0},
    {"law", "依据", T_STR, 0, 0},     {"version", "版本", T_STR, 0, 0},
    {"article", "条款", T_STR, 0, 0}, {"elections", "选举数", T_NUM, 0, 0},
};

typedef struct elist {
    const ctx *c;
    sheet *s;
    int64_t n, with_findings, voters, ballots, seats, elected, unfilled, women, yjt;
    int64_t per_finding[GS_COMMITTEE__COUNT][GS_FIND__COUNT]; /* by committee kind */
    int err;
} elist;

/* Appends the rule a finding comes from: "村民委员会组织法(2018-12-29)第十五条". */
static void rule_text(const gs_finding_info *fi, gs_buf *b)
{
    gs_buf_puts(b, fi->law);
    if (fi->version[0])
        gs_buf_printf(b, "(%s)", fi->version);
    gs_buf_puts(b, fi->article);
}

static int election_row(sqlite3_stmt *st, void *arg)
{
    elist *e = arg;
    const ctx *c = e->c;
    const char *village = col_text(st, 1);
    const division *t = township_of(&c->div, village), *k = county_of(&c->div, village);
    int64_t R = sqlite3_column_int64(st, 4), B = sqlite3_column_int64(st, 5),
            seats = sqlite3_column_int64(st, 6), elected = sqlite3_column_int64(st, 7),
            unfilled = sqlite3_column_int64(st, 8), women = sqlite3_column_int64(st, 9);
    bool yjt = sqlite3_column_int64(st, 10) != 0;
    const char *findings = col_text(st, 11);
    const char *committee = col_text(st, 2);
    int ci = -1;
    for (int i = 0; gs_committee_names[i]; i++)
        if (!strcmp(gs_committee_names[i], committee))
            ci = i;

    /* the findings: codes, text with rules (CSV), objects (JSON) */
    gs_buf rules = GS_BUF_INIT, json = GS_BUF_INIT;
    gs_buf_putc(&json, '[');
    int nf = 0;
    for (const char *p = findings; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p);
        p += len + (end != NULL);
        if (!name[0])
            continue;
        gs_finding f = gs_finding_find(name);
        /* cited by the law of this election's committee */
        gs_committee kind = ci < 0 ? GS_COMMITTEE_VILLAGE : (gs_committee)ci;
        const gs_finding_info *fi = f < GS_FIND__COUNT ? gs_finding_cite(f, kind) : NULL;
        if (fi)
            e->per_finding[kind][f]++;
        if (nf)
            gs_buf_puts(&rules, "；");
        gs_buf_printf(&rules, "%s [%s", fi ? fi->zh : "未知审查结果 unknown finding", name);
        if (fi && fi->law[0]) {
            gs_buf_puts(&rules, "; ");
            rule_text(fi, &rules);
        }
        gs_buf_puts(&rules, "]");
        gs_buf_puts(&json, nf ? ", {\"code\": " : "{\"code\": ");
        gs_buf_json_str(&json, name);
        gs_buf_puts(&json, ", \"text\": ");
        gs_buf_json_str(&json, fi ? fi->zh : "");
        gs_buf_puts(&json, ", \"law\": ");
        gs_buf_json_str(&json, fi ? fi->law : "");
        gs_buf_puts(&json, ", \"version\": ");
        gs_buf_json_str(&json, fi ? fi->version : "");
        gs_buf_puts(&json, ", \"article\": ");
        gs_buf_json_str(&json, fi ? fi->article : "");
        gs_buf_putc(&json, '}');
        nf++;
    }
    gs_buf_putc(&json, ']');

    rowb r = row_begin(e->s);
    put_s(&r, col_text(st, 0));
    put_s(&r, village);
    put_s(&r, name_of(c, village));
    put_s(&r, t ? t->code : NULL);
    put_s(&r, t ? t->name : UNKNOWN_NAME);
    put_s(&r, k ? k->code : NULL);
    put_s(&r, k ? k->name : UNKNOWN_NAME);
    put_s(&r, committee);
    put_s(&r, ci >= 0 ? gs_committee_names_zh[ci] : committee);
    put_s(&r, col_text(st, 3));
    put_i(&r, R);
    put_i(&r, B);
    put_pct(&r, B, R);
    put_i(&r, seats);
    put_i(&r, elected);
    put_i(&r, unfilled);
    put_i(&r, women);
    put_b(&r, yjt);
    put_s(&r, findings);
    put_s(&r, rules.data ? rules.data : "");
    put_s(&r, json.data);
    row_end(&r);
    if (rules.err || json.err)
        e->s->err = 1;
    gs_buf_free(&rules);
    gs_buf_free(&json);

    e->n++;
    e->with_findings += nf > 0;
    e->voters += R;
    e->ballots += B;
    e->seats += seats;
    e->elected += elected;
    e->unfilled += unfilled;
    e->women += women;
    e->yjt += yjt;
    return 0;
}

static int run_elections(const ctx *c, report *rp)
{
    rp->title = "换届选举 elections";
    sheet *s =
        report_add(rp, "elections", "换届选举 elections", election_cols, NCOLS(election_cols));
    sheet *tot = attach_total(s, election_total_cols, NCOLS(election_total_cols));
    sheet *fs = report_add(rp, "findings", "审查结果及依据 findings and their rules", finding_cols,
                           NCOLS(finding_cols));
    if (!s || !tot || !fs)
        return oom();
    fs->no_csv = true;
    elist e = {0};
    e.c = c;
    e.s = s;
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT id, village_code, committee, election_date, coalesce(registered, 0), "
                    "coalesce(voted, 0), coalesce(seats_chair, 0) + coalesce(seats_vice, 0) + "
                    "coalesce(seats_member, 0), coalesce(elected, 0), coalesce(unfilled, 0), "
                    "coalesce(women_elected, 0), coalesce(yijiantiao, 0), coalesce(findings, '') "
                    "FROM elections WHERE _deleted = 0");
    where_area(&q, c, "village_code");
    where_dates(&q, c, "election_date");
    if (c->o.findings_only)
        gs_buf_puts(&q, " AND coalesce(findings, '') <> ''");
    gs_buf_puts(&q, " ORDER BY village_code, election_date, committee, id");
    int rc = run_query(c, &q, election_row, &e);
    if (rc)
        return rc;
    rowb r = row_begin(tot);
    put_i(&r, e.n);
    put_i(&r, e.with_findings);
    put_i(&r, e.voters);
    put_i(&r, e.ballots);
    put_pct(&r, e.ballots, e.voters);
    put_i(&r, e.seats);
    put_i(&r, e.elected);
    put_i(&r, e.unfilled);
    put_i(&r, e.women);
    put_i(&r, e.yjt);
    row_end(&r);
    /* one row per finding and citation: a finding of residents' committees
     * rests on another law than the same finding of villagers' committees */
    for (int f = GS_FIND_NONE + 1; f < GS_FIND__COUNT; f++) {
        for (int k = 0; k < GS_COMMITTEE__COUNT; k++) {
            const gs_finding_info *fi = gs_finding_cite((gs_finding)f, (gs_committee)k);
            int64_t n = 0;
            bool first = true;
            for (int j = 0; j < GS_COMMITTEE__COUNT; j++) {
                if (gs_finding_cite((gs_finding)f, (gs_committee)j) != fi)
                    continue;
                first = first && j >= k; /* the row is written at its first kind */
                n += e.per_finding[j][f];
            }
            if (!n || !first)
                continue;
            rowb fr = row_begin(fs);
            put_s(&fr, fi->name);
            put_s(&fr, fi->zh);
            put_s(&fr, fi->law[0] ? fi->law : NULL);
            put_s(&fr, fi->version[0] ? fi->version : NULL);
            put_s(&fr, fi->article[0] ? fi->article : NULL);
            put_i(&fr, n);
            row_end(&fr);
        }
    }
    return 0;
}

/* ---- incidents ------------------------------------------------------------------------------- */

static const col incident_area_cols[] = {
    AREA_COLS,
    {"opened", "新发事件", T_NUM, 0, 0},
    {"closed", "已结案", T_NUM, 0, 0},
    {"rejected", "不予受理", T_NUM, 0, 0},
    {"open", "未办结", T_NUM, 0, 0},
    {"open_0_7d", "未办结0-7天", T_NUM, 0, 0},
    {"open_8_30d", "8-30天", T_NUM, 0, 0},
    {"open_31_90d", "31-90天", T_NUM, 0, 0},
    {"open_over_90d", ">90天", T_NUM, 0, 0},
    {"median_days_to_close", "结案天数中位数", T_NUM, 0, 0},
};

static void incident_area_row(sheet *s, area *a)
{
    figs *f = &a->f;
    rowb r = area_row(s, a);
    put_i(&r, f->opened);
    put_i(&r, f->closed);
    put_i(&r, f->rejected);
    put_i(&r, f->open);
    for (int i = 0; i < 4; i++)
        put_i(&r, f->age[i]);
    put_median(&r, &f->close_days);
    row_end(&r);
}

#define STATUS_COL(name, zh)                                                                       \
    {                                                                                              \
        name, zh, T_NUM, 0, 0                                                                      \
    }
static const col category_cols[] = {
    {"category", "类别代码", T_STR, 0, 0}, {"name", "类别", T_STR, 0, 0},
    STATUS_COL("reported", "上报"),        STATUS_COL("accepted", "受理"),
    STATUS_COL("rejected", "不予受理"),    STATUS_COL("registered", "立案"),
    STATUS_COL("dispatched", "派遣"),      STATUS_COL("in_progress", "处置中"),
    STATUS_COL("suspended", "延期挂账"),   STATUS_COL("feedback", "处置反馈"),
    STATUS_COL("verified", "核查通过"),    STATUS_COL("closed", "结案"),
    STATUS_COL("evaluated", "综合评价"),   {"total", "合计", T_NUM, 0, 0},
};
_Static_assert(sizeof category_cols / sizeof category_cols[0] == GS_ST__COUNT + 3,
               "one column per status");

static const col stage_cols[] = {
    {"status", "环节代码", T_STR, 0, 0},
    {"name", "环节", T_STR, 0, 0},
    {"samples", "样本数", T_NUM, 0, 0},
    {"median_hours", "用时中位数(小时)", T_NUM, 0, 0},
};

/* ---- time per stage -------------------------------------------------------------------------- */

/* One status an incident entered: when (its change's hlc), from which
 * origin (its rank among the origins, for hlc ties, as the replica orders
 * them), and which status. 16 bytes, for millions of them. */
typedef struct stage_ev {
    uint64_t hlc;
    uint32_t incident;
    uint32_t origin_status; /* origin number << 8 | status */
} stage_ev;

typedef struct i64vec {
    int64_t *v;
    size_t n, cap;
} i64vec;

static int i64_push(i64vec *a, int64_t x)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_ev(const void *a, const void *b)
{
    const stage_ev *x = a, *y = b;
    if (x->incident != y->incident)
        return x->incident < y->incident ? -1 : 1;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    return (x->origin_status > y->origin_status) - (x->origin_status < y->origin_status);
}

typedef struct stage_acc {
    const idset *ids; /* the incidents covered */
    strmap origins;   /* origin -> number, in order of appearance */
    char **origin_names;
    size_t norigins;
    stage_ev *ev;
    size_t nev, cap;
    int status_field;
    int err;
} stage_acc;

/* One change of a covered incident that may set a status: decoded, and
 * kept as an event when it does. */
static int stage_row(sqlite3_stmt *st, void *arg)
{
    stage_acc *a = arg;
    long inc = idset_find(a->ids, col_text(st, 0));
    if (inc < 0)
        return 0;
    gs_change ch = {0};
    if (gs_change_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), &ch,
                         NULL))
        return 0; /* the hub stores only changes it decoded; skip rather than fail */
    int s = -1;
    if (ch.op == GS_OP_UPSERT && ch.rec->rt->id == GS_RT_INCIDENT &&
        ch.rec->v[a->status_field].state == GS_V_SET)
        s = status_index(gs_record_str(ch.rec, a->status_field));
    gs_change_clear(&ch);
    if (s < 0)
        return 0;
    const char *origin = col_text(st, 2);
    long o = map_get(&a->origins, origin);
    if (o < 0) {
        char **names = realloc(a->origin_names, (a->norigins + 1) * sizeof *names);
        if (!names)
            return oom();
        a->origin_names = names;
        if (!(names[a->norigins] = strdup(origin)) ||
            map_put(&a->origins, origin, (long)a->norigins)) {
            free(names[a->norigins]);
            return oom();
        }
        o = (long)a->norigins++;
        if (a->norigins >= (1u << 24))
            return say(1, "too many origins in the change log");
    }
    if (a->nev == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        stage_ev *p = realloc(a->ev, cap * sizeof *p);
        if (!p)
            return oom();
        a->ev = p;
        a->cap = cap;
    }
    a->ev[a->nev++] = (stage_ev){(uint64_t)sqlite3_column_int64(st, 1), (uint32_t)inc,
                                 (uint32_t)o << 8 | (uint32_t)s};
    return 0;
}

static int cmp_name_ptr(const void *a, const void *b)
{
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Ranks the origins as byte strings (the replica's tie-break) and rewrites
 * each event's origin number as its rank, so that sorting the events orders
 * every incident's changes as the replica does: by (hlc, origin). */
static int rank_origins(stage_acc *a)
{
    char ***order = malloc((a->norigins ? a->norigins : 1) * sizeof *order);
    uint32_t *rank = malloc((a->norigins ? a->norigins : 1) * sizeof *rank);
    if (!order || !rank) {
        free(order);
        free(rank);
        return oom();
    }
    for (size_t i = 0; i < a->norigins; i++)
        order[i] = &a->origin_names[i];
    qsort(order, a->norigins, sizeof *order, cmp_name_ptr);
    for (size_t i = 0; i < a->norigins; i++)
        rank[order[i] - a->origin_names] = (uint32_t)i;
    for (size_t i = 0; i < a->nev; i++)
        a->ev[i].origin_status =
            rank[a->ev[i].origin_status >> 8] << 8 | (a->ev[i].origin_status & 0xff);
    free(order);
    free(rank);
    return 0;
}

static void stage_free(stage_acc *a)
{
    map_free(&a->origins);
    for (size_t i = 0; i < a->norigins; i++)
        free(a->origin_names[i]);
    free(a->origin_names);
    free(a->ev);
}

/*
 * Time spent in each stage of the workflow, from the change history.
 *
 * Each incident's changes are taken in the replica's order, (hlc, origin);
 * a change that sets a status other than the current one enters it, and the
 * time from one entry to the next (HLC milliseconds) is time spent in the
 * earlier stage. Setting the same status again (a re-dispatch) continues the
 * stage; the current stage of an incident has no end yet and is not counted.
 *
 * Whole city or county: one sequential pass over the change log (only
 * changes whose body holds the key "status" are decoded), keeping the
 * changes of the covered incidents as 16-byte events, sorted in memory
 * afterwards. Reading the log in (rid, hlc) order through its index instead
 * would be a random read per change. A township or village: the index.
 */
static int run_stages(const ctx *c, sheet *s, const idset *ids)
{
    stage_acc *a = calloc(1, sizeof *a);
    i64vec *dur = calloc(GS_ST__COUNT, sizeof *dur);
    int rc = a && dur ? 0 : oom();
    if (!rc) {
        a->ids = ids;
        a->status_field = gs_field_find(gs_rectype_get(GS_RT_INCIDENT), "status");
    }
    if (!rc && ids->n) {
        /* X'a6737461747573' is the msgpack key "status" */
        gs_buf q = GS_BUF_INIT;
        bool narrow = c->o.level == LV_TOWNSHIP || c->o.level == LV_VILLAGE;
        gs_buf_printf(&q,
                      "SELECT c.rid, c.hlc, c.origin, c.body FROM changes c%s WHERE "
                      "c.rtype = 'incident' AND instr(c.body, X'a6737461747573') > 0",
                      narrow ? "" : " NOT INDEXED");
        if (narrow) {
            gs_buf_puts(&q, " AND c.rid IN (SELECT id FROM incidents WHERE _deleted = 0");
            where_area(&q, c, "village_code");
            where_dates(&q, c, "reported_at");
            gs_buf_puts(&q, ")");
        }
        rc = run_query(c, &q, stage_row, a);
    }
    if (!rc)
        rc = rank_origins(a);
    if (!rc) {
        qsort(a->ev, a->nev, sizeof *a->ev, cmp_ev);
        int prev = -1;
        int64_t prev_ms = 0;
        for (size_t i = 0; i < a->nev && !rc; i++) {
            const stage_ev *e = &a->ev[i];
            int st = (int)(e->origin_status & 0xff);
            int64_t ms = (int64_t)GS_HLC_MS(e->hlc);
            if (i == 0 || e->incident != a->ev[i - 1].incident)
                prev = -1;
            if (st == prev)
                continue;
            if (prev >= 0 && i64_push(&dur[prev], ms - prev_ms))
                rc = oom();
            prev = st;
            prev_ms = ms;
        }
    }
    for (int i = 0; !rc && i < GS_ST__COUNT; i++) {
        i64vec *d = &dur[i];
        rowb r = row_begin(s);
        put_s(&r, gs_status_names[i]);
        put_s(&r, gs_status_names_zh[i]);
        put_i(&r, (int64_t)d->n);
        if (d->n) {
            qsort(d->v, d->n, sizeof *d->v, cmp_i64);
            int64_t m2 = d->v[(d->n - 1) / 2] + d->v[d->n / 2];
            int64_t tenths = (m2 + 360000) / 720000; /* m2 / 2 ms in hours, x10, half up */
            put_fmt(&r, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
        } else
            put_null(&r);
        row_end(&r);
    }
    for (int i = 0; dur && i < GS_ST__COUNT; i++)
        free(dur[i].v);
    free(dur);
    if (a)
        stage_free(a);
    free(a);
    return rc;
}

static int category_name_row(sqlite3_stmt *st, void *arg)
{
    strmap *names = ((void **)arg)[0];
    char ***list = ((void **)arg)[1];
    size_t *n = ((void **)arg)[2];
    char **p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p)
        return oom();
    *list = p;
    if (!(p[*n] = strdup(col_text(st, 1))) || map_put(names, col_text(st, 0), (long)*n)) {
        free(p[*n]);
        return oom();
    }
    (*n)++;
    return 0;
}

static int cmp_cat(const void *a, const void *b)
{
    return strcmp(((const cat_row *)a)->code, ((const cat_row *)b)->code);
}

static void category_rows(sheet *s, cats *k, const strmap *names, char **list)
{
    qsort(k->r, k->n, sizeof *k->r, cmp_cat);
    for (size_t i = 0; i <= k->n; i++) {
        bool total = i == k->n;
        const int64_t *n = total ? k->total : k->r[i].n;
        long ni = total ? -1 : map_get(names, k->r[i].code);
        rowb r = row_begin(s);
        put_s(&r, total ? NULL : k->r[i].code);
        put_s(&r, total ? "合计 total" : ni >= 0 && *list[ni] ? list[ni] : k->r[i].code);
        int64_t sum = 0;
        for (int st = 0; st < GS_ST__COUNT; st++) {
            put_i(&r, n[st]);
            sum += n[st];
        }
        put_i(&r, sum);
        row_end(&r);
    }
    s->total_last = true;
}

static int run_incidents(const ctx *c, report *rp)
{
    rp->title = "网格事件 incidents";
    areas as;
    cats k;
    idset ids;
    strmap names;
    char **list = NULL;
    size_t nlist = 0;
    memset(&k, 0, sizeof k);
    memset(&ids, 0, sizeof ids);
    memset(&names, 0, sizeof names);
    areas_init(&as, c);
    inc_scan x = {&as, &k, &ids};
    int rc = as.err ? oom() : q_incidents(c, &x);
    if (!rc) {
        gs_buf q = GS_BUF_INIT;
        gs_buf_puts(&q, "SELECT code, coalesce(name_zh, '') FROM categories WHERE _deleted = 0");
        void *args[3] = {&names, &list, &nlist};
        rc = run_query(c, &q, category_name_row, args);
    }
    if (!rc) {
        areas_sort(&as);
        sheet *s = report_add(rp, "by_area", "按区划 by area (未办结按已过天数 open by age)",
                              incident_area_cols, NCOLS(incident_area_cols));
        sheet *cs = report_add(rp, "by_category", "按类别和状态 by category and status",
                               category_cols, NCOLS(category_cols));
        sheet *ss =
            report_add(rp, "stages", "各环节用时 time per stage", stage_cols, NCOLS(stage_cols));
        if (!s || !cs || !ss)
            rc = oom();
        else {
            area_rows(s, &as, incident_area_row);
            category_rows(cs, &k, &names, list);
            rc = run_stages(c, ss, &ids);
        }
    }
    areas_free(&as);
    cats_free(&k);
    idset_free(&ids);
    map_free(&names);
    for (size_t i = 0; i < nlist; i++)
        free(list[i]);
    free(list);
    return rc;
}

/* ---- councils -------------------------------------------------------------------------------- */

static const col council_area_cols[] = {
    AREA_COLS,
    {"villages", "村社区", T_NUM, 0, 0},
    {"villages_registered", "已开通", T_NUM, 0, 0},
    {"villages_with_council", "有理事会的村", T_NUM, 0, 0},
    {"coverage_pct", "覆盖率%", T_NUM, 0, 0},
    {"councils", "理事会", T_NUM, 0, 0},
    {"affairs_wedding", "红事", T_NUM, 0, 0},
    {"affairs_funeral", "白事", T_NUM, 0, 0},
    {"affairs_other", "其他", T_NUM, 0, 0},
    {"affairs_total", "事项合计", T_NUM, 0, 0},
    {"affairs_with_violations", "违规事项", T_NUM, 0, 0},
    {"violation_rate_pct", "违规率%", T_NUM, 0, 0},
};

static void council_area_row(sheet *s, area *a)
{
    figs *f = &a->f;
    rowb r = area_row(s, a);
    put_i(&r, f->villages);
    put_i(&r, f->registered);
    put_i(&r, f->council_villages);
    put_pct(&r, f->council_villages, f->villages);
    put_i(&r, f->councils);
    put_i(&r, f->affairs[GS_AFFAIR_WEDDING]);
    put_i(&r, f->affairs[GS_AFFAIR_FUNERAL]);
    put_i(&r, f->affairs[GS_AFFAIR_OTHER]);
    put_i(&r, affairs_total(f));
    put_i(&r, f->violating);
    put_pct(&r, f->violating, affairs_total(f));
    row_end(&r);
}

static const col standard_cols[] = {
    {"id", "理事会编号", T_STR, C_NOTABLE, 0},
    {"village", "村社区代码", T_STR, C_NOTABLE, 0},
    {"village_name", "村社区", T_STR, 0, 0},
    {"township_name", "乡镇", T_STR, 0, 0},
    {"county_name", "县区", T_STR, C_NOTABLE, 0},
    {"name", "理事会", T_STR, 0, 0},
    {"established_on", "成立日期", T_STR, 0, 0},
    {"max_tables", "桌数", T_NUM, 0, 0},
    {"max_cost_per_table", "每桌费用", T_NUM, 0, 0},
    {"max_gift", "礼金", T_NUM, 0, 0},
    {"max_cars", "车辆", T_NUM, 0, 0},
    {"max_funeral_days", "丧事天数", T_NUM, 0, 0},
    {"max_bride_price", "彩礼", T_NUM, 0, 0},
    {"cremation_required", "要求火化", T_BOOL, 0, 0},
};

static const col violation_cols[] = {
    {"code", "代码", T_STR, 0, 0},    {"text", "违规项", T_STR, 0, 0},
    {"source", "依据", T_STR, 0, 0},  {"wedding", "红事", T_NUM, 0, 0},
    {"funeral", "白事", T_NUM, 0, 0}, {"other", "其他", T_NUM, 0, 0},
    {"total", "合计", T_NUM, 0, 0},
};

static int standard_row(sqlite3_stmt *st, void *arg)
{
    const ctx *c = ((void **)arg)[0];
    sheet *s = ((void **)arg)[1];
    const char *village = col_text(st, 1);
    const division *t = township_of(&c->div, village), *k = county_of(&c->div, village);
    rowb r = row_begin(s);
    put_s(&r, col_text(st, 0));
    put_s(&r, village);
    put_s(&r, name_of(c, village));
    put_s(&r, t ? t->name : UNKNOWN_NAME);
    put_s(&r, k ? k->name : UNKNOWN_NAME);
    put_s(&r, col_text(st, 2));
    put_s(&r, sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : col_text(st, 3));
    for (int i = 4; i <= 9; i++)
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            put_null(&r);
        else
            put_i(&r, sqlite3_column_int64(st, i));
    put_b(&r, sqlite3_column_int64(st, 10) != 0);
    row_end(&r);
    return 0;
}

typedef struct viol_acc {
    int64_t n[GS_FIND__COUNT][GS_AFFAIR__COUNT];
} viol_acc;

static int violation_row(sqlite3_stmt *st, void *arg)
{
    viol_acc *v = arg;
    int ki = -1;
    for (int i = 0; gs_affair_kind_names[i]; i++)
        if (!strcmp(gs_affair_kind_names[i], col_text(st, 0)))
            ki = i;
    if (ki < 0)
        return 0;
    int ci = 1;
    for (int f = 0; f < GS_FIND__COUNT; f++)
        if (gs_finding_get((gs_finding)f)->severity == GS_SEV_VIOLATION)
            v->n[f][ki] += sqlite3_column_int64(st, ci++);
    return 0;
}

static int run_councils(const ctx *c, report *rp)
{
    rp->title = "红白理事会 councils";
    areas as;
    areas_init(&as, c);
    int rc = as.err ? oom() : villages_load(c, &as);
    if (!rc) {
        villages_rollup(&as);
        villages_notes(c, &as, rp);
        rc = q_councils(c, &as);
    }
    if (!rc)
        rc = q_affairs(c, &as);
    if (!rc) {
        areas_sort(&as);
        sheet *s = report_add(rp, "by_area", "覆盖与事项 coverage and affairs", council_area_cols,
                              NCOLS(council_area_cols));
        if (s)
            area_rows(s, &as, council_area_row);
    }
    areas_free(&as);
    if (rc)
        return rc;

    sheet *s = report_add(rp, "councils", "各理事会标准 standards of each council (- 未设上限)",
                          standard_cols, NCOLS(standard_cols));
    if (!s)
        return oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT id, village_code, name, established_on, max_tables, "
                    "max_cost_per_table, max_gift, max_cars, max_funeral_days, max_bride_price, "
                    "coalesce(cremation_required, 0) FROM councils WHERE _deleted = 0");
    where_area(&q, c, "village_code");
    gs_buf_puts(&q, " ORDER BY village_code, id");
    const void *args[2] = {c, s};
    if ((rc = run_query(c, &q, standard_row, (void *)args)))
        return rc;

    viol_acc *v = calloc(1, sizeof *v);
    if (!v)
        return oom();
    gs_buf_reset(&q);
    gs_buf_puts(&q, "SELECT kind");
    for (int f = 0; f < GS_FIND__COUNT; f++) {
        const gs_finding_info *fi = gs_finding_get((gs_finding)f);
        if (fi->severity == GS_SEV_VIOLATION)
            gs_buf_printf(&q, ", sum(instr(';' || coalesce(violations, '') || ';', ';%s;') > 0)",
                          fi->name);
    }
    gs_buf_printf(&q, " FROM affairs%s WHERE _deleted = 0", scan(c));
    where_area(&q, c, "village_code");
    where_dates(&q, c, "event_date");
    gs_buf_puts(&q, " GROUP BY kind");
    rc = run_query(c, &q, violation_row, v);
    sheet *vs = rc ? NULL
                   : report_add(rp, "violations", "违规项 violations by rule", violation_cols,
                                NCOLS(violation_cols));
    if (!rc && !vs)
        rc = oom();
    int64_t tot[GS_AFFAIR__COUNT + 1] = {0};
    for (int f = 0; !rc && f < GS_FIND__COUNT; f++) {
        const gs_finding_info *fi = gs_finding_get((gs_finding)f);
        if (fi->severity != GS_SEV_VIOLATION)
            continue;
        gs_buf src = GS_BUF_INIT;
        rule_text(fi, &src);
        rowb r = row_begin(vs);
        put_s(&r, fi->name);
        put_s(&r, fi->zh);
        put_s(&r, src.data ? src.data : "");
        gs_buf_free(&src);
        int64_t sum = 0;
        for (int k = 0; k < GS_AFFAIR__COUNT; k++) {
            put_i(&r, v->n[f][k]);
            tot[k] += v->n[f][k];
            sum += v->n[f][k];
        }
        put_i(&r, sum);
        tot[GS_AFFAIR__COUNT] += sum;
        row_end(&r);
    }
    if (!rc) {
        rowb r = row_begin(vs);
        put_null(&r);
        put_s(&r, "合计 total");
        put_null(&r);
        for (int k = 0; k <= GS_AFFAIR__COUNT; k++)
            put_i(&r, tot[k]);
        row_end(&r);
        vs->total_last = true;
    }
    free(v);
    return rc;
}

/* ---- nodes ----------------------------------------------------------------------------------- */

static const col node_cols[] = {
    {"id", "节点", T_STR, 0, 0},
    {"village", "村社区代码", T_STR, 0, 0},
    {"village_name", "村社区", T_STR, 0, 0},
    {"township_name", "乡镇", T_STR, 0, 0},
    {"county_name", "县区", T_STR, C_NOTABLE, 0},
    {"name", "名称", T_STR, 0, 0},
    {"enabled", "启用", T_BOOL, 0, 0},
    {"last_seen", "最后同步", T_STR, 0, 0},
    {"silent_days", "未同步天数", T_NUM, 0, 0},
    {"acked_seq", "已确认", T_NUM, 0, 0},
    {"pending", "待同步", T_NUM, 0, 0},
    {"rejected", "退回", T_NUM, 0, 0},
    {"clock_skew_s", "时钟偏差(秒)", T_NUM, 0, 0},
    {"software", "版本", T_STR, 0, 0},
};
static const col node_total_cols[] = {
    {"nodes", "节点", T_NUM, 0, 0},          {"enabled", "启用", T_NUM, 0, 0},
    {"reporting", "7日内同步", T_NUM, 0, 0}, {"never_seen", "从未同步", T_NUM, 0, 0},
    {"pending", "待同步", T_NUM, 0, 0},      {"rejected", "退回", T_NUM, 0, 0},
};

typedef struct node_acc {
    const ctx *c;
    sheet *s;
    int64_t n, enabled, reporting, never, pending, rejected;
} node_acc;

static int node_row(sqlite3_stmt *st, void *arg)
{
    node_acc *a = arg;
    const ctx *c = a->c;
    const char *village = col_text(st, 1);
    const division *t = township_of(&c->div, village), *k = county_of(&c->div, village);
    bool enabled = sqlite3_column_int64(st, 3) != 0;
    int64_t seen = sqlite3_column_int64(st, 4), pending = sqlite3_column_int64(st, 6),
            rejected = sqlite3_column_int64(st, 7), skew = sqlite3_column_int64(st, 8);
    rowb r = row_begin(a->s);
    put_s(&r, col_text(st, 0));
    put_s(&r, village);
    put_s(&r, name_of(c, village));
    put_s(&r, t ? t->name : UNKNOWN_NAME);
    put_s(&r, k ? k->name : UNKNOWN_NAME);
    put_s(&r, col_text(st, 2));
    put_b(&r, enabled);
    if (seen > 0) {
        char when[CST_TEXT_MAX];
        format_cst(seen, when);
        put_s(&r, when);
        int64_t silent = c->o.as_of_ms - seen;
        put_i(&r, silent > 0 ? silent / DAY_MS : 0);
    } else {
        put_null(&r);
        put_null(&r);
    }
    put_i(&r, sqlite3_column_int64(st, 5));
    put_i(&r, pending);
    put_i(&r, rejected);
    int64_t mag = skew < 0 ? -skew : skew, tenths = (mag + 50) / 100;
    put_fmt(&r, "%s%" PRId64 ".%" PRId64, skew < 0 && tenths ? "-" : "", tenths / 10, tenths % 10);
    put_s(&r, sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : col_text(st, 9));
    row_end(&r);
    a->n++;
    a->enabled += enabled;
    a->reporting += seen > 0 && seen >= c->o.as_of_ms - 7 * DAY_MS;
    a->never += seen <= 0;
    a->pending += pending;
    a->rejected += rejected;
    return 0;
}

/* The villages the nodes report lists, each under its most pressing state:
 * no node issued, a node issued but never synced, silent more than 30 days,
 * silent more than 7 days. The others (synced within 7 days) are not listed. */
enum { VS_NO_NODE, VS_NEVER, VS_OVER_30, VS_OVER_7, VS_OK };
static const char *const vstate_names[] = {"no_node", "never_synced", "silent_over_30d",
                                           "silent_over_7d"};
static const char *const vstate_names_zh[] = {"未开通", "从未同步", "超30天未同步",
                                              "超7天未同步"};

static const col village_state_cols[] = {
    {"state", "状态代码", T_STR, C_NOTABLE, 0},
    {"state_name", "状态", T_STR, 0, 0},
    {"village", "村社区代码", T_STR, 0, 0},
    {"village_name", "村社区", T_STR, 0, 0},
    {"township_name", "乡镇", T_STR, 0, 0},
    {"county_name", "县区", T_STR, 0, 0},
    {"listed", "名单内", T_BOOL, 0, 0},
    {"nodes", "节点", T_NUM, 0, 0},
    {"last_seen", "最后同步", T_STR, 0, 0},
    {"silent_days", "未同步天数", T_NUM, 0, 0},
};
static const col village_state_total_cols[] = {
    {"villages", "村社区", T_NUM, 0, 0},
    {"no_node", "未开通", T_NUM, 0, 0},
    {"never_synced", "从未同步", T_NUM, 0, 0},
    {"silent_over_7d", "超7天未同步", T_NUM, 0, 0},
    {"silent_over_30d", "超30天未同步", T_NUM, 0, 0},
    {"reporting", "7日内同步", T_NUM, 0, 0},
};

static int village_state(const ctx *c, const vstate *v)
{
    if (v->nodes == 0)
        return VS_NO_NODE;
    if (v->last_seen_ms <= 0)
        return VS_NEVER;
    if (v->last_seen_ms < c->o.as_of_ms - 30 * DAY_MS)
        return VS_OVER_30;
    if (v->last_seen_ms < c->o.as_of_ms - 7 * DAY_MS)
        return VS_OVER_7;
    return VS_OK;
}

static int cmp_vstate_code(const void *x, const void *y)
{
    return strcmp(((const vstate *)x)->code, ((const vstate *)y)->code);
}

/* The villages without a node or silent, per the area's village list
 * (villages_load), and their counts. */
static int village_states(const ctx *c, report *rp)
{
    sheet *s = report_add(rp, "villages",
                          "村社区 villages: 未开通、从未同步、超30天和超7天未同步 without a node or "
                          "silent",
                          village_state_cols, NCOLS(village_state_cols));
    sheet *tot = attach_total(s, village_state_total_cols, NCOLS(village_state_total_cols));
    if (!s || !tot)
        return oom();
    areas as;
    areas_init(&as, c);
    int rc = as.err ? oom() : villages_load(c, &as);
    if (rc) {
        areas_free(&as);
        return rc;
    }
    villages_notes(c, &as, rp);
    qsort(as.v, as.nv, sizeof *as.v, cmp_vstate_code); /* vidx is stale from here */
    int64_t n[VS_OK + 1] = {0};
    for (int state = VS_NO_NODE; state < VS_OK; state++)
        for (size_t i = 0; i < as.nv; i++) {
            const vstate *v = &as.v[i];
            if (village_state(c, v) != state)
                continue;
            const division *t = township_of(&c->div, v->code), *k = county_of(&c->div, v->code);
            rowb r = row_begin(s);
            put_s(&r, vstate_names[state]);
            put_s(&r, vstate_names_zh[state]);
            put_s(&r, v->code);
            put_s(&r, name_of(c, v->code));
            put_s(&r, t ? t->name : UNKNOWN_NAME);
            put_s(&r, k ? k->name : UNKNOWN_NAME);
            put_b(&r, v->listed);
            put_i(&r, v->nodes);
            if (v->last_seen_ms > 0) {
                char when[CST_TEXT_MAX];
                format_cst(v->last_seen_ms, when);
                put_s(&r, when);
                int64_t silent = c->o.as_of_ms - v->last_seen_ms;
                put_i(&r, silent > 0 ? silent / DAY_MS : 0);
            } else {
                put_null(&r);
                put_null(&r);
            }
            row_end(&r);
        }
    for (size_t i = 0; i < as.nv; i++)
        n[village_state(c, &as.v[i])]++;
    rowb r = row_begin(tot);
    put_i(&r, (int64_t)as.nv);
    put_i(&r, n[VS_NO_NODE]);
    put_i(&r, n[VS_NEVER]);
    put_i(&r, n[VS_OVER_7] + n[VS_OVER_30]);
    put_i(&r, n[VS_OVER_30]);
    put_i(&r, n[VS_OK]);
    row_end(&r);
    areas_free(&as);
    return 0;
}

static int run_nodes(const ctx *c, report *rp)
{
    rp->title = "节点同步状况 nodes";
    node_acc a = {0};
    a.c = c;
    a.s = report_add(rp, "nodes", "节点 nodes (最久未同步在前 oldest silence first)", node_cols,
                     NCOLS(node_cols));
    sheet *tot = attach_total(a.s, node_total_cols, NCOLS(node_total_cols));
    if (!a.s || !tot)
        return oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT n.id, n.village, n.name, n.enabled, n.last_seen_ms, n.acked_through, "
                    "n.pending, (SELECT count(*) FROM quarantine q WHERE q.origin = n.id), "
                    "n.skew_ms, n.software FROM nodes n WHERE 1");
    where_area(&q, c, "n.village");
    gs_buf_puts(&q, " ORDER BY n.last_seen_ms, n.id");
    int rc = run_query(c, &q, node_row, &a);
    if (rc)
        return rc;
    rowb r = row_begin(tot);
    put_i(&r, a.n);
    put_i(&r, a.enabled);
    put_i(&r, a.reporting);
    put_i(&r, a.never);
    put_i(&r, a.pending);
    put_i(&r, a.rejected);
    row_end(&r);
    return village_states(c, rp);
}

/* ---- entry point ----------------------------------------------------------------------------- */

typedef struct kind {
    const char *name;
    int (*run)(const ctx *, report *);
    bool dates; /* --since/--until apply */
} kind;

static const kind kinds[] = {
    {"summary", run_summary, true},     {"elections", run_elections, true},
    {"incidents", run_incidents, true}, {"councils", run_councils, true},
    {"nodes", run_nodes, false},
};

/* Checks the area code against the division table (the syntax was checked
 * while parsing): a county or township must be a known one. */
static int check_area(const ctx *c)
{
    const ropts *o = &c->o;
    if (o->level == LV_COUNTY && strcmp(o->area, UNKNOWN) && !div_level(&c->div, o->area, "county"))
        return say(2,
                   "--county %s: not a county in the division table (gridhub refdata load "
                   "divisions FILE loads it)",
                   o->area);
    if (o->level == LV_TOWNSHIP && !div_level(&c->div, o->area, "township"))
        return say(2,
                   "--township %s: not a township in the division table (gridhub refdata "
                   "load divisions FILE loads it)",
                   o->area);
    if (o->level == LV_VILLAGE && !gs_village_code_valid(o->area))
        return say(2, "--village %s: expected a 12-digit village code", o->area);
    return 0;
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
    const kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, c.o.kind))
            k = &kinds[i];
    if (!k)
        return say(2, "unknown report \"%s\": summary, elections, incidents, councils or nodes",
                   c.o.kind);
    if (!k->dates && (c.o.since[0] || c.o.until[0]))
        return say(2, "--since/--until do not apply to the %s report", k->name);
    if (c.o.findings_only && k->run != run_elections)
        return say(2, "--findings-only applies to the elections report only");
    if (!db)
        return say(1, "no database");
    if ((rc = divmap_load(db, &c.div)))
        return rc;
    if (!(rc = check_area(&c))) {
        /* A small page cache: the reports read the big tables straight
         * through once, and every page a cache grows by is fresh memory. */
        sqlite3_exec(db, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
        /* one read transaction: every figure comes from the same snapshot */
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        report rp = {0};
        rc = k->run(&c, &rp);
        if (!rc)
            rc = render(&c, &rp);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        for (int i = 0; i < rp.n; i++)
            sheet_free(&rp.sheets[i]);
        for (int i = 0; i < rp.nnotes; i++)
            free(rp.notes[i]);
    }
    divmap_free(&c.div);
    return rc;
}
