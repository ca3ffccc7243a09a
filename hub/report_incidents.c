/*
 * report_incidents.c: `gridhub report incidents`: by area with the ageing of
 * open incidents, category x status, and the median time spent in each
 * stage of the workflow, read from the change history.
 *
 * Holds the incident id set (a million ids in an arena) the stage times
 * need, and the category x status counts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

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
    for (size_t i = rpt_hash(id) & (s->nslots - 1);; i = (i + 1) & (s->nslots - 1)) {
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
            size_t i = rpt_hash(s->arena + s->off[k]) & (ns - 1);
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
    size_t i = rpt_hash(id) & (s->nslots - 1);
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
    long i = rpt_map_get(&k->idx, code);
    if (i >= 0)
        return &k->r[i];
    if (!rpt_vec_room(&k->r, &k->cap, k->n, sizeof *k->r, 32))
        return NULL;
    cat_row *r = &k->r[k->n];
    memset(r, 0, sizeof *r);
    if (!(r->code = strdup(code)) || rpt_map_put(&k->idx, code, (long)k->n)) {
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
    rpt_map_free(&k->idx);
    memset(k, 0, sizeof *k);
}

/* What one pass over the incidents feeds: the areas, and optionally the
 * category x status counts and the set of incidents covered. */
/* ---- incidents ------------------------------------------------------------------------------- */

static const gs_col incident_area_cols[] = {
    AREA_COLS,
    {"opened", "新发事件", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"closed", "已结案", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"rejected", "不予受理", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"open", "未办结", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"open_0_7d", "未办结0-7天", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"open_8_30d", "8-30天", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"open_31_90d", "31-90天", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"open_over_90d", ">90天", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"median_days_to_close", "结案天数中位数", GS_CT_DEC, 0, 0, "天", GS_ROLL_MEDIAN},
};

static void incident_area_row(gs_sheet *s, area *a)
{
    figs *f = &a->f;
    gs_row r = rpt_area_row(s, a);
    gs_row_int(&r, f->opened);
    gs_row_int(&r, f->closed);
    gs_row_int(&r, f->rejected);
    gs_row_int(&r, f->open);
    for (int i = 0; i < 4; i++)
        gs_row_int(&r, f->age[i]);
    rpt_put_median(&r, &f->close_days);
    gs_row_end(&r);
}

