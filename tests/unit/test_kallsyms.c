/*
 * Unit tests for kallsyms discovery on synthetic tables:
 *  - the table parser (kallsyms_tables.c) on every supported layout;
 *  - hostile tables (huge counts, names off the end, bad token index, fuzz);
 *  - the whole discovery through the core, on a raw image holding a fake
 *    kernel (tables, banner, 4- and 5-level page tables, KASLR'd addresses).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/instance.h"
#include "os/linux/kallsyms_tables.h"
#include "os/linux/linux.h"
#include "check.h"

#define START_KERNEL_MAP 0xffffffff80000000ULL

/* ---- building synthetic tables ------------------------------------------------ */

struct synth_sym {
    char name[300];
    char type;
    uint64_t addr;
    bool percpu; /* absolute (per-cpu) symbol */
};

struct synth_opts {
    bool new_order, seqs, absolute_percpu;
    int marker_size; /* 4 or 8 */
    int ptr_size;    /* 0 or 8: a 64-bit kernel; 4: 32-bit (4-aligned tables) */
};

/* Multi-char tokens for otherwise unused codes; single printable chars
 * stand for themselves. */
static const char *token_text(int c, char *tmp)
{
    static const char *special[] = {NULL, "sym_", "linux_", "init_", "_text", "per_cpu"};
    if (c >= 1 && c <= 5)
        return special[c];
    if (c >= 0x21 && c <= 0x7e) {
        tmp[0] = (char)c;
        tmp[1] = '\0';
        return tmp;
    }
    snprintf(tmp, 8, "Q%02x", c);
    return tmp;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static size_t align8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

/* The kernel's ALGN: 8 on 64-bit, 4 on 32-bit. */
static size_t align_ptr(size_t x, const struct synth_opts *o)
{
    return o->ptr_size == 4 ? (x + 3) & ~(size_t)3 : align8(x);
}

/* Compress "<type><name>" greedily with the special tokens. */
static size_t encode_name(const struct synth_sym *s, uint8_t *out)
{
    char full[320];
    snprintf(full, sizeof(full), "%c%s", s->type, s->name);
    size_t n = 0;
    for (size_t i = 0; full[i];) {
        int code = (unsigned char)full[i];
        size_t used = 1;
        for (int c = 1; c <= 5; c++) {
            char tmp[8];
            const char *t = token_text(c, tmp);
            if (strncmp(full + i, t, strlen(t)) == 0) {
                code = c;
                used = strlen(t);
                break;
            }
        }
        out[n++] = (uint8_t)code;
        i += used;
    }
    return n;
}

struct synth_out {
    size_t token_table, token_index, num_syms_at, names, end;
};

static size_t write_offsets(uint8_t *buf, size_t pos, const struct synth_sym *s, uint32_t n,
                            const struct synth_opts *o, uint64_t base)
{
    pos = align_ptr(pos, o);
    for (uint32_t i = 0; i < n; i++) {
        int64_t off;
        if (!o->absolute_percpu)
            off = (int64_t)(s[i].addr - base);
        else if (s[i].percpu)
            off = (int64_t)s[i].addr;
        else
            off = (int64_t)(base - s[i].addr) - 1;
        put32(buf + pos + 4 * i, (uint32_t)off);
    }
    pos = align_ptr(pos + 4 * (size_t)n, o);
    if (o->ptr_size == 4) {
        put32(buf + pos, (uint32_t)base);
        return pos + 4;
    }
    put64(buf + pos, base);
    return pos + 8;
}

/* kallsyms_seqs_of_names: a permutation of the symbol indices, 3 bytes
 * each, big-endian (here simply in reverse). */
static void write_seqs(uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v = n - 1 - i;
        p[3 * i] = (uint8_t)(v >> 16);
        p[3 * i + 1] = (uint8_t)(v >> 8);
        p[3 * i + 2] = (uint8_t)v;
    }
}

/* Write the tables into @buf at @pos (aligned as the pointer size says), in
 * kernel order. */
