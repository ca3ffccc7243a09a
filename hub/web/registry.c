/*
 * registry.c: 节点 (city only): the registry of village nodes: every node
 * with its village and sync state; registering a village's PC, whose
 * bundle (with its secret key) is the answer to the form, downloaded once:
 * the hub keeps only the public key; revoking and enabling a node; rekeying
 * one (a new key pair, its new bundle downloaded, the old key refused from
 * then on). The same checks and the same bundle as `gridhub node`
 * (hub_village_check, hub_bundle_text); every action is audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include <sodium.h>

#include "../cli.h"
#include "gridsync/bundle.h"
#include "gridsync/hlc.h"
#include "gridsync/mpack.h"
#include "web.h"

typedef struct list_ctx {
    gs_http_req *rq;
    gs_buf *b;
    hweb *w;
} list_ctx;

static void button(gs_http_req *rq, gs_buf *b, const char *action, const char *id,
                   const char *label, bool endpoint, const char *ep)
{
    gs_html_printf(b, "<form class=\"inline\" method=\"post\" action=\"/nodes/%s\">", action);
    hweb_csrf_field(rq, b);
    gs_html_printf(b, "<input type=\"hidden\" name=\"id\" value=\"%s\">", id);
    if (endpoint && *ep)
        gs_html_printf(b, "<input type=\"hidden\" name=\"endpoint\" value=\"%s\">", ep);
    else if (endpoint)
        gs_html_printf(b, "<input name=\"endpoint\" required size=\"18\" "
                          "placeholder=\"tcp://hub.example:7700\">");
    gs_html_printf(b, "<button type=\"submit\" class=\"secondary\">%s</button></form> ", label);
}

static int node_row(const hub_node *n, void *arg)
{
    list_ctx *x = arg;
    hub_division d = {{0}};
    gs_errbuf eb = {{0}};
    hub_division_get(x->w->store, n->village, &d, &eb);
    gs_buf seen = GS_BUF_INIT;
    if (n->last_seen_ms)
        gs_hlc_format(GS_HLC_MAKE(n->last_seen_ms, 0), &seen);
    gs_html_printf(
        x->b,
        "<tr%s data-node=\"%s\"><td><code>%s</code></td><td>%s <code>%s</code></td>"
        "<td>%s</td><td class=\"nowrap\">%s</td><td class=\"nowrap\">%.10s %.5s</td>"
        "<td class=\"num\">%llu</td>"
        "<td class=\"num\">%lld</td><td>",
        n->enabled ? "" : " class=\"disabled\"", n->id, n->id, d.name, n->village, n->name,
        n->enabled ? hweb_t(x->rq, "启用", "enabled") : hweb_t(x->rq, "已吊销", "revoked"),
        n->last_seen_ms ? seen.data : hweb_t(x->rq, "从未", "never"),
        n->last_seen_ms && seen.len > 16 ? seen.data + 11 : "", (unsigned long long)n->pending,
        (long long)n->rejected);
    gs_buf_free(&seen);
    const char *ep = x->w->endpoint ? x->w->endpoint : "";
    if (n->enabled)
        button(x->rq, x->b, "revoke", n->id, hweb_t(x->rq, "吊销", "Revoke"), false, NULL);
    else
        button(x->rq, x->b, "enable", n->id, hweb_t(x->rq, "恢复", "Enable"), false, NULL);
    button(x->rq, x->b, "rekey", n->id, hweb_t(x->rq, "换密钥并下载", "Rekey, download"), true, ep);
    gs_buf_puts(x->b, "</td></tr>\n");
    return 0;
}

static int village_option(const hub_division *d, void *arg)
{
    gs_html_printf(arg, "<option value=\"%s\">%s</option>", d->code, d->name);
    return 0;
}

static void nodes_page(gs_http_req *rq, gs_http_resp *rs, hweb *w, const char *error)
{
    hweb_begin(rq, rs, HWEB_REGISTRY, hweb_t(rq, "节点登记", "Node registry"));
    gs_buf *b = gs_http_out(rs);
    if (error)
        gs_html_printf(b, "<p class=\"error\" role=\"alert\">%s</p>", error);
    gs_html_printf(b,
                   "<table class=\"nodes\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                   "<th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th><th></th></tr>"
                   "</thead><tbody>\n",
                   hweb_t(rq, "节点", "node"), hweb_t(rq, "村社区", "village"),
                   hweb_t(rq, "名称", "name"), hweb_t(rq, "状态", "state"),
                   hweb_t(rq, "最后同步", "last sync"), hweb_t(rq, "待同步", "pending"),
                   hweb_t(rq, "退回", "refused"));
    list_ctx x = {rq, b, w};
    gs_errbuf eb = {{0}};
    hub_node_each(w->store, node_row, &x, &eb);
    gs_buf_puts(b, "</tbody></table>\n");
    gs_html_printf(
        b,
        "<section class=\"card\"><h2>%s</h2><form class=\"stack\" method=\"post\" "
        "action=\"/nodes\">",
        hweb_t(rq, "登记村电脑并下载安装包", "Register a village PC, download its bundle"));
    hweb_csrf_field(rq, b);
    gs_html_printf(b,
                   "<label for=\"village\">%s</label><input id=\"village\" name=\"village\" "
                   "list=\"villages\" required pattern=\"[0-9]{12}\" placeholder=\"411102100201\">"
                   "<datalist id=\"villages\">",
                   hweb_t(rq, "村社区代码（12 位）", "Village code (12 digits)"));
    hub_division_children(w->store, NULL, "village", village_option, b, &eb);
    gs_html_printf(b,
                   "</datalist><label for=\"name\">%s</label><input id=\"name\" name=\"name\" "
                   "required maxlength=\"100\" placeholder=\"村委会电脑\">"
                   "<label for=\"endpoint\">%s</label><input id=\"endpoint\" name=\"endpoint\" "
                   "required value=\"%s\" placeholder=\"tcp://hub.example:7700\">"
                   "<p><button type=\"submit\">%s</button></p><p class=\"note\">%s</p>"
                   "</form></section>\n",
                   hweb_t(rq, "电脑名称", "PC name"),
                   hweb_t(rq, "同步地址（gridhub serve 的地址）", "Sync address (gridhub serve)"),
                   w->endpoint ? w->endpoint : "",
                   hweb_t(rq, "登记并下载", "Register and download"),
                   hweb_t(rq,
                          "安装包含有该电脑的私钥，只能下载这一次；请妥善交给村里，用 gridnode "
                          "init --bundle 安装。",
                          "The bundle holds the PC's secret key and is downloaded this once: "
                          "carry it to the village and install it with gridnode init --bundle."));
    hweb_end(rq, rs);
}

static int page_nodes(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    nodes_page(rq, rs, app, NULL);
    return 0;
}

/* A form error: the page again with the message, status 400 (nothing stored). */
static int form_error(gs_http_req *rq, gs_http_resp *rs, hweb *w, int status, const char *msg)
{
    nodes_page(rq, rs, w, msg);
    gs_http_set_status(rs, status);
    return 0;
}

