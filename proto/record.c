/*
 * record.c: records driven by their field tables: parsing user text into
 * canonical values, validation, msgpack codec, JSON and CSV output.
 *
 * Invariant: a value that passed gs_record_check is in canonical form, so the
 * same record encodes to the same bytes on every replica, and text compares
 * (dates, codes, enum values) mean the same everywhere.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/record.h"

/* ---- lifetime ------------------------------------------------------------ */

gs_record *gs_record_new(const gs_rectype *rt)
{
    gs_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rt = rt;
    r->v = calloc((size_t)rt->nfields, sizeof *r->v);
    if (!r->v) {
        free(r);
        return NULL;
    }
    return r;
}

bool gs_record_bad_field(const gs_record *r, int f, const char *func)
{
    fprintf(stderr, "gridsync: %s: field %d of %s out of range (0..%d)\n", func, f, r->rt->name,
            r->rt->nfields - 1);
#ifndef NDEBUG
    abort();
#endif
    return false;
}

#define CHECK_FIELD(r, f, fail)                                                                    \
    do {                                                                                           \
        if (!gs_record_field_ok(r, f, __func__))                                                   \
            return fail;                                                                           \
    } while (0)

void gs_record_unset(gs_record *r, int f)
{
    CHECK_FIELD(r, f, );
    free(r->v[f].s);
    r->v[f] = (gs_value){GS_V_UNSET, 0, NULL};
}

void gs_record_clear(gs_record *r)
{
    for (int i = 0; i < r->rt->nfields; i++)
        gs_record_unset(r, i);
}

void gs_record_destroy(gs_record **rp)
{
    if (!rp || !*rp)
        return;
    gs_record_clear(*rp);
    free((*rp)->v);
    free(*rp);
    *rp = NULL;
}

gs_record *gs_record_dup(const gs_record *r)
{
    gs_record *d = gs_record_new(r->rt);
    if (d && gs_record_merge(d, r) != GS_OK)
        gs_record_destroy(&d);
    return d;
}

static bool is_text_type(gs_ftype t)
{
    return t != GS_FT_INT && t != GS_FT_BOOL;
}

int gs_record_set_str(gs_record *r, int f, const char *s)
{
    CHECK_FIELD(r, f, GS_EINVAL);
    if (!is_text_type(r->rt->fields[f].type))
        return GS_ETYPE;
    char *copy = NULL;
    if (s && !(copy = strdup(s)))
        return GS_ENOMEM;
    free(r->v[f].s);
    r->v[f] = (gs_value){s ? GS_V_SET : GS_V_NULL, 0, copy};
    return GS_OK;
}

int gs_record_set_int(gs_record *r, int f, int64_t v)
{
    CHECK_FIELD(r, f, GS_EINVAL);
    if (is_text_type(r->rt->fields[f].type))
        return GS_ETYPE;
    free(r->v[f].s);
    r->v[f] = (gs_value){GS_V_SET, v, NULL};
    return GS_OK;
}

static int set_null(gs_record *r, int f)
{
    free(r->v[f].s);
    r->v[f] = (gs_value){GS_V_NULL, 0, NULL};
    return GS_OK;
}

void gs_record_set_null(gs_record *r, int f)
{
    CHECK_FIELD(r, f, );
    set_null(r, f);
}

const char *gs_record_str(const gs_record *r, int f)
{
    CHECK_FIELD(r, f, NULL);
    return r->v[f].state == GS_V_SET ? r->v[f].s : NULL;
}

int64_t gs_record_int(const gs_record *r, int f, int64_t def)
{
    CHECK_FIELD(r, f, def);
    return r->v[f].state == GS_V_SET && !is_text_type(r->rt->fields[f].type) ? r->v[f].i : def;
}

int gs_record_enum(const gs_record *r, int f)
{
    CHECK_FIELD(r, f, -1);
    const char *v = gs_record_str(r, f);
    return v ? gs_enum_find(&r->rt->fields[f], v) : -1;
}

const char *gs_record_key(const gs_record *r)
{
    return gs_record_str(r, r->rt->key);
}

