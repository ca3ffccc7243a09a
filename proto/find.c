/*
 * find.c: finding a record again (find.h): the filters of `TYPE list`,
 * ids by unique prefix, a record's history, and writing lists of records
 * through the record sheet (sheet_record.c), one renderer per format.
 *
 * One copy for both programs: the node and the hub hold the same entity
 * tables (replica.c makes them from the field tables) and the same columns
 * of `changes`, so the SQL is written once here and each store calls it.
 * The SQL text is built only from the field tables (trusted names); every
 * value a user gave is a bound parameter.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gridsync/find.h"
#include "gridsync/replica.h"
#include "gridsync/rules.h"
#include "gridsync/schema.h"
#include "gridsync/sheet.h"
#include "gridsync/table.h"

int gs_find_date_field(const gs_rectype *rt)
{
    for (int i = 0; i < rt->nfields; i++)
        if ((rt->fields[i].type == GS_FT_DATE || rt->fields[i].type == GS_FT_DATETIME) &&
            !(rt->fields[i].flags & GS_F_COMPUTED))
            return i;
    return -1;
}

/* The values bound to a query, in order, and how each is bound. */
typedef struct binds {
    const char *v[48];
    int n;
    char upper[3][14]; /* the ends of the areas' ranges (filter_area) */
    int nupper;
} binds;

/* The field of rt that an incident filter reads (f, a GS_INCIDENT_*
 * constant); -1 for every other type: only incidents have a status, a
 * category and a grid. */
static int incident_field(const gs_rectype *rt, int f)
{
    return rt->id == GS_RT_INCIDENT ? f : -1;
}

/* Adds "AND <cond>" for one filter: checks that rt has the field (f >= 0;
 * what names it when not), parses the value with the field's own parser into
 * canonical text (kept in *rec), and appends cond with %1$s the column and ?
 * the value. */
static int filter_on(const gs_rectype *rt, gs_record *rec, const char *opt, int f,
                     const char *what, const char *value, const char *cond, int nparams,
                     gs_buf *sql, binds *b, gs_errbuf *eb)
{
    if (!value)
        return GS_OK;
    if (f < 0)
        return gs_errf(eb, GS_EINVAL, "%s: %s (%s) 没有这一项 (has no %s)", opt, rt->label_zh,
                       rt->name, what);
    gs_errbuf pe = {{0}};
    if (!*value || gs_record_parse(rec, f, value, &pe) || !gs_record_str(rec, f))
        return gs_errf(eb, GS_EINVAL, "%s \"%s\": %s", opt, value,
                       pe.msg[0] ? pe.msg : "a value is needed");
    gs_buf_puts(sql, " AND ");
    gs_buf_printf(sql, cond, rt->fields[f].name);
    for (int i = 0; i < nparams; i++)
        b->v[b->n++] = gs_record_str(rec, f);
    return GS_OK;
}

/* Appends the date range and the text search (values bound as given: the
 * dates are canonical already, the text is any text). */
static int filter_range_text(const gs_rectype *rt, const gs_find_filter *f, gs_buf *sql, binds *b,
                             gs_errbuf *eb)
{
    int d = gs_find_date_field(rt);
    if ((f->since || f->until) && d < 0)
        return gs_errf(eb, GS_EINVAL, "%s: %s (%s) 没有日期 (has no date)",
                       f->since ? "--since" : "--until", rt->label_zh, rt->name);
    /* a date-time's first ten characters are its day (canonical values) */
    if (f->since) {
        gs_buf_printf(sql, " AND substr(%s, 1, 10) >= ?", rt->fields[d].name);
        b->v[b->n++] = f->since;
    }
    if (f->until) {
        gs_buf_printf(sql, " AND substr(%s, 1, 10) <= ?", rt->fields[d].name);
        b->v[b->n++] = f->until;
    }
    if (!f->text)
        return GS_OK;
    /* in any text field: gs_has_text (stmt.c, on every store connection),
     * one call a row */
    int ntext = 0;
    for (int i = 0; i < rt->nfields; i++)
        if (rt->fields[i].type == GS_FT_TEXT && !(rt->fields[i].flags & GS_F_COMPUTED))
            gs_buf_printf(sql, "%s%s", ntext++ ? ", " : " AND gs_has_text(?, ",
                          rt->fields[i].name);
    if (ntext)
        b->v[b->n++] = f->text;
    gs_buf_puts(sql, ntext ? ")" : " AND 0");
    return GS_OK;
}

