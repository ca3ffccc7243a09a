/*
 * incidents.c: 网格事件, the village's incidents in the browser.
 *
 *   GET  /incidents              the list: filters (a GET form, so it works
 *                                without JavaScript), text search, 50 a page,
 *                                overdue first, then newest
 *   GET  /incidents/new          the form of a new incident
 *   POST /incidents/new          creates it
 *   GET  /incident/ID            the record page: every field, the deadline
 *                                and time left, the workflow as buttons, the
 *                                whole history
 *   GET  /incident/ID/edit       the edit form
 *   POST /incident/ID/edit       saves it
 *   POST /incident/ID/status     one step of the workflow, with a note
 *
 * A thin door: finding is gs_find_* through node_store_list, forms are the
 * core's (forms.c), saving is node_entry_save, the workflow's next states
 * come from the core's table (gs_incident_transition), the history lines
 * from gs_find_change_text. Nobody types an id: every link and picker
 * carries them. A refused entry re-shows the form with what was typed and
 * the message beside its field; nothing is stored.
 */
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "gridsync/find.h"
#include "gridsync/form.h"
#include "gridsync/rules.h"
#include "gridsync/web_page.h"
#include "web.h"

#define PAGE_SIZE 50

static const gs_rectype *incident_type(void)
{
    return gs_rectype_get(GS_RT_INCIDENT);
}

/* ---- pieces ------------------------------------------------------------------- */

/* The display text of field f of r: references by their name, the rest
 * as gs_web_display shows them (enums in Chinese, times to the minute). */
static void display(gs_http_req *rq, nweb *w, const gs_record *r, int f, gs_buf *b)
{
    const gs_field *fd = &r->rt->fields[f];
    if (!gs_record_has(r, f))
        return;
    if (fd->ref && gs_record_str(r, f) && f != r->rt->scope) {
        nweb_ref_name(w, fd, gs_record_str(r, f), b);
        return;
    }
    gs_web_display(rq, r, f, b);
}

/* display() for the history's values. */
typedef struct shown {
    gs_http_req *rq;
    nweb *w;
} shown;

static void history_value(void *arg, const gs_record *r, int f, gs_buf *b)
{
    shown *s = arg;
    display(s->rq, s->w, r, f, b);
}

/* A notice after a redirect (?ok=...). */
static void notice(gs_http_req *rq, gs_buf *b)
{
    const char *ok = gs_http_query(rq, "ok");
    const char *zh = NULL, *en = NULL;
    if (!ok)
        return;
    if (!strcmp(ok, "created"))
        zh = "已登记，已保存", en = "Saved: the incident is recorded";
    else if (!strcmp(ok, "updated"))
        zh = "修改已保存", en = "Your changes are saved";
    else if (!strcmp(ok, "status"))
        zh = "状态已更新，已保存", en = "The status is changed and saved";
    else if (!strcmp(ok, "same"))
        zh = "没有修改", en = "Nothing was changed";
    if (zh)
        gs_html_printf(b, "<p class=\"notice\" role=\"status\">%s</p>\n", nweb_t(rq, zh, en));
}

/* ---- the list ------------------------------------------------------------------- */

typedef struct list_ctx {
    gs_http_req *rq;
    nweb *w;
    gs_buf *b;
    int rows;
} list_ctx;

static int list_row(const gs_record *r, void *arg)
{
    list_ctx *c = arg;
    gs_buf *b = c->b, v = GS_BUF_INIT, left = GS_BUF_INIT;
    int64_t days = gs_web_time_left(c->rq, r, &left);
    gs_buf_puts(b, days < 0 ? "<tr class=\"overdue\">" : "<tr>");
    gs_html_printf(b, "<td><a href=\"/incident/%s\">", gs_record_key(r));
    gs_html_escape(b, gs_record_str(r, GS_INCIDENT_TITLE));
    gs_buf_puts(b, "</a></td>");
    static const int cols[] = {GS_INCIDENT_STATUS,   GS_INCIDENT_CATEGORY,    GS_INCIDENT_GRID_CODE,
                               GS_INCIDENT_REPORTER, GS_INCIDENT_REPORTED_AT, GS_INCIDENT_DEADLINE};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        gs_buf_reset(&v);
        int f = cols[i];
        bool when = f == GS_INCIDENT_REPORTED_AT;
        if (when && gs_record_str(r, f))
            gs_buf_append(&v, gs_record_str(r, f), 16); /* to the minute */
        else
            display(c->rq, c->w, r, f, &v);
        if (v.data && when)
            v.data[10] = ' ';
        gs_html_printf(b, "<td>%s</td>", v.data ? v.data : "");
    }
    gs_html_printf(b, "<td>%s</td></tr>\n", left.data ? left.data : "");
    gs_buf_free(&v);
    gs_buf_free(&left);
    c->rows++;
    return GS_OK;
}

