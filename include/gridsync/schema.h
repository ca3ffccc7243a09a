/*
 * gridsync/schema.h: every record type the node and the hub exchange,
 * described once as data.
 *
 * A record type is a table of fields. That one table drives the SQL DDL of the
 * entity tables (gs_schema_ddl), the msgpack codec and validation of records
 * (record.h), CSV column order and header names (English name or Chinese
 * label), JSON names and the command-line options of `gridnode ... add`.
 * Adding a field is one row in proto/schema.c and its constant below; fields
 * are only ever appended, so that stored per-field clocks (replica.h) stay
 * aligned.
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

/* Field indices, one enum a record type: the position of each field in its
 * table in proto/schema.c, which is written with designated initializers
 * indexed by these constants and checked at compile time to hold exactly
 * __NFIELDS rows (and by test_record to leave none empty). Code names a field
 * by its constant (gs_record_str(r, GS_INCIDENT_STATUS)); gs_field_find is for
 * names that come from input (CSV headers, options, stored column names).
 * Fields are only appended, just before __NFIELDS: per-field clocks are stored
 * by index (replica.h). The key is always field 0, the village code (scope)
 * of village data field 1. (The count is __NFIELDS, not __COUNT, because
 * GS_AFFAIR__COUNT already counts the affair kinds of rules.h.) */
enum gs_division_field {
    GS_DIVISION_CODE,
    GS_DIVISION_NAME,
    GS_DIVISION_LEVEL,
    GS_DIVISION_PARENT_CODE,
    GS_DIVISION_SYNTHETIC,
    GS_DIVISION_COMMITTEE,
    GS_DIVISION__NFIELDS
};
enum gs_category_field {
    GS_CATEGORY_CODE,
    GS_CATEGORY_NAME_ZH,
    GS_CATEGORY_NAME_EN,
    GS_CATEGORY_PARENT_CODE,
    GS_CATEGORY__NFIELDS
};
enum gs_grid_field {
    GS_GRID_CODE,
    GS_GRID_VILLAGE_CODE,
    GS_GRID_NAME,
    GS_GRID_KIND,
    GS_GRID_HOUSEHOLDS,
    GS_GRID_POPULATION,
    GS_GRID_WORKER,
    GS_GRID_WORKER_PHONE,
    GS_GRID__NFIELDS
};
enum gs_incident_field {
    GS_INCIDENT_ID,
    GS_INCIDENT_VILLAGE_CODE,
    GS_INCIDENT_GRID_CODE,
    GS_INCIDENT_CATEGORY,
    GS_INCIDENT_TITLE,
    GS_INCIDENT_DESCRIPTION,
    GS_INCIDENT_SOURCE,
    GS_INCIDENT_REPORTER,
    GS_INCIDENT_REPORTED_AT,
    GS_INCIDENT_SEVERITY,
    GS_INCIDENT_STATUS,
    GS_INCIDENT_ASSIGNEE,
    GS_INCIDENT_DEADLINE,
    GS_INCIDENT_NOTE,
    GS_INCIDENT_CLOSED_AT,
    GS_INCIDENT__NFIELDS
};
enum gs_election_field {
    GS_ELECTION_ID,
    GS_ELECTION_VILLAGE_CODE,
    GS_ELECTION_COMMITTEE,
    GS_ELECTION_ELECTION_DATE,
    GS_ELECTION_LIST_PUBLISHED,
    GS_ELECTION_REGISTERED,
    GS_ELECTION_VOTED,
    GS_ELECTION_VALID,
    GS_ELECTION_INVALID,
    GS_ELECTION_SUPP_VOTED,
    GS_ELECTION_SEATS_CHAIR,
    GS_ELECTION_SEATS_VICE,
    GS_ELECTION_SEATS_MEMBER,
    GS_ELECTION_NOTE,
    GS_ELECTION_FINDINGS,
    GS_ELECTION_ELECTED,
    GS_ELECTION_WOMEN_ELECTED,
    GS_ELECTION_UNFILLED,
    GS_ELECTION_YIJIANTIAO,
    GS_ELECTION__NFIELDS
};
enum gs_candidate_field {
    GS_CANDIDATE_ID,
    GS_CANDIDATE_VILLAGE_CODE,
    GS_CANDIDATE_ELECTION_ID,
    GS_CANDIDATE_NAME,
    GS_CANDIDATE_GENDER,
    GS_CANDIDATE_POST,
    GS_CANDIDATE_ROUND,
    GS_CANDIDATE_VOTES,
    GS_CANDIDATE_PARTY_SECRETARY,
    GS_CANDIDATE_OUTCOME,
    GS_CANDIDATE_FINDINGS,
    GS_CANDIDATE__NFIELDS
};
enum gs_council_field {
    GS_COUNCIL_ID,
    GS_COUNCIL_VILLAGE_CODE,
    GS_COUNCIL_NAME,
    GS_COUNCIL_ESTABLISHED_ON,
    GS_COUNCIL_CHARTER_VERSION,
    GS_COUNCIL_MAX_TABLES,
    GS_COUNCIL_MAX_COST_PER_TABLE,
    GS_COUNCIL_MAX_GIFT,
    GS_COUNCIL_MAX_CARS,
    GS_COUNCIL_MAX_FUNERAL_DAYS,
    GS_COUNCIL_MAX_BRIDE_PRICE,
    GS_COUNCIL_CREMATION_REQUIRED,
    GS_COUNCIL__NFIELDS
};
enum gs_member_field {
    GS_MEMBER_ID,
    GS_MEMBER_VILLAGE_CODE,
    GS_MEMBER_COUNCIL_ID,
    GS_MEMBER_NAME,
    GS_MEMBER_GENDER,
    GS_MEMBER_ROLE,
    GS_MEMBER_PARTY_MEMBER,
    GS_MEMBER_TERM_START,
    GS_MEMBER_TERM_END,
    GS_MEMBER_PHONE,
    GS_MEMBER__NFIELDS
};
enum gs_affair_field {
    GS_AFFAIR_ID,
    GS_AFFAIR_VILLAGE_CODE,
    GS_AFFAIR_KIND,
    GS_AFFAIR_HOST,
    GS_AFFAIR_DECLARED_ON,
    GS_AFFAIR_EVENT_DATE,
    GS_AFFAIR_TABLES,
    GS_AFFAIR_COST_PER_TABLE,
    GS_AFFAIR_GIFT,
    GS_AFFAIR_GUESTS,
    GS_AFFAIR_CARS,
    GS_AFFAIR_DAYS,
    GS_AFFAIR_BRIDE_PRICE,
    GS_AFFAIR_CREMATION,
    GS_AFFAIR_EXEMPTION,
    GS_AFFAIR_HOST_IS_CADRE,
    GS_AFFAIR_SAVINGS,
    GS_AFFAIR_SUPERVISOR,
    GS_AFFAIR_VIOLATIONS,
    GS_AFFAIR__NFIELDS
};

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
