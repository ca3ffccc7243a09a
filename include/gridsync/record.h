/*
 * gridsync/record.h: one record (or the subset of fields one change sets),
 * its parsing from user text, validation, msgpack codec and JSON output, all
 * driven by the field table of its type (schema.h).
 *
 * Each field is in one of three states: unset (the change does not touch it),
 * null (the change clears it) or set. Text values are owned copies.
 *
 * Fields are named by their index, a constant of schema.h (GS_INCIDENT_STATUS).
 * Every accessor below that takes an index checks it against the record's
 * type: an index out of range is a programming error, never input. It prints
 * one line to stderr ("gridsync: gs_record_str: field 42 of incident out of
 * range (0..14)") and then, in a debug build (NDEBUG not defined), aborts; in
 * a release build the call does nothing and answers as for an unset field
 * (has: false, str: NULL, int: def, format: nothing) or with GS_EINVAL
 * (parse, set_*). No accessor reads or writes out of bounds.
 */
#ifndef GRIDSYNC_RECORD_H
#define GRIDSYNC_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"
#include "gridsync/mpack.h"
#include "gridsync/schema.h"

typedef enum { GS_V_UNSET = 0, GS_V_NULL, GS_V_SET } gs_vstate;

typedef struct gs_value {
    gs_vstate state;
    int64_t i; /* INT, BOOL */
    char *s;   /* every other type; owned */
} gs_value;

typedef struct gs_record {
    const gs_rectype *rt;
    gs_value *v; /* rt->nfields values */
} gs_record;

/* A new record with every field unset; NULL when out of memory. The caller
 * owns it and frees it with gs_record_destroy. */
gs_record *gs_record_new(const gs_rectype *rt);
/* Frees *rp and sets *rp to NULL; NULL-safe. */
void gs_record_destroy(gs_record **rp);
/* A deep copy; NULL when out of memory. */
gs_record *gs_record_dup(const gs_record *r);
/* Unsets every field. */
void gs_record_clear(gs_record *r);

/* Parses user text (command line, CSV cell) into field f, converting it to the
 * canonical form: Chinese enum labels to their value, dates in the forms
 * 2026-11-28, 2026/11/28, 2026年11月28日, booleans 是/否/yes/no/1/0, and so on.
 * Empty text makes the field null. Leading and trailing blanks are trimmed.
 * What Excel does to typed values is undone here, for every caller alike:
 *  - one leading "'" before = + - @ tab or CR is dropped (the spreadsheet's
 *    mark for "text, not a formula", which gs_record_csv writes);
 *  - a whole number with thousands separators ("1,200") is that number;
 *  - a five-digit number in a date or date-time field is an Excel date
 *    serial (days since 1899-12-30; "46000" is 2025-12-09, "46000.5" noon);
 *  - a code or id in scientific notation ("4.11121E+14") has lost digits and
 *    is refused with a message saying to format the column as Text (文本)
 *    and type the values again.
 * On error the field is unchanged and eb names the field (Chinese label and
 * English name) and says what was expected. */
int gs_record_parse(gs_record *r, int f, const char *text, gs_errbuf *eb);

/* Sets a canonical text value (copied) or, with s == NULL, null. No checks
 * beyond the type being a text type (else GS_ETYPE); use gs_record_check. */
int gs_record_set_str(gs_record *r, int f, const char *s);
int gs_record_set_int(gs_record *r, int f, int64_t v);
void gs_record_unset(gs_record *r, int f);
/* Makes field f null: the change clears it. */
void gs_record_set_null(gs_record *r, int f);

/* Called when f is not a field index of r's type: says so on stderr, aborts
 * in a debug build, and returns false (see the banner). */
bool gs_record_bad_field(const gs_record *r, int f, const char *func);
/* Whether f is a field index of r's type; every accessor asks first. */
static inline bool gs_record_field_ok(const gs_record *r, int f, const char *func)
{
    return (f >= 0 && f < r->rt->nfields) || gs_record_bad_field(r, f, func);
}