int gs_find_day(const char *opt, const char *text, char day[11], gs_errbuf *eb)
{
    /* a GS_FT_DATE field: its parser is the one entry uses */
    const gs_rectype *rt = gs_rectype_get(GS_RT_ELECTION);
    int f = GS_ELECTION_ELECTION_DATE;
    gs_record *r = gs_record_new(rt);
    if (!r)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    int rc = GS_OK;
    if (!*text || gs_record_parse(r, f, text, NULL) || !gs_record_str(r, f))
        rc = gs_errf(eb, GS_EINVAL,
                     "%s \"%.60s\": expected a date like 2026-11-28, 2026/11/28 or 2026年11月28日",
                     opt, text);
    else
        snprintf(day, 11, "%s", gs_record_str(r, f));
    gs_record_destroy(&r);
    return rc;
}

void gs_find_today(char out[11])
{
    int64_t days = gs_floor_div((int64_t)time(NULL) + 8 * 3600, 86400); /* China time */
    gs_date_from_days(days, out);
}

/* The incident's closed states (gs_status_is_closed), as SQL list text of
 * trusted names: 'closed','evaluated','rejected'. */
static void closed_states(gs_buf *sql)
{
    bool any = false;
    for (int s = 0; s < GS_ST__COUNT; s++)
        if (gs_status_is_closed((gs_status)s)) {
            gs_buf_printf(sql, "%s'%s'", any ? "," : "", gs_status_names[s]);
            any = true;
        }
}

/* Appends the condition "overdue" of an incident: a deadline before today
 * (bound) and a state that is not closed. */
static void overdue_cond(gs_buf *sql, binds *b, const char *today)
{
    const gs_field *fs = gs_rectype_get(GS_RT_INCIDENT)->fields;
    gs_buf_printf(sql, "(%1$s IS NOT NULL AND %1$s < ? AND %2$s NOT IN (",
                  fs[GS_INCIDENT_DEADLINE].name, fs[GS_INCIDENT_STATUS].name);
    closed_states(sql);
    gs_buf_puts(sql, "))");
    b->v[b->n++] = today;
}

bool gs_find_days_left(const gs_record *r, const char *today, int64_t *days)
{
    if (r->rt->id != GS_RT_INCIDENT)
        return false;
    const char *deadline = gs_record_str(r, GS_INCIDENT_DEADLINE);
    const char *status = gs_record_str(r, GS_INCIDENT_STATUS);
    for (int s = 0; status && s < GS_ST__COUNT; s++)
        if (!strcmp(status, gs_status_names[s]) && gs_status_is_closed((gs_status)s))
            return false;
    char now[11];
    if (!today) {
        gs_find_today(now);
        today = now;
    }
    int64_t d, t;
    if (!deadline || !gs_date_days(deadline, &d) || !gs_date_days(today, &t))
        return false;
    *days = d - t;
    return true;
}

/* Adds "AND village in the area": the village codes that start with code,
 * as a range of the village column (codes are digits: code up to code
 * followed by ':', the character after '9'). code must have one of the
 * lengths in digits (up to 3 of them, 0-ended) and be digits only. */
static int filter_area(const gs_rectype *rt, const char *opt, const char *code, const int *lengths,
                       const char *what, gs_buf *sql, binds *b, gs_errbuf *eb)
{
    if (!code)
        return GS_OK;
    if (rt->scope < 0)
        return gs_errf(eb, GS_EINVAL, "%s: %s (%s) 不属于村 (is not village data)", opt,
                       rt->label_zh, rt->name);
    size_t n = strlen(code);
    bool ok = n > 0 || lengths[0] == 0;
    for (size_t i = 0; i < n && ok; i++)
        ok = code[i] >= '0' && code[i] <= '9';
    bool len_ok = false;
    for (int i = 0; lengths[i] >= 0; i++)
        len_ok |= n == (size_t)lengths[i];
    if (!ok || !len_ok)
        return gs_errf(eb, GS_EINVAL, "%s \"%.40s\": %s", opt, code, what);
    if (!n || b->nupper >= 3)
        return GS_OK; /* "": every village */
    char *up = b->upper[b->nupper++];
    snprintf(up, sizeof b->upper[0], "%s:", code);
    gs_buf_printf(sql, " AND %1$s >= ? AND %1$s < ?", rt->fields[rt->scope].name);
    b->v[b->n++] = code;
    b->v[b->n++] = up;
    return GS_OK;
}

/* Appends the WHERE conditions of f (after "WHERE _deleted = 0"), with the
 * values to bind in b (canonical ones kept in vals). */
