/*
 * grids.c: 网格, the village's grids (its 综合网格 and 专属网格 with their
 * 网格员), kept on the desk so that every incident can be given one by name:
 *
 *   GET       /grids               every grid: code, name, kind, households,
 *                                   population, grid worker and phone
 *   GET|POST  /grids/new           a new grid (the form of the record table)
 *   GET|POST  /grid/CODE/edit      a grid's form; /grid/CODE shows the list
 *
 * A grid's code is its key, typed once when it is made: the village's
 * 12-digit code and three digits of its own (411122101201001).
 */
#include <stdio.h>
#include <string.h>

#include "pages.h"

static void after_save(const gs_record *rec, char *path, size_t cap)
{
    (void)rec;
    snprintf(path, cap, "/grids?ok=saved");
}

static int h_grids(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    pg_list l;
    gs_errbuf eb = {{0}};
    if (pg_collect(w->store, gs_rectype_get(GS_RT_GRID), -1, NULL, &l, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    nweb_begin(rq, rs, NWEB_INCIDENTS, nweb_t(rq, "网格", "Grids"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    if (gs_http_query(rq, "ok"))
        gs_buf_printf(b, "<p class=\"notice\">%s</p>\n", nweb_t(rq, "已保存", "Saved"));
    gs_buf_printf(b,
                  "<p class=\"actions\"><a class=\"button primary\" href=\"/grids/new\">%s</a> "
                  "<a href=\"/incidents\">%s</a></p>\n",
                  nweb_t(rq, "登记网格", "New grid"), nweb_t(rq, "网格事件", "Incidents"));
    if (!l.n) {
        gs_buf_printf(b, "<p>%s</p>\n",
                      nweb_t(rq, "本村还没有登记网格：登记后，事件可以按网格名称选择。",
                             "No grid yet: once registered, incidents pick them by name."));
    } else {
        static const int cols[] = {GS_GRID_CODE,       GS_GRID_NAME,   GS_GRID_KIND,
                                   GS_GRID_HOUSEHOLDS, GS_GRID_POPULATION, GS_GRID_WORKER,
                                   GS_GRID_WORKER_PHONE};
        const gs_rectype *rt = gs_rectype_get(GS_RT_GRID);
        gs_buf_puts(b, "<table class=\"list\"><thead><tr>");
        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
            gs_html_printf(b, "<th>%s</th>", gs_http_en(rq) ? rt->fields[cols[i]].name
                                                              : rt->fields[cols[i]].label_zh);
        gs_buf_puts(b, "<th></th></tr></thead><tbody>\n");
        for (size_t r = 0; r < l.n; r++) {
            gs_buf_puts(b, "<tr>");
            for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
                gs_buf_puts(b, "<td>");
                pg_display(b, l.v[r], cols[i]);
                gs_buf_puts(b, "</td>");
            }
            gs_html_printf(b, "<td><a href=\"/grid/%s/edit\">%s</a> · "
                              "<a href=\"/incidents?grid=%s\">%s</a></td></tr>\n",
                           gs_record_key(l.v[r]), nweb_t(rq, "修改", "Edit"),
                           gs_record_key(l.v[r]), nweb_t(rq, "事件", "Incidents"));
        }
        gs_buf_puts(b, "</tbody></table>\n");
    }
    nweb_end(rq, rs);
    pg_list_free(&l);
    return GS_OK;
}

static int h_grid_new(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return pg_form_handler(rq, rs, pg_web(app), NWEB_INCIDENTS, gs_rectype_get(GS_RT_GRID), NULL,
                           "/grids/new", -1, NULL, after_save);
}

static int h_grid(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *g = NULL;
    const char *what;
    if (pg_load(rq, rs, w, gs_rectype_get(GS_RT_GRID), &g, &what))
        return GS_OK;
    int rc;
    if (!strcmp(what, "/edit")) {
        char action[160];
        snprintf(action, sizeof action, "/grid/%s/edit", gs_record_key(g));
        rc = pg_form_handler(rq, rs, w, NWEB_INCIDENTS, g->rt, g, action, -1, NULL, after_save);
    } else {
        rc = gs_http_redirect(rs, "/grids");
    }
    gs_record_destroy(&g);
    return rc;
}

const gs_http_route nweb_grid_routes[] = {
    {"GET", "/grids", h_grids, 0},
    {"GET", "/grids/new", h_grid_new, 0},
    {"POST", "/grids/new", h_grid_new, 0},
    {"GET", "/grid/", h_grid, GS_ROUTE_PREFIX},
    {"POST", "/grid/", h_grid, GS_ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
