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
 *   node_public_key = <40 Z85 characters>
 *   node_secret_key = <40 Z85 characters>      (absent for self-enrolled nodes)
 */
#ifndef GRIDSYNC_BUNDLE_H
#define GRIDSYNC_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

#define GS_BUNDLE_FORMAT "gridsync-bundle-1"
#define GS_BUNDLE_MAX_BYTES 8192

typedef struct gs_bundle {
    char node_id[65];
    char village[13];
    char name[101];
    char hub_endpoint[256];
    char hub_public_key[41];
    char node_public_key[41];
    char node_secret_key[41]; /* "" when not included */
} gs_bundle;

/* Parses a bundle; every error names the line and the key. Missing keys,
 * unknown keys, repeated keys, malformed keys and values, and truncation
 * (a bundle missing its last required lines) are errors. */
int gs_bundle_parse(const char *text, size_t len, gs_bundle *out, gs_errbuf *eb);
/* Appends the bundle text. */
void gs_bundle_format(const gs_bundle *b, gs_buf *out);
/* True if s is a 40-character Z85 CURVE key. */
bool gs_z85_key_valid(const char *s);
/* True if s is a 12-digit code. */
bool gs_village_code_valid(const char *s);
/* True if s is tcp://HOST:PORT or ipc://PATH. */
bool gs_endpoint_valid(const char *s);

#endif