static int where_of(const gs_rectype *rt, const gs_find_filter *f, gs_record *vals,
                    const char *today, gs_buf *sql, binds *b, gs_errbuf *eb)
{
    int rc = filter_on(rt, vals, "--status", incident_field(rt, GS_INCIDENT_STATUS), "status",
                       f->status, "%s = ?", 1, sql, b, eb);
    if (!rc)
        /* the range first: the same records, but an index can find them */
        rc = filter_on(rt, vals, "--category", incident_field(rt, GS_INCIDENT_CATEGORY),
                       "category", f->category,
                       "%1$s >= ? AND %1$s < ? || '/' AND "
                       "(%1$s = ? OR substr(%1$s, 1, length(?) + 1) = ? || '.')",
                       5, sql, b, eb);
    if (!rc)
        rc = filter_on(rt, vals, "--grid", incident_field(rt, GS_INCIDENT_GRID_CODE), "grid_code",
                       f->grid, "%s = ?", 1, sql, b, eb);
    if (!rc)
        rc = filter_on(rt, vals, "--reporter", incident_field(rt, GS_INCIDENT_REPORTER),
                       "reporter", f->reporter, "%s = ?", 1, sql, b, eb);
    if (!rc && rt->scope < 0 && f->village)
        rc = gs_errf(eb, GS_EINVAL, "--village: %s (%s) 不属于村 (is not village data)",
                     rt->label_zh, rt->name);
    if (!rc)
        rc = filter_on(rt, vals, "--village", rt->scope, "village", f->village, "%s = ?", 1, sql,
                       b, eb);
    if (!rc)
        rc = filter_on(rt, vals, "--assignee", incident_field(rt, GS_INCIDENT_ASSIGNEE), "assignee",
                       f->assignee, "%s = ?", 1, sql, b, eb);
    static const int county_len[] = {6, -1}, township_len[] = {9, -1},
                     within_len[] = {0, 6, 9, 12, -1};
    if (!rc)
        rc = filter_area(rt, "--county", f->county, county_len,
                         "县区编码是 6 位数字 (a county's code is 6 digits)", sql, b, eb);
    if (!rc)
        rc = filter_area(rt, "--township", f->township, township_len,
                         "乡镇编码是 9 位数字 (a township's code is 9 digits)", sql, b, eb);
    if (!rc)
        rc = filter_area(rt, "--within", f->within, within_len,
                         "区划编码是 6、9 或 12 位数字 (a division's code is 6, 9 or 12 digits)",
                         sql, b, eb);
    if (!rc && f->overdue) {
        if (rt->id != GS_RT_INCIDENT)
            return gs_errf(eb, GS_EINVAL, "--overdue: %s (%s) 没有处置期限 (has no deadline)",
                           rt->label_zh, rt->name);
        gs_buf_puts(sql, " AND ");
        overdue_cond(sql, b, today);
    }
    if (!rc)
        rc = filter_range_text(rt, f, sql, b, eb);
    return rc;
}

bool gs_find_queue_order(const gs_rectype *rt, gs_buf *sql)
{
    int d = gs_find_date_field(rt);
    if (rt->id != GS_RT_INCIDENT || d < 0)
        return false;
    gs_buf_putc(sql, '(');
    bool any = false;
    for (int st = 0; st < GS_ST__COUNT; st++)
        if (gs_status_is_closed((gs_status)st)) {
            gs_buf_printf(sql, "%sstatus = '%s'", any ? " OR " : "", gs_status_names[st]);
            any = true;
        }
    gs_buf_printf(sql, "), (deadline IS NULL), deadline, %s DESC, %s DESC", rt->fields[d].name,
                  rt->fields[rt->key].name);
    return true;
}

/* Binds b's values to st from parameter from + 1 on. */
static void bind_all(sqlite3_stmt *st, const binds *b, int from)
{
    for (int i = 0; i < b->n; i++)
        sqlite3_bind_text(st, from + i + 1, b->v[i], -1, SQLITE_STATIC);
}

/* "_deleted = 0" starts every query's WHERE. A filter that only the rows
 * can answer (a text search, the reporter), with none an index serves,
 * gets "+_deleted = 0" instead: SQLite would otherwise walk an index that
 * holds _deleted (the node's incident indexes) and fetch every row by its
 * key, several times slower than reading the table in order. */
static const char *live_cond(const gs_find_filter *f)
{
    bool rows_only = f->text || f->reporter;
    bool indexed = f->status || f->category || f->grid || f->village || f->overdue;
    return rows_only && !indexed ? "+_deleted = 0" : "_deleted = 0";
}

