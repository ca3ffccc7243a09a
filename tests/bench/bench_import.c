/*
 * bench_import.c: how fast a village node takes in data (issue 3).
 *
 * Two figures a county office asks about:
 *   1. a large CSV import: `gridnode import incidents FILE` of N (default
 *      100,000) generated incidents with realistic Chinese titles, the
 *      category codes of data/incident_categories.csv and the grids of the
 *      village: wall time and rows per second (one transaction, as the
 *      import is all or none). A --dry-run of the same file first shows how
 *      much of the time is parsing and checking rather than the commit;
 *   2. the latency of one `incident add` (a whole process: start, open,
 *      check, commit with fsync, print the id), median and p95 over R
 *      (default 200) runs against the database that already holds the N
 *      imported rows. The start-up cost of the process alone
 *      (`gridnode --version`) is measured beside it.
 *
 * It runs the gridnode of its own build directory, in a temporary directory
 * (under $TMPDIR, so the disk can be chosen) that it removes; it writes
 * nothing into the source tree. It prints the machine (CPUs, model, kernel,
 * file system) with the figures. The durability setting is gridnode's own
 * (node/store.c: WAL, synchronous=FULL); the journal mode is read back from
 * the database to confirm it.
 *
 * usage: bench_import [ROWS [RUNS]]
 * Build: cmake --build BUILD --target gridnode bench_import; run BUILD/tests/bench_import.
 * Not a test: ctest never runs it.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>


#include "gsbench.h"
#include "gstest.h"

#define VILLAGE "411122101201"
#define NGRIDS  8

/* CPU time (user + system) of the reaped children so far, in ms: beside the
 * wall time, a figure that other work on the machine disturbs much less. */
static double children_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void die(const char *what, const gst_result *r)
{
    fprintf(stderr, "bench_import: %s failed (status %d)\n%s%s", what, r ? r->status : -1,
            r && r->out ? r->out : "", r && r->err ? r->err : "");
    exit(1);
}

/* ---- generated data ------------------------------------------------------------ */

/* Category codes from the city's reference file. */
static char cats[64][64];
static int ncats;

static void load_categories(void)
{
    const char *path = GS_TEST_SRC_DIR "/data/incident_categories.csv";
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_import: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    char line[512];
    int first = 1;
    while (fgets(line, sizeof line, f) && ncats < 64) {
        if (first) { /* header */
            first = 0;
            continue;
        }
        size_t n = strcspn(line, ",\r\n");
        if (n > 0 && n < sizeof cats[0])
            snprintf(cats[ncats++], sizeof cats[0], "%.*s", (int)n, line);
    }
    fclose(f);
    if (ncats == 0) {
        fprintf(stderr, "bench_import: no categories in %s\n", path);
        exit(1);
    }
}

static const char *const places[] = {
    "东街",     "西街口",   "村委会门口", "老槐树下",   "二组",       "三组后巷",   "小学路口",
    "卫生室旁", "文化广场", "南坑塘边",   "回民街",     "集贸市场",   "北地机井",   "养老院",
    "幸福院",   "村东桥头", "五组",       "党群服务中心", "粮站旧址", "107国道边",
};
static const char *const problems[] = {
    "路灯不亮",       "井盖缺失",         "垃圾堆放",     "邻里纠纷（漏水）", "宅基地边界争议",
    "燃气管道异味",   "楼道堆放杂物",     "独居老人需探访", "低保申请咨询",     "留守儿童无人照看",
    "流浪人员求助",   "道路破损积水",     "私搭乱建",     "电动车飞线充电",   "沟渠堵塞",
    "秸秆焚烧",       "占道经营",         "噪音扰民",     "家庭矛盾调解",     "危房排查",
};
static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "马", "白", "孙"};
static const char *const given[] = {"桂兰", "建国", "秀英", "国强", "小二", "德明", "丽娟", "志刚"};

/* xorshift: reproducible data without touching rand(). */
static unsigned long long rng = 42;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}
#define PICK(a) (a)[pick(sizeof(a) / sizeof((a)[0]))]

