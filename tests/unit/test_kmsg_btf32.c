/*
 * test_kmsg_btf32.c -- the kernel log's BTF path (os/linux/kmsg.c, the
 * iterator xa-dmesg uses) on a 32-bit kernel that has BTF, and the same
 * ring on a 64-bit one: one code path, words of the kernel's width.
 *
 * One synthetic kernel per word size W (4 or 8, made as btf32_kernel.h
 * says): a printk ring (printk_ringbuffer, its descriptor ring, info array
 * and text ring) laid out as the kernel's structures are at that width and
 * told only through a BTF of W-byte pointers and longs; the prb pointer
 * (a W-byte word, the next word not zero) points to it. The ring holds a
 * few records; xa_kmsg_iter must return exactly those (text, seq, level,
 * facility, caller, timestamp), and a prb pointer outside the kernel's
 * addresses must be refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenaccess.h"

#define CHECK_CONTEXT (cur_xa ? xa_errmsg(cur_xa) : "")
static struct xa_instance *cur_xa;
#include "check.h"
#include "synthetic_guest.h"
#include "btf32_kernel.h"

/* kernel/printk/printk_ringbuffer.h (5.19+) at W-byte words */
#define DR_COUNT_BITS 0 /* struct prb_desc_ring */
#define DR_DESCS W
#define DR_INFOS (2 * W)
#define DR_HEAD_ID (3 * W)
#define DR_TAIL_ID (4 * W)
#define DR_LAST_FINALIZED (5 * W)
#define DR_SIZE (6 * W)
#define TR_SIZE_BITS 0 /* struct prb_data_ring */
#define TR_DATA W
#define TR_HEAD_LPOS (2 * W)
#define TR_TAIL_LPOS (3 * W)
#define TR_SIZE (4 * W)
#define RB_DESC_RING 0 /* struct printk_ringbuffer */
#define RB_TEXT_RING DR_SIZE
#define RB_FAIL (DR_SIZE + TR_SIZE)
#define RB_SIZE (RB_FAIL + W)
#define DESC_STATE 0 /* struct prb_desc */
#define DESC_BEGIN W
#define DESC_NEXT (2 * W)
#define DESC_SIZE (3 * W)
#define INFO_SEQ 0 /* struct printk_info */
#define INFO_TS 8
#define INFO_TEXT_LEN 16
#define INFO_FACILITY 18
#define INFO_LEVEL_BITS (19 * 8 + 5) /* u8 flags:5, level:3 */
#define INFO_CALLER 20
#define INFO_DEV 24 /* struct dev_printk_info: subsystem[16], device[48] */
#define INFO_SIZE 88

#define COUNT_BITS 4u
#define SIZE_BITS 10u
#define FIRST_SEQ 37u   /* the oldest record kept */
#define ID_BASE 0x300u  /* ids are congruent to seqs modulo the count */
#define LPOS_START 0x1f00u /* text positions of an older wrap of the ring */

static struct btf *btf_printk(void)
{
    struct btf32_types t;
    struct btf *b = btf32_new(&t);
    int t_long = btf__add_int(b, "long int", (size_t)W, BTF_INT_SIGNED);
    int t_u8 = btf__add_int(b, "unsigned char", 1, 0);
    int s_atomic = btf__add_struct(b, "", W); /* atomic_long_t: atomic_t or atomic64_t */
    btf__add_field(b, "counter", t_long, 0, 0);
    int t_atomic = btf__add_typedef(b, "atomic_long_t", s_atomic);

    btf__add_struct(b, "prb_desc_ring", DR_SIZE);
    btf__add_field(b, "count_bits", t.t_uint, DR_COUNT_BITS * 8, 0);
    btf__add_field(b, "descs", t.t_ptr, DR_DESCS * 8, 0);
    btf__add_field(b, "infos", t.t_ptr, DR_INFOS * 8, 0);
    btf__add_field(b, "head_id", t_atomic, DR_HEAD_ID * 8, 0);
    btf__add_field(b, "tail_id", t_atomic, DR_TAIL_ID * 8, 0);
    btf__add_field(b, "last_finalized_id", t_atomic, DR_LAST_FINALIZED * 8, 0);
    int s_desc_ring = btf__find_by_name_kind(b, "prb_desc_ring", BTF_KIND_STRUCT);
    int s_text_ring = btf__add_struct(b, "prb_data_ring", TR_SIZE);
    btf__add_field(b, "size_bits", t.t_uint, TR_SIZE_BITS * 8, 0);
    btf__add_field(b, "data", t.t_ptr, TR_DATA * 8, 0);
    btf__add_field(b, "head_lpos", t_atomic, TR_HEAD_LPOS * 8, 0);
    btf__add_field(b, "tail_lpos", t_atomic, TR_TAIL_LPOS * 8, 0);
    btf__add_struct(b, "printk_ringbuffer", RB_SIZE);
    btf__add_field(b, "desc_ring", s_desc_ring, RB_DESC_RING * 8, 0);
    btf__add_field(b, "text_data_ring", s_text_ring, RB_TEXT_RING * 8, 0);
    btf__add_field(b, "fail", t_atomic, RB_FAIL * 8, 0);

