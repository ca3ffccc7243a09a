/*
 * xlsx_template.c: the import template of a record type as an Excel
 * workbook (gs_xlsx_template in gridsync/xlsx.h), written with
 * libxlsxwriter.
 *
 * The workbook is made so that what staff type in it imports as typed:
 *  - sheet 1 (named after the type) has 序号 and then the columns of the
 *    CSV template (`gridnode template TYPE --zh`), the header frozen; the
 *    XLSX reader takes this sheet because it is the first;
 *  - every column carries its format, so a value typed in it is stored the
 *    way import reads it back: codes and ids as text (a 15-digit grid code
 *    stays whole, a leading zero stays), dates and date-times as Excel
 *    dates (the reader turns them into 2026-03-08 by the format),
 *    numbers as whole numbers;
 *  - enumerations, booleans and references get a drop-down (data
 *    validation) fed from the hidden sheet 选项, so no list is limited by
 *    Excel's 255 characters of an inline list; a reference list (grids,
 *    categories ...) only warns, as the node may know values the template
 *    did not;
 *  - two example rows, marked 示例 in the 序号 column, which import skips;
 *  - sheet 填写说明 says in Chinese what each column takes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xlsxwriter.h>

#include "gridsync/buf.h"
#include "gridsync/xlsx.h"

#define LAST_ROW 1048575 /* 0-based: validation and formats reach the sheet's end */
#define LISTS_SHEET "选项"

/* Display width of UTF-8 text in Excel's character units: a CJK character
 * (3 UTF-8 bytes and more) is two. */
static double text_width(const char *s)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80)
            w += 1;
        else if (*p >= 0xE0)
            w += 2;
    return w;
}

/* A field the template has a column for: not computed. */
static bool in_template(const gs_field *f)
{
    return !(f->flags & GS_F_COMPUTED);
}

bool gs_xlsx_column_required(const gs_rectype *rt, int f)
{
    const gs_field *fd = &rt->fields[f];
    /* an incident's report time is required of a record, but import fills
     * it with the time of the import, as `incident add` does */
    return (fd->flags & GS_F_REQUIRED) && !(fd->flags & (GS_F_GENERATED | GS_F_SCOPE)) &&
           !fd->def && !(rt->id == GS_RT_INCIDENT && f == GS_INCIDENT_REPORTED_AT);
}

/* The values given for fields referring to ref, or NULL. */
static const gs_xlsx_list *list_for(const char *ref, const gs_xlsx_list *lists, size_t n)
{
    for (size_t i = 0; ref && i < n; i++)
        if (!strcmp(lists[i].ref, ref) && lists[i].n > 0)
            return &lists[i];
    return NULL;
}

/* What a column takes, in Chinese, for the instructions sheet. */
static void describe(const gs_field *f, const gs_xlsx_list *list, gs_buf *b)
{
    switch (f->type) {
    case GS_FT_TEXT: gs_buf_printf(b, "文字，最多 %lld 个字", (long long)f->max); break;
    case GS_FT_ID:
        gs_buf_puts(b, (f->flags & GS_F_KEY) ? "记录编号：新记录留空（自动生成）；修改已有记录时填写"
                                                "导出文件里的编号"
                                              : "所引用记录的编号（字母、数字、. _ -）");
        break;
    case GS_FT_CODE:
        if (f->flags & GS_F_SCOPE)
            gs_buf_puts(b, "本村社区代码，可留空（自动填写）");
        else
            gs_buf_printf(b, "%lld 位数字代码（文本格式，不要让 Excel 改成科学计数法）",
                          (long long)f->max);
        break;
    case GS_FT_SLUG: gs_buf_puts(b, "类别代码（小写字母、数字、. _）"); break;
    case GS_FT_INT:
        gs_buf_printf(b, "整数，%lld 到 %lld", (long long)f->min, (long long)f->max);
        break;
    case GS_FT_BOOL: gs_buf_puts(b, "从下拉列表选：是 / 否"); break;
    case GS_FT_ENUM:
        gs_buf_puts(b, "从下拉列表选：");
        for (int i = 0; f->enums[i]; i++)
            gs_buf_printf(b, "%s%s", i ? "、" : "", f->enums_zh ? f->enums_zh[i] : f->enums[i]);
        break;
    case GS_FT_DATE: gs_buf_puts(b, "日期，如 2026-03-08（单元格为日期格式）"); break;
    case GS_FT_DATETIME: gs_buf_puts(b, "日期和时间，如 2026-03-08 09:30"); break;
    }
    if (list)
        gs_buf_printf(b, "；可从下拉列表选（本村已有 %zu 项）", list->n);
    if (f->def)
        gs_buf_printf(b, "；留空则为 %s", f->enums_zh ? gs_enum_zh(f, f->def) : f->def);
}

