/*
 * bundle.c: parsing and writing node bundles (see bundle.h). The parser
 * treats the file as hostile: bounded size, line length and row count, every
 * line checked, nothing accepted that it does not understand. Reference rows
 * are read by the CSV reader and the field table, as `gridhub refdata load`
 * reads its files, so a row means in a bundle what it means in a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/bundle.h"
#include "gridsync/change.h"
#include "gridsync/csv.h"
#include "gridsync/mpack.h"

#include <zmq.h>

bool gs_z85_key_valid(const char *s)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    return strlen(s) == 40 && strspn(s, z85) == 40;
}

bool gs_village_code_valid(const char *s)
{
    return strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

bool gs_endpoint_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 7 || n > 255 || !gs_utf8_valid(s, n))
        return false;
    if (!strncmp(s, "ipc://", 6))
        return true;
    if (strncmp(s, "tcp://", 6))
        return false;
    const char *colon = strrchr(s + 6, ':');
    return colon && colon > s + 6 && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

typedef struct key_spec {
    const char *key;
    size_t offset, cap;
    bool required;
    bool (*valid)(const char *);
} key_spec;

/* No control characters (they would be printed raw by `status`). */
static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return gs_utf8_valid(s, strlen(s));
}

static bool any_text(const char *s)
{
    return printable(s);
}

static bool format_ok(const char *s)
{
    return !strcmp(s, GS_BUNDLE_FORMAT);
}

static bool origin_ok(const char *s)
{
    return gs_origin_valid(s) && !gs_origin_is_hub(s);
}

/* 1 to GS_BUNDLE_MAX_ROWS, in decimal. */
static bool row_count_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n <= 5 && strspn(s, "0123456789") == n && s[0] != '0' &&
           atoi(s) <= GS_BUNDLE_MAX_ROWS;
}

#define SPEC(k, field, req, fn) {k, offsetof(gs_bundle, field), sizeof(((gs_bundle *)0)->field), req, fn}
/* In the order they are written: the reference rows right after
 * reference_rows, so the node's keys come last and a cut bundle lacks one. */
static const key_spec specs[] = {
    {"format", 0, 0, true, format_ok},
    SPEC("node_id", node_id, true, origin_ok),
    SPEC("village", village, true, gs_village_code_valid),
    SPEC("name", name, false, any_text),
    SPEC("hub_endpoint", hub_endpoint, true, gs_endpoint_valid),
    SPEC("hub_public_key", hub_public_key, true, gs_z85_key_valid),
    {"reference_rows", 0, 0, false, row_count_ok},
    SPEC("node_public_key", node_public_key, true, gs_z85_key_valid),
    SPEC("node_secret_key", node_secret_key, false, gs_z85_key_valid),
};
#define NSPECS (sizeof specs / sizeof specs[0])
#define SPEC_ROWS 6 /* the index of reference_rows */

/* Parses the value of a reference row `TYPE = CSV row` of line lineno into a
 * new record (*out, the caller's), through the CSV reader and the field
 * table (in schema order; trailing fields may be missing), and checks it as
 * a complete record. */
