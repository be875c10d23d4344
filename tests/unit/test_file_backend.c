/*
 * test_file_backend.c -- the "file" backend on synthetic dumps built here:
 * ELF cores (holes, zero-fill, a segment above 4 GiB in a sparse file,
 * unaligned segments, QEMU vCPU notes, PN_XNUM), raw and LiME images, and
 * every rejection (compressed files, disk images, kernels, broken cores).
 *
 * The backend is driven through its ops directly, with a local
 * xa__set_error() that records the message, so the test checks exactly the
 * backend (not the core's range checks).
 *
 * `test_file_backend --dumps [SET]` instead compares a real guest dump set
 * (SET is l4, the default, or l5, under $XA_TEST_DUMPS): the same physical
 * pages read from core.elf and raw.img must be identical, and CR0/CR3/CR4
 * from the ELF notes must equal regs.txt. A missing set: see require.h.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "core/instance.h"
#include "require.h"

/* ---- test scaffolding ------------------------------------------------------ */

static char last_msg[XA_ERRMSG_LEN];
#define CHECK_CONTEXT last_msg
#include "check.h"

int xa__set_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    (void)xa;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    va_end(ap);
    return code;
}

/* The registry's module host table names these; no module is loaded here. */
int xa__prefix_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    (void)xa;
    (void)fmt;
    return code;
}

int xa__append_error(struct xa_instance *xa, int code, const char *fmt, ...)
{
    (void)xa;
    (void)fmt;
    return code;
}

void xa__clear_error(struct xa_instance *xa)
{
    (void)xa;
}

static char tmpdir[] = "/tmp/xa-file-test-XXXXXX";

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_at(int fd, uint64_t off, const void *data, size_t len)
{
    if (pwrite(fd, data, len, (off_t)off) != (ssize_t)len) {
        perror("pwrite");
        exit(1);
    }
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    if (len)
        write_at(fd, 0, data, len);
    close(fd);
}

/* Open @path through the backend; returns the rc, *out the instance (close+free it). */
static int be_open(const char *path, uint32_t flags, struct xa_backend **out)
{
    struct xa_backend *be = calloc(1, xa_backend_file.instance_size);
    if (!be)
        exit(1);
    be->ops = &xa_backend_file;
    last_msg[0] = '\0';
    int rc = xa_backend_file.open(be, path, flags);
    *out = be;
    return rc;
}

static void be_close(struct xa_backend *be)
{
    if (!be)
        return;
    xa_backend_file.close(be);
    free(be);
}

/* Open must fail with @code and a message holding @path and @words. */
static void expect_reject(const char *path, int code, const char *words)
{
    struct xa_backend *be;
    int rc = be_open(path, 0, &be);
    if (rc != code || !strstr(last_msg, path) || !strstr(last_msg, words)) {
        fprintf(stderr, "reject %s: rc %d (want %d), message \"%s\" (want \"%s\")\n", path, rc,
                code, last_msg, words);
        check_failures++;
    }
    be_close(be);
}

/* ---- the synthetic ELF core ------------------------------------------------ */

/* Byte value of guest-physical @pa in file-backed memory: never zero. */
static uint8_t pattern(uint64_t pa)
{
    uint64_t h = pa * 0x9E3779B97F4A7C15ull;
    return (uint8_t)(h >> 56) % 255 + 1;
}

struct test_seg {
    uint64_t pa, file_size, mem_size, offset;
};

/* Unsorted on purpose; a hole at [0x3000,0x10000), zero-fill at
 * [0x11800,0x13000), an unaligned segment at 0x20800, one above 4 GiB whose
 * bytes sit 5 GiB into a sparse file. */
static const struct test_seg good_segs[] = {
    {0x100200000ull, 0x2000, 0x2000, 0x140000000ull},
    {0x0, 0x3000, 0x3000, 0x1000},
    {0x10000, 0x1800, 0x3000, 0x4000},
    {0x20800, 0x1000, 0x1000, 0x5800},
};
#define NR_GOOD (sizeof(good_segs) / sizeof(good_segs[0]))

/* -1: not RAM; else the byte the dump must give. */
static int model_byte(const struct test_seg *segs, size_t n, uint64_t pa)
{
    for (size_t i = 0; i < n; i++) {
        if (pa < segs[i].pa || pa - segs[i].pa >= segs[i].mem_size)
            continue;
        return pa - segs[i].pa < segs[i].file_size ? pattern(pa) : 0;
    }
    return -1;
}

struct vcpu_spec {
    uint64_t cr0, cr3, cr4, rip, rsp, rax, gs_base, kernel_gs_base;
    uint32_t cs_flags;
    uint16_t cs;
};

static const struct vcpu_spec vcpu_specs[2] = {
    {0x80050033, 0x1234000, 0x3506f0, 0xffffffff81000010ull, 0xffffc90000013e80ull, 0x11,
     0xffff88803fc00000ull, 0, 0x00a09b00, 0x10},
    /* vCPU 1 runs a 32-bit user task: CS.L clear, EFER must still say long mode. */
    {0x80050033, 0x5678000, 0x3506f0, 0x8048000, 0xffffd000, 0x22, 0,
     0xffff88803fd00000ull, 0x00cffb00, 0x23},
};

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Append a note; returns the new length. */
static size_t add_note(uint8_t *buf, size_t at, const char *name, uint32_t type,
                       const uint8_t *desc, uint32_t descsz)
{
    Elf64_Nhdr nh = {.n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = descsz, .n_type = type};
    memcpy(buf + at, &nh, sizeof(nh));
    at += sizeof(nh);
    memcpy(buf + at, name, nh.n_namesz);
    at += (nh.n_namesz + 3) & ~3u;
    memcpy(buf + at, desc, descsz);
    return at + ((descsz + 3) & ~3u);
}