static struct synth_out synth_tables(uint8_t *buf, size_t pos, const struct synth_sym *s,
                                     uint32_t n, const struct synth_opts *o, uint64_t base)
{
    struct synth_out out = {0};
    if (!o->new_order)
        pos = write_offsets(buf, pos, s, n, o, base);
    pos = align_ptr(pos, o);
    out.num_syms_at = pos;
    put32(buf + pos, n); /* .long, then ALGN: no padding on 32-bit */
    if (o->ptr_size != 4)
        put32(buf + pos + 4, 0);
    pos += o->ptr_size == 4 ? 4 : 8;
    out.names = pos;
    size_t nmark = (n + 255) / 256;
    uint64_t *markers = calloc(nmark, sizeof(*markers));
    for (uint32_t i = 0; i < n; i++) {
        if (i % 256 == 0)
            markers[i / 256] = pos - out.names;
        uint8_t enc[400];
        size_t len = encode_name(&s[i], enc);
        if (len > 127) {
            buf[pos++] = (uint8_t)(0x80 | (len & 0x7f));
            buf[pos++] = (uint8_t)(len >> 7);
        } else {
            buf[pos++] = (uint8_t)len;
        }
        memcpy(buf + pos, enc, len);
        pos += len;
    }
    pos = align_ptr(pos, o);
    for (size_t i = 0; i < nmark; i++) {
        if (o->marker_size == 4)
            put32(buf + pos + 4 * i, (uint32_t)markers[i]);
        else
            put64(buf + pos + 8 * i, markers[i]);
    }
    free(markers);
    pos = align_ptr(pos + nmark * (size_t)o->marker_size, o);
    if (o->seqs && !o->new_order) {
        write_seqs(buf + pos, n);
        pos = align_ptr(pos + 3 * (size_t)n, o);
    }
    out.token_table = pos;
    uint16_t idx[256];
    for (int c = 0; c < 256; c++) {
        char tmp[8];
        const char *t = token_text(c, tmp);
        idx[c] = (uint16_t)(pos - out.token_table);
        memcpy(buf + pos, t, strlen(t) + 1);
        pos += strlen(t) + 1;
    }
    pos = align_ptr(pos, o);
    out.token_index = pos;
    for (int c = 0; c < 256; c++)
        put16(buf + pos + 2 * c, idx[c]);
    pos += 512;
    if (o->new_order) {
        pos = write_offsets(buf, pos, s, n, o, base);
        if (o->seqs) {
            write_seqs(buf + align_ptr(pos, o), n);
            pos = align_ptr(pos, o) + 3 * (size_t)n;
        }
    }
    out.end = pos;
    return out;
}

/* A plausible kernel symbol list: per-cpu absolutes first, then text/data. */
static struct synth_sym *make_syms(uint32_t n, uint64_t text)
{
    struct synth_sym *s = calloc(n, sizeof(*s));
    uint32_t i = 0;
    snprintf(s[i].name, sizeof(s[i].name), "fixed_percpu_data");
    s[i].type = 'A', s[i].addr = 0, s[i].percpu = true, i++;
    snprintf(s[i].name, sizeof(s[i].name), "per_cpu__runqueues");
    s[i].type = 'A', s[i].addr = 0x2c000, s[i].percpu = true, i++;
    snprintf(s[i].name, sizeof(s[i].name), "_text");
    s[i].type = 'T', s[i].addr = text, i++;
    snprintf(s[i].name, sizeof(s[i].name), "startup_64");
    s[i].type = 'T', s[i].addr = text, i++;
    /* One name long enough for the two-byte length prefix. */
    memset(s[i].name, 'L', 200);
    s[i].type = 't', s[i].addr = text + 0x10, i++;
    for (; i < n; i++) {
        snprintf(s[i].name, sizeof(s[i].name), "%ssym_%u", i % 3 ? "init_" : "linux_", i);
        s[i].type = i % 2 ? 'T' : 't';
        s[i].addr = text + 0x20 + (uint64_t)i * 0x30;
    }
    return s;
}

/* Scan @buf like discovery does; decode into @t on success. */
static int parse_buffer(const uint8_t *buf, size_t len, struct ksym_layout *l,
                        struct linux_symtab *t)
{
    for (size_t off = 0; off + 512 <= len; off += 4) { /* 32-bit: 4-aligned */
        if (!ksym_looks_like_token_index(buf + off, len - off))
            continue;
        size_t tt;
        if (ksym_find_token_table(buf, len, off, &tt) < 0)
            continue;
        memset(l, 0, sizeof(*l));
        l->token_table = tt;
        l->token_index = off;
        if (ksym_find_tables(buf, len, l) < 0)
            continue;
        return ksym_decode(buf, len, l, t);
    }
    return XA_ENOENT;
}

