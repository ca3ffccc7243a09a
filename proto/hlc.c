/*
 * hlc.c: the hybrid logical clock rules (Kulkarni et al., 2014), on 48 bits
 * of milliseconds and a 16-bit counter.
 *
 * Invariant: every timestamp returned is strictly greater than `last` (and
 * than `remote` on receive). When the counter would overflow, the logical
 * millisecond is advanced instead, so the ordering never breaks.
 */
#include <inttypes.h>
#include <time.h>

#include <sodium.h>

#include "gridsync/buf.h"
#include "gridsync/hlc.h"

/* Smallest timestamp strictly greater than h. */
static gs_hlc successor(gs_hlc h)
{
    if (GS_HLC_COUNTER(h) == 0xffff)
        return GS_HLC_MAKE(GS_HLC_MS(h) + 1, 0);
    return h + 1;
}

gs_hlc gs_hlc_tick(gs_hlc last, uint64_t wall_ms)
{
    gs_hlc wall = GS_HLC_MAKE(wall_ms, 0);
    return wall > last ? wall : successor(last);
}

gs_hlc gs_hlc_recv(gs_hlc last, gs_hlc remote, uint64_t wall_ms)
{
    gs_hlc max = last > remote ? last : remote;
    return gs_hlc_tick(max, wall_ms);
}

uint64_t gs_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void gs_hlc_format(gs_hlc h, gs_buf *b)
{
    uint64_t ms = GS_HLC_MS(h);
    time_t t = (time_t)(ms / 1000) + 8 * 3600; /* China time */
    struct tm tm;
    gmtime_r(&t, &tm);
    gs_buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03u+08:00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

void gs_hlc_new_id(gs_hlc h, char out[37])
{
    uint64_t ms = GS_HLC_MS(h);
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f)); /* version 7 */
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}
