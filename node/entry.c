/*
 * entry.c: data entry on the village node (see entry.h).
 *
 * What is the node's own here: scope (a node writes only its village), the
 * generated id, defaults, required fields, and the incident workflow from
 * this PC's side. Everything the rules decide lives in the core: the hard
 * checks of entry and the references are judged by the replica as the change
 * is stored (node_store_put, derive.h), and the derived values (findings,
 * outcomes, violations, closed_at) are computed there from the stored rows,
 * as the hub computes them. This file only reads them back to tell the clerk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "gridsync/derive.h"
#include "gridsync/rules.h"

static gs_committee committee_of_election(const gs_record *e)
{
    int k = gs_record_enum(e, GS_ELECTION_COMMITTEE);
    return k < 0 ? GS_COMMITTEE_VILLAGE : (gs_committee)k;
}

gs_committee node_committee_of(node_store *s, const gs_record *rec)
{
    if (rec->rt->id == GS_RT_ELECTION)
        return committee_of_election(rec);
    gs_record *e = NULL;
    const char *eid = rec->rt->id == GS_RT_CANDIDATE ? gs_record_str(rec, GS_CANDIDATE_ELECTION_ID) : NULL;
    if (!eid || node_store_get(s, gs_rectype_get(GS_RT_ELECTION), eid, &e, NULL) != GS_OK)
        return GS_COMMITTEE_VILLAGE;
    gs_committee c = committee_of_election(e);
    gs_record_destroy(&e);
    return c;
}

void node_describe_findings(const char *findings, gs_committee committee, gs_buf *b)
{
    gs_findset set;
    if (!findings || gs_findset_parse(findings, &set) != 0)
        return;
    for (int f = 1; f < GS_FIND__COUNT; f++) {
        if (!(set & GS_FINDBIT(f)))
            continue;
        const gs_finding_info *fi = gs_finding_cite((gs_finding)f, committee);
        gs_buf_printf(b, "  ! %s [%s", fi->zh, fi->name);
        if (fi->law[0])
            gs_buf_printf(b, "; %s%s%s%s%s", fi->law, fi->version[0] ? "(" : "", fi->version,
                          fi->version[0] ? ")" : "", fi->article);
        gs_buf_puts(b, "]\n");
    }
}

/* ---- scope ------------------------------------------------------------------ */

static int check_scope(node_store *s, gs_record *rec, gs_errbuf *eb)
{
    const char *mine = node_store_identity(s)->village;
    if (rec->rt->reference)
        return gs_errf(eb, GS_EAUTH, "%s is reference data; only the city (hub) may change it",
                       rec->rt->label_zh);
    const char *v = gs_record_scope(rec);
    if (!v)
        return gs_record_set_str(rec, rec->rt->scope, mine);
    if (strcmp(v, mine))
        return gs_errf(eb, GS_ESCOPE,
                       "村社区代码 (village_code) %s is not this node's village %s; a node records "
                       "only its own village",
                       v, mine);
    return GS_OK;
}

/* Derived values are computed where the change is stored, never taken from
 * what the user typed or a file held. */
static void drop_derived(gs_record *rec)
{
    for (int i = 0; i < rec->rt->nfields; i++)
        if (gs_derived_field(rec->rt, i) && rec->v[i].state != GS_V_UNSET)
            gs_record_unset(rec, i);
}

static void now_datetime(gs_record *r, int f)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gs_record_parse(r, f, text, NULL);
}

/* ---- after the store: what the rules said --------------------------------- */

/* Copies the stored row of rec (derived values included) into rec and
 * describes its findings to the clerk. */
static int read_back(node_store *s, gs_record *rec, gs_buf *notes, gs_errbuf *eb)
{
    gs_record *stored = NULL;
    int rc = node_store_get(s, rec->rt, gs_record_key(rec), &stored, eb);
    if (rc)
        return rc;
    gs_record_clear(rec);
    gs_record_merge(rec, stored);
    gs_record_destroy(&stored);
    if (!notes)
        return GS_OK;
    switch (rec->rt->id) {
    case GS_RT_CANDIDATE: {
        const char *out = gs_record_str(rec, GS_CANDIDATE_OUTCOME);
        gs_committee k = node_committee_of(s, rec);
        gs_buf_printf(notes, "候选人 %s: %s\n", gs_record_str(rec, GS_CANDIDATE_NAME),
                      out ? gs_enum_zh(&rec->rt->fields[GS_CANDIDATE_OUTCOME], out)
                          : "(等待选举数据)");
        node_describe_findings(gs_record_str(rec, GS_CANDIDATE_FINDINGS), k, notes);
        gs_record *e = NULL;
        if (node_store_get(s, gs_rectype_get(GS_RT_ELECTION),
                           gs_record_str(rec, GS_CANDIDATE_ELECTION_ID), &e, NULL) != GS_OK)
            return GS_OK;
        rc = read_back(s, e, notes, eb);
        gs_record_destroy(&e);
        return rc;
    }
    case GS_RT_ELECTION:
        gs_buf_printf(notes, "选举 %s: 当选 %lld 人, 空缺 %lld 名\n", gs_record_key(rec),
                      (long long)gs_record_int(rec, GS_ELECTION_ELECTED, 0),
                      (long long)gs_record_int(rec, GS_ELECTION_UNFILLED, 0));
        node_describe_findings(gs_record_str(rec, GS_ELECTION_FINDINGS),
                               committee_of_election(rec), notes);
        return GS_OK;
    case GS_RT_AFFAIR: {
        gs_record *council = NULL;
        node_describe_findings(gs_record_str(rec, GS_AFFAIR_VIOLATIONS), GS_COMMITTEE_VILLAGE, notes);
        if (gs_replica_village_council(node_store_replica(s), gs_record_scope(rec), &council,
                                       NULL) == GS_OK &&
            !council)
            gs_buf_puts(notes, "  (本村尚未登记红白理事会, 未对照标准检查)\n");
        gs_record_destroy(&council);
        return GS_OK;
    }
    default: return GS_OK;
    }
}

