/*
 * store_users.c: what the city's pages keep in the hub's store (see
 * store.h): the people of `gridhub web` (users with a role and a division),
 * the audit log of what they did, and the divisions their scope is drawn
 * from. Every query of these tables is here; store.c creates them.
 */
#include <stdio.h>
#include <string.h>

#include "gridsync/stmt.h"
#include "store.h"

/* ---- users and the audit log ------------------------------------------------ */

#define USER_COLUMNS "login, name, role, division, pw_hash, disabled, created_ms"

static void read_user(sqlite3_stmt *st, hub_user *u)
{
    memset(u, 0, sizeof *u);
    gs_col_text(st, 0, u->login, sizeof u->login);
    gs_col_text(st, 1, u->name, sizeof u->name);
    gs_col_text(st, 2, u->role, sizeof u->role);
    gs_col_text(st, 3, u->division, sizeof u->division);
    gs_col_text(st, 4, u->pw_hash, sizeof u->pw_hash);
    u->disabled = sqlite3_column_int(st, 5) != 0;
    u->created_ms = sqlite3_column_int64(st, 6);
}

int hub_user_add(hub_store *s, const hub_user *u, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users (" USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, "
                           "nullif(?5, ''), ?6, ?7)",
                           -1, &st, NULL))
        return gs_sql_err(db, eb, "adding the user");
    sqlite3_bind_text(st, 1, u->login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->division, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, u->pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, u->disabled);
    sqlite3_bind_int64(st, 7, u->created_ms ? u->created_ms : (sqlite3_int64)gs_wall_ms());
    int step = sqlite3_step(st), rc = GS_OK;
    if (step == SQLITE_CONSTRAINT)
        rc = gs_errf(eb, GS_EEXIST, "user %s already exists", u->login);
    else if (step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "adding the user");
    sqlite3_finalize(st);
    return rc;
}

int hub_user_get(hub_store *s, const char *login, hub_user *out, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st = gs_stmt(hub_store_stmts(s), db,
                               "SELECT " USER_COLUMNS " FROM users WHERE login = ?1");
    if (!st)
        return gs_sql_err(db, eb, "reading the users");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = GS_OK;
    if (step == SQLITE_ROW)
        read_user(st, out);
    else if (step == SQLITE_DONE)
        rc = gs_errf(eb, GS_ENOTFOUND, "no user %s", login);
    else
        rc = gs_sql_err(db, eb, "reading the users");
    gs_stmt_done(st);
    return rc;
}

int hub_user_each(hub_store *s, int (*fn)(const hub_user *, void *), void *arg, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " USER_COLUMNS " FROM users ORDER BY role = 'township', "
                           "role = 'county', division, login",
                           -1, &st, NULL))
        return gs_sql_err(db, eb, "reading the users");
    int rc = GS_OK, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        hub_user u;
        read_user(st, &u);
        rc = fn(&u, arg);
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "reading the users");
    sqlite3_finalize(st);
    return rc;
}

/* One UPDATE of a user's row by login; GS_ENOTFOUND when there is none. */
static int user_update(hub_store *s, const char *sql, const char *login, const char *text,
                       int64_t num, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return gs_sql_err(db, eb, "updating the user");
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, num);
    int step = sqlite3_step(st), rc = GS_OK;
    if (step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "updating the user");
    else if (sqlite3_changes(db) == 0)
        rc = gs_errf(eb, GS_ENOTFOUND, "no user %s", login);
    sqlite3_finalize(st);
    return rc;
}

int hub_user_set_disabled(hub_store *s, const char *login, bool disabled, gs_errbuf *eb)
{
    return user_update(s, "UPDATE users SET disabled = ?2 WHERE login = ?1", login, NULL,
                       disabled, eb);
}

int hub_user_set_password(hub_store *s, const char *login, const char *hash, gs_errbuf *eb)
{
    return user_update(s, "UPDATE users SET pw_hash = ?2 WHERE login = ?1", login, hash, 0, eb);
}

