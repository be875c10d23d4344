/*
 * test_engine.c -- the inference engine on real file systems made by mkfs
 * and changed by debugfs, without a guest:
 *  - ext4 (journal, csum v3): the metadata blocks that differ between the
 *    image before and after a set of operations are packed into a synthetic
 *    jbd2 transaction (descriptor with v3 tags, escaped blocks, commit with
 *    checksum), written as tap records into the journal area only, as a
 *    guest would before checkpointing, and the new file's data in place (as
 *    in ordered mode); the engine must replay it and report exactly the
 *    operations with full paths, and the WRITE with its byte range.
 *  - ext2 (no journal): the changed blocks are written in place, then a
 *    flush; same expectations.
 *  - hostile: a commit with a bad checksum and descriptors with random
 *    corruption never crash; a commit the engine rejects produces no file
 *    event (only the RESYNC that says the journal was lost).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "disk/lib/engine.h"
#include "disk/lib/jbd2.h"
#include "check.h"

static char dir[256];

__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "command failed: %s\n", cmd);
        exit(1);
    }
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        exit(1);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (!b || fread(b, 1, *len, f) != *len)
        exit(1);
    fclose(f);
    return b;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* ---- events ---- */

struct want {
    uint32_t type;
    const char *path, *old_path;
    bool seen;
    /* WRITE: the file's size after it; the ranges must cover [0, size) */
    uint64_t write_size;
};

/* A WRITE's byte ranges cover [0, size) exactly, in order, without overlap. */
static bool covers_whole_file(const struct xadisk_event *ev, uint64_t size)
{
    uint64_t at = 0;
    for (size_t r = 0; r < ev->nranges; r++) {
        if (ev->ranges[r].offset != at || ev->ranges[r].length == 0)
            return false;
        at += ev->ranges[r].length;
    }
    return at == size && ev->size == size;
}

/* Exactly the wanted events, in any order: a missing one or any other event
 * (WRITE and ATTRIB included) fails; RESYNC events are counted in *resyncs
 * (NULL: they fail too). */
static void expect_events_resync(struct evq *q, struct want *w, size_t nw, const char *what,
                                 size_t *resyncs)
{
    struct xadisk_event ev;
    size_t unexpected = 0;
    while (evq_pop(q, &ev)) {
        bool matched = false;
        for (size_t i = 0; i < nw && !matched; i++) {
            if (w[i].seen || w[i].type != ev.type || strcmp(w[i].path, ev.path) != 0)
                continue;
            if (w[i].old_path && (!ev.old_path || strcmp(w[i].old_path, ev.old_path) != 0))
                continue;
            if (w[i].type == XADISK_EV_WRITE && !covers_whole_file(&ev, w[i].write_size))
                continue;
            w[i].seen = matched = true;
        }
        if (!matched && resyncs && ev.type == XADISK_EV_RESYNC) {
            (*resyncs)++;
            matched = true;
        }
        if (!matched) {
            unexpected++;
            fprintf(stderr, "  %s: unexpected %s %s (old %s, size %llu, %zu ranges", what,
                    xadisk_event_name(ev.type), ev.path, ev.old_path ? ev.old_path : "-",
                    (unsigned long long)ev.size, ev.nranges);
            for (size_t r = 0; r < ev.nranges; r++)
                fprintf(stderr, " %llu+%llu", (unsigned long long)ev.ranges[r].offset,
                        (unsigned long long)ev.ranges[r].length);
            fprintf(stderr, ")\n");
        }
        evq_event_free(&ev);
    }
    for (size_t i = 0; i < nw; i++)
        CHECK(w[i].seen, "%s: missing %s %s", what, xadisk_event_name(w[i].type), w[i].path);
    CHECK(unexpected == 0, "%s: %zu unexpected events", what, unexpected);
}

static void expect_events(struct evq *q, struct want *w, size_t nw, const char *what)
{
    expect_events_resync(q, w, nw, what, NULL);
}

/* ---- images ---- */

