/*
 * city.c: the city's own changes (see city.h). The hub's chain state is read
 * from its own entries in the log, so there is no second copy to keep right.
 *
 * Epochs. The city's changes are numbered 1, 2, 3 ... on a chain of their
 * own, and the villages keep the ones they receive, by (origin, seq). A hub
 * restored from a backup has lost the changes it numbered after the copy, but
 * the villages still hold them; numbering on from the copy's head would give
 * a new decision the number of a lost one, and a village holding the lost
 * one would skip the new one as already held. So a chain is continued only
 * while the database is provably the one that wrote its last change: the
 * chain file DB.chain beside the database (like DB.key) names the chain and
 * its head (seq and hash) as of the last city write, and is rewritten with
 * each one, before its transaction commits. A database put back from a copy
 * is behind that file (or has none beside it): the next city write starts a
 * new chain, "hub.N-XXXXXXXX", N one more than any chain the database and
 * the file know and XXXXXXXX random, so that no restore, even two from the
 * same copy or one that lost the file, can name a chain that was used. The
 * closed chain stays what it was; the changes it lost come back from the
 * villages (server.c, RETURN) and are appended to it.
 *
 * A write that is rolled back leaves the file ahead of the database; the
 * next write then starts a new chain too, which costs nothing but a name.
 *
 * The city's chain hashes are keyed: h(n) = BLAKE2b(h(n-1) || body(n)) with
 * the hub's own 32-byte key (meta city_key, made at the first city write and
 * in every backup since), which never leaves the hub. A village holds the
 * hashes of the city's changes it received and learns the hub's heads, so
 * with an unkeyed hash any village could make up a "city decision" that
 * follows from the hub's head and give it "back"; with the key only what
 * the city wrote follows. Nodes store and compare these hashes as they come
 * and never recompute them, so nothing else changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "gridsync/hlc.h"

/* The key of the city's chain hashes, made (inside the caller's
 * transaction) when create and there is none yet; GS_ENOTFOUND when there
 * is none and !create. */
static int city_key(hub_store *s, uint8_t key[crypto_generichash_KEYBYTES], bool create,
                    gs_errbuf *eb)
{
    char hex[2 * crypto_generichash_KEYBYTES + 2];
    size_t bin = 0;
    hub_store_meta_text(s, HUB_META_CITY_KEY, hex, sizeof hex);
    if (hex[0] && sodium_hex2bin(key, crypto_generichash_KEYBYTES, hex, strlen(hex), NULL, &bin,
                                 NULL) == 0 &&
        bin == crypto_generichash_KEYBYTES)
        return GS_OK;
    if (hex[0])
        return gs_errf(eb, GS_ECHAIN, "the hub's city_key in meta is damaged");
    if (!create)
        return gs_errf(eb, GS_ENOTFOUND, "this hub has never written a keyed city change");
    randombytes_buf(key, crypto_generichash_KEYBYTES);
    sodium_bin2hex(hex, sizeof hex, key, crypto_generichash_KEYBYTES);
    return hub_store_meta_set_text(s, HUB_META_CITY_KEY, hex, eb);
}

int hub_city_chain_next(hub_store *s, const uint8_t prev[GS_HASH_LEN], const void *body,
                        size_t len, uint8_t out[GS_HASH_LEN], gs_errbuf *eb)
{
    uint8_t key[crypto_generichash_KEYBYTES];
    int rc = city_key(s, key, false, eb);
    if (rc)
        return rc;
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, sizeof key, GS_HASH_LEN);
    crypto_generichash_update(&st, prev, GS_HASH_LEN);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, out, GS_HASH_LEN);
    sodium_memzero(key, sizeof key);
    return GS_OK;
}

/* What the chain file says: the chain written last and its head. */
typedef struct chain_mark {
    char origin[GS_ORIGIN_MAX + 1];
    uint64_t seq;
    uint8_t hash[GS_HASH_LEN];
} chain_mark;

/* The chain file's path: the database's own path + ".chain". */
static void mark_path(hub_store *s, char *out, size_t cap)
{
    const char *db = hub_store_path(s);
    snprintf(out, cap, "%s.chain", db ? db : "gridhub.db");
}

