/*
 * city_gen.h: how the city benchmarks make a village's data, shared by
 * bench_city.c (which builds every node of the city) and bench_hub_web.c
 * (which adds new offline changes to some of those nodes for each of its
 * sync runs): a deterministic random source, the per-village counters, and
 * the incidents, created and moved along the status workflow through the
 * node's own entry rules (node_entry_create / node_entry_update), committed
 * every COMMIT_EVERY entries.
 *
 * A header of static functions, included once by each benchmark (one
 * translation unit each). The includer defines PROG (its name, for
 * messages) first and may define `struct village` (a gen's v; only
 * bench_city uses it). Errors in generation are bugs of the benchmark or of
 * the entry rules: gen_fail prints the village and the field and ends the
 * process with _exit(1), so generation runs in a worker process.
 */
#ifndef GRIDSYNC_CITY_GEN_H
#define GRIDSYNC_CITY_GEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "gridsync/csv.h"
#include "gridsync/rules.h"
#include "gstest.h"
#include "store.h"

#ifndef PROG
#error "define PROG before including city_gen.h"
#endif

#define MAX_CATEGORIES 128
#define COMMIT_EVERY   256 /* entries per node transaction */

/* ---- deterministic randomness (splitmix64) ------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static bool rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

static const char *rng_pick(rng *r, const char *const *list, size_t n)
{
    return list[rng_range(r, 0, (int64_t)n - 1)];
}
#define PICK(r, arr) rng_pick(r, arr, sizeof(arr) / sizeof(arr[0]))

/* ---- what was made ---------------------------------------------------------------- */

/* What a worker made for one village (shared memory, written by the worker). */
typedef struct result {
    uint64_t seq; /* the node's own last seq */
    uint32_t grids, elections, candidates, yijiantiao, councils, members, affairs, violations,
        exempt, incidents, closed;
    double gen_ms;
    int done;
} result;

/* The incident categories of the city's file (data/incident_categories.csv). */
static char categories[MAX_CATEGORIES][65];
static int ncategories;

/* Loads categories; false, with the reason in eb, when the file cannot be
 * read or holds none. */
static bool gen_load_categories(gs_errbuf *eb)
{
    gs_csv *csv = NULL;
    const char *path = GS_TEST_SRC_DIR "/data/incident_categories.csv";
    if (gs_csv_open(&csv, path, eb))
        return false;
    for (size_t r = 0; r < gs_csv_nrows(csv) && ncategories < MAX_CATEGORIES; r++)
        snprintf(categories[ncategories++], sizeof categories[0], "%s", gs_csv_cell(csv, r, 0));
    gs_csv_destroy(&csv);
    if (ncategories == 0) {
        snprintf(eb->msg, sizeof eb->msg, "%s: no categories", path);
        return false;
    }
    return true;
}

/* ---- generating into one village's node --------------------------------------------- */

typedef struct village village; /* the includer's plan of a village (bench_city) */

typedef struct gen {
    node_store *s;
    const village *v; /* the plan (bench_city; NULL elsewhere) */
    const char *code; /* the village's code, for messages */
    result *res;
    rng r;
    gs_errbuf eb;
    int pending;                 /* entries since the last commit */
    uint64_t seq;                /* the node's seq as far as counted */
    volatile uint64_t *progress; /* this worker's change counter (shared) */
    bool hui;                    /* in 繁城回族镇 */
    char grids[16][16];
    int ngrids;
    char workers[16][32];
    char council_id[65];
    char president[32];
    char std_desc[8];
    int64_t max_tables, max_cost, max_gift, max_cars, max_days, max_bride;
} gen;

static void gen_fail(gen *g, const char *what) __attribute__((noreturn));
static void gen_fail(gen *g, const char *what)
{
    fprintf(stderr, PROG ": village %s: %s: %s\n", g->code, what, g->eb.msg);
    _exit(1);
}