/* Whether field f is set (not unset, not null). */
static inline bool gs_record_has(const gs_record *r, int f)
{
    return gs_record_field_ok(r, f, __func__) && r->v[f].state == GS_V_SET;
}
/* The text of a set text field, or NULL when unset or null. */
const char *gs_record_str(const gs_record *r, int f);
/* The value of a set INT/BOOL field, or def when unset or null. */
int64_t gs_record_int(const gs_record *r, int f, int64_t def);
/* The position in f's enum values (gs_field.enums) of its set value; -1 when
 * unset, null, not an enum field or not one of the values. */
int gs_record_enum(const gs_record *r, int f);
/* The key's text; NULL if not set. */
const char *gs_record_key(const gs_record *r);
/* The scope (village code); NULL if not set or reference data. */
const char *gs_record_scope(const gs_record *r);

/* Copies every field that is set or null in src into dst; GS_ETYPE when dst
 * is of another type. */
int gs_record_merge(gs_record *dst, const gs_record *src);

/* Validation modes. */
enum {
    GS_CHECK_PARTIAL = 0,  /* only the fields present are checked */
    GS_CHECK_COMPLETE = 1, /* also every required field must be set */
};
/* Checks every present field against its type, bounds, enum values and UTF-8;
 * a null required field is an error in either mode. The key must be set. */
int gs_record_check(const gs_record *r, int mode, gs_errbuf *eb);

/* Fills unset fields that have a default (gs_field.def). */
void gs_record_apply_defaults(gs_record *r);

/* Days since 1970-01-01 of a canonical date YYYY-MM-DD that exists; false
 * for anything else. */
bool gs_date_days(const char *s, int64_t *days);
/* The canonical date YYYY-MM-DD of a day count since 1970-01-01 (the
 * inverse of gs_date_days). */
void gs_date_from_days(int64_t days, char out[11]);
/* a / b rounded towards minus infinity (b > 0): whole days or seconds of an
 * instant before 1970 too. */
int64_t gs_floor_div(int64_t a, int64_t b);
/* Appends the canonical DATETIME (China time, to the second) of a Unix time
 * in milliseconds: 2026-11-28T09:30:00+08:00. */
void gs_datetime_from_ms(int64_t unix_ms, gs_buf *b);

/* Appends field f in canonical text form (empty when unset or null). */
void gs_record_format(const gs_record *r, int f, gs_buf *b);
/* A new JSON object of the set and null fields, in schema order, keyed by
 * field name: INT as integers, BOOL as true/false, null fields as null,
 * every other type as its canonical text. The caller owns the reference
 * (json_decref); NULL when out of memory. The web API's records are this. */
json_t *gs_record_to_json(const gs_record *r);
/* Appends gs_record_to_json(r) as compact JSON text ({"id":"a","severity":2}),
 * keys in schema order, UTF-8 as is (not \u-escaped); b->err is set when out
 * of memory. The form of `show --json`; a list's JSON rows (sheet_record.c)
 * are the same bytes. */
void gs_record_json(const gs_record *r, gs_buf *b);
/* A new JSON string of text (the caller owns it); bytes that are not UTF-8
 * become U+FFFD, so that one damaged value never fails a whole answer. NULL
 * when out of memory. */
json_t *gs_json_text(const char *s);
/* Appends a CSV row of the non-computed fields in header order, "\r\n" ended.
 * A text value that starts with = + - @ tab or CR is written behind a "'",
 * so that a spreadsheet shows it as text instead of running it as a formula
 * (gs_record_parse drops that "'" again); numbers are written as they are. */
void gs_record_csv(const gs_record *r, gs_buf *b);

/* Appends a msgpack map {name: value} of the set (value) and null (nil)
 * fields, computed fields left out: a derived value is never part of a
 * change (derive.h). Decoding still accepts them from older bodies; the
 * replica ignores them. */
void gs_record_encode(const gs_record *r, gs_buf *b);
/* Decodes a map written by gs_record_encode into r (which must be of the
 * right type and empty). Unknown field names, wrong value kinds, oversized or
 * non-UTF-8 strings are errors naming the field; values are then checked
 * with gs_record_check(..., GS_CHECK_PARTIAL). */
int gs_record_decode(gs_mp_reader *rd, gs_record *r, gs_errbuf *eb);

#endif
