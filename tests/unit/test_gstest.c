/*
 * test_gstest.c: the test support library itself (tests/support/gstest.c).
 *
 * The end-to-end tests trust gst_run to report exactly what a program
 * printed and how it ended, so this suite checks that with /bin/sh -c
 * commands whose output is known: stdout and stderr kept apart, exit codes,
 * 128+signal for a killed child, megabytes of output in both streams and of
 * input at once without deadlock, arguments with spaces and Chinese text
 * passed whole. Then the temporary directory, file and spawn helpers.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gstest.h"

#define MIB (1024 * 1024)

/* ---- gst_run: a table of shell commands and what they must give -------- */

typedef struct run_case {
    const char *name;
    const char *script; /* for /bin/sh -c */
    const char *stdin_text;
    int status;
    const char *out; /* exact */
    const char *err; /* exact */
} run_case;

static const run_case runs[] = {
    {"stdout", "printf hello", NULL, 0, "hello", ""},
    {"stderr_and_exit", "echo oops >&2; exit 3", NULL, 3, "", "oops\n"},
    {"both_streams", "echo out; echo err >&2; echo out2", NULL, 0, "out\nout2\n", "err\n"},
    {"stdin", "cat; echo 完", "王小明 邻里纠纷\n", 0, "王小明 邻里纠纷\n完\n", ""},
    {"no_stdin_is_empty", "cat; echo end", NULL, 0, "end\n", ""},
    {"empty_stdin", "cat; echo end", "", 0, "end\n", ""},
    {"killed_by_sigkill", "kill -9 $$", NULL, 128 + SIGKILL, "", ""},
    {"killed_by_sigterm", "echo before; kill -TERM $$", NULL, 128 + SIGTERM, "before\n", ""},
    {"exit_255", "exit 255", NULL, 255, "", ""},
};
#define NRUNS (sizeof runs / sizeof runs[0])

START_TEST(run_table)
{
    const run_case *c = &runs[_i];
    gst_result r;
    const char *argv[] = {"/bin/sh", "-c", c->script, NULL};
    ck_assert_int_eq(gst_run(&r, c->stdin_text, argv), 0);
    ck_assert_msg(r.status == c->status, "%s: status %d, want %d (stderr: %s)", c->name, r.status,
                  c->status, r.err);
    ck_assert_msg(strcmp(r.out, c->out) == 0, "%s: stdout \"%s\", want \"%s\"", c->name, r.out,
                  c->out);
    ck_assert_msg(strcmp(r.err, c->err) == 0, "%s: stderr \"%s\", want \"%s\"", c->name, r.err,
                  c->err);
    ck_assert_uint_eq(r.out_len, strlen(c->out));
    gst_result_free(&r);
    ck_assert_ptr_null(r.out);
}
END_TEST

/* True when the n bytes at p are all ch. */
static int all_are(const char *p, size_t n, char ch)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ch)
            return 0;
    return 1;
}

/* 1 MiB on each stream, written alternately in pieces larger than a pipe's
 * buffer: reading one pipe to the end before the other would deadlock. */
START_TEST(large_output)
{
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, NULL, "/bin/sh", "-c",
                              "i=0; while [ $i -lt 8 ]; do"
                              "  head -c 131072 /dev/zero | tr '\\0' a;"
                              "  head -c 131072 /dev/zero | tr '\\0' b >&2;"
                              "  i=$((i+1)); done",
                              (char *)NULL),
                     0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.out_len, MIB);
    ck_assert_uint_eq(r.err_len, MIB);
    ck_assert(all_are(r.out, MIB, 'a'));
    ck_assert(all_are(r.err, MIB, 'b'));
    gst_result_free(&r);
}
END_TEST

/* 4 MiB in and the same 4 MiB back out through cat, at the same time. */
START_TEST(large_input_and_output)
{
    size_t n = 4 * MIB;
    char *in = malloc(n + 1);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    in[n] = '\0';
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, in, "cat", (char *)NULL), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.out_len, n);
    ck_assert(memcmp(r.out, in, n) == 0);
    gst_result_free(&r);
    free(in);
}
END_TEST

/* A child that never reads its input must neither hang the run nor kill the
 * test process with SIGPIPE. */
START_TEST(input_not_read)
{
    size_t n = 4 * MIB;
    char *in = malloc(n + 1);
    ck_assert_ptr_nonnull(in);
    memset(in, 'x', n);
    in[n] = '\0';
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, in, "/bin/sh", "-c", "exec 0<&-; echo done", (char *)NULL), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "done\n");
    gst_result_free(&r);
    free(in);
}
END_TEST