/* Counts the records that pass: *total. */
static int count_where(sqlite3 *db, const gs_rectype *rt, const char *live, const char *where,
                       const binds *b, int64_t *total, gs_errbuf *eb)
{
    gs_buf sql = GS_BUF_INIT;
    gs_buf_printf(&sql, "SELECT count(*) FROM %s WHERE %s%s", rt->plural, live, where);
    sqlite3_stmt *st = NULL;
    int rc = GS_OK;
    if (sql.err || sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = gs_errf(eb, GS_ESQL, "counting %s: %s", rt->plural, sqlite3_errmsg(db));
    else {
        bind_all(st, b, 0);
        if (sqlite3_step(st) != SQLITE_ROW)
            rc = gs_errf(eb, GS_ESQL, "counting %s: %s", rt->plural, sqlite3_errmsg(db));
        else
            *total = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    gs_buf_free(&sql);
    return rc;
}

/* Calls each for the records that pass where (with b's values) in order,
 * limit of them after offset (limit 0: all); *rows gets how many. A page
 * takes its keys first (from an index covering the filter and the order,
 * where there is one), then reads only their rows. */
static int list_rows(sqlite3 *db, const gs_rectype *rt, const char *live, const char *where,
                     const binds *b, const char *order, int64_t limit, int64_t offset,
                     gs_find_each each, void *arg, int64_t *rows, gs_errbuf *eb)
{
    const char *key = rt->fields[rt->key].name;
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    if (limit > 0)
        gs_buf_printf(&sql,
                      " FROM %1$s WHERE %2$s IN (SELECT %2$s FROM %1$s WHERE %7$s%3$s "
                      "ORDER BY %4$s LIMIT %5$lld OFFSET %6$lld) ORDER BY %4$s",
                      rt->plural, key, where, order, (long long)limit,
                      (long long)(offset > 0 ? offset : 0), live);
    else
        gs_buf_printf(&sql, " FROM %s WHERE %s%s ORDER BY %s", rt->plural, live, where, order);
    sqlite3_stmt *st = NULL;
    int rc = GS_OK, step = SQLITE_DONE;
    if (sql.err || sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = gs_errf(eb, GS_ESQL, "listing %s: %s", rt->plural, sqlite3_errmsg(db));
    else
        bind_all(st, b, 0);
    *rows = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        gs_record *r = NULL;
        if (gs_replica_row(st, 0, rt, &r))
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else
            rc = each(r, arg);
        gs_record_destroy(&r);
        ++*rows;
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_errf(eb, GS_ESQL, "listing %s: %s", rt->plural, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    gs_buf_free(&sql);
    return rc;
}

/* A text search, which must read every row anyway (no index holds the
 * texts): one pass takes the keys of the page in order and how many pass
 * in all (*total, when not NULL), then each of the page's rows is read by
 * its key. order: the keys of the order (the queue's), or NULL for the
 * urgent one (overdue first, then newest). */
static int list_searched(sqlite3 *db, const gs_rectype *rt, const char *where, const binds *b,
                         const char *today, const char *live, const char *order, int64_t limit,
                         int64_t offset, int64_t *total, gs_find_each each, void *arg,
                         gs_errbuf *eb)
{
    const char *key = rt->fields[rt->key].name;
    int d = gs_find_date_field(rt);
    binds kb = {{NULL}, 0}; /* the overdue condition's day comes first in the SQL */
    gs_buf sql = GS_BUF_INIT;
    if (order) {
        gs_buf_printf(&sql, "SELECT %s, count(*) OVER () FROM %s WHERE %s%s ORDER BY %s", key,
                      rt->plural, live, where, order);
    } else {
        gs_buf_printf(&sql, "SELECT k, count(*) OVER () FROM (SELECT %s AS k, %s AS t, coalesce(",
                      key, d >= 0 ? rt->fields[d].name : "NULL");
        overdue_cond(&sql, &kb, today);
        gs_buf_printf(&sql, ", 0) AS o FROM %s WHERE %s%s) ORDER BY o DESC, t DESC, k DESC",
                      rt->plural, live, where);
    }
    for (int i = 0; i < b->n; i++)
        kb.v[kb.n++] = b->v[i];
    if (limit > 0)
        gs_buf_printf(&sql, " LIMIT %lld OFFSET %lld", (long long)limit,
                      (long long)(offset > 0 ? offset : 0));
    sqlite3_stmt *st = NULL, *one = NULL;
    int rc = GS_OK, step = SQLITE_DONE;
    bool counted = false;
    if (sql.err || sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = gs_errf(eb, GS_ESQL, "listing %s: %s", rt->plural, sqlite3_errmsg(db));
    else
        bind_all(st, &kb, 0);
    gs_buf_reset(&sql);
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE %s = ?1 AND _deleted = 0", rt->plural, key);
    if (!rc && (sql.err || sqlite3_prepare_v2(db, sql.data, -1, &one, NULL) != SQLITE_OK))
        rc = gs_errf(eb, GS_ESQL, "listing %s: %s", rt->plural, sqlite3_errmsg(db));
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (total && !counted)
            *total = sqlite3_column_int64(st, 1);
        counted = true;
        sqlite3_reset(one);
        sqlite3_bind_text(one, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_STATIC);
        if (sqlite3_step(one) != SQLITE_ROW)
            continue; /* gone since (another connection's write) */
        gs_record *r = NULL;
        if (gs_replica_row(one, 0, rt, &r))
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else
            rc = each(r, arg);
        gs_record_destroy(&r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_errf(eb, GS_ESQL, "listing %s: %s", rt->plural, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_finalize(one);
    gs_buf_free(&sql);
    /* a page past the end has no row to carry the count */
    if (!rc && total && !counted)
        rc = count_where(db, rt, live, where, b, total, eb);
    return rc;
}

int gs_find_list(sqlite3 *db, const gs_rectype *rt, const gs_find_filter *f, gs_find_each each,
                 void *arg, gs_errbuf *eb)
{
    gs_record *vals = gs_record_new(rt); /* the filters' values, canonical */
    gs_buf where = GS_BUF_INIT, part = GS_BUF_INIT, order = GS_BUF_INIT;
    binds b = {{NULL}, 0};
    if (!vals)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    char today[11];
    if (f->today)
        snprintf(today, sizeof today, "%s", f->today);
    else
        gs_find_today(today);
    int rc = where_of(rt, f, vals, today, &where, &b, eb);
    gs_buf_puts(&where, ""); /* never NULL below */
    int64_t limit = f->limit > 0 ? f->limit : 0, offset = limit ? f->offset : 0, got = 0;
    bool split = f->order == GS_FIND_URGENT && rt->id == GS_RT_INCIDENT;
    const char *live = live_cond(f);
    bool queue = f->order == GS_FIND_DEADLINE && gs_find_queue_order(rt, &order);
    if (!rc && (split || queue) && (f->text || f->reporter)) {
        rc = where.err || order.err
                 ? gs_errf(eb, GS_ENOMEM, "out of memory")
                 : list_searched(db, rt, where.data, &b, today, live, queue ? order.data : NULL,
                                 limit, offset, f->total, each, arg, eb);
        gs_buf_free(&where);
        gs_buf_free(&order);
        gs_record_destroy(&vals);
        return rc;
    }
    if (!rc && f->total)
        rc = count_where(db, rt, live, where.data, &b, f->total, eb);
    int d = gs_find_date_field(rt);
    const char *key = rt->fields[rt->key].name;
    if (queue)
        ; /* the queue's keys are written */
    else if (f->order != GS_FIND_URGENT)
        gs_buf_puts(&order, key);
    else if (d >= 0)
        gs_buf_printf(&order, "%s DESC, %s DESC", rt->fields[d].name, key);
    else
        gs_buf_printf(&order, "%s DESC", key);
    if (!rc && (where.err || order.err))
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc && !split)
        rc = list_rows(db, rt, live, where.data, &b, order.data, limit, offset, each, arg, &got,
                       eb);
    if (!rc && split) {
        /* overdue first, then the others, each newest first: two parts,
         * each read in index order, rather than one sort of every record
         * by a computed key */
        binds pb = b;
        int64_t overdue = 0;
        gs_buf_printf(&part, "%s AND ", where.data);
        overdue_cond(&part, &pb, today);
        if (part.err)
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        if (!rc)
            rc = count_where(db, rt, live, part.data, &pb, &overdue, eb);
        if (!rc && offset < overdue)
            rc = list_rows(db, rt, live, part.data, &pb, order.data, limit, offset, each, arg,
                           &got, eb);
        if (!rc && (!limit || got < limit)) {
            int64_t more = 0;
            pb = b;
            gs_buf_reset(&part);
            gs_buf_printf(&part, "%s AND NOT coalesce(", where.data);
            overdue_cond(&part, &pb, today);
            gs_buf_puts(&part, ", 0)");
            if (part.err)
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            else
                rc = list_rows(db, rt, live, part.data, &pb, order.data,
                               limit ? limit - got : 0, offset > overdue ? offset - overdue : 0,
                               each, arg, &more, eb);
        }
    }
    gs_buf_free(&where);
    gs_buf_free(&part);
    gs_buf_free(&order);
    gs_record_destroy(&vals);
    return rc;
}

/* ---- ids by prefix -------------------------------------------------------- */

/* The field that names a record to a person: its first required text
 * field (title, name, host), else its date; -1 for none. */
static int naming_field(const gs_rectype *rt)
{
    for (int i = 0; i < rt->nfields; i++)
        if (i != rt->key && rt->fields[i].type == GS_FT_TEXT &&
            (rt->fields[i].flags & GS_F_REQUIRED))
            return i;
    return gs_find_date_field(rt);
}

/* Appends at most max bytes of s, never cutting a UTF-8 character. */
static void put_clipped(gs_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    gs_buf_append(b, s, n);
    if (n < strlen(s))
        gs_buf_puts(b, "…");
}

int gs_find_one(sqlite3 *db, const gs_rectype *rt, const char *key, gs_record **out, gs_errbuf *eb)
{
    gs_buf sql = GS_BUF_INIT, hi = GS_BUF_INIT, list = GS_BUF_INIT;
    const char *kname = rt->fields[rt->key].name;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    /* the id's B-tree from key up to key followed by 0xFF, which no UTF-8
     * text holds: every id that starts with key, in order */
    gs_buf_printf(&sql, " FROM %s WHERE _deleted = 0 AND %s BETWEEN ?1 AND ?2 ORDER BY %s LIMIT %d",
                  rt->plural, kname, kname, GS_FIND_SHOW_MATCHES + 1);
    gs_buf_puts(&hi, key);
    if (strlen(key) >= GS_FIND_MIN_PREFIX)
        gs_buf_putc(&hi, '\xFF');
    sqlite3_stmt *st = NULL;
    int rc = GS_OK, n = 0, total = 0, name_f = naming_field(rt);
    if (sql.err || hi.err || sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK)
        rc = gs_errf(eb, GS_ESQL, "finding %s %s: %s", rt->name, key, sqlite3_errmsg(db));
    else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hi.data, (int)hi.len, SQLITE_STATIC);
    }
    gs_record *rows[GS_FIND_SHOW_MATCHES + 1] = {NULL}, *found = NULL;
    while (!rc && n <= GS_FIND_SHOW_MATCHES && sqlite3_step(st) == SQLITE_ROW) {
        if (gs_replica_row(st, 0, rt, &rows[n]))
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else if (!strcmp(gs_record_key(rows[n]), key))
            found = rows[n]; /* the id itself wins over the ids it starts */
        n++;
    }
    if (!found && n == 1)
        found = rows[0];
    for (int i = 0; !found && i < n && i < GS_FIND_SHOW_MATCHES; i++) {
        gs_buf_printf(&list, "\n  %s", gs_record_key(rows[i]));
        if (name_f >= 0 && gs_record_str(rows[i], name_f)) {
            gs_buf_puts(&list, "  ");
            put_clipped(&list, gs_record_str(rows[i], name_f), 48);
        }
    }
    for (int i = 0; i < n; i++)
        if (rows[i] != found)
            gs_record_destroy(&rows[i]);
    if (!rc && !found && n > 1) {
        /* count them all for the message (only the first few were read) */
        sqlite3_finalize(st);
        st = NULL;
        gs_buf_reset(&sql);
        gs_buf_printf(&sql, "SELECT count(*) FROM %s WHERE _deleted = 0 AND %s BETWEEN ?1 AND ?2",
                      rt->plural, kname);
        total = n;
        if (!sql.err && sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, hi.data, (int)hi.len, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                total = sqlite3_column_int(st, 0);
        }
        rc = gs_errf(eb, GS_EEXIST,
                     "编号前缀 %s 对应 %d 条%s，请多给几位 (the id prefix %s matches %d %s; give "
                     "more of it):%s%s",
                     key, total, rt->label_zh, key, total, rt->plural, list.data ? list.data : "",
                     total > GS_FIND_SHOW_MATCHES ? "\n  …" : "");
    } else if (!rc && !found) {
        rc = gs_errf(eb, GS_ENOTFOUND, "%s %s not found", rt->label_zh, key);
    }
    sqlite3_finalize(st);
    if (!rc)
        *out = found;
    else
        gs_record_destroy(&found);
    gs_buf_free(&sql);
    gs_buf_free(&hi);
    gs_buf_free(&list);
    return rc;
}

/* ---- history ----------------------------------------------------------- */

int gs_find_history(sqlite3 *db, const gs_rectype *rt, const char *key, gs_find_change_each each,
                    void *arg, gs_errbuf *eb)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT origin, seq, hlc, body FROM changes WHERE rtype = ?1 AND "
                           "rid = ?2 ORDER BY hlc, origin",
                           -1, &st, NULL) != SQLITE_OK)
        return gs_errf(eb, GS_ESQL, "reading the history: %s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        gs_change c = {0};
        if (gs_change_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), &c,
                             NULL) != GS_OK) {
            gs_change_clear(&c);
            c.op = 0;
        }
        const char *origin = (const char *)sqlite3_column_text(st, 0);
        snprintf(c.origin, sizeof c.origin, "%s", origin ? origin : "");
        c.seq = (uint64_t)sqlite3_column_int64(st, 1);
        c.hlc = (gs_hlc)sqlite3_column_int64(st, 2);
        each(&c, arg);
        gs_change_clear(&c);
    }
    sqlite3_finalize(st);
    return GS_OK;
}

