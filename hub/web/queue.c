/*
 * queue.c: 事件工单, the incidents of the user's area, and 上级交办.
 *
 *   GET  /incidents            the queue: filters (state, category, county,
 *                              township, village, overdue, assignee, text), a
 *                              GET form that works without JavaScript; overdue
 *                              first, then by deadline; 50 a page with a total
 *   GET  /incident/ID          the record, its deadline and time left, the
 *                              decisions the workflow allows the city, the
 *                              whole history
 *   POST /incident/ID/status   one decision (accept, register, dispatch with
 *                              an assignee, return, close ...) with a note
 *   GET  /incidents/new        上级交办: an incident for a village of the area
 *   POST /incidents/new        creates it; it reaches the village's PCs at
 *                              their next sync
 *
 * The scope is applied in one place: every list goes through the core's
 * filter with the user's division prefix (gs_find_filter.within), every
 * filter value naming a division and every record is asked of
 * hweb_scope_has, and a "no" is hweb_forbidden, whose message names
 * nothing. Writes are the command line's: hub_city_decide (the workflow
 * table for GS_ACTOR_CITY, the store's judge) and hub_city_create; each is
 * audited (hweb_audit).
 */
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "gridsync/find.h"
#include "gridsync/form.h"
#include "gridsync/hlc.h"
#include "gridsync/rules.h"
#include "gridsync/web_page.h"
#include "web.h"

#define PAGE_SIZE 50
/* A village picker of more villages than this is a text input instead. */
#define PICKER_MAX 2000

static const gs_rectype *incident_type(void)
{
    return gs_rectype_get(GS_RT_INCIDENT);
}

/* ---- the divisions of the area --------------------------------------------------- */

/* One division of the reference data: code, name, level. */
typedef struct division {
    char code[13];
    char name[128];
    char level[16];
} division;

typedef struct divisions {
    division *v;
    int n, cap;
    const char *prefix; /* only codes starting with it (or containing the area) */
} divisions;

static int division_one(const gs_record *r, void *arg)
{
    divisions *d = arg;
    const char *code = gs_record_key(r);
    const char *name = gs_record_str(r, GS_DIVISION_NAME);
    const char *level = gs_record_str(r, GS_DIVISION_LEVEL);
    size_t np = strlen(d->prefix);
    if (!code || !level || strncmp(code, d->prefix, np) || strlen(code) <= np)
        return GS_OK;
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 256;
        division *v = realloc(d->v, (size_t)cap * sizeof *v);
        if (!v)
            return GS_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    division *x = &d->v[d->n++];
    snprintf(x->code, sizeof x->code, "%s", code);
    snprintf(x->name, sizeof x->name, "%s", name ? name : code);
    snprintf(x->level, sizeof x->level, "%s", level);
    return GS_OK;
}

/* The divisions strictly under the scope's prefix (all for the city). */
static void divisions_of(hweb *w, const hweb_scope *sc, divisions *d)
{
    gs_find_filter all = {0};
    memset(d, 0, sizeof *d);
    d->prefix = sc->prefix;
    hub_store_list(w->store, gs_rectype_get(GS_RT_DIVISION), &all, division_one, d, NULL);
}

static const char *division_name(const divisions *d, const char *code)
{
    for (int i = 0; code && i < d->n; i++)
        if (!strcmp(d->v[i].code, code))
            return d->v[i].name;
    return NULL;
}

/* The name of one division code, from the store (the village of a record). */
static void name_of_code(hweb *w, const char *code, gs_buf *b)
{
    const gs_rectype *dt = gs_rectype_get(GS_RT_DIVISION);
    gs_record *d = NULL;
    if (code && hub_store_find(w->store, dt, code, &d, NULL) == GS_OK &&
        !strcmp(gs_record_key(d), code) && gs_record_str(d, GS_DIVISION_NAME))
        gs_buf_puts(b, gs_record_str(d, GS_DIVISION_NAME));
    else
        gs_buf_puts(b, code ? code : "");
    gs_record_destroy(&d);
}

/* ---- pieces ------------------------------------------------------------------------ */

/* A query argument, NULL when absent or empty (a form's "any"). */
static const char *arg(gs_http_req *rq, const char *name)
{
    const char *v = gs_http_query(rq, name);
    return v && *v ? v : NULL;
}

