/*
 * city_decide.c: the city's whole writes on village data (city.h): a
 * decision on a record (`gridhub TYPE update`, the buttons of the city's
 * queue) and a record made for a village (上级交办). One function each, so
 * that the command line and the pages check the same things and write the
 * same change.
 */
#include <string.h>

#include "city.h"
#include "gridsync/hlc.h"
#include "gridsync/rules.h"

/* Writes rec as one city change in its own transaction; rolled back on error. */
static int put_one(hub_store *s, const gs_record *rec, gs_errbuf *eb)
{
    int rc = hub_store_begin(s, eb);
    if (!rc)
        rc = hub_city_put(s, rec, GS_OP_UPSERT, eb);
    if (!rc)
        rc = hub_store_commit(s, eb);
    if (rc)
        hub_store_rollback(s);
    return rc;
}

int hub_city_decide(hub_store *s, const gs_record *cur, gs_record *edit, gs_errbuf *eb)
{
    const gs_rectype *rt = cur->rt;
    gs_record_set_str(edit, rt->key, gs_record_key(cur));
    if (rt->scope >= 0)
        gs_record_set_str(edit, rt->scope, gs_record_scope(cur));
    int fs = GS_INCIDENT_STATUS;
    int rc = GS_OK;
    if (rt->id == GS_RT_INCIDENT && gs_record_has(edit, fs))
        rc = gs_incident_transition(gs_record_str(cur, fs), gs_record_str(edit, fs), GS_ACTOR_CITY,
                                    eb);
    gs_record *full = rc ? NULL : gs_record_dup(cur);
    if (!rc && !full)
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc && gs_record_merge(full, edit))
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    if (!rc)
        rc = gs_record_check(full, GS_CHECK_COMPLETE, eb);
    gs_record_destroy(&full);
    return rc ? rc : put_one(s, edit, eb);
}

/* True when code is a village of the reference data. */
static bool is_village(hub_store *s, const char *code)
{
    const gs_rectype *dt = gs_rectype_get(GS_RT_DIVISION);
    gs_record *d = NULL;
    if (!code || gs_replica_get(hub_store_replica(s), dt, code, &d, NULL) != GS_OK)
        return false;
    const char *level = gs_record_str(d, GS_DIVISION_LEVEL);
    bool ok = level && !strcmp(level, "village");
    gs_record_destroy(&d);
    return ok;
}

int hub_city_create(hub_store *s, gs_record *rec, gs_errbuf *eb)
{
    const gs_rectype *rt = rec->rt;
    if (rt->scope < 0)
        return gs_errf(eb, GS_EINVAL, "%s (%s) 不属于村 (is not village data)", rt->label_zh,
                       rt->name);
    const char *village = gs_record_scope(rec);
    if (!is_village(s, village))
        return gs_errf(eb, GS_ESCOPE, "%s (%s) %s: 不是本市的村 (not a village of the city)",
                       rt->fields[rt->scope].label_zh, rt->fields[rt->scope].name,
                       village ? village : "");
    if (!gs_record_key(rec)) {
        if (!(rt->fields[rt->key].flags & GS_F_GENERATED))
            return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required", rt->fields[rt->key].label_zh,
                           rt->fields[rt->key].name);
        char id[37];
        gs_hlc_new_id(gs_hlc_tick((gs_hlc)hub_store_meta_int(s, HUB_META_HLC, 0), gs_wall_ms()),
                      id);
        gs_record_set_str(rec, rt->key, id);
    } else {
        gs_record *old = NULL;
        if (gs_replica_get(hub_store_replica(s), rt, gs_record_key(rec), &old, NULL) == GS_OK) {
            gs_record_destroy(&old);
            return gs_errf(eb, GS_EEXIST, "%s %s already exists", rt->label_zh, gs_record_key(rec));
        }
    }
    int f = GS_INCIDENT_REPORTED_AT;
    if (rt->id == GS_RT_INCIDENT && !gs_record_has(rec, f)) {
        gs_buf now = GS_BUF_INIT;
        gs_datetime_from_ms((int64_t)gs_wall_ms(), &now);
        int rc = now.data ? gs_record_parse(rec, f, now.data, eb)
                          : gs_errf(eb, GS_ENOMEM, "out of memory");
        gs_buf_free(&now);
        if (rc)
            return rc;
    }
    gs_record_apply_defaults(rec);
    int rc = gs_record_check(rec, GS_CHECK_COMPLETE, eb);
    return rc ? rc : put_one(s, rec, eb);
}