static void test_layouts(void)
{
    const uint32_t n = 700; /* three markers */
    const uint64_t text = 0xffffffff9a000000ULL;
    struct synth_sym *s = make_syms(n, text);
    for (int v = 0; v < 16; v++) {
        struct synth_opts o = {.new_order = v & 1, .seqs = v & 2, .absolute_percpu = v & 4,
                               .marker_size = v & 8 ? 8 : 4};
        /* Without absolute-percpu the per-cpu symbols are plain relative ones. */
        for (uint32_t i = 0; i < 2; i++) {
            s[i].addr = o.absolute_percpu ? i * 0x2c000 : text;
            s[i].percpu = o.absolute_percpu;
        }
        size_t len = 256 * 1024;
        uint8_t *buf = calloc(1, len);
        srand(v);
        for (size_t i = 0; i < 4096; i++)
            buf[i] = (uint8_t)rand(); /* noise before */
        struct synth_out so = synth_tables(buf, 4096, s, n, &o, text);
        CHECK(so.end < len);

        struct ksym_layout l;
        struct linux_symtab t = {0};
        int rc = parse_buffer(buf, len, &l, &t);
        CHECK(rc == 0);
        if (rc == 0) {
            CHECK(l.token_index == so.token_index && l.token_table == so.token_table);
            CHECK(l.num_syms == n && l.new_order == o.new_order && l.has_seqs == (o.seqs && !o.new_order));
            CHECK(l.absolute_percpu == o.absolute_percpu && l.relative_base == text);
            CHECK(t.n == n);
            int bad = 0;
            for (uint32_t i = 0; i < n && i < t.n; i++) {
                bad += strcmp(symtab_name(&t, &t.syms[i]), s[i].name) != 0;
                bad += t.syms[i].addr != s[i].addr || t.syms[i].type != s[i].type;
            }
            CHECK(bad == 0);
            if (bad)
                fprintf(stderr, "  layout variant %d: %d mismatches\n", v, bad);
        }
        symtab_free(&t);
        free(buf);
    }
    free(s);
}

/* 32-bit kernels (i386): tables 4-aligned, num_syms directly followed by
 * the names, a 4-byte relative_base, u32 markers, addresses wrapping at
 * 32 bits. Placed 4 bytes off 8-alignment so that a parser assuming 8
 * cannot find them by chance; the 64-bit reading must not be taken. */
static void test_layouts32(void)
{
    const uint32_t n = 700;
    const uint64_t text = 0xd3000000ULL; /* a Debian 686-pae _text under KASLR */
    struct synth_sym *s = make_syms(n, text);
    for (uint32_t i = 0; i < 2; i++)
        s[i].addr = text, s[i].percpu = false; /* no absolute per-cpu on 32-bit */
    s[n - 1].addr = 0xfffff000ULL; /* the top of the 32-bit space */
    for (int v = 0; v < 4; v++) {
        struct synth_opts o = {.new_order = v & 1, .seqs = v & 2, .marker_size = 4,
                               .ptr_size = 4};
        size_t len = 256 * 1024;
        uint8_t *buf = calloc(1, len);
        srand(100 + v);
        for (size_t i = 0; i < 4096; i++)
            buf[i] = (uint8_t)rand();
        struct synth_out so = synth_tables(buf, 4100, s, n, &o, text);
        CHECK(so.end < len);
        CHECK(so.token_index % 4 == 0);

        struct ksym_layout l;
        struct linux_symtab t = {0};
        int rc = parse_buffer(buf, len, &l, &t);
        CHECK(rc == 0);
        if (rc == 0) {
            CHECK(l.ptr_size == 4);
            CHECK(l.token_index == so.token_index && l.token_table == so.token_table);
            CHECK(l.num_syms == n && l.new_order == o.new_order);
            CHECK(l.num_syms_at == so.num_syms_at && l.names == so.names);
            CHECK(!l.absolute_percpu && l.relative_base == text);
            CHECK(t.n == n);
            int bad = 0;
            for (uint32_t i = 0; i < n && i < t.n; i++) {
                bad += strcmp(symtab_name(&t, &t.syms[i]), s[i].name) != 0;
                bad += t.syms[i].addr != s[i].addr || t.syms[i].type != s[i].type;
            }
            CHECK(bad == 0);
            if (bad)
                fprintf(stderr, "  32-bit layout variant %d: %d mismatches\n", v, bad);
        }
        symtab_free(&t);

        /* A relative_base below any 32-bit PAGE_OFFSET is not a kernel's. */
        size_t r = o.new_order ? so.token_index + 512 + 4 * (size_t)n : so.num_syms_at - 4;
        put32(buf + r, 0x3ffff000);
        rc = parse_buffer(buf, len, &l, &t);
        CHECK(rc == XA_ENOENT);
        symtab_free(&t);
        free(buf);
    }
    free(s);
}