static void notice(gs_http_req *rq, gs_buf *b)
{
    const char *ok = gs_http_query(rq, "ok");
    if (ok && !strcmp(ok, "created"))
        gs_html_printf(b, "<p class=\"notice\" role=\"status\">%s</p>\n",
                       hweb_t(rq, "已交办，村里下次同步时收到",
                              "Handed down: the village receives it at its next sync"));
    else if (ok && !strcmp(ok, "status"))
        gs_html_printf(b, "<p class=\"notice\" role=\"status\">%s</p>\n",
                       hweb_t(rq, "已保存，村里下次同步时收到",
                              "Saved: the village receives it at its next sync"));
}

/* ---- the queue ------------------------------------------------------------------- */

static const char *choice_label(const gs_form_choices *c, const char *value);

/* How a page shows field f of r: the category by its name (from cats, on a
 * Chinese page), the rest as gs_web_display shows them. */
typedef struct shown {
    gs_http_req *rq;
    const gs_form_choices *cats;
} shown;

static void value_of(void *shown_, const gs_record *r, int f, gs_buf *b)
{
    const shown *s = shown_;
    const char *cat = f == GS_INCIDENT_CATEGORY && !gs_http_en(s->rq)
                          ? choice_label(s->cats, gs_record_str(r, f))
                          : NULL;
    if (cat)
        gs_buf_puts(b, cat);
    else
        gs_web_display(s->rq, r, f, b);
}

typedef struct list_ctx {
    gs_http_req *rq;
    hweb *w;
    const divisions *d;
    const gs_form_choices *cats;
    gs_buf *b;
    int rows;
} list_ctx;

static int list_row(const gs_record *r, void *arg_)
{
    list_ctx *c = arg_;
    gs_buf *b = c->b, v = GS_BUF_INIT, left = GS_BUF_INIT;
    int64_t days = gs_web_time_left(c->rq, r, &left);
    gs_buf_puts(b, days < 0 ? "<tr class=\"overdue\">" : "<tr>");
    const char *vname = division_name(c->d, gs_record_scope(r));
    gs_html_printf(b, "<td>%s</td>", vname ? vname : gs_record_scope(r));
    gs_html_printf(b, "<td><a href=\"/incident/%s\">", gs_record_key(r));
    gs_html_escape(b, gs_record_str(r, GS_INCIDENT_TITLE));
    gs_buf_puts(b, "</a></td>");
    static const int cols[] = {GS_INCIDENT_STATUS, GS_INCIDENT_CATEGORY, GS_INCIDENT_SOURCE,
                               GS_INCIDENT_ASSIGNEE, GS_INCIDENT_DEADLINE};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        gs_buf_reset(&v);
        shown sh = {c->rq, c->cats};
        value_of(&sh, r, cols[i], &v);
        gs_html_printf(b, "<td>%s</td>", v.data ? v.data : "");
    }
    gs_html_printf(b, "<td>%s</td></tr>\n", left.data ? left.data : "");
    gs_buf_free(&v);
    gs_buf_free(&left);
    c->rows++;
    return GS_OK;
}

/* A select of the filter form: "全部" first, the current value chosen. */
static void select_open(gs_http_req *rq, gs_buf *b, const char *name, const char *label)
{
    gs_html_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">%s</option>", label, name,
                   hweb_t(rq, "全部", "all"));
}

static void option(gs_buf *b, const char *value, const char *label, const char *cur)
{
    gs_html_printf(b, "<option value=\"%s\"%s>%s</option>", value,
                   cur && !strcmp(cur, value) ? " selected" : "", label);
}

static void text_input(gs_http_req *rq, gs_buf *b, const char *type, const char *name,
                       const char *label)
{
    const char *cur = gs_http_query(rq, name);
    gs_html_printf(b, "<label>%s <input type=\"%s\" name=\"%s\" value=\"%s\"></label>\n", label,
                   type, name, cur ? cur : "");
}

/* The villages of d under prefix (the narrowest area chosen), as a select;
 * a text input when they are too many. */
