/*
 * kallsyms_tables.c -- find and decode kallsyms tables in a memory buffer.
 * The buffer is a copy of hostile guest memory: every offset is checked
 * against @len before use, counts are capped, token expansion is one level
 * (tokens are plain text) and bounded.
 */
#include "os/linux/kallsyms_tables.h"

#include <stdlib.h>
#include <string.h>

#include "os/linux/symtab.h"
#include "xenaccess.h"

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)
/* Round @x up to @a, a power of two (the table alignment: 8 or 4). */
#define ALIGN_TO(x, a) (((x) + (a) - 1) & ~(size_t)((a) - 1))

/* Lowest relative_base a 32-bit kernel can have (PAGE_OFFSET of VMSPLIT_1G). */
#define KERNEL32_MIN 0x40000000u

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

bool ksym_looks_like_token_index(const uint8_t *p, size_t avail)
{
    if (avail < KSYM_TOKEN_INDEX_SIZE || get16(p) != 0)
        return false;
    uint16_t prev = 0;
    for (int i = 1; i < 256; i++) {
        uint16_t v = get16(p + 2 * i);
        /* Each token is at least one char plus its NUL. */
        if (v < prev + 2 || v - prev > KSYM_TOKEN_MAX + 1)
            return false;
        prev = v;
    }
    return true;
}

static bool token_char_ok(uint8_t c)
{
    return c >= 0x20 && c < 0x7f;
}

int ksym_find_token_table(const uint8_t *buf, size_t len, size_t token_index,
                          size_t *token_table)
{
    if (token_index > len || len - token_index < KSYM_TOKEN_INDEX_SIZE ||
        !ksym_looks_like_token_index(buf + token_index, len - token_index))
        return XA_ENOENT;
    const uint8_t *idx = buf + token_index;
    size_t last = get16(idx + 2 * 255);

    /* Before the index: the last token's NUL, then up to 7 bytes of padding. */
    size_t q = token_index;
    size_t zeros = 0;
    while (q > 0 && buf[q - 1] == 0 && zeros < 9) {
        q--;
        zeros++;
    }
    if (zeros == 0 || zeros > 8 || q == 0)
        return XA_ENOENT;
    /* q is one past the last token's last char; find its start. */
    size_t start = q;
    while (start > 0 && buf[start - 1] != 0 && q - start <= KSYM_TOKEN_MAX)
        start--;
    if (start == 0 || q - start > KSYM_TOKEN_MAX || start < last)
        return XA_ENOENT;
    size_t table = start - last;
    /* 64-bit: both 8-aligned; 32-bit: both 4-aligned (either may be 8-aligned
     * by chance, which ksym_find_tables tells apart). */
    bool aligned8 = table % 8 == 0 && ALIGN8(q + 1) == token_index;
    bool aligned4 = table % 4 == 0 && ALIGN_TO(q + 1, 4) == token_index;
    if (!aligned8 && !aligned4)
        return XA_ENOENT;

    for (int i = 0; i < 256; i++) {
        size_t s = table + get16(idx + 2 * i);
        size_t e = i < 255 ? table + get16(idx + 2 * (i + 1)) - 1 : q;
        if (e <= s || e >= len || buf[e] != 0)
            return XA_ENOENT;
        for (size_t k = s; k < e; k++)
            if (!token_char_ok(buf[k]))
                return XA_ENOENT;
    }
    *token_table = table;
    return 0;
}

/* Markers of @msize bytes ending at @end (exclusive), read backwards: at
 * least four, each step what 256 names take (2 to 2 + KSYM_NAME_MAX bytes
 * each), and never below 0. */
static bool markers_end_here(const uint8_t *buf, size_t end, size_t msize)
{
    const uint64_t step_min = 256 * 2, step_max = 256 * (2 + (uint64_t)KSYM_NAME_MAX);
    uint64_t later = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = buf + end - (size_t)(i + 1) * msize;
        uint64_t v = msize == 4 ? get32(p) : get64(p);
        if (i > 0 && (v >= later || later - v < step_min || later - v > step_max))
            return false;
        later = v;
    }
    return true;
}

/* The tail of seqs_of_names ending at @end: 64 entries, each a big-endian
 * 3-byte symbol index below LINUX_SYMTAB_MAX, all distinct (the table is a
 * permutation). */