const char *gs_record_scope(const gs_record *r)
{
    return r->rt->scope < 0 ? NULL : gs_record_str(r, r->rt->scope);
}

int gs_record_merge(gs_record *dst, const gs_record *src)
{
    if (dst->rt != src->rt)
        return GS_ETYPE;
    for (int i = 0; i < src->rt->nfields; i++) {
        const gs_value *v = &src->v[i];
        int rc = GS_OK;
        if (v->state == GS_V_NULL)
            rc = set_null(dst, i);
        else if (v->state == GS_V_SET)
            rc = is_text_type(src->rt->fields[i].type) ? gs_record_set_str(dst, i, v->s)
                                                       : gs_record_set_int(dst, i, v->i);
        if (rc)
            return rc;
    }
    return GS_OK;
}

/* ---- dates --------------------------------------------------------------- */

#define CST_OFFSET_MIN (8 * 60) /* China Standard Time, UTC+08:00 */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_ymd(int64_t y, int64_t m, int64_t d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

bool gs_date_days(const char *s, int64_t *days)
{
    int64_t y, m, d;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (!valid_ymd(y, m, d))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

void gs_date_from_days(int64_t days, char out[11])
{
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", (int)y, (int)m, (int)d);
}

int64_t gs_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

void gs_datetime_from_ms(int64_t unix_ms, gs_buf *b)
{
    int64_t secs = (unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000)) +
                   CST_OFFSET_MIN * 60;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400, y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    gs_buf_printf(b, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64
                     ":%02" PRId64 "+08:00",
                  y, mo, d, rem / 3600, rem / 60 % 60, rem % 60);
}

/* Reads up to maxd decimal digits (at least one) into *out. */
static bool digits(const char **p, int maxd, int64_t *out)
{
    int n = 0;
    int64_t v = 0;
    while (n < maxd && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = v;
    return n > 0;
}

static bool lit(const char **p, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*p, s, n))
        return false;
    *p += n;
    return true;
}

/* Parses a date in the forms 2026-11-28, 2026/11/28, 2026.11.28 or
 * 2026年11月28日 (one-digit month and day allowed). */
static bool parse_date(const char **p, int64_t *y, int64_t *m, int64_t *d)
{
    if (!digits(p, 4, y))
        return false;
    const char *sep = NULL;
    if (lit(p, "-"))
        sep = "-";
    else if (lit(p, "/"))
        sep = "/";
    else if (lit(p, "."))
        sep = ".";
    else if (lit(p, "年"))
        sep = "月";
    if (!sep || !digits(p, 2, m))
        return false;
    if (!strcmp(sep, "月") ? !lit(p, "月") : !lit(p, sep))
        return false;
    if (!digits(p, 2, d))
        return false;
    if (!strcmp(sep, "月"))
        lit(p, "日");
    return valid_ymd(*y, *m, *d);
}


/* Parses a date-time: a date, then optionally [T or space]HH:MM[:SS] and a
 * zone (Z, +08:00, +0800); converts it to China time. A date alone is 00:00. */
static bool parse_datetime(const char *s, gs_buf *out)
{
    int64_t y, mo, d, hh = 0, mi = 0, ss = 0, off = CST_OFFSET_MIN;
    const char *p = s;
    if (!parse_date(&p, &y, &mo, &d))
        return false;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &hh) || !lit(&p, ":") || !digits(&p, 2, &mi))
            return false;
        if (lit(&p, ":") && !digits(&p, 2, &ss))
            return false;
        if (*p == '.') /* fractions of a second are dropped */
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if (hh > 23 || mi > 59 || ss > 59)
            return false;
        if (lit(&p, "Z")) {
            off = 0;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh, om = 0;
            if (!digits(&p, 2, &oh))
                return false;
            lit(&p, ":");
            digits(&p, 2, &om);
            if (oh > 14 || om > 59)
                return false;
            off = sign * (oh * 60 + om);
        }
    }
    if (*p)
        return false;
    int64_t minutes = days_from_civil(y, mo, d) * 1440 + hh * 60 + mi - off + CST_OFFSET_MIN;
    int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
    int64_t rem = minutes - days * 1440;
    civil_from_days(days, &y, &mo, &d);
    gs_buf_printf(out, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64
                       ":%02" PRId64 "+08:00",
                  y, mo, d, rem / 60, rem % 60, ss);
    return true;
}

