/*
 * prb.c -- the printk ring buffer of Linux 5.10+, read from outside.
 *
 * The kernel keeps three arrays: descriptors (a state word and where the
 * text lies), infos (sequence number, time, level, text length) and a data
 * ring of text blocks. Record seq lives at index seq % count; its state word
 * holds the descriptor id (low 62 bits) and a state (top 2 bits: reserved,
 * committed, finalized, reusable); only finalized records may be read. A
 * text block starts with the id of its descriptor; a block that would cross
 * the end of the data ring is stored from its start instead (its begin
 * position then belongs to the previous wrap).
 *
 * Everything is the guest's: sizes are capped, positions checked against
 * the ring, a block's id checked against its descriptor, and the state word
 * read again after the record, so a record rewritten meanwhile (live
 * guests) is reported as missing rather than torn.
 */
#include <stdio.h>
#include <string.h>

#include "os/linux/netread.h"

#define STATE_FINALIZED 2u
#define LPOS_DATALESS(lpos) ((lpos) & 1u)
#define NO_LPOS 0x3u

static unsigned word_bits(const struct lx_prb_layout *l)
{
    return l->word * 8;
}

static uint64_t id_mask(const struct lx_prb_layout *l)
{
    return (1ULL << (word_bits(l) - 2)) - 1;
}

static uint64_t state_of(const struct lx_prb_layout *l, uint64_t sv)
{
    return sv >> (word_bits(l) - 2);
}

static bool kptr(const struct lx_prb_layout *l, uint64_t va)
{
    return va >= l->kptr_min && (va & (l->word - 1)) == 0;
}

static int rd(lx_mem_fn read, void *ctx, uint64_t va, void *buf, size_t len, char *why,
              const char *what)
{
    int rc = read(ctx, va, buf, len);
    if (rc < 0)
        snprintf(why, LX_WHY_LEN, "%s at 0x%llx unreadable", what, (unsigned long long)va);
    return rc;
}

/* A long of the kernel (@l->word bytes, little-endian), zero-extended. */
static int rd_word(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx, uint64_t va,
                   uint64_t *v, char *why, const char *what)
{
    uint32_t v32 = 0;
    int rc = l->word == 4 ? rd(read, ctx, va, &v32, 4, why, what) : rd(read, ctx, va, v, 8, why, what);
    if (rc == 0 && l->word == 4)
        *v = v32;
    return rc;
}

static int info_seq(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx,
                    const struct lx_prb *rb, uint64_t id, uint64_t *seq, char *why)
{
    uint64_t idx = id & ((1ULL << rb->count_bits) - 1);
    return rd(read, ctx, rb->infos + idx * l->info_size + l->seq, seq, sizeof(*seq), why,
              "printk_info.seq");
}

int lx_prb_open(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx, uint64_t rb,
                struct lx_prb *out, char *why)
{
    why[0] = '\0';
    memset(out, 0, sizeof(*out));
    if (l->word != 4 && l->word != 8) {
        snprintf(why, LX_WHY_LEN, "no word size for the ring (%u)", l->word);
        return XA_EINVAL;
    }
    uint32_t cbits, sbits;
    uint64_t head, tail;
    const uint64_t d = rb + l->desc_ring, t = rb + l->text_ring;
    int rc;
    if ((rc = rd(read, ctx, d + l->count_bits, &cbits, 4, why, "prb_desc_ring")) < 0 ||
        (rc = rd_word(l, read, ctx, d + l->descs, &out->descs, why, "prb_desc_ring")) < 0 ||
        (rc = rd_word(l, read, ctx, d + l->infos, &out->infos, why, "prb_desc_ring")) < 0 ||
        (rc = rd_word(l, read, ctx, d + l->head_id, &head, why, "prb_desc_ring")) < 0 ||
        (rc = rd_word(l, read, ctx, d + l->tail_id, &tail, why, "prb_desc_ring")) < 0 ||
        (rc = rd(read, ctx, t + l->size_bits, &sbits, 4, why, "prb_data_ring")) < 0 ||
        (rc = rd_word(l, read, ctx, t + l->data, &out->data, why, "prb_data_ring")) < 0)
        return rc;
    if (cbits == 0 || cbits > LX_PRB_COUNT_BITS_MAX || sbits < 4 || sbits > LX_PRB_SIZE_BITS_MAX ||
        sbits >= word_bits(l)) {
        snprintf(why, LX_WHY_LEN, "implausible ring sizes: 2^%u descriptors, 2^%u data bytes",
                 cbits, sbits);
        return XA_EBADDATA;
    }
    if (!kptr(l, out->descs) || !kptr(l, out->infos) || !kptr(l, out->data)) {
        snprintf(why, LX_WHY_LEN, "bad ring pointers (descs 0x%llx, infos 0x%llx, data 0x%llx)",
                 (unsigned long long)out->descs, (unsigned long long)out->infos,
                 (unsigned long long)out->data);
        return XA_EBADDATA;
    }
    out->count_bits = cbits;
    out->size_bits = sbits;
    out->word = l->word;
    uint64_t first, last;
    if ((rc = info_seq(l, read, ctx, out, tail & id_mask(l), &first, why)) < 0 ||
        (rc = info_seq(l, read, ctx, out, head & id_mask(l), &last, why)) < 0)
        return rc;
    /* At most one record per descriptor between tail and head. (Before the
     * ring first wraps, the tail is a placeholder whose seq is 0 too.) */
    if (last < first || last - first >= (1ULL << cbits) || last == UINT64_MAX /* end wraps */) {
        snprintf(why, LX_WHY_LEN, "ring tail and head disagree: seqs %llu..%llu in %llu slots",
                 (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)(1ULL << cbits));
        return XA_EBADDATA;
    }
    out->first_seq = first;
    out->end_seq = last + 1;
    return 0;
}