/* The workbook being written and its formats. */
typedef struct tpl {
    lxw_workbook *wb;
    lxw_worksheet *data, *help, *lists;
    lxw_format *header, *text, *integer, *date, *datetime, *example, *example_date,
        *example_datetime, *title, *wrap;
    lxw_col_t list_col; /* next free column of the lists sheet */
} tpl;

/* Puts values into the next column of the hidden lists sheet under title
 * and makes column col of the data sheet choose from them. warn: other
 * values are allowed after a warning (a reference list may be stale). */
static void add_list(tpl *t, lxw_col_t col, const char *title, const char *const *values,
                     size_t n, bool warn)
{
    if (n == 0)
        return;
    if (n > LAST_ROW)
        n = LAST_ROW;
    lxw_col_t lc = t->list_col++;
    worksheet_write_string(t->lists, 0, lc, title, t->header);
    for (size_t i = 0; i < n; i++)
        worksheet_write_string(t->lists, (lxw_row_t)(i + 1), lc, values[i], t->text);
    char letters[8], formula[96];
    gs_xlsx_col_name((size_t)lc + 1, letters);
    snprintf(formula, sizeof formula, "='%s'!$%s$2:$%s$%zu", LISTS_SHEET, letters, letters, n + 1);
    lxw_data_validation dv;
    memset(&dv, 0, sizeof dv);
    dv.validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
    dv.value_formula = formula;
    dv.ignore_blank = LXW_VALIDATION_ON;
    dv.dropdown = LXW_VALIDATION_ON;
    dv.show_error = LXW_VALIDATION_ON;
    dv.error_type = warn ? LXW_VALIDATION_ERROR_TYPE_WARNING : LXW_VALIDATION_ERROR_TYPE_STOP;
    dv.error_title = "请从下拉列表选择";
    dv.error_message = warn ? "这个值不在本村的列表里；确定要用它吗？"
                            : "只能填写下拉列表里的值。";
    worksheet_data_validation_range(t->data, 1, col, LAST_ROW, col, &dv);
}

/* Writes example row k (0 or 1) of field f at row, column col: a value of
 * the field's kind, marked by its grey format (the row is skipped). */
static void example_cell(tpl *t, const gs_field *f, const gs_xlsx_list *list, int k,
                         lxw_row_t row, lxw_col_t col)
{
    char v[64];
    switch (f->type) {
    case GS_FT_TEXT:
        snprintf(v, sizeof v, "%s%s", k ? "（示例）" : "示例", f->label_zh);
        worksheet_write_string(t->data, row, col, v, t->example);
        return;
    case GS_FT_INT: {
        long long n = f->min > 1 ? f->min : f->max >= 10 ? 10 - k : f->max;
        worksheet_write_number(t->data, row, col, (double)n, t->example);
        return;
    }
    case GS_FT_BOOL:
        worksheet_write_string(t->data, row, col, k ? "是" : "否", t->example);
        return;
    case GS_FT_ENUM: {
        int i = k && f->enums[1] ? 1 : 0;
        worksheet_write_string(t->data, row, col, f->enums_zh ? f->enums_zh[i] : f->enums[i],
                               t->example);
        return;
    }
    case GS_FT_DATE:
    case GS_FT_DATETIME: {
        bool time = f->type == GS_FT_DATETIME;
        lxw_datetime dt = {2026, 3, 8 + k, time ? 9 : 0, time ? 30 * k : 0, 0};
        worksheet_write_datetime(t->data, row, col, &dt,
                                 time ? t->example_datetime : t->example_date);
        return;
    }
    default: /* codes, ids, slugs: from the list, else left empty */
        if (list && !(f->flags & (GS_F_KEY | GS_F_SCOPE)))
            worksheet_write_string(t->data, row, col, list->values[(size_t)k % list->n],
                                   t->example);
        else
            worksheet_write_blank(t->data, row, col, t->example);
    }
}

