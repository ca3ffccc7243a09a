/*
 * test_msg.c: the wire-message codec (proto/msg.c).
 *
 * The test keeps its own description of the protocol (spec[] below: which
 * keys each message type has, their kinds, which are required), written
 * from DESIGN.md and msg.h rather than copied from msg.c's table, and builds
 * hostile frames from it byte by byte with the msgpack writer: every field
 * omitted, duplicated or given the wrong kind, foreign keys, wrong versions,
 * unknown types, oversized strings and bodies, too many changes, headers
 * claiming 2^32-1 elements, deep nesting, invalid UTF-8, trailing bytes and
 * frames over the limit. Every failure is checked for its error code, for a
 * message naming the type and field, and for a cleared gs_msg. Sample
 * messages of every type round-trip, and are cut at every byte offset.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/mpack.h"
#include "gridsync/msg.h"
#include "gstest.h"

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

/* ---- helpers --------------------------------------------------------- */

static const gs_msg zero_msg;

/* Decodes b and expects failure with rc, an error text containing needle
 * (if given) and a cleared message. */
static void expect_fail_lim(const gs_buf *b, const gs_limits *lim, int rc, const char *needle)
{
    gs_msg m;
    memset(&m, 0x5a, sizeof m); /* decode must not rely on the caller zeroing */
    m.changes = NULL;
    m.nchanges = 0;
    gs_errbuf eb = {{0}};
    int got = gs_msg_decode(b->data, b->len, lim, &m, &eb);
    ck_assert_msg(got == rc, "want %s, got %s (%s)", gs_errname(rc), gs_errname(got), eb.msg);
    ck_assert_msg(eb.msg[0] != '\0', "no error text");
    if (needle)
        ck_assert_msg(strstr(eb.msg, needle), "error text \"%s\" does not name \"%s\"", eb.msg,
                      needle);
    ck_assert_msg(!memcmp(&m, &zero_msg, sizeof m), "message not cleared after an error");
}

static void expect_fail(const gs_buf *b, int rc, const char *needle)
{
    expect_fail_lim(b, NULL, rc, needle);
}

/* A cut frame: GS_EMALFORMED (read past the end) or GS_ETOOBIG (a header
 * claims more than is left), named after the type once it is known. */
static void expect_cut_fails(const gs_buf *b, const char *type)
{
    gs_msg m;
    gs_errbuf eb = {{0}};
    int rc = gs_msg_decode(b->data, b->len, NULL, &m, &eb);
    ck_assert_msg(rc == GS_EMALFORMED || rc == GS_ETOOBIG, "cut at %zu: got %s (%s)", b->len,
                  gs_errname(rc), eb.msg);
    ck_assert_msg(!strncmp(eb.msg, "message", 7) || !strncmp(eb.msg, type, strlen(type)),
                  "cut at %zu: \"%s\" names neither the message nor %s", b->len, eb.msg, type);
    ck_assert_msg(!memcmp(&m, &zero_msg, sizeof m), "message not cleared after an error");
}

static void expect_ok(const gs_buf *b, gs_msg *m)
{
    gs_errbuf eb = {{0}};
    int rc = gs_msg_decode(b->data, b->len, NULL, m, &eb);
    ck_assert_msg(rc == GS_OK, "decode failed: %s: %s", gs_errname(rc), eb.msg);
}

static void fill_hash(uint8_t h[GS_HASH_LEN], uint8_t seed)
{
    for (int k = 0; k < GS_HASH_LEN; k++)
        h[k] = (uint8_t)(seed + k * 7);
}

/* Field-by-field equality, so that a failure names the field. */
static void assert_msg_eq(const gs_msg *a, const gs_msg *b)
{
    ck_assert_int_eq(a->type, b->type);
    ck_assert_uint_eq(a->version, b->version);
    ck_assert_str_eq(a->node_id, b->node_id);
    ck_assert_str_eq(a->software, b->software);
    ck_assert_uint_eq(a->pending, b->pending);
    ck_assert_uint_eq(a->hub_seq_seen, b->hub_seq_seen);
    ck_assert_uint_eq(a->node_time, b->node_time);
    ck_assert_uint_eq(a->acked_through, b->acked_through);
    ck_assert_uint_eq(a->hub_time, b->hub_time);
    ck_assert_uint_eq(a->hub_wall, b->hub_wall);
    ck_assert_uint_eq(a->hub_seq_head, b->hub_seq_head);
    ck_assert_mem_eq(a->chain_head, b->chain_head, GS_HASH_LEN);
    ck_assert_uint_eq(a->first_seq, b->first_seq);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_uint_eq(a->since, b->since);
    ck_assert_uint_eq(a->next, b->next);
    ck_assert(a->more == b->more);
    ck_assert_mem_eq(a->log_hash, b->log_hash, GS_HASH_LEN);
    ck_assert(a->rewound == b->rewound);
    ck_assert_str_eq(a->code, b->code);
    ck_assert_str_eq(a->text, b->text);
    ck_assert(a->verify == b->verify);
    ck_assert_str_eq(a->origin, b->origin);
    ck_assert_uint_eq(a->nheads, b->nheads);
    for (size_t i = 0; i < a->nheads; i++) {
        ck_assert_str_eq(a->heads[i].origin, b->heads[i].origin);
        ck_assert_uint_eq(a->heads[i].seq, b->heads[i].seq);
        ck_assert_mem_eq(a->heads[i].hash, b->heads[i].hash, GS_HASH_LEN);
        ck_assert_uint_eq(a->heads[i].count, b->heads[i].count);
        ck_assert_mem_eq(a->heads[i].digest, b->heads[i].digest, GS_HASH_LEN);
    }
    ck_assert_uint_eq(a->nchanges, b->nchanges);
    for (size_t i = 0; i < a->nchanges; i++) {
        ck_assert_uint_eq(a->changes[i].len, b->changes[i].len);
        if (a->changes[i].len)
            ck_assert_mem_eq(a->changes[i].body, b->changes[i].body, a->changes[i].len);
        ck_assert_mem_eq(a->changes[i].hash, b->changes[i].hash, GS_HASH_LEN);
        ck_assert_uint_eq(a->changes[i].hub_seq, b->changes[i].hub_seq);
    }
}

/* Adds n changes with bodies of the given lengths (cycled). */
static void add_changes(gs_msg *m, size_t n, const size_t *lens, size_t nlens, bool hub_seq)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = lens[i % nlens];
        uint8_t *body = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(body);
        for (size_t k = 0; k < len; k++)
            body[k] = (uint8_t)(i + k);
        uint8_t h[GS_HASH_LEN];
        fill_hash(h, (uint8_t)i);
        ck_assert_int_eq(gs_msg_add_change(m, body, len, h, hub_seq ? 1000 + i : 0), GS_OK);
        free(body);
    }
}

/* ---- sample messages: round trip and truncation ---------------------- */

static void s_hello(gs_msg *m)
{
    m->type = GS_MSG_HELLO;
    strcpy(m->node_id, "n-411102-0001");
    strcpy(m->software, "gridnode 0.1.0 \xe7\xbd\x91\xe6\xa0\xbc"); /* 网格 */
    m->pending = 12;
    m->hub_seq_seen = 99;
    m->node_time = 1795000000123ull;
}

static void s_hello_max(gs_msg *m)
{
    m->type = GS_MSG_HELLO;
    memset(m->node_id, 'a', GS_ORIGIN_MAX);
    /* 21 three-byte characters and a one-byte one: exactly 64 bytes */
    for (int k = 0; k < 21; k++)
        memcpy(m->software + 3 * k, "\xe6\xbc\xaf", 3);
    m->software[63] = 'x';
    m->pending = UINT64_MAX;
    m->hub_seq_seen = UINT64_MAX;
    m->node_time = UINT64_MAX;
}

