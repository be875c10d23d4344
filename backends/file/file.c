/*
 * file.c -- the "file" backend: guest memory from a dump file, mapped whole.
 *
 * Formats, detected from content (never from the name):
 *  - ELF64 x86-64 core from QEMU dump-guest-memory (elf.c), with registers;
 *  - LiME (Linux Memory Extractor) images, ranges from their headers;
 *  - Windows crash dumps (windmp.c): full and bitmap dumps (physical), and
 *    triage dumps, whose memory is kept by kernel virtual address
 *    (XA_CAP_VIRTUAL); registers and page-table root from the header;
 *  - raw: guest-physical memory from address 0, anything not recognised as
 *    something else. Known non-dump files (compressed files, disk images,
 *    kernels, executables, kdump files) are rejected by name.
 *
 * map_page returns a pointer into the mapping when the page is file-backed in
 * one segment, a shared zero page when it is all zero-fill (p_memsz beyond
 * p_filesz), and otherwise (page straddling a hole or a segment edge)
 * XA_MAP_COPY: the core reads such a page with read_pa. Every pointer
 * therefore stays valid until close: XA_CAP_STABLE_MAP, no unmap_page; and
 * no copies are kept (a LiME image of 65,536 tiny ranges once made 256 MiB
 * of them).
 *
 * Only regular files are opened, without blocking (a FIFO never hangs
 * open()). The mapping is guarded (core/mapguard.h): if the file shrinks
 * while mapped, reads fail with a message naming it instead of SIGBUS.
 * Pages read from the mapping are dropped after FILE_RESIDENT_MAX of them,
 * so a scan of the whole dump does not make RSS grow to its size.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/file/file_layout.h"
#include "backends/file/windmp.h"
#include "core/mapguard.h"
#include "core/rangemap.h"

/* Pages of the mapping kept resident before they are dropped (see note_touched). */
#define FILE_RESIDENT_MAX (128ull << 20)
/* LiME: the image may hold at most this many ranges. */
#define LIME_MAX_RANGES (1u << 16)

struct file_backend {
    struct xa_backend base;
    int fd;
    bool have_fd;
    uint8_t *map;
    size_t map_len;
    uint64_t *touched; /* one bit per page of the mapping read since the last drop */
    size_t touched_words, nr_touched;
    int guard;       /* core/mapguard.h id of the mapping */
    bool guarded;
    bool writable;
    char *path;
    struct file_segment *segs; /* sorted by pa, non-overlapping */
    size_t nr_segs;
    struct xa_regs *vcpus;
    struct xa_vcpu_dtables *dtables; /* ELF cores: sz 0 for a vCPU without them */
};

static const uint8_t zero_page[XA_PAGE_SIZE];

static struct file_backend *to_file(struct xa_backend *be)
{
    return (struct file_backend *)be;
}

/* ---- format detection ---------------------------------------------------- */

struct magic {
    uint64_t offset;
    const char *bytes;
    size_t len;
    const char *what;
};

/* Files people pass by mistake. */
static const struct magic not_dumps[] = {
    {0, "\x1f\x8b", 2, "a gzip-compressed file (decompress it first)"},
    {0, "\xfd" "7zXZ\0", 6, "an xz-compressed file (decompress it first)"},
    {0, "\x28\xb5\x2f\xfd", 4, "a zstd-compressed file (decompress it first)"},
    {0, "BZh", 3, "a bzip2-compressed file (decompress it first)"},
    {0, "QFI\xfb", 4, "a qcow2 disk image"},
    {0, "KDUMP   ", 8, "a compressed kdump file (use dump-guest-memory without -z/-l/-s)"},
    {0, "makedumpfile", 12, "a flattened makedumpfile dump"},
    {0x202, "HdrS", 4, "a Linux kernel image (bzImage)"},
};