int hub_audit_add(hub_store *s, const char *user, const char *address, const char *action,
                  const char *detail, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO audit (at_ms, user, address, action, detail) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL))
        return gs_sql_err(db, eb, "writing the audit log");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)gs_wall_ms());
    sqlite3_bind_text(st, 2, user ? user : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, address ? address : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? GS_OK : gs_sql_err(db, eb, "writing the audit log");
    sqlite3_finalize(st);
    return rc;
}

int hub_audit_each(hub_store *s, int64_t offset, int64_t limit, int64_t *total,
                   int (*fn)(const hub_audit *, void *), void *arg, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (total) {
        *total = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, NULL))
            return gs_sql_err(db, eb, "reading the audit log");
        if (sqlite3_step(st) == SQLITE_ROW)
            *total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT id, at_ms, user, address, action, detail FROM audit "
                           "ORDER BY id DESC LIMIT ?1 OFFSET ?2",
                           -1, &st, NULL))
        return gs_sql_err(db, eb, "reading the audit log");
    sqlite3_bind_int64(st, 1, limit);
    sqlite3_bind_int64(st, 2, offset);
    int rc = GS_OK, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        hub_audit a;
        memset(&a, 0, sizeof a);
        a.id = sqlite3_column_int64(st, 0);
        a.at_ms = sqlite3_column_int64(st, 1);
        gs_col_text(st, 2, a.user, sizeof a.user);
        gs_col_text(st, 3, a.address, sizeof a.address);
        gs_col_text(st, 4, a.action, sizeof a.action);
        gs_col_text(st, 5, a.detail, sizeof a.detail);
        rc = fn(&a, arg);
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "reading the audit log");
    sqlite3_finalize(st);
    return rc;
}

#define DIVISION_COLUMNS "code, name, level, parent_code"

static void read_division(sqlite3_stmt *st, hub_division *d)
{
    memset(d, 0, sizeof *d);
    gs_col_text(st, 0, d->code, sizeof d->code);
    gs_col_text(st, 1, d->name, sizeof d->name);
    gs_col_text(st, 2, d->level, sizeof d->level);
    gs_col_text(st, 3, d->parent, sizeof d->parent);
}

int hub_division_get(hub_store *s, const char *code, hub_division *out, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st = gs_stmt(hub_store_stmts(s), db,
                               "SELECT " DIVISION_COLUMNS " FROM divisions "
                               "WHERE code = ?1 AND _deleted = 0");
    if (!st)
        return gs_sql_err(db, eb, "reading the divisions");
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = GS_OK;
    if (step == SQLITE_ROW) {
        read_division(st, out);
    } else if (step == SQLITE_DONE) {
        rc = gs_errf(eb, GS_ENOTFOUND, "no division %s in the division table", code);
    } else {
        rc = gs_sql_err(db, eb, "reading the divisions");
    }
    gs_stmt_done(st);
    return rc;
}

int hub_division_children(hub_store *s, const char *parent, const char *level,
                          int (*fn)(const hub_division *, void *), void *arg, gs_errbuf *eb)
{
    sqlite3 *db = hub_store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " DIVISION_COLUMNS " FROM divisions WHERE _deleted = 0 "
                           "AND level = ?2 AND (?1 = '' OR parent_code = ?1) ORDER BY code",
                           -1, &st, NULL))
        return gs_sql_err(db, eb, "reading the divisions");
    sqlite3_bind_text(st, 1, parent ? parent : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, level, -1, SQLITE_STATIC);
    int rc = GS_OK, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        hub_division d;
        read_division(st, &d);
        rc = fn(&d, arg);
    }
    if (!rc && step != SQLITE_DONE)
        rc = gs_sql_err(db, eb, "reading the divisions");
    sqlite3_finalize(st);
    return rc;
}
