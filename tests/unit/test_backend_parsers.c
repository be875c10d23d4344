/*
 * test_backend_parsers.c -- the live backends' parsers on canned input, so
 * they are tested without a QEMU, libvirtd or Xen: QEMU's `info mtree -f`
 * FlatView, /proc/PID/maps lines and which one holds a RAM block, HMP `xp`
 * output, QMP replies; Xen domain ids (xenstore), RAM ranges from a frame
 * predicate, the PV guest's p2m read from canned machine frames (frame
 * lists and the linear p2m), and the p2m/m2p lookups on hostile tables.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/instance.h"

#ifdef XA_HAVE_QEMU
#include "backends/qemu/qemu.h"

/* As QEMU 7.2 prints it for -m 512 (HMP lines end with \r\n). */
static const char mtree_512m[] =
    "FlatView #0\r\n"
    " AS \"I/O\", root: io\r\n"
    " Root memory region: io\r\n"
    "  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\r\n"
    "\r\n"
    "FlatView #1\r\n"
    " AS \"memory\", root: system\r\n"
    " AS \"cpu-memory-0\", root: system\r\n"
    " Root memory region: system\r\n"
    "  0000000000000000-000000000009ffff (prio 0, ram): pc.ram\r\n"
    "  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\r\n"
    "  00000000000c0000-00000000000cafff (prio 0, rom): pc.ram @00000000000c0000\r\n"
    "  00000000000cb000-00000000000cdfff (prio 0, ram): pc.ram @00000000000cb000\r\n"
    "  00000000000ce000-00000000000e7fff (prio 0, rom): pc.ram @00000000000ce000\r\n"
    "  00000000000e8000-00000000000effff (prio 0, ram): pc.ram @00000000000e8000\r\n"
    "  00000000000f0000-00000000000fffff (prio 0, rom): pc.ram @00000000000f0000\r\n"
    "  0000000000100000-000000001fffffff (prio 0, ram): pc.ram @0000000000100000\r\n"
    "  00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram\r\n"
    "  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\r\n"
    "\r\n"
    "FlatView #2\r\n"
    " AS \"pci\", root: bus master container\r\n"
    "  0000000000000000-000000000009ffff (prio 0, ram): pc.ram\r\n";

static struct qemu_backend *fake_qemu(struct xa_instance *xa)
{
    struct qemu_backend *qb = calloc(1, sizeof(*qb));
    qb->base.xa = xa;
    snprintf(qb->sock_path, sizeof(qb->sock_path), "test.sock");
    snprintf(qb->blocks[0].id, sizeof(qb->blocks[0].id), "pc.ram");
    qb->blocks[0].size = 0x20000000;
    qb->nr_blocks = 1;
    return qb;
}

