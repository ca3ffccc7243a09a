/*
 * bench_web.c: how fast the village desk (`gridnode web`) answers with a
 * large village's data (issue 16, "Fast"):
 *
 *   - the home page (首页) and the incident list (网格事件): filtered by
 *     state and category and searched for a word, overdue only, one state
 *     (the home page's link), searched only, unfiltered page 1 and its last
 *     page, and one record page with its history: server time under 50 ms;
 *   - a form save (POST /incidents/new: parse and validate the form, write
 *     with the node's durability setting, append to the outbox): p99 under
 *     30 ms;
 *   - the memory of the `gridnode web` process after all of it: under 32 MiB.
 *
 * The node is made as a village gets one: a hub (`gridhub init`, `refdata
 * load` of the city's divisions, villages and categories, `gridhub node add
 * --village ... --out BUNDLE`), `gridnode init --bundle`, the village's
 * grids added with `gridnode grid add`. Then N incidents (default 100,000)
 * are entered through the node's own entry code (node/entry.h:
 * node_entry_create, then node_entry_update for each step of the workflow
 * up to the incident's state, 2,000 incidents to a transaction), so the
 * entity rows, the change log (which is the outbox) and the clock are
 * exactly what entry leaves; only the process (this one, not `gridnode
 * incident add` a million times) differs. The incidents spread over the
 * categories, the grids, 80 reporters, every state (most closed, as in a
 * village after years), three years of dates and deadlines, some overdue,
 * with varied Chinese titles and descriptions (a few per cent mention 漏水,
 * the word searched).
 *
 * Then it starts the real `gridnode web --port 0 --no-browser` on that
 * database, takes a session cookie and CSRF token from the home page as a
 * browser does, and times each request over loopback from its first byte
 * sent to the server's close after the answer (Connection: close; the
 * connection is made before the clock starts). Each URL is asked once to
 * warm up, then RUNS times (default 200). Finally VmHWM and VmRSS of the
 * web process from /proc.
 *
 * It prints the machine (CPUs, model, kernel, file system, load average)
 * and a table of the goals beside the measurements. A benchmark, not a
 * test: it reports and exits 0 (2 on a wrong command line, 1 when the
 * setup itself fails).
 *
 * usage: bench_web [--incidents N] [--runs R] [--dir DIR]
 *   --dir DIR  keep the hub and node databases in DIR (made if missing);
 *              when DIR/node.db exists it is reused as it is, so a fix can
 *              be measured against the same data without building it again
 * Build: cmake --build BUILD --target gridnode gridhub bench_web; run
 * BUILD/tests/bench_web. Not a test: ctest never runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "gridsync/http.h"
#include "gridsync/record.h"
#include "gridsync/rules.h"
#include "gridsync/schema.h"
#include "gsbench.h"
#include "gstest.h"
#include "gstest_http.h"
#include "store.h"

#define PROG     "bench_web"
#define VILLAGE  "411122101201"
#define NGRIDS   8
#define TX_SIZE  2000 /* incidents to a transaction */
#define MAX_RUNS 100000

/* The goals of issue 16. */
#define GOAL_PAGE_MS 50.0
#define GOAL_SAVE_MS 30.0
#define GOAL_MEM_KB  (32 * 1024)

static char *tmp_dir; /* removed at the end when not --dir */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (tmp_dir)
        gst_rmrf(tmp_dir);
    exit(1);
}

/* Runs argv to completion and requires exit 0. */
static void run_ok(const char *const argv[])
{
    gst_result r = {0};
    if (gst_run(&r, NULL, argv) != 0 || r.status != 0)
        die("%s %s %s: status %d\n%s%s", argv[0], argv[3] ? argv[3] : "", argv[4] ? argv[4] : "",
            r.status, r.out ? r.out : "", r.err ? r.err : "");
    gst_result_free(&r);
}

/* ---- generated data ------------------------------------------------------------- */

/* xorshift: the same data on every run, without rand(). */
static unsigned long long rng = 20261202;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a)  (a)[pick(COUNT(a))]

