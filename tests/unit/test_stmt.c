/*
 * test_stmt.c: the prepared-statement cache (proto/stmt.c) and the meta
 * helpers both stores use. What matters to the stores: the same SQL gives
 * the same prepared statement, different SQL never does (even when it is
 * built in the same buffer, as hub/store.c builds a query per record type),
 * a statement handed back is ready for the next use, and bad SQL fails
 * without spoiling the cache.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/stmt.h"
#include "gstest.h"

static sqlite3 *open_db(void)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
                                  "CREATE TABLE incidents (id TEXT PRIMARY KEY, village TEXT);"
                                  "CREATE TABLE elections (id TEXT PRIMARY KEY, village TEXT);"
                                  "INSERT INTO incidents VALUES ('i1', '411122101201');"
                                  "INSERT INTO elections VALUES ('i1', '411102001001');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

/* The village of record id in table, through the cache, with the query
 * built in the same stack buffer every time (as hub/store.c node_query). */
static const char *village_of(gs_stmts **cache, sqlite3 *db, const char *table, const char *id,
                              char *out, size_t cap)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT village FROM %s WHERE id = ?1", table);
    sqlite3_stmt *st = gs_stmt(cache, db, sql);
    ck_assert_ptr_nonnull(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    gs_stmt_done(st);
    return out;
}

START_TEST(same_sql_same_statement)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    char a[] = "SELECT value FROM meta WHERE key = ?1";
    char b[sizeof a];
    memcpy(b, a, sizeof a); /* the same text at another address */
    sqlite3_stmt *s1 = gs_stmt(&cache, db, a);
    sqlite3_stmt *s2 = gs_stmt(&cache, db, b);
    ck_assert_ptr_nonnull(s1);
    ck_assert_ptr_eq(s1, s2);
    ck_assert_ptr_ne(gs_stmt(&cache, db, "SELECT count(*) FROM meta"), s1);
    gs_stmts_free(&cache);
    ck_assert_ptr_null(cache);
    sqlite3_close(db);
}
END_TEST

START_TEST(same_buffer_other_sql)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    char v[16];
    /* both tables hold a record i1, each in another village: a cache keyed
     * by the buffer's address would answer the second from the first */
    ck_assert_str_eq(village_of(&cache, db, "incidents", "i1", v, sizeof v), "411122101201");
    ck_assert_str_eq(village_of(&cache, db, "elections", "i1", v, sizeof v), "411102001001");
    ck_assert_str_eq(village_of(&cache, db, "incidents", "i1", v, sizeof v), "411122101201");
    ck_assert_str_eq(village_of(&cache, db, "incidents", "i2", v, sizeof v), "");
    gs_stmts_free(&cache);
    sqlite3_close(db);
}
END_TEST

START_TEST(done_resets_and_clears)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    const char *sql = "SELECT village FROM incidents WHERE id = ?1";
    sqlite3_stmt *st = gs_stmt(&cache, db, sql);
    sqlite3_bind_text(st, 1, "i1", -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    /* handed back mid-result: no longer busy, and the binding is gone */
    gs_stmt_done(st);
    ck_assert_int_eq(sqlite3_stmt_busy(st), 0);
    st = gs_stmt(&cache, db, sql);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE); /* id = NULL matches nothing */
    gs_stmt_done(st);
    /* nothing left open: a write goes through */
    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM incidents", NULL, NULL, NULL), SQLITE_OK);
    gs_stmts_free(&cache);
    sqlite3_close(db);
}
END_TEST

START_TEST(bad_sql_fails_cleanly)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    ck_assert_ptr_null(gs_stmt(&cache, db, "SELECT missing FROM nowhere"));
    ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db), "nowhere"));
    /* asked again it fails again (it was not cached), and good SQL still works */
    ck_assert_ptr_null(gs_stmt(&cache, db, "SELECT missing FROM nowhere"));
    char v[16];
    ck_assert_str_eq(village_of(&cache, db, "incidents", "i1", v, sizeof v), "411122101201");
    gs_stmts_free(&cache);
    gs_stmts_free(&cache); /* twice is harmless */
    sqlite3_close(db);
}
END_TEST

START_TEST(meta_values)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    ck_assert_int_eq(gs_meta_int(&cache, db, "acked_through", -7), -7);
    ck_assert_int_eq(gs_meta_set_int(&cache, db, "acked_through", 4096), SQLITE_OK);
    ck_assert_int_eq(gs_meta_set_int(&cache, db, "hlc", INT64_MAX), SQLITE_OK);
    ck_assert_int_eq(gs_meta_set_int(&cache, db, "acked_through", 4097), SQLITE_OK);
    ck_assert_int_eq(gs_meta_int(&cache, db, "acked_through", 0), 4097);
    ck_assert_int_eq(gs_meta_int(&cache, db, "hlc", 0), INT64_MAX);
    /* a NULL value reads as absent */
    ck_assert_int_eq(
        sqlite3_exec(db, "INSERT INTO meta VALUES ('cursor', NULL)", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(gs_meta_int(&cache, db, "cursor", 11), 11);
    /* a failed write says so: a read-only database */
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_ne(gs_meta_set_int(&cache, db, "acked_through", 1), SQLITE_OK);
    ck_assert_int_eq(gs_meta_int(&cache, db, "acked_through", 0), 4097);
    gs_stmts_free(&cache);
    sqlite3_close(db);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stmt");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, same_sql_same_statement);
    tcase_add_test(tc, same_buffer_other_sql);
    tcase_add_test(tc, done_resets_and_clears);
    tcase_add_test(tc, bad_sql_fails_cleanly);
    tcase_add_test(tc, meta_values);
    suite_add_tcase(s, tc);
    return gst_run_suite(s);
}