static void s_welcome(gs_msg *m)
{
    m->type = GS_MSG_WELCOME;
    m->acked_through = 4096;
    m->hub_time = UINT64_MAX;
    m->hub_wall = 1764338707123;
    m->hub_seq_head = 0;
    fill_hash(m->chain_head, 3);
    m->window = 8;
    m->batch_bytes = 512u * 1024u;
}

static void s_hello_verify(gs_msg *m)
{
    s_hello(m);
    m->verify = true;
}

/* A WELCOME listing as many city chains as it may, the first and the
 * last at their limits. */
static void s_welcome_heads(gs_msg *m)
{
    s_welcome(m);
    m->nheads = GS_MAX_HEADS;
    for (size_t i = 0; i < GS_MAX_HEADS; i++) {
        gs_wire_head *h = &m->heads[i];
        snprintf(h->origin, sizeof h->origin, "hub.%zu-0badc0de", i + 2);
        h->seq = i * 1000 + 1;
        fill_hash(h->hash, (uint8_t)i);
        h->count = i;
        fill_hash(h->digest, (uint8_t)(i + 100));
    }
    strcpy(m->heads[0].origin, "hub");
    memset(m->heads[GS_MAX_HEADS - 1].origin, 'h', GS_ORIGIN_MAX);
    m->heads[GS_MAX_HEADS - 1].seq = UINT64_MAX;
}

static void s_return(gs_msg *m)
{
    static const size_t lens[] = {90, 12};
    m->type = GS_MSG_RETURN;
    strcpy(m->origin, "hub");
    m->first_seq = 61;
    add_changes(m, 3, lens, 2, false);
}

static void s_returned(gs_msg *m)
{
    m->type = GS_MSG_RETURNED;
    strcpy(m->origin, "hub.2-0badc0de");
    m->seq = 63;
    strcpy(m->code, "GS_ENOTFOUND");
    strcpy(m->text, "the hub holds hub.2-0badc0de through #63; #64 must come first");
}

static void s_returned_ok(gs_msg *m)
{
    m->type = GS_MSG_RETURNED;
    strcpy(m->origin, "hub");
    m->seq = 1;
}

static void s_push(gs_msg *m)
{
    static const size_t lens[] = {17, 0, 300, 65536};
    m->type = GS_MSG_PUSH;
    m->first_seq = 1;
    add_changes(m, 4, lens, 4, false);
}

static void s_push_empty(gs_msg *m)
{
    m->type = GS_MSG_PUSH;
    m->first_seq = 77;
}

static void s_push_max_count(gs_msg *m)
{
    static const size_t lens[] = {40};
    m->type = GS_MSG_PUSH;
    m->first_seq = 1000;
    add_changes(m, 512, lens, 1, false);
}

static void s_ack(gs_msg *m)
{
    m->type = GS_MSG_ACK;
    m->acked_through = 128;
    fill_hash(m->chain_head, 200);
    m->window = 1;
    m->batch_bytes = UINT64_MAX;
}

static void s_rejected(gs_msg *m)
{
    m->type = GS_MSG_REJECTED;
    m->seq = 42;
    strcpy(m->code, "GS_ESCOPE");
    strcpy(m->text, "\xe8\xb6\x85\xe5\x87\xba\xe8\x8c\x83\xe5\x9b\xb4: village 411102001001");
}

static void s_rejected_no_text(gs_msg *m)
{
    m->type = GS_MSG_REJECTED;
    m->seq = 1;
    strcpy(m->code, "GS_ERULE");
}

static void s_pull(gs_msg *m)
{
    m->type = GS_MSG_PULL;
    m->since = 0;
}

static void s_pull_hash(gs_msg *m)
{
    m->type = GS_MSG_PULL;
    m->since = 4711;
    fill_hash(m->log_hash, 0x5a);
}

static void s_pull_max(gs_msg *m)
{
    m->type = GS_MSG_PULL;
    m->since = UINT64_MAX;
}

static void s_changes(gs_msg *m)
{
    static const size_t lens[] = {5, 120, 1, 70};
    m->type = GS_MSG_CHANGES;
    add_changes(m, 6, lens, 4, true);
    m->next = 1006;
    m->more = true;
    fill_hash(m->log_hash, 0xa5);
    m->rewound = true;
}

static void s_changes_end(gs_msg *m)
{
    m->type = GS_MSG_CHANGES;
    m->next = 3;
    m->more = false;
}

static void s_error(gs_msg *m)
{
    m->type = GS_MSG_ERROR;
    strcpy(m->code, "GS_EAUTH");
    memset(m->text, 'e', 512);
}

static void s_ping(gs_msg *m)
{
    m->type = GS_MSG_PING;
}

static void s_pong(gs_msg *m)
{
    m->type = GS_MSG_PONG;
    m->hub_time = ((uint64_t)1764338707123 << 16) | 5;
    m->hub_wall = UINT64_MAX;
}

static const struct sample {
    const char *name;
    void (*fill)(gs_msg *m);
} samples[] = {
    {"HELLO", s_hello},
    {"HELLO at every string limit", s_hello_max},
    {"HELLO of a verify", s_hello_verify},
    {"WELCOME", s_welcome},
    {"WELCOME with 32 city chains", s_welcome_heads},
    {"RETURN of 3", s_return},
    {"RETURNED at a gap", s_returned},
    {"RETURNED, all taken", s_returned_ok},
    {"PUSH of 4 changes", s_push},
    {"PUSH of none", s_push_empty},
    {"PUSH of 512 changes", s_push_max_count},
    {"ACK", s_ack},
    {"REJECTED", s_rejected},
    {"REJECTED without text", s_rejected_no_text},
    {"PULL", s_pull},
    {"PULL from the end", s_pull_max},
    {"PULL with its log hash", s_pull_hash},
    {"CHANGES of 6", s_changes},
    {"CHANGES, last batch", s_changes_end},
    {"ERROR with the longest text", s_error},
    {"PING", s_ping},
    {"PONG", s_pong},
};

static void encode_sample(int i, gs_msg *m, gs_buf *b)
{
    memset(m, 0, sizeof *m);
    samples[i].fill(m);
    int rc = gs_msg_encode(m, NULL, b);
    ck_assert_msg(rc == GS_OK, "%s: encode: %s", samples[i].name, gs_errname(rc));
    m->version = GS_PROTO_VERSION; /* what the decoder reports */
}

START_TEST(test_round_trip)
{
    gs_msg in, out;
    gs_buf b = GS_BUF_INIT, again = GS_BUF_INIT;
    encode_sample(_i, &in, &b);
    expect_ok(&b, &out);
    assert_msg_eq(&in, &out);
    /* the encoding is canonical: re-encoding gives the same bytes */
    ck_assert_int_eq(gs_msg_encode(&out, NULL, &again), GS_OK);
    ck_assert_uint_eq(again.len, b.len);
    ck_assert_mem_eq(again.data, b.data, b.len);
    gs_msg_clear(&in);
    gs_msg_clear(&out);
    ck_assert(!memcmp(&out, &zero_msg, sizeof out));
    gs_buf_free(&b);
    gs_buf_free(&again);
}
END_TEST

/* Every proper prefix of every sample fails cleanly. The big samples are cut
 * at every offset of their head and tail and at a stride in between, which
 * covers every field boundary without 10^6 decodes. */
