/*
 * ram.c -- finding a live QEMU guest's RAM from outside, with QMP only.
 *
 * 1. Blocks: `query-memdev` lists the memory backend objects (the machine's
 *    own "pc.ram" included); `qom-get /objects/ID mem-path` says which are
 *    files.
 * 2. Layout: HMP `info mtree -f` shows the flattened "memory" address space:
 *    which guest-physical ranges are "ram" regions of which block, at which
 *    offset. This is exactly the machine's layout (pc/q35 below/above the
 *    4 GiB hole, the legacy VGA/ROM window under 1 MiB, NUMA, DIMMs) without
 *    re-deriving QEMU's rules. If that text cannot be parsed and there is one
 *    block, we fall back to the pc/q35 rule: RAM below 4 GiB is
 *    [0, pci-hole-start) and the rest starts at 4 GiB.
 * 3. Access, per block, best first:
 *    - share=on memory-backend-file whose file we can open: mmap it
 *      MAP_SHARED read-only: always-fresh pointers, no copies;
 *    - a shared mapping in QEMU (memfd, unlinked file): the same through
 *      /proc/PID/map_files/ (needs CAP_SYS_ADMIN);
 *    - otherwise (anonymous RAM, share=off): find the block's mapping in
 *      /proc/PID/maps (PID from SO_PEERCRED on the QMP socket) and pread()
 *      /proc/PID/mem. Several same-sized mappings are told apart by comparing
 *      their bytes with HMP `xp` samples.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/qemu/qemu.h"
#include "core/mapguard.h"
#include "core/rangemap.h"

#define GIB ((uint64_t)1 << 30)

/* ---------------------------------------------------------------- blocks */

static int get_mem_path(struct qemu_backend *qb, struct qemu_block *b)
{
    struct json_object *args = json_object_new_object(), *ret = NULL;
    char path[160];
    snprintf(path, sizeof(path), "/objects/%s", b->id);
    json_object_object_add(args, "path", json_object_new_string(path));
    json_object_object_add(args, "property", json_object_new_string("mem-path"));
    int rc = qmp_execute(&qb->qmp, "qom-get", args, &ret);
    json_object_put(args);
    if (rc == XA_EIO) {
        /* Not a memory-backend-file: no mem-path property. */
        xa__clear_error(qb->base.xa);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (json_object_is_type(ret, json_type_string) && json_object_get_string_len(ret) > 0) {
        b->mem_path = strdup(json_object_get_string(ret));
        if (!b->mem_path)
            rc = xa__set_error(qb->base.xa, XA_ENOMEM, "out of memory");
    }
    json_object_put(ret);
    return rc;
}

static int list_blocks(struct qemu_backend *qb)
{
    struct xa_instance *xa = qb->base.xa;
    struct json_object *ret = NULL;
    int rc = qmp_execute(&qb->qmp, "query-memdev", NULL, &ret);
    if (rc < 0)
        return rc;
    if (!json_object_is_type(ret, json_type_array) || json_object_array_length(ret) == 0) {
        json_object_put(ret);
        return xa__set_error(xa, XA_EBADDATA, "%s: QEMU reports no memory backends",
                             qb->sock_path);
    }
    size_t n = json_object_array_length(ret);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct json_object *m = json_object_array_get_idx(ret, i), *v;
        if (qb->nr_blocks >= QEMU_MAX_BLOCKS) {
            rc = xa__set_error(xa, XA_ELIMIT, "%s: more than %d memory backends",
                               qb->sock_path, QEMU_MAX_BLOCKS);
            break;
        }
        struct qemu_block *b = &qb->blocks[qb->nr_blocks];
        if (!json_object_object_get_ex(m, "id", &v) || !json_object_object_get_ex(m, "size", NULL))
            continue; /* anonymous memdevs cannot appear in the memory map by name */
        snprintf(b->id, sizeof(b->id), "%s", json_object_get_string(v));
        json_object_object_get_ex(m, "size", &v);
        b->size = (uint64_t)json_object_get_int64(v);
        b->share = json_object_object_get_ex(m, "share", &v) && json_object_get_boolean(v);
        if (b->size == 0 || b->size % XA_PAGE_SIZE)
            continue;
        qb->nr_blocks++;
        rc = get_mem_path(qb, b);
    }
    json_object_put(ret);
    if (rc == 0 && qb->nr_blocks == 0)
        rc = xa__set_error(xa, XA_EBADDATA, "%s: QEMU reports no usable memory backends",
                           qb->sock_path);
    return rc;
}