/* A select of the filter form: "全部" first, the current value chosen. */
static void filter_select(gs_http_req *rq, gs_buf *b, const char *name, const char *label,
                          const gs_form_choices *opts)
{
    const char *cur = gs_http_query(rq, name);
    gs_html_printf(b, "<label>%s <select name=\"%s\"><option value=\"\">%s</option>", label, name,
                   nweb_t(rq, "全部", "all"));
    for (int i = 0; i < gs_form_choices_count(opts); i++) {
        const char *v = gs_form_choice_value(opts, i);
        gs_html_printf(b, "<option value=\"%s\"%s>%s</option>", v,
                       cur && !strcmp(cur, v) ? " selected" : "", gs_form_choice_label(opts, i));
    }
    gs_buf_puts(b, "</select></label>\n");
}

/* A text or date input of the filter form, holding the current value. */
static void filter_input(gs_http_req *rq, gs_buf *b, const char *type, const char *name,
                         const char *label)
{
    const char *cur = gs_http_query(rq, name);
    gs_html_printf(b, "<label>%s <input type=\"%s\" name=\"%s\" value=\"%s\"></label>\n", label,
                   type, name, cur ? cur : "");
}

/* The filter form: a GET form, so the list works without JavaScript. */
static void filter_form(gs_http_req *rq, nweb *w, gs_buf *b)
{
    const gs_rectype *rt = incident_type();
    const gs_field *st = &rt->fields[GS_INCIDENT_STATUS];
    gs_form_choices *c = gs_form_choices_new();
    if (!c)
        return;
    gs_buf_puts(b, "<form method=\"get\" action=\"/incidents\" class=\"filters\">\n");
    for (int i = 0; st->enums[i]; i++)
        gs_form_choice_add(c, st->enums[i], gs_http_en(rq) ? st->enums[i] : st->enums_zh[i]);
    filter_select(rq, b, "status", nweb_t(rq, "状态", "Status"), c);
    gs_form_choices_destroy(&c);
    c = gs_form_choices_new();
    if (c)
        nweb_form_refs(w, rt, GS_INCIDENT_CATEGORY, c);
    if (c)
        filter_select(rq, b, "category", nweb_t(rq, "类别", "Category"), c);
    gs_form_choices_destroy(&c);
    c = gs_form_choices_new();
    if (c)
        nweb_form_refs(w, rt, GS_INCIDENT_GRID_CODE, c);
    if (c)
        filter_select(rq, b, "grid", nweb_t(rq, "网格", "Grid"), c);
    gs_form_choices_destroy(&c);
    filter_input(rq, b, "text", "reporter", nweb_t(rq, "上报人", "Reporter"));
    filter_input(rq, b, "date", "since", nweb_t(rq, "上报日期从", "Reported from"));
    filter_input(rq, b, "date", "until", nweb_t(rq, "至", "to"));
    const char *od = gs_http_query(rq, "overdue");
    gs_html_printf(b, "<label><input type=\"checkbox\" name=\"overdue\" value=\"1\"%s> %s</label>\n",
                   od && *od && strcmp(od, "0") ? " checked" : "", nweb_t(rq, "只看超期", "overdue only"));
    filter_input(rq, b, "search", "text", nweb_t(rq, "搜索标题和描述", "Search titles and descriptions"));
    gs_html_printf(b, "<button type=\"submit\">%s</button> <a href=\"/incidents\">%s</a>\n</form>\n",
                   nweb_t(rq, "筛选", "Filter"), nweb_t(rq, "清除", "Clear"));
}

/* The list's filters, kept by the pager's links. */
static const char *const list_args[] = {"status", "category", "grid",    "reporter",
                                        "since",  "until",    "overdue", "text", NULL};