static const char *known_non_dump(const uint8_t *img, uint64_t size)
{
    for (size_t i = 0; i < sizeof(not_dumps) / sizeof(not_dumps[0]); i++) {
        const struct magic *m = &not_dumps[i];
        if (size >= m->offset + m->len && memcmp(img + m->offset, m->bytes, m->len) == 0)
            return m->what;
    }
    return NULL;
}

/* ---- LiME ---------------------------------------------------------------- */

#define LIME_MAGIC 0x4C694D45u /* "EMiL" on disk */
#define LIME_HEADER_SIZE 32

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return le32toh(v);
}

static bool is_lime(const uint8_t *img, uint64_t size)
{
    return size >= LIME_HEADER_SIZE && get_le32(img) == LIME_MAGIC;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct file_segment *x = a, *y = b;
    return (x->pa > y->pa) - (x->pa < y->pa);
}

/* LiME: a sequence of { magic, version 1, s_addr, e_addr (inclusive), 8 reserved } + data. */
static int parse_lime(struct file_backend *f)
{
    struct xa_instance *xa = f->base.xa;
    uint64_t pos = 0, size = f->map_len;
    size_t cap = 0;
    while (pos < size) {
        if (size - pos < LIME_HEADER_SIZE || get_le32(f->map + pos) != LIME_MAGIC)
            return xa__set_error(xa, XA_EBADDATA,
                                 "file:%s: LiME image: no range header at offset 0x%llx",
                                 f->path, (unsigned long long)pos);
        const uint8_t *h = f->map + pos;
        uint32_t version = get_le32(h + 4);
        uint64_t start = get_le64(h + 8), last = get_le64(h + 16);
        if (version != 1)
            return xa__set_error(xa, XA_EFORMAT, "file:%s: LiME version %u not supported",
                                 f->path, version);
        if (last < start || last == UINT64_MAX)
            return xa__set_error(xa, XA_EBADDATA,
                                 "file:%s: LiME range at offset 0x%llx is inverted "
                                 "(0x%llx..0x%llx)",
                                 f->path, (unsigned long long)pos, (unsigned long long)start,
                                 (unsigned long long)last);
        uint64_t len = last - start + 1;
        pos += LIME_HEADER_SIZE;
        if (size - pos < len)
            return xa__set_error(xa, XA_EBADDATA,
                                 "file:%s: LiME range 0x%llx..0x%llx runs past the end of the "
                                 "file (truncated image?)",
                                 f->path, (unsigned long long)start, (unsigned long long)last);
        if (f->nr_segs == cap) {
            if (cap >= LIME_MAX_RANGES)
                return xa__set_error(xa, XA_EBADDATA, "file:%s: LiME image has more than %u "
                                     "ranges", f->path, LIME_MAX_RANGES);
            size_t ncap = cap ? cap * 2 : 16;
            struct file_segment *n = realloc(f->segs, ncap * sizeof(*n));
            if (!n)
                return xa__set_error(xa, XA_ENOMEM, "file:%s: out of memory", f->path);
            f->segs = n;
            cap = ncap;
        }
        f->segs[f->nr_segs++] =
            (struct file_segment){.pa = start, .file_size = len, .mem_size = len, .offset = pos};
        pos += len;
    }
    qsort(f->segs, f->nr_segs, sizeof(*f->segs), cmp_seg);
    for (size_t i = 0; i + 1 < f->nr_segs; i++)
        if (f->segs[i].pa + f->segs[i].mem_size > f->segs[i + 1].pa)
            return xa__set_error(xa, XA_EBADDATA,
                                 "file:%s: LiME ranges overlap at guest-physical 0x%llx",
                                 f->path, (unsigned long long)f->segs[i + 1].pa);
    snprintf(f->base.method, sizeof(f->base.method), "LiME image (%zu ranges)", f->nr_segs);
    return 0;
}

/* ---- ELF and raw ----------------------------------------------------------- */

