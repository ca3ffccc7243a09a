/*
 * gstest.h: support for gridsync's Check tests, above all the end-to-end
 * ones that run the real gridnode and gridhub binaries.
 *
 * It gives a test a fresh temporary directory and removes it, runs a program
 * to completion with its stdout, stderr and exit status captured (any
 * amount of output, no shell and no word splitting: arguments are passed as
 * they are, so Chinese text with spaces stays one argument), starts a
 * program in the background with its output going to a log file, and reads
 * and writes whole files.
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

#include <stddef.h>
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

/* Starts argv (resolved as by gst_run) in the background, in a process
 * group of its own, with stdin from /dev/null and stdout and stderr
 * appended to log_path. Returns its pid (the caller kills and reaps it), or
 * -1 with errno set if the log cannot be opened or the fork fails. */
pid_t gst_spawn(const char *const argv[], const char *log_path);

/* GS_TEST_BIN_DIR "/" name, malloc'd. */
char *gst_bin(const char *name);

#endif
