/*
 * councils.c: 红白理事会 pages of the village desk.
 *
 *   GET       /councils             the village's council(s): standards, members
 *   GET|POST  /councils/new         a council's form
 *   GET       /council/ID           a council: its standards and members
 *   GET|POST  /council/ID/edit      its form
 *   GET|POST  /members/new          a member's form (?council=ID picks it)
 *   GET|POST  /member/ID/edit       a member's form
 *   GET       /affairs              weddings and funerals, each breach of the
 *                                   standards marked
 *   GET|POST  /affairs/new          an affair's form
 *   GET       /affair/ID            an affair: its figures beside the limits
 *   GET|POST  /affair/ID/edit       its form
 *
 * The forms are the core's, generated from the record tables (form.h,
 * forms.c), saved through the entry as on the command line. A breach is the
 * affair's computed violations (derive.h: gs_derive_affair against the
 * village's council), shown in Chinese with the limit and the actual value:
 * "桌数 30 > 上限 20".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "gridsync/form.h"
#include "gridsync/replica.h"
#include "pages.h"

/* A violation and the fields it compares: the affair's figure and the
 * council's limit (cremation: the council's requirement). */
typedef struct breach {
    gs_finding code;
    int actual, limit; /* GS_AFFAIR_..., GS_COUNCIL_... */
} breach;

static const breach breaches[] = {
    {GS_FIND_AFFAIR_TABLES, GS_AFFAIR_TABLES, GS_COUNCIL_MAX_TABLES},
    {GS_FIND_AFFAIR_COST, GS_AFFAIR_COST_PER_TABLE, GS_COUNCIL_MAX_COST_PER_TABLE},
    {GS_FIND_AFFAIR_GIFT, GS_AFFAIR_GIFT, GS_COUNCIL_MAX_GIFT},
    {GS_FIND_AFFAIR_CARS, GS_AFFAIR_CARS, GS_COUNCIL_MAX_CARS},
    {GS_FIND_AFFAIR_DAYS, GS_AFFAIR_DAYS, GS_COUNCIL_MAX_FUNERAL_DAYS},
    {GS_FIND_AFFAIR_BRIDE_PRICE, GS_AFFAIR_BRIDE_PRICE, GS_COUNCIL_MAX_BRIDE_PRICE},
    {GS_FIND_AFFAIR_CREMATION, GS_AFFAIR_CREMATION, GS_COUNCIL_CREMATION_REQUIRED},
};

/* The village's council, or NULL. */
static gs_record *village_council(node_store *s)
{
    gs_record *c = NULL;
    if (gs_replica_village_council(node_store_replica(s), node_store_identity(s)->village, &c,
                                   NULL) != GS_OK)
        return NULL;
    return c;
}

/* Appends each breach of affair a as "桌数 30 > 上限 20" (a list item
 * each); nothing when it has none. */
static void violations_html(gs_buf *b, const gs_record *a, const gs_record *council)
{
    gs_findset set = 0;
    const char *v = pg_str(a, GS_AFFAIR_VIOLATIONS);
    if (!v || gs_findset_parse(v, &set) || !set)
        return;
    gs_buf_puts(b, "<ul class=\"violations\">");
    for (size_t i = 0; i < sizeof breaches / sizeof breaches[0]; i++) {
        const breach *br = &breaches[i];
        if (!(set & GS_FINDBIT(br->code)))
            continue;
        const gs_finding_info *fi = gs_finding_get(br->code);
        gs_buf_puts(b, "<li class=\"violation\">");
        if (br->code == GS_FIND_AFFAIR_CREMATION) {
            gs_html_printf(b, "%s：本村要求火化，实际 ", fi->zh);
            pg_display(b, a, GS_AFFAIR_CREMATION);
        } else {
            const gs_field *fd = &a->rt->fields[br->actual];
            gs_html_printf(b, "%s %lld &gt; 上限 ", fd->label_zh,
                           (long long)pg_int(a, br->actual, 0));
            if (council)
                gs_buf_printf(b, "%lld", (long long)pg_int(council, br->limit, 0));
            else
                gs_buf_puts(b, "?");
        }
        gs_buf_printf(b, " <span class=\"law\">（%s", fi->zh);
        gs_buf cite = GS_BUF_INIT;
        pg_cite(&cite, br->code, GS_COMMITTEE_VILLAGE);
        if (!cite.data)
            gs_html_printf(b, "；%s", fi->law);
        else
            gs_html_printf(b, "；%s", cite.data);
        gs_buf_free(&cite);
        gs_buf_puts(b, "）</span></li>");
    }
    gs_buf_puts(b, "</ul>");
}

