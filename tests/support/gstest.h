/*
 * gstest.h: support for gridsync's Check tests, above all the end-to-end
 * ones that run the real gridnode and gridhub binaries.
 *
 * It gives a test a fresh temporary directory and removes it, runs a program
 * to completion with its stdout, stderr and exit status captured (any
 * amount of output, no shell and no word splitting: arguments are passed as
 * they are, so Chinese text with spaces stays one argument), starts a
 * program in the background with its output going to a log file, and reads
 * and writes whole files. For Check tests it also runs gridnode and gridhub
 * with a database (gst_cmd), keeps track of background processes so they can
 * all be killed (gst_procs, in gstest_procs.c) and sets up and runs suites;
 * gstest_cli.h adds the macros the gridnode command-line tests are written
 * in. The clock, the sleep and the village codes serve the benchmarks too.
 *
 * Conventions: every returned char * is malloc'd and the caller frees it;
 * "gridnode" and "gridhub" as a program name (no slash) mean the binaries
 * of this build, in GS_TEST_BIN_DIR; GS_TEST_BIN_DIR (the build directory)
 * and GS_TEST_SRC_DIR (the source tree) are compile definitions given by
 * tests/CMakeLists.txt. Nothing here keeps global state; it is meant for a
 * single-threaded test process (gst_run briefly ignores SIGPIPE).
 */
#ifndef GRIDSYNC_GSTEST_H
#define GRIDSYNC_GSTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef GS_TEST_BIN_DIR
#error "GS_TEST_BIN_DIR must be defined (tests/CMakeLists.txt does it)"
#endif
#ifndef GS_TEST_SRC_DIR
#error "GS_TEST_SRC_DIR must be defined (tests/CMakeLists.txt does it)"
#endif

/* A fresh temporary directory, made by mkdtemp under $TMPDIR (or /tmp when
 * unset or empty) with the name prefix "gridsync-test-". Returns its
 * malloc'd path; on failure the test is aborted with ck_abort_msg. */
char *gst_tmpdir(void);

/* Deletes path and, if it is a directory, everything under it, without
 * following symbolic links. NULL and a missing path are fine; other errors
 * are ignored (it is for cleanup). */
void gst_rmrf(const char *path);

/* What gst_run saw. out and err are malloc'd and NUL-terminated (never NULL
 * after a successful gst_run; output holding NUL bytes is kept whole, the
 * lengths are out_len and err_len). */
typedef struct gst_result {
    int status; /* exit code, or 128 + signal number when killed by a signal */
    char *out;
    char *err;
    size_t out_len, err_len;
} gst_result;

/* Runs argv (NULL-terminated) to completion and waits for it. stdin_text,
 * when not NULL, is written to its standard input, which is then closed;
 * when NULL the input is /dev/null. Stdout and stderr are read at the same
 * time as the input is written (pipes and poll), so no amount of either
 * deadlocks. argv[0] "gridnode" or "gridhub" runs GS_TEST_BIN_DIR/argv[0];
 * any other name is found with execvp. A program that cannot be started
 * gives status 127 and a message on err, as a shell would.
 * Returns 0, or -1 (errno set) if the pipes or the fork failed, in which
 * case *r holds status -1 and empty texts. *r is overwritten, not freed:
 * call gst_result_free between runs. Waits until both output pipes are
 * closed, so a program that leaves a daemon holding them never returns. */
int gst_run(gst_result *r, const char *stdin_text, const char *const argv[]);

/* gst_run with the arguments as a NULL-terminated list of const char *:
 * gst_runv(&r, NULL, "gridnode", "import", "事件 一.csv", (char *)NULL). */
int gst_runv(gst_result *r, const char *stdin_text, ...);

/* Frees out and err and zeroes *r; NULL is fine. */
void gst_result_free(gst_result *r);

/* The whole file, malloc'd with a NUL after the last byte; *len (when len
 * is not NULL) is the size without it. NULL (errno set) on error. */
char *gst_read_file(const char *path, size_t *len);

/* Creates or truncates path (mode 0644) and writes len bytes. Returns 0, or
 * -1 with errno set. */
int gst_write_file(const char *path, const void *data, size_t len);

/* How often needle occurs in the file at path, not overlapping; 0 when the
 * file cannot be read (a log not written yet). */
int gst_count_in_file(const char *path, const char *needle);

/* Starts argv (resolved as by gst_run) in the background, in a process
 * group of its own, with stdin from /dev/null and stdout and stderr
 * appended to log_path. Returns once the child has executed argv (or has
 * failed to, and exited 127), so a signal sent to the pid reaches the
 * program and not a copy of the test. Returns its pid (the caller kills and
 * reaps it), or -1 with errno set if the log cannot be opened or the fork
 * fails. */
pid_t gst_spawn(const char *const argv[], const char *log_path);
/* (Every child gst_spawn and gst_cmd start is SIGKILLed when the process
 * that started it ends, so a failed test leaves nothing running.) */

/* GS_TEST_BIN_DIR "/" name, malloc'd. */
char *gst_bin(const char *name);

/* ---- for Check tests only: these fail the running test with ck_assert ---- */

/* The most arguments gst_cmd passes, the program and --db included. */
#define GST_MAX_ARGS 70

