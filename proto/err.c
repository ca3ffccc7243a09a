/*
 * err.c: error texts from one table, and the error-buffer helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gridsync/err.h"

static const struct {
    const char *name;
    const char *text;
} err_table[GS_ERR__COUNT] = {
#define GS_ERR_ROW(code, text) {#code, text},
    GS_ERR_LIST(GS_ERR_ROW)
#undef GS_ERR_ROW
};

const char *gs_strerror(int rc)
{
    if (rc < 0 || rc >= GS_ERR__COUNT)
        return "unknown error";
    return err_table[rc].text;
}

const char *gs_errname(int rc)
{
    if (rc < 0 || rc >= GS_ERR__COUNT)
        return "GS_EUNKNOWN";
    return err_table[rc].name;
}

int gs_errf(gs_errbuf *eb, int rc, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Truncating a long message to the buffer is intended: the start says where. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
int gs_errprefix(gs_errbuf *eb, int rc, const char *fmt, ...)
{
    if (eb) {
        char prefix[GS_ERRBUF_MAX], old[GS_ERRBUF_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, eb->msg, sizeof old);
        old[sizeof old - 1] = '\0';
        if (old[0])
            snprintf(eb->msg, sizeof eb->msg, "%s: %s", prefix, old);
        else
            snprintf(eb->msg, sizeof eb->msg, "%s: %s", prefix, gs_strerror(rc));
    }
    return rc;
}