static const char *const places[] = {
    "东街",     "西街口",     "村委会门口", "老槐树下",   "二组",       "三组后巷",
    "小学路口", "卫生室旁",   "文化广场",   "南坑塘边",   "回民街",     "集贸市场",
    "北地机井", "养老院",     "幸福院",     "村东桥头",   "五组",       "党群服务中心",
    "粮站旧址", "107国道边",  "新村安置区", "清真寺南",   "砖厂路",     "六组菜地",
};
/* Titles; two of them (and some descriptions) hold 漏水. */
static const char *const problems[] = {
    "路灯不亮",       "井盖缺失",         "垃圾堆放",       "邻里纠纷（漏水）", "宅基地边界争议",
    "燃气管道异味",   "楼道堆放杂物",     "独居老人需探访", "低保申请咨询",     "留守儿童无人照看",
    "流浪人员求助",   "道路破损积水",     "私搭乱建",       "电动车飞线充电",   "沟渠堵塞",
    "秸秆焚烧",       "占道经营",         "噪音扰民",       "家庭矛盾调解",     "危房排查",
    "自来水管漏水",   "土地承包纠纷",     "养殖异味扰民",   "婚丧事大操大办",   "广场舞噪音",
    "屋顶破损求助",   "河道垃圾漂浮",     "消防通道堵塞",   "农机占道",         "赡养老人纠纷",
    "门前三包不落实", "疫苗接种通知",     "医保缴费咨询",   "厕所改造问题",     "网线乱拉",
};
static const char *const details[] = {
    "网格员巡查时发现",     "村民电话反映",         "已拍照留存",         "涉及三户人家",
    "双方情绪较激动",       "需协调镇里相关部门",   "已通知村两委",       "楼上卫生间漏水殃及楼下",
    "现场已设置警示标志",   "当事人要求尽快处理",   "天气转冷需要尽快",   "多次反映未解决",
    "已联系供电所",         "已联系自来水公司",     "群众意见较大",       "需上门核实情况",
    "邻居之间起争执", "老人行动不便",         "夜间影响休息",       "已做好登记",
};
static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "马", "白", "孙"};
static const char *const given[] = {"桂兰", "建国", "秀英", "国强", "小二", "德明", "丽娟", "志刚"};
static const char *const sources[] = {"patrol", "patrol", "resident", "hotline", "video", "higher"};

/* The categories of the city's file that have a parent (what incidents are
 * filed under). */
static char cats[64][64];
static int ncats;

static void load_categories(void)
{
    const char *path = GS_TEST_SRC_DIR "/data/incident_categories.csv";
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s: %s", path, strerror(errno));
    char line[512];
    for (bool header = true; fgets(line, sizeof line, f) && ncats < 64; header = false) {
        size_t n = strcspn(line, ",\r\n");
        if (!header && n > 0 && n < sizeof cats[0] && memchr(line, '.', n))
            snprintf(cats[ncats++], sizeof cats[0], "%.*s", (int)n, line);
    }
    fclose(f);
    if (!ncats)
        die("no categories in %s", path);
}

/* The steps of the workflow from 上报 to each state (a path the rules allow). */
typedef struct wpath {
    const char *state;
    int permille; /* share of the incidents */
    const char *steps[8];
} wpath;

static const wpath paths[] = {
    {"reported", 50, {NULL}},
    {"accepted", 40, {"accepted", NULL}},
    {"rejected", 50, {"rejected", NULL}},
    {"registered", 30, {"accepted", "registered", NULL}},
    {"dispatched", 50, {"accepted", "registered", "dispatched", NULL}},
    {"in_progress", 70, {"accepted", "registered", "dispatched", "in_progress", NULL}},
    {"suspended", 20, {"accepted", "registered", "dispatched", "in_progress", "suspended", NULL}},
    {"feedback", 40, {"accepted", "registered", "dispatched", "in_progress", "feedback", NULL}},
    {"verified",
     30,
     {"accepted", "registered", "dispatched", "in_progress", "feedback", "verified", NULL}},
    {"closed", 250, {"accepted", "closed", NULL}},
    {"closed",
     220,
     {"accepted", "registered", "dispatched", "in_progress", "feedback", "verified", "closed",
      NULL}},
    {"evaluated", 150, {"accepted", "closed", "evaluated", NULL}},
};