static void village_picker(gs_http_req *rq, gs_buf *b, const divisions *d, const char *prefix,
                           const char *name, const char *label, const char *cur, bool any)
{
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += !strcmp(d->v[i].level, "village") && !strncmp(d->v[i].code, prefix, strlen(prefix));
    if (n > PICKER_MAX) {
        gs_html_printf(b,
                       "<label>%s <input type=\"text\" name=\"%s\" value=\"%s\" "
                       "inputmode=\"numeric\" placeholder=\"411122101201\"></label>\n",
                       label, name, cur ? cur : "");
        return;
    }
    if (any)
        select_open(rq, b, name, label);
    else
        gs_html_printf(b, "<label>%s <select name=\"%s\" required><option value=\"\">%s</option>",
                       label, name, hweb_t(rq, "请选择村", "choose a village"));
    char group[10] = "";
    for (int i = 0; i < d->n; i++) {
        const division *x = &d->v[i];
        if (strcmp(x->level, "village") || strncmp(x->code, prefix, strlen(prefix)))
            continue;
        if (strncmp(group, x->code, 9)) {
            gs_html_printf(b, "%s", *group ? "</optgroup>" : "");
            snprintf(group, sizeof group, "%.9s", x->code);
            const char *tn = division_name(d, group);
            gs_html_printf(b, "<optgroup label=\"%s\">", tn ? tn : group);
        }
        option(b, x->code, x->name, cur);
    }
    gs_buf_puts(b, *group ? "</optgroup></select></label>\n" : "</select></label>\n");
}

/* The categories of the hub, for a select and the list: code -> its name,
 * under its parent's ("安全隐患 › 火灾隐患"), in code order (parents first). */
static int category_one(const gs_record *r, void *arg_)
{
    gs_form_choices *c = arg_;
    const char *name = gs_record_str(r, GS_CATEGORY_NAME_ZH);
    const char *parent = gs_record_str(r, GS_CATEGORY_PARENT_CODE);
    gs_buf label = GS_BUF_INIT;
    for (int i = 0; parent && i < gs_form_choices_count(c); i++)
        if (!strcmp(gs_form_choice_value(c, i), parent)) {
            gs_buf_printf(&label, "%s › ", gs_form_choice_label(c, i));
            break;
        }
    gs_buf_puts(&label, name ? name : gs_record_key(r));
    gs_form_choice_add(c, gs_record_key(r), label.data ? label.data : "");
    gs_buf_free(&label);
    return GS_OK;
}

static void categories(hweb *w, gs_form_choices *out)
{
    gs_find_filter all = {0};
    hub_store_list(w->store, gs_rectype_get(GS_RT_CATEGORY), &all, category_one, out, NULL);
}

/* The label of value among c, or NULL. */
static const char *choice_label(const gs_form_choices *c, const char *value)
{
    for (int i = 0; c && value && i < gs_form_choices_count(c); i++)
        if (!strcmp(gs_form_choice_value(c, i), value))
            return gs_form_choice_label(c, i);
    return NULL;
}

/* The form's reference pickers: the hub's categories; the rest typed. */
static void form_refs(void *app, const gs_rectype *rt, int f, gs_form_choices *out)
{
    if (!strcmp(rt->fields[f].ref ? rt->fields[f].ref : "", "category"))
        categories(app, out);
}