/* ---- printing ------------------------------------------------------------ */

void gs_find_display(const gs_record *r, int f, gs_buf *b)
{
    const gs_field *fd = &r->rt->fields[f];
    if (!gs_record_has(r, f))
        return;
    if (fd->type == GS_FT_ENUM)
        gs_buf_puts(b, gs_enum_zh(fd, gs_record_str(r, f)));
    else if (fd->type == GS_FT_BOOL)
        gs_buf_puts(b, gs_record_int(r, f, 0) ? "是" : "否");
    else
        gs_record_format(r, f, b);
}

void gs_find_print_record(const gs_record *rec, FILE *f)
{
    const gs_rectype *rt = rec->rt;
    fprintf(f, "%s %s\n", rt->label_zh, gs_record_key(rec));
    gs_buf b = GS_BUF_INIT;
    size_t w = 0;
    for (int i = 0; i < rt->nfields; i++)
        if (gs_text_width(rt->fields[i].label_zh) > w)
            w = gs_text_width(rt->fields[i].label_zh);
    for (int i = 0; i < rt->nfields; i++) {
        if (!gs_record_has(rec, i))
            continue;
        gs_buf_reset(&b);
        gs_find_display(rec, i, &b);
        const char *label = rt->fields[i].label_zh;
        fprintf(f, "  %s%*s  %s\n", label, (int)(w - gs_text_width(label)), "",
                b.data ? b.data : "");
    }
    gs_buf_free(&b);
}

