/* jbd2.c -- see jbd2.h.  Formats: Linux include/linux/jbd2.h (big-endian on disk). */
#include "jbd2.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "xa_errors.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* superblock field offsets */
enum {
    SB_BLOCKSIZE = 0x0c, SB_MAXLEN = 0x10, SB_FIRST = 0x14, SB_SEQUENCE = 0x18,
    SB_START = 0x1c, SB_INCOMPAT = 0x28, SB_UUID = 0x30, SB_NUM_FC = 0x54,
};

int jbd2_parse_sb(const uint8_t *blk, size_t len, struct jbd2_sb *sb)
{
    memset(sb, 0, sizeof(*sb));
    if (len < 1024 || be32(blk) != JBD2_MAGIC)
        return XA_EBADDATA;
    uint32_t type = be32(blk + 4);
    if (type != JBD2_SB_V1 && type != JBD2_SB_V2)
        return XA_EBADDATA;
    sb->bsize = be32(blk + SB_BLOCKSIZE);
    sb->maxlen = be32(blk + SB_MAXLEN);
    sb->first = be32(blk + SB_FIRST);
    sb->sequence = be32(blk + SB_SEQUENCE);
    sb->start = be32(blk + SB_START);
    sb->incompat = type == JBD2_SB_V2 ? be32(blk + SB_INCOMPAT) : 0;
    memcpy(sb->uuid, blk + SB_UUID, 16);
    if (sb->bsize < 1024 || sb->bsize > 65536 || (sb->bsize & (sb->bsize - 1)))
        return XA_EBADDATA;
    if (sb->maxlen < 1024 || sb->first == 0 || sb->first >= sb->maxlen)
        return XA_EBADDATA;
    if (sb->incompat & ~JBD2_KNOWN_INCOMPAT)
        return XA_ENOTSUP;
    sb->last = sb->maxlen;
    if (sb->incompat & JBD2_INCOMPAT_FAST_COMMIT) {
        uint32_t fc = be32(blk + SB_NUM_FC);
        if (fc == 0)
            fc = 256; /* the kernel's default fast-commit area */
        if (fc >= sb->maxlen - sb->first)
            return XA_EBADDATA;
        sb->last = sb->maxlen - fc;
    }
    if (sb->start != 0 && (sb->start < sb->first || sb->start >= sb->last))
        return XA_EBADDATA;
    sb->is64 = sb->incompat & JBD2_INCOMPAT_64BIT;
    sb->csum_v3 = sb->incompat & JBD2_INCOMPAT_CSUM_V3;
    sb->csum = sb->csum_v3 || (sb->incompat & JBD2_INCOMPAT_CSUM_V2);
    if (sb->csum_v3)
        sb->tag_bytes = 16;
    else
        sb->tag_bytes = 12 + ((sb->incompat & JBD2_INCOMPAT_CSUM_V2) ? 2 : 0) -
                        (sb->is64 ? 0 : 4);
    sb->csum_seed = xd_crc32c(0xffffffffu, sb->uuid, 16);
    return 0;
}

int jbd2_block_kind(const uint8_t *blk, uint32_t *seq)
{
    if (be32(blk) != JBD2_MAGIC)
        return 0;
    *seq = be32(blk + 8);
    return (int)be32(blk + 4);
}

/* descriptor/revoke tail and commit checksums: crc32c over the block with
 * the checksum field zeroed */
static uint32_t csum_with_zeroed(const struct jbd2_sb *sb, const uint8_t *blk, size_t field)
{
    static const uint8_t zero[4];
    uint32_t c = xd_crc32c(sb->csum_seed, blk, field);
    c = xd_crc32c(c, zero, 4);
    return xd_crc32c(c, blk + field + 4, sb->bsize - field - 4);
}

uint32_t jbd2_block_csum(const struct jbd2_sb *sb, const uint8_t *blk)
{
    uint32_t seq;
    if (jbd2_block_kind(blk, &seq) == JBD2_COMMIT)
        return csum_with_zeroed(sb, blk, 16);
    return csum_with_zeroed(sb, blk, sb->bsize - 4);
}

static bool block_csum_ok(const struct jbd2_sb *sb, const uint8_t *blk, int kind)
{
    if (!sb->csum)
        return true;
    size_t field = kind == JBD2_COMMIT ? 16 : sb->bsize - 4;
    return be32(blk + field) == csum_with_zeroed(sb, blk, field);
}

uint32_t jbd2_data_csum(const struct jbd2_sb *sb, uint32_t seq, const uint8_t *data)
{
    uint8_t s[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
                    (uint8_t)seq};
    return xd_crc32c(xd_crc32c(sb->csum_seed, s, 4), data, sb->bsize);
}

bool jbd2_tag_csum_ok(const struct jbd2_sb *sb, const struct jbd2_tag *tag, uint32_t seq,
                      const uint8_t *data)
{
    if (!sb->csum)
        return true;
    uint32_t c = jbd2_data_csum(sb, seq, data);
    return sb->csum_v3 ? c == tag->csum : (c & 0xffff) == (tag->csum & 0xffff);
}

void jbd2_unescape(const struct jbd2_tag *tag, uint8_t *data)
{
    if (tag->flags & JBD2_FLAG_ESCAPE) {
        data[0] = 0xC0, data[1] = 0x3B, data[2] = 0x39, data[3] = 0x98;
    }
}