static void test_mtree(void)
{
    struct xa_instance xa = {0};
    struct qemu_backend *qb = fake_qemu(&xa);
    CHECK_EQ(qemu_parse_mtree(qb, mtree_512m), 4);
    /* RAM only (not ROM, not VGA VRAM), from the "memory" view only */
    static const struct qemu_segment want[4] = {
        {0, 0xa0000, 0, 0},
        {0xcb000, 0x3000, 0, 0xcb000},
        {0xe8000, 0x8000, 0, 0xe8000},
        {0x100000, 0x1ff00000, 0, 0x100000},
    };
    for (unsigned i = 0; i < 4 && i < qb->nr_segs; i++) {
        CHECK_EQ(qb->segs[i].gpa, want[i].gpa);
        CHECK_EQ(qb->segs[i].size, want[i].size);
        CHECK_EQ(qb->segs[i].block, 0);
        CHECK_EQ(qb->segs[i].offset, want[i].offset);
    }

    /* no "memory" view: nothing */
    qb->nr_segs = 0;
    CHECK_EQ(qemu_parse_mtree(qb, "FlatView #0\n AS \"I/O\", root: io\n"), 0);
    CHECK_EQ(qemu_parse_mtree(qb, ""), 0);

    /* a range past the end of its block, or not page-aligned: refused */
    const char *past = "FlatView #1\n AS \"memory\", root: system\n"
                       "  0000000000000000-000000003fffffff (prio 0, ram): pc.ram\n";
    CHECK_EQ(qemu_parse_mtree(qb, past), XA_EBADDATA);
    CHECK(strstr(xa.errmsg, "implausible RAM range") != NULL);
    qb->nr_segs = 0;
    const char *odd = "FlatView #1\n AS \"memory\", root: system\n"
                      "  0000000000000000-0000000000000fff (prio 0, ram): pc.ram @0000000000000800\n";
    CHECK_EQ(qemu_parse_mtree(qb, odd), XA_EBADDATA);
    qb->nr_segs = 0;
    /* an inverted range and a broken offset are skipped */
    const char *junk = "FlatView #1\n AS \"memory\", root: system\n"
                       "  0000000000002000-0000000000000fff (prio 0, ram): pc.ram\n"
                       "  0000000000000000-0000000000000fff (prio 0, ram): pc.ram @zz\n"
                       "  0000000000000000-0000000000000fff (prio 0, ram)\n";
    CHECK_EQ(qemu_parse_mtree(qb, junk), 0);

    /* more segments than QEMU_MAX_SEGMENTS: a limit, not an overflow */
    size_t cap = (QEMU_MAX_SEGMENTS + 2) * 80 + 64;
    char *many = malloc(cap);
    size_t n = (size_t)snprintf(many, cap, "FlatView #1\n AS \"memory\", root: system\n");
    for (unsigned i = 0; i < QEMU_MAX_SEGMENTS + 1; i++)
        n += (size_t)snprintf(many + n, cap - n,
                              "  %016x-%016x (prio 0, ram): pc.ram @%016x\n", i * 0x2000,
                              i * 0x2000 + 0xfff, i * 0x2000);
    CHECK_EQ(qemu_parse_mtree(qb, many), XA_ELIMIT);
    CHECK_EQ(qb->nr_segs, QEMU_MAX_SEGMENTS);
    free(many);
    free(qb);
}

static void test_maps(void)
{
    struct qemu_vma v;
    CHECK(qemu_parse_maps_line("7f0000000000-7f0020000000 rw-s 00000000 00:1a 1234    "
                               "/dev/shm/xa-ram (deleted)\n",
                               &v));
    CHECK_EQ(v.start, 0x7f0000000000);
    CHECK_EQ(v.end, 0x7f0020000000);
    CHECK(strcmp(v.perms, "rw-s") == 0);
    CHECK(strcmp(v.path, "/dev/shm/xa-ram (deleted)") == 0);
    CHECK(qemu_parse_maps_line("7f1000000000-7f1020000000 rw-p 00000000 00:00 0 \n", &v));
    CHECK(v.path[0] == '\0');
    CHECK(!qemu_parse_maps_line("not a mapping\n", &v));
    CHECK(!qemu_parse_maps_line("2000-1000 rw-p 00000000 00:00 0\n", &v)); /* inverted */
    CHECK(!qemu_parse_maps_line("", &v));

    struct qemu_block file = {.size = 0x20000000, .mem_path = "/dev/shm/xa-ram"};
    struct qemu_block anon = {.size = 0x20000000};
    struct qemu_block memfd = {.size = 0x20000000, .share = true};
    struct qemu_vma shm = {0x7f0000000000, 0x7f0020000000, 0, "rw-s",
                           "/dev/shm/xa-ram (deleted)"};
    CHECK(qemu_vma_matches(&file, &shm));
    CHECK(!qemu_vma_matches(&anon, &shm));
    struct qemu_vma other = shm;
    snprintf(other.path, sizeof(other.path), "/dev/shm/xa-ram2");
    CHECK(!qemu_vma_matches(&file, &other)); /* a longer name is another file */
    struct qemu_vma small = shm;
    small.end = small.start + 0x1000;
    CHECK(!qemu_vma_matches(&file, &small));
    struct qemu_vma priv = {0x7f1000000000, 0x7f1020000000, 0, "rw-p", ""};
    CHECK(qemu_vma_matches(&anon, &priv));
    CHECK(!qemu_vma_matches(&memfd, &priv));
    struct qemu_vma shared_memfd = {0x7f1000000000, 0x7f1020000000, 0, "rw-s",
                                    "/memfd:pc.ram (deleted)"};
    CHECK(qemu_vma_matches(&memfd, &shared_memfd));
    CHECK(!qemu_vma_matches(&anon, &shared_memfd));
    struct qemu_vma unreadable = priv;
    unreadable.perms[0] = '-';
    CHECK(!qemu_vma_matches(&anon, &unreadable));
}