/* The council's standards as a table; "未设" for a limit not set. */
static void standards_table(gs_buf *b, const gs_record *c)
{
    static const int limits[] = {GS_COUNCIL_MAX_TABLES,        GS_COUNCIL_MAX_COST_PER_TABLE,
                                 GS_COUNCIL_MAX_GIFT,          GS_COUNCIL_MAX_CARS,
                                 GS_COUNCIL_MAX_FUNERAL_DAYS,  GS_COUNCIL_MAX_BRIDE_PRICE,
                                 GS_COUNCIL_CREMATION_REQUIRED};
    gs_buf_puts(b, "<table class=\"figures standards\">\n");
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        int f = limits[i];
        gs_html_printf(b, "<tr><th>%s</th><td>", c->rt->fields[f].label_zh);
        if (gs_record_has(c, f))
            pg_display(b, c, f);
        else
            gs_buf_puts(b, "<span class=\"hint\">未设 (no limit)</span>");
        gs_buf_puts(b, "</td></tr>\n");
    }
    gs_buf_puts(b, "</table>\n");
}

static void members_table(gs_buf *b, const pg_list *m)
{
    if (!m->n) {
        gs_buf_puts(b, "<p class=\"hint\">还没有登记成员。</p>\n");
        return;
    }
    gs_buf_puts(b, "<table class=\"list\"><thead><tr><th>姓名</th><th>职务</th><th>性别</th>"
                   "<th>党员</th><th>任期</th><th>联系电话</th><th></th></tr></thead><tbody>\n");
    for (size_t i = 0; i < m->n; i++) {
        const gs_record *r = m->v[i];
        gs_buf_puts(b, "<tr><td>");
        pg_display(b, r, GS_MEMBER_NAME);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, r, GS_MEMBER_ROLE);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, r, GS_MEMBER_GENDER);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, r, GS_MEMBER_PARTY_MEMBER);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, r, GS_MEMBER_TERM_START);
        gs_buf_puts(b, " – ");
        pg_display(b, r, GS_MEMBER_TERM_END);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, r, GS_MEMBER_PHONE);
        gs_html_printf(b, "</td><td><a href=\"/member/%s/edit\">修改</a></td></tr>\n",
                       gs_record_key(r));
    }
    gs_buf_puts(b, "</tbody></table>\n");
}

/* ---- forms ----------------------------------------------------------------- */

/* Where a form of each type leads after saving, and its title. */
static void after_save(const gs_record *rec, char *path, size_t cap)
{
    switch (rec->rt->id) {
    case GS_RT_COUNCIL:
        snprintf(path, cap, "/council/%s", gs_record_key(rec));
        break;
    case GS_RT_MEMBER:
        snprintf(path, cap, "/council/%s", pg_str(rec, GS_MEMBER_COUNCIL_ID));
        break;
    default:
        snprintf(path, cap, "/affair/%s", gs_record_key(rec));
        break;
    }
}

/* GET or POST of a form of rt on the 红白理事会 tab (pages.c). */
static int form_handler(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_rectype *rt,
                        const gs_record *cur, const char *action, int preset_field,
                        const char *preset)
{
    return pg_form_handler(rq, rs, w, NWEB_COUNCILS, rt, cur, action, preset_field, preset,
                           after_save);
}

/* ---- councils ------------------------------------------------------------------ */