static bool seqs_end_here(const uint8_t *buf, size_t end)
{
    enum { N = 64 };
    uint32_t v[N];
    for (int i = 0; i < N; i++) {
        const uint8_t *p = buf + end - (size_t)(i + 1) * 3;
        v[i] = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
        if (v[i] >= LINUX_SYMTAB_MAX)
            return false;
        for (int k = 0; k < i; k++)
            if (v[k] == v[i])
                return false;
    }
    return true;
}

bool ksym_tables_precheck(const uint8_t *buf, size_t token_table)
{
    if (token_table < KSYM_PRECHECK_BEFORE)
        return false;
    /* u32 markers end 8-aligned after up to 4 bytes of zero padding. */
    if (markers_end_here(buf, token_table, 4) || markers_end_here(buf, token_table, 8))
        return true;
    if (get32(buf + token_table - 4) == 0 && markers_end_here(buf, token_table - 4, 4))
        return true;
    /* seqs_of_names (6.2/6.3, some 6.1): 3 bytes each, then zero padding. */
    for (size_t pad = 0; pad < 8; pad++) {
        if (pad && buf[token_table - pad] != 0)
            break;
        if (seqs_end_here(buf, token_table - pad))
            return true;
    }
    return false;
}

/* Length prefix of a compressed name: one byte, or two when the first has
 * bit 7 set (6.1+ "big symbols"). Returns bytes used, 0 when out of buffer. */
static size_t name_len_at(const uint8_t *buf, size_t end, size_t pos, size_t *out)
{
    if (pos >= end)
        return 0;
    size_t n = buf[pos];
    if (!(n & 0x80)) {
        *out = n;
        return 1;
    }
    if (pos + 1 >= end)
        return 0;
    *out = (n & 0x7f) | ((size_t)buf[pos + 1] << 7);
    return 2;
}

/* The next name's compressed bytes: *@pos moves past its length prefix,
 * *@clen counts them, all of them before @end; false when they are not. */
static inline bool next_name(const uint8_t *buf, size_t end, size_t *pos, size_t *clen)
{
    size_t used = name_len_at(buf, end, *pos, clen);
    if (!used || *clen == 0 || *clen > end - *pos - used)
        return false;
    *pos += used;
    return true;
}

/*
 * Walk the names region [names, names + size) for @n symbols, checking
 * every 256th against the markers. True when the walk lands on the end of
 * the region (modulo alignment) with every step inside it.
 */
static bool names_match_markers(const uint8_t *buf, size_t names, size_t size, uint32_t n,
                                size_t markers, size_t marker_size, struct ksym_work *work)
{
    size_t pos = names, end = names + size, spent_to = names;
    for (uint32_t i = 0; i < n; i++) {
        if (i % 256 == 0) {
            /* The bytes walked since the last marker, plus the marker. */
            if (!ksym_spend(work, pos - spent_to + marker_size))
                return false;
            spent_to = pos;
            const uint8_t *m = buf + markers + (size_t)(i / 256) * marker_size;
            uint64_t want = marker_size == 4 ? get32(m) : get64(m);
            if (want != pos - names)
                return false;
        }
        size_t l, used = name_len_at(buf, end, pos, &l);
        if (!used || l == 0 || l > KSYM_NAME_MAX || l > end - pos - used)
            return false;
        pos += used + l;
    }
    return ksym_spend(work, pos - spent_to) && end - pos < 8;
}

/* Markers at @m: monotonic, start at 0, below @names_size. */
static bool markers_plausible(const uint8_t *buf, size_t m, size_t count, size_t msize,
                              size_t names_size, struct ksym_work *work)
{
    uint64_t prev = 0;
    size_t i;
    for (i = 0; i < count; i++) {
        const uint8_t *p = buf + m + i * msize;
        uint64_t v = msize == 4 ? get32(p) : get64(p);
        if (i == 0 ? v != 0 : v <= prev)
            break;
        prev = v;
    }
    /* What was read, once: most candidates fail at the first marker. */
    return ksym_spend(work, (i + 1) * msize) && i == count && prev < names_size;
}

/*
 * With num_syms at @s, try the marker placements: markers end right before
 * the token table, or before seqs_of_names (3 bytes a symbol); entries u32
 * (4.20+) or unsigned long (older).
 */
