/*
 * jbd2.h -- parsing the ext4 jbd2 journal: superblock, descriptor, revoke
 * and commit blocks.  Pure functions over blocks handed in by the caller;
 * every field is checked (the journal is written by the guest).
 */
#ifndef XADISK_JBD2_H
#define XADISK_JBD2_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBD2_MAGIC 0xC03B3998u
enum { JBD2_DESCRIPTOR = 1, JBD2_COMMIT = 2, JBD2_SB_V1 = 3, JBD2_SB_V2 = 4, JBD2_REVOKE = 5 };
enum {
    JBD2_FLAG_ESCAPE = 1,
    JBD2_FLAG_SAME_UUID = 2,
    JBD2_FLAG_DELETED = 4,
    JBD2_FLAG_LAST_TAG = 8,
};
enum {
    JBD2_INCOMPAT_REVOKE = 0x1,
    JBD2_INCOMPAT_64BIT = 0x2,
    JBD2_INCOMPAT_ASYNC_COMMIT = 0x4,
    JBD2_INCOMPAT_CSUM_V2 = 0x8,
    JBD2_INCOMPAT_CSUM_V3 = 0x10,
    JBD2_INCOMPAT_FAST_COMMIT = 0x20,
};
#define JBD2_KNOWN_INCOMPAT 0x3fu

struct jbd2_sb {
    uint32_t bsize;
    uint32_t maxlen;   /* blocks in the journal */
    uint32_t first;    /* first log block */
    uint32_t last;     /* one past the last log block (fast-commit area excluded) */
    uint32_t sequence; /* first transaction expected in the log */
    uint32_t start;    /* log block of that transaction; 0 = log empty */
    uint32_t incompat;
    uint8_t uuid[16];
    uint32_t csum_seed;
    size_t tag_bytes;
    bool csum; /* v2 or v3 block checksums */
    bool csum_v3;
    bool is64;
};

/* 0 or XA_EBADDATA / XA_ENOTSUP. */
int jbd2_parse_sb(const uint8_t *blk, size_t len, struct jbd2_sb *sb);

static inline uint32_t jbd2_next(const struct jbd2_sb *sb, uint32_t b)
{
    return b + 1 >= sb->last ? sb->first : b + 1;
}

struct jbd2_tag {
    uint64_t fsblock;  /* where the block belongs in the file system */
    uint32_t logblock; /* where its copy is in the log */
    uint32_t flags;
    uint32_t csum;     /* v3: 32 bits; v2: low 16 bits */
};

struct jbd2_txn {
    uint32_t seq;
    uint32_t start; /* log block of the first descriptor */
    uint32_t next;  /* log block after the commit block */
    uint64_t commit_sec;
    struct jbd2_tag *tags;
    size_t ntags, tags_cap;
    uint64_t *revoked;
    size_t nrevoked, revoked_cap;
};

/* Read log block `logblock` (sb->bsize bytes) into buf; 0 or negative. */
typedef int (*jbd2_read_fn)(void *ctx, uint32_t logblock, uint8_t *buf);

enum jbd2_txn_status {
    JBD2_TXN_OK = 0,         /* a complete, committed transaction */
    JBD2_TXN_NONE = 1,       /* no block of transaction `seq` at `start` */
    JBD2_TXN_INCOMPLETE = 2, /* started but no valid commit (yet) */
};

/*
 * Parse transaction `seq` starting at log block `start`.  Returns an enum
 * jbd2_txn_status or a negative XA_E* code (XA_EBADDATA: corrupt blocks;
 * *bad counts rejected blocks).  t is reset first; free with jbd2_txn_free().
 */
int jbd2_read_txn(const struct jbd2_sb *sb, jbd2_read_fn rd, void *ctx, uint32_t start,
                  uint32_t seq, struct jbd2_txn *t, uint64_t *bad);
void jbd2_txn_free(struct jbd2_txn *t);

/* Check a logged block against its tag (true when the journal has no block checksums). */
bool jbd2_tag_csum_ok(const struct jbd2_sb *sb, const struct jbd2_tag *tag, uint32_t seq,
                      const uint8_t *data);
/* Restore the magic an escaped block had in its first four bytes. */
void jbd2_unescape(const struct jbd2_tag *tag, uint8_t *data);

/* What a block looks like: 0 if not a jbd2 header, else its type; *seq set. */
int jbd2_block_kind(const uint8_t *blk, uint32_t *seq);

/* Compute the checksums a writer would store (used by tests to build journals). */
uint32_t jbd2_block_csum(const struct jbd2_sb *sb, const uint8_t *blk);
uint32_t jbd2_data_csum(const struct jbd2_sb *sb, uint32_t seq, const uint8_t *data);
#endif