static int parse_elf(struct file_backend *f)
{
    char why[256];
    struct elf_core core;
    int rc = elf_core_parse(f->map, f->map_len, &core, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(f->base.xa, rc, "file:%s: %s", f->path, why);
    f->segs = core.segs;
    f->nr_segs = core.nr_segs;
    f->vcpus = core.vcpus;
    f->dtables = core.dtables;
    f->base.nr_vcpus = core.nr_vcpus;
    if (core.nr_vcpus)
        f->base.caps |= XA_CAP_REGS;
    if (core.qemu_note_version_ignored)
        snprintf(f->base.method, sizeof(f->base.method),
                 "ELF core (%zu segments; QEMU CPU note version %u not understood, so no "
                 "control registers)",
                 core.nr_segs, core.qemu_note_version_ignored);
    else
        snprintf(f->base.method, sizeof(f->base.method), "ELF core (%s%zu segments)",
                 core.machine == EM_AARCH64 ? "AArch64, " : "", core.nr_segs);
    return 0;
}

static int parse_windows(struct file_backend *f)
{
    char why[256];
    struct windmp d;
    int rc = windmp_parse(f->map, f->map_len, &d, why, sizeof(why));
    if (rc < 0)
        return xa__set_error(f->base.xa, rc, "file:%s: %s", f->path, why);
    f->segs = d.segs;
    f->nr_segs = d.nr_segs;
    if (d.have_regs) {
        f->vcpus = calloc(1, sizeof(*f->vcpus));
        if (!f->vcpus)
            return xa__set_error(f->base.xa, XA_ENOMEM, "file:%s: out of memory", f->path);
        f->vcpus[0] = d.regs; /* the context record: the CPU that crashed */
        f->base.nr_vcpus = 1;
        f->base.caps |= XA_CAP_REGS;
    }
    if (d.kind == WINDMP_TRIAGE)
        f->base.caps |= XA_CAP_VIRTUAL;
    windmp_describe(&d, f->base.method, sizeof(f->base.method));
    return 0;
}

static int parse_raw(struct file_backend *f)
{
    f->segs = calloc(1, sizeof(*f->segs));
    if (!f->segs)
        return xa__set_error(f->base.xa, XA_ENOMEM, "file:%s: out of memory", f->path);
    f->segs[0] = (struct file_segment){.pa = 0, .file_size = f->map_len,
                                       .mem_size = f->map_len, .offset = 0};
    f->nr_segs = 1;
    snprintf(f->base.method, sizeof(f->base.method), "raw image");
    return 0;
}

/* base.ranges: the segments with adjacent ones merged. */
static int build_ranges(struct file_backend *f)
{
    f->base.ranges = calloc(f->nr_segs, sizeof(*f->base.ranges));
    if (!f->base.ranges)
        return xa__set_error(f->base.xa, XA_ENOMEM, "file:%s: out of memory", f->path);
    size_t n = 0;
    for (size_t i = 0; i < f->nr_segs; i++) {
        const struct file_segment *s = &f->segs[i];
        if (n && f->base.ranges[n - 1].start + f->base.ranges[n - 1].size == s->pa)
            f->base.ranges[n - 1].size += s->mem_size;
        else
            f->base.ranges[n++] = (struct xa_mem_range){.start = s->pa, .size = s->mem_size};
    }
    f->base.nr_ranges = n;
    return 0;
}

static int detect_and_parse(struct file_backend *f)
{
    const uint8_t *img = f->map;
    uint64_t size = f->map_len;
    const char *what = known_non_dump(img, size);
    if (what)
        return xa__set_error(f->base.xa, XA_EFORMAT, "file:%s: is %s, not a memory dump",
                             f->path, what);
    if (elf_has_magic(img, size))
        return parse_elf(f);
    if (is_lime(img, size))
        return parse_lime(f);
    if (windmp_has_magic(img, size))
        return parse_windows(f);
    if (size < XA_PAGE_SIZE)
        return xa__set_error(f->base.xa, XA_EFORMAT,
                             "file:%s: only %llu bytes, smaller than one page: not a memory "
                             "dump",
                             f->path, (unsigned long long)size);
    return parse_raw(f);
}

/* ---- the file shrinking under the mapping ------------------------------- */

/* True once a page of the mapping was lost (core/mapguard.h). */
static bool shrank(const struct file_backend *f)
{
    return f->guarded && xa__mapguard_faulted(f->guard);
}

static int shrink_error(struct file_backend *f)
{
    return xa__mapguard_error(f->base.xa, f->guard);
}

/* ---- open/close ------------------------------------------------------------ */

static int open_error(struct file_backend *f, int err, bool rw)
{
    struct xa_instance *xa = f->base.xa;
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return xa__set_error(xa, XA_ENOENT, "file:%s: no such file", f->path);
    case EACCES:
    case EPERM:
    case EROFS:
        return xa__set_error(xa, XA_EACCES, "file:%s: permission denied (opening for %s)",
                             f->path, rw ? "read-write" : "reading");
    case EISDIR:
        return xa__set_error(xa, XA_EINVAL, "file:%s: is a directory, not a memory dump",
                             f->path);
    default:
        return xa__set_error(xa, XA_EIO, "file:%s: cannot open: %s", f->path, strerror(err));
    }
}

