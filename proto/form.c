/*
 * form.c: forms generated from the record tables (see gridsync/form.h).
 *
 * One table drives it all: a field's type says which input it gets, its
 * bounds give the help text and the input's limits, its flags decide
 * whether it is shown, required or read-only, its ref names the picker.
 * Parsing goes through gs_record_parse, field by field, so that the pages
 * and the API say exactly what the command line says about a value.
 *
 * Invariant: every text that reaches the HTML (values typed, values stored,
 * labels, messages, the options' names) passes gs_html_escape.
 */
#include <stdlib.h>
#include <string.h>

#include "gridsync/find.h"
#include "gridsync/form.h"
#include "gridsync/http.h"

struct gs_form_choices {
    char **value, **label;
    int n, cap;
};

struct gs_form {
    const gs_rectype *rt;
    gs_form_mode mode;
    bool en;
    gs_form_refs_fn refs;
    void *refs_arg;
    char **taken;  /* per field: the text submitted, or NULL */
    char **preset; /* per field: the caller's default, or NULL */
    char **err;    /* per field: its messages, or NULL */
    bool *omit;
    char *top; /* the errors that name no field */
    int nerr;
};

/* The messages a form keeps (it counts them all). */
#define FORM_MAX_MESSAGES 32

/* Long text gets a text area rather than a line. */
#define FORM_TEXTAREA_OVER 500

void gs_form_choice_add(gs_form_choices *c, const char *value, const char *label)
{
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        char **v = realloc(c->value, (size_t)cap * sizeof *v);
        if (v)
            c->value = v;
        char **l = realloc(c->label, (size_t)cap * sizeof *l);
        if (l)
            c->label = l;
        if (!v || !l)
            return;
        c->cap = cap;
    }
    char *v = strdup(value), *l = strdup(label ? label : value);
    if (!v || !l) {
        free(v);
        free(l);
        return;
    }
    c->value[c->n] = v;
    c->label[c->n++] = l;
}

static void choices_free(gs_form_choices *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->value[i]);
        free(c->label[i]);
    }
    free(c->value);
    free(c->label);
}

gs_form_choices *gs_form_choices_new(void)
{
    return calloc(1, sizeof(gs_form_choices));
}

int gs_form_choices_count(const gs_form_choices *c)
{
    return c->n;
}

const char *gs_form_choice_value(const gs_form_choices *c, int i)
{
    return i >= 0 && i < c->n ? c->value[i] : NULL;
}

const char *gs_form_choice_label(const gs_form_choices *c, int i)
{
    return i >= 0 && i < c->n ? c->label[i] : NULL;
}

void gs_form_choices_destroy(gs_form_choices **cp)
{
    if (!cp || !*cp)
        return;
    choices_free(*cp);
    free(*cp);
    *cp = NULL;
}

gs_form *gs_form_new(const gs_rectype *rt, gs_form_mode mode)
{
    gs_form *fm = calloc(1, sizeof *fm);
    if (!fm)
        return NULL;
    size_t n = (size_t)rt->nfields;
    fm->rt = rt;
    fm->mode = mode;
    fm->taken = calloc(n, sizeof *fm->taken);
    fm->preset = calloc(n, sizeof *fm->preset);
    fm->err = calloc(n, sizeof *fm->err);
    fm->omit = calloc(n, sizeof *fm->omit);
    if (!fm->taken || !fm->preset || !fm->err || !fm->omit)
        gs_form_destroy(&fm);
    return fm;
}

void gs_form_destroy(gs_form **fp)
{
    gs_form *fm = fp ? *fp : NULL;
    if (!fm)
        return;
    for (int i = 0; i < fm->rt->nfields; i++) {
        if (fm->taken)
            free(fm->taken[i]);
        if (fm->preset)
            free(fm->preset[i]);
        if (fm->err)
            free(fm->err[i]);
    }
    free(fm->taken);
    free(fm->preset);
    free(fm->err);
    free(fm->omit);
    free(fm->top);
    free(fm);
    *fp = NULL;
}

void gs_form_set_en(gs_form *fm, bool en)
{
    fm->en = en;
}

void gs_form_set_refs(gs_form *fm, gs_form_refs_fn fn, void *arg)
{
    fm->refs = fn;
    fm->refs_arg = arg;
}

void gs_form_omit(gs_form *fm, int f)
{
    if (f >= 0 && f < fm->rt->nfields)
        fm->omit[f] = true;
}

/* Replaces *slot with a copy of s. */
static int set_text(char **slot, const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c)
        return GS_ENOMEM;
    free(*slot);
    *slot = c;
    return GS_OK;
}

