/*
 * fuzz_backend_text.c -- the text and tables the live backends take from
 * QEMU, libvirt and Xen, fuzzed without them (tests/unit/test_backend_parsers.c
 * has the canned cases).
 *
 * Input: one selector byte, then the text (or table) for that parser:
 *   0 `info mtree -f` against blocks pc.ram (512 MiB) and ram1 (1 GiB)
 *   1 /proc/PID/maps lines, each matched against file, anonymous, memfd blocks
 *   2 HMP `xp /2gx` output
 *   3 a QMP reply (JSON)
 *   4 HMP `info registers`
 *   5 Xen: a domain id, then a p2m/m2p pair built from the bytes
 *   6 Xen: root frame and p2m address, then up to 8 machine frames for the
 *     guest p2m readers (linear p2m through page tables, frame lists)
 *
 * Seeds (tests/fuzz/corpus/backend_text) are written by hand, one or two per
 * parser, from what QEMU 7.2 and Xen 4.17 print.
 *
 * Oracles beyond the sanitizers: mtree segments lie inside their blocks,
 * page-aligned, never more than QEMU_MAX_SEGMENTS; a reply is 0 or XA_EIO
 * without a value; Xen lookups return frames only where both tables agree.
 */
#include "fuzz_common.h"

#include "core/instance.h"

#ifdef XA_HAVE_QEMU
#include "backends/qemu/qemu.h"
#endif
#ifdef XA_HAVE_XEN
#include "backends/xen/xen.h"
#endif

#ifdef XA_HAVE_QEMU
static void mtree(const char *text)
{
    static struct qemu_backend qb;
    struct xa_instance xa = {0};
    memset(&qb, 0, sizeof(qb));
    qb.base.xa = &xa;
    snprintf(qb.blocks[0].id, sizeof(qb.blocks[0].id), "pc.ram");
    qb.blocks[0].size = 512u << 20;
    snprintf(qb.blocks[1].id, sizeof(qb.blocks[1].id), "ram1");
    qb.blocks[1].size = 1u << 30;
    qb.nr_blocks = 2;
    int n = qemu_parse_mtree(&qb, text);
    if (n < 0)
        return;
    if ((unsigned)n != qb.nr_segs || qb.nr_segs > QEMU_MAX_SEGMENTS)
        abort();
    for (unsigned i = 0; i < qb.nr_segs; i++) {
        const struct qemu_segment *s = &qb.segs[i];
        const struct qemu_block *b = &qb.blocks[s->block];
        if (s->block >= qb.nr_blocks || s->size == 0 || s->offset + s->size > b->size ||
            s->offset + s->size < s->offset || (s->gpa | s->size | s->offset) % XA_PAGE_SIZE)
            abort();
    }
}

static void maps(char *text)
{
    struct qemu_block blocks[3] = {
        {.size = 0x20000000, .mem_path = "/dev/shm/xa-ram"},
        {.size = 0x20000000},
        {.size = 0x20000000, .share = true},
    };
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        struct qemu_vma v;
        if (!qemu_parse_maps_line(line, &v))
            continue;
        if (v.end <= v.start || strlen(v.perms) > 4 || strlen(v.path) >= sizeof(v.path))
            abort();
        for (int i = 0; i < 3; i++)
            if (qemu_vma_matches(&blocks[i], &v) && v.end - v.start != blocks[i].size)
                abort();
    }
}

static void qmp_reply(const char *text)
{
    struct xa_instance xa = {0};
    struct qmp q = {.xa = &xa, .path = "fuzz"};
    struct json_object *reply = json_tokener_parse(text);
    if (!reply)
        return;
    struct json_object *out = NULL;
    int rc = qmp_take_reply(&q, "fuzz", reply, &out);
    if ((rc != 0 && rc != XA_EIO) || (rc != 0 && out != NULL))
        abort();
    json_object_put(out);
    json_object_put(reply);
}
#endif

#ifdef XA_HAVE_XEN
/* Machine memory for the p2m readers: the input's bytes as frames 0..N-1. */
struct fuzz_machine {
    const uint8_t *bytes;
    size_t frames;
};

