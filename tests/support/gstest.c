/*
 * gstest.c: test support (see gstest.h): temporary directories, running
 * programs with their output captured, background processes, whole files.
 *
 * Invariants: every file descriptor opened here is close-on-exec, so a
 * program started by one call never inherits the pipes of another (a
 * leaked write end would keep a later gst_run waiting for EOF forever);
 * a child starts with default signal handling (SIGPIPE included), whatever
 * the test process and Check have installed, even for a signal that
 * reaches it before exec; every pipe end is closed on every path.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, F_DUPFD_CLOEXEC */
#endif
#include "gstest.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

char *gst_bin(const char *name)
{
    size_t n = strlen(GS_TEST_BIN_DIR) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (!p)
        ck_abort_msg("gst_bin: out of memory");
    snprintf(p, n, "%s/%s", GS_TEST_BIN_DIR, name);
    return p;
}

char *gst_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    if (!t || !*t)
        t = "/tmp";
    size_t tl = strlen(t);
    while (tl > 1 && t[tl - 1] == '/')
        tl--;
    size_t n = tl + sizeof "/gridsync-test-XXXXXX";
    char *p = malloc(n);
    if (!p)
        ck_abort_msg("gst_tmpdir: out of memory");
    snprintf(p, n, "%.*s/gridsync-test-XXXXXX", (int)tl, t);
    if (!mkdtemp(p))
        ck_abort_msg("gst_tmpdir: mkdtemp %s: %s", p, strerror(errno));
    return p;
}

/* nftw callback of gst_rmrf: entries come children first (FTW_DEPTH). A
 * directory that could not be read is opened up and emptied on its own. */
static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DNR && chmod(path, 0700) == 0)
        gst_rmrf(path);
    else
        remove(path);
    return 0; /* keep going: this is cleanup */
}

void gst_rmrf(const char *path)
{
    if (!path || !*path || strcmp(path, "/") == 0)
        return;
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path to exec for argv0 when it names one of this build's binaries,
 * malloc'd; NULL for a name to find with execvp. */
static char *own_binary(const char *argv0)
{
    if (strcmp(argv0, "gridnode") == 0 || strcmp(argv0, "gridhub") == 0)
        return gst_bin(argv0);
    return NULL;
}

/* fork() for a child that will exec. The test process has signal handlers
 * (Check's runner installs some for SIGTERM and SIGINT that kill the whole
 * test's process group), and a child keeps them until exec: a signal sent
 * to it in between would run the test's handler in the child. So all
 * signals are blocked across fork, the child puts every caught signal and
 * SIGPIPE back to default, and only then unblocks them (a signal that came
 * in the meantime then has its default effect).
 * The child also dies with the process that forked it (PR_SET_PDEATHSIG): a
 * forked Check test that fails leaves with _exit, without its teardown, and
 * must not leave a hub or a `sync --watch` of it running. */
static pid_t fork_clean(void)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    int saved = errno;
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127); /* cannot be tied to the test, or it is gone already */
        struct sigaction dfl = {.sa_handler = SIG_DFL}, cur;
        sigemptyset(&dfl.sa_mask);
        for (int sig = 1; sig < NSIG; sig++)
            if (sigaction(sig, NULL, &cur) == 0 &&
                (sig == SIGPIPE || (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)))
                sigaction(sig, &dfl, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return pid;
}

/* In a child: runs argv (at path when not NULL), or says why not on stderr
 * and exits 127 like a shell. Async-signal-safe apart from strerror. */
static void exec_child(const char *path, const char *const argv[])
{
    if (path)
        execv(path, (char *const *)argv);
    else
        execvp(argv[0], (char *const *)argv);
    dprintf(2, "gstest: cannot execute %s: %s\n", path ? path : argv[0], strerror(errno));
    _exit(127);
}

/* Makes fd the child's descriptor target (0, 1 or 2), open across exec. */
static void move_fd(int fd, int target)
{
    if (fd == target)
        fcntl(fd, F_SETFD, 0);
    else
        dup2(fd, target);
}

