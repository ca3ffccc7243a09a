/*
 * bench_hub_web.c: the city's pages (`gridhub web`) with the full city's
 * data (issue 17, "Fast"):
 *
 *   - server time of the city's dashboard for a city user (under 200 ms),
 *     a county's /area/CODE, a township user's dashboard (under 50 ms) and
 *     the incident queue (under 100 ms): unfiltered, filtered (overdue,
 *     category, state, text search), its last page, and a township user's;
 *   - the memory of the `gridhub web` process (under 64 MiB);
 *   - `gridhub serve`'s sync rate with and without 20 browsers polling the
 *     city's dashboard beside it (no effect: within 5%).
 *
 * The data is a finished `bench_city --keep` run (--dir DIR: its hub.db
 * with hub.db.key and hub.db.chain, and its <village>.db node databases),
 * or a hub database alone (--hub PATH: the first two parts only). Nothing
 * there is written: the hub is copied with SQLite's online backup into a
 * work directory (--work DIR, or a new temporary one), and so are the node
 * databases the sync part uses.
 *
 * On the copy it adds two users with `gridhub user add` (a city user and a
 * township user), starts the real `gridhub serve` (ipc://WORK/hub.sock)
 * and `gridhub web --bind 127.0.0.1:0`, and logs in as a browser does: the
 * login page for a session cookie and its CSRF token, the first login's
 * form that sets the password, POSTs with an Origin header. Each request is
 * timed over loopback from its first byte sent to the server's close after
 * the answer (Connection: close; the connection is made before the clock
 * starts); when the answer carries `Server-Timing: app;dur=MS` that figure
 * is shown too. Each page is asked once in a fresh order (the first, cold,
 * request of that page in this web process), then --runs times (default
 * 20): p50, p95 and the slowest. Then VmHWM and VmRSS of the web process
 * from /proc.
 *
 * The sync part copies --sync-nodes village nodes (default 100, spread
 * evenly in code order) and points them at the copy's serve; one sync of
 * each (nothing new) warms up. Then --rounds rounds (default 2) of two
 * runs, A without pollers and B with --browsers (default 20) threads, each
 * logged in with a session of its own from an address of its own
 * (127.0.0.11, .12, ...: a browser each, as the layer counts them), that
 * load the city's dashboard and wait --poll-ms (default 5000) ± 20% after
 * each answer, started at random times 5 s before the sync. Before every
 * run each node gets --sync-changes new offline changes (default 2,200, two
 * years of a village in bench_city), incidents and their status steps entered
 * through the node's entry rules by the same code as bench_city's
 * (city_gen.h), in worker processes, not timed. A run is `gridnode sync
 * --quiet --timeout 120` of every node, --parallel (default 8) at once; its
 * rate is the new changes over the wall time of the run. At the end the
 * hub must hold every change of those nodes (count and greatest seq per
 * origin equal the node's seq).
 *
 * It prints the machine (CPUs, model, kernel, file system, load average)
 * and the figures beside the goals, as a Markdown section. A benchmark,
 * not a test: it reports and exits 0 (2 on a wrong command line, 1 when the
 * setup fails or the hub lacks changes). A page answered with another
 * status than 200 (a 500, a connection closed without an answer) is
 * counted, shown with its first lines and the web log's tail, and makes
 * the row "wrong answers".
 *
 * Build: cmake --build BUILD --target gridhub gridnode bench_city
 * bench_hub_web; run BUILD/tests/bench_hub_web --dir DIR (DIR from
 * `BUILD/tests/bench_city --dir DIR --changes-per-village 1100 --keep`).
 * Not a test: ctest never runs it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/buf.h"
#include "gridsync/find.h"
#include "gridsync/http.h"
#include "gsbench.h"
#include "gstest.h"
#include "gstest_http.h"

#define PROG "bench_hub_web"
#include "city_gen.h"

/* The goals of issue 17. */
#define GOAL_CITY_MS  200.0
#define GOAL_TOWN_MS  50.0
#define GOAL_QUEUE_MS 100.0
#define GOAL_MEM_KB   (64 * 1024)
#define GOAL_RATIO    0.95

#define PASSWORD       "bench-hub-web-2026"
#define CITY_LOGIN     "bench-city"
#define TOWN_LOGIN     "bench-township"
#define MAX_BROWSERS   200
#define MAX_NODES      1400
#define MAX_ROUNDS     10
#define WARMUP_MS      5000 /* pollers run this long before a B run's sync starts */
#define ANSWER_WAIT_MS 300000

/* ---- the processes, so that a failure leaves nothing behind ------------------------- */

static pid_t hub_pid, web_pid;
static char web_log[PATH_MAX], hub_log[PATH_MAX];
static char *work_dir; /* removed at the end unless --keep */
static bool work_made; /* made here (a temporary directory) */
static bool keep_work;

static void stop_pid(pid_t *pid, int ms)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int waited = 0; waited < ms; waited += 50) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        gst_sleep_ms(50);
    }
    kill(-*pid, SIGKILL);
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* The last lines of a log, for a failure message. */
static void show_tail(const char *path, int lines)
{
    size_t len = 0;
    char *text = gst_read_file(path, &len);
    if (!text)
        return;
    const char *p = text + len;
    for (int n = 0; p > text && n <= lines; p--)
        n += p[-1] == '\n';
    fprintf(stderr, "--- the last lines of %s:\n%s%s---\n", path, p,
            len && text[len - 1] != '\n' ? "\n" : "");
    free(text);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    gsb_progress_end();
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    stop_pid(&web_pid, 2000);
    stop_pid(&hub_pid, 5000);
    if (work_dir && work_made && !keep_work)
        gst_rmrf(work_dir);
    else if (work_dir)
        fprintf(stderr, PROG ": kept %s\n", work_dir);
    exit(1);
}

/* Runs argv to completion with stdin_text as its input; requires exit 0. */
static void run_ok(const char *stdin_text, const char *const argv[])
{
    gst_result r = {0};
    if (gst_run(&r, stdin_text, argv) != 0 || r.status != 0) {
        gs_buf cmd = GS_BUF_INIT;
        for (int i = 0; argv[i]; i++)
            gs_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
        gs_buf_puts(&cmd, "");
        die("`%s`: status %d\n%s%s", cmd.data ? cmd.data : argv[0], r.status, r.out ? r.out : "",
            r.err ? r.err : "");
    }
    gst_result_free(&r);
}

/* ---- small helpers ------------------------------------------------------------------ */