void gs_find_change_text(const gs_change *c, gs_buf *b)
{
    gs_find_change_text_by(c, NULL, NULL, false, b);
}

void gs_find_change_text_by(const gs_change *c, gs_find_display_fn display, void *arg,
                            bool names, gs_buf *b)
{
    gs_buf v = GS_BUF_INIT;
    bool first = true;
    if (c->op == GS_OP_DELETE) {
        gs_buf_puts(b, "删除 deleted");
        first = false;
    }
    const gs_rectype *rt = c->rec ? c->rec->rt : NULL;
    for (int i = 0; rt && i < rt->nfields && c->op == GS_OP_UPSERT; i++) {
        if (i == rt->key || i == rt->scope || c->rec->v[i].state == GS_V_UNSET)
            continue;
        gs_buf_reset(&v);
        if (display)
            display(arg, c->rec, i, &v);
        else
            gs_find_display(c->rec, i, &v);
        gs_buf_printf(b, "%s%s=%s", first ? "" : " ",
                      names ? rt->fields[i].name : rt->fields[i].label_zh,
                      v.data ? v.data : "∅");
        first = false;
    }
    gs_buf_free(&v);
}

void gs_find_print_change(const gs_change *c, void *file)
{
    gs_buf line = GS_BUF_INIT;
    gs_hlc_format(c->hlc, &line);
    gs_buf_printf(&line, "  %s #%llu", c->origin, (unsigned long long)c->seq);
    size_t head = line.len;
    gs_buf_putc(&line, ' ');
    gs_find_change_text(c, &line);
    if (line.len == head + 1) /* nothing set: no trailing blank */
        line.data[--line.len] = '\0';
    fprintf(file, "  %s\n", line.data ? line.data : "");
    gs_buf_free(&line);
}