START_TEST(test_truncated_everywhere)
{
    gs_msg in;
    gs_buf b = GS_BUF_INIT;
    encode_sample(_i, &in, &b);
    for (size_t cut = 0; cut < b.len;) {
        gs_buf part = b;
        part.len = cut;
        expect_cut_fails(&part, gs_msg_name(in.type));
        cut += (cut < 4096 || b.len - cut < 4096) ? 1 : 997;
    }
    gs_msg_clear(&in);
    gs_buf_free(&b);
}
END_TEST

/* ---- the protocol, as this test understands it ----------------------- */

typedef enum { W_U64, W_STR, W_HASH, W_BOOL, W_CHANGES, W_HEADS } wkind;

typedef struct spec_field {
    gs_msg_type type;
    const char *key;
    wkind kind;
    bool required;
    size_t max; /* W_STR: longest accepted, in bytes */
} spec_field;

static const spec_field spec[] = {
    {GS_MSG_HELLO, "node_id", W_STR, true, 64},
    {GS_MSG_HELLO, "software", W_STR, true, 64},
    {GS_MSG_HELLO, "pending", W_U64, true, 0},
    {GS_MSG_HELLO, "hub_seq_seen", W_U64, true, 0},
    {GS_MSG_HELLO, "node_time", W_U64, true, 0},
    {GS_MSG_HELLO, "verify", W_BOOL, true, 0},
    {GS_MSG_WELCOME, "acked_through", W_U64, true, 0},
    {GS_MSG_WELCOME, "hub_time", W_U64, true, 0},
    {GS_MSG_WELCOME, "hub_wall", W_U64, true, 0},
    {GS_MSG_WELCOME, "hub_seq_head", W_U64, true, 0},
    {GS_MSG_WELCOME, "chain_head", W_HASH, true, 0},
    {GS_MSG_WELCOME, "window", W_U64, true, 0},
    {GS_MSG_WELCOME, "batch_bytes", W_U64, true, 0},
    {GS_MSG_WELCOME, "heads", W_HEADS, true, 0},
    {GS_MSG_PUSH, "first_seq", W_U64, true, 0},
    {GS_MSG_PUSH, "changes", W_CHANGES, true, 0},
    {GS_MSG_ACK, "acked_through", W_U64, true, 0},
    {GS_MSG_ACK, "chain_head", W_HASH, true, 0},
    {GS_MSG_ACK, "window", W_U64, true, 0},
    {GS_MSG_ACK, "batch_bytes", W_U64, true, 0},
    {GS_MSG_REJECTED, "seq", W_U64, true, 0},
    {GS_MSG_REJECTED, "code", W_STR, true, 32},
    {GS_MSG_REJECTED, "text", W_STR, false, 512},
    {GS_MSG_PULL, "since", W_U64, true, 0},
    {GS_MSG_PULL, "log_hash", W_HASH, true, 0},
    {GS_MSG_CHANGES, "changes", W_CHANGES, true, 0},
    {GS_MSG_CHANGES, "next", W_U64, true, 0},
    {GS_MSG_CHANGES, "more", W_BOOL, true, 0},
    {GS_MSG_CHANGES, "log_hash", W_HASH, true, 0},
    {GS_MSG_CHANGES, "rewound", W_BOOL, true, 0},
    {GS_MSG_ERROR, "code", W_STR, true, 32},
    {GS_MSG_ERROR, "text", W_STR, false, 512},
    {GS_MSG_PONG, "hub_time", W_U64, true, 0},
    {GS_MSG_PONG, "hub_wall", W_U64, true, 0},
    {GS_MSG_RETURN, "origin", W_STR, true, 64},
    {GS_MSG_RETURN, "first_seq", W_U64, true, 0},
    {GS_MSG_RETURN, "changes", W_CHANGES, true, 0},
    {GS_MSG_RETURNED, "origin", W_STR, true, 64},
    {GS_MSG_RETURNED, "seq", W_U64, true, 0},
    {GS_MSG_RETURNED, "code", W_STR, true, 32},
    {GS_MSG_RETURNED, "text", W_STR, false, 512},
};

/* How to damage a built message. */
typedef enum {
    MU_NONE,
    MU_OMIT,  /* leave key out */
    MU_WRONG, /* give key a value of a wrong kind */
    MU_DUP,   /* write key twice */
    MU_EXTRA, /* add key (not of this type) with a uint value */
    MU_VALUE  /* give key the raw msgpack bytes in raw */
} mutation;

typedef struct damage {
    mutation mu;
    const char *key;
    const char *raw;
    size_t rawlen;
} damage;

/* The envelope: a map header of npairs, "t": name, "v": version. */
static void envelope(gs_buf *b, const char *name, uint64_t version, uint32_t npairs)
{
    gs_mp_map(b, npairs);
    gs_mp_str(b, "t");
    gs_mp_str(b, name);
    gs_mp_str(b, "v");
    gs_mp_uint(b, version);
}

/* One valid change: {"body": bin, "hash": bin32} (+ "hub_seq" in CHANGES). */
static void write_change(gs_buf *b, gs_msg_type type, unsigned i)
{
    uint8_t h[GS_HASH_LEN];
    fill_hash(h, (uint8_t)i);
    gs_mp_map(b, type == GS_MSG_CHANGES ? 3 : 2);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "\x82\xa1o\x01\xa1s\x02", 7);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, GS_HASH_LEN);
    if (type == GS_MSG_CHANGES) {
        gs_mp_str(b, "hub_seq");
        gs_mp_uint(b, 50 + i);
    }
}

/* One valid head: {"origin", "seq", "hash", "count", "digest"}. */
static void write_head(gs_buf *b, const char *origin)
{
    uint8_t h[GS_HASH_LEN];
    fill_hash(h, 9);
    gs_mp_map(b, 5);
    gs_mp_str(b, "origin");
    gs_mp_str(b, origin);
    gs_mp_str(b, "seq");
    gs_mp_uint(b, 12);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, GS_HASH_LEN);
    gs_mp_str(b, "count");
    gs_mp_uint(b, 3);
    gs_mp_str(b, "digest");
    gs_mp_bin(b, h, GS_HASH_LEN);
}

static void write_valid(gs_buf *b, gs_msg_type type, wkind k)
{
    switch (k) {
    case W_U64:
        gs_mp_uint(b, 7);
        break;
    case W_STR:
        gs_mp_str(b, "ok");
        break;
    case W_HASH: {
        uint8_t h[GS_HASH_LEN];
        fill_hash(h, 1);
        gs_mp_bin(b, h, GS_HASH_LEN);
        break;
    }
    case W_BOOL:
        gs_mp_bool(b, true);
        break;
    case W_CHANGES:
        gs_mp_array(b, 2);
        write_change(b, type, 0);
        write_change(b, type, 1);
        break;
    case W_HEADS:
        gs_mp_array(b, 1);
        write_head(b, "hub.2-0badc0de");
        break;
    }
}

/* A value of another kind than k, as a careless or hostile peer would send. */
static void write_wrong(gs_buf *b, wkind k)
{
    switch (k) {
    case W_U64:
        gs_mp_str(b, "7");
        break;
    case W_STR:
        gs_mp_uint(b, 7);
        break;
    case W_HASH:
        gs_mp_str(b, "0123456789abcdef0123456789abcdef");
        break;
    case W_BOOL:
        gs_mp_uint(b, 1);
        break;
    case W_CHANGES:
    case W_HEADS:
        gs_mp_map(b, 0);
        break;
    }
}