static int list_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    const gs_rectype *rt = incident_type();
    gs_find_filter f;
    char since[11], until[11];
    gs_errbuf eb = {{0}};
    int rc = nweb_filter(rq, rt, &f, since, until, &eb);
    const char *pg = gs_http_query(rq, "page");
    int64_t page = pg ? strtoll(pg, NULL, 10) : 1, total = 0;
    if (page < 1 || page > 1000000)
        page = 1;
    f.order = GS_FIND_URGENT;
    f.limit = PAGE_SIZE;
    f.offset = (page - 1) * PAGE_SIZE;
    f.total = &total;

    gs_buf rows = GS_BUF_INIT;
    list_ctx c = {rq, w, &rows, 0};
    if (!rc)
        rc = node_store_list(w->store, rt, &f, list_row, &c, &eb);
    if (rc)
        gs_http_set_status(rs, nweb_status_of(rc));

    nweb_begin(rq, rs, NWEB_INCIDENTS, nweb_t(rq, "网格事件", "Incidents"));
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(b, "<p><a class=\"button\" href=\"/incidents/new\">%s</a> "
                      "<a href=\"/grids\">%s</a></p>\n",
                   nweb_t(rq, "登记新事件", "New incident"), nweb_t(rq, "网格管理", "Grids"));
    filter_form(rq, w, b);
    if (rc) {
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n", eb.msg);
        nweb_end(rq, rs);
        gs_buf_free(&rows);
        return GS_OK;
    }
    static const gs_web_col cols[] = {
        {"标题", "Title"},        {"状态", "Status"},        {"类别", "Category"},
        {"网格", "Grid"},         {"上报人", "Reporter"},    {"上报时间", "Reported"},
        {"处置期限", "Deadline"}, {"剩余时间", "Time left"}, {NULL, NULL}};
    static const gs_web_list list = {cols, "没有符合条件的事件", "No incident matches",
                                     "/incidents", list_args, PAGE_SIZE};
    gs_web_list_body(rq, b, &list, &rows, c.rows, total, page);
    nweb_end(rq, rs);
    gs_buf_free(&rows);
    return GS_OK;
}

/* ---- forms ------------------------------------------------------------------------ */

static void form_page_to(gs_http_req *rq, gs_http_resp *rs, const gs_form *fm,
                         const gs_record *cur, const char *action, const char *title,
                         const char *back);

/* Writes the page of a form: the title, the form's fields, its buttons. */
static void form_page(gs_http_req *rq, gs_http_resp *rs, const gs_form *fm, const gs_record *cur,
                      const char *action, const char *title)
{
    char back[160];
    snprintf(back, sizeof back, cur ? "/incident/%s" : "/incidents", cur ? gs_record_key(cur) : "");
    form_page_to(rq, rs, fm, cur, action, title, back);
}

/* form_page with the Cancel link's target. */
static void form_page_to(gs_http_req *rq, gs_http_resp *rs, const gs_form *fm,
                         const gs_record *cur, const char *action, const char *title,
                         const char *back)
{
    nweb_begin(rq, rs, NWEB_INCIDENTS, title);
    gs_buf *b = gs_http_out(rs);
    if (gs_form_nerrors(fm))
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n",
                       nweb_t(rq, "有错误，未保存：请看各项旁边的说明。",
                              "Not saved: see the messages beside the fields."));
    gs_html_printf(b, "<form method=\"post\" action=\"%s\" class=\"record\">\n", action);
    nweb_csrf_field(rq, b);
    gs_form_render(fm, cur, b);
    gs_html_printf(b, "<p><button type=\"submit\">%s</button> <a href=\"%s\">%s</a></p>\n</form>\n",
                   nweb_t(rq, "保存", "Save"), back, nweb_t(rq, "取消", "Cancel"));
    nweb_end(rq, rs);
}

/* The form of a new incident (reported_at "now", nweb_form); the status
 * starts at 上报 and moves by the workflow's buttons. */
static gs_form *new_form(gs_http_req *rq, nweb *w)
{
    gs_form *fm = nweb_form(rq, w, incident_type(), GS_FORM_CREATE);
    if (fm)
        gs_form_omit(fm, GS_INCIDENT_STATUS);
    return fm;
}

static int new_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    gs_form *fm = new_form(rq, app);
    if (!fm)
        return GS_ENOMEM;
    form_page(rq, rs, fm, NULL, "/incidents/new", nweb_t(rq, "登记新事件", "New incident"));
    gs_form_destroy(&fm);
    return GS_OK;
}

/* A redirect to the record page with a notice. */
static int to_record(gs_http_resp *rs, const char *id, const char *ok)
{
    char path[160];
    snprintf(path, sizeof path, "/incident/%s?ok=%s", id, ok);
    return gs_http_redirect(rs, path);
}

static int create(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    gs_form *fm = new_form(rq, w);
    gs_record *rec = gs_record_new(incident_type());
    if (!fm || !rec) {
        gs_form_destroy(&fm);
        gs_record_destroy(&rec);
        return GS_ENOMEM;
    }
    nweb_form_take(rq, fm);
    int rc = nweb_form_save(w, fm, rec, true, NULL, NULL);
    if (rc) {
        gs_http_set_status(rs, nweb_status_of(rc));
        form_page(rq, rs, fm, NULL, "/incidents/new", nweb_t(rq, "登记新事件", "New incident"));
    } else {
        to_record(rs, gs_record_key(rec), "created");
    }
    gs_form_destroy(&fm);
    gs_record_destroy(&rec);
    return GS_OK;
}

