/*
 * pages.c: helpers of the 换届选举, 红白理事会, 导入导出 and 同步 pages (see
 * pages.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/find.h"
#include "pages.h"

void pg_display(gs_buf *b, const gs_record *r, int f)
{
    gs_buf v = GS_BUF_INIT;
    gs_find_display(r, f, &v);
    if (v.data)
        gs_html_escape(b, v.data);
    gs_buf_free(&v);
}

void pg_cite(gs_buf *b, gs_finding f, gs_committee c)
{
    const gs_finding_info *fi = gs_finding_cite(f, c);
    if (!fi || !fi->law[0])
        return;
    gs_buf_printf(b, "《%s》", fi->law);
    if (fi->version[0])
        gs_buf_printf(b, "(%s)", fi->version);
    if (fi->article[0])
        gs_buf_printf(b, " %s", fi->article);
}

void pg_findings_html(gs_buf *b, const char *findings, gs_committee c)
{
    gs_findset set = 0;
    if (findings && gs_findset_parse(findings, &set) != 0)
        set = 0;
    if (!set) {
        gs_buf_puts(b, "<p class=\"ok\">无 (none)</p>\n");
        return;
    }
    gs_buf_puts(b, "<ul class=\"findings\">\n");
    gs_buf cite = GS_BUF_INIT;
    for (int f = 1; f < GS_FIND__COUNT; f++) {
        if (!(set & GS_FINDBIT(f)))
            continue;
        const gs_finding_info *fi = gs_finding_cite((gs_finding)f, c);
        gs_buf_reset(&cite);
        pg_cite(&cite, (gs_finding)f, c);
        gs_html_printf(b, "<li class=\"finding sev-%s\" data-code=\"%s\"><b>%s</b>",
                       fi->severity == GS_SEV_ERROR ? "error" : "finding", fi->name, fi->zh);
        if (cite.data)
            gs_html_printf(b, " <span class=\"law\">%s</span>", cite.data);
        gs_buf_puts(b, "</li>\n");
    }
    gs_buf_free(&cite);
    gs_buf_puts(b, "</ul>\n");
}

json_t *pg_finding_json(gs_finding f, gs_committee c)
{
    const gs_finding_info *fi = gs_finding_cite(f, c);
    gs_buf cite = GS_BUF_INIT;
    pg_cite(&cite, f, c);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "code", fi->name, "zh", fi->zh,
                          "law", fi->law, "version", fi->version, "article", fi->article, "cite",
                          cite.data ? cite.data : "", "severity",
                          fi->severity == GS_SEV_ERROR ? "error" : "finding");
    gs_buf_free(&cite);
    return j;
}

/* What pg_collect's walk keeps. */
typedef struct collect {
    pg_list *l;
    int field;
    const char *value;
} collect;

static int collect_one(const gs_record *rec, void *arg)
{
    collect *c = arg;
    if (c->field >= 0) {
        const char *v = gs_record_str(rec, c->field);
        if (!v || strcmp(v, c->value))
            return GS_OK;
    }
    pg_list *l = c->l;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        gs_record **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return GS_ENOMEM;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n] = gs_record_dup(rec)))
        return GS_ENOMEM;
    l->n++;
    return GS_OK;
}

int pg_collect(node_store *s, const gs_rectype *rt, int f, const char *value, pg_list *out,
               gs_errbuf *eb)
{
    *out = (pg_list){NULL, 0, 0};
    collect c = {out, f, value};
    gs_find_filter all = {0};
    int rc = node_store_list(s, rt, &all, collect_one, &c, eb);
    if (rc == GS_ENOMEM)
        gs_errf(eb, rc, "out of memory");
    if (rc)
        pg_list_free(out);
    return rc;
}

void pg_list_free(pg_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        gs_record_destroy(&l->v[i]);
    free(l->v);
    *l = (pg_list){NULL, 0, 0};
}

void pg_village_name(node_store *s, char *out, size_t cap)
{
    const node_identity *id = node_store_identity(s);
    gs_record *d = NULL;
    const char *name = NULL;
    if (node_store_get(s, gs_rectype_get(GS_RT_DIVISION), id->village, &d, NULL) == GS_OK)
        name = pg_str(d, GS_DIVISION_NAME);
    snprintf(out, cap, "%s", name ? name : id->name[0] ? id->name : id->village);
    gs_record_destroy(&d);
}

/* ---- a record's form page ------------------------------------------------- */

/* Shows the form fm (cur: the record edited, or NULL) posting to action. */
static void form_page(gs_http_req *rq, gs_http_resp *rs, nweb_tab tab, const gs_form *fm,
                      const gs_record *cur, const char *action, const char *title)
{
    nweb_begin(rq, rs, tab, title);
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    gs_html_printf(b, "<form method=\"post\" action=\"%s\" class=\"record\">\n", action);
    nweb_csrf_field(rq, b);
    gs_form_render(fm, cur, b);
    gs_buf_printf(b, "<p><button type=\"submit\" class=\"primary\">%s</button></p></form>\n",
                  nweb_t(rq, "保存", "Save"));
    nweb_end(rq, rs);
}

int pg_form_handler(gs_http_req *rq, gs_http_resp *rs, nweb *w, nweb_tab tab,
                    const gs_rectype *rt, const gs_record *cur, const char *action,
                    int preset_field, const char *preset, pg_after_save_fn after_save)
{
    gs_form *fm = nweb_form(rq, w, rt, cur ? GS_FORM_UPDATE : GS_FORM_CREATE);
    if (!fm)
        return GS_ENOMEM;
    if (preset_field >= 0 && preset && *preset)
        gs_form_preset(fm, preset_field, preset);
    char title[160];
    snprintf(title, sizeof title, "%s%s",
             cur ? nweb_t(rq, "修改", "Edit ") : nweb_t(rq, "登记", "New "), rt->label_zh);
    int rc = GS_OK;
    if (!strcmp(gs_http_method(rq), "POST")) {
        nweb_form_take(rq, fm);
        gs_record *rec = gs_record_new(rt);
        if (!rec) {
            gs_form_destroy(&fm);
            return GS_ENOMEM;
        }
        if (cur)
            gs_record_set_str(rec, rt->key, gs_record_key(cur));
        int src = nweb_form_save(w, fm, rec, !cur, cur, NULL);
        if (!src) {
            char path[160];
            after_save(rec, path, sizeof path);
            gs_record_destroy(&rec);
            gs_form_destroy(&fm);
            return gs_http_redirect(rs, path);
        }
        gs_record_destroy(&rec);
        gs_http_set_status(rs, nweb_status_of(src));
    }
    form_page(rq, rs, tab, fm, cur, action, title);
    gs_form_destroy(&fm);
    return rc;
}

int pg_load(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_rectype *rt, gs_record **out,
            const char **what)
{
    const char *tail = gs_http_tail(rq);
    size_t n = strcspn(tail, "/");
    char id[80];
    *what = tail + n;
    if (!n || n >= sizeof id)
        return gs_http_error(rq, rs, 404, NULL, "没有这条%s (not found)", rt->label_zh), 1;
    memcpy(id, tail, n);
    id[n] = '\0';
    gs_errbuf eb = {{0}};
    if (node_store_find(w->store, rt, id, out, &eb))
        return gs_http_error(rq, rs, 404, NULL, "%s", eb.msg), 1;
    return 0;
}