/* Runs prog, with "--db db" first when db is not NULL, then first and the
 * NULL-terminated rest of ap, into *r, which is freed first; prog NULL means
 * first is the program. Returns the exit status. A run that cannot be made
 * fails the test. With sanitized set, so does a sanitizer report on stderr:
 * under GS_SANITIZE such a report may come with an ordinary exit code, and a
 * test that checks only the exit code would miss it. */
int gst_cmdv(gst_result *r, bool sanitized, const char *prog, const char *db, const char *first,
             va_list ap);

/* gst_cmdv with the arguments as a list ending in (const char *)NULL. */
int gst_cmd(gst_result *r, bool sanitized, const char *prog, const char *db, const char *first,
            ...);

/* A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0,
 * then closed). */
int gst_free_port(void);

/* An online backup of the SQLite database db into path (replaced), as
 * `sqlite3 db ".backup path"` makes one, while another process may be
 * writing db. */
void gst_db_backup(const char *db, const char *path);
/* Puts the backup at path in place of db, whose writer has stopped, with
 * db's -wal and -shm files removed, as an operator restores one. */
void gst_db_restore(const char *path, const char *db);

/* A fresh directory (gst_tmpdir) made the TMPDIR of this process, so that
 * every test's gst_tmpdir lands under it and one gst_rmrf at the end removes
 * what a failed test left: Check runs no teardown after a forked test fails.
 * malloc'd. */
char *gst_tmp_top(void);

/* Runs every test of s (srunner, CK_NORMAL output) and frees the runner;
 * returns main's exit code: EXIT_FAILURE when any test failed. */
struct Suite;
int gst_run_suite(struct Suite *s);

/* A new TCase called name, already added to s, with setup and teardown as
 * its checked fixture (either may be NULL) and a timeout of timeout_s
 * seconds for each of its tests. Tests are added to it afterwards. */
struct TCase;
struct TCase *gst_tcase(struct Suite *s, const char *name, void (*setup)(void),
                        void (*teardown)(void), double timeout_s);

/* The background processes a test started, so that its teardown (or an
 * atexit handler, after a failure) can end them all. A zeroed gst_procs is
 * empty. When pid_file is set (the caller keeps the string), every started
 * pid is also appended to that file, for main() to end what a test that
 * died before its teardown left running. */
#define GST_MAX_PROCS 512
typedef struct gst_procs {
    pid_t pid[GST_MAX_PROCS];
    int n;
    const char *pid_file;
} gst_procs;

/* gst_spawn, and the pid tracked in p; a process that cannot be started
 * fails the test. */
pid_t gst_procs_spawn(gst_procs *p, const char *const argv[], const char *log_path);

/* The exit code (128 + signal number when killed) of pid once it has ended,
 * which also stops tracking it; -1 while it runs (block false), -2 when it
 * is no child of ours. */
int gst_procs_reap(gst_procs *p, pid_t pid, bool block);

/* Waits up to ms for pid to end: its status as gst_procs_reap gives it, -1
 * when it still runs. */
int gst_procs_wait(gst_procs *p, pid_t pid, int ms);

/* SIGKILLs pid's process group (and pid) and reaps it; pid <= 0 is ignored. */
void gst_procs_kill9(gst_procs *p, pid_t pid);

/* gst_procs_kill9 of every tracked process. */
void gst_procs_kill_all(gst_procs *p);

/* A scenario's teardown: kills every process of p, frees r, removes the
 * temporary directory *tmp and sets it NULL. */
void gst_teardown(gst_procs *p, gst_result *r, char **tmp);

/* ---- for tests and benchmarks ---- */

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and waits. */
int64_t gst_now_ms(void);
/* Starts `gridhub --db db serve --bind endpoint` (-v when verbose) among p,
 * its output appended to log, and waits until it says it serves; fails the
 * test when it exits first or takes over 20 s. */
pid_t gst_hub_serve(gst_procs *p, const char *db, const char *endpoint, const char *log,
                    bool verbose);

/* Adds a user of `gridhub web` to the hub database db (`gridhub user add`;
 * division NULL for the city) and sets its password (`gridhub user passwd`,
 * from standard input). */
void gst_hub_user(const char *db, const char *login, const char *name, const char *role,
                  const char *division, const char *password);

/* Everything a request to gridhub (web or command) could write into the hub
 * database db, as one text to compare before and after: the users with
 * their state and password hashes, the audit log's length, the change log's
 * length and head, the quarantine, the nodes with their keys, the
 * incidents. Read from the file (read-only, beside a running writer).
 * malloc'd. */
char *gst_hub_state(const char *db);

/* The same with the fraction of a millisecond: for measuring how long
 * something took. */
double gst_clock_ms(void);

/* Sleeps ms milliseconds, resuming after a signal. */
void gst_sleep_ms(int ms);

/* Village codes, NUL-terminated, into out: one under each of the first n
 * townships of the city's division file (GS_TEST_SRC_DIR
 * "/data/luohe_divisions.csv"), the township's 9 digits and "201". Returns
 * how many it found (fewer than n when the file has fewer townships), or -1
 * when the file cannot be read. */
int gst_villages(char out[][13], int n);

#endif
