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
 *
 * Derived values (derive.h) are not fields of a change: a computed field in
 * a change is ignored, and after every apply the row's derived values, and
 * those of the rows that depend on it (an election's candidates, a village's
 * affairs when its council changes), are computed again from the stored
 * rows and written in place. The slot of a computed field takes part in no
 * contest; the incident's closed_at slot keeps the greatest (hlc, origin) of
 * the changes that closed it, a maximum, so it too is the same in whatever
 * order the changes arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/derive.h"
#include "gridsync/mpack.h"
#include "gridsync/replica.h"
#include "gridsync/stmt.h"

typedef struct slot {
    gs_hlc hlc;
    char origin[GS_ORIGIN_MAX + 1]; /* "" when never written */
} slot;

struct gs_replica {
    sqlite3 *db;
    gs_stmts *stmts; /* the derivation's queries */
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

/* Fields are only ever appended to a record type; a database made before a
 * field was added lacks its column, which is added here (NULL in every
 * existing row: unset, as the field was never written). */
static int add_missing_columns(sqlite3 *db, gs_errbuf *eb)
{
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", rt->plural);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            return sql_err(db, eb, "reading the entity tables' columns");
        bool have[128] = {false};
        int ncols = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            ncols++;
            int f = gs_field_find(rt, (const char *)sqlite3_column_text(st, 0));
            if (f >= 0 && f < 128)
                have[f] = true;
        }
        sqlite3_finalize(st);
        for (int i = 0; ncols && i < rt->nfields && i < 128; i++) {
            if (have[i])
                continue;
            snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", rt->plural,
                     rt->fields[i].name,
                     rt->fields[i].type == GS_FT_INT || rt->fields[i].type == GS_FT_BOOL
                         ? "INTEGER"
                         : "TEXT");
            char *msg = NULL;
            if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                int rc = gs_errf(eb, GS_ESQL, "adding column %s.%s: %s", rt->plural,
                                 rt->fields[i].name, msg ? msg : sqlite3_errmsg(db));
                sqlite3_free(msg);
                return rc;
            }
        }
    }
    return GS_OK;
}

