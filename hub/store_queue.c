/*
 * store_queue.c: the incident queue's copy (see store.h, hub_queue).
 *
 * The city's queue counts and pages every live incident in its deadline
 * order. The hub's incidents table is wide (each row carries its field
 * clocks, some 300 bytes of the 430), and an index in the queue's order on
 * it would cost `gridhub serve` an index update at a random place for
 * every incident change it applies (measured: 60-100% more hub CPU per
 * sync). So the queue reads a copy instead, kept by `gridhub web` alone:
 *
 *   - a temporary database of its own (SQLite's "" file: on disk under
 *     $TMPDIR, removed when closed; a small page cache, the rest left to
 *     the kernel), holding the incidents table of the hub's shape (the
 *     core's DDL: so gs_find_list reads it as it reads the hub) with only
 *     the live rows and no clocks, an index in the queue's order covering
 *     every column the queue's filters test, and one on the village;
 *   - the hub's database attached read-only, as "hub";
 *   - a mark: the hub_seq the copy is current through, and the log hash at
 *     it (store.c: it stands for the whole log up to there).
 *
 * hub_queue_update brings the copy up to the hub's log in one transaction,
 * so it reads one snapshot of the hub: the incidents the log names after
 * the mark are deleted from the copy and copied again if live. Every
 * change to an incident row is a change in the log (the store appends it
 * in the transaction that applies it; derived values are written by that
 * same apply), so nothing is missed. When the log at the mark is not what
 * it was (a hub restored from an older backup) or the copy is new, the
 * copy is made again from the whole table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/stmt.h"
#include "store.h"

/* The copy's page cache; the attached hub's. The copy's file is read
 * through the kernel's cache: the process's memory stays small. */
#define QUEUE_CACHE_KIB 2048
#define QUEUE_HUB_CACHE_KIB 2048

struct hub_queue {
    char *hub_path;
    sqlite3 *db; /* NULL after a failure: a new copy is made at the next update */
    bool built;
    int64_t mark;                   /* the copy holds the log through this hub_seq */
    uint8_t mark_hash[GS_HASH_LEN]; /* the log hash at mark (zeros at 0) */
    int64_t rows;                   /* live incidents in the copy when it was made */
};

static const gs_rectype *incidents(void)
{
    return gs_rectype_get(GS_RT_INCIDENT);
}

/* A new copy: an empty temporary database with the hub's attached. Its
 * writes are not journaled: an update that fails leaves it to be dropped
 * (hub_queue_update makes a new one). */
static int open_copy(hub_queue *q, gs_errbuf *eb)
{
    sqlite3_close(q->db);
    q->db = NULL;
    q->built = false;
    int rc = GS_OK;
    if (sqlite3_open_v2("", &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK)
        rc = gs_sql_err(q->db, eb, "opening the queue's copy");
    char pragmas[200];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA cache_size = -%d; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF",
             QUEUE_CACHE_KIB);
    if (!rc)
        rc = gs_db_configure(q->db, pragmas, "the queue's copy", eb);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(q->db, "ATTACH ?1 AS hub", -1, &st, NULL) != SQLITE_OK)
        rc = gs_sql_err(q->db, eb, "attaching the hub's database");
    if (!rc) {
        /* a URI names the file, read-only: the path's own ?, # and % escaped */
        gs_buf uri = GS_BUF_INIT;
        gs_buf_puts(&uri, "file:");
        for (const char *p = q->hub_path; *p; p++)
            if (*p == '?' || *p == '#' || *p == '%')
                gs_buf_printf(&uri, "%%%02X", (unsigned char)*p);
            else
                gs_buf_putc(&uri, *p);
        gs_buf_puts(&uri, "?mode=ro");
        if (uri.err)
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else {
            sqlite3_bind_text(st, 1, uri.data, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = gs_errf(eb, GS_EIO, "%s: %s", q->hub_path, sqlite3_errmsg(q->db));
        }
        gs_buf_free(&uri);
    }
    sqlite3_finalize(st);
    if (!rc) {
        snprintf(pragmas, sizeof pragmas, "PRAGMA hub.cache_size = -%d", QUEUE_HUB_CACHE_KIB);
        rc = gs_db_exec(q->db, pragmas, eb);
    }
    if (rc) {
        sqlite3_close(q->db);
        q->db = NULL;
    }
    return rc;
}