static void filter_form(gs_http_req *rq, const hweb_scope *sc, const divisions *d,
                        const gs_form_choices *c, gs_buf *b)
{
    const gs_field *st = &incident_type()->fields[GS_INCIDENT_STATUS];
    gs_buf_puts(b, "<form method=\"get\" action=\"/incidents\" class=\"filters\">\n");
    select_open(rq, b, "status", hweb_t(rq, "状态", "Status"));
    for (int i = 0; st->enums[i]; i++)
        option(b, st->enums[i], gs_http_en(rq) ? st->enums[i] : st->enums_zh[i], arg(rq, "status"));
    gs_buf_puts(b, "</select></label>\n");
    if (c) {
        select_open(rq, b, "category", hweb_t(rq, "类别", "Category"));
        for (int i = 0; i < gs_form_choices_count(c); i++)
            option(b, gs_form_choice_value(c, i), gs_form_choice_label(c, i), arg(rq, "category"));
        gs_buf_puts(b, "</select></label>\n");
    }
    if (sc->role == HWEB_CITY) {
        select_open(rq, b, "county", hweb_t(rq, "县区", "County"));
        for (int i = 0; i < d->n; i++)
            if (!strcmp(d->v[i].level, "county"))
                option(b, d->v[i].code, d->v[i].name, arg(rq, "county"));
        gs_buf_puts(b, "</select></label>\n");
    }
    if (sc->role != HWEB_TOWNSHIP) {
        const char *county = arg(rq, "county");
        select_open(rq, b, "township", hweb_t(rq, "乡镇街道", "Township"));
        for (int i = 0; i < d->n; i++)
            if (!strcmp(d->v[i].level, "township") &&
                (!county || !strncmp(d->v[i].code, county, strlen(county))))
                option(b, d->v[i].code, d->v[i].name, arg(rq, "township"));
        gs_buf_puts(b, "</select></label>\n");
    }
    const char *narrow = arg(rq, "township") && strlen(arg(rq, "township")) == 9
                             ? arg(rq, "township")
                         : arg(rq, "county") && strlen(arg(rq, "county")) == 6 ? arg(rq, "county")
                                                                               : sc->prefix;
    if (strncmp(narrow, sc->prefix, strlen(sc->prefix)) ||
        strspn(narrow, "0123456789") != strlen(narrow))
        narrow = sc->prefix;
    village_picker(rq, b, d, narrow, "village", hweb_t(rq, "村（社区）", "Village"),
                   arg(rq, "village"), true);
    text_input(rq, b, "text", "assignee", hweb_t(rq, "处置人", "Assignee"));
    const char *od = arg(rq, "overdue");
    gs_html_printf(b,
                   "<label><input type=\"checkbox\" name=\"overdue\" value=\"1\"%s> %s</label>\n",
                   od && strcmp(od, "0") ? " checked" : "", hweb_t(rq, "只看超期", "overdue only"));
    text_input(rq, b, "search", "q",
               hweb_t(rq, "搜索标题和描述", "Search titles and descriptions"));
    gs_html_printf(b,
                   "<button type=\"submit\">%s</button> <a href=\"/incidents\">%s</a>\n</form>\n",
                   hweb_t(rq, "筛选", "Filter"), hweb_t(rq, "清除", "Clear"));
}

/* The queue's filters, kept by the pager's links. */
static const char *const list_args[] = {"status",   "category", "county",  "township", "village",
                                        "assignee", "overdue",  "q",       NULL};

/* The scope of the request; false when it answered (the user is gone: the
 * session ends, to the login page). */
static bool scope(gs_http_req *rq, gs_http_resp *rs, hweb *w, hweb_scope *sc)
{
    (void)w;
    return hweb_page_scope(rq, rs, sc, false) == GS_OK;
}

/* Reads the queue's filters. Any of county, township, village outside the
 * scope: false (the caller answers 403). */
static bool queue_filter(gs_http_req *rq, const hweb_scope *sc, gs_find_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status = arg(rq, "status");
    f->category = arg(rq, "category");
    f->county = arg(rq, "county");
    f->township = arg(rq, "township");
    f->village = arg(rq, "village");
    f->assignee = arg(rq, "assignee");
    f->text = arg(rq, "q") ? arg(rq, "q") : arg(rq, "text");
    const char *o = arg(rq, "overdue");
    f->overdue = o && strcmp(o, "0") && strcmp(o, "false");
    f->within = sc->prefix;
    const char *areas[] = {f->county, f->township, f->village};
    for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++)
        if (areas[i] && !hweb_scope_has(sc, areas[i]))
            return false;
    return true;
}

static int list_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (!scope(rq, rs, w, &sc))
        return GS_OK;
    gs_find_filter f;
    if (!queue_filter(rq, &sc, &f))
        return hweb_forbidden(rq, rs);
    const char *pg = arg(rq, "page");
    int64_t page = pg ? strtoll(pg, NULL, 10) : 1, total = 0;
    if (page < 1 || page > 1000000)
        page = 1;
    f.order = GS_FIND_DEADLINE;
    f.limit = PAGE_SIZE;
    f.offset = (page - 1) * PAGE_SIZE;
    f.total = &total;
    divisions d;
    divisions_of(w, &sc, &d);
    gs_buf rows = GS_BUF_INIT;
    gs_errbuf eb = {{0}};
    gs_form_choices *cats = gs_form_choices_new();
    if (cats)
        categories(w, cats);
    list_ctx c = {rq, w, &d, cats, &rows, 0};
    int rc = hweb_queue_list(w, &f, list_row, &c, &eb);
    if (rc)
        gs_http_set_status(rs, rc == GS_EINVAL ? 400 : 500);

    hweb_begin(rq, rs, HWEB_QUEUE, hweb_t(rq, "事件工单", "Incident queue"));
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(b, "<p><a class=\"button\" href=\"/incidents/new\">%s</a></p>\n",
                   hweb_t(rq, "上级交办：给村里交办事件", "Hand an incident to a village"));
    filter_form(rq, &sc, &d, cats, b);
    if (rc) {
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n",
                       rc == GS_EINVAL ? eb.msg : hweb_t(rq, "读取失败", "Reading failed"));
    } else {
        static const gs_web_col cols[] = {
            {"村（社区）", "Village"}, {"标题", "Title"},        {"状态", "Status"},
            {"类别", "Category"},     {"来源", "Source"},        {"处置人", "Assignee"},
            {"处置期限", "Deadline"}, {"剩余时间", "Time left"}, {NULL, NULL}};
        static const gs_web_list list = {cols, "没有符合条件的事件", "No incident matches",
                                         "/incidents", list_args, PAGE_SIZE};
        gs_web_list_body(rq, b, &list, &rows, c.rows, total, page);
    }
    hweb_end(rq, rs);
    gs_buf_free(&rows);
    gs_form_choices_destroy(&cats);
    free(d.v);
    return GS_OK;
}