/* Only regular files are dumps: devices and pipes are not supported. */
static int check_regular(struct file_backend *f, const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return xa__set_error(f->base.xa, XA_EINVAL, "file:%s: is a directory, not a memory dump",
                             f->path);
    if (!S_ISREG(st->st_mode))
        return xa__set_error(f->base.xa, XA_EINVAL,
                             "file:%s: is a %s, not a regular file (devices and pipes are not "
                             "supported)",
                             f->path, S_ISFIFO(st->st_mode) ? "FIFO"
                                      : S_ISSOCK(st->st_mode) ? "socket"
                                      : S_ISCHR(st->st_mode) ? "character device"
                                      : S_ISBLK(st->st_mode) ? "block device" : "special file");
    return 0;
}

static void file_close(struct xa_backend *be)
{
    struct file_backend *f = to_file(be);
    if (f->guarded)
        xa__mapguard_remove(f->guard);
    f->guarded = false;
    if (f->map && f->map != MAP_FAILED) {
        if (f->writable)
            msync(f->map, f->map_len, MS_SYNC);
        munmap(f->map, f->map_len);
    }
    f->map = NULL;
    free(f->touched);
    f->touched = NULL;
    if (f->have_fd)
        close(f->fd);
    f->have_fd = false;
    free(f->segs);
    f->segs = NULL;
    f->nr_segs = 0;
    free(f->vcpus);
    f->vcpus = NULL;
    free(f->dtables);
    f->dtables = NULL;
    free(f->base.ranges);
    f->base.ranges = NULL;
    f->base.nr_ranges = 0;
    free(f->path);
    f->path = NULL;
}

