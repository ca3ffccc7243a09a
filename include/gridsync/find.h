/*
 * gridsync/find.h: finding a record again, the same on the node and the hub:
 * the filters of `TYPE list`, an id given by a unique prefix (as git takes
 * commits), a record's history from the change log, and printing records
 * as a table, CSV or JSON.
 *
 * The queries run on the entity tables and the `changes` table, which both
 * stores create alike (replica.h, the stores' DDL); each store calls these
 * behind its own API (node_store_list, hub_store_list ...) so that no
 * command runs SQL. Every value a user gives is bound, never spliced into
 * the SQL: a filter holding quotes or SQL matches nothing special.
 */
#ifndef GS_FIND_H
#define GS_FIND_H

#include <sqlite3.h>
#include <stdio.h>

#include "gridsync/change.h"
#include "gridsync/record.h"

/* The shortest id prefix taken (git's rule: shorter ones match too much). */
#define GS_FIND_MIN_PREFIX 4
/* How many records an ambiguous prefix's message names. */
#define GS_FIND_SHOW_MATCHES 5

/* What `TYPE list` asks for; NULL is "any". Values are as a user types them
 * (parsed by the field's own parser: 受理 for accepted), except the dates,
 * which are canonical YYYY-MM-DD (gs_cli_date). */
typedef struct gs_find_filter {
    const char *status;   /* the status field */
    const char *category; /* the category or one under it (safety: safety.fire too) */
    const char *grid;     /* the grid_code field */
    const char *village;  /* the village (scope) */
    const char *since;    /* the type's date (gs_find_date_field) on or after */
    const char *until;    /* ... on or before */
    const char *text;     /* in any text field: titles, descriptions, names, notes */
} gs_find_filter;

/* The field `--since/--until` read for rt: its first date or date-time
 * field that is not computed; -1 when it has none. */
int gs_find_date_field(const gs_rectype *rt);

/* Called for each record found; rec stays the caller's (destroyed after
 * the call). A non-zero return stops the walk and is returned. */
typedef int (*gs_find_each)(const gs_record *rec, void *arg);

/* Every live record of rt that passes f, in id order. GS_OK; GS_EINVAL
 * naming the option when a filter does not apply to rt or its value does
 * not parse ("--status \"x\": ..."); GS_ESQL. */
int gs_find_list(sqlite3 *db, const gs_rectype *rt, const gs_find_filter *f, gs_find_each each,
                 void *arg, gs_errbuf *eb);

/* The live record of rt whose id is key, or whose id starts with key when
 * key has GS_FIND_MIN_PREFIX characters or more and no id is key itself.
 * *out (the caller's) only on GS_OK. GS_ENOTFOUND ("网格事件 x not found");
 * GS_EEXIST when several ids start with key: the message names how many
 * and, a line each, up to GS_FIND_SHOW_MATCHES of them with their title or
 * name; GS_ESQL. */
int gs_find_one(sqlite3 *db, const gs_rectype *rt, const char *key, gs_record **out, gs_errbuf *eb);

/* Called for each change of a record's history, in clock order; c (with
 * origin, seq and hlc) stays the caller's. */
typedef void (*gs_find_change_each)(const gs_change *c, void *arg);

/* The changes of record key of rt in the `changes` table of db, in (hlc,
 * origin) order: the whole history, the values that lost included. A change
 * whose body does not decode is given with op 0 and no record. */
int gs_find_history(sqlite3 *db, const gs_rectype *rt, const char *key, gs_find_change_each each,
                    void *arg, gs_errbuf *eb);

/* ---- printing ----------------------------------------------------------- */

/* Display text of field f: enum values in Chinese, booleans as 是/否;
 * nothing when it has no value. */
void gs_find_display(const gs_record *r, int f, gs_buf *b);

/* "网格事件 ID" and then a line per field with a value, labels aligned. */
void gs_find_print_record(const gs_record *rec, FILE *f);

/* One line of a history: time, origin #seq, and each field it sets (arg:
 * the FILE *). Fits gs_find_change_each. */
void gs_find_print_change(const gs_change *c, void *file);

/* The formats of a list. */
typedef enum { GS_FIND_TABLE, GS_FIND_JSON, GS_FIND_CSV } gs_find_format;

/* Reads "table", "json" or "csv"; -1 for anything else. */
int gs_find_format_parse(const char *s);

/* A list being printed: records are added (gs_find_out_add fits
 * gs_find_each), then gs_find_out_end writes it. The table's columns are
 * the id, the required fields and the findings and status; CSV has the
 * columns of `gridnode template`; JSON is an array of records. */
typedef struct gs_find_out gs_find_out;
gs_find_out *gs_find_out_new(const gs_rectype *rt, gs_find_format fmt);
int gs_find_out_add(const gs_record *rec, void *out);
/* Writes the list to f (a table ends with its count; f NULL: nothing) and
 * frees *o; NULL-safe. */
int gs_find_out_end(gs_find_out **o, FILE *f);

#endif