static int block_by_id(const struct qemu_backend *qb, const char *id, size_t idlen)
{
    for (unsigned i = 0; i < qb->nr_blocks; i++)
        if (strlen(qb->blocks[i].id) == idlen && memcmp(qb->blocks[i].id, id, idlen) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- layout */

static int add_segment(struct qemu_backend *qb, uint64_t gpa, uint64_t size, unsigned block,
                       uint64_t offset)
{
    const struct qemu_block *b = &qb->blocks[block];
    if (size == 0 || gpa + size < gpa || offset > b->size || size > b->size - offset ||
        gpa % XA_PAGE_SIZE || size % XA_PAGE_SIZE || offset % XA_PAGE_SIZE)
        return xa__set_error(qb->base.xa, XA_EBADDATA,
                             "%s: implausible RAM range 0x%" PRIx64 "+0x%" PRIx64
                             " of block %s at offset 0x%" PRIx64,
                             qb->sock_path, gpa, size, b->id, offset);
    if (qb->nr_segs >= QEMU_MAX_SEGMENTS)
        return xa__set_error(qb->base.xa, XA_ELIMIT, "%s: more than %d RAM ranges",
                             qb->sock_path, QEMU_MAX_SEGMENTS);
    qb->segs[qb->nr_segs++] = (struct qemu_segment){gpa, size, block, offset};
    return 0;
}

/*
 * Parse the FlatView of address space "memory" in `info mtree -f`:
 *   FlatView #3
 *    AS "memory", root: system
 *    Root memory region: system
 *     0000000000000000-00000000000bffff (prio 0, ram): pc.ram
 *     0000000000100000-000000001fffffff (prio 0, ram): pc.ram @0000000000100000
 * Returns the number of segments found, or a negative error.
 */
int qemu_parse_mtree(struct qemu_backend *qb, const char *text)
{
    bool in_memory_view = false, seen_view = false;
    const char *line = text;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[512];
        if (len >= sizeof(buf))
            len = sizeof(buf) - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        buf[strcspn(buf, "\r")] = '\0'; /* HMP text ends lines with \r\n */
        line = eol ? eol + 1 : NULL;

        if (strncmp(buf, "FlatView #", 10) == 0) {
            if (seen_view)
                break; /* the view we wanted has ended */
            continue;
        }
        if (strstr(buf, "AS \"memory\",")) {
            in_memory_view = seen_view = true;
            continue;
        }
        if (!in_memory_view)
            continue;
        unsigned long long start, end, off = 0;
        int prio, nameat = 0;
        char type[16];
        if (sscanf(buf, " %llx-%llx (prio %d, %15[^)]): %n", &start, &end, &prio, type,
                   &nameat) < 4 ||
            nameat == 0)
            continue;
        if (strcmp(type, "ram") != 0)
            continue;
        const char *name = buf + nameat;
        size_t namelen = strcspn(name, " \t");
        int block = block_by_id(qb, name, namelen);
        if (block < 0)
            continue; /* device RAM (VGA VRAM, ROM shadows): not guest RAM */
        const char *at = strstr(name + namelen, " @");
        if (at && sscanf(at, " @%llx", &off) != 1)
            continue;
        if (end < start)
            continue;
        int rc = add_segment(qb, start, end - start + 1, (unsigned)block, off);
        if (rc < 0)
            return rc;
    }
    return (int)qb->nr_segs;
}

static int qom_get_u64(struct qemu_backend *qb, const char *path, const char *prop,
                       uint64_t *out)
{
    struct json_object *args = json_object_new_object(), *ret = NULL;
    json_object_object_add(args, "path", json_object_new_string(path));
    json_object_object_add(args, "property", json_object_new_string(prop));
    int rc = qmp_execute(&qb->qmp, "qom-get", args, &ret);
    json_object_put(args);
    if (rc == 0 && !json_object_is_type(ret, json_type_int))
        rc = XA_EBADDATA;
    if (rc == 0)
        *out = (uint64_t)json_object_get_int64(ret);
    json_object_put(ret);
    return rc;
}

/* The pc/q35 rule, for one block: [0, below) and [4 GiB, 4 GiB + rest). */
static int layout_by_rule(struct qemu_backend *qb)
{
    struct xa_instance *xa = qb->base.xa;
    if (qb->nr_blocks != 1)
        return xa__set_error(xa, XA_ENOTSUP,
                             "%s: cannot read the memory map (info mtree) and there are %u "
                             "memory backends",
                             qb->sock_path, qb->nr_blocks);
    uint64_t hole = 0;
    if (qom_get_u64(qb, "/machine/i440fx", "pci-hole-start", &hole) < 0 &&
        qom_get_u64(qb, "/machine/q35", "pci-hole-start", &hole) < 0)
        return xa__set_error(xa, XA_ENOTSUP,
                             "%s: cannot read the memory map (not a pc or q35 machine?)",
                             qb->sock_path);
    xa__clear_error(xa);
    uint64_t size = qb->blocks[0].size;
    uint64_t below = size < hole ? size : hole;
    int rc = add_segment(qb, 0, below, 0, 0);
    if (rc == 0 && size > below)
        rc = add_segment(qb, 4 * GIB, size - below, 0, below);
    return rc;
}

static int seg_cmp(const void *a, const void *b)
{
    const struct qemu_segment *x = a, *y = b;
    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static int find_layout(struct qemu_backend *qb)
{
    char *text = NULL;
    int rc = qmp_hmp(&qb->qmp, "info mtree -f", &text);
    if (rc == XA_EGONE || rc == XA_ETIMEDOUT) {
        free(text);
        return rc;
    }
    if (rc == 0)
        rc = qemu_parse_mtree(qb, text);
    free(text);
    if (rc < 0 && rc != XA_EIO)
        return rc;
    if (rc <= 0) {
        qb->nr_segs = 0;
        rc = layout_by_rule(qb);
        if (rc < 0)
            return rc;
    }
    qsort(qb->segs, qb->nr_segs, sizeof(qb->segs[0]), seg_cmp);
    for (unsigned i = 1; i < qb->nr_segs; i++)
        if (qb->segs[i].gpa < qb->segs[i - 1].gpa + qb->segs[i - 1].size)
            return xa__set_error(qb->base.xa, XA_EBADDATA,
                                 "%s: RAM ranges overlap at 0x%" PRIx64, qb->sock_path,
                                 qb->segs[i].gpa);
    return 0;
}

const struct qemu_segment *qemu_seg_find(struct qemu_backend *qb, uint64_t pa)
{
    if (qb->last_seg < qb->nr_segs) {
        const struct qemu_segment *s = &qb->segs[qb->last_seg];
        if (pa >= s->gpa && pa - s->gpa < s->size)
            return s;
    }
    struct xa_rangemap m = XA_RANGEMAP(qb->segs, qb->nr_segs, struct qemu_segment, gpa, size);
    size_t i = xa_rangemap_find(&m, pa);
    if (i == XA_RANGE_NONE)
        return NULL;
    qb->last_seg = (unsigned)i;
    return &qb->segs[i];
}

/* ---------------------------------------------------------------- access */

/* Map block @b from @fd (named @what in messages). A file that shrinks
 * under the mapping (QEMU gone, the file cut) gives errors naming it, not
 * SIGBUS (core/mapguard.h). 0, 1 when it cannot be mapped, or an error. */
static int map_fd(struct qemu_backend *qb, struct qemu_block *b, int fd, off_t offset,
                  const char *what)
{
    int prot = PROT_READ | (qb->writable ? PROT_WRITE : 0);
    void *p = mmap(NULL, b->size, prot, MAP_SHARED, fd, offset);
    if (p == MAP_FAILED)
        return 1;
    char label[PATH_MAX + 300];
    snprintf(label, sizeof(label), "%s: RAM block %s in %s", qb->sock_path, b->id, what);
    int rc = xa__mapguard_add(qb->base.xa, p, b->size, prot, fd, label);
    if (rc < 0) {
        munmap(p, b->size);
        return rc;
    }
    b->map = p;
    b->map_len = b->size;
    return 0;
}

/* share=on memory-backend-file: open the file by name. 0, or 1 if not possible. */
static int map_mem_path(struct qemu_backend *qb, struct qemu_block *b)
{
    if (!b->share || !b->mem_path)
        return 1;
    int fd = open(b->mem_path, (qb->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EACCES)
            return xa__set_error(qb->base.xa, XA_EACCES,
                                 "%s: permission denied (guest RAM file of %s)", b->mem_path,
                                 qb->sock_path);
        return 1; /* a directory (unlinked temp file) or gone: try /proc */
    }
    struct stat st;
    int rc = 1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= b->size)
        rc = map_fd(qb, b, fd, 0, b->mem_path);
    close(fd);
    return rc;
}

/* Does this mapping of QEMU look like block @b's RAM? */
bool qemu_vma_matches(const struct qemu_block *b, const struct qemu_vma *v)
{
    if (v->end - v->start != b->size || v->perms[0] != 'r')
        return false;
    bool shared = v->perms[3] == 's';
    if (b->mem_path) {
        size_t n = strlen(b->mem_path);
        if (strncmp(v->path, b->mem_path, n) != 0)
            return false;
        /* the file itself (maybe deleted), or an unlinked temp file in the dir */
        return v->path[n] == '\0' || v->path[n] == ' ' || v->path[n] == '/';
    }
    if (b->share)
        return shared && strncmp(v->path, "/memfd:", 7) == 0;
    /* anonymous RAM, or a memfd QEMU maps privately (memfd without share=on) */
    return !shared && (v->path[0] == '\0' || strncmp(v->path, "[anon:", 6) == 0 ||
                       strncmp(v->path, "/anon_hugepage", 14) == 0 ||
                       strncmp(v->path, "/memfd:", 7) == 0);
}

/* Up to @max mappings of QEMU that could hold block @b. */
static int find_vmas(struct qemu_backend *qb, const struct qemu_block *b, struct qemu_vma *out,
                     int max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)qb->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return xa__set_error(qb->base.xa, errno == EACCES ? XA_EACCES : XA_EGONE,
                             "%s: %s (QEMU's memory map)", path, strerror(errno));
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        struct qemu_vma v;
        if (qemu_parse_maps_line(line, &v) && qemu_vma_matches(b, &v) && n < max)
            out[n++] = v;
    }
    fclose(f);
    return n;
}