void jbd2_txn_free(struct jbd2_txn *t)
{
    free(t->tags);
    free(t->revoked);
    memset(t, 0, sizeof(*t));
}

static int push_tag(struct jbd2_txn *t, const struct jbd2_tag *tag)
{
    if (t->ntags == t->tags_cap) {
        size_t n = t->tags_cap ? t->tags_cap * 2 : 64;
        void *p = realloc(t->tags, n * sizeof(*t->tags));
        if (!p)
            return XA_ENOMEM;
        t->tags = p;
        t->tags_cap = n;
    }
    t->tags[t->ntags++] = *tag;
    return 0;
}

static int push_revoke(struct jbd2_txn *t, uint64_t b)
{
    if (t->nrevoked == t->revoked_cap) {
        size_t n = t->revoked_cap ? t->revoked_cap * 2 : 64;
        void *p = realloc(t->revoked, n * sizeof(*t->revoked));
        if (!p)
            return XA_ENOMEM;
        t->revoked = p;
        t->revoked_cap = n;
    }
    t->revoked[t->nrevoked++] = b;
    return 0;
}

/* Tags of one descriptor block; *pos advances over the data blocks they describe. */
static int parse_descriptor(const struct jbd2_sb *sb, const uint8_t *blk, struct jbd2_txn *t,
                            uint32_t *pos, uint32_t *used, uint32_t loglen)
{
    size_t end = sb->bsize - (sb->csum ? 4 : 0);
    size_t off = 12;
    while (off + sb->tag_bytes <= end) {
        const uint8_t *p = blk + off;
        struct jbd2_tag tag = {0};
        if (sb->csum_v3) {
            tag.fsblock = be32(p);
            tag.flags = be32(p + 4);
            if (sb->is64)
                tag.fsblock |= (uint64_t)be32(p + 8) << 32;
            tag.csum = be32(p + 12);
        } else {
            tag.fsblock = be32(p);
            tag.csum = be16(p + 4);
            tag.flags = be16(p + 6);
            if (sb->is64)
                tag.fsblock |= (uint64_t)be32(p + 8) << 32;
        }
        off += sb->tag_bytes;
        if (!(tag.flags & JBD2_FLAG_SAME_UUID))
            off += 16;
        if (++*used >= loglen)
            return XA_EBADDATA; /* the transaction cannot be longer than the log */
        *pos = jbd2_next(sb, *pos);
        tag.logblock = *pos;
        int rc = push_tag(t, &tag);
        if (rc < 0)
            return rc;
        if (tag.flags & JBD2_FLAG_LAST_TAG)
            return 0;
        if (off > end)
            return XA_EBADDATA;
    }
    return 0; /* ran out of room without LAST_TAG: the kernel does the same */
}

static int parse_revoke(const struct jbd2_sb *sb, const uint8_t *blk, struct jbd2_txn *t)
{
    uint32_t count = be32(blk + 12); /* bytes used, including the 16-byte header */
    size_t end = sb->bsize - (sb->csum ? 4 : 0);
    size_t rec = sb->is64 ? 8 : 4;
    if (count < 16 || count > end)
        return XA_EBADDATA;
    for (size_t off = 16; off + rec <= count; off += rec) {
        uint64_t b = sb->is64 ? be64(blk + off) : be32(blk + off);
        int rc = push_revoke(t, b);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int jbd2_read_txn(const struct jbd2_sb *sb, jbd2_read_fn rd, void *ctx, uint32_t start,
                  uint32_t seq, struct jbd2_txn *t, uint64_t *bad)
{
    jbd2_txn_free(t);
    t->seq = seq;
    t->start = start;
    if (start < sb->first || start >= sb->last)
        return XA_EINVAL;
    uint8_t *blk = malloc(sb->bsize);
    if (!blk)
        return XA_ENOMEM;
    uint32_t loglen = sb->last - sb->first;
    uint32_t pos = start, used = 0;
    int rc;
    for (;;) {
        rc = rd(ctx, pos, blk);
        if (rc < 0)
            break;
        uint32_t bseq;
        int kind = jbd2_block_kind(blk, &bseq);
        if (!kind || bseq != seq) {
            rc = used == 0 ? JBD2_TXN_NONE : JBD2_TXN_INCOMPLETE;
            break;
        }
        if ((kind == JBD2_DESCRIPTOR || kind == JBD2_REVOKE || kind == JBD2_COMMIT) &&
            !block_csum_ok(sb, blk, kind)) {
            /* a half-written or stale block: not (yet) part of the log */
            if (bad)
                (*bad)++;
            rc = used == 0 ? JBD2_TXN_NONE : JBD2_TXN_INCOMPLETE;
            break;
        }
        if (kind == JBD2_DESCRIPTOR) {
            rc = parse_descriptor(sb, blk, t, &pos, &used, loglen);
        } else if (kind == JBD2_REVOKE) {
            rc = parse_revoke(sb, blk, t);
        } else if (kind == JBD2_COMMIT) {
            t->commit_sec = be64(blk + 0x30);
            t->next = jbd2_next(sb, pos);
            rc = JBD2_TXN_OK;
            break;
        } else {
            rc = used == 0 ? JBD2_TXN_NONE : XA_EBADDATA;
        }
        if (rc != 0)
            break;
        if (++used >= loglen) {
            rc = XA_EBADDATA;
            break;
        }
        pos = jbd2_next(sb, pos);
    }
    free(blk);
    if (rc < 0 && bad)
        (*bad)++;
    return rc;
}