static const char *POPULATE =
    "mkdir d\n"
    "mkdir d/sub\n"
    "write /etc/hostname d/f\n"
    "write /etc/hostname d/sub/old\n"
    "write /etc/hostname gone\n"
    "mkdir emptydir\n";

/* the payload written to newfile: one block, not a multiple of it */
#define PAYLOAD_SIZE 3000u

/* ops done "in the guest" between before and after (%s: the payload file) */
#define OPS \
    "write %s newfile\n" \
    "mkdir newdir\n" \
    "symlink newdir/link /some/target\n" \
    "cd newdir\n" \
    "mknod fifo p\n" \
    "cd /\n" \
    "ln d/f d/renamed\n" \
    "unlink d/f\n" \
    "ln d/sub/old newdir/moved\n" \
    "unlink d/sub/old\n" \
    "rm gone\n" \
    "rmdir emptydir\n" \
    "sif newfile mode 0100600\n"

/* the ops' events */
static struct want expected_ops[] = {
    {XADISK_EV_WRITE, "/newfile", NULL, 0, PAYLOAD_SIZE},
    {XADISK_EV_CREATE, "/newfile", NULL, 0},
    {XADISK_EV_CREATE, "/newdir", NULL, 0},
    {XADISK_EV_CREATE, "/newdir/link", NULL, 0},
    {XADISK_EV_CREATE, "/newdir/fifo", NULL, 0},
    {XADISK_EV_RENAME, "/d/renamed", "/d/f", 0},
    {XADISK_EV_RENAME, "/newdir/moved", "/d/sub/old", 0},
    {XADISK_EV_DELETE, "/gone", NULL, 0},
    {XADISK_EV_DELETE, "/emptydir", NULL, 0},
};

static uint64_t first_block(const char *img, const char *path);

static void make_pair(const char *mkfs, const char *before, const char *after)
{
    char cmds[300];
    snprintf(cmds, sizeof(cmds), "%s/cmds", dir);
    FILE *f = fopen(cmds, "w");
    fputs(POPULATE, f);
    fclose(f);
    sh("%s -q -F -b 4096 %s 32M >/dev/null 2>&1", mkfs, before);
    sh("debugfs -w -f %s %s >/dev/null 2>&1", cmds, before);
    sh("cp %s %s", before, after);
    char payload[300];
    snprintf(payload, sizeof(payload), "%s/payload", dir);
    f = fopen(payload, "w");
    for (unsigned i = 0; i < PAYLOAD_SIZE; i++)
        fputc('a' + (int)(i % 26), f);
    fclose(f);
    f = fopen(cmds, "w");
    fprintf(f, OPS, payload);
    fclose(f);
    sh("debugfs -w -f %s %s >/dev/null 2>&1", cmds, after);
}

static void feed_write(struct engine *e, struct evq *q, uint64_t off, const uint8_t *data,
                       uint32_t len)
{
    static uint64_t seq = 1;
    struct xdp_hdr h = {.magic = XDP_MAGIC, .type = XDP_WRITE, .seq = seq++, .offset = off,
                        .length = len, .payload_len = len};
    CHECK(engine_record(e, &h, data, q) == 0, "record at %llu", (unsigned long long)off);
}

/* Build the synthetic transaction; returns the log blocks (descriptor, data..., commit). */
struct txn_blocks {
    uint8_t *blk; /* nblk * bsize */
    uint32_t nblk;
    uint64_t *fsblk; /* where each log block lives in the file system */
};

/* The kernel turns on 64bit + checksum v3 in the journal at mount when the
 * file system has metadata_csum; mkfs does not.  Do it as the kernel does. */