bool qemu_parse_maps_line(const char *line, struct qemu_vma *v)
{
    *v = (struct qemu_vma){0};
    unsigned long long s, e, off;
    int pathat = 0;
    if (sscanf(line, "%llx-%llx %4s %llx %*s %*s %n", &s, &e, v->perms, &off, &pathat) < 4)
        return false;
    v->start = s;
    v->end = e;
    v->offset = off;
    if (pathat > 0)
        snprintf(v->path, sizeof(v->path), "%.*s", (int)strcspn(line + pathat, "\n"),
                 line + pathat);
    return e > s;
}

int qemu_parse_xp(const char *text, uint64_t val[2])
{
    const char *colon = strchr(text, ':');
    unsigned long long a = 0, b = 0;
    int rc = colon && sscanf(colon + 1, " %llx %llx", &a, &b) == 2 ? 0 : XA_EBADDATA;
    val[0] = a, val[1] = b;
    return rc;
}

/* Parse "ADDR: 0x... 0x..." from HMP `xp /2gx ADDR`. */
static int xp_sample(struct qemu_backend *qb, uint64_t gpa, uint64_t val[2])
{
    char cmd[64], *text = NULL;
    snprintf(cmd, sizeof(cmd), "xp /2gx 0x%" PRIx64, gpa);
    int rc = qmp_hmp(&qb->qmp, cmd, &text);
    if (rc < 0)
        return rc;
    rc = qemu_parse_xp(text, val);
    free(text);
    return rc;
}

