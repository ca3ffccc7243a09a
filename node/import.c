/*
 * import.c: importing a CSV file or an Excel workbook as records (see
 * import.h), for `gridnode import` and the 导入导出 page alike.
 *
 * Import is all rows or none: one transaction; every row goes through the
 * same entry rules as a typed command (entry.c); every error names the row
 * as Excel numbers it (header = row 1), the column and what was expected,
 * and all errors are listed before anything is decided.
 *
 * Import can be run twice. A row's identity is its id (the key column,
 * English or Chinese header) when it has one: a row whose id exists and
 * whose values differ updates only the fields that differ, through
 * node_entry_update (so the workflow and the rules apply); one whose values
 * are the same appends nothing. A row without an id is known by its
 * fingerprint: BLAKE2b of the type, the village and the canonical values of
 * the row's columns (by field name, so the column order does not matter),
 * and which occurrence of those values in the file it is (so two identical
 * rows of one ledger stay two records). The node remembers fingerprint ->
 * record id (store.h, node-local), and a row whose fingerprint is known is
 * unchanged, whatever was edited in the record since: re-importing a ledger
 * must not undo later work. Ordinal columns (序号, 行号, No., #, and a bare
 * 编号 of row numbers) are recognised and ignored; a row whose 序号 is 示例
 * (a template's example) is skipped.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entry.h"
#include "gridsync/xlsx.h"
#include "import.h"

#define COL_ORDINAL (-2) /* col_field value of an ignored ordinal column */

const char *node_import_encoding_name(gs_csv_encoding e)
{
    return e == GS_CSV_XLSX        ? "XLSX"
           : e == GS_CSV_GB18030  ? "GB18030/GBK"
           : e == GS_CSV_UTF8_BOM ? "UTF-8 BOM"
                                  : "UTF-8";
}


/* Headers of columns that only number the rows of a ledger. 编号 ("number")
 * is one only when the type has no field of that name and the column holds
 * row numbers; the key columns are named 事件编号, 选举编号 ... or id. */
static bool ordinal_header(const char *h)
{
    static const char *const names[] = {"序号", "行号", "No.", "No", "#", "编号"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(h, names[i]))
            return true;
    return false;
}

/* For a bare 编号 column: the first data row whose cell is not a row number
 * (digits), or nrows when all are. */
static size_t first_non_ordinal(const gs_csv *csv, size_t col)
{
    for (size_t r = 0; r < gs_csv_nrows(csv); r++) {
        const char *v = gs_csv_cell(csv, r, col);
        if (strspn(v, "0123456789") != strlen(v) && strcmp(v, GS_XLSX_EXAMPLE_MARK))
            return r;
    }
    return gs_csv_nrows(csv);
}

/* Hands one error to the caller's sink. */
static void report(const node_import_opts *o, size_t row, const char *col, const char *header,
                   const char *msg)
{
    node_import_error e = {row, col, header, msg};
    if (o->error)
        o->error(&e, o->arg);
}

/* Maps header columns to fields; -1 for none, COL_ORDINAL for an ordinal
 * column. Reports every bad header; returns how many there were. */
