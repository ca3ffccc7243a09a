/*
 * hub/server.h: the sync server: one ZeroMQ ROUTER socket, one event loop on
 * zmq_poll, CURVE with a ZAP handler that admits only enabled registered
 * keys, and group commit of the pushes that arrive together.
 */
#ifndef HUB_SERVER_H
#define HUB_SERVER_H

#include <signal.h>
#include <stdbool.h>

#include "gridsync/msg.h"
#include "store.h"

typedef struct hub_server_config {
    const char *bind;      /* e.g. tcp://0.0.0.0:7700 or ipc://PATH */
    bool insecure;         /* plaintext, loopback/ipc only */
    char public_key[41];   /* the hub's CURVE key pair (Z85) */
    char secret_key[41];
    gs_limits limits;
    size_t inflight_bytes; /* change bytes all nodes together may have in flight; 0: default */
    int verbose;           /* 0 quiet, 1 connections, 2 every batch */
} hub_server_config;

/* The default of hub_server_config.inflight_bytes (gridhub serve --inflight-mib). */
#define HUB_INFLIGHT_DEFAULT (8u << 20)

/* Serves until *stop becomes non-zero (set it from a SIGINT/SIGTERM handler);
 * then finishes the commit in progress, answers it and returns. */
int hub_serve(hub_store *store, const hub_server_config *cfg, volatile sig_atomic_t *stop,
              gs_errbuf *eb);

#endif
