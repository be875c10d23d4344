/* engine.c -- see engine.h. */
#include "engine.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>

#define MAX_DESC_TRACK 4096

/* ------------------------------------------------------ journal area --- */

static int jmap_add(struct engine *e, uint64_t lblk, uint64_t pblk)
{
    if (e->njmap && e->jmap[e->njmap - 1].lblk + e->jmap[e->njmap - 1].len == lblk &&
        e->jmap[e->njmap - 1].pblk + e->jmap[e->njmap - 1].len == pblk) {
        e->jmap[e->njmap - 1].len++;
        return 0;
    }
    void *p = realloc(e->jmap, (e->njmap + 1) * sizeof(*e->jmap));
    if (!p)
        return XA_ENOMEM;
    e->jmap = p;
    e->jmap[e->njmap++] = (struct jext){lblk, pblk, 1};
    return 0;
}

static bool log_to_fs(const struct engine *e, uint32_t lblk, uint64_t *pblk)
{
    for (size_t i = 0; i < e->njmap; i++)
        if (lblk >= e->jmap[i].lblk && lblk - e->jmap[i].lblk < e->jmap[i].len) {
            *pblk = e->jmap[i].pblk + (lblk - e->jmap[i].lblk);
            return true;
        }
    return false;
}

static bool fs_to_log(const struct engine *e, uint64_t pblk, uint32_t *lblk)
{
    for (size_t i = 0; i < e->njmap; i++)
        if (pblk >= e->jmap[i].pblk && pblk - e->jmap[i].pblk < e->jmap[i].len) {
            *lblk = (uint32_t)(e->jmap[i].lblk + (pblk - e->jmap[i].pblk));
            return true;
        }
    return false;
}

static int read_log(void *ctx, uint32_t lblk, uint8_t *buf)
{
    struct engine *e = ctx;
    uint64_t pblk;
    if (!log_to_fs(e, lblk, &pblk))
        return XA_ERANGE;
    return shadow_read(&e->sh, pblk * e->sh.bsize, buf, e->sh.bsize);
}

/* Map the journal inode's blocks (it is fixed while mounted). */
static int map_journal(struct engine *e)
{
    ext2_filsys fs = e->m.fs;
    if (!ext2fs_has_feature_journal(fs->super) || fs->super->s_journal_inum == 0)
        return 0;
    uint32_t jino = fs->super->s_journal_inum;
    struct ext2_inode inode;
    if (ext2fs_read_inode(fs, jino, &inode))
        return XA_EBADDATA;
    uint64_t blocks = EXT2_I_SIZE(&inode) / fs->blocksize;
    if (blocks < 1024 || blocks > (1u << 24))
        return XA_EBADDATA;
    for (uint64_t l = 0; l < blocks; l++) {
        blk64_t p = 0;
        if (ext2fs_bmap2(fs, jino, &inode, NULL, 0, l, NULL, &p) || p == 0 ||
            p >= ext2fs_blocks_count(fs->super))
            return XA_EBADDATA;
        int rc = jmap_add(e, l, p);
        if (rc < 0)
            return rc;
    }
    uint8_t *blk = malloc(fs->blocksize);
    if (!blk)
        return XA_ENOMEM;
    int rc = read_log(e, 0, blk);
    if (rc == 0)
        rc = jbd2_parse_sb(blk, fs->blocksize, &e->jsb);
    free(blk);
    if (rc < 0)
        return rc;
    if (e->jsb.bsize != fs->blocksize || e->jsb.maxlen > blocks)
        return XA_EBADDATA;
    e->journaled = true;
    return 0;
}

/* Write a committed transaction's blocks into the shadow; collect inode-table inodes. */
static void push_ino(uint32_t **v, size_t *n, size_t *cap, uint32_t ino)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void *p = realloc(*v, nc * sizeof(**v));
        if (!p)
            return;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = ino;
}

