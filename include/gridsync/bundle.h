/*
 * gridsync/bundle.h: the node bundle, the text file the city gives a village
 * to install its node: who it is, which village it may write, how to reach
 * and authenticate the hub, and (unless the node made its own key pair) its
 * CURVE key pair. Format: UTF-8 lines "key = value"; '#' starts a comment.
 *
 *   format = gridsync-bundle-1
 *   node_id = 411122101201-1
 *   village = 411122101201
 *   name = 繁城回族镇 第一村
 *   hub_endpoint = tcp://hub.example:7700
 *   hub_public_key = <40 Z85 characters>
 *   reference_rows = 28                        (absent in bundles without them)
 *   division = 411100,漯河市,city,410000,
 *   category = dispute.land,土地/宅基地纠纷,Land or homestead dispute,dispute
 *   ...
 *   node_public_key = <40 Z85 characters>
 *   node_secret_key = <40 Z85 characters>      (absent for self-enrolled nodes)
 *
 * Reference rows: the reference data a node needs before its first sync
 * (every incident category, and the divisions of its village and of the
 * township, county and city above it), so that entry checks them from the
 * start. A row is `TYPE = CSV row`, TYPE a reference record type (division,
 * category) and the row's columns those of `gridhub refdata load TYPE`
 * (gs_schema_csv_header, English), each cell parsed and checked by the field
 * table like any other input. reference_rows says how many rows follow, so a
 * bundle that lost rows is refused; rows come before the node's keys, so a
 * bundle cut short anywhere lacks a required key. Bundles written before
 * reference rows existed (no reference_rows, no rows) stay valid.
 */
#ifndef GRIDSYNC_BUNDLE_H
#define GRIDSYNC_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"
#include "gridsync/record.h"

#define GS_BUNDLE_FORMAT "gridsync-bundle-1"
/* Limits; a bundle over either is refused with GS_ETOOBIG. */
#define GS_BUNDLE_MAX_BYTES (256 * 1024) /* the whole file */
#define GS_BUNDLE_MAX_LINE 4096          /* one line, "key = value" */
#define GS_BUNDLE_MAX_ROWS 2000          /* reference rows */

typedef struct gs_bundle {
    char node_id[65];
    char village[13];
    char name[101];
    char hub_endpoint[256];
    char hub_public_key[41];
    char node_public_key[41];
    char node_secret_key[41]; /* "" when not included */
    size_t reference_rows;    /* reference rows in the bundle; 0 in older bundles */
} gs_bundle;

/* Parses a bundle; every error names the line and the key. Missing keys,
 * unknown keys, repeated keys, malformed keys and values, reference rows
 * that do not parse or check, a reference_rows count that is not the number
 * of rows, and truncation (a bundle missing its last required lines) are
 * errors. On error *out is zeroed. */
int gs_bundle_parse(const char *text, size_t len, gs_bundle *out, gs_errbuf *eb);

/* Called by gs_bundle_parse_rows for each reference row, in file order. rec
 * is borrowed: valid during the call only. A non-zero return (with eb set)
 * stops the parse, which returns it. */
typedef int (*gs_bundle_row_fn)(const gs_record *rec, void *arg, gs_errbuf *eb);

/* gs_bundle_parse that also hands every reference row to fn (may be NULL).
 * fn sees rows before the whole bundle is checked: parse once without fn
 * first when acting on the rows of a bundle that may yet be refused. */
int gs_bundle_parse_rows(const char *text, size_t len, gs_bundle *out, gs_bundle_row_fn fn,
                         void *arg, gs_errbuf *eb);

/* Appends the bundle text, without reference rows. */
void gs_bundle_format(const gs_bundle *b, gs_buf *out);
/* Appends the bundle text with the n reference rows (division or category
 * records; b->reference_rows is ignored, n is written). */
void gs_bundle_format_rows(const gs_bundle *b, const gs_record *const *rows, size_t n,
                           gs_buf *out);
/* True if s is a 40-character Z85 CURVE key. */
bool gs_z85_key_valid(const char *s);
/* True if s is a 12-digit code. */
bool gs_village_code_valid(const char *s);
/* True if s is tcp://HOST:PORT or ipc://PATH. */
bool gs_endpoint_valid(const char *s);

#endif