/* ---- parsing user text --------------------------------------------------- */

static bool all_chars(const char *s, const char *allowed_extra, bool upper, bool digits_ok)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') ||
            (digits_ok && c >= '0' && c <= '9') || (c && strchr(allowed_extra, c)))
            continue;
        return false;
    }
    return true;
}

/* Describes what a field accepts, for error messages. */
static void expected(const gs_field *f, gs_buf *b)
{
    switch (f->type) {
    case GS_FT_TEXT:
        gs_buf_printf(b, "text of %" PRId64 " to %" PRId64 " characters", f->min, f->max);
        break;
    case GS_FT_ID: gs_buf_puts(b, "an id of letters, digits, '.', '_' or '-'"); break;
    case GS_FT_CODE:
        if (f->min == f->max)
            gs_buf_printf(b, "a %" PRId64 "-digit code", f->min);
        else
            gs_buf_printf(b, "a code of %" PRId64 " to %" PRId64 " digits", f->min, f->max);
        break;
    case GS_FT_SLUG: gs_buf_puts(b, "a code of lowercase letters, digits, '_' or '.'"); break;
    case GS_FT_INT:
        gs_buf_printf(b, "a whole number from %" PRId64 " to %" PRId64, f->min, f->max);
        break;
    case GS_FT_BOOL: gs_buf_puts(b, "是/否 (yes/no)"); break;
    case GS_FT_ENUM:
        gs_buf_puts(b, "one of ");
        for (int i = 0; f->enums[i]; i++)
            gs_buf_printf(b, "%s%s(%s)", i ? "、" : "", f->enums_zh ? f->enums_zh[i] : f->enums[i],
                          f->enums[i]);
        break;
    case GS_FT_DATE: gs_buf_puts(b, "a date like 2026-11-28"); break;
    case GS_FT_DATETIME: gs_buf_puts(b, "a date and time like 2026-11-28 09:30"); break;
    }
}

static int bad_value(const gs_field *f, const char *text, gs_errbuf *eb)
{
    gs_buf want = GS_BUF_INIT;
    expected(f, &want);
    int rc = gs_errf(eb, GS_EINVAL, "%s (%s): \"%.60s\" is not valid; expected %s", f->label_zh,
                     f->name, text, want.data ? want.data : "?");
    gs_buf_free(&want);
    return rc;
}

/* Converts text (already trimmed, non-empty) to the canonical form of f into
 * out (text types) or *iv (integers). Returns false if it is not acceptable.
 * TEXT, ID, CODE and SLUG values are their own canonical form: for them out
 * may be NULL, to check a value without copying it. */
static bool canonical(const gs_field *f, const char *text, gs_buf *out, int64_t *iv)
{
    int64_t len = (int64_t)strlen(text);
    switch (f->type) {
    case GS_FT_TEXT: {
        int64_t chars = gs_utf8_chars(text, (size_t)len);
        if (chars < 0 || chars < f->min || chars > f->max)
            return false;
        for (const char *p = text; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
                return false;
        if (out)
            gs_buf_puts(out, text);
        return true;
    }
    case GS_FT_ID:
        if (len < 1 || len > 64 || !all_chars(text, "._-", true, true))
            return false;
        if (out)
            gs_buf_puts(out, text);
        return true;
    case GS_FT_CODE:
        if (len < f->min || len > f->max || strspn(text, "0123456789") != (size_t)len)
            return false;
        if (out)
            gs_buf_puts(out, text);
        return true;
    case GS_FT_SLUG:
        if (len < f->min || len > f->max || !all_chars(text, "_.", false, true))
            return false;
        if (out)
            gs_buf_puts(out, text);
        return true;
    case GS_FT_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || *end || end == text || !(isdigit((unsigned char)text[0]) || text[0] == '-' ||
                                               text[0] == '+'))
            return false;
        if (v < f->min || v > f->max)
            return false;
        *iv = v;
        return true;
    }
    case GS_FT_BOOL: {
        static const char *const yes[] = {"1", "yes", "y", "true", "是", "Y", "YES", "TRUE", NULL};
        static const char *const no[] = {"0", "no", "n", "false", "否", "N", "NO", "FALSE", NULL};
        for (int i = 0; yes[i]; i++)
            if (!strcmp(text, yes[i]))
                return (*iv = 1), true;
        for (int i = 0; no[i]; i++)
            if (!strcmp(text, no[i]))
                return (*iv = 0), true;
        return false;
    }
    case GS_FT_ENUM: {
        int i = gs_enum_find(f, text);
        if (i < 0)
            return false;
        gs_buf_puts(out, f->enums[i]);
        return true;
    }
    case GS_FT_DATE: {
        int64_t y, m, d;
        const char *p = text;
        if (!parse_date(&p, &y, &m, &d) || *p)
            return false;
        gs_buf_printf(out, "%04" PRId64 "-%02" PRId64 "-%02" PRId64, y, m, d);
        return true;
    }
    case GS_FT_DATETIME: return parse_datetime(text, out);
    }
    return false;
}