int gs_form_preset(gs_form *fm, int f, const char *text)
{
    if (f < 0 || f >= fm->rt->nfields)
        return GS_EINVAL;
    return set_text(&fm->preset[f], text);
}

/* ---- errors ----------------------------------------------------------------- */

/* Appends msg to *slot on a new line. */
static void add_line(char **slot, const char *msg)
{
    size_t had = *slot ? strlen(*slot) : 0, n = strlen(msg);
    char *s = realloc(*slot, had + n + 2);
    if (!s)
        return;
    if (had)
        s[had++] = '\n';
    memcpy(s + had, msg, n + 1);
    *slot = s;
}

void gs_form_error(gs_form *fm, int f, const char *msg)
{
    /* a hostile request's thousands of unknown names are counted, but only
     * the first few are kept to be shown */
    if (fm->nerr++ < FORM_MAX_MESSAGES)
        add_line(f >= 0 && f < fm->rt->nfields ? &fm->err[f] : &fm->top, msg);
}

int gs_form_field_of_msg(const gs_rectype *rt, const char *msg)
{
    char pat[96];
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *fd = &rt->fields[i];
        snprintf(pat, sizeof pat, "(%s)", fd->name);
        if (strstr(msg, pat))
            return i;
        int n = snprintf(pat, sizeof pat, "(--%s)", fd->name);
        for (int k = 3; k < n - 1; k++)
            if (pat[k] == '_')
                pat[k] = '-';
        if (strstr(msg, pat))
            return i;
    }
    for (int i = 0; i < rt->nfields; i++)
        if (!strncmp(msg, rt->fields[i].label_zh, strlen(rt->fields[i].label_zh)))
            return i;
    return -1;
}

void gs_form_error_msg(gs_form *fm, const char *msg)
{
    gs_form_error(fm, gs_form_field_of_msg(fm->rt, msg), msg);
}

int gs_form_nerrors(const gs_form *fm)
{
    return fm->nerr;
}

const char *gs_form_error_of(const gs_form *fm, int f)
{
    return f >= 0 && f < fm->rt->nfields ? fm->err[f] : fm->top;
}

/* ---- parsing ------------------------------------------------------------------ */

int gs_form_take(gs_form *fm, const char *name, const char *text)
{
    const gs_rectype *rt = fm->rt;
    int f = gs_field_find(rt, name);
    gs_errbuf eb = {{0}};
    if (f < 0) {
        gs_errf(&eb, GS_EUNKNOWN, "%s (%s) 没有\"%.60s\"这一项 (has no field %.60s)",
                rt->label_zh, rt->name, name, name);
        gs_form_error(fm, -1, eb.msg);
        return GS_EUNKNOWN;
    }
    if (rt->fields[f].flags & GS_F_COMPUTED) {
        gs_errf(&eb, GS_EINVAL, "%s: %s (%s) is computed by the rules and cannot be set",
                rt->name, rt->fields[f].label_zh, rt->fields[f].name);
        gs_form_error(fm, f, eb.msg);
        return GS_EINVAL;
    }
    if (set_text(&fm->taken[f], text))
        return GS_ENOMEM;
    return GS_OK;
}

