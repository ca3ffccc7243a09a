/*
 * api.c: the JSON API of records (docs/web.md, "JSON API"): the same
 * records as the command line, through the same code.
 *
 *   GET  /api/session          the session's user and CSRF token
 *   GET  /api/TYPES            a list: the filters of `TYPE list` as query
 *                              arguments, paged (limit, offset), a total
 *   GET  /api/TYPES/ID         one record and its whole history
 *   POST /api/TYPES            creates a record from {field: text}
 *   POST /api/TYPES/ID         updates it with {field: text}
 *
 * TYPES is a record type's plural (incidents, elections ...). Values are
 * texts as the command line's options take them (受理 or accepted,
 * 2026/11/28 ...), parsed by the form module (gs_form_take/parse), so the
 * messages are the command line's; saving is node_entry_save. An error is
 * {"error": "...", "field": "name"} with 400 (bad input), 403 (reference
 * data, another village), 404, 409 (a refused workflow step, an id that
 * exists, a rule); nothing is stored then.
 */
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "gridsync/find.h"
#include "gridsync/form.h"
#include "web.h"

#define API_DEFAULT_LIMIT 100
#define API_MAX_LIMIT 1000

/* The record type a path /api/TYPES[/ID] names, and the ID part (NULL when
 * none); NULL when the type is unknown (a 404 was answered). */
static const gs_rectype *type_of(gs_http_req *rq, gs_http_resp *rs, const char **id)
{
    const char *p = gs_http_path(rq) + strlen("/api/");
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    *id = slash && slash[1] ? slash + 1 : NULL;
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        if (strlen(rt->plural) == n && !strncmp(rt->plural, p, n))
            return rt;
    }
    gs_http_error(rq, rs, 404, NULL, "没有这种记录: %.*s (no record type %.*s)", (int)(n > 60 ? 60 : n),
                  p, (int)(n > 60 ? 60 : n), p);
    return NULL;
}

/* The field name an error message names, or NULL. */
static const char *field_name(const gs_rectype *rt, const char *msg)
{
    int f = gs_form_field_of_msg(rt, msg);
    return f >= 0 ? rt->fields[f].name : NULL;
}

/* ---- reading ---------------------------------------------------------------- */

static int add_json(const gs_record *rec, void *arr)
{
    json_t *j = gs_record_to_json(rec);
    return j && !json_array_append_new(arr, j) ? GS_OK : GS_ENOMEM;
}

/* A whole number argument in [lo, hi], or def when absent; -1 when bad. */
static int64_t num_arg(gs_http_req *rq, const char *name, int64_t def, int64_t lo, int64_t hi)
{
    const char *v = gs_http_query(rq, name);
    if (!v || !*v)
        return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n < lo || n > hi ? -1 : n;
}

static int api_list(gs_http_req *rq, gs_http_resp *rs, const gs_rectype *rt, nweb *w)
{
    gs_find_filter f;
    char since[11], until[11];
    gs_errbuf eb = {{0}};
    int rc = nweb_filter(rq, rt, &f, since, until, &eb);
    if (rc)
        return gs_http_error(rq, rs, 400, NULL, "%s", eb.msg);
    int64_t limit = num_arg(rq, "limit", API_DEFAULT_LIMIT, 1, API_MAX_LIMIT);
    int64_t offset = num_arg(rq, "offset", 0, 0, INT64_MAX / 2);
    if (limit < 0)
        return gs_http_error(rq, rs, 400, "limit", "limit: 1 到 %d 的整数 (a whole number from 1 to %d)",
                             API_MAX_LIMIT, API_MAX_LIMIT);
    if (offset < 0)
        return gs_http_error(rq, rs, 400, "offset", "offset: 0 或更大的整数 (a whole number, 0 or more)");
    const char *order = gs_http_query(rq, "order");
    if (order && *order && strcmp(order, "id") && strcmp(order, "urgent"))
        return gs_http_error(rq, rs, 400, "order", "order: id 或 urgent (id or urgent), not \"%.40s\"",
                             order);
    int64_t total = 0;
    f.order = order && !strcmp(order, "urgent") ? GS_FIND_URGENT : GS_FIND_BY_ID;
    f.limit = limit;
    f.offset = offset;
    f.total = &total;
    json_t *arr = json_array();
    if (!arr)
        return GS_ENOMEM;
    if ((rc = node_store_list(w->store, rt, &f, add_json, arr, &eb))) {
        json_decref(arr);
        return gs_http_error(rq, rs, nweb_status_of(rc), NULL, "%s", eb.msg);
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:o}", "type", rt->name, "total", (json_int_t)total,
                          "offset", (json_int_t)offset, "limit", (json_int_t)limit, "records", arr);
    return o ? gs_http_json_reply(rs, 200, o) : GS_ENOMEM;
}