int gs_find_format_parse(const char *s)
{
    return !strcmp(s, "table")  ? GS_FIND_TABLE
           : !strcmp(s, "json") ? GS_FIND_JSON
           : !strcmp(s, "csv")  ? GS_FIND_CSV
           : !strcmp(s, "xlsx") ? GS_FIND_XLSX
                                : -1;
}

/* Options of `TYPE list` and `export` that take no value. */
static bool is_flag(const char *a)
{
    static const char *const flags[] = {"--bom", "--zh", "--json", "--help", "-h", "--overdue"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (!strcmp(a, flags[i]))
            return true;
    return false;
}

int gs_find_take_opts(int *argc, char **argv, gs_find_opts *o, const char **format,
                      gs_errbuf *eb)
{
    int n = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--bom")) {
            o->bom = true;
        } else if (!strncmp(a, "--out=", 6) && a[6]) {
            o->out = a + 6;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--out=")) { /* "--out=": no FILE */
            if (a[5] || i + 1 >= *argc || !argv[i + 1][0])
                return gs_errf(eb, GS_EINVAL, "--out needs a FILE (--out 名单.xlsx)");
            o->out = argv[++i];
        } else if (format && !strncmp(a, "--format=", 9)) {
            *format = a + 9;
        } else if (format && !strcmp(a, "--format") && i + 1 < *argc) {
            *format = argv[++i];
        } else {
            argv[n++] = argv[i];
            /* another option's value stays with it, even one spelt --out */
            if (!strncmp(a, "--", 2) && !strchr(a, '=') && !is_flag(a) && i + 1 < *argc)
                argv[n++] = argv[++i];
        }
    }
    *argc = n;
    return GS_OK;
}