/* Builds a message of type from spec[], applying one damage. */
static void build(gs_buf *b, gs_msg_type type, const damage *d)
{
    uint32_t n = 2;
    for (int i = 0; i < N(spec); i++)
        n += spec[i].type == type;
    if (d->mu == MU_OMIT)
        n--;
    if (d->mu == MU_DUP || d->mu == MU_EXTRA)
        n++;
    envelope(b, gs_msg_name(type), GS_PROTO_VERSION, n);
    for (int i = 0; i < N(spec); i++) {
        const spec_field *f = &spec[i];
        if (f->type != type)
            continue;
        bool hit = d->key && !strcmp(d->key, f->key);
        if (hit && d->mu == MU_OMIT)
            continue;
        gs_mp_str(b, f->key);
        if (hit && d->mu == MU_WRONG)
            write_wrong(b, f->kind);
        else if (hit && d->mu == MU_VALUE)
            gs_buf_append(b, d->raw, d->rawlen);
        else
            write_valid(b, type, f->kind);
        if (hit && d->mu == MU_DUP) {
            gs_mp_str(b, f->key);
            write_valid(b, type, f->kind);
        }
    }
    if (d->mu == MU_EXTRA) {
        gs_mp_str(b, d->key);
        gs_mp_uint(b, 1);
    }
    ck_assert_int_eq(b->err, GS_OK);
}

/* "HELLO.node_id" */
static const char *field_name(char out[64], gs_msg_type type, const char *key)
{
    snprintf(out, 64, "%s.%s", gs_msg_name(type), key);
    return out;
}

/* ---- per-type and per-field cases, generated from spec[] ------------- */

START_TEST(test_built_valid)
{
    gs_msg_type type = (gs_msg_type)_i;
    gs_buf b = GS_BUF_INIT;
    damage d = {MU_NONE, NULL, NULL, 0};
    build(&b, type, &d);
    gs_msg m;
    expect_ok(&b, &m);
    ck_assert_int_eq(m.type, type);
    ck_assert_uint_eq(m.version, GS_PROTO_VERSION);
    if (type == GS_MSG_WELCOME) {
        ck_assert_uint_eq(m.nheads, 1);
        ck_assert_str_eq(m.heads[0].origin, "hub.2-0badc0de");
        ck_assert_uint_eq(m.heads[0].count, 3);
    }
    if (type == GS_MSG_PUSH || type == GS_MSG_CHANGES || type == GS_MSG_RETURN) {
        ck_assert_uint_eq(m.nchanges, 2);
        ck_assert_uint_eq(m.changes[1].len, 7);
        ck_assert_uint_eq(m.changes[1].hub_seq, type == GS_MSG_CHANGES ? 51 : 0);
    }
    gs_msg_clear(&m);
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_wrong_kind)
{
    const spec_field *f = &spec[_i];
    gs_buf b = GS_BUF_INIT;
    damage d = {MU_WRONG, f->key, NULL, 0};
    build(&b, f->type, &d);
    char name[64];
    expect_fail(&b, GS_ETYPE, field_name(name, f->type, f->key));
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_negative_for_unsigned)
{
    const spec_field *f = &spec[_i];
    if (f->kind != W_U64)
        return;
    gs_buf b = GS_BUF_INIT;
    damage d = {MU_VALUE, f->key, "\xff", 1};
    build(&b, f->type, &d);
    char name[64];
    expect_fail(&b, GS_ERANGE, field_name(name, f->type, f->key));
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_missing)
{
    const spec_field *f = &spec[_i];
    gs_buf b = GS_BUF_INIT;
    damage d = {MU_OMIT, f->key, NULL, 0};
    build(&b, f->type, &d);
    char name[64], want[80];
    if (f->required) {
        snprintf(want, sizeof want, "%s: missing", field_name(name, f->type, f->key));
        expect_fail(&b, GS_EREQUIRED, want);
    } else {
        gs_msg m;
        expect_ok(&b, &m); /* optional: decodes as empty */
        ck_assert_str_eq(m.text, "");
        gs_msg_clear(&m);
    }
    gs_buf_free(&b);
}
END_TEST

START_TEST(test_duplicate)
{
    const spec_field *f = &spec[_i];
    gs_buf b = GS_BUF_INIT;
    damage d = {MU_DUP, f->key, NULL, 0};
    build(&b, f->type, &d);
    char name[64], want[80];
    snprintf(want, sizeof want, "%s: duplicate key", field_name(name, f->type, f->key));
    expect_fail(&b, GS_EMALFORMED, want);
    gs_buf_free(&b);
}
END_TEST

/* Unknown keys: a made-up one, and a real key of another message type. */
START_TEST(test_unknown_key)
{
    gs_msg_type type = (gs_msg_type)_i;
    const char *foreign = type == GS_MSG_PULL ? "pending" : "since";
    const char *keys[] = {"bogus", foreign, "T", "node_id\xff"};
    for (int k = 0; k < N(keys); k++) {
        gs_buf b = GS_BUF_INIT;
        damage d = {MU_EXTRA, keys[k], NULL, 0};
        build(&b, type, &d);
        char name[64];
        const char *want =
            strcmp(keys[k], "node_id\xff") ? field_name(name, type, keys[k]) : "node_id\\xff";
        expect_fail(&b, GS_EUNKNOWN, want);
        gs_buf_free(&b);
    }
}
END_TEST

/* Strings: the longest accepted fits, one byte more is GS_ETOOBIG with the
 * sizes in the message. */
START_TEST(test_string_limits)
{
    const spec_field *f = &spec[_i];
    if (f->kind != W_STR)
        return;
    char *s = malloc(f->max + 2);
    ck_assert_ptr_nonnull(s);
    memset(s, 'x', f->max + 1);
    for (size_t len = f->max; len <= f->max + 1; len++) {
        gs_buf raw = GS_BUF_INIT, b = GS_BUF_INIT;
        gs_mp_strn(&raw, s, len);
        damage d = {MU_VALUE, f->key, raw.data, raw.len};
        build(&b, f->type, &d);
        if (len == f->max) {
            gs_msg m;
            expect_ok(&b, &m);
            gs_msg_clear(&m);
        } else {
            char name[64], want[128];
            snprintf(want, sizeof want, "%s: %zu bytes exceeds the limit of %zu",
                     field_name(name, f->type, f->key), len, f->max);
            expect_fail(&b, GS_ETOOBIG, want);
        }
        gs_buf_free(&raw);
        gs_buf_free(&b);
    }
    free(s);
}
END_TEST

/* ---- invalid UTF-8 in every string field ----------------------------- */

static const struct bad_utf8 {
    const char *name;
    const char *bytes;
    size_t len;
} bad_utf8[] = {
    {"overlong /", "\xc0\xaf", 2},
    {"overlong three-byte", "\xe0\x80\xaf", 3},
    {"overlong four-byte", "\xf0\x80\x80\xaf", 4},
    {"surrogate", "ab\xed\xa0\x80", 5},
    {"truncated", "\xe4\xb8", 2},
    {"truncated at the end", "node\xe6\xbc", 6},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 4},
    {"lone continuation", "\x80", 1},
    {"NUL byte", "a\0b", 3},
};

