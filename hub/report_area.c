/*
 * report_area.c: the areas of `gridhub report`: the division table, how a
 * village rolls up into exactly one row (a county, a township or a village,
 * depending on --county/--township/--village) and into the total, the
 * villages every per-village rate divides by, and the per-village queries
 * the summary and the councils report share.
 *
 * A village's township is its first 9 digits, the township's county is the
 * township's parent_code in `divisions` (so 邓襄镇 411171102 belongs to 开发区
 * 411171 whatever its digits say). A village whose township is not a known
 * township, or whose township's county is not a known county, belongs to
 * the "未知区划 unknown" group; nothing is dropped.
 *
 * Invariants: each village contributes to one row and to the total (BOTH),
 * and nothing else feeds the total, so every count in a total row is the
 * sum of the rows above it; percentages and medians are recomputed from
 * the pooled parts, never summed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* ---- the division table ---------------------------------------------------------------------- */



void rpt_divmap_free(divmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->d[i].name);
    free(m->d);
    memset(m, 0, sizeof *m);
}

int rpt_divmap_load(sqlite3 *db, divmap *m)
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
        return rpt_db_error(db);
    size_t cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n == cap) {
            cap = cap ? cap * 2 : 128;
            division *p = realloc(m->d, cap * sizeof *p);
            if (!p) {
                rc = rpt_oom();
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
            rc = rpt_oom();
            break;
        }
        m->n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = rpt_db_error(db);
    sqlite3_finalize(st);
    return rc;
}

const division *rpt_div_find(const divmap *m, const char *code)
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

const division *rpt_div_level(const divmap *m, const char *code, const char *level)
{
    const division *d = rpt_div_find(m, code);
    return d && !strcmp(d->level, level) ? d : NULL;
}

/* The known township of a village code (its first 9 digits), or NULL. */
const division *rpt_township_of(const divmap *m, const char *village)
{
    char t[10];
    if (strlen(village) < 9)
        return NULL;
    memcpy(t, village, 9);
    t[9] = '\0';
    return rpt_div_level(m, t, "township");
}

/* The known county of a village, through its township's parent_code; NULL
 * when either is unknown (the village is then in the unknown group). */
const division *rpt_county_of(const divmap *m, const char *village)
{
    const division *t = rpt_township_of(m, village);
    return t ? rpt_div_level(m, t->parent, "county") : NULL;
}

/* The committee kinds of village-level units, in the order of the division
 * record's `committee` values, and the election committee each one elects. */
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
    const gs_field *f = &gs_rectype_get(GS_RT_DIVISION)->fields[GS_DIVISION_COMMITTEE];
    int k = d && d->committee[0] ? gs_enum_find(f, d->committee) : -1;
    return k >= 0 && k < KIND__COUNT ? k : hub_village_kind_of_code(code);
}

/* A village row of the division table: one of the villages the city expects. */
static bool is_listed_village(const division *d)
{
    return !strcmp(d->level, "village") && strlen(d->code) == 12;
}

/* ---- areas: the rows a village rolls up into ------------------------------------------------- */





static area *area_add(areas *as, const char *code, const char *level, const char *name)
{
    long i = rpt_map_get(&as->idx, code);
    if (i >= 0)
        return &as->a[i];
    if (!rpt_vec_room(&as->a, &as->cap, as->n, sizeof *as->a, 32)) {
        as->err = 1;
        return NULL;
    }
    area *a = &as->a[as->n];
    memset(a, 0, sizeof *a);
    snprintf(a->code, sizeof a->code, "%s", code);
    a->level = level;
    a->name = strdup(name);
    if (!a->name || rpt_map_put(&as->idx, code, (long)as->n)) {
        free(a->name);
        as->err = 1;
        return NULL;
    }
    as->n++;
    return a;
}

/* The rows every report shows even when empty: all counties of the city,
 * all townships of the county, the known villages of the township. */
void rpt_areas_init(areas *as, const ctx *c)
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
        t->name = strdup(strcmp(o->area, UNKNOWN) ? rpt_name_of(c, o->area) : UNKNOWN_NAME);
        t->level = strcmp(o->area, UNKNOWN) ? "county" : UNKNOWN;
        break;
    case LV_TOWNSHIP:
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->d[i].level, "village") && strlen(m->d[i].code) == 12 &&
                !strncmp(m->d[i].code, o->area, 9))
                area_add(as, m->d[i].code, "village", m->d[i].name);
        snprintf(t->code, sizeof t->code, "%s", o->area);
        t->name = strdup(rpt_name_of(c, o->area));
        t->level = "township";
        break;
    case LV_VILLAGE:
        area_add(as, o->area, "village", rpt_name_of(c, o->area));
        snprintf(t->code, sizeof t->code, "%s", o->area);
        t->name = strdup(rpt_name_of(c, o->area));
        t->level = "village";
        break;
    }
    if (!t->name)
        as->err = 1;
}

