/*
 * test_bundle.c: the node bundle (proto/bundle.c), and above all its
 * reference rows: the incident categories and divisions a node holds from
 * `gridnode init` on, before its first sync.
 *
 * TCases: rows (what a bundle with rows parses to, the rows handed over in
 * order, a written bundle parsed back row for row, an older bundle without
 * rows); refused (a table of damaged bundles, each with the error code and
 * the words a user needs: the line and what is wrong; the row limit; a
 * callback's error stops the parse). The keys are throwaway test keys.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/bundle.h"
#include "gstest.h"

#define HEAD                                                                                       \
    "format = gridsync-bundle-1\n"                                                                 \
    "node_id = 411122101201-1\n"                                                                   \
    "village = 411122101201\n"                                                                     \
    "hub_endpoint = tcp://hub.example:7700\n"                                                      \
    "hub_public_key = SaheeK-bl<</L?iM&S<vW<$j#VIv+LPDI0vNe3u4\n"
#define KEYS                                                                                       \
    "node_public_key = g7d1KywHDRb1T%K}H+h4WdK@jUY+mMNn4ETMu5/+\n"                                 \
    "node_secret_key = CX6Ad6S]DwYqg}L4#glWqRx5mwFGF0fKdfn4/^B:\n"
#define ROWS                                                                                       \
    "reference_rows = 3\n"                                                                         \
    "division = 411100,漯河市,city,410000,\n"                                                      \
    "category = dispute,矛盾纠纷,Disputes,\n"                                                      \
    "category = dispute.land,\"土地,宅基地纠纷\",\"Land or \"\"homestead\"\" dispute\",dispute\n"

/* Collects the keys of the rows handed over, "type:key;" each. */
static int collect(const gs_record *rec, void *arg, gs_errbuf *eb)
{
    (void)eb;
    gs_buf_printf(arg, "%s:%s;", rec->rt->name, gs_record_key(rec));
    return GS_OK;
}

START_TEST(rows_parse_in_order)
{
    const char text[] = HEAD ROWS KEYS;
    gs_bundle b;
    gs_buf seen = GS_BUF_INIT;
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_bundle_parse_rows(text, strlen(text), &b, collect, &seen, &eb) == GS_OK, "%s",
                  eb.msg);
    ck_assert_uint_eq(b.reference_rows, 3);
    ck_assert_str_eq(b.village, "411122101201");
    ck_assert_str_eq(seen.data, "division:411100;category:dispute;category:dispute.land;");
    gs_buf_free(&seen);
}
END_TEST

/* What the hub writes (gs_bundle_format_rows) parses back to the same rows,
 * values with commas and quotes included, and the node's keys come last. */
static int keep_last(const gs_record *rec, void *arg, gs_errbuf *eb)
{
    gs_record **last = arg;
    gs_record_destroy(last);
    *last = gs_record_dup(rec);
    return *last ? GS_OK : gs_errf(eb, GS_ENOMEM, "out of memory");
}

START_TEST(rows_round_trip)
{
    const char text[] = HEAD ROWS KEYS;
    gs_bundle b;
    gs_record *last = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_bundle_parse_rows(text, strlen(text), &b, keep_last, &last, &eb), GS_OK);
    ck_assert_ptr_nonnull(last);
    ck_assert_str_eq(gs_record_str(last, GS_CATEGORY_NAME_ZH), "土地,宅基地纠纷");
    ck_assert_str_eq(gs_record_str(last, GS_CATEGORY_NAME_EN),
                     "Land or \"homestead\" dispute");
    const gs_record *rows[] = {last, last};
    gs_buf out = GS_BUF_INIT;
    gs_bundle_format_rows(&b, rows, 2, &out);
    ck_assert_int_eq(out.err, GS_OK);
    ck_assert_ptr_nonnull(strstr(out.data, "reference_rows = 2\n"));
    ck_assert(strstr(out.data, "category = ") < strstr(out.data, "node_public_key"));
    gs_bundle again;
    gs_record *back = NULL;
    ck_assert_msg(gs_bundle_parse_rows(out.data, out.len, &again, keep_last, &back, &eb) == GS_OK,
                  "%s\n%s", eb.msg, out.data);
    ck_assert_uint_eq(again.reference_rows, 2);
    ck_assert_str_eq(again.node_secret_key, b.node_secret_key);
    gs_buf a = GS_BUF_INIT, c = GS_BUF_INIT;
    gs_record_json(last, &a);
    gs_record_json(back, &c);
    ck_assert_str_eq(a.data, c.data);
    gs_buf_free(&a);
    gs_buf_free(&c);
    gs_buf_free(&out);
    gs_record_destroy(&last);
    gs_record_destroy(&back);
}
END_TEST

/* A bundle from before reference rows: valid, no rows, the callback unused. */
START_TEST(rows_absent_in_older_bundle)
{
    const char text[] = HEAD KEYS;
    gs_bundle b;
    gs_buf seen = GS_BUF_INIT;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_bundle_parse_rows(text, strlen(text), &b, collect, &seen, &eb), GS_OK);
    ck_assert_uint_eq(b.reference_rows, 0);
    ck_assert_ptr_null(seen.data);
    gs_buf out = GS_BUF_INIT;
    gs_bundle_format(&b, &out);
    ck_assert_ptr_null(strstr(out.data, "reference_rows"));
    gs_buf_free(&out);
}
END_TEST

