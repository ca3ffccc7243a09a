/*
 * gridsync/schema.h: every record type the node and the hub exchange,
 * described once as data.
 *
 * A record type is a table of fields. That one table drives the SQL DDL of the
 * entity tables (gs_schema_ddl), the msgpack codec and validation of records
 * (record.h), CSV column order and header names (English name or Chinese
 * label), JSON names and the command-line options of `gridnode ... add`.
 * Adding a field is one line in proto/schema.c; fields are only ever appended,
 * so that stored per-field clocks (replica.h) stay aligned.
 */
#ifndef GRIDSYNC_SCHEMA_H
#define GRIDSYNC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/buf.h"

/* Field value types. INT and BOOL are stored as integers, the rest as text. */
typedef enum {
    GS_FT_TEXT,     /* free UTF-8 text; min/max bound its length in characters */
    GS_FT_ID,       /* record id: [A-Za-z0-9._-], 1..64 bytes */
    GS_FT_CODE,     /* digits only; min/max bound the number of digits */
    GS_FT_INT,      /* 64-bit integer; min/max bound the value */
    GS_FT_BOOL,     /* 0 or 1; input yes/no, true/false, 1/0, 是/否 */
    GS_FT_ENUM,     /* one of enums[] (canonical English); input also the Chinese label */
    GS_FT_DATE,     /* YYYY-MM-DD */
    GS_FT_DATETIME, /* YYYY-MM-DDTHH:MM:SS+08:00 (China time; other offsets converted) */
    GS_FT_SLUG      /* lowercase identifier [a-z0-9_.], e.g. a category code */
} gs_ftype;

/* Field flags. */
enum {
    GS_F_REQUIRED = 1u << 0, /* must be present when a record is created */
    GS_F_KEY = 1u << 1,      /* the record's unique id (exactly one per type) */
    GS_F_SCOPE = 1u << 2,    /* the 12-digit village code the record belongs to */
    GS_F_COMPUTED = 1u << 3, /* derived by the domain rules; never taken from user input */
    GS_F_GENERATED = 1u << 4 /* key assigned at creation when the user gives none */
};

/* One field of a record type. */
typedef struct gs_field {
    const char *name;            /* column, msgpack key, JSON name, English CSV header */
    const char *label_zh;        /* Chinese CSV header and display label */
    gs_ftype type;
    int64_t min, max;            /* INT: value bounds; TEXT/CODE/SLUG: length bounds */
    unsigned flags;              /* GS_F_* */
    const char *const *enums;    /* ENUM: canonical values, NULL-terminated */
    const char *const *enums_zh; /* ENUM: Chinese labels, same order */
    const char *def;             /* default text applied on create, or NULL */
    const char *ref;             /* name of the record type this field refers to, or NULL */
} gs_field;

/* The record types, in a fixed order (also their wire numbers). */
typedef enum {
    GS_RT_DIVISION,
    GS_RT_CATEGORY,
    GS_RT_GRID,
    GS_RT_INCIDENT,
    GS_RT_ELECTION,
    GS_RT_CANDIDATE,
    GS_RT_COUNCIL,
    GS_RT_MEMBER,
    GS_RT_AFFAIR,
    GS_RT__COUNT
} gs_rtype;

/* One record type. */
typedef struct gs_rectype {
    gs_rtype id;
    const char *name;     /* singular, on the wire and in commands: "incident" */
    const char *plural;   /* for `gridnode import incidents`, and the SQL table name */
    const char *label_zh; /* "网格事件" */
    bool reference;       /* reference data: only the city writes it */
    const gs_field *fields;
    int nfields;
    int key;   /* index of the GS_F_KEY field */
    int scope; /* index of the GS_F_SCOPE field, or -1 for reference data */
} gs_rectype;

/* The record type with this id; NULL if out of range. */
const gs_rectype *gs_rectype_get(int id);
/* The record type named name (singular or plural); NULL if none. */
const gs_rectype *gs_rectype_find(const char *name);
/* The index of the field named name (English name or Chinese label); -1 if none. */
int gs_field_find(const gs_rectype *rt, const char *name);
/* The field a column header names: as gs_field_find, or the "中文 name" form
 * the sheet model writes (事件编号 id), both parts naming the same field;
 * -1 when none. */
int gs_field_find_header(const gs_rectype *rt, const char *h);
/* The field a command-line option names: --reported-at or --reported_at for
 * reported_at, and the short forms --grid (grid_code), --village
 * (village_code), --election (election_id), --council (council_id); -1 if none. */
int gs_field_option(const gs_rectype *rt, const char *opt);
/* The index of enum value text (canonical or Chinese label) in f->enums; -1 if none. */
int gs_enum_find(const gs_field *f, const char *text);
/* Chinese label of a canonical enum value, or the value itself if unknown. */
const char *gs_enum_zh(const gs_field *f, const char *value);

/* Appends the CREATE TABLE (IF NOT EXISTS) and CREATE INDEX statements of
 * rt's entity table to b. Besides the fields, the table has the replica
 * columns _clock (per-field clocks), _deleted, _hlc and _origin. */
void gs_schema_ddl(const gs_rectype *rt, gs_buf *b);

/* Appends the CSV header row of rt (English names, or Chinese labels when zh),
 * without computed fields, ending in "\r\n". */
void gs_schema_csv_header(const gs_rectype *rt, bool zh, gs_buf *b);

#endif
