/* test_escape.c -- tools/escape.c on synthetic names a hostile guest could choose. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/escape.h"
#include "../unit/check.h"

#define FFFD "\xef\xbf\xbd"

static int text_is(const char *in, size_t n, unsigned flags, const char *want)
{
    char out[256];
    size_t need = esc_text(out, sizeof(out), in, n, flags);
    if (need != strlen(want) || strcmp(out, want)) {
        fprintf(stderr, "esc_text: got '%s', want '%s'\n", out, want);
        return 0;
    }
    return 1;
}

static int utf8_is(const char *in, size_t n, const char *want)
{
    char out[256];
    size_t need = esc_utf8(out, sizeof(out), in, n);
    if (need != strlen(want) || strcmp(out, want)) {
        fprintf(stderr, "esc_utf8: got '%s', want '%s'\n", out, want);
        return 0;
    }
    return 1;
}

#define TEXT(in, flags, want) CHECK(text_is(in, sizeof(in) - 1, flags, want))
#define UTF8(in, want) CHECK(utf8_is(in, sizeof(in) - 1, want))

/* Undo esc_text: \ooo back to the byte. Returns the length, or -1 if malformed. */
static long unescape(const char *s, char *out)
{
    long n = 0;
    while (*s) {
        if (*s == '\\') {
            for (int i = 1; i <= 3; i++)
                if (s[i] < '0' || s[i] > '7')
                    return -1;
            out[n++] = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
            s += 4;
        } else {
            out[n++] = *s++;
        }
    }
    return n;
}

static void test_controls(void)
{
    TEXT("plain-name_1.2", 0, "plain-name_1.2");
    TEXT("a\nb", 0, "a\\012b");
    TEXT("evil\n00400000-00401000 r-xp 00000000 /bin/x", 0,
         "evil\\01200400000-00401000 r-xp 00000000 /bin/x");
    TEXT("\x1b[2J\x1b]0;title\x07", 0, "\\033[2J\\033]0;title\\007");
    TEXT("\r\t\x7f", 0, "\\015\\011\\177");
    TEXT("back\\slash", 0, "back\\134slash");
    TEXT("a b", 0, "a b");
    TEXT("a b", ESC_SPACE, "a\\040b");
    /* A NUL inside the bytes given is escaped too (the length counts, not C strings). */
    CHECK(text_is("a\0b", 3, 0, "a\\000b"));
    /* JSON strings keep controls: the JSON writer escapes them itself. */
    UTF8("a\nb\x1b", "a\nb\x1b");
}

static void test_high_bytes(void)
{
    /* Each byte 0x80-0xff on its own is invalid UTF-8. */
    for (unsigned b = 0x80; b <= 0xff; b++) {
        char in[1] = {(char)b}, want[8];
        snprintf(want, sizeof(want), "\\%03o", b);
        CHECK(text_is(in, 1, 0, want));
        CHECK(utf8_is(in, 1, FFFD));
        CHECK(!utf8_valid(in, 1));
    }
    TEXT("x\xffy", 0, "x\\377y");
    UTF8("x\xff\xfey", "x" FFFD FFFD "y");
}

