/*
 * hub/report_int.h: what the files of `gridhub report` share (internal to
 * hub/report*.c; the command's entry is report.h).
 *
 *   report.c            options, the query helpers, output, the entry point
 *   report_map.c        a string map, growable arrays, day-count histograms
 *   report_area.c       divisions, the roll-up of villages into areas, the
 *                       villages of an area, the per-village queries
 *   report_summary.c, report_elections.c, report_incidents.c,
 *   report_councils.c, report_nodes.c: one report each, its sheet
 *                       definitions (gridsync/sheet.h) and its queries
 *
 * Internal names carry the prefix rpt_. Errors: a function returning int
 * returns 0 or the exit status of an error already printed (rpt_say).
 */
#ifndef HUB_REPORT_INT_H
#define HUB_REPORT_INT_H

#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/change.h"
#include "gridsync/hlc.h"
#include "gridsync/rules.h"
#include "gridsync/schema.h"
#include "gridsync/sheet.h"

#define DAY_MS       86400000LL
#define CST_MS       (8LL * 3600 * 1000) /* China Standard Time, UTC+08:00 */
#define UNKNOWN      "unknown"
#define UNKNOWN_NAME "未知区划 unknown"
#define NCOLS(a)     (sizeof(a) / sizeof((a)[0]))

/* ---- errors (report.c) ------------------------------------------------------------------------ */

/* Prints "gridhub: report: ..." on stderr and returns code. */
int rpt_say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rpt_db_error(sqlite3 *db);
int rpt_oom(void);

/* ---- options and context (report.c) ----------------------------------------------------------- */

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_XLSX } out_format;

/* The level of the rows: what the area filter selects. */
typedef enum { LV_CITY, LV_COUNTY, LV_TOWNSHIP, LV_VILLAGE } area_level;

/* Room for any instant rpt_datetime writes. */
#define CST_TEXT_MAX 80

typedef struct ropts {
    const char *kind;
    area_level level;
    const char *area_opt; /* the option that set level, for messages */
    char area[16];        /* the county, township or village code, or "unknown" */
    char since[11], until[11], until_next[11]; /* "" when not given */
    int64_t as_of_ms;
    char as_of[CST_TEXT_MAX];
    out_format format;
    const char *out; /* --out FILE (xlsx) */
    bool bom, findings_only;
    bool no_stages; /* incidents: leave out `stages` (a scan of the change log) */
    int cache_kib;  /* the page cache while it runs, KiB (0: 16 MiB) */
} ropts;

/* ---- the division table (report_area.c) ------------------------------------------------------- */

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

int rpt_divmap_load(sqlite3 *db, divmap *m);
void rpt_divmap_free(divmap *m);
const division *rpt_div_find(const divmap *m, const char *code);
const division *rpt_div_level(const divmap *m, const char *code, const char *level);
/* The known township of a village code (its first 9 digits), or NULL. */
const division *rpt_township_of(const divmap *m, const char *village);
/* The known county of a village, through its township's parent_code; NULL
 * when either is unknown (the village is then in the unknown group). */
const division *rpt_county_of(const divmap *m, const char *village);

/* The committee kinds of village-level units, in the order of the division
 * record's `committee` values. */
enum { KIND_VILLAGERS, KIND_RESIDENTS, KIND__COUNT };

typedef struct ctx {
    sqlite3 *db;
    ropts o;
    divmap div;
} ctx;

/* The display name of a division code: its name in the table, else the code. */
const char *rpt_name_of(const ctx *c, const char *code);

/* ---- queries (report.c; rule text in report_elections.c, statuses in report_area.c) ----------------------------------------------------------------------- */

/* Appends " AND <col is in the selected area>" to a query. */
void rpt_where_area(gs_buf *q, const ctx *c, const char *col);
/* Appends the --since/--until conditions on a date or datetime column. */
void rpt_where_dates(gs_buf *q, const ctx *c, const char *col);
/* What follows a table's name in a query, up to the end of the first WHERE
 * condition: " NOT INDEXED WHERE +_deleted = 0" for a whole-city or
 * whole-county query (read straight through), else " WHERE _deleted = 0". */
const char *rpt_scan_where(const ctx *c);
typedef int (*row_fn)(sqlite3_stmt *st, void *arg);
/* Runs the query in q (freed), calling fn for each row; 0 or an exit status. */
int rpt_query(const ctx *c, gs_buf *q, row_fn fn, void *arg);
/* Column i as text, "" for NULL. */
const char *rpt_text(sqlite3_stmt *st, int i);
/* The instant ms as China time, "2026-04-01T00:00:00+08:00". */
void rpt_datetime(int64_t ms, char out[CST_TEXT_MAX]);
/* Appends the rule a finding comes from: "村民委员会组织法(2018-12-29)第十五条". */
void rpt_rule_text(const gs_finding_info *fi, gs_buf *b);
/* The index of a status name in gs_status_names, or -1. */
int rpt_status_index(const char *s);

/* ---- containers (report_map.c) ---------------------------------------------------------------- */

typedef struct strmap {
    char **keys;
    long *vals;
    size_t cap, n;
} strmap;