static const wpath *pick_path(void)
{
    unsigned r = pick(1000);
    for (size_t i = 0; i < COUNT(paths); i++) {
        if (r < (unsigned)paths[i].permille)
            return &paths[i];
        r -= (unsigned)paths[i].permille;
    }
    return &paths[0];
}

static bool is_closed(const char *state)
{
    return !strcmp(state, "closed") || !strcmp(state, "evaluated") || !strcmp(state, "rejected");
}

/* Sets field f (a GS_INCIDENT_* constant) as entry parses what staff type. */
static void set(gs_record *r, int f, const char *v)
{
    gs_errbuf eb = {{0}};
    if (gs_record_parse(r, f, v, &eb))
        die("%s \"%s\": %s", r->rt->fields[f].name, v, eb.msg);
}

typedef struct fill_stats {
    long incidents, updates;
    double seconds;
} fill_stats;

/* Enters n incidents into the node database at db through the node's entry
 * code: node_entry_create, then node_entry_update for each workflow step. */
static void fill(const char *db, long n, fill_stats *fs)
{
    node_store *s = NULL;
    gs_errbuf eb = {{0}};
    if (node_store_open(&s, db, &eb))
        die("%s", eb.msg);
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    int64_t today = gs_floor_div((int64_t)time(NULL) + 8 * 3600, 86400);
    double t0 = gst_clock_ms();
    memset(fs, 0, sizeof *fs);
    for (long done = 0; done < n;) {
        if (node_store_begin(s, &eb))
            die("%s", eb.msg);
        for (long k = 0; k < TX_SIZE && done < n; k++, done++) {
            const wpath *p = pick_path();
            /* open ones are recent; closed ones spread over three years */
            int64_t day = today - (is_closed(p->state) ? 1 + pick(3 * 365) : pick(40));
            char date[11], at[32], deadline[11], grid[16], title[256], desc[1024], who[32];
            gs_date_from_days(day, date);
            snprintf(at, sizeof at, "%sT%02u:%02u:%02uZ", date, pick(24), pick(60), pick(60));
            gs_date_from_days(day + 3 + pick(28), deadline);
            snprintf(grid, sizeof grid, "%s%03u", VILLAGE, 1 + pick(NGRIDS));
            const char *place = PICK(places), *problem = PICK(problems);
            snprintf(title, sizeof title, "%s%s%s", place, problem,
                     pick(5) ? "" : "（再次反映）");
            snprintf(desc, sizeof desc, "%s附近%s，%s，%s。%s%s反映，编号%ld。", place, problem,
                     PICK(details), PICK(details), PICK(surnames), PICK(given), done + 1);
            snprintf(who, sizeof who, "%s%s", PICK(surnames), PICK(given));

            gs_record *r = gs_record_new(rt);
            if (!r)
                die("out of memory");
            set(r, GS_INCIDENT_TITLE, title);
            set(r, GS_INCIDENT_CATEGORY, cats[pick((unsigned)ncats)]);
            set(r, GS_INCIDENT_GRID_CODE, grid);
            set(r, GS_INCIDENT_REPORTER, who);
            set(r, GS_INCIDENT_SOURCE, PICK(sources));
            set(r, GS_INCIDENT_REPORTED_AT, at);
            char sev[2] = {(char)('1' + pick(4)), '\0'};
            set(r, GS_INCIDENT_SEVERITY, sev);
            if (pick(10) < 8)
                set(r, GS_INCIDENT_DEADLINE, deadline);
            if (pick(3))
                set(r, GS_INCIDENT_DESCRIPTION, desc);
            if (node_entry_create(s, r, NULL, &eb))
                die("incident %ld: %s", done + 1, eb.msg);
            char id[64];
            snprintf(id, sizeof id, "%s", gs_record_key(r));
            gs_record_destroy(&r);
            for (int i = 0; p->steps[i]; i++) {
                gs_record *e = gs_record_new(rt);
                if (!e)
                    die("out of memory");
                set(e, GS_INCIDENT_ID, id);
                set(e, GS_INCIDENT_STATUS, p->steps[i]);
                if (!strcmp(p->steps[i], "dispatched"))
                    set(e, GS_INCIDENT_ASSIGNEE, PICK(surnames));
                if (!strcmp(p->steps[i], "closed") || !strcmp(p->steps[i], "rejected"))
                    set(e, GS_INCIDENT_NOTE, pick(2) ? "已处理完毕，群众满意" : "经核实情况属实，已按规定办理");
                if (node_entry_update(s, e, NULL, &eb))
                    die("incident %ld, step %s: %s", done + 1, p->steps[i], eb.msg);
                gs_record_destroy(&e);
                fs->updates++;
            }
        }
        if (node_store_commit(s, &eb))
            die("%s", eb.msg);
        gsb_progress("entering incidents: %ld / %ld", done, n);
    }
    gsb_progress_end();
    fs->incidents = n;
    fs->seconds = (gst_clock_ms() - t0) / 1e3;
    node_store_close(&s);
}