static void write_csv(const char *path, long rows)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "bench_import: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fputs("title,category,grid_code,description,reporter,reported_at,severity,source\r\n", f);
    for (long i = 0; i < rows; i++) {
        const char *place = PICK(places), *problem = PICK(problems);
        fprintf(f,
                "%s%s,%s,%s%03u,\"%s附近%s，网格员巡查时发现, 已拍照留存（编号%ld）\",%s%s,"
                "2026-%02u-%02u %02u:%02u,%u,%s\r\n",
                place, problem, cats[pick((unsigned)ncats)], VILLAGE, 1 + pick(NGRIDS), place,
                problem, i, PICK(surnames), PICK(given), 1 + pick(12), 1 + pick(28), 7 + pick(12),
                pick(60), 1 + pick(4), pick(3) ? "patrol" : "resident");
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "bench_import: writing %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* ---- measuring ---------------------------------------------------------------- */

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

typedef struct stats {
    double min, median, p95, p99, max, mean;
} stats;

static stats summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    stats s = {v[0], quantile(v, n, 0.5), quantile(v, n, 0.95), quantile(v, n, 0.99), v[n - 1], 0};
    for (int i = 0; i < n; i++)
        s.mean += v[i] / n;
    return s;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 200;
    if (rows < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_import [ROWS [RUNS]]\n");
        return 2;
    }
    load_categories();
    char *dir = gst_tmpdir();
    char db[4096], csv[4096], wal[4200];
    snprintf(db, sizeof db, "%s/bench.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(csv, sizeof csv, "%s/incidents-%ld.csv", dir, rows);

    char model[256];
    gsb_cpu_model(model, sizeof model);
    struct utsname un;
    uname(&un);
    printf("gridnode import benchmark\n");
    printf("  machine     %ld CPUs (nproc), %s\n", sysconf(_SC_NPROCESSORS_ONLN), model);
    printf("  system      %s %s, %s\n", un.sysname, un.release, un.machine);
    printf("  disk        %s (%s)\n", dir, gsb_fs_name(dir));
    printf("  sqlite      %s\n", sqlite3_libversion());
    char load[128] = "unknown";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fgets(load, sizeof load, lf))
            load[strcspn(load, "\n")] = '\0';
        fclose(lf);
    }
    printf("  load        %s (/proc/loadavg at the start; other work skews the figures)\n", load);
#if defined(__SANITIZE_ADDRESS__)
    printf("  build       WITH SANITIZERS: figures are not representative\n");
#elif defined(__OPTIMIZE__)
    printf("  build       optimized\n");
#else
    printf("  build       NOT optimized (-O0): figures are not representative\n");