/* A refused entry says that nothing of it was stored. */
static int refused(int rc, gs_errbuf *eb)
{
    if (rc == GS_ERULE && eb && !strstr(eb->msg, "not saved")) {
        gs_errbuf why = *eb;
        gs_errf(eb, rc, "%.*s; the entry was not saved (未保存)", (int)(GS_ERRBUF_MAX - 48),
                why.msg);
    }
    return rc;
}

/* ---- entry ---------------------------------------------------------------------- */

int node_entry_create(node_store *s, gs_record *rec, gs_buf *notes, gs_errbuf *eb)
{
    int rc = check_scope(s, rec, eb);
    if (rc)
        return rc;
    drop_derived(rec);
    if (!gs_record_key(rec)) {
        if (!(rec->rt->fields[rec->rt->key].flags & GS_F_GENERATED))
            return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required",
                           rec->rt->fields[rec->rt->key].label_zh,
                           rec->rt->fields[rec->rt->key].name);
        char id[37];
        node_store_new_id(s, id);
        gs_record_set_str(rec, rec->rt->key, id);
    } else {
        gs_record *old = NULL;
        if (node_store_get(s, rec->rt, gs_record_key(rec), &old, NULL) == GS_OK) {
            gs_record_destroy(&old);
            return gs_errf(eb, GS_EEXIST, "%s %s already exists; use update", rec->rt->label_zh,
                           gs_record_key(rec));
        }
    }
    if (rec->rt->id == GS_RT_INCIDENT && !gs_record_has(rec, GS_INCIDENT_REPORTED_AT))
        now_datetime(rec, GS_INCIDENT_REPORTED_AT);
    gs_record_apply_defaults(rec);
    if ((rc = gs_record_check(rec, GS_CHECK_COMPLETE, eb)))
        return rc;
    if ((rc = node_store_put(s, rec, GS_OP_UPSERT, eb)))
        return refused(rc, eb);
    return read_back(s, rec, notes, eb);
}

int node_entry_update(node_store *s, gs_record *edit, gs_buf *notes, gs_errbuf *eb)
{
    const char *key = gs_record_key(edit);
    if (!key)
        return gs_errf(eb, GS_EREQUIRED, "which record? the id is required");
    gs_record *full = NULL;
    int rc = node_store_get(s, edit->rt, key, &full, eb);
    if (rc)
        return rc;
    const char *scope = gs_record_scope(edit);
    if (scope && strcmp(scope, gs_record_scope(full))) {
        gs_record_destroy(&full);
        return gs_errf(eb, GS_ESCOPE, "a record cannot move to another village");
    }
    drop_derived(edit);
    if (edit->rt->id == GS_RT_INCIDENT && gs_record_has(edit, GS_INCIDENT_STATUS) &&
        (rc = gs_incident_transition(gs_record_str(full, GS_INCIDENT_STATUS),
                                     gs_record_str(edit, GS_INCIDENT_STATUS), GS_ACTOR_VILLAGE,
                                     eb))) {
        gs_record_destroy(&full);
        return rc;
    }
    /* A record that came here incomplete: another PC's later edit, and not
     * yet its creation (which a hub restored from a backup can send in that
     * order). The next sync brings the rest. */
    bool partial = gs_record_check(full, GS_CHECK_COMPLETE, NULL) != GS_OK;
    gs_record_merge(full, edit);
    gs_record_set_str(edit, edit->rt->scope, gs_record_scope(full));
    if ((rc = gs_record_check(full, GS_CHECK_COMPLETE, eb))) {
        if (partial)
            gs_errprefix(eb, rc,
                         "%s %s 在本机还不完整：只收到了其他电脑后来的修改，还没收到它的登记；"
                         "请先同步 (gridnode sync)，再修改 (this PC has only later edits of the "
                         "record, not its creation yet; sync first)",
                         edit->rt->label_zh, key);
        gs_record_destroy(&full);
        return rc;
    }
    gs_record_destroy(&full);
    /* the change records what the user set, even a value it already had:
     * an edit is a fact of the history */
    if ((rc = node_store_put(s, edit, GS_OP_UPSERT, eb)))
        return refused(rc, eb);
    return read_back(s, edit, notes, eb);
}

int node_entry_save(node_store *s, gs_record *rec, bool create, gs_buf *notes, gs_errbuf *eb)
{
    int rc = node_store_begin(s, eb);
    if (rc)
        return rc;
    rc = create ? node_entry_create(s, rec, notes, eb) : node_entry_update(s, rec, notes, eb);
    if (!rc)
        rc = node_store_commit(s, eb);
    else
        node_store_rollback(s);
    return rc;
}
