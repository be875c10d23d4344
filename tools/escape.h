/*
 * escape.h -- making guest-chosen bytes safe to print. Names read from guest
 * memory (comm, file names, module and symbol names, kernel strings) are
 * arbitrary bytes; printed raw they can forge lines, drive the terminal or
 * make JSON that parsers reject.
 *
 * Text output (the /proc convention of /proc/PID/maps and /proc/mounts):
 * a byte that could mislead is written as a backslash and three octal digits,
 * e.g. newline as \012, ESC as \033, backslash itself as \134. Escaped are:
 * control bytes (0x00-0x1f, 0x7f), the backslash, every byte of an invalid
 * UTF-8 sequence, and every byte of a valid UTF-8 character that a terminal
 * acts on or that reorders text (C1 controls U+0080-U+009F, the bidi
 * controls U+200E-U+200F, U+202A-U+202E, U+2066-U+2069). With ESC_SPACE a
 * space is escaped too (\040), for a field that is not the last on its line.
 * Valid UTF-8 otherwise passes unchanged. The escaping can be undone exactly.
 *
 * JSON output: a string is valid UTF-8. When the guest's bytes are valid
 * UTF-8 the string is exactly those bytes; otherwise each maximal invalid
 * subsequence becomes U+FFFD (as Python's errors="replace" does), and the
 * tool adds a KEY_hex field with the raw bytes in hex (see tool.h).
 */
#ifndef XA_ESCAPE_H
#define XA_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

enum { ESC_SPACE = 1u << 0 };

/* Output sizes that always suffice for @n input bytes (with the NUL). */
#define ESC_TEXT_SIZE(n) (4 * (n) + 1)
#define ESC_UTF8_SIZE(n) (3 * (n) + 1)
#define ESC_HEX_SIZE(n) (2 * (n) + 1)

/*
 * Length of the valid UTF-8 character at @s (at most @n bytes available):
 * 1 to 4, or 0 when the bytes there do not start a valid character (then
 * *bad is the length of the maximal invalid subpart to replace, >= 1).
 */
size_t utf8_char_len(const unsigned char *s, size_t n, size_t *bad);

/* True when all @n bytes are valid UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool utf8_valid(const char *s, size_t n);

/*
 * Each writes a NUL-terminated result into @out (truncated to @outsz - 1
 * bytes, never in the middle of an escape) and returns the length the whole
 * result needs, without the NUL.
 */
size_t esc_text(char *out, size_t outsz, const char *in, size_t n, unsigned flags);
size_t esc_utf8(char *out, size_t outsz, const char *in, size_t n);
size_t esc_hex(char *out, size_t outsz, const char *in, size_t n);

#endif /* XA_ESCAPE_H */