static void council_section(gs_buf *b, node_store *s, const gs_record *c)
{
    gs_html_printf(b, "<section class=\"council\"><h2><a href=\"/council/%s\">", gs_record_key(c));
    pg_display(b, c, GS_COUNCIL_NAME);
    gs_buf_puts(b, "</a></h2>\n<p>成立日期 ");
    pg_display(b, c, GS_COUNCIL_ESTABLISHED_ON);
    gs_buf_puts(b, " · 章程版本 ");
    pg_display(b, c, GS_COUNCIL_CHARTER_VERSION);
    gs_html_printf(b, " · <a href=\"/council/%s/edit\">修改标准</a></p>\n<h3>标准</h3>\n",
                   gs_record_key(c));
    standards_table(b, c);
    pg_list m;
    gs_html_printf(b,
                   "<h3>成员</h3>\n<p><a class=\"button\" href=\"/members/new?council=%s\">"
                   "登记成员</a></p>\n",
                   gs_record_key(c));
    if (pg_collect(s, gs_rectype_get(GS_RT_MEMBER), GS_MEMBER_COUNCIL_ID, gs_record_key(c), &m,
                   NULL) == GS_OK) {
        members_table(b, &m);
        pg_list_free(&m);
    }
    gs_buf_puts(b, "</section>\n");
}