/* Makes the hub and the node as a village gets them, then the incidents. */
static void make_node(const char *dir, const char *db, long n, fill_stats *fs)
{
    char hub[4096], bundle[4096];
    snprintf(hub, sizeof hub, "%s/hub.db", dir);
    snprintf(bundle, sizeof bundle, "%s/node.bundle", dir);
    run_ok((const char *[]){"gridhub", "--db", hub, "init", NULL});
    run_ok((const char *[]){"gridhub", "--db", hub, "refdata", "load", "divisions",
                            GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL});
    run_ok((const char *[]){"gridhub", "--db", hub, "refdata", "load", "divisions",
                            GS_TEST_SRC_DIR "/data/luohe_villages.csv", NULL});
    run_ok((const char *[]){"gridhub", "--db", hub, "refdata", "load", "categories",
                            GS_TEST_SRC_DIR "/data/incident_categories.csv", NULL});
    run_ok((const char *[]){"gridhub", "--db", hub, "node", "add", "--village", VILLAGE, "--name",
                            "营王村", "--endpoint", "tcp://127.0.0.1:1", "--out", bundle, NULL});
    run_ok((const char *[]){"gridnode", "--db", db, "init", "--bundle", bundle, NULL});
    static const char *const names[NGRIDS] = {"第一网格", "第二网格", "第三网格", "第四网格",
                                              "第五网格", "第六网格", "第七网格", "第八网格"};
    for (int g = 0; g < NGRIDS; g++) {
        char code[32], worker[32];
        snprintf(code, sizeof code, "%s%03d", VILLAGE, g + 1);
        snprintf(worker, sizeof worker, "%s%s", surnames[g], given[g]);
        run_ok((const char *[]){"gridnode", "--db", db, "grid", "add", "--code", code, "--name",
                                names[g], "--worker", worker, NULL});
    }
    fill(db, n, fs);
}

/* ---- the database as measured ---------------------------------------------------- */

typedef struct db_facts {
    long long incidents, changes, open, overdue, matching; /* matching: 漏水 anywhere */
    long long bytes;
} db_facts;

