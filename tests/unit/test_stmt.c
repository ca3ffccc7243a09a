/*
 * test_stmt.c: the prepared-statement cache (proto/stmt.c) and the meta
 * helpers both stores use. What matters to the stores: the same SQL gives
 * the same prepared statement, different SQL never does (even when it is
 * built in the same buffer, as hub/store.c builds a query per record type),
 * a statement handed back is ready for the next use, and bad SQL fails
 * without spoiling the cache. And the scaffolding the two stores share:
 * meta text, the change log's heads and hashes, creating and opening a
 * store database with the messages that say what a file is not.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

START_TEST(meta_text_values)
{
    sqlite3 *db = open_db();
    gs_stmts *cache = NULL;
    char buf[8];
    gs_meta_text(&cache, db, "hub_endpoint", buf, sizeof buf);
    ck_assert_str_eq(buf, ""); /* absent */
    ck_assert_int_eq(gs_meta_set_text(&cache, db, "name", "王庄"), SQLITE_OK);
    gs_meta_text(&cache, db, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "王庄");
    ck_assert_int_eq(gs_meta_set_text(&cache, db, "name", "abcdefghij"), SQLITE_OK);
    gs_meta_text(&cache, db, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "abcdefg"); /* cut to the buffer, terminated */
    gs_stmts_free(&cache);
    sqlite3_close(db);
}
END_TEST

/* The change log both stores keep: a head and a hash by origin and seq. */
START_TEST(log_head_and_hash)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE changes (origin TEXT, seq INTEGER, hash BLOB, "
                                  "PRIMARY KEY (origin, seq));"
                                  "INSERT INTO changes VALUES ('n1', 1, zeroblob(32));"
                                  "INSERT INTO changes VALUES ('n1', 2, randomblob(32));"
                                  "INSERT INTO changes VALUES ('n1', 3, x'01');"
                                  "INSERT INTO changes VALUES ('n2', 1, randomblob(32));",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    gs_stmts *cache = NULL;
    gs_errbuf eb = {{0}};
    uint64_t seq = 99;
    uint8_t h[GS_HASH_LEN], h2[GS_HASH_LEN], zero[GS_HASH_LEN] = {0};
    ck_assert_int_eq(gs_log_head(&cache, db, "n1", &seq, h, "head", &eb), GS_OK);
    ck_assert_int_eq(seq, 3); /* the last seq; its damaged hash reads as zeros */
    ck_assert_int_eq(memcmp(h, zero, GS_HASH_LEN), 0);
    ck_assert_int_eq(gs_log_head(&cache, db, "none", &seq, h, "head", &eb), GS_OK);
    ck_assert_int_eq(seq, 0);
    ck_assert_int_eq(gs_log_hash_at(&cache, db, "n1", 2, h, "hash", &eb), GS_OK);
    ck_assert_int_eq(gs_log_head(&cache, db, "n2", &seq, h2, "head", &eb), GS_OK);
    ck_assert_int_ne(memcmp(h, h2, GS_HASH_LEN), 0);
    ck_assert_int_eq(gs_log_hash_at(&cache, db, "n1", 3, h, "hash", &eb), GS_ENOTFOUND);
    ck_assert_int_eq(gs_log_hash_at(&cache, db, "n1", 4, h, "hash", NULL), GS_ENOTFOUND);
    gs_stmts_free(&cache);
    /* no such table: the error names what was being read */
    ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE changes", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(gs_log_head(&cache, db, "n1", &seq, h, "reading the chain head", &eb),
                     GS_ESQL);
    ck_assert_ptr_nonnull(strstr(eb.msg, "reading the chain head: no such table"));
    gs_stmts_free(&cache);
    sqlite3_close(db);
}
END_TEST