/* ---- the record page ------------------------------------------------------------- */

/* The workflow: a small form per state the core allows next from this one,
 * for a village's PC, each with an optional note. */
static void workflow(gs_http_req *rq, const gs_record *r, gs_buf *b)
{
    const char *cur = gs_record_str(r, GS_INCIDENT_STATUS);
    gs_web_workflow_begin(rq, r, "Workflow", b);
    int n = 0;
    for (int s = 0; s < GS_ST__COUNT; s++) {
        const char *to = gs_status_names[s];
        if (!cur || !strcmp(cur, to) ||
            gs_incident_transition(cur, to, GS_ACTOR_VILLAGE, NULL) != GS_OK)
            continue;
        gs_web_step_begin(rq, r, to, b);
        gs_html_printf(b,
                       "<input type=\"text\" name=\"note\" maxlength=\"4000\" placeholder=\"%s\" "
                       "aria-label=\"%s\"> <button type=\"submit\">%s</button></form>\n",
                       nweb_t(rq, "说明（可选）", "note (optional)"),
                       nweb_t(rq, "说明", "note"), gs_web_status_label(rq, to));
        n++;
    }
    gs_web_workflow_end(rq, n, b);
}

/* The record page, with an error of a refused step at the top when err. */
static void record_page(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_record *r,
                        const char *err)
{
    const gs_rectype *rt = incident_type();
    nweb_begin(rq, rs, NWEB_INCIDENTS, gs_record_str(r, GS_INCIDENT_TITLE));
    gs_buf *b = gs_http_out(rs), v = GS_BUF_INIT;
    notice(rq, b);
    if (err)
        gs_html_printf(b, "<p class=\"err\" role=\"alert\">%s</p>\n", err);
    gs_web_deadline(rq, r, b);
    gs_buf_puts(b, "<dl class=\"record\">\n");
    for (int f = 0; f < rt->nfields; f++) {
        if (!gs_record_has(r, f))
            continue;
        gs_buf_reset(&v);
        display(rq, w, r, f, &v);
        gs_buf_puts(b, "<dt>");
        gs_html_escape(b, gs_http_en(rq) ? rt->fields[f].name : rt->fields[f].label_zh);
        gs_buf_puts(b, "</dt><dd>");
        gs_html_escape(b, v.data ? v.data : "");
        if (rt->fields[f].ref && f != rt->scope && f != rt->key && v.data &&
            strcmp(v.data, gs_record_str(r, f)))
            gs_html_printf(b, " <span class=\"code\">%s</span>", gs_record_str(r, f));
        gs_buf_puts(b, "</dd>\n");
    }
    gs_buf_puts(b, "</dl>\n");
    gs_html_printf(b, "<p><a class=\"button\" href=\"/incident/%s/edit\">%s</a> <a href=\"/incidents\">%s</a></p>\n",
                   gs_record_key(r), nweb_t(rq, "修改", "Edit"), nweb_t(rq, "返回列表", "Back to the list"));
    workflow(rq, r, b);
    gs_web_history_begin(rq, b);
    shown sh = {rq, w};
    gs_web_history h = {rq, b, history_value, &sh};
    node_store_history(w->store, rt, gs_record_key(r), gs_web_history_row, &h, NULL);
    gs_web_history_end(b);
    gs_buf_free(&v);
    nweb_end(rq, rs);
}

/* Splits the tail "ID" or "ID/ACTION": the incident (its id exactly, from a
 * link) and the action ("" for the record page). 0, or an answer was sent. */
static int find_incident(gs_http_req *rq, gs_http_resp *rs, nweb *w, gs_record **out,
                         char action[16])
{
    char id[80];
    if (gs_web_split_tail(gs_http_tail(rq), id, sizeof id, action)) {
        gs_http_error(rq, rs, 404, NULL, "%s", nweb_t(rq, "没有这个页面", "No such page"));
        return 1;
    }
    gs_errbuf eb = {{0}};
    int rc = node_store_get(w->store, incident_type(), id, out, &eb);
    if (rc) {
        gs_http_error(rq, rs, nweb_status_of(rc), NULL, "%s %s",
                      nweb_t(rq, "找不到这件事件:", "No such incident:"), id);
        return 1;
    }
    return 0;
}