static int replay_txn(struct engine *e, const struct jbd2_txn *t, uint32_t **inos, size_t *ninos,
                      uint32_t **dirs, size_t *ndirs, const struct u64map *revoked)
{
    size_t dcap = 0;
    uint8_t *blk = malloc(e->sh.bsize);
    size_t cap = 0;
    if (!blk)
        return XA_ENOMEM;
    uint64_t nblocks = ext2fs_blocks_count(e->m.fs->super);
    for (size_t i = 0; i < t->ntags; i++) {
        const struct jbd2_tag *tag = &t->tags[i];
        uint32_t dummy;
        if (tag->fsblock == 0 || tag->fsblock >= nblocks || fs_to_log(e, tag->fsblock, &dummy)) {
            e->bad_journal++; /* outside the file system, or into the journal itself */
            continue;
        }
        if (revoked) {
            uintptr_t rseq = (uintptr_t)u64map_get(revoked, tag->fsblock);
            if (rseq && (uint32_t)(rseq - 1) - t->seq < 0x80000000u)
                continue; /* revoked by this or a later transaction */
        }
        if (read_log(e, tag->logblock, blk) < 0 || !jbd2_tag_csum_ok(&e->jsb, tag, t->seq, blk)) {
            e->bad_journal++;
            continue;
        }
        jbd2_unescape(tag, blk);
        if (shadow_put_block(&e->sh, tag->fsblock, blk) < 0)
            continue;
        if (dirs) {
            uint32_t d[8];
            size_t nd = model_dirs_in_block(&e->m, tag->fsblock, d, 8);
            for (size_t k = 0; k < nd; k++)
                push_ino(dirs, ndirs, &dcap, d[k]);
        }
        uint32_t first, cnt = model_inodes_in_block(&e->m, tag->fsblock, &first);
        if (cnt && inos) {
            if (*ninos + cnt > cap) {
                cap = (*ninos + cnt) * 2;
                void *p = realloc(*inos, cap * sizeof(**inos));
                if (!p)
                    break;
                *inos = p;
            }
            for (uint32_t k = 0; k < cnt; k++)
                (*inos)[(*ninos)++] = first + k;
        }
    }
    free(blk);
    return 0;
}

static void drop_log_blocks(struct engine *e, uint32_t from, uint32_t to)
{
    uint32_t limit = e->jsb.last - e->jsb.first;
    for (uint32_t p = from, n = 0; p != to && n < limit; p = jbd2_next(&e->jsb, p), n++) {
        uint64_t pb;
        if (log_to_fs(e, p, &pb))
            shadow_drop_block(&e->sh, pb);
    }
}

/* Journal recovery as e2fsck does it: scan, collect revokes, replay. */
static int recover_journal(struct engine *e)
{
    e->jseq = e->jsb.sequence;
    e->jpos = e->jsb.start ? e->jsb.start : e->jsb.first;
    e->jsynced = e->jsb.start != 0;
    if (!e->jsb.start)
        return 0;
    struct jbd2_txn *txns = NULL;
    size_t n = 0;
    struct u64map revoked = {0};
    int rc = 0;
    uint32_t limit = e->jsb.last - e->jsb.first;
    for (uint32_t i = 0; i < limit; i++) {
        struct jbd2_txn t = {0};
        int r = jbd2_read_txn(&e->jsb, read_log, e, e->jpos, e->jseq, &t, &e->bad_journal);
        if (r != JBD2_TXN_OK) {
            jbd2_txn_free(&t);
            break;
        }
        void *p = realloc(txns, (n + 1) * sizeof(*txns));
        if (!p) {
            jbd2_txn_free(&t);
            rc = XA_ENOMEM;
            break;
        }
        txns = p;
        txns[n++] = t;
        for (size_t k = 0; k < t.nrevoked; k++)
            u64map_put(&revoked, t.revoked[k], (void *)(uintptr_t)(t.seq + 1u), NULL);
        e->jpos = t.next;
        e->jseq = t.seq + 1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = replay_txn(e, &txns[i], NULL, NULL, NULL, NULL, &revoked);
        e->last_txn = txns[i].seq;
    }
    for (size_t i = 0; i < n; i++)
        jbd2_txn_free(&txns[i]);
    free(txns);
    u64map_free(&revoked);
    return rc;
}

/* ---------------------------------------------------------- lifecycle --- */