static long long one_int(sqlite3 *d, const char *sql, const char *bind)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (bind)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void read_facts(const char *db, db_facts *f)
{
    sqlite3 *d = NULL;
    memset(f, 0, sizeof *f);
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("%s: %s", db, sqlite3_errmsg(d));
    char today[11];
    gs_date_from_days(gs_floor_div((int64_t)time(NULL) + 8 * 3600, 86400), today);
    f->incidents = one_int(d, "SELECT count(*) FROM incidents WHERE _deleted = 0", NULL);
    f->changes = one_int(d, "SELECT count(*) FROM changes", NULL);
    f->open = one_int(d, "SELECT count(*) FROM incidents WHERE _deleted = 0 AND status NOT IN "
                         "('closed','evaluated','rejected')", NULL);
    f->overdue = one_int(d, "SELECT count(*) FROM incidents WHERE _deleted = 0 AND status NOT IN "
                            "('closed','evaluated','rejected') AND deadline < ?1", today);
    f->matching = one_int(d, "SELECT count(*) FROM incidents WHERE _deleted = 0 AND "
                             "(instr(title, '漏水') OR instr(description, '漏水'))", NULL);
    sqlite3_close(d);
    struct stat st;
    f->bytes = stat(db, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- HTTP over loopback ---------------------------------------------------------- */

static uint16_t port;
static gst_http_session sess;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("cannot connect to 127.0.0.1:%u: %s", (unsigned)port, strerror(errno));
    return fd;
}

/* Reads the answer until the server closes (gst_http_read's work, without
 * its Check assertion, which needs a running Check test). */
static void read_answer(int fd, gst_http_answer *a)
{
    gs_buf b = GS_BUF_INIT;
    char chunk[16384];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 30000) <= 0)
            break;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        gs_buf_append(&b, chunk, (size_t)r);
    }
    gs_buf_puts(&b, "");
    if (b.err)
        die("out of memory");
    a->text = gs_buf_steal(&b);
    a->len = strlen(a->text);
    a->status = 0;
    sscanf(a->text, "HTTP/1.%*d %d", &a->status);
    char *end = strstr(a->text, "\r\n\r\n");
    a->body = end ? end + 4 : a->text + a->len;
}

/* One request as a browser holding the session sends it; *ms gets the time
 * from its first byte sent to the end of the answer. */
static gst_http_answer request(const char *method, const char *path, const char *form, double *ms)
{
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b,
                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                  "Accept-Language: zh-CN,zh;q=0.9\r\n%s",
                  method, path, (unsigned)port, sess.cookie);
    if (form)
        gs_buf_printf(&b,
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      "Content-Length: %zu\r\n",
                      strlen(form));
    gs_buf_printf(&b, "\r\n%s", form ? form : "");
    if (b.err)
        die("out of memory");
    int fd = dial();
    double t0 = gst_clock_ms();
    gst_http_send(fd, b.data, b.len);
    gst_http_answer a;
    read_answer(fd, &a);
    if (ms)
        *ms = gst_clock_ms() - t0;
    close(fd);
    gs_buf_free(&b);
    return a;
}