/* The edit form: every field but the status, which the workflow changes. */
static gs_form *edit_form(gs_http_req *rq, nweb *w)
{
    gs_form *fm = nweb_form(rq, w, incident_type(), GS_FORM_UPDATE);
    if (fm)
        gs_form_omit(fm, GS_INCIDENT_STATUS);
    return fm;
}

static int record_get(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    gs_record *r = NULL;
    char action[16];
    if (find_incident(rq, rs, w, &r, action))
        return GS_OK;
    char path[160];
    snprintf(path, sizeof path, "/incident/%s/edit", gs_record_key(r));
    if (!*action) {
        record_page(rq, rs, w, r, NULL);
    } else if (!strcmp(action, "edit")) {
        gs_form *fm = edit_form(rq, w);
        if (fm)
            form_page(rq, rs, fm, r, path, nweb_t(rq, "修改事件", "Edit the incident"));
        gs_form_destroy(&fm);
    } else {
        gs_http_error(rq, rs, 404, NULL, "%s", nweb_t(rq, "没有这个页面", "No such page"));
    }
    gs_record_destroy(&r);
    return GS_OK;
}

/* POST /incident/ID/edit: the form's changes, through the entry. */
static void save_edit(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_record *cur)
{
    char path[160];
    snprintf(path, sizeof path, "/incident/%s/edit", gs_record_key(cur));
    gs_form *fm = edit_form(rq, w);
    gs_record *edit = gs_record_new(incident_type());
    if (!fm || !edit) {
        gs_http_error(rq, rs, 500, NULL, "out of memory");
    } else {
        gs_record_set_str(edit, incident_type()->key, gs_record_key(cur));
        nweb_form_take(rq, fm);
        bool any = false;
        int rc = gs_form_parse(fm, edit) ? GS_EINVAL : GS_OK;
        if (!rc) {
            gs_form_drop_unchanged(edit, cur);
            for (int f = 0; f < incident_type()->nfields; f++)
                any |= f != incident_type()->key && edit->v[f].state != GS_V_UNSET;
        }
        if (!rc && any) {
            gs_errbuf eb = {{0}};
            if ((rc = node_entry_save(w->store, edit, false, NULL, &eb)))
                gs_form_error_msg(fm, eb.msg);
        }
        if (rc) {
            gs_http_set_status(rs, nweb_status_of(rc));
            form_page(rq, rs, fm, cur, path, nweb_t(rq, "修改事件", "Edit the incident"));
        } else {
            to_record(rs, gs_record_key(cur), any ? "updated" : "same");
        }
    }
    gs_form_destroy(&fm);
    gs_record_destroy(&edit);
}

/* POST /incident/ID/status: one step of the workflow, with its note. */
static void step(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_record *cur)
{
    const char *to = gs_http_form(rq, "status"), *note = gs_http_form(rq, "note");
    gs_record *edit = gs_record_new(incident_type());
    gs_errbuf eb = {{0}};
    int rc = edit ? GS_OK : gs_errf(&eb, GS_ENOMEM, "out of memory");
    if (!rc && (!to || !*to))
        rc = gs_errf(&eb, GS_EINVAL, "%s", nweb_t(rq, "请选择下一步状态", "choose the next status"));
    if (!rc) {
        gs_record_set_str(edit, incident_type()->key, gs_record_key(cur));
        rc = gs_record_parse(edit, GS_INCIDENT_STATUS, to, &eb);
    }
    if (!rc && note && *note)
        rc = gs_record_parse(edit, GS_INCIDENT_NOTE, note, &eb);
    if (!rc)
        rc = node_entry_save(w->store, edit, false, NULL, &eb);
    if (rc) {
        gs_http_set_status(rs, nweb_status_of(rc));
        record_page(rq, rs, w, cur, eb.msg);
    } else {
        to_record(rs, gs_record_key(cur), "status");
    }
    gs_record_destroy(&edit);
}

static int record_post(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    gs_record *r = NULL;
    char action[16];
    if (find_incident(rq, rs, w, &r, action))
        return GS_OK;
    if (!strcmp(action, "edit"))
        save_edit(rq, rs, w, r);
    else if (!strcmp(action, "status"))
        step(rq, rs, w, r);
    else
        gs_http_error(rq, rs, 404, NULL, "%s", nweb_t(rq, "没有这个页面", "No such page"));
    gs_record_destroy(&r);
    return GS_OK;
}

const gs_http_route nweb_incident_routes[] = {
    {"GET", "/incidents", list_page, 0},
    {"GET", "/incidents/new", new_page, 0},
    {"POST", "/incidents/new", create, 0},
    {"GET", "/incident/", record_get, GS_ROUTE_PREFIX},
    {"POST", "/incident/", record_post, GS_ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
