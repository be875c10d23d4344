/*
 * fuzz_jbd2.c -- the disk monitor's ext4 journal parser (disk/lib/jbd2.c)
 * on a fuzzed journal: superblock, then transactions followed from the
 * superblock's start the way the engine replays them (descriptor tags,
 * revoke records, commits, escaped blocks, tag checksums).
 *
 * Input: one control byte (bit 0: store correct block checksums before
 * parsing, so that mutations get past the crc32c of csum v2/v3 journals),
 * then the journal: log block N at N * block size; blocks past the end of
 * the input read as an I/O error.
 *
 * Oracles beyond the sanitizers: tags point inside the log; a transaction
 * never has more data blocks than the log; the next position is in the log.
 */
#include "fuzz_common.h"

#include "disk/lib/jbd2.h"
#include "xenaccess.h"

#define JBD2_FUZZ_MAX_INPUT (1u << 20)
#define JBD2_FUZZ_MAX_TXNS 32

struct log {
    const uint8_t *buf;
    size_t len;
    uint32_t bsize;
};

static int read_block(void *ctx, uint32_t logblock, uint8_t *out)
{
    const struct log *l = ctx;
    uint64_t off = (uint64_t)logblock * l->bsize;
    if (off >= l->len || l->len - off < l->bsize)
        return XA_EIO;
    memcpy(out, l->buf + off, l->bsize);
    return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void fix_checksums(const struct jbd2_sb *sb, uint8_t *buf, size_t len)
{
    for (size_t off = 0; off + sb->bsize <= len; off += sb->bsize) {
        uint32_t seq;
        int kind = jbd2_block_kind(buf + off, &seq);
        if (kind == JBD2_COMMIT)
            put_be32(buf + off + 16, jbd2_block_csum(sb, buf + off));
        else if (kind == JBD2_DESCRIPTOR || kind == JBD2_REVOKE)
            put_be32(buf + off + sb->bsize - 4, jbd2_block_csum(sb, buf + off));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > JBD2_FUZZ_MAX_INPUT)
        return 0;
    uint8_t control = data[0];
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    memcpy(buf, data + 1, len);

    struct jbd2_sb sb;
    if (jbd2_parse_sb(buf, len, &sb) < 0)
        goto out;
    if (sb.first == 0 || sb.first >= sb.last || sb.last > sb.maxlen || sb.bsize < 1024)
        abort();
    if ((control & 1) && sb.csum)
        fix_checksums(&sb, buf, len);

    struct log lg = {buf, len, sb.bsize};
    uint8_t *blk = malloc(sb.bsize);
    if (!blk)
        abort();
    uint32_t pos = sb.start ? sb.start : sb.first, seq = sb.sequence;
    struct jbd2_txn t = {0};
    for (int i = 0; i < JBD2_FUZZ_MAX_TXNS; i++) {
        uint64_t bad = 0;
        int rc = jbd2_read_txn(&sb, read_block, &lg, pos, seq, &t, &bad);
        if (rc != JBD2_TXN_OK) {
            if (rc > JBD2_TXN_INCOMPLETE)
                abort();
            break;
        }
        if (t.ntags > sb.last - sb.first || t.next < sb.first || t.next >= sb.last)
            abort();
        for (size_t k = 0; k < t.ntags; k++) {
            const struct jbd2_tag *tag = &t.tags[k];
            if (tag->logblock < sb.first || tag->logblock >= sb.last)
                abort();
            if (read_block(&lg, tag->logblock, blk) < 0)
                continue;
            (void)jbd2_tag_csum_ok(&sb, tag, t.seq, blk);
            jbd2_unescape(tag, blk);
        }
        pos = t.next;
        seq++;
    }
    jbd2_txn_free(&t);
    free(blk);
out:
    free(buf);
    return 0;
}