#define STATUS_COL(name, zh) {name, zh, GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM}
static const gs_col category_cols[] = {
    {"category", "类别代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE}, {"name", "类别", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    STATUS_COL("reported", "上报"),        STATUS_COL("accepted", "受理"),
    STATUS_COL("rejected", "不予受理"),    STATUS_COL("registered", "立案"),
    STATUS_COL("dispatched", "派遣"),      STATUS_COL("in_progress", "处置中"),
    STATUS_COL("suspended", "延期挂账"),   STATUS_COL("feedback", "处置反馈"),
    STATUS_COL("verified", "核查通过"),    STATUS_COL("closed", "结案"),
    STATUS_COL("evaluated", "综合评价"),   {"total", "合计", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};
_Static_assert(sizeof category_cols / sizeof category_cols[0] == GS_ST__COUNT + 3,
               "one column per status");

static const gs_col stage_cols[] = {
    {"status", "环节代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"name", "环节", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"samples", "样本数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"median_hours", "用时中位数(小时)", GS_CT_DEC, 0, 0, "小时", GS_ROLL_MEDIAN},
};

/* By the month incidents were reported in (China time), with the total
 * row as the whole area's: closure (结案率: closed of opened) and deadlines
 * (按期结案率: closed by the deadline of those due, i.e. with a deadline
 * and closed, or open past it; 超期: open past the deadline at as-of). */
static const gs_col month_cols[] = {
    {"month", "月份", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"opened", "新发事件", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"closed", "已结案", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"closure_pct", "结案率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO},
    {"due", "应按期结案", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"closed_on_time", "按期结案", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"on_time_pct", "按期结案率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO},
    {"overdue", "超期未办结", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};

typedef struct month_acc {
    gs_sheet *s;
    int64_t t[5]; /* opened, closed, due, closed_on_time, overdue */
} month_acc;

static void month_row(gs_sheet *s, const char *month, const int64_t *v)
{
    gs_row r = gs_sheet_row(s);
    gs_row_text(&r, month);
    gs_row_int(&r, v[0]);
    gs_row_int(&r, v[1]);
    gs_row_pct(&r, v[1], v[0]);
    gs_row_int(&r, v[2]);
    gs_row_int(&r, v[3]);
    gs_row_pct(&r, v[3], v[2]);
    gs_row_int(&r, v[4]);
    gs_row_end(&r);
}

static int month_one(sqlite3_stmt *st, void *arg)
{
    month_acc *m = arg;
    int64_t v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = sqlite3_column_int64(st, i + 1);
        m->t[i] += v[i];
    }
    month_row(m->s, rpt_text(st, 0), v);
    return 0;
}

static int run_months(const ctx *c, gs_sheet *s)
{
    month_acc m = {s, {0}};
    gs_buf q = GS_BUF_INIT;
    gs_buf_printf(&q,
                  "SELECT substr(reported_at, 1, 7) AS m, count(*), "
                  "sum(status IN ('closed', 'evaluated')), "
                  "sum(coalesce(deadline, '') <> '' AND status <> 'rejected' AND "
                  "(status IN ('closed', 'evaluated') OR deadline < :asof_day)), "
                  "sum(coalesce(deadline, '') <> '' AND status IN ('closed', 'evaluated') AND "
                  "substr(coalesce(closed_at, ''), 1, 10) BETWEEN '0' AND deadline), "
                  "sum(coalesce(deadline, '') <> '' AND status NOT IN ('closed', 'evaluated', "
                  "'rejected') AND deadline < :asof_day) "
                  "FROM incidents%s",
                  rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "reported_at");
    gs_buf_puts(&q, " GROUP BY m ORDER BY m");
    int rc = rpt_query(c, &q, month_one, &m);
    if (!rc) {
        month_row(s, "合计 total", m.t);
        gs_sheet_set_total_last(s);
    }
    return rc;
}

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
    int err;
} stage_acc;

/* One change of a covered incident that may set a status: decoded, and
 * kept as an event when it does. */
static int stage_row(sqlite3_stmt *st, void *arg)
{
    stage_acc *a = arg;
    long inc = idset_find(a->ids, rpt_text(st, 0));
    if (inc < 0)
        return 0;
    gs_change ch = {0};
    if (gs_change_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), &ch,
                         NULL))
        return 0; /* the hub stores only changes it decoded; skip rather than fail */
    int s = -1;
    if (ch.op == GS_OP_UPSERT && ch.rec->rt->id == GS_RT_INCIDENT &&
        gs_record_has(ch.rec, GS_INCIDENT_STATUS))
        s = rpt_status_index(gs_record_str(ch.rec, GS_INCIDENT_STATUS));
    gs_change_clear(&ch);
    if (s < 0)
        return 0;
    const char *origin = rpt_text(st, 2);
    long o = rpt_map_get(&a->origins, origin);
    if (o < 0) {
        char **names = realloc(a->origin_names, (a->norigins + 1) * sizeof *names);
        if (!names)
            return rpt_oom();
        a->origin_names = names;
        if (!(names[a->norigins] = strdup(origin)) ||
            rpt_map_put(&a->origins, origin, (long)a->norigins)) {
            free(names[a->norigins]);
            return rpt_oom();
        }
        o = (long)a->norigins++;
        if (a->norigins >= (1u << 24))
            return rpt_say(1, "too many origins in the change log");
    }
    if (a->nev == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        stage_ev *p = realloc(a->ev, cap * sizeof *p);
        if (!p)
            return rpt_oom();
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
        return rpt_oom();
    }
    for (size_t i = 0; i < a->norigins; i++)
        order[i] = &a->origin_names[i];
    if (a->norigins > 1)
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
    rpt_map_free(&a->origins);
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
static int run_stages(const ctx *c, gs_sheet *s, const idset *ids)
{
    stage_acc *a = calloc(1, sizeof *a);
    i64vec *dur = calloc(GS_ST__COUNT, sizeof *dur);
    int rc = a && dur ? 0 : rpt_oom();
    if (!rc)
        a->ids = ids;
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
            rpt_where_area(&q, c, "village_code");
            rpt_where_dates(&q, c, "reported_at");
            gs_buf_puts(&q, ")");
        }
        rc = rpt_query(c, &q, stage_row, a);
    }
    if (!rc)
        rc = rank_origins(a);
    if (!rc) {
        if (a->nev > 1) /* qsort of NULL, even of no elements, is undefined */
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
                rc = rpt_oom();
            prev = st;
            prev_ms = ms;
        }
    }
    for (int i = 0; !rc && i < GS_ST__COUNT; i++) {
        i64vec *d = &dur[i];
        gs_row r = gs_sheet_row(s);
        gs_row_text(&r, gs_status_names[i]);
        gs_row_text(&r, gs_status_names_zh[i]);
        gs_row_int(&r, (int64_t)d->n);
        if (d->n) {
            qsort(d->v, d->n, sizeof *d->v, cmp_i64);
            int64_t m2 = d->v[(d->n - 1) / 2] + d->v[d->n / 2];
            int64_t tenths = (m2 + 360000) / 720000; /* m2 / 2 ms in hours, x10, half up */
            gs_row_fmt(&r, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
        } else
            gs_row_null(&r);
        gs_row_end(&r);
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
        return rpt_oom();
    *list = p;
    if (!(p[*n] = strdup(rpt_text(st, 1))) || rpt_map_put(names, rpt_text(st, 0), (long)*n)) {
        free(p[*n]);
        return rpt_oom();
    }
    (*n)++;
    return 0;
}

static int cmp_cat(const void *a, const void *b)
{
    return strcmp(((const cat_row *)a)->code, ((const cat_row *)b)->code);
}

static void category_rows(gs_sheet *s, cats *k, const strmap *names, char **list)
{
    if (k->n > 1) /* qsort of NULL, even of no elements, is undefined */
        qsort(k->r, k->n, sizeof *k->r, cmp_cat);
    for (size_t i = 0; i <= k->n; i++) {
        bool total = i == k->n;
        const int64_t *n = total ? k->total : k->r[i].n;
        long ni = total ? -1 : rpt_map_get(names, k->r[i].code);
        gs_row r = gs_sheet_row(s);
        gs_row_text(&r, total ? NULL : k->r[i].code);
        gs_row_text(&r, total ? "合计 total" : ni >= 0 && *list[ni] ? list[ni] : k->r[i].code);
        int64_t sum = 0;
        for (int st = 0; st < GS_ST__COUNT; st++) {
            gs_row_int(&r, n[st]);
            sum += n[st];
        }
        gs_row_int(&r, sum);
        gs_row_end(&r);
    }
    gs_sheet_set_total_last(s);
}

/* What the incidents report takes from each incident of the pass over them
 * (rpt_q_incidents): its category x status, and its id for the stages. */
typedef struct inc_more {
    cats *cats;
    idset *ids;
} inc_more;

static int incident_more(sqlite3_stmt *st, void *arg)
{
    inc_more *x = arg;
    cat_row *r = cat_of(x->cats, rpt_text(st, 4));
    int si = rpt_status_index(rpt_text(st, 5));
    if (!r)
        return rpt_oom();
    if (si >= 0) {
        r->n[si]++;
        x->cats->total[si]++;
    }
    /* the ids only for the stage times (a million ids: tens of MB) */
    return x->ids && idset_add(x->ids, rpt_text(st, 6)) ? rpt_oom() : 0;
}

int rpt_incidents(const ctx *c, gs_doc *rp)
{
    areas as;
    cats k;
    idset ids;
    strmap names;
    char **list = NULL;
    size_t nlist = 0;
    memset(&k, 0, sizeof k);
    memset(&ids, 0, sizeof ids);
    memset(&names, 0, sizeof names);
    rpt_areas_init(&as, c);
    inc_more x = {&k, c->o.no_stages ? NULL : &ids};
    int rc = as.err ? rpt_oom() : rpt_q_incidents(c, &as, incident_more, &x);
    if (!rc) {
        gs_buf q = GS_BUF_INIT;
        gs_buf_puts(&q, "SELECT code, coalesce(name_zh, '') FROM categories WHERE _deleted = 0");
        void *args[3] = {&names, &list, &nlist};
        rc = rpt_query(c, &q, category_name_row, args);
    }
    if (!rc) {
        rpt_areas_sort(&as);
        gs_sheet *s = gs_doc_add(rp, "by_area", "按区划 by area (未办结按已过天数 open by age)",
                              incident_area_cols, NCOLS(incident_area_cols));
        gs_sheet *cs = gs_doc_add(rp, "by_category", "按类别和状态 by category and status",
                               category_cols, NCOLS(category_cols));
        gs_sheet *ss = c->o.no_stages ? NULL
                                      : gs_doc_add(rp, "stages", "各环节用时 time per stage",
                                                   stage_cols, NCOLS(stage_cols));
        gs_sheet *ms = gs_doc_add(rp, "by_month",
                                  "按月份 by month (结案率, 按期结案率, 超期 closure and deadlines)",
                                  month_cols, NCOLS(month_cols));
        if (!s || !cs || (!ss && !c->o.no_stages) || !ms)
            rc = rpt_oom();
        else {
            rpt_area_rows(s, &as, incident_area_row);
            category_rows(cs, &k, &names, list);
            rc = ss ? run_stages(c, ss, &ids) : 0;
            if (!rc)
                rc = run_months(c, ms);
        }
    }
    rpt_areas_free(&as);
    cats_free(&k);
    idset_free(&ids);
    rpt_map_free(&names);
    for (size_t i = 0; i < nlist; i++)
        free(list[i]);
    free(list);
    return rc;
}