int gs_find_check_opts(gs_find_format fmt, const gs_find_opts *o, gs_errbuf *eb)
{
    if (fmt == GS_FIND_XLSX && (!o || !o->out))
        return gs_errf(eb, GS_EINVAL,
                       "--format xlsx 需要 --out 文件 (writes a workbook: give --out FILE.xlsx)");
    return GS_OK;
}

struct gs_find_out {
    const gs_rectype *rt;
    gs_find_format fmt;
    gs_find_opts opts;
    gs_doc *doc;     /* one sheet: the records */
    gs_sheet *sheet; /* owned by doc */
};

gs_find_out *gs_find_out_new_opts(const gs_rectype *rt, gs_find_format fmt, const gs_find_opts *o)
{
    gs_find_out *out = calloc(1, sizeof *out);
    gs_sheet *s = out ? gs_sheet_for_type(rt, o && o->zh) : NULL;
    if (!s || !(out->doc = gs_doc_new())) {
        gs_sheet_destroy(&s);
        free(out);
        return NULL;
    }
    out->rt = rt;
    out->fmt = fmt;
    if (o)
        out->opts = *o;
    out->sheet = s;
    gs_doc_take(out->doc, &s);
    if (gs_doc_failed(out->doc)) {
        gs_doc_destroy(&out->doc);
        free(out);
        return NULL;
    }
    return out;
}

gs_find_out *gs_find_out_new(const gs_rectype *rt, gs_find_format fmt)
{
    return gs_find_out_new_opts(rt, fmt, NULL);
}

int gs_find_out_add(const gs_record *rec, void *out)
{
    gs_find_out *o = out;
    return gs_sheet_add_record(o->sheet, rec);
}

/* Renders the list as text (table, CSV, JSON) to f. */
static int write_text(const gs_find_out *o, FILE *f)
{
    if (o->fmt == GS_FIND_TABLE) {
        gs_sheet_print(o->sheet, f);
        fprintf(f, "(%zu %s)\n", gs_sheet_nrows(o->sheet), o->rt->label_zh);
        return GS_OK;
    }
    gs_buf b = GS_BUF_INIT;
    int rc = GS_OK;
    if (o->fmt == GS_FIND_JSON)
        rc = gs_sheet_json_rows(o->sheet, o->opts.json_lines, &b);
    else
        gs_doc_csv(o->doc, o->opts.bom, &b);
    if (!rc)
        rc = b.err;
    if (!rc && b.len && fwrite(b.data, 1, b.len, f) != b.len)
        rc = GS_EIO;
    gs_buf_free(&b);
    return rc;
}

int gs_find_out_write(gs_find_out **op, FILE *f, gs_errbuf *eb)
{
    gs_find_out *o = op ? *op : NULL;
    if (!o)
        return GS_OK;
    int rc = GS_OK;
    const char *path = o->opts.out;
    if (gs_doc_failed(o->doc))
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    else if (o->fmt == GS_FIND_XLSX)
        rc = path ? gs_doc_xlsx(o->doc, path, eb) : gs_find_check_opts(o->fmt, &o->opts, eb);
    else if (path) {
        FILE *file = fopen(path, "wb");
        int wr = file ? write_text(o, file) : GS_EIO;
        if (file && fclose(file) && !wr)
            wr = GS_EIO;
        if (wr)
            rc = gs_errf(eb, wr, "%s: %s", path, wr == GS_ENOMEM ? "out of memory" : "cannot write it");
    } else if (f && (rc = write_text(o, f)))
        rc = gs_errf(eb, rc, "%s", rc == GS_ENOMEM ? "out of memory" : "cannot write the list");
    gs_doc_destroy(&o->doc);
    free(o);
    *op = NULL;
    return rc;
}

int gs_find_out_end(gs_find_out **op, FILE *f)
{
    gs_errbuf eb = {{0}};
    return gs_find_out_write(op, f, &eb);
}

int gs_find_print_list(const gs_rectype *rt, const gs_find_filter *f, gs_find_format fmt,
                       const gs_find_opts *o, gs_find_lister list, void *store, FILE *out,
                       gs_errbuf *eb)
{
    int rc = gs_find_check_opts(fmt, o, eb);
    if (rc)
        return rc;
    gs_find_out *w = gs_find_out_new_opts(rt, fmt, o);
    if (!w)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    rc = list(store, rt, f, gs_find_out_add, w, eb);
    if (rc) {
        gs_find_out_write(&w, NULL, &(gs_errbuf){{0}}); /* freed, not written */
        return rc;
    }
    return gs_find_out_write(&w, out, eb);
}