static uint64_t enable_journal_csum_v3(const char *img, uint8_t *a, uint8_t *b)
{
    ext2_filsys fs;
    if (ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
        exit(1);
    struct ext2_inode ji;
    ext2fs_read_inode(fs, fs->super->s_journal_inum, &ji);
    blk64_t p0;
    ext2fs_bmap2(fs, fs->super->s_journal_inum, &ji, NULL, 0, 0, NULL, &p0);
    uint32_t bs = fs->blocksize;
    ext2fs_close_free(&fs);
    uint8_t *j = a + p0 * bs;
    uint32_t inc = (uint32_t)j[0x28] << 24 | (uint32_t)j[0x29] << 16 | (uint32_t)j[0x2a] << 8 | j[0x2b];
    put32(j + 0x28, inc | JBD2_INCOMPAT_CSUM_V3 | JBD2_INCOMPAT_64BIT);
    j[0x50] = 4; /* checksum type crc32c */
    memcpy(b + p0 * bs, j, bs);
    return p0; /* the image file keeps the old superblock: the engine must follow the write */
}

static struct txn_blocks build_txn(const char *before, const uint8_t *a, const uint8_t *b,
                                   size_t len)
{
    ext2_filsys fs;
    if (ext2fs_open(before, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
        exit(1);
    uint32_t bs = fs->blocksize, jino = fs->super->s_journal_inum;
    struct ext2_inode ji;
    ext2fs_read_inode(fs, jino, &ji);
    struct jbd2_sb jsb;
    blk64_t p0;
    ext2fs_bmap2(fs, jino, &ji, NULL, 0, 0, NULL, &p0);
    CHECK(jbd2_parse_sb(a + p0 * bs, bs, &jsb) == 0, "journal superblock");
    (void)len;
    CHECK(jsb.csum_v3, "mkfs.ext4 journal uses checksum v3");
    uint64_t changed[256];
    uint32_t nch = 0;
    for (uint64_t blk = 0; blk < len / bs; blk++)
        if (memcmp(a + blk * bs, b + blk * bs, bs) && nch < 256)
            changed[nch++] = blk;
    CHECK(nch > 3 && nch < 200, "changed blocks: %u", nch);
    struct txn_blocks t = {.nblk = nch + 2};
    t.blk = calloc(t.nblk, bs);
    t.fsblk = calloc(t.nblk, sizeof(uint64_t));
    uint32_t seq = jsb.sequence;
    uint8_t *d = t.blk;
    put32(d, JBD2_MAGIC), put32(d + 4, JBD2_DESCRIPTOR), put32(d + 8, seq);
    size_t off = 12;
    for (uint32_t i = 0; i < nch; i++) {
        uint8_t *data = t.blk + (size_t)(i + 1) * bs;
        memcpy(data, b + changed[i] * bs, bs);
        uint32_t flags = i ? JBD2_FLAG_SAME_UUID : 0;
        if (i == nch - 1)
            flags |= JBD2_FLAG_LAST_TAG;
        uint32_t k;
        if (jbd2_block_kind(data, &k)) { /* looks like a journal block: escape it */
            flags |= JBD2_FLAG_ESCAPE;
            memset(data, 0, 4);
        }
        put32(d + off, (uint32_t)changed[i]);
        put32(d + off + 4, flags);
        put32(d + off + 8, (uint32_t)(changed[i] >> 32));
        put32(d + off + 12, jbd2_data_csum(&jsb, seq, data));
        off += 16;
        if (!i) {
            memcpy(d + off, jsb.uuid, 16);
            off += 16;
        }
    }
    put32(d + bs - 4, jbd2_block_csum(&jsb, d));
    uint8_t *c = t.blk + (size_t)(nch + 1) * bs;
    put32(c, JBD2_MAGIC), put32(c + 4, JBD2_COMMIT), put32(c + 8, seq);
    put32(c + 16, jbd2_block_csum(&jsb, c));
    for (uint32_t i = 0; i < t.nblk; i++) {
        blk64_t pb;
        ext2fs_bmap2(fs, jino, &ji, NULL, 0, jsb.first + i, NULL, &pb);
        t.fsblk[i] = pb;
    }
    ext2fs_close_free(&fs);
    return t;
}

static void test_ext4_journal(void)
{
    char before[300], after[300];
    snprintf(before, sizeof(before), "%s/ext4-before.img", dir);
    snprintf(after, sizeof(after), "%s/ext4-after.img", dir);
    make_pair("mkfs.ext4", before, after);
    size_t la, lb;
    uint8_t *a = slurp(before, &la), *b = slurp(after, &lb);
    uint64_t jsb_blk = enable_journal_csum_v3(before, a, b);
    struct txn_blocks t = build_txn(before, a, b, la);
    uint32_t bs = 4096;

    struct engine e;
    struct evq q = {0};
    CHECK(engine_start(&e, before) == 0, "engine_start: %s", e.err);
    CHECK(e.journaled, "journal found");
    CHECK(e.m.nodes.count == 8, "name cache has %zu inodes", e.m.nodes.count);
    CHECK(!e.jsb.csum_v3, "fresh journal has no checksums");
    /* mount: the kernel rewrites the journal superblock with checksum v3 */
    feed_write(&e, &q, jsb_blk * bs, a + jsb_blk * bs, bs);
    CHECK(e.jsb.csum_v3, "journal superblock rewrite followed");

    /* everything but the commit: nothing may happen yet; the file's data
     * goes in place before the commit (ordered mode) */
    uint64_t data_blk = first_block(after, "newfile");
    for (uint32_t i = 0; i + 1 < t.nblk; i++)
        feed_write(&e, &q, t.fsblk[i] * bs, t.blk + (size_t)i * bs, bs);
    feed_write(&e, &q, data_blk * bs, b + data_blk * bs, bs);
    CHECK(q.n == 0, "events before the commit: %zu", q.n);
    CHECK(e.transactions == 0, "no transaction before the commit");
    feed_write(&e, &q, t.fsblk[t.nblk - 1] * bs, t.blk + (size_t)(t.nblk - 1) * bs, bs);
    CHECK(e.transactions == 1, "one transaction replayed (got %llu, bad %llu)",
          (unsigned long long)e.transactions, (unsigned long long)e.bad_journal);
    for (size_t i = 0; i < sizeof(expected_ops) / sizeof(expected_ops[0]); i++)
        expected_ops[i].seen = false;
    expect_events(&q, expected_ops, sizeof(expected_ops) / sizeof(expected_ops[0]), "ext4");

    /* the same transaction again (a replayed commit) changes nothing */
    feed_write(&e, &q, t.fsblk[t.nblk - 1] * bs, t.blk + (size_t)(t.nblk - 1) * bs, bs);
    CHECK(q.n == 0, "a repeated commit gave %zu events", q.n);
    engine_stop(&e);
    evq_clear(&q);

    /* hostile: a corrupted commit checksum is not a commit; corrupted tags are bounded */
    CHECK(engine_start(&e, before) == 0, "engine_start again");
    feed_write(&e, &q, jsb_blk * bs, a + jsb_blk * bs, bs);
    uint8_t *bad = malloc(bs);
    for (uint32_t i = 0; i + 1 < t.nblk; i++)
        feed_write(&e, &q, t.fsblk[i] * bs, t.blk + (size_t)i * bs, bs);
    memcpy(bad, t.blk + (size_t)(t.nblk - 1) * bs, bs);
    bad[100] ^= 1;
    feed_write(&e, &q, t.fsblk[t.nblk - 1] * bs, bad, bs);
    CHECK(e.transactions == 0, "a commit with a bad checksum was replayed");
    /* no file event; the engine says it lost the journal (one RESYNC) */
    size_t resyncs = 0;
    expect_events_resync(&q, NULL, 0, "bad commit checksum", &resyncs);
    CHECK(resyncs == 1, "bad commit checksum: %zu RESYNC events", resyncs);
    engine_stop(&e);
    evq_clear(&q);

    srand(5);
    int rejected = 0, accepted = 0;
    for (int round = 0; round < 300; round++) {
        CHECK(engine_start(&e, before) == 0, "engine_start fuzz");
        feed_write(&e, &q, jsb_blk * bs, a + jsb_blk * bs, bs);
        memcpy(bad, t.blk, bs);
        for (int k = 0; k < 8; k++)
            bad[12 + rand() % (bs - 12)] = (uint8_t)rand();
        /* keep the descriptor's own checksum valid so that the tags are parsed */
        struct jbd2_sb jsb = e.jsb;
        put32(bad + bs - 4, jbd2_block_csum(&jsb, bad));
        feed_write(&e, &q, t.fsblk[0] * bs, bad, bs);
        for (uint32_t i = 1; i < t.nblk; i++)
            feed_write(&e, &q, t.fsblk[i] * bs, t.blk + (size_t)i * bs, bs);
        /* a commit the engine did not accept produces no file event (an
         * accepted one may replay blocks to wherever the corrupted tags say:
         * whatever it reports, it must not crash) */
        if (e.transactions == 0) {
            rejected++;
            char what[64];
            snprintf(what, sizeof(what), "corruption round %d (rejected)", round);
            size_t round_resyncs = 0;
            expect_events_resync(&q, NULL, 0, what, &round_resyncs);
        } else {
            accepted++;
        }
        evq_clear(&q);
        engine_stop(&e);
    }
    /* both branches above were taken: the rounds decide something */
    CHECK(rejected > 0 && accepted > 0, "corruption rounds: %d rejected, %d accepted", rejected,
          accepted);
    free(bad);
    free(a), free(b), free(t.blk), free(t.fsblk);
}

static void test_ext2_in_place(void)
{
    char before[300], after[300];
    snprintf(before, sizeof(before), "%s/ext2-before.img", dir);
    snprintf(after, sizeof(after), "%s/ext2-after.img", dir);
    make_pair("mkfs.ext2", before, after);
    size_t la, lb;
    uint8_t *a = slurp(before, &la), *b = slurp(after, &lb);
    /* the engine reads the base image, which the tap writes through: make a
     * working copy that receives the writes like the real image would */
    char work[300];
    snprintf(work, sizeof(work), "%s/ext2-work.img", dir);
    sh("cp %s %s", before, work);
    struct engine e;
    struct evq q = {0};
    CHECK(engine_start(&e, work) == 0, "engine_start ext2: %s", e.err);
    CHECK(!e.journaled, "ext2 has no journal");
    FILE *f = fopen(work, "r+b");
    for (size_t blk = 0; blk < la / 4096; blk++) {
        if (!memcmp(a + blk * 4096, b + blk * 4096, 4096))
            continue;
        fseek(f, (long)(blk * 4096), SEEK_SET);
        fwrite(b + blk * 4096, 1, 4096, f);
        fflush(f);
        feed_write(&e, &q, blk * 4096, b + blk * 4096, 4096);
    }
    fclose(f);
    CHECK(q.n == 0, "no events before the flush");
    CHECK(e.ndirty > 0, "inode-table writes noted (%zu)", e.ndirty);
    struct xdp_hdr h = {.magic = XDP_MAGIC, .type = XDP_FLUSH};
    CHECK(engine_record(&e, &h, NULL, &q) == 0, "flush");
    for (size_t i = 0; i < sizeof(expected_ops) / sizeof(expected_ops[0]); i++)
        expected_ops[i].seen = false;
    expect_events(&q, expected_ops, sizeof(expected_ops) / sizeof(expected_ops[0]), "ext2");
    engine_stop(&e);
    evq_clear(&q);
    free(a), free(b);
}

/* First data block of `path` in `img`, through libext2fs. */
static uint64_t first_block(const char *img, const char *path)
{
    ext2_filsys fs;
    ext2_ino_t ino;
    blk64_t pblk = 0;
    if (ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs))
        exit(1);
    if (ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) ||
        ext2fs_bmap2(fs, ino, NULL, NULL, 0, 0, NULL, &pblk))
        exit(1);
    ext2fs_close_free(&fs);
    return pblk;
}

/* An ext2 image made by the debugfs commands `populate` (`before`, copied
 * to `work`), and `after`: `before` with `ops` done on it.  Paths are
 * <dir>/<tag>-{before,after,work}.img. */
struct ext2_pair {
    char before[300], after[300], work[300], cmds[300];
};

static void debugfs_run(const struct ext2_pair *p, const char *img, const char *cmds)
{
    FILE *f = fopen(p->cmds, "w");
    fputs(cmds, f);
    fclose(f);
    sh("debugfs -w -f %s %s >/dev/null 2>&1", p->cmds, img);
}

static void make_ext2_pair(struct ext2_pair *p, const char *tag, const char *populate,
                           const char *ops)
{
    snprintf(p->before, sizeof(p->before), "%s/%s-before.img", dir, tag);
    snprintf(p->after, sizeof(p->after), "%s/%s-after.img", dir, tag);
    snprintf(p->work, sizeof(p->work), "%s/%s-work.img", dir, tag);
    snprintf(p->cmds, sizeof(p->cmds), "%s/%s-cmds", dir, tag);
    sh("mkfs.ext2 -q -F -b 4096 %s 32M >/dev/null 2>&1", p->before);
    debugfs_run(p, p->before, populate);
    sh("cp %s %s && cp %s %s", p->before, p->after, p->before, p->work);
    debugfs_run(p, p->after, ops);
}

/* `rm dir/child hardlink; rmdir dir` and `mv d2/keep moved; rmdir d2` on ext2: the kernel drops the dirty
 * block of the deleted directory unwritten, and the root directory's block
 * may reach the disk a flush before the inode table does.  The entries the
 * directory still had in the model are deleted with their full paths. */
static void test_ext2_dropped_dir_block(void)
{
    struct ext2_pair p;
    make_ext2_pair(&p, "drop",
                   "mkdir dd\nwrite /etc/hostname dd/child\nln dd/child hl\n"
                   "sif dd/child links_count 2\nmkdir d2\nwrite /etc/hostname d2/keep\n",
                   "rm dd/child\nrm hl\nrmdir dd\nln d2/keep moved\nunlink d2/keep\nrmdir d2\n");
    const char *before = p.before, *after = p.after, *work = p.work;
    uint64_t root_blk = first_block(before, "/"), dd_blk = first_block(before, "dd"),
             d2_blk = first_block(before, "d2");
    size_t la, lb;
    uint8_t *a = slurp(before, &la), *b = slurp(after, &lb);
    struct engine e;
    struct evq q = {0};
    CHECK(engine_start(&e, work) == 0, "engine_start: %s", e.err);
    FILE *f = fopen(work, "r+b");
    struct xdp_hdr flush = {.magic = XDP_MAGIC, .type = XDP_FLUSH};
    for (int round = 0; round < 2; round++) {
        for (size_t blk = 0; blk < la / 4096; blk++) {
            if (!memcmp(a + blk * 4096, b + blk * 4096, 4096) || blk == dd_blk || blk == d2_blk ||
                (round == 0) != (blk == root_blk))
                continue;
            fseek(f, (long)(blk * 4096), SEEK_SET);
            fwrite(b + blk * 4096, 1, 4096, f);
            fflush(f);
            feed_write(&e, &q, blk * 4096, b + blk * 4096, 4096);
        }
        CHECK(engine_record(&e, &flush, NULL, &q) == 0, "flush %d", round);
    }
    fclose(f);
    struct want w[] = {
        {XADISK_EV_DELETE, "/dd/child", NULL, 0},
        {XADISK_EV_DELETE, "/hl", NULL, 0},
        {XADISK_EV_DELETE, "/dd", NULL, 0},
        {XADISK_EV_RENAME, "/moved", "/d2/keep", 0},
        {XADISK_EV_DELETE, "/d2", NULL, 0},
    };
    expect_events(&q, w, sizeof(w) / sizeof(w[0]), "ext2 dropped dir block");
    engine_stop(&e);
    evq_clear(&q);
    free(a), free(b);
}

/* Write to `work` and feed the engine the blocks of `b` that differ from `a`
 * and for which pick(blk) holds, then a flush. */
static void feed_blocks_where(struct engine *e, struct evq *q, const char *work, const uint8_t *a,
                              const uint8_t *b, size_t len, uint64_t only, bool except)
{
    FILE *f = fopen(work, "r+b");
    for (size_t blk = 0; blk < len / 4096; blk++) {
        if (!memcmp(a + blk * 4096, b + blk * 4096, 4096) || (blk == only) == except)
            continue;
        fseek(f, (long)(blk * 4096), SEEK_SET);
        fwrite(b + blk * 4096, 1, 4096, f);
        fflush(f);
        feed_write(e, q, blk * 4096, b + blk * 4096, 4096);
    }
    fclose(f);
    struct xdp_hdr flush = {.magic = XDP_MAGIC, .type = XDP_FLUSH};
    CHECK(engine_record(e, &flush, NULL, q) == 0, "flush");
}

/* An engine on the work copy of an ext2 pair, both images in memory (a:
 * before, b: after), and the root directory's first block. */
struct ext2_run {
    struct ext2_pair p;
    uint8_t *a, *b;
    size_t len;
    uint64_t root_blk;
    struct engine e;
    struct evq q;
};

static void ext2_run_start(struct ext2_run *r, const char *tag, const char *populate,
                           const char *ops)
{
    make_ext2_pair(&r->p, tag, populate, ops);
    size_t lb;
    r->a = slurp(r->p.before, &r->len);
    r->b = slurp(r->p.after, &lb);
    r->root_blk = first_block(r->p.before, "/");
    r->q = (struct evq){0};
    CHECK(engine_start(&r->e, r->p.work) == 0, "engine_start: %s", r->e.err);
}

/* Feed the blocks that differ from a to b: only the root's, or all others. */
static void ext2_run_feed(struct ext2_run *r, bool root_only)
{
    feed_blocks_where(&r->e, &r->q, r->p.work, r->a, r->b, r->len, r->root_blk, !root_only);
}

/* `after` goes on with `cmds`: what it was becomes a, what it is now b. */
static void ext2_run_more(struct ext2_run *r, const char *cmds)
{
    memcpy(r->a, r->b, r->len);
    debugfs_run(&r->p, r->p.after, cmds);
    free(r->b);
    size_t lb;
    r->b = slurp(r->p.after, &lb);
}

static void ext2_run_end(struct ext2_run *r)
{
    engine_stop(&r->e);
    evq_clear(&r->q);
    free(r->a), free(r->b);
}

/* `mv a.txt d/b.txt` on ext2 when the guest writes the root directory's
 * block a round before d's (a busy guest, a slow flusher): one RENAME, not a
 * DELETE and a CREATE.  And a name that goes while its inode still counts it,
 * and never comes back, is deleted when its time is up. */
static void test_ext2_rename_split_rounds(void)
{
    struct ext2_run r; /* ln + unlink is what rename(2) writes: no inode change */
    ext2_run_start(&r, "split", "write /etc/hostname a.txt\nmkdir d\n",
                   "ln a.txt d/b.txt\nunlink a.txt\n");
    ext2_run_feed(&r, true); /* the root's block alone */
    CHECK(r.q.n == 0, "no event while the rename is half on disk (%zu)", r.q.n);
    CHECK(engine_idle(&r.e, &r.q) == 0 && r.q.n == 0, "nothing due before the hold ends");
    ext2_run_feed(&r, false); /* then d's */
    struct want w[] = {{XADISK_EV_RENAME, "/d/b.txt", "/a.txt", 0}};
    expect_events(&r.q, w, 1, "ext2 rename split over two rounds");
    CHECK(r.e.m.nlimbo == 0, "no name still held");

    /* the second half never comes: DELETE once the hold ends */
    ext2_run_more(&r, "unlink d/b.txt\n");
    feed_blocks_where(&r.e, &r.q, r.p.work, r.a, r.b, r.len, UINT64_MAX, true);
    CHECK(r.q.n == 0, "held (%zu)", r.q.n);
    r.e.m.limbo_ms = 0;
    CHECK(engine_idle(&r.e, &r.q) == 0, "idle round");
    struct want w2[] = {{XADISK_EV_DELETE, "/d/b.txt", NULL, 0}};
    expect_events(&r.q, w2, 1, "ext2 held name expires");
    ext2_run_end(&r);
}

/* `echo hello > a.txt; mkdir d` on ext2 when the root directory's block
 * reaches the disk a round before the inode table does (the flusher wrote
 * one buffer, the sync the rest): the entries name inodes still free.  They
 * wait, and the creates come with the inodes; an entry whose inode never
 * comes and that goes again gives nothing. */
static void test_ext2_entry_before_inode(void)
{
    struct ext2_run r;
    ext2_run_start(&r, "ahead", "mkdir pre\n", "write /etc/hostname a.txt\nmkdir d\n");
    ext2_run_feed(&r, true); /* the root's block alone */
    CHECK(r.q.n == 0, "no event while the entries name free inodes (%zu)", r.q.n);
    ext2_run_feed(&r, false); /* then the inodes */
    struct want w[] = {
        {XADISK_EV_CREATE, "/a.txt", NULL, 0},
        {XADISK_EV_WRITE, "/a.txt", NULL, 0, 0},
        {XADISK_EV_CREATE, "/d", NULL, 0},
    };
    struct stat hs;
    CHECK(stat("/etc/hostname", &hs) == 0, "stat /etc/hostname");
    w[1].write_size = (uint64_t)hs.st_size;
    expect_events(&r.q, w, sizeof(w) / sizeof(w[0]), "ext2 entries before their inodes");
    CHECK(r.e.m.nahead == 0, "no entry still waiting");

    /* an entry that comes and goes before its inode is ever written */
    ext2_run_more(&r, "write /etc/hostname brief\n");
    ext2_run_feed(&r, true);
    CHECK(r.q.n == 0 && r.e.m.nahead == 1, "brief waits (%zu events, %zu waiting)", r.q.n,
          r.e.m.nahead);
    feed_blocks_where(&r.e, &r.q, r.p.work, r.b, r.a, r.len, r.root_blk, false); /* as it was */
    CHECK(r.q.n == 0 && r.e.m.nahead == 0, "brief gone unreported (%zu events, %zu waiting)",
          r.q.n, r.e.m.nahead);
    ext2_run_end(&r);
}

/* The monitor starts while a file is half made: the root names a.txt, its
 * inode is still free.  The scan keeps the entry waiting; the inode's
 * write then gives the CREATE. */
static void test_ext2_scan_entry_before_inode(void)
{
    struct ext2_pair p; /* before: a.txt whole; after: its inode cleared and freed */
    make_ext2_pair(&p, "scanahead", "write /etc/hostname a.txt\n", "clri a.txt\nfreei a.txt\n");
    sh("cp %s %s", p.after, p.work);
    size_t la, lb;
    uint8_t *whole = slurp(p.before, &la), *half = slurp(p.after, &lb);
    struct engine e;
    struct evq q = {0};
    CHECK(engine_start(&e, p.work) == 0, "engine_start: %s", e.err);
    CHECK(e.m.nahead == 1, "the entry waits from the scan (%zu)", e.m.nahead);
    feed_blocks_where(&e, &q, p.work, half, whole, la, UINT64_MAX, true);
    struct want w[] = {{XADISK_EV_CREATE, "/a.txt", NULL, 0}};
    expect_events(&q, w, 1, "ext2 entry from the scan, inode later");
    CHECK(e.m.nahead == 0, "no entry still waiting");
    engine_stop(&e);
    evq_clear(&q);
    free(whole), free(half);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/xadisk-test-%d", (int)getpid());
    sh("mkdir -p %s", dir);
    test_ext4_journal();
    test_ext2_in_place();
    test_ext2_dropped_dir_block();
    test_ext2_rename_split_rounds();
    test_ext2_entry_before_inode();
    test_ext2_scan_entry_before_inode();
    sh("rm -rf %s", dir);
    if (check_failures) {
        fprintf(stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