/* Reads the chain file; false when it is missing or unreadable. */
static bool mark_read(hub_store *s, chain_mark *m)
{
    char path[4200], line[256], hex[2 * GS_HASH_LEN + 2];
    mark_path(s, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    memset(m, 0, sizeof *m);
    size_t bin = 0;
    ok = ok && sscanf(line, "%64s %" SCNu64 " %65s", m->origin, &m->seq, hex) == 3 &&
         sodium_hex2bin(m->hash, GS_HASH_LEN, hex, strlen(hex), NULL, &bin, NULL) == 0 &&
         bin == GS_HASH_LEN;
    return ok;
}

/* Replaces the chain file (a temporary file renamed over it, so that it is
 * never half written). */
static int mark_write(hub_store *s, const chain_mark *m, gs_errbuf *eb)
{
    char path[4200], tmp[4300], hex[2 * GS_HASH_LEN + 1];
    mark_path(s, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    sodium_bin2hex(hex, sizeof hex, m->hash, GS_HASH_LEN);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "%s %" PRIu64 " %s\n", m->origin, m->seq, hex) > 0;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        return gs_errf(eb, GS_EIO, "%s: %s (the city's chain file; nothing was written)", path,
                       strerror(errno));
    return GS_OK;
}

/* The chain the city writes on now ("hub" until a restore was detected). */
static void current_origin(hub_store *s, char out[GS_ORIGIN_MAX + 1])
{
    hub_store_meta_text(s, HUB_META_OWN_ORIGIN, out, GS_ORIGIN_MAX + 1);
    if (!gs_origin_is_hub(out))
        snprintf(out, GS_ORIGIN_MAX + 1, "%s", GS_HUB_ORIGIN);
}

/* The epoch number in a chain's name: 1 for "hub", N for "hub.N-...". */
static unsigned long epoch_of(const char *origin)
{
    if (!gs_origin_is_hub(origin))
        return 0;
    if (!strcmp(origin, GS_HUB_ORIGIN))
        return 1;
    return strtoul(origin + sizeof GS_HUB_EPOCH_PREFIX - 1, NULL, 10);
}

/* Starts a new chain: a name beyond every chain the log, the meta and the
 * chain file know, with a random tag (see the banner). */
static int new_epoch(hub_store *s, const chain_mark *mark, bool have_mark,
                     char out[GS_ORIGIN_MAX + 1], gs_errbuf *eb)
{
    gs_wire_head heads[GS_MAX_HEADS];
    size_t n = 0;
    int rc = hub_store_own_heads(s, NULL, heads, GS_MAX_HEADS, &n, eb);
    if (rc)
        return rc;
    char cur[GS_ORIGIN_MAX + 1];
    current_origin(s, cur);
    unsigned long top = epoch_of(cur);
    for (size_t i = 0; i < n; i++)
        if (epoch_of(heads[i].origin) > top)
            top = epoch_of(heads[i].origin);
    if (have_mark && epoch_of(mark->origin) > top)
        top = epoch_of(mark->origin);
    snprintf(out, GS_ORIGIN_MAX + 1, "%s%lu-%08" PRIx32, GS_HUB_EPOCH_PREFIX, top + 1,
             randombytes_random());
    rc = hub_store_meta_set_text(s, HUB_META_OWN_ORIGIN, out, eb);
    if (!rc)
        fprintf(stderr,
                "gridhub: 新的城市链 the city's changes continue on a new chain, %s: this "
                "database is not the one that wrote the city's last change (restored from a "
                "backup?), so the numbers after its copy may be held by the villages\n",
                out);
    return rc;
}

/* The chain the next city change goes on and its head, starting a new one
 * unless this database is provably the one that wrote the current one's
 * last change (see the banner). */
static int own_head(hub_store *s, char origin[GS_ORIGIN_MAX + 1], uint64_t *seq,
                    uint8_t head[GS_HASH_LEN], gs_errbuf *eb)
{
    current_origin(s, origin);
    int rc = hub_store_origin_head(s, origin, seq, head, eb);
    if (rc)
        return rc;
    chain_mark mark;
    bool have = mark_read(s, &mark);
    char closed[GS_ORIGIN_MAX + 1];
    hub_store_meta_text(s, HUB_META_OWN_CLOSED, closed, sizeof closed);
    bool same = have && !strcmp(mark.origin, origin) && mark.seq == *seq &&
                !memcmp(mark.hash, head, GS_HASH_LEN);
    /* a hub that never wrote a city change (a new one) has nothing to reuse */
    gs_wire_head any;
    size_t n = 0;
    bool fresh = !have && !strcmp(origin, GS_HUB_ORIGIN) &&
                 hub_store_own_heads(s, NULL, &any, 1, &n, NULL) == GS_OK && n == 0;
    if ((same || fresh) && strcmp(closed, origin))
        return GS_OK;
    *seq = 0;
    memset(head, 0, GS_HASH_LEN);
    return new_epoch(s, &mark, have, origin, eb);
}

int hub_city_close_chain(hub_store *s, const char *origin, gs_errbuf *eb)
{
    char cur[GS_ORIGIN_MAX + 1];
    current_origin(s, cur);
    if (strcmp(cur, origin))
        return GS_OK; /* already closed: a new chain was started */
    return hub_store_meta_set_text(s, HUB_META_OWN_CLOSED, origin, eb);
}

int hub_city_put(hub_store *s, const gs_record *rec, gs_op op, gs_errbuf *eb)
{
    gs_change c = {0};
    uint8_t prev[GS_HASH_LEN], hash[GS_HASH_LEN];
    int rc = own_head(s, c.origin, &c.seq, prev, eb);
    if (rc)
        return rc;
    c.seq++;
    c.hlc = gs_hlc_tick((gs_hlc)hub_store_meta_int(s, HUB_META_HLC, 0), gs_wall_ms());
    c.op = op;
    c.rec = (gs_record *)rec; /* borrowed */
    gs_buf body = GS_BUF_INIT;
    gs_change_encode(&c, &body);
    if (body.err) {
        gs_buf_free(&body);
        return gs_errf(eb, GS_ENOMEM, "encoding a city change");
    }
    uint8_t key[crypto_generichash_KEYBYTES];
    rc = city_key(s, key, true, eb);
    sodium_memzero(key, sizeof key);
    if (!rc)
        rc = hub_city_chain_next(s, prev, body.data, body.len, hash, eb);
    if (!rc)
        rc = hub_store_append(s, &c, body.data, body.len, hash, NULL, true, eb);
    if (!rc)
        rc = hub_store_meta_set_int(s, HUB_META_HLC, (int64_t)c.hlc, eb);
    /* the mark before the commit: a database behind it is never taken for it */
    chain_mark mark = {{0}, c.seq, {0}};
    snprintf(mark.origin, sizeof mark.origin, "%s", c.origin);
    memcpy(mark.hash, hash, GS_HASH_LEN);
    if (!rc)
        rc = mark_write(s, &mark, eb);
    gs_buf_free(&body);
    return rc;
}

int hub_city_put_diff(hub_store *s, const gs_record *want, bool *changed, gs_errbuf *eb)
{
    gs_record *cur = NULL, *diff = gs_record_new(want->rt);
    if (!diff)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    bool exists = gs_replica_get(hub_store_replica(s), want->rt, gs_record_key(want), &cur,
                                 NULL) == GS_OK;
    gs_buf a = GS_BUF_INIT, b = GS_BUF_INIT;
    bool any = !exists;
    for (int i = 0; i < want->rt->nfields; i++) {
        if (want->v[i].state == GS_V_UNSET)
            continue;
        gs_buf_reset(&a);
        gs_buf_reset(&b);
        gs_record_format(want, i, &a);
        if (cur)
            gs_record_format(cur, i, &b);
        bool same = exists && gs_record_has(want, i) == gs_record_has(cur, i) &&
                    !strcmp(a.data ? a.data : "", b.data ? b.data : "");
        if (!same || i == want->rt->key || i == want->rt->scope) {
            any |= !same;
            gs_record_parse(diff, i, a.data ? a.data : "", NULL);
        }
    }
    gs_buf_free(&a);
    gs_buf_free(&b);
    int rc = any ? hub_city_put(s, diff, GS_OP_UPSERT, eb) : GS_OK;
    *changed = any && !rc;
    gs_record_destroy(&cur);
    gs_record_destroy(&diff);
    return rc;
}