/* ---- what Excel makes of typed values ----------------------------------- */

/* A text cell starting with what a spreadsheet reads as a formula is written
 * behind a "'" (gs_record_csv), which gs_record_parse drops again. */
static bool formula_start(char c)
{
    return gs_csv_formula_start(c);
}

/* Reads digits at *p; false when there is none. */
static bool skip_digits(const char **p)
{
    const char *s = *p;
    while (isdigit((unsigned char)**p))
        (*p)++;
    return *p > s;
}

/* True when t is a number as Excel shows it in scientific notation
 * ("4.11121E+14", "1E+15"): what a long code typed into a General cell
 * becomes, its last digits lost. */
static bool excel_scientific(const char *t)
{
    const char *p = t;
    if (!skip_digits(&p))
        return false;
    if (*p == '.' && (p++, !skip_digits(&p)))
        return false;
    if (*p != 'E' && *p != 'e')
        return false;
    p++;
    if (*p != '+' && *p != '-')
        return false;
    p++;
    return skip_digits(&p) && !*p;
}

/* Copies t to out without Excel's thousands separators ("1,200",
 * "-12,345,678": groups of three digits); false when t is not in that form. */
static bool drop_thousands(const char *t, char *out, size_t cap)
{
    const char *p = t;
    size_t n = 0;
    if (*p == '-' || *p == '+')
        out[n++] = *p++;
    size_t lead = strspn(p, "0123456789");
    if (lead < 1 || lead > 3 || p[lead] != ',')
        return false;
    for (; *p; p++) {
        if (*p == ',') {
            if (strspn(p + 1, "0123456789") < 3 || (p[4] != ',' && p[4]))
                return false;
            continue;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return true;
}

/* Excel's date serials: days since 1899-12-30, a fraction the time of day.
 * Only five-digit serials (1927-05-18 to 2173-10-14) are taken, so that a
 * year typed alone ("2026") is not read as a day of 1905. */
#define EXCEL_EPOCH_DAYS (-25569) /* 1899-12-30 in days since 1970-01-01 */

/* Writes the date (and for DATETIME fields the time) of a serial such as
 * "46000" or "46000.5" to out; false when t is not one. */
static bool excel_serial(const gs_field *f, const char *t, char *out, size_t cap)
{
    const char *p = t;
    if (!skip_digits(&p) || p - t != 5)
        return false;
    int64_t days = strtoll(t, NULL, 10), secs = 0;
    if (*p == '.' && f->type == GS_FT_DATETIME) {
        const char *frac = p;
        p++;
        if (!skip_digits(&p))
            return false;
        secs = (int64_t)(strtod(frac, NULL) * 86400.0 + 0.5);
        if (secs >= 86400) /* 23:59:59.5 and up */
            secs = 86399;
    }
    if (*p)
        return false;
    int64_t y, m, d;
    civil_from_days(days + EXCEL_EPOCH_DAYS, &y, &m, &d);
    snprintf(out, cap, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 " %02" PRId64 ":%02" PRId64
                       ":%02" PRId64,
             y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
    if (f->type == GS_FT_DATE)
        out[10] = '\0';
    return true;
}

/* The message for a code or id Excel has turned into scientific notation:
 * what happened and how to fix the spreadsheet. */
static int scientific_code(const gs_field *f, const char *text, gs_errbuf *eb)
{
    return gs_errf(eb, GS_EINVAL,
                   "%s (%s): \"%.60s\" 是 Excel 的科学计数法，%s的后几位已经丢失；请在 Excel "
                   "中把这一列的单元格格式设为“文本”，再重新输入 (Excel showed the value in "
                   "scientific notation and lost its last digits: set the column's format to "
                   "Text and type the values again)",
                   f->label_zh, f->name, text, f->type == GS_FT_CODE ? "代码" : "编号");
}

/* Reads what Excel writes for a value typed by staff into the canonical form
 * of f, as canonical() does, and takes Excel's changes into account: a
 * number with thousands separators ("1,200" is 1200), a date shown as its
 * serial ("46000" is 2025-12-09). A code or id in scientific notation has
 * lost digits and is refused with the fix. */
static int parse_value(const gs_field *f, const char *t, gs_buf *out, int64_t *iv, gs_errbuf *eb)
{
    if (canonical(f, t, out, iv))
        return GS_OK;
    char alt[64];
    bool retry = false;
    if (f->type == GS_FT_CODE || f->type == GS_FT_ID) {
        if (excel_scientific(t))
            return scientific_code(f, t, eb);
    } else if (f->type == GS_FT_INT) {
        retry = drop_thousands(t, alt, sizeof alt);
    } else if (f->type == GS_FT_DATE || f->type == GS_FT_DATETIME) {
        retry = excel_serial(f, t, alt, sizeof alt);
    }
    if (retry) {
        gs_buf_reset(out);
        if (canonical(f, alt, out, iv))
            return GS_OK;
    }
    return bad_value(f, t, eb);
}

int gs_record_parse(gs_record *r, int f, const char *text, gs_errbuf *eb)
{
    if (!gs_record_field_ok(r, f, __func__))
        return gs_errf(eb, GS_EINVAL, "field %d of %s out of range", f, r->rt->name);
    const gs_field *fd = &r->rt->fields[f];
    while (*text == ' ' || *text == '\t')
        text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    if (n >= 2 && text[0] == '\'' && formula_start(text[1])) {
        text++; /* a spreadsheet's "text, not a formula" mark */
        n--;
    }
    char *t = strndup(text, n);
    if (!t)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    int rc = GS_OK;
    if (!*t) {
        rc = set_null(r, f);
    } else {
        gs_buf out = GS_BUF_INIT;
        int64_t iv = 0;
        rc = parse_value(fd, t, &out, &iv, eb);
        if (rc == GS_OK && out.err)
            rc = gs_errf(eb, out.err, "%s", gs_strerror(out.err));
        else if (rc == GS_OK)
            rc = is_text_type(fd->type) ? gs_record_set_str(r, f, out.data ? out.data : "")
                                        : gs_record_set_int(r, f, iv);
        gs_buf_free(&out);
    }
    free(t);
    return rc;
}

/* ---- validation ---------------------------------------------------------- */

int gs_record_check(const gs_record *r, int mode, gs_errbuf *eb)
{
    for (int i = 0; i < r->rt->nfields; i++) {
        const gs_field *f = &r->rt->fields[i];
        const gs_value *v = &r->v[i];
        if (v->state == GS_V_UNSET) {
            if ((mode & GS_CHECK_COMPLETE && f->flags & GS_F_REQUIRED) || f->flags & GS_F_KEY)
                return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required", f->label_zh, f->name);
            continue;
        }
        if (v->state == GS_V_NULL) {
            if (f->flags & GS_F_REQUIRED)
                return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required and may not be empty",
                               f->label_zh, f->name);
            continue;
        }
        gs_buf out = GS_BUF_INIT;
        int64_t iv = v->i;
        char num[24];
        const char *text = v->s;
        if (!is_text_type(f->type)) {
            snprintf(num, sizeof num, "%" PRId64, v->i);
            text = num;
        }
        /* A stored value is valid iff it parses to itself (for the types
         * whose canonical form is the text itself, iff it parses). */
        bool as_is = f->type == GS_FT_TEXT || f->type == GS_FT_ID || f->type == GS_FT_CODE ||
                     f->type == GS_FT_SLUG;
        bool ok = as_is ? canonical(f, text, NULL, &iv)
                        : canonical(f, text, &out, &iv) &&
                              (is_text_type(f->type) ? out.data && !strcmp(out.data, v->s)
                                                     : iv == v->i);
        gs_buf_free(&out);
        if (!ok)
            return bad_value(f, text, eb);
    }
    return GS_OK;
}

void gs_record_apply_defaults(gs_record *r)
{
    for (int i = 0; i < r->rt->nfields; i++)
        if (r->rt->fields[i].def && r->v[i].state == GS_V_UNSET)
            gs_record_parse(r, i, r->rt->fields[i].def, NULL);
}

/* ---- output -------------------------------------------------------------- */

void gs_record_format(const gs_record *r, int f, gs_buf *b)
{
    CHECK_FIELD(r, f, );
    const gs_value *v = &r->v[f];
    if (v->state != GS_V_SET)
        return;
    if (is_text_type(r->rt->fields[f].type))
        gs_buf_puts(b, v->s);
    else
        gs_buf_printf(b, "%" PRId64, v->i);
}

json_t *gs_json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    gs_buf b = GS_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80)
            gs_buf_putc(&b, (char)*p);
        else
            gs_buf_puts(&b, "\xEF\xBF\xBD");
    j = b.err ? NULL : json_string(b.data ? b.data : "");
    gs_buf_free(&b);
    return j;
}