static size_t build_notes(uint8_t *buf, bool with_qemu, uint32_t qemu_version)
{
    size_t len = 0;
    for (int c = 0; c < 2; c++) {
        const struct vcpu_spec *v = &vcpu_specs[c];
        uint8_t prs[336] = {0};
        uint8_t *regs = prs + 112;
        put64(regs + 8 * 10, v->rax + 0x1000); /* differs: QEMU note must win */
        put64(regs + 8 * 16, v->rip);
        put64(regs + 8 * 17, v->cs);
        put64(regs + 8 * 19, v->rsp);
        put64(regs + 8 * 22, v->gs_base);
        len = add_note(buf, len, "CORE", NT_PRSTATUS, prs, sizeof(prs));
    }
    if (!with_qemu)
        return len;
    for (int c = 0; c < 2; c++) {
        const struct vcpu_spec *v = &vcpu_specs[c];
        uint8_t q[440] = {0};
        put32(q + 0, qemu_version);
        put32(q + 4, sizeof(q));
        put64(q + 8, v->rax);
        put64(q + 8 + 8 * 6, v->rsp);
        put64(q + 136, v->rip);
        put64(q + 144, 0x246);
        put32(q + 152 + 0, v->cs);          /* cs.selector */
        put32(q + 152 + 8, v->cs_flags);    /* cs.flags */
        put64(q + 152 + 4 * 24 + 16, v->gs_base); /* gs.base */
        put64(q + 392, v->cr0);
        put64(q + 392 + 24, v->cr3);
        put64(q + 392 + 32, v->cr4);
        put64(q + 432, v->kernel_gs_base);
        len = add_note(buf, len, "QEMU", 0, q, sizeof(q));
    }
    return len;
}

struct core_opts {
    const struct test_seg *segs;
    size_t nr_segs;
    bool notes, qemu_notes;
    uint32_t qemu_version;
    bool xnum;          /* PN_XNUM with the count in section 0 */
    uint64_t fake_phnum; /* claim this many headers (0: the real number) */
    uint16_t type;      /* e_type, 0 = ET_CORE */
    bool no_data;       /* do not write segment bytes (to truncate) */
};

static void build_core(const char *path, const struct core_opts *o)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    size_t nph = o->nr_segs + (o->notes ? 1 : 0);
    uint64_t phnum = o->fake_phnum ? o->fake_phnum : nph;
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = o->type ? o->type : ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(eh);
    eh.e_phoff = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = o->xnum ? PN_XNUM : (uint16_t)phnum;
    if (o->xnum) {
        eh.e_shoff = 0x800;
        eh.e_shentsize = sizeof(Elf64_Shdr);
        eh.e_shnum = 1;
        Elf64_Shdr sh = {.sh_info = (uint32_t)phnum};
        write_at(fd, eh.e_shoff, &sh, sizeof(sh));
    }
    write_at(fd, 0, &eh, sizeof(eh));

    uint8_t notes[4096];
    size_t notes_len = o->notes ? build_notes(notes, o->qemu_notes, o->qemu_version) : 0;
    uint64_t off = sizeof(eh);
    if (o->notes) {
        Elf64_Phdr ph = {.p_type = PT_NOTE, .p_offset = 0x900, .p_filesz = notes_len};
        write_at(fd, off, &ph, sizeof(ph));
        write_at(fd, 0x900, notes, notes_len);
        off += sizeof(ph);
    }
    for (size_t i = 0; i < o->nr_segs; i++) {
        const struct test_seg *s = &o->segs[i];
        Elf64_Phdr ph = {.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
                         .p_offset = s->offset, .p_vaddr = 0, .p_paddr = s->pa,
                         .p_filesz = s->file_size, .p_memsz = s->mem_size};
        write_at(fd, off, &ph, sizeof(ph));
        off += sizeof(ph);
        if (o->no_data)
            continue;
        uint8_t *data = malloc(s->file_size ? s->file_size : 1);
        for (uint64_t b = 0; b < s->file_size; b++)
            data[b] = pattern(s->pa + b);
        write_at(fd, s->offset, data, s->file_size);
        free(data);
    }
    close(fd);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_registry(void)
{
    const struct xa_backend_ops *ops = NULL;
    CHECK(xa__backend_find(NULL, "file:x", "file", &ops) == 0 && ops == &xa_backend_file);
    CHECK(xa__backend_find(NULL, "bogus:x", "bogus", &ops) == XA_EINVAL && ops == NULL);
    CHECK(xa__backend_find(NULL, ":x", "", &ops) == XA_EINVAL && ops == NULL);
    /* This test is built without the optional backends, built in or modules. */
    CHECK(xa__backend_find(NULL, "qemu:x", "qemu", &ops) == XA_ENOTBUILT && ops == NULL);
    CHECK(xa__backend_find(NULL, "xen:x", "xen", &ops) == XA_ENOTBUILT && ops == NULL);
    CHECK(xa__backend_find(NULL, "libvirt:x", "libvirt", &ops) == XA_ENOTBUILT && !ops);
    CHECK(strstr(last_msg, "not built in") != NULL);
}