/* HMP "info registers" (QEMU 7.2, a vCPU in long mode): IDTR and GDTR;
 * a block without them, or with a limit that is no 32-bit number, is bad. */
static void test_dtables(void)
{
    char text[] =
        "CPU#1\r\n"
        "RAX=0000000000000000 RBX=0000000000000001 RCX=0000000000000000 RDX=0\r\n"
        "TR =0040 fffffe0000032000 00004087 00008900 DPL=0 TSS64-avl\r\n"
        "GDT=     fffffe0000031000 0000007f\r\n"
        "IDT=     ffffffffc0999000 00000fff\r\n"
        "CR0=80050033 CR2=0000000000000000 CR3=000000000246e000 CR4=00350ef0\r\n";
    struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
    CHECK(qemu_parse_dtables(text, &dt) == 0);
    CHECK(dt.idt_base == 0xffffffffc0999000ull && dt.idt_limit == 0xfff);
    CHECK(dt.gdt_base == 0xfffffe0000031000ull && dt.gdt_limit == 0x7f);
    CHECK(qemu_parse_dtables("GDT=     fffffe0000031000 0000007f\n", &dt) == XA_EBADDATA);
    CHECK(qemu_parse_dtables("GDT=     1 7f\nIDT=     2\n", &dt) == XA_EBADDATA);
    CHECK(qemu_parse_dtables("GDT=     1 7f\nIDT=     2 1ffffffff\n", &dt) == XA_EBADDATA);
    CHECK(qemu_parse_dtables("", &dt) == XA_EBADDATA);
}

static void test_xp_and_qmp(void)
{
    uint64_t val[2] = {1, 1};
    CHECK_EQ(qemu_parse_xp("0000000000001000: 0x0000000000000001 0x00000000deadbeef\r\n", val), 0);
    CHECK_EQ(val[0], 1);
    CHECK_EQ(val[1], 0xdeadbeef);
    CHECK_EQ(qemu_parse_xp("Cannot access memory\r\n", val), XA_EBADDATA);
    CHECK_EQ(qemu_parse_xp("0000000000001000: 0x01\r\n", val), XA_EBADDATA);

    struct xa_instance xa = {0};
    struct qmp q = {.xa = &xa, .path = "test.sock"};
    struct json_object *out = NULL;
    struct json_object *ok = json_tokener_parse("{\"return\": {\"status\": \"running\"}}");
    CHECK_EQ(qmp_take_reply(&q, "query-status", ok, &out), 0);
    struct json_object *status;
    CHECK(out && json_object_object_get_ex(out, "status", &status) &&
          strcmp(json_object_get_string(status), "running") == 0);
    json_object_put(out);
    json_object_put(ok);

    struct json_object *err = json_tokener_parse(
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No such object\"}}");
    out = NULL;
    CHECK_EQ(qmp_take_reply(&q, "qom-get", err, &out), XA_EIO);
    CHECK(out == NULL);
    CHECK(strcmp(xa.errmsg, "test.sock: QMP qom-get failed: No such object") == 0);
    json_object_put(err);

    /* neither return nor error, an error without desc, not an object */
    static const char *const bad[] = {"{}", "{\"error\": {}}", "{\"error\": 5}", "[1]", "7"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct json_object *r = json_tokener_parse(bad[i]);
        CHECK(r != NULL);
        CHECK_EQ(qmp_take_reply(&q, "x", r, &out), XA_EIO);
        CHECK(strstr(xa.errmsg, "malformed reply") != NULL);
        json_object_put(r);
    }
}
#endif /* XA_HAVE_QEMU */

