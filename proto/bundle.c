/*
 * bundle.c: parsing and writing node bundles (see bundle.h). The parser
 * treats the file as hostile: bounded size, every line checked, nothing
 * accepted that it does not understand.
 */
#include <stdio.h>
#include <string.h>

#include "gridsync/bundle.h"
#include "gridsync/change.h"
#include "gridsync/mpack.h"

#include <zmq.h>

bool gs_z85_key_valid(const char *s)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    return strlen(s) == 40 && strspn(s, z85) == 40;
}

bool gs_village_code_valid(const char *s)
{
    return strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

bool gs_endpoint_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 7 || n > 255 || !gs_utf8_valid(s, n))
        return false;
    if (!strncmp(s, "ipc://", 6))
        return true;
    if (strncmp(s, "tcp://", 6))
        return false;
    const char *colon = strrchr(s + 6, ':');
    return colon && colon > s + 6 && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

typedef struct key_spec {
    const char *key;
    size_t offset, cap;
    bool required;
    bool (*valid)(const char *);
} key_spec;

/* No control characters (they would be printed raw by `status`). */
static bool printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return gs_utf8_valid(s, strlen(s));
}

static bool any_text(const char *s)
{
    return printable(s);
}

static bool format_ok(const char *s)
{
    return !strcmp(s, GS_BUNDLE_FORMAT);
}

static bool origin_ok(const char *s)
{
    return gs_origin_valid(s) && strcmp(s, GS_HUB_ORIGIN);
}

#define SPEC(k, field, req, fn) {k, offsetof(gs_bundle, field), sizeof(((gs_bundle *)0)->field), req, fn}
static const key_spec specs[] = {
    {"format", 0, 0, true, format_ok},
    SPEC("node_id", node_id, true, origin_ok),
    SPEC("village", village, true, gs_village_code_valid),
    SPEC("name", name, false, any_text),
    SPEC("hub_endpoint", hub_endpoint, true, gs_endpoint_valid),
    SPEC("hub_public_key", hub_public_key, true, gs_z85_key_valid),
    SPEC("node_public_key", node_public_key, true, gs_z85_key_valid),
    SPEC("node_secret_key", node_secret_key, false, gs_z85_key_valid),
};
#define NSPECS (sizeof specs / sizeof specs[0])

int gs_bundle_parse(const char *text, size_t len, gs_bundle *out, gs_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (len > GS_BUNDLE_MAX_BYTES)
        return gs_errf(eb, GS_ETOOBIG, "bundle: %zu bytes, more than a bundle can be", len);
    if (memchr(text, '\0', len))
        return gs_errf(eb, GS_EMALFORMED, "bundle: contains a NUL byte (not a text file)");
    bool seen[NSPECS] = {false};
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        char line[512];
        size_t n = (size_t)(le - p);
        if (n >= sizeof line)
            return gs_errf(eb, GS_ETOOBIG, "bundle line %zu: too long", lineno);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *s = line;
        if (lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
            s += 3;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return gs_errf(eb, GS_EMALFORMED, "bundle line %zu: expected key = value", lineno);
        char *k_end = eq;
        while (k_end > s && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        *k_end = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vn = strlen(v);
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t' || v[vn - 1] == '\r'))
            v[--vn] = '\0';
        size_t i = 0;
        while (i < NSPECS && strcmp(specs[i].key, s))
            i++;
        if (i == NSPECS)
            return gs_errf(eb, GS_EUNKNOWN, "bundle line %zu: unknown key \"%.40s\"", lineno, s);
        if (seen[i])
            return gs_errf(eb, GS_EMALFORMED, "bundle line %zu: %s given twice", lineno, s);
        seen[i] = true;
        if ((specs[i].cap && vn >= specs[i].cap) || !printable(v) || !specs[i].valid(v)) {
            /* never echo a secret, even a damaged one */
            if (strstr(specs[i].key, "secret"))
                return gs_errf(eb, GS_EINVAL, "bundle line %zu: %s is not a valid key", lineno,
                               specs[i].key);
            return gs_errf(eb, GS_EINVAL, "bundle line %zu: %s: \"%.60s\" is not valid", lineno,
                           specs[i].key, printable(v) ? v : "(control characters)");
        }
        if (specs[i].cap)
            memcpy((char *)out + specs[i].offset, v, vn + 1);
    }
    for (size_t i = 0; i < NSPECS; i++)
        if (specs[i].required && !seen[i]) {
            memset(out, 0, sizeof *out);
            return gs_errf(eb, GS_EREQUIRED,
                           "bundle: %s is missing (is the file truncated or not a bundle?)",
                           specs[i].key);
        }
    if (out->node_secret_key[0]) {
        char derived[41];
        if (zmq_curve_public(derived, out->node_secret_key) != 0 ||
            strcmp(derived, out->node_public_key)) {
            memset(out, 0, sizeof *out);
            return gs_errf(eb, GS_EINVAL,
                           "bundle: node_secret_key does not belong to node_public_key");
        }
    }
    return GS_OK;
}

void gs_bundle_format(const gs_bundle *b, gs_buf *out)
{
    gs_buf_puts(out, "# gridsync 节点安装包 node bundle: install with `gridnode init --bundle FILE`.\n"
                     "# Keep it secret when it holds node_secret_key; delete it once installed.\n");
    gs_buf_printf(out, "format = %s\n", GS_BUNDLE_FORMAT);
    for (size_t i = 1; i < NSPECS; i++) {
        const char *v = (const char *)b + specs[i].offset;
        if (*v)
            gs_buf_printf(out, "%s = %s\n", specs[i].key, v);
    }
}