/* Build the old-order 6.1 layout into a fresh buffer. */
static uint8_t *build_default(size_t len, struct synth_out *so, const struct synth_sym *s,
                              uint32_t n)
{
    struct synth_opts o = {.seqs = true, .absolute_percpu = true, .marker_size = 4};
    uint8_t *buf = calloc(1, len);
    *so = synth_tables(buf, 1024, s, n, &o, 0xffffffff81000000ULL);
    return buf;
}

static void test_hostile(void)
{
    const uint32_t n = 600;
    struct synth_sym *s = make_syms(n, 0xffffffff81000000ULL);
    const size_t len = 128 * 1024;
    struct synth_out so;
    struct ksym_layout l;
    struct linux_symtab t = {0};

    /* Baseline parses. */
    uint8_t *buf = build_default(len, &so, s, n);
    CHECK(parse_buffer(buf, len, &l, &t) == 0 && t.n == n);
    symtab_free(&t);
    free(buf);

    /* num_syms = 2^31 and 2^32-1: refused, not allocated. */
    uint32_t huge[] = {0x80000000u, 0xffffffffu, LINUX_SYMTAB_MAX + 1};
    for (size_t i = 0; i < 3; i++) {
        buf = build_default(len, &so, s, n);
        put32(buf + so.num_syms_at, huge[i]);
        CHECK(parse_buffer(buf, len, &l, &t) == XA_ENOENT && t.n == 0);
        symtab_free(&t);
        free(buf);
    }

    /* A count larger than the names hold (names would run off the end). */
    buf = build_default(len, &so, s, n);
    put32(buf + so.num_syms_at, n + 1);
    CHECK(parse_buffer(buf, len, &l, &t) == XA_ENOENT);
    symtab_free(&t);
    free(buf);

    /* Last name's length runs past the names table. */
    buf = build_default(len, &so, s, n);
    {
        size_t pos = so.names;
        for (uint32_t i = 0; i + 1 < n; i++) {
            size_t ln = buf[pos] & 0x80 ? (size_t)((buf[pos] & 0x7f) | (buf[pos + 1] << 7)) + 2
                                        : (size_t)buf[pos] + 1;
            pos += ln;
        }
        buf[pos] = 0xff;
        buf[pos + 1] = 0xff; /* 2-byte length of 32767 */
    }
    CHECK(parse_buffer(buf, len, &l, &t) == XA_ENOENT);
    symtab_free(&t);
    free(buf);

    /* Token index pointing outside (or inconsistently into) the token table. */
    buf = build_default(len, &so, s, n);
    put16(buf + so.token_index + 2 * 255, 0xfff0);
    CHECK(parse_buffer(buf, len, &l, &t) == XA_ENOENT);
    free(buf);
    buf = build_default(len, &so, s, n);
    uint16_t v = (uint16_t)(buf[so.token_index + 2 * 100] | (buf[so.token_index + 2 * 100 + 1] << 8));
    put16(buf + so.token_index + 2 * 100, (uint16_t)(v + 1));
    CHECK(parse_buffer(buf, len, &l, &t) == XA_ENOENT);
    free(buf);

    /* Token index at the very end of the buffer: no read past it. */
    buf = build_default(len, &so, s, n);
    CHECK(ksym_find_token_table(buf, so.token_index + 511, so.token_index, &(size_t){0}) ==
          XA_ENOENT);
    /* Decoding a layout corrupted after validation stays in bounds. */
    CHECK(parse_buffer(buf, len, &l, &t) == 0);
    symtab_free(&t);
    put16(buf + l.token_index + 2 * 7, 0xffff);
    CHECK(ksym_decode(buf, so.token_index + 512, &l, &t) == XA_EBADDATA);
    symtab_free(&t);
    l.names_size = len;
    CHECK(ksym_decode(buf, len, &l, &t) == XA_EINVAL);
    symtab_free(&t);
    free(buf);

    /* Fuzz: random byte changes in the tables never crash; a result that
     * still parses is bounded by what the buffer can hold. */
    uint8_t *clean = build_default(len, &so, s, n);
    buf = malloc(len);
    srand(1234);
    int parsed = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, clean, len);
        int flips = 1 + rand() % 8;
        for (int k = 0; k < flips; k++)
            buf[1024 + (size_t)rand() % (so.end - 1024)] = (uint8_t)rand();
        int rc = parse_buffer(buf, len, &l, &t);
        if (rc == 0) {
            parsed++;
            CHECK(t.n <= len / 2);
        }
        symtab_free(&t);
    }
    printf("fuzz: %d of 3000 mutated tables still parsed\n", parsed);
    free(buf);
    free(clean);
    free(s);
}