static int open_all(struct engine *e)
{
    char name[64];
    uint8_t sb[1024];
    int rc = shadow_read(&e->sh, 1024, sb, sizeof(sb));
    if (rc < 0) {
        snprintf(e->err, sizeof(e->err), "%s: no ext2/3/4 superblock (%s)", e->image,
                 rc == XA_ERANGE ? "the image ends before it" : xd_strerror(rc));
        return rc;
    }
    struct ext2_super_block *s = (struct ext2_super_block *)sb;
    if (s->s_magic != EXT2_SUPER_MAGIC || s->s_log_block_size > 6) {
        snprintf(e->err, sizeof(e->err), "%s: no ext2/3/4 superblock", e->image);
        return XA_EFORMAT;
    }
    rc = shadow_set_bsize(&e->sh, 1024u << s->s_log_block_size);
    if (rc < 0)
        return rc;
    shadow_io_name(&e->sh, name, sizeof(name));
    rc = model_open(&e->m, name);
    if (rc < 0) {
        snprintf(e->err, sizeof(e->err), "%s", e->m.err);
        return rc;
    }
    e->opened = true;
    free(e->jmap);
    e->jmap = NULL;
    e->njmap = 0;
    e->journaled = false;
    rc = map_journal(e);
    if (rc < 0) {
        snprintf(e->err, sizeof(e->err), "journal unusable (%s): falling back is not safe",
                 xd_strerror(rc));
        return rc;
    }
    if (e->journaled) {
        rc = recover_journal(e);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int engine_start(struct engine *e, const char *image)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->image, sizeof(e->image), "%s", image);
    int rc = shadow_open(&e->sh, image);
    if (rc < 0) {
        snprintf(e->err, sizeof(e->err), "cannot open image %s", image);
        return rc;
    }
    rc = open_all(e);
    if (rc == 0) {
        rc = model_scan(&e->m);
        if (rc < 0)
            snprintf(e->err, sizeof(e->err), "scan failed: %s", e->m.err[0] ? e->m.err
                                                                              : xd_strerror(rc));
    }
    if (rc < 0 && !e->err[0]) /* every failure says something */
        snprintf(e->err, sizeof(e->err), "%s: %s", image, xd_strerror(rc));
    if (rc < 0)
        engine_stop(e);
    return rc;
}

void engine_stop(struct engine *e)
{
    if (e->opened)
        model_close(&e->m);
    e->opened = false;
    shadow_close(&e->sh);
    free(e->jmap);
    free(e->desc);
    free(e->dirty);
    free(e->dirtydirs);
    e->dirtydirs = NULL;
    e->ndirtydirs = e->dirtydirs_cap = 0;
    e->jmap = NULL;
    e->desc = NULL;
    e->dirty = NULL;
    e->njmap = e->ndesc = e->ndirty = e->dirty_cap = 0;
}

int engine_resync(struct engine *e, uint64_t dropped, struct evq *q)
{
    struct xadisk_event ev = {.type = XADISK_EV_RESYNC, .path = strdup(""), .dropped = dropped,
                              .transaction = e->last_txn};
    evq_push(q, &ev);
    e->resyncs++;
    /* keep the name cache; reopen everything else from the image as it is now */
    struct u64map nodes = e->m.nodes;
    e->m.nodes = (struct u64map){0};
    /* held names keep ghost links in the nodes: they stay with them */
    struct xd_limbo *limbo = e->m.limbo;
    size_t nlimbo = e->m.nlimbo, limbo_cap = e->m.limbo_cap;
    e->m.limbo = NULL;
    e->m.nlimbo = e->m.limbo_cap = 0;
    struct xd_ahead *ahead = e->m.ahead; /* entries waiting for their inode, too */
    size_t nahead = e->m.nahead, ahead_cap = e->m.ahead_cap;
    e->m.ahead = NULL;
    e->m.nahead = e->m.ahead_cap = 0;
    model_close(&e->m);
    e->opened = false;
    shadow_clear(&e->sh);
    e->ndesc = e->ndirty = 0;
    e->commit_seen = false;
    int rc = open_all(e);
    if (rc < 0) {
        struct xd_model tmp = {.nodes = nodes, .limbo = limbo, .nlimbo = nlimbo,
                               .ahead = ahead, .nahead = nahead};
        model_free_nodes(&tmp);
        return rc;
    }
    e->m.nodes = nodes;
    e->m.limbo = limbo;
    e->m.nlimbo = nlimbo;
    e->m.limbo_cap = limbo_cap;
    e->m.ahead = ahead;
    e->m.nahead = nahead;
    e->m.ahead_cap = ahead_cap;
    e->m.bmap_dirty = true;
    return model_refresh(&e->m, NULL, 0, NULL, 0, true, e->last_txn, q);
}

/* ------------------------------------------------------------ journal --- */

static void note_descriptor(struct engine *e, uint32_t pos, uint32_t seq)
{
    if (e->ndesc == MAX_DESC_TRACK)
        e->ndesc = 0;
    if (!e->desc && !(e->desc = malloc(MAX_DESC_TRACK * sizeof(*e->desc))))
        return;
    e->desc[e->ndesc].pos = pos;
    e->desc[e->ndesc].seq = seq;
    e->ndesc++;
}