START_TEST(test_bad_utf8)
{
    for (int i = 0; i < N(spec); i++) {
        const spec_field *f = &spec[i];
        if (f->kind != W_STR)
            continue;
        const struct bad_utf8 *u = &bad_utf8[_i];
        gs_buf raw = GS_BUF_INIT, b = GS_BUF_INIT;
        gs_mp_strn(&raw, u->bytes, u->len);
        damage d = {MU_VALUE, f->key, raw.data, raw.len};
        build(&b, f->type, &d);
        char name[64];
        expect_fail(&b, GS_EUTF8, field_name(name, f->type, f->key));
        gs_buf_free(&raw);
        gs_buf_free(&b);
    }
}
END_TEST

/* ---- hand-built frames, one case each -------------------------------- */

typedef struct frame_case {
    const char *name;
    void (*build)(gs_buf *b);
    int rc;
    const char *needle;
} frame_case;

static void f_version_next(gs_buf *b)
{
    envelope(b, "HELLO", GS_PROTO_VERSION + 1, 2);
}
static void f_version_1(gs_buf *b)
{
    envelope(b, "HELLO", 1, 2);
}
static void f_version_2(gs_buf *b)
{
    envelope(b, "WELCOME", 2, 2);
}
/* A valid WELCOME whose heads are the raw msgpack in raw. */
static void welcome_with_heads(gs_buf *b, const gs_buf *raw)
{
    damage d = {MU_VALUE, "heads", raw->data, raw->len};
    build(b, GS_MSG_WELCOME, &d);
}
static void f_heads_over_limit(gs_buf *b)
{
    gs_buf raw = GS_BUF_INIT;
    gs_mp_array(&raw, GS_MAX_HEADS + 1);
    for (int i = 0; i <= GS_MAX_HEADS; i++)
        write_head(&raw, "hub");
    welcome_with_heads(b, &raw);
    gs_buf_free(&raw);
}
static void f_head_no_digest(gs_buf *b)
{
    gs_buf raw = GS_BUF_INIT;
    gs_mp_array(&raw, 2);
    write_head(&raw, "hub");
    gs_mp_map(&raw, 4);
    gs_mp_str(&raw, "origin");
    gs_mp_str(&raw, "hub.2-00000000");
    gs_mp_str(&raw, "seq");
    gs_mp_uint(&raw, 1);
    gs_mp_str(&raw, "hash");
    gs_mp_bin(&raw, "0123456789abcdef0123456789abcdef", GS_HASH_LEN);
    gs_mp_str(&raw, "count");
    gs_mp_uint(&raw, 1);
    welcome_with_heads(b, &raw);
    gs_buf_free(&raw);
}
static void f_head_foreign_key(gs_buf *b)
{
    gs_buf raw = GS_BUF_INIT;
    gs_mp_array(&raw, 1);
    gs_mp_map(&raw, 1);
    gs_mp_str(&raw, "body");
    gs_mp_bin(&raw, "x", 1);
    welcome_with_heads(b, &raw);
    gs_buf_free(&raw);
}
static void f_head_short_hash(gs_buf *b)
{
    gs_buf raw = GS_BUF_INIT;
    gs_mp_array(&raw, 1);
    gs_mp_map(&raw, 2);
    gs_mp_str(&raw, "origin");
    gs_mp_str(&raw, "hub");
    gs_mp_str(&raw, "hash");
    gs_mp_bin(&raw, "0123456789abcdef0123456789abcde", GS_HASH_LEN - 1);
    welcome_with_heads(b, &raw);
    gs_buf_free(&raw);
}
static void f_version_0(gs_buf *b)
{
    envelope(b, "PING", 0, 2);
}
static void f_version_huge(gs_buf *b)
{
    envelope(b, "PING", UINT64_MAX, 2);
}
/* a future version with keys this build does not know: still EVERSION */
static void f_version_next_new_keys(gs_buf *b)
{
    envelope(b, "HELLO", GS_PROTO_VERSION + 1, 3);
    gs_mp_str(b, "capabilities");
    gs_mp_array(b, 0);
}
static void f_version_str(gs_buf *b)
{
    gs_mp_map(b, 2);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
    gs_mp_str(b, "v");
    gs_mp_str(b, "1");
}
static void f_version_negative(gs_buf *b)
{
    gs_mp_map(b, 2);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
    gs_mp_str(b, "v");
    gs_mp_int(b, -1);
}
static void f_unknown_type(gs_buf *b)
{
    envelope(b, "HELLOX", GS_PROTO_VERSION, 2);
}
static void f_lowercase_type(gs_buf *b)
{
    envelope(b, "hello", GS_PROTO_VERSION, 2);
}
static void f_empty_type(gs_buf *b)
{
    envelope(b, "", GS_PROTO_VERSION, 2);
}
static void f_type_not_str(gs_buf *b)
{
    gs_mp_map(b, 2);
    gs_mp_str(b, "t");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
}
static void f_empty_map(gs_buf *b)
{
    gs_mp_map(b, 0);
}
static void f_no_t(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
}
static void f_t_not_first(gs_buf *b)
{
    gs_mp_map(b, 2);
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
}
static void f_no_v(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
}
static void f_v_not_second(gs_buf *b)
{
    gs_mp_map(b, 3);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PONG");
    gs_mp_str(b, "hub_time");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
}
static void f_dup_t(gs_buf *b)
{
    envelope(b, "PING", GS_PROTO_VERSION, 3);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
}
static void f_dup_v(gs_buf *b)
{
    envelope(b, "PING", GS_PROTO_VERSION, 3);
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
}
static void f_key_not_str(gs_buf *b)
{
    envelope(b, "PING", GS_PROTO_VERSION, 3);
    gs_mp_uint(b, 5);
    gs_mp_uint(b, 1);
}
static void f_first_key_not_str(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_nil(b);
    gs_mp_nil(b);
}
static void f_not_a_map(gs_buf *b)
{
    gs_mp_uint(b, 1);
}
static void f_array_top(gs_buf *b)
{
    gs_mp_array(b, 2);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
}
static void f_empty(gs_buf *b)
{
    gs_buf_append(b, "", 0);
}
static void f_trailing_byte(gs_buf *b)
{
    envelope(b, "PING", GS_PROTO_VERSION, 2);
    gs_mp_nil(b);
}
static void f_two_messages(gs_buf *b)
{
    envelope(b, "PING", GS_PROTO_VERSION, 2);
    envelope(b, "PING", GS_PROTO_VERSION, 2);
}
static void f_top_array_huge(gs_buf *b)
{
    gs_buf_append(b, "\xdd\xff\xff\xff\xff", 5);
}
static void f_top_map_huge(gs_buf *b)
{
    gs_buf_append(b, "\xdf\xff\xff\xff\xff", 5);
}
/* The envelope and then a map header claiming 2^32-1 pairs for the rest. */
static void f_map_huge_after_envelope(gs_buf *b)
{
    gs_buf_append(b, "\xdf\xff\xff\xff\xff", 5);
    gs_mp_str(b, "t");
    gs_mp_str(b, "PING");
    gs_mp_str(b, "v");
    gs_mp_uint(b, 1);
}
static void f_changes_array_huge(gs_buf *b)
{
    envelope(b, "PUSH", GS_PROTO_VERSION, 4);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
    gs_buf_append(b, "\xdd\xff\xff\xff\xff", 5);
}
/* The count fits the bytes (each change could be one byte) but not the
 * limit: refused before anything is allocated. */
static void f_changes_over_limit(gs_buf *b)
{
    envelope(b, "PUSH", GS_PROTO_VERSION, 4);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
    gs_mp_array(b, 513);
    for (unsigned i = 0; i < 513; i++)
        write_change(b, GS_MSG_PUSH, i);
}
static void f_change_map_huge(gs_buf *b)
{
    envelope(b, "PUSH", GS_PROTO_VERSION, 4);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
    gs_mp_array(b, 2);
    write_change(b, GS_MSG_PUSH, 0);
    gs_buf_append(b, "\xdf\xff\xff\xff\xff", 5);
    gs_mp_str(b, "body");
}
/* Deep nesting where a scalar belongs: refused at the first level, without
 * descending into it. */