/* ---- the record page ---------------------------------------------------------------- */

/* The button's words for a step: the workflow's names for the city. */
static const char *step_label(gs_http_req *rq, const char *from, const char *to)
{
    if (!strcmp(to, "accepted"))
        return hweb_t(rq, "受理", "Accept");
    if (!strcmp(to, "registered"))
        return hweb_t(rq, "立案", "Register");
    if (!strcmp(to, "dispatched") && !strcmp(from, "dispatched"))
        return hweb_t(rq, "退单/改派", "Return / reassign");
    if (!strcmp(to, "dispatched") && strcmp(from, "registered"))
        return hweb_t(rq, "退回返工", "Return for rework");
    if (!strcmp(to, "dispatched"))
        return hweb_t(rq, "派遣", "Dispatch");
    if (!strcmp(to, "closed"))
        return hweb_t(rq, "结案", "Close");
    if (!strcmp(to, "rejected"))
        return hweb_t(rq, "不予受理", "Reject");
    return gs_web_status_label(rq, to);
}

/* The decisions the core's table allows the city from the current state:
 * a form each, with its note (and the assignee for a dispatch). */
static void decisions(gs_http_req *rq, const gs_record *r, gs_buf *b)
{
    const char *cur = gs_record_str(r, GS_INCIDENT_STATUS);
    gs_web_workflow_begin(rq, r, "Decisions", b);
    int n = 0;
    for (int s = 0; cur && s < GS_ST__COUNT; s++) {
        const char *to = gs_status_names[s];
        bool again = !strcmp(cur, to); /* 退单: dispatched → dispatched */
        if (!gs_incident_can(cur, to, GS_ACTOR_CITY))
            continue;
        gs_web_step_begin(rq, r, to, b);
        if (!strcmp(to, "dispatched")) {
            const char *a = gs_record_str(r, GS_INCIDENT_ASSIGNEE);
            gs_html_printf(b,
                           "<label>%s <input type=\"text\" name=\"assignee\" maxlength=\"100\" "
                           "value=\"%s\" required></label> ",
                           hweb_t(rq, "处置人", "Assignee"), again ? "" : (a ? a : ""));
        }
        gs_html_printf(b,
                       "<label>%s <input type=\"text\" name=\"note\" maxlength=\"4000\"></label> "
                       "<button type=\"submit\">%s</button></form>\n",
                       hweb_t(rq, "处置说明（可选）", "Note (optional)"), step_label(rq, cur, to));
        n++;
    }
    gs_web_workflow_end(rq, n, b);
}

