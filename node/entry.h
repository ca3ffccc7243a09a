/*
 * node/entry.h: what happens when staff enter or edit a record, whichever way
 * it arrives (a command, a CSV row): scope and references are checked, the
 * domain rules of proto/rules.c are applied, derived fields (election
 * findings, candidate outcomes, affair violations, closed_at) are computed
 * and stored with the record, and the changes are appended through the store.
 *
 * All functions run inside a transaction the caller opened with
 * node_store_begin; on error the caller rolls back, so a refused entry
 * leaves nothing behind.
 */
#ifndef NODE_ENTRY_H
#define NODE_ENTRY_H

#include "gridsync/buf.h"
#include "gridsync/record.h"
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

/* Appends the description of a findings set ("A;B") to b, one line each:
 * Chinese text, code and legal source. */
void node_describe_findings(const char *findings, gs_buf *b);

#endif