static int map_headers(const node_import_opts *o, const gs_rectype *rt, const gs_csv *csv,
                       size_t hrow, int *col_field)
{
    int errors = 0;
    bool seen[128] = {false};
    char cl[24], msg[600];
    for (size_t c = 0; c < gs_csv_ncols(csv); c++) {
        const char *h = gs_csv_header(csv, c);
        gs_csv_col_label(csv, c, cl);
        int f = gs_field_find_header(rt, h);
        col_field[c] = f;
        if (f < 0 && ordinal_header(h)) {
            size_t r = strcmp(h, "编号") ? gs_csv_nrows(csv) : first_non_ordinal(csv, c);
            col_field[c] = COL_ORDINAL;
            if (r < gs_csv_nrows(csv)) {
                snprintf(msg, sizeof msg,
                         "\"%.40s\" 不是行号；若这一列是记录的编号，请把表头改为 %s（或 %s），"
                         "若是行号，请改为 序号 (not a row number: name the column %s if it "
                         "holds the ids of the records, 序号 if it numbers the rows)",
                         gs_csv_cell(csv, r, c), rt->fields[rt->key].label_zh,
                         rt->fields[rt->key].name, rt->fields[rt->key].label_zh);
                report(o, gs_csv_row_number(csv, r), cl, h, msg);
                errors++;
            }
        } else if (f < 0) {
            snprintf(msg, sizeof msg,
                     "not a column of %s; expected the headers of `gridnode template %s`",
                     rt->plural, rt->plural);
            report(o, hrow, cl, h, msg);
            errors++;
        } else if (rt->fields[f].flags & GS_F_COMPUTED) {
            report(o, hrow, cl, h, "computed by the rules, not imported");
            errors++;
        } else if (seen[f]) {
            report(o, hrow, cl, h, "the column appears twice");
            errors++;
        } else {
            seen[f] = true;
        }
    }
    for (int f = 0; f < rt->nfields; f++) {
        const gs_field *fd = &rt->fields[f];
        if (gs_xlsx_column_required(rt, f) && !seen[f]) {
            snprintf(msg, sizeof msg, "the required column %s (%s) is missing", fd->label_zh,
                     fd->name);
            report(o, hrow, NULL, NULL, msg);
            errors++;
        }
    }
    return errors;
}

/* ---- row identity --------------------------------------------------------- */

/* How often each content hash has been seen in this file, so that the k-th
 * of several identical rows has its own fingerprint. Open addressing over
 * a power-of-two table at most half full. */
typedef struct seen_rows {
    struct seen_slot {
        uint8_t h[GS_HASH_LEN];
        uint32_t count; /* 0: empty slot */
    } *slots;
    size_t mask;
} seen_rows;

static int seen_init(seen_rows *t, size_t nrows)
{
    size_t cap = 16;
    while (cap < 2 * nrows)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    return t->slots ? GS_OK : GS_ENOMEM;
}

/* Counts h once more; returns its count so far (1 the first time). */
static uint32_t seen_count(seen_rows *t, const uint8_t h[GS_HASH_LEN])
{
    size_t i;
    memcpy(&i, h, sizeof i); /* the hash is uniform: its first bytes will do */
    for (i &= t->mask; t->slots[i].count; i = (i + 1) & t->mask)
        if (!memcmp(t->slots[i].h, h, GS_HASH_LEN))
            return ++t->slots[i].count;
    memcpy(t->slots[i].h, h, GS_HASH_LEN);
    return t->slots[i].count = 1;
}

/* The fingerprint of a row without an id: BLAKE2b of the type, the village
 * and each given field's name and canonical value in schema order (the key
 * and computed fields excluded), then of that and the row's occurrence. */
static void row_fingerprint(const gs_record *rec, const char *village, seen_rows *seen,
                            uint8_t fp[GS_HASH_LEN])
{
    static const char tag[] = "gridsync import row 1";
    const gs_rectype *rt = rec->rt;
    gs_buf v = GS_BUF_INIT;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, GS_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&st, (const uint8_t *)rt->name, strlen(rt->name) + 1);
    crypto_generichash_update(&st, (const uint8_t *)village, strlen(village) + 1);
    for (int f = 0; f < rt->nfields; f++) {
        if (f == rt->key || f == rt->scope || (rt->fields[f].flags & GS_F_COMPUTED) ||
            rec->v[f].state != GS_V_SET)
            continue;
        gs_buf_reset(&v);
        gs_record_format(rec, f, &v);
        crypto_generichash_update(&st, (const uint8_t *)rt->fields[f].name,
                                  strlen(rt->fields[f].name) + 1);
        crypto_generichash_update(&st, (const uint8_t *)(v.data ? v.data : ""), v.len + 1);
    }
    gs_buf_free(&v);
    uint8_t content[GS_HASH_LEN];
    crypto_generichash_final(&st, content, GS_HASH_LEN);
    uint32_t k = seen_count(seen, content);
    uint8_t kb[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
    crypto_generichash_init(&st, NULL, 0, GS_HASH_LEN);
    crypto_generichash_update(&st, content, GS_HASH_LEN);
    crypto_generichash_update(&st, kb, sizeof kb);
    crypto_generichash_final(&st, fp, GS_HASH_LEN);
}