static int file_open(struct xa_backend *be, const char *spec, uint32_t flags)
{
    struct file_backend *f = to_file(be);
    if (!spec || !*spec)
        return xa__set_error(be->xa, XA_EINVAL, "file: no path given (use file:PATH)");
    f->path = strdup(spec);
    if (!f->path)
        return xa__set_error(be->xa, XA_ENOMEM, "file:%s: out of memory", spec);
    f->writable = (flags & XA_INIT_WRITE) != 0;

    /* Refuse what is not a regular file before opening it (opening a FIFO
     * blocks until a writer comes; opening a device can have side effects),
     * then open without blocking and check again on the descriptor, in case
     * the name was replaced in between. */
    struct stat st;
    if (stat(f->path, &st) < 0)
        return open_error(f, errno, f->writable);
    int rc = check_regular(f, &st);
    if (rc < 0)
        return rc;
    f->fd = open(f->path,
                 (f->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f->fd < 0)
        return open_error(f, errno, f->writable);
    f->have_fd = true;
    if (fstat(f->fd, &st) < 0)
        return xa__set_error(be->xa, XA_EIO, "file:%s: cannot stat: %s", f->path,
                             strerror(errno));
    rc = check_regular(f, &st);
    if (rc < 0)
        return rc;
    if (st.st_size == 0)
        return xa__set_error(be->xa, XA_EFORMAT, "file:%s: empty file, not a memory dump",
                             f->path);
    if ((uint64_t)st.st_size > SIZE_MAX)
        return xa__set_error(be->xa, XA_ENOTSUP, "file:%s: too large to map", f->path);

    f->map_len = (size_t)st.st_size;
    int prot = PROT_READ | (f->writable ? PROT_WRITE : 0);
    void *m = mmap(NULL, f->map_len, prot, MAP_SHARED, f->fd, 0);
    if (m == MAP_FAILED)
        return xa__set_error(be->xa, XA_EIO, "file:%s: cannot map %zu bytes: %s", f->path,
                             f->map_len, strerror(errno));
    f->map = m;
    /* Introspection reads here and there (page tables, one task, a slot's
     * first page in discovery): no read-around, or each 4 KiB probe of a
     * cold dump would read 128 KiB (docs/discovery.md). */
    madvise(m, f->map_len, MADV_RANDOM);
    char label[PATH_MAX + 8];
    snprintf(label, sizeof(label), "file:%s", f->path);
    rc = xa__mapguard_add(be->xa, m, f->map_len, prot, f->fd, label);
    if (rc < 0)
        return rc;
    f->guard = rc;
    f->guarded = true;
    if (f->map_len > FILE_RESIDENT_MAX) {
        f->touched_words = (f->map_len / XA_PAGE_SIZE + 64) / 64;
        f->touched = calloc(f->touched_words, sizeof(*f->touched));
        if (!f->touched)
            return xa__set_error(be->xa, XA_ENOMEM, "file:%s: out of memory", f->path);
    }

    rc = detect_and_parse(f);
    if (shrank(f)) /* while the headers were read: the zeros explain nothing */
        return shrink_error(f);
    if (rc < 0)
        return rc;
    rc = build_ranges(f);
    if (rc < 0)
        return rc;
    be->caps |= XA_CAP_STABLE_MAP | (f->writable ? XA_CAP_WRITE : 0);
    return 0;
}

/* ---- memory ---------------------------------------------------------------- */

static struct xa_rangemap seg_map(const struct file_backend *f)
{
    return XA_RANGEMAP(f->segs, f->nr_segs, struct file_segment, pa, mem_size);
}

/* The segment holding @pa, or NULL. */
static const struct file_segment *find_seg(const struct file_backend *f, uint64_t pa)
{
    struct xa_rangemap m = seg_map(f);
    size_t i = xa_rangemap_find(&m, pa);
    return i == XA_RANGE_NONE ? NULL : &f->segs[i];
}

/* The first segment starting above @pa, or NULL (called when none holds pa). */
static const struct file_segment *next_seg(const struct file_backend *f, uint64_t pa)
{
    struct xa_rangemap m = seg_map(f);
    size_t i = xa_rangemap_first_from(&m, pa);
    return i < f->nr_segs ? &f->segs[i] : NULL;
}

static int out_of_range(struct file_backend *f, uint64_t pa, size_t len)
{
    return xa__set_error(f->base.xa, XA_ERANGE,
                         "file:%s: guest-physical 0x%llx (+%zu) is not in the dump", f->path,
                         (unsigned long long)pa, len);
}

/* ---- resident pages ------------------------------------------------------- */

/*
 * Every page of the mapping that is read stays resident (and counts in the
 * process's RSS) until unmapped, so a scan of a whole dump would grow the
 * tool to the dump's size. Pages touched are counted once each; after
 * FILE_RESIDENT_MAX of them the whole mapping is dropped with
 * MADV_DONTNEED. Pointers stay valid: a shared file mapping refaults from
 * the page cache with the same bytes (dirty pages of a writable mapping go
 * to the page cache, not away).
 */
static void note_touched(struct file_backend *f, uint64_t off, uint64_t len)
{
    if (!f->touched || len == 0)
        return;
    for (uint64_t p = off >> XA_PAGE_SHIFT; p <= (off + len - 1) >> XA_PAGE_SHIFT; p++) {
        uint64_t bit = 1ull << (p & 63);
        if (f->touched[p >> 6] & bit)
            continue;
        f->touched[p >> 6] |= bit;
        if (++f->nr_touched < FILE_RESIDENT_MAX / XA_PAGE_SIZE)
            continue;
        madvise(f->map, f->map_len, MADV_DONTNEED);
        memset(f->touched, 0, f->touched_words * sizeof(*f->touched));
        f->nr_touched = 0;
    }
}

/* Copy [pa, pa+len) of one segment into @buf (file bytes, then zero-fill). */
/* Copies at least this long (kallsyms windows, the BTF) are read with
 * pread(): the kernel copies from the page cache without mapping the pages
 * into this process, so they cost no page faults and no RSS. */
#define FILE_PREAD_MIN (256u << 10)

/* All @len bytes at @off, or false (an error, or the file ended early). */
static bool pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return true;
}