static void check_reads_against_model(struct xa_backend *be, const struct test_seg *segs,
                                      size_t n, uint64_t lo, uint64_t hi, unsigned rounds)
{
    uint8_t buf[0x3000];
    unsigned seed = 12345, ok = 0, erange = 0;
    for (unsigned r = 0; r < rounds; r++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t pa = lo + (uint64_t)(seed >> 4) % (hi - lo);
        seed = seed * 1103515245u + 12345u;
        size_t len = 1 + (seed >> 8) % (r % 4 == 0 ? sizeof(buf) : 64);
        bool all_ram = true;
        for (size_t i = 0; i < len && all_ram; i++)
            all_ram = model_byte(segs, n, pa + i) >= 0;
        int rc = be->ops->read_pa(be, pa, buf, len);
        if (!all_ram) {
            CHECK(rc == XA_ERANGE);
            erange++;
            continue;
        }
        CHECK(rc == 0);
        size_t bad = 0;
        for (size_t i = 0; i < len; i++)
            bad += buf[i] != model_byte(segs, n, pa + i);
        CHECK(bad == 0);
        ok++;
    }
    /* The window must have exercised both outcomes. */
    CHECK(ok > rounds / 10 && erange > rounds / 10);
}

static void test_good_core(void)
{
    const char *path = tmp_path("good.elf");
    struct core_opts o = {.segs = good_segs, .nr_segs = NR_GOOD, .notes = true,
                          .qemu_notes = true, .qemu_version = 1};
    build_core(path, &o);
    struct xa_backend *be;
    int rc = be_open(path, 0, &be);
    CHECK(rc == 0);
    if (rc != 0) {
        be_close(be);
        return;
    }
    CHECK(strcmp(be->method, "ELF core (4 segments)") == 0);
    CHECK(be->caps & XA_CAP_REGS);
    CHECK(be->caps & XA_CAP_STABLE_MAP);
    CHECK(!(be->caps & XA_CAP_WRITE));
    CHECK(be->nr_vcpus == 2);

    /* Ranges sorted, one per segment (none adjacent). */
    static const struct xa_mem_range want[] = {
        {0, 0x3000}, {0x10000, 0x3000}, {0x20800, 0x1000}, {0x100200000ull, 0x2000}};
    CHECK(be->nr_ranges == 4);
    for (size_t i = 0; i < 4 && i < be->nr_ranges; i++)
        CHECK(be->ranges[i].start == want[i].start && be->ranges[i].size == want[i].size);

    /* Reads: random windows near each region, checked byte by byte. */
    check_reads_against_model(be, good_segs, NR_GOOD, 0, 0x24000, 3000);
    check_reads_against_model(be, good_segs, NR_GOOD, 0x1001fe000ull, 0x100205000ull, 500);
    uint8_t b[16];
    CHECK(be->ops->read_pa(be, UINT64_MAX - 3, b, 8) == XA_ERANGE);
    CHECK(be->ops->read_pa(be, 0x2ff8, b, 16) == XA_ERANGE); /* runs into the hole */
    CHECK(strstr(last_msg, "0x3000") != NULL);
    CHECK(be->ops->read_pa(be, 0x100201ff8ull, b, 8) == 0 && b[7] == pattern(0x100201fffull));

    /* map_page. */
    const void *p1, *p2;
    CHECK(be->ops->map_page(be, 0x1, &p1) == 0 && ((const uint8_t *)p1)[5] == pattern(0x1005));
    CHECK(be->ops->map_page(be, 0x1, &p2) == 0 && p1 == p2);
    CHECK(be->ops->map_page(be, 0x100201ull, &p1) == 0 &&
          ((const uint8_t *)p1)[0xfff] == pattern(0x100201fffull));
    CHECK(be->ops->map_page(be, 0x5, &p1) == XA_ERANGE);       /* in the hole */
    CHECK(be->ops->map_page(be, 0x100300ull, &p1) == XA_ERANGE); /* past the end */
    /* Each page of interest compared with the model; holes/zero-fill read 0.
     * Pages only partly RAM have no pointer (XA_MAP_COPY): the core reads
     * their RAM bytes, as done here byte by byte. */
    const struct {
        uint64_t pfn;
        bool partial;
    } pages[] = {{0x0, false},  {0x2, false},  {0x10, false}, {0x11, true}, /* file + zero-fill */
                 {0x12, false}, {0x20, true}, /* segment starts mid-page */
                 {0x21, true},  {0x100200ull, false}};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        const uint8_t *pg = NULL;
        uint64_t base = pages[i].pfn << 12;
        rc = be->ops->map_page(be, pages[i].pfn, (const void **)&pg);
        CHECK(rc == (pages[i].partial ? XA_MAP_COPY : 0));
        if (rc < 0)
            continue;
        static uint8_t copy[XA_PAGE_SIZE];
        if (rc == XA_MAP_COPY) {
            memset(copy, 0, sizeof(copy));
            for (uint64_t k = 0; k < XA_PAGE_SIZE; k++)
                if (model_byte(good_segs, NR_GOOD, base + k) >= 0)
                    CHECK(be->ops->read_pa(be, base + k, copy + k, 1) == 0);
            pg = copy;
        }
        size_t bad = 0;
        for (uint64_t k = 0; k < XA_PAGE_SIZE; k++) {
            int m = model_byte(good_segs, NR_GOOD, base + k);
            bad += pg[k] != (m < 0 ? 0 : m);
        }
        CHECK(bad == 0);
        const void *again;
        if (rc == 0)
            CHECK(be->ops->map_page(be, pages[i].pfn, &again) == 0 && again == pg); /* stable */
    }

    /* Registers from the QEMU notes (not the differing NT_PRSTATUS rax). */
    for (unsigned c = 0; c < 2; c++) {
        struct xa_regs r;
        CHECK(be->ops->get_vcpu_regs(be, c, &r) == 0);
        const struct vcpu_spec *v = &vcpu_specs[c];
        CHECK(r.cr0 == v->cr0 && r.cr3 == v->cr3 && r.cr4 == v->cr4);
        CHECK(r.rip == v->rip && r.rsp == v->rsp && r.rax == v->rax && r.cs == v->cs);
        CHECK(r.gs_base == v->gs_base && r.kernel_gs_base == v->kernel_gs_base);
        CHECK(r.rflags == 0x246);
        CHECK(r.efer == ((1u << 8) | (1u << 10))); /* derived LME|LMA, no NXE */
    }
    struct xa_regs r;
    CHECK(be->ops->get_vcpu_regs(be, 2, &r) == XA_EINVAL);
    CHECK(be->ops->write_pa(be, 0, b, 1) == XA_EPERM);
    be_close(be);
}