static int parse_row(const gs_rectype *rt, const char *value, size_t lineno, gs_record **out,
                     gs_errbuf *eb)
{
    gs_buf text = GS_BUF_INIT;
    gs_schema_csv_header(rt, false, &text);
    size_t header_len = text.len;
    gs_buf_puts(&text, value);
    gs_buf_puts(&text, "\n");
    gs_csv *csv = NULL;
    gs_errbuf ceb = {{0}};
    int rc = text.err ? gs_errf(eb, text.err, "bundle line %zu: %s", lineno, gs_strerror(text.err))
                      : GS_OK;
    if (!rc && (gs_csv_open_mem(&csv, "bundle", text.data, text.len, &ceb) ||
                gs_csv_nrows(csv) != 1 || gs_csv_row_ncells(csv, 0) > gs_csv_ncols(csv))) {
        /* the header without its "\r\n", to say which columns are wanted */
        rc = gs_errf(eb, GS_EMALFORMED, "bundle line %zu: %s: expected one CSV row %.*s", lineno,
                     rt->name, (int)(header_len > 2 ? header_len - 2 : 0), text.data);
    }
    gs_buf_free(&text);
    gs_record *rec = rc ? NULL : gs_record_new(rt);
    if (!rc && !rec)
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    /* A row may stop short: a bundle written before a field was appended to
     * the type (the fields left out stay unset; required ones are checked). */
    for (size_t c = 0; !rc && c < gs_csv_row_ncells(csv, 0); c++) {
        int f = gs_field_find(rt, gs_csv_header(csv, c));
        if (f < 0)
            rc = gs_errf(eb, GS_EINVAL, "bundle line %zu: %s: no column %s", lineno, rt->name,
                         gs_csv_header(csv, c));
        else if (gs_record_parse(rec, f, gs_csv_cell(csv, 0, c), &ceb))
            rc = gs_errf(eb, GS_EINVAL, "bundle line %zu: %s %s: %s", lineno, rt->name,
                         rt->fields[f].name, ceb.msg);
    }
    if (!rc && gs_record_check(rec, GS_CHECK_COMPLETE, &ceb))
        rc = gs_errf(eb, GS_EINVAL, "bundle line %zu: %s: %s", lineno, rt->name, ceb.msg);
    gs_csv_destroy(&csv);
    if (rc)
        gs_record_destroy(&rec);
    *out = rec;
    return rc;
}

int gs_bundle_parse(const char *text, size_t len, gs_bundle *out, gs_errbuf *eb)
{
    return gs_bundle_parse_rows(text, len, out, NULL, NULL, eb);
}

/* gs_bundle_parse_rows without the wipe on error. */
static int parse(const char *text, size_t len, gs_bundle *out, gs_bundle_row_fn fn, void *arg,
                 gs_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (len > GS_BUNDLE_MAX_BYTES)
        return gs_errf(eb, GS_ETOOBIG, "bundle: %zu bytes, more than a bundle can be", len);
    if (memchr(text, '\0', len))
        return gs_errf(eb, GS_EMALFORMED, "bundle: contains a NUL byte (not a text file)");
    bool seen[NSPECS] = {false};
    size_t lineno = 0, rows = 0, rows_said = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        char line[GS_BUNDLE_MAX_LINE];
        size_t n = (size_t)(le - p);
        if (n >= sizeof line)
            return gs_errf(eb, GS_ETOOBIG, "bundle line %zu: too long", lineno);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *s = line;
        if (lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
            s += 3;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return gs_errf(eb, GS_EMALFORMED, "bundle line %zu: expected key = value", lineno);
        char *k_end = eq;
        while (k_end > s && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vn = strlen(v);
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == '\r'))
            v[--vn] = '\0';
        const gs_rectype *rt = gs_rectype_find(s);
        if (rt && rt->reference && !strcmp(rt->name, s)) {
            if (++rows > GS_BUNDLE_MAX_ROWS)
                return gs_errf(eb, GS_ETOOBIG, "bundle line %zu: more than %d reference rows",
                               lineno, GS_BUNDLE_MAX_ROWS);
            gs_record *rec = NULL;
            int rc = printable(v) ? parse_row(rt, v, lineno, &rec, eb)
                                  : gs_errf(eb, GS_EINVAL, "bundle line %zu: %s: control "
                                                           "characters", lineno, s);
            if (!rc && fn)
                rc = fn(rec, arg, eb);
            gs_record_destroy(&rec);
            if (rc)
                return rc;
            continue;
        }
        size_t i = 0;
        while (i < NSPECS && strcmp(specs[i].key, s))
            i++;
        if (i == NSPECS)
            return gs_errf(eb, GS_EUNKNOWN, "bundle line %zu: unknown key \"%.40s\"", lineno, s);
        if (seen[i])
            return gs_errf(eb, GS_EMALFORMED, "bundle line %zu: %s given twice", lineno, s);
        seen[i] = true;
        if ((specs[i].cap && vn >= specs[i].cap) || !printable(v) || !specs[i].valid(v)) {
            /* never echo a secret, even a damaged one */
            if (strstr(specs[i].key, "secret"))
                return gs_errf(eb, GS_EINVAL, "bundle line %zu: %s is not a valid key", lineno,
                               specs[i].key);
            return gs_errf(eb, GS_EINVAL, "bundle line %zu: %s: \"%.60s\" is not valid", lineno,
                           specs[i].key, printable(v) ? v : "(control characters)");
        }
        if (specs[i].cap)
            memcpy((char *)out + specs[i].offset, v, vn + 1);
        if (i == SPEC_ROWS)
            rows_said = (size_t)atoi(v);
    }
    if (rows != rows_said) {
        if (!seen[SPEC_ROWS])
            return gs_errf(eb, GS_EMALFORMED,
                           "bundle: %zu reference rows but no reference_rows line (edited?)", rows);
        return gs_errf(eb, GS_EMALFORMED,
                       "bundle: reference_rows says %zu rows and the bundle has %zu (is the file "
                       "truncated or edited?)",
                       rows_said, rows);
    }
    out->reference_rows = rows;
    for (size_t i = 0; i < NSPECS; i++)
        if (specs[i].required && !seen[i]) {
            memset(out, 0, sizeof *out);
            return gs_errf(eb, GS_EREQUIRED,
                           "bundle: %s is missing (is the file truncated or not a bundle?)",
                           specs[i].key);
        }
    if (out->node_secret_key[0]) {
        char derived[41];
        if (zmq_curve_public(derived, out->node_secret_key) != 0 ||
            strcmp(derived, out->node_public_key)) {
            memset(out, 0, sizeof *out);
            return gs_errf(eb, GS_EINVAL,
                           "bundle: node_secret_key does not belong to node_public_key");
        }
    }
    return GS_OK;
}

