/*
 * node/web/pages.h: what the 换届选举, 红白理事会, 导入导出 and 同步 pages
 * share beyond web.h: reading a record's fields by name, showing a value or
 * a set of findings (with the law each rests on) as escaped HTML, gathering
 * the records of a type, the village's name.
 *
 * Everything here runs on the server's thread with the desk's one store
 * connection (web.h), except pg_finding_json and the formatting helpers,
 * which are pure.
 */
#ifndef NODE_WEB_PAGES_H
#define NODE_WEB_PAGES_H

#include <jansson.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/record.h"
#include "gridsync/rules.h"
#include "store.h"
#include "web.h"

/* A text field's value (NULL when unset) and an integer's (def when unset):
 * gs_record_str and gs_record_int, named short for the pages. f is the
 * field's constant (schema.h: GS_ELECTION_VOTED ...). */
static inline const char *pg_str(const gs_record *r, int f)
{
    return gs_record_str(r, f);
}
static inline int64_t pg_int(const gs_record *r, int f, int64_t def)
{
    return gs_record_int(r, f, def);
}

/* Appends field f of r as a person reads it (enums in Chinese, 是/否),
 * HTML-escaped; nothing when it has no value. */
void pg_display(gs_buf *b, const gs_record *r, int f);

/* Appends findings ("A;B", as stored) as a list: each one's Chinese text
 * and the law, version and article it rests on for an election of kind c
 * (gs_finding_cite); "无" when there are none. */
void pg_findings_html(gs_buf *b, const char *findings, gs_committee c);
/* "《村民委员会组织法》(2018-12-29) 第十五条" for finding f under kind c,
 * into b (plain text); nothing when the finding rests on no law. */
void pg_cite(gs_buf *b, gs_finding f, gs_committee c);
/* {"code", "zh", "law", "version", "article", "cite", "severity"} of f. */
json_t *pg_finding_json(gs_finding f, gs_committee c);

/* Records of one type, in id order. */
typedef struct pg_list {
    gs_record **v;
    size_t n, cap;
} pg_list;
/* Every live record of rt, or only those whose field f has the text value
 * (f < 0: all). */
int pg_collect(node_store *s, const gs_rectype *rt, int f, const char *value, pg_list *out,
               gs_errbuf *eb);
void pg_list_free(pg_list *l);

/* The village's name (its division's), else the node's name, else its code. */
void pg_village_name(node_store *s, char *out, size_t cap);

/* The figures of an election the sheet and the record page show, in
 * order, ending with -1 (elections.c). */
extern const int pg_election_cells[];
/* The record page of a stored election e and its candidates c. */
int pg_election_page(gs_http_req *rq, gs_http_resp *rs, const gs_record *e, const pg_list *c);
/* The A4 选举结果报告单 of e and c: a page of its own, print.css for paper. */
int pg_election_print(gs_http_resp *rs, nweb *w, const gs_record *e, const pg_list *c);

/* Where the page of a record just saved is ("/council/ID"), into path. */
typedef void (*pg_after_save_fn)(const gs_record *rec, char *path, size_t cap);
/* GET or POST of the form of rt on tab: cur is the record edited (NULL: a
 * new one; the caller keeps it), field preset_field (< 0: none) starts as
 * preset. A POST saved redirects to after_save's path; one refused shows
 * the form again with what was typed and each message beside its field. */
int pg_form_handler(gs_http_req *rq, gs_http_resp *rs, nweb *w, nweb_tab tab,
                    const gs_rectype *rt, const gs_record *cur, const char *action,
                    int preset_field, const char *preset, pg_after_save_fn after_save);
/* The record of rt whose id is the request's tail up to a '/', in *out
 * (the caller's); *what: the rest of the tail. 0, or 1 with a 404 answered
 * when there is none. */
int pg_load(gs_http_req *rq, gs_http_resp *rs, nweb *w, const gs_rectype *rt, gs_record **out,
            const char **what);

/* The desk of a handler's app pointer. */
static inline nweb *pg_web(void *app)
{
    return app;
}

#endif