#ifdef XA_HAVE_XEN
#include "backends/xen/xen.h"

static bool bit_is_ram(struct xen_backend *xb, uint64_t f, void *ctx)
{
    (void)xb;
    const char *map = ctx;
    return map[f] == '1';
}

/* Canned machine memory for the p2m readers: frame numbers 0..NR_FRAMES-1. */
#define NR_FRAMES 32
struct machine {
    uint64_t words[NR_FRAMES][512];
    bool present[NR_FRAMES];
    unsigned reads;
};

static int machine_read(void *ctx, uint64_t mfn, unsigned off, uint64_t *out, unsigned n)
{
    struct machine *m = ctx;
    m->reads++;
    if (mfn >= NR_FRAMES || !m->present[mfn] || off + n > 512)
        return XA_EGONE; /* as a failed foreign map */
    memcpy(out, &m->words[mfn][off], n * 8);
    return 0;
}

static void fill_p2m_page(struct machine *m, uint64_t mfn, uint64_t first)
{
    m->present[mfn] = true;
    for (unsigned i = 0; i < 512; i++)
        m->words[mfn][i] = first + i;
}

static void test_xen_p2m(void)
{
    struct xa_instance xa = {0};
    struct xen_backend xb = {.base.xa = &xa};
    snprintf(xb.name, sizeof(xb.name), "dom");
    struct machine *mm = calloc(1, sizeof(*mm));
    const struct xen_machine m = {machine_read, mm};
    uint64_t *p2m = calloc(2 * 512, 8);

    /* three-level frame list: fll 10 -> list 11 -> p2m pages 12, 13 */
    mm->present[10] = mm->present[11] = true;
    mm->words[10][0] = 11;
    mm->words[11][0] = 12;
    mm->words[11][1] = 13;
    fill_p2m_page(mm, 12, 0x1000);
    fill_p2m_page(mm, 13, 0x2000);
    CHECK_EQ(xen_p2m_from_frame_lists(&xb, &m, 10, p2m, 2), 0);
    CHECK_EQ(p2m[0], 0x1000);
    CHECK_EQ(p2m[511], 0x11ff);
    CHECK_EQ(p2m[512], 0x2000);
    CHECK_EQ(p2m[1023], 0x21ff);
    /* a list naming a frame the guest does not own: the read's error */
    mm->words[11][1] = 31;
    CHECK_EQ(xen_p2m_from_frame_lists(&xb, &m, 10, p2m, 2), XA_EGONE);
    /* more lists than one frame-list page holds */
    CHECK_EQ(xen_p2m_from_frame_lists(&xb, &m, 10, p2m, 513ull * 512), XA_EBADDATA);
    CHECK(strstr(xa.errmsg, "frame list too long") != NULL);

    /* linear p2m at a kernel address through 4-level tables rooted at 20 */
    const uint64_t va = 0xffffc90000000000ull + 0x12345000ull;
    const uint64_t present = 1, pse = 1u << 7;
    for (uint64_t f = 20; f <= 23; f++)
        mm->present[f] = true;
    mm->words[20][(va >> 39) & 511] = (21ull << 12) | present;
    mm->words[21][(va >> 30) & 511] = (22ull << 12) | present;
    mm->words[22][(va >> 21) & 511] = (23ull << 12) | present;
    mm->words[23][(va >> 12) & 511] = (24ull << 12) | present;
    fill_p2m_page(mm, 24, 0x5000);
    memset(p2m, 0, 2 * 512 * 8);
    CHECK_EQ(xen_p2m_from_vaddr(&xb, &m, 20, va, p2m, 1), 0);
    CHECK_EQ(p2m[0], 0x5000);
    CHECK_EQ(p2m[511], 0x51ff);
    /* the next page is not mapped */
    CHECK_EQ(xen_p2m_from_vaddr(&xb, &m, 20, va, p2m, 2), XA_EBADDATA);
    CHECK(strstr(xa.errmsg, "not mapped") != NULL);
    /* a large page on the way */
    mm->words[22][(va >> 21) & 511] |= pse;
    CHECK_EQ(xen_p2m_from_vaddr(&xb, &m, 20, va, p2m, 1), XA_EBADDATA);
    CHECK(strstr(xa.errmsg, "large page") != NULL);
    /* a table entry naming a frame past machine memory */
    mm->words[22][(va >> 21) & 511] = (1000ull << 12) | present;
    CHECK_EQ(xen_p2m_from_vaddr(&xb, &m, 20, va, p2m, 1), XA_EGONE);
    free(p2m);
    free(mm);
}