int gs_bundle_parse_rows(const char *text, size_t len, gs_bundle *out, gs_bundle_row_fn fn,
                         void *arg, gs_errbuf *eb)
{
    int rc = parse(text, len, out, fn, arg, eb);
    if (rc)
        memset(out, 0, sizeof *out); /* nothing half-parsed, no secret, is left */
    return rc;
}

void gs_bundle_format(const gs_bundle *b, gs_buf *out)
{
    gs_bundle_format_rows(b, NULL, 0, out);
}

void gs_bundle_format_rows(const gs_bundle *b, const gs_record *const *rows, size_t n,
                           gs_buf *out)
{
    gs_buf_puts(out, "# gridsync 节点安装包 node bundle: install with `gridnode init --bundle FILE`.\n"
                     "# Keep it secret when it holds node_secret_key; delete it once installed.\n");
    gs_buf_printf(out, "format = %s\n", GS_BUNDLE_FORMAT);
    gs_buf row = GS_BUF_INIT;
    for (size_t i = 1; i < NSPECS; i++) {
        if (i == SPEC_ROWS) {
            if (!n)
                continue;
            gs_buf_printf(out, "# 参考数据 reference data until the first sync: columns as in "
                               "`gridhub refdata load`\nreference_rows = %zu\n", n);
            for (size_t r = 0; r < n; r++) {
                gs_buf_reset(&row);
                gs_record_csv(rows[r], &row); /* ends in "\r\n" */
                gs_buf_printf(out, "%s = %.*s\n", rows[r]->rt->name,
                              (int)(row.len >= 2 ? row.len - 2 : 0), row.data ? row.data : "");
            }
            continue;
        }
        const char *v = (const char *)b + specs[i].offset;
        if (*v)
            gs_buf_printf(out, "%s = %s\n", specs[i].key, v);
    }
    gs_buf_free(&row);
}