    int s_lpos = btf__add_struct(b, "prb_data_blk_lpos", 2 * W);
    btf__add_field(b, "begin", t.t_ulong, 0, 0);
    btf__add_field(b, "next", t.t_ulong, W * 8, 0);
    btf__add_struct(b, "prb_desc", DESC_SIZE);
    btf__add_field(b, "state_var", t_atomic, DESC_STATE * 8, 0);
    btf__add_field(b, "text_blk_lpos", s_lpos, DESC_BEGIN * 8, 0);
    int a_dev = btf__add_array(b, t.t_int, t.t_char, 64);
    btf__add_struct(b, "printk_info", INFO_SIZE);
    btf__add_field(b, "seq", t.t_u64, INFO_SEQ * 8, 0);
    btf__add_field(b, "ts_nsec", t.t_u64, INFO_TS * 8, 0);
    btf__add_field(b, "text_len", t.t_u16, INFO_TEXT_LEN * 8, 0);
    btf__add_field(b, "facility", t_u8, INFO_FACILITY * 8, 0);
    btf__add_field(b, "flags", t_u8, 19 * 8, 5);
    btf__add_field(b, "level", t_u8, INFO_LEVEL_BITS, 3);
    btf__add_field(b, "caller_id", t.t_uint, INFO_CALLER * 8, 0);
    btf__add_field(b, "dev_info", a_dev, INFO_DEV * 8, 0);
    return b;
}

/* ---- the ring -------------------------------------------------------------- */

static const char *const texts[] = {
    "Linux version 6.1.0-fake", "Command line: console=ttyS0",
    "x86/fpu: Supporting XSAVE feature 0x001", "random: crng init done",
    "EXT4-fs (vda): mounted filesystem",
};
#define NR_RECORDS (sizeof(texts) / sizeof(texts[0]))

static uint64_t sym_prb, ring_va;

static uint64_t finalized(uint64_t id) { return (2ULL << (W * 8 - 2)) | id; }
static uint64_t ts_of(unsigned i) { return 1000000007ULL * (i + 1) + 0x100000000ULL * i; }
static unsigned level_of(unsigned i) { return (i * 3 + 1) % 8; }

/* As printk: a block of the id word and the text, W-aligned, from
 * LPOS_START on (no block crosses the ring's end here). */
static void build_ring(void)
{
    const uint64_t rb = alloc(RB_SIZE), descs = alloc(DESC_SIZE << COUNT_BITS),
                   infos = alloc(INFO_SIZE << COUNT_BITS), data = alloc(1u << SIZE_BITS);
    put32(rb + RB_DESC_RING + DR_COUNT_BITS, COUNT_BITS);
    put_word(rb + RB_DESC_RING + DR_DESCS, va(descs));
    put_word(rb + RB_DESC_RING + DR_INFOS, va(infos));
    put32(rb + RB_TEXT_RING + TR_SIZE_BITS, SIZE_BITS);
    put_word(rb + RB_TEXT_RING + TR_DATA, va(data));
    uint64_t lpos = LPOS_START;
    for (unsigned i = 0; i < NR_RECORDS; i++) {
        const uint64_t seq = FIRST_SEQ + i, id = ID_BASE + seq, idx = seq % (1u << COUNT_BITS);
        const uint64_t len = strlen(texts[i]), blk = (W + len + W - 1) / W * W;
        const uint64_t at = lpos % (1u << SIZE_BITS), d = descs + idx * DESC_SIZE,
                       info = infos + idx * INFO_SIZE;
        put_word(data + at, id);
        memcpy(img + data + at + W, texts[i], len);
        put_word(d + DESC_STATE, finalized(id));
        put_word(d + DESC_BEGIN, lpos);
        put_word(d + DESC_NEXT, lpos + blk);
        lpos += blk;
        put64(info + INFO_SEQ, seq);
        put64(info + INFO_TS, ts_of(i));
        const uint16_t text_len = (uint16_t)len;
        memcpy(img + info + INFO_TEXT_LEN, &text_len, 2);
        img[info + INFO_FACILITY] = (uint8_t)(i == 2);
        img[info + INFO_LEVEL_BITS / 8] = (uint8_t)(level_of(i) << 5 | 0x1f); /* flags set */
        put32(info + INFO_CALLER, 0x80000000u | i);
        if (i == 0)
            put_word(rb + RB_DESC_RING + DR_TAIL_ID, id);
        put_word(rb + RB_DESC_RING + DR_HEAD_ID, id);
        put_word(rb + RB_DESC_RING + DR_LAST_FINALIZED, id);
    }
    put_word(rb + RB_TEXT_RING + TR_HEAD_LPOS, lpos);
    put_word(rb + RB_TEXT_RING + TR_TAIL_LPOS, LPOS_START);
    ring_va = va(rb);
    sym_prb = alloc(2 * W);
    put_word(sym_prb, ring_va);
    put_word(sym_prb + W, 0xC0FFEE00u); /* the next variable: not the pointer's */
}