static bool try_num_syms_at(const uint8_t *buf, size_t s, uint32_t n, struct ksym_layout *l)
{
    const size_t a = l->ptr_size; /* table alignment */
    size_t names = s + a;
    size_t nmark = ((size_t)n + 255) / 256;
    for (int seqs = 0; seqs <= 1; seqs++) {
        size_t mend = l->token_table;
        if (seqs) {
            size_t seqs_size = (size_t)n * 3;
            if (seqs_size > mend)
                continue;
            size_t ss = (mend - seqs_size) & ~(a - 1);
            if (ALIGN_TO(ss + seqs_size, a) != mend)
                continue;
            mend = ss;
        }
        for (size_t msize = 4; msize <= a; msize += 4) {
            if (nmark * msize > mend)
                continue;
            size_t ms = (mend - nmark * msize) & ~(a - 1);
            if (ALIGN_TO(ms + nmark * msize, a) != mend || ms <= names)
                continue;
            size_t names_size = ms - names;
            /* Each name takes at least 2 bytes (length + one token). */
            if (names_size / 2 < n)
                continue;
            if (!markers_plausible(buf, ms, nmark, msize, names_size, l->work))
                continue;
            if (!names_match_markers(buf, names, names_size, n, ms, msize, l->work))
                continue;
            l->num_syms_at = s;
            l->num_syms = n;
            l->names = names;
            l->names_size = names_size;
            l->markers = ms;
            l->has_seqs = seqs;
            return true;
        }
    }
    return false;
}

/* Address of symbol @i under the chosen rule. */
static uint64_t sym_addr(const uint8_t *buf, const struct ksym_layout *l, uint32_t i)
{
    int32_t off = (int32_t)get32(buf + l->offsets + (size_t)i * 4);
    if (l->ptr_size == 4) /* addresses wrap at 32 bits */
        return (uint32_t)(l->relative_base + (uint32_t)off);
    if (!l->absolute_percpu)
        return l->relative_base + (uint32_t)off;
    if (off >= 0)
        return (uint64_t)off;
    return l->relative_base - 1 - (uint64_t)(int64_t)off;
}

/* Offsets at @o and base at @r: base in the kernel half, addresses sorted. */
static bool offsets_plausible(const uint8_t *buf, size_t len, size_t o, size_t r,
                              struct ksym_layout *l)
{
    if (o > len || len - o < (size_t)l->num_syms * 4 || r > len || len - r < l->ptr_size)
        return false;
    /* relative_base is a kernel address: the upper half on 64-bit, at or
     * above the lowest PAGE_OFFSET on 32-bit. */
    uint64_t base = l->ptr_size == 4 ? get32(buf + r) : get64(buf + r);
    bool kernel = l->ptr_size == 4 ? base >= KERNEL32_MIN : (base >> 63) != 0;
    if (!kernel || !ksym_spend(l->work, 2 * (uint64_t)l->num_syms * 4))
        return false;
    size_t negative = 0;
    for (uint32_t i = 0; i < l->num_syms; i++)
        negative += (int32_t)get32(buf + o + (size_t)i * 4) < 0;
    l->offsets = o;
    l->relative_base_at = r;
    l->relative_base = base;
    /* Only x86-64 SMP kernels use the absolute per-cpu rule. */
    l->absolute_percpu = l->ptr_size == 8 && negative > l->num_syms / 2;
    size_t descents = 0;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < l->num_syms; i++) {
        uint64_t a = sym_addr(buf, l, i);
        descents += a < prev;
        prev = a;
    }
    return descents <= l->num_syms / 100;
}

/* Work units of the steps below, in bytes of memory streamed for the same
 * time (measured on the hostile tests' fake tables: a unit should cost about
 * what a byte of the page scan costs, so that the budget bounds time). */
#define POSITION_COST 32 /* one index entry looked at */
#define TRY_COST 256     /* one num_syms candidate tried (4 layouts) */
#define WORD32_COST 16   /* one 4-byte word of the 32-bit num_syms scan */

static bool num_syms_word(const uint8_t *buf, size_t s)
{
    uint32_t n = get32(buf + s);
    return get32(buf + s + 4) == 0 && n != 0 && n <= LINUX_SYMTAB_MAX;
}

size_t ksym_num_syms_positions(const uint8_t *buf, size_t len, uint64_t *out)
{
    size_t k = 0;
    for (size_t s = 0; s + 8 <= len; s += 8)
        if (num_syms_word(buf, s))
            out[k++] = (uint64_t)s << 32 | get32(buf + s);
    return k;
}

/* Can n symbols' names, markers and seqs fill the @dist bytes from num_syms
 * to the token table? (2 to 2 + KSYM_NAME_MAX bytes a name, 3 of seqs, 8 a
 * marker at most, padding.) Rules out most small integers far below. */
static bool distance_fits(uint64_t n, uint64_t dist)
{
    return dist >= 8 + 2 * n && dist <= 8 + n * (2 + KSYM_NAME_MAX + 3 + 1) + 64;
}