static void record_page(gs_http_req *rq, gs_http_resp *rs, hweb *w, const gs_record *r,
                        const char *err)
{
    const gs_rectype *rt = incident_type();
    hweb_begin(rq, rs, HWEB_QUEUE, gs_record_str(r, GS_INCIDENT_TITLE));
    gs_buf *b = gs_http_out(rs), v = GS_BUF_INIT;
    notice(rq, b);
    if (err)
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n", err);
    gs_web_deadline(rq, r, b);
    gs_form_choices *cats = gs_form_choices_new();
    if (cats)
        categories(w, cats);
    shown sh = {rq, cats};
    gs_buf_puts(b, "<dl class=\"record\">\n");
    for (int f = 0; f < rt->nfields; f++) {
        if (!gs_record_has(r, f))
            continue;
        gs_buf_reset(&v);
        if (f == rt->scope)
            name_of_code(w, gs_record_scope(r), &v);
        else
            value_of(&sh, r, f, &v);
        gs_html_printf(b, "<dt>%s</dt><dd>%s",
                       gs_http_en(rq) ? rt->fields[f].name : rt->fields[f].label_zh,
                       v.data ? v.data : "");
        if (f == rt->scope)
            gs_html_printf(b, " <span class=\"code\">%s</span>", gs_record_scope(r));
        gs_buf_puts(b, "</dd>\n");
    }
    gs_buf_puts(b, "</dl>\n");
    gs_html_printf(b, "<p><a href=\"/incidents\">%s</a></p>\n",
                   hweb_t(rq, "返回工单列表", "Back to the queue"));
    decisions(rq, r, b);
    gs_web_history_begin(rq, b);
    gs_web_history h = {rq, b, value_of, &sh};
    hub_store_history(w->store, rt, gs_record_key(r), gs_web_history_row, &h, NULL);
    gs_web_history_end(b);
    gs_form_choices_destroy(&cats);
    gs_buf_free(&v);
    hweb_end(rq, rs);
}

/* The incident of the path "ID" or "ID/ACTION" (its id exactly), inside the
 * scope. 0, or an answer was sent (404, or 403 outside the scope). */
static int find_incident(gs_http_req *rq, gs_http_resp *rs, hweb *w, const hweb_scope *sc,
                         gs_record **out, char action[16])
{
    char id[80];
    if (gs_web_split_tail(gs_http_tail(rq), id, sizeof id, action)) {
        gs_http_error(rq, rs, 404, NULL, "%s", hweb_t(rq, "没有这个页面", "No such page"));
        return 1;
    }
    gs_record *r = NULL;
    if (hub_store_find(w->store, incident_type(), id, &r, NULL) != GS_OK ||
        strcmp(gs_record_key(r), id)) {
        gs_record_destroy(&r);
        gs_http_error(rq, rs, 404, NULL, "%s", hweb_t(rq, "找不到这件事件", "No such incident"));
        return 1;
    }
    if (!hweb_scope_has(sc, gs_record_scope(r))) {
        gs_record_destroy(&r);
        hweb_forbidden(rq, rs);
        return 1;
    }
    *out = r;
    return 0;
}

static int record_get(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    gs_record *r = NULL;
    char action[16];
    if (!scope(rq, rs, w, &sc) || find_incident(rq, rs, w, &sc, &r, action))
        return GS_OK;
    if (*action)
        gs_http_error(rq, rs, 404, NULL, "%s", hweb_t(rq, "没有这个页面", "No such page"));
    else
        record_page(rq, rs, w, r, NULL);
    gs_record_destroy(&r);
    return GS_OK;
}

/* POST /incident/ID/status: one decision, through hub_city_decide. */
static void decide(gs_http_req *rq, gs_http_resp *rs, hweb *w, const gs_record *cur)
{
    const char *to = gs_http_form(rq, "status"), *note = gs_http_form(rq, "note");
    const char *assignee = gs_http_form(rq, "assignee");
    const char *from = gs_record_str(cur, GS_INCIDENT_STATUS);
    gs_record *edit = gs_record_new(incident_type());
    gs_errbuf eb = {{0}};
    int rc = edit ? GS_OK : gs_errf(&eb, GS_ENOMEM, "out of memory");
    if (!rc && (!to || !*to))
        rc =
            gs_errf(&eb, GS_EINVAL, "%s", hweb_t(rq, "请选择下一步状态", "choose the next status"));
    if (!rc)
        rc = gs_record_parse(edit, GS_INCIDENT_STATUS, to, &eb);
    /* the same state again only where the table has it (退单) */
    if (!rc && from && !strcmp(from, to) && !gs_incident_can(from, to, GS_ACTOR_CITY))
        rc = gs_errf(
            &eb, GS_ETRANSITION, "%s",
            hweb_t(rq, "状态没有变化 (the status is unchanged)", "the status is unchanged"));
    if (!rc && !strcmp(to, "dispatched") && (!assignee || !*assignee))
        rc = gs_errf(&eb, GS_EINVAL, "%s",
                     hweb_t(rq, "派遣要填写处置人 (assignee)", "a dispatch needs an assignee"));
    if (!rc && assignee && *assignee)
        rc = gs_record_parse(edit, GS_INCIDENT_ASSIGNEE, assignee, &eb);
    if (!rc && note && *note)
        rc = gs_record_parse(edit, GS_INCIDENT_NOTE, note, &eb);
    if (!rc)
        rc = hub_city_decide(w->store, cur, edit, &eb);
    if (rc) {
        gs_http_set_status(rs, gs_web_status_of(rc));
        record_page(rq, rs, w, cur, eb.msg);
    } else {
        gs_buf what = GS_BUF_INIT;
        gs_buf_printf(&what, "incident %s status %s → %s", gs_record_key(cur), from ? from : "",
                      to);
        if (assignee && *assignee)
            gs_buf_printf(&what, " assignee=%s", assignee);
        if (note && *note)
            gs_buf_printf(&what, " note=%.200s", note);
        hweb_audit(w, rq, "incident.status", what.data ? what.data : "");
        gs_buf_free(&what);
        char path[160];
        snprintf(path, sizeof path, "/incident/%s?ok=status", gs_record_key(cur));
        gs_http_redirect(rs, path);
    }
    gs_record_destroy(&edit);
}