int gs_replica_open(gs_replica **out, sqlite3 *db, gs_errbuf *eb)
{
    int crc = add_missing_columns(db, eb);
    if (crc)
        return crc;
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
    gs_stmts_free(&(*rp)->stmts);
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

/* ---- the rows derivation reads ------------------------------------------------ */

/* Reads the row of rt with key into *row (a new record; an empty one when
 * absent), its clock into slots[0..nfields] and whether it exists and is
 * deleted. */
static int read_row(gs_replica *r, const gs_rectype *rt, const char *key, gs_record **row,
                    slot *slots, bool *exists, int *deleted, gs_errbuf *eb)
{
    int n = rt->nfields, rc = GS_OK;
    sqlite3_stmt *sel = r->select[rt->id];
    sqlite3_reset(sel);
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(sel);
    *row = NULL;
    *exists = step == SQLITE_ROW;
    *deleted = 0;
    memset(slots, 0, sizeof(slot) * (size_t)(n + 1));
    if (step == SQLITE_ROW) {
        if (gs_replica_row(sel, 0, rt, row) != GS_OK)
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else if (read_clock(sqlite3_column_blob(sel, n), sqlite3_column_bytes(sel, n), slots, n))
            rc = gs_errf(eb, GS_ESQL, "%s %s: the stored field clocks are corrupt", rt->name, key);
        *deleted = sqlite3_column_int(sel, n + 1);
    } else if (step != SQLITE_DONE) {
        rc = sql_err(r->db, eb, "reading the current row");
    } else if (!(*row = gs_record_new(rt))) {
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    }
    sqlite3_reset(sel);
    if (rc)
        gs_record_destroy(row);
    return rc;
}

/* The live rows of rt whose field equals value, in key order (limit 0: all). */
static int load_where(gs_replica *r, const gs_rectype *rt, const char *field, const char *value,
                      int limit, gs_record ***out, size_t *n, gs_errbuf *eb)
{
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE %s = ?1 AND _deleted = 0 ORDER BY %s", rt->plural, field,
                  rt->fields[rt->key].name);
    if (limit)
        gs_buf_printf(&sql, " LIMIT %d", limit);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sql.err ? NULL : gs_stmt(&r->stmts, r->db, sql.data);
    gs_buf_free(&sql);
    if (!st)
        return sql_err(r->db, eb, "reading related rows");
    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    int rc = GS_OK, step;
    size_t cap = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            gs_record **p = realloc(*out, cap * sizeof *p);
            if (!p) {
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        if (gs_replica_row(st, 0, rt, &(*out)[*n])) {
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sql_err(r->db, eb, "reading related rows");
    gs_stmt_done(st);
    return rc;
}

static void free_rows(gs_record **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gs_record_destroy(&rows[i]);
    free(rows);
}

/* The village's council (its oldest live one), or NULL. */
static int village_council(gs_replica *r, const char *village, gs_record **out, gs_errbuf *eb)
{
    gs_record **rows = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = village ? load_where(r, gs_rectype_get(GS_RT_COUNCIL), "village_code", village, 1,
                                  &rows, &n, eb)
                     : GS_OK;
    if (!rc && n)
        *out = rows[0], n = 0;
    free_rows(rows, n);
    return rc;
}

int gs_replica_village_council(gs_replica *r, const char *village, gs_record **out, gs_errbuf *eb)
{
    return village_council(r, village, out, eb);
}

/* Writes the derived fields of row in place where they differ from before
 * (NULL: write them all). No clock moves: they are not replicated. */
static int write_derived(gs_replica *r, const gs_record *before, const gs_record *row,
                         gs_errbuf *eb)
{
    const gs_rectype *rt = row->rt;
    bool differ = !before;
    for (int i = 0; i < rt->nfields && !differ; i++) {
        if (!gs_derived_field(rt, i))
            continue;
        const gs_value *x = &before->v[i], *y = &row->v[i];
        bool xs = x->state == GS_V_SET, ys = y->state == GS_V_SET;
        differ = xs != ys || (xs && (x->s || y->s ? !x->s || !y->s || strcmp(x->s, y->s)
                                                 : x->i != y->i));
    }
    if (!differ)
        return GS_OK;
    gs_buf sql = GS_BUF_INIT;
    gs_buf_printf(&sql, "UPDATE %s SET ", rt->plural);
    int nb = 0;
    for (int i = 0; i < rt->nfields; i++) {
        if (!gs_derived_field(rt, i))
            continue;
        gs_buf_printf(&sql, "%s%s = ?%d", nb ? ", " : "", rt->fields[i].name, nb + 1);
        nb++;
    }
    gs_buf_printf(&sql, " WHERE %s = ?%d", rt->fields[rt->key].name, nb + 1);
    if (!nb) {
        gs_buf_free(&sql);
        return GS_OK;
    }
    sqlite3_stmt *st = sql.err ? NULL : gs_stmt(&r->stmts, r->db, sql.data);
    gs_buf_free(&sql);
    if (!st)
        return sql_err(r->db, eb, "preparing a derived-value update");
    int k = 1;
    for (int i = 0; i < rt->nfields; i++) {
        if (!gs_derived_field(rt, i))
            continue;
        const gs_value *v = &row->v[i];
        if (v->state != GS_V_SET)
            sqlite3_bind_null(st, k++);
        else if (rt->fields[i].type == GS_FT_INT || rt->fields[i].type == GS_FT_BOOL)
            sqlite3_bind_int64(st, k++, v->i);
        else
            sqlite3_bind_text(st, k++, v->s, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, k, gs_record_key(row), -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    gs_stmt_done(st);
    return step == SQLITE_DONE ? GS_OK : sql_err(r->db, eb, "writing derived values");
}

/* An election and its live candidates, as derivation and judging read them. */
typedef struct group {
    gs_record *e;    /* NULL: the election is not here (yet) */
    gs_record **cs;
    size_t n;
} group;

static void group_free(group *g)
{
    gs_record_destroy(&g->e);
    free_rows(g->cs, g->n);
    memset(g, 0, sizeof *g);
}

/* Loads election_id's live candidates and, unless e is given (the election
 * as it will be stored; copied), the stored election. */
static int group_load(gs_replica *r, const char *election_id, const gs_record *e, group *g,
                      gs_errbuf *eb)
{
    memset(g, 0, sizeof *g);
    int rc = GS_OK;
    if (e)
        rc = (g->e = gs_record_dup(e)) ? GS_OK : gs_errf(eb, GS_ENOMEM, "out of memory");
    else if ((rc = gs_replica_get(r, gs_rectype_get(GS_RT_ELECTION), election_id, &g->e, NULL)) ==
             GS_ENOTFOUND)
        return GS_OK; /* its candidates wait for it (it may come in a later change) */
    else if (rc)
        return gs_errf(eb, rc, "reading election %s", election_id);
    if (!rc)
        rc = load_where(r, gs_rectype_get(GS_RT_CANDIDATE), "election_id", election_id, 0, &g->cs,
                        &g->n, eb);
    if (rc)
        group_free(g);
    return rc;
}

/* Puts candidate row (as it will be stored; copied) in place of its stored
 * self in the group, or adds it. */
static int group_put(group *g, const gs_record *row, gs_errbuf *eb)
{
    const char *key = gs_record_key(row);
    size_t self = g->n;
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(gs_record_key(g->cs[i]), key))
            self = i;
    gs_record *mine = gs_record_dup(row);
    gs_record **all = self < g->n ? g->cs : realloc(g->cs, (g->n + 1) * sizeof *all);
    if (!mine || !all) {
        gs_record_destroy(&mine);
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    }
    g->cs = all;
    if (self < g->n)
        gs_record_destroy(&g->cs[self]);
    else
        g->n++;
    g->cs[self] = mine;
    return GS_OK;
}

/* Derives the group and writes every derived value that moved. The group's
 * rows hold what is stored (their derived values too). */
static int group_derive(gs_replica *r, group *g, gs_errbuf *eb)
{
    if (!g->e)
        return GS_OK;
    gs_record *e0 = gs_record_dup(g->e), **c0 = calloc(g->n ? g->n : 1, sizeof *c0);
    int rc = e0 && c0 ? GS_OK : gs_errf(eb, GS_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < g->n; i++)
        if (!(c0[i] = gs_record_dup(g->cs[i])))
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc && gs_derive_election(g->e, g->cs, g->n))
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc)
        rc = write_derived(r, e0, g->e, eb);
    for (size_t i = 0; !rc && i < g->n; i++)
        rc = write_derived(r, c0[i], g->cs[i], eb);
    free_rows(c0, c0 ? g->n : 0);
    gs_record_destroy(&e0);
    return rc;
}

/* Derives an election and its live candidates again from their stored rows. */
static int rederive_election(gs_replica *r, const char *election_id, gs_errbuf *eb)
{
    group g;
    int rc = group_load(r, election_id, NULL, &g, eb);
    if (!rc)
        rc = group_derive(r, &g, eb);
    group_free(&g);
    return rc;
}

/* Derives every live affair of a village again (its council changed). */
static int rederive_affairs(gs_replica *r, const char *village, gs_errbuf *eb)
{
    gs_record *council = NULL, **as = NULL;
    size_t n = 0;
    int rc = village_council(r, village, &council, eb);
    if (!rc)
        rc = load_where(r, gs_rectype_get(GS_RT_AFFAIR), "village_code", village, 0, &as, &n, eb);
    for (size_t i = 0; !rc && i < n; i++) {
        gs_record *before = gs_record_dup(as[i]);
        if (!before) {
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            break;
        }
        gs_derive_affair(as[i], council);
        rc = write_derived(r, before, as[i], eb);
        gs_record_destroy(&before);
    }
    free_rows(as, n);
    gs_record_destroy(&council);
    return rc;
}

/* The derived values of row that depend on nothing but itself (and the
 * village's council), set in memory before the row is written. */
static int derive_own(gs_replica *r, gs_record *row, const slot *slots, bool deleted,
                      gs_errbuf *eb)
{
    const gs_rectype *rt = row->rt;
    if (deleted) {
        /* a deleted record has no derived values: whatever they were depended
         * on the order its changes came in */
        for (int i = 0; i < rt->nfields; i++)
            if (gs_derived_field(rt, i))
                gs_record_unset(row, i);
        return GS_OK;
    }
    if (rt->id == GS_RT_INCIDENT) {
        int fs = GS_INCIDENT_STATUS, fc = GS_INCIDENT_CLOSED_AT;
        gs_derive_incident(row, slots[fs].hlc, slots[fc].origin[0] ? slots[fc].hlc : 0);
    } else if (rt->id == GS_RT_AFFAIR) {
        gs_record *council = NULL;
        int rc = village_council(r, gs_record_scope(row), &council, eb);
        if (rc)
            return rc;
        gs_derive_affair(row, council);
        gs_record_destroy(&council);
    }
    return GS_OK;
}

/* The derived values of other rows that depend on this one. */
static int derive_dependents(gs_replica *r, const gs_record *row, const char *old_parent,
                             group *judged, gs_errbuf *eb)
{
    int rc = GS_OK;
    switch (row->rt->id) {
    case GS_RT_ELECTION:
        return judged->e ? group_derive(r, judged, eb) : rederive_election(r, gs_record_key(row), eb);
    case GS_RT_CANDIDATE: {
        const char *eid = gs_record_str(row, GS_CANDIDATE_ELECTION_ID);
        if (judged->e)
            rc = group_derive(r, judged, eb); /* what the judge read, the row in it */
        else if (eid)
            rc = rederive_election(r, eid, eb);
        if (!rc && old_parent && (!eid || strcmp(eid, old_parent)))
            rc = rederive_election(r, old_parent, eb);
        return rc;
    }
    case GS_RT_COUNCIL: return rederive_affairs(r, gs_record_scope(row), eb);
    default: return GS_OK;
    }
}

/* ---- judging ------------------------------------------------------------------- */

static bool table_has_rows(gs_replica *r, const gs_rectype *rt)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE _deleted = 0 LIMIT 1", rt->plural);
    sqlite3_stmt *st = gs_stmt(&r->stmts, r->db, sql);
    bool any = st && sqlite3_step(st) == SQLITE_ROW;
    gs_stmt_done(st);
    return any;
}

