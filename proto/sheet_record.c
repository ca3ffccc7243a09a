/*
 * sheet_record.c: the sheet of a record type (sheet.h, gs_sheet_for_type),
 * generated from its field table, so that `TYPE list` and `gridnode export`
 * go through the one sheet model and its renderers like every report.
 *
 * Invariants: a cell holds the field's canonical text (gs_record_format),
 * or is missing when the record has no value; the column's field pointer
 * lets the terminal, HTML and XLSX show an enumeration in Chinese while CSV
 * and JSON keep the canonical value. With those columns the sheet's CSV is
 * byte for byte gs_schema_csv_header + gs_record_csv (the formula guard of
 * both applies to every type but integers and booleans, which is what the
 * column types below give) and its sparse JSON is gs_record_json's.
 */
#include <stdlib.h>
#include <string.h>

#include "gridsync/derive.h"
#include "gridsync/record.h"
#include "gridsync/schema.h"
#include "gridsync/sheet.h"

/* The sheet type of a field type. */
static gs_ctype col_type(gs_ftype t)
{
    switch (t) {
    case GS_FT_TEXT: return GS_CT_TEXT;
    case GS_FT_ENUM: return GS_CT_TEXT; /* canonical value, shown in Chinese */
    case GS_FT_INT: return GS_CT_INT;
    case GS_FT_BOOL: return GS_CT_BOOL;
    case GS_FT_DATE: return GS_CT_DATE;
    case GS_FT_DATETIME: return GS_CT_DATETIME;
    case GS_FT_ID:
    case GS_FT_CODE:
    case GS_FT_SLUG:
    default: return GS_CT_CODE;
    }
}

/* Whether the terminal shows a field: the key, the required fields (not
 * long text), and the computed findings and the status. The village is
 * left out: a list is of one village or says it in the id. */
static bool table_column(const gs_rectype *rt, int i)
{
    const gs_field *f = &rt->fields[i];
    if (f->flags & GS_F_SCOPE)
        return false;
    if (f->flags & (GS_F_KEY | GS_F_REQUIRED))
        return f->type != GS_FT_TEXT || f->max <= 200;
    return i == gs_derive_findings_field(rt) ||
           (rt->id == GS_RT_CANDIDATE && i == GS_CANDIDATE_OUTCOME) ||
           (rt->id == GS_RT_INCIDENT && i == GS_INCIDENT_STATUS);
}

gs_sheet *gs_sheet_for_type(const gs_rectype *rt, bool zh)
{
    gs_col *cols = calloc((size_t)rt->nfields, sizeof *cols);
    if (!cols)
        return NULL;
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        cols[i] = (gs_col){.key = f->name,
                           .zh = f->label_zh,
                           .type = col_type(f->type),
                           .flags = (table_column(rt, i) ? 0u : GS_COL_NOTABLE) |
                                    ((f->flags & GS_F_COMPUTED) ? GS_COL_NOCSV : 0u),
                           .rollup = GS_ROLL_NONE,
                           .field = f};
    }
    gs_sheet *s = gs_sheet_new_owning(rt->plural, rt->label_zh, cols, (size_t)rt->nfields);
    if (s) {
        gs_sheet_set_csv_head(s, zh ? GS_HEAD_ZH : GS_HEAD_KEY);
        gs_sheet_set_sparse(s);
    }
    return s;
}

int gs_sheet_add_record(gs_sheet *s, const gs_record *rec)
{
    gs_row row = gs_sheet_row(s);
    gs_buf cell = GS_BUF_INIT;
    for (int i = 0; i < rec->rt->nfields; i++) {
        if (!gs_record_has(rec, i)) {
            gs_row_null(&row);
            continue;
        }
        gs_buf_reset(&cell);
        gs_record_format(rec, i, &cell);
        if (cell.err)
            gs_sheet_fail(s);
        gs_row_text(&row, cell.data ? cell.data : "");
    }
    gs_row_end(&row);
    gs_buf_free(&cell);
    return gs_sheet_failed(s) ? GS_ENOMEM : GS_OK;
}
