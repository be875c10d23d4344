/*
 * kmsg32.c -- where a 32-bit kernel without BTF or data symbols keeps its
 * printk ring buffer, found by the ring's shape.
 *
 * Debian's 686 kernels have neither BTF nor a prb symbol. The ring's
 * structures (kernel/printk/printk_ringbuffer.h) have one definition from
 * 5.10 on, and on i386 the ABI fixes their layout: 4-byte longs and
 * pointers, u64 aligned to 4. Only prb_desc_ring varies: a last-finalized
 * word (added in 5.19, renamed in 6.10) moves the text ring from +20 to
 * +24, so both places are tried.
 *
 * A candidate is a prb_desc_ring {count_bits, descs, infos, head_id,
 * tail_id} in the kernel image whose text ring says size_bits ==
 * count_bits + 5 (printk sizes both from log_buf_len: a descriptor per 32
 * bytes of text) and whose pointers are the kernel's. It is accepted when
 * lx_prb_open agrees with it and its first records read back (finalized,
 * their info's seq in place, which also proves the info size). Of several
 * rings (the static one and the dynamic one setup_log_buf copied it to),
 * the one with the newest record is the kernel's: only that one grows.
 *
 * The search reads at most @hi - @lo bytes once and validates at most
 * MAX_TRIES candidates; every record it reads goes through prb.c's checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/netread.h"

#define CHUNK (64u << 10)
#define HEADER 32u        /* the bytes a candidate header spans: up to data at +28 */
#define AVG_TEXT_BITS 5u  /* printk.c PRB_AVGBITS */
#define MIN_COUNT_BITS 5u /* the smallest CONFIG_LOG_BUF_SHIFT is 12 */
#define MAX_TRIES 256u    /* candidates validated in full */
#define PROBE_RECORDS 16u /* records read back per candidate */

/* The i386 layouts of printk_info and prb_desc; the text ring's place is
 * set per candidate. */
static struct lx_prb_layout layout32(uint64_t kptr_min, uint64_t text_ring)
{
    return (struct lx_prb_layout){
        .word = 4, .kptr_min = kptr_min,
        .desc_ring = 0, .text_ring = text_ring,
        .count_bits = 0, .descs = 4, .infos = 8, .head_id = 12, .tail_id = 16,
        .size_bits = 0, .data = 4,
        .desc_size = 12, .state_var = 0, .text_begin = 4, .text_next = 8,
        .info_size = 88, .seq = 0, .ts_nsec = 8, .text_len = 16, .facility = 18,
        .level_byte = 19, .level_shift = 5, .caller_id = 20,
    };
}

static uint32_t le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static bool kptr32(uint32_t v, uint64_t kptr_min)
{
    return v >= kptr_min && (v & 3) == 0;
}

/* The ring at @rb read with @l: 0 with its newest record's seq in @end when
 * its header and its first records read back, else an error in @why. */
static int try_ring(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx, uint64_t rb,
                    uint64_t *end, char *why)
{
    struct lx_prb r;
    int rc = lx_prb_open(l, read, ctx, rb, &r, why);
    if (rc < 0)
        return rc;
    struct xa_kmsg *m = malloc(sizeof(*m));
    if (!m) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    unsigned good = 0, tried = 0;
    for (uint64_t s = r.first_seq; s < r.end_seq && tried < PROBE_RECORDS; s++, tried++) {
        rc = lx_prb_record(l, read, ctx, &r, s, m, why);
        if (rc < 0)
            break;
        good += rc == 1;
    }
    free(m);
    if (rc < 0)
        return rc;
    /* a live ring may have a record being written; most must read back */
    if (tried == 0 || good * 2 <= tried) {
        snprintf(why, LX_WHY_LEN, "%u of its first %u records read back", good, tried);
        return XA_EBADDATA;
    }
    *end = r.end_seq;
    return 0;
}

int lx_prb32_find(lx_mem_fn read, void *ctx, uint64_t lo, uint64_t hi, uint64_t kptr_min,
                  struct lx_prb_layout *out, uint64_t *rb_out, char *why)
{
    static const uint64_t text_rings[] = {20, 24};
    uint8_t *buf = malloc(CHUNK + HEADER);
    if (!buf) {
        snprintf(why, LX_WHY_LEN, "out of memory");
        return XA_ENOMEM;
    }
    lo &= ~3ULL;
    uint64_t best_end = 0, best_rb = 0;
    struct lx_prb_layout best = {0};
    unsigned tries = 0;
    char last_why[LX_WHY_LEN] = "", cand_why[LX_WHY_LEN];
    for (uint64_t at = lo; at < hi && tries < MAX_TRIES; at += CHUNK) {
        size_t len = hi - at < CHUNK + HEADER ? (size_t)(hi - at) : CHUNK + HEADER;
        if (len < HEADER || read(ctx, at, buf, len) < 0)
            continue; /* a hole: the image is all in the direct map, so past its end */
        for (size_t o = 0; o + HEADER <= len && o < CHUNK && tries < MAX_TRIES; o += 4) {
            uint32_t cbits = le32(buf + o);
            if (cbits < MIN_COUNT_BITS || cbits > LX_PRB_COUNT_BITS_MAX)
                continue;
            uint32_t descs = le32(buf + o + 4), infos = le32(buf + o + 8);
            if (!kptr32(descs, kptr_min) || !kptr32(infos, kptr_min) || descs == infos)
                continue;
            for (size_t t = 0; t < sizeof(text_rings) / sizeof(text_rings[0]); t++) {
                const uint8_t *tr = buf + o + text_rings[t];
                if (le32(tr) != cbits + AVG_TEXT_BITS || !kptr32(le32(tr + 4), kptr_min))
                    continue;
                struct lx_prb_layout l = layout32(kptr_min, text_rings[t]);
                uint64_t end;
                tries++;
                if (try_ring(&l, read, ctx, at + o, &end, cand_why) < 0) {
                    memcpy(last_why, cand_why, sizeof(last_why));
                } else if (end > best_end) {
                    best_end = end;
                    best_rb = at + o;
                    best = l;
                }
            }
        }
    }
    free(buf);
    if (!best_rb) {
        if (last_why[0])
            snprintf(why, LX_WHY_LEN, "no printk ring in 0x%llx..0x%llx (%u candidates; the last: %.200s)",
                     (unsigned long long)lo, (unsigned long long)hi, tries, last_why);
        else
            snprintf(why, LX_WHY_LEN, "no printk ring in 0x%llx..0x%llx",
                     (unsigned long long)lo, (unsigned long long)hi);
        return XA_ENOENT;
    }
    *out = best;
    *rb_out = best_rb;
    return 0;
}