static void f_deep_nesting_field(gs_buf *b)
{
    envelope(b, "HELLO", GS_PROTO_VERSION, 6);
    gs_mp_str(b, "node_id");
    for (int k = 0; k < 100000; k++)
        gs_mp_array(b, 1);
    gs_mp_nil(b);
}
static void f_deep_nesting_change(gs_buf *b)
{
    envelope(b, "PUSH", GS_PROTO_VERSION, 4);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
    for (int k = 0; k < 100000; k++)
        gs_mp_array(b, 1);
    gs_mp_nil(b);
}
static void f_deep_nesting_top(gs_buf *b)
{
    for (int k = 0; k < 100000; k++)
        gs_mp_array(b, 1);
    gs_mp_nil(b);
}
/* "PUSH.changes[3].body: 70000 bytes exceeds the limit of 65536" */
static void f_body_too_big(gs_buf *b)
{
    static uint8_t big[70000];
    uint8_t h[GS_HASH_LEN] = {0};
    envelope(b, "PUSH", GS_PROTO_VERSION, 4);
    gs_mp_str(b, "first_seq");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "changes");
    gs_mp_array(b, 4);
    for (unsigned i = 0; i < 3; i++)
        write_change(b, GS_MSG_PUSH, i);
    gs_mp_map(b, 2);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
    gs_mp_str(b, "body");
    gs_mp_bin(b, big, sizeof big);
}

/* The keys of a CHANGES after its changes: next, more, log_hash, rewound. */
static void changes_tail(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN];
    fill_hash(h, 9);
    gs_mp_str(b, "next");
    gs_mp_uint(b, 1);
    gs_mp_str(b, "more");
    gs_mp_bool(b, false);
    gs_mp_str(b, "log_hash");
    gs_mp_bin(b, h, GS_HASH_LEN);
    gs_mp_str(b, "rewound");
    gs_mp_bool(b, false);
}

/* The changes inside a PUSH/CHANGES: one damaged change among valid ones. */
static void push_with(gs_buf *b, const char *type, void (*bad)(gs_buf *b))
{
    gs_msg_type t = !strcmp(type, "PUSH") ? GS_MSG_PUSH : GS_MSG_CHANGES;
    envelope(b, type, GS_PROTO_VERSION, t == GS_MSG_PUSH ? 4 : 7);
    gs_mp_str(b, "changes");
    gs_mp_array(b, 3);
    write_change(b, t, 0);
    bad(b);
    write_change(b, t, 2);
    if (t == GS_MSG_PUSH) {
        gs_mp_str(b, "first_seq");
        gs_mp_uint(b, 1);
    } else {
        changes_tail(b);
    }
}
static void c_body_str(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN] = {0};
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_str(b, "text, not bin");
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
}
static void c_hash_31(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN] = {0};
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, GS_HASH_LEN - 1);
}
static void c_hash_33(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN + 1] = {0};
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
}
static void c_no_hash(gs_buf *b)
{
    gs_mp_map(b, 1);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
}
static void c_no_body(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN] = {0};
    gs_mp_map(b, 1);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
}
static void c_dup_body(gs_buf *b)
{
    gs_mp_map(b, 2);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "y", 1);
}
static void c_hub_seq(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN] = {0};
    gs_mp_map(b, 3);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
    gs_mp_str(b, "hub_seq");
    gs_mp_uint(b, 9);
}
static void c_not_a_map(gs_buf *b)
{
    gs_mp_bin(b, "x", 1);
}
static void c_hub_seq_negative(gs_buf *b)
{
    uint8_t h[GS_HASH_LEN] = {0};
    gs_mp_map(b, 3);
    gs_mp_str(b, "body");
    gs_mp_bin(b, "x", 1);
    gs_mp_str(b, "hash");
    gs_mp_bin(b, h, sizeof h);
    gs_mp_str(b, "hub_seq");
    gs_mp_int(b, -5);
}
static void f_push_body_str(gs_buf *b)
{
    push_with(b, "PUSH", c_body_str);
}
static void f_push_hash_31(gs_buf *b)
{
    push_with(b, "PUSH", c_hash_31);
}
static void f_push_hash_33(gs_buf *b)
{
    push_with(b, "PUSH", c_hash_33);
}
static void f_push_no_hash(gs_buf *b)
{
    push_with(b, "PUSH", c_no_hash);
}
static void f_push_no_body(gs_buf *b)
{
    push_with(b, "PUSH", c_no_body);
}
static void f_push_dup_body(gs_buf *b)
{
    push_with(b, "PUSH", c_dup_body);
}
static void f_push_hub_seq(gs_buf *b)
{
    push_with(b, "PUSH", c_hub_seq);
}
static void f_push_change_not_map(gs_buf *b)
{
    push_with(b, "PUSH", c_not_a_map);
}
static void f_changes_dup_body(gs_buf *b)
{
    push_with(b, "CHANGES", c_dup_body);
}
static void f_changes_missing_hub_seq(gs_buf *b)
{
    /* a PUSH-shaped change inside CHANGES lacks hub_seq */
    envelope(b, "CHANGES", GS_PROTO_VERSION, 7);
    gs_mp_str(b, "changes");
    gs_mp_array(b, 1);
    write_change(b, GS_MSG_PUSH, 0);
    changes_tail(b);
}
static void f_changes_hub_seq_negative(gs_buf *b)
{
    push_with(b, "CHANGES", c_hub_seq_negative);
}