/* The row village rolls up into, or NULL when it lies outside the area.
 * Remembered per village: a scan asks once per row, in any order. */
area *rpt_area_of(areas *as, const char *village)
{
    long known = rpt_map_get(&as->memo, village);
    if (known != -1)
        return known >= 0 ? &as->a[known] : NULL; /* -2: outside */
    const ctx *c = as->c;
    const ropts *o = &c->o;
    const division *k = NULL, *t = NULL;
    area *a = NULL;
    switch (o->level) {
    case LV_CITY:
        k = rpt_county_of(&c->div, village);
        a = k ? area_add(as, k->code, "county", k->name)
              : area_add(as, UNKNOWN, UNKNOWN, UNKNOWN_NAME);
        break;
    case LV_COUNTY:
        k = rpt_county_of(&c->div, village);
        if (!strcmp(o->area, UNKNOWN)) {
            if (!k)
                a = area_add(as, village, "village", rpt_name_of(c, village));
        } else if (k && !strcmp(k->code, o->area)) {
            t = rpt_township_of(&c->div, village);
            a = area_add(as, t->code, "township", t->name);
        }
        break;
    case LV_TOWNSHIP:
        if (strlen(village) == 12 && !strncmp(village, o->area, 9))
            a = area_add(as, village, "village", rpt_name_of(c, village));
        break;
    case LV_VILLAGE:
        if (!strcmp(village, o->area))
            a = area_add(as, village, "village", rpt_name_of(c, village));
        break;
    }
    /* -2: outside (rpt_map_get's -1 means "not asked yet") */
    if (rpt_map_put(&as->memo, village, a ? (long)(a - as->a) : -2))
        as->err = 1;
    return a;
}

void rpt_areas_free(areas *as)
{
    free(as->v);
    rpt_map_free(&as->vidx);
    for (size_t i = 0; i < as->n; i++) {
        free(as->a[i].name);
        rpt_hist_free(&as->a[i].f.close_days);
    }
    free(as->a);
    free(as->total.name);
    rpt_hist_free(&as->total.f.close_days);
    rpt_map_free(&as->idx);
    rpt_map_free(&as->memo);
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
void rpt_areas_sort(areas *as)
{
    if (as->n > 1) /* qsort of NULL, even of no elements, is undefined */
        qsort(as->a, as->n, sizeof *as->a, cmp_area);
}

/* The row and the total: every contribution goes to both. */
/* ---- per-village queries shared by the reports ----------------------------------------------- */

/* ---- the villages of an area: the denominators -------------------------------------------- */

/* The state of village code, or NULL when it lies outside the area; added
 * (as not listed, its kind from its code) when add is set and it is new. */
vstate *rpt_village_get(areas *as, const char *code, bool add)
{
    long i = rpt_map_get(&as->vidx, code);
    if (i >= 0)
        return &as->v[i];
    if (!add || !rpt_area_of(as, code))
        return NULL;
    if (!rpt_vec_room(&as->v, &as->vcap, as->nv, sizeof *as->v, 256)) {
        as->err = 1;
        return NULL;
    }
    vstate *v = &as->v[as->nv];
    memset(v, 0, sizeof *v);
    snprintf(v->code, sizeof v->code, "%s", code);
    v->kind = hub_village_kind_of_code(code);
    if (rpt_map_put(&as->vidx, code, (long)as->nv)) {
        as->err = 1;
        return NULL;
    }
    as->nv++;
    return v;
}

static int village_nodes_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    vstate *v = rpt_village_get(as, rpt_text(st, 0), true);
    if (v) {
        v->nodes = sqlite3_column_int64(st, 1);
        v->last_seen_ms = sqlite3_column_int64(st, 2);
    }
    return as->err ? rpt_oom() : 0;
}

static int village_council_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    vstate *v = rpt_village_get(as, rpt_text(st, 0), true);
    if (v)
        v->council = true;
    return as->err ? rpt_oom() : 0;
}