/* ---- figures ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[n], nearest rank. */
static double quantile(const double *v, int n, double q)
{
    int k = (int)(q * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

typedef struct figure {
    const char *what, *path; /* path: shown in the table */
    double p50, p90, p99, max;
    int wrong;        /* answers with another status than expected */
    long long listed; /* "共 N 条" of a list page, -1 for other pages */
    size_t bytes;     /* size of the last answer */
} figure;

/* "共 N 条" of a list page; -1 when the page has none. */
static long long listed_of(const gst_http_answer *a)
{
    const char *p = strstr(a->body, "<p class=\"count\">共 ");
    return p ? atoll(p + strlen("<p class=\"count\">共 ")) : -1;
}

/* Asks path (or posts the form that make_form writes for run i) runs times
 * after one warm-up, expecting status want. */
static void measure(figure *fg, const char *what, const char *method, const char *path,
                    void (*make_form)(gs_buf *, int), int want, int runs)
{
    double *v = calloc((size_t)runs, sizeof *v);
    if (!v)
        die("out of memory");
    memset(fg, 0, sizeof *fg);
    fg->what = what;
    fg->path = path;
    fg->listed = -1;
    gs_buf form = GS_BUF_INIT;
    for (int i = -1; i < runs; i++) {
        gs_buf_reset(&form);
        if (make_form)
            make_form(&form, i + 1);
        double ms = 0;
        gst_http_answer a = request(method, path, make_form ? form.data : NULL, &ms);
        if (a.status != want) {
            if (!fg->wrong)
                fprintf(stderr, PROG ": %s %s: status %d, expected %d:\n%.600s\n", method, path,
                        a.status, want, a.text);
            fg->wrong += i >= 0;
        }
        if (i >= 0)
            v[i] = ms;
        fg->listed = listed_of(&a);
        fg->bytes = a.len;
        gst_http_answer_free(&a);
        gsb_progress("%s: %d / %d", what, i + 1, runs);
    }
    gsb_progress_end();
    gs_buf_free(&form);
    qsort(v, (size_t)runs, sizeof *v, cmp_double);
    fg->p50 = quantile(v, runs, 0.5);
    fg->p90 = quantile(v, runs, 0.9);
    fg->p99 = quantile(v, runs, 0.99);
    fg->max = v[runs - 1];
    /* as it goes, for a long run whose stdout is a file */
    fprintf(stderr, PROG ": %s: p50 %.1f ms, p99 %.1f ms\n", what, fg->p50, fg->p99);
    free(v);
}

/* Appends k=v&, urlencoded. */
static void form_field(gs_buf *b, const char *k, const char *v)
{
    gs_buf_printf(b, "%s%s=", b->len ? "&" : "", k);
    gs_url_escape(b, v);
}

/* The form of a new incident as the page's browser posts it. */
static void new_incident_form(gs_buf *b, int i)
{
    char title[128], desc[256], grid[16], deadline[11];
    snprintf(title, sizeof title, "%s%s（网页登记%d）", PICK(places), PICK(problems), i);
    snprintf(desc, sizeof desc, "%s，%s。", PICK(details), PICK(details));
    snprintf(grid, sizeof grid, "%s%03u", VILLAGE, 1 + pick(NGRIDS));
    gs_date_from_days(gs_floor_div((int64_t)time(NULL) + 8 * 3600, 86400) + 7, deadline);
    form_field(b, "_csrf", sess.csrf);
    form_field(b, "title", title);
    form_field(b, "category", cats[pick((unsigned)ncats)]);
    form_field(b, "grid_code", grid);
    form_field(b, "description", desc);
    form_field(b, "source", "resident");
    form_field(b, "reporter", "王桂兰");
    form_field(b, "severity", "2");
    form_field(b, "deadline", deadline);
    form_field(b, "assignee", "");
    form_field(b, "note", "");
}

/* ---- the web process --------------------------------------------------------------- */

static pid_t web_start(const char *db, const char *log)
{
    const char *argv[] = {"gridnode", "--db", db, "web", "--port", "0", "--no-browser", NULL};
    pid_t pid = gst_spawn(argv, log);
    if (pid < 0)
        die("cannot start gridnode web: %s", strerror(errno));
    for (int64_t end = gst_now_ms() + 60000; gst_now_ms() < end; gst_sleep_ms(10)) {
        char *text = gst_read_file(log, NULL);
        const char *p = text ? strstr(text, "serving http://127.0.0.1:") : NULL;
        if (p)
            port = (uint16_t)atoi(p + strlen("serving http://127.0.0.1:"));
        free(text);
        if (port)
            return pid;
        if (kill(pid, 0) != 0)
            break;
    }
    die("gridnode web did not start; see %s", log);
}

/* User + system CPU time of every thread of pid so far (/proc/PID/stat), in
 * seconds; -1 when unreadable. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* the name may hold spaces */
    unsigned long long ut = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &stime) != 2)
        return -1;
    return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void print_row(const figure *f, bool save)
{
    double goal = save ? GOAL_SAVE_MS : GOAL_PAGE_MS, judged = save ? f->p99 : f->p50;
    char listed[32] = "";
    if (f->listed >= 0)
        snprintf(listed, sizeof listed, "%lld", f->listed);
    printf("| %s | `%s` | %s | %.1f | %.1f | %.1f | %.1f | %s %.0f ms: %s%s |\n", f->what, f->path,
           listed, f->p50, f->p90, f->p99, f->max, save ? "p99 <" : "p50 <", goal,
           f->wrong ? "**wrong answers**" : judged < goal ? "met" : "**not met**",
           save || f->p99 < goal || f->wrong ? "" : " (p99 over)");
}