static void test_core_variants(void)
{
    struct xa_backend *be;
    struct xa_regs r;

    /* PN_XNUM: the count lives in section header 0. */
    const char *path = tmp_path("xnum.elf");
    struct core_opts o = {.segs = good_segs + 1, .nr_segs = 2, .notes = true,
                          .qemu_notes = true, .qemu_version = 1, .xnum = true};
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0 && be->nr_ranges == 2 && be->nr_vcpus == 2);
    be_close(be);

    /* Only NT_PRSTATUS: general registers, no control registers, no EFER. */
    path = tmp_path("prstatus.elf");
    o = (struct core_opts){.segs = good_segs + 1, .nr_segs = 1, .notes = true};
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0 && be->nr_vcpus == 2 && (be->caps & XA_CAP_REGS));
    CHECK(be->ops->get_vcpu_regs(be, 1, &r) == 0 && r.rip == vcpu_specs[1].rip &&
          r.rax == vcpu_specs[1].rax + 0x1000 && r.cr3 == 0 && r.efer == 0);
    be_close(be);

    /* An unknown QEMU note version: memory still opens, method says so. */
    path = tmp_path("qemu-v9.elf");
    o = (struct core_opts){.segs = good_segs + 1, .nr_segs = 1, .notes = true,
                           .qemu_notes = true, .qemu_version = 9};
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0 && strstr(be->method, "version 9") != NULL);
    CHECK(be->ops->get_vcpu_regs(be, 0, &r) == 0 && r.cr3 == 0);
    be_close(be);

    /* No notes at all: memory only, no REGS cap. */
    path = tmp_path("nonotes.elf");
    o = (struct core_opts){.segs = good_segs + 1, .nr_segs = 1};
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0 && be->nr_vcpus == 0 && !(be->caps & XA_CAP_REGS));
    be_close(be);

    /* Adjacent segments merge into one range. */
    static const struct test_seg adjacent[] = {{0x1000, 0x1000, 0x1000, 0x2000},
                                               {0x0, 0x1000, 0x1000, 0x1000}};
    path = tmp_path("adjacent.elf");
    o = (struct core_opts){.segs = adjacent, .nr_segs = 2};
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0 && be->nr_ranges == 1 && be->ranges[0].size == 0x2000);
    uint8_t b[32];
    CHECK(be->ops->read_pa(be, 0xff0, b, 32) == 0 && b[0] == pattern(0xff0) &&
          b[31] == pattern(0x100f));
    be_close(be);
}

