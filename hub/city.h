/*
 * hub/city.h: writes made by the city itself (reference data, decisions on
 * incidents): changes with the hub as origin, numbered and chained like any
 * node's, appended to the log and applied by the same replica rules, and
 * delivered downstream to the villages they concern.
 *
 * The chain they go on is "hub", or after a restore from a backup a new one,
 * "hub.N-XXXXXXXX" (see city.c): the city never gives a number twice.
 */
#ifndef HUB_CITY_H
#define HUB_CITY_H

#include "gridsync/record.h"
#include "store.h"

/* Appends one city change inside an open transaction (hub_store_begin).
 * rec holds the fields to set (key, and scope for village data). */
int hub_city_put(hub_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb);

/* The city's keyed chain hash (see city.c): out = BLAKE2b keyed with the
 * hub's own key over prev || body. GS_ENOTFOUND when the hub has no key
 * (it never wrote a city change since it had one). */
int hub_city_chain_next(hub_store *s, const uint8_t prev[GS_HASH_LEN], const void *body,
                        size_t len, uint8_t out[GS_HASH_LEN], gs_errbuf *eb);

/* Inside a transaction: closes the city's current chain if it is origin (a
 * village holds changes of it that this database lacks, so it was restored
 * from a copy), so that the next city change starts a new one. */
int hub_city_close_chain(hub_store *s, const char *origin, gs_errbuf *eb);

/* Puts only the fields of want that differ from the stored record (all of
 * them when it does not exist). *changed tells whether anything was written. */
int hub_city_put_diff(hub_store *s, const gs_record *want, bool *changed, gs_errbuf *eb);

/* ---- decisions and 上级交办 (city_decide.c): whole writes, each in its own
 * transaction, for `gridhub TYPE update` and the city's pages alike ---- */

/* A city decision on a village's record: edit holds the fields to set; its
 * key and village are taken from cur (the stored record). An incident's
 * status follows the workflow table for the city (gs_incident_transition
 * with GS_ACTOR_CITY: GS_ETRANSITION with the core's message); the record
 * with the edit merged must be complete (gs_record_check); then one city
 * change, judged by the store as a village's would be (hub_store_append),
 * in its own transaction. On any error nothing is written. */
int hub_city_decide(hub_store *s, const gs_record *cur, gs_record *edit, gs_errbuf *eb);

/* 上级交办: a record the city makes for a village. rec holds the fields
 * given with its village set (a village of the reference data, else
 * GS_ESCOPE); the id is generated as the PCs make theirs (gs_hlc_new_id),
 * an incident's reported_at is now when not given, the defaults are applied
 * and the record must be complete; then one city change in its own
 * transaction, judged like a village's (references, the hard checks of
 * derive.h): it reaches the village at its next sync. On success rec holds
 * the id; on any error nothing is written. */
int hub_city_create(hub_store *s, gs_record *rec, gs_errbuf *eb);

#endif