static int h_councils(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    pg_list l;
    gs_errbuf eb = {{0}};
    if (pg_collect(w->store, gs_rectype_get(GS_RT_COUNCIL), -1, NULL, &l, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    nweb_begin(rq, rs, NWEB_COUNCILS, nweb_t(rq, "红白理事会", "Wedding and funeral council"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_printf(b,
                  "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n<p class=\"actions\">"
                  "<a class=\"button\" href=\"/affairs\">%s</a> "
                  "<a class=\"button\" href=\"/affairs/new\">%s</a> "
                  "<a href=\"/councils/new\">%s</a></p>\n",
                  nweb_t(rq, "红白事登记簿", "Affairs"), nweb_t(rq, "登记红白事", "New affair"),
                  nweb_t(rq, "登记理事会", "New council"));
    if (!l.n)
        gs_buf_printf(b, "<p>%s</p>\n",
                      nweb_t(rq, "本村尚未登记红白理事会：先登记理事会和它的标准。",
                             "No council yet: enter the council and its standards first."));
    for (size_t i = 0; i < l.n; i++)
        council_section(b, w->store, l.v[i]);
    pg_list_free(&l);
    nweb_end(rq, rs);
    return GS_OK;
}

/* The edit form of r at /KIND/ID/edit. */
static int edit_handler(gs_http_req *rq, gs_http_resp *rs, nweb *w, const char *kind,
                        const gs_record *r)
{
    char action[160];
    snprintf(action, sizeof action, "/%s/%s/edit", kind, gs_record_key(r));
    return form_handler(rq, rs, w, r->rt, r, action, -1, NULL);
}

static int h_council_new(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return form_handler(rq, rs, pg_web(app), gs_rectype_get(GS_RT_COUNCIL), NULL, "/councils/new",
                        -1, NULL);
}

static int h_council(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *c = NULL;
    const char *what;
    if (pg_load(rq, rs, w, gs_rectype_get(GS_RT_COUNCIL), &c, &what))
        return GS_OK;
    int rc = GS_OK;
    if (!strcmp(what, "/edit")) {
        rc = edit_handler(rq, rs, w, "council", c);
    } else if (!*what && !strcmp(gs_http_method(rq), "GET")) {
        nweb_begin(rq, rs, NWEB_COUNCILS,
                   pg_str(c, GS_COUNCIL_NAME) ? pg_str(c, GS_COUNCIL_NAME) : "红白理事会");
        gs_buf *b = gs_http_out(rs);
        gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
        council_section(b, w->store, c);
        gs_buf_puts(
            b, "<p><a href=\"/councils\">返回</a> · <a href=\"/affairs\">红白事登记簿</a></p>\n");
        nweb_end(rq, rs);
    } else {
        rc = gs_http_error(rq, rs, 404, NULL, "没有这个页面 (no such page)");
    }
    gs_record_destroy(&c);
    return rc;
}

static int h_member_new(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return form_handler(rq, rs, pg_web(app), gs_rectype_get(GS_RT_MEMBER), NULL, "/members/new",
                        GS_MEMBER_COUNCIL_ID, gs_http_query(rq, "council"));
}

static int h_member(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *m = NULL;
    const char *what;
    if (pg_load(rq, rs, w, gs_rectype_get(GS_RT_MEMBER), &m, &what))
        return GS_OK;
    int rc;
    if (!strcmp(what, "/edit")) {
        rc = edit_handler(rq, rs, w, "member", m);
    } else {
        char path[160];
        snprintf(path, sizeof path, "/council/%s", pg_str(m, GS_MEMBER_COUNCIL_ID));
        rc = gs_http_redirect(rs, path);
    }
    gs_record_destroy(&m);
    return rc;
}

/* ---- affairs ---------------------------------------------------------------------- */

static int h_affairs(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    pg_list l;
    gs_errbuf eb = {{0}};
    if (pg_collect(w->store, gs_rectype_get(GS_RT_AFFAIR), -1, NULL, &l, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    gs_record *council = village_council(w->store);
    nweb_begin(rq, rs, NWEB_COUNCILS, nweb_t(rq, "红白事登记簿", "Weddings and funerals"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_printf(b,
                  "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n<p class=\"actions\">"
                  "<a class=\"button primary\" href=\"/affairs/new\">%s</a> "
                  "<a href=\"/councils\">%s</a></p>\n",
                  nweb_t(rq, "登记红白事", "New affair"), nweb_t(rq, "理事会及标准", "Council"));
    if (!council)
        gs_buf_puts(b, "<p class=\"alert\">本村尚未登记红白理事会，未对照标准检查 "
                       "(no council: the affairs are not checked against standards)</p>\n");
    size_t nbad = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *v = pg_str(l.v[i], GS_AFFAIR_VIOLATIONS);
        nbad += v && *v;
    }
    gs_buf_printf(b, "<p class=\"tally\">共 %zu 件，其中超标 <b class=\"%s\">%zu</b> 件</p>\n", l.n,
                  nbad ? "flag" : "ok", nbad);
    if (l.n)
        gs_buf_puts(b, "<table class=\"list affairs\"><thead><tr><th>举办日期</th><th>类型</th>"
                       "<th>事主</th><th>桌数</th><th>每桌费用</th><th>天数</th><th>违规项</th>"
                       "</tr></thead><tbody>\n");
    for (size_t i = l.n; i-- > 0;) {
        const gs_record *a = l.v[i];
        const char *v = pg_str(a, GS_AFFAIR_VIOLATIONS);
        gs_html_printf(b, "<tr class=\"%s\"><td><a href=\"/affair/%s\">", v && *v ? "breach" : "",
                       gs_record_key(a));
        pg_display(b, a, GS_AFFAIR_EVENT_DATE);
        gs_buf_puts(b, "</a></td><td>");
        pg_display(b, a, GS_AFFAIR_KIND);
        gs_buf_puts(b, "</td><td>");
        pg_display(b, a, GS_AFFAIR_HOST);
        gs_buf_puts(b, "</td><td class=\"num\">");
        pg_display(b, a, GS_AFFAIR_TABLES);
        gs_buf_puts(b, "</td><td class=\"num\">");
        pg_display(b, a, GS_AFFAIR_COST_PER_TABLE);
        gs_buf_puts(b, "</td><td class=\"num\">");
        pg_display(b, a, GS_AFFAIR_DAYS);
        gs_buf_puts(b, "</td><td>");
        if (v && *v)
            violations_html(b, a, council);
        else
            gs_buf_puts(b, "<span class=\"ok\">无</span>");
        gs_buf_puts(b, "</td></tr>\n");
    }
    if (l.n)
        gs_buf_puts(b, "</tbody></table>\n");
    gs_record_destroy(&council);
    pg_list_free(&l);
    nweb_end(rq, rs);
    return GS_OK;
}

static int h_affair_new(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return form_handler(rq, rs, pg_web(app), gs_rectype_get(GS_RT_AFFAIR), NULL, "/affairs/new", -1,
                        NULL);
}

static int h_affair(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *a = NULL;
    const char *what;
    if (pg_load(rq, rs, w, gs_rectype_get(GS_RT_AFFAIR), &a, &what))
        return GS_OK;
    int rc = GS_OK;
    if (!strcmp(what, "/edit")) {
        rc = edit_handler(rq, rs, w, "affair", a);
    } else if (!*what && !strcmp(gs_http_method(rq), "GET")) {
        gs_record *council = village_council(w->store);
        char title[200];
        snprintf(title, sizeof title, "%s %s",
                 pg_str(a, GS_AFFAIR_HOST) ? pg_str(a, GS_AFFAIR_HOST) : "",
                 gs_enum_zh(&a->rt->fields[GS_AFFAIR_KIND], pg_str(a, GS_AFFAIR_KIND)));
        nweb_begin(rq, rs, NWEB_COUNCILS, title);
        gs_buf *b = gs_http_out(rs);
        gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
        const char *v = pg_str(a, GS_AFFAIR_VIOLATIONS);
        if (v && *v) {
            gs_buf_puts(b, "<section class=\"alert\"><h2>超出本村红白理事会标准</h2>\n");
            violations_html(b, a, council);
            gs_buf_puts(b, "</section>\n");
        } else if (council) {
            gs_buf_puts(b, "<p class=\"ok\">符合本村红白理事会标准 (within the standards)</p>\n");
        } else {
            gs_buf_puts(b, "<p class=\"alert\">本村尚未登记红白理事会，未对照标准检查</p>\n");
        }
        gs_buf_puts(b, "<table class=\"figures\">\n");
        for (int f = 0; f < a->rt->nfields; f++) {
            const gs_field *fd = &a->rt->fields[f];
            if (f == a->rt->key || f == a->rt->scope || (fd->flags & GS_F_COMPUTED) ||
                !gs_record_has(a, f))
                continue;
            gs_html_printf(b, "<tr><th>%s</th><td>", fd->label_zh);
            pg_display(b, a, f);
            gs_buf_puts(b, "</td></tr>\n");
        }
        gs_html_printf(b,
                       "</table>\n<p><a class=\"button\" href=\"/affair/%s/edit\">修改</a> "
                       "<a href=\"/affairs\">返回</a></p>\n",
                       gs_record_key(a));
        gs_record_destroy(&council);
        nweb_end(rq, rs);
    } else {
        rc = gs_http_error(rq, rs, 404, NULL, "没有这个页面 (no such page)");
    }
    gs_record_destroy(&a);
    return rc;
}

const gs_http_route nweb_council_routes[] = {
    {"GET", "/councils", h_councils, 0},
    {"GET", "/councils/new", h_council_new, 0},
    {"POST", "/councils/new", h_council_new, 0},
    {"GET", "/council/", h_council, GS_ROUTE_PREFIX},
    {"POST", "/council/", h_council, GS_ROUTE_PREFIX},
    {"GET", "/members/new", h_member_new, 0},
    {"POST", "/members/new", h_member_new, 0},
    {"GET", "/member/", h_member, GS_ROUTE_PREFIX},
    {"POST", "/member/", h_member, GS_ROUTE_PREFIX},
    {"GET", "/affairs", h_affairs, 0},
    {"GET", "/affairs/new", h_affair_new, 0},
    {"POST", "/affairs/new", h_affair_new, 0},
    {"GET", "/affair/", h_affair, GS_ROUTE_PREFIX},
    {"POST", "/affair/", h_affair, GS_ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