/* ---- picking the start-up names in one pass (ksym_pick) -------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ksym_pick on @l fails exactly where ksym_decode (and the freeze) fails,
 * and otherwise answers for each of @want what the full table answers. */
static void compare_pick(const uint8_t *buf, size_t len, const struct ksym_layout *l,
                         const char *const *want, size_t n)
{
    struct symtab_pick picks[16];
    int prc = ksym_pick(buf, len, l, want, n, picks);
    struct linux_symtab t = {0};
    int drc = ksym_decode(buf, len, l, &t);
    if (drc == 0)
        drc = symtab_freeze(&t);
    CHECK(prc == drc);
    for (size_t i = 0; prc == 0 && drc == 0 && i < n; i++) {
        uint64_t a = 0;
        int lr = symtab_lookup(&t, want[i], &a);
        CHECK((lr == 0) == picks[i].found);
        CHECK(!picks[i].found || picks[i].addr == a);
    }
    symtab_free(&t);
}

static void test_pick(void)
{
    const uint32_t n = 700;
    struct synth_sym *s = make_syms(n, 0xffffffff81000000ULL);
    /* A name twice: the first (lower index) is what a lookup finds. */
    snprintf(s[100].name, sizeof(s[100].name), "init_sym_50");
    const char *want[10] = {"_text", "startup_64", "fixed_percpu_data", "per_cpu__runqueues",
                            "linux_sym_30", "init_sym_31", "init_sym_4", "init_sym_50", "nope",
                            s[4].name /* 200 bytes */};
    qsort(want, 10, sizeof(want[0]), cmp_str);
    const size_t len = 128 * 1024;
    struct synth_out so;
    struct ksym_layout l;
    struct linux_symtab t = {0};
    uint8_t *buf = build_default(len, &so, s, n);
    CHECK(parse_buffer(buf, len, &l, &t) == 0);
    symtab_free(&t);
    struct symtab_pick p[10];
    CHECK(ksym_pick(buf, len, &l, want, 10, p) == 0);
    for (size_t i = 0; i < 10; i++) {
        /* The synthetic list's own answer: the first symbol of that name. */
        uint32_t k = 0;
        while (k < n && strcmp(s[k].name, want[i]) != 0)
            k++;
        CHECK(p[i].found == (k < n));
        if (k < n && p[i].found)
            CHECK(p[i].addr == s[k].addr && p[i].type == s[k].type);
    }
    compare_pick(buf, len, &l, want, 10);

    /* Corrupted after validation: the same errors as a full decode. */
    put16(buf + l.token_index + 2 * 7, 0xffff);
    CHECK(ksym_pick(buf, so.token_index + 512, &l, want, 10, p) == XA_EBADDATA);
    compare_pick(buf, so.token_index + 512, &l, want, 10);
    struct ksym_layout bad = l;
    bad.names_size = len;
    CHECK(ksym_pick(buf, len, &bad, want, 10, p) == XA_EINVAL);
    free(buf);
    buf = build_default(len, &so, s, n);
    CHECK(parse_buffer(buf, len, &l, &t) == 0);
    symtab_free(&t);
    buf[l.names] = 1; /* the first name cut to one byte: the walk runs out of step */
    CHECK(ksym_pick(buf, len, &l, want, 10, p) == XA_EBADDATA);
    compare_pick(buf, len, &l, want, 10);
    free(buf);

    /* The 200-byte name's tokens turned into 7-byte ones: 1407 bytes,
     * past the cap, with the walk still in step. */
    buf = build_default(len, &so, s, n);
    CHECK(parse_buffer(buf, len, &l, &t) == 0);
    symtab_free(&t);
    size_t pos = l.names;
    for (int i = 0; i < 4; i++)
        pos += buf[pos] & 0x80 ? (size_t)((buf[pos] & 0x7f) | (buf[pos + 1] << 7)) + 2
                               : (size_t)buf[pos] + 1;
    CHECK((buf[pos] & 0x80) && ((buf[pos] & 0x7f) | (buf[pos + 1] << 7)) == 201);
    memset(buf + pos + 2, 5, 201); /* token 5: "per_cpu" */
    CHECK(ksym_pick(buf, len, &l, want, 10, p) == XA_EBADDATA);
    compare_pick(buf, len, &l, want, 10);
    free(buf);

    /* Random changes to the tables after validation (the lengths walk
     * the same names): pick and decode agree on every one. */
    uint8_t *clean = build_default(len, &so, s, n);
    CHECK(parse_buffer(clean, len, &l, &t) == 0);
    symtab_free(&t);
    buf = malloc(len);
    srand(4321);
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(buf, clean, len);
        int flips = 1 + rand() % 8;
        for (int k = 0; k < flips; k++)
            buf[1024 + (size_t)rand() % (so.end - 1024)] = (uint8_t)rand();
        compare_pick(buf, len, &l, want, 10);
    }
    free(buf);
    free(clean);
    free(s);
}

