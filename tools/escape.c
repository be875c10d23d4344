/* escape.c -- guest bytes to safe text and valid UTF-8 (conventions in escape.h). */
#include "escape.h"

#include <string.h>

size_t utf8_char_len(const unsigned char *s, size_t n, size_t *bad)
{
    *bad = 1;
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    /* Well-formed sequences (Unicode table 3-7): the lead byte fixes the
     * length and the range of the second byte; later bytes are 80..BF. */
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* below: overlong */
        else if (c == 0xed)
            hi = 0x9f; /* above: UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* below: overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above: beyond U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    }
    size_t ok = 1;
    while (ok < len && ok < n) {
        unsigned char b = s[ok];
        if (ok == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            break;
        ok++;
    }
    if (ok == len)
        return len;
    *bad = ok; /* the maximal subpart: lead byte and the continuations that fit */
    return 0;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad;
    while (i < n) {
        size_t len = utf8_char_len(u + i, n - i, &bad);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

/* An output buffer that takes whole pieces only and counts what it needed. */
struct sink {
    char *out;
    size_t size, used, need;
    bool full;
};

static void put(struct sink *k, const char *s, size_t len)
{
    /* After the first piece that does not fit, nothing more is written:
     * a truncated result is a prefix of the full one. */
    if (!k->full && k->used + len < k->size) {
        memcpy(k->out + k->used, s, len);
        k->used += len;
    } else {
        k->full = true;
    }
    k->need += len;
}

static size_t finish(struct sink *k)
{
    if (k->size > 0)
        k->out[k->used] = '\0';
    return k->need;
}

static void put_octal(struct sink *k, unsigned char c)
{
    char e[4] = {'\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7))};
    put(k, e, 4);
}

static unsigned decode(const unsigned char *s, size_t len)
{
    static const unsigned char lead_mask[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    unsigned cp = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3f);
    return cp;
}

/* Characters a terminal acts on or that reorder the text around them. */
static bool misleading(unsigned cp, unsigned flags)
{
    return cp < 0x20 || cp == 0x7f || cp == '\\' || (cp >= 0x80 && cp <= 0x9f) ||
           cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || (cp == ' ' && (flags & ESC_SPACE));
}

size_t esc_text(char *out, size_t outsz, const char *in, size_t n, unsigned flags)
{
    struct sink k = {out, outsz, 0, 0, false};
    const unsigned char *u = (const unsigned char *)in;
    size_t i = 0, bad;
    while (i < n) {
        size_t len = utf8_char_len(u + i, n - i, &bad);
        size_t take = len ? len : bad;
        if (!len || misleading(decode(u + i, len), flags)) {
            for (size_t j = 0; j < take; j++)
                put_octal(&k, u[i + j]);
        } else {
            put(&k, in + i, len);
        }
        i += take;
    }
    return finish(&k);
}

size_t esc_utf8(char *out, size_t outsz, const char *in, size_t n)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    struct sink k = {out, outsz, 0, 0, false};
    const unsigned char *u = (const unsigned char *)in;
    size_t i = 0, bad;
    while (i < n) {
        size_t len = utf8_char_len(u + i, n - i, &bad);
        if (len) {
            put(&k, in + i, len);
            i += len;
        } else {
            put(&k, replacement, 3);
            i += bad;
        }
    }
    return finish(&k);
}

size_t esc_hex(char *out, size_t outsz, const char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    struct sink k = {out, outsz, 0, 0, false};
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        char h[2] = {digits[c >> 4], digits[c & 15]};
        put(&k, h, 2);
    }
    return finish(&k);
}