static int village_data_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    rpt_village_get(as, rpt_text(st, 0), true);
    return as->err ? rpt_oom() : 0;
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
int rpt_villages_load(const ctx *c, areas *as)
{
    for (size_t i = 0; i < c->div.n; i++) {
        const division *d = &c->div.d[i];
        if (!is_listed_village(d))
            continue;
        as->list_size++;
        vstate *v = rpt_village_get(as, d->code, true);
        if (v) {
            v->listed = true;
            v->kind = kind_of(d, d->code);
        }
    }
    if (as->err)
        return rpt_oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT village, count(*), max(coalesce(last_seen_ms, 0)) FROM nodes WHERE 1");
    rpt_where_area(&q, c, "village");
    gs_buf_puts(&q, " GROUP BY village");
    int rc = rpt_query(c, &q, village_nodes_row, as);
    if (!rc) {
        gs_buf_reset(&q);
        gs_buf_puts(&q, "SELECT village_code FROM councils WHERE _deleted = 0");
        rpt_where_area(&q, c, "village_code");
        gs_buf_puts(&q, " GROUP BY village_code");
        rc = rpt_query(c, &q, village_council_row, as);
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
        rc = rpt_query(c, &q, village_data_row, as);
    }
    for (size_t i = 0; i < as->nv; i++)
        as->unlisted_n += !as->v[i].listed;
    return rc;
}