/* True when field values a and b are the same (null and unset alike). */
static bool same_value(const gs_value *a, const gs_value *b)
{
    if (a->state != GS_V_SET || b->state != GS_V_SET)
        return (a->state == GS_V_SET) == (b->state == GS_V_SET);
    return a->i == b->i && (a->s == b->s || (a->s && b->s && !strcmp(a->s, b->s)));
}

/* Keeps in row only the key and the fields that differ from old; returns how
 * many fields differ. */
int node_keep_changed(gs_record *row, const gs_record *old)
{
    int n = 0;
    for (int f = 0; f < row->rt->nfields; f++) {
        if (f == row->rt->key || row->v[f].state == GS_V_UNSET)
            continue;
        if (same_value(&row->v[f], &old->v[f]))
            gs_record_unset(row, f);
        else
            n++;
    }
    return n;
}

/* What became of an imported row. */
typedef enum { ROW_NEW, ROW_UPDATED, ROW_UNCHANGED } row_fate;

/* Stores one parsed row (see the banner for how its identity is found). */
static int import_row(node_store *s, gs_record *rec, seen_rows *seen, row_fate *fate,
                      gs_errbuf *eb)
{
    const gs_rectype *rt = rec->rt;
    gs_record *old = NULL;
    int rc;
    if (gs_record_key(rec)) {
        if (node_store_get(s, rt, gs_record_key(rec), &old, NULL) != GS_OK) {
            *fate = ROW_NEW;
            return node_entry_create(s, rec, NULL, eb);
        }
        int n = node_keep_changed(rec, old);
        gs_record_destroy(&old);
        *fate = n ? ROW_UPDATED : ROW_UNCHANGED;
        return n ? node_entry_update(s, rec, NULL, eb) : GS_OK;
    }
    const char *village = gs_record_scope(rec) ? gs_record_scope(rec)
                                               : node_store_identity(s)->village;
    uint8_t fp[GS_HASH_LEN];
    row_fingerprint(rec, village, seen, fp);
    char rid[128];
    rc = node_store_import_find(s, fp, rt, rid, sizeof rid, eb);
    if (rc == GS_OK && node_store_get(s, rt, rid, &old, NULL) == GS_OK) {
        gs_record_destroy(&old);
        *fate = ROW_UNCHANGED;
        return GS_OK;
    }
    if (rc != GS_OK && rc != GS_ENOTFOUND)
        return rc;
    *fate = ROW_NEW; /* never imported here, or its record was deleted since */
    if ((rc = node_entry_create(s, rec, NULL, eb)))
        return rc;
    return node_store_import_remember(s, fp, rt, gs_record_key(rec), eb);
}

/* What the rows of one import share. */
typedef struct import_ctx {
    node_store *s;
    seen_rows *seen;
    size_t count[3]; /* by row_fate */
    size_t examples; /* rows marked 示例 (a template's examples), skipped */
    const int *col_field; /* the header map */
    const node_import_opts *o;
} import_ctx;

/* A template's example row, marked 示例 in its ordinal column, is skipped
 * (gs_csv_load.skip). */
static bool skip_example(const gs_csv *csv, size_t r, void *arg)
{
    import_ctx *c = arg;
    for (size_t k = 0; k < gs_csv_ncols(csv); k++)
        if (c->col_field[k] == COL_ORDINAL && !strcmp(gs_csv_cell(csv, r, k), GS_XLSX_EXAMPLE_MARK)) {
            c->examples++;
            return true;
        }
    return false;
}

/* Stores one row that parsed (gs_csv_load.row). */
static int import_one(gs_record *rec, int *bad_field, void *arg, gs_errbuf *eb)
{
    (void)bad_field;
    import_ctx *c = arg;
    row_fate fate = ROW_NEW;
    int rc = import_row(c->s, rec, c->seen, &fate, eb);
    if (!rc)
        c->count[fate]++;
    return rc;
}