/* num_syms of a 64-bit kernel: the closest 8-aligned word below the tables
 * that fits (u32, then zero padding up to the 8-aligned names). */
static bool find_num_syms64(const uint8_t *buf, size_t len, struct ksym_layout *l)
{
    bool found = false;
    size_t scanned = 0, top = l->token_table & ~(size_t)7;
    if (l->syms_pos) {
        size_t lo = 0, hi = l->nr_syms_pos; /* first position >= top */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->syms_pos[mid] >> 32 < top)
                lo = mid + 1;
            else
                hi = mid;
        }
        /* Only the index is read until a word's value fits its distance. */
        for (size_t i = lo; i > 0 && !found;) {
            uint64_t e = l->syms_pos[--i];
            size_t s = (size_t)(e >> 32);
            uint32_t n = (uint32_t)e;
            if (++scanned % 512 == 0 && !ksym_spend(l->work, 512 * POSITION_COST))
                break;
            if (distance_fits(n, top - s) && s + 8 <= len && num_syms_word(buf, s) &&
                ksym_spend(l->work, TRY_COST))
                found = try_num_syms_at(buf, s, get32(buf + s), l);
        }
    } else {
        for (size_t s = top; s >= 8 && !found;) {
            s -= 8;
            if (++scanned % 4096 == 0 && !ksym_spend(l->work, 4096 * 8))
                break;
            if (num_syms_word(buf, s) && ksym_spend(l->work, TRY_COST))
                found = try_num_syms_at(buf, s, get32(buf + s), l);
        }
    }
    return found;
}

/* num_syms of a 32-bit kernel: a 4-aligned u32 directly followed by the
 * names, so no zero padding narrows the search; the distance to the token
 * table does, before any table is read. */
static bool find_num_syms32(const uint8_t *buf, struct ksym_layout *l)
{
    bool found = false;
    size_t scanned = 0, top = l->token_table & ~(size_t)3;
    for (size_t s = top; s >= 4 && !found;) {
        s -= 4;
        if (++scanned % 4096 == 0 && !ksym_spend(l->work, 4096 * WORD32_COST))
            break;
        uint32_t n = get32(buf + s);
        if (n != 0 && n <= LINUX_SYMTAB_MAX && distance_fits(n, top - s) &&
            ksym_spend(l->work, TRY_COST))
            found = try_num_syms_at(buf, s, n, l);
    }
    return found;
}

/* Offsets and relative_base for the num_syms found, in either order. */
static bool find_offsets(const uint8_t *buf, size_t len, struct ksym_layout *l)
{
    const size_t a = l->ptr_size;
    size_t n4 = (size_t)l->num_syms * 4;
    /* Old order: offsets, relative_base, then num_syms. */
    if (l->num_syms_at >= a + n4) {
        size_t r = l->num_syms_at - a;
        size_t o = (r - n4) & ~(a - 1);
        l->new_order = false;
        if (ALIGN_TO(o + n4, a) == r && offsets_plausible(buf, len, o, r, l))
            return true;
    }
    /* 6.4+ order: offsets and relative_base after the token index. */
    size_t o = ALIGN_TO(l->token_index + KSYM_TOKEN_INDEX_SIZE, a);
    l->new_order = true;
    return o <= len && offsets_plausible(buf, len, o, ALIGN_TO(o + n4, a), l);
}

int ksym_find_tables(const uint8_t *buf, size_t len, struct ksym_layout *l)
{
    if (l->token_table >= len || l->token_index > len ||
        len - l->token_index < KSYM_TOKEN_INDEX_SIZE)
        return XA_ENOENT;
    /* A 64-bit layout first (8-aligned tables), then a 32-bit one. */
    static const unsigned ptr_sizes[] = {8, 4};
    for (size_t i = 0; i < 2; i++) {
        unsigned p = ptr_sizes[i];
        if (l->token_table % p != 0 || l->token_index % p != 0)
            continue;
        l->ptr_size = p;
        bool found = p == 8 ? find_num_syms64(buf, len, l) : find_num_syms32(buf, l);
        if (l->work && l->work->exhausted)
            return XA_ELIMIT;
        if (found && find_offsets(buf, len, l))
            return 0;
        if (l->work && l->work->exhausted)
            return XA_ELIMIT;
    }
    l->ptr_size = 0;
    return XA_ENOENT;
}

#define NAMES_EXPANSION 2