static void usage(void)
{
    puts("usage: bench_web [--incidents N] [--runs R] [--dir DIR]\n\n"
         "Times the village desk (gridnode web) with N incidents (default 100000) in the\n"
         "node's database: the home page, incident lists, a record page and a form save, R\n"
         "times each (default 200), and its memory. --dir DIR keeps the databases in DIR and\n"
         "reuses DIR/node.db when it exists.");
}

int main(int argc, char **argv)
{
    long n = 100000;
    int runs = 200;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--incidents") && i + 1 < argc) {
            n = gsb_parse_long(PROG, "--incidents", argv[++i], 1, 10000000);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = (int)gsb_parse_long(PROG, "--runs", argv[++i], 1, MAX_RUNS);
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            keep = argv[++i];
        } else {
            gsb_bad_usage(PROG, "unexpected argument %s", argv[i]);
        }
    }
    load_categories();
    char dir[4096], db[4200], log[4200];
    if (keep) {
        if (mkdir(keep, 0755) != 0 && errno != EEXIST)
            die("%s: %s", keep, strerror(errno));
        snprintf(dir, sizeof dir, "%s", keep);
    } else {
        tmp_dir = gst_tmpdir();
        snprintf(dir, sizeof dir, "%s", tmp_dir);
    }
    snprintf(db, sizeof db, "%s/node.db", dir);
    snprintf(log, sizeof log, "%s/web.log", dir);

    char cpu[256];
    gsb_cpu_model(cpu, sizeof cpu);
    struct utsname un;
    uname(&un);
    double load0 = gsb_loadavg();

    /* the data */
    fill_stats fs = {0};
    struct stat st;
    bool reused = stat(db, &st) == 0;
    if (!reused)
        make_node(dir, db, n, &fs);
    db_facts facts;
    read_facts(db, &facts);

    /* the desk */
    unlink(log);
    double t_start = gst_clock_ms();
    pid_t pid = web_start(db, log);
    double started_ms = gst_clock_ms() - t_start;
    long rss_start = gsb_proc_status_kb(pid, "VmRSS:");
    double load1 = gsb_loadavg();

    /* the session, as a browser gets it from the first page */
    gst_http_answer home = request("GET", "/", NULL, NULL);
    if (home.status != 200 ||
        !gst_http_take_session(&home, "<meta name=\"csrf-token\" content=\"", &sess) ||
        !sess.csrf[0])
        die("no session from the home page (status %d):\n%.600s", home.status, home.text);
    /* an incident of the overdue list, for the record page */
    char record[128] = "/incident/";
    const char *first = strstr(home.body, "<a href=\"/incident/");
    if (first)
        snprintf(record, sizeof record, "%.*s", (int)strcspn(first + 9, "\""), first + 9);
    gst_http_answer_free(&home);

    /* the last page of the unfiltered list */
    gst_http_answer all = request("GET", "/incidents", NULL, NULL);
    long long pages = (listed_of(&all) + 49) / 50;
    gst_http_answer_free(&all);
    char deep[64];
    snprintf(deep, sizeof deep, "/incidents?page=%lld", pages > 1 ? pages : 1);

    enum {
        F_HOME,
        F_FILTERED,
        F_OVERDUE,
        F_STATE,
        F_SEARCH,
        F_PAGE1,
        F_DEEP,
        F_RECORD,
        F_SAVE,
        F__N
    };
    figure fg[F__N];
    measure(&fg[F_HOME], "首页 home", "GET", "/", NULL, 200, runs);
    measure(&fg[F_FILTERED], "list: state + category + search", "GET",
            "/incidents?status=in_progress&category=dispute&text=%E6%BC%8F%E6%B0%B4", NULL, 200,
            runs);
    measure(&fg[F_OVERDUE], "list: overdue only", "GET", "/incidents?overdue=1", NULL, 200, runs);
    measure(&fg[F_STATE], "list: one state (the home page's link)", "GET",
            "/incidents?status=closed", NULL, 200, runs);
    measure(&fg[F_SEARCH], "list: search only", "GET", "/incidents?text=%E6%BC%8F%E6%B0%B4", NULL,
            200, runs);
    measure(&fg[F_PAGE1], "list: unfiltered, page 1", "GET", "/incidents", NULL, 200, runs);
    measure(&fg[F_DEEP], "list: unfiltered, last page", "GET", deep, NULL, 200, runs);
    measure(&fg[F_RECORD], "record page with history", "GET", record, NULL, 200, runs);
    measure(&fg[F_SAVE], "form save (POST)", "POST", "/incidents/new", new_incident_form, 303,
            runs);

    long hwm = gsb_proc_status_kb(pid, "VmHWM:"), rss = gsb_proc_status_kb(pid, "VmRSS:");
    double cpu_s = proc_cpu_s(pid);
    double load2 = gsb_loadavg();
    kill(pid, SIGTERM);
    gst_procs reaper = {0};
    reaper.pid[reaper.n++] = pid;
    if (gst_procs_wait(&reaper, pid, 10000) == -1)
        gst_procs_kill9(&reaper, pid);

    /* the report */
    printf("## Village desk: gridnode web with %lld incidents\n\n", facts.incidents);
    printf("Machine: %ld CPUs (nproc), %s, %s %s %s; file system of %s: %s; SQLite %s; ",
           sysconf(_SC_NPROCESSORS_ONLN), cpu, un.sysname, un.release, un.machine, dir,
           gsb_fs_name(dir), sqlite3_libversion());