/* Moves fd above 2 so that dup2 onto 0..2 in a child cannot clobber it (the
 * test process may run with stdin closed). Returns the new descriptor. */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return nfd;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Opens a close-on-exec pipe with both ends above 2. */
static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        close_fd(&p[0]);
        close_fd(&p[1]);
        return -1;
    }
    return 0;
}

/* Reads what is there on *fd into b; closes *fd at EOF or on error. */
static void drain(int *fd, gs_buf *b)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n > 0)
        gs_buf_append(b, chunk, (size_t)n);
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        close_fd(fd);
}

/* Feeds stdin text to the child and collects its output until both output
 * pipes are at EOF. in < 0 means no input pipe. */
static void pump(int in, const char *text, size_t len, int out, int err, gs_buf *ob, gs_buf *eb)
{
    size_t sent = 0;
    if (in >= 0 && len == 0)
        close_fd(&in);
    while (in >= 0 || out >= 0 || err >= 0) {
        struct pollfd fds[3];
        nfds_t n = 0;
        int idx_in = -1, idx_out = -1, idx_err = -1;
        if (in >= 0) {
            idx_in = (int)n;
            fds[n++] = (struct pollfd){.fd = in, .events = POLLOUT};
        }
        if (out >= 0) {
            idx_out = (int)n;
            fds[n++] = (struct pollfd){.fd = out, .events = POLLIN};
        }
        if (err >= 0) {
            idx_err = (int)n;
            fds[n++] = (struct pollfd){.fd = err, .events = POLLIN};
        }
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (idx_in >= 0 && fds[idx_in].revents) {
            ssize_t w = write(in, text + sent, len - sent);
            if (w > 0)
                sent += (size_t)w;
            /* EPIPE: the child stopped reading; the rest is dropped */
            if ((w < 0 && errno != EINTR && errno != EAGAIN) || sent == len)
                close_fd(&in);
        }
        if (idx_out >= 0 && fds[idx_out].revents)
            drain(&out, ob);
        if (idx_err >= 0 && fds[idx_err].revents)
            drain(&err, eb);
    }
    close_fd(&in);
    close_fd(&out);
    close_fd(&err);
}

/* Exit code, or 128 + signal number, of a child that has ended. */
static int wait_status(pid_t pid)
{
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws))
        return 128 + WTERMSIG(ws);
    return -1;
}

int gst_run(gst_result *r, const char *stdin_text, const char *const argv[])
{
    *r = (gst_result){.status = -1};
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    bool ok = make_pipe(out) == 0 && make_pipe(err) == 0;
    if (ok && stdin_text)
        ok = make_pipe(in) == 0;
    else if (ok)
        ok = (in[0] = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC))) >= 0;
    char *path = own_binary(argv[0]);
    pid_t pid = ok ? fork_clean() : -1;
    if (pid == 0) {
        move_fd(in[0], 0);
        move_fd(out[1], 1);
        move_fd(err[1], 2);
        exec_child(path, argv);
    }
    int saved = errno;
    free(path);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (pid < 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        r->out = strdup("");
        r->err = strdup("");
        errno = saved;
        return -1;
    }

    /* A child that exits without reading its input must not kill the test
     * with SIGPIPE: ignore it while writing, then put it back. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    if (in[1] >= 0)
        fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    gs_buf ob = GS_BUF_INIT, eb = GS_BUF_INIT;
    pump(in[1], stdin_text, stdin_text ? strlen(stdin_text) : 0, out[0], err[0], &ob, &eb);
    sigaction(SIGPIPE, &old, NULL);

    r->status = wait_status(pid);
    r->out_len = ob.len;
    r->err_len = eb.len;
    r->out = gs_buf_steal(&ob);
    r->err = gs_buf_steal(&eb);
    if (!r->out || !r->err)
        ck_abort_msg("gst_run: out of memory collecting the output of %s", argv[0]);
    return 0;
}

int gst_runv(gst_result *r, const char *stdin_text, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, stdin_text);
    while (va_arg(ap, const char *) != NULL)
        n++;
    va_end(ap);
    const char **argv = calloc(n + 1, sizeof *argv);
    if (!argv)
        ck_abort_msg("gst_runv: out of memory");
    va_start(ap, stdin_text);
    for (size_t i = 0; i < n; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    int rc = gst_run(r, stdin_text, argv);
    free(argv);
    return rc;
}

void gst_result_free(gst_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    *r = (gst_result){0};
}

char *gst_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    gs_buf b = GS_BUF_INIT;
    gs_buf_append(&b, "", 0); /* an empty file still gives "" */
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            gs_buf_free(&b);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        gs_buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    size_t n = b.len;
    char *p = gs_buf_steal(&b);
    if (!p) {
        gs_buf_free(&b);
        errno = ENOMEM;
        return NULL;
    }
    if (len)
        *len = n;
    return p;
}