static int fuzz_machine_read(void *ctx, uint64_t mfn, unsigned off, uint64_t *out, unsigned n)
{
    const struct fuzz_machine *fm = ctx;
    if (off + n > 512)
        abort(); /* the readers never ask past a frame */
    if (mfn >= fm->frames)
        return XA_EGONE;
    memcpy(out, fm->bytes + mfn * 4096 + off * 8, (size_t)n * 8);
    return 0;
}

/* Both p2m readers over the bytes as machine memory; results are 0 or XA_E*. */
static void xen_p2m(const uint8_t *data, size_t size)
{
    if (size < 16)
        return;
    uint64_t root, vaddr;
    memcpy(&root, data, 8);
    memcpy(&vaddr, data + 8, 8);
    data += 16, size -= 16;
    size_t frames = size / 4096;
    if (frames > 8)
        frames = 8;
    struct fuzz_machine fm = {data, frames};
    const struct xen_machine m = {fuzz_machine_read, &fm};
    struct xa_instance xa = {0};
    struct xen_backend xb = {.base.xa = &xa};
    uint64_t *p2m = malloc(4 * 512 * 8);
    uint64_t pages = 1 + (root >> 60) % 4;
    int rc = xen_p2m_from_vaddr(&xb, &m, root % 16, vaddr, p2m, pages);
    if (rc != 0 && strcmp(xa_strerror(rc), "unknown error") == 0)
        abort();
    rc = xen_p2m_from_frame_lists(&xb, &m, root % 16, p2m, pages);
    if (rc != 0 && strcmp(xa_strerror(rc), "unknown error") == 0)
        abort();
    free(p2m);
}

static void xen(const uint8_t *data, size_t size)
{
    char id[8] = {0};
    size_t n = size < 7 ? size : 7;
    memcpy(id, data, n);
    uint32_t domid;
    if (xen_parse_domid(id, &domid) && domid >= 0x7ff0)
        abort();
    data += n, size -= n;
    /* p2m then m2p, 8-byte entries, half of what is left each */
    size_t entries = size / 16;
    uint64_t *p2m = calloc(entries + 1, 8);
    xen_pfn_t *m2p = calloc(entries + 1, sizeof(xen_pfn_t));
    memcpy(p2m, data, entries * 8);
    for (size_t i = 0; i < entries; i++)
        memcpy(&m2p[i], data + entries * 8 + i * 8, 8);
    struct xa_instance xa = {0};
    struct xen_backend xb = {.base.xa = &xa, .p2m = p2m, .p2m_size = entries, .m2p = m2p,
                             .m2p_entries = entries};
    for (uint64_t f = 0; f < entries + 2; f++) {
        uint64_t pfn, mfn;
        if (xen_pv_pfn(&xb, f, &pfn) && (pfn >= entries || p2m[pfn] != f))
            abort();
        if (xen_pv_mfn(&xb, f, &mfn) == 0 && (f >= entries || p2m[f] != mfn))
            abort();
    }
    free(p2m);
    free(m2p);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    uint8_t which = data[0] % 7;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (which) {
#ifdef XA_HAVE_QEMU
    case 0:
        mtree(text);
        break;
    case 1:
        maps(text);
        break;
    case 2: {
        uint64_t val[2];
        int rc = qemu_parse_xp(text, val);
        if (rc != 0 && rc != XA_EBADDATA)
            abort();
        break;
    }
    case 3:
        qmp_reply(text);
        break;
    case 4: {
        struct xa_regs regs;
        int rc = qemu_parse_regs(text, &regs);
        if (rc != 0 && rc != XA_EBADDATA)
            abort();
        struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
        rc = qemu_parse_dtables(text, &dt);
        if (rc != 0 && rc != XA_EBADDATA)
            abort();
        break;
    }
#endif
#ifdef XA_HAVE_XEN
    case 5:
        xen(data + 1, size - 1);
        break;
    case 6:
        xen_p2m(data + 1, size - 1);
        break;
#endif
    default:
        break;
    }
    free(text);
    return 0;
}