const char *gs_form_taken(const gs_form *fm, int f)
{
    return f >= 0 && f < fm->rt->nfields ? fm->taken[f] : NULL;
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* Whether the entry gives field f a value when the user gives none: a
 * default of the table or the caller's, a generated key, the village. */
static bool filled_for_user(const gs_form *fm, int f)
{
    const gs_field *fd = &fm->rt->fields[f];
    return fd->def || fm->preset[f] || (fd->flags & (GS_F_GENERATED | GS_F_SCOPE));
}

/* Whether the user must give field f (the required mark). */
static bool must_give(const gs_form *fm, int f)
{
    const gs_field *fd = &fm->rt->fields[f];
    if (!(fd->flags & GS_F_REQUIRED) || (fd->flags & GS_F_COMPUTED))
        return false;
    return fm->mode == GS_FORM_UPDATE || !filled_for_user(fm, f);
}

int gs_form_parse(gs_form *fm, gs_record *rec)
{
    const gs_rectype *rt = fm->rt;
    gs_errbuf eb = {{0}};
    for (int f = 0; f < rt->nfields; f++) {
        const gs_field *fd = &rt->fields[f];
        const char *t = fm->taken[f];
        if (fd->flags & GS_F_COMPUTED)
            continue; /* refused when taken */
        if (!t || blank(t)) {
            bool create = fm->mode == GS_FORM_CREATE;
            if (create && must_give(fm, f)) {
                gs_errf(&eb, GS_EREQUIRED, "%s (%s) is required", fd->label_zh, fd->name);
                gs_form_error(fm, f, eb.msg);
            } else if (!create && t && (fd->flags & GS_F_REQUIRED)) {
                gs_errf(&eb, GS_EREQUIRED, "%s (%s) is required and may not be empty",
                        fd->label_zh, fd->name);
                gs_form_error(fm, f, eb.msg);
            } else if (!create && t) {
                gs_record_set_null(rec, f); /* emptied: cleared */
            }
            continue;
        }
        if (gs_record_parse(rec, f, t, &eb))
            gs_form_error(fm, f, eb.msg);
    }
    return fm->nerr;
}

/* ---- rendering ---------------------------------------------------------------- */

/* The label of field f in the form's language. */
static void put_label(const gs_form *fm, const gs_field *fd, gs_buf *b)
{
    if (!fm->en) {
        gs_html_escape(b, fd->label_zh);
        return;
    }
    char name[80];
    snprintf(name, sizeof name, "%s", fd->name);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (name[0] >= 'a' && name[0] <= 'z')
        name[0] = (char)(name[0] - 'a' + 'A');
    gs_html_escape(b, name);
}

/* The help text of f: what it accepts and its default; "" when nothing helps. */
static void help_text(const gs_form *fm, int f, bool picker, gs_buf *b)
{
    const gs_field *fd = &fm->rt->fields[f];
    bool en = fm->en;
    switch (fd->type) {
    case GS_FT_TEXT:
        if (fd->min > 0)
            gs_buf_printf(b, en ? "%lld to %lld characters" : "%lld–%lld 字", (long long)fd->min,
                          (long long)fd->max);
        else
            gs_buf_printf(b, en ? "at most %lld characters" : "最多 %lld 字", (long long)fd->max);
        break;
    case GS_FT_CODE:
        if (picker)
            break;
        if (fd->min == fd->max)
            gs_buf_printf(b, en ? "%lld digits" : "%lld 位数字", (long long)fd->min);
        else
            gs_buf_printf(b, en ? "%lld to %lld digits" : "%lld–%lld 位数字", (long long)fd->min,
                          (long long)fd->max);
        break;
    case GS_FT_SLUG:
        if (!picker)
            gs_buf_puts(b, en ? "lowercase letters, digits, _ or ." : "小写字母、数字、_ 或 .");
        break;
    case GS_FT_ID:
        if (!picker)
            gs_buf_puts(b, en ? "letters, digits, . _ -" : "字母、数字、. _ -");
        break;
    case GS_FT_INT:
        gs_buf_printf(b, en ? "a whole number from %lld to %lld" : "%lld–%lld 的整数",
                      (long long)fd->min, (long long)fd->max);
        break;
    case GS_FT_DATE: gs_buf_puts(b, en ? "a date like 2026-11-28" : "日期, 如 2026-11-28"); break;
    case GS_FT_DATETIME:
        gs_buf_puts(b, en ? "date and time, like 2026-11-28 09:30" : "日期和时间, 如 2026-11-28 09:30");
        break;
    case GS_FT_BOOL:
    case GS_FT_ENUM: break;
    }
    const char *def = fd->def;
    if (def && fm->mode == GS_FORM_CREATE) {
        const char *shown = fd->type == GS_FT_ENUM && !en ? gs_enum_zh(fd, def) : def;
        gs_buf_printf(b, "%s%s%s", b->len ? (en ? "; " : "；") : "", en ? "default " : "默认 ",
                      shown);
    }
}

/* The canonical form of text for field f (for choosing the selected option
 * of a select), or NULL when it does not parse; *tmp is the caller's. */
static const char *canon(gs_record *scratch, int f, const char *text, gs_buf *tmp)
{
    gs_buf_reset(tmp);
    if (!text || gs_record_parse(scratch, f, text, NULL) || !gs_record_has(scratch, f))
        return NULL;
    gs_record_format(scratch, f, tmp);
    return tmp->data ? tmp->data : "";
}

/* Starts a <select> (or an <input>): id, name, required, the error's aria. */
static void input_attrs(const gs_form *fm, int f, bool required, gs_buf *b)
{
    const gs_field *fd = &fm->rt->fields[f];
    gs_html_printf(b, " id=\"f-%s\" name=\"%s\"", fd->name, fd->name);
    if (required)
        gs_buf_puts(b, " required");
    gs_html_printf(b, " aria-describedby=\"h-%s%s%s\"", fd->name, fm->err[f] ? " e-" : "",
                   fm->err[f] ? fd->name : "");
    if (fm->err[f])
        gs_buf_puts(b, " aria-invalid=\"true\"");
}

/* An option of a select, selected when value is sel. */
static void option(gs_buf *b, const char *value, const char *label, const char *sel)
{
    gs_html_printf(b, "<option value=\"%s\"%s>", value,
                   sel && !strcmp(sel, value) ? " selected" : "");
    gs_html_escape(b, label);
    gs_buf_puts(b, "</option>");
}

/* A select of choices; the first option empty unless a value is required
 * and one is chosen already. The current value is kept as an option even
 * when the list does not hold it. */
static void render_select(const gs_form *fm, int f, bool required, const char *sel,
                          const gs_form_choices *c, gs_buf *b)
{
    gs_buf_puts(b, "<select");
    input_attrs(fm, f, required, b);
    gs_buf_putc(b, '>');
    if (!required || !sel || !*sel)
        option(b, "", required ? (fm->en ? "— choose —" : "— 请选择 —") : (fm->en ? "(none)" : "（无）"),
               sel ? sel : "");
    bool found = false;
    for (int i = 0; i < c->n; i++) {
        option(b, c->value[i], c->label[i], sel);
        found |= sel && !strcmp(sel, c->value[i]);
    }
    if (sel && *sel && !found)
        option(b, sel, sel, sel);
    gs_buf_puts(b, "</select>");
}

/* The input of an editable field. shown: the text to show (typed, stored or
 * preset), sel: its canonical form when it parses. */
static void render_input(const gs_form *fm, int f, bool required, const char *shown,
                         const char *sel, const gs_form_choices *refs, gs_buf *b)
{
    const gs_field *fd = &fm->rt->fields[f];
    gs_form_choices fixed = {0};
    char local[20];
    if (refs && refs->n) {
        render_select(fm, f, required, sel ? sel : shown, refs, b);
        return;
    }
    switch (fd->type) {
    case GS_FT_ENUM:
        for (int i = 0; fd->enums[i]; i++)
            gs_form_choice_add(&fixed, fd->enums[i],
                               fm->en || !fd->enums_zh ? fd->enums[i] : fd->enums_zh[i]);
        render_select(fm, f, required, sel ? sel : shown, &fixed, b);
        choices_free(&fixed);
        return;
    case GS_FT_BOOL:
        gs_form_choice_add(&fixed, "1", fm->en ? "yes" : "是");
        gs_form_choice_add(&fixed, "0", fm->en ? "no" : "否");
        render_select(fm, f, required, sel ? sel : shown, &fixed, b);
        choices_free(&fixed);
        return;
    case GS_FT_TEXT:
        if (fd->max > FORM_TEXTAREA_OVER) {
            gs_buf_puts(b, "<textarea rows=\"4\"");
            input_attrs(fm, f, required, b);
            gs_buf_printf(b, " maxlength=\"%lld\">", (long long)fd->max);
            gs_html_escape(b, shown ? shown : "");
            gs_buf_puts(b, "</textarea>");
            return;
        }
        gs_buf_puts(b, "<input type=\"text\"");
        gs_buf_printf(b, " maxlength=\"%lld\"", (long long)fd->max);
        break;
    case GS_FT_INT:
        gs_buf_printf(b, "<input type=\"number\" step=\"1\" min=\"%lld\" max=\"%lld\"",
                      (long long)fd->min, (long long)fd->max);
        break;
    case GS_FT_DATE: gs_buf_puts(b, "<input type=\"date\""); break;
    case GS_FT_DATETIME: {
        gs_buf_puts(b, "<input type=\"datetime-local\" step=\"1\"");
        /* the browser's form of a China time: 2026-11-28T09:30:00 */
        if (sel && strlen(sel) >= 19 && sel[10] == 'T') {
            memcpy(local, sel, 19);
            local[19] = '\0';
            shown = local;
        }
        break;
    }
    case GS_FT_CODE:
        gs_buf_printf(b, "<input type=\"text\" inputmode=\"numeric\" maxlength=\"%lld\"",
                      (long long)fd->max);
        break;
    case GS_FT_ID:
    case GS_FT_SLUG: gs_buf_printf(b, "<input type=\"text\" maxlength=\"%lld\"", (long long)fd->max); break;
    }
    input_attrs(fm, f, required, b);
    gs_html_printf(b, " value=\"%s\">", shown ? shown : "");
}

/* A read-only field: its label and its value as the record page shows it. */
static void render_readonly(const gs_form *fm, const gs_record *values, int f, gs_buf *b)
{
    gs_buf v = GS_BUF_INIT;
    gs_find_display(values, f, &v);
    gs_buf_puts(b, "<div class=\"field readonly\"><span class=\"label\">");
    put_label(fm, &fm->rt->fields[f], b);
    gs_buf_puts(b, "</span> <span class=\"value\">");
    gs_html_escape(b, v.data ? v.data : "");
    gs_buf_puts(b, "</span></div>\n");
    gs_buf_free(&v);
}

/* Whether field f is an input of this form. */
static bool is_input(const gs_form *fm, int f)
{
    const gs_rectype *rt = fm->rt;
    unsigned fl = rt->fields[f].flags;
    if (fm->omit[f] || f == rt->scope || (fl & GS_F_COMPUTED))
        return false;
    if (f == rt->key)
        return fm->mode == GS_FORM_CREATE && !(fl & GS_F_GENERATED);
    return true;
}

void gs_form_render(const gs_form *fm, const gs_record *values, gs_buf *b)
{
    const gs_rectype *rt = fm->rt;
    gs_record *scratch = gs_record_new(rt);
    gs_buf stored = GS_BUF_INIT, tmp = GS_BUF_INIT, help = GS_BUF_INIT;
    if (!scratch) {
        b->err = GS_ENOMEM;
        return;
    }
    if (fm->top) {
        gs_buf_puts(b, "<div class=\"form-errors\" role=\"alert\"><p class=\"err\">");
        gs_html_escape(b, fm->top);
        gs_buf_puts(b, "</p></div>\n");
    }
    for (int f = 0; f < rt->nfields; f++) {
        const gs_field *fd = &rt->fields[f];
        bool has = values && gs_record_has(values, f);
        if (!is_input(fm, f)) {
            bool ro = fm->mode == GS_FORM_UPDATE && !fm->omit[f] && f != rt->scope && has &&
                      (f == rt->key ? !(fd->flags & GS_F_GENERATED) : (fd->flags & GS_F_COMPUTED));
            if (ro)
                render_readonly(fm, values, f, b);
            continue;
        }
        /* what to show: what was typed, else the record's, else the preset */
        gs_buf_reset(&stored);
        const char *shown = fm->taken[f];
        if (!shown && has) {
            gs_record_format(values, f, &stored);
            shown = stored.data ? stored.data : "";
        }
        if (!shown && fm->mode == GS_FORM_CREATE)
            shown = fm->preset[f] ? fm->preset[f] : fd->def;
        const char *sel = canon(scratch, f, shown, &tmp);
        gs_form_choices refs = {0};
        if (fd->ref && fm->refs)
            fm->refs(fm->refs_arg, rt, f, &refs);
        bool req = must_give(fm, f);

        gs_html_printf(b, "<div class=\"field%s\">\n<label for=\"f-%s\">", fm->err[f] ? " has-err" : "",
                       fd->name);
        put_label(fm, fd, b);
        if (req)
            gs_html_printf(b, "<span class=\"req\" title=\"%s\">*</span>",
                           fm->en ? "required" : "必填");
        gs_buf_puts(b, "</label>\n");
        render_input(fm, f, req, shown, sel, &refs, b);
        gs_buf_reset(&help);
        help_text(fm, f, refs.n > 0, &help);
        gs_html_printf(b, "\n<p class=\"help\" id=\"h-%s\">%s</p>", fd->name,
                       help.data ? help.data : "");
        if (fm->err[f]) {
            gs_html_printf(b, "\n<p class=\"err\" id=\"e-%s\">", fd->name);
            gs_html_escape(b, fm->err[f]);
            gs_buf_puts(b, "</p>");
        }
        gs_buf_puts(b, "\n</div>\n");
        choices_free(&refs);
    }
    gs_record_destroy(&scratch);
    gs_buf_free(&stored);
    gs_buf_free(&tmp);
    gs_buf_free(&help);
}

void gs_form_drop_unchanged(gs_record *edit, const gs_record *cur)
{
    gs_buf a = GS_BUF_INIT, b = GS_BUF_INIT;
    for (int f = 0; f < edit->rt->nfields; f++) {
        if (f == edit->rt->key || edit->v[f].state == GS_V_UNSET)
            continue;
        gs_buf_reset(&a);
        gs_buf_reset(&b);
        gs_record_format(edit, f, &a);
        gs_record_format(cur, f, &b);
        bool same = edit->v[f].state == cur->v[f].state &&
                    !strcmp(a.data ? a.data : "", b.data ? b.data : "");
        if (same || (edit->v[f].state == GS_V_NULL && cur->v[f].state == GS_V_UNSET))
            gs_record_unset(edit, f);
    }
    gs_buf_free(&a);
    gs_buf_free(&b);
}