/* ---- whole discovery through the core on a raw image ---------------------- */

#define IMG_SIZE (64u << 20)

struct fake_kernel {
    uint64_t text, phys_text, phys_base, banner, pob, pgt, end;
    uint64_t page_offset_value;
};

/* Kernel VA -> offset in the image file (physical address). */
static uint64_t k_pa(const struct fake_kernel *k, uint64_t va)
{
    return va - START_KERNEL_MAP + k->phys_base;
}

static char *write_image(uint8_t *img, char *path_template)
{
    int fd = mkstemp(path_template);
    if (fd < 0)
        return NULL;
    size_t done = 0;
    while (done < IMG_SIZE) {
        ssize_t w = write(fd, img + done, IMG_SIZE - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    return done == IMG_SIZE ? path_template : NULL;
}

/* @img (freed) written to a new file named from @path_template, opened
 * with @flags | XA_INIT_NO_OS: the handle, or NULL (a failed check). */
static struct xa_instance *open_image(uint8_t *img, char *path_template, uint32_t flags)
{
    char *path = write_image(img, path_template);
    free(img);
    CHECK(path != NULL);
    char target[64];
    snprintf(target, sizeof(target), "file:%s", path_template);
    struct xa_instance *xa = NULL;
    CHECK(path && xa_init(target, XA_INIT_NO_OS | flags, &xa) == 0);
    return xa;
}

/* A fake KASLR'd kernel: _text slid by 0x1e00000, loaded at physical 32 MiB
 * (so phys_base is "negative"), tables in its rodata, page tables mapping
 * the image with 2 MiB pages. */
static uint8_t *build_kernel_image(struct fake_kernel *k, bool la57, bool decoys)
{
    uint8_t *img = calloc(1, IMG_SIZE);
    k->text = 0xffffffff81000000ULL + 0x1e00000;
    k->phys_text = 32u << 20;
    k->phys_base = k->phys_text - (k->text - START_KERNEL_MAP);
    k->banner = k->text + 0x100000;
    k->pob = k->text + 0x101000;
    k->pgt = k->text + 0x400000;
    k->end = k->text + 0x600000;
    k->page_offset_value = la57 ? 0xff1b000000000000ULL : 0xffff9a4b00000000ULL;

    const uint32_t n = 900;
    struct synth_sym *s = make_syms(n, k->text);
    /* Named symbols the discovery needs, kept in address order. */
    struct {
        uint32_t at;
        const char *name;
        char type;
        uint64_t addr;
    } named[] = {
        {n - 5, "linux_banner", 'D', k->banner},
        {n - 4, "page_offset_base", 'D', k->pob},
        {n - 3, "init_top_pgt", 'D', k->pgt},
        {n - 2, "init_filler", 'd', k->pgt + 0x10000},
        {n - 1, "_end", 'B', k->end},
    };
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        struct synth_sym *x = &s[named[i].at];
        snprintf(x->name, sizeof(x->name), "%s", named[i].name);
        x->type = named[i].type;
        x->addr = named[i].addr;
    }
    struct synth_opts o = {.seqs = true, .absolute_percpu = true, .marker_size = 4};
    synth_tables(img, k_pa(k, k->text + 0x200000), s, n, &o, k->text);
    free(s);

    const char *banner = "Linux version 6.1.0-99-synthetic (test@example) (gcc) #1 SMP\n";
    memcpy(img + k_pa(k, k->banner), banner, strlen(banner) + 1);
    put64(img + k_pa(k, k->pob), k->page_offset_value);

    /* Page tables: top (PML4 or PML5) at init_top_pgt, then down to one PD. */
    uint64_t top = k_pa(k, k->pgt), next = top + 0x1000;
    const uint64_t P_RW = 0x3, PS = 0x80;
    if (la57) {
        put64(img + top + 8 * 511, next | P_RW);
        top = next;
        next += 0x1000;
    }
    uint64_t pdpt = next, pd = next + 0x1000;
    put64(img + top + 8 * 511, pdpt | P_RW);
    put64(img + pdpt + 8 * 510, pd | P_RW);
    for (uint64_t va = k->text; va < k->end; va += 2u << 20)
        put64(img + pd + 8 * ((va - START_KERNEL_MAP) >> 21), k_pa(k, va) | P_RW | PS);

    if (decoys) {
        /* A lone token table + index at 20 MiB (no other tables), and a
         * banner copy somewhere else (as in the printk buffer). */
        struct synth_sym one = {.name = "decoy", .type = 'T', .addr = 0xffffffff81000000ULL};
        struct synth_out so = synth_tables(img, 20u << 20, &one, 1, &o, one.addr);
        memset(img + (20u << 20), 0, so.token_table - (20u << 20));
        memcpy(img + (18u << 20) + 123, banner, strlen(banner));
    }
    return img;
}

/* Discovery reads the scan, the window and the BTF in place only when the
 * memory is static: @flags XA_INIT_WRITE makes it copy (the same answers). */
static void test_discover(bool la57, uint32_t flags)
{
    struct fake_kernel k;
    uint8_t *img = build_kernel_image(&k, la57, true);
    char path[] = "/tmp/xa-test-kallsyms-XXXXXX";
    struct xa_instance *xa = open_image(img, path, flags);
    if (xa) {
        struct linux_os lx;
        memset(&lx, 0, sizeof(lx));
        int rc = linux_kallsyms_discover(xa, &lx);
        if (rc < 0)
            fprintf(stderr, "discover: %s\n", xa_errmsg(xa));
        CHECK(rc == 0);
        if (rc == 0) {
            uint64_t a, pa;
            CHECK(symtab_count(&lx.syms) == 900);
            CHECK(symtab_lookup(&lx.syms, "linux_banner", &a) == 0 && a == k.banner);
            /* Read in place: lazy until something past the start-up
             * names is asked for; a copy is decoded at once. */
            CHECK((lx.syms.lazy != NULL) == !(flags & XA_INIT_WRITE));
            const char *name = NULL;
            uint64_t off = 1;
            CHECK(symtab_at(&lx.syms, k.banner, &name, &off) == 0 && name &&
                  strcmp(name, "linux_banner") == 0 && off == 0);
            CHECK(lx.syms.lazy == NULL && lx.syms.n == 900);
            CHECK(lx.phys_base == k.phys_base);
            CHECK(lx.kaslr_slide == 0x1e00000 && lx.text_start == k.text);
            CHECK(lx.kernel_dtb == k_pa(&k, k.pgt));
            CHECK(lx.mode == (la57 ? XA_PM_LA57 : XA_PM_IA32E));
            CHECK(lx.page_offset == k.page_offset_value);
            CHECK(strcmp(lx.release, "6.1.0-99-synthetic") == 0);
            CHECK(strncmp(lx.version, "Linux version 6.1.0-99-synthetic (test@", 39) == 0);
            CHECK(strchr(lx.version, '\n') == NULL);
            CHECK(strcmp(lx.symbols_from, "kallsyms in guest memory") == 0);
            CHECK(xa_get_page_mode(xa) == lx.mode && xa_kernel_dtb(xa) == lx.kernel_dtb);
            CHECK(xa_translate_kv(xa, k.text + 0x123456, &pa) == 0 &&
                  pa == k.phys_text + 0x123456);
            /* The window was our copy (kept as the BTF's buffer) or read in place. */
            CHECK((lx.spare != NULL) == ((flags & XA_INIT_WRITE) != 0));
        }
        symtab_free(&lx.syms);
        free(lx.spare);
    }
    xa_destroy(xa);
    unlink(path);
}

/* xa__span_in_place: a pointer into the dump's mapping holding the same
 * bytes as a read, only for static memory and spans inside RAM; through
 * the kernel's page tables too (xa__va_span_in_place). */
static void test_span_in_place(void)
{
    struct fake_kernel k;
    uint8_t *img = build_kernel_image(&k, false, false);
    char path[] = "/tmp/xa-test-kallsyms-XXXXXX";
    CHECK(write_image(img, path) != NULL);
    char target[64];
    snprintf(target, sizeof(target), "file:%s", path);
    for (int writable = 0; writable < 2; writable++) {
        struct xa_instance *xa = NULL;
        CHECK(xa_init(target, XA_INIT_NO_OS | (writable ? XA_INIT_WRITE : 0), &xa) == 0);
        if (!xa)
            continue;
        const uint8_t *p = NULL;
        uint64_t pa = k.phys_text + 0x1234, len = (3u << 20) + 77;
        int rc = xa__span_in_place(xa, pa, (size_t)len, &p);
        if (writable) {
            CHECK(rc == XA_ENOTSUP);
        } else {
            CHECK(rc == 0 && p && memcmp(p, img + pa, (size_t)len) == 0);
            CHECK(xa__span_in_place(xa, IMG_SIZE - 4096, 4097, &p) == XA_ENOTSUP);
            CHECK(xa__span_in_place(xa, 0, 0, &p) == XA_ENOTSUP);
            struct linux_os lx;
            memset(&lx, 0, sizeof(lx));
            CHECK(linux_kallsyms_discover(xa, &lx) == 0); /* sets the kernel's paging */
            symtab_free(&lx.syms);
            free(lx.spare);
            p = NULL;
            CHECK(xa__va_span_in_place(xa, 0, k.text + 0x1234, (size_t)len, &p) == 0 && p &&
                  memcmp(p, img + k.phys_text + 0x1234, (size_t)len) == 0);
            /* Past the image's mapping: not all of it translates. */
            uint64_t mapped_end = (k.end + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
            CHECK(xa__va_span_in_place(xa, 0, mapped_end - 4096, 8192, &p) == XA_ENOTSUP);
            CHECK(xa__va_span_in_place(xa, 0, mapped_end - 8192, 8192, &p) == 0);
        }
        xa_destroy(xa);
    }
    free(img);
    unlink(path);
}

/* A lazy table whose dump is cut before the rest is decoded: the file's
 * error (mapguard), not a table decoded from the zeros read there; the
 * start-up names keep their answers. */
static void test_lazy_truncated(void)
{
    struct fake_kernel k;
    uint8_t *img = build_kernel_image(&k, false, false);
    char path[] = "/tmp/xa-test-kallsyms-XXXXXX";
    struct xa_instance *xa = open_image(img, path, 0);
    if (xa) {
        struct linux_os lx;
        memset(&lx, 0, sizeof(lx));
        CHECK(linux_kallsyms_discover(xa, &lx) == 0 && lx.syms.lazy != NULL);
        CHECK(truncate(path, 1u << 20) == 0);
        const char *name = NULL;
        uint64_t off, a = 0;
        CHECK(symtab_at(&lx.syms, k.banner, &name, &off) == XA_EIO);
        CHECK(strstr(xa_errmsg(xa), "shrank") != NULL);
        CHECK(symtab_lookup(&lx.syms, "linux_banner", &a) == 0 && a == k.banner);
        CHECK(symtab_lookup(&lx.syms, "startup_64", &a) == XA_EIO); /* kept */
        symtab_free(&lx.syms);
        free(lx.spare);
    }
    xa_destroy(xa);
    unlink(path);
}

static void test_no_kernel(void)
{
    uint8_t *img = calloc(1, IMG_SIZE);
    srand(99);
    for (size_t i = 0; i < IMG_SIZE / 4; i++)
        img[(size_t)rand() % IMG_SIZE] = (uint8_t)rand();
    /* A token table and index alone are not a kernel. */
    struct synth_sym one = {.name = "decoy", .type = 'T', .addr = 0xffffffff81000000ULL};
    struct synth_opts o = {.seqs = true, .absolute_percpu = true, .marker_size = 4};
    struct synth_out so = synth_tables(img, 40u << 20, &one, 1, &o, one.addr);
    memset(img + (40u << 20), 0, so.token_table - (40u << 20));
    char path[] = "/tmp/xa-test-kallsyms-XXXXXX";
    struct xa_instance *xa = open_image(img, path, 0);
    if (xa) {
        struct linux_os lx;
        memset(&lx, 0, sizeof(lx));
        CHECK(linux_kallsyms_discover(xa, &lx) == XA_ENOOS);
        CHECK(strstr(xa_errmsg(xa), "no Linux kernel found in guest memory") != NULL);
        symtab_free(&lx.syms);
        free(lx.spare);
    }
    xa_destroy(xa);
    unlink(path);
}

int main(void)
{
    test_layouts();
    test_layouts32();
    test_hostile();
    test_pick();
    test_discover(false, 0);
    test_discover(true, 0);
    test_discover(false, XA_INIT_WRITE);
    test_span_in_place();
    test_lazy_truncated();
    test_no_kernel();
    if (check_failures)
        fprintf(stderr, "%d failure(s)\n", check_failures);
    else
        printf("kallsyms: all tests passed\n");
    return check_failures ? 1 : 0;
}
