/*
 * replica.c: per-field last-writer-wins application of changes to the
 * entity tables (see replica.h).
 *
 * Each row carries _clock: a msgpack array with one slot per field plus a
 * last slot for existence; a slot is nil (never written) or [hlc, origin].
 * A change wins a slot when (hlc, origin) is greater than the slot's. Fields
 * are only appended to the schema, so an older, shorter clock array still
 * lines up; the existence slot is found at index nfields when the array is
 * current and is rewritten in place on the next write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/mpack.h"
#include "gridsync/replica.h"

typedef struct slot {
    gs_hlc hlc;
    char origin[GS_ORIGIN_MAX + 1]; /* "" when never written */
} slot;

struct gs_replica {
    sqlite3 *db;
    sqlite3_stmt *select[GS_RT__COUNT]; /* fields..., _clock, _deleted WHERE key = ? */
    sqlite3_stmt *upsert[GS_RT__COUNT]; /* all fields, _clock, _deleted, _hlc, _origin */
};

static int sql_err(sqlite3 *db, gs_errbuf *eb, const char *what)
{
    return gs_errf(eb, GS_ESQL, "%s: %s", what, sqlite3_errmsg(db));
}

int gs_replica_create_schema(sqlite3 *db, gs_errbuf *eb)
{
    gs_buf ddl = GS_BUF_INIT;
    for (int t = 0; t < GS_RT__COUNT; t++)
        gs_schema_ddl(gs_rectype_get(t), &ddl);
    if (ddl.err) {
        gs_buf_free(&ddl);
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    }
    char *msg = NULL;
    int rc = sqlite3_exec(db, ddl.data, NULL, NULL, &msg);
    gs_buf_free(&ddl);
    if (rc != SQLITE_OK) {
        gs_errf(eb, GS_ESQL, "creating entity tables: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return GS_ESQL;
    }
    return GS_OK;
}

void gs_replica_columns(const gs_rectype *rt, gs_buf *b)
{
    for (int i = 0; i < rt->nfields; i++)
        gs_buf_printf(b, "%s%s", i ? ", " : "", rt->fields[i].name);
}

int gs_replica_open(gs_replica **out, sqlite3 *db, gs_errbuf *eb)
{
    gs_replica *r = calloc(1, sizeof *r);
    if (!r)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    r->db = db;
    gs_buf sql = GS_BUF_INIT;
    int rc = GS_OK;
    for (int t = 0; t < GS_RT__COUNT && !rc; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        gs_buf_reset(&sql);
        gs_buf_puts(&sql, "SELECT ");
        gs_replica_columns(rt, &sql);
        gs_buf_printf(&sql, ", _clock, _deleted FROM %s WHERE %s = ?1", rt->plural,
                      rt->fields[rt->key].name);
        if (!sql.err && sqlite3_prepare_v3(db, sql.data, -1, SQLITE_PREPARE_PERSISTENT,
                                           &r->select[t], NULL) != SQLITE_OK) {
            rc = sql_err(db, eb, "preparing replica select");
            break;
        }
        gs_buf_reset(&sql);
        gs_buf_printf(&sql, "INSERT INTO %s (", rt->plural);
        gs_replica_columns(rt, &sql);
        gs_buf_puts(&sql, ", _clock, _deleted, _hlc, _origin) VALUES (");
        for (int i = 0; i < rt->nfields + 4; i++)
            gs_buf_printf(&sql, "%s?%d", i ? ", " : "", i + 1);
        gs_buf_printf(&sql, ") ON CONFLICT(%s) DO UPDATE SET ", rt->fields[rt->key].name);
        for (int i = 0; i < rt->nfields; i++)
            if (i != rt->key)
                gs_buf_printf(&sql, "%s = excluded.%s, ", rt->fields[i].name, rt->fields[i].name);
        gs_buf_puts(&sql, "_clock = excluded._clock, _deleted = excluded._deleted, "
                          "_hlc = excluded._hlc, _origin = excluded._origin");
        if (sql.err)
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else if (sqlite3_prepare_v3(db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &r->upsert[t],
                                    NULL) != SQLITE_OK)
            rc = sql_err(db, eb, "preparing replica upsert");
    }
    gs_buf_free(&sql);
    if (rc) {
        gs_replica_destroy(&r);
        return rc;
    }
    *out = r;
    return GS_OK;
}

void gs_replica_destroy(gs_replica **rp)
{
    if (!rp || !*rp)
        return;
    for (int t = 0; t < GS_RT__COUNT; t++) {
        sqlite3_finalize((*rp)->select[t]);
        sqlite3_finalize((*rp)->upsert[t]);
    }
    free(*rp);
    *rp = NULL;
}

int gs_replica_row(sqlite3_stmt *st, int first, const gs_rectype *rt, gs_record **out)
{
    gs_record *rec = gs_record_new(rt);
    if (!rec)
        return GS_ENOMEM;
    int rc = GS_OK;
    for (int i = 0; i < rt->nfields && !rc; i++) {
        int col = first + i;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue; /* unset: the field was never written */
        gs_ftype ty = rt->fields[i].type;
        if (ty == GS_FT_INT || ty == GS_FT_BOOL)
            rc = gs_record_set_int(rec, i, sqlite3_column_int64(st, col));
        else
            rc = gs_record_set_str(rec, i, (const char *)sqlite3_column_text(st, col));
    }
    if (rc) {
        gs_record_destroy(&rec);
        return rc;
    }
    *out = rec;
    return GS_OK;
}

/* Decodes a _clock array into slots[0..n]; missing slots stay empty. A clock
 * that cannot be read is a corrupted database, reported as such. */
static int read_clock(const void *blob, int len, slot *slots, int n)
{
    memset(slots, 0, sizeof(slot) * (size_t)(n + 1));
    if (!blob)
        return GS_OK;
    gs_mp_reader rd;
    gs_mp_reader_init(&rd, blob, (size_t)len);
    gs_mp_val a;
    if (gs_mp_read(&rd, &a) || a.kind != GS_MP_ARRAY)
        return GS_EMALFORMED;
    for (uint32_t i = 0; i < a.n; i++) {
        gs_mp_val v;
        if (gs_mp_read(&rd, &v))
            return GS_EMALFORMED;
        if (v.kind == GS_MP_NIL)
            continue;
        if (v.kind != GS_MP_ARRAY || v.n != 2)
            return GS_EMALFORMED;
        /* An older, shorter array has its existence slot last. */
        int at = i + 1 == a.n ? n : (int)i;
        if (at > n)
            return GS_EMALFORMED;
        if (gs_mp_read_uint(&rd, &slots[at].hlc) ||
            gs_mp_read_strcpy(&rd, slots[at].origin, sizeof slots[at].origin))
            return GS_EMALFORMED;
    }
    return GS_OK;
}

static void write_clock(const slot *slots, int n, gs_buf *b)
{
    gs_mp_array(b, (uint32_t)n + 1);
    for (int i = 0; i <= n; i++) {
        if (!slots[i].origin[0]) {
            gs_mp_nil(b);
            continue;
        }
        gs_mp_array(b, 2);
        gs_mp_uint(b, slots[i].hlc);
        gs_mp_str(b, slots[i].origin);
    }
}

/* True if (hlc, origin) is greater than the slot's. */
static bool wins(const slot *s, gs_hlc hlc, const char *origin)
{
    if (!s->origin[0])
        return true;
    if (hlc != s->hlc)
        return hlc > s->hlc;
    return strcmp(origin, s->origin) > 0;
}

static void take(slot *s, gs_hlc hlc, const char *origin)
{
    size_t n = strnlen(origin, GS_ORIGIN_MAX);
    s->hlc = hlc;
    memcpy(s->origin, origin, n);
    s->origin[n] = '\0';
}

/* Binds a record's field values, starting at parameter 1. */
static void bind_fields(sqlite3_stmt *st, const gs_record *rec)
{
    for (int i = 0; i < rec->rt->nfields; i++) {
        const gs_value *v = &rec->v[i];
        gs_ftype ty = rec->rt->fields[i].type;
        if (v->state != GS_V_SET)
            sqlite3_bind_null(st, i + 1);
        else if (ty == GS_FT_INT || ty == GS_FT_BOOL)
            sqlite3_bind_int64(st, i + 1, v->i);
        else
            sqlite3_bind_text(st, i + 1, v->s, -1, SQLITE_STATIC);
    }
}

int gs_replica_apply(gs_replica *r, const gs_change *c, int *won, gs_errbuf *eb)
{
    return gs_replica_apply_in(r, c, NULL, won, eb);
}

int gs_replica_apply_in(gs_replica *r, const gs_change *c, const char *village, int *won,
                        gs_errbuf *eb)
{
    const gs_rectype *rt = c->rec->rt;
    const char *key = gs_record_key(c->rec);
    int n = rt->nfields, nwon = 0, rc = GS_OK;
    slot *slots = calloc((size_t)n + 1, sizeof *slots);
    gs_record *row = NULL;
    gs_buf clock = GS_BUF_INIT;
    if (!slots || !key)
        return gs_errf(eb, slots ? GS_EREQUIRED : GS_ENOMEM, "change without a key");

    sqlite3_stmt *sel = r->select[rt->id];
    sqlite3_reset(sel);
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(sel);
    int deleted = 0;
    if (step == SQLITE_ROW) {
        if (gs_replica_row(sel, 0, rt, &row) != GS_OK) {
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            goto out;
        }
        if (read_clock(sqlite3_column_blob(sel, n), sqlite3_column_bytes(sel, n), slots, n)) {
            rc = gs_errf(eb, GS_ESQL, "%s %s: the stored field clocks are corrupt", rt->name, key);
            goto out;
        }
        deleted = sqlite3_column_int(sel, n + 1);
        /* a record, once it exists, stays in its village */
        const char *stored = rt->scope >= 0 ? row->v[rt->scope].s : NULL;
        if (village && stored && strcmp(stored, village)) {
            rc = gs_errf(eb, GS_ESCOPE, "%s %s belongs to village %s, not to %s (it exists there)",
                         rt->name, key, stored, village);
            goto out;
        }
    } else if (step != SQLITE_DONE) {
        rc = sql_err(r->db, eb, "reading the current row");
        goto out;
    } else if (!(row = gs_record_new(rt))) {
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        goto out;
    }
    sqlite3_reset(sel);

    /* Existence, then each field the change sets. The key is part of every
     * change and never changes, so it is taken without a contest. */
    if (wins(&slots[n], c->hlc, c->origin)) {
        take(&slots[n], c->hlc, c->origin);
        deleted = c->op == GS_OP_DELETE;
        nwon++;
    }
    for (int i = 0; i < n && c->op == GS_OP_UPSERT; i++) {
        const gs_value *v = &c->rec->v[i];
        if (v->state == GS_V_UNSET || i == rt->key)
            continue;
        if (!wins(&slots[i], c->hlc, c->origin))
            continue;
        take(&slots[i], c->hlc, c->origin);
        if (v->state == GS_V_NULL)
            gs_record_unset(row, i);
        else if (rt->fields[i].type == GS_FT_INT || rt->fields[i].type == GS_FT_BOOL)
            rc = gs_record_set_int(row, i, v->i);
        else
            rc = gs_record_set_str(row, i, v->s);
        if (rc) {
            rc = gs_errf(eb, rc, "out of memory");
            goto out;
        }
        nwon++;
    }
    if (!nwon)
        goto out;
    gs_record_set_str(row, rt->key, key);
    write_clock(slots, n, &clock);
    if (clock.err) {
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        goto out;
    }
    sqlite3_stmt *up = r->upsert[rt->id];
    sqlite3_reset(up);
    bind_fields(up, row);
    sqlite3_bind_blob(up, n + 1, clock.data, (int)clock.len, SQLITE_STATIC);
    sqlite3_bind_int(up, n + 2, deleted);
    /* _hlc/_origin: the greatest clock that ever won anything in the row. */
    gs_hlc maxh = 0;
    const char *maxo = c->origin;
    for (int i = 0; i <= n; i++)
        if (slots[i].origin[0] && (slots[i].hlc > maxh || (slots[i].hlc == maxh &&
                                                           strcmp(slots[i].origin, maxo) > 0))) {
            maxh = slots[i].hlc;
            maxo = slots[i].origin;
        }
    sqlite3_bind_int64(up, n + 3, (sqlite3_int64)maxh);
    sqlite3_bind_text(up, n + 4, maxo, -1, SQLITE_STATIC);
    if (sqlite3_step(up) != SQLITE_DONE)
        rc = sql_err(r->db, eb, "writing the row");
    sqlite3_reset(up);
    sqlite3_clear_bindings(up);
out:
    if (won)
        *won = rc ? 0 : nwon;
    sqlite3_reset(sel);
    gs_buf_free(&clock);
    gs_record_destroy(&row);
    free(slots);
    return rc;
}

int gs_replica_get(gs_replica *r, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb)
{
    sqlite3_stmt *sel = r->select[rt->id];
    sqlite3_reset(sel);
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(sel);
    int rc = GS_OK;
    if (step == SQLITE_ROW && !sqlite3_column_int(sel, rt->nfields + 1))
        rc = gs_replica_row(sel, 0, rt, out) ? gs_errf(eb, GS_ENOMEM, "out of memory") : GS_OK;
    else if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = gs_errf(eb, GS_ENOTFOUND, "%s %s not found", rt->label_zh, key);
    else
        rc = sql_err(r->db, eb, "reading a record");
    sqlite3_reset(sel);
    return rc;
}