static void test_rejections(void)
{
    uint8_t buf[8192] = {0};

    expect_reject(tmp_path("does-not-exist"), XA_ENOENT, "no such file");
    expect_reject(tmpdir, XA_EINVAL, "directory");
    /* A FIFO: one clear error at once, never a wait for a writer in open(). */
    CHECK(mkfifo(tmp_path("fifo"), 0600) == 0);
    expect_reject(tmp_path("fifo"), XA_EINVAL, "is a FIFO, not a regular file");
    expect_reject("/dev/null", XA_EINVAL, "is a character device");
    write_file(tmp_path("empty"), buf, 0);
    expect_reject(tmp_path("empty"), XA_EFORMAT, "empty");
    write_file(tmp_path("tiny"), buf, 100);
    expect_reject(tmp_path("tiny"), XA_EFORMAT, "smaller than one page");

    static const struct {
        const char *name;
        uint64_t off;
        const char *magic;
        size_t len;
        const char *words;
    } magics[] = {
        {"x.gz", 0, "\x1f\x8b\x08", 3, "gzip"},
        {"x.xz", 0, "\xfd" "7zXZ\0", 6, "xz"},
        {"x.zst", 0, "\x28\xb5\x2f\xfd", 4, "zstd"},
        {"disk.qcow2", 0, "QFI\xfb", 4, "is a qcow2 disk image, not a memory dump"},
        {"vmlinuz", 0x202, "HdrS", 4, "kernel image"},
        {"x.kdump", 0, "KDUMP   ", 8, "kdump"},
    };
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        memset(buf, 0x41, sizeof(buf));
        memcpy(buf + magics[i].off, magics[i].magic, magics[i].len);
        write_file(tmp_path(magics[i].name), buf, sizeof(buf));
        expect_reject(tmp_path(magics[i].name), XA_EFORMAT, magics[i].words);
    }

    struct core_opts o = {.segs = good_segs + 1, .nr_segs = 1, .type = ET_EXEC};
    build_core(tmp_path("prog"), &o);
    expect_reject(tmp_path("prog"), XA_EFORMAT, "not a core dump (type 2");

    /* Segment bytes past the end of the file. */
    static const struct test_seg past_eof[] = {{0x0, 0x100000, 0x100000, 0x1000}};
    o = (struct core_opts){.segs = past_eof, .nr_segs = 1, .no_data = true};
    build_core(tmp_path("truncated.elf"), &o);
    expect_reject(tmp_path("truncated.elf"), XA_EBADDATA, "truncated");

    static const struct test_seg overlap[] = {{0x0, 0x2000, 0x2000, 0x1000},
                                              {0x1000, 0x1000, 0x1000, 0x3000}};
    o = (struct core_opts){.segs = overlap, .nr_segs = 2};
    build_core(tmp_path("overlap.elf"), &o);
    expect_reject(tmp_path("overlap.elf"), XA_EBADDATA, "overlap");

    /* Zero-fill overlapping the next segment is an overlap too. */
    static const struct test_seg overlap_memsz[] = {{0x0, 0x1000, 0x3000, 0x1000},
                                                    {0x2000, 0x1000, 0x1000, 0x2000}};
    o = (struct core_opts){.segs = overlap_memsz, .nr_segs = 2};
    build_core(tmp_path("overlap2.elf"), &o);
    expect_reject(tmp_path("overlap2.elf"), XA_EBADDATA, "overlap");

    static const struct test_seg filesz_gt_memsz[] = {{0x0, 0x2000, 0x1000, 0x1000}};
    o = (struct core_opts){.segs = filesz_gt_memsz, .nr_segs = 1};
    build_core(tmp_path("filesz.elf"), &o);
    expect_reject(tmp_path("filesz.elf"), XA_EBADDATA, "p_filesz");

    /* Zero-fill far beyond what the file could stand for: every tool would
     * walk it. 2^46 bytes, and p_memsz up to 2^64-1. */
    static const struct test_seg zero_fill_huge[] = {{0x0, 0x1000, 1ull << 46, 0x1000}};
    o = (struct core_opts){.segs = zero_fill_huge, .nr_segs = 1};
    build_core(tmp_path("zerofill.elf"), &o);
    expect_reject(tmp_path("zerofill.elf"), XA_EBADDATA, "zero-fill");
    static const struct test_seg memsz_max[] = {{0x0, 0x1000, UINT64_MAX, 0x1000}};
    o = (struct core_opts){.segs = memsz_max, .nr_segs = 1};
    build_core(tmp_path("memsz-max.elf"), &o);
    expect_reject(tmp_path("memsz-max.elf"), XA_EBADDATA, "physical address");
    /* Many segments whose zero-fill is small alone but too much together. */
    static struct test_seg zero_fill_many[64];
    for (size_t i = 0; i < 64; i++)
        zero_fill_many[i] = (struct test_seg){i << 40, 0x1000, 1ull << 32, 0x1000 * (i + 1)};
    o = (struct core_opts){.segs = zero_fill_many, .nr_segs = 64};
    build_core(tmp_path("zerofill-many.elf"), &o);
    expect_reject(tmp_path("zerofill-many.elf"), XA_EBADDATA, "zero-fill");
    /* Beyond MAXPHYADDR (52 bits) no x86-64 machine has memory. */
    static const struct test_seg above_52[] = {{1ull << 52, 0x1000, 0x1000, 0x1000}};
    o = (struct core_opts){.segs = above_52, .nr_segs = 1};
    build_core(tmp_path("above52.elf"), &o);
    expect_reject(tmp_path("above52.elf"), XA_EBADDATA, "physical address");

    o = (struct core_opts){.segs = good_segs + 1, .nr_segs = 1, .fake_phnum = 60000};
    build_core(tmp_path("phnum.elf"), &o);
    expect_reject(tmp_path("phnum.elf"), XA_EBADDATA, "past the end");

    o = (struct core_opts){.segs = good_segs + 1, .nr_segs = 1, .fake_phnum = 100000000,
                           .xnum = true};
    build_core(tmp_path("xnum-huge.elf"), &o);
    expect_reject(tmp_path("xnum-huge.elf"), XA_EBADDATA, "limit");

    /* An ELF header cut short. */
    memcpy(buf, ELFMAG "\x02\x01\x01", 7);
    write_file(tmp_path("short.elf"), buf, 40);
    expect_reject(tmp_path("short.elf"), XA_EBADDATA, "truncated ELF header");

    if (geteuid() != 0) { /* root ignores file modes */
        write_file(tmp_path("secret"), buf, sizeof(buf));
        chmod(tmp_path("secret"), 0);
        expect_reject(tmp_path("secret"), XA_EACCES, "permission denied");
    }
}