int hub_queue_open(const char *hub_path, hub_queue **out, gs_errbuf *eb)
{
    *out = NULL;
    hub_queue *q = calloc(1, sizeof *q);
    if (!q || !(q->hub_path = strdup(hub_path))) {
        free(q);
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    }
    int rc = open_copy(q, eb);
    if (rc) {
        hub_queue_close(&q);
        return rc;
    }
    *out = q;
    return GS_OK;
}

void hub_queue_close(hub_queue **qp)
{
    hub_queue *q = *qp;
    if (!q)
        return;
    sqlite3_close(q->db);
    free(q->hub_path);
    free(q);
    *qp = NULL;
}

/* The head of the hub's log: its last hub_seq and log hash (0 and zeros
 * for an empty log). */
static int log_head(sqlite3 *db, int64_t *seq, uint8_t hash[GS_HASH_LEN], gs_errbuf *eb)
{
    *seq = 0;
    memset(hash, 0, GS_HASH_LEN);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT hub_seq, log_hash FROM hub.changes ORDER BY hub_seq DESC "
                           "LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return gs_sql_err(db, eb, "reading the hub's change log");
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == GS_HASH_LEN)
            memcpy(hash, sqlite3_column_blob(st, 1), GS_HASH_LEN);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE
               ? GS_OK
               : gs_sql_err(db, eb, "reading the hub's change log");
}

/* True when the hub's log still holds, at the mark, what it held when the
 * copy was brought to it. */
static bool mark_holds(hub_queue *q)
{
    if (q->mark == 0)
        return true;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, "SELECT log_hash FROM hub.changes WHERE hub_seq = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int64(st, 1, q->mark);
    bool same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == GS_HASH_LEN &&
                !memcmp(sqlite3_column_blob(st, 0), q->mark_hash, GS_HASH_LEN);
    sqlite3_finalize(st);
    return same;
}

/* "INSERT INTO incidents (COLUMNS, _deleted) SELECT COLUMNS, 0 FROM
 * hub.incidents WHERE _deleted = 0", then what follows. */
static void copy_rows_sql(gs_buf *sql, const char *more)
{
    const gs_rectype *rt = incidents();
    gs_buf_printf(sql, "INSERT INTO %s (", rt->plural);
    gs_replica_columns(rt, sql);
    gs_buf_puts(sql, ", _deleted) SELECT ");
    gs_replica_columns(rt, sql);
    gs_buf_printf(sql, ", 0 FROM hub.%s WHERE _deleted = 0%s", rt->plural, more);
}

/* Makes the copy again from the whole table. */
static int build(hub_queue *q, gs_errbuf *eb)
{
    const gs_rectype *rt = incidents();
    gs_buf sql = GS_BUF_INIT;
    /* the table as the core makes it (its first statement only: the
     * indexes come after the rows, which is faster than keeping them) */
    gs_buf ddl = GS_BUF_INIT;
    gs_schema_ddl(rt, &ddl);
    const char *end = ddl.data ? strstr(ddl.data, ";\n") : NULL;
    if (end)
        gs_buf_printf(&sql, "%.*s; ", (int)(end - ddl.data), ddl.data);
    gs_buf_free(&ddl);
    copy_rows_sql(&sql, "; ");
    /* the queue's order, then every column its filters and count test */
    gs_buf_printf(&sql, "CREATE INDEX %s_queue ON %s (", rt->plural, rt->plural);
    gs_find_queue_order(rt, &sql);
    const gs_field *f = rt->fields;
    gs_buf_printf(&sql, ", _deleted, %s, %s, %s, %s); ", f[GS_INCIDENT_STATUS].name,
                  f[rt->scope].name, f[GS_INCIDENT_CATEGORY].name, f[GS_INCIDENT_ASSIGNEE].name);
    gs_buf_printf(&sql, "CREATE INDEX %s_village ON %s (%s);", rt->plural, rt->plural,
                  f[rt->scope].name);
    int rc = !end || sql.err ? gs_errf(eb, GS_ENOMEM, "out of memory")
                             : gs_db_exec(q->db, sql.data, eb);
    gs_buf_free(&sql);
    return rc;
}

