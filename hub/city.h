/*
 * hub/city.h: writes made by the city itself (reference data, decisions on
 * incidents): changes with the hub as origin, numbered and chained like any
 * node's, appended to the log and applied by the same replica rules, and
 * delivered downstream to the villages they concern.
 */
#ifndef HUB_CITY_H
#define HUB_CITY_H

#include "gridsync/record.h"
#include "store.h"

/* Appends one city change inside an open transaction (hub_store_begin).
 * rec holds the fields to set (key, and scope for village data). */
int hub_city_put(hub_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb);

/* Puts only the fields of want that differ from the stored record (all of
 * them when it does not exist). *changed tells whether anything was written. */
int hub_city_put_diff(hub_store *s, const gs_record *want, bool *changed, gs_errbuf *eb);

#endif