/* The expected transaction is not where we thought: the kernel restarted the
 * log (mount) or we started on an empty one.  Take the oldest transaction
 * seen being written, at the first block written for it (its start). */
static bool reanchor(struct engine *e)
{
    bool found = false;
    uint32_t best_seq = 0, best_pos = 0;
    for (size_t i = 0; i < e->ndesc; i++) {
        uint32_t s = e->desc[i].seq;
        if (e->jsynced && (int32_t)(s - e->jseq) < 0)
            continue;
        if (!found || (int32_t)(s - best_seq) < 0) { /* first written wins on ties */
            found = true;
            best_seq = s;
            best_pos = e->desc[i].pos;
        }
    }
    if (!found || (best_seq == e->jseq && best_pos == e->jpos))
        return false;
    e->jseq = best_seq;
    e->jpos = best_pos;
    return true;
}

static int advance_journal(struct engine *e, struct evq *q)
{
    int rc = 0;
    bool reanchored = false;
    for (unsigned loops = 0; loops < 100000; loops++) {
        struct jbd2_txn t = {0};
        int r = jbd2_read_txn(&e->jsb, read_log, e, e->jpos, e->jseq, &t, &e->bad_journal);
        if (r == JBD2_TXN_OK) {
            uint32_t *inos = NULL, *dirs = NULL;
            size_t ninos = 0, ndirs = 0;
            replay_txn(e, &t, &inos, &ninos, &dirs, &ndirs, NULL);
            for (size_t k = 0; k < t.nrevoked; k++) {
                bool relogged = false;
                for (size_t j = 0; j < t.ntags && !relogged; j++)
                    relogged = t.tags[j].fsblock == t.revoked[k];
                if (!relogged)
                    shadow_drop_block(&e->sh, t.revoked[k]);
            }
            drop_log_blocks(e, t.start, t.next);
            e->jpos = t.next;
            e->jseq = t.seq + 1;
            e->jsynced = true;
            e->transactions++;
            e->last_txn = t.seq;
            rc = model_refresh(&e->m, inos, ninos, dirs, ndirs, false, t.seq, q);
            free(inos);
            free(dirs);
            jbd2_txn_free(&t);
            if (rc < 0)
                return rc;
            continue;
        }
        jbd2_txn_free(&t);
        if (r == JBD2_TXN_NONE && !reanchored && reanchor(e)) {
            reanchored = true;
            continue;
        }
        break;
    }
    /* a commit we could not follow means lost sync: rescan */
    if (e->commit_seen && (int32_t)(e->last_commit_seen - e->jseq) >= 0) {
        e->commit_seen = false;
        return engine_resync(e, 0, q);
    }
    e->commit_seen = false;
    return rc;
}

/* ------------------------------------------------------------ records --- */

static int no_journal_round(struct engine *e, struct evq *q)
{
    int rc = model_refresh(&e->m, e->dirty, e->ndirty, e->dirtydirs, e->ndirtydirs, false,
                           e->flushes, q);
    e->ndirty = 0;
    e->ndirtydirs = 0;
    e->writes_since_round = 0;
    return rc;
}

static void mark_dirty(struct engine *e, uint64_t blk)
{
    uint32_t d[8];
    size_t nd = model_dirs_in_block(&e->m, blk, d, 8);
    for (size_t k = 0; k < nd && e->ndirtydirs < (1u << 20); k++)
        push_ino(&e->dirtydirs, &e->ndirtydirs, &e->dirtydirs_cap, d[k]);
    uint32_t first, cnt = model_inodes_in_block(&e->m, blk, &first);
    if (!cnt)
        return;
    if (e->ndirty + cnt > e->dirty_cap) {
        size_t ncap = (e->ndirty + cnt) * 2;
        if (ncap > (1u << 24)) { /* too many: the next round re-reads what is known */
            e->ndirty = 0;
            return;
        }
        void *p = realloc(e->dirty, ncap * sizeof(*e->dirty));
        if (!p)
            return;
        e->dirty = p;
        e->dirty_cap = ncap;
    }
    for (uint32_t k = 0; k < cnt; k++)
        e->dirty[e->ndirty++] = first + k;
}