/*
 * Several mappings have the block's size: keep the one whose bytes agree
 * with what QEMU itself reads at sample guest addresses.
 */
static int pick_vma(struct qemu_backend *qb, unsigned block, const struct qemu_vma *c, int n)
{
    int best = -1, best_score = 0, tie = 0;
    int scores[8] = {0};
    for (unsigned i = 0; i < qb->nr_segs; i++) {
        const struct qemu_segment *s = &qb->segs[i];
        if (s->block != block)
            continue;
        for (int k = 0; k < 16; k++) {
            uint64_t off = (s->size / 16 * (uint64_t)k + 0x1000 * (uint64_t)k) % s->size;
            off &= ~(uint64_t)15;
            uint64_t want[2];
            if (xp_sample(qb, s->gpa + off, want) < 0 || (want[0] == 0 && want[1] == 0))
                continue;
            for (int j = 0; j < n && j < 8; j++) {
                uint64_t got[2];
                if (pread(qb->mem_fd, got, sizeof(got), (off_t)(c[j].start + s->offset + off)) ==
                        (ssize_t)sizeof(got) &&
                    memcmp(got, want, sizeof(got)) == 0)
                    scores[j]++;
            }
        }
    }
    xa__clear_error(qb->base.xa);
    for (int j = 0; j < n && j < 8; j++) {
        if (scores[j] > best_score)
            best = j, best_score = scores[j], tie = 0;
        else if (scores[j] == best_score && best_score > 0)
            tie = 1;
    }
    if (best < 0 || tie)
        return xa__set_error(qb->base.xa, XA_ENOTSUP,
                             "%s: cannot tell which of %d mappings of QEMU (pid %d) holds RAM "
                             "block %s",
                             qb->sock_path, n, (int)qb->pid, qb->blocks[block].id);
    return best;
}