static const frame_case frames[] = {
    {"the next version", f_version_next, GS_EVERSION,
     "HELLO.v: protocol version 4 is not supported"},
    {"version 1 (no log hashes)", f_version_1, GS_EVERSION,
     "HELLO.v: protocol version 1 is not supported (this build speaks 3)"},
    {"version 2 (no city chains)", f_version_2, GS_EVERSION,
     "WELCOME.v: protocol version 2 is not supported (this build speaks 3)"},
    {"33 city chains", f_heads_over_limit, GS_ETOOBIG,
     "WELCOME.heads: 33 heads exceed the limit of 32"},
    {"a city chain without its digest", f_head_no_digest, GS_EREQUIRED,
     "WELCOME.heads[1].digest: missing"},
    {"a city chain with a change's key", f_head_foreign_key, GS_EUNKNOWN,
     "WELCOME.heads[0].body: unknown key"},
    {"a city chain's hash of 31 bytes", f_head_short_hash, GS_ERANGE,
     "WELCOME.heads[0].hash: 31 bytes, expected exactly 32"},
    {"version 0", f_version_0, GS_EVERSION, "PING.v"},
    {"version 2^64-1", f_version_huge, GS_EVERSION, "PING.v"},
    {"the next version with new keys", f_version_next_new_keys, GS_EVERSION, "HELLO.v"},
    {"version as a string", f_version_str, GS_ETYPE, "PING.v"},
    {"negative version", f_version_negative, GS_ETYPE, "PING.v"},
    {"unknown type", f_unknown_type, GS_EUNKNOWN, "message.t: unknown message type \"HELLOX\""},
    {"lowercase type", f_lowercase_type, GS_EUNKNOWN, "message.t"},
    {"empty type", f_empty_type, GS_EUNKNOWN, "message.t"},
    {"type not a string", f_type_not_str, GS_ETYPE, "message.t"},
    {"empty map", f_empty_map, GS_EREQUIRED, "message.t: missing"},
    {"no t", f_no_t, GS_EREQUIRED, "message.t"},
    {"t not first", f_t_not_first, GS_EREQUIRED, "message.t"},
    {"no v", f_no_v, GS_EREQUIRED, "PING.v: missing"},
    {"v not second", f_v_not_second, GS_EREQUIRED, "PONG.v"},
    {"duplicate t", f_dup_t, GS_EMALFORMED, "PING.t: duplicate key"},
    {"duplicate v", f_dup_v, GS_EMALFORMED, "PING.v: duplicate key"},
    {"key not a string", f_key_not_str, GS_ETYPE, "PING: key 2"},
    {"first key not a string", f_first_key_not_str, GS_ETYPE, "message: key 0"},
    {"not a map", f_not_a_map, GS_ETYPE, "message: expected a map"},
    {"array at the top", f_array_top, GS_ETYPE, "message: expected a map"},
    {"empty frame", f_empty, GS_EMALFORMED, "message"},
    {"trailing byte", f_trailing_byte, GS_EMALFORMED, "PING: 1 trailing bytes"},
    {"two messages in one frame", f_two_messages, GS_EMALFORMED, "PING"},
    {"array of 2^32-1 at the top", f_top_array_huge, GS_ETOOBIG, "message"},
    {"map of 2^32-1 at the top", f_top_map_huge, GS_ETOOBIG, "message"},
    {"map of 2^32-1 with an envelope", f_map_huge_after_envelope, GS_ETOOBIG, "message"},
    {"changes array of 2^32-1", f_changes_array_huge, GS_ETOOBIG, "PUSH.changes"},
    {"513 changes", f_changes_over_limit, GS_ETOOBIG,
     "PUSH.changes: 513 changes exceed the limit of 512"},
    {"change map of 2^32-1 pairs", f_change_map_huge, GS_ETOOBIG, "PUSH.changes[1]"},
    {"deep nesting in a field", f_deep_nesting_field, GS_ETYPE, "HELLO.node_id"},
    {"deep nesting in changes", f_deep_nesting_change, GS_ETYPE, "PUSH.changes[0]"},
    {"deep nesting at the top", f_deep_nesting_top, GS_ETYPE, "message"},
    {"body over the limit", f_body_too_big, GS_ETOOBIG,
     "PUSH.changes[3].body: 70000 bytes exceeds the limit of 65536"},
    {"body a string", f_push_body_str, GS_ETYPE, "PUSH.changes[1].body"},
    {"hash of 31 bytes", f_push_hash_31, GS_ERANGE, "PUSH.changes[1].hash: 31 bytes"},
    {"hash of 33 bytes", f_push_hash_33, GS_ERANGE, "PUSH.changes[1].hash: 33 bytes"},
    {"change without hash", f_push_no_hash, GS_EREQUIRED, "PUSH.changes[1].hash: missing"},
    {"change without body", f_push_no_body, GS_EREQUIRED, "PUSH.changes[1].body: missing"},
    {"change with body twice", f_push_dup_body, GS_EMALFORMED, "PUSH.changes[1].body: duplicate"},
    {"hub_seq in PUSH", f_push_hub_seq, GS_EUNKNOWN, "PUSH.changes[1].hub_seq: unknown key"},
    {"change not a map", f_push_change_not_map, GS_ETYPE, "PUSH.changes[1]: expected a map"},
    {"CHANGES change twice-bodied", f_changes_dup_body, GS_EMALFORMED,
     "CHANGES.changes[1].body: duplicate"},
    {"CHANGES change without hub_seq", f_changes_missing_hub_seq, GS_EREQUIRED,
     "CHANGES.changes[0].hub_seq: missing"},
    {"CHANGES negative hub_seq", f_changes_hub_seq_negative, GS_ERANGE,
     "CHANGES.changes[1].hub_seq"},
};

START_TEST(test_frames)
{
    const frame_case *c = &frames[_i];
    gs_buf b = GS_BUF_INIT;
    c->build(&b);
    ck_assert_int_eq(b.err, GS_OK);
    expect_fail(&b, c->rc, c->needle);
    gs_buf_free(&b);
}
END_TEST

/* ---- limits ---------------------------------------------------------- */

/* The frame limit is checked before anything else: at the limit a message
 * decodes, one byte under it fails naming both sizes. */
START_TEST(test_frame_limit)
{
    gs_msg in, out;
    gs_buf b = GS_BUF_INIT;
    encode_sample(3, &in, &b); /* PUSH of 4 changes */
    gs_limits lim = gs_limits_default;
    lim.max_msg_bytes = b.len;
    gs_errbuf eb;
    ck_assert_int_eq(gs_msg_decode(b.data, b.len, &lim, &out, &eb), GS_OK);
    gs_msg_clear(&out);
    lim.max_msg_bytes = b.len - 1;
    char want[96];
    snprintf(want, sizeof want, "message: %zu bytes exceeds the limit of %zu", b.len, b.len - 1);
    expect_fail_lim(&b, &lim, GS_ETOOBIG, want);
    gs_msg_clear(&in);
    gs_buf_free(&b);

    /* 4 MiB + 1 bytes of garbage under the default limits: the size is
     * refused, not the garbage */
    gs_buf big = GS_BUF_INIT;
    size_t n = gs_limits_default.max_msg_bytes + 1;
    char *junk = calloc(n, 1);
    ck_assert_ptr_nonnull(junk);
    gs_buf_append(&big, junk, n);
    free(junk);
    expect_fail(&big, GS_ETOOBIG, "message: 4194305 bytes exceeds the limit of 4194304");
    gs_buf_free(&big);
}
END_TEST

/* Custom limits on count and body size, both at and past the boundary. */
START_TEST(test_custom_limits)
{
    gs_limits lim = {1 << 20, 2, 10};
    gs_msg m = {0};
    uint8_t h[GS_HASH_LEN] = {0};
    m.type = GS_MSG_PUSH;
    m.first_seq = 5;
    ck_assert_int_eq(gs_msg_add_change(&m, "0123456789", 10, h, 0), GS_OK);
    ck_assert_int_eq(gs_msg_add_change(&m, "ab", 2, h, 0), GS_OK);
    gs_buf b = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, &lim, &b), GS_OK);
    gs_msg out;
    gs_errbuf eb;
    ck_assert_int_eq(gs_msg_decode(b.data, b.len, &lim, &out, &eb), GS_OK);
    gs_msg_clear(&out);

    /* a third change: over max_changes, for the decoder and the encoder */
    ck_assert_int_eq(gs_msg_add_change(&m, "c", 1, h, 0), GS_OK);
    gs_buf b3 = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b3), GS_OK);
    expect_fail_lim(&b3, &lim, GS_ETOOBIG, "PUSH.changes: 3 changes exceed the limit of 2");
    gs_buf e = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, &lim, &e), GS_ETOOBIG);
    ck_assert_int_eq(e.err, GS_ETOOBIG);
    gs_buf_free(&e);

    /* a 10-byte body over a 9-byte max_change_bytes */
    lim.max_changes = 3;
    lim.max_change_bytes = 9;
    expect_fail_lim(&b3, &lim, GS_ETOOBIG, "PUSH.changes[0].body: 10 bytes exceeds the limit of 9");
    gs_buf e2 = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, &lim, &e2), GS_ETOOBIG);
    gs_buf_free(&e2);

    gs_msg_clear(&m);
    gs_buf_free(&b);
    gs_buf_free(&b3);
}
END_TEST

