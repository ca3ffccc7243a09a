/*
 * gstest_cli.h: running gridnode in a Check test as a user would, and
 * checking what the user would check: the exit code, the message on stderr,
 * the text on stdout and the fields of its --json output.
 *
 * The macros work on two names the including test file defines:
 *     static gst_result R;      the last run (each run frees the one before)
 *     static char db[PATH_MAX]; the node database GN passes with --db (only
 *                               a file that uses GN needs it)
 * Every run through GN or GNDB fails the test on a sanitizer report, even
 * one that comes with an ordinary exit code (see gst_cmdv); RUN leaves
 * stderr to the test. For Check tests only: everything here asserts with
 * ck_assert.
 */
#ifndef GRIDSYNC_GSTEST_CLI_H
#define GRIDSYNC_GSTEST_CLI_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gstest.h"

/* GN("incident", "list") runs gridnode --db <db> incident list; returns the
 * exit status, the result is in R. */
#define GN(...) gst_cmd(&R, true, "gridnode", db, __VA_ARGS__, (const char *)NULL)
/* GNDB(path, ...) with another database (NULL: no --db at all). */
#define GNDB(path, ...) gst_cmd(&R, true, "gridnode", (path), __VA_ARGS__, (const char *)NULL)

/* RUN("gridnode", "--db", db, "sync") runs any program to the end into R;
 * returns the exit status. */
#define RUN(...) gst_cmd(&R, false, NULL, NULL, __VA_ARGS__, (const char *)NULL)
/* RUN that requires exit 0. */
#define RUN_OK(...)                                                                                \
    do {                                                                                           \
        int st_ = RUN(__VA_ARGS__);                                                                \
        ck_assert_msg(st_ == 0, "%s: exit %d\nstdout: %s\nstderr: %s", #__VA_ARGS__, st_, R.out,   \
                      R.err);                                                                      \
    } while (0)

#define ASSERT_OK()                                                                                \
    ck_assert_msg(R.status == 0, "exit %d, want 0; stderr: %s", R.status, R.err)
#define ASSERT_EXIT(code)                                                                          \
    ck_assert_msg(R.status == (code), "exit %d, want %d; stderr: %s", R.status, (code), R.err)
/* Refused: a non-zero exit that is not a crash. */
#define ASSERT_REFUSED()                                                                           \
    ck_assert_msg(R.status == 1 || R.status == 2, "exit %d, want 1 or 2; stderr: %s", R.status,   \
                  R.err)
#define ASSERT_ERR_HAS(s)                                                                          \
    ck_assert_msg(strstr(R.err, (s)) != NULL, "stderr lacks \"%s\":\n%s", (s), R.err)
#define ASSERT_OUT_HAS(s)                                                                          \
    ck_assert_msg(strstr(R.out, (s)) != NULL, "stdout lacks \"%s\":\n%s", (s), R.out)
#define ASSERT_OUT_LACKS(s)                                                                        \
    ck_assert_msg(strstr(R.out, (s)) == NULL, "stdout has \"%s\":\n%s", (s), R.out)

/* ---- reading JSON output (flat objects, as gridnode writes them) ---- */

/* The value of the first "key" in json: a string unescaped, any other value
 * as written (number, true, false, null). malloc'd; NULL when the key is
 * absent. */
char *gst_json_get(const char *json, const char *key);

/* True when the ';'-separated set in field key of json holds code. */
bool gst_json_set_has(const char *json, const char *key, const char *code);

/* The key's value compared with want ("" matches an absent or null key, which
 * is how gridnode writes an empty computed field). */
#define ASSERT_JSON(json, key, want)                                                               \
    do {                                                                                           \
        char *v_ = gst_json_get((json), (key));                                                    \
        const char *got_ = v_ && strcmp(v_, "null") ? v_ : "";                                     \
        ck_assert_msg(strcmp(got_, (want)) == 0, "%s: \"%s\", want \"%s\" in\n%s", (key), got_,   \
                      (want), (json));                                                             \
        free(v_);                                                                                  \
    } while (0)

#endif