/* Arguments are passed as given: no splitting on spaces, no globbing. */
START_TEST(arguments_kept_whole)
{
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, NULL, "/bin/sh", "-c", "printf '[%s]' \"$@\"", "sh", "王 小明",
                              "事件 类别.csv", "*", "", "a\nb", (char *)NULL),
                     0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "[王 小明][事件 类别.csv][*][][a\nb]");
    gst_result_free(&r);
}
END_TEST

START_TEST(output_with_nul)
{
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, NULL, "printf", "a\\000b", (char *)NULL), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.out_len, 3);
    ck_assert(memcmp(r.out, "a\0b", 4) == 0);
    gst_result_free(&r);
}
END_TEST

START_TEST(cannot_execute)
{
    gst_result r;
    ck_assert_int_eq(gst_runv(&r, NULL, "/nonexistent/gridsync-no-such-program", (char *)NULL), 0);
    ck_assert_int_eq(r.status, 127);
    ck_assert_msg(strstr(r.err, "/nonexistent/gridsync-no-such-program") != NULL, "%s", r.err);
    gst_result_free(&r);

    ck_assert_int_eq(gst_runv(&r, NULL, "gridsync-no-such-program", (char *)NULL), 0);
    ck_assert_int_eq(r.status, 127);
    gst_result_free(&r);
}
END_TEST

/* "gridnode" means this build's binary, not one on $PATH. */
START_TEST(own_binaries_resolved)
{
    char *bin = gst_bin("gridnode");
    ck_assert_str_eq(bin, GS_TEST_BIN_DIR "/gridnode");
    gst_result r;
    const char *argv[] = {"gridnode", "--gstest-probe", NULL};
    ck_assert_int_eq(gst_run(&r, NULL, argv), 0);
    if (access(bin, X_OK) != 0) { /* not built yet: the error names the path tried */
        ck_assert_int_eq(r.status, 127);
        ck_assert_msg(strstr(r.err, bin) != NULL, "%s", r.err);
    } else { /* built: it ran (whatever it thinks of the option) */
        ck_assert_int_ne(r.status, 127);
    }
    gst_result_free(&r);
    free(bin);
    gst_result_free(NULL);
}
END_TEST

/* ---- temporary directories and files ---------------------------------- */

