/*
 * gridsync/err.h: the one error enum of the project, and the error buffer
 * that carries the human message ("row 7, column 登记选民数: expected a whole
 * number") next to the code.
 *
 * Every fallible function returns an int from gs_err (0 = GS_OK). Functions
 * that can say *where* something went wrong take a gs_errbuf *, which may be
 * NULL when the caller does not want the text. SQLite, ZeroMQ and msgpack
 * errors are mapped to these codes at the module edge; their own message is
 * kept in the buffer.
 */
#ifndef GRIDSYNC_ERR_H
#define GRIDSYNC_ERR_H

#include <stddef.h>

#define GS_ERR_LIST(X)                                                                             \
    X(GS_OK, "ok")                                                                                 \
    X(GS_ENOMEM, "out of memory")                                                                  \
    X(GS_EINVAL, "invalid input")                                                                  \
    X(GS_EMALFORMED, "malformed encoding")                                                         \
    X(GS_ETOOBIG, "size limit exceeded")                                                           \
    X(GS_ETYPE, "wrong type")                                                                      \
    X(GS_EUTF8, "invalid UTF-8")                                                                   \
    X(GS_ERANGE, "value out of range")                                                             \
    X(GS_EREQUIRED, "required field missing")                                                      \
    X(GS_EUNKNOWN, "unknown name")                                                                 \
    X(GS_EVERSION, "unsupported version")                                                          \
    X(GS_ESQL, "database error")                                                                   \
    X(GS_EZMQ, "network error")                                                                    \
    X(GS_EIO, "input/output error")                                                                \
    X(GS_ECHAIN, "hash chain broken")                                                              \
    X(GS_ESCOPE, "outside the writer's scope")                                                     \
    X(GS_ETRANSITION, "status transition not allowed")                                             \
    X(GS_ENOTFOUND, "not found")                                                                   \
    X(GS_EEXIST, "already exists")                                                                 \
    X(GS_EAUTH, "not authorized")                                                                  \
    X(GS_ETIMEOUT, "timed out")                                                                    \
    X(GS_ERULE, "violates a domain rule")

/* Error codes. GS_OK is 0; everything else is an error. */
typedef enum {
#define GS_ERR_ENUM(code, text) code,
    GS_ERR_LIST(GS_ERR_ENUM)
#undef GS_ERR_ENUM
        GS_ERR__COUNT
} gs_err;

/* The static English text of an error code; never NULL. */
const char *gs_strerror(int rc);

/* The stable identifier of an error code ("GS_EMALFORMED"), for the wire
 * (ERROR and REJECTED carry it) and for logs; never NULL. */
const char *gs_errname(int rc);

/* A message buffer for the details of one error. */
#define GS_ERRBUF_MAX 512
typedef struct gs_errbuf {
    char msg[GS_ERRBUF_MAX];
} gs_errbuf;

/* Formats a message into eb (no-op when eb is NULL) and returns rc, so that
 * `return gs_errf(eb, GS_EINVAL, "field %s: ...", name);` reads naturally. */
int gs_errf(gs_errbuf *eb, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in eb with "prefix: ". Returns rc. */
int gs_errprefix(gs_errbuf *eb, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
