/*
 * fuzz_disk.c -- the disk monitor's engine (disk/lib/engine.c) on a fuzzed
 * stream of tap records over a real ext4 image: journal following, jbd2
 * transactions replayed into the shadow, and the file-system model's
 * inference (inodes, directories, names) on whatever metadata the records
 * write. Only the engine's entry points are used: engine_start,
 * engine_record, engine_idle, engine_resync, engine_stop.
 *
 * The image is made once (mkfs.ext4 -b 1024, 4 MiB, with a journal, a few
 * files and directories made by debugfs) and is never written: writes go to
 * the engine's shadow, which is dropped after every input.
 *
 * Input: records of  u8 kind, u16 block (modulo the image), u8 count, then
 * for a write 1024 * (count % 4 + 1) bytes of data (short data is padded
 * with zeros). kind % 8: 0-3 write, 4 flush, 5 zero, 6 trim, 7 idle.
 *
 * Oracles beyond the sanitizers: records are accepted or refused with a
 * negative XA_E* code; events carry terminated paths.
 */
#include "fuzz_common.h"

#include "disk/lib/engine.h"
#include "disk/lib/evq.h"
#include "xenaccess.h"

#define DISK_FUZZ_MAX_RECORDS 64
#define BSIZE 1024u
#define IMAGE_BLOCKS 4096u
#define DISK_FUZZ_MKFS                                                                         \
    "export E2FSPROGS_FAKE_TIME=1700000000; "                                                  \
    "mkfs.ext4 -q -F -b 1024 -O ^metadata_csum -U 6d1b0f3e-1c5a-4e2b-9a53-0f5e2b7c9d11 "       \
    "-E hash_seed=0b7c3a52-8f1e-4d6a-b2c4-5e9f1a3d7b60 %s 4M >/dev/null 2>&1 && "             \
    "printf 'mkdir d\\nmkdir d/e\\nsymlink d/l /d/e\\n' > %s/cmds && "                  \
    "debugfs -w -f %s/cmds %s >/dev/null 2>&1"

static char image[64], image_dir[64];

static void remove_image(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", image_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_disk: could not remove %s\n", image_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[] = "/tmp/xa-fuzz-disk-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(image, sizeof(image), "%s/ext4.img", dir);
    snprintf(image_dir, sizeof(image_dir), "%s", dir);
    atexit(remove_image);
    char cmd[1024];
    /* The same image as tests/fuzz/make_seeds.py makes (fixed UUID, hash
     * seed and time), so that the seeds' blocks fit it. */
    snprintf(cmd, sizeof(cmd), DISK_FUZZ_MKFS, image, dir, dir, image);
    if (system(cmd) != 0) {
        fprintf(stderr, "fuzz_disk: cannot make the ext4 image (mkfs.ext4, debugfs)\n");
        abort();
    }
    return 0;
}

static size_t events; /* reported with FUZZ_DISK_VERBOSE=1, to check seeds */

static void drain(struct evq *q)
{
    struct xadisk_event ev;
    while (evq_pop(q, &ev)) {
        events++;
        if (!ev.path)
            abort(); /* "never NULL" */
        (void)strlen(ev.path); /* terminated inside its allocation (ASan) */
        evq_event_free(&ev);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct engine *e = calloc(1, sizeof(*e));
    struct evq q = {0};
    if (!e)
        abort();
    if (engine_start(e, image) < 0)
        abort(); /* the pristine image must open */
    struct fuzz_reader r = {data, size};
    uint8_t *buf = malloc(4 * BSIZE);
    if (!buf)
        abort();
    uint64_t seq = 1;
    for (int i = 0; i < DISK_FUZZ_MAX_RECORDS && r.left >= 4; i++) {
        uint8_t kind = (uint8_t)fz_take(&r, 1);
        uint64_t blk = fz_take(&r, 2) % IMAGE_BLOCKS;
        uint32_t count = (uint32_t)fz_take(&r, 1) % 4 + 1;
        struct xdp_hdr h = {.magic = XDP_MAGIC, .seq = seq++, .offset = blk * BSIZE};
        const uint8_t *payload = NULL;
        switch (kind % 8) {
        case 0: case 1: case 2: case 3: {
            size_t n = count * BSIZE, take = r.left < n ? r.left : n;
            memcpy(buf, r.p, take);
            memset(buf + take, 0, n - take);
            r.p += take, r.left -= take;
            h.type = XDP_WRITE;
            h.length = h.payload_len = (uint32_t)n;
            payload = buf;
            break;
        }
        case 4: h.type = XDP_FLUSH; break;
        case 5: h.type = XDP_ZERO; h.length = count * BSIZE; break;
        case 6: h.type = XDP_TRIM; h.length = count * BSIZE; break;
        case 7:
            if (engine_idle(e, &q) > 0)
                abort();
            drain(&q);
            continue;
        }
        if (h.offset + h.length > (uint64_t)IMAGE_BLOCKS * BSIZE)
            h.length = h.payload_len = (uint32_t)((uint64_t)IMAGE_BLOCKS * BSIZE - h.offset);
        int rc = engine_record(e, &h, payload, &q);
        if (rc > 0)
            abort();
        drain(&q);
    }
    if (engine_resync(e, 1, &q) > 0)
        abort();
    drain(&q);
    if (getenv("FUZZ_DISK_VERBOSE"))
        fprintf(stderr, "fuzz_disk: %zu events, %llu transactions, %llu bad journal blocks\n",
                events, (unsigned long long)e->transactions, (unsigned long long)e->bad_journal);
    events = 0;
    engine_stop(e);
    evq_clear(&q);
    free(buf);
    free(e);
    return 0;
}
