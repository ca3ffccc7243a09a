/*
 * gridsync/replica.h: the replica rules, the one piece of code that turns a
 * change into entity-table state, shared by node and hub.
 *
 * Convergence: each field's value is the one written by the change with the
 * greatest (hlc, origin) pair (per-field last-writer-wins; origins compare
 * as byte strings). Whether a record exists is one more such "field": an
 * upsert sets it, a delete clears it. Applying the same set of changes in
 * any order, any number of times, gives the same row on every replica.
 * The losing values are not kept here; every change stays in the log.
 *
 * The caller owns the transaction: gs_replica_apply never begins or commits.
 */
#ifndef GRIDSYNC_REPLICA_H
#define GRIDSYNC_REPLICA_H

#include <sqlite3.h>
#include <stdbool.h>

#include "gridsync/change.h"
#include "gridsync/err.h"
#include "gridsync/record.h"

typedef struct gs_replica gs_replica;

/* Creates the entity tables of every record type (IF NOT EXISTS) in db. */
int gs_replica_create_schema(sqlite3 *db, gs_errbuf *eb);

/* Prepares the statements for db (whose schema must exist). A column of a
 * field added to a record type since the database was made is added first
 * (fields are only appended). The db stays the caller's; destroy the replica
 * before closing it. */
int gs_replica_open(gs_replica **out, sqlite3 *db, gs_errbuf *eb);
void gs_replica_destroy(gs_replica **rp);

/* Applies one change. *won (may be NULL) is set to the number of fields the
 * change won (0: it lost everywhere, a stale or repeated change). */
int gs_replica_apply(gs_replica *r, const gs_change *c, int *won, gs_errbuf *eb);

/* The same, for a change that may only touch records of village (a node's
 * push at the hub): a record that exists already (deleted or not) and is
 * stored under another village is left as it is, and GS_ESCOPE returned.
 * The check reads the row the apply reads anyway. village NULL: no check. */
int gs_replica_apply_in(gs_replica *r, const gs_change *c, const char *village, int *won,
                        gs_errbuf *eb);

/* How a change is applied. */
typedef struct gs_apply_opts {
    /* A node's push at the hub: a record that exists already (deleted or not)
     * and is stored under another village is left as it is (GS_ESCOPE). */
    const char *village;
    /* Judge the change: the hard checks of entry (derive.h) and its
     * references, on the record as it would be after the change. A change
     * that fails is refused with nothing written: GS_ERULE (figures, known
     * categories), GS_ESCOPE (a code or record of another village) or
     * GS_ENOTFOUND (a missing election or council, only when refs_required). */
    bool judge;
    bool refs_required;
} gs_apply_opts;

/* Applies one change with options (NULL: none). After the row is written its
 * derived values, and those of the rows depending on it, are computed again
 * from the stored rows (derive.h); a derived field in a change is ignored. */
int gs_replica_apply_opts(gs_replica *r, const gs_change *c, const gs_apply_opts *o, int *won,
                          gs_errbuf *eb);

/* Computes every derived value of every record again from the stored rows
 * (an upgrade from a database that replicated them as facts). The caller
 * owns the transaction. */
int gs_replica_derive_all(gs_replica *r, gs_errbuf *eb);

/* The council whose standards a village's affairs are held to: its oldest
 * live council by id, in *out (the caller owns it), or *out NULL when the
 * village has none. */
int gs_replica_village_council(gs_replica *r, const char *village, gs_record **out,
                               gs_errbuf *eb);

/* The upgrade of a store whose derived values were replicated as facts: in
 * one transaction of its own, every derived value computed again
 * (gs_replica_derive_all) and meta.schema_version set to version (both
 * stores keep a meta(key, value) table). All or nothing. */
int gs_replica_upgrade_derived(gs_replica *r, int version, gs_errbuf *eb);

/* The current values of a record, in a new record the caller owns (*out).
 * GS_ENOTFOUND when absent or deleted. */
int gs_replica_get(gs_replica *r, const gs_rectype *rt, const char *key, gs_record **out,
                   gs_errbuf *eb);

/* Reads the current row at the statement's columns [first, first+nfields)
 * into a new record; for callers that select whole rows themselves. */
int gs_replica_row(sqlite3_stmt *st, int first, const gs_rectype *rt, gs_record **out);

/* Appends "f1, f2, ..." (the entity columns of rt, in schema order). */
void gs_replica_columns(const gs_rectype *rt, gs_buf *b);

#endif