/* The 256 token texts of a validated layout (ksym_find_token_table). */
struct tokens {
    const char *text[256];
    size_t len[256];
    bool wide[256]; /* 16 bytes readable at text[i]: copied as one block */
};

static int layout_tokens(const uint8_t *buf, size_t len, const struct ksym_layout *l,
                         struct tokens *tk)
{
    if (l->names > len || len - l->names < l->names_size || l->token_index > len ||
        len - l->token_index < KSYM_TOKEN_INDEX_SIZE || l->offsets > len ||
        len - l->offsets < (size_t)l->num_syms * 4)
        return XA_EINVAL;
    for (int i = 0; i < 256; i++) {
        size_t s = l->token_table + get16(buf + l->token_index + 2 * i);
        if (s >= len)
            return XA_EBADDATA;
        const uint8_t *z = memchr(buf + s, 0, len - s < KSYM_TOKEN_MAX + 1 ? len - s
                                                                            : KSYM_TOKEN_MAX + 1);
        if (!z)
            return XA_EBADDATA;
        tk->text[i] = (const char *)buf + s;
        tk->len[i] = (size_t)(z - (buf + s));
        tk->wide[i] = tk->len[i] <= 16 && len - s >= 16;
    }
    return 0;
}

/* Names are capped at KSYM_NAME_MAX * 2; the 16 bytes past the cap take a
 * short token's fixed-size copy (tail bytes are overwritten). A decoded
 * name is its type letter, then the name. */
#define NAME_CAP (KSYM_NAME_MAX * 2)
#define NAME_ROOM (NAME_CAP + 1 + 16)

/* Decode the @clen compressed bytes at @c into @out (NAME_ROOM bytes):
 * the decoded length, or 0 past NAME_CAP. Tokens hold no NUL (their ends
 * were found by memchr). */
static size_t decode_name(const struct tokens *tk, const uint8_t *c, size_t clen, char *out)
{
    size_t nl = 0;
    for (size_t k = 0; k < clen; k++) {
        uint8_t b = c[k];
        if (nl + tk->len[b] > NAME_CAP)
            return 0;
        if (tk->wide[b]) /* a fixed 16-byte copy: no call per token */
            memcpy(out + nl, tk->text[b], 16);
        else
            memcpy(out + nl, tk->text[b], tk->len[b]);
        nl += tk->len[b];
    }
    return nl;
}