static struct xa_instance *open_kernel(void)
{
    char map[1024];
    int n = btf32_map_anchors(map, sizeof(map));
    snprintf(map + n, sizeof(map) - (size_t)n, "%016llx D prb\n", (unsigned long long)va(sym_prb));
    return cur_xa = btf32_open(btf_printk(), map);
}

static void close_kernel(struct xa_instance *xa)
{
    xa_destroy(xa);
    cur_xa = NULL;
}

/* ---- the tests ------------------------------------------------------------- */

static void test_records(void)
{
    btf32_reset();
    build_ring();
    struct xa_instance *xa = open_kernel();
    if (!xa)
        return;
    struct xa_kmsg_iter *it = NULL;
    int rc = xa_kmsg_iter_new(xa, 0, &it);
    CHECK(rc == 0, "%u-byte words: xa_kmsg_iter_new: %d", W, rc);
    static struct xa_kmsg m;
    unsigned n = 0;
    while (it && (rc = xa_kmsg_iter_next(it, &m)) == 1) {
        if (n >= NR_RECORDS) {
            CHECK(false, "%u-byte words: record %llu past the last", W, (unsigned long long)m.seq);
            break;
        }
        CHECK(m.seq == FIRST_SEQ + n && m.text_len == strlen(texts[n]) &&
                  strcmp(m.text, texts[n]) == 0,
              "%u-byte words: record %u: seq %llu \"%s\"", W, n, (unsigned long long)m.seq,
              m.text);
        CHECK(m.level == level_of(n) && m.facility == (n == 2) && m.ts_ns == ts_of(n) &&
                  m.caller_id == (0x80000000u | n) && m.flags == 0,
              "%u-byte words: record %u: level %u facility %u ts %llu caller 0x%x flags %u", W,
              n, m.level, m.facility, (unsigned long long)m.ts_ns, m.caller_id, m.flags);
        CHECK(m.dropped == (n == 0 ? FIRST_SEQ : 0), "%u-byte words: record %u: %llu dropped",
              W, n, (unsigned long long)m.dropped);
        n++;
    }
    CHECK(rc == 0 && n == NR_RECORDS, "%u-byte words: rc %d after %u of %zu records", W, rc, n,
          NR_RECORDS);
    if (it) {
        CHECK_EQ(xa_kmsg_iter_next_seq(it), FIRST_SEQ + NR_RECORDS);
        xa_kmsg_iter_free(it);
    }
    close_kernel(xa);
}

/* A prb pointer to user space (or, at 64 bits, to a 32-bit address). */
static void test_bad_prb(void)
{
    btf32_reset();
    build_ring();
    put_word(sym_prb, W == 8 ? 0xC0000000ULL + (ring_va & 0xFFFFFFu) : 0x08048000ULL);
    struct xa_instance *xa = open_kernel();
    if (!xa)
        return;
    struct xa_kmsg_iter *it = NULL;
    int rc = xa_kmsg_iter_new(xa, 0, &it);
    CHECK(rc == XA_EBADDATA && strstr(xa_errmsg(xa), "bad prb pointer"),
          "%u-byte words: %d", W, rc);
    if (rc == 0)
        xa_kmsg_iter_free(it);
    close_kernel(xa);
}

int main(void)
{
    img = calloc(1, IMG_SIZE);
    if (!img)
        return 1;
    for (W = 8; W >= 4; W -= 4) {
        test_records();
        test_bad_prb();
    }
    btf32_cleanup();
    free(img);
    CHECK_DONE();
}