/* Answers with the bundle as a download (the secret wiped after). */
static int send_bundle(gs_http_resp *rs, const hub_node *n, gs_buf *text)
{
    char name[96];
    snprintf(name, sizeof name, "%s.bundle", n->id);
    int rc = gs_http_download(rs, name, "application/octet-stream", text->data, text->len);
    gs_http_set_header(rs, "Cache-Control", "no-store");
    sodium_memzero(text->data, text->len);
    gs_buf_free(text);
    return rc;
}

static int post_register(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *village = gs_http_form(rq, "village"), *name = gs_http_form(rq, "name"),
               *endpoint = gs_http_form(rq, "endpoint");
    gs_errbuf eb = {{0}};
    if (!village || !name || !endpoint || !*name)
        return form_error(rq, rs, w, 400,
                          hweb_t(rq, "请填写村社区代码、电脑名称和同步地址。",
                                 "Village, name and sync address are required."));
    if (strlen(name) > 100 || !gs_utf8_valid(name, strlen(name)))
        return form_error(rq, rs, w, 400,
                          hweb_t(rq, "电脑名称最多 100 字节。", "name: at most 100 bytes."));
    if (!gs_endpoint_valid(endpoint))
        return form_error(rq, rs, w, 400,
                          hweb_t(rq, "同步地址应为 tcp://主机:端口。",
                                 "sync address: tcp://HOST:PORT or ipc://PATH."));
    if (hub_village_check(w->store, village, &eb))
        return form_error(rq, rs, w, 400, eb.msg);
    hub_node n = {0};
    snprintf(n.id, sizeof n.id, "%s-%lld", village,
             (long long)hub_node_count_village(w->store, village) + 1);
    snprintf(n.village, sizeof n.village, "%s", village);
    snprintf(n.name, sizeof n.name, "%s", name);
    char sec[41] = "";
    zmq_curve_keypair(n.public_key, sec);
    gs_buf text = GS_BUF_INIT;
    int rc = hub_node_add(w->store, &n, &eb);
    if (!rc && (rc = hub_bundle_text(w->store, &n, endpoint, sec, &text, &eb)))
        hub_node_remove_unsynced(w->store, n.id, NULL); /* no bundle, no node */
    sodium_memzero(sec, sizeof sec);
    if (rc) {
        gs_buf_free(&text);
        return form_error(rq, rs, w, rc == GS_EEXIST ? 409 : 500, eb.msg);
    }
    char detail[200];
    snprintf(detail, sizeof detail, "%s %s %s", n.id, n.village, n.name);
    hweb_audit(w, rq, "node add", detail);
    return send_bundle(rs, &n, &text);
}