/* Sets a field from text, as a user would type it; a refusal is a bug here. */
static void setf(gen *g, gs_record *rec, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void setf(gen *g, gs_record *rec, const char *field, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    int f = gs_field_find(rec->rt, field);
    if (f < 0) {
        snprintf(g->eb.msg, sizeof g->eb.msg, "no field %s", field);
        gen_fail(g, rec->rt->name);
    }
    if (gs_record_parse(rec, f, text, &g->eb))
        gen_fail(g, field);
}

static void gen_commit(gen *g)
{
    if (node_store_commit(g->s, &g->eb))
        gen_fail(g, "commit");
    g->pending = 0;
}

/* Counts one entry's changes; commits every COMMIT_EVERY entries. */
static void gen_tick(gen *g, uint64_t changes)
{
    g->seq += changes;
    *g->progress += changes;
    if (++g->pending >= COMMIT_EVERY) {
        gen_commit(g);
        if (node_store_begin(g->s, &g->eb))
            gen_fail(g, "begin");
    }
}

/* The node's seq right now (inside the transaction). */
static uint64_t gen_head(gen *g)
{
    uint64_t seq = 0;
    uint8_t h[GS_HASH_LEN];
    node_store_head(g->s, &seq, h, NULL);
    return seq;
}

/* Creates rec through the entry rules (and destroys it); returns its key in
 * key (may be NULL). Candidates may append more than one change (the
 * election and the other candidates are re-evaluated), so the head is read. */
static void gen_create(gen *g, gs_record *rec, char *key, size_t cap)
{
    uint64_t before = g->seq;
    if (node_entry_create(g->s, rec, NULL, &g->eb))
        gen_fail(g, rec->rt->name);
    if (key)
        snprintf(key, cap, "%s", gs_record_key(rec));
    uint64_t after = rec->rt->id == GS_RT_CANDIDATE ? gen_head(g) : before + 1;
    gs_record_destroy(&rec);
    gen_tick(g, after - before);
}

static void gen_update(gen *g, gs_record *rec)
{
    if (node_entry_update(g->s, rec, NULL, &g->eb))
        gen_fail(g, rec->rt->name);
    gs_record_destroy(&rec);
    gen_tick(g, 1);
}

static gs_record *new_rec(int type)
{
    gs_record *r = gs_record_new(gs_rectype_get(type));
    if (!r) {
        fprintf(stderr, PROG ": out of memory\n");
        _exit(1);
    }
    return r;
}

/* ---- incidents ---- */

typedef struct title_row {
    const char *category;
    const char *titles[2];
} title_row;

static const title_row titles[] = {
    {"dispute", {"村民因琐事发生口角需调解", "两户因借款问题发生矛盾"}},
    {"dispute.neighbour", {"邻里因排水沟堵塞发生争执", "楼上漏水引发邻里纠纷"}},
    {"dispute.family", {"赡养老人问题引发家庭矛盾", "夫妻矛盾需网格员上门调解"}},
    {"dispute.land", {"宅基地边界纠纷", "承包地界桩被移动引发争议"}},
    {"dispute.labour", {"务工人员反映工资被拖欠", "装修工人讨要劳务费"}},
    {"safety", {"村内危险路段缺少警示标志", "废弃机井未封盖"}},
    {"safety.fire", {"消防通道被杂物占用", "麦秸堆放靠近民房存在火灾隐患"}},
    {"safety.gas", {"楼道内有燃气异味", "液化气罐存放不规范"}},
    {"safety.building", {"危房户墙体出现裂缝", "老旧楼房外墙瓷砖脱落"}},
    {"safety.traffic", {"村口路段缺少减速带", "学校门口交通秩序混乱"}},
    {"safety.flood", {"汛期河道巡查发现堤坝渗水", "低洼地带积水需排涝"}},
    {"order", {"发现可疑人员在村内游荡", "社区矫正对象走访"}},
    {"livelihood", {"群众咨询医保缴费事宜", "群众反映自来水压力不足"}},
    {"livelihood.dibao", {"困难户申请低保需入户核查", "特困人员供养情况回访"}},
    {"livelihood.elderly", {"独居老人需要助餐服务", "高龄老人申请居家养老服务"}},
    {"livelihood.disability", {"残疾人申请辅具适配", "残疾人两项补贴申请"}},
    {"livelihood.children", {"留守儿童监护情况走访", "困境儿童救助需求登记"}},
    {"rescue", {"发现流浪人员一名，已联系救助站", "寒潮巡查发现露宿人员"}},
    {"sanitation", {"垃圾清运不及时", "坑塘水面漂浮垃圾"}},
    {"urban", {"占道经营影响通行", "违规张贴小广告"}},
    {"urban.unmanaged_compound", {"三无楼院路灯损坏", "三无楼院化粪池堵塞"}},
    {"petition", {"群众反映村务公开不及时", "居民来访反映物业服务问题"}},
    {"epidemic", {"返乡人员健康信息登记", "流感高发期重点人群走访"}},
    {"customs", {"村民办婚宴超标准需劝导", "丧事大操大办苗头需提醒"}},
    {"publicity", {"开展防范电信诈骗宣传", "入户采集人口信息"}},
};

static const char *title_for(rng *r, const char *category)
{
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (!strcmp(titles[i].category, category))
            return titles[i].titles[rng_range(r, 0, 1)];
    return "网格巡查发现问题";
}

/* The status paths an incident may take (each step a valid transition). */
static const char *const path_main[] = {"accepted", "registered", "dispatched", "in_progress",
                                        "feedback", "verified",   "closed",     "evaluated"};
static const char *const path_rejected[] = {"rejected"};
static const char *const path_on_spot[] = {"accepted", "closed"};
static const char *const path_suspended[] = {"accepted", "registered", "dispatched", "in_progress",
                                             "suspended"};
static const char *const path_rework[] = {"accepted", "registered", "dispatched",  "in_progress",
                                          "feedback", "dispatched", "in_progress", "feedback",
                                          "verified", "closed"};

static const char *note_for(const char *status)
{
    static const struct {
        const char *status, *note;
    } notes[] = {
        {"accepted", "已受理"},
        {"rejected", "不属于网格事项，已告知当事人"},
        {"registered", "已立案"},
        {"dispatched", "已派遣处置"},
        {"in_progress", "处置中"},
        {"suspended", "延期处置：等待相关部门答复"},
        {"feedback", "处置完毕，已反馈"},
        {"verified", "核查通过"},
        {"closed", "已结案"},
        {"evaluated", "群众满意"},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        if (!strcmp(notes[i].status, status))
            return notes[i].note;
    return "";
}

/* Chooses a path and how far along it the incident goes. */
static void choose_path(rng *r, const char *const **path, int *len)
{
    int w = (int)rng_range(r, 0, 99);
    if (w < 4) {
        *path = path_rejected, *len = 1;
    } else if (w < 16) {
        *path = path_on_spot, *len = 2;
    } else if (w < 19) {
        *path = path_suspended, *len = 5;
    } else if (w < 23) {
        *path = path_rework, *len = 10;
    } else {
        /* along the main path: 0 (just reported) to 8 (evaluated) steps */
        static const int cum[] = {8, 14, 19, 25, 33, 38, 43, 62, 77}; /* of 77 */
        int x = (int)rng_range(r, 0, 76), steps = 0;
        while (steps < 8 && x >= cum[steps])
            steps++;
        *path = path_main, *len = steps;
    }
}

/*
 * One incident, created and moved along its path with node_entry_update (so
 * closed_at is stamped by the entry rules), stopping early once the node
 * holds `limit` changes (0: no limit). Returns false when the limit stopped it.
 *
 * The entry rules stamp closed_at with the time of entry (now), so reported_at
 * is set back from now by a realistic age: closed incidents were reported 1-25
 * days ago (closing times of days, not months), open ones 0-40 days ago and
 * about one in seven 31-120 days ago (the overdue cases a report flags).
 */
static bool gen_incident(gen *g, uint64_t limit)
{
    rng *r = &g->r;
    if (limit && g->seq >= limit)
        return false;
    const char *const *path;
    int len;
    choose_path(r, &path, &len);
    bool closes =
        len > 0 && (!strcmp(path[len - 1], "closed") || !strcmp(path[len - 1], "evaluated") ||
                    !strcmp(path[len - 1], "rejected"));
    int64_t age_s = closes                ? rng_range(r, 1 * 86400, 25 * 86400)
                    : rng_chance(r, 0.15) ? rng_range(r, 31 * 86400, 120 * 86400)
                                          : rng_range(r, 600, 40 * 86400);
    time_t when = time(NULL) - (time_t)age_s;
    struct tm tm;
    gmtime_r(&when, &tm);
    char reported[40];
    strftime(reported, sizeof reported, "%Y-%m-%dT%H:%M:%SZ", &tm);

    int gi = (int)rng_range(r, 0, g->ngrids - 1);
    const char *cat = categories[rng_range(r, 0, ncategories - 1)];
    static const char *const sources[] = {"patrol",   "patrol",  "patrol", "resident",
                                          "resident", "hotline", "video",  "higher"};
    static const int severities[] = {1, 2, 2, 2, 3, 3, 4};
    gs_record *rec = new_rec(GS_RT_INCIDENT);
    setf(g, rec, "grid_code", "%s", g->grids[gi]);
    setf(g, rec, "category", "%s", cat);
    setf(g, rec, "title", "%s", title_for(r, cat));
    setf(g, rec, "source", "%s", PICK(r, sources));
    setf(g, rec, "reporter", "%s", g->workers[gi]);
    setf(g, rec, "reported_at", "%s", reported);
    setf(g, rec, "severity", "%d", severities[rng_range(r, 0, 6)]);
    char id[65];
    gen_create(g, rec, id, sizeof id);
    g->res->incidents++;

    static const char *const units[] = {"村委会",   "镇综治中心", "镇司法所", "派出所",
                                        "镇卫生院", "镇城管中队", "镇民政所"};
    for (int k = 0; k < len; k++) {
        if (limit && g->seq >= limit)
            return false;
        gs_record *e = new_rec(GS_RT_INCIDENT);
        setf(g, e, "id", "%s", id);
        setf(g, e, "status", "%s", path[k]);
        setf(g, e, "note", "%s", note_for(path[k]));
        if (!strcmp(path[k], "dispatched"))
            setf(g, e, "assignee", "%s", PICK(r, units));
        gen_update(g, e);
        if (!strcmp(path[k], "closed"))
            g->res->closed++;
    }
    return true;
}

#endif