static void test_xen(void)
{
    uint32_t id = 99;
    CHECK(xen_parse_domid("0", &id) && id == 0);
    CHECK(xen_parse_domid("32751", &id) && id == 32751);
    CHECK(!xen_parse_domid("32752", &id)); /* DOMID_FIRST_RESERVED */
    CHECK(!xen_parse_domid("", &id));
    CHECK(!xen_parse_domid("12a", &id));
    CHECK(!xen_parse_domid("-1", &id));
    CHECK(!xen_parse_domid("000001", &id)); /* longer than any domid */

    struct xa_instance xa = {0};
    struct xen_backend xb = {.base.xa = &xa};
    snprintf(xb.name, sizeof(xb.name), "dom");
    const char *map = "0111001";
    CHECK_EQ(xen_ranges_from(&xb, strlen(map), bit_is_ram, (void *)map), 0);
    CHECK_EQ(xb.base.nr_ranges, 2);
    if (xb.base.nr_ranges == 2) {
        CHECK_EQ(xb.base.ranges[0].start, 0x1000);
        CHECK_EQ(xb.base.ranges[0].size, 0x3000);
        CHECK_EQ(xb.base.ranges[1].start, 0x6000);
        CHECK_EQ(xb.base.ranges[1].size, 0x1000);
    }
    CHECK_EQ(xen_ranges_from(&xb, 4, bit_is_ram, (void *)"0000"), XA_EBADDATA);
    CHECK_EQ(xb.base.nr_ranges, 2); /* a failure leaves the old ranges */
    free(xb.base.ranges);
    xb.base.ranges = NULL;

    /* PV: the guest's p2m and Xen's m2p must agree both ways */
    uint64_t p2m[4] = {5, ~0ull, 7 | (1ull << 62), 9};
    xen_pfn_t m2p[12] = {0};
    m2p[5] = 0, m2p[9] = 3, m2p[7] = 2, m2p[11] = 1000;
    xb.p2m = p2m;
    xb.p2m_size = 4;
    xb.m2p = m2p;
    xb.m2p_entries = 12;
    uint64_t pfn = 0, mfn = 0;
    CHECK(xen_pv_pfn(&xb, 5, &pfn) && pfn == 0);
    CHECK(xen_pv_pfn(&xb, 9, &pfn) && pfn == 3);
    CHECK(!xen_pv_pfn(&xb, 7, &pfn));  /* p2m[2] carries flag bits */
    CHECK(!xen_pv_pfn(&xb, 11, &pfn)); /* m2p points past the p2m */
    CHECK(!xen_pv_pfn(&xb, 12, &pfn)); /* past the m2p */
    CHECK(!xen_pv_pfn(&xb, 0, &pfn));  /* m2p[0] = 0, but p2m[0] is 5 */
    CHECK_EQ(xen_pv_mfn(&xb, 3, &mfn), 0);
    CHECK_EQ(mfn, 9);
    CHECK_EQ(xen_pv_mfn(&xb, 1, &mfn), XA_ERANGE); /* invalid entry */
    CHECK_EQ(xen_pv_mfn(&xb, 2, &mfn), XA_ERANGE); /* foreign/identity frame */
    CHECK_EQ(xen_pv_mfn(&xb, 4, &mfn), XA_ERANGE); /* past the p2m */
}
#endif /* XA_HAVE_XEN */

int main(void)
{
#ifdef XA_HAVE_QEMU
    test_mtree();
    test_maps();
    test_xp_and_qmp();
    test_dtables();
#endif
#ifdef XA_HAVE_XEN
    test_xen();
    test_xen_p2m();
#endif
    CHECK_DONE();
}