/* ---- encoder --------------------------------------------------------- */

/* Over max_msg_bytes the encoder fails with GS_ETOOBIG in rc and b->err and
 * leaves what the buffer held before; exactly at the limit it succeeds. */
START_TEST(test_encode_too_big)
{
    gs_msg m;
    gs_buf b = GS_BUF_INIT;
    encode_sample(3, &m, &b);
    size_t len = b.len;

    gs_limits lim = gs_limits_default;
    lim.max_msg_bytes = len;
    gs_buf at = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, &lim, &at), GS_OK);
    ck_assert_uint_eq(at.len, len);

    lim.max_msg_bytes = len - 1;
    gs_buf over = GS_BUF_INIT;
    gs_buf_append(&over, "prefix", 6);
    ck_assert_int_eq(gs_msg_encode(&m, &lim, &over), GS_ETOOBIG);
    ck_assert_int_eq(over.err, GS_ETOOBIG);
    ck_assert_uint_eq(over.len, 6);
    ck_assert_uint_eq(over.limit, 0); /* the caller's limit is restored */
    /* sticky: a later encode is a no-op returning the same error */
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &over), GS_ETOOBIG);

    /* 100 bodies of 60 KiB under the default 4 MiB frame limit */
    gs_msg big = {0};
    static const size_t lens[] = {60 << 10};
    big.type = GS_MSG_PUSH;
    add_changes(&big, 100, lens, 1, false);
    gs_buf bb = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&big, NULL, &bb), GS_ETOOBIG);
    ck_assert_uint_eq(bb.len, 0);

    gs_msg_clear(&big);
    gs_msg_clear(&m);
    gs_buf_free(&b);
    gs_buf_free(&at);
    gs_buf_free(&over);
    gs_buf_free(&bb);
}
END_TEST

/* The encoder refuses what the decoder would refuse, and appends after what
 * the buffer already holds. */
START_TEST(test_encode_refuses_invalid)
{
    gs_msg m = {0};
    gs_buf b = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b), GS_EINVAL); /* GS_MSG_NONE */
    gs_buf_free(&b);
    m.type = GS_MSG__COUNT;
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b), GS_EINVAL);
    gs_buf_free(&b);

    m.type = GS_MSG_HELLO;
    strcpy(m.node_id, "bad\xc0\xaf");
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b), GS_EUTF8);
    ck_assert_int_eq(b.err, GS_EUTF8);
    gs_buf_free(&b);

    memset(m.node_id, 'a', sizeof m.node_id); /* not NUL-terminated */
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b), GS_EINVAL);
    gs_buf_free(&b);

    gs_msg p = {0};
    p.type = GS_MSG_PING;
    gs_buf_append(&b, "\x01\x02", 2);
    ck_assert_int_eq(gs_msg_encode(&p, NULL, &b), GS_OK);
    ck_assert_mem_eq(b.data, "\x01\x02\x82\xa1t\xa4PING\xa1v\x03", 13);
    gs_buf_free(&b);
}
END_TEST

/* A caller may encode another version (for tests of version negotiation);
 * the decoder refuses it. */
START_TEST(test_encode_other_version)
{
    gs_msg m = {0};
    m.type = GS_MSG_PING;
    m.version = GS_PROTO_VERSION + 1;
    gs_buf b = GS_BUF_INIT;
    ck_assert_int_eq(gs_msg_encode(&m, NULL, &b), GS_OK);
    expect_fail(&b, GS_EVERSION, "PING.v: protocol version 4");
    gs_buf_free(&b);
}
END_TEST

/* ---- the small API --------------------------------------------------- */

START_TEST(test_add_change_and_clear)
{
    gs_msg m = {0};
    char body[] = "original";
    uint8_t h[GS_HASH_LEN];
    fill_hash(h, 9);
    ck_assert_int_eq(gs_msg_add_change(&m, body, 8, h, 7), GS_OK);
    ck_assert_int_eq(gs_msg_add_change(&m, NULL, 0, NULL, 0), GS_OK);
    ck_assert_int_eq(gs_msg_add_change(&m, NULL, 3, h, 0), GS_EINVAL);
    memcpy(body, "changed!", 8); /* the message holds its own copy */
    ck_assert_uint_eq(m.nchanges, 2);
    ck_assert_mem_eq(m.changes[0].body, "original", 8);
    ck_assert_mem_eq(m.changes[0].hash, h, GS_HASH_LEN);
    ck_assert_uint_eq(m.changes[0].hub_seq, 7);
    ck_assert_uint_eq(m.changes[1].len, 0);
    uint8_t zero[GS_HASH_LEN] = {0};
    ck_assert_mem_eq(m.changes[1].hash, zero, GS_HASH_LEN);
    gs_msg_clear(&m);
    ck_assert(!memcmp(&m, &zero_msg, sizeof m));
    gs_msg_clear(&m); /* twice is fine */
    gs_msg_clear(NULL);
}
END_TEST

START_TEST(test_names)
{
    static const char *const want[] = {"?",    "HELLO",   "WELCOME", "PUSH", "ACK", "REJECTED",
                                       "PULL", "CHANGES", "ERROR",   "PING", "PONG",
                                       "RETURN", "RETURNED"};
    ck_assert_int_eq(N(want), GS_MSG__COUNT);
    for (int t = 0; t < GS_MSG__COUNT; t++)
        ck_assert_str_eq(gs_msg_name((gs_msg_type)t), want[t]);
    ck_assert_str_eq(gs_msg_name(GS_MSG__COUNT), "?");
    ck_assert_str_eq(gs_msg_name((gs_msg_type)-1), "?");
}
END_TEST

START_TEST(test_limits_default)
{
    ck_assert_uint_eq(gs_limits_default.max_msg_bytes, 4u << 20);
    ck_assert_uint_eq(gs_limits_default.max_changes, 512);
    ck_assert_uint_eq(gs_limits_default.max_change_bytes, 64u << 10);
}
END_TEST

static Suite *msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("round trip");
    tcase_add_loop_test(tc, test_round_trip, 0, N(samples));
    tcase_add_loop_test(tc, test_truncated_everywhere, 0, N(samples));
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("fields");
    tcase_add_loop_test(tc, test_built_valid, GS_MSG_NONE + 1, GS_MSG__COUNT);
    tcase_add_loop_test(tc, test_wrong_kind, 0, N(spec));
    tcase_add_loop_test(tc, test_negative_for_unsigned, 0, N(spec));
    tcase_add_loop_test(tc, test_missing, 0, N(spec));
    tcase_add_loop_test(tc, test_duplicate, 0, N(spec));
    tcase_add_loop_test(tc, test_unknown_key, GS_MSG_NONE + 1, GS_MSG__COUNT);
    tcase_add_loop_test(tc, test_string_limits, 0, N(spec));
    tcase_add_loop_test(tc, test_bad_utf8, 0, N(bad_utf8));
    suite_add_tcase(s, tc);

    tc = tcase_create("frames");
    tcase_add_loop_test(tc, test_frames, 0, N(frames));
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_frame_limit);
    tcase_add_test(tc, test_custom_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("encoder");
    tcase_add_test(tc, test_encode_too_big);
    tcase_add_test(tc, test_encode_refuses_invalid);
    tcase_add_test(tc, test_encode_other_version);
    suite_add_tcase(s, tc);

    tc = tcase_create("api");
    tcase_add_test(tc, test_add_change_and_clear);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_limits_default);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gst_run_suite(msg_suite());
}