static int copy_from_seg(struct file_backend *f, const struct file_segment *s, uint64_t pa,
                         uint8_t *buf, size_t len)
{
    uint64_t rel = pa - s->pa;
    size_t from_file = 0;
    if (rel < s->file_size) {
        from_file = s->file_size - rel < len ? (size_t)(s->file_size - rel) : len;
        if (from_file >= FILE_PREAD_MIN && f->have_fd) {
            if (!pread_all(f->fd, buf, from_file, s->offset + rel))
                return xa__set_error(f->base.xa, XA_EIO,
                                     "file:%s: cannot read %zu bytes at offset 0x%llx (file "
                                     "shrunk or unreadable)",
                                     f->path, from_file, (unsigned long long)(s->offset + rel));
        } else {
            note_touched(f, s->offset + rel, from_file);
            memcpy(buf, f->map + s->offset + rel, from_file);
        }
    }
    memset(buf + from_file, 0, len - from_file);
    return 0;
}

static int file_read_pa(struct xa_backend *be, uint64_t pa, void *buf, size_t len)
{
    struct file_backend *f = to_file(be);
    uint8_t *out = buf;
    if (len && pa + len - 1 < pa)
        return out_of_range(f, pa, len);
    for (size_t done = 0; done < len;) {
        uint64_t at = pa + done;
        const struct file_segment *s = find_seg(f, at);
        if (!s)
            return out_of_range(f, at, len - done);
        uint64_t room = s->mem_size - (at - s->pa);
        size_t chunk = room < len - done ? (size_t)room : len - done;
        int rc = copy_from_seg(f, s, at, out + done, chunk);
        if (rc < 0)
            return rc;
        done += chunk;
    }
    return shrank(f) ? shrink_error(f) : 0;
}

/* True when any byte of page @pfn is in a segment. */
static bool page_has_ram(const struct file_backend *f, uint64_t pfn)
{
    uint64_t pa = pfn << XA_PAGE_SHIFT;
    if (find_seg(f, pa))
        return true;
    const struct file_segment *n = next_seg(f, pa);
    return n && n->pa - pa < XA_PAGE_SIZE;
}