/* Two kinds of store, worded as gridnode and gridhub word them. */
static const gs_store_kind kind_a = {
    .app = "gridsync-a",
    .name = "a",
    .other_app = "gridsync-b",
    .other_name = "b",
    .program = "prog-a",
    .missing_hint = " or pass --db",
    .version_name = "database",
    .upgrade_hint = true,
    .version = 2,
    .pragmas = "PRAGMA journal_mode=WAL;",
    .pragmas_what = "configuring the database",
    .ddl = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
    .meta_what = "writing the identity",
};
static const gs_store_kind kind_b = {
    .app = "gridsync-b",
    .name = "b",
    .other_app = "gridsync-a",
    .other_name = "a",
    .program = "prog-b",
    .missing_hint = "",
    .version_name = "b",
    .upgrade_hint = false,
    .version = 1,
    .pragmas = "PRAGMA journal_mode=WAL;",
    .ddl = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;",
    .meta_what = "writing meta",
};

/* Opening a store database checks what it is and says what it is not. */
START_TEST(store_create_and_open)
{
    char *dir = gst_tmpdir(), path[4096], other[4096];
    snprintf(path, sizeof path, "%s/a.db", dir);
    snprintf(other, sizeof other, "%s/b.db", dir);
    sqlite3 *db = NULL;
    gs_stmts *cache = NULL;
    gs_errbuf eb = {{0}};
    int version = 0;
    ck_assert_int_eq(gs_store_open_db(&kind_a, path, &db, &cache, &version, &eb), GS_ENOTFOUND);
    ck_assert_ptr_null(db);
    ck_assert_msg(strstr(eb.msg, "a.db: no a database here; run `prog-a init` first or pass --db"),
                  "%s", eb.msg);

    const char *const meta[][2] = {{"node_id", "n1"}, {"village", "411122101201"}};
    ck_assert_int_eq(gst_write_file(path, "", 0), 0);
    ck_assert_int_eq(gs_store_create_db(&kind_a, path, meta, 2, &eb), GS_OK);
    ck_assert_int_eq(gs_store_open_db(&kind_a, path, &db, &cache, &version, &eb), GS_OK);
    ck_assert_int_eq(version, 2);
    char buf[32];
    gs_meta_text(&cache, db, "village", buf, sizeof buf);
    ck_assert_str_eq(buf, "411122101201");
    gs_meta_text(&cache, db, GS_META_APP, buf, sizeof buf);
    ck_assert_str_eq(buf, "gridsync-a");
    /* the entity tables are made too */
    ck_assert_int_eq(sqlite3_exec(db, "SELECT count(*) FROM incidents", NULL, NULL, NULL),
                     SQLITE_OK);
    /* a newer schema than the program knows */
    ck_assert_int_eq(gs_meta_set_text(&cache, db, GS_META_SCHEMA_VERSION, "3"), SQLITE_OK);
    gs_stmts_free(&cache);
    sqlite3_close(db);
    ck_assert_int_eq(gs_store_open_db(&kind_a, path, &db, &cache, &version, &eb), GS_EVERSION);
    ck_assert_ptr_null(db);
    ck_assert_ptr_null(cache);
    ck_assert_msg(strstr(eb.msg, "a.db: database schema version 3, this prog-a understands 2; "
                                 "upgrade prog-a"),
                  "%s", eb.msg);
    /* the other kind's database, named as such */
    ck_assert_int_eq(gs_store_open_db(&kind_b, path, &db, &cache, &version, &eb), GS_EVERSION);
    ck_assert_msg(strstr(eb.msg, "a.db: not a gridsync b database (it is a a database)"), "%s",
                  eb.msg);
    ck_assert_int_eq(gst_write_file(other, "", 0), 0);
    ck_assert_int_eq(gs_store_create_db(&kind_b, other, NULL, 0, &eb), GS_OK);
    ck_assert_int_eq(gs_store_open_db(&kind_b, other, &db, &cache, &version, &eb), GS_OK);
    ck_assert_int_eq(version, 1);
    ck_assert_int_eq(gs_meta_set_text(&cache, db, GS_META_SCHEMA_VERSION, "7"), SQLITE_OK);
    gs_stmts_free(&cache);
    sqlite3_close(db);
    ck_assert_int_eq(gs_store_open_db(&kind_b, other, &db, &cache, &version, &eb), GS_EVERSION);
    ck_assert_msg(strstr(eb.msg, "b.db: b schema version 7, this prog-b understands 1") &&
                      !strstr(eb.msg, "upgrade"),
                  "%s", eb.msg);
    /* not a database at all */
    static const char junk[] = "not an SQLite file: no header, only these words, and more of them";
    ck_assert_int_eq(gst_write_file(other, junk, sizeof junk - 1), 0);
    ck_assert_int_ne(gs_store_open_db(&kind_b, other, &db, &cache, &version, &eb), GS_OK);
    ck_assert_ptr_null(db);
    ck_assert_msg(strstr(eb.msg, "b.db: not a gridsync b database"), "%s", eb.msg);
    /* a create that fails removes the file */
    static const gs_store_kind bad = {.app = "x",
                                      .version = 1,
                                      .pragmas = "PRAGMA x=1;",
                                      .ddl = "CREATE TABLE (",
                                      .meta_what = "meta"};
    snprintf(other, sizeof other, "%s/bad.db", dir);
    ck_assert_int_eq(gst_write_file(other, "", 0), 0);
    ck_assert_int_eq(gs_store_create_db(&bad, other, NULL, 0, &eb), GS_ESQL);
    ck_assert_int_ne(access(other, F_OK), 0);
    gst_rmrf(dir);
    free(dir);
}
END_TEST