/* One change of a history as JSON: when, who, what it sets. */
static void add_change(const gs_change *c, void *arr)
{
    gs_buf when = GS_BUF_INIT;
    gs_hlc_format(c->hlc, &when);
    json_t *fields = c->rec ? gs_record_to_json(c->rec) : json_null();
    json_t *j = json_pack("{s:s?, s:s, s:I, s:s, s:o?}", "time", when.data, "origin", c->origin,
                          "seq", (json_int_t)c->seq, "op",
                          c->op == GS_OP_DELETE ? "delete" : c->op ? "upsert" : "unreadable",
                          "fields", fields);
    if (j)
        json_array_append_new(arr, j);
    gs_buf_free(&when);
}

/* The record a path names: its id or, as the command line takes it, a
 * unique prefix; NULL when an error was answered. */
static gs_record *find_or_answer(gs_http_req *rq, gs_http_resp *rs, nweb *w,
                                 const gs_rectype *rt, const char *id)
{
    gs_record *r = NULL;
    gs_errbuf eb = {{0}};
    int rc = node_store_find(w->store, rt, id, &r, &eb);
    if (rc) {
        gs_http_error(rq, rs, nweb_status_of(rc), NULL, "%s", eb.msg);
        return NULL;
    }
    return r;
}

static int api_get(gs_http_req *rq, gs_http_resp *rs, const gs_rectype *rt, nweb *w,
                   const char *id)
{
    gs_record *r = find_or_answer(rq, rs, w, rt, id);
    if (!r)
        return GS_OK;
    json_t *hist = json_array();
    if (hist)
        node_store_history(w->store, rt, gs_record_key(r), add_change, hist, NULL);
    json_t *o = json_pack("{s:o?, s:o?}", "record", gs_record_to_json(r), "history", hist);
    gs_record_destroy(&r);
    return o ? gs_http_json_reply(rs, 200, o) : GS_ENOMEM;
}

/* ---- writing ------------------------------------------------------------------ */

/* Answers the form's first error with its field, and every error in "errors". */
static int form_errors(gs_http_req *rq, gs_http_resp *rs, const gs_form *fm, const gs_rectype *rt,
                       int status)
{
    (void)rq;
    json_t *all = json_array();
    const char *first = NULL, *first_field = NULL;
    if (gs_form_error_of(fm, -1)) {
        first = gs_form_error_of(fm, -1);
        json_array_append_new(all, json_pack("{s:s}", "error", first));
    }
    for (int f = 0; f < rt->nfields; f++) {
        const char *m = gs_form_error_of(fm, f);
        if (!m)
            continue;
        if (!first)
            first = m, first_field = rt->fields[f].name;
        json_array_append_new(all, json_pack("{s:s, s:s}", "error", m, "field", rt->fields[f].name));
    }
    json_t *o = json_pack("{s:s, s:s?, s:o}", "error", first ? first : "invalid", "field",
                          first_field, "errors", all);
    return o ? gs_http_json_reply(rs, status, o) : GS_ENOMEM;
}

/* Takes the body's {field: value} into fm: text as it is, numbers as their
 * digits, true/false as 是/否, null as empty. GS_OK, or an error answered. */
static int take_body(gs_http_req *rq, gs_http_resp *rs, gs_form *fm, int *answered)
{
    gs_errbuf eb = {{0}};
    json_t *body = gs_http_json(rq, &eb);
    *answered = 1;
    if (!body)
        return gs_http_error(rq, rs, 400, NULL, "%s", eb.msg);
    if (!json_is_object(body))
        return gs_http_error(rq, rs, 400, NULL,
                             "请求正文应为 JSON 对象 {\"字段\": \"值\"} (the body must be a JSON "
                             "object of field: text)");
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        char num[32];
        if (k[0] == '_')
            continue; /* _csrf, as a form may send it */
        const char *text;
        if (json_is_string(v))
            text = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), text = num;
        else if (json_is_boolean(v))
            text = json_is_true(v) ? "1" : "0";
        else if (json_is_null(v))
            text = "";
        else
            return gs_http_error(rq, rs, 400, k,
                                 "%.60s: 值应为文字、整数、true/false 或 null (a value must be "
                                 "text, a whole number, true/false or null)",
                                 k);
        gs_form_take(fm, k, text);
    }
    *answered = 0;
    return GS_OK;
}

