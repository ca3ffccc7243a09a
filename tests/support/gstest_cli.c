/*
 * gstest_cli.c: reading gridnode's JSON output in tests (see gstest_cli.h).
 * Only what gridnode writes is understood: flat objects, strings with the
 * escapes of JSON, \u escapes of the Basic Multilingual Plane.
 */
#include "gstest_cli.h"

#include <stdio.h>

/* Appends the UTF-8 encoding of code point cp (below 0x10000); returns its
 * length. */
static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

char *gst_json_get(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    if (*p != '"')
        return strndup(p, strcspn(p, ",}]\n"));
    p++;
    /* An escape is never shorter than what it stands for, so the rest of the
     * text is room enough. */
    char *out = malloc(strlen(p) + 1), *o = out;
    ck_assert_ptr_nonnull(out);
    for (; *p && *p != '"'; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (*++p) {
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned cp = 0;
            ck_assert_msg(sscanf(p + 1, "%4x", &cp) == 1, "bad \\u escape in %s", json);
            o += put_utf8(o, cp);
            p += 4;
            break;
        }
        default: *o++ = *p; break; /* \" \\ \/ */
        }
    }
    ck_assert_msg(*p == '"', "unterminated string for %s in %s", key, json);
    *o = '\0';
    return out;
}

bool gst_json_set_has(const char *json, const char *key, const char *code)
{
    char *v = gst_json_get(json, key);
    bool found = false;
    if (v) {
        char *save = NULL;
        for (char *t = strtok_r(v, ";", &save); t; t = strtok_r(NULL, ";", &save))
            found |= !strcmp(t, code);
    }
    free(v);
    return found;
}