uint64_t rpt_hash(const char *s);
/* The value of k, or -1. */
long rpt_map_get(const strmap *m, const char *k);
int rpt_map_put(strmap *m, const char *k, long v);
void rpt_map_free(strmap *m);
/* Makes room for one more element in a growable array *p of *cap elements
 * of size bytes holding n (doubling, from first); false when out of memory,
 * *p then unchanged. */
bool rpt_vec_room(void *p, size_t *cap, size_t n, size_t size, size_t first);

/* A multiset of small non-negative integers (day counts), as a count per
 * value, for exact medians: merging and the median walk are linear. */
typedef struct hist {
    int64_t *count; /* count[v]: how many times v */
    size_t len;
    int err;
} hist;

void rpt_hist_add(hist *h, int64_t v, int64_t n);
void rpt_hist_free(hist *h);
/* The median of h with one decimal (exact: x.0 or x.5); missing when empty. */
void rpt_put_median(gs_row *r, const hist *h);

/* ---- areas (report_area.c) -------------------------------------------------------------------- */

/* The figures of one area, each a sum over its villages (the histograms merge). */
typedef struct figs {
    /* villages: the denominator of every per-village rate (see rpt_villages_load) */
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

/* One village of the area as the per-village figures see it. */
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
    vstate *v;   /* the villages of the area, once rpt_villages_load ran */
    size_t nv, vcap;
    strmap vidx;                   /* village code -> v[] */
    int64_t list_size, unlisted_n; /* village rows in the whole table; villages of v not listed */
    int err;
} areas;

/* The rows every report shows even when empty. */
void rpt_areas_init(areas *as, const ctx *c);
/* The row village rolls up into, or NULL when it lies outside the area. */
area *rpt_area_of(areas *as, const char *village);
void rpt_areas_free(areas *as);
/* Sorts the rows by code, the unknown group last; the maps are stale after. */
void rpt_areas_sort(areas *as);
/* The state of village code, or NULL when outside the area; added when add. */
vstate *rpt_village_get(areas *as, const char *code, bool add);
/* The villages every per-village rate of the area divides by. */
int rpt_villages_load(const ctx *c, areas *as);
/* Adds each village of rpt_villages_load to its row and to the total. */
void rpt_villages_rollup(areas *as);
/* Notes what the denominators are when they are not the village list. */
void rpt_villages_notes(const ctx *c, const areas *as, gs_doc *rp);

/* The row and the total: every contribution goes to both. */
#define BOTH(a, as, stmt)                                                                          \
    do {                                                                                           \
        area *targets_[2] = {(a), &(as)->total};                                                   \
        for (int k_ = 0; k_ < 2; k_++) {                                                           \
            figs *F = &targets_[k_]->f;                                                            \
            stmt;                                                                                  \
        }                                                                                          \
    } while (0)

int rpt_q_elections(const ctx *c, areas *as);
int rpt_q_affairs(const ctx *c, areas *as);
int rpt_q_councils(const ctx *c, areas *as);
/* One pass over the incidents of the area and period; each incident inside
 * the area is also given to each (when not NULL) with the row: columns
 * village, kind, days, age, category, status, id. */
int rpt_q_incidents(const ctx *c, areas *as, row_fn each, void *arg);

/* The affair columns of an area row, the same in the summary and the
 * councils report (part: the summary's column group), and their cells. */
#define AFFAIR_COLS(part)                                                                          \
    {"affairs_wedding", "红事", GS_CT_INT, 0, part, NULL, GS_ROLL_SUM},                            \
        {"affairs_funeral", "白事", GS_CT_INT, 0, part, NULL, GS_ROLL_SUM},                        \
        {"affairs_other", "其他", GS_CT_INT, 0, part, NULL, GS_ROLL_SUM},                          \
        {"affairs_total", "事项合计", GS_CT_INT, 0, part, NULL, GS_ROLL_SUM},                      \
        {"affairs_with_violations", "违规事项", GS_CT_INT, 0, part, NULL, GS_ROLL_SUM},            \
        {"violation_rate_pct", "违规率%", GS_CT_DEC, 0, part, "%", GS_ROLL_RATIO}
void rpt_affair_cells(gs_row *r, const figs *f);

/* The three leading columns of an area row: level, code, name. */
#define AREA_COLS                                                                                  \
    {"level", "级别", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},                          \
        {"code", "区划代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},                                \
        {"name", "名称", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE}
/* Starts an area row with its three leading cells. */
gs_row rpt_area_row(gs_sheet *s, const area *a);
/* The four cells that place a village in a list: its code, its name, its
 * township's and its county's names (UNKNOWN_NAME when not known). */
void rpt_place_cells(gs_row *r, const ctx *c, const char *village);
/* The two cells of a last sync: when (China time) and the whole days since,
 * as of the report's day; two nulls when never (seen_ms <= 0). */
void rpt_seen_cells(gs_row *r, const ctx *c, int64_t seen_ms);
/* Emits every row, then the total (the last row), through fn. */
void rpt_area_rows(gs_sheet *s, areas *as, void (*fn)(gs_sheet *, area *));

/* ---- the reports ------------------------------------------------------------------------------ */

int rpt_summary(const ctx *c, gs_doc *rp);
int rpt_elections(const ctx *c, gs_doc *rp);
int rpt_incidents(const ctx *c, gs_doc *rp);
int rpt_councils(const ctx *c, gs_doc *rp);
int rpt_nodes(const ctx *c, gs_doc *rp);

#endif