static void test_invalid_utf8(void)
{
    /* Overlong forms of '/' and NUL, surrogates, beyond U+10FFFF: every byte invalid. */
    UTF8("\xc0\xaf", FFFD FFFD);
    TEXT("\xc0\xaf", 0, "\\300\\257");
    UTF8("\xc1\xbf", FFFD FFFD);
    UTF8("\xe0\x80\xaf", FFFD FFFD FFFD);
    UTF8("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
    UTF8("\xed\xa0\x80", FFFD FFFD FFFD);
    UTF8("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
    UTF8("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
    /* A character cut short is one replacement (its maximal subpart). */
    UTF8("\xe2\x82", FFFD);
    UTF8("\xe2\x82" "A", FFFD "A");
    UTF8("\xf0\x9f\x98", FFFD);
    TEXT("\xe2\x82" "A", 0, "\\342\\202A");
    CHECK(!utf8_valid("\xc0\xaf", 2));
    CHECK(!utf8_valid("\xed\xa0\x80", 3));
    CHECK(!utf8_valid("\xe2\x82", 2));
}

static void test_valid_utf8(void)
{
    TEXT("h\xc3\xa9llo", 0, "h\xc3\xa9llo");
    TEXT("\xe6\x97\xa5\xe6\x9c\xac", 0, "\xe6\x97\xa5\xe6\x9c\xac");
    TEXT("\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");
    TEXT("\xf4\x8f\xbf\xbf", 0, "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    UTF8("h\xc3\xa9llo \xf0\x9f\x98\x80", "h\xc3\xa9llo \xf0\x9f\x98\x80");
    CHECK(utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    CHECK(utf8_valid("", 0));
    /* Valid but acted on by terminals (C1 CSI) or reordering text (RLO). */
    TEXT("\xc2\x9b" "2J", 0, "\\302\\2332J");
    TEXT("a\xe2\x80\xae" "b", 0, "a\\342\\200\\256b");
    UTF8("a\xe2\x80\xae" "b", "a\xe2\x80\xae" "b");
}

static void test_hex_and_truncation(void)
{
    char out[16];
    CHECK_EQ(esc_hex(out, sizeof(out), "\x00\xff\x0a" "A", 4), 8);
    CHECK(!strcmp(out, "00ff0a41"));
    /* Truncated output is a prefix and never ends inside an escape. */
    CHECK_EQ(esc_text(out, 6, "a\nb", 3, 0), 6);
    CHECK(!strcmp(out, "a\\012"));
    CHECK_EQ(esc_text(out, 4, "a\nb", 3, 0), 6);
    CHECK(!strcmp(out, "a"));
    CHECK_EQ(esc_utf8(out, 3, "\xff", 1), 3);
    CHECK(!strcmp(out, ""));
    CHECK_EQ(esc_text(out, 0, "abc", 3, 0), 3);
}

/* Random names: the text form has no control byte, is valid UTF-8 and unescapes
 * to the input; the JSON form is valid UTF-8 and equal to the input when that was. */
static void test_random(void)
{
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char in[24], text[ESC_TEXT_SIZE(24)], utf[ESC_UTF8_SIZE(24)], back[24];
        size_t n = (size_t)(round % 24);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* Mostly bytes near UTF-8 boundaries, so valid sequences occur too. */
            static const unsigned char pick[] = {'a', ' ', '\\', '\n', 0x1b, 0x7f, 0x80, 0x9b,
                                                 0xbf, 0xc0, 0xc2, 0xe0, 0xe2, 0xed, 0xf0, 0xf4,
                                                 0xff, 0xa0, 0x8f, 0x90};
            in[i] = (char)(r & 1 ? pick[(r >> 1) % sizeof(pick)] : (r >> 1) & 0xff);
        }
        size_t tn = esc_text(text, sizeof(text), in, n, ESC_SPACE);
        CHECK(tn == strlen(text));
        for (size_t i = 0; i < tn; i++)
            CHECK((unsigned char)text[i] >= 0x20 && text[i] != 0x7f && text[i] != ' ');
        CHECK(utf8_valid(text, tn));
        CHECK(unescape(text, back) == (long)n && !memcmp(back, in, n));
        size_t un = esc_utf8(utf, sizeof(utf), in, n);
        CHECK(utf8_valid(utf, un));
        if (utf8_valid(in, n))
            CHECK(un == n && !memcmp(utf, in, n));
        if (check_failures) {
            fprintf(stderr, "failed at round %d\n", round);
            return;
        }
    }
}

int main(void)
{
    test_controls();
    test_high_bytes();
    test_invalid_utf8();
    test_valid_utf8();
    test_hex_and_truncation();
    test_random();
    CHECK_DONE();
}