static int open_proc_mem(struct qemu_backend *qb)
{
    if (qb->mem_fd >= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)qb->pid);
    qb->mem_fd = open(path, (qb->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (qb->mem_fd < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            return xa__set_error(qb->base.xa, XA_EACCES,
                                 "%s: permission denied (guest RAM is not in a shared file; "
                                 "reading QEMU's memory needs its uid or root, and "
                                 "kernel.yama.ptrace_scope 0)",
                                 path);
        return xa__set_error(qb->base.xa, XA_EGONE, "%s: %s", path, strerror(e));
    }
    return 0;
}

/* Block @i without a usable file: through QEMU's own mapping of it. */
static int access_via_proc(struct qemu_backend *qb, unsigned i)
{
    struct qemu_block *b = &qb->blocks[i];
    struct xa_instance *xa = qb->base.xa;
    if (qb->pid <= 0)
        return xa__set_error(xa, XA_ENOTSUP,
                             "%s: RAM block %s is not in a shared file and QEMU's pid is "
                             "unknown (no SO_PEERCRED)",
                             qb->sock_path, b->id);
    struct qemu_vma c[8];
    int n = find_vmas(qb, b, c, 8);
    if (n < 0)
        return n;
    if (n == 0)
        return xa__set_error(xa, XA_ENOTSUP,
                             "/proc/%d/maps: no mapping of %" PRIu64 " bytes for RAM block %s",
                             (int)qb->pid, b->size, b->id);
    int rc = open_proc_mem(qb);
    if (rc < 0)
        return rc;
    int pick = 0;
    if (n > 1) {
        pick = pick_vma(qb, i, c, n);
        if (pick < 0)
            return pick;
    }
    b->host_addr = c[pick].start;
    if (c[pick].perms[3] == 's' && c[pick].path[0]) {
        /* A shared file QEMU still has (memfd, unlinked): map it ourselves. */
        char mf[96];
        snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)qb->pid,
                 c[pick].start, c[pick].end);
        int fd = open(mf, (qb->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd >= 0) {
            int mapped = map_fd(qb, b, fd, (off_t)c[pick].offset, mf);
            close(fd);
            if (mapped < 0)
                return mapped;
        }
    }
    return 0;
}