static int record_post(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    gs_record *r = NULL;
    char action[16];
    if (!scope(rq, rs, w, &sc) || find_incident(rq, rs, w, &sc, &r, action))
        return GS_OK;
    if (!strcmp(action, "status"))
        decide(rq, rs, w, r);
    else
        gs_http_error(rq, rs, 404, NULL, "%s", hweb_t(rq, "没有这个页面", "No such page"));
    gs_record_destroy(&r);
    return GS_OK;
}

/* ---- 上级交办 ------------------------------------------------------------------------ */

/* The form of a handed-down incident: the core's form of an incident
 * without what is fixed (source 上级交办, the status by the page's own
 * choice, the village by the page's picker) or the village's own (grid,
 * note); reported_at is now and the reporter the user, unless changed. */
static gs_form *handed_form(gs_http_req *rq, hweb *w, const hweb_scope *sc)
{
    const gs_rectype *rt = incident_type();
    gs_form *fm = gs_form_new(rt, GS_FORM_CREATE);
    if (!fm)
        return NULL;
    gs_form_set_en(fm, gs_http_en(rq));
    gs_form_set_refs(fm, form_refs, w);
    static const int omit[] = {GS_INCIDENT_STATUS, GS_INCIDENT_SOURCE, GS_INCIDENT_GRID_CODE,
                               GS_INCIDENT_NOTE, GS_INCIDENT_ASSIGNEE};
    for (size_t i = 0; i < sizeof omit / sizeof omit[0]; i++)
        gs_form_omit(fm, omit[i]);
    gs_buf now = GS_BUF_INIT;
    gs_datetime_from_ms((int64_t)gs_wall_ms(), &now);
    if (now.data)
        gs_form_preset(fm, GS_INCIDENT_REPORTED_AT, now.data);
    gs_buf_free(&now);
    gs_form_preset(fm, GS_INCIDENT_REPORTER, sc->display[0] ? sc->display : sc->user);
    return fm;
}

static void handed_page(gs_http_req *rq, gs_http_resp *rs, hweb *w, const hweb_scope *sc,
                        const gs_form *fm, const char *village_err)
{
    divisions d;
    divisions_of(w, sc, &d);
    hweb_begin(rq, rs, HWEB_QUEUE, hweb_t(rq, "上级交办", "Hand an incident to a village"));
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(
        b, "<p>%s</p>\n",
        hweb_t(rq, "交办给本辖区的一个村（社区）：村里的电脑下次同步时收到，按工作流程办理。",
               "For a village of your area: its PCs receive it at their next sync."));
    if (gs_form_nerrors(fm) || village_err)
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n",
                       hweb_t(rq, "有错误，未保存：请看各项旁边的说明。",
                              "Not saved: see the messages beside the fields."));
    gs_buf_puts(b, "<form method=\"post\" action=\"/incidents/new\" class=\"record\">\n");
    hweb_csrf_field(rq, b);
    gs_buf_puts(b, "<div class=\"field\">");
    village_picker(rq, b, &d, sc->prefix, "_village", hweb_t(rq, "村（社区） *", "Village *"),
                   gs_http_form(rq, "_village"), false);
    if (village_err)
        gs_html_printf(b, "<p class=\"err\">%s</p>", village_err);
    gs_buf_puts(b, "</div>\n");
    const char *st = gs_http_form(rq, "_status");
    gs_html_printf(b,
                   "<div class=\"field\"><label>%s <select name=\"_status\">"
                   "<option value=\"accepted\"%s>%s</option>"
                   "<option value=\"reported\"%s>%s</option></select></label></div>\n",
                   hweb_t(rq, "状态", "Status"), st && !strcmp(st, "reported") ? "" : " selected",
                   gs_web_status_label(rq, "accepted"), st && !strcmp(st, "reported") ? " selected" : "",
                   gs_web_status_label(rq, "reported"));
    gs_form_render(fm, NULL, b);
    gs_html_printf(
        b, "<p><button type=\"submit\">%s</button> <a href=\"/incidents\">%s</a></p>\n</form>\n",
        hweb_t(rq, "交办", "Hand down"), hweb_t(rq, "取消", "Cancel"));
    hweb_end(rq, rs);
    free(d.v);
}

