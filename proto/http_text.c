/*
 * http_text.c: the text and password helpers of gridsync/http.h that need no
 * server: HTML escaping (every page of both web doors and the sheet model's
 * HTML renderer escape through gs_html_escape, one piece of code), printf
 * that escapes its %s arguments, URL query escaping, and argon2id password
 * hashes through libsodium.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gridsync/http.h"
#include "gridsync/mpack.h"

void gs_html_escape(gs_buf *b, const char *s)
{
    if (!s)
        return;
    const char *run = s; /* bytes copied as they are, in one append */
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        gs_buf_append(b, run, (size_t)(s - run));
        gs_buf_puts(b, rep);
        run = s + 1;
    }
    gs_buf_append(b, run, (size_t)(s - run));
}

/* One conversion of gs_html_printf other than %s: spec is "%...X" (flags,
 * width, precision, length and the conversion); the argument is taken from
 * ap by its length modifier and type. */
static void put_number(gs_buf *b, const char *spec, char conv, const char *len, va_list *ap)
{
    char tmp[128];
    int n;
    if (strchr("diouxXc", conv)) {
        bool sgn = conv == 'd' || conv == 'i';
        if (!strcmp(len, "ll") || !strcmp(len, "j"))
            n = sgn ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, long long))
                    : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned long long));
        else if (!strcmp(len, "l"))
            n = sgn ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, long))
                    : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned long));
        else if (!strcmp(len, "z") || !strcmp(len, "t"))
            n = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, size_t));
        else
            n = sgn || conv == 'c' ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, int))
                                   : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned));
    } else if (strchr("feEgGaA", conv)) {
        n = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, double));
    } else if (conv == 'p') {
        n = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, void *));
    } else {
        return; /* not a conversion this function knows: a programmer error */
    }
    if (n > 0)
        gs_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void gs_html_printf(gs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *p = fmt;
    while (*p) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            gs_buf_puts(b, p);
            break;
        }
        gs_buf_append(b, p, (size_t)(pct - p));
        const char *q = pct + 1;
        if (*q == '%') {
            gs_buf_putc(b, '%');
            p = q + 1;
            continue;
        }
        q += strspn(q, "-+ #0");            /* flags */
        q += strspn(q, "0123456789");       /* width */
        if (*q == '.')
            q += 1 + strspn(q + 1, "0123456789"); /* precision */
        const char *lstart = q;
        q += strspn(q, "hlLjzt");
        char len[4] = "";
        size_t ln = (size_t)(q - lstart);
        if (ln < sizeof len)
            memcpy(len, lstart, ln), len[ln] = '\0';
        char conv = *q;
        if (!conv)
            break;
        if (conv == 's') {
            /* the precision of %.*s is not supported; %.Ns limits the bytes */
            const char *s = va_arg(ap, const char *);
            const char *dot = memchr(pct, '.', (size_t)(q - pct));
            if (s && dot) {
                size_t max = (size_t)strtoul(dot + 1, NULL, 10);
                char *cut = strndup(s, max);
                gs_html_escape(b, cut);
                free(cut);
            } else {
                gs_html_escape(b, s ? s : "(null)");
            }
        } else {
            char spec[32];
            size_t sn = (size_t)(q - pct) + 1;
            if (sn < sizeof spec) {
                memcpy(spec, pct, sn);
                spec[sn] = '\0';
                put_number(b, spec, conv, len, &ap);
            }
        }
        p = q + 1;
    }
    va_end(ap);
}

void gs_url_escape(gs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            gs_buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            gs_buf_append(b, e, 3);
        }
    }
}

/* argon2id's cost: 19 MiB and 2 passes (OWASP's first recommended setting).
 * libsodium's "interactive" limits take 64 MiB for each login, twice the
 * village desk's whole memory budget on an office PC; the parameters are
 * kept in the hash string, so a hash made with other limits still checks. */
#define PW_MEMLIMIT ((size_t)19 << 20)
#define PW_OPSLIMIT 2ULL

int gs_password_hash(const char *password, char *out, size_t cap, gs_errbuf *eb)
{
    if (cap < crypto_pwhash_STRBYTES)
        return gs_errf(eb, GS_EINVAL, "password hash: buffer of %zu bytes, %d needed", cap,
                       (int)crypto_pwhash_STRBYTES);
    if (sodium_init() < 0)
        return gs_errf(eb, GS_EIO, "password hash: libsodium could not start");
    if (crypto_pwhash_str(out, password, strlen(password), PW_OPSLIMIT, PW_MEMLIMIT) != 0)
        return gs_errf(eb, GS_ENOMEM, "password hash: out of memory (argon2id needs %zu MiB)",
                       PW_MEMLIMIT >> 20);
    return GS_OK;
}

bool gs_password_check(const char *hash, const char *password)
{
    if (!hash || !password || strnlen(hash, crypto_pwhash_STRBYTES) == crypto_pwhash_STRBYTES ||
        sodium_init() < 0)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

bool gs_password_long_enough(const char *password)
{
    size_t n = strlen(password);
    return gs_utf8_valid(password, n) && gs_utf8_chars(password, n) >= GS_PASSWORD_MIN_CHARS;
}