static void test_raw_and_write(void)
{
    const char *path = tmp_path("raw.img");
    size_t size = 3 * 4096 + 100;
    uint8_t *img = malloc(size);
    for (size_t i = 0; i < size; i++)
        img[i] = pattern(i);
    write_file(path, img, size);

    struct xa_backend *be;
    CHECK(be_open(path, 0, &be) == 0);
    CHECK(strcmp(be->method, "raw image") == 0 && be->nr_vcpus == 0);
    CHECK(be->nr_ranges == 1 && be->ranges[0].start == 0 && be->ranges[0].size == size);
    uint8_t b[200];
    CHECK(be->ops->read_pa(be, size - 100, b, 100) == 0 && b[99] == pattern(size - 1));
    CHECK(be->ops->read_pa(be, size - 100, b, 101) == XA_ERANGE);
    const uint8_t *pg;
    CHECK(be->ops->map_page(be, 3, (const void **)&pg) == XA_MAP_COPY); /* 100 bytes of RAM */
    CHECK(be->ops->map_page(be, 4, (const void **)&pg) == XA_ERANGE);
    be_close(be);

    /* Write: reaches the file and the pages handed out, all or nothing. */
    uint8_t back_tail[32];
    CHECK(be_open(path, XA_INIT_WRITE, &be) == 0 && (be->caps & XA_CAP_WRITE));
    const uint8_t *whole;
    CHECK(be->ops->map_page(be, 2, (const void **)&whole) == 0);
    memset(b, 0xEE, sizeof(b));
    CHECK(be->ops->write_pa(be, 2 * 4096 + 4090, b, 12) == 0); /* page 2 into page 3 */
    CHECK(whole[4089] == pattern(2 * 4096 + 4089) && whole[4090] == 0xEE && whole[4095] == 0xEE);
    CHECK(be->ops->write_pa(be, 3 * 4096 + 10, b, 20) == 0);
    CHECK(be->ops->read_pa(be, 3 * 4096, back_tail, 31) == 0 && back_tail[9] == pattern(3 * 4096 + 9) &&
          back_tail[10] == 0xEE && back_tail[29] == 0xEE && back_tail[30] == pattern(3 * 4096 + 30));
    CHECK(be->ops->write_pa(be, size - 10, b, 11) == XA_ERANGE);
    be_close(be);
    int fd = open(path, O_RDONLY);
    uint8_t back[32];
    CHECK(pread(fd, back, sizeof(back), 3 * 4096) == (ssize_t)sizeof(back));
    CHECK(back[9] == pattern(3 * 4096 + 9) && back[10] == 0xEE && back[29] == 0xEE);
    CHECK(pread(fd, back, 1, (off_t)size - 1) == 1 && back[0] == pattern(size - 1));
    close(fd);
    free(img);

    /* Writing into ELF zero-fill cannot work: nothing is stored there. */
    struct core_opts o = {.segs = good_segs + 1, .nr_segs = 3};
    build_core(tmp_path("w.elf"), &o);
    CHECK(be_open(tmp_path("w.elf"), XA_INIT_WRITE, &be) == 0);
    CHECK(be->ops->write_pa(be, 0x117f0, b, 32) == XA_ENOTSUP);
    CHECK(be->ops->read_pa(be, 0x117f0, back, 16) == 0 && back[0] == pattern(0x117f0));
    CHECK(be->ops->write_pa(be, 0x117f0, b, 16) == 0);
    CHECK(be->ops->read_pa(be, 0x117f0, back, 17) == 0 && back[0] == 0xEE && back[16] == 0);
    be_close(be);
}

static void test_lime(void)
{
    /* Two ranges: [0x1000, 0x3000) and [0x100000, 0x101000), stored out of order. */
    const uint64_t ranges[2][2] = {{0x100000, 0x1000}, {0x1000, 0x2000}};
    size_t size = 0;
    uint8_t *img = calloc(1, 2 * 32 + 0x3000);
    for (int i = 0; i < 2; i++) {
        uint8_t *h = img + size;
        put32(h, 0x4C694D45u);
        put32(h + 4, 1);
        put64(h + 8, ranges[i][0]);
        put64(h + 16, ranges[i][0] + ranges[i][1] - 1);
        size += 32;
        for (uint64_t b = 0; b < ranges[i][1]; b++)
            img[size + b] = pattern(ranges[i][0] + b);
        size += ranges[i][1];
    }
    write_file(tmp_path("mem.lime"), img, size);
    struct xa_backend *be;
    CHECK(be_open(tmp_path("mem.lime"), 0, &be) == 0);
    CHECK(strcmp(be->method, "LiME image (2 ranges)") == 0);
    CHECK(be->nr_ranges == 2 && be->ranges[0].start == 0x1000 && be->ranges[1].size == 0x1000);
    uint8_t b[8];
    CHECK(be->ops->read_pa(be, 0x2ffc, b, 4) == 0 && b[3] == pattern(0x2fff));
    CHECK(be->ops->read_pa(be, 0x100ffc, b, 4) == 0 && b[0] == pattern(0x100ffc));
    CHECK(be->ops->read_pa(be, 0x0, b, 4) == XA_ERANGE);
    be_close(be);

    write_file(tmp_path("cut.lime"), img, size - 1);
    expect_reject(tmp_path("cut.lime"), XA_EBADDATA, "truncated");
    free(img);
}

/* ---- real dumps ------------------------------------------------------------- */

/* Values of "NAME=hex" in order of appearance in regs.txt (one per CPU). */
static size_t regs_txt_values(const char *text, const char *name, uint64_t *out, size_t max)
{
    size_t n = 0, nl = strlen(name);
    for (const char *p = text; n < max && (p = strstr(p, name)) != NULL; p += nl) {
        if (p > text && (p[-1] != ' ' && p[-1] != '\n'))
            continue;
        if (p[nl] != '=')
            continue;
        out[n++] = strtoull(p + nl + 1, NULL, 16);
    }
    return n;
}

