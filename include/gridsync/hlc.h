/*
 * gridsync/hlc.h: the hybrid logical clock.
 *
 * A timestamp is 64 bits: the high 48 are milliseconds since the Unix epoch,
 * the low 16 a counter. It never goes backwards on one replica and always
 * exceeds every timestamp the replica has seen, so a village PC whose clock is
 * a day slow still orders its edits after the city's edits it has received.
 * Wall clocks are read by the caller and passed in, so the rules are pure and
 * testable.
 */
#ifndef GRIDSYNC_HLC_H
#define GRIDSYNC_HLC_H

#include <stdint.h>

typedef uint64_t gs_hlc;

#define GS_HLC_MS(h)        ((uint64_t)(h) >> 16)
#define GS_HLC_COUNTER(h)   ((uint64_t)(h)&0xffffu)
#define GS_HLC_MAKE(ms, ctr) (((uint64_t)(ms) << 16) | ((uint64_t)(ctr)&0xffffu))

/* The timestamp of a local event (a write, or sending a message): greater
 * than last, and at least the wall clock. */
gs_hlc gs_hlc_tick(gs_hlc last, uint64_t wall_ms);
/* The clock after receiving a remote timestamp: greater than both last and
 * remote, and at least the wall clock. */
gs_hlc gs_hlc_recv(gs_hlc last, gs_hlc remote, uint64_t wall_ms);
/* The current wall clock in milliseconds since the epoch. */
uint64_t gs_wall_ms(void);
/* A new record id, as both programs make them (a record created on a PC,
 * an incident the city hands to a village): a UUID version 7 whose time is
 * h's milliseconds and the rest random ("0193a5c2-7e4f-7abc-9d01-…"), so
 * ids made later sort later. */
void gs_hlc_new_id(gs_hlc h, char out[37]);
/* Appends "2026-11-28T22:05:07.123+08:00" for the physical part of h. */
struct gs_buf;
void gs_hlc_format(gs_hlc h, struct gs_buf *b);

#endif