/* The instructions sheet: what the workbook is, then a row per column. */
static void write_help(tpl *t, const gs_rectype *rt, const gs_xlsx_list *lists, size_t nlists)
{
    char line[256];
    snprintf(line, sizeof line, "%s 导入模板 填写说明", rt->label_zh);
    worksheet_write_string(t->help, 0, 0, line, t->title);
    static const char *const notes[] = {
        "1. 在第一个工作表里每行填一条记录；表头（第一行）不要改动，不需要的列可以留空。",
        "2. 序号为“示例”的两行是示例，导入时会跳过；可以删除，也可以保留。",
        "3. 带下拉箭头的列请从列表里选；日期列请按日期填写，如 2026-03-08。",
        "4. 编码、编号类的列已设为文本格式，请直接输入，不要改成数字格式。",
        ("5. 导入：gridnode import 类型 文件.xlsx（先加 --dry-run 检查）；有一处错误则整个文件都"
         "不导入，错误信息会指出工作表、行号和列。"),
        "6. 同一个文件再次导入不会重复添加记录。",
    };
    lxw_row_t r = 1;
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        worksheet_write_string(t->help, r++, 0, notes[i], NULL);
    r++;
    static const char *const heads[] = {"列名", "英文名", "是否必填", "填写要求"};
    for (lxw_col_t c = 0; c < 4; c++)
        worksheet_write_string(t->help, r, c, heads[c], t->header);
    gs_buf b = GS_BUF_INIT;
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        if (!in_template(f))
            continue;
        r++;
        bool req = gs_xlsx_column_required(rt, i);
        gs_buf_reset(&b);
        describe(f, list_for(f->ref, lists, nlists), &b);
        worksheet_write_string(t->help, r, 0, f->label_zh, NULL);
        worksheet_write_string(t->help, r, 1, f->name, NULL);
        worksheet_write_string(t->help, r, 2, req ? "必填" : "", NULL);
        worksheet_write_string(t->help, r, 3, b.data ? b.data : "", t->wrap);
    }
    gs_buf_free(&b);
    worksheet_set_column(t->help, 0, 0, 16, NULL);
    worksheet_set_column(t->help, 1, 1, 18, NULL);
    worksheet_set_column(t->help, 2, 2, 10, NULL);
    worksheet_set_column(t->help, 3, 3, 70, NULL);
}

/* A new format with number format num (may be NULL); grey italic for the
 * example rows when example. libxlsxwriter owns it with the workbook. */
static lxw_format *new_format(lxw_workbook *wb, const char *num, bool example)
{
    lxw_format *f = workbook_add_format(wb);
    if (num)
        format_set_num_format(f, num);
    if (example) {
        format_set_italic(f);
        format_set_font_color(f, LXW_COLOR_GRAY);
    }
    return f;
}