/* Adds each village of rpt_villages_load to its row and to the total. */
void rpt_villages_rollup(areas *as)
{
    int64_t rep_from = as->c->o.as_of_ms - 7 * DAY_MS;
    for (size_t i = 0; i < as->nv; i++) {
        const vstate *v = &as->v[i];
        area *a = rpt_area_of(as, v->code);
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
void rpt_villages_notes(const ctx *c, const areas *as, gs_doc *rp)
{
    int64_t listed = 0;
    for (size_t i = 0; i < as->nv; i++)
        listed += as->v[i].listed;
    if (as->list_size == 0)
        gs_doc_note(rp,
                    "未加载村社区名单 (gridhub refdata load divisions data/luohe_villages.csv)，各比率"
                    "的分母暂为有节点或有数据的村社区 no village list is loaded: rates are over the "
                    "villages that have a node or data");
    else if (listed == 0)
        gs_doc_note(rp,
                    "本范围 %s 没有名单内的村社区，各比率的分母为有节点或有数据的村社区 no village "
                    "of the list lies in this area: rates are over the villages that have a node "
                    "or data",
                    c->o.level == LV_CITY ? "全市" : c->o.area);
    if (as->unlisted_n > 0)
        gs_doc_note(rp,
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
    area *a = rpt_area_of(e->as, e->village);
    if (a && e->voters > 0 && 20 * e->ballots < 19 * e->voters)
        BOTH(a, e->as, F->low_turnout++);
    e->village[0] = '\0';
    e->voters = e->ballots = 0;
}

static int elect_row(sqlite3_stmt *st, void *arg)
{
    elect_acc *e = arg;
    const char *v = rpt_text(st, 0);
    if (strcmp(v, e->village)) {
        elect_flush(e);
        snprintf(e->village, sizeof e->village, "%s", v);
    }
    area *a = rpt_area_of(e->as, v);
    if (!a)
        return e->as->err ? rpt_oom() : 0;
    int ci = -1;
    for (int i = 0; gs_committee_names[i]; i++)
        if (!strcmp(gs_committee_names[i], rpt_text(st, 1)))
            ci = i;
    int64_t n = sqlite3_column_int64(st, 2), R = sqlite3_column_int64(st, 3),
            B = sqlite3_column_int64(st, 4);
    /* held: an election of the committee of the village's own kind */
    vstate *vs = rpt_village_get(e->as, v, false);
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

int rpt_q_elections(const ctx *c, areas *as)
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
    gs_buf_printf(&q, "%s", rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "election_date");
    gs_buf_puts(&q, " GROUP BY village_code, committee ORDER BY village_code, committee");
    elect_acc e = {as, "", 0, 0};
    int rc = rpt_query(c, &q, elect_row, &e);
    if (!rc)
        elect_flush(&e);
    return rc;
}

int rpt_status_index(const char *s)
{
    for (int i = 0; gs_status_names[i]; i++)
        if (!strcmp(gs_status_names[i], s))
            return i;
    return -1;
}

/* Incidents by category and status. */
typedef struct inc_scan {
    areas *as;
    row_fn each;
    void *arg;
} inc_scan;

static int incidents_row(sqlite3_stmt *st, void *arg)
{
    inc_scan *x = arg;
    area *a = rpt_area_of(x->as, rpt_text(st, 0));
    if (!a)
        return x->as->err ? rpt_oom() : 0;
    int kind = sqlite3_column_int(st, 1);
    bool has_days = sqlite3_column_type(st, 2) != SQLITE_NULL;
    int64_t days = sqlite3_column_int64(st, 2), age = sqlite3_column_int64(st, 3);
    int bucket = age <= 7 ? 0 : age <= 30 ? 1 : age <= 90 ? 2 : 3;
    BOTH(a, x->as, {
        F->opened++;
        if (kind == 1) {
            F->closed++;
            if (has_days)
                rpt_hist_add(&F->close_days, days, 1);
        } else if (kind == 2) {
            F->rejected++;
        } else {
            F->open++;
            F->age[bucket]++;
        }
    });
    return x->each ? x->each(st, x->arg) : 0;
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
int rpt_q_incidents(const ctx *c, areas *as, row_fn each, void *arg)
{
    inc_scan x = {as, each, arg};
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
    gs_buf_printf(&q, "%s", rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "reported_at");
    return rpt_query(c, &q, incidents_row, &x);
}

static int affairs_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    area *a = rpt_area_of(as, rpt_text(st, 0));
    if (!a)
        return as->err ? rpt_oom() : 0;
    int ki = -1;
    for (int i = 0; gs_affair_kind_names[i]; i++)
        if (!strcmp(gs_affair_kind_names[i], rpt_text(st, 1)))
            ki = i;
    int64_t n = sqlite3_column_int64(st, 2), bad = sqlite3_column_int64(st, 3);
    BOTH(a, as, {
        if (ki >= 0)
            F->affairs[ki] += n;
        F->violating += bad;
    });
    return 0;
}

int rpt_q_affairs(const ctx *c, areas *as)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_printf(&q,
                  "SELECT village_code, kind, count(*), sum(coalesce(violations, '') <> '') "
                  "FROM affairs%s",
                  rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "event_date");
    gs_buf_puts(&q, " GROUP BY village_code, kind ORDER BY village_code");
    return rpt_query(c, &q, affairs_row, as);
}

static int councils_row(sqlite3_stmt *st, void *arg)
{
    areas *as = arg;
    area *a = rpt_area_of(as, rpt_text(st, 0));
    if (!a)
        return as->err ? rpt_oom() : 0;
    int64_t n = sqlite3_column_int64(st, 1);
    BOTH(a, as, F->councils += n);
    return 0;
}

int rpt_q_councils(const ctx *c, areas *as)
{
    gs_buf q = GS_BUF_INIT;
    gs_buf_printf(&q, "SELECT village_code, count(*) FROM councils%s", rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    gs_buf_puts(&q, " GROUP BY village_code ORDER BY village_code");
    return rpt_query(c, &q, councils_row, as);
}

/* The three leading cells of an area row: level, code, name. */
void rpt_place_cells(gs_row *r, const ctx *c, const char *village)
{
    const division *t = rpt_township_of(&c->div, village), *k = rpt_county_of(&c->div, village);
    gs_row_text(r, village);
    gs_row_text(r, rpt_name_of(c, village));
    gs_row_text(r, t ? t->name : UNKNOWN_NAME);
    gs_row_text(r, k ? k->name : UNKNOWN_NAME);
}

void rpt_seen_cells(gs_row *r, const ctx *c, int64_t seen_ms)
{
    if (seen_ms <= 0) {
        gs_row_null(r);
        gs_row_null(r);
        return;
    }
    char when[CST_TEXT_MAX];
    rpt_datetime(seen_ms, when);
    gs_row_text(r, when);
    int64_t silent = c->o.as_of_ms - seen_ms;
    gs_row_int(r, silent > 0 ? silent / DAY_MS : 0);
}

gs_row rpt_area_row(gs_sheet *s, const area *a)
{
    gs_row r = gs_sheet_row(s);
    gs_row_text(&r, a->level);
    gs_row_text(&r, a->code[0] ? a->code : NULL);
    gs_row_text(&r, a->name);
    return r;
}


/* Emits every row, then the total, through fn. */
void rpt_area_rows(gs_sheet *s, areas *as, void (*fn)(gs_sheet *, area *))
{
    for (size_t i = 0; i < as->n; i++)
        fn(s, &as->a[i]);
    fn(s, &as->total);
    gs_sheet_set_total_last(s);
}