json_t *gs_record_to_json(const gs_record *r)
{
    json_t *o = json_object();
    for (int i = 0; o && i < r->rt->nfields; i++) {
        const gs_field *f = &r->rt->fields[i];
        const gs_value *v = &r->v[i];
        json_t *j;
        if (v->state == GS_V_UNSET)
            continue;
        if (v->state == GS_V_NULL)
            j = json_null();
        else if (f->type == GS_FT_BOOL)
            j = json_boolean(v->i);
        else if (f->type == GS_FT_INT)
            j = json_integer((json_int_t)v->i);
        else
            j = gs_json_text(v->s);
        if (!j || json_object_set_new(o, f->name, j)) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

void gs_record_json(const gs_record *r, gs_buf *b)
{
    json_t *o = gs_record_to_json(r);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) {
        if (!b->err)
            b->err = GS_ENOMEM;
        return;
    }
    gs_buf_puts(b, text);
    free(text);
}

void gs_record_csv(const gs_record *r, gs_buf *b)
{
    gs_buf cell = GS_BUF_INIT;
    bool first = true;
    for (int i = 0; i < r->rt->nfields; i++) {
        if (r->rt->fields[i].flags & GS_F_COMPUTED)
            continue;
        if (!first)
            gs_buf_putc(b, ',');
        first = false;
        gs_buf_reset(&cell);
        if (is_text_type(r->rt->fields[i].type) && r->v[i].state == GS_V_SET &&
            formula_start(r->v[i].s[0]))
            gs_buf_putc(&cell, '\''); /* text, not a formula, to a spreadsheet */
        gs_record_format(r, i, &cell);
        gs_buf_csv_field(b, cell.data ? cell.data : "");
    }
    gs_buf_free(&cell);
    gs_buf_puts(b, "\r\n");
}

/* ---- msgpack ------------------------------------------------------------- */

void gs_record_encode(const gs_record *r, gs_buf *b)
{
    uint32_t n = 0;
    for (int i = 0; i < r->rt->nfields; i++)
        n += r->v[i].state != GS_V_UNSET && !(r->rt->fields[i].flags & GS_F_COMPUTED);
    gs_mp_map(b, n);
    for (int i = 0; i < r->rt->nfields; i++) {
        const gs_value *v = &r->v[i];
        if (v->state == GS_V_UNSET || (r->rt->fields[i].flags & GS_F_COMPUTED))
            continue;
        gs_mp_str(b, r->rt->fields[i].name);
        if (v->state == GS_V_NULL)
            gs_mp_nil(b);
        else if (is_text_type(r->rt->fields[i].type))
            gs_mp_str(b, v->s);
        else
            gs_mp_int(b, v->i);
    }
}

/* The longest string a field can hold in bytes (4 per character at most). */
static size_t max_bytes(const gs_field *f)
{
    switch (f->type) {
    case GS_FT_TEXT: return (size_t)f->max * 4;
    case GS_FT_DATE:
    case GS_FT_DATETIME: return 32;
    case GS_FT_ENUM: return 64;
    default: return f->max > 0 ? (size_t)f->max : 64;
    }
}

/* The field named name (its name, not its label), or -1. An encoder writes
 * the fields in the table's order, so the search starts at from, the field
 * after the one before, and wraps around. */
static int field_named(const gs_rectype *rt, const char *name, int from)
{
    for (int j = 0; j < rt->nfields; j++) {
        int i = (from + j) % rt->nfields;
        if (!strcmp(rt->fields[i].name, name))
            return i;
    }
    return -1;
}

int gs_record_decode(gs_mp_reader *rd, gs_record *r, gs_errbuf *eb)
{
    gs_mp_val m;
    int rc = gs_mp_read(rd, &m);
    if (rc || m.kind != GS_MP_MAP)
        return gs_errf(eb, rc ? rc : GS_ETYPE, "%s: expected a map of fields", r->rt->name);
    if ((int64_t)m.n > r->rt->nfields)
        return gs_errf(eb, GS_ETOOBIG, "%s: %u fields, the type has only %d", r->rt->name, m.n,
                       r->rt->nfields);
    int f = -1;
    for (uint32_t k = 0; k < m.n; k++) {
        char name[64];
        rc = gs_mp_read_strcpy(rd, name, sizeof name);
        if (rc)
            return gs_errf(eb, rc, "%s: field name %u: %s", r->rt->name, k, gs_strerror(rc));
        f = field_named(r->rt, name, f + 1);
        if (f < 0)
            return gs_errf(eb, GS_EUNKNOWN, "%s: unknown field \"%s\"", r->rt->name, name);
        if (r->v[f].state != GS_V_UNSET)
            return gs_errf(eb, GS_EMALFORMED, "%s.%s: field given twice", r->rt->name, name);
        const gs_field *fd = &r->rt->fields[f];
        gs_mp_val v;
        if ((rc = gs_mp_read(rd, &v)))
            return gs_errf(eb, rc, "%s.%s: %s", r->rt->name, name, gs_strerror(rc));
        if (v.kind == GS_MP_NIL) {
            set_null(r, f);
        } else if (!is_text_type(fd->type)) {
            if (v.kind == GS_MP_UINT && v.u <= INT64_MAX)
                rc = gs_record_set_int(r, f, (int64_t)v.u);
            else if (v.kind == GS_MP_INT)
                rc = gs_record_set_int(r, f, v.i);
            else
                return gs_errf(eb, GS_ETYPE, "%s.%s: expected an integer", r->rt->name, name);
        } else {
            if (v.kind != GS_MP_STR)
                return gs_errf(eb, GS_ETYPE, "%s.%s: expected a string", r->rt->name, name);
            if (v.n > max_bytes(fd))
                return gs_errf(eb, GS_ETOOBIG, "%s.%s: %u bytes exceeds the limit of %zu",
                               r->rt->name, name, v.n, max_bytes(fd));
            if (!gs_utf8_valid(v.p, v.n))
                return gs_errf(eb, GS_EUTF8, "%s.%s: not valid UTF-8", r->rt->name, name);
            char *s = strndup(v.p, v.n);
            if (!s)
                return gs_errf(eb, GS_ENOMEM, "out of memory");
            free(r->v[f].s);
            r->v[f] = (gs_value){GS_V_SET, 0, s};
        }
        if (rc)
            return gs_errf(eb, rc, "%s.%s: %s", r->rt->name, name, gs_strerror(rc));
    }
    rc = gs_record_check(r, GS_CHECK_PARTIAL, eb);
    if (rc)
        return gs_errprefix(eb, rc, "%s", r->rt->name);
    return GS_OK;
}