/* ---- refused ---- */

typedef struct bad_case {
    const char *name, *text;
    int code;
    const char *says[2];
} bad_case;

static const bad_case bad[] = {
    {"count too high", HEAD "reference_rows = 4\n" ROWS KEYS, GS_EMALFORMED,
     {"given twice", NULL}},
    {"count mismatch", HEAD "reference_rows = 4\ndivision = 411100,漯河市,city,410000,\n" KEYS,
     GS_EMALFORMED, {"reference_rows says 4 rows", "has 1"}},
    {"rows without count", HEAD "category = dispute,矛盾纠纷,Disputes,\n" KEYS, GS_EMALFORMED,
     {"1 reference rows but no reference_rows", NULL}},
    {"count zero", HEAD "reference_rows = 0\n" KEYS, GS_EINVAL, {"line 6", "reference_rows"}},
    {"count not a number", HEAD "reference_rows = three\n" KEYS, GS_EINVAL,
     {"line 6", "reference_rows"}},
    {"bad category code", HEAD "reference_rows = 1\ncategory = Dispute!,矛盾纠纷,,\n" KEYS,
     GS_EINVAL, {"line 7", "category code"}},
    {"required name empty", HEAD "reference_rows = 1\ncategory = dispute,,Disputes,\n" KEYS,
     GS_EINVAL, {"line 7", "name_zh"}},
    {"bad division level", HEAD "reference_rows = 1\ndivision = 411100,漯河市,empire,,\n" KEYS,
     GS_EINVAL, {"line 7", "division level"}},
    /* a row may stop short (fields are only appended), but not before a
     * required field */
    {"too few columns", HEAD "reference_rows = 1\ndivision = 411100,漯河市\n" KEYS, GS_EINVAL,
     {"line 7", "级别 (level) is required"}},
    {"too many columns", HEAD "reference_rows = 1\ncategory = a,甲,A,,extra\n" KEYS,
     GS_EMALFORMED, {"line 7", "expected one CSV row"}},
    {"unterminated quote", HEAD "reference_rows = 1\ncategory = a,\"甲,A,\n" KEYS, GS_EMALFORMED,
     {"line 7", "category"}},
    {"not a reference type", HEAD "reference_rows = 1\nincident = x,411122101201\n" KEYS,
     GS_EUNKNOWN, {"line 7", "unknown key \"incident\""}},
    {"control character", HEAD "reference_rows = 1\ncategory = a,甲\x01,A,\n" KEYS, GS_EINVAL,
     {"line 7", "control characters"}},
    {"cut in the rows", HEAD ROWS, GS_EREQUIRED, {"node_public_key is missing", NULL}},
};
#define NBAD ((int)(sizeof bad / sizeof bad[0]))

START_TEST(refused_with_reason)
{
    const bad_case *c = &bad[_i];
    gs_bundle b;
    gs_errbuf eb = {{0}};
    int rc = gs_bundle_parse(c->text, strlen(c->text), &b, &eb);
    ck_assert_msg(rc == c->code, "%s: code %d (%s), want %d", c->name, rc, eb.msg, c->code);
    for (int i = 0; i < 2 && c->says[i]; i++)
        ck_assert_msg(strstr(eb.msg, c->says[i]), "%s: \"%s\" lacks \"%s\"", c->name, eb.msg,
                      c->says[i]);
    ck_assert_str_eq(b.village, ""); /* nothing half-parsed is left */
}
END_TEST

/* More rows than GS_BUNDLE_MAX_ROWS: refused at the first one over, naming
 * its line, before the rest is read. */
START_TEST(refused_over_row_limit)
{
    gs_buf text = GS_BUF_INIT;
    gs_buf_puts(&text, HEAD "reference_rows = 2000\n");
    for (int i = 0; i <= GS_BUNDLE_MAX_ROWS; i++)
        gs_buf_printf(&text, "category = c%d,类别,,\n", i);
    gs_buf_puts(&text, KEYS);
    gs_bundle b;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_bundle_parse(text.data, text.len, &b, &eb), GS_ETOOBIG);
    ck_assert_msg(strstr(eb.msg, "line 2007") && strstr(eb.msg, "more than 2000"), "%s", eb.msg);
    gs_buf_free(&text);
}
END_TEST

static int refuse_second(const gs_record *rec, void *arg, gs_errbuf *eb)
{
    int *n = arg;
    return ++*n == 2 ? gs_errf(eb, GS_ESQL, "cannot store %s", gs_record_key(rec)) : GS_OK;
}

/* The callback's error stops the parse and is what it returns. */
START_TEST(refused_by_callback)
{
    const char text[] = HEAD ROWS KEYS;
    gs_bundle b;
    int n = 0;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_bundle_parse_rows(text, strlen(text), &b, refuse_second, &n, &eb),
                     GS_ESQL);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(eb.msg, "cannot store dispute");
}
END_TEST

static Suite *bundle_suite(void)
{
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("rows");
    tcase_add_test(tc, rows_parse_in_order);
    tcase_add_test(tc, rows_round_trip);
    tcase_add_test(tc, rows_absent_in_older_bundle);
    suite_add_tcase(s, tc);
    tc = tcase_create("refused");
    tcase_add_loop_test(tc, refused_with_reason, 0, NBAD);
    tcase_add_test(tc, refused_over_row_limit);
    tcase_add_test(tc, refused_by_callback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gst_run_suite(bundle_suite());
}