#endif

    gst_result r = {0};
    if (gst_runv(&r, NULL, "gridnode", "--db", db, "init", "--node-id", VILLAGE "-bench",
                 "--village", VILLAGE, "--hub", "tcp://127.0.0.1:7700", (char *)NULL) ||
        r.status)
        die("init", &r);
    for (int g = 1; g <= NGRIDS; g++) {
        char code[32], name[32];
        snprintf(code, sizeof code, "%s%03d", VILLAGE, g);
        snprintf(name, sizeof name, "第%d网格", g);
        gst_result_free(&r);
        if (gst_runv(&r, NULL, "gridnode", "--db", db, "grid", "add", "--code", code, "--name",
                     name, (char *)NULL) ||
            r.status)
            die("grid add", &r);
    }

    double t0 = gst_clock_ms();
    write_csv(csv, rows);
    double gen = gst_clock_ms() - t0;
    printf("  input       %ld rows, %.1f MB UTF-8 CSV, %d categories, %d grids (generated in "
           "%.0f ms)\n",
           rows, (double)file_size(csv) / 1e6, ncats, NGRIDS, gen);

    /* 1a. dry run: parse, check, write inside a transaction, roll back */
    gst_result_free(&r);
    double c0 = children_cpu_ms();
    t0 = gst_clock_ms();
    if (gst_runv(&r, NULL, "gridnode", "--db", db, "import", "incidents", csv, "--dry-run",
                 (char *)NULL) ||
        r.status)
        die("import --dry-run", &r);
    double dry = gst_clock_ms() - t0, dry_cpu = children_cpu_ms() - c0;

    /* 1b. the import */
    gst_result_free(&r);
    c0 = children_cpu_ms();
    t0 = gst_clock_ms();
    if (gst_runv(&r, NULL, "gridnode", "--db", db, "import", "incidents", csv, (char *)NULL) ||
        r.status)
        die("import", &r);
    double imp = gst_clock_ms() - t0, imp_cpu = children_cpu_ms() - c0;
    char want[64];
    snprintf(want, sizeof want, "imported %ld incidents", rows);
    if (!strstr(r.out, want))
        die("import (row count)", &r);

    /* the database as gridnode left it */
    sqlite3 *d = NULL;
    char mode[32] = "?";
    long long stored = -1;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(d, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        if (sqlite3_prepare_v2(d, "SELECT count(*) FROM incidents", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                stored = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(d);
    if (stored != rows) {
        fprintf(stderr, "bench_import: %lld incidents stored, %ld expected\n", stored, rows);
        return 1;
    }

    /* 2. single adds, each a process, against the full database */
    double *lat = calloc((size_t)runs, sizeof *lat), *start = calloc((size_t)runs, sizeof *start);
    double *cpu = calloc((size_t)runs, sizeof *cpu);
    if (!lat || !start || !cpu)
        return 1;
    for (int i = 0; i < runs; i++) {
        char title[128];
        snprintf(title, sizeof title, "%s%s（单条录入%d）", PICK(places), PICK(problems), i);
        gst_result_free(&r);
        c0 = children_cpu_ms();
        t0 = gst_clock_ms();
        if (gst_runv(&r, NULL, "gridnode", "--db", db, "incident", "add", "--grid",
                     VILLAGE "001", "--category", cats[i % ncats], "--title", title,
                     "--description", "网格员巡查发现，已拍照", "--reporter", "王桂兰",
                     (char *)NULL) ||
            r.status)
            die("incident add", &r);
        lat[i] = gst_clock_ms() - t0;
        cpu[i] = children_cpu_ms() - c0;
    }
    int nstart = runs < 50 ? runs : 50;
    for (int i = 0; i < nstart; i++) {
        gst_result_free(&r);
        t0 = gst_clock_ms();
        if (gst_runv(&r, NULL, "gridnode", "--version", (char *)NULL) || r.status)
            die("gridnode --version", &r);
        start[i] = gst_clock_ms() - t0;
    }
    gst_result_free(&r);
    stats a = summarize(lat, runs), s = summarize(start, nstart), ac = summarize(cpu, runs);

    printf("  durability  journal_mode=%s (read back), synchronous=FULL (node/store.c)\n", mode);
    printf("  database    %.1f MB + %.1f MB WAL after the import and %d adds\n\n",
           (double)file_size(db) / 1e6, (double)file_size(wal) / 1e6, runs);
    printf("CSV import, %ld rows, one transaction\n", rows);
    printf("  import      %8.0f ms wall   %8.0f rows/s   %8.0f ms CPU (user+sys)\n", imp,
           rows / (imp / 1e3), imp_cpu);
    printf("  --dry-run   %8.0f ms wall   %8.0f rows/s   %8.0f ms CPU  (same work, rolled back)\n",
           dry, rows / (dry / 1e3), dry_cpu);
    printf("single `incident add` (a process each), %d runs, %lld incidents stored\n", runs,
           stored);
    printf("  latency     median %.1f ms   p95 %.1f ms   p99 %.1f ms   min %.1f   max %.1f   "
           "mean %.1f ms\n",
           a.median, a.p95, a.p99, a.min, a.max, a.mean);
    printf("  CPU         median %.1f ms   p95 %.1f ms (user+sys of each add)\n", ac.median, ac.p95);
    printf("  start-up    `gridnode --version`: median %.1f ms   p95 %.1f ms (%d runs)\n",
           s.median, s.p95, nstart);
    if (rows / (imp / 1e3) < 5000)
        printf("\nNOTE: import below 5,000 rows/s; profile with perf record or callgrind.\n");

    free(lat);
    free(start);
    free(cpu);
    gst_rmrf(dir);
    free(dir);
    return 0;
}