int gst_count_in_file(const char *path, const char *needle)
{
    char *text = gst_read_file(path, NULL);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(text);
    return n;
}

int gst_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

pid_t gst_spawn(const char *const argv[], const char *log_path)
{
    int logfd = above_stdio(open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (logfd < 0)
        return -1;
    int nullfd = above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (nullfd < 0) {
        close(logfd);
        return -1;
    }
    /* Its write end closes when the child has executed its program (or
     * has failed to and left): until then the child is a copy of the test,
     * and a signal a test sends it right away would end that copy instead
     * (under valgrind, with a leak check and valgrind's exit code). */
    int execd[2];
    if (make_pipe(execd) != 0) {
        close(logfd);
        close(nullfd);
        return -1;
    }
    char *path = own_binary(argv[0]);
    pid_t pid = fork_clean();
    if (pid == 0) {
        setpgid(0, 0);
        move_fd(nullfd, 0);
        move_fd(logfd, 1);
        dup2(1, 2);
        exec_child(path, argv);
    }
    int saved = errno;
    close_fd(&execd[1]);
    if (pid > 0) {
        setpgid(pid, pid); /* also here, so it holds before either side runs on */
        char c;
        while (read(execd[0], &c, 1) < 0 && errno == EINTR)
            ;
    }
    close_fd(&execd[0]);
    free(path);
    close(logfd);
    close(nullfd);
    errno = saved;
    return pid;
}

int gst_cmdv(gst_result *r, bool sanitized, const char *prog, const char *db, const char *first,
             va_list ap)
{
    const char *argv[GST_MAX_ARGS + 2];
    int n = 0;
    if (prog)
        argv[n++] = prog;
    if (db) {
        argv[n++] = "--db";
        argv[n++] = db;
    }
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(n, GST_MAX_ARGS);
        argv[n++] = a;
    }
    argv[n] = NULL;
    ck_assert_msg(n > 0, "gst_cmdv: no program");
    gst_result_free(r);
    ck_assert_int_eq(gst_run(r, NULL, argv), 0);
    ck_assert_msg(!sanitized || (!strstr(r->err, "Sanitizer") && !strstr(r->err, "runtime error:")),
                  "%s %s: sanitizer report:\n%s", argv[0], first ? first : "", r->err);
    return r->status;
}

int gst_cmd(gst_result *r, bool sanitized, const char *prog, const char *db, const char *first,
            ...)
{
    va_list ap;
    va_start(ap, first);
    int rc = gst_cmdv(r, sanitized, prog, db, first, ap);
    va_end(ap);
    return rc;
}

int gst_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

char *gst_tmp_top(void)
{
    char *top = gst_tmpdir();
    if (setenv("TMPDIR", top, 1) != 0)
        ck_abort_msg("gst_tmp_top: setenv: %s", strerror(errno));
    return top;
}

int gst_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

TCase *gst_tcase(Suite *s, const char *name, void (*setup)(void), void (*teardown)(void),
                 double timeout_s)
{
    TCase *tc = tcase_create(name);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, timeout_s);
    suite_add_tcase(s, tc);
    return tc;
}

int64_t gst_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double gst_clock_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