/* GS bases ("GS =sel base limit flags") in order of appearance. */
static size_t regs_txt_gs_bases(const char *text, uint64_t *out, size_t max)
{
    size_t n = 0;
    for (const char *p = text; n < max && (p = strstr(p, "\nGS =")) != NULL; p += 5) {
        char *end;
        strtoull(p + 5, &end, 16); /* selector */
        out[n++] = strtoull(end, NULL, 16);
    }
    return n;
}

/* "IDT=     base limit" (or GDT) in order of appearance (one per CPU). */
static size_t regs_txt_dtables(const char *text, const char *name, uint64_t *base,
                               uint64_t *limit, size_t max)
{
    char key[16];
    snprintf(key, sizeof(key), "\n%s=", name);
    size_t n = 0;
    for (const char *p = text; n < max && (p = strstr(p, key)) != NULL; p += strlen(key)) {
        char *end;
        base[n] = strtoull(p + strlen(key), &end, 16);
        limit[n++] = strtoull(end, NULL, 16);
    }
    return n;
}

static int test_real_dumps(const char *set)
{
    char dir[4096], core[4200], raw[4200], regs[4200];
    snprintf(dir, sizeof(dir), "%s/%s", xa_test_dumps_dir(), set);
    snprintf(core, sizeof(core), "%s/core.elf", dir);
    snprintf(raw, sizeof(raw), "%s/raw.img", dir);
    snprintf(regs, sizeof(regs), "%s/regs.txt", dir);
    if (access(core, R_OK) || access(raw, R_OK) || access(regs, R_OK))
        return xa_test_cannot_run("no %s dump set (core.elf, raw.img, regs.txt) in %s", set, dir);
    struct xa_backend *ce, *re;
    int rc1 = be_open(core, 0, &ce), rc2 = be_open(raw, 0, &re);
    CHECK(rc1 == 0 && rc2 == 0);
    if (rc1 || rc2)
        goto out;
    CHECK(strncmp(ce->method, "ELF core", 8) == 0 && strcmp(re->method, "raw image") == 0);

    /* Same bytes for every page both hold, above the first MiB (below it,
     * the ELF shows the BIOS/option ROMs where the RAM file has RAM). */
    uint64_t raw_end = re->ranges[0].size, same = 0, differ = 0, first_diff = 0;
    for (size_t i = 0; i < ce->nr_ranges; i++) {
        const struct xa_mem_range *r = &ce->ranges[i];
        for (uint64_t pa = r->start & XA_PAGE_MASK; pa < r->start + r->size; pa += XA_PAGE_SIZE) {
            if (pa < 0x100000 || pa + XA_PAGE_SIZE > raw_end || pa < r->start ||
                pa + XA_PAGE_SIZE > r->start + r->size)
                continue;
            const void *a, *b;
            if (ce->ops->map_page(ce, pa >> 12, &a) || re->ops->map_page(re, pa >> 12, &b)) {
                CHECK(!"map_page failed");
                goto out;
            }
            if (memcmp(a, b, XA_PAGE_SIZE) == 0) {
                same++;
            } else if (!differ++) {
                first_diff = pa;
            }
        }
    }
    printf("dumps: %" PRIu64 " pages identical, %" PRIu64 " differ (first at 0x%" PRIx64
           "); ELF has %zu ranges, %u vCPUs\n",
           same, differ, differ ? first_diff : 0, ce->nr_ranges, ce->nr_vcpus);
    CHECK(same > 1000 && differ == 0);

    /* Control registers from the notes against HMP's view. */
    FILE *f = fopen(regs, "r");
    static char text[1 << 20];
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    uint64_t cr0[64], cr2[64], cr3[64], cr4[64], rip[64], rsp[64], efer[64], gs[64];
    size_t n3 = regs_txt_values(text, "CR3", cr3, 64);
    CHECK(n3 > 0 && n3 == ce->nr_vcpus);
    CHECK(regs_txt_values(text, "CR0", cr0, 64) == n3);
    CHECK(regs_txt_values(text, "CR2", cr2, 64) == n3);
    CHECK(regs_txt_values(text, "CR4", cr4, 64) == n3);
    CHECK(regs_txt_values(text, "RIP", rip, 64) == n3);
    CHECK(regs_txt_values(text, "RSP", rsp, 64) == n3);
    CHECK(regs_txt_values(text, "EFER", efer, 64) == n3);
    CHECK(regs_txt_gs_bases(text, gs, 64) == n3);
    uint64_t idt[64], gdt[64], idt_lim[64], gdt_lim[64];
    CHECK(regs_txt_dtables(text, "IDT", idt, idt_lim, 64) == n3);
    CHECK(regs_txt_dtables(text, "GDT", gdt, gdt_lim, 64) == n3);
    for (unsigned c = 0; c < ce->nr_vcpus && c < n3; c++) {
        struct xa_vcpu_dtables dt = {.sz = sizeof(dt)};
        CHECK(ce->ops->get_vcpu_dtables(ce, c, &dt) == 0);
        CHECK(dt.idt_base == idt[c] && dt.idt_limit == idt_lim[c] && dt.gdt_base == gdt[c] &&
                  dt.gdt_limit == gdt_lim[c],
              "vCPU %u: IDT 0x%" PRIx64 "/0x%x GDT 0x%" PRIx64 "/0x%x", c, dt.idt_base,
              dt.idt_limit, dt.gdt_base, dt.gdt_limit);
    }
    for (unsigned c = 0; c < ce->nr_vcpus && c < n3; c++) {
        struct xa_regs r;
        CHECK(ce->ops->get_vcpu_regs(ce, c, &r) == 0);
        printf("vCPU %u: cr3 0x%" PRIx64 " (regs.txt 0x%" PRIx64 "), cr4 0x%" PRIx64
               ", efer 0x%" PRIx64 "\n",
               c, r.cr3, cr3[c], r.cr4, r.efer);
        CHECK(r.cr3 == cr3[c] && r.cr0 == cr0[c] && r.cr4 == cr4[c] && r.cr2 == cr2[c]);
        CHECK(r.rip == rip[c] && r.rsp == rsp[c] && r.gs_base == gs[c]);
        /* EFER is derived: its long-mode bits must agree with the real one. */
        const uint64_t lm = (1u << 8) | (1u << 10);
        CHECK((r.efer & lm) == (efer[c] & lm) && (r.efer & lm) == lm);
    }
out:
    be_close(ce);
    be_close(re);
    return check_failures ? 1 : 0;
}