int ksym_decode(const uint8_t *buf, size_t len, const struct ksym_layout *l,
                struct linux_symtab *t)
{
    struct tokens tk;
    int rc = layout_tokens(buf, len, l, &tk);
    if (rc < 0)
        return rc;
    /* The count is known (and bounded by ksym_find_tables); names come out
     * about NAMES_EXPANSION times their compressed size. Each is decoded
     * where the table keeps it, its type letter in the byte before it. */
    size_t names_hint = l->names_size < UINT32_MAX / NAMES_EXPANSION
                            ? t->names_len + l->names_size * NAMES_EXPANSION
                            : 0;
    rc = symtab_reserve(t, t->n + l->num_syms, names_hint);
    if (rc < 0)
        return rc;
    size_t pos = l->names, end = l->names + l->names_size;
    for (uint32_t i = 0; i < l->num_syms; i++) {
        size_t clen;
        if (!next_name(buf, end, &pos, &clen))
            return XA_EBADDATA;
        char *name = symtab_names_tail(t, NAME_ROOM);
        if (!name)
            return XA_ENOMEM;
        size_t nl = decode_name(&tk, buf + pos, clen, name);
        pos += clen;
        if (nl < 2) /* past the cap, or no name after the type letter */
            return XA_EBADDATA;
        rc = symtab_add_written(t, 1, nl - 1, sym_addr(buf, l, i), name[0]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Filter of the names a pick looks for: a bit per hash of a name's first
 * eight bytes (fewer, zero-padded, for a shorter name). A symbol whose bit
 * is clear is none of them; one whose bit is set is decoded and compared. */
#define PICK_FILTER_BITS 4096

static uint32_t pick_key(uint64_t first8)
{
    return (uint32_t)((first8 * 0xff51afd7ed558ccdull) >> 52) & (PICK_FILTER_BITS - 1);
}

/* Up to 8 bytes of @p as a little-endian word, zero-padded. */
static uint64_t word_of(const char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        w |= (uint64_t)(uint8_t)p[i] << (8 * i);
    return w;
}

static int cmp_wanted(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int ksym_pick(const uint8_t *buf, size_t len, const struct ksym_layout *l,
              const char *const *want, size_t nwant, struct symtab_pick *picks)
{
    struct tokens tk;
    int rc = layout_tokens(buf, len, l, &tk);
    if (rc < 0)
        return rc;
    if (l->num_syms > LINUX_SYMTAB_MAX)
        return XA_ELIMIT; /* what symtab_reserve says to ksym_decode */
    uint64_t filter[PICK_FILTER_BITS / 64] = {0};
    for (size_t i = 0; i < nwant; i++) {
        uint32_t k = pick_key(word_of(want[i], strlen(want[i])));
        filter[k / 64] |= 1ull << (k % 64);
        picks[i] = (struct symtab_pick){0};
    }
    /* Each token's first 16 bytes as two words: a name's first eight bytes
     * are put together in a register (a copy to memory and a load across
     * the copies stalled on store forwarding). */
    uint64_t lo[256], hi[256];
    for (int i = 0; i < 256; i++) {
        lo[i] = word_of(tk.text[i], tk.len[i]);
        hi[i] = tk.len[i] > 8 ? word_of(tk.text[i] + 8, tk.len[i] - 8) : 0;
    }
    /* Every name is checked as ksym_decode checks it, so that a table fails
     * (or not) as it would decoded in full; the decoded lengths are only
     * summed where the longest token could break a limit. */
    size_t maxtok = 0;
    for (int i = 0; i < 256; i++)
        maxtok = tk.len[i] > maxtok ? tk.len[i] : maxtok;
    /* ksym_decode stores a name in its length + 2 bytes (type, NUL), and
     * a name is at most its compressed length times the longest token. */
    bool sum_names = (uint64_t)l->names_size * maxtok + 2ull * l->num_syms + NAME_ROOM > UINT32_MAX;
    /* The tokens a wanted name can start with: the type letter, then a
     * prefix of the name. Most names start otherwise and are passed over
     * at their first byte. */
    bool can_start[256];
    for (int i = 0; i < 256; i++) {
        can_start[i] = false;
        for (size_t w = 0; w < nwant && !can_start[i]; w++)
            can_start[i] = tk.len[i] >= 1 && strlen(want[w]) >= tk.len[i] - 1 &&
                           memcmp(want[w], tk.text[i] + 1, tk.len[i] - 1) == 0;
    }
    uint64_t names_len = 0;
    char name[NAME_ROOM + 1];
    size_t pos = l->names, end = l->names + l->names_size;
    for (uint32_t i = 0; i < l->num_syms; i++) {
        size_t clen;
        if (!next_name(buf, end, &pos, &clen))
            return XA_EBADDATA;
        if (NAME_ROOM > UINT32_MAX - names_len)
            return XA_ENOMEM; /* where symtab_names_tail would refuse */
        const uint8_t *c = buf + pos;
        if (!sum_names && clen * maxtok <= NAME_CAP) { /* no limit to check but one */
            if (clen == 1 && tk.len[c[0]] < 2)
                return XA_EBADDATA; /* a type letter and no name */
            if (!can_start[c[0]]) {
                pos += clen;
                continue;
            }
        }
        /* The name's first eight bytes (after the type letter), zero past
         * its end: the first token gives its bytes 1 to 8, each next one
         * lands at its offset (bytes shifted past the word drop out). */
        uint64_t first8 = (lo[c[0]] >> 8) | (hi[c[0]] << 56);
        size_t nl = tk.len[c[0]], k = 1;
        for (; k < clen && nl < 9; k++) {
            first8 |= lo[c[k]] << (8 * (nl - 1));
            nl += tk.len[c[k]];
        }
        pos += clen;
        if (k < clen && (sum_names || clen * maxtok > NAME_CAP)) {
            for (; k < clen; k++)
                nl += tk.len[c[k]];
            if (nl > NAME_CAP)
                return XA_EBADDATA;
        } else if (nl < 2 || nl > NAME_CAP) { /* all of the name was decoded */
            return XA_EBADDATA;
        }
        if (sum_names)
            names_len += nl + 1;
        uint32_t key = pick_key(first8);
        if (!(filter[key / 64] & (1ull << (key % 64))))
            continue;
        size_t full = decode_name(&tk, c, clen, name);
        name[full] = '\0';
        const char *const *hit = bsearch(name + 1, want, nwant, sizeof(*want), cmp_wanted);
        if (hit && !picks[hit - want].found) /* the first added wins */
            picks[hit - want] = (struct symtab_pick){
                .addr = sym_addr(buf, l, i), .type = name[0], .found = true};
    }
    return 0;
}