START_TEST(tmpdir_and_rmrf)
{
    char *d = gst_tmpdir();
    struct stat st;
    ck_assert_int_eq(stat(d, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_msg(strstr(d, "/gridsync-test-") != NULL, "%s", d);
    char *d2 = gst_tmpdir();
    ck_assert_str_ne(d, d2);

    /* a tree with files, a nested directory and a link out of the tree */
    char p[512];
    snprintf(p, sizeof p, "%s/a", d);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/a/b", d);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/a/b/事件.csv", d);
    ck_assert_int_eq(gst_write_file(p, "x", 1), 0);
    snprintf(p, sizeof p, "%s/keep.txt", d2);
    ck_assert_int_eq(gst_write_file(p, "keep", 4), 0);
    char link[512];
    snprintf(link, sizeof link, "%s/a/out", d);
    ck_assert_int_eq(symlink(d2, link), 0);

    gst_rmrf(d);
    ck_assert_int_eq(stat(d, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(stat(p, &st), 0); /* the link was removed, not followed */

    gst_rmrf(d); /* gone already */
    gst_rmrf(NULL);
    gst_rmrf(d2);
    ck_assert_int_eq(stat(d2, &st), -1);
    free(d);
    free(d2);
}
END_TEST

START_TEST(tmpdir_honours_tmpdir)
{
    const char *orig = getenv("TMPDIR");
    char *saved = orig ? strdup(orig) : NULL;
    char *base = gst_tmpdir();
    char env[600];
    snprintf(env, sizeof env, "%s/", base); /* a trailing slash is fine */
    ck_assert_int_eq(setenv("TMPDIR", env, 1), 0);
    char *d = gst_tmpdir();
    char want[600];
    snprintf(want, sizeof want, "%s/gridsync-test-", base);
    ck_assert_msg(strncmp(d, want, strlen(want)) == 0, "%s is not under %s", d, base);
    ck_assert_int_eq(setenv("TMPDIR", "", 1), 0); /* empty: /tmp */
    char *d3 = gst_tmpdir();
    ck_assert_msg(strncmp(d3, "/tmp/gridsync-test-", 19) == 0, "%s", d3);
    gst_rmrf(d3);
    gst_rmrf(base);
    free(d);
    free(d3);
    free(base);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
}
END_TEST

START_TEST(read_and_write_files)
{
    char *d = gst_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/f.bin", d);
    ck_assert_int_eq(gst_write_file(p, "a\0b王", 6), 0);
    size_t n = 0;
    char *s = gst_read_file(p, &n);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(n, 6);
    ck_assert(memcmp(s, "a\0b王", 7) == 0); /* NUL-terminated too */
    free(s);

    ck_assert_int_eq(gst_write_file(p, "", 0), 0); /* truncates */
    s = gst_read_file(p, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    free(s);

    snprintf(p, sizeof p, "%s/missing", d);
    ck_assert_ptr_null(gst_read_file(p, &n));
    ck_assert_int_eq(errno, ENOENT);
    snprintf(p, sizeof p, "%s/no/such/dir", d);
    ck_assert_int_eq(gst_write_file(p, "x", 1), -1);
    gst_rmrf(d);
    free(d);
}
END_TEST

START_TEST(spawn_to_log)
{
    char *d = gst_tmpdir();
    char log[512];
    snprintf(log, sizeof log, "%s/node.log", d);
    ck_assert_int_eq(gst_write_file(log, "earlier\n", 8), 0);
    const char *argv[] = {"/bin/sh", "-c", "echo started; echo warning >&2; read x || echo eof",
                          NULL};
    pid_t pid = gst_spawn(argv, log);
    ck_assert_int_gt(pid, 0);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    char *s = gst_read_file(log, NULL);
    ck_assert_str_eq(s, "earlier\nstarted\nwarning\neof\n"); /* appended; stdin at EOF */
    free(s);

    /* in its own process group, so a test can stop it and its children */
    const char *sleeper[] = {"/bin/sh", "-c", "sleep 30 & wait", NULL};
    pid = gst_spawn(sleeper, log);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(getpgid(pid), pid);
    ck_assert_int_eq(kill(-pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);

    snprintf(log, sizeof log, "%s/no/such/dir/log", d);
    ck_assert_int_eq(gst_spawn(argv, log), -1);
    gst_rmrf(d);
    free(d);
}
END_TEST

/* What Check does with a forked test that fails: the test process leaves
 * with _exit, no teardown. What it started in the background dies with it. */
START_TEST(spawned_die_with_the_test)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t test = fork();
    ck_assert_int_ge(test, 0);
    if (test == 0) {
        const char *sleeper[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
        pid_t p = gst_spawn(sleeper, "/dev/null");
        ssize_t w = write(fds[1], &p, sizeof p);
        _exit(w == sizeof p && p > 0 ? 1 : 2);
    }
    close(fds[1]);
    pid_t bg = 0;
    ck_assert_int_eq(read(fds[0], &bg, sizeof bg), (ssize_t)sizeof bg);
    close(fds[0]);
    ck_assert_int_gt(bg, 0);
    int ws;
    ck_assert_int_eq(waitpid(test, &ws, 0), test);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 1);
    /* gone, or a zombie waiting for whoever reaps orphans here */
    char stat_path[64], *st = NULL;
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)bg);
    int64_t end = gst_now_ms() + 2000; /* within the test case's timeout */
    for (;;) {
        free(st);
        st = gst_read_file(stat_path, NULL);
        const char *state = st ? strrchr(st, ')') : NULL;
        if (!state || state[1] == '\0' || state[2] == 'Z' || state[2] == 'X')
            break;
        ck_assert_msg(gst_now_ms() < end, "the background process %d outlived its test: %s",
                      (int)bg, st);
        gst_sleep_ms(20);
    }
    free(st);
}
END_TEST

static Suite *gstest_suite(void)
{
    Suite *s = suite_create("gstest");

    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, run_table, 0, (int)NRUNS);
    tcase_add_test(tc, large_output);
    tcase_add_test(tc, large_input_and_output);
    tcase_add_test(tc, input_not_read);
    tcase_add_test(tc, arguments_kept_whole);
    tcase_add_test(tc, output_with_nul);
    tcase_add_test(tc, cannot_execute);
    tcase_add_test(tc, own_binaries_resolved);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, tmpdir_and_rmrf);
    tcase_add_test(tc, tmpdir_honours_tmpdir);
    tcase_add_test(tc, read_and_write_files);
    tcase_add_test(tc, spawn_to_log);
    tcase_add_test(tc, spawned_die_with_the_test);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gst_run_suite(gstest_suite());
}