#if defined(__SANITIZE_ADDRESS__)
    printf("this benchmark built WITH SANITIZERS.\n\n");
#elif defined(__OPTIMIZE__)
    printf("optimized build.\n\n");
#else
    printf("NOT optimized build (-O0): figures are not representative.\n\n");
#endif
    printf("Load average (1 min) at the start, when the desk started, at the end: %.1f, %.1f, "
           "%.1f (on %ld CPUs; above that, other work shared the machine).\n\n",
           load0, load1, load2, sysconf(_SC_NPROCESSORS_ONLN));
    if (reused)
        printf("Data: reused %s.\n", db);
    else
        printf("Data: %ld incidents and %ld workflow steps entered through node_entry_create / "
               "node_entry_update in %.1f s (%.0f entries/s, %d incidents to a transaction).\n",
               fs.incidents, fs.updates, fs.seconds,
               (double)(fs.incidents + fs.updates) / (fs.seconds > 0 ? fs.seconds : 1), TX_SIZE);
    printf("Database: %lld incidents (%lld open, %lld of them overdue; %lld mention 漏水), "
           "%lld changes in the log, %.0f MB.\n",
           facts.incidents, facts.open, facts.overdue, facts.matching, facts.changes,
           (double)facts.bytes / 1e6);
    printf("Desk: started in %.0f ms (open, then serving); %d runs per line after one warm-up; "
           "time from the request's first byte to the end of the answer over loopback, in ms.\n\n",
           started_ms, runs);
    printf("| what | request | listed | p50 | p90 | p99 | max | goal |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (int i = 0; i < F__N; i++)
        print_row(&fg[i], i == F_SAVE);
    printf("| memory of gridnode web | VmHWM (peak) / VmRSS at the end / VmRSS at start | | "
           "%.1f MiB | %.1f MiB | %.1f MiB | | < 32 MiB: %s |\n",
           hwm / 1024.0, rss / 1024.0, rss_start / 1024.0,
           hwm < 0 ? "unknown" : hwm < GOAL_MEM_KB ? "met" : "**not met**");
    printf("\nCPU time of the web process (all its threads, user + system) over all of it: %.1f "
           "s.\n",
           cpu_s);
    puts("(The list search is the page's `text` parameter; %E6%BC%8F%E6%B0%B4 is 漏水.)");
    if (tmp_dir) {
        gst_rmrf(tmp_dir);
        free(tmp_dir);
    } else {
        printf("Kept: %s (node.db, hub.db, web.log).\n", dir);
    }
    return 0;
}