/* A dump truncated while it is read: an error naming the file, never
 * SIGBUS; a page pointer handed out before stays readable. Deterministic:
 * the test cuts the file itself between two reads. */
static void test_truncated_while_read(void)
{
    const char *path = tmp_path("shrinking.img");
    size_t size = 64 * XA_PAGE_SIZE;
    uint8_t *img = malloc(size);
    for (size_t i = 0; i < size; i++)
        img[i] = pattern(i);
    write_file(path, img, size);
    free(img);

    struct xa_backend *be;
    CHECK(be_open(path, 0, &be) == 0);
    const void *held = NULL;
    uint8_t buf[3 * XA_PAGE_SIZE];
    CHECK(be->ops->map_page(be, 40, &held) == 0);
    CHECK(be->ops->read_pa(be, 39 * XA_PAGE_SIZE, buf, sizeof(buf)) == 0);
    CHECK(buf[0] == pattern(39 * XA_PAGE_SIZE) && held && *(const uint8_t *)held == pattern(40 * XA_PAGE_SIZE));

    CHECK(truncate(path, 16 * XA_PAGE_SIZE) == 0);
    last_msg[0] = '\0';
    CHECK(be->ops->read_pa(be, 30 * XA_PAGE_SIZE, buf, 64) == XA_EIO);
    CHECK(strstr(last_msg, path) && strstr(last_msg, "shrank from 262144 to 65536 bytes"));
    /* The page handed out before: readable, its lost bytes read as zero. */
    const volatile uint8_t *h = held;
    CHECK(h[0] == 0 && h[XA_PAGE_SIZE - 1] == 0);
    /* From now on every access fails, even to bytes the file still has. */
    CHECK(be->ops->read_pa(be, 0, buf, 64) == XA_EIO);
    CHECK(be->ops->map_page(be, 1, &held) == XA_EIO);
    be_close(be);

    /* An ELF core cut short under the reader: the same. */
    struct core_opts o = {.segs = good_segs, .nr_segs = NR_GOOD};
    path = tmp_path("shrinking.elf");
    build_core(path, &o);
    CHECK(be_open(path, 0, &be) == 0);
    CHECK(truncate(path, 0x3000) == 0);
    last_msg[0] = '\0';
    CHECK(be->ops->read_pa(be, 0x10000, buf, 16) == XA_EIO);
    CHECK(strstr(last_msg, path) && strstr(last_msg, "shrank"));
    be_close(be);
    expect_reject(path, XA_EBADDATA, "truncated");
}

/* RssFile of this process in KiB (file pages mapped and resident). */
static long rss_file_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "RssFile: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    if (kib < 0)
        fprintf(stderr, "no RssFile in /proc/self/status\n");
    return kib < 0 ? 1L << 40 : kib;
}

/* Pages read from a large dump are dropped as a scan goes on (RSS stays
 * bounded); pointers handed out before a drop still read the file's bytes. */
static void test_resident_pages_dropped(void)
{
    const char *path = tmp_path("big-sparse.img");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    uint64_t size = 200ull << 20;
    CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
    write_at(fd, 0x1234, "first", 5);
    write_at(fd, size - 5, "last!", 5);
    close(fd);
    struct xa_backend *be;
    CHECK(be_open(path, 0, &be) == 0);
    const uint8_t *first = NULL;
    CHECK(be->ops->map_page(be, 1, (const void **)&first) == 0);
    CHECK(first && memcmp(first + 0x234, "first", 5) == 0);
    static uint8_t chunk[1 << 20];
    for (uint64_t pa = 0; pa < size; pa += sizeof(chunk))
        CHECK(be->ops->read_pa(be, pa, chunk, sizeof(chunk)) == 0);
    CHECK(memcmp(chunk + sizeof(chunk) - 5, "last!", 5) == 0);
    /* 200 MiB read: the first 128 MiB of pages were dropped; the pointer
     * still shows the file (refaulted from the page cache). */
    CHECK(first && memcmp(first + 0x234, "first", 5) == 0);
    /* Mapped file pages resident now: at most the cap (128 MiB) plus this
     * program's own files, not the 200 MiB read. */
    CHECK(rss_file_kib() < 180 * 1024);
    be_close(be);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--dumps") == 0)
        return test_real_dumps(argc > 2 ? argv[2] : "l4");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_registry();
    test_good_core();
    test_core_variants();
    test_rejections();
    test_raw_and_write();
    test_lime();
    test_truncated_while_read();
    test_resident_pages_dropped();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    if (check_failures) {
        fprintf(stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf("file backend: all checks passed\n");
    return 0;
}