/* The references of row: reference data (a category) must be known where
 * any is loaded; a village's record it names (an election, a council, a
 * grid) must be of the same village, and must exist here when the caller
 * requires it (entry, where this PC holds its village's records; the hub
 * accepts one it does not hold yet, which another PC may still send). */
static int judge_refs(gs_replica *r, const gs_record *row, const gs_record *set, bool required,
                      gs_errbuf *eb)
{
    const gs_rectype *rt = row->rt;
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        const char *v = gs_record_str(row, i);
        /* a reference the change does not set was judged when it was set */
        if (!f->ref || i == rt->key || i == rt->scope || !v || set->v[i].state == GS_V_UNSET)
            continue;
        const gs_rectype *to = gs_rectype_find(f->ref);
        char sql[192];
        snprintf(sql, sizeof sql, "SELECT %s, _deleted FROM %s WHERE %s = ?1",
                 to->scope >= 0 ? to->fields[to->scope].name : "NULL", to->plural,
                 to->fields[to->key].name);
        sqlite3_stmt *st = gs_stmt(&r->stmts, r->db, sql);
        if (!st)
            return sql_err(r->db, eb, "reading a referenced record");
        sqlite3_bind_text(st, 1, v, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        bool found = step == SQLITE_ROW && !sqlite3_column_int(st, 1);
        const char *where = found ? (const char *)sqlite3_column_text(st, 0) : NULL;
        char village[16] = "";
        if (where)
            snprintf(village, sizeof village, "%s", where);
        gs_stmt_done(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            return sql_err(r->db, eb, "reading a referenced record");
        if (found ? !village[0] || !strcmp(village, gs_record_scope(row))
                  : (to->reference ? !table_has_rows(r, to) : !required || to->id == GS_RT_GRID))
            continue; /* the common case: nothing to say */
        gs_buf label = GS_BUF_INIT;
        gs_field_label_opt(rt, i, &label);
        int rc;
        if (!found && to->reference)
            rc = gs_errf(eb, GS_ERULE, "%s %s 不是已知的%s (not a known %s)", label.data, v,
                         to->label_zh, to->name);
        else if (found)
            rc = gs_errf(eb, GS_ESCOPE, "%s: the %s belongs to village %s", label.data, to->name,
                         village);
        else
            rc = gs_errf(eb, GS_ENOTFOUND, "%s (%s): no %s with id %s in this node",
                         f->label_zh, f->name, to->label_zh, v);
        gs_buf_free(&label);
        return rc;
    }
    return GS_OK;
}

/* The hard checks of entry over row, the record as it will be stored; set
 * holds the fields the change sets. An election's or a candidate's group is
 * read once, into *g, and serves the derivation after the write too. */
static int judge(gs_replica *r, const gs_record *row, const gs_record *set, bool refs_required,
                 group *g, gs_errbuf *eb)
{
    if (row->rt->reference)
        return GS_OK; /* the city's reference data: a parent may lie outside the city */
    int rc = gs_judge_record(row, eb);
    if (!rc)
        rc = judge_refs(r, row, set, refs_required, eb);
    if (rc)
        return rc;
    if (row->rt->id == GS_RT_ELECTION) {
        if (!(rc = group_load(r, gs_record_key(row), row, g, eb)))
            rc = gs_judge_election(g->e, g->cs, g->n, eb);
    } else if (row->rt->id == GS_RT_CANDIDATE) {
        const char *eid = gs_record_str(row, GS_CANDIDATE_ELECTION_ID);
        if (eid && !(rc = group_load(r, eid, NULL, g, eb)) && g->e && !(rc = group_put(g, row, eb)))
            rc = gs_judge_election(g->e, g->cs, g->n, eb);
    }
    return rc;
}

/* ---- applying a change ------------------------------------------------------------ */

int gs_replica_apply(gs_replica *r, const gs_change *c, int *won, gs_errbuf *eb)
{
    return gs_replica_apply_opts(r, c, NULL, won, eb);
}

int gs_replica_apply_in(gs_replica *r, const gs_change *c, const char *village, int *won,
                        gs_errbuf *eb)
{
    gs_apply_opts o = {village, false, false};
    return gs_replica_apply_opts(r, c, &o, won, eb);
}

int gs_replica_apply_opts(gs_replica *r, const gs_change *c, const gs_apply_opts *o, int *won,
                          gs_errbuf *eb)
{
    static const gs_apply_opts plain = {NULL, false, false};
    if (!o)
        o = &plain;
    const gs_rectype *rt = c->rec->rt;
    const char *key = gs_record_key(c->rec);
    int n = rt->nfields, nwon = 0, rc = GS_OK;
    slot *slots = calloc((size_t)n + 1, sizeof *slots);
    gs_record *row = NULL;
    char *old_parent = NULL;
    group judged = {0};
    gs_buf clock = GS_BUF_INIT;
    if (!slots || !key) {
        free(slots);
        return gs_errf(eb, slots ? GS_EREQUIRED : GS_ENOMEM, "change without a key");
    }
    bool exists;
    int deleted;
    if ((rc = read_row(r, rt, key, &row, slots, &exists, &deleted, eb)))
        goto out;
    if (exists) {
        /* a record, once it exists, stays in its village */
        const char *stored = rt->scope >= 0 ? row->v[rt->scope].s : NULL;
        if (o->village && stored && strcmp(stored, o->village)) {
            rc = gs_errf(eb, GS_ESCOPE, "%s %s belongs to village %s, not to %s (it exists there)",
                         rt->name, key, stored, o->village);
            goto out;
        }
        int fe = rt->id == GS_RT_CANDIDATE ? GS_CANDIDATE_ELECTION_ID : -1;
        if (fe >= 0 && gs_record_str(row, fe) && !(old_parent = strdup(gs_record_str(row, fe)))) {
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            goto out;
        }
    }

    /* Existence, then each field the change sets. The key is part of every
     * change and never changes, so it is taken without a contest; derived
     * fields are never taken from a change. */
    if (wins(&slots[n], c->hlc, c->origin)) {
        take(&slots[n], c->hlc, c->origin);
        deleted = c->op == GS_OP_DELETE;
        nwon++;
    }
    for (int i = 0; i < n && c->op == GS_OP_UPSERT; i++) {
        const gs_value *v = &c->rec->v[i];
        if (v->state == GS_V_UNSET || i == rt->key || gs_derived_field(rt, i))
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
    /* closing: the greatest clock of the changes that closed the incident */
    int fc = gs_derive_closed_slot(rt);
    if (fc >= 0 && c->op == GS_OP_UPSERT && gs_derive_closes(c->rec) &&
        wins(&slots[fc], c->hlc, c->origin)) {
        take(&slots[fc], c->hlc, c->origin);
        nwon++;
    }
    if (!nwon)
        goto out;
    gs_record_set_str(row, rt->key, key);
    if (o->judge && c->op == GS_OP_UPSERT && !deleted &&
        (rc = judge(r, row, c->rec, o->refs_required, &judged, eb)))
        goto out;
    if ((rc = derive_own(r, row, slots, deleted, eb)))
        goto out;
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
    if (!rc)
        rc = derive_dependents(r, row, old_parent, &judged, eb);
out:
    group_free(&judged);
    if (won)
        *won = rc ? 0 : nwon;
    gs_buf_free(&clock);
    gs_record_destroy(&row);
    free(old_parent);
    free(slots);
    return rc;
}

int gs_replica_upgrade_derived(gs_replica *r, int version, gs_errbuf *eb)
{
    char *msg = NULL;
    int rc = sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK
                 ? gs_replica_derive_all(r, eb)
                 : gs_errf(eb, GS_ESQL, "%s", msg ? msg : sqlite3_errmsg(r->db));
    sqlite3_free(msg);
    if (!rc) {
        sqlite3_stmt *st = gs_stmt(&r->stmts, r->db,
                                   "UPDATE meta SET value = ?1 WHERE key = 'schema_version'");
        if (st) {
            char v[16];
            snprintf(v, sizeof v, "%d", version);
            sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
        }
        if (!st || sqlite3_step(st) != SQLITE_DONE)
            rc = sql_err(r->db, eb, "writing the schema version");
        gs_stmt_done(st);
    }
    if (!rc && sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sql_err(r->db, eb, "committing the upgrade");
    if (rc)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int gs_replica_derive_all(gs_replica *r, gs_errbuf *eb)
{
    static const int types[] = {GS_RT_INCIDENT, GS_RT_AFFAIR, GS_RT_ELECTION};
    int rc = GS_OK;
    for (size_t t = 0; t < sizeof types / sizeof types[0] && !rc; t++) {
        const gs_rectype *rt = gs_rectype_get(types[t]);
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT %s FROM %s", rt->fields[rt->key].name, rt->plural);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
            return sql_err(r->db, eb, "listing records to derive");
        /* keys first: the updates below must not run under this cursor */
        char **keys = NULL;
        size_t nk = 0, cap = 0;
        while (!rc && sqlite3_step(st) == SQLITE_ROW) {
            if (nk == cap) {
                cap = cap ? cap * 2 : 64;
                char **p = realloc(keys, cap * sizeof *p);
                if (!p) {
                    rc = gs_errf(eb, GS_ENOMEM, "out of memory");
                    break;
                }
                keys = p;
            }
            if (!(keys[nk] = strdup((const char *)sqlite3_column_text(st, 0))))
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            else
                nk++;
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < nk && !rc; i++) {
            if (rt->id == GS_RT_ELECTION) {
                rc = rederive_election(r, keys[i], eb);
                continue;
            }
            slot *slots = calloc((size_t)rt->nfields + 1, sizeof *slots);
            gs_record *row = NULL, *before = NULL;
            bool exists;
            int deleted;
            if (!slots)
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            else if (!(rc = read_row(r, rt, keys[i], &row, slots, &exists, &deleted, eb)) &&
                     !(before = gs_record_dup(row)))
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            if (!rc)
                rc = derive_own(r, row, slots, deleted, eb);
            if (!rc)
                rc = write_derived(r, before, row, eb);
            gs_record_destroy(&row);
            gs_record_destroy(&before);
            free(slots);
        }
        for (size_t i = 0; i < nk; i++)
            free(keys[i]);
        free(keys);
    }
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