/* Deletes from the copy the incidents the log names in (mark, head] and
 * copies again those of them that are live. */
static int catch_up(hub_queue *q, int64_t head, gs_errbuf *eb)
{
    const gs_rectype *rt = incidents();
    gs_buf changed = GS_BUF_INIT, sql = GS_BUF_INIT;
    /* the log's range by its key: "+rtype" keeps SQLite off the index on
     * (rtype, rid), which would walk every incident change ever logged */
    gs_buf_printf(&changed,
                  " AND %s IN (SELECT rid FROM hub.changes WHERE hub_seq > ?1 AND hub_seq <= ?2 "
                  "AND +rtype = '%s')",
                  rt->fields[rt->key].name, rt->name);
    gs_buf_printf(&sql, "DELETE FROM main.%s WHERE 1%s", rt->plural,
                  changed.data ? changed.data : "");
    int rc = GS_OK;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        if (pass == 1) {
            gs_buf_reset(&sql);
            copy_rows_sql(&sql, changed.data ? changed.data : "");
        }
        sqlite3_stmt *st = NULL;
        if (changed.err || sql.err)
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else if (sqlite3_prepare_v2(q->db, sql.data, -1, &st, NULL) != SQLITE_OK)
            rc = gs_sql_err(q->db, eb, "bringing the queue's copy up to date");
        else {
            sqlite3_bind_int64(st, 1, q->mark);
            sqlite3_bind_int64(st, 2, head);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = gs_sql_err(q->db, eb, "bringing the queue's copy up to date");
        }
        sqlite3_finalize(st);
    }
    gs_buf_free(&changed);
    gs_buf_free(&sql);
    return rc;
}

static int count_rows(hub_queue *q, gs_errbuf *eb)
{
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM main.%s", incidents()->plural);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return gs_sql_err(q->db, eb, "counting the queue's copy");
    int rc = sqlite3_step(st) == SQLITE_ROW ? GS_OK
                                            : gs_sql_err(q->db, eb, "counting the queue's copy");
    q->rows = rc ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int hub_queue_update(hub_queue *q, bool *rebuilt, gs_errbuf *eb)
{
    if (rebuilt)
        *rebuilt = false;
    int rc = q->db ? GS_OK : open_copy(q, eb);
    /* one transaction: the hub is read at one snapshot throughout */
    if (!rc)
        rc = gs_db_exec(q->db, "BEGIN", eb);
    int64_t head = 0;
    uint8_t head_hash[GS_HASH_LEN];
    if (!rc)
        rc = log_head(q->db, &head, head_hash, eb);
    bool rebuild = !q->built || head < q->mark || !mark_holds(q);
    if (!rc && rebuild && q->built) {
        /* a new copy, not this one emptied */
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        rc = open_copy(q, eb);
        if (!rc)
            rc = gs_db_exec(q->db, "BEGIN", eb);
        if (!rc)
            rc = log_head(q->db, &head, head_hash, eb);
    }
    if (!rc && rebuild)
        rc = build(q, eb);
    else if (!rc && head > q->mark)
        rc = catch_up(q, head, eb);
    if (!rc && rebuild)
        rc = count_rows(q, eb);
    if (!rc)
        rc = gs_db_exec(q->db, "COMMIT", eb);
    if (rc) {
        /* unjournaled: what it holds now is not to be trusted; a new copy
         * is made from the whole table next time */
        if (q->db)
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(q->db);
        q->db = NULL;
        q->built = false;
        return rc;
    }
    if (rebuilt)
        *rebuilt = rebuild;
    q->built = true;
    q->mark = head;
    memcpy(q->mark_hash, head_hash, GS_HASH_LEN);
    return GS_OK;
}

int64_t hub_queue_rows(const hub_queue *q)
{
    return q->rows;
}

int hub_queue_list(hub_queue *q, const gs_find_filter *f, gs_find_each each, void *arg,
                   gs_errbuf *eb)
{
    if (!q->db || !q->built)
        return gs_errf(eb, GS_ESQL, "the queue's copy is not made");
    return gs_find_list(q->db, incidents(), f, each, arg, eb);
}