static int file_map_page(struct xa_backend *be, uint64_t pfn, const void **out)
{
    struct file_backend *f = to_file(be);
    if (pfn > (UINT64_MAX >> XA_PAGE_SHIFT))
        return out_of_range(f, UINT64_MAX, XA_PAGE_SIZE);
    if (shrank(f))
        return shrink_error(f);
    uint64_t pa = pfn << XA_PAGE_SHIFT;
    const struct file_segment *s = find_seg(f, pa);
    if (s) {
        uint64_t rel = pa - s->pa; /* rel + XA_PAGE_SIZE may wrap on the last page */
        if (s->file_size >= XA_PAGE_SIZE && rel <= s->file_size - XA_PAGE_SIZE) {
            note_touched(f, s->offset + rel, XA_PAGE_SIZE);
            *out = f->map + s->offset + rel;
            return 0;
        }
        if (rel >= s->file_size && s->mem_size >= XA_PAGE_SIZE &&
            rel <= s->mem_size - XA_PAGE_SIZE) {
            *out = zero_page;
            return 0;
        }
    }
    /* Part RAM, part hole or segment edge: nothing to point at. */
    return page_has_ram(f, pfn) ? XA_MAP_COPY : out_of_range(f, pa, XA_PAGE_SIZE);
}

static int file_write_pa(struct xa_backend *be, uint64_t pa, const void *buf, size_t len)
{
    struct file_backend *f = to_file(be);
    if (!f->writable)
        return xa__set_error(be->xa, XA_EPERM, "file:%s: opened read-only", f->path);
    if (len && pa + len - 1 < pa)
        return out_of_range(f, pa, len);
    /* Check everything first: all or nothing. */
    for (size_t done = 0; done < len;) {
        uint64_t at = pa + done;
        const struct file_segment *s = find_seg(f, at);
        if (!s)
            return out_of_range(f, at, len - done);
        uint64_t rel = at - s->pa;
        if (rel >= s->file_size)
            return xa__set_error(be->xa, XA_ENOTSUP,
                                 "file:%s: guest-physical 0x%llx is zero-fill, not stored in "
                                 "the file: cannot write it",
                                 f->path, (unsigned long long)at);
        uint64_t room = s->file_size - rel;
        done += room < len - done ? (size_t)room : len - done;
    }
    const uint8_t *in = buf;
    for (size_t done = 0; done < len;) {
        uint64_t at = pa + done;
        const struct file_segment *s = find_seg(f, at);
        uint64_t rel = at - s->pa, room = s->file_size - rel;
        size_t chunk = room < len - done ? (size_t)room : len - done;
        note_touched(f, s->offset + rel, chunk);
        memcpy(f->map + s->offset + rel, in + done, chunk);
        done += chunk;
    }
    return shrank(f) ? shrink_error(f) : 0;
}

static int file_get_vcpu_regs(struct xa_backend *be, unsigned vcpu, struct xa_regs *out)
{
    struct file_backend *f = to_file(be);
    if (vcpu >= be->nr_vcpus || !f->vcpus)
        return xa__set_error(be->xa, XA_EINVAL, "file:%s: no vCPU %u (the dump has %u)",
                             f->path, vcpu, be->nr_vcpus);
    *out = f->vcpus[vcpu];
    return 0;
}

static int file_get_vcpu_dtables(struct xa_backend *be, unsigned vcpu,
                                 struct xa_vcpu_dtables *out)
{
    struct file_backend *f = to_file(be);
    if (vcpu >= be->nr_vcpus)
        return xa__set_error(be->xa, XA_EINVAL, "file:%s: no vCPU %u (the dump has %u)",
                             f->path, vcpu, be->nr_vcpus);
    if (!f->dtables || !f->dtables[vcpu].sz)
        return xa__set_error(be->xa, XA_ENOTSUP,
                             "file:%s: no IDTR/GDTR for vCPU %u (no QEMU CPU note)", f->path,
                             vcpu);
    *out = f->dtables[vcpu];
    return 0;
}

const struct xa_backend_ops xa_backend_file = {
    .name = "file",
    .instance_size = sizeof(struct file_backend),
    .open = file_open,
    .close = file_close,
    .read_pa = file_read_pa,
    .write_pa = file_write_pa,
    .map_page = file_map_page,
    .unmap_page = NULL, /* XA_CAP_STABLE_MAP */
    .get_vcpu_regs = file_get_vcpu_regs,
    .get_vcpu_dtables = file_get_vcpu_dtables,
};