static int set_enabled(gs_http_req *rq, gs_http_resp *rs, hweb *w, bool enabled)
{
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *id = gs_http_form(rq, "id");
    gs_errbuf eb = {{0}};
    if (!id || !*id)
        return gs_http_error(rq, rs, 400, "id", "%s", hweb_t(rq, "缺少节点。", "id is required."));
    int rc = hub_node_set_enabled(w->store, id, enabled, &eb);
    if (rc == GS_ENOTFOUND)
        return gs_http_error(rq, rs, 404, "id", "%s",
                             hweb_t(rq, "没有这个节点。", "No such node."));
    if (rc)
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    hweb_audit(w, rq, enabled ? "node enable" : "node revoke", id);
    return gs_http_redirect(rs, "/nodes");
}

static int post_revoke(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return set_enabled(rq, rs, app, false);
}

static int post_enable(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return set_enabled(rq, rs, app, true);
}

static int post_rekey(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *id = gs_http_form(rq, "id"), *endpoint = gs_http_form(rq, "endpoint");
    gs_errbuf eb = {{0}};
    if (!id || !endpoint || !gs_endpoint_valid(endpoint))
        return form_error(rq, rs, w, 400,
                          hweb_t(rq, "缺少节点或同步地址。", "id and sync address are required."));
    hub_node n;
    int rc = hub_node_get(w->store, id, &n, &eb);
    if (rc == GS_ENOTFOUND)
        return gs_http_error(rq, rs, 404, "id", "%s",
                             hweb_t(rq, "没有这个节点。", "No such node."));
    if (rc)
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    char sec[41] = "";
    zmq_curve_keypair(n.public_key, sec);
    gs_buf text = GS_BUF_INIT;
    /* the bundle first: if it cannot be made the old key stays valid */
    rc = hub_bundle_text(w->store, &n, endpoint, sec, &text, &eb);
    sodium_memzero(sec, sizeof sec);
    if (!rc)
        rc = hub_node_set_key(w->store, n.id, n.public_key, &eb);
    if (rc) {
        gs_buf_free(&text);
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    }
    hweb_audit(w, rq, "node rekey", n.id);
    return send_bundle(rs, &n, &text);
}

const gs_http_route hweb_registry_routes[] = {
    {"GET", "/nodes", page_nodes, 0},          {"POST", "/nodes", post_register, 0},
    {"POST", "/nodes/revoke", post_revoke, 0}, {"POST", "/nodes/enable", post_enable, 0},
    {"POST", "/nodes/rekey", post_rekey, 0},   {NULL, NULL, NULL, 0},
};