void gst_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int gst_villages(char out[][13], int n)
{
    char *csv = gst_read_file(GS_TEST_SRC_DIR "/data/luohe_divisions.csv", NULL);
    if (!csv)
        return -1;
    int k = 0;
    char *save = NULL;
    for (char *line = strtok_r(csv, "\n", &save); line && k < n;
         line = strtok_r(NULL, "\n", &save)) {
        char code[16];
        if (sscanf(line, "%15[0-9],", code) == 1 && strlen(code) == 9 &&
            strstr(line, ",township,"))
            snprintf(out[k++], 13, "%.9s201", code);
    }
    free(csv);
    return k;
}

void gst_db_backup(const char *db, const char *path)
{
    sqlite3 *src = NULL, *dst = NULL;
    ck_assert_msg(sqlite3_open_v2(db, &src, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "%s: %s",
                  db, sqlite3_errmsg(src));
    sqlite3_busy_timeout(src, 10000);
    unlink(path);
    ck_assert_msg(sqlite3_open(path, &dst) == SQLITE_OK, "%s: %s", path, sqlite3_errmsg(dst));
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
    ck_assert_msg(bk != NULL, "backup of %s: %s", db, sqlite3_errmsg(dst));
    int rc;
    while ((rc = sqlite3_backup_step(bk, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
        gst_sleep_ms(10);
    ck_assert_msg(rc == SQLITE_DONE, "backup of %s: %s", db, sqlite3_errstr(rc));
    ck_assert_int_eq(sqlite3_backup_finish(bk), SQLITE_OK);
    sqlite3_close(dst);
    sqlite3_close(src);
}

void gst_db_restore(const char *path, const char *db)
{
    char side[PATH_MAX + 8];
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    ck_assert_msg(rename(path, db) == 0, "restoring %s from %s: %s", db, path, strerror(errno));
}

void gst_hub_user(const char *db, const char *login, const char *name, const char *role,
                  const char *division, const char *password)
{
    gst_result r = {0};
    const char *add[] = {"gridhub", "--db", db,       "user", "add",        "--login", login,
                         "--name",  name,   "--role", role,   "--division", division,  NULL};
    if (!division)
        add[11] = NULL; /* the city: no --division */
    ck_assert_int_eq(gst_run(&r, NULL, add), 0);
    ck_assert_msg(r.status == 0, "user add %s: %s", login, r.err);
    gst_result_free(&r);
    char *line = malloc(strlen(password) + 2);
    ck_assert_ptr_nonnull(line);
    sprintf(line, "%s\n", password);
    const char *passwd[] = {"gridhub", "--db", db, "user", "passwd", login, NULL};
    ck_assert_int_eq(gst_run(&r, line, passwd), 0);
    free(line);
    ck_assert_msg(r.status == 0, "user passwd %s: %s", login, r.err);
    gst_result_free(&r);
}

char *gst_hub_state(const char *db)
{
    static const char *const sql[] = {
        "SELECT group_concat(login || '/' || role || '/' || division || '/' || disabled || '/' || "
        "ifnull(pw_hash, ''), ';') FROM (SELECT * FROM users ORDER BY login)",
        "SELECT count(*) || ' audit lines to ' || ifnull(max(id), 0) FROM audit",
        "SELECT count(*) || ' changes to ' || ifnull(max(hub_seq), 0) FROM changes",
        "SELECT count(*) || ' quarantined' FROM quarantine",
        "SELECT group_concat(id || '/' || enabled || '/' || public_key, ';') "
        "FROM (SELECT * FROM nodes ORDER BY id)",
        "SELECT count(*) || ' incidents' FROM incidents",
    };
    sqlite3 *h = NULL;
    ck_assert_msg(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "%s: %s", db,
                  sqlite3_errmsg(h));
    sqlite3_busy_timeout(h, 5000);
    gs_buf b = GS_BUF_INIT;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = NULL;
        ck_assert_msg(sqlite3_prepare_v2(h, sql[i], -1, &st, NULL) == SQLITE_OK, "%s: %s", sql[i],
                      sqlite3_errmsg(h));
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        const unsigned char *v = sqlite3_column_text(st, 0);
        gs_buf_printf(&b, "%s\n", v ? (const char *)v : "");
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    ck_assert_int_eq(b.err, 0);
    return gs_buf_steal(&b);
}