/* Where the text of a block [begin, next) lies: 1 with *va and *len, 0 when
 * the positions cannot be a block of this ring. Positions count modulo the
 * word (a 32-bit kernel's wrap after 4 GiB of text). */
static int text_block(const struct lx_prb *rb, uint64_t begin, uint64_t next, uint64_t *va,
                      uint64_t *len)
{
    const uint64_t lmask = rb->word == 4 ? 0xffffffffULL : ~0ULL;
    const uint64_t size = 1ULL << rb->size_bits, mask = size - 1;
    const uint64_t span = (next - begin) & lmask;
    const uint64_t wraps = ((next >> rb->size_bits) - (begin >> rb->size_bits)) & (lmask >> rb->size_bits);
    if (span > size || span == 0)
        return 0;
    if (wraps == 0) {
        *va = rb->data + (begin & mask);
        *len = span;
    } else if (wraps == 1) {
        *va = rb->data; /* wrapped: stored from the ring's start */
        *len = next & mask;
    } else {
        return 0;
    }
    return *len >= rb->word;
}

int lx_prb_record(const struct lx_prb_layout *l, lx_mem_fn read, void *ctx,
                  const struct lx_prb *rb, uint64_t seq, struct xa_kmsg *out, char *why)
{
    why[0] = '\0';
    const uint64_t idx = seq & ((1ULL << rb->count_bits) - 1);
    const uint64_t desc = rb->descs + idx * l->desc_size, info = rb->infos + idx * l->info_size;
    uint64_t sv, sv2, begin, next, iseq, ts, blk_id;
    uint16_t text_len;
    uint8_t facility, level_byte;
    uint32_t caller;
    int rc;
    if ((rc = rd_word(l, read, ctx, desc + l->state_var, &sv, why, "prb_desc")) < 0 ||
        (rc = rd_word(l, read, ctx, desc + l->text_begin, &begin, why, "prb_desc")) < 0 ||
        (rc = rd_word(l, read, ctx, desc + l->text_next, &next, why, "prb_desc")) < 0 ||
        (rc = rd(read, ctx, info + l->seq, &iseq, 8, why, "printk_info")) < 0 ||
        (rc = rd(read, ctx, info + l->ts_nsec, &ts, 8, why, "printk_info")) < 0 ||
        (rc = rd(read, ctx, info + l->text_len, &text_len, 2, why, "printk_info")) < 0 ||
        (rc = rd(read, ctx, info + l->facility, &facility, 1, why, "printk_info")) < 0 ||
        (rc = rd(read, ctx, info + l->level_byte, &level_byte, 1, why, "printk_info")) < 0 ||
        (rc = rd(read, ctx, info + l->caller_id, &caller, 4, why, "printk_info")) < 0)
        return rc;
    if (state_of(l, sv) != STATE_FINALIZED || iseq != seq)
        return 0;
    memset(out, 0, offsetof(struct xa_kmsg, text));
    out->seq = seq;
    out->ts_ns = ts;
    out->facility = facility;
    out->level = (uint8_t)((level_byte >> l->level_shift) & 7);
    out->caller_id = caller;
    out->text[0] = '\0';
    if (LPOS_DATALESS(begin) || LPOS_DATALESS(next)) {
        if (begin != NO_LPOS || next != NO_LPOS)
            return 0; /* its text was lost (FAILED_LPOS) */
    } else {
        uint64_t va, blen;
        if (!text_block(rb, begin, next, &va, &blen))
            return 0;
        if ((rc = rd_word(l, read, ctx, va, &blk_id, why, "text block")) < 0)
            return rc;
        if ((blk_id & id_mask(l)) != (sv & id_mask(l)))
            return 0; /* the block was taken by a newer record */
        uint64_t avail = blen - l->word, want = text_len;
        if (want > avail) {
            want = avail;
            out->flags |= XA_KMSG_TRUNCATED;
        }
        if (want > XA_KMSG_TEXT_MAX) {
            want = XA_KMSG_TEXT_MAX;
            out->flags |= XA_KMSG_TRUNCATED;
        }
        if (want && (rc = rd(read, ctx, va + l->word, out->text, want, why, "text")) < 0)
            return rc;
        out->text[want] = '\0';
        out->text_len = want;
    }
    if ((rc = rd_word(l, read, ctx, desc + l->state_var, &sv2, why, "prb_desc")) < 0)
        return rc;
    return sv2 == sv; /* changed meanwhile: not a record to trust */
}