static int api_save(gs_http_req *rq, gs_http_resp *rs, const gs_rectype *rt, nweb *w,
                    const char *id)
{
    bool create = id == NULL;
    gs_record *cur = create ? NULL : find_or_answer(rq, rs, w, rt, id);
    if (!create && !cur)
        return GS_OK;
    gs_form *fm = gs_form_new(rt, create ? GS_FORM_CREATE : GS_FORM_UPDATE);
    gs_record *rec = gs_record_new(rt);
    if (fm && create)
        nweb_form_entry_presets(fm, rt);
    gs_buf notes = GS_BUF_INIT;
    int rc = fm && rec ? GS_OK : GS_ENOMEM, answered = 0;
    if (!rc)
        rc = take_body(rq, rs, fm, &answered);
    if (!rc && !answered && !create) {
        const char *given = gs_form_taken(fm, rt->key);
        if (given && strcmp(given, gs_record_key(cur)))
            answered = 1, rc = gs_http_error(rq, rs, 400, rt->fields[rt->key].name,
                                             "%s (%s) 不能修改 (an id cannot change)",
                                             rt->fields[rt->key].label_zh, rt->fields[rt->key].name);
        else
            gs_record_set_str(rec, rt->key, gs_record_key(cur));
    }
    if (!rc && !answered && gs_form_parse(fm, rec))
        answered = 1, rc = form_errors(rq, rs, fm, rt, 400);
    if (!rc && !answered && !create) {
        bool any = false;
        for (int i = 0; i < rt->nfields; i++)
            any |= i != rt->key && rec->v[i].state != GS_V_UNSET;
        if (!any)
            answered = 1, rc = gs_http_error(rq, rs, 400, NULL,
                                             "没有要修改的字段 (nothing to change; give at least "
                                             "one field)");
    }
    if (!rc && !answered) {
        gs_errbuf eb = {{0}};
        int src = node_entry_save(w->store, rec, create, &notes, &eb);
        if (src) {
            rc = gs_http_error(rq, rs, nweb_status_of(src), field_name(rt, eb.msg), "%s", eb.msg);
        } else {
            json_t *o = json_pack("{s:o?, s:s}", "record", gs_record_to_json(rec), "notes",
                                  notes.data ? notes.data : "");
            rc = o ? gs_http_json_reply(rs, create ? 201 : 200, o) : GS_ENOMEM;
        }
    }
    gs_buf_free(&notes);
    gs_form_destroy(&fm);
    gs_record_destroy(&rec);
    gs_record_destroy(&cur);
    return rc;
}

/* ---- routes -------------------------------------------------------------------- */

static int on_get(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    const char *id;
    const gs_rectype *rt = type_of(rq, rs, &id);
    if (!rt)
        return GS_OK;
    return id ? api_get(rq, rs, rt, app, id) : api_list(rq, rs, rt, app);
}

static int on_post(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    const char *id;
    const gs_rectype *rt = type_of(rq, rs, &id);
    if (!rt)
        return GS_OK;
    if (id && strchr(id, '/'))
        return gs_http_error(rq, rs, 404, NULL, "没有这个地址 (no such address)");
    return api_save(rq, rs, rt, app, id);
}

/* The session's user and its CSRF token, which a script sends back as the
 * X-CSRF-Token header of every POST. A page of another site cannot read
 * this answer (no CORS), so it learns no token. */
static int on_session(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    json_t *o = json_pack("{s:s?, s:s?, s:s}", "user", gs_http_user(rq), "csrf", gs_http_csrf(rq),
                          "lang", gs_http_lang(rq));
    return o ? gs_http_json_reply(rs, 200, o) : GS_ENOMEM;
}

#define API_TYPE(plural)                                                                           \
    {"GET", "/api/" plural, on_get, 0}, {"POST", "/api/" plural, on_post, 0},                      \
        {"GET", "/api/" plural "/", on_get, GS_ROUTE_PREFIX},                                      \
        {"POST", "/api/" plural "/", on_post, GS_ROUTE_PREFIX}

const gs_http_route nweb_api_routes[] = {
    {"GET", "/api/session", on_session, 0},
    API_TYPE("divisions"),
    API_TYPE("categories"),
    API_TYPE("grids"),
    API_TYPE("incidents"),
    API_TYPE("elections"),
    API_TYPE("candidates"),
    API_TYPE("councils"),
    API_TYPE("members"),
    API_TYPE("affairs"),
    {NULL, NULL, NULL, 0},
};