static const char *num(long long v, char buf[32])
{
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", v < 0 ? -v : v);
    size_t n = strlen(raw), o = 0;
    if (v < 0)
        buf[o++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[n], nearest rank; -1 for none. */
static double quantile(const double *v, int n, double q)
{
    if (n <= 0)
        return -1;
    int k = (int)(q * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static bool digits(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789") == n;
}

/* Copies a small file (a key) byte for byte, mode 0600. */
static void copy_small(const char *from, const char *to)
{
    size_t len = 0;
    char *text = gst_read_file(from, &len);
    if (!text)
        die("%s: %s", from, strerror(errno));
    if (gst_write_file(to, text, len) != 0 || chmod(to, 0600) != 0)
        die("%s: %s", to, strerror(errno));
    free(text);
}

/* An online backup of the SQLite database from into to (as `sqlite3 from
 * ".backup to"`), reading from through its WAL if it has one and writing
 * nothing to it; what shows progress. */
static void db_copy(const char *from, const char *to, const char *what)
{
    sqlite3 *src = NULL, *dst = NULL;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("%s: %s", from, src ? sqlite3_errmsg(src) : "cannot open");
    unlink(to);
    if (sqlite3_open(to, &dst) != SQLITE_OK)
        die("%s: %s", to, dst ? sqlite3_errmsg(dst) : "cannot open");
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        die("%s: %s", to, sqlite3_errmsg(dst));
    int rc;
    while ((rc = sqlite3_backup_step(b, 4096)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED) {
        int total = sqlite3_backup_pagecount(b), left = sqlite3_backup_remaining(b);
        if (what)
            gsb_progress("%s: %d%%", what, total ? (int)(100LL * (total - left) / total) : 0);
        if (rc != SQLITE_OK)
            gst_sleep_ms(50);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        die("copying %s to %s: %s", from, to, sqlite3_errstr(rc));
    sqlite3_close(src);
    if (sqlite3_close(dst) != SQLITE_OK)
        die("%s: cannot close", to);
    if (what)
        gsb_progress_end();
}

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

/* ---- HTTP as a browser speaks it ---------------------------------------------------- */

static uint16_t port;
static char origin_line[64]; /* "Origin: http://127.0.0.1:PORT\r\n" */

/* A connection to 127.0.0.1:port from the address src (127.0.0.X: a
 * browser of its own to the server's per-address limits), or -1. */
static int dial_from(const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in me = {.sin_family = AF_INET};
    if (src && inet_pton(AF_INET, src, &me.sin_addr) == 1 &&
        bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
        close(fd);
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads the answer until the server closes (or ANSWER_WAIT_MS pass without
 * a byte); status 0 when none came. */
static void read_answer(int fd, gst_http_answer *a)
{
    gs_buf b = GS_BUF_INIT;
    char chunk[16384];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, ANSWER_WAIT_MS) <= 0)
            break;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        gs_buf_append(&b, chunk, (size_t)r);
    }
    gs_buf_puts(&b, "");
    a->text = b.err ? NULL : gs_buf_steal(&b);
    gs_buf_free(&b);
    if (!a->text)
        a->text = strdup("");
    a->len = a->text ? strlen(a->text) : 0;
    a->status = 0;
    if (a->text)
        sscanf(a->text, "HTTP/1.%*d %d", &a->status);
    char *end = a->text ? strstr(a->text, "\r\n\r\n") : NULL;
    a->body = end ? end + 4 : a->text + a->len;
}

/* The dur of the metric "app" in a Server-Timing value ("db;dur=3.1,
 * app;desc=\"page\";dur=12.5"), or -1. */
static double app_dur(const char *v)
{
    for (const char *m = v; m && *m; m = strchr(m, ',') ? strchr(m, ',') + 1 : NULL) {
        m += strspn(m, " \t");
        size_t len = strcspn(m, ",");
        if (strncmp(m, "app", 3) || (m[3] != ';' && m[3] != ',' && m[3] != '\0' && m[3] != ' '))
            continue;
        for (const char *d = m; (d = strstr(d, "dur=")) && d < m + len; d += 4)
            if (d[-1] == ';' || d[-1] == ' ')
                return strtod(d + 4, NULL);
    }
    return -1;
}

/* One request from src with the session's cookie (may be empty) and, for a
 * POST, the urlencoded form. *ms: from its first byte sent to the end of
 * the answer; *app_ms: the answer's Server-Timing app;dur, or -1. Status 0
 * in the answer when the connection failed or closed without one. */
static gst_http_answer request(const char *src, const char *path, const char *cookie,
                               const char *form, double *ms, double *app_ms)
{
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b,
                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                  "User-Agent: bench_hub_web\r\nAccept: text/html\r\n"
                  "Accept-Language: zh-CN,zh;q=0.9\r\n%s",
                  form ? "POST" : "GET", path, (unsigned)port, cookie ? cookie : "");
    if (form)
        gs_buf_printf(&b,
                      "%sContent-Type: application/x-www-form-urlencoded\r\n"
                      "Content-Length: %zu\r\n",
                      origin_line, strlen(form));
    gs_buf_printf(&b, "\r\n%s", form ? form : "");
    gst_http_answer a = {0};
    if (ms)
        *ms = -1;
    if (app_ms)
        *app_ms = -1;
    int fd = b.err ? -1 : dial_from(src);
    if (fd < 0) {
        gs_buf_free(&b);
        a.text = strdup("");
        a.body = a.text;
        return a;
    }
    double t0 = gst_clock_ms();
    gst_http_send(fd, b.data, b.len);
    read_answer(fd, &a);
    if (ms)
        *ms = gst_clock_ms() - t0;
    close(fd);
    gs_buf_free(&b);
    char st[512];
    if (app_ms && a.text && gst_http_header(&a, "Server-Timing", st, sizeof st))
        *app_ms = app_dur(st);
    return a;
}

/* Appends k=v&, urlencoded. */
static void form_field(gs_buf *b, const char *k, const char *v)
{
    gs_buf_printf(b, "%s%s=", b->len ? "&" : "", k);
    gs_url_escape(b, v);
}

/*
 * Logs in from src as login, as a browser does: the login page (a session
 * cookie and its CSRF token), then the form; first: the first login's form
 * that sets the password. The session's "Cookie: ...\r\n" line into cookie.
 */
static void login(const char *src, const char *user, bool first, char cookie[200])
{
    gst_http_answer page = request(src, "/login", NULL, NULL, NULL, NULL);
    gst_http_session s = {{0}};
    if (page.status != 200 || !gst_http_take_session(&page, GST_HTTP_CSRF_FIELD, &s) || !s.csrf[0])
        die("GET /login from %s: status %d, no session or CSRF token:\n%.600s", src, page.status,
            page.text);
    gst_http_answer_free(&page);
    gs_buf form = GS_BUF_INIT;
    form_field(&form, "_csrf", s.csrf);
    form_field(&form, "user", user);
    if (first) {
        form_field(&form, "first", "1");
        form_field(&form, "new", PASSWORD);
        form_field(&form, "again", PASSWORD);
    } else {
        form_field(&form, "password", PASSWORD);
    }
    gs_buf_puts(&form, "");
    gst_http_answer in = request(src, "/login", s.cookie, form.data, NULL, NULL);
    gst_http_session got = {{0}};
    if (in.status != 303 || !gst_http_take_session(&in, NULL, &got))
        die("POST /login as %s from %s%s: status %d:\n%.600s", user, src,
            first ? " (the first login)" : "", in.status, in.text);
    snprintf(cookie, 200, "%s", got.cookie);
    gst_http_answer_free(&in);
    gs_buf_free(&form);
}

/* "共 N 条, 第 k/m 页" of a list page: N into *total and m into *pages;
 * false when the page has none. */
static bool count_of(const gst_http_answer *a, long long *total, long long *pages)
{
    const char *p = strstr(a->body, "<p class=\"count\">");
    if (!p)
        return false;
    p += strlen("<p class=\"count\">");
    long long n = 0, k = 0, m = 0;
    if (sscanf(p, "共 %lld 条, 第 %lld/%lld 页", &n, &k, &m) != 3 &&
        sscanf(p, "%lld in all, page %lld/%lld", &n, &k, &m) != 3)
        return false;
    *total = n;
    *pages = m;
    return true;
}

/* ---- the pages --------------------------------------------------------------------- */

typedef struct figure {
    char what[96], path[160];
    double cold, cold_app;        /* the first request of the page */
    double p50, p95, max;         /* of the runs after it */
    double app_p50, app_p95;      /* Server-Timing app;dur, -1 without */
    int runs, wrong, first_wrong; /* answers with another status than 200 */
    long long listed, pages;      /* "共 N 条", -1 for other pages */
    size_t bytes;                 /* the size of the last answer */
    long hwm_kb;                  /* the web's VmHWM after this page's requests */
    double goal;                  /* ms, 0: none of its own */
    const char *goal_name;
} figure;

/* Reports an answer that is not a 200 with its first lines and the web log. */
static void report_wrong(const char *path, const gst_http_answer *a)
{
    gsb_progress_end();
    fprintf(stderr, PROG ": GET %s: status %d (expected 200)%s\n%.800s\n", path, a->status,
            a->status ? ":" : ": the connection closed without an answer", a->text);
    if (web_pid > 0 && kill(web_pid, 0) != 0)
        fprintf(stderr, PROG ": the gridhub web process is gone\n");
    show_tail(web_log, 15);
}

static void measure(figure *fg, const char *what, const char *path, const char *cookie, int runs,
                    double goal, const char *goal_name)
{
    memset(fg, 0, sizeof *fg);
    snprintf(fg->what, sizeof fg->what, "%s", what);
    snprintf(fg->path, sizeof fg->path, "%s", path);
    fg->listed = fg->pages = -1;
    fg->runs = runs;
    fg->goal = goal;
    fg->goal_name = goal_name;
    double *v = calloc((size_t)runs + 1, sizeof *v), *app = calloc((size_t)runs + 1, sizeof *app);
    if (!v || !app)
        die("out of memory");
    int napp = 0;
    for (int i = -1; i < runs; i++) {
        double ms = 0, app_ms = -1;
        if (i < 0)
            gsb_progress("%s: the first request", what);
        else
            gsb_progress("%s: %d / %d", what, i + 1, runs);
        gst_http_answer a = request("127.0.0.1", path, cookie, NULL, &ms, &app_ms);
        if (a.status != 200) {
            if (!fg->wrong && !fg->first_wrong)
                report_wrong(path, &a);
            if (i < 0)
                fg->first_wrong = a.status ? a.status : -1;
            else
                fg->wrong++;
        }
        if (i < 0) {
            fg->cold = ms;
            fg->cold_app = app_ms;
        } else {
            v[i] = ms;
            if (app_ms >= 0)
                app[napp++] = app_ms;
        }
        long long total, pages;
        if (a.status == 200 && count_of(&a, &total, &pages)) {
            fg->listed = total;
            fg->pages = pages;
        }
        fg->bytes = a.len;
        gst_http_answer_free(&a);
    }
    gsb_progress_end();
    qsort(v, (size_t)runs, sizeof *v, cmp_double);
    fg->p50 = quantile(v, runs, 0.5);
    fg->p95 = quantile(v, runs, 0.95);
    fg->max = v[runs - 1];
    qsort(app, (size_t)napp, sizeof *app, cmp_double);
    fg->app_p50 = napp ? quantile(app, napp, 0.5) : -1;
    fg->app_p95 = napp ? quantile(app, napp, 0.95) : -1;
    fg->hwm_kb = gsb_proc_status_kb(web_pid, "VmHWM:");
    /* as it goes, for a long run whose stdout is a file */
    fprintf(stderr, PROG ": %s: first %.1f ms, p50 %.1f ms, p95 %.1f ms%s\n", what, fg->cold,
            fg->p50, fg->p95, fg->wrong || fg->first_wrong ? " (WRONG ANSWERS)" : "");
    free(v);
    free(app);
}

static void ms_cell(char *out, size_t cap, double ms)
{
    if (ms < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.1f", ms);
}

static void print_figure(const figure *f)
{
    char listed[32] = "", c[5][32];
    if (f->listed >= 0)
        num(f->listed, listed);
    ms_cell(c[0], sizeof c[0], f->cold_app);
    ms_cell(c[1], sizeof c[1], f->app_p50);
    ms_cell(c[2], sizeof c[2], f->app_p95);
    char goal[96];
    if (f->wrong || f->first_wrong)
        snprintf(goal, sizeof goal, "**wrong answers** (%d of %d%s)", f->wrong, f->runs,
                 f->first_wrong ? ", and the first" : "");
    else if (f->goal <= 0)
        snprintf(goal, sizeof goal, "%s", f->goal_name ? f->goal_name : "");
    else
        snprintf(goal, sizeof goal, "%s < %.0f ms: %s%s", f->goal_name, f->goal,
                 f->p50 < f->goal ? "met" : "**not met**",
                 f->p50 < f->goal && f->p95 >= f->goal ? " (p95 over)" : "");
    printf("| %s | `%s` | %s | %.1f | %.1f | %.1f | %.1f | %s / %s / %s | %.0f | %.1f | %s |\n",
           f->what, f->path, listed, f->cold, f->p50, f->p95, f->max, c[0], c[1], c[2],
           (double)f->bytes / 1024.0, f->hwm_kb / 1024.0, goal);
}

/* ---- the processes ------------------------------------------------------------------- */

static void start_hub(const char *db, const char *endpoint, const char *sock)
{
    const char *argv[] = {"gridhub", "--db", db, "serve", "--bind", endpoint, NULL};
    unlink(sock);
    hub_pid = gst_spawn(argv, hub_log);
    if (hub_pid < 0)
        die("cannot start gridhub serve: %s", strerror(errno));
    for (int64_t end = gst_now_ms() + 120000; gst_now_ms() < end; gst_sleep_ms(50)) {
        struct stat st;
        if (stat(sock, &st) == 0)
            return;
        if (waitpid(hub_pid, NULL, WNOHANG) == hub_pid) {
            hub_pid = 0;
            show_tail(hub_log, 15);
            die("gridhub serve exited at start");
        }
    }
    die("gridhub serve did not open %s within 120 s; see %s", sock, hub_log);
}

static void start_web(const char *db)
{
    const char *argv[] = {"gridhub", "--db", db, "web", "--bind", "127.0.0.1:0", NULL};
    unlink(web_log);
    web_pid = gst_spawn(argv, web_log);
    if (web_pid < 0)
        die("cannot start gridhub web: %s", strerror(errno));
    for (int64_t end = gst_now_ms() + 120000; gst_now_ms() < end; gst_sleep_ms(20)) {
        char *text = gst_read_file(web_log, NULL);
        const char *p = text ? strstr(text, "serving http://127.0.0.1:") : NULL;
        if (p)
            port = (uint16_t)atoi(p + strlen("serving http://127.0.0.1:"));
        free(text);
        if (port) {
            snprintf(origin_line, sizeof origin_line, "Origin: http://127.0.0.1:%u\r\n",
                     (unsigned)port);
            return;
        }
        if (waitpid(web_pid, NULL, WNOHANG) == web_pid) {
            web_pid = 0;
            show_tail(web_log, 15);
            die("gridhub web exited at start");
        }
    }
    die("gridhub web did not start within 120 s; see %s", web_log);
}

/* User + system CPU seconds of a live process so far, -1 when unreadable. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the browsers that poll the dashboard ------------------------------------------ */

typedef struct poller {
    pthread_t th;
    int idx;
    char src[16];
    char cookie[200];
    uint64_t seed;
    int period_ms;
    /* of one B run: every answer's start (gst_clock_ms) and time */
    double *at, *ms;
    int n, cap;
    int wrong, first_status;       /* answers not 200; the first one's status */
    int closed;                    /* of them, closed without an answer (status 0) */
    double closed_min, closed_max; /* ms until the close */
} poller;

static poller *pollers;
static int npollers;
static volatile int pollers_stop;
static double window0, window1; /* the sync's start and end (gst_clock_ms) */

static unsigned poller_rand(poller *p, unsigned n)
{
    rng r = {p->seed};
    uint64_t x = rng_next(&r);
    p->seed = r.s;
    return (unsigned)(x % n);
}

/* Waits ms, or less when told to stop. */
static void poller_wait(int ms)
{
    for (int64_t end = gst_now_ms() + ms; !pollers_stop && gst_now_ms() < end;)
        gst_sleep_ms(20);
}

static void *poller_run(void *arg)
{
    poller *p = arg;
    poller_wait((int)poller_rand(p, (unsigned)p->period_ms)); /* opened at some moment */
    while (!pollers_stop) {
        double ms = 0, at = gst_clock_ms();
        gst_http_answer a = request(p->src, "/", p->cookie, NULL, &ms, NULL);
        if (a.status != 200) {
            if (!p->wrong)
                p->first_status = a.status;
            p->wrong++;
            if (a.status == 0) {
                p->closed_min = p->closed++ && p->closed_min < ms ? p->closed_min : ms;
                p->closed_max = p->closed_max > ms ? p->closed_max : ms;
            }
        } else {
            if (p->n == p->cap) {
                int cap = p->cap ? p->cap * 2 : 64;
                double *m = realloc(p->ms, (size_t)cap * sizeof *m);
                if (m)
                    p->ms = m;
                double *t = m ? realloc(p->at, (size_t)cap * sizeof *t) : NULL;
                if (t) {
                    p->at = t;
                    p->cap = cap;
                }
            }
            if (p->n < p->cap) {
                p->at[p->n] = at;
                p->ms[p->n++] = ms;
            }
        }
        gst_http_answer_free(&a);
        /* the next refresh: the period ± 20% after this answer */
        poller_wait(p->period_ms * 8 / 10 +
                    (int)poller_rand(p, (unsigned)p->period_ms * 4 / 10 + 1));
    }
    return NULL;
}

static void pollers_start(void)
{
    pollers_stop = 0;
    for (int i = 0; i < npollers; i++) {
        poller *p = &pollers[i];
        p->n = p->wrong = p->first_status = p->closed = 0;
        p->closed_min = p->closed_max = 0;
        if (pthread_create(&p->th, NULL, poller_run, p) != 0)
            die("cannot start a polling thread");
    }
}

/* The dashboards the browsers loaded: all of the B run (warm-up, sync and
 * the last answers after it), and those that overlapped the sync. */
typedef struct poll_stats {
    int requests, wrong, first_status, in_sync;
    double p50, p95, max;
    int closed; /* answers that never came: the connection closed (status 0) */
    double closed_min, closed_max;
} poll_stats;

static void pollers_stop_all(poll_stats *ps)
{
    pollers_stop = 1;
    for (int i = 0; i < npollers; i++)
        pthread_join(pollers[i].th, NULL);
    memset(ps, 0, sizeof *ps);
    int n = 0;
    for (int i = 0; i < npollers; i++) {
        n += pollers[i].n;
        ps->wrong += pollers[i].wrong;
        if (pollers[i].closed) {
            poller *p = &pollers[i];
            ps->closed_min =
                ps->closed && ps->closed_min < p->closed_min ? ps->closed_min : p->closed_min;
            ps->closed_max = ps->closed_max > p->closed_max ? ps->closed_max : p->closed_max;
            ps->closed += p->closed;
        }
        if (pollers[i].wrong && !ps->first_status)
            ps->first_status = pollers[i].first_status ? pollers[i].first_status : -1;
    }
    double *all = calloc((size_t)n + 1, sizeof *all);
    if (!all)
        die("out of memory");
    int k = 0;
    for (int i = 0; i < npollers; i++)
        for (int j = 0; j < pollers[i].n; j++) {
            all[k++] = pollers[i].ms[j];
            ps->in_sync +=
                pollers[i].at[j] < window1 && pollers[i].at[j] + pollers[i].ms[j] > window0;
        }
    qsort(all, (size_t)n, sizeof *all, cmp_double);
    ps->requests = n + ps->wrong;
    ps->p50 = quantile(all, n, 0.5);
    ps->p95 = quantile(all, n, 0.95);
    ps->max = n ? all[n - 1] : -1;
    free(all);
}

/* ---- the sync workload ---------------------------------------------------------------- */

typedef struct snode {
    char code[13];
    char db[PATH_MAX];
    char log[PATH_MAX];
    char origin[64];
    uint64_t seq; /* the node's seq after the last generation */
} snode;

static snode *snodes;
static int nsnodes;

/* The <village>.db files of dir, in code order. */
static int list_node_dbs(const char *dir, char (**codes)[13])
{
    DIR *d = opendir(dir);
    if (!d)
        die("--dir %s: %s", dir, strerror(errno));
    int n = 0, cap = 0;
    *codes = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        char code[13];
        if (strlen(e->d_name) != 15 || strcmp(e->d_name + 12, ".db"))
            continue;
        snprintf(code, sizeof code, "%.12s", e->d_name);
        if (!digits(code, 12))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            *codes = realloc(*codes, (size_t)cap * sizeof **codes);
            if (!*codes)
                die("out of memory");
        }
        memcpy((*codes)[n++], code, 13);
    }
    closedir(d);
    if (n)
        qsort(*codes, (size_t)n, sizeof **codes, (int (*)(const void *, const void *))strcmp);
    return n;
}

static int grid_one(const gs_record *rec, void *arg)
{
    gen *g = arg;
    if (g->ngrids >= 16)
        return 0;
    const char *code = gs_record_str(rec, GS_GRID_CODE),
               *worker = gs_record_str(rec, GS_GRID_WORKER);
    snprintf(g->grids[g->ngrids], sizeof g->grids[0], "%s", code ? code : "");
    snprintf(g->workers[g->ngrids], sizeof g->workers[0], "%s",
             worker && *worker ? worker : "网格员");
    g->ngrids += code && *code;
    return 0;
}

/* Adds `changes` new changes to node n's database (incidents and their
 * status steps through the entry rules, bench_city's generator); in a
 * worker process. */
static void add_changes(snode *n, uint64_t changes, uint64_t seed, volatile uint64_t *counter,
                        uint64_t *seq_out)
{
    gen g;
    memset(&g, 0, sizeof g);
    result res;
    memset(&res, 0, sizeof res);
    g.code = n->code;
    g.res = &res;
    g.progress = counter;
    g.r.s = seed ^ (strtoull(n->code, NULL, 10) * 0x9e3779b97f4a7c15ULL);
    if (node_store_open(&g.s, n->db, &g.eb))
        gen_fail(&g, "open");
    gs_find_filter f;
    memset(&f, 0, sizeof f);
    if (node_store_list(g.s, gs_rectype_get(GS_RT_GRID), &f, grid_one, &g, &g.eb))
        gen_fail(&g, "grids");
    if (g.ngrids == 0) {
        snprintf(g.eb.msg, sizeof g.eb.msg, "the node has no grids");
        gen_fail(&g, "grids");
    }
    if (node_store_begin(g.s, &g.eb))
        gen_fail(&g, "begin");
    g.seq = gen_head(&g);
    uint64_t target = g.seq + changes;
    while (g.seq < target)
        gen_incident(&g, target);
    gen_commit(&g);
    *seq_out = gen_head(&g);
    node_store_close(&g.s);
}

/* Gives every sync node `changes` new changes, in `workers` processes. */
static double generate(uint64_t changes, uint64_t seed, int workers)
{
    size_t bytes = sizeof(uint64_t) * (size_t)(workers + nsnodes);
    volatile uint64_t *shared =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    volatile uint64_t *seqs = shared + workers;
    pid_t pids[64];
    double t0 = gst_clock_ms();
    fflush(NULL);
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            for (int i = w; i < nsnodes; i += workers) {
                uint64_t seq = 0;
                add_changes(&snodes[i], changes, seed, &shared[w], &seq);
                seqs[i] = seq;
            }
            _exit(0);
        }
        pids[w] = pid;
    }
    bool failed = false;
    for (int left = workers; left > 0;) {
        for (int w = 0; w < workers; w++) {
            int status;
            if (pids[w] > 0 && waitpid(pids[w], &status, WNOHANG) == pids[w]) {
                failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
                pids[w] = 0;
                left--;
            }
        }
        uint64_t done = 0;
        for (int w = 0; w < workers; w++)
            done += shared[w];
        gsb_progress("new offline changes: %llu / %llu", (unsigned long long)done,
                     (unsigned long long)changes * (unsigned long long)nsnodes);
        if (left)
            gst_sleep_ms(200);
    }
    gsb_progress_end();
    if (failed)
        die("making the new changes failed (see above)");
    for (int i = 0; i < nsnodes; i++)
        snodes[i].seq = seqs[i];
    munmap((void *)shared, bytes);
    return (gst_clock_ms() - t0) / 1e3;
}

/* One `gridnode sync` of every sync node, parallel at once; returns the
 * wall time in s and the number that failed in *failed. */
static double sync_all(int parallel, const char *what, int *failed)
{
    pid_t *slot = calloc((size_t)parallel, sizeof *slot);
    int *slot_node = calloc((size_t)parallel, sizeof *slot_node);
    if (!slot || !slot_node)
        die("out of memory");
    int next = 0, done = 0, active = 0;
    *failed = 0;
    double t0 = gst_clock_ms();
    while (done < nsnodes) {
        while (active < parallel && next < nsnodes) {
            int s = 0;
            while (slot[s])
                s++;
            const char *argv[] = {"gridnode", "--db",      snodes[next].db, "sync",
                                  "--quiet",  "--timeout", "120",           NULL};
            unlink(snodes[next].log);
            pid_t pid = gst_spawn(argv, snodes[next].log);
            if (pid < 0)
                die("cannot start gridnode sync: %s", strerror(errno));
            slot[s] = pid;
            slot_node[s] = next++;
            active++;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            die("wait: %s", strerror(errno));
        }
        if (pid == hub_pid) {
            hub_pid = 0;
            show_tail(hub_log, 15);
            die("gridhub serve exited during %s (status %d)", what, status);
        }
        if (pid == web_pid) {
            web_pid = 0;
            show_tail(web_log, 15);
            die("gridhub web exited during %s (status %d)", what, status);
        }
        int s = 0;
        while (s < parallel && slot[s] != pid)
            s++;
        if (s == parallel)
            continue;
        snode *n = &snodes[slot_node[s]];
        slot[s] = 0;
        active--;
        done++;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code) {
            if ((*failed)++ < 5) {
                gsb_progress_end();
                fprintf(stderr, PROG ": %s: gridnode sync of %s failed (status %d)\n", what,
                        n->code, code);
                show_tail(n->log, 10);
            }
        } else {
            unlink(n->log);
        }
        gsb_progress("%s: %d / %d nodes synced, %.1f s", what, done, nsnodes,
                     (gst_clock_ms() - t0) / 1e3);
    }
    gsb_progress_end();
    free(slot);
    free(slot_node);
    return (gst_clock_ms() - t0) / 1e3;
}