/* One written block; data NULL means zeroes. */
static void written_block(struct engine *e, uint64_t blk, uint32_t in, const uint8_t *data,
                          uint32_t len, bool *commit)
{
    uint32_t lblk;
    if (e->journaled && fs_to_log(e, blk, &lblk)) {
        uint8_t *buf = malloc(e->sh.bsize);
        if (!buf)
            return;
        if (in != 0 || len != e->sh.bsize)
            shadow_read(&e->sh, blk * e->sh.bsize, buf, e->sh.bsize);
        if (data)
            memcpy(buf + in, data, len);
        else
            memset(buf + in, 0, len);
        shadow_put_block(&e->sh, blk, buf);
        if (lblk == 0) {
            /* the kernel rewrites the journal superblock at mount (e.g. turning on
             * checksum v3) and when the log tail moves: take its features */
            struct jbd2_sb nsb;
            if (jbd2_parse_sb(buf, e->sh.bsize, &nsb) == 0 && nsb.bsize == e->jsb.bsize &&
                nsb.maxlen <= e->jsb.maxlen && nsb.last > nsb.first)
                e->jsb = nsb;
            else
                e->bad_journal++;
        }
        uint32_t seq;
        int kind = jbd2_block_kind(buf, &seq);
        if ((kind == JBD2_DESCRIPTOR || kind == JBD2_REVOKE || kind == JBD2_COMMIT) && lblk != 0)
            note_descriptor(e, lblk, seq);
        if (kind == JBD2_COMMIT && lblk != 0) {
            *commit = true;
            if (!e->commit_seen || (int32_t)(seq - e->last_commit_seen) > 0)
                e->last_commit_seen = seq;
            e->commit_seen = true;
        }
        free(buf);
        return;
    }
    if (e->journaled) {
        /* a checkpoint that caught up with the journal frees our copy */
        const uint8_t *ov = shadow_get_block(&e->sh, blk);
        if (ov && in == 0 && len == e->sh.bsize && data && memcmp(ov, data, len) == 0)
            shadow_drop_block(&e->sh, blk);
    } else {
        mark_dirty(e, blk);
    }
    model_note_write(&e->m, blk, 1);
}

int engine_settle(struct engine *e, struct evq *q)
{
    if (!e->resync_pending)
        return 0;
    e->resync_pending = false;
    uint64_t dropped = e->resync_dropped;
    e->resync_dropped = 0;
    return engine_resync(e, dropped, q);
}

int engine_record(struct engine *e, const struct xdp_hdr *h, const uint8_t *payload,
                  struct evq *q)
{
    if (h->type == XDP_RESYNC) {
        e->resync_pending = true;
        e->resync_dropped += h->offset;
        return 0;
    }
    if (e->resync_pending)
        return 0;
    switch (h->type) {
    case XDP_WRITE:
    case XDP_ZERO: {
        if (h->type == XDP_WRITE && h->payload_len != h->length)
            return XA_EBADDATA;
        if (h->offset >= e->sh.size || h->length > e->sh.size - h->offset)
            return XA_EBADDATA;
        bool commit = false;
        uint64_t off = h->offset, end = h->offset + h->length;
        while (off < end) {
            uint64_t blk = off / e->sh.bsize;
            uint32_t in = (uint32_t)(off % e->sh.bsize);
            uint32_t n = e->sh.bsize - in;
            if (n > end - off)
                n = (uint32_t)(end - off);
            written_block(e, blk, in, payload ? payload + (off - h->offset) : NULL, n, &commit);
            off += n;
        }
        e->writes_since_round++;
        if (commit)
            return advance_journal(e, q);
        return 0;
    }
    case XDP_FLUSH:
        e->flushes++;
        if (!e->journaled)
            return no_journal_round(e, q);
        /* Data written before a flush is usually followed by the commit that
         * says whose it is and how large the file now is (sync, fsync, and
         * ordered mode all flush data first): attributing it here would clip
         * it to the old size and label it with the previous transaction, and
         * the commit would report the same write again.  The commit or a
         * quiet second (engine_idle) attributes it. */
        return 0;
    default:
        return 0; /* TRIM and unknown types carry nothing we need */
    }
}

int engine_idle(struct engine *e, struct evq *q)
{
    if (!e->journaled && (e->ndirty || e->ndirtydirs || e->writes_since_round))
        return no_journal_round(e, q);
    if (e->journaled && e->m.npend)
        return model_attribute(&e->m, e->last_txn, q); /* overwrites no commit claimed */
    if (model_limbo_due(&e->m)) /* a held name's time is up: its DELETE */
        return model_refresh(&e->m, NULL, 0, NULL, 0, false,
                             e->journaled ? e->last_txn : e->flushes, q);
    return 0;
}