static void describe(struct qemu_backend *qb)
{
    char *m = qb->base.method;
    size_t cap = sizeof(qb->base.method), used = 0;
    for (unsigned i = 0; i < qb->nr_blocks && used < cap; i++) {
        const struct qemu_block *b = &qb->blocks[i];
        int n;
        if (b->map && b->mem_path)
            n = snprintf(m + used, cap - used, "%sshared RAM file %s", used ? ", " : "",
                         b->mem_path);
        else if (b->map)
            n = snprintf(m + used, cap - used, "%sshared RAM /proc/%d/map_files (%s)",
                         used ? ", " : "", (int)qb->pid, b->id);
        else
            n = snprintf(m + used, cap - used, "%s/proc/%d/mem (%s)", used ? ", " : "",
                         (int)qb->pid, b->id);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static bool block_used(const struct qemu_backend *qb, unsigned i)
{
    for (unsigned s = 0; s < qb->nr_segs; s++)
        if (qb->segs[s].block == i)
            return true;
    return false;
}

int qemu_ram_open(struct qemu_backend *qb)
{
    qb->mem_fd = -1;
    qb->pid = qb->qmp.peer_pid;
    int rc = list_blocks(qb);
    if (rc == 0)
        rc = find_layout(qb);
    if (rc < 0)
        return rc;
    qb->all_mapped = true;
    for (unsigned i = 0; i < qb->nr_blocks; i++) {
        if (!block_used(qb, i))
            continue;
        rc = map_mem_path(qb, &qb->blocks[i]);
        if (rc == 1)
            rc = access_via_proc(qb, i);
        if (rc < 0)
            return rc;
        if (!qb->blocks[i].map)
            qb->all_mapped = false;
    }
    if (qb->all_mapped && qb->mem_fd >= 0) {
        close(qb->mem_fd);
        qb->mem_fd = -1;
    }
    qb->base.ranges = calloc(qb->nr_segs, sizeof(*qb->base.ranges));
    if (!qb->base.ranges)
        return xa__set_error(qb->base.xa, XA_ENOMEM, "out of memory");
    for (unsigned s = 0; s < qb->nr_segs; s++)
        qb->base.ranges[s] = (struct xa_mem_range){qb->segs[s].gpa, qb->segs[s].size};
    qb->base.nr_ranges = qb->nr_segs;
    describe(qb);
    return 0;
}

void qemu_ram_close(struct qemu_backend *qb)
{
    for (unsigned i = 0; i < qb->nr_blocks; i++) {
        struct qemu_block *b = &qb->blocks[i];
        if (b->map) {
            xa__mapguard_remove_at(b->map);
            munmap(b->map, b->map_len);
        }
        b->map = NULL;
        free(b->mem_path);
        b->mem_path = NULL;
    }
    if (qb->mem_fd >= 0)
        close(qb->mem_fd);
    qb->mem_fd = -1;
    free(qb->base.ranges);
    qb->base.ranges = NULL;
}