/* Whether the hub holds every change of the sync nodes: count and greatest
 * seq per origin equal the node's seq. Returns the number that differ. */
static int verify_hub(const char *hubdb)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(hubdb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("%s: %s", hubdb, sqlite3_errmsg(db));
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), coalesce(max(seq), 0) FROM changes WHERE origin = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        die("%s: %s", hubdb, sqlite3_errmsg(db));
    int bad = 0;
    for (int i = 0; i < nsnodes; i++) {
        sqlite3_bind_text(st, 1, snodes[i].origin, -1, SQLITE_STATIC);
        uint64_t c = 0, mx = 0;
        if (sqlite3_step(st) == SQLITE_ROW) {
            c = (uint64_t)sqlite3_column_int64(st, 0);
            mx = (uint64_t)sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (c != snodes[i].seq || mx != snodes[i].seq) {
            if (bad++ < 10)
                fprintf(stderr,
                        PROG ": %s: the node has %llu changes; the hub holds %llu (max seq %llu)\n",
                        snodes[i].origin, (unsigned long long)snodes[i].seq, (unsigned long long)c,
                        (unsigned long long)mx);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return bad;
}

/* ---- options ---------------------------------------------------------------------------- */

typedef struct options {
    const char *dir, *hub, *work;
    bool keep, no_sync, hub_only;
    int runs, browsers, poll_ms, sync_nodes, parallel, rounds, workers;
    long sync_changes;
    const char *county, *township;
    uint64_t seed;
} options;

static const char usage_text[] =
    "usage: bench_hub_web (--dir DIR | --hub HUB.db) [--work DIR] [--keep] [--runs 20]\n"
    "                     [--county 411121] [--township 411104102]\n"
    "                     [--browsers 20] [--poll-ms 5000] [--sync-nodes 100]\n"
    "                     [--sync-changes 2200] [--parallel 8] [--rounds 2] [--no-sync]\n"
    "                     [--seed 20261202]\n"
    "\n"
    "Times the city's pages (gridhub web) on the full city's data and serve's sync rate\n"
    "beside them (issue 17). --dir is a finished `bench_city --keep` directory (hub.db,\n"
    "hub.db.key, hub.db.chain and the <village>.db nodes); --hub a hub database alone (the\n"
    "pages and the memory only). Neither is written: the hub (and the nodes the sync part\n"
    "uses) are copied into --work DIR (made if missing, must not hold a hub.db; default a\n"
    "new temporary directory, removed at the end unless --keep).\n"
    "\n"
    "  --runs N          requests of each page after its first (default 20)\n"
    "  --county CODE     the county whose /area/CODE the city user opens (default 411121)\n"
    "  --township CODE   the township of the township user (default 411104102)\n"
    "  --browsers N      browsers polling the city's dashboard in the B runs (default 20)\n"
    "  --poll-ms MS      each browser's refresh period, +-20% (default 5000)\n"
    "  --sync-nodes N    village nodes in the sync workload (default 100)\n"
    "  --sync-changes N  new changes per node before every run (default 2200)\n"
    "  --parallel N      gridnode syncs at once (default 8)\n"
    "  --rounds N        rounds of A (no browsers) then B (browsers) (default 2)\n"
    "  --no-sync         the pages and the memory only\n";

static void parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 20;
    o->browsers = 20;
    o->poll_ms = 5000;
    o->sync_nodes = 100;
    o->sync_changes = 2200;
    o->parallel = 8;
    o->rounds = 2;
    o->county = "411121";
    o->township = "411104102";
    o->seed = 20261202;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "--keep")) {
            o->keep = true;
            continue;
        }
        if (!strcmp(a, "--no-sync")) {
            o->no_sync = true;
            continue;
        }
        static const char *const with_value[] = {
            "--dir",      "--hub",     "--work",       "--runs",         "--county",   "--township",
            "--browsers", "--poll-ms", "--sync-nodes", "--sync-changes", "--parallel", "--rounds",
            "--seed",     NULL};
        bool known = false;
        for (int k = 0; with_value[k]; k++)
            known |= !strcmp(a, with_value[k]);
        if (!known)
            gsb_bad_usage(PROG, "unknown %s %s", strncmp(a, "-", 1) ? "argument" : "option", a);
        if (i + 1 >= argc)
            gsb_bad_usage(PROG, "%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--dir"))
            o->dir = v;
        else if (!strcmp(a, "--hub"))
            o->hub = v;
        else if (!strcmp(a, "--work"))
            o->work = v;
        else if (!strcmp(a, "--runs"))
            o->runs = (int)gsb_parse_long(PROG, a, v, 1, 100000);
        else if (!strcmp(a, "--county"))
            o->county = v;
        else if (!strcmp(a, "--township"))
            o->township = v;
        else if (!strcmp(a, "--browsers"))
            o->browsers = (int)gsb_parse_long(PROG, a, v, 0, MAX_BROWSERS);
        else if (!strcmp(a, "--poll-ms"))
            o->poll_ms = (int)gsb_parse_long(PROG, a, v, 100, 600000);
        else if (!strcmp(a, "--sync-nodes"))
            o->sync_nodes = (int)gsb_parse_long(PROG, a, v, 1, MAX_NODES);
        else if (!strcmp(a, "--sync-changes"))
            o->sync_changes = gsb_parse_long(PROG, a, v, 1, 1000000);
        else if (!strcmp(a, "--parallel"))
            o->parallel = (int)gsb_parse_long(PROG, a, v, 1, 64);
        else if (!strcmp(a, "--rounds"))
            o->rounds = (int)gsb_parse_long(PROG, a, v, 1, MAX_ROUNDS);
        else if (!strcmp(a, "--seed"))
            o->seed = (uint64_t)gsb_parse_long(PROG, a, v, 0, LONG_MAX);
    }
    if (!o->dir == !o->hub)
        gsb_bad_usage(PROG, "give --dir DIR (a `bench_city --keep` directory) or --hub HUB.db");
    if (!digits(o->county, 6))
        gsb_bad_usage(PROG, "--county %s: a county's 6-digit code, e.g. 411121", o->county);
    if (!digits(o->township, 9))
        gsb_bad_usage(PROG, "--township %s: a township's 9-digit code, e.g. 411104102",
                      o->township);
    if (o->hub && !o->no_sync) {
        o->no_sync = true;
        o->hub_only = true;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->workers = ncpu > 1 ? (ncpu > 8 ? 8 : (int)ncpu) : 1;
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    options o;
    parse_options(argc, argv, &o);
    keep_work = o.keep;
    signal(SIGPIPE, SIG_IGN);

    /* the source, checked before anything is made */
    char src_hub[PATH_MAX], src_key[PATH_MAX + 8], src_chain[PATH_MAX + 8];
    if (o.dir) {
        struct stat st;
        if (stat(o.dir, &st) != 0 || !S_ISDIR(st.st_mode))
            gsb_bad_usage(PROG, "--dir %s: %s", o.dir, errno ? strerror(errno) : "not a directory");
        if (snprintf(src_hub, sizeof src_hub, "%s/hub.db", o.dir) >= (int)sizeof src_hub)
            gsb_bad_usage(PROG, "--dir %s: path too long", o.dir);
    } else {
        if (snprintf(src_hub, sizeof src_hub, "%s", o.hub) >= (int)sizeof src_hub)
            gsb_bad_usage(PROG, "--hub %s: path too long", o.hub);
    }
    snprintf(src_key, sizeof src_key, "%s.key", src_hub);
    snprintf(src_chain, sizeof src_chain, "%s.chain", src_hub);
    if (file_size(src_hub) <= 0)
        gsb_bad_usage(PROG, "%s: %s", src_hub, errno ? strerror(errno) : "empty");
    if (file_size(src_key) <= 0)
        gsb_bad_usage(PROG, "%s: the hub's key (beside its database) is missing", src_key);
    char(*codes)[13] = NULL;
    int ncodes = 0;
    if (!o.no_sync) {
        ncodes = list_node_dbs(o.dir, &codes);
        if (ncodes == 0)
            gsb_bad_usage(PROG,
                          "--dir %s holds no <village>.db node databases (was bench_city "
                          "run with --keep?); --no-sync measures the pages only",
                          o.dir);
        if (o.sync_nodes > ncodes)
            gsb_bad_usage(PROG, "--sync-nodes %d: --dir %s holds %d node databases", o.sync_nodes,
                          o.dir, ncodes);
    }

    /* what the data holds */
    long long changes = -1, incidents = -1, open = -1, villages = -1, nodes = -1,
              town_villages = -1, county_villages = -1, matching = -1;
    char town_name[128] = "", county_name[128] = "";
    {
        sqlite3 *d = NULL;
        if (sqlite3_open_v2(src_hub, &d, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
            die("%s: %s", src_hub, sqlite3_errmsg(d));
        gsb_progress("reading the hub's figures");
        changes = one_int(d, "SELECT count(*) FROM changes", NULL);
        incidents = one_int(d, "SELECT count(*) FROM incidents WHERE _deleted = 0", NULL);
        open = one_int(d,
                       "SELECT count(*) FROM incidents WHERE _deleted = 0 AND status NOT IN "
                       "('closed', 'evaluated', 'rejected')",
                       NULL);
        matching = one_int(d,
                           "SELECT count(*) FROM incidents WHERE _deleted = 0 AND (instr(title, "
                           "'漏水') OR instr(coalesce(description, ''), '漏水'))",
                           NULL);
        villages = one_int(d, "SELECT count(*) FROM divisions WHERE level = 'village'", NULL);
        nodes = one_int(d, "SELECT count(*) FROM nodes", NULL);
        town_villages = one_int(d,
                                "SELECT count(*) FROM divisions WHERE level = 'village' AND "
                                "substr(code, 1, 9) = ?1",
                                o.township);
        county_villages = one_int(d,
                                  "SELECT count(*) FROM divisions WHERE level = 'village' AND "
                                  "substr(code, 1, 6) = ?1",
                                  o.county);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(d, "SELECT name, level FROM divisions WHERE code = ?1", -1, &st,
                               NULL) == SQLITE_OK) {
            const char *want[2] = {o.township, o.county};
            char *out[2] = {town_name, county_name};
            const char *level[2] = {"township", "county"};
            for (int k = 0; k < 2; k++) {
                sqlite3_bind_text(st, 1, want[k], -1, SQLITE_STATIC);
                if (sqlite3_step(st) == SQLITE_ROW) {
                    snprintf(out[k], 128, "%s", (const char *)sqlite3_column_text(st, 0));
                    if (strcmp((const char *)sqlite3_column_text(st, 1), level[k]))
                        out[k][0] = '\0';
                }
                sqlite3_reset(st);
            }
            sqlite3_finalize(st);
        }
        sqlite3_close(d);
        gsb_progress_end();
        if (!town_name[0])
            gsb_bad_usage(PROG, "--township %s: not a township of the hub's divisions", o.township);
        if (!county_name[0])
            gsb_bad_usage(PROG, "--county %s: not a county of the hub's divisions", o.county);
    }
    if (o.hub_only)
        fprintf(stderr, PROG ": --hub without node databases: the sync part is left out "
                             "(--dir DIR of a bench_city --keep run has them)\n");

    /* the work directory */
    if (o.work) {
        if (mkdir(o.work, 0700) != 0 && errno != EEXIST)
            gsb_bad_usage(PROG, "--work %s: %s", o.work, strerror(errno));
        work_dir = realpath(o.work, NULL);
        if (!work_dir)
            gsb_bad_usage(PROG, "--work %s: %s", o.work, strerror(errno));
        char probe[PATH_MAX + 16];
        snprintf(probe, sizeof probe, "%s/hub.db", work_dir);
        if (file_size(probe) >= 0)
            gsb_bad_usage(PROG, "--work %s already holds a hub.db; give a new or empty directory",
                          o.work);
    } else {
        const char *tmp = getenv("TMPDIR");
        char tmpl[PATH_MAX];
        snprintf(tmpl, sizeof tmpl, "%s/bench-hub-web-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpl))
            die("%s: %s", tmpl, strerror(errno));
        work_dir = strdup(tmpl);
        work_made = true;
    }
    char hubdb[PATH_MAX], key[PATH_MAX + 8], chain[PATH_MAX + 8], sock[PATH_MAX],
        endpoint[PATH_MAX + 8], nodes_dir[PATH_MAX];
    if (snprintf(hubdb, sizeof hubdb, "%s/hub.db", work_dir) >= (int)sizeof hubdb ||
        snprintf(sock, sizeof sock, "%s/hub.sock", work_dir) >= 100)
        die("--work %s: path too long for the hub's ipc socket; use a shorter one", work_dir);
    snprintf(key, sizeof key, "%s.key", hubdb);
    snprintf(chain, sizeof chain, "%s.chain", hubdb);
    snprintf(endpoint, sizeof endpoint, "ipc://%s", sock);
    snprintf(nodes_dir, sizeof nodes_dir, "%s/nodes", work_dir);
    snprintf(web_log, sizeof web_log, "%s/web.log", work_dir);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", work_dir);

    char cpu[256];
    gsb_cpu_model(cpu, sizeof cpu);
    struct utsname un;
    uname(&un);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load_start = gsb_loadavg();
    fprintf(stderr, PROG ": %ld CPUs, %s; load average %.1f; work directory %s\n", ncpu, cpu,
            load_start, work_dir);

    /* 1. the copy */
    double t = gst_clock_ms();
    db_copy(src_hub, hubdb, "copying the hub");
    copy_small(src_key, key);
    if (file_size(src_chain) > 0)
        copy_small(src_chain, chain);
    double copy_s = (gst_clock_ms() - t) / 1e3;

    long long hub_bytes = file_size(hubdb);
    char c1[32], c2[32], c3[32], c4[32];
    fprintf(stderr, PROG ": the hub: %s changes, %s incidents, %lld villages; copied in %.1f s\n",
            num(changes, c1), num(incidents, c2), villages, copy_s);

    /* 2. the people, the sync server and the web */
    run_ok(NULL, (const char *[]){"gridhub", "--db", hubdb, "user", "add", "--name", "市局测评",
                                  "--login", CITY_LOGIN, "--role", "city", NULL});
    run_ok(NULL, (const char *[]){"gridhub", "--db", hubdb, "user", "add", "--name", "乡镇测评",
                                  "--login", TOWN_LOGIN, "--role", "township", "--division",
                                  o.township, NULL});
    start_hub(hubdb, endpoint, sock);
    t = gst_clock_ms();
    start_web(hubdb);
    double web_start_ms = gst_clock_ms() - t;
    long rss_start = gsb_proc_status_kb(web_pid, "VmRSS:");
    char city_cookie[200], town_cookie[200];
    login("127.0.0.1", CITY_LOGIN, true, city_cookie);
    login("127.0.0.1", TOWN_LOGIN, true, town_cookie);
    /* a login hashes the password with argon2id (19 MiB, freed after) */
    long hwm_logins = gsb_proc_status_kb(web_pid, "VmHWM:"),
         rss_logins = gsb_proc_status_kb(web_pid, "VmRSS:");
    double load_pages0 = gsb_loadavg();
    double web_cpu0 = proc_cpu_s(web_pid);

    /* 3. the pages; each first request is the first of that page in this process */
    enum {
        P_CITY,
        P_COUNTY,
        P_TOWN,
        P_QUEUE,
        P_OVERDUE,
        P_CATEGORY,
        P_STATE_CAT,
        P_SEARCH,
        P_DEEP,
        P_TOWN_QUEUE,
        P__N
    };
    figure fg[P__N];
    char path[256];
    measure(&fg[P_CITY], "全市概览 city dashboard (city user)", "/", city_cookie, o.runs,
            GOAL_CITY_MS, "city");
    snprintf(path, sizeof path, "/area/%s", o.county);
    char what[128];
    snprintf(what, sizeof what, "county %s (city user)", county_name);
    measure(&fg[P_COUNTY], what, path, city_cookie, o.runs, 0, "none of its own (city: 200 ms)");
    snprintf(what, sizeof what, "township user's dashboard (%s)", town_name);
    measure(&fg[P_TOWN], what, "/", town_cookie, o.runs, GOAL_TOWN_MS, "township");
    measure(&fg[P_QUEUE], "事件工单 queue, city, unfiltered", "/incidents", city_cookie, o.runs,
            GOAL_QUEUE_MS, "queue");
    measure(&fg[P_OVERDUE], "queue: overdue only", "/incidents?overdue=1", city_cookie, o.runs,
            GOAL_QUEUE_MS, "queue");
    measure(&fg[P_CATEGORY], "queue: a category and those under it", "/incidents?category=dispute",
            city_cookie, o.runs, GOAL_QUEUE_MS, "queue");
    measure(&fg[P_STATE_CAT], "queue: state + category",
            "/incidents?status=in_progress&category=safety", city_cookie, o.runs, GOAL_QUEUE_MS,
            "queue");
    measure(&fg[P_SEARCH], "queue: text search (漏水)", "/incidents?q=%E6%BC%8F%E6%B0%B4",
            city_cookie, o.runs, GOAL_QUEUE_MS, "queue");
    long long last = fg[P_QUEUE].pages > 1 ? fg[P_QUEUE].pages : 1;
    snprintf(path, sizeof path, "/incidents?page=%lld", last);
    measure(&fg[P_DEEP], "queue: the last page", path, city_cookie, o.runs, GOAL_QUEUE_MS, "queue");
    snprintf(what, sizeof what, "queue, township user (%s)", town_name);
    measure(&fg[P_TOWN_QUEUE], what, "/incidents", town_cookie, o.runs, GOAL_QUEUE_MS, "queue");
    double web_cpu_pages = proc_cpu_s(web_pid) - web_cpu0;
    long hwm_pages = gsb_proc_status_kb(web_pid, "VmHWM:");
    long rss_pages = gsb_proc_status_kb(web_pid, "VmRSS:");
    double load_pages1 = gsb_loadavg();
    if (waitpid(web_pid, NULL, WNOHANG) == web_pid) {
        web_pid = 0;
        show_tail(web_log, 20);
        die("gridhub web exited during the page measurements");
    }

    /* 4. serve's sync rate without and with browsers polling the dashboard */
    typedef struct srun {
        bool pollers;
        double gen_s, wall_s, rate, load, hub_cpu_s, web_cpu_s;
        double queue_ms[2], queue_app_ms[2]; /* the city's queue after the run: first, next */
        long web_hwm_kb;
        int failed;
        poll_stats ps;
    } srun;
    srun runs[2 * MAX_ROUNDS];
    int nruns = 0, bad = 0;
    double warm_s = 0, logins_s = 0;
    long hwm_end = -1, rss_end = -1;
    if (!o.no_sync) {
        /* the nodes: copies, pointed at this hub */
        if (mkdir(nodes_dir, 0700) != 0 && errno != EEXIST)
            die("%s: %s", nodes_dir, strerror(errno));
        nsnodes = o.sync_nodes;
        snodes = calloc((size_t)nsnodes, sizeof *snodes);
        if (!snodes)
            die("out of memory");
        for (int i = 0; i < nsnodes; i++) {
            snode *n = &snodes[i];
            int k = (int)((long long)i * ncodes / nsnodes); /* evenly in code order */
            snprintf(n->code, sizeof n->code, "%s", codes[k]);
            char from[PATH_MAX + 32];
            snprintf(from, sizeof from, "%s/%s.db", o.dir, n->code);
            snprintf(n->db, sizeof n->db, "%s/%s.db", nodes_dir, n->code);
            snprintf(n->log, sizeof n->log, "%s/sync-%s.log", nodes_dir, n->code);
            gsb_progress("copying the sync nodes: %d / %d", i + 1, nsnodes);
            db_copy(from, n->db, NULL);
            node_store *s = NULL;
            gs_errbuf eb = {{0}};
            if (node_store_open(&s, n->db, &eb) || node_store_begin(s, &eb) ||
                node_store_meta_set_text(s, NODE_META_HUB_ENDPOINT, endpoint, &eb) ||
                node_store_commit(s, &eb))
                die("%s: %s", n->db, eb.msg);
            snprintf(n->origin, sizeof n->origin, "%s", node_store_identity(s)->node_id);
            uint8_t h[GS_HASH_LEN];
            node_store_head(s, &n->seq, h, NULL);
            node_store_close(&s);
        }
        gsb_progress_end();
        gs_errbuf eb = {{0}};
        if (!gen_load_categories(&eb))
            die("%s", eb.msg);
        int failed = 0;
        warm_s = sync_all(o.parallel, "warm-up sync (nothing new)", &failed);
        if (failed)
            die("%d of the warm-up syncs failed; see the lines above", failed);

        /* the browsers: a session each, from an address each */
        npollers = o.browsers;
        pollers = calloc((size_t)(npollers ? npollers : 1), sizeof *pollers);
        if (!pollers)
            die("out of memory");
        t = gst_clock_ms();
        for (int i = 0; i < npollers; i++) {
            poller *p = &pollers[i];
            p->idx = i;
            snprintf(p->src, sizeof p->src, "127.0.0.%d", 11 + i);
            p->seed = o.seed * 1000003u + (uint64_t)i;
            p->period_ms = o.poll_ms;
            gsb_progress("browsers logging in: %d / %d", i + 1, npollers);
            login(p->src, CITY_LOGIN, false, p->cookie);
        }
        gsb_progress_end();
        logins_s = (gst_clock_ms() - t) / 1e3;

        for (int r = 0; r < o.rounds; r++)
            for (int b = 0; b < 2; b++) {
                srun *x = &runs[nruns];
                memset(x, 0, sizeof *x);
                x->pollers = b == 1 && npollers > 0;
                x->gen_s = generate((uint64_t)o.sync_changes,
                                    o.seed + 7919u * (uint64_t)(nruns + 1), o.workers);
                if (x->pollers) {
                    pollers_start();
                    gst_sleep_ms(WARMUP_MS);
                }
                char label[64];
                snprintf(label, sizeof label, "run %d (%s)", nruns + 1,
                         x->pollers ? "B, browsers polling" : "A, no browsers");
                double hub0 = proc_cpu_s(hub_pid), web0 = proc_cpu_s(web_pid);
                window0 = gst_clock_ms();
                x->wall_s = sync_all(o.parallel, label, &x->failed);
                window1 = gst_clock_ms();
                x->hub_cpu_s = proc_cpu_s(hub_pid) - hub0;
                x->web_cpu_s = proc_cpu_s(web_pid) - web0;
                x->load = gsb_loadavg();
                if (x->pollers)
                    pollers_stop_all(&x->ps);
                /* the city opens its queue after the run: the first page
                 * brings the queue's copy up to the run's changes (what the
                 * web's own thread has not copied yet), the next does not */
                for (int k = 0; k < 2; k++) {
                    gst_http_answer qa = request("127.0.0.1", "/incidents", city_cookie, NULL,
                                                 &x->queue_ms[k], &x->queue_app_ms[k]);
                    if (qa.status != 200)
                        report_wrong("/incidents", &qa);
                    gst_http_answer_free(&qa);
                }
                x->web_hwm_kb = gsb_proc_status_kb(web_pid, "VmHWM:");
                x->rate = x->wall_s > 0 ? (double)o.sync_changes * nsnodes / x->wall_s : 0;
                fprintf(stderr, PROG ": %s: %.1f s, %.0f changes/s%s\n", label, x->wall_s, x->rate,
                        x->failed ? " (SYNCS FAILED)" : "");
                if (x->pollers)
                    fprintf(stderr,
                            PROG ":   the dashboard meanwhile: %d requests (%d during "
                                 "the sync), p50 %.0f ms, p95 %.0f ms, %d not 200 (%d closed "
                                 "without an answer)\n",
                            x->ps.requests, x->ps.in_sync, x->ps.p50, x->ps.p95, x->ps.wrong,
                            x->ps.closed);
                nruns++;
            }
        bad = verify_hub(hubdb);
        hwm_end = gsb_proc_status_kb(web_pid, "VmHWM:");
        rss_end = gsb_proc_status_kb(web_pid, "VmRSS:");
    }
    bool web_alive = web_pid > 0 && waitpid(web_pid, NULL, WNOHANG) == 0;
    double load_end = gsb_loadavg();
    stop_pid(&web_pid, 10000);
    stop_pid(&hub_pid, 30000);

    /* ---- the report ---- */
    printf("## City pages: gridhub web with %s changes in the hub\n\n", num(changes, c1));
    printf("Machine: %ld CPUs (nproc), %s, %s %s %s; file system of %s: %s; SQLite %s; ", ncpu, cpu,
           un.sysname, un.release, un.machine, work_dir, gsb_fs_name(work_dir),
           sqlite3_libversion());
#if defined(__SANITIZE_ADDRESS__)
    printf("this benchmark built WITH SANITIZERS.\n\n");
#elif defined(__OPTIMIZE__)
    printf("optimized build.\n\n");
#else
    printf("NOT optimized build (-O0): figures are not representative.\n\n");
#endif
    printf("Load average (1 min): %.1f at the start, %.1f and %.1f before and after the pages, "
           "%.1f at the end (on %ld CPUs; above that, other work shared the machine).\n\n",
           load_start, load_pages0, load_pages1, load_end, ncpu);
    printf("Data: %s (copied in %.1f s to %s, %.0f MiB): %s changes in the hub's log, %s "
           "incidents (%s open; %s mention 漏水), %lld villages, %lld nodes registered; the county "
           "%s %s has %lld villages, the township %s %s %lld.\n",
           src_hub, copy_s, hubdb, (double)hub_bytes / 1048576.0, num(changes, c1),
           num(incidents, c2), num(open, c3), num(matching, c4), villages, nodes, o.county,
           county_name, county_villages, o.township, town_name, town_villages);
    printf("Web: `gridhub web` started in %.0f ms beside a running `gridhub serve`; the city "
           "user and the township user logged in through the first login's form. Each page: its "
           "first request in this process, then %d more; ms from the request's first byte to "
           "the end of the answer over loopback (Server-Timing app;dur when the answer has it: "
           "first / p50 / p95, '-' without).\n\n",
           web_start_ms, o.runs);
    printf("| page | request | listed | first | p50 | p95 | max | Server-Timing app | KiB | "
           "VmHWM after, MiB | goal (p50) |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (int i = 0; i < P__N; i++)
        print_figure(&fg[i]);
    printf("| memory of gridhub web | VmHWM (peak) / VmRSS after the pages / VmRSS at start | | | "
           "%.1f MiB | %.1f MiB | %.1f MiB | | | | < 64 MiB: %s |\n",
           hwm_pages / 1024.0, rss_pages / 1024.0, rss_start / 1024.0,
           hwm_pages < 0             ? "unknown"
           : hwm_pages < GOAL_MEM_KB ? "met"
                                     : "**not met**");
    printf("\nBefore the pages, after the two logins (argon2id, 19 MiB, freed): VmHWM %.1f MiB, "
           "VmRSS %.1f MiB. CPU time of the web process over the pages (user + system, all "
           "threads): %.1f s.\n",
           hwm_logins / 1024.0, rss_logins / 1024.0, web_cpu_pages);
    if (fg[P_OVERDUE].listed == 0)
        printf("Note: no incident in this data has a deadline (处置期限), so the overdue filter "
               "lists none.\n");

    if (!o.no_sync) {
        printf("\n### serve's sync rate beside the dashboard's browsers\n\n");
        printf("%d village nodes (copies from %s, every %dth in code order), each given %s new "
               "offline changes before every run (bench_city's incidents and status steps, "
               "through the node's entry rules, %d worker processes, not timed); a run is "
               "`gridnode sync --quiet --timeout 120` of each, %d at once, against the copy's "
               "`gridhub serve` (ipc). A warm-up sync of every node (nothing new) took %.1f s. B "
               "runs: %d browsers, each logged in as the city user with a session of its own "
               "from an address of its own (logins: %.1f s in all), load `/` and wait %d ms "
               "± 20%% after each answer, started at random times %d s before the sync and "
               "stopped after it.\n\n",
               nsnodes, o.dir, ncodes / nsnodes, num(o.sync_changes, c1), o.workers, o.parallel,
               warm_s, npollers, logins_s, o.poll_ms, WARMUP_MS / 1000);
        printf("| run | browsers | changes (made in) | sync wall | changes/s | hub CPU | web CPU | "
               "dashboards loaded in the run (p50 / p95 / max ms) | the queue after it: first / "
               "next ms | web VmHWM | load |\n");
        printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
        double sum[2] = {0, 0};
        int cnt[2] = {0, 0};
        for (int i = 0; i < nruns; i++) {
            srun *x = &runs[i];
            char dash[320] = "-";
            if (x->pollers)
                snprintf(dash, sizeof dash, "%d, %d during the sync (%.0f / %.0f / %.0f)%s",
                         x->ps.requests, x->ps.in_sync, x->ps.p50, x->ps.p95, x->ps.max, "");
            if (x->pollers && x->ps.closed)
                snprintf(dash + strlen(dash), sizeof dash - strlen(dash),
                         "; **%d never answered** (closed after %.1f-%.1f s)", x->ps.closed,
                         x->ps.closed_min / 1e3, x->ps.closed_max / 1e3);
            if (x->pollers && x->ps.wrong > x->ps.closed)
                snprintf(dash + strlen(dash), sizeof dash - strlen(dash),
                         "; **%d not 200** (the first: %d)", x->ps.wrong - x->ps.closed,
                         x->ps.first_status);
            printf("| %d %s | %d | %s (%.1f s) | %.1f s | **%.0f**%s | %.1f s | %.1f s | %s | "
                   "%.0f / %.0f | %.1f MiB | %.1f |\n",
                   i + 1, x->pollers ? "B" : "A", x->pollers ? npollers : 0,
                   num((long long)o.sync_changes * nsnodes, c1), x->gen_s, x->wall_s, x->rate,
                   x->failed ? " (syncs failed)" : "", x->hub_cpu_s, x->web_cpu_s, dash,
                   x->queue_ms[0], x->queue_ms[1], x->web_hwm_kb / 1024.0, x->load);
            sum[x->pollers] += x->rate;
            cnt[x->pollers]++;
        }
        if (cnt[0] && cnt[1]) {
            double a = sum[0] / cnt[0], b = sum[1] / cnt[1], ratio = b / a;
            printf("\nMean rate: %.0f changes/s without the browsers, %.0f with them: ratio "
                   "B/A **%.3f**",
                   a, b, ratio);
            printf(" (per round:");
            for (int i = 0; i + 1 < nruns; i += 2)
                printf(" %.3f", runs[i + 1].rate / runs[i].rate);
            printf("); goal: within 5%% (ratio >= %.2f): %s.\n", GOAL_RATIO,
                   ratio >= GOAL_RATIO ? "met" : "**not met**");
        }
        printf("Memory of gridhub web after the polling too: VmHWM %.1f MiB, VmRSS %.1f MiB "
               "(< 64 MiB: %s).\n",
               hwm_end / 1024.0, rss_end / 1024.0,
               hwm_end < 0             ? "unknown"
               : hwm_end < GOAL_MEM_KB ? "met"
                                       : "**not met**");
        printf("Check: %s\n", bad ? "**the hub lacks changes of some sync nodes** (see stderr)"
                                  : "the hub holds every change of the sync nodes (count and "
                                    "greatest seq per origin = the node's seq).");
    }
    if (!web_alive)
        printf("\n**gridhub web was not running at the end** (see %s).\n", web_log);
    int wrong = 0;
    for (int i = 0; i < P__N; i++)
        wrong += fg[i].wrong + (fg[i].first_wrong != 0);
    for (int i = 0; i < nruns; i++)
        wrong += runs[i].ps.wrong;
    if (wrong)
        printf("\n**%d answers were not 200** (details on stderr; web log %s).\n", wrong, web_log);
    int unsent = gst_count_in_file(web_log, "Failed to send");
    if (unsent)
        printf(
            "The web log has %d lines \"Failed to send the response ...: The socket is no longer "
            "available for sending\": pages made after their connection was closed.\n",
            unsent);
    if (work_made && !keep_work) {
        gst_rmrf(work_dir);
    } else {
        printf("\nKept: %s (hub.db and its key, nodes/, web.log, hub.log).\n", work_dir);
    }
    free(work_dir);
    free(codes);
    return bad ? 1 : 0;
}