/* Makes the formats of the workbook. */
static void make_formats(tpl *t)
{
    t->header = new_format(t->wb, NULL, false);
    format_set_bold(t->header);
    format_set_bg_color(t->header, 0xDDEBF7);
    format_set_border(t->header, LXW_BORDER_THIN);
    t->text = new_format(t->wb, "@", false);
    t->integer = new_format(t->wb, "0", false);
    t->date = new_format(t->wb, "yyyy-mm-dd", false);
    t->datetime = new_format(t->wb, "yyyy-mm-dd hh:mm", false);
    t->example = new_format(t->wb, "@", true);
    t->example_date = new_format(t->wb, "yyyy-mm-dd", true);
    t->example_datetime = new_format(t->wb, "yyyy-mm-dd hh:mm", true);
    t->title = new_format(t->wb, NULL, false);
    format_set_bold(t->title);
    format_set_font_size(t->title, 14);
    t->wrap = new_format(t->wb, NULL, false);
    format_set_text_wrap(t->wrap);
}

int gs_xlsx_template(const char *path, const gs_rectype *rt, const gs_xlsx_list *lists,
                     size_t nlists, gs_errbuf *eb)
{
    tpl t = {0};
    /* libxlsxwriter only finds out at the end, and prints its own line:
     * try the path first, so that the user gets one line saying why. */
    FILE *probe = fopen(path, "wb");
    if (!probe)
        return gs_errf(eb, GS_EIO, "%s: cannot create the workbook: %s", path, strerror(errno));
    fclose(probe);
    t.wb = workbook_new(path);
    if (!t.wb)
        return gs_errf(eb, GS_EIO, "%s: cannot create the workbook", path);
    t.data = workbook_add_worksheet(t.wb, rt->label_zh);
    t.help = workbook_add_worksheet(t.wb, "填写说明");
    t.lists = workbook_add_worksheet(t.wb, LISTS_SHEET);
    make_formats(&t);
    worksheet_hide(t.lists);
    worksheet_activate(t.data);

    static const char *const yes_no[] = {"是", "否"};
    lxw_col_t col = 0;
    worksheet_write_string(t.data, 0, col, "序号", t.header);
    worksheet_set_column(t.data, col, col, 8, NULL);
    for (int k = 0; k < 2; k++)
        worksheet_write_string(t.data, (lxw_row_t)(1 + k), col, GS_XLSX_EXAMPLE_MARK, t.example);
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        if (!in_template(f))
            continue;
        col++;
        const gs_xlsx_list *list = list_for(f->ref, lists, nlists);
        lxw_format *fmt = f->type == GS_FT_INT    ? t.integer
                          : f->type == GS_FT_DATE ? t.date
                          : f->type == GS_FT_DATETIME ? t.datetime
                          : f->type == GS_FT_BOOL || f->type == GS_FT_ENUM ? NULL
                                                                           : t.text;
        double w = text_width(f->label_zh) + 4;
        double min = f->type == GS_FT_DATETIME ? 18
                     : f->type == GS_FT_DATE   ? 12
                     : f->type == GS_FT_CODE   ? (double)f->max + 3
                     : f->type == GS_FT_TEXT   ? (f->max > 100 ? 30 : 16)
                                               : 10;
        worksheet_set_column(t.data, col, col, w > min ? w : min, fmt);
        worksheet_write_string(t.data, 0, col, f->label_zh, t.header);
        for (int k = 0; k < 2; k++)
            example_cell(&t, f, list, k, (lxw_row_t)(1 + k), col);
        if (f->type == GS_FT_ENUM) {
            size_t n = 0;
            while (f->enums[n])
                n++;
            add_list(&t, col, f->label_zh, f->enums_zh ? f->enums_zh : f->enums, n, false);
        } else if (f->type == GS_FT_BOOL) {
            add_list(&t, col, f->label_zh, yes_no, 2, false);
        } else if (list && !(f->flags & (GS_F_KEY | GS_F_SCOPE))) {
            add_list(&t, col, f->label_zh, list->values, list->n, true);
        }
    }
    worksheet_freeze_panes(t.data, 1, 0);
    write_help(&t, rt, lists, nlists);
    lxw_error err = workbook_close(t.wb);
    if (err != LXW_NO_ERROR)
        return gs_errf(eb, GS_EIO, "%s: cannot write the workbook: %s", path, lxw_strerror(err));
    return GS_OK;
}
