/*
 * gridsync/find.h: finding a record again, the same on the node and the hub:
 * the filters of `TYPE list`, an id given by a unique prefix (as git takes
 * commits), a record's history from the change log, and writing lists of
 * records through the sheet model (sheet.h): a table, CSV, JSON or XLSX.
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gridsync/change.h"
#include "gridsync/record.h"

/* The shortest id prefix taken (git's rule: shorter ones match too much). */
#define GS_FIND_MIN_PREFIX 4
/* How many records an ambiguous prefix's message names. */
#define GS_FIND_SHOW_MATCHES 5

/* The order of a list. */
typedef enum {
    GS_FIND_BY_ID,  /* id order: oldest first for generated ids (the command line's) */
    GS_FIND_URGENT, /* overdue ones first, then newest first (by the type's date) */
    GS_FIND_DEADLINE, /* open ones by deadline, so overdue first, then the nearest
                       * (none last), then the closed ones; newest first within a
                       * day: the city's queue */
} gs_find_order;

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
    const char *reporter; /* the reporter field, as typed (trimmed) */
    bool overdue;         /* only overdue ones: a deadline before today, not closed */
    const char *today;    /* the day "overdue" is judged on, YYYY-MM-DD; NULL: today
                           * in China time (gs_find_today) */
    gs_find_order order;  /* the order of the records */
    int64_t limit;        /* a page: at most this many (0: all) ... */
    int64_t offset;       /* ... after skipping this many */
    int64_t *total;       /* when not NULL, set to how many records pass the filter,
                           * whatever the page (for "共 N 条") */
    /* Areas, for the city's users and lists (village data only): */
    const char *county;   /* a county's code (6 digits): its villages */
    const char *township; /* a township's code (9 digits): its villages */
    const char *within;   /* a division code of 6, 9 or 12 digits, or "" for all:
                           * the villages whose codes start with it (a web user's
                           * scope, hweb_scope's prefix) */
    const char *assignee; /* the assignee field, as typed (trimmed) */
} gs_find_filter;

/* Appends the keys of the queue's order (GS_FIND_DEADLINE) to sql, as an
 * ORDER BY or an index takes them: closed ones last, then by deadline (none
 * last), the type's date newest first, the id; false (nothing appended) for
 * a type other than incidents (the only one with a deadline and a status). */
bool gs_find_queue_order(const gs_rectype *rt, gs_buf *sql);

/* Reads a --since/--until value as entry reads a date (2026-11-28,
 * 2026/11/28, 2026年11月28日) into day (YYYY-MM-DD); GS_EINVAL naming opt
 * and the text otherwise. */
int gs_find_day(const char *opt, const char *text, char day[11], gs_errbuf *eb);

/* Today's date in China time (UTC+8), YYYY-MM-DD. */
void gs_find_today(char out[11]);

/* Whole days from today to an incident's deadline: 2 is "剩余 2 天", -3 is
 * "超期 3 天". False when it has no deadline or is closed
 * (gs_status_is_closed). today NULL is gs_find_today. */
bool gs_find_days_left(const gs_record *incident, const char *today, int64_t *days);

/* The field `--since/--until` read for rt: its first date or date-time
 * field that is not computed; -1 when it has none. */
int gs_find_date_field(const gs_rectype *rt);

/* Called for each record found; rec stays the caller's (destroyed after
 * the call). A non-zero return stops the walk and is returned. */
typedef int (*gs_find_each)(const gs_record *rec, void *arg);

/* Every live record of rt that passes f, in f's order (and page). GS_OK; GS_EINVAL
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

/* What change c sets, as a history line shows it: "状态=受理 处置说明=…"
 * (labels and display values; ∅ for a cleared field), "删除 deleted" for a
 * deletion; key and village left out. */
void gs_find_change_text(const gs_change *c, gs_buf *b);
/* The same with each value written by display(arg, record, field, b) (a
 * page's own: references by name, times to the minute) and, when names, the
 * fields' names for their Chinese labels (an English page). */
typedef void (*gs_find_display_fn)(void *arg, const gs_record *r, int f, gs_buf *b);
void gs_find_change_text_by(const gs_change *c, gs_find_display_fn display, void *arg,
                            bool names, gs_buf *b);

/* One line of a history: time, origin #seq, and each field it sets (arg:
 * the FILE *). Fits gs_find_change_each. */
void gs_find_print_change(const gs_change *c, void *file);

/* The formats of a list. */
typedef enum { GS_FIND_TABLE, GS_FIND_JSON, GS_FIND_CSV, GS_FIND_XLSX } gs_find_format;

/* Reads "table", "json", "csv" or "xlsx"; -1 for anything else. */
int gs_find_format_parse(const char *s);

/* How a list is written besides its format. */
typedef struct gs_find_opts {
    const char *out; /* --out FILE: written there (an XLSX workbook needs it), else stdout */
    bool bom;        /* --bom: the CSV starts with a UTF-8 BOM (for Excel) */
    bool zh;         /* the CSV header holds the Chinese labels (export --zh) */
    bool json_lines; /* JSON one record a line, as `gridnode export` writes it */
} gs_find_opts;

/* Takes the output options out of argv: --out FILE (--out=FILE), --bom,
 * and when format is not NULL --format F (*format = F). The words left keep
 * their order and *argc their count; a word after another option that takes
 * a value is that value, not an option. GS_OK, or GS_EINVAL ("--out needs a
 * FILE"). */
int gs_find_take_opts(int *argc, char **argv, gs_find_opts *o, const char **format,
                      gs_errbuf *eb);

/* Checks that fmt can be written with o: XLSX needs --out. GS_OK or
 * GS_EINVAL with the message. */
int gs_find_check_opts(gs_find_format fmt, const gs_find_opts *o, gs_errbuf *eb);

/* A list being written: records are added (gs_find_out_add fits
 * gs_find_each) to the record sheet of its type (gs_sheet_for_type), then
 * gs_find_out_write renders it in its format: a table ending with its
 * count, CSV (the columns of `gridnode template`, as `gridnode export`),
 * JSON (an array of records), or an XLSX workbook. */
typedef struct gs_find_out gs_find_out;
/* o may be NULL (stdout, no BOM, English headers, JSON on one line). */
gs_find_out *gs_find_out_new_opts(const gs_rectype *rt, gs_find_format fmt,
                                  const gs_find_opts *o);
gs_find_out *gs_find_out_new(const gs_rectype *rt, gs_find_format fmt);
int gs_find_out_add(const gs_record *rec, void *out);
/* Writes the list to its --out file, else to f (f NULL: nothing), and
 * frees *o; NULL-safe. GS_OK, or GS_ENOMEM / GS_EIO with a message in eb. */
int gs_find_out_write(gs_find_out **o, FILE *f, gs_errbuf *eb);
/* gs_find_out_write without the message. */
int gs_find_out_end(gs_find_out **o, FILE *f);

/* A store's list query (node_store_list, hub_store_list). */
typedef int (*gs_find_lister)(void *store, const gs_rectype *rt, const gs_find_filter *f,
                              gs_find_each each, void *arg, gs_errbuf *eb);

/* Lists rt through list on store with filter f and writes it as fmt with
 * o (may be NULL) to its file or out: `TYPE list` and `gridnode export`.
 * GS_OK, or the error of the query or of the writing, with eb's message. */
int gs_find_print_list(const gs_rectype *rt, const gs_find_filter *f, gs_find_format fmt,
                       const gs_find_opts *o, gs_find_lister list, void *store, FILE *out,
                       gs_errbuf *eb);

#endif