/* One value of sql (an integer, or -1 for NULL) on db. */
static int one_value(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* gs_has_text, on every configured connection, finds what instr finds:
 * the text in any of the fields, NULL ones never; checked against instr
 * for every pair of a set of Chinese, ASCII, empty and NULL values. */
START_TEST(has_text_is_instr_over_fields)
{
    sqlite3 *db = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    ck_assert_int_eq(gs_db_configure(db, "PRAGMA cache_size = -100", NULL, &eb), GS_OK);
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('漏水', NULL, '楼道漏水')"), 1);
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('漏水', '楼道', '水漏')"), 0);
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text(NULL, 'a')"), -1);
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('aab', 'aaab')"), 1); /* after a miss */
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('abc', 'ab')"), 0);   /* past the end */
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('', NULL)"), 0);
    ck_assert_int_eq(one_value(db, "SELECT gs_has_text('', '')"), 1);

    static const char *const v[] = {NULL,  "",     "漏水",   "楼道漏水", "漏", "水漏",  "a",
                                    "aab", "aaab", "abc",    "ab",       "A",  "x漏水y", "张三"};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            for (size_t k = 0; k < n; k++) {
                sqlite3_stmt *st = NULL;
                ck_assert_int_eq(
                    sqlite3_prepare_v2(db,
                                       "SELECT gs_has_text(?1, ?2, ?3), "
                                       "coalesce(instr(?2, ?1) > 0, 0) OR "
                                       "coalesce(instr(?3, ?1) > 0, 0)",
                                       -1, &st, NULL),
                    SQLITE_OK);
                const char *args[3] = {v[i], v[j], v[k]};
                for (int a = 0; a < 3; a++)
                    if (args[a])
                        sqlite3_bind_text(st, a + 1, args[a], -1, SQLITE_STATIC);
                ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
                if (v[i])
                    ck_assert_msg(sqlite3_column_int(st, 0) == sqlite3_column_int(st, 1),
                                  "gs_has_text('%s', '%s', '%s') = %d, instr says %d", v[i],
                                  v[j] ? v[j] : "NULL", v[k] ? v[k] : "NULL",
                                  sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
                else
                    ck_assert_int_eq(sqlite3_column_type(st, 0), SQLITE_NULL);
                sqlite3_finalize(st);
            }
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
    tcase_add_test(tc, meta_text_values);
    tcase_add_test(tc, log_head_and_hash);
    tcase_add_test(tc, store_create_and_open);
    tcase_add_test(tc, has_text_is_instr_over_fields);
    suite_add_tcase(s, tc);
    return gst_run_suite(s);
}