static int new_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (!scope(rq, rs, w, &sc))
        return GS_OK;
    gs_form *fm = handed_form(rq, w, &sc);
    if (!fm)
        return GS_ENOMEM;
    handed_page(rq, rs, w, &sc, fm, NULL);
    gs_form_destroy(&fm);
    return GS_OK;
}

static int take_one(const char *k, const char *v, void *fm)
{
    if (k[0] != '_') /* _csrf and the page's own fields */
        gs_form_take(fm, k, v);
    return 0;
}

static int create(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (!scope(rq, rs, w, &sc))
        return GS_OK;
    const char *village = gs_http_form(rq, "_village");
    const char *st = gs_http_form(rq, "_status");
    if (village && *village && !hweb_scope_has(&sc, village))
        return hweb_forbidden(rq, rs);
    gs_form *fm = handed_form(rq, w, &sc);
    gs_record *rec = gs_record_new(incident_type());
    if (!fm || !rec) {
        gs_form_destroy(&fm);
        gs_record_destroy(&rec);
        return GS_ENOMEM;
    }
    gs_http_form_each(rq, take_one, fm);
    const char *village_err = NULL;
    gs_errbuf eb = {{0}};
    int nerr = gs_form_parse(fm, rec);
    if (!village || !*village)
        village_err = hweb_t(rq, "请选择村（社区）", "choose a village");
    else if (gs_record_parse(rec, incident_type()->scope, village, &eb))
        village_err = eb.msg;
    int rc = nerr || village_err ? GS_EINVAL : GS_OK;
    if (!rc)
        rc = gs_record_parse(rec, GS_INCIDENT_SOURCE, "higher", &eb);
    if (!rc)
        rc = gs_record_parse(rec, GS_INCIDENT_STATUS,
                             st && !strcmp(st, "reported") ? "reported" : "accepted", &eb);
    if (!rc && (rc = hub_city_create(w->store, rec, &eb))) {
        if (rc == GS_ESCOPE)
            village_err = eb.msg;
        else
            gs_form_error_msg(fm, eb.msg);
    }
    if (rc) {
        gs_http_set_status(rs, gs_web_status_of(rc) == 403 ? 400 : gs_web_status_of(rc));
        handed_page(rq, rs, w, &sc, fm, village_err);
    } else {
        gs_buf what = GS_BUF_INIT;
        gs_buf_printf(&what, "incident %s created for village %s (上级交办): %.200s",
                      gs_record_key(rec), gs_record_scope(rec), gs_record_str(rec, GS_INCIDENT_TITLE));
        hweb_audit(w, rq, "incident.create", what.data ? what.data : "");
        gs_buf_free(&what);
        char path[160];
        snprintf(path, sizeof path, "/incident/%s?ok=created", gs_record_key(rec));
        gs_http_redirect(rs, path);
    }
    gs_form_destroy(&fm);
    gs_record_destroy(&rec);
    return GS_OK;
}

const gs_http_route hweb_queue_routes[] = {
    {"GET", "/incidents", list_page, 0},
    {"GET", "/incidents/new", new_page, 0},
    {"POST", "/incidents/new", create, 0},
    {"GET", "/incident/", record_get, GS_ROUTE_PREFIX},
    {"POST", "/incident/", record_post, GS_ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