/* A row's error from the core's loading loop, handed on. */
static void load_error(size_t row, const char *col, const char *header, const char *msg,
                       void *arg)
{
    import_ctx *c = arg;
    report(c->o, row, col, header, msg);
}

int node_import_read(gs_csv **out, const char *name, const void *data, size_t len,
                     gs_errbuf *eb)
{
    size_t n = strlen(name);
    bool xlsx = (n >= 5 && !strcasecmp(name + n - 5, ".xlsx")) ||
                (len >= 4 && !memcmp(data, "PK\3\4", 4));
    return xlsx ? gs_xlsx_open_mem(out, name, data, len, eb)
                : gs_csv_open_mem(out, name, data, len, eb);
}

int node_import_run(node_store *s, const gs_rectype *rt, const gs_csv *csv,
                    const node_import_opts *o, node_import_result *res, gs_errbuf *eb)
{
    *res = (node_import_result){.rt = rt, .encoding = gs_csv_encoding_of(csv)};
    size_t hrow = gs_csv_sheet(csv) ? gs_csv_header_line(csv) : 1;
    size_t ncols = gs_csv_ncols(csv), nrows = gs_csv_nrows(csv);
    int *col_field = calloc(ncols ? ncols : 1, sizeof *col_field);
    seen_rows seen = {NULL, 0};
    int rc = GS_OK;
    if (!col_field || seen_init(&seen, nrows)) {
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        goto out;
    }
    if ((res->errors = map_headers(o, rt, csv, hrow, col_field))) {
        res->header_bad = true;
        goto out;
    }
    if (!s)
        goto out;
    import_ctx ctx = {s, &seen, {0, 0, 0}, 0, col_field, o};
    if ((rc = node_store_begin(s, eb)))
        goto out;
    gs_csv_load how = {"gridnode", o->where, rt, col_field, false, o->progress, 0,
                       import_one, &ctx, skip_example, load_error};
    res->errors = gs_csv_load_rows(csv, &how);
    res->examples = ctx.examples;
    res->rows = nrows - ctx.examples;
    res->created = ctx.count[ROW_NEW];
    res->updated = ctx.count[ROW_UPDATED];
    res->unchanged = ctx.count[ROW_UNCHANGED];
    if (res->errors || !o->commit)
        node_store_rollback(s);
    else if ((rc = node_store_commit(s, eb)) == GS_OK)
        res->saved = true;
out:
    free(col_field);
    free(seen.slots);
    return rc;
}

/* ---- the template ---------------------------------------------------------- */

#define MAX_LIST 100000 /* values of one drop-down list */

/* A growing list of keys (values malloc'd, each and the array). */
typedef struct key_list {
    char **v;
    size_t n, cap;
} key_list;

static int add_key(const gs_record *rec, void *arg)
{
    key_list *l = arg;
    if (l->n >= MAX_LIST)
        return GS_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return GS_ENOMEM;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(gs_record_key(rec) ? gs_record_key(rec) : "")))
        return GS_ENOMEM;
    l->n++;
    return GS_OK;
}

int node_import_template(node_store *s, const gs_rectype *rt, const char *path, gs_errbuf *eb)
{
    gs_xlsx_list lists[GS_RT__COUNT];
    size_t n = 0;
    int rc = GS_OK;
    for (int f = 0; f < rt->nfields && !rc && n < GS_RT__COUNT; f++) {
        const gs_field *fd = &rt->fields[f];
        const gs_rectype *ref = fd->ref ? gs_rectype_find(fd->ref) : NULL;
        if (!ref || ref->id == GS_RT_DIVISION || (fd->flags & GS_F_KEY))
            continue;
        key_list l = {NULL, 0, 0};
        gs_find_filter all = {0};
        rc = node_store_list(s, ref, &all, add_key, &l, eb);
        if (rc == GS_ENOMEM)
            gs_errf(eb, rc, "out of memory");
        lists[n++] = (gs_xlsx_list){ref->name, (const char *const *)l.v, l.n};
    }
    if (!rc)
        rc = gs_xlsx_template(path, rt, lists, n, eb);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < lists[i].n; k++)
            free((char *)lists[i].values[k]);
        free((void *)lists[i].values);
    }
    return rc;
}
