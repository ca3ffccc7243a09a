/*
 * node/entry.h: what happens when staff enter or edit a record, whichever way
 * it arrives (a command, a CSV row): scope, id, defaults, required fields and
 * the incident workflow are checked here; the store then judges the change
 * with the core's hard checks and references (derive.h) and computes the
 * derived fields (election findings, candidate outcomes, affair violations,
 * closed_at) from the stored rows, as the hub does.
 *
 * All functions run inside a transaction the caller opened with
 * node_store_begin; on error the caller rolls back, so a refused entry
 * leaves nothing behind.
 */
#ifndef NODE_ENTRY_H
#define NODE_ENTRY_H

#include "gridsync/buf.h"
#include "gridsync/record.h"
#include "gridsync/rules.h"
#include "store.h"

/* Creates a record. rec holds the fields the user gave; the key is generated
 * when absent, the village defaults to the node's, defaults are applied.
 * On success rec holds the stored values (id included); findings and
 * violations are described in notes (Chinese, one per line) when not NULL. */
int node_entry_create(node_store *s, gs_record *rec, gs_buf *notes, gs_errbuf *eb);

/* Updates an existing record with the fields set in edit (key required).
 * Incident status changes must follow the workflow. On success edit holds
 * the full new state. */
int node_entry_update(node_store *s, gs_record *edit, gs_buf *notes, gs_errbuf *eb);

/* One entry in its own transaction, as every door makes it (the command
 * line's add/update, the pages' forms, the JSON API): node_store_begin,
 * node_entry_create (create) or node_entry_update, node_store_commit; on
 * any error rolled back, so a refused entry stores nothing. Unlike the
 * functions above it opens the transaction itself. */
int node_entry_save(node_store *s, gs_record *rec, bool create, gs_buf *notes, gs_errbuf *eb);

/* Appends the description of a findings set ("A;B") to b, one line each:
 * Chinese text, code and the law and article it rests on for an election of
 * committee kind committee (affairs: any). */
void node_describe_findings(const char *findings, gs_committee committee, gs_buf *b);

/* The committee kind of an election, or of a candidate's election (a
 * villagers' committee when unknown). */
gs_committee node_committee_of(node_store *s, const gs_record *rec);

#endif
